//! The seed-style bisection log, rendered from the records.
//!
//! The tools print their own progress; this crate turns the records of a
//! bisection into the log syzbot users know ("testing commit …", "kernel
//! signature: …", "run #3: crashed: …", "all runs: OK", "first bad commit:
//! …", "recipients (to): […]"), so a log reads the same whether the
//! bisection ran in one go or was resumed from its journal.
//!
//! [`Log`] is the streaming part: fed records one at a time it returns the
//! lines to print. [`report`] renders the closing section from the `result`
//! record and the journal. [`html`] draws a whole journal ([`model`]) as
//! one self-contained HTML page.

pub mod cli;
pub mod html;
pub mod model;
pub mod progress;
pub mod tool;

use kbisect_records::{Object, Reason, RecordKind};
use serde_json::Value;

fn s<'a>(obj: &'a Object, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

fn num(obj: &Object, key: &str) -> Option<f64> {
    obj.get(key).and_then(Value::as_f64)
}

fn flag(obj: &Object, key: &str) -> bool {
    obj.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The strings of an array field (`added_options`, `to`, …); none when the
/// field is absent or not an array, non-strings skipped.
pub(crate) fn strings(obj: &Object, key: &str) -> Vec<String> {
    obj.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A duration the way Go prints one (the seed's "4h31m54.35s").
pub fn duration(seconds: f64) -> String {
    let seconds = if seconds.is_finite() && seconds > 0.0 {
        seconds
    } else {
        0.0
    };
    let whole = seconds.floor() as u64;
    let (h, m) = (whole / 3600, (whole % 3600) / 60);
    let sec = seconds - (h * 3600 + m * 60) as f64;
    let sec = format!("{sec:.3}");
    let sec = sec.trim_end_matches('0').trim_end_matches('.');
    match (h, m) {
        (0, 0) => format!("{sec}s"),
        (0, m) => format!("{m}m{sec}s"),
        (h, m) => format!("{h}h{m}m{sec}s"),
    }
}

/// A list of addresses as the seed prints one: `["a" "b"]`.
pub fn go_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    format!("[{}]", quoted.join(" "))
}

/// How one run ended, in the seed's words.
pub fn run_words(run: &Object) -> Option<String> {
    let title = s(run, "title").filter(|t| !t.is_empty());
    let detail = s(run, "detail").filter(|t| !t.is_empty());
    let what = title.or(detail).unwrap_or("no details");
    Some(match s(run, "outcome").unwrap_or("") {
        "ok" => "OK".to_string(),
        "crashed" => format!("crashed: {}", title.unwrap_or("unknown crash")),
        "boot_failed" => format!("boot failed: {what}"),
        "test_failed" => format!("basic kernel testing failed: {what}"),
        "infra_error" => format!(
            "infrastructure error: {}",
            detail.or(title).unwrap_or("no details")
        ),
        "skipped" => return None,
        other => format!("{other}: {what}"),
    })
}

/// Streaming renderer: feed records, print what it returns.
#[derive(Default)]
pub struct Log {
    /// Run lines of the commit being tested, held until its runs end so that
    /// identical outcomes fold into "all runs: …".
    runs: Vec<(u64, String)>,
    skipped: u32,
    /// The `added_options` last shown: said once, at the bisection's start,
    /// since every later build of the same config adds the same.
    added_shown: Option<Vec<String>>,
}

impl Log {
    pub fn new() -> Log {
        Log::default()
    }

    /// The lines one record adds to the log.
    pub fn feed(&mut self, obj: &Object) -> Vec<String> {
        let kind = RecordKind::of(obj);
        let mut out = Vec::new();
        if kind == RecordKind::Run {
            match run_words(obj) {
                Some(w) => self
                    .runs
                    .push((obj.get("run").and_then(Value::as_u64).unwrap_or(0), w)),
                None => self.skipped += 1,
            }
            return out;
        }
        out.extend(self.flush());
        let commit = s(obj, "commit").unwrap_or("?");
        // Read loosely, field by field: a log line from a record that is
        // odd in one field is still worth printing.
        let reason = s(obj, "reason").map(Reason::from);
        match kind {
            RecordKind::Start => {
                // syzbot's words: a fix bisection is "bisecting fixing
                // commit", from the commit that has the bug.
                let dir = match s(obj, "direction").unwrap_or("cause") {
                    "fix" => "fixing",
                    other => other,
                };
                out.push(format!(
                    "bisecting {dir} commit starting from {}",
                    s(obj, "bad").unwrap_or("?")
                ));
            }
            RecordKind::Next => {
                match reason {
                    Some(Reason::Release) => out.push(format!(
                        "testing release {}",
                        s(obj, "release").unwrap_or("?")
                    )),
                    Some(Reason::Parent) => {
                        out.push(format!("parent commit {commit} wasn't tested"))
                    }
                    _ => {}
                }
                let config = s(obj, "config_id");
                match (s(obj, "revert"), reason) {
                    (None, Some(Reason::ConfigSearch)) => out.push(match config {
                        Some("full") => format!("testing commit {commit} with the full config"),
                        Some("baseline") => {
                            format!("testing commit {commit} with the baseline config")
                        }
                        Some(id) => format!("testing commit {commit} with config candidate {id}"),
                        None => format!("testing commit {commit}"),
                    }),
                    (None, Some(Reason::ConfigCheck)) => out.push(format!(
                        "testing commit {commit} with the full config (the culprit's parent)"
                    )),
                    (Some(rev), _) => {
                        out.push(format!("testing commit {commit} with {rev} reverted"))
                    }
                    (None, Some(Reason::MoreRuns)) => {
                        out.push(format!("testing commit {commit} again, for more evidence"))
                    }
                    (None, _) => out.push(format!("testing commit {commit}")),
                }
            }
            RecordKind::Build => {
                if let Some(c) = s(obj, "compiler") {
                    out.push(format!("compiler: {c}"));
                }
                let added = strings(obj, "added_options");
                if !added.is_empty()
                    && reason == Some(Reason::Start)
                    && self.added_shown.as_ref() != Some(&added)
                {
                    out.push(format!(
                        "kernel config: added what ktest's guest needs and the config lacks: {}",
                        added.join(" ")
                    ));
                    self.added_shown = Some(added);
                }
                if flag(obj, "ok") {
                    if let Some(sig) = s(obj, "signature") {
                        out.push(format!("kernel signature: {sig}"));
                    }
                } else {
                    let err = s(obj, "error").unwrap_or("build_failed");
                    let first = obj
                        .get("error_lines")
                        .and_then(Value::as_array)
                        .and_then(|a| a.first())
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    out.push(
                        format!("kernel build failed: {err}: {first}")
                            .trim_end_matches([':', ' '])
                            .to_string(),
                    );
                }
            }
            RecordKind::Verdict => {
                let v = s(obj, "verdict").unwrap_or("?");
                if let Some(same) = s(obj, "same_signature_as") {
                    out.push(format!("same signature as {same}, verdict reused"));
                }
                out.push(format!("# git bisect {v} {commit}"));
            }
            RecordKind::Error => out.push(format!(
                "{}: {}: {}",
                s(obj, "tool").unwrap_or("?"),
                s(obj, "error").unwrap_or("error"),
                s(obj, "message").unwrap_or("")
            )),
            _ => {}
        }
        out
    }

    /// The held run lines, folded when every run ended the same way.
    pub fn flush(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        if self.runs.len() > 1 && self.runs.iter().all(|(_, w)| *w == self.runs[0].1) {
            out.push(format!("all runs: {}", self.runs[0].1));
        } else {
            out.extend(self.runs.iter().map(|(i, w)| format!("run #{i}: {w}")));
        }
        if self.skipped > 0 {
            out.push(format!(
                "{} more runs skipped: the bug already showed",
                self.skipped
            ));
        }
        self.runs.clear();
        self.skipped = 0;
        out
    }
}

/// What the closing section needs besides the result: the culprit commit's
/// `git show --stat` text, and the report of a target crash from the journal.
pub struct ReportInputs<'a> {
    pub show: Option<&'a str>,
    /// Also the lines bisect-step prints with its result (signatures,
    /// revisions tested, first bad commit): for journals read afterwards.
    pub full: bool,
    pub crash_title: Option<&'a str>,
    pub crash_report: Option<&'a str>,
}

/// The closing section of the log for a `result` record.
pub fn report(result: &Object, inputs: &ReportInputs) -> Vec<String> {
    let mut out = Vec::new();
    let status = s(result, "status").unwrap_or("?");
    let culprit = result.get("culprit").and_then(Value::as_object);
    let culprit_sha = culprit.and_then(|c| s(c, "commit"));
    let fix = s(result, "direction") == Some("fix");
    match (status, culprit_sha) {
        ("found", Some(sha)) => {
            let what = if fix {
                "first good commit"
            } else {
                "first bad commit"
            };
            out.push(format!("{sha} is the {what}"));
            if let Some(show) = inputs.show {
                out.extend(show.lines().map(str::to_string));
                out.push(String::new());
            }
        }
        _ => {
            out.push(format!("bisection result: {status}"));
            if let Some(m) = s(result, "message") {
                out.push(m.to_string());
            }
            if let Some(c) = result.get("candidates").and_then(Value::as_array) {
                for cand in c.iter().filter_map(Value::as_object) {
                    out.push(format!(
                        "  candidate: {} {}",
                        s(cand, "commit").unwrap_or("?"),
                        s(cand, "subject").unwrap_or("")
                    ));
                }
            }
        }
    }
    if let Some(c) = result.get("config").and_then(Value::as_object) {
        out.extend(config_lines(c));
    }
    if let (true, Some(sig)) = (inputs.full, s(result, "culprit_signature")) {
        out.push(format!("culprit signature: {sig}"));
    }
    if let (true, Some(sig)) = (inputs.full, s(result, "parent_signature")) {
        out.push(format!("parent  signature: {sig}"));
    }
    if flag(result, "noop") {
        out.push(
            "culprit signature equals its parent's: the culprit does not change the kernel".into(),
        );
    }
    if flag(result, "merge") {
        out.push("the culprit is a merge commit".into());
    }
    if flag(result, "release") {
        out.push("the culprit is a release commit".into());
    }
    if flag(result, "flaky") {
        out.push("Reproducer flagged being flaky".into());
    }
    if let Some(rate) = num(result, "repro_rate") {
        out.push(format!(
            "reproduction rate on bad commits: {:.0}%",
            rate * 100.0
        ));
    }
    if let Some(c) = num(result, "confidence") {
        out.push(format!("confidence: {:.1}%", c * 100.0));
    }
    if let Some(rc) = s(result, "revert_check") {
        let words = match rc {
            "bug_gone" => "the bug is gone with the culprit reverted",
            "bug_remains" => "the bug remains with the culprit reverted",
            "revert_failed" => "the culprit does not revert cleanly",
            _ => "not tested",
        };
        out.push(format!("revert check: {rc} ({words})"));
    }
    if inputs.full {
        out.push(format!(
            "revisions tested: {}, total time: {} (build: {}, test: {})",
            num(result, "revisions_tested").unwrap_or(0.0),
            duration(num(result, "seconds").unwrap_or(0.0)),
            duration(num(result, "build_seconds").unwrap_or(0.0)),
            duration(num(result, "test_seconds").unwrap_or(0.0)),
        ));
    }
    if let (true, Some(c), "found") = (inputs.full, culprit, status) {
        let what = if fix {
            "first good commit"
        } else {
            "first bad commit"
        };
        out.push(format!(
            "{what}: {} {}",
            s(c, "commit").unwrap_or("?"),
            s(c, "subject").unwrap_or("")
        ));
    }
    if let Some(r) = result.get("recipients").and_then(Value::as_object) {
        for key in ["to", "cc"] {
            let list = strings(r, key);
            out.push(format!("recipients ({key}): {}", go_list(&list)));
        }
    }
    if let Some(title) = inputs.crash_title {
        out.push(format!("crash: {title}"));
        if let Some(rep) = inputs.crash_report {
            out.extend(rep.lines().map(str::to_string));
        }
    }
    out
}

/// What the config search found, as the report says it.
fn config_lines(c: &Object) -> Vec<String> {
    let mut out = Vec::new();
    let n = |k| num(c, k).unwrap_or(0.0);
    let options: Vec<&str> = c
        .get("options")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let secs = |k| num(c, k).map(duration).unwrap_or_else(|| "?".into());
    if s(c, "mode") == Some("bisect") {
        out.push(format!(
            "config bisection: the bug comes with {}",
            options.join(", ")
        ));
    } else {
        out.push(format!(
            "config minimized: {} of {} differing options kept (build {} → {})",
            n("kept"),
            n("differing"),
            secs("full_build_seconds"),
            secs("kept_build_seconds")
        ));
        let shown: Vec<&str> = options.iter().take(10).copied().collect();
        if !shown.is_empty() {
            let more = if options.len() > shown.len() || n("kept") > shown.len() as f64 {
                ", …"
            } else {
                ""
            };
            out.push(format!("kept: {}{more}", shown.join(", ")));
        }
        if let Some(f) = s(c, "file") {
            out.push(format!("minimized config: {f}"));
        }
        match s(c, "full_config_check") {
            Some("bug_absent") => out.push(
                "the culprit's parent does not show the bug with the full config either".into(),
            ),
            Some("bug_present") => out.push(
                "the culprit's parent shows the bug with the full config: the minimized config lost it".into(),
            ),
            _ => {}
        }
    }
    out.push(format!(
        "config search: {} configs, {} builds, {} VM runs, {}{}",
        n("candidates"),
        n("builds"),
        n("vm_runs"),
        duration(n("seconds")),
        if flag(c, "budget_hit") {
            " (stopped at its candidate budget)"
        } else {
            ""
        }
    ));
    out
}

/// The classification fields of a `run` record, if it is one. A run without
/// `crashed` (hand-written, older) is taken as crashed when its outcome is.
fn run_class(obj: &Object) -> Option<kbisect_records::Classification> {
    if RecordKind::of(obj) != RecordKind::Run {
        return None;
    }
    let mut obj = obj.clone();
    if !obj.contains_key("crashed") {
        let crashed = s(&obj, "outcome") == Some("crashed");
        obj.insert("crashed".into(), Value::Bool(crashed));
    }
    kbisect_records::parse(&obj).ok()
}

/// Does this record show the target bug? A crashed run that
/// [`crashclass::counts_as_target`] (the one rule every tool asks) says is.
pub fn shows_target(obj: &Object, targets: &[String]) -> bool {
    s(obj, "outcome") == Some("crashed")
        && run_class(obj).is_some_and(|c| crashclass::counts_as_target(&c, targets) == Some(true))
}

/// The newest run in `journal` that showed the target bug ([`shows_target`]):
/// its title and report.
pub fn target_crash(journal: &[Object], titles: &[String]) -> Option<(String, Option<String>)> {
    journal.iter().rev().find_map(|r| {
        let title = s(r, "title")?;
        shows_target(r, titles).then(|| (title.to_string(), s(r, "report").map(str::to_string)))
    })
}

/// The culprit check's answer from the records of one build with the culprit
/// reverted: `revert_failed` when it did not revert cleanly, `bug_remains`
/// when a run shows the target bug, `bug_gone` when runs were ok and none
/// showed it, else `not_tested`.
pub fn revert_check(records: &[Object], targets: &[String]) -> &'static str {
    let Some(build) = records
        .iter()
        .find(|r| RecordKind::of(r) == RecordKind::Build)
    else {
        return "not_tested";
    };
    if !flag(build, "ok") {
        return if s(build, "error") == Some("revert_failed") {
            "revert_failed"
        } else {
            "not_tested"
        };
    }
    if records.iter().any(|r| shows_target(r, targets)) {
        "bug_remains"
    } else if records
        .iter()
        .any(|r| RecordKind::of(r) == RecordKind::Run && s(r, "outcome") == Some("ok"))
    {
        "bug_gone"
    } else {
        "not_tested"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn durations_read_like_go() {
        assert_eq!(duration(16314.35), "4h31m54.35s");
        assert_eq!(duration(61.0), "1m1s");
        assert_eq!(duration(0.25), "0.25s");
        assert_eq!(duration(f64::NAN), "0s");
    }

    #[test]
    fn identical_runs_fold() {
        let mut log = Log::new();
        let c = "a".repeat(40);
        for i in 0..3 {
            assert!(log
                .feed(&obj(
                    json!({"kind":"run","commit":c,"run":i,"outcome":"ok"})
                ))
                .is_empty());
        }
        let lines = log.feed(&obj(json!({"kind":"verdict","commit":c,"verdict":"good"})));
        assert_eq!(
            lines,
            vec!["all runs: OK".to_string(), format!("# git bisect good {c}")]
        );
    }

    #[test]
    fn mixed_runs_are_listed() {
        let mut log = Log::new();
        log.feed(&obj(
            json!({"kind":"run","run":0,"outcome":"crashed","title":"WARNING in foo"}),
        ));
        log.feed(&obj(
            json!({"kind":"run","run":1,"outcome":"boot_failed","title":"WARNING in kvm_wait"}),
        ));
        log.feed(&obj(
            json!({"kind":"run","run":2,"outcome":"test_failed","detail":"sanity test failed"}),
        ));
        log.feed(&obj(json!({"kind":"run","run":3,"outcome":"skipped"})));
        assert_eq!(
            log.flush(),
            vec![
                "run #0: crashed: WARNING in foo",
                "run #1: boot failed: WARNING in kvm_wait",
                "run #2: basic kernel testing failed: sanity test failed",
                "1 more runs skipped: the bug already showed",
            ]
        );
    }

    #[test]
    fn next_and_build_lines() {
        let mut log = Log::new();
        let c = "b".repeat(40);
        let l = log.feed(&obj(
            json!({"kind":"next","commit":c,"reason":"release","release":"v6.2"}),
        ));
        assert_eq!(
            l,
            vec![
                "testing release v6.2".to_string(),
                format!("testing commit {c}")
            ]
        );
        let l = log.feed(&obj(
            json!({"kind":"build","commit":c,"ok":true,"compiler":"gcc 12","signature":"ff"}),
        ));
        assert_eq!(l, vec!["compiler: gcc 12", "kernel signature: ff"]);
        let l = log.feed(&obj(
            json!({"kind":"build","commit":c,"ok":false,"error":"build_failed",
            "error_lines":["fs/libfs.c:47: error: 's' undeclared"]}),
        ));
        assert_eq!(
            l,
            vec!["kernel build failed: build_failed: fs/libfs.c:47: error: 's' undeclared"]
        );
    }

    #[test]
    fn options_added_for_the_guest_are_said_once_at_the_start() {
        let mut log = Log::new();
        let build = |reason: &str| {
            obj(
                json!({"kind":"build","commit":"a","ok":true,"reason":reason,
                "added_options":["CONFIG_SERIAL_8250=y","# CONFIG_CMDLINE_OVERRIDE is not set"]}),
            )
        };
        let said = |l: Vec<String>| l.iter().any(|l| l.starts_with("kernel config: added"));
        let first = log.feed(&build("start"));
        assert!(said(first.clone()), "{first:?}");
        assert!(first.iter().any(|l| l.ends_with(
            "needs and the config lacks: CONFIG_SERIAL_8250=y # CONFIG_CMDLINE_OVERRIDE is not set"
        )));
        assert!(!said(log.feed(&build("start"))));
        assert!(!said(Log::new().feed(&build("bisect"))));
    }

    #[test]
    fn report_names_culprit_recipients_and_crash() {
        let c = "c".repeat(40);
        let r = obj(json!({"kind":"result","status":"found","direction":"cause",
            "culprit":{"commit":c,"subject":"mm: x"},"flaky":true,"confidence":0.97,
            "revisions_tested":9,"seconds":100.5,"build_seconds":60,"test_seconds":40.5,
            "recipients":{"to":["a@x"],"cc":["b@y","c@z"]},"revert_check":"bug_gone"}));
        let lines = report(
            &r,
            &ReportInputs {
                show: Some("commit cc\nAuthor: A"),
                full: true,
                crash_title: Some("T"),
                crash_report: Some("R1\nR2"),
            },
        );
        let text = lines.join("\n");
        assert!(text.starts_with(&format!("{c} is the first bad commit\ncommit cc")));
        assert!(text.contains("Reproducer flagged being flaky"));
        assert!(
            text.contains("revisions tested: 9, total time: 1m40.5s (build: 1m0s, test: 40.5s)")
        );
        assert!(text.contains(&format!("first bad commit: {c} mm: x")));
        assert!(text.contains("recipients (to): [\"a@x\"]\nrecipients (cc): [\"b@y\" \"c@z\"]"));
        assert!(text.ends_with("crash: T\nR1\nR2"));
    }

    #[test]
    fn target_crash_prefers_same_bug_then_titles() {
        let j = vec![
            obj(json!({"kind":"run","outcome":"crashed","title":"A","report":"ra"})),
            obj(json!({"kind":"run","outcome":"crashed","title":"B","same_bug":false})),
            obj(json!({"kind":"run","outcome":"ok"})),
        ];
        assert_eq!(
            target_crash(&j, &["A".into()]),
            Some(("A".into(), Some("ra".into())))
        );
        assert_eq!(target_crash(&j, &["C".into()]), None);
    }

    #[test]
    fn target_crash_uses_the_one_rule() {
        // No same_bug and no titles: every clean crash is the bug; a
        // corrupted report never is.
        let j = vec![
            obj(json!({"kind":"run","outcome":"crashed","crashed":true,"title":"A"})),
            obj(
                json!({"kind":"run","outcome":"crashed","crashed":true,"title":"B","corrupted":true}),
            ),
        ];
        assert_eq!(target_crash(&j, &[]), Some(("A".into(), None)));
        // Titles are compared as crashclass compares them (sanitised).
        let j = vec![obj(
            json!({"kind":"run","outcome":"crashed","crashed":true,"title":"WARNING in f"}),
        )];
        assert!(target_crash(&j, &["WARNING in f".into()]).is_some());
    }

    #[test]
    fn revert_check_answers() {
        let build = |ok: bool, error: Option<&str>| {
            obj(json!({"kind":"build","ok":ok,"commit":"c","error":error}))
        };
        let run = |outcome: &str, title: Option<&str>, same: Option<bool>| {
            obj(
                json!({"kind":"run","outcome":outcome,"crashed":outcome=="crashed",
                       "title":title,"same_bug":same}),
            )
        };
        let t = vec!["A".to_string()];
        assert_eq!(revert_check(&[], &t), "not_tested");
        assert_eq!(
            revert_check(&[build(false, Some("revert_failed"))], &t),
            "revert_failed"
        );
        assert_eq!(
            revert_check(&[build(false, Some("build_failed"))], &t),
            "not_tested"
        );
        assert_eq!(revert_check(&[build(true, None)], &t), "not_tested");
        let gone = [
            build(true, None),
            run("ok", None, None),
            run("crashed", Some("B"), None),
        ];
        assert_eq!(revert_check(&gone, &t), "bug_gone");
        let remains = [
            build(true, None),
            run("ok", None, None),
            run("crashed", Some("A"), None),
        ];
        assert_eq!(revert_check(&remains, &t), "bug_remains");
        // same_bug, when written, decides over titles; null is no evidence.
        let said = [
            build(true, None),
            run("crashed", Some("A"), Some(false)),
            run("ok", None, None),
        ];
        assert_eq!(revert_check(&said, &t), "bug_gone");
        let corrupted = [
            build(true, None),
            obj(
                json!({"kind":"run","outcome":"crashed","crashed":true,"title":"A","corrupted":true}),
            ),
        ];
        assert_eq!(revert_check(&corrupted, &t), "not_tested");
    }
}
