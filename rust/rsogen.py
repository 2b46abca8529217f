#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generate the C part and the typed Rust view of a struct_ops type from its header.

    rsogen.py --header foo_ops.h --type foo_ops --c foo_ops_gen.c --rust foo_ops_typed.rs \
        -- <clang flags>

The header is the one source of truth of a struct_ops type (see docs/generator.md). From it,
with libclang (the Python bindings of the libclang wheel that scripts/setup.sh installs for
bindgen), this writes:

- the C part: one stub per op, named <type>__<op>, whose parameter names carry the argument
  tags (__nullable, __ref) exactly as the header spells them; the cfi_stubs table (ops marked
  __rso_unsupported get no stub); the registration; the struct's size as the C compiler sees it;
- the typed Rust view, to be appended to bindgen's view of the same header: a `<Type>Calls`
  struct with one method per op, whose Rust parameter types follow the tags, and the
  `unsafe impl OpsTable` that binds the bindgen struct to the C part; for a request struct
  `rso_<x>_call` (rust/rso_call.h), its `CallArg` impl;
- for the kfuncs the header declares (`__rso_kfunc` prototypes): their C forwarders and
  registration, the trait `<Type>Kfuncs` whose methods are their bodies, the wrappers the
  forwarders call, and the `OpsKfuncs` impl (empty without kfuncs) that registers them.

Anything the generator cannot type soundly is refused with a message naming the header line.
"""

import argparse
import os
import sys

import clang.cindex as ci

K = ci.TypeKind
RUST_SCALARS = {
    K.BOOL: "bool",
    K.CHAR_S: "kernel::ffi::c_char",
    K.SCHAR: "kernel::ffi::c_schar",
    K.CHAR_U: "kernel::ffi::c_char",
    K.UCHAR: "kernel::ffi::c_uchar",
    K.SHORT: "kernel::ffi::c_short",
    K.USHORT: "kernel::ffi::c_ushort",
    K.INT: "kernel::ffi::c_int",
    K.UINT: "kernel::ffi::c_uint",
    K.LONG: "kernel::ffi::c_long",
    K.ULONG: "kernel::ffi::c_ulong",
    K.LONGLONG: "kernel::ffi::c_longlong",
    K.ULONGLONG: "kernel::ffi::c_ulonglong",
}
INTEGER_KINDS = set(RUST_SCALARS) - {K.BOOL} | {K.ENUM}
# Kernel objects a trusted pointer parameter may point to: C struct -> Rust type.
KERNEL_OBJECTS = {"task_struct": "kernel::task::Task"}
TAGS = ("__nullable", "__ref")


class GenError(Exception):
    pass


def where(cursor):
    loc = cursor.location
    return f"{os.path.basename(str(loc.file))}:{loc.line}"


def camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.split("_") if p)


def rust_scalar(ty, what):
    """The Rust spelling of an integer type, as bindgen spells it (a typedef keeps its name)."""
    canon = ty.get_canonical()
    if canon.kind == K.BOOL:
        raise GenError(f"{what}: _Bool is refused (a value other than 0 or 1 would be an "
                       "invalid Rust bool); use an integer type")
    if canon.kind not in INTEGER_KINDS:
        return None
    t = ty
    while t.kind == K.ELABORATED:
        t = t.get_named_type()
    if t.kind == K.TYPEDEF:
        return t.get_declaration().spelling
    if t.kind == K.ENUM:
        return t.get_declaration().spelling
    return RUST_SCALARS.get(t.kind) or RUST_SCALARS[canon.kind]


def check_wide(ty, what):
    """An integer a BPF program hands to Rust (an op's return value, a kfunc's argument) must be
    at least 32 bits wide: the program leaves a full 64-bit register (the verifier does not
    range-check struct_ops return values, the JIT does not narrow kfunc arguments), and Rust
    assumes an 8- or 16-bit value in a register is already extended, as the x86-64 ABI's de
    facto rule says."""
    if ty.get_canonical().get_size() < 4:
        raise GenError(f"{what}: {ty.spelling} is narrower than 32 bits, which BPF passes "
                       "without extending it; use a 32- or 64-bit integer")


def check_plain_data(ty, what):
    """Data members and call structs may hold only integers (no _Bool), arrays and structs of
    them, and data pointers: any bit pattern of those is a valid Rust value."""
    canon = ty.get_canonical()
    if canon.kind == K.BOOL:
        raise GenError(f"{what}: _Bool data is refused (userspace could store 2, an invalid "
                       "Rust bool); use __u8")
    if canon.kind in (K.CONSTANTARRAY,):
        check_plain_data(canon.get_array_element_type(), what)
    elif canon.kind == K.RECORD:
        for f in canon.get_fields():
            check_plain_data(f.type, f"{what}.{f.spelling}")
    elif canon.kind == K.POINTER:
        pointee = canon.get_pointee().get_canonical()
        if pointee.kind in (K.FUNCTIONPROTO, K.FUNCTIONNOPROTO):
            raise GenError(f"{what}: a function pointer nested in a data member is refused")
    elif canon.kind not in INTEGER_KINDS:
        raise GenError(f"{what}: type {ty.spelling} is not supported in data")


# Structs of the header that ops take pointers to (set by main before the ops are read).
HEADER_STRUCTS = {}


def arg_struct(pointee):
    """The header's struct `pointee` is, or None."""
    canon = pointee.get_canonical()
    if canon.kind != K.RECORD:
        return None
    return HEADER_STRUCTS.get(canon.get_declaration().spelling)


class Param:
    def __init__(self, cursor, op):
        self.c_name = cursor.spelling
        self.struct = None
        if not self.c_name:
            raise GenError(f"{where(cursor)}: op {op}: every parameter needs a name")
        self.tag = next((t for t in TAGS if self.c_name.endswith(t)), None)
        self.name = self.c_name[: -len(self.tag)] if self.tag else self.c_name
        if "__" in self.name.strip("_"):
            raise GenError(f"{where(cursor)}: op {op}: parameter {self.c_name}: unknown tag "
                           f"(known: {', '.join(TAGS)})")
        self.c_type = cursor.type.spelling
        what = f"{where(cursor)}: op {op}: parameter {self.c_name}"
        canon = cursor.type.get_canonical()
        if canon.kind == K.POINTER and arg_struct(canon.get_pointee()) is not None:
            # A struct of the header's own: plain data the program reads, and writes only
            # through a non-const pointer (the layer's btf_struct_access).
            st = arg_struct(canon.get_pointee())
            if self.tag:
                raise GenError(f"{what}: tag {self.tag} on a pointer to struct {st.spelling}")
            self.struct = st.spelling
            if canon.get_pointee().is_const_qualified():
                self.kind, self.rust = "in", f"&{st.spelling}"
            else:
                self.kind, self.rust = "inout", f"&mut {st.spelling}"
        elif canon.kind == K.POINTER:
            pointee = canon.get_pointee().get_canonical()
            decl = pointee.get_declaration().spelling if pointee.kind == K.RECORD else None
            if decl not in KERNEL_OBJECTS:
                raise GenError(f"{what}: pointer to {pointee.spelling} is not supported "
                               f"(supported: {', '.join('struct ' + k for k in KERNEL_OBJECTS)})")
            obj = KERNEL_OBJECTS[decl]
            if self.tag == "__nullable":
                self.kind, self.rust = "nullable", f"Option<&{obj}>"
            elif self.tag == "__ref":
                # rso_<type>_task_acquire() takes the reference: tasks only.
                if decl != "task_struct":
                    raise GenError(f"{what}: __ref is supported for struct task_struct only")
                # The program gets a reference it must release with bpf_task_release(), which
                # drops an rcu_users reference (not the usage count ARef<Task> holds): the
                # generated method takes one right before the call (rso_<type>_task_acquire).
                self.kind, self.rust = "ref", f"&{obj}"
            else:
                self.kind, self.rust = "trusted", f"&{obj}"
        else:
            if self.tag:
                raise GenError(f"{what}: tag {self.tag} on a non-pointer")
            if canon.kind == K.BOOL:
                self.kind, self.rust = "scalar", "bool"
            else:
                self.rust = rust_scalar(cursor.type, what)
                if self.rust is None:
                    raise GenError(f"{what}: type {self.c_type} is not supported")
                self.kind = "scalar"

    def rust_arg(self):
        n = self.name
        if self.kind == "scalar":
            return n
        if self.kind == "in" and getattr(self, "copied", False):
            return f"core::ptr::addr_of_mut!({n}).cast_const()"
        if self.kind == "in":
            return f"core::ptr::from_ref({n})"
        if self.kind == "kreq":
            return f"core::ptr::from_ref({n}).cast::<{self.struct}>()"
        if self.kind == "inout":
            return f"core::ptr::from_mut({n})"
        if self.kind == "trusted":
            return f"{n}.as_ptr()"
        if self.kind == "nullable":
            return f"{n}.map_or(core::ptr::null_mut(), |t| t.as_ptr())"
        return f"{n}.as_ptr()"


class Member:
    def __init__(self, cursor, struct_ty):
        self.name = cursor.spelling
        self.offset = struct_ty.get_offset(self.name) // 8
        self.size = cursor.type.get_size()
        ann = {c.spelling for c in cursor.get_children() if c.kind == ci.CursorKind.ANNOTATE_ATTR}
        canon = cursor.type.get_canonical()
        fn = None
        if canon.kind == K.POINTER:
            p = canon.get_pointee().get_canonical()
            if p.kind in (K.FUNCTIONPROTO, K.FUNCTIONNOPROTO):
                fn = p
        self.is_op = fn is not None
        what = f"{where(cursor)}: member {self.name}"
        if not self.is_op:
            if ann:
                raise GenError(f"{what}: {', '.join(sorted(ann))} applies to ops only")
            check_plain_data(cursor.type, what)
            return
        self.sleepable = "rso_sleepable" in ann
        self.unsupported = "rso_unsupported" in ann
        if fn.kind == K.FUNCTIONNOPROTO:
            raise GenError(f"{what}: write the op's prototype, e.g. (void) for no arguments")
        self.params = [Param(c, self.name) for c in cursor.get_children()
                       if c.kind == ci.CursorKind.PARM_DECL]
        if len(self.params) != len(list(fn.argument_types())):
            raise GenError(f"{what}: cannot read the op's parameter names")
        if len(self.params) > 5:
            raise GenError(f"{what}: more than 5 parameters")
        if sum(p.kind == "ref" for p in self.params) > 1:
            # The reference on the first would be stuck if the second could not be taken: a
            # module cannot drop a task's rcu_users reference (put_task_struct_rcu_user() is
            # not exported).
            raise GenError(f"{what}: more than one __ref parameter")
        ret = fn.get_result()
        self.c_ret = ret.spelling
        if ret.get_canonical().kind == K.VOID:
            self.rust_ret = None
            if any(p.kind == "ref" for p in self.params):
                # The verifier does not check what a program of a void op holds at exit
                # (check_return_code() returns first), and Linux 7.3's check_reference_leak()
                # skips a reference held in R0: the program could keep the task's reference.
                raise GenError(f"{what}: a __ref parameter on an op that returns void is "
                               "refused: the verifier does not make its program release the "
                               "reference; return an integer")
        else:
            self.rust_ret = rust_scalar(ret, f"{what}: return type")
            if self.rust_ret is None:
                raise GenError(f"{what}: return type {ret.spelling} is not supported (integers "
                               "and void only)")
            check_wide(ret, f"{what}: return type")


def parse(header, flags):
    index = ci.Index.create()
    tu = index.parse(header, args=["-x", "c", "-D__RSO_GEN__"] + flags,
                     options=ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES)
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        raise GenError("\n".join(str(d) for d in errors))
    return tu


def structs_in(tu, header):
    for c in tu.cursor.get_children():
        if (c.kind == ci.CursorKind.STRUCT_DECL and c.is_definition() and c.location.file
                and os.path.samefile(str(c.location.file), header)):
            yield c


def layout_asserts(structs):
    """_Static_asserts of the size of every struct of the header and the offset of every member,
    as libclang saw them with bindgen's flags: the C part is compiled with Kbuild's, so any
    difference between the two views (an #ifdef __BINDGEN__, a packing flag) fails the build."""
    out = ["/* The layout bindgen saw (rust/rsogen.py): the C part must agree. */"]
    for c in structs:
        name = c.spelling
        out.append(f"_Static_assert(sizeof(struct {name}) == {c.type.get_size()}, "
                   f"\"struct {name}: C and Rust sizes differ\");")
        for f in c.type.get_fields():
            off = c.type.get_offset(f.spelling)
            if off % 8:
                raise GenError(f"{where(f)}: {name}.{f.spelling}: bitfields are not supported")
            out.append(f"_Static_assert(__builtin_offsetof(struct {name}, {f.spelling}) == "
                       f"{off // 8}, \"{name}.{f.spelling}: C and Rust offsets differ\");")
    return out


def gen_c(ty, members, header, rso_h, structs):
    ops = [m for m in members if m.is_op and not m.unsupported]
    out = [
        "// SPDX-License-Identifier: GPL-2.0",
        f"/* Generated by rust/rsogen.py from {os.path.basename(header)}: do not edit. */",
        f'#include "{rso_h}"',
        f'#include "{os.path.abspath(header)}"',
        "",
        *layout_asserts(structs),
        "",
    ]
    for m in ops:
        params = ", ".join(f"{p.c_type} {p.c_name}" for p in m.params) or "void"
        body = "" if m.rust_ret is None else f" return ({m.c_ret})0; "
        out.append(f"static noinline {m.c_ret} {ty}__{m.name}({params}) {{{body}}}")
    out.append("")
    out.append(f"RSO_STRUCT_OPS_TABLE({ty},")
    out.append(",\n".join(f"\t.{m.name} = {ty}__{m.name}" for m in ops) + ");")
    return "\n".join(out) + "\n"


def writable_structs(members):
    """The header's structs some op takes by non-const pointer: the ones programs may write."""
    return sorted({p.struct for m in members if m.is_op and not m.unsupported
                   for p in m.params if p.kind == "inout"})


def gen_rust(ty, members, call_structs, plain_structs=(), sealed_extra=()):
    calls = camel(ty) + "Calls"
    sealed = f"rso_{ty}_sealed"
    out = [
        "",
        f"// Generated by rust/rsogen.py from the header of `{ty}`: do not edit.",
        "",
        f"pub use {sealed}::{calls};",
        "",
        f"/// The typed view of `{ty}`, in a module of its own: no code outside it can name the",
        f"/// private field of [`{calls}`], so a view exists only where `OpsTable::calls` (an",
        "/// `unsafe fn`) made one, for an attached instance.",
        f"mod {sealed} {{",
        "#![allow(unused_imports)]",
        "use super::*;",
        "",
        f"/// Typed calls of the ops of an attached `{ty}` instance: one method per op, each",
        "/// returning `None` when BPF did not implement the op.",
        "///",
        "/// # Invariants",
        "///",
        "/// `ops` is the data of an instance whose map is alive for `'a` (attached, or held by a",
        "/// reference): each op member is NULL or a BPF trampoline to a verified program, freed only",
        "/// with the map (`bpf_struct_ops_map_free()`).",
        f"pub struct {calls}<'a> {{",
        f"    ops: &'a {ty},",
        "}",
        "",
        f"impl {calls}<'_> {{",
    ]
    for m in members:
        if not m.is_op or m.unsupported:
            continue
        args = "".join(f", {p.name}: {p.rust}" for p in m.params)
        ret = m.rust_ret or "()"
        c_sig = ", ".join(f"{p.c_type} {p.c_name}" for p in m.params)
        refs = [p for p in m.params if p.kind == "ref"]
        none = "`None` when BPF did not implement it"
        if refs:
            none += f", or when `{refs[0].name}` is exiting (no reference can be taken on it)"
        if m.sleepable:
            out += [
                f"    /// `{m.c_ret} {m.name}({c_sig})`, sleepable: its program may sleep, so it is",
                "    /// called only where the caller may sleep, and `Err(EAGAIN)` elsewhere",
                f"    /// (atomic context, IRQs off, an RCU read-side section); `Ok({none[1:-1]})`.",
                f"    pub fn {m.name}(&self{args}) -> kernel::error::Result<Option<{ret}>> {{",
                "        if !crate::struct_ops::may_sleep() {",
                "            return Err(kernel::error::code::EAGAIN);",
                "        }",
                "        kernel::task::might_sleep();",
                f"        let Some(rso_op) = self.ops.{m.name} else {{",
                "            return Ok(None);",
                "        };",
            ]
        else:
            out += [
                f"    /// `{m.c_ret} {m.name}({c_sig})`; {none}.",
                f"    pub fn {m.name}(&self{args}) -> Option<{ret}> {{",
                f"        let rso_op = self.ops.{m.name}?;",
            ]
        for p in refs:
            none_ret = "return Ok(None);" if m.sleepable else "return None;"
            out += [
                "        unsafe extern \"C\" {",
                f"            fn rso_{ty}_task_acquire(task: *mut core::ffi::c_void) -> bool;",
                "        }",
                f"        // SAFETY: `{p.name}` is a live task; the C part's function only increments its",
                "        // `rcu_users` if that is not zero. The program is now the reference's owner. The",
                "        // op returns an integer (the generator refuses `__ref` on a `void` op), so the",
                "        // verifier requires the program to release the reference (`bpf_task_release()`)",
                "        // on every path, except on a kernel without kernel/patches/bpf/0001 (Linux 7.3",
                "        // lets a program return it in R0): the reference then leaks, a task_struct is",
                "        // never freed, but no memory is misused (`ref_leak_refused` reports which).",
                f"        if !unsafe {{ rso_{ty}_task_acquire({p.name}.as_ptr().cast()) }} {{",
                f"            {none_ret}",
                "        }",
            ]
        writable = writable_structs(members)
        for p in m.params:
            if p.kind == "in" and p.struct in writable:
                # Programs may write this struct (another op takes it by non-const pointer), so
                # a const one is passed as a copy: the caller's `&` is never written, and the
                # pointer the program gets is derived from a mutable place.
                p.copied = True
                out += [
                    f"        // SAFETY: `{p.struct}` is plain data (integers, arrays and structs of",
                    "        // them): a bitwise copy is a valid value, and it has no `Drop`.",
                    f"        let mut {p.name} = unsafe {{ core::ptr::read({p.name}) }};",
                ]
        out += [
            "        // SAFETY: By the type invariants `rso_op` is a trampoline to a verified program that",
            "        // stays valid while `self` is borrowed. Each argument has the kind its tag in the",
            "        // header declares: a live task for a trusted pointer, NULL only where `__nullable`",
            "        // lets the program expect it, for `__ref` a task with the reference taken above,",
            "        // which the program must release, and for a struct of the header valid memory of",
            "        // its type, which the program writes only through a `&mut` or a copy of its own",
            "        // (`btf_struct_access` allows writes only to structs some op takes mutably).",
            f"        {'Ok(' if m.sleepable else ''}Some(unsafe {{ rso_op({', '.join(p.rust_arg() for p in m.params)}) }}){')' if m.sleepable else ''}",
            "    }",
            "",
        ]
    if out[-1] == "":
        out.pop()
    out.append("}")
    descs = []
    for m in members:
        if m.is_op:
            sizes = [HEADER_STRUCTS[p.struct].type.get_size()
                     if p.kind == "inout" and not m.unsupported else 0
                     for p in m.params] + [0] * (5 - len(m.params))
            kind = (f"Op {{ sleepable: {str(m.sleepable).lower()}, "
                    f"supported: {str(not m.unsupported).lower()}, "
                    f"nargs: {len(m.params)}, "
                    f"writable: [{', '.join(map(str, sizes))}] }}")
        else:
            kind = "Data"
        descs.append(f"        crate::struct_ops::MemberDesc {{ offset: {m.offset}, size: {m.size}, "
                     f"kind: crate::struct_ops::MemberKind::{kind} }},")
    out += [
        "",
        f"// SAFETY: rust/rsogen.py generated this impl and `rso_{ty}_*` in the module's C part from",
        f"// the same header as bindgen's `{ty}`: the C functions exist with these signatures, the",
        "// member table describes every member, and `calls` gets the typed view of an attached",
        "// instance, whose method signatures follow the header's tags.",
        f"unsafe impl crate::struct_ops::OpsTable for {ty} {{",
        f"    type Calls<'a> = {calls}<'a>;",
        "",
        f"    const NAME: &'static kernel::str::CStr = c\"{ty}\";",
        "    const MEMBERS: &'static [crate::struct_ops::MemberDesc] = &[",
        *descs,
        "    ];",
        "",
        "    fn c_size() -> usize {",
        "        unsafe extern \"C\" {",
        f"            fn rso_{ty}_size() -> usize;",
        "        }",
        "        // SAFETY: The C part defines the function; it only returns a constant.",
        f"        unsafe {{ rso_{ty}_size() }}",
        "    }",
        "",
        "    fn cfi_stubs() -> *mut core::ffi::c_void {",
        "        unsafe extern \"C\" {",
        f"            fn rso_{ty}_cfi_stubs() -> *mut core::ffi::c_void;",
        "        }",
        "        // SAFETY: The C part defines the function; it returns a static's address.",
        f"        unsafe {{ rso_{ty}_cfi_stubs() }}",
        "    }",
        "",
        "    unsafe fn c_register(st_ops: *mut kernel::bindings::bpf_struct_ops) -> core::ffi::c_int {",
        "        unsafe extern \"C\" {",
        f"            fn rso_{ty}_register(st_ops: *mut core::ffi::c_void) -> core::ffi::c_int;",
        "        }",
        "        // SAFETY: Per the function's safety requirements.",
        f"        unsafe {{ rso_{ty}_register(st_ops.cast()) }}",
        "    }",
        "",
        "    unsafe fn reg_btf_id(",
        "        reg: *const kernel::bindings::bpf_reg_state,",
        "    ) -> (*const kernel::bindings::btf, u32) {",
        "        unsafe extern \"C\" {",
        f"            fn rso_{ty}_reg_btf_id(",
        "                reg: *const kernel::bindings::bpf_reg_state,",
        "                btf: *mut *const kernel::bindings::btf,",
        "            ) -> u32;",
        "        }",
        "        let mut btf = core::ptr::null();",
        "        // SAFETY: The C part defines the function; it reads two fields of `reg`, valid per",
        "        // the function's safety requirements.",
        f"        let id = unsafe {{ rso_{ty}_reg_btf_id(reg, &mut btf) }};",
        "        (btf, id)",
        "    }",
        "",
        "    unsafe fn calls<'a>(ops: &'a Self) -> Self::Calls<'a> {",
        "        // INVARIANT: Per the function's safety requirements.",
        f"        {calls} {{ ops }}",
        "    }",
        "}",
        *sealed_extra,
        "",
        f"}} // mod {sealed}",
    ]
    def bytes_impls(name):
        return [
            "",
            f"// SAFETY: rust/rsogen.py checked that `{name}` holds only integers and arrays and",
            "// structs of them, with no padding: every bit pattern is valid, and all bytes are",
            "// initialised.",
            f"unsafe impl kernel::transmute::FromBytes for {name} {{}}",
            "// SAFETY: As above.",
            f"unsafe impl kernel::transmute::AsBytes for {name} {{}}",
        ]
    for name in plain_structs:
        out += bytes_impls(name)
    for name in call_structs:
        out += bytes_impls(name) + [
            "",
            f"impl crate::struct_ops::CallArg for {name} {{",
            "    fn request(&self) -> (u32, u32, u32) {",
            "        (self.hdr.map_id, self.hdr.op, self.hdr.pad)",
            "    }",
            "",
            "    fn reply(&mut self, ret: i64, id: u32) {",
            "        self.hdr.ret = ret;",
            "        self.hdr.id = id;",
            "    }",
            "}",
        ]
    return "\n".join(out) + "\n"


def check_call_struct(c):
    """A request struct: `struct rso_call_hdr hdr` first, then integers, and no padding."""
    fields = list(c.type.get_fields())
    if not fields or fields[0].spelling != "hdr" or \
            fields[0].type.get_canonical().get_declaration().spelling != "rso_call_hdr":
        raise GenError(f"{where(c)}: struct {c.spelling}: the first member must be "
                       "`struct rso_call_hdr hdr`")
    check_no_padding(c)


def plain_structs(structs):
    """The header's `rso_` structs of plain data without padding (not the ops struct nor a
    request struct): the uapi and argument structs, which get `FromBytes` and `AsBytes`."""
    plain = []
    for name, c in sorted(structs.items()):
        if not name.startswith("rso_"):
            continue
        try:
            check_plain_data(c.type, name)
            if any(f.type.get_canonical().kind == K.POINTER for f in c.type.get_fields()):
                continue
            check_no_padding(c)
        except GenError:
            continue
        plain.append(name)
    return plain


def check_arg_struct(c):
    """A struct an op takes a pointer to: integers, arrays and structs of them (no pointers,
    which a program could point anywhere), and no padding."""
    def walk(ty, what):
        canon = ty.get_canonical()
        if canon.kind == K.POINTER:
            raise GenError(f"{where(c)}: {what}: a pointer in a struct an op takes is refused")
        if canon.kind == K.CONSTANTARRAY:
            walk(canon.get_array_element_type(), what)
        elif canon.kind == K.RECORD:
            for f in canon.get_fields():
                walk(f.type, f"{what}.{f.spelling}")
    walk(c.type, f"struct {c.spelling}")
    check_plain_data(c.type, f"struct {c.spelling}")
    check_no_padding(c)


def check_no_padding(c):
    """Integers, arrays and structs of them, and no padding: programs read every byte."""
    fields = list(c.type.get_fields())
    size = 0
    for f in fields:
        check_plain_data(f.type, f"{where(f)}: {c.spelling}.{f.spelling}")
        if c.type.get_offset(f.spelling) // 8 != size:
            raise GenError(f"{where(f)}: struct {c.spelling} has padding before {f.spelling}; "
                           "add an explicit member")
        size += f.type.get_size()
    if size != c.type.get_size():
        raise GenError(f"{where(c)}: struct {c.spelling} has trailing padding")


# Kfuncs (`__rso_kfunc` prototypes of the header): the C forwarders, the registration, the Rust
# trait whose methods are their bodies, and the request rules that make the bodies sound.

RUST_KEYWORDS = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
    "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final",
    "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
}
# Signed integer returns: a body's `Err(e)` becomes `-errno`.
KFUNC_RETURNS = {K.INT, K.LONG, K.LONGLONG}


class KfuncParam:
    def __init__(self, cursor, kfunc, first):
        self.name = cursor.spelling
        self.c_type = cursor.type.spelling
        self.struct = None
        what = f"{where(cursor)}: kfunc {kfunc}: parameter {self.name or '(unnamed)'}"
        if not self.name:
            raise GenError(f"{what}: every parameter needs a name")
        if "__" in self.name.strip("_") or self.name in RUST_KEYWORDS:
            # The verifier gives kfunc parameter suffixes meanings (__sz, __k, __nullable...).
            raise GenError(f"{what}: use a plain name (no __ suffix, not a Rust keyword)")
        canon = cursor.type.get_canonical()
        if first:
            st = arg_struct(canon.get_pointee()) if canon.kind == K.POINTER else None
            if st is None or not canon.get_pointee().is_const_qualified():
                raise GenError(f"{what}: the first parameter must be the request, "
                               "`const struct <s> *` of a struct of the header")
            self.kind, self.struct = "req", st.spelling
        elif canon.kind == K.POINTER:
            pointee = canon.get_pointee().get_canonical()
            if pointee.kind != K.RECORD or pointee.get_declaration().spelling != "bpf_dynptr":
                raise GenError(f"{what}: pointer to {pointee.spelling} is not supported (after "
                               "the request: `struct bpf_dynptr *` and integers)")
            self.kind = "dynptr"
        else:
            self.rust = rust_scalar(cursor.type, what)
            if self.rust is None:
                raise GenError(f"{what}: type {self.c_type} is not supported (after the "
                               "request: `struct bpf_dynptr *` and integers)")
            check_wide(cursor.type, what)
            self.kind = "scalar"

    def rust_type(self, data):
        if self.kind == "req":
            return f"&crate::struct_ops::KfuncReq<{self.struct}, {data}>"
        if self.kind == "dynptr":
            return "&crate::struct_ops::Dynptr<'_>"
        return self.rust

    def ffi_type(self):
        if self.kind == "req":
            return f"*const {self.struct}"
        if self.kind == "dynptr":
            return "*const core::ffi::c_void"
        return self.rust


class Kfunc:
    def __init__(self, cursor):
        self.name = cursor.spelling
        self.cursor = cursor
        what = f"{where(cursor)}: kfunc {self.name}"
        if cursor.is_definition():
            raise GenError(f"{what}: declare the prototype only; the generator writes the body")
        if self.name in RUST_KEYWORDS:
            raise GenError(f"{what}: the name is a Rust keyword")
        fn = cursor.type
        if fn.kind != K.FUNCTIONPROTO:
            raise GenError(f"{what}: write the prototype, with the request first")
        if fn.is_function_variadic():
            raise GenError(f"{what}: variadic kfuncs are not supported")
        cparams = [c for c in cursor.get_children() if c.kind == ci.CursorKind.PARM_DECL]
        if len(cparams) != len(list(fn.argument_types())):
            raise GenError(f"{what}: cannot read the parameter names")
        if not cparams:
            raise GenError(f"{what}: the first parameter must be the request")
        if len(cparams) > 5:
            raise GenError(f"{what}: more than 5 parameters")
        self.params = [KfuncParam(c, self.name, i == 0) for i, c in enumerate(cparams)]
        ret = fn.get_result()
        self.c_ret = ret.spelling
        if ret.get_canonical().kind == K.VOID:
            self.rust_ret = None
        elif ret.get_canonical().kind in KFUNC_RETURNS:
            self.rust_ret = rust_scalar(ret, f"{what}: return type")
        else:
            raise GenError(f"{what}: return type {ret.spelling} is not supported (int, long or "
                           "void: an error is returned as a negative errno)")

    @property
    def req(self):
        return self.params[0].struct

    def c_sig(self):
        return ", ".join(f"{p.c_type} {p.name}" for p in self.params)


def read_kfuncs(tu, header):
    """The `__rso_kfunc` prototypes of the header itself (not of the headers it includes)."""
    kfuncs = {}
    for c in tu.cursor.get_children():
        if (c.kind != ci.CursorKind.FUNCTION_DECL or not c.location.file
                or not os.path.samefile(str(c.location.file), header)):
            continue
        ann = {a.spelling for a in c.get_children() if a.kind == ci.CursorKind.ANNOTATE_ATTR}
        if "rso_kfunc" not in ann:
            continue
        k = Kfunc(c)
        if k.name in kfuncs:
            raise GenError(f"{where(c)}: kfunc {k.name} is declared twice")
        kfuncs[k.name] = k
    return list(kfuncs.values())


def has_zero_length_array(ty, depth=0):
    """Whether a struct holds an array of no element (a zero-length or flexible array), which
    `__btf_type_is_scalar_struct()` (kernel/bpf/verifier.c) takes as not scalar."""
    canon = ty.get_canonical()
    if canon.kind == K.RECORD and depth < 4:
        return any(has_zero_length_array(f.type, depth + 1) for f in canon.get_fields())
    if canon.kind == K.INCOMPLETEARRAY:
        return True
    return canon.kind == K.CONSTANTARRAY and canon.get_array_size() == 0


def ends_with_zero_length_array(ty, depth=0):
    """Whether the last member of a struct (or of its last member, and so on) is an array of no
    element: btf_struct_walk() (kernel/bpf/btf.c) then lets programs read past the struct, as
    if into a flexible array, and helpers copy from there with a plain memcpy."""
    canon = ty.get_canonical()
    if canon.kind == K.INCOMPLETEARRAY:
        return True
    if canon.kind == K.CONSTANTARRAY:
        return canon.get_array_size() == 0
    if canon.kind == K.RECORD and depth < 4:
        fields = list(canon.get_fields())
        return bool(fields) and ends_with_zero_length_array(fields[-1].type, depth + 1)
    return False


def check_c_view(header, flags, names, ops):
    """The structs ops take, as the module's BTF has them (the C view, without __BINDGEN__):
    none may end with an array of no element, which would let programs read past it. And the
    ops struct has the same members in both views: the BPF core numbers them in BTF, the
    layer's member table in bindgen's view."""
    ctu = parse(header, [f for f in flags if f != "-D__BINDGEN__"])
    for c in structs_in(ctu, header):
        if c.spelling == ops.spelling:
            c_members = [f.spelling for f in c.type.get_fields()]
            rust_members = [f.spelling for f in ops.type.get_fields()]
            if c_members != rust_members:
                raise GenError(f"{where(c)}: struct {ops.spelling} has other members in its C "
                               f"view ({', '.join(c_members)}) than in bindgen's "
                               f"({', '.join(rust_members)})")
        if c.spelling in names and ends_with_zero_length_array(c.type):
            raise GenError(f"{where(c)}: struct {c.spelling}, which an op takes, ends with an "
                           "array of no element in its C view: programs could read past the "
                           "struct (btf_struct_walk() in kernel/bpf/btf.c treats it as a "
                           "flexible array); put a zero-length array first")


def check_kfunc_reqs(kfuncs, st, structs, header, flags):
    """The rules that make a kfunc's request argument the one an op got (docs/generator.md):
    the verifier passes a kfunc a trusted pointer to the request struct R, or to a struct that
    has R at offset 0 (btf_struct_ids_match() walks it), or, when R is all scalars, any memory
    of its size. So R must never be taken by non-const pointer by an op (that op's const uses
    get a copy), never be embedded in another struct of the header, and have a zero-length
    array in the C view."""
    reqs = {}
    for k in kfuncs:
        reqs.setdefault(k.req, k)
    for f in st.type.get_fields():
        for c in f.get_children():
            if c.kind != ci.CursorKind.PARM_DECL:
                continue
            canon = c.type.get_canonical()
            if canon.kind != K.POINTER:
                continue
            pointee = canon.get_pointee()
            st_p = arg_struct(pointee)
            if st_p is not None and st_p.spelling in reqs and not pointee.is_const_qualified():
                k = reqs[st_p.spelling]
                raise GenError(f"{where(c)}: op {f.spelling}: parameter {c.spelling}: struct "
                               f"{st_p.spelling}, the request of kfunc {k.name} "
                               f"({where(k.cursor)}), must be taken as const only (`const "
                               f"struct {st_p.spelling} *`): the ops that take a struct some op "
                               "writes get a copy, beside which no kfunc could find the "
                               "module's data")

    def embeds(ty, what):
        canon = ty.get_canonical()
        if canon.kind in (K.CONSTANTARRAY, K.INCOMPLETEARRAY):
            embeds(canon.get_array_element_type(), what)
        elif canon.kind == K.RECORD:
            name = canon.get_declaration().spelling
            if name in reqs:
                k = reqs[name]
                raise GenError(f"{what}: embeds struct {name}, the request of kfunc {k.name} "
                               f"({where(k.cursor)}): the verifier would pass the outer struct "
                               "to the kfunc as a request; copy its fields instead")
            for fld in canon.get_fields():
                embeds(fld.type, what)

    for c in structs:
        for fld in c.type.get_fields():
            embeds(fld.type, f"{where(fld)}: {c.spelling}.{fld.spelling}")
    # The C view, as the module's BTF has it: without __BINDGEN__.
    ctu = parse(header, [f for f in flags if f != "-D__BINDGEN__"])
    cstructs = {c.spelling: c for c in structs_in(ctu, header)}
    for name, k in sorted(reqs.items()):
        c = cstructs.get(name)
        if c is None or not has_zero_length_array(c.type):
            at = where(c) if c is not None else where(k.cursor)
            raise GenError(f"{at}: struct {name}, the request of kfunc {k.name}, needs a "
                           "zero-length array member in its C view (e.g. `__u8 kernel_only[0];`"
                           " under #ifndef __BINDGEN__): a struct of scalars only would let "
                           "programs pass any memory of its size as the request "
                           "(__btf_type_is_scalar_struct() in kernel/bpf/verifier.c)")
    return reqs


def mark_kfunc_reqs(ty, members, reqs):
    """Ops take a request struct as `&KfuncReq<R, Data>`, the only place kfuncs find it."""
    data = f"<{ty} as {camel(ty)}Kfuncs>::Data"
    for m in members:
        if not m.is_op:
            continue
        for p in m.params:
            if p.kind == "in" and p.struct in reqs:
                p.kind = "kreq"
                p.rust = f"&crate::struct_ops::KfuncReq<{p.struct}, {data}>"


def gen_kfuncs_c(ty, kfuncs):
    if not kfuncs:
        return ""
    out = ["", "/* The header's kfuncs (__rso_kfunc): each forwards to its body in Rust. */"]
    for k in kfuncs:
        out.append(f"{k.c_ret} rso_{ty}_kf_{k.name}({k.c_sig()});")
    out += ["", "__bpf_kfunc_start_defs();", ""]
    for k in kfuncs:
        args = ", ".join(p.name for p in k.params)
        ret = "" if k.rust_ret is None else "return "
        out += [
            f"__bpf_kfunc {k.c_ret} {k.name}({k.c_sig()})",
            "{",
            f"\t{ret}rso_{ty}_kf_{k.name}({args});",
            "}",
            "",
        ]
    out += ["__bpf_kfunc_end_defs();", "", f"RSO_OPS_KFUNCS({ty},"]
    out.append("\n".join(f"\tBTF_ID_FLAGS(func, {k.name})" for k in kfuncs) + ");")
    return "\n".join(out) + "\n"


def gen_kfuncs_rust(ty, kfuncs):
    """The trait of the kfunc bodies (outside the sealed module) and, inside it, the wrappers the
    C forwarders call and the `OpsKfuncs` impl: `(outside, inside)`."""
    trait = camel(ty) + "Kfuncs"
    if not kfuncs:
        inside = [
            "",
            f"// The header declares no kfunc: `{ty}` registers none.",
            f"impl crate::struct_ops::OpsKfuncs for {ty} {{",
            "    fn register_kfuncs(_init: &crate::struct_ops::ModuleInit) -> kernel::error::Result {",
            "        Ok(())",
            "    }",
            "}",
        ]
        return [], inside
    outside = [
        "",
        f"/// The bodies of the kfuncs `{ty}`'s header declares (`__rso_kfunc`), which the module",
        f"/// implements on `{ty}` (so one `Data` type per ops type). A body runs only while a program",
        "/// of an op of this type runs (the kfunc set's filter refuses other programs), on the",
        "/// thread that called the op, and gets the request that op got. It runs inside the",
        "/// program: for a non-sleepable op under the RCU read lock with migration disabled, so it",
        "/// must not sleep.",
        f"pub(crate) trait {trait} {{",
        "    /// What the module keeps beside each request ([`KfuncReq::data`]): the ops take a",
        "    /// request as a `&KfuncReq<R, Self::Data>`, and the kfuncs get it back.",
        "    ///",
        "    /// [`KfuncReq::data`]: crate::struct_ops::KfuncReq::data",
        "    type Data;",
    ]
    data = f"<{ty} as {trait}>::Data"
    for k in kfuncs:
        args = ", ".join(f"{p.name}: {p.rust_type('Self::Data')}" for p in k.params)
        ret = "" if k.rust_ret is None else f" -> kernel::error::Result<{k.rust_ret}>"
        outside += [
            "",
            f"    /// `{k.c_ret} {k.name}({k.c_sig()})`"
            + ("; an error is returned as a negative errno." if k.rust_ret else "."),
            f"    fn {k.name}({args}){ret};",
        ]
    outside.append("}")
    inside = [""]
    if any(p.kind == "dynptr" for k in kfuncs for p in k.params):
        inside += [
            "unsafe extern \"C\" {",
            f"    fn rso_{ty}_dynptr_read(",
            "        dst: *mut core::ffi::c_void,",
            "        len: u32,",
            "        src: *const core::ffi::c_void,",
            "        offset: u32,",
            "    ) -> core::ffi::c_int;",
            f"    fn rso_{ty}_dynptr_write(",
            "        dst: *const core::ffi::c_void,",
            "        offset: u32,",
            "        src: *const core::ffi::c_void,",
            "        len: u32,",
            "    ) -> core::ffi::c_int;",
            "}",
            "",
            f"// SAFETY: `RSO_OPS_KFUNCS({ty}, ...)` in the C part defines both functions with these",
            "// signatures: `bpf_dynptr_read()` and `bpf_dynptr_write()` of the kernel.",
            "static RSO_DYNPTR_FNS: crate::struct_ops::DynptrFns = unsafe {",
            f"    crate::struct_ops::DynptrFns::new(rso_{ty}_dynptr_read, rso_{ty}_dynptr_write)",
            "};",
            "",
        ]
    for k in kfuncs:
        ffi = ", ".join(f"{p.name}: {p.ffi_type()}" for p in k.params)
        ret = "" if k.rust_ret is None else f" -> {k.rust_ret}"
        req = k.params[0]
        body = [
            f"/// The body of kfunc `{k.name}()`, which its C forwarder calls.",
            "///",
            "/// # Safety",
            "///",
            f"/// Only the C forwarder `{k.name}()` calls it, with the arguments the verifier checked",
            "/// for a BPF program: the request a trusted pointer, each dynptr an initialised dynptr of",
            "/// the program, valid for the call.",
            "#[no_mangle]",
            f"unsafe extern \"C\" fn rso_{ty}_kf_{k.name}({ffi}){ret} {{",
            f"    // SAFETY: The verifier passes this kfunc, as `{req.name}`, only a trusted pointer",
            f"    // (PTR_TO_BTF_ID) to a `{req.struct}` of this module's BTF, or to a struct that has one",
            "    // at offset 0. rust/rsogen.py checked that no struct of the header embeds it, and that",
            "    // its C view has a zero-length array, so that the verifier takes no other memory for",
            "    // it (`__btf_type_is_scalar_struct()`). Programs get such pointers only as op arguments",
            "    // of that type, never as a copy (no op takes it by non-const pointer), and every method",
            f"    // of `{camel(ty)}Calls` passes such an argument as a pointer to the first field",
            f"    // (`repr(C)`) of a `&KfuncReq<{req.struct}, {data}>`,",
            "    // derived from the whole reference, which lives until the op returns. The program",
            "    // calls this kfunc while the op runs, on the same thread: the pointer is to a live",
            "    // `KfuncReq` of that type, borrowed shared only.",
            f"    let {req.name} = unsafe {{",
            f"        &*{req.name}.cast::<crate::struct_ops::KfuncReq<{req.struct}, {data}>>()",
            "    };",
        ]
        for p in k.params[1:]:
            if p.kind == "dynptr":
                body += [
                    f"    // SAFETY: The verifier checked that `{p.name}` is an initialised dynptr of the calling",
                    "    // program, valid until the kfunc returns; the view lives only during this call.",
                    f"    let {p.name} = unsafe {{ crate::struct_ops::Dynptr::from_raw({p.name}, &RSO_DYNPTR_FNS) }};",
                ]
        args = ", ".join(("&" if p.kind == "dynptr" else "") + p.name for p in k.params)
        call = f"<{ty} as {trait}>::{k.name}({args})"
        if k.rust_ret is None:
            body.append(f"    {call}")
        else:
            body += [
                f"    match {call} {{",
                "        Ok(v) => v,",
                "        Err(e) => e.to_errno().into(),",
                "    }",
            ]
        body += ["}", ""]
        inside += body
    inside += [
        "unsafe extern \"C\" {",
        f"    fn rso_{ty}_register_kfuncs() -> core::ffi::c_int;",
        "}",
        "",
        f"// The header's kfuncs, registered by `StructOpsType::register()` with `{ty}`.",
        f"impl crate::struct_ops::OpsKfuncs for {ty} {{",
        "    fn register_kfuncs(init: &crate::struct_ops::ModuleInit) -> kernel::error::Result {",
        f"        // SAFETY: `RSO_OPS_KFUNCS({ty}, ...)` in the C part defines the function: it",
        "        // registers the kfunc set of this header.",
        f"        unsafe {{ crate::struct_ops::register_kfunc_set(init, rso_{ty}_register_kfuncs) }}",
        "    }",
        "}",
    ]
    return outside, inside


def gen_dispatch(ty, members, tu, header, call_structs):
    """`<Type>Calls::dispatch()`, for a header with one request struct `rso_<x>_call` and its op
    enum: each constant `RSO_<X>_OP_<NAME>` of the header whose NAME is an op's, upper-cased,
    and whose op takes only integers, each from the request's field of the parameter's name,
    calls that op. The call device's `call` can then be `inst.ops().dispatch(op, c)`."""
    if len(call_structs) != 1:
        return []
    call = call_structs[0]
    prefix = call[: -len("_call")].upper() + "_OP_"
    consts = {}
    for c in tu.cursor.get_children():
        if (c.kind == ci.CursorKind.ENUM_DECL and c.location.file
                and os.path.samefile(str(c.location.file), header)):
            for e in c.get_children():
                if e.kind == ci.CursorKind.ENUM_CONSTANT_DECL and e.spelling.startswith(prefix):
                    consts[e.spelling[len(prefix):].lower()] = e.spelling
    call_st = next(c for c in structs_in(tu, header) if c.spelling == call)
    fields = {f.spelling: f for f in call_st.type.get_fields()}
    arms = []
    for m in members:
        if not m.is_op or m.unsupported or m.name not in consts:
            continue
        if any(p.kind != "scalar" or p.name not in fields
               or fields[p.name].type.get_canonical().kind not in INTEGER_KINDS
               for p in m.params):
            continue
        args = ", ".join(f"c.{p.name}.try_into().map_err(|_| kernel::error::code::EINVAL)?"
                         for p in m.params)
        call_expr = f"self.{m.name}({args})" + ("?" if m.sleepable else "")
        if m.rust_ret is None:
            value = f"{call_expr}.map(|()| 0)"
        else:
            value = (f"match {call_expr} {{ Some(v) => Some(i64::try_from(v)"
                     ".map_err(|_| kernel::error::code::ERANGE)?), None => None }")
        arms.append(f"            {consts[m.name]} => {value},")
    if not arms:
        return []
    return [
        "",
        f"impl {camel(ty)}Calls<'_> {{",
        f"    /// Calls the op `op` names (`{prefix}*` of the header) with the fields of `c` of its",
        "    /// parameters' names; returns its value as an `i64` (0 for a `void` op), `None` when",
        "    /// BPF did not implement it, and `EINVAL` for an op number it does not dispatch or an",
        "    /// argument out of the parameter's range.",
        f"    pub fn dispatch(&self, op: u32, c: &mut {call}) -> kernel::error::Result<Option<i64>> {{",
        "        let _ = &c;",
        "        Ok(match op {",
        *arms,
        "            _ => return Err(kernel::error::code::EINVAL),",
        "        })",
        "    }",
        "}",
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--header", required=True)
    ap.add_argument("--type", required=True, help="the ops struct, e.g. hello_ops")
    ap.add_argument("--c", help="the C part to write")
    ap.add_argument("--rust", help="the typed Rust view to write")
    ap.add_argument("--list", metavar="PREFIX",
                    help="print `PREFIX type op param...` per op instead (`-` for an "
                         "unsupported op): what the selftests check the module's BTF against")
    ap.add_argument("flags", nargs="*", help="clang flags (after --)")
    a = ap.parse_args()
    if os.environ.get("LIBCLANG_PATH"):
        lib = os.path.join(os.environ["LIBCLANG_PATH"], "libclang.so")
        if os.path.exists(lib):
            ci.Config.set_library_file(lib)
    try:
        tu = parse(a.header, a.flags)
        structs = list(structs_in(tu, a.header))
        ops = [c for c in structs if c.spelling == a.type]
        if not ops:
            raise GenError(f"{a.header}: no definition of struct {a.type}")
        st = ops[0]
        for c in structs:
            if c.spelling != a.type and not c.spelling.endswith("_call"):
                HEADER_STRUCTS[c.spelling] = c
        members = [Member(f, st.type) for f in st.type.get_fields()]
        # Member 23 is BPF_TRACE_RAW_TP's value: for it btf_ctx_access() (kernel/bpf/btf.c) takes
        # the ops struct's name for a "btf_trace_<name>" and reads past its first 10 bytes.
        if len(members) > 23 and members[23].is_op and any(
                p.kind != "scalar" for p in members[23].params):
            raise GenError(f"{where(st)}: member 23 ({members[23].name}) is an op with pointer "
                           "arguments: btf_ctx_access() treats member 23 as a raw tracepoint "
                           "(BPF_TRACE_RAW_TP) and reads its name past the struct's; move it")
        if len(writable_structs(members)) > 8:
            raise GenError(f"{where(st)}: more than 8 structs that ops take by non-const "
                           "pointer")
        arg_structs = sorted({p.struct for m in members if m.is_op for p in m.params
                              if p.kind in ("in", "inout")})
        for name in arg_structs:
            check_arg_struct(HEADER_STRUCTS[name])
        check_c_view(a.header, a.flags, set(arg_structs), st)
        if not any(m.is_op for m in members):
            raise GenError(f"{where(st)}: struct {a.type} has no op")
        call_structs = []
        for c in structs:
            if c.spelling.startswith("rso_") and c.spelling.endswith("_call"):
                check_call_struct(c)
                call_structs.append(c.spelling)
        kfuncs = read_kfuncs(tu, a.header)
        if kfuncs:
            reqs = check_kfunc_reqs(kfuncs, st, structs, a.header, a.flags)
            mark_kfunc_reqs(a.type, members, reqs)
        if a.list:
            for m in members:
                if m.is_op:
                    params = ["-"] if m.unsupported else [p.c_name for p in m.params]
                    print(" ".join([a.list, a.type, m.name] + params))
            return 0
        if not a.c or not a.rust:
            raise GenError("--c and --rust are required")
        rso_h = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rso.h")
        c_text = gen_c(a.type, members, a.header, rso_h, structs) + gen_kfuncs_c(a.type, kfuncs)
        k_outside, k_inside = gen_kfuncs_rust(a.type, kfuncs)
        dispatch = gen_dispatch(a.type, members, tu, a.header, call_structs)
        rust_text = gen_rust(a.type, members, call_structs, plain_structs(HEADER_STRUCTS),
                             k_inside + dispatch)
        rust_text += "\n".join(k_outside) + ("\n" if k_outside else "")
    except GenError as e:
        print(f"rsogen: error: {e}", file=sys.stderr)
        return 1
    for path, text in ((a.c, c_text), (a.rust, rust_text)):
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
