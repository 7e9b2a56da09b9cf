//! One QEMU run: start the VM, stream its serial console line by line into
//! the log file and the live crash detector, watch the guest's markers and
//! the clocks, and stop the VM as soon as there is nothing more to learn.
//!
//! This module only observes; `outcome` turns an [`Observation`] and the
//! crash classification into the run's outcome.

use crate::procs;
use crashclass::{LiveDetector, LiveState};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Every guest marker line contains this; see `guest/init.sh`.
pub const MARKER: &str = "@@kbisect@@ ";

/// How often the watcher wakes up to check clocks and the stop flag.
const TICK: Duration = Duration::from_millis(100);
/// A crash report that has started but not finished after this long is
/// taken as complete (the detector may not know the kernel's last line).
const REPORT_GRACE: Duration = Duration::from_secs(15);
/// Extra time after the run time for the guest to say "done".
const RUN_GRACE: Duration = Duration::from_secs(20);

/// The hardware accelerator QEMU uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    pub fn as_str(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// How TCG runs a guest's vCPUs (`--tcg-thread`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcgThreads {
    /// A host thread per vCPU (QEMU's default): faster.
    Multi,
    /// One host thread running the vCPUs in turn: a vCPU never runs code
    /// another is patching.
    Single,
}

/// What the user asked of `--tcg-thread` (its clap values, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TcgThreadChoice {
    /// Single for a kernel that re-patches hot code while it runs.
    Auto,
    Single,
    Multi,
}

/// The first of `options` (whole lines, `CONFIG_X=y`) that the .config
/// text `config` has; None when it has none or is not known. Every
/// per-kernel choice of ktest asks its .config through this.
fn config_sets<'o>(config: Option<&str>, options: &[&'o str]) -> Option<&'o str> {
    let config = config?;
    config
        .lines()
        .map(str::trim)
        .find_map(|l| options.iter().find(|o| **o == l).copied())
}

/// The option of a kernel's .config that makes multi-threaded TCG unsafe.
pub const REPATCHING_OPTION: &str = "CONFIG_KFENCE_STATIC_KEYS=y";

/// How TCG should run `smp` vCPUs of the kernel built with `config` (the
/// .config's text; None when the build record names none), and why it is
/// single when `auto` chose it. KFENCE's static key flips its hook in every
/// slab allocation ten times a second; multi-threaded TCG lets the other
/// vCPU run a copy of the code translated while the patch was half done, and
/// the kernel dies of a breakpoint it no longer knows (an int3 trap in
/// kmem_cache_alloc, seen at every boot of syzbot's 6.1 config with two
/// vCPUs). One thread keeps the patch and the execution in order.
pub fn tcg_threads(
    choice: TcgThreadChoice,
    smp: u32,
    config: Option<&str>,
) -> (TcgThreads, Option<String>) {
    match choice {
        TcgThreadChoice::Single => (TcgThreads::Single, None),
        TcgThreadChoice::Multi => (TcgThreads::Multi, None),
        TcgThreadChoice::Auto => {
            let repatches = config_sets(config, &[REPATCHING_OPTION]).is_some();
            if smp > 1 && repatches {
                let why = format!(
                    "{REPATCHING_OPTION}: KFENCE re-patches code while it runs, which multi-threaded TCG can run half patched"
                );
                (TcgThreads::Single, Some(why))
            } else {
                (TcgThreads::Multi, None)
            }
        }
    }
}

/// Guest memory when `--mem` does not say: what ktest gives any kernel.
pub const DEFAULT_MEM_MB: u32 = 512;

/// Seconds from VM start to the booted mark when `--timeout-boot` does not
/// say: enough for an ordinary kernel under TCG.
pub const DEFAULT_BOOT_SECONDS: u64 = 120;

/// Guest memory for a kernel whose .config has a memory sanitizer. syzbot
/// runs those in VMs of 2 GiB or more: the sanitizer's shadow takes an
/// eighth of memory (KMSAN's, twice all of it) and such a kernel is large
/// (syzbot's 6.1 KASAN kernel: 150 MB of code, 120 MB of bss; in 512 MiB
/// it dies "System is deadlocked on memory" before init runs).
pub const SANITIZER_MEM_MB: u32 = 2048;

/// The boot time allowed a sanitizer kernel: every memory access checked,
/// lockdep and debug objects with it; syzbot's 6.1 KASAN kernel reaches the
/// reproducer in 101 s under TCG alone, 130–135 s with a second VM beside
/// it, past [`DEFAULT_BOOT_SECONDS`].
pub const SANITIZER_BOOT_SECONDS: u64 = 600;

/// Console silence that counts as a hung machine when
/// `--no-output-timeout` does not say.
pub const DEFAULT_NO_OUTPUT_SECONDS: u64 = 60;

/// The silence allowed a sanitizer kernel, syzbot's own no-output timeout:
/// under TCG such a kernel's initcalls can be quiet for over a minute
/// (syzbot's 6.1 KASAN kernel, after `loop: module loaded`, with two VMs
/// on two cores), which is slowness, not a hang.
pub const SANITIZER_NO_OUTPUT_SECONDS: u64 = 300;

/// The options of a .config that make a kernel a sanitizer kernel.
pub const SANITIZER_OPTIONS: &[&str] = &["CONFIG_KASAN=y", "CONFIG_KMSAN=y"];

/// What the user asked of every guest (`--mem`, `--timeout-boot`,
/// `--no-output-timeout`); None: the kernel's config decides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuestAsk {
    pub mem_mb: Option<u32>,
    pub boot: Option<Duration>,
    pub no_output: Option<Duration>,
}

/// What a guest gets: memory, boot time, silence allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestSize {
    pub mem_mb: u32,
    pub boot: Duration,
    pub no_output: Duration,
    /// Why the kernel's config chose what the user did not.
    pub why: Option<String>,
}

/// The guest for a kernel built with `config` (the .config's text; None
/// when the build record names none): what the user asked where it asked,
/// else the SANITIZER_ sizes for a sanitizer kernel and the DEFAULT_ ones
/// for any other.
pub fn guest_size(asked: GuestAsk, config: Option<&str>) -> GuestSize {
    let sanitizer = config_sets(config, SANITIZER_OPTIONS);
    let (mem, boot, no_output) = match sanitizer {
        Some(_) => (
            SANITIZER_MEM_MB,
            SANITIZER_BOOT_SECONDS,
            SANITIZER_NO_OUTPUT_SECONDS,
        ),
        None => (
            DEFAULT_MEM_MB,
            DEFAULT_BOOT_SECONDS,
            DEFAULT_NO_OUTPUT_SECONDS,
        ),
    };
    let all_asked = asked.mem_mb.is_some() && asked.boot.is_some() && asked.no_output.is_some();
    let mem_mb = asked.mem_mb.unwrap_or(mem);
    let boot = asked.boot.unwrap_or(Duration::from_secs(boot));
    let no_output = asked.no_output.unwrap_or(Duration::from_secs(no_output));
    // The line names what the guest gets, the user's part included, so a
    // partly asked size is not reported as the sanitizer's.
    let why = sanitizer.filter(|_| !all_asked).map(|option| {
        format!(
            "{option}: a sanitizer kernel gets {mem_mb} MiB, {} s to boot and {} s of silence, as on syzbot (--mem, --timeout-boot, --no-output-timeout to change)",
            boot.as_secs(),
            no_output.as_secs()
        )
    });
    GuestSize {
        mem_mb,
        boot,
        no_output,
        why,
    }
}

/// What to boot and how.
#[derive(Debug, Clone)]
pub struct VmSpec {
    pub qemu: PathBuf,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    /// The whole kernel command line.
    pub cmdline: String,
    pub mem_mb: u32,
    pub smp: u32,
    pub accel: Accel,
    /// Under TCG: one host thread per vCPU or one for all.
    pub tcg_threads: TcgThreads,
    /// Boot on this host over ssh (`kernel` and `initrd` are then paths
    /// there); None: here.
    pub ssh: Option<crate::remote::Ssh>,
}

impl VmSpec {
    /// QEMU's arguments (without the program).
    pub fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec![
            // No default devices (VGA, NIC, floppy, monitor): faster boots,
            // and the serial console is the only output.
            "-nodefaults".into(),
            "-no-user-config".into(),
            "-display".into(),
            "none".into(),
            // A guest reboot (panic=-1 reboots at once) ends QEMU.
            "-no-reboot".into(),
            "-accel".into(),
            match (self.accel, self.tcg_threads) {
                (Accel::Tcg, TcgThreads::Single) => "tcg,thread=single".into(),
                (accel, _) => accel.as_str().into(),
            },
        ];
        if self.accel == Accel::Kvm {
            a.extend(["-cpu".into(), "host".into()]);
        }
        a.extend([
            "-m".into(),
            format!("{}M", self.mem_mb),
            "-smp".into(),
            self.smp.to_string(),
            "-kernel".into(),
            self.kernel.display().to_string(),
            "-initrd".into(),
            self.initrd.display().to_string(),
            "-append".into(),
            self.cmdline.clone(),
            // The first serial port (ttyS0) is QEMU's stdout: our pipe.
            "-serial".into(),
            "stdio".into(),
        ]);
        a
    }
}

/// Time limits of one run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From start to the guest's "booted" marker.
    pub boot: Duration,
    /// How long the reproducer runs (the guest enforces it; the host
    /// allows [`RUN_GRACE`] more).
    pub run: Duration,
    /// Console silence that counts as a hung machine.
    pub no_output: Duration,
}

/// Why the watch ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// QEMU could not be started at all.
    SpawnFailed(String),
    /// The crash detector saw a complete report; the VM was stopped.
    ReportComplete,
    /// QEMU exited by itself (guest reboot or power-off, QEMU error).
    Exited,
    /// No "booted" marker within the boot limit.
    BootTimeout,
    /// The console was silent for the no-output limit.
    NoOutput,
    /// The guest did not finish within run time plus grace.
    RunTimeUp,
    /// The guest ran the reproducer for the run time and said "done".
    Done,
    /// The sanity test failed (text after the marker).
    SanityFailed(String),
    /// The reproducer could not be executed.
    ReproCannotRun(String),
    /// KVM probe boot reached its end.
    ProbeDone,
    /// The test (`--bug exit`) ran past the run time and was killed.
    TestTimedOut,
    /// Stopped on request (--target was seen in another run).
    Stopped,
}

/// Everything seen during one run.
#[derive(Debug, Clone)]
pub struct Observation {
    pub ending: Ending,
    /// Byte offset of the "booted" marker line in the log.
    pub booted_offset: Option<u64>,
    /// Seconds from QEMU start to the "booted" marker.
    pub boot_seconds: Option<f64>,
    /// Seconds from QEMU start to the reproducer's first start.
    pub repro_start_seconds: Option<f64>,
    /// Reproducer iterations the guest reported.
    pub iterations: Option<u64>,
    /// The test's exit status the guest reported (`--bug exit`).
    pub test_exit: Option<i32>,
    /// The run time the guest read from its command line (its "booted"
    /// marker says it): another value means ktest's arguments did not
    /// reach the kernel.
    pub guest_run_seconds: Option<u64>,
    /// What went wrong in the guest without failing the run: each sysctl
    /// the kernel did not take (`sysctl kernel.x: …`).
    pub warnings: Vec<String>,
    /// What the kernel lacks of the guest syzbot's VMs give (file systems
    /// such as `debugfs`, `real-root`, `loopback`), as the guest said.
    pub guest_missing: Vec<String>,
    /// Console bytes received.
    pub output_bytes: u64,
    /// QEMU's exit status, when it exited by itself.
    pub exit_status: Option<String>,
    /// Its exit code (ssh's, for a remote VM: 255 when the connection
    /// failed or dropped).
    pub exit_code: Option<i32>,
    /// True when QEMU exited by itself with status 0 (the guest reset or
    /// powered off; QEMU's own errors exit non-zero or by a signal).
    pub exit_success: bool,
    /// QEMU's stderr (trimmed to its last lines).
    pub qemu_stderr: String,
    /// Where the live detector stood at the end.
    pub live_state: LiveState,
    /// Wall seconds of the run.
    pub seconds: f64,
    /// The first error writing the console log (a full `--log-dir`): the
    /// log on disk is then short or empty.
    pub log_error: Option<String>,
}

impl Observation {
    fn new(ending: Ending) -> Self {
        Observation {
            ending,
            booted_offset: None,
            boot_seconds: None,
            repro_start_seconds: None,
            iterations: None,
            test_exit: None,
            guest_run_seconds: None,
            warnings: Vec::new(),
            guest_missing: Vec::new(),
            output_bytes: 0,
            exit_status: None,
            exit_code: None,
            exit_success: false,
            qemu_stderr: String::new(),
            live_state: LiveState::Quiet,
            seconds: 0.0,
            log_error: None,
        }
    }
}

enum Event {
    /// A complete console line (without its newline) at this byte offset.
    Line(u64, Vec<u8>),
    /// Bytes of a line not yet complete.
    Partial,
    /// The console pipe closed.
    Eof,
}

/// Boot `spec`, saving the console to `log_path`; `stderr_path` receives
/// QEMU's own messages. `stop` asks the run to end early unless a crash
/// report is being printed.
pub fn run(
    spec: &VmSpec,
    limits: Limits,
    log_path: &Path,
    stderr_path: &Path,
    stop: &AtomicBool,
) -> Observation {
    let started = Instant::now();
    let mut obs = watch(spec, limits, log_path, stderr_path, stop, started);
    obs.qemu_stderr = std::fs::read(stderr_path)
        .map(|b| tail_lines(&String::from_utf8_lossy(&b), 20))
        .unwrap_or_default();
    obs.seconds = started.elapsed().as_secs_f64();
    obs
}

fn watch(
    spec: &VmSpec,
    limits: Limits,
    log_path: &Path,
    stderr_path: &Path,
    stop: &AtomicBool,
    started: Instant,
) -> Observation {
    let log = match File::create(log_path) {
        Ok(f) => f,
        Err(e) => {
            return Observation::new(Ending::SpawnFailed(format!(
                "cannot create log {}: {e}",
                log_path.display()
            )))
        }
    };
    // A remote VM runs until ssh's stdin closes (see remote::Ssh::vm_cmd):
    // its write end is held here until the VM is stopped.
    let (stdin, _hold_open) = match &spec.ssh {
        None => (None, None),
        Some(_) => match os_pipe::pipe() {
            Ok((r, w)) => (Some(r), Some(w)),
            Err(e) => {
                return Observation::new(Ending::SpawnFailed(format!("cannot make a pipe: {e}")))
            }
        },
    };
    let base = match &spec.ssh {
        // An OsString (not a Path) so that a bare name is looked up in PATH.
        None => duct::cmd(spec.qemu.as_os_str().to_owned(), spec.args()),
        Some(ssh) => ssh.vm_cmd(&spec.qemu.to_string_lossy(), &spec.args()),
    };
    let base = match stdin {
        Some(r) => base.stdin_file(r),
        None => base.stdin_null(),
    };
    let expr = base
        .before_spawn(|cmd| {
            procs::own_process_group(cmd);
            die_with_parent(cmd);
            Ok(())
        })
        .stderr_path(stderr_path)
        .unchecked();
    let (qemu, _registered) = match procs::start_reader(&expr) {
        Ok(r) => r,
        Err(e) => {
            let what = match &spec.ssh {
                None => spec.qemu.display().to_string(),
                Some(_) => "ssh".to_string(),
            };
            return Observation::new(Ending::SpawnFailed(format!("cannot start {what}: {e}")));
        }
    };

    let (tx, rx) = mpsc::channel::<Event>();
    let reader = qemu.clone();
    let pump = std::thread::spawn(move || pump_console(&*reader, log, tx));

    let mut obs = Observation::new(Ending::Exited);
    let mut detector = LiveDetector::new();
    let mut state = LiveState::Quiet;
    let mut last_output = Instant::now();
    let mut booted_at: Option<Instant> = None;
    let mut report_started_at: Option<Instant> = None;
    let ending = loop {
        match rx.recv_timeout(TICK) {
            Ok(Event::Line(offset, line)) => {
                last_output = Instant::now();
                obs.output_bytes = offset + line.len() as u64 + 1;
                state = detector.feed_line(&line);
                match state {
                    LiveState::ReportComplete => break Ending::ReportComplete,
                    // Markers printed while a report is being printed
                    // cannot end the run: the report wins.
                    LiveState::ReportStarted => {
                        report_started_at.get_or_insert_with(Instant::now);
                    }
                    LiveState::Quiet => {
                        if let Some(word) = marker_word(&line) {
                            let elapsed = started.elapsed().as_secs_f64();
                            if let Some(ending) =
                                guest_marker(&mut obs, &word, offset, elapsed, &mut booted_at)
                            {
                                break ending;
                            }
                        }
                    }
                }
                // Every line falls through to the limits below: a guest
                // that floods the console must still time out.
            }
            Ok(Event::Partial) => last_output = Instant::now(),
            Ok(Event::Eof) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                state = detector.finish();
                break Ending::Exited;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let clock = Clock {
            started,
            last_output,
            booted_at,
            report_started_at,
        };
        if let Some(ending) = clock.ending(limits, stop) {
            break ending;
        }
    };

    // Stop the VM if it is still running, then let the pump drain the pipe.
    let exited_by_itself = matches!(qemu.try_wait(), Ok(Some(_)));
    if !exited_by_itself {
        // The whole group: a wrapper script's children must not keep the
        // console pipe open.
        procs::kill_groups(&qemu.pids());
        let _ = qemu.kill();
    }
    obs.log_error = pump.join().ok().flatten();
    // Lines the pump sent after we stopped listening still count as output.
    while let Ok(ev) = rx.try_recv() {
        if let Event::Line(offset, line) = ev {
            obs.output_bytes = offset + line.len() as u64 + 1;
            if state != LiveState::ReportComplete {
                state = detector.feed_line(&line);
            }
        }
    }
    if ending == Ending::Exited || exited_by_itself {
        if let Ok(Some(out)) = qemu.try_wait() {
            obs.exit_status = Some(out.status.to_string());
            obs.exit_code = out.status.code();
            obs.exit_success = out.status.success();
        }
    }
    obs.live_state = state;
    obs.ending = ending;
    obs
}

/// Copy the console to the log as it comes and cut it into lines for the
/// watcher. Returns the first error writing the log.
fn pump_console(mut console: impl Read, mut log: File, tx: mpsc::Sender<Event>) -> Option<String> {
    let mut buf = [0u8; 8192];
    let mut line = Vec::new();
    let mut offset = 0u64;
    let mut line_start = 0u64;
    let mut log_error: Option<String> = None;
    loop {
        let n = match console.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Err(e) = log.write_all(&buf[..n]) {
            log_error.get_or_insert_with(|| e.to_string());
        }
        let mut partial = false;
        for &b in &buf[..n] {
            offset += 1;
            if b == b'\n' {
                let mut l = std::mem::take(&mut line);
                if l.last() == Some(&b'\r') {
                    l.pop();
                }
                if tx.send(Event::Line(line_start, l)).is_err() {
                    return log_error;
                }
                line_start = offset;
                partial = false;
            } else {
                line.push(b);
                partial = true;
            }
        }
        if partial && tx.send(Event::Partial).is_err() {
            return log_error;
        }
    }
    if !line.is_empty() {
        let _ = tx.send(Event::Line(line_start, line));
    }
    if let Err(e) = log.flush() {
        log_error.get_or_insert_with(|| e.to_string());
    }
    let _ = tx.send(Event::Eof);
    log_error
}

/// The WORD of a guest marker line (`@@kbisect@@ WORD`), if it is one.
fn marker_word(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let pos = text.find(MARKER)?;
    Some(text[pos + MARKER.len()..].trim().to_string())
}

/// Take in the guest marker `word`, from the line at byte `offset`,
/// `elapsed` seconds after QEMU started; the run's ending when the marker
/// ends it.
fn guest_marker(
    obs: &mut Observation,
    word: &str,
    offset: u64,
    elapsed: f64,
    booted_at: &mut Option<Instant>,
) -> Option<Ending> {
    if let Some(rest) = word.strip_prefix("booted") {
        if obs.booted_offset.is_none() {
            obs.booted_offset = Some(offset);
            obs.boot_seconds = Some(elapsed);
            *booted_at = Some(Instant::now());
            obs.guest_run_seconds = rest
                .trim()
                .strip_prefix("run_seconds=")
                .and_then(|n| n.parse().ok());
        }
    } else if let Some(name) = word.strip_prefix("sysctl-failed ") {
        obs.warnings.push(format!(
            "sysctl {}: not set (the kernel has no such sysctl, or refused the value)",
            name.trim()
        ));
    } else if let Some(rest) = word.strip_prefix("guest-missing:") {
        obs.guest_missing = rest.split_whitespace().map(str::to_string).collect();
    } else if word == "repro-start" {
        obs.repro_start_seconds.get_or_insert(elapsed);
    } else if word == "probe-done" {
        return Some(Ending::ProbeDone);
    } else if let Some(rest) = word.strip_prefix("sanity-failed") {
        return Some(Ending::SanityFailed(
            rest.trim_start_matches(':').trim().to_string(),
        ));
    } else if let Some(rest) = word.strip_prefix("repro-cannot-run") {
        return Some(Ending::ReproCannotRun(rest.trim().to_string()));
    } else if let Some(rest) = word.strip_prefix("exit status=") {
        // A status the guest cannot have printed is no status: no evidence.
        obs.test_exit = rest.trim().parse().ok();
        return Some(Ending::Done);
    } else if word == "timed-out" {
        return Some(Ending::TestTimedOut);
    } else if let Some(rest) = word.strip_prefix("done") {
        obs.iterations = rest
            .trim()
            .strip_prefix("iterations=")
            .and_then(|n| n.parse().ok());
        return Some(Ending::Done);
    }
    None
}

/// When things happened in a run, for its time limits.
struct Clock {
    started: Instant,
    last_output: Instant,
    booted_at: Option<Instant>,
    report_started_at: Option<Instant>,
}

impl Clock {
    /// The ending a limit (or a stop request) gives the run now, if any.
    /// A report being printed has its own grace and no other limit.
    fn ending(&self, limits: Limits, stop: &AtomicBool) -> Option<Ending> {
        let now = Instant::now();
        if let Some(t) = self.report_started_at {
            return (now - t > REPORT_GRACE).then_some(Ending::ReportComplete);
        }
        if stop.load(Ordering::Relaxed) {
            return Some(Ending::Stopped);
        }
        if now - self.last_output > limits.no_output {
            return Some(Ending::NoOutput);
        }
        match self.booted_at {
            None if now - self.started > limits.boot => Some(Ending::BootTimeout),
            Some(b) if now - b > limits.run + RUN_GRACE => Some(Ending::RunTimeUp),
            _ => None,
        }
    }
}

/// Have the kernel kill QEMU if the thread that started it goes away, so
/// that even a ktest killed with SIGKILL leaves no VM behind. (The worker
/// threads that start VMs outlive them, so this never fires early.)
fn die_with_parent(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            );
            Ok(())
        });
    }
}

/// The last `n` non-blank lines of `text`.
pub fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    //! The watcher against fake "QEMU"s: shell scripts that print a canned
    //! console, so every ending is checked without booting a kernel.
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn fake_qemu(dir: &Path, body: &str) -> PathBuf {
        let p = dir.join("fake-qemu");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn watch_fake(body: &str, no_output: u64, stop: bool) -> (Observation, String) {
        let limits = Limits {
            boot: Duration::from_secs(20),
            run: Duration::from_secs(20),
            no_output: Duration::from_secs(no_output),
        };
        watch_fake_within(body, limits, stop)
    }

    /// A VM whose "QEMU" is the shell script `body`.
    fn fake_spec(dir: &Path, body: &str) -> VmSpec {
        VmSpec {
            qemu: fake_qemu(dir, body),
            kernel: "k".into(),
            initrd: "i".into(),
            cmdline: String::new(),
            mem_mb: 64,
            smp: 1,
            accel: Accel::Tcg,
            tcg_threads: TcgThreads::Multi,
            ssh: None,
        }
    }

    fn watch_fake_within(body: &str, limits: Limits, stop: bool) -> (Observation, String) {
        let d = tempfile::tempdir().unwrap();
        let spec = fake_spec(d.path(), body);
        let log = d.path().join("log");
        let obs = run(
            &spec,
            limits,
            &log,
            &d.path().join("err"),
            &AtomicBool::new(stop),
        );
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        (obs, text)
    }

    #[test]
    fn guest_that_finishes() {
        let (obs, log) = watch_fake(
            "echo 'Linux version 6.1'; echo '@@kbisect@@ booted'; echo '@@kbisect@@ sanity-ok'\n\
             echo '@@kbisect@@ repro-start'; echo '@@kbisect@@ done iterations=7'; sleep 30",
            10,
            false,
        );
        assert_eq!(obs.ending, Ending::Done);
        assert_eq!(obs.iterations, Some(7));
        assert_eq!(obs.booted_offset, Some("Linux version 6.1\n".len() as u64));
        assert!(obs.repro_start_seconds.is_some());
        assert!(obs.seconds < 10.0, "killed at once, not after the sleep");
        assert!(log.contains("done iterations=7"));
    }

    /// A console that never stops talking must not hold off the limits.
    #[test]
    fn a_flooding_guest_still_times_out() {
        let flood = "while :; do echo 'random: crng init chatter'; done";
        let limits = Limits {
            boot: Duration::from_secs(2),
            run: Duration::from_secs(2),
            no_output: Duration::from_secs(10),
        };
        let (obs, _) = watch_fake_within(flood, limits, false);
        assert_eq!(obs.ending, Ending::BootTimeout);
        assert!(obs.seconds < 8.0, "{}", obs.seconds);
        let (obs, _) = watch_fake_within(flood, limits, true);
        assert_eq!(obs.ending, Ending::Stopped);
    }

    #[test]
    fn silence_after_boot() {
        let (obs, _) = watch_fake("echo '@@kbisect@@ booted'; sleep 30", 1, false);
        assert_eq!(obs.ending, Ending::NoOutput);
        assert!(obs.booted_offset.is_some());
        assert!(obs.seconds < 5.0);
    }

    #[test]
    fn qemu_that_refuses_to_start() {
        let (obs, _) = watch_fake("echo 'qemu: could not load kernel' >&2; exit 1", 10, false);
        assert_eq!(obs.ending, Ending::Exited);
        assert_eq!(obs.output_bytes, 0);
        assert!(obs.qemu_stderr.contains("could not load kernel"));
        assert!(obs.exit_status.unwrap().contains('1'));
    }

    #[test]
    fn the_guest_s_settings_warnings_and_gaps_are_kept() {
        let (obs, _) = watch_fake(
            "echo '@@kbisect@@ booted run_seconds=7'; echo '@@kbisect@@ sanity-ok'\n\
             echo '@@kbisect@@ sysctl-failed kernel.no_such'; echo '@@kbisect@@ guest-missing: debugfs loopback'\n\
             echo '@@kbisect@@ repro-start'; echo '@@kbisect@@ done iterations=1'; sleep 30",
            10,
            false,
        );
        assert_eq!(obs.ending, Ending::Done);
        assert_eq!(obs.guest_run_seconds, Some(7));
        assert_eq!(obs.guest_missing, ["debugfs", "loopback"]);
        assert_eq!(obs.warnings.len(), 1);
        assert!(obs.warnings[0].starts_with("sysctl kernel.no_such: not set"));
    }

    #[test]
    fn guest_words_end_the_watch() {
        let (obs, _) = watch_fake(
            "echo '@@kbisect@@ booted'; echo '@@kbisect@@ sanity-failed: fork: EAGAIN'; sleep 30",
            10,
            false,
        );
        assert_eq!(obs.ending, Ending::SanityFailed("fork: EAGAIN".into()));
        let (obs, _) = watch_fake(
            "echo '@@kbisect@@ booted'; echo '@@kbisect@@ repro-cannot-run rc=127'; sleep 30",
            10,
            false,
        );
        assert_eq!(obs.ending, Ending::ReproCannotRun("rc=127".into()));
        let (obs, _) = watch_fake(
            "echo '@@kbisect@@ booted'; echo '@@kbisect@@ exit status=3'; sleep 30",
            10,
            false,
        );
        assert_eq!((obs.ending, obs.test_exit), (Ending::Done, Some(3)));
        let (obs, _) = watch_fake(
            "echo '@@kbisect@@ booted'; echo '@@kbisect@@ timed-out'; sleep 30",
            10,
            false,
        );
        assert_eq!((obs.ending, obs.test_exit), (Ending::TestTimedOut, None));
    }

    #[test]
    fn complete_report_stops_the_vm() {
        let report = [
            "@@kbisect@@ booted",
            "@@kbisect@@ repro-start",
            "------------[ cut here ]------------",
            "WARNING: CPU: 0 PID: 35 at kernel/sys.c:2400 demo_fn+0x7/0xe",
            "Modules linked in:",
            "CPU: 0 PID: 35 Comm: repro Not tainted 6.1.0 #1",
            "RIP: 0010:demo_fn+0x7/0xe",
            "Call Trace:",
            " <TASK>",
            " __do_sys_prctl+0x20/0x400",
            " do_syscall_64+0x35/0x80",
            " entry_SYSCALL_64_after_hwframe+0x63/0xcd",
            " </TASK>",
            "Kernel panic - not syncing: panic_on_warn set ...",
            "---[ end Kernel panic - not syncing: panic_on_warn set ... ]---",
        ];
        let body = report
            .iter()
            .map(|l| format!("echo '{l}'"))
            .collect::<Vec<_>>()
            .join("\n");
        let (obs, _) = watch_fake(&format!("{body}\nsleep 30"), 20, false);
        assert_eq!(obs.ending, Ending::ReportComplete);
        assert!(obs.seconds < REPORT_GRACE.as_secs_f64(), "{obs:?}");
    }

    #[test]
    fn stop_request() {
        let (obs, _) = watch_fake("echo '@@kbisect@@ booted'; sleep 30", 10, true);
        assert_eq!(obs.ending, Ending::Stopped);
    }

    #[test]
    fn qemu_args_are_a_vector() {
        let spec = VmSpec {
            qemu: "q".into(),
            kernel: "/k with space".into(),
            initrd: "/i".into(),
            cmdline: "console=ttyS0 panic=-1".into(),
            mem_mb: 256,
            smp: 2,
            accel: Accel::Kvm,
            tcg_threads: TcgThreads::Multi,
            ssh: None,
        };
        let a = spec.args();
        let at = |flag: &str| a[a.iter().position(|x| x == flag).unwrap() + 1].clone();
        assert_eq!(at("-kernel"), "/k with space");
        assert_eq!(at("-append"), "console=ttyS0 panic=-1");
        assert_eq!(at("-accel"), "kvm");
        assert_eq!(at("-cpu"), "host");
        assert_eq!(at("-m"), "256M");
        assert!(a.contains(&"-no-reboot".to_string()));
        let tcg = |threads| {
            let a = VmSpec {
                accel: Accel::Tcg,
                tcg_threads: threads,
                ..spec.clone()
            }
            .args();
            (
                a[a.iter().position(|x| x == "-accel").unwrap() + 1].clone(),
                a.contains(&"-cpu".to_string()),
            )
        };
        assert_eq!(
            tcg(TcgThreads::Single),
            ("tcg,thread=single".to_string(), false)
        );
        assert_eq!(tcg(TcgThreads::Multi), ("tcg".to_string(), false));
        // Under KVM the choice is TCG's only.
        let a = VmSpec {
            tcg_threads: TcgThreads::Single,
            ..spec
        }
        .args();
        assert!(a.windows(2).any(|w| w == ["-accel", "kvm"]));
    }

    #[test]
    fn a_sanitizer_kernel_gets_the_guest_syzbot_gives_it() {
        let kasan = "CONFIG_KASAN=y\nCONFIG_KASAN_GENERIC=y\n";
        let plain = "# CONFIG_KASAN is not set\nCONFIG_KASAN_SHADOW_OFFSET=0xdffffc0000000000\n";
        let none = GuestAsk::default();
        let g = guest_size(none, Some(kasan));
        assert_eq!(g.mem_mb, SANITIZER_MEM_MB);
        assert_eq!(g.boot, Duration::from_secs(SANITIZER_BOOT_SECONDS));
        assert_eq!(
            g.no_output,
            Duration::from_secs(SANITIZER_NO_OUTPUT_SECONDS)
        );
        assert!(g.why.unwrap().contains("CONFIG_KASAN=y"));
        let ordinary = GuestSize {
            mem_mb: DEFAULT_MEM_MB,
            boot: Duration::from_secs(DEFAULT_BOOT_SECONDS),
            no_output: Duration::from_secs(DEFAULT_NO_OUTPUT_SECONDS),
            why: None,
        };
        assert_eq!(guest_size(none, Some(plain)), ordinary);
        assert_eq!(guest_size(none, None), ordinary);
        // What the user asks holds for any kernel.
        let all = GuestAsk {
            mem_mb: Some(768),
            boot: Some(Duration::from_secs(30)),
            no_output: Some(Duration::from_secs(20)),
        };
        let g = guest_size(all, Some(kasan));
        assert_eq!(
            (g.mem_mb, g.boot.as_secs(), g.no_output.as_secs()),
            (768, 30, 20)
        );
        assert_eq!(g.why, None);
        let some = GuestAsk {
            mem_mb: Some(768),
            ..none
        };
        let g = guest_size(some, Some(kasan));
        assert_eq!((g.mem_mb, g.boot.as_secs()), (768, SANITIZER_BOOT_SECONDS));
        assert!(g.why.unwrap().contains("gets 768 MiB, 600 s to boot"));
    }

    #[test]
    fn tcg_runs_a_kernel_that_repatches_its_code_on_one_thread() {
        let syzbot = "CONFIG_KFENCE=y\nCONFIG_KFENCE_STATIC_KEYS=y\nCONFIG_KASAN=y\n";
        let plain = "CONFIG_KFENCE=y\n# CONFIG_KFENCE_STATIC_KEYS is not set\n";
        let auto = |smp, config| tcg_threads(TcgThreadChoice::Auto, smp, config);
        let (threads, why) = auto(2, Some(syzbot));
        assert_eq!(threads, TcgThreads::Single);
        assert!(why.unwrap().contains("CONFIG_KFENCE_STATIC_KEYS=y"));
        // One vCPU cannot race itself; a kernel without the option, or one
        // whose .config is unknown, keeps the faster threads.
        assert_eq!(auto(1, Some(syzbot)), (TcgThreads::Multi, None));
        assert_eq!(auto(2, Some(plain)), (TcgThreads::Multi, None));
        assert_eq!(auto(2, None), (TcgThreads::Multi, None));
        assert_eq!(
            tcg_threads(TcgThreadChoice::Multi, 2, Some(syzbot)),
            (TcgThreads::Multi, None)
        );
        assert_eq!(
            tcg_threads(TcgThreadChoice::Single, 1, None),
            (TcgThreads::Single, None)
        );
    }

    #[test]
    fn a_log_that_cannot_be_written_is_reported() {
        let full = Path::new("/dev/full");
        if std::fs::OpenOptions::new().write(true).open(full).is_err() {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let spec = fake_spec(
            d.path(),
            "echo 'Linux version 6.1'; echo '@@kbisect@@ booted'",
        );
        let limits = Limits {
            boot: Duration::from_secs(20),
            run: Duration::from_secs(20),
            no_output: Duration::from_secs(10),
        };
        let obs = run(
            &spec,
            limits,
            full,
            &d.path().join("err"),
            &AtomicBool::new(false),
        );
        assert!(obs.output_bytes > 0);
        let err = obs.log_error.expect("the write error is kept");
        assert!(err.contains("No space left"), "{err}");
    }
}
