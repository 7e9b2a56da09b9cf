//! The seed's crash, the live detector, same-bug rules and bad input, through
//! the library and through the real `crashclass` binary.

use crashclass::{classify, classify_reader_chunked, is_same_bug, LiveDetector, LiveState};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

const SEED: &[u8] = include_bytes!("fixtures/seed-kvm-wait.log");

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crashclass"))
}

/// Run the binary; (exit code, stdout records, stderr).
fn run(args: &[&str], stdin: &[u8]) -> (i32, Vec<Value>, String) {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn crashclass");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait crashclass");
    writer.join().unwrap();
    let records = String::from_utf8(out.stdout)
        .expect("stdout is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("stdout line is JSON"))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        records,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn seed_crash_is_warning_in_kvm_wait() {
    // WARNING raised in warn_bogus_irq_restore (a helper), called from kvm_wait.
    let c = classify(SEED);
    assert!(c.crashed);
    assert_eq!(c.title.as_deref(), Some("WARNING in kvm_wait"));
    assert_eq!(c.crash_type.as_deref(), Some("WARNING"));
    assert_eq!(c.frame.as_deref(), Some("kvm_wait"));
    assert!(!c.corrupted && !c.suppressed);
    let start = c.report_start.unwrap() as usize;
    assert!(SEED[start..].starts_with(b"WARNING: CPU: 0 PID: 20406"));
    assert!(c.report.unwrap().contains("kvm_wait+0xc9/0xe0"));
    assert_eq!(
        is_same_bug(&classify(SEED), &["WARNING in kvm_wait".into()]),
        Some(true)
    );
    assert_eq!(
        is_same_bug(
            &classify(SEED),
            &["KASAN: use-after-free Read in bdev_evict_inode".into()]
        ),
        Some(false)
    );
}

#[test]
fn seed_crash_through_the_binary() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/seed-kvm-wait.log"
    );
    let (code, recs, _) = run(&["--target", "WARNING in kvm_wait", path], b"");
    assert_eq!(code, 0);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r["kind"], "crash");
    assert_eq!(r["log"], path);
    assert_eq!(r["title"], "WARNING in kvm_wait");
    assert_eq!(r["same_bug"], true);
    assert!(r["seconds"].as_f64().unwrap() >= 0.0);
    // stdin, no target: no same_bug field.
    let (code, recs, _) = run(&[], SEED);
    assert_eq!(code, 0);
    assert_eq!(recs[0]["log"], "<stdin>");
    assert!(recs[0].get("same_bug").is_none());
}

#[test]
fn no_crash_gives_null_same_bug() {
    let (code, recs, _) = run(
        &["--target", "WARNING in kvm_wait"],
        b"[    0.000000] Linux version 6.1\nok\n",
    );
    assert_eq!(code, 0);
    assert_eq!(recs[0]["crashed"], false);
    assert_eq!(recs[0]["title"], Value::Null);
    assert_eq!(recs[0]["same_bug"], Value::Null);
}

#[test]
fn corrupted_report_is_never_the_same_bug() {
    // The header alone: the second half of the message never arrived.
    let log = b"[  10.1] BUG: unable to handle kernel\n[  10.2] some other line\n";
    let c = classify(log);
    assert!(c.crashed && c.corrupted, "{c:?}");
    let t = c.title.clone().unwrap();
    assert_eq!(is_same_bug(&c, &[t]), None);
}

#[test]
fn target_alt_titles_match() {
    // A newer kernel names the same KASAN bug differently; the alt title agrees.
    let c = crashclass::Classification {
        crashed: true,
        title: Some("KASAN: slab-use-after-free Read in foo".into()),
        alt_titles: vec!["bad-access in foo".into()],
        ..Default::default()
    };
    assert_eq!(
        is_same_bug(&c, &["KASAN: use-after-free Read in foo".into()]),
        Some(true)
    );
    assert_eq!(
        is_same_bug(&c, &["KASAN: use-after-free Read in bar".into()]),
        Some(false)
    );
}

#[test]
fn live_detector_stops_at_the_end_of_the_report() {
    let mut d = LiveDetector::new();
    assert_eq!(d.feed_line(b"[    1.0] Booting"), LiveState::Quiet);
    let mut states = Vec::new();
    for line in SEED.split(|&b| b == b'\n') {
        states.push(d.feed_line(line));
    }
    assert!(states.contains(&LiveState::ReportStarted));
    // The fixture has no end marker: the quiet timeout ends it.
    assert_eq!(d.finish(), LiveState::ReportComplete);
    assert_eq!(
        d.classification().title.as_deref(),
        Some("WARNING in kvm_wait")
    );

    let mut d = LiveDetector::new();
    d.feed_line(b"[   5.0] WARNING: CPU: 0 PID: 1 at kernel/foo.c:10 foo+0x1/0x2");
    assert_eq!(d.state(), LiveState::ReportStarted);
    d.feed_line(b"[   5.1] Call Trace:");
    d.feed_line(b"[   5.1]  bar+0x1/0x2");
    assert_eq!(
        d.feed_line(b"[   5.2] ---[ end trace 0000000000000000 ]---"),
        LiveState::ReportComplete
    );

    let mut d = LiveDetector::new();
    d.feed_line(b"[   5.0] Kernel panic - not syncing: Attempted to kill init!");
    assert_eq!(
        d.feed_line(b"[   5.3] ---[ end Kernel panic - not syncing: Attempted to kill init! ]---"),
        LiveState::ReportComplete
    );

    // Lines go on after the stack: complete without an end marker.
    let mut d = LiveDetector::new();
    d.feed_line(b"[   5.0] BUG: KASAN: use-after-free in foo+0x1/0x2");
    d.feed_line(b"[   5.1]  foo+0x1/0x2");
    let mut last = LiveState::ReportStarted;
    for _ in 0..150 {
        last = d.feed_line(b"[   6.0] memory state dump");
    }
    assert_eq!(last, LiveState::ReportComplete);
}

#[test]
fn bad_input_never_panics() {
    let mut huge_line = vec![b'x'; 100 * 1024 * 1024];
    huge_line
        .extend_from_slice(b"\n[  1.0] WARNING: CPU: 0 PID: 1 at kernel/foo.c:10 foo+0x1/0x2\n");
    let binary: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let truncated = &SEED[..SEED.len() / 3];
    let cases: Vec<(&str, &[u8])> = vec![
        ("empty", b""),
        ("binary", &binary),
        (
            "invalid utf8",
            b"\xff\xfe[ 1.0] BUG: KASAN: use-after-free in \xc3\x28foo+0x1/0x2\n\xff",
        ),
        ("truncated", truncated),
        ("100 MB line", &huge_line),
        ("no newline", b"WARNING:"),
    ];
    for (name, data) in cases {
        let a = classify(data);
        let b = classify_reader_chunked(data, 1 << 16).unwrap();
        assert_eq!(a, b, "{name}");
        if name == "truncated" {
            assert_eq!(
                a.title.as_deref(),
                Some("WARNING in corrupted"),
                "{name}: {a:?}"
            );
            assert!(a.corrupted);
        }
        if name == "100 MB line" {
            assert!(a.crashed, "{name}");
        }
    }
    let (code, recs, _) = run(&[], b"");
    assert_eq!((code, recs[0]["crashed"].clone()), (0, Value::Bool(false)));
    let (code, recs, _) = run(&[], &binary);
    assert_eq!(code, 0);
    assert_eq!(recs.len(), 1);
}

#[test]
fn missing_log_is_an_error_record_and_exit_2() {
    let (code, recs, err) = run(
        &[
            "/nonexistent/console.log",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/seed-kvm-wait.log"
            ),
        ],
        b"",
    );
    assert_eq!(code, 2);
    assert_eq!(recs.len(), 2, "the other log is still classified");
    assert_eq!(recs[0]["kind"], "error");
    assert_eq!(recs[0]["error"], "missing_log");
    assert_eq!(recs[0]["file"], "/nonexistent/console.log");
    assert_eq!(recs[1]["title"], "WARNING in kvm_wait");
    assert!(err.contains("/nonexistent/console.log"));
}

#[test]
fn jsonl_enriches_runs_and_passes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("run0.log");
    std::fs::write(&log, SEED).unwrap();
    let sha = "a".repeat(40);
    let input = format!(
        "{{\"kind\":\"build\",\"commit\":\"{sha}\",\"ok\":true,\"mine\":1}}\n\
         {{\"kind\":\"run\",\"commit\":\"{sha}\",\"run\":0,\"outcome\":\"crashed\",\"log\":\"{}\",\"seconds\":3.5,\"extra\":[1]}}\n\
         {{\"kind\":\"run\",\"commit\":\"{sha}\",\"run\":1,\"outcome\":\"ok\"}}\n\
         not json\n",
        log.display()
    );
    let (code, recs, err) = run(
        &["--jsonl", "--target", "WARNING in kvm_wait"],
        input.as_bytes(),
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(recs[0]["kind"], "build");
    assert_eq!(recs[0]["mine"], 1);
    assert_eq!(recs[1]["kind"], "run");
    assert_eq!(recs[1]["title"], "WARNING in kvm_wait");
    assert_eq!(recs[1]["same_bug"], true);
    assert_eq!(recs[1]["seconds"], 3.5);
    assert_eq!(recs[1]["extra"], serde_json::json!([1]));
    assert_eq!(recs[2]["kind"], "error");
    assert_eq!(recs[2]["line"], 3);
    assert!(err.contains("<stdin>:3:"), "{err}");
    assert!(err.contains("<stdin>:4: invalid JSON"), "{err}");
}

#[test]
fn help_and_version() {
    let out = bin().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--jsonl") && help.contains("bisect-step") && help.contains("corrupted"));
    let out = bin().arg("--version").output().unwrap();
    assert!(out.status.success());
}

#[test]
fn harness_failures_have_titles() {
    let c = crashclass::harness_crash(crashclass::NO_OUTPUT_TITLE);
    assert!(c.crashed && !c.corrupted);
    assert_eq!(c.title.as_deref(), Some("no output from test machine"));
    assert_eq!(
        is_same_bug(&c, &["WARNING in kvm_wait".into()]),
        Some(false)
    );
    assert_eq!(
        is_same_bug(&c, &["no output from test machine".into()]),
        Some(true)
    );
}
