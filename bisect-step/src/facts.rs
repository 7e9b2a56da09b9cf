//! Facts: the journal's records folded into what is known of each commit.
//!
//! This is the only code that reads records. Builds, runs, verdicts given
//! from outside and errors become per-commit counts ([`CommitFacts`]); the
//! runs of bad with the culprit reverted, the streak of infra errors and the
//! time spent deciding are kept beside them. Nothing here decides: the
//! engine asks these facts what to do next.

use crate::model::Evidence;
use git2::Oid;
use kbisect_records::{
    kind_of, parse, BugKind, Build, Object, Outcome, RecordKind, Run, Verdict, VerdictValue,
    EXIT_CANNOT_TEST,
};
use std::collections::{BTreeMap, HashMap};

/// What is known of one commit.
#[derive(Debug, Clone, Default)]
pub struct CommitFacts {
    pub builds: u32,
    pub build_ok: Option<bool>,
    pub build_error: Option<String>,
    pub signature: Option<String>,
    pub build_seconds: f64,
    pub cached_builds: u32,
    pub evidence: Evidence,
    pub boot_failures: u32,
    pub test_failures: u32,
    pub infra_errors: u32,
    pub unrelated: u32,
    pub other_crashes: Vec<String>,
    /// The code the first run that showed the bug crashed in: the title's
    /// function and a few of its callers (what the config search guesses
    /// the needed options from).
    pub bug_frames: Vec<crashclass::stack::StackFrame>,
    /// The final `.config` of its latest good build (kbuild's `config`).
    pub config_file: Option<String>,
    pub vm_runs: u32,
    pub run_seconds: f64,
    /// A person said skip.
    pub skip_verdict: bool,
    /// New records since the last verdict written for it.
    pub dirty: bool,
    /// The last verdict bisect-step wrote for it: the log says
    /// `# git bisect …` only when a verdict is reached or changes, not on
    /// every round that adds runs to a commit already judged.
    pub said: Option<VerdictValue>,
}

impl CommitFacts {
    fn no_evidence_runs(&self) -> u32 {
        self.boot_failures + self.test_failures + self.unrelated
    }

    /// Why the commit cannot be tested, if it cannot.
    pub fn untestable(&self) -> Option<Untestable> {
        if self.skip_verdict {
            return Some(Untestable::SkippedByVerdict);
        }
        if self.build_ok == Some(false) {
            return Some(Untestable::BuildFailed {
                error: self.build_error.clone(),
            });
        }
        let ev = self.evidence.crashes + self.evidence.oks;
        if ev == 0 && (self.boot_failures + self.test_failures >= 2 || self.no_evidence_runs() >= 8)
        {
            return Some(Untestable::NoEvidence {
                boot_failures: self.boot_failures,
                test_failures: self.test_failures,
                unrelated: self.unrelated,
            });
        }
        None
    }
}

/// Why a commit cannot be tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Untestable {
    /// A person said skip.
    SkippedByVerdict,
    /// Its build failed (kbuild's error, when it gave one).
    BuildFailed { error: Option<String> },
    /// Enough runs, none with evidence either way.
    NoEvidence {
        boot_failures: u32,
        test_failures: u32,
        unrelated: u32,
    },
}

/// How many callers of the crashing function the config search looks at.
const BUG_FRAME_CALLERS: usize = 5;

/// The frames of a run that showed the bug: from the function its title
/// names down through a few callers (none without a crash frame).
fn bug_frames(r: &Run) -> Vec<crashclass::stack::StackFrame> {
    match (&r.class.frame, &r.class.report) {
        (Some(frame), Some(report)) => {
            crashclass::stack::frames_from(report, frame, BUG_FRAME_CALLERS)
        }
        (Some(frame), None) => crashclass::stack::frames_from("", frame, 0),
        _ => Vec::new(),
    }
}

/// Bad input: a record the bisection cannot take.
#[derive(Debug)]
pub struct RecordError(pub String);

/// A full sha as a commit id; abbreviations are not ids in records.
pub fn oid_of(s: &str) -> Option<Oid> {
    if kbisect_records::is_full_sha(s) {
        Oid::from_str(s).ok()
    } else {
        None
    }
}

/// The commit a record names, as a full sha.
pub fn named_commit(obj: &Object) -> Result<Oid, RecordError> {
    let s = obj
        .get("commit")
        .and_then(|v| v.as_str())
        .ok_or_else(|| RecordError("record has no `commit`".into()))?;
    oid_of(s).ok_or_else(|| RecordError(format!("commit {s:?} is not a full sha")))
}

/// Check that a record from stdin reads as its kind. True when it names a
/// commit the caller must check is in the range (build, run, verdict).
pub fn check_record(obj: &Object) -> Result<bool, RecordError> {
    if kind_of(obj).is_none() {
        return Err(RecordError(match obj.get("kind") {
            None => "record has no `kind`".into(),
            Some(k) => format!("`kind` is not a string: {k}"),
        }));
    }
    match RecordKind::of(obj) {
        RecordKind::Build => {
            parse::<Build>(obj).map_err(|e| RecordError(format!("bad build record: {e}")))?;
        }
        RecordKind::Run => {
            parse::<Run>(obj).map_err(|e| RecordError(format!("bad run record: {e}")))?;
        }
        RecordKind::Verdict => {
            parse::<Verdict>(obj).map_err(|e| RecordError(format!("bad verdict record: {e}")))?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Everything the records say, folded.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// What is known of each commit with records.
    pub by_commit: HashMap<Oid, CommitFacts>,
    /// Commits in the order their first record came.
    pub order: Vec<Oid>,
    /// The runs of bad with a candidate culprit reverted, by that
    /// candidate: a bisection the revert check sends on may check another.
    pub reverts: BTreeMap<Oid, CommitFacts>,
    pub infra_in_a_row: u32,
    /// Seconds the journal's `next` records say deciding took.
    pub decide_seconds: f64,
    /// The commit (and revert) the latest build record was for: runs follow it.
    context: Option<(Oid, Option<Oid>)>,
    /// The facts of builds and runs with a config of the config search
    /// (records with a `config_id`), by that id: each config's kernels are
    /// other kernels than the plain commit's.
    pub by_config: BTreeMap<String, Facts>,
    /// The start's target titles, for crashclass's target rule.
    targets: Vec<String>,
    /// The start's kind of bug, for crashclass's rule of what a run shows.
    bug: BugKind,
}

impl Facts {
    /// No records yet; `bug` and `targets` are the start record's kind of
    /// bug and target titles.
    pub fn new(bug: BugKind, targets: Vec<String>) -> Facts {
        Facts {
            bug,
            targets,
            ..Default::default()
        }
    }

    /// What is known of `oid` (nothing, when it has no records).
    pub fn of(&self, oid: Oid) -> CommitFacts {
        self.by_commit.get(&oid).cloned().unwrap_or_default()
    }

    pub(crate) fn commit_mut(&mut self, oid: Oid) -> &mut CommitFacts {
        if !self.by_commit.contains_key(&oid) {
            self.order.push(oid);
        }
        self.by_commit.entry(oid).or_default()
    }

    /// The facts a build or run of `oid` adds to: the revert check's when
    /// the kernel was `oid` with `revert` reverted, else the commit's own.
    fn built_mut(&mut self, oid: Oid, revert: Option<Oid>) -> &mut CommitFacts {
        match revert {
            Some(r) => self.reverts.entry(r).or_default(),
            None => self.commit_mut(oid),
        }
    }

    /// The facts of the config `id` (none yet: empty).
    pub fn config(&self, id: &str) -> &Facts {
        static EMPTY: std::sync::OnceLock<Facts> = std::sync::OnceLock::new();
        self.by_config
            .get(id)
            .unwrap_or_else(|| EMPTY.get_or_init(Facts::default))
    }

    /// The facts of the config `id`, made when it has none.
    pub fn config_mut(&mut self, id: &str) -> &mut Facts {
        let (bug, targets) = (self.bug, self.targets.clone());
        self.by_config
            .entry(id.to_string())
            .or_insert_with(|| Facts::new(bug, targets))
    }

    /// Every commit's facts, those under a config of the search included:
    /// what the result's counts add up.
    pub fn all(&self) -> Vec<&CommitFacts> {
        let mut out: Vec<&CommitFacts> = self.by_commit.values().collect();
        out.extend(self.reverts.values());
        for f in self.by_config.values() {
            out.extend(f.all());
        }
        out
    }

    /// Take one record (from the journal or stdin). Returns false for
    /// records that are not kept (our own `next`/`result` echoed back).
    pub fn ingest(&mut self, obj: &Object, from_journal: bool) -> bool {
        let kind = RecordKind::of(obj);
        if matches!(
            kind,
            RecordKind::Build | RecordKind::Run | RecordKind::Verdict | RecordKind::Error
        ) {
            if let Some(id) = obj.get("config_id").and_then(|v| v.as_str()) {
                let id = id.to_string();
                return self.config_mut(&id).ingest_own(obj, from_journal);
            }
        }
        self.ingest_own(obj, from_journal)
    }

    /// [`Facts::ingest`] of a record that is this config's.
    fn ingest_own(&mut self, obj: &Object, from_journal: bool) -> bool {
        match RecordKind::of(obj) {
            RecordKind::Start => false,
            RecordKind::Next => {
                if from_journal {
                    self.decide_seconds +=
                        obj.get("seconds").and_then(|v| v.as_f64()).unwrap_or(0.0);
                }
                from_journal
            }
            RecordKind::Result => from_journal,
            RecordKind::Build => {
                let Ok(b) = parse::<Build>(obj) else {
                    return true;
                };
                let Some(oid) = oid_of(&b.commit) else {
                    return true;
                };
                let revert = b.plan.revert.as_deref().and_then(oid_of);
                self.context = Some((oid, revert));
                let f = self.built_mut(oid, revert);
                f.builds += 1;
                if b.cached {
                    f.cached_builds += 1;
                }
                f.build_ok = Some(b.ok);
                f.build_error = b.error.clone();
                if b.ok && b.config.is_some() {
                    f.config_file = b.config.clone();
                }
                if b.signature.is_some() {
                    f.signature = b.signature.clone();
                }
                f.build_seconds += b.seconds;
                f.dirty = true;
                true
            }
            RecordKind::Run => {
                let Ok(r) = parse::<Run>(obj) else {
                    return true;
                };
                let Some(oid) = oid_of(&r.commit) else {
                    return true;
                };
                if r.outcome == Outcome::Skipped {
                    return true;
                }
                let revert = match r.plan.revert.as_deref() {
                    Some(s) => oid_of(s),
                    None => match self.context {
                        Some((c, rev)) if c == oid => rev,
                        _ => None,
                    },
                };
                // crashclass's one rule for what a run shows; None (an
                // unrelated crash, a corrupted report, a failed boot) is no
                // evidence either way.
                let shows_bug = crashclass::run_shows_bug(
                    self.bug,
                    &self.targets,
                    r.outcome,
                    &r.class,
                    r.exit_status,
                );
                if r.outcome == Outcome::InfraError {
                    self.infra_in_a_row += 1;
                } else {
                    self.infra_in_a_row = 0;
                }
                let f = self.built_mut(oid, revert);
                f.vm_runs += 1;
                f.run_seconds += r.seconds;
                if f.signature.is_none() {
                    f.signature = r.signature.clone();
                }
                f.dirty = true;
                match (shows_bug, r.outcome) {
                    (Some(true), _) => {
                        f.evidence.crashes += 1;
                        if f.bug_frames.is_empty() {
                            f.bug_frames = bug_frames(&r);
                        }
                    }
                    (Some(false), _) => f.evidence.oks += 1,
                    (None, Outcome::Crashed) => {
                        f.unrelated += 1;
                        if let Some(t) = &r.class.title {
                            if !f.other_crashes.contains(t) {
                                f.other_crashes.push(t.clone());
                            }
                        }
                    }
                    (None, Outcome::BootFailed) => f.boot_failures += 1,
                    (None, Outcome::TestFailed) => f.test_failures += 1,
                    // The test said it cannot test this kernel (git bisect
                    // run's 125): as a failed test, two of them and the
                    // commit is skipped.
                    (None, Outcome::Ok) if r.exit_status == Some(EXIT_CANNOT_TEST) => {
                        f.test_failures += 1
                    }
                    (None, Outcome::InfraError) => f.infra_errors += 1,
                    (None, Outcome::Ok | Outcome::Skipped) => {}
                }
                true
            }
            RecordKind::Verdict => {
                let Ok(v) = parse::<Verdict>(obj) else {
                    return true;
                };
                let Some(oid) = oid_of(&v.commit) else {
                    return true;
                };
                if v.by.is_some() {
                    // Our own verdict: its commit is judged up to here.
                    if from_journal {
                        let f = self.commit_mut(oid);
                        f.dirty = false;
                        f.said = Some(v.verdict);
                    }
                    return from_journal;
                }
                let f = self.commit_mut(oid);
                match v.verdict {
                    VerdictValue::Good => f.evidence.hard = Some(false),
                    VerdictValue::Bad => f.evidence.hard = Some(true),
                    VerdictValue::Skip => f.skip_verdict = true,
                }
                true
            }
            RecordKind::Error => {
                if let Some(oid) = obj.get("commit").and_then(|v| v.as_str()).and_then(oid_of) {
                    self.infra_in_a_row += 1;
                    let f = self.commit_mut(oid);
                    f.infra_errors += 1;
                }
                true
            }
            _ => true,
        }
    }
}
