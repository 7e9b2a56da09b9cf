//! The repository and kbuild's own worktree of it.
//!
//! kbuild never touches the user's working tree, index or HEAD: it checks
//! commits out in a `git worktree` of its own inside the build dir, kept from
//! run to run so that switching commits rewrites only the files that differ
//! (and make rebuilds only what depends on them). The git command line does
//! the checkout (it is fast on a 75,000-file tree and keeps the index's stat
//! cache); git2 answers questions (does this commit exist, does it contain
//! that tag).

use crate::error::{ErrorKind, Failure};
use std::path::{Path, PathBuf};

/// An opened repository.
pub struct Repo {
    pub repo: git2::Repository,
    /// Directory to run `git -C` in (the work tree, or the git dir when bare).
    pub dir: PathBuf,
}

impl Repo {
    /// Open the repository at `path` (not searching parent directories).
    pub fn open(path: &Path) -> Result<Repo, Failure> {
        let repo = git2::Repository::open(path).map_err(|e| {
            Failure::new(
                ErrorKind::NotARepo,
                format!("{}: not a git repository ({})", path.display(), e.message()),
            )
        })?;
        let dir = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
        Ok(Repo { repo, dir })
    }

    /// The full sha of the commit `rev` names.
    pub fn resolve(&self, rev: &str) -> Result<String, Failure> {
        let unknown = |why: String| {
            Failure::new(
                ErrorKind::UnknownCommit,
                format!("{rev}: no such commit in {} ({why})", self.dir.display()),
            )
        };
        if rev.is_empty() || rev.starts_with('-') {
            return Err(unknown("not a revision".into()));
        }
        let obj = self
            .repo
            .revparse_single(rev)
            .map_err(|e| unknown(e.message().to_string()))?;
        let commit = obj
            .peel_to_commit()
            .map_err(|e| unknown(e.message().to_string()))?;
        Ok(commit.id().to_string())
    }

    /// Does `commit` contain `rev` (rev is an ancestor of, or is, commit)?
    /// None when `rev` is unknown here.
    pub fn contains(&self, commit: &str, rev: &str) -> Option<bool> {
        let c = git2::Oid::from_str(commit).ok()?;
        let r = self
            .repo
            .revparse_single(rev)
            .ok()?
            .peel_to_commit()
            .ok()?
            .id();
        if c == r {
            return Some(true);
        }
        self.repo.graph_descendant_of(c, r).ok()
    }

    /// The number of parents of a commit (0 when unknown).
    pub fn parent_count(&self, commit: &str) -> usize {
        git2::Oid::from_str(commit)
            .ok()
            .and_then(|o| self.repo.find_commit(o).ok())
            .map(|c| c.parent_count())
            .unwrap_or(0)
    }

    /// The repository's common git dir (shared by all its worktrees).
    pub fn common_dir(&self) -> PathBuf {
        let p = self.repo.commondir();
        p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
    }
}

/// Run git with `args` in `dir`; Ok(stdout) or Err(stderr lines).
fn git(dir: &Path, args: &[&str]) -> Result<String, Vec<String>> {
    let out = duct::cmd("git", args)
        .dir(dir)
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdout_capture()
        .stderr_capture()
        .stdin_null()
        .unchecked()
        .run()
        .map_err(|e| vec![format!("git: {e}")])?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        if lines.is_empty() {
            lines.push(format!("git {} failed: {}", args.join(" "), out.status));
        }
        Err(lines)
    }
}

/// Make sure `wt` is a worktree of `repo` (re-creating it if it is missing,
/// broken, or belongs to another repository), then check out `commit` there
/// and revert `revert` on top of it when asked.
pub fn prepare(repo: &Repo, wt: &Path, commit: &str, revert: Option<&str>) -> Result<(), Failure> {
    let checkout_failed =
        |lines: Vec<String>| Failure::with_lines(ErrorKind::CheckoutFailed, lines);
    if !is_worktree_of(repo, wt) {
        recreate(repo, wt, commit).map_err(checkout_failed)?;
    }
    clear_stale_state(wt);
    if let Err(first) = switch(wt, commit) {
        // A worktree left broken (killed mid-checkout, deleted git dir):
        // start it afresh once before giving up.
        kbisect_records::say!(
            "kbuild: checkout failed ({}), re-creating the worktree",
            first.join(" ")
        );
        recreate(repo, wt, commit).map_err(checkout_failed)?;
        switch(wt, commit).map_err(checkout_failed)?;
    }
    if let Some(rev) = revert {
        let mut args = vec![
            "-c",
            "user.name=kbuild",
            "-c",
            "user.email=kbuild@localhost",
        ];
        args.extend(["revert", "--no-commit", "--no-edit"]);
        if repo.parent_count(rev) > 1 {
            args.extend(["-m", "1"]);
        }
        args.push(rev);
        if let Err(lines) = git(wt, &args) {
            let _ = git(wt, &["revert", "--abort"]);
            let _ = switch(wt, commit);
            let mut msg = vec![format!("{rev} does not revert cleanly on {commit}")];
            msg.extend(lines);
            return Err(Failure::with_lines(ErrorKind::RevertFailed, msg));
        }
    }
    Ok(())
}

/// Detach the worktree at `commit`, forcing away any change left by an
/// earlier revert, and remove untracked files.
fn switch(wt: &Path, commit: &str) -> Result<(), Vec<String>> {
    git(wt, &["checkout", "--quiet", "--detach", "--force", commit])?;
    git(wt, &["clean", "-q", "-f", "-d", "-x"])?;
    Ok(())
}

fn is_worktree_of(repo: &Repo, wt: &Path) -> bool {
    if !wt.join(".git").is_file() {
        return false;
    }
    match git(wt, &["rev-parse", "--git-common-dir"]) {
        Ok(out) => {
            let p = PathBuf::from(out.trim());
            let p = if p.is_relative() { wt.join(p) } else { p };
            p.canonicalize().ok() == Some(repo.common_dir())
        }
        Err(_) => false,
    }
}

/// Remove what a killed git leaves behind in the worktree's git dir (the
/// build dir lock guarantees no other kbuild is using it).
fn clear_stale_state(wt: &Path) {
    if let Ok(out) = git(wt, &["rev-parse", "--git-dir"]) {
        let p = PathBuf::from(out.trim());
        let gitdir = if p.is_relative() { wt.join(p) } else { p };
        for name in ["index.lock", "HEAD.lock", "REVERT_HEAD", "MERGE_MSG"] {
            let _ = std::fs::remove_file(gitdir.join(name));
        }
        let _ = std::fs::remove_dir_all(gitdir.join("sequencer"));
    }
}

fn recreate(repo: &Repo, wt: &Path, commit: &str) -> Result<(), Vec<String>> {
    if wt.exists() {
        std::fs::remove_dir_all(wt)
            .map_err(|e| vec![format!("{}: cannot remove: {e}", wt.display())])?;
    }
    if let Some(parent) = wt.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| vec![format!("{}: cannot create: {e}", parent.display())])?;
    }
    let _ = git(&repo.dir, &["worktree", "prune"]);
    let wt_str = wt.to_string_lossy();
    kbisect_records::say!("kbuild: creating worktree {wt_str}");
    git(
        &repo.dir,
        &[
            "worktree", "add", "--quiet", "--detach", "--force", &wt_str, commit,
        ],
    )?;
    Ok(())
}
