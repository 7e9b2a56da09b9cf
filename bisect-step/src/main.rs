//! Thin command-line front end for the `bisect_step` library: parses the
//! options, hands stdin (when it is not a terminal) to [`bisect_step::run`].

use bisect_step::cli::Cli;
use bisect_step::Options;
use clap::Parser;
use std::io::IsTerminal;

fn main() {
    let cli = Cli::parse();
    if let Some(c) = cli.confidence {
        if !(0.5..1.0).contains(&c) {
            kbisect_records::exit_usage("bisect-step", "--confidence must be in [0.5, 1)");
        }
    }
    if let Some(p) = cli.repro_rate {
        if !(p > 0.0 && p <= 1.0) {
            kbisect_records::exit_usage("bisect-step", "--repro-rate must be in (0, 1]");
        }
    }
    let opts = Options {
        journal: cli.journal,
        repo: cli.repo,
        bad: cli.bad,
        good: cli.good,
        releases: cli.releases,
        target: cli.target,
        fix: cli.fix,
        confidence: cli.confidence,
        repro_rate: cli.repro_rate,
        revert_check: cli.revert_check,
        bug: cli.bug,
        first_parent: cli.first_parent,
        import_git_bisect_log: cli.import_git_bisect_log,
        slots: cli.slots,
        config_search: cli.config_search.map(|mode| kbisect_records::ConfigSearch {
            mode: if mode == "bisect" {
                kbisect_records::ConfigSearchMode::Bisect
            } else {
                kbisect_records::ConfigSearchMode::Minimize
            },
            full: cli.full_config.unwrap_or_default(),
            baseline: cli.baseline_config,
            max_candidates: Some(cli.config_candidates),
        }),
    };
    let stdin = std::io::stdin();
    let mut lock;
    let input: Option<&mut dyn std::io::BufRead> = if stdin.is_terminal() {
        None
    } else {
        lock = stdin.lock();
        Some(&mut lock)
    };
    let code = bisect_step::run(
        &opts,
        input,
        "<stdin>",
        &mut std::io::stdout(),
        // Whole lines per write: other tools of the pipeline share stderr
        // (see kbisect_records::say).
        &mut std::io::LineWriter::with_capacity(1 << 16, std::io::stderr()),
    );
    std::process::exit(code);
}
