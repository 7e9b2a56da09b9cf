//! Closed sets of string values that records carry (`reason`, `status`,
//! `direction`) and the record kinds themselves, as enums. Each enum keeps a
//! value it does not know in an `Other` variant and writes it back as it
//! was: a newer tool's value passes through an older one unchanged, as every
//! unknown field does.

use crate::Object;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An enum over the known string values of one field, with `Other` for the
/// rest: (de)serialised as the plain string, so the JSON is what it was when
/// the field was a `String`.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident, default $default:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version does not know, kept as it was.
            Other(String),
        }

        impl $name {
            /// The value as it is written in a record.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )*
                    $name::Other(s) => s,
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::$default
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $text => $name::$variant, )*
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name::from(s.as_str())
            }
        }

        /// Compare with the value as written: `status == "found"`.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok($name::from(String::deserialize(deserializer)?))
            }
        }
    };
}

string_enum! {
    /// Why bisect-step chose a commit (`next.reason`, carried into `build`).
    Reason, default Bisect {
        /// The buggy end, tested first to see that (and how often) the bug reproduces.
        Start = "start",
        /// A release tag, while looking for a good commit.
        Release = "release",
        /// A commit chosen to split the candidates.
        Bisect = "bisect",
        /// The same commit again, for more evidence.
        MoreRuns = "more_runs",
        /// The culprit's parent, built only, to compare signatures.
        Parent = "parent",
        /// The bad commit with the culprit reverted on top.
        RevertCheck = "revert_check",
        /// A candidate config of the config search (minimisation or
        /// config bisection), at the bad commit.
        ConfigSearch = "config_search",
        /// The culprit's parent built with the full config, when the
        /// bisection ran with a minimized one.
        ConfigCheck = "config_check",
    }
}

string_enum! {
    /// How a bisection ended (`result.status`).
    Status, default Inconclusive {
        /// One culprit holds the asked confidence.
        Found = "found",
        /// No test can tell the remaining candidates apart.
        Inconclusive = "inconclusive",
        /// Every release tested showed the bug.
        BugAtOldestRelease = "bug_at_oldest_release",
        /// The bad commit did not reproduce the bug.
        NoBugAtBad = "no_bug_at_bad",
        /// A fix bisection whose good (newer) end still has the bug.
        NotFixed = "not_fixed",
        /// The minimized config lost the bug at the culprit's parent (the
        /// full config still shows it there): no commit is blamed.
        ConfigLostBug = "config_lost_bug",
        /// The bisection could not go on (`error` names why).
        Error = "error",
    }
}

string_enum! {
    /// What is looked for: the commit that brought the bug or the one that fixed it.
    Direction, default Cause {
        /// The first bad commit.
        Cause = "cause",
        /// The first fixed commit.
        Fix = "fix",
    }
}

/// The `kind` of a record, for dispatching on it without string literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Next,
    Build,
    Signature,
    Crash,
    Run,
    Verdict,
    Start,
    Result,
    Error,
    /// An unknown kind, or no string `kind` at all: passed through.
    Other,
}

impl RecordKind {
    /// The kind of a raw record.
    pub fn of(obj: &Object) -> RecordKind {
        match crate::kind_of(obj) {
            Some("next") => RecordKind::Next,
            Some("build") => RecordKind::Build,
            Some("signature") => RecordKind::Signature,
            Some("crash") => RecordKind::Crash,
            Some("run") => RecordKind::Run,
            Some("verdict") => RecordKind::Verdict,
            Some("start") => RecordKind::Start,
            Some("result") => RecordKind::Result,
            Some("error") => RecordKind::Error,
            _ => RecordKind::Other,
        }
    }
}
