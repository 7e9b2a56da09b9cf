//! The real kbuild binary and signals: a ^C while kbuild waits for its
//! next input record ends it at once, instead of being remembered and
//! ending only a build started by a record that comes later.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A repository with one empty commit, enough for kbuild to start.
fn one_commit_repo(dir: &Path) {
    let repo = git2::Repository::init(dir).unwrap();
    let tree = repo.treebuilder(None).unwrap().write().unwrap();
    let tree = repo.find_tree(tree).unwrap();
    let who = git2::Signature::now("t", "t@example.invalid").unwrap();
    repo.commit(Some("HEAD"), &who, &who, "first", &tree, &[])
        .unwrap();
}

/// True once the process has a handler for SIGINT (bit 2 of SigCgt).
fn catches_sigint(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("SigCgt:"))
                .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        })
        .is_some_and(|mask| mask & (1 << (libc::SIGINT - 1)) != 0)
}

#[test]
fn sigint_while_waiting_for_input_ends_kbuild() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    one_commit_repo(&repo);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kbuild"))
        .arg("--repo")
        .arg(&repo)
        .arg("--cache-dir")
        .arg(tmp.path().join("cache"))
        .arg("--compiler")
        .arg("kbisect-no-such-compiler")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let ready = Instant::now() + Duration::from_secs(10);
    while !catches_sigint(pid) {
        assert!(Instant::now() < ready, "kbuild never installed its handler");
        std::thread::sleep(Duration::from_millis(20));
    }
    // stdin stays open and empty: kbuild is blocked reading it.
    let stdin = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let sent = Instant::now();
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGINT) }, 0);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(2) {
            let _ = child.kill();
            panic!("kbuild still running 2 s after SIGINT while waiting for input");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    // Exit 1: interrupted, as the protocol says; and no record was made.
    assert_eq!(status.code(), Some(1), "{status:?}");
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "");
}
