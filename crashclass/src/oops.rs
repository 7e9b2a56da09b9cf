//! The table of kernel report formats: which console line starts a report
//! (the oops header), how each kind of report is titled, and which stack
//! frame names it.
//!
//! Titles follow the conventions syzbot uses, so that a title we compute can
//! be compared with the title a syzbot report carries. Each format is a
//! title regex (matched anywhere in the extracted report text), an optional
//! stricter report regex that supplies the arguments, a title template
//! (`{1}`, `{2}`… are the regex captures, then the extracted frames, in
//! order), alternative-title templates, and a stack rule saying where the
//! guilty frame is found and which helper functions to skip on the way.
//!
//! Patterns are written with a few placeholders expanded by [`expand`]:
//! `{{PC}}` (a `[<ffff…>]` program counter), `{{FUNC}}` (a function name
//! followed by `.` or `+`, captured), `{{SRC}}` (a `file.c:123` location,
//! captured) and `{{ADDR}}`.

use regex::bytes::Regex;
use std::sync::OnceLock;

/// How the guilty frame is chosen among the frames of a stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extractor {
    /// The first frame that is not skipped.
    First,
    /// Stalls and lockups: the frame just above a dispatch point (syscall
    /// entry, workqueue, timer…), because the top of a looping stack is random.
    Stall,
    /// Hung tasks: group waits on RCU / rtnl, else skip scheduler frames.
    HangTask,
}

/// One step of a stack rule.
pub(crate) enum Part {
    /// Advance to the first line matching this regex; its captures are frames.
    Re(Regex),
    /// Parse frames from here until the next stack starts.
    Trace,
}

/// Where the guilty frame is found.
pub(crate) struct StackFmt {
    pub parts: Vec<Part>,
    /// Tried when `parts` yields no frame.
    pub parts2: Vec<Part>,
    /// Global and format-specific helper functions to skip.
    pub skip: Regex,
    pub extractor: Extractor,
}

/// One way a report of an [`Oops`] kind can look.
pub(crate) struct Format {
    pub title: Regex,
    pub report: Option<Regex>,
    pub fmt: &'static str,
    pub alt: Vec<&'static str>,
    pub stack: Option<StackFmt>,
    /// The report legitimately has no stack trace.
    pub no_stack_trace: bool,
    /// Matching this format means the report is damaged.
    pub corrupted: bool,
}

/// A report kind, recognised by a literal header in a console line.
pub(crate) struct Oops {
    pub header: &'static str,
    pub formats: Vec<Format>,
    /// Lines that hold the header but start no report.
    pub suppress: Vec<Regex>,
}

/// Expand the placeholders and compile in byte mode without Unicode, so
/// that `.` matches any byte but a newline (logs are not always UTF-8).
pub(crate) fn expand(re: &str) -> Regex {
    let re = re
        .replace("{{ADDR}}", "0x[0-9a-f]+")
        .replace("{{PC}}", r"\[<?(?:0x)?[0-9a-f]+>?\]")
        .replace("{{FUNC}}", r"([a-zA-Z0-9_]+)(?:\.|\+)")
        .replace("{{SRC}}", r"([a-zA-Z0-9\-_/.]+\.[a-z]+:[0-9]+)");
    match Regex::new(&format!("(?-u){re}")) {
        Ok(r) => r,
        // The table is static; a bad pattern is a programming error caught by tests.
        Err(e) => panic!("bad built-in pattern {re:?}: {e}"),
    }
}

const RIP_FRAME: &str = r"(?:IP|NIP|pc |PC is at):? (?:(?:[0-9]+:)?(?:{{PC}} +){0,2}{{FUNC}}|(?:[0-9]+:)?0x[0-9a-f]+|(?:[0-9]+:)?{{PC}} +\[< *\(null\)>\] +\(null\)|[0-9]+: +\(null\))";
const CALL_TRACE: &str = r"(?:Call (?:T|t)race:)|(?:Backtrace:)";

/// Helper functions never named in a title: sanitizers, reporting
/// machinery, locking and string primitives, allocation wrappers, generic
/// device/workqueue teardown. Matched as regexes against frame names.
const GLOBAL_SKIP: &[&str] = &[
    "__sanitizer",
    "__asan",
    "kasan",
    "hwasan",
    "__msan",
    "kmsan",
    "kcsan_setup_watchpoint",
    "check_memory_region",
    "check_heap_object",
    "check_object",
    "read_word_at_a_time",
    "(read|write)_once_.*nocheck",
    "print_address_description",
    "panic",
    "invalid_op",
    "report_bug",
    "fixup_bug",
    "print_report",
    "print_usage_bug",
    "do_error",
    "_trap$|do_trap",
    "show_stack",
    "dump_stack",
    "walk_stack",
    "dump_backtrace",
    "warn_slowpath",
    "warn_alloc",
    "warn_bogus",
    "__warn",
    "alloc_page",
    "k?v?(?:m|z|c)alloc",
    "krealloc",
    "kmem_cache",
    "allocate_slab",
    "__alloc_frozen_pages_noprof",
    "folio_(?:alloc|unlock)",
    "filemap_alloc_folio",
    "__filemap_get_folio",
    "find_or_create_page",
    "do_read_cache_folio",
    "read_cache_page",
    "pagecache_get_page",
    "grab_cache_page_write_begin",
    "slab_",
    "debug_object",
    "timer_is_static_object",
    "work_is_static_object",
    "__might_fault",
    "print_unlock",
    "imbalance_bug",
    "lockdep",
    "bh_enable",
    "bh_disable",
    "perf_trace",
    "lock_acquire",
    "lock_release",
    "lock_class",
    "mark_lock",
    "(reacquire|mark)_held_locks",
    "raw_spin_rq",
    "spin_lock",
    "spin_trylock",
    "spin_unlock",
    "read_lock",
    "read_trylock",
    "write_lock",
    "write_trylock",
    "read_unlock",
    "write_unlock",
    "^down$",
    "down_read",
    "down_write",
    "down_read_trylock",
    "down_write_trylock",
    "down_trylock",
    "up_read",
    "up_write",
    "^mutex_",
    "^__mutex_",
    "^rt_mutex_",
    "owner_on_cpu",
    "osq_lock",
    "osq_unlock",
    "atomic(64)?_(dec|inc|read|set|or|xor|and|add|sub|fetch|xchg|cmpxchg|try)",
    "(set|clear|change|test)_bit",
    "__wake_up",
    "^refcount_",
    "^kref_",
    "ref_tracker",
    "seqprop_assert",
    "memcpy",
    "memcmp",
    "memset",
    "memchr",
    "memmove",
    "memdup",
    "strcmp",
    "strncmp",
    "strcpy",
    "strlcpy",
    "strncpy",
    "strscpy",
    "strlen",
    "strstr",
    "strnstr",
    "strnlen",
    "strchr",
    "strdup",
    "strndup",
    "copy_to_user",
    "copy_from_user",
    "copy_to_iter",
    "copy_from_iter",
    "copy_page_to_iter",
    "copy_page_from_iter",
    "copy_folio_to_iter",
    "^copyin$",
    "^copyout$",
    "put_user",
    "get_user",
    "might_fault",
    "might_sleep",
    "list_add",
    "list_del",
    "list_replace",
    "list_move",
    "list_splice",
    "^rb_",
    "^__rb_",
    "_indirect_thunk_",
    "string",
    "pointer",
    "snprintf",
    "scnprintf",
    "kasprintf",
    "kvasprintf",
    "printk",
    "va_format",
    "dev_info",
    "dev_notice",
    "dev_warn",
    "dev_err",
    "dev_alert",
    "dev_crit",
    "dev_emerg",
    "program_check_exception",
    "program_check_common",
    "del_timer",
    "flush_work",
    "__cancel_work_timer",
    "cancel_work_sync",
    "try_to_grab_pending",
    "flush_workqueue",
    "drain_workqueue",
    "destroy_workqueue",
    "queue_work",
    "finish_wait",
    "kthread_stop",
    "kobject_",
    "add_uevent_var",
    "get_device_parent",
    "device_add",
    "device_del",
    "device_unregister",
    "device_destroy",
    "device_release",
    "devres_release_all",
    "hwrng_unregister",
    "i2c_del_adapter",
    "__unregister_client",
    "device_for_each_child",
    "rollback_registered",
    "unregister_netdev",
    "sysfs_remove",
    "device_remove_file",
    "tty_unregister_device",
    "dummy_urb_enqueue",
    "usb_kill_urb",
    "usb_kill_anchored_urbs",
    "usb_control_msg",
    "usb_hcd_submit_urb",
    "usb_submit_urb",
    "^complete$",
    "wait_for_completion",
    "^kv?free$",
    "kfree_skb",
    "readb$",
    "readw$",
    "readl$",
    "readq$",
    "writeb$",
    "writew$",
    "writel$",
    "writeq$",
    "logic_in",
    "logic_out",
    r"^crc\d+",
    "crc_itu_t",
    "__might_resched",
    "assertfail",
    "^iput$",
    "^iput_final$",
    "^ihold$",
    "hex_dump_to_buffer",
    "print_hex_dump",
    "^klist_",
    "(trace|lockdep)_(hard|soft)irq",
    "^(un)?lock_page",
    "stack_trace_consume_entry",
    "arch_stack_walk",
    "stack_trace_save",
    "insert_work",
    "__queue_delayed_work",
    "queue_delayed_work_on",
    "ida_free",
    "do_(kernel|translation)_fault",
    "do_mem_abort",
    "el1_abort",
    "el1h_64_sync(?:_handler)?",
    "print_tainted",
    "xas_(?:start|load|find)",
    "find_lock_entries",
    "truncate_inode_pages_range",
    "__phys_addr",
    "__fortify_report",
    "cleanup_srcu_struct",
    "rhashtable_lookup",
    "extract_(user|iter)_to_sg",
    "drop_nlink",
    "^get_taint$",
    "^put_device$",
    "lock_timer_base",
    "__timer_delete_sync",
    "sk_stop_timer_sync",
    "__mod_timer",
    "fast_dput",
    "dput",
];

/// Syscall-entry prefixes that differ between architectures and kernel
/// versions; stripped so the same bug gets the same title everywhere.
pub(crate) const STRIP_FRAME_PREFIXES: &[&str] = &[
    "SYSC_",
    "SyS_",
    "sys_",
    "__x64_",
    "__ia32_",
    "__arm64_",
    "____sys_",
    "___sys_",
    "__sys_",
    "__se_",
    "__se_sys_",
    "__do_sys_",
    "compat_SYSC_",
    "compat_SyS_",
    "ksys_",
];

/// Functions that dispatch work: a stall is blamed on the frame just above one.
const STALL_ANCHORS: &[&str] = &[
    "process_one_work",
    "do_syscall_",
    "do_fast_syscall_",
    "sysenter_dispatch",
    "tracesys_phase2",
    "el0_svc_handler",
    "invoke_syscall",
    "ret_fast_syscall",
    "netif_receive_skb",
    "do_softirq",
    "call_timer_fn",
    "_run_timers",
    "run_timer_softirq",
    "hrtimer_run",
    "run_ksoftirqd",
    "smpboot_thread_fn",
    "^kthread$",
    "start_secondary",
    "cpu_startup_entry",
    "ret_from_fork",
    "vfs_write",
    "vfs_read",
    "vfs_iter_read",
    "vfs_iter_write",
    "do_iter_read",
    "do_iter_write",
    "call_read_iter",
    "call_write_iter",
    "new_sync_read",
    "new_sync_write",
    "vfs_ioctl",
    "ksys_ioctl",
    "compat_ioctl",
    "compat_sys_ioctl",
    "blkdev_driver_ioctl",
    "blkdev_ioctl",
    "^call_read_iter",
    "^call_write_iter",
    "do_iter_readv_writev",
    "^call_mmap",
    "mmap_region",
    "do_mmap",
    "do_dentry_open",
    "vfs_open",
    "^sock_sendmsg",
    "^sock_recvmsg",
    "^sock_release",
    "^__sock_release",
    "^setsockopt$",
    "kernel_setsockopt",
    "sock_common_setsockopt",
    "^listen$",
    "kernel_listen",
    "sk_common_release",
    "^sock_mmap",
    "^accept$",
    "kernel_accept",
    "^sock_do_ioctl",
    "^sock_ioctl",
    "^compat_sock_ioctl",
    "^nfnetlink_rcv_msg",
    "^rtnetlink_rcv_msg",
    "^netlink_dump",
    "^(sys_)?(socketpair|connect|ioctl)",
    "__do_fault",
    "do_page_fault",
    "^page_fault$",
    "__fput",
    "task_work_run",
    "exit_to_usermode",
    "smp_call_function",
    "tasklet_action",
    "tasklet_hi_action",
];

/// Shared regexes used outside the table.
pub(crate) struct Common {
    /// Lines that begin a new stack trace.
    pub stack_start: Vec<Regex>,
    /// Lines that are stack frames (captures: function names).
    pub frame: Vec<Regex>,
    /// Lines whose presence in a stack means fault-injection noise.
    pub corrupted_lines: Regex,
    pub stall_anchor: Regex,
    /// `[ 12.345678][ T123] ` console prefix (capture: caller context).
    pub console_prefix: Regex,
    pub task_context: Regex,
    pub cpu_context: Regex,
    pub questionable: Regex,
    /// Oops headers that do not start a second report inside a first.
    pub report_start_ignores: Vec<Regex>,
    /// The kernel's report of a user process killed by a fault
    /// (`traps: repro[1023] general protection fault ip:… sp:… error:0`,
    /// with or without `in LIB[…]`): never a kernel crash, whatever header
    /// it holds.
    pub user_fault: Regex,
    /// Whole-log patterns that mark a crash as known noise.
    pub suppressions: Regex,
    /// Title patterns that mean the title was garbled.
    pub corrupted_title: Regex,
    pub frame_in_title: Regex,
}

pub(crate) fn common() -> &'static Common {
    static C: OnceLock<Common> = OnceLock::new();
    C.get_or_init(|| Common {
        stack_start: [
            r"Call (?:T|t)race",
            r"Allocated:",
            r"Allocated by task [0-9]+:",
            r"Freed:",
            r"Freed by task [0-9]+:",
            r"[^k] backtrace(?: \(crc [[:xdigit:]]*\))?:",
            r"Backtrace:",
            r"Uninit was stored to memory at",
            r"status: [0-9a-f]{16} badaddr: [0-9a-f]{16} cause: [0-9a-f]{16}",
        ]
        .iter()
        .map(|s| expand(s))
        .collect(),
        frame: vec![
            expand(r"^ *(?:{{PC}} ){0,2}{{FUNC}}"),
            expand(r"^ *{{PC}} \(([a-zA-Z0-9_.]+)\) from {{PC}} \({{FUNC}}"),
        ],
        corrupted_lines: expand(
            r"^( \[<?(?:0x)?[0-9a-f]+>?\])? should_fail(slab)?(\.[a-z0-9.]+)?\+0x",
        ),
        stall_anchor: expand(&STALL_ANCHORS.join("|")),
        console_prefix: expand(
            r"^(?:\*\* [0-9]+ printk messages dropped \*\* )?(?:.* login: )?(?:<[0-9]+>)?\[ *[0-9]+\.[0-9]+\](\[ *(?:C|T)[0-9]+\])? ",
        ),
        task_context: expand(r"\[ *T[0-9]+\]"),
        cpu_context: expand(r"\[ *C[0-9]+\]"),
        questionable: expand(r"(\[<[0-9a-f]+>\])? \? "),
        report_start_ignores: [
            "invalid opcode: 0000",
            "Kernel panic - not syncing",
            "unregister_netdevice: waiting for",
            "PANIC: double fault",
            "Internal error:",
        ]
        .iter()
        .map(|s| expand(s))
        .collect(),
        // x86's show_signal() and its kin print "COMM[PID] WHAT ip:X sp:Y
        // error:Z"; no kernel oops header has that shape.
        user_fault: expand(r"\[[0-9]+\]:? .*\bip:[0-9a-f]+ sp:[0-9a-f]+ error:[0-9a-f]+"),
        suppressions: expand(
            &[
                r"panic: failed to start executor binary",
                r"panic: executor failed: pthread_create failed",
                r"panic: failed to create temp dir",
                r"fatal error: unexpected signal during runtime execution",
                r"signal SIGBUS: bus error",
                r"SYZFAIL: SIGBUS",
                r"Out of memory: Kill process .* \(syz-executor\)",
                r"Out of memory: Kill process .* \(sshd\)",
                r"Killed process .* \(syz-executor\)",
                r"Killed process .* \(sshd\)",
                r"lowmemorykiller: Killing 'syz-executor'",
                r"lowmemorykiller: Killing 'sshd'",
                r"INIT: PANIC: segmentation violation!",
                r"\*\*\* stack smashing detected \*\*\*: terminated",
                r"fatal error: runtime: out of memory",
                r"fatal error: runtime: cannot allocate memory",
                r"fatal error: out of memory",
                r"fatal error: newosproc",
                r"panic: .*cannot allocate memory",
            ]
            .join("|"),
        ),
        corrupted_title: expand(r"\[ *[0-9]+\.[0-9]+\]"),
        frame_in_title: expand(r".* in ((?:<[a-zA-Z0-9_: ]+>)?[a-zA-Z0-9_:]+)"),
    })
}

// ---- table builders -------------------------------------------------------

fn fmt(title: &str, fmt: &'static str) -> Format {
    Format {
        title: expand(title),
        report: None,
        fmt,
        alt: Vec::new(),
        stack: None,
        no_stack_trace: false,
        corrupted: false,
    }
}

impl Format {
    fn report(mut self, re: &str) -> Self {
        self.report = Some(expand(re));
        self
    }
    fn alt(mut self, alt: &'static str) -> Self {
        self.alt.push(alt);
        self
    }
    fn stack(mut self, s: StackFmt) -> Self {
        self.stack = Some(s);
        self
    }
    fn no_stack(mut self) -> Self {
        self.no_stack_trace = true;
        self
    }
    fn corrupted(mut self) -> Self {
        self.corrupted = true;
        self
    }
}

/// Stack rule builder: `S` for a regex part, `T` for a trace, `RIP` / `CT`
/// for the RIP line and the "Call Trace:" line.
enum P {
    S(&'static str),
    Rip,
    Ct,
    T,
}

fn parts(ps: &[P]) -> Vec<Part> {
    ps.iter()
        .map(|p| match p {
            P::S(s) => Part::Re(expand(s)),
            P::Rip => Part::Re(expand(RIP_FRAME)),
            P::Ct => Part::Re(expand(CALL_TRACE)),
            P::T => Part::Trace,
        })
        .collect()
}

fn skip_re(extra: &[&str]) -> Regex {
    let all: Vec<&str> = GLOBAL_SKIP.iter().chain(extra.iter()).copied().collect();
    expand(&all.join("|"))
}

struct SB {
    parts: Vec<Part>,
    parts2: Vec<Part>,
    skip: Vec<&'static str>,
    extractor: Extractor,
}

fn st(ps: &[P]) -> SB {
    SB {
        parts: parts(ps),
        parts2: Vec::new(),
        skip: Vec::new(),
        extractor: Extractor::First,
    }
}

impl SB {
    fn parts2(mut self, ps: &[P]) -> Self {
        self.parts2 = parts(ps);
        self
    }
    fn skip(mut self, s: &[&'static str]) -> Self {
        self.skip.extend_from_slice(s);
        self
    }
    fn ex(mut self, e: Extractor) -> Self {
        self.extractor = e;
        self
    }
    fn b(self) -> StackFmt {
        StackFmt {
            parts: self.parts,
            parts2: self.parts2,
            skip: skip_re(&self.skip),
            extractor: self.extractor,
        }
    }
}

/// WARNINGs: newer kernels trap, so the stack starts after the RIP line;
/// older kernels print a plain Call Trace.
fn warning_stack(skip: &[&'static str]) -> StackFmt {
    const RIP_OR_PPC: &str = "(?:RIPFRAME|--- interrupt: [0-9]+ at {{FUNC}})";
    let first = RIP_OR_PPC.replace("RIPFRAME", RIP_FRAME);
    StackFmt {
        parts: vec![Part::Re(expand(&first)), Part::Trace],
        parts2: parts(&[P::Ct, P::T]),
        skip: skip_re(skip),
        extractor: Extractor::First,
    }
}

fn oops(header: &'static str, formats: Vec<Format>, suppress: &[&str]) -> Oops {
    Oops {
        header,
        formats,
        suppress: suppress.iter().map(|s| expand(s)).collect(),
    }
}

pub(crate) fn table() -> &'static [Oops] {
    static T: OnceLock<Vec<Oops>> = OnceLock::new();
    T.get_or_init(build_table)
}

fn build_table() -> Vec<Oops> {
    use Extractor::*;
    use P::*;
    vec![
        oops(
            "BUG:",
            vec![
                fmt("BUG: KASAN:", "KASAN: {1} {3} in {4}")
                    .report(r"BUG: KASAN: ([a-z\-]+) in {{FUNC}}(?:.*\n)+?.*(Read|Write) (?:of size|at addr) (?:[0-9a-f]+)")
                    .alt("bad-access in {4}")
                    .stack(st(&[S(r"BUG: KASAN: (?:[a-z\-]+) in {{FUNC}}"), Ct, T])
                        .skip(&["kernel_fault", "tag_check", "mem_abort", "^el1_", "^el1h_"]).b()),
                fmt("BUG: KASAN:", "KASAN: invalid-free in {2}")
                    .report(r"BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in {{FUNC}}")
                    .alt("invalid-free in {2}")
                    .stack(st(&[S(r"BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in {{FUNC}}"), Ct, T])
                        .skip(&["slab_", "kfree", "vunmap", "vfree"]).b()),
                fmt(r"BUG: KASAN: ([a-z\-]+) on address(?:.*\n)+?.*(Read|Write) of size ([0-9]+)", "KASAN: {1} {2}"),
                fmt(r"BUG: KASAN: (.*)", "KASAN: {1}").corrupted(),
                fmt("BUG: KMSAN: kernel-usb-infoleak", "KMSAN: kernel-usb-infoleak in {2}")
                    .report("BUG: KMSAN: kernel-usb-infoleak in {{FUNC}}")
                    .alt("KMSAN origin in {3}")
                    .stack(st(&[T, S("(Local variable .* created at:|Uninit was created at:)"), T])
                        .skip(&["alloc_skb", "usb_submit_urb", "usb_start_wait_urb", "usb_bulk_msg", "usb_interrupt_msg", "usb_control_msg"]).b())
                    .no_stack(),
                fmt("BUG: KMSAN:", "KMSAN: {1} in {3}")
                    .report(r"BUG: KMSAN: ([a-z\-]+) in {{FUNC}}")
                    .alt("bad-access in {3}")
                    .stack(st(&[T, S("(Local variable .* created at:|Uninit was created at:)"), T])
                        .skip(&["alloc_skb", "netlink_ack", "netlink_rcv_skb", "_encrypt$", "^(?:crypto|cipher|drbg|rng)_"]).b())
                    .no_stack(),
                fmt("BUG: KCSAN: data-race", "KCSAN: {1}").report("BUG: KCSAN: (.*)").no_stack(),
                fmt("BUG: KCSAN:", "KCSAN: {1}").report("BUG: KCSAN: (.*)").no_stack(),
                fmt("BUG: KFENCE: (use-after-free|out-of-bounds) (read|write) in {{FUNC}}", "KFENCE: {1} {2} in {4}")
                    .alt("bad-access in {4}")
                    .stack(st(&[S(r"BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}"), T]).b()),
                fmt("BUG: KFENCE: invalid free in {{FUNC}}", "KFENCE: invalid free in {2}")
                    .alt("invalid-free in {2}")
                    .no_stack()
                    .stack(st(&[S(r"BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}"), T]).b()),
                fmt("BUG: KFENCE: invalid (read|write) in {{FUNC}}", "KFENCE: invalid {1} in {3}")
                    .alt("bad-access in {3}")
                    .stack(st(&[S(r"BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}"), T]).b()),
                fmt("BUG: KFENCE: memory corruption in {{FUNC}}", "KFENCE: memory corruption in {2}")
                    .no_stack()
                    .stack(st(&[S(r"BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}"), T]).b()),
                fmt("BUG: (?:unable to handle kernel paging request|unable to handle page fault for address|Unable to handle kernel data access)",
                    "BUG: unable to handle kernel paging request in {1}")
                    .alt("bad-access in {1}")
                    .stack(st(&[Rip, Ct, T]).b()),
                fmt("BUG: (?:unable to handle kernel NULL pointer dereference|kernel NULL pointer dereference|Kernel NULL pointer dereference)",
                    "BUG: unable to handle kernel NULL pointer dereference in {1}")
                    .alt("bad-access in {1}")
                    .stack(st(&[Rip, Ct, T]).b()),
                // The second half of this header is a separate printk and may be lost.
                fmt("BUG: (?:unable to handle kernel|Unable to handle kernel)", "BUG: unable to handle kernel").corrupted(),
                fmt("BUG: (spinlock|rwlock) (lockup suspected|already unlocked|recursion|cpu recursion|bad magic|wrong owner|wrong CPU|trylock failure on UP)",
                    "BUG: {1} {2} in {3}")
                    .stack(st(&[Ct, T]).skip(&["spin_", "_lock", "_unlock"]).b()),
                fmt("BUG: soft lockup", "BUG: soft lockup in {1}")
                    .alt("stall in {1}")
                    .stack(st(&[Rip, Ct, T]).ex(Stall).b()),
                fmt("BUG: .*still has locks held!", "BUG: still has locks held in {1}")
                    .report(r"BUG: .*still has locks held!(?:.*\n)+?.*{{PC}} +{{FUNC}}"),
                fmt("BUG: scheduling while atomic", "BUG: scheduling while atomic in {1}")
                    .stack(st(&[Ct, T]).skip(&["schedule"]).b()),
                fmt("BUG: lock held when returning to user space", "BUG: lock held when returning to user space in {1}")
                    .report(r"BUG: lock held when returning to user space(?:.*\n)+?.*leaving the kernel with locks still held(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}")
                    .no_stack(),
                fmt("BUG: bad unlock balance detected!", "BUG: bad unlock balance in {1}")
                    .stack(st(&[S("{{PC}} +{{FUNC}}"), Ct, T]).b()),
                fmt("BUG: held lock freed!", "BUG: held lock freed in {1}")
                    .report(r"BUG: held lock freed!(?:.*\n)+?.*{{PC}} +{{FUNC}}"),
                fmt("BUG: Bad rss-counter state", "BUG: Bad rss-counter state").no_stack(),
                fmt("BUG: non-zero nr_ptes on freeing mm", "BUG: non-zero nr_ptes on freeing mm").no_stack(),
                fmt("BUG: non-zero nr_pmds on freeing mm", "BUG: non-zero nr_pmds on freeing mm").no_stack(),
                // Block device and fs type would split one bug into many titles.
                fmt("BUG: Dentry .* still in use", "BUG: Dentry still in use in {1}")
                    .report(r"BUG: Dentry .* still in use \([0-9]+\) \[(unmount) of ([^\]]+)\]")
                    .alt("BUG: Dentry still in use [{1} of {2}]"),
                fmt("BUG: Bad page (state|cache)", "BUG: Bad page {1} in {2}")
                    .stack(st(&[S("page last allocated"), T])
                        .skip(&["(free|put|get|update|release)_page", "free_unref", "^_*folio", "truncate_inode_pages", "page_frag_free", "alloc", "vmap", "page_owner"]).b()),
                fmt("BUG: Bad page map", "BUG: Bad page map"),
                fmt("BUG: workqueue lockup", "BUG: workqueue lockup").no_stack(),
                fmt("BUG: sleeping function called from invalid context at (.*)", "BUG: sleeping function called from invalid context in {2}")
                    .stack(st(&[Ct, T]).b()),
                fmt(r"BUG: using ([a-z_]+)\(\) in preemptible", "BUG: using {1}() in preemptible code in {2}")
                    .stack(st(&[Ct, T]).skip(&["dump_stack", "preemption", "preempt", "debug_", "processor_id", "this_cpu"]).b()),
                fmt("BUG: workqueue leaked lock or atomic", "BUG: workqueue leaked lock or atomic in {1}")
                    .report(r"BUG: workqueue leaked lock or atomic(?:.*\n)+?.*last function: ([a-zA-Z0-9_]+)\n")
                    .no_stack(),
                fmt("BUG: memory leak", "memory leak in {1}")
                    .stack(st(&[S(r"backtrace(?: \(crc [[:xdigit:]]*\))?:"), T])
                        .skip(&["kmemleak", "mmap", "kmem", "slab", "alloc", "create_object", "idr_get", "list_lru_init", "kasprintf", "kvasprintf", "pcpu_create", "strdup", "strndup", "memdup"]).b()),
                fmt("BUG: .*stack guard page was hit at", "BUG: stack guard page was hit in {1}")
                    .alt("stack-overflow in {1}")
                    .stack(st(&[Rip, Ct, T]).ex(Stall).b()),
                fmt("BUG: Invalid wait context", "WARNING: locking bug in {1}")
                    .stack(st(&[Ct, T]).skip(&["lock_sock", "release_sock"]).b()),
                fmt(r"BUG:[[:space:]]*(?:\n|$)", "BUG: corrupted").corrupted(),
            ],
            &["ODEBUG:", "Boot_DEBUG:", "xlog_status:", "DEBUG:", "BUG: no syscalls can create resource"],
        ),
        oops(
            "WARNING:",
            vec![
                fmt(r"WARNING: .*lib/debugobjects\.c.* (?:debug_print|debug_check|at)", "WARNING: ODEBUG bug in {1}")
                    .stack(warning_stack(&["debug_", "rcu", "hrtimer_", "timer_", "work_", "percpu_", "vunmap", "vfree", "__free_", "debug_check", "kobject_"])),
                fmt(r"WARNING: .*mm/usercopy\.c.* (?:usercopy_warn|at)", "WARNING: bad usercopy in {1}")
                    .stack(warning_stack(&["usercopy", "__check"])),
                fmt(r"WARNING: .*lib/kobject\.c.* (?:kobject_|at)", "WARNING: kobject bug in {1}")
                    .stack(warning_stack(&["kobject_"])),
                fmt(r"WARNING: .*fs/proc/generic\.c.* (?:proc_register|at)", "WARNING: proc registration bug in {1}")
                    .stack(warning_stack(&["proc_"])),
                fmt(r"WARNING: .*lib/refcount\.c.* (?:refcount_|at)", "WARNING: refcount bug in {1}")
                    .stack(warning_stack(&["refcount", "kobject_"])),
                fmt(r"WARNING: .*kernel/locking/lockdep\.c.*lock_", "WARNING: locking bug in {1}")
                    .stack(warning_stack(&["lock_sock", "release_sock"])),
                fmt("WARNING: .*still has locks held!", "WARNING: still has locks held in {1}")
                    .report(r"WARNING: .*still has locks held!(?:.*\n)+?.*at: {{FUNC}}"),
                fmt("WARNING: Nested lock was not taken", "WARNING: nested lock was not taken in {1}")
                    .stack(warning_stack(&[])),
                fmt("WARNING: lock held when returning to user space", "WARNING: lock held when returning to user space in {1}")
                    .report(r"WARNING: lock held when returning to user space(?:.*\n)+?.*leaving the kernel with locks still held(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}")
                    .no_stack(),
                fmt(r"WARNING: .*mm/.*\.c.* k?.?malloc", "WARNING: kmalloc bug in {1}")
                    .stack(warning_stack(&["kmalloc", "krealloc", "slab", "kmem"])),
                fmt(r"WARNING: .*mm/vmalloc.c.*__vmalloc_node", "WARNING: zero-size vmalloc in {1}")
                    .stack(warning_stack(&[])),
                fmt("WARNING: .* usb_submit_urb", "WARNING in {1}/usb_submit_urb")
                    .stack(warning_stack(&["usb_submit_urb", "usb_start_wait_urb", "usb_bulk_msg", "usb_interrupt_msg", "usb_control_msg"])),
                fmt(r"WARNING: {{SRC}} at 0x\d+, CPU#\d+", "WARNING in {2}").stack(warning_stack(&[])),
                fmt("WARNING: .* at {{SRC}} {{FUNC}}", "WARNING in {3}").stack(warning_stack(&[])),
                fmt("WARNING: {{SRC}} at {{FUNC}}", "WARNING in {3}").stack(warning_stack(&[])),
                fmt(r"WARNING: \[.*\] {{SRC}} at {{FUNC}}.*", "WARNING in {3}").stack(warning_stack(&[])),
                fmt("WARNING: possible circular locking dependency detected", "possible deadlock in {1}")
                    .report(r"WARNING: possible circular locking dependency detected(?:.*\n)+?.*is trying to acquire lock")
                    .stack(st(&[S("at: (?:{{PC}} +)?{{FUNC}}"), S("at: (?:{{PC}} +)?{{FUNC}}"), T])
                        .skip(&["process_one_work", "flush_workqueue", "drain_workqueue", "destroy_workqueue"]).b()),
                fmt("WARNING: possible irq lock inversion dependency detected", "possible deadlock in {1}")
                    .report(r"WARNING: possible irq lock inversion dependency detected(?:.*\n)+?.*just changed the state of lock(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}"),
                fmt("WARNING: .*-safe -> .*-unsafe lock order detected", "possible deadlock in {1}")
                    .stack(st(&[S("which became (?:.*) at:"), T]).b()),
                fmt("WARNING: possible recursive locking detected", "possible deadlock in {1}")
                    .report(r"WARNING: possible recursive locking detected(?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}"),
                fmt("WARNING: inconsistent lock state", "inconsistent lock state in {2}")
                    .report(r"WARNING: inconsistent lock state(?:.*\n)+?.*takes(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}")
                    .stack(st(&[Ct, T]).b()),
                fmt("WARNING: suspicious RCU usage", "WARNING: suspicious RCU usage in {2}")
                    .report(r"WARNING: suspicious RCU usage(?:.*\n)+?.*?{{SRC}}")
                    .stack(st(&[Ct, T]).skip(&["rcu", "kmem", "slab"]).b()),
                fmt("WARNING: kernel stack regs at [0-9a-f]+ in [^ ]* has bad '([^']+)' value", "WARNING: kernel stack regs has bad '{1}' value").no_stack(),
                fmt("WARNING: kernel stack frame pointer at [0-9a-f]+ in [^ ]* has bad value", "WARNING: kernel stack frame pointer has bad value").no_stack(),
                fmt("WARNING: bad unlock balance detected!", "WARNING: bad unlock balance in {1}")
                    .stack(st(&[S("{{PC}} +{{FUNC}}"), Ct, T]).b()),
                fmt("WARNING: held lock freed!", "WARNING: held lock freed in {1}")
                    .report(r"WARNING: held lock freed!(?:.*\n)+?.*at:(?: {{PC}})? +{{FUNC}}"),
                fmt("WARNING: kernel stack regs .* has bad 'bp' value", "WARNING: kernel stack regs has bad value").no_stack(),
                fmt("WARNING: kernel stack frame pointer .* has bad value", "WARNING: kernel stack regs has bad value").no_stack(),
                fmt(r"WARNING:[[:space:]]*(?:\n|$)", "WARNING: corrupted").corrupted(),
            ],
            &[
                "WARNING: /etc/ssh/moduli does not exist, using fixed modulus",
                "WARNING: workqueue cpumask: online intersect > possible intersect",
                "WARNING: [Tt]he mand mount option",
                r"WARNING: Unsupported flag value\(s\) of 0x%x in DT_FLAGS_1",
                "WARNING: Unprivileged eBPF is enabled with eIBRS",
                r"WARNING: fbcon: Driver '(.*)' missed to adjust virtual screen size (\((?:\d+)x(?:\d+) vs\. (?:\d+)x(?:\d+)\))",
                "WARNING: See https.* for mitigation options.",
                "WARNING: kernel not compiled with CPU_SRSO",
                r"EXT4-[Ff][Ss](?: \(.*\))?:",
                "(?i)warning: .* uses (deprecated v2 capabilities|wireless extensions)",
                r"XFS \(\w+\): WARNING",
            ],
        ),
        oops(
            "INFO:",
            vec![
                fmt("INFO: possible circular locking dependency detected", "possible deadlock in {1}")
                    .report(r"INFO: possible circular locking dependency detected \](?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}"),
                fmt("INFO: possible irq lock inversion dependency detected", "possible deadlock in {1}")
                    .report(r"INFO: possible irq lock inversion dependency detected \](?:.*\n)+?.*just changed the state of lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}"),
                fmt("INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected", "possible deadlock in {1}")
                    .report(r"INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected \](?:.*\n)+?.*is trying to acquire(?:.*\n)+?.*at: {{PC}} +{{FUNC}}"),
                fmt("INFO: possible recursive locking detected", "possible deadlock in {1}")
                    .report(r"INFO: possible recursive locking detected \](?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}"),
                fmt("INFO: inconsistent lock state", "inconsistent lock state in {1}")
                    .report(r"INFO: inconsistent lock state \](?:.*\n)+?.*takes(?:.*\n)+?.*at: {{PC}} +{{FUNC}}"),
                fmt("INFO: rcu_[a-z_]+ (?:self-)?detected(?: expedited)? stall", "INFO: rcu detected stall in {1}")
                    .alt("stall in {1}")
                    .stack(st(&[S("apic_timer_interrupt"), Rip, T])
                        .parts2(&[S("(?:apic_timer_interrupt|Exception stack|el1h_64_irq)"), T])
                        .skip(&["apic_timer_interrupt", "rcu"]).ex(Stall).b()),
                fmt("INFO: trying to register non-static key", "INFO: trying to register non-static key in {1}")
                    .stack(st(&[Ct, T]).skip(&["stack", "lock", "IRQ"]).b()),
                fmt("INFO: suspicious RCU usage", "INFO: suspicious RCU usage in {2}")
                    .report(r"INFO: suspicious RCU usage(?:.*\n)+?.*?{{SRC}}")
                    .stack(st(&[Ct, T]).skip(&["rcu", "kmem", "slab"]).b()),
                // The task name may hold any byte, even a newline; newer kernels say
                // "blocked in I/O wait".
                fmt(r"INFO: task .*(?:\n.*)?blocked (?:in I/O wait )?for more than [0-9]+ seconds", "INFO: task hung in {1}")
                    .alt("hang in {1}")
                    .stack(st(&[Ct, T]).ex(HangTask).b()),
                fmt("INFO: task .* can't die for more than .* seconds", "INFO: task can't die in {1}")
                    .alt("hang in {1}")
                    .stack(st(&[Ct, T]).skip(&["schedule"]).b()),
                // Old-style KASAN reports whose header was lost.
                fmt("INFO: (Freed|Allocated) in (.*)", "INFO: {1} in {2}").corrupted(),
                fmt(r"INFO:[[:space:]]*(?:\n|$)", "INFO: corrupted").corrupted(),
            ],
            &[
                "INFO: lockdep is turned off",
                "INFO: Stall ended before state dump start",
                "INFO: NMI handler",
                "INFO: recovery required on readonly filesystem",
                "(handler|interrupt).*took too long",
                "INFO: sys_.* is not present in /proc/kallsyms",
                "INFO: no syscalls can create resource",
                "rmt_storage:INFO:",
                "_INFO:",
            ],
        ),
        oops(
            "Unable to handle kernel",
            vec![fmt("Unable to handle kernel (paging request|NULL pointer dereference|access to user memory)", "BUG: unable to handle kernel {1} in {2}")
                .alt("bad-access in {2}")
                .stack(st(&[Rip, Ct, T]).b())],
            &[],
        ),
        oops(
            "general protection fault",
            vec![fmt("general protection fault.*:", "general protection fault in {1}")
                .alt("bad-access in {1}")
                .stack(st(&[Rip, Ct, T]).b())],
            // User-space fault reports are ruled out for every header
            // (Common::user_fault).
            &[],
        ),
        oops(
            "stack segment: ",
            vec![fmt("stack segment: ", "stack segment fault in {1}").stack(st(&[Rip, Ct, T]).b())],
            &[],
        ),
        oops(
            "Kernel panic",
            vec![
                fmt("Kernel panic - not syncing: stack-protector:", "kernel panic: stack is corrupted in {1}")
                    .report("Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: {{FUNC}}")
                    .no_stack(),
                fmt("Kernel panic - not syncing: stack-protector:", "kernel panic: stack is corrupted in {1}")
                    .report("Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: [a-f0-9]+")
                    .stack(st(&[Ct, T]).skip(&["stack_chk"]).b()),
                fmt("Kernel panic - not syncing: corrupted stack end", "kernel panic: corrupted stack end in {1}")
                    .report("Kernel panic - not syncing: corrupted stack end detected inside scheduler")
                    .alt("stack-overflow in {1}")
                    .stack(st(&[Ct, T]).skip(&["schedule", "retint_kernel"]).ex(Stall).b()),
                fmt("Kernel panic - not syncing: kernel stack overflow", "kernel stack overflow in {1}")
                    .alt("stack-overflow in {1}")
                    .stack(st(&[Ct, T]).skip(&["bad_stack"]).ex(Stall).b()),
                fmt("Kernel panic - not syncing: Attempted to kill init!", "kernel panic: Attempted to kill init!"),
                fmt("Kernel panic - not syncing: Couldn't open N_TTY ldisc for [^ ]+ --- error -[0-9]+", "kernel panic: Couldn't open N_TTY ldisc"),
                // Printed after a BUG: catching it first means the BUG header was lost.
                fmt("Kernel panic - not syncing: Fatal exception", "kernel panic: Fatal exception").corrupted(),
                fmt("Kernel panic - not syncing: panic_on_warn set", "kernel panic: panic_on_warn set").corrupted(),
                fmt("Kernel panic - not syncing: hung_task: blocked tasks", "kernel panic: hung_task: blocked tasks").corrupted(),
                fmt("Kernel panic - not syncing: (.*)", "kernel panic: {1}"),
            ],
            &[],
        ),
        oops(
            "PANIC: double fault",
            vec![fmt("PANIC: double fault", "PANIC: double fault in {1}").stack(st(&[Rip]).b())],
            &[],
        ),
        oops(
            "rust_kernel: panicked",
            vec![fmt("rust_kernel: panicked", "{1} in {2}")
                .report(r"rust_kernel: panicked at [^\n]*?\n(.+?)\n")
                .stack(st(&[Ct, T]).skip(&[r"__rustc::rust_begin_unwind"]).b())],
            &[],
        ),
        oops(
            "kernel BUG",
            vec![
                // An out-of-tree or absolute-path build prints the file with
                // a prefix (`../src/lib/list_debug.c`, `/build/linux/…`).
                fmt("kernel BUG at (?:\\S*/)?mm/usercopy.c", "BUG: bad usercopy in {1}")
                    .stack(st(&[Ct, T]).skip(&["usercopy", "__check"]).b()),
                fmt("kernel BUG at (?:\\S*/)?lib/list_debug.c", "BUG: corrupted list in {1}")
                    .alt("bad-access in {1}")
                    .stack(st(&[Ct, T]).b()),
                // skb helpers BUG_ON their arguments: the bug is in the caller.
                fmt("kernel BUG at (.*)", "kernel BUG in {2}").stack(st(&[Rip, Ct, T]).skip(&["^skb_"]).b()),
            ],
            &[],
        ),
        oops("Kernel BUG", vec![fmt("Kernel BUG (.*)", "kernel BUG {1}")], &[]),
        oops("BUG kmalloc-", vec![fmt("BUG kmalloc-.*: Object already free", "BUG: Object already free")], &[]),
        oops("divide error:", vec![fmt("divide error: ", "divide error in {1}").stack(st(&[Rip]).b())], &[]),
        // A misspelling some kernels print for the same trap.
        oops("divide_error:", vec![fmt("divide_error: ", "divide error in {1}").stack(st(&[Rip]).b())], &[]),
        oops("invalid opcode:", vec![fmt("invalid opcode: ", "invalid opcode in {1}").stack(st(&[Rip]).b())], &[]),
        // A breakpoint the kernel did not place or no longer knows (text
        // patching seen half done, a stray kprobe): die("int3") in traps.c.
        oops("int3:", vec![fmt("int3: ", "int3 in {1}").stack(st(&[Rip, Ct, T]).b())], &[]),
        oops(
            "UBSAN:",
            vec![
                fmt("UBSAN:", "UBSAN: undefined-behaviour in {1}")
                    .report("UBSAN: Undefined behaviour in")
                    .stack(st(&[Ct, T]).skip(&["ubsan", "overflow"]).b()),
                fmt("UBSAN: array-index-out-of-bounds in", "UBSAN: array-index-out-of-bounds in {1}")
                    .alt("bad-access in {1}")
                    .stack(st(&[Ct, T]).skip(&["ubsan", "overflow"]).b()),
                fmt("UBSAN:", "UBSAN: {1} in {2}")
                    .report("UBSAN: (.*?) in")
                    .stack(st(&[Ct, T]).skip(&["ubsan", "overflow"]).b()),
            ],
            &[],
        ),
        oops(
            "Booting the kernel.",
            vec![fmt("^Booting the kernel", "unexpected kernel reboot").no_stack()],
            &["Parsing ELF|Decompressing Linux|Unknown parameter '"],
        ),
        oops(
            "unregister_netdevice: waiting for",
            vec![fmt("unregister_netdevice: waiting for (?:.*) to become free", "unregister_netdevice: waiting for DEV to become free").no_stack()],
            &[],
        ),
        oops(
            "VFS: Close: file count is 0",
            vec![fmt("VFS: Close: file count is 0", "VFS: Close: file count is zero (use-after-free)").no_stack()],
            &[],
        ),
        oops(
            "VFS: Busy inodes after unmount",
            vec![fmt("VFS: Busy inodes after unmount", "VFS: Busy inodes after unmount (use-after-free)").no_stack()],
            &[],
        ),
        oops(
            "Internal error:",
            vec![fmt("Internal error:", "Internal error in {1}").alt("bad-access in {1}").stack(st(&[Rip, Ct, T]).b())],
            &[],
        ),
        oops(
            "Unhandled fault:",
            vec![fmt("Unhandled fault:", "Unhandled fault in {1}").alt("bad-access in {1}").stack(st(&[Rip, Ct, T]).b())],
            &[],
        ),
        oops(
            "Alignment trap:",
            vec![fmt("Alignment trap:", "Alignment trap in {1}").stack(st(&[Rip, Ct, T]).b())],
            &[],
        ),
        oops(
            "trusty: panic",
            vec![
                fmt("trusty: panic.* ASSERT FAILED", "trusty: ASSERT FAILED: {1}")
                    .report(r"trusty: panic \(.*?\):(?: DEBUG)? ASSERT FAILED at \(.*?\): (.+)")
                    .no_stack(),
                fmt("trusty: panic.* ASSERT FAILED.*: *(.*)", "trusty: ASSERT FAILED: {1}").corrupted(),
                fmt("trusty: panic", "trusty: panic: {1}").report(r"trusty: panic \(.*?\): (.+)").no_stack(),
            ],
            &[],
        ),
        oops(
            "fatal error:",
            vec![fmt("fatal error:", "go runtime error").no_stack()],
            &["ALSA", "fatal error: cannot create timer"],
        ),
        // Failures of the fuzzing harness itself.
        oops("SYZFAIL:", vec![fmt("SYZFAIL:(.*)", "SYZFAIL:{1}").no_stack()], &[]),
        oops(
            "SYZFATAL:",
            vec![fmt("SYZFATAL:(.*)()", "SYZFATAL:{1}").alt("SYZFATAL{2}").no_stack()],
            &[],
        ),
        oops(
            "panic:",
            vec![
                fmt("panic: Sentry detected .* stuck task", "panic: Sentry detected stuck tasks").no_stack(),
                fmt("panic:(.*)", "panic:{1}").no_stack(),
            ],
            // Kernel functions such as skb_over_panic print "…_panic:".
            &["_panic:", "xlog_status:", r"ddb\.onpanic:", "evtlog_status:"],
        ),
    ]
}
