//! Frames larger than memory. A `pyarrow.RecordBatchReader` or a `polars.LazyFrame` is
//! encoded into Parquet as its batches arrive, on a thread of its own, while the store
//! uploads what is encoded (S3 parts, or a temporary file renamed at the end). Memory holds
//! a wave of row groups and a few chunks, whatever the frame's size; a failure anywhere
//! leaves the output's previous artifact in place and nothing readable half-written.

use std::collections::BTreeMap;
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

/// Whether `value` is a stream of batches, stored as it is read.
pub fn is_stream(value: &Bound<'_, PyAny>) -> bool {
    matches!(type_name(value).as_str(), READER | LAZY_FRAME | STREAMED)
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
        .map_err(|e| unsupported(key, &python_type, &format!(" (not an Arrow stream: {e})")))?
        .into_reader()?;
    let schema = reader.schema();
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
    std::thread::Builder::new()
        .name("slipstream-encode".into())
        .spawn(move || {
            let outcome = encode(reader, pipe, manifest, started, described);
            let _ = done.send(outcome);
        })?;
    let (written, encoded) = wait(py, async {
        futures::join!(
            artifacts::write_stream(store, key, chunks, "parquet", async {
                manifest_rx.await.ok()
            }),
            done_rx
        )
    })?;
    match (written, encoded) {
        (Ok(Some(manifest)), Ok(Ok(()))) => Ok(manifest),
        // The store failed on its own (the encoder then found the pipe closed).
        (Err(e), _) if !matches!(e, StoreError::Interrupted { .. }) => {
            Err(store_error(&key.to_string(), e))
        }
        (_, Ok(Err(reason))) => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "output {:?}: {reason}; nothing was stored",
            key.output.as_str()
        ))),
        (_, Err(_)) => Err(pyo3::exceptions::PyRuntimeError::new_err(
            "encoding the frame's stream stopped unexpectedly (the encoder panicked)",
        )),
        (Ok(None) | Err(_), Ok(Ok(()))) => Err(pyo3::exceptions::PyRuntimeError::new_err(
            "the frame's stream was encoded but its manifest was lost",
        )),
    }
}

/// Reads every batch into the writer, hands the manifest over, then ends the pipe: the
/// payload is complete only after the manifest is known.
fn encode(
    reader: Box<dyn arrow_array::RecordBatchReader + Send>,
    pipe: PipeWriter,
    mut manifest: Manifest,
    started: Instant,
    described: oneshot::Sender<Manifest>,
) -> Result<(), String> {
    let schema = reader.schema();
    let mut writer = FrameWriter::new(&schema, pipe);
    for batch in reader {
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
