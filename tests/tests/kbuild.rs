//! Real-kernel tests of kbuild and ksig: Debian's linux-source-6.1 made into
//! a git repository (scripts/linux-base-repo), a scratch clone of it with a
//! few test commits on top (a comment-only change, a code change, a version
//! bump, a syntax error), real builds, real signatures.
//!
//! Builds are expensive (CI has 2 cores), so everything is shared: one
//! scratch repository and its commits (made with fixed dates, so their shas
//! are the same every run) under $KBISECT_CACHE/tests/kbuild, one build dir
//! (`build-a`) for the gcc-12 builds, a second (`build-b`) only for the
//! two-build-dirs test, a third (`build-c`) only for the one gcc-11 build,
//! a fourth (`build-d`) only for the one clang-15 build, ccache, and kbuild's
//! artifact cache (a commit already built is answered from the cache). Full
//! builds: base in build-a, base again in build-b (ccache hits), base with
//! gcc-11 in build-c, base with clang-15 in build-d, and base twice in
//! throwaway build dirs with fresh ccaches for the farm test (distcc and a
//! redis remote cache, then the remote cache alone); the rest are
//! incremental.

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use tests::{bin, workspace_root};

type Record = Map<String, Value>;

/// The scratch repository and the test commits on it.
struct Fixture {
    repo: PathBuf,
    dir: PathBuf,
    base: String,
    comment: String,
    code: String,
    /// On `code`: changes the line `code` changed (so reverting `code` on
    /// it conflicts).
    code2: String,
    bump: String,
    syntax: String,
    /// Line of init/main.c that holds the syntax error.
    syntax_line: usize,
}

/// A tag on `comment` (and so contained in `syntax`), for the compiler table.
const NEWER_TAG: &str = "kbisect-test-newer";
const INIT_MAIN: &str = "init/main.c";

fn cache_root() -> PathBuf {
    std::env::var_os("KBISECT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/kbisect")
        })
}

fn git(dir: &Path, args: &[&str]) -> String {
    tests::scratch::git(dir, args, None)
}

/// A commit on `parent` that sets `path` to `content` (same inputs, same sha).
fn commit_file(repo: &Path, parent: &str, path: &str, content: &str, msg: &str) -> String {
    tests::scratch::commit_files(repo, parent, &[(path, content)], msg)
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let base_repo = duct::cmd!(workspace_root().join("scripts/linux-base-repo"))
            .read()
            .expect("scripts/linux-base-repo");
        let dir = cache_root().join("tests/kbuild");
        std::fs::create_dir_all(&dir).unwrap();
        let repo = dir.join("repo");
        if !repo.join(".git").is_dir() {
            // --shared: objects come from the base repository, whose refs
            // are never touched.
            git(
                &dir,
                &[
                    "clone",
                    "-q",
                    "--shared",
                    base_repo.trim(),
                    repo.to_str().unwrap(),
                ],
            );
        }
        let base = git(&repo, &["rev-parse", "v6.1^{commit}"]);
        let main_c = git(&repo, &["show", &format!("{base}:{INIT_MAIN}")]) + "\n";

        let comment_line = " *  Simplified starting of init:  Michael A. Griffith <grif@acm.org>";
        assert!(main_c.contains(comment_line));
        let comment = commit_file(
            &repo,
            &base,
            INIT_MAIN,
            &main_c.replacen(
                comment_line,
                " *  Simplified starting of init:  Michael A. Griffith, <grif@acm.org>",
                1,
            ),
            "init: comment-only change",
        );
        git(&repo, &["tag", "-f", NEWER_TAG, &comment]);

        let code_before = "\tconsole_loglevel = CONSOLE_LOGLEVEL_DEBUG;\n\treturn 0;";
        assert!(main_c.contains(code_before));
        let code = commit_file(
            &repo,
            &base,
            INIT_MAIN,
            &main_c.replacen(
                code_before,
                "\tconsole_loglevel = CONSOLE_LOGLEVEL_DEBUG;\n\treturn 1;",
                1,
            ),
            "init: code change",
        );

        let code_c = main_c.replacen(
            code_before,
            "\tconsole_loglevel = CONSOLE_LOGLEVEL_DEBUG;\n\treturn 1;",
            1,
        );
        let code2 = commit_file(
            &repo,
            &code,
            INIT_MAIN,
            &code_c.replacen(
                "CONSOLE_LOGLEVEL_DEBUG;\n\treturn 1;",
                "CONSOLE_LOGLEVEL_DEBUG;\n\treturn 2;",
                1,
            ),
            "init: change the changed line again",
        );

        let makefile = git(&repo, &["show", &format!("{base}:Makefile")]) + "\n";
        let bumped: Vec<String> = makefile
            .lines()
            .map(|l| match l.strip_prefix("SUBLEVEL = ") {
                Some(n) => format!("SUBLEVEL = {}", n.trim().parse::<u32>().unwrap() + 1),
                None if l.starts_with("EXTRAVERSION =") => "EXTRAVERSION = -rc1".to_string(),
                None => l.to_string(),
            })
            .collect();
        let bump = commit_file(
            &repo,
            &base,
            "Makefile",
            &(bumped.join("\n") + "\n"),
            "Linux 6.1.x-rc1",
        );

        let syntax_line = main_c.lines().count() + 1;
        let syntax = commit_file(
            &repo,
            &comment,
            INIT_MAIN,
            &format!(
                "{}int kbisect_syntax_error = ;\n",
                main_c.replacen(
                    comment_line,
                    " *  Simplified starting of init:  Michael A. Griffith, <grif@acm.org>",
                    1
                )
            ),
            "init: syntax error",
        );
        Fixture {
            repo,
            dir,
            base,
            comment,
            code,
            code2,
            bump,
            syntax,
            syntax_line,
        }
    })
}

/// Builds share build dirs and caches: one at a time even if the test
/// harness runs tests in parallel.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a command printed (records) and how it exited.
struct Ran {
    records: Vec<Record>,
    stderr: String,
    code: Option<i32>,
}

fn records_of(stdout: &[u8]) -> Vec<Record> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(m)) => m,
            other => panic!("stdout line is not a JSON object: {l:?} ({other:?})"),
        })
        .collect()
}

/// `kbuild <args> | ksig`, stdin empty (args give --commit).
fn kbuild_ksig(args: &[String]) -> Ran {
    kbuild_ksig_env(args, &[])
}

/// `kbuild <args> | ksig` with kbuild's environment extended by `env`.
fn kbuild_ksig_env(args: &[String], env: &[(&str, &Path)]) -> Ran {
    let mut kbuild = duct::cmd(bin("kbuild"), args);
    for (k, v) in env {
        kbuild = kbuild.env(k, v);
    }
    let out = kbuild
        .pipe(duct::cmd!(bin("ksig")))
        .stdin_null()
        .stdout_capture()
        .unchecked()
        .run()
        .expect("run kbuild | ksig");
    Ran {
        records: records_of(&out.stdout),
        stderr: String::new(),
        code: out.status.code(),
    }
}

/// kbuild alone, stderr captured.
fn kbuild_alone(args: &[String], stdin: &str) -> Ran {
    let out = duct::cmd(bin("kbuild"), args)
        .stdin_bytes(stdin.as_bytes().to_vec())
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .expect("run kbuild");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    eprint!("{stderr}");
    Ran {
        records: records_of(&out.stdout),
        stderr,
        code: out.status.code(),
    }
}

fn common_args(build_dir: &str) -> Vec<String> {
    let f = fixture();
    vec![
        "--repo".into(),
        f.repo.to_string_lossy().into_owned(),
        "--build-dir".into(),
        f.dir.join(build_dir).to_string_lossy().into_owned(),
        "--ccache".into(),
    ]
}

/// Build `commit` with gcc-12 in `build_dir` and sign it.
fn build(commit: &str, build_dir: &str, extra: &[&str]) -> Record {
    build_with("gcc-12", commit, build_dir, extra)
}

/// Build `commit` with `compiler` in `build_dir` and sign it.
fn build_with(compiler: &str, commit: &str, build_dir: &str, extra: &[&str]) -> Record {
    let mut args = common_args(build_dir);
    args.extend([
        "--compiler".into(),
        compiler.into(),
        "--commit".into(),
        commit.into(),
    ]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let ran = kbuild_ksig(&args);
    assert_eq!(ran.code, Some(0), "kbuild {args:?} exit status");
    assert_eq!(ran.records.len(), 1, "one record: {:?}", ran.records);
    let rec = ran.records.into_iter().next().unwrap();
    eprintln!("build record: {}", Value::Object(rec.clone()));
    rec
}

fn str_field<'a>(rec: &'a Record, name: &str) -> &'a str {
    rec.get(name)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {name} in {rec:?}"))
}

fn signature(rec: &Record) -> String {
    assert_eq!(rec["ok"], true, "build failed: {rec:?}");
    let sig = str_field(rec, "signature");
    assert_eq!(sig.len(), 64);
    sig.to_string()
}

/// The base commit with the default config, shared by most tests.
fn base_build() -> Record {
    static BASE: OnceLock<Record> = OnceLock::new();
    BASE.get_or_init(|| build(&fixture().base, "build-a", &[]))
        .clone()
}

#[test]
fn default_config_builds_and_leaves_the_users_tree_alone() {
    let _g = serial();
    let f = fixture();
    let head_before = git(&f.repo, &["rev-parse", "HEAD"]);
    let rec = base_build();
    assert_eq!(rec["kind"], "build");
    assert_eq!(str_field(&rec, "commit"), f.base);
    assert_eq!(rec["ok"], true);
    assert_eq!(str_field(&rec, "cc"), "gcc-12");
    let compiler = str_field(&rec, "compiler");
    assert!(
        compiler.starts_with("gcc-12 (Debian 12.") && compiler.contains(", GNU ld (GNU Binutils"),
        "{compiler}"
    );
    assert_eq!(
        rec.get("missing_options"),
        None,
        "default fragment fully applied"
    );
    let kernel = std::fs::read(str_field(&rec, "kernel")).unwrap();
    assert_eq!(&kernel[0x202..0x206], b"HdrS", "bzImage boot header");
    let vmlinux = std::fs::read(str_field(&rec, "vmlinux")).unwrap();
    assert_eq!(&vmlinux[..4], b"\x7fELF");
    let config = std::fs::read_to_string(str_field(&rec, "config")).unwrap();
    for opt in [
        "CONFIG_SERIAL_8250_CONSOLE=y",
        "CONFIG_KALLSYMS=y",
        "CONFIG_BLK_DEV_INITRD=y",
        "CONFIG_UNWINDER_FRAME_POINTER=y",
    ] {
        assert!(config.lines().any(|l| l == opt), "{opt} in .config");
    }
    assert_eq!(str_field(&rec, "kernel_release"), "9.9.9-kbisect");
    // The user's repository: HEAD and working tree untouched.
    assert_eq!(git(&f.repo, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(git(&f.repo, &["status", "--porcelain"]), "");

    // Asked again: from the cache, at no cost.
    let again = build(&f.base, "build-a", &[]);
    assert_eq!(again["cached"], true);
    assert!(again["seconds"].as_f64().unwrap() < 5.0);
    assert_eq!(signature(&again), signature(&rec));
}

#[test]
fn comment_only_change_keeps_the_signature() {
    let _g = serial();
    let base = base_build();
    let comment = build(&fixture().comment, "build-a", &[]);
    assert_eq!(signature(&comment), signature(&base));
}

#[test]
fn code_change_alters_the_signature() {
    let _g = serial();
    let base = base_build();
    let code = build(&fixture().code, "build-a", &[]);
    assert_ne!(signature(&code), signature(&base));
}

#[test]
fn version_bump_keeps_the_signature() {
    let _g = serial();
    let base = base_build();
    let bump = build(&fixture().bump, "build-a", &[]);
    assert_eq!(signature(&bump), signature(&base));
}

#[test]
fn same_commit_in_two_build_dirs_same_signature() {
    let _g = serial();
    let base = base_build();
    // --no-cache: really build it again, in a build dir of its own.
    let other = build(&fixture().base, "build-b", &["--no-cache"]);
    assert_ne!(other.get("cached"), Some(&Value::Bool(true)));
    assert!(str_field(&other, "vmlinux").contains("build-b"));
    assert_eq!(signature(&other), signature(&base));
}

#[test]
fn syntax_error_is_build_failed_with_the_error_line() {
    let _g = serial();
    let f = fixture();
    let rec = build(&f.syntax, "build-a", &[]);
    assert_eq!(rec["ok"], false);
    assert_eq!(str_field(&rec, "error"), "build_failed");
    let lines: Vec<&str> = rec["error_lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let want = format!("init/main.c:{}:", f.syntax_line);
    assert!(
        lines
            .first()
            .is_some_and(|l| l.starts_with(&want) && l.contains(": error: ")),
        "want {want}…error… first in {lines:?}"
    );
    assert!(rec.get("signature").is_none());
}

#[test]
fn compiler_table_picks_by_contained_release() {
    let _g = serial();
    let f = fixture();
    let table = f.dir.join("compilers.table");
    std::fs::write(
        &table,
        format!("# newest first\n{NEWER_TAG} gcc-12\n* gcc-11\n"),
    )
    .unwrap();
    let run = |commit: &str, dir: &str| {
        let mut args = common_args(dir);
        args.extend([
            "--compiler-table".into(),
            table.to_string_lossy().into_owned(),
            "--commit".into(),
            commit.into(),
        ]);
        let ran = kbuild_ksig(&args);
        assert_eq!(ran.code, Some(0));
        ran.records.into_iter().next().unwrap()
    };
    // The comment commit carries the tag: gcc-12 (the same build as
    // comment_only_change_keeps_the_signature, so likely cached).
    let newer = run(&f.comment, "build-a");
    assert_eq!(str_field(&newer, "cc"), "gcc-12");
    assert!(str_field(&newer, "compiler").starts_with("gcc-12 (Debian 12."));
    signature(&newer);
    // v6.1 does not contain it: gcc-11, a full build in its own dir.
    let older = run(&f.base, "build-c");
    eprintln!("gcc-11 record: {}", Value::Object(older.clone()));
    assert_eq!(str_field(&older, "cc"), "gcc-11");
    let id = str_field(&older, "compiler");
    assert!(
        id.starts_with("gcc-11 (Debian 11.") && id.contains("GNU ld"),
        "{id}"
    );
    signature(&older);
}

#[test]
fn clang_builds_and_links_with_its_own_lld() {
    // syzbot bisects clang-built kernels too; the seed's per-commit compiler
    // line names clang and ld.lld. A full build in its own dir.
    let _g = serial();
    let rec = build_with("clang-15", &fixture().base, "build-d", &[]);
    assert_eq!(str_field(&rec, "cc"), "clang-15");
    let id = str_field(&rec, "compiler");
    assert!(
        id.starts_with("Debian clang version 15.") && id.contains("LLD 15."),
        "{id}"
    );
    // The same source through another compiler is another kernel.
    assert_ne!(signature(&rec), signature(&base_build()));
}

#[test]
fn interrupted_build_does_not_poison_the_next() {
    let _g = serial();
    let f = fixture();
    base_build();
    let mut args = common_args("build-a");
    args.extend([
        "--compiler".into(),
        "gcc-12".into(),
        "--no-cache".into(),
        "--commit".into(),
        f.code.clone(),
    ]);
    // Put build-a at base first, so that building code has work to
    // interrupt (init/main.c differs).
    build(&f.base, "build-a", &["--no-cache"]);
    let mut child = std::process::Command::new(bin("kbuild"))
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let stderr = child.stderr.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // Wait until make builds, then ^C.
    use std::io::{BufRead, Read};
    let mut seen = String::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.unwrap();
        eprintln!("{line}");
        seen.push_str(&line);
        if line.contains("building with") {
            std::thread::sleep(std::time::Duration::from_secs(2));
            duct::cmd!("kill", "-INT", &pid).run().unwrap();
        }
    }
    let mut out = Vec::new();
    stdout.read_to_end(&mut out).unwrap();
    let status = child.wait().unwrap();
    let recs = records_of(&out);
    assert!(seen.contains("building with"), "{seen}");
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0]["ok"], false);
    assert_eq!(str_field(&recs[0], "error"), "interrupted");
    assert_eq!(status.code(), Some(1));
    // The next build in the same dir is good, and matches the cached one.
    let after = build(&f.code, "build-a", &["--no-cache"]);
    let cached = build(&f.code, "build-a", &[]);
    assert_eq!(signature(&after), signature(&cached));
}

#[test]
fn reverting_the_change_builds_the_parent() {
    let _g = serial();
    let f = fixture();
    let base = base_build();
    let reverted = build(&f.code, "build-a", &["--revert", &f.code]);
    assert_eq!(str_field(&reverted, "revert"), f.code);
    assert_eq!(signature(&reverted), signature(&base));
}

#[test]
fn timeout_kills_the_build() {
    let _g = serial();
    let f = fixture();
    let mut args = common_args("build-a");
    args.extend([
        "--compiler".into(),
        "gcc-12".into(),
        "--no-cache".into(),
        "--timeout".into(),
        "1".into(),
        "--commit".into(),
        f.bump.clone(),
    ]);
    let ran = kbuild_alone(&args, "");
    assert_eq!(ran.code, Some(0));
    assert_eq!(ran.records[0]["ok"], false);
    assert_eq!(str_field(&ran.records[0], "error"), "timeout");
}

#[test]
fn next_records_pass_through_and_other_kinds_echo() {
    let _g = serial();
    let f = fixture();
    base_build();
    let input = format!(
        "{{\"kind\":\"next\",\"commit\":\"{}\",\"reason\":\"bisect\",\"runs\":3,\"mine\":[1]}}\n{{\"kind\":\"verdict\",\"commit\":\"{}\",\"verdict\":\"good\"}}\n",
        f.base, f.base
    );
    let mut args = common_args("build-a");
    args.extend(["--compiler".into(), "gcc-12".into()]);
    let ran = kbuild_alone(&args, &input);
    assert_eq!(ran.code, Some(0));
    assert_eq!(ran.records.len(), 2);
    let b = &ran.records[0];
    assert_eq!(b["kind"], "build");
    assert_eq!(b["ok"], true);
    assert_eq!(b["cached"], true);
    assert_eq!(b["reason"], "bisect");
    assert_eq!(b["runs"], 3);
    assert_eq!(b["mine"], serde_json::json!([1]));
    assert_eq!(ran.records[1]["kind"], "verdict");
}

#[test]
fn unknown_config_option_is_listed_as_missing() {
    let _g = serial();
    let f = fixture();
    base_build();
    let frag = f.dir.join("unknown.fragment");
    std::fs::write(
        &frag,
        "CONFIG_KBISECT_NO_SUCH_OPTION=y\nCONFIG_PRINTK_TIME=y\n",
    )
    .unwrap();
    let rec = build(
        &f.base,
        "build-a",
        &["--config-fragment", frag.to_str().unwrap()],
    );
    assert_eq!(rec["ok"], true);
    assert_eq!(
        rec["missing_options"],
        serde_json::json!(["CONFIG_KBISECT_NO_SUCH_OPTION=y"])
    );
}

#[test]
fn bad_input_is_a_named_error_or_exit_2() {
    let _g = serial();
    let f = fixture();
    let args = |extra: &[&str]| {
        let mut a = common_args("build-a");
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    // Unknown commit.
    let ran = kbuild_alone(
        &args(&["--compiler", "gcc-12", "--commit", &"0".repeat(40)]),
        "",
    );
    assert_eq!(ran.code, Some(0));
    assert_eq!(str_field(&ran.records[0], "error"), "unknown_commit");
    // A revert that conflicts: code2 changed the line code changed.
    let ran = kbuild_alone(
        &args(&[
            "--compiler",
            "gcc-12",
            "--commit",
            &f.code2,
            "--revert",
            &f.code,
        ]),
        "",
    );
    assert_eq!(
        str_field(&ran.records[0], "error"),
        "revert_failed",
        "{:?}",
        ran.records
    );
    // Not a repository.
    let empty = tempfile::tempdir().unwrap();
    let mut a = vec![
        "--repo".to_string(),
        empty.path().to_string_lossy().into_owned(),
    ];
    a.extend([
        "--commit".into(),
        "HEAD".into(),
        "--build-dir".into(),
        empty.path().join("b").to_string_lossy().into_owned(),
    ]);
    let ran = kbuild_alone(&a, "");
    assert_eq!(str_field(&ran.records[0], "error"), "not_a_repo");
    // A compiler that is not installed names its Debian packages.
    let ran = kbuild_alone(&args(&["--compiler", "clang-99", "--commit", &f.base]), "");
    assert_eq!(str_field(&ran.records[0], "error"), "compiler_missing");
    let msg = ran.records[0]["error_lines"][0].as_str().unwrap();
    assert!(msg.contains("clang-99 + lld-99"), "{msg}");
    // Malformed input: exit 2 naming the line.
    let ran = kbuild_alone(
        &args(&["--compiler", "gcc-12"]),
        "{\"kind\":\"verdict\"}\nnot json\n",
    );
    assert_eq!(ran.code, Some(2));
    assert!(
        ran.stderr.contains("<stdin>:2: invalid JSON"),
        "{}",
        ran.stderr
    );
    // Bad usage: exit 2.
    let ran = kbuild_alone(&args(&["--config", "/nonexistent/config"]), "");
    assert_eq!(ran.code, Some(2));
}

#[test]
fn ksig_rejects_non_elf() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("vmlinux");
    std::fs::write(&text, "#!/bin/sh\nnot an ELF\n").unwrap();
    let out = duct::cmd!(bin("ksig"), &text)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an ELF file"));
    assert!(out.stdout.is_empty());
    // In a pipeline: the build record goes on unchanged, plus an error record.
    let input = format!(
        "{{\"kind\":\"build\",\"commit\":\"{}\",\"ok\":true,\"vmlinux\":\"{}\",\"seconds\":1.0}}\n",
        "a".repeat(40),
        text.display()
    );
    let out = duct::cmd!(bin("ksig"))
        .stdin_bytes(input)
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let recs = records_of(&out.stdout);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["kind"], "build");
    assert!(recs[0].get("signature").is_none());
    assert_eq!(recs[1]["kind"], "error");
    assert_eq!(recs[1]["tool"], "ksig");
    assert_eq!(recs[1]["error"], "not_elf");
}

/// Servers a test started (redis-server, distccd) on loopback; killed when
/// the guard goes, whatever the test did.
struct Servers {
    handles: Vec<duct::Handle>,
    dir: tempfile::TempDir,
}

impl Drop for Servers {
    /// SIGTERM first: distccd then stops its worker processes too (a
    /// SIGKILL would leave them behind); SIGKILL whatever is still up.
    fn drop(&mut self) {
        for h in &self.handles {
            for pid in h.pids() {
                let _ = duct::cmd("kill", ["-TERM", &pid.to_string()])
                    .stderr_null()
                    .unchecked()
                    .run();
            }
        }
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        for h in &self.handles {
            while matches!(h.try_wait(), Ok(None)) && std::time::Instant::now() < until {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let _ = h.kill();
        }
    }
}

/// A port nothing listens on at `ip` just now (the kernel's pick).
fn free_port(ip: &str) -> u16 {
    std::net::TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait until `ip:port` accepts connections (server ready), or panic with
/// the server's log.
fn wait_listening(ip: &str, port: u16, log: &Path) {
    let addr: std::net::SocketAddr = format!("{ip}:{port}").parse().unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < until {
        if std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200))
            .is_ok()
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "{addr} never listened: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

impl Servers {
    fn new() -> Servers {
        Servers {
            handles: Vec::new(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// redis-server on 127.0.0.1, no persistence; returns its port.
    fn redis(&mut self) -> u16 {
        let port = free_port("127.0.0.1");
        let log = self.dir.path().join("redis.log");
        let h = duct::cmd(
            "redis-server",
            [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir.path().to_str().unwrap(),
            ],
        )
        .stdin_null()
        .stdout_path(&log)
        .stderr_to_stdout()
        .unchecked()
        .start()
        .expect("start redis-server");
        self.handles.push(h);
        wait_listening("127.0.0.1", port, &log);
        port
    }

    /// A distccd listening on `ip` only, accepting loopback clients only,
    /// running the compilers of its own whitelist (/usr/lib/distcc);
    /// returns its port.
    fn distccd(&mut self, ip: &str, jobs: u32) -> u16 {
        let port = free_port(ip);
        let log = self.dir.path().join(format!("distccd-{ip}.log"));
        let h = duct::cmd(
            "distccd",
            [
                "--daemon",
                "--no-detach",
                "--listen",
                ip,
                "--port",
                &port.to_string(),
                "--allow",
                "127.0.0.0/8",
                "--jobs",
                &jobs.to_string(),
                // As root distccd runs as user distcc, who cannot write to
                // the test's dir: its log goes to stderr, into the file.
                "--log-stderr",
            ],
        )
        .stdin_null()
        .stderr_path(&log)
        .stdout_null()
        .unchecked()
        .start()
        .expect("start distccd");
        self.handles.push(h);
        wait_listening(ip, port, &log);
        port
    }
}

fn u64_field(obj: &Value, name: &str) -> u64 {
    obj.get(name)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no {name} in {obj}"))
}

/// Build the base commit in a fresh build dir with a fresh, empty
/// CCACHE_DIR (and DISTCC_DIR), never from the artifact cache.
fn fresh_build(tmp: &Path, name: &str, extra: &[String]) -> Record {
    let f = fixture();
    let build_dir = tmp.join(format!("build-{name}"));
    let mut args = common_args(build_dir.to_str().unwrap());
    args.extend(
        [
            "--compiler",
            "gcc-12",
            "--commit",
            f.base.as_str(),
            "--no-cache",
        ]
        .map(String::from),
    );
    args.extend(extra.iter().cloned());
    // distcc keeps its host locks and backoff state there; without the dir
    // it distributes nothing.
    let distcc_dir = tmp.join(format!("distcc-{name}"));
    std::fs::create_dir_all(&distcc_dir).unwrap();
    let ccache_dir = tmp.join(format!("ccache-{name}"));
    let out = kbuild_ksig_env(
        &args,
        &[("CCACHE_DIR", &ccache_dir), ("DISTCC_DIR", &distcc_dir)],
    );
    assert_eq!(out.code, Some(0), "kbuild {args:?} exit status");
    let recs = out.records;
    assert_eq!(recs.len(), 1, "one record: {recs:?}");
    let rec = recs.into_iter().next().unwrap();
    eprintln!("build record: {}", Value::Object(rec.clone()));
    assert_eq!(rec["ok"], true, "{rec:?}");
    assert_ne!(rec.get("cached"), Some(&Value::Bool(true)));
    rec
}

#[test]
fn distcc_build_signs_like_local_and_remote_cache_then_hits_90_percent() {
    let _g = serial();
    let base = base_build();
    for compiler in ["gcc-12", "x86_64-linux-gnu-gcc-12"] {
        assert!(
            Path::new("/usr/lib/distcc").join(compiler).exists(),
            "/usr/lib/distcc/{compiler} missing: distccd would refuse it (run update-distcc-symlinks)"
        );
    }
    let mut servers = Servers::new();
    let redis = servers.redis();
    let d1 = servers.distccd("127.0.0.2", 2);
    let d2 = servers.distccd("127.0.0.3", 2);
    // Listed first and down: distcc 3.4 tries the next host (or compiles
    // locally when none answers); the build must not notice.
    let down = free_port("127.0.0.4");
    let hosts = format!("127.0.0.4:{down}/1 127.0.0.2:{d1}/2 127.0.0.3:{d2}/2");
    let remote = format!("redis://127.0.0.1:{redis}");
    let tmp = tempfile::tempdir_in(&fixture().dir).unwrap();

    let first = fresh_build(
        tmp.path(),
        "1",
        &[
            "--remote-cache".into(),
            remote.clone(),
            "--distcc".into(),
            hosts.clone(),
        ],
    );
    let distcc = &first["distcc"];
    eprintln!(
        "build 1 (distcc, filling the remote cache): {}s, distcc {distcc}, ccache {}",
        first["seconds"], first["ccache"]
    );
    assert_eq!(distcc["hosts"], hosts.as_str());
    let cores = std::thread::available_parallelism().unwrap().get() as u64;
    assert_eq!(u64_field(distcc, "jobs"), cores + 5, "{distcc}");
    assert!(u64_field(distcc, "remote") > 0, "{distcc}");
    assert!(u64_field(distcc, "host_failures") > 0, "{distcc}");
    assert!(u64_field(&first["ccache"], "misses") > 0);
    assert_eq!(signature(&first), signature(&base));

    let second = fresh_build(tmp.path(), "2", &["--remote-cache".into(), remote]);
    let c = &second["ccache"];
    eprintln!(
        "build 2 (remote cache only): {}s, ccache {c}",
        second["seconds"]
    );
    assert!(second.get("distcc").is_none());
    let hits = u64_field(c, "remote_hits");
    let compiled = hits + u64_field(c, "local_hits") + u64_field(c, "misses");
    assert!(compiled > 0 && hits * 10 >= compiled * 9, "{c}");
    assert_eq!(signature(&second), signature(&base));
    drop(servers);
}
