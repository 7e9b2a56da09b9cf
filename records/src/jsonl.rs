//! Reading and writing JSON lines.
//!
//! Input errors carry the file name and 1-based line number so a tool can say
//! exactly where its input went wrong (and exit 2). A read error (the input
//! is a directory, a device that fails) ends the stream: the reader returns
//! it once, then nothing. Output is flushed after every line so a downstream
//! tool sees each record as soon as it is made; a closed pipe downstream is
//! returned as [`WriteError::Closed`] so the caller can end quietly.

use crate::Object;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::io::{self, BufRead, Write};

/// What kind of input problem an [`InputError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputErrorKind {
    /// The input could not be read at all (a directory, an I/O error). The
    /// reader ends after returning it: reading again would fail the same way.
    Read,
    /// A line is not valid UTF-8.
    NotUtf8,
    /// A line is not valid JSON.
    InvalidJson,
    /// A line is JSON but not an object.
    NotAnObject,
}

/// Malformed input at a known place.
#[derive(Debug)]
pub struct InputError {
    /// Where the input came from: a path, or `<stdin>`.
    pub source: String,
    /// 1-based line number (0 when the error is not tied to a line).
    pub line: usize,
    /// What kind of problem.
    pub kind: InputErrorKind,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.source, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.source, self.message)
        }
    }
}

impl std::error::Error for InputError {}

/// Iterates over the JSON objects of a JSON-lines stream, one per non-blank
/// line, with their line numbers.
pub struct Reader<R> {
    input: R,
    source: String,
    line: usize,
    buf: Vec<u8>,
    /// Set after a read error: the stream is over.
    failed: bool,
}

impl<R: BufRead> Reader<R> {
    /// Read records from `input`, naming it `source` in errors.
    pub fn new(input: R, source: impl Into<String>) -> Self {
        Reader {
            input,
            source: source.into(),
            line: 0,
            buf: Vec::new(),
            failed: false,
        }
    }

    /// The line number of the record last returned.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The name given to the input.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn error(&self, kind: InputErrorKind, message: impl Into<String>) -> InputError {
        InputError {
            source: self.source.clone(),
            line: self.line,
            kind,
            message: message.into(),
        }
    }
}

impl Reader<io::BufReader<io::Stdin>> {
    /// Records from standard input.
    pub fn stdin() -> Self {
        Reader::new(io::BufReader::new(io::stdin()), "<stdin>")
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Object, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            self.buf.clear();
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(
                        self.error(InputErrorKind::Read, format!("read error: {e}"))
                    ));
                }
            }
            self.line += 1;
            let text = match std::str::from_utf8(&self.buf) {
                Ok(t) => t.trim(),
                Err(_) => {
                    return Some(Err(
                        self.error(InputErrorKind::NotUtf8, "line is not valid UTF-8")
                    ))
                }
            };
            if text.is_empty() {
                continue;
            }
            return Some(match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(obj)) => Ok(obj),
                Ok(_) => Err(self.error(InputErrorKind::NotAnObject, "expected a JSON object")),
                Err(e) => {
                    Err(self.error(InputErrorKind::InvalidJson, format!("invalid JSON: {e}")))
                }
            });
        }
    }
}

/// Why a record could not be written.
#[derive(Debug)]
pub enum WriteError {
    /// The reader downstream has gone (EPIPE), as with `| head`: not a
    /// failure of the tool, which should stop quietly.
    Closed,
    /// Any other output error.
    Io(io::Error),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Closed => write!(f, "output closed by the reader"),
            WriteError::Io(e) => write!(f, "writing output: {e}"),
        }
    }
}

impl std::error::Error for WriteError {}

impl WriteError {
    /// The exit status a tool ends with on this error: 0 for a closed pipe
    /// (the reader has all it wanted), 1 otherwise.
    pub fn exit_status(&self) -> i32 {
        match self {
            WriteError::Closed => crate::EXIT_OK,
            WriteError::Io(_) => crate::EXIT_FAILURE,
        }
    }
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            WriteError::Closed
        } else {
            WriteError::Io(e)
        }
    }
}

/// Writes one JSON object per line and flushes each line.
pub struct Writer<W: Write> {
    out: W,
}

impl Writer<io::Stdout> {
    /// Records to standard output.
    pub fn stdout() -> Self {
        Writer { out: io::stdout() }
    }
}

impl<W: Write> Writer<W> {
    /// Write records to `out`.
    pub fn new(out: W) -> Self {
        Writer { out }
    }

    /// Write one record and flush. A closed pipe downstream (EPIPE) is
    /// [`WriteError::Closed`].
    pub fn write<T: Serialize + ?Sized>(&mut self, record: &T) -> Result<(), WriteError> {
        let mut line =
            serde_json::to_vec(record).map_err(|e| WriteError::Io(io::Error::other(e)))?;
        line.push(b'\n');
        self.out.write_all(&line)?;
        self.out.flush()?;
        Ok(())
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_objects_and_numbers_lines() {
        let input = b"{\"kind\":\"a\"}\n\n{\"kind\":\"b\"}\nnot json\n[1]\n";
        let mut r = Reader::new(&input[..], "in.jsonl");
        assert_eq!(r.next().unwrap().unwrap()["kind"], "a");
        assert_eq!(r.next().unwrap().unwrap()["kind"], "b");
        assert_eq!(r.line(), 3);
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.to_string().starts_with("in.jsonl:4: invalid JSON"));
        let e = r.next().unwrap().unwrap_err();
        assert!(e.to_string().contains("expected a JSON object"));
        assert!(r.next().is_none());
    }

    #[test]
    fn a_read_error_ends_the_stream() {
        let dir = std::env::temp_dir();
        let f = std::fs::File::open(&dir).unwrap();
        let mut r = Reader::new(io::BufReader::new(f), dir.display().to_string());
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(e.kind, InputErrorKind::Read);
        assert!(r.next().is_none());
        assert!(r.next().is_none());
    }

    #[test]
    fn a_closed_pipe_is_an_error_value() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let e = Writer::new(Closed)
            .write(&serde_json::json!({}))
            .unwrap_err();
        assert!(matches!(e, WriteError::Closed));
        assert_eq!(e.exit_status(), 0);
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        let input = b"{\"a\":\"\xff\"}\n";
        let mut r = Reader::new(&input[..], "x");
        assert!(r.next().unwrap().is_err());
    }
}
