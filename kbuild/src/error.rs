//! The named ways a build can fail. Each becomes a `build` record with
//! `ok: false`, `error` set to [`ErrorKind::as_str`] and `error_lines` holding
//! the evidence (compiler error lines, git's complaint, a message).

use std::fmt;

/// Why a build produced no kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The worktree could not be made or switched to the commit.
    CheckoutFailed,
    /// make *config / olddefconfig failed, or a config file could not be read.
    ConfigFailed,
    /// make failed (see the compiler error lines).
    BuildFailed,
    /// The build ran past `--timeout` and was killed.
    Timeout,
    /// SIGINT / SIGTERM arrived mid-build; the build was killed.
    Interrupted,
    /// The requested compiler (or its linker) is not installed.
    CompilerMissing,
    /// The commit (or the commit to revert) does not exist in the repository.
    UnknownCommit,
    /// `--repo` is not a git repository.
    NotARepo,
    /// The disk filled up (or is about to).
    DiskFull,
    /// The commit to revert does not revert cleanly on top of the commit.
    RevertFailed,
}

impl ErrorKind {
    /// The protocol name of the error, the value of the record's `error` field.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::CheckoutFailed => "checkout_failed",
            ErrorKind::ConfigFailed => "config_failed",
            ErrorKind::BuildFailed => "build_failed",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::CompilerMissing => "compiler_missing",
            ErrorKind::UnknownCommit => "unknown_commit",
            ErrorKind::NotARepo => "not_a_repo",
            ErrorKind::DiskFull => "disk_full",
            ErrorKind::RevertFailed => "revert_failed",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed build: what kind of failure, and the lines that show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: ErrorKind,
    pub lines: Vec<String>,
}

impl Failure {
    /// A failure explained by one message line.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            lines: vec![message.into()],
        }
    }

    /// A failure shown by several lines (compiler errors, git output).
    pub fn with_lines(kind: ErrorKind, lines: Vec<String>) -> Self {
        Failure { kind, lines }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(first) = self.lines.first() {
            write!(f, ": {first}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// True when an I/O error means the disk is full (ENOSPC or EDQUOT).
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
}
