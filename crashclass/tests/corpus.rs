//! Accuracy over the shared crash corpus (../shared/crash-corpus/linux).
//!
//! Every case is classified; the test prints exact-title, alt-title, type,
//! corrupted and suppressed accuracy, fails on any crash / no-crash mistake,
//! and fails when exact titles fall under [`TITLE_FLOOR`]. The corpus is
//! read in place, never copied into the repository. When it is absent the
//! test says so and passes (a clean clone without ../shared).

use std::collections::BTreeMap;
mod common;

/// Raised as accuracy grows; the issue asks for at least 98%.
const TITLE_FLOOR: f64 = 0.995;

#[derive(Default, Debug)]
struct Case {
    title: Option<String>,
    alt: Vec<String>,
    crash_type: Option<String>,
    corrupted: bool,
    suppressed: bool,
    log: Vec<u8>,
}

/// Header lines `KEY: value` up to the first blank line, then the log.
fn read_case(data: &[u8]) -> Case {
    let mut c = Case::default();
    let mut pos = 0;
    while pos < data.len() {
        let end = data[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |i| pos + i);
        let line = String::from_utf8_lossy(&data[pos..end]).into_owned();
        pos = end + 1;
        if line.is_empty() {
            break;
        }
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim().to_string();
        match k {
            "TITLE" => c.title = Some(v).filter(|t| !t.is_empty()),
            "ALT" => c.alt.push(v),
            "TYPE" => c.crash_type = Some(v),
            "CORRUPTED" => c.corrupted = v == "Y",
            "SUPPRESSED" => c.suppressed = v == "Y",
            _ => {}
        }
    }
    c.log = data[pos.min(data.len())..].to_vec();
    c
}

#[test]
fn corpus_accuracy() {
    let Some(names) = common::case_files("linux") else {
        return;
    };
    let verbose = std::env::var_os("CRASHCLASS_VERBOSE").is_some();
    let (mut n, mut detect, mut crashes) = (0usize, 0usize, 0usize);
    let (mut exact, mut alt, mut typ, mut corr, mut supp) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    let mut misses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in &names {
        let data = std::fs::read(path).expect("read corpus case");
        let case = read_case(&data);
        let got = crashclass::classify(&case.log);
        let streamed = crashclass::classify_reader(&case.log[..]).expect("stream from memory");
        assert_eq!(
            got,
            streamed,
            "streaming and in-memory differ on {}",
            path.display()
        );
        n += 1;
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if got.crashed == case.title.is_some() {
            detect += 1;
        } else {
            misses
                .entry("detect".into())
                .or_default()
                .push(format!("{name}: want {:?} got {:?}", case.title, got.title));
        }
        let Some(want) = &case.title else { continue };
        crashes += 1;
        if got.title.as_deref() == Some(want.as_str()) {
            exact += 1;
        } else {
            misses
                .entry("title".into())
                .or_default()
                .push(format!("{name}: want {want:?} got {:?}", got.title));
        }
        if got.alt_titles == case.alt {
            alt += 1;
        } else {
            misses.entry("alt".into()).or_default().push(format!(
                "{name}: want {:?} got {:?}",
                case.alt, got.alt_titles
            ));
        }
        if got.crash_type == case.crash_type {
            typ += 1;
        } else {
            misses.entry("type".into()).or_default().push(format!(
                "{name}: want {:?} got {:?}",
                case.crash_type, got.crash_type
            ));
        }
        if got.corrupted == case.corrupted {
            corr += 1;
        } else {
            misses.entry("corrupted".into()).or_default().push(format!(
                "{name}: {want}: want {} got {}",
                case.corrupted, got.corrupted
            ));
        }
        if got.suppressed == case.suppressed {
            supp += 1;
        } else {
            misses.entry("suppressed".into()).or_default().push(format!(
                "{name}: want {} got {}",
                case.suppressed, got.suppressed
            ));
        }
    }
    for (what, list) in &misses {
        eprintln!("--- {what} misses: {}", list.len());
        for m in list.iter().take(if verbose { usize::MAX } else { 10 }) {
            eprintln!("  {m}");
        }
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            100.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    eprintln!(
        "crashclass corpus: {n} cases, {crashes} crashes\n  crash/no-crash {:.1}%\n  exact title    {:.1}%\n  alt titles     {:.1}%\n  type           {:.1}%\n  corrupted      {:.1}%\n  suppressed     {:.1}%",
        pct(detect, n),
        pct(exact, crashes),
        pct(alt, crashes),
        pct(typ, crashes),
        pct(corr, crashes),
        pct(supp, crashes),
    );
    assert_eq!(detect, n, "crash / no-crash detection must be exact");
    assert!(
        exact as f64 >= TITLE_FLOOR * crashes as f64,
        "exact titles {:.1}% under the floor {:.1}%",
        pct(exact, crashes),
        TITLE_FLOOR * 100.0
    );
}
