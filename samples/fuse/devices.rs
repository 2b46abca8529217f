// SPDX-License-Identifier: GPL-2.0

//! The module's devices: `/dev/rso_fuse` for clients (and the benchmark) and
//! `/dev/rso_fuse_daemon` for the daemons.

use crate::{
    conn::Conn,
    conn_name,
    fuse_h::*,
    request::{
        bench,
        request, //
    },
};
use kernel::{
    fs::File,
    ioctl::{
        _IO,
        _IOR,
        _IOW,
        _IOWR, //
    },
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
    transmute::{
        AsBytes,
        FromBytes, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

const MAGIC: u32 = RSO_FUSE_IOC_MAGIC as u32;
const IOC_REQUEST: u32 = _IOWR::<rso_fuse_request>(MAGIC, 1);
const IOC_BENCH: u32 = _IOWR::<rso_fuse_bench>(MAGIC, 2);
const IOC_MOUNT: u32 = _IOW::<rso_fuse_mount>(MAGIC, 3);
const IOC_READ_REQ: u32 = _IOR::<rso_fuse_dreq>(MAGIC, 4);
const IOC_REPLY: u32 = _IOW::<rso_fuse_dreply>(MAGIC, 5);
const IOC_ABORT: u32 = _IO(MAGIC, 6);

/// Reads a `T` from userspace at `arg`, and gives `f` a chance to answer in place.
fn in_out<T: FromBytes + AsBytes>(
    arg: usize,
    write_back: bool,
    f: impl FnOnce(&mut T) -> Result,
) -> Result<isize> {
    let size = core::mem::size_of::<T>();
    let (mut reader, mut writer) = UserSlice::new(UserPtr::from_addr(arg), size).reader_writer();
    let mut v: T = reader.read()?;
    f(&mut v)?;
    if write_back {
        writer.write(&v)?;
    }
    Ok(0)
}

/// `/dev/rso_fuse`: clients' requests, and the benchmark's loops.
pub(crate) struct ClientDev;

#[vtable]
impl MiscDevice for ClientDev {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::pin(ClientDev, GFP_KERNEL)?)
    }

    fn ioctl(_me: Pin<&Self>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            // A failed request writes nothing back: its errno is the answer.
            IOC_REQUEST => in_out::<rso_fuse_request>(arg, true, request),
            IOC_BENCH => in_out::<rso_fuse_bench>(arg, true, bench),
            _ => Err(ENOTTY),
        }
    }
}

/// `/dev/rso_fuse_daemon`: one open file serves one connection.
#[pin_data]
pub(crate) struct DaemonDev {
    #[pin]
    conn: Mutex<Option<Arc<Conn>>>,
}

impl DaemonDev {
    fn conn(&self) -> Result<Arc<Conn>> {
        self.conn.lock().clone().ok_or(ENOTCONN)
    }

    fn mount(&self, m: &mut rso_fuse_mount) -> Result {
        let name = conn_name(&m.conn)?;
        let mut mine = self.conn.lock();
        if mine.is_some() {
            return Err(EBUSY);
        }
        let conn = Conn::new(name)?;
        Conn::mount(&conn)?;
        *mine = Some(conn);
        Ok(())
    }

    /// The daemon is gone (its file closed, or `RSO_FUSE_IOC_ABORT`): the connection goes, and
    /// every request waiting on it fails with `ENOTCONN`.
    fn unmount(&self) {
        let Some(conn) = self.conn.lock().take() else {
            return;
        };
        Conn::unmount(&conn);
    }

    /// `RSO_FUSE_IOC_READ_REQ`: the next request, written to the daemon's buffer at `arg`. A
    /// request the daemon cannot take (a bad buffer) fails with `EIO` for its caller.
    fn read_req(&self, arg: usize) -> Result<isize> {
        let conn = self.conn()?;
        let q = conn.next()?;
        let size = core::mem::size_of::<rso_fuse_dreq>();
        let written = UserSlice::new(UserPtr::from_addr(arg), size)
            .writer()
            .write(&q);
        if let Err(e) = written {
            conn.fail(q.unique);
            return Err(e);
        }
        Ok(0)
    }
}

#[vtable]
impl MiscDevice for DaemonDev {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        KBox::try_pin_init(
            try_pin_init!(DaemonDev {
                conn <- new_mutex!(None),
            }),
            GFP_KERNEL,
        )
    }

    fn release(me: Pin<KBox<Self>>, _file: &File) {
        me.unmount();
    }

    fn ioctl(me: Pin<&Self>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            IOC_MOUNT => in_out::<rso_fuse_mount>(arg, false, |m| me.mount(m)),
            IOC_READ_REQ => me.read_req(arg),
            IOC_REPLY => in_out::<rso_fuse_dreply>(arg, false, |r| me.conn()?.reply(r)),
            IOC_ABORT => {
                me.unmount();
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }
}
