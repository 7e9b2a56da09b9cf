//! crashclass: decide whether a kernel console log holds a crash and name it
//! the way syzkaller does.
//!
//! PLACEHOLDER API (the crashclass issue fills it in): the shapes below are
//! what other crates (ktest) code against; keep them stable.

pub use kbisect_records::Classification;

/// Classify a whole console log.
pub fn classify(log: &[u8]) -> Classification {
    let text = String::from_utf8_lossy(log);
    for (i, line) in text.lines().enumerate() {
        let l = line.trim_start_matches(|c: char| c == '[' || c.is_ascii_digit() || c == '.' || c == ']' || c == ' ');
        if l.starts_with("BUG:") || l.starts_with("WARNING:") || l.starts_with("Kernel panic") {
            let _ = i;
            return Classification {
                crashed: true,
                title: Some(l.to_string()),
                ..Default::default()
            };
        }
    }
    Classification::default()
}

/// True when `title` (or one of `class`'s alt titles) names one of `targets`.
pub fn is_same_bug(class: &Classification, targets: &[String]) -> Option<bool> {
    if !class.crashed {
        return None;
    }
    let mut titles = class.title.iter().chain(class.alt_titles.iter());
    Some(titles.any(|t| targets.iter().any(|x| x == t)))
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

/// Watches console output line by line as a VM prints it.
#[derive(Debug, Default)]
pub struct LiveDetector {
    state: Option<LiveState>,
    lines_since_start: usize,
}

impl LiveDetector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one console line (without its newline). Returns the new state.
    pub fn feed_line(&mut self, line: &[u8]) -> LiveState {
        let text = String::from_utf8_lossy(line);
        match self.state {
            None | Some(LiveState::Quiet) => {
                if text.contains("BUG:") || text.contains("WARNING:") || text.contains("Kernel panic") {
                    self.state = Some(LiveState::ReportStarted);
                }
            }
            Some(LiveState::ReportStarted) => {
                self.lines_since_start += 1;
                if text.contains("end Kernel panic") || text.contains("---[ end trace") || self.lines_since_start > 200 {
                    self.state = Some(LiveState::ReportComplete);
                }
            }
            Some(LiveState::ReportComplete) => {}
        }
        self.state.unwrap_or(LiveState::Quiet)
    }

    /// The stream ended (VM exited or timed out); say what we have.
    pub fn finish(&mut self) -> LiveState {
        self.state.unwrap_or(LiveState::Quiet)
    }
}
