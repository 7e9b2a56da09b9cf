//! The config search: a search over the options on which two configs
//! differ at the bad commit, with the same machinery as the commit
//! bisection (journal, resume, flake-aware verdicts, skip on a failed
//! build).
//!
//! Two uses. Minimisation (`kbisect --config BIG`): the smallest config
//! between a baseline and BIG that still reproduces the bug, which the
//! commits are then bisected with (builds of it are what a bisection
//! spends its time on). Config bisection (`--config-bisect`): the options
//! whose change from a good config to a bad one brings the bug in.
//!
//! Configs are compared as `olddefconfig` leaves them at the bad commit
//! (the full and baseline builds' `.config`), so an option Kconfig turns
//! on or off counts as what it becomes; a candidate is the baseline with
//! some differing options set as the full config has them, and goes
//! through `olddefconfig` again when kbuild builds it (a `choice` or a
//! dependency is never left broken: Kconfig settles it, and the search
//! takes the candidate as what it became). The search itself is
//! [`reduce_first`]: first a guess, the baseline with the options that
//! build the code the crash ran ([`crate::suspects`]); then [`reduce`], a
//! binary search for each needed option, over what the guess became when
//! it reproduced, else over all the differing options. Its verdict on
//! each candidate is [`crate::policy::config_judgement`].
//!
//! Files live beside the journal, in `<journal>.configs/`: the full and
//! baseline configs as given, each candidate, and each build's resolved
//! `.config`, so the journal and that directory alone resume the search.

use crate::facts::Facts;
use crate::history::CommitSource;
use crate::policy::{
    config_judgement, config_required_rate, ConfigJudgement, ConfigRef, Policy, Step, Test,
};
use crate::suspects::Suspect;
use anyhow::{anyhow, Context, Result};
use git2::{Oid, Repository};
use kbisect_records::{ConfigOutcome, ConfigSearch, ConfigSearchMode};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The id of the full config's builds and runs.
pub const FULL: &str = "full";
/// The id of the baseline's.
pub const BASELINE: &str = "baseline";
/// At most this many kept options are listed in a minimisation's result.
const LISTED_OPTIONS: usize = 50;

/// Where the search keeps its files: `<journal>.configs/`.
#[derive(Debug, Clone)]
pub struct Store {
    pub dir: PathBuf,
}

impl Store {
    /// The store of a journal.
    pub fn of_journal(journal: &Path) -> Store {
        let mut name = journal.as_os_str().to_owned();
        name.push(".configs");
        Store {
            dir: PathBuf::from(name),
        }
    }

    /// The path of a config by id (`full`, `baseline`, a candidate).
    pub fn config_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.config"))
    }

    /// Where the `.config` a build of config `id` ended with is kept.
    fn resolved_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.resolved"))
    }

    /// Keep the search's inputs: copies of the full config and of a
    /// baseline file, so the journal does not depend on the user's files.
    /// A store left by an earlier journal of the same name is emptied
    /// first: its resolved configs are not this search's.
    pub fn keep_inputs(&self, search: &ConfigSearch) -> Result<()> {
        if self.dir.is_dir() {
            std::fs::remove_dir_all(&self.dir)
                .with_context(|| format!("cannot empty {}", self.dir.display()))?;
        }
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot make {}", self.dir.display()))?;
        copy(Path::new(&search.full), &self.config_path(FULL))?;
        if Path::new(&search.baseline).is_file() {
            copy(Path::new(&search.baseline), &self.config_path(BASELINE))?;
        }
        Ok(())
    }

    /// What kbuild configures the baseline with: its copy, or the target.
    fn baseline_build_config(&self, search: &ConfigSearch) -> String {
        if Path::new(&search.baseline).is_file() || self.config_path(BASELINE).is_file() {
            path_string(&self.config_path(BASELINE))
        } else {
            search.baseline.clone()
        }
    }

    /// The `.config` a build of `id` at the bad commit ended with: the
    /// kept copy, else the build record's file, copied on first read (the
    /// artifact cache may evict it before the search is over).
    fn resolved(&self, id: &str, built: Option<&str>) -> Option<String> {
        let kept = self.resolved_path(id);
        if let Ok(t) = std::fs::read_to_string(&kept) {
            return Some(t);
        }
        let text = std::fs::read_to_string(built?).ok()?;
        let tmp = kept.with_extension("resolved.tmp");
        if std::fs::write(&tmp, &text).is_ok() {
            let _ = std::fs::rename(&tmp, &kept);
        }
        Some(text)
    }

    /// The options that build the crash's code ([`crate::suspects`]): kept
    /// in `suspects.tsv` once found (the tree search takes seconds, and
    /// the answer depends only on the journal's first crash and the tree),
    /// found with `find` the first time.
    fn suspects(&self, find: impl FnOnce() -> Vec<Suspect>) -> Vec<Suspect> {
        let path = self.dir.join("suspects.tsv");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return text
                .lines()
                .filter_map(|l| l.split_once('\t'))
                .map(|(symbol, file)| Suspect {
                    symbol: symbol.into(),
                    file: file.into(),
                })
                .collect();
        }
        let found = find();
        let text: String = found
            .iter()
            .map(|s| format!("{}\t{}\n", s.symbol, s.file))
            .collect();
        let tmp = path.with_extension("tsv.tmp");
        if std::fs::create_dir_all(&self.dir).is_ok() && std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
        found
    }

    /// Write a candidate's config (once: its name is its content's id).
    fn write_candidate(&self, id: &str, text: &str) -> Result<PathBuf> {
        let path = self.config_path(id);
        if !path.is_file() {
            std::fs::create_dir_all(&self.dir)
                .with_context(|| format!("cannot make {}", self.dir.display()))?;
            let tmp = path.with_extension("config.tmp");
            std::fs::write(&tmp, text)
                .and_then(|_| std::fs::rename(&tmp, &path))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(path)
    }
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    let text = std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    std::fs::write(to, text).with_context(|| format!("cannot write {}", to.display()))
}

fn path_string(p: &Path) -> String {
    p.display().to_string()
}

/// A config's options: symbol → value (`n` for "is not set"; an absent
/// symbol is `n` too).
pub fn options(text: &str) -> BTreeMap<String, String> {
    kbuild::config::assignments(text).into_iter().collect()
}

fn value<'a>(opts: &'a BTreeMap<String, String>, sym: &str) -> &'a str {
    opts.get(sym).map(String::as_str).unwrap_or("n")
}

fn line(sym: &str, val: &str) -> String {
    if val == "n" {
        format!("# {sym} is not set")
    } else {
        format!("{sym}={val}")
    }
}

/// One option on which the two configs differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    pub symbol: String,
    /// Its value in the full config, and in the baseline.
    pub full: String,
    pub base: String,
}

/// The search space: the resolved baseline and the differing options, in
/// symbol order (related options sit together, so a halving keeps them
/// together more often than not).
#[derive(Debug, Clone)]
pub struct Space {
    base_text: String,
    pub diffs: Vec<Diff>,
}

impl Space {
    /// The space between a resolved baseline and a resolved full config.
    /// Options the guest needs (kbuild's default fragment) that the full
    /// config sets are not searched: every candidate keeps them.
    pub fn new(base_text: &str, full_text: &str) -> Space {
        let base = options(base_text);
        let full = options(full_text);
        let pinned: BTreeSet<String> =
            kbuild::config::assignments(kbuild::config::DEFAULT_FRAGMENT)
                .into_iter()
                .filter(|(_, v)| v != "n")
                .map(|(s, _)| s)
                .collect();
        let mut pins = String::new();
        let mut diffs = Vec::new();
        let symbols: BTreeSet<&String> = base.keys().chain(full.keys()).collect();
        for sym in symbols {
            let (f, b) = (value(&full, sym), value(&base, sym));
            if f == b {
                continue;
            }
            if pinned.contains(sym.as_str()) && f != "n" {
                pins.push_str(&line(sym, f));
                pins.push('\n');
                continue;
            }
            diffs.push(Diff {
                symbol: sym.clone(),
                full: f.to_string(),
                base: b.to_string(),
            });
        }
        let base_text = merge(base_text, &pins);
        Space { base_text, diffs }
    }

    /// The candidate config: the baseline with the options `subset`
    /// (indices into [`Space::diffs`]) as the full config has them.
    pub fn candidate_text(&self, subset: &[usize]) -> String {
        let mut frag = String::new();
        for &i in subset {
            let d = &self.diffs[i];
            frag.push_str(&line(&d.symbol, &d.full));
            frag.push('\n');
        }
        merge(&self.base_text, &frag)
    }

    /// A candidate's id: 16 hex digits of its text's digest.
    pub fn candidate_id(&self, subset: &[usize]) -> String {
        let digest = Sha256::digest(self.candidate_text(subset).as_bytes());
        kbuild::config::hex(&digest)[..16].to_string()
    }

    /// The differing options a resolved config has as the full one does:
    /// what a candidate became after olddefconfig.
    pub fn effective(&self, resolved: &str) -> Vec<usize> {
        let have = options(resolved);
        (0..self.diffs.len())
            .filter(|&i| value(&have, &self.diffs[i].symbol) == self.diffs[i].full)
            .collect()
    }

    /// The config lines of the options `subset` keeps.
    pub fn lines(&self, subset: &[usize]) -> Vec<String> {
        subset
            .iter()
            .map(|&i| line(&self.diffs[i].symbol, &self.diffs[i].full))
            .collect()
    }
}

fn merge(base: &str, fragment: &str) -> String {
    kbuild::config::merge(
        base,
        &[kbuild::config::Fragment {
            name: "config search".into(),
            text: fragment.into(),
        }],
    )
}

/// What the search knows of a candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// It reproduces; these differing options are what it became.
    Reproduces(Vec<usize>),
    DoesNot,
}

/// Where the search stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reduced {
    /// This candidate (a subset of the differing options) must be tested.
    Test(Vec<usize>),
    /// Done: the smallest reproducing set found, and the candidate that
    /// showed it (None: the full config itself).
    Done {
        kept: Vec<usize>,
        by: Option<Vec<usize>>,
        budget_hit: bool,
    },
}

/// Find the needed options one at a time, each by binary search: the
/// smallest prefix `D[0..m]` of the differing options that, with the
/// options found so far, reproduces ends with a needed option, `D[m-1]`;
/// it is kept, and the next is looked for among the options before it
/// (the kept options with `D[0..m-1]` reproduce: that candidate was just
/// seen to), until the kept options alone reproduce. k needed options of
/// N cost about k·log2(N) + k candidates (delta debugging by complements
/// took several times that for k ≥ 2 in bench/configsearch.sh). A flaky
/// miss only keeps an option too many, never drops a needed one.
///
/// The full config (all `count` options) is known to reproduce and the
/// baseline (none) not to. `answer` says what is known of a candidate
/// (None: untested); the search is replayed from the start on every call,
/// so its state is the journal's alone. At most `max` candidates are
/// asked; then the smallest reproducing candidate seen is the answer.
pub fn reduce(
    count: usize,
    max: u32,
    answer: &mut dyn FnMut(&[usize]) -> Option<Answer>,
) -> Reduced {
    // The smallest reproducing candidate seen, and what it became.
    let mut best: Option<(Vec<usize>, Vec<usize>)> = None;
    let mut asked = 0u32;
    let done = |best: Option<(Vec<usize>, Vec<usize>)>, budget_hit| match best {
        Some((cand, became)) => Reduced::Done {
            kept: became,
            by: Some(cand),
            budget_hit,
        },
        None => Reduced::Done {
            kept: (0..count).collect(),
            by: None,
            budget_hit,
        },
    };
    // The candidate of the options kept and D[0..m].
    fn with(kept: &[usize], m: usize) -> Vec<usize> {
        let mut c: Vec<usize> = (0..m).chain(kept.iter().copied()).collect();
        c.sort_unstable();
        c.dedup();
        c
    }
    let mut kept: Vec<usize> = Vec::new();
    // Invariant: `kept` with D[0..hi] reproduces.
    let mut hi = count;
    loop {
        // D[0..lo] with `kept` is known not to reproduce, D[0..top] to.
        let (mut lo, mut top) = (0, hi);
        if !kept.is_empty() {
            if asked >= max {
                return done(best, true);
            }
            asked += 1;
            let cand = with(&kept, 0);
            match answer(&cand) {
                None => return Reduced::Test(cand),
                Some(Answer::Reproduces(became)) => return done(Some((cand, became)), false),
                Some(Answer::DoesNot) => {}
            }
        }
        while top - lo > 1 {
            let mid = lo + (top - lo) / 2;
            if asked >= max {
                return done(best, true);
            }
            asked += 1;
            let cand = with(&kept, mid);
            match answer(&cand) {
                None => return Reduced::Test(cand),
                Some(Answer::Reproduces(became)) => {
                    top = mid;
                    best = Some((cand, became));
                }
                Some(Answer::DoesNot) => lo = mid,
            }
        }
        // D[top-1] makes the difference: needed.
        if top == 0 {
            return done(best, false);
        }
        kept.push(top - 1);
        hi = top - 1;
        if hi == 0 {
            // `kept` alone reproduces: it is the last candidate that did.
            return match &best {
                Some((c, _)) if *c == with(&kept, 0) => done(best, false),
                _ => {
                    let cand = with(&kept, 0);
                    match answer(&cand) {
                        None => Reduced::Test(cand),
                        Some(Answer::Reproduces(became)) => done(Some((cand, became)), false),
                        Some(Answer::DoesNot) => done(best, false),
                    }
                }
            };
        }
    }
}

/// [`reduce`], after a guess: the candidate `first` (the options that
/// build the crash's code) is asked before anything else. When it
/// reproduces, the search goes on over what it became only (a handful of
/// options instead of hundreds: each candidate after it is about the
/// baseline's size); when it does not, it cost one small build and the
/// search goes over all `count` options. A guess of more than half of them
/// saves nothing and is not asked.
pub fn reduce_first(
    count: usize,
    first: &[usize],
    max: u32,
    answer: &mut dyn FnMut(&[usize]) -> Option<Answer>,
) -> Reduced {
    if !guess_is_asked(first, count) || max == 0 {
        return reduce(count, max, answer);
    }
    let became = match answer(first) {
        None => return Reduced::Test(first.to_vec()),
        Some(Answer::DoesNot) => return reduce(count, max - 1, answer),
        Some(Answer::Reproduces(became)) => became,
    };
    if became.is_empty() {
        return Reduced::Done {
            kept: became,
            by: Some(first.to_vec()),
            budget_hit: false,
        };
    }
    // The sub-search's option i is `became[i]`; its answers' `became` are
    // passed through as they are (indices of all the options), as
    // `reduce` only hands them back.
    let to_all = |sub: &[usize]| -> Vec<usize> { sub.iter().map(|&i| became[i]).collect() };
    let sub = reduce(became.len(), max - 1, &mut |c| answer(&to_all(c)));
    match sub {
        Reduced::Test(c) => Reduced::Test(to_all(&c)),
        Reduced::Done {
            by: None,
            budget_hit,
            ..
        } => Reduced::Done {
            kept: became.clone(),
            by: Some(first.to_vec()),
            budget_hit,
        },
        Reduced::Done {
            kept,
            by: Some(c),
            budget_hit,
        } => Reduced::Done {
            kept,
            by: Some(to_all(&c)),
            budget_hit,
        },
    }
}

/// Is a guess of the options `first` of `count` worth a candidate? Not
/// when empty, nor when it holds more than half of them.
fn guess_is_asked(first: &[usize], count: usize) -> bool {
    !first.is_empty() && first.len() * 2 <= count
}

/// The search's settings and files, from the start record.
#[derive(Debug, Clone)]
pub struct Setup {
    pub search: ConfigSearch,
    pub store: Store,
}

/// What the config search asks for next, or how it ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigStep {
    /// A step of the policy on the full config's facts (its start-phase
    /// test, or why the bisection cannot start: no bug with it, not
    /// buildable), tests tagged with the full config.
    Full(Step),
    /// A test of the baseline or of a candidate.
    Test(Test, String),
    /// The baseline cannot be built or booted, or (config bisection) has
    /// the bug already: named in `message`.
    BadBaseline { message: String },
    /// Minimisation done: bisect the commits with this config.
    Bisect {
        config: ConfigRef,
        outcome: ConfigOutcome,
        log: Vec<String>,
    },
    /// Config bisection done.
    Found {
        outcome: ConfigOutcome,
        log: Vec<String>,
    },
}

/// The config search's next step from the facts (see [`ConfigStep`]).
pub fn plan(
    setup: &Setup,
    root: &Facts,
    policy: &Policy<'_>,
    src: &dyn CommitSource,
) -> Result<ConfigStep> {
    let bad = policy.bad;
    let store = &setup.store;
    let full_ref = ConfigRef {
        id: FULL.into(),
        build_config: path_string(&store.config_path(FULL)),
    };
    // The full config must reproduce, and its rate sets the bar.
    let full_facts = root.config(FULL);
    let full_policy = Policy {
        facts: full_facts,
        ..*policy
    };
    if let Some(step) = full_policy.start_phase() {
        return Ok(ConfigStep::Full(tag(step, &full_ref)));
    }
    let ff = full_facts.of(bad);
    // A rate given on the command line (`--repro-rate`) stands for the
    // full config's, as it stands for the bad end's without a search.
    let full_rate = policy.start.repro_rate.unwrap_or_else(|| {
        ff.evidence.crashes as f64 / (ff.evidence.crashes + ff.evidence.oks).max(1) as f64
    });
    let required = config_required_rate(full_rate);
    let runs_left = |f: &crate::facts::CommitFacts| config_judgement(f, required);

    let base_ref = ConfigRef {
        id: BASELINE.into(),
        build_config: store.baseline_build_config(&setup.search),
    };
    let bf = root.config(BASELINE).of(bad);
    let mode = setup.search.mode;
    let base_repro = match runs_left(&bf) {
        ConfigJudgement::Runs(n) => {
            return Ok(ConfigStep::Test(
                config_test(bad, n, policy.slots, base_ref),
                "testing the baseline config".into(),
            ))
        }
        _ if bf.untestable().is_some() => {
            return Ok(ConfigStep::BadBaseline {
                message: format!(
                    "the baseline config {} cannot be tested at {bad}: {}",
                    setup.search.baseline,
                    crate::render::untestable_text(&bf.untestable().expect("untestable"))
                ),
            })
        }
        j => j == ConfigJudgement::Reproduces,
    };
    let resolved = |id: &str, f: &crate::facts::CommitFacts| {
        store.resolved(id, f.config_file.as_deref()).ok_or_else(|| {
            anyhow!("the build of the {id} config at {bad} left no .config to compare")
        })
    };
    let space = Space::new(&resolved(BASELINE, &bf)?, &resolved(FULL, &ff)?);
    let mut outcome = ConfigOutcome {
        mode,
        differing: space.diffs.len() as u32,
        full_rate: Some(round3(full_rate)),
        required_rate: Some(round3(required)),
        ..Default::default()
    };
    if base_repro {
        if mode == ConfigSearchMode::Bisect {
            return Ok(ConfigStep::BadBaseline {
                message: format!(
                    "the good config {} already has the bug at {bad}: nothing to bisect",
                    setup.search.baseline
                ),
            });
        }
        fill(&mut outcome, &space, &[], Some(BASELINE), root, bad, store);
        let log = vec![minimized_line(&outcome)];
        return Ok(ConfigStep::Bisect {
            config: base_ref,
            outcome,
            log,
        });
    }
    let max = setup
        .search
        .max_candidates
        .unwrap_or(crate::policy::CONFIG_MAX_CANDIDATES);
    // The guess: the differing options the full config turns on that
    // build the crash's code.
    let suspects = store.suspects(|| crate::suspects::suspects(src, bad, &ff.bug_frames));
    let first: Vec<usize> = (0..space.diffs.len())
        .filter(|&i| {
            let d = &space.diffs[i];
            d.full != "n" && suspects.iter().any(|s| s.symbol == d.symbol)
        })
        .collect();
    let guessed = guess_is_asked(&first, space.diffs.len());
    if guessed {
        outcome.suspects = space.lines(&first);
    }
    let mut missing_resolved = None;
    let mut pending = None;
    let reduced = reduce_first(space.diffs.len(), &first, max, &mut |cand| {
        let id = space.candidate_id(cand);
        let f = root.config(&id).of(bad);
        match runs_left(&f) {
            ConfigJudgement::Runs(n) => {
                pending = Some((id, n, f.evidence));
                None
            }
            ConfigJudgement::DoesNot => Some(Answer::DoesNot),
            ConfigJudgement::Reproduces => match store.resolved(&id, f.config_file.as_deref()) {
                Some(text) => Some(Answer::Reproduces(space.effective(&text))),
                None => {
                    missing_resolved.get_or_insert(id);
                    Some(Answer::Reproduces(cand.to_vec()))
                }
            },
        }
    });
    // What the guess showed, from its own facts (None while untested).
    let first_answer = if guessed {
        match runs_left(&root.config(&space.candidate_id(&first)).of(bad)) {
            ConfigJudgement::Reproduces => Some(true),
            ConfigJudgement::DoesNot => Some(false),
            ConfigJudgement::Runs(_) => None,
        }
    } else {
        None
    };
    outcome.suspects_reproduced = first_answer;
    if let Some(id) = missing_resolved {
        kbisect_records::say!("bisect-step: warning: the build of candidate config {id} left no .config; taking it as asked");
    }
    match reduced {
        Reduced::Test(cand) => {
            let (id, runs, seen) = pending.expect("an untested candidate");
            let path = store.write_candidate(&id, &space.candidate_text(&cand))?;
            let r = ConfigRef {
                id: id.clone(),
                build_config: path_string(&path),
            };
            let line = if seen.is_empty() && guessed && cand == first {
                format!(
                    "testing config candidate {id}: the {} of {} differing options that build the crash's code ({})",
                    cand.len(),
                    space.diffs.len(),
                    suspects_text(&suspects, &space, &first)
                )
            } else if seen.is_empty() {
                format!(
                    "testing config candidate {id}: {} of {} differing options",
                    cand.len(),
                    space.diffs.len()
                )
            } else {
                format!(
                    "more runs of config candidate {id} (the bug in {} of {} so far)",
                    seen.crashes,
                    seen.crashes + seen.oks
                )
            };
            Ok(ConfigStep::Test(
                config_test(bad, runs, policy.slots, r),
                line,
            ))
        }
        Reduced::Done {
            kept,
            by,
            budget_hit,
        } => {
            let (id, config) = match &by {
                None => (FULL.to_string(), full_ref),
                Some(c) => {
                    let id = space.candidate_id(c);
                    let build_config = path_string(&store.config_path(&id));
                    (id.clone(), ConfigRef { id, build_config })
                }
            };
            outcome.budget_hit = budget_hit;
            fill(&mut outcome, &space, &kept, Some(&id), root, bad, store);
            let mut log = Vec::new();
            match first_answer {
                Some(true) => log.push(format!(
                    "config search: the options that build the crash's code reproduce it ({})",
                    suspects_text(&suspects, &space, &first)
                )),
                Some(false) => log.push(format!(
                    "config search: the options that build the crash's code ({}) do not reproduce it alone; searched all {} differing options",
                    suspects_text(&suspects, &space, &first),
                    space.diffs.len()
                )),
                None => {}
            }
            if budget_hit {
                log.push(format!(
                    "config search: stopped at its budget of {max} candidates"
                ));
            }
            if mode == ConfigSearchMode::Bisect {
                log.push(format!(
                    "config bisection: the bug comes with {}",
                    outcome.options.join(", ")
                ));
                return Ok(ConfigStep::Found { outcome, log });
            }
            log.push(minimized_line(&outcome));
            Ok(ConfigStep::Bisect {
                config,
                outcome,
                log,
            })
        }
    }
}

/// The guessed options with the files they build, for the log:
/// `CONFIG_FOO for fs/foo/bar.c, …` (at most five named).
fn suspects_text(suspects: &[Suspect], space: &Space, first: &[usize]) -> String {
    let mut named: Vec<String> = first
        .iter()
        .take(5)
        .map(|&i| {
            let sym = &space.diffs[i].symbol;
            match suspects.iter().find(|s| &s.symbol == sym) {
                Some(s) => format!("{sym} for {}", s.file),
                None => sym.clone(),
            }
        })
        .collect();
    if first.len() > 5 {
        named.push(format!("{} more", first.len() - 5));
    }
    named.join(", ")
}

/// The log's line for a minimisation.
fn minimized_line(o: &ConfigOutcome) -> String {
    let secs = |s: Option<f64>| s.map(|s| format!("{s:.0} s")).unwrap_or("?".into());
    format!(
        "config minimized: {} of {} differing options kept (build {} → {})",
        o.kept,
        o.differing,
        secs(o.full_build_seconds),
        secs(o.kept_build_seconds)
    )
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The outcome's counts: what was kept, and what the search cost.
fn fill(
    o: &mut ConfigOutcome,
    space: &Space,
    kept: &[usize],
    kept_id: Option<&str>,
    root: &Facts,
    bad: Oid,
    store: &Store,
) {
    o.kept = kept.len() as u32;
    let mut lines = space.lines(kept);
    if o.mode == ConfigSearchMode::Minimize {
        lines.truncate(LISTED_OPTIONS);
    }
    o.options = lines;
    o.candidates = 0;
    for f in root.by_config.values() {
        let cf = f.of(bad);
        if cf.builds > 0 {
            o.candidates += 1;
        }
        o.builds += cf.builds - cf.cached_builds;
        o.vm_runs += cf.vm_runs;
        o.seconds += cf.build_seconds + cf.run_seconds;
    }
    o.seconds = round3(o.seconds);
    let built = |id: &str| {
        let f = root.config(id).of(bad);
        (f.builds > f.cached_builds).then_some(round3(f.build_seconds))
    };
    o.full_build_seconds = built(FULL);
    if let Some(id) = kept_id {
        o.kept_build_seconds = built(id);
        o.file = Some(path_string(&store.config_path(id)));
        if id == BASELINE && !store.config_path(BASELINE).is_file() {
            o.file = None;
        }
    }
}

/// A round of `more` runs of config `r` at the bad commit.
fn config_test(bad: Oid, more: u32, slots: u32, r: ConfigRef) -> Test {
    Test {
        commit: bad,
        config: Some(r),
        ..crate::policy::config_round(more, slots)
    }
}

/// The step with every test built with config `r`.
pub fn tag(step: Step, r: &ConfigRef) -> Step {
    match step {
        Step::Test(ts) => Step::Test(
            ts.into_iter()
                .map(|t| Test {
                    config: Some(r.clone()),
                    ..t
                })
                .collect(),
        ),
        done => done,
    }
}

/// The architecture a config is for, when it says: its header
/// (`# Linux/x86_64 6.1.0 Kernel Configuration`) or an arch symbol.
pub fn config_arch(text: &str) -> Option<String> {
    for l in text.lines().take(10) {
        if let Some(rest) = l.strip_prefix("# Linux/") {
            return rest.split_whitespace().next().map(str::to_string);
        }
    }
    let opts = options(text);
    const ARCHES: &[(&str, &str)] = &[
        ("CONFIG_X86_64", "x86_64"),
        ("CONFIG_X86_32", "i386"),
        ("CONFIG_ARM64", "arm64"),
        ("CONFIG_ARM", "arm"),
        ("CONFIG_RISCV", "riscv"),
        ("CONFIG_PPC", "powerpc"),
        ("CONFIG_S390", "s390"),
        ("CONFIG_MIPS", "mips"),
        ("CONFIG_LOONGARCH", "loongarch"),
    ];
    ARCHES
        .iter()
        .find(|(sym, _)| value(&opts, sym) == "y")
        .map(|(_, a)| a.to_string())
}

/// The Kconfig symbols the tree at `commit` defines (`config X`,
/// `menuconfig X` in its Kconfig files).
pub fn kconfig_symbols(repo: &Repository, commit: Oid) -> Result<BTreeSet<String>> {
    let tree = repo.find_commit(commit)?.tree()?;
    let mut out = BTreeSet::new();
    let mut err = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
        let is_kconfig = entry.name().is_some_and(|n| n.starts_with("Kconfig"));
        if is_kconfig && entry.kind() == Some(git2::ObjectType::Blob) {
            match repo.find_blob(entry.id()) {
                Ok(b) => {
                    for l in String::from_utf8_lossy(b.content()).lines() {
                        let mut w = l.split_whitespace();
                        if let (Some("config" | "menuconfig"), Some(sym)) = (w.next(), w.next()) {
                            out.insert(format!("CONFIG_{sym}"));
                        }
                    }
                }
                Err(e) => err = Some(e),
            }
        }
        git2::TreeWalkResult::Ok
    })?;
    match err {
        Some(e) => Err(e.into()),
        None => Ok(out),
    }
}

/// Options set (not `n`) in a config.
fn set_options(text: &str) -> BTreeSet<String> {
    options(text)
        .into_iter()
        .filter(|(_, v)| v != "n")
        .map(|(s, _)| s)
        .collect()
}

/// Whether a config that sets `set` options, `unknown` of them unknown to
/// Kconfig at the commit, is a config of some other kernel rather than
/// this tree's at another version: more than a tenth unknown. Version
/// drift leaves a few (syzbot's 6.1 config on Debian's 6.1: 10 of 4145),
/// a typo one; a config of another kernel or a made-up list, many.
pub fn config_is_foreign(unknown: usize, set: usize) -> bool {
    unknown * 10 > set
}

/// Check the search's inputs before any build: each config readable, for
/// x86, made for this tree; a baseline file smaller than the full config
/// and mostly within it. The message names the file and what is wrong.
///
/// A full `.config` made for another version of the tree (syzbot's for a
/// later 6.1 stable, with options of its own patches) sets a few options
/// Kconfig does not know at `commit`; olddefconfig drops them, as `make`
/// does, so each config's unknown options are named in a returned note
/// (for stderr) and the search goes on. Only a config where they are a
/// large share ([`config_is_foreign`]) is refused: it is not a config of
/// this tree.
pub fn check_inputs(search: &ConfigSearch, repo: &Repository, commit: Oid) -> Result<Vec<String>> {
    let (full_flag, base_flag) = match search.mode {
        ConfigSearchMode::Minimize => ("--config", "--baseline-config"),
        ConfigSearchMode::Bisect => ("--bad-config", "--good-config"),
    };
    let read = |flag: &str, path: &str| -> Result<String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("{flag} {path}: cannot read: {e}"))?;
        if options(&text).is_empty() {
            return Err(anyhow!(
                "{flag} {path}: not a kernel config (no CONFIG_ lines)"
            ));
        }
        if let Some(arch) = config_arch(&text) {
            if !matches!(arch.as_str(), "x86" | "x86_64" | "i386") {
                return Err(anyhow!(
                    "{flag} {path}: a config for {arch}; kbisect builds and boots x86_64 kernels"
                ));
            }
        }
        Ok(text)
    };
    let full = read(full_flag, &search.full)?;
    let known = kconfig_symbols(repo, commit)?;
    let mut notes = Vec::new();
    let mut name_unknown = |flag: &str, path: &str, set: &BTreeSet<String>| -> Result<()> {
        let unknown: Vec<&String> = set.iter().filter(|s| !known.contains(*s)).collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = unknown.iter().take(5).map(|s| s.as_str()).collect();
        let named = format!(
            "{} of its {} option(s) Kconfig does not know at {commit}: {}{}",
            unknown.len(),
            set.len(),
            shown.join(", "),
            if unknown.len() > 5 { ", …" } else { "" }
        );
        if config_is_foreign(unknown.len(), set.len()) {
            return Err(anyhow!("{flag} {path}: not a config of this tree, {named}"));
        }
        notes.push(format!("{flag} {path}: {named} (olddefconfig drops them)"));
        Ok(())
    };
    let fset = set_options(&full);
    name_unknown(full_flag, &search.full, &fset)?;
    if !Path::new(&search.baseline).is_file() {
        if !kbuild::config::BASE_TARGETS.contains(&search.baseline.as_str()) {
            return Err(anyhow!(
                "{base_flag} {}: neither a file nor one of {}",
                search.baseline,
                kbuild::config::BASE_TARGETS.join(", ")
            ));
        }
        return Ok(notes);
    }
    let base = read(base_flag, &search.baseline)?;
    let bset = set_options(&base);
    name_unknown(base_flag, &search.baseline, &bset)?;
    if search.mode == ConfigSearchMode::Minimize && bset.len() >= fset.len() {
        return Err(anyhow!(
            "{base_flag} {}: sets {} options, {full_flag} {} only {}: a baseline must be the smaller config",
            search.baseline,
            bset.len(),
            search.full,
            fset.len()
        ));
    }
    // Two configs of a config bisection may differ either way.
    let outside = bset.difference(&fset).count();
    if search.mode == ConfigSearchMode::Minimize && outside * 4 > bset.len() {
        return Err(anyhow!(
            "{base_flag} {} contradicts {full_flag} {}: {outside} of the {} options it sets are off there (a baseline sets mostly options the full config sets too)",
            search.baseline,
            search.full,
            bset.len()
        ));
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A predicate over option sets: reproduces when every option of
    /// `need` is in.
    fn needs(need: &[usize]) -> impl Fn(&[usize]) -> bool + '_ {
        move |s: &[usize]| need.iter().all(|n| s.contains(n))
    }

    /// The search to its end with a predicate that answers every candidate.
    fn run(count: usize, max: u32, pred: impl Fn(&[usize]) -> bool) -> Reduced {
        reduce(count, max, &mut |c| {
            Some(if pred(c) {
                Answer::Reproduces(c.to_vec())
            } else {
                Answer::DoesNot
            })
        })
    }

    #[test]
    fn one_needed_option_among_many_is_found_by_halving() {
        let mut asked = 0;
        let pred = needs(&[37]);
        let r = reduce(64, 100, &mut |c| {
            asked += 1;
            Some(if pred(c) {
                Answer::Reproduces(c.to_vec())
            } else {
                Answer::DoesNot
            })
        });
        assert_eq!(
            r,
            Reduced::Done {
                kept: vec![37],
                by: Some(vec![37]),
                budget_hit: false
            }
        );
        assert!(asked <= 8, "{asked} candidates");
    }

    #[test]
    fn two_needed_options_are_both_kept_and_nothing_else() {
        let r = run(40, 100, needs(&[3, 30]));
        match r {
            Reduced::Done { kept, .. } => assert_eq!(kept, vec![3, 30]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_untested_candidate_is_asked_for_and_the_budget_bounds_the_search() {
        let r = reduce(10, 100, &mut |_| None);
        assert_eq!(r, Reduced::Test(vec![0, 1, 2, 3, 4]));
        let r = run(1000, 3, needs(&[3]));
        match r {
            Reduced::Done {
                budget_hit, kept, ..
            } => {
                assert!(budget_hit);
                assert!(kept.len() < 1000 && kept.contains(&3), "{kept:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_olddefconfig_makes_of_a_candidate_is_what_counts() {
        // Option 1 selects option 0: a candidate without 0 but with 1
        // comes back with 0 on, and removing 1 removes nothing more.
        let mut asked = Vec::new();
        let r = reduce(4, 100, &mut |c| {
            asked.push(c.to_vec());
            let mut became = c.to_vec();
            if c.contains(&1) && !c.contains(&0) {
                became.push(0);
                became.sort();
            }
            Some(if became.contains(&0) {
                Answer::Reproduces(became)
            } else {
                Answer::DoesNot
            })
        });
        match r {
            Reduced::Done { kept, .. } => {
                assert!(kept == vec![0] || kept == vec![0, 1], "{kept:?}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_right_guess_leaves_only_its_own_options_to_search() {
        let mut asked = Vec::new();
        let pred = needs(&[700]);
        // The guess names 700 and 12; olddefconfig also turns on 13.
        let r = reduce_first(1064, &[12, 700], 100, &mut |c| {
            asked.push(c.to_vec());
            let mut became = c.to_vec();
            if c.contains(&12) {
                became.push(13);
                became.sort();
            }
            Some(if pred(&became) {
                Answer::Reproduces(became)
            } else {
                Answer::DoesNot
            })
        });
        match r {
            Reduced::Done { kept, by, .. } => {
                assert_eq!(kept, vec![700]);
                assert_eq!(by, Some(vec![700]));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(asked[0], vec![12, 700]);
        assert!(asked.len() <= 4, "{asked:?}");
        assert!(asked.iter().all(|c| c.len() <= 3), "{asked:?}");
    }

    #[test]
    fn a_wrong_guess_costs_one_candidate_and_the_search_goes_on() {
        let mut asked = 0;
        let pred = needs(&[37]);
        let r = reduce_first(64, &[5], 100, &mut |c| {
            asked += 1;
            Some(if pred(c) {
                Answer::Reproduces(c.to_vec())
            } else {
                Answer::DoesNot
            })
        });
        assert!(
            matches!(r, Reduced::Done { ref kept, .. } if kept == &vec![37]),
            "{r:?}"
        );
        assert!(asked <= 9, "{asked} candidates");
        // Untested, the guess is what is asked for first; a guess of most
        // options is no guess.
        assert_eq!(
            reduce_first(64, &[5, 9], 100, &mut |_| None),
            Reduced::Test(vec![5, 9])
        );
        let most: Vec<usize> = (0..40).collect();
        assert_eq!(
            reduce_first(64, &most, 100, &mut |_| None),
            reduce(64, 100, &mut |_| None)
        );
    }

    #[test]
    fn a_right_guess_that_is_all_needed_is_the_answer() {
        let pred = needs(&[3, 30]);
        let r = reduce_first(40, &[3, 30], 100, &mut |c| {
            Some(if pred(c) {
                Answer::Reproduces(c.to_vec())
            } else {
                Answer::DoesNot
            })
        });
        match r {
            Reduced::Done { kept, by, .. } => {
                assert_eq!(kept, vec![3, 30]);
                assert_eq!(by, Some(vec![3, 30]));
            }
            other => panic!("{other:?}"),
        }
    }

    const BASE: &str = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_TTY=y\n";
    const FULL_TEXT: &str = "CONFIG_A=y\nCONFIG_B=y\nCONFIG_D=m\n# CONFIG_C is not set\nCONFIG_TTY=y\nCONFIG_SERIAL_8250=y\n";

    #[test]
    fn the_space_is_the_differing_options_and_candidates_are_the_baseline_plus_some() {
        let s = Space::new(BASE, FULL_TEXT);
        let syms: Vec<&str> = s.diffs.iter().map(|d| d.symbol.as_str()).collect();
        // SERIAL_8250 is a guest need: pinned into every candidate.
        assert_eq!(syms, ["CONFIG_B", "CONFIG_C", "CONFIG_D"]);
        let none = s.candidate_text(&[]);
        assert!(none.contains("CONFIG_SERIAL_8250=y") && none.contains("# CONFIG_B is not set"));
        let some = s.candidate_text(&[0, 1]);
        assert!(some.contains("CONFIG_B=y") && some.contains("# CONFIG_C is not set"));
        assert!(!some.contains("CONFIG_D"));
        assert_ne!(s.candidate_id(&[0]), s.candidate_id(&[1]));
        assert_eq!(
            s.candidate_id(&[0]),
            Space::new(BASE, FULL_TEXT).candidate_id(&[0])
        );
        // What a resolved config has as the full one.
        assert_eq!(s.effective("CONFIG_B=y\nCONFIG_C=y\n"), vec![0]);
        assert_eq!(s.effective("CONFIG_D=m\n"), vec![1, 2]);
        assert_eq!(s.lines(&[1, 2]), ["# CONFIG_C is not set", "CONFIG_D=m"]);
    }

    #[test]
    fn a_config_says_its_architecture() {
        assert_eq!(
            config_arch("#\n# Automatically generated file; DO NOT EDIT.\n# Linux/arm64 6.1.0 Kernel Configuration\n").as_deref(),
            Some("arm64")
        );
        assert_eq!(config_arch("CONFIG_RISCV=y\n").as_deref(), Some("riscv"));
        assert_eq!(config_arch("CONFIG_X86_64=y\n").as_deref(), Some("x86_64"));
        assert_eq!(config_arch("CONFIG_A=y\n"), None);
    }
}
