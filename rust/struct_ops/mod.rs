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
//! // In the module's `init`:
//! HELLO.register(&ModuleInit::new(module)?)?;
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
//! - `call.rs`: the call device through which userspace triggers typed op calls.

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
mod registration;

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
    CallDevice, //
};
pub use instance::{
    Instance,
    InstanceRef, //
};
pub use registration::{
    ModuleInit,
    StructOpsType, //
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
pub unsafe trait OpsTable: Sized + 'static {
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
    /// `ops` is the data of an attached instance: each op member is NULL or a trampoline to a
    /// verified program, valid for `'a`.
    unsafe fn calls<'a>(ops: &'a Self) -> Self::Calls<'a>;

    /// The member at byte offset `offset`.
    fn member_at(offset: usize) -> Option<&'static MemberDesc> {
        Self::MEMBERS.iter().find(|m| m.offset == offset)
    }
}

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
/// - `reg` and `unreg` of a map without `BPF_F_LINK`: during its map update and delete, with
///   `st_map->lock` held.
/// - `reg` of a link, and `update`: with the global `update_mutex` held; `unreg` of an explicit
///   link detach too. `unreg` when a link's last reference goes away runs from the link's
///   deallocation (a work item after an RCU grace period) with no lock held, so it can run
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
/// Kernel types the header names resolve to `kernel::bindings`.
///
/// # Examples
///
/// ```ignore
/// ops_header! {
///     mod hello_h {
///         include!("hello_ops_generated.rs");
///     }
/// }
/// ```
#[macro_export]
macro_rules! ops_header {
    ($(#[$meta:meta])* $vis:vis mod $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        // Generated code: which of these lints fire depends on the header, so `expect` cannot be
        // used, as for the kernel's own `bindings` crate.
        #[allow(
            non_camel_case_types,
            non_upper_case_globals,
            non_snake_case,
            dead_code,
            unreachable_pub,
            missing_docs,
            clippy::all,
            clippy::undocumented_unsafe_blocks
        )]
        $vis mod $name {
            #[allow(unused_imports)]
            use ::kernel::bindings::*;
            $($body)*
        }
    };
}

/// Declares the safe registration of the kfuncs a module's C part defines with
/// `RSO_KFUNCS($name, ...)` (`rust/rso.h`): a function `$fn() -> Result` that registers them for
/// struct_ops and syscall programs. Call it from the module's `init`; the kernel drops the
/// registration with the module's BTF.
///
/// # Examples
///
/// ```ignore
/// declare_kfuncs!(fn register_kfuncs = testmod);
/// ```
#[macro_export]
macro_rules! declare_kfuncs {
    ($vis:vis fn $fn:ident = $name:ident) => {
        ::kernel::macros::paste! {
            unsafe extern "C" {
                fn [<rso_ $name _register_kfuncs>]() -> ::core::ffi::c_int;
            }

            /// Registers the module's kfuncs (`RSO_KFUNCS()` in its C part).
            $vis fn $fn() -> ::kernel::error::Result {
                // SAFETY: `RSO_KFUNCS($name, ...)` in the C part defines the function with this
                // signature; it may be called at any time after the module's BTF is loaded.
                ::kernel::error::to_result(unsafe { [<rso_ $name _register_kfuncs>]() })
            }
        }
    };
}
