// SPDX-License-Identifier: GPL-2.0

//! Must not compile: the init's `ModuleInit` kept in the module's state, where later code (an
//! ioctl) could register with it after the init.
// compile-fail-expect: cannot be shared between threads safely

include!("cf_common.rs");

struct Keeper<'a> {
    _init: &'a ModuleInit,
}

/// The module state must be `Send` and `Sync`: so must everything in it.
fn keep<T: Send + Sync>(_t: T) {}

impl StructOpsModule for Cf {
    fn init(_module: &'static ThisModule, init: &ModuleInit) -> impl PinInit<Self, Error> {
        keep(Keeper { _init: init });
        CF.register(init).map(|()| Cf)
    }
}
