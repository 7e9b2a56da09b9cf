//! Kernel configs: what the user asked for (a base target such as
//! `tinyconfig`, or a full `.config`, plus fragments), how fragments are
//! merged into a `.config` (the logic of scripts/kconfig/merge_config.sh, in
//! Rust so it needs no shell), and which requested options did not survive
//! `make olddefconfig`.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default fragment applied on top of `tinyconfig` when no `--config` is
/// given: x86_64, serial console, initramfs, KALLSYMS, BUG/WARN.
pub const DEFAULT_FRAGMENT: &str = include_str!("../config/default.fragment");

/// What ktest's guest needs of any kernel; added to a user's full `.config`
/// that lacks it. The default fragment has all of it (a unit test checks).
pub const GUEST_FRAGMENT: &str = include_str!("../config/guest.fragment");

/// The lines of [`GUEST_FRAGMENT`] that `config` (a resolved `.config`)
/// does not meet, written as in the fragment.
pub fn guest_lacks(config: &str) -> Vec<String> {
    missing_options(&assignments(GUEST_FRAGMENT), config)
}

/// make targets accepted as a config base (the rest of `--config` values are
/// paths to a full `.config`).
pub const BASE_TARGETS: &[&str] = &[
    "tinyconfig",
    "defconfig",
    "allnoconfig",
    "allyesconfig",
    "allmodconfig",
    "alldefconfig",
    "x86_64_defconfig",
    "i386_defconfig",
];

/// Where the starting `.config` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// `make <target>` makes it.
    Target(String),
    /// A full `.config` read from this file (its text is kept here).
    File { path: PathBuf, text: String },
}

/// A named fragment: `CONFIG_X=v` / `# CONFIG_X is not set` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// Where it came from (a path, or `default.fragment`).
    pub name: String,
    pub text: String,
}

/// The config a build asks for. Its [`ConfigSpec::hash`] is part of the
/// artifact cache key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSpec {
    pub base: Base,
    pub fragments: Vec<Fragment>,
}

impl ConfigSpec {
    /// Build the spec from `--config`, `--config-fragment` and
    /// `--no-default-fragment`. The embedded default fragment is applied on
    /// a base target (not on a full `.config`) unless turned off.
    pub fn from_args(
        config: Option<&str>,
        fragment_paths: &[PathBuf],
        default_fragment: bool,
    ) -> Result<Self, String> {
        let base = match config {
            None => Base::Target("tinyconfig".into()),
            Some(c) if Path::new(c).is_file() => {
                let text = std::fs::read_to_string(c)
                    .map_err(|e| format!("--config {c}: cannot read: {e}"))?;
                Base::File {
                    path: PathBuf::from(c),
                    text,
                }
            }
            Some(c) if BASE_TARGETS.contains(&c) => Base::Target(c.to_string()),
            Some(c) => {
                return Err(format!(
                    "--config {c}: neither a file nor one of {}",
                    BASE_TARGETS.join(", ")
                ))
            }
        };
        let mut fragments = Vec::new();
        if default_fragment && matches!(base, Base::Target(_)) {
            fragments.push(Fragment {
                name: "default.fragment".into(),
                text: DEFAULT_FRAGMENT.into(),
            });
        }
        for p in fragment_paths {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("--config-fragment {}: cannot read: {e}", p.display()))?;
            if let Some((line, bad)) = first_bad_line(&text) {
                return Err(format!(
                    "{}:{line}: not a config line (want CONFIG_X=value or '# CONFIG_X is not set'): {bad}",
                    p.display()
                ));
            }
            fragments.push(Fragment {
                name: p.display().to_string(),
                text,
            });
        }
        Ok(ConfigSpec { base, fragments })
    }

    /// A stable digest of everything that decides the config: the base
    /// (target name or full text) and each fragment's assignments in order.
    /// Comments and blank lines do not count.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        match &self.base {
            Base::Target(t) => h.update(format!("target {t}\n")),
            Base::File { text, .. } => {
                h.update("file\n");
                for (sym, val) in assignments(text) {
                    h.update(format!("{sym}={val}\n"));
                }
            }
        }
        for f in &self.fragments {
            h.update("fragment\n");
            for (sym, val) in assignments(&f.text) {
                h.update(format!("{sym}={val}\n"));
            }
        }
        hex(&h.finalize())
    }

    /// The options the user asked for, last assignment of each symbol
    /// winning: the set (non-`n`) options of a full `.config` base, then
    /// every fragment line.
    pub fn requested(&self) -> Vec<(String, String)> {
        let mut order: Vec<String> = Vec::new();
        let mut want: BTreeMap<String, String> = BTreeMap::new();
        let mut add = |sym: String, val: String| {
            if !want.contains_key(&sym) {
                order.push(sym.clone());
            }
            want.insert(sym, val);
        };
        if let Base::File { text, .. } = &self.base {
            for (sym, val) in assignments(text) {
                if val != "n" {
                    add(sym, val);
                }
            }
        }
        for f in &self.fragments {
            for (sym, val) in assignments(&f.text) {
                add(sym, val);
            }
        }
        order
            .into_iter()
            .filter_map(|s| want.get(&s).map(|v| (s.clone(), v.clone())))
            .collect()
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parse one config line: `CONFIG_X=value` → (CONFIG_X, value);
/// `# CONFIG_X is not set` → (CONFIG_X, "n"); anything else → None.
pub fn parse_line(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("# ") {
        let sym = rest.strip_suffix(" is not set")?;
        if is_symbol(sym) {
            return Some((sym.to_string(), "n".into()));
        }
        return None;
    }
    let (sym, val) = line.split_once('=')?;
    if is_symbol(sym) {
        Some((sym.to_string(), val.to_string()))
    } else {
        None
    }
}

fn is_symbol(s: &str) -> bool {
    s.starts_with("CONFIG_")
        && s.len() > "CONFIG_".len()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Every assignment in a config text, in order.
pub fn assignments(text: &str) -> Vec<(String, String)> {
    text.lines().filter_map(parse_line).collect()
}

/// The first line of a fragment that is neither blank, a comment, nor an
/// assignment (1-based line number and the line).
pub fn first_bad_line(text: &str) -> Option<(usize, String)> {
    text.lines().enumerate().find_map(|(i, l)| {
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') || parse_line(t).is_some() {
            None
        } else {
            Some((i + 1, l.to_string()))
        }
    })
}

/// Merge fragments into a `.config` text as merge_config.sh does: a symbol
/// already present has its line replaced in place, a new one is appended.
pub fn merge(config: &str, fragments: &[Fragment]) -> String {
    let mut lines: Vec<String> = config.lines().map(str::to_string).collect();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some((sym, _)) = parse_line(l) {
            index.insert(sym, i);
        }
    }
    for f in fragments {
        for (sym, val) in assignments(&f.text) {
            let line = if val == "n" {
                format!("# {sym} is not set")
            } else {
                format!("{sym}={val}")
            };
            match index.get(&sym) {
                Some(&i) => lines[i] = line,
                None => {
                    index.insert(sym, lines.len());
                    lines.push(line);
                }
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Whether Kconfig derives `sym` (`CONFIG_X`) from the toolchain that
/// runs it (which compiler, assembler, linker and rustc, their versions,
/// what they support) rather than from a choice. A full config made with
/// another toolchain (syzbot's are made with clang) has other values for
/// these; they are facts about that toolchain, not requests a build could
/// meet, so they never count as options that did not stick.
pub fn is_toolchain_fact(sym: &str) -> bool {
    const NAMES: &[&str] = &[
        "CC_VERSION_TEXT",
        "GCC_VERSION",
        "CLANG_VERSION",
        "AS_VERSION",
        "LD_VERSION",
        "LLD_VERSION",
        "RUSTC_VERSION",
        "RUSTC_LLVM_VERSION",
        "BINDGEN_VERSION",
        "PAHOLE_VERSION",
        "RUST_IS_AVAILABLE",
        "CC_IMPLICIT_FALLTHROUGH",
        "CC_NO_ARRAY_BOUNDS",
        "HAVE_KMSAN_COMPILER",
        "GCC_ASM_GOTO_OUTPUT_WORKAROUND",
    ];
    const FAMILIES: &[&str] = &[
        "CC_IS_",
        "AS_IS_",
        "LD_IS_",
        "CC_HAS_",
        "CC_HAVE_",
        "CC_CAN_",
        "AS_HAS_",
        "LD_HAS_",
        "LD_CAN_",
        "RUSTC_HAS_",
        "TOOLS_SUPPORT_",
    ];
    let name = sym.strip_prefix("CONFIG_").unwrap_or(sym);
    NAMES.contains(&name) || FAMILIES.iter().any(|f| name.starts_with(f))
}

/// The compiler a `.config` was made with (its `CONFIG_CC_VERSION_TEXT`,
/// unquoted), when it says.
pub fn made_with(config: &str) -> Option<String> {
    assignments(config)
        .into_iter()
        .find(|(sym, _)| sym == "CONFIG_CC_VERSION_TEXT")
        .map(|(_, v)| v.trim_matches('"').to_string())
}

/// The requested options that the final config does not have as asked,
/// written as they were requested (`CONFIG_X=y`, `# CONFIG_X is not set`).
/// A request for `n` is met by an absent symbol; a toolchain fact
/// ([`is_toolchain_fact`]) is no request.
pub fn missing_options(requested: &[(String, String)], final_config: &str) -> Vec<String> {
    let have: BTreeMap<String, String> = assignments(final_config).into_iter().collect();
    requested
        .iter()
        .filter(|(sym, _)| !is_toolchain_fact(sym))
        .filter(|(sym, want)| {
            let got = have.get(sym).map(String::as_str).unwrap_or("n");
            got != want
        })
        .map(|(sym, want)| {
            if want == "n" {
                format!("# {sym} is not set")
            } else {
                format!("{sym}={want}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(text: &str) -> Fragment {
        Fragment {
            name: "f".into(),
            text: text.into(),
        }
    }

    #[test]
    fn parses_set_and_unset_lines() {
        assert_eq!(
            parse_line("CONFIG_A=y"),
            Some(("CONFIG_A".into(), "y".into()))
        );
        assert_eq!(
            parse_line("# CONFIG_B is not set"),
            Some(("CONFIG_B".into(), "n".into()))
        );
        assert_eq!(
            parse_line("CONFIG_S=\"a=b\""),
            Some(("CONFIG_S".into(), "\"a=b\"".into()))
        );
        assert_eq!(parse_line("# a comment"), None);
        assert_eq!(parse_line("FOO=y"), None);
    }

    #[test]
    fn merge_replaces_in_place_and_appends() {
        let base = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=3\n";
        let out = merge(base, &[frag("CONFIG_B=y\nCONFIG_A=n\nCONFIG_D=m\n")]);
        assert_eq!(
            out,
            "# CONFIG_A is not set\nCONFIG_B=y\nCONFIG_C=3\nCONFIG_D=m\n"
        );
    }

    #[test]
    fn later_fragments_win() {
        let out = merge("", &[frag("CONFIG_A=y"), frag("CONFIG_A=m")]);
        assert_eq!(out, "CONFIG_A=m\n");
    }

    #[test]
    fn missing_lists_what_did_not_stick() {
        let req = vec![
            ("CONFIG_A".to_string(), "y".to_string()),
            ("CONFIG_GONE".to_string(), "y".to_string()),
            ("CONFIG_OFF".to_string(), "n".to_string()),
            ("CONFIG_N".to_string(), "4".to_string()),
        ];
        let fin = "CONFIG_A=y\nCONFIG_N=8\n";
        assert_eq!(
            missing_options(&req, fin),
            vec!["CONFIG_GONE=y".to_string(), "CONFIG_N=4".to_string()]
        );
    }

    #[test]
    fn hash_ignores_comments_but_not_values() {
        let a = ConfigSpec {
            base: Base::Target("tinyconfig".into()),
            fragments: vec![frag("# hi\nCONFIG_A=y\n")],
        };
        let b = ConfigSpec {
            base: Base::Target("tinyconfig".into()),
            fragments: vec![frag("CONFIG_A=y")],
        };
        let c = ConfigSpec {
            base: Base::Target("tinyconfig".into()),
            fragments: vec![frag("CONFIG_A=m")],
        };
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
    }

    #[test]
    fn the_default_fragment_gives_the_guest_what_it_needs() {
        let default = assignments(DEFAULT_FRAGMENT);
        assert_eq!(first_bad_line(GUEST_FRAGMENT), None);
        for need in assignments(GUEST_FRAGMENT) {
            let have = default
                .iter()
                .find(|(s, _)| *s == need.0)
                .map(|(_, v)| v.as_str());
            assert!(
                have == Some(need.1.as_str()) || (need.1 == "n" && have.is_none()),
                "{need:?}"
            );
        }
        let full = "CONFIG_64BIT=y\nCONFIG_TTY=y\n# CONFIG_SERIAL_8250 is not set\nCONFIG_CMDLINE_OVERRIDE=y\n";
        let lacks = guest_lacks(full);
        assert!(
            lacks.contains(&"CONFIG_SERIAL_8250=y".to_string()),
            "{lacks:?}"
        );
        assert!(
            lacks.contains(&"# CONFIG_CMDLINE_OVERRIDE is not set".to_string()),
            "{lacks:?}"
        );
        assert!(
            !lacks.iter().any(|l| l.starts_with("CONFIG_64BIT")),
            "{lacks:?}"
        );
    }

    #[test]
    fn default_fragment_is_all_config_lines() {
        assert_eq!(first_bad_line(DEFAULT_FRAGMENT), None);
        assert!(assignments(DEFAULT_FRAGMENT).len() > 20);
    }

    /// What olddefconfig did with syzbot's 6.1 config (made with clang 22)
    /// under gcc 12: the toolchain's own lines are no lost requests; an
    /// option the tree lacks, or one clang alone gives, is.
    #[test]
    fn a_config_of_another_toolchain_loses_only_real_requests() {
        let asked = "CONFIG_CC_VERSION_TEXT=\"Debian clang version 22.1.8\"\nCONFIG_GCC_VERSION=0\n\
CONFIG_CC_IS_CLANG=y\nCONFIG_CLANG_VERSION=220108\nCONFIG_LD_IS_LLD=y\nCONFIG_CC_HAS_KASAN_SW_TAGS=y\n\
CONFIG_RUST_IS_AVAILABLE=y\nCONFIG_UBSAN_ARRAY_BOUNDS=y\nCONFIG_TWIST_KERNEL_BEHAVIOR=y\nCONFIG_KASAN=y\n";
        let got =
            "CONFIG_CC_VERSION_TEXT=\"gcc (Debian 12.2.0-14) 12.2.0\"\nCONFIG_GCC_VERSION=120200\n\
CONFIG_CC_IS_GCC=y\nCONFIG_CLANG_VERSION=0\nCONFIG_LD_IS_BFD=y\nCONFIG_KASAN=y\n";
        let spec = ConfigSpec {
            base: Base::File {
                path: "syzbot.config".into(),
                text: asked.into(),
            },
            fragments: vec![],
        };
        assert_eq!(
            missing_options(&spec.requested(), got),
            [
                "CONFIG_UBSAN_ARRAY_BOUNDS=y",
                "CONFIG_TWIST_KERNEL_BEHAVIOR=y"
            ]
        );
        assert_eq!(
            made_with(asked).as_deref(),
            Some("Debian clang version 22.1.8")
        );
        assert_eq!(made_with("CONFIG_KASAN=y\n"), None);
        assert!(!is_toolchain_fact("CONFIG_KASAN_SW_TAGS"));
    }

    #[test]
    fn requested_keeps_last_value_in_first_order() {
        let spec = ConfigSpec {
            base: Base::Target("tinyconfig".into()),
            fragments: vec![frag("CONFIG_A=y\nCONFIG_B=y"), frag("CONFIG_A=n")],
        };
        assert_eq!(
            spec.requested(),
            vec![
                ("CONFIG_A".to_string(), "n".to_string()),
                ("CONFIG_B".to_string(), "y".to_string())
            ]
        );
    }
}
