//! Fuzz the journal reader with arbitrary bytes (torn, interleaved,
//! oversized and invalid lines). Besides "never panics", it checks the
//! reader's promises: a torn line is only ever the last one, and cutting a
//! sound journal anywhere (as a kill mid-append does) loses at most the
//! line being written.
#![no_main]

use bisect_step::journal::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(full) = parse(data) else {
        return;
    };
    if let Some(torn) = &full.torn {
        assert_eq!(
            torn.offset as usize + torn.len,
            data.len(),
            "torn line not at the end"
        );
        assert!(!data[torn.offset as usize..].contains(&b'\n'));
    }
    if full.torn.is_some() || data.is_empty() {
        return;
    }
    // A sound journal cut at a point chosen by its own bytes.
    let cut = (data[0] as usize * 257 + data[data.len() - 1] as usize) % data.len();
    let part = parse(&data[..cut]).expect("a cut sound journal still reads");
    assert!(part.records.len() <= full.records.len());
    let complete = part.records.len() - usize::from(part.needs_newline);
    assert_eq!(part.records[..complete], full.records[..complete]);
});
