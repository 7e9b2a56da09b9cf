//! `--import-git-bisect-log`: a bisection begun with real `git bisect` in a
//! tempdir repository goes on in bisect-step to the culprit a bisection
//! from scratch names, and a bad log is exit 2 with the journal untouched.

use bisect_step::sim::History;
use bisect_step::Options;
use kbisect_records::{kind_of, parse, Next};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{step, verdict_on};

/// `git` in the history's work tree; its stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A line of 17 commits c0..c16 in a git repository at `dir`, HEAD at c16
/// (git bisect wants a branch to come back to).
fn line17(dir: &Path) -> History {
    let mut h = History::new(dir).unwrap();
    h.chain(None, 17, "c").unwrap();
    git(dir, &["update-ref", "HEAD", &h.commits[16].to_string()]);
    h
}

/// A real `git bisect` from c16 (bad) to c0 (good), `steps` commits
/// answered as the culprit says; the text of `git bisect log`.
fn git_bisect_log(dir: &Path, h: &History, culprit: usize, steps: usize) -> String {
    let (bad, good) = (h.commits[16].to_string(), h.commits[0].to_string());
    git(dir, &["bisect", "start", "--no-checkout", &bad, &good]);
    for _ in 0..steps {
        let x = git(dir, &["rev-parse", "BISECT_HEAD"]);
        let pos = h.position[&git2::Oid::from_str(x.trim()).unwrap()];
        let word = if h.is_ancestor(culprit, pos) {
            "bad"
        } else {
            "good"
        };
        git(dir, &["bisect", word, x.trim()]);
    }
    let log = git(dir, &["bisect", "log"]);
    git(dir, &["bisect", "reset"]);
    log
}

/// Answer every `next` with a verdict until the result: the culprit named
/// and how many commits were asked for.
fn finish(h: &History, o: &Options, culprit: usize) -> (String, usize) {
    let mut input = String::new();
    for asked in 0..100 {
        let (code, out, err) = step(o, &input);
        assert_eq!(code, 0, "{err}");
        if kind_of(&out[0]) == Some("result") {
            assert_eq!(out[0]["status"], "found", "{:?}", out[0]);
            return (out[0]["culprit"]["commit"].as_str().unwrap().into(), asked);
        }
        let next: Next = parse(&out[0]).unwrap();
        input = verdict_on(h, culprit, &next);
    }
    panic!("no result");
}

fn opts(h: &History, journal: PathBuf) -> Options {
    Options {
        journal: Some(journal),
        repo: Some(h.repo_path()),
        // Plain verdicts are certain: no reproduction rate to measure.
        repro_rate: Some(1.0),
        ..Default::default()
    }
}

#[test]
fn an_imported_git_bisect_goes_on_to_the_same_culprit_three_tests_sooner() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let h = line17(&repo);
    let culprit = 5;
    let log = git_bisect_log(&repo, &h, culprit, 3);
    let log_file = dir.path().join("git.log");
    std::fs::write(&log_file, &log).unwrap();

    let mut scratch = opts(&h, dir.path().join("scratch.jsonl"));
    scratch.bad = Some(h.commits[16].to_string());
    scratch.good = vec![h.commits[0].to_string()];
    let (from_scratch, asked_scratch) = finish(&h, &scratch, culprit);
    assert_eq!(from_scratch, h.commits[culprit].to_string());

    // A new journal: the ends come from the log.
    let mut imported = opts(&h, dir.path().join("imported.jsonl"));
    imported.import_git_bisect_log = Some(log_file.clone());
    let (culprit_named, asked) = finish(&h, &imported, culprit);
    assert_eq!(culprit_named, from_scratch);
    assert_eq!(asked + 3, asked_scratch, "{log}");
    let text = std::fs::read_to_string(imported.journal.as_ref().unwrap()).unwrap();
    let start: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(start["bad"], h.commits[16].to_string());
    assert_eq!(start["good"], serde_json::json!([h.commits[0].to_string()]));
    let from_log: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| {
            r["reason"]
                .as_str()
                .is_some_and(|s| s.starts_with("git bisect log line "))
        })
        .collect();
    // The two ends and three answers, as a person's verdicts.
    assert_eq!(from_log.len(), 5, "{text}");
    assert!(from_log
        .iter()
        .all(|r| r["kind"] == "verdict" && r.get("by").is_none()));

    // An existing journal keeps its start and takes the marks.
    let mut existing = scratch.clone();
    existing.journal = Some(dir.path().join("existing.jsonl"));
    let (code, _, err) = step(&existing, "");
    assert_eq!(code, 0, "{err}");
    let mut o = existing.clone();
    o.bad = None;
    o.good = vec![];
    o.import_git_bisect_log = Some(log_file);
    let (code, out, err) = step(&o, "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out[0]["kind"], "next");
    o.import_git_bisect_log = None;
    let (culprit_named, _) = finish(&h, &o, culprit);
    assert_eq!(culprit_named, from_scratch);
}

/// `--fix` with git's own words for a fix search (`--term-new=fixed`): the
/// new side is where the bug is gone, so its marks are `good` verdicts.
#[test]
fn a_fix_search_log_maps_the_new_side_to_good() {
    let dir = tempfile::tempdir().unwrap();
    let h = line17(&dir.path().join("repo"));
    let (c16, c0, c8) = (h.commits[16], h.commits[0], h.commits[8]);
    let log = format!(
        "git bisect start '--term-new=fixed' '--term-old=broken'\n\
         # fixed: [{c16}] c 16\ngit bisect fixed {c16}\n\
         # broken: [{c0}] c 0\ngit bisect broken {c0}\n\
         # fixed: [{c8}] c 8\ngit bisect fixed {c8}\n"
    );
    let log_file = dir.path().join("git.log");
    std::fs::write(&log_file, log).unwrap();
    let mut o = opts(&h, dir.path().join("j.jsonl"));
    o.fix = true;
    o.import_git_bisect_log = Some(log_file);
    let (code, out, err) = step(&o, "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out[0]["kind"], "next");
    let text = std::fs::read_to_string(o.journal.as_ref().unwrap()).unwrap();
    let recs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs[0]["direction"], "fix");
    // bad has the bug in both directions: for a fix it is the older end.
    assert_eq!(recs[0]["bad"], c0.to_string());
    assert_eq!(recs[0]["good"], serde_json::json!([c16.to_string()]));
    let verdict = |c: git2::Oid| {
        recs.iter()
            .find(|r| r["kind"] == "verdict" && r["commit"] == c.to_string())
            .map(|r| r["verdict"].as_str().unwrap().to_string())
    };
    assert_eq!(verdict(c16).as_deref(), Some("good"));
    assert_eq!(verdict(c8).as_deref(), Some("good"));
    assert_eq!(verdict(c0).as_deref(), Some("bad"));
    // The fix is in c1..c8: the next commit asked for is among them.
    let next = h.position[&git2::Oid::from_str(out[0]["commit"].as_str().unwrap()).unwrap()];
    assert!((1..=8).contains(&next), "{next}");
}

#[test]
fn a_bad_log_exits_2_and_leaves_the_journal_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = line17(&dir.path().join("repo"));
    let stray = h.commit(&[], "a root nobody merged").unwrap();
    let c = |i: usize| h.commits[i].to_string();
    let j = dir.path().join("j.jsonl");
    let mut o = opts(&h, j.clone());
    o.bad = Some(c(12));
    o.good = vec![c(0)];
    let (code, _, err) = step(&o, "");
    assert_eq!(code, 0, "{err}");
    let before = std::fs::read(&j).unwrap();
    let foreign = "ab".repeat(20);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "garbage",
            "git bisect start\nhello there\n".into(),
            ":2: not a git bisect command",
        ),
        (
            "foreign",
            format!(
                "git bisect start\ngit bisect good {}\ngit bisect bad {foreign}\n",
                c(3)
            ),
            ":3: commit abab",
        ),
        (
            "outside",
            format!("git bisect start\ngit bisect bad {}\n", c(14)),
            ":2: commit",
        ),
        (
            "stray",
            format!("git bisect start\ngit bisect good {}\n", h.commits[stray]),
            "not in the range",
        ),
        (
            "both-sides",
            format!(
                "git bisect start\ngit bisect good {0}\ngit bisect bad {0}\n",
                c(5)
            ),
            ":3: the log contradicts",
        ),
        (
            "old-after-new",
            format!(
                "git bisect start\ngit bisect bad {}\ngit bisect good {}\n",
                c(4),
                c(6)
            ),
            ":3: the log contradicts",
        ),
        (
            "against-the-ends",
            format!("git bisect start\ngit bisect good {}\n", c(12)),
            ":2: the log contradicts",
        ),
    ];
    for (name, text, want) in &cases {
        let file = dir.path().join(format!("{name}.log"));
        std::fs::write(&file, text).unwrap();
        let mut oi = o.clone();
        oi.import_git_bisect_log = Some(file.clone());
        let (code, out, err) = step(&oi, "");
        assert_eq!(code, 2, "{name}: {err}");
        assert!(out.is_empty(), "{name}");
        let named = format!("{}", file.display());
        assert!(err.contains(&named) && err.contains(want), "{name}: {err}");
        assert_eq!(
            std::fs::read(&j).unwrap(),
            before,
            "{name}: journal changed"
        );
    }
    assert!(cases[2].1.contains(&c(14)));
    // A file that cannot be read.
    let mut oi = o.clone();
    oi.import_git_bisect_log = Some(dir.path().join("no-such.log"));
    let (code, _, err) = step(&oi, "");
    assert_eq!(code, 2);
    assert!(err.contains("no-such.log: cannot read"), "{err}");
    assert_eq!(std::fs::read(&j).unwrap(), before);
    // On a new journal nothing is left behind, by the binary too.
    let bad_log = dir.path().join("both-sides.log");
    let fresh = dir.path().join("fresh.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_bisect-step"))
        .args(["--repo", &h.repo_path(), "--journal"])
        .arg(&fresh)
        .arg("--import-git-bisect-log")
        .arg(&bad_log)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("both-sides.log: ends from the log (bad from line 3, good from line 2)"),
        "{stderr}"
    );
    assert!(!fresh.exists());
}

/// The log's `--first-parent` is the new journal's; a step killed after
/// appending the imported verdicts and run again with the same log and
/// input counts them once, and so does a later import of the same log.
#[test]
fn first_parent_comes_from_the_log_and_a_repeated_import_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let h = line17(&dir.path().join("repo"));
    let (c16, c0, c8) = (h.commits[16], h.commits[0], h.commits[8]);
    let log = format!(
        "# bad: [{c16}] c 16\n# good: [{c0}] c 0\ngit bisect start '--first-parent' 'HEAD' 'HEAD~16'\n\
         # good: [{c8}] c 8\ngit bisect good {c8}\n"
    );
    let log_file = dir.path().join("git.log");
    std::fs::write(&log_file, log).unwrap();
    let j = dir.path().join("j.jsonl");
    let mut o = opts(&h, j.clone());
    o.import_git_bisect_log = Some(log_file);
    let (code, _, err) = step(&o, "");
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&j).unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains("\"first_parent\":true"),
        "{text}"
    );
    let imported = |t: &str| t.matches("git bisect log line").count();
    assert_eq!(imported(&text), 3, "{text}");
    // Killed before its decision: the journal ends with the input.
    let lines: Vec<&str> = text.lines().collect();
    let cut = lines[..lines.len() - 1].join("\n") + "\n";
    std::fs::write(&j, &cut).unwrap();
    let run_rec = format!(
        "{{\"kind\":\"verdict\",\"commit\":\"{}\",\"verdict\":\"good\"}}\n",
        h.commits[12]
    );
    // Fed again (with an input record now): the marks count once.
    let (code, out, err) = step(&o, &run_rec);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out[0]["kind"], "next");
    let text = std::fs::read_to_string(&j).unwrap();
    assert_eq!(imported(&text), 3, "{text}");
    let (code, _, err) = step(&o, "");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("already in the journal"), "{err}");
    assert_eq!(imported(&std::fs::read_to_string(&j).unwrap()), 3);
}
