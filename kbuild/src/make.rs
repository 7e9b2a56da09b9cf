//! Running make: a fixed, deterministic environment; output to a log file;
//! a time limit; SIGINT/SIGTERM handling (make runs in its own process group,
//! which is killed as a whole); progress on stderr; and the first compiler
//! error lines picked out of the log.

use crate::error::{ErrorKind, Failure};
use regex::Regex;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// KBUILD_BUILD_TIMESTAMP for every build: fixed so that the version string
/// (and so the vmlinux bytes) do not depend on when the build ran.
pub const BUILD_TIMESTAMP: &str = "Thu Jan  1 00:00:00 UTC 1970";

/// Environment variables that would change what make does; removed so the
/// user's shell (or an enclosing make's jobserver) cannot leak in.
const SCRUBBED_ENV: &[&str] = &[
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
    "MAKEFILES",
    "GNUMAKEFLAGS",
    "ARCH",
    "SUBARCH",
    "CROSS_COMPILE",
    "KBUILD_OUTPUT",
    "KBUILD_EXTMOD",
    "KCFLAGS",
    "KCPPFLAGS",
    "KAFLAGS",
    "KRUSTFLAGS",
    "KCONFIG_CONFIG",
    "KCONFIG_ALLCONFIG",
    "LLVM",
    "LLVM_IAS",
    "CC",
    "LD",
    "HOSTCC",
    "O",
    "V",
    "W",
    "C",
    "M",
    "LOCALVERSION",
    "KERNELRELEASE",
    "KBUILD_BUILD_VERSION_TIMESTAMP",
    "SOURCE_DATE_EPOCH",
    "GIT_DIR",
    "GIT_WORK_TREE",
];

/// One make invocation's fixed setting.
#[derive(Debug, Clone)]
pub struct MakeSetup {
    /// The source tree (kbuild's worktree).
    pub src: PathBuf,
    /// The out-of-tree object dir (O=).
    pub obj: PathBuf,
    /// make variables: CC=…, KERNELRELEASE=…, …
    pub vars: Vec<String>,
    /// Extra environment (CCACHE_DIR, …).
    pub env: Vec<(String, String)>,
    pub jobs: usize,
    /// The log every invocation appends to.
    pub log: PathBuf,
}

/// When to give up on a make run.
pub struct Limits<'a> {
    pub deadline: Option<Instant>,
    pub interrupted: &'a AtomicBool,
    /// Shown in progress lines (a short commit id).
    pub label: &'a str,
}

impl MakeSetup {
    /// The make variables that make the build reproducible: the version
    /// (VERSION, PATCHLEVEL, SUBLEVEL, EXTRAVERSION) and release string taken
    /// from `kernel_release`, not from the commit's Makefile, so that a
    /// release commit builds the same bytes as its parent (the version is
    /// compiled into the vDSO note and into uname's personality code, the
    /// release into the banner); no local version.
    pub fn deterministic_vars(kernel_release: &str) -> Vec<String> {
        let v = split_release(kernel_release).unwrap_or_default();
        vec![
            "ARCH=x86_64".into(),
            format!("VERSION={}", v.version),
            format!("PATCHLEVEL={}", v.patchlevel),
            format!("SUBLEVEL={}", v.sublevel),
            format!("EXTRAVERSION={}", v.extra),
            format!("KERNELRELEASE={kernel_release}"),
            "LOCALVERSION=".into(),
        ]
    }

    fn command(&self, targets: &[&str]) -> duct::Expression {
        let mut args: Vec<String> = vec![
            "-C".into(),
            self.src.to_string_lossy().into_owned(),
            format!("O={}", self.obj.to_string_lossy()),
            format!("-j{}", self.jobs.max(1)),
        ];
        args.extend(self.vars.iter().cloned());
        args.extend(targets.iter().map(|t| t.to_string()));
        let mut cmd = duct::cmd("make", args)
            .env("KBUILD_BUILD_TIMESTAMP", BUILD_TIMESTAMP)
            .env("KBUILD_BUILD_USER", "kbisect")
            .env("KBUILD_BUILD_HOST", "kbisect")
            .env("KBUILD_BUILD_VERSION", "1")
            .env("KCONFIG_NOTIMESTAMP", "1")
            // The top Makefile unexports LC_ALL, so set the rest too: plain
            // ASCII quotes in compiler messages, whatever the user's locale.
            .env("LC_ALL", "C")
            .env("LANG", "C")
            .env("LC_CTYPE", "C")
            .env("LC_MESSAGES", "C")
            .env("TZ", "UTC")
            .stdin_null();
        for v in SCRUBBED_ENV {
            cmd = cmd.env_remove(v);
        }
        for (k, v) in &self.env {
            cmd = cmd.env(k, v);
        }
        cmd
    }

    /// Run make with `targets`, appending its output to the log. A failure
    /// is `fail_kind` (config_failed / build_failed) with the error lines
    /// from this run's part of the log, or timeout / interrupted / disk_full.
    pub fn run(
        &self,
        targets: &[&str],
        limits: &Limits,
        fail_kind: ErrorKind,
    ) -> Result<(), Failure> {
        use std::io::Write;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| io_failure(fail_kind, &self.log, e))?;
        let start_offset = log.seek(SeekFrom::End(0)).unwrap_or(0);
        let _ = writeln!(log, "### make {}", targets.join(" "));
        let log_out = log
            .try_clone()
            .map_err(|e| io_failure(fail_kind, &self.log, e))?;
        let handle = self
            .command(targets)
            .stderr_to_stdout()
            .stdout_file(log_out)
            .unchecked()
            .before_spawn(|cmd| {
                use std::os::unix::process::CommandExt;
                // Own process group, so the whole make tree can be killed at
                // once and a terminal's ^C reaches kbuild, not make.
                unsafe {
                    cmd.pre_exec(|| {
                        libc::setpgid(0, 0);
                        Ok(())
                    });
                }
                Ok(())
            })
            .start()
            .map_err(|e| Failure::new(fail_kind, format!("cannot start make: {e}")))?;
        let pgid = handle.pids().first().copied().unwrap_or(0) as i32;
        let started = Instant::now();
        let mut progress = Progress::new(&self.log, start_offset);
        let mut last_report = Instant::now();
        let stopped: Option<ErrorKind> = loop {
            match handle.try_wait() {
                Ok(Some(_)) => break None,
                Ok(None) => {}
                Err(e) => return Err(Failure::new(fail_kind, format!("waiting for make: {e}"))),
            }
            if limits.interrupted.load(Ordering::SeqCst) {
                break Some(ErrorKind::Interrupted);
            }
            if limits.deadline.is_some_and(|d| Instant::now() >= d) {
                break Some(ErrorKind::Timeout);
            }
            if last_report.elapsed() >= Duration::from_secs(15) {
                last_report = Instant::now();
                progress.scan();
                kbisect_records::say!(
                    "kbuild: {} make {}: {} files compiled, {:.0}s",
                    limits.label,
                    targets.join(" "),
                    progress.compiled,
                    started.elapsed().as_secs_f64()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if let Some(kind) = stopped {
            kill_group(pgid, &handle);
            let why = match kind {
                ErrorKind::Timeout => "time limit reached, build killed".to_string(),
                _ => "interrupted by a signal, build killed".to_string(),
            };
            return Err(Failure::new(kind, why));
        }
        let ok = matches!(handle.try_wait(), Ok(Some(o)) if o.status.success());
        if ok {
            return Ok(());
        }
        let text = read_from(&self.log, start_offset);
        Err(classify_failure(&text, fail_kind, &self.src, &self.obj))
    }
}

/// A release string split as the top Makefile spells a version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseParts {
    pub version: u32,
    pub patchlevel: u32,
    pub sublevel: u32,
    /// The rest, e.g. `-kbisect` or `-rc1`.
    pub extra: String,
}

/// Split `6.1.0-kbisect` into 6, 1, 0, `-kbisect`; `6.2-rc1` into 6, 2,
/// 0, `-rc1`. None unless it starts with `N.N` and the rest is made of
/// [A-Za-z0-9._+-].
pub fn split_release(release: &str) -> Option<ReleaseParts> {
    if release.is_empty()
        || release.len() > 64
        || !release
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
    {
        return None;
    }
    let number = |s: &str| -> Option<(u32, usize)> {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        Some((s[..digits].parse().ok()?, digits))
    };
    let (version, n) = number(release)?;
    let rest = release[n..].strip_prefix('.')?;
    let (patchlevel, n) = number(rest)?;
    let mut rest = &rest[n..];
    let mut sublevel = 0;
    if let Some(r) = rest.strip_prefix('.') {
        if let Some((s, n)) = number(r) {
            sublevel = s;
            rest = &r[n..];
        }
    }
    Some(ReleaseParts {
        version,
        patchlevel,
        sublevel,
        extra: rest.to_string(),
    })
}

fn io_failure(kind: ErrorKind, path: &Path, e: std::io::Error) -> Failure {
    let kind = if crate::error::is_disk_full(&e) {
        ErrorKind::DiskFull
    } else {
        kind
    };
    Failure::new(kind, format!("{}: {e}", path.display()))
}

/// SIGTERM make's process group, then SIGKILL whatever is left after a grace
/// period, and reap make.
fn kill_group(pgid: i32, handle: &duct::Handle) {
    if pgid > 0 {
        unsafe {
            libc::kill(-pgid, libc::SIGTERM);
        }
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if matches!(handle.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    let _ = handle.kill();
    let _ = handle.wait();
}

/// Counts compiled files in the log as it grows, for progress lines.
struct Progress {
    reader: Option<BufReader<std::fs::File>>,
    compiled: usize,
    line: String,
}

impl Progress {
    fn new(path: &Path, offset: u64) -> Self {
        let reader = std::fs::File::open(path).ok().and_then(|mut f| {
            f.seek(SeekFrom::Start(offset)).ok()?;
            Some(BufReader::new(f))
        });
        Progress {
            reader,
            compiled: 0,
            line: String::new(),
        }
    }

    fn scan(&mut self) {
        let Some(r) = self.reader.as_mut() else {
            return;
        };
        loop {
            self.line.clear();
            match r.read_line(&mut self.line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if self.line.starts_with("  CC ") || self.line.starts_with("  AS ") {
                        self.compiled += 1;
                    }
                }
            }
        }
    }
}

fn read_from(path: &Path, offset: u64) -> String {
    let mut buf = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        use std::io::Read;
        if f.seek(SeekFrom::Start(offset)).is_ok() {
            let _ = f.read_to_end(&mut buf);
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// How many error lines a record carries.
pub const MAX_ERROR_LINES: usize = 10;

fn compiler_error_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(\S+?):(\d+):(?:\d+:)? (?:fatal )?error: ").expect("valid regex")
    })
}

/// Name a failed make run from its output: disk_full when the disk filled,
/// else `kind` with the first compiler error lines ("file:line: error: …",
/// paths made relative to the tree); failing those, linker errors, failing
/// those, the last lines of the output.
pub fn classify_failure(output: &str, kind: ErrorKind, src: &Path, obj: &Path) -> Failure {
    // The compiler names sources absolutely (/build/src/init/main.c) or,
    // when ccache's base dir rewrote the command, relative to the object
    // dir (../src/init/main.c); both become init/main.c.
    let mut prefixes = vec![
        format!("{}/", src.to_string_lossy()),
        format!("{}/", obj.to_string_lossy()),
    ];
    if let Some(rel) = relative_path(src, obj) {
        prefixes.insert(0, format!("{}/", rel.to_string_lossy()));
    }
    let relative = |l: &str| {
        let mut out = l.to_string();
        for p in &prefixes {
            out = out.replace(p.as_str(), "");
        }
        out
    };
    if let Some(l) = output
        .lines()
        .find(|l| l.contains("No space left on device"))
    {
        return Failure::new(ErrorKind::DiskFull, relative(l));
    }
    let mut lines: Vec<String> = Vec::new();
    for l in output.lines() {
        let l = relative(l);
        if compiler_error_re().is_match(&l) && !lines.contains(&l) {
            lines.push(l);
            if lines.len() >= MAX_ERROR_LINES {
                break;
            }
        }
    }
    if lines.is_empty() {
        lines = output
            .lines()
            .map(relative)
            .filter(|l| {
                l.contains("undefined reference")
                    || l.starts_with("ld: ")
                    || l.contains(": error:")
                    || l.contains("*** ")
            })
            .take(MAX_ERROR_LINES)
            .collect();
    }
    if lines.is_empty() {
        let all: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
        let from = all.len().saturating_sub(MAX_ERROR_LINES);
        lines = all[from..].iter().map(|l| relative(l)).collect();
    }
    if lines.is_empty() {
        lines.push("make failed with no output".into());
    }
    Failure::with_lines(kind, lines)
}

/// `path` relative to `base` (both absolute), e.g. `../src` for
/// `/b/src` from `/b/obj`. None when either is not absolute.
pub fn relative_path(path: &Path, base: &Path) -> Option<PathBuf> {
    if !path.is_absolute() || !base.is_absolute() {
        return None;
    }
    let p: Vec<_> = path.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c.as_os_str());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_compiler_errors_relative_to_the_tree() {
        let out = "  CC      init/main.o\n\
/b/src/init/main.c:42:17: error: expected expression before ';' token\n\
   42 | int x = ;\n\
In file included from /b/src/kernel/fork.c:1:\n\
/b/src/include/linux/x.h:3: error: unknown type name 'foo'\n\
make[2]: *** [/b/src/scripts/Makefile.build:250: init/main.o] Error 1\n";
        let f = classify_failure(
            out,
            ErrorKind::BuildFailed,
            Path::new("/b/src"),
            Path::new("/b/obj"),
        );
        assert_eq!(f.kind, ErrorKind::BuildFailed);
        assert_eq!(
            f.lines,
            vec![
                "init/main.c:42:17: error: expected expression before ';' token",
                "include/linux/x.h:3: error: unknown type name 'foo'"
            ]
        );
    }

    #[test]
    fn ccache_relative_paths_are_made_tree_relative() {
        let out = "../src/init/main.c:1626:28: error: expected expression before ';' token\n";
        let f = classify_failure(
            out,
            ErrorKind::BuildFailed,
            Path::new("/b/src"),
            Path::new("/b/obj"),
        );
        assert_eq!(
            f.lines,
            vec!["init/main.c:1626:28: error: expected expression before ';' token"]
        );
        assert_eq!(
            relative_path(Path::new("/a/b/src"), Path::new("/a/c/obj")).unwrap(),
            Path::new("../../b/src")
        );
    }

    #[test]
    fn linker_errors_when_no_compiler_errors() {
        let out = "  LD      vmlinux.o\nld: init/main.o: in function `f':\nmain.c:(.text+0x5): undefined reference to `g'\nmake: *** [Makefile:1] Error 2\n";
        let f = classify_failure(
            out,
            ErrorKind::BuildFailed,
            Path::new("/s"),
            Path::new("/o"),
        );
        assert_eq!(f.lines[0], "ld: init/main.o: in function `f':");
        assert!(f.lines[1].contains("undefined reference"));
    }

    #[test]
    fn release_strings_split_like_the_makefile() {
        let p = split_release("9.9.9-kbisect").unwrap();
        assert_eq!(
            (p.version, p.patchlevel, p.sublevel, p.extra.as_str()),
            (9, 9, 9, "-kbisect")
        );
        let p = split_release("6.2-rc1").unwrap();
        assert_eq!(
            (p.version, p.patchlevel, p.sublevel, p.extra.as_str()),
            (6, 2, 0, "-rc1")
        );
        assert!(split_release("kbisect").is_none());
        assert!(split_release("6.1 x").is_none());
        assert!(split_release("6").is_none());
        let vars = MakeSetup::deterministic_vars("6.1.0");
        assert!(vars.contains(&"SUBLEVEL=0".to_string()));
        assert!(vars.contains(&"EXTRAVERSION=".to_string()));
    }

    #[test]
    fn disk_full_is_named() {
        let out = "/o/init/main.o: No space left on device\n";
        let f = classify_failure(
            out,
            ErrorKind::BuildFailed,
            Path::new("/s"),
            Path::new("/o"),
        );
        assert_eq!(f.kind, ErrorKind::DiskFull);
        assert_eq!(f.lines, vec!["init/main.o: No space left on device"]);
    }

    #[test]
    fn falls_back_to_last_lines() {
        let out = "something odd\nhappened\n";
        let f = classify_failure(
            out,
            ErrorKind::ConfigFailed,
            Path::new("/s"),
            Path::new("/o"),
        );
        assert_eq!(f.lines, vec!["something odd", "happened"]);
    }
}
