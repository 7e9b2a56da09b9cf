//! bisect-step: the brain of a kbisect bisection.
//!
//! One invocation reads the journal (every record of the bisection so far),
//! takes the new records on stdin (builds, runs, verdicts), appends them and
//! what it decides to the journal, and prints the next action: the `next`
//! records of a round (one, or with `--slots` several on distinct commits),
//! or the `result`. See [`run`] for the contract, [`facts`] for where
//! records are read, [`policy`] for the decisions, [`engine`] for the
//! wiring of repository, facts, policy and [`render`], [`history`] for
//! what is asked of the repository, [`model`] for the
//! posterior and the choice of commit, [`graph`] for the commit graph in
//! compact arrays, [`import`] for taking over a `git bisect log`.

pub mod cli;
pub mod commitgraph;
pub mod configsearch;
pub mod engine;
pub mod facts;
pub mod gitlog;
pub mod graph;
pub mod history;
pub mod import;
pub mod journal;
pub mod model;
pub mod policy;
pub mod releases;
pub mod render;
#[cfg(feature = "sim")]
pub mod sim;
pub mod suspects;

use engine::{Engine, RecordError};
use kbisect_records::{jsonl, parse, Object, RecordKind, Start, EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use std::fs;
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// Command-line settings (all but `journal` only matter for a new journal).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub journal: Option<PathBuf>,
    pub repo: Option<String>,
    pub bad: Option<String>,
    pub good: Vec<String>,
    pub releases: Option<String>,
    pub target: Vec<String>,
    pub fix: bool,
    pub confidence: Option<f64>,
    pub repro_rate: Option<f64>,
    pub revert_check: bool,
    /// What the bug is (`--bug`).
    pub bug: kbisect_records::BugKind,
    /// Follow only first parents of merges (`--first-parent`).
    pub first_parent: bool,
    /// A `git bisect log` whose marks are taken as verdicts
    /// (`--import-git-bisect-log`).
    pub import_git_bisect_log: Option<PathBuf>,
    /// VM slots this round (`--slots`): a round may ask runs on several
    /// commits, their runs summing to at most this. 0 is taken as 1.
    pub slots: u32,
    /// The config search (`--config-search`), for a new journal.
    pub config_search: Option<kbisect_records::ConfigSearch>,
}

/// A journal read back: its records, and whether its file needs a newline
/// before the next append.
#[derive(Default)]
struct Journal {
    records: Vec<Object>,
    needs_newline: bool,
}

/// Read the journal. A last line cut short by a kill (no newline, not JSON)
/// is cut off the file and named on stderr; bad JSON anywhere else is bad
/// input (exit 2) and the file is left as it is.
fn read_journal(path: &PathBuf, err: &mut dyn Write) -> Result<Journal, Failure> {
    let name = path.display().to_string();
    let data = match fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Journal {
                records: vec![],
                needs_newline: false,
            })
        }
        Err(e) => return Err(usage(format!("{name}: cannot read journal: {e}"))),
    };
    let parsed = journal::parse(&data)
        .map_err(|bad| usage(format!("{name}:{}: {}", bad.line, bad.message)))?;
    if let Some(torn) = &parsed.torn {
        // Only under the journal's lock (see lock_journal): no other call
        // can be writing this line.
        let f = fs::OpenOptions::new().write(true).open(path);
        if let Err(e) = f.and_then(|f| f.set_len(torn.offset)) {
            return Err(Failure(
                EXIT_FAILURE,
                format!(
                    "{name}:{}: torn last line ({} bytes, no newline) cannot be dropped: {e}; the journal is unchanged",
                    torn.line, torn.len
                ),
            ));
        }
        let _ = writeln!(
            err,
            "bisect-step: {name}:{}: torn last line ({} bytes, no newline) dropped from the journal",
            torn.line, torn.len
        );
    }
    Ok(Journal {
        records: parsed.records,
        needs_newline: parsed.needs_newline,
    })
}

/// The start record from the command line, refs resolved to full shas.
/// Notes on the inputs that do not stop the bisection go to `err`.
fn start_from_options(opts: &Options, err: &mut dyn Write) -> Result<Start, String> {
    let repo_path = opts.repo.clone().unwrap_or_else(|| ".".into());
    let repo = git2::Repository::open(&repo_path)
        .map_err(|e| format!("cannot open git repository {repo_path}: {}", e.message()))?;
    let abs = fs::canonicalize(&repo_path)
        .map(|p| p.display().to_string())
        .unwrap_or(repo_path);
    // bad has the bug in both directions. A fix's good end is the newer one,
    // the branch head unless given, so a fix needs its bad named.
    let bad_rev = match (opts.bad.as_deref(), opts.fix) {
        (Some(b), _) => b,
        (None, false) => "HEAD",
        (None, true) => return Err("--fix needs --bad: an older commit that has the bug".into()),
    };
    let bad = engine::resolve(&repo, bad_rev).map_err(|e| e.to_string())?;
    if let Some(search) = &opts.config_search {
        if opts.journal.is_none() {
            return Err(
                "--config-search keeps its configs beside the journal: give --journal".into(),
            );
        }
        let notes = configsearch::check_inputs(search, &repo, bad).map_err(|e| format!("{e:#}"))?;
        for note in notes {
            let _ = writeln!(err, "bisect-step: {note}");
        }
    }
    let head = ["HEAD".to_string()];
    let goods: &[String] = if opts.fix && opts.good.is_empty() {
        &head
    } else {
        &opts.good
    };
    if opts.fix && goods.len() > 1 {
        return Err("--fix takes one --good: the newer commit where the bug is fixed".into());
    }
    let mut good = Vec::new();
    for g in goods {
        good.push(
            engine::resolve(&repo, g)
                .map_err(|e| e.to_string())?
                .to_string(),
        );
    }
    Ok(Start {
        repo: abs,
        bad: bad.to_string(),
        good,
        releases: opts.releases.clone(),
        target: opts.target.clone(),
        direction: if opts.fix { "fix" } else { "cause" }.into(),
        confidence: opts.confidence,
        repro_rate: opts.repro_rate,
        revert_check: opts.revert_check,
        bug: opts.bug,
        first_parent: opts.first_parent,
        config_search: opts.config_search.clone(),
        seconds: 0.0,
        extra: Object::new(),
    })
}

/// Command-line settings that contradict the journal's start record.
fn check_against_journal(start: &Start, opts: &Options) -> Result<(), String> {
    let repo = git2::Repository::open(&start.repo)
        .map_err(|e| format!("cannot open git repository {}: {}", start.repo, e.message()))?;
    if let Some(b) = &opts.bad {
        let oid = engine::resolve(&repo, b).map_err(|e| e.to_string())?;
        if oid.to_string() != start.bad {
            return Err(format!(
                "--bad {b} differs from the journal's bad {}",
                start.bad
            ));
        }
    }
    // Only a given --first-parent can be told from the default; the
    // candidates it makes are not the journal's.
    if opts.first_parent && !start.first_parent {
        return Err(
            "--first-parent differs from the journal's start (a bisection of every commit)".into(),
        );
    }
    // As for --first-parent: the default cannot be told from an omitted
    // --bug, so only another kind given is a contradiction.
    if !opts.bug.is_default() && opts.bug != start.bug {
        return Err(format!(
            "--bug {} differs from the journal's bug {}",
            opts.bug, start.bug
        ));
    }
    for g in &opts.good {
        let oid = engine::resolve(&repo, g).map_err(|e| e.to_string())?;
        if !start.good.contains(&oid.to_string()) {
            return Err(format!(
                "--good {g} is not one of the journal's good commits"
            ));
        }
    }
    Ok(())
}

/// The journal ends with these `next` records already: the same round
/// decided again (a call with no new input), not to be appended twice.
fn same_round(journal: &[Object], nexts: &[Object]) -> bool {
    !nexts.is_empty()
        && journal.len() >= nexts.len()
        && journal[journal.len() - nexts.len()..]
            .iter()
            .zip(nexts)
            .all(|(a, b)| same_next(a, b))
}

fn same_next(a: &Object, b: &Object) -> bool {
    RecordKind::of(a) == RecordKind::Next
        && RecordKind::of(b) == RecordKind::Next
        && ["commit", "reason", "runs", "revert", "release", "config_id"]
            .iter()
            .all(|k| a.get(*k) == b.get(*k))
}

/// One bisection step: the whole command-line contract.
///
/// Reads every record on `input` first; a malformed line or a record that
/// does not fit the bisection (commit outside the range, unknown commit)
/// exits 2 with nothing appended. Records kept: `build`, `run`, `verdict`
/// from a person, `error`, and any other kind (they are history); a `next`
/// or `result` echoed back is dropped. When the journal ends with input
/// records and no decision (a step killed after appending) and the same
/// records are fed again, they are counted once.
/// Then the verdicts on newly judged commits and the action are appended and
/// the action is printed. Returns the exit status.
pub fn run(
    opts: &Options,
    input: Option<&mut dyn BufRead>,
    input_name: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    match step(opts, input, input_name, out, err) {
        Ok(()) => EXIT_OK,
        Err(Failure(code, msg)) => {
            let _ = writeln!(err, "bisect-step: {msg}");
            code
        }
    }
}

/// Why a step stopped: the exit status, and the message for stderr.
struct Failure(i32, String);

fn usage(msg: impl Into<String>) -> Failure {
    Failure(EXIT_USAGE, msg.into())
}

/// The step in order: input, journal and start, replay, take the input,
/// decide, append, answer.
fn step(
    opts: &Options,
    input: Option<&mut dyn BufRead>,
    input_name: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Failure> {
    let new_records = read_input(input, input_name)?;
    // Read before the journal is locked (and so made): a log that cannot
    // be read leaves no journal behind.
    let imported = match &opts.import_git_bisect_log {
        Some(p) => Some(import::read(p).map_err(usage)?),
        None => None,
    };
    let imported = imported.as_ref();
    let Some(path) = &opts.journal else {
        return locked_step(opts, imported, new_records, input_name, out, err);
    };
    // Held until the step has appended and answered.
    let (_lock, created) = lock_journal(path, err)?;
    let res = locked_step(opts, imported, new_records, input_name, out, err);
    if res.is_err() && created && fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        // A first call that failed leaves no journal behind.
        let _ = fs::remove_file(path);
    }
    res
}

/// The step once the journal (if any) is locked.
fn locked_step(
    opts: &Options,
    imported: Option<&import::Imported>,
    mut new_records: Vec<(usize, Object)>,
    input_name: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Failure> {
    let journal = match &opts.journal {
        Some(path) => read_journal(path, err)?,
        None => Journal::default(),
    };
    let (start, fresh, from_log) = start_of(&journal, opts, imported, err)?;
    // An end taken from the log that does not hold is the log's fault.
    let named = |e: anyhow::Error| match &from_log {
        Some(note) => usage(format!("{note}: {e:#}")),
        None => usage(format!("{e:#}")),
    };
    let mut engine = Engine::new(start.clone()).map_err(named)?;
    engine.slots = opts.slots.max(1);
    if let Some(search) = &start.config_search {
        let Some(path) = &opts.journal else {
            return Err(usage(
                "a config search keeps its configs beside the journal: give --journal",
            ));
        };
        let store = configsearch::Store::of_journal(path);
        if fresh {
            store
                .keep_inputs(search)
                .map_err(|e| Failure(EXIT_FAILURE, format!("{e:#}")))?;
        }
        engine.config = Some(configsearch::Setup {
            search: search.clone(),
            store,
        });
    }
    if fresh {
        engine.check_range().map_err(named)?;
    }
    let pending = replay(&mut engine, &journal);
    for (line, obj) in &new_records {
        if let Err(RecordError(msg)) = engine.validate(obj) {
            return Err(usage(format!("{input_name}:{line}: {msg}")));
        }
    }
    if let Some(imp) = imported {
        // The log's verdicts come first, as they were given first; taken
        // with the input so that a step killed after appending them and
        // run again counts them once.
        let mut verdicts = imp.verdicts(&mut engine).map_err(usage)?;
        if !fresh && imp.log.first_parent != start.first_parent {
            // The journal's start decides the candidates; the log's marks
            // are facts about commits either way.
            let _ = writeln!(
                err,
                "bisect-step: {}: the log's --first-parent ({}) is not the journal's ({}); the journal's is kept",
                imp.name, imp.log.first_parent, start.first_parent
            );
        }
        // The same log imported again adds nothing: its verdicts are in
        // the journal already. Only records up to the last decision are
        // looked at: ones after it are an interrupted step's, which
        // take_input counts once when the same input comes again.
        let decided = journal
            .records
            .iter()
            .rposition(|r| matches!(RecordKind::of(r), RecordKind::Next | RecordKind::Result))
            .map_or(0, |i| i + 1);
        let before = verdicts.len();
        verdicts.retain(|(_, v)| !journal.records[..decided].contains(v));
        if verdicts.len() < before {
            let _ = writeln!(
                err,
                "bisect-step: {}: {} marks already in the journal, not taken again",
                imp.name,
                before - verdicts.len()
            );
        }
        let _ = writeln!(
            err,
            "bisect-step: {}: {} marks taken as verdicts",
            imp.name,
            verdicts.len()
        );
        new_records.splice(0..0, verdicts);
    }
    let mut to_append: Vec<Object> = Vec::new();
    if fresh {
        to_append.push(kbisect_records::to_object(&start));
    }
    let took_new = take_input(&mut engine, &new_records, &pending, &mut to_append, err);
    if !took_new {
        if let Some(last) = journal
            .records
            .last()
            .filter(|l| RecordKind::of(l) == RecordKind::Result)
        {
            return write_record(out, last);
        }
    }
    let decision = engine
        .decide()
        .map_err(|e| Failure(EXIT_FAILURE, format!("{e:#}")))?;
    to_append.extend(decision.verdicts.iter().cloned());
    let repeat = !took_new
        && decision.verdicts.is_empty()
        && same_round(&journal.records, &decision.actions);
    if !repeat {
        to_append.extend(decision.actions.iter().cloned());
    }
    if let Some(path) = &opts.journal {
        append(path, journal.needs_newline, &to_append)?;
    }
    for line in &decision.log {
        let _ = writeln!(err, "{line}");
    }
    // One line per record, each flushed: kbuild may start on the first
    // commit of a batch while the others are still being read.
    for rec in &decision.actions {
        write_record(out, rec)?;
    }
    Ok(())
}

/// Take the journal's lock for the whole read-decide-append of one call, so
/// that a second call on the same journal waits instead of reading a line
/// still being appended (and cutting it off as a torn tail). An advisory
/// `flock` on the journal itself: it needs no lock file and works on a
/// read-only journal; a journal not made yet is created empty.
/// True with the file when this call created the journal.
fn lock_journal(path: &PathBuf, err: &mut dyn Write) -> Result<(fs::File, bool), Failure> {
    loop {
        let (file, created) = lock_journal_file(path, err)?;
        // A first call that failed removes the empty journal it made (see
        // step) while holding its lock: a call that waited on that file
        // holds a lock on nothing and tries again.
        if journal_is(path, &file) {
            return Ok((file, created));
        }
    }
}

/// True when `path` still names the file `file` has open.
fn journal_is(path: &PathBuf, file: &fs::File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Open (or create empty) and lock the journal once.
fn lock_journal_file(path: &PathBuf, err: &mut dyn Write) -> Result<(fs::File, bool), Failure> {
    let name = path.display();
    let mut created = false;
    let file = match fs::File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            created = true;
            fs::OpenOptions::new().append(true).create(true).open(path)
        }
        other => other,
    }
    .map_err(|e| usage(format!("{name}: cannot open journal: {e}")))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let _ = writeln!(
                err,
                "bisect-step: {name}: journal is in use by another bisect-step call; waiting"
            );
            file.lock()
                .map_err(|e| Failure(EXIT_FAILURE, format!("{name}: cannot lock journal: {e}")))?;
        }
        Err(fs::TryLockError::Error(e)) => {
            return Err(Failure(
                EXIT_FAILURE,
                format!("{name}: cannot lock journal: {e}"),
            ))
        }
    }
    Ok((file, created))
}

/// Every input record, before anything is touched: a malformed line is
/// bad input.
fn read_input(
    input: Option<&mut dyn BufRead>,
    input_name: &str,
) -> Result<Vec<(usize, Object)>, Failure> {
    let mut new_records = Vec::new();
    if let Some(input) = input {
        let mut reader = jsonl::Reader::new(input, input_name);
        while let Some(rec) = reader.next() {
            new_records.push((reader.line(), rec.map_err(|e| usage(e.to_string()))?));
        }
    }
    Ok(new_records)
}

/// The journal's start record (checked against the command line), or a new
/// one from the command line; true when new.
/// A new start takes the ends the imported log set up when the command
/// line does not give them, and its `--first-parent`; then the third value
/// names them (file and lines) for messages.
fn start_of(
    journal: &Journal,
    opts: &Options,
    imported: Option<&import::Imported>,
    err: &mut dyn Write,
) -> Result<(Start, bool, Option<String>), Failure> {
    let Some(first) = journal.records.first() else {
        let mut o = opts.clone();
        let mut lines = Vec::new();
        let mut name = String::new();
        if let Some(imp) = imported {
            name.clone_from(&imp.name);
            let (newer, olders) = imp.ends();
            let newer = || {
                newer.clone().ok_or_else(|| {
                    usage(format!(
                        "{}: the log marks no commit {:?} (the newer end): give --{}",
                        imp.name,
                        imp.log.term_new,
                        if o.fix { "good" } else { "bad" }
                    ))
                })
            };
            if !o.fix {
                if o.bad.is_none() {
                    let (b, line) = newer()?;
                    o.bad = Some(b);
                    lines.push(format!("bad from line {line}"));
                }
                if o.good.is_empty() && o.releases.is_none() {
                    for (g, line) in olders {
                        o.good.push(g);
                        lines.push(format!("good from line {line}"));
                    }
                }
            } else {
                // A fix: the newer end is the good one, an older one the bad.
                if o.good.is_empty() {
                    let (g, line) = newer()?;
                    o.good.push(g);
                    lines.push(format!("good from line {line}"));
                }
                if o.bad.is_none() {
                    if let Some((b, line)) = olders.into_iter().next() {
                        o.bad = Some(b);
                        lines.push(format!("bad from line {line}"));
                    }
                }
            }
            o.first_parent |= imp.log.first_parent;
        }
        let note = (!lines.is_empty())
            .then(|| format!("{name}: ends from the log ({})", lines.join(", ")));
        let start = start_from_options(&o, err).map_err(|e| match &note {
            Some(n) => usage(format!("{n}: {e}")),
            None => usage(e),
        })?;
        return Ok((start, true, note));
    };
    if RecordKind::of(first) != RecordKind::Start {
        return Err(usage(format!(
            "{}:1: journal does not begin with a start record",
            journal_name(opts)
        )));
    }
    let mut s = parse::<Start>(first)
        .map_err(|e| usage(format!("{}:1: bad start record: {e}", journal_name(opts))))?;
    if let Some(r) = &opts.repo {
        // The repository may have moved; the range has not. The journal's
        // commits must be in the one named now (Engine::new checks them).
        s.repo = fs::canonicalize(r)
            .map(|p| p.display().to_string())
            .unwrap_or(r.clone());
    }
    check_against_journal(&s, opts).map_err(usage)?;
    Ok((s, false, None))
}

/// Replay the journal into the engine. Returns the input records after the
/// last decision: a batch whose step was interrupted (killed after
/// appending them), so that the same batch fed again is not counted twice.
fn replay<'j>(engine: &mut Engine, journal: &'j Journal) -> Vec<&'j Object> {
    for rec in journal.records.iter().skip(1) {
        engine.ingest(rec, true);
    }
    journal
        .records
        .iter()
        .skip(1)
        .rev()
        .take_while(|r| !matches!(RecordKind::of(r), RecordKind::Next | RecordKind::Result))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .filter(|r| !(RecordKind::of(r) == RecordKind::Verdict && r.contains_key("by")))
        .collect()
}

/// Take the new records (less a repeat of the interrupted batch) and queue
/// the kept ones for the journal. True when any was kept.
fn take_input(
    engine: &mut Engine,
    new_records: &[(usize, Object)],
    pending: &[&Object],
    to_append: &mut Vec<Object>,
    err: &mut dyn Write,
) -> bool {
    let already = if !pending.is_empty()
        && new_records.len() >= pending.len()
        && pending.iter().zip(new_records).all(|(a, (_, b))| *a == b)
    {
        pending.len()
    } else {
        0
    };
    if already > 0 {
        let _ = writeln!(err, "bisect-step: the first {already} input records are already in the journal (an interrupted step); not counted again");
    }
    let mut took_new = false;
    for (_, obj) in new_records.iter().skip(already) {
        if engine.ingest(obj, false) {
            to_append.push(obj.clone());
            took_new = true;
        }
    }
    took_new
}

/// Append the records to the journal in one write, synced.
fn append(path: &PathBuf, needs_newline: bool, records: &[Object]) -> Result<(), Failure> {
    let mut text = Vec::new();
    if needs_newline {
        text.push(b'\n');
    }
    for rec in records {
        let mut w = jsonl::Writer::new(&mut text);
        let _ = w.write(rec);
    }
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(&text).and_then(|_| f.sync_data()))
        .map_err(|e| {
            Failure(
                EXIT_FAILURE,
                format!("{}: cannot append to journal: {e}", path.display()),
            )
        })
}

/// One record on stdout. A reader that closed the pipe has what it wanted: the
/// journal already holds the step, so that is success.
fn write_record(out: &mut dyn Write, rec: &Object) -> Result<(), Failure> {
    match jsonl::Writer::new(out).write(rec) {
        Ok(()) | Err(jsonl::WriteError::Closed) => Ok(()),
        Err(e) => Err(Failure(EXIT_FAILURE, format!("writing stdout: {e}"))),
    }
}

fn journal_name(opts: &Options) -> String {
    opts.journal
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<journal>".into())
}
