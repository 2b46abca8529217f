// SPDX-License-Identifier: GPL-2.0

//! Must not compile: the init's `ModuleInit` moved into a work item, which would register the
//! type while the init goes on (`btf_add_struct_ops()` grows the module's table without a lock).
// compile-fail-expect: cannot be shared between threads safely

include!("cf_common.rs");

impl StructOpsModule for Cf {
    fn init(_module: &'static ThisModule, init: &ModuleInit) -> impl PinInit<Self, Error> {
        let spawned = kernel::workqueue::system().try_spawn(GFP_KERNEL, move || {
            let _ = CF.register(init);
        });
        spawned.map(|()| Cf).map_err(Error::from)
    }
}
