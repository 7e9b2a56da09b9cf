//! Helpers shared by the end-to-end tests in `tests/tests/`: where the built
//! binaries are, where the shared data lives, and where a test keeps what
//! it made for a person to look at.

pub mod scratch;
pub mod sshd;

use std::path::PathBuf;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests crate lives in the workspace")
        .to_path_buf()
}

/// Path of a built kbisect binary (same profile as the test binary).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    dir.join(name)
}

/// `../shared` beside the checkout (CI puts it there), or $KBISECT_SHARED.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("KBISECT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("..").join("shared"))
}

/// Where test `name` keeps files worth looking at after it ran (a report's
/// screenshot): `$KBISECT_ARTIFACTS/name` when set (CI uploads that
/// directory), else `target/test-artifacts/name`; created, and kept after
/// the test, unlike its temporary directories.
pub fn artifact_dir(name: &str) -> PathBuf {
    let base = std::env::var_os("KBISECT_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target").join("test-artifacts"));
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("artifact dir {}: {e}", dir.display()));
    dir
}
