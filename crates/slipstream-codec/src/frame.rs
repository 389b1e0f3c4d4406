//! Frames as Parquet through arrow-rs. The Arrow schema (with its metadata, e.g. pandas'
//! index and categorical information) is embedded in the file, so that types such as
//! dictionaries, time zones and nested lists/structs come back exactly.

use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::{Result, dictionary};

/// Rows per Parquet row group; also the unit of parallel decoding.
const ROW_GROUP_ROWS: usize = 256 * 1024;

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

/// Encodes batches sharing `schema` into one Parquet file.
pub fn encode(schema: SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let (schema, batches) = dictionary::prepare(&schema, batches)?;
    let batches = &batches[..];
    let schema = if schema.fields().is_empty() {
        let mut metadata = schema.metadata().clone();
        metadata.insert(ZERO_COLUMN_ROWS.to_owned(), rows.to_string());
        Arc::new(Schema::new_with_metadata(schema.fields().clone(), metadata))
    } else {
        schema
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema.clone(), Some(props))?;
    if !schema.fields().is_empty() {
        for batch in batches {
            // Batches may carry the caller's schema metadata; write them under ours.
            let batch = batch.clone().with_schema(schema.clone())?;
            writer.write(&batch)?;
        }
    }
    writer.close()?;
    Ok(out)
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
    let decoded: Vec<Result<Vec<(usize, RecordBatch)>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|groups| {
                let payload = payload.clone();
                scope.spawn(move || -> Result<Vec<(usize, RecordBatch)>> {
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
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("Parquet decoding thread panicked"))
            .collect()
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
