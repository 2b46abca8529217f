// SPDX-License-Identifier: GPL-2.0

//! The registration of a struct_ops type, and the registry of its attached instances.

use super::{
    adapter::Adapter,
    instance::{
        Instance,
        InstanceRef, //
    },
    module::ModuleInit,
    DeclaredType,
    OpsKfuncs,
    OpsTable,
    StructOps, //
};
use core::{
    ffi::c_void,
    marker::PhantomData,
    ptr::NonNull,
    sync::atomic::{
        fence,
        AtomicPtr,
        AtomicU64,
        AtomicU8,
        AtomicUsize,
        Ordering, //
    },
};
use kernel::{
    bindings,
    error::to_result,
    module::this_module,
    prelude::*,
    sync::rcu,
    types::Opaque, //
};

/// How many distinct structs programs of one type may write (`rust/rsogen.py` refuses more).
const WRITABLE_MAX: usize = 8;

/// How often [`StructOpsType::first`] scans again when the registry changed under a scan that
/// found nothing.
const FIRST_RETRIES: usize = 16;

const STATE_NEW: u8 = 0;
const STATE_CLAIMED: u8 = 1;
const STATE_READY: u8 = 2;
const STATE_INIT_RAN: u8 = 3;
const STATE_REGISTERED: u8 = 4;

/// The most types one module registers (checked by [`StructOpsType::register`]).
const TYPES_MAX: usize = 16;

/// The names of the types this module registered (each module compiles its own copy of the
/// layer, so this is per module), written only from the module's init (a [`ModuleInit`]).
static NAMES: [AtomicPtr<u8>; TYPES_MAX] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; TYPES_MAX];

unsafe extern "C" {
    // `rust/rso_helpers.c`: the xarray calls the Rust bindings lack (`xa_reserve()`,
    // `xa_release()`, `xa_mk_value()`, `xa_to_value()` are static inlines).
    fn rso_xa_reserve(xa: *mut bindings::xarray, index: usize) -> kernel::ffi::c_int;
    fn rso_xa_release(xa: *mut bindings::xarray, index: usize);
    fn rso_xa_mk_value(v: usize) -> *mut c_void;
    fn rso_xa_to_value(entry: *const c_void) -> usize;
}

/// `xa_mk_value()`.
fn xa_value(n: usize) -> *mut c_void {
    // SAFETY: The C helper only computes a value.
    unsafe { rso_xa_mk_value(n) }
}

/// `xa_to_value()` of an entry known to be a value (or NULL, which reads as 0).
fn xa_to_value(entry: *mut c_void) -> usize {
    // SAFETY: The C helper only computes a value.
    unsafe { rso_xa_to_value(entry) }
}

/// The registration of a struct_ops type, and the registry of its attached instances.
///
/// It lives in a `static` declared by [`declare_struct_ops!`]: the BPF core writes into the
/// `struct bpf_struct_ops` (its `func_models`) and keeps its address for as long as the module's
/// BTF exists, and there is no call to unregister a type, so its storage must last as long as the
/// module and never move.
///
/// The registry is two xarrays indexed by map id (small integers, so the trees stay shallow):
/// `instances` holds the attached instance of each map, `counts` its number of attachments
/// (links, or 1 for a map without `BPF_F_LINK`), since one map can back several links and
/// `reg`/`unreg` run once per link.
///
/// They are raw `struct xarray`s, not `kernel::xarray::XArray`: lookups run from any context
/// (IRQs included) under RCU alone (`xa_load()`, `xa_find()`), which that abstraction does not
/// offer (it reads under its spinlock), and the entries are borrowed pointers into BPF maps, not
/// `ForeignOwnable` values the xarray would own.
///
/// Concurrency: writers (`reg`, `unreg`, `update`) are serialised by `writer`, a mutex. Lookups
/// take no lock: under RCU they load the entry and take a reference on its map with
/// `bpf_struct_ops_get()`, an increment-if-not-zero. That is sound because a struct_ops map is
/// freed only after an RCU grace period (`synchronize_rcu_mult()` in `bpf_struct_ops_map_free()`),
/// so it works from any context, IRQs included. A lookup that races with the last detach either
/// finds nothing or keeps the map, its trampolines and its programs alive until the returned
/// [`InstanceRef`] is dropped.
///
/// [`declare_struct_ops!`]: crate::declare_struct_ops
///
/// # Invariants
///
/// - Once `state` is `STATE_READY` or later, `instances` and `writer` are initialised.
/// - Once `state` is `STATE_REGISTERED`, `ops` is registered with the BPF core and is never
///   written by Rust again.
/// - An entry of `instances` at index `id` is a pointer to an [`Instance<T>`] whose map has id
///   `id` and is attached at least once; the entry of `counts` at `id` holds the number of
///   attachments.
/// - `generation` is incremented, under the xa lock, after every change of an instance entry,
///   so before the next change is made (see [`StructOpsType::first`]).
pub struct StructOpsType<T: DeclaredType> {
    ops: Opaque<bindings::bpf_struct_ops>,
    instances: Opaque<bindings::xarray>,
    counts: Opaque<bindings::xarray>,
    writer: Opaque<bindings::mutex>,
    state: AtomicU8,
    generation: AtomicUsize,
    /// The module's BTF, from the `init` callback.
    btf: AtomicPtr<bindings::btf>,
    /// The structs programs may write, as the verifier resolved the op arguments that point to
    /// them: `btf_id << 32 | size`, 0 for a free slot.
    writable: [AtomicU64; WRITABLE_MAX],
    _t: PhantomData<T>,
}

// SAFETY: `ops` is written only by `register`, once, guarded by `state`, and afterwards only by
// the BPF core; the registry is written under `writer` and read under RCU.
unsafe impl<T: DeclaredType> Sync for StructOpsType<T> {}
// SAFETY: As above; the type holds no thread-bound data.
unsafe impl<T: DeclaredType> Send for StructOpsType<T> {}

/// The registry's writer lock, held while the guard lives.
struct WriterGuard<'a>(&'a Opaque<bindings::mutex>);

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: The lock was taken in `StructOpsType::write_lock`.
        unsafe { bindings::mutex_unlock(self.0.get()) };
    }
}

impl<T: DeclaredType> StructOpsType<T> {
    /// An unregistered type; use it to initialise the `static` (see `declare_struct_ops!`).
    #[doc(hidden)]
    pub const fn new() -> Self {
        Self {
            ops: Opaque::zeroed(),
            instances: Opaque::zeroed(),
            counts: Opaque::zeroed(),
            writer: Opaque::zeroed(),
            state: AtomicU8::new(STATE_NEW),
            generation: AtomicUsize::new(0),
            btf: AtomicPtr::new(core::ptr::null_mut()),
            writable: [const { AtomicU64::new(0) }; WRITABLE_MAX],
            _t: PhantomData,
        }
    }
}

impl<T: StructOps> StructOpsType<T> {
    /// The registry, once it is initialised.
    fn instances(&self) -> Option<*mut bindings::xarray> {
        // By the type invariants `instances` is initialised once `state` is at least
        // `STATE_READY` (the acquire pairs with the release that published it), and it is never
        // moved nor dropped (a static).
        (self.state.load(Ordering::Acquire) >= STATE_READY).then(|| self.instances.get())
    }

    fn write_lock(&self) -> Result<(WriterGuard<'_>, *mut bindings::xarray)> {
        let xa = self.instances().ok_or(EINVAL)?;
        // SAFETY: `writer` is initialised (`state` is at least `STATE_READY`, see `instances`);
        // writers run in process context.
        unsafe { bindings::mutex_lock(self.writer.get()) };
        Ok((WriterGuard(&self.writer), xa))
    }

    /// Takes a reference on the map of the instance `raw`, an entry read under RCU.
    fn take(raw: *mut c_void) -> Option<InstanceRef<T>> {
        let ptr = NonNull::new(raw.cast::<Instance<T>>())?;
        // SAFETY: By the type invariants an instance entry is the data of a struct_ops map that
        // was attached when it was read under RCU; the map's memory lasts for at least an RCU
        // grace period after its last reference goes, and the caller still holds the RCU read
        // lock, so the increment-if-not-zero reads valid memory.
        if unsafe { bindings::bpf_struct_ops_get(raw) } {
            // SAFETY: `ptr` is the instance whose map we now hold a reference on.
            Some(unsafe { InstanceRef::new(ptr) })
        } else {
            None
        }
    }

    /// The attached instance behind the map with id `id`, or `None`. Usable from any context but NMI (dropping the last reference takes a spinlock).
    pub fn get(&self, id: u32) -> Option<InstanceRef<T>> {
        let xa = self.instances()?;
        let _rcu = rcu::read_lock();
        // SAFETY: `xa` is initialised; `xa_load` may be called under the RCU read lock alone.
        Self::take(unsafe { bindings::xa_load(xa, id as usize) })
    }

    /// Any attached instance (the one with the lowest map id it can take), or `None`. Usable
    /// from any context.
    ///
    /// A scan under RCU is not atomic: while a link update moves the link from map B to map A
    /// (A stored, then B erased), a scan can pass A's slot before the store and reach B's after
    /// the erase, and so find nothing although one instance was attached throughout. Each
    /// change bumps `generation` before the next change is made, so a scan that found nothing
    /// while the registry changed under it is retried, up to [`FIRST_RETRIES`] times (bounded:
    /// this runs in IRQ context too).
    pub fn first(&self) -> Option<InstanceRef<T>> {
        let xa = self.instances()?;
        let max = u32::MAX as usize;
        let present = bindings::XA_PRESENT;
        for _ in 0..FIRST_RETRIES {
            let generation = self.generation.load(Ordering::Acquire);
            {
                let _rcu = rcu::read_lock();
                let mut index = 0usize;
                // SAFETY: `xa` is initialised; `xa_find` may be called under the RCU read lock
                // and skips reserved slots.
                let mut raw = unsafe { bindings::xa_find(xa, &mut index, max, present) };
                while !raw.is_null() {
                    if let Some(inst) = Self::take(raw) {
                        return Some(inst);
                    }
                    // The map was on its way out: look further.
                    // SAFETY: As above.
                    raw = unsafe { bindings::xa_find_after(xa, &mut index, max, present) };
                }
            }
            // The increment of a change is made before the xa lock is dropped, and the next
            // change is made after it is taken again, so every store of the next change is
            // ordered after that increment. The fence orders the slots the scan read before the
            // second read of `generation`: a scan that saw any part of a change sees the
            // increment of the change before it.
            fence(Ordering::Acquire);
            if self.generation.load(Ordering::Relaxed) == generation {
                return None;
            }
        }
        None
    }

    /// The number of attached instances (maps, not links). Usable from any context but NMI (dropping the last reference takes a spinlock).
    pub fn count(&self) -> usize {
        let Some(xa) = self.instances() else {
            return 0;
        };
        let (mut n, mut index, present) = (0, 0usize, bindings::XA_PRESENT);
        let max = u32::MAX as usize;
        // SAFETY: `xa` is initialised; `xa_find` and `xa_find_after` take the RCU read lock.
        let mut raw = unsafe { bindings::xa_find(xa, &mut index, max, present) };
        while !raw.is_null() {
            n += 1;
            // SAFETY: As above.
            raw = unsafe { bindings::xa_find_after(xa, &mut index, max, present) };
        }
        n
    }

    /// The number of attachments of map `id` (links, or 1 without `BPF_F_LINK`).
    pub fn attachments(&self, id: u32) -> usize {
        if self.instances().is_none() {
            return 0;
        }
        // SAFETY: `counts` is initialised (with `instances`); `xa_load` takes the RCU read lock.
        xa_to_value(unsafe { bindings::xa_load(self.counts.get(), id as usize) })
    }

    /// Makes sure both slots of `id` exist, so that storing into them cannot fail. `Ok(true)`
    /// when it reserved them (nothing was stored there).
    ///
    /// # Safety
    ///
    /// `xa` is the registry, and the writer lock is held.
    unsafe fn reserve(&self, xa: *mut bindings::xarray, id: u32) -> Result<bool> {
        // SAFETY: `counts` is initialised with `xa`.
        if !unsafe { bindings::xa_load(self.counts.get(), id as usize) }.is_null() {
            return Ok(false);
        }
        // SAFETY: Both xarrays are initialised; `xa_reserve()` takes their locks.
        to_result(unsafe { rso_xa_reserve(xa, id as usize) })?;
        // SAFETY: As above.
        if let Err(e) = to_result(unsafe { rso_xa_reserve(self.counts.get(), id as usize) }) {
            // SAFETY: As above; nothing was stored in the reserved slot.
            unsafe { rso_xa_release(xa, id as usize) };
            return Err(e);
        }
        Ok(true)
    }

    /// Drops the slots [`Self::reserve`] made for `id`, when nothing was stored in them.
    ///
    /// # Safety
    ///
    /// As for [`Self::reserve`].
    unsafe fn release(&self, xa: *mut bindings::xarray, id: u32) {
        // SAFETY: Both xarrays are initialised; `xa_release()` only drops a reserved slot.
        unsafe {
            rso_xa_release(xa, id as usize);
            rso_xa_release(self.counts.get(), id as usize);
        }
    }

    /// Stores `n` attachments for `inst`, in slots that exist.
    ///
    /// # Safety
    ///
    /// As for [`Self::reserve`], and both slots of `inst`'s id exist (reserved or used).
    unsafe fn set(&self, xa: *mut bindings::xarray, inst: &Instance<T>, n: usize) {
        let (id, counts) = (inst.id() as usize, self.counts.get());
        // SAFETY: Replacing an existing slot allocates nothing, so it cannot fail. The count is
        // written only under the writer lock, which the caller holds; `attachments()` reads it
        // under RCU and sees the old or the new count, whose order with the instance entry does
        // not matter to it.
        unsafe {
            if n == 0 {
                bindings::xa_erase(counts, id);
            } else {
                bindings::xa_store(counts, id, xa_value(n), 0);
            }
            bindings::xa_lock(xa);
            if n == 0 {
                bindings::__xa_erase(xa, id);
            } else {
                // INVARIANT: `inst` is attached `n` times.
                bindings::__xa_store(xa, id, inst.as_raw(), 0);
            }
            // INVARIANT: After the change, before the lock is dropped for the next one.
            self.generation.fetch_add(1, Ordering::Release);
            bindings::xa_unlock(xa);
        }
    }

    /// Records one more attachment of `inst`, after `accept` agreed.
    ///
    /// Nothing can fail once `accept` returned `Ok`: the slots are reserved before.
    pub(super) fn attach_with(
        &self,
        inst: &Instance<T>,
        accept: impl FnOnce() -> Result,
    ) -> Result {
        let (_guard, xa) = self.write_lock()?;
        let id = inst.id();
        // SAFETY: `xa` is the registry and the writer lock is held.
        let reserved = unsafe { self.reserve(xa, id) }?;
        if let Err(e) = accept() {
            if reserved {
                // SAFETY: As above; nothing was stored in the reserved slots.
                unsafe { self.release(xa, id) };
            }
            return Err(e);
        }
        let n = self.attachments(id);
        // SAFETY: As above; both slots exist.
        unsafe { self.set(xa, inst, n + 1) };
        Ok(())
    }

    /// Records one attachment less of `inst`.
    pub(super) fn detach(&self, inst: &Instance<T>) {
        let Ok((_guard, xa)) = self.write_lock() else {
            return;
        };
        let n = self.attachments(inst.id());
        if n == 0 {
            return;
        }
        // SAFETY: `xa` is the registry, the writer lock is held, and both slots exist (`n > 0`).
        unsafe { self.set(xa, inst, n - 1) };
    }

    /// Moves one attachment from `old` to `new`, after `accept` agreed; `new` may be `old`.
    pub(super) fn replace_with(
        &self,
        new: &Instance<T>,
        old: &Instance<T>,
        accept: impl FnOnce() -> Result,
    ) -> Result {
        if new.id() == old.id() {
            return accept();
        }
        self.attach_with(new, accept)?;
        self.detach(old);
        Ok(())
    }

    /// Registers the type with the BPF core. `init` proves that the module's init is running.
    ///
    /// It fails with `EBUSY` on a second call, with `EEXIST` when the module registered another
    /// type of the same name (the generated file of one header included twice), and with
    /// `ENOENT` when the module's BTF does not hold the type, its value type or a stub: the BPF
    /// core reports success when a module has no BTF at all, so this checks that the core really
    /// took the type (it ran the `init` callback) and fails loudly instead.
    ///
    /// Then it registers the kfuncs the type's header declares (`__rso_kfunc`), if any
    /// ([`OpsKfuncs`]): `EBUSY` when the module registered a kfunc set already (one per module).
    pub fn register(&'static self, init: &ModuleInit) -> Result {
        let owner = this_module::<T::OwnerModule>().as_ptr();
        // Only the static `declare_struct_ops!` declared: the callbacks find the registry there.
        if init.module() != owner || !core::ptr::eq(self, T::type_static()) {
            return Err(EINVAL);
        }
        if T::Ops::c_size() != core::mem::size_of::<T::Ops>() {
            pr_err!(
                "struct_ops {}: the C part's struct is {} bytes, the Rust view's {}\n",
                T::Ops::NAME,
                T::Ops::c_size(),
                core::mem::size_of::<T::Ops>()
            );
            return Err(EINVAL);
        }
        if self
            .state
            .compare_exchange(
                STATE_NEW,
                STATE_CLAIMED,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err(EBUSY);
        }
        Self::claim_name()?;
        // SAFETY: `state` left `STATE_NEW` here only, so nothing else accesses the registry yet;
        // the static never moves.
        unsafe {
            bindings::xa_init_flags(self.instances.get(), 0);
            bindings::xa_init_flags(self.counts.get(), 0);
            bindings::__mutex_init(
                self.writer.get(),
                kernel::c_str!("struct_ops_registry").as_char_ptr(),
                kernel::static_lock_class!().as_ptr(),
            );
        }
        // INVARIANT: The registry is initialised, and published by this release store.
        self.state.store(STATE_READY, Ordering::Release);

        let mut table = Adapter::<T>::table();
        table.cfi_stubs = T::Ops::cfi_stubs();
        // SAFETY: Only this call writes `ops`, before the core knows about it.
        unsafe { self.ops.get().write(table) };
        // SAFETY: `ops` is fully initialised and lives in a static (never moves, lives as long
        // as the module); `init` proves the module's init is running.
        let ret = unsafe { T::Ops::c_register(self.ops.get()) };
        if ret != 0 {
            pr_err!(
                "struct_ops {}: registration failed: {}\n",
                T::Ops::NAME,
                ret
            );
            return to_result(ret);
        }
        if self
            .state
            .compare_exchange(
                STATE_INIT_RAN,
                STATE_REGISTERED,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            pr_err!(
                "struct_ops {}: not registered: the module's BTF lacks the type, its value type \
                 or a stub; is the generated C part linked in, and CONFIG_DEBUG_INFO_BTF_MODULES \
                 enabled?\n",
                T::Ops::NAME
            );
            return Err(ENOENT);
        }
        // The kfuncs the type's header declares (`__rso_kfunc`), if any: registered once, since
        // this runs once per type.
        T::Ops::register_kfuncs(init)
    }

    /// Records `T`'s name among the module's types: `EEXIST` when it is there already. Called only
    /// with a [`ModuleInit`], so from the one thread of the module's init.
    fn claim_name() -> Result {
        let name = T::Ops::NAME;
        for slot in &NAMES {
            let cur = slot.load(Ordering::Acquire);
            if cur.is_null() {
                slot.store(name.as_char_ptr().cast_mut().cast(), Ordering::Release);
                return Ok(());
            }
            // SAFETY: Every non-NULL slot holds the name of a type of this module, a `&'static
            // CStr`.
            let other = unsafe { CStr::from_char_ptr(cur.cast_const().cast()) };
            if other == name {
                pr_err!(
                    "struct_ops {}: the module registered a type of this name already\n",
                    name
                );
                return Err(EEXIST);
            }
        }
        Err(ENOSPC)
    }

    /// Whether [`Self::register`] succeeded.
    pub fn is_registered(&self) -> bool {
        self.state.load(Ordering::Acquire) == STATE_REGISTERED
    }

    /// The module's BTF, once the `init` callback ran (else NULL).
    pub(super) fn btf(&self) -> *const bindings::btf {
        self.btf.load(Ordering::Acquire).cast_const()
    }

    /// Records that programs may write `size` bytes of the struct with BTF id `id` (in the
    /// module's BTF). `false` when the table is full.
    pub(super) fn add_writable(&self, id: u32, size: u32) -> bool {
        let v = (u64::from(id) << 32) | u64::from(size);
        for slot in &self.writable {
            match slot.compare_exchange(0, v, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(cur) if cur == v => return true,
                Err(_) => {}
            }
        }
        false
    }

    /// The size programs may write of the struct with BTF id `id`, if they may write it.
    pub(super) fn writable_size(&self, id: u32) -> Option<u32> {
        self.writable
            .iter()
            .map(|slot| slot.load(Ordering::Acquire))
            .find(|&v| v != 0 && (v >> 32) as u32 == id)
            .map(|v| v as u32)
    }

    /// Called by the `init` callback: the core found the type and every stub.
    pub(super) fn init_ran(&self, btf: *mut bindings::btf) {
        self.btf.store(btf, Ordering::Release);
        let _ = self.state.compare_exchange(
            STATE_READY,
            STATE_INIT_RAN,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }
}
