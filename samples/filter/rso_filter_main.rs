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
//! __s64 v[RSO_FILTER_NR_FIELDS] = { [RSO_FILTER_F_KEY] = 42 };
//! ioctl(fd, _IOWR(RSO_FILTER_IOC_MAGIC, RSO_FILTER_IOC_NR, __s64[RSO_FILTER_NR_FIELDS]), v);
//! ```

use kernel::{miscdevice::MiscDeviceRegistration, prelude::*};

#[macro_use]
#[path = "../../rust/struct_ops.rs"]
mod struct_ops;
#[path = "../../rust/trigger.rs"]
mod trigger;

use struct_ops::{
    Instance,
    Link,
    StructOps, //
};

ops_header! {
    /// The Rust view of `filter_ops.h`.
    mod filter_h {
        include!("filter_ops_generated.rs");
    }
}

use filter_h::*;

module! {
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
        pr_info!(
            "filter_ops: link {} switches from map {} to map {}\n",
            link.id(),
            old.id(),
            new.id()
        );
        Ok(())
    }
}

const NR_FIELDS: usize = RSO_FILTER_NR_FIELDS as usize;

/// Asks the attached instance for a verdict on `v[RSO_FILTER_F_KEY]`.
fn decide(v: &mut [i64; NR_FIELDS]) -> Result {
    let inst = FILTER.first().ok_or(ENOENT)?;
    let key = v[RSO_FILTER_F_KEY as usize] as u64;
    // `validate` guarantees `decide`; an instance without it cannot be attached.
    let verdict = inst.call(|o| o.decide, (key,)).ok_or(EOPNOTSUPP)?;
    let audited = inst.call(|o| o.audit, (key, verdict)).is_some();
    v[RSO_FILTER_F_VERDICT as usize] = verdict.into();
    v[RSO_FILTER_F_ID as usize] = inst.id().into();
    v[RSO_FILTER_F_AUDITED as usize] = audited.into();
    Ok(())
}

/// `/dev/rso_filter`.
struct FilterTrigger;

impl trigger::Trigger<NR_FIELDS> for FilterTrigger {
    const NAME: &'static CStr = c"rso_filter";
    const MAGIC: u32 = RSO_FILTER_IOC_MAGIC as u32;
    const NR: u32 = RSO_FILTER_IOC_NR;

    fn handle(v: &mut [i64; NR_FIELDS]) -> Result {
        decide(v)
    }
}

#[pin_data]
struct RsoFilter {
    #[pin]
    _dev: MiscDeviceRegistration<trigger::TriggerDev<FilterTrigger, NR_FIELDS>>,
}

impl kernel::InPlaceModule for RsoFilter {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _dev <- {
                FILTER.register()?;
                pr_info!("registered struct_ops type filter_ops\n");
                trigger::register::<FilterTrigger, NR_FIELDS>()
            },
        })
    }
}
