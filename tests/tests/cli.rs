//! The contract every binary keeps (issue: workspace and protocol): `--help`
//! with a pipeline example, `--version`, and malformed JSON on stdin answered
//! with exit 2 and the line number — never a panic.

use std::io::Write;
use std::process::{Command, Stdio};
use tests::bin;

/// The binaries that read records on stdin.
const RECORD_READERS: &[&[&str]] = &[
    &["crashclass", "--jsonl"],
    &["kbuild"],
    &["ksig"],
    &["ktest", "--repro", "/bin/true"],
    &["bisect-step", "--journal", "JOURNAL"],
    &["kbisect-log"],
];

const ALL: &[&str] = &[
    "crashclass",
    "kbuild",
    "ksig",
    "ktest",
    "bisect-step",
    "kbisect-log",
];

fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(bin(args[0]))
        .args(&args[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e} (run `make build` first)", args[0]));
    // The tool may exit before reading everything; a broken pipe here is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_binary_has_help_with_a_pipeline_and_a_version() {
    for name in ALL {
        let (code, out, err) = run(&[name, "--help"], b"");
        assert_eq!(code, 0, "{name} --help exited {code}: {err}");
        assert!(
            out.contains('|'),
            "{name} --help shows no pipeline example:\n{out}"
        );
        let (code, out, _) = run(&[name, "--version"], b"");
        assert_eq!(code, 0, "{name} --version");
        assert!(
            out.contains(env!("CARGO_PKG_VERSION")),
            "{name} --version: {out}"
        );
    }
}

#[test]
fn malformed_json_exits_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let journal = journal.to_str().unwrap();
    for args in RECORD_READERS {
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "JOURNAL" { journal } else { a })
            .collect();
        let (code, out, err) = run(&args, b"\n{\"kind\":\"nonsense-kind\"}\n{not json\n");
        assert_eq!(
            code, 2,
            "{args:?} exited {code}; stdout {out}; stderr {err}"
        );
        assert!(err.contains(":3"), "{args:?} does not name line 3: {err}");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    }
}

/// The `kbisect` script keeps the same contract for its arguments: a named
/// `kbisect: …` message and exit 2, never a shell's own error.
#[test]
fn kbisect_argument_errors_are_named_and_exit_2() {
    let script = tests::workspace_root().join("kbisect");
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--repo", "/nonexistent", "--title", "t"],
            "--repo /nonexistent",
        ),
        (&["--repro", dir, "--title", "t"], "not a regular file"),
        (
            &["--repro", "/nonexistent.c", "--title", "t"],
            "no such file",
        ),
        (&["--bad"], "--bad needs a value"),
        (&["--no-such-flag"], "unknown argument"),
        (&["--bug", "hang"], "--bug hang: unknown kind of bug"),
        (&["--bug", "exit"], "--bug exit needs --repro"),
        (&["--fix", "--title", "t"], "--fix needs --bad"),
        (
            &["--config-bisect", "--title", "t"],
            "--config-bisect needs --good-config A and --bad-config B",
        ),
        (
            &[
                "--config-bisect",
                "--good-config",
                "tinyconfig",
                "--bad-config",
                "/nonexistent.config",
                "--title",
                "t",
            ],
            "needs --commit",
        ),
        (
            &["--good-config", "a.config", "--title", "t"],
            "go with --config-bisect",
        ),
    ];
    for (args, says) in cases {
        let out = Command::new(&script)
            .args(*args)
            .stdin(Stdio::null())
            .output()
            .expect("run kbisect");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("kbisect: ") && err.contains(says),
            "{args:?}: {err}"
        );
    }
}

/// Issue 18: a malformed sysctl or command-line file is a usage error that
/// names the file and line, from ktest and from kbisect before anything is
/// built (the journal is not even created).
#[test]
fn malformed_sysctl_and_cmdline_files_are_named_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.sysctl");
    std::fs::write(&good, "# syzbot\nkernel.printk = 7 4 1 3\n").unwrap();
    let bad = dir.path().join("bad.sysctl");
    std::fs::write(&bad, "kernel.printk = 7\nkernel.panic\n").unwrap();
    let cmdline = dir.path().join("bad.cmdline");
    std::fs::write(&cmdline, "console=ttyS0 foo=\"open\n").unwrap();
    let (code, _, err) = run(
        &["ktest", "--sysctl", good.to_str().unwrap(), "--check-args"],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    // A line that is no setting is skipped and named; the work goes on
    // (each run record carries the warning too).
    let (code, _, err) = run(
        &["ktest", "--sysctl", bad.to_str().unwrap(), "--check-args"],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "ktest: warning: sysctl file {}:2: `kernel.panic` is not",
            bad.display()
        )),
        "{err}"
    );
    let (code, _, err) = run(
        &[
            "ktest",
            "--cmdline-file",
            cmdline.to_str().unwrap(),
            "--check-args",
        ],
        b"",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(":1: a quote is not closed"), "{err}");
    let journal = dir.path().join("j.jsonl");
    let repro = dir.path().join("r.c");
    std::fs::write(&repro, "int main(void) { return 0; }\n").unwrap();
    let out = Command::new(tests::workspace_root().join("kbisect"))
        .args([
            "--repo",
            dir.path().to_str().unwrap(),
            "--title",
            "t",
            "--repro",
        ])
        .arg(&repro)
        .arg("--cmdline-file")
        .arg(&cmdline)
        .arg("--journal")
        .arg(&journal)
        .stdin(Stdio::null())
        .output()
        .expect("run kbisect");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(":1: a quote is not closed"), "{err}");
    assert!(!journal.exists(), "the journal is untouched");
}

/// `kbisect --help` and `--version` come from its clap definition
/// (kbisect-args) and keep the tools' conventions: a pipeline example, the
/// defaults, the version.
#[test]
fn kbisect_help_and_version_follow_the_tools() {
    let script = tests::workspace_root().join("kbisect");
    let out = Command::new(&script)
        .arg("--help")
        .output()
        .expect("run kbisect");
    let help = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{help}");
    for says in ["|", "--report <FILE>", "[default: 10]", "--good <COMMIT>"] {
        assert!(
            help.contains(says),
            "kbisect --help lacks {says:?}:\n{help}"
        );
    }
    let out = Command::new(&script)
        .arg("--version")
        .output()
        .expect("run kbisect");
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

/// `make install` (its copying half, `install-files`, which builds
/// nothing) puts the tools, man pages and completions under
/// DESTDIR/PREFIX, and the installed kbisect finds its tools beside it.
#[test]
fn make_install_puts_tools_man_pages_and_completions_in_place() {
    let dest = tempfile::tempdir().unwrap();
    let root = tests::workspace_root();
    let bin_dir = bin("kbisect-docgen").parent().unwrap().to_path_buf();
    let out = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(&root)
        .arg("install-files")
        .arg(format!("DESTDIR={}", dest.path().display()))
        .arg("PREFIX=/usr")
        .arg(format!("BIN={}", bin_dir.display()))
        .arg(format!("DOCS={}", dest.path().join("docs").display()))
        .output()
        .expect("run make");
    assert!(
        out.status.success(),
        "make install-files: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let usr = dest.path().join("usr");
    let tools = [
        "kbisect",
        "bisect-step",
        "kbuild",
        "ksig",
        "ktest",
        "crashclass",
        "kbisect-log",
    ];
    for t in tools {
        for f in [
            format!("bin/{t}"),
            format!("share/man/man1/{t}.1"),
            format!("share/bash-completion/completions/{t}"),
            format!("share/zsh/site-functions/_{t}"),
            format!("share/fish/vendor_completions.d/{t}.fish"),
        ] {
            assert!(usr.join(&f).is_file(), "not installed: {f}");
        }
    }
    assert!(usr.join("lib/kbisect/kbisect-recipients").is_file());
    let page = usr.join("share/man/man1/kbisect.1");
    let text = std::fs::read_to_string(&page).unwrap();
    assert!(text.contains(".TH kbisect"), "not a man page: {text}");
    // `man -l` renders it when man is here (a minimal system may lack it).
    if let Ok(out) = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
    {
        if out.status.success() {
            assert!(String::from_utf8_lossy(&out.stdout).contains("--report"));
        }
    }
    // The installed kbisect, with its installed tools only (not the tree's).
    let out = Command::new(usr.join("bin/kbisect"))
        .arg("--help")
        .env("PATH", "/usr/bin:/bin")
        .env_remove("KBISECT_PATH")
        .output()
        .expect("run the installed kbisect");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("--report"));
}
