//! The kbisect-log commands over standard streams: the echoing filter that
//! prints the log ([`filter`]), `report` ([`report`]), `report --html`
//! ([`html_report`]) and `revert-check` ([`revert_check`]). `main` parses the command line and calls one.

use crate::progress::{paint_verdict, stderr_terminal, ProgressState, Terminal, CLEAR_LINE};
use kbisect_records::jsonl::{self, InputError, WriteError};
use kbisect_records::{Object, RecordKind, EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

const TOOL: &str = "kbisect-log";

/// Print log lines on stderr; on a redrawing terminal each first erases
/// the status line it may be printed over.
fn say(lines: Vec<String>, term: Terminal) {
    let clear = if term.redraw { CLEAR_LINE } else { "" };
    for l in lines {
        kbisect_records::say!("{clear}{}", paint_verdict(&l, term.colour));
    }
}

/// `--progress`: the script's count of steps and clock, for the status line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgressOptions {
    /// The step about to run, from 1.
    pub step: u32,
    /// Unix time, in seconds, when the bisection (this run of it) started.
    pub started: f64,
}

/// The status line of the first `next` record that says where the
/// bisection stands.
fn progress_state(obj: &Object, opts: ProgressOptions, now: f64) -> Option<ProgressState> {
    if RecordKind::of(obj) != RecordKind::Next {
        return None;
    }
    let revisions_left = obj.get("revisions_left").and_then(|v| v.as_u64());
    revisions_left?;
    Some(ProgressState {
        step: opts.step,
        revisions_left,
        steps_left: obj
            .get("steps_left")
            .and_then(|v| v.as_u64())
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        culprit_probability: obj.get("culprit_probability").and_then(|v| v.as_f64()),
        elapsed: (now - opts.started).max(0.0),
    })
}

/// Now, in Unix seconds (0 on a clock before 1970).
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn bad_input(e: &InputError) -> i32 {
    kbisect_records::say!("{TOOL}: {e}");
    EXIT_USAGE
}

fn write_failed(e: WriteError) -> i32 {
    if !matches!(e, WriteError::Closed) {
        kbisect_records::say!("{TOOL}: {e}");
    }
    e.exit_status()
}

/// Echo the records of `input` on `out` and print their log on stderr;
/// with `progress`, end with the status line of the step (redrawn in place
/// on a terminal, a plain `progress:` line otherwise).
pub fn filter<R: BufRead, W: Write>(
    input: jsonl::Reader<R>,
    out: &mut jsonl::Writer<W>,
    progress: Option<ProgressOptions>,
) -> i32 {
    let term = stderr_terminal();
    let mut log = crate::Log::new();
    let mut state = None;
    for item in input {
        let obj = match item {
            Ok(obj) => obj,
            Err(e) => return bad_input(&e),
        };
        say(log.feed(&obj), term);
        if let (None, Some(p)) = (state, progress) {
            state = progress_state(&obj, p, unix_now());
        }
        if let Err(e) = out.write(&obj) {
            return write_failed(e);
        }
    }
    say(log.flush(), term);
    if let Some(state) = state {
        if term.redraw {
            kbisect_records::say::raw(&format!("{CLEAR_LINE}{}", state.line()));
        } else {
            kbisect_records::say!("progress: {}", state.line());
        }
    }
    EXIT_OK
}

/// What `report` needs besides the records.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// The bisect-step journal, for the crash report.
    pub journal: Option<PathBuf>,
    /// The kernel repository, for the culprit's `git show --stat`.
    pub repo: Option<PathBuf>,
    /// Titles of the bug.
    pub titles: Vec<String>,
    /// Also print what bisect-step prints with its result.
    pub full: bool,
}

/// Echo the records of `input`, printing the closing section for each
/// `result` record on stderr.
pub fn report<R: BufRead, W: Write>(
    opts: &ReportOptions,
    input: jsonl::Reader<R>,
    out: &mut jsonl::Writer<W>,
) -> i32 {
    let journal_records = match &opts.journal {
        None => Vec::new(),
        Some(p) => match read_journal(p) {
            Ok(j) => j,
            Err(status) => return status,
        },
    };
    for item in input {
        let obj = match item {
            Ok(obj) => obj,
            Err(e) => return bad_input(&e),
        };
        if RecordKind::of(&obj) == RecordKind::Result {
            let culprit = obj
                .get("culprit")
                .and_then(|c| c.get("commit"))
                .and_then(|c| c.as_str())
                .filter(|c| kbisect_records::is_full_sha(c));
            let show = match (&opts.repo, culprit) {
                (Some(r), Some(c)) => git_show(r, c),
                _ => None,
            };
            let crash = crate::target_crash(&journal_records, &opts.titles);
            let inputs = crate::ReportInputs {
                show: show.as_deref(),
                full: opts.full,
                crash_title: crash.as_ref().map(|c| c.0.as_str()),
                crash_report: crash.as_ref().and_then(|c| c.1.as_deref()),
            };
            say(crate::report(&obj, &inputs), stderr_terminal());
        }
        if let Err(e) = out.write(&obj) {
            return write_failed(e);
        }
    }
    EXIT_OK
}

/// Read the records of one revert-check build (and its runs) from `input`
/// and print the answer ([`crate::revert_check`]) as one word on `out`.
pub fn revert_check<R: BufRead, W: Write>(
    targets: &[String],
    input: jsonl::Reader<R>,
    out: &mut W,
) -> i32 {
    let mut records = Vec::new();
    for item in input {
        match item {
            Ok(obj) => records.push(obj),
            Err(e) => return bad_input(&e),
        }
    }
    let answer = crate::revert_check(&records, targets);
    match writeln!(out, "{answer}").and_then(|_| out.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) => write_failed(e.into()),
    }
}

/// Records of a journal. A line that is not a record is skipped with a
/// warning (the journal belongs to bisect-step, which checks it; a report is
/// still worth printing). A journal that cannot be opened or read (missing,
/// a directory) is bad input (exit 2): the user named it.
fn read_journal(path: &Path) -> Result<Vec<Object>, i32> {
    let mut records = Vec::new();
    each_journal_record(path, |obj| records.push(obj))?;
    Ok(records)
}

/// Hand each record of the journal at `path` to `take`, one at a time (a
/// journal of any length is read in one pass), skipping lines that are not
/// records as [`read_journal`] says. Returns how many lines were skipped.
fn each_journal_record(path: &Path, mut take: impl FnMut(Object)) -> Result<u64, i32> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            kbisect_records::say!("{TOOL}: journal {}: {e}", path.display());
            return Err(EXIT_USAGE);
        }
    };
    let mut skipped = 0u64;
    let reader = jsonl::Reader::new(std::io::BufReader::new(f), path.display().to_string());
    for item in reader {
        match item {
            Ok(obj) => take(obj),
            Err(e) if e.kind == jsonl::InputErrorKind::Read => return Err(bad_input(&e)),
            Err(e) => {
                skipped += 1;
                if skipped <= SKIPPED_LINES_SHOWN {
                    kbisect_records::say!("{TOOL}: skipping a journal line: {e}");
                }
            }
        }
    }
    if skipped > SKIPPED_LINES_SHOWN {
        kbisect_records::say!(
            "{TOOL}: {}: {skipped} journal lines skipped in all",
            path.display()
        );
    }
    Ok(skipped)
}

/// What `report --html` needs.
#[derive(Debug, Clone, Default)]
pub struct HtmlOptions {
    /// The page to write.
    pub html: PathBuf,
    /// The bisect-step journal it is drawn from.
    pub journal: Option<PathBuf>,
    /// The kernel repository, for the culprit's author and date.
    pub repo: Option<PathBuf>,
}

/// Write the HTML report of the journal ([`crate::html`]) to `opts.html`,
/// atomically: a reader (a browser reloading it while the bisection runs)
/// sees the old page or the new one, never half of one. Exit 2 without
/// `--journal` or with one that cannot be read; 1 when the page cannot be
/// written.
pub fn html_report(opts: &HtmlOptions) -> i32 {
    let Some(journal) = &opts.journal else {
        kbisect_records::say!(
            "{TOOL}: report --html needs --journal: the page is drawn from the journal"
        );
        return EXIT_USAGE;
    };
    let mut summary = crate::model::Summary::new();
    summary.skipped_lines = match each_journal_record(journal, |obj| summary.feed(&obj)) {
        Ok(n) => n,
        Err(status) => return status,
    };
    let topology = opts.repo.as_deref().and_then(|r| topology(r, &summary));
    let (author, date) = match (&opts.repo, summary.culprit()) {
        (Some(repo), Some((sha, _))) if kbisect_records::is_full_sha(&sha) => {
            author_and_date(repo, &sha)
        }
        _ => (None, None),
    };
    let dir = match opts.html.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let inputs = crate::html::PageInputs {
        journal: journal.clone(),
        report_dir: std::path::absolute(&dir).unwrap_or_else(|_| dir.clone()),
        author,
        date,
        topology,
    };
    let page = crate::html::page(&summary, &inputs);
    match write_atomically(&opts.html, &dir, page.as_bytes()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            kbisect_records::say!("{TOOL}: {}: {e}", opts.html.display());
            EXIT_FAILURE
        }
    }
}

/// Write `bytes` to a temporary file in `dir` and rename it over `path`.
fn write_atomically(path: &Path, dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut tmp = tempfile::Builder::new()
        .prefix(".kbisect-report.")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.flush()?;
    // A report is for reading (served, opened by others): not the 0600 of
    // a temporary file.
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// First-parent commits read when the range has no good end (release
/// testing): enough for any bisection's range, bounded for a whole history.
const FIRST_PARENT_MAX: &str = "--max-count=200000";
/// `git ARGS` in `repo`: its stdout, or none when git fails, said on
/// stderr as "no WHAT from REPO: why".
fn git_lines(repo: &Path, args: &[&str], what: &str) -> Option<String> {
    let out = duct::cmd("git", args)
        .dir(repo)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run();
    let why = match out {
        Ok(o) if o.status.success() => {
            return Some(String::from_utf8_lossy(&o.stdout).into_owned())
        }
        Ok(o) => String::from_utf8_lossy(&o.stderr)
            .lines()
            .next()
            .unwrap_or("git failed")
            .to_string(),
        Err(e) => e.to_string(),
    };
    kbisect_records::say!("{TOOL}: no {what} from {}: {why}", repo.display());
    None
}

/// Where the judged commits sit in the repository's graph: the first-parent
/// line of the range's newer end (bad for a cause, good for a fix) down to
/// its older ends, and for each judged commit off it the merge on the line
/// that brought it in. None when git cannot say; the page then orders by
/// verdicts.
fn topology(repo: &Path, sum: &crate::model::Summary) -> Option<crate::html::Topology> {
    let start = sum.start.as_ref()?;
    let sha = |v: &serde_json::Value| {
        v.as_str()
            .filter(|c| kbisect_records::is_full_sha(c))
            .map(str::to_string)
    };
    let bad = sha(start.get("bad")?)?;
    let good: Vec<String> = start
        .get("good")
        .and_then(|g| g.as_array())
        .map(|a| a.iter().filter_map(sha).collect())
        .unwrap_or_default();
    let (newer, older) = if sum.direction() == "fix" {
        (good.first()?.clone(), vec![bad])
    } else {
        (bad, good)
    };
    let mut args = vec!["rev-list", "--first-parent", newer.as_str()];
    if older.is_empty() {
        args.push(FIRST_PARENT_MAX);
    } else {
        args.push("--not");
        args.extend(older.iter().map(String::as_str));
    }
    let mut topo = crate::html::Topology::default();
    for (i, c) in git_lines(repo, &args, "commit graph")?.lines().enumerate() {
        topo.line.insert(c.to_string(), i);
    }
    let n = topo.line.len();
    for (i, c) in older.iter().enumerate() {
        topo.line.entry(c.clone()).or_insert(n + i);
    }
    let wanted: std::collections::HashSet<&str> = sum
        .steps
        .iter()
        .filter(|s| s.in_range() && s.verdict.is_some() && !topo.line.contains_key(&s.commit))
        .map(|s| s.commit.as_str())
        .collect();
    if wanted.is_empty() {
        return Some(topo);
    }
    // The whole range with parents, once: a merge M brings in what its
    // other parents reach that no older merge brought in, so walking the
    // merges oldest first, each commit is claimed by the merge that brought
    // it in. Linear in the range, one git call.
    args[1] = "--parents";
    let graph = git_lines(repo, &args, "commit graph")?;
    let parents: std::collections::HashMap<&str, Vec<&str>> = graph
        .lines()
        .filter_map(|l| {
            let mut words = l.split(' ');
            Some((words.next()?, words.collect()))
        })
        .collect();
    let mut line: Vec<(&str, usize)> = topo.line.iter().map(|(c, &i)| (c.as_str(), i)).collect();
    line.sort_by_key(|c| std::cmp::Reverse(c.1));
    let mut seen: std::collections::HashSet<&str> = Default::default();
    let mut merged_by = std::collections::HashMap::new();
    for (merge, _) in line {
        let mut stack: Vec<&str> = parents
            .get(merge)
            .map(|p| p.iter().skip(1).copied().collect())
            .unwrap_or_default();
        let mut rank = 0;
        while let Some(c) = stack.pop() {
            if topo.line.contains_key(c) || !seen.insert(c) {
                continue;
            }
            let Some(ps) = parents.get(c) else { continue };
            if wanted.contains(c) {
                // Found walking back from the merge: later ones are older.
                merged_by.insert(c.to_string(), (merge.to_string(), rank));
                rank += 1;
            }
            stack.extend(ps.iter().copied());
        }
        if merged_by.len() == wanted.len() {
            break;
        }
    }
    topo.merged_by = merged_by;
    Some(topo)
}

/// The culprit's author (`Name <mail>`) and date from the repository; none
/// when git cannot say (the report goes on without them, and says why).
fn author_and_date(repo: &Path, commit: &str) -> (Option<String>, Option<String>) {
    let Some(text) = git_lines(
        repo,
        &["show", "-s", "--format=%an <%ae>%n%aI", commit],
        "author of the culprit",
    ) else {
        return (None, None);
    };
    let mut lines = text.lines().map(str::to_string);
    (lines.next(), lines.next())
}

/// How many skipped journal lines are named one by one.
const SKIPPED_LINES_SHOWN: u64 = 3;

/// `git show --stat` of the culprit, as the seed's log has it. When git
/// cannot show it (not a repository, commit missing) the report goes on
/// without it, and says why on stderr.
fn git_show(repo: &Path, commit: &str) -> Option<String> {
    git_lines(
        repo,
        &["show", "--stat", "--no-decorate", "--format=medium", commit],
        "stat of the culprit",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_reader() -> jsonl::Reader<std::io::BufReader<std::fs::File>> {
        let dir = std::env::temp_dir();
        let f = std::fs::File::open(&dir).unwrap();
        jsonl::Reader::new(std::io::BufReader::new(f), dir.display().to_string())
    }

    #[test]
    fn a_directory_is_bad_input_not_a_spin() {
        let mut out = jsonl::Writer::new(Vec::new());
        assert_eq!(filter(dir_reader(), &mut out, None), EXIT_USAGE);
        let opts = ReportOptions {
            journal: Some(std::env::temp_dir()),
            ..Default::default()
        };
        assert_eq!(
            report(&opts, jsonl::Reader::new(&b""[..], "in"), &mut out),
            EXIT_USAGE
        );
        assert_eq!(
            report(&ReportOptions::default(), dir_reader(), &mut out),
            EXIT_USAGE
        );
        assert!(out.into_inner().is_empty());
        assert_eq!(revert_check(&[], dir_reader(), &mut Vec::new()), EXIT_USAGE);
    }

    #[test]
    fn a_missing_journal_is_bad_input() {
        let opts = ReportOptions {
            journal: Some("/nonexistent/journal.jsonl".into()),
            ..Default::default()
        };
        let mut out = jsonl::Writer::new(Vec::new());
        let input = b"{\"kind\":\"result\",\"status\":\"found\"}\n";
        assert_eq!(
            report(&opts, jsonl::Reader::new(&input[..], "in"), &mut out),
            EXIT_USAGE
        );
    }

    #[test]
    fn invalid_journal_lines_are_skipped_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("j.jsonl");
        std::fs::write(
            &j,
            b"{\"kind\":\"start\"}\nnot json\n[1]\n{\"kind\":\"run\"}\n",
        )
        .unwrap();
        assert_eq!(read_journal(&j).unwrap().len(), 2);
    }

    #[test]
    fn html_report_skips_bad_lines_and_writes_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("j.jsonl");
        let found = include_str!("../testdata/found.jsonl");
        std::fs::write(&j, format!("{found}not json\n[1]\n")).unwrap();
        let html = dir.path().join("r.html");
        let opts = HtmlOptions {
            html: html.clone(),
            journal: Some(j.clone()),
            repo: Some(dir.path().into()), // not a repository: no author
        };
        assert_eq!(html_report(&opts), EXIT_OK);
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.contains("2 journal lines that were not records skipped"));
        assert!(page.contains("block: free the inode&#39;s bdev early"));
        // Written again over the old page, no temporary file left beside it.
        assert_eq!(html_report(&opts), EXIT_OK);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn html_report_needs_a_journal_and_a_writable_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = HtmlOptions {
            html: dir.path().join("r.html"),
            ..Default::default()
        };
        assert_eq!(html_report(&opts), EXIT_USAGE);
        opts.journal = Some(dir.path().join("missing.jsonl"));
        assert_eq!(html_report(&opts), EXIT_USAGE);
        let j = dir.path().join("j.jsonl");
        std::fs::write(&j, "{\"kind\":\"start\"}\n").unwrap();
        opts.journal = Some(j);
        opts.html = dir.path().join("no/such/dir/r.html");
        assert_eq!(html_report(&opts), EXIT_FAILURE);
    }

    /// A repository with a topic branch merged into the main line:
    /// A - B - C - M - D on the first-parent line, T1 - T2 branched from A
    /// and merged by M. The commits' shas by name.
    fn merged_topic_repo(dir: &Path) -> std::collections::HashMap<&'static str, String> {
        let git = |args: &[&str]| {
            duct::cmd("git", args)
                .dir(dir)
                .env("GIT_AUTHOR_NAME", "A U Thor")
                .env("GIT_AUTHOR_EMAIL", "a@example.org")
                .env("GIT_COMMITTER_NAME", "A U Thor")
                .env("GIT_COMMITTER_EMAIL", "a@example.org")
                .stdout_capture()
                .stderr_capture()
                .read()
                .unwrap()
        };
        git(&["init", "-q", "-b", "main"]);
        let mut shas = std::collections::HashMap::new();
        for (name, before) in [
            ("A", None),
            ("T1", Some(&["checkout", "-q", "-b", "topic"][..])),
            ("T2", None),
            ("B", Some(&["checkout", "-q", "main"][..])),
            ("C", None),
            ("M", None),
            ("D", None),
        ] {
            if let Some(args) = before {
                git(args);
            }
            if name == "M" {
                git(&["merge", "-q", "--no-ff", "-m", "M", "topic"]);
            } else {
                git(&["commit", "-q", "--allow-empty", "-m", name]);
            }
            shas.insert(name, git(&["rev-parse", "HEAD"]));
        }
        shas
    }

    #[test]
    fn with_a_repo_topic_commits_hang_below_their_merge() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        let c = merged_topic_repo(&repo);
        let mut journal = format!(
            "{{\"kind\":\"start\",\"bad\":\"{}\",\"good\":[\"{}\"],\"direction\":\"cause\"}}\n",
            c["D"], c["A"]
        );
        for (name, verdict) in [("C", "good"), ("M", "bad"), ("T1", "good"), ("T2", "bad")] {
            journal.push_str(&format!(
                "{{\"kind\":\"verdict\",\"commit\":\"{}\",\"verdict\":\"{verdict}\"}}\n",
                c[name]
            ));
        }
        journal.push_str(&format!(
            "{{\"kind\":\"result\",\"status\":\"found\",\"culprit\":{{\"commit\":\"{}\",\"subject\":\"T2\"}}}}\n",
            c["T2"]
        ));
        let j = dir.path().join("j.jsonl");
        std::fs::write(&j, journal).unwrap();
        let mut sum = crate::model::Summary::new();
        each_journal_record(&j, |o| sum.feed(&o)).unwrap();
        let topo = topology(&repo, &sum).unwrap();
        assert_eq!(topo.line[&c["D"]], 0);
        assert_eq!(topo.line[&c["M"]], 1);
        assert_eq!(topo.line[&c["C"]], 2);
        assert!(topo.line[&c["A"]] > topo.line[&c["B"]]);
        assert_eq!(topo.merged_by[&c["T1"]], (c["M"].clone(), 1));
        assert_eq!(topo.merged_by[&c["T2"]], (c["M"].clone(), 0));

        let html = dir.path().join("r.html");
        let opts = HtmlOptions {
            html: html.clone(),
            journal: Some(j),
            repo: Some(repo),
        };
        assert_eq!(html_report(&opts), EXIT_OK);
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.contains("merged topic branches below the merge"));
        let t2 = &c["T2"][..12];
        assert!(
            page.contains(&format!(
                "cy=\"85\" r=\"8\" class=\"n-bad culprit\"><title>{t2} "
            )),
            "{page}"
        );
        assert!(page.contains(&format!(
            "cy=\"35\" r=\"6\" class=\"n-bad\"><title>{} ",
            &c["M"][..12]
        )));
        assert!(page.contains("<tr><th>author</th><td>A U Thor &lt;a@example.org&gt;</td></tr>"));
    }

    #[test]
    fn no_stat_from_a_directory_that_is_not_a_repository() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(git_show(dir.path(), &"a".repeat(40)), None);
    }

    #[test]
    fn revert_check_prints_one_word() {
        let input = b"{\"kind\":\"build\",\"ok\":true,\"commit\":\"c\"}\n{\"kind\":\"run\",\"outcome\":\"ok\",\"crashed\":false}\n";
        let mut out = Vec::new();
        let r = jsonl::Reader::new(&input[..], "in");
        assert_eq!(revert_check(&["T".into()], r, &mut out), EXIT_OK);
        assert_eq!(out, b"bug_gone\n");
    }

    #[test]
    fn the_progress_state_comes_from_the_first_next_with_a_count() {
        let rec = |v: serde_json::Value| v.as_object().unwrap().clone();
        let opts = ProgressOptions {
            step: 3,
            started: 1000.0,
        };
        let next = rec(
            serde_json::json!({"kind":"next","commit":"c","revisions_left":12,
            "steps_left":4,"culprit_probability":0.25}),
        );
        let state = progress_state(&next, opts, 1600.0).unwrap();
        assert_eq!(state.elapsed, 600.0);
        assert_eq!(state.culprit_probability, Some(0.25));
        assert_eq!(
            state.line(),
            "step 3: 12 candidates left, culprit 25% likely, 10m00s elapsed, about 25m00s left"
        );
        let revert = rec(serde_json::json!({"kind":"next","commit":"c","revert":"d"}));
        assert_eq!(progress_state(&revert, opts, 1600.0), None);
        let run = rec(serde_json::json!({"kind":"run","commit":"c","revisions_left":1}));
        assert_eq!(progress_state(&run, opts, 1600.0), None);
    }
}
