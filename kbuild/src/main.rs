//! Thin command-line front end for the `kbuild` library: reads `next`
//! records (or takes `--commit`), builds each, prints `build` records.

use clap::Parser;
use kbisect_records::{jsonl, EXIT_FAILURE};
use kbuild::compiler;
use kbuild::config::ConfigSpec;
use kbuild::{Builder, CompilerChoice, Options, Request};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

const TOOL: &str = "kbuild";

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
struct Cli {
    /// The kernel git repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Build this revision instead of reading `next` records from stdin.
    #[arg(long)]
    commit: Option<String>,
    /// With --commit: revert this commit on top of it before building.
    #[arg(long, requires = "commit")]
    revert: Option<String>,
    /// A full .config file, or a base target: tinyconfig, defconfig,
    /// allnoconfig, … [default: tinyconfig + the embedded default fragment]
    #[arg(long)]
    config: Option<String>,
    /// A config fragment merged on top of the base (repeatable, in order).
    #[arg(long = "config-fragment", value_name = "FILE")]
    config_fragments: Vec<PathBuf>,
    /// Do not apply the embedded default fragment on a base target.
    #[arg(long)]
    no_default_fragment: bool,
    /// The compiler: gcc, gcc-12, clang-15, or a path.
    #[arg(long, default_value = "gcc", conflicts_with = "compiler_table")]
    compiler: String,
    /// Rules choosing the compiler by release the commit contains (see below).
    #[arg(long, value_name = "FILE")]
    compiler_table: Option<PathBuf>,
    /// Persistent out-of-tree build dir [default: $KBISECT_CACHE/build/<repo>-<hash>].
    #[arg(long)]
    build_dir: Option<PathBuf>,
    /// Cache root for artifacts and ccache [default: $KBISECT_CACHE or ~/.cache/kbisect].
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Compile through ccache (CCACHE_DIR defaults to <cache-dir>/ccache).
    #[arg(long)]
    ccache: bool,
    /// Share ccache's objects through this remote storage (implies --ccache):
    /// redis://[USER:PW@]HOST[:PORT], redis+unix:/PATH, http://HOST[:PORT]/PATH,
    /// optionally with ccache's |attribute=value settings.
    #[arg(long, value_name = "URL")]
    remote_cache: Option<String>,
    /// Compile on these distccd hosts, in distcc's syntax
    /// ("HOST[:PORT][/LIMIT] …", passed as DISTCC_HOSTS); preprocessing
    /// stays local. A host that is down costs a retry elsewhere or a local
    /// compile, not the build.
    #[arg(long, value_name = "HOSTS")]
    distcc: Option<String>,
    /// Parallel make jobs [default: number of CPUs; with --distcc, plus the
    /// sum of the hosts' limits (4 for a host without one)].
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Kill a build that runs longer than this many seconds (error `timeout`).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Size cap of the artifact cache; the least recently used entries go first.
    #[arg(long, default_value_t = 20.0, value_name = "GB")]
    cache_max_gb: f64,
    /// Neither reuse nor store cached artifacts (the record then points into the build dir).
    #[arg(long)]
    no_cache: bool,
    /// The release string baked into every kernel (uname -r); make's VERSION,
    /// PATCHLEVEL, SUBLEVEL and EXTRAVERSION come from it too, not from the
    /// commit, so a commit that only bumps the version builds its parent's bytes.
    #[arg(long, default_value = kbuild::DEFAULT_KERNEL_RELEASE)]
    kernel_release: String,
}

fn main() {
    let cli = Cli::parse();
    let opts = options(&cli).unwrap_or_else(|m| kbisect_records::exit_usage(TOOL, m));

    // First ^C / SIGTERM: stop the build and report `interrupted`; a second
    // one while still running exits at once, and so does the first one
    // while kbuild only waits for input (nothing to stop, nothing to report).
    let interrupted = Arc::new(AtomicBool::new(false));
    let builder = Builder::new(opts, interrupted.clone());
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(
            sig,
            EXIT_FAILURE,
            interrupted.clone(),
        );
        let _ = signal_hook::flag::register_conditional_shutdown(
            sig,
            EXIT_FAILURE,
            builder.waiting_for_input.clone(),
        );
        let _ = signal_hook::flag::register(sig, interrupted.clone());
    }
    let mut builder = builder;
    let mut out = jsonl::Writer::stdout();
    let status = match &cli.commit {
        Some(commit) => {
            let req = Request {
                commit: commit.clone(),
                revert: cli.revert.clone(),
                config: None,
            };
            kbuild::build_one(&mut builder, &req, &mut out)
        }
        None => kbuild::build_records(&mut builder, jsonl::Reader::stdin(), &mut out),
    };
    std::process::exit(status);
}

fn options(cli: &Cli) -> Result<Options, String> {
    let config = ConfigSpec::from_args(
        cli.config.as_deref(),
        &cli.config_fragments,
        !cli.no_default_fragment,
    )?;
    let compiler = match &cli.compiler_table {
        None => CompilerChoice::Fixed(cli.compiler.clone()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
            let rules = compiler::parse_table(&text)
                .map_err(|(line, m)| format!("{}:{line}: {m}", path.display()))?;
            CompilerChoice::Table {
                path: path.clone(),
                rules,
            }
        }
    };
    let cache_root = cli
        .cache_dir
        .clone()
        .unwrap_or_else(Options::default_cache_root);
    let build_dir = cli
        .build_dir
        .clone()
        .unwrap_or_else(|| Options::default_build_dir(&cache_root, &cli.repo));
    let build_dir = absolute(build_dir)?;
    let cache_root = absolute(cache_root)?;
    let ccache_dir = std::env::var_os("CCACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_root.join("ccache"));
    if let Some(url) = &cli.remote_cache {
        kbuild::farm::check_remote_url(url)?;
    }
    let remote_slots = match &cli.distcc {
        Some(hosts) => kbuild::farm::distcc_remote_slots(hosts)?,
        None => 0,
    };
    let jobs = cli.jobs.unwrap_or_else(|| {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        cores + remote_slots as usize
    });
    if jobs == 0 {
        return Err("--jobs must be at least 1".into());
    }
    let timeout = match cli.timeout {
        None => None,
        Some(t) if t.is_finite() && t > 0.0 => Some(Duration::from_secs_f64(t)),
        Some(t) => return Err(format!("--timeout {t}: want a positive number of seconds")),
    };
    if !(cli.cache_max_gb.is_finite() && cli.cache_max_gb >= 0.0) {
        return Err("--cache-max-gb: want a non-negative number".into());
    }
    let release = &cli.kernel_release;
    if kbuild::make::split_release(release).is_none() {
        return Err(format!(
            "--kernel-release {release:?}: want VERSION.PATCHLEVEL[.SUBLEVEL][EXTRA], e.g. 9.9.9-kbisect"
        ));
    }
    Ok(Options {
        repo: cli.repo.clone(),
        config,
        compiler,
        build_dir,
        cache_root,
        ccache: cli.ccache || cli.remote_cache.is_some(),
        remote_cache: cli.remote_cache.clone(),
        distcc: cli.distcc.clone(),
        ccache_dir,
        jobs,
        timeout,
        cache_max_bytes: (cli.cache_max_gb * (1u64 << 30) as f64) as u64,
        use_cache: !cli.no_cache,
        kernel_release: release.clone(),
    })
}

/// Paths handed to make must be absolute (make runs with -C).
fn absolute(p: PathBuf) -> Result<PathBuf, String> {
    if p.is_absolute() {
        return Ok(p);
    }
    std::env::current_dir()
        .map(|d| d.join(p))
        .map_err(|e| format!("current directory: {e}"))
}
