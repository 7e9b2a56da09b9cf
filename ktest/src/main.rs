//! Thin command-line front end for the `ktest` library.

use clap::Parser;
use kbisect_records::jsonl::{Reader, Writer};
use kbisect_records::BugKind;
use ktest::cli::{AccelArg, Args};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    let mut sysctl_warnings = Vec::new();
    for f in &args.sysctl_files {
        match ktest::sysctl::read(f) {
            Ok(parsed) => {
                for w in parsed.warnings() {
                    kbisect_records::say!("{}: warning: {w}", ktest::TOOL);
                }
                sysctl_warnings.extend(parsed.warnings());
                sysctls.extend(parsed.settings);
            }
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
    if args.check_args {
        std::process::exit(0);
    }
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
        guest: ktest::vm::GuestAsk {
            mem_mb: args.mem.map(|m| m.max(64)),
            boot: args.timeout_boot.map(|s| Duration::from_secs(s.max(1))),
            no_output: args
                .no_output_timeout
                .map(|s| Duration::from_secs(s.max(1))),
        },
        timeout_run: Duration::from_secs(args.timeout_run.max(1)),
        smp: args.smp.max(1),
        accel: match args.accel {
            AccelArg::Auto => ktest::AccelChoice::Auto,
            AccelArg::Kvm => ktest::AccelChoice::Kvm,
            AccelArg::Tcg => ktest::AccelChoice::Tcg,
        },
        tcg_thread: args.tcg_thread,
        cmdline,
        sysctls,
        sysctl_warnings,
        qemu,
        busybox: args.busybox.unwrap_or_else(ktest::guest::find_busybox),
        cc: args.cc,
        log_dir: args.log_dir.unwrap_or_else(|| cache.join("logs")),
        guest_cache: cache.join("ktest").join("guests"),
        kvm_memo_dir: Some(cache.join("ktest")),
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
        kbisect_records::say!("ktest: interrupted by signal {sig}; stopped {killed} process(es), removed temporary files");
        std::process::exit(130);
    }) {
        kbisect_records::exit_failure(ktest::TOOL, format!("cannot install signal handler: {e}"));
    }
    std::process::exit(ktest::run(cfg, Reader::stdin(), out));
}
