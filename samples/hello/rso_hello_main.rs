// SPDX-License-Identifier: GPL-2.0

//! `rso_hello`: a BPF struct_ops type, `hello_ops`, registered from Rust.
//!
//! The type is declared in `hello_ops.h`. BPF programs implement its ops; this module checks each
//! new instance (`init_member`, `validate`), tracks the attached ones (`reg`, `unreg`), and calls
//! their ops on request from userspace through `/dev/rso_hello`:
//!
//! ```c
//! __s64 v[RSO_HELLO_NR_FIELDS] = {
//!         [RSO_HELLO_F_MAP_ID] = 0,               /* any attached instance */
//!         [RSO_HELLO_F_OP] = RSO_HELLO_OP_ADD,
//!         [RSO_HELLO_F_ARG0] = 40,
//!         [RSO_HELLO_F_ARG1] = 2,
//! };
//! int fd = open("/dev/rso_hello", O_RDWR);
//! ioctl(fd, RSO_HELLO_IOC_CALL, v);               /* v[RSO_HELLO_F_RET] == 42 */
//! ```
//!
//! The ioctl fails with `ENOENT` when no instance is attached (or none with that map id), and
//! with `EOPNOTSUPP` when the instance does not implement the op.

use kernel::{miscdevice::MiscDeviceRegistration, prelude::*, task::Task};

#[macro_use]
#[path = "../../rust/struct_ops.rs"]
mod struct_ops;
#[path = "../../rust/trigger.rs"]
mod trigger;

use struct_ops::{
    Instance,
    Link,
    Member,
    StructOps, //
};

ops_header! {
    /// The Rust view of `hello_ops.h`.
    mod hello_h {
        include!("hello_ops_generated.rs");
    }
}

use hello_h::*;

module! {
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
    fn init_member(member: &Member<'_>, kdata: &mut hello_ops, udata: &hello_ops) -> Result<bool> {
        if member.is(core::mem::offset_of!(hello_ops, magic)) {
            kdata.magic = udata.magic;
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
            inst.ops().magic
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

const NR_FIELDS: usize = RSO_HELLO_NR_FIELDS as usize;

fn field(f: rso_hello_field) -> usize {
    f as usize
}

fn arg_i32(v: i64) -> Result<i32> {
    i32::try_from(v).map_err(|_| EINVAL)
}

/// Calls the op `v[RSO_HELLO_F_OP]` and fills in the outputs of `v`.
fn call(v: &mut [i64; NR_FIELDS]) -> Result {
    let op = u32::try_from(v[field(RSO_HELLO_F_OP)]).map_err(|_| EINVAL)?;
    if op == RSO_HELLO_OP_COUNT {
        v[field(RSO_HELLO_F_RET)] = HELLO.count() as i64;
        return Ok(());
    }
    let inst = match v[field(RSO_HELLO_F_MAP_ID)] {
        0 => HELLO.first(),
        id => HELLO.get(u32::try_from(id).map_err(|_| EINVAL)?),
    }
    .ok_or(ENOENT)?;
    let a = v[field(RSO_HELLO_F_ARG0)];
    let b = v[field(RSO_HELLO_F_ARG1)];
    let ret = match op {
        RSO_HELLO_OP_ADD => inst.call(|o| o.add, (arg_i32(a)?, arg_i32(b)?)),
        RSO_HELLO_OP_NEGATE => inst.call(|o| o.negate, (arg_i32(a)?,)),
        RSO_HELLO_OP_TASK_PID => {
            let task: &Task = current!();
            inst.call(|o| o.task_pid, (Some(task),))
        }
        // `task_pid`'s stub tags its argument `__nullable`.
        RSO_HELLO_OP_TASK_PID_NULL => inst.call(|o| o.task_pid, (None::<&Task>,)),
        _ => return Err(EINVAL),
    }
    .ok_or(EOPNOTSUPP)?;
    v[field(RSO_HELLO_F_RET)] = ret.into();
    v[field(RSO_HELLO_F_MAGIC)] = inst.ops().magic.into();
    v[field(RSO_HELLO_F_ID)] = inst.id().into();
    Ok(())
}

/// `/dev/rso_hello`.
struct HelloTrigger;

impl trigger::Trigger<NR_FIELDS> for HelloTrigger {
    const NAME: &'static CStr = c"rso_hello";
    const MAGIC: u32 = RSO_HELLO_IOC_MAGIC as u32;
    const NR: u32 = RSO_HELLO_IOC_NR;

    fn handle(v: &mut [i64; NR_FIELDS]) -> Result {
        call(v)
    }
}

#[pin_data]
struct RsoHello {
    #[pin]
    _dev: MiscDeviceRegistration<trigger::TriggerDev<HelloTrigger, NR_FIELDS>>,
}

impl kernel::InPlaceModule for RsoHello {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _dev <- {
                HELLO.register()?;
                pr_info!("registered struct_ops type hello_ops\n");
                trigger::register::<HelloTrigger, NR_FIELDS>()
            },
        })
    }
}
