//! The config search's first guess: the options that build the code a
//! crash ran.
//!
//! Handed a big config and a crash in `foo_show`, a kernel developer looks
//! first for what builds `foo_show`: the Makefile line that compiles its
//! file (`obj-$(CONFIG_FOO) += foo.o`, through a composite object's
//! `foo-y` list when there is one, and up the tree the lines that enter its
//! directories: `obj-$(CONFIG_BAR) += bar/`) and the `#ifdef CONFIG_…` /
//! `#if IS_ENABLED(CONFIG_…)` blocks around its definition. [`suspects`]
//! does that for the function the title names and a few of its callers, at
//! the bad commit. A symbolized report says each function's file; else the
//! tree is searched for its definition (other architectures' copies left
//! out; a name defined in more than [`MAX_DEFINITIONS`] files says nothing
//! and is passed over).
//!
//! The config search tries the baseline with those options first
//! (configsearch's `reduce_first`). Kconfig dependencies are not followed:
//! a suspect whose `depends on` the baseline lacks is turned off again by
//! olddefconfig, the guess does not reproduce, and the full search decides.

use crate::history::CommitSource;
use crashclass::stack::StackFrame;
use git2::Oid;

/// An option that builds code in the crash's stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspect {
    /// `CONFIG_FOO`.
    pub symbol: String,
    /// The source file whose code it builds.
    pub file: String,
}

/// A function defined in more files than this is too common a name to say
/// where the crash's code is.
pub const MAX_DEFINITIONS: usize = 3;

/// How many composite objects one Makefile is read for after the target
/// itself (`a-y += b.o`, then `obj-$(CONFIG_A) += a.o`).
const MAX_COMPOSITE_DEPTH: usize = 4;

/// The options that build the code of `frames` at `commit`, each once, in
/// the frames' order.
pub fn suspects(src: &dyn CommitSource, commit: Oid, frames: &[StackFrame]) -> Vec<Suspect> {
    // Where each function is defined: (function, file, line when known).
    let mut places: Vec<(String, String, Option<u32>)> = Vec::new();
    let unplaced: Vec<&str> = frames
        .iter()
        .filter(|f| f.file.is_none())
        .map(|f| f.function.as_str())
        .collect();
    let hits = if unplaced.is_empty() {
        Vec::new()
    } else {
        src.grep(commit, &definition_pattern(&unplaced), "*.c")
    };
    for f in frames {
        match &f.file {
            Some(file) => places.push((f.function.clone(), file.clone(), None)),
            None => {
                let defs: Vec<_> = hits
                    .iter()
                    .filter(|h| defines(&h.text, &f.function) && built_for_x86(&h.path))
                    .collect();
                if (1..=MAX_DEFINITIONS).contains(&defs.len()) {
                    for h in defs {
                        places.push((f.function.clone(), h.path.clone(), Some(h.line)));
                    }
                }
            }
        }
    }
    let mut out: Vec<Suspect> = Vec::new();
    for (function, file, line) in places {
        let mut symbols = makefile_chain(src, commit, &file);
        if let Some(text) = src.file_text(commit, &file) {
            symbols.extend(enclosing_conditions(&text, &function, line));
        }
        for symbol in symbols {
            if !out.iter().any(|s| s.symbol == symbol) {
                out.push(Suspect {
                    symbol,
                    file: file.clone(),
                });
            }
        }
    }
    out
}

/// Is `path` code an x86 kernel may build? Another architecture's copy of
/// a function (each arch has its `kvm_arch_vcpu_ioctl_run`) is not the
/// code that crashed: kbisect builds and boots x86_64.
fn built_for_x86(path: &str) -> bool {
    match path.strip_prefix("arch/") {
        Some(rest) => rest.starts_with("x86/"),
        None => true,
    }
}

/// The syscall a `__do_sys_X`-style frame is the body of.
fn syscall_of(function: &str) -> Option<&str> {
    const PREFIXES: &[&str] = &[
        "__do_sys_",
        "__se_sys_",
        "__x64_sys_",
        "__ia32_sys_",
        "__do_compat_sys_",
        "__se_compat_sys_",
        "__ia32_compat_sys_",
        "__x64_compat_sys_",
    ];
    PREFIXES.iter().find_map(|p| function.strip_prefix(p))
}

/// An extended regular expression for lines that may define one of
/// `functions`: the name at the line's start or after its return type, or
/// a `SYSCALL_DEFINEn(name, …)` for a syscall's frames. [`defines`] then
/// checks each line.
pub fn definition_pattern(functions: &[&str]) -> String {
    let (calls, plain): (Vec<&str>, Vec<&str>) =
        functions.iter().partition(|f| syscall_of(f).is_some());
    let mut alts = Vec::new();
    if !plain.is_empty() {
        alts.push(format!(
            "(^|^[A-Za-z_].*[^A-Za-z0-9_])({})\\(",
            plain.join("|")
        ));
    }
    if !calls.is_empty() {
        let names: Vec<&str> = calls.iter().filter_map(|f| syscall_of(f)).collect();
        alts.push(format!(
            "^(COMPAT_)?SYSCALL_DEFINE[0-6]\\(({})[,)]",
            names.join("|")
        ));
    }
    alts.join("|")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Does this line begin the definition of `function` (not a prototype, a
/// call or a macro)?
pub fn defines(line: &str, function: &str) -> bool {
    let l = line.trim_end();
    if l.ends_with(';') || !l.starts_with(|c: char| is_ident(c)) {
        return false;
    }
    if let Some(call) = syscall_of(function) {
        let rest = l
            .strip_prefix("COMPAT_")
            .unwrap_or(l)
            .strip_prefix("SYSCALL_DEFINE")
            .and_then(|r| r.get(1..))
            .and_then(|r| r.strip_prefix('('))
            .and_then(|r| r.strip_prefix(call));
        return rest.is_some_and(|r| r.starts_with([',', ')']));
    }
    let needle = format!("{function}(");
    l.match_indices(&needle)
        .any(|(at, _)| at == 0 || !l[..at].chars().next_back().is_some_and(is_ident))
}

/// The `CONFIG_` symbols named in `text`.
fn config_symbols(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("CONFIG_") {
        let tail = &rest[at..];
        let end = tail[7..]
            .find(|c: char| !is_ident(c))
            .map_or(tail.len(), |e| e + 7);
        if end > 7 && (at == 0 || !rest[..at].chars().next_back().is_some_and(is_ident)) {
            out.push(tail[..end].to_string());
        }
        rest = &tail[end.max(7)..];
    }
    out
}

/// The options on the Makefile lines that build `file` (a `.c`) and enter
/// each directory above it: its own directory's `Makefile` and `Kbuild`,
/// then each parent's, up to the top.
fn makefile_chain(src: &dyn CommitSource, commit: Oid, file: &str) -> Vec<String> {
    let Some(stem) = file.strip_suffix(".c") else {
        return Vec::new();
    };
    let (mut dir, name) = stem.rsplit_once('/').unwrap_or(("", stem));
    let mut target = format!("{name}.o");
    let mut out = Vec::new();
    loop {
        for mk in ["Makefile", "Kbuild"] {
            let path = if dir.is_empty() {
                mk.to_string()
            } else {
                format!("{dir}/{mk}")
            };
            if let Some(text) = src.file_text(commit, &path) {
                out.extend(makefile_gates(&text, &target));
            }
        }
        if dir.is_empty() {
            return out;
        }
        let (parent, last) = dir.rsplit_once('/').unwrap_or(("", dir));
        target = format!("{last}/");
        dir = parent;
    }
}

/// The options on the lines of one Makefile that add `target` (`foo.o` or
/// `sub/`) to a list: `obj-$(CONFIG_FOO) += foo.o`; for a composite
/// object's list (`bar-y += foo.o`, `bar-$(CONFIG_X) += foo.o`), the
/// options of that list and then those that build `bar.o`.
pub fn makefile_gates(text: &str, target: &str) -> Vec<String> {
    let joined = text.replace("\\\n", " ");
    let assignments: Vec<(&str, &str)> = joined
        .lines()
        .filter_map(|l| {
            let l = l.split('#').next().unwrap_or("");
            let eq = l.find('=')?;
            let op = if eq > 0 && matches!(l.as_bytes()[eq - 1], b'+' | b':' | b'?') {
                eq - 1
            } else {
                eq
            };
            Some((l[..op].trim(), &l[eq + 1..]))
        })
        .collect();
    let mut out = Vec::new();
    let mut targets = vec![target.to_string()];
    let mut i = 0;
    while i < targets.len() && i <= MAX_COMPOSITE_DEPTH {
        let t = targets[i].clone();
        i += 1;
        for (lhs, rhs) in &assignments {
            let adds = rhs
                .split_whitespace()
                .any(|w| w == t || w.strip_prefix("$(obj)/") == Some(t.as_str()));
            if !adds {
                continue;
            }
            for s in config_symbols(lhs) {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            if let Some(base) = composite_base(lhs) {
                let obj = format!("{base}.o");
                if !targets.contains(&obj) {
                    targets.push(obj);
                }
            }
        }
    }
    out
}

/// The composite object a list builds (`bar` of `bar-y`, `bar-objs`,
/// `bar-$(CONFIG_X)`); None for kbuild's own lists (`obj-y`, `lib-y`, …).
fn composite_base(lhs: &str) -> Option<&str> {
    const LISTS: &[&str] = &[
        "obj",
        "lib",
        "core",
        "drivers",
        "libs",
        "head",
        "always",
        "subdir",
        "extra",
        "targets",
        "hostprogs",
        "userprogs",
        "ccflags",
        "asflags",
        "ldflags",
        "subdir-ccflags",
    ];
    let base = match lhs.find("-$(") {
        Some(at) => &lhs[..at],
        None => ["-y", "-objs", "-m"]
            .iter()
            .find_map(|s| lhs.strip_suffix(s))?,
    };
    let valid = !base.is_empty()
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (valid && !LISTS.contains(&base)).then_some(base)
}

/// The options of the `#ifdef` / `#if` blocks (positive conditions only)
/// that enclose the definition of `function` in a C file's `text`: at line
/// `line` when known, else where the first definition is.
pub fn enclosing_conditions(text: &str, function: &str, line: Option<u32>) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let at = match line {
        Some(n) => (n as usize).saturating_sub(1),
        None => match lines.iter().position(|l| defines(l, function)) {
            Some(i) => i,
            None => return Vec::new(),
        },
    };
    // One entry per open block: the options it needs (none for a negative
    // condition, an `#else`, or one we cannot read).
    let mut open: Vec<Vec<String>> = Vec::new();
    for l in lines.iter().take(at) {
        let Some(d) = l.trim_start().strip_prefix('#') else {
            continue;
        };
        let d = d.trim_start();
        if d.starts_with("ifdef") {
            open.push(config_symbols(d));
        } else if d.starts_with("ifndef") {
            open.push(Vec::new());
        } else if d.starts_with("if") {
            open.push(if d.contains('!') {
                Vec::new()
            } else {
                config_symbols(d)
            });
        } else if d.starts_with("elif") || d.starts_with("else") {
            if let Some(top) = open.last_mut() {
                top.clear();
            }
        } else if d.starts_with("endif") {
            open.pop();
        }
    }
    open.concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::GrepHit;
    use std::collections::HashMap;

    #[test]
    fn definitions_are_told_from_prototypes_calls_and_macros() {
        assert!(defines(
            "static noinline int ra_hint_stats_show(struct seq_file *m, void *v)",
            "ra_hint_stats_show"
        ));
        assert!(defines("foo(int a)", "foo"));
        assert!(!defines("int foo(int a);", "foo"));
        assert!(!defines("\treturn foo(a)", "foo"));
        assert!(!defines("int barfoo(int a)", "foo"));
        assert!(defines(
            "SYSCALL_DEFINE5(prctl, int, option, unsigned long, arg2,",
            "__do_sys_prctl"
        ));
        assert!(!defines(
            "SYSCALL_DEFINE1(prctlx, int, a)",
            "__do_sys_prctl"
        ));
        let p = definition_pattern(&["foo", "__se_sys_read"]);
        assert_eq!(
            p,
            "(^|^[A-Za-z_].*[^A-Za-z0-9_])(foo)\\(|^(COMPAT_)?SYSCALL_DEFINE[0-6]\\((read)[,)]"
        );
    }

    #[test]
    fn makefile_lines_name_the_options_through_composite_objects() {
        let mk = "\
# SPDX-License-Identifier: GPL-2.0
obj-y += prctl_ra_hint.o
obj-$(CONFIG_RA_HINT_STATS) += ra_hint_stats.o
kvm-y += x86.o mmu.o \\
\t emulate.o
kvm-$(CONFIG_KVM_XEN) += xen.o
obj-$(CONFIG_KVM) += kvm.o
obj-$(CONFIG_NET) += net/ # the network
ccflags-$(CONFIG_DEBUG) += -DDEBUG
";
        assert_eq!(
            makefile_gates(mk, "ra_hint_stats.o"),
            ["CONFIG_RA_HINT_STATS"]
        );
        assert!(makefile_gates(mk, "prctl_ra_hint.o").is_empty());
        assert_eq!(makefile_gates(mk, "emulate.o"), ["CONFIG_KVM"]);
        assert_eq!(
            makefile_gates(mk, "xen.o"),
            ["CONFIG_KVM_XEN", "CONFIG_KVM"]
        );
        assert_eq!(makefile_gates(mk, "net/"), ["CONFIG_NET"]);
        assert!(makefile_gates(mk, "nothere.o").is_empty());
    }

    #[test]
    fn only_positive_blocks_around_the_definition_count() {
        let c = "\
#ifndef _GUARD
#ifdef CONFIG_A
int a;
#endif
#if IS_ENABLED(CONFIG_B) || defined(CONFIG_C)
#ifdef CONFIG_D
#else
#if !defined(CONFIG_E)
int foo(void)
{
}
#endif
#endif
#endif
";
        assert_eq!(
            enclosing_conditions(c, "foo", None),
            ["CONFIG_B", "CONFIG_C"]
        );
        assert_eq!(enclosing_conditions(c, "foo", Some(3)), ["CONFIG_A"]);
        assert!(enclosing_conditions(c, "bar", None).is_empty());
    }

    /// A tree in memory.
    struct Tree(HashMap<&'static str, &'static str>);

    impl CommitSource for Tree {
        fn has_commit(&self, _: Oid) -> bool {
            true
        }
        fn descends_from(&self, _: Oid, _: Oid) -> bool {
            false
        }
        fn subject(&self, _: Oid) -> String {
            String::new()
        }
        fn range(&self, _: Oid, _: &[Oid], _: bool) -> anyhow::Result<crate::graph::Graph> {
            unimplemented!()
        }
        fn release_tags(&self, _: &str, _: Oid, _: usize) -> anyhow::Result<Vec<(String, Oid)>> {
            Ok(Vec::new())
        }
        fn culprit_facts(&self, _: Oid) -> anyhow::Result<crate::policy::CulpritRepoFacts> {
            unimplemented!()
        }
        fn grep(&self, _: Oid, _: &str, _: &str) -> Vec<GrepHit> {
            let mut out = Vec::new();
            for (path, text) in &self.0 {
                for (i, l) in text.lines().enumerate() {
                    if l.contains('(') && !l.starts_with(char::is_whitespace) {
                        out.push(GrepHit {
                            path: path.to_string(),
                            line: i as u32 + 1,
                            text: l.to_string(),
                        });
                    }
                }
            }
            out
        }
        fn file_text(&self, _: Oid, path: &str) -> Option<String> {
            self.0.get(path).map(|s| s.to_string())
        }
    }

    #[test]
    fn suspects_follow_the_frames_to_their_makefiles_and_blocks() {
        let tree = Tree(HashMap::from([
            ("Kbuild", "obj-y += kernel/\nobj-$(CONFIG_NET) += net/\n"),
            (
                "kernel/Makefile",
                "obj-y += prctl.o\nobj-$(CONFIG_RA_HINT_STATS) += ra_hint_stats.o\n",
            ),
            (
                "kernel/ra_hint_stats.c",
                "static int ra_hint_stats_show(struct seq_file *m)\n{\n}\n",
            ),
            (
                "kernel/prctl.c",
                "#ifdef CONFIG_RA_HINT\nint prctl_helper(int a)\n{\n}\n#endif\n",
            ),
            ("net/Makefile", "obj-$(CONFIG_TIPC) += tipc/\n"),
            (
                "net/tipc/Makefile",
                "tipc-y += topsrv.o\nobj-$(CONFIG_TIPC) += tipc.o\n",
            ),
        ]));
        let frame = |f: &str, file: Option<&str>| StackFrame {
            function: f.into(),
            file: file.map(Into::into),
        };
        let got = suspects(
            &tree,
            Oid::zero(),
            &[
                frame("ra_hint_stats_show", None),
                frame("prctl_helper", None),
                frame("seq_read_iter", None),
                frame("tipc_topsrv_accept", Some("net/tipc/topsrv.c")),
            ],
        );
        let names: Vec<(&str, &str)> = got
            .iter()
            .map(|s| (s.symbol.as_str(), s.file.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("CONFIG_RA_HINT_STATS", "kernel/ra_hint_stats.c"),
                ("CONFIG_RA_HINT", "kernel/prctl.c"),
                ("CONFIG_TIPC", "net/tipc/topsrv.c"),
                ("CONFIG_NET", "net/tipc/topsrv.c"),
            ]
        );
    }
}
