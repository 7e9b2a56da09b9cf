//! The bisection policy: what to do next, decided from the facts, the
//! start options and the commit graph alone.
//!
//! Nothing here holds a git repository or writes a human string: what the
//! policy needs from git (the candidate graph, release tags, the culprit's
//! parent) is handed in as plain data. Every phase (start, releases,
//! bisect, conclude: parent and revert check) answers with one decision
//! type, [`Step`]: `Test` a commit, or `Done` with a typed outcome; the
//! verdict a commit's records give is a [`Judgement`]. [`crate::render`]
//! turns them into records and log lines. The rates, run counts and
//! thresholds of the bisection live here, each in one place.

pub use crate::facts::Untestable;
use crate::facts::{CommitFacts, Facts};
use crate::graph::{BitSet, Graph, Walker};
use crate::model::{self, Direction, Evidence};
use git2::Oid;
use kbisect_records::{Start, VerdictValue};
use std::collections::HashMap;
use std::ops::ControlFlow::{self, Break, Continue};

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
/// VM runs for 99.6%. With the revert check's runs weighed too (kbisect
/// asks for it), 99.6-99.8% at 0.99, for 0.3% more VM runs.
pub const DEFAULT_CONFIDENCE: f64 = 0.99;
/// Release tags tested at most.
pub const MAX_RELEASES: usize = 12;
/// Candidate configs the config search tests at most (besides the full
/// and baseline configs): about a build each, so a bound on its cost. One
/// needed option among syzbot's 2,700 differing ones takes 13, two take 26
/// (bench/configsearch.sh); more than that and the smallest reproducing
/// config seen is kept.
pub const CONFIG_MAX_CANDIDATES: u32 = 32;
/// Runs of one candidate config at most; then the likelier side is taken.
pub const CONFIG_MAX_RUNS: u32 = 20;
/// How sure the config search must be that a candidate reproduces at the
/// required rate, or that it does not, to call it.
pub const CONFIG_SURE: f64 = 0.95;

/// The bounds of the reproduction rate the bisection works with: never
/// quite certain, never hopeless.
const RATE_CLAMP: (f64, f64) = (0.02, 0.999);

/// Every decision of the policy: test commits, or stop.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The tests of one round: one test, or with several VM slots a batch
    /// on distinct commits whose runs sum to at most the slots (see
    /// [`Policy::plan_batch`]). Never empty.
    Test(Vec<Test>),
    Done(Done),
}

/// Why a commit is tested: the records' enum, which the `next` record
/// carries as it is.
pub use kbisect_records::Reason;

/// A commit to test, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub commit: Oid,
    pub reason: Reason,
    pub runs: u32,
    /// False: every run counted (ktest must not stop at the first target
    /// crash); None: ktest's default.
    pub stop_on_target: Option<bool>,
    /// Build the commit with this one reverted.
    pub revert: Option<Oid>,
    /// The release tag the commit is.
    pub release: Option<String>,
    /// Signatures of kernels tested already (a build with one need not boot).
    pub known_signatures: Vec<String>,
    /// Where a bisection choice stands.
    pub progress: Option<Progress>,
    /// For the parent's test: the culprit it is the parent of.
    pub culprit: Option<Oid>,
    /// Build with this config of the config search, not kbuild's own.
    pub config: Option<ConfigRef>,
}

/// A config of the config search, as a test names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRef {
    /// `full`, `baseline`, or a candidate's digest (the records' `config_id`).
    pub id: String,
    /// What kbuild configures with: a `.config` path or a base target.
    pub build_config: String,
}

impl Test {
    /// `runs` runs at `commit`, nothing else asked.
    pub fn new(commit: Oid, reason: Reason, runs: u32) -> Test {
        Test {
            commit,
            reason,
            runs,
            stop_on_target: None,
            revert: None,
            release: None,
            known_signatures: Vec::new(),
            progress: None,
            culprit: None,
            config: None,
        }
    }
}

/// Where the bisection stands at a chosen commit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// As `git bisect` would count it: the revisions left after this test,
    /// and the steps.
    pub revisions_left: u64,
    pub steps_left: u32,
    /// The best candidate's posterior probability of being the culprit
    /// when the commit was chosen (what the bisection stops on).
    pub culprit_probability: f64,
    /// The posterior chance that the commit is in the new state.
    pub split: f64,
    /// The reproduction rate the commit was chosen with.
    pub rate: f64,
}

/// How the bisection ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    Found(Found),
    /// No single commit reached the confidence and none is left to test:
    /// the culprit is one of `candidates` (in graph order).
    Inconclusive {
        candidates: Vec<Oid>,
        confidence: f64,
        flaky: bool,
        repro_rate: f64,
    },
    /// The bug did not reproduce at the start commit in `runs` runs.
    NoBugAtStart {
        commit: Oid,
        runs: u32,
    },
    /// A fix bisection whose fixed end still has the bug.
    NotFixed {
        commit: Oid,
        runs: u32,
    },
    /// No release is good: the bug is present at the oldest one tested.
    BugAtOldestRelease {
        tag: String,
    },
    /// The bisection cannot go on.
    Stopped(Stop),
}

/// Why the bisection cannot go on (the result's `error`).
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    TooManyInfraErrors {
        in_a_row: u32,
    },
    StartCommitUntestable {
        commit: Oid,
        why: Untestable,
    },
    EmptyRange,
    /// The verdicts leave no candidate; `commit`: a verdict outside the
    /// range that contradicts the good end.
    ContradictoryVerdicts {
        commit: Option<Oid>,
    },
    NoTestableRelease,
}

impl Stop {
    /// The name records use.
    pub fn as_str(&self) -> &'static str {
        match self {
            Stop::TooManyInfraErrors { .. } => "too_many_infra_errors",
            Stop::StartCommitUntestable { .. } => "start_commit_untestable",
            Stop::EmptyRange => "empty_range",
            Stop::ContradictoryVerdicts { .. } => "contradictory_verdicts",
            Stop::NoTestableRelease => "no_testable_release",
        }
    }
}

/// The culprit is settled: the parent and revert checks come next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settled {
    pub culprit: Oid,
    pub confidence: f64,
    pub flaky: bool,
    pub repro_rate: f64,
}

/// The verdict a commit's records give.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    Untestable(Untestable),
    /// Target crashes in some of its runs (`flaky`: ok runs too).
    Bad {
        crashes: u32,
        runs: u32,
        flaky: bool,
    },
    /// Ok runs only.
    Good {
        oks: u32,
    },
    /// No runs of its own: the same kernel as `other`, whose verdict it takes.
    SameSignature {
        other: Oid,
        bad: bool,
    },
}

impl Judgement {
    /// The verdict it amounts to, as git bisect would say it.
    pub fn verdict(&self) -> VerdictValue {
        match self {
            Judgement::Untestable(_) => VerdictValue::Skip,
            Judgement::Bad { .. } | Judgement::SameSignature { bad: true, .. } => VerdictValue::Bad,
            Judgement::Good { .. } | Judgement::SameSignature { bad: false, .. } => {
                VerdictValue::Good
            }
        }
    }
}

/// The facts and start options a decision is made from.
pub struct Policy<'a> {
    pub facts: &'a Facts,
    pub start: &'a Start,
    pub dir: Direction,
    pub bad: Oid,
    pub goods: &'a [Oid],
    /// VM slots this round (`--slots`): runs that can go at once. 1 asks
    /// one test a round, as a single VM would run it.
    pub slots: u32,
}

impl Policy<'_> {
    fn f(&self, oid: Oid) -> CommitFacts {
        self.facts.of(oid)
    }

    /// The commit whose runs measure the reproduction rate: the buggy end.
    pub fn start_commit(&self) -> Oid {
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
    pub fn repro_rate(&self, known_buggy: &[Oid]) -> (f64, f64) {
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

    /// A person's verdict on a commit outside the range (a good commit or
    /// an ancestor of one: the only commits a record may name besides the
    /// range) that says otherwise than the good end: the bug present, for a
    /// cause bisection; absent, for a fix. The range's own verdicts meet
    /// the posterior, where a contradiction leaves no candidate; these
    /// would be ignored.
    /// With `--first-parent` the commits a merge brought in are outside the
    /// graph but not below a good end: not these.
    fn verdict_against_good(&self, g: &Graph) -> Option<Oid> {
        let good_end_buggy = self.dir == Direction::Fix;
        self.facts.order.iter().copied().find(|oid| {
            g.node(oid).is_none()
                && !g.off_chain.contains(oid)
                && self.facts.by_commit[oid]
                    .evidence
                    .hard
                    .is_some_and(|present| present != good_end_buggy)
        })
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
            .chain(self.facts.reverts.values())
            .any(|f| f.vm_runs > 0);
        if self.start.repro_rate.is_none() && !any_vm_run {
            RATE_CLAMP.1
        } else {
            posterior_rate
        }
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

    /// Runs a batch at a bisection commit: a coin's chance to crash once.
    pub fn batch(p: f64) -> u32 {
        ((0.5f64).ln() / (1.0 - p).ln()).ceil().clamp(1.0, 10.0) as u32
    }

    /// Ok runs before a commit is called good: a bug left 1% likely.
    pub fn confirm_runs(p: f64) -> u32 {
        ((0.01f64).ln() / (1.0 - p).ln()).ceil().clamp(1.0, 20.0) as u32
    }

    /// Runs asked at the start commit when `needed` more are wanted: in
    /// batches of [`START_BATCH`], as the start stops at its third target
    /// crash, or of every slot when there are more (runs in parallel cost
    /// no round more than one).
    pub fn start_batch(&self, needed: u32) -> u32 {
        needed.min(START_BATCH.max(self.slots))
    }

    /// Runs of bad with the culprit reverted before the bug is called gone:
    /// the one home of that count (kbisect takes it from the result's
    /// `revert_runs` when it does the check itself).
    pub fn revert_check_runs(&self) -> u32 {
        let (p_cons, _) = self.repro_rate(&[self.start_commit()]);
        Self::confirm_runs(p_cons)
    }

    /// Signatures of commits with evidence from their own runs.
    pub fn tested_signatures(&self) -> HashMap<String, Oid> {
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

    /// The verdicts due: each commit with new records since its last
    /// verdict, and what its records say (commits with nothing to judge
    /// yet, only infra errors or a build, are left out).
    pub fn judgements(&self) -> Vec<(Oid, Judgement)> {
        let sigs = self.tested_signatures();
        let mut out = Vec::new();
        for &oid in &self.facts.order {
            let f = &self.facts.by_commit[&oid];
            if !f.dirty {
                continue;
            }
            let ev = f.evidence;
            let j = if let Some(why) = f.untestable() {
                Judgement::Untestable(why)
            } else if ev.crashes > 0 {
                Judgement::Bad {
                    crashes: ev.crashes,
                    runs: ev.crashes + ev.oks,
                    flaky: ev.oks > 0,
                }
            } else if ev.oks > 0 {
                Judgement::Good { oks: ev.oks }
            } else if let Some(other) = self.same_signature(oid, f, &sigs) {
                Judgement::SameSignature {
                    other,
                    bad: self.f(other).evidence.crashes > 0,
                }
            } else {
                continue;
            };
            out.push((oid, j));
        }
        out
    }

    /// The tested commit that built the same kernel as `oid`, when `oid`
    /// has no evidence of its own.
    pub fn same_signature(
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

    /// Phase 3: bisection over the posterior, on the candidate graph: the
    /// round's batch of tests, or the culprit settled.
    pub fn bisect(&self, g: &Graph) -> ControlFlow<Step, Settled> {
        match self.bisect_one(g) {
            Break(Step::Test(tests)) if self.slots > 1 => {
                Break(Step::Test(self.plan_batch(g, tests)))
            }
            other => other,
        }
    }

    /// The bisection's one next test (as with a single slot), or the
    /// culprit settled.
    fn bisect_one(&self, g: &Graph) -> ControlFlow<Step, Settled> {
        let stop = |s| Break(Step::Done(Done::Stopped(s)));
        let n = g.len();
        if n == 0 {
            return stop(Stop::EmptyRange);
        }
        if let Some(commit) = self.verdict_against_good(g) {
            return stop(Stop::ContradictoryVerdicts {
                commit: Some(commit),
            });
        }
        let mut walker = Walker::new(n);
        let range = self.range_evidence(g, &mut walker);
        let (_, p_point) = self.rate_belief(&[self.start_commit()]);
        let refs: Vec<(&BitSet, Evidence)> = range.tested.iter().map(|(_, a, e)| (a, *e)).collect();
        let Some(post) = model::posterior(g, &refs, &range.reverted, self.rate_prior(), self.dir)
        else {
            return stop(Stop::ContradictoryVerdicts { commit: None });
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
        if confidence < target && total_runs < MAX_VM_RUNS {
            if let Some(c) = self.choose(g, &w, p, &range, &mut walker) {
                let test = self.bisect_test(g, c, p, confidence, &range, &mut walker);
                return Break(Step::Test(vec![test]));
            }
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
            set.sort();
            return Break(Step::Done(Done::Inconclusive {
                candidates: set.iter().map(|&i| g.oids[i]).collect(),
                confidence,
                flaky,
                repro_rate: p_point,
            }));
        }
        Continue(Settled {
            culprit: g.oids[best],
            confidence,
            flaky,
            repro_rate: p_point,
        })
    }

    /// The prior on the reproduction rate, learnt with the culprit (see
    /// model::posterior). Runs of the buggy end outside the range (a fix
    /// bisection's good commits) hold under every hypothesis, so they go
    /// into the prior.
    fn rate_prior(&self) -> model::Rate {
        match self.start.repro_rate {
            Some(p) => model::Rate::known(p),
            None => {
                let (mut k, mut m) = (0.0, 0.0);
                if self.dir == Direction::Fix {
                    for o in self.goods {
                        let ev = self.f(*o).evidence;
                        if ev.hard.is_none() {
                            k += ev.crashes as f64;
                            m += ev.oks as f64;
                        }
                    }
                }
                model::Rate::from_counts(k, m)
            }
        }
    }

    /// What the records say of the commits in the range, node by node.
    fn range_evidence(&self, g: &Graph, walker: &mut Walker) -> RangeEvidence {
        let n = g.len();
        let sigs = self.tested_signatures();
        let mut r = RangeEvidence {
            tested: Vec::new(),
            untestable: vec![false; n],
            broken: vec![false; n],
            works: vec![false; n],
            reverted: Vec::new(),
        };
        for (oid, f) in &self.facts.reverts {
            if let Some(x) = g.node(oid) {
                if !f.evidence.is_empty() {
                    r.reverted.push((x, f.evidence));
                }
            }
        }
        for oid in &self.facts.order {
            let Some(x) = g.node(oid) else { continue };
            if self.facts.by_commit[oid].untestable().is_some() {
                r.untestable[x as usize] = true;
                r.broken[x as usize] = true;
            }
            let own = self.facts.by_commit[oid].evidence;
            r.works[x as usize] = !own.is_empty();
            let ev = self.evidence_of(*oid, &sigs);
            if own.is_empty() && !ev.is_empty() {
                // Same kernel as a tested commit: testing it again is
                // testing that one.
                r.untestable[x as usize] = true;
            }
            if !ev.is_empty() {
                r.tested.push((x, walker.ancestors(g, x), ev));
            }
        }
        r
    }

    /// The commit worth testing next, if any.
    fn choose(
        &self,
        g: &Graph,
        w: &[f64],
        p: f64,
        range: &RangeEvidence,
        walker: &mut Walker,
    ) -> Option<model::Choice> {
        let retest: Vec<u32> = range
            .tested
            .iter()
            .filter(|(x, _, e)| {
                e.hard.is_none() && e.crashes == 0 && !range.untestable[*x as usize]
            })
            .map(|(x, _, _)| *x)
            .collect();
        let build_cost = self.build_cost_in_runs();
        let mut testable = model::testable_odds(g, &range.broken, &range.works);
        for (t, &u) in testable.iter_mut().zip(&range.untestable) {
            if u {
                *t = 0.0;
            }
        }
        model::choose(
            g,
            w,
            &testable,
            &retest,
            build_cost,
            self.choice_rate(p),
            self.dir,
            walker,
        )
    }

    /// The test of a chosen commit, with git's view of the progress and the
    /// best candidate's posterior.
    fn bisect_test(
        &self,
        g: &Graph,
        c: model::Choice,
        p: f64,
        culprit_probability: f64,
        range: &RangeEvidence,
        walker: &mut Walker,
    ) -> Test {
        let oid = g.oids[c.node as usize];
        let f = self.f(oid);
        let reason = if f.vm_runs > 0 || f.builds > 0 {
            Reason::MoreRuns
        } else {
            Reason::Bisect
        };
        // A kernel identical to one already tested need not boot: ktest
        // gives a build with one of these signatures no runs, and the
        // verdict comes from the commit that had it.
        let mut known_signatures = Vec::new();
        if reason == Reason::Bisect {
            known_signatures = self.tested_signatures().into_keys().collect();
            known_signatures.sort();
        }
        // git's view: candidates not ruled out by a decided verdict.
        let alive = self.discrete_alive(g, &range.tested);
        let anc = walker.ancestors(g, c.node);
        let all = alive.iter().filter(|&&a| a).count() as u64;
        let below = (0..g.len())
            .filter(|&i| alive[i] && anc.get(i as u32))
            .count() as u64;
        Test {
            known_signatures,
            progress: Some(Progress {
                revisions_left: (below.saturating_sub(1)).max(all - below),
                steps_left: estimate_steps(all),
                culprit_probability,
                split: c.split,
                rate: p,
            }),
            ..Test::new(oid, reason, Self::batch(p))
        }
    }

    /// Candidates not ruled out by any decided verdict (crash = bug present,
    /// ok-only runs = taken as absent), as `git bisect` would count them.
    fn discrete_alive(&self, g: &Graph, tested: &[(u32, BitSet, Evidence)]) -> Vec<bool> {
        let mut alive = vec![true; g.len()];
        for (_, anc, ev) in tested {
            let new_state = self.dir.new_state(ev.hard.unwrap_or(ev.crashes > 0));
            for (i, a) in alive.iter_mut().enumerate() {
                if anc.get(i as u32) != new_state {
                    *a = false;
                }
            }
        }
        alive
    }
}

/// Branches of the look-ahead looked at per slot, at most: each costs a
/// posterior over the range, and a batch rarely needs more.
const LOOKAHEAD_PER_SLOT: u32 = 4;

/// A branch of the look-ahead: the facts as they would stand after the
/// outcomes fantasized on the way to it, and how probable those are.
struct Branch {
    prob: f64,
    facts: Facts,
}

impl Policy<'_> {
    /// The same policy over other facts (a branch of the look-ahead).
    fn with_facts<'b>(&'b self, facts: &'b Facts) -> Policy<'b> {
        Policy {
            facts,
            start: self.start,
            dir: self.dir,
            bad: self.bad,
            goods: self.goods,
            slots: self.slots,
        }
    }

    /// The round's batch when there are several slots: a speculative
    /// look-ahead on the bisection's decision tree, so the runs of a round
    /// go where the tests after this one would go.
    ///
    /// `first` (the one test a single slot would get) is the root. Its two
    /// outcomes, the bug seen at its commit or not in its runs, are
    /// branches with fantasized facts; the most probable branch not yet
    /// looked at gets the policy's own test on its facts, and two branches
    /// of its own, until the runs reach the slots or no branch asks a test
    /// (the bisection is nearly decided). A branch's test on a commit in
    /// the batch adds its runs there (a commit that looks good gets the
    /// runs that would confirm it); the last test is cut to the slots left.
    /// The fantasized facts are copies: only the batch leaves here.
    fn plan_batch(&self, g: &Graph, first: Vec<Test>) -> Vec<Test> {
        let budget = self.slots;
        let mut batch: Vec<Test> = Vec::new();
        let mut frontier: Vec<Branch> = Vec::new();
        let root = Branch {
            prob: 1.0,
            facts: self.facts.clone(),
        };
        for t in first {
            // A test that is not a bisection's (no progress) has no
            // outcomes to look past: it goes alone, as it is.
            if t.progress.is_none() {
                batch.push(t);
                continue;
            }
            if let Some(added) = add_to_batch(&mut batch, t, budget) {
                frontier.extend(self.outcomes(&root, &added));
            }
        }
        let mut looked = 0;
        while runs_of(&batch) < budget && looked < LOOKAHEAD_PER_SLOT * budget {
            let Some(i) =
                (0..frontier.len()).max_by(|&a, &b| frontier[a].prob.total_cmp(&frontier[b].prob))
            else {
                break;
            };
            let branch = frontier.swap_remove(i);
            looked += 1;
            let Break(Step::Test(tests)) = self.with_facts(&branch.facts).bisect_one(g) else {
                continue;
            };
            for t in tests {
                if let Some(added) = add_to_batch(&mut batch, t, budget) {
                    frontier.extend(self.outcomes(&branch, &added));
                }
            }
        }
        batch
    }

    /// The two branches after test `t` on `branch`: the bug seen at its
    /// commit (one more target crash there), with the chance that the
    /// commit has the bug and `t.runs` runs show it, or not (`t.runs` ok
    /// runs there).
    fn outcomes(&self, branch: &Branch, t: &Test) -> Vec<Branch> {
        let Some(pr) = t.progress else {
            return vec![];
        };
        // The split is the chance of the new state: buggy for a cause,
        // fixed for a fix.
        let has_bug = match self.dir {
            Direction::Cause => pr.split,
            Direction::Fix => 1.0 - pr.split,
        };
        let runs = i32::try_from(t.runs).unwrap_or(i32::MAX);
        let seen = (has_bug * (1.0 - (1.0 - pr.rate).powi(runs))).clamp(0.0, 1.0);
        vec![
            Branch {
                prob: branch.prob * seen,
                facts: fantasized(&branch.facts, t.commit, 1, 0),
            },
            Branch {
                prob: branch.prob * (1.0 - seen),
                facts: fantasized(&branch.facts, t.commit, 0, t.runs),
            },
        ]
    }
}

/// Runs asked by the tests of a batch.
fn runs_of(batch: &[Test]) -> u32 {
    batch.iter().map(|t| t.runs).sum()
}

/// Add test `t` to `batch`, its runs cut to what `budget` leaves: to the
/// entry on the same commit (and revert) if there is one, else as a new
/// entry. The test as added (its commit, progress and the runs added), or
/// None when no run is left.
fn add_to_batch(batch: &mut Vec<Test>, mut t: Test, budget: u32) -> Option<Test> {
    t.runs = t.runs.min(budget.saturating_sub(runs_of(batch)));
    if t.runs == 0 {
        return None;
    }
    match batch
        .iter_mut()
        .find(|b| b.commit == t.commit && b.revert == t.revert)
    {
        Some(entry) => entry.runs += t.runs,
        None => batch.push(t.clone()),
    }
    Some(t)
}

/// A copy of `facts` with `crashes` target crashes and `oks` ok runs more
/// at `oid`: a look-ahead branch's outcome. Only the evidence changes: the
/// run counts and times stay the records' (they weigh builds against
/// runs, and tell whether any VM ran), so a branch chooses as the facts
/// would once those runs are in.
fn fantasized(facts: &Facts, oid: Oid, crashes: u32, oks: u32) -> Facts {
    let mut f = facts.clone();
    let e = &mut f.commit_mut(oid).evidence;
    e.crashes += crashes;
    e.oks += oks;
    f
}

impl Policy<'_> {
    /// Phase 1: the buggy end reproduces, and how often. None once it is
    /// known to (or the rate was given, or a verdict settled it).
    pub fn start_phase(&self) -> Option<Step> {
        if self.facts.infra_in_a_row >= MAX_INFRA_IN_A_ROW {
            return Some(Step::Done(Done::Stopped(Stop::TooManyInfraErrors {
                in_a_row: self.facts.infra_in_a_row,
            })));
        }
        let s = self.start_commit();
        let sf = self.f(s);
        if self.start.repro_rate.is_some() || sf.evidence.hard.is_some() {
            return None;
        }
        if let Some(why) = sf.untestable() {
            return Some(Step::Done(Done::Stopped(Stop::StartCommitUntestable {
                commit: s,
                why,
            })));
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
                Reason::MoreRuns
            } else {
                Reason::Start
            };
            let needed = if ev < START_RUNS {
                START_RUNS - ev
            } else {
                want - ev
            };
            // Every run counted: ktest must not stop the batch at its
            // first target crash while the rate is measured.
            return Some(Step::Test(vec![Test {
                stop_on_target: Some(false),
                ..Test::new(s, reason, self.start_batch(needed))
            }]));
        }
        if sf.evidence.crashes == 0 {
            return Some(Step::Done(Done::NoBugAtStart {
                commit: s,
                runs: ev,
            }));
        }
        None
    }
}

/// What the conclusion needs from git about the settled culprit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CulpritRepoFacts {
    pub first_parent: Option<Oid>,
    pub merge: bool,
    /// A release commit (a version bump): a suspect culprit.
    pub release: bool,
}

/// The culprit found, as the result reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub culprit: Oid,
    pub confidence: f64,
    pub flaky: bool,
    pub repro_rate: f64,
    pub merge: bool,
    pub release: bool,
    pub culprit_signature: Option<String>,
    pub parent_signature: Option<String>,
    /// Culprit and parent build the same kernel: the result is suspect.
    pub noop: bool,
    pub revert_check: Option<&'static str>,
    /// Runs for the revert check when kbisect is to do it itself.
    pub revert_runs: Option<u32>,
}

impl Policy<'_> {
    /// Phases 4 and 5: the culprit's parent, the revert check, the result.
    pub fn conclude(&self, settled: Settled, repo: CulpritRepoFacts) -> Step {
        let Settled {
            culprit,
            confidence,
            flaky,
            repro_rate,
        } = settled;
        let parent = repo.first_parent;
        if let Some(pa) = parent {
            let pf = self.f(pa);
            if pf.builds == 0 && pf.evidence.is_empty() {
                return Step::Test(vec![Test {
                    culprit: Some(culprit),
                    ..Test::new(pa, Reason::Parent, 0)
                }]);
            }
        }
        let mut revert_check = None;
        let confirm = self.revert_check_runs();
        if self.start.revert_check && culprit != self.bad {
            let rf = self
                .facts
                .reverts
                .get(&culprit)
                .cloned()
                .unwrap_or_default();
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
                Some(v) => revert_check = Some(v),
                None => {
                    return Step::Test(vec![Test {
                        revert: Some(culprit),
                        ..Test::new(self.bad, Reason::RevertCheck, confirm - rf.evidence.oks)
                    }])
                }
            }
        }
        let culprit_signature = self.f(culprit).signature;
        let parent_signature = parent.and_then(|pa| self.f(pa).signature);
        let noop = matches!((&culprit_signature, &parent_signature), (Some(a), Some(b)) if a == b);
        Step::Done(Done::Found(Found {
            culprit,
            confidence,
            flaky,
            repro_rate,
            merge: repo.merge,
            release: repo.release,
            culprit_signature,
            parent_signature,
            noop,
            // kbisect runs the check itself when it was not done here.
            revert_runs: revert_check.is_none().then_some(confirm),
            revert_check,
        }))
    }
}

impl Policy<'_> {
    /// Phase 1b, for a fix: the fixed end (the start's good, often just the
    /// branch head) is tested as a release is, before any bisection: if the
    /// bug is still there, there is no fix to find. None once it is known
    /// fixed.
    pub fn fixed_end_phase(&self) -> Option<Step> {
        if self.dir != Direction::Fix {
            return None;
        }
        let (p, _) = self.repro_rate(&[self.start_commit()]);
        let confirm = Self::confirm_runs(p);
        let f = self.f(self.bad);
        let ev = f.evidence;
        let present = match ev.hard {
            Some(h) => h,
            None if ev.crashes > 0 => true,
            None if ev.oks >= confirm => false,
            None => {
                if let Some(why) = f.untestable() {
                    return Some(Step::Done(Done::Stopped(Stop::StartCommitUntestable {
                        commit: self.bad,
                        why,
                    })));
                }
                return Some(Step::Test(vec![Test::new(
                    self.bad,
                    Reason::Start,
                    confirm - ev.oks,
                )]));
            }
        };
        present.then(|| {
            Step::Done(Done::NotFixed {
                commit: self.bad,
                runs: ev.crashes + ev.oks,
            })
        })
    }

    /// Phase 2: releases (`tags`, newest first), until one is good: the
    /// newest good release (the bisection's good end), or what to do.
    pub fn releases_phase(&self, tags: &[(String, Oid)]) -> ControlFlow<Step, Oid> {
        let (p, _) = self.repro_rate(&[self.start_commit()]);
        let confirm = Self::confirm_runs(p);
        let mut oldest_bad = None;
        for (tag, oid) in tags {
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
                Some(false) => return Continue(*oid),
                None => {
                    return Break(Step::Test(vec![Test {
                        release: Some(tag.clone()),
                        ..Test::new(*oid, Reason::Release, confirm - f.evidence.oks)
                    }]))
                }
            }
        }
        Break(Step::Done(match oldest_bad {
            Some(tag) => Done::BugAtOldestRelease { tag },
            None => Done::Stopped(Stop::NoTestableRelease),
        }))
    }
}

/// What the records say of the range, by graph node.
struct RangeEvidence {
    /// Tested commits in range, with their ancestor sets.
    tested: Vec<(u32, BitSet, Evidence)>,
    /// Commits not to test: they cannot be, or are a tested kernel.
    untestable: Vec<bool>,
    /// Commits that failed to build or boot, and ones that gave evidence:
    /// where a broken stretch may reach (model::testable_odds).
    broken: Vec<bool>,
    works: Vec<bool>,
    /// Revert checks' runs, by the candidate reverted on bad.
    reverted: Vec<(u32, Evidence)>,
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

/// What a candidate config's runs at the bad commit say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigJudgement {
    /// It reproduces the bug at the required rate.
    Reproduces,
    /// It does not (or cannot be built or booted: no use as a config).
    DoesNot,
    /// Not known yet: this many more runs, ktest stopping at the first
    /// target crash.
    Runs(u32),
}

/// The least reproduction rate a smaller config must keep, from the rate
/// the full config showed: syzbot's rule, a third, or the full config's
/// own rate when that is lower.
pub fn config_required_rate(full_rate: f64) -> f64 {
    full_rate.min(1.0 / 3.0).max(RATE_CLAMP.0)
}

/// P(rate >= q) for a Beta(1 + crashes, 1 + oks) belief: the chance of at
/// most `crashes` successes in `crashes + oks + 1` trials at `q`.
fn chance_rate_at_least(q: f64, crashes: u32, oks: u32) -> f64 {
    let n = crashes + oks + 1;
    let mut term = (1.0 - q).powi(n as i32); // j = 0
    let mut sum = term;
    for j in 1..=crashes {
        term *= (n - j + 1) as f64 / j as f64 * q / (1.0 - q);
        sum += term;
    }
    sum.min(1.0)
}

/// The one rule for a candidate config of the config search: with a
/// uniform prior on its rate, reproducing when the rate is at least
/// `required` with [`CONFIG_SURE`] certainty, not reproducing when it is
/// below with that certainty; else more runs, up to [`CONFIG_MAX_RUNS`],
/// when the likelier side is taken. A candidate that fails to build or
/// gives no evidence does not reproduce. A flaky full config makes the
/// search keep more options (a missed reproduction), never fewer.
pub fn config_judgement(f: &CommitFacts, required: f64) -> ConfigJudgement {
    if f.untestable().is_some() {
        return ConfigJudgement::DoesNot;
    }
    let (k, m) = (f.evidence.crashes, f.evidence.oks);
    let p = chance_rate_at_least(required, k, m);
    if p >= CONFIG_SURE {
        return ConfigJudgement::Reproduces;
    }
    if p <= 1.0 - CONFIG_SURE {
        return ConfigJudgement::DoesNot;
    }
    if k + m >= CONFIG_MAX_RUNS {
        return if p >= 0.5 {
            ConfigJudgement::Reproduces
        } else {
            ConfigJudgement::DoesNot
        };
    }
    // As many runs as it takes, all ok, to rule the candidate out.
    let mut more = 1;
    while k + m + more < CONFIG_MAX_RUNS
        && chance_rate_at_least(required, k, m + more) > 1.0 - CONFIG_SURE
    {
        more += 1;
    }
    ConfigJudgement::Runs(more)
}

/// A round of a candidate config's runs: no more than the slots take at
/// once, every one counted (ktest does not stop at the first target
/// crash): a candidate that reproduces shows its two crashes in one round
/// of two slots, where stopping at the first would take two rounds.
pub fn config_round(more: u32, slots: u32) -> Test {
    Test {
        stop_on_target: Some(false),
        ..Test::new(Oid::zero(), Reason::ConfigSearch, more.min(slots.max(1)))
    }
}

#[cfg(test)]
mod config_rule_tests {
    use super::*;

    fn facts(crashes: u32, oks: u32) -> CommitFacts {
        let mut f = CommitFacts::default();
        f.evidence.crashes = crashes;
        f.evidence.oks = oks;
        f.vm_runs = crashes + oks;
        f
    }

    #[test]
    fn a_sure_reproducer_takes_two_crashes_and_seven_oks_rule_it_out() {
        let q = config_required_rate(1.0);
        assert_eq!(config_judgement(&facts(0, 0), q), ConfigJudgement::Runs(7));
        assert!(matches!(
            config_judgement(&facts(1, 0), q),
            ConfigJudgement::Runs(_)
        ));
        assert_eq!(
            config_judgement(&facts(2, 0), q),
            ConfigJudgement::Reproduces
        );
        assert_eq!(config_judgement(&facts(0, 7), q), ConfigJudgement::DoesNot);
    }

    #[test]
    fn the_required_rate_follows_a_flaky_full_config_down() {
        assert!((config_required_rate(0.9) - 1.0 / 3.0).abs() < 1e-9);
        assert!((config_required_rate(0.2) - 0.2).abs() < 1e-9);
        // At 0.2 one crash in three runs is not yet enough, nor its absence.
        let q = config_required_rate(0.2);
        assert!(matches!(
            config_judgement(&facts(1, 2), q),
            ConfigJudgement::Runs(_)
        ));
        // Twenty runs at most: then the likelier side.
        assert_eq!(
            config_judgement(&facts(4, 16), q),
            ConfigJudgement::Reproduces
        );
        assert_eq!(config_judgement(&facts(1, 19), q), ConfigJudgement::DoesNot);
    }

    #[test]
    fn a_candidate_that_fails_to_build_does_not_reproduce() {
        let mut f = facts(0, 0);
        f.build_ok = Some(false);
        assert_eq!(config_judgement(&f, 0.3), ConfigJudgement::DoesNot);
    }

    #[test]
    fn the_tail_matches_the_beta_integral() {
        // Beta(1,1): P(rate >= q) = 1 - q.
        assert!((chance_rate_at_least(0.25, 0, 0) - 0.75).abs() < 1e-12);
        // Beta(2,1): density 2x, P(rate >= q) = 1 - q^2.
        assert!((chance_rate_at_least(0.5, 1, 0) - 0.75).abs() < 1e-12);
        // Beta(1,2): density 2(1-x), P(rate >= q) = (1-q)^2.
        assert!((chance_rate_at_least(0.5, 0, 1) - 0.25).abs() < 1e-12);
    }
}
