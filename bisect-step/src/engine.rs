//! The bisection state machine: what to do next, from the facts
//! ([`crate::facts`] is where the records are read).
//!
//! The state is a pure function of the journal's input records (builds,
//! runs, verdicts given from outside): nothing decided earlier is trusted on
//! replay, it is decided again, so a resumed bisection reaches the same next
//! step and the same result. Decisions go through phases, each settled by
//! the facts alone: test the bad end (reproduction rate), release tags when
//! there is no good commit, bisection over the posterior, the culprit's
//! parent (signature, noop), an optional revert check, the result.

use crate::facts::{oid_of, Facts};
pub use crate::facts::{CommitFacts, RecordError};
use crate::graph::{BitSet, Graph, Walker};
use crate::model::{self, Direction, Evidence};
use anyhow::{anyhow, Context, Result};
use git2::{Oid, Repository};
use kbisect_records::{BisectResult, CommitRef, Next, Object, Start, Verdict, VerdictValue};
use std::collections::HashMap;
use std::time::Instant;

/// Runs at the start commit: until this many target crashes…
///
/// The start only has to show that the bug reproduces and roughly how
/// often: the rate is learnt from every run of the bisection after it (see
/// [`model::posterior`]). In simulation at rate 0.3, stopping at the third
/// crash took 112 VM runs a bisection where 8 crashes or 20 runs took 119,
/// and 30 runs 124, at the same accuracy.
pub const START_CRASHES: u32 = 3;
/// …or this many runs with evidence…
pub const START_RUNS: u32 = 20;
/// …asked for this many at a time.
pub const START_BATCH: u32 = 5;
/// Consecutive infra errors that stop the bisection.
pub const MAX_INFRA_IN_A_ROW: u32 = 10;
/// VM runs after which the bisection stops with what it has.
pub const MAX_VM_RUNS: u32 = 1000;
/// The culprit's posterior probability at which the bisection stops. The
/// posterior holds up as a probability of being right: in the simulator,
/// bisections stopping at 0.99 named the culprit 98.9-99.2% of the time at
/// a flaky 0.3 reproduction rate (three sets of 1000); 0.995 took 7% more
/// VM runs for 99.6%.
pub const DEFAULT_CONFIDENCE: f64 = 0.99;
/// Release tags tested at most.
pub const MAX_RELEASES: usize = 12;
/// The bounds of the reproduction rate the bisection works with: never
/// quite certain, never hopeless.
const RATE_CLAMP: (f64, f64) = (0.02, 0.999);

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

/// The bisection over one repository.
pub struct Engine {
    pub repo: Repository,
    pub start: Start,
    pub dir: Direction,
    pub bad: Oid,
    pub goods: Vec<Oid>,
    /// What the records say: the only state read from records.
    pub facts: Facts,
    graph: Option<(Vec<Oid>, Graph)>,
}

/// Resolve a revision (sha, tag, branch, HEAD~2…) to a commit id.
pub fn resolve(repo: &Repository, rev: &str) -> Result<Oid> {
    let obj = repo
        .revparse_single(rev)
        .map_err(|e| anyhow!("unknown revision {rev:?}: {}", e.message()))?;
    let commit = obj
        .peel_to_commit()
        .map_err(|_| anyhow!("{rev:?} does not name a commit"))?;
    Ok(commit.id())
}

impl Engine {
    /// Open the repository named by the start record and check the range.
    pub fn new(start: Start) -> Result<Engine> {
        let repo = Repository::open(&start.repo)
            .with_context(|| format!("cannot open git repository {}", start.repo))?;
        let dir = match start.direction.as_str() {
            "cause" | "" => Direction::Cause,
            "fix" => Direction::Fix,
            other => return Err(anyhow!("unknown direction {other:?}")),
        };
        let bad =
            oid_of(&start.bad).ok_or_else(|| anyhow!("bad {:?} is not a full sha", start.bad))?;
        repo.find_commit(bad)
            .map_err(|_| anyhow!("bad commit {bad} is not in {}", start.repo))?;
        let mut goods = Vec::new();
        for g in &start.good {
            let oid = oid_of(g).ok_or_else(|| anyhow!("good {g:?} is not a full sha"))?;
            repo.find_commit(oid)
                .map_err(|_| anyhow!("good commit {oid} is not in {}", start.repo))?;
            if oid == bad {
                return Err(anyhow!("good commit {oid} is the bad commit"));
            }
            goods.push(oid);
        }
        if goods.is_empty() && start.releases.is_none() {
            return Err(anyhow!("no good commit: give --good or --releases"));
        }
        if dir == Direction::Fix && goods.is_empty() {
            return Err(anyhow!(
                "--fix needs --good: an old commit where the bug reproduces"
            ));
        }
        Ok(Engine {
            facts: Facts::new(start.target.clone()),
            repo,
            start,
            dir,
            bad,
            goods,
            graph: None,
        })
    }

    /// Load the range and check it: a good commit that is a descendant of
    /// bad leaves bad itself outside the range.
    pub fn check_range(&mut self) -> Result<()> {
        if self.goods.is_empty() {
            return Ok(());
        }
        let bad = self.bad;
        if self.graph()?.node(&bad).is_none() {
            let culprit = self
                .goods
                .iter()
                .find(|g| self.repo.graph_descendant_of(**g, bad).unwrap_or(false))
                .copied();
            return Err(match culprit {
                Some(g) => anyhow!("good commit {g} is a descendant of bad {bad}"),
                None => anyhow!("bad {bad} is an ancestor of a good commit"),
            });
        }
        Ok(())
    }

    /// The commit a record names, checked to be in the range: the bad commit
    /// or one of its ancestors.
    pub fn check_commit(&mut self, obj: &Object) -> Result<Oid, RecordError> {
        let oid = crate::facts::named_commit(obj)?;
        if oid == self.bad {
            return Ok(oid);
        }
        if let Some((_, g)) = &self.graph {
            if g.node(&oid).is_some() {
                return Ok(oid);
            }
        }
        if self.repo.find_commit(oid).is_err() {
            return Err(RecordError(format!(
                "commit {oid} is not in the repository"
            )));
        }
        if !self
            .repo
            .graph_descendant_of(self.bad, oid)
            .unwrap_or(false)
        {
            return Err(RecordError(format!(
                "commit {oid} is not in the range (not an ancestor of bad {})",
                self.bad
            )));
        }
        Ok(oid)
    }

    /// Check a record from stdin before it is taken (nothing is taken when
    /// any record of the input is bad): it reads as its kind, and the commit
    /// it names is in the range.
    pub fn validate(&mut self, obj: &Object) -> Result<(), RecordError> {
        if crate::facts::check_record(obj)? {
            self.check_commit(obj)?;
        }
        Ok(())
    }

    /// Take one record (from the journal or stdin); see [`Facts::ingest`].
    pub fn ingest(&mut self, obj: &Object, from_journal: bool) -> bool {
        self.facts.ingest(obj, from_journal)
    }

    fn subject(&self, oid: Oid) -> String {
        self.repo
            .find_commit(oid)
            .ok()
            .and_then(|c| c.summary().map(str::to_string))
            .unwrap_or_default()
    }

    fn f(&self, oid: Oid) -> CommitFacts {
        self.facts.of(oid)
    }

    /// The commit whose runs measure the reproduction rate: the buggy end.
    fn start_commit(&self) -> Oid {
        match self.dir {
            Direction::Cause => self.bad,
            Direction::Fix => self.goods[0],
        }
    }

    /// A cautious reproduction rate for the fixed run counts (a release tag
    /// or the revert check is called good after enough ok runs): a Beta(1,1)
    /// posterior from the runs of commits known buggy, taken half a standard
    /// deviation low, so ok runs are not over-trusted; and the plain rate.
    /// The bisection itself learns the rate with the culprit instead.
    fn repro_rate(&self, known_buggy: &[Oid]) -> (f64, f64) {
        let (rate, point) = self.rate_belief(known_buggy);
        let (a, b) = (rate.a, rate.b);
        let sd = (a * b / ((a + b) * (a + b) * (a + b + 1.0))).sqrt();
        ((rate.mean() - 0.5 * sd).clamp(0.05, 0.999), point)
    }

    /// The Beta belief about the reproduction rate, and the plain estimate.
    fn rate_belief(&self, known_buggy: &[Oid]) -> (model::Rate, f64) {
        if let Some(p) = self.start.repro_rate {
            return (model::Rate::known(p), p);
        }
        let (mut k, mut m) = (0.0, 0.0);
        for o in known_buggy {
            if let Some(f) = self.facts.by_commit.get(o) {
                k += f.evidence.crashes as f64;
                m += f.evidence.oks as f64;
            }
        }
        // Counted at half weight: the start stops at its third crash, and a
        // lucky start (3 crashes in 4 runs at a true 0.3) must not make a
        // few ok runs look like proof. The wider belief costs a run or two.
        (
            model::Rate::from_counts(k / 2.0, m / 2.0),
            k / (k + m).max(1.0),
        )
    }

    /// What a build costs in VM runs, from the seconds this bisection's
    /// builds (not the cached ones) and runs took: 2 until both are known.
    fn build_cost_in_runs(&self) -> f64 {
        let (mut build_s, mut builds, mut run_s, mut runs) = (0.0, 0u32, 0.0, 0u32);
        for f in self.facts.by_commit.values() {
            if f.builds > f.cached_builds {
                build_s += f.build_seconds;
                builds += f.builds - f.cached_builds;
            }
            run_s += f.run_seconds;
            runs += f.vm_runs;
        }
        if builds == 0 || runs == 0 || run_s <= 0.0 {
            return 2.0;
        }
        ((build_s / builds as f64) / (run_s / runs as f64)).clamp(0.5, 20.0)
    }

    /// The reproduction rate the next commit is chosen with. Answers given
    /// as plain verdicts (a person or a script saying good or bad, no VM
    /// run anywhere and no `--repro-rate`) are certain: choosing with the
    /// posterior rate, which with no runs is the uniform prior's 0.5,
    /// assumed a flaky reproducer and leaned to the good side, taking more
    /// tests than `git bisect`. Then the choice halves like git, at the
    /// clamp's top; `posterior_rate` stays the rate everywhere else.
    fn choice_rate(&self, posterior_rate: f64) -> f64 {
        let any_vm_run = self
            .facts
            .by_commit
            .values()
            .chain(std::iter::once(&self.facts.revert))
            .any(|f| f.vm_runs > 0);
        if self.start.repro_rate.is_none() && !any_vm_run {
            RATE_CLAMP.1
        } else {
            posterior_rate
        }
    }

    fn batch(p: f64) -> u32 {
        ((0.5f64).ln() / (1.0 - p).ln()).ceil().clamp(1.0, 10.0) as u32
    }

    fn confirm_runs(p: f64) -> u32 {
        ((0.01f64).ln() / (1.0 - p).ln()).ceil().clamp(1.0, 20.0) as u32
    }

    /// Runs of bad with the culprit reverted before the bug is called gone:
    /// the one home of that count (kbisect takes it from the result's
    /// `revert_runs` when it does the check itself).
    fn revert_check_runs(&self) -> u32 {
        let (p_cons, _) = self.repro_rate(&[self.start_commit()]);
        Self::confirm_runs(p_cons)
    }

    fn next(&self, oid: Oid, reason: &str, runs: u32) -> Next {
        Next {
            commit: oid.to_string(),
            subject: Some(self.subject(oid)),
            reason: reason.into(),
            runs: Some(runs),
            ..Default::default()
        }
    }

    /// Decide what to do now.
    pub fn decide(&mut self) -> Result<Decision> {
        let t0 = Instant::now();
        let mut log = Vec::new();
        let verdicts = self.verdicts(&mut log);
        let mut d = self.decide_action(&mut log)?;
        let secs = t0.elapsed().as_secs_f64();
        if !d.done {
            d.action.insert("seconds".into(), serde_json::json!(secs));
        }
        d.verdicts = verdicts;
        d.log.splice(0..0, log);
        Ok(d)
    }

    fn result_base(&self, status: &str) -> BisectResult {
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

    fn finish(r: BisectResult, log: Vec<String>) -> Decision {
        Decision {
            verdicts: vec![],
            action: kbisect_records::to_object(&r),
            done: true,
            log,
        }
    }

    fn error_result(&self, error: &str, message: String, mut log: Vec<String>) -> Decision {
        let mut r = self.result_base("error");
        r.error = Some(error.into());
        log.push(format!("bisection stopped: {message}"));
        r.message = Some(message);
        Self::finish(r, log)
    }

    fn action(next: Next, log: Vec<String>) -> Decision {
        Decision {
            verdicts: vec![],
            action: kbisect_records::to_object(&next),
            done: false,
            log,
        }
    }

    /// Verdict records for commits with new records since their last verdict.
    fn verdicts(&mut self, log: &mut Vec<String>) -> Vec<Object> {
        let mut out = Vec::new();
        let sigs = self.tested_signatures();
        for oid in self.facts.order.clone() {
            let f = self.f(oid);
            if !f.dirty {
                continue;
            }
            let mut v = Verdict {
                commit: oid.to_string(),
                verdict: VerdictValue::Skip,
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
            if let Some(why) = f.untestable() {
                v.reason = Some(why);
            } else if f.evidence.crashes > 0 {
                v.verdict = VerdictValue::Bad;
                v.reason = Some(format!(
                    "target bug in {} of {} runs",
                    f.evidence.crashes,
                    f.evidence.crashes + f.evidence.oks
                ));
                if f.evidence.oks > 0 {
                    log.push("reproducer seems to be flaky".into());
                }
            } else if f.evidence.oks > 0 {
                v.verdict = VerdictValue::Good;
                v.reason = Some(format!("no target crash in {} runs", f.evidence.oks));
            } else if let Some(other) = self.same_signature(oid, &f, &sigs) {
                let of = self.f(other);
                v.verdict = if of.evidence.crashes > 0 {
                    VerdictValue::Bad
                } else {
                    VerdictValue::Good
                };
                v.same_signature_as = Some(other.to_string());
                v.reason = Some(format!("same build signature as {other}, not booted"));
            } else {
                // Nothing to judge yet (only infra errors, or a build).
                if let Some(f) = self.facts.by_commit.get_mut(&oid) {
                    f.dirty = false;
                }
                continue;
            }
            if let Some(f) = self.facts.by_commit.get_mut(&oid) {
                f.dirty = false;
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
            log.push(format!("# git bisect {word} {oid}"));
            out.push(kbisect_records::to_object(&v));
        }
        out
    }

    /// Signatures of commits with evidence from their own runs.
    fn tested_signatures(&self) -> HashMap<String, Oid> {
        let mut m = HashMap::new();
        for oid in &self.facts.order {
            let f = &self.facts.by_commit[oid];
            if let Some(s) = &f.signature {
                if f.evidence.crashes + f.evidence.oks > 0 && f.evidence.hard.is_none() {
                    m.entry(s.clone()).or_insert(*oid);
                }
            }
        }
        m
    }

    fn same_signature(
        &self,
        oid: Oid,
        f: &CommitFacts,
        sigs: &HashMap<String, Oid>,
    ) -> Option<Oid> {
        let s = f.signature.as_ref()?;
        if f.evidence.crashes + f.evidence.oks > 0 {
            return None;
        }
        sigs.get(s).copied().filter(|o| *o != oid)
    }

    /// The evidence a commit carries: its own, or, with none, that of a
    /// tested commit with the same build signature.
    fn evidence_of(&self, oid: Oid, sigs: &HashMap<String, Oid>) -> Evidence {
        let f = self.f(oid);
        if !f.evidence.is_empty() {
            return f.evidence;
        }
        match self.same_signature(oid, &f, sigs) {
            Some(o) => self.f(o).evidence,
            None => f.evidence,
        }
    }

    fn decide_action(&mut self, log: &mut Vec<String>) -> Result<Decision> {
        let log0 = std::mem::take(log);
        if self.facts.infra_in_a_row >= MAX_INFRA_IN_A_ROW {
            return Ok(self.error_result(
                "too_many_infra_errors",
                format!("{} infra errors in a row", self.facts.infra_in_a_row),
                log0,
            ));
        }
        // Phase 1: the buggy end reproduces, and how often.
        let s = self.start_commit();
        let sf = self.f(s);
        if self.start.repro_rate.is_none() && sf.evidence.hard.is_none() {
            if let Some(why) = sf.untestable() {
                return Ok(self.error_result(
                    "start_commit_untestable",
                    format!("the starting commit {s} cannot be tested: {why}"),
                    log0,
                ));
            }
            let ev = sf.evidence.crashes + sf.evidence.oks;
            // No crash in 20 runs: 20 more before saying it does not reproduce.
            let want = if sf.evidence.crashes == 0 {
                2 * START_RUNS
            } else {
                START_RUNS
            };
            if sf.evidence.crashes < START_CRASHES && ev < want {
                let reason = if sf.vm_runs > 0 || sf.builds > 0 {
                    "more_runs"
                } else {
                    "start"
                };
                let runs = if ev < START_RUNS {
                    START_RUNS - ev
                } else {
                    want - ev
                };
                // In batches: the start stops at its third target crash.
                let runs = runs.min(START_BATCH);
                // Every run counts while the rate is measured: ktest must not
                // stop this batch at its first target crash.
                let mut next = self.next(s, reason, runs);
                next.stop_on_target = Some(false);
                return Ok(Self::action(next, log0));
            }
            if sf.evidence.crashes == 0 {
                let mut r = self.result_base(match self.dir {
                    Direction::Cause => "no_bug_at_bad",
                    Direction::Fix => "error",
                });
                if self.dir == Direction::Fix {
                    r.error = Some("no_bug_at_good".into());
                }
                r.message = Some(format!(
                    "the target bug did not reproduce at {s} in {ev} runs"
                ));
                let mut l = log0;
                l.push(format!("the bug does not reproduce at {s}"));
                return Ok(Self::finish(r, l));
            }
        }
        // Phase 2: releases, newest to oldest, until one is good.
        if self.goods.is_empty() {
            let (p, _) = self.repro_rate(&[s]);
            let confirm = Self::confirm_runs(p);
            let tags = crate::releases::release_tags(
                &self.repo,
                self.start.releases.as_deref().unwrap_or("v*"),
                self.bad,
                MAX_RELEASES,
            )?;
            let mut oldest_bad = None;
            let mut good = None;
            for (tag, oid) in &tags {
                let f = self.f(*oid);
                let state = if let Some(h) = f.evidence.hard {
                    Some(h)
                } else if f.untestable().is_some() {
                    continue;
                } else if f.evidence.crashes > 0 {
                    Some(true)
                } else if f.evidence.oks >= confirm {
                    Some(false)
                } else {
                    None
                };
                match state {
                    Some(true) => oldest_bad = Some(tag.clone()),
                    Some(false) => {
                        good = Some(*oid);
                        break;
                    }
                    None => {
                        let mut next = self.next(*oid, "release", confirm - f.evidence.oks);
                        next.release = Some(tag.clone());
                        let mut l = log0;
                        l.push(format!("testing release {tag}"));
                        return Ok(Self::action(next, l));
                    }
                }
            }
            match good {
                Some(g) => self.goods = vec![g],
                None => {
                    let mut r = self.result_base(if oldest_bad.is_some() {
                        "bug_at_oldest_release"
                    } else {
                        "error"
                    });
                    if oldest_bad.is_none() {
                        r.error = Some("no_testable_release".into());
                    }
                    r.message = Some(match &oldest_bad {
                        Some(t) => {
                            format!("the bug is already present at the oldest tested release {t}")
                        }
                        None => "no release tag could be tested".into(),
                    });
                    if let Some(t) = &oldest_bad {
                        r.extra
                            .insert("oldest_release".into(), serde_json::json!(t));
                    }
                    return Ok(Self::finish(r, log0));
                }
            }
        }
        self.bisect(log0)
    }

    fn graph(&mut self) -> Result<&Graph> {
        let stale = match &self.graph {
            Some((goods, _)) => *goods != self.goods,
            None => true,
        };
        if stale {
            let g = Graph::load(&self.repo, self.bad, &self.goods)?;
            self.graph = Some((self.goods.clone(), g));
        }
        Ok(&self.graph.as_ref().expect("graph just loaded").1)
    }

    /// Phase 3 to 5: bisection, the parent, the revert check, the result.
    fn bisect(&mut self, mut log: Vec<String>) -> Result<Decision> {
        self.graph()?;
        let (_, g) = self.graph.take().expect("graph loaded");
        let out = self.bisect_in(&g, &mut log);
        self.graph = Some((self.goods.clone(), g));
        out.map(|mut d| {
            d.log.splice(0..0, log);
            d
        })
    }

    fn bisect_in(&mut self, g: &Graph, _log: &mut Vec<String>) -> Result<Decision> {
        let n = g.len();
        if n == 0 {
            return Ok(self.error_result(
                "empty_range",
                "no commit between good and bad".into(),
                vec![],
            ));
        }
        let sigs = self.tested_signatures();
        let mut walker = Walker::new(n);
        // Tested commits in range, with their ancestor sets.
        let mut tested: Vec<(u32, BitSet, Evidence)> = Vec::new();
        let mut untestable = vec![false; n];
        // Commits that failed to build or boot, and ones that gave evidence:
        // where a broken stretch may reach (model::testable_odds).
        let mut broken = vec![false; n];
        let mut works = vec![false; n];
        for oid in &self.facts.order {
            let Some(x) = g.node(oid) else { continue };
            if self.facts.by_commit[oid].untestable().is_some() {
                untestable[x as usize] = true;
                broken[x as usize] = true;
            }
            let own = self.facts.by_commit[oid].evidence;
            works[x as usize] = !own.is_empty();
            let ev = self.evidence_of(*oid, &sigs);
            if own.is_empty() && !ev.is_empty() {
                // Same kernel as a tested commit: testing it again is
                // testing that one.
                untestable[x as usize] = true;
            }
            if !ev.is_empty() {
                tested.push((x, walker.ancestors(g, x), ev));
            }
        }
        // The rate is learnt with the culprit (see model::posterior). Runs
        // of the buggy end outside the range (a fix bisection's good
        // commits) hold under every hypothesis, so they go into the prior.
        let (_, p_point) = self.rate_belief(&[self.start_commit()]);
        let prior = match self.start.repro_rate {
            Some(p) => model::Rate::known(p),
            None => {
                let (mut k, mut m) = (0.0, 0.0);
                if self.dir == Direction::Fix {
                    for o in &self.goods {
                        let ev = self.f(*o).evidence;
                        if ev.hard.is_none() {
                            k += ev.crashes as f64;
                            m += ev.oks as f64;
                        }
                    }
                }
                model::Rate::from_counts(k, m)
            }
        };
        let refs: Vec<(&BitSet, Evidence)> = tested.iter().map(|(_, a, e)| (a, *e)).collect();
        let Some(post) = model::posterior(g, &refs, prior, self.dir) else {
            return Ok(self.error_result(
                "contradictory_verdicts",
                "the verdicts contradict every candidate".into(),
                vec![],
            ));
        };
        let (w, p) = (post.weight, post.rate.clamp(RATE_CLAMP.0, RATE_CLAMP.1));
        let (best, confidence) =
            w.iter().enumerate().fold(
                (0usize, -1.0f64),
                |acc, (i, &x)| if x > acc.1 { (i, x) } else { acc },
            );
        let target = self.start.confidence.unwrap_or(DEFAULT_CONFIDENCE);
        let total_runs: u32 = self.facts.by_commit.values().map(|f| f.vm_runs).sum();
        let flaky = self
            .facts
            .by_commit
            .values()
            .any(|f| f.evidence.crashes > 0 && f.evidence.oks > 0)
            || p_point < 0.95;
        let choice = if confidence >= target || total_runs >= MAX_VM_RUNS {
            None
        } else {
            let retest: Vec<u32> = tested
                .iter()
                .filter(|(x, _, e)| e.hard.is_none() && e.crashes == 0 && !untestable[*x as usize])
                .map(|(x, _, _)| *x)
                .collect();
            let build_cost = self.build_cost_in_runs();
            let mut testable = model::testable_odds(g, &broken, &works);
            for (t, &u) in testable.iter_mut().zip(&untestable) {
                if u {
                    *t = 0.0;
                }
            }
            model::choose(
                g,
                &w,
                &testable,
                &retest,
                build_cost,
                self.choice_rate(p),
                self.dir,
                &mut walker,
            )
        };
        if let Some(c) = choice {
            let oid = g.oids[c.node as usize];
            let f = self.f(oid);
            let reason = if f.vm_runs > 0 || f.builds > 0 {
                "more_runs"
            } else {
                "bisect"
            };
            let mut next = self.next(oid, reason, Self::batch(p));
            // A kernel identical to one already tested need not boot: ktest
            // gives a build with one of these signatures no runs, and the
            // verdict comes from the commit that had it.
            if reason == "bisect" {
                let mut known: Vec<String> = self.tested_signatures().into_keys().collect();
                known.sort();
                next.known_signatures = known;
            }
            // git's view: candidates not ruled out by a decided verdict.
            let alive = self.discrete_alive(g, &tested);
            let anc = walker.ancestors(g, c.node);
            let all = alive.iter().filter(|&&a| a).count() as u64;
            let below = (0..n).filter(|&i| alive[i] && anc.get(i as u32)).count() as u64;
            let left = (below.saturating_sub(1)).max(all - below);
            next.revisions_left = Some(left);
            next.steps_left = Some(estimate_steps(all));
            let mut l = vec![];
            if reason == "bisect" {
                l.push(format!(
                    "Bisecting: {left} revisions left to test after this (roughly {} steps)",
                    estimate_steps(all)
                ));
            } else {
                l.push(format!("more runs at {oid} (P(bad)={:.3})", c.split));
            }
            l.push(format!("[{oid}] {}", self.subject(oid)));
            return Ok(Self::action(next, l));
        }
        // Settled: found, or inconclusive.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| w[b].total_cmp(&w[a]).then(a.cmp(&b)));
        let mut mass = 0.0;
        let mut set = Vec::new();
        for i in order {
            if mass >= target.min(0.99) || w[i] < model::LIVE {
                break;
            }
            mass += w[i];
            set.push(i);
        }
        if confidence < target && set.len() > 1 {
            let mut r = self.result_base("inconclusive");
            set.sort();
            r.candidates = set
                .iter()
                .take(100)
                .map(|&i| CommitRef {
                    commit: g.oids[i].to_string(),
                    subject: self.subject(g.oids[i]),
                })
                .collect();
            r.confidence = confidence;
            r.flaky = flaky;
            r.repro_rate = Some(p_point);
            let mut l = vec!["This means the bug could be in any of these commits (only skipped commits left to test):".to_string()];
            l.extend(
                r.candidates
                    .iter()
                    .map(|c| format!("{} {}", c.commit, c.subject)),
            );
            return Ok(Self::finish(r, l));
        }
        let culprit = g.oids[best];
        self.conclude(culprit, confidence, flaky, p_point)
    }

    /// Candidates not ruled out by any decided verdict (crash = bug present,
    /// ok-only runs = taken as absent), as `git bisect` would count them.
    fn discrete_alive(&self, g: &Graph, tested: &[(u32, BitSet, Evidence)]) -> Vec<bool> {
        let mut alive = vec![true; g.len()];
        for (_, anc, ev) in tested {
            let present = ev.hard.unwrap_or(ev.crashes > 0);
            let new_state = match self.dir {
                Direction::Cause => present,
                Direction::Fix => !present,
            };
            for (i, a) in alive.iter_mut().enumerate() {
                if anc.get(i as u32) != new_state {
                    *a = false;
                }
            }
        }
        alive
    }

    /// The culprit is settled: check its parent, maybe revert it, and report.
    fn conclude(&mut self, culprit: Oid, confidence: f64, flaky: bool, p: f64) -> Result<Decision> {
        let commit = self.repo.find_commit(culprit)?;
        let parent = commit.parent_id(0).ok();
        let cf = self.f(culprit);
        if let Some(pa) = parent {
            let pf = self.f(pa);
            if pf.builds == 0 && pf.evidence.is_empty() {
                let next = self.next(pa, "parent", 0);
                return Ok(Self::action(
                    next,
                    vec![
                        format!(
                            "first bad commit candidate: {culprit} {}",
                            self.subject(culprit)
                        ),
                        format!("parent commit {pa} wasn't tested"),
                    ],
                ));
            }
        }
        let mut revert_check = None;
        let confirm = self.revert_check_runs();
        if self.start.revert_check && culprit != self.bad {
            let rf = &self.facts.revert;
            let verdict = if rf.build_ok == Some(false) {
                Some("revert_failed")
            } else if rf.evidence.crashes > 0 {
                Some("bug_remains")
            } else if rf.evidence.oks >= confirm {
                Some("bug_gone")
            } else if rf.untestable().is_some() {
                Some("not_tested")
            } else {
                None
            };
            match verdict {
                Some(v) => revert_check = Some(v.to_string()),
                None => {
                    let mut next = self.next(self.bad, "revert_check", confirm - rf.evidence.oks);
                    next.revert = Some(culprit.to_string());
                    return Ok(Self::action(
                        next,
                        vec![format!("testing {} with {culprit} reverted", self.bad)],
                    ));
                }
            }
        }
        let mut r = self.result_base("found");
        r.culprit = Some(CommitRef {
            commit: culprit.to_string(),
            subject: commit.summary().unwrap_or("").to_string(),
        });
        r.confidence = confidence;
        r.flaky = flaky;
        r.repro_rate = Some(p);
        r.merge = commit.parent_count() > 1;
        r.release = crate::releases::is_release_commit(&self.repo, &commit);
        r.culprit_signature = cf.signature.clone();
        r.parent_signature = parent.and_then(|pa| self.f(pa).signature);
        r.noop =
            matches!((&r.culprit_signature, &r.parent_signature), (Some(a), Some(b)) if a == b);
        if revert_check.is_none() {
            // kbisect runs the check itself then: with this many runs.
            r.extra
                .insert("revert_runs".into(), serde_json::json!(confirm));
        }
        r.revert_check = revert_check;
        let mut l = Vec::new();
        if let (Some(a), Some(b)) = (&r.culprit_signature, &r.parent_signature) {
            l.push(format!("culprit signature: {a}"));
            l.push(format!("parent  signature: {b}"));
        }
        if r.noop {
            l.push("culprit and parent build the same kernel: the result is suspect (noop)".into());
        }
        if flaky {
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
            "{word}: {culprit} {} (confidence {:.3})",
            commit.summary().unwrap_or(""),
            confidence
        ));
        Ok(Self::finish(r, l))
    }
}

/// git's estimate of the steps left for `all` candidates.
pub fn estimate_steps(all: u64) -> u32 {
    if all < 3 {
        return 0;
    }
    let n = 63 - all.leading_zeros();
    let e = 1u64 << n;
    let x = all - e;
    if e < 3 * x {
        n
    } else {
        n - 1
    }
}
