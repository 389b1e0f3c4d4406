//! Keeps string dictionaries (pandas categoricals, polars categoricals, Arrow dictionary
//! columns) exactly as they were: Parquet re-encodes a dictionary from the values in order of
//! appearance, which reorders categories and drops unused ones. The writer records each
//! top-level string dictionary in the field's metadata; the reader remaps keys onto it.
//!
//! Dictionaries of `Utf8View` values (polars) are written as `Utf8`, which the Parquet
//! reader supports, and turned back into `Utf8View` on the way out.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::{CodecError, Result};

const VALUES_KEY: &str = "slipstream:dictionary";
const VALUE_TYPE_KEY: &str = "slipstream:dictionary_value_type";

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Prepares batches for Parquet as they arrive: string dictionaries of views are turned
/// into `Utf8` ones, and the union of each column's dictionaries (in first-seen order) is
/// recorded, to be written in the field's metadata once the last batch is known.
pub struct Recorder {
    /// The schema of prepared batches, without the recorded dictionaries.
    stored: SchemaRef,
    /// Per top-level column: its recorded dictionary, for string dictionaries.
    columns: Vec<Option<Recorded>>,
}

/// The dictionary of one column so far.
#[derive(Default)]
struct Recorded {
    seen: HashSet<String>,
    null: bool,
    values: Vec<Option<String>>,
    view: bool,
}

impl Recorder {
    pub fn new(schema: &SchemaRef) -> Self {
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut columns = Vec::with_capacity(fields.len());
        for field in &mut fields {
            let DataType::Dictionary(key, value) = field.data_type().clone() else {
                columns.push(None);
                continue;
            };
            if !is_string(&value) {
                columns.push(None);
                continue;
            }
            let view = *value == DataType::Utf8View;
            if view {
                field.set_data_type(DataType::Dictionary(key, Box::new(DataType::Utf8)));
            }
            columns.push(Some(Recorded {
                view,
                ..Recorded::default()
            }));
        }
        let stored = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        Self { stored, columns }
    }

    /// The schema of the batches [`Recorder::prepare`] returns.
    pub fn stored(&self) -> &SchemaRef {
        &self.stored
    }

    /// `batch` ready for Parquet; its dictionaries are added to those recorded.
    pub fn prepare(&mut self, batch: &RecordBatch) -> Result<RecordBatch> {
        let mut columns = batch.columns().to_vec();
        for (i, recorded) in self.columns.iter_mut().enumerate() {
            let Some(recorded) = recorded else { continue };
            let dict = columns[i].as_any_dictionary();
            let strings = arrow_cast::cast(dict.values(), &DataType::Utf8)?;
            for v in strings.as_string::<i32>() {
                match v {
                    Some(s) if !recorded.seen.contains(s) => {
                        recorded.seen.insert(s.to_owned());
                        recorded.values.push(Some(s.to_owned()));
                    }
                    None if !recorded.null => {
                        recorded.null = true;
                        recorded.values.push(None);
                    }
                    _ => {}
                }
            }
            if recorded.view {
                columns[i] = arrow_cast::cast(&columns[i], self.stored.field(i).data_type())?;
            }
        }
        Ok(RecordBatch::try_new(self.stored.clone(), columns)?)
    }

    /// The schema to embed in the file: the stored one, each string dictionary's values
    /// recorded in its field's metadata.
    pub fn finish(&self) -> Schema {
        let fields: Vec<Field> = self
            .stored
            .fields()
            .iter()
            .zip(&self.columns)
            .map(|(field, recorded)| {
                let Some(recorded) = recorded else {
                    return field.as_ref().clone();
                };
                let mut metadata = field.metadata().clone();
                metadata.insert(
                    VALUES_KEY.into(),
                    serde_json::to_string(&recorded.values).expect("strings serialize"),
                );
                if recorded.view {
                    metadata.insert(VALUE_TYPE_KEY.into(), "Utf8View".into());
                }
                let data_type = wide_enough(field.data_type(), recorded.values.len());
                field
                    .as_ref()
                    .clone()
                    .with_data_type(data_type)
                    .with_metadata(metadata)
            })
            .collect();
        Schema::new_with_metadata(fields, self.stored.metadata().clone())
    }
}

/// `data_type`, a dictionary, with keys wide enough for `values` values: batches with
/// dictionaries of their own (a stream's chunks) can together have more categories than
/// each one's keys hold. The keys of the stored values do not depend on it; readers build
/// keys of the recorded type.
fn wide_enough(data_type: &DataType, values: usize) -> DataType {
    let DataType::Dictionary(key, value) = data_type else {
        return data_type.clone();
    };
    let fits = |t: &DataType| match t {
        DataType::Int8 => values <= 1 << 7,
        DataType::UInt8 => values <= 1 << 8,
        DataType::Int16 => values <= 1 << 15,
        DataType::UInt16 => values <= 1 << 16,
        DataType::Int32 => values <= 1 << 31,
        _ => true,
    };
    if fits(key) {
        return data_type.clone();
    }
    let wider = [DataType::Int16, DataType::Int32, DataType::Int64]
        .into_iter()
        .find(|t| fits(t))
        .unwrap_or(DataType::Int64);
    DataType::Dictionary(Box::new(wider), value.clone())
}

/// Undoes [`Recorder::prepare`] on decoded batches.
pub fn restore(
    schema: &SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    if !schema
        .fields()
        .iter()
        .any(|f| f.metadata().contains_key(VALUES_KEY))
    {
        return Ok((schema.clone(), batches));
    }
    let mut fields: Vec<Field> = Vec::with_capacity(schema.fields().len());
    let mut plans: Vec<Option<(DataType, ArrayRef)>> = Vec::new();
    for field in schema.fields() {
        let mut metadata = field.metadata().clone();
        let recorded = metadata.remove(VALUES_KEY);
        let view = metadata.remove(VALUE_TYPE_KEY).is_some();
        let (DataType::Dictionary(key, value), Some(recorded)) = (field.data_type(), recorded)
        else {
            fields.push(field.as_ref().clone());
            plans.push(None);
            continue;
        };
        let values: Vec<Option<String>> = serde_json::from_str(&recorded).map_err(|e| {
            CodecError::Invalid(format!("dictionary of column {:?}: {e}", field.name()))
        })?;
        let value_type = if view {
            DataType::Utf8View
        } else {
            value.as_ref().clone()
        };
        let dictionary = arrow_cast::cast(
            &(Arc::new(StringArray::from(values)) as ArrayRef),
            &value_type,
        )?;
        let data_type = DataType::Dictionary(key.clone(), Box::new(value_type));
        fields.push(
            field
                .as_ref()
                .clone()
                .with_data_type(data_type.clone())
                .with_metadata(metadata),
        );
        plans.push(Some((data_type, dictionary)));
    }
    let restored = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    if batches.is_empty() {
        // No rows, but the categories still belong to the frame: carry them in an empty batch.
        let columns = restored
            .fields()
            .iter()
            .zip(&plans)
            .map(|(field, plan)| match plan {
                Some((data_type, dictionary)) => with_dictionary(
                    data_type,
                    &arrow_array::new_empty_array(key_type(data_type)),
                    dictionary,
                ),
                None => Ok(arrow_array::new_empty_array(field.data_type())),
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok((
            restored.clone(),
            vec![RecordBatch::try_new(restored, columns)?],
        ));
    }
    let batches = batches
        .into_iter()
        .map(|batch| {
            let columns = batch
                .columns()
                .iter()
                .zip(&plans)
                .map(|(column, plan)| match plan {
                    Some((data_type, dictionary)) => remap(column, data_type, dictionary),
                    None => Ok(column.clone()),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(RecordBatch::try_new(restored.clone(), columns)?)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((restored, batches))
}

/// Re-expresses a dictionary column's keys against `dictionary`.
fn remap(column: &ArrayRef, data_type: &DataType, dictionary: &ArrayRef) -> Result<ArrayRef> {
    let old = column.as_any_dictionary();
    let target = arrow_cast::cast(dictionary, &DataType::Utf8)?;
    let target = target.as_string::<i32>();
    let index: HashMap<Option<&str>, u64> = target
        .iter()
        .enumerate()
        .map(|(i, v)| (v, i as u64))
        .collect();
    let old_values = arrow_cast::cast(old.values(), &DataType::Utf8)?;
    let mapping: Vec<u64> = old_values
        .as_string::<i32>()
        .iter()
        .map(|v| {
            index.get(&v).copied().ok_or_else(|| {
                CodecError::Invalid(format!(
                    "dictionary value {v:?} is missing from the recorded dictionary"
                ))
            })
        })
        .collect::<Result<_>>()?;
    let keys: UInt64Array = old
        .normalized_keys()
        .iter()
        .zip(0..old.len())
        .map(|(k, i)| (!old.keys().is_null(i)).then(|| mapping[*k]))
        .collect();
    // A key that does not fit is an error, never a null.
    let strict = arrow_cast::CastOptions {
        safe: false,
        ..Default::default()
    };
    let keys =
        arrow_cast::cast_with_options(&(Arc::new(keys) as ArrayRef), key_type(data_type), &strict)?;
    with_dictionary(data_type, &keys, dictionary)
}

fn key_type(data_type: &DataType) -> &DataType {
    match data_type {
        DataType::Dictionary(key, _) => key,
        _ => unreachable!("only dictionary columns are planned"),
    }
}

/// A dictionary array of `data_type` from its keys and values.
fn with_dictionary(
    data_type: &DataType,
    keys: &ArrayRef,
    dictionary: &ArrayRef,
) -> Result<ArrayRef> {
    let data = ArrayData::builder(data_type.clone())
        .len(keys.len())
        .nulls(keys.nulls().cloned())
        .add_buffer(keys.to_data().buffers()[0].clone())
        .add_child_data(dictionary.to_data())
        .build()?;
    Ok(arrow_array::make_array(data))
}
