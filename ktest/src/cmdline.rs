//! The guest kernel command line, modelled on syzbot's: every argument with
//! the reason it is there (shown by `ktest --help` and in docs/protocol.md).

use kbisect_records::BugKind;

/// The fixed arguments and why each one is there.
pub const KERNEL_ARGS: &[(&str, &str)] = &[
    (
        "console=ttyS0",
        "kernel messages go to the first serial port, which is ktest's pipe",
    ),
    (
        "earlyprintk=serial",
        "crashes before the console driver is up still reach the log",
    ),
    (
        "oops=panic",
        "an oops ends the machine: one report per run, no cascading damage",
    ),
    (
        "panic_on_warn=1",
        "a WARNING is a bug (as on syzbot), so it is reported and ends the run",
    ),
    (
        "panic=-1",
        "reboot at once after a panic; with QEMU -no-reboot that ends QEMU",
    ),
    (
        "nmi_watchdog=panic",
        "a hard lockup panics instead of hanging silently",
    ),
    (
        "softlockup_panic=1",
        "a soft lockup panics, giving a report rather than a timeout",
    ),
    (
        "hung_task_panic=1",
        "a task stuck in D state panics with its stack",
    ),
    (
        "watchdog_thresh=55",
        "TCG is slow: syzbot's long lockup threshold avoids false lockups",
    ),
    (
        "rcupdate.rcu_cpu_stall_timeout=100",
        "slow emulation must not look like an RCU stall",
    ),
    (
        "printk.devkmsg=on",
        "userspace messages to /dev/kmsg are not rate-limited away",
    ),
    (
        "no_hash_pointers",
        "real addresses in reports (as syzbot); this is a throwaway test VM",
    ),
];

/// The full command line: fixed arguments, the guest's settings
/// (`kbisect.*`, read by `/init`), then the user's `--cmdline` (last, so
/// it can override).
pub fn build(
    run_seconds: u64,
    heartbeat_seconds: u64,
    probe: bool,
    bug: BugKind,
    extra: &[String],
) -> String {
    let mut parts: Vec<String> = KERNEL_ARGS.iter().map(|(a, _)| a.to_string()).collect();
    parts.push(format!("kbisect.run_seconds={run_seconds}"));
    parts.push(format!("kbisect.heartbeat={heartbeat_seconds}"));
    // The guest's /init stops after its sanity test for a boot bug, and runs
    // the reproducer once as a test for an exit bug.
    if !bug.is_default() {
        parts.push(format!("kbisect.bug={bug}"));
    }
    if probe {
        parts.push("kbisect.probe=1".into());
    }
    parts.extend(extra.iter().filter(|s| !s.trim().is_empty()).cloned());
    parts.join(" ")
}

/// The arguments in a command-line file (`--cmdline-file`, e.g. syzbot's
/// `.cmdline` files): whitespace-separated words, lines starting with `#`
/// skipped. A quoted value (`foo="a b"`) stays one argument, as the kernel
/// parses it. The error names the file.
pub fn read_file(path: &std::path::Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut args = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut word = String::new();
        let mut quoted = false;
        for c in line.chars() {
            match c {
                '"' => {
                    quoted = !quoted;
                    word.push(c);
                }
                c if c.is_whitespace() && !quoted => {
                    if !word.is_empty() {
                        args.push(std::mem::take(&mut word));
                    }
                }
                c => word.push(c),
            }
        }
        if quoted {
            return Err(format!(
                "{}:{}: a quote is not closed (the kernel would read the rest of the line as one value)",
                path.display(),
                i + 1
            ));
        }
        if !word.is_empty() {
            args.push(word);
        }
    }
    Ok(args)
}

/// The argument table as text for `--help`.
pub fn help_text() -> String {
    let width = KERNEL_ARGS.iter().map(|(a, _)| a.len()).max().unwrap_or(0);
    KERNEL_ARGS
        .iter()
        .map(|(a, why)| format!("  {a:width$}  {why}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_comes_last() {
        let c = build(30, 10, false, BugKind::Crash, &["foo=bar".into()]);
        assert!(c.starts_with("console=ttyS0 "));
        assert!(c.ends_with("kbisect.run_seconds=30 kbisect.heartbeat=10 foo=bar"));
        assert!(build(1, 1, true, BugKind::Crash, &[]).contains("kbisect.probe=1"));
        assert!(!c.contains("kbisect.bug"));
        let e = build(30, 10, false, BugKind::Exit, &[]);
        assert!(e.ends_with("kbisect.heartbeat=10 kbisect.bug=exit"));
        assert!(build(30, 10, false, BugKind::Boot, &[]).contains("kbisect.bug=boot"));
    }

    #[test]
    fn a_cmdline_file_gives_its_words() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("upstream.cmdline");
        std::fs::write(
            &f,
            "# syzbot\nearlyprintk=serial  net.ifnames=0\n\tfoo=\"a b\" panic_on_warn=1\n",
        )
        .unwrap();
        assert_eq!(
            read_file(&f).unwrap(),
            [
                "earlyprintk=serial",
                "net.ifnames=0",
                "foo=\"a b\"",
                "panic_on_warn=1"
            ]
        );
        std::fs::write(&f, "ok=1\nbad=\"open\n").unwrap();
        assert!(read_file(&f).unwrap_err().ends_with(
            ":2: a quote is not closed (the kernel would read the rest of the line as one value)"
        ));
        assert!(read_file(&dir.path().join("none")).is_err());
    }
}
