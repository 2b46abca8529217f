// SPDX-License-Identifier: GPL-2.0

//! Loading BPF objects, attaching and updating struct_ops maps and links, libbpf's log, and BTF.

use libbpf_rs::{
    libbpf_sys,
    AsRawLibbpf,
    Link,
    MapCore,
    Object,
    ObjectBuilder, //
};
use std::{
    ffi::CString,
    os::fd::{
        AsFd,
        AsRawFd,
        FromRawFd,
        OwnedFd, //
    },
    path::Path,
};

/// What libbpf logs (verifier logs among it), captured so tests can check it.
pub(crate) mod log {
    use libbpf_rs::PrintLevel;
    use std::sync::Mutex;

    static LOG: Mutex<String> = Mutex::new(String::new());

    fn capture(_level: PrintLevel, msg: String) {
        if let Ok(mut log) = LOG.lock() {
            log.push_str(&msg);
        }
    }

    /// Routes libbpf's warnings into the capture buffer.
    pub(crate) fn install() {
        libbpf_rs::set_print(Some((PrintLevel::Warn, capture)));
    }

    /// Returns and clears what was captured.
    pub(crate) fn take() -> String {
        LOG.lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

/// The text of errno `e`.
pub(crate) fn errno_name(e: i32) -> String {
    std::io::Error::from_raw_os_error(e).to_string()
}

/// Creates a one-element array map (`BPF_MAP_CREATE`); `Err(errno)` on failure.
pub(crate) fn array_map() -> Result<OwnedFd, i32> {
    // SAFETY: A plain bpf() call; a NULL name and NULL options are allowed.
    let fd = unsafe {
        libbpf_sys::bpf_map_create(
            libbpf_sys::BPF_MAP_TYPE_ARRAY,
            std::ptr::null(),
            4,
            4,
            1,
            std::ptr::null(),
        )
    };
    if fd < 0 {
        return Err(-fd);
    }
    // SAFETY: `fd` is a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens and loads a BPF object.
pub(crate) fn load(path: &Path) -> Result<Object, String> {
    ObjectBuilder::default()
        .open_file(path)
        .and_then(|o| o.load())
        .map_err(|e| format!("{}: {e:#}", path.display()))
}

/// Attaches the struct_ops map `name` of `obj`; returns the link and the map id.
pub(crate) fn attach(obj: &mut Object, name: &str) -> Result<(Link, u32), String> {
    let mut map = obj
        .maps_mut()
        .find(|m| m.name() == name)
        .ok_or_else(|| format!("no map {name}"))?;
    let id = map.info().map_err(|e| format!("map info: {e}"))?.info.id;
    let link = map
        .attach_struct_ops()
        .map_err(|e| format!("attach {name}: {e:#}"))?;
    Ok((link, id))
}

/// Opens `path`, writes `bytes` at offset `off` of the value of its struct_ops map `map`
/// (libbpf's copy, which it writes to the map on attach), loads it and attaches the map:
/// `Ok(Ok((object, link, map id)))`, or `Ok(Err(message))` if the load or attach was refused.
pub(crate) fn attach_with_bytes(
    path: &Path,
    map: &str,
    off: usize,
    bytes: &[u8],
) -> Result<Result<(Object, Link, u32), String>, String> {
    let mut obj = match load_with_bytes(path, map, off, bytes)? {
        Ok(obj) => obj,
        Err(e) => return Ok(Err(e)),
    };
    Ok(attach(&mut obj, map).map(|(link, id)| (obj, link, id)))
}

/// Opens `path`, writes `bytes` at offset `off` of the value of its struct_ops map `map` (see
/// [`attach_with_bytes`]) and loads it: `Ok(Err(message))` if the load was refused.
pub(crate) fn load_with_bytes(
    path: &Path,
    map: &str,
    off: usize,
    bytes: &[u8],
) -> Result<Result<Object, String>, String> {
    let mut open = ObjectBuilder::default()
        .open_file(path)
        .map_err(|e| format!("{}: {e:#}", path.display()))?;
    {
        let m = open
            .maps_mut()
            .find(|m| m.name() == map)
            .ok_or(format!("no map {map}"))?;
        let (raw, mut size) = (m.as_libbpf_object().as_ptr(), 0);
        // SAFETY: A live map of an open object; for a struct_ops map libbpf returns its copy of
        // the value, `size` bytes long.
        let data = unsafe { libbpf_sys::bpf_map__initial_value(raw, &mut size) };
        if data.is_null() || (off + bytes.len()) as u64 > size {
            return Err(format!("no value of {map} to write at {off} (size {size})"));
        }
        // SAFETY: In bounds, checked above; libbpf's buffer is not otherwise in use.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), data.cast::<u8>().add(off), bytes.len())
        };
    }
    Ok(open.load().map_err(|e| format!("load: {e:#}")))
}

/// Loads `obj` and attaches its map `map` (libbpf writes a `.struct_ops.link` map's value when it
/// attaches it); returns the error, or fails if both worked.
pub(crate) fn load_attach_err(path: &Path, map: &str) -> Result<String, String> {
    let mut obj = match load(path) {
        Ok(obj) => obj,
        Err(e) => return Ok(e),
    };
    match attach(&mut obj, map) {
        Ok(_) => Err(format!("{map} of {} was accepted", path.display())),
        Err(e) => Ok(e),
    }
}

/// The id of the map `name` of `obj`.
pub(crate) fn map_id(obj: &Object, name: &str) -> Result<u32, String> {
    let map = obj
        .maps()
        .find(|m| m.name() == name)
        .ok_or(format!("no map {name}"))?;
    Ok(map.info().map_err(|e| e.to_string())?.info.id)
}

/// The fd of the map `name` of `obj`.
pub(crate) fn map_fd(obj: &Object, name: &str) -> Result<i32, String> {
    obj.maps()
        .find(|m| m.name() == name)
        .map(|m| m.as_fd().as_raw_fd())
        .ok_or_else(|| format!("no map {name}"))
}

/// `BPF_LINK_UPDATE` of a struct_ops link to the map `new_fd`, whose value must be written
/// already; with `old_fd`, as `BPF_F_REPLACE` of that map. `Err(errno)` on failure.
pub(crate) fn link_update(link: &Link, new_fd: i32, old_fd: Option<i32>) -> Result<(), i32> {
    link_update_fd(link.as_fd().as_raw_fd(), new_fd, old_fd)
}

/// [`link_update`] of the link with fd `link_fd`.
pub(crate) fn link_update_fd(link_fd: i32, new_fd: i32, old_fd: Option<i32>) -> Result<(), i32> {
    let opts = libbpf_sys::bpf_link_update_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_link_update_opts>() as _,
        flags: if old_fd.is_some() {
            libbpf_sys::BPF_F_REPLACE
        } else {
            0
        },
        old_map_fd: old_fd.unwrap_or(0) as _,
        ..Default::default()
    };
    // SAFETY: Valid fds and a fully initialised options struct.
    let r = unsafe { libbpf_sys::bpf_link_update(link_fd, new_fd, &opts) };
    if r < 0 {
        Err(-r)
    } else {
        Ok(())
    }
}

/// `bpf_link__update_map()`: writes the value of the struct_ops map `name` of `obj` (libbpf
/// writes a `.struct_ops.link` map's value only when it attaches or updates with it), then
/// switches `link` to it. `Err(errno)` on failure.
pub(crate) fn link_update_map(link: &Link, obj: &Object, name: &str) -> Result<(), i32> {
    let map = obj.maps().find(|m| m.name() == name).ok_or(libc::ENOENT)?;
    // SAFETY: Both pointers come from live libbpf-rs objects.
    let r = unsafe {
        libbpf_sys::bpf_link__update_map(
            link.as_libbpf_object().as_ptr(),
            map.as_libbpf_object().as_ptr(),
        )
    };
    if r < 0 {
        Err(-r)
    } else {
        Ok(())
    }
}

/// The id of program `name` of `obj`.
pub(crate) fn prog_id(obj: &Object, name: &str) -> Result<u32, String> {
    let prog = obj
        .progs()
        .find(|p| p.name() == name)
        .ok_or(format!("no program {name}"))?;
    let mut info = libbpf_sys::bpf_prog_info::default();
    let mut len = std::mem::size_of_val(&info) as u32;
    // SAFETY: `info` is valid for `len` bytes of writes.
    let r = unsafe {
        libbpf_sys::bpf_obj_get_info_by_fd(
            prog.as_fd().as_raw_fd(),
            (&raw mut info).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return Err(format!("prog info: {r}"));
    }
    Ok(info.id)
}

/// Runs `f` on the module's BTF, as libbpf reads it (split on the vmlinux BTF).
pub(crate) fn with_module_btf<R>(
    module: &str,
    f: impl FnOnce(*const libbpf_sys::btf) -> R,
) -> Result<R, String> {
    let cmod = CString::new(module).map_err(|e| e.to_string())?;
    // SAFETY: FFI calls with a valid C string; every BTF object loaded here is freed below, after
    // `f`, which gets a valid BTF object.
    unsafe {
        let vmlinux = libbpf_sys::btf__load_vmlinux_btf();
        if vmlinux.is_null() {
            return Err("libbpf cannot load the vmlinux BTF".into());
        }
        let btf = libbpf_sys::btf__load_module_btf(cmod.as_ptr(), vmlinux);
        if btf.is_null() {
            libbpf_sys::btf__free(vmlinux);
            return Err(format!("libbpf cannot load {module}'s BTF"));
        }
        let r = f(btf);
        libbpf_sys::btf__free(btf);
        libbpf_sys::btf__free(vmlinux);
        Ok(r)
    }
}

/// Whether the module's BTF, as libbpf reads it, holds struct `name`.
pub(crate) fn module_btf_has(module: &str, name: &str) -> Result<bool, String> {
    let name = CString::new(name).map_err(|e| e.to_string())?;
    with_module_btf(module, |btf| {
        // SAFETY: `btf` is valid for the call; `name` is a C string.
        let id = unsafe {
            libbpf_sys::btf__find_by_name_kind(btf, name.as_ptr(), libbpf_sys::BTF_KIND_STRUCT)
        };
        id > 0
    })
}

/// The byte offset of `data` (the ops struct) in the map value type of struct_ops type `ty` of
/// `module` (`struct bpf_struct_ops_<ty>`, whose `data` is cache-line aligned), from its BTF.
pub(crate) fn value_data_offset(module: &str, ty: &str) -> Result<usize, String> {
    let name = CString::new(format!("bpf_struct_ops_{ty}")).map_err(|e| e.to_string())?;
    with_module_btf(module, |btf| {
        // SAFETY: `btf` is valid for the call; `name` is a C string. A STRUCT is followed by
        // `vlen` `struct btf_member` in BTF's layout; with the kind flag, a member's offset holds
        // the bit offset in its low 24 bits.
        unsafe {
            let id =
                libbpf_sys::btf__find_by_name_kind(btf, name.as_ptr(), libbpf_sys::BTF_KIND_STRUCT);
            if id <= 0 {
                return Err(format!(
                    "no struct {} in {module}'s BTF",
                    name.to_string_lossy()
                ));
            }
            let t = libbpf_sys::btf__type_by_id(btf, id as u32);
            let (vlen, kflag) = (((*t).info & 0xffff) as usize, (*t).info >> 31 != 0);
            let members = t.add(1).cast::<libbpf_sys::btf_member>();
            for i in 0..vlen {
                let m = &*members.add(i);
                let p = libbpf_sys::btf__name_by_offset(btf, m.name_off);
                if !p.is_null() && std::ffi::CStr::from_ptr(p).to_bytes() == b"data" {
                    let bits = if kflag {
                        m.offset & 0xff_ffff
                    } else {
                        m.offset
                    };
                    return Ok(bits as usize / 8);
                }
            }
            Err(format!("no member data in {}", name.to_string_lossy()))
        }
    })?
}
