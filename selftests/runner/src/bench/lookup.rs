// SPDX-License-Identifier: GPL-2.0

//! The lookup of the instance bound to a connection, with 1 to 10,000 attached instances: timed,
//! and counted in instructions.

use super::{
    errno,
    insns,
    Params,
    Results,
    INSN_LOOPS,
    INSN_SAMPLES, //
};
use crate::{
    bpf::with_module_btf,
    fuse::{
        self,
        BenchDev,
        DEV, //
    },
};
use libbpf_rs::{
    libbpf_sys,
    AsRawLibbpf,
    MapCore,
    Object, //
};
use std::{
    ffi::CString,
    os::fd::{
        AsFd,
        AsRawFd,
        FromRawFd,
        OwnedFd, //
    },
    time::Instant,
};

/// Many attached `fuse_ops` instances, each bound to its own connection `b<N>`, made from the
/// bench object's programs with plain map and link syscalls.
pub(super) struct Instances {
    value: Vec<u8>,
    data_off: usize,
    create: libbpf_sys::bpf_map_create_opts,
    value_size: u32,
    /// The links; each holds its map.
    held: Vec<OwnedFd>,
    _btf: OwnedFd,
}

impl Instances {
    pub(super) fn new(obj: &Object) -> Result<Self, String> {
        // One fd per link: 10,000 of them need more than the default limit of 1,024.
        let lim = libc::rlimit {
            rlim_cur: 65536,
            rlim_max: 65536,
        };
        // SAFETY: A plain setrlimit() call with a valid struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            return Err(format!("setrlimit: {}", std::io::Error::last_os_error()));
        }
        let map = obj
            .maps()
            .find(|m| m.name() == "bench")
            .ok_or("no map bench")?;
        let info = map.info().map_err(|e| e.to_string())?.info;
        // SAFETY: A plain bpf() call.
        let btf_fd = unsafe { libbpf_sys::bpf_btf_get_fd_by_id(info.btf_vmlinux_id) };
        if btf_fd < 0 {
            return Err(format!("the module's BTF: errno {}", -btf_fd));
        }
        // SAFETY: A new fd nothing else owns.
        let btf = unsafe { OwnedFd::from_raw_fd(btf_fd) };
        let data_off = value_data_offset()?;
        // SAFETY: A live object; libbpf returns the fd of its loaded BTF, or a negative errno.
        let obj_btf = unsafe { libbpf_sys::bpf_object__btf_fd(obj.as_libbpf_object().as_ptr()) };
        if obj_btf < 0 {
            return Err(format!("the bench object's BTF: errno {}", -obj_btf));
        }
        let mut value = vec![0u8; info.value_size as usize];
        let prog = obj
            .progs()
            .find(|p| p.name() == "bench0")
            .ok_or("no program bench0")?;
        let fd = prog.as_fd().as_raw_fd() as u64;
        let op = data_off + std::mem::offset_of!(fuse::fuse_ops, bench0);
        value[op..op + 8].copy_from_slice(&fd.to_ne_bytes());
        let create = libbpf_sys::bpf_map_create_opts {
            sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
            // The kernel wants the BTF of a BPF object here too (not a kernel BTF): the
            // bench object's, as libbpf passes it.
            btf_fd: obj_btf as u32,
            btf_vmlinux_value_type_id: info.btf_vmlinux_value_type_id,
            value_type_btf_obj_fd: btf.as_raw_fd(),
            map_flags: libbpf_sys::BPF_F_LINK | libbpf_sys::BPF_F_VTYPE_BTF_OBJ_FD,
            ..Default::default()
        };
        Ok(Self {
            value,
            data_off,
            create,
            value_size: info.value_size,
            held: Vec::new(),
            _btf: btf,
        })
    }

    /// Attaches instances until there are `n`.
    pub(super) fn grow(&mut self, n: usize) -> Result<(), String> {
        while self.held.len() < n {
            let name = format!("b{}", self.held.len());
            let conn = self.data_off + std::mem::offset_of!(fuse::fuse_ops, conn);
            self.value[conn..conn + 16].fill(0);
            self.value[conn..conn + name.len()].copy_from_slice(name.as_bytes());
            // SAFETY: Plain bpf() calls with valid options and buffers of the sizes given.
            unsafe {
                let fd = libbpf_sys::bpf_map_create(
                    libbpf_sys::BPF_MAP_TYPE_STRUCT_OPS,
                    std::ptr::null(),
                    4,
                    self.value_size,
                    1,
                    &self.create,
                );
                if fd < 0 {
                    return Err(format!("instance {name}: map create: errno {}", -fd));
                }
                let map = OwnedFd::from_raw_fd(fd);
                let key = 0u32;
                let r = libbpf_sys::bpf_map_update_elem(
                    fd,
                    (&raw const key).cast(),
                    self.value.as_ptr().cast(),
                    0,
                );
                if r < 0 {
                    return Err(format!("instance {name}: map update: errno {}", -r));
                }
                let l = libbpf_sys::bpf_link_create(
                    fd,
                    0,
                    libbpf_sys::BPF_STRUCT_OPS,
                    std::ptr::null(),
                );
                if l < 0 {
                    return Err(format!("instance {name}: link: errno {}", -l));
                }
                drop(map);
                self.held.push(OwnedFd::from_raw_fd(l));
            }
        }
        Ok(())
    }
}

/// The offset of `data` in `struct bpf_struct_ops_fuse_ops`, from the module's BTF.
fn value_data_offset() -> Result<usize, String> {
    let name = CString::new("bpf_struct_ops_fuse_ops").map_err(|e| e.to_string())?;
    let data = CString::new("data").map_err(|e| e.to_string())?;
    with_module_btf("rso_fuse", |btf| {
        // SAFETY: `btf` is valid for the call; the type's members follow it in the BTF data,
        // `vlen` of them (`btf_members()`).
        unsafe {
            let id =
                libbpf_sys::btf__find_by_name_kind(btf, name.as_ptr(), libbpf_sys::BTF_KIND_STRUCT);
            if id <= 0 {
                return Err("no bpf_struct_ops_fuse_ops in rso_fuse's BTF".to_string());
            }
            let t = libbpf_sys::btf__type_by_id(btf, id as u32);
            let vlen = ((*t).info & 0xffff) as usize;
            let kflag = (*t).info >> 31 != 0;
            let members = t.add(1).cast::<libbpf_sys::btf_member>();
            for i in 0..vlen {
                let m = &*members.add(i);
                let n = std::ffi::CStr::from_ptr(libbpf_sys::btf__name_by_offset(btf, m.name_off));
                if n == data.as_c_str() {
                    let bits = if kflag {
                        m.offset & 0xff_ffff
                    } else {
                        m.offset
                    };
                    return Ok(bits as usize / 8);
                }
            }
            Err("bpf_struct_ops_fuse_ops has no member data".to_string())
        }
    })?
}

/// the lookup of a connection's instance with more and more attached instances.
///
/// With `exact`, also the instructions per lookup of the first instance and of the newest, and
/// their ratio at the most instances to the first's at the fewest.
pub(super) fn lookups(
    p: &Params,
    r: &mut Results,
    bench_obj: &Object,
    exact: bool,
) -> Result<(), String> {
    let mut inst = Instances::new(bench_obj)?;
    let dev = BenchDev::open(DEV).map_err(errno(DEV))?;
    let count = |name: &str| {
        insns::per_iter(INSN_SAMPLES, INSN_LOOPS, |k| {
            dev.run(name, fuse::RSO_FUSE_BENCH_LOOKUP, k)
                .map(drop)
                .map_err(errno("lookup"))
        })
    };
    // Per pass: the first instance's count at the fewest instances, the larger of the two at the
    // most.
    let (mut fewest, mut most) = (Vec::new(), Vec::new());
    for (i, &n) in p.instances.iter().enumerate() {
        let t = Instant::now();
        inst.grow(n)?;
        println!(
            "# {n} instances attached ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
        let mut v = Vec::new();
        for rep in 0..p.reps {
            // The first instance and the newest, in turn.
            let name = if rep % 2 == 0 {
                "b0".to_string()
            } else {
                format!("b{}", n - 1)
            };
            let (ns, _) = dev
                .run(&name, fuse::RSO_FUSE_BENCH_LOOKUP, p.loops)
                .map_err(errno("lookup"))?;
            v.push(ns as f64 / f64::from(p.loops));
        }
        r.push("lookup", format!("{n} instances"), "ns/lookup", v);
        if exact {
            let (mut first, mut newest) = (Vec::new(), Vec::new());
            for _ in 0..p.reps {
                first.push(count("b0")?);
                newest.push(count(&format!("b{}", n - 1))?);
            }
            if i == 0 {
                fewest = first.clone();
            }
            most = first.iter().zip(&newest).map(|(a, b)| a.max(*b)).collect();
            let sec = "instructions";
            r.push(sec, format!("lookup, {n} instances, first"), "insns", first);
            r.push(
                sec,
                format!("lookup, {n} instances, newest"),
                "insns",
                newest,
            );
        }
    }
    if exact {
        let ratio = most.iter().zip(&fewest).map(|(m, f)| m / f).collect();
        r.push(
            "instruction ratios",
            "lookup most/fewest".into(),
            "x",
            ratio,
        );
    }
    // Repetition k at the most instances against repetition k at the fewest: the sizes cannot
    // be measured side by side, but the ratio still gets a spread.
    let mut lookup = r.figures.iter().filter(|f| f.section == "lookup");
    let ratios: Option<Vec<f64>> = match (lookup.next(), lookup.next_back()) {
        (Some(first), Some(last)) => Some(
            first
                .values
                .iter()
                .zip(&last.values)
                .map(|(a, b)| b / a)
                .collect(),
        ),
        _ => None,
    };
    if let Some(v) = ratios {
        r.push("ratios", "lookup largest/smallest".into(), "x", v);
    }
    Ok(())
}
