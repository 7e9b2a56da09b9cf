//! Thin command-line front end for the `kbisect_log` library: a filter that
//! echoes records and prints the seed-style log on stderr, and `report`,
//! which prints the closing section for a `result` record.

use clap::{Parser, Subcommand};
use kbisect_records::{jsonl, kind_of, Object};
use std::io::Write;
use std::path::PathBuf;

const TOOL: &str = "kbisect-log";

#[derive(Parser, Debug)]
#[command(
    name = "kbisect-log",
    version,
    about = "Print the seed-style bisection log of the records passing through",
    after_help = "Records on stdin are echoed unchanged on stdout; the log lines go to stderr.\n\n\
Examples:\n  \
bisect-step --journal j.jsonl | kbisect-log | kbuild --repo linux | ksig | ktest --repro r.c \\\n      \
| kbisect-log | bisect-step --journal j.jsonl\n  \
kbisect-log < j.jsonl > /dev/null            # the log of a whole journal\n  \
bisect-step --journal j.jsonl | kbisect-log report --journal j.jsonl --repo linux"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the closing section (first bad commit, signatures, time,
    /// recipients, crash report) for each `result` record on stdin.
    Report {
        /// The bisect-step journal, for the crash report.
        #[arg(long)]
        journal: Option<PathBuf>,
        /// The kernel repository, for the culprit's `git show --stat`.
        #[arg(long)]
        repo: Option<PathBuf>,
        /// Titles of the bug, for journals whose runs carry no `same_bug`.
        #[arg(long = "title")]
        titles: Vec<String>,
        /// Also print what bisect-step prints with its result (signatures,
        /// revisions tested, first bad commit).
        #[arg(long)]
        full: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    let mut out = jsonl::Writer::stdout();
    let mut emit = |obj: &Object| {
        if let Err(e) = out.write(obj) {
            kbisect_records::exit_failure(TOOL, format!("writing stdout: {e}"));
        }
    };
    let stderr = std::io::stderr();
    let say = |lines: Vec<String>| {
        let mut err = stderr.lock();
        for l in lines {
            let _ = writeln!(err, "{l}");
        }
    };
    match cli.command {
        None => {
            let mut log = kbisect_log::Log::new();
            for item in jsonl::Reader::stdin() {
                let obj = item.unwrap_or_else(|e| kbisect_records::exit_usage(TOOL, e));
                say(log.feed(&obj));
                emit(&obj);
            }
            say(log.flush());
        }
        Some(Command::Report {
            journal,
            repo,
            titles,
            full,
        }) => {
            let journal_records = match &journal {
                None => Vec::new(),
                Some(p) => read_journal(p),
            };
            for item in jsonl::Reader::stdin() {
                let obj = item.unwrap_or_else(|e| kbisect_records::exit_usage(TOOL, e));
                if kind_of(&obj) == Some("result") {
                    let culprit = obj
                        .get("culprit")
                        .and_then(|c| c.get("commit"))
                        .and_then(|c| c.as_str())
                        .filter(|c| kbisect_records::is_full_sha(c));
                    let show = match (&repo, culprit) {
                        (Some(r), Some(c)) => git_show(r, c),
                        _ => None,
                    };
                    let crash = kbisect_log::target_crash(&journal_records, &titles);
                    let inputs = kbisect_log::ReportInputs {
                        show: show.as_deref(),
                        full,
                        crash_title: crash.as_ref().map(|c| c.0.as_str()),
                        crash_report: crash.as_ref().and_then(|c| c.1.as_deref()),
                    };
                    say(kbisect_log::report(&obj, &inputs));
                }
                emit(&obj);
            }
        }
    }
}

/// Records of a journal; a line that is not a record is skipped (the journal
/// belongs to bisect-step, which checks it).
fn read_journal(path: &PathBuf) -> Vec<Object> {
    match std::fs::File::open(path) {
        Ok(f) => jsonl::Reader::new(std::io::BufReader::new(f), path.display().to_string())
            .filter_map(Result::ok)
            .collect(),
        Err(e) => {
            eprintln!("{TOOL}: {}: {e}", path.display());
            Vec::new()
        }
    }
}

/// `git show --stat` of the culprit, as the seed's log has it.
fn git_show(repo: &PathBuf, commit: &str) -> Option<String> {
    duct::cmd(
        "git",
        ["show", "--stat", "--no-decorate", "--format=medium", commit],
    )
    .dir(repo)
    .stderr_null()
    .read()
    .ok()
}
