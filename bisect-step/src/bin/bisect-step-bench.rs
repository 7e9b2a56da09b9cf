//! Benchmark helper for bench/bisect.sh: writes a kernel-shaped history as a
//! `git fast-import` stream, measures a choice's split, and runs simulated
//! bisections of our policy against syzbot's and plain bisection.
//!
//! ```text
//! bisect-step-bench history 1000000 80000 | git fast-import --quiet
//! bisect-step-bench split REPO BAD GOOD SHA      # |reach - N/2| / N of SHA
//! bisect-step-bench simulate 200 [50]            # accuracy, VM runs, builds
//! BENCH_SEED=11 bisect-step-bench simulate 200   # another set of scenarios
//! BENCH_REVERT_KEEPS_BUG=1 bisect-step-bench simulate 200  # reverts miss the bug
//! bisect-step-bench slots 100                    # rounds with 1..16 VM slots
//! bisect-step-bench configsearch 200              # candidates of the config search
//! ```

use bisect_step::graph::{Graph, Walker};
use bisect_step::model::Direction;
use bisect_step::sim::{
    drive, drive_baseline, start_for, Baseline, History, SimOutcome, Tester, Truth, BUILD_SECONDS,
    RUN_SECONDS,
};
use kbisect_records::Start;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::{BufWriter, Write};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let res = match args.get(1).map(String::as_str) {
        Some("history") => history(
            args.get(2)
                .and_then(|s| s.parse().ok())
                .unwrap_or(1_000_000),
            args.get(3).and_then(|s| s.parse().ok()).unwrap_or(80_000),
        ),
        Some("split") if args.len() == 6 => split(&args[2], &args[3], &args[4], &args[5]),
        Some("simulate") => simulate(
            args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200),
            args.get(3).and_then(|s| s.parse().ok()).unwrap_or(50),
        ),
        Some("slots") => slots(args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100)),
        Some("configsearch") => {
            configsearch(args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200))
        }
        _ => {
            eprintln!("usage: bisect-step-bench history N MERGES | split REPO BAD GOOD SHA | simulate CASES [RATE_0.3_CASES] | slots CASES | configsearch CASES");
            std::process::exit(2);
        }
    };
    if let Err(e) = res {
        eprintln!("bisect-step-bench: {e:#}");
        std::process::exit(1);
    }
}

/// A fast-import stream of `total` commits: a mainline that merges `merges`
/// topic branches, each forked from a mainline commit up to a few thousand
/// commits back (as maintainer trees are based on an older -rc). Commits
/// change no files: only the graph matters here. Tags v1, v2, … every 10k
/// mainline commits; branch `main`, and `mark` N = N-th commit.
fn history(total: u64, merges: u64) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(42);
    let out = std::io::stdout();
    let mut w = BufWriter::with_capacity(1 << 20, out.lock());
    let topic_total = total.saturating_sub(merges * 2);
    let avg_topic = (topic_total as f64 / merges.max(1) as f64).max(1.0);
    let mut mark = 0u64;
    let mut mainline: Vec<u64> = Vec::new();
    let mut time = 1_000_000_000u64;
    let mut commit = |w: &mut BufWriter<_>,
                      branch: &str,
                      from: Option<u64>,
                      merge: Option<u64>,
                      msg: &str|
     -> std::io::Result<u64> {
        mark += 1;
        time += 1;
        writeln!(w, "commit refs/heads/{branch}\nmark :{mark}\ncommitter Dev <dev@example.org> {time} +0000\ndata {}\n{msg}", msg.len())?;
        if let Some(f) = from {
            writeln!(w, "from :{f}")?;
        }
        if let Some(m) = merge {
            writeln!(w, "merge :{m}")?;
        }
        writeln!(w)?;
        Ok(mark)
    };
    let first = commit(&mut w, "main", None, None, "initial")?;
    mainline.push(first);
    let mut made = 1u64;
    let mut merged = 0u64;
    while made < total {
        let left_merges = merges - merged;
        let merge_now = left_merges > 0 && mainline.len() > 10 && rng.gen_bool(0.5);
        let prev = *mainline.last().expect("mainline");
        if merge_now {
            let back = rng.gen_range(1..mainline.len().min(3000));
            let fork = mainline[mainline.len() - 1 - back];
            let len = rng
                .gen_range(1..=(2.0 * avg_topic) as u64)
                .min(total - made)
                .max(1);
            let mut tip = fork;
            for i in 0..len {
                tip = commit(
                    &mut w,
                    "topic",
                    Some(tip),
                    None,
                    &format!("topic change {i}"),
                )?;
            }
            made += len;
            let m = commit(
                &mut w,
                "main",
                Some(prev),
                Some(tip),
                &format!("Merge branch topic-{merged}"),
            )?;
            mainline.push(m);
            merged += 1;
            made += 1;
        } else {
            let c = commit(
                &mut w,
                "main",
                Some(prev),
                None,
                &format!("mainline change {made}"),
            )?;
            mainline.push(c);
            made += 1;
        }
        if mainline.len().is_multiple_of(10_000) {
            writeln!(
                w,
                "reset refs/tags/v{}\nfrom :{}\n",
                mainline.len() / 10_000,
                mainline.last().expect("mainline")
            )?;
        }
    }
    writeln!(
        w,
        "reset refs/heads/topic\nfrom 0000000000000000000000000000000000000000\n"
    )?;
    w.flush()?;
    eprintln!(
        "history: {made} commits, {merged} merges, {} mainline",
        mainline.len()
    );
    Ok(())
}

/// How far a commit's ancestor count is from half the range: |reach - N/2| / N.
fn split(repo: &str, bad: &str, good: &str, sha: &str) -> anyhow::Result<()> {
    let repo = git2::Repository::open(repo)?;
    let bad = repo.revparse_single(bad)?.peel_to_commit()?.id();
    let good = repo.revparse_single(good)?.peel_to_commit()?.id();
    let g = Graph::load(&repo, bad, &[good], false)?;
    let x = g
        .node(&git2::Oid::from_str(sha)?)
        .ok_or_else(|| anyhow::anyhow!("{sha} is not in the range"))?;
    let mut w = Walker::new(g.len());
    let mut reach = 0u64;
    w.walk(&g, x, None, |_| reach += 1);
    let n = g.len() as f64;
    println!(
        "{{\"candidates\":{},\"reach\":{},\"split\":{:.6}}}",
        g.len(),
        reach,
        (reach as f64 - n / 2.0).abs() / n
    );
    Ok(())
}

#[derive(Default)]
struct Tally {
    cases: u32,
    right: u32,
    runs: u64,
    builds: u64,
    rounds: u64,
    steps: u64,
}

impl Tally {
    fn add_rounds(&mut self, right: bool, o: &SimOutcome) {
        self.add(right, o.vm_runs, o.builds);
        self.rounds += o.rounds as u64;
        self.steps += o.steps as u64;
    }
    fn rounds_line(&self, name: &str) -> String {
        let n = self.cases.max(1) as f64;
        format!(
            "{name:<8} correct {:>3}/{:<3} ({:5.1}%)  mean rounds {:6.1}  calls {:5.1}  mean VM runs {:6.1}  mean builds {:5.1}",
            self.right,
            self.cases,
            100.0 * self.right as f64 / n,
            self.rounds as f64 / n,
            self.steps as f64 / n,
            self.runs as f64 / n,
            self.builds as f64 / n
        )
    }
    fn add(&mut self, right: bool, runs: u32, builds: u32) {
        self.cases += 1;
        self.right += right as u32;
        self.runs += runs as u64;
        self.builds += builds as u64;
    }
    fn line(&self, name: &str) -> String {
        let n = self.cases.max(1) as f64;
        let (runs, builds) = (self.runs as f64 / n, self.builds as f64 / n);
        format!(
            "{name:<8} correct {:>3}/{:<3} ({:5.1}%)  mean VM runs {runs:6.1}  mean builds {builds:5.1}  machine time {:5.1} h",
            self.right,
            self.cases,
            100.0 * self.right as f64 / n,
            (runs * RUN_SECONDS + builds * BUILD_SECONDS) / 3600.0
        )
    }
}

/// One simulated scenario: a history, its truth, the start and the
/// tester's seed.
struct Scenario {
    history: History,
    truth: Truth,
    start: Start,
    seed: u64,
}

/// The random scenario of `case`, drawn from `rng` (at reproduction rate
/// 0.3 when `fixed_rate`): a kernel-shaped history, an unrelated crash
/// over a stretch, a broken stretch away from the culprit.
fn scenario(rng: &mut StdRng, case: u32, fixed_rate: bool) -> anyhow::Result<Scenario> {
    let mut h = History::in_memory();
    let main = h.kernel_like(rng.gen_range(150..400), 3, 6, case as u64)?;
    let n = h.commits.len();
    let bad = *main.last().expect("mainline");
    let culprit = rng.gen_range(1..n);
    let mut truth = Truth::new(culprit);
    truth.rate = if fixed_rate {
        0.3
    } else {
        rng.gen_range(0.1..=1.0)
    };
    // BENCH_REVERT_KEEPS_BUG=1: every culprit's revert leaves the bug, the
    // case the revert check's evidence must not turn into a wrong answer.
    truth.revert_keeps_bug = std::env::var("BENCH_REVERT_KEEPS_BUG").is_ok_and(|v| v == "1");
    // An unrelated crash over a stretch, in 0–50% of its runs.
    truth.unrelated_rate = rng.gen_range(0.0..0.5);
    let a = rng.gen_range(0..n);
    truth.unrelated = (a..(a + n / 3).min(n)).collect();
    // A broken stretch (build or boot), away from the culprit.
    let b = rng.gen_range(1..n);
    let stretch: Vec<usize> = (b..(b + 8).min(n))
        .filter(|&x| x.abs_diff(culprit) > 10 && x != bad && x != main[0])
        .collect();
    if rng.gen_bool(0.5) {
        truth.unbuildable = stretch.into_iter().collect();
    } else {
        truth.unbootable = stretch.into_iter().collect();
    }
    let start = start_for(&h, bad, &[main[0]], Direction::Cause);
    Ok(Scenario {
        history: h,
        truth,
        start,
        seed: rng.gen(),
    })
}

/// Our policy's start as kbisect gives it for a cause: the culprit is
/// reverted on bad and tested before the result. The baselines have no
/// revert check (syzbot's reports only say whether the revert applies).
fn as_kbisect(start: &Start) -> Start {
    Start {
        revert_check: true,
        ..start.clone()
    }
}

/// The scenarios' seed: BENCH_SEED draws another set, a check that a
/// policy tuned on the default set holds on histories it was not tuned on.
fn bench_seed() -> u64 {
    std::env::var("BENCH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7)
}

/// Per slot count: accuracy, rounds, VM runs and builds of ours and of
/// syzbot's fixed policy, over the same `cases` random scenarios, and how
/// our rounds shrink against one slot. A round is a wave of builds and
/// then of at most one run per slot (`sim::waves`: with one slot a test's
/// runs are rounds one after another); calls are bisect-step decisions
/// (one per round with several slots, one per tested commit for syzbot).
fn slots(cases: u32) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(bench_seed());
    let scenarios: Vec<Scenario> = (0..cases)
        .map(|case| scenario(&mut rng, case, false))
        .collect::<anyhow::Result<_>>()?;
    let t0 = std::time::Instant::now();
    println!("simulated bisections: {cases} random scenarios (rate 0.1-1.0, unrelated crashes 0-50%, broken stretches, merges)");
    let mut our_rounds_at_1 = None;
    for n in [1u32, 2, 4, 8, 16] {
        let mut ours = Tally::default();
        let mut syzbot = Tally::default();
        for sc in &scenarios {
            let h = &sc.history;
            let mut t = Tester::new(h, sc.truth.clone(), sc.seed);
            let o = drive(h, as_kbisect(&sc.start), &mut t, n, 2000)?;
            ours.add_rounds(o.culprit == Some(sc.truth.culprit), &o);
            let mut t = Tester::new(h, sc.truth.clone(), sc.seed);
            let o = drive_baseline(h, sc.start.clone(), &mut t, Baseline::Syzbot, n, 2000)?;
            syzbot.add_rounds(o.culprit == Some(sc.truth.culprit), &o);
        }
        let base = *our_rounds_at_1.get_or_insert(ours.rounds);
        println!("slots {n:>2}:");
        println!("  {}", ours.rounds_line("ours"));
        println!("  {}", syzbot.rounds_line("syzbot"));
        println!(
            "  ours: rounds {:.2}x those with 1 slot; syzbot's rounds {:.2}x ours",
            ours.rounds as f64 / base.max(1) as f64,
            syzbot.rounds as f64 / ours.rounds.max(1) as f64
        );
    }
    println!("({:.1}s)", t0.elapsed().as_secs_f64());
    Ok(())
}

/// `cases` random scenarios (plus `at03` at reproduction rate 0.3), each
/// bisected by the three policies with the same tester seed.
fn simulate(cases: u32, at03_cases: u32) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(bench_seed());
    let mut all = [Tally::default(), Tally::default(), Tally::default()];
    let mut at03 = [Tally::default(), Tally::default(), Tally::default()];
    let t0 = std::time::Instant::now();
    for case in 0..cases + at03_cases {
        let fixed_rate = case >= cases;
        let Scenario {
            history: h,
            truth,
            start,
            seed,
        } = scenario(&mut rng, case, fixed_rate)?;
        let culprit = truth.culprit;
        if let Some(only) = std::env::var("BENCH_CASE")
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
        {
            if only != case {
                continue;
            }
            std::env::set_var("SIM_TRACE", "1");
        }
        let mut results = Vec::new();
        {
            let mut t = Tester::new(&h, truth.clone(), seed);
            let o = drive(&h, as_kbisect(&start), &mut t, 1, 2000)?;
            if o.culprit != Some(culprit) && std::env::var_os("BENCH_VERBOSE").is_some() {
                eprintln!("case {case}: wrong: truth {culprit} rate {:.2} unrelated {:.2} -> {} {:?} conf {:.3} p {:?} revert {:?}", truth.rate, truth.unrelated_rate, o.result.status, o.culprit, o.result.confidence, o.result.repro_rate, o.result.revert_check);
            }
            results.push((o.culprit == Some(culprit), o.vm_runs, o.builds));
        }
        for policy in [Baseline::Syzbot, Baseline::Plain] {
            let mut t = Tester::new(&h, truth.clone(), seed);
            let o = drive_baseline(&h, start.clone(), &mut t, policy, 1, 2000)?;
            results.push((o.culprit == Some(culprit), o.vm_runs, o.builds));
        }
        let bucket = if fixed_rate { &mut at03 } else { &mut all };
        for (tally, (right, runs, builds)) in bucket.iter_mut().zip(results) {
            tally.add(right, runs, builds);
        }
    }
    let names = ["ours", "syzbot", "plain"];
    println!("simulated bisections: {cases} random scenarios (rate 0.1-1.0, unrelated crashes 0-50%, broken stretches, merges)");
    for (t, n) in all.iter().zip(names) {
        println!("  {}", t.line(n));
    }
    println!("at reproduction rate 0.3: {at03_cases} scenarios");
    for (t, n) in at03.iter().zip(names) {
        println!("  {}", t.line(n));
    }
    println!(
        "  ours/syzbot VM runs at rate 0.3: {:.2}x",
        at03[0].runs as f64 / at03[1].runs.max(1) as f64
    );
    println!("({:.1}s)", t0.elapsed().as_secs_f64());
    Ok(())
}

/// The config search's own cost, in candidates (a build and a round of runs
/// each), over `cases` random placements of the options a bug needs among
/// the differing ones: 25 (the demo's big config), 300, and 2,700 (syzbot's
/// 6.1 KASAN config against its baseline), 1, 2 or 5 needed; with the
/// default budget and without one. A needed option's dependency is an
/// option too (it is then needed as well), so this is the search alone.
fn configsearch(cases: usize) -> anyhow::Result<()> {
    use bisect_step::configsearch::{reduce, Answer, Reduced};
    use bisect_step::policy::CONFIG_MAX_CANDIDATES;
    let mut rng = StdRng::seed_from_u64(
        std::env::var("BENCH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(7),
    );
    println!("config search: candidates asked (mean, max), and how often the kept set is exactly the needed one");
    println!(
        "{:>8} {:>7} {:>22} {:>22}",
        "options",
        "needed",
        format!("budget {CONFIG_MAX_CANDIDATES}"),
        "no budget"
    );
    for count in [25usize, 300, 2700] {
        for needed in [1usize, 2, 5] {
            let mut cols = Vec::new();
            for max in [CONFIG_MAX_CANDIDATES, u32::MAX] {
                let (mut total, mut most, mut exact, mut kept_sum) = (0u64, 0u32, 0usize, 0usize);
                for _ in 0..cases {
                    let mut need: Vec<usize> = Vec::new();
                    while need.len() < needed {
                        let x = rng.gen_range(0..count);
                        if !need.contains(&x) {
                            need.push(x);
                        }
                    }
                    need.sort();
                    let mut asked = 0u32;
                    let r = reduce(count, max, &mut |c| {
                        asked += 1;
                        Some(if need.iter().all(|n| c.contains(n)) {
                            Answer::Reproduces(c.to_vec())
                        } else {
                            Answer::DoesNot
                        })
                    });
                    let Reduced::Done { kept, .. } = r else {
                        anyhow::bail!("the search asked for an untested candidate");
                    };
                    total += asked as u64;
                    most = most.max(asked);
                    kept_sum += kept.len();
                    if kept == need {
                        exact += 1;
                    }
                }
                cols.push(format!(
                    "{:>5.1} {:>4} {:>3.0}% k={:<5.1}",
                    total as f64 / cases as f64,
                    most,
                    100.0 * exact as f64 / cases as f64,
                    kept_sum as f64 / cases as f64
                ));
            }
            println!("{count:>8} {needed:>7} {:>22} {:>22}", cols[0], cols[1]);
        }
    }
    Ok(())
}
