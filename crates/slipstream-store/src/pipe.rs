//! A bridge from a blocking writer (an encoder on a thread of its own) to the chunk stream
//! [`ObjectStore::put_stream`](crate::ObjectStore::put_stream) uploads, with a bounded number
//! of chunks between them: the writer waits while the upload is behind.

use std::io::{self, Write};

use bytes::{Bytes, BytesMut};
use futures::stream;
use tokio::sync::mpsc;

use crate::{Chunks, StoreError};

/// The writing end. Bytes are sent in chunks of the pipe's chunk size. [`PipeWriter::finish`]
/// ends the stream; dropped without it (the writer failed or panicked), the stream ends with
/// an error instead, so that the store never keeps what was written as a whole object.
pub struct PipeWriter {
    tx: Option<mpsc::Sender<Result<Bytes, StoreError>>>,
    buffer: BytesMut,
    chunk: usize,
}

/// A pipe whose stream holds at most `depth` chunks of `chunk` bytes waiting.
pub fn pipe(chunk: usize, depth: usize) -> (PipeWriter, Chunks<'static>) {
    let (tx, rx) = mpsc::channel(depth.max(1));
    let writer = PipeWriter {
        tx: Some(tx),
        buffer: BytesMut::with_capacity(chunk),
        chunk: chunk.max(1),
    };
    let chunks = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    (writer, Box::pin(chunks))
}

impl PipeWriter {
    fn send(&mut self, item: Result<Bytes, StoreError>) -> io::Result<()> {
        let tx = self
            .tx
            .as_ref()
            .ok_or_else(|| closed("the pipe is finished"))?;
        tx.blocking_send(item)
            .map_err(|_| closed("the upload stopped before the payload was written"))
    }

    /// Sends what is buffered and ends the stream without an error.
    pub fn finish(mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            let rest = self.buffer.split().freeze();
            self.send(Ok(rest))?;
        }
        self.tx = None;
        Ok(())
    }
}

impl Write for PipeWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.chunk - self.buffer.len();
        let taken = data.len().min(room);
        self.buffer.extend_from_slice(&data[..taken]);
        if self.buffer.len() == self.chunk {
            let full = self.buffer.split().freeze();
            self.buffer.reserve(self.chunk);
            self.send(Ok(full))?;
        }
        Ok(taken)
    }

    /// Chunks are sent when full: a flush does not cut a short one.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        if self.tx.is_some() {
            let _ = self.send(Err(StoreError::Interrupted {
                reason: "its writer stopped before the end".into(),
            }));
        }
    }
}

fn closed(reason: &str) -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, reason)
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    use super::*;

    fn collect(chunks: Chunks<'static>) -> Result<Vec<Bytes>, StoreError> {
        futures::executor::block_on(chunks.try_collect())
    }

    #[test]
    fn bytes_arrive_in_whole_chunks_and_in_order() {
        let (mut writer, chunks) = pipe(4, 8);
        let reader = std::thread::spawn(move || collect(chunks));
        writer.write_all(b"abcdefghij").unwrap();
        writer.finish().unwrap();
        let got = reader.join().unwrap().unwrap();
        assert_eq!(got, [&b"abcd"[..], b"efgh", b"ij"]);
    }

    #[test]
    fn a_writer_dropped_before_finish_ends_the_stream_with_an_error() {
        let (mut writer, chunks) = pipe(4, 8);
        let reader = std::thread::spawn(move || collect(chunks));
        writer.write_all(b"abcdef").unwrap();
        drop(writer);
        let err = reader.join().unwrap().unwrap_err();
        assert!(err.to_string().contains("stopped before the end"), "{err}");
    }

    #[test]
    fn the_writer_fails_once_the_reading_side_is_gone() {
        let (mut writer, chunks) = pipe(4, 1);
        drop(chunks);
        let err = writer.write_all(b"abcdefghijkl").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
