//! The bisection state machine: the repository (as a
//! [`CommitSource`]: plain commit facts, no handle), the facts
//! ([`crate::facts`] is where the records are read) and the policy
//! ([`crate::policy`] is where the bisection phase is decided) and the
//! rendering ([`crate::render`] writes records and log lines), wired.
//!
//! The state is a pure function of the journal's input records (builds,
//! runs, verdicts given from outside): nothing decided earlier is trusted on
//! replay, it is decided again, so a resumed bisection reaches the same next
//! step and the same result. Decisions go through phases, each settled by
//! the facts alone: test the bad end (reproduction rate), release tags when
//! there is no good commit, bisection over the posterior, the culprit's
//! parent (signature, noop), an optional revert check, the result.

use crate::configsearch::{self, ConfigStep};
use crate::facts::{oid_of, Facts};
pub use crate::facts::{CommitFacts, RecordError};
use crate::graph::Graph;
use crate::history::{CommitSource, GitRepo};
use crate::model::Direction;
use crate::policy::{ConfigRef, Done, Policy, Reason, Settled, Step, Test, MAX_RELEASES};
pub use crate::render::Decision;
use crate::render::Render;
use anyhow::{anyhow, Context, Result};
use git2::{Oid, Repository};
use kbisect_records::{ConfigOutcome, ConfigSearchMode, Object, Start};
use std::ops::ControlFlow::{Break, Continue};
use std::time::Instant;

/// The bisection over one repository.
pub struct Engine {
    /// The commit facts: no repository handle past this.
    repo: Box<dyn CommitSource>,
    pub start: Start,
    pub dir: Direction,
    /// The range's newest end: the start's bad for a cause, its good (the
    /// fixed commit) for a fix.
    pub bad: Oid,
    /// The range's oldest ends: the start's goods for a cause, its bad for
    /// a fix.
    pub goods: Vec<Oid>,
    /// What the records say: the only state read from records.
    pub facts: Facts,
    /// VM slots this round (`--slots`, not in the start record: they may
    /// change between calls); 1 unless set.
    pub slots: u32,
    graph: Option<(Vec<Oid>, Graph)>,
    /// The config search of the start record, with its files.
    pub config: Option<configsearch::Setup>,
    /// The config the commits are bisected with, once the config search
    /// chose it, and what the search found.
    active: Option<(ConfigRef, ConfigOutcome)>,
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
        Self::with_source(start, Box::new(GitRepo(repo)))
    }

    /// The bisection of `start` over the commits `repo` knows (the start
    /// record's `repo` only names it in messages).
    pub fn with_source(start: Start, repo: Box<dyn CommitSource>) -> Result<Engine> {
        let config_bisection = start
            .config_search
            .as_ref()
            .is_some_and(|c| c.mode == ConfigSearchMode::Bisect);
        let dir = match start.direction.as_str() {
            "cause" | "" => Direction::Cause,
            "fix" => Direction::Fix,
            other => return Err(anyhow!("unknown direction {other:?}")),
        };
        let start_bad =
            oid_of(&start.bad).ok_or_else(|| anyhow!("bad {:?} is not a full sha", start.bad))?;
        if !repo.has_commit(start_bad) {
            return Err(anyhow!("bad commit {start_bad} is not in {}", start.repo));
        }
        let mut start_goods = Vec::new();
        for g in &start.good {
            let oid = oid_of(g).ok_or_else(|| anyhow!("good {g:?} is not a full sha"))?;
            if !repo.has_commit(oid) {
                return Err(anyhow!("good commit {oid} is not in {}", start.repo));
            }
            if oid == start_bad {
                return Err(anyhow!("good commit {oid} is the bad commit"));
            }
            start_goods.push(oid);
        }
        // The start names commits by what they show (bad has the bug); the
        // range runs from its oldest ends to its newest, which for a fix is
        // the good commit.
        let (bad, goods) = match dir {
            Direction::Cause => {
                if start_goods.is_empty() && start.releases.is_none() && !config_bisection {
                    return Err(anyhow!("no good commit: give --good or --releases"));
                }
                (start_bad, start_goods)
            }
            Direction::Fix => match start_goods[..] {
                [fixed] => (fixed, vec![start_bad]),
                _ => {
                    return Err(anyhow!(
                        "a fix bisection takes one good commit, newer than bad (default: the branch head); the start has {}",
                        start_goods.len()
                    ))
                }
            },
        };
        Ok(Engine {
            facts: Facts::new(start.bug, start.target.clone()),
            repo,
            start,
            dir,
            bad,
            goods,
            slots: 1,
            graph: None,
            config: None,
            active: None,
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
                .find(|g| self.repo.descends_from(**g, bad))
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
        if !self.repo.has_commit(oid) {
            return Err(RecordError(format!(
                "commit {oid} is not in the repository"
            )));
        }
        if !self.repo.descends_from(self.bad, oid) {
            return Err(RecordError(format!(
                "commit {oid} is not in the range (not an ancestor of bad {})",
                self.bad
            )));
        }
        Ok(oid)
    }

    /// The commit is in the repository.
    pub fn has_commit(&self, oid: Oid) -> bool {
        self.repo.has_commit(oid)
    }

    /// `a` is a descendant of `b` (not `b` itself).
    pub fn descends_from(&self, a: Oid, b: Oid) -> bool {
        self.repo.descends_from(a, b)
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

    /// The facts of the bisection's commits: under the config the search
    /// chose, when there is one.
    fn active_facts(&self) -> &Facts {
        match &self.active {
            Some((c, _)) => self.facts.config(&c.id),
            None => &self.facts,
        }
    }

    fn active_facts_mut(&mut self) -> &mut Facts {
        match &self.active {
            Some((c, _)) => {
                let id = c.id.clone();
                self.facts.config_mut(&id)
            }
            None => &mut self.facts,
        }
    }

    /// The renderer over the facts as they stand, subjects from the repo.
    fn render(&self) -> Render<'_, impl Fn(Oid) -> String + '_> {
        self.render_over(self.active_facts())
    }

    /// The renderer over `facts` (the result's counts are every fact's).
    fn render_over<'a>(&'a self, facts: &'a Facts) -> Render<'a, impl Fn(Oid) -> String + 'a> {
        let repo = &self.repo;
        Render {
            facts,
            totals: &self.facts,
            dir: self.dir,
            subject: move |oid| repo.subject(oid),
        }
    }

    /// The policy over the facts as they stand.
    fn policy(&self) -> Policy<'_> {
        self.policy_over(self.active_facts())
    }

    /// The policy over `facts`, with the start's settings.
    fn policy_over<'a>(&'a self, facts: &'a Facts) -> Policy<'a> {
        Policy {
            facts,
            start: &self.start,
            dir: self.dir,
            bad: self.bad,
            goods: &self.goods,
            slots: self.slots.max(1),
        }
    }

    /// Decide what to do now.
    pub fn decide(&mut self) -> Result<Decision> {
        let t0 = Instant::now();
        let mut log = Vec::new();
        let searched = self.config_phase(&mut log)?;
        let verdicts = self.verdicts(&mut log);
        let mut d = match searched {
            Some(d) => d,
            None => self.decide_action()?,
        };
        if let (true, Some((_, outcome))) = (d.done, &self.active) {
            if let Some(r) = d.actions.first_mut() {
                r.insert("config".into(), serde_json::to_value(outcome)?);
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        // The time is the batch's: on its first record, so the journal's
        // `seconds` add up to the time spent choosing.
        if !d.done {
            for (i, next) in d.actions.iter_mut().enumerate() {
                let took = if i == 0 { secs } else { 0.0 };
                next.insert("seconds".into(), serde_json::json!(took));
            }
        }
        d.verdicts = verdicts;
        d.log.splice(0..0, log);
        Ok(d)
    }

    /// Verdict records for commits with new records since their last
    /// verdict (the policy judges, render writes); every such commit is
    /// judged up to here.
    fn verdicts(&mut self, log: &mut Vec<String>) -> Vec<Object> {
        let judged = self.policy().judgements();
        let config_id = self.active.as_ref().map(|(c, _)| c.id.clone());
        let out = judged
            .iter()
            .map(|(oid, j)| {
                let mut v = self.render().verdict(*oid, j, log);
                if let Some(id) = &config_id {
                    v.insert("config_id".into(), id.clone().into());
                }
                v
            })
            .collect();
        for (reverted, f) in &self.active_facts().reverts {
            if f.dirty {
                log.extend(self.render().revert_line(self.bad, *reverted, f));
            }
        }
        let facts = self.active_facts_mut();
        for f in facts
            .by_commit
            .values_mut()
            .chain(facts.reverts.values_mut())
        {
            f.dirty = false;
        }
        for (oid, j) in &judged {
            facts.commit_mut(*oid).said = Some(j.verdict());
        }
        out
    }

    /// The config search, while it runs: its decision (a test, or how it
    /// ended). Once it chose the config to bisect the commits with, that
    /// config's facts become the bisection's and None is returned; its
    /// log line is said on the first step after.
    fn config_phase(&mut self, log: &mut Vec<String>) -> Result<Option<Decision>> {
        let Some(setup) = &self.config else {
            return Ok(None);
        };
        // The search's view: every fact not under a config; plan picks
        // each config's facts itself.
        let step = configsearch::plan(
            setup,
            &self.facts,
            &self.policy_over(&self.facts),
            &*self.repo,
        )?;
        let config_name = setup.search.full.clone();
        let render = || self.render_over(&self.facts);
        Ok(Some(match step {
            ConfigStep::Full(step) => {
                let mut d = render().step(step, self.bad);
                if let (true, Some(r)) = (d.done, d.actions.first_mut()) {
                    let m = r
                        .get("message")
                        .and_then(|m| m.as_str())
                        .unwrap_or("")
                        .to_string();
                    r.insert(
                        "message".into(),
                        format!("with the full config {config_name}: {m}").into(),
                    );
                }
                d
            }
            ConfigStep::Test(t, line) => {
                let mut d = render().step(Step::Test(vec![t]), self.bad);
                d.log.insert(0, line);
                d
            }
            ConfigStep::BadBaseline { message } => {
                let mut r = render().result_base("error");
                r.error = Some("bad_baseline_config".into());
                r.message = Some(message.clone());
                crate::render::finish(r, vec![format!("config search stopped: {message}")])
            }
            ConfigStep::Found { outcome, log } => {
                let mut r = render().result_base("found");
                r.message = Some(format!(
                    "config bisection at {}: the bug comes with {}",
                    self.bad,
                    outcome.options.join(", ")
                ));
                r.config = Some(outcome);
                crate::render::finish(r, log)
            }
            ConfigStep::Bisect {
                config,
                outcome,
                log: lines,
            } => {
                let first = self.facts.config(&config.id).of(self.bad).said.is_none();
                if first {
                    log.extend(lines);
                }
                self.active = Some((config, outcome));
                return Ok(None);
            }
        }))
    }

    /// The step as a decision: every test built with the bisection's
    /// config, when the config search chose one.
    fn out(&self, step: Step) -> Decision {
        let step = match &self.active {
            Some((c, _)) => configsearch::tag(step, c),
            None => step,
        };
        self.render().step(step, self.bad)
    }

    /// The policy's step, phase by phase, with what each phase needs from
    /// the repository gathered on the way.
    fn decide_action(&mut self) -> Result<Decision> {
        if let Some(step) = self.policy().start_phase() {
            return Ok(self.out(step));
        }
        if let Some(step) = self.policy().fixed_end_phase() {
            return Ok(self.out(step));
        }
        // Phase 2: releases, newest to oldest, until one is good.
        if self.goods.is_empty() {
            let tags = self.repo.release_tags(
                self.start.releases.as_deref().unwrap_or("v*"),
                self.bad,
                MAX_RELEASES,
            )?;
            match self.policy().releases_phase(&tags) {
                Continue(g) => self.goods = vec![g],
                Break(step) => return Ok(self.out(step)),
            }
        }
        self.graph()?;
        let (_, g) = self.graph.take().expect("graph loaded");
        let settled = self.policy().bisect(&g);
        self.graph = Some((self.goods.clone(), g));
        let step = match settled {
            Continue(s) => self.conclude(s)?,
            Break(step) => step,
        };
        if let Step::Done(Done::Found(found)) = &step {
            if let Some(d) = self.full_config_check(found.culprit)? {
                return Ok(d);
            }
        }
        Ok(self.out(step))
    }

    /// With a minimized config, the culprit's parent built with the full
    /// config: the bug absent there too, or the minimized config lost it
    /// (then no commit is blamed). None when the check is done and the
    /// culprit stands (the result then says so), or not asked for.
    fn full_config_check(&mut self, culprit: Oid) -> Result<Option<Decision>> {
        let Some((active, _)) = &self.active else {
            return Ok(None);
        };
        if active.id == configsearch::FULL {
            return Ok(None);
        }
        let setup = self.config.as_ref().expect("a config search");
        let full = ConfigRef {
            id: configsearch::FULL.into(),
            build_config: setup
                .store
                .config_path(configsearch::FULL)
                .display()
                .to_string(),
        };
        let parent = self.repo.culprit_facts(culprit)?.first_parent;
        let (p, _) = self.policy().repro_rate(&[self.policy().start_commit()]);
        let confirm = Policy::confirm_runs(p);
        let check = match parent {
            None => "not_tested",
            Some(pa) => {
                let f = self.facts.config(configsearch::FULL).of(pa);
                if f.evidence.crashes > 0 {
                    "bug_present"
                } else if f.evidence.oks >= confirm {
                    "bug_absent"
                } else if f.untestable().is_some() {
                    "not_tested"
                } else {
                    let t = Test {
                        config: Some(full),
                        ..Test::new(pa, Reason::ConfigCheck, confirm - f.evidence.oks)
                    };
                    let mut d = self.render().step(Step::Test(vec![t]), self.bad);
                    d.log.insert(
                        0,
                        format!("checking the culprit's parent {pa} with the full config"),
                    );
                    return Ok(Some(d));
                }
            }
        };
        if let Some((_, outcome)) = &mut self.active {
            outcome.full_config_check = Some(check.into());
        }
        if check != "bug_present" {
            return Ok(None);
        }
        let pa = parent.expect("tested");
        let mut r = self.render().result_base("config_lost_bug");
        r.candidates = vec![kbisect_records::CommitRef {
            commit: culprit.to_string(),
            subject: self.repo.subject(culprit),
        }];
        let message = format!(
            "the minimized config lost the bug at {pa}, the parent of {culprit}: the full config still reproduces it there, so no commit is blamed; bisect again with the full config (kbisect --no-minimize-config)"
        );
        r.message = Some(message.clone());
        Ok(Some(crate::render::finish(r, vec![message])))
    }

    fn graph(&mut self) -> Result<&Graph> {
        let stale = match &self.graph {
            Some((goods, _)) => *goods != self.goods,
            None => true,
        };
        if stale {
            let g = self
                .repo
                .range(self.bad, &self.goods, self.start.first_parent)?;
            self.graph = Some((self.goods.clone(), g));
        }
        Ok(&self.graph.as_ref().expect("graph just loaded").1)
    }

    /// Phases 4 and 5, the culprit settled: its parent, maybe the revert
    /// check, the result.
    fn conclude(&self, settled: Settled) -> Result<Step> {
        let repo_facts = self.repo.culprit_facts(settled.culprit)?;
        Ok(self.policy().conclude(settled, repo_facts))
    }
}
