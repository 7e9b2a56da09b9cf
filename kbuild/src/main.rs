//! Thin command-line front end for the `kbuild` library: reads `next`
//! records (or takes `--commit`), builds each, prints `build` records.

use clap::Parser;
use kbisect_records::{jsonl, EXIT_FAILURE};
use kbuild::cli::Cli;
use kbuild::compiler;
use kbuild::config::ConfigSpec;
use kbuild::{Builder, CompilerChoice, Options, Request};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

const TOOL: &str = "kbuild";

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
