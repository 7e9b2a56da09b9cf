//! The failing stack of a crash report: the functions it ran, in printed
//! order, each with its source file when the report is symbolized.
//!
//! The config search reads it to guess which options build the crashing
//! code (bisect-step's `suspects`). Only the failing stack counts: KASAN's
//! allocation and free stacks after it say where memory came from, and
//! unreliable `? ` frames are leftovers on the stack, not calls.

use regex::Regex;
use std::sync::OnceLock;

/// One frame of the failing stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackFrame {
    /// The function, without compiler suffixes (`.isra.0`, `.cold`).
    pub function: String,
    /// Its source file, when the report names one (`fs/namei.c`).
    pub file: Option<String>,
}

/// `name+0x1d/0x60`, perhaps after `RIP: 0010:` or an unreliable `? `.
fn offset_frame_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(\?\s+)?\b([A-Za-z_][A-Za-z0-9_.]*)\+0x[0-9a-f]+/0x[0-9a-f]+")
            .expect("frame regex")
    })
}

/// A symbolized inline frame: `name path/file.c:123 [inline]`.
fn inline_frame_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s+[A-Za-z0-9_./\-]+\.[ch]:[0-9]+(?::[0-9]+)?\s+\[inline\]")
            .expect("inline frame regex")
    })
}

/// The source file a frame's line names after the frame itself.
fn file_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"([A-Za-z0-9_][A-Za-z0-9_./\-]*\.[ch]):[0-9]+").expect("file regex")
    })
}

/// The reliable frames of `report`'s failing stack, first printed first,
/// each function once.
pub fn failing_frames(report: &str) -> Vec<StackFrame> {
    once_each(all_frames(report))
}

/// The frames in printed order, a function as often as it is printed (the
/// title's line names the crashing function before the stack does).
fn all_frames(report: &str) -> Vec<StackFrame> {
    let mut out: Vec<StackFrame> = Vec::new();
    for line in crate::guilty::failing_part(report).lines() {
        let (function, rest) = if let Some(c) = offset_frame_re().captures(line) {
            if c.get(1).is_some() {
                continue;
            }
            let m = c.get(0).expect("whole match");
            (c[2].to_string(), &line[m.end()..])
        } else if let Some(c) = inline_frame_re().captures(line) {
            let at = c.get(1).expect("name").end();
            (c[1].to_string(), &line[at..])
        } else {
            continue;
        };
        let function = function.split('.').next().unwrap_or_default().to_string();
        if function.is_empty() {
            continue;
        }
        let file = file_re()
            .captures(rest)
            .map(|c| crate::guilty::clean(&c[1]))
            .filter(|f| !f.is_empty());
        out.push(StackFrame { function, file });
    }
    out
}

fn once_each(frames: Vec<StackFrame>) -> Vec<StackFrame> {
    let mut out: Vec<StackFrame> = Vec::new();
    for f in frames {
        if !out.iter().any(|o| o.function == f.function) {
            out.push(f);
        }
    }
    out
}

/// The frames from the one the title names (`frame`) down through at most
/// `callers` of its callers: the code the crash ran, without the reporting
/// machinery above it. The frame is taken where it is printed last, in the
/// stack rather than the title's line, so what follows it are its callers.
/// Only `frame` when the stack does not show it.
pub fn frames_from(report: &str, frame: &str, callers: usize) -> Vec<StackFrame> {
    let frames = all_frames(report);
    match frames.iter().rposition(|f| f.function == frame) {
        Some(i) => once_each(frames.into_iter().skip(i).collect())
            .into_iter()
            .take(callers + 1)
            .collect(),
        None => vec![StackFrame {
            function: frame.to_string(),
            file: None,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GPF: &str = "\
general protection fault, probably for non-canonical address 0xdffffc0000000000: 0000 [#1] PREEMPT SMP KASAN
CPU: 0 PID: 231 Comm: repro Not tainted 6.3.0-rc2 #1
RIP: 0010:ra_hint_stats_show.cold+0x1d/0x60
Call Trace:
 <TASK>
 ? kasan_report+0x10/0x20
 seq_read_iter+0x2bf/0x1130
 proc_reg_read_iter+0x1f6/0x2d0
 vfs_read+0x4c7/0x8a0
 ksys_read+0x12d/0x250
 do_syscall_64+0x3b/0x90
 entry_SYSCALL_64_after_hwframe+0x63/0xcd
 </TASK>
";

    #[test]
    fn unsymbolized_frames_in_order_without_unreliable_ones() {
        let names: Vec<String> = failing_frames(GPF)
            .into_iter()
            .map(|f| f.function)
            .collect();
        assert_eq!(
            names,
            [
                "ra_hint_stats_show",
                "seq_read_iter",
                "proc_reg_read_iter",
                "vfs_read",
                "ksys_read",
                "do_syscall_64",
                "entry_SYSCALL_64_after_hwframe"
            ]
        );
        assert!(failing_frames(GPF).iter().all(|f| f.file.is_none()));
    }

    #[test]
    fn symbolized_frames_carry_their_files_and_side_stacks_are_left_out() {
        let report = "\
BUG: KASAN: use-after-free in ip6_send_skb+0x2f5/0x330 net/ipv6/ip6_output.c:1748
Call Trace:
 __dump_stack lib/dump_stack.c:16 [inline]
 dump_stack+0x292/0x395 lib/dump_stack.c:52
 kasan_report+0x230/0x340 mm/kasan/report.c:408
 ip6_send_skb+0x2f5/0x330 net/ipv6/ip6_output.c:1748
 rawv6_push_pending_frames net/ipv6/raw.c:613 [inline]
 rawv6_sendmsg+0x2ede/0x4400 net/ipv6/raw.c:932

Allocated by task 4040:
 kmem_cache_alloc+0x10/0x20 mm/slab.c:3552
";
        let frames = frames_from(report, "ip6_send_skb", 2);
        assert_eq!(
            frames,
            [
                StackFrame {
                    function: "ip6_send_skb".into(),
                    file: Some("net/ipv6/ip6_output.c".into())
                },
                StackFrame {
                    function: "rawv6_push_pending_frames".into(),
                    file: Some("net/ipv6/raw.c".into())
                },
                StackFrame {
                    function: "rawv6_sendmsg".into(),
                    file: Some("net/ipv6/raw.c".into())
                },
            ]
        );
        assert!(!failing_frames(report)
            .iter()
            .any(|f| f.function == "kmem_cache_alloc"));
    }

    #[test]
    fn a_frame_the_stack_lacks_stands_alone() {
        assert_eq!(
            frames_from("no stack here", "foo", 5),
            [StackFrame {
                function: "foo".into(),
                file: None
            }]
        );
    }
}
