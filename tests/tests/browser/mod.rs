//! The HTML report checked in a real browser: `kbisect-log report --html`
//! over a finished journal, then the page opened in headless Chromium, once
//! for its rendered DOM (the culprit is named on it) and once for a
//! screenshot (kept in the test's artifact dir, and not blank).

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// The browser the report is checked in (`make deps` installs it).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long one Chromium call may take before the test fails: a hung
/// browser must not hang CI.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// Run Chromium headless on `url` with `args` (and a fresh profile); its
/// stdout. Panics when it fails or outlives [`BROWSER_TIMEOUT`].
fn chromium(args: &[String], url: &str) -> String {
    let profile = tempfile::tempdir().expect("chromium profile dir");
    let mut all: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    all.push(format!("--user-data-dir={}", profile.path().display()));
    all.extend(args.iter().cloned());
    all.push(url.to_string());
    let handle = duct::cmd(CHROMIUM, &all)
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .start()
        .expect("start chromium");
    let began = Instant::now();
    loop {
        if let Some(out) = handle.try_wait().expect("wait for chromium") {
            assert!(
                out.status.success(),
                "chromium {args:?}: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        if began.elapsed() > BROWSER_TIMEOUT {
            let _ = handle.kill();
            panic!("chromium {args:?} still running after {BROWSER_TIMEOUT:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Text as an HTML serializer writes it in a text node.
fn as_dom_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\u{a0}', "&nbsp;")
}

/// Write the HTML report of the finished `journal` into `artifacts` and
/// check it in Chromium: the rendered DOM names the culprit (its full or
/// 12-digit sha) and its `subject`; a 1280×2000 screenshot
/// (`artifacts/report.png`) has many colours and is not all white.
pub fn assert_report_renders(journal: &Path, culprit: &str, subject: &str, artifacts: &Path) {
    let html = artifacts.join("report.html");
    duct::cmd!(
        tests::bin("kbisect-log"),
        "report",
        "--html",
        &html,
        "--journal",
        journal
    )
    .stdin_null()
    .run()
    .expect("kbisect-log report --html");
    let html = std::path::absolute(&html).expect("absolute report path");
    let url = format!("file://{}", html.display());

    let dom = chromium(&["--dump-dom".to_string()], &url);
    let short = culprit.get(..12).unwrap_or(culprit);
    assert!(
        dom.contains(culprit) || dom.contains(short),
        "culprit {culprit} not in the rendered report:\n{dom}"
    );
    assert!(
        dom.contains(&as_dom_text(subject)),
        "subject {subject:?} not in the rendered report:\n{dom}"
    );

    let png = std::path::absolute(artifacts.join("report.png")).expect("absolute png path");
    let _ = std::fs::remove_file(&png);
    chromium(
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,2000".to_string(),
        ],
        &url,
    );
    let (colours, non_white) = colours_of(&png);
    assert!(
        colours >= 16 && non_white >= 0.01,
        "{} looks blank: {colours} distinct colours, {:.2}% non-white pixels",
        png.display(),
        non_white * 100.0
    );
}

/// Distinct colours of a PNG and the share of its pixels that are not white.
fn colours_of(path: &Path) -> (usize, f64) {
    let file =
        std::fs::File::open(path).unwrap_or_else(|e| panic!("screenshot {}: {e}", path.display()));
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    // Palettes and 16-bit samples come out as 8-bit RGB(A).
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("PNG size")];
    let frame = reader.next_frame(&mut buf).expect("a PNG frame");
    let channels = frame.color_type.samples();
    let mut colours = HashSet::new();
    let (mut pixels, mut white) = (0usize, 0usize);
    for px in buf[..frame.buffer_size()].chunks_exact(channels) {
        let rgb = match channels {
            1 | 2 => [px[0]; 3],
            _ => [px[0], px[1], px[2]],
        };
        pixels += 1;
        if rgb.iter().all(|&c| c >= 250) {
            white += 1;
        }
        colours.insert(rgb);
    }
    let non_white = if pixels == 0 {
        0.0
    } else {
        (pixels - white) as f64 / pixels as f64
    };
    (colours.len(), non_white)
}
