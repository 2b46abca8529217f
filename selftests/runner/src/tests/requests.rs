// SPDX-License-Identifier: GPL-2.0

//! Malformed requests on every call device: wrong ioctl numbers and sizes, bad pointers,
//! out-of-range fields, every request kind, then seeded random requests. Each gets a clear
//! errno, nothing crashes or leaks (the harness checks the log), and the device still works.

use crate::{
    bpf::{
        attach,
        errno_name,
        load, //
    },
    ctx::{
        Ctx,
        Rng,
        FILTER,
        HELLO,
        TESTMOD, //
    },
    dev::{
        ioc,
        raw_ioctl,
        rso_ioc_call, //
    },
    filter,
    harness::{
        ensure,
        ensure_eq,
        TestResult, //
    },
    hello,
    test,
    testmod, //
};
use std::collections::BTreeMap;

/// A call device and what a well-formed request to it looks like.
struct Device {
    path: &'static str,
    /// `sizeof(struct rso_<x>_call)`.
    size: usize,
    /// The largest op number.
    max_op: u32,
    /// The object and map that implement every op.
    obj: &'static str,
    map: &'static str,
    /// What a request for `op` with valid arguments must return.
    valid: fn(u32) -> Result<(), i32>,
}

const DEVICES: &[Device] = &[
    Device {
        path: "/dev/rso_hello",
        size: std::mem::size_of::<hello::rso_hello_call>(),
        max_op: hello::RSO_HELLO_OP_TASK_PID_NULL,
        obj: "hello",
        map: "hello_link",
        valid: |_| Ok(()),
    },
    Device {
        path: "/dev/rso_filter",
        size: std::mem::size_of::<filter::rso_filter_call>(),
        max_op: filter::RSO_FILTER_OP_DECIDE,
        obj: "filter",
        map: "filter_a",
        valid: |_| Ok(()),
    },
    Device {
        path: "/dev/rso_testmod",
        size: std::mem::size_of::<testmod::rso_testmod_call>(),
        max_op: testmod::RSO_TESTMOD_OP_MAX,
        obj: "testmod",
        map: "tm_ok",
        // Registering after init is refused, by design; tm_ok does not implement past_args; the
        // FUSE request filter needs kernel/patches/fuse.
        valid: |op| match op {
            testmod::RSO_TESTMOD_OP_REGISTER_LATE => Err(libc::EBUSY),
            testmod::RSO_TESTMOD_OP_PAST_ARGS => Err(libc::EOPNOTSUPP),
            testmod::RSO_TESTMOD_OP_FUSE_FILTER
                if !crate::fusefs::has_filter().unwrap_or(false) =>
            {
                Err(libc::EOPNOTSUPP)
            }
            _ => Ok(()),
        },
    },
];

/// A request buffer: `struct rso_call_hdr`, then the type's fields (all `__s64`/`__u64`).
struct Req(Vec<u64>);

impl Req {
    fn new(d: &Device, map_id: u32, op: u32, arg: u64) -> Self {
        let mut r = Req(vec![0; d.size.div_ceil(8)]);
        r.0[0] = u64::from(map_id) | (u64::from(op) << 32);
        // The first field after the header: hello's a, filter's key, testmod's x.
        r.0[3] = arg;
        r
    }

    fn send(&mut self, d: &Device) -> Result<i32, i32> {
        raw_ioctl(d.path, rso_ioc_call(d.size), self.0.as_mut_ptr().cast())
    }
}

/// Two pages, the second inaccessible: a request that ends past the first page faults.
fn guard_pages() -> Result<*mut u8, String> {
    // SAFETY: Anonymous mappings; the pointer is used only as an ioctl argument.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            8192,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        ensure(p != libc::MAP_FAILED, || "mmap failed".into())?;
        libc::mprotect(p.cast::<u8>().add(4096).cast(), 4096, libc::PROT_NONE);
        Ok(p.cast())
    }
}

fn check_device(
    ctx: &Ctx,
    d: &Device,
    rng: &mut Rng,
    seen: &mut BTreeMap<String, u32>,
) -> TestResult {
    let mut obj = load(&ctx.obj(d.obj))?;
    let (_link, id) = attach(&mut obj, d.map)?;
    let s = d.size;
    // Wrong ioctl numbers and sizes: not this device's request.
    for cmd in [
        ioc(3, b'R', 2, s),
        ioc(3, b'X', 1, s),
        ioc(0, b'R', 1, 0),
        ioc(1, b'R', 1, s),
        ioc(2, b'R', 1, s),
        ioc(3, b'R', 1, s - 8),
        ioc(3, b'R', 1, s + 8),
        ioc(3, b'R', 1, 0),
    ] {
        let mut r = Req::new(d, id, 1, 1);
        let got = raw_ioctl(d.path, cmd, r.0.as_mut_ptr().cast());
        ensure_eq(
            &format!("{}: ioctl {cmd:#x}", d.path),
            got,
            Err(libc::ENOTTY),
        )?;
    }
    // Bad pointers.
    let guard = guard_pages()?;
    // SAFETY: Inside the first page of the two.
    let straddling = unsafe { guard.add(4096 - s / 2) };
    for (what, p) in [
        ("NULL", std::ptr::null_mut()),
        ("unmapped", 0x1000 as *mut u8),
        ("kernel", 0xffff_8880_0000_0000_u64 as *mut u8),
        ("straddling an unmapped page", straddling),
    ] {
        let got = raw_ioctl(d.path, rso_ioc_call(s), p);
        ensure_eq(
            &format!("{}: {what} pointer", d.path),
            got,
            Err(libc::EFAULT),
        )?;
    }
    // SAFETY: The mapping made above, not used any more.
    unsafe { libc::munmap(guard.cast(), 8192) };
    // Out-of-range fields.
    let bad: [(&str, Req, i32); 5] = [
        ("op max + 1", Req::new(d, id, d.max_op + 1, 1), libc::EINVAL),
        ("op u32::MAX", Req::new(d, id, u32::MAX, 1), libc::EINVAL),
        (
            "pad",
            {
                let mut r = Req::new(d, id, 1, 1);
                r.0[2] = 1 << 32;
                r
            },
            libc::EINVAL,
        ),
        ("map id u32::MAX", Req::new(d, u32::MAX, 1, 1), libc::ENOENT),
        (
            "map id 0x7fffffff",
            Req::new(d, 0x7fff_ffff, 1, 1),
            libc::ENOENT,
        ),
    ];
    for (what, mut r, errno) in bad {
        ensure_eq(&format!("{}: {what}", d.path), r.send(d), Err(errno))?;
    }
    if d.path != "/dev/rso_filter" {
        // hello's a and testmod's x are ints: a value that does not fit is refused.
        let mut r = Req::new(d, id, 1, i64::MAX as u64);
        ensure_eq(
            &format!("{}: argument beyond i32", d.path),
            r.send(d),
            Err(libc::EINVAL),
        )?;
    }
    // Every request kind, well formed (RSO_CALL_COUNT is op 0; testmod's WARN op with x = 0,
    // which does not warn, and its FUSE_FILTER op with x = 0, which detaches its filter: any other
    // x names a file descriptor, which a well-formed request cannot guess).
    for op in 0..=d.max_op {
        let arg = u64::from(
            d.path != "/dev/rso_testmod"
                || (op != testmod::RSO_TESTMOD_OP_WARN
                    && op != testmod::RSO_TESTMOD_OP_FUSE_FILTER),
        );
        let got = Req::new(d, id, op, arg).send(d).map(|_| ());
        let want = if op == 0 { Ok(()) } else { (d.valid)(op) };
        ensure_eq(&format!("{}: op {op}", d.path), got, want)?;
    }
    // Seeded random requests: any op (but the planted WARN), any map id, any argument.
    for _ in 0..200 {
        let op = rng.below(u64::from(d.max_op) + 3) as u32;
        let map_id = [0, id, rng.next() as u32][rng.below(3) as usize];
        let mut arg = rng.next() >> rng.below(64);
        if d.path == "/dev/rso_testmod" {
            if op == testmod::RSO_TESTMOD_OP_WARN {
                arg = 0;
            } else if op == testmod::RSO_TESTMOD_OP_TIMER
                || op == testmod::RSO_TESTMOD_OP_TIMER_SLEEPABLE
            {
                arg %= 50;
            }
        }
        let got = Req::new(d, map_id, op, arg).send(d);
        let kind = match got {
            Ok(_) => "ok".to_string(),
            // EBADF: testmod's FUSE_FILTER op given a descriptor the runner does not have.
            Err(
                e @ (libc::EINVAL | libc::ENOENT | libc::EOPNOTSUPP | libc::EBUSY | libc::EBADF),
            ) => errno_name(e),
            Err(e) => {
                return Err(format!(
                    "{}: op {op} map {map_id} arg {arg:#x}: unexpected {}",
                    d.path,
                    errno_name(e)
                ))
            }
        };
        *seen.entry(kind).or_default() += 1;
    }
    // rso_testmod's FUSE request filter, which the requests above may have registered, must not
    // stay: it pins the module, and other filters could not register.
    if d.path == "/dev/rso_testmod" {
        let got = Req::new(d, id, testmod::RSO_TESTMOD_OP_FUSE_FILTER, 0).send(d);
        ensure(matches!(got, Ok(0) | Err(libc::EOPNOTSUPP)), || {
            format!("unregister rso_testmod's FUSE filter: {got:?}")
        })?;
    }
    // The device still works.
    ensure_eq(
        &format!("{}: a valid call afterwards", d.path),
        Req::new(d, id, 1, 1).send(d),
        Ok(0),
    )
}

test!(bad_input_requests, needs: [HELLO, FILTER, TESTMOD]);
fn bad_input_requests(ctx: &mut Ctx) -> TestResult {
    println!(
        "# seed {} (make check T=bad_input_requests SEED={} replays it)",
        ctx.seed, ctx.seed
    );
    let mut rng = Rng::new(ctx.seed);
    let mut seen = BTreeMap::new();
    for d in DEVICES {
        check_device(ctx, d, &mut rng, &mut seen)?;
    }
    println!("# random requests: {seen:?}");
    ensure(seen.len() > 1, || {
        format!("random requests were all {seen:?}")
    })
}
