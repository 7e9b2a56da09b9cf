//! End-to-end: the `kbisect` script bisects the demo history (real kernel
//! builds, real QEMU) and names the planted culprit.
//!
//! One bisection is interrupted with SIGINT and resumed from its journal, so
//! the same run checks resumption, the culprit, the stretches it had to walk
//! through (a boot-time WARNING, an unrelated crash, a build break), the
//! recipients and the revert check. A second bisection uses the flaky
//! reproducer. Both reuse kbuild's artifact cache under $KBISECT_CACHE: the
//! same history gives the same commits, so the second one builds little.

mod browser;

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TITLE: &str = "BUG: unable to handle kernel NULL pointer dereference in prctl_set_ra_hint";

fn root() -> PathBuf {
    tests::workspace_root()
}

/// The demo repository and its planted commits (examples/demo/make-history).
fn demo() -> (PathBuf, HashMap<String, String>) {
    let out = Command::new(root().join("examples/demo/make-history"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run make-history");
    assert!(out.status.success(), "make-history failed");
    let repo = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let text =
        std::fs::read_to_string(repo.join(".git/kbisect-demo.json")).expect("planted commits");
    let v: Value = serde_json::from_str(&text).expect("kbisect-demo.json");
    let planted = v
        .as_object()
        .expect("object")
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
        .collect();
    (repo, planted)
}

/// Seconds each VM runs its reproducer. The demo's reproducers reach the
/// bug at their first call (the flaky one decides at boot whether it will),
/// so a longer run only makes every run that shows nothing take longer:
/// most of a bisection's runs, and most of the suite's VM time.
const RUN_SECONDS: &str = "4";

/// kbisect on the demo, in its own process group (so SIGINT reaches the
/// whole pipeline, as ^C in a terminal does), log to `log`.
fn kbisect(repo: &Path, repro: &str, journal: &Path, log: &Path, stdout: &Path) -> Child {
    let repro = root().join("examples/demo").join(repro);
    let args = [
        "--bad", "v6.3-rc2", "--good", "v6.2-rc1", "--title", TITLE, "--repro",
    ];
    let mut args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    args.push(repro.into_os_string());
    kbisect_with(repo, &args, journal, log, stdout)
}

/// kbisect on the demo with `args` (the range, the bug), as [`kbisect`].
fn kbisect_with(
    repo: &Path,
    args: &[std::ffi::OsString],
    journal: &Path,
    log: &Path,
    stdout: &Path,
) -> Child {
    use std::os::unix::process::CommandExt;
    let bin_dir = tests::bin("kbuild")
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let mut cmd = Command::new(root().join("kbisect"));
    cmd.args(["--repo"])
        .arg(repo)
        .args(args)
        .args(
            (!args.iter().any(|a| a == "--run-seconds"))
                .then_some(["--run-seconds", RUN_SECONDS])
                .into_iter()
                .flatten(),
        )
        .arg("--compiler-table")
        .arg(root().join("examples/demo/compilers"))
        .arg("--journal")
        .arg(journal)
        .env("KBISECT_PATH", bin_dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout).expect("stdout file"))
        .stderr(
            std::fs::File::options()
                .create(true)
                .append(true)
                .open(log)
                .expect("log file"),
        )
        .process_group(0);
    cmd.spawn().expect("spawn kbisect")
}

/// Wait (an hour at most) until the journal's records satisfy `reached`
/// (`what`, for messages), then send `signal` to kbisect's process group,
/// as ^C (INT) or a kill (KILL) would; its exit status.
fn stop_when(
    child: &mut Child,
    journal: &Path,
    log: &Path,
    signal: &str,
    what: &str,
    reached: impl Fn(&[serde_json::Map<String, Value>]) -> bool,
) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(3600);
    while !reached(&records(journal)) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "kbisect ended before it could be stopped: {status}\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "not {what} within an hour");
        std::thread::sleep(Duration::from_secs(2));
    }
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{}", child.id())])
        .status();
    child.wait().expect("wait kbisect")
}

fn records(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    parse_records(&std::fs::read_to_string(path).unwrap_or_default())
}

/// The JSON objects of a JSON-lines text (other lines are passed over).
fn parse_records(text: &str) -> Vec<serde_json::Map<String, Value>> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v.as_object().cloned())
        .collect()
}

fn kind<'a>(
    recs: &'a [serde_json::Map<String, Value>],
    k: &str,
) -> Vec<&'a serde_json::Map<String, Value>> {
    recs.iter().filter(|r| r["kind"] == k).collect()
}

fn is_ancestor(repo: &Path, a: &str, b: &str) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["merge-base", "--is-ancestor", a, b])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// In the stretch that `start` opens and `end` closes.
fn in_stretch(repo: &Path, p: &HashMap<String, String>, start: &str, end: &str, c: &str) -> bool {
    is_ancestor(repo, &p[start], c) && !is_ancestor(repo, &p[end], c)
}

fn result_of(stdout: &Path) -> serde_json::Map<String, Value> {
    let recs = records(stdout);
    kind(&recs, "result")
        .last()
        .map(|r| (*r).clone())
        .unwrap_or_else(|| {
            panic!("no result record in {}", stdout.display());
        })
}

#[test]
fn interrupted_bisection_resumes_and_finds_the_planted_culprit() {
    let started = Instant::now();
    let (repo, p) = demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("journal.jsonl");
    let log = dir.path().join("log.txt");
    let out = dir.path().join("out.jsonl");

    // First run: stop it with SIGINT once two commits have verdicts.
    let mut child = kbisect(&repo, "repro.c", &journal, &log, &out);
    let status = stop_when(&mut child, &journal, &log, "INT", "two verdicts", |recs| {
        kind(recs, "verdict").len() >= 2
    });
    assert!(
        !status.success(),
        "interrupted kbisect must not report success"
    );
    let verdicts_before = kind(&records(&journal), "verdict").len();
    eprintln!(
        "interrupted after {:?} with {verdicts_before} verdicts",
        started.elapsed()
    );

    // Second run: same journal, resumes and finishes.
    let mut child = kbisect(&repo, "repro.c", &journal, &log, &out);
    let status = child.wait().expect("wait kbisect");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "kbisect failed: {status}\n{text}");
    assert!(
        text.contains("resuming the bisection"),
        "second run did not resume:\n{text}"
    );
    let result = result_of(&out);
    eprintln!("result: {}", Value::Object(result.clone()));
    eprintln!("wall time (interrupted + resumed): {:?}", started.elapsed());

    // The planted culprit, with the seed-style log.
    assert_eq!(result["status"], "found", "{text}");
    assert_eq!(result["culprit"]["commit"], p["culprit"].as_str(), "{text}");
    assert!(
        text.contains(&format!("{} is the first bad commit", p["culprit"])),
        "{text}"
    );
    assert!(
        text.contains("bisecting cause commit starting from"),
        "{text}"
    );
    assert!(text.contains("kernel signature: "), "{text}");
    assert!(text.contains(&format!("crash: {TITLE}")), "{text}");
    // The revert check and the recipients.
    assert_eq!(result["revert_check"], "bug_gone", "{text}");
    let to: Vec<&str> = result["recipients"]["to"]
        .as_array()
        .expect("to")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let cc: Vec<&str> = result["recipients"]["cc"]
        .as_array()
        .expect("cc")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for who in [
        "aiko.tanabe@example.net",
        "mira.kowalski@example.org",
        "linux-mm@kvack.org",
    ] {
        assert!(to.contains(&who), "{who} not in to: {to:?}");
    }
    assert!(
        cc.contains(&"tomas.lindqvist@example.com"),
        "reviewer not in cc: {cc:?}"
    );
    assert!(text.contains("recipients (to): [\""), "{text}");

    // Nothing derailed it: no commit without the culprit was judged bad, and
    // the stretches it walked through were skipped, not blamed.
    let recs = records(&journal);
    let verdicts = kind(&recs, "verdict");
    let mut hit_warning = false;
    let mut hit_break = false;
    for v in &verdicts {
        let c = v["commit"].as_str().unwrap_or("");
        if v["verdict"] == "bad" {
            assert!(
                is_ancestor(&repo, &p["culprit"], c),
                "{c} judged bad without the culprit: {v:?}"
            );
        }
        if in_stretch(&repo, &p, "boot_warning", "boot_warning_fix", c) {
            hit_warning = true;
            assert_eq!(
                v["verdict"], "skip",
                "boot-warning commit {c} not skipped: {v:?}"
            );
        }
        if in_stretch(&repo, &p, "build_break", "build_fix", c) {
            hit_break = true;
            assert_eq!(
                v["verdict"], "skip",
                "broken-build commit {c} not skipped: {v:?}"
            );
        }
    }
    // Whether this bisection's path crosses the stretches depends on where
    // the halves fall (and on the unrelated crash's luck), so it is reported
    // here; `stretch_commits_are_skipped_not_blamed` tests them for certain.
    eprintln!(
        "path crossed the boot-warning stretch: {hit_warning}; the broken stretch: {hit_break}"
    );
}

/// kbuild of `commit` of the demo, as the bisections build it.
fn kbuild_at(repo: &Path, commit: &str) -> duct::Expression {
    let compilers = root().join("examples/demo/compilers");
    duct::cmd(
        tests::bin("kbuild"),
        [
            "--repo".into(),
            repo.as_os_str().to_owned(),
            "--commit".into(),
            commit.into(),
            "--ccache".into(),
            "--compiler-table".into(),
            compilers.into_os_string(),
        ],
    )
}

/// One step of the real pipeline on `commit`, fed to bisect-step with the
/// bisection's journal: the verdict bisect-step gives that commit.
fn verdict_through_pipeline(
    repo: &Path,
    journal: &Path,
    commit: &str,
) -> (Vec<serde_json::Map<String, Value>>, String) {
    let bin = |n: &str| tests::bin(n);
    let demo = root().join("examples/demo");
    let pipeline = kbuild_at(repo, commit)
        .pipe(duct::cmd!(bin("ksig")))
        .pipe(duct::cmd(
            bin("ktest"),
            [
                "--runs".into(),
                "2".into(),
                "--timeout-run".into(),
                RUN_SECONDS.into(),
                "--target".into(),
                TITLE.into(),
                "--repro".into(),
                demo.join("repro.c").into_os_string(),
            ],
        ));
    let tested = pipeline.stdin_null().read().expect("kbuild | ksig | ktest");
    let recs = parse_records(&tested);
    duct::cmd!(bin("bisect-step"), "--journal", journal)
        .stdin_bytes(tested)
        .read()
        .expect("bisect-step");
    let verdict = records(journal)
        .iter()
        .rev()
        .find(|r| r["kind"] == "verdict" && r["commit"] == commit)
        .map(|r| r["verdict"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    (recs, verdict)
}

#[test]
fn stretch_commits_are_skipped_not_blamed() {
    // The seed's derailment, on a real kernel: a commit whose every boot
    // hits an unrelated WARNING, and one that does not build, must be
    // skipped — never judged bad.
    let (repo, p) = demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("journal.jsonl");
    let first = duct::cmd!(
        tests::bin("bisect-step"),
        "--journal",
        &journal,
        "--repo",
        &repo,
        "--bad",
        &p["head"],
        "--good",
        &p["v6.2-rc1"],
        "--target",
        TITLE
    )
    .stdin_null()
    .read()
    .expect("bisect-step start");
    assert!(first.contains("\"kind\":\"next\""), "{first}");

    let (recs, verdict) = verdict_through_pipeline(&repo, &journal, &p["boot_warning"]);
    let runs = kind(&recs, "run");
    assert!(
        !runs.is_empty(),
        "no runs at the boot-warning commit: {recs:?}"
    );
    for r in &runs {
        assert_eq!(r["outcome"], "boot_failed", "{r:?}");
        assert_eq!(r["title"], "WARNING in alloc_pid", "{r:?}");
        assert_ne!(r["same_bug"], true, "{r:?}");
    }
    assert_eq!(verdict, "skip", "boot-warning commit: {recs:?}");

    let (recs, verdict) = verdict_through_pipeline(&repo, &journal, &p["build_break"]);
    let builds = kind(&recs, "build");
    assert_eq!(builds.len(), 1, "{recs:?}");
    assert_eq!(builds[0]["ok"], false, "{recs:?}");
    assert_eq!(builds[0]["error"], "build_failed", "{recs:?}");
    assert!(
        builds[0]["error_lines"].to_string().contains("fs/libfs.c"),
        "{recs:?}"
    );
    assert_eq!(verdict, "skip", "broken-build commit: {recs:?}");
}

#[test]
fn flaky_reproducer_still_finds_the_culprit_and_says_how_sure() {
    let started = Instant::now();
    let (repo, p) = demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("journal.jsonl");
    let log = dir.path().join("log.txt");
    let out = dir.path().join("out.jsonl");
    let status = kbisect(&repo, "repro-flaky.c", &journal, &log, &out)
        .wait()
        .expect("wait kbisect");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "kbisect failed: {status}\n{text}");
    let result = result_of(&out);
    eprintln!("result: {}", Value::Object(result.clone()));
    eprintln!("wall time (flaky): {:?}", started.elapsed());
    assert_eq!(result["status"], "found", "{text}");
    assert_eq!(result["culprit"]["commit"], p["culprit"].as_str(), "{text}");
    let confidence = result["confidence"].as_f64().unwrap_or(0.0);
    assert!(
        confidence > 0.5 && confidence <= 1.0,
        "confidence {confidence}"
    );
    assert!(text.contains("confidence: "), "{text}");
    let rate = result["repro_rate"].as_f64().unwrap_or(1.0);
    assert!(
        result["flaky"] == true || rate < 1.0,
        "flakiness not reported: {result:?}"
    );
}

/// kbisect over the demo with `args`, to its end: the result and the log.
fn bisect_to_result(repo: &Path, args: &[&str]) -> (serde_json::Map<String, Value>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (journal, log, out) = (
        dir.path().join("journal.jsonl"),
        dir.path().join("log.txt"),
        dir.path().join("out.jsonl"),
    );
    let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    let status = kbisect_with(repo, &args, &journal, &log, &out)
        .wait()
        .expect("wait kbisect");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        status.success(),
        "kbisect {args:?} failed: {status}\n{text}"
    );
    let result = result_of(&out);
    eprintln!("result: {}", Value::Object(result.clone()));
    (result, text)
}

/// The result names `culprit` as found (the log `text` explains a failure).
fn assert_found(result: &serde_json::Map<String, Value>, culprit: &str, text: &str) {
    assert_eq!(result["status"], "found", "{text}");
    assert_eq!(result["culprit"]["commit"], culprit, "{text}");
}

/// Issue 14: a boot regression (every boot WARNs in alloc_pid in one
/// stretch) is bisected with no reproducer, both to the commit that brought
/// it and, with --fix from a commit inside the stretch, to the one that
/// fixed it.
#[test]
fn boot_regression_and_its_fix_are_named_without_a_reproducer() {
    let (repo, p) = demo();
    let inside = format!("{}^", p["boot_warning_fix"]);
    let title = "WARNING in alloc_pid";
    let (result, text) = bisect_to_result(
        &repo,
        &[
            "--bug", "boot", "--title", title, "--bad", &inside, "--good", "v6.2-rc2",
        ],
    );
    assert_found(&result, &p["boot_warning"], &text);
    assert!(
        text.contains("bisecting cause commit starting from"),
        "{text}"
    );

    let (result, text) = bisect_to_result(
        &repo,
        &[
            "--fix",
            "--bug",
            "boot",
            "--title",
            title,
            "--bad",
            &p["boot_warning"],
            "--good",
            &p["build_fix"],
        ],
    );
    assert_found(&result, &p["boot_warning_fix"], &text);
    assert_eq!(result["direction"], "fix", "{text}");
    assert!(
        text.contains(&format!(
            "bisecting fixing commit starting from {}",
            p["boot_warning"]
        )),
        "{text}"
    );
}

/// Issue 14: a test program's exit status decides (git bisect run's
/// contract). A regression that does not crash (PR_GET_NAME cuts a
/// 15-character name) is named; a test that exits 125 where it cannot run
/// makes that commit a skip, not a verdict.
#[test]
fn exit_status_names_a_regression_and_125_is_a_skip() {
    let (repo, p) = demo();
    let demo_dir = root().join("examples/demo");
    let test = demo_dir.join("test-comm.c");
    // The mm tree's tip, where the regression is; the culprit of the crash
    // bisection, older, passes the test.
    let tip = format!("{}^^2", p["v6.3-rc1"]);
    let (result, text) = bisect_to_result(
        &repo,
        &[
            "--bug",
            "exit",
            "--repro",
            test.to_str().unwrap(),
            "--bad",
            &tip,
            "--good",
            &p["culprit"],
        ],
    );
    assert_found(&result, &p["exit_regression"], &text);

    // Before the mm tree's readahead-hint prctl the second test cannot run
    // (exit 125): a skip, with the status in every run record.
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("journal.jsonl");
    duct::cmd!(
        tests::bin("bisect-step"),
        "--journal",
        &journal,
        "--repo",
        &repo,
        "--bug",
        "exit",
        "--bad",
        &tip,
        "--good",
        "v6.2-rc2"
    )
    .stdin_null()
    .read()
    .expect("bisect-step start");
    let commit = &p["boot_warning_fix"];
    let tested = kbuild_at(&repo, commit)
        .pipe(duct::cmd!(tests::bin("ksig")))
        .pipe(duct::cmd(
            tests::bin("ktest"),
            [
                "--bug".into(),
                "exit".into(),
                "--runs".into(),
                "2".into(),
                "--timeout-run".into(),
                RUN_SECONDS.into(),
                "--repro".into(),
                demo_dir.join("test-comm-needs-ra-hint.c").into_os_string(),
            ],
        ))
        .stdin_null()
        .read()
        .expect("kbuild | ksig | ktest");
    let recs = parse_records(&tested);
    let runs = kind(&recs, "run");
    assert_eq!(runs.len(), 2, "{recs:?}");
    for r in &runs {
        assert_eq!(r["outcome"], "ok", "{r:?}");
        assert_eq!(r["exit_status"], 125, "{r:?}");
    }
    duct::cmd!(tests::bin("bisect-step"), "--journal", &journal)
        .stdin_bytes(tested)
        .read()
        .expect("bisect-step");
    let verdict = records(&journal)
        .into_iter()
        .rev()
        .find(|r| r["kind"] == "verdict" && r["commit"] == commit.as_str())
        .expect("a verdict on the commit");
    assert_eq!(verdict["verdict"], "skip", "{verdict:?}");
}

/// The first-parent commit of `head` that brought `c` in: the oldest
/// commit on head's first-parent chain that contains it.
fn first_parent_bringing_in(repo: &Path, head: &str, c: &str) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-list", "--first-parent", head])
        .output()
        .expect("git rev-list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .take_while(|x| is_ancestor(repo, c, x))
        .last()
        .expect("head contains the commit")
        .to_string()
}

/// The first-parent bisection of the demo from v6.2 to v6.3-rc1.
fn first_parent_args(p: &HashMap<String, String>, repro: &Path) -> Vec<String> {
    [
        "--first-parent",
        "--bad",
        &p["v6.3-rc1"],
        "--good",
        &p["v6.2"],
        "--title",
        TITLE,
        "--repro",
        repro.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

/// Issue 14: --first-parent on the demo's merge window names the merge of
/// the culprit's topic branch, as `git bisect --first-parent` would.
#[test]
fn first_parent_names_the_merge_of_the_culprit_s_branch() {
    let (repo, p) = demo();
    let repro = root().join("examples/demo/repro.c");
    let args = first_parent_args(&p, &repro);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (result, text) = bisect_to_result(&repo, &args);
    let merge = first_parent_bringing_in(&repo, &p["v6.3-rc1"], &p["culprit"]);
    assert_found(&result, &merge, &text);
    assert_eq!(result["merge"], true, "{text}");
}

/// Issue 15: the first-parent bisection again (its builds are cached by
/// the test above), with every VM on two ssh "hosts" on loopback and none
/// here (`--jobs 0 --hosts FILE`): the same merge is named, and every run
/// in the journal ran on one of the two hosts, both of them used.
#[test]
fn ssh_hosts_alone_bisect_the_demo_to_the_same_merge() {
    let (repo, p) = demo();
    let repro = root().join("examples/demo/repro.c");
    let sshd = tests::sshd::Sshd::start(&["127.0.0.2", "127.0.0.3"]);
    let hosts = [sshd.host("127.0.0.2", 1), sshd.host("127.0.0.3", 1)];
    let hosts_file = sshd.hosts_file(&hosts);
    let dir = tempfile::tempdir().expect("tempdir");
    let (journal, log, out) = (
        dir.path().join("journal.jsonl"),
        dir.path().join("log.txt"),
        dir.path().join("out.jsonl"),
    );
    let mut args = first_parent_args(&p, &repro);
    args.extend(
        [
            "--jobs",
            "0",
            "--hosts",
            hosts_file.to_str().unwrap(),
            "--ssh-config",
            sshd.ssh_config.to_str().unwrap(),
        ]
        .map(String::from),
    );
    let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    let status = kbisect_with(&repo, &args, &journal, &log, &out)
        .wait()
        .expect("wait kbisect");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        status.success(),
        "kbisect failed: {status}\n{text}\nsshd: {}",
        sshd.log()
    );
    let result = result_of(&out);
    let merge = first_parent_bringing_in(&repo, &p["v6.3-rc1"], &p["culprit"]);
    assert_found(&result, &merge, &text);
    let names: Vec<&str> = hosts
        .iter()
        .map(|h| h.rsplit_once('/').unwrap().0)
        .collect();
    let runs = records(&journal);
    let runs = kind(&runs, "run");
    assert!(!runs.is_empty(), "{text}");
    for r in &runs {
        let host = r["host"].as_str().unwrap_or("none");
        assert!(names.contains(&host), "a run not on the hosts: {r:?}");
    }
    for name in &names {
        assert!(
            runs.iter().any(|r| r["host"] == *name),
            "{name} ran nothing\n{text}"
        );
    }
    assert!(text.contains("VM slot(s): 0 here"), "{text}");
}

/// Issue 14: a bisection begun with plain `git bisect` (three steps,
/// answered by whether the commit holds the culprit) is taken over with
/// `--import-git-bisect-log` and finished by kbisect: the same culprit,
/// and none of the three commits git tested is built again.
#[test]
fn taken_over_git_bisect_log_of_three_steps_finds_the_culprit() {
    let (repo, p) = demo();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The range of the other demo bisections, so their builds serve this
    // one (libtest runs tests in name order: this one comes last).
    git(&[
        "bisect",
        "start",
        "--no-checkout",
        "v6.3-rc2",
        &p["v6.2-rc1"],
    ]);
    let mut asked = Vec::new();
    for _ in 0..3 {
        let c = git(&["rev-parse", "BISECT_HEAD"]).trim().to_string();
        let word = if is_ancestor(&repo, &p["culprit"], &c) {
            "bad"
        } else {
            "good"
        };
        git(&["bisect", word, &c]);
        asked.push(c);
    }
    let log = git(&["bisect", "log"]);
    git(&["bisect", "reset"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (journal, log_file) = (dir.path().join("journal.jsonl"), dir.path().join("git.log"));
    std::fs::write(&log_file, log).expect("write log");
    duct::cmd!(
        tests::bin("bisect-step"),
        "--journal",
        &journal,
        "--repo",
        &repo,
        "--target",
        TITLE,
        "--import-git-bisect-log",
        &log_file
    )
    .stdin_null()
    .read()
    .expect("bisect-step --import-git-bisect-log");
    let (out, log) = (dir.path().join("out.jsonl"), dir.path().join("log.txt"));
    let repro = root().join("examples/demo/repro.c");
    let args: Vec<std::ffi::OsString> = ["--title", TITLE, "--repro"]
        .iter()
        .map(Into::into)
        .chain([repro.into_os_string()])
        .collect();
    let status = kbisect_with(&repo, &args, &journal, &log, &out)
        .wait()
        .expect("wait kbisect");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "kbisect failed: {status}\n{text}");
    eprintln!("{text}");
    assert_found(&result_of(&out), &p["culprit"], &text);
    let recs = records(&journal);
    for c in &asked {
        assert!(
            !kind(&recs, "build")
                .iter()
                .any(|b| b["commit"] == c.as_str()),
            "{c}, answered in the git log, was built again"
        );
    }
    let result = result_of(&out);
    browser::assert_report_renders(
        &journal,
        &p["culprit"],
        result["culprit"]["subject"].as_str().unwrap_or_default(),
        &tests::artifact_dir("taken_over_git_bisect_log_of_three_steps_finds_the_culprit"),
    );
}

/// The config-dependent bug of the demo (branch ra-stats): its title, and
/// the "big" config (the default plus examples/demo/big.fragment) as a full
/// `.config`, made by kbuild at the branch tip (olddefconfig's output, as a
/// user's config is).
const CONFIG_TITLE: &str =
    "BUG: unable to handle kernel NULL pointer dereference in ra_hint_stats_show";

fn big_config(repo: &Path, p: &HashMap<String, String>, dir: &Path) -> PathBuf {
    let fragment = root().join("examples/demo/big.fragment");
    let built = kbuild_at(repo, &p["config_head"])
        .before_spawn(move |cmd| {
            cmd.arg("--config-fragment").arg(&fragment);
            Ok(())
        })
        .stdin_null()
        .read()
        .expect("kbuild the big config");
    let rec = parse_records(&built).pop().expect("a build record");
    assert_eq!(rec["ok"], true, "the big config builds: {rec:?}");
    let to = dir.join("big.config");
    std::fs::copy(rec["config"].as_str().expect("config path"), &to).expect("copy .config");
    to
}

/// The options a result's config search kept.
fn kept_options(result: &serde_json::Map<String, Value>) -> Vec<String> {
    result["config"]["options"]
        .as_array()
        .expect("config.options")
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// Issue 16: config bisection at the tip of the ra-stats branch, between
/// the default config (good: the bug's code is not built) and the big one
/// (bad), names the one option the bug needs.
#[test]
fn config_bisection_between_the_default_and_a_big_config_names_the_option() {
    let (repo, p) = demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let big = big_config(&repo, &p, dir.path());
    let repro = root().join("examples/demo/repro-config.c");
    let (result, text) = bisect_to_result(
        &repo,
        &[
            "--config-bisect",
            "--good-config",
            "tinyconfig",
            "--bad-config",
            big.to_str().unwrap(),
            "--commit",
            &p["config_head"],
            "--repro",
            repro.to_str().unwrap(),
            "--title",
            CONFIG_TITLE,
        ],
    );
    assert_eq!(result["status"], "found", "{text}");
    assert!(result.get("culprit").is_none(), "{text}");
    assert_eq!(
        kept_options(&result),
        [format!("{}=y", p["config_option"])],
        "{text}"
    );
    assert!(
        result["config"]["differing"].as_u64().unwrap() >= 20,
        "{text}"
    );
    assert!(
        text.contains("config bisection: the bug comes with CONFIG_RA_HINT_STATS=y"),
        "{text}"
    );
    // The option was guessed from the crash's code (kernel/Makefile builds
    // ra_hint_stats.c with it): the first candidate, and it reproduced.
    assert_eq!(
        result["config"]["suspects"],
        serde_json::json!(["CONFIG_RA_HINT_STATS=y"]),
        "{text}"
    );
    assert_eq!(result["config"]["suspects_reproduced"], true, "{text}");
    assert!(
        text.contains("CONFIG_RA_HINT_STATS for kernel/ra_hint_stats.c"),
        "{text}"
    );
}

/// Issue 16: kbisect --config BIG minimizes BIG first. Killed during the
/// minimisation and run again, it ends with the option the bug needs kept
/// and most others dropped, then bisects the ra-stats branch with that
/// config to the planted culprit (the candidates' kernels are cached by
/// the test above, which tried the same configs at the same commit).
#[test]
fn config_minimisation_killed_midway_resumes_keeps_the_option_and_names_the_culprit() {
    let (repo, p) = demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let big = big_config(&repo, &p, dir.path());
    let repro = root().join("examples/demo/repro-config.c");
    let (journal, log, out) = (
        dir.path().join("journal.jsonl"),
        dir.path().join("log.txt"),
        dir.path().join("out.jsonl"),
    );
    let args: Vec<std::ffi::OsString> = [
        "--config",
        big.to_str().unwrap(),
        "--bad",
        &p["config_head"],
        "--good",
        &p["head"],
        "--repro",
        repro.to_str().unwrap(),
        "--title",
        CONFIG_TITLE,
    ]
    .iter()
    .map(Into::into)
    .collect();
    let mut child = kbisect_with(&repo, &args, &journal, &log, &out);
    stop_when(
        &mut child,
        &journal,
        &log,
        "KILL",
        "three config candidates",
        |recs| {
            recs.iter()
                .filter(|r| r["kind"] == "next" && r["reason"] == "config_search")
                .count()
                >= 3
        },
    );
    let status = kbisect_with(&repo, &args, &journal, &log, &out)
        .wait()
        .expect("wait kbisect");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "kbisect failed: {status}\n{text}");
    assert!(text.contains("resuming the bisection"), "{text}");
    let result = result_of(&out);
    eprintln!("result: {}", Value::Object(result.clone()));
    assert_found(&result, &p["config_culprit"], &text);
    let c = &result["config"];
    assert_eq!(
        kept_options(&result),
        [format!("{}=y", p["config_option"])],
        "{text}"
    );
    assert!(
        c["differing"].as_u64().unwrap() >= 20,
        "most options dropped: {c}"
    );
    assert_eq!(c["full_config_check"], "bug_absent", "{text}");
    assert_eq!(result["revert_check"], "bug_gone", "{text}");
    assert!(text.contains("config minimized: 1 of "), "{text}");
    assert_eq!(c["suspects_reproduced"], true, "{text}");
    let file = c["file"].as_str().expect("the minimized config is kept");
    let kept = std::fs::read_to_string(file).expect("read the minimized config");
    assert!(kept.contains("CONFIG_RA_HINT_STATS=y") && !kept.contains("CONFIG_IO_URING=y"));
}
