//! The `kbisect` script's command line, defined once: the script hands its
//! arguments to the `kbisect-args` binary, which parses them with [`Cli`],
//! and kbisect-docgen reads the same definition for kbisect's man page and
//! shell completions.
//!
//! What `kbisect-args` prints on stdout (for bash to read without `eval`,
//! with `while IFS= read -r -d '' kv`): one `name=value` pair per option,
//! each followed by a NUL. Names are the long options with `-` as `_`
//! (`run_seconds`); every option is printed, with its default when not
//! given (a flag as `1` or empty); a repeatable option (`good`, `title`)
//! gives one pair per value, in order. For `--help` and `--version` the one
//! pair is `print=TEXT`: the script prints TEXT and exits 0. Bad usage is
//! exit 2 with a `kbisect: …` message on stderr and nothing on stdout.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::Parser;
use std::ffi::OsString;
use std::io::Write;

/// The default of `--jobs`: one VM slot per core here.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// kbisect's options, with the meanings and defaults the script gives them.
#[derive(Parser, Debug)]
#[command(
    name = "kbisect",
    version,
    about = "Find the commit that introduced (or, with --fix, fixed) a kernel bug",
    long_about = "Find the commit that introduced (or, with --fix, fixed) a kernel bug.\n\n\
One bisection step is a pipe of the tools (bisect-step | kbuild | ksig | ktest | \
bisect-step); kbisect loops it until bisect-step prints a `result`, then names who to \
tell and checks that reverting the culprit makes the bug go away. The log is on stderr \
(on a terminal with one progress line, redrawn in place; colour unless NO_COLOR is set \
or TERM=dumb), the final `result` record on stdout. Re-running with the same --journal \
resumes the bisection kept there.",
    after_help = "Examples:\n  \
kbisect --repo ~/linux --bad v6.3-rc2 --good v6.2 --repro repro.c \\\n      \
--title 'BUG: unable to handle kernel NULL pointer dereference in f' | jq -r .culprit.commit\n  \
kbisect --repo ~/linux --bad v6.2 --good v6.1 --bug boot --title 'WARNING in alloc_pid'\n  \
kbisect --repo ~/linux --bad v6.2 --bug exit --repro test.sh --good v6.1\n  \
kbisect --repo ~/linux --fix --bad v6.2 --repro repro.c --title T      # good: the branch head\n  \
kbisect --journal J ...        # resumes the bisection kept in J (same arguments)\n  \
kbisect ... --report bisect.html 2>bisect.log | jq .status\n  \
kbisect --repo ~/linux --config-bisect --good-config good.config --bad-config bad.config \\\n      \
--commit v6.2 --repro repro.c --title 'BUG: ...'\n\n\
Scaling out (see README \"Scaling out\"): --hosts FILE lists ssh test machines, one \
`[user@]host[:port] [SLOTS]` per line.\n\n\
Exit status: 0 when the bisection ends with a result; 2 for bad usage (a message names \
what was wrong); 1 when a tool fails or the bisection is interrupted."
)]
pub struct Cli {
    /// The kernel git repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: String,
    /// A commit that has the bug (with --fix: the older end, required).
    /// [default: HEAD]
    #[arg(long, value_name = "COMMIT")]
    pub bad: Option<String>,
    /// A commit without the bug (repeatable; with --fix the newer end,
    /// default the branch head).
    #[arg(long, value_name = "COMMIT")]
    pub good: Vec<String>,
    /// With no --good: test release tags matching GLOB (e.g. 'v*'), newest first.
    #[arg(long, value_name = "GLOB")]
    pub releases: Option<String>,
    /// The kernel config: a full .config (e.g. syzbot's), first minimized at
    /// the bad end to the smallest config between --baseline-config and it
    /// that still reproduces the bug, which the commits are then bisected
    /// with (the culprit's parent is checked with FILE); or a base target
    /// such as defconfig [default: tinyconfig with kbisect's default fragment].
    #[arg(long, value_name = "FILE|TARGET")]
    pub config: Option<String>,
    /// The reproducer: a C file, a static binary or a shell script (with
    /// --bug exit: the test whose exit status decides).
    #[arg(long, value_name = "FILE")]
    pub repro: Option<String>,
    /// The crash title of the bug (repeatable; required with --bug crash,
    /// optional with --bug boot).
    #[arg(long, value_name = "TITLE")]
    pub title: Vec<String>,
    /// What the bug is: crash (a crash after boot, needs --title), boot (a
    /// boot failure; without --title any boot failure) or exit (the exit
    /// status of --repro, as for git bisect run: 0 good, 125 skip, 1-127 bad).
    #[arg(long, value_name = "KIND", default_value = "crash")]
    pub bug: String,
    /// Find the commit that fixed the bug: --good is the newer end (default
    /// the branch head).
    #[arg(long)]
    pub fix: bool,
    /// Follow only the first parents of merges (git bisect --first-parent).
    #[arg(long)]
    pub first_parent: bool,
    /// Rules choosing the compiler by the release a commit contains (see kbuild --help).
    #[arg(long, value_name = "FILE")]
    pub compiler_table: Option<String>,
    /// VM runs per tested commit.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub runs: u32,
    /// VM slots here, filled every round (several commits at once when one
    /// cannot use them all), and make -j J; 0 runs no VM here (with --hosts).
    /// [default: the core count]
    #[arg(long, value_name = "J")]
    pub jobs: Option<u32>,
    /// Seconds the reproducer runs in each VM.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub run_seconds: u32,
    /// Sysctls the guest sets before the reproducer, a file of `name =
    /// value` lines such as syzbot's `.sysctl` files (repeatable; ktest's
    /// --sysctl).
    #[arg(long, value_name = "FILE")]
    pub sysctl: Vec<String>,
    /// Kernel command-line arguments from a file, such as syzbot's
    /// `.cmdline` files (repeatable; ktest's --cmdline-file).
    #[arg(long, value_name = "FILE")]
    pub cmdline_file: Vec<String>,
    /// Guest memory in MiB (ktest's --mem) [default: ktest's choice per
    /// kernel: 512; 2048 for a KASAN or KMSAN kernel].
    #[arg(long, value_name = "MIB")]
    pub mem: Option<u32>,
    /// Seconds from VM start to the guest's booted mark (ktest's
    /// --timeout-boot) [default: 120; 600 for a KASAN or KMSAN kernel].
    #[arg(long, value_name = "SECS")]
    pub timeout_boot: Option<u32>,
    /// Seconds of console silence that count as a hung machine (ktest's
    /// --no-output-timeout) [default: 60; 300 for a KASAN or KMSAN kernel].
    #[arg(long, value_name = "SECS")]
    pub no_output_timeout: Option<u32>,
    /// The journal (JSON lines): created on first use, resumed afterwards
    /// [default: $KBISECT_CACHE/journals/kbisect-DATE-TIME.jsonl].
    #[arg(long, value_name = "FILE")]
    pub journal: Option<String>,
    /// Write the HTML report to FILE when the bisection ends, and rewrite
    /// it after every step while it runs.
    #[arg(long, value_name = "FILE")]
    pub report: Option<String>,
    /// Also run VMs on the ssh test machines of FILE (lines of
    /// `[user@]host[:port] [SLOTS]`), checked before the first step.
    #[arg(long, value_name = "FILE")]
    pub hosts: Option<String>,
    /// ssh configuration for the hosts (keys, known hosts).
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<String>,
    /// Share compiled objects through ccache's remote storage (redis://host:port).
    #[arg(long, value_name = "URL")]
    pub remote_cache: Option<String>,
    /// Spread compilation over these distccd hosts (distcc's syntax).
    #[arg(long, value_name = "HOSTS")]
    pub distcc: Option<String>,
    /// The small end of --config's minimization: a .config file or a base target.
    #[arg(long, value_name = "FILE|TARGET", default_value = "tinyconfig")]
    pub baseline_config: String,
    /// Bisect with --config as it is, without minimizing it first.
    #[arg(long)]
    pub no_minimize_config: bool,
    /// Instead of commits, find the options whose change from --good-config
    /// to --bad-config brings the bug in at --commit.
    #[arg(long)]
    pub config_bisect: bool,
    /// With --config-bisect: the config without the bug (a file or a base target).
    #[arg(long, value_name = "FILE")]
    pub good_config: Option<String>,
    /// With --config-bisect: the config with the bug.
    #[arg(long, value_name = "FILE")]
    pub bad_config: Option<String>,
    /// With --config-bisect: the commit both configs are tried at.
    #[arg(long, value_name = "COMMIT")]
    pub commit: Option<String>,
    /// Candidate configs either config search tries at most [default: 32].
    #[arg(long, value_name = "N")]
    pub config_candidates: Option<u32>,
}

impl Cli {
    /// The `name=value` pairs the script reads, in the definition's order.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let flag = |b: bool| if b { "1".to_string() } else { String::new() };
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        let num = |o: Option<u32>| o.map(|n| n.to_string()).unwrap_or_default();
        let mut pairs = vec![("repo", self.repo.clone()), ("bad", opt(&self.bad))];
        pairs.extend(self.good.iter().map(|g| ("good", g.clone())));
        pairs.push(("releases", opt(&self.releases)));
        pairs.push(("config", opt(&self.config)));
        pairs.push(("repro", opt(&self.repro)));
        pairs.extend(self.title.iter().map(|t| ("title", t.clone())));
        pairs.extend([
            ("bug", self.bug.clone()),
            ("fix", flag(self.fix)),
            ("first_parent", flag(self.first_parent)),
            ("compiler_table", opt(&self.compiler_table)),
            ("runs", self.runs.to_string()),
            (
                "jobs",
                self.jobs
                    .map(|j| j as usize)
                    .unwrap_or_else(default_jobs)
                    .to_string(),
            ),
            ("run_seconds", self.run_seconds.to_string()),
        ]);
        pairs.extend(self.sysctl.iter().map(|f| ("sysctl", f.clone())));
        pairs.extend(
            self.cmdline_file
                .iter()
                .map(|f| ("cmdline_file", f.clone())),
        );
        pairs.extend([
            ("mem", num(self.mem)),
            ("timeout_boot", num(self.timeout_boot)),
            ("no_output_timeout", num(self.no_output_timeout)),
        ]);
        pairs.extend([
            ("journal", opt(&self.journal)),
            ("report", opt(&self.report)),
            ("hosts", opt(&self.hosts)),
            ("ssh_config", opt(&self.ssh_config)),
            ("remote_cache", opt(&self.remote_cache)),
            ("distcc", opt(&self.distcc)),
            ("baseline_config", self.baseline_config.clone()),
            ("no_minimize_config", flag(self.no_minimize_config)),
            ("config_bisect", flag(self.config_bisect)),
            ("good_config", opt(&self.good_config)),
            ("bad_config", opt(&self.bad_config)),
            ("commit", opt(&self.commit)),
            ("config_candidates", num(self.config_candidates)),
        ]);
        pairs
    }
}

/// The message for bad usage: `kbisect: ` and what was wrong, in the words
/// the script used before clap (`--bad needs a value`, `unknown argument:
/// --x`), then how to see the usage.
pub fn usage_message(err: &clap::Error) -> String {
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    // clap names an option with its value name ("--bad <COMMIT>").
    let option = context(ContextKind::InvalidArg)
        .map(|a| a.split([' ', '=']).next().unwrap_or_default().to_string());
    let what = match (err.kind(), option) {
        (ErrorKind::UnknownArgument, Some(arg)) => format!("unknown argument: {arg}"),
        (ErrorKind::InvalidValue, Some(opt))
            if context(ContextKind::InvalidValue).is_none_or(|v| v.is_empty()) =>
        {
            format!("{opt} needs a value")
        }
        _ => {
            let text = err.render().to_string();
            let first = text.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_string()
        }
    };
    format!("kbisect: {what} (see kbisect --help)")
}

/// Parses `args` (without the program name) and writes the pairs to `out`;
/// returns the exit status (0, or 2 for bad usage, after the message on
/// stderr).
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> i32 {
    let argv = std::iter::once(OsString::from("kbisect")).chain(args);
    let pairs = match Cli::try_parse_from(argv) {
        Ok(cli) => cli.pairs(),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            vec![("print", e.render().to_string())]
        }
        Err(e) => {
            eprintln!("{}", usage_message(&e));
            return 2;
        }
    };
    let mut bytes = Vec::new();
    for (name, value) in pairs {
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(b'=');
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
    }
    match out.write_all(&bytes).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("kbisect: cannot write the parsed arguments: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> (i32, String) {
        let mut out = Vec::new();
        let code = run(args.iter().map(OsString::from).collect(), &mut out);
        (code, String::from_utf8(out).unwrap())
    }

    fn message(args: &[&str]) -> String {
        let argv = std::iter::once("kbisect").chain(args.iter().copied());
        usage_message(&Cli::try_parse_from(argv).unwrap_err())
    }

    #[test]
    fn defaults_and_repeated_options_come_out_as_pairs() {
        let (code, out) = parse(&["--good", "v6.1", "--good", "v6.0", "--title", "a b=c"]);
        assert_eq!(code, 0);
        let pairs: Vec<&str> = out.split_terminator('\0').collect();
        assert!(pairs.contains(&"repo=."));
        assert!(pairs.contains(&"runs=10"));
        assert!(pairs.contains(&"run_seconds=30"));
        assert!(pairs.contains(&"bug=crash"));
        assert!(pairs.contains(&"baseline_config=tinyconfig"));
        assert!(pairs.contains(&"fix="));
        assert!(pairs.contains(&"title=a b=c"));
        let goods: Vec<_> = pairs.iter().filter(|p| p.starts_with("good=")).collect();
        assert_eq!(goods, [&"good=v6.1", &"good=v6.0"]);
    }

    #[test]
    fn the_guest_size_is_left_to_ktest_unless_given() {
        let (_, out) = parse(&[]);
        let pairs: Vec<&str> = out.split_terminator('\0').collect();
        for empty in ["mem=", "timeout_boot=", "no_output_timeout="] {
            assert!(pairs.contains(&empty), "{empty} missing from {pairs:?}");
        }
        let (_, out) = parse(&["--mem", "4096", "--timeout-boot", "900"]);
        let pairs: Vec<&str> = out.split_terminator('\0').collect();
        assert!(pairs.contains(&"mem=4096"));
        assert!(pairs.contains(&"timeout_boot=900"));
    }

    /// The script stops on a pair it does not know, so every pair this
    /// crate prints needs a case of its own in `kbisect`.
    #[test]
    fn the_script_reads_every_pair() {
        let script = include_str!("../../kbisect");
        let (_, out) = parse(&["--good", "v6.1", "--title", "t"]);
        for pair in out.split_terminator('\0') {
            let name = pair.split('=').next().unwrap();
            let label = format!("{name})");
            assert!(
                script.lines().any(|l| l.trim_start().starts_with(&label)
                    || l.contains(&format!(" {label}"))),
                "kbisect has no case for `{name}`"
            );
        }
    }

    #[test]
    fn a_value_with_a_newline_stays_one_pair() {
        let (_, out) = parse(&["--title", "line one\nline two"]);
        assert!(out
            .split_terminator('\0')
            .any(|p| p == "title=line one\nline two"));
    }

    #[test]
    fn help_and_version_are_one_print_pair() {
        let (code, out) = parse(&["--help"]);
        assert_eq!(code, 0);
        assert!(out.starts_with("print=") && out.contains('|') && out.contains("--report"));
        let (_, out) = parse(&["--version"]);
        assert!(out.contains(env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn bad_usage_names_the_option() {
        assert!(message(&["--bad"]).starts_with("kbisect: --bad needs a value"));
        assert!(
            message(&["--no-such-flag"]).starts_with("kbisect: unknown argument: --no-such-flag")
        );
        let m = message(&["--runs", "many"]);
        assert!(m.starts_with("kbisect: ") && m.contains("--runs"), "{m}");
        assert_eq!(parse(&["--runs", "many"]).0, 2);
    }
}
