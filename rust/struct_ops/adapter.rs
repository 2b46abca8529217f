// SPDX-License-Identifier: GPL-2.0

//! The `extern "C"` callbacks the BPF core calls, and the views of its objects they hand out.

use super::{
    instance::Instance,
    MemberDesc,
    MemberKind,
    OpsTable,
    StructOps, //
};
use core::{
    ffi::{
        c_int,
        c_void, //
    },
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    error::from_result,
    module::this_module,
    prelude::*,
    transmute::AsBytes,
    types::Opaque, //
};

/// A BTF object (`struct btf`), here the module's.
#[repr(transparent)]
pub struct Btf(Opaque<bindings::btf>);

/// A BPF program being verified (`struct bpf_prog`).
#[repr(transparent)]
pub struct Prog(Opaque<bindings::bpf_prog>);

impl Prog {
    /// Whether the program is sleepable (`SEC("struct_ops.s/...")`).
    pub fn is_sleepable(&self) -> bool {
        // SAFETY: `self` wraps a valid program, whose flags do not change while it is verified.
        unsafe { (*self.0.get()).sleepable() != 0 }
    }
}

/// A BPF link (`struct bpf_link`).
#[repr(transparent)]
pub struct Link(Opaque<bindings::bpf_link>);

impl Link {
    /// The link's id, as userspace sees it, between a link's `reg` and its `unreg`. In a new
    /// link's `reg` it is 0 (`bpf_link_settle()` sets it after `reg` returns), and in the `unreg`
    /// that runs when the link's last reference goes away it is already released
    /// (`bpf_link_free()` frees it before the link's `.dealloc` runs `unreg`) and may name a new
    /// link: do not key state by it there.
    pub fn id(&self) -> u32 {
        // SAFETY: `self` wraps a valid link, whose id does not change.
        unsafe { (*self.0.get()).id }
    }
}

/// A member of a struct_ops type, as the BPF core walks them while it verifies a program.
pub struct Member<'a> {
    desc: &'a MemberDesc,
}

impl Member<'_> {
    /// The member's byte offset in the ops struct.
    pub fn offset(&self) -> usize {
        self.desc.offset
    }

    /// Whether this is the member at byte offset `offset`: name a member by field with
    /// `member.is(core::mem::offset_of!(hello_ops, magic))`.
    pub fn is(&self, offset: usize) -> bool {
        self.desc.offset == offset
    }
}

/// One member of a map value being written, as [`StructOps::init_member`] sees it: it can read
/// the whole value userspace wrote, and write only this member of the instance, and only if it
/// is a data member.
pub struct InitMember<'a, O: OpsTable> {
    desc: &'static MemberDesc,
    kdata: NonNull<O>,
    udata: &'a O,
    _kdata: PhantomData<&'a mut O>,
}

impl<O: OpsTable> InitMember<'_, O> {
    /// The member's byte offset in the ops struct.
    pub fn offset(&self) -> usize {
        self.desc.offset
    }

    /// Whether this is the member at byte offset `offset`: name a member by field with
    /// `member.is(core::mem::offset_of!(hello_ops, magic))`.
    pub fn is(&self, offset: usize) -> bool {
        self.desc.offset == offset
    }

    /// The value userspace wrote. Its op members hold program fds, not functions; those before
    /// this member already hold program ids (the BPF core replaces each fd as it goes).
    pub fn udata(&self) -> &O {
        self.udata
    }

    fn data_member(&self) -> Result<usize> {
        if self.desc.kind != MemberKind::Data {
            pr_err!(
                "struct_ops {}: init_member may not set the op at offset {}\n",
                O::NAME,
                self.desc.offset
            );
            return Err(EINVAL);
        }
        Ok(self.desc.offset)
    }

    /// Copies this member from the value userspace wrote to the instance. `EINVAL` for an op.
    pub fn copy(&mut self) -> Result {
        let off = self.data_member()?;
        // SAFETY: `off` and `size` describe a data member of `O` (the generator's table), so
        // both ranges are in bounds; `kdata` is writable and distinct from `udata`, and any
        // bytes are a valid data member (the generator refuses `_Bool` data).
        unsafe {
            core::ptr::copy_nonoverlapping(
                core::ptr::from_ref::<O>(self.udata).cast::<u8>().add(off),
                self.kdata.as_ptr().cast::<u8>().add(off),
                self.desc.size,
            )
        };
        Ok(())
    }

    /// Writes `value` to this member of the instance. `EINVAL` for an op, or when `V` is not the
    /// member's size.
    pub fn write<V: AsBytes>(&mut self, value: V) -> Result {
        let off = self.data_member()?;
        if core::mem::size_of::<V>() != self.desc.size {
            return Err(EINVAL);
        }
        // SAFETY: As in `copy`; `V` has no uninitialised bytes (`AsBytes`) and is the member's
        // size.
        unsafe {
            self.kdata
                .as_ptr()
                .cast::<u8>()
                .add(off)
                .cast::<V>()
                .write_unaligned(value)
        };
        Ok(())
    }
}

/// Whether an op of `members` takes an argument programs may write.
const fn has_writable(members: &[MemberDesc]) -> bool {
    let mut i = 0;
    while i < members.len() {
        if let MemberKind::Op { writable, .. } = members[i].kind {
            let mut j = 0;
            while j < writable.len() {
                if writable[j] != 0 {
                    return true;
                }
                j += 1;
            }
        }
        i += 1;
    }
    false
}

/// The `extern "C"` callbacks the BPF core calls.
pub(super) struct Adapter<T: StructOps>(PhantomData<T>);

impl<T: StructOps> Adapter<T> {
    const VERIFIER_OPS: bindings::bpf_verifier_ops = bindings::bpf_verifier_ops {
        get_func_proto: Some(Self::get_func_proto),
        is_valid_access: Some(Self::is_valid_access),
        btf_struct_access: if has_writable(T::Ops::MEMBERS) {
            Some(Self::btf_struct_access)
        } else {
            None
        },
        ..pin_init::zeroed()
    };

    /// The `struct bpf_struct_ops` of `T`, without `cfi_stubs`.
    pub(super) fn table() -> bindings::bpf_struct_ops {
        bindings::bpf_struct_ops {
            verifier_ops: &Self::VERIFIER_OPS,
            init: Some(Self::init),
            // The layer always checks members (sleepable programs); the BPF core calls
            // `init_member`, `reg` and `unreg` unconditionally (and `init`): a NULL entry would
            // be a NULL call.
            check_member: Some(Self::check_member),
            init_member: Some(Self::init_member),
            reg: Some(Self::reg),
            unreg: Some(Self::unreg),
            update: if T::HAS_UPDATE {
                Some(Self::update)
            } else {
                None
            },
            // Always: the layer checks which BTF each program was verified against.
            validate: Some(Self::validate),
            cfi_stubs: core::ptr::null_mut(),
            owner: this_module::<T::OwnerModule>().as_ptr(),
            name: T::Ops::NAME.as_char_ptr(),
            ..pin_init::zeroed()
        }
    }

    /// The generator's description of the member `member` of `t`.
    ///
    /// # Safety
    ///
    /// `t` is the ops struct's BTF type and `member` one of its members, valid for the call.
    unsafe fn desc(
        t: *const bindings::btf_type,
        member: *const bindings::btf_member,
    ) -> Result<&'static MemberDesc> {
        // SAFETY: Per the function's safety requirements.
        let (info, bits) = unsafe { ((*t).info, (*member).offset) };
        // `btf_member_bit_offset()`: with the kind flag, the low 24 bits hold the bit offset.
        let bits = if info >> 31 != 0 {
            bits & 0x00ff_ffff
        } else {
            bits
        };
        T::Ops::member_at((bits / 8) as usize).ok_or(EINVAL)
    }

    /// # Safety
    ///
    /// `btf` is the module's BTF, valid for the duration of the call.
    unsafe extern "C" fn init(btf: *mut bindings::btf) -> c_int {
        // The core got here: the type, its value type and every stub are in the module's BTF.
        T::type_static().init_ran(btf);
        if !T::HAS_INIT {
            return 0;
        }
        // SAFETY: `btf` is valid for the call; `Btf` is a transparent wrapper.
        let btf = unsafe { &*btf.cast::<Btf>() };
        from_result(|| T::init(btf).map(|()| 0))
    }

    /// # Safety
    ///
    /// `t` is the ops struct's BTF type, `member` one of its members, `prog` a program being
    /// verified; all valid for the duration of the call.
    unsafe extern "C" fn check_member(
        t: *const bindings::btf_type,
        member: *const bindings::btf_member,
        prog: *const bindings::bpf_prog,
    ) -> c_int {
        // SAFETY: Per the function's safety requirements.
        let (desc, prog) = (unsafe { Self::desc(t, member) }, unsafe {
            &*prog.cast::<Prog>()
        });
        from_result(|| {
            let desc = desc?;
            let sleepable_ok = matches!(
                desc.kind,
                MemberKind::Op {
                    sleepable: true,
                    ..
                }
            );
            if prog.is_sleepable() && !sleepable_ok {
                pr_info!(
                    "struct_ops {}: the op at offset {} does not allow sleepable programs\n",
                    T::Ops::NAME,
                    desc.offset
                );
                return Err(EINVAL);
            }
            if T::HAS_CHECK_MEMBER {
                T::check_member(&Member { desc }, prog)?;
            }
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// As for `check_member`; `kdata` and `udata` point to distinct `T::Ops`, valid for the call,
    /// with `kdata` not accessed by anything else meanwhile (the map's mutex is held).
    unsafe extern "C" fn init_member(
        t: *const bindings::btf_type,
        member: *const bindings::btf_member,
        kdata: *mut c_void,
        udata: *const c_void,
    ) -> c_int {
        if !T::HAS_INIT_MEMBER {
            // Let the core handle the member.
            return 0;
        }
        // SAFETY: Per the function's safety requirements.
        let desc = unsafe { Self::desc(t, member) };
        from_result(|| {
            let desc = desc?;
            let (Some(kdata), Some(udata)) = (
                NonNull::new(kdata.cast::<T::Ops>()),
                // SAFETY: Per the function's safety requirements; the generator refuses `_Bool`
                // data, so any bytes userspace wrote are a valid `T::Ops`.
                unsafe { udata.cast::<T::Ops>().as_ref() },
            ) else {
                return Err(EINVAL);
            };
            let mut view = InitMember {
                desc,
                kdata,
                udata,
                _kdata: PhantomData,
            };
            let handled = T::init_member(&mut view)?;
            if handled && desc.kind != MemberKind::Data {
                pr_err!(
                    "struct_ops {}: init_member claimed the op at offset {}: refused\n",
                    T::Ops::NAME,
                    desc.offset
                );
                return Err(EINVAL);
            }
            Ok(c_int::from(handled))
        })
    }

    /// # Safety
    ///
    /// `kdata` points to a fully initialised `T::Ops` of a struct_ops map value.
    unsafe extern "C" fn validate(kdata: *mut c_void) -> c_int {
        unsafe extern "C" {
            fn rso_progs_of_btf(kdata: *const c_void, btf: *const c_void) -> c_int;
        }
        let btf = T::type_static().btf();
        // SAFETY: `rust/rso_helpers.c` defines the function; `kdata` is the data of a struct_ops
        // map value being updated (the map's mutex is held), whose programs it walks.
        if btf.is_null() || unsafe { rso_progs_of_btf(kdata, btf.cast()) } != 0 {
            pr_err!(
                "struct_ops {}: a program of the value was verified against another BTF (another \
                 module, or an earlier load of this one)\n",
                T::Ops::NAME
            );
            return EINVAL.to_errno();
        }
        if !T::HAS_VALIDATE {
            return 0;
        }
        // SAFETY: Per the function's safety requirements.
        let ops = unsafe { &*kdata.cast::<T::Ops>() };
        from_result(|| T::validate(ops).map(|()| 0))
    }

    /// # Safety
    ///
    /// `link` is NULL or a link valid for the duration of the call.
    unsafe fn link<'a>(link: *mut bindings::bpf_link) -> Option<&'a Link> {
        // SAFETY: Per the function's safety requirements; `Link` is a transparent wrapper.
        NonNull::new(link).map(|l| unsafe { &*l.as_ptr().cast::<Link>() })
    }

    /// # Safety
    ///
    /// `kdata` is the data of a struct_ops map value being attached; `link` is NULL or valid.
    unsafe extern "C" fn reg(kdata: *mut c_void, link: *mut bindings::bpf_link) -> c_int {
        // SAFETY: Per the function's safety requirements, `kdata` is fully initialised and stays
        // valid until its last `unreg`.
        let inst = unsafe { Instance::<T>::from_raw(kdata) };
        // SAFETY: Per the function's safety requirements.
        let link = unsafe { Self::link(link) };
        from_result(|| {
            T::type_static().attach_with(inst, || {
                if T::HAS_REG {
                    T::reg(inst, link)?;
                }
                Ok(())
            })?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// `kdata` is the data of an attached struct_ops map value; `link` is NULL or valid.
    unsafe extern "C" fn unreg(kdata: *mut c_void, link: *mut bindings::bpf_link) {
        // SAFETY: Per the function's safety requirements.
        let inst = unsafe { Instance::<T>::from_raw(kdata) };
        // SAFETY: Per the function's safety requirements.
        let link = unsafe { Self::link(link) };
        T::type_static().detach(inst);
        if T::HAS_UNREG {
            T::unreg(inst, link);
        }
    }

    /// # Safety
    ///
    /// `new` is a fully initialised instance, `old` the attached one behind `link`.
    unsafe extern "C" fn update(
        new: *mut c_void,
        old: *mut c_void,
        link: *mut bindings::bpf_link,
    ) -> c_int {
        // SAFETY: Per the function's safety requirements.
        let (new, old) = unsafe { (Instance::<T>::from_raw(new), Instance::<T>::from_raw(old)) };
        // SAFETY: Per the function's safety requirements.
        let Some(link) = (unsafe { Self::link(link) }) else {
            return EINVAL.to_errno();
        };
        from_result(|| {
            T::type_static().replace_with(new, old, || T::update(new, old, link))?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// `prog` is a program being verified.
    unsafe extern "C" fn get_func_proto(
        func_id: bindings::bpf_func_id,
        prog: *const bindings::bpf_prog,
    ) -> *const bindings::bpf_func_proto {
        // No tail calls: a program of another struct_ops type of this module whose op has the
        // same prototype could tail-call this one, which then sees arguments of the other op's
        // tags (the prog array compares the prototype and member index only, `core.c`), e.g. a
        // `__ref` task it releases although no reference was taken.
        if func_id == bindings::bpf_func_id_BPF_FUNC_tail_call {
            return core::ptr::null();
        }
        // SAFETY: Per the function's safety requirements.
        let p = unsafe { &*prog.cast::<Prog>() };
        if !T::allow_helper(func_id, p) {
            return core::ptr::null();
        }
        // SAFETY: `prog` is valid; `bpf_base_func_proto` returns NULL or a static prototype of
        // `func_id`.
        unsafe { bindings::bpf_base_func_proto(func_id, prog) }
    }

    /// # Safety
    ///
    /// `prog` is a program being verified and `info` its access information.
    unsafe extern "C" fn is_valid_access(
        off: c_int,
        size: c_int,
        access: bindings::bpf_access_type,
        prog: *const bindings::bpf_prog,
        info: *mut bindings::bpf_insn_access_aux,
    ) -> bool {
        let max = (core::mem::size_of::<u64>() as c_int) * (bindings::MAX_BPF_FUNC_ARGS as c_int);
        if off < 0
            || off >= max
            || access != bindings::bpf_access_type_BPF_READ
            || size <= 0
            || off % size != 0
        {
            return false;
        }
        unsafe extern "C" {
            fn rso_prog_member_off(prog: *const c_void) -> u32;
        }
        // SAFETY: `rust/rso_helpers.c` defines the function; `prog` is a struct_ops program being
        // verified, whose `attach_st_ops_member_off` the verifier set before it checks accesses.
        let off_member = unsafe { rso_prog_member_off(prog.cast()) } as usize;
        // By offset, not by index: the member table is bindgen's view, the index the BTF's.
        let (nargs, writable) = match T::Ops::member_at(off_member).map(|m| m.kind) {
            Some(MemberKind::Op {
                nargs, writable, ..
            }) => (nargs, writable),
            _ => return false,
        };
        // Only the op's arguments. `btf_ctx_access` also lets a read of the slot after them
        // through when the member's index happens to equal `BPF_TRACE_FEXIT`,
        // `BPF_MODIFY_RETURN`, `BPF_LSM_MAC`, `BPF_LSM_CGROUP` or `BPF_TRACE_FSESSION` (it takes
        // `expected_attach_type` for a tracing attach type): for struct_ops that slot is the
        // trampoline's return value, not yet written.
        if off as usize / 8 >= nargs {
            return false;
        }
        // SAFETY: `prog` and `info` are valid for the call, as the verifier passed them;
        // `btf_ctx_access` is what `bpf_tracing_btf_ctx_access()` calls.
        if !unsafe { bindings::btf_ctx_access(off, size, access, prog, info) } {
            return false;
        }
        // SAFETY: Per the function's safety requirements.
        let p = unsafe { &*prog.cast::<Prog>() };
        if !T::allow_access(off as u32, size as u32, p) {
            return false;
        }
        // An argument programs may write: record the struct it points to, as the verifier
        // resolved it (its id in the module's BTF as loaded; the ids `resolve_btfids` writes
        // into an out-of-tree module are those of its distilled base, which the kernel
        // relocates when it loads the module), for `btf_struct_access`.
        let writable = writable.get(off as usize / 8).copied();
        if let Some(size) = writable.filter(|&s| s != 0) {
            // SAFETY: `btf_ctx_access` accepted a read of a pointer argument and filled in the
            // BTF object and type id of what it points to.
            let (btf, id) = unsafe {
                let aux = &(*info).__bindgen_anon_1.__bindgen_anon_1;
                (aux.btf.cast_const(), aux.btf_id)
            };
            let ty = T::type_static();
            if btf != ty.btf() || id == 0 || !ty.add_writable(id, size) {
                return false;
            }
        }
        true
    }

    /// Allows a write through a pointer argument only within a struct that an op takes by
    /// non-const pointer, in the module's BTF (recorded by `is_valid_access`).
    ///
    /// # Safety
    ///
    /// `reg` is a register the verifier checks a write through, valid for the call.
    unsafe extern "C" fn btf_struct_access(
        _log: *mut bindings::bpf_verifier_log,
        reg: *const bindings::bpf_reg_state,
        off: c_int,
        size: c_int,
    ) -> c_int {
        // SAFETY: Per the function's safety requirements.
        let (btf, id) = unsafe { T::Ops::reg_btf_id(reg) };
        let ty = T::type_static();
        let end = i64::from(off) + i64::from(size);
        let ok = !btf.is_null()
            && btf == ty.btf()
            && off >= 0
            && size > 0
            && ty.writable_size(id).is_some_and(|s| end <= i64::from(s));
        if ok {
            0
        } else {
            EACCES.to_errno()
        }
    }
}
