// SPDX-License-Identifier: GPL-2.0

//! The call device of a struct_ops type: how userspace asks a module to call the ops of an
//! attached instance (the samples' and the tests' trigger).
//!
//! The protocol is `rust/rso_call.h`: one ioctl, `RSO_IOC_CALL(struct rso_<x>_call)`, whose
//! argument starts with `struct rso_call_hdr`. The layer reads the request, answers
//! `RSO_CALL_COUNT`, looks the instance up by map id (0 for any: [`StructOpsType::first`]),
//! fails with `ENOENT` when there is none and with `EOPNOTSUPP` when the module's dispatch says
//! the op is not implemented, and writes back the return value and the map id. The module
//! writes only its per-op dispatch, [`CallDevice::call`].
//!
//! [`StructOpsType::first`]: super::StructOpsType::first
//!
//! # Examples
//!
//! ```ignore
//! impl CallDevice for HelloOps {
//!     type Call = rso_hello_call;
//!     const NAME: &'static CStr = c"rso_hello";
//!
//!     fn call(inst: &Instance<Self>, op: u32, c: &mut rso_hello_call) -> Result<Option<i64>> {
//!         Ok(match op {
//!             RSO_HELLO_OP_ADD => inst.ops().add(c.a.try_into()?, c.b.try_into()?).map(i64::from),
//!             _ => return Err(EINVAL),
//!         })
//!     }
//! }
//!
//! // In the module's pinned state: `dev <- register_call_device::<HelloOps>()`, or the whole
//! // module: `struct_ops_module! { type: CallDeviceModule<HelloOps>, ... }`.
//! ```

use super::{
    instance::Instance,
    module::{
        ModuleInit,
        StructOpsModule, //
    },
    DeclaredType,
    OpsTable,
    StructOps, //
};
use core::marker::PhantomData;
use kernel::{
    fs::File,
    ioctl::_IOWR,
    miscdevice::{
        MiscDevice,
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
    transmute::{
        AsBytes,
        FromBytes, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// `RSO_IOC_MAGIC` of `rust/rso_call.h`.
const RSO_IOC_MAGIC: u32 = b'R' as u32;
/// `RSO_CALL_COUNT` of `rust/rso_call.h`.
const RSO_CALL_COUNT: u32 = 0;

/// A request struct `rso_<x>_call`: `struct rso_call_hdr hdr` and the module's own fields. The
/// generator implements it (and `FromBytes`, `AsBytes`) for every such struct of a header.
pub trait CallArg: FromBytes + AsBytes + Sized {
    /// `(hdr.map_id, hdr.op, hdr.pad)`.
    fn request(&self) -> (u32, u32, u32);
    /// Sets `hdr.ret` and `hdr.id`.
    fn reply(&mut self, ret: i64, id: u32);
}

/// A struct_ops type with a call device.
pub(crate) trait CallDevice: StructOps {
    /// The request struct, from the type's header.
    type Call: CallArg;
    /// The device's name: `/dev/<NAME>`.
    const NAME: &'static CStr;

    /// Calls op `op` (the header's numbering) of `inst` with the fields of `call`, and may set
    /// the module's output fields. `Ok(None)`: the instance does not implement the op.
    fn call(inst: &Instance<Self>, op: u32, call: &mut Self::Call) -> Result<Option<i64>>;
}

/// The misc device of a [`CallDevice`].
pub(crate) struct CallDev<T>(PhantomData<fn() -> T>);

/// Registers the call device of `T`.
pub(crate) fn register_call_device<T: CallDevice>(
) -> impl PinInit<MiscDeviceRegistration<CallDev<T>>, Error> {
    MiscDeviceRegistration::register(MiscDeviceOptions { name: T::NAME })
}

/// A module whose state is the call device of one type, `T`: its init registers `T` and the
/// device. `struct_ops_module! { type: CallDeviceModule<FooOps>, ... }` needs no module type of
/// its own.
#[pin_data]
pub(crate) struct CallDeviceModule<T: CallDevice> {
    #[pin]
    _dev: MiscDeviceRegistration<CallDev<T>>,
}

impl<T: CallDevice> StructOpsModule for CallDeviceModule<T> {
    fn init(_module: &'static ThisModule, init: &ModuleInit) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _dev <- {
                T::type_static().register(init)?;
                pr_info!("registered struct_ops type {}\n", T::Ops::NAME);
                register_call_device::<T>()
            },
        })
    }
}

/// Handles one request, in place.
fn handle<T: CallDevice>(call: &mut T::Call) -> Result {
    let (map_id, op, pad) = call.request();
    if pad != 0 {
        return Err(EINVAL);
    }
    let ty = T::type_static();
    if op == RSO_CALL_COUNT {
        call.reply(ty.count() as i64, 0);
        return Ok(());
    }
    let inst = match map_id {
        0 => ty.first(),
        id => ty.get(id),
    }
    .ok_or(ENOENT)?;
    let ret = T::call(&inst, op, call)?.ok_or(EOPNOTSUPP)?;
    call.reply(ret, inst.id());
    Ok(())
}

#[vtable]
impl<T: CallDevice> MiscDevice for CallDev<T> {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::pin(CallDev(PhantomData), GFP_KERNEL)?)
    }

    fn ioctl(_me: Pin<&Self>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        if cmd != _IOWR::<T::Call>(RSO_IOC_MAGIC, 1) {
            return Err(ENOTTY);
        }
        let size = core::mem::size_of::<T::Call>();
        let (mut reader, mut writer) =
            UserSlice::new(UserPtr::from_addr(arg), size).reader_writer();
        let mut call: T::Call = reader.read()?;
        handle::<T>(&mut call)?;
        writer.write(&call)?;
        Ok(0)
    }
}
