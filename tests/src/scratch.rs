//! Scratch commits for the real-kernel tests: git run with fixed names and
//! dates, so the same edits make the same commit on every run and kbuild's
//! artifact cache (keyed by commit) answers a later run, or a later test
//! that builds the same commit.

use std::path::Path;

/// git in `dir` with fixed author, committer and dates; its stdout,
/// trimmed. `stdin` is fed to it when given.
pub fn git(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut cmd = duct::cmd("git", args)
        .dir(dir)
        .env("GIT_AUTHOR_NAME", "kbisect test")
        .env("GIT_AUTHOR_EMAIL", "test@kbisect")
        .env("GIT_COMMITTER_NAME", "kbisect test")
        .env("GIT_COMMITTER_EMAIL", "test@kbisect")
        .env("GIT_AUTHOR_DATE", "2023-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2023-01-01T00:00:00Z")
        .stdout_capture();
    if let Some(text) = stdin {
        cmd = cmd.stdin_bytes(text.as_bytes().to_vec());
    }
    cmd.read()
        .unwrap_or_else(|e| panic!("git {args:?}: {e}"))
        .trim()
        .to_string()
}

/// A commit on `parent` that sets each `(path, content)` of `files`, made
/// without a working tree (a temporary index).
pub fn commit_files(repo: &Path, parent: &str, files: &[(&str, &str)], msg: &str) -> String {
    let index = tempfile::tempdir().expect("tempdir");
    let index_file = index.path().join("index");
    let with_index = |args: &[&str]| {
        duct::cmd("git", args)
            .dir(repo)
            .env("GIT_INDEX_FILE", &index_file)
            .read()
            .unwrap_or_else(|e| panic!("git {args:?}: {e}"))
            .trim()
            .to_string()
    };
    with_index(&["read-tree", parent]);
    for (path, content) in files {
        let blob = git(repo, &["hash-object", "-w", "--stdin"], Some(content));
        with_index(&[
            "update-index",
            "--cacheinfo",
            &format!("100644,{blob},{path}"),
        ]);
    }
    let tree = with_index(&["write-tree"]);
    git(repo, &["commit-tree", &tree, "-p", parent, "-m", msg], None)
}
