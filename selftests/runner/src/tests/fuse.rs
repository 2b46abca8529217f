// SPDX-License-Identifier: GPL-2.0

//! The fuse-bpf-style sample `rso_fuse`: the fast path of a BPF cache, a policy's errnos and
//! rewrites, the backing store, the daemon's hard cases (death, a detach in flight, concurrent
//! callers, a full queue, a malformed reply, a reader interrupted by a signal, a request the
//! daemon cannot take), and the bound of the benchmark's loops.

use crate::{
    bpf::{
        attach,
        attach_with_bytes,
        load, //
    },
    ctx::{
        Ctx,
        KillOnDrop,
        FUSE,
        FUSE_C, //
    },
    fuse::{
        self,
        Client,
        Daemon,
        DaemonFile,
        Mode,
        DAEMON_DATA,
        DAEMON_MODE,
        DAEMON_NODE, //
    },
    harness::{
        ensure,
        ensure_eq,
        TestResult, //
    },
    test,
};
use libbpf_rs::{
    Link,
    MapCore,
    MapFlags,
    Object, //
};
use std::{
    io::{
        BufRead,
        BufReader, //
    },
    os::unix::fs::FileExt,
    process::Stdio,
    sync::{
        atomic::{
            AtomicI32,
            Ordering::SeqCst, //
        },
        mpsc, //
    },
    time::{
        Duration,
        Instant, //
    },
};

/// The backing store's file `hello` (`samples/fuse/backing.rs`).
const HELLO_NODE: u64 = 2;
const HELLO_DATA: &[u8] = b"hello from the backing store\n";
const HELLO_MODE: u32 = 0o100644;

/// How long a blocked caller may take to see its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// Loads `obj` and attaches its struct_ops map `map`.
fn attached(ctx: &Ctx, obj: &str, map: &str) -> Result<(Object, Link), String> {
    crate::bpf::log::take();
    let mut o = load(&ctx.obj(obj)).map_err(|e| format!("{e}\n{}", crate::bpf::log::take()))?;
    let (link, _) = attach(&mut o, map)?;
    Ok((o, link))
}

fn client() -> Result<Client, String> {
    Client::open().map_err(|e| format!("open {}: errno {e}", fuse::DEV))
}

test!(fastpath_hit, needs: [FUSE]);
fn fastpath_hit(ctx: &mut Ctx) -> TestResult {
    let (_obj, _link) = attached(ctx, "fuse_cache", "cache")?;
    let daemon = Daemon::start("cache", Mode::Serve)?;
    let c = client()?;
    let attr = (DAEMON_DATA.len() as u64, DAEMON_MODE);
    ensure_eq("getattr, first", c.getattr("cache", DAEMON_NODE), Ok(attr))?;
    ensure_eq("requests the daemon saw", daemon.seen(), 1)?;
    ensure_eq("getattr, cached", c.getattr("cache", DAEMON_NODE), Ok(attr))?;
    ensure_eq("requests the daemon saw", daemon.seen(), 1)?;
    let data = Ok(DAEMON_DATA.to_vec());
    ensure_eq(
        "read, first",
        c.read("cache", DAEMON_NODE, 0, 64),
        data.clone(),
    )?;
    ensure_eq("requests the daemon saw", daemon.seen(), 2)?;
    ensure_eq("read, cached", c.read("cache", DAEMON_NODE, 0, 64), data)?;
    ensure_eq("requests the daemon saw", daemon.seen(), 2)?;
    daemon.stop()
}

test!(fastpath_miss_forwards, needs: [FUSE]);
fn fastpath_miss_forwards(ctx: &mut Ctx) -> TestResult {
    let (_obj, _link) = attached(ctx, "fuse_cache", "cache")?;
    let daemon = Daemon::start("cache", Mode::Serve)?;
    let c = client()?;
    // Not cached: each goes to the daemon.
    let attr = (DAEMON_DATA.len() as u64, DAEMON_MODE);
    ensure_eq("getattr 101", c.getattr("cache", DAEMON_NODE + 1), Ok(attr))?;
    ensure_eq("getattr 102", c.getattr("cache", DAEMON_NODE + 2), Ok(attr))?;
    ensure_eq("requests the daemon saw", daemon.seen(), 2)?;
    // No lookup prefilter: the daemon by default.
    ensure_eq(
        "lookup daemon",
        c.lookup("cache", "daemon"),
        Ok(DAEMON_NODE),
    )?;
    ensure_eq(
        "lookup nothing",
        c.lookup("cache", "nothing"),
        Err(libc::ENOENT),
    )?;
    // Reads at an offset are not cached.
    let tail = DAEMON_DATA[5..].to_vec();
    ensure_eq(
        "read at 5",
        c.read("cache", DAEMON_NODE, 5, 64),
        Ok(tail.clone()),
    )?;
    ensure_eq(
        "read at 5, again",
        c.read("cache", DAEMON_NODE, 5, 64),
        Ok(tail),
    )?;
    ensure_eq("requests the daemon saw", daemon.seen(), 6)?;
    daemon.stop()
}

test!(prefilter_errno, needs: [FUSE]);
fn prefilter_errno(ctx: &mut Ctx) -> TestResult {
    let (_obj, _link) = attached(ctx, "fuse_policy", "policy")?;
    let c = client()?;
    ensure_eq(
        "lookup secret",
        c.lookup("policy", "secret"),
        Err(libc::EACCES),
    )?;
    ensure_eq(
        "write",
        c.write("policy", HELLO_NODE, 0, b"x"),
        Err(libc::EROFS),
    )?;
    // The module stays usable, and the backing store unchanged.
    ensure_eq("lookup hello", c.lookup("policy", "hello"), Ok(HELLO_NODE))?;
    ensure_eq(
        "read hello",
        c.read("policy", HELLO_NODE, 0, 5),
        Ok(b"hello".to_vec()),
    )
}

test!(postfilter_rewrites, needs: [FUSE]);
fn postfilter_rewrites(ctx: &mut Ctx) -> TestResult {
    let (_obj, _link) = attached(ctx, "fuse_policy", "policy")?;
    let c = client()?;
    // The backing store says 0100644; the postfilter clears the write bits.
    ensure_eq(
        "getattr hello",
        c.getattr("policy", HELLO_NODE),
        Ok((HELLO_DATA.len() as u64, HELLO_MODE & !0o222)),
    )?;
    // A daemon's reply goes through the postfilter too.
    let daemon = Daemon::start("policy", Mode::Serve)?;
    ensure_eq(
        "getattr of the daemon's node",
        c.getattr("policy", DAEMON_NODE),
        Ok((DAEMON_DATA.len() as u64, DAEMON_MODE & !0o222)),
    )?;
    ensure_eq("requests the daemon saw", daemon.seen(), 1)?;
    daemon.stop()
}

test!(backing_continue, needs: [FUSE]);
fn backing_continue(ctx: &mut Ctx) -> TestResult {
    let (_obj, _link) = attached(ctx, "fuse_policy", "policy")?;
    let c = client()?;
    // No daemon at all: the backing store answers in the kernel.
    ensure_eq("lookup hello", c.lookup("policy", "hello"), Ok(HELLO_NODE))?;
    ensure_eq(
        "lookup nothing",
        c.lookup("policy", "nothing"),
        Err(libc::ENOENT),
    )?;
    // The prefilter rewrites the read's size to 8 bytes.
    let got = c.read("policy", HELLO_NODE, 0, 64);
    ensure_eq("read 64 at 0", got, Ok(HELLO_DATA[..8].to_vec()))?;
    let got = c.read("policy", HELLO_NODE, 6, 4);
    ensure_eq("read 4 at 6", got, Ok(HELLO_DATA[6..10].to_vec()))?;
    // What the policy sends to the daemon fails without one.
    ensure_eq(
        "lookup daemon",
        c.lookup("policy", "daemon"),
        Err(libc::ENOTCONN),
    )
}

/// Runs `n` getattrs of the daemon's nodes on `conn`, each on its own thread; their answers
/// arrive on the returned channel.
fn callers(conn: &'static str, n: u64) -> mpsc::Receiver<Result<(u64, u32), i32>> {
    let (tx, rx) = mpsc::channel();
    for i in 0..n {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let r = Client::open().and_then(|c| c.getattr(conn, DAEMON_NODE + i));
            let _ = tx.send(r);
        });
    }
    rx
}

/// The `n` answers of `rx`, each within [`ANSWER_TIMEOUT`].
fn answers<T>(rx: &mpsc::Receiver<T>, n: usize) -> Result<Vec<T>, String> {
    (0..n)
        .map(|i| {
            rx.recv_timeout(ANSWER_TIMEOUT)
                .map_err(|_| format!("caller {i} hangs"))
        })
        .collect()
}

test!(daemon_death_errors, needs: [FUSE]);
fn daemon_death_errors(ctx: &mut Ctx) -> TestResult {
    // The daemon: a process that reads requests and never answers.
    let mut daemon = KillOnDrop(
        ctx.child("fuse-hold")?
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?,
    );
    let mut out = BufReader::new(daemon.0.stdout.take().ok_or("no stdout")?);
    let mut line = String::new();
    out.read_line(&mut line).map_err(|e| e.to_string())?;
    ensure_eq("the daemon's first line", line.trim(), "ready")?;
    let rx = callers("death", 3);
    for i in 0..3 {
        line.clear();
        out.read_line(&mut line).map_err(|e| e.to_string())?;
        ensure(line.starts_with("read "), || {
            format!("request {i}: the daemon said {line:?}")
        })?;
    }
    // It dies with three requests read and unanswered: each caller gets ENOTCONN.
    daemon.0.kill().map_err(|e| e.to_string())?;
    let _ = daemon.0.wait();
    for r in answers(&rx, 3)? {
        ensure_eq("a caller's answer", r, Err(libc::ENOTCONN))?;
    }
    let c = client()?;
    ensure_eq(
        "getattr without a daemon",
        c.getattr("death", DAEMON_NODE),
        Err(libc::ENOTCONN),
    )?;
    // The name is free again, and a new daemon serves it.
    let d = Daemon::start("death", Mode::Serve)?;
    ensure_eq(
        "getattr, new daemon",
        c.getattr("death", DAEMON_NODE),
        Ok((DAEMON_DATA.len() as u64, DAEMON_MODE)),
    )?;
    d.stop()
}

test!(detach_inflight, needs: [FUSE]);
fn detach_inflight(ctx: &mut Ctx) -> TestResult {
    let (obj, link) = attached(ctx, "fuse_cache", "cache")?;
    let mut daemon = Daemon::start("cache", Mode::Gated)?;
    let read = daemon.read.take().ok_or("no read channel")?;
    let rx = callers("cache", 1);
    let unique = read
        .recv_timeout(ANSWER_TIMEOUT)
        .map_err(|_| "the request did not reach the daemon")?;
    ensure(unique > 0, || "unique id 0".into())?;
    // Detach while the request waits for the daemon: this must not wait for it.
    link.detach().map_err(|e| format!("detach: {e}"))?;
    drop(link);
    daemon.open_gate();
    let got = answers(&rx, 1)?.remove(0);
    ensure_eq(
        "the answer",
        got,
        Ok((DAEMON_DATA.len() as u64, DAEMON_MODE)),
    )?;
    // The postfilter of the detached instance ran, safely, and filled the cache.
    let attrs = obj
        .maps()
        .find(|m| m.name() == "attrs")
        .ok_or("no map attrs")?;
    let cached = attrs
        .lookup(&DAEMON_NODE.to_ne_bytes(), MapFlags::ANY)
        .map_err(|e| e.to_string())?;
    ensure(cached.is_some(), || "the postfilter did not run".into())?;
    // A new instance can bind the connection.
    let (_obj2, _link2) = attached(ctx, "fuse_cache", "cache")?;
    daemon.open_gate();
    daemon.stop()
}

test!(concurrent_callers, needs: [FUSE]);
fn concurrent_callers(ctx: &mut Ctx) -> TestResult {
    let (_cache, _l1) = attached(ctx, "fuse_cache", "cache")?;
    let (_policy, _l2) = attached(ctx, "fuse_policy", "policy")?;
    let daemon = Daemon::start("cache", Mode::Serve)?;
    let rounds = if ctx.full { 1000 } else { 100 };
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..4u64)
            .map(|t| {
                s.spawn(move || -> Result<(), String> {
                    let c = client()?;
                    let attr = (DAEMON_DATA.len() as u64, DAEMON_MODE);
                    for i in 0..rounds {
                        let node = DAEMON_NODE + (i + t) % 5;
                        ensure_eq("getattr", c.getattr("cache", node), Ok(attr))?;
                        let data = c.read("cache", DAEMON_NODE, 0, 64);
                        ensure_eq("read", data, Ok(DAEMON_DATA.to_vec()))?;
                        ensure_eq("lookup", c.lookup("cache", "daemon"), Ok(DAEMON_NODE))?;
                        let back = c.read("policy", HELLO_NODE, 0, 64);
                        ensure_eq("backing read", back, Ok(HELLO_DATA[..8].to_vec()))?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().map_err(|_| "a caller panicked".to_string())?)
    })?;
    println!(
        "# 4 callers x {rounds} rounds; the daemon saw {} requests",
        daemon.seen()
    );
    daemon.stop()
}

test!(queue_full, needs: [FUSE]);
fn queue_full(_ctx: &mut Ctx) -> TestResult {
    let max = fuse::RSO_FUSE_QUEUE_MAX as usize;
    // The test is the daemon: it reads every request, then answers none for a while.
    let d = DaemonFile::mount("queue").map_err(|e| format!("mount: errno {e}"))?;
    let rx = callers("queue", max as u64);
    let mut held = Vec::new();
    for _ in 0..max {
        held.push(d.read_req().map_err(|e| format!("read_req: errno {e}"))?);
    }
    let c = client()?;
    ensure_eq(
        "one request more",
        c.getattr("queue", DAEMON_NODE),
        Err(libc::EAGAIN),
    )?;
    for q in &held {
        d.reply(&mut fuse::serve(q))
            .map_err(|e| format!("reply: errno {e}"))?;
    }
    for r in answers(&rx, max)? {
        ensure_eq(
            "a caller's answer",
            r,
            Ok((DAEMON_DATA.len() as u64, DAEMON_MODE)),
        )?;
    }
    // Room again.
    let rx = callers("queue", 1);
    let q = d.read_req().map_err(|e| format!("read_req: errno {e}"))?;
    d.reply(&mut fuse::serve(&q))
        .map_err(|e| format!("reply: errno {e}"))?;
    ensure_eq(
        "after the queue drained",
        answers(&rx, 1)?.remove(0).is_ok(),
        true,
    )
}

test!(bad_daemon_reply, needs: [FUSE]);
fn bad_daemon_reply(_ctx: &mut Ctx) -> TestResult {
    let c = client()?;
    let daemon = Daemon::start("bad", Mode::Malformed)?;
    // A reply with more data than the read asked for: the request fails with EIO.
    ensure_eq("read", c.read("bad", DAEMON_NODE, 0, 8), Err(libc::EIO))?;
    daemon.stop()?;
    // A reply to no request, and one with a positive error.
    let d = DaemonFile::mount("bad").map_err(|e| format!("mount: errno {e}"))?;
    let mut stray = fuse::rso_fuse_dreply {
        unique: 12345,
        ..Default::default()
    };
    ensure_eq(
        "a reply to no request",
        d.reply(&mut stray),
        Err(libc::ENOENT),
    )?;
    let rx = callers("bad", 1);
    let q = d.read_req().map_err(|e| format!("read_req: errno {e}"))?;
    let mut r = fuse::serve(&q);
    r.error = 5;
    ensure_eq("a positive error", d.reply(&mut r), Err(libc::EINVAL))?;
    ensure_eq("its caller", answers(&rx, 1)?.remove(0), Err(libc::EIO))?;
    // The module, and the connection, stay usable.
    let rx = callers("bad", 1);
    let q = d.read_req().map_err(|e| format!("read_req: errno {e}"))?;
    d.reply(&mut fuse::serve(&q))
        .map_err(|e| format!("reply: errno {e}"))?;
    ensure_eq(
        "a good reply",
        answers(&rx, 1)?.remove(0),
        Ok((DAEMON_DATA.len() as u64, DAEMON_MODE)),
    )
}

test!(fuse_bad_input, needs: [FUSE]);
/// Bad requests, bad map values and a second instance for a bound connection: each refused with
/// a clear errno, and nothing lost.
fn fuse_bad_input(ctx: &mut Ctx) -> TestResult {
    let c = client()?;
    let (_obj, _link) = attached(ctx, "fuse_policy", "policy")?;
    let long = "n".repeat(fuse::RSO_FUSE_NAME_MAX as usize + 1);
    let cases: [(&str, Result<fuse::Answer, i32>); 5] = [
        ("opcode 0", c.request("policy", 0, 1, "", 0, Err(0))),
        ("opcode 99", c.request("policy", 99, 1, "", 0, Err(0))),
        (
            "a name too long",
            c.request("policy", fuse::RSO_FUSE_LOOKUP, 1, &long, 0, Err(0)),
        ),
        (
            "a read too big",
            c.request("policy", fuse::RSO_FUSE_READ, 2, "", 0, Err(257)),
        ),
        (
            "no connection name",
            c.request("", fuse::RSO_FUSE_LOOKUP, 1, "hello", 0, Err(0)),
        ),
    ];
    for (what, got) in cases {
        ensure_eq(what, got.map(drop), Err(libc::EINVAL))?;
    }
    // A connection name that fills its 16 bytes has no NUL.
    let full = "c".repeat(fuse::RSO_FUSE_CONN_MAX as usize);
    ensure_eq(
        "a name without NUL",
        c.lookup(&full, "hello").map(drop),
        Err(libc::EINVAL),
    )?;
    // An instance whose conn is empty, or not NUL-terminated, is refused (init_member).
    let conn = std::mem::offset_of!(fuse::fuse_ops, conn);
    let path = ctx.obj("fuse_policy");
    for (what, bytes) in [("empty", vec![0u8; 16]), ("unterminated", vec![b'x'; 16])] {
        let got = attach_with_bytes(&path, "policy", conn, &bytes)?;
        ensure(got.is_err(), || {
            format!("an instance with an {what} conn was attached")
        })?;
    }
    // A second instance for a bound connection: EEXIST, and the first stays bound.
    let got = attach_with_bytes(&path, "policy", conn, b"policy\0")?;
    match got {
        Ok(_) => return Err("a second instance bound \"policy\"".into()),
        Err(e) => ensure(e.contains("File exists"), || {
            format!("want EEXIST, got: {e}")
        })?,
    }
    ensure_eq(
        "lookup secret",
        c.lookup("policy", "secret"),
        Err(libc::EACCES),
    )?;
    ensure_eq("lookup hello", c.lookup("policy", "hello"), Ok(HELLO_NODE))
}

/// The thread that last ran [`on_sigusr1`].
static SIGNALLED: AtomicI32 = AtomicI32::new(0);

/// Records its thread: a signal that interrupts a blocked ioctl (`EINTR`).
extern "C" fn on_sigusr1(_sig: libc::c_int) {
    // gettid() is async-signal-safe, and a store is.
    SIGNALLED.store(gettid(), SeqCst);
}

/// Catches `SIGUSR1` with [`on_sigusr1`], without `SA_RESTART`.
fn catch_sigusr1() -> Result<(), String> {
    // SAFETY: A zeroed `sigaction` is a valid value; the handler is async-signal-safe, and the
    // old action is not asked for.
    let r = unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigusr1 as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut())
    };
    ensure(r == 0, || {
        format!("sigaction: {}", std::io::Error::last_os_error())
    })
}

fn gettid() -> libc::pid_t {
    // SAFETY: gettid() has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as libc::pid_t }
}

/// Waits until thread `tid` of this process sleeps (state `S`), up to [`ANSWER_TIMEOUT`].
fn wait_sleeping(tid: libc::pid_t) -> TestResult {
    let path = format!("/proc/self/task/{tid}/stat");
    let start = Instant::now();
    loop {
        let stat = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.trim_start().chars().next());
        if state == Some('S') {
            return Ok(());
        }
        if start.elapsed() > ANSWER_TIMEOUT {
            return Err(format!("thread {tid} does not sleep: state {state:?}"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The CPU the race runs on.
const RACE_CPU: usize = 0;
/// `SCHED_FIFO` priorities: the caller preempts the signaller, which preempts reader A (a
/// normal task); none of them spins.
const SIGNALLER_PRIO: libc::c_int = 10;
const CALLER_PRIO: libc::c_int = 20;

/// Runs the calling thread on [`RACE_CPU`] only (the call migrates it there before it returns).
fn pin_to_race_cpu() -> Result<(), String> {
    // SAFETY: A zeroed `cpu_set_t` is an empty set; `CPU_SET` writes within it, and the kernel
    // reads `size_of::<cpu_set_t>()` bytes of it.
    let r = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(RACE_CPU, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    ensure(r == 0, || {
        format!(
            "sched_setaffinity(CPU {RACE_CPU}): {}",
            std::io::Error::last_os_error()
        )
    })
}

/// Makes the calling thread `SCHED_FIFO` at `prio` (root in the VM; no RT cgroups).
fn set_fifo(prio: libc::c_int) -> Result<(), String> {
    let p = libc::sched_param {
        sched_priority: prio,
    };
    // SAFETY: `p` is a valid `sched_param`; pid 0 is the calling thread.
    let r = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &p) };
    ensure(r == 0, || {
        format!(
            "sched_setscheduler(SCHED_FIFO, {prio}): {}",
            std::io::Error::last_os_error()
        )
    })
}

/// A thread's scheduling state, from its `/proc` status: its state letter, and how often it
/// was switched out (voluntarily, involuntarily). A thread that ran since a snapshot was
/// switched out since (or runs now): one of the counts grew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sched {
    state: char,
    switches: (u64, u64),
}

/// The `/proc` status of a thread of this process, opened once: each [`TaskStatus::read`] is
/// one `pread` at offset 0 (the seq_file shows the file again), with no path walk and, once
/// warm, no allocation that could put the reader to sleep.
struct TaskStatus(std::fs::File);

impl TaskStatus {
    fn open(tid: libc::pid_t) -> Result<Self, String> {
        let path = format!("/proc/self/task/{tid}/status");
        std::fs::File::open(&path)
            .map(Self)
            .map_err(|e| format!("{path}: {e}"))
    }

    fn read(&self) -> Result<Sched, String> {
        let mut buf = [0u8; 8192];
        let n = self
            .0
            .read_at(&mut buf, 0)
            .map_err(|e| format!("read a thread's status: {e}"))?;
        let text = std::str::from_utf8(&buf[..n]).map_err(|_| "a status that is not UTF-8")?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .ok_or_else(|| format!("no {name} in a thread's status"))
        };
        let count = |name: &str| -> Result<u64, String> {
            field(name)?.parse().map_err(|e| format!("{name} {e}"))
        };
        Ok(Sched {
            state: field("State:")?.chars().next().unwrap_or('?'),
            switches: (
                count("voluntary_ctxt_switches:")?,
                count("nonvoluntary_ctxt_switches:")?,
            ),
        })
    }

    /// The state of a thread asleep for good: `S`, and the same over 5 ms (a thread in state
    /// `S` may still be on its way out of the CPU).
    fn asleep(&self) -> Result<Sched, String> {
        let start = Instant::now();
        loop {
            let s = self.read()?;
            std::thread::sleep(Duration::from_millis(5));
            if s.state == 'S' && self.read()? == s {
                return Ok(s);
            }
            if start.elapsed() > ANSWER_TIMEOUT {
                return Err(format!("reader A does not sleep: {s:?}"));
            }
        }
    }
}

/// What the signaller saw of reader A: asleep before the round, just before its `tgkill`, and
/// just after it.
#[derive(Debug)]
struct Signalled {
    asleep: Sched,
    before: Sched,
    after: Sched,
}

impl Signalled {
    /// A was woken (state `R`) before the signal and had not run since it went to sleep when
    /// the signal was sent: the signaller ran on A's only CPU, so A was not running then, and
    /// it had not been switched out since. A's first look at its signals, after its wakeup,
    /// saw the signal pending.
    fn woken_and_not_run(&self) -> bool {
        self.before.state == 'R'
            && self.before.switches == self.asleep.switches
            && self.after.switches == self.asleep.switches
    }
}

/// The threads of one round and what the caller got.
type RaceThreads<'scope> = (
    std::thread::ScopedJoinHandle<'scope, Result<(&'static str, bool), String>>,
    std::thread::ScopedJoinHandle<'scope, Result<u64, String>>,
    std::thread::ScopedJoinHandle<'scope, Result<Signalled, String>>,
    Result<Result<(u64, u32), i32>, String>,
);

/// Sets up one round on `d`'s connection and waits for the caller's answer (see
/// [`fuse_daemon_eintr_no_lost_wakeup`]). Every thread returns once `d` is unmounted.
fn eintr_race<'scope>(
    s: &'scope std::thread::Scope<'scope, '_>,
    d: &'scope fuse::DaemonFile,
) -> Result<RaceThreads<'scope>, String> {
    SIGNALLED.store(0, SeqCst);
    // Reader A, a normal task on the race CPU only: one read, which a signal may interrupt.
    let (tx, rx) = mpsc::channel();
    let a = s.spawn(move || -> Result<(&'static str, bool), String> {
        let pinned = pin_to_race_cpu();
        let _ = tx.send(pinned.clone().map(|()| gettid()));
        pinned?;
        let got = d.read_req();
        // The signal, if sent, was handled when the read returned.
        let signalled = SIGNALLED.load(SeqCst) == gettid();
        let how = match got {
            Ok(q) => {
                d.reply(&mut fuse::serve(&q))
                    .map_err(|e| format!("reader A: reply: errno {e}"))?;
                "served"
            }
            Err(libc::EINTR) => "interrupted",
            Err(libc::ENOTCONN) => "unmounted",
            Err(e) => return Err(format!("reader A: read_req: errno {e}")),
        };
        Ok((how, signalled))
    });
    let tid_a = rx
        .recv_timeout(ANSWER_TIMEOUT)
        .map_err(|_| "reader A did not start".to_string())??;
    wait_sleeping(tid_a)?;
    // Reader B, anywhere: it waits behind A, and serves until the connection goes.
    let (tx, rx) = mpsc::channel();
    let b = s.spawn(move || -> Result<u64, String> {
        let _ = tx.send(gettid());
        let mut served = 0;
        loop {
            match d.read_req() {
                Ok(q) => {
                    d.reply(&mut fuse::serve(&q))
                        .map_err(|e| format!("reader B: reply: errno {e}"))?;
                    served += 1;
                }
                Err(libc::ENOTCONN) => return Ok(served),
                Err(e) => return Err(format!("reader B: read_req: errno {e}")),
            }
        }
    });
    let tid_b = rx
        .recv_timeout(ANSWER_TIMEOUT)
        .map_err(|_| "reader B did not start".to_string())?;
    wait_sleeping(tid_b)?;
    // The signaller: SCHED_FIFO on the race CPU, asleep until the caller fires it.
    let (ready_tx, ready_rx) = mpsc::channel();
    let (fire_tx, fire_rx) = mpsc::channel::<()>();
    let sig = s.spawn(move || -> Result<Signalled, String> {
        let setup = (|| {
            pin_to_race_cpu()?;
            set_fifo(SIGNALLER_PRIO)?;
            let status = TaskStatus::open(tid_a)?;
            let asleep = status.asleep()?;
            Ok::<_, String>((status, asleep))
        })();
        let _ = ready_tx.send(setup.as_ref().map(drop).map_err(Clone::clone));
        let (status, asleep) = setup?;
        fire_rx
            .recv_timeout(ANSWER_TIMEOUT)
            .map_err(|_| "the caller did not fire the signaller".to_string())?;
        // The caller sleeps in its request: A is woken, and waits for this CPU.
        let before = status.read()?;
        // SAFETY: tgkill() only sends a signal, which `on_sigusr1` catches.
        let r = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid_a, libc::SIGUSR1) };
        let err = std::io::Error::last_os_error();
        let after = status.read()?;
        ensure(r == 0, || format!("tgkill: {err}"))?;
        Ok(Signalled {
            asleep,
            before,
            after,
        })
    });
    ready_rx
        .recv_timeout(ANSWER_TIMEOUT)
        .map_err(|_| "the signaller did not start".to_string())??;
    // The caller: SCHED_FIFO above the signaller on the race CPU. It wakes the signaller, which
    // cannot run before it sleeps, then sends the request: the request is queued and A woken,
    // and A cannot run either. When the caller sleeps for the reply the signaller runs first,
    // signals A, and returns; only then does A run.
    let (ans_tx, ans_rx) = mpsc::channel();
    s.spawn(move || {
        let got = (|| {
            let c = client()?;
            pin_to_race_cpu()?;
            set_fifo(CALLER_PRIO)?;
            fire_tx
                .send(())
                .map_err(|_| "the signaller is gone".to_string())?;
            Ok(c.getattr("eintr", DAEMON_NODE))
        })();
        let _ = ans_tx.send(got);
    });
    let got = match ans_rx.recv_timeout(ANSWER_TIMEOUT) {
        Ok(got) => got,
        Err(_) => Err(format!(
            "the caller had no answer in {ANSWER_TIMEOUT:?}: the request was lost"
        )),
    };
    Ok((a, b, sig, got))
}

test!(fuse_daemon_eintr_no_lost_wakeup, needs: [FUSE]);
/// Two daemon readers on one connection; a request arrives, and the reader that waited first
/// (the one the notification wakes, `prepare_to_wait_exclusive` queues at the tail) is woken
/// with a signal pending, and does not read again. The request must still be served: a woken
/// reader takes a queued request before it returns `EINTR`.
///
/// The order is forced on one CPU, without a spinning thread: A (a normal task) sleeps first,
/// then B; the caller (`SCHED_FIFO` 20) wakes the signaller (`SCHED_FIFO` 10), which cannot
/// preempt it, and sends the request, whose `notify_one` makes A runnable; the caller sleeps
/// for the reply, the signaller runs (a real-time task before a normal one) and signals A,
/// then sleeps, and A runs, woken and with a signal pending. Each round checks that A was
/// woken and had not run when the signal was sent, and that A handled it.
fn fuse_daemon_eintr_no_lost_wakeup(ctx: &mut Ctx) -> TestResult {
    catch_sigusr1()?;
    let rounds = if ctx.full { 20 } else { 5 };
    let (mut by_a, mut by_b) = (0, 0);
    for round in 0..rounds {
        let d = fuse::DaemonFile::mount("eintr").map_err(|e| format!("mount: errno {e}"))?;
        let (race, a, b, sig) = std::thread::scope(|s| {
            let race = eintr_race(s, &d);
            // Whatever happened: unmount (the readers and any caller get ENOTCONN), then join
            // (the scope joins the threads of a round that failed early).
            let _ = d.abort();
            match race {
                Ok((a, b, sig, got)) => {
                    let join = |what: &str| format!("{what} panicked");
                    let a = a.join().map_err(|_| join("reader A"))?;
                    let b = b.join().map_err(|_| join("reader B"))?;
                    let sig = sig.join().map_err(|_| join("the signaller"))?;
                    Ok((got, a, b, sig))
                }
                Err(e) => Err(e),
            }
        })
        .map_err(|e| format!("round {round}: {e}"))?;
        let (how, signalled) = a.map_err(|e| format!("round {round}: {e}"))?;
        let served_by_b = b.map_err(|e| format!("round {round}: {e}"))?;
        let sig = sig.map_err(|e| format!("round {round}: the signaller: {e}"))?;
        // The race was set up: A was woken, and had not run, when the signal came, and A
        // handled it when its read returned.
        let set_up = sig.woken_and_not_run() && signalled;
        let got = race.map_err(|e| {
            format!(
                "round {round}: {e} (reader A, woken with a signal pending: {set_up}, \
                 {how}; reader B served {served_by_b})"
            )
        })?;
        ensure_eq(
            &format!("round {round}: the caller's answer"),
            got,
            Ok((DAEMON_DATA.len() as u64, DAEMON_MODE)),
        )?;
        ensure(set_up, || {
            format!("round {round}: the race was not set up: reader A {sig:?}, signal handled by A: {signalled}")
        })?;
        match (how, served_by_b) {
            ("served", 0) => by_a += 1,
            ("interrupted", 1) => by_b += 1,
            _ => {
                return Err(format!(
                    "round {round}: reader A {how}, reader B served {served_by_b}"
                ))
            }
        }
    }
    println!(
        "# reader A was woken with a signal pending in {rounds} of {rounds} rounds; \
         the request was served by A in {by_a}, by B in {by_b}"
    );
    Ok(())
}

test!(fuse_fail_without_memory_answers, needs: [FUSE]);
/// The daemon reads requests into a bad buffer: it cannot take them, and each caller gets
/// `EIO` at once. Answering them allocates nothing (the room was allocated when each request
/// was queued), so this path cannot fail for want of memory; no allocation failure is injected.
fn fuse_fail_without_memory_answers(_ctx: &mut Ctx) -> TestResult {
    let max = fuse::RSO_FUSE_QUEUE_MAX as usize;
    let d = DaemonFile::mount("failmem").map_err(|e| format!("mount: errno {e}"))?;
    let rx = callers("failmem", max as u64);
    for i in 0..max {
        ensure_eq(
            &format!("read {i} into a bad buffer"),
            d.read_req_bad_buffer(),
            Err(libc::EFAULT),
        )?;
    }
    for r in answers(&rx, max)? {
        ensure_eq("a caller's answer", r, Err(libc::EIO))?;
    }
    // The connection stays usable, with its whole queue.
    let rx = callers("failmem", max as u64);
    for _ in 0..max {
        let q = d.read_req().map_err(|e| format!("read_req: errno {e}"))?;
        d.reply(&mut fuse::serve(&q))
            .map_err(|e| format!("reply: errno {e}"))?;
    }
    for r in answers(&rx, max)? {
        ensure_eq(
            "a caller's answer",
            r,
            Ok((DAEMON_DATA.len() as u64, DAEMON_MODE)),
        )?;
    }
    Ok(())
}

test!(bench_loop_bounded, needs: [FUSE, FUSE_C]);
/// The benchmark's ioctl never sleeps, so both modules bound its loops to
/// `RSO_FUSE_BENCH_LOOPS_MAX` (`E2BIG` beyond) instead of looping up to `u32::MAX` times.
fn bench_loop_bounded(ctx: &mut Ctx) -> TestResult {
    let (_rust, _l1) = attached(ctx, "fuse_bench", "bench")?;
    let (_c, _l2) = attached(ctx, "fuse_c_bench", "bench")?;
    let max = fuse::RSO_FUSE_BENCH_LOOPS_MAX;
    for dev in [fuse::DEV, fuse::C_DEV] {
        for kind in [fuse::RSO_FUSE_BENCH_CALL0, fuse::RSO_FUSE_BENCH_CALL5] {
            for loops in [max + 1, u32::MAX] {
                ensure_eq(
                    &format!("{dev}: kind {kind}, {loops} loops"),
                    fuse::bench(dev, "bench", kind, loops).map(drop),
                    Err(libc::E2BIG),
                )?;
            }
        }
        // bench0 returns 1.
        ensure_eq(
            &format!("{dev}: 1000 loops"),
            fuse::bench(dev, "bench", fuse::RSO_FUSE_BENCH_CALL0, 1000).map(|(_, sum)| sum),
            Ok(1000),
        )?;
    }
    ensure_eq(
        "lookups beyond the bound",
        fuse::bench(fuse::DEV, "bench", fuse::RSO_FUSE_BENCH_LOOKUP, max + 1).map(drop),
        Err(libc::E2BIG),
    )?;
    // The bound itself is accepted (the C twin's native floor: fast even under emulation).
    ensure_eq(
        "the C twin's floor at the bound",
        fuse::bench(fuse::C_DEV, "bench", fuse::RSO_FUSE_BENCH_DIRECT0, max).map(|(_, s)| s),
        Ok(i64::from(max)),
    )
}
