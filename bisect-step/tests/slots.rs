//! `--slots N`: a call answers with a round's batch of `next` records, on
//! distinct commits, their runs summing to at most N; one slot is the
//! one-test-a-round contract as it was.

use bisect_step::sim::{History, Tester, Truth};
use bisect_step::Options;
use kbisect_records::{kind_of, parse, Next, Object, Reason};
use std::collections::{HashMap, HashSet};
use std::path::Path;

mod common;
use common::{step, verdict_on};

fn jsonl(recs: &[Object]) -> String {
    recs.iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect()
}

fn opts(h: &History, journal: &Path, slots: u32) -> Options {
    Options {
        journal: Some(journal.to_path_buf()),
        repo: Some(h.repo_path()),
        bad: Some(h.commits[h.commits.len() - 1].to_string()),
        good: vec![h.commits[0].to_string()],
        slots,
        ..Default::default()
    }
}

/// The records a call printed, less the time it took (which differs run
/// to run).
fn timeless(recs: &[Object]) -> Vec<Object> {
    recs.iter()
        .map(|r| {
            let mut r = r.clone();
            r.remove("seconds");
            r
        })
        .collect()
}

/// The shell loop in process: every `next` record of a call answered by
/// the tester, all of them the next call's input. Returns what each call
/// printed.
fn rounds(h: &History, truth: Truth, o: &Options) -> Vec<Vec<Object>> {
    let mut tester = Tester::new(h, truth, 5);
    let mut input = String::new();
    let mut out_all = Vec::new();
    for _ in 0..300 {
        let (code, out, err) = step(o, &input);
        assert_eq!(code, 0, "{err}");
        assert!(!out.is_empty(), "a call prints a record");
        out_all.push(out.clone());
        if kind_of(&out[0]) == Some("result") {
            assert_eq!(out.len(), 1, "a result comes alone");
            return out_all;
        }
        let mut answer = Vec::new();
        for rec in &out {
            let next: Next = parse(rec).unwrap();
            answer.extend(tester.respond(&next, 1));
        }
        input = jsonl(&answer);
    }
    panic!("no result");
}

fn history(dir: &Path) -> History {
    let mut h = History::new(dir).unwrap();
    h.kernel_like(60, 3, 3, 4).unwrap();
    h
}

#[test]
fn one_slot_is_the_contract_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let mut truth = Truth::new(40);
    truth.rate = 0.4;
    // Options' default (0) is one slot, as a caller that never heard of
    // slots gets.
    let default = rounds(&h, truth.clone(), &opts(&h, &dir.path().join("a"), 0));
    let one = rounds(&h, truth, &opts(&h, &dir.path().join("b"), 1));
    assert!(
        default.iter().all(|out| out.len() == 1),
        "one record a call"
    );
    let strip = |calls: &[Vec<Object>]| calls.iter().map(|c| timeless(c)).collect::<Vec<_>>();
    assert_eq!(strip(&default), strip(&one));
    let result = &default.last().unwrap()[0];
    assert_eq!(result["culprit"]["commit"], h.commits[40].to_string());
}

#[test]
fn four_slots_at_a_deterministic_bug_ask_several_commits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let journal = dir.path().join("j.jsonl");
    let mut o = opts(&h, &journal, 4);
    o.repro_rate = Some(1.0);
    let (code, out, err) = step(&o, "");
    assert_eq!(code, 0, "{err}");
    assert!(out.len() > 1, "several next records: {out:?}");
    let nexts: Vec<Next> = out.iter().map(|r| parse(r).unwrap()).collect();
    let runs: u32 = nexts.iter().map(|n| n.plan.runs.unwrap()).sum();
    assert!(runs <= 4, "runs {runs} over the slots");
    let commits: HashSet<&str> = nexts.iter().map(|n| n.commit.as_str()).collect();
    assert_eq!(commits.len(), nexts.len(), "distinct commits");
    assert!(nexts.iter().all(|n| n.plan.reason == Some(Reason::Bisect)));
    // The journal has every one of them, after the start.
    let text = std::fs::read_to_string(&journal).unwrap();
    let lines: Vec<Object> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(timeless(&lines[1..]), timeless(&out));
    // Called again with nothing new: the same batch, not appended twice.
    let (code, again, _) = step(&o, "");
    assert_eq!(code, 0);
    assert_eq!(timeless(&again), timeless(&out));
    let text2 = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(text2.lines().count(), text.lines().count());
}

#[test]
fn a_nearly_decided_range_asks_fewer_runs_than_slots() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::new(&dir.path().join("repo")).unwrap();
    // Three candidates: two tests at most settle any culprit.
    h.chain(None, 4, "c").unwrap();
    let mut o = opts(&h, &dir.path().join("j.jsonl"), 8);
    o.repro_rate = Some(1.0);
    let (code, out, err) = step(&o, "");
    assert_eq!(code, 0, "{err}");
    let runs: u32 = out
        .iter()
        .map(|r| parse::<Next>(r).unwrap().plan.runs.unwrap())
        .sum();
    assert!((1..8).contains(&runs), "runs {runs}: {out:?}");
}

#[test]
fn eight_slots_find_the_culprit_in_fewer_calls() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    for culprit in [7usize, 40] {
        let mut truth = Truth::new(culprit);
        truth.rate = 0.5;
        let one = rounds(
            &h,
            truth.clone(),
            &opts(&h, &dir.path().join(format!("a{culprit}")), 1),
        );
        let eight = rounds(
            &h,
            truth,
            &opts(&h, &dir.path().join(format!("b{culprit}")), 8),
        );
        for calls in [&one, &eight] {
            let result = &calls.last().unwrap()[0];
            assert_eq!(result["culprit"]["commit"], h.commits[culprit].to_string());
        }
        for out in &eight {
            let runs: u32 = out
                .iter()
                .filter_map(|r| parse::<Next>(r).ok())
                .map(|n| n.plan.runs.unwrap_or(0))
                .sum();
            assert!(runs <= 8, "runs {runs} over 8 slots");
        }
        assert!(
            eight.len() < one.len(),
            "{} calls vs {}",
            eight.len(),
            one.len()
        );
    }
}

#[test]
fn plain_verdicts_on_a_batch_find_the_culprit() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let culprit = 33;
    let mut o = opts(&h, &dir.path().join("j.jsonl"), 4);
    o.repro_rate = Some(1.0);
    let mut input = String::new();
    for _ in 0..40 {
        let (code, out, err) = step(&o, &input);
        assert_eq!(code, 0, "{err}");
        if kind_of(&out[0]) == Some("result") {
            assert_eq!(out[0]["culprit"]["commit"], h.commits[culprit].to_string());
            return;
        }
        // A person answers every commit of the round, as git bisect would
        // be told good or bad.
        input = out
            .iter()
            .map(|r| verdict_on(&h, culprit, &parse(r).unwrap()))
            .collect();
    }
    panic!("no result");
}

#[test]
fn the_binary_takes_slots_and_refuses_zero() {
    let bin = env!("CARGO_BIN_EXE_bisect-step");
    let out = std::process::Command::new(bin)
        .args(["--slots", "0"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let help = std::process::Command::new(bin)
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--slots"));
}

/// Issue 15's log: a commit that gets more runs after its verdict does not
/// say `# git bisect good X` again each round; the line comes when a
/// verdict is reached or changes.
#[test]
fn a_verdict_line_comes_once_per_verdict_not_once_per_round() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(&dir.path().join("repo"));
    let mut truth = Truth::new(40);
    truth.rate = 0.4;
    let o = opts(&h, &dir.path().join("j.jsonl"), 1);
    let mut tester = Tester::new(&h, truth, 5);
    let (mut input, mut lines, mut rounds_at) = (String::new(), Vec::new(), HashMap::new());
    for _ in 0..300 {
        let (code, out, err) = step(&o, &input);
        assert_eq!(code, 0, "{err}");
        lines.extend(
            err.lines()
                .filter(|l| l.starts_with("# git bisect"))
                .map(String::from),
        );
        if kind_of(&out[0]) == Some("result") {
            break;
        }
        let mut answer = Vec::new();
        for rec in &out {
            let next: Next = parse(rec).unwrap();
            *rounds_at.entry(next.commit.clone()).or_insert(0) += 1;
            answer.extend(tester.respond(&next, 1));
        }
        input = jsonl(&answer);
    }
    assert!(
        rounds_at.values().any(|&n| n > 2),
        "some commit was tested in several rounds: {rounds_at:?}"
    );
    let mut last: HashMap<String, String> = HashMap::new();
    for l in &lines {
        let mut w = l.split_whitespace().skip(3);
        let (word, commit) = (w.next().unwrap(), w.next().unwrap());
        let before = last.insert(commit.to_string(), word.to_string());
        assert_ne!(
            before.as_deref(),
            Some(word),
            "{l} said twice in a row:\n{lines:#?}"
        );
    }
}
