//! `--import-git-bisect-log FILE`: a bisection begun with plain `git bisect`
//! goes on in kbisect. The log's marks ([`crate::gitlog`]) become verdict
//! records, as if a person had typed them (no `by` field, `reason` naming
//! the log's line), appended before the step's stdin records.
//!
//! Which verdict a mark is depends on the direction, because git's words
//! name the side of the change and kbisect's name the bug: for a cause
//! bisection git's new side (`bad`) has the bug, for `--fix` the new side
//! (`fixed`, or `bad` when git's default terms were used) does not.
//!
//! For a new journal the ends come from the log unless `--bad`/`--good`
//! are given: bad is the first new-side mark, the goods are the old-side
//! marks that set up the bisection — those given to `git bisect start`
//! itself, and, when it was not given both ends, the marks after it until
//! git knew a commit on each side. Later marks are answers to the commits
//! git asked for; they are verdicts inside the range, not ends.
//!
//! Everything is checked before the journal is written: a mark naming a
//! commit the repository does not have (a log from another repository) or
//! one outside the range, and a log that contradicts itself or the
//! journal's ends (an old-side commit that is, or descends from, a new-side
//! one) is bad input, named by file and line.

use crate::engine::{Engine, RecordError};
use crate::gitlog::{GitBisectLog, Mark};
use crate::model::Direction;
use git2::Oid;
use kbisect_records::Object;
use serde_json::json;
use std::path::Path;

/// A commit id as the log writes it, and its line.
pub type AtLine = (String, usize);

/// A `git bisect log` read from a file, with the file's name for messages.
pub struct Imported {
    pub name: String,
    pub log: GitBisectLog,
}

/// Read and parse the log; the error is the whole message (`FILE: ...` or
/// `FILE:LINE: ...`).
pub fn read(path: &Path) -> Result<Imported, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{name}: cannot read git bisect log: {e}"))?;
    let log =
        crate::gitlog::parse(&text).map_err(|e| format!("{name}:{}: {}", e.line, e.message))?;
    Ok(Imported { name, log })
}

impl Imported {
    /// The ends the log set up (see the module doc): the first new-side
    /// mark, and the old-side marks before git knew both sides; each with
    /// its line.
    pub fn ends(&self) -> (Option<AtLine>, Vec<AtLine>) {
        let mut bad = None;
        let mut goods: Vec<(String, usize)> = Vec::new();
        for (i, (sha, mark, line)) in self.log.marks.iter().enumerate() {
            if i >= self.log.start_marks && bad.is_some() && !goods.is_empty() {
                break;
            }
            match mark {
                Mark::New if bad.is_none() => bad = Some((sha.clone(), *line)),
                Mark::Old if !goods.iter().any(|(g, _)| g == sha) => {
                    goods.push((sha.clone(), *line))
                }
                _ => {}
            }
        }
        (bad, goods)
    }

    /// The log's marks as verdict records, each with its line, checked
    /// against the engine's range and ends; nothing is taken here.
    pub fn verdicts(&self, engine: &mut Engine) -> Result<Vec<(usize, Object)>, String> {
        let name = &self.name;
        let mut out = Vec::new();
        // The contradiction check's sides: the journal's ends take part so
        // that a log at odds with them is caught too.
        let mut sides = vec![Side {
            oid: engine.bad,
            new: true,
            line: None,
            what: "the bad end".into(),
        }];
        for g in &engine.goods {
            sides.push(Side {
                oid: *g,
                new: false,
                line: None,
                what: "a good end".into(),
            });
        }
        for (sha, mark, line) in &self.log.marks {
            let at = |msg: String| format!("{name}:{line}: {msg}");
            let oid = crate::facts::oid_of(sha).ok_or_else(|| {
                at(format!(
                    "{sha:?} is not a full commit id (git bisect log writes full ones)"
                ))
            })?;
            if !engine.has_commit(oid) {
                return Err(at(format!(
                    "commit {oid} is not in the repository (a log from another repository?)"
                )));
            }
            let verdict = match (mark, engine.dir) {
                (Mark::Skip, _) => "skip",
                (Mark::New, Direction::Cause) | (Mark::Old, Direction::Fix) => "bad",
                (Mark::Old, Direction::Cause) | (Mark::New, Direction::Fix) => "good",
            };
            let obj = json!({
                "kind": "verdict",
                "commit": oid.to_string(),
                "verdict": verdict,
                "reason": format!("git bisect log line {line}"),
            });
            let obj = obj.as_object().cloned().expect("a json object");
            engine.validate(&obj).map_err(|RecordError(m)| at(m))?;
            if *mark != Mark::Skip {
                let word = if *mark == Mark::New {
                    &self.log.term_new
                } else {
                    &self.log.term_old
                };
                sides.push(Side {
                    oid,
                    new: *mark == Mark::New,
                    line: Some(*line),
                    what: format!("{word} at line {line}"),
                });
            }
            out.push((*line, obj));
        }
        // After the change is after it: no old-side commit is, or descends
        // from, a new-side one. Named at the later of the two lines.
        for o in sides.iter().filter(|s| !s.new) {
            for n in sides.iter().filter(|s| s.new) {
                if o.oid != n.oid && !engine.descends_from(o.oid, n.oid) {
                    continue;
                }
                let rel = if o.oid == n.oid {
                    "is"
                } else {
                    "descends from"
                };
                let msg = format!(
                    "the log contradicts itself or the journal: commit {} ({}, before the change) {rel} commit {} ({}, after it)",
                    o.oid, o.what, n.oid, n.what
                );
                return Err(match o.line.max(n.line) {
                    Some(l) => format!("{name}:{l}: {msg}"),
                    None => format!("{name}: {msg}"),
                });
            }
        }
        Ok(out)
    }
}

/// A commit on one side of the change, for the contradiction check.
struct Side {
    oid: Oid,
    /// After the change (git's new side).
    new: bool,
    /// Its line in the log; None for the journal's ends.
    line: Option<usize>,
    what: String,
}
