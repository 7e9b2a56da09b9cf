//! The guilty file: the kernel source file a crash is blamed on.
//!
//! syzbot mails a crash (before any bisection) to the maintainers of one
//! source file, the "guilty file" its report parser picks; crashclass gives
//! the same answer so a crash record says which subsystem it belongs to
//! (`get_maintainer.pl -f FILE`). A crash report names many files (the reporting machinery,
//! inline helpers from headers, allocators, locking, the scheduler, syscall
//! entry…) and only a few of them hold the bug. The rules, measured against
//! the shared corpus (`crash-corpus/guilty`, see `tests/guilty.rs`):
//!
//! - Read the `path/file.c:123` locations of the extracted report from the
//!   top: the report's own first line, the `RIP:`/`pc :` line, the frames,
//!   in printed order.
//! - Skip generic infrastructure ([`is_infrastructure`]) and lines that
//!   describe state rather than the failing path (irq-flag tracing, locks
//!   already held, ARM's register notes).
//! - The first remaining file is the suspect; a caller further down that
//!   sits one directory below the suspect's replaces it (`net/socket.c`
//!   called from `net/tipc/topsrv.c` blames TIPC, not sockets).
//! - When every file is infrastructure the first one is still the best
//!   guess; a report with no source location at all (unsymbolized) has no
//!   guilty file.
//! - RCU stall reports print the stall detector's own stack first, so they
//!   are searched from the interrupt entry below which the stalled code is.

use regex::Regex;
use std::sync::OnceLock;

/// Source locations: a relative or absolute path ending in `.c` or `.h`,
/// followed by `:line`.
fn location_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"([A-Za-z0-9_./\-]*[A-Za-z0-9_\-]+\.[ch]):[0-9]+").expect("location regex")
    })
}

/// Files that report, wrap or dispatch rather than hold bugs. Each pattern
/// is matched against the whole cleaned path.
fn infrastructure() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let groups: &[&str] = &[
            // Headers: inline wrappers (spinlocks, refcounts, lists, atomics,
            // instrumented accessors, …) expanded into the caller.
            r".*\.h",
            // Library code: dump_stack, bug, refcount, list debugging,
            // string and format helpers, ubsan, iov_iter, …
            r"lib/.*",
            r"virt/lib/.*",
            // Sanitizer and coverage runtimes.
            r"mm/kasan/.*",
            r"mm/kmsan/.*",
            r"mm/kfence/.*",
            r"kernel/kcsan/.*",
            r"kernel/kcov\.c",
            // Allocators and generic memory management entry points.
            r"mm/sl[aou]b(_common)?\.c",
            r"mm/memory\.c",
            r"mm/percpu.*",
            r"mm/vmalloc\.c",
            r"mm/page_alloc\.c",
            r"mm/mempool\.c",
            r"mm/util\.c",
            // The page cache's waiting and truncation paths, which every
            // filesystem calls into (hung tasks wait there).
            r"mm/filemap\.c",
            r"mm/truncate\.c",
            // Faults, traps and stack unwinding on every architecture.
            r"arch/[^/]+/kernel/traps\.c",
            r"arch/[^/]+/kernel/unwind[^/]*\.c",
            r"arch/[^/]+/kernel/stacktrace\.c",
            r"arch/[^/]+/mm/fault\.c",
            r"arch/[^/]+/mm/physaddr\.c",
            r"kernel/stacktrace\.c",
            // Exception and syscall entry, context switching, and arch
            // library routines (string, checksum, crc copies).
            r"arch/[^/]+/entry/.*",
            r"arch/[^/]+/kernel/entry[^/]*\.c",
            r"arch/[^/]+/kernel/process[^/]*\.c",
            r"arch/[^/]+/lib/.*",
            // Locking, RCU, scheduling, timers, deferred work, panics, printk.
            r"kernel/locking/.*",
            r"kernel/rcu/.*",
            r"kernel/sched/.*",
            r"kernel/panic\.c",
            r"kernel/printk/.*",
            r"kernel/softirq\.c",
            r"kernel/kthread\.c",
            r"kernel/time/timer\.c",
            r"kernel/workqueue\.c",
            // Generic networking and procfs plumbing every caller goes through.
            r"net/core/dev\.c",
            r"net/core/sock\.c",
            r"net/core/skbuff\.c",
            r"fs/proc/generic\.c",
            // USB request submission: its warnings are the caller's misuse.
            r"drivers/usb/core/urb\.c",
            // Trusty (Android) sources live outside the kernel tree.
            r"trusty/.*",
        ];
        Regex::new(&format!("^(?:{})$", groups.join("|"))).expect("infrastructure regex")
    })
}

/// Lines whose locations describe state rather than the failing path: the
/// irq-flag tracing lines, the locks a task already holds in a lockdep
/// list, and ARM's per-register notes on where memory was allocated.
fn state_line_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?:hard|soft)irqs last +(?:en|dis)abled at",
            r"|^\s*#[0-9]+: ",
            r"|^\s*Register r[0-9]+ information:",
        ))
        .expect("state line regex")
    })
}

/// Where the stalled code's stack starts in an RCU stall report.
/// Older x86 kernels print the timer interrupt's entry frame, newer ones
/// the `asm_sysvec_` stub followed by the interrupted `RIP:`; arm prints an
/// exception stack dump or the el1 irq vector.
const STALL_ENTRIES: &[&str] = &[
    " apic_timer_interrupt+0x",
    "asm_sysvec_apic_timer_interrupt+0x",
    "Exception stack",
    "el1h_64_irq+0x",
];

/// `a/./b//c` → `a/b/c`, `x/../y` → `y`, a leading `./` dropped.
pub(crate) fn clean(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Is `path` (cleaned) generic infrastructure rather than a suspect?
pub fn is_infrastructure(path: &str) -> bool {
    infrastructure().is_match(path)
}

/// The source files named in `text`, in order, each with whether its line
/// is a state line (see [`state_line_re`]).
fn locations(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let state = state_line_re().is_match(line);
        for c in location_re().captures_iter(line) {
            let f = clean(&c[1]);
            if !f.is_empty() {
                out.push((f, state));
            }
        }
    }
    out
}

/// The directory of a path, `""` for a bare file name.
fn dir(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// Is `file` in a direct subdirectory of `base_dir`? `sound/core/oss/pcm_oss.c`
/// is one level below `sound/core`; `sound/core/pcm_lib.c` (same directory)
/// and `sound/core/seq/oss/x.c` (two levels) are not.
fn one_below(file: &str, base_dir: &str) -> bool {
    if base_dir.is_empty() {
        return false;
    }
    file.strip_prefix(base_dir)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|rest| rest.matches('/').count() == 1)
}

/// The first suspect among `locs`; then, further down the stack, a caller
/// one directory below the suspect's directory replaces it (repeatedly) (a generic
/// layer such as `net/socket.c` or `fs/inode.c` called from the specific
/// protocol or filesystem below it: `net/tipc/topsrv.c`, `fs/ntfs/super.c`).
fn suspect(locs: &[(String, bool)]) -> Option<String> {
    let candidates = locs
        .iter()
        .filter(|(f, state)| !state && !is_infrastructure(f))
        .map(|(f, _)| f);
    let mut guilty: Option<&String> = None;
    for f in candidates {
        match guilty {
            None => guilty = Some(f),
            Some(g) if one_below(f, dir(g)) => guilty = Some(f),
            Some(_) => {}
        }
    }
    guilty.cloned()
}

/// The guilty file of a report's text (the extracted report, without the
/// context lines printed before it): the first source file named that is
/// not infrastructure, or a caller of it in a deeper directory of the same
/// subsystem; failing that the first file named at all; None when no
/// `file.c:line` location appears (an unsymbolized report).
pub fn guilty_file(report: &str) -> Option<String> {
    if let Some(f) = suspect(&locations(failing_part(report))) {
        return Some(f);
    }
    let locs = locations(report);
    suspect(&locs).or_else(|| locs.into_iter().next().map(|(f, _)| f))
}

/// The failing stack's part of a report. It comes first; KASAN's
/// allocation and free stacks after it name where memory came from, not
/// what went wrong, so a deeper caller there must not take the blame.
pub(crate) fn failing_part(report: &str) -> &str {
    SIDE_STACKS
        .iter()
        .filter_map(|m| report.find(m))
        .min()
        .map_or(report, |end| &report[..end])
}

/// Where the failing stack of a memory-error report ends.
const SIDE_STACKS: [&str; 4] = [
    "\nAllocated by task ",
    "\nFreed by task ",
    "\nThe buggy address belongs to",
    "\nLast potentially related work creation",
];

/// [`guilty_file`] knowing the report's title: an RCU stall is searched from
/// the interrupt that caught the stalled code, as the stall detector's own
/// frames come first.
pub fn guilty_file_titled(title: &str, report: &str) -> Option<String> {
    if title.starts_with("INFO: rcu detected stall") {
        for entry in STALL_ENTRIES {
            if let Some(at) = report.find(entry) {
                if let Some(f) = suspect(&locations(&report[at..])) {
                    return Some(f);
                }
            }
        }
    }
    guilty_file(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_reporting_and_helpers() {
        let report = "\
BUG: KASAN: use-after-free in ip6_finish_output2+0x11ab/0x1340 include/linux/skbuff.h:2124
Call Trace:
 __dump_stack lib/dump_stack.c:17 [inline]
 dump_stack+0x194/0x257 lib/dump_stack.c:53
 kasan_report+0x23b/0x360 mm/kasan/report.c:409
 spin_lock include/linux/spinlock.h:354 [inline]
 ip6_finish_output2+0x11ab/0x1340 net/ipv6/ip6_output.c:121
 rawv6_sendmsg net/ipv6/raw.c:613 [inline]
";
        assert_eq!(
            guilty_file(report).as_deref(),
            Some("net/ipv6/ip6_output.c")
        );
    }

    #[test]
    fn rip_line_counts() {
        let report = "general protection fault: 0000 [#1] SMP KASAN\n\
            RIP: 0010:d_revalidate+0x2f/0x330 fs/namei.c:765\n\
            Call Trace:\n lookup_fast+0x1a/0x30 fs/namei.c:1573\n";
        assert_eq!(guilty_file(report).as_deref(), Some("fs/namei.c"));
    }

    #[test]
    fn header_line_names_the_file() {
        let report = "WARNING: CPU: 0 PID: 1 at net/llc/llc_sap.c:90 llc_sap_close+0x1f/0x30\n";
        assert_eq!(guilty_file(report).as_deref(), Some("net/llc/llc_sap.c"));
    }

    #[test]
    fn only_infrastructure_gives_the_first_file() {
        let report = "at: spin_lock include/linux/spinlock.h:354 [inline]\n\
            at: deactivate_slab+0x2a8/0x558 mm/slub.c:2244\n";
        assert_eq!(
            guilty_file(report).as_deref(),
            Some("include/linux/spinlock.h")
        );
    }

    #[test]
    fn unsymbolized_has_none() {
        let report = "WARNING: possible circular locking dependency detected\n\
            lock_acquire+0x20b/0x600\n ext4_evict_inode+0x53d/0x1230\n";
        assert_eq!(guilty_file(report), None);
    }

    #[test]
    fn allocation_stacks_do_not_take_the_blame() {
        let r = "BUG: KASAN: use-after-free in foo_read+0x1/0x2 fs/foo.c:10\n\
                 Call Trace:\n foo_read+0x1/0x2 fs/foo.c:10\n vfs_read+0x1/0x2 fs/read_write.c:5\n\
                 \nAllocated by task 1:\n bar_alloc+0x1/0x2 fs/foo/bar.c:3\n";
        assert_eq!(guilty_file(r).as_deref(), Some("fs/foo.c"));
    }

    #[test]
    fn a_caller_one_directory_deeper_wins() {
        let report = "RIP: 0010:kernel_accept+0x22d/0x350 net/socket.c:3487\n\
            tipc_topsrv_accept+0x197/0x280 net/tipc/topsrv.c:460\n\
            tipc_conn_recv+0x1/0x2 net/tipc/socket.c:1\n\
            process_one_work+0x991/0x1610 kernel/workqueue.c:2289\n";
        assert_eq!(guilty_file(report).as_deref(), Some("net/tipc/topsrv.c"));
        assert!(!one_below("fs/ntfs3/super.c", "fs/ntfs"));
        assert!(!one_below("sound/core/seq/oss/x.c", "sound/core"));
    }

    #[test]
    fn state_lines_are_not_suspects() {
        let report = "BUG: sleeping function called from invalid context at kernel/locking/spinlock_rt.c:248\n\
            #0: ffff888 (&sb->s_type->i_mutex_key){+.+.}-{4:4}, at: f+0x1/0x2 fs/libfs.c:619\n\
            hardirqs last  enabled at (13271): [<ffffffff8b53b4b3>] g+0x23/0x50 net/core/filter.c:206\n\
            Register r4 information: vmalloc region allocated at h+0x9c/0x3d4 kernel/fork.c:2683\n\
            kvm_xen_set_evtchn_fast+0x1f4/0x990 arch/x86/kvm/xen.c:1829\n";
        assert_eq!(guilty_file(report).as_deref(), Some("arch/x86/kvm/xen.c"));
    }

    #[test]
    fn slab_common_and_paths_are_cleaned() {
        assert!(is_infrastructure("mm/slab_common.c"));
        assert!(is_infrastructure("include/linux/refcount.h"));
        assert!(!is_infrastructure("driver/foo/lib/foo.c"));
        assert_eq!(clean("./net/../fs//namei.c"), "fs/namei.c");
    }

    #[test]
    fn rcu_stall_starts_at_the_interrupt() {
        let report = [
            "INFO: rcu_sched self-detected stall on CPU",
            " rcu_check_callbacks+0x1/0x2 kernel/rcu/tree.c:2763",
            " trigger_load_balance+0x1/0x2 kernel/sched/fair.c:9",
            " update_process_times+0x30/0x60 kernel/time/timer.c:1",
            " smp_apic_timer_interrupt+0x1/0x2 arch/x86/kernel/apic/apic.c:1",
            " apic_timer_interrupt+0x1/0x2 arch/x86/entry/entry_64.S:1",
            " mulaw_decode+0x1/0x2 sound/core/oss/mulaw.c:1",
        ]
        .join("\n");
        let report = report.as_str();
        assert_eq!(
            guilty_file_titled("INFO: rcu detected stall in snd", report).as_deref(),
            Some("sound/core/oss/mulaw.c")
        );
        assert_eq!(
            guilty_file(report).as_deref(),
            Some("arch/x86/kernel/apic/apic.c")
        );
    }
}
