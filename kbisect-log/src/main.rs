//! Thin command-line front end for the `kbisect_log` library: a filter that
//! echoes records and prints the seed-style log on stderr, `report`, which
//! prints the closing section for a `result` record (or, with `--html`, the
//! journal's HTML report), and `revert-check`.

use clap::{Parser, Subcommand};
use kbisect_log::tool;
use kbisect_records::jsonl;
use std::path::PathBuf;

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
bisect-step --journal j.jsonl | kbisect-log report --journal j.jsonl --repo linux\n  \
kbisect-log report --html report.html --journal j.jsonl   # the page of a journal\n  \
kbuild --repo linux | ksig | ktest --repro r.c | kbisect-log revert-check --target 'WARNING in f'"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the closing section (first bad commit, signatures, time,
    /// recipients, crash report) for each `result` record on stdin; or,
    /// with --html, write the journal's HTML report.
    Report {
        /// Write a self-contained HTML report of the journal (--journal) to
        /// FILE, atomically, instead: summary, candidate range, tested
        /// commits with their runs, timings, crashes; works on an unfinished
        /// journal too. stdin is not read; --repo adds the culprit's author
        /// and date.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
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
    /// Decide the culprit check from the records of one build of the bad
    /// commit with the culprit reverted (and its runs) on stdin; print
    /// bug_gone, bug_remains, revert_failed or not_tested. A run shows the
    /// bug by the same rule as everywhere (`same_bug` when written, else
    /// its titles against --target; a corrupted report never counts).
    RevertCheck {
        /// Title of the bug (repeatable).
        #[arg(long = "target", value_name = "TITLE")]
        targets: Vec<String>,
    },
}

fn main() {
    let cli = Cli::parse();
    let input = jsonl::Reader::stdin();
    let mut out = jsonl::Writer::stdout();
    let status = match cli.command {
        None => tool::filter(input, &mut out),
        Some(Command::Report {
            html: Some(html),
            journal,
            repo,
            ..
        }) => tool::html_report(&tool::HtmlOptions {
            html,
            journal,
            repo,
        }),
        Some(Command::Report {
            html: None,
            journal,
            repo,
            titles,
            full,
        }) => {
            let opts = tool::ReportOptions {
                journal,
                repo,
                titles,
                full,
            };
            tool::report(&opts, input, &mut out)
        }
        Some(Command::RevertCheck { targets }) => {
            tool::revert_check(&targets, input, &mut std::io::stdout().lock())
        }
    };
    std::process::exit(status);
}
