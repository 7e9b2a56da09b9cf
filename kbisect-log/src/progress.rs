//! The progress line and colour of kbisect's log on stderr: what a
//! terminal gets (one status line redrawn in place, verdict words in
//! colour) and what a pipe or file gets (plain lines, no escapes).
//!
//! The pure parts are separate so they can be tested: [`decide`] (is this
//! a terminal, may it have colour), [`eta_seconds`], [`ProgressState::line`]
//! and [`paint_verdict`]. [`stderr_terminal`] is the one place that asks
//! the process about its stderr and environment.

use std::ffi::OsStr;
use std::io::IsTerminal;

/// What stderr can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Terminal {
    /// Carriage returns and erase-line escapes: the status line is redrawn
    /// in place.
    pub redraw: bool,
    /// Colour escapes.
    pub colour: bool,
}

/// What a stream can take, from whether it is a terminal and the
/// environment's NO_COLOR (no-color.org: set and non-empty means no colour)
/// and TERM (`dumb`: a terminal without cursor movement or colour).
pub fn decide(is_tty: bool, no_color: Option<&OsStr>, term: Option<&OsStr>) -> Terminal {
    let dumb = term.is_some_and(|t| t == "dumb");
    let redraw = is_tty && !dumb;
    let colour = redraw && no_color.is_none_or(|v| v.is_empty());
    Terminal { redraw, colour }
}

/// What this process's stderr can take.
pub fn stderr_terminal() -> Terminal {
    decide(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

/// The time the steps left should take: the mean of the `steps_done` so
/// far, for this step and the `steps_left` after it. None before a step
/// has ended (nothing to take the mean of).
pub fn eta_seconds(elapsed: f64, steps_done: u32, steps_left: u32) -> Option<f64> {
    if steps_done == 0 || !elapsed.is_finite() || elapsed < 0.0 {
        return None;
    }
    Some(elapsed / f64::from(steps_done) * (f64::from(steps_left) + 1.0))
}

/// Seconds as a person reads a wait: `45s`, `12m05s`, `3h04m`.
pub fn short_duration(seconds: f64) -> String {
    let s = if seconds.is_finite() && seconds > 0.0 {
        seconds.round() as u64
    } else {
        0
    };
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

/// Where the bisection stands at a step, from its `next` record and the
/// script's count of steps and clock.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProgressState {
    /// The step about to run, from 1.
    pub step: u32,
    /// Candidates left after this step (`revisions_left`).
    pub revisions_left: Option<u64>,
    /// Steps left after this one (`steps_left`).
    pub steps_left: Option<u32>,
    /// The best candidate's posterior (`culprit_probability`).
    pub culprit_probability: Option<f64>,
    /// Seconds since the bisection (this run of it) started.
    pub elapsed: f64,
}

impl ProgressState {
    /// The status line, e.g. `step 4: 37 candidates left, culprit 62%
    /// likely, 12m05s elapsed, about 20m10s left`.
    pub fn line(&self) -> String {
        let mut parts = vec![format!("step {}", self.step)];
        if let Some(n) = self.revisions_left {
            parts.push(format!("{n} candidates left"));
        }
        if let Some(p) = self.culprit_probability.filter(|p| p.is_finite()) {
            parts.push(format!(
                "culprit {:.0}% likely",
                (p * 100.0).clamp(0.0, 100.0)
            ));
        }
        parts.push(format!("{} elapsed", short_duration(self.elapsed)));
        let eta = self
            .steps_left
            .and_then(|left| eta_seconds(self.elapsed, self.step.saturating_sub(1), left));
        parts.push(match eta {
            Some(s) => format!("about {} left", short_duration(s)),
            None => "time left unknown yet".to_string(),
        });
        let (first, rest) = parts.split_at(1);
        format!("{}: {}", first[0], rest.join(", "))
    }
}

/// Erase the current terminal line (the status line) and return to its start.
pub const CLEAR_LINE: &str = "\r\x1b[K";

/// A log line with the verdict word of `# git bisect good|bad|skip …` in
/// colour (green, red, yellow) when `colour`; otherwise the line as it is.
pub fn paint_verdict(line: &str, colour: bool) -> String {
    let Some(rest) = line.strip_prefix("# git bisect ").filter(|_| colour) else {
        return line.to_string();
    };
    let (word, tail) = rest.split_once(' ').unwrap_or((rest, ""));
    let code = match word {
        "good" => "32",
        "bad" => "31",
        "skip" => "33",
        _ => return line.to_string(),
    };
    let sep = if tail.is_empty() { "" } else { " " };
    format!("# git bisect \x1b[{code}m{word}\x1b[0m{sep}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color_or_dumb_term() {
        let xterm = Some(OsStr::new("xterm-256color"));
        let on = Terminal {
            redraw: true,
            colour: true,
        };
        assert_eq!(decide(true, None, xterm), on);
        assert_eq!(decide(true, None, None), on);
        assert_eq!(
            decide(true, Some(OsStr::new("")), xterm),
            on,
            "empty NO_COLOR counts as unset"
        );
        assert_eq!(
            decide(true, Some(OsStr::new("1")), xterm),
            Terminal {
                redraw: true,
                colour: false
            }
        );
        assert_eq!(
            decide(true, None, Some(OsStr::new("dumb"))),
            Terminal::default()
        );
        assert_eq!(decide(false, None, xterm), Terminal::default());
    }

    #[test]
    fn eta_is_the_mean_step_times_the_steps_to_go() {
        assert_eq!(eta_seconds(600.0, 3, 4), Some(1000.0));
        assert_eq!(eta_seconds(600.0, 0, 4), None);
        assert_eq!(eta_seconds(60.0, 2, 0), Some(30.0));
        assert_eq!(eta_seconds(f64::NAN, 2, 1), None);
    }

    #[test]
    fn the_line_names_step_candidates_probability_and_times() {
        let state = ProgressState {
            step: 4,
            revisions_left: Some(37),
            steps_left: Some(5),
            culprit_probability: Some(0.624),
            elapsed: 725.0,
        };
        assert_eq!(
            state.line(),
            "step 4: 37 candidates left, culprit 62% likely, 12m05s elapsed, about 24m10s left"
        );
        let first = ProgressState {
            step: 1,
            elapsed: 3.0,
            steps_left: Some(6),
            ..ProgressState::default()
        };
        assert_eq!(first.line(), "step 1: 3s elapsed, time left unknown yet");
        assert_eq!(short_duration(3.0 * 3600.0 + 250.0), "3h04m");
    }

    #[test]
    fn verdict_words_are_coloured_only_when_asked() {
        let c = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            paint_verdict(&format!("# git bisect bad {c}"), true),
            format!("# git bisect \x1b[31mbad\x1b[0m {c}")
        );
        assert_eq!(
            paint_verdict(&format!("# git bisect good {c}"), false),
            format!("# git bisect good {c}")
        );
        assert_eq!(paint_verdict("all runs: OK", true), "all runs: OK");
        assert_eq!(
            paint_verdict("# git bisect start", true),
            "# git bisect start"
        );
    }
}
