//! Thin command-line front end for the `ktest` library.

use clap::{Parser, ValueEnum};
use kbisect_records::jsonl::{Reader, Writer};
use kbisect_records::BugKind;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AccelArg {
    Auto,
    Kvm,
    Tcg,
}

fn after_help() -> String {
    format!(
        "\
Reads records on stdin. Each `build` record (ok:true, with `kernel`) is echoed,
then booted `runs` times (the record's `runs` field, else --runs); one `run`
record per VM run follows it: outcome ok | crashed | boot_failed | test_failed
| infra_error | skipped, crashclass's title and fields, the console log path,
the accelerator, seconds. Other records are echoed unchanged.

The guest is an initramfs with static busybox, a sanity test (fork, exec,
mmap, file write/read) and the reproducer, which runs in a loop for
--timeout-run seconds. Console logs are kept under --log-dir/<commit>/.

With --host (or --hosts FILE) VMs also run on other machines over ssh (key
authentication, no prompts): the kernel and guest image are copied once per
host, content-addressed under ~/.cache/kbisect-remote/ there, the console comes
back live and is logged here, and every run record names its `host` (`local`
or the host as given). All slots, here and remote, are filled together;
--jobs 0 runs nothing here. A host that cannot be reached or drops a run gives
an infra_error run naming it; the run goes to another slot and the host sits
out the rest of the round. A host without QEMU stops ktest at start (exit 2).

With --bug boot the guest powers off after its sanity test; with --bug exit
the reproducer runs once, to its end or --timeout-run, and the run record
carries its `exit_status` (absent when it was killed).

Kernel command line (then `kbisect.run_seconds=`, `kbisect.heartbeat=`,
`kbisect.bug=` for the guest's /init, then --cmdline):
{}

Examples:
  bisect-step --journal j.jsonl | kbuild --repo linux | ksig \\
      | ktest --repro repro.c --target 'WARNING in foo' | bisect-step --journal j.jsonl
  echo '{{\"kind\":\"build\",\"commit\":\"<40 hex>\",\"ok\":true,\"kernel\":\"bzImage\"}}' \\
      | ktest --repro repro.sh --runs 4 --jobs 2 --timeout-run 10
  ktest --hosts farm.txt --check-hosts      # one `host` record per host
  ... | ktest --repro repro.c --jobs 0 --host kb@box1:2222/4 --host box2/2 --ssh-config farm.ssh

Hosts file: one host per line, `[user@]host[:port] [SLOTS]` (default 1 slot),
`#` comments.",
        ktest::cmdline::help_text()
    )
}

/// Boot kernels in QEMU and run a reproducer in them, N times, in parallel.
#[derive(Debug, Parser)]
#[command(name = "ktest", version, after_help = after_help())]
struct Args {
    /// The reproducer: a C file (built with `gcc -static -O1`), a static
    /// binary, or a shell script. Without it the guest boots, runs the sanity
    /// test and idles for the run time.
    #[arg(long, value_name = "FILE")]
    repro: Option<PathBuf>,
    /// VM runs per build record that has no `runs` field.
    #[arg(long, default_value_t = 8, value_name = "N")]
    runs: u32,
    /// VMs running at a time (default: the number of cores), shared by the
    /// runs of every build record read so far.
    #[arg(long, value_name = "J")]
    jobs: Option<usize>,
    /// A test machine reached over ssh, `[user@]host[:port][/SLOTS]`
    /// (repeatable; 1 slot unless SLOTS).
    #[arg(long = "host", value_name = "HOST")]
    hosts: Vec<String>,
    /// A file of test machines, one `[user@]host[:port] [SLOTS]` per line.
    #[arg(long = "hosts", value_name = "FILE")]
    hosts_file: Option<PathBuf>,
    /// ssh configuration for the hosts (`ssh -F FILE`): identity, known
    /// hosts, user, jump hosts.
    #[arg(long, value_name = "FILE")]
    ssh_config: Option<PathBuf>,
    /// Probe every host (reachable? QEMU? KVM?), print one `host` record
    /// each and exit: 0 when all can run VMs, 1 when one does not answer,
    /// 2 when one answers but has no QEMU.
    #[arg(long)]
    check_hosts: bool,
    /// Title of the bug looked for (repeatable): once a run shows it, runs
    /// not yet started are `skipped` and running ones are stopped.
    #[arg(long = "target", value_name = "TITLE")]
    targets: Vec<String>,
    /// What the bug is: crash (a crash after boot, default); boot (a boot
    /// failure: the guest boots, runs its sanity test and powers off, no
    /// --repro needed); exit (--repro is a test run once per VM, and its
    /// exit status decides as for git bisect run; `exit_status` in the record).
    #[arg(long, default_value = "crash", value_parser = parse_bug, value_name = "KIND")]
    bug: BugKind,
    /// Seconds from VM start to the guest's booted mark.
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    timeout_boot: u64,
    /// Seconds the reproducer runs in each VM.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    timeout_run: u64,
    /// Seconds of console silence that count as a hung machine
    /// ("no output from test machine").
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    no_output_timeout: u64,
    /// Guest memory in MiB.
    #[arg(long, default_value_t = 512, value_name = "MIB")]
    mem: u32,
    /// Guest CPUs.
    #[arg(long, default_value_t = 2, value_name = "N")]
    smp: u32,
    /// Accelerator: auto probes KVM once and falls back to TCG.
    #[arg(long, value_enum, default_value = "auto")]
    accel: AccelArg,
    /// Extra kernel command-line arguments (appended; repeatable).
    #[arg(long, value_name = "ARGS")]
    cmdline: Vec<String>,
    /// Kernel command-line arguments read from a file, such as syzbot's
    /// `.cmdline` files (whitespace-separated, `#` comment lines; appended
    /// before --cmdline's; repeatable).
    #[arg(long, value_name = "FILE")]
    cmdline_file: Vec<PathBuf>,
    /// Sysctls the guest sets before the reproducer: a file of `name =
    /// value` lines, as syzbot's `.sysctl` files and sysctl.conf
    /// (repeatable). A sysctl the kernel lacks or refuses is a warning in
    /// the run record, not a failed run.
    #[arg(long = "sysctl", value_name = "FILE")]
    sysctl_files: Vec<PathBuf>,
    /// QEMU binary [env: KBISECT_QEMU; default qemu-system-x86_64].
    #[arg(long, value_name = "PATH")]
    qemu: Option<PathBuf>,
    /// Static busybox for the guest (default: /bin/busybox).
    #[arg(long, value_name = "PATH")]
    busybox: Option<PathBuf>,
    /// C compiler for the reproducer and the sanity test.
    #[arg(long, default_value = "gcc", value_name = "CC")]
    cc: String,
    /// Where console logs are kept [default: $KBISECT_CACHE/logs].
    #[arg(long, value_name = "DIR")]
    log_dir: Option<PathBuf>,
}

fn parse_bug(s: &str) -> Result<BugKind, String> {
    s.parse()
}

/// The hosts of `--host` and `--hosts FILE`, in that order.
fn hosts(
    given: &[String],
    file: Option<&std::path::Path>,
) -> Result<Vec<ktest::remote::HostSpec>, String> {
    let mut hosts = Vec::new();
    for h in given {
        hosts.push(ktest::remote::parse_host(h).map_err(|m| format!("--host {m}"))?);
    }
    if let Some(f) = file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("--hosts {}: cannot read: {e}", f.display()))?;
        let more = ktest::remote::parse_hosts_file(&text)
            .map_err(|(line, m)| format!("{}:{line}: {m}", f.display()))?;
        if more.is_empty() {
            return Err(format!("--hosts {}: no host in the file", f.display()));
        }
        hosts.extend(more);
    }
    Ok(hosts)
}

fn main() {
    let args = Args::parse();
    if args.bug == BugKind::Exit && args.repro.is_none() {
        kbisect_records::exit_usage(ktest::TOOL, "--bug exit needs --repro: the test to run");
    }
    if let Some(r) = &args.repro {
        if let Some(why) = ktest::repro_problem(r) {
            kbisect_records::exit_usage(ktest::TOOL, format!("--repro {}: {why}", r.display()));
        }
    }
    let hosts = hosts(&args.hosts, args.hosts_file.as_deref())
        .unwrap_or_else(|m| kbisect_records::exit_usage(ktest::TOOL, m));
    if args.jobs == Some(0) && hosts.is_empty() {
        kbisect_records::exit_usage(
            ktest::TOOL,
            "--jobs 0 runs no VM here: give --host or --hosts for the VMs to run on",
        );
    }
    if let Some(f) = &args.ssh_config {
        if !f.is_file() {
            kbisect_records::exit_usage(
                ktest::TOOL,
                format!("--ssh-config {}: no such file", f.display()),
            );
        }
    }
    let mut sysctls = Vec::new();
    for f in &args.sysctl_files {
        match ktest::sysctl::read(f) {
            Ok(s) => sysctls.extend(s),
            Err(e) => kbisect_records::exit_usage(ktest::TOOL, format!("--sysctl {e}")),
        }
    }
    let mut cmdline = Vec::new();
    for f in &args.cmdline_file {
        match ktest::cmdline::read_file(f) {
            Ok(args) => cmdline.extend(args),
            Err(e) => kbisect_records::exit_usage(ktest::TOOL, format!("--cmdline-file {e}")),
        }
    }
    cmdline.extend(args.cmdline);
    let cache = ktest::cache_root();
    let qemu = args
        .qemu
        .or_else(|| {
            std::env::var_os("KBISECT_QEMU")
                .filter(|q| !q.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("qemu-system-x86_64"));
    if args.check_hosts {
        let farm = ktest::farm::Farm::new(0, hosts, args.ssh_config);
        std::process::exit(ktest::print_host_checks(&farm, &qemu, Writer::stdout()));
    }
    let cfg = ktest::Config {
        repro: args.repro,
        runs: args.runs,
        jobs: args.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }),
        hosts,
        ssh_config: args.ssh_config,
        targets: args.targets,
        bug: args.bug,
        timeout_boot: Duration::from_secs(args.timeout_boot.max(1)),
        timeout_run: Duration::from_secs(args.timeout_run.max(1)),
        no_output_timeout: Duration::from_secs(args.no_output_timeout.max(1)),
        mem_mb: args.mem.max(64),
        smp: args.smp.max(1),
        accel: match args.accel {
            AccelArg::Auto => ktest::AccelChoice::Auto,
            AccelArg::Kvm => ktest::AccelChoice::Kvm,
            AccelArg::Tcg => ktest::AccelChoice::Tcg,
        },
        cmdline,
        sysctls,
        qemu,
        busybox: args.busybox.unwrap_or_else(ktest::guest::find_busybox),
        cc: args.cc,
        log_dir: args.log_dir.unwrap_or_else(|| cache.join("logs")),
        guest_cache: cache.join("ktest").join("guests"),
    };
    let out = Arc::new(Mutex::new(Writer::stdout()));
    let held = out.clone();
    if let Err(e) = ktest::procs::install_interrupt_handler(move |sig| {
        // Hold the output lock to the end: no record is cut in half. (Give
        // up after 2 s: a writer blocked on a full pipe must not keep
        // ktest, and its VMs, alive.)
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        let _guard = loop {
            match held.try_lock() {
                Ok(g) => break Some(g),
                Err(std::sync::TryLockError::Poisoned(e)) => break Some(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock)
                    if std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(std::sync::TryLockError::WouldBlock) => break None,
            }
        };
        let killed = ktest::procs::sweep();
        eprintln!("ktest: interrupted by signal {sig}; stopped {killed} process(es), removed temporary files");
        std::process::exit(130);
    }) {
        kbisect_records::exit_failure(ktest::TOOL, format!("cannot install signal handler: {e}"));
    }
    std::process::exit(ktest::run(cfg, Reader::stdin(), out));
}
