//! The records that flow between the kbisect tools, and the JSON-lines plumbing
//! every tool shares.
//!
//! The protocol is written down in `docs/protocol.md`; this crate is its typed
//! form. Every record is one JSON object on one line with a `kind` field. A
//! tool reads records as raw objects ([`jsonl::Reader`]), takes the fields it
//! understands with [`parse`], and writes its answer back with [`merge`] so
//! that fields it does not know pass through unchanged.

pub mod bug;
pub mod jsonl;
pub mod kinds;
pub mod program;
pub mod say;
pub mod values;

pub use bug::{BugKind, EXIT_CANNOT_TEST};
pub use kinds::*;
pub use program::find_program;
pub use values::*;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

/// A raw record: one JSON object as read from a line.
pub type Object = Map<String, Value>;

/// Exit status for success.
pub const EXIT_OK: i32 = 0;
/// Exit status for a failure that is not the caller's fault.
pub const EXIT_FAILURE: i32 = 1;
/// Exit status for bad usage or malformed input.
pub const EXIT_USAGE: i32 = 2;

/// A record type with a fixed `kind` tag.
pub trait Kind {
    /// The value of the `kind` field, e.g. `"build"`.
    const KIND: &'static str;
}

/// The `kind` field of a raw record, if it is a string.
pub fn kind_of(obj: &Object) -> Option<&str> {
    obj.get("kind").and_then(Value::as_str)
}

/// Read the typed view of a raw record. Fields the type does not name are
/// kept in its `extra` map (every record type flattens one), so serialising
/// the typed value again loses nothing.
pub fn parse<T: DeserializeOwned>(obj: &Object) -> Result<T, serde_json::Error> {
    serde_json::from_value(Value::Object(obj.clone()))
}

/// Why a raw record is not a valid typed one, naming the field at fault
/// when one can be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field whose value (or absence) made the record invalid.
    pub field: Option<String>,
    /// serde's message.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            // serde's "missing field `x`" names it already.
            Some(field) if !self.message.contains(&format!("`{field}`")) => {
                write!(f, "field `{field}`: {}", self.message)
            }
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FieldError {}

/// [`parse`], with an error that names the field at fault: serde's own
/// message for a value says what was wrong ("invalid value: integer `-1`,
/// expected u32") but not where. The field is found by parsing again
/// without each field in turn. Only done on error, so the common path
/// costs one parse.
pub fn parse_named<T: DeserializeOwned>(obj: &Object) -> Result<T, FieldError> {
    let err = match parse::<T>(obj) {
        Ok(t) => return Ok(t),
        Err(e) => e.to_string(),
    };
    let without = |k: &str| {
        let mut rest = obj.clone();
        rest.remove(k);
        parse::<T>(&rest)
    };
    // An optional field at fault: the record parses without it. Else a
    // required one: without it, that field is all that is missing.
    let field = obj
        .keys()
        .find(|k| without(k).is_ok())
        .or_else(|| {
            obj.keys().find(|k| {
                without(k).is_err_and(|e| e.to_string() == format!("missing field `{k}`"))
            })
        })
        .cloned();
    Err(FieldError {
        field,
        message: err,
    })
}

/// Serialise a typed record to a raw object with its `kind` set.
pub fn to_object<T: Serialize + Kind>(record: &T) -> Object {
    let mut obj = match serde_json::to_value(record) {
        Ok(Value::Object(m)) => m,
        // Record types are structs; anything else is a programming error,
        // but a record is still better than a panic.
        Ok(other) => {
            let mut m = Map::new();
            m.insert("value".into(), other);
            m
        }
        Err(e) => {
            let mut m = Map::new();
            m.insert("serialize_error".into(), Value::String(e.to_string()));
            m
        }
    };
    obj.insert("kind".into(), Value::String(T::KIND.into()));
    obj
}

/// Overlay `record`'s fields (and kind) on `base`, keeping every field of
/// `base` that `record` does not set. This is how a tool enriches an input
/// record without dropping what it does not understand.
pub fn merge<T: Serialize + Kind>(base: &Object, record: &T) -> Object {
    let mut out = base.clone();
    for (k, v) in to_object(record) {
        out.insert(k, v);
    }
    out
}

/// True when `s` is a full 40-hex-digit commit id, the only way records name
/// commits.
pub fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Print `tool: message` on stderr and exit with [`EXIT_USAGE`]: the input or
/// the command line was bad.
pub fn exit_usage(tool: &str, message: impl std::fmt::Display) -> ! {
    say!("{tool}: {message}");
    std::process::exit(EXIT_USAGE)
}

/// Print `tool: message` on stderr and exit with [`EXIT_FAILURE`].
pub fn exit_failure(tool: &str, message: impl std::fmt::Display) -> ! {
    say!("{tool}: {message}");
    std::process::exit(EXIT_FAILURE)
}
