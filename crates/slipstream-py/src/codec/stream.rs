//! Frames larger than memory. A `pyarrow.RecordBatchReader` or a `polars.LazyFrame` is
//! encoded into Parquet as its batches arrive, on a thread of its own, while the store
//! uploads what is encoded (S3 parts, or a temporary file renamed at the end). Memory holds
//! a wave of row groups and a few chunks, whatever the frame's size; a failure anywhere
//! leaves the output's previous artifact in place and nothing readable half-written.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatchReader;
use slipstream_codec::frame::{self, FrameWriter};
use slipstream_core::{ArtifactKey, Manifest, TypeTag};
use slipstream_store::{ObjectStore, PipeWriter, StoreError, artifacts};
use tokio::sync::oneshot;

use super::{type_name, unsupported};
use crate::errors::store_error;
use crate::runtime::wait;

/// Bytes per chunk handed from the encoder to the upload, and chunks waiting between them.
const CHUNK: usize = 8 * 1024 * 1024;
const DEPTH: usize = 2;

const READER: &str = "pyarrow.lib.RecordBatchReader";
const LAZY_FRAME: &str = "polars.lazyframe.frame.LazyFrame";
/// `slipstream.values.frames.Streamed`: either of the above, keeping its first rows.
const STREAMED: &str = "slipstream.values.frames.Streamed";

/// Whether `value` is a stream of batches, stored as it is read: an instance of one of the
/// stream types (`pyarrow.ipc.open_stream` gives a subclass of the reader).
pub fn is_stream(value: &Bound<'_, PyAny>) -> bool {
    let name = |kind: &Bound<'_, PyAny>| -> PyResult<String> {
        Ok(format!(
            "{}.{}",
            kind.getattr("__module__")?,
            kind.getattr("__qualname__")?
        ))
    };
    value
        .get_type()
        .mro()
        .iter()
        .any(|kind| name(&kind).is_ok_and(|n| matches!(n.as_str(), READER | LAZY_FRAME | STREAMED)))
}

/// Stores the stream `value` under `key` and returns the manifest as stored.
pub fn put_stream(
    py: Python<'_>,
    store: &dyn ObjectStore,
    key: &ArtifactKey,
    value: &Bound<'_, PyAny>,
    try_number: u32,
    extra: BTreeMap<String, serde_json::Value>,
) -> PyResult<Manifest> {
    let started = Instant::now();
    let source = if type_name(value) == STREAMED {
        value.clone()
    } else {
        py.import("slipstream.values.frames")?
            .call_method1("Streamed", (value,))?
    };
    let python_type: String = source.getattr("python_type")?.extract()?;
    let flavor: String = source.getattr("flavor")?.extract()?;
    if python_type == LAZY_FRAME {
        let schema = source.getattr("source")?.call_method0("collect_schema")?;
        super::frame::refuse_polars_columns(key, &schema, "polars.LazyFrame")?;
    }
    let reader = source
        .extract::<PyRecordBatchReader>()
        .map_err(|e| {
            // Only what is not an Arrow stream is refused; an interrupt or no memory passes.
            let conversion = e.is_instance_of::<pyo3::exceptions::PyTypeError>(py)
                || e.is_instance_of::<pyo3::exceptions::PyValueError>(py);
            if conversion {
                unsupported(key, &python_type, &format!(" (not an Arrow stream: {e})"))
            } else {
                e
            }
        })?
        .into_reader()?;
    let schema = reader.schema();
    if let Some((column, data_type, why)) = frame::unstorable(&schema) {
        let why = format!(" (column {column:?} of type {data_type}: {why})");
        return Err(unsupported(key, &python_type, &why));
    }
    let mut manifest = super::manifest(
        py,
        key,
        (TypeTag::Frame, "parquet", &flavor),
        &python_type,
        try_number,
    )?;
    manifest.schema = Some(frame::schema_summary(&schema));
    manifest.extra = extra;

    let (pipe, chunks) = slipstream_store::pipe(CHUNK, DEPTH);
    let (described, manifest_rx) = oneshot::channel();
    let (done, done_rx) = oneshot::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    std::thread::Builder::new()
        .name("slipstream-encode".into())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                encode(reader, pipe, manifest, started, described, &stopping)
            }))
            .unwrap_or_else(|panic| Err(format!("the encoder panicked: {}", panic_text(&panic))));
            let _ = done.send(outcome);
        })?;
    // Dropped before the encoder is done (a signal cancelled the wait, the store failed),
    // it tells the encoder to stop at its next batch.
    let _stop_encoder = StopOnDrop(stop);
    let (written, encoded) = wait(py, async {
        let written = artifacts::write_stream(store, key, chunks, "parquet", async {
            manifest_rx.await.ok()
        })
        .await;
        match written {
            // The store failed on its own: say so now, not once the source yields again.
            Err(e) if !matches!(e, StoreError::Interrupted { .. }) => (Err(e), None),
            written => (written, Some(done_rx.await)),
        }
    })?;
    match (written, encoded) {
        (Ok(Some(manifest)), Some(Ok(Ok(())))) => Ok(manifest),
        (Err(e), None) => Err(store_error(&key.to_string(), e)),
        (_, Some(Ok(Err(reason)))) => {
            // An exception of the source itself (the op's generator) is raised as it was,
            // with its traceback.
            if let Ok(raised) = source.getattr("error")
                && !raised.is_none()
            {
                return Err(PyErr::from_value(raised));
            }
            Err(pyo3::exceptions::PyValueError::new_err(format!(
                "output {:?}: {reason}; nothing was stored",
                key.output.as_str()
            )))
        }
        _ => Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "output {:?}: the frame's stream was encoded but its manifest was lost; nothing \
             was stored",
            key.output.as_str()
        ))),
    }
}

/// Sets its flag when dropped.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

/// Reads every batch into the writer, hands the manifest over, then ends the pipe: the
/// payload is complete only after the manifest is known.
fn encode(
    reader: Box<dyn arrow_array::RecordBatchReader + Send>,
    pipe: PipeWriter,
    mut manifest: Manifest,
    started: Instant,
    described: oneshot::Sender<Manifest>,
    stop: &AtomicBool,
) -> Result<(), String> {
    let schema = reader.schema();
    let mut writer = FrameWriter::new(&schema, pipe);
    for batch in reader {
        if stop.load(Ordering::Relaxed) {
            return Err("stopped: the put was abandoned".into());
        }
        let batch = batch.map_err(|e| format!("reading the frame's Arrow stream: {e}"))?;
        writer
            .write(&batch)
            .map_err(|e| format!("encoding the frame's stream: {e}"))?;
    }
    manifest.rows = Some(writer.rows());
    let pipe = writer
        .finish()
        .map_err(|e| format!("encoding the frame's stream: {e}"))?;
    manifest.encode_seconds = started.elapsed().as_secs_f64();
    let _ = described.send(manifest);
    pipe.finish()
        .map_err(|e| format!("writing the frame's stream: {e}"))
}
