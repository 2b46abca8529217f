// SPDX-License-Identifier: GPL-2.0

// The module's init of the compile-fail crates that do not test it: registers the type.

impl StructOpsModule for Cf {
    fn init(_module: &'static ThisModule, init: &ModuleInit) -> impl PinInit<Self, Error> {
        CF.register(init).map(|()| Cf)
    }
}
