//! The journal's bytes, read into records: a pure function with no file
//! I/O, so that the rules (a torn last line may be dropped, bad JSON
//! anywhere else is bad input) are in one place and can be fuzzed.
//!
//! The file side (reading it, cutting a torn tail under the journal's lock)
//! stays in `lib.rs`.

use kbisect_records::Object;

/// A last line cut short by a kill: no newline at its end and not a JSON
/// object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// 1-based line number.
    pub line: usize,
    /// Byte offset where the line starts: the journal's length once it is
    /// cut off.
    pub offset: u64,
    /// Length of the torn line in bytes.
    pub len: usize,
}

/// The journal's records, read.
#[derive(Debug, Default)]
pub struct Parsed {
    pub records: Vec<Object>,
    /// The last record has no newline after it: write one before the next
    /// append.
    pub needs_newline: bool,
    /// A torn last line, which is not a record.
    pub torn: Option<TornTail>,
}

/// A line that is not a record, and not a torn tail either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

/// Read a journal's bytes. Blank lines are passed over; invalid UTF-8 is
/// read lossily (a record's strings come back with U+FFFD, never a panic).
pub fn parse(data: &[u8]) -> Result<Parsed, BadLine> {
    let mut parsed = Parsed::default();
    let mut pos = 0usize;
    let mut line_no = 0usize;
    while pos < data.len() {
        let end = data[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| pos + i);
        let (line, complete) = match end {
            Some(e) => (&data[pos..e], true),
            None => (&data[pos..], false),
        };
        line_no += 1;
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        if !text.is_empty() {
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(o)) => {
                    parsed.records.push(o);
                    parsed.needs_newline = !complete;
                }
                Ok(_) | Err(_) if !complete => {
                    parsed.torn = Some(TornTail {
                        line: line_no,
                        offset: pos as u64,
                        len: line.len(),
                    });
                    parsed.needs_newline = false;
                }
                Ok(_) => {
                    return Err(BadLine {
                        line: line_no,
                        message: "expected a JSON object".into(),
                    })
                }
                Err(e) => {
                    return Err(BadLine {
                        line: line_no,
                        message: format!("invalid JSON: {e}"),
                    })
                }
            }
        }
        pos = match end {
            Some(e) => e + 1,
            None => data.len(),
        };
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_tail_is_named_not_an_error() {
        let p = parse(b"{\"kind\":\"start\"}\n{\"kind\":\"ru").unwrap();
        assert_eq!(p.records.len(), 1);
        assert_eq!(
            p.torn,
            Some(TornTail {
                line: 2,
                offset: 17,
                len: 11
            })
        );
        assert!(!p.needs_newline);
    }

    #[test]
    fn a_complete_last_record_without_newline_is_kept() {
        let p = parse(b"{\"kind\":\"start\"}\n{\"kind\":\"run\"}").unwrap();
        assert_eq!(p.records.len(), 2);
        assert!(p.needs_newline);
        assert_eq!(p.torn, None);
    }

    #[test]
    fn bad_lines_before_the_end_are_bad_input_with_their_line() {
        let e = parse(b"{\"kind\":\"start\"}\n\nnot json\n{}\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse(b"[1]\n").unwrap_err();
        assert_eq!(e.message, "expected a JSON object");
        assert!(parse(b"").unwrap().records.is_empty());
        assert!(parse(b"\xff\xfe\n").is_err());
        assert_eq!(parse(b"{\"a\":\"\xff\"}\n").unwrap().records.len(), 1);
    }
}
