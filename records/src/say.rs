//! Human progress on stderr, one whole line per write.
//!
//! kbisect runs kbuild, ksig, ktest, bisect-step and kbisect-log at once, all
//! writing to one stderr. Rust's stderr is unbuffered, and `eprintln!` hands
//! each piece of its format string to write(2) on its own, so two tools'
//! lines came out spliced mid-line ("ktestrun #0: OK: …"). Every progress
//! line is therefore formatted first and written with a single call, which
//! the kernel does not interleave with another process's write to the same
//! pipe or terminal (a line is far below PIPE_BUF).

use std::io::Write;

/// Write `text` and a newline to stderr in one write. Errors are dropped:
/// progress must never stop the work (stderr may be closed).
pub fn line(text: &str) {
    let mut buf = String::with_capacity(text.len() + 1);
    buf.push_str(text);
    buf.push('\n');
    let _ = std::io::stderr().lock().write_all(buf.as_bytes());
}

/// Write `text` to stderr in one write, as given (a line that redraws
/// itself brings its own control characters and no newline).
pub fn raw(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// `eprintln!` with the line written in one piece: `say!("kbuild: {sha} built")`.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::say::line(&::std::format!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_like_eprintln() {
        // Only that it formats and does not panic on a closed or full stderr.
        crate::say!("tool: {} of {}", 1, 2);
        super::raw("");
    }
}
