//! The crashclass command: classify console logs given as files (one
//! `crash` record each) or enrich the `run`/`crash` records of JSON-lines
//! inputs in place. `main` parses the command line and calls [`run`].

use crate::{classify_reader, Classification};
use kbisect_records::{
    jsonl, kind_of, to_object, Crash, Error, Object, RecordKind, EXIT_OK, EXIT_USAGE,
};
use serde_json::Value;
use std::fs::File;
use std::io::{self, BufReader};
use std::time::Instant;

const TOOL: &str = "crashclass";

/// What the command line asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Console logs to classify (stdin when none). With `jsonl`: JSON-lines inputs.
    pub files: Vec<String>,
    /// Read JSON-lines records and enrich `run`/`crash` records in place.
    pub jsonl: bool,
    /// Titles of the bug being bisected: adds `same_bug`.
    pub targets: Vec<String>,
    /// Leave the extracted report text out of the records.
    pub no_report: bool,
}

/// Do what `opts` asks, writing records to stdout. Returns the exit status:
/// 0, 2 when some input was bad (its error record was written), 1 when the
/// output failed (0 when the reader closed it).
pub fn run(opts: Options) -> i32 {
    let mut ctx = Ctx {
        cli: opts,
        out: jsonl::Writer::stdout(),
        status: EXIT_OK,
        closed: None,
    };
    if ctx.cli.jsonl {
        ctx.run_jsonl();
    } else {
        ctx.run_logs();
    }
    match ctx.closed {
        Some(e) => e.exit_status(),
        None => ctx.status,
    }
}

struct Ctx {
    cli: Options,
    out: jsonl::Writer<io::Stdout>,
    status: i32,
    /// Set when output failed: nothing more is worth doing.
    closed: Option<jsonl::WriteError>,
}

impl Ctx {
    fn finish_class(&self, mut class: Classification) -> Classification {
        if !self.cli.targets.is_empty() {
            class.same_bug = crate::is_same_bug(&class, &self.cli.targets);
        }
        if self.cli.no_report {
            class.report = None;
        }
        class
    }

    /// Classification fields as an object; `same_bug` is written as null
    /// (not left out) when targets were given and there is no answer.
    fn class_fields(&self, class: &Classification) -> Object {
        let mut obj = match serde_json::to_value(class) {
            Ok(Value::Object(m)) => m,
            _ => Object::new(),
        };
        class.write_same_bug(&mut obj, !self.cli.targets.is_empty());
        obj
    }

    fn emit(&mut self, obj: &Object) {
        if self.closed.is_some() {
            return;
        }
        if let Err(e) = self.out.write(obj) {
            if !matches!(e, jsonl::WriteError::Closed) {
                kbisect_records::say!("{TOOL}: {e}");
            }
            self.closed = Some(e);
        }
    }

    fn error(&mut self, error: &str, message: String, file: Option<String>, line: Option<usize>) {
        let place = match (&file, line) {
            (Some(f), Some(l)) => format!("{f}:{l}: "),
            (Some(f), None) => format!("{f}: "),
            _ => String::new(),
        };
        kbisect_records::say!("{TOOL}: {place}{message}");
        let rec = Error {
            tool: TOOL.into(),
            error: error.into(),
            message,
            file,
            line,
            ..Default::default()
        };
        self.emit(&to_object(&rec));
        self.status = EXIT_USAGE;
    }

    /// Classify one log; Err is a message naming what went wrong.
    fn classify_path(&self, path: &str) -> Result<Classification, (&'static str, String)> {
        let class = if path == "-" {
            classify_reader(io::stdin().lock())
        } else {
            let f = File::open(path).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => ("missing_log", format!("cannot open log: {e}")),
                _ => ("unreadable_log", format!("cannot open log: {e}")),
            })?;
            if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
                return Err(("unreadable_log", "is a directory, not a log".into()));
            }
            classify_reader(BufReader::with_capacity(1 << 20, f))
        };
        class.map_err(|e| ("unreadable_log", format!("reading log: {e}")))
    }

    /// The FILE arguments, or `-` (stdin) when there are none.
    fn inputs(&self) -> Vec<String> {
        if self.cli.files.is_empty() {
            vec!["-".to_string()]
        } else {
            self.cli.files.clone()
        }
    }

    fn run_logs(&mut self) {
        for path in self.inputs() {
            if self.closed.is_some() {
                return;
            }
            let name = if path == "-" {
                "<stdin>".to_string()
            } else {
                path.clone()
            };
            let t0 = Instant::now();
            match self.classify_path(&path) {
                Ok(class) => {
                    let class = self.finish_class(class);
                    let rec = Crash {
                        log: name,
                        class: class.clone(),
                        seconds: t0.elapsed().as_secs_f64(),
                        ..Default::default()
                    };
                    let mut obj = to_object(&rec);
                    obj.extend(self.class_fields(&class));
                    self.emit(&obj);
                }
                Err((kind, msg)) => self.error(kind, msg, Some(name), None),
            }
        }
    }

    fn run_jsonl(&mut self) {
        for input in self.inputs() {
            if input == "-" {
                self.jsonl_stream(jsonl::Reader::stdin());
            } else {
                match File::open(&input) {
                    Ok(f) => {
                        self.jsonl_stream(jsonl::Reader::new(BufReader::new(f), input.clone()))
                    }
                    Err(e) => self.error(
                        "missing_input",
                        format!("cannot open: {e}"),
                        Some(input),
                        None,
                    ),
                }
            }
        }
    }

    fn jsonl_stream<R: io::BufRead>(&mut self, reader: jsonl::Reader<R>) {
        let source = reader.source().to_string();
        let mut reader = reader;
        while let Some(item) = reader.next() {
            if self.closed.is_some() {
                return;
            }
            let line = reader.line();
            let obj = match item {
                Ok(o) => o,
                Err(e) => {
                    self.error(
                        "bad_input",
                        e.message.clone(),
                        Some(e.source.clone()),
                        Some(e.line),
                    );
                    continue;
                }
            };
            // A record with no kind is a bare log to classify.
            let handled = kind_of(&obj).is_none()
                || matches!(RecordKind::of(&obj), RecordKind::Run | RecordKind::Crash);
            if !handled {
                self.emit(&obj);
                continue;
            }
            let Some(log) = obj.get("log").and_then(Value::as_str).map(str::to_string) else {
                // A run that never happened has no log to classify.
                let outcome = obj.get("outcome").and_then(Value::as_str);
                if matches!(outcome, Some("skipped") | Some("infra_error")) {
                    self.emit(&obj);
                } else {
                    self.error(
                        "bad_input",
                        "record has no string `log` field naming a console log".into(),
                        Some(source.clone()),
                        Some(line),
                    );
                }
                continue;
            };
            match self.classify_path(&log) {
                Ok(class) => {
                    let class = self.finish_class(class);
                    let mut out = obj.clone();
                    out.extend(self.class_fields(&class));
                    self.emit(&out);
                }
                Err((kind, msg)) => {
                    self.error(
                        kind,
                        format!("{log}: {msg}"),
                        Some(source.clone()),
                        Some(line),
                    );
                }
            }
        }
    }
}
