//! Turning what was seen in a run ([`Observation`]) and what crashclass says
//! of its log into the run's outcome, title and detail.
//!
//! The rules, in order:
//! 1. QEMU never started → `infra_error`.
//! 2. A crash report → `crashed` if it began after the booted mark, else
//!    `boot_failed`; either way with crashclass's title.
//! 3. Console silence for the no-output limit → the syzkaller title
//!    "no output from test machine": `crashed` after the booted mark,
//!    `boot_failed` before it.
//! 4. QEMU exited with no console output at all → `infra_error` when it
//!    failed (non-zero status or a signal: QEMU refused the image or its
//!    options, KVM aborted), `boot_failed` when it exited cleanly (the guest
//!    reset at once, e.g. a triple fault); exited before the booted mark →
//!    `boot_failed`; exited after it without the guest's end word → the
//!    syzkaller title "lost connection to test machine", `crashed`.
//! 5. Sanity test failed, reproducer could not run → `test_failed`.
//! 6. Done, or run time up with the reproducer still running → `ok`.

use crate::vm::{Ending, Observation};
use kbisect_records::{Classification, Outcome};

/// syzkaller's titles for a silent and a vanished machine (from crashclass,
/// so that titles have one source).
pub use crashclass::{LOST_CONNECTION_TITLE, NO_OUTPUT_TITLE};

/// The verdict on one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub outcome: Outcome,
    pub detail: Option<String>,
    pub class: Classification,
}

/// A crash the harness names itself: a title, no report.
fn synthetic(title: &str) -> Classification {
    crashclass::harness_crash(title)
}

/// Decide the outcome of a run from what was observed and the log's
/// classification. `targets` are the --target titles (for `same_bug`).
pub fn decide(obs: &Observation, class: Classification, targets: &[String]) -> Decision {
    let mut d = decide_inner(obs, class);
    d.class.same_bug = if targets.is_empty() {
        None
    } else {
        crashclass::is_same_bug(&d.class, targets)
    };
    d
}

fn decide_inner(obs: &Observation, class: Classification) -> Decision {
    let booted = obs.booted_offset.is_some();
    let stderr = if obs.qemu_stderr.is_empty() {
        String::new()
    } else {
        format!(": {}", obs.qemu_stderr)
    };
    let with = |outcome, detail: Option<String>, class| Decision {
        outcome,
        detail,
        class,
    };
    if let Ending::SpawnFailed(msg) = &obs.ending {
        return with(
            Outcome::InfraError,
            Some(msg.clone()),
            Classification::default(),
        );
    }
    if class.crashed {
        // Did the report begin after the booted mark?
        let after_boot = match (obs.booted_offset, class.report_start) {
            (Some(b), Some(r)) => r > b,
            (b, _) => b.is_some(),
        };
        let outcome = if after_boot {
            Outcome::Crashed
        } else {
            Outcome::BootFailed
        };
        let detail = (!after_boot).then(|| "crashed before the booted mark".to_string());
        return with(outcome, detail, class);
    }
    let not_crashed = Classification::default();
    match &obs.ending {
        Ending::SpawnFailed(_) => unreachable!("handled above"),
        Ending::NoOutput if booted => with(
            Outcome::Crashed,
            Some("console silent after boot".into()),
            synthetic(NO_OUTPUT_TITLE),
        ),
        Ending::NoOutput => with(
            Outcome::BootFailed,
            Some(if obs.output_bytes == 0 {
                "no console output at all".into()
            } else {
                "console went silent before the booted mark".into()
            }),
            synthetic(NO_OUTPUT_TITLE),
        ),
        Ending::BootTimeout => with(
            Outcome::BootFailed,
            Some("timed out waiting for the booted mark".into()),
            not_crashed,
        ),
        Ending::Exited if obs.output_bytes == 0 && obs.exit_success => with(
            Outcome::BootFailed,
            Some("the VM reset before any console output (e.g. a triple fault)".into()),
            not_crashed,
        ),
        Ending::Exited if obs.output_bytes == 0 => with(
            Outcome::InfraError,
            Some(format!(
                "QEMU exited ({}) before any console output{stderr}",
                obs.exit_status.as_deref().unwrap_or("unknown status")
            )),
            not_crashed,
        ),
        Ending::Exited if !booted => with(
            Outcome::BootFailed,
            Some(format!(
                "VM exited ({}) before the booted mark{stderr}",
                obs.exit_status.as_deref().unwrap_or("unknown status")
            )),
            not_crashed,
        ),
        Ending::Exited => with(
            Outcome::Crashed,
            Some(format!(
                "VM exited ({}) while the reproducer ran",
                obs.exit_status.as_deref().unwrap_or("unknown status")
            )),
            synthetic(LOST_CONNECTION_TITLE),
        ),
        Ending::SanityFailed(what) => with(
            Outcome::TestFailed,
            Some(format!("sanity test failed: {what}")),
            not_crashed,
        ),
        Ending::ReproCannotRun(what) => with(
            Outcome::TestFailed,
            Some(format!("reproducer cannot run ({what})")),
            not_crashed,
        ),
        Ending::Stopped => with(
            Outcome::Skipped,
            Some("stopped: another run showed the target bug".into()),
            not_crashed,
        ),
        Ending::RunTimeUp => with(
            Outcome::Ok,
            Some("run time up with the reproducer still running".into()),
            not_crashed,
        ),
        Ending::ReportComplete => with(
            Outcome::Ok,
            Some("the live detector stopped the VM but the log classifies as no crash".into()),
            not_crashed,
        ),
        Ending::TestTimedOut => with(
            Outcome::Ok,
            Some("the test ran past the run time and was killed".into()),
            not_crashed,
        ),
        Ending::Done if obs.test_exit.is_some() => with(
            Outcome::Ok,
            obs.test_exit
                .map(|s| format!("the test exited with status {s}")),
            not_crashed,
        ),
        Ending::Done | Ending::ProbeDone => with(Outcome::Ok, None, not_crashed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crashclass::LiveState;

    fn obs(ending: Ending, booted: bool, bytes: u64) -> Observation {
        Observation {
            ending,
            booted_offset: booted.then_some(100),
            boot_seconds: None,
            repro_start_seconds: None,
            iterations: None,
            test_exit: None,
            guest_run_seconds: None,
            warnings: Vec::new(),
            guest_missing: Vec::new(),
            output_bytes: bytes,
            exit_status: Some("exit status: 1".into()),
            exit_code: Some(1),
            exit_success: false,
            qemu_stderr: String::new(),
            live_state: LiveState::Quiet,
            seconds: 1.0,
            log_error: None,
        }
    }

    fn crash(start: u64) -> Classification {
        Classification {
            crashed: true,
            title: Some("WARNING in foo".into()),
            report_start: Some(start),
            ..Default::default()
        }
    }

    #[test]
    fn crash_before_and_after_boot() {
        let d = decide(&obs(Ending::ReportComplete, true, 500), crash(200), &[]);
        assert_eq!(d.outcome, Outcome::Crashed);
        assert_eq!(d.class.same_bug, None);
        let d = decide(
            &obs(Ending::ReportComplete, true, 500),
            crash(50),
            &["WARNING in foo".into()],
        );
        assert_eq!(d.outcome, Outcome::BootFailed);
        assert_eq!(d.class.same_bug, Some(true));
        let d = decide(&obs(Ending::Exited, false, 500), crash(50), &["x".into()]);
        assert_eq!(d.outcome, Outcome::BootFailed);
        assert_eq!(d.class.same_bug, Some(false));
    }

    #[test]
    fn silence() {
        let d = decide(
            &obs(Ending::NoOutput, false, 0),
            Classification::default(),
            &[],
        );
        assert_eq!(d.outcome, Outcome::BootFailed);
        assert_eq!(d.class.title.as_deref(), Some(NO_OUTPUT_TITLE));
        let d = decide(
            &obs(Ending::NoOutput, true, 900),
            Classification::default(),
            &[],
        );
        assert_eq!(d.outcome, Outcome::Crashed);
        assert!(d.class.crashed);
    }

    #[test]
    fn exits() {
        let d = decide(
            &obs(Ending::Exited, false, 0),
            Classification::default(),
            &[],
        );
        assert_eq!(d.outcome, Outcome::InfraError);
        let reset = Observation {
            exit_success: true,
            ..obs(Ending::Exited, false, 0)
        };
        let d = decide(&reset, Classification::default(), &[]);
        assert_eq!(d.outcome, Outcome::BootFailed);
        let d = decide(
            &obs(Ending::Exited, false, 10),
            Classification::default(),
            &[],
        );
        assert_eq!(d.outcome, Outcome::BootFailed);
        let d = decide(
            &obs(Ending::Exited, true, 10),
            Classification::default(),
            &[],
        );
        assert_eq!(d.class.title.as_deref(), Some(LOST_CONNECTION_TITLE));
    }

    #[test]
    fn a_test_that_exits_or_times_out_is_ok_with_its_detail() {
        let mut o = obs(Ending::Done, true, 100);
        o.test_exit = Some(1);
        let d = decide(&o, Classification::default(), &[]);
        assert_eq!(d.outcome, Outcome::Ok);
        assert_eq!(d.detail.as_deref(), Some("the test exited with status 1"));
        let d = decide(
            &obs(Ending::TestTimedOut, true, 100),
            Classification::default(),
            &[],
        );
        assert_eq!(d.outcome, Outcome::Ok);
        assert!(d.detail.unwrap().contains("killed"));
    }

    #[test]
    fn guest_words() {
        let none = Classification::default;
        assert_eq!(
            decide(&obs(Ending::Done, true, 9), none(), &[]).outcome,
            Outcome::Ok
        );
        assert_eq!(
            decide(&obs(Ending::RunTimeUp, true, 9), none(), &[]).outcome,
            Outcome::Ok
        );
        assert_eq!(
            decide(
                &obs(Ending::SanityFailed("fork".into()), true, 9),
                none(),
                &[]
            )
            .outcome,
            Outcome::TestFailed
        );
        assert_eq!(
            decide(
                &obs(Ending::ReproCannotRun("rc=127".into()), true, 9),
                none(),
                &[]
            )
            .outcome,
            Outcome::TestFailed
        );
        assert_eq!(
            decide(&obs(Ending::Stopped, true, 9), none(), &[]).outcome,
            Outcome::Skipped
        );
        assert_eq!(
            decide(&obs(Ending::SpawnFailed("x".into()), false, 0), none(), &[]).outcome,
            Outcome::InfraError
        );
    }
}
