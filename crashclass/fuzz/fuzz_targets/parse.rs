//! Fuzz the console-log parser: any bytes must classify without a panic,
//! streaming must agree with in-memory, and the live detector must keep up.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let a = crashclass::classify(data);
    let b = crashclass::classify_reader_chunked(data, 97).expect("reading from memory");
    assert_eq!(a, b);
    let mut live = crashclass::LiveDetector::new();
    for line in data.split(|&b| b == b'\n') {
        live.feed_line(line);
    }
    live.finish();
});
