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

use crate::facts::{oid_of, Facts};
pub use crate::facts::{CommitFacts, RecordError};
use crate::graph::Graph;
use crate::history::{CommitSource, GitRepo};
use crate::model::Direction;
use crate::policy::{Policy, Settled, Step, MAX_RELEASES};
pub use crate::render::Decision;
use crate::render::Render;
use anyhow::{anyhow, Context, Result};
use git2::{Oid, Repository};
use kbisect_records::{Object, Start};
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
                if start_goods.is_empty() && start.releases.is_none() {
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

    /// The renderer over the facts as they stand, subjects from the repo.
    fn render(&self) -> Render<'_, impl Fn(Oid) -> String + '_> {
        let repo = &self.repo;
        Render {
            facts: &self.facts,
            dir: self.dir,
            subject: move |oid| repo.subject(oid),
        }
    }

    /// The policy over the facts as they stand.
    fn policy(&self) -> Policy<'_> {
        Policy {
            facts: &self.facts,
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
        let verdicts = self.verdicts(&mut log);
        let mut d = self.decide_action()?;
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
        let out = judged
            .iter()
            .map(|(oid, j)| self.render().verdict(*oid, j, log))
            .collect();
        for f in self.facts.by_commit.values_mut() {
            f.dirty = false;
        }
        for (oid, j) in &judged {
            self.facts.commit_mut(*oid).said = Some(j.verdict());
        }
        out
    }

    /// The policy's step, phase by phase, with what each phase needs from
    /// the repository gathered on the way.
    fn decide_action(&mut self) -> Result<Decision> {
        if let Some(step) = self.policy().start_phase() {
            return Ok(self.render().step(step, self.bad));
        }
        if let Some(step) = self.policy().fixed_end_phase() {
            return Ok(self.render().step(step, self.bad));
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
                Break(step) => return Ok(self.render().step(step, self.bad)),
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
        Ok(self.render().step(step, self.bad))
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
