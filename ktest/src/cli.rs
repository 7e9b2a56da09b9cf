//! ktest's command line, defined once: parsed by the binary and read by
//! kbisect-docgen for the man page and shell completions.

use clap::{Parser, ValueEnum};
use kbisect_records::BugKind;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AccelArg {
    Auto,
    Kvm,
    Tcg,
}

pub fn after_help() -> String {
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
`kbisect.bug=` for the guest's /init, then --cmdline-file's and --cmdline's):
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
        crate::cmdline::help_text()
    )
}

/// Boot kernels in QEMU and run a reproducer in them, N times, in parallel.
#[derive(Debug, Parser)]
#[command(name = "ktest", version, after_help = after_help())]
pub struct Args {
    /// The reproducer: a C file (built with `gcc -static -O1`), a static
    /// binary, or a shell script. Without it the guest boots, runs the sanity
    /// test and idles for the run time.
    #[arg(long, value_name = "FILE")]
    pub repro: Option<PathBuf>,
    /// VM runs per build record that has no `runs` field.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub runs: u32,
    /// VMs running at a time (default: the number of cores), shared by the
    /// runs of every build record read so far.
    #[arg(long, value_name = "J")]
    pub jobs: Option<usize>,
    /// A test machine reached over ssh, `[user@]host[:port][/SLOTS]`
    /// (repeatable; 1 slot unless SLOTS).
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// A file of test machines, one `[user@]host[:port] [SLOTS]` per line.
    #[arg(long = "hosts", value_name = "FILE")]
    pub hosts_file: Option<PathBuf>,
    /// ssh configuration for the hosts (`ssh -F FILE`): identity, known
    /// hosts, user, jump hosts.
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// Probe every host (reachable? QEMU? KVM?), print one `host` record
    /// each and exit: 0 when all can run VMs, 1 when one does not answer,
    /// 2 when one answers but has no QEMU.
    #[arg(long)]
    pub check_hosts: bool,
    /// Check the arguments (reproducer, --sysctl and --cmdline-file files,
    /// hosts file) and exit: 0 when they are good (a sysctl file's skipped
    /// lines only warned of), 2 naming what is wrong.
    /// kbisect runs it before its first step, so that a bad file stops a
    /// bisection before anything is built.
    #[arg(long)]
    pub check_args: bool,
    /// Title of the bug looked for (repeatable): once a run shows it, runs
    /// not yet started are `skipped` and running ones are stopped.
    #[arg(long = "target", value_name = "TITLE")]
    pub targets: Vec<String>,
    /// What the bug is: crash (a crash after boot, default); boot (a boot
    /// failure: the guest boots, runs its sanity test and powers off, no
    /// --repro needed); exit (--repro is a test run once per VM, and its
    /// exit status decides as for git bisect run; `exit_status` in the record).
    #[arg(long, default_value = "crash", value_parser = BugKind::value_parser(), value_name = "KIND")]
    pub bug: BugKind,
    /// Seconds from VM start to the guest's booted mark [default: 120; 600
    /// for a kernel whose .config has CONFIG_KASAN=y or CONFIG_KMSAN=y].
    #[arg(long, value_name = "SECS")]
    pub timeout_boot: Option<u64>,
    /// Seconds the reproducer runs in each VM.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout_run: u64,
    /// Seconds of console silence that count as a hung machine ("no output
    /// from test machine") [default: 60; 300 for a kernel whose .config has
    /// CONFIG_KASAN=y or CONFIG_KMSAN=y].
    #[arg(long, value_name = "SECS")]
    pub no_output_timeout: Option<u64>,
    /// Guest memory in MiB [default: 512; 2048 for a kernel whose .config
    /// has CONFIG_KASAN=y or CONFIG_KMSAN=y, as syzbot's VMs for them].
    #[arg(long, value_name = "MIB")]
    pub mem: Option<u32>,
    /// Guest CPUs.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub smp: u32,
    /// Accelerator: auto boots a KVM probe and falls back to TCG when the
    /// kernel does not start; the answer is kept for the host's boot (per
    /// host, in $KBISECT_CACHE/ktest/kvm-probe-*.json; delete it to probe
    /// again).
    #[arg(long, value_enum, default_value = "auto")]
    pub accel: AccelArg,
    /// How TCG runs the guest's vCPUs: multi (a host thread each, faster),
    /// single (one thread in turn), or auto: single when the build record's
    /// .config has CONFIG_KFENCE_STATIC_KEYS=y and --smp is over 1, since
    /// KFENCE re-patches its allocation hooks ten times a second and
    /// multi-threaded TCG can run them half patched (false int3 traps in
    /// kmem_cache_alloc, as with syzbot's configs).
    #[arg(long, value_enum, default_value = "auto", value_name = "MODE")]
    pub tcg_thread: crate::vm::TcgThreadChoice,
    /// Extra kernel command-line arguments (appended; repeatable).
    #[arg(long, value_name = "ARGS")]
    pub cmdline: Vec<String>,
    /// Kernel command-line arguments read from a file, such as syzbot's
    /// `.cmdline` files (whitespace-separated, `#` comment lines; appended
    /// before --cmdline's; repeatable).
    #[arg(long, value_name = "FILE")]
    pub cmdline_file: Vec<PathBuf>,
    /// Sysctls the guest sets before the reproducer: a file of `name =
    /// value` lines, as syzbot's `.sysctl` files and sysctl.conf
    /// (repeatable). A sysctl the kernel lacks or refuses, or a line that
    /// is no setting (skipped, named by file and line), is a warning in
    /// every run record, not a failed run.
    #[arg(long = "sysctl", value_name = "FILE")]
    pub sysctl_files: Vec<PathBuf>,
    /// QEMU binary [env: KBISECT_QEMU; default qemu-system-x86_64].
    #[arg(long, value_name = "PATH")]
    pub qemu: Option<PathBuf>,
    /// Static busybox for the guest (default: /bin/busybox).
    #[arg(long, value_name = "PATH")]
    pub busybox: Option<PathBuf>,
    /// C compiler for the reproducer and the sanity test.
    #[arg(long, default_value = "gcc", value_name = "CC")]
    pub cc: String,
    /// Where console logs are kept [default: $KBISECT_CACHE/logs].
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
}
