//! Writes a frame into Parquet as its batches arrive, in bounded memory: batches wait until
//! a wave of row groups (one per core) is full or they hold `MAX_PENDING_BYTES`, the wave
//! is encoded on all cores, and its row groups are appended to the sink in order. The Arrow
//! schema is embedded when the file closes, once every dictionary value is known.

use std::io::Write;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowRowGroupWriterFactory, ArrowWriterOptions, compute_leaves,
};
use parquet::arrow::{ARROW_SCHEMA_META_KEY, ArrowWriter, encode_arrow_schema};
use parquet::file::metadata::KeyValue;
use parquet::file::writer::SerializedFileWriter;

use super::{MAX_WORKERS, ROW_GROUP_ROWS, ZERO_COLUMN_ROWS, columns, in_parallel};
use crate::{CodecError, Result, dictionary};

/// Memory pending batches may hold before they are encoded, whatever their row count.
const MAX_PENDING_BYTES: usize = 256 * 1024 * 1024;

/// A Parquet file being written to `W`, batch by batch.
pub struct FrameWriter<W: Write + Send> {
    recorder: dictionary::Recorder,
    workers: usize,
    /// Prepared batches not yet encoded: less than a wave's rows between calls.
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    /// Memory the pending batches hold (slices count their whole buffers: an upper bound).
    pending_bytes: usize,
    rows: u64,
    /// Row groups appended so far.
    groups: usize,
    /// The sink until the first wave decides the writer's settings, then the file.
    sink: Option<W>,
    file: Option<(SerializedFileWriter<W>, ArrowRowGroupWriterFactory)>,
}

impl<W: Write + Send> FrameWriter<W> {
    /// A writer of batches sharing `schema`; nothing reaches `sink` before the first wave.
    pub fn new(schema: &SchemaRef, sink: W) -> Self {
        Self {
            recorder: dictionary::Recorder::new(schema),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_WORKERS)),
            pending: vec![],
            pending_rows: 0,
            pending_bytes: 0,
            rows: 0,
            groups: 0,
            sink: Some(sink),
            file: None,
        }
    }

    /// Adds a batch; encodes a wave of row groups once enough rows wait.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        if self.recorder.stored().fields().is_empty() {
            return Ok(()); // no columns to write: only the row count is kept
        }
        let prepared = self.recorder.prepare(batch)?;
        if prepared.num_rows() > 0 {
            self.pending_rows += prepared.num_rows();
            self.pending_bytes += prepared.get_array_memory_size();
            self.pending.push(prepared);
        }
        if self.pending_bytes >= MAX_PENDING_BYTES {
            self.flush(true)?; // wide rows: shorter row groups rather than unbounded memory
        } else if self.pending_rows >= ROW_GROUP_ROWS * self.workers {
            self.flush(false)?;
        }
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Encodes what waits, embeds the schema, writes the footer and returns the sink.
    pub fn finish(mut self) -> Result<W> {
        self.flush(true)?;
        let (mut file, _) = self.file.take().expect("flush opens the file");
        let mut schema = self.recorder.finish();
        if schema.fields().is_empty() {
            let mut metadata = schema.metadata().clone();
            metadata.insert(ZERO_COLUMN_ROWS.to_owned(), self.rows.to_string());
            schema = Schema::new_with_metadata(schema.fields().clone(), metadata);
        }
        file.append_key_value_metadata(KeyValue::new(
            ARROW_SCHEMA_META_KEY.to_owned(),
            encode_arrow_schema(&schema),
        ));
        Ok(file.into_inner()?)
    }

    /// Encodes the pending batches' whole row groups, and the last partial one if `all`.
    fn flush(&mut self, all: bool) -> Result<()> {
        if self.file.is_none() {
            self.open()?;
        }
        let mut groups = row_groups(&std::mem::take(&mut self.pending), ROW_GROUP_ROWS);
        (self.pending_rows, self.pending_bytes) = (0, 0);
        if !all && let Some(last) = groups.pop_if(|g| rows_of(g) < ROW_GROUP_ROWS) {
            self.pending_rows = rows_of(&last);
            self.pending_bytes = last.iter().map(RecordBatch::get_array_memory_size).sum();
            self.pending = last;
        }
        let (file, factory) = self.file.as_mut().expect("opened above");
        let schema = self.recorder.stored();
        for chunk in groups.chunks(self.workers) {
            let first = self.groups;
            let encoded = in_parallel(chunk, |i, group| {
                encode_row_group(factory, schema, first + i, group)
            });
            for columns in encoded {
                let mut row_group = file.next_row_group()?;
                for column in columns? {
                    column.append_to_row_group(&mut row_group)?;
                }
                row_group.close()?;
                self.groups += 1;
            }
        }
        Ok(())
    }

    /// Starts the file, with settings judged on the first wave's batches.
    fn open(&mut self) -> Result<()> {
        let sink = self.sink.take().expect("the file is opened once");
        let schema = self.recorder.stored().clone();
        let options = ArrowWriterOptions::new()
            .with_properties(columns::properties(&schema, &self.pending))
            .with_skip_arrow_metadata(true);
        // The ArrowWriter derives the Parquet schema; its parts then write the row groups.
        let writer = ArrowWriter::try_new_with_options(sink, schema, options)?;
        self.file = Some(writer.into_serialized_writer()?);
        Ok(())
    }
}

fn rows_of(group: &[RecordBatch]) -> usize {
    group.iter().map(RecordBatch::num_rows).sum()
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
                return Err(CodecError::Invalid(
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
