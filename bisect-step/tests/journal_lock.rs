//! Two bisect-step calls on one journal never lose a record (issue 13): two
//! writers append large records while readers call bisect-step on the same
//! journal with nothing on stdin. Without a lock a reader could take a
//! writer's half-written line for a torn tail and cut it off, after the
//! writer had exited 0. Bounded: a few hundred calls, one repository of a
//! few commits.

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;

const BIN: &str = env!("CARGO_BIN_EXE_bisect-step");
/// Records each writer appends.
const WRITES: usize = 12;
/// Calls each reader makes.
const READS: usize = 100;
/// Size of the padding in each written record: big enough that an append
/// takes many write calls.
const PAD: usize = 1 << 20;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn call(journal: &Path, input: &[u8]) -> (i32, String) {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .arg("--journal")
        .arg(journal)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bisect-step");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).expect("write stdin");
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A repository of `n` empty commits in `dir/repo`: (repo, bad = HEAD,
/// good = the first commit).
fn linear_repo(dir: &Path, n: usize) -> (std::path::PathBuf, String, String) {
    let repo = dir.join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    for i in 0..n {
        git(
            &repo,
            &["commit", "-q", "--allow-empty", "-m", &format!("c{i}")],
        );
    }
    let bad = git(&repo, &["rev-parse", "HEAD"]);
    let good = git(&repo, &["rev-parse", &format!("HEAD~{}", n - 1)]);
    (repo, bad, good)
}

/// The first call of a bisection of `repo` from `good` to `bad`.
fn start_call(journal: &Path, repo: &Path, bad: &str, good: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--journal")
        .arg(journal)
        .arg("--repo")
        .arg(repo)
        .args(["--bad", bad, "--good", good]);
    cmd
}

#[test]
fn concurrent_calls_lose_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, bad, good) = linear_repo(dir.path(), 8);
    let journal = dir.path().join("journal.jsonl");
    let start = start_call(&journal, &repo, &bad, &good)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(start.status.success(), "{start:?}");

    let pad = "x".repeat(PAD);
    let mut handles = Vec::new();
    for w in 0..2 {
        let (journal, pad) = (journal.clone(), pad.clone());
        handles.push(thread::spawn(move || {
            for i in 0..WRITES {
                // A record kind bisect-step keeps as history and ignores.
                let rec =
                    format!("{{\"kind\":\"crash\",\"log\":\"w{w}-{i}\",\"pad\":\"{pad}\"}}\n");
                let (code, err) = call(&journal, rec.as_bytes());
                assert_eq!(code, 0, "writer {w} call {i}: {err}");
            }
        }));
    }
    for r in 0..2 {
        let journal = journal.clone();
        handles.push(thread::spawn(move || {
            for i in 0..READS {
                let (code, err) = call(&journal, b"");
                assert!(
                    code == 0 || err.contains("journal is in use"),
                    "reader {r} call {i} exited {code}: {err}"
                );
            }
        }));
    }
    for h in handles {
        h.join().expect("a caller failed");
    }
    let text = std::fs::read_to_string(&journal).unwrap();
    for w in 0..2 {
        for i in 0..WRITES {
            let id = format!("\"log\":\"w{w}-{i}\"");
            let n = text.matches(&id).count();
            assert_eq!(n, 1, "record w{w}-{i} appears {n} times in the journal");
        }
    }
    for (no, line) in text.lines().enumerate() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "journal line {} is not JSON ({} bytes)",
            no + 1,
            line.len()
        );
    }
}

/// A call waiting on a journal that a failed first call created and then
/// removed (see `step`) does not go on under a lock of the removed file: it
/// opens the path again, makes the journal and locks that.
#[test]
fn a_call_waiting_on_a_removed_journal_makes_it_anew() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, bad, good) = linear_repo(dir.path(), 3);
    let journal = dir.path().join("journal.jsonl");
    // The failed first call: an empty journal, locked.
    let held = std::fs::File::create(&journal).unwrap();
    held.lock().unwrap();
    let child = start_call(&journal, &repo, &bad, &good)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    thread::sleep(std::time::Duration::from_millis(500));
    std::fs::remove_file(&journal).unwrap();
    drop(held);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&journal).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "start", "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
}
