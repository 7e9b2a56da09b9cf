//! ktest: boot kernels in QEMU and run a reproducer in them, N times, in
//! parallel, one `run` record per VM run.
//!
//! Input is a stream of records (see docs/protocol.md). Each `build` record
//! is echoed, then tested: the guest image (busybox, sanity test,
//! reproducer; see [`guest`]) is booted `runs` times with the kernel the
//! record names ([`vm`]), the console is classified by crashclass, and the
//! verdict of each run ([`outcome`]) is written as a `run` record. Records of
//! other kinds are echoed unchanged. The runs of every build read so far
//! share the VM slots ([`slots`]) — `--jobs` here and those of every
//! `--host` reached over ssh ([`farm`], [`remote`]); records leave in input
//! order.

pub mod cli;
pub mod cmdline;
pub mod cpio;
pub mod farm;
pub mod guest;
pub mod image;
pub mod kvm_memo;
pub mod outcome;
pub mod procs;
pub mod remote;
mod slots;
pub mod sysctl;
pub mod vm;

use farm::{Farm, Place};
use kbisect_records::jsonl::{InputError, Reader, WriteError, Writer};
use kbisect_records::{BugKind, Build, Classification, Object, Outcome, RecordKind, Run, TestPlan};
use slots::{Sequence, Slots};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use vm::Accel;

/// The tool's name in error records.
pub const TOOL: &str = "ktest";

/// Which accelerator to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccelChoice {
    /// Probe KVM once; use it if it works, else TCG.
    Auto,
    Kvm,
    Tcg,
}

/// Everything a ktest process was asked to do.
#[derive(Debug, Clone)]
pub struct Config {
    pub repro: Option<PathBuf>,
    /// Runs per build record without its own `runs` field.
    pub runs: u32,
    /// VMs at a time here (0: none, with `hosts`).
    pub jobs: usize,
    /// Test machines reached over ssh, with their slots.
    pub hosts: Vec<remote::HostSpec>,
    /// `ssh -F FILE` for every host.
    pub ssh_config: Option<PathBuf>,
    /// Titles of the bug looked for (--target).
    pub targets: Vec<String>,
    /// What the bug is (--bug): what the guest does, and which runs end a
    /// batch early.
    pub bug: BugKind,
    /// `--mem`, `--timeout-boot`, `--no-output-timeout`: what is not
    /// asked, the kernel's config decides ([`vm::guest_size`]).
    pub guest: vm::GuestAsk,
    pub timeout_run: Duration,
    pub smp: u32,
    pub accel: AccelChoice,
    /// How TCG runs the vCPUs (`--tcg-thread`), decided per kernel by
    /// [`vm::tcg_threads`].
    pub tcg_thread: vm::TcgThreadChoice,
    /// Extra kernel arguments.
    pub cmdline: Vec<String>,
    /// Sysctls the guest sets before the reproducer (`--sysctl`).
    pub sysctls: Vec<sysctl::Sysctl>,
    /// The sysctl files' skipped lines, a warning in every run record.
    pub sysctl_warnings: Vec<String>,
    pub qemu: PathBuf,
    pub busybox: PathBuf,
    pub cc: String,
    /// Console logs go to `<log_dir>/<commit>/`.
    pub log_dir: PathBuf,
    /// Guest images are cached here.
    pub guest_cache: PathBuf,
    /// Where the KVM probes' answers are kept for each host's boot
    /// ([`kvm_memo`]); `None` probes in every process.
    pub kvm_memo_dir: Option<PathBuf>,
}

/// What is wrong with `--repro PATH`, if anything: it must be a file.
pub fn repro_problem(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => None,
        Ok(m) if m.is_dir() => Some("is a directory, not a reproducer file".into()),
        Ok(_) => Some("is not a regular file".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("no such file".into()),
        Err(e) => Some(format!("cannot be read: {e}")),
    }
}

/// `$KBISECT_CACHE`, default `~/.cache/kbisect`.
pub fn cache_root() -> PathBuf {
    if let Some(c) = std::env::var_os("KBISECT_CACHE").filter(|c| !c.is_empty()) {
        return PathBuf::from(c);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("kbisect")
}

/// The shared output: records are written whole under this lock, and the
/// signal handler takes it before exiting.
pub type Output<W> = Arc<Mutex<Writer<W>>>;

fn emit<W: Write>(out: &Output<W>, obj: &Object) -> Result<(), WriteError> {
    out.lock().unwrap_or_else(|e| e.into_inner()).write(obj)
}

/// State shared by the tests of one process.
struct Session {
    cfg: Config,
    /// Every slot, here and remote.
    farm: Arc<Farm>,
    scratch: PathBuf,
    /// The guest image, built on first need.
    guest: Option<Result<guest::Guest, guest::GuestError>>,
    /// The accelerator chosen, with why.
    accel: Option<(Accel, String)>,
    /// Makes log names unique across ktest invocations.
    stamp: String,
    /// Builds queued so far: with the stamp, makes log names unique when
    /// two builds of one commit (one with a revert) run at once.
    batches: u64,
    /// A build record was bad input (answered with a `bad_input` error
    /// record): the exit status is 2 at the end.
    bad_input_seen: bool,
}

/// Read records from `input` and write records to `out` until the input
/// ends. Returns the exit status: 0, or 2 when the input is not JSON lines
/// (records before the bad line are still handled) or a build record was
/// bad (its `bad_input` error record written, the other records handled).
pub fn run<R: BufRead, W: Write + Send>(cfg: Config, input: Reader<R>, out: Output<W>) -> i32 {
    let scratch = match tempfile::Builder::new().prefix("ktest-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            kbisect_records::say!("{TOOL}: cannot create a temporary directory: {e}");
            return kbisect_records::EXIT_FAILURE;
        }
    };
    procs::add_temp_dir(scratch.path().to_path_buf());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let farm = Arc::new(Farm::new(
        cfg.jobs,
        cfg.hosts.clone(),
        cfg.ssh_config.clone(),
    ));
    if let Err(status) = check_hosts_at_start(&farm, &cfg.qemu) {
        procs::forget_temp_dir(scratch.path());
        return status;
    }
    let mut session = Session {
        cfg,
        farm,
        scratch: scratch.path().to_path_buf(),
        guest: None,
        accel: None,
        stamp: format!("{now}-{}", std::process::id()),
        batches: 0,
        bad_input_seen: false,
    };
    let status = session.process(input, &out);
    procs::forget_temp_dir(scratch.path());
    drop(scratch);
    status
}

/// Ask every host what it has before any run: one that cannot run QEMU is
/// a mistake to fix now (exit 2), not a failure mid-bisection. One that
/// does not answer is only warned about: its runs fail over to the others.
fn check_hosts_at_start(farm: &Farm, qemu: &Path) -> Result<(), i32> {
    if farm.hosts.is_empty() {
        return Ok(());
    }
    let qemu = qemu.to_string_lossy();
    let mut unusable = false;
    for c in farm::check_hosts(farm, &qemu) {
        match &c.caps {
            Err(why) => kbisect_records::say!(
                "{TOOL}: warning: host {} does not answer ({why}); its runs will go to other slots",
                c.host
            ),
            Ok(caps) => {
                if let Some(why) = c.unusable(&qemu) {
                    kbisect_records::say!("{TOOL}: {why}");
                    unusable = true;
                } else {
                    kbisect_records::say!(
                        "{TOOL}: host {}: {} slot(s), {}, KVM {}",
                        c.host,
                        c.slots,
                        caps.version.as_deref().unwrap_or("QEMU"),
                        if caps.kvm { "available" } else { "unavailable" }
                    );
                }
            }
        }
    }
    if unusable {
        return Err(kbisect_records::EXIT_USAGE);
    }
    Ok(())
}

/// `ktest --check-hosts`: one `host` record per host. Returns the exit
/// status: 0 when every host can run VMs, 2 when one answers without QEMU,
/// 1 when one does not answer (or the output failed).
pub fn print_host_checks<W: Write>(farm: &Farm, qemu: &Path, mut out: Writer<W>) -> i32 {
    let qemu = qemu.to_string_lossy();
    let mut status = kbisect_records::EXIT_OK;
    for c in farm::check_hosts(farm, &qemu) {
        let unusable = c.unusable(&qemu);
        let rec = match &c.caps {
            Ok(caps) => kbisect_records::Host {
                host: c.host.clone(),
                slots: c.slots,
                reachable: true,
                qemu: caps.qemu.clone(),
                qemu_version: caps.version.clone(),
                kvm: Some(caps.kvm),
                detail: unusable.clone(),
                seconds: round3(c.seconds),
                ..Default::default()
            },
            Err(why) => kbisect_records::Host {
                host: c.host.clone(),
                slots: c.slots,
                detail: Some(why.clone()),
                seconds: round3(c.seconds),
                ..Default::default()
            },
        };
        if unusable.is_some() {
            status = kbisect_records::EXIT_USAGE;
        } else if c.caps.is_err() && status == kbisect_records::EXIT_OK {
            status = kbisect_records::EXIT_FAILURE;
        }
        if let Err(e) = out.write(&kbisect_records::to_object(&rec)) {
            kbisect_records::say!("{TOOL}: {e}");
            return e.exit_status();
        }
    }
    status
}

impl Session {
    /// Read records until the input ends, with one worker per VM slot running
    /// the queued runs and one writer thread putting records out in input
    /// order.
    fn process<R: BufRead, W: Write + Send>(&mut self, input: Reader<R>, out: &Output<W>) -> i32 {
        let slots: Slots<Ticket> = Slots::new();
        let (seq, items) = Sequence::new();
        let farm = self.farm.clone();
        std::thread::scope(|s| {
            for place in farm.places() {
                let (slots, farm) = (&slots, &farm);
                s.spawn(move || serve(slots, farm, place));
            }
            let writer = s.spawn(|| slots::write_all(items, &slots.abort, |obj| emit(out, obj)));
            let status = self.read_all(input, &seq, &slots);
            slots.close();
            drop(seq);
            match writer.join() {
                Ok(Some(e)) => {
                    if !matches!(e, WriteError::Closed) {
                        kbisect_records::say!("{TOOL}: {e}");
                    }
                    e.exit_status()
                }
                Ok(None) => status,
                Err(_) => kbisect_records::EXIT_FAILURE,
            }
        })
    }

    /// The reading thread: echo records, queue the runs of build records.
    fn read_all<R: BufRead>(
        &mut self,
        mut input: Reader<R>,
        seq: &Sequence,
        slots: &Slots<Ticket>,
    ) -> i32 {
        let source = input.source().to_string();
        loop {
            let obj = match input.next() {
                // A bad build record was answered with an error record and
                // the stream went on; the caller still learns of it.
                None if self.bad_input_seen => return kbisect_records::EXIT_USAGE,
                None => return kbisect_records::EXIT_OK,
                Some(Err(e)) => return bad_input(&e),
                Some(Ok(obj)) => obj,
            };
            let line = input.line();
            if RecordKind::of(&obj) == RecordKind::Build {
                self.handle_build(&obj, &source, line, seq, slots);
            } else {
                seq.record(&obj);
            }
            if slots.aborted() {
                // The writer met an error; it reports it.
                return kbisect_records::EXIT_OK;
            }
            if procs::is_interrupted() {
                // The signal thread exits the process; do not race it.
                std::thread::sleep(Duration::from_secs(60));
            }
        }
    }

    fn handle_build(
        &mut self,
        obj: &Object,
        source: &str,
        line: usize,
        seq: &Sequence,
        slots: &Slots<Ticket>,
    ) {
        let error = |message: String, commit: Option<String>| {
            let rec = kbisect_records::Error {
                tool: TOOL.into(),
                error: "bad_input".into(),
                message,
                commit,
                file: Some(source.to_string()),
                line: Some(line),
                ..Default::default()
            };
            kbisect_records::to_object(&rec)
        };
        let build: Build = match kbisect_records::parse_named(obj) {
            Ok(b) => b,
            Err(e) => {
                seq.record(obj);
                self.bad_input_seen = true;
                kbisect_records::say!("{TOOL}: {source}:{line}: not a valid build record: {e}");
                let commit = obj.get("commit").and_then(|c| c.as_str()).map(String::from);
                seq.record(&error(format!("not a valid build record: {e}"), commit));
                return;
            }
        };
        seq.record(obj);
        if !build.ok {
            return;
        }
        if !kbisect_records::is_full_sha(&build.commit) {
            self.bad_input_seen = true;
            let msg = format!("commit {:?} is not a full 40-hex sha", build.commit);
            kbisect_records::say!("{TOOL}: {source}:{line}: {msg}");
            seq.record(&error(msg, Some(build.commit.clone())));
            return;
        }
        let Some(kernel) = build.kernel.clone() else {
            self.bad_input_seen = true;
            let msg = "build record with ok:true has no kernel field".to_string();
            kbisect_records::say!("{TOOL}: {source}:{line}: {msg}");
            seq.record(&error(msg, Some(build.commit.clone())));
            return;
        };
        // The same kernel as one already tested (bisect-step lists their
        // signatures): its verdict is known, booting it again proves nothing.
        let known = build
            .signature
            .as_ref()
            .is_some_and(|sig| build.plan.known_signatures.contains(sig));
        if known {
            kbisect_records::say!(
                "{TOOL}: {}: same signature as a kernel already tested: not booted",
                &build.commit[..12]
            );
            return;
        }
        self.test_kernel(&build, Path::new(&kernel), seq, slots);
    }

    /// Boot `kernel` `runs` times and write a run record for each.
    fn test_kernel(&mut self, build: &Build, kernel: &Path, seq: &Sequence, slots: &Slots<Ticket>) {
        let short = &build.commit[..12];
        let runs = build.plan.runs.unwrap_or(self.cfg.runs);
        let base = RunBase {
            commit: build.commit.clone(),
            signature: build.signature.clone(),
            revert: build.plan.revert.clone(),
            config_id: build.plan.config_id.clone(),
            repro_32bit: false,
        };
        let problem = self.problem_for_every_run(kernel);
        let base = RunBase {
            repro_32bit: matches!(&self.guest, Some(Ok(g)) if g.m32),
            ..base
        };
        if let Some((outcome, detail)) = problem {
            kbisect_records::say!(
                "{TOOL}: {short}: {} ({} runs): {detail}",
                outcome_name(outcome),
                runs
            );
            return fail_every_run(seq, &base, runs, outcome, &detail);
        }
        let initrd = match &self.guest {
            Some(Ok(g)) => g.initrd.clone(),
            _ => unreachable!("guest checked above"),
        };
        // With no local slot (--jobs 0) there is nothing to probe here.
        let accel = if self.farm.local_slots > 0 {
            self.accel(kernel, &initrd)
        } else {
            Accel::Tcg
        };
        let log_dir = self.cfg.log_dir.join(&build.commit);
        if let Err(e) = std::fs::create_dir_all(&log_dir) {
            let detail = format!("cannot create log directory {}: {e}", log_dir.display());
            return fail_every_run(seq, &base, runs, Outcome::InfraError, &detail);
        }
        let cfg = &self.cfg;
        let config = build
            .config
            .as_deref()
            .and_then(|p| std::fs::read_to_string(p).ok());
        let (tcg_threads, why) = vm::tcg_threads(cfg.tcg_thread, cfg.smp, config.as_deref());
        if let Some(why) = why {
            kbisect_records::say!("{TOOL}: {short}: TCG single-threaded ({why})");
        }
        let size = vm::guest_size(cfg.guest, config.as_deref());
        if let Some(why) = &size.why {
            kbisect_records::say!("{TOOL}: {short}: {why}");
        }
        kbisect_records::say!(
            "{TOOL}: {short}: {runs} run(s) queued for {} VM slot(s){}",
            self.farm.total_slots(),
            match &self.accel {
                Some((a, why)) if self.farm.local_slots > 0 =>
                    format!(", here {} ({why})", a.as_str()),
                _ => String::new(),
            }
        );
        let batch = Arc::new(Batch {
            spec: self.vm_spec(kernel, initrd, accel, tcg_threads, &size),
            limits: vm::Limits {
                boot: size.boot,
                run: cfg.timeout_run,
                no_output: size.no_output,
            },
            base,
            short: short.to_string(),
            // bisect-step sets `stop_on_target: false` while it measures
            // the reproduction rate: then every run is wanted, crash or not.
            stop_on_target: build.plan.stop_on_target.unwrap_or(true),
            target_seen: AtomicBool::new(false),
            log_dir,
            scratch: self.scratch.clone(),
            stamp: format!("{}-{}", self.stamp, self.batches),
            targets: cfg.targets.clone(),
            bug: cfg.bug,
            accel_choice: cfg.accel,
            probe_cmdline: cmdline::build(1, 10, true, BugKind::Crash, &cfg.cmdline),
            kvm_memo_dir: cfg.kvm_memo_dir.clone(),
            warnings: cfg.sysctl_warnings.clone(),
        });
        self.batches += 1;
        let done = seq.runs();
        for run in 0..runs {
            slots.push(Ticket {
                batch: Arc::clone(&batch),
                run,
                attempt: 0,
                done: done.clone(),
            });
        }
    }

    /// A problem that makes every run fail the same way, so that no VM is
    /// started: a kernel image that is not one, a guest that cannot be made.
    fn problem_for_every_run(&mut self, kernel: &Path) -> Option<(Outcome, String)> {
        if let Err(why) = image::check(kernel) {
            return Some((Outcome::InfraError, why));
        }
        if let Err(e) = self.guest() {
            let outcome = match e {
                guest::GuestError::ReproCompile { .. } => Outcome::TestFailed,
                guest::GuestError::Infra(_) => Outcome::InfraError,
            };
            return Some((outcome, e.to_string()));
        }
        None
    }

    /// The VM every run of `kernel` boots.
    fn vm_spec(
        &self,
        kernel: &Path,
        initrd: PathBuf,
        accel: Accel,
        tcg_threads: vm::TcgThreads,
        size: &vm::GuestSize,
    ) -> vm::VmSpec {
        let cfg = &self.cfg;
        vm::VmSpec {
            qemu: cfg.qemu.clone(),
            kernel: kernel.to_path_buf(),
            initrd,
            cmdline: cmdline::build(
                cfg.timeout_run.as_secs().max(1),
                heartbeat_seconds(size.no_output),
                false,
                cfg.bug,
                &cfg.cmdline,
            ),
            mem_mb: size.mem_mb,
            smp: cfg.smp,
            accel,
            tcg_threads,
            ssh: None,
        }
    }
    /// The guest image, built on first use.
    fn guest(&mut self) -> Result<&guest::Guest, guest::GuestError> {
        if self.guest.is_none() {
            let t = Instant::now();
            let spec = guest::GuestSpec {
                repro: self.cfg.repro.clone(),
                busybox: self.cfg.busybox.clone(),
                cc: self.cfg.cc.clone(),
                sysctls: self.cfg.sysctls.clone(),
                cache_dir: self.cfg.guest_cache.clone(),
                scratch_dir: self.scratch.join("guest"),
            };
            let g = guest::build(&spec);
            match &g {
                Ok(g) => kbisect_records::say!(
                    "{TOOL}: guest image {} ({}, {:.1}s)",
                    g.initrd.display(),
                    if g.cached { "cached" } else { "built" },
                    t.elapsed().as_secs_f64()
                ),
                Err(e) => kbisect_records::say!("{TOOL}: cannot make the guest image: {e}"),
            }
            self.guest = Some(g);
        }
        match &self.guest {
            Some(Ok(g)) => Ok(g),
            Some(Err(e)) => Err(e.clone()),
            None => unreachable!("set above"),
        }
    }

    /// The accelerator for this process, probed once when `auto`.
    fn accel(&mut self, kernel: &Path, initrd: &Path) -> Accel {
        if self.accel.is_none() {
            let chosen = match self.cfg.accel {
                AccelChoice::Kvm => (Accel::Kvm, "--accel kvm".to_string()),
                AccelChoice::Tcg => (Accel::Tcg, "--accel tcg".to_string()),
                AccelChoice::Auto => probe_kvm(&self.cfg, kernel, initrd, &self.scratch),
            };
            kbisect_records::say!("{TOOL}: accelerator {} ({})", chosen.0.as_str(), chosen.1);
            self.accel = Some(chosen);
        }
        self.accel.as_ref().map(|a| a.0).unwrap_or(Accel::Tcg)
    }
}

/// The same failed run record for every run index.
fn fail_every_run(seq: &Sequence, base: &RunBase, runs: u32, outcome: Outcome, detail: &str) {
    for i in 0..runs {
        seq.record(&base.failed(i, outcome, detail));
    }
}

/// The runs of one kernel, shared by the tickets of its runs.
struct Batch {
    spec: vm::VmSpec,
    limits: vm::Limits,
    base: RunBase,
    /// The commit, short, for progress lines.
    short: String,
    stop_on_target: bool,
    /// A run showed the bug and the batch stops there: runs not started
    /// are skipped, running VMs are told to stop.
    target_seen: AtomicBool,
    log_dir: PathBuf,
    scratch: PathBuf,
    stamp: String,
    targets: Vec<String>,
    bug: BugKind,
    /// How a remote host's accelerator is chosen, and the command line of
    /// its KVM probe boot.
    accel_choice: AccelChoice,
    probe_cmdline: String,
    /// Where the hosts' KVM probe answers are kept (`Config::kvm_memo_dir`).
    kvm_memo_dir: Option<PathBuf>,
    /// Warnings every run of the batch carries (the sysctl files' skipped
    /// lines), besides its own.
    warnings: Vec<String>,
}

/// One run waiting for a slot, and where its record goes.
#[derive(Clone)]
struct Ticket {
    batch: Arc<Batch>,
    run: u32,
    /// Earlier tries that a host failed (each has its infra_error record).
    attempt: u32,
    done: mpsc::Sender<Object>,
}

/// A worker: one VM slot, here or on a host. Takes queued runs until
/// there are none and no more will come; a run of a batch that has shown
/// its bug, or after the output is gone, is written as skipped without
/// booting. A run its host fails is written as infra_error and queued
/// again for another slot, and the host sits out the rest of the round.
fn serve(slots: &Slots<Ticket>, farm: &Farm, place: Place) {
    loop {
        if let Place::Remote(host) = &place {
            let round = slots.round();
            if farm.is_benched(host, round) {
                if !slots.wait_round_after(round) {
                    return;
                }
                continue;
            }
        }
        let Some(t) = slots.take() else {
            return;
        };
        if procs::is_interrupted() {
            slots.done();
            return;
        }
        let (batch, i) = (&t.batch, t.run);
        let rec = if slots.aborted() || batch.target_seen.load(Ordering::SeqCst) {
            Ok(with_host(
                batch.base.failed(
                    i,
                    Outcome::Skipped,
                    "not started: another run showed the target bug",
                ),
                &place,
            ))
        } else {
            run_on(&place, batch, i, t.attempt)
        };
        let rec = match rec {
            Ok(rec) => rec,
            Err(why) => {
                let Place::Remote(host) = &place else {
                    unreachable!("only a remote host fails a run this way")
                };
                let detail = format!("host {}: {why}", host.name());
                let benched = farm.bench(host, slots.round());
                let again = t.attempt + 1 < farm::MAX_ATTEMPTS;
                kbisect_records::say!(
                    "{TOOL}: {}: run {i}: infra_error ({detail}){}{}",
                    batch.short,
                    if again { "; queued again" } else { "" },
                    if benched {
                        "; host benched for this round"
                    } else {
                        ""
                    }
                );
                let rec = with_host(batch.base.failed(i, Outcome::InfraError, &detail), &place);
                if again {
                    slots.retry(Ticket {
                        attempt: t.attempt + 1,
                        ..t.clone()
                    });
                }
                let _ = t.done.send(rec);
                slots.done();
                continue;
            }
        };
        kbisect_records::say!(
            "{TOOL}: {}: run {i}{}: {}{}",
            batch.short,
            match &place {
                Place::Local => String::new(),
                Place::Remote(h) => format!(" on {}", h.name()),
            },
            rec.get("outcome").and_then(|v| v.as_str()).unwrap_or("?"),
            rec.get("title")
                .and_then(|v| v.as_str())
                .map(|t| format!(" ({t})"))
                .unwrap_or_default()
        );
        let _ = t.done.send(rec);
        slots.done();
    }
}

/// The record with the `host` field of `place`.
fn with_host(mut rec: Object, place: &Place) -> Object {
    rec.insert("host".into(), place.name().into());
    rec
}

/// Run `i` of the batch on `place`. Err: the host failed it (unreachable,
/// the connection dropped, the kernel could not be sent) — no evidence.
fn run_on(place: &Place, batch: &Batch, i: u32, attempt: u32) -> Result<Object, String> {
    let host = match place {
        Place::Local => return run_one_of(batch, &batch.spec, i, attempt, place),
        Place::Remote(h) => h,
    };
    let qemu = batch.spec.qemu.to_string_lossy();
    let caps = host.caps(&qemu)?;
    let Some(remote_qemu) = caps.qemu.clone() else {
        return Err(format!("no {qemu} there"));
    };
    let (kernel, _) = host.sent.ensure(&host.ssh, &batch.spec.kernel)?;
    let (initrd, _) = host.sent.ensure(&host.ssh, &batch.spec.initrd)?;
    let mut spec = vm::VmSpec {
        qemu: PathBuf::from(remote_qemu),
        kernel: PathBuf::from(kernel),
        initrd: PathBuf::from(initrd),
        ssh: Some(host.ssh.clone()),
        ..batch.spec.clone()
    };
    spec.accel = host.accel(|| match batch.accel_choice {
        AccelChoice::Kvm => (Accel::Kvm, "--accel kvm".to_string()),
        AccelChoice::Tcg => (Accel::Tcg, "--accel tcg".to_string()),
        AccelChoice::Auto if !caps.kvm => (
            Accel::Tcg,
            "KVM unavailable there: /dev/kvm cannot be opened".to_string(),
        ),
        AccelChoice::Auto => {
            let probe = vm::VmSpec {
                cmdline: batch.probe_cmdline.clone(),
                accel: Accel::Kvm,
                ..spec.clone()
            };
            let label = kvm_memo::file_label(host.name());
            let key = kvm_memo::Key::new(caps.boot_id.as_deref(), caps.qemu_stamp.as_deref());
            kvm_memo::remembered(batch.kvm_memo_dir.as_deref(), &label, key, || {
                probe_boot(&probe, &batch.scratch, &label)
            })
        }
    });
    run_one_of(batch, &spec, i, attempt, place)
}

/// Run `i` of the batch as `spec` says: boot it, and raise `target_seen`
/// when it shows the target bug and the batch stops there.
fn run_one_of(
    batch: &Batch,
    spec: &vm::VmSpec,
    i: u32,
    attempt: u32,
    place: &Place,
) -> Result<Object, String> {
    let name = match attempt {
        0 => format!("run{i}-{}.log", batch.stamp),
        a => format!("run{i}-{}-retry{a}.log", batch.stamp),
    };
    let log = batch.log_dir.join(name);
    let (mut rec, host_lost) = one_run(
        spec,
        batch.limits,
        &batch.base,
        i,
        &log,
        &batch.scratch,
        &batch.targets,
        &batch.target_seen,
    );
    if let Some(why) = host_lost {
        return Err(why);
    }
    rec.host = Some(place.name().to_string());
    rec.warnings.extend(batch.warnings.iter().cloned());
    // A run that shows the bug stops the batch, by the rule bisect-step
    // judges by; a crash bug needs --target to know its bug.
    let shows_bug = crashclass::run_shows_bug(
        batch.bug,
        &batch.targets,
        rec.outcome,
        &rec.class,
        rec.exit_status,
    );
    if batch.stop_on_target
        && (batch.bug != BugKind::Crash || !batch.targets.is_empty())
        && shows_bug == Some(true)
    {
        batch.target_seen.store(true, Ordering::SeqCst);
    }
    Ok(batch.base.ran(&rec, !batch.targets.is_empty()))
}

/// Does KVM work here? /dev/kvm must open, and a probe boot of the kernel
/// under test must get as far as the kernel's own banner: on some hosts
/// /dev/kvm exists but QEMU aborts at once (kvm_buf_set_msrs assertion), on
/// others the boot loader and decompressor print and the guest then hangs.
fn probe_kvm(cfg: &Config, kernel: &Path, initrd: &Path, scratch: &Path) -> (Accel, String) {
    if let Err(e) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
    {
        return (Accel::Tcg, format!("KVM unavailable: /dev/kvm: {e}"));
    }
    let spec = vm::VmSpec {
        qemu: cfg.qemu.clone(),
        kernel: kernel.to_path_buf(),
        initrd: initrd.to_path_buf(),
        cmdline: cmdline::build(1, 10, true, BugKind::Crash, &cfg.cmdline),
        // The probe wants the banner, which comes before memory matters.
        mem_mb: cfg.guest.mem_mb.unwrap_or(vm::DEFAULT_MEM_MB),
        smp: cfg.smp,
        accel: Accel::Kvm,
        tcg_threads: vm::TcgThreads::Multi,
        ssh: None,
    };
    kvm_memo::remembered(
        cfg.kvm_memo_dir.as_deref(),
        "local",
        kvm_memo::Key::here(&cfg.qemu),
        || probe_boot(&spec, scratch, "local"),
    )
}

/// Boot `spec` (KVM, the probe command line) once: KVM works when the
/// kernel started, i.e. [`kernel_started`] on its console. `label` names the
/// probe's files in `scratch`.
fn probe_boot(spec: &vm::VmSpec, scratch: &Path, label: &str) -> (Accel, String) {
    let limits = vm::Limits {
        boot: Duration::from_secs(30),
        run: Duration::from_secs(1),
        no_output: Duration::from_secs(15),
    };
    let stop = AtomicBool::new(false);
    let log = scratch.join(format!("kvm-probe-{label}.log"));
    let obs = vm::run(
        spec,
        limits,
        &log,
        &scratch.join(format!("kvm-probe-{label}.stderr")),
        &stop,
    );
    let console = std::fs::read(&log).unwrap_or_default();
    if kernel_started(&console) || obs.booted_offset.is_some() {
        (
            Accel::Kvm,
            format!("KVM probe boot started the kernel in {:.1}s", obs.seconds),
        )
    } else if obs.output_bytes > 0 {
        (
            Accel::Tcg,
            format!(
                "KVM probe failed, using TCG: the console went quiet after {} bytes of boot loader and decompressor, the kernel never printed its banner",
                obs.output_bytes
            ),
        )
    } else {
        let why = if obs.qemu_stderr.is_empty() {
            format!("{:?}", obs.ending)
        } else {
            obs.qemu_stderr.lines().last().unwrap_or("").to_string()
        };
        (Accel::Tcg, format!("KVM probe failed, using TCG: {why}"))
    }
}

/// Did the kernel itself run? Its banner ("Linux version …", the first
/// line start_kernel prints) is on the console; the firmware's and the
/// decompressor's lines do not count.
fn kernel_started(console: &[u8]) -> bool {
    let banner = b"Linux version ";
    console.windows(banner.len()).any(|w| w == banner)
}

/// How often the guest prints its heartbeat: well inside the no-output limit.
fn heartbeat_seconds(no_output: Duration) -> u64 {
    (no_output.as_secs() / 3).clamp(1, 10)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn outcome_name(o: Outcome) -> String {
    serde_json::to_value(o)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn bad_input(e: &InputError) -> i32 {
    kbisect_records::say!("{TOOL}: {e}");
    kbisect_records::EXIT_USAGE
}

/// The fields every run record of one build shares.
struct RunBase {
    commit: String,
    signature: Option<String>,
    /// The build record's `revert`, copied so that runs of a kernel with a
    /// revert are not mistaken for runs of the plain commit.
    revert: Option<String>,
    /// The build record's `config_id`, copied for the same reason: runs of
    /// one commit under two candidate configs are two kernels' runs.
    config_id: Option<String>,
    /// The reproducer is a 32-bit program: a kernel that cannot run it
    /// lacks `CONFIG_IA32_EMULATION`, which the run's detail says.
    repro_32bit: bool,
}

impl RunBase {
    /// A run record with only the common fields and `outcome` set.
    fn blank(&self, run: u32, outcome: Outcome) -> Run {
        Run {
            commit: self.commit.clone(),
            signature: self.signature.clone(),
            run,
            outcome,
            plan: TestPlan {
                revert: self.revert.clone(),
                config_id: self.config_id.clone(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// A run that ended (or never started) for a reason given in `detail`.
    fn failed(&self, run: u32, outcome: Outcome, detail: &str) -> Object {
        self.object(&Run {
            detail: Some(detail.to_string()),
            ..self.blank(run, outcome)
        })
    }

    /// The record of a run that booted a VM: with targets, `same_bug` is
    /// written even when crashclass has no answer (null).
    fn ran(&self, rec: &Run, targets_given: bool) -> Object {
        let mut obj = self.object(rec);
        rec.class.write_same_bug(&mut obj, targets_given);
        obj
    }

    /// The record as written.
    fn object(&self, rec: &Run) -> Object {
        kbisect_records::to_object(rec)
    }
}

/// Why the console log of a run is missing or short, when it is: the
/// guest printed but the log could not be written (a full `--log-dir`).
/// Without this the run would say `log: null` and nobody would know why.
fn log_lost(obs: &vm::Observation, log: &Path, kept: bool) -> Option<String> {
    let error = obs.log_error.as_deref()?;
    Some(format!(
        "console log {} {}: {error}",
        log.display(),
        if kept { "is incomplete" } else { "was lost" }
    ))
}

/// The run's warnings: the guest's, and one when the guest's run time is
/// not ktest's (the kernel did not get ktest's command line: a config's
/// `CONFIG_CMDLINE_OVERRIDE` replaces it).
fn run_warnings(obs: &vm::Observation, limits: vm::Limits) -> Vec<String> {
    let mut w = obs.warnings.clone();
    if let Some(got) = obs.guest_run_seconds {
        let asked = limits.run.as_secs();
        if got != asked {
            w.push(format!(
                "the guest ran for {got} s, not {asked} s: ktest's kernel command line did not reach it (CONFIG_CMDLINE_OVERRIDE=y in the config?)"
            ));
        }
    }
    w
}

/// Boot one VM, classify its console and decide its outcome. The second
/// value says why the remote host failed the run, when it did (ssh could
/// not connect, or the connection dropped): the run then says nothing of
/// the kernel.
#[allow(clippy::too_many_arguments)]
fn one_run(
    spec: &vm::VmSpec,
    limits: vm::Limits,
    base: &RunBase,
    i: u32,
    log: &Path,
    scratch: &Path,
    targets: &[String],
    stop: &AtomicBool,
) -> (Run, Option<String>) {
    let stderr = scratch.join(format!(
        "qemu-{}-{}",
        &base.commit[..12],
        log.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let obs = vm::run(spec, limits, log, &stderr, stop);
    let _ = std::fs::remove_file(&stderr);
    let host_lost = match (&spec.ssh, &obs.ending) {
        (Some(_), vm::Ending::SpawnFailed(why)) => Some(why.clone()),
        (Some(_), vm::Ending::Exited) if obs.exit_code == Some(remote::SSH_FAILED) => {
            Some(format!(
                "ssh: {}",
                remote::last_line(obs.qemu_stderr.as_bytes(), obs.exit_code)
            ))
        }
        _ => None,
    };
    let class = match std::fs::read(log) {
        Ok(bytes) if !bytes.is_empty() => crashclass::classify(&bytes),
        _ => Classification::default(),
    };
    let d = outcome::decide(&obs, class, targets);
    // An empty log (QEMU never printed) is not worth pointing at.
    let kept = std::fs::metadata(log).map(|m| m.len() > 0).unwrap_or(false);
    if !kept {
        let _ = std::fs::remove_file(log);
    }
    let d_detail = match (&obs.ending, base.repro_32bit) {
        (vm::Ending::ReproCannotRun(_), true) => d.detail.map(|d| {
            format!("{d}: a 32-bit program; the kernel needs CONFIG_IA32_EMULATION=y to run it")
        }),
        _ => d.detail,
    };
    let detail = match log_lost(&obs, log, kept) {
        None => d_detail,
        Some(lost) => {
            kbisect_records::say!("{TOOL}: warning: run {i}: {lost}");
            Some(match d_detail {
                Some(detail) => format!("{detail}; {lost}"),
                None => lost,
            })
        }
    };
    let run = Run {
        log: kept.then(|| log.display().to_string()),
        accel: Some(spec.accel.as_str().to_string()),
        detail,
        boot_seconds: obs.repro_start_seconds.map(round3),
        iterations: obs.iterations,
        exit_status: obs.test_exit,
        warnings: run_warnings(&obs, limits),
        guest_missing: obs.guest_missing.clone(),
        class: d.class,
        seconds: round3(obs.seconds),
        ..base.blank(i, d.outcome)
    };
    (run, host_lost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kvm_counts_only_when_the_kernel_itself_printed() {
        let decompressor = b"early console in extract_kernel\ninput_data: 0x00000000129132a3\n\nDecompressing Linux... ";
        assert!(!kernel_started(decompressor));
        assert!(!kernel_started(b""));
        let kernel = b"Decompressing Linux... Parsing ELF... done.\nBooting the kernel.\n[    0.000000][    T0] Linux version 9.9.9-kbisect (kbisect@kbisect) #1\n";
        assert!(kernel_started(kernel));
    }

    #[test]
    fn same_bug_is_always_written_with_targets() {
        let base = RunBase {
            commit: "a".repeat(40),
            signature: None,
            revert: None,
            config_id: None,
            repro_32bit: false,
        };
        let ok = base.blank(0, Outcome::Ok);
        assert!(!base.ran(&ok, false).contains_key("same_bug"));
        assert_eq!(base.ran(&ok, true)["same_bug"], serde_json::Value::Null);
        let mut crashed = base.blank(1, Outcome::Crashed);
        crashed.class.same_bug = Some(false);
        assert_eq!(base.ran(&crashed, true)["same_bug"], false);
    }

    #[test]
    fn a_repro_directory_is_named_as_one() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            repro_problem(dir.path()).as_deref(),
            Some("is a directory, not a reproducer file")
        );
        assert_eq!(
            repro_problem(&dir.path().join("gone.c")).as_deref(),
            Some("no such file")
        );
        let file = dir.path().join("r.c");
        std::fs::write(&file, "int main(void) { return 0; }\n").unwrap();
        assert_eq!(repro_problem(&file), None);
    }

    #[test]
    fn heartbeat_is_inside_the_silence_limit() {
        assert_eq!(heartbeat_seconds(Duration::from_secs(60)), 10);
        assert_eq!(heartbeat_seconds(Duration::from_secs(6)), 2);
        assert_eq!(heartbeat_seconds(Duration::from_secs(1)), 1);
    }

    fn test_config(dir: &Path) -> Config {
        Config {
            repro: None,
            runs: 8,
            jobs: 1,
            hosts: vec![],
            ssh_config: None,
            targets: vec![],
            bug: BugKind::Crash,
            guest: vm::GuestAsk {
                mem_mb: Some(64),
                boot: Some(Duration::from_secs(1)),
                no_output: Some(Duration::from_secs(1)),
            },
            timeout_run: Duration::from_secs(1),
            smp: 1,
            accel: AccelChoice::Tcg,
            tcg_thread: vm::TcgThreadChoice::Auto,
            cmdline: vec![],
            sysctls: vec![],
            sysctl_warnings: vec![],
            qemu: dir.join("no-qemu"),
            busybox: dir.join("no-busybox"),
            cc: "false".into(),
            log_dir: dir.join("logs"),
            guest_cache: dir.join("guests"),
            kvm_memo_dir: None,
        }
    }

    /// Run ktest over `input` (no VM is ever started: every record is bad
    /// or not a build); returns the exit status and the records written.
    fn run_over(input: &str) -> (i32, Vec<Object>) {
        let dir = tempfile::tempdir().unwrap();
        let out = Arc::new(Mutex::new(Writer::new(Vec::new())));
        let reader = Reader::new(std::io::Cursor::new(input.to_string()), "builds.jsonl");
        let status = run(test_config(dir.path()), reader, out.clone());
        let bytes = Arc::try_unwrap(out)
            .ok()
            .unwrap()
            .into_inner()
            .unwrap()
            .into_inner();
        let records = String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (status, records)
    }

    fn errors(records: &[Object]) -> Vec<&Object> {
        records.iter().filter(|r| r["kind"] == "error").collect()
    }

    #[test]
    fn bad_build_records_are_reported_and_exit_2() {
        let sha = "a".repeat(40);
        let input = format!(
            "{{\"kind\":\"build\",\"commit\":42,\"ok\":true,\"kernel\":\"k\"}}\n\
             {{\"kind\":\"build\",\"commit\":\"v6.2\",\"ok\":true,\"kernel\":\"k\"}}\n\
             {{\"kind\":\"build\",\"commit\":\"{sha}\",\"ok\":true,\"kernel\":42}}\n\
             {{\"kind\":\"build\",\"commit\":\"{sha}\",\"ok\":true}}\n\
             {{\"kind\":\"verdict\",\"commit\":\"{sha}\",\"verdict\":\"good\"}}\n"
        );
        let (status, records) = run_over(&input);
        assert_eq!(status, kbisect_records::EXIT_USAGE);
        let errs = errors(&records);
        assert_eq!(errs.len(), 4, "{records:?}");
        for (e, line) in errs.iter().zip(1..) {
            assert_eq!(e["error"], "bad_input");
            assert_eq!(e["file"], "builds.jsonl");
            assert_eq!(e["line"], line);
        }
        assert!(errs[0]["message"].as_str().unwrap().contains("`commit`"));
        assert!(errs[2]["message"].as_str().unwrap().contains("`kernel`"));
        // Every record is still echoed, the last one too.
        assert_eq!(records.last().unwrap()["kind"], "verdict");
    }

    #[test]
    fn bad_runs_is_named_bad_input_not_the_default() {
        let sha = "b".repeat(40);
        for runs in ["-1", "\"x\"", "1.5"] {
            let input = format!(
                "{{\"kind\":\"build\",\"commit\":\"{sha}\",\"ok\":true,\"kernel\":\"k\",\"runs\":{runs}}}\n"
            );
            let (status, records) = run_over(&input);
            assert_eq!(status, kbisect_records::EXIT_USAGE, "runs {runs}");
            let errs = errors(&records);
            assert_eq!(errs.len(), 1, "runs {runs}: {records:?}");
            let msg = errs[0]["message"].as_str().unwrap();
            assert!(msg.contains("field `runs`"), "{msg}");
            assert_eq!(errs[0]["line"], 1);
            assert!(!records.iter().any(|r| r["kind"] == "run"), "{records:?}");
        }
    }

    #[test]
    fn good_input_exits_0() {
        let input = "{\"kind\":\"next\",\"commit\":\"x\"}\n";
        let (status, records) = run_over(input);
        assert_eq!(status, kbisect_records::EXIT_OK);
        assert_eq!(records.len(), 1);
    }
}
