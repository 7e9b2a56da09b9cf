//! A bisection journal read into a small typed summary: what the HTML report
//! ([`crate::html`]) draws, and nothing more.
//!
//! [`Summary::feed`] takes the journal's records one at a time, so a journal
//! of any length is read in one pass and only what the report shows is
//! kept: per tested commit its build, verdict and up to [`RUN_MARKS_KEPT`]
//! run marks; the newest target crash's report, cut to
//! [`CRASH_EXCERPT_BYTES`]; unrelated crash titles with their counts. Fields
//! are read loosely, one by one: a record odd in one field still counts
//! with the rest (bisect-step checks its journal; a report is still worth
//! drawing).

use kbisect_records::{Object, RecordKind};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Run marks kept per tested commit; the rest are only counted.
pub const RUN_MARKS_KEPT: usize = 100;
/// Bytes of the target crash's report kept for the report.
pub const CRASH_EXCERPT_BYTES: usize = 16 * 1024;
/// Distinct unrelated crash titles kept (each with its count).
const OTHER_TITLES_KEPT: usize = 200;

fn s(obj: &Object, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_string)
}

fn num(obj: &Object, key: &str) -> Option<f64> {
    obj.get(key)
        .and_then(Value::as_f64)
        .filter(|n| n.is_finite())
}

/// How one VM run ended, as the report colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    TargetCrash,
    OtherCrash,
    BootFailed,
    TestFailed,
    InfraError,
    /// Not run: an earlier run of the commit already showed the bug.
    Skipped,
}

impl Outcome {
    /// Every outcome, in the order the legend lists them.
    pub const ALL: [Outcome; 7] = [
        Outcome::Ok,
        Outcome::TargetCrash,
        Outcome::OtherCrash,
        Outcome::BootFailed,
        Outcome::TestFailed,
        Outcome::InfraError,
        Outcome::Skipped,
    ];

    /// The words the legend and tooltips use.
    pub fn words(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::TargetCrash => "target crash",
            Outcome::OtherCrash => "other crash",
            Outcome::BootFailed => "boot failed",
            Outcome::TestFailed => "test failed",
            Outcome::InfraError => "infra error",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One VM run of a tested commit.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMark {
    pub index: u64,
    pub outcome: Outcome,
    /// The crash title, else the run's `detail`.
    pub what: Option<String>,
    /// The saved console log, as the run record names it.
    pub log: Option<String>,
    pub seconds: f64,
}

/// One commit tested (or judged): a `next` record and what answered it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    pub commit: String,
    pub subject: Option<String>,
    /// The `next` record's `reason` (`bisect`, `start`, `revert_check`, …).
    pub reason: Option<String>,
    pub revert: Option<String>,
    pub config_id: Option<String>,
    /// Candidates left after this test, as the `next` record counts them.
    pub revisions_left: Option<u64>,
    pub steps_left: Option<u64>,
    /// The likeliest candidate's posterior when this commit was chosen
    /// (the `next` record's `culprit_probability`).
    pub culprit_probability: Option<f64>,
    pub build_ok: Option<bool>,
    pub build_error: Option<String>,
    pub compiler: Option<String>,
    pub signature: Option<String>,
    pub build_seconds: f64,
    /// Sum of the runs' wall seconds.
    pub test_seconds: f64,
    pub runs: Vec<RunMark>,
    /// Runs beyond [`RUN_MARKS_KEPT`], counted only.
    pub runs_not_kept: usize,
    pub verdict: Option<String>,
    pub verdict_reason: Option<String>,
    pub same_signature_as: Option<String>,
}

impl Step {
    /// A step of the bisection proper (its commit is a candidate-range
    /// point), not a revert check or a config of the config search.
    pub fn in_range(&self) -> bool {
        self.revert.is_none()
            && !matches!(
                self.reason.as_deref(),
                Some("revert_check" | "config_search" | "config_check")
            )
    }
}

/// The target crash the report shows: the newest run that showed the bug.
#[derive(Debug, Clone, PartialEq)]
pub struct CrashExcerpt {
    pub title: String,
    pub commit: Option<String>,
    /// The report, cut at a line end to [`CRASH_EXCERPT_BYTES`].
    pub report: Option<String>,
    pub cut: bool,
}

/// What a journal says, for the report.
#[derive(Debug, Default)]
pub struct Summary {
    /// The `start` record (journal line 1).
    pub start: Option<Object>,
    /// The last `result` record; none while the bisection runs.
    pub result: Option<Object>,
    /// Tested commits in the order tested.
    pub steps: Vec<Step>,
    pub target_crash: Option<CrashExcerpt>,
    /// Unrelated crash titles and how many runs showed each.
    pub other_crashes: BTreeMap<String, u64>,
    /// Runs with an unrelated crash whose title was not kept.
    pub other_crashes_not_kept: u64,
    /// Records read, and lines skipped as not records.
    pub records: u64,
    pub skipped_lines: u64,
    /// Last `error` record's words (a tool that could not go on).
    pub last_error: Option<String>,
    targets: Vec<String>,
    /// (commit, revert, config_id) → index of its newest step.
    step_of: HashMap<(String, Option<String>, Option<String>), usize>,
}

type StepKey = (String, Option<String>, Option<String>);

impl Summary {
    pub fn new() -> Summary {
        Summary::default()
    }

    fn key(obj: &Object) -> Option<StepKey> {
        Some((s(obj, "commit")?, s(obj, "revert"), s(obj, "config_id")))
    }

    /// The step for `key`, a new one when the commit has none yet (a
    /// person's verdict, an imported `git bisect log`, a build with no
    /// `next` in the journal).
    fn step(&mut self, key: StepKey) -> &mut Step {
        let n = self.steps.len();
        let i = *self.step_of.entry(key.clone()).or_insert(n);
        if i == n {
            self.steps.push(Step {
                commit: key.0,
                revert: key.1,
                config_id: key.2,
                ..Step::default()
            });
        }
        &mut self.steps[i]
    }

    /// Take one journal record into the summary.
    pub fn feed(&mut self, obj: &Object) {
        self.records += 1;
        match RecordKind::of(obj) {
            RecordKind::Start => {
                self.targets = crate::strings(obj, "target");
                self.start = Some(obj.clone());
            }
            RecordKind::Next => {
                let Some(key) = Self::key(obj) else { return };
                // A `next` begins a test: a commit asked again (more runs)
                // is a new row, in the order tested.
                let i = self.steps.len();
                self.step_of.insert(key.clone(), i);
                let step = self.step(key);
                step.subject = s(obj, "subject");
                step.reason = s(obj, "reason");
                step.revisions_left = obj.get("revisions_left").and_then(Value::as_u64);
                step.steps_left = obj.get("steps_left").and_then(Value::as_u64);
                step.culprit_probability = obj.get("culprit_probability").and_then(Value::as_f64);
            }
            RecordKind::Build => {
                let Some(key) = Self::key(obj) else { return };
                let step = self.step(key);
                step.build_ok = obj.get("ok").and_then(Value::as_bool);
                step.build_error = s(obj, "error");
                step.compiler = s(obj, "compiler").or(step.compiler.take());
                step.signature = s(obj, "signature").or(step.signature.take());
                step.build_seconds += num(obj, "seconds").unwrap_or(0.0);
                if step.subject.is_none() {
                    step.subject = s(obj, "subject");
                }
            }
            RecordKind::Run => self.feed_run(obj),
            RecordKind::Verdict => {
                let Some(commit) = s(obj, "commit") else {
                    return;
                };
                let step = self.step((commit, None, s(obj, "config_id")));
                step.verdict = s(obj, "verdict");
                step.verdict_reason = s(obj, "reason");
                step.same_signature_as = s(obj, "same_signature_as");
            }
            RecordKind::Result => self.result = Some(obj.clone()),
            RecordKind::Error => {
                self.last_error = Some(format!(
                    "{}: {}: {}",
                    s(obj, "tool").unwrap_or_else(|| "?".into()),
                    s(obj, "error").unwrap_or_else(|| "error".into()),
                    s(obj, "message").unwrap_or_default()
                ))
            }
            _ => {}
        }
    }

    fn feed_run(&mut self, obj: &Object) {
        let Some(key) = Self::key(obj) else { return };
        let title = s(obj, "title").filter(|t| !t.is_empty());
        let outcome = match s(obj, "outcome").as_deref() {
            Some("ok") => Outcome::Ok,
            Some("crashed") if crate::shows_target(obj, &self.targets) => Outcome::TargetCrash,
            Some("crashed") => Outcome::OtherCrash,
            Some("boot_failed") => Outcome::BootFailed,
            Some("test_failed") => Outcome::TestFailed,
            Some("skipped") => Outcome::Skipped,
            _ => Outcome::InfraError,
        };
        match (outcome, &title) {
            (Outcome::TargetCrash, Some(t)) => {
                let (report, cut) = match s(obj, "report") {
                    Some(r) => {
                        let (r, cut) = excerpt(r, CRASH_EXCERPT_BYTES);
                        (Some(r), cut)
                    }
                    None => (None, false),
                };
                self.target_crash = Some(CrashExcerpt {
                    title: t.clone(),
                    commit: Some(key.0.clone()),
                    report,
                    cut,
                });
            }
            (Outcome::OtherCrash, Some(t)) => {
                if let Some(n) = self.other_crashes.get_mut(t) {
                    *n += 1;
                } else if self.other_crashes.len() < OTHER_TITLES_KEPT {
                    self.other_crashes.insert(t.clone(), 1);
                } else {
                    self.other_crashes_not_kept += 1;
                }
            }
            _ => {}
        }
        let seconds = num(obj, "seconds").unwrap_or(0.0);
        let mark = RunMark {
            index: obj.get("run").and_then(Value::as_u64).unwrap_or(0),
            outcome,
            what: title.or_else(|| s(obj, "detail").filter(|d| !d.is_empty())),
            log: s(obj, "log"),
            seconds,
        };
        let step = self.step(key);
        step.test_seconds += seconds;
        if step.runs.len() < RUN_MARKS_KEPT {
            step.runs.push(mark);
        } else {
            step.runs_not_kept += 1;
        }
    }

    /// The bisection's direction: `fix` or `cause` (the default).
    pub fn direction(&self) -> &str {
        let of = |o: &Option<Object>| {
            o.as_ref()
                .and_then(|o| o.get("direction"))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        match of(&self.result).or_else(|| of(&self.start)).as_deref() {
            Some("fix") => "fix",
            _ => "cause",
        }
    }

    /// The culprit's sha and subject, when the result names one.
    pub fn culprit(&self) -> Option<(String, Option<String>)> {
        let c = self.result.as_ref()?.get("culprit")?.as_object()?;
        Some((s(c, "commit")?, s(c, "subject")))
    }
}

/// `text` cut at a line end to at most `max` bytes (at a char boundary when
/// one line is longer), and whether anything was cut.
fn excerpt(text: String, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').map(|i| i + 1).unwrap_or(end);
    (text[..end].to_string(), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn feed(sum: &mut Summary, v: Value) {
        sum.feed(v.as_object().unwrap());
    }

    #[test]
    fn runs_attach_to_their_step_and_more_runs_is_a_new_row() {
        let mut sum = Summary::new();
        let c = "a".repeat(40);
        feed(
            &mut sum,
            json!({"kind":"start","target":["T"],"direction":"cause"}),
        );
        feed(
            &mut sum,
            json!({"kind":"next","commit":c,"reason":"bisect","revisions_left":3}),
        );
        feed(
            &mut sum,
            json!({"kind":"build","commit":c,"ok":true,"seconds":10.0}),
        );
        feed(
            &mut sum,
            json!({"kind":"run","commit":c,"run":0,"outcome":"crashed","crashed":true,"title":"T","report":"r","seconds":2.0}),
        );
        feed(
            &mut sum,
            json!({"kind":"run","commit":c,"run":1,"outcome":"crashed","crashed":true,"title":"U","seconds":3.0}),
        );
        feed(
            &mut sum,
            json!({"kind":"verdict","commit":c,"verdict":"bad"}),
        );
        feed(
            &mut sum,
            json!({"kind":"next","commit":c,"reason":"more_runs"}),
        );
        feed(
            &mut sum,
            json!({"kind":"run","commit":c,"run":0,"outcome":"ok"}),
        );
        assert_eq!(sum.steps.len(), 2);
        let first = &sum.steps[0];
        assert_eq!(first.verdict.as_deref(), Some("bad"));
        assert_eq!(first.test_seconds, 5.0);
        assert_eq!(
            first.runs.iter().map(|r| r.outcome).collect::<Vec<_>>(),
            [Outcome::TargetCrash, Outcome::OtherCrash]
        );
        assert_eq!(sum.steps[1].runs[0].outcome, Outcome::Ok);
        assert_eq!(sum.other_crashes.get("U"), Some(&1));
        assert_eq!(
            sum.target_crash.as_ref().unwrap().report.as_deref(),
            Some("r")
        );
    }

    #[test]
    fn odd_fields_do_not_lose_the_record() {
        let mut sum = Summary::new();
        feed(
            &mut sum,
            json!({"kind":"run","commit":"c","run":"x","outcome":7,"seconds":"s"}),
        );
        feed(&mut sum, json!({"kind":"build"}));
        assert_eq!(sum.steps.len(), 1);
        assert_eq!(sum.steps[0].runs[0].outcome, Outcome::InfraError);
    }

    #[test]
    fn excerpts_cut_at_a_line_end() {
        let (e, cut) = excerpt("ab\ncd\nef".into(), 7);
        assert_eq!((e.as_str(), cut), ("ab\ncd\n", true));
        let (e, cut) = excerpt("ééé".into(), 3);
        assert_eq!((e.as_str(), cut), ("é", true));
    }
}
