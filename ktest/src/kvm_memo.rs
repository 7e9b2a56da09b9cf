//! The KVM probe's answer, remembered for the rest of the host's boot.
//!
//! Whether KVM works is a property of the host — its CPU, its kvm module,
//! the QEMU binary — and finding out costs a boot: on a host whose /dev/kvm
//! opens but whose guest hangs after the decompressor, 15 s of silence. A
//! bisection starts one ktest per step, so without a memory every step paid
//! that again. The answer is kept in one small JSON file (under
//! `$KBISECT_CACHE/ktest/`), valid while the host's boot id and the QEMU
//! binary (path, size, mtime) are the ones it was probed with: a reboot, a
//! new kvm module or a new QEMU probes again, and so does deleting the file.
//!
//! Only a probe boot's answer is kept. A /dev/kvm that cannot be opened is
//! checked every time (it costs nothing), so loading the module is seen at
//! once.

use crate::vm::Accel;
use serde_json::{json, Value};
use std::path::Path;

/// What the answer was probed with; a memo with another key is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    boot_id: String,
    qemu: String,
}

impl Key {
    /// The key of a host whose boot id is `boot_id` and whose QEMU is
    /// `qemu` (its path, size and mtime, or any text that changes when the
    /// binary does); `None` when either is unknown.
    pub fn new(boot_id: Option<&str>, qemu: Option<&str>) -> Option<Key> {
        let (boot_id, qemu) = (boot_id?.trim(), qemu?.trim());
        (!boot_id.is_empty() && !qemu.is_empty()).then(|| Key {
            boot_id: boot_id.to_string(),
            qemu: qemu.to_string(),
        })
    }

    /// The key for `qemu` on this host now; `None` (probe, keep nothing)
    /// when the boot id or the QEMU binary cannot be read.
    pub fn here(qemu: &Path) -> Option<Key> {
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok();
        let path = kbisect_records::find_program(qemu.to_str()?)?;
        let meta = std::fs::metadata(&path).ok()?;
        let mtime = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        let stamp = format!("{} {} {mtime}", path.display(), meta.len());
        Key::new(boot_id.as_deref(), Some(&stamp))
    }
}

/// The accelerator of the host `label` names (in `dir`'s memo for it), or
/// `probe`'s answer, then kept for `key`. No `dir` or no `key`: `probe`,
/// and nothing kept.
pub fn remembered(
    dir: Option<&Path>,
    label: &str,
    key: Option<Key>,
    probe: impl FnOnce() -> (Accel, String),
) -> (Accel, String) {
    let (Some(dir), Some(key)) = (dir, key) else {
        return probe();
    };
    let file = dir.join(format!("kvm-probe-{}.json", file_label(label)));
    if let Some((accel, reason)) = load(&file, &key) {
        return (
            accel,
            format!("{reason}; kept for this boot in {}", file.display()),
        );
    }
    let (accel, reason) = probe();
    store(&file, &key, accel, &reason);
    (accel, reason)
}

/// `label` as a file name's part: letters and digits kept, the rest `_`.
pub fn file_label(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The remembered answer in `file` for `key`, if it is there and current.
fn load(file: &Path, key: &Key) -> Option<(Accel, String)> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
    if v["boot_id"] != key.boot_id.as_str() || v["qemu"] != key.qemu.as_str() {
        return None;
    }
    let accel = match v["accel"].as_str()? {
        "kvm" => Accel::Kvm,
        "tcg" => Accel::Tcg,
        _ => return None,
    };
    Some((accel, v["reason"].as_str()?.to_string()))
}

/// Keep `accel` and its `reason` in `file` for `key`. Written whole and
/// renamed into place, so ktests starting together never read half a memo;
/// a memo that cannot be written only means the next ktest probes again.
fn store(file: &Path, key: &Key, accel: Accel, reason: &str) {
    let Some(dir) = file.parent() else { return };
    let text = json!({
        "boot_id": key.boot_id,
        "qemu": key.qemu,
        "accel": accel.as_str(),
        "reason": reason,
    })
    .to_string();
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, text.as_bytes())?;
        tmp.persist(file).map_err(|e| e.error)?;
        Ok(())
    };
    if let Err(e) = write() {
        kbisect_records::say!(
            "{}: could not keep the KVM probe's answer in {}: {e}",
            crate::TOOL,
            file.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(boot: &str) -> Key {
        Key {
            boot_id: boot.into(),
            qemu: "/usr/bin/qemu-system-x86_64 123 456".into(),
        }
    }

    #[test]
    fn an_answer_holds_for_its_boot_and_qemu_only() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("ktest/kvm-probe.json");
        assert_eq!(load(&file, &key("a")), None);
        store(&file, &key("a"), Accel::Tcg, "KVM probe failed");
        assert_eq!(
            load(&file, &key("a")),
            Some((Accel::Tcg, "KVM probe failed".into()))
        );
        assert_eq!(load(&file, &key("b")), None, "another boot probes again");
        let other_qemu = Key {
            qemu: "/usr/bin/qemu-system-x86_64 124 456".into(),
            ..key("a")
        };
        assert_eq!(load(&file, &other_qemu), None, "a new QEMU probes again");
    }

    #[test]
    fn a_damaged_memo_is_no_answer() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("kvm-probe.json");
        for text in [
            "",
            "{",
            "[]",
            r#"{"boot_id":"a","qemu":"/usr/bin/qemu-system-x86_64 123 456","accel":"maybe","reason":"x"}"#,
        ] {
            std::fs::write(&file, text).unwrap();
            assert_eq!(load(&file, &key("a")), None, "{text}");
        }
    }

    #[test]
    fn this_host_has_a_key_for_a_program_on_the_path() {
        // sh is on every PATH this runs on; a missing program has no key.
        assert!(Key::here(Path::new("sh")).is_some());
        assert!(Key::here(Path::new("no-such-qemu-kbisect")).is_none());
        assert!(Key::new(Some(" "), Some("q")).is_none());
        assert!(Key::new(None, Some("q")).is_none());
    }

    #[test]
    fn the_probe_runs_once_per_key() {
        let d = tempfile::tempdir().unwrap();
        let probes = std::cell::Cell::new(0);
        let probe = || {
            probes.set(probes.get() + 1);
            (
                Accel::Kvm,
                "KVM probe boot started the kernel in 1.0s".to_string(),
            )
        };
        let first = remembered(Some(d.path()), "root@[::1]:22", Some(key("a")), probe);
        let again = remembered(Some(d.path()), "root@[::1]:22", Some(key("a")), probe);
        assert_eq!(probes.get(), 1);
        assert_eq!((first.0, again.0), (Accel::Kvm, Accel::Kvm));
        assert!(again.1.contains("kept for this boot in"), "{}", again.1);
        assert!(d.path().join("kvm-probe-root____1__22.json").is_file());
        remembered(Some(d.path()), "other", Some(key("a")), probe);
        remembered(None, "root@[::1]:22", Some(key("a")), probe);
        remembered(Some(d.path()), "root@[::1]:22", None, probe);
        assert_eq!(probes.get(), 4, "another host, no dir, no key: probed");
    }
}
