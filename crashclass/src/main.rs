//! Thin command-line front end for the `crashclass` library: one `crash`
//! record per log, or (`--jsonl`) test-run records enriched in place.

use clap::Parser;
use crashclass::cli::Cli;

fn main() {
    let cli = Cli::parse();
    std::process::exit(crashclass::tool::run(crashclass::tool::Options {
        files: cli.files,
        jsonl: cli.jsonl,
        targets: cli.targets,
        no_report: cli.no_report,
    }));
}
