// SPDX-License-Identifier: GPL-2.0

//! `rso_testmod`: a test-only struct_ops type, `testmod_ops`, for what the samples do not show:
//! a `__ref` task argument, `check_member` refusing sleepable programs, an unsupported op, data
//! refused by `init_member`, and a kfunc that finds a program's associated instance.

use kernel::{miscdevice::MiscDeviceRegistration, prelude::*, sync::aref::ARef, task::Task};

#[macro_use]
#[path = "../../rust/struct_ops.rs"]
mod struct_ops;
#[path = "../../rust/trigger.rs"]
mod trigger;

use struct_ops::{
    Btf,
    FuncProto,
    Member,
    Prog,
    StructOps, //
};

ops_header! {
    /// The Rust view of `testmod_ops.h`.
    mod testmod_h {
        include!("testmod_ops_generated.rs");
    }
}

use testmod_h::*;

module! {
    type: RsoTestmod,
    name: "rso_testmod",
    authors: ["rust-struct-ops developers"],
    description: "testmod_ops: a test-only struct_ops type",
    license: "GPL",
    params: {
        fail_init: bool {
            default: false,
            description: "Make testmod_ops's init callback fail (the module load must fail)",
        },
    },
}

declare_struct_ops! {
    /// The `testmod_ops` struct_ops type.
    static TESTMOD: TestmodOps = testmod_ops;
}

declare_kfuncs!(fn register_kfuncs = testmod);

/// The Rust side of `testmod_ops`.
struct TestmodOps;

#[vtable]
impl StructOps for TestmodOps {
    fn init(_btf: &Btf) -> Result {
        if module_parameters::fail_init.value() {
            pr_warn!("testmod_ops: init fails, as fail_init asks\n");
            return Err(EINVAL);
        }
        pr_info!("testmod_ops: init ok\n");
        Ok(())
    }

    /// testmod_ops programs may not call `bpf_get_prandom_u32()`: an overridden helper list.
    fn get_func_proto(func_id: u32, prog: &Prog) -> Option<&'static FuncProto> {
        if func_id == kernel::uapi::bpf_func_id_BPF_FUNC_get_prandom_u32 {
            return None;
        }
        struct_ops::default_get_func_proto(func_id, prog)
    }

    fn check_member(member: &Member<'_>, prog: &Prog) -> Result {
        if member.is(core::mem::offset_of!(testmod_ops, nosleep)) && prog.is_sleepable() {
            return Err(EINVAL);
        }
        Ok(())
    }

    fn init_member(
        member: &Member<'_>,
        kdata: &mut testmod_ops,
        udata: &testmod_ops,
    ) -> Result<bool> {
        if member.is(core::mem::offset_of!(testmod_ops, limit)) {
            if udata.limit > RSO_TESTMOD_LIMIT_MAX {
                pr_warn!(
                    "testmod_ops: limit {} is above {}\n",
                    udata.limit,
                    RSO_TESTMOD_LIMIT_MAX
                );
                return Err(ERANGE);
            }
            kdata.limit = udata.limit;
            return Ok(true);
        }
        Ok(false)
    }
}

const NR_FIELDS: usize = RSO_TESTMOD_NR_FIELDS as usize;

fn call(v: &mut [i64; NR_FIELDS]) -> Result {
    let op = u32::try_from(v[RSO_TESTMOD_F_OP as usize]).map_err(|_| EINVAL)?;
    if op == RSO_TESTMOD_OP_COUNT {
        v[RSO_TESTMOD_F_RET as usize] = TESTMOD.count() as i64;
        return Ok(());
    }
    let inst = match v[RSO_TESTMOD_F_MAP_ID as usize] {
        0 => TESTMOD.first(),
        id => TESTMOD.get(u32::try_from(id).map_err(|_| EINVAL)?),
    }
    .ok_or(ENOENT)?;
    let x = i32::try_from(v[RSO_TESTMOD_F_ARG as usize]).map_err(|_| EINVAL)?;
    let ret = match op {
        RSO_TESTMOD_OP_NOSLEEP => inst.call(|o| o.nosleep, (x,)),
        RSO_TESTMOD_OP_MAY_SLEEP => inst.call(|o| o.may_sleep, (x,)),
        RSO_TESTMOD_OP_TAKE_TASK => {
            let task: &Task = current!();
            // `take_task`'s stub tags its argument `__ref`: the reference moves to the program.
            inst.call(|o| o.take_task, (ARef::from(task),))
        }
        _ => return Err(EINVAL),
    }
    .ok_or(EOPNOTSUPP)?;
    v[RSO_TESTMOD_F_RET as usize] = ret.into();
    v[RSO_TESTMOD_F_LIMIT as usize] = inst.ops().limit.into();
    Ok(())
}

/// `/dev/rso_testmod`.
struct TestmodTrigger;

impl trigger::Trigger<NR_FIELDS> for TestmodTrigger {
    const NAME: &'static CStr = c"rso_testmod";
    const MAGIC: u32 = RSO_TESTMOD_IOC_MAGIC as u32;
    const NR: u32 = RSO_TESTMOD_IOC_NR;

    fn handle(v: &mut [i64; NR_FIELDS]) -> Result {
        call(v)
    }
}

#[pin_data]
struct RsoTestmod {
    #[pin]
    _dev: MiscDeviceRegistration<trigger::TriggerDev<TestmodTrigger, NR_FIELDS>>,
}

impl kernel::InPlaceModule for RsoTestmod {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _dev <- {
                TESTMOD.register()?;
                register_kfuncs()?;
                trigger::register::<TestmodTrigger, NR_FIELDS>()
            },
        })
    }
}
