//! Rendering: the policy's typed decisions into `next`, `verdict` and
//! `result` records and the seed-style log lines (`git bisect` lines,
//! "Bisecting: N revisions left…"). Every human string of a decision is
//! written here.
//!
//! Nothing here decides or opens the repository: commit subjects come from
//! the caller's `subject` function, the counts of a result from the facts.

use crate::facts::{CommitFacts, Facts, Untestable};
use crate::model::Direction;
use crate::policy::{Done, Found, Judgement, Reason, Step, Stop, Test};
use git2::Oid;
use kbisect_records::{BisectResult, CommitRef, Next, Object, TestPlan, Verdict, VerdictValue};

/// The action decided, and the records to append to the journal before it.
pub struct Decision {
    /// Verdicts on commits with new evidence.
    pub verdicts: Vec<Object>,
    /// The `next` records of the round (one, or a batch with several
    /// slots), or the one `result` record.
    pub actions: Vec<Object>,
    /// True when `actions` is the result.
    pub done: bool,
    /// Human progress lines (seed style).
    pub log: Vec<String>,
}

/// The result `r`, with its log lines, as the decision.
pub fn finish(r: BisectResult, log: Vec<String>) -> Decision {
    Decision {
        verdicts: vec![],
        actions: vec![kbisect_records::to_object(&r)],
        done: true,
        log,
    }
}

/// The round's `next` records, with their log lines, as the decision.
pub fn tests(nexts: &[Next], log: Vec<String>) -> Decision {
    Decision {
        verdicts: vec![],
        actions: nexts.iter().map(kbisect_records::to_object).collect(),
        done: false,
        log,
    }
}

/// What records are rendered from: the facts for a result's counts, and
/// commit subjects.
pub struct Render<'a, S: Fn(Oid) -> String> {
    /// The facts of the bisection's commits (under its config, when the
    /// config search chose one).
    pub facts: &'a Facts,
    /// Every fact, config search included: what the result's counts add up.
    pub totals: &'a Facts,
    pub dir: Direction,
    pub subject: S,
}

impl<S: Fn(Oid) -> String> Render<'_, S> {
    /// A `next` record for `runs` runs at `oid`.
    pub fn next(&self, oid: Oid, reason: Reason, runs: u32) -> Next {
        Next {
            commit: oid.to_string(),
            subject: Some((self.subject)(oid)),
            plan: TestPlan {
                reason: Some(reason),
                runs: Some(runs),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// A result with this status and the bisection's counts and times.
    pub fn result_base(&self, status: &str) -> BisectResult {
        let mut r = BisectResult {
            status: status.into(),
            direction: self.dir.as_str().into(),
            ..Default::default()
        };
        let mut tested = 0;
        for f in self.totals.all() {
            if f.vm_runs > 0 || !f.evidence.is_empty() {
                tested += 1;
            }
            r.builds += f.builds - f.cached_builds;
            r.vm_runs += f.vm_runs;
            r.build_seconds += f.build_seconds;
            r.test_seconds += f.run_seconds;
        }
        r.revisions_tested = tested;
        r.seconds = r.build_seconds + r.test_seconds + self.totals.decide_seconds;
        r
    }

    /// The records and log lines of the policy's step (`bad`: the bad end).
    pub fn step(&self, step: Step, bad: Oid) -> Decision {
        match step {
            Step::Test(ts) => {
                let mut log = Vec::new();
                let nexts: Vec<Next> = ts
                    .into_iter()
                    .map(|t| self.test(t, bad, &mut log))
                    .collect();
                tests(&nexts, log)
            }
            Step::Done(Done::Found(f)) => self.found(f),
            Step::Done(Done::Inconclusive {
                candidates,
                confidence,
                flaky,
                repro_rate,
            }) => self.inconclusive(&candidates, confidence, flaky, repro_rate),
            // The bad end has the bug in both directions.
            Step::Done(Done::NoBugAtStart { commit, runs }) => {
                let mut r = self.result_base("no_bug_at_bad");
                r.message = Some(format!(
                    "bug does not reproduce at the bad end {commit} in {runs} runs"
                ));
                finish(r, vec![format!("the bug does not reproduce at {commit}")])
            }
            Step::Done(Done::NotFixed { commit, runs }) => {
                let mut r = self.result_base("not_fixed");
                r.message = Some(format!(
                    "not fixed: the bug still reproduces at the good end {commit} ({runs} runs)"
                ));
                finish(r, vec![format!("the bug is not fixed at {commit}")])
            }
            Step::Done(Done::BugAtOldestRelease { tag }) => {
                let mut r = self.result_base("bug_at_oldest_release");
                r.message = Some(format!(
                    "the bug is already present at the oldest tested release {tag}"
                ));
                r.extra
                    .insert("oldest_release".into(), serde_json::json!(tag));
                finish(r, vec![])
            }
            Step::Done(Done::Stopped(stop)) => self.stopped(stop),
        }
    }

    /// The error result that stops the bisection.
    fn stopped(&self, stop: Stop) -> Decision {
        let mut r = self.result_base("error");
        r.error = Some(stop.as_str().into());
        let message = match &stop {
            Stop::TooManyInfraErrors { in_a_row } => format!("{in_a_row} infra errors in a row"),
            Stop::StartCommitUntestable { commit, why } => format!(
                "the starting commit {commit} cannot be tested: {}",
                untestable_text(why)
            ),
            Stop::EmptyRange => "no commit between good and bad".into(),
            Stop::ContradictoryVerdicts { commit: None } => {
                "the verdicts contradict every candidate".into()
            }
            Stop::ContradictoryVerdicts { commit: Some(c) } => format!(
                "the verdict on {c} contradicts the good commits: it is one of them or an ancestor"
            ),
            Stop::NoTestableRelease => "no release tag could be tested".into(),
        };
        // No release to test is not a stop the log announces.
        let log = if stop == Stop::NoTestableRelease {
            vec![]
        } else {
            vec![format!("bisection stopped: {message}")]
        };
        r.message = Some(message);
        finish(r, log)
    }

    /// The `next` record of a test, its log lines added to `log`.
    fn test(&self, t: Test, bad: Oid, log: &mut Vec<String>) -> Next {
        let mut next = self.next(t.commit, t.reason.clone(), t.runs);
        next.plan.stop_on_target = t.stop_on_target;
        next.plan.revert = t.revert.map(|c| c.to_string());
        next.plan.known_signatures = t.known_signatures;
        if let Some(c) = t.config {
            next.plan.build_config = Some(c.build_config);
            next.plan.config_id = Some(c.id);
        }
        let mut l = vec![];
        if let Some(p) = t.progress {
            next.revisions_left = Some(p.revisions_left);
            next.steps_left = Some(p.steps_left);
            // Three decimals: a progress figure, and the records stay short.
            next.culprit_probability = Some((p.culprit_probability * 1000.0).round() / 1000.0);
            if t.reason == Reason::Bisect {
                l.push(format!(
                    "Bisecting: {} revisions left to test after this (roughly {} steps)",
                    p.revisions_left, p.steps_left
                ));
            } else {
                l.push(format!("more runs at {} (P(bad)={:.3})", t.commit, p.split));
            }
            l.push(format!("[{}] {}", t.commit, (self.subject)(t.commit)));
        }
        if let Some(culprit) = t.culprit {
            l.push(format!(
                "first bad commit candidate: {culprit} {}",
                (self.subject)(culprit)
            ));
            l.push(format!("parent commit {} wasn't tested", t.commit));
        }
        if let Some(culprit) = t.revert {
            l.push(format!("testing {bad} with {culprit} reverted"));
        }
        if let Some(tag) = t.release {
            l.push(format!("testing release {tag}"));
            next.plan.release = Some(tag);
        }
        log.extend(l);
        next
    }

    /// The log line of a revert check's runs: bad with `reverted`
    /// reverted. No record: the result's `revert_check` carries it, and the
    /// bisection's posterior weighs it (see [`crate::model::posterior`]).
    pub fn revert_line(&self, bad: Oid, reverted: Oid, f: &CommitFacts) -> Option<String> {
        let ev = f.evidence;
        let runs = ev.crashes + ev.oks;
        if runs == 0 {
            return None;
        }
        Some(if ev.crashes > 0 {
            format!(
                "{bad} with {reverted} reverted: target bug in {} of {runs} runs: the bug remains without it, evidence against it",
                ev.crashes
            )
        } else {
            format!("{bad} with {reverted} reverted: no target crash in {runs} runs")
        })
    }

    /// The verdict record on `oid` and its log lines.
    pub fn verdict(&self, oid: Oid, j: &Judgement, log: &mut Vec<String>) -> Object {
        let f: CommitFacts = self.facts.of(oid);
        let mut v = Verdict {
            commit: oid.to_string(),
            verdict: j.verdict(),
            reason: None,
            runs: f.evidence.crashes + f.evidence.oks,
            target_crashes: f.evidence.crashes,
            other_crashes: f.other_crashes.clone(),
            boot_failures: f.boot_failures,
            test_failures: f.test_failures,
            infra_errors: f.infra_errors,
            same_signature_as: None,
            by: Some("bisect-step".into()),
            seconds: 0.0,
            extra: Object::new(),
        };
        match j {
            Judgement::Untestable(why) => v.reason = Some(untestable_text(why)),
            Judgement::Bad {
                crashes,
                runs,
                flaky,
            } => {
                v.reason = Some(format!("target bug in {crashes} of {runs} runs"));
                if *flaky {
                    log.push("reproducer seems to be flaky".into());
                }
            }
            Judgement::Good { oks } => {
                v.reason = Some(format!("no target crash in {oks} runs"));
            }
            Judgement::SameSignature { other, .. } => {
                v.same_signature_as = Some(other.to_string());
                v.reason = Some(format!("same build signature as {other}, not booted"));
            }
        }
        if !f.other_crashes.is_empty() {
            log.push(format!(
                "unrelated crashes at {oid} (not evidence): {}",
                f.other_crashes.join(", ")
            ));
        }
        let word = match v.verdict {
            VerdictValue::Good => "good",
            VerdictValue::Bad => "bad",
            VerdictValue::Skip => "skip",
        };
        if f.said != Some(v.verdict) {
            log.push(format!("# git bisect {word} {oid}"));
        }
        kbisect_records::to_object(&v)
    }

    /// The inconclusive result: the culprit is one of `candidates`.
    pub fn inconclusive(
        &self,
        candidates: &[Oid],
        confidence: f64,
        flaky: bool,
        repro_rate: f64,
    ) -> Decision {
        let mut r = self.result_base("inconclusive");
        r.candidates = candidates
            .iter()
            .take(100)
            .map(|&c| CommitRef {
                commit: c.to_string(),
                subject: (self.subject)(c),
            })
            .collect();
        r.confidence = confidence;
        r.flaky = flaky;
        r.repro_rate = Some(repro_rate);
        let mut l = vec!["This means the bug could be in any of these commits (only skipped commits left to test):".to_string()];
        l.extend(
            r.candidates
                .iter()
                .map(|c| format!("{} {}", c.commit, c.subject)),
        );
        finish(r, l)
    }

    /// The result naming the culprit.
    fn found(&self, f: Found) -> Decision {
        let subject = (self.subject)(f.culprit);
        let mut r = self.result_base("found");
        r.culprit = Some(CommitRef {
            commit: f.culprit.to_string(),
            subject: subject.clone(),
        });
        r.confidence = f.confidence;
        r.flaky = f.flaky;
        r.repro_rate = Some(f.repro_rate);
        r.merge = f.merge;
        r.release = f.release;
        r.culprit_signature = f.culprit_signature;
        r.parent_signature = f.parent_signature;
        r.noop = f.noop;
        if let Some(runs) = f.revert_runs {
            r.extra
                .insert("revert_runs".into(), serde_json::json!(runs));
        }
        r.revert_check = f.revert_check.map(str::to_string);
        let mut l = Vec::new();
        if let (Some(a), Some(b)) = (&r.culprit_signature, &r.parent_signature) {
            l.push(format!("culprit signature: {a}"));
            l.push(format!("parent  signature: {b}"));
        }
        if r.noop {
            l.push("culprit and parent build the same kernel: the result is suspect (noop)".into());
        }
        if f.flaky {
            l.push("Reproducer flagged being flaky".into());
        }
        l.push(format!(
            "revisions tested: {}, total time: {:.0}s (build: {:.0}s, test: {:.0}s)",
            r.revisions_tested, r.seconds, r.build_seconds, r.test_seconds
        ));
        let word = match self.dir {
            Direction::Cause => "first bad commit",
            Direction::Fix => "first fixed commit",
        };
        l.push(format!(
            "{word}: {} {subject} (confidence {:.3})",
            f.culprit, f.confidence
        ));
        finish(r, l)
    }
}

/// Why a commit cannot be tested, as the verdict's reason says it.
pub fn untestable_text(why: &Untestable) -> String {
    match why {
        Untestable::SkippedByVerdict => "skipped by verdict".into(),
        Untestable::BuildFailed { error } => {
            format!("build failed: {}", error.as_deref().unwrap_or("error"))
        }
        Untestable::NoEvidence {
            boot_failures,
            test_failures,
            unrelated,
        } => {
            let mut why = Vec::new();
            if *boot_failures > 0 {
                why.push(format!("{boot_failures} boot failures"));
            }
            if *test_failures > 0 {
                why.push(format!("{test_failures} test failures"));
            }
            if *unrelated > 0 {
                why.push(format!("{unrelated} unrelated crashes"));
            }
            format!("no run carried evidence: {}", why.join(", "))
        }
    }
}
