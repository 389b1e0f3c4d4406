//! Frames as Parquet through arrow-rs. The Arrow schema (with its metadata, e.g. pandas'
//! index and categorical information) is embedded in the file, so that types such as
//! dictionaries, time zones and nested lists/structs come back exactly.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::{Result, dictionary};

/// Rows per Parquet row group; also the unit of parallel decoding.
const ROW_GROUP_ROWS: usize = 256 * 1024;

/// Threads encoding row groups at once.
const MAX_WORKERS: usize = 8;

/// Key under which the row count of a zero-column frame is kept: Parquet has no rows
/// without columns, but `pandas.DataFrame(index=range(3))` does.
const ZERO_COLUMN_ROWS: &str = "slipstream:zero_column_rows";

/// `[{name, type, nullable}]` for a manifest.
pub fn schema_summary(schema: &Schema) -> serde_json::Value {
    schema
        .fields()
        .iter()
        .map(|f| {
            serde_json::json!({
                "name": f.name(),
                "type": f.data_type().to_string(),
                "nullable": f.is_nullable(),
            })
        })
        .collect()
}

/// Encodes batches sharing `schema` into one Parquet file. Row groups are encoded on all
/// cores (each by its own column writers) and appended to the file in order.
pub fn encode(schema: SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let (schema, batches) = dictionary::prepare(&schema, batches)?;
    let schema = if schema.fields().is_empty() {
        let mut metadata = schema.metadata().clone();
        metadata.insert(ZERO_COLUMN_ROWS.to_owned(), rows.to_string());
        Arc::new(Schema::new_with_metadata(schema.fields().clone(), metadata))
    } else {
        schema
    };
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for (i, field) in schema.fields().iter().enumerate() {
        if dictionary_pays(batches.iter().map(|b| b.column(i))) == Some(false) {
            let path = ColumnPath::new(vec![field.name().clone()]);
            props = props.set_column_dictionary_enabled(path.clone(), false);
            if is_integer_like(field.data_type()) {
                // ids, counters and event times are mostly ordered: their deltas pack
                // into a few bits (a 1-second timestamp column shrinks ~20-fold).
                props = props.set_column_encoding(path, Encoding::DELTA_BINARY_PACKED);
            }
        }
    }
    let props = props.build();
    let mut out = Vec::new();
    // The ArrowWriter embeds the Arrow schema; its parts then write row groups we encode.
    let (mut file, factory) =
        ArrowWriter::try_new(&mut out, schema.clone(), Some(props))?.into_serialized_writer()?;
    if !schema.fields().is_empty() {
        let groups = row_groups(&batches, ROW_GROUP_ROWS);
        // Memory holds a wave of encoded row groups: at most `MAX_WORKERS` of them.
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_WORKERS));
        for (wave, chunk) in groups.chunks(workers).enumerate() {
            let first = wave * workers;
            let encoded = in_parallel(chunk, |i, group| {
                encode_row_group(&factory, &schema, first + i, group)
            });
            for columns in encoded {
                let mut row_group = file.next_row_group()?;
                for column in columns? {
                    column.append_to_row_group(&mut row_group)?;
                }
                row_group.close()?;
            }
        }
    }
    file.close()?;
    Ok(out)
}

/// Values sampled to decide whether a column is dictionary-encoded, and the fewest valid
/// ones a decision is taken on.
const DICTIONARY_SAMPLE: usize = 4096;
const DICTIONARY_MIN_SAMPLE: usize = 1024;

/// Whether dictionary encoding pays for a top-level column, judged on its first values
/// (across batches): always for dictionaries (categoricals), never for booleans, and for
/// other flat columns when at most half of the sampled valid values are distinct. Trying a
/// dictionary on a column of unique values costs a hash table per page before the writer
/// falls back. `None` (the writer's default) for too few values and nested types.
fn dictionary_pays<'a>(parts: impl Iterator<Item = &'a ArrayRef>) -> Option<bool> {
    let mut samples = vec![];
    let mut taken = 0;
    for part in parts {
        match part.data_type() {
            DataType::Dictionary(..) => return Some(true),
            DataType::Boolean => return Some(false),
            _ => {}
        }
        let take = part.len().min(DICTIONARY_SAMPLE - taken);
        samples.push(part.slice(0, take));
        taken += take;
        if taken == DICTIONARY_SAMPLE {
            break;
        }
    }
    let mut seen = Distinct::default();
    let mut valid = 0;
    for sample in &samples {
        valid += seen.add(sample.as_ref())?;
    }
    (valid >= DICTIONARY_MIN_SAMPLE).then_some(seen.hashes.len() * 2 <= valid)
}

/// Hashes of the distinct values seen.
#[derive(Default)]
struct Distinct {
    hashes: std::collections::HashSet<u64>,
    state: std::hash::RandomState,
}

impl Distinct {
    /// Adds each valid value of `array`; returns how many were valid, or `None` for a type
    /// without flat values.
    fn add(&mut self, array: &dyn Array) -> Option<usize> {
        use arrow_array::cast::AsArray;
        use std::hash::BuildHasher;
        let state = &self.state;
        let hashes = &mut self.hashes;
        let mut insert = |bytes: &[u8]| {
            hashes.insert(state.hash_one(bytes));
        };
        match array.data_type() {
            DataType::Utf8 => array
                .as_string::<i32>()
                .iter()
                .flatten()
                .for_each(|v| insert(v.as_bytes())),
            DataType::LargeUtf8 => array
                .as_string::<i64>()
                .iter()
                .flatten()
                .for_each(|v| insert(v.as_bytes())),
            DataType::Utf8View => array
                .as_string_view()
                .iter()
                .flatten()
                .for_each(|v| insert(v.as_bytes())),
            DataType::Binary => array
                .as_binary::<i32>()
                .iter()
                .flatten()
                .for_each(&mut insert),
            DataType::LargeBinary => array
                .as_binary::<i64>()
                .iter()
                .flatten()
                .for_each(&mut insert),
            data_type => {
                // Fixed-width values (numbers, dates, times, decimals): their bytes, valid
                // slots only (a null slot may hold anything).
                let width = data_type.primitive_width()?;
                let data = array.to_data();
                let bytes = &data.buffers().first()?.as_slice()[data.offset() * width..];
                for (i, value) in bytes[..array.len() * width].chunks_exact(width).enumerate() {
                    if array.is_valid(i) {
                        insert(value);
                    }
                }
            }
        }
        Some(array.len() - array.null_count())
    }
}

/// Integers and what Parquet stores as integers (dates, times, timestamps, durations).
fn is_integer_like(data_type: &DataType) -> bool {
    data_type.is_integer()
        || matches!(
            data_type,
            DataType::Date32
                | DataType::Date64
                | DataType::Time32(_)
                | DataType::Time64(_)
                | DataType::Timestamp(..)
                | DataType::Duration(_)
        )
}

/// `work(index, item)` for each item, each on a thread of its own, the results in the items'
/// order; a panic in one is resumed here with its message.
fn in_parallel<I: Send, T: Send>(
    items: impl IntoIterator<Item = I>,
    work: impl Fn(usize, I) -> T + Sync,
) -> Vec<T> {
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| scope.spawn(move || work(i, item)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// The batches cut into row groups of `size` rows (the last may be shorter); slices share
/// the batches' buffers.
fn row_groups(batches: &[RecordBatch], size: usize) -> Vec<Vec<RecordBatch>> {
    let mut groups = vec![];
    let mut current: Vec<RecordBatch> = vec![];
    let mut filled = 0;
    for batch in batches {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let take = (size - filled).min(batch.num_rows() - offset);
            current.push(batch.slice(offset, take));
            (offset, filled) = (offset + take, filled + take);
            if filled == size {
                groups.push(std::mem::take(&mut current));
                filled = 0;
            }
        }
    }
    if filled > 0 {
        groups.push(current);
    }
    groups
}

/// Encodes one row group's columns into column chunks ready to append to the file.
fn encode_row_group(
    factory: &ArrowRowGroupWriterFactory,
    schema: &SchemaRef,
    index: usize,
    batches: &[RecordBatch],
) -> Result<Vec<ArrowColumnChunk>> {
    let mut writers = factory.create_column_writers(index)?.into_iter();
    let mut chunks = vec![];
    for (i, field) in schema.fields().iter().enumerate() {
        // A nested field has one writer per leaf; compute_leaves yields them in that order.
        let mut leaves: Vec<Vec<_>> = vec![];
        for batch in batches {
            for (n, leaf) in compute_leaves(field, batch.column(i))?
                .into_iter()
                .enumerate()
            {
                if leaves.len() <= n {
                    leaves.push(vec![]);
                }
                leaves[n].push(leaf);
            }
        }
        for leaf_parts in leaves {
            let Some(mut writer) = writers.next() else {
                return Err(crate::CodecError::Invalid(
                    "Parquet: fewer column writers than leaf columns".into(),
                ));
            };
            for part in &leaf_parts {
                writer.write(part)?;
            }
            chunks.push(writer.close()?);
        }
    }
    Ok(chunks)
}

/// Decodes a Parquet file written by [`encode`] into its schema and batches.
pub fn decode(payload: Bytes) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(payload.clone())?;
    let schema = builder.schema().clone();
    if schema.fields().is_empty() {
        let rows = schema
            .metadata()
            .get(ZERO_COLUMN_ROWS)
            .and_then(|r| r.parse::<usize>().ok())
            .unwrap_or(0);
        let mut metadata = schema.metadata().clone();
        metadata.remove(ZERO_COLUMN_ROWS);
        let schema = Arc::new(Schema::new_with_metadata(schema.fields().clone(), metadata));
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let batch = RecordBatch::try_new_with_options(schema.clone(), vec![], &options)?;
        return Ok((schema, vec![batch]));
    }
    let groups = builder.metadata().num_row_groups();
    if groups <= 1 {
        let batches = builder
            .with_batch_size(ROW_GROUP_ROWS)
            .build()?
            .collect::<Result<Vec<_>, _>>()?;
        return dictionary::restore(&schema, batches);
    }
    // Row groups decode independently: spread them over the cores, keep their order.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(groups);
    let chunks: Vec<Vec<usize>> = (0..workers)
        .map(|w| (0..groups).filter(|g| g % workers == w).collect())
        .collect();
    let decoded = in_parallel(chunks, |_, groups| -> Result<Vec<(usize, RecordBatch)>> {
        let mut out = Vec::new();
        for g in groups {
            let reader = ParquetRecordBatchReaderBuilder::try_new(payload.clone())?
                .with_row_groups(vec![g])
                .with_batch_size(ROW_GROUP_ROWS)
                .build()?;
            for batch in reader {
                out.push((g, batch?));
            }
        }
        Ok(out)
    });
    let mut ordered = Vec::new();
    for part in decoded {
        ordered.extend(part?);
    }
    ordered.sort_by_key(|(g, _)| *g);
    dictionary::restore(&schema, ordered.into_iter().map(|(_, b)| b).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::types::Int8Type;
    use arrow_array::{
        ArrayRef, DictionaryArray, Int64Array, StringArray, TimestampMicrosecondArray,
    };
    use arrow_schema::{DataType, Field, TimeUnit};

    fn sample(rows: i64) -> RecordBatch {
        let ids: ArrayRef = Arc::new(Int64Array::from_iter(
            (0..rows).map(|i| (i % 7 != 0).then_some(i)),
        ));
        let cats: ArrayRef = Arc::new(
            (0..rows)
                .map(|i| ["a", "b", "c"][i as usize % 3])
                .collect::<DictionaryArray<Int8Type>>(),
        );
        let ts: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from_iter_values(0..rows).with_timezone("Europe/Paris"),
        );
        let text: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..rows).map(|i| format!("row {i}")),
        ));
        RecordBatch::try_from_iter([("id", ids), ("cat", cats), ("ts", ts), ("text", text)])
            .unwrap()
    }

    #[test]
    fn types_and_order_survive_many_row_groups() {
        let batch = sample(600_000);
        let payload = encode(
            batch.schema(),
            &[batch.slice(0, 300_000), batch.slice(300_000, 300_000)],
        )
        .unwrap();
        let (schema, batches) = decode(Bytes::from(payload)).unwrap();
        assert_eq!(
            schema.field(1).data_type(),
            &DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8))
        );
        assert_eq!(
            schema.field(2).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("Europe/Paris".into()))
        );
        let back = arrow_select_concat(&schema, &batches);
        assert_eq!(back, batch.with_schema(schema).unwrap());
    }

    #[test]
    fn nested_columns_survive_row_groups_cut_across_batches() {
        use arrow_array::builder::{Int32Builder, ListBuilder};
        use arrow_array::{Array, StructArray};
        let rows = ROW_GROUP_ROWS + 1_000;
        let mut lists = ListBuilder::new(Int32Builder::new());
        for i in 0..rows {
            if i % 5 == 0 {
                lists.append_null();
            } else {
                lists.append_value((0..(i % 4) as i32).map(Some));
            }
        }
        let lists: ArrayRef = Arc::new(lists.finish());
        let inner: ArrayRef = Arc::new(Int64Array::from_iter_values(0..rows as i64));
        let structs: ArrayRef = Arc::new(StructArray::from(vec![(
            Arc::new(Field::new("x", DataType::Int64, false)),
            inner,
        )]));
        let batch = RecordBatch::try_from_iter([("l", lists), ("s", structs)]).unwrap();
        let cuts = [0, 7, 100_000, ROW_GROUP_ROWS - 3, rows];
        let parts: Vec<RecordBatch> = cuts
            .windows(2)
            .map(|w| batch.slice(w[0], w[1] - w[0]))
            .collect();
        let payload = encode(batch.schema(), &parts).unwrap();
        let groups = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(payload.clone()))
            .unwrap()
            .metadata()
            .num_row_groups();
        assert_eq!(groups, 2);
        let (schema, batches) = decode(Bytes::from(payload)).unwrap();
        let back = arrow_select_concat(&schema, &batches);
        assert_eq!(back.column(0).null_count(), batch.column(0).null_count());
        assert_eq!(back, batch.with_schema(schema).unwrap());
    }

    #[test]
    fn dictionaries_only_where_values_repeat() {
        let batch = sample(10_000);
        let repeated: ArrayRef =
            Arc::new(Int64Array::from_iter_values((0..10_000).map(|i| i % 10)));
        let batch = RecordBatch::try_from_iter(
            batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .zip(batch.columns().iter().cloned())
                .chain([("few".to_owned(), repeated)]),
        )
        .unwrap();
        let payload = Bytes::from(encode(batch.schema(), std::slice::from_ref(&batch)).unwrap());
        let reader = ParquetRecordBatchReaderBuilder::try_new(payload.clone()).unwrap();
        let group = reader.metadata().row_group(0);
        let dictionary: Vec<bool> = group
            .columns()
            .iter()
            .map(|c| c.dictionary_page_offset().is_some())
            .collect();
        // id (unique), cat (a dictionary), ts (unique), text (unique), few (ten values)
        assert_eq!(dictionary, [false, true, false, false, true]);
        let delta: Vec<bool> = group
            .columns()
            .iter()
            .map(|c| c.encodings().any(|e| e == Encoding::DELTA_BINARY_PACKED))
            .collect();
        assert_eq!(delta, [true, false, true, false, false]);
        let (schema, batches) = decode(payload).unwrap();
        assert_eq!(
            arrow_select_concat(&schema, &batches),
            batch.with_schema(schema).unwrap()
        );
    }

    #[test]
    fn dictionaries_are_judged_across_batches_and_for_floats() {
        let labels: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..5_000).map(|i| ["a", "b", "c"][i % 3]),
        ));
        let ratings: ArrayRef = Arc::new(arrow_array::Float64Array::from_iter_values(
            (0..5_000).map(|i| f64::from(i % 5)),
        ));
        let batch = RecordBatch::try_from_iter([("label", labels), ("rating", ratings)]).unwrap();
        // a tiny first batch, as concatenated tables and polars chunks often have
        let parts = [batch.slice(0, 1), batch.slice(1, 4_999)];
        let payload = Bytes::from(encode(batch.schema(), &parts).unwrap());
        let reader = ParquetRecordBatchReaderBuilder::try_new(payload).unwrap();
        let group = reader.metadata().row_group(0);
        assert!(
            group
                .columns()
                .iter()
                .all(|c| c.dictionary_page_offset().is_some())
        );
    }

    #[test]
    fn zero_columns_keep_their_row_count() {
        let schema = Arc::new(Schema::new_with_metadata(
            Vec::<Field>::new(),
            [("k".to_owned(), "v".to_owned())].into(),
        ));
        let options = RecordBatchOptions::new().with_row_count(Some(3));
        let batch = RecordBatch::try_new_with_options(schema.clone(), vec![], &options).unwrap();
        let (schema, batches) = decode(Bytes::from(encode(schema, &[batch]).unwrap())).unwrap();
        assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 3);
        assert_eq!(schema.metadata().get("k").map(String::as_str), Some("v"));
        assert!(!schema.metadata().contains_key(ZERO_COLUMN_ROWS));
    }

    #[test]
    fn empty_frames_keep_their_schema() {
        let batch = sample(0);
        let (schema, batches) = decode(Bytes::from(encode(batch.schema(), &[]).unwrap())).unwrap();
        assert_eq!(schema.fields().len(), 4);
        assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode(Bytes::from_static(b"PAR1 definitely not parquet PAR1")).is_err());
    }

    fn arrow_select_concat(schema: &SchemaRef, batches: &[RecordBatch]) -> RecordBatch {
        let columns = (0..schema.fields().len())
            .map(|i| {
                let parts: Vec<&dyn arrow_array::Array> =
                    batches.iter().map(|b| b.column(i).as_ref()).collect();
                arrow_select::concat::concat(&parts).unwrap()
            })
            .collect();
        RecordBatch::try_new(schema.clone(), columns).unwrap()
    }
}
