// SPDX-License-Identifier: GPL-2.0

//! `rso_testmod`: a test-only struct_ops type, `testmod_ops`, for what the samples do not show:
//! every argument kind (`__nullable`, `__ref`), sleepable ops, `check_member`, an unsupported
//! op, data refused by `init_member`, a refused helper, lookups from a timer, a kfunc that
//! finds a program's associated instance, and the misuses the layer must refuse: its init run
//! again, one C type bound twice, a sleepable op called from a timer. It also registers a FUSE
//! request filter of its own to a connection on request (`RSO_TESTMOD_OP_FUSE_FILTER`), on a
//! kernel with `kernel/patches/fuse`: fs/fuse must pin the module meanwhile, refuse a second
//! filter on the connection, and refuse the errnos a filter may not fail a request with.

use core::{
    ffi::c_int,
    sync::atomic::{
        AtomicI32,
        Ordering, //
    },
};
use kernel::{
    miscdevice::MiscDeviceRegistration,
    module::this_module,
    prelude::*,
    task::Task,
    time::{
        delay::fsleep,
        Delta, //
    },
    workqueue, //
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
    StructOpsModule,
};

#[cfg(rso_fuse_filter)]
#[path = "../../rust/fuse_filter.rs"]
mod fuse_filter;

/// The FUSE request filter `RSO_TESTMOD_OP_FUSE_FILTER` attaches to a connection: it passes every
/// request, and when asked to misbehave it writes the out argument of each GETATTR first, or
/// fails each OPEN with `ENOSYS`.
#[cfg(rso_fuse_filter)]
mod filter {
    use crate::{
        fuse_filter::{
            opcode,
            Attachment,
            Filter,
            Request,
            Verdict, //
        },
        struct_ops::{
            ModuleInit,
            StaticMutex, //
        },
    };
    use core::sync::atomic::{
        AtomicU32,
        Ordering, //
    };
    use kernel::{
        fs::LocalFile,
        prelude::*,
        static_lock_class,
        uapi,
        ThisModule, //
    };

    struct PassFilter;

    /// 1: pass every request; 2: write a GETATTR's out argument, then pass it; 3: fail an OPEN
    /// with `ENOSYS`.
    static MODE: AtomicU32 = AtomicU32::new(1);

    impl Filter for PassFilter {
        fn pre(req: &mut Request<'_>) -> Result<Verdict> {
            match (MODE.load(Ordering::Relaxed), req.opcode()) {
                (2, opcode::GETATTR) => {
                    req.set_out_arg_as(0, &uapi::fuse_attr_out::default())?;
                }
                (3, opcode::OPEN) => return Err(ENOSYS),
                _ => {}
            }
            Ok(Verdict::Pass)
        }

        fn post(_req: &mut Request<'_>, ret: Result) -> Result {
            ret
        }
    }

    /// The module, and the attachment while there is one.
    static FILTER: StaticMutex<(Option<&'static ThisModule>, Option<Attachment<PassFilter>>)> =
        StaticMutex::new((None, None));

    pub(crate) fn init(init: &ModuleInit, module: &'static ThisModule) -> Result {
        FILTER.init(init, c"rso_testmod_filter", static_lock_class!())?;
        FILTER.lock()?.0 = Some(module);
        Ok(())
    }

    /// Attaches the filter in `mode` (1 to 3) to the connection `fd` names, or detaches it (mode
    /// 0): `EBUSY` when the connection has another filter, or when this one is attached already.
    pub(crate) fn set(mode: u32, fd: u32) -> Result {
        let mut f = FILTER.lock()?;
        if mode == 0 {
            f.1 = None;
            return Ok(());
        }
        if f.1.is_some() {
            return Err(EBUSY);
        }
        let file = LocalFile::fget(fd).map_err(|_| EBADF)?;
        MODE.store(mode, Ordering::Relaxed);
        f.1 = Some(Attachment::new(&file, f.0.ok_or(EINVAL)?, 0)?);
        Ok(())
    }
}

ops_header! {
    /// The Rust view of `testmod_ops.h`.
    mod testmod_h = "testmod_ops_generated.rs";
}

ops_header! {
    /// The same view again: a second Rust type of the C type `testmod_ops` (`bind_twice=1`).
    mod testmod_again_h = "testmod_ops_generated.rs";
}

use testmod_h::*;

struct_ops_module! {
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
        init_from_work: bool {
            default: false,
            description: "Run the module's init again from a work item during the load",
        },
        bind_twice: bool {
            default: false,
            description: "Register testmod_ops a second time, bound to another Rust type",
        },
    },
}

declare_struct_ops! {
    /// The `testmod_ops` struct_ops type.
    static TESTMOD: TestmodOps = testmod_ops;
}

declare_struct_ops! {
    /// `testmod_ops` bound to a second Rust type (`bind_twice=1`): its registration must fail.
    static TESTMOD_AGAIN: TestmodAgain = testmod_again_h::testmod_ops;
}

/// The second Rust type of `testmod_ops`.
struct TestmodAgain;

#[vtable]
impl StructOps for TestmodAgain {}

declare_kfuncs!(static KFUNCS = testmod);

/// The times the module's own init body ran in this load.
static INIT_RUNS: AtomicI32 = AtomicI32::new(0);
/// What the init run again from a work item returned (`init_from_work=1`): 0 or an errno, and
/// `i32::MIN` until it ran.
static WORK_INIT: AtomicI32 = AtomicI32::new(i32::MIN);
/// The sleepable calls the timer made that the layer refused.
static TIMER_REFUSED: AtomicI32 = AtomicI32::new(0);

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
    fn rso_testmod_run_timer(n: c_int, sleepable: c_int) -> c_int;
    /// `testmod_kfuncs.c`: `task->rcu_users`.
    fn rso_testmod_rcu_users(task: *mut core::ffi::c_void) -> c_int;
}

/// Called from the timer of `rso_testmod_run_timer` (softirq): looks up any instance and calls
/// `nosleep(1)`, or `may_sleep(1)` when `sleepable`, which the layer must refuse there. Returns
/// 1 when BPF was called.
#[no_mangle]
pub extern "C" fn rso_testmod_timer_call(sleepable: c_int) -> c_int {
    let Some(inst) = TESTMOD.first() else {
        return 0;
    };
    if sleepable == 0 {
        return inst.ops().nosleep(1).map_or(0, |_| 1);
    }
    match inst.ops().may_sleep(1) {
        Ok(r) => r.map_or(0, |_| 1),
        Err(_) => {
            TIMER_REFUSED.fetch_add(1, Ordering::Relaxed);
            0
        }
    }
}

/// Runs the module's init again, as any code may (`InPlaceModule::init` is a safe function):
/// the layer must refuse it. Returns 0 or the errno.
fn init_again() -> c_int {
    let module = this_module::<LocalModule>();
    let again = <LocalModule as kernel::InPlaceModule>::init(module);
    match KBox::pin_init(again, GFP_KERNEL) {
        Ok(_) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `init_from_work=1`: runs the init again from a work item while this load's init waits for it
/// (the module is still `COMING`).
fn init_from_work() -> Result {
    workqueue::system().try_spawn(GFP_KERNEL, || {
        WORK_INIT.store(init_again(), Ordering::Release);
    })?;
    for _ in 0..5000 {
        if WORK_INIT.load(Ordering::Acquire) != i32::MIN {
            return Ok(());
        }
        fsleep(Delta::from_millis(1));
    }
    Err(ETIMEDOUT)
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
            RSO_TESTMOD_OP_MAY_SLEEP => ops.may_sleep(x)?,
            // The layer takes the reference the program must release.
            RSO_TESTMOD_OP_TAKE_TASK => ops.take_task(task),
            RSO_TESTMOD_OP_ARG_NULL => ops.arg_kinds(x, task, None, task),
            RSO_TESTMOD_OP_ARG_TASK => ops.arg_kinds(x, task, Some(task), task),
            RSO_TESTMOD_OP_REGISTER_LATE => {
                // Registration is for the module's init only: this must fail.
                kernel::error::to_result(init_again())?;
                Some(0)
            }
            RSO_TESTMOD_OP_INIT_FROM_WORK => {
                c.out = INIT_RUNS.load(Ordering::Acquire).into();
                Some(WORK_INIT.load(Ordering::Acquire))
            }
            RSO_TESTMOD_OP_TIMER | RSO_TESTMOD_OP_TIMER_SLEEPABLE => {
                if !(1..=10_000).contains(&x) {
                    return Err(EINVAL);
                }
                let sleepable = c_int::from(op == RSO_TESTMOD_OP_TIMER_SLEEPABLE);
                TIMER_REFUSED.store(0, Ordering::Relaxed);
                // SAFETY: The C function may be called from process context at any time.
                let calls = unsafe { rso_testmod_run_timer(x, sleepable) };
                c.out = TIMER_REFUSED.load(Ordering::Relaxed).into();
                Some(calls)
            }
            RSO_TESTMOD_OP_TAKE_TASK_REFS => {
                // SAFETY: `task` is the current task, alive during the call.
                let before = unsafe { rso_testmod_rcu_users(task.as_ptr().cast()) };
                let ret = ops.take_task(task);
                // SAFETY: As above.
                let after = unsafe { rso_testmod_rcu_users(task.as_ptr().cast()) };
                c.out = (after - before).into();
                ret
            }
            RSO_TESTMOD_OP_PAST_ARGS => ops.past_args(x),
            RSO_TESTMOD_OP_FUSE_FILTER => {
                let (mode, fd) = ((x & 0xf) as u32, (x >> 4) as u32);
                if x < 0 || mode > 3 {
                    return Err(EINVAL);
                }
                #[cfg(not(rso_fuse_filter))]
                return Err(EOPNOTSUPP);
                #[cfg(rso_fuse_filter)]
                {
                    filter::set(mode, fd)?;
                    Some(0)
                }
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

impl StructOpsModule for RsoTestmod {
    #[cfg_attr(not(rso_fuse_filter), expect(unused_variables))]
    fn init(module: &'static ThisModule, init: &ModuleInit) -> impl PinInit<Self, Error> {
        INIT_RUNS.fetch_add(1, Ordering::AcqRel);
        try_pin_init!(Self {
            _dev <- {
                TESTMOD.register(init)?;
                KFUNCS.register(init)?;
                #[cfg(rso_fuse_filter)]
                filter::init(init, module)?;
                if module_parameters::bind_twice.value() {
                    TESTMOD_AGAIN.register(init)?;
                }
                if module_parameters::init_from_work.value() && INIT_RUNS.load(Ordering::Acquire) == 1 {
                    init_from_work()?;
                }
                struct_ops::register_call_device::<TestmodOps>()
            },
        })
    }
}
