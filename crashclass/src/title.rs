//! Turning a raw title into a stable one, and a title into a crash type.
//!
//! Titles must not carry what differs between two occurrences of one bug:
//! addresses, pids, line numbers, CPU numbers, function offsets. Those are
//! replaced with ADDR / NUM / LINE placeholders as syzbot does, then the
//! title is cut to 120 printable bytes. Character classes are ASCII (as in
//! syzkaller), so a stray non-ASCII byte never counts as a word character.

use regex::Regex;
use std::sync::OnceLock;

const MAX_TITLE: usize = 120;

fn replacements() -> &'static [(Regex, &'static str)] {
    static R: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    R.get_or_init(|| {
        [
            (r"syz-executor\.?[0-9]+((/|:)[0-9]+)?", "syz-executor"),
            (r"syzkaller[0-9]+((/|:)[0-9]+)?", "syzkaller"),
            (r"([^a-zA-Z0-9])(?:0x)?[0-9a-f]{6,}", "${1}ADDR"),
            (r"([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})", "IP"),
            (r"(\.[0-9A-Za-z_]+)(:[0-9]+)+", "${1}:LINE"),
            (r"([a-zA-Z][a-zA-Z0-9_.]+)\+0x[0-9a-z]+/0x[0-9a-z]+", "${1}"),
            (r"CPU#[0-9]+", "CPU"),
            (r"([^0-9A-Za-z_])([0-9]+)([^0-9A-Za-z_]|$)", "${1}NUM${3}"),
            (r"([0-9]+){7,}", "NUM"),
        ]
        .iter()
        .map(|(re, rep)| match Regex::new(re) {
            Ok(r) => (r, *rep),
            Err(e) => panic!("bad built-in pattern {re}: {e}"),
        })
        .collect()
    })
}

/// Replace dynamic parts, drop control bytes, squeeze blanks, cut to 120.
pub fn sanitize(raw: &str) -> String {
    let mut s = raw.to_string();
    for (re, rep) in replacements() {
        // Matches may overlap ("0,1,2"): repeat until nothing changes.
        for _ in 0..64 {
            let next = re.replace_all(&s, *rep).into_owned();
            if next == s {
                break;
            }
            s = next;
        }
    }
    let mut out = String::with_capacity(s.len().min(MAX_TITLE));
    let mut prev = ' ';
    // Raw titles are Latin-1 decoded (one char per log byte), so counting
    // chars counts the log's bytes, as the 120-byte limit means.
    for (i, ch) in s.chars().enumerate() {
        if i >= MAX_TITLE {
            break;
        }
        let ch = if ch == '\t' { ' ' } else { ch };
        if (ch as u32) < 0x20 || (ch as u32) >= 0x7f {
            continue;
        }
        if ch == ' ' && prev == ' ' {
            continue;
        }
        out.push(ch);
        prev = ch;
    }
    out.trim().to_string()
}

/// Title prefixes and the crash type they mean, most specific first.
const TYPES: &[(&[&str], &str)] = &[
    (
        &["KFENCE: use-after-free write"],
        "KFENCE-USE-AFTER-FREE-WRITE",
    ),
    (
        &["KFENCE: use-after-free read", "KFENCE: use-after-free"],
        "KFENCE-USE-AFTER-FREE-READ",
    ),
    (
        &["KFENCE: invalid write", "KFENCE: out-of-bounds write"],
        "KFENCE-WRITE",
    ),
    (
        &[
            "KFENCE: invalid read",
            "KFENCE: out-of-bounds read",
            "KFENCE: out-of-bounds",
        ],
        "KFENCE-READ",
    ),
    (&["KFENCE: memory corruption"], "KFENCE-MEMORY-CORRUPTION"),
    (&["KFENCE: invalid free"], "KFENCE-INVALID-FREE"),
    (&["KMSAN: uninit-value"], "KMSAN-UNINIT-VALUE"),
    (
        &[
            "KMSAN: kernel-infoleak-after-free",
            "KMSAN: kernel-usb-infoleak-after-free",
            "KMSAN: use-after-free",
        ],
        "KMSAN-USE-AFTER-FREE-READ",
    ),
    (
        &["KMSAN: kernel-infoleak", "KMSAN: kernel-usb-infoleak"],
        "KMSAN-INFO-LEAK",
    ),
    (
        &["KASAN: null-ptr-deref Write"],
        "KASAN-NULL-POINTER-DEREFERENCE-WRITE",
    ),
    (
        &["KASAN: null-ptr-deref Read"],
        "KASAN-NULL-POINTER-DEREFERENCE-READ",
    ),
    (
        &["BUG: unable to handle kernel NULL pointer dereference in"],
        "NULL-POINTER-DEREFERENCE",
    ),
    (
        &[
            "KASAN: global-out-of-bounds Write",
            "KASAN: out-of-bounds Write",
            "KASAN: slab-out-of-bounds Write",
            "KASAN: stack-out-of-bounds Write",
            "KASAN: user-memory-access Write",
            "KASAN: vmalloc-out-of-bounds Write",
            "KASAN: wild-memory-access Write",
        ],
        "KASAN-WRITE",
    ),
    (
        &[
            "KASAN: global-out-of-bounds Read",
            "KASAN: invalid-access Read",
            "KASAN: out-of-bounds Read",
            "KASAN: slab-out-of-bounds Read",
            "KASAN: slab-out-of-bounds",
            "KASAN: stack-out-of-bounds Read",
            "KASAN: stack-out-of-bounds",
            "KASAN: unknown-crash Read",
            "KASAN: user-memory-access Read",
            "KASAN: vmalloc-out-of-bounds Read",
            "KASAN: wild-memory-access Read",
            "KASAN: wild-memory-access",
        ],
        "KASAN-READ",
    ),
    (
        &["KASAN: double-free or invalid-free", "KASAN: invalid-free"],
        "KASAN-INVALID-FREE",
    ),
    (
        &[
            "KASAN: slab-use-after-free Write",
            "KASAN: use-after-free Write",
        ],
        "KASAN-USE-AFTER-FREE-WRITE",
    ),
    (
        &[
            "KASAN: slab-use-after-free Read",
            "KASAN: use-after-free Read",
            "KASAN: use-after-free",
        ],
        "KASAN-USE-AFTER-FREE-READ",
    ),
    (
        &[
            "BUG: corrupted list",
            "BUG: unable to handle kernel paging request",
        ],
        "MEMORY_SAFETY_BUG",
    ),
    (&["WARNING: refcount bug"], "REFCOUNT_WARNING"),
    (&["UBSAN: array-index-out-of-bounds"], "MEMORY_SAFETY_UBSAN"),
    (&["KCSAN: data-race"], "KCSAN-DATARACE"),
    (&["KCSAN: assert: race in"], "KCSAN-ASSERT"),
    (
        &[
            "BUG: bad unlock balance in",
            "BUG: held lock freed in",
            "BUG: rwlock",
            "BUG: spinlock",
            "BUG: still has locks held in",
            "BUG: using",
            "WARNING: bad unlock balance in",
            "WARNING: held lock freed in",
            "WARNING: lock held",
            "WARNING: locking bug in",
            "WARNING: nested lock was not taken in",
            "WARNING: still has locks held in",
            "WARNING: suspicious RCU usage in",
            "inconsistent lock state in",
            "possible deadlock in",
        ],
        "LOCKDEP",
    ),
    (
        &[
            "BUG: scheduling while atomic in",
            "BUG: sleeping function called from invalid context in",
        ],
        "ATOMIC_SLEEP",
    ),
    (&["memory leak in"], "LEAK"),
    (&["BUG: bad usercopy in", "kernel BUG"], "BUG"),
    (&["WARNING in"], "WARNING"),
    // printk-only reports: no type.
    (
        &[
            "BUG: stack guard page was hit in",
            "WARNING: corrupted",
            "WARNING: kernel stack frame pointer has bad value",
            "WARNING: kernel stack regs has bad",
        ],
        "",
    ),
    (
        &[
            "BUG: soft lockup in",
            "INFO: rcu detected stall in",
            "INFO: task can't die in",
            "INFO: task hung in",
        ],
        "HANG",
    ),
    (
        &[
            "Alignment trap in",
            "BUG: Object already free",
            "Internal error in",
            "PANIC: double fault",
            "Unhandled fault in",
            "VFS: Busy inodes after unmount (use-after-free)",
            "VFS: Close: file count is zero (use-after-free)",
            "divide error in",
            "general protection fault in",
            "go runtime error",
            "int3 in",
            "invalid opcode in",
            "kernel panic:",
            "kernel stack overflow",
            "panic:",
            "rust_kernel panicked",
            "stack segment fault in",
            "trusty:",
            "unregister_netdevice: waiting for DEV to become free",
        ],
        "DoS",
    ),
    (&["unexpected kernel reboot"], "REBOOT"),
    (&["SYZFAIL", "SYZFATAL:"], "SYZ_FAILURE"),
    (&["WARNING:"], "WARNING"),
    (&["BUG:"], ""),
    (&["INFO:"], ""),
    (&["KASAN:"], "KASAN-UNKNOWN"),
    (&["KFENCE:"], "KFENCE-UNKNOWN"),
    (&["KMSAN:"], "KMSAN-UNKNOWN"),
    (&["UBSAN:"], "UBSAN"),
    (&["KCSAN:"], "KCSAN-UNKNOWN"),
];

/// The crash type a title means; None when syzbot gives it no type.
pub fn crash_type(title: &str) -> Option<&'static str> {
    TYPES
        .iter()
        .find(|(prefixes, _)| prefixes.iter().any(|p| title.starts_with(p)))
        .map(|(_, t)| *t)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_parts_are_replaced() {
        assert_eq!(
            sanitize("BUG: foo at 0xffff88001234 cpu 12"),
            "BUG: foo at ADDR cpu NUM"
        );
        assert_eq!(sanitize("x syz-executor.3 y"), "x syz-executor y");
        assert_eq!(sanitize("a\tb  c\x01"), "a b c");
        assert_eq!(
            sanitize("kernel BUG at fs/ext4/inode.c:123!"),
            "kernel BUG at fs/ext4/inode.c:LINE!"
        );
    }

    #[test]
    fn types() {
        assert_eq!(crash_type("WARNING in kvm_wait"), Some("WARNING"));
        assert_eq!(
            crash_type("KASAN: use-after-free Read in x"),
            Some("KASAN-USE-AFTER-FREE-READ")
        );
        assert_eq!(crash_type("BUG: stack guard page was hit in x"), None);
        assert_eq!(crash_type("INFO: task hung in x"), Some("HANG"));
    }
}
