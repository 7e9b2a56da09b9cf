//! The self-contained HTML report of one bisection (`kbisect-log report
//! --html`): a [`Summary`] of the journal drawn as one page with inline CSS
//! and SVG, no script and nothing fetched from the network.
//!
//! This module owns the page: the summary of the result (or "in progress"),
//! the candidate range, how the candidates narrowed, where the time went,
//! the tested commits with one mark per VM run, the crashes and the command
//! that reproduces the bisection. Every string from the journal goes
//! through [`esc`] on its way in. The page stays bounded for long journals:
//! charts draw at most a few hundred points or bars and the tested commits
//! past the first [`ROWS_OPEN`] are folded in a `<details>`.

use crate::model::{Outcome, RunMark, Step, Summary};
use crate::strings;
use kbisect_records::Object;
use serde_json::Value;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Tested-commit rows shown open; later ones are folded.
pub const ROWS_OPEN: usize = 50;
/// Tested-commit rows written at all (the rest are counted).
pub const ROWS_MAX: usize = 2000;
/// Run marks drawn in an open row and in a folded one (the rest are counted).
const MARKS_OPEN: usize = 100;
const MARKS_FOLDED: usize = 12;
/// Commits drawn on each side of the candidate range, nearest the culprit.
const RANGE_NODES_PER_SIDE: usize = 150;
/// Points of the narrowing chart and bars of the time chart, at most.
const CHART_POINTS: usize = 400;
const TIME_BARS: usize = 200;

/// What the page needs besides the journal.
#[derive(Debug, Default, Clone)]
pub struct PageInputs {
    /// The journal's path, as given (for the reproducing command line).
    pub journal: PathBuf,
    /// The directory the page is written to, absolute: console log links
    /// under it are relative, others `file://` URLs.
    pub report_dir: PathBuf,
    /// The culprit's author and date, when a repository knew them.
    pub author: Option<String>,
    pub date: Option<String>,
    /// Where the drawn commits sit in the commit graph, when a repository
    /// said (the journal's records carry no parents).
    pub topology: Option<Topology>,
}

/// The candidate range's shape around the commits the journal knows: the
/// first-parent line of the range's newer end, and for a commit on a
/// merged topic branch the merge on that line that brought it in.
#[derive(Debug, Default, Clone)]
pub struct Topology {
    /// Position on the first-parent line, 0 the newer end, growing older.
    pub line: std::collections::HashMap<String, usize>,
    /// Commit off the line → the merge on the line that brought it in, and
    /// its rank among that merge's judged commits (0 nearest the merge).
    pub merged_by: std::collections::HashMap<String, (String, usize)>,
}

/// `text` escaped for HTML text and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn s<'a>(obj: &'a Object, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

fn num(obj: &Object, key: &str) -> Option<f64> {
    obj.get(key)
        .and_then(Value::as_f64)
        .filter(|n| n.is_finite())
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// CSS class of a run outcome's colour.
fn outcome_class(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "o-ok",
        Outcome::TargetCrash => "o-tc",
        Outcome::OtherCrash => "o-oc",
        Outcome::BootFailed => "o-bf",
        Outcome::TestFailed => "o-tf",
        Outcome::InfraError => "o-ie",
        Outcome::Skipped => "o-sk",
    }
}

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1280px;padding:0 1em;color:#222;background:#fff}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #eee}
th{background:#f4f4f4}code,pre{font:12px/1.35 ui-monospace,monospace}pre{background:#f7f7f7;padding:.6em;overflow:auto;max-height:40em}
.kv th{width:12em;background:none}.status{font-weight:bold;padding:2px 8px;border-radius:4px;color:#fff}
.found{background:#2e7d32}.progress{background:#1565c0}.other{background:#b26a00}
.m{display:inline-block;width:10px;height:10px;margin:0 1px;border-radius:2px;vertical-align:middle}
.o-ok{background:#2ca02c;fill:#2ca02c}.o-tc{background:#d62728;fill:#d62728}.o-oc{background:#ff7f0e;fill:#ff7f0e}
.o-bf{background:#8c564b;fill:#8c564b}.o-tf{background:#9467bd;fill:#9467bd}.o-ie{background:#7f7f7f;fill:#7f7f7f}.o-sk{background:#ccc;fill:#ccc}
.v-good{color:#2e7d32;font-weight:bold}.v-bad{color:#c62828;font-weight:bold}.v-skip{color:#777;font-weight:bold}
.legend span{margin-right:1em}svg{max-width:100%;height:auto;background:#fcfcfc;border:1px solid #eee}
.n-good{fill:#2ca02c}.n-bad{fill:#d62728}.n-skip{fill:#bbb}.n-untestable{fill:#555}.n-none{fill:#fff;stroke:#999}
.culprit{stroke:#000;stroke-width:3}.b-build{fill:#1f77b4}.b-test{fill:#ff7f0e}.axis{stroke:#999;stroke-width:1}
text{font:11px system-ui,sans-serif;fill:#444}";

/// The whole page.
pub fn page(sum: &Summary, inputs: &PageInputs) -> String {
    let mut out = String::with_capacity(64 * 1024 + sum.steps.len() * 1024);
    let title = match sum.culprit() {
        Some((sha, subject)) => format!(
            "kbisect: {} {}",
            short(&sha),
            subject.as_deref().unwrap_or("")
        ),
        None => "kbisect: bisection report".to_string(),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<title>{}</title><style>{CSS}</style></head><body>\n",
        esc(&title)
    );
    summary_section(&mut out, sum, inputs);
    range_section(&mut out, sum, inputs);
    narrowing_section(&mut out, sum);
    time_section(&mut out, sum);
    steps_section(&mut out, sum, inputs);
    crash_section(&mut out, sum);
    config_section(&mut out, sum);
    command_section(&mut out, sum, inputs);
    let _ = write!(out, "<p><small>Drawn from {} journal records", sum.records);
    if sum.skipped_lines > 0 {
        let _ = write!(
            out,
            "; {} journal lines that were not records skipped",
            sum.skipped_lines
        );
    }
    out.push_str(".</small></p>\n</body></html>\n");
    out
}

fn row(out: &mut String, key: &str, value_html: &str) {
    let _ = writeln!(out, "<tr><th>{}</th><td>{value_html}</td></tr>", esc(key));
}

fn summary_section(out: &mut String, sum: &Summary, inputs: &PageInputs) {
    let start = sum.start.as_ref();
    let fix = sum.direction() == "fix";
    out.push_str("<h1>Bisection report</h1>\n<table class=\"kv\">\n");
    match &sum.result {
        None => {
            row(
                out,
                "status",
                "<span class=\"status progress\">in progress</span>",
            );
            let tested = sum.steps.iter().filter(|s| s.verdict.is_some()).count();
            let mut now = format!("{tested} commits judged");
            if let Some(last) = sum.steps.last() {
                let _ = write!(
                    now,
                    "; now testing <code>{}</code> {}",
                    esc(short(&last.commit)),
                    esc(last.subject.as_deref().unwrap_or(""))
                );
                if let Some(n) = last.revisions_left {
                    let _ = write!(now, "; {n} candidates left after it");
                }
                if let Some(n) = last.steps_left {
                    let _ = write!(now, " (about {n} steps)");
                }
            }
            row(out, "current state", &now);
            if let Some(e) = &sum.last_error {
                row(out, "last error", &esc(e));
            }
        }
        Some(r) => {
            let status = s(r, "status").unwrap_or("?");
            let class = if status == "found" { "found" } else { "other" };
            row(
                out,
                "status",
                &format!("<span class=\"status {class}\">{}</span>", esc(status)),
            );
            if let Some(m) = s(r, "message").or(s(r, "error")) {
                row(out, "message", &esc(m));
            }
            if let Some((sha, subject)) = sum.culprit() {
                let what = if fix {
                    "first fixed commit"
                } else {
                    "culprit (first bad commit)"
                };
                row(
                    out,
                    what,
                    &format!(
                        "<code>{}</code> {}",
                        esc(&sha),
                        esc(subject.as_deref().unwrap_or(""))
                    ),
                );
            }
            if let Some(a) = &inputs.author {
                row(out, "author", &esc(a));
            }
            if let Some(d) = &inputs.date {
                row(out, "date", &esc(d));
            }
            for cand in r
                .get("candidates")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .take(50)
            {
                row(
                    out,
                    "candidate",
                    &format!(
                        "<code>{}</code> {}",
                        esc(s(cand, "commit").unwrap_or("?")),
                        esc(s(cand, "subject").unwrap_or(""))
                    ),
                );
            }
            if let Some(c) = num(r, "confidence") {
                row(out, "confidence", &format!("{:.1}%", c * 100.0));
            }
            let flags: Vec<&str> = ["noop", "merge", "release", "flaky"]
                .into_iter()
                .filter(|f| r.get(*f).and_then(Value::as_bool) == Some(true))
                .collect();
            row(
                out,
                "flags",
                &if flags.is_empty() {
                    "none".to_string()
                } else {
                    esc(&flags.join(", "))
                },
            );
            if let Some(rate) = num(r, "repro_rate") {
                row(out, "reproduction rate", &format!("{:.0}%", rate * 100.0));
            }
            if let Some(rc) = s(r, "revert_check") {
                row(out, "revert check", &esc(rc));
            }
            if let Some(rec) = r.get("recipients").and_then(Value::as_object) {
                for key in ["to", "cc"] {
                    let list = strings(rec, key);
                    row(out, &format!("recipients ({key})"), &esc(&list.join(", ")));
                }
            }
            let n = |k| num(r, k).unwrap_or(0.0);
            row(
                out,
                "cost",
                &format!(
                    "{} revisions tested, {} builds, {} VM runs; {} (build {}, test {})",
                    n("revisions_tested"),
                    n("builds"),
                    n("vm_runs"),
                    crate::duration(n("seconds")),
                    crate::duration(n("build_seconds")),
                    crate::duration(n("test_seconds"))
                ),
            );
        }
    }
    row(
        out,
        "direction",
        if fix {
            "fix (the commit that fixed the bug)"
        } else {
            "cause (the commit that brought the bug in)"
        },
    );
    if let Some(st) = start {
        let titles = strings(st, "target");
        row(
            out,
            "bug",
            &format!(
                "{} ({})",
                if titles.is_empty() {
                    match s(st, "bug") {
                        Some("boot") => "any boot failure",
                        Some("exit") => "the test's exit status",
                        _ => "any crash",
                    }
                    .to_string()
                } else {
                    esc(&titles.join(" | "))
                },
                esc(s(st, "bug").unwrap_or("crash"))
            ),
        );
        let good = strings(st, "good");
        row(
            out,
            "range",
            &format!(
                "bad <code>{}</code>, good {}",
                esc(short(s(st, "bad").unwrap_or("?"))),
                if good.is_empty() {
                    esc(s(st, "releases").map_or("none", |_| "from release testing"))
                } else {
                    good.iter()
                        .map(|g| format!("<code>{}</code>", esc(short(g))))
                        .collect::<Vec<_>>()
                        .join(" ")
                }
            ),
        );
    } else {
        row(out, "bug", "unknown: the journal has no start record");
    }
    out.push_str("</table>\n");
}

/// A node's radius where nodes are `dx` apart: 6, smaller when they crowd
/// so neighbours stay apart.
fn node_radius(dx: f64) -> f64 {
    (dx * 0.4).clamp(1.5, 6.0)
}

/// A commit on the candidate range: where its verdict puts it.
struct RangeNode<'a> {
    step: &'a Step,
    class: &'static str,
}

fn node_class(step: &Step) -> &'static str {
    match step.verdict.as_deref() {
        Some("good") => "n-good",
        Some("bad") => "n-bad",
        Some("skip") if step.build_ok == Some(false) => "n-untestable",
        Some("skip") => "n-skip",
        _ => "n-none",
    }
}

/// The candidate range as the verdicts order it: commits of the older side
/// (good for a cause, bad for a fix) are ancestors of the culprit, later
/// tests nearer to it; the newer side mirrors it. Skipped and untestable
/// commits (their place in the range unknown to the journal) sit on a
/// second lane.
fn range_section(out: &mut String, sum: &Summary, inputs: &PageInputs) {
    let fix = sum.direction() == "fix";
    let (older_word, newer_word) = if fix {
        ("bad", "good")
    } else {
        ("good", "bad")
    };
    // The latest verdict of each commit, in the order first tested.
    let mut seen: std::collections::HashMap<&str, usize> = Default::default();
    let mut judged: Vec<&Step> = Vec::new();
    for step in sum
        .steps
        .iter()
        .filter(|s| s.in_range() && s.verdict.is_some())
    {
        match seen.get(step.commit.as_str()) {
            Some(&i) => judged[i] = step,
            None => {
                seen.insert(&step.commit, judged.len());
                judged.push(step);
            }
        }
    }
    if judged.is_empty() {
        return;
    }
    let culprit = sum.culprit().map(|c| c.0);
    if let Some(topo) = &inputs.topology {
        return graph_range(out, &judged, topo, culprit.as_deref());
    }
    let pick = |word: &str| -> Vec<&Step> {
        judged
            .iter()
            .copied()
            .filter(|s| s.verdict.as_deref() == Some(word))
            .collect()
    };
    let older = pick(older_word);
    let mut newer = pick(newer_word);
    newer.reverse();
    let lane2: Vec<&Step> = pick("skip");
    let older_cut = older.len().saturating_sub(RANGE_NODES_PER_SIDE);
    let newer_cut = newer.len().saturating_sub(RANGE_NODES_PER_SIDE);
    let lane2_cut = lane2.len().saturating_sub(RANGE_NODES_PER_SIDE);
    let line: Vec<RangeNode> = older[older_cut..]
        .iter()
        .chain(newer[..newer.len() - newer_cut].iter())
        .map(|s| RangeNode {
            step: s,
            class: node_class(s),
        })
        .collect();
    let n = line.len().max(lane2.len() - lane2_cut).max(1);
    let width = 1200.0;
    let dx = ((width - 40.0) / n as f64).min(30.0);
    let _ = write!(
        out,
        "<h2>Candidate range</h2>\n<p class=\"legend\">Older end left, newer end right; \
each commit placed by its verdict ({older_word} commits are older than the culprit, \
{newer_word} ones newer; pass --repo to draw the commit graph). Skipped and untestable commits below. {RANGE_LEGEND}</p>\n"
    );
    if older_cut + newer_cut + lane2_cut > 0 {
        let _ = writeln!(
            out,
            "<p>{} commits farther from the culprit are not drawn.</p>",
            older_cut + newer_cut + lane2_cut
        );
    }
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {width} 110\" width=\"{width}\" height=\"110\" role=\"img\" aria-label=\"candidate range\">\
<line class=\"axis\" x1=\"20\" y1=\"35\" x2=\"{}\" y2=\"35\"/>",
        width - 20.0
    );
    let node = |out: &mut String, x: f64, y: f64, step: &Step, class: &str| {
        let is_culprit = culprit.as_deref() == Some(step.commit.as_str());
        let _ = write!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y}\" r=\"{}\" class=\"{class}{}\"><title>{} {} — {}</title></circle>",
            if is_culprit { 8.0 } else { node_radius(dx) },
            if is_culprit { " culprit" } else { "" },
            esc(short(&step.commit)),
            esc(step.subject.as_deref().unwrap_or("")),
            esc(step.verdict.as_deref().unwrap_or("not judged"))
        );
    };
    let x0 = 20.0 + dx / 2.0;
    for (i, nd) in line.iter().enumerate() {
        node(out, x0 + i as f64 * dx, 35.0, nd.step, nd.class);
    }
    // The culprit sits between the sides; mark the boundary.
    let boundary = x0 + (older.len() - older_cut) as f64 * dx - dx / 2.0;
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{boundary:.1}\" y1=\"15\" x2=\"{boundary:.1}\" y2=\"55\" stroke-dasharray=\"3,3\"/>"
    );
    for (i, s) in lane2[lane2_cut..].iter().enumerate() {
        node(out, x0 + i as f64 * dx, 85.0, s, node_class(s));
    }
    out.push_str("</svg>\n");
}

const RANGE_LEGEND: &str = "<span><svg width=\"10\" height=\"10\"><circle cx=\"5\" cy=\"5\" r=\"4\" class=\"n-good\"/></svg> good</span>\
<span><svg width=\"10\" height=\"10\"><circle cx=\"5\" cy=\"5\" r=\"4\" class=\"n-bad\"/></svg> bad</span>\
<span><svg width=\"10\" height=\"10\"><circle cx=\"5\" cy=\"5\" r=\"4\" class=\"n-skip\"/></svg> skipped</span>\
<span><svg width=\"10\" height=\"10\"><circle cx=\"5\" cy=\"5\" r=\"4\" class=\"n-untestable\"/></svg> untestable (build failed)</span>\
<span>black ring: culprit</span>";

/// The candidate range over the commit graph: the first-parent line (older
/// left), each merged topic branch's judged commits below the merge that
/// brought them in. Positions are ranks, not distances: a range of
/// 100,000 commits draws as the few hundred the journal knows.
fn graph_range(out: &mut String, judged: &[&Step], topo: &Topology, culprit: Option<&str>) {
    let keep = judged.len().saturating_sub(3 * RANGE_NODES_PER_SIDE);
    let judged = &judged[keep..];
    // (line position, commit drawn there, judged step when it is one)
    let mut on_line: Vec<(usize, &str, Option<&Step>)> = Vec::new();
    let mut off_line: Vec<(&Step, &str, usize)> = Vec::new();
    let mut unplaced = 0usize;
    for step in judged {
        if let Some(&pos) = topo.line.get(&step.commit) {
            on_line.push((pos, &step.commit, Some(step)));
        } else if let Some((merge, rank)) = topo.merged_by.get(&step.commit) {
            off_line.push((step, merge, *rank));
        } else {
            unplaced += 1;
        }
    }
    for (_, merge, _) in &off_line {
        if let Some(&pos) = topo.line.get(*merge) {
            if !on_line.iter().any(|(_, c, _)| c == merge) {
                on_line.push((pos, merge, None));
            }
        }
    }
    // Older (larger position) left.
    on_line.sort_by_key(|n| std::cmp::Reverse(n.0));
    let n = on_line.len().max(1);
    let width = 1200.0;
    let dx = ((width - 40.0) / n as f64).min(40.0);
    let x_of = |commit: &str| {
        on_line
            .iter()
            .position(|(_, c, _)| *c == commit)
            .map(|i| 20.0 + dx / 2.0 + i as f64 * dx)
    };
    let _ = write!(
        out,
        "<h2>Candidate range</h2>\n<p class=\"legend\">The first-parent line, older commits left; \
commits of merged topic branches below the merge that brought them in (hollow: a merge not tested). {RANGE_LEGEND}</p>\n"
    );
    if keep + unplaced > 0 {
        let _ = writeln!(
            out,
            "<p>{} commits not drawn (tested earliest, or not in the range).</p>",
            keep + unplaced
        );
    }
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {width} 110\" width=\"{width}\" height=\"110\" role=\"img\" aria-label=\"candidate range\">\
<line class=\"axis\" x1=\"20\" y1=\"35\" x2=\"{}\" y2=\"35\"/>",
        width - 20.0
    );
    let circle = |out: &mut String, x: f64, y: f64, step: &Step| {
        let is_culprit = culprit == Some(step.commit.as_str());
        let _ = write!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y}\" r=\"{}\" class=\"{}{}\"><title>{} {} — {}</title></circle>",
            if is_culprit { 8.0 } else { node_radius(dx) },
            node_class(step),
            if is_culprit { " culprit" } else { "" },
            esc(short(&step.commit)),
            esc(step.subject.as_deref().unwrap_or("")),
            esc(step.verdict.as_deref().unwrap_or("not judged"))
        );
    };
    // Topic commits first, so their edges lie under the line's circles.
    for &(step, merge, rank) in &off_line {
        let Some(mx) = x_of(merge) else { continue };
        let x = mx - 10.0 * (rank as f64 + 1.0);
        let _ = write!(
            out,
            "<line class=\"axis\" x1=\"{x:.1}\" y1=\"85\" x2=\"{mx:.1}\" y2=\"35\"/>"
        );
        circle(out, x, 85.0, step);
    }
    for (i, (_, commit, step)) in on_line.iter().enumerate() {
        let x = 20.0 + dx / 2.0 + i as f64 * dx;
        match step {
            Some(s) => circle(out, x, 35.0, s),
            None => {
                let _ = write!(
                    out,
                    "<circle cx=\"{x:.1}\" cy=\"35\" r=\"5\" class=\"n-none\"><title>merge {}</title></circle>",
                    esc(short(commit))
                );
            }
        }
    }
    out.push_str("</svg>\n");
}

/// Points of a chart, at most `max`: every k-th one, and the last.
fn thin<T: Copy>(points: &[T], max: usize) -> Vec<T> {
    if points.len() <= max {
        return points.to_vec();
    }
    let k = points.len().div_ceil(max);
    let mut out: Vec<T> = points.iter().step_by(k).copied().collect();
    if let Some(&last) = points.last() {
        out.push(last);
    }
    out
}

fn narrowing_section(out: &mut String, sum: &Summary) {
    let points: Vec<(usize, u64)> = sum
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.revisions_left.map(|r| (i, r)))
        .collect();
    if points.is_empty() {
        return;
    }
    let points = thin(&points, CHART_POINTS);
    let steps = sum.steps.len().max(2) - 1;
    let max = points.iter().map(|p| p.1).max().unwrap_or(1).max(1);
    let (w, h) = (1200.0, 220.0);
    let (left, right, top, bottom) = (60.0, 60.0, 15.0, 30.0);
    let ly = |r: u64| {
        let t = ((r + 1) as f64).log2() / ((max + 1) as f64).log2();
        top + (h - top - bottom) * (1.0 - t)
    };
    let lx = |i: usize| left + (w - left - right) * i as f64 / steps as f64;
    let probs: Vec<(usize, f64)> = sum
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.culprit_probability.map(|p| (i, p.clamp(0.0, 1.0))))
        .collect();
    let probs = thin(&probs, CHART_POINTS);
    let py = |p: f64| top + (h - top - bottom) * (1.0 - p);
    out.push_str("<h2>How the candidates narrowed</h2>\n<p>Candidates left after each test (the <code>next</code> records' <code>revisions_left</code>, log scale, blue)");
    if !probs.is_empty() {
        out.push_str(
            "; the likeliest culprit's probability when each commit was chosen (<code>culprit_probability</code>, right axis, green)",
        );
    }
    let confidence = sum.result.as_ref().and_then(|r| num(r, "confidence"));
    if let Some(c) = confidence {
        let _ = write!(
            out,
            "; the culprit's probability at the end (right axis): {:.1}%",
            c * 100.0
        );
    }
    out.push_str(".</p>\n");
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"candidates left\">\
<line class=\"axis\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\"/>\
<line class=\"axis\" x1=\"{left}\" y1=\"{0}\" x2=\"{}\" y2=\"{0}\"/>\
<text x=\"4\" y=\"{}\">{max}</text><text x=\"4\" y=\"{}\">0</text>\
<text x=\"{left}\" y=\"{}\">step 1</text><text x=\"{}\" y=\"{}\">step {}</text>",
        h - bottom,
        w - right,
        top + 8.0,
        h - bottom,
        h - 8.0,
        w - right - 40.0,
        h - 8.0,
        steps + 1
    );
    out.push_str("<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\" points=\"");
    for &(i, r) in &points {
        let _ = write!(out, "{:.1},{:.1} ", lx(i), ly(r));
    }
    out.push_str("\"/>");
    for &(i, r) in &points {
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#1565c0\"><title>step {}: {r} left</title></circle>",
            lx(i),
            ly(r),
            i + 1
        );
    }
    if !probs.is_empty() {
        out.push_str("<polyline fill=\"none\" stroke=\"#2e7d32\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\" points=\"");
        for &(i, p) in &probs {
            let _ = write!(out, "{:.1},{:.1} ", lx(i), py(p));
        }
        out.push_str("\"/>");
        for &(i, p) in &probs {
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\" fill=\"#2e7d32\"><title>step {}: culprit {:.1}% likely</title></circle>",
                lx(i),
                py(p),
                i + 1,
                p * 100.0
            );
        }
    }
    if let Some(c) = confidence {
        let y = top + (h - top - bottom) * (1.0 - c.clamp(0.0, 1.0));
        let _ = write!(
            out,
            "<circle cx=\"{0}\" cy=\"{y:.1}\" r=\"5\" fill=\"#2e7d32\"><title>confidence {1:.1}%</title></circle>\
<text x=\"{2}\" y=\"{y:.1}\">{1:.1}%</text>",
            w - right,
            c * 100.0,
            w - right + 8.0
        );
    }
    out.push_str("</svg>\n");
}

fn time_section(out: &mut String, sum: &Summary) {
    if sum.steps.is_empty() {
        return;
    }
    let per = sum.steps.len().div_ceil(TIME_BARS);
    let bars: Vec<(usize, f64, f64)> = sum
        .steps
        .chunks(per)
        .enumerate()
        .map(|(i, c)| {
            (
                i * per,
                c.iter().map(|s| s.build_seconds).sum(),
                c.iter().map(|s| s.test_seconds).sum(),
            )
        })
        .collect();
    let total_build: f64 = bars.iter().map(|b| b.1).sum();
    let total_test: f64 = bars.iter().map(|b| b.2).sum();
    let max = bars.iter().map(|b| b.1 + b.2).fold(1e-9, f64::max);
    let (w, h, left, bottom) = (1200.0, 200.0, 60.0, 20.0);
    let bw = (w - left - 10.0) / bars.len() as f64;
    let _ = write!(
        out,
        "<h2>Where the time went</h2>\n<p class=\"legend\"><span><span class=\"m\" style=\"background:#1f77b4\"></span> build {}</span>\
<span><span class=\"m\" style=\"background:#ff7f0e\"></span> test {} (VM run seconds summed over slots)</span>{}</p>\n\
<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"time per step\">\
<text x=\"4\" y=\"12\">{}</text><line class=\"axis\" x1=\"{left}\" y1=\"{base}\" x2=\"{w}\" y2=\"{base}\"/>",
        crate::duration(total_build),
        crate::duration(total_test),
        if per > 1 {
            format!("<span>one bar per {per} steps</span>")
        } else {
            String::new()
        },
        crate::duration(max),
        base = h - bottom
    );
    let scale = (h - bottom - 10.0) / max;
    for (i, &(first, b, t)) in bars.iter().enumerate() {
        let x = left + i as f64 * bw;
        let (hb, ht) = (b * scale, t * scale);
        let label = if per > 1 {
            format!("steps {}–{}", first + 1, (first + per).min(sum.steps.len()))
        } else {
            format!("step {}", first + 1)
        };
        let tip = format!(
            "<title>{label}: build {}, test {}</title>",
            crate::duration(b),
            crate::duration(t)
        );
        let _ = write!(
            out,
            "<g><rect class=\"b-build\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{hb:.1}\"/>\
<rect class=\"b-test\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{1:.1}\" height=\"{ht:.1}\"/>{tip}</g>",
            h - bottom - hb,
            (bw - 1.0).max(0.5),
            h - bottom - hb - ht
        );
    }
    out.push_str("</svg>\n");
}

/// Where a console log link points: relative when the log lies under the
/// report's directory (the page and the logs can move together), else a
/// `file://` URL.
fn log_href(log: &str, report_dir: &Path) -> String {
    let path = std::path::absolute(Path::new(log)).unwrap_or_else(|_| PathBuf::from(log));
    let encode = |p: &str| percent_encoding::utf8_percent_encode(p, PATH_SET).to_string();
    match path.strip_prefix(report_dir) {
        Ok(rel) if !report_dir.as_os_str().is_empty() => encode(&rel.to_string_lossy()),
        _ => format!("file://{}", encode(&path.to_string_lossy())),
    }
}

/// Bytes escaped in a URL path: controls, space and what URLs reserve,
/// but not `/`.
const PATH_SET: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\'');

fn marks(out: &mut String, step: &Step, max: usize, report_dir: &Path) {
    let shown = step.runs.len().min(max);
    for r in &step.runs[..shown] {
        mark(out, r, report_dir);
    }
    let not_drawn = step.runs.len() - shown + step.runs_not_kept;
    if not_drawn > 0 {
        let _ = write!(out, " +{not_drawn}");
    }
    if step.runs.len() > 1 {
        let mut counts = Vec::new();
        for o in Outcome::ALL {
            let n = step.runs.iter().filter(|r| r.outcome == o).count();
            if n > 0 {
                counts.push(format!("{} {n}", o.words()));
            }
        }
        let _ = write!(out, " <small>({})</small>", counts.join(", "));
    }
}

fn mark(out: &mut String, r: &RunMark, report_dir: &Path) {
    let tip = format!(
        "run {}: {}{}{} ({})",
        r.index,
        r.outcome.words(),
        if r.what.is_some() { ": " } else { "" },
        r.what.as_deref().unwrap_or(""),
        crate::duration(r.seconds)
    );
    match &r.log {
        Some(log) => {
            let _ = write!(
                out,
                "<a class=\"m {}\" href=\"{}\" title=\"{}\"></a>",
                outcome_class(r.outcome),
                esc(&log_href(log, report_dir)),
                esc(&tip)
            );
        }
        None => {
            let _ = write!(
                out,
                "<span class=\"m {}\" title=\"{}\"></span>",
                outcome_class(r.outcome),
                esc(&tip)
            );
        }
    }
}

fn step_row(out: &mut String, i: usize, step: &Step, max_marks: usize, report_dir: &Path) {
    let verdict = step.verdict.as_deref().unwrap_or("");
    let vclass = match verdict {
        "good" => "v-good",
        "bad" => "v-bad",
        _ => "v-skip",
    };
    let mut what = esc(step.subject.as_deref().unwrap_or(""));
    let mut notes = Vec::new();
    if let Some(r) = step.reason.as_deref().filter(|r| *r != "bisect") {
        notes.push(esc(r));
    }
    if let Some(r) = &step.revert {
        notes.push(format!("{} reverted", esc(short(r))));
    }
    if let Some(c) = &step.config_id {
        notes.push(format!("config {}", esc(c)));
    }
    if let Some(same) = &step.same_signature_as {
        notes.push(format!("same signature as {}", esc(short(same))));
    }
    if step.build_ok == Some(false) {
        notes.push(format!(
            "build failed: {}",
            esc(step.build_error.as_deref().unwrap_or("?"))
        ));
    }
    if !notes.is_empty() {
        let _ = write!(what, " <small>[{}]</small>", notes.join("; "));
    }
    let _ = write!(
        out,
        "<tr><td>{}</td><td><code title=\"{}\">{}</code></td><td>{what}</td><td class=\"{vclass}\" title=\"{}\">{}</td>\
<td>{}</td><td><code title=\"{}\">{}</code></td><td>{}</td><td>",
        i + 1,
        esc(&step.commit),
        esc(short(&step.commit)),
        esc(step.verdict_reason.as_deref().unwrap_or("")),
        esc(verdict),
        esc(step.compiler.as_deref().unwrap_or("")),
        esc(step.signature.as_deref().unwrap_or("")),
        esc(step.signature.as_deref().map(short).unwrap_or("")),
        if step.build_ok.is_some() {
            format!("{:.0}", step.build_seconds)
        } else {
            String::new()
        }
    );
    marks(out, step, max_marks, report_dir);
    out.push_str("</td></tr>\n");
}

const STEP_HEAD: &str = "<table><tr><th>#</th><th>commit</th><th>subject</th><th>verdict</th>\
<th>compiler</th><th>signature</th><th>build s</th><th>runs</th></tr>\n";

fn steps_section(out: &mut String, sum: &Summary, inputs: &PageInputs) {
    out.push_str("<h2>Tested commits</h2>\n<p class=\"legend\">");
    for o in Outcome::ALL {
        let _ = write!(
            out,
            "<span><span class=\"m {}\"></span> {}</span>",
            outcome_class(o),
            o.words()
        );
    }
    out.push_str(" — each run mark links to its console log.</p>\n");
    if sum.steps.is_empty() {
        out.push_str("<p>No commit tested yet.</p>\n");
        return;
    }
    out.push_str(STEP_HEAD);
    let dir = &inputs.report_dir;
    for (i, step) in sum.steps.iter().enumerate().take(ROWS_OPEN) {
        step_row(out, i, step, MARKS_OPEN, dir);
    }
    out.push_str("</table>\n");
    if sum.steps.len() > ROWS_OPEN {
        let folded = sum.steps.len().min(ROWS_MAX) - ROWS_OPEN;
        let _ = write!(
            out,
            "<details><summary>{folded} more tested commits</summary>\n{STEP_HEAD}"
        );
        for (i, step) in sum.steps.iter().enumerate().take(ROWS_MAX).skip(ROWS_OPEN) {
            step_row(out, i, step, MARKS_FOLDED, dir);
        }
        out.push_str("</table></details>\n");
        if sum.steps.len() > ROWS_MAX {
            let _ = writeln!(
                out,
                "<p>{} later tested commits not listed.</p>",
                sum.steps.len() - ROWS_MAX
            );
        }
    }
}

fn crash_section(out: &mut String, sum: &Summary) {
    out.push_str("<h2>Crash report</h2>\n");
    match &sum.target_crash {
        Some(c) => {
            let _ = write!(out, "<p><b>{}</b>", esc(&c.title));
            if let Some(commit) = &c.commit {
                let _ = write!(out, " at <code>{}</code>", esc(short(commit)));
            }
            out.push_str("</p>\n");
            match &c.report {
                Some(r) => {
                    let _ = writeln!(out, "<pre>{}</pre>", esc(r));
                    if c.cut {
                        out.push_str("<p>(report cut; the console log has it all)</p>\n");
                    }
                }
                None => out.push_str("<p>The run record carries no report.</p>\n"),
            }
        }
        None => out.push_str("<p>No run in the journal showed the target bug.</p>\n"),
    }
    if !sum.other_crashes.is_empty() {
        out.push_str(
            "<h2>Unrelated crashes seen</h2>\n<table><tr><th>runs</th><th>title</th></tr>\n",
        );
        let mut by_count: Vec<(&String, &u64)> = sum.other_crashes.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (title, n) in by_count {
            let _ = writeln!(out, "<tr><td>{n}</td><td>{}</td></tr>", esc(title));
        }
        out.push_str("</table>\n");
        if sum.other_crashes_not_kept > 0 {
            let _ = writeln!(
                out,
                "<p>{} more runs with other titles.</p>",
                sum.other_crashes_not_kept
            );
        }
    }
}

fn config_section(out: &mut String, sum: &Summary) {
    let candidates: Vec<&Step> = sum
        .steps
        .iter()
        .filter(|s| s.reason.as_deref() == Some("config_search"))
        .collect();
    let outcome = sum
        .result
        .as_ref()
        .and_then(|r| r.get("config"))
        .and_then(Value::as_object);
    if candidates.is_empty() && outcome.is_none() {
        return;
    }
    out.push_str("<h2>Config search</h2>\n");
    if let Some(c) = outcome {
        let n = |k| num(c, k).unwrap_or(0.0);
        let _ = writeln!(
            out,
            "<p>{}: {} of {} differing options kept; {} configs, {} builds, {} VM runs, {}.</p>",
            esc(s(c, "mode").unwrap_or("minimize")),
            n("kept"),
            n("differing"),
            n("candidates"),
            n("builds"),
            n("vm_runs"),
            crate::duration(n("seconds"))
        );
        let options = strings(c, "options");
        if !options.is_empty() {
            let _ = writeln!(out, "<pre>{}</pre>", esc(&options.join("\n")));
        }
        if let Some(f) = s(c, "file") {
            let _ = writeln!(out, "<p>found config: <code>{}</code></p>", esc(f));
        }
        if let Some(check) = s(c, "full_config_check") {
            let _ = writeln!(
                out,
                "<p>full config at the culprit's parent: {}</p>",
                esc(check)
            );
        }
    }
    if !candidates.is_empty() {
        out.push_str(
            "<table><tr><th>config</th><th>runs</th><th>target crashes</th><th>build s</th></tr>\n",
        );
        for c in candidates.iter().take(ROWS_MAX) {
            let target = c
                .runs
                .iter()
                .filter(|r| r.outcome == Outcome::TargetCrash)
                .count();
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{target}</td><td>{:.0}</td></tr>",
                esc(c.config_id.as_deref().unwrap_or("?")),
                c.runs.len() + c.runs_not_kept,
                c.build_seconds
            );
        }
        out.push_str("</table>\n");
    }
}

/// The bisect-step command line that starts this bisection again, from the
/// start record's fields, each word quoted for a POSIX shell.
pub fn start_command(start: &Object, journal: &Path) -> String {
    let mut words: Vec<String> = vec!["bisect-step".into(), "--journal".into()];
    words.push(journal.to_string_lossy().into());
    let mut opt = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            words.push(name.into());
            words.push(v);
        }
    };
    opt("--repo", s(start, "repo").map(str::to_string));
    opt("--bad", s(start, "bad").map(str::to_string));
    for g in strings(start, "good") {
        opt("--good", Some(g));
    }
    opt("--releases", s(start, "releases").map(str::to_string));
    for t in strings(start, "target") {
        opt("--target", Some(t));
    }
    opt(
        "--bug",
        s(start, "bug")
            .filter(|b| *b != "crash")
            .map(str::to_string),
    );
    opt(
        "--confidence",
        num(start, "confidence").map(|c| c.to_string()),
    );
    opt(
        "--repro-rate",
        num(start, "repro_rate").map(|c| c.to_string()),
    );
    if let Some(cs) = start.get("config_search").and_then(Value::as_object) {
        opt("--config-search", s(cs, "mode").map(str::to_string));
        opt("--full-config", s(cs, "full").map(str::to_string));
        opt("--baseline-config", s(cs, "baseline").map(str::to_string));
        opt(
            "--config-candidates",
            cs.get("max_candidates")
                .and_then(Value::as_u64)
                .map(|n| n.to_string()),
        );
    }
    let on = |k: &str| start.get(k).and_then(Value::as_bool) == Some(true);
    if s(start, "direction") == Some("fix") {
        words.push("--fix".into());
    }
    if on("first_parent") {
        words.push("--first-parent".into());
    }
    if on("revert_check") {
        words.push("--revert-check".into());
    }
    words
        .iter()
        .map(|w| {
            shlex::try_quote(w)
                .map(|q| q.into_owned())
                // A NUL cannot be passed in an argument at all.
                .unwrap_or_else(|_| format!("'{}'", w.replace('\0', "").replace('\'', "'\\''")))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn command_section(out: &mut String, sum: &Summary, inputs: &PageInputs) {
    let Some(start) = &sum.start else { return };
    let _ = writeln!(
        out,
        "<h2>Reproduce</h2>\n<p>The bisection's start, as bisect-step keeps it (run the kbisect \
pipeline on a fresh journal with it):</p>\n<pre>{}</pre>",
        esc(&start_command(start, &inputs.journal))
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn log_links_are_relative_under_the_report_dir() {
        let dir = Path::new("/r/out");
        assert_eq!(log_href("/r/out/logs/run 1.log", dir), "logs/run%201.log");
        assert_eq!(log_href("/var/l#1.log", dir), "file:///var/l%231.log");
    }

    #[test]
    fn start_command_quotes_for_the_shell() {
        let start = serde_json::json!({"kind":"start","repo":"/src/my linux","bad":"b","good":["g"],
            "target":["KASAN: use-after-free Read in f's"],"direction":"fix","first_parent":true,
            "config_search":{"mode":"minimize","full":"/c/big.config","baseline":"tinyconfig"}});
        let cmd = start_command(start.as_object().unwrap(), Path::new("j.jsonl"));
        assert_eq!(
            cmd,
            "bisect-step --journal j.jsonl --repo '/src/my linux' --bad b --good g \
--target \"KASAN: use-after-free Read in f's\" --config-search minimize \
--full-config /c/big.config --baseline-config tinyconfig --fix --first-parent"
        );
    }

    /// A finished bisection: start, six tested commits with runs of every
    /// outcome, a build failure, the revert check and the result.
    const FOUND: &str = include_str!("../testdata/found.jsonl");
    const CULPRIT: &str = "9483409ab5067941860754e78a4a44a60311d276";

    fn summary_of(journal: &str) -> Summary {
        let mut sum = Summary::new();
        for line in journal.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            sum.feed(v.as_object().unwrap());
        }
        sum
    }

    fn page_of(journal: &str) -> String {
        let inputs = PageInputs {
            journal: "j.jsonl".into(),
            report_dir: std::path::absolute(".").unwrap(),
            ..Default::default()
        };
        page(&summary_of(journal), &inputs)
    }

    #[test]
    fn journal_strings_render_as_text() {
        let html = page_of(FOUND);
        assert!(html.contains("fs: &lt;script&gt;alert(1)&lt;/script&gt; &amp; friends"));
        assert!(!html.contains("<script"), "no script element at all");
        assert!(html.contains("Merge tag &#39;mm-stable&#39;"));
    }

    #[test]
    fn a_found_culprit_with_runs_of_every_outcome() {
        let html = page_of(FOUND);
        assert!(html.contains("<span class=\"status found\">found</span>"));
        assert!(html.contains(&format!(
            "<code>{CULPRIT}</code> block: free the inode&#39;s bdev early"
        )));
        for needle in [
            "98.7%",
            "flaky",
            "bug_gone",
            "axboe@kernel.dk, linux-block@vger.kernel.org",
            "KASAN: use-after-free Read in bdev_evict_inode (crash)",
            "class=\"n-bad culprit\"",
            "class=\"n-untestable\"",
            "build failed: build_failed",
            "<tr><td>1</td><td>WARNING in kvm_wait</td></tr>",
            "BUG: KASAN: use-after-free in bdev_evict_inode+0x2a/0x80",
            "--target &#39;KASAN: use-after-free Read in bdev_evict_inode&#39; --revert-check",
        ] {
            assert!(html.contains(needle), "{needle} missing");
        }
        for class in ["o-ok", "o-tc", "o-oc", "o-bf", "o-tf", "o-ie", "o-sk"] {
            assert!(
                html.contains(&format!("<a class=\"m {class}\" href=")),
                "no linked {class} mark"
            );
        }
        // Logs named relative to the report's directory stay relative; others
        // are file:// URLs.
        assert!(html.contains("href=\"logs/250b3c0d79d1/run-3.log\""));
        assert!(html.contains("href=\"file:///var/log/kbisect/revert-0.log\""));
    }

    #[test]
    fn an_unfinished_journal_is_in_progress() {
        let cut: String = FOUND
            .lines()
            .take_while(|l| !l.contains("\"reason\":\"revert_check\""))
            .filter(|l| !l.contains("9483409ab5067941860754e78a4a44a60311d276\",\"verdict"))
            .map(|l| format!("{l}\n"))
            .collect();
        let html = page_of(&cut);
        assert!(html.contains("<span class=\"status progress\">in progress</span>"));
        assert!(html.contains("now testing <code>9483409ab506</code>"));
        assert!(html.contains("0 candidates left after it"));
        assert!(!html.contains("culprit (first bad commit)"));
        // Only the start record: still a page.
        let html = page_of(FOUND.lines().next().unwrap());
        assert!(html.contains("No commit tested yet."));
    }

    #[test]
    fn a_config_search_lists_its_candidates_and_what_it_kept() {
        let c = "5d0c60a088c3732ea8e5d5e259d3e85a41b25197";
        let mut j = String::from(
            "{\"kind\":\"start\",\"bad\":\"b\",\"good\":[],\"direction\":\"cause\"}\n",
        );
        for (id, outcome) in [
            ("full", "crashed"),
            ("baseline", "ok"),
            ("8bba05f7054acd1b", "crashed"),
        ] {
            j.push_str(&format!(
                "{{\"kind\":\"next\",\"commit\":\"{c}\",\"reason\":\"config_search\",\"config_id\":\"{id}\"}}\n\
                 {{\"kind\":\"run\",\"commit\":\"{c}\",\"config_id\":\"{id}\",\"run\":0,\"outcome\":\"{outcome}\",\"crashed\":{},\"title\":\"T\"}}\n",
                outcome == "crashed"
            ));
        }
        j.push_str(
            "{\"kind\":\"result\",\"status\":\"found\",\"config\":{\"mode\":\"bisect\",\"differing\":42,\"kept\":1,\
             \"options\":[\"CONFIG_RA_HINT_STATS=y\"],\"candidates\":3,\"builds\":3,\"vm_runs\":3,\"seconds\":90}}\n",
        );
        let html = page_of(&j);
        assert!(html.contains("<h2>Config search</h2>"));
        assert!(html.contains("bisect: 1 of 42 differing options kept; 3 configs"));
        assert!(html.contains("<pre>CONFIG_RA_HINT_STATS=y</pre>"));
        assert!(html.contains("<tr><td><code>8bba05f7054acd1b</code></td><td>1</td><td>1</td>"));
        assert!(html.contains("<tr><td><code>baseline</code></td><td>1</td><td>0</td>"));
        // Configs of the search are not points of the candidate range.
        assert!(!html.contains("<h2>Candidate range</h2>"));
    }

    #[test]
    fn the_culprit_s_probability_is_drawn_step_by_step() {
        let j = "{\"kind\":\"next\",\"commit\":\"a\",\"reason\":\"bisect\",\"revisions_left\":8,\"culprit_probability\":0.125}\n\
{\"kind\":\"next\",\"commit\":\"b\",\"reason\":\"bisect\",\"revisions_left\":4,\"culprit_probability\":0.62}\n";
        let html = page_of(j);
        assert!(
            html.contains("<title>step 1: culprit 12.5% likely</title>"),
            "{html}"
        );
        assert!(html.contains("<title>step 2: culprit 62.0% likely</title>"));
        assert!(html.contains("(<code>culprit_probability</code>, right axis, green)"));
    }

    #[test]
    fn a_result_without_a_culprit_says_its_status() {
        let j = "{\"kind\":\"start\",\"bad\":\"b\",\"good\":[\"g\"],\"direction\":\"fix\",\"bug\":\"boot\"}\n\
{\"kind\":\"result\",\"status\":\"inconclusive\",\"direction\":\"fix\",\
\"candidates\":[{\"commit\":\"c1\",\"subject\":\"a & b\"},{\"commit\":\"c2\",\"subject\":\"c\"}]}\n";
        let html = page_of(j);
        assert!(html.contains("<span class=\"status other\">inconclusive</span>"));
        assert!(html.contains("<tr><th>candidate</th><td><code>c1</code> a &amp; b</td></tr>"));
        assert!(html.contains("fix (the commit that fixed the bug)"));
        assert!(html.contains("any boot failure (boot)"));
        assert!(!html.contains("culprit (first bad commit)"));
    }

    #[test]
    fn a_long_journal_stays_bounded() {
        let mut sum = Summary::new();
        for i in 0..5000u32 {
            let c = format!("{i:040x}");
            for rec in [
                serde_json::json!({"kind":"next","commit":c,"revisions_left":5000-i}),
                serde_json::json!({"kind":"build","commit":c,"ok":true,"seconds":1.0}),
                serde_json::json!({"kind":"verdict","commit":c,"verdict":if i % 2 == 0 {"good"} else {"bad"}}),
            ] {
                sum.feed(rec.as_object().unwrap());
            }
        }
        let html = page(&sum, &PageInputs::default());
        assert!(html.contains("<details><summary>1950 more tested commits</summary>"));
        assert!(html.contains("3000 later tested commits not listed."));
        assert!(html.contains("4700 commits farther from the culprit are not drawn."));
        assert!(html.matches("<polyline").count() == 1);
        assert!(html.len() < 2_000_000, "{} bytes", html.len());
    }

    #[test]
    fn thin_keeps_the_last_point() {
        let p: Vec<usize> = (0..1000).collect();
        let t = thin(&p, 100);
        assert!(t.len() <= 101);
        assert_eq!(t.last(), Some(&999));
    }
}
