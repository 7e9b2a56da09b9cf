//! kbuild's command line, defined once: parsed by the binary and read by
//! kbisect-docgen for the man page and shell completions.

use clap::Parser;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "kbuild",
    version,
    about = "Build the Linux kernel at a commit, reproducibly; print a `build` record",
    long_about = "Build the Linux kernel at a commit, reproducibly; print a `build` record.\n\n\
Reads `next` records (JSON lines) on stdin, or builds --commit. Each build happens in \
kbuild's own git worktree and a persistent out-of-tree build dir (the user's working \
tree, index and HEAD are never touched), in a fixed environment (timestamp, user, host, \
build number and release string) so that equal sources give equal vmlinux bytes. The \
output record is the input record with the build fields added: ok, kernel, vmlinux, \
config, compiler, cc, kernel_release, missing_options, cached, error, error_lines, \
seconds, and when make ran: ccache {local_hits, remote_hits, misses, uncacheable} \
(counts of this build only, from ccache's per-build statistics log) and distcc {hosts, \
jobs, remote, local_fallback, host_failures} (from distcc's client log). A `next` record's \
build_config (a .config path or a base target, set by bisect-step's config search) replaces \
--config and the fragments for that build. Records of other kinds are echoed unchanged.",
    after_help = "Examples:\n  \
kbuild --repo ~/linux --commit v6.1 --ccache | ksig\n  \
bisect-step --journal j.jsonl | kbuild --repo ~/linux --ccache | ksig | ktest --repro r.c | bisect-step --journal j.jsonl\n  \
kbuild --repo ~/linux --commit HEAD --config defconfig --config-fragment kvm.fragment --compiler clang-15\n  \
kbuild --repo ~/linux --commit v6.1 --remote-cache redis://cache.lan:6379 --distcc \"10.0.0.2/8 10.0.0.3:3632/8\"\n\n\
Compiler table (--compiler-table FILE), one rule per line, first match wins:\n  \
v6.2   gcc-12     # commits that contain v6.2\n  \
v5.15  gcc-11\n  \
*      gcc-10     # everything else\n\n\
Errors (record field `error`): checkout_failed, config_failed, build_failed, timeout, \
interrupted, compiler_missing, unknown_commit, not_a_repo, disk_full, revert_failed.\n\
Exit status: 0 when every input got its record (failed builds included), 2 for bad \
usage or input, 1 when interrupted."
)]
pub struct Cli {
    /// The kernel git repository.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Build this revision instead of reading `next` records from stdin.
    #[arg(long)]
    pub commit: Option<String>,
    /// With --commit: revert this commit on top of it before building.
    #[arg(long, requires = "commit")]
    pub revert: Option<String>,
    /// A full .config file, or a base target: tinyconfig, defconfig,
    /// allnoconfig, … [default: tinyconfig + the embedded default fragment]
    #[arg(long)]
    pub config: Option<String>,
    /// A config fragment merged on top of the base (repeatable, in order).
    #[arg(long = "config-fragment", value_name = "FILE")]
    pub config_fragments: Vec<PathBuf>,
    /// Do not apply the embedded default fragment on a base target.
    #[arg(long)]
    pub no_default_fragment: bool,
    /// The compiler: gcc, gcc-12, clang-15, or a path.
    #[arg(long, default_value = "gcc", conflicts_with = "compiler_table")]
    pub compiler: String,
    /// Rules choosing the compiler by release the commit contains (see below).
    #[arg(long, value_name = "FILE")]
    pub compiler_table: Option<PathBuf>,
    /// Persistent out-of-tree build dir [default: $KBISECT_CACHE/build/<repo>-<hash>].
    #[arg(long)]
    pub build_dir: Option<PathBuf>,
    /// Cache root for artifacts and ccache [default: $KBISECT_CACHE or ~/.cache/kbisect].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Compile through ccache (CCACHE_DIR defaults to <cache-dir>/ccache).
    #[arg(long)]
    pub ccache: bool,
    /// Share ccache's objects through this remote storage (implies --ccache):
    /// redis://[USER:PW@]HOST[:PORT], redis+unix:/PATH, http://HOST[:PORT]/PATH,
    /// optionally with ccache's |attribute=value settings.
    #[arg(long, value_name = "URL")]
    pub remote_cache: Option<String>,
    /// Compile on these distccd hosts, in distcc's syntax
    /// ("HOST[:PORT][/LIMIT] …", passed as DISTCC_HOSTS); preprocessing
    /// stays local. A host that is down costs a retry elsewhere or a local
    /// compile, not the build.
    #[arg(long, value_name = "HOSTS")]
    pub distcc: Option<String>,
    /// Parallel make jobs [default: number of CPUs; with --distcc, plus the
    /// sum of the hosts' limits (4 for a host without one)].
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Kill a build that runs longer than this many seconds (error `timeout`).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Size cap of the artifact cache; the least recently used entries go first.
    #[arg(long, default_value_t = 20.0, value_name = "GB")]
    pub cache_max_gb: f64,
    /// Neither reuse nor store cached artifacts (the record then points into the build dir).
    #[arg(long)]
    pub no_cache: bool,
    /// The release string baked into every kernel (uname -r); make's VERSION,
    /// PATCHLEVEL, SUBLEVEL and EXTRAVERSION come from it too, not from the
    /// commit, so a commit that only bumps the version builds its parent's bytes.
    #[arg(long, default_value = crate::DEFAULT_KERNEL_RELEASE)]
    pub kernel_release: String,
}
