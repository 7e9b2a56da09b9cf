//! The ksig command: sign the vmlinux of each `build` record on stdin, or
//! the vmlinux paths given as arguments. `main` parses the command line and
//! calls [`sign_paths`] or [`sign_records`].

use kbisect_records::jsonl::{self, WriteError};
use kbisect_records::{
    merge, parse, to_object, Build, Error, Object, RecordKind, Signature, EXIT_OK, EXIT_USAGE,
};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

const TOOL: &str = "ksig";

/// The exit status for a failed write: quiet when the reader has gone.
fn write_failed(e: WriteError) -> i32 {
    if !matches!(e, WriteError::Closed) {
        kbisect_records::say!("{TOOL}: {e}");
    }
    e.exit_status()
}

/// One `signature` record per path. Returns the exit status: 0, or 2 when a
/// path could not be signed.
pub fn sign_paths<W: Write>(paths: &[PathBuf], out: &mut jsonl::Writer<W>) -> i32 {
    let mut status = EXIT_OK;
    for path in paths {
        let started = Instant::now();
        match crate::signature(path) {
            Ok(sig) => {
                let rec = to_object(&Signature {
                    vmlinux: path.to_string_lossy().into_owned(),
                    signature: sig.hex,
                    bytes: sig.bytes,
                    seconds: seconds(started),
                    ..Default::default()
                });
                if let Err(e) = out.write(&rec) {
                    return write_failed(e);
                }
            }
            Err(e) => {
                kbisect_records::say!("{TOOL}: {}: {e}", path.display());
                status = EXIT_USAGE;
            }
        }
    }
    status
}

/// Echo records from `input`, each ok `build` record with its `signature`
/// added. Returns the exit status: 0, 2 for bad input (named by file and
/// line), 1 when the output failed.
pub fn sign_records<R: BufRead, W: Write>(
    mut input: jsonl::Reader<R>,
    out: &mut jsonl::Writer<W>,
) -> i32 {
    while let Some(item) = input.next() {
        let obj = match item {
            Ok(obj) => obj,
            Err(e) => {
                kbisect_records::say!("{TOOL}: {e}");
                return EXIT_USAGE;
            }
        };
        let records = match sign_one(&obj) {
            Ok(records) => records,
            Err(e) => {
                kbisect_records::say!(
                    "{TOOL}: {}:{}: build record: {e}",
                    input.source(),
                    input.line()
                );
                return EXIT_USAGE;
            }
        };
        for rec in &records {
            if let Err(e) = out.write(rec) {
                return write_failed(e);
            }
        }
    }
    EXIT_OK
}

/// The records one input record becomes: itself, signed when it is an ok
/// build, plus an `error` record when its vmlinux cannot be signed.
fn sign_one(obj: &Object) -> Result<Vec<Object>, serde_json::Error> {
    if RecordKind::of(obj) != RecordKind::Build {
        return Ok(vec![obj.clone()]);
    }
    let mut build: Build = parse(obj)?;
    let vmlinux = match (&build.vmlinux, build.ok) {
        (Some(v), true) => PathBuf::from(v),
        _ => return Ok(vec![obj.clone()]),
    };
    let started = Instant::now();
    match crate::signature(&vmlinux) {
        Ok(sig) => {
            kbisect_records::say!(
                "{TOOL}: {} {} ({} MB in {} sections)",
                build.commit.get(..12).unwrap_or(&build.commit),
                sig.hex,
                sig.bytes >> 20,
                sig.sections
            );
            build.signature = Some(sig.hex);
            build.signature_seconds = Some(seconds(started));
            Ok(vec![merge(obj, &build)])
        }
        Err(e) => {
            kbisect_records::say!("{TOOL}: {}: {e}", vmlinux.display());
            Ok(vec![obj.clone(), unsignable(&build, &vmlinux, &e, started)])
        }
    }
}

fn unsignable(build: &Build, vmlinux: &Path, e: &crate::SigError, started: Instant) -> Object {
    to_object(&Error {
        tool: TOOL.into(),
        error: e.name().into(),
        message: format!("{}: {e}", vmlinux.display()),
        commit: Some(build.commit.clone()),
        file: Some(vmlinux.to_string_lossy().into_owned()),
        line: None,
        seconds: seconds(started),
        ..Default::default()
    })
}

fn seconds(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_as_input_is_bad_input_once() {
        let dir = std::env::temp_dir();
        let f = std::fs::File::open(&dir).unwrap();
        let input = jsonl::Reader::new(std::io::BufReader::new(f), dir.display().to_string());
        let mut out = jsonl::Writer::new(Vec::new());
        assert_eq!(sign_records(input, &mut out), EXIT_USAGE);
        assert!(out.into_inner().is_empty());
    }

    #[test]
    fn other_records_pass_through() {
        let input = b"{\"kind\":\"next\",\"commit\":\"x\",\"mine\":1}\n";
        let mut out = jsonl::Writer::new(Vec::new());
        let r = jsonl::Reader::new(&input[..], "in");
        assert_eq!(sign_records(r, &mut out), EXIT_OK);
        let got: serde_json::Value = serde_json::from_slice(&out.into_inner()).unwrap();
        let want: serde_json::Value = serde_json::from_slice(input).unwrap();
        assert_eq!(got, want);
    }
}
