//! Reading and writing JSON lines.
//!
//! Input errors carry the file name and 1-based line number so a tool can say
//! exactly where its input went wrong (and exit 2). Output is flushed after
//! every line so a downstream tool sees each record as soon as it is made; a
//! closed pipe downstream ends the process quietly instead of panicking.

use crate::Object;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::io::{self, BufRead, Write};

/// Malformed input at a known place.
#[derive(Debug)]
pub struct InputError {
    /// Where the input came from: a path, or `<stdin>`.
    pub source: String,
    /// 1-based line number (0 when the error is not tied to a line).
    pub line: usize,
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
}

impl<R: BufRead> Reader<R> {
    /// Read records from `input`, naming it `source` in errors.
    pub fn new(input: R, source: impl Into<String>) -> Self {
        Reader {
            input,
            source: source.into(),
            line: 0,
            buf: Vec::new(),
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

    fn error(&self, message: impl Into<String>) -> InputError {
        InputError {
            source: self.source.clone(),
            line: self.line,
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
        loop {
            self.buf.clear();
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(self.error(format!("read error: {e}")))),
            }
            self.line += 1;
            let text = match std::str::from_utf8(&self.buf) {
                Ok(t) => t.trim(),
                Err(_) => return Some(Err(self.error("line is not valid UTF-8"))),
            };
            if text.is_empty() {
                continue;
            }
            return Some(match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(obj)) => Ok(obj),
                Ok(_) => Err(self.error("expected a JSON object")),
                Err(e) => Err(self.error(format!("invalid JSON: {e}"))),
            });
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

    /// Write one record and flush. A closed pipe downstream (EPIPE) exits
    /// the process with status 0 — the reader has gone, as with `head`.
    pub fn write<T: Serialize + ?Sized>(&mut self, record: &T) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        let res = self.out.write_all(&line).and_then(|_| self.out.flush());
        match res {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
            other => other,
        }
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
    fn invalid_utf8_is_an_error_not_a_panic() {
        let input = b"{\"a\":\"\xff\"}\n";
        let mut r = Reader::new(&input[..], "x");
        assert!(r.next().unwrap().is_err());
    }
}
