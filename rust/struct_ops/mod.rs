// SPDX-License-Identifier: GPL-2.0

//! BPF struct_ops types declared, registered and called from Rust.
//!
//! A struct_ops type is a table of function pointers (and data members) that BPF programs
//! implement and kernel code calls. This module lets a kernel module written in Rust define such
//! a type, register it with the BPF core at load time, react to its life cycle (`reg`, `unreg`,
//! `update`, `validate`, `init_member`, `check_member`, `init`) and call the ops of the attached
//! instances with typed arguments.
//!
//! C headers: [`include/linux/bpf.h`](srctree/include/linux/bpf.h).
//!
//! # Layout of a type
//!
//! - The ops struct is declared once, in a C header shared with the BPF programs. Argument tags
//!   go in the parameter names (`task__nullable`, `task__ref`), per-op annotations after the
//!   member (`__rso_sleepable`, `__rso_unsupported`, see `rust/rso_tags.h`).
//! - At build time (`rust/struct_ops.mk`), bindgen generates the Rust view of the header and
//!   `rust/rsogen.py` generates, from the same header, the module's C part (stubs, cfi table,
//!   registration) and the typed view: an [`OpsTable`] impl and one method per op.
//! - [`declare_struct_ops!`] binds the generated struct to a Rust type that implements
//!   [`StructOps`], and declares the static that registers it and tracks its instances.
//!
//! [`declare_struct_ops!`]: crate::declare_struct_ops
//!
//! # Examples
//!
//! ```ignore
//! declare_struct_ops! {
//!     static HELLO: HelloOps = hello_ops;
//! }
//!
//! struct HelloOps;
//!
//! #[vtable]
//! impl StructOps for HelloOps {
//!     fn validate(ops: &hello_ops) -> Result {
//!         if ops.add.is_none() {
//!             return Err(EINVAL);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! struct_ops_module! {
//!     type: RsoHello,
//!     name: "rso_hello",
//!     authors: ["rust-struct-ops developers"],
//!     description: "hello_ops",
//!     license: "GPL",
//! }
//!
//! impl StructOpsModule for RsoHello {
//!     fn init(_module: &'static ThisModule, init: &ModuleInit) -> impl PinInit<Self, Error> {
//!         // Only the module's init holds a `ModuleInit`.
//!         HELLO.register(init)?;
//!         // ...
//!     }
//! }
//!
//! // Later, from any context:
//! if let Some(inst) = HELLO.first() {
//!     let sum = inst.ops().add(1, 2).unwrap_or(0);
//! }
//! ```
//!
//! Include this directory in a module crate as `mod struct_ops;` (with `#[path]` to this file
//! and `#[macro_use]`): out-of-tree modules cannot share a crate, so each module compiles its own
//! copy.
//!
//! # Files
//!
//! - `registration.rs`: [`StructOpsType`], the registration and the registry of instances;
//! - `instance.rs`: [`Instance`] and [`InstanceRef`];
//! - `adapter.rs`: the `extern "C"` callbacks the BPF core calls, and the views they hand out
//!   ([`InitMember`], [`Member`], [`Prog`], [`Link`]);
//! - `call.rs`: the call device through which userspace triggers typed op calls;
//! - `module.rs`: the module's init as a type ([`ModuleInit`], [`StructOpsModule`],
//!   [`OpsModule`]) and kfunc sets declared in C ([`Kfuncs`]);
//! - `kfunc.rs`: the kfuncs a type's header declares, and the requests they get back;
//! - `dynptr.rs`: the dynptrs programs pass to those kfuncs;
//! - `sync.rs`: a mutex in a `static`, initialised from the module's init.

#![expect(
    unreachable_pub,
    reason = "each module compiles its own copy of this layer: its public items are public to \
              that module only"
)]
#![allow(
    dead_code,
    unused_imports,
    reason = "each module uses a different part of its copy of the layer (which parts depends on \
              the module, so `expect` cannot be used)"
)]

mod adapter;
mod call;
pub mod dynptr;
mod instance;
mod kfunc;
mod module;
mod registration;
mod sync;

pub use adapter::{
    Btf,
    InitMember,
    Link,
    Member,
    Prog, //
};
pub use call::CallArg;
pub(crate) use call::{
    register_call_device,
    CallDev,
    CallDevice,
    CallDeviceModule, //
};
pub use dynptr::{
    Dynptr,
    DynptrFns, //
};
pub use instance::{
    Instance,
    InstanceRef, //
};
pub use kfunc::{
    register_kfunc_set,
    KfuncReq,
    OpsKfuncs, //
};
pub use module::{
    Kfuncs,
    ModuleInit,
    OpsModule,
    StructOpsModule, //
};
pub use registration::StructOpsType;
pub use sync::{
    StaticMutex,
    StaticMutexGuard, //
};

use core::ffi::{
    c_int,
    c_void, //
};
use kernel::{
    bindings,
    error::VTABLE_DEFAULT_ERROR,
    prelude::*, //
};

/// What a member of an ops struct is, as the generator read it from the header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MemberKind {
    /// A data member: integers, or arrays and structs of them.
    Data,
    /// An op (a function pointer).
    Op {
        /// Whether sleepable programs may implement it (`__rso_sleepable`).
        sleepable: bool,
        /// Whether it has a stub (not `__rso_unsupported`).
        supported: bool,
        /// The number of its arguments.
        nargs: usize,
        /// For each argument, the size of the struct it points to when programs may write it
        /// (a `struct s *` of the header, a `&mut` in Rust), else 0.
        writable: [u32; 5],
    },
}

/// A member of an ops struct, as the generator read it from the header.
#[derive(Clone, Copy, Debug)]
pub struct MemberDesc {
    /// Byte offset in the struct.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
    /// Data or op.
    pub kind: MemberKind,
}

/// An ops struct, with the C part and the typed view `rust/rsogen.py` generated for it.
///
/// # Safety
///
/// Only the generator implements this trait, in the same pass that generates the C part from
/// the same header bindgen generated `Self` from:
///
/// - [`OpsTable::MEMBERS`] describes every member of `Self`, in order;
/// - [`OpsTable::cfi_stubs`] returns the address of a static `Self` whose op members point to
///   the stubs, and [`OpsTable::c_register`] calls `register_bpf_struct_ops()` for `NAME`;
/// - [`OpsTable::calls`] returns a view whose methods call each op with arguments of the kinds
///   the header's tags declare;
/// - [`MemberDesc`]'s `writable` sizes name exactly the arguments passed from a `&mut` of a
///   plain-data struct of that size, and every method passes any other argument of such a struct
///   type as a copy.
pub unsafe trait OpsTable: Sized + 'static + OpsKfuncs {
    /// The typed calls of an attached instance.
    type Calls<'a>;

    /// The name of the C struct, which is also the name of the struct_ops type.
    const NAME: &'static CStr;

    /// Every member, in order.
    const MEMBERS: &'static [MemberDesc];

    /// `sizeof(struct NAME)` as the C compiler of the C part sees it.
    fn c_size() -> usize;

    /// The table of C stubs (`cfi_stubs`).
    fn cfi_stubs() -> *mut c_void;

    /// Registers the type with the BPF core.
    ///
    /// # Safety
    ///
    /// `st_ops` points to a fully initialised `struct bpf_struct_ops` that stays valid and never
    /// moves for as long as the module is loaded, and the module's init is running.
    unsafe fn c_register(st_ops: *mut bindings::bpf_struct_ops) -> c_int;

    /// The BTF object and type id of the pointer a verifier register holds
    /// (`reg->btf`, `reg->btf_id`; `struct bpf_reg_state` has no Rust view).
    ///
    /// # Safety
    ///
    /// `reg` is the register the verifier passes to `btf_struct_access`, valid for the call.
    unsafe fn reg_btf_id(reg: *const bindings::bpf_reg_state) -> (*const bindings::btf, u32);

    /// The typed calls of `ops`.
    ///
    /// # Safety
    ///
    /// `ops` is the data of an instance whose map is alive for `'a` (attached, or held by a
    /// reference): each op member is NULL or a trampoline to a
    /// verified program, valid for `'a`.
    unsafe fn calls<'a>(ops: &'a Self) -> Self::Calls<'a>;

    /// The member at byte offset `offset`.
    fn member_at(offset: usize) -> Option<&'static MemberDesc> {
        Self::MEMBERS.iter().find(|m| m.offset == offset)
    }
}

/// Marks a C ops struct bound to a Rust type by [`declare_struct_ops!`], which implements it for
/// the ops struct: binding a second Rust type to the same C type is then a conflicting
/// implementation, refused at compile time. The BPF core would take the two as two types of one
/// name (it tells descriptors apart by `struct bpf_struct_ops` address only,
/// `btf_add_struct_ops()` in `kernel/bpf/btf.c`).
///
/// [`declare_struct_ops!`]: crate::declare_struct_ops
pub trait BoundOnce {}

/// The Rust type that implements a struct_ops type, bound to its generated ops struct and to the
/// static that registers it, by [`declare_struct_ops!`].
///
/// [`declare_struct_ops!`]: crate::declare_struct_ops
///
/// # Safety
///
/// [`DeclaredType::type_static`] always returns the same static. Implement it only through
/// [`declare_struct_ops!`], whose `unsafe impl` needs nothing from its caller: `Ops` must be an
/// [`OpsTable`], which only the generator implements.
pub unsafe trait DeclaredType: Sized + Send + Sync + 'static {
    /// The C ops struct, as generated from the type's header.
    type Ops: OpsTable;

    /// The static that holds the registration of this type.
    fn type_static() -> &'static StructOpsType<Self>;
}

/// A BPF struct_ops type implemented in Rust.
///
/// Every method is optional. A method that is not implemented leaves its C callback NULL where
/// the BPF core gives NULL a meaning (`update`, `validate`), and otherwise gets the layer's
/// default.
///
/// # Context of each callback (Linux 7.3, `kernel/bpf/bpf_struct_ops.c`)
///
/// All run in process context and may sleep.
///
/// - `init`: once, from [`StructOpsType::register`] in the module's init.
/// - `check_member`, `allow_helper`, `allow_access`: while a program is verified (under the
///   verifier's own locks, never a struct_ops map's).
/// - `init_member`, `validate`: during a map update, with that map's `st_map->lock` held.
/// - `reg` of a map without `BPF_F_LINK`: during its map update, with `st_map->lock` held;
///   its `unreg`: during the map delete (`bpf_struct_ops_map_delete_elem()`), with no lock held
///   (a state `cmpxchg` makes it run once).
/// - `reg` of a link, and `update`: with the global `update_mutex` held; `unreg` of an explicit
///   link detach too. `unreg` when a link's last reference goes away runs synchronously from
///   the link's `.dealloc` (`bpf_link_free()`, in the task that dropped the last reference, or
///   in a work item when it was dropped with `bpf_link_put()`) with no lock held, so it can run
///   concurrently with `reg`, `unreg` or `update` of another link on the same map.
#[vtable]
pub trait StructOps: DeclaredType {
    /// Called once when the type is registered, after the BPF core found the type, its value
    /// type and every stub in the module's BTF. An error fails the registration.
    fn init(_btf: &Btf) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Decides whether `prog` may implement `member`. Called while a struct_ops program is
    /// verified, after the layer's own check (a sleepable program only for an op that opts in
    /// with `__rso_sleepable`). An error refuses the program.
    fn check_member(_member: &Member<'_>, _prog: &Prog) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Handles one member during a map update: [`InitMember::copy`] or [`InitMember::write`] it
    /// from the value userspace wrote to the instance the kernel will use.
    ///
    /// Returns `Ok(true)` when the member was handled here, `Ok(false)` to let the BPF core
    /// handle it (ops become trampolines; any other non-zero member is rejected with `EINVAL`),
    /// and an error to fail the update. `Ok(true)` for an op is refused with `EINVAL`: only the
    /// core may set an op.
    fn init_member(_member: &mut InitMember<'_, Self::Ops>) -> Result<bool> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Checks a fully initialised instance before it can be attached. An error fails the map
    /// update, and nothing gets registered.
    fn validate(_ops: &Self::Ops) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Called when an instance is attached: on the map update of a map without `BPF_F_LINK`
    /// (`link` is `None`), or on link creation. An error fails the attach.
    ///
    /// One map can back several links: `reg` then runs once per link. The instance is reachable
    /// through [`StructOpsType::get`] once this returns `Ok`, until its last `unreg`.
    fn reg(_inst: &Instance<Self>, _link: Option<&Link>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Called when an instance is detached from one link (or its map is deleted). Calls that
    /// already hold an [`InstanceRef`] may still be running.
    fn unreg(_inst: &Instance<Self>, _link: Option<&Link>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Replaces `old` by `new` behind `link` (`bpf_link__update_map()`). An error keeps `old`.
    ///
    /// When this is not implemented, the BPF core refuses link updates with `EOPNOTSUPP`.
    fn update(_new: &Instance<Self>, _old: &Instance<Self>, _link: &Link) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Whether programs of this type may call helper `func_id`. It can only narrow the base
    /// helpers every program type gets (`bpf_base_func_proto()`); the default allows them all.
    fn allow_helper(_func_id: u32, _prog: &Prog) -> bool {
        true
    }

    /// Whether a program may read `size` bytes at `off` of its context (the op's arguments). It
    /// can only narrow the checks of `bpf_tracing_btf_ctx_access()` (aligned reads within the
    /// arguments, typed by BTF; no writes); the default allows what they allow.
    fn allow_access(_off: u32, _size: u32, _prog: &Prog) -> bool {
        true
    }
}

/// Binds a struct_ops type's generated ops struct to the Rust type that implements
/// [`StructOps`], and declares the static that registers it and tracks its instances.
///
/// `$c` must be an ops struct with an [`OpsTable`] impl, which only `rust/rsogen.py` generates.
///
/// # Examples
///
/// ```ignore
/// declare_struct_ops! {
///     /// The `hello_ops` type.
///     static HELLO: HelloOps = hello_ops;
/// }
/// ```
#[macro_export]
macro_rules! declare_struct_ops {
    ($(#[$meta:meta])* $vis:vis static $name:ident: $rust:ty = $c:ty;) => {
        // One Rust type per C type: a second `declare_struct_ops!` of `$c` conflicts with this.
        impl $crate::struct_ops::BoundOnce for $c {}

        // SAFETY: `type_static` always returns `$name`; `Ops` is checked to be an `OpsTable`.
        unsafe impl $crate::struct_ops::DeclaredType for $rust {
            type Ops = $c;

            fn type_static() -> &'static $crate::struct_ops::StructOpsType<Self> {
                &$name
            }
        }

        $(#[$meta])*
        $vis static $name: $crate::struct_ops::StructOpsType<$rust> =
            $crate::struct_ops::StructOpsType::new();
    };
}

/// Declares the module that holds the Rust view of a struct_ops type's C header: bindgen's view
/// and the typed view of `rust/rsogen.py`, generated together during the build (see
/// `rust/struct_ops.mk`).
///
/// It takes the generated file and nothing else: no code of the module's own can sit beside the
/// generated items (the typed calls live in a private module of their own inside it).
///
/// Kernel types the header names resolve to `kernel::bindings`.
///
/// # Examples
///
/// ```ignore
/// ops_header!(mod hello_h = "hello_ops_generated.rs");
/// ```
#[macro_export]
macro_rules! ops_header {
    ($(#[$meta:meta])* $vis:vis mod $name:ident = $file:literal $(;)?) => {
        $(#[$meta])*
        // Generated code: which of these lints fire depends on the header, so `expect` cannot be
        // used, as for the kernel's own `bindings` crate.
        #[allow(
            non_camel_case_types,
            non_upper_case_globals,
            non_snake_case,
            dead_code,
            unreachable_pub,
            unused_imports,
            missing_docs,
            clippy::all,
            clippy::undocumented_unsafe_blocks
        )]
        $vis mod $name {
            use ::kernel::bindings::*;
            include!($file);
        }
    };
}

/// Declares the kfuncs a module's C part defines with `RSO_KFUNCS($name, ...)` (`rust/rso.h`):
/// a static [`Kfuncs`] whose [`Kfuncs::register`] registers them for struct_ops and syscall
/// programs. Registering needs the [`ModuleInit`] of the module's init (the kernel allows it only
/// there, once: `register_btf_kfunc_id_set()` in `kernel/bpf/btf.c`); the kernel drops the
/// registration with the module's BTF.
///
/// # Examples
///
/// ```ignore
/// declare_kfuncs!(static KFUNCS = testmod);
///
/// // In the module's init:
/// KFUNCS.register(init)?;
/// ```
#[macro_export]
macro_rules! declare_kfuncs {
    ($vis:vis static $static:ident = $name:ident) => {
        $vis static $static: $crate::struct_ops::Kfuncs = {
            ::kernel::macros::paste! {
                unsafe extern "C" {
                    fn [<rso_ $name _register_kfuncs>]() -> ::core::ffi::c_int;
                }
                // SAFETY: `RSO_KFUNCS($name, ...)` in the C part defines the function with this
                // signature: it registers the module's kfunc set, which the kernel allows only
                // from the module's init, once; `Kfuncs::register` calls it only so.
                unsafe { $crate::struct_ops::Kfuncs::new([<rso_ $name _register_kfuncs>]) }
            }
        };
    };
}

/// Declares the module of a crate whose init registers struct_ops types: `module!` (with the
/// same keys) over [`OpsModule`], which hands the type's [`StructOpsModule::init`] the
/// [`ModuleInit`] that registration needs.
///
/// # Examples
///
/// ```ignore
/// struct_ops_module! {
///     type: RsoHello,
///     name: "rso_hello",
///     authors: ["rust-struct-ops developers"],
///     description: "hello_ops: a BPF struct_ops type registered from Rust",
///     license: "GPL",
/// }
/// ```
#[macro_export]
macro_rules! struct_ops_module {
    (type: $type:ty, $($rest:tt)*) => {
        type RsoOpsModule = $crate::struct_ops::OpsModule<$type>;
        ::kernel::prelude::module! {
            type: RsoOpsModule,
            $($rest)*
        }
    };
}

/// Whether the caller may sleep: process context, preemption and IRQs enabled, outside an RCU
/// read-side section. `false` on a kernel without `CONFIG_PREEMPT_COUNT`, where a held spinlock
/// leaves no trace. Sleepable ops are called only where this holds.
pub fn may_sleep() -> bool {
    unsafe extern "C" {
        fn rso_may_sleep() -> bool;
    }
    // SAFETY: `rust/rso_helpers.c` defines the function; it only reads the calling CPU's state.
    unsafe { rso_may_sleep() }
}
