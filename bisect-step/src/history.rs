//! What the engine asks of a repository, as plain facts about commits:
//! whether one exists, ancestry, subjects, the candidate range as a
//! [`Graph`], release tags and the settled culprit's parent. [`GitRepo`]
//! answers from a git repository (libgit2, and the commit-graph file when
//! there is one); another [`CommitSource`] can answer from a history held
//! in memory, so the engine and the policy run without git.

use crate::graph::Graph;
use crate::policy::CulpritRepoFacts;
use anyhow::Result;
use git2::{Oid, Repository};

/// The commit facts a bisection needs.
pub trait CommitSource {
    /// The commit is in the repository.
    fn has_commit(&self, oid: Oid) -> bool;
    /// `a` is a descendant of `b` (not `b` itself).
    fn descends_from(&self, a: Oid, b: Oid) -> bool;
    /// The commit's subject line, empty when it has none.
    fn subject(&self, oid: Oid) -> String;
    /// `ancestors(bad) - ancestors(goods)`, children before parents; with
    /// `first_parent` only its first-parent chain from bad
    /// ([`Graph::first_parent_only`]).
    fn range(&self, bad: Oid, goods: &[Oid], first_parent: bool) -> Result<Graph>;
    /// Release tags matching `pattern` below bad, newest first, at most `max`.
    fn release_tags(&self, pattern: &str, bad: Oid, max: usize) -> Result<Vec<(String, Oid)>>;
    /// What the conclusion needs to know of the culprit.
    fn culprit_facts(&self, culprit: Oid) -> Result<CulpritRepoFacts>;
}

/// A git repository as a [`CommitSource`].
pub struct GitRepo(pub Repository);

impl CommitSource for GitRepo {
    fn has_commit(&self, oid: Oid) -> bool {
        self.0.find_commit(oid).is_ok()
    }

    fn descends_from(&self, a: Oid, b: Oid) -> bool {
        self.0.graph_descendant_of(a, b).unwrap_or(false)
    }

    fn subject(&self, oid: Oid) -> String {
        self.0
            .find_commit(oid)
            .ok()
            .and_then(|c| c.summary().map(str::to_string))
            .unwrap_or_default()
    }

    fn range(&self, bad: Oid, goods: &[Oid], first_parent: bool) -> Result<Graph> {
        Graph::load(&self.0, bad, goods, first_parent)
    }

    fn release_tags(&self, pattern: &str, bad: Oid, max: usize) -> Result<Vec<(String, Oid)>> {
        crate::releases::release_tags(&self.0, pattern, bad, max)
    }

    fn culprit_facts(&self, culprit: Oid) -> Result<CulpritRepoFacts> {
        let commit = self.0.find_commit(culprit)?;
        Ok(CulpritRepoFacts {
            first_parent: commit.parent_id(0).ok(),
            merge: commit.parent_count() > 1,
            release: crate::releases::is_release_commit(&self.0, &commit),
        })
    }
}
