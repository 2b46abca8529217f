// SPDX-License-Identifier: GPL-2.0

//! Must not compile: registering kfuncs from outside the module's init (say from an ioctl),
//! which needs a `ModuleInit` that only the init glue can make. The kernel allows it once, from
//! the init: a second registration frees the module's kfunc table under running verifiers.
// compile-fail-expect: is private

include!("cf_common.rs");
include!("cf_init.rs");

declare_kfuncs!(static KFUNCS = cf);

/// An ioctl handler that makes its own proof of init.
pub fn ioctl() -> Result {
    let init = ModuleInit::enter(kernel::module::this_module::<LocalModule>())?;
    KFUNCS.register(&init)
}
