//! A real OpenSSH server on loopback addresses for the tests of ktest's
//! `--host`: its own host key, a client key made for it, a client config
//! that knows both, and — when the tests run as root — a second user
//! (`kbisect-remote`) the VMs run as, so that "remote" files really land
//! in another home. Stopped when dropped.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The user remote VMs run as when the tests can create it.
pub const REMOTE_USER: &str = "kbisect-remote";

pub struct Sshd {
    child: Child,
    pub dir: tempfile::TempDir,
    /// `ssh -F` file: identity and known hosts for this server.
    pub ssh_config: PathBuf,
    pub user: String,
    pub port: u16,
    /// The remote user's home (where ktest keeps the files it sends).
    pub home: PathBuf,
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// The user the VMs run as, and its home: the second user when root may
/// make it (a `*` password: no password login, but not a locked account,
/// which sshd without PAM refuses), else the current user.
fn remote_user() -> (String, PathBuf) {
    if is_root() {
        let exists = Command::new("id")
            .arg(REMOTE_USER)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !exists {
            run(
                Command::new("useradd").args([
                    "--create-home",
                    "--shell",
                    "/bin/sh",
                    "--password",
                    "*",
                    REMOTE_USER,
                ]),
                "useradd",
            );
        }
        return (REMOTE_USER.into(), PathBuf::from("/home").join(REMOTE_USER));
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "nobody".into());
    let home = PathBuf::from(std::env::var("HOME").unwrap_or_default());
    (user, home)
}

impl Sshd {
    /// sshd listening on `addrs` (loopback addresses), one port for all.
    pub fn start(addrs: &[&str]) -> Sshd {
        for a in addrs {
            assert!(
                a.starts_with("127."),
                "tests talk to loopback only, not {a}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // The remote user reads its authorized keys here.
        run(
            Command::new("chmod").args(["755", &d.display().to_string()]),
            "chmod",
        );
        for key in ["host_key", "user_key"] {
            run(
                Command::new("ssh-keygen")
                    .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                    .arg(d.join(key)),
                "ssh-keygen",
            );
        }
        std::fs::copy(d.join("user_key.pub"), d.join("authorized_keys")).unwrap();
        let (user, home) = remote_user();
        let port = free_port();
        let mut conf = String::new();
        for a in addrs {
            conf += &format!("ListenAddress {a}:{port}\n");
        }
        conf += &format!(
            "HostKey {}\nAuthorizedKeysFile {}\nAllowUsers {user}\nPidFile none\n\
             UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nStrictModes no\nMaxStartups 100\nMaxSessions 100\n",
            d.join("host_key").display(),
            d.join("authorized_keys").display(),
        );
        std::fs::write(d.join("sshd_config"), conf).unwrap();
        let ssh_config = d.join("ssh_config");
        std::fs::write(
            &ssh_config,
            format!(
                "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  \
                 StrictHostKeyChecking accept-new\n",
                d.join("user_key").display(),
                d.join("known_hosts").display()
            ),
        )
        .unwrap();
        if is_root() {
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let log = std::fs::File::create(d.join("sshd.log")).unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("sshd (Debian's openssh-server; `make deps` installs it)");
        let sshd = Sshd {
            child,
            dir,
            ssh_config,
            user,
            port,
            home,
        };
        sshd.wait_listening(addrs);
        sshd
    }

    fn wait_listening(&self, addrs: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(20);
        for a in addrs {
            while std::net::TcpStream::connect((*a, self.port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "sshd did not listen on {a}:{}: {}",
                    self.port,
                    self.log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// `user@addr:port/slots` for ktest's --host.
    pub fn host(&self, addr: &str, slots: usize) -> String {
        format!("{}@{addr}:{}/{slots}", self.user, self.port)
    }

    /// A hosts file naming `hosts` (`--host` forms), for --hosts.
    pub fn hosts_file(&self, hosts: &[String]) -> PathBuf {
        let p = self.dir.path().join("hosts");
        let mut f = std::fs::File::create(&p).unwrap();
        writeln!(f, "# test machines on loopback").unwrap();
        for h in hosts {
            match h.rsplit_once('/') {
                Some((name, slots)) => writeln!(f, "{name} {slots}").unwrap(),
                None => writeln!(f, "{h}").unwrap(),
            }
        }
        p
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Processes the remote user runs whose command line contains `what`.
    pub fn remote_processes(&self, what: &str) -> Vec<String> {
        let out = Command::new("pgrep")
            .args(["-a", "-u", &self.user, "-f", what])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default();
        out.lines().map(str::to_string).collect()
    }

    /// Where ktest keeps the files it sent, on the "remote" side.
    pub fn sent_dir(&self) -> PathBuf {
        self.home.join(".cache/kbisect-remote")
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// True when `p` exists and holds at least one file.
pub fn has_files(p: &Path) -> bool {
    std::fs::read_dir(p)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
}
