//! A reader for git's commit-graph file (`objects/info/commit-graph`), the
//! fast way to load a big range: parent links of a million commits are read
//! straight from one file instead of parsing a million commit objects.
//!
//! Only what bisection needs is read: the sorted object ids (OIDF/OIDL) and
//! the parent positions (CDAT, EDGE). Split graphs (chains) and files that
//! do not hold the bad or good commits are left to the libgit2 walk.

use git2::Oid;
use std::path::Path;

const NO_PARENT: u32 = 0x7000_0000;
const EXTRA_EDGES: u32 = 0x8000_0000;

/// A range in node numbering (children before parents), the arrays
/// [`crate::graph::Graph`] is made of: this module reads the file and knows
/// nothing of the graph type, so the dependency runs one way.
pub struct RangeArrays {
    pub oids: Vec<Oid>,
    pub parent_start: Vec<u32>,
    pub parents: Vec<u32>,
    /// The first parent's node, or [`NOT_IN_RANGE`].
    pub first_parent: Vec<u32>,
    pub parent_count: Vec<u8>,
}

/// A first parent outside the range.
pub const NOT_IN_RANGE: u32 = u32::MAX;

/// A parsed commit-graph file.
pub struct CommitGraph {
    data: Vec<u8>,
    fanout: usize,
    oids: usize,
    cdat: usize,
    edge: Option<usize>,
    n: u32,
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn be64(d: &[u8], at: usize) -> Option<u64> {
    d.get(at..at + 8).map(|b| {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        u64::from_be_bytes(a)
    })
}

impl CommitGraph {
    /// Read the repository's single commit-graph file, if it has a usable one.
    pub fn open(git_dir: &Path) -> Option<CommitGraph> {
        let data = std::fs::read(git_dir.join("objects/info/commit-graph")).ok()?;
        if data.get(0..4)? != b"CGPH" || data[4] != 1 || data[5] != 1 || data[7] != 0 {
            return None;
        }
        let chunks = data[6] as usize;
        let (mut fanout, mut oids, mut cdat, mut edge) = (None, None, None, None);
        for i in 0..chunks {
            let at = 8 + 12 * i;
            let id = data.get(at..at + 4)?;
            let off = be64(&data, at + 4)? as usize;
            match id {
                b"OIDF" => fanout = Some(off),
                b"OIDL" => oids = Some(off),
                b"CDAT" => cdat = Some(off),
                b"EDGE" => edge = Some(off),
                _ => {}
            }
        }
        let (fanout, oids, cdat) = (fanout?, oids?, cdat?);
        let n = be32(&data, fanout + 255 * 4)?;
        if data.len() < oids + 20 * n as usize || data.len() < cdat + 36 * n as usize {
            return None;
        }
        Some(CommitGraph {
            data,
            fanout,
            oids,
            cdat,
            edge,
            n,
        })
    }

    fn oid_at(&self, i: u32) -> &[u8] {
        let at = self.oids + 20 * i as usize;
        &self.data[at..at + 20]
    }

    /// The position of a commit, by binary search within its fanout bucket.
    pub fn position(&self, oid: &Oid) -> Option<u32> {
        let b = oid.as_bytes();
        let first = b[0] as usize;
        let lo = if first == 0 {
            0
        } else {
            be32(&self.data, self.fanout + 4 * (first - 1))?
        };
        let hi = be32(&self.data, self.fanout + 4 * first)?;
        let (mut lo, mut hi) = (lo, hi.min(self.n));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.oid_at(mid).cmp(b) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Parent positions of commit `i`, appended to `out`; None on a damaged file.
    fn parents(&self, i: u32, out: &mut Vec<u32>) -> Option<()> {
        let at = self.cdat + 36 * i as usize + 20;
        let p1 = be32(&self.data, at)?;
        let p2 = be32(&self.data, at + 4)?;
        if p1 != NO_PARENT {
            out.push(p1);
        }
        if p2 == NO_PARENT {
        } else if p2 & EXTRA_EDGES == 0 {
            out.push(p2);
        } else {
            let mut k = (p2 & !EXTRA_EDGES) as usize;
            let edge = self.edge?;
            loop {
                let e = be32(&self.data, edge + 4 * k)?;
                out.push(e & !EXTRA_EDGES);
                if e & EXTRA_EDGES != 0 {
                    break;
                }
                k += 1;
            }
        }
        if out.iter().any(|&p| p >= self.n) {
            return None;
        }
        Some(())
    }

    /// `ancestors(bad) - ancestors(goods)` in topological order, as the
    /// libgit2 walk gives it; None when a commit is missing from the file.
    pub fn range(&self, bad: Oid, goods: &[Oid]) -> Option<RangeArrays> {
        let n = self.n as usize;
        // 0 = unseen, 1 = ancestor of a good, 2 = candidate.
        let mut mark = vec![0u8; n];
        let mut stack = Vec::new();
        let mut ps = Vec::new();
        for g in goods {
            let p = self.position(g)?;
            if mark[p as usize] == 0 {
                mark[p as usize] = 1;
                stack.push(p);
            }
        }
        while let Some(v) = stack.pop() {
            ps.clear();
            self.parents(v, &mut ps)?;
            for &q in &ps {
                if mark[q as usize] == 0 {
                    mark[q as usize] = 1;
                    stack.push(q);
                }
            }
        }
        let b = self.position(&bad)?;
        let mut cands = Vec::new();
        if mark[b as usize] == 0 {
            mark[b as usize] = 2;
            stack.push(b);
        }
        // Children count within the range, for Kahn's topological order.
        let mut children = vec![0u32; n];
        while let Some(v) = stack.pop() {
            cands.push(v);
            ps.clear();
            self.parents(v, &mut ps)?;
            for &q in &ps {
                if mark[q as usize] != 1 {
                    children[q as usize] += 1;
                }
                if mark[q as usize] == 0 {
                    mark[q as usize] = 2;
                    stack.push(q);
                }
            }
        }
        let mut order = Vec::with_capacity(cands.len());
        let mut ready = vec![b];
        if cands.is_empty() {
            ready.clear();
        }
        while let Some(v) = ready.pop() {
            order.push(v);
            ps.clear();
            self.parents(v, &mut ps)?;
            // Push in reverse so the first parent is taken first (depth
            // first along the mainline, as git's topological walk does).
            for &q in ps.iter().rev() {
                if mark[q as usize] == 2 {
                    children[q as usize] -= 1;
                    if children[q as usize] == 0 {
                        ready.push(q);
                    }
                }
            }
        }
        // Positions -> node numbers, then the compact arrays directly.
        let mut node = vec![u32::MAX; n];
        for (i, &v) in order.iter().enumerate() {
            node[v as usize] = i as u32;
        }
        let mut oids = Vec::with_capacity(order.len());
        let mut parent_start = Vec::with_capacity(order.len() + 1);
        let mut parents = Vec::with_capacity(order.len() + order.len() / 8);
        let mut first_parent = Vec::with_capacity(order.len());
        let mut parent_count = Vec::with_capacity(order.len());
        parent_start.push(0u32);
        for &v in &order {
            oids.push(Oid::from_bytes(self.oid_at(v)).ok()?);
            ps.clear();
            self.parents(v, &mut ps)?;
            parent_count.push(ps.len().min(255) as u8);
            let mut fp = NOT_IN_RANGE;
            for (k, &q) in ps.iter().enumerate() {
                let j = node[q as usize];
                if j != u32::MAX {
                    if k == 0 {
                        fp = j;
                    }
                    parents.push(j);
                }
            }
            first_parent.push(fp);
            parent_start.push(parents.len() as u32);
        }
        Some(RangeArrays {
            oids,
            parent_start,
            parents,
            first_parent,
            parent_count,
        })
    }
}
