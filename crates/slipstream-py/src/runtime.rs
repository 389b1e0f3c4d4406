//! The one tokio runtime of the process, and the one way to wait on it from Python.
//!
//! Airflow forks a task process from a parent that may already have used slipstream, and a
//! forked child has none of the parent's runtime threads. The runtime is therefore created
//! lazily and re-created when the process id changes; the parent's copy is leaked in the
//! child on purpose, since dropping it would wait for threads that do not exist there.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;

/// How often a blocked call checks for Python signals (SIGINT, Airflow's SIGALRM timeout).
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime of the current process, created on first use.
#[allow(clippy::disallowed_methods)] // the one place a runtime is created
pub fn runtime() -> Arc<Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match slot.as_ref() {
        Some((owner, rt)) if *owner == pid => rt.clone(),
        _ => {
            if let Some(inherited) = slot.take() {
                std::mem::forget(inherited);
            }
            let rt = Arc::new(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(
                        std::thread::available_parallelism()
                            .map_or(2, |n| n.get())
                            .clamp(2, 8),
                    )
                    .thread_name("slipstream-io")
                    .enable_all()
                    .build()
                    .expect("cannot start the slipstream I/O runtime"),
            );
            *slot = Some((pid, rt.clone()));
            rt
        }
    }
}

/// Runs `work` on the runtime with the GIL released, checking Python signals while it
/// waits. If a signal handler raises (Ctrl-C, Airflow's `execution_timeout`), the work is
/// cancelled (dropped, which aborts in-flight requests) and that exception is returned.
#[allow(clippy::disallowed_methods)] // the one place the GIL is released for I/O
pub fn wait<F, T>(py: Python<'_>, work: F) -> PyResult<T>
where
    F: Future<Output = T> + Send,
    T: Send,
{
    let rt = runtime();
    py.detach(|| {
        rt.block_on(async {
            tokio::pin!(work);
            let mut tick = tokio::time::interval(SIGNAL_CHECK_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    biased;
                    done = &mut work => return Ok(done),
                    _ = tick.tick() => Python::attach(|py| py.check_signals())?,
                }
            }
        })
    })
}

/// Runs CPU-bound `work` (encoding, decoding) with the GIL released.
#[allow(clippy::disallowed_methods)] // the one place the GIL is released for CPU work
pub fn compute<T: Send>(py: Python<'_>, work: impl FnOnce() -> T + Send) -> T {
    py.detach(work)
}
