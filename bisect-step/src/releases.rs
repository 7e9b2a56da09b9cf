//! Release tags: which to test when there is no good commit, and whether a
//! commit is itself a release.
//!
//! Tags matching the pattern that are ancestors of bad are sorted by version,
//! newest first, and thinned the way syzbot thins them: the newest few are
//! all tested (the bug most likely came in recently), older ones every other
//! release, so a bug that is years old costs a handful of builds.

use anyhow::Result;
use git2::{Commit, Oid, Repository};

/// Newest releases tested one by one before thinning starts.
const CONSECUTIVE: usize = 5;

/// Numbers in a tag name, for version order: v6.10 > v6.9 > v6.9-rc3 > v6.9-rc2.
fn version_key(tag: &str) -> (Vec<u64>, bool, Vec<u64>) {
    fn numbers(s: &str) -> Vec<u64> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().unwrap_or(u64::MAX))
            .collect()
    }
    match tag.split_once("-rc") {
        Some((base, rc)) => (numbers(base), false, numbers(rc)),
        None => (numbers(tag), true, vec![]),
    }
}

/// Release tags to test, newest first, at most `max`.
pub fn release_tags(
    repo: &Repository,
    pattern: &str,
    bad: Oid,
    max: usize,
) -> Result<Vec<(String, Oid)>> {
    let names = repo.tag_names(Some(pattern))?;
    let mut tags = Vec::new();
    for name in names.iter().flatten() {
        let Ok(obj) = repo.revparse_single(&format!("refs/tags/{name}")) else {
            continue;
        };
        let Ok(commit) = obj.peel_to_commit() else {
            continue;
        };
        let oid = commit.id();
        if oid != bad && repo.graph_descendant_of(bad, oid).unwrap_or(false) {
            tags.push((name.to_string(), oid));
        }
    }
    Ok(pick_releases(tags, pattern, max))
}

/// Of the tags matching `pattern` below bad, the ones to test, newest
/// first, at most `max`: release candidates only when the pattern asks.
pub fn pick_releases(tags: Vec<(String, Oid)>, pattern: &str, max: usize) -> Vec<(String, Oid)> {
    let with_rc = pattern.contains("rc");
    let mut tags: Vec<(String, Oid)> = tags
        .into_iter()
        .filter(|(name, _)| with_rc || !name.contains("-rc"))
        .collect();
    tags.sort_by(|a, b| {
        version_key(&b.0)
            .cmp(&version_key(&a.0))
            .then(b.0.cmp(&a.0))
    });
    let mut picked = Vec::new();
    for (i, t) in tags.into_iter().enumerate() {
        if i < CONSECUTIVE || (i - CONSECUTIVE) % 2 == 1 {
            picked.push(t);
        }
    }
    picked.truncate(max);
    picked
}

/// A release commit's subject: "Linux X.Y…".
pub fn is_release_subject(subject: &str) -> bool {
    subject
        .strip_prefix("Linux ")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// A release commit only bumps the version: subject "Linux X.Y…", or it
/// changes nothing but the top-level Makefile.
pub fn is_release_commit(repo: &Repository, commit: &Commit) -> bool {
    if is_release_subject(commit.summary().unwrap_or("")) {
        return true;
    }
    let Ok(parent) = commit.parent(0) else {
        return false;
    };
    let (Ok(a), Ok(b)) = (parent.tree(), commit.tree()) else {
        return false;
    };
    match repo.diff_tree_to_tree(Some(&a), Some(&b), None) {
        Ok(diff) => {
            diff.deltas().len() == 1
                && diff.deltas().all(|d| {
                    d.new_file()
                        .path()
                        .is_some_and(|p| p == std::path::Path::new("Makefile"))
                })
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        let mut v = vec!["v6.9", "v6.10", "v6.9-rc3", "v5.13"];
        v.sort_by_key(|t| std::cmp::Reverse(version_key(t)));
        assert_eq!(v, vec!["v6.10", "v6.9", "v6.9-rc3", "v5.13"]);
    }
}
