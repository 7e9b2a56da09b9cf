//! The commit graph of a bisection range, loaded once into compact arrays.
//!
//! Nodes are the candidate commits (ancestors of bad that are not ancestors
//! of any good), numbered `0..n` in topological order: every commit comes
//! before its parents, so node 0 is the bad commit and the ancestors of a
//! node always have larger numbers. Parents are kept as a compressed list of
//! `u32` indices (only parents inside the range); a million commits take a
//! few tens of megabytes. Walks reuse one stamp array, so no walk allocates.
//!
//! With `--first-parent` the range is cut down to the first-parent chain
//! from bad ([`Graph::first_parent_only`]), as `git bisect --first-parent`
//! has it: commits a merge brought in are not candidates, so on a mainline
//! the culprit found is the merge.

use anyhow::{Context, Result};
use git2::{Oid, Repository, Sort};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Commit ids are uniformly random: their first eight bytes are hash enough.
#[derive(Default)]
pub struct OidHasher(u64);

impl Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut a = [0u8; 8];
            a[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(a);
        }
    }
}

/// Map from commit id to node index.
pub type OidMap = HashMap<Oid, u32, BuildHasherDefault<OidHasher>>;

/// "No node": a first parent outside the range.
pub const NONE: u32 = crate::commitgraph::NOT_IN_RANGE;

/// The candidate commits and their parent links.
pub struct Graph {
    /// Node index -> commit id; children before parents.
    pub oids: Vec<Oid>,
    /// Commit id -> node index.
    pub index: OidMap,
    /// `parents[parent_start[i]..parent_start[i+1]]` are node i's parents in range.
    pub parent_start: Vec<u32>,
    pub parents: Vec<u32>,
    /// The first parent when it is in range, else [`NONE`].
    pub first_parent: Vec<u32>,
    /// How many parents the commit has in all (in range or not).
    pub parent_count: Vec<u8>,
    /// Commits of `ancestors(bad) - ancestors(goods)` that the first-parent
    /// cut left out (empty without it): they are inside the range all the
    /// same, so a verdict on one says nothing against the good ends.
    pub off_chain: OidSet,
}

/// A set of commit ids.
pub type OidSet = HashSet<Oid, BuildHasherDefault<OidHasher>>;

impl Graph {
    /// Load `ancestors(bad) - ancestors(goods)` from the repository; with
    /// `first_parent`, only its first-parent chain from bad.
    ///
    /// libgit2's revision walk marks the goods' ancestry uninteresting the
    /// way `git rev-list bad ^good...` does; each commit is parsed once.
    pub fn load(repo: &Repository, bad: Oid, goods: &[Oid], first_parent: bool) -> Result<Graph> {
        let full = Self::load_full(repo, bad, goods)?;
        Ok(if first_parent {
            full.first_parent_only()
        } else {
            full
        })
    }

    /// The whole range, from the commit-graph file or the libgit2 walk.
    /// The first-parent cut is made afterwards on either, so both ways
    /// answer alike: the goods' ancestry must be hidden in full (a side
    /// branch's commits can be ancestors of a good), which a walk that
    /// followed first parents only could not tell.
    fn load_full(repo: &Repository, bad: Oid, goods: &[Oid]) -> Result<Graph> {
        if std::env::var_os("BISECT_STEP_NO_COMMIT_GRAPH").is_none() {
            if let Some(g) = crate::commitgraph::CommitGraph::open(repo.commondir())
                .and_then(|cg| cg.range(bad, goods))
            {
                return Ok(Self::from_parts(g));
            }
        }
        let mut walk = repo.revwalk().context("revwalk")?;
        walk.set_sorting(Sort::TOPOLOGICAL)?;
        walk.push(bad).with_context(|| format!("push {bad}"))?;
        for g in goods {
            walk.hide(*g).with_context(|| format!("hide {g}"))?;
        }
        let mut oids = Vec::new();
        let mut raw_parents: Vec<Oid> = Vec::new();
        let mut raw_start: Vec<u32> = vec![0];
        for oid in walk {
            let oid = oid.context("walking the commit graph")?;
            let commit = repo
                .find_commit(oid)
                .with_context(|| format!("reading commit {oid}"))?;
            raw_parents.extend(commit.parent_ids());
            raw_start.push(raw_parents.len() as u32);
            oids.push(oid);
        }
        Ok(Self::from_edges(oids, &raw_start, &raw_parents))
    }

    /// Build from commits in topological order (children first) and each
    /// commit's parent ids in order; parents not in `oids` are outside the range.
    pub fn from_edges(oids: Vec<Oid>, raw_start: &[u32], raw_parents: &[Oid]) -> Graph {
        let index = index_of(&oids);
        let n = oids.len();
        let mut parent_start = Vec::with_capacity(n + 1);
        let mut parents = Vec::with_capacity(raw_parents.len());
        let mut first_parent = Vec::with_capacity(n);
        let mut parent_count = Vec::with_capacity(n);
        parent_start.push(0);
        for i in 0..n {
            let ps = &raw_parents[raw_start[i] as usize..raw_start[i + 1] as usize];
            parent_count.push(ps.len().min(255) as u8);
            let mut fp = NONE;
            for (k, p) in ps.iter().enumerate() {
                if let Some(&j) = index.get(p) {
                    if k == 0 {
                        fp = j;
                    }
                    parents.push(j);
                }
            }
            first_parent.push(fp);
            parent_start.push(parents.len() as u32);
        }
        Graph {
            oids,
            index,
            parent_start,
            parents,
            first_parent,
            parent_count,
            off_chain: OidSet::default(),
        }
    }

    /// Assemble from arrays already in node numbering.
    pub fn from_parts(arrays: crate::commitgraph::RangeArrays) -> Graph {
        let crate::commitgraph::RangeArrays {
            oids,
            parent_start,
            parents,
            first_parent,
            parent_count,
        } = arrays;
        let index = index_of(&oids);
        Graph {
            oids,
            index,
            parent_start,
            parents,
            first_parent,
            parent_count,
            off_chain: OidSet::default(),
        }
    }

    /// The first-parent chain from bad (node 0) while it stays in range,
    /// each node's one parent the next: what `git bisect --first-parent`
    /// tests. `parent_count` keeps the commits' real counts, so a merge is
    /// still known as one.
    pub fn first_parent_only(&self) -> Graph {
        if self.is_empty() {
            return Graph::from_parts(crate::commitgraph::RangeArrays {
                oids: vec![],
                parent_start: vec![0],
                parents: vec![],
                first_parent: vec![],
                parent_count: vec![],
            });
        }
        let chain = self.first_parent_chain(0);
        let n = chain.len() as u32;
        let oids = chain.iter().map(|&v| self.oids[v as usize]).collect();
        let parent_count = chain
            .iter()
            .map(|&v| self.parent_count[v as usize])
            .collect();
        let mut parent_start = vec![0u32];
        let mut parents = Vec::with_capacity(chain.len());
        let mut first_parent = Vec::with_capacity(chain.len());
        for k in 0..n {
            if k + 1 < n {
                parents.push(k + 1);
                first_parent.push(k + 1);
            } else {
                first_parent.push(NONE);
            }
            parent_start.push(parents.len() as u32);
        }
        let mut g = Graph::from_parts(crate::commitgraph::RangeArrays {
            oids,
            parent_start,
            parents,
            first_parent,
            parent_count,
        });
        g.off_chain = self
            .oids
            .iter()
            .filter(|o| g.node(o).is_none())
            .copied()
            .collect();
        g
    }

    /// Number of candidate commits.
    pub fn len(&self) -> usize {
        self.oids.len()
    }

    /// True when there are no candidates.
    pub fn is_empty(&self) -> bool {
        self.oids.is_empty()
    }

    /// Node i's parents in range.
    pub fn parents_of(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.parents[self.parent_start[i] as usize..self.parent_start[i + 1] as usize]
    }

    /// The node of a commit, if it is a candidate.
    pub fn node(&self, oid: &Oid) -> Option<u32> {
        self.index.get(oid).copied()
    }

    /// The first-parent chain from `x` while it stays in range, `x` first.
    pub fn first_parent_chain(&self, x: u32) -> Vec<u32> {
        let mut chain = vec![x];
        let mut cur = x;
        while self.first_parent[cur as usize] != NONE {
            cur = self.first_parent[cur as usize];
            chain.push(cur);
        }
        chain
    }
}

fn index_of(oids: &[Oid]) -> OidMap {
    let mut index = OidMap::with_capacity_and_hasher(oids.len(), Default::default());
    for (i, o) in oids.iter().enumerate() {
        index.insert(*o, i as u32);
    }
    index
}

/// Fixed-size bit set over node indices.
#[derive(Clone)]
pub struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    pub fn new(n: usize) -> Self {
        BitSet {
            words: vec![0; n.div_ceil(64)],
        }
    }
    pub fn set(&mut self, i: u32) {
        self.words[(i >> 6) as usize] |= 1 << (i & 63);
    }
    pub fn get(&self, i: u32) -> bool {
        self.words[(i >> 6) as usize] & (1 << (i & 63)) != 0
    }
}

/// Reusable state for ancestor walks: a stamp per node instead of a cleared
/// visited set, and one stack.
pub struct Walker {
    stamp: Vec<u32>,
    current: u32,
    stack: Vec<u32>,
}

impl Walker {
    pub fn new(n: usize) -> Self {
        Walker {
            stamp: vec![0; n],
            current: 0,
            stack: Vec::new(),
        }
    }

    fn next_stamp(&mut self) -> u32 {
        self.current = self.current.wrapping_add(1);
        if self.current == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.current = 1;
        }
        self.current
    }

    /// Visit `x` and every ancestor of it in range, calling `f` on each once.
    /// Nodes for which `prune` is true are visited but their parents are not
    /// followed (their whole ancestry is known not to matter).
    pub fn walk(&mut self, g: &Graph, x: u32, prune: Option<&[bool]>, mut f: impl FnMut(u32)) {
        let s = self.next_stamp();
        self.stack.clear();
        self.stack.push(x);
        self.stamp[x as usize] = s;
        while let Some(v) = self.stack.pop() {
            f(v);
            if prune.is_some_and(|p| p[v as usize]) {
                continue;
            }
            for &p in g.parents_of(v) {
                if self.stamp[p as usize] != s {
                    self.stamp[p as usize] = s;
                    self.stack.push(p);
                }
            }
        }
    }

    /// The ancestors of `x` (itself included) as a bit set.
    pub fn ancestors(&mut self, g: &Graph, x: u32) -> BitSet {
        let mut set = BitSet::new(g.len());
        self.walk(g, x, None, |v| set.set(v));
        set
    }

    /// Sum of `weight` over `x` and its ancestors.
    pub fn mass(&mut self, g: &Graph, x: u32, weight: &[f64], prune: Option<&[bool]>) -> f64 {
        let mut sum = 0.0;
        self.walk(g, x, prune, |v| sum += weight[v as usize]);
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(i: u8) -> Oid {
        Oid::from_bytes(&[i; 20]).unwrap()
    }

    /// 0 <- 1 <- 2 (merge of 3 and 4... ) built by hand:
    /// node 0 = merge(1, 3); 1 -> 2; 3 -> 2; 2 -> (outside).
    #[test]
    fn ancestors_and_chain() {
        let oids = vec![oid(0), oid(1), oid(3), oid(2)];
        let raw_parents = vec![oid(1), oid(3), oid(2), oid(2), oid(9)];
        let raw_start = vec![0, 2, 3, 4, 5];
        let g = Graph::from_edges(oids, &raw_start, &raw_parents);
        assert_eq!(g.len(), 4);
        assert_eq!(g.first_parent_chain(0), vec![0, 1, 3]);
        let mut w = Walker::new(g.len());
        let a = w.ancestors(&g, 2);
        assert!(a.get(2) && a.get(3) && !a.get(1) && !a.get(0));
        assert_eq!(w.mass(&g, 0, &[1.0; 4], None), 4.0);
        assert_eq!(g.parent_count[3], 1);
        assert_eq!(g.first_parent[3], NONE);
    }

    /// The merge's side parent (node 2, oid 3) drops out; the chain is
    /// 0 -> 1 -> 3 renumbered 0 -> 1 -> 2, the merge still a merge.
    #[test]
    fn first_parent_only_keeps_the_chain() {
        let oids = vec![oid(0), oid(1), oid(3), oid(2)];
        let raw_parents = vec![oid(1), oid(3), oid(2), oid(2), oid(9)];
        let raw_start = vec![0, 2, 3, 4, 5];
        let g = Graph::from_edges(oids, &raw_start, &raw_parents).first_parent_only();
        assert_eq!(g.oids, vec![oid(0), oid(1), oid(2)]);
        assert_eq!(g.parents_of(0), &[1]);
        assert_eq!(g.parents_of(1), &[2]);
        assert!(g.parents_of(2).is_empty());
        assert_eq!(g.first_parent, vec![1, 2, NONE]);
        assert_eq!(g.parent_count[0], 2);
        assert!(g.node(&oid(3)).is_none());
        assert!(g.off_chain.contains(&oid(3)) && g.off_chain.len() == 1);
    }
}
