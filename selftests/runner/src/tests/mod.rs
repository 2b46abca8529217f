// SPDX-License-Identifier: GPL-2.0

//! The tests, one file per subject. Each file registers its tests with
//! [`test!`](crate::test); a full run takes the files in the order of [`SUBJECTS`], and each
//! file's tests in the order they are written.

mod assoc;
mod bench;
mod calls;
mod fuse;
mod fuse_conn;
mod fuse_real;
mod kernel;
mod lifecycle;
mod links;
mod log;
mod maps;
mod privilege;
mod requests;
mod skeletons;
mod stress;
mod values;
mod verifier;

/// The order of the subjects in a run; `log` (the whole run's kernel log) comes last.
pub(crate) const SUBJECTS: &[&str] = &[
    "kernel",
    "lifecycle",
    "calls",
    "links",
    "maps",
    "values",
    "verifier",
    "assoc",
    "skeletons",
    "privilege",
    "requests",
    "fuse",
    "fuse_real",
    "fuse_conn",
    "bench",
    "stress",
    "log",
];
