//! Frames of any Arrow-speaking library, taken in through the Arrow PyCapsule interface
//! (`__arrow_c_stream__` / `__arrow_c_array__`): the buffers are shared, not copied, and no
//! Python library is needed here. The way back goes through `slipstream.values.frames.restore`,
//! which hands the decoded table to the library the frame came from.

use arrow_array::RecordBatch;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use pyo3_arrow::input::AnyRecordBatch;
use slipstream_codec::frame;
use slipstream_core::{ArtifactKey, Manifest, TypeTag};

use super::{Described, codec_error, type_name, unsupported};

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

pub fn encode(py: Python<'_>, key: &ArtifactKey, value: &Bound<'_, PyAny>) -> PyResult<Described> {
    let flavor = flavor(value);
    let mut value = value.clone();
    match flavor.as_str() {
        // polars hands all-null columns over with a buffer the Arrow C interface does not
        // expect; pyarrow takes them and hands them on as Arrow says.
        "polars.DataFrame"
            if refuse_polars_columns(key, &value.getattr("schema")?, "polars.DataFrame")? =>
        {
            let pyarrow = py.import("pyarrow").map_err(|_| {
                unsupported(
                    key,
                    "polars.DataFrame",
                    " (it has all-null columns, which slipstream hands to Arrow through \
                     pyarrow: pip install pyarrow, or give the columns a type)",
                )
            })?;
            value = pyarrow.call_method1("table", (&value,))?;
        }
        "pandas.DataFrame" => refuse_ambiguous_labels(key, &value)?,
        _ => {}
    }
    // Columns Arrow cannot take from pandas, or that would come back changed, are refused by
    // name before any conversion (`slipstream.values.refusals.refusal`).
    if flavor.starts_with("pandas.") || flavor.starts_with("pyarrow.") {
        let why: Option<String> = py
            .import("slipstream.values.refusals")?
            .call_method1("refusal", (&value,))?
            .extract()?;
        if let Some(why) = why {
            return Err(unsupported(key, &type_name(&value), &format!(" ({why})")));
        }
    }
    let reader = value
        .extract::<AnyRecordBatch>()
        .map_err(|e| {
            // What Arrow cannot convert (pandas object columns, among others) is refused,
            // naming the column if found; anything else (an interrupt, no memory) passes.
            let conversion = e.is_instance_of::<pyo3::exceptions::PyTypeError>(py)
                || e.is_instance_of::<pyo3::exceptions::PyValueError>(py)
                || e.is_instance_of::<pyo3::exceptions::PyOverflowError>(py)
                || e.is_instance_of::<pyo3::exceptions::PyNotImplementedError>(py);
            if !conversion {
                return e;
            }
            let column = py
                .import("slipstream.values.frames")
                .and_then(|m| m.call_method1("failing_column", (&value,)))
                .ok()
                .filter(|c| !c.is_none())
                .and_then(|c| c.repr().ok())
                .map(|r| format!("column {r} "))
                .unwrap_or_default();
            unsupported(
                key,
                &type_name(&value),
                &format!(" ({column}cannot be converted to Arrow: {e})"),
            )
        })?
        .into_reader()?;
    let schema = reader.schema();
    if let Some((column, data_type, why)) = frame::unstorable(&schema) {
        return Err(unsupported(
            key,
            &type_name(&value),
            &format!(" (column {column:?} of type {data_type}: {why})"),
        ));
    }
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

/// polars columns (of a frame's or a lazy frame's `schema`) Arrow cannot hold are refused by
/// name: `Object` (Python objects, handed to Arrow as 8-byte pointers, never stored as memory
/// addresses) and 128-bit integers,
/// at any depth of lists, arrays and structs. Returns whether a column holds the `Null`
/// type at any depth (polars exports those through its C interface in a form arrow-rs
/// rejects; pyarrow converts them).
pub fn refuse_polars_columns(
    key: &ArtifactKey,
    schema: &Bound<'_, PyAny>,
    python_type: &str,
) -> PyResult<bool> {
    let mut nulls = false;
    for item in schema.call_method0("items")?.try_iter()? {
        let (name, dtype): (String, Bound<'_, PyAny>) = item?.extract()?;
        let mut found = PolarsTypes::default();
        found.visit(&dtype, false)?;
        let refusal = if found.object {
            Some("holds Python objects, which Arrow cannot store: convert it to a typed column")
        } else if found.nested_categorical && python_type == "polars.DataFrame" {
            // polars hands these over as dictionaries of string views, which the Parquet
            // writer cannot take (a lazy frame's stream gives plain strings, and stores).
            Some(
                "holds categoricals inside a list or struct, which slipstream cannot store from \
                 a DataFrame: cast them to pl.String, or store the frame as .lazy()",
            )
        } else if found.int128 {
            Some(
                "holds 128-bit integers, which Arrow and Parquet cannot store: cast them to \
                 Int64 or a Decimal",
            )
        } else {
            None
        };
        if let Some(refusal) = refusal {
            return Err(unsupported(
                key,
                python_type,
                &format!(
                    " (column {name:?} of type {} {refusal}{})",
                    dtype.str()?,
                    if python_type == "polars.DataFrame" {
                        ", or pass allow_pickle=True to store the frame with pickle"
                    } else {
                        ""
                    }
                ),
            ));
        }
        nulls |= found.null;
    }
    Ok(nulls)
}

/// What a polars data type holds, nested types included.
#[derive(Default)]
struct PolarsTypes {
    object: bool,
    int128: bool,
    null: bool,
    /// A `Categorical` or `Enum` inside a list, array or struct.
    nested_categorical: bool,
}

impl PolarsTypes {
    fn visit(&mut self, dtype: &Bound<'_, PyAny>, nested: bool) -> PyResult<()> {
        // polars data types are instances of classes named after the type (`Int128()`,
        // `List(inner)`, `Struct(fields)`).
        let class = dtype.get_type().name()?.to_string();
        match class.as_str() {
            "Object" => self.object = true,
            "Int128" | "UInt128" => self.int128 = true,
            "Null" => self.null = true,
            "Categorical" | "Enum" => self.nested_categorical |= nested,
            "List" | "Array" => self.visit(&dtype.getattr("inner")?, true)?,
            "Struct" => {
                for field in dtype.getattr("fields")?.try_iter()? {
                    self.visit(&field?.getattr("dtype")?, true)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Column labels that would not come back as they were: two that read alike as text
/// (`0` and `"0"`), or labels of several types (Arrow names columns with text; pandas
/// restores one type of label).
fn refuse_ambiguous_labels(key: &ArtifactKey, value: &Bound<'_, PyAny>) -> PyResult<()> {
    let mut seen = std::collections::HashSet::new();
    let mut kinds = std::collections::BTreeSet::new();
    for label in value.getattr("columns")?.try_iter()? {
        let label = label?;
        kinds.insert(type_name(&label));
        let text = label.str()?.to_string();
        if !seen.insert(text.clone()) {
            return Err(unsupported(
                key,
                "pandas.DataFrame",
                &format!(
                    " (two columns are labelled {text:?} as text, so they would collide: give \
                     the columns distinct names, e.g. df.columns = [...])"
                ),
            ));
        }
    }
    if kinds.len() > 1 {
        let kinds: Vec<String> = kinds.into_iter().collect();
        return Err(unsupported(
            key,
            "pandas.DataFrame",
            &format!(
                " (its column labels mix types ({}), which would come back as text: name the \
                 columns with strings, e.g. df.columns = df.columns.astype(str))",
                kinds.join(", ")
            ),
        ));
    }
    Ok(())
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
