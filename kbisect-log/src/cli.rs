//! kbisect-log's command line, defined once: parsed by the binary and read
//! by kbisect-docgen for the man page and shell completions.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "kbisect-log",
    version,
    about = "Print the seed-style bisection log of the records passing through",
    after_help = "Records on stdin are echoed unchanged on stdout; the log lines go to stderr. \
On a terminal the verdict words are in colour, unless NO_COLOR is set (non-empty) or TERM=dumb.\n\n\
Examples:\n  \
bisect-step --journal j.jsonl | kbisect-log | kbuild --repo linux | ksig | ktest --repro r.c \\\n      \
| kbisect-log | bisect-step --journal j.jsonl\n  \
kbisect-log < j.jsonl > /dev/null            # the log of a whole journal\n  \
bisect-step --journal j.jsonl | kbisect-log --progress --step 3 --started $T | kbuild ...\n  \
bisect-step --journal j.jsonl | kbisect-log report --journal j.jsonl --repo linux\n  \
kbisect-log report --html report.html --journal j.jsonl   # the page of a journal\n  \
kbuild --repo linux | ksig | ktest --repro r.c | kbisect-log revert-check --target 'WARNING in f'"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// End with a status line of the step (from the `next` records: step,
    /// candidates left, the culprit's probability, elapsed time, time left):
    /// redrawn in place when stderr is a terminal, a plain line otherwise.
    #[arg(long)]
    pub progress: bool,
    /// With --progress: the number of the step about to run.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "progress")]
    pub step: u32,
    /// With --progress: when the bisection started, in Unix seconds
    /// (`date +%s`) [default: now].
    #[arg(long, value_name = "UNIX_SECONDS", requires = "progress")]
    pub started: Option<f64>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the closing section (first bad commit, signatures, time,
    /// recipients, crash report) for each `result` record on stdin; or,
    /// with --html, write the journal's HTML report.
    Report {
        /// Write a self-contained HTML report of the journal (--journal) to
        /// FILE, atomically, instead: summary, candidate range, tested
        /// commits with their runs, timings, crashes; works on an unfinished
        /// journal too. stdin is not read; --repo adds the culprit's author
        /// and date and the commit graph.
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
