//! Guilty-file accuracy over the shared corpus (../shared/crash-corpus/guilty).
//!
//! Each case is `FILE: path` (empty when no file is to be blamed), a blank
//! line, then a console log. The log is classified as a whole, as syzkaller
//! extracts the report before it looks for the guilty file; the test prints
//! every miss and fails under [`GUILTY_FLOOR`]. The corpus is read in place,
//! never copied; when it is absent the test says so and passes.

mod common;

/// A little under the measured rate (42/42), so a new rule that costs a
/// case is noticed while held-back cases can still differ.
const GUILTY_FLOOR: f64 = 0.95;

/// The expected file (None for an empty `FILE:`) and the log after the
/// first blank line.
fn read_case(data: &[u8]) -> (Option<String>, &[u8]) {
    let split = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or(data.len(), |i| i + 2);
    let head = String::from_utf8_lossy(&data[..split]);
    let want = head
        .lines()
        .find_map(|l| l.strip_prefix("FILE:"))
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string);
    (want, &data[split.min(data.len())..])
}

#[test]
fn guilty_file_accuracy() {
    let Some(names) = common::case_files("guilty") else {
        return;
    };
    let (mut n, mut hits) = (0usize, 0usize);
    let mut misses = Vec::new();
    for path in &names {
        let data = std::fs::read(path).expect("read corpus case");
        let (want, log) = read_case(&data);
        let got = crashclass::classify(log).guilty_file;
        n += 1;
        if got == want {
            hits += 1;
        } else {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            misses.push(format!("{name}: want {want:?} got {got:?}"));
        }
    }
    eprintln!("--- guilty file misses: {}", misses.len());
    for m in &misses {
        eprintln!("  {m}");
    }
    eprintln!("crashclass guilty file: {hits}/{n}");
    assert!(
        hits as f64 >= GUILTY_FLOOR * n as f64,
        "guilty file {hits}/{n} under the floor {:.0}%",
        GUILTY_FLOOR * 100.0
    );
}
