// SPDX-License-Identifier: GPL-2.0

//! A client's request routed through the filters of the instance bound to its connection, and
//! the benchmark's in-kernel loops.

use crate::{
    backing::BACKING,
    conn::Conn,
    conn_name,
    conn_names::lookup,
    fuse_h::*,
    kfuncs::{
        is_errno,
        postfilter,
        prefilter,
        CallData,
        CallReq, //
    },
    DATA_MAX, //
};
use core::ffi::c_int;
use kernel::{
    prelude::*,
    time::{
        Instant,
        Monotonic, //
    },
};

/// Routes one request through the filters of the instance bound to its connection.
pub(crate) fn request(rq: &mut rso_fuse_request) -> Result {
    let conn = conn_name(&rq.conn)?;
    let namelen = rq.namelen as usize;
    if !(RSO_FUSE_LOOKUP..=RSO_FUSE_WRITE).contains(&rq.opcode) || rq.size as usize > DATA_MAX {
        return Err(EINVAL);
    }
    let name = rq.name.get(..namelen).ok_or(EINVAL)?;
    let r = CallReq::new(
        rso_fuse_req {
            unique: 0,
            nodeid: rq.nodeid,
            opcode: rq.opcode,
            pid: current!().pid() as u32,
            // The caller's credentials reach programs on real FUSE connections only.
            uid: 0,
            gid: 0,
        },
        // Room for data only where there is some: a GETATTR allocates nothing.
        CallData::new(
            name,
            if matches!(rq.opcode, RSO_FUSE_READ | RSO_FUSE_WRITE) {
                DATA_MAX
            } else {
                0
            },
        )?,
    );
    if rq.opcode == RSO_FUSE_WRITE {
        r.data()
            .set_data(rq.data.get(..rq.size as usize).ok_or(EINVAL)?)?;
    }
    let mut in_args = rso_fuse_in {
        nodeid: rq.nodeid,
        offset: rq.offset,
        size: rq.size,
        namelen: rq.namelen,
        ..Default::default()
    };
    let mut out = rso_fuse_out::default();
    let inst = lookup(&conn);
    let route = match &inst {
        Some(inst) => prefilter(&r, inst, &mut in_args, &mut out),
        None => None,
    };
    let route = route.unwrap_or(BPF_FUSE_USER as c_int);
    match route as u32 {
        BPF_FUSE_REPLIED => {}
        BPF_FUSE_CONTINUE | BPF_FUSE_POSTFILTER => BACKING.lock()?.serve(&r, &in_args, &mut out)?,
        BPF_FUSE_USER | BPF_FUSE_USER_POSTFILTER => {
            let c = Conn::find(&conn).ok_or(ENOTCONN)?;
            let reply = c.call(&r, &in_args)?;
            if r.req().opcode == RSO_FUSE_READ {
                r.data().set_data(reply.data())?;
            }
            out = reply.out;
        }
        _ if is_errno(route) => return Err(Error::from_errno(route)),
        _ => return Err(EIO),
    }
    if matches!(route as u32, BPF_FUSE_POSTFILTER | BPF_FUSE_USER_POSTFILTER) {
        if let Some(inst) = &inst {
            match postfilter(&r, inst, &in_args, &mut out).unwrap_or(0) {
                0 => {}
                e if is_errno(e) => return Err(Error::from_errno(e)),
                _ => return Err(EIO),
            }
        }
    }
    if r.req().opcode == RSO_FUSE_READ {
        let n = r.data().copy_to(&mut rq.data).map_err(|_| EIO)?;
        out.count = n as u32;
    }
    rq.out = out;
    Ok(())
}

/// An in-kernel loop for `make bench`: at most `RSO_FUSE_BENCH_LOOPS_MAX` loops (`E2BIG`
/// beyond), since the loop never sleeps and Linux 7.3's Rust API has no `cond_resched()`.
pub(crate) fn bench(b: &mut rso_fuse_bench) -> Result {
    let conn = conn_name(&b.conn)?;
    let loops = b.loops;
    if loops > RSO_FUSE_BENCH_LOOPS_MAX {
        return Err(E2BIG);
    }
    let mut sum = 0i64;
    let start = Instant::<Monotonic>::now();
    if b.kind == RSO_FUSE_BENCH_LOOKUP {
        for _ in 0..loops {
            sum += i64::from(lookup(&conn).ok_or(ENOENT)?.id());
        }
    } else {
        let inst = lookup(&conn).ok_or(ENOENT)?;
        let ops = inst.ops();
        // One loop per op, and a sum that wraps, as in the C twin's loops: the two modules then
        // differ only in how they call the op. `loops` fits a `c_int` (checked above).
        macro_rules! call_loop {
            ($i:pat => $call:expr) => {
                for $i in 0..loops as c_int {
                    sum = sum.wrapping_add(i64::from($call.ok_or(EOPNOTSUPP)?));
                }
            };
        }
        match b.kind {
            RSO_FUSE_BENCH_CALL0 => call_loop!(_ => ops.bench0()),
            RSO_FUSE_BENCH_CALL2 => call_loop!(i => ops.bench2(i, 1)),
            RSO_FUSE_BENCH_CALL5 => call_loop!(i => ops.bench5(i, 1, 2, 3, 4)),
            _ => return Err(EINVAL),
        }
    }
    b.ns = start.elapsed().as_nanos() as u64;
    b.sum = sum;
    Ok(())
}
