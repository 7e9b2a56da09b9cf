//! bisect-step's command line, defined once: parsed by the binary and read
//! by kbisect-docgen for the man page and shell completions.

use clap::Parser;
use kbisect_records::BugKind;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "bisect-step",
    version,
    about = "Decide the next step of a kernel bisection from its journal and new build/run records",
    after_help = "\
Each call reads the journal and any new records on stdin, appends them and its
decision to the journal, and prints the `next` commit to build and test (with
--slots N, up to N runs over several commits: one `next` record each), or the
`result`. Re-running with the same journal resumes.

Examples:
  # start: print the first commit to test (the bad end, for the reproduction rate)
  bisect-step --journal j.jsonl --repo linux --bad v6.2 --good v6.1 --target 'BUG: ... in demo_fn'

  # one step of the loop
  bisect-step --journal j.jsonl </dev/null \\
    | kbuild --repo linux | ksig | ktest --repro repro.c --target 'BUG: ... in demo_fn' \\
    | bisect-step --journal j.jsonl

  # drive it by hand, like git bisect good/bad/skip
  echo '{\"kind\":\"verdict\",\"commit\":\"<sha>\",\"verdict\":\"good\"}' | bisect-step --journal j.jsonl

  # minimize a big config at the bad end first, then bisect with it
  bisect-step --journal j.jsonl --repo linux --bad v6.2 --good v6.1 --target 'BUG: ...' \\
    --config-search minimize --full-config big.config --baseline-config tinyconfig

  # config bisection: which options, from good.config to bad.config, bring the bug in at v6.2
  bisect-step --journal j.jsonl --repo linux --bad v6.2 --target 'BUG: ...' \\
    --config-search bisect --full-config bad.config --baseline-config good.config

  # go on from a bisection begun with git bisect
  git -C linux bisect log >git.log
  bisect-step --journal j.jsonl --repo linux --import-git-bisect-log git.log --target 'BUG: ...'

--import-git-bisect-log: every good/bad/skip of the log (in its terms, --term-new/
--term-old included) is appended as a verdict with reason \"git bisect log line N\";
then the step goes on as usual. A cause bisection takes git's bad (new) side
as having the bug; with --fix the new side is where the bug is gone. On a new
journal, without --bad/--good the ends come from the log: bad is its first
bad (new) mark, the goods its good (old) marks given to `git bisect start`
(and, if it was not given both ends, those before git knew both sides); with
--fix the first new mark is the good (newer) end and the first of those old
marks the bad one. The log's --first-parent is kept. On an existing journal its start stays. A log
that does not parse, names a commit not in the repository or outside the
range, or contradicts itself or the journal's ends (a good-side commit that
is, or descends from, a bad-side one) is exit 2 naming FILE:LINE, and
nothing is written.

--config-search: before the commits (minimize) or instead of them (bisect), a
search at the bad commit over the options on which --full-config and
--baseline-config differ after olddefconfig, a binary search for each
needed option; each candidate is a `next` record with `build_config` (the
candidate .config, kept in <journal>.configs/) and `config_id`. A candidate
reproduces when its runs show the bug at a third of the full config's rate
or more (the full config's own rate when lower), 95% sure. Bad configs
(unreadable, another architecture, more than a tenth of their options unknown
to Kconfig at the bad commit; for minimize, a baseline not smaller than the
full config or mostly outside it) are exit 2 before anything is written; a
few unknown options (a config of another version of the tree) are named on
stderr and dropped by olddefconfig."
)]
pub struct Cli {
    /// Journal file (JSON lines): created on first use, resumed afterwards.
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Kernel git repository.
    #[arg(long)]
    pub repo: Option<String>,
    /// A commit that has the bug (for --fix: the older end, required). Default HEAD.
    #[arg(long)]
    pub bad: Option<String>,
    /// A commit without the bug. Repeatable; for --fix one, the newer end
    /// (default: the branch head, tested first).
    #[arg(long)]
    pub good: Vec<String>,
    /// With no --good: test release tags matching this glob (e.g. 'v*'), newest first.
    #[arg(long)]
    pub releases: Option<String>,
    /// Title of the target bug, for runs without crashclass's `same_bug`. Repeatable.
    #[arg(long)]
    pub target: Vec<String>,
    /// Find the commit that fixed the bug instead of the one that caused it:
    /// good is newer than bad.
    #[arg(long)]
    pub fix: bool,
    /// Stop when the culprit is this probable (default 0.99).
    #[arg(long)]
    pub confidence: Option<f64>,
    /// Known reproduction rate (0..1]: skip testing the bad end first.
    #[arg(long)]
    pub repro_rate: Option<f64>,
    /// Before the result, test bad with the culprit reverted; the bug
    /// remaining there weighs against the culprit and may send the
    /// bisection on.
    #[arg(long)]
    pub revert_check: bool,
    /// What the bug is: crash (after boot, default), boot (a boot failure) or
    /// exit (the reproducer's exit status, as for git bisect run).
    #[arg(long, default_value = "crash", value_parser = BugKind::value_parser())]
    pub bug: BugKind,
    /// Follow only the first parent of merges, as git bisect --first-parent:
    /// commits a merge brought in are not candidates, so the culprit found
    /// on a mainline is the merge.
    #[arg(long)]
    pub first_parent: bool,
    /// Take the marks of this `git bisect log` output as verdicts and go on
    /// from there (see below).
    #[arg(long, value_name = "FILE")]
    pub import_git_bisect_log: Option<PathBuf>,
    /// VM slots this round: ask runs for up to N VMs at once, on several
    /// commits (one `next` record each) when they carry information. Per
    /// call, not kept in the journal; 1 is one test a round.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub slots: u32,
    /// Search the options between two configs at the bad commit first:
    /// `minimize` (then bisect the commits with the smallest config that
    /// reproduces) or `bisect` (name the options that bring the bug in).
    #[arg(long, value_name = "MODE", value_parser = ["minimize", "bisect"], requires = "full_config")]
    pub config_search: Option<String>,
    /// The config search's full config (minimize: the big one; bisect: the
    /// bad one): a .config file.
    #[arg(long, value_name = "FILE", requires = "config_search")]
    pub full_config: Option<String>,
    /// Its baseline (minimize: the small one; bisect: the good one): a
    /// .config file or a base target.
    #[arg(long, value_name = "FILE|TARGET", default_value = "tinyconfig")]
    pub baseline_config: String,
    /// Candidate configs the search tests at most.
    #[arg(long, value_name = "N", default_value_t = crate::policy::CONFIG_MAX_CANDIDATES)]
    pub config_candidates: u32,
}
