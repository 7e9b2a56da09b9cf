//! The command-line contract through `bisect_step::run` (and the binary):
//! a journal-driven loop, resume after a kill, plain verdicts, bad input.

use bisect_step::model::Direction;
use bisect_step::sim::{History, Tester, Truth};
use bisect_step::Options;
use kbisect_records::{kind_of, parse, Next, Object, Reason};
use std::path::Path;

mod common;
use common::{step, verdict_on};

fn jsonl(recs: &[Object]) -> String {
    recs.iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect()
}

fn history(dir: &Path) -> History {
    let mut h = History::new(dir).unwrap();
    h.kernel_like(60, 3, 3, 4).unwrap();
    h
}

fn opts(h: &History, journal: &Path, bad: usize, good: usize) -> Options {
    Options {
        journal: Some(journal.to_path_buf()),
        repo: Some(h.repo_path()),
        bad: Some(h.commits[bad].to_string()),
        good: vec![h.commits[good].to_string()],
        ..Default::default()
    }
}

/// Run the shell loop in-process: bisect-step, then the tester's records
/// back in. `kill_at`: after that many steps, leave a torn line in the
/// journal (as a kill mid-append would) and go on.
fn bisect(h: &History, truth: Truth, o: &Options, kill_at: Option<usize>) -> (Object, String) {
    let mut tester = Tester::new(h, truth, 5);
    let mut input = String::new();
    let mut stderr = String::new();
    for i in 0..500 {
        let (code, out, err) = step(o, &input);
        stderr += &err;
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.len(), 1, "one record a step");
        let rec = out[0].clone();
        if kind_of(&rec) == Some("result") {
            return (rec, stderr);
        }
        let next: Next = parse(&rec).unwrap();
        input = jsonl(&tester.respond(&next, 1));
        if kill_at == Some(i) {
            use std::io::Write;
            let j = o.journal.as_ref().unwrap();
            let mut f = std::fs::OpenOptions::new().append(true).open(j).unwrap();
            f.write_all(&input.as_bytes()[..input.len() / 2]).unwrap();
            if input.as_bytes()[input.len() / 2 - 1] == b'\n' {
                f.write_all(b"{\"kind\":\"run\",\"comm").unwrap();
            }
        }
    }
    let text = std::fs::read_to_string(o.journal.as_ref().unwrap()).unwrap();
    let tail: Vec<&str> = text.lines().rev().take(12).collect();
    panic!("no result: {}", tail.join("\n"));
}

#[test]
fn journal_loop_finds_the_culprit_and_resumes_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let bad = h.commits.len() - 1;
    let culprit = 40;
    let o = opts(&h, &dir.path().join("j1.jsonl"), bad, 0);
    let (result, log) = bisect(&h, Truth::new(culprit), &o, None);
    assert_eq!(result["status"], "found", "{result:?}");
    assert_eq!(result["culprit"]["commit"], h.commits[culprit].to_string());
    assert!(log.contains("Bisecting:"), "{log}");
    assert!(log.contains("# git bisect bad"), "{log}");
    // Re-running on the finished journal prints the same result.
    let (code, again, _) = step(
        &Options {
            journal: o.journal.clone(),
            ..Default::default()
        },
        "",
    );
    assert_eq!(code, 0);
    assert_eq!(again[0], result);
    // The journal starts with the start record and holds verdicts.
    let text = std::fs::read_to_string(o.journal.as_ref().unwrap()).unwrap();
    assert!(text.starts_with("{") && text.lines().next().unwrap().contains("\"kind\":\"start\""));
    assert!(text.contains("\"kind\":\"verdict\""));

    // Killed mid-append at step 6: the torn line is dropped and named, and
    // the bisection reaches the same culprit.
    let o2 = opts(&h, &dir.path().join("j2.jsonl"), bad, 0);
    let (result2, log2) = bisect(&h, Truth::new(culprit), &o2, Some(6));
    assert!(log2.contains("torn last line"), "{log2}");
    assert_eq!(result2["culprit"], result["culprit"]);
}

#[test]
fn plain_verdicts_drive_it_like_git_bisect() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let bad = h.commits.len() - 1;
    let culprit = 25;
    let mut o = opts(&h, &dir.path().join("j.jsonl"), bad, 0);
    o.repro_rate = Some(1.0);
    let mut input = String::new();
    for _ in 0..100 {
        let (code, out, err) = step(&o, &input);
        assert_eq!(code, 0, "{err}");
        if kind_of(&out[0]) == Some("result") {
            assert_eq!(out[0]["culprit"]["commit"], h.commits[culprit].to_string());
            return;
        }
        let next: Next = parse(&out[0]).unwrap();
        // A person answers the parent with a verdict too.
        input = verdict_on(&h, culprit, &next);
    }
    panic!("no result");
}

/// Plain verdicts with no `--repro-rate` are certain answers: over 16
/// candidates in a line the choice halves like `git bisect`, 4 tests for
/// every culprit (it once leaned to the good side, as for a flaky
/// reproducer, and took more).
/// Each bisection `next` carries the best candidate's posterior
/// (`culprit_probability`, for progress displays): a probability, and
/// higher once the verdicts have narrowed the range than at the start.
#[test]
fn next_records_carry_the_culprits_probability() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::new(&dir.path().join("repo")).unwrap();
    let line = h.chain(None, 17, "c").unwrap();
    let o = opts(&h, &dir.path().join("j.jsonl"), line[16], line[0]);
    let mut input = String::new();
    let mut seen = Vec::new();
    for _ in 0..100 {
        let (code, out, err) = step(&o, &input);
        assert_eq!(code, 0, "{err}");
        if kind_of(&out[0]) == Some("result") {
            break;
        }
        let next: Next = parse(&out[0]).unwrap();
        if next.plan.reason == Some(Reason::Bisect) {
            let p = next.culprit_probability.expect("culprit_probability");
            assert!((0.0..=1.0).contains(&p), "{p}");
            seen.push(p);
        }
        input = verdict_on(&h, 5, &next);
    }
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen.last() > seen.first(), "{seen:?}");
}

#[test]
fn plain_verdicts_halve_like_git_bisect() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::new(&dir.path().join("repo")).unwrap();
    let line = h.chain(None, 17, "c").unwrap();
    let (good, bad) = (line[0], line[16]);
    for culprit in 1..=16 {
        let o = opts(&h, &dir.path().join(format!("j{culprit}.jsonl")), bad, good);
        let mut input = String::new();
        let mut choices = 0;
        let mut found = None;
        for _ in 0..100 {
            let (code, out, err) = step(&o, &input);
            assert_eq!(code, 0, "{err}");
            if kind_of(&out[0]) == Some("result") {
                found = Some(out[0].clone());
                break;
            }
            let next: Next = parse(&out[0]).unwrap();
            if next.plan.reason == Some(Reason::Bisect) {
                choices += 1;
            }
            input = verdict_on(&h, culprit, &next);
        }
        let result = found.expect("no result");
        assert_eq!(result["culprit"]["commit"], h.commits[culprit].to_string());
        assert_eq!(choices, 4, "culprit {culprit}");
    }
}

#[test]
fn same_signature_build_is_judged_without_runs() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let bad = h.commits.len() - 1;
    let mut o = opts(&h, &dir.path().join("j.jsonl"), bad, 0);
    o.repro_rate = Some(1.0);
    let (_, out, _) = step(&o, "");
    let first: Next = parse(&out[0]).unwrap();
    let sig = "ab".repeat(32);
    let input = format!(
        "{{\"kind\":\"build\",\"commit\":\"{c}\",\"ok\":true,\"signature\":\"{sig}\",\"seconds\":100}}\n\
         {{\"kind\":\"run\",\"commit\":\"{c}\",\"run\":0,\"outcome\":\"ok\",\"crashed\":false,\"title\":null,\"seconds\":60}}\n",
        c = first.commit
    );
    let (_, out, _) = step(&o, &input);
    let second: Next = parse(&out[0]).unwrap();
    assert_ne!(second.commit, first.commit);
    // The second commit builds the same kernel: judged from its build record.
    let input = format!(
        "{{\"kind\":\"build\",\"commit\":\"{c}\",\"ok\":true,\"signature\":\"{sig}\",\"seconds\":100}}\n",
        c = second.commit
    );
    let (code, out, err) = step(&o, &input);
    assert_eq!(code, 0, "{err}");
    let third: Next = parse(&out[0]).unwrap();
    assert_ne!(third.commit, second.commit, "{err}");
    let text = std::fs::read_to_string(o.journal.as_ref().unwrap()).unwrap();
    assert!(
        text.contains(&format!("\"same_signature_as\":\"{}\"", first.commit)),
        "{text}"
    );
}

#[test]
fn without_a_journal_it_prints_the_first_next() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let mut o = opts(&h, Path::new("unused"), h.commits.len() - 1, 0);
    o.journal = None;
    let (code, out, _) = step(&o, "");
    assert_eq!(code, 0);
    assert_eq!(out[0]["reason"], "start");
    assert_eq!(out[0]["runs"], 5);
    o.repro_rate = Some(1.0);
    let (_, out, err) = step(&o, "");
    assert_eq!(out[0]["reason"], "bisect");
    assert!(err.contains("Bisecting:"), "{err}");
}

#[test]
fn bad_input_exits_2_and_leaves_the_journal_intact() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = history(&dir.path().join("repo"));
    let bad = h.commits.len() - 1;
    let j = dir.path().join("j.jsonl");
    let o = opts(&h, &j, bad, 0);
    let (code, _, _) = step(&o, "");
    assert_eq!(code, 0);
    let before = std::fs::read(&j).unwrap();
    // A commit outside the range: a second root nobody merged.
    let stray = h.commit(&[], "stray root").unwrap();
    let rec = format!(
        "{{\"kind\":\"run\",\"commit\":\"{}\",\"run\":0,\"outcome\":\"ok\",\"crashed\":false,\"title\":null}}\n",
        h.commits[stray]
    );
    let (code, _, err) = step(&o, &rec);
    assert_eq!(code, 2);
    assert!(
        err.contains("<stdin>:1") && err.contains("not in the range"),
        "{err}"
    );
    // Malformed JSON names its line.
    let (code, _, err) = step(&o, "\n{\"kind\":\"x\"}\n{not json\n");
    assert_eq!(code, 2);
    assert!(err.contains("<stdin>:3"), "{err}");
    assert_eq!(std::fs::read(&j).unwrap(), before, "journal changed");
    // A good that is a descendant of bad; an unknown ref.
    let o2 = opts(&h, &dir.path().join("k.jsonl"), 10, 40);
    let (code, _, err) = step(&o2, "");
    assert_eq!(code, 2);
    assert!(err.contains("descendant of bad"), "{err}");
    let mut o3 = opts(&h, &dir.path().join("l.jsonl"), bad, 0);
    o3.good = vec!["no-such-ref".into()];
    let (code, _, err) = step(&o3, "");
    assert_eq!(code, 2);
    assert!(err.contains("unknown revision"), "{err}");
    assert!(!dir.path().join("k.jsonl").exists() && !dir.path().join("l.jsonl").exists());
}

#[test]
fn the_binary_runs_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bisect-step"))
        .args(["--repo", &h.repo_path()])
        .args(["--bad", &h.commits[h.commits.len() - 1].to_string()])
        .args(["--good", &h.commits[0].to_string()])
        .args([
            "--journal",
            &dir.path().join("j.jsonl").display().to_string(),
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        line.contains("\"kind\":\"next\"") && line.contains("\"reason\":\"start\""),
        "{line}"
    );
    let _ = Direction::Cause;
}

/// A corrupted report is no evidence (crashclass's `counts_as_target`), even
/// when it carries the target title and no `same_bug`: the start commit's
/// verdict must not say "target bug in 1 of 1 runs".
#[test]
fn a_corrupted_report_with_the_target_title_is_not_the_target_bug() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let bad = h.commits.len() - 1;
    let mut o = opts(&h, &dir.path().join("j.jsonl"), bad, 0);
    o.target = vec![bisect_step::sim::TARGET.into()];
    let (_, out, _) = step(&o, "");
    let first: Next = parse(&out[0]).unwrap();
    assert_eq!(first.plan.reason, Some(Reason::Start));
    let input = format!(
        "{{\"kind\":\"build\",\"commit\":\"{c}\",\"ok\":true,\"signature\":\"{sig}\",\"seconds\":100}}\n\
         {{\"kind\":\"run\",\"commit\":\"{c}\",\"run\":0,\"outcome\":\"crashed\",\"crashed\":true,\"corrupted\":true,\"title\":\"{t}\",\"seconds\":60}}\n",
        c = first.commit,
        sig = "cd".repeat(32),
        t = bisect_step::sim::TARGET,
    );
    let (code, out, err) = step(&o, &input);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out[0]["reason"], "more_runs", "{:?}", out[0]);
    let text = std::fs::read_to_string(o.journal.as_ref().unwrap()).unwrap();
    assert!(!text.contains("target bug in 1 of 1 runs"), "{text}");
    assert!(!err.contains("# git bisect bad"), "{err}");
}

/// Issue 13, defect 4: a moved repository named with `--repo` on resume is
/// the one opened (the journal's path no longer exists); one without the
/// journal's commits is a named error.
#[test]
fn resume_with_repo_opens_the_moved_repository() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let bad = h.commits.len() - 1;
    let j = dir.path().join("j.jsonl");
    let o = opts(&h, &j, bad, 0);
    let (code, first, err) = step(&o, "");
    assert_eq!(code, 0, "{err}");
    std::fs::rename(dir.path().join("repo"), dir.path().join("moved")).unwrap();
    let resumed = Options {
        journal: Some(j.clone()),
        repo: Some(dir.path().join("moved").display().to_string()),
        ..Default::default()
    };
    let (code, again, err) = step(&resumed, "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(again[0]["commit"], first[0]["commit"]);
    // Another repository: the journal's bad commit is not there.
    let other = History::new(&dir.path().join("other")).unwrap();
    let wrong = Options {
        repo: Some(other.repo_path()),
        ..resumed
    };
    let (code, _, err) = step(&wrong, "");
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("bad commit {} is not in", h.commits[bad])),
        "{err}"
    );
}

fn verdict(h: &History, x: usize, word: &str) -> String {
    format!(
        "{{\"kind\":\"verdict\",\"commit\":\"{}\",\"verdict\":\"{word}\"}}\n",
        h.commits[x]
    )
}

/// Issue 13, defect 12: `bad` on the good commit or one of its ancestors
/// contradicts the good end as `good` on bad contradicts the bad end (for
/// `--fix`, `good` there); it was stored and ignored.
#[test]
fn a_verdict_against_the_good_end_is_contradictory() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let bad = h.commits.len() - 1;
    for (name, fix, good, judged, word) in [
        ("good", false, 5, 5, "bad"),
        ("ancestor", false, 5, 0, "bad"),
        ("fix", true, 5, 0, "good"),
    ] {
        // A fix's bad end is the older one, its good end the newer.
        let path = dir.path().join(format!("{name}.jsonl"));
        let mut o = if fix {
            opts(&h, &path, good, bad)
        } else {
            opts(&h, &path, bad, good)
        };
        o.fix = fix;
        let (code, _, err) = step(&o, "");
        assert_eq!(code, 0, "{err}");
        // Settle the start commit (and a fix's fixed end) by verdict, then
        // the contradiction.
        let (start, start_word) = if fix { (good, "bad") } else { (bad, "bad") };
        let mut input = verdict(&h, start, start_word);
        if fix {
            input += &verdict(&h, bad, "good");
        }
        input += &verdict(&h, judged, word);
        let (code, out, err) = step(&o, &input);
        assert_eq!(code, 0, "{name}: {err}");
        assert_eq!(out[0]["kind"], "result", "{name}: {:?}", out[0]);
        assert_eq!(
            out[0]["error"], "contradictory_verdicts",
            "{name}: {:?}",
            out[0]
        );
    }
    // A good on bad stays what it was.
    let o = opts(&h, &dir.path().join("bad.jsonl"), bad, 5);
    step(&o, "");
    let (_, out, _) = step(&o, &verdict(&h, bad, "good"));
    assert_eq!(out[0]["error"], "contradictory_verdicts", "{:?}", out[0]);
}

/// Issue 13, defect 18c: a `kind` that is not a string is named as such,
/// with its line.
#[test]
fn a_kind_that_is_not_a_string_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let bad = h.commits.len() - 1;
    let o = opts(&h, &dir.path().join("j.jsonl"), bad, 0);
    step(&o, "");
    let (code, _, err) = step(&o, "{\"kind\":\"crash\"}\n{\"kind\":5}\n");
    assert_eq!(code, 2);
    assert!(
        err.contains("<stdin>:2: `kind` is not a string: 5"),
        "{err}"
    );
}

/// Plain verdicts to the end; the culprit named.
fn culprit_by_verdicts(h: &History, o: &Options, culprit: usize) -> String {
    let mut input = String::new();
    for _ in 0..100 {
        let (code, out, err) = step(o, &input);
        assert_eq!(code, 0, "{err}");
        if kind_of(&out[0]) == Some("result") {
            return out[0]["culprit"]["commit"].as_str().unwrap().to_string();
        }
        let next: Next = parse(&out[0]).unwrap();
        input = verdict_on(h, culprit, &next);
    }
    panic!("no result");
}

/// `--first-parent` over a real repository, by the libgit2 walk and then by
/// the commit-graph file: the topic commit that caused the bug is not a
/// candidate, the merge that brought it in is named.
#[test]
fn first_parent_names_the_merge_by_walk_and_by_commit_graph() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::new(&dir.path().join("repo")).unwrap();
    let main = h.chain(None, 6, "main").unwrap();
    let topic = h.chain(Some(main[2]), 5, "topic").unwrap();
    let merge = h.commit(&[main[5], topic[4]], "Merge topic").unwrap();
    let after = h.chain(Some(merge), 3, "after").unwrap();
    let (bad, good, culprit) = (after[2], main[0], topic[2]);
    let run_all = |name: &str| {
        let mut o = opts(&h, &dir.path().join(format!("{name}.jsonl")), bad, good);
        let without = culprit_by_verdicts(&h, &o, culprit);
        o.first_parent = true;
        o.journal = Some(dir.path().join(format!("{name}-fp.jsonl")));
        let with = culprit_by_verdicts(&h, &o, culprit);
        let text = std::fs::read_to_string(o.journal.as_ref().unwrap()).unwrap();
        assert!(
            text.lines()
                .next()
                .unwrap()
                .contains("\"first_parent\":true"),
            "{text}"
        );
        for t in &topic {
            assert!(
                !text.contains(&h.commits[*t].to_string()),
                "{name}: topic commit tested"
            );
        }
        (without, with)
    };
    let walked = run_all("walk");
    assert_eq!(walked.0, h.commits[culprit].to_string());
    assert_eq!(walked.1, h.commits[merge].to_string());
    let git_dir = h.repo_path();
    // The simulated commits have no refs: the graph is written from bad.
    let mut child = std::process::Command::new("git")
        .args([
            "--git-dir",
            &git_dir,
            "commit-graph",
            "write",
            "--stdin-commits",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{}", h.commits[bad]).unwrap();
    }
    assert!(child.wait().unwrap().success());
    assert!(
        bisect_step::commitgraph::CommitGraph::open(Path::new(&git_dir)).is_some(),
        "no commit-graph file to read"
    );
    assert_eq!(run_all("graph"), walked);
    // --first-parent on a journal begun without it is bad input.
    let mut o = opts(&h, &dir.path().join("walk.jsonl"), bad, good);
    let before = std::fs::read(o.journal.as_ref().unwrap()).unwrap();
    o.first_parent = true;
    let (code, _, err) = step(&o, "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--first-parent differs"), "{err}");
    assert_eq!(std::fs::read(o.journal.as_ref().unwrap()).unwrap(), before);
    // So is another --bug than the journal's.
    o.first_parent = false;
    o.bug = kbisect_records::BugKind::Boot;
    let (code, _, err) = step(&o, "");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--bug boot differs from the journal's bug crash"),
        "{err}"
    );
    assert_eq!(std::fs::read(o.journal.as_ref().unwrap()).unwrap(), before);
    // A person's bad on the topic commit is not against the good end: the
    // commit is in the range, only not a candidate.
    let mut o = opts(&h, &dir.path().join("side.jsonl"), bad, good);
    o.first_parent = true;
    let (code, _, err) = step(&o, &verdict(&h, culprit, "bad"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        culprit_by_verdicts(&h, &o, culprit),
        h.commits[merge].to_string()
    );
}

/// Issue 14: with `bug: exit` a run's `exit_status` decides as for `git
/// bisect run`: 1 bad, 0 good, 125 (twice) a skip; with `bug: boot` a boot
/// failure is the bug and a boot is not.
#[test]
fn exit_status_and_boot_failures_are_evidence_by_the_start_s_bug() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let bad = h.commits.len() - 1;
    let run = |c: &str, i: u32, outcome: &str, extra: &str| {
        format!(
            "{{\"kind\":\"run\",\"commit\":\"{c}\",\"run\":{i},\"outcome\":\"{outcome}\"{extra},\"seconds\":1}}\n"
        )
    };
    let build = |c: &str, sig: &str| {
        format!("{{\"kind\":\"build\",\"commit\":\"{c}\",\"ok\":true,\"signature\":\"{sig}\",\"seconds\":1}}\n")
    };
    let verdict_of = |o: &Options, c: &str| {
        std::fs::read_to_string(o.journal.as_ref().unwrap())
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .rfind(|r| r["kind"] == "verdict" && r["commit"] == c)
            .map(|r| r["verdict"].as_str().unwrap().to_string())
    };
    let mut o = opts(&h, &dir.path().join("exit.jsonl"), bad, 0);
    o.bug = kbisect_records::BugKind::Exit;
    let (code, _, err) = step(&o, "");
    assert_eq!(code, 0, "{err}");
    let (c_bad, c_good, c_skip) = (
        h.commits[bad].to_string(),
        h.commits[bad - 1].to_string(),
        h.commits[bad - 2].to_string(),
    );
    let mut input = build(&c_bad, &"a1".repeat(32));
    for i in 0..3 {
        input += &run(&c_bad, i, "ok", ",\"crashed\":false,\"exit_status\":1");
    }
    input += &build(&c_good, &"b2".repeat(32));
    input += &run(&c_good, 0, "ok", ",\"crashed\":false,\"exit_status\":0");
    input += &build(&c_skip, &"c3".repeat(32));
    for i in 0..2 {
        input += &run(&c_skip, i, "ok", ",\"crashed\":false,\"exit_status\":125");
    }
    let (code, _, err) = step(&o, &input);
    assert_eq!(code, 0, "{err}");
    assert_eq!(verdict_of(&o, &c_bad).as_deref(), Some("bad"), "{err}");
    assert_eq!(verdict_of(&o, &c_good).as_deref(), Some("good"), "{err}");
    assert_eq!(verdict_of(&o, &c_skip).as_deref(), Some("skip"), "{err}");

    let mut o = opts(&h, &dir.path().join("boot.jsonl"), bad, 0);
    o.bug = kbisect_records::BugKind::Boot;
    step(&o, "");
    let mut input = build(&c_bad, &"a1".repeat(32));
    for i in 0..3 {
        input += &run(
            &c_bad,
            i,
            "boot_failed",
            ",\"crashed\":true,\"title\":\"WARNING in f\"",
        );
    }
    input += &build(&c_good, &"b2".repeat(32));
    input += &run(&c_good, 0, "ok", ",\"crashed\":false");
    let (code, _, err) = step(&o, &input);
    assert_eq!(code, 0, "{err}");
    assert_eq!(verdict_of(&o, &c_bad).as_deref(), Some("bad"), "{err}");
    assert_eq!(verdict_of(&o, &c_good).as_deref(), Some("good"), "{err}");
}

#[test]
fn a_revert_check_that_keeps_the_bug_sends_the_bisection_on() {
    // A flaky reproducer's bad luck: every run at the true culprit passes,
    // so the bisection settles on its child. Bad with the child reverted
    // still crashes: that must send the bisection on (here to more runs at
    // the culprit, which now show the bug), not name the child.
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::new(&dir.path().join("repo")).unwrap();
    h.chain(None, 40, "commit").unwrap();
    let (bad, culprit) = (39, 17);
    let mut o = opts(&h, &dir.path().join("j.jsonl"), bad, 0);
    o.revert_check = true;
    let mut tester = Tester::new(&h, Truth::new(culprit), 5);
    let unlucky = h.commits[culprit].to_string();
    let (mut input, mut stderr, mut reverted) = (String::new(), String::new(), Vec::new());
    for _ in 0..500 {
        let (code, out, err) = step(&o, &input);
        stderr += &err;
        assert_eq!(code, 0, "{err}");
        let rec = out[0].clone();
        if kind_of(&rec) == Some("result") {
            assert_eq!(rec["culprit"]["commit"], unlucky.as_str(), "{stderr}");
            assert_eq!(rec["revert_check"], "bug_gone", "{stderr}");
            let child = h.commits[culprit + 1].to_string();
            assert_eq!(reverted.first(), Some(&child), "{stderr}");
            assert!(
                stderr.contains(&format!("with {child} reverted: target bug in 1 of 1 runs")),
                "{stderr}"
            );
            return;
        }
        let next: Next = parse(&rec).unwrap();
        reverted.extend(next.plan.revert.clone());
        let mut recs = tester.respond(&next, 1);
        if next.commit == unlucky && reverted.is_empty() {
            for (i, r) in recs.iter_mut().enumerate() {
                if kind_of(r) == Some("run") {
                    *r = serde_json::from_str(&format!(
                        "{{\"kind\":\"run\",\"commit\":\"{unlucky}\",\"run\":{i},\"outcome\":\"ok\",\"crashed\":false,\"title\":null,\"seconds\":60}}"
                    ))
                    .unwrap();
                }
            }
        }
        input = jsonl(&recs);
    }
    panic!("no result: {stderr}");
}
