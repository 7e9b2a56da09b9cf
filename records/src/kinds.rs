//! The record types. Each flattens an `extra` map so that fields it does not
//! name survive a parse / serialise round trip; see `docs/protocol.md` for
//! the meaning of every field, its unit, and an example line.

use crate::{BugKind, Direction, Kind, Object, Reason, Status};
use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !*b
}

/// The fields bisect-step puts in a `next` record for kbuild and ktest:
/// they travel `next` → `build` (kbuild) → `run` (ktest, `revert` only),
/// flattened, so each is a plain top-level field of those records.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TestPlan {
    /// Why this commit: `start`, `release`, `bisect`, `more_runs`, `parent`, `revert_check`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The release tag being tested, when `reason` is `release`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Full sha of a commit to revert on top of `commit` before building
    /// (culprit check); kbuild writes it resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revert: Option<String>,
    /// How many VM runs are worth doing on this commit now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs: Option<u32>,
    /// False when every run is wanted even after one shows the target bug
    /// (measuring the reproduction rate); ktest stops early otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_on_target: Option<bool>,
    /// Build signatures of kernels already tested: a build with one of them
    /// is the same kernel, so ktest does not boot it again (bisect-step
    /// takes the verdict of the commit that had it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_signatures: Vec<String>,
    /// What kbuild configures with instead of its own `--config`: a full
    /// `.config` path, or a base target (`tinyconfig` … with the default
    /// fragment). Set by the config search and by a bisection that runs
    /// with a minimized config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_config: Option<String>,
    /// The config's id in the bisection (16 hex digits of its options'
    /// digest): builds and runs with it are facts of that config, not of
    /// the plain commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_id: Option<String>,
}

impl TestPlan {
    /// The names of the plan's fields in a record, for messages and checks.
    pub const FIELDS: [&'static str; 8] = [
        "reason",
        "release",
        "revert",
        "runs",
        "stop_on_target",
        "known_signatures",
        "build_config",
        "config_id",
    ];
}

/// `kind: "next"` — the next commit to build and test, made by bisect-step.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Next {
    /// Full 40-hex sha of the commit to test.
    pub commit: String,
    /// The commit's subject line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// What to build and how to test it, carried on into `build`.
    #[serde(flatten)]
    pub plan: TestPlan,
    /// Candidate commits left after this one is tested (as git bisect counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revisions_left: Option<u64>,
    /// Roughly how many more steps after this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps_left: Option<u32>,
    /// The best candidate's posterior probability of being the culprit
    /// when this commit was chosen (progress displays show it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culprit_probability: Option<f64>,
    /// Seconds spent choosing this commit.
    #[serde(default)]
    pub seconds: f64,
    #[serde(flatten)]
    pub extra: Object,
}
impl Kind for Next {
    const KIND: &'static str = "next";
}

/// `kind: "build"` — a kernel built (or not) at a commit, made by kbuild and
/// given its `signature` by ksig.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Build {
    pub commit: String,
    /// True when a bootable kernel image was produced.
    pub ok: bool,
    /// Path of the bootable image (arch/x86/boot/bzImage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// Path of the vmlinux ELF file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vmlinux: Option<String>,
    /// Path of the final .config used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Compiler identity line, e.g. "gcc (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiler: Option<String>,
    /// The compiler command used (gcc-12, clang-15, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc: Option<String>,
    /// The kernel release string (make kernelrelease).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_release: Option<String>,
    /// Requested config options that olddefconfig dropped or changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_options: Vec<String>,
    /// Options kbuild turned on (or off) in a user's full `.config`
    /// because ktest's guest needs them (kbuild/config/guest.fragment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added_options: Vec<String>,
    /// True when the artifacts came from the cache with no build.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cached: bool,
    /// On failure: checkout_failed, config_failed, build_failed, timeout, interrupted,
    /// compiler_missing, unknown_commit, not_a_repo, disk_full, revert_failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// On failure: the first compiler error lines ("file:line: error: …") or a message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_lines: Vec<String>,
    /// sha-256 build signature of vmlinux, added by ksig (64 hex digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Seconds ksig took to compute `signature`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_seconds: Option<f64>,
    /// Path of the make output of this build (kbuild).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_log: Option<String>,
    /// Seconds the build took (0 when cached).
    #[serde(default)]
    pub seconds: f64,
    /// What ccache did for this build's compilations (kbuild, whenever make
    /// ran through ccache; absent for a cached artifact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ccache: Option<CcacheCounts>,
    /// What distcc did for this build (kbuild --distcc, whenever make ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distcc: Option<DistccCounts>,
    /// The `next` record's plan, carried through (revert resolved).
    #[serde(flatten)]
    pub plan: TestPlan,
    #[serde(flatten)]
    pub extra: Object,
}
impl Kind for Build {
    const KIND: &'static str = "build";
}

/// One build's ccache calls, from ccache's per-build statistics log.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CcacheCounts {
    /// Compilations answered from the local cache (CCACHE_DIR).
    pub local_hits: u64,
    /// Compilations answered from the remote storage (--remote-cache).
    pub remote_hits: u64,
    /// Compilations that ran the compiler and were stored.
    pub misses: u64,
    /// Compiler calls ccache does not cache (preprocessing only, linking,
    /// output to /dev/null, failed compiles, …).
    pub uncacheable: u64,
}

/// One build's distcc calls, from distcc's client log.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DistccCounts {
    /// The host list as given (DISTCC_HOSTS).
    pub hosts: String,
    /// make's -j for this build.
    pub jobs: u64,
    /// Compilations done on a distcc host.
    pub remote: u64,
    /// Compilations that ran locally after failing to distribute (no host
    /// reachable, or the remote compile failed).
    pub local_fallback: u64,
    /// Compilations that could not reach a host they were sent to (down,
    /// refusing); distcc then tries another host, else compiles locally.
    pub host_failures: u64,
}

/// `kind: "signature"` — ksig's answer for a vmlinux given on the command line.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Signature {
    pub vmlinux: String,
    pub signature: String,
    /// Bytes hashed.
    #[serde(default)]
    pub bytes: u64,
    #[serde(default)]
    pub seconds: f64,
    #[serde(flatten)]
    pub extra: Object,
}
impl Kind for Signature {
    const KIND: &'static str = "signature";
}

/// `kind: "host"` — `ktest --check-hosts`: one test machine reached over
/// ssh and what it can do.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Host {
    /// The host as given (`user@host:port`).
    pub host: String,
    /// VMs it runs at a time.
    pub slots: usize,
    /// ssh connected and ran the probe.
    pub reachable: bool,
    /// The QEMU found there (a path), absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qemu: Option<String>,
    /// QEMU's version line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qemu_version: Option<String>,
    /// /dev/kvm opens there (reachable hosts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kvm: Option<bool>,
    /// Why it cannot run VMs, when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default)]
    pub seconds: f64,
    #[serde(flatten)]
    pub extra: Object,
}
impl Kind for Host {
    const KIND: &'static str = "host";
}

/// What crashclass says of a console log. These fields stand flat in a
/// `crash` record and in the run records they enrich.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Classification {
    /// True when the log holds a kernel crash report.
    pub crashed: bool,
    /// syzkaller-style title, null when no crash.
    pub title: Option<String>,
    /// Other titles of the same crash.
    #[serde(default)]
    pub alt_titles: Vec<String>,
    /// Crash type: WARNING, KASAN-USE-AFTER-FREE-READ, LOCKDEP, HANG, …
    #[serde(default, rename = "type")]
    pub crash_type: Option<String>,
    /// The function the title names.
    #[serde(default)]
    pub frame: Option<String>,
    /// The kernel source file to blame (`net/ipv6/ip6_output.c`): the first
    /// file in the report's stack that is not reporting, helper or core
    /// infrastructure code, as syzbot picks it; null when the report names
    /// no source file (unsymbolized) or there is no crash.
    #[serde(default)]
    pub guilty_file: Option<String>,
    /// The report is damaged (interleaved or truncated).
    #[serde(default)]
    pub corrupted: bool,
    /// A crash known to be noise.
    #[serde(default)]
    pub suppressed: bool,
    /// Extracted report text.
    #[serde(default)]
    pub report: Option<String>,
    /// Byte offset of the report's start in the log.
    #[serde(default)]
    pub report_start: Option<u64>,
    /// Byte offset just past the report's end in the log.
    #[serde(default)]
    pub report_end: Option<u64>,
    /// With --target: is this the target bug (null when no crash or a
    /// corrupted report). Absent without targets; with them, tools write it
    /// even when null ([`Classification::write_same_bug`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_bug: Option<bool>,
}

impl Classification {
    /// Put `same_bug` in `obj`, a record these fields were written into:
    /// with targets it is always written (`null` when there is no answer,
    /// so a reader can tell "compared, no evidence" from "not compared");
    /// without targets it is left as serialisation made it (absent).
    pub fn write_same_bug(&self, obj: &mut Object, targets_given: bool) {
        if targets_given {
            obj.insert("same_bug".into(), self.same_bug.into());
        }
    }
}

/// `kind: "crash"` — crashclass's record for a log given as a file or stdin.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Crash {
    /// The log's path, `<stdin>` for standard input.
    pub log: String,
    #[serde(flatten)]
    pub class: Classification,
    #[serde(default)]
    pub seconds: f64,
    #[serde(flatten)]
    pub extra: Object,
}
impl Kind for Crash {
    const KIND: &'static str = "crash";
}

/// How one VM run ended.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Booted, sanity test passed, reproducer ran to its time limit with no crash.
    #[default]
    Ok,
    /// A crash report after the booted mark (see `title`, `same_bug`).
    Crashed,
    /// A crash or silence before the booted mark.
    BootFailed,
    /// The sanity test failed or the reproducer could not run.
    TestFailed,
    /// The harness failed: QEMU would not start, image missing, …
    InfraError,
    /// Not run: an earlier run already showed the target bug (--target).
    Skipped,
}

/// `kind: "run"` — one boot-and-reproduce run, made by ktest.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Run {
    pub commit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// 0-based run index for this commit.
    pub run: u32,
    pub outcome: Outcome,
    /// Saved console log path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// `kvm` or `tcg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accel: Option<String>,
    /// Where the VM ran: `local`, or the ssh host as given to ktest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Human detail for boot_failed / test_failed / infra_error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Seconds from VM start to the reproducer's first start (boot and
    /// sanity test); absent when the guest never got that far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_seconds: Option<f64>,
    /// Reproducer runs the guest completed in its run time (absent unless the
    /// guest reached its end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u64>,
    /// With `--bug exit`: the test's exit status (absent when it was killed
    /// by a signal or the run timeout, or never ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    /// What went wrong without failing the run: a sysctl the kernel did not
    /// take, ktest's command line not reaching the kernel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What the kernel lacks of the guest syzbot's VMs give (`debugfs`,
    /// `cgroup2`, `real-root`, `loopback`, …), as the guest found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guest_missing: Vec<String>,
    #[serde(flatten)]
    pub class: Classification,
    #[serde(default)]
    pub seconds: f64,
    /// The build's plan as far as a run needs it: ktest sets only `revert`,
    /// so runs of a kernel built with a revert are told apart.
    #[serde(flatten)]
    pub plan: TestPlan,
    #[serde(flatten)]
    pub extra: Object,
}
impl Kind for Run {
    const KIND: &'static str = "run";
}

/// A verdict on one commit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum VerdictValue {
    Good,
    Bad,
    Skip,
}

/// `kind: "verdict"` — bisect-step's (or a person's) judgement of a commit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    pub commit: String,
    pub verdict: VerdictValue,
    /// Why, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Runs that carried evidence (ok or crashed).
    #[serde(default)]
    pub runs: u32,
    /// Runs that showed the target bug.
    #[serde(default)]
    pub target_crashes: u32,
    /// Titles of unrelated crashes seen (not evidence).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_crashes: Vec<String>,
    #[serde(default)]
    pub boot_failures: u32,
    #[serde(default)]
    pub test_failures: u32,
    #[serde(default)]
    pub infra_errors: u32,
    /// The verdict was taken from an earlier commit with the same signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_signature_as: Option<String>,
    /// The tool that judged (`bisect-step`); absent when a person gave the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default)]
    pub seconds: f64,
    #[serde(flatten)]
    pub extra: Object,
}
impl Kind for Verdict {
    const KIND: &'static str = "verdict";
}

/// `kind: "start"` — the first line of a bisect-step journal: the range and
/// settings the bisection was started with, so a resumed run needs only
/// `--journal`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Start {
    /// Path of the kernel git repository.
    pub repo: String,
    /// Full sha of the bad commit: it has the bug, in both directions.
    pub bad: String,
    /// Full shas of the good commits: they do not have the bug. For `cause`
    /// they are older than bad; for `fix` there is one, newer than bad.
    #[serde(default)]
    pub good: Vec<String>,
    /// Glob over tag names tested newest to oldest when there is no good commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub releases: Option<String>,
    /// Titles of the target bug (a run matches when `same_bug` is absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target: Vec<String>,
    /// `cause` or `fix`.
    pub direction: Direction,
    /// What the bug is (`crash`, left out, `boot` or `exit`).
    #[serde(default, skip_serializing_if = "BugKind::is_default")]
    pub bug: BugKind,
    /// Follow only the first parent of merges (`git bisect --first-parent`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub first_parent: bool,
    /// Stop when the culprit's posterior probability reaches this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Known reproduction rate: the bad end is not tested first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repro_rate: Option<f64>,
    /// Test the bad commit with the culprit reverted before the result.
    #[serde(default, skip_serializing_if = "is_false")]
    pub revert_check: bool,
    /// Search the options between two configs at the bad commit before
    /// (or instead of) bisecting commits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_search: Option<ConfigSearch>,
    #[serde(default)]
    pub seconds: f64,
    #[serde(flatten)]
    pub extra: Object,
}
impl Kind for Start {
    const KIND: &'static str = "start";
}

/// A commit named in a result.
/// What the config search is for (`start.config_search.mode`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConfigSearchMode {
    /// Minimize `full` towards `baseline`, then bisect the commits with
    /// the smallest config that still reproduces the bug.
    #[default]
    Minimize,
    /// Config bisection at the bad commit: the options whose change from
    /// `baseline` (good) to `full` (bad) brings the bug in; no commits.
    Bisect,
}

/// The configs of a config search, as the start record keeps them: copies
/// in the journal's config directory, so the journal alone resumes it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ConfigSearch {
    pub mode: ConfigSearchMode,
    /// The full (big, or bad) config: a `.config` path.
    pub full: String,
    /// The baseline (small, or good) config: a `.config` path or a base
    /// target (`tinyconfig`: kbuild's embedded default config).
    pub baseline: String,
    /// Candidates tested at most (the full and baseline configs aside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_candidates: Option<u32>,
}

/// What the config search found (`result.config`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ConfigOutcome {
    pub mode: ConfigSearchMode,
    /// Options (after olddefconfig at the bad commit) on which the full
    /// and baseline configs differ.
    pub differing: u32,
    /// How many of them the found config keeps.
    pub kept: u32,
    /// The kept options as `CONFIG_X=value` / `# CONFIG_X is not set`
    /// lines, at most 50 (all of them for a config bisection).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The found config, saved beside the journal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Candidate configs tested (full and baseline included).
    pub candidates: u32,
    /// The candidates' builds and VM runs, and the seconds they took.
    pub builds: u32,
    pub vm_runs: u32,
    pub seconds: f64,
    /// Seconds of the full config's first build, and of the found config's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_build_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_build_seconds: Option<f64>,
    /// The rate the full config reproduced at, and the least rate a
    /// candidate had to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_rate: Option<f64>,
    /// The options the search tried first, as those that build the code
    /// the crash ran (Makefile and `#ifdef` lines of its stack's
    /// functions); empty when it had no such guess.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspects: Vec<String>,
    /// Whether those options alone (with the baseline) reproduced the bug;
    /// null when there was no guess.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspects_reproduced: Option<bool>,
    /// The search stopped at its candidate budget before it was done.
    #[serde(default, skip_serializing_if = "is_false")]
    pub budget_hit: bool,
    /// The culprit's parent with the full config: `bug_absent` (the
    /// minimized config holds there), `bug_present` (it lost the bug),
    /// `not_tested`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_config_check: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CommitRef {
    pub commit: String,
    #[serde(default)]
    pub subject: String,
}

/// `kind: "result"` — the end of a bisection, made by bisect-step.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BisectResult {
    /// `found`, `inconclusive`, `bug_at_oldest_release`, `no_bug_at_bad`, `error`.
    pub status: Status,
    /// `cause` or `fix`.
    pub direction: Direction,
    /// The first bad (cause) or first fixed (fix) commit, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culprit: Option<CommitRef>,
    /// When inconclusive: the commits any of which may be the culprit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<CommitRef>,
    /// The culprit's build signature equals its parent's.
    #[serde(default)]
    pub noop: bool,
    /// The culprit is a merge commit.
    #[serde(default)]
    pub merge: bool,
    /// The culprit is a release commit (only bumps the version).
    #[serde(default)]
    pub release: bool,
    /// Probability (0..1) that the culprit is right.
    #[serde(default)]
    pub confidence: f64,
    /// The reproducer did not always reproduce on bad commits.
    #[serde(default)]
    pub flaky: bool,
    /// Estimated reproduction rate on bad commits (0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repro_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culprit_signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_signature: Option<String>,
    pub revisions_tested: u32,
    pub builds: u32,
    pub vm_runs: u32,
    /// Wall seconds of the whole bisection, and its build / test split.
    pub seconds: f64,
    pub build_seconds: f64,
    pub test_seconds: f64,
    /// Culprit check with the culprit reverted on top of bad: `bug_gone`,
    /// `bug_remains`, `revert_failed`, `not_tested`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revert_check: Option<String>,
    /// What the config search found, when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigOutcome>,
    /// With status `error`: a machine-readable name, e.g. `too_many_infra_errors`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With status `error` or `bug_at_oldest_release`: what happened, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(flatten)]
    pub extra: Object,
}
impl Kind for BisectResult {
    const KIND: &'static str = "result";
}

/// `kind: "error"` — a tool could not do its job for one input; the
/// pipeline goes on.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Error {
    /// The tool that failed.
    pub tool: String,
    /// Machine-readable error name, e.g. `bad_input`, `unknown_commit`, `too_many_infra_errors`.
    pub error: String,
    /// Human message.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default)]
    pub seconds: f64,
    #[serde(flatten)]
    pub extra: Object,
}
impl Kind for Error {
    const KIND: &'static str = "error";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{merge, parse, RecordKind};
    use serde_json::json;

    #[test]
    fn unknown_fields_pass_through() {
        let raw = json!({"kind":"next","commit":"a".repeat(40),"reason":"bisect","mine":{"x":1}});
        let obj = raw.as_object().unwrap().clone();
        let next: Next = parse(&obj).unwrap();
        assert_eq!(next.extra["mine"], json!({"x":1}));
        let build = Build {
            commit: next.commit.clone(),
            ok: true,
            ..Default::default()
        };
        let out = merge(&obj, &build);
        assert_eq!(out["kind"], "build");
        assert_eq!(out["mine"], json!({"x":1}));
        assert_eq!(out["reason"], "bisect");
    }

    #[test]
    fn guilty_file_is_null_when_unknown() {
        let obj = crate::to_object(&Crash::default());
        assert_eq!(obj["guilty_file"], serde_json::Value::Null);
        let mut obj = crate::to_object(&Crash {
            class: Classification {
                guilty_file: Some("fs/namei.c".into()),
                ..Default::default()
            },
            ..Default::default()
        });
        assert_eq!(obj["guilty_file"], "fs/namei.c");
        // Older records without the field still parse.
        obj.remove("guilty_file");
        let back: Crash = parse(&obj).unwrap();
        assert_eq!(back.class.guilty_file, None);
    }

    #[test]
    fn same_bug_is_written_as_null_with_targets() {
        let class = Classification::default();
        let mut obj = crate::to_object(&Crash::default());
        assert!(!obj.contains_key("same_bug"));
        class.write_same_bug(&mut obj, false);
        assert!(!obj.contains_key("same_bug"));
        class.write_same_bug(&mut obj, true);
        assert_eq!(obj["same_bug"], serde_json::Value::Null);
    }

    #[test]
    fn run_classification_is_flat() {
        let run = Run {
            commit: "b".repeat(40),
            run: 3,
            outcome: Outcome::Crashed,
            class: Classification {
                crashed: true,
                title: Some("WARNING in kvm_wait".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let obj = crate::to_object(&run);
        assert_eq!(obj["title"], "WARNING in kvm_wait");
        assert_eq!(obj["outcome"], "crashed");
        let back: Run = parse(&obj).unwrap();
        assert_eq!(back.class.title.as_deref(), Some("WARNING in kvm_wait"));
    }

    fn sha(c: char) -> String {
        c.to_string().repeat(40)
    }

    #[test]
    fn unknown_reason_round_trips() {
        let raw = json!({"kind":"next","commit":sha('a'),"reason":"rerun_later","seconds":0.0});
        let obj = raw.as_object().unwrap().clone();
        let next: Next = parse(&obj).unwrap();
        assert_eq!(next.plan.reason, Some(Reason::Other("rerun_later".into())));
        assert_eq!(crate::to_object(&next), obj);
        let known: Next = parse(
            json!({"commit":sha('a'),"reason":"more_runs"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(known.plan.reason, Some(Reason::MoreRuns));
    }

    #[test]
    fn plan_travels_next_build_run() {
        let next = Next {
            commit: sha('a'),
            plan: TestPlan {
                reason: Some(Reason::RevertCheck),
                release: Some("v6.2".into()),
                revert: Some(sha('b')),
                runs: Some(7),
                stop_on_target: Some(false),
                known_signatures: vec!["f".repeat(64)],
                build_config: Some("/j.configs/0123456789abcdef.config".into()),
                config_id: Some("0123456789abcdef".into()),
            },
            ..Default::default()
        };
        let next_obj = crate::to_object(&next);
        // kbuild: the plan read typed and written into the build record.
        let parsed: Next = parse(&next_obj).unwrap();
        let build = Build {
            commit: parsed.commit.clone(),
            ok: true,
            plan: parsed.plan.clone(),
            ..Default::default()
        };
        let build_obj = merge(&next_obj, &build);
        for field in TestPlan::FIELDS {
            assert_eq!(build_obj[field], next_obj[field], "{field}");
        }
        let build_back: Build = parse(&build_obj).unwrap();
        assert_eq!(build_back.plan, next.plan);
        // The plan's fields are taken by the plan, not left in `extra`.
        for field in TestPlan::FIELDS {
            assert!(!build_back.extra.contains_key(field), "{field}");
        }
        // ktest: a run carries the revert.
        let run = Run {
            commit: build_back.commit.clone(),
            plan: TestPlan {
                revert: build_back.plan.revert.clone(),
                config_id: build_back.plan.config_id.clone(),
                ..Default::default()
            },
            ..Default::default()
        };
        let run_obj = crate::to_object(&run);
        assert_eq!(run_obj["revert"], json!(sha('b')));
        assert_eq!(run_obj["config_id"], json!("0123456789abcdef"));
        assert!(!run_obj.contains_key("reason") && !run_obj.contains_key("runs"));
        let run_back: Run = parse(&run_obj).unwrap();
        assert_eq!(run_back.plan.revert, Some(sha('b')));
    }

    #[test]
    fn a_record_without_plan_fields_gains_none() {
        let raw = json!({"kind":"build","commit":sha('c'),"ok":false,"error":"build_failed","seconds":1.5});
        let obj = raw.as_object().unwrap().clone();
        let build: Build = parse(&obj).unwrap();
        assert_eq!(build.plan, TestPlan::default());
        assert_eq!(crate::to_object(&build), obj);
    }

    #[test]
    fn status_and_direction_are_the_plain_strings() {
        let result = BisectResult {
            status: Status::BugAtOldestRelease,
            direction: Direction::Fix,
            ..Default::default()
        };
        let obj = crate::to_object(&result);
        assert_eq!(obj["status"], "bug_at_oldest_release");
        assert_eq!(obj["direction"], "fix");
        let mut odd = obj.clone();
        odd.insert("status".into(), json!("half_found"));
        let back: BisectResult = parse(&odd).unwrap();
        assert_eq!(back.status, Status::Other("half_found".into()));
        assert_eq!(crate::to_object(&back)["status"], "half_found");
    }

    #[test]
    fn bad_plan_values_name_their_field() {
        for (field, value) in [
            ("runs", json!(-1)),
            ("runs", json!("x")),
            ("stop_on_target", json!(3)),
        ] {
            let mut obj = json!({"kind":"build","commit":sha('d'),"ok":true,"kernel":"bzImage"})
                .as_object()
                .unwrap()
                .clone();
            obj.insert(field.into(), value);
            let err = crate::parse_named::<Build>(&obj).unwrap_err();
            assert_eq!(err.field.as_deref(), Some(field));
            assert!(
                err.to_string().starts_with(&format!("field `{field}`: ")),
                "{err}"
            );
        }
        let obj = json!({"kind":"build","commit":42,"ok":true})
            .as_object()
            .unwrap()
            .clone();
        let err = crate::parse_named::<Build>(&obj).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("commit"));
        let obj = json!({"kind":"build","ok":true})
            .as_object()
            .unwrap()
            .clone();
        let err = crate::parse_named::<Build>(&obj).unwrap_err();
        assert_eq!(err.to_string(), "missing field `commit`");
    }

    #[test]
    fn record_kind_agrees_with_the_types() {
        assert_eq!(
            RecordKind::of(&crate::to_object(&Next::default())),
            RecordKind::Next
        );
        assert_eq!(
            RecordKind::of(&crate::to_object(&Build::default())),
            RecordKind::Build
        );
        assert_eq!(
            RecordKind::of(&crate::to_object(&Run::default())),
            RecordKind::Run
        );
        assert_eq!(
            RecordKind::of(&crate::to_object(&Start::default())),
            RecordKind::Start
        );
        assert_eq!(
            RecordKind::of(&crate::to_object(&BisectResult::default())),
            RecordKind::Result
        );
        assert_eq!(
            RecordKind::of(&crate::to_object(&Error::default())),
            RecordKind::Error
        );
        assert_eq!(
            RecordKind::of(&crate::to_object(&Crash::default())),
            RecordKind::Crash
        );
        assert_eq!(
            RecordKind::of(&crate::to_object(&Signature::default())),
            RecordKind::Signature
        );
        assert_eq!(RecordKind::of(&Object::new()), RecordKind::Other);
    }
}
