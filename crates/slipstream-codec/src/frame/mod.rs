//! Frames as Parquet through arrow-rs. The Arrow schema (with its metadata, e.g. pandas'
//! index and categorical information) is embedded in the file, so that types such as
//! dictionaries, time zones and nested lists/structs come back exactly.

mod columns;
mod writer;

use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::{Result, dictionary};

pub use writer::FrameWriter;

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

/// The first column (by name, at any depth of lists, maps and structs) of a type Parquet
/// cannot store, with its type and what to do instead: refused before any writing, so that
/// no writer meets it (arrow's Parquet writer panics on unions).
pub fn unstorable(schema: &Schema) -> Option<(String, String, &'static str)> {
    schema.fields().iter().find_map(|field| {
        unstorable_type(field.data_type())
            .map(|why| (field.name().clone(), field.data_type().to_string(), why))
    })
}

fn unstorable_type(data_type: &arrow_schema::DataType) -> Option<&'static str> {
    use arrow_schema::{DataType, IntervalUnit};
    match data_type {
        DataType::Union(..) => Some(
            "union columns cannot be stored in Parquet: split it into one column per type, \
             or cast it to a struct",
        ),
        DataType::Interval(IntervalUnit::MonthDayNano) => Some(
            "month-day-nanosecond intervals cannot be stored in Parquet: store months, days \
             and nanoseconds as three integer columns, or cast to a duration",
        ),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => unstorable_type(f.data_type()),
        DataType::Struct(fields) if fields.is_empty() => Some(
            "structs with no fields cannot be stored in Parquet: drop the column, or give \
             the struct a field",
        ),
        DataType::Struct(fields) => fields.iter().find_map(|f| unstorable_type(f.data_type())),
        DataType::Dictionary(_, value) => unstorable_type(value),
        DataType::RunEndEncoded(_, values) => unstorable_type(values.data_type()),
        _ => None,
    }
}

/// Encodes batches sharing `schema` into one Parquet file in memory (see [`FrameWriter`]).
pub fn encode(schema: SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let mut writer = FrameWriter::new(&schema, Vec::new());
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()
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
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int8Type;
    use arrow_array::{
        ArrayRef, DictionaryArray, Int64Array, StringArray, TimestampMicrosecondArray,
    };
    use arrow_schema::{DataType, Field, TimeUnit};
    use parquet::basic::Encoding;

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
    fn written_batch_by_batch_dictionaries_are_recorded_at_close() {
        use arrow_array::StringViewArray;
        // More rows than one wave of row groups, so that categories first seen after the
        // first wave is encoded must still be recorded, in first-seen order.
        let rows = ROW_GROUP_ROWS * MAX_WORKERS + 10;
        let labels = |from: usize, names: &[&'static str]| -> ArrayRef {
            let keys = arrow_array::Int8Array::from_iter_values(
                (from..from + 1000).map(|i| (i % names.len()) as i8),
            );
            let values = StringViewArray::from_iter_values(names.iter().copied());
            Arc::new(DictionaryArray::try_new(keys, Arc::new(values)).unwrap())
        };
        let batch = |from: usize, names: &[&'static str]| {
            RecordBatch::try_from_iter([("label", labels(from, names))]).unwrap()
        };
        let first = batch(0, &["b", "a"]);
        let mut writer = FrameWriter::new(&first.schema(), Vec::new());
        let mut written = 0;
        while written < rows {
            writer.write(&batch(written, &["b", "a"])).unwrap();
            written += 1000;
        }
        writer.write(&batch(written, &["c", "a"])).unwrap();
        assert_eq!(writer.rows(), (written + 1000) as u64);
        let payload = Bytes::from(writer.finish().unwrap());
        let groups = ParquetRecordBatchReaderBuilder::try_new(payload.clone())
            .unwrap()
            .metadata()
            .num_row_groups();
        assert!(groups > MAX_WORKERS, "{groups} row groups");
        let (schema, batches) = decode(payload).unwrap();
        assert_eq!(
            schema.field(0).data_type(),
            &DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8View))
        );
        let last = batches.last().unwrap().column(0).as_any_dictionary();
        let values = arrow_cast::cast(last.values(), &DataType::Utf8).unwrap();
        let values: Vec<_> = values.as_string::<i32>().iter().flatten().collect();
        assert_eq!(values, ["b", "a", "c"]);
        let text = arrow_cast::cast(batches.last().unwrap().column(0), &DataType::Utf8).unwrap();
        let text = text.as_string::<i32>();
        assert_eq!(
            (text.value(text.len() - 2), text.value(text.len() - 1)),
            ("c", "a")
        );
    }

    #[test]
    fn categories_of_many_batches_widen_keys_that_cannot_hold_them() {
        // A stream's chunks, each with a dictionary of its own: 200 labels in all, more than
        // the int8 keys of any one chunk hold.
        let chunk = |from: usize| {
            let values = StringArray::from_iter_values((from..from + 100).map(|i| format!("l{i}")));
            let keys = arrow_array::Int8Array::from_iter_values(0..100);
            let labels: ArrayRef =
                Arc::new(DictionaryArray::try_new(keys, Arc::new(values)).unwrap());
            RecordBatch::try_from_iter([("label", labels)]).unwrap()
        };
        let (first, second) = (chunk(0), chunk(100));
        let payload = encode(first.schema(), &[first, second]).unwrap();
        let (schema, batches) = decode(Bytes::from(payload)).unwrap();
        assert_eq!(
            schema.field(0).data_type(),
            &DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Utf8))
        );
        let text = arrow_cast::cast(
            &arrow_select_concat(&schema, &batches).column(0).clone(),
            &DataType::Utf8,
        )
        .unwrap();
        let text: Vec<_> = text
            .as_string::<i32>()
            .iter()
            .flatten()
            .map(str::to_owned)
            .collect();
        assert_eq!(text, (0..200).map(|i| format!("l{i}")).collect::<Vec<_>>());
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
