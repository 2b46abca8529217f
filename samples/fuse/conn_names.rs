// SPDX-License-Identifier: GPL-2.0

//! The names of `/dev/rso_fuse` connections bound to `fuse_ops` instances, which `reg`, `unreg`
//! and `update` keep, and the lookup of a request's instance. (Real FUSE connections are not
//! named: `real.rs` attaches a filter to the connection itself.)

use crate::{
    struct_ops::{
        InstanceRef,
        StaticMutex, //
    },
    ConnName,
    FuseOps,
    FUSE, //
};
use kernel::prelude::*;

/// One binding: a connection name, the map id of the instance bound to it, and the number of
/// attachments (links) of that instance.
#[derive(Clone, Copy)]
struct Bound {
    conn: ConnName,
    id: u32,
    links: usize,
}

/// The binding table: names hashed into buckets, at most one binding per bucket on average, so
/// that a lookup costs the same with 1 or 10,000 bound connections.
///
/// # Invariants
///
/// `buckets.len()` is 0 or a power of two, every binding is in the bucket its name hashes to,
/// no name is bound twice, and `len` is the number of bindings.
pub(crate) struct NameTable {
    buckets: KVec<KVec<Bound>>,
    len: usize,
}

/// The names bound in the module, initialised in its init.
pub(crate) static CONN_NAMES: StaticMutex<NameTable> = StaticMutex::new(NameTable::new());

impl NameTable {
    const fn new() -> Self {
        Self {
            buckets: KVec::new(),
            len: 0,
        }
    }

    /// FNV-1a of the name.
    fn hash(conn: &ConnName) -> usize {
        conn.iter().fold(0x811c_9dc5u32, |h, &b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        }) as usize
    }

    /// The index of the bucket `conn` belongs in, with `n` buckets (a power of two).
    fn slot(conn: &ConnName, n: usize) -> usize {
        Self::hash(conn) & n.wrapping_sub(1)
    }

    fn get(&self, conn: &ConnName) -> Option<&Bound> {
        let bucket = self.buckets.get(Self::slot(conn, self.buckets.len()))?;
        bucket.iter().find(|b| b.conn == *conn)
    }

    fn get_mut(&mut self, conn: &ConnName) -> Option<&mut Bound> {
        let slot = Self::slot(conn, self.buckets.len());
        let bucket = self.buckets.get_mut(slot)?;
        bucket.iter_mut().find(|b| b.conn == *conn)
    }

    /// Binds `b.conn`, which the caller found unbound. On error no binding changed (the table
    /// may have grown).
    fn insert(&mut self, b: Bound) -> Result {
        if self.len >= self.buckets.len() {
            self.grow()?;
        }
        let slot = Self::slot(&b.conn, self.buckets.len());
        self.buckets
            .get_mut(slot)
            .ok_or(ENOMEM)?
            .push(b, GFP_KERNEL)?;
        self.len += 1;
        Ok(())
    }

    /// Unbinds `conn`, if bound.
    fn remove(&mut self, conn: &ConnName) {
        let slot = Self::slot(conn, self.buckets.len());
        if let Some(bucket) = self.buckets.get_mut(slot) {
            if let Some(i) = bucket.iter().position(|b| b.conn == *conn) {
                if bucket.remove(i).is_ok() {
                    self.len -= 1;
                }
            }
        }
    }

    /// Doubles the buckets. The bindings are copied into the new table, which replaces the old
    /// one only when every copy is in place, so on error nothing changed.
    fn grow(&mut self) -> Result {
        let n = self.buckets.len().checked_mul(2).ok_or(ENOMEM)?.max(16);
        let mut buckets = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            buckets.push(KVec::new(), GFP_KERNEL)?;
        }
        for &b in self.buckets.iter().flat_map(|bucket| bucket.iter()) {
            let bucket: &mut KVec<Bound> = buckets.get_mut(Self::slot(&b.conn, n)).ok_or(ENOMEM)?;
            bucket.push(b, GFP_KERNEL)?;
        }
        self.buckets = buckets;
        Ok(())
    }
}

/// Binds `conn` to the instance of map `id` (`reg`): one more link when it is bound to it
/// already, `EEXIST` when it is bound to another instance.
pub(crate) fn bind(conn: &ConnName, id: u32) -> Result {
    let mut bindings = CONN_NAMES.lock()?;
    match bindings.get_mut(conn) {
        Some(b) if b.id == id => b.links += 1,
        Some(_) => {
            pr_warn!("fuse_ops: the connection is bound to another instance\n");
            return Err(EEXIST);
        }
        None => bindings.insert(Bound {
            conn: *conn,
            id,
            links: 1,
        })?,
    }
    Ok(())
}

/// One link less of the instance of map `id` on `conn` (`unreg`); the last one unbinds it.
pub(crate) fn unbind(conn: &ConnName, id: u32) {
    let Ok(mut bindings) = CONN_NAMES.lock() else {
        return;
    };
    if let Some(b) = bindings.get_mut(conn) {
        if b.id == id {
            b.links -= 1;
            if b.links == 0 {
                bindings.remove(conn);
            }
        }
    }
}

/// Moves the binding of `conn` to the instance of map `id` (`update`): `EBUSY` when the old
/// instance has other links.
pub(crate) fn rebind(conn: &ConnName, id: u32) -> Result {
    let mut bindings = CONN_NAMES.lock()?;
    let b = bindings.get_mut(conn).ok_or(ENOENT)?;
    if b.links != 1 {
        return Err(EBUSY);
    }
    b.id = id;
    Ok(())
}

/// The instance bound to `conn`, with a reference that keeps it alive.
pub(crate) fn lookup(conn: &ConnName) -> Option<InstanceRef<FuseOps>> {
    // The guard is dropped at the end of the statement: the registry is not read under it.
    let id = CONN_NAMES.lock().ok()?.get(conn)?.id;
    FUSE.get(id)
}

/// Frees the table (the module's exit).
pub(crate) fn clear() {
    if let Ok(mut bindings) = CONN_NAMES.lock() {
        *bindings = NameTable::new();
    }
}
