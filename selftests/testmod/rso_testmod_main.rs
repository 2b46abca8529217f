// SPDX-License-Identifier: GPL-2.0

//! `rso_testmod`: a test-only struct_ops type, `testmod_ops`, for what the samples do not show:
//! every argument kind (`__nullable`, `__ref`), sleepable ops, `check_member`, an unsupported
//! op, data refused by `init_member`, a refused helper, lookups from a timer, and a kfunc that
//! finds a program's associated instance.

use core::ffi::c_int;
use kernel::{
    miscdevice::MiscDeviceRegistration,
    module::this_module,
    prelude::*,
    task::Task, //
};

#[macro_use]
#[path = "../../rust/struct_ops/mod.rs"]
mod struct_ops;

use struct_ops::{
    Btf,
    CallDev,
    CallDevice,
    InitMember,
    Instance,
    Member,
    ModuleInit,
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

    /// testmod_ops programs may not call `bpf_get_prandom_u32()`.
    fn allow_helper(func_id: u32, _prog: &Prog) -> bool {
        func_id != kernel::uapi::bpf_func_id_BPF_FUNC_get_prandom_u32
    }

    fn check_member(member: &Member<'_>, prog: &Prog) -> Result {
        if member.is(core::mem::offset_of!(testmod_ops, nosleep)) && prog.is_sleepable() {
            return Err(EINVAL);
        }
        Ok(())
    }

    fn init_member(member: &mut InitMember<'_, testmod_ops>) -> Result<bool> {
        let u = member.udata();
        if member.is(core::mem::offset_of!(testmod_ops, limit)) {
            if u.limit > RSO_TESTMOD_LIMIT_MAX {
                pr_warn!(
                    "testmod_ops: limit {} is above {}\n",
                    u.limit,
                    RSO_TESTMOD_LIMIT_MAX
                );
                return Err(ERANGE);
            }
            member.copy()?;
            return Ok(true);
        }
        if member.is(core::mem::offset_of!(testmod_ops, claim_op)) {
            member.copy()?;
            return Ok(true);
        }
        // A misbehaving implementation: with claim_op set, it claims the op nosleep, which the
        // layer must refuse (the op would otherwise hold whatever the instance has there).
        if member.is(core::mem::offset_of!(testmod_ops, nosleep)) && u.claim_op == 1 {
            return Ok(true);
        }
        Ok(false)
    }
}

unsafe extern "C" {
    /// `testmod_kfuncs.c`: runs a timer `n` times that calls `rso_testmod_timer_call()`
    /// from softirq context; returns the number of calls that reached BPF.
    fn rso_testmod_run_timer(n: c_int) -> c_int;
}

/// Called from the timer of `rso_testmod_run_timer` (softirq): looks up any instance and calls
/// `nosleep(1)`. Returns 1 when BPF was called.
#[no_mangle]
pub extern "C" fn rso_testmod_timer_call() -> c_int {
    TESTMOD
        .first()
        .and_then(|inst| inst.ops().nosleep(1))
        .map_or(0, |_| 1)
}

fn arg_i32(v: i64) -> Result<i32> {
    i32::try_from(v).map_err(|_| EINVAL)
}

impl CallDevice for TestmodOps {
    type Call = rso_testmod_call;
    const NAME: &'static CStr = c"rso_testmod";

    fn call(inst: &Instance<Self>, op: u32, c: &mut rso_testmod_call) -> Result<Option<i64>> {
        let ops = inst.ops();
        let x = arg_i32(c.x)?;
        let task: &Task = current!();
        let ret = match op {
            RSO_TESTMOD_OP_NOSLEEP => ops.nosleep(x),
            RSO_TESTMOD_OP_MAY_SLEEP => ops.may_sleep(x),
            // The layer takes the reference the program must release.
            RSO_TESTMOD_OP_TAKE_TASK => ops.take_task(task),
            RSO_TESTMOD_OP_ARG_NULL => ops.arg_kinds(x, task, None, task),
            RSO_TESTMOD_OP_ARG_TASK => ops.arg_kinds(x, task, Some(task), task),
            RSO_TESTMOD_OP_REGISTER_LATE => {
                // Registration is for the module's init only: this must fail.
                ModuleInit::new(this_module::<LocalModule>())?;
                Some(0)
            }
            RSO_TESTMOD_OP_TIMER => {
                if !(1..=10_000).contains(&x) {
                    return Err(EINVAL);
                }
                // SAFETY: The C function may be called from process context at any time.
                Some(unsafe { rso_testmod_run_timer(x) })
            }
            RSO_TESTMOD_OP_ARGS_INOUT | RSO_TESTMOD_OP_ARGS_IN => {
                let mut args = rso_testmod_args { a: x.into(), b: 0 };
                let ret = if op == RSO_TESTMOD_OP_ARGS_INOUT {
                    ops.args_inout(&mut args)
                } else {
                    ops.args_in(&args)
                };
                c.out = args.b;
                ret
            }
            RSO_TESTMOD_OP_WARN => {
                // The planted splat: the selftests check that the log scan catches it.
                kernel::warn_on!(x == 1);
                Some(0)
            }
            _ => return Err(EINVAL),
        };
        c.limit = inst.data().limit.into();
        Ok(ret.map(i64::from))
    }
}

#[pin_data]
struct RsoTestmod {
    #[pin]
    _dev: MiscDeviceRegistration<CallDev<TestmodOps>>,
}

impl kernel::InPlaceModule for RsoTestmod {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _dev <- {
                TESTMOD.register(&ModuleInit::new(module)?)?;
                register_kfuncs()?;
                struct_ops::register_call_device::<TestmodOps>()
            },
        })
    }
}
