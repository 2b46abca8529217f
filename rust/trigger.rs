// SPDX-License-Identifier: GPL-2.0

//! A misc device through which userspace asks a module to call its struct_ops: how the samples
//! and tests trigger calls at any time after attach.
//!
//! The device has one ioctl, `_IOWR(MAGIC, NR, __s64[N])`: the module's handler reads the array
//! and fills in its outputs. The type's C header defines `MAGIC`, `NR` and the meaning of each
//! element, so userspace, the module and the header agree.
//!
//! # Examples
//!
//! ```ignore
//! struct HelloTrigger;
//!
//! impl Trigger<NR_FIELDS> for HelloTrigger {
//!     const NAME: &'static CStr = c"rso_hello";
//!     const MAGIC: u32 = RSO_HELLO_IOC_MAGIC as u32;
//!     const NR: u32 = RSO_HELLO_IOC_NR;
//!
//!     fn handle(v: &mut [i64; NR_FIELDS]) -> Result {
//!         v[RET] = 42;
//!         Ok(())
//!     }
//! }
//!
//! // In the module's pinned state: `dev <- trigger::register::<HelloTrigger, NR_FIELDS>()`.
//! ```

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
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// What a module does on the ioctl of its trigger device, whose argument is `[i64; N]`.
pub(crate) trait Trigger<const N: usize>: 'static {
    /// The device's name: `/dev/<NAME>`.
    const NAME: &'static CStr;
    /// The ioctl's type (`_IOC_TYPE`).
    const MAGIC: u32;
    /// The ioctl's number (`_IOC_NR`).
    const NR: u32;

    /// Handles one ioctl: reads the inputs in `v` and writes the outputs to it. On an error,
    /// nothing is written back.
    fn handle(v: &mut [i64; N]) -> Result;
}

/// The misc device of a [`Trigger`].
pub(crate) struct TriggerDev<T, const N: usize>(PhantomData<fn() -> T>);

/// Registers the trigger device of `T`.
pub(crate) fn register<T: Trigger<N>, const N: usize>(
) -> impl PinInit<MiscDeviceRegistration<TriggerDev<T, N>>, Error> {
    MiscDeviceRegistration::register(MiscDeviceOptions { name: T::NAME })
}

#[vtable]
impl<T: Trigger<N>, const N: usize> MiscDevice for TriggerDev<T, N> {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::pin(TriggerDev(PhantomData), GFP_KERNEL)?)
    }

    fn ioctl(_me: Pin<&Self>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        if cmd != _IOWR::<[i64; N]>(T::MAGIC, T::NR) {
            return Err(ENOTTY);
        }
        let size = core::mem::size_of::<[i64; N]>();
        let (mut reader, mut writer) =
            UserSlice::new(UserPtr::from_addr(arg), size).reader_writer();
        let mut v: [i64; N] = reader.read()?;
        T::handle(&mut v)?;
        writer.write(&v)?;
        Ok(0)
    }
}
