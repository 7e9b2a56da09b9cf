//! ktest end to end: real kernels (v6.1 with small planted bugs), real QEMU.
//!
//! The kernels are v6.1 and commits on it with a variant's edits, in a
//! clone under $KBISECT_CACHE/ktest-tests, built by kbuild as kbuild.rs
//! builds v6.1 (default config, gcc-12, ccache): the clean kernel comes from
//! kbuild's artifact cache, the variants are incremental builds in one build
//! dir, and a later test run (or CI on a warm cache) builds nothing.
//!
//! Titles asserted are the ones syzkaller gives (pkg/report/linux.go):
//! a NULL dereference is "BUG: unable to handle kernel NULL pointer
//! dereference in FUNC", a WARN_ON is "WARNING in FUNC".

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const SIGNATURE: &str = "5eb63bbbe01eeed093cb22bb8f5acdc3aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const NULL_DEREF_TITLE: &str =
    "BUG: unable to handle kernel NULL pointer dereference in kbisect_planted_null_deref";
const BOOT_WARN_TITLE: &str = "WARNING in kbisect_planted_boot_warn";

/// A kernel to build: v6.1 plus edits (file, anchor, text inserted before the anchor).
struct Variant {
    name: &'static str,
    edits: &'static [(&'static str, &'static str, &'static str)],
}

const CLEAN: Variant = Variant {
    name: "clean",
    edits: &[],
};

/// prctl(0x6b62, ...) writes through a NULL pointer in a named function.
const NULL_DEREF: Variant = Variant {
    name: "null-deref",
    edits: &[
        (
            "kernel/sys.c",
            "SYSCALL_DEFINE5(prctl,",
            "int *kbisect_planted_ptr;\n\
             noinline void kbisect_planted_null_deref(void)\n\
             {\n\
             \tWRITE_ONCE(*READ_ONCE(kbisect_planted_ptr), 1);\n\
             }\n\n",
        ),
        (
            "kernel/sys.c",
            "\tswitch (option) {\n",
            "\tif (option == 0x6b62)\n\t\tkbisect_planted_null_deref();\n",
        ),
    ],
};

/// A WARN_ON in a late initcall: fires during boot, before /init.
const BOOT_WARN: Variant = Variant {
    name: "boot-warn",
    edits: &[(
        "init/main.c",
        "static int __ref kernel_init(void *unused)",
        "static noinline int __init kbisect_planted_boot_warn(void)\n\
         {\n\
         \tWARN_ON(1);\n\
         \treturn 0;\n\
         }\n\
         late_initcall(kbisect_planted_boot_warn);\n\n",
    )],
};

/// Halts with interrupts off before the kernel prints anything.
const SILENT: Variant = Variant {
    name: "silent",
    edits: &[(
        "init/main.c",
        "\tset_task_stack_end_magic(&init_task);\n",
        "\tfor (;;)\n\t\tasm volatile(\"cli; hlt\");\n",
    )],
};

static BUILD_LOCK: Mutex<()> = Mutex::new(());

fn cache() -> PathBuf {
    std::env::var_os("KBISECT_CACHE")
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/kbisect"))
}

fn sh(cmd: duct::Expression, what: &str) {
    let out = cmd
        .stderr_to_stdout()
        .stdout_capture()
        .unchecked()
        .run()
        .unwrap();
    assert!(
        out.status.success(),
        "{what} failed:\n{}",
        tail(&String::from_utf8_lossy(&out.stdout), 40)
    );
}

fn tail(s: &str, n: usize) -> String {
    let l: Vec<&str> = s.lines().collect();
    l[l.len().saturating_sub(n)..].join("\n")
}

/// The commit of variant `v` in `repo`: v6.1 itself for the clean kernel,
/// else a commit on v6.1 with the variant's edits.
fn variant_commit(repo: &Path, v: &Variant) -> String {
    let base = tests::scratch::git(repo, &["rev-parse", "v6.1^{commit}"], None);
    if v.edits.is_empty() {
        return base;
    }
    let mut files: Vec<(&str, String)> = Vec::new();
    for (file, anchor, text) in v.edits {
        if !files.iter().any(|(f, _)| f == file) {
            let raw = duct::cmd!("git", "show", format!("v6.1:{file}"))
                .dir(repo)
                .stdout_capture()
                .run()
                .unwrap_or_else(|e| panic!("git show v6.1:{file}: {e}"));
            files.push((file, String::from_utf8(raw.stdout).expect("UTF-8 source")));
        }
        let body = &mut files.iter_mut().find(|(f, _)| f == file).unwrap().1;
        let at = body
            .find(anchor)
            .unwrap_or_else(|| panic!("{file}: anchor {anchor:?}"));
        body.insert_str(at, text);
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(f, b)| (*f, b.as_str())).collect();
    tests::scratch::commit_files(repo, &base, &files, v.name)
}

/// The bzImage of `v`, built by kbuild with its default config and gcc-12,
/// as kbuild.rs builds v6.1: the clean kernel is then answered from
/// kbuild's artifact cache, and the variants, built one after another in
/// one build dir, are incremental (their first full build mostly ccache
/// hits). A later test run (or CI on a warm cache) builds nothing.
fn kernel(v: &Variant) -> PathBuf {
    kernel_with(v, None)
}

/// [`kernel`] with a config fragment on top of kbuild's default config.
fn kernel_with(v: &Variant, fragment: Option<&Path>) -> PathBuf {
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let root = cache().join("ktest-tests");
    std::fs::create_dir_all(&root).unwrap();
    let repo = root.join("repo");
    if !repo.join(".git").is_dir() {
        let base = duct::cmd!(tests::workspace_root().join("scripts/linux-base-repo"))
            .stdout_capture()
            .read()
            .expect("scripts/linux-base-repo");
        // --shared: objects come from the base repository, never touched.
        sh(
            duct::cmd!(
                "git",
                "clone",
                "-q",
                "--shared",
                "--no-checkout",
                base.trim(),
                &repo
            ),
            "git clone",
        );
    }
    let commit = variant_commit(&repo, v);
    let t = Instant::now();
    eprintln!("ktest tests: kernel variant {} ({commit}) ...", v.name);
    let mut args: Vec<std::ffi::OsString> = vec![
        "--repo".into(),
        repo.clone().into(),
        "--build-dir".into(),
        root.join("build").into(),
        "--ccache".into(),
        "--compiler".into(),
        "gcc-12".into(),
        "--commit".into(),
        commit.clone().into(),
    ];
    if let Some(f) = fragment {
        args.extend(["--config-fragment".into(), f.as_os_str().to_owned()]);
    }
    let out = duct::cmd(tests::bin("kbuild"), args)
        .stderr_to_stdout()
        .stdout_capture()
        .unchecked()
        .run()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let rec: Value = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|r: &Value| r["kind"] == "build")
        .unwrap_or_else(|| panic!("kbuild {}: no build record:\n{}", v.name, tail(&text, 40)));
    assert_eq!(rec["ok"], true, "kbuild {}:\n{}", v.name, tail(&text, 40));
    eprintln!(
        "ktest tests: {} built in {:.0}s",
        v.name,
        t.elapsed().as_secs_f64()
    );
    PathBuf::from(rec["kernel"].as_str().expect("the build record's kernel"))
}

fn build_record(kernel: &Path, runs: u32) -> String {
    json!({"kind": "build", "commit": COMMIT, "ok": true, "kernel": kernel,
           "signature": SIGNATURE, "runs": runs, "reason": "bisect"})
    .to_string()
}

struct Output {
    status: i32,
    records: Vec<Value>,
    stderr: String,
}

impl Output {
    fn runs(&self) -> Vec<&Value> {
        let mut r: Vec<&Value> = self.records.iter().filter(|r| r["kind"] == "run").collect();
        r.sort_by_key(|r| r["run"].as_u64());
        r
    }
}

fn ktest(stdin: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let logs = tempfile::tempdir().unwrap();
    let mut a: Vec<String> = vec!["--log-dir".into(), logs.path().display().to_string()];
    a.extend(args.iter().map(|s| s.to_string()));
    let mut cmd = duct::cmd(tests::bin("ktest"), a)
        .stdin_bytes(stdin.as_bytes().to_vec())
        .stdout_capture()
        .stderr_capture()
        .unchecked();
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let out = cmd.run().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let records = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    // Keep the logs alive for assertions on their contents.
    std::mem::forget(logs);
    Output {
        status: out.status.code().unwrap_or(-1),
        records,
        stderr,
    }
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const QUIET_REPRO: &str =
    "#include <unistd.h>\nint main(void) { for (int i = 0; i < 100; i++) getppid(); return 0; }\n";
const NULL_DEREF_REPRO: &str =
    "#include <sys/prctl.h>\nint main(void) { prctl(0x6b62, 0, 0, 0, 0); return 0; }\n";

#[test]
fn clean_kernel_all_runs_ok() {
    let k = kernel(&CLEAN);
    let d = tempfile::tempdir().unwrap();
    let repro = write_file(d.path(), "repro.c", QUIET_REPRO);
    let other = r#"{"kind":"verdict","commit":"x","verdict":"good","mine":1}"#;
    // A kernel built with a revert: its runs must say so.
    let mut build: Value = serde_json::from_str(&build_record(&k, 2)).unwrap();
    build["revert"] = json!("fedcba9876543210fedcba9876543210fedcba98");
    let input = format!("{other}\n{build}\n");
    let out = ktest(
        &input,
        &[
            "--repro",
            repro.to_str().unwrap(),
            "--jobs",
            "2",
            "--timeout-run",
            "3",
        ],
        &[],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    // Other records and the build record are echoed unchanged, in order.
    assert_eq!(
        out.records[0],
        serde_json::from_str::<Value>(other).unwrap()
    );
    assert_eq!(out.records[1]["kind"], "build");
    assert_eq!(out.records[1]["reason"], "bisect");
    let runs = out.runs();
    assert_eq!(runs.len(), 2, "{}", out.stderr);
    for (i, r) in runs.iter().enumerate() {
        assert_eq!(r["run"], i as u64);
        assert_eq!(r["outcome"], "ok", "{r}\n{}", out.stderr);
        assert_eq!(r["commit"], COMMIT);
        assert_eq!(r["signature"], SIGNATURE);
        assert_eq!(r["revert"], "fedcba9876543210fedcba9876543210fedcba98");
        assert_eq!(r["crashed"], false);
        // auto: KVM where it works, else TCG (on these hosts QEMU's KVM aborts).
        assert!(r["accel"] == "tcg" || r["accel"] == "kvm", "{r}");
        assert!(r["iterations"].as_u64().unwrap() >= 1, "{r}");
        assert!(r["boot_seconds"].as_f64().unwrap() > 0.0);
        assert!(r["seconds"].as_f64().unwrap() >= 3.0);
        let log = std::fs::read_to_string(r["log"].as_str().unwrap()).unwrap();
        assert!(log.contains("@@kbisect@@ sanity-ok"));
        assert!(log.contains("@@kbisect@@ done"));
    }
}

#[test]
fn auto_accel_falls_back_when_kvm_is_broken() {
    let k = kernel(&CLEAN);
    // A KVM that hangs is silent: a short silence limit is enough to see it.
    let forced = ktest(
        &build_record(&k, 1),
        &[
            "--accel",
            "kvm",
            "--timeout-run",
            "1",
            "--no-output-timeout",
            "10",
        ],
        &[],
    );
    let forced = forced.runs()[0].clone();
    // A cache of its own, so that this ktest probes and the next one finds
    // the answer kept for this boot.
    let cache = tempfile::tempdir().unwrap();
    let env = [("KBISECT_CACHE", cache.path().to_str().unwrap())];
    let first = ktest(&build_record(&k, 1), &["--timeout-run", "1"], &env);
    let auto = first.runs()[0].clone();
    assert_eq!(auto["outcome"], "ok", "{auto}");
    let again = ktest(&build_record(&k, 1), &["--timeout-run", "1"], &env);
    assert_eq!(again.runs()[0]["accel"], auto["accel"], "{}", again.stderr);
    assert!(
        !first.stderr.contains("kept for this boot") && again.stderr.contains("kept for this boot"),
        "the second ktest did not reuse the probe's answer:\n{}\n{}",
        first.stderr,
        again.stderr
    );
    if forced["outcome"] == "infra_error" {
        // KVM broken (or absent) here: QEMU's complaint is in the detail,
        // and auto chose TCG.
        assert!(
            forced["detail"].as_str().unwrap().contains("QEMU"),
            "{forced}"
        );
        assert_eq!(auto["accel"], "tcg", "{auto}");
    } else if forced["outcome"] == "boot_failed" {
        // KVM that runs the firmware and the decompressor, then hangs (seen
        // on hosts whose /dev/kvm opens but whose CPU has no vmx): the probe
        // wants the kernel's banner, so auto chose TCG.
        assert_eq!(forced["title"], "no output from test machine", "{forced}");
        assert_eq!(auto["accel"], "tcg", "{auto}");
    } else {
        assert_eq!(forced["outcome"], "ok", "{forced}");
        assert_eq!(auto["accel"], "kvm", "{auto}");
    }
}

#[test]
fn planted_null_deref_is_crashed_with_syzkaller_title() {
    let k = kernel(&NULL_DEREF);
    let d = tempfile::tempdir().unwrap();
    let repro = write_file(d.path(), "repro.c", NULL_DEREF_REPRO);
    let out = ktest(
        &build_record(&k, 1),
        &[
            "--repro",
            repro.to_str().unwrap(),
            "--timeout-run",
            "20",
            "--target",
            NULL_DEREF_TITLE,
        ],
        &[],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let runs = out.runs();
    assert_eq!(runs.len(), 1);
    let r = runs[0];
    assert_eq!(r["outcome"], "crashed", "{r}");
    assert_eq!(r["crashed"], true);
    assert_eq!(r["title"], NULL_DEREF_TITLE, "{r}");
    assert_eq!(r["same_bug"], true);
    // Stopped once the report was complete, not at the end of the run time.
    assert!(r["seconds"].as_f64().unwrap() < 20.0, "{r}");
    let log = std::fs::read_to_string(r["log"].as_str().unwrap()).unwrap();
    assert!(log.contains("kbisect_planted_null_deref"));
}

#[test]
fn target_stops_early_and_counts_skipped_runs() {
    let k = kernel(&NULL_DEREF);
    let d = tempfile::tempdir().unwrap();
    let repro = write_file(d.path(), "repro.c", NULL_DEREF_REPRO);
    // runs comes from the record (4), not --runs (9); one VM at a time.
    let out = ktest(
        &build_record(&k, 4),
        &[
            "--repro",
            repro.to_str().unwrap(),
            "--runs",
            "9",
            "--jobs",
            "1",
            "--timeout-run",
            "20",
            "--target",
            "some other bug",
            "--target",
            NULL_DEREF_TITLE,
        ],
        &[],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let runs = out.runs();
    assert_eq!(runs.len(), 4, "every run is accounted for");
    assert_eq!(runs[0]["outcome"], "crashed");
    assert_eq!(runs[0]["same_bug"], true);
    for r in &runs[1..] {
        assert_eq!(r["outcome"], "skipped", "{r}");
        assert!(r.get("log").is_none());
    }
}

#[test]
fn boot_time_warning_is_boot_failed_with_its_title() {
    let k = kernel(&BOOT_WARN);
    let out = ktest(&build_record(&k, 1), &["--timeout-run", "3"], &[]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let r = out.runs()[0];
    assert_eq!(r["outcome"], "boot_failed", "{r}");
    assert_eq!(r["title"], BOOT_WARN_TITLE, "{r}");
    assert!(r.get("same_bug").is_none(), "no --target, no same_bug");
}

#[test]
fn reproducer_that_cannot_run_is_test_failed() {
    let k = kernel(&CLEAN);
    // A dynamically linked binary: the guest has no loader for it.
    let out = ktest(
        &build_record(&k, 1),
        &["--repro", "/bin/true", "--timeout-run", "3"],
        &[],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let r = out.runs()[0];
    assert_eq!(r["outcome"], "test_failed", "{r}");
    assert!(r["detail"].as_str().unwrap().contains("cannot run"), "{r}");
}

#[test]
fn shell_script_reproducer_runs_in_a_loop() {
    let k = kernel(&CLEAN);
    let d = tempfile::tempdir().unwrap();
    let repro = write_file(
        d.path(),
        "repro.sh",
        "#!/bin/sh\necho kbisect-script-ran\nsleep 1\n",
    );
    let out = ktest(
        &build_record(&k, 1),
        &["--repro", repro.to_str().unwrap(), "--timeout-run", "4"],
        &[],
    );
    let r = out.runs()[0];
    assert_eq!(r["outcome"], "ok", "{r}\n{}", out.stderr);
    assert!(r["iterations"].as_u64().unwrap() >= 2, "{r}");
    let log = std::fs::read_to_string(r["log"].as_str().unwrap()).unwrap();
    assert!(log.contains("kbisect-script-ran"));
}

#[test]
fn silent_kernel_is_no_output_from_test_machine() {
    let k = kernel(&SILENT);
    let t = Instant::now();
    let out = ktest(
        &build_record(&k, 1),
        &["--no-output-timeout", "5", "--timeout-boot", "60"],
        &[],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let r = out.runs()[0];
    assert_eq!(r["outcome"], "boot_failed", "{r}");
    assert_eq!(r["title"], "no output from test machine", "{r}");
    assert!(
        t.elapsed() < Duration::from_secs(40),
        "ended by the no-output timeout"
    );
}

#[test]
fn missing_qemu_is_infra_error() {
    let k = kernel(&CLEAN);
    let out = ktest(
        &build_record(&k, 2),
        &["--qemu", "/nonexistent/qemu-system-x86_64"],
        &[],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let runs = out.runs();
    assert_eq!(runs.len(), 2);
    for r in runs {
        assert_eq!(r["outcome"], "infra_error", "{r}");
        assert!(
            r["detail"].as_str().unwrap().contains("/nonexistent/qemu"),
            "{r}"
        );
    }
    // The same through the environment.
    let out = ktest(
        &build_record(&k, 1),
        &["--accel", "tcg"],
        &[("KBISECT_QEMU", "/nonexistent/qemu-env")],
    );
    assert_eq!(out.runs()[0]["outcome"], "infra_error");
}

#[test]
fn reproducer_that_does_not_compile_puts_the_error_in_the_record() {
    let k = kernel(&CLEAN);
    let d = tempfile::tempdir().unwrap();
    let repro = write_file(
        d.path(),
        "broken.c",
        "int main(void) { return no_such_variable; }\n",
    );
    let out = ktest(
        &build_record(&k, 2),
        &["--repro", repro.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let runs = out.runs();
    assert_eq!(runs.len(), 2);
    for r in runs {
        assert_eq!(r["outcome"], "test_failed", "{r}");
        let detail = r["detail"].as_str().unwrap();
        assert!(detail.contains("does not compile"), "{detail}");
        assert!(
            detail.contains("error:") && detail.contains("no_such_variable"),
            "{detail}"
        );
    }
}

#[test]
fn bad_images_and_records() {
    let d = tempfile::tempdir().unwrap();
    let not_kernel = write_file(d.path(), "bzImage", "this is not a kernel\n");
    let missing = d.path().join("missing-bzImage");
    let no_kernel = json!({"kind":"build","commit":COMMIT,"ok":true});
    let failed = json!({"kind":"build","commit":COMMIT,"ok":false,"error":"build_failed"});
    let input = format!(
        "{}\n{}\n{no_kernel}\n{failed}\n",
        build_record(&not_kernel, 1),
        build_record(&missing, 1)
    );
    let out = ktest(&input, &[], &[]);
    // A build record with ok:true and no kernel is bad input: every record
    // is still handled, and the exit status says so (issue 13 item 6).
    assert_eq!(out.status, 2, "{}", out.stderr);
    let kinds: Vec<&str> = out
        .records
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["build", "run", "build", "run", "build", "error", "build"]
    );
    assert_eq!(out.records[1]["outcome"], "infra_error");
    assert!(out.records[1]["detail"]
        .as_str()
        .unwrap()
        .contains("not a bzImage"));
    assert_eq!(out.records[3]["outcome"], "infra_error");
    assert!(out.records[3]["detail"]
        .as_str()
        .unwrap()
        .contains("No such file"));
    let err = &out.records[5];
    assert_eq!(err["tool"], "ktest");
    assert_eq!(err["error"], "bad_input");
    assert_eq!(err["line"], 3);
    assert_eq!(out.records[6], failed);

    // Not JSON at all: exit 2 naming the line, after handling what came before.
    let out = ktest(&format!("{failed}\nnot json\n"), &[], &[]);
    assert_eq!(out.status, 2);
    assert_eq!(out.records.len(), 1);
    assert!(
        out.stderr.contains("<stdin>:2: invalid JSON"),
        "{}",
        out.stderr
    );
}

/// Children of `pid` (from /proc), with their command names.
fn children(pid: u32) -> Vec<(u32, String)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = stat[stat.find('(').unwrap() + 1..close].to_string();
        let ppid: u32 = stat[close + 2..]
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if ppid == pid {
            v.push((p, comm));
        }
    }
    v
}

/// ktest mid-stream (stdin open) with two VMs running.
struct Running {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    qemus: Vec<u32>,
    tmp: tempfile::TempDir,
    _logs: tempfile::TempDir,
}

fn start_two_vms() -> Running {
    let k = kernel(&CLEAN);
    let tmp = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(tests::bin("ktest"))
        .args(["--timeout-run", "120", "--jobs", "2", "--log-dir"])
        .arg(logs.path())
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", build_record(&k, 2)).unwrap();
    let t = Instant::now();
    let qemus = loop {
        let q: Vec<u32> = children(child.id())
            .into_iter()
            .filter(|(_, c)| c.starts_with("qemu"))
            .map(|(p, _)| p)
            .collect();
        if q.len() == 2 || t.elapsed() > Duration::from_secs(60) {
            break q;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(qemus.len(), 2, "two VMs should be running");
    assert!(
        std::fs::read_dir(tmp.path()).unwrap().count() > 0,
        "ktest has a temp dir"
    );
    Running {
        child,
        stdin,
        qemus,
        tmp,
        _logs: logs,
    }
}

fn gone_soon(pid: u32) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        // A zombie still has /proc/PID; reaped or dead is gone for us.
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(s)
                if s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z') =>
            {
                return true
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    false
}

#[test]
fn sigint_leaves_no_qemu_and_no_temp_dirs() {
    let mut r = start_two_vms();
    unsafe { libc_kill(r.child.id() as i32, 2) };
    let status = r.child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    for q in &r.qemus {
        assert!(gone_soon(*q), "qemu {q} still running");
    }
    let left: Vec<_> = std::fs::read_dir(r.tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "temp files left behind: {left:?}");
    // Whatever was written is whole lines of JSON.
    let mut stdout = String::new();
    use std::io::Read;
    r.child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    for l in stdout.lines() {
        serde_json::from_str::<Value>(l).unwrap();
    }
    drop(r.stdin);
}

#[test]
fn sigkill_leaves_no_qemu() {
    let mut r = start_two_vms();
    r.child.kill().unwrap();
    r.child.wait().unwrap();
    for q in &r.qemus {
        assert!(gone_soon(*q), "qemu {q} outlived a killed ktest");
    }
    drop(r.stdin);
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// ktest --host against a real sshd on loopback: the runs boot on the ssh
/// "host" (as another user when the tests run as root), the console comes
/// back and is classified here, a host that refuses connections gives
/// infra_error runs naming it and its runs complete on the other slots,
/// no VM is left running there, and a second ktest sends nothing again.
#[test]
fn ssh_host_runs_the_reproducer_and_a_refused_host_fails_over() {
    let k = kernel(&NULL_DEREF);
    let d = tempfile::tempdir().unwrap();
    let repro = write_file(d.path(), "repro.c", NULL_DEREF_REPRO);
    let sshd = tests::sshd::Sshd::start(&["127.0.0.2"]);
    let good = sshd.host("127.0.0.2", 2);
    // Nothing listens there: connection refused.
    let refused = format!("{}@127.0.0.1:{}", sshd.user, tests::sshd::free_port());
    // Every run is wanted (no early stop), so each must land somewhere.
    let mut build: Value = serde_json::from_str(&build_record(&k, 3)).unwrap();
    build["stop_on_target"] = json!(false);
    let args = |hosts: &[&str]| {
        let mut a: Vec<String> = vec![
            "--repro".into(),
            repro.display().to_string(),
            "--timeout-run".into(),
            "20".into(),
            "--target".into(),
            NULL_DEREF_TITLE.into(),
            "--jobs".into(),
            "0".into(),
            "--ssh-config".into(),
            sshd.ssh_config.display().to_string(),
        ];
        for h in hosts {
            a.extend(["--host".to_string(), h.to_string()]);
        }
        a
    };
    let a = args(&[&refused, &good]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = ktest(&format!("{build}\n"), &a, &[]);
    assert_eq!(out.status, 0, "{}\nsshd: {}", out.stderr, sshd.log());
    assert!(out.stderr.contains("does not answer"), "{}", out.stderr);
    let runs = out.runs();
    let (failed, ran): (Vec<&Value>, Vec<&Value>) =
        runs.iter().partition(|r| r["outcome"] == "infra_error");
    assert!(!failed.is_empty(), "the refused host took a run: {runs:?}");
    for r in &failed {
        assert_eq!(r["host"], refused.as_str(), "{r}");
        assert!(r["detail"].as_str().unwrap().contains(&refused), "{r}");
    }
    let mut indices: Vec<u64> = ran.iter().map(|r| r["run"].as_u64().unwrap()).collect();
    indices.sort();
    assert_eq!(indices, [0, 1, 2], "every run completed once: {runs:?}");
    let good_name = good.rsplit_once('/').unwrap().0;
    for r in &ran {
        assert_eq!(r["host"], good_name, "{r}");
        assert_eq!(r["outcome"], "crashed", "{r}");
        assert_eq!(r["title"], NULL_DEREF_TITLE, "{r}");
        let log = std::fs::read_to_string(r["log"].as_str().unwrap()).unwrap();
        assert!(
            log.contains("kbisect_planted_null_deref"),
            "the console log is kept here"
        );
    }
    assert!(
        tests::sshd::has_files(&sshd.sent_dir()),
        "kernel and guest sent"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(sshd.remote_processes("qemu-system"), Vec::<String>::new());

    // The host keeps what it was sent: a second ktest only boots.
    let a = args(&[&good]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let again = ktest(&build_record(&k, 1), &a, &[]);
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert_eq!(again.runs()[0]["outcome"], "crashed", "{}", again.stderr);
    assert!(!again.stderr.contains(": sent "), "{}", again.stderr);
}

/// A host that drops the connection in the middle of a run: that run is an
/// infra_error naming the host, it completes on the local slot, and the VM
/// the dropped session started does not run on. (Only when the tests may
/// make the second user: killing sessions of the user running the tests
/// could cut the harness's own ssh connection.)
#[test]
fn ssh_host_that_drops_mid_run_fails_over_and_leaves_no_vm() {
    let sshd = tests::sshd::Sshd::start(&["127.0.0.2"]);
    if sshd.user != tests::sshd::REMOTE_USER {
        eprintln!("skipped: not root, no second user to drop sessions of");
        return;
    }
    let k = kernel(&CLEAN);
    let d = tempfile::tempdir().unwrap();
    let repro = write_file(d.path(), "repro.c", QUIET_REPRO);
    let host = sshd.host("127.0.0.2", 1);
    let user = sshd.user.clone();
    // Cut every session of the remote user once its VM has booted.
    let cutter = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let vms = std::process::Command::new("pgrep")
                .args(["-u", &user, "-f", "qemu-system"])
                .output()
                .map(|o| !o.stdout.is_empty())
                .unwrap_or(false);
            if vms {
                std::thread::sleep(Duration::from_secs(3));
                let _ = std::process::Command::new("pkill")
                    .args(["-u", &user, "-f", "^sshd: "])
                    .status();
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    });
    let out = ktest(
        &build_record(&k, 2),
        &[
            "--repro",
            repro.to_str().unwrap(),
            "--timeout-run",
            "15",
            "--jobs",
            "1",
            "--host",
            &host,
            "--ssh-config",
            sshd.ssh_config.to_str().unwrap(),
        ],
        &[],
    );
    assert!(cutter.join().unwrap(), "the remote VM never started");
    assert_eq!(out.status, 0, "{}", out.stderr);
    let runs = out.runs();
    let name = host.rsplit_once('/').unwrap().0;
    let dropped: Vec<_> = runs
        .iter()
        .filter(|r| r["outcome"] == "infra_error")
        .collect();
    assert!(!dropped.is_empty(), "{runs:?}\n{}", out.stderr);
    assert_eq!(dropped[0]["host"], name, "{runs:?}");
    assert!(dropped[0]["detail"].as_str().unwrap().contains(name));
    let ok: Vec<_> = runs.iter().filter(|r| r["outcome"] == "ok").collect();
    // One slot here, one there: the dropped run is done again here.
    assert_eq!(ok.len(), 2, "every run completed: {runs:?}\n{}", out.stderr);
    for r in ok {
        assert_eq!(r["host"], "local", "{runs:?}");
    }
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(sshd.remote_processes("qemu-system"), Vec::<String>::new());
}

/// syzbot's `CONFIG_CMDLINE` line (its 6.1 config) as the text of a file.
fn syzbot_cmdline(shared: &Path) -> String {
    let config = std::fs::read_to_string(shared.join("stable-6.1-kasan.config")).unwrap();
    config
        .lines()
        .find_map(|l| l.strip_prefix("CONFIG_CMDLINE=\""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("CONFIG_CMDLINE in syzbot's config")
        .to_string()
}

/// Issue 18: a kernel with syzbot's command line built in (CONFIG_CMDLINE
/// of its 6.1 config, with root=/dev/sda and panic_on_warn=1; the kernel
/// puts it before the boot loader's) still runs ktest's initramfs guest,
/// and ktest's own arguments reach it: the guest's run time is ktest's
/// (else the run record warns that the command line did not reach it).
#[test]
fn syzbot_built_in_command_line_keeps_the_guest_and_its_arguments() {
    let shared = tests::shared_dir().join("syzbot");
    if !shared.join("stable-6.1-kasan.config").is_file() {
        eprintln!("skipped: no {} (CI has ../shared)", shared.display());
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let fragment = write_file(
        d.path(),
        "cmdline.fragment",
        &format!(
            "CONFIG_CMDLINE_BOOL=y\nCONFIG_CMDLINE=\"{}\"\n# CONFIG_CMDLINE_OVERRIDE is not set\n",
            syzbot_cmdline(&shared)
        ),
    );
    let k = kernel_with(&CLEAN, Some(&fragment));
    let repro = write_file(d.path(), "quiet.c", QUIET_REPRO);
    let out = ktest(
        &build_record(&k, 1),
        &["--repro", repro.to_str().unwrap(), "--timeout-run", "4"],
        &[],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let r = out.runs()[0];
    assert_eq!(r["outcome"], "ok", "{r}\n{}", out.stderr);
    assert!(r["iterations"].as_u64().unwrap_or(0) >= 1, "{r}");
    assert!(r.get("warnings").is_none_or(Value::is_null), "{r}");
    let log = std::fs::read_to_string(r["log"].as_str().expect("a console log")).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("Kernel command line:"))
        .expect("the kernel prints its command line");
    assert!(
        line.contains("root=/dev/sda") && line.contains("net.ifnames=0"),
        "syzbot's built-in line is in: {line}"
    );
}

/// Issue 18: a handful of syzbot's real reproducers (../shared/syzbot/repros)
/// on the default kernel, in the guest syzbot's VMs give, with a syzbot-style
/// sysctl file (one sysctl the kernel lacks) and syzbot's command line
/// (CONFIG_CMDLINE of its 6.1 config) as a --cmdline-file. Each one compiles
/// and runs to its time limit or exits by itself (`iterations`); none is
/// lost to the harness, and the 32-bit one is built with -m32 or says why it
/// cannot run.
#[test]
fn syzbot_reproducers_run_in_the_syzbot_guest() {
    let shared = tests::shared_dir().join("syzbot");
    let repros = shared.join("repros");
    if !repros.is_dir() {
        eprintln!("skipped: no {} (CI has ../shared)", repros.display());
        return;
    }
    let k = kernel(&CLEAN);
    let d = tempfile::tempdir().unwrap();
    let sysctl = write_file(
        d.path(),
        "syzbot.sysctl",
        "# as syzbot's .sysctl files\nkernel.printk = 7 4 1 3\nkernel.no_such_sysctl_here = 1\nkernel.panic\n",
    );
    let cmdline_file = write_file(d.path(), "syzbot.cmdline", &syzbot_cmdline(&shared));
    // Varied: a loop-device one, a namespace-sandbox one (pivot_root into
    // a new root), a plain one, and the one 32-bit (__NR_mmap2) reproducer.
    let chosen = [
        "01859161eb0429722fcb2d9e5e82f8f23c207c9b.c",
        "365f3744330fc6e394b7f887f6238ea879439a2f.c",
        "0538d3530de3edaf1c4ae97f01adbd38ee0ca5f5.c",
        "f675f964019f884dbd0f.c",
    ];
    for name in chosen {
        let repro = repros.join(name);
        let m32 = std::fs::read_to_string(&repro)
            .unwrap()
            .contains("__NR_mmap2");
        let out = ktest(
            &build_record(&k, 1),
            &[
                "--repro",
                repro.to_str().unwrap(),
                "--timeout-run",
                "6",
                "--sysctl",
                sysctl.to_str().unwrap(),
                "--cmdline-file",
                cmdline_file.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(out.status, 0, "{name}: {}", out.stderr);
        let r = out.runs()[0];
        eprintln!("{name}: {r}");
        let detail = r["detail"].as_str().unwrap_or("");
        assert!(
            !detail.contains("does not compile") && !detail.contains("cannot compile"),
            "{name} compiles: {r}"
        );
        if m32 && r["outcome"] == "test_failed" {
            // The default kernel has no IA32_EMULATION, or the toolchain
            // no 32-bit libc: either way the record says which.
            assert!(
                detail.contains("CONFIG_IA32_EMULATION") || detail.contains("gcc-multilib"),
                "{name}: {r}"
            );
            continue;
        }
        assert!(
            r["outcome"] == "ok" || r["outcome"] == "crashed",
            "{name} ran: {r}\n{}",
            out.stderr
        );
        if r["outcome"] == "ok" {
            assert!(r["iterations"].as_u64().unwrap() >= 1, "{name}: {r}");
        }
        let warnings = r["warnings"].as_array().cloned().unwrap_or_default();
        assert!(
            warnings.iter().any(|w| w
                .as_str()
                .unwrap()
                .starts_with("sysctl kernel.no_such_sysctl_here")),
            "{name}: the missing sysctl is a warning: {r}"
        );
        assert!(
            warnings.iter().any(|w| w
                .as_str()
                .unwrap()
                .contains("syzbot.sysctl:4: `kernel.panic` is not")),
            "{name}: the line that is no setting is named: {r}"
        );
        assert!(
            !warnings
                .iter()
                .any(|w| w.as_str().unwrap().contains("did not reach")),
            "{name}: syzbot's command line keeps ktest's: {r}"
        );
        assert!(
            !r["guest_missing"]
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x == "real-root")),
            "{name}: the guest moved into a real root: {r}"
        );
    }
}
