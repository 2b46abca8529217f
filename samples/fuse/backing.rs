// SPDX-License-Identifier: GPL-2.0

//! The backing store: the lower file system that serves a request in the kernel
//! (`BPF_FUSE_CONTINUE`, `BPF_FUSE_POSTFILTER`).

use crate::{
    fuse_h::*,
    kfuncs::CallReq,
    struct_ops::StaticMutex,
    DATA_MAX, //
};
use kernel::prelude::*;

/// A file of the backing store.
struct BackFile {
    nodeid: u64,
    name: &'static [u8],
    mode: u32,
    data: [u8; DATA_MAX],
    len: usize,
}

/// The backing store: a root directory (node 1) and two files, in the kernel.
///
/// # Invariants
///
/// Each file's `len` is at most `DATA_MAX`.
pub(crate) struct Backing {
    files: [BackFile; 3],
}

/// The module's backing store, initialised in its init.
pub(crate) static BACKING: StaticMutex<Backing> = StaticMutex::new(Backing::new());

const HELLO: &[u8] = b"hello from the backing store\n";

impl Backing {
    const fn new() -> Self {
        let mut hello = [0u8; DATA_MAX];
        let mut i = 0;
        while i < HELLO.len() {
            hello[i] = HELLO[i];
            i += 1;
        }
        // INVARIANT: `HELLO` is shorter than `DATA_MAX`.
        Self {
            files: [
                BackFile {
                    nodeid: 1,
                    name: b"",
                    mode: 0o40755,
                    data: [0; DATA_MAX],
                    len: 0,
                },
                BackFile {
                    nodeid: 2,
                    name: b"hello",
                    mode: 0o100644,
                    data: hello,
                    len: HELLO.len(),
                },
                BackFile {
                    nodeid: 3,
                    name: b"notes",
                    mode: 0o100644,
                    data: [0; DATA_MAX],
                    len: 0,
                },
            ],
        }
    }

    /// Serves a request in the kernel.
    pub(crate) fn serve(
        &mut self,
        r: &CallReq,
        in_args: &rso_fuse_in,
        out: &mut rso_fuse_out,
    ) -> Result {
        if r.req().opcode == RSO_FUSE_LOOKUP {
            if in_args.nodeid != 1 {
                return Err(ENOTDIR);
            }
            let name = r.data().name();
            let f = self
                .files
                .iter()
                .find(|f| !f.name.is_empty() && f.name == name);
            out.nodeid = f.ok_or(ENOENT)?.nodeid;
            return Ok(());
        }
        let f = self
            .files
            .iter_mut()
            .find(|f| f.nodeid == in_args.nodeid)
            .ok_or(ENOENT)?;
        let off = usize::try_from(in_args.offset)
            .map_err(|_| EINVAL)?
            .min(DATA_MAX);
        let size = in_args.size as usize;
        match r.req().opcode {
            RSO_FUSE_GETATTR => {
                out.size = f.len as u64;
                out.mode = f.mode;
            }
            RSO_FUSE_READ => {
                let start = off.min(f.len);
                let end = off.saturating_add(size).min(f.len).max(start);
                let n = r.data().set_data(f.data.get(start..end).ok_or(EINVAL)?)?;
                out.count = n as u32;
            }
            _ => {
                let n = r.data().with_data(|src| -> Result<usize> {
                    let end = off
                        .checked_add(src.len())
                        .filter(|&e| e <= DATA_MAX)
                        .ok_or(EFBIG)?;
                    f.data.get_mut(off..end).ok_or(EFBIG)?.copy_from_slice(src);
                    // INVARIANT: `end <= DATA_MAX`.
                    f.len = f.len.max(end);
                    Ok(src.len())
                })?;
                out.count = n as u32;
            }
        }
        Ok(())
    }
}
