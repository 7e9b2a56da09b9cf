//! Randomised robustness: random and mutated corpus bytes thrown at the
//! parser must never panic, and the streaming classifier must agree with the
//! in-memory one whatever the chunk size. A cheap in-tree stand-in for the
//! cargo-fuzz target in `fuzz/` (which needs a nightly toolchain).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
mod common;

fn seeds() -> Vec<Vec<u8>> {
    let mut out = vec![include_bytes!("fixtures/seed-kvm-wait.log").to_vec()];
    if let Some(paths) = common::case_files("linux") {
        // Every 7th case keeps the test quick while covering all report kinds.
        for p in paths.iter().step_by(7) {
            if let Ok(d) = std::fs::read(p) {
                out.push(d);
            }
        }
    }
    out
}

const NOISE: &[&[u8]] = &[
    b"[  12.345678] Call Trace:\n",
    b" ? foo+0x1/0x2\n",
    b"[  12.345678][ T123] WARNING: CPU: 1 PID: 2 at mm/x.c:1 f+0x1/0x2\n",
    b"BUG: KASAN: use-after-free in\n",
    b"Kernel panic - not syncing: \n",
    b"---[ end trace ]---\n",
    b"\xff\xfe\x00\r\n",
    b"INFO: task x:1 blocked for more than 1 seconds.\n",
    b" <IRQ>\n",
];

fn mutate(rng: &mut StdRng, data: &mut Vec<u8>) {
    for _ in 0..rng.gen_range(1..8) {
        match rng.gen_range(0..6) {
            0 if !data.is_empty() => {
                let i = rng.gen_range(0..data.len());
                data[i] = rng.gen();
            }
            1 if !data.is_empty() => {
                let cut = rng.gen_range(0..data.len());
                data.truncate(cut);
            }
            2 => {
                let at = rng.gen_range(0..=data.len());
                let n = NOISE[rng.gen_range(0..NOISE.len())];
                data.splice(at..at, n.iter().copied());
            }
            3 if data.len() > 2 => {
                let a = rng.gen_range(0..data.len());
                let b = rng.gen_range(a..data.len());
                let piece = data[a..b].to_vec();
                let at = rng.gen_range(0..=data.len());
                data.splice(at..at, piece);
            }
            4 => {
                let n = rng.gen_range(0..512);
                data.extend((0..n).map(|_| rng.gen::<u8>()));
            }
            _ => {
                if data.len() > 2 {
                    let a = rng.gen_range(0..data.len());
                    let b = rng.gen_range(a..data.len());
                    data.drain(a..b);
                }
            }
        }
    }
}

#[test]
fn random_and_mutated_logs_never_panic() {
    let iterations: usize = std::env::var("CRASHCLASS_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let seeds = seeds();
    let mut rng = StdRng::seed_from_u64(0x006b_6269_7365_6374);
    for i in 0..iterations {
        let mut data = if i % 10 == 0 {
            (0..rng.gen_range(0..4096))
                .map(|_| rng.gen::<u8>())
                .collect()
        } else {
            seeds[rng.gen_range(0..seeds.len())].clone()
        };
        mutate(&mut rng, &mut data);
        let a = crashclass::classify(&data);
        let chunk = rng.gen_range(1..4096);
        let b = crashclass::classify_reader_chunked(&data[..], chunk).unwrap();
        assert_eq!(a, b, "iteration {i}: streaming (chunk {chunk}) differs");
        if let Some(t) = &a.title {
            assert!(
                t.len() <= 120 && !t.is_empty(),
                "iteration {i}: title {t:?}"
            );
        }
        let mut live = crashclass::LiveDetector::new();
        for line in data.split(|&b| b == b'\n') {
            live.feed_line(line);
        }
        live.finish();
        if a.crashed {
            assert_ne!(live.state(), crashclass::LiveState::Quiet, "iteration {i}");
        }
    }
}
