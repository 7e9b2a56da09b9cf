//! Thin command-line front end for the `ksig` library: signs the vmlinux of
//! each `build` record on stdin, or the vmlinux paths given as arguments.

use clap::Parser;
use kbisect_records::{jsonl, kind_of, merge, parse, Build, Error, Signature, EXIT_USAGE};
use std::path::PathBuf;
use std::time::Instant;

const TOOL: &str = "ksig";

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
cannot be signed leaves its record unchanged and adds an `error` record (error: unreadable, \
not_elf or bad_elf). With PATHs, prints one `signature` record per file.",
    after_help = "Examples:\n  \
kbuild --repo ~/linux --commit v6.1 | ksig | ktest --repro repro.c\n  \
ksig ~/.cache/kbisect/builds/*/vmlinux\n\n\
Exit status: 0 ok; 2 for bad input (invalid JSON, a PATH that is not a readable ELF file)."
)]
struct Cli {
    /// vmlinux files to sign instead of reading records from stdin.
    paths: Vec<PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    let mut out = jsonl::Writer::stdout();
    let mut emit = |obj: &kbisect_records::Object| {
        if let Err(e) = out.write(obj) {
            kbisect_records::exit_failure(TOOL, format!("writing stdout: {e}"));
        }
    };

    if !cli.paths.is_empty() {
        let mut status = 0;
        for path in &cli.paths {
            let started = Instant::now();
            match ksig::signature(path) {
                Ok(sig) => emit(&kbisect_records::to_object(&Signature {
                    vmlinux: path.to_string_lossy().into_owned(),
                    signature: sig.hex,
                    bytes: sig.bytes,
                    seconds: seconds(started),
                    ..Default::default()
                })),
                Err(e) => {
                    eprintln!("{TOOL}: {}: {e}", path.display());
                    status = EXIT_USAGE;
                }
            }
        }
        std::process::exit(status);
    }

    let mut reader = jsonl::Reader::stdin();
    while let Some(item) = reader.next() {
        let obj = item.unwrap_or_else(|e| kbisect_records::exit_usage(TOOL, e));
        if kind_of(&obj) != Some("build") {
            emit(&obj);
            continue;
        }
        let mut build: Build = parse(&obj).unwrap_or_else(|e| {
            kbisect_records::exit_usage(
                TOOL,
                format!("<stdin>:{}: build record: {e}", reader.line()),
            )
        });
        let vmlinux = match (&build.vmlinux, build.ok) {
            (Some(v), true) => PathBuf::from(v),
            _ => {
                emit(&obj);
                continue;
            }
        };
        let started = Instant::now();
        match ksig::signature(&vmlinux) {
            Ok(sig) => {
                eprintln!(
                    "{TOOL}: {} {} ({} MB in {} sections)",
                    build.commit.get(..12).unwrap_or(&build.commit),
                    sig.hex,
                    sig.bytes >> 20,
                    sig.sections
                );
                build.signature = Some(sig.hex);
                build.signature_seconds = Some(seconds(started));
                emit(&merge(&obj, &build));
            }
            Err(e) => {
                eprintln!("{TOOL}: {}: {e}", vmlinux.display());
                emit(&obj);
                emit(&kbisect_records::to_object(&Error {
                    tool: TOOL.into(),
                    error: e.name().into(),
                    message: format!("{}: {e}", vmlinux.display()),
                    commit: Some(build.commit.clone()),
                    file: Some(vmlinux.to_string_lossy().into_owned()),
                    line: None,
                    seconds: seconds(started),
                    ..Default::default()
                }));
            }
        }
    }
}

fn seconds(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1e6).round() / 1e6
}
