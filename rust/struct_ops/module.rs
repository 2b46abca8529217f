// SPDX-License-Identifier: GPL-2.0

//! The module's init, as a type: what registering a struct_ops type or a kfunc set needs.
//!
//! The BPF core lets a module register struct_ops types and kfuncs only from its init:
//! `btf_add_struct_ops()` grows the module's table of types with `krealloc()` and no lock, and
//! `register_btf_kfunc_id_set()` may run once per module and program type (a second call warns
//! and frees the module's kfunc table while verifiers may read it, `kernel/bpf/btf.c`). So both
//! registrations take a [`ModuleInit`], which only [`OpsModule`]'s init makes and lends to the
//! module's [`StructOpsModule::init`]: it cannot be made, cloned, sent to another thread nor kept
//! past that call, and it is made only once per load, while the module is `COMING`.

use core::{
    ffi::c_int,
    marker::PhantomData,
    sync::atomic::{
        AtomicBool,
        Ordering, //
    },
};
use kernel::{
    bindings,
    error::to_result,
    module::this_module,
    prelude::*, //
};

/// Proof that the calling thread runs the module's init: lent by [`OpsModule`] to
/// [`StructOpsModule::init`] for that call only.
///
/// # Invariants
///
/// `module` is the calling module, which was `MODULE_STATE_COMING` when the value was made, by
/// the first call of [`OpsModule`]'s `init` in this load of the module, on the thread that holds
/// it (it is neither `Send` nor `Sync`, and not `Clone`).
pub struct ModuleInit {
    module: *mut bindings::module,
    _not_send: PhantomData<*mut ()>,
}

/// Whether [`ModuleInit::enter`] ran in this load of the module (each module compiles its own
/// copy of the layer, so this is per module).
static ENTERED: AtomicBool = AtomicBool::new(false);

impl ModuleInit {
    /// Makes the proof for `module`'s init: `EBUSY` once the module is live, `EALREADY` on a
    /// second call (`InPlaceModule::init` is itself a safe function: a work item spawned by the
    /// init, while the module is still `COMING`, could call it).
    fn enter(module: &'static ThisModule) -> Result<Self> {
        let ptr = module.as_ptr();
        if ptr.is_null() || ptr != this_module::<crate::LocalModule>().as_ptr() {
            return Err(EINVAL);
        }
        unsafe extern "C" {
            fn rso_module_is_coming(module: *const core::ffi::c_void) -> bool;
        }
        // SAFETY: `rust/rso_helpers.c` defines the function; `ptr` is the calling module, valid
        // while its code runs.
        if !unsafe { rso_module_is_coming(ptr.cast()) } {
            pr_err!("struct_ops: types and kfuncs can only be registered from the module's init\n");
            return Err(EBUSY);
        }
        if ENTERED.swap(true, Ordering::AcqRel) {
            pr_err!("struct_ops: the module's init ran already\n");
            return Err(EALREADY);
        }
        // INVARIANT: Checked above: the module is `COMING` and this is the first call.
        Ok(Self {
            module: ptr,
            _not_send: PhantomData,
        })
    }

    /// The module whose init is running.
    pub(super) fn module(&self) -> *mut bindings::module {
        self.module
    }
}

/// A kernel module that registers struct_ops types or kfuncs: like [`kernel::InPlaceModule`],
/// with the [`ModuleInit`] that registration needs. Declare the module with
/// [`struct_ops_module!`].
///
/// [`struct_ops_module!`]: crate::struct_ops_module
pub trait StructOpsModule: Sized + Sync + Send {
    /// Creates the module's state, in place. `init` exists only for this call.
    fn init(module: &'static ThisModule, init: &ModuleInit) -> impl PinInit<Self, Error>;
}

/// The module type [`struct_ops_module!`] declares: runs `M`'s init with a [`ModuleInit`].
///
/// [`struct_ops_module!`]: crate::struct_ops_module
#[repr(transparent)]
pub struct OpsModule<M>(M);

impl<M> OpsModule<M> {
    /// The module's state.
    pub fn get(&self) -> &M {
        &self.0
    }
}

impl<M: StructOpsModule> kernel::InPlaceModule for OpsModule<M> {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let init = move |slot: *mut Self| -> Result {
            let token = ModuleInit::enter(module)?;
            let inner = M::init(module, &token);
            // SAFETY: `slot` is valid for writing a `Self` and pinned (the contract of
            // `pin_init_from_closure`); `Self` is a transparent wrapper around `M`.
            unsafe { inner.__init(slot.cast::<M>()) }
        };
        // SAFETY: The closure initialises all of `*slot` (`M`, its only field) when it returns
        // `Ok`, leaves it uninitialised on error (`__init` cleaned up), and never moves it.
        unsafe { pin_init::pin_init_from_closure(init) }
    }
}

/// A module's kfunc set, declared by [`declare_kfuncs!`]: registered once, from the module's
/// init.
///
/// [`declare_kfuncs!`]: crate::declare_kfuncs
///
/// # Invariants
///
/// `register` is the C part's registration of the module's kfunc set.
pub struct Kfuncs {
    register: unsafe extern "C" fn() -> c_int,
    done: AtomicBool,
}

impl Kfuncs {
    /// # Safety
    ///
    /// `register` registers the module's kfunc set (`RSO_KFUNCS()`), and may be called once,
    /// from the module's init.
    #[doc(hidden)]
    pub const unsafe fn new(register: unsafe extern "C" fn() -> c_int) -> Self {
        // INVARIANT: Per the function's safety requirements.
        Self {
            register,
            done: AtomicBool::new(false),
        }
    }

    /// Registers the kfuncs. `init` proves the module's init is running; `EBUSY` on a second
    /// call.
    pub fn register(&self, init: &ModuleInit) -> Result {
        let _ = init;
        if self.done.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // One kfunc set per module: a header's kfuncs claim it too.
        super::kfunc::claim_kfunc_set()?;
        // SAFETY: By the type invariants `register` is the C part's registration; `init` proves
        // the module's init is running, and `done` makes this the only call.
        to_result(unsafe { (self.register)() })
    }
}
