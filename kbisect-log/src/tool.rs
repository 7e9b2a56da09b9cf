//! The kbisect-log commands over standard streams: the echoing filter that
//! prints the log ([`filter`]), `report` ([`report`]) and `revert-check`
//! ([`revert_check`]). `main` parses the command line and calls one.

use crate::progress::{paint_verdict, stderr_terminal, ProgressState, Terminal, CLEAR_LINE};
use kbisect_records::jsonl::{self, InputError, WriteError};
use kbisect_records::{Object, RecordKind, EXIT_OK, EXIT_USAGE};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

const TOOL: &str = "kbisect-log";

/// Print log lines on stderr; on a redrawing terminal each first erases
/// the status line it may be printed over.
fn say(lines: Vec<String>, term: Terminal) {
    let mut err = std::io::stderr().lock();
    let clear = if term.redraw { CLEAR_LINE } else { "" };
    for l in lines {
        let _ = writeln!(err, "{clear}{}", paint_verdict(&l, term.colour));
    }
}

/// `--progress`: the script's count of steps and clock, for the status line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgressOptions {
    /// The step about to run, from 1.
    pub step: u32,
    /// Unix time, in seconds, when the bisection (this run of it) started.
    pub started: f64,
}

/// The status line of the first `next` record that says where the
/// bisection stands.
fn progress_state(obj: &Object, opts: ProgressOptions, now: f64) -> Option<ProgressState> {
    if RecordKind::of(obj) != RecordKind::Next {
        return None;
    }
    let revisions_left = obj.get("revisions_left").and_then(|v| v.as_u64());
    revisions_left?;
    Some(ProgressState {
        step: opts.step,
        revisions_left,
        steps_left: obj
            .get("steps_left")
            .and_then(|v| v.as_u64())
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        culprit_probability: obj.get("culprit_probability").and_then(|v| v.as_f64()),
        elapsed: (now - opts.started).max(0.0),
    })
}

/// Now, in Unix seconds (0 on a clock before 1970).
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn bad_input(e: &InputError) -> i32 {
    eprintln!("{TOOL}: {e}");
    EXIT_USAGE
}

fn write_failed(e: WriteError) -> i32 {
    if !matches!(e, WriteError::Closed) {
        eprintln!("{TOOL}: {e}");
    }
    e.exit_status()
}

/// Echo the records of `input` on `out` and print their log on stderr;
/// with `progress`, end with the status line of the step (redrawn in place
/// on a terminal, a plain `progress:` line otherwise).
pub fn filter<R: BufRead, W: Write>(
    input: jsonl::Reader<R>,
    out: &mut jsonl::Writer<W>,
    progress: Option<ProgressOptions>,
) -> i32 {
    let term = stderr_terminal();
    let mut log = crate::Log::new();
    let mut state = None;
    for item in input {
        let obj = match item {
            Ok(obj) => obj,
            Err(e) => return bad_input(&e),
        };
        say(log.feed(&obj), term);
        if let (None, Some(p)) = (state, progress) {
            state = progress_state(&obj, p, unix_now());
        }
        if let Err(e) = out.write(&obj) {
            return write_failed(e);
        }
    }
    say(log.flush(), term);
    if let Some(state) = state {
        let mut err = std::io::stderr().lock();
        let _ = if term.redraw {
            write!(err, "{CLEAR_LINE}{}", state.line()).and_then(|()| err.flush())
        } else {
            writeln!(err, "progress: {}", state.line())
        };
    }
    EXIT_OK
}

/// What `report` needs besides the records.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// The bisect-step journal, for the crash report.
    pub journal: Option<PathBuf>,
    /// The kernel repository, for the culprit's `git show --stat`.
    pub repo: Option<PathBuf>,
    /// Titles of the bug.
    pub titles: Vec<String>,
    /// Also print what bisect-step prints with its result.
    pub full: bool,
}

/// Echo the records of `input`, printing the closing section for each
/// `result` record on stderr.
pub fn report<R: BufRead, W: Write>(
    opts: &ReportOptions,
    input: jsonl::Reader<R>,
    out: &mut jsonl::Writer<W>,
) -> i32 {
    let journal_records = match &opts.journal {
        None => Vec::new(),
        Some(p) => match read_journal(p) {
            Ok(j) => j,
            Err(status) => return status,
        },
    };
    for item in input {
        let obj = match item {
            Ok(obj) => obj,
            Err(e) => return bad_input(&e),
        };
        if RecordKind::of(&obj) == RecordKind::Result {
            let culprit = obj
                .get("culprit")
                .and_then(|c| c.get("commit"))
                .and_then(|c| c.as_str())
                .filter(|c| kbisect_records::is_full_sha(c));
            let show = match (&opts.repo, culprit) {
                (Some(r), Some(c)) => git_show(r, c),
                _ => None,
            };
            let crash = crate::target_crash(&journal_records, &opts.titles);
            let inputs = crate::ReportInputs {
                show: show.as_deref(),
                full: opts.full,
                crash_title: crash.as_ref().map(|c| c.0.as_str()),
                crash_report: crash.as_ref().and_then(|c| c.1.as_deref()),
            };
            say(crate::report(&obj, &inputs), stderr_terminal());
        }
        if let Err(e) = out.write(&obj) {
            return write_failed(e);
        }
    }
    EXIT_OK
}

/// Read the records of one revert-check build (and its runs) from `input`
/// and print the answer ([`crate::revert_check`]) as one word on `out`.
pub fn revert_check<R: BufRead, W: Write>(
    targets: &[String],
    input: jsonl::Reader<R>,
    out: &mut W,
) -> i32 {
    let mut records = Vec::new();
    for item in input {
        match item {
            Ok(obj) => records.push(obj),
            Err(e) => return bad_input(&e),
        }
    }
    let answer = crate::revert_check(&records, targets);
    match writeln!(out, "{answer}").and_then(|_| out.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) => write_failed(e.into()),
    }
}

/// Records of a journal. A line that is not a record is skipped with a
/// warning (the journal belongs to bisect-step, which checks it; a report is
/// still worth printing). A journal that cannot be opened or read (missing,
/// a directory) is bad input (exit 2): the user named it.
fn read_journal(path: &Path) -> Result<Vec<Object>, i32> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{TOOL}: journal {}: {e}", path.display());
            return Err(EXIT_USAGE);
        }
    };
    let mut records = Vec::new();
    let mut skipped = 0usize;
    let reader = jsonl::Reader::new(std::io::BufReader::new(f), path.display().to_string());
    for item in reader {
        match item {
            Ok(obj) => records.push(obj),
            Err(e) if e.kind == jsonl::InputErrorKind::Read => return Err(bad_input(&e)),
            Err(e) => {
                skipped += 1;
                if skipped <= SKIPPED_LINES_SHOWN {
                    eprintln!("{TOOL}: skipping a journal line: {e}");
                }
            }
        }
    }
    if skipped > SKIPPED_LINES_SHOWN {
        eprintln!(
            "{TOOL}: {}: {skipped} journal lines skipped in all",
            path.display()
        );
    }
    Ok(records)
}

/// How many skipped journal lines are named one by one.
const SKIPPED_LINES_SHOWN: usize = 3;

/// `git show --stat` of the culprit, as the seed's log has it. When git
/// cannot show it (not a repository, commit missing) the report goes on
/// without it, and says why on stderr.
fn git_show(repo: &Path, commit: &str) -> Option<String> {
    let out = duct::cmd(
        "git",
        ["show", "--stat", "--no-decorate", "--format=medium", commit],
    )
    .dir(repo)
    .stdout_capture()
    .stderr_capture()
    .unchecked()
    .run();
    let why = match out {
        Ok(o) if o.status.success() => return Some(String::from_utf8_lossy(&o.stdout).into()),
        Ok(o) => String::from_utf8_lossy(&o.stderr)
            .lines()
            .next()
            .unwrap_or("git show failed")
            .to_string(),
        Err(e) => e.to_string(),
    };
    eprintln!(
        "{TOOL}: no stat of the culprit from {}: {why}",
        repo.display()
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_reader() -> jsonl::Reader<std::io::BufReader<std::fs::File>> {
        let dir = std::env::temp_dir();
        let f = std::fs::File::open(&dir).unwrap();
        jsonl::Reader::new(std::io::BufReader::new(f), dir.display().to_string())
    }

    #[test]
    fn a_directory_is_bad_input_not_a_spin() {
        let mut out = jsonl::Writer::new(Vec::new());
        assert_eq!(filter(dir_reader(), &mut out, None), EXIT_USAGE);
        let opts = ReportOptions {
            journal: Some(std::env::temp_dir()),
            ..Default::default()
        };
        assert_eq!(
            report(&opts, jsonl::Reader::new(&b""[..], "in"), &mut out),
            EXIT_USAGE
        );
        assert_eq!(
            report(&ReportOptions::default(), dir_reader(), &mut out),
            EXIT_USAGE
        );
        assert!(out.into_inner().is_empty());
        assert_eq!(revert_check(&[], dir_reader(), &mut Vec::new()), EXIT_USAGE);
    }

    #[test]
    fn a_missing_journal_is_bad_input() {
        let opts = ReportOptions {
            journal: Some("/nonexistent/journal.jsonl".into()),
            ..Default::default()
        };
        let mut out = jsonl::Writer::new(Vec::new());
        let input = b"{\"kind\":\"result\",\"status\":\"found\"}\n";
        assert_eq!(
            report(&opts, jsonl::Reader::new(&input[..], "in"), &mut out),
            EXIT_USAGE
        );
    }

    #[test]
    fn invalid_journal_lines_are_skipped_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("j.jsonl");
        std::fs::write(
            &j,
            b"{\"kind\":\"start\"}\nnot json\n[1]\n{\"kind\":\"run\"}\n",
        )
        .unwrap();
        assert_eq!(read_journal(&j).unwrap().len(), 2);
    }

    #[test]
    fn no_stat_from_a_directory_that_is_not_a_repository() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(git_show(dir.path(), &"a".repeat(40)), None);
    }

    #[test]
    fn revert_check_prints_one_word() {
        let input = b"{\"kind\":\"build\",\"ok\":true,\"commit\":\"c\"}\n{\"kind\":\"run\",\"outcome\":\"ok\",\"crashed\":false}\n";
        let mut out = Vec::new();
        let r = jsonl::Reader::new(&input[..], "in");
        assert_eq!(revert_check(&["T".into()], r, &mut out), EXIT_OK);
        assert_eq!(out, b"bug_gone\n");
    }

    #[test]
    fn the_progress_state_comes_from_the_first_next_with_a_count() {
        let rec = |v: serde_json::Value| v.as_object().unwrap().clone();
        let opts = ProgressOptions {
            step: 3,
            started: 1000.0,
        };
        let next = rec(
            serde_json::json!({"kind":"next","commit":"c","revisions_left":12,
            "steps_left":4,"culprit_probability":0.25}),
        );
        let state = progress_state(&next, opts, 1600.0).unwrap();
        assert_eq!(state.elapsed, 600.0);
        assert_eq!(state.culprit_probability, Some(0.25));
        assert_eq!(
            state.line(),
            "step 3: 12 candidates left, culprit 25% likely, 10m00s elapsed, about 25m00s left"
        );
        let revert = rec(serde_json::json!({"kind":"next","commit":"c","revert":"d"}));
        assert_eq!(progress_state(&revert, opts, 1600.0), None);
        let run = rec(serde_json::json!({"kind":"run","commit":"c","revisions_left":1}));
        assert_eq!(progress_state(&run, opts, 1600.0), None);
    }
}
