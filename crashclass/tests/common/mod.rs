//! The shared crash corpus, read in place for the corpus tests.

use std::path::PathBuf;

/// `../shared` beside the checkout, or `$KBISECT_SHARED`.
fn shared_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("KBISECT_SHARED") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

/// The case files of `crash-corpus/<part>`, sorted; `None` (said on
/// stderr) when the corpus is absent, as in a clone without ../shared.
///
/// With `$KBISECT_SHARED` set (as `.ci/run` does) the corpus is expected:
/// a missing one fails the test instead of letting it pass having checked
/// nothing.
pub fn case_files(part: &str) -> Option<Vec<PathBuf>> {
    let dir = shared_dir().join("crash-corpus").join(part);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        assert!(
            std::env::var_os("KBISECT_SHARED").is_none(),
            "KBISECT_SHARED is set but the corpus is not at {}",
            dir.display()
        );
        eprintln!(
            "corpus not found at {} (set KBISECT_SHARED); skipping",
            dir.display()
        );
        return None;
    };
    let mut names: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    names.sort();
    assert!(!names.is_empty(), "no cases in {}", dir.display());
    Some(names)
}
