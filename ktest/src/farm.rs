//! The machines one ktest process boots VMs on: this one (`--jobs` slots)
//! and the `--host`s (their slots each), what each can do, and which are
//! benched.
//!
//! A host that fails a run (cannot be reached, drops the connection, cannot
//! take the kernel) is benched for the rest of the round — until every slot
//! is idle with nothing waiting — and its run goes to another slot. It is
//! never benched when that would leave no slot at all: its runs are then
//! retried on it, a bounded number of times.

use crate::remote::{self, Caps, HostSpec, Sent, Ssh};
use crate::vm::Accel;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Times one run is tried before its infra_error stands.
pub const MAX_ATTEMPTS: u32 = 3;

/// What run records call this machine.
pub const LOCAL: &str = "local";

/// One remote test machine and what this process knows of it.
#[derive(Debug)]
pub struct RemoteHost {
    pub ssh: Ssh,
    pub sent: Sent,
    /// What it has (probed at start; again on first use if it was down).
    caps: Mutex<Option<Caps>>,
    /// Its accelerator, chosen on its first run.
    accel: Mutex<Option<(Accel, String)>>,
}

impl RemoteHost {
    pub fn new(host: HostSpec, ssh_config: Option<PathBuf>) -> RemoteHost {
        RemoteHost {
            ssh: Ssh {
                host,
                config: ssh_config,
            },
            sent: Sent::default(),
            caps: Mutex::new(None),
            accel: Mutex::new(None),
        }
    }

    pub fn name(&self) -> &str {
        &self.ssh.host.name
    }

    /// What the host has, asking it when not known yet.
    pub fn caps(&self, qemu: &str) -> Result<Caps, String> {
        let mut caps = self.caps.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = caps.as_ref() {
            return Ok(c.clone());
        }
        let c = remote::probe(&self.ssh, qemu)?;
        *caps = Some(c.clone());
        Ok(c)
    }

    /// The host's accelerator, chosen once by `choose` (which may boot a
    /// probe VM there).
    pub fn accel(&self, choose: impl FnOnce() -> (Accel, String)) -> Accel {
        let mut a = self.accel.lock().unwrap_or_else(|e| e.into_inner());
        if a.is_none() {
            let chosen = choose();
            kbisect_records::say!(
                "ktest: {}: accelerator {} ({})",
                self.name(),
                chosen.0.as_str(),
                chosen.1
            );
            *a = Some(chosen);
        }
        a.as_ref().map(|a| a.0).unwrap_or(Accel::Tcg)
    }
}

/// Where a slot's VMs run.
#[derive(Debug, Clone)]
pub enum Place {
    Local,
    Remote(Arc<RemoteHost>),
}

impl Place {
    /// The `host` field of its run records.
    pub fn name(&self) -> &str {
        match self {
            Place::Local => LOCAL,
            Place::Remote(h) => h.name(),
        }
    }
}

/// Every slot of the process, and the benches.
#[derive(Debug)]
pub struct Farm {
    pub local_slots: usize,
    pub hosts: Vec<Arc<RemoteHost>>,
    /// Host index → the round it is benched for.
    benched: Mutex<Vec<Option<u64>>>,
}

impl Farm {
    pub fn new(local_slots: usize, hosts: Vec<HostSpec>, ssh_config: Option<PathBuf>) -> Farm {
        let n = hosts.len();
        Farm {
            local_slots,
            hosts: hosts
                .into_iter()
                .map(|h| Arc::new(RemoteHost::new(h, ssh_config.clone())))
                .collect(),
            benched: Mutex::new(vec![None; n]),
        }
    }

    /// VMs at a time, here and on every host.
    pub fn total_slots(&self) -> usize {
        self.local_slots + self.hosts.iter().map(|h| h.ssh.host.slots).sum::<usize>()
    }

    /// One place per slot.
    pub fn places(&self) -> Vec<Place> {
        let mut v = vec![Place::Local; self.local_slots];
        for h in &self.hosts {
            v.extend(std::iter::repeat_n(
                Place::Remote(h.clone()),
                h.ssh.host.slots,
            ));
        }
        v
    }

    fn index(&self, host: &Arc<RemoteHost>) -> Option<usize> {
        self.hosts.iter().position(|h| Arc::ptr_eq(h, host))
    }

    /// Is `host` benched in `round`?
    pub fn is_benched(&self, host: &Arc<RemoteHost>, round: u64) -> bool {
        let b = self.benched.lock().unwrap_or_else(|e| e.into_inner());
        self.index(host).and_then(|i| b[i]) == Some(round)
    }

    /// Bench `host` for `round`, unless no other slot would be left: then
    /// false (its runs are retried on it).
    pub fn bench(&self, host: &Arc<RemoteHost>, round: u64) -> bool {
        let Some(me) = self.index(host) else {
            return false;
        };
        let mut b = self.benched.lock().unwrap_or_else(|e| e.into_inner());
        let others =
            self.local_slots > 0 || (0..self.hosts.len()).any(|i| i != me && b[i] != Some(round));
        if others {
            b[me] = Some(round);
        }
        others
    }
}

/// What the start-up check found on one host.
#[derive(Debug, Clone)]
pub struct HostCheck {
    pub host: String,
    pub slots: usize,
    /// Err: not reachable (ssh's message).
    pub caps: Result<Caps, String>,
    pub seconds: f64,
}

impl HostCheck {
    /// A reason the host cannot run VMs although it answers, if any.
    pub fn unusable(&self, qemu: &str) -> Option<String> {
        match &self.caps {
            Ok(c) if c.qemu.is_none() => Some(format!(
                "host {} has no {qemu} (install qemu-system-x86 there, or drop the host)",
                self.host
            )),
            _ => None,
        }
    }
}

/// Ask every host, in parallel, what it has; remember the answers.
pub fn check_hosts(farm: &Farm, qemu: &str) -> Vec<HostCheck> {
    std::thread::scope(|s| {
        let probes: Vec<_> = farm
            .hosts
            .iter()
            .map(|h| {
                s.spawn(move || {
                    let started = Instant::now();
                    let caps = h.caps(qemu);
                    HostCheck {
                        host: h.name().to_string(),
                        slots: h.ssh.host.slots,
                        caps,
                        seconds: started.elapsed().as_secs_f64(),
                    }
                })
            })
            .collect();
        probes.into_iter().filter_map(|p| p.join().ok()).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn farm(local: usize, hosts: &[&str]) -> Farm {
        let specs = hosts
            .iter()
            .map(|h| remote::parse_host(h).unwrap())
            .collect();
        Farm::new(local, specs, None)
    }

    #[test]
    fn slots_count_every_machine() {
        let f = farm(2, &["a/3", "b"]);
        assert_eq!(f.total_slots(), 6);
        let names: Vec<String> = f.places().iter().map(|p| p.name().to_string()).collect();
        assert_eq!(names, ["local", "local", "a", "a", "a", "b"]);
    }

    #[test]
    fn the_last_slot_standing_is_never_benched() {
        let f = farm(0, &["a", "b"]);
        let (a, b) = (f.hosts[0].clone(), f.hosts[1].clone());
        assert!(f.bench(&a, 7));
        assert!(f.is_benched(&a, 7));
        assert!(!f.is_benched(&a, 8), "a bench lasts one round");
        assert!(!f.bench(&b, 7), "b is the only host left");
        assert!(!f.is_benched(&b, 7));
        let with_local = farm(1, &["a"]);
        assert!(with_local.bench(&with_local.hosts[0].clone(), 0));
    }
}
