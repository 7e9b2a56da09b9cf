//! Thin command-line front end for the `crashclass` library: one `crash`
//! record per log, or (`--jsonl`) test-run records enriched in place.

use clap::Parser;
use crashclass::{classify_reader, is_same_bug, Classification};
use kbisect_records::{jsonl, kind_of, to_object, Crash, Error, Object, EXIT_OK, EXIT_USAGE};
use serde_json::Value;
use std::fs::File;
use std::io::{self, BufReader};
use std::time::Instant;

const TOOL: &str = "crashclass";

#[derive(Parser, Debug)]
#[command(
    name = "crashclass",
    version,
    about = "Decide whether kernel console logs hold a crash and name it as syzbot does",
    long_about = "Reads kernel console logs and prints one JSON record per log on stdout:\n\
        {\"kind\":\"crash\",\"log\":…,\"crashed\":…,\"title\":…,\"alt_titles\":[…],\"type\":…,\n\
        \"frame\":…,\"guilty_file\":…,\"corrupted\":…,\"suppressed\":…,\"report\":…,\"report_start\":…,\n\
        \"report_end\":…,\"seconds\":…}\n\n\
        guilty_file is the source file syzbot would blame (the first file:line in the report that\n\
        is not reporting or helper code); null when the report names no source file (unsymbolized).\n\n\
        With --target, each record also gets same_bug: true when the crash's title or one of its\n\
        alt titles equals a target (or an alt title the target implies, e.g. \"bad-access in f\"),\n\
        false for a different crash, and null when there is no crash OR the report is corrupted:\n\
        a truncated or interleaved report's title cannot be trusted to tell two bugs apart, so it\n\
        is never evidence either way (bisect-step counts only same_bug == true as the target bug).\n\n\
        Logs of any size are streamed in bounded memory. Bad input never panics: a missing or\n\
        unreadable log gives an `error` record and exit status 2 at the end.",
    after_help = "Examples:\n  \
        crashclass console.log\n  \
        crashclass --target 'WARNING in kvm_wait' run1.log run2.log\n  \
        ktest --kernel bzImage --repro repro.c | crashclass --jsonl --target 'KASAN: use-after-free Read in bdev_evict_inode' | bisect-step --journal j.jsonl"
)]
struct Cli {
    /// Console logs to classify (stdin when none). With --jsonl: JSON-lines inputs.
    files: Vec<String>,
    /// Read JSON-lines records; enrich each `run`/`crash` record whose `log`
    /// field names a console log with the classification fields. Other
    /// records pass through unchanged.
    #[arg(long)]
    jsonl: bool,
    /// Title of the bug being bisected (repeatable): adds `same_bug`.
    #[arg(long = "target", value_name = "TITLE")]
    targets: Vec<String>,
    /// Leave the extracted report text out of the records.
    #[arg(long)]
    no_report: bool,
}

struct Ctx {
    cli: Cli,
    out: jsonl::Writer<io::Stdout>,
    status: i32,
}

impl Ctx {
    fn finish_class(&self, mut class: Classification) -> Classification {
        if !self.cli.targets.is_empty() {
            class.same_bug = is_same_bug(&class, &self.cli.targets);
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
        if !self.cli.targets.is_empty() && !obj.contains_key("same_bug") {
            obj.insert("same_bug".into(), Value::Null);
        }
        obj
    }

    fn emit(&mut self, obj: &Object) {
        if let Err(e) = self.out.write(obj) {
            eprintln!("{TOOL}: writing output: {e}");
            std::process::exit(1);
        }
    }

    fn error(&mut self, error: &str, message: String, file: Option<String>, line: Option<usize>) {
        let place = match (&file, line) {
            (Some(f), Some(l)) => format!("{f}:{l}: "),
            (Some(f), None) => format!("{f}: "),
            _ => String::new(),
        };
        eprintln!("{TOOL}: {place}{message}");
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

    fn run_logs(&mut self) {
        let files = if self.cli.files.is_empty() {
            vec!["-".to_string()]
        } else {
            self.cli.files.clone()
        };
        for path in files {
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
        let inputs = if self.cli.files.is_empty() {
            vec!["-".to_string()]
        } else {
            self.cli.files.clone()
        };
        for input in inputs {
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
            let handled = matches!(kind_of(&obj), None | Some("run") | Some("crash"));
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

fn main() {
    let cli = Cli::parse();
    let mut ctx = Ctx {
        cli,
        out: jsonl::Writer::stdout(),
        status: EXIT_OK,
    };
    if ctx.cli.jsonl {
        ctx.run_jsonl();
    } else {
        ctx.run_logs();
    }
    std::process::exit(ctx.status);
}
