//! What kind of bug a bisection hunts: the `bug` field of the `start`
//! record, carried to ktest and bisect-step. Which runs show it is decided
//! in one place, `crashclass::run_shows_bug`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kind of bug (`--bug`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BugKind {
    /// A crash the reproducer triggers after boot, with a target title.
    #[default]
    Crash,
    /// The kernel fails to boot (a panic or oops before the booted mark, a
    /// silent or hung boot).
    Boot,
    /// The reproducer is a test whose exit status decides, as for
    /// `git bisect run`: 0 good, 125 cannot test, other 1–127 bad.
    Exit,
}

impl BugKind {
    /// Every kind, for messages and `--help`.
    pub const ALL: [BugKind; 3] = [BugKind::Crash, BugKind::Boot, BugKind::Exit];

    /// Their words, in the same order: the command lines' possible values,
    /// so that `--help` and the shell completions offer them.
    pub const NAMES: [&'static str; 3] = [
        BugKind::Crash.as_str(),
        BugKind::Boot.as_str(),
        BugKind::Exit.as_str(),
    ];

    /// The word used on the command line and in records.
    pub const fn as_str(self) -> &'static str {
        match self {
            BugKind::Crash => "crash",
            BugKind::Boot => "boot",
            BugKind::Exit => "exit",
        }
    }

    /// `--bug`'s parser: one of `NAMES`, which `--help` and the shell
    /// completions offer (feature `clap`).
    #[cfg(feature = "clap")]
    pub fn value_parser() -> impl clap::builder::TypedValueParser<Value = BugKind> {
        use clap::builder::TypedValueParser;
        clap::builder::PossibleValuesParser::new(BugKind::NAMES).try_map(|s| s.parse::<BugKind>())
    }

    /// True for the default, which records leave out.
    pub fn is_default(&self) -> bool {
        *self == BugKind::Crash
    }
}

impl fmt::Display for BugKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BugKind {
    type Err = String;
    fn from_str(s: &str) -> Result<BugKind, String> {
        BugKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown bug kind {s:?} (crash, boot or exit)"))
    }
}

/// The exit status `git bisect run` reads as "this commit cannot be tested".
pub const EXIT_CANNOT_TEST: i32 = 125;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for k in BugKind::ALL {
            assert_eq!(k.as_str().parse::<BugKind>(), Ok(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert!("hang".parse::<BugKind>().is_err());
        assert_eq!(BugKind::default(), BugKind::Crash);
    }
}
