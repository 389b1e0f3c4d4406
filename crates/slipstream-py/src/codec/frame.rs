//! Frames of any Arrow-speaking library, taken in through the Arrow PyCapsule interface
//! (`__arrow_c_stream__` / `__arrow_c_array__`): the buffers are shared, not copied, and no
//! Python library is needed here. The way back goes through `slipstream.values.frames.restore`,
//! which hands the decoded table to the library the frame came from.

use arrow_array::RecordBatch;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use pyo3_arrow::input::AnyRecordBatch;
use slipstream_codec::frame;
use slipstream_core::{Manifest, TypeTag};

use super::{Described, codec_error, type_name};

/// The library a frame belongs to, which decides the type handed back on reads.
fn flavor(value: &Bound<'_, PyAny>) -> String {
    let name = type_name(value);
    let known = [
        ("pandas.", "DataFrame", "pandas.DataFrame"),
        ("polars.", "DataFrame", "polars.DataFrame"),
        ("pyarrow.", "Table", "pyarrow.Table"),
        ("pyarrow.", "RecordBatch", "pyarrow.RecordBatch"),
        ("pyarrow.", "RecordBatchReader", "pyarrow.RecordBatchReader"),
    ];
    known
        .iter()
        .find(|(module, class, _)| name.starts_with(module) && name.ends_with(&format!(".{class}")))
        .map_or_else(|| "arrow".to_owned(), |(_, _, flavor)| (*flavor).to_owned())
}

pub fn encode(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Described> {
    let flavor = flavor(value);
    let reader = value.extract::<AnyRecordBatch>()?.into_reader()?;
    let schema = reader.schema();
    // Pulling batches through the C stream is zero-copy; the encoding below runs without the GIL.
    let batches = reader
        .collect::<Result<Vec<RecordBatch>, _>>()
        .map_err(|e| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "reading the frame's Arrow stream: {e}"
            ))
        })?;
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let summary = frame::schema_summary(&schema);
    let payload =
        crate::runtime::compute(py, || frame::encode(schema, &batches)).map_err(codec_error)?;
    Ok(
        Described::new(payload, "parquet", TypeTag::Frame, "parquet", flavor).with(move |m| {
            m.rows = Some(rows);
            m.schema = Some(summary);
        }),
    )
}

pub fn decode<'py>(
    py: Python<'py>,
    manifest: &Manifest,
    payload: bytes::Bytes,
) -> PyResult<Bound<'py, PyAny>> {
    let (schema, batches) =
        crate::runtime::compute(py, || frame::decode(payload)).map_err(codec_error)?;
    let table = PyTable::try_new(batches, schema)?.into_pyobject(py)?;
    py.import("slipstream.values.frames")?
        .call_method1("restore", (table, manifest.flavor.as_str()))
}
