// SPDX-License-Identifier: GPL-2.0

//! A connection served by a daemon: the requests it has not read, the ones it read, and the
//! answers their callers have not collected yet.

use crate::{
    fuse_h::*,
    kfuncs::CallReq,
    struct_ops::StaticMutex,
    ConnName,
    DATA_MAX,
    QUEUE_MAX, //
};
use kernel::{
    new_condvar, new_mutex,
    prelude::*,
    sync::{
        Arc,
        CondVar,
        Mutex, //
    },
};

/// The connections the daemons mounted, initialised in the module's init.
pub(crate) static CONNS: StaticMutex<KVec<Arc<Conn>>> = StaticMutex::new(KVec::new());

/// A reply from the daemon, with its data inline: taking it allocates nothing.
pub(crate) struct Reply {
    pub(crate) out: rso_fuse_out,
    data: [u8; DATA_MAX],
    len: usize,
}

impl Reply {
    /// The reply's data (READ).
    pub(crate) fn data(&self) -> &[u8] {
        self.data.get(..self.len).unwrap_or(&[])
    }
}

/// What a connection holds.
///
/// # Invariants
///
/// Every request is in at most one of `queue`, `sent` and `done`, and room for the moves ahead
/// is allocated when a request is queued:
///
/// - `sent.capacity() >= sent.len() + queue.len()`: a request the daemon reads moves to `sent`
///   without allocating;
/// - `done.capacity() >= done.len() + sent.len() + queue.len()`: an answer (a reply, or the
///   failure of a request the daemon could not take) moves to `done` without allocating.
struct ConnState {
    alive: bool,
    next_unique: u64,
    queue: KVec<rso_fuse_dreq>,
    /// `(unique, opcode, size)` of each request the daemon read.
    sent: KVec<(u64, u32, u32)>,
    done: KVec<(u64, Result<Reply>)>,
}

impl ConnState {
    fn outstanding(&self) -> usize {
        self.queue.len() + self.sent.len()
    }

    /// Queues `dreq`, with room for its moves to `sent` and `done`.
    fn queue(&mut self, dreq: rso_fuse_dreq) -> Result {
        // Room first: on error nothing was queued (the capacity only grew).
        self.sent.reserve(self.queue.len() + 1, GFP_KERNEL)?;
        self.done
            .reserve(self.queue.len() + self.sent.len() + 1, GFP_KERNEL)?;
        // INVARIANT: Both capacities cover the new request.
        self.queue.push(dreq, GFP_KERNEL)?;
        Ok(())
    }

    /// The next request for the daemon, now recorded as sent.
    fn take(&mut self) -> Option<rso_fuse_dreq> {
        if self.queue.is_empty() {
            return None;
        }
        let q = self.queue.remove(0).ok()?;
        // By the type invariants `sent` has room: this cannot fail, and the moved request keeps
        // both invariants.
        if self
            .sent
            .push_within_capacity((q.unique, q.opcode, q.size))
            .is_err()
        {
            pr_err!("rso_fuse: no room in sent: request {} fails\n", q.unique);
            // Its caller gets ENOTCONN from abort, or gives up on a signal.
            return None;
        }
        Some(q)
    }

    /// Answers the sent request `unique`: `false` when no such request was sent.
    fn answer(&mut self, unique: u64, answer: Result<Reply>) -> bool {
        let Some(i) = self.sent.iter().position(|s| s.0 == unique) else {
            return false;
        };
        if self.sent.remove(i).is_err() {
            return false;
        }
        // By the type invariants `done` has room for every request that was sent: this cannot
        // fail.
        if self.done.push_within_capacity((unique, answer)).is_err() {
            pr_err!("rso_fuse: no room in done: request {} is lost\n", unique);
        }
        true
    }

    /// Forgets request `unique` (its caller gave up waiting).
    fn forget(&mut self, unique: u64) {
        self.queue.retain(|q| q.unique != unique);
        self.sent.retain(|s| s.0 != unique);
        self.done.retain(|d| d.0 != unique);
    }
}

/// A connection served by a daemon.
#[pin_data]
pub(crate) struct Conn {
    name: ConnName,
    #[pin]
    state: Mutex<ConnState>,
    /// The daemon's readers wait here for requests.
    #[pin]
    to_daemon: CondVar,
    /// Callers wait here for replies.
    #[pin]
    replied: CondVar,
}

impl Conn {
    /// A new connection named `name`.
    pub(crate) fn new(name: ConnName) -> Result<Arc<Conn>> {
        Arc::pin_init(
            pin_init!(Conn {
                name,
                state <- new_mutex!(ConnState {
                    alive: true,
                    next_unique: 1,
                    queue: KVec::new(),
                    sent: KVec::new(),
                    done: KVec::new(),
                }),
                to_daemon <- new_condvar!(),
                replied <- new_condvar!(),
            }),
            GFP_KERNEL,
        )
    }

    /// The mounted connection named `name`.
    pub(crate) fn find(name: &ConnName) -> Option<Arc<Conn>> {
        CONNS.lock().ok()?.iter().find(|c| &c.name == name).cloned()
    }

    /// Mounts `conn`: `EEXIST` when a connection of its name is mounted.
    pub(crate) fn mount(conn: &Arc<Conn>) -> Result {
        let mut conns = CONNS.lock()?;
        if conns.iter().any(|c| c.name == conn.name) {
            return Err(EEXIST);
        }
        conns.push(conn.clone(), GFP_KERNEL)?;
        Ok(())
    }

    /// Unmounts the connection: it leaves `CONNS`, and every request waiting on it fails with
    /// `ENOTCONN`.
    pub(crate) fn unmount(conn: &Arc<Conn>) {
        if let Ok(mut conns) = CONNS.lock() {
            conns.retain(|c| !Arc::ptr_eq(c, conn));
        }
        conn.abort();
    }

    /// Sends `r` to the daemon and waits for its reply.
    pub(crate) fn call(&self, r: &CallReq, in_args: &rso_fuse_in) -> Result<Reply> {
        let name = r.data().name();
        let mut dreq = rso_fuse_dreq {
            nodeid: in_args.nodeid,
            offset: in_args.offset,
            opcode: r.req().opcode,
            size: in_args.size,
            namelen: name.len() as u32,
            ..Default::default()
        };
        dreq.name
            .get_mut(..name.len())
            .ok_or(EINVAL)?
            .copy_from_slice(name);
        let len = r.data().copy_to(&mut dreq.data).map_err(|_| EINVAL)?;
        if r.req().opcode == RSO_FUSE_WRITE {
            dreq.size = len as u32;
        }
        let mut st = self.state.lock();
        if !st.alive {
            return Err(ENOTCONN);
        }
        if st.outstanding() >= QUEUE_MAX {
            return Err(EAGAIN);
        }
        let unique = st.next_unique;
        st.next_unique += 1;
        dreq.unique = unique;
        st.queue(dreq)?;
        // One reader is enough: a reader that a notification woke takes a queued request before
        // it looks at its signals (`next`), so the wakeup is never lost to an `EINTR`.
        self.to_daemon.notify_one();
        loop {
            if let Some(i) = st.done.iter().position(|d| d.0 == unique) {
                return st.done.remove(i).map_err(|_| EINVAL)?.1;
            }
            if !st.alive {
                st.forget(unique);
                return Err(ENOTCONN);
            }
            if self.replied.wait_interruptible(&mut st) {
                st.forget(unique);
                return Err(EINTR);
            }
        }
    }

    /// The daemon's next request; waits for one. A reader woken with a request queued takes it
    /// even when a signal is pending (the signal is handled when the ioctl returns): a
    /// notification goes to one reader, and a reader that returned `EINTR` instead would leave
    /// the request queued while the others sleep.
    pub(crate) fn next(&self) -> Result<rso_fuse_dreq> {
        let mut st = self.state.lock();
        let mut interrupted = false;
        loop {
            if !st.alive {
                return Err(ENOTCONN);
            }
            if let Some(q) = st.take() {
                return Ok(q);
            }
            if interrupted {
                return Err(EINTR);
            }
            interrupted = self.to_daemon.wait_interruptible(&mut st);
        }
    }

    /// The daemon's reply `rep`. A malformed reply fails the request with `EIO` and the daemon's
    /// call with `EINVAL`; a reply to no waiting request fails with `ENOENT`.
    pub(crate) fn reply(&self, rep: &rso_fuse_dreply) -> Result {
        let mut st = self.state.lock();
        let &(unique, opcode, size) = st.sent.iter().find(|s| s.0 == rep.unique).ok_or(ENOENT)?;
        let count = rep.out.count as usize;
        let bad = rep.error > 0
            || rep.error < -4095
            || rep.pad != 0
            || (rep.error == 0
                && (count > DATA_MAX || (opcode == RSO_FUSE_READ && count > size as usize)));
        let answer = if bad {
            Err(EIO)
        } else if rep.error < 0 {
            Err(Error::from_errno(rep.error))
        } else {
            let len = if opcode == RSO_FUSE_READ { count } else { 0 };
            let out = rso_fuse_out {
                nodeid: rep.out.nodeid,
                size: rep.out.size,
                mode: rep.out.mode,
                count: rep.out.count,
                ..Default::default()
            };
            Ok(Reply {
                out,
                data: rep.data,
                len,
            })
        };
        // Nothing allocates: the request moves from sent to done.
        st.answer(unique, answer);
        self.replied.notify_all();
        if bad {
            pr_info!(
                "rso_fuse: malformed reply to request {}: the request fails with EIO\n",
                unique
            );
            return Err(EINVAL);
        }
        Ok(())
    }

    /// Fails request `unique`, which the daemon read but could not take (a bad buffer), so that
    /// its caller does not wait for a reply that cannot come. It allocates nothing, so it
    /// cannot fail: the room in `done` was allocated when the request was queued.
    pub(crate) fn fail(&self, unique: u64) {
        let mut st = self.state.lock();
        if st.answer(unique, Err(EIO)) {
            self.replied.notify_all();
        }
    }

    /// The daemon is gone: every waiting request fails with `ENOTCONN`.
    fn abort(&self) {
        let mut st = self.state.lock();
        st.alive = false;
        st.queue.clear();
        st.sent.clear();
        self.replied.notify_all();
        self.to_daemon.notify_all();
    }
}

/// Frees the list of connections (the module's exit: no daemon file is open).
pub(crate) fn clear() {
    if let Ok(mut conns) = CONNS.lock() {
        *conns = KVec::new();
    }
}
