//! Sysctl files (`ktest --sysctl FILE`): syzbot's `.sysctl` files and
//! sysctl.conf(5)'s format, `name = value` lines with `#` and `;` comments.
//! They are read here, on the host: a line that is not a setting is skipped
//! and named (on stderr at once, and in every run record's `warnings`), as a
//! sysctl the kernel lacks is, and the bisection goes on; a file that cannot
//! be read at all is a usage error. The guest's `/init` writes each setting
//! into `/proc/sys` and names the ones the kernel does not take.

use std::fmt;
use std::path::Path;

/// One `name = value` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sysctl {
    /// Dotted (`kernel.printk`) or slashed (`kernel/printk`) name.
    pub name: String,
    /// The value as written, inner spaces kept (`7 4 1 3`).
    pub value: String,
}

/// A line that is not a setting: `path:line: what`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysctlError {
    pub file: String,
    pub line: usize,
    pub what: String,
}

impl fmt::Display for SysctlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.what)
    }
}

/// A sysctl file's settings, and the lines skipped as no setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub settings: Vec<Sysctl>,
    pub skipped: Vec<SysctlError>,
}

impl Parsed {
    /// The warning each skipped line puts in the run records.
    pub fn warnings(&self) -> Vec<String> {
        self.skipped
            .iter()
            .map(|e| format!("sysctl file {e}: line skipped"))
            .collect()
    }
}

/// Read a sysctl file; only a file that cannot be read is an error.
pub fn read(path: &Path) -> Result<Parsed, SysctlError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SysctlError {
        file: file.clone(),
        line: 0,
        what: format!("cannot read the sysctl file: {e}"),
    })?;
    Ok(parse(&file, &text))
}

/// Parse the text of a sysctl file named `file` (for messages).
pub fn parse(file: &str, text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    for (i, raw) in text.lines().enumerate() {
        match parse_line(raw) {
            Ok(None) => {}
            Ok(Some(s)) => parsed.settings.push(s),
            Err(what) => parsed.skipped.push(SysctlError {
                file: file.to_string(),
                line: i + 1,
                what,
            }),
        }
    }
    parsed
}

/// One line: a setting, nothing (blank or a comment), or what is wrong.
fn parse_line(raw: &str) -> Result<Option<Sysctl>, String> {
    let line = raw.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
        return Ok(None);
    }
    let Some((name, value)) = line.split_once('=') else {
        return Err(format!(
            "`{line}` is not a `name = value` line (e.g. `kernel.printk = 7 4 1 3`)"
        ));
    };
    // sysctl.conf's leading '-' (ignore a failure) changes nothing here:
    // a failure is only ever a warning in the run record.
    let name = name.trim().trim_start_matches('-');
    let value = value.trim();
    if name.is_empty() {
        return Err(format!("`{line}` has no sysctl name before `=`"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-/:*".contains(*c)))
    {
        return Err(format!(
                "sysctl name `{name}` has the character {bad:?}; names are like `net.ipv4.ping_group_range`"
            ));
    }
    if name
        .split(['.', '/'])
        .any(|part| part.is_empty() || part == "..")
    {
        return Err(format!(
            "sysctl name `{name}` has an empty or `..` component"
        ));
    }
    if value.contains(['\n', '\r']) {
        return Err(format!("the value of `{name}` spans lines"));
    }
    Ok(Some(Sysctl {
        name: name.to_string(),
        value: value.to_string(),
    }))
}

/// The settings as the guest's `/init` reads them: `name=value` lines.
pub fn guest_file(settings: &[Sysctl]) -> String {
    settings
        .iter()
        .map(|s| format!("{}={}\n", s.name, s.value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_syzbot_style_lines() {
        let text = "# syzbot\nkernel.printk = 7 4 1 3\n; other\n\n-net.core.bpf_jit_harden=0\nvm/nr_hugepages =4\n";
        let parsed = parse("x.sysctl", text);
        assert!(parsed.skipped.is_empty());
        let s = parsed.settings;
        assert_eq!(
            s,
            vec![
                Sysctl {
                    name: "kernel.printk".into(),
                    value: "7 4 1 3".into()
                },
                Sysctl {
                    name: "net.core.bpf_jit_harden".into(),
                    value: "0".into()
                },
                Sysctl {
                    name: "vm/nr_hugepages".into(),
                    value: "4".into()
                },
            ]
        );
        assert_eq!(
            guest_file(&s),
            "kernel.printk=7 4 1 3\nnet.core.bpf_jit_harden=0\nvm/nr_hugepages=4\n"
        );
    }

    #[test]
    fn a_malformed_line_is_skipped_and_named_with_its_number() {
        let p = parse("my.sysctl", "kernel.printk = 7\nkernel.panic\n");
        assert_eq!(p.settings.len(), 1, "the good line is kept");
        let e = &p.skipped[0];
        assert_eq!((e.file.as_str(), e.line), ("my.sysctl", 2));
        assert!(e
            .to_string()
            .starts_with("my.sysctl:2: `kernel.panic` is not"));
        assert!(p.warnings()[0].starts_with("sysctl file my.sysctl:2: `kernel.panic`"));
        assert_eq!(parse("f", " = 1").skipped[0].line, 1);
        let shell = parse("f", "kernel.$(reboot) = 1\nkernel/../../x = 1");
        assert!(shell.settings.is_empty() && shell.skipped.len() == 2);
    }
}
