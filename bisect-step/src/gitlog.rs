//! The text of `git bisect log`, read into what it says: the terms, the
//! start's options and every commit marked, in order. The importer
//! (`--import-git-bisect-log`) turns these marks into verdict records so a
//! bisection begun with plain git goes on in kbisect.
//!
//! git writes the log as shell commands (`git bisect start '--term-new=fixed'`,
//! `git bisect bad SHA`) with comments that repeat each mark with its
//! subject (`# bad: [SHA] subject`). Before the `start` line those comments
//! are the only place the start's own revisions appear resolved to shas, so
//! they are read there; after it, the command lines are the marks.
//!
//! A mark is kept as git means it: `New` is a commit after the change
//! (git's `bad` or `new` or the `--term-new`), `Old` one before it. Which
//! of them has the bug depends on the direction (cause or fix) and is the
//! importer's business.

use std::fmt;

/// Which side of the change git was told a commit is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// After the change: git's `bad`, `new`, or the `--term-new` word.
    New,
    /// Before the change: git's `good`, `old`, or the `--term-old` word.
    Old,
    /// Cannot be tested.
    Skip,
}

/// A `git bisect log`, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitBisectLog {
    /// The word for commits after the change (`bad` unless `--term-new`).
    pub term_new: String,
    /// The word for commits before the change (`good` unless `--term-old`).
    pub term_old: String,
    /// `git bisect start --first-parent`.
    pub first_parent: bool,
    /// Every commit marked, in the order git was told, with its 1-based
    /// line in the log. Commit ids are as written (git writes full shas).
    pub marks: Vec<(String, Mark, usize)>,
    /// How many of `marks` (the first ones) are the revisions given to
    /// `git bisect start` itself rather than marks made during it.
    pub start_marks: usize,
}

/// Why a log cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogError {
    /// 1-based line of the log.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl GitBisectLog {
    /// The mark a word names, in this log's terms. With git's default terms
    /// `new` and `old` are accepted as well, as git does.
    fn mark_of(&self, word: &str) -> Option<Mark> {
        let default_terms = self.term_new == "bad" && self.term_old == "good";
        match word {
            "skip" => Some(Mark::Skip),
            w if w == self.term_new => Some(Mark::New),
            w if w == self.term_old => Some(Mark::Old),
            "new" if default_terms => Some(Mark::New),
            "old" if default_terms => Some(Mark::Old),
            _ => None,
        }
    }
}

/// Read the text of `git bisect log`.
pub fn parse(text: &str) -> Result<GitBisectLog, LogError> {
    let mut log = GitBisectLog {
        term_new: "bad".into(),
        term_old: "good".into(),
        first_parent: false,
        marks: Vec::new(),
        start_marks: 0,
    };
    // `# WORD: [SHA] subject` lines seen before the start line.
    let mut before_start: Vec<(String, String, usize)> = Vec::new();
    let mut started = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |message: String| LogError { line, message };
        let l = raw.trim();
        if l.is_empty() {
            continue;
        }
        if let Some(comment) = l.strip_prefix('#') {
            if !started {
                if let Some((word, sha)) = comment_mark(comment) {
                    before_start.push((word, sha, line));
                }
            }
            continue;
        }
        let words = shell_words(l).map_err(err)?;
        let rest = match words.as_slice() {
            [git, bisect, rest @ ..] if git == "git" && bisect == "bisect" => rest,
            _ => return Err(err(format!("not a git bisect command: {l:?}"))),
        };
        let Some((command, args)) = rest.split_first() else {
            return Err(err("`git bisect` with no command".into()));
        };
        if command == "start" {
            if started {
                return Err(err(
                    "a second `git bisect start`: give the log of one bisection".into(),
                ));
            }
            started = true;
            start_options(&mut log, args).map_err(err)?;
            for (word, sha, at) in before_start.drain(..) {
                match log.mark_of(&word) {
                    Some(mark) => log.marks.push((sha, mark, at)),
                    None => {
                        return Err(LogError {
                            line: at,
                            message: format!("{word:?} is none of this bisection's terms"),
                        })
                    }
                }
            }
            log.start_marks = log.marks.len();
            continue;
        }
        if !started {
            return Err(err(format!(
                "`git bisect {command}` before `git bisect start`"
            )));
        }
        let Some(mark) = log.mark_of(command) else {
            return Err(err(format!(
                "unknown git bisect command {command:?} (terms: {}, {}, skip)",
                log.term_new, log.term_old
            )));
        };
        if args.is_empty() {
            return Err(err(format!("`git bisect {command}` names no commit")));
        }
        for a in args {
            if a.contains("..") {
                return Err(err(format!(
                    "a range ({a}) in the log: git writes single commits"
                )));
            }
            log.marks.push((a.clone(), mark, line));
        }
    }
    if !started {
        return Err(LogError {
            line: text.lines().count().max(1),
            message: "no `git bisect start` line: is this the output of `git bisect log`?".into(),
        });
    }
    Ok(log)
}

/// The options of `git bisect start`; its revisions come from the comment
/// lines before it.
fn start_options(log: &mut GitBisectLog, args: &[String]) -> Result<(), String> {
    let mut paths = false;
    for a in args {
        if paths {
            return Err(format!(
                "the bisection was limited to paths ({a}); kbisect bisects whole trees"
            ));
        }
        if a == "--" {
            paths = true;
        } else if let Some(t) = a
            .strip_prefix("--term-new=")
            .or_else(|| a.strip_prefix("--term-bad="))
        {
            log.term_new = t.to_string();
        } else if let Some(t) = a
            .strip_prefix("--term-old=")
            .or_else(|| a.strip_prefix("--term-good="))
        {
            log.term_old = t.to_string();
        } else if a == "--first-parent" {
            log.first_parent = true;
        } else if a == "--no-checkout" {
        } else if a.starts_with("--") {
            return Err(format!("unknown git bisect start option {a}"));
        }
        // Other words are the start's revisions as typed; their resolved
        // shas are in the comment lines before the start line.
    }
    if log.term_new == log.term_old {
        return Err(format!("both terms are {:?}", log.term_new));
    }
    Ok(())
}

/// `WORD: [SHA] subject` → (WORD, SHA).
fn comment_mark(comment: &str) -> Option<(String, String)> {
    let (word, rest) = comment.trim().split_once(": [")?;
    let (sha, _) = rest.split_once(']')?;
    if word.contains(' ') || !kbisect_records::is_full_sha(sha) {
        return None;
    }
    Some((word.to_string(), sha.to_string()))
}

/// Split a line as the shell would for the quoting git writes: words
/// separated by blanks, `'…'` quoted, `\'` outside quotes for a quote.
fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => word.push(q),
                        None => return Err(format!("unterminated quote in {line:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(e) => word.push(e),
                    None => return Err(format!("a trailing backslash in {line:?}")),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "b1b081d8b0ad99f4e8daea2af144bbe98277637d";
    const B: &str = "57109ca3bfdfaada08e042fccebc0a0c31d5aee1";
    const C: &str = "7c191a109b932b60f50364febe80cb98ff4d88d3";
    const D: &str = "537db3bf112be3582a6f6d741373fe9653c9a2d8";

    #[test]
    fn start_revisions_come_from_the_comments_before_it() {
        let text = format!(
            "# bad: [{A}] c12\n# good: [{B}] c4\ngit bisect start 'HEAD' 'HEAD~8'\n\
             # good: [{C}] c8\ngit bisect good {C}\n# skip: [{D}] c9\ngit bisect skip {D}\n\
             # only skipped commits left to test\n# possible first bad commit: [{D}] c9\n"
        );
        let log = parse(&text).unwrap();
        assert_eq!(
            log.marks,
            vec![
                (A.into(), Mark::New, 1),
                (B.into(), Mark::Old, 2),
                (C.into(), Mark::Old, 5),
                (D.into(), Mark::Skip, 7),
            ]
        );
        assert!(!log.first_parent);
        assert_eq!(log.start_marks, 2);
    }

    #[test]
    fn custom_terms_and_first_parent() {
        let text = format!(
            "git bisect start '--term-new=fixed' '--term-old=broken' '--first-parent'\n\
             # status: waiting for both good and bad commits\n# fixed: [{A}] c12\n\
             git bisect fixed {A}\n# broken: [{B}] c2\ngit bisect broken {B}\n"
        );
        let log = parse(&text).unwrap();
        assert_eq!(log.term_new, "fixed");
        assert!(log.first_parent);
        assert_eq!(
            log.marks,
            vec![(A.into(), Mark::New, 4), (B.into(), Mark::Old, 6)]
        );
        assert_eq!(log.start_marks, 0);
    }

    #[test]
    fn what_is_not_a_bisect_log_is_named_by_line() {
        let e = parse("hello\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse(&format!("git bisect start\ngit bisect frob {A}\n")).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("frob"), "{e}");
        let e = parse(&format!("git bisect good {A}\n")).unwrap_err();
        assert!(e.message.contains("before"), "{e}");
        let e = parse("git bisect start 'v6.2' '--' 'mm/'\n").unwrap_err();
        assert!(e.message.contains("paths"), "{e}");
        assert!(parse("").is_err());
        assert!(parse("git bisect start 'unterminated\n").is_err());
    }

    /// The log real git writes, read back: every mark, in order.
    #[test]
    fn reads_the_log_real_git_writes() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
                .output()
                .expect("git runs");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        git(&["init", "-q"]);
        for i in 0..10 {
            git(&["commit", "-q", "--allow-empty", "-m", &format!("c{i}")]);
        }
        let head = git(&["rev-parse", "HEAD"]);
        let old = git(&["rev-parse", "HEAD~9"]);
        git(&[
            "bisect",
            "start",
            "--term-new=fixed",
            "--term-old=broken",
            "HEAD",
            "HEAD~9",
        ]);
        let first = git(&["rev-parse", "HEAD"]);
        git(&["bisect", "broken"]);
        let second = git(&["rev-parse", "HEAD"]);
        git(&["bisect", "skip"]);
        let log = parse(&git(&["bisect", "log"])).unwrap();
        git(&["bisect", "reset"]);
        let marks: Vec<(String, Mark)> = log.marks.into_iter().map(|(c, m, _)| (c, m)).collect();
        assert_eq!(
            marks,
            vec![
                (head, Mark::New),
                (old, Mark::Old),
                (first, Mark::Old),
                (second, Mark::Skip)
            ]
        );
        assert_eq!(
            (log.term_new.as_str(), log.term_old.as_str()),
            ("fixed", "broken")
        );
    }

    #[test]
    fn shell_words_undo_gits_quoting() {
        assert_eq!(
            shell_words(r"git bisect start 'it'\''s' a").unwrap(),
            vec!["git", "bisect", "start", "it's", "a"]
        );
    }
}
