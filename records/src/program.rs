//! Finding an external program the way exec would: kbuild asks whether a
//! compiler or distcc is installed, ktest keys its KVM probe memo by the
//! QEMU binary it will run. One lookup, so both agree on what "installed"
//! means (a file with an execute bit, by path or in `$PATH`).

use std::path::{Path, PathBuf};

/// The path of `program` (a name looked up in PATH, or a path).
pub fn find_program(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let is_exe = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_exe(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| is_exe(p))
}
