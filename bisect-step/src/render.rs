//! Rendering: typed decisions into `next` and `result` records and the
//! seed-style log lines (`git bisect` lines, "Bisecting: N revisions
//! left…").
//!
//! Nothing here decides or opens the repository: commit subjects come from
//! the caller's `subject` function, the counts of a result from the facts.

use crate::facts::Facts;
use crate::model::Direction;
use crate::policy::{ConcludeDecision, Found, StartDecision, Test};
use git2::Oid;
use kbisect_records::{BisectResult, CommitRef, Next, Object, TestPlan};

/// The action decided, and the records to append to the journal before it.
pub struct Decision {
    /// Verdicts on commits with new evidence.
    pub verdicts: Vec<Object>,
    /// A `next` or `result` record.
    pub action: Object,
    /// True when `action` is the result.
    pub done: bool,
    /// Human progress lines (seed style).
    pub log: Vec<String>,
}

/// The result `r`, with its log lines, as the decision.
pub fn finish(r: BisectResult, log: Vec<String>) -> Decision {
    Decision {
        verdicts: vec![],
        action: kbisect_records::to_object(&r),
        done: true,
        log,
    }
}

/// The `next` record, with its log lines, as the decision.
pub fn action(next: Next, log: Vec<String>) -> Decision {
    Decision {
        verdicts: vec![],
        action: kbisect_records::to_object(&next),
        done: false,
        log,
    }
}

/// What records are rendered from: the facts for a result's counts, and
/// commit subjects.
pub struct Render<'a, S: Fn(Oid) -> String> {
    pub facts: &'a Facts,
    pub dir: Direction,
    pub subject: S,
}

impl<S: Fn(Oid) -> String> Render<'_, S> {
    /// A `next` record for `runs` runs at `oid`.
    pub fn next(&self, oid: Oid, reason: &str, runs: u32) -> Next {
        Next {
            commit: oid.to_string(),
            subject: Some((self.subject)(oid)),
            plan: TestPlan {
                reason: Some(reason.into()),
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
        for f in self
            .facts
            .by_commit
            .values()
            .chain(std::iter::once(&self.facts.revert))
        {
            if f.vm_runs > 0 || !f.evidence.is_empty() {
                tested += 1;
            }
            r.builds += f.builds - f.cached_builds;
            r.vm_runs += f.vm_runs;
            r.build_seconds += f.build_seconds;
            r.test_seconds += f.run_seconds;
        }
        r.revisions_tested = tested;
        r.seconds = r.build_seconds + r.test_seconds + self.facts.decide_seconds;
        r
    }

    /// The error result that stops the bisection.
    pub fn error_result(&self, error: &str, message: String, mut log: Vec<String>) -> Decision {
        let mut r = self.result_base("error");
        r.error = Some(error.into());
        log.push(format!("bisection stopped: {message}"));
        r.message = Some(message);
        finish(r, log)
    }

    /// The `next` record and log lines of a bisection test.
    pub fn bisect_test(&self, t: Test) -> Decision {
        let mut next = self.next(t.commit, t.reason, t.runs);
        next.plan.known_signatures = t.known_signatures;
        next.revisions_left = Some(t.revisions_left);
        next.steps_left = Some(t.steps_left);
        let mut l = vec![];
        if t.reason == "bisect" {
            l.push(format!(
                "Bisecting: {} revisions left to test after this (roughly {} steps)",
                t.revisions_left, t.steps_left
            ));
        } else {
            l.push(format!("more runs at {} (P(bad)={:.3})", t.commit, t.split));
        }
        l.push(format!("[{}] {}", t.commit, (self.subject)(t.commit)));
        action(next, l)
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

    /// The records and log lines of the start phase.
    pub fn start_phase(&self, d: StartDecision, mut log: Vec<String>) -> Decision {
        match d {
            StartDecision::Measure {
                commit,
                reason,
                runs,
            } => {
                let mut next = self.next(commit, reason, runs);
                next.plan.stop_on_target = Some(false);
                action(next, log)
            }
            StartDecision::NoBug { commit, runs } => {
                let mut r = self.result_base(match self.dir {
                    Direction::Cause => "no_bug_at_bad",
                    Direction::Fix => "error",
                });
                if self.dir == Direction::Fix {
                    r.error = Some("no_bug_at_good".into());
                }
                r.message = Some(format!(
                    "the target bug did not reproduce at {commit} in {runs} runs"
                ));
                log.push(format!("the bug does not reproduce at {commit}"));
                finish(r, log)
            }
            StartDecision::Error { error, message } => self.error_result(error, message, log),
        }
    }

    /// The records and log lines of the conclusion (`bad`: the bad end).
    pub fn conclude(&self, d: ConcludeDecision, bad: Oid) -> Decision {
        match d {
            ConcludeDecision::Parent { culprit, parent } => {
                let next = self.next(parent, "parent", 0);
                action(
                    next,
                    vec![
                        format!(
                            "first bad commit candidate: {culprit} {}",
                            (self.subject)(culprit)
                        ),
                        format!("parent commit {parent} wasn't tested"),
                    ],
                )
            }
            ConcludeDecision::RevertCheck { culprit, runs } => {
                let mut next = self.next(bad, "revert_check", runs);
                next.plan.revert = Some(culprit.to_string());
                action(next, vec![format!("testing {bad} with {culprit} reverted")])
            }
            ConcludeDecision::Found(f) => self.found(f),
        }
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

    /// The `next` record of a release test.
    pub fn release_test(
        &self,
        commit: Oid,
        tag: String,
        runs: u32,
        mut log: Vec<String>,
    ) -> Decision {
        let mut next = self.next(commit, "release", runs);
        log.push(format!("testing release {tag}"));
        next.plan.release = Some(tag);
        action(next, log)
    }

    /// The result when no release is good.
    pub fn no_good_release(&self, oldest_bad: Option<String>, log: Vec<String>) -> Decision {
        let mut r = self.result_base(if oldest_bad.is_some() {
            "bug_at_oldest_release"
        } else {
            "error"
        });
        if oldest_bad.is_none() {
            r.error = Some("no_testable_release".into());
        }
        r.message = Some(match &oldest_bad {
            Some(t) => format!("the bug is already present at the oldest tested release {t}"),
            None => "no release tag could be tested".into(),
        });
        if let Some(t) = &oldest_bad {
            r.extra
                .insert("oldest_release".into(), serde_json::json!(t));
        }
        finish(r, log)
    }
}
