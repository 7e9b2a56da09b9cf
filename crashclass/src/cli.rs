//! crashclass's command line, defined once: parsed by the binary and read
//! by kbisect-docgen for the man page and shell completions.

use clap::Parser;

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
pub struct Cli {
    /// Console logs to classify (stdin when none). With --jsonl: JSON-lines inputs.
    pub files: Vec<String>,
    /// Read JSON-lines records; enrich each `run`/`crash` record whose `log`
    /// field names a console log with the classification fields. Other
    /// records pass through unchanged.
    #[arg(long)]
    pub jsonl: bool,
    /// Title of the bug being bisected (repeatable): adds `same_bug`.
    #[arg(long = "target", value_name = "TITLE")]
    pub targets: Vec<String>,
    /// Leave the extracted report text out of the records.
    #[arg(long)]
    pub no_report: bool,
}
