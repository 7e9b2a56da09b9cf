//! Choosing the compiler: a fixed `--compiler`, or a `--compiler-table` that
//! picks one by which release the commit contains (as syzkaller picks older
//! gcc for older kernels). Also the compiler's identity line, and the Debian
//! package to install when it is missing.
//!
//! Compiler table format (one rule per line, `#` starts a comment):
//!
//! ```text
//! # rev      compiler
//! v6.2       gcc-12
//! v5.15      gcc-11
//! *          gcc-10
//! ```
//!
//! The first rule whose rev (a tag, or any git revision) is an ancestor of,
//! or equal to, the commit being built wins; `*` matches every commit. A rev
//! the repository does not know matches nothing (kbuild warns once). When no
//! rule matches the build fails with `compiler_missing`.

use crate::error::{ErrorKind, Failure};
use kbisect_records::find_program;
use std::path::Path;

/// A compiler and the make variables that select it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiler {
    /// What the user named: `gcc`, `gcc-12`, `clang-15`, or a path.
    pub name: String,
    /// The C compiler command (CC).
    pub cc: String,
    /// The linker command (LD).
    pub ld: String,
    /// True for clang (LD is then ld.lld of the same version).
    pub clang: bool,
}

impl Compiler {
    /// The compiler called `name`. clang-N links with ld.lld-N; gcc with ld.
    pub fn named(name: &str) -> Compiler {
        let base = Path::new(name)
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or(name);
        let clang = base.starts_with("clang");
        let ld = if clang {
            match base.strip_prefix("clang") {
                Some(suffix) if !suffix.is_empty() => format!("ld.lld{suffix}"),
                _ => "ld.lld".to_string(),
            }
        } else {
            "ld".to_string()
        };
        Compiler {
            name: name.to_string(),
            cc: name.to_string(),
            ld,
            clang,
        }
    }

    /// The Debian packages that provide this compiler and its linker
    /// (`gcc-12` → gcc-12; `clang-15` → clang-15, lld-15). Empty for paths.
    pub fn debian_packages(&self) -> Vec<String> {
        if self.name.contains('/') {
            return Vec::new();
        }
        if self.clang {
            let suffix = self.name.strip_prefix("clang").unwrap_or("");
            vec![self.name.clone(), format!("lld{suffix}")]
        } else if self.name.starts_with("gcc") {
            vec![self.name.clone()]
        } else {
            Vec::new()
        }
    }

    /// make variable assignments (CC=…, LD=…, HOSTCC=… for clang), with
    /// ccache in front of CC when asked, else distcc when asked (with both,
    /// ccache calls distcc itself: CCACHE_PREFIX).
    pub fn make_vars(&self, ccache: bool, distcc: bool) -> Vec<String> {
        let cc = if ccache {
            format!("ccache {}", self.cc)
        } else if distcc {
            format!("distcc {}", self.cc)
        } else {
            self.cc.clone()
        };
        let mut v = vec![format!("CC={cc}")];
        if self.clang {
            v.push(format!("LD={}", self.ld));
            v.push(format!("HOSTCC={}", self.cc));
        }
        v
    }

    /// Fails with `compiler_missing` (naming the packages to install) when
    /// the compiler or its linker is not on PATH.
    pub fn check_installed(&self) -> Result<(), Failure> {
        let missing: Vec<&str> = [self.cc.as_str(), self.ld.as_str()]
            .into_iter()
            .filter(|p| find_program(p).is_none())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let pkgs = self.debian_packages();
        let hint = if pkgs.is_empty() {
            String::new()
        } else {
            format!(" (Debian package: {})", pkgs.join(" + "))
        };
        Err(Failure::new(
            ErrorKind::CompilerMissing,
            format!("{} is not installed{hint}", missing.join(" and ")),
        ))
    }

    /// The identity line as syzbot prints it: the first line of
    /// `$CC --version`, a comma, the first line of `$LD --version`, e.g.
    /// "gcc (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40".
    pub fn identity(&self) -> Result<String, Failure> {
        self.check_installed()?;
        let cc = first_line_of(&self.cc)?;
        let ld = first_line_of(&self.ld)?;
        Ok(format!("{cc}, {ld}"))
    }
}

fn first_line_of(program: &str) -> Result<String, Failure> {
    let out = duct::cmd(program, ["--version"])
        .env("LC_ALL", "C")
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .map_err(|e| {
            Failure::new(
                ErrorKind::CompilerMissing,
                format!("{program} --version: {e}"),
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.lines().next().map(str::trim) {
        Some(l) if out.status.success() && !l.is_empty() => Ok(l.to_string()),
        _ => Err(Failure::new(
            ErrorKind::CompilerMissing,
            format!("{program} --version printed nothing usable"),
        )),
    }
}

/// One line of a compiler table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The revision the commit must contain; None for `*`.
    pub rev: Option<String>,
    pub compiler: String,
    /// 1-based line in the table file.
    pub line: usize,
}

/// Parse a compiler table. Errors say `line: message`.
pub fn parse_table(text: &str) -> Result<Vec<Rule>, (usize, String)> {
    let mut rules = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() != 2 {
            return Err((i + 1, format!("want `<rev or *> <compiler>`, got {raw:?}")));
        }
        rules.push(Rule {
            rev: (words[0] != "*").then(|| words[0].to_string()),
            compiler: words[1].to_string(),
            line: i + 1,
        });
    }
    if rules.is_empty() {
        return Err((0, "no rules".into()));
    }
    Ok(rules)
}

/// The first rule matching `commit`. `contains(rev)` answers whether the
/// commit contains `rev` (None when the repository does not know `rev`).
pub fn choose(rules: &[Rule], mut contains: impl FnMut(&str) -> Option<bool>) -> Option<&Rule> {
    rules.iter().find(|r| match &r.rev {
        None => true,
        Some(rev) => contains(rev).unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clang_links_with_matching_lld() {
        let c = Compiler::named("clang-15");
        assert_eq!(c.ld, "ld.lld-15");
        assert_eq!(c.debian_packages(), vec!["clang-15", "lld-15"]);
        assert_eq!(
            c.make_vars(true, true),
            vec!["CC=ccache clang-15", "LD=ld.lld-15", "HOSTCC=clang-15"]
        );
        let g = Compiler::named("gcc-11");
        assert_eq!(g.ld, "ld");
        assert_eq!(g.debian_packages(), vec!["gcc-11"]);
        assert_eq!(g.make_vars(false, false), vec!["CC=gcc-11"]);
        assert_eq!(g.make_vars(false, true), vec!["CC=distcc gcc-11"]);
    }

    #[test]
    fn missing_compiler_names_its_package() {
        let e = Compiler::named("gcc-99").check_installed().unwrap_err();
        assert_eq!(e.kind, ErrorKind::CompilerMissing);
        assert!(e.lines[0].contains("Debian package: gcc-99"), "{e}");
        let e = Compiler::named("clang-99").check_installed().unwrap_err();
        assert!(e.lines[0].contains("clang-99 + lld-99"), "{e}");
    }

    #[test]
    fn table_first_contained_rule_wins() {
        let rules = parse_table("# c\nv6.2 gcc-12\nv6.1 gcc-11 # old\n* gcc-10\n").unwrap();
        assert_eq!(rules.len(), 3);
        let pick = |have: &[&str]| {
            choose(&rules, |rev| Some(have.contains(&rev)))
                .unwrap()
                .compiler
                .clone()
        };
        assert_eq!(pick(&["v6.1", "v6.2"]), "gcc-12");
        assert_eq!(pick(&["v6.1"]), "gcc-11");
        assert_eq!(pick(&[]), "gcc-10");
        // An unknown rev matches nothing.
        assert_eq!(
            choose(&rules[..1], |_| None).map(|r| r.compiler.as_str()),
            None
        );
    }

    #[test]
    fn table_errors_name_the_line() {
        assert_eq!(parse_table("v6.1 gcc 11\n").unwrap_err().0, 1);
        assert!(parse_table("# nothing\n").is_err());
    }
}
