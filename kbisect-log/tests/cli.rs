//! kbisect-log run as a person runs it: what `report` says on stderr about
//! what it could not use, and its exit status.

use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_kbisect-log");

/// Run kbisect-log with `input` on stdin: (exit status, stdout, stderr).
fn kbisect_log(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kbisect-log starts");
    // kbisect-log may exit before reading (a missing journal): a closed
    // pipe is not a failure of the test.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    let out = child.wait_with_output().expect("kbisect-log ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn result_record() -> String {
    format!(
        "{{\"kind\":\"result\",\"status\":\"found\",\"direction\":\"cause\",\"culprit\":{{\"commit\":\"{}\",\"subject\":\"x\"}}}}\n",
        "a".repeat(40)
    )
}

#[test]
fn report_names_skipped_journal_lines_and_a_repo_that_is_not_git() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    std::fs::write(&journal, "{\"kind\":\"start\"}\nnot json\n[1]\n").unwrap();
    let not_git = dir.path().join("not-git");
    std::fs::create_dir(&not_git).unwrap();
    let (code, stdout, stderr) = kbisect_log(
        &[
            "report",
            "--journal",
            journal.to_str().unwrap(),
            "--repo",
            not_git.to_str().unwrap(),
        ],
        &result_record(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"status\":\"found\""), "{stdout}");
    assert_eq!(
        stderr.matches("skipping a journal line").count(),
        2,
        "{stderr}"
    );
    assert!(stderr.contains("no stat of the culprit"), "{stderr}");
}

#[test]
fn report_on_a_missing_journal_is_bad_input() {
    let (code, stdout, stderr) = kbisect_log(
        &["report", "--journal", "/nonexistent/j.jsonl"],
        &result_record(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("/nonexistent/j.jsonl"), "{stderr}");
}
