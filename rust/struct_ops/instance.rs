// SPDX-License-Identifier: GPL-2.0

//! Attached instances of a struct_ops type, and references that keep them alive.

use super::{
    OpsTable,
    StructOps, //
};
use core::{
    ffi::c_void,
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    types::Opaque, //
};

/// An attached instance of a struct_ops type: the kernel's copy of a map's value (`kdata`),
/// whose op members point to the BPF programs.
///
/// # Invariants
///
/// `self.0` is the `data` member of the value of a struct_ops map of type `T`, which the BPF
/// core fully initialised and no longer writes to, and whose map is alive for as long as the
/// `Instance` is borrowed: attached (or being attached or detached: `reg`, `unreg`), or held by
/// an [`InstanceRef`]. Its trampolines are freed only with the map (`bpf_struct_ops_map_free()`).
#[repr(transparent)]
pub struct Instance<T: StructOps>(Opaque<T::Ops>, PhantomData<T>);

impl<T: StructOps> Instance<T> {
    /// # Safety
    ///
    /// `kdata` satisfies the type invariants for the lifetime `'a`.
    pub(super) unsafe fn from_raw<'a>(kdata: *const c_void) -> &'a Self {
        // SAFETY: `Instance` is a transparent wrapper around `T::Ops`, and the caller guarantees
        // validity for `'a`.
        unsafe { &*kdata.cast::<Self>() }
    }

    pub(super) fn as_raw(&self) -> *mut c_void {
        self.0.get().cast()
    }

    /// The typed calls of the instance's ops: `inst.ops().add(40, 2)`, `None` when BPF did not
    /// implement the op.
    pub fn ops(&self) -> <T::Ops as OpsTable>::Calls<'_> {
        // SAFETY: By the type invariants the instance is attached, so each op member is NULL or
        // a trampoline to a verified program, valid while `self` is borrowed.
        unsafe { T::Ops::calls(self.data()) }
    }

    /// The instance's members as the BPF core set them: data members, and the op pointers
    /// (which only [`Self::ops`] calls).
    pub fn data(&self) -> &T::Ops {
        // SAFETY: By the type invariants the members are initialised and no longer written; the
        // generator refuses `_Bool` data, so every value is a valid `T::Ops`.
        unsafe { &*self.0.get() }
    }

    /// The id of the struct_ops map behind this instance (`bpf_struct_ops_id()`).
    pub fn id(&self) -> u32 {
        // SAFETY: By the type invariants `self` is the data of a struct_ops map value.
        unsafe { bindings::bpf_struct_ops_id(self.as_raw()) }
    }
}

/// A reference to an attached instance that keeps its map alive (`bpf_struct_ops_get()`), so
/// that its ops can be called while a detach runs concurrently.
///
/// # Invariants
///
/// `ptr` points to an [`Instance<T>`] on whose map this object holds one reference.
pub struct InstanceRef<T: StructOps> {
    ptr: NonNull<Instance<T>>,
}

impl<T: StructOps> InstanceRef<T> {
    /// # Safety
    ///
    /// `ptr` points to an [`Instance<T>`] on whose map the caller holds a reference, which moves
    /// to the new object.
    pub(super) unsafe fn new(ptr: NonNull<Instance<T>>) -> Self {
        // INVARIANT: Per the function's safety requirements.
        Self { ptr }
    }
}

// SAFETY: The map reference may be dropped on any thread, and `Instance` is only read.
unsafe impl<T: StructOps> Send for InstanceRef<T> {}
// SAFETY: `InstanceRef` only gives shared access to the instance.
unsafe impl<T: StructOps> Sync for InstanceRef<T> {}

impl<T: StructOps> core::ops::Deref for InstanceRef<T> {
    type Target = Instance<T>;

    fn deref(&self) -> &Instance<T> {
        // SAFETY: By the type invariants the map, and so the instance, is alive.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T: StructOps> Drop for InstanceRef<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants this object holds one reference on the map.
        unsafe { bindings::bpf_struct_ops_put(self.ptr.as_ptr().cast()) };
    }
}
