//! Captures a process's stdout and stderr at the file-descriptor level, so that writes from
//! C code and child processes are seen too, while still echoing every byte to the original
//! streams (which, inside an Airflow task, feed the task log).
//!
//! Each stream's descriptor is replaced by the write end of a pipe; a thread that never
//! touches the GIL drains the pipe, copies to the original descriptor and keeps up to
//! `limit` bytes. A user op that fills the pipe while holding the GIL therefore cannot
//! deadlock against the capture.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::os_error;

/// What one stream's drain thread has kept.
#[derive(Default)]
struct Captured {
    data: Vec<u8>,
    dropped: u64,
}

struct Redirect {
    fd: RawFd,
    saved: RawFd,
    captured: Arc<Mutex<Captured>>,
    /// Says when the drain thread has read the pipe to its end.
    drained: Receiver<()>,
}

/// Captures file descriptors 1 and 2 between `start()` and `stop()`.
#[pyclass(name = "OutputCapture", module = "slipstream._native", frozen)]
pub struct PyOutputCapture {
    limit: usize,
    active: Mutex<Option<Vec<Redirect>>>,
}

fn redirect(fd: RawFd, limit: usize) -> PyResult<Redirect> {
    let mut ends = [0 as RawFd; 2];
    // SAFETY: `ends` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(os_error("cannot create a pipe to capture output"));
    }
    let [read_end, write_end] = ends;
    // SAFETY: plain descriptor calls on descriptors this function owns or was given.
    let saved = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    // SAFETY: as above.
    let echo_fd = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    // SAFETY: as above; dup2 atomically points `fd` at the pipe.
    if saved < 0 || echo_fd < 0 || unsafe { libc::dup2(write_end, fd) } < 0 {
        let err = os_error("cannot redirect output for capture");
        // SAFETY: closing descriptors this function created.
        unsafe {
            for d in [read_end, write_end, saved, echo_fd] {
                if d >= 0 {
                    libc::close(d);
                }
            }
        }
        return Err(err);
    }
    // SAFETY: the write end now lives on as `fd`; this copy is ours to close.
    unsafe { libc::close(write_end) };
    let captured = Arc::new(Mutex::new(Captured::default()));
    let sink = captured.clone();
    let (done, drained) = mpsc::channel();
    // SAFETY: the drain thread takes sole ownership of these two descriptors.
    let (mut source, mut echo) =
        unsafe { (File::from_raw_fd(read_end), File::from_raw_fd(echo_fd)) };
    std::thread::Builder::new()
        .name(format!("slipstream-capture-{fd}"))
        .spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match source.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                let _ = echo.write_all(&buf[..n]);
                let mut kept = sink.lock().unwrap_or_else(|p| p.into_inner());
                let room = limit.saturating_sub(kept.data.len()).min(n);
                kept.data.extend_from_slice(&buf[..room]);
                kept.dropped += (n - room) as u64;
            }
            let _ = done.send(());
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the capture thread: {e}")))?;
    Ok(Redirect {
        fd,
        saved,
        captured,
        drained,
    })
}

fn restore(r: Redirect, deadline: Instant) -> (Vec<u8>, u64) {
    // SAFETY: puts the original descriptor back; this closes our pipe's last write end
    // unless a child process still holds it.
    unsafe {
        libc::dup2(r.saved, r.fd);
        libc::close(r.saved);
    }
    // A background child that inherited the pipe keeps it open: do not wait for it forever.
    // (Woken the moment the drain ends: a stop costs no polling interval.)
    let _ = r
        .drained
        .recv_timeout(deadline.saturating_duration_since(Instant::now()));
    let kept = std::mem::take(&mut *r.captured.lock().unwrap_or_else(|p| p.into_inner()));
    (kept.data, kept.dropped)
}

#[pymethods]
impl PyOutputCapture {
    #[new]
    #[pyo3(signature = (limit = 4 * 1024 * 1024))]
    fn new(limit: usize) -> Self {
        Self {
            limit,
            active: Mutex::new(None),
        }
    }

    /// Starts capturing descriptors 1 and 2. Flush Python's streams before calling.
    fn start(&self) -> PyResult<()> {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if active.is_some() {
            return Err(PyRuntimeError::new_err("output capture already started"));
        }
        let out = redirect(1, self.limit)?;
        let err = match redirect(2, self.limit) {
            Ok(err) => err,
            Err(e) => {
                restore(out, Instant::now());
                return Err(e);
            }
        };
        *active = Some(vec![out, err]);
        Ok(())
    }

    /// Stops capturing and returns `(stdout, stderr, stdout_dropped, stderr_dropped)`: the
    /// bytes kept and how many were dropped beyond the limit. Flush Python's streams first.
    fn stop<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>, u64, u64)> {
        let redirects = self
            .active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("output capture was not started"))?;
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut results = crate::runtime::compute(py, || {
            redirects
                .into_iter()
                .map(|r| restore(r, deadline))
                .collect::<Vec<_>>()
        });
        let (err, err_dropped) = results.pop().unwrap_or_default();
        let (out, out_dropped) = results.pop().unwrap_or_default();
        Ok((
            PyBytes::new(py, &out),
            PyBytes::new(py, &err),
            out_dropped,
            err_dropped,
        ))
    }
}
