//! crashclass: decide whether a kernel console log holds a crash and name it
//! the way syzbot does ("WARNING in kvm_wait", "KASAN: use-after-free Read
//! in bdev_evict_inode", …).
//!
//! Three ways in:
//! - [`classify`]: a whole log in memory.
//! - [`classify_reader`]: a log of any size streamed from a reader. A
//!   multi-literal prefilter (Aho-Corasick over the oops headers) finds the
//!   first report; only a bounded window around it is kept and parsed, so
//!   memory stays flat however large the log.
//! - [`LiveDetector`]: console lines as a VM prints them; says when a report
//!   has started and when it is complete, so the VM can be stopped early.
//!
//! Each crash also gets a guilty file ([`guilty::guilty_file`]): the source
//! file syzbot would blame, skipping reporting and helper code; and
//! [`stack::frames_from`] gives the functions the crash ran.
//!
//! [`is_same_bug`] compares a classification with target titles. A corrupted
//! report (interleaved or truncated) is never matched by title: the answer
//! is `None` ("cannot tell"), like a log without a crash, so it is never
//! taken as evidence either way.

pub mod cli;
pub mod guilty;
mod oops;
mod parse;
pub mod stack;
pub mod title;
pub mod tool;

pub use kbisect_records::Classification;
use kbisect_records::{BugKind, Outcome, EXIT_CANNOT_TEST};
pub use parse::Parsed;

use aho_corasick::{AhoCorasick, MatchKind};
use std::io::{self, Read};
use std::sync::OnceLock;

/// Bytes of log kept before the first report line (for context lines).
const WINDOW_BEFORE: usize = 64 * 1024;
/// Bytes of log kept from the first report line on. Reports are a few KiB;
/// a huge window would only make the title search slower.
const WINDOW_AFTER: usize = 1024 * 1024;
/// Longest line the streaming classifier keeps whole.
const LONGEST_LINE: usize = 64 * 1024 * 1024;
/// Printed by GCE's serial console when the connection drops: the report
/// is probably cut short.
const CONSOLE_HANGUP: &[u8] = b"serialport: VM disconnected.";

/// Aho-Corasick automaton over every oops header: one pass finds every
/// line that may start a report.
pub(crate) fn prefilter() -> &'static AhoCorasick {
    static P: OnceLock<AhoCorasick> = OnceLock::new();
    P.get_or_init(|| header_automaton(MatchKind::LeftmostFirst))
}

fn header_automaton(kind: MatchKind) -> AhoCorasick {
    let headers: Vec<&str> = oops::table().iter().map(|o| o.header).collect();
    // line_oops keeps the headers present in a line in a u64.
    assert!(headers.len() <= 64, "too many oops headers for the bit set");
    // Leftmost semantics let the automaton use its SIMD (Teddy) searcher,
    // which is what makes the scan of a huge log fast.
    match AhoCorasick::builder().match_kind(kind).build(headers) {
        Ok(a) => a,
        Err(e) => panic!("building the header automaton: {e}"),
    }
}

/// Build every table once up front (tests use it to catch a bad pattern).
pub fn warm_up() {
    let _ = prefilter();
    let _ = oops::common();
    let _ = title::sanitize("x 1");
}

/// The titles the harness gives when the VM itself fails (as syzbot names
/// them); ktest uses these so that such runs carry a title like any other.
pub const NO_OUTPUT_TITLE: &str = "no output from test machine";
pub const LOST_CONNECTION_TITLE: &str = "lost connection to test machine";

/// The classification of a run the harness ended itself: the console went
/// silent ([`NO_OUTPUT_TITLE`]) or the VM vanished ([`LOST_CONNECTION_TITLE`]).
/// It is a crash with a title but no report; `is_same_bug` compares it like
/// any other title.
pub fn harness_crash(title: &str) -> Classification {
    Classification {
        crashed: true,
        title: Some(title.to_string()),
        ..Default::default()
    }
}

/// Longest `report` text put in a record: reports are a few KiB, but in a
/// log without caller context the report runs on to the next one, and
/// records travel through pipes and journals.
pub const MAX_REPORT_TEXT: usize = 64 * 1024;

fn cut_report(mut text: String) -> String {
    if text.len() > MAX_REPORT_TEXT {
        let mut cut = MAX_REPORT_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let cut = text[..cut].rfind('\n').map_or(cut, |i| i + 1);
        text.truncate(cut);
    }
    text
}

fn from_parsed(p: Parsed, base: u64, suppressed: bool, hangup: bool) -> Classification {
    Classification {
        crashed: true,
        title: Some(p.title),
        alt_titles: p.alt_titles,
        crash_type: p.crash_type,
        frame: p.frame,
        guilty_file: p.guilty_file,
        corrupted: p.corrupted || hangup,
        suppressed,
        report: Some(cut_report(p.report)),
        report_start: Some(base + p.start as u64),
        report_end: Some(base + p.end as u64),
        same_bug: None,
    }
}

/// Classify a whole console log.
pub fn classify(log: &[u8]) -> Classification {
    let Some(start) = first_report_line(log) else {
        return Classification::default();
    };
    let (ws, we) = window(log, start);
    let Some(p) = parse::parse(&log[ws..we]) else {
        return Classification::default();
    };
    let suppressed = oops::common().suppressions.is_match(log);
    let hangup = memchr::memmem::find(log, CONSOLE_HANGUP).is_some();
    from_parsed(p, ws as u64, suppressed, hangup)
}

/// The start of the first line that begins a report.
fn first_report_line(log: &[u8]) -> Option<usize> {
    let mut from = 0;
    while from < log.len() {
        let m = prefilter().find(&log[from..])?;
        let at = from + m.start();
        let ls = memchr::memrchr(b'\n', &log[..at]).map_or(0, |i| i + 1);
        let le = memchr::memchr(b'\n', &log[at..]).map_or(log.len(), |i| at + i);
        if parse::line_oops(&log[ls..le]).is_some() {
            return Some(ls);
        }
        from = le + 1;
    }
    None
}

/// Line-aligned bounds of the window parsed around a report at `start`.
fn window(log: &[u8], start: usize) -> (usize, usize) {
    let mut ws = start.saturating_sub(WINDOW_BEFORE);
    if ws > 0 {
        ws = memchr::memchr(b'\n', &log[ws..start]).map_or(start, |i| ws + i + 1);
    }
    let we = (start + WINDOW_AFTER).min(log.len());
    (ws, we)
}

/// Classify a log streamed from `input`, in bounded memory. Reads to the
/// end (a suppression pattern anywhere in the log matters).
pub fn classify_reader<R: Read>(input: R) -> io::Result<Classification> {
    classify_reader_chunked(input, 8 * 1024 * 1024)
}

/// [`classify_reader`] reading `chunk` bytes at a time (tests use small
/// chunks to put chunk boundaries everywhere).
#[doc(hidden)]
pub fn classify_reader_chunked<R: Read>(mut input: R, chunk: usize) -> io::Result<Classification> {
    let chunk = chunk.max(1);
    let mut buf: Vec<u8> = Vec::with_capacity(chunk + WINDOW_BEFORE);
    // Absolute offset of buf[0] in the log.
    let mut base: u64 = 0;
    // In buf, bytes before this were already searched for headers.
    let mut searched = 0usize;
    let mut found: Option<usize> = None; // report line start, in buf
    let mut suppressed = false;
    let mut hangup = false;
    let sup = &oops::common().suppressions;
    let mut eof = false;
    while !eof {
        let n = read_chunk(&mut input, &mut buf, chunk)?;
        eof = n == 0;
        // Work on whole lines; only a line longer than LONGEST_LINE is cut
        // (and a header straddling that cut is missed).
        let upto = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf[searched..]) {
                Some(i) => searched + i + 1,
                None if buf.len() - searched >= LONGEST_LINE.max(chunk) => buf.len(),
                None => continue,
            }
        };
        let fresh = &buf[searched..upto];
        if !suppressed && sup.is_match(fresh) {
            suppressed = true;
        }
        if !hangup && memchr::memmem::find(fresh, CONSOLE_HANGUP).is_some() {
            hangup = true;
        }
        if let Some(start) = found {
            if buf.len() >= start + WINDOW_AFTER || eof {
                break;
            }
        } else if let Some(s) = first_report_line(fresh) {
            found = Some(searched + s);
        }
        searched = upto;
        match found {
            Some(start) => {
                if buf.len() >= start + WINDOW_AFTER {
                    break;
                }
            }
            None => {
                // Keep only a line-aligned tail as context for a later report.
                let keep_from = searched.saturating_sub(WINDOW_BEFORE);
                if keep_from == 0 {
                    continue;
                }
                let keep_from = memchr::memchr(b'\n', &buf[keep_from..searched])
                    .map_or(searched, |i| keep_from + i + 1);
                buf.drain(..keep_from);
                base += keep_from as u64;
                searched -= keep_from;
            }
        }
    }
    let Some(start) = found else {
        return Ok(Classification::default());
    };
    // Scan the rest of the log for suppressions only, in fixed-size chunks.
    if !eof {
        let mut tail = Vec::new();
        loop {
            let n = read_chunk(&mut input, &mut tail, chunk)?;
            if n == 0 {
                break;
            }
            let cut = memchr::memrchr(b'\n', &tail).map_or(tail.len(), |i| i + 1);
            if !suppressed && sup.is_match(&tail[..cut]) {
                suppressed = true;
            }
            if !hangup && memchr::memmem::find(&tail[..cut], CONSOLE_HANGUP).is_some() {
                hangup = true;
            }
            tail.drain(..cut);
        }
    }
    let (ws, we) = window(&buf, start);
    Ok(match parse::parse(&buf[ws..we]) {
        Some(p) => from_parsed(p, base + ws as u64, suppressed, hangup),
        None => Classification::default(),
    })
}

/// Append up to `max` bytes from `r` to `buf` (fewer only at the end).
fn read_chunk<R: Read>(r: &mut R, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    r.by_ref().take(max as u64).read_to_end(buf)
}

/// Alternative titles a target title implies: a target written as
/// "KASAN: use-after-free Read in f" also means "bad-access in f", just as
/// a crash titled so would list it. Derived from the format table.
pub fn target_alt_titles(target: &str) -> Vec<String> {
    let mut out = Vec::new();
    for o in oops::table() {
        for f in &o.formats {
            if f.alt.is_empty() {
                continue;
            }
            let Some(args) = match_template(f.fmt, target) else {
                continue;
            };
            for a in &f.alt {
                if let Some(t) = fill_template(a, &args) {
                    if t != target && !out.contains(&t) {
                        out.push(t);
                    }
                }
            }
        }
    }
    out
}

/// Match a title against a `{N}` template; the values of the placeholders.
fn match_template(tmpl: &str, s: &str) -> Option<Vec<(usize, String)>> {
    let mut re = String::from("^");
    let mut idx = Vec::new();
    let mut rest = tmpl;
    while let Some(open) = rest.find('{') {
        re.push_str(&regex::escape(&rest[..open]));
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        idx.push(after[..close].parse::<usize>().ok()?);
        re.push_str("(.+?)");
        rest = &after[close + 1..];
    }
    re.push_str(&regex::escape(rest));
    re.push('$');
    let caps = regex::Regex::new(&re).ok()?.captures(s)?;
    Some(
        idx.into_iter()
            .enumerate()
            .filter_map(|(i, n)| caps.get(i + 1).map(|m| (n, m.as_str().to_string())))
            .collect(),
    )
}

fn fill_template(tmpl: &str, args: &[(usize, String)]) -> Option<String> {
    let mut out = String::new();
    let mut rest = tmpl;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let n: usize = after[..close].parse().ok()?;
        out.push_str(&args.iter().find(|(k, _)| *k == n)?.1);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Is the crash in `class` the bug named by one of `targets`?
///
/// - `None`: no crash, or the report is corrupted (its title cannot be
///   trusted to tell one bug from another).
/// - `Some(true)`: the title or an alt title equals a target or one of the
///   alt titles the target implies ([`target_alt_titles`]).
/// - `Some(false)`: a different crash.
///
/// Targets are compared after the same sanitising as computed titles, so a
/// title copied from a report with its line numbers still matches.
pub fn is_same_bug(class: &Classification, targets: &[String]) -> Option<bool> {
    if !class.crashed || class.corrupted {
        return None;
    }
    let mut wanted: Vec<String> = Vec::new();
    for t in targets {
        let t = title::sanitize(t);
        wanted.extend(target_alt_titles(&t));
        wanted.push(t);
    }
    let mut titles = class.title.iter().chain(class.alt_titles.iter());
    Some(titles.any(|t| wanted.iter().any(|x| x == t)))
}

/// Does a crash run count as the target bug? The one rule every tool and
/// script asks (bisect-step's evidence, kbisect-log's report, the revert
/// check), so that they can never disagree.
///
/// - `None`: no evidence either way: no crash, or a corrupted report (its
///   title cannot be trusted to tell one bug from another), whatever the
///   record's `same_bug` says.
/// - the record's `same_bug`, when crashclass already compared it;
/// - otherwise [`is_same_bug`] against `targets`; with no targets at all,
///   every crash is the bug.
pub fn counts_as_target(class: &Classification, targets: &[String]) -> Option<bool> {
    if !class.crashed || class.corrupted {
        return None;
    }
    if let Some(same) = class.same_bug {
        return Some(same);
    }
    if targets.is_empty() {
        return Some(true);
    }
    is_same_bug(class, targets)
}

/// What one VM run says about the bug a bisection hunts: `Some(true)` it
/// shows the bug, `Some(false)` it shows a kernel without it, `None` no
/// evidence either way. The one rule for every kind of bug (`--bug`), which
/// bisect-step's evidence and the culprit checks all ask.
///
/// - [`BugKind::Crash`]: a crash after boot that [`counts_as_target`] is
///   the bug; a clean run is not; other crashes, boot and test failures
///   are no evidence.
/// - [`BugKind::Boot`]: a boot failure is the bug when its crash title is a
///   target, or with no targets at all (a silent or hung boot included); a
///   boot failure with another title is no evidence; a kernel that booted
///   is good, whatever happened after.
/// - [`BugKind::Exit`]: the test's exit status, as `git bisect run` reads
///   it: 0 good, 125 ([`EXIT_CANNOT_TEST`]) no evidence, other 1–127 bad;
///   no status (killed by a signal, by the run timeout, or the guest never
///   got that far) is no evidence. A crash whose title is one of the given
///   targets is bad as well; other crashes are no evidence.
pub fn run_shows_bug(
    bug: BugKind,
    targets: &[String],
    outcome: Outcome,
    class: &Classification,
    exit_status: Option<i32>,
) -> Option<bool> {
    match bug {
        BugKind::Crash => match outcome {
            Outcome::Ok => Some(false),
            Outcome::Crashed => counts_as_target(class, targets).filter(|&bug| bug),
            _ => None,
        },
        BugKind::Boot => match outcome {
            Outcome::BootFailed if targets.is_empty() => Some(true),
            Outcome::BootFailed => counts_as_target(class, targets).filter(|&bug| bug),
            Outcome::Ok | Outcome::Crashed | Outcome::TestFailed => Some(false),
            Outcome::InfraError | Outcome::Skipped => None,
        },
        BugKind::Exit => match outcome {
            Outcome::Crashed if !targets.is_empty() => {
                counts_as_target(class, targets).filter(|&bug| bug)
            }
            Outcome::Ok | Outcome::TestFailed => match exit_status {
                Some(0) => Some(false),
                Some(EXIT_CANNOT_TEST) => None,
                Some(1..=127) => Some(true),
                _ => None,
            },
            _ => None,
        },
    }
}

/// Where a live console stream stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveState {
    /// No crash report seen yet.
    Quiet,
    /// A crash report has started; keep reading.
    ReportStarted,
    /// The report is complete: the VM can be stopped.
    ReportComplete,
}

/// Lines after the last stack frame at which a report is taken as over.
/// Generous: lockdep prints lock lists between stacks, KASAN a memory dump
/// after them, and stopping the VM too early loses the rest for good.
const LINES_AFTER_STACK: usize = 100;
/// Lines after the report start at which it is over whatever it holds.
const MAX_REPORT_LINES: usize = 2000;
/// Lines of context kept before the report start.
const LIVE_PREFIX_LINES: usize = 64;

/// Watches console output line by line as a VM prints it.
///
/// Per line it costs one Aho-Corasick scan (plus a few substring checks
/// once a report has started). The report is complete at the kernel's end
/// markers ("---[ end trace", "---[ end Kernel panic", "Rebooting in"), or
/// [`LINES_AFTER_STACK`] lines after the last stack frame, or after
/// [`MAX_REPORT_LINES`]. A report that just stops (the VM hung) is the
/// caller's quiet timeout: call [`LiveDetector::finish`].
#[derive(Debug, Default)]
pub struct LiveDetector {
    state: Option<LiveState>,
    lines_since_start: usize,
    lines_since_frame: usize,
    seen_frame: bool,
    /// Lines kept for [`LiveDetector::classification`]: some context before
    /// the report, then the report (bounded).
    kept: Vec<Vec<u8>>,
}

impl LiveDetector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one console line (without its newline). Returns the new state.
    pub fn feed_line(&mut self, line: &[u8]) -> LiveState {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match self.state.unwrap_or(LiveState::Quiet) {
            LiveState::Quiet => {
                self.keep(line, LIVE_PREFIX_LINES);
                if prefilter().find(line).is_some() && parse::line_oops(line).is_some() {
                    self.state = Some(LiveState::ReportStarted);
                }
            }
            LiveState::ReportStarted => {
                self.keep(line, MAX_REPORT_LINES + LIVE_PREFIX_LINES);
                self.lines_since_start += 1;
                if is_frame_line(line) {
                    self.seen_frame = true;
                    self.lines_since_frame = 0;
                } else {
                    self.lines_since_frame += 1;
                }
                if is_end_marker(line)
                    || (self.seen_frame && self.lines_since_frame >= LINES_AFTER_STACK)
                    || self.lines_since_start >= MAX_REPORT_LINES
                {
                    self.state = Some(LiveState::ReportComplete);
                }
            }
            LiveState::ReportComplete => {}
        }
        self.state()
    }

    /// The current state.
    pub fn state(&self) -> LiveState {
        self.state.unwrap_or(LiveState::Quiet)
    }

    /// The stream ended (VM exited or timed out); say what we have. A report
    /// that had started is as complete as it will get.
    pub fn finish(&mut self) -> LiveState {
        if self.state() == LiveState::ReportStarted {
            self.state = Some(LiveState::ReportComplete);
        }
        self.state()
    }

    /// Classify the lines seen so far (offsets are relative to the kept
    /// lines, not the whole stream: classify the saved log for real offsets).
    pub fn classification(&self) -> Classification {
        let mut text = Vec::new();
        for l in &self.kept {
            text.extend_from_slice(l);
            text.push(b'\n');
        }
        classify(&text)
    }

    fn keep(&mut self, line: &[u8], max: usize) {
        if self.kept.len() >= max {
            if self.state() == LiveState::Quiet {
                self.kept.remove(0);
            } else {
                return;
            }
        }
        self.kept.push(line[..line.len().min(4096)].to_vec());
    }
}

/// A stack frame line: "func+0x12/0x34" somewhere in it.
fn is_frame_line(line: &[u8]) -> bool {
    let Some(plus) = memchr::memmem::find(line, b"+0x") else {
        return false;
    };
    memchr::memchr(b'/', &line[plus..])
        .is_some_and(|s| line.get(plus + s + 1..plus + s + 3) == Some(b"0x"))
}

fn is_end_marker(line: &[u8]) -> bool {
    const MARKERS: &[&[u8]] = &[
        b"---[ end trace",
        b"---[ end Kernel panic",
        b"Rebooting in ",
    ];
    MARKERS
        .iter()
        .any(|m| memchr::memmem::find(line, m).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_compile() {
        warm_up();
    }

    #[test]
    fn long_reports_are_cut_at_a_line_end() {
        let text = "line of text\n".repeat(10_000);
        let cut = cut_report(text);
        assert!(cut.len() <= MAX_REPORT_TEXT && cut.ends_with('\n'));
        assert_eq!(cut_report("short".into()), "short");
    }

    #[test]
    fn frame_lines() {
        assert!(is_frame_line(b"[  1.2] kvm_wait+0x1c/0x20"));
        assert!(!is_frame_line(b"[  1.2] hello"));
    }

    #[test]
    fn target_alts_follow_the_table() {
        let alts = target_alt_titles("KASAN: use-after-free Read in foo");
        assert!(alts.contains(&"bad-access in foo".to_string()), "{alts:?}");
        assert!(target_alt_titles("WARNING in kvm_wait").is_empty());
    }

    #[test]
    fn a_corrupted_report_never_counts() {
        // The record issue 12 names: crashed, corrupted, the target title and
        // no same_bug (ktest wrote none: crashclass returned null).
        let class = Classification {
            crashed: true,
            corrupted: true,
            title: Some("WARNING in kvm_wait".into()),
            ..Default::default()
        };
        let targets = ["WARNING in kvm_wait".to_string()];
        assert_eq!(counts_as_target(&class, &targets), None);
        assert_eq!(counts_as_target(&class, &[]), None);
        let said = Classification {
            same_bug: Some(true),
            ..class.clone()
        };
        assert_eq!(counts_as_target(&said, &targets), None);
    }

    #[test]
    fn run_rule_for_each_kind_of_bug() {
        use kbisect_records::{BugKind::*, Outcome::*};
        let crash = |title: &str| Classification {
            crashed: true,
            title: Some(title.into()),
            ..Default::default()
        };
        let target = vec!["WARNING in alloc_pid".to_string()];
        let warn = crash("WARNING in alloc_pid");
        let other = crash("BUG in foo");
        let none = Classification::default();
        // crash: today's rule.
        assert_eq!(
            run_shows_bug(Crash, &target, Crashed, &warn, None),
            Some(true)
        );
        assert_eq!(run_shows_bug(Crash, &target, Crashed, &other, None), None);
        assert_eq!(run_shows_bug(Crash, &target, Ok, &none, None), Some(false));
        assert_eq!(run_shows_bug(Crash, &target, BootFailed, &warn, None), None);
        // boot: a boot failure with the title is the bug, another is not evidence.
        assert_eq!(
            run_shows_bug(Boot, &target, BootFailed, &warn, None),
            Some(true)
        );
        assert_eq!(run_shows_bug(Boot, &target, BootFailed, &other, None), None);
        assert_eq!(
            run_shows_bug(Boot, &[], BootFailed, &none, None),
            Some(true)
        );
        assert_eq!(run_shows_bug(Boot, &target, Ok, &none, None), Some(false));
        assert_eq!(
            run_shows_bug(Boot, &target, Crashed, &warn, None),
            Some(false)
        );
        assert_eq!(run_shows_bug(Boot, &[], InfraError, &none, None), None);
        // exit: git bisect run's reading of the status.
        assert_eq!(run_shows_bug(Exit, &[], Ok, &none, Some(0)), Some(false));
        assert_eq!(
            run_shows_bug(Exit, &[], TestFailed, &none, Some(1)),
            Some(true)
        );
        assert_eq!(
            run_shows_bug(Exit, &[], TestFailed, &none, Some(127)),
            Some(true)
        );
        assert_eq!(run_shows_bug(Exit, &[], TestFailed, &none, Some(125)), None);
        assert_eq!(run_shows_bug(Exit, &[], TestFailed, &none, Some(137)), None);
        assert_eq!(run_shows_bug(Exit, &[], Ok, &none, None), None);
        assert_eq!(run_shows_bug(Exit, &[], Crashed, &other, None), None);
        assert_eq!(
            run_shows_bug(Exit, &target, Crashed, &warn, None),
            Some(true)
        );
        assert_eq!(run_shows_bug(Exit, &target, Crashed, &other, None), None);
    }

    #[test]
    fn target_rule_takes_same_bug_then_titles_then_any_crash() {
        let crash = |title: &str| Classification {
            crashed: true,
            title: Some(title.into()),
            ..Default::default()
        };
        let targets = ["WARNING in kvm_wait".to_string()];
        assert_eq!(
            counts_as_target(&crash("WARNING in kvm_wait"), &targets),
            Some(true)
        );
        assert_eq!(
            counts_as_target(&crash("BUG in foo"), &targets),
            Some(false)
        );
        assert_eq!(counts_as_target(&crash("BUG in foo"), &[]), Some(true));
        let said = Classification {
            same_bug: Some(false),
            ..crash("WARNING in kvm_wait")
        };
        assert_eq!(counts_as_target(&said, &targets), Some(false));
        assert_eq!(counts_as_target(&Classification::default(), &targets), None);
    }
}
