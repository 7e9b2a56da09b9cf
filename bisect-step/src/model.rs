//! The Bayesian model of a bisection: a posterior over which candidate is the
//! culprit, and the choice of the next commit to test.
//!
//! Hypothesis `c` ("c is the culprit") says a commit `x` is in the *new*
//! state (bad for a cause bisection, fixed for a fix bisection) exactly when
//! `c` is `x` or an ancestor of it. The prior is uniform over candidates.
//! A run that shows the target bug proves its commit buggy (false positives
//! are treated as impossible: only same-bug crashes count). A run that ends
//! ok is soft evidence: a buggy commit passes a run with probability `1 - p`,
//! `p` being the reproduction rate. Runs with no evidence (boot failures,
//! unrelated crashes, ...) do not enter the model at all.
//!
//! The revert check (bad built with a candidate `r` reverted) is evidence
//! too: hypothesis `r` says that kernel is back in the old state, every
//! other hypothesis that it is in the new one, as bad is. Only here is a
//! target crash not proof: a true culprit's revert can leave the bug (a
//! later commit brings it in again, or leans on the culprit), so a crash
//! where the hypothesis says clean costs it [`REVERT_KEEPS_BUG`], not
//! everything. Without this a bisection that a flaky reproducer led astray
//! named its wrong culprit with the revert check saying `bug_remains`
//! beside it; with it, that check sends the bisection on.
//!
//! The next commit is the one whose run tells the most about the culprit:
//! maximum mutual information between one run's outcome and the hypothesis.
//! With a perfect reproducer that is the commit whose ancestors hold half the
//! posterior mass, i.e. plain bisection; with a flaky one it leans to the
//! good side, where an ok run says less.

use crate::graph::{BitSet, Graph, Walker, NONE};
use std::collections::HashMap;

/// The chance that bad with the true culprit reverted still shows the bug:
/// what a target crash in a revert check costs the reverted candidate.
/// In the simulator (where a revert always undoes its culprit) every wrong
/// answer at rate 0.3 had the bug remain in its revert check; a small
/// chance here sends each such bisection on, and a large one would let a
/// real culprit whose revert misses the bug be ruled out.
pub const REVERT_KEEPS_BUG: f64 = 0.05;

/// Posterior mass below which a candidate counts as ruled out.
pub const LIVE: f64 = 1e-9;
/// Up to this many live candidates, every one is evaluated exactly.
pub const EXACT_LIMIT: usize = 2000;

/// What runs and verdicts say about one commit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evidence {
    /// Runs that showed the target bug.
    pub crashes: u32,
    /// Runs that ended ok.
    pub oks: u32,
    /// A verdict given from outside: `Some(true)` = bug present.
    pub hard: Option<bool>,
}

impl Evidence {
    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        self.crashes == 0 && self.oks == 0 && self.hard.is_none()
    }
}

/// Belief about the reproduction rate: Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub a: f64,
    pub b: f64,
}

impl Rate {
    /// From crashes and ok runs on commits known buggy, on a uniform prior.
    pub fn from_counts(crashes: f64, oks: f64) -> Rate {
        Rate {
            a: 1.0 + crashes,
            b: 1.0 + oks,
        }
    }
    /// A rate known exactly (e.g. `--repro-rate`): a very sharp Beta.
    pub fn known(p: f64) -> Rate {
        let p = p.clamp(0.001, 0.999);
        Rate {
            a: 1e6 * p,
            b: 1e6 * (1.0 - p),
        }
    }
    pub fn mean(&self) -> f64 {
        self.a / (self.a + self.b)
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-13 relative).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut acc = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        acc += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + acc.ln()
}

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Which end carries the bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// New commits are buggy: find the first bad commit.
    Cause,
    /// Old commits are buggy: find the first fixed commit.
    Fix,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Cause => "cause",
            Direction::Fix => "fix",
        }
    }

    /// Whether a kernel in the new state (`true`) or the old one carries
    /// the bug.
    pub fn buggy(self, new_state: bool) -> bool {
        match self {
            Direction::Cause => new_state,
            Direction::Fix => !new_state,
        }
    }

    /// Whether a kernel that shows the bug (`true`) or not is in the new
    /// state: [`Direction::buggy`] read the other way.
    pub fn new_state(self, buggy: bool) -> bool {
        self.buggy(buggy)
    }
}

/// Binary entropy in bits.
fn h2(q: f64) -> f64 {
    if q <= 0.0 || q >= 1.0 {
        0.0
    } else {
        -(q * q.log2() + (1.0 - q) * (1.0 - q).log2())
    }
}

/// Mutual information (bits) between one run at a commit that is in the new
/// state with probability `s` and the hypothesis, for reproduction rate `p`.
pub fn information(s: f64, p: f64, dir: Direction) -> f64 {
    let buggy = match dir {
        Direction::Cause => s,
        Direction::Fix => 1.0 - s,
    };
    (h2(buggy * p) - buggy * h2(p)).max(0.0)
}

/// The `s` (new-state mass of a commit's ancestry) that maximises information.
pub fn best_split(p: f64, dir: Direction) -> f64 {
    let mut best = (0.5, -1.0);
    for i in 1..1000 {
        let s = i as f64 / 1000.0;
        let mi = information(s, p, dir);
        if mi > best.1 {
            best = (s, mi);
        }
    }
    best.0
}

/// The posterior over candidates, and the reproduction rate it implies.
#[derive(Debug, Clone)]
pub struct Posterior {
    /// Probability that each candidate is the culprit; sums to 1.
    pub weight: Vec<f64>,
    /// Posterior mean of the reproduction rate, over candidates and rate.
    pub rate: f64,
}

/// The posterior over candidates; `None` when the evidence contradicts
/// every candidate (e.g. a good verdict on a commit that crashed with the
/// target bug).
///
/// The reproduction rate is one unknown shared by every buggy commit, with
/// the Beta `prior`. Under hypothesis `c`, the commits in the new state are
/// known, so their crashes `K_c` and ok runs `M_c` pool into one
/// beta-binomial likelihood, `B(a + K_c, b + M_c) / B(a, b)`: the rate is
/// learnt from every run of the bisection, not from the starting commit
/// alone, and ok runs count for as much as the rate allows under each
/// hypothesis. A commit that passed its runs and turned out buggy is no
/// biased sample here: the hypotheses that make it buggy pay for its ok
/// runs with a lower rate.
///
/// `reverted` holds the revert checks' runs, by the candidate reverted on
/// bad (see the module's doc): pooled like any buggy kernel's under the
/// hypotheses that make the kernel buggy; under the one that makes it
/// clean, ok runs are what it predicts and a crash costs
/// [`REVERT_KEEPS_BUG`] (the revert missed the bug: its runs then pool as
/// a buggy kernel's).
pub fn posterior(
    g: &Graph,
    tested: &[(&BitSet, Evidence)],
    reverted: &[(u32, Evidence)],
    prior: Rate,
    dir: Direction,
) -> Option<Posterior> {
    let n = g.len();
    // Per candidate: crashes and oks on new-state commits, or ruled out.
    let mut crashes = vec![0u32; n];
    let mut oks = vec![0u32; n];
    let mut dead = vec![false; n];
    for (anc, ev) in tested {
        for i in 0..n {
            let buggy = dir.buggy(anc.get(i as u32));
            let possible = match ev.hard {
                Some(present) => present == buggy,
                None => buggy || ev.crashes == 0,
            };
            if !possible {
                dead[i] = true;
            } else if buggy && ev.hard.is_none() {
                crashes[i] += ev.crashes;
                oks[i] += ev.oks;
            }
        }
    }
    // Per candidate: how many revert checks' crashes it had to explain
    // away as a revert that missed the bug.
    let mut missed = vec![0i32; n];
    for &(r, ev) in reverted {
        for i in 0..n {
            // Reverting the culprit undoes its change: the kernel is in the
            // old state under hypothesis r, in the new one under the rest.
            let buggy = dir.buggy(i as u32 != r);
            if buggy || ev.crashes > 0 {
                crashes[i] += ev.crashes;
                oks[i] += ev.oks;
            }
            if !buggy && ev.crashes > 0 {
                missed[i] += 1;
            }
        }
    }
    let base = ln_beta(prior.a, prior.b);
    let mut memo: HashMap<(u32, u32), f64> = HashMap::new();
    let mut logw = vec![f64::NEG_INFINITY; n];
    for i in 0..n {
        if !dead[i] {
            logw[i] = *memo.entry((crashes[i], oks[i])).or_insert_with(|| {
                ln_beta(prior.a + crashes[i] as f64, prior.b + oks[i] as f64) - base
            }) + missed[i] as f64 * REVERT_KEEPS_BUG.ln();
        }
    }
    let max = logw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return None;
    }
    let mut w: Vec<f64> = logw.iter().map(|l| (l - max).exp()).collect();
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= total);
    let rate = (0..n)
        .filter(|&i| w[i] > 0.0)
        .map(|i| {
            let (a, b) = (prior.a + crashes[i] as f64, prior.b + oks[i] as f64);
            w[i] * a / (a + b)
        })
        .sum();
    Some(Posterior { weight: w, rate })
}

/// Steps over which a broken commit makes its neighbours suspect.
const BROKEN_REACH: u8 = 8;

/// Each commit's chance to build and boot, from the commits that did not
/// (`broken`) and the ones that did (`works`).
///
/// Broken commits come in stretches: one commit breaks the build or the
/// boot and a later one mends it, and every commit between is broken too.
/// So a commit one step (a parent or child link) from a broken one is taken
/// to be as likely broken as not, and each further step halves the odds.
/// Without this the choice walks a stretch commit by commit, a build each,
/// as the best split moves one step at a time; with it the next pick jumps
/// clear (what `git bisect skip` does with its pseudo-random offset). A
/// commit known to work ends the stretch: nearness does not pass through it.
pub fn testable_odds(g: &Graph, broken: &[bool], works: &[bool]) -> Vec<f64> {
    let n = g.len();
    if !broken.iter().any(|&b| b) {
        return vec![1.0; n];
    }
    let far = u8::MAX;
    let mut dist: Vec<u8> = broken.iter().map(|&b| if b { 0 } else { far }).collect();
    // Children come before parents in node order, so a forward pass carries
    // nearness from children to parents and a backward pass the other way;
    // a few rounds settle paths that turn at a merge or a fork.
    for _ in 0..3 {
        for i in 0..n {
            if works[i] || dist[i] >= BROKEN_REACH {
                continue;
            }
            for &q in g.parents_of(i as u32) {
                let q = q as usize;
                if !works[q] && !broken[q] {
                    dist[q] = dist[q].min(dist[i] + 1);
                }
            }
        }
        for i in (0..n).rev() {
            if works[i] || broken[i] {
                continue;
            }
            for &q in g.parents_of(i as u32) {
                let d = dist[q as usize];
                if !works[q as usize] && d < BROKEN_REACH {
                    dist[i] = dist[i].min(d + 1);
                }
            }
        }
    }
    (0..n)
        .map(|i| {
            if broken[i] {
                0.0
            } else if works[i] || dist[i] == far {
                1.0
            } else {
                1.0 - 0.5f64.powi(dist[i] as i32)
            }
        })
        .collect()
}

/// A commit worth testing and what a run there is worth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    pub node: u32,
    /// Posterior probability that the commit is in the new state.
    pub split: f64,
    /// Bits of information one run is expected to give.
    pub information: f64,
    /// `information`, less the share of a build the run must carry.
    pub value: f64,
}

/// Runs a commit is expected to get before it is settled, when it is in
/// the new state with probability `s`: a buggy one until its first target
/// crash (`1/p`), a clean one until its ok runs leave a bug there 5% likely.
pub fn expected_runs(s: f64, p: f64, dir: Direction) -> f64 {
    let buggy = match dir {
        Direction::Cause => s,
        Direction::Fix => 1.0 - s,
    };
    let p = p.clamp(0.02, 0.999);
    let clean_runs = ((0.05f64).ln() / (1.0 - p).ln()).clamp(1.0, 20.0);
    buggy * (1.0 / p).min(20.0) + (1.0 - buggy) * clean_runs
}

/// Pick the next commit to test.
///
/// Up to [`EXACT_LIMIT`] live candidates, every live candidate (and every
/// commit tested before, for more runs) is scored exactly. Beyond that, a
/// descent finds where the ancestor mass crosses the best split: binary
/// search down the first-parent chain (mass only shrinks along it), then into
/// a merge's other parent when that one still holds enough mass. On a
/// kernel-shaped history the chain steps are single commits or merged topic
/// branches, so the split lands within a topic branch's size of ideal.
/// Walks stop at commits whose whole ancestry is ruled out.
///
/// `testable` is each commit's chance to build and boot ([`testable_odds`]);
/// 0 leaves a commit out. Builds cost: `retest` commits are built already,
/// any other commit costs `build_cost` (in runs) before its first run. A
/// new commit's information is discounted by the build's share of the runs
/// it is expected to get ([`expected_runs`]), so a built commit that tells
/// nearly as much is tested again instead of building a neighbour of it.
#[allow(clippy::too_many_arguments)]
pub fn choose(
    g: &Graph,
    weight: &[f64],
    testable: &[f64],
    retest: &[u32],
    build_cost: f64,
    p: f64,
    dir: Direction,
    walker: &mut Walker,
) -> Option<Choice> {
    let n = g.len();
    if n == 0 {
        return None;
    }
    let live: Vec<bool> = weight.iter().map(|&w| w >= LIVE).collect();
    // dead_below[i]: i and all its ancestors are ruled out. Parents have
    // larger indices, so one pass from the oldest end settles it.
    let mut dead_below = vec![false; n];
    for i in (0..n).rev() {
        dead_below[i] = !live[i]
            && g.parents_of(i as u32)
                .iter()
                .all(|&q| dead_below[q as usize]);
    }
    let live_count = live.iter().filter(|&&l| l).count();
    let mut scored: HashMap<u32, f64> = HashMap::new();
    let mut score = |x: u32, walker: &mut Walker| -> f64 {
        *scored
            .entry(x)
            .or_insert_with(|| walker.mass(g, x, weight, Some(&dead_below)).min(1.0))
    };
    let mut pool: Vec<u32> = retest.to_vec();
    if live_count <= EXACT_LIMIT {
        pool.extend((0..n as u32).filter(|&i| live[i as usize]));
    } else {
        let target = best_split(p, dir);
        let mut top = 0u32;
        for _ in 0..64 {
            let chain = g.first_parent_chain(top);
            let (mut lo, mut hi) = (0usize, chain.len());
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if score(chain[mid], walker) >= target {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            pool.push(chain[lo]);
            if lo + 1 < chain.len() {
                pool.push(chain[lo + 1]);
            }
            // Neighbours on the chain, in case the crossing is untestable:
            // out to one clear of any broken stretch nearby.
            let mut k = 1;
            while k <= 64 && (lo >= k || lo + 1 + k < chain.len()) {
                let mut found = false;
                for j in [lo.checked_sub(k), Some(lo + 1 + k)].into_iter().flatten() {
                    if j < chain.len() {
                        pool.push(chain[j]);
                        found |= testable[chain[j] as usize] >= 0.9;
                    }
                }
                if found && k >= 2 {
                    break;
                }
                k += 1;
            }
            let a = chain[lo];
            let mut deeper = None;
            for &q in g.parents_of(a) {
                if q == g.first_parent[a as usize] || q == NONE {
                    continue;
                }
                pool.push(q);
                let s = score(q, walker);
                if s >= target && deeper.is_none_or(|(_, best)| s > best) {
                    deeper = Some((q, s));
                }
            }
            match deeper {
                Some((q, _)) => top = q,
                None => break,
            }
        }
    }
    let mut best: Option<Choice> = None;
    for x in pool {
        let works = testable[x as usize];
        if works <= 0.0 {
            continue;
        }
        let s = score(x, walker);
        let mi = information(s, p, dir);
        let value = if retest.contains(&x) {
            mi
        } else {
            // Information per run spent, the build counted in runs; a
            // commit that may be broken gets its runs only when it works,
            // and a broken one costs the build and a boot for nothing.
            let runs = expected_runs(s, p, dir);
            works * mi * runs / (works * runs + build_cost.max(0.0) + (1.0 - works))
        };
        let better = match best {
            None => true,
            Some(b) => value > b.value + 1e-12,
        };
        if better {
            best = Some(Choice {
                node: x,
                split: s,
                information: mi,
                value,
            });
        }
    }
    best.filter(|b| b.information > 1e-6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::Oid;

    /// A distinct made-up commit id for index `i`.
    fn fake_oid(i: usize) -> Oid {
        let mut bytes = [0u8; 20];
        bytes[0] = (i % 251) as u8;
        bytes[1] = (i / 251) as u8;
        for (k, b) in bytes.iter_mut().enumerate().skip(2) {
            *b = (k - 1) as u8;
        }
        Oid::from_bytes(&bytes).expect("20 bytes make an oid")
    }

    fn linear(n: usize) -> Graph {
        let oids: Vec<Oid> = (0..n).map(fake_oid).collect();
        let raw: Vec<Oid> = (1..=n).map(fake_oid).collect();
        let starts: Vec<u32> = (0..=n as u32).collect();
        Graph::from_edges(oids, &starts, &raw)
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-10);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-10);
        // Beta-binomial: E[(1-p)^2] under Beta(9, 2) = (2*3)/(11*12).
        let l = (ln_beta(9.0, 4.0) - ln_beta(9.0, 2.0)).exp();
        assert!((l - 6.0 / 132.0).abs() < 1e-9, "{l}");
    }

    #[test]
    fn information_peaks_at_half_for_a_perfect_reproducer() {
        let s = best_split(0.999, Direction::Cause);
        assert!((s - 0.5).abs() < 0.02, "{s}");
        let s = best_split(0.3, Direction::Cause);
        assert!(s < 0.45 && s > 0.3, "{s}");
        let s = best_split(0.3, Direction::Fix);
        assert!(s > 0.55, "{s}");
    }

    #[test]
    fn linear_bisection_picks_the_middle_both_ways() {
        for n in [10usize, 3000, 5000] {
            let g = linear(n);
            let w = vec![1.0 / n as f64; n];
            let mut walker = Walker::new(n);
            let c = choose(
                &g,
                &w,
                &vec![1.0; n],
                &[],
                0.0,
                0.999,
                Direction::Cause,
                &mut walker,
            )
            .unwrap();
            assert!((c.split - 0.5).abs() <= 1.0 / n as f64 + 0.01, "{n}: {c:?}");
        }
    }

    #[test]
    fn a_broken_commit_makes_its_neighbours_suspect_up_to_a_working_one() {
        // 0 <- 1 <- ... <- 9 (0 = bad); 5 is broken, 7 is known to work.
        let g = linear(10);
        let mut broken = vec![false; 10];
        broken[5] = true;
        let mut works = vec![false; 10];
        works[7] = true;
        let odds = testable_odds(&g, &broken, &works);
        assert_eq!(odds[5], 0.0);
        assert_eq!((odds[4], odds[6]), (0.5, 0.5));
        assert_eq!(odds[3], 0.75);
        assert_eq!(odds[0], 1.0 - 0.5f64.powi(5));
        // The stretch ends at the working commit: beyond it, no suspicion.
        assert_eq!((odds[7], odds[8], odds[9]), (1.0, 1.0, 1.0));
        assert_eq!(testable_odds(&g, &[false; 10], &works), vec![1.0; 10]);
    }

    #[test]
    fn a_large_range_steps_clear_of_a_broken_middle() {
        // Beyond EXACT_LIMIT the choice descends the first-parent chain; a
        // broken stretch across the middle must not leave it only the
        // stretch's edge to pick from.
        let n = 5000;
        let g = linear(n);
        let w = vec![1.0 / n as f64; n];
        let mut broken = vec![false; n];
        broken[2490..2510].iter_mut().for_each(|b| *b = true);
        let odds = testable_odds(&g, &broken, &vec![false; n]);
        let mut walker = Walker::new(n);
        let c = choose(
            &g,
            &w,
            &odds,
            &[],
            2.0,
            0.999,
            Direction::Cause,
            &mut walker,
        )
        .unwrap();
        assert!(odds[c.node as usize] >= 0.9, "{c:?}");
        assert!((c.split - 0.5).abs() < 0.01, "{c:?}");
    }

    #[test]
    fn posterior_rules_out_by_crash_and_weighs_oks() {
        let g = linear(4);
        let mut w = Walker::new(4);
        let anc1 = w.ancestors(&g, 1);
        let crash = Evidence {
            crashes: 1,
            ..Default::default()
        };
        let post = posterior(
            &g,
            &[(&anc1, crash)],
            &[],
            Rate::known(0.5),
            Direction::Cause,
        )
        .unwrap();
        assert_eq!(post.weight[0], 0.0);
        assert!((post.weight[1] - 1.0 / 3.0).abs() < 1e-9);
        let ok = Evidence {
            oks: 1,
            ..Default::default()
        };
        let post = posterior(&g, &[(&anc1, ok)], &[], Rate::known(0.5), Direction::Cause).unwrap();
        assert!(post.weight[0] > post.weight[1]);
        let bad = Evidence {
            hard: Some(true),
            ..Default::default()
        };
        let good = Evidence {
            hard: Some(false),
            ..Default::default()
        };
        assert!(posterior(
            &g,
            &[(&anc1, bad), (&anc1, good)],
            &[],
            Rate::known(0.5),
            Direction::Cause
        )
        .is_none());
    }

    #[test]
    fn a_revert_check_weighs_on_the_reverted_candidate() {
        // 0 <- 1 <- 2 <- 3 (0 = bad), bad tested with 2 reverted.
        let g = linear(4);
        let known = Rate::known(0.5);
        let crash = Evidence {
            crashes: 1,
            ..Default::default()
        };
        let post = posterior(&g, &[], &[(2, crash)], known, Direction::Cause).unwrap();
        // Every other candidate expects the crash as much as any run of a
        // buggy kernel; 2 only as a revert that missed the bug.
        assert!((post.weight[2] / post.weight[0] - REVERT_KEEPS_BUG).abs() < 1e-9);
        assert!((post.weight[3] - post.weight[0]).abs() < 1e-12);
        let oks = Evidence {
            oks: 3,
            ..Default::default()
        };
        let post = posterior(&g, &[], &[(2, oks)], known, Direction::Cause).unwrap();
        // Three ok runs are what 2 predicts; the rest pay (1 - 0.5)^3.
        assert!((post.weight[0] / post.weight[2] - 0.125).abs() < 1e-6);
        // For a fix the kernel is buggy only under 2: the signs turn.
        let post = posterior(&g, &[], &[(2, crash)], known, Direction::Fix).unwrap();
        assert!((post.weight[0] / post.weight[2] - REVERT_KEEPS_BUG).abs() < 1e-9);
    }

    #[test]
    fn the_rate_is_shared_by_every_buggy_commit() {
        // 0 <- 1 <- 2 <- 3 (0 = bad). Bad crashed 3 times in 10 runs, 2
        // passed 6 runs. If 2 is buggy the rate must explain 3 crashes in
        // 16 runs: that hypothesis pays for it, and the rate comes out
        // between 3/16 and 3/10.
        let g = linear(4);
        let mut w = Walker::new(4);
        let bad = w.ancestors(&g, 0);
        let two = w.ancestors(&g, 2);
        let start = Evidence {
            crashes: 3,
            oks: 7,
            ..Default::default()
        };
        let passed = Evidence {
            oks: 6,
            ..Default::default()
        };
        let prior = Rate::from_counts(0.0, 0.0);
        let post = posterior(
            &g,
            &[(&bad, start), (&two, passed)],
            &[],
            prior,
            Direction::Cause,
        )
        .unwrap();
        // Culprits 0 and 1 leave 2 clean: equal weight, more than 2 or 3.
        assert!((post.weight[0] - post.weight[1]).abs() < 1e-12);
        assert!(post.weight[1] > 2.0 * post.weight[2]);
        assert!((post.weight[2] - post.weight[3]).abs() < 1e-12);
        // Pooled beta-binomial on the uniform prior: B(4, 14) for 3 crashes
        // in 16 runs against B(4, 8) for 3 in 10.
        let ratio = (ln_beta(4.0, 14.0) - ln_beta(4.0, 8.0)).exp();
        assert!((post.weight[2] / post.weight[1] - ratio).abs() < 1e-9);
        assert!(post.rate > 0.2 && post.rate < 0.34, "{}", post.rate);
    }
}
