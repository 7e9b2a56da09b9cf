//! The artifact cache: the bzImage, vmlinux and .config of every successful
//! build, kept per (commit, revert, config, compiler identity, release
//! string) under `$KBISECT_CACHE/builds/<key>/`, so asking for the same build
//! again costs nothing. Entries are written to a temporary directory and
//! renamed into place, so an interrupted store leaves no half entry. Each
//! lookup refreshes the entry's time; a size cap evicts the least recently
//! used entries.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Bumped when what a key stands for changes (build environment, layout).
const KEY_VERSION: &str = "kbuild-cache-2";

/// What a cache key is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyParts<'a> {
    pub commit: &'a str,
    pub revert: Option<&'a str>,
    pub config_hash: &'a str,
    pub compiler_identity: &'a str,
    /// The compiler command (gcc vs gcc-12 may be the same binary but make
    /// different config text).
    pub cc: &'a str,
    pub kernel_release: &'a str,
}

impl KeyParts<'_> {
    /// The entry's directory name: 64 hex digits.
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            KEY_VERSION,
            self.commit,
            self.revert.unwrap_or("-"),
            self.config_hash,
            self.compiler_identity,
            self.cc,
            self.kernel_release,
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        crate::config::hex(&h.finalize())
    }
}

/// What an entry remembers besides its files.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Meta {
    pub commit: String,
    #[serde(default)]
    pub revert: Option<String>,
    pub compiler: String,
    pub cc: String,
    pub kernel_release: String,
    #[serde(default)]
    pub missing_options: Vec<String>,
    #[serde(default)]
    pub added_options: Vec<String>,
    /// Seconds the original build took.
    #[serde(default)]
    pub build_seconds: f64,
}

/// A complete cache entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dir: PathBuf,
    pub meta: Meta,
}

impl Entry {
    pub fn kernel(&self) -> PathBuf {
        self.dir.join("bzImage")
    }
    pub fn vmlinux(&self) -> PathBuf {
        self.dir.join("vmlinux")
    }
    pub fn config(&self) -> PathBuf {
        self.dir.join("config")
    }
    pub fn log(&self) -> PathBuf {
        self.dir.join("build.log")
    }
}

/// The files a finished build hands to the cache.
pub struct Artifacts<'a> {
    pub kernel: &'a Path,
    pub vmlinux: &'a Path,
    pub config: &'a Path,
    pub log: &'a Path,
}

/// The cache directory and its size cap.
pub struct Cache {
    pub dir: PathBuf,
    pub max_bytes: u64,
}

const META: &str = "meta.json";

impl Cache {
    pub fn new(dir: PathBuf, max_bytes: u64) -> Self {
        Cache { dir, max_bytes }
    }

    /// The entry for `key`, if complete; refreshes its time (for eviction).
    pub fn lookup(&self, key: &str) -> Option<Entry> {
        let dir = self.dir.join(key);
        let text = std::fs::read_to_string(dir.join(META)).ok()?;
        let meta: Meta = serde_json::from_str(&text).ok()?;
        let entry = Entry { dir, meta };
        if !(entry.kernel().is_file() && entry.vmlinux().is_file() && entry.config().is_file()) {
            return None;
        }
        touch(&entry.dir.join(META));
        Some(entry)
    }

    /// Copy a build's artifacts in as the entry for `key`, atomically.
    pub fn store(&self, key: &str, files: &Artifacts, meta: &Meta) -> std::io::Result<Entry> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!(".tmp-{key}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)?;
        let result = (|| {
            std::fs::copy(files.kernel, tmp.join("bzImage"))?;
            std::fs::copy(files.vmlinux, tmp.join("vmlinux"))?;
            std::fs::copy(files.config, tmp.join("config"))?;
            let _ = std::fs::copy(files.log, tmp.join("build.log"));
            let json = serde_json::to_vec_pretty(meta).map_err(std::io::Error::other)?;
            std::fs::write(tmp.join(META), json)?;
            let dest = self.dir.join(key);
            if dest.exists() {
                // Same key means same inputs; replace (an older entry may be
                // incomplete from a crash before this code wrote atomically).
                std::fs::remove_dir_all(&dest)?;
            }
            if let Err(e) = std::fs::rename(&tmp, &dest) {
                // Another kbuild stored the same key in between: same
                // inputs, so its entry serves.
                return match self.lookup(key) {
                    Some(entry) => {
                        let _ = std::fs::remove_dir_all(&tmp);
                        Ok(entry)
                    }
                    None => Err(e),
                };
            }
            Ok(Entry {
                dir: dest,
                meta: meta.clone(),
            })
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result
    }

    /// Remove the least recently used entries (never `keep`) until the
    /// cache fits its cap; also sweeps temporary dirs of dead stores.
    /// Returns the keys removed.
    pub fn evict(&self, keep: &str) -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut entries: Vec<(SystemTime, u64, String)> = Vec::new();
        let mut total = 0u64;
        for de in rd.flatten() {
            let name = de.file_name().to_string_lossy().into_owned();
            let path = de.path();
            if name.starts_with(".tmp-") {
                if stale_tmp(&name) {
                    let _ = std::fs::remove_dir_all(&path);
                }
                continue;
            }
            let size = dir_size(&path);
            total += size;
            let used = std::fs::metadata(path.join(META))
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            entries.push((used, size, name));
        }
        entries.sort();
        let mut removed = Vec::new();
        for (_, size, name) in entries {
            if total <= self.max_bytes {
                break;
            }
            if name == keep {
                continue;
            }
            if std::fs::remove_dir_all(self.dir.join(&name)).is_ok() {
                total = total.saturating_sub(size);
                removed.push(name);
            }
        }
        removed
    }
}

/// A `.tmp-<key>-<pid>` dir whose process is gone.
fn stale_tmp(name: &str) -> bool {
    let pid = name.rsplit('-').next().and_then(|p| p.parse::<i32>().ok());
    match pid {
        Some(pid) if pid > 0 => unsafe { libc::kill(pid, 0) != 0 },
        _ => true,
    }
}

fn dir_size(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(commit: &'a str, revert: Option<&'a str>) -> KeyParts<'a> {
        KeyParts {
            commit,
            revert,
            config_hash: "c",
            compiler_identity: "gcc",
            cc: "gcc",
            kernel_release: "r",
        }
    }

    #[test]
    fn key_depends_on_revert() {
        assert_ne!(parts("a", None).key(), parts("a", Some("b")).key());
        assert_eq!(parts("a", None).key(), parts("a", None).key());
        assert_eq!(parts("a", None).key().len(), 64);
    }

    fn store_one(cache: &Cache, src: &Path, key: &str, bytes: usize) -> Entry {
        let f = src.join(format!("f-{key}"));
        std::fs::write(&f, vec![0u8; bytes]).unwrap();
        let art = Artifacts {
            kernel: &f,
            vmlinux: &f,
            config: &f,
            log: &f,
        };
        cache.store(key, &art, &Meta::default()).unwrap()
    }

    #[test]
    fn store_lookup_and_evict_oldest() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path().join("builds"), 10_000);
        assert!(cache.lookup("k1").is_none());
        let e1 = store_one(&cache, tmp.path(), "k1", 1000);
        assert!(e1.vmlinux().is_file());
        let old = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000);
        std::fs::File::options()
            .append(true)
            .open(e1.dir.join(META))
            .unwrap()
            .set_modified(old)
            .unwrap();
        store_one(&cache, tmp.path(), "k2", 1000);
        assert!(cache.lookup("k1").is_some());
        assert!(cache.evict("k2").is_empty());
        // Over the cap: the least recently used (k2, since k1 was just
        // looked up) goes first, never the one being kept.
        store_one(&cache, tmp.path(), "k3", 1000);
        let small = Cache::new(cache.dir.clone(), 9000);
        let removed = small.evict("k3");
        assert_eq!(removed, vec!["k2".to_string()]);
        assert!(small.lookup("k3").is_some());
    }
}
