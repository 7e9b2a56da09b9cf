//! Finding the first crash report in a console log and naming it.
//!
//! The steps are those of syzkaller's Linux report parser, so titles agree
//! with syzbot's: find the first line holding an oops header; collect the
//! report from it (only lines of the same printk caller context, skipping
//! unreliable `? ` frames, stopping the title search at a second report);
//! match the oops's formats against the report text to build the title;
//! then sanitise the title and decide whether the report is corrupted.

use crate::oops::{common, table, Extractor, Format, Oops, Part, StackFmt, STRIP_FRAME_PREFIXES};
use crate::title;
use memchr::memchr;

/// Longest line kept in a report: a runaway line (binary junk, a 100 MB
/// line) must not make title regexes crawl. Titles are cut at 120 bytes anyway.
const MAX_LINE: usize = 64 * 1024;

/// What the parser found, offsets relative to the text it was given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub title: String,
    pub alt_titles: Vec<String>,
    pub crash_type: Option<String>,
    pub frame: Option<String>,
    /// The source file to blame (see [`crate::guilty`]).
    pub guilty_file: Option<String>,
    pub corrupted: bool,
    pub corrupted_reason: String,
    pub report: String,
    pub start: usize,
    pub end: usize,
}

/// Iterate lines as (start, end-exclusive-of-newline) pairs.
fn lines(text: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let end = memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i);
        let r = (pos, end);
        pos = end + 1;
        Some(r)
    })
}

/// Does `line` start a report of kind `oops`?
pub(crate) fn match_oops(line: &[u8], oops: &Oops) -> bool {
    memchr::memmem::find(line, oops.header.as_bytes()).is_some()
        && !oops.suppress.iter().any(|re| re.is_match(line))
        && !common().user_fault.is_match(line)
}

/// The first oops kind matching `line`, in table order. The header
/// automaton says which headers occur at all (usually none), so only their
/// suppression regexes run.
pub(crate) fn line_oops(line: &[u8]) -> Option<&'static Oops> {
    let mut present = 0u64;
    // Leftmost non-overlapping matches (the fast SIMD search); headers
    // never overlap each other in real lines.
    for m in crate::prefilter().find_iter(line) {
        present |= 1u64 << m.pattern().as_usize().min(63);
    }
    if present == 0 || common().user_fault.is_match(line) {
        return None;
    }
    table()
        .iter()
        .enumerate()
        .filter(|(i, _)| present & (1u64 << (*i).min(63)) != 0)
        .map(|(_, o)| o)
        .find(|o| !o.suppress.iter().any(|re| re.is_match(line)))
}

/// The printk caller context of a line: None (no timestamp), Some("") for a
/// plain timestamp, Some("[T123]") / Some("[C1]") with CONFIG_PRINTK_CALLER.
fn context(line: &[u8]) -> Option<String> {
    let caps = common().console_prefix.captures(line)?;
    Some(caps.get(1).map_or(String::new(), |m| {
        String::from_utf8_lossy(m.as_bytes()).into_owned()
    }))
}

/// Strip the console prefix; say whether the line is an unreliable frame.
fn strip_prefix(line: &[u8], ctx: &Option<String>) -> (Vec<u8>, bool) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if ctx.is_none() {
        return (line.to_vec(), false);
    }
    let rest = match memchr::memmem::find(line, b"] ") {
        Some(p) => &line[p + 2..],
        None => line,
    };
    if memchr::memmem::find(rest, b"<EOI>").is_none() {
        if common().questionable.is_match(rest) {
            if let Some(p) = memchr::memmem::find(rest, b" ? ") {
                return (rest[p + 2..].to_vec(), true);
            }
        }
        if let Some(r) = rest.strip_suffix(b" (unreliable)") {
            return (r.to_vec(), true);
        }
    }
    (rest.to_vec(), false)
}

/// Parse the first report in `output`, or None when there is no crash.
pub fn parse(output: &[u8]) -> Option<Parsed> {
    let (oops, start) = first_oops(output)?;
    let line_end = memchr(b'\n', &output[start..]).map_or(output.len(), |i| start + i);
    let ctx = context(&output[start..line_end]);
    let found = find_report(output, oops, start, &ctx);
    let mut report = found.report;
    let mut desc = describe(&report[..found.report_end], oops);
    if desc.title.is_empty() {
        report = output[start..found.end.max(line_end)].to_vec();
        desc = describe(&report, oops);
    }
    let mut p = Parsed {
        corrupted: !desc.corrupted.is_empty(),
        corrupted_reason: desc.corrupted,
        start,
        end: found.last_line_end.max(line_end),
        ..Default::default()
    };
    if desc.title.is_empty() {
        // Cannot happen: the header is in the first line. Be safe anyway.
        desc.title = String::from_utf8_lossy(oops.header.as_bytes()).into_owned();
    }
    if !p.corrupted {
        if let Some(reason) = is_corrupted(&desc.title, &report, desc.format) {
            p.corrupted = true;
            p.corrupted_reason = reason.into();
        }
    }
    p.title = title::sanitize(&desc.title);
    let mut alts = Vec::new();
    for a in &desc.alt {
        let a = title::sanitize(a);
        if !a.is_empty() && !alts.contains(&a) {
            alts.push(a);
        }
    }
    // A stable order, whatever order the formats produced them in.
    alts.sort();
    p.alt_titles = alts;
    p.crash_type = title::crash_type(&p.title).map(str::to_string);
    p.frame = common()
        .frame_in_title
        .captures(p.title.as_bytes())
        .and_then(|c| c.get(1))
        .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned());
    let body = String::from_utf8_lossy(&report);
    p.guilty_file = crate::guilty::guilty_file_titled(&p.title, &body);
    let mut text = String::new();
    for l in &found.prefix {
        text.push_str(&String::from_utf8_lossy(l));
        text.push('\n');
    }
    text.push_str(&body);
    p.report = text;
    Some(p)
}

/// The first line holding an oops header, with its kind.
fn first_oops(output: &[u8]) -> Option<(&'static Oops, usize)> {
    let finder = crate::prefilter();
    let mut from = 0;
    while from < output.len() {
        let m = finder.find(&output[from..])?;
        let at = from + m.start();
        let ls = memchr::memrchr(b'\n', &output[..at]).map_or(0, |i| i + 1);
        let le = memchr(b'\n', &output[at..]).map_or(output.len(), |i| at + i);
        if let Some(o) = line_oops(&output[ls..le]) {
            return Some((o, ls));
        }
        from = le + 1;
    }
    None
}

struct Found {
    report: Vec<u8>,
    report_end: usize,
    prefix: Vec<Vec<u8>>,
    /// End of the last line that matched an oops header.
    end: usize,
    /// End of the last line that went into the report before a second one.
    last_line_end: usize,
}

fn find_report(output: &[u8], oops: &Oops, start: usize, ctx: &Option<String>) -> Found {
    let c = common();
    let _ = oops;
    let max_prefix = match ctx {
        Some(s) if c.task_context.is_match(s.as_bytes()) => 50,
        _ => 5,
    };
    let mut f = Found {
        report: Vec::new(),
        report_end: 0,
        prefix: Vec::new(),
        end: 0,
        last_line_end: 0,
    };
    let mut second_report = false;
    let mut text_lines = 0;
    let (mut skip_text, mut cpu_traceback) = (false, false);
    let mut min_lines = 22;
    // Prefix lines: only the few lines before the report matter.
    let prefix_from = {
        let mut p = start;
        let mut n = 0;
        while p > 0 && n < max_prefix * 4 + 8 {
            p = memchr::memrchr(b'\n', &output[..p - 1]).map_or(0, |i| i + 1);
            n += 1;
        }
        p
    };
    for (ls, le) in lines(&output[prefix_from..]) {
        let (ls, le) = (ls + prefix_from, le + prefix_from);
        let mut line = &output[ls..le];
        if line.len() > MAX_LINE {
            line = &line[..MAX_LINE];
        }
        let ctx1 = context(line);
        let (stripped, questionable) = strip_prefix(line, &ctx1);
        if ls < start {
            if ctx1 == *ctx && !stripped.is_empty() && !questionable {
                f.prefix.push(stripped);
                if f.prefix.len() > max_prefix {
                    f.prefix.remove(0);
                }
            }
            continue;
        }
        let is_oops_line = ls == start;
        if is_oops_line && memchr::memmem::find(line, b"BUG: KMSAN:").is_some() {
            // KMSAN reports are shorter (no register dump).
            min_lines = 16;
        }
        let any_header = crate::prefilter().find(line).is_some();
        let mut matched_all = any_header;
        if any_header {
            for o in table() {
                if !match_oops(line, o) {
                    matched_all = false;
                    continue;
                }
                f.end = le;
                if !is_oops_line
                    && !second_report
                    && !c.report_start_ignores.iter().any(|r| r.is_match(line))
                {
                    second_report = true;
                }
            }
        }
        // A line that is not a report header for some kind may still be a
        // non-bug message with its own stack trace.
        if !matched_all && !is_oops_line && !second_report && is_info_with_stack(line) {
            second_report = true;
        }
        let other_ctx = ctx1 != *ctx
            && !(cpu_traceback
                && ctx1
                    .as_deref()
                    .is_some_and(|x| c.cpu_context.is_match(x.as_bytes())));
        if !is_oops_line && (questionable || other_ctx) {
            continue;
        }
        text_lines += 1;
        let mut skip_line = skip_text;
        if contains(line, "Disabling lock debugging due to kernel taint") {
            skip_line = true;
        } else if contains(line, "Sending NMI from CPU") {
            // An all-CPU backtrace: keep other CPUs' output too.
            cpu_traceback = true;
        } else if (contains(line, "Kernel panic - not syncing")
            || contains(
                line,
                "WARNING: possible circular locking dependency detected",
            ))
            && text_lines > min_lines
        {
            // The panic_on_warn panic (or a lockdep splat the oops caused)
            // repeats the stack: once the report has enough lines, drop the rest.
            skip_text = true;
            skip_line = true;
        }
        if !is_oops_line && skip_line {
            continue;
        }
        f.report.extend_from_slice(&stripped);
        f.report.push(b'\n');
        let own_context = matches!(ctx, Some(s) if !s.is_empty());
        if !second_report || own_context {
            f.report_end = f.report.len();
            f.last_line_end = le;
        }
    }
    f
}

fn contains(line: &[u8], s: &str) -> bool {
    memchr::memmem::find(line, s.as_bytes()).is_some()
}

/// Messages that carry a stack trace but are not bugs: one appearing in a
/// report means two stacks are interleaved.
fn is_info_with_stack(line: &[u8]) -> bool {
    contains(line, "vmalloc: allocation failure:")
        || contains(line, "FAULT_INJECTION: forcing a failure")
        || contains(line, "FAULT_FLAG_ALLOW_RETRY missing")
}

struct Desc {
    title: String,
    corrupted: String,
    alt: Vec<String>,
    format: Option<&'static Format>,
}

/// Title material: one char per byte (Latin-1), so junk bytes stay one
/// "character" each until sanitising drops them, whatever their encoding.
fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// Fill `{N}` placeholders (1-based) from `args`.
fn format_title(tmpl: &str, args: &[String]) -> String {
    let mut out = String::with_capacity(tmpl.len() + 32);
    let mut rest = tmpl;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| after[..close].parse::<usize>().ok().map(|n| (n, close)))
        {
            Some((n, close)) => {
                if let Some(a) = n.checked_sub(1).and_then(|i| args.get(i)) {
                    out.push_str(a);
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn describe(output: &[u8], oops: &'static Oops) -> Desc {
    let mut d = Desc {
        title: String::new(),
        corrupted: String::new(),
        alt: Vec::new(),
        format: None,
    };
    let mut start_pos = output.len();
    let mut matched_title = false;
    for f in &oops.formats {
        let m = match f.title.find(output) {
            Some(m) => m,
            None => continue,
        };
        if m.start() > start_pos || (m.start() == start_pos && !d.title.is_empty()) {
            continue;
        }
        if m.start() < start_pos {
            d.title.clear();
            d.format = None;
            start_pos = m.start();
        }
        matched_title = true;
        let re = f.report.as_ref().unwrap_or(&f.title);
        let caps = match re.captures(output) {
            Some(c) => c,
            None => continue,
        };
        let match_start = caps.get(0).map_or(0, |m| m.start());
        let prefix: Vec<String> = (1..caps.len())
            .map(|i| caps.get(i).map_or(String::new(), |m| latin1(m.as_bytes())))
            .collect();
        let mut frames = Vec::new();
        d.corrupted.clear();
        if let Some(stack) = &f.stack {
            let (fr, ok) = extract_stack_frame(stack, &output[match_start..]);
            frames = fr;
            if !ok {
                d.corrupted = "extracted no frames".into();
            }
        }
        let mut args = prefix.clone();
        args.extend(frames.iter().map(|f| f.canonical.clone()));
        d.title = format_title(f.fmt, &args);
        let mut alts: Vec<String> = f.alt.iter().map(|a| format_title(a, &args)).collect();
        // Titles with partly stripped syscall prefixes help deduplication.
        for seq in partially_stripped(&prefix, &frames) {
            let t = format_title(f.fmt, &seq);
            if t != d.title {
                alts.push(t);
            }
            alts.extend(f.alt.iter().map(|a| format_title(a, &seq)));
        }
        let mut uniq = Vec::new();
        for a in alts {
            if !uniq.contains(&a) {
                uniq.push(a);
            }
        }
        d.alt = uniq;
        d.format = Some(f);
    }
    if d.title.is_empty() {
        if matched_title {
            d.corrupted = "matched title but not report regexp".into();
        }
        if let Some(pos) = memchr::memmem::find(output, oops.header.as_bytes()) {
            let end = memchr(b'\n', &output[pos..]).map_or(output.len(), |i| pos + i);
            d.title = latin1(&output[pos..end]);
        }
    }
    if d.corrupted.is_empty() && d.format.is_some_and(|f| f.corrupted) {
        d.corrupted = "report format is marked as corrupted".into();
    }
    d
}

#[derive(Clone, Debug)]
struct Frame {
    canonical: String,
    raw: String,
}

fn strip_frame(f: &str) -> String {
    let mut best = f;
    for p in STRIP_FRAME_PREFIXES {
        if let Some(s) = f.strip_prefix(p) {
            if s.len() < best.len() {
                best = s;
            }
        }
    }
    best.to_string()
}

fn partially_stripped(prefix: &[String], frames: &[Frame]) -> Vec<Vec<String>> {
    let mut ret = Vec::new();
    for i in 0..=STRIP_FRAME_PREFIXES.len() {
        let (strip, mut add) = if i == 0 {
            ("", true)
        } else {
            (STRIP_FRAME_PREFIXES[i - 1], false)
        };
        let mut list = prefix.to_vec();
        for f in frames {
            let t = f.raw.strip_prefix(strip).unwrap_or(&f.raw);
            if t != f.raw {
                add = true;
            }
            list.push(t.to_string());
        }
        if add {
            ret.push(list);
        }
    }
    ret
}

fn extract_stack_frame(stack: &StackFmt, output: &[u8]) -> (Vec<Frame>, bool) {
    let (frames, ok) = extract_impl(stack, output, &stack.parts);
    if ok || stack.parts2.is_empty() {
        return (frames, ok);
    }
    extract_impl(stack, output, &stack.parts2)
}

fn pick(stack: &StackFmt, raw: &[String]) -> Option<Frame> {
    if raw.is_empty() {
        return None;
    }
    let stripped: Vec<String> = raw.iter().map(|f| strip_frame(f)).collect();
    let (frame, idx) = match stack.extractor {
        Extractor::First => (stripped[0].clone(), 0),
        Extractor::Stall => stall_frame(&stripped)?,
        Extractor::HangTask => hang_frame(&stripped)?,
    };
    if frame.is_empty() {
        return None;
    }
    Some(Frame {
        canonical: frame,
        raw: raw[idx].clone(),
    })
}

fn stall_frame(frames: &[String]) -> Option<(String, usize)> {
    let anchor = &common().stall_anchor;
    let (mut prev, mut prev_idx) = (frames[0].clone(), 0);
    for (i, f) in frames.iter().enumerate() {
        if anchor.is_match(f.as_bytes()) {
            if f.contains("smp_call_function") {
                prev = "smp_call_function".into();
                prev_idx = i;
            }
            return Some((prev, prev_idx));
        }
        prev = f.clone();
        prev_idx = i;
    }
    None
}

fn hang_frame(frames: &[String]) -> Option<(String, usize)> {
    // Hangs show up in victims: group the classic RCU / rtnl waits.
    const ANCHORS: &[(&str, &str)] = &[
        ("rtnl_lock", ""),
        ("synchronize_rcu", "synchronize_rcu"),
        ("synchronize_srcu", "synchronize_rcu"),
        ("synchronize_net", "synchronize_rcu"),
        ("synchronize_sched", "synchronize_rcu"),
    ];
    for (i, f) in frames.iter().enumerate() {
        for (anchor, repl) in ANCHORS {
            if f.contains(anchor) {
                let name = if repl.is_empty() {
                    f.clone()
                } else {
                    repl.to_string()
                };
                return Some((name, i));
            }
        }
    }
    const SKIP: &[&str] = &[
        "sched",
        "_lock",
        "_slowlock",
        "down",
        "rwsem",
        "completion",
        "kthread",
        "wait",
        "synchronize",
        "context_switch",
        "__switch_to",
        "cancel_delayed_work",
        "rcu_barrier",
    ];
    frames
        .iter()
        .enumerate()
        .find(|(_, f)| !SKIP.iter().any(|s| f.contains(s)))
        .map(|(i, f)| (f.clone(), i))
}

fn append_frames(frames: &mut Vec<String>, caps: &regex::bytes::Captures, stack: &StackFmt) {
    for i in 1..caps.len() {
        if let Some(m) = caps.get(i) {
            let f = demangle(&latin1(m.as_bytes()));
            if !stack.skip.is_match(f.as_bytes()) {
                frames.push(f);
            }
        }
    }
}

fn extract_impl(stack: &StackFmt, output: &[u8], parts: &[Part]) -> (Vec<Frame>, bool) {
    let c = common();
    let all: Vec<&[u8]> = output.split(|&b| b == b'\n').collect();
    let mut lines = all.as_slice();
    let mut raw: Vec<String> = Vec::new();
    let mut results = Vec::new();
    let mut ok = true;
    let mut num_traces = 0;
    let mut idx = 0;
    loop {
        if idx == parts.len() || (matches!(parts[idx], Part::Trace) && num_traces > 0) {
            match pick(stack, &raw) {
                Some(f) => results.push(f),
                None => {
                    results.push(Frame {
                        canonical: "corrupted".into(),
                        raw: "corrupted".into(),
                    });
                    ok = false;
                }
            }
            raw.clear();
        }
        if idx == parts.len() {
            break;
        }
        match &parts[idx] {
            Part::Trace => {
                num_traces += 1;
                'lines: while let Some((ln, rest)) = lines.split_first() {
                    lines = rest;
                    if c.corrupted_lines.is_match(ln) {
                        ok = false;
                        break 'lines;
                    }
                    if c.stack_start.iter().any(|r| r.is_match(ln)) {
                        break 'lines;
                    }
                    if let Some(Part::Re(next)) = parts.get(idx + 1) {
                        if let Some(caps) = next.captures(ln) {
                            append_frames(&mut raw, &caps, stack);
                            idx += 1;
                            break 'lines;
                        }
                    }
                    if let Some(caps) = c.frame.iter().find_map(|r| r.captures(ln)) {
                        append_frames(&mut raw, &caps, stack);
                    }
                }
            }
            Part::Re(re) => {
                while let Some((ln, rest)) = lines.split_first() {
                    lines = rest;
                    if c.corrupted_lines.is_match(ln) {
                        ok = false;
                        break;
                    }
                    if let Some(caps) = re.captures(ln) {
                        append_frames(&mut raw, &caps, stack);
                        break;
                    }
                }
            }
        }
        idx += 1;
    }
    (results, ok)
}

/// A report whose title was garbled, or that should have a stack and has
/// none, cannot be trusted.
fn is_corrupted(title: &str, report: &[u8], format: Option<&Format>) -> Option<&'static str> {
    let c = common();
    if c.corrupted_title.is_match(title.as_bytes()) {
        return Some("title matches corrupted regexp");
    }
    let format = format?;
    if format.no_stack_trace {
        return None;
    }
    let mut has_stack = false;
    for key in &c.stack_start {
        let m = match key.find(report) {
            Some(m) => m,
            None => continue,
        };
        let frames: Vec<&[u8]> = report[m.start()..].split(|&b| b == b'\n').collect();
        if frames.len() < 4 {
            return Some("call trace is missed");
        }
        let mut corrupted = true;
        for ln in frames[1..].iter().take(15) {
            if c.stack_start.iter().any(|k| k.is_match(ln)) {
                break;
            }
            if contains(ln, "(stack is not available)") || c.frame.iter().any(|r| r.is_match(ln)) {
                has_stack = true;
                corrupted = false;
                break;
            }
        }
        let riscv = std::ptr::eq(key, c.stack_start.last().unwrap_or(key));
        if !riscv && corrupted {
            return Some("no frames in a stack trace");
        }
    }
    if !has_stack {
        return Some("no stack trace in report");
    }
    None
}

/// The name of an Itanium-mangled symbol (C++ or Rust legacy mangling in
/// kernel modules), without parameters: `_Z8fakeNameiii` → `fakeName`,
/// `_ZN3foo3barEv` → `foo::bar`. Anything else is returned unchanged.
fn demangle(sym: &str) -> String {
    fn ident(s: &[u8], pos: &mut usize) -> Option<String> {
        let digits = s[*pos..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let len: usize = std::str::from_utf8(&s[*pos..*pos + digits])
            .ok()?
            .parse()
            .ok()?;
        let start = *pos + digits;
        let end = start.checked_add(len).filter(|&e| e <= s.len())?;
        *pos = end;
        Some(String::from_utf8_lossy(&s[start..end]).into_owned())
    }
    let Some(rest) = sym.strip_prefix("_Z") else {
        return sym.to_string();
    };
    let b = rest.as_bytes();
    let mut pos = 0;
    let name = if b.first() == Some(&b'N') {
        pos = 1;
        let mut parts = Vec::new();
        while pos < b.len() && b[pos] != b'E' {
            match ident(b, &mut pos) {
                Some(p) => parts.push(p),
                None => return sym.to_string(),
            }
        }
        if parts.is_empty() {
            return sym.to_string();
        }
        parts.join("::")
    } else {
        match ident(b, &mut pos) {
            Some(p) => p,
            None => return sym.to_string(),
        }
    };
    name
}

#[cfg(test)]
mod tests {
    #[test]
    fn demangles_simple_names() {
        assert_eq!(demangle("_Z8fakeNameiii"), "fakeName");
        assert_eq!(demangle("_ZN3foo3barEv"), "foo::bar");
        assert_eq!(demangle("_Z99x"), "_Z99x");
        assert_eq!(demangle("kvm_wait"), "kvm_wait");
    }

    use super::*;

    #[test]
    fn title_template_fills_args() {
        let a = vec!["x".to_string(), "y".to_string()];
        assert_eq!(format_title("A {2} in {1}", &a), "A y in x");
        assert_eq!(format_title("B {3}", &a), "B ");
        assert_eq!(format_title("{oops", &a), "{oops");
    }

    #[test]
    fn strips_syscall_prefixes() {
        assert_eq!(strip_frame("__x64_sys_ioctl"), "sys_ioctl");
        assert_eq!(strip_frame("__do_sys_foo"), "foo");
        assert_eq!(strip_frame("kvm_wait"), "kvm_wait");
    }
}
