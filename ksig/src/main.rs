//! Thin command-line front end for the `ksig` library: signs the vmlinux of
//! each `build` record on stdin, or the vmlinux paths given as arguments.

use clap::Parser;
use kbisect_records::jsonl;
use ksig::cli::Cli;

fn main() {
    let cli = Cli::parse();
    let mut out = jsonl::Writer::stdout();
    let status = if cli.paths.is_empty() {
        ksig::tool::sign_records(jsonl::Reader::stdin(), &mut out)
    } else {
        ksig::tool::sign_paths(&cli.paths, &mut out)
    };
    std::process::exit(status);
}
