//! The kernel's reports of user processes killed by a fault are not kernel
//! crashes (issue 18): syzbot's reproducers fault on purpose, and 14 of 47
//! real ones were read as "general protection fault in corrupted".

use crashclass::{classify, LiveDetector, LiveState};

/// Lines the kernel prints when a user process dies of a fault (x86's
/// show_signal and kin), with and without `in LIB[…]`.
const USER_FAULTS: &[&str] = &[
    "[   12.100000] traps: repro[1023] general protection fault ip:e17d46180bcf48d8 sp:7ffe69eb5428 error:0",
    "[   12.200000] traps: repro[1024] general protection fault ip:4011d2 sp:7ffe69eb5428 error:0 in repro[401000+1000]",
    "[   12.300000] traps: syz-executor.0[77] general protection fault ip:7f0e1c2a sp:7ffd0 error:0 in libc.so.6[7f0e1c000000+195000]",
    "[   12.400000] traps: repro[1025] trap invalid opcode ip:4011d2 sp:7ffe69eb5428 error:0 in repro[401000+1000]",
    "[   12.500000] traps: repro[1026] trap divide error ip:4011d2 sp:7ffe69eb5428 error:0 in repro[401000+1000]",
    "[   12.600000] traps: repro[1030] stack segment ip:4011d2 sp:7ffe69eb5428 error:0",
    "[   12.700000] repro[1027]: segfault at 0 ip 00000000004011d2 sp 00007ffe69eb5428 error 4 in repro[401000+1000] likely on CPU 0 (core 0, socket 0)",
];

fn log_with(lines: &[&str]) -> Vec<u8> {
    let mut log = String::from("[    1.000000] kbisect: booted\n");
    for l in lines {
        log.push_str(l);
        log.push('\n');
        log.push_str("Segmentation fault\n");
    }
    log.into_bytes()
}

#[test]
fn user_space_fault_reports_are_not_crashes() {
    for line in USER_FAULTS {
        let class = classify(&log_with(&[line]));
        assert!(!class.crashed, "{line}\n read as {:?}", class.title);
    }
    let class = classify(&log_with(USER_FAULTS));
    assert!(!class.crashed, "all together read as {:?}", class.title);
}

#[test]
fn live_detection_ignores_user_space_faults() {
    let mut live = LiveDetector::new();
    for line in USER_FAULTS {
        assert_eq!(live.feed_line(line.as_bytes()), LiveState::Quiet, "{line}");
    }
}

#[test]
fn a_kernel_gpf_after_user_faults_is_still_found() {
    let mut lines: Vec<&str> = USER_FAULTS.to_vec();
    lines.extend([
        "[   13.000000] general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN",
        "[   13.000001] CPU: 0 PID: 1031 Comm: repro Not tainted 6.1.0 #1",
        "[   13.000002] RIP: 0010:ext4_fill_super+0x10/0x20",
        "[   13.000003] Call Trace:",
        "[   13.000004]  <TASK>",
        "[   13.000005]  mount_bdev+0x1/0x2",
        "[   13.000006]  legacy_get_tree+0x1/0x2",
        "[   13.000007]  </TASK>",
        "[   13.000008] ---[ end trace 0000000000000000 ]---",
    ]);
    let class = classify(&log_with(&lines));
    assert!(class.crashed);
    assert_eq!(
        class.title.as_deref(),
        Some("general protection fault in ext4_fill_super")
    );
}
