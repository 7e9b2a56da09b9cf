//! Child processes (QEMU, the compiler) and temporary directories that must
//! not outlive ktest, and the SIGINT/SIGTERM handler that enforces it.
//!
//! Every child is started while holding the registry lock, and the handler
//! takes that lock before it kills, so a VM can never be started after the
//! handler has swept: once interrupted, starting fails.

use duct::{Expression, Handle, ReaderHandle};
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex, MutexGuard};

enum Child {
    Reader(Arc<ReaderHandle>),
    Plain(Arc<Handle>),
}

#[derive(Default)]
struct Registry {
    interrupted: bool,
    next_id: u64,
    children: HashMap<u64, Child>,
    temp_dirs: Vec<PathBuf>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn registry() -> MutexGuard<'static, Option<Registry>> {
    // A panicking thread must not stop the others from cleaning up.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

fn with_registry<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    let mut guard = registry();
    f(guard.get_or_insert_with(Registry::default))
}

fn interrupted_error() -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, "ktest is being interrupted")
}

/// Unregisters a child when dropped.
pub struct Registered(u64);

impl Drop for Registered {
    fn drop(&mut self) {
        with_registry(|r| r.children.remove(&self.0));
    }
}

/// Start `expr` with its stdout readable, registered for killing on SIGINT.
pub fn start_reader(expr: &Expression) -> io::Result<(Arc<ReaderHandle>, Registered)> {
    with_registry(|r| {
        if r.interrupted {
            return Err(interrupted_error());
        }
        let reader = Arc::new(expr.reader()?);
        r.next_id += 1;
        r.children.insert(r.next_id, Child::Reader(reader.clone()));
        Ok((reader, Registered(r.next_id)))
    })
}

/// Run `expr` to completion, registered for killing on SIGINT meanwhile.
pub fn run_registered(expr: &Expression) -> io::Result<Output> {
    let (handle, _registered) = with_registry(|r| {
        if r.interrupted {
            return Err(interrupted_error());
        }
        let handle = Arc::new(expr.start()?);
        r.next_id += 1;
        r.children.insert(r.next_id, Child::Plain(handle.clone()));
        Ok((handle, Registered(r.next_id)))
    })?;
    handle.wait().cloned()
}

/// Remember a temporary directory to remove if ktest is interrupted.
pub fn add_temp_dir(path: PathBuf) {
    with_registry(|r| r.temp_dirs.push(path));
}

/// Forget a temporary directory (it was removed normally).
pub fn forget_temp_dir(path: &std::path::Path) {
    with_registry(|r| r.temp_dirs.retain(|p| p != path));
}

/// True once SIGINT or SIGTERM has arrived.
pub fn is_interrupted() -> bool {
    with_registry(|r| r.interrupted)
}

/// Kill every registered child and remove the temporary directories. Later
/// attempts to start a child fail. Returns how many children were killed.
pub fn sweep() -> usize {
    let (children, dirs) = with_registry(|r| {
        r.interrupted = true;
        (
            r.children.drain().map(|(_, c)| c).collect::<Vec<_>>(),
            std::mem::take(&mut r.temp_dirs),
        )
    });
    let n = children.len();
    for c in children {
        let _ = match c {
            Child::Reader(h) => {
                kill_groups(&h.pids());
                h.kill()
            }
            Child::Plain(h) => {
                kill_groups(&h.pids());
                h.kill()
            }
        };
    }
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
    n
}

/// On SIGINT or SIGTERM call `on_signal` with the signal number from a
/// dedicated thread. It should take the output lock (so no record is cut in
/// half), [`sweep`], and exit with status 130.
pub fn install_interrupt_handler<F>(on_signal: F) -> io::Result<()>
where
    F: FnOnce(i32) + Send + 'static,
{
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("ktest-signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                on_signal(sig);
            }
        })?;
    Ok(())
}

/// Start the child as the leader of a new process group, so that it and
/// everything it starts can be killed together ([`kill_groups`]) and a
/// terminal's Ctrl-C reaches only ktest, which then cleans up.
pub fn own_process_group(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
}

/// SIGKILL the process groups led by `pids` (see [`own_process_group`]).
pub fn kill_groups(pids: &[u32]) {
    for &pid in pids {
        if let Ok(pid) = i32::try_from(pid) {
            if pid > 1 {
                // SAFETY: plain syscall; a group that is gone gives ESRCH.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
        }
    }
}
