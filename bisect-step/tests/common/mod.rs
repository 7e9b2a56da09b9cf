//! What the CLI-level test files share: one bisect-step call, in process.

use bisect_step::sim::History;
use bisect_step::{run, Options};
use kbisect_records::{Next, Object};

/// One call of bisect-step with `input` on stdin: its exit code, the
/// records it printed and its stderr.
pub fn step(opts: &Options, input: &str) -> (i32, Vec<Object>, String) {
    let mut inp = input.as_bytes();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = run(opts, Some(&mut inp), "<stdin>", &mut out, &mut err);
    let recs = String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.as_object().cloned())
        .collect();
    (code, recs, String::from_utf8_lossy(&err).into_owned())
}

/// The plain verdict a person would give `next` when `culprit` is the
/// culprit: bad when the commit contains it. (Not every test file gives
/// plain verdicts.)
#[allow(dead_code)]
pub fn verdict_on(h: &History, culprit: usize, next: &Next) -> String {
    let x = h.position[&git2::Oid::from_str(&next.commit).unwrap()];
    let word = if h.is_ancestor(culprit, x) {
        "bad"
    } else {
        "good"
    };
    format!(
        "{{\"kind\":\"verdict\",\"commit\":\"{}\",\"verdict\":\"{word}\"}}\n",
        next.commit
    )
}
