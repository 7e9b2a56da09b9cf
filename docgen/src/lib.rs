//! The man pages and shell completions of every kbisect tool, written from
//! the tools' own clap definitions (each library's `cli` module, and
//! kbisect-args for the `kbisect` script), so the documentation cannot
//! drift from the options the tools parse.
//!
//! Layout under the output directory, as `make install` copies it:
//! `man/man1/<tool>.1`, `completions/bash/<tool>`, `completions/zsh/_<tool>`,
//! `completions/fish/<tool>.fish`.

use clap::CommandFactory;
use clap_complete::Shell;
use std::path::{Path, PathBuf};

/// Every command kbisect ships, by its installed name.
pub fn commands() -> Vec<clap::Command> {
    vec![
        kbisect_args::Cli::command(),
        bisect_step::cli::Cli::command(),
        kbuild::cli::Cli::command(),
        ksig::cli::Cli::command(),
        ktest::cli::Args::command(),
        crashclass::cli::Cli::command(),
        kbisect_log::cli::Cli::command(),
    ]
}

/// Where the file for `shell`'s completion of `tool` goes under the output dir.
pub fn completion_path(out: &Path, shell: Shell, tool: &str) -> PathBuf {
    let dir = out.join("completions").join(shell.to_string());
    match shell {
        Shell::Zsh => dir.join(format!("_{tool}")),
        Shell::Fish => dir.join(format!("{tool}.fish")),
        _ => dir.join(tool),
    }
}

/// Writes every man page and completion under `out`; returns the files written.
pub fn generate(out: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let man_dir = out.join("man").join("man1");
    std::fs::create_dir_all(&man_dir)?;
    for mut cmd in commands() {
        cmd.build();
        let name = cmd.get_name().to_string();
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
        let path = man_dir.join(format!("{name}.1"));
        std::fs::write(&path, page)?;
        written.push(path);
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let path = completion_path(out, shell, &name);
            std::fs::create_dir_all(path.parent().unwrap_or(out))?;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, name.clone(), &mut script);
            std::fs::write(&path, script)?;
            written.push(path);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_gets_a_man_page_and_three_completions() {
        let dir = tempfile::tempdir().unwrap();
        let files = generate(dir.path()).unwrap();
        assert_eq!(files.len(), commands().len() * 4);
        let page = std::fs::read_to_string(dir.path().join("man/man1/kbisect.1")).unwrap();
        assert!(
            page.starts_with(".ie") || page.contains(".TH kbisect"),
            "{page}"
        );
        assert!(page.contains("report"));
        let zsh = completion_path(dir.path(), Shell::Zsh, "ktest");
        assert!(std::fs::read_to_string(zsh).unwrap().contains("--repro"));
        assert!(dir
            .path()
            .join("completions/fish/bisect-step.fish")
            .is_file());
        assert!(dir.path().join("completions/bash/kbisect-log").is_file());
    }
}
