//! Simulated bisections: small histories made in-process, a tester that
//! answers `next` records with build and run records from a ground truth,
//! and drivers for our policy and the baselines (syzbot's fixed policy, plain
//! one-run bisection). Used by the tests and by `bench/bisect.sh`, so
//! hundreds of bisections run in seconds with no kernel. The drivers run
//! the engine over the history held in memory ([`MemorySource`]); the
//! history is also written as a git repository for the command-line tests,
//! which run the real binary against it.

use crate::engine::Engine;
use crate::graph::Graph;
use crate::history::CommitSource;
use crate::model::Direction;
use crate::policy::CulpritRepoFacts;
use anyhow::Result;
use git2::{Oid, Repository, Signature, Time};
use kbisect_records::{
    parse, BisectResult, Build, Classification, Next, Object, Outcome, Reason, RecordKind, Run,
    Start, Verdict, VerdictValue,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The title of the planted bug.
pub const TARGET: &str = "KASAN: use-after-free Read in demo_fn";
/// The title of the unrelated crash (the seed's derailment).
pub const UNRELATED: &str = "WARNING in kvm_wait";

/// Seconds a simulated kernel build takes (a real incremental kernel build
/// takes 0.5–7 minutes: ours on 2 cores, syzbot's in the seed).
pub const BUILD_SECONDS: f64 = 120.0;
/// Seconds a simulated VM run takes.
pub const RUN_SECONDS: f64 = 60.0;

/// A history built for a test: commits in creation order (parents before
/// children), each with its parents' positions. Held in memory
/// ([`History::in_memory`], what the simulator uses) or also written to a
/// git repository ([`History::new`], for tests that run the real binary).
/// Either way a commit's id is the one git gives it: the hash of the same
/// commit object.
pub struct History {
    /// The repository, when the history is written to one.
    pub repo: Option<Repository>,
    pub commits: Vec<Oid>,
    pub parents: Vec<Vec<usize>>,
    pub position: HashMap<Oid, usize>,
    /// Each commit's subject, and the tags made, for [`MemorySource`].
    pub subjects: Vec<String>,
    pub tags: std::cell::RefCell<Vec<(String, usize)>>,
    time: i64,
}

/// git's id of the empty tree, which every simulated commit has.
const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
/// Author and committer of simulated commits.
const AUTHOR: (&str, &str) = ("Dev", "dev@example.org");

impl History {
    /// An empty history, also written to a new git repository at `dir`.
    pub fn new(dir: &Path) -> Result<History> {
        let mut h = History::in_memory();
        h.repo = Some(Repository::init(dir)?);
        Ok(h)
    }

    /// An empty history held only in memory: no repository, no files.
    pub fn in_memory() -> History {
        History {
            repo: None,
            commits: vec![],
            parents: vec![],
            position: HashMap::new(),
            subjects: vec![],
            tags: Default::default(),
            time: 1_600_000_000,
        }
    }

    /// The repository's path, or a name for a history in memory.
    pub fn repo_path(&self) -> String {
        match &self.repo {
            Some(r) => r.path().display().to_string(),
            None => "<memory>".into(),
        }
    }

    /// Add a commit with the given parents (positions); returns its position.
    pub fn commit(&mut self, parents: &[usize], subject: &str) -> Result<usize> {
        self.time += 60;
        let parent_ids: Vec<Oid> = parents.iter().map(|&p| self.commits[p]).collect();
        let oid = match &self.repo {
            Some(repo) => {
                let tree = repo.find_tree(repo.treebuilder(None)?.write()?)?;
                let sig = Signature::new(AUTHOR.0, AUTHOR.1, &Time::new(self.time, 0))?;
                let pcs: Vec<git2::Commit> = parent_ids
                    .iter()
                    .map(|&p| repo.find_commit(p))
                    .collect::<Result<_, _>>()?;
                let refs: Vec<&git2::Commit> = pcs.iter().collect();
                repo.commit(None, &sig, &sig, subject, &tree, &refs)?
            }
            None => commit_id(&parent_ids, self.time, subject)?,
        };
        let pos = self.commits.len();
        self.commits.push(oid);
        self.parents.push(parents.to_vec());
        self.position.insert(oid, pos);
        self.subjects.push(subject.to_string());
        Ok(pos)
    }

    /// A linear chain of `n` commits after `from` (or a root); returns positions.
    pub fn chain(&mut self, from: Option<usize>, n: usize, name: &str) -> Result<Vec<usize>> {
        let mut out = Vec::new();
        let mut prev = from;
        for i in 0..n {
            let ps: Vec<usize> = prev.into_iter().collect();
            let c = self.commit(&ps, &format!("{name} {i}"))?;
            out.push(c);
            prev = Some(c);
        }
        Ok(out)
    }

    /// Tag a commit.
    pub fn tag(&self, pos: usize, name: &str) -> Result<()> {
        if let Some(repo) = &self.repo {
            let obj = repo.find_object(self.commits[pos], None)?;
            repo.tag_lightweight(name, &obj, true)?;
        }
        let mut tags = self.tags.borrow_mut();
        tags.retain(|(n, _)| n != name);
        tags.push((name.to_string(), pos));
        Ok(())
    }

    /// A kernel-shaped history: a mainline where every `topic_every`-th
    /// commit merges a topic branch of 1..=`topic_len` commits forked a few
    /// mainline commits back. Returns the mainline positions.
    pub fn kernel_like(
        &mut self,
        mainline: usize,
        topic_every: usize,
        topic_len: usize,
        seed: u64,
    ) -> Result<Vec<usize>> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut main = vec![self.commit(&[], "initial")?];
        for i in 1..mainline {
            let prev = *main.last().expect("mainline has a root");
            if topic_every > 0 && i % topic_every == 0 && main.len() > 2 {
                let back = rng.gen_range(1..main.len().min(8));
                let fork = main[main.len() - 1 - back];
                let len = rng.gen_range(1..=topic_len.max(1));
                let topic = self.chain(Some(fork), len, &format!("topic{i}"))?;
                let m = self.commit(
                    &[prev, *topic.last().expect("topic")],
                    &format!("Merge topic{i}"),
                )?;
                main.push(m);
            } else {
                main.push(self.commit(&[prev], &format!("main {i}"))?);
            }
        }
        Ok(main)
    }

    /// Is `a` an ancestor of (or equal to) `b`?
    pub fn is_ancestor(&self, a: usize, b: usize) -> bool {
        is_ancestor_in(&self.parents, a, b)
    }
}

/// Is `a` an ancestor of (or equal to) `b` in a history given by each
/// commit's parents' positions? Parents come before children, so the walk
/// stops below `a`.
fn is_ancestor_in(parents: &[Vec<usize>], a: usize, b: usize) -> bool {
    let mut stack = vec![b];
    let mut seen = HashSet::new();
    while let Some(x) = stack.pop() {
        if x == a {
            return true;
        }
        if x < a || !seen.insert(x) {
            continue;
        }
        stack.extend(parents[x].iter().copied());
    }
    false
}

/// The id git gives a commit of the empty tree with these parents, time
/// and message, by [`AUTHOR`]: the hash of the commit object as libgit2
/// writes it (the message as given, no newline added).
fn commit_id(parents: &[Oid], time: i64, message: &str) -> Result<Oid> {
    let mut object = format!("tree {EMPTY_TREE}\n");
    for p in parents {
        object.push_str(&format!("parent {p}\n"));
    }
    let who = format!("{} <{}> {time} +0000", AUTHOR.0, AUTHOR.1);
    object.push_str(&format!("author {who}\ncommitter {who}\n\n{message}"));
    Ok(Oid::hash_object(
        git2::ObjectType::Commit,
        object.as_bytes(),
    )?)
}

/// A [`History`] as a [`CommitSource`], answered from memory: the
/// simulator drives the engine and policy with no repository access.
pub struct MemorySource {
    commits: Vec<Oid>,
    parents: Vec<Vec<usize>>,
    subjects: Vec<String>,
    tags: Vec<(String, usize)>,
    position: HashMap<Oid, usize>,
}

impl MemorySource {
    /// The history's commits and tags as they stand.
    pub fn new(h: &History) -> MemorySource {
        MemorySource {
            commits: h.commits.clone(),
            parents: h.parents.clone(),
            subjects: h.subjects.clone(),
            tags: h.tags.borrow().clone(),
            position: h.position.clone(),
        }
    }

    fn pos(&self, oid: Oid) -> Option<usize> {
        self.position.get(&oid).copied()
    }

    fn is_ancestor(&self, a: usize, b: usize) -> bool {
        is_ancestor_in(&self.parents, a, b)
    }
}

/// `name` matches the glob `pattern` (`*` and `?`, as git's tag patterns).
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_match(&pattern[1..], name) || (!name.is_empty() && glob_match(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => glob_match(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => glob_match(&pattern[1..], &name[1..]),
        _ => false,
    }
}

impl CommitSource for MemorySource {
    fn has_commit(&self, oid: Oid) -> bool {
        self.pos(oid).is_some()
    }

    fn descends_from(&self, a: Oid, b: Oid) -> bool {
        match (self.pos(a), self.pos(b)) {
            (Some(a), Some(b)) => a != b && self.is_ancestor(b, a),
            _ => false,
        }
    }

    fn subject(&self, oid: Oid) -> String {
        self.pos(oid)
            .map(|p| self.subjects[p].clone())
            .unwrap_or_default()
    }

    /// The range in the order libgit2's topological walk gives it (as
    /// [`Graph::load`] has it for the simulator's repositories, which have
    /// no commit-graph file): a stack from bad, a commit pushed once all
    /// its children in range are out, parents pushed in order (so a merge's
    /// last ready parent comes next).
    fn range(&self, bad: Oid, goods: &[Oid], first_parent: bool) -> Result<Graph> {
        let h = self;
        let n = h.commits.len();
        let b = self
            .pos(bad)
            .ok_or_else(|| anyhow::anyhow!("no commit {bad}"))?;
        // 1 = ancestor of a good, 2 = candidate.
        let mut mark = vec![0u8; n];
        let mut stack: Vec<usize> = Vec::new();
        for g in goods {
            let p = self
                .pos(*g)
                .ok_or_else(|| anyhow::anyhow!("no commit {g}"))?;
            if mark[p] == 0 {
                mark[p] = 1;
                stack.push(p);
            }
        }
        while let Some(v) = stack.pop() {
            for &q in &h.parents[v] {
                if mark[q] == 0 {
                    mark[q] = 1;
                    stack.push(q);
                }
            }
        }
        let mut children = vec![0u32; n];
        let mut any = false;
        if mark[b] == 0 {
            mark[b] = 2;
            stack.push(b);
        }
        while let Some(v) = stack.pop() {
            any = true;
            for &q in &h.parents[v] {
                if mark[q] != 1 {
                    children[q] += 1;
                }
                if mark[q] == 0 {
                    mark[q] = 2;
                    stack.push(q);
                }
            }
        }
        let mut order = Vec::new();
        let mut ready = if any { vec![b] } else { vec![] };
        while let Some(v) = ready.pop() {
            order.push(v);
            for &q in &h.parents[v] {
                if mark[q] == 2 {
                    children[q] -= 1;
                    if children[q] == 0 {
                        ready.push(q);
                    }
                }
            }
        }
        let oids: Vec<Oid> = order.iter().map(|&v| h.commits[v]).collect();
        let mut raw_start = vec![0u32];
        let mut raw_parents = Vec::new();
        for &v in &order {
            raw_parents.extend(h.parents[v].iter().map(|&q| h.commits[q]));
            raw_start.push(raw_parents.len() as u32);
        }
        let g = Graph::from_edges(oids, &raw_start, &raw_parents);
        // Cut as GitRepo cuts it, so the simulator answers as git would.
        Ok(if first_parent {
            g.first_parent_only()
        } else {
            g
        })
    }

    fn release_tags(&self, pattern: &str, bad: Oid, max: usize) -> Result<Vec<(String, Oid)>> {
        let h = self;
        let mut tags: Vec<(String, Oid)> = h
            .tags
            .iter()
            .filter(|(name, _)| glob_match(pattern.as_bytes(), name.as_bytes()))
            .map(|(name, pos)| (name.clone(), h.commits[*pos]))
            .filter(|(_, oid)| self.descends_from(bad, *oid))
            .collect();
        // git lists tag names sorted.
        tags.sort();
        Ok(crate::releases::pick_releases(tags, pattern, max))
    }

    fn culprit_facts(&self, culprit: Oid) -> Result<CulpritRepoFacts> {
        let p = self
            .pos(culprit)
            .ok_or_else(|| anyhow::anyhow!("no commit {culprit}"))?;
        let ps = &self.parents[p];
        Ok(CulpritRepoFacts {
            first_parent: ps.first().map(|&q| self.commits[q]),
            merge: ps.len() > 1,
            // Simulated commits change no file: only the subject tells.
            release: crate::releases::is_release_subject(&self.subjects[p]),
        })
    }
}

/// The ground truth a simulated tester answers from.
#[derive(Debug, Clone)]
pub struct Truth {
    /// The commit that introduced (cause) or fixed (fix) the bug.
    pub culprit: usize,
    pub direction: Direction,
    /// Probability a run on a buggy commit shows the target bug.
    pub rate: f64,
    /// Commits whose runs crash with an unrelated title, and how often.
    pub unrelated: HashSet<usize>,
    pub unrelated_rate: f64,
    /// Commits that do not build / do not boot.
    pub unbuildable: HashSet<usize>,
    pub unbootable: HashSet<usize>,
    /// Commits whose kernel is byte-identical to their first parent's.
    pub same_binary: HashSet<usize>,
    /// Probability of an infra error per run.
    pub infra_rate: f64,
    /// The culprit reverted on bad still shows the bug (a later commit
    /// brings it in again): what the revert check's evidence must survive.
    pub revert_keeps_bug: bool,
}

impl Truth {
    pub fn new(culprit: usize) -> Truth {
        Truth {
            culprit,
            direction: Direction::Cause,
            rate: 1.0,
            unrelated: HashSet::new(),
            unrelated_rate: 0.0,
            unbuildable: HashSet::new(),
            unbootable: HashSet::new(),
            same_binary: HashSet::new(),
            infra_rate: 0.0,
            revert_keeps_bug: false,
        }
    }
}

/// Answers `next` records with `build` and `run` records.
pub struct Tester<'h> {
    pub history: &'h History,
    pub truth: Truth,
    pub rng: StdRng,
    /// Stop a commit's runs at the first target crash (ktest --target).
    pub stop_at_target: bool,
    buggy: Vec<bool>,
    pub vm_runs: u32,
    /// Kernels built: a commit (and revert) built once is taken from
    /// kbuild's artifact cache after that, as the real pipeline does.
    pub builds: u32,
    built: HashSet<(usize, Option<usize>)>,
    /// Positions of the commits that were booted at least once.
    pub booted: std::collections::BTreeSet<usize>,
}

impl<'h> Tester<'h> {
    pub fn new(history: &'h History, truth: Truth, seed: u64) -> Tester<'h> {
        let buggy = (0..history.commits.len())
            .map(|x| truth.direction.buggy(history.is_ancestor(truth.culprit, x)))
            .collect();
        Tester {
            history,
            truth,
            rng: StdRng::seed_from_u64(seed),
            stop_at_target: true,
            buggy,
            vm_runs: 0,
            builds: 0,
            built: HashSet::new(),
            booted: Default::default(),
        }
    }

    fn signature(&self, mut x: usize) -> String {
        while self.truth.same_binary.contains(&x) && !self.history.parents[x].is_empty() {
            x = self.history.parents[x][0];
        }
        format!("{:064x}", x + 1)
    }

    /// Is the bug present in the kernel built for `x` (with `revert` reverted)?
    pub fn buggy(&self, x: usize, revert: Option<usize>) -> bool {
        if revert == Some(self.truth.culprit) && !self.truth.revert_keeps_bug {
            return self.truth.direction == Direction::Fix;
        }
        self.buggy[x]
    }

    /// One run at `x`.
    pub fn run_once(
        &mut self,
        x: usize,
        revert: Option<usize>,
        index: u32,
        signature: &str,
    ) -> Run {
        self.vm_runs += 1;
        let commit = self.history.commits[x].to_string();
        let mut run = Run {
            commit,
            signature: Some(signature.to_string()),
            run: index,
            outcome: Outcome::Ok,
            seconds: RUN_SECONDS,
            ..Default::default()
        };
        if self.rng.gen::<f64>() < self.truth.infra_rate {
            run.outcome = Outcome::InfraError;
            run.detail = Some("qemu would not start".into());
            run.seconds = 1.0;
        } else if self.truth.unbootable.contains(&x) {
            run.outcome = Outcome::BootFailed;
            run.class = crash(UNRELATED, false);
        } else if self.truth.unrelated.contains(&x)
            && self.rng.gen::<f64>() < self.truth.unrelated_rate
        {
            run.outcome = Outcome::Crashed;
            run.class = crash(UNRELATED, false);
        } else if self.buggy(x, revert) && self.rng.gen::<f64>() < self.truth.rate {
            run.outcome = Outcome::Crashed;
            run.class = crash(TARGET, true);
        }
        run
    }

    /// The records kbuild | ksig | ktest would give for a `next` record.
    pub fn respond(&mut self, next: &Next, default_runs: u32) -> Vec<Object> {
        let Some(&x) = Oid::from_str(&next.commit)
            .ok()
            .and_then(|o| self.history.position.get(&o))
        else {
            return vec![];
        };
        let revert = next
            .plan
            .revert
            .as_deref()
            .and_then(|r| Oid::from_str(r).ok())
            .and_then(|o| self.history.position.get(&o).copied());
        let cached = !self.built.insert((x, revert));
        if !cached {
            self.builds += 1;
        }
        let base = kbisect_records::to_object(next);
        let sig = self.signature(x) + if revert.is_some() { "r" } else { "" };
        let mut build = Build {
            commit: next.commit.clone(),
            ok: true,
            cached,
            seconds: if cached { 1.0 } else { BUILD_SECONDS },
            ..Default::default()
        };
        if self.truth.unbuildable.contains(&x) {
            build.ok = false;
            build.error = Some("build_failed".into());
        } else {
            build.signature = Some(sig.clone());
        }
        let mut out = vec![kbisect_records::merge(&base, &build)];
        if !build.ok {
            return out;
        }
        let mut runs = next.plan.runs.unwrap_or(default_runs);
        // As ktest does: a kernel already tested is not booted again.
        if next.plan.known_signatures.contains(&sig) {
            runs = 0;
        }
        if runs > 0 {
            self.booted.insert(x);
        }
        for i in 0..runs {
            let run = self.run_once(x, revert, i, &sig);
            let target = run.class.same_bug == Some(true);
            out.push(kbisect_records::to_object(&run));
            // As ktest does: --target stops the batch unless the next
            // record asks for every run.
            if target && self.stop_at_target && next.plan.stop_on_target != Some(false) {
                break;
            }
        }
        out
    }
}

fn crash(title: &str, same: bool) -> Classification {
    Classification {
        crashed: true,
        title: Some(title.into()),
        same_bug: Some(same),
        ..Default::default()
    }
}

/// How a simulated bisection ended.
#[derive(Debug, Clone)]
pub struct SimOutcome {
    pub result: BisectResult,
    /// Position of the culprit named, if any.
    pub culprit: Option<usize>,
    pub vm_runs: u32,
    pub builds: u32,
    pub steps: u32,
    /// Rounds: waves of builds and then of at most `slots` VM runs at once
    /// (see [`waves`]), the bisection's wall time in VM runs.
    pub rounds: u32,
}

/// The rounds `runs` VM runs take on `slots` VMs: waves of `slots` runs,
/// one after another; a round with no run (a build alone) is one.
pub fn waves(runs: u32, slots: u32) -> u32 {
    runs.div_ceil(slots.max(1)).max(1)
}

/// A start record for a history, over the range from `goods` (its oldest
/// ends) to `bad` (its newest). For a fix the start names them by what
/// they show: the newest end is the good one, the oldest the bad one.
pub fn start_for(history: &History, bad: usize, goods: &[usize], dir: Direction) -> Start {
    let (start_bad, start_good) = match dir {
        Direction::Cause => (bad, goods.to_vec()),
        Direction::Fix => (goods.first().copied().unwrap_or(bad), vec![bad]),
    };
    Start {
        repo: history.repo_path(),
        bad: history.commits[start_bad].to_string(),
        good: start_good
            .iter()
            .map(|&g| history.commits[g].to_string())
            .collect(),
        direction: dir.as_str().into(),
        ..Default::default()
    }
}

fn outcome_of(
    history: &History,
    result: BisectResult,
    tester: &Tester,
    steps: u32,
    rounds: u32,
) -> SimOutcome {
    let culprit = result
        .culprit
        .as_ref()
        .and_then(|c| Oid::from_str(&c.commit).ok())
        .and_then(|o| history.position.get(&o).copied());
    SimOutcome {
        result,
        culprit,
        vm_runs: tester.vm_runs,
        builds: tester.builds,
        steps,
        rounds,
    }
}

/// Run our policy to the end, in-process (the engine keeps its graph), on
/// `slots` VM slots: every `next` record of a round is answered before the
/// next call, as the pipeline would build and run them all.
pub fn drive(
    history: &History,
    start: Start,
    tester: &mut Tester,
    slots: u32,
    max_steps: u32,
) -> Result<SimOutcome> {
    let mut engine = Engine::with_source(start, Box::new(MemorySource::new(history)))?;
    engine.slots = slots;
    let mut rounds = 0;
    for step in 0..max_steps {
        let d = engine.decide()?;
        for v in &d.verdicts {
            engine.ingest(v, true);
        }
        if d.done {
            let Some(action) = d.actions.first() else {
                anyhow::bail!("a result decision without its record");
            };
            let result: BisectResult = parse(action)?;
            return Ok(outcome_of(history, result, tester, step, rounds));
        }
        let trace = std::env::var_os("SIM_TRACE").is_some();
        let runs_before = tester.vm_runs;
        for action in &d.actions {
            let next: Next = parse(action)?;
            for rec in tester.respond(&next, 1) {
                if trace && RecordKind::of(&rec) == RecordKind::Run {
                    let pos = history.position.get(&Oid::from_str(&next.commit)?).copied();
                    eprintln!(
                        "  {} {:?} {:?} {:?}",
                        next.plan.reason.as_ref().map_or("", |r| r.as_str()),
                        pos,
                        rec.get("outcome"),
                        rec.get("title")
                    );
                }
                engine.ingest(&rec, false);
            }
        }
        rounds += waves(tester.vm_runs - runs_before, slots);
        if trace {
            for l in &d.log {
                eprintln!("{l}");
            }
        }
    }
    anyhow::bail!("no result after {max_steps} steps")
}

/// A baseline's per-commit judgement from all its runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// syzbot: 10 runs a commit (20 at the start and once flaky); bad at
    /// ≥ max(2, n/6) crashes of any title, good at none, else skip.
    Syzbot,
    /// One run a commit; any crash is bad.
    Plain,
}

/// Run a baseline policy: the same DAG bisection, fed plain verdicts. It
/// tests one commit at a time: its runs take [`waves`] on `slots` VMs.
pub fn drive_baseline(
    history: &History,
    mut start: Start,
    tester: &mut Tester,
    policy: Baseline,
    slots: u32,
    max_steps: u32,
) -> Result<SimOutcome> {
    tester.stop_at_target = false;
    start.repro_rate = Some(1.0);
    let bad = history.position[&Oid::from_str(&start.bad)?];
    let flaky = std::cell::Cell::new(false);
    let judge =
        |tester: &mut Tester, x: usize, revert: Option<usize>, n: u32| -> Option<VerdictValue> {
            let mut crashes = 0;
            let mut any_ok = false;
            let mut boot_failed = 0;
            for i in 0..n {
                let r = tester.run_once(x, revert, i, "");
                match r.outcome {
                    Outcome::Crashed => crashes += 1,
                    Outcome::Ok => any_ok = true,
                    Outcome::BootFailed => boot_failed += 1,
                    _ => {}
                }
            }
            if crashes > 0 && any_ok {
                flaky.set(true);
            }
            if boot_failed == n {
                return Some(VerdictValue::Skip);
            }
            match policy {
                Baseline::Plain => Some(if crashes > 0 {
                    VerdictValue::Bad
                } else {
                    VerdictValue::Good
                }),
                Baseline::Syzbot => {
                    let need = 2u32.max(n / 6);
                    Some(if crashes >= need {
                        VerdictValue::Bad
                    } else if crashes == 0 {
                        VerdictValue::Good
                    } else {
                        VerdictValue::Skip
                    })
                }
            }
        };
    let start_runs = match policy {
        Baseline::Syzbot => 20,
        Baseline::Plain => 1,
    };
    tester.builds += 1;
    let mut rounds = waves(start_runs, slots);
    if judge(tester, bad, None, start_runs) != Some(VerdictValue::Bad) {
        let result = BisectResult {
            status: "no_bug_at_bad".into(),
            ..Default::default()
        };
        return Ok(outcome_of(history, result, tester, 0, rounds));
    }
    let mut engine = Engine::with_source(start, Box::new(MemorySource::new(history)))?;
    for step in 0..max_steps {
        let d = engine.decide()?;
        for v in &d.verdicts {
            engine.ingest(v, true);
        }
        let Some(action) = d.actions.first() else {
            anyhow::bail!("a decision without a record");
        };
        if d.done {
            let result: BisectResult = parse(action)?;
            return Ok(outcome_of(history, result, tester, step, rounds));
        }
        let next: Next = parse(action)?;
        let x = history.position[&Oid::from_str(&next.commit)?];
        tester.builds += 1;
        if matches!(next.plan.reason, Some(Reason::Parent | Reason::RevertCheck)) {
            rounds += 1;
            let b = Build {
                commit: next.commit.clone(),
                ok: true,
                signature: Some(tester.signature(x)),
                ..Default::default()
            };
            engine.ingest(&kbisect_records::to_object(&b), false);
            continue;
        }
        let verdict = if tester.truth.unbuildable.contains(&x) {
            rounds += 1;
            VerdictValue::Skip
        } else {
            let n = match policy {
                Baseline::Plain => 1,
                Baseline::Syzbot if flaky.get() => 20,
                Baseline::Syzbot => 10,
            };
            rounds += waves(n, slots);
            judge(tester, x, None, n).unwrap_or(VerdictValue::Skip)
        };
        let v = Verdict {
            commit: next.commit.clone(),
            verdict,
            reason: None,
            runs: 0,
            target_crashes: 0,
            other_crashes: vec![],
            boot_failures: 0,
            test_failures: 0,
            infra_errors: 0,
            same_signature_as: None,
            by: None,
            seconds: 0.0,
            extra: Object::new(),
        };
        engine.ingest(&kbisect_records::to_object(&v), false);
    }
    anyhow::bail!("no result after {max_steps} steps")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A history in memory has the commit ids git gives the same history,
    /// so the simulator's figures do not depend on where it is held.
    #[test]
    fn ids_in_memory_are_gits() {
        let dir = tempfile::tempdir().unwrap();
        let mut on_disk = History::new(dir.path()).unwrap();
        let mut in_memory = History::in_memory();
        on_disk.kernel_like(40, 3, 4, 5).unwrap();
        in_memory.kernel_like(40, 3, 4, 5).unwrap();
        assert_eq!(on_disk.commits, in_memory.commits);
        assert!(
            in_memory.commits.len() > 40,
            "the history has merged topics"
        );
        let repo = on_disk.repo.as_ref().unwrap();
        let last = *on_disk.commits.last().unwrap();
        assert_eq!(repo.find_commit(last).unwrap().parent_count(), 2);
        assert_eq!(in_memory.repo_path(), "<memory>");
    }

    /// With 8 slots the simulated bisection names the culprit, of a cause
    /// and of a fix, at a flaky rate, in fewer rounds than with one slot,
    /// and never asks more runs in a round than there are slots.
    #[test]
    fn eight_slots_name_the_culprit_in_fewer_rounds() {
        let mut h = History::in_memory();
        let main = h.kernel_like(150, 3, 5, 9).unwrap();
        let (old, new) = (main[0], *main.last().unwrap());
        for (seed, dir) in [
            (1u64, Direction::Cause),
            (2, Direction::Cause),
            (3, Direction::Fix),
        ] {
            let mut truth = Truth::new(40 + 30 * seed as usize);
            truth.direction = dir;
            truth.rate = 0.4;
            let start = start_for(&h, new, &[old], dir);
            let mut outs = Vec::new();
            for slots in [1, 8] {
                let mut t = Tester::new(&h, truth.clone(), seed);
                let o = drive(&h, start.clone(), &mut t, slots, 2000).unwrap();
                assert_eq!(
                    o.culprit,
                    Some(truth.culprit),
                    "{slots} slots: {:?}",
                    o.result
                );
                outs.push(o);
            }
            assert!(
                2 * outs[1].rounds <= outs[0].rounds,
                "rounds {} with 8 slots, {} with 1",
                outs[1].rounds,
                outs[0].rounds
            );
            // Every round of a cause fits the slots: one wave of runs each.
            // (A fix's fixed end asks all its confirming runs at once.)
            if dir == Direction::Cause {
                assert_eq!(outs[1].rounds, outs[1].steps, "seed {seed}");
            }
        }
    }

    /// The batch's rounds: waves of runs one after another, a build alone
    /// one.
    #[test]
    fn waves_are_runs_over_slots() {
        assert_eq!(waves(0, 4), 1);
        assert_eq!(waves(4, 4), 1);
        assert_eq!(waves(5, 4), 2);
        assert_eq!(waves(10, 1), 10);
        assert_eq!(waves(3, 0), 3);
    }
}
