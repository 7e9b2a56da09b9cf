//! ksig's command line, defined once: parsed by the binary and read by
//! kbisect-docgen for the man page and shell completions.

use clap::Parser;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "ksig",
    version,
    about = "Add the build signature of vmlinux to build records (or print it for files)",
    long_about = "Add the build signature of vmlinux to build records (or print it for files).\n\n\
The signature is the sha-256 of the sha-256 digests of the vmlinux's loaded sections \
(SHF_ALLOC, with file bytes, not notes), in file order: equal for builds that load the same \
code and data (a comment-only change, a version bump under kbuild), different otherwise.\n\n\
With no PATH, reads JSON-lines records on stdin: each `build` record with ok:true and a \
vmlinux gets a `signature` field; every other record is echoed unchanged. A vmlinux that \
cannot be signed leaves its record unchanged and adds an `error` record (error: unreadable, not_a_file, \
not_elf or bad_elf). With PATHs, prints one `signature` record per file.",
    after_help = "Examples:\n  \
kbuild --repo ~/linux --commit v6.1 | ksig | ktest --repro repro.c\n  \
ksig ~/.cache/kbisect/builds/*/vmlinux\n\n\
Exit status: 0 ok; 2 for bad input (invalid JSON, a PATH that is not a readable ELF file)."
)]
pub struct Cli {
    /// vmlinux files to sign instead of reading records from stdin.
    pub paths: Vec<PathBuf>,
}
