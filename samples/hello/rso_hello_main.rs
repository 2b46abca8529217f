// SPDX-License-Identifier: GPL-2.0

//! `rso_hello`: a BPF struct_ops type, `hello_ops`, registered from Rust.
//!
//! The type is declared in `hello_ops.h`. BPF programs implement its ops; this module checks each
//! new instance (`init_member`, `validate`), logs attaches and detaches (`reg`, `unreg`), and
//! calls their ops on request from userspace through `/dev/rso_hello`:
//!
//! ```c
//! struct rso_hello_call c = {
//!         .hdr = { .map_id = 0, .op = RSO_HELLO_OP_ADD },   /* any attached instance */
//!         .a = 40, .b = 2,
//! };
//! int fd = open("/dev/rso_hello", O_RDWR);
//! ioctl(fd, RSO_IOC_CALL(struct rso_hello_call), &c);  /* c.hdr.ret == 42 */
//! ```
//!
//! The ioctl fails with `ENOENT` when no instance is attached (or none with that map id), and
//! with `EOPNOTSUPP` when the instance does not implement the op.

use kernel::{
    miscdevice::MiscDeviceRegistration,
    prelude::*,
    task::Task, //
};

#[macro_use]
#[path = "../../rust/struct_ops/mod.rs"]
mod struct_ops;

use struct_ops::{
    CallDev,
    CallDevice,
    InitMember,
    Instance,
    Link,
    ModuleInit,
    StructOps, //
    StructOpsModule,
};

ops_header! {
    /// The Rust view of `hello_ops.h`.
    mod hello_h = "hello_ops_generated.rs";
}

use hello_h::*;

struct_ops_module! {
    type: RsoHello,
    name: "rso_hello",
    authors: ["rust-struct-ops developers"],
    description: "hello_ops: a BPF struct_ops type registered from Rust",
    license: "GPL",
}

declare_struct_ops! {
    /// The `hello_ops` struct_ops type.
    static HELLO: HelloOps = hello_ops;
}

/// The Rust side of `hello_ops`.
struct HelloOps;

#[vtable]
impl StructOps for HelloOps {
    fn init_member(member: &mut InitMember<'_, hello_ops>) -> Result<bool> {
        if member.is(core::mem::offset_of!(hello_ops, magic)) {
            member.copy()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn validate(ops: &hello_ops) -> Result {
        if ops.magic == 0 {
            pr_warn!("hello_ops: refusing an instance whose magic is 0\n");
            return Err(EINVAL);
        }
        Ok(())
    }

    fn reg(inst: &Instance<Self>, link: Option<&Link>) -> Result {
        pr_info!(
            "hello_ops: reg map {} ({}) magic {:#x}\n",
            inst.id(),
            if link.is_some() { "link" } else { "no link" },
            inst.data().magic
        );
        Ok(())
    }

    fn unreg(inst: &Instance<Self>, link: Option<&Link>) {
        pr_info!(
            "hello_ops: unreg map {} link {}\n",
            inst.id(),
            link.map_or(0, Link::id)
        );
    }
}

fn arg_i32(v: i64) -> Result<i32> {
    i32::try_from(v).map_err(|_| EINVAL)
}

impl CallDevice for HelloOps {
    type Call = rso_hello_call;
    const NAME: &'static CStr = c"rso_hello";

    fn call(inst: &Instance<Self>, op: u32, c: &mut rso_hello_call) -> Result<Option<i64>> {
        let ops = inst.ops();
        let ret = match op {
            RSO_HELLO_OP_ADD => ops.add(arg_i32(c.a)?, arg_i32(c.b)?),
            RSO_HELLO_OP_NEGATE => ops.negate(arg_i32(c.a)?),
            RSO_HELLO_OP_TASK_PID => {
                let task: &Task = current!();
                ops.task_pid(Some(task))
            }
            RSO_HELLO_OP_TASK_PID_NULL => ops.task_pid(None),
            _ => return Err(EINVAL),
        };
        c.magic = inst.data().magic.into();
        Ok(ret.map(i64::from))
    }
}

#[pin_data]
struct RsoHello {
    #[pin]
    _dev: MiscDeviceRegistration<CallDev<HelloOps>>,
}

impl StructOpsModule for RsoHello {
    fn init(_module: &'static ThisModule, init: &ModuleInit) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _dev <- {
                HELLO.register(init)?;
                pr_info!("registered struct_ops type hello_ops\n");
                struct_ops::register_call_device::<HelloOps>()
            },
        })
    }
}
