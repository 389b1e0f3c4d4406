//! Writer settings chosen per column from a frame's first values: a dictionary only where
//! values repeat, delta encoding for integer-like columns without one.

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema};
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::ROW_GROUP_ROWS;

/// The writer's properties for `schema`, judged on `first`, the frame's first batches.
pub(super) fn properties(schema: &Schema, first: &[RecordBatch]) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for (i, field) in schema.fields().iter().enumerate() {
        if dictionary_pays(first.iter().map(|b| b.column(i))) == Some(false) {
            let path = ColumnPath::new(vec![field.name().clone()]);
            props = props.set_column_dictionary_enabled(path.clone(), false);
            if is_integer_like(field.data_type()) {
                // ids, counters and event times are mostly ordered: their deltas pack
                // into a few bits (a 1-second timestamp column shrinks ~20-fold).
                props = props.set_column_encoding(path, Encoding::DELTA_BINARY_PACKED);
            }
        }
    }
    props.build()
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
