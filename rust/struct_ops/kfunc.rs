// SPDX-License-Identifier: GPL-2.0

//! The kfuncs a type's header declares (`__rso_kfunc`, `rust/rso_tags.h`).
//!
//! `rust/rsogen.py` writes, from the header, each kfunc's C forwarder (kfuncs need BTF, which
//! Rust code does not get), its registration, and a trait `<Type>Kfuncs` with one safe method
//! per kfunc, which the module implements on the C ops struct. A kfunc's first parameter is the
//! request, a `const struct R *` that an op got: every op takes such an argument as a
//! [`KfuncReq<R, Data>`], the request with the module's data beside it, and the kfunc gets
//! that [`KfuncReq`] back. The generator refuses a header where the verifier could hand a
//! kfunc anything else as `R` (see `docs/generator.md`).

use super::module::ModuleInit;
use core::{
    ffi::c_int,
    sync::atomic::{
        AtomicBool,
        Ordering, //
    },
};
use kernel::{
    error::to_result,
    prelude::*, //
};

/// A request an op gets as `const struct R *`, with the module's data beside it: what the
/// header's kfuncs get back when a program passes them the request.
///
/// Programs see the `req` part only (read-only); the kfuncs' bodies see all of it, shared:
/// data they change needs interior mutability (a `Cell`, say).
#[repr(C)]
pub struct KfuncReq<R, D> {
    // First, at offset 0: the generated op methods pass a pointer to it, derived from the whole
    // `KfuncReq`, and the kfuncs cast it back.
    req: R,
    data: D,
}

impl<R, D> KfuncReq<R, D> {
    /// The request `req`, with `data` beside it.
    pub const fn new(req: R, data: D) -> Self {
        Self { req, data }
    }

    /// The request, as programs see it.
    pub fn req(&self) -> &R {
        &self.req
    }

    /// The module's data.
    pub fn data(&self) -> &D {
        &self.data
    }

    /// The request, to change between op calls.
    pub fn req_mut(&mut self) -> &mut R {
        &mut self.req
    }

    /// The module's data, to change between op calls.
    pub fn data_mut(&mut self) -> &mut D {
        &mut self.data
    }
}

/// The kfuncs of an ops struct's header: the generator implements this for every ops struct
/// (registering nothing when the header declares no kfunc), and
/// [`StructOpsType::register`](super::StructOpsType::register) calls it.
pub trait OpsKfuncs {
    /// Registers the header's kfuncs for struct_ops programs. `init` proves that the module's
    /// init is running.
    fn register_kfuncs(init: &ModuleInit) -> Result;
}

/// Whether this module registered a kfunc set (each module compiles its own copy of the layer,
/// so this is per module).
static KFUNC_SET: AtomicBool = AtomicBool::new(false);

/// Claims the module's one kfunc set: the kernel takes one set per module and program type
/// (`btf_populate_kfunc_set()` warns and fails on a second, `kernel/bpf/btf.c`). `EBUSY` when
/// the module claimed it already.
pub(super) fn claim_kfunc_set() -> Result {
    if KFUNC_SET.swap(true, Ordering::AcqRel) {
        pr_err!("struct_ops: a module registers one kfunc set: one header with kfuncs\n");
        return Err(EBUSY);
    }
    Ok(())
}

/// Registers a header's kfunc set, with `register`, the C part's `rso_<type>_register_kfuncs()`.
/// `init` proves that the module's init is running; `EBUSY` when the module registered a kfunc
/// set already.
///
/// # Safety
///
/// `register` is `rso_<type>_register_kfuncs()` of the module's C part (`RSO_OPS_KFUNCS()`,
/// `rust/rso.h`).
#[doc(hidden)]
pub unsafe fn register_kfunc_set(
    init: &ModuleInit,
    register: unsafe extern "C" fn() -> c_int,
) -> Result {
    let _ = init;
    claim_kfunc_set()?;
    // SAFETY: Per the function's safety requirements `register` registers the kfunc set, which
    // the kernel allows from the module's init (`init` proves it runs), once per module and
    // program type: `claim_kfunc_set` made this the module's only set.
    to_result(unsafe { register() })
}
