// SPDX-License-Identifier: GPL-2.0

//! `rso_filter`: a policy hook, `filter_ops`, that BPF implements and the kernel asks for a
//! verdict, registered from Rust.
//!
//! It shows the parts of the struct_ops life cycle that `rso_hello` does not:
//!
//! - a mandatory op (`decide`), enforced in `validate`: a value without it is refused and
//!   nothing gets registered;
//! - `update`, so that a link can switch to another map atomically
//!   (`bpf_link__update_map()`), where `rso_hello`'s links refuse with `EOPNOTSUPP`;
//! - `reg` and `unreg` left to the layer, which still tracks the attached instances.
//!
//! Userspace asks for a verdict through `/dev/rso_filter`:
//!
//! ```c
//! struct rso_filter_call c = { .hdr = { .op = RSO_FILTER_OP_DECIDE }, .key = 42 };
//! ioctl(fd, RSO_IOC_CALL(struct rso_filter_call), &c);   /* c.hdr.ret: the verdict */
//! ```

use kernel::{
    miscdevice::MiscDeviceRegistration,
    prelude::*, //
};

#[macro_use]
#[path = "../../rust/struct_ops/mod.rs"]
mod struct_ops;

use struct_ops::{
    CallDev,
    CallDevice,
    Instance,
    Link,
    ModuleInit,
    StructOps, //
    StructOpsModule,
};

ops_header! {
    /// The Rust view of `filter_ops.h`.
    mod filter_h = "filter_ops_generated.rs";
}

use filter_h::*;

struct_ops_module! {
    type: RsoFilter,
    name: "rso_filter",
    authors: ["rust-struct-ops developers"],
    description: "filter_ops: a BPF policy hook registered from Rust",
    license: "GPL",
}

declare_struct_ops! {
    /// The `filter_ops` struct_ops type.
    static FILTER: FilterOps = filter_ops;
}

/// The Rust side of `filter_ops`.
struct FilterOps;

#[vtable]
impl StructOps for FilterOps {
    fn validate(ops: &filter_ops) -> Result {
        if ops.decide.is_none() {
            pr_warn!("filter_ops: refusing an instance without decide\n");
            return Err(EINVAL);
        }
        Ok(())
    }

    fn update(new: &Instance<Self>, old: &Instance<Self>, link: &Link) -> Result {
        // Once per load: a link may switch maps hundreds of thousands of times (the stress test
        // does), and a line each would flood the log and the console.
        kernel::pr_info_once!(
            "filter_ops: link {} switches from map {} to map {} (said once)\n",
            link.id(),
            old.id(),
            new.id()
        );
        Ok(())
    }
}

impl CallDevice for FilterOps {
    type Call = rso_filter_call;
    const NAME: &'static CStr = c"rso_filter";

    /// Asks the instance for a verdict on `c.key`, then tells it the verdict (`audit`).
    fn call(inst: &Instance<Self>, op: u32, c: &mut rso_filter_call) -> Result<Option<i64>> {
        if op != RSO_FILTER_OP_DECIDE {
            return Err(EINVAL);
        }
        let ops = inst.ops();
        // `validate` guarantees `decide`; an instance without it cannot be attached.
        let Some(verdict) = ops.decide(c.key) else {
            return Ok(None);
        };
        c.audited = ops.audit(c.key, verdict).is_some().into();
        Ok(Some(verdict.into()))
    }
}

#[pin_data]
struct RsoFilter {
    #[pin]
    _dev: MiscDeviceRegistration<CallDev<FilterOps>>,
}

impl StructOpsModule for RsoFilter {
    fn init(_module: &'static ThisModule, init: &ModuleInit) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _dev <- {
                FILTER.register(init)?;
                pr_info!("registered struct_ops type filter_ops\n");
                struct_ops::register_call_device::<FilterOps>()
            },
        })
    }
}
