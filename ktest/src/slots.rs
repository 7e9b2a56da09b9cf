//! The VM slots of one ktest process, and the order its records leave in.
//!
//! Every run of every build record read so far waits in one queue, and
//! one worker per VM slot (`--jobs` here, and each `--host`'s slots) takes
//! runs from it, so a batch of commits (bisect-step
//! asks for several at once when there are more slots than one commit can
//! use) keeps every slot busy: the runs of the second commit start while the
//! first commit's last run is still going, not after it.
//!
//! Records still leave in input order, each build's runs together after
//! its build record, so a reader (and the log) sees one block per commit.
//! The [`Sequence`] keeps that order: the reading thread hands it each
//! echoed record and, for each tested build, a channel its runs arrive on;
//! one writer thread writes them out in that order.

use kbisect_records::jsonl::WriteError;
use kbisect_records::Object;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

/// Runs waiting for a free slot.
pub(crate) struct Slots<T> {
    state: Mutex<Queue<T>>,
    wake: Condvar,
    /// Nothing more is wanted (the output is gone): start no VM.
    pub(crate) abort: AtomicBool,
}

struct Queue<T> {
    waiting: VecDeque<T>,
    /// No more runs will be queued: workers end when the queue is empty.
    closed: bool,
    /// Runs taken and not yet [`Slots::done`].
    busy: usize,
    /// Counts the times every slot went idle with nothing waiting: a round
    /// of runs ends there (a host benched for the round comes back).
    round: u64,
}

impl<T> Slots<T> {
    pub(crate) fn new() -> Slots<T> {
        Slots {
            state: Mutex::new(Queue {
                waiting: VecDeque::new(),
                closed: false,
                busy: 0,
                round: 0,
            }),
            wake: Condvar::new(),
            abort: AtomicBool::new(false),
        }
    }

    /// Queue one run; a free worker takes it at once.
    pub(crate) fn push(&self, ticket: T) {
        let mut q = self.state.lock().unwrap_or_else(|e| e.into_inner());
        q.waiting.push_back(ticket);
        self.wake.notify_one();
    }

    /// No more runs: workers finish what is queued and end.
    pub(crate) fn close(&self) {
        let mut q = self.state.lock().unwrap_or_else(|e| e.into_inner());
        q.closed = true;
        self.wake.notify_all();
    }

    /// Queue a run again ahead of the others (its host failed it).
    pub(crate) fn retry(&self, ticket: T) {
        let mut q = self.state.lock().unwrap_or_else(|e| e.into_inner());
        q.waiting.push_front(ticket);
        self.wake.notify_one();
    }

    /// The oldest queued run, waiting for one; None once closed and empty.
    /// The taker calls [`Slots::done`] when the run is over.
    pub(crate) fn take(&self) -> Option<T> {
        let mut q = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(t) = q.waiting.pop_front() {
                q.busy += 1;
                return Some(t);
            }
            if q.closed {
                return None;
            }
            q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// A run taken is over (after any [`Slots::retry`] of it).
    pub(crate) fn done(&self) {
        let mut q = self.state.lock().unwrap_or_else(|e| e.into_inner());
        q.busy = q.busy.saturating_sub(1);
        if q.busy == 0 && q.waiting.is_empty() {
            q.round += 1;
            self.wake.notify_all();
        }
    }

    /// The current round.
    pub(crate) fn round(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).round
    }

    /// Wait until round `r` is over; false when the queue is closed and
    /// empty instead (the worker can end).
    pub(crate) fn wait_round_after(&self, r: u64) -> bool {
        let mut q = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if q.round > r {
                return true;
            }
            if q.closed && q.waiting.is_empty() {
                return false;
            }
            q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    pub(crate) fn aborted(&self) -> bool {
        self.abort.load(Ordering::SeqCst)
    }
}

/// What the writer thread writes next, in input order.
pub(crate) enum Item {
    /// A record echoed or made by the reading thread.
    Record(Object),
    /// The runs of one build, in the order they finish; the channel closes
    /// when the last of them is sent.
    Runs(mpsc::Receiver<Object>),
}

/// The reading thread's end of the ordered output.
pub(crate) struct Sequence {
    tx: mpsc::Sender<Item>,
}

impl Sequence {
    /// A sequence and the receiver its writer thread drains with [`write_all`].
    pub(crate) fn new() -> (Sequence, mpsc::Receiver<Item>) {
        let (tx, rx) = mpsc::channel();
        (Sequence { tx }, rx)
    }

    pub(crate) fn record(&self, obj: &Object) {
        let _ = self.tx.send(Item::Record(obj.clone()));
    }

    /// A place for one build's runs, after everything sent so far: each
    /// run's ticket carries a clone of the returned sender.
    pub(crate) fn runs(&self) -> mpsc::Sender<Object> {
        let (tx, rx) = mpsc::channel();
        let _ = self.tx.send(Item::Runs(rx));
        tx
    }
}

/// Write every item in order with `write`, until the sequence is dropped
/// and its last runs are in. On the first write error, set `abort` (no VM
/// should start for output nobody reads), keep draining so no worker
/// blocks, and return the error.
pub(crate) fn write_all(
    items: mpsc::Receiver<Item>,
    abort: &AtomicBool,
    mut write: impl FnMut(&Object) -> Result<(), WriteError>,
) -> Option<WriteError> {
    let mut failed = None;
    let mut put = |obj: &Object| {
        if failed.is_none() {
            if let Err(e) = write(obj) {
                failed = Some(e);
                abort.store(true, Ordering::SeqCst);
            }
        }
    };
    for item in items {
        match item {
            Item::Record(obj) => put(&obj),
            Item::Runs(runs) => {
                for obj in runs {
                    put(&obj);
                }
            }
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(n: u32) -> Object {
        json!({"kind": "run", "run": n})
            .as_object()
            .unwrap()
            .clone()
    }

    /// Runs of a later build that finish first still come after the
    /// earlier build's runs, and records between them keep their place.
    #[test]
    fn records_leave_in_input_order_whatever_finishes_first() {
        let (seq, items) = Sequence::new();
        let first = seq.runs();
        seq.record(&obj(100));
        let second = seq.runs();
        second.send(obj(20)).unwrap();
        second.send(obj(21)).unwrap();
        drop(second);
        first.send(obj(10)).unwrap();
        drop(first);
        drop(seq);
        let mut seen = Vec::new();
        let abort = AtomicBool::new(false);
        let err = write_all(items, &abort, |o| {
            seen.push(o["run"].as_u64().unwrap());
            Ok(())
        });
        assert!(err.is_none());
        assert_eq!(seen, vec![10, 100, 20, 21]);
    }

    #[test]
    fn a_write_error_aborts_and_drains() {
        let (seq, items) = Sequence::new();
        seq.record(&obj(1));
        let runs = seq.runs();
        runs.send(obj(2)).unwrap();
        drop(runs);
        drop(seq);
        let abort = AtomicBool::new(false);
        let mut calls = 0;
        let err = write_all(items, &abort, |_| {
            calls += 1;
            Err(WriteError::Closed)
        });
        assert!(matches!(err, Some(WriteError::Closed)));
        assert!(abort.load(Ordering::SeqCst));
        assert_eq!(calls, 1, "no write after the first error");
    }

    #[test]
    fn workers_take_runs_in_order_and_end_when_closed() {
        let slots = Slots::new();
        std::thread::scope(|s| {
            let worker = s.spawn(|| {
                let mut got = Vec::new();
                while let Some(t) = slots.take() {
                    got.push(t);
                    slots.done();
                }
                got
            });
            for i in 0..5 {
                slots.push(i);
            }
            slots.close();
            assert_eq!(worker.join().unwrap(), vec![0, 1, 2, 3, 4]);
        });
    }

    /// A retried run goes first; the round ends when every taken run is
    /// done and nothing waits, and a worker waiting for it wakes.
    #[test]
    fn a_round_ends_when_every_slot_is_idle() {
        let slots = Slots::new();
        slots.push(1);
        slots.push(2);
        let r = slots.round();
        let first = slots.take().unwrap();
        slots.retry(first);
        slots.done();
        assert_eq!(slots.round(), r, "runs still wait");
        assert_eq!(slots.take(), Some(1));
        assert_eq!(slots.take(), Some(2));
        slots.done();
        assert_eq!(slots.round(), r, "one run still going");
        std::thread::scope(|s| {
            let waiter = s.spawn(|| slots.wait_round_after(r));
            std::thread::sleep(std::time::Duration::from_millis(50));
            slots.done();
            assert!(waiter.join().unwrap());
        });
        assert_eq!(slots.round(), r + 1);
        slots.close();
        assert!(
            !slots.wait_round_after(r + 1),
            "closed and empty: the worker ends"
        );
    }
}
