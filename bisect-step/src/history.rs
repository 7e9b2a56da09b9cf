//! What the engine asks of a repository, as plain facts about commits:
//! whether one exists, ancestry, subjects, the candidate range as a
//! [`Graph`], release tags and the settled culprit's parent; and, for the
//! config search's guess, the text of a commit's files. [`GitRepo`]
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
    /// The lines of the tree at `commit` that match the extended regular
    /// expression `pattern`, in the files `pathspec` matches, as (path,
    /// line number, text). Empty when this source cannot search a tree
    /// (the config search then goes without its guess).
    fn grep(&self, _commit: Oid, _pattern: &str, _pathspec: &str) -> Vec<GrepHit> {
        Vec::new()
    }
    /// A file's text at `commit`; None when the tree has no such file.
    fn file_text(&self, _commit: Oid, _path: &str) -> Option<String> {
        None
    }
}

/// One line [`CommitSource::grep`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrepHit {
    pub path: String,
    pub line: u32,
    pub text: String,
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

    /// `git grep` over the commit's tree (libgit2 has no search; git's is
    /// threaded and reads the packs directly: about 15 s over a kernel).
    fn grep(&self, commit: Oid, pattern: &str, pathspec: &str) -> Vec<GrepHit> {
        let rev = commit.to_string();
        let out = duct::cmd(
            "git",
            [
                std::ffi::OsStr::new("--git-dir"),
                self.0.path().as_os_str(),
                "grep".as_ref(),
                "-n".as_ref(),
                "-I".as_ref(),
                "-E".as_ref(),
                "-e".as_ref(),
                pattern.as_ref(),
                rev.as_ref(),
                "--".as_ref(),
                pathspec.as_ref(),
            ],
        )
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run();
        let Ok(out) = out else {
            return Vec::new();
        };
        let prefix = format!("{rev}:");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut parts = l.strip_prefix(&prefix)?.splitn(3, ':');
                let path = parts.next()?.to_string();
                let line = parts.next()?.parse().ok()?;
                let text = parts.next()?.to_string();
                Some(GrepHit { path, line, text })
            })
            .collect()
    }

    fn file_text(&self, commit: Oid, path: &str) -> Option<String> {
        let tree = self.0.find_commit(commit).ok()?.tree().ok()?;
        let entry = tree.get_path(std::path::Path::new(path)).ok()?;
        let blob = self.0.find_blob(entry.id()).ok()?;
        Some(String::from_utf8_lossy(blob.content()).into_owned())
    }
}
