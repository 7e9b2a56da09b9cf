//! The HTML report in a browser, without kernels: the hand-written journal
//! of a finished bisection (kbisect-log/testdata/found.jsonl: runs of every
//! outcome, a build failure, the revert check) rendered by
//! `kbisect-log report --html` and checked in headless Chromium by the
//! helper the real-kernel test in kbisect.rs also calls. Skipped, saying
//! why, when Chromium is not installed (`make deps` installs it).

mod browser;

#[test]
fn report_of_a_found_culprit_renders_in_chromium() {
    if !std::path::Path::new(browser::CHROMIUM).exists() {
        eprintln!(
            "skipped: {} is missing (make deps installs it)",
            browser::CHROMIUM
        );
        return;
    }
    let journal = tests::workspace_root().join("kbisect-log/testdata/found.jsonl");
    browser::assert_report_renders(
        &journal,
        "9483409ab5067941860754e78a4a44a60311d276",
        "block: free the inode's bdev early",
        &tests::artifact_dir("report_of_a_found_culprit_renders_in_chromium"),
    );
}

/// A subject with markup and `&` shows as the text it is, not as markup.
#[test]
fn markup_in_a_subject_renders_as_text() {
    if !std::path::Path::new(browser::CHROMIUM).exists() {
        eprintln!(
            "skipped: {} is missing (make deps installs it)",
            browser::CHROMIUM
        );
        return;
    }
    let journal = tests::workspace_root().join("kbisect-log/testdata/found.jsonl");
    browser::assert_report_renders(
        &journal,
        "250b3c0d79d1f4a55e54d8a9ef48058660483fef",
        "fs: <script>alert(1)</script> & friends",
        &tests::artifact_dir("markup_in_a_subject_renders_as_text"),
    );
}
