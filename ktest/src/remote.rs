//! Test machines reached over ssh: how a host is named (`--host`, a hosts
//! file), how a command is given to its shell, what it can run, and the
//! kernels and guest images copied to it.
//!
//! ssh hands the remote side one string that the login shell parses, so
//! every argument that goes there is quoted by [`shell_quote`]; the scripts
//! run remotely are fixed text that take their data as positional
//! parameters (`sh -c SCRIPT sh ARG…`). Nothing from a path, a commit or a
//! title is ever spliced into a script.
//!
//! Files are content-addressed: a kernel or guest image is stored on the
//! host as `.cache/kbisect-remote/<sha256>` (relative to the remote home)
//! and sent at most once per host and ktest process, and not at all when
//! the host already has it.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// Where files sent to a host live, relative to the remote user's home.
pub const REMOTE_DIR: &str = ".cache/kbisect-remote";

/// ssh's exit status when the connection failed or dropped (the remote
/// command's own status is passed through otherwise).
pub const SSH_FAILED: i32 = 255;

/// One test machine as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    /// As given (without the slot count): `user@host:port`. Run records name it.
    pub name: String,
    pub user: Option<String>,
    /// Host name or address (an IPv6 address without its brackets).
    pub addr: String,
    pub port: Option<u16>,
    /// VMs this host runs at a time.
    pub slots: usize,
}

/// Parse `[user@]host[:port][/slots]`; IPv6 addresses go in brackets
/// (`[::1]:2222`).
pub fn parse_host(text: &str) -> Result<HostSpec, String> {
    let text = text.trim();
    let (name, slots) = match text.rsplit_once('/') {
        Some((n, s)) => {
            let slots: usize =
                s.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                    format!("{text:?}: slot count {s:?} is not a positive number")
                })?;
            (n, slots)
        }
        None => (text, 1),
    };
    let (user, hostport) = match name.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, name),
    };
    let (addr, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("{text:?}: unclosed [ in the address"))?;
        match after {
            "" => (addr, None),
            p => (addr, Some(p.strip_prefix(':').unwrap_or("x"))),
        }
    } else {
        match hostport.split_once(':') {
            Some((a, p)) => (a, Some(p)),
            None => (hostport, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| format!("{text:?}: port {p:?} is not a port number"))?,
        ),
    };
    // ssh would read a leading '-' as an option: a host list must never
    // be able to pass ssh options.
    let word_ok = |w: &str| {
        !w.is_empty()
            && !w.starts_with('-')
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-:%".contains(c))
    };
    if !word_ok(addr) {
        return Err(format!("{text:?}: {addr:?} is not a host name or address"));
    }
    if let Some(u) = user {
        if !word_ok(u) || u.contains(':') {
            return Err(format!("{text:?}: {u:?} is not a user name"));
        }
    }
    Ok(HostSpec {
        name: name.to_string(),
        user: user.map(str::to_string),
        addr: addr.to_string(),
        port,
        slots,
    })
}

/// Parse a hosts file: one host per line as `[user@]host[:port] [SLOTS]`
/// (or `host/SLOTS`), `#` comments and blank lines ignored. The error
/// names the 1-based line.
pub fn parse_hosts_file(text: &str) -> Result<Vec<HostSpec>, (usize, String)> {
    let mut hosts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let host = words.next().unwrap_or("");
        let spec = match (words.next(), words.next()) {
            (None, _) => parse_host(host),
            (Some(slots), None) if !host.contains('/') => parse_host(&format!("{host}/{slots}")),
            _ => Err(format!(
                "{line:?}: want `[user@]host[:port] [SLOTS]`, one host per line"
            )),
        }
        .map_err(|m| (i + 1, m))?;
        hosts.push(spec);
    }
    Ok(hosts)
}

/// Quote one argument for a POSIX shell: as it is when it is made only of
/// characters no shell treats specially, else in single quotes (a single
/// quote inside becomes `'\''`).
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The one string ssh gives the remote shell for `argv`.
pub fn shell_command(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `sh -c SCRIPT sh ARGS…`: a fixed script with its data as `$1`, `$2`, ….
fn script(script: &str, args: &[&str]) -> Vec<String> {
    let mut v = vec!["sh".to_string(), "-c".into(), script.into(), "sh".into()];
    v.extend(args.iter().map(|a| a.to_string()));
    v
}

/// Runs QEMU (`"$@"`) on the host, and kills it when ssh's stdin closes:
/// ssh gives a remote command no signal when the connection ends, so
/// without this a VM ktest stopped (a complete report, a timeout, ^C)
/// would run on. The watcher reads a copy of stdin kept on fd 3; QEMU gets
/// none of it.
const VM_SCRIPT: &str = r#"exec 3<&0
"$@" </dev/null 3<&- &
vm=$!
{ cat <&3 >/dev/null 2>&1; kill "$vm" 2>/dev/null; } >/dev/null 2>&1 &
exec 3<&-
wait "$vm"
"#;

/// Says what the host has: `qemu=<path or nothing>`, `kvm=yes|no`, and the
/// QEMU version line.
const PROBE_SCRIPT: &str = r#"q=$(command -v "$1" 2>/dev/null)
echo "qemu=$q"
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then echo kvm=yes; else echo kvm=no; fi
if [ -n "$q" ]; then "$q" --version 2>/dev/null | head -n 1 | sed 's/^/version=/'; fi
if [ -n "$q" ] && s=$(stat -L -c '%s %Y' "$q" 2>/dev/null); then echo "qemu_stamp=$q $s"; fi
echo "boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
"#;

/// Exit 0 when the file `$1` is there and not empty.
const HAVE_SCRIPT: &str = r#"test -s "$1""#;

/// Store stdin as `$1`, whole or not at all.
const STORE_SCRIPT: &str =
    r#"mkdir -p "$(dirname "$1")" && cat > "$1.part.$$" && mv -f "$1.part.$$" "$1""#;

/// How ktest talks to one host: the ssh command line.
#[derive(Debug, Clone)]
pub struct Ssh {
    pub host: HostSpec,
    /// `ssh -F FILE` (`--ssh-config`): identities, known hosts, jump hosts.
    pub config: Option<PathBuf>,
}

impl Ssh {
    /// ssh's arguments to run `argv` on the host: key authentication only
    /// (BatchMode: never a password prompt), no terminal, a connection that
    /// stops answering counted as dropped within about 20 s.
    pub fn args(&self, argv: &[String]) -> Vec<OsString> {
        let mut a: Vec<OsString> = vec!["-T".into()];
        for opt in [
            "BatchMode=yes",
            "ConnectTimeout=10",
            "ServerAliveInterval=5",
            "ServerAliveCountMax=4",
            "LogLevel=ERROR",
        ] {
            a.push("-o".into());
            a.push(opt.into());
        }
        if let Some(f) = &self.config {
            a.push("-F".into());
            a.push(f.into());
        }
        if let Some(p) = self.host.port {
            a.push("-p".into());
            a.push(p.to_string().into());
        }
        if let Some(u) = &self.host.user {
            a.push("-l".into());
            a.push(u.into());
        }
        a.push("--".into());
        a.push(self.host.addr.clone().into());
        a.push(shell_command(argv).into());
        a
    }

    /// The expression that runs `argv` on the host.
    pub fn cmd(&self, argv: &[String]) -> duct::Expression {
        duct::cmd("ssh", self.args(argv))
    }

    /// The command that boots a VM there: QEMU with `args`, killed when
    /// ssh's stdin closes (see [`VM_SCRIPT`]).
    pub fn vm_cmd(&self, qemu: &str, args: &[String]) -> duct::Expression {
        let mut data: Vec<&str> = vec![qemu];
        data.extend(args.iter().map(String::as_str));
        self.cmd(&script(VM_SCRIPT, &data))
    }
}

/// What a host can do, from [`probe`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caps {
    /// The QEMU found there (path), if any.
    pub qemu: Option<String>,
    /// QEMU's version line.
    pub version: Option<String>,
    /// /dev/kvm opens for reading and writing.
    pub kvm: bool,
    /// The QEMU's path, size and mtime: its KVM probe's answer is kept
    /// while they and the boot id stay ([`crate::kvm_memo`]).
    pub qemu_stamp: Option<String>,
    /// The host's boot id (`/proc/sys/kernel/random/boot_id`).
    pub boot_id: Option<String>,
}

/// Ask the host what it has. Err: it could not be reached (ssh's message).
pub fn probe(ssh: &Ssh, qemu: &str) -> Result<Caps, String> {
    let out = ssh
        .cmd(&script(PROBE_SCRIPT, &[qemu]))
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| format!("cannot run ssh: {e}"))?;
    if !out.status.success() {
        return Err(last_line(&out.stderr, out.status.code()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    Ok(Caps {
        qemu: value("qemu="),
        version: value("version="),
        kvm: value("kvm=").as_deref() == Some("yes"),
        qemu_stamp: value("qemu_stamp="),
        boot_id: value("boot_id="),
    })
}

/// ssh's last stderr line, or the status when it said nothing.
pub fn last_line(stderr: &[u8], code: Option<i32>) -> String {
    let text = String::from_utf8_lossy(stderr);
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| match code {
            Some(c) => format!("ssh exited with status {c}"),
            None => "ssh was killed by a signal".to_string(),
        })
}

/// The sha-256 of a file's bytes, in hex.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The files one host has been given by this process, by content.
#[derive(Debug, Default)]
pub struct Sent {
    /// sha-256 → the remote path. Held while a file is being sent, so two
    /// slots of one host never send the same file twice.
    by_hash: Mutex<HashMap<String, String>>,
}

/// How a file got to the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// This process sent it before.
    Known,
    /// The host had it (from an earlier ktest).
    Present,
    /// Sent now.
    Copied,
}

impl Sent {
    /// The remote path of `local`'s content on the host, sending it first
    /// when the host does not have it.
    pub fn ensure(&self, ssh: &Ssh, local: &Path) -> Result<(String, Delivery), String> {
        let hash = file_sha256(local).map_err(|e| format!("{}: {e}", local.display()))?;
        let mut known = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = known.get(&hash) {
            return Ok((p.clone(), Delivery::Known));
        }
        let remote = format!("{REMOTE_DIR}/{hash}");
        let have = ssh
            .cmd(&script(HAVE_SCRIPT, &[&remote]))
            .stdin_null()
            .stdout_null()
            .stderr_capture()
            .unchecked()
            .run()
            .map_err(|e| format!("cannot run ssh: {e}"))?;
        let delivery = match have.status.code() {
            Some(0) => Delivery::Present,
            Some(SSH_FAILED) | None => return Err(last_line(&have.stderr, have.status.code())),
            Some(_) => {
                let started = Instant::now();
                let sent = ssh
                    .cmd(&script(STORE_SCRIPT, &[&remote]))
                    .stdin_path(local)
                    .stdout_null()
                    .stderr_capture()
                    .unchecked()
                    .run()
                    .map_err(|e| format!("cannot run ssh: {e}"))?;
                if !sent.status.success() {
                    return Err(format!(
                        "sending {}: {}",
                        local.display(),
                        last_line(&sent.stderr, sent.status.code())
                    ));
                }
                kbisect_records::say!(
                    "ktest: {}: sent {} ({:.1}s)",
                    ssh.host.name,
                    local.display(),
                    started.elapsed().as_secs_f64()
                );
                Delivery::Copied
            }
        };
        known.insert(hash, remote.clone());
        Ok((remote, delivery))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_parsed_with_user_port_and_slots() {
        let h = parse_host("kb@10.0.0.7:2222/4").unwrap();
        assert_eq!(h.name, "kb@10.0.0.7:2222");
        assert_eq!(h.user.as_deref(), Some("kb"));
        assert_eq!(h.addr, "10.0.0.7");
        assert_eq!(h.port, Some(2222));
        assert_eq!(h.slots, 4);
        let h = parse_host("box").unwrap();
        assert_eq!((h.user, h.port, h.slots), (None, None, 1));
        let h = parse_host("[::1]:22").unwrap();
        assert_eq!((h.addr.as_str(), h.port), ("::1", Some(22)));
        for bad in [
            "",
            "-oProxyCommand=x",
            "a b",
            "h:0",
            "h:99999",
            "h/0",
            "-u@h",
            "h;rm",
            "[::1",
        ] {
            assert!(parse_host(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn hosts_file_names_its_bad_line() {
        let hosts = parse_hosts_file("# farm\nkb@a:2201 4\n\nb/2  # two slots\nc\n").unwrap();
        let got: Vec<_> = hosts.iter().map(|h| (h.name.as_str(), h.slots)).collect();
        assert_eq!(got, vec![("kb@a:2201", 4), ("b", 2), ("c", 1)]);
        assert_eq!(parse_hosts_file("a\nb x\n").unwrap_err().0, 2);
        assert_eq!(parse_hosts_file("a 1 2\n").unwrap_err().0, 1);
    }

    /// The quoting helper against the real shell: whatever goes in comes
    /// back out as one word, byte for byte.
    #[test]
    fn quoted_arguments_reach_the_shell_unchanged() {
        let nasty = [
            "plain",
            "",
            "with space",
            "it's",
            "'",
            "$(touch /tmp/kbisect-pwned)",
            "`id`",
            "a\"b",
            "semi;colon",
            "new\nline",
            "back\\slash",
            "*",
            "~root",
            "-n",
            "x=y z",
            "!bang",
        ];
        let argv: Vec<String> = nasty.iter().map(|s| s.to_string()).collect();
        let cmd = format!("printf '%s\\0' {}", shell_command(&argv));
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .output()
            .unwrap();
        assert!(out.status.success());
        let words: Vec<&[u8]> = out.stdout.split(|&b| b == 0).collect();
        assert_eq!(words.len(), nasty.len() + 1, "{cmd}");
        for (w, n) in words.iter().zip(nasty) {
            assert_eq!(*w, n.as_bytes());
        }
        assert!(!Path::new("/tmp/kbisect-pwned").exists());
    }

    #[test]
    fn ssh_never_reads_a_prompt_and_quotes_the_command() {
        let ssh = Ssh {
            host: parse_host("kb@h:2222").unwrap(),
            config: Some("/etc/kb ssh".into()),
        };
        let a: Vec<String> = ssh
            .args(&["qemu".into(), "-append".into(), "console=ttyS0 x".into()])
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect();
        assert!(a.windows(2).any(|w| w == ["-o", "BatchMode=yes"]));
        assert!(a.windows(2).any(|w| w == ["-F", "/etc/kb ssh"]));
        assert!(a.windows(2).any(|w| w == ["-p", "2222"]));
        assert!(a.windows(2).any(|w| w == ["-l", "kb"]));
        let n = a.len();
        assert_eq!(a[n - 3..n - 1], ["--", "h"]);
        assert_eq!(a[n - 1], "qemu -append 'console=ttyS0 x'");
    }

    /// The VM script, run by a local shell: QEMU's exit status comes back,
    /// and closing stdin stops the "VM".
    #[test]
    fn the_vm_script_passes_the_status_and_dies_with_its_stdin() {
        let run = |args: &[&str], stdin: std::process::Stdio| {
            let mut c = std::process::Command::new("sh");
            c.arg("-c").arg(VM_SCRIPT).arg("sh").args(args);
            c.stdin(stdin).stdout(std::process::Stdio::piped());
            c.spawn().unwrap()
        };
        let mut child = run(
            &["sh", "-c", "echo hi; exit 3"],
            std::process::Stdio::piped(),
        );
        // Stdin stays open (as ssh's does) until the "VM" is over.
        let held = child.stdin.take();
        let status = child.wait().unwrap();
        drop(held);
        let mut stdout = Vec::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_end(&mut stdout)
            .unwrap();
        assert_eq!(status.code(), Some(3));
        assert_eq!(stdout, b"hi\n");

        let started = Instant::now();
        let mut child = run(&["sleep", "30"], std::process::Stdio::piped());
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(child.stdin.take());
        let status = child.wait().unwrap();
        assert!(!status.success());
        assert!(
            started.elapsed().as_secs() < 10,
            "the VM outlived its stdin"
        );
    }
}
