//! kbuild: build the Linux kernel at one commit, reproducibly, and say what
//! came out as a `build` record.
//!
//! The pieces: [`worktree`] checks the commit out in kbuild's own git
//! worktree (never the user's), [`config`] makes the `.config` (base target
//! or full file, fragments merged, `olddefconfig`), [`compiler`] picks and
//! names the compiler, [`make`] runs make in a fixed environment with a time
//! limit and signal handling, and [`cache`] keeps the artifacts so that the
//! same build asked again costs nothing; [`farm`] shares ccache between
//! machines and spreads compiles over distcc hosts, counting what they did.
//! [`Builder`] ties them together.
//!
//! The build dir (`--build-dir`, persistent across runs and commits) holds:
//! `src/` (the worktree), `obj/` (make's O= dir), `logs/` (one log per
//! commit, with its ccache statistics and distcc client logs) and `lock` (one kbuild at a time per build dir). Before make runs,
//! `obj/.kbuild-building` is written; a build that does not finish cleanly
//! (killed, timed out, interrupted) leaves it, and the next run deletes every
//! file in `obj/` newer than it — the half-written objects — so a killed
//! build never poisons the next one.

pub mod cache;
pub mod cli;
pub mod compiler;
pub mod config;
pub mod error;
pub mod farm;
pub mod make;
pub mod worktree;

use cache::{Artifacts, Cache, KeyParts, Meta};
use compiler::{Compiler, Rule};
use config::{Base, ConfigSpec};
use error::{ErrorKind, Failure};
use kbisect_records::jsonl::{Reader, WriteError, Writer};
use kbisect_records::{
    merge, parse_named, Build, Next, RecordKind, TestPlan, EXIT_FAILURE, EXIT_OK, EXIT_USAGE,
};
use make::{Limits, MakeSetup};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The kernel release string baked into every kernel (`uname -r`). Fixed,
/// so that a commit that only bumps VERSION/PATCHLEVEL/SUBLEVEL/EXTRAVERSION
/// builds the same bytes as its parent; version-shaped, so that userspace
/// that parses it (old glibc's "kernel too old" check) is content.
pub const DEFAULT_KERNEL_RELEASE: &str = "9.9.9-kbisect";

/// Refuse to start a build with less free space than this in the build dir.
pub const MIN_FREE_BYTES: u64 = 1 << 30;

/// How the compiler is chosen.
#[derive(Debug, Clone)]
pub enum CompilerChoice {
    /// Always this one (`--compiler`).
    Fixed(String),
    /// By rules over releases the commit contains (`--compiler-table`).
    Table { path: PathBuf, rules: Vec<Rule> },
}

/// Everything fixed for a kbuild run.
#[derive(Debug, Clone)]
pub struct Options {
    pub repo: PathBuf,
    pub config: ConfigSpec,
    pub compiler: CompilerChoice,
    pub build_dir: PathBuf,
    /// `$KBISECT_CACHE`: holds `builds/` (artifacts) and `ccache/`.
    pub cache_root: PathBuf,
    /// Put ccache in front of the compiler.
    pub ccache: bool,
    /// ccache's remote storage URL (`--remote-cache`, implies `ccache`).
    pub remote_cache: Option<String>,
    /// Compile on these distccd hosts (DISTCC_HOSTS syntax, `--distcc`).
    pub distcc: Option<String>,
    /// CCACHE_DIR (default `$KBISECT_CACHE/ccache`, or $CCACHE_DIR).
    pub ccache_dir: PathBuf,
    pub jobs: usize,
    pub timeout: Option<Duration>,
    pub cache_max_bytes: u64,
    /// Read and write the artifact cache.
    pub use_cache: bool,
    pub kernel_release: String,
}

impl Options {
    /// `$KBISECT_CACHE`, default `~/.cache/kbisect`.
    pub fn default_cache_root() -> PathBuf {
        if let Some(p) = std::env::var_os("KBISECT_CACHE") {
            return PathBuf::from(p);
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("kbisect")
    }

    /// The default build dir for a repository: one per repository path, so
    /// two repositories never share a worktree or object dir.
    pub fn default_build_dir(cache_root: &Path, repo: &Path) -> PathBuf {
        let canon = repo.canonicalize().unwrap_or_else(|_| repo.to_path_buf());
        let name = canon
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "repo".into());
        let digest = config::hex(&<sha2::Sha256 as sha2::Digest>::digest(
            canon.to_string_lossy().as_bytes(),
        ));
        cache_root
            .join("build")
            .join(format!("{name}-{}", &digest[..12]))
    }
}

/// One thing to build: a commit and, optionally, a commit to revert on it
/// and a config to use instead of `--config` (the `next` record's
/// `build_config`: a `.config` path or a base target).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    pub commit: String,
    pub revert: Option<String>,
    pub config: Option<String>,
}

/// The exit status for a failed write: quiet when the reader has gone.
fn write_failed(e: WriteError) -> i32 {
    if !matches!(e, WriteError::Closed) {
        kbisect_records::say!("kbuild: {e}");
    }
    e.exit_status()
}

/// Build one request (`--commit`) and write its record. Returns the exit
/// status: 0, or 1 when interrupted or the output failed.
pub fn build_one<W: Write>(builder: &mut Builder, req: &Request, out: &mut Writer<W>) -> i32 {
    let rec = builder.build(req);
    let stop = rec.error.as_deref() == Some(ErrorKind::Interrupted.as_str());
    if let Err(e) = out.write(&kbisect_records::to_object(&rec)) {
        return write_failed(e);
    }
    if stop {
        EXIT_FAILURE
    } else {
        EXIT_OK
    }
}

/// Build each `next` record of `input` and write it back enriched as a
/// `build` record; echo other records. Returns the exit status: 0, 2 for
/// bad input (named by file and line), 1 when interrupted or the output
/// failed.
pub fn build_records<R: BufRead, W: Write>(
    builder: &mut Builder,
    mut input: Reader<R>,
    out: &mut Writer<W>,
) -> i32 {
    loop {
        // While kbuild waits for input a signal ends it at once (main
        // registers the exit on this flag): nothing is being built, and a
        // record read after the signal must not start a build.
        builder.waiting_for_input.store(true, Ordering::SeqCst);
        let item = input.next();
        builder.waiting_for_input.store(false, Ordering::SeqCst);
        if builder.interrupted.load(Ordering::SeqCst) {
            return EXIT_FAILURE;
        }
        let Some(item) = item else { break };
        let obj = match item {
            Ok(obj) => obj,
            Err(e) => {
                kbisect_records::say!("kbuild: {e}");
                return EXIT_USAGE;
            }
        };
        if RecordKind::of(&obj) != RecordKind::Next {
            if let Err(e) = out.write(&obj) {
                return write_failed(e);
            }
            continue;
        }
        let next: Next = match parse_named(&obj) {
            Ok(n) => n,
            Err(e) => {
                kbisect_records::say!(
                    "kbuild: {}:{}: next record: {e}",
                    input.source(),
                    input.line()
                );
                return EXIT_USAGE;
            }
        };
        let req = Request {
            commit: next.commit.clone(),
            revert: next.plan.revert.clone(),
            config: next.plan.build_config.clone(),
        };
        let mut rec = builder.build(&req);
        // The plan goes on to ktest and bisect-step as it came, but for the
        // revert, which is written resolved when it resolves.
        rec.plan = TestPlan {
            revert: rec.plan.revert.take().or(next.plan.revert),
            ..next.plan
        };
        if let Err(e) = out.write(&merge(&obj, &rec)) {
            return write_failed(e);
        }
        if rec.error.as_deref() == Some(ErrorKind::Interrupted.as_str())
            || builder.interrupted.load(Ordering::SeqCst)
        {
            return EXIT_FAILURE;
        }
    }
    EXIT_OK
}

/// Builds commits one after another with fixed [`Options`].
pub struct Builder {
    opts: Options,
    repo: Option<Result<worktree::Repo, Failure>>,
    identities: HashMap<String, Result<String, Failure>>,
    warned_revs: HashSet<String>,
    interrupted: Arc<AtomicBool>,
    /// True while [`build_records`] waits for its next input record.
    pub waiting_for_input: Arc<AtomicBool>,
}

/// What a resolved request is built with.
struct Plan {
    commit: String,
    revert: Option<String>,
    /// `--config`, or the request's own config.
    config: ConfigSpec,
    compiler: Compiler,
    identity: String,
}

impl Plan {
    /// The stem of this build's log names: the commit, its revert, and a
    /// config other than `--config` (so candidate configs of one commit
    /// keep their own logs).
    fn log_stem(&self, default_config: &ConfigSpec) -> String {
        let mut stem = self.commit.clone();
        if let Some(r) = &self.revert {
            stem.push_str(&format!("-revert-{}", short(r)));
        }
        if self.config != *default_config {
            stem.push_str(&format!("-config-{}", &self.config.hash()[..12]));
        }
        stem
    }
}

impl Builder {
    /// A builder; `interrupted` is set by the SIGINT/SIGTERM handler.
    pub fn new(opts: Options, interrupted: Arc<AtomicBool>) -> Self {
        Builder {
            opts,
            repo: None,
            identities: HashMap::new(),
            warned_revs: HashSet::new(),
            interrupted,
            waiting_for_input: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Build one request. Never fails: a failure is a record with
    /// `ok: false` and a named `error`.
    pub fn build(&mut self, req: &Request) -> Build {
        let started = Instant::now();
        let mut record = Build {
            commit: req.commit.clone(),
            ..Default::default()
        };
        match self.plan(req, &mut record) {
            Err(f) => fill_failure(&mut record, &f),
            Ok(plan) => {
                record.compiler = Some(plan.identity.clone());
                record.cc = Some(plan.compiler.name.clone());
                record.kernel_release = Some(self.opts.kernel_release.clone());
                match self.build_planned(&plan, started) {
                    Ok(done) => {
                        record.ok = true;
                        record.kernel = Some(path_string(&done.kernel));
                        record.vmlinux = Some(path_string(&done.vmlinux));
                        record.config = Some(path_string(&done.config));
                        record.missing_options = done.missing_options;
                        record.added_options = done.added_options;
                        record.cached = done.cached;
                        record.build_log = Some(path_string(&done.log));
                    }
                    Err((f, log)) => {
                        fill_failure(&mut record, &f);
                        record.build_log = log.map(|l| path_string(&l));
                    }
                }
                if record.build_log.is_some() && !record.cached {
                    self.count_farm_work(&plan, &mut record);
                }
            }
        }
        // A ^C from a terminal also reaches git (same process group): its
        // failure is then the interruption, not a bad checkout.
        if !record.ok
            && self.interrupted.load(std::sync::atomic::Ordering::SeqCst)
            && record.error.as_deref() != Some(ErrorKind::Interrupted.as_str())
        {
            record.error = Some(ErrorKind::Interrupted.as_str().into());
            record
                .error_lines
                .insert(0, "interrupted by a signal".into());
        }
        if !record.ok {
            // The record says it for the pipe; a person running kbuild by
            // hand reads stderr.
            kbisect_records::say!(
                "kbuild: {} failed: {}{}",
                short(&record.commit),
                record.error.as_deref().unwrap_or("error"),
                record
                    .error_lines
                    .first()
                    .map(|l| format!(": {l}"))
                    .unwrap_or_default()
            );
        }
        record.seconds = round_ms(started.elapsed().as_secs_f64());
        record
    }

    /// The per-build logs of ccache (statistics) and distcc (client log).
    fn side_logs(&self, plan: &Plan) -> (PathBuf, PathBuf) {
        let logs = self.opts.build_dir.join("logs");
        let stem = plan.log_stem(&self.opts.config);
        (
            logs.join(format!("{stem}.ccache-stats")),
            logs.join(format!("{stem}.distcc.log")),
        )
    }

    /// Put what ccache and distcc did for a build that ran make into its
    /// record, and say it on stderr.
    fn count_farm_work(&self, plan: &Plan, record: &mut Build) {
        let (stats, dlog) = self.side_logs(plan);
        let label = short(&plan.commit);
        if self.opts.ccache {
            let c = farm::parse_stats_log(&farm::read_log(&stats));
            kbisect_records::say!(
                "kbuild: {label} ccache: {} local, {} remote, {} missed, {} uncacheable",
                c.local_hits,
                c.remote_hits,
                c.misses,
                c.uncacheable
            );
            record.ccache = Some(c);
        }
        if let Some(hosts) = &self.opts.distcc {
            let d = farm::distcc_counts(hosts, self.opts.jobs, &dlog);
            kbisect_records::say!(
                "kbuild: {label} distcc: {} remote, {} local fallback, {} host failures (-j{} over {hosts})",
                d.remote, d.local_fallback, d.host_failures, d.jobs
            );
            record.distcc = Some(d);
        }
    }

    fn repo(&mut self) -> Result<&worktree::Repo, Failure> {
        if self.repo.is_none() {
            self.repo = Some(worktree::Repo::open(&self.opts.repo));
        }
        match self.repo.as_ref() {
            Some(Ok(r)) => Ok(r),
            Some(Err(f)) => Err(f.clone()),
            None => unreachable!("set above"),
        }
    }

    /// Resolve the commits and pick the compiler. Each commit is written
    /// into `record` as soon as it resolves: records name commits by full
    /// sha, failed builds too (bisect-step rejects a ref).
    fn plan(&mut self, req: &Request, record: &mut Build) -> Result<Plan, Failure> {
        let repo = self.repo()?;
        let commit = repo.resolve(&req.commit)?;
        record.commit = commit.clone();
        let revert = match &req.revert {
            Some(r) => Some(repo.resolve(r).map_err(|f| {
                Failure::with_lines(
                    ErrorKind::UnknownCommit,
                    f.lines.iter().map(|l| format!("revert: {l}")).collect(),
                )
            })?),
            None => None,
        };
        record.plan.revert = revert.clone();
        let config = match &req.config {
            None => self.opts.config.clone(),
            Some(c) => ConfigSpec::from_args(Some(c), &[], true)
                .map_err(|e| Failure::new(ErrorKind::ConfigFailed, format!("build_config: {e}")))?,
        };
        let name = match self.opts.compiler.clone() {
            CompilerChoice::Fixed(name) => name,
            CompilerChoice::Table { path, rules } => {
                let mut unknown = Vec::new();
                let repo = self.repo()?;
                let chosen = compiler::choose(&rules, |rev| {
                    let c = repo.contains(&commit, rev);
                    if c.is_none() {
                        unknown.push(rev.to_string());
                    }
                    c
                })
                .map(|r| r.compiler.clone());
                for rev in unknown {
                    if self.warned_revs.insert(rev.clone()) {
                        kbisect_records::say!(
                            "kbuild: warning: {}: revision {rev} is not in the repository; its rule never matches",
                            path.display()
                        );
                    }
                }
                chosen.ok_or_else(|| {
                    Failure::new(
                        ErrorKind::CompilerMissing,
                        format!("no rule of {} matches {commit}", path.display()),
                    )
                })?
            }
        };
        let compiler = Compiler::named(&name);
        if self.opts.distcc.is_some() && kbisect_records::find_program("distcc").is_none() {
            return Err(Failure::new(
                ErrorKind::CompilerMissing,
                "distcc is not installed (Debian package: distcc)",
            ));
        }
        let identity = self
            .identities
            .entry(name.clone())
            .or_insert_with(|| compiler.identity())
            .clone()?;
        Ok(Plan {
            commit,
            revert,
            config,
            compiler,
            identity,
        })
    }

    /// Build a resolved request: from the cache when it has it, else
    /// check out, configure and make, then keep the artifacts.
    fn build_planned(
        &mut self,
        plan: &Plan,
        started: Instant,
    ) -> Result<Done, (Failure, Option<PathBuf>)> {
        let key = self.cache_key(plan);
        let cache = Cache::new(
            self.opts.cache_root.join("builds"),
            self.opts.cache_max_bytes,
        );
        if self.opts.use_cache {
            if let Some(done) = cached_build(&cache, &key, plan) {
                return Ok(done);
            }
        }
        let built = self.make_kernel(plan, started)?;
        if !self.opts.use_cache {
            return Ok(built.in_build_dir());
        }
        self.keep_in_cache(&cache, &key, plan, built)
    }

    /// The artifact cache key of a plan under these options.
    fn cache_key(&self, plan: &Plan) -> String {
        let config_hash = plan.config.hash();
        KeyParts {
            commit: &plan.commit,
            revert: plan.revert.as_deref(),
            config_hash: &config_hash,
            compiler_identity: &plan.identity,
            cc: &plan.compiler.name,
            kernel_release: &self.opts.kernel_release,
        }
        .key()
    }

    /// Check the plan out in the build dir's worktree and make the kernel
    /// there (holding the build dir's lock throughout).
    fn make_kernel(
        &self,
        plan: &Plan,
        started: Instant,
    ) -> Result<Built, (Failure, Option<PathBuf>)> {
        let opts = &self.opts;
        let d = &opts.build_dir;
        let no_log = |f: Failure| (f, None);
        std::fs::create_dir_all(d.join("logs"))
            .map_err(|e| no_log(io_fail(ErrorKind::CheckoutFailed, d, e)))?;
        let _lock = lock_build_dir(d).map_err(no_log)?;
        let (stats_log, distcc_log) = self.side_logs(plan);
        let clear_side_logs = || {
            let _ = std::fs::remove_file(&stats_log);
            let _ = std::fs::remove_file(&distcc_log);
        };
        clear_side_logs();
        check_free_space(d).map_err(no_log)?;
        let src = d.join("src");
        let obj = d.join(object_dir_name(&plan.compiler.name));
        std::fs::create_dir_all(&obj)
            .map_err(|e| no_log(io_fail(ErrorKind::CheckoutFailed, &obj, e)))?;
        clean_after_unfinished_build(&obj);
        self.check_out(plan, &src).map_err(no_log)?;

        let log = d
            .join("logs")
            .join(format!("{}.log", plan.log_stem(&opts.config)));
        let _ = std::fs::remove_file(&log);
        let marker = obj.join(UNFINISHED_MARKER);
        std::fs::write(&marker, format!("{}\n", std::process::id()))
            .map_err(|e| no_log(io_fail(ErrorKind::CheckoutFailed, &marker, e)))?;

        let setup = MakeSetup {
            src,
            obj: obj.clone(),
            vars: self.make_vars(plan),
            env: self.make_env(&stats_log, &distcc_log),
            jobs: opts.jobs,
            log: log.clone(),
        };
        let label = short(&plan.commit).to_string();
        let limits = Limits {
            deadline: opts.timeout.map(|t| started + t),
            interrupted: &self.interrupted,
            label: &label,
        };
        let with_log = |f: Failure| {
            if matches!(f.kind, ErrorKind::Timeout | ErrorKind::Interrupted) {
                clean_after_unfinished_build(&obj);
            } else {
                let _ = std::fs::remove_file(&marker);
            }
            (f, Some(log.clone()))
        };

        kbisect_records::say!("kbuild: {label} configuring");
        let Configured {
            missing_options,
            added_options,
            compiler_change,
        } = make_config(&setup, &plan.config, &limits).map_err(with_log)?;
        if let Some((made, used)) = compiler_change {
            // Said, not fixed: the user's --compiler is the choice, but a
            // bug that needs the other compiler's code may not show.
            kbisect_records::say!(
                "kbuild: {label} the config was made with {made}; this build uses {used} (its toolchain's own options follow the compiler)"
            );
        }
        if !missing_options.is_empty() {
            // One line, not one per option: a config from another tree
            // can lose hundreds (the record's `missing_options` has all).
            const NAMED: usize = 8;
            let more = missing_options.len().saturating_sub(NAMED);
            kbisect_records::say!(
                "kbuild: {label} {} requested option(s) did not stick (unknown to this tree's Kconfig, or set otherwise by their dependencies): {}{}",
                missing_options.len(),
                missing_options[..missing_options.len().min(NAMED)].join(" "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            );
        }
        if !added_options.is_empty() {
            kbisect_records::say!(
                "kbuild: {label} the config lacks what ktest's guest needs; added: {}",
                added_options.join(" ")
            );
        }
        kbisect_records::say!("kbuild: {label} building with {}", plan.compiler.name);
        // The counts are of compiling the kernel, not of configuring it.
        clear_side_logs();
        let build_started = Instant::now();
        setup
            .run(&["bzImage"], &limits, ErrorKind::BuildFailed)
            .map_err(with_log)?;
        let build_seconds = build_started.elapsed().as_secs_f64();
        let _ = std::fs::remove_file(&marker);
        kbisect_records::say!("kbuild: {label} built in {build_seconds:.0}s");

        let built = Built {
            kernel: obj.join("arch/x86/boot/bzImage"),
            vmlinux: obj.join("vmlinux"),
            config: obj.join(".config"),
            log,
            missing_options,
            added_options,
            build_seconds,
        };
        if !built.kernel.is_file() || !built.vmlinux.is_file() {
            return Err((
                Failure::new(
                    ErrorKind::BuildFailed,
                    "make succeeded but left no bzImage/vmlinux",
                ),
                Some(built.log),
            ));
        }
        Ok(built)
    }

    /// Detach the worktree at the plan's commit, with its revert applied.
    fn check_out(&self, plan: &Plan, src: &Path) -> Result<(), Failure> {
        kbisect_records::say!(
            "kbuild: {}{} checking out",
            short(&plan.commit),
            plan.revert
                .as_deref()
                .map(|r| format!(" (revert {})", short(r)))
                .unwrap_or_default()
        );
        let repo = match self.repo.as_ref() {
            Some(Ok(r)) => r,
            _ => return Err(Failure::new(ErrorKind::NotARepo, "repository not open")),
        };
        worktree::prepare(repo, src, &plan.commit, plan.revert.as_deref())
    }

    /// make's variables: the fixed environment, then the compiler's.
    fn make_vars(&self, plan: &Plan) -> Vec<String> {
        let mut vars = MakeSetup::deterministic_vars(&self.opts.kernel_release);
        vars.extend(
            plan.compiler
                .make_vars(self.opts.ccache, self.opts.distcc.is_some()),
        );
        vars
    }

    /// The environment make runs with beyond the fixed one: ccache's and
    /// distcc's, with their per-build logs.
    fn make_env(&self, stats_log: &Path, distcc_log: &Path) -> Vec<(String, String)> {
        let opts = &self.opts;
        let mut env = Vec::new();
        if let Some(hosts) = &opts.distcc {
            env.push(("DISTCC_HOSTS".to_string(), hosts.clone()));
            env.push(("DISTCC_LOG".to_string(), path_string(distcc_log)));
            // Level 0 logs each call's host and outcome, all the counts need.
            env.push(("DISTCC_VERBOSE".to_string(), "0".to_string()));
            if opts.ccache {
                // ccache preprocesses and hashes locally; on a miss the
                // compile goes through distcc.
                env.push(("CCACHE_PREFIX".to_string(), "distcc".to_string()));
            }
        }
        if opts.ccache {
            env.push(("CCACHE_STATSLOG".to_string(), path_string(stats_log)));
            if let Some(url) = &opts.remote_cache {
                env.push(("CCACHE_REMOTE_STORAGE".to_string(), url.clone()));
            }
            env.push(("CCACHE_DIR".to_string(), path_string(&opts.ccache_dir)));
            // Paths under the worktree hash as relative, so two build dirs
            // share ccache hits.
            env.push(("CCACHE_BASEDIR".to_string(), path_string(&opts.build_dir)));
            env.push(("CCACHE_NOHASHDIR".to_string(), "1".to_string()));
            // `gcc` and `gcc-12` are one binary under two names; hashing the
            // compiler's content (not its path and mtime) lets them share hits.
            env.push(("CCACHE_COMPILERCHECK".to_string(), "content".to_string()));
        }
        env
    }

    /// Store a fresh build in the artifact cache (evicting over its cap);
    /// the record then points into the cache.
    fn keep_in_cache(
        &self,
        cache: &Cache,
        key: &str,
        plan: &Plan,
        built: Built,
    ) -> Result<Done, (Failure, Option<PathBuf>)> {
        let meta = Meta {
            commit: plan.commit.clone(),
            revert: plan.revert.clone(),
            compiler: plan.identity.clone(),
            cc: plan.compiler.name.clone(),
            kernel_release: self.opts.kernel_release.clone(),
            missing_options: built.missing_options.clone(),
            added_options: built.added_options.clone(),
            build_seconds: built.build_seconds,
        };
        let art = Artifacts {
            kernel: &built.kernel,
            vmlinux: &built.vmlinux,
            config: &built.config,
            log: &built.log,
        };
        let entry = cache.store(key, &art, &meta).map_err(|e| {
            let kind = if error::is_disk_full(&e) {
                ErrorKind::DiskFull
            } else {
                ErrorKind::BuildFailed
            };
            (
                Failure::new(
                    kind,
                    format!("storing artifacts in {}: {e}", cache.dir.display()),
                ),
                Some(built.log.clone()),
            )
        })?;
        for gone in cache.evict(key) {
            kbisect_records::say!("kbuild: cache over its cap, evicted {gone}");
        }
        Ok(Done {
            kernel: entry.kernel(),
            vmlinux: entry.vmlinux(),
            config: entry.config(),
            log: entry.log(),
            missing_options: built.missing_options,
            added_options: built.added_options,
            cached: false,
        })
    }
}

/// The cached artifacts of this key, if the cache has them.
fn cached_build(cache: &Cache, key: &str, plan: &Plan) -> Option<Done> {
    let e = cache.lookup(key)?;
    kbisect_records::say!(
        "kbuild: {} cached ({})",
        short(&plan.commit),
        e.dir.display()
    );
    Some(Done {
        kernel: e.kernel(),
        vmlinux: e.vmlinux(),
        config: e.config(),
        log: e.log(),
        missing_options: e.meta.missing_options.clone(),
        added_options: e.meta.added_options.clone(),
        cached: true,
    })
}

/// The object dir of builds with compiler `cc` inside a build dir: one per
/// compiler, because a compiler change rewrites every object's command line
/// and make then rebuilds the whole tree. A bisection whose compiler table
/// switches compilers at a release (the demo's, syzbot's) crosses that
/// boundary at almost every step; with a dir each, both stay incremental.
pub fn object_dir_name(cc: &str) -> String {
    let safe: String = cc
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("obj-{safe}")
}

/// What make left in the object dir.
struct Built {
    kernel: PathBuf,
    vmlinux: PathBuf,
    config: PathBuf,
    log: PathBuf,
    missing_options: Vec<String>,
    added_options: Vec<String>,
    build_seconds: f64,
}

impl Built {
    /// The answer without the cache: paths into the build dir.
    fn in_build_dir(self) -> Done {
        Done {
            kernel: self.kernel,
            vmlinux: self.vmlinux,
            config: self.config,
            log: self.log,
            missing_options: self.missing_options,
            added_options: self.added_options,
            cached: false,
        }
    }
}

struct Done {
    kernel: PathBuf,
    vmlinux: PathBuf,
    config: PathBuf,
    log: PathBuf,
    missing_options: Vec<String>,
    added_options: Vec<String>,
    cached: bool,
}

/// What configuring left to say.
struct Configured {
    /// Requested options that did not stick.
    missing_options: Vec<String>,
    /// Options added for ktest's guest.
    added_options: Vec<String>,
    /// The compiler a full file was made with and the one configured now,
    /// when they differ.
    compiler_change: Option<(String, String)>,
}

/// Make `obj/.config`: the base (make target, or the full file), fragments
/// merged in, then olddefconfig; a full file then gets what ktest's guest
/// needs and lacks ([`config::GUEST_FRAGMENT`]), olddefconfig again.
fn make_config(
    setup: &MakeSetup,
    spec: &ConfigSpec,
    limits: &Limits,
) -> Result<Configured, Failure> {
    let dot_config = setup.obj.join(".config");
    match &spec.base {
        Base::Target(t) => setup.run(&[t.as_str()], limits, ErrorKind::ConfigFailed)?,
        Base::File { text, .. } => std::fs::write(&dot_config, text)
            .map_err(|e| io_fail(ErrorKind::ConfigFailed, &dot_config, e))?,
    }
    if !spec.fragments.is_empty() {
        let text = std::fs::read_to_string(&dot_config)
            .map_err(|e| io_fail(ErrorKind::ConfigFailed, &dot_config, e))?;
        std::fs::write(&dot_config, config::merge(&text, &spec.fragments))
            .map_err(|e| io_fail(ErrorKind::ConfigFailed, &dot_config, e))?;
    }
    setup.run(&["olddefconfig"], limits, ErrorKind::ConfigFailed)?;
    let mut final_text = std::fs::read_to_string(&dot_config)
        .map_err(|e| io_fail(ErrorKind::ConfigFailed, &dot_config, e))?;
    let mut added = Vec::new();
    if matches!(spec.base, Base::File { .. }) {
        let lacking = config::guest_lacks(&final_text);
        if !lacking.is_empty() {
            let fragment = config::Fragment {
                name: "guest.fragment".into(),
                text: lacking.join("\n"),
            };
            std::fs::write(&dot_config, config::merge(&final_text, &[fragment]))
                .map_err(|e| io_fail(ErrorKind::ConfigFailed, &dot_config, e))?;
            setup.run(&["olddefconfig"], limits, ErrorKind::ConfigFailed)?;
            final_text = std::fs::read_to_string(&dot_config)
                .map_err(|e| io_fail(ErrorKind::ConfigFailed, &dot_config, e))?;
            let still = config::guest_lacks(&final_text);
            added = lacking.into_iter().filter(|l| !still.contains(l)).collect();
        }
    }
    let mut missing = config::missing_options(&spec.requested(), &final_text);
    // What the guest needs and Kconfig would not give is missing too: the
    // kernel may not boot in ktest's guest.
    for l in config::guest_lacks(&final_text) {
        if !missing.contains(&l) {
            missing.push(l);
        }
    }
    let compiler_change = match &spec.base {
        Base::File { text, .. } => config::made_with(text)
            .zip(config::made_with(&final_text))
            .filter(|(made, used)| made != used),
        Base::Target(_) => None,
    };
    Ok(Configured {
        missing_options: missing,
        added_options: added,
        compiler_change,
    })
}

/// Written in the object dir before make runs, removed when make finished
/// (well or not); found at the start of a run, it means the last build was
/// killed.
pub const UNFINISHED_MARKER: &str = ".kbuild-building";

/// If the last build in `obj` did not finish, delete every file it wrote
/// (every file newer than the marker): a killed compiler can leave a
/// truncated object that looks up to date. Older files are from finished
/// builds, and make's own bookkeeping covers them.
pub fn clean_after_unfinished_build(obj: &Path) {
    let marker = obj.join(UNFINISHED_MARKER);
    let Ok(since) = std::fs::metadata(&marker).and_then(|m| m.modified()) else {
        return;
    };
    let mut removed = 0usize;
    for entry in walkdir::WalkDir::new(obj).into_iter().flatten() {
        if !entry.file_type().is_file() || entry.path() == marker {
            continue;
        }
        let newer = entry
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .is_some_and(|t| t >= since);
        if newer && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    let _ = std::fs::remove_file(&marker);
    kbisect_records::say!(
        "kbuild: last build in {} did not finish; removed the {removed} files it wrote",
        obj.display()
    );
}

/// Hold an exclusive lock on the build dir for as long as the returned file
/// lives (one kbuild per build dir; a second one waits).
fn lock_build_dir(d: &Path) -> Result<std::fs::File, Failure> {
    use std::os::unix::io::AsRawFd;
    let path = d.join("lock");
    let f = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_fail(ErrorKind::CheckoutFailed, &path, e))?;
    let fd = f.as_raw_fd();
    if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        kbisect_records::say!("kbuild: waiting for another kbuild using {}", d.display());
        if unsafe { libc::flock(fd, libc::LOCK_EX) } != 0 {
            return Err(Failure::new(
                ErrorKind::CheckoutFailed,
                format!(
                    "{}: cannot lock: {}",
                    path.display(),
                    std::io::Error::last_os_error()
                ),
            ));
        }
    }
    Ok(f)
}

/// disk_full before starting, rather than a confusing failure half way.
fn check_free_space(d: &Path) -> Result<(), Failure> {
    let Some(free) = free_bytes(d) else {
        return Ok(());
    };
    if free < MIN_FREE_BYTES {
        return Err(Failure::new(
            ErrorKind::DiskFull,
            format!(
                "{}: only {} MiB free, a build needs at least {} MiB",
                d.display(),
                free >> 20,
                MIN_FREE_BYTES >> 20
            ),
        ));
    }
    Ok(())
}

/// Free bytes (for unprivileged users) on the filesystem holding `p`.
pub fn free_bytes(p: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

fn io_fail(kind: ErrorKind, path: &Path, e: std::io::Error) -> Failure {
    let kind = if error::is_disk_full(&e) {
        ErrorKind::DiskFull
    } else {
        kind
    };
    Failure::new(kind, format!("{}: {e}", path.display()))
}

fn fill_failure(record: &mut Build, f: &Failure) {
    record.ok = false;
    record.error = Some(f.kind.as_str().to_string());
    record.error_lines = f.lines.clone();
}

fn path_string(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_build_loses_only_what_it_wrote() {
        let tmp = tempfile::tempdir().unwrap();
        let obj = tmp.path();
        std::fs::create_dir_all(obj.join("kernel")).unwrap();
        let old = obj.join("kernel/old.o");
        std::fs::write(&old, "finished earlier").unwrap();
        let long_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .append(true)
            .open(&old)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        std::fs::write(obj.join(UNFINISHED_MARKER), "1").unwrap();
        let half = obj.join("kernel/half.o");
        std::fs::write(&half, "truncat").unwrap();
        clean_after_unfinished_build(obj);
        assert!(old.exists());
        assert!(!half.exists());
        assert!(!obj.join(UNFINISHED_MARKER).exists());
        // No marker: nothing is touched.
        std::fs::write(&half, "x").unwrap();
        clean_after_unfinished_build(obj);
        assert!(half.exists());
    }

    #[test]
    fn each_compiler_has_its_own_object_dir() {
        assert_eq!(object_dir_name("gcc-12"), "obj-gcc-12");
        assert_ne!(object_dir_name("gcc-11"), object_dir_name("gcc-12"));
        assert_eq!(object_dir_name("/opt/cc/bin/gcc"), "obj-_opt_cc_bin_gcc");
    }

    #[test]
    fn default_build_dir_is_per_repository() {
        let a = Options::default_build_dir(Path::new("/c"), Path::new("/src/linux"));
        let b = Options::default_build_dir(Path::new("/c"), Path::new("/other/linux"));
        assert_ne!(a, b);
        assert!(a.starts_with("/c/build"));
        assert!(a
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("linux-"));
    }

    /// A repository with one commit tagged `v6.2`; returns its sha.
    fn one_commit_repo(dir: &Path) -> String {
        let repo = git2::Repository::init(dir).unwrap();
        let tree = repo.treebuilder(None).unwrap().write().unwrap();
        let tree = repo.find_tree(tree).unwrap();
        let who = git2::Signature::now("t", "t@example.invalid").unwrap();
        let oid = repo
            .commit(Some("HEAD"), &who, &who, "first", &tree, &[])
            .unwrap();
        let commit = repo.find_object(oid, None).unwrap();
        repo.tag_lightweight("v6.2", &commit, false).unwrap();
        oid.to_string()
    }

    fn test_builder(tmp: &Path, repo: &Path) -> Builder {
        let opts = Options {
            repo: repo.to_path_buf(),
            config: ConfigSpec::from_args(None, &[], true).unwrap(),
            compiler: CompilerChoice::Fixed("kbisect-no-such-compiler".into()),
            build_dir: tmp.join("build"),
            cache_root: tmp.join("cache"),
            ccache: false,
            remote_cache: None,
            distcc: None,
            ccache_dir: tmp.join("ccache"),
            jobs: 1,
            timeout: None,
            cache_max_bytes: 0,
            use_cache: false,
            kernel_release: DEFAULT_KERNEL_RELEASE.into(),
        };
        Builder::new(opts, Arc::new(AtomicBool::new(false)))
    }

    #[test]
    fn failure_records_name_the_resolved_sha() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let sha = one_commit_repo(&repo);
        let mut builder = test_builder(tmp.path(), &repo);
        for rev in ["v6.2", "HEAD"] {
            let rec = builder.build(&Request {
                commit: rev.into(),
                revert: Some("HEAD".into()),
                config: None,
            });
            assert!(!rec.ok);
            assert_eq!(rec.error.as_deref(), Some("compiler_missing"), "{rec:?}");
            assert_eq!(rec.commit, sha, "{rev}");
            assert_eq!(rec.plan.revert.as_deref(), Some(sha.as_str()));
        }
        // An unknown revert fails the build, but the commit still resolves.
        let rec = builder.build(&Request {
            commit: "v6.2".into(),
            revert: Some("no-such-rev".into()),
            config: None,
        });
        assert_eq!(rec.error.as_deref(), Some("unknown_commit"));
        assert_eq!(rec.commit, sha);
        assert_eq!(rec.plan.revert, None);
        // What does not resolve is named as it was given.
        let rec = builder.build(&Request {
            commit: "no-such-rev".into(),
            revert: None,
            config: None,
        });
        assert_eq!(rec.error.as_deref(), Some("unknown_commit"));
        assert_eq!(rec.commit, "no-such-rev");
    }

    #[test]
    fn a_request_s_config_replaces_the_default_and_names_its_logs() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let sha = one_commit_repo(&repo);
        let mut builder = test_builder(tmp.path(), &repo);
        // A build_config that is neither a file nor a target is the
        // build's config failure, named.
        let rec = builder.build(&Request {
            commit: sha.clone(),
            config: Some("/no/such/candidate.config".into()),
            ..Default::default()
        });
        assert_eq!(rec.error.as_deref(), Some("config_failed"), "{rec:?}");
        assert!(rec.error_lines[0].contains("build_config"), "{rec:?}");
        // A candidate's logs are its own, the default config's are not renamed.
        let cand = tmp.path().join("cand.config");
        std::fs::write(&cand, "CONFIG_64BIT=y\n").unwrap();
        let spec = ConfigSpec::from_args(Some(cand.to_str().unwrap()), &[], true).unwrap();
        let plan = |config: ConfigSpec| Plan {
            commit: sha.clone(),
            revert: None,
            config,
            compiler: Compiler::named("gcc"),
            identity: String::new(),
        };
        let default = builder.opts.config.clone();
        assert_eq!(plan(default.clone()).log_stem(&default), sha);
        let stem = plan(spec.clone()).log_stem(&default);
        assert!(stem.starts_with(&format!("{sha}-config-")), "{stem}");
        assert_ne!(
            builder.cache_key(&plan(spec)),
            builder.cache_key(&plan(default))
        );
    }
}
