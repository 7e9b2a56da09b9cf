//! Thin command-line front end for the `kbisect_log` library: a filter that
//! echoes records and prints the seed-style log on stderr, `report`, which
//! prints the closing section for a `result` record (or, with `--html`, the
//! journal's HTML report), and `revert-check`.

use clap::Parser;
use kbisect_log::cli::{Cli, Command};
use kbisect_log::tool;
use kbisect_records::jsonl;

fn main() {
    let cli = Cli::parse();
    let input = jsonl::Reader::stdin();
    let mut out = jsonl::Writer::stdout();
    let status = match cli.command {
        None => {
            let progress = cli.progress.then(|| tool::ProgressOptions {
                step: cli.step,
                started: cli.started.unwrap_or_else(tool::unix_now),
            });
            tool::filter(input, &mut out, progress)
        }
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
