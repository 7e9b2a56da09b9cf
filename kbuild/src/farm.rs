//! Building on a farm: one ccache shared by every machine (`--remote-cache`,
//! ccache's remote storage) and compilation spread over distccd hosts
//! (`--distcc`, plain mode: preprocessing stays local), with what each did
//! counted for one build only.
//!
//! Counts come from per-build logs in the build dir, never from the shared
//! CCACHE_DIR's counters (other builds may use it at the same time):
//! ccache's statistics log (`CCACHE_STATSLOG`: for each call a `# <source>`
//! line, then one counter name a line, e.g. `direct_cache_hit`,
//! `remote_storage_hit`, `cache_miss`, `called_for_preprocessing`) and
//! distcc's client log (`DISTCC_LOG`: lines `distcc[PID] …`; a remote
//! compile ends `compile a.c on HOST:PORT/4 completed ok`, a fallback says
//! `failed to distribute … running locally instead`, a host that cannot be
//! reached `ERROR: nonblocking connect to HOST:PORT failed: …`, after which
//! distcc 3.4 tries the next host). Formats as ccache
//! 4.7 and distcc 3.4 write them.

use kbisect_records::{CcacheCounts, DistccCounts};
use std::collections::HashSet;
use std::path::Path;

/// The URL schemes of ccache 4.7's remote storage that reach another
/// machine (ccache's `file:` is a local or network-mounted directory, not a
/// farm cache).
pub const REMOTE_SCHEMES: &[&str] = &["redis://", "redis+unix:", "http://"];

/// Check a `--remote-cache` URL: one URL of an accepted scheme, optionally
/// followed by ccache's `|attribute=value` settings.
pub fn check_remote_url(url: &str) -> Result<(), String> {
    let accepted = || {
        format!(
            "want one of {}",
            REMOTE_SCHEMES
                .iter()
                .map(|s| format!("{s}…"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let base = url.split('|').next().unwrap_or("");
    if base.chars().any(char::is_whitespace) || base.is_empty() {
        return Err(format!("--remote-cache {url:?}: one URL, {}", accepted()));
    }
    let lower = base.to_ascii_lowercase();
    let Some(scheme) = REMOTE_SCHEMES.iter().find(|s| lower.starts_with(*s)) else {
        return Err(format!(
            "--remote-cache {url:?}: unsupported scheme, {}",
            accepted()
        ));
    };
    let rest = &base[scheme.len()..];
    if rest.trim_start_matches('/').is_empty() {
        return Err(format!(
            "--remote-cache {url:?}: no host or socket path after {scheme}"
        ));
    }
    Ok(())
}

/// distcc's limit for a host given without `/LIMIT` (distcc(1): "four per
/// host").
pub const DISTCC_DEFAULT_LIMIT: u64 = 4;

/// The sum of the job limits of the remote hosts in a DISTCC_HOSTS string
/// (`HOST[:PORT][/LIMIT][,OPTIONS]`, `@HOST/LIMIT`, `USER@HOST/LIMIT`).
/// `localhost` entries and `--` options (`--randomize`, `--localslots=N`)
/// add nothing: local jobs are counted as local cores.
pub fn distcc_remote_slots(hosts: &str) -> Result<u64, String> {
    let mut sum = 0;
    let mut remote = 0;
    for word in hosts.split_whitespace() {
        if word.starts_with("--") {
            continue;
        }
        if word == "+zeroconf" {
            return Err(format!(
                "--distcc {hosts:?}: +zeroconf is not supported, list the hosts"
            ));
        }
        let spec = word.split(',').next().unwrap_or(word);
        let (host, limit) = match spec.split_once('/') {
            Some((h, l)) => {
                let n: u64 = l.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("--distcc {hosts:?}: {word}: limit {l:?} is not a positive number")
                })?;
                (h, n)
            }
            None => (spec, DISTCC_DEFAULT_LIMIT),
        };
        let name = host.trim_start_matches('@');
        if name.is_empty() {
            return Err(format!("--distcc {hosts:?}: {word}: no host"));
        }
        if name == "localhost" {
            continue;
        }
        remote += 1;
        sum += limit;
    }
    if remote == 0 {
        return Err(format!(
            "--distcc {hosts:?}: no remote host (want e.g. \"10.0.0.2:3632/4 10.0.0.3/8\")"
        ));
    }
    Ok(sum)
}

/// Count one build's ccache calls in its statistics log.
pub fn parse_stats_log(text: &str) -> CcacheCounts {
    let mut counts = CcacheCounts::default();
    let mut entry: Vec<&str> = Vec::new();
    let mut flush = |entry: &mut Vec<&str>| {
        if entry.is_empty() {
            return;
        }
        let has = |c: &str| entry.contains(&c);
        if has("direct_cache_hit") || has("preprocessed_cache_hit") {
            if has("remote_storage_hit") {
                counts.remote_hits += 1;
            } else {
                counts.local_hits += 1;
            }
        } else if has("cache_miss") {
            counts.misses += 1;
        } else {
            counts.uncacheable += 1;
        }
        entry.clear();
    };
    let mut seen_header = false;
    for line in text.lines() {
        if line.starts_with('#') {
            if seen_header {
                flush(&mut entry);
            }
            seen_header = true;
            // A call with no counters still counts (as uncacheable).
            entry.push("");
        } else if !line.trim().is_empty() {
            entry.push(line.trim());
        }
    }
    flush(&mut entry);
    counts
}

/// Count one build's distcc calls in its client log: calls (by pid) that
/// compiled on a remote host, calls that ran locally after failing to
/// distribute or after a failed remote compile, and calls that could not
/// reach a host.
pub fn parse_distcc_log(text: &str) -> (u64, u64, u64) {
    let mut remote = HashSet::new();
    let mut fallback = HashSet::new();
    let mut unreachable = HashSet::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("distcc[") else {
            continue;
        };
        let Some((pid, msg)) = rest.split_once(']') else {
            continue;
        };
        let msg = msg.trim_start();
        if msg.starts_with("ERROR: nonblocking connect to") || msg.contains("failed to connect to")
        {
            unreachable.insert(pid.to_string());
        }
        if msg.contains("failed to distribute")
            || msg.contains("retrying locally")
            || msg.contains("retried locally")
        {
            fallback.insert(pid.to_string());
        } else if let Some(r) = msg.strip_prefix("compile ") {
            if let Some(r) = r.strip_suffix(" completed ok") {
                let host = r.rsplit(" on ").next().unwrap_or("");
                if !host.starts_with("localhost") {
                    remote.insert(pid.to_string());
                }
            }
        }
    }
    // A call that fell back is not remote, whatever else it logged.
    let remote = remote.difference(&fallback).count() as u64;
    (remote, fallback.len() as u64, unreachable.len() as u64)
}

/// Read a per-build log (missing: empty, as when make never compiled).
pub fn read_log(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The distcc counts of one build.
pub fn distcc_counts(hosts: &str, jobs: usize, log: &Path) -> DistccCounts {
    let (remote, local_fallback, host_failures) = parse_distcc_log(&read_log(log));
    DistccCounts {
        hosts: hosts.to_string(),
        jobs: jobs as u64,
        remote,
        local_fallback,
        host_failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls_of_ccache_schemes_only() {
        for ok in [
            "redis://127.0.0.1:6379",
            "redis://user:pw@cache.lan",
            "redis+unix:/run/redis.sock",
            "redis+unix:///run/redis.sock",
            "http://cache.lan:8080/ccache|layout=bazel",
            "REDIS://cache.lan",
        ] {
            assert_eq!(check_remote_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "https://cache.lan",
            "file:/srv/ccache",
            "cache.lan:6379",
            "redis://",
            "",
            "redis://a redis://b",
        ] {
            let e = check_remote_url(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
            assert!(e.contains("redis://") || e.contains("no host"), "{e}");
        }
    }

    #[test]
    fn distcc_slots_sum_the_remote_limits() {
        assert_eq!(
            distcc_remote_slots("127.0.0.2:3632/4 127.0.0.3:3633/4"),
            Ok(8)
        );
        // No limit: distcc's default; options and localhost add nothing.
        assert_eq!(
            distcc_remote_slots("--randomize localhost/2 a b/3,lzo @c/5 u@d:4000"),
            Ok(4 + 3 + 5 + 4)
        );
        assert!(distcc_remote_slots("a/x").unwrap_err().contains("a/x"));
        assert!(distcc_remote_slots("a/0").is_err());
        assert!(distcc_remote_slots("localhost").is_err());
        assert!(distcc_remote_slots("  ").is_err());
        assert!(distcc_remote_slots("+zeroconf").is_err());
    }

    #[test]
    fn stats_log_counts_each_call_once() {
        // As ccache 4.7.5 writes it (CCACHE_STATSLOG).
        let log = "\
# a.c
cache_miss
direct_cache_miss
local_storage_miss
local_storage_read_miss
local_storage_write
preprocessed_cache_miss
remote_storage_miss
remote_storage_write
# a.c
direct_cache_hit
local_storage_hit
local_storage_read_hit
# b.c
direct_cache_hit
local_storage_miss
local_storage_write
remote_storage_hit
remote_storage_read_hit
# c.c
preprocessed_cache_hit
local_storage_hit
# a.c
called_for_preprocessing
# a.c
multiple_source_files
";
        assert_eq!(
            parse_stats_log(log),
            CcacheCounts {
                local_hits: 2,
                remote_hits: 1,
                misses: 1,
                uncacheable: 2,
            }
        );
        assert_eq!(parse_stats_log(""), CcacheCounts::default());
    }

    #[test]
    fn distcc_log_counts_remote_and_fallback_calls() {
        // As distcc 3.4 writes it (DISTCC_LOG).
        let log = "\
distcc[100] compile from a.c to a.o
distcc[100] exec on 127.0.0.2:3632/2: x86_64-linux-gnu-gcc-12 -c a.c -o a.o
distcc[100] cpp a.c on localhost completed ok
distcc[100] 143 bytes from a.c compiled on 127.0.0.2 in 0.0413s, rate 3kB/s
distcc[100] compile a.c on 127.0.0.2:3632/2 completed ok
distcc[101] compile from b.c to b.o
distcc[101] ERROR: nonblocking connect to 127.0.0.9:3699 failed: Connection refused
distcc[101] Warning: failed to distribute b.c to 127.0.0.9:3699, running locally instead
distcc[101] exec on localhost: x86_64-linux-gnu-gcc-12 -c b.c -o b.o
distcc[101] compile b.c on localhost completed ok
distcc[102] (dcc_build_somewhere) Warning: failed to distribute, running locally instead
distcc[102] compile c.c on localhost completed ok
distcc[103] exec on localhost: x86_64-linux-gnu-gcc-12 -E a.c
distcc[103] compile (null) on localhost completed ok
distcc[104] compile d.c on 127.0.0.3:3633/2 completed ok
distcc[105] exec on 127.0.0.4:3699/1: /usr/bin/gcc-12 -c e.c -o e.o
distcc[105] ERROR: nonblocking connect to 127.0.0.4:3699 failed: Connection refused
distcc[105] exec on 127.0.0.2:3632/2: /usr/bin/gcc-12 -c e.c -o e.o
distcc[105] compile e.c on 127.0.0.2:3632/2 completed ok
";
        // 105: the down host is skipped for the next one, still remote.
        assert_eq!(parse_distcc_log(log), (3, 2, 2));
        assert_eq!(parse_distcc_log(""), (0, 0, 0));
    }
}
