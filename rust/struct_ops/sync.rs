// SPDX-License-Identifier: GPL-2.0

//! A mutex that lives in a `static` and is initialised from the module's init.
//!
//! The struct_ops callbacks ([`StructOps`](super::StructOps)) are functions without a `self`,
//! so state they share with the module's devices lives in statics. `kernel::sync::Mutex` must be
//! pinned and initialised in place, so it cannot be a `static`'s value, and `global_lock!` needs
//! an `unsafe` init. [`StaticMutex`] is made in a constant expression and initialised with the
//! module's [`ModuleInit`]; [`StaticMutex::lock`] fails safely until then.
//!
//! A `static` is never dropped: the module's exit must empty the value (through
//! [`StaticMutex::lock`]) if it holds allocations, or kmemleak reports them once the module is
//! gone.

use super::module::ModuleInit;
use core::{
    cell::UnsafeCell,
    marker::PhantomData,
    ops::{
        Deref,
        DerefMut, //
    },
    sync::atomic::{
        AtomicU8,
        Ordering, //
    },
};
use kernel::{
    bindings,
    prelude::*,
    sync::LockClassKey,
    types::Opaque, //
};

const NEW: u8 = 0;
const INITIALISING: u8 = 1;
const READY: u8 = 2;

/// A mutex in a `static`, initialised by [`StaticMutex::init`] in the module's init.
///
/// # Invariants
///
/// Once `state` is `READY`, `mutex` is an initialised kernel mutex that never moves (the value
/// is a `static`: `init` takes `&'static self`), and `data` is accessed only by the holder of
/// `mutex`.
pub struct StaticMutex<T> {
    state: AtomicU8,
    mutex: Opaque<bindings::mutex>,
    data: UnsafeCell<T>,
}

// SAFETY: `data` is accessed only under the mutex, by one thread at a time, so sharing the
// `StaticMutex` moves `T` between threads at most: `T: Send` is enough.
unsafe impl<T: Send> Sync for StaticMutex<T> {}
// SAFETY: As above; the mutex holds no thread-bound state when the value moves (it is unlocked).
unsafe impl<T: Send> Send for StaticMutex<T> {}

impl<T> StaticMutex<T> {
    /// A mutex over `data`, not initialised yet: [`Self::lock`] fails until [`Self::init`].
    pub const fn new(data: T) -> Self {
        Self {
            state: AtomicU8::new(NEW),
            mutex: Opaque::zeroed(),
            data: UnsafeCell::new(data),
        }
    }

    /// Initialises the mutex, named `name` for lockdep, in the lock class `key` (give each
    /// static its own: `kernel::static_lock_class!()`). `init` proves that the module's init is
    /// running; `EBUSY` on a second call.
    pub fn init(
        &'static self,
        init: &ModuleInit,
        name: &'static CStr,
        key: Pin<&'static LockClassKey>,
    ) -> Result {
        let _ = init;
        if self
            .state
            .compare_exchange(NEW, INITIALISING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(EBUSY);
        }
        // SAFETY: Only this call left `NEW`, so nothing else accesses `mutex` yet; it lives in a
        // static (`&'static self`) and never moves; `name` and `key` are static too.
        unsafe { bindings::__mutex_init(self.mutex.get(), name.as_char_ptr(), key.as_ptr()) };
        // INVARIANT: The mutex is initialised, and published by this release store.
        self.state.store(READY, Ordering::Release);
        Ok(())
    }

    /// Locks the mutex (it may sleep): `ENODEV` before [`Self::init`].
    pub fn lock(&self) -> Result<StaticMutexGuard<'_, T>> {
        if self.state.load(Ordering::Acquire) != READY {
            return Err(ENODEV);
        }
        // SAFETY: By the type invariants `mutex` is initialised (the acquire load pairs with the
        // release store of `init`) and never moves.
        unsafe { bindings::mutex_lock(self.mutex.get()) };
        // INVARIANT: The guard holds the mutex until it is dropped.
        Ok(StaticMutexGuard {
            lock: self,
            _not_send: PhantomData,
        })
    }
}

/// The holder of a [`StaticMutex`]: the value, until it is dropped.
///
/// # Invariants
///
/// The calling thread holds `lock.mutex` for as long as the guard lives (it is not `Send`: a
/// kernel mutex is unlocked by its owner).
pub struct StaticMutexGuard<'a, T> {
    lock: &'a StaticMutex<T>,
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for StaticMutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: By the type invariants this thread holds the mutex, so nothing else accesses
        // `data` while the borrow of the guard lasts.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for StaticMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: As in `deref`; the guard is borrowed exclusively.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for StaticMutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants this thread holds the mutex, which is initialised.
        unsafe { bindings::mutex_unlock(self.lock.mutex.get()) };
    }
}
