//! Reading objects: one GET of the first part, which is the whole of a small object and
//! tells the size and version of a large one, whose other parts follow by ranges in
//! parallel; a body cut off mid-way is resumed from its first missing byte.

use std::time::Duration;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};

use super::S3Store;
use crate::{Result, StoreError};

impl S3Store {
    /// Size and entity tag of the object, or [`StoreError::NotFound`].
    pub(super) async fn size_and_etag(
        &self,
        path: &str,
        key: &str,
    ) -> Result<(usize, Option<String>)> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match head {
            Ok(head) => Ok((
                head.content_length().unwrap_or(0).max(0) as usize,
                head.e_tag().map(str::to_owned),
            )),
            Err(e) if is_not_found(&e) => Err(StoreError::NotFound {
                path: path.to_owned(),
            }),
            Err(e) => Err(self.error("head", path, e)),
        }
    }

    /// The whole object, starting with one GET of its first part: an object no larger than
    /// a part (every record, manifest and small artifact) costs that one request; a larger
    /// one tells its size and version (ETag) there, and its other parts follow by ranges
    /// of that version, `concurrency` of them in flight while the first body arrives.
    pub(super) async fn get_by_parts(&self, path: &str, key: &str) -> Result<Bytes> {
        let part = self.tuning.part_size;
        let resp = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", part - 1))
            .send()
            .await;
        let resp = match resp {
            Ok(resp) => resp,
            Err(e) if is_not_found(&e) => {
                return Err(StoreError::NotFound {
                    path: path.to_owned(),
                });
            }
            // An empty object has no byte 0 to send.
            Err(e) if is_unsatisfiable(&e) => {
                return match self.size_and_etag(path, key).await? {
                    (0, _) => Ok(Bytes::new()),
                    _ => Err(self.error("get", path, e)),
                };
            }
            Err(e) => return Err(self.error("get", path, e)),
        };
        // `bytes 0-END/SIZE`; a server that ignores the range sends everything, unlabelled.
        let (sent, size) = match (resp.content_range(), resp.content_length()) {
            (Some(range), _) => match parse_content_range(range) {
                Some((0, end, size)) if end < size => (end + 1, size),
                _ => return Err(self.stream_error(path, format!("Content-Range {range:?}"))),
            },
            (None, Some(length)) => (length.max(0) as usize, length.max(0) as usize),
            (None, None) => {
                let message = "an answer without Content-Range or Content-Length".to_owned();
                return Err(self.stream_error(path, message));
            }
        };
        let etag = resp.e_tag().map(str::to_owned);
        let mut buf = vec![0u8; size];
        let (first, rest) = buf.split_at_mut(sent);
        let first_part = async {
            let mut filled = 0;
            match self.read_body(path, resp.body, 0, first, &mut filled).await {
                Ok(()) => Ok(()),
                // resumable: the size and the version of what was being read are known
                Err(Cut(_)) if etag.is_some() && filled < first.len() => {
                    let (start, slot) = (filled, &mut first[filled..]);
                    self.fetch_range(path, key, start, slot, etag.clone()).await
                }
                Err(Cut(e) | Failed(e)) => Err(e),
            }
        };
        // The rest, from where the first answer stopped (a server may send less than asked).
        let fetches: Vec<_> = rest
            .chunks_mut(part)
            .enumerate()
            .map(|(i, slot)| self.fetch_range(path, key, sent + i * part, slot, etag.clone()))
            .collect();
        let others = stream::iter(fetches)
            .buffer_unordered(self.tuning.concurrency)
            .try_for_each(|()| async { Ok(()) });
        futures::try_join!(first_part, others)?;
        Ok(Bytes::from(buf))
    }

    /// The next piece of a body; one that does not come within the timeout is a cut.
    async fn next_chunk(&self, path: &str, body: &mut ByteStream) -> Result<Option<Bytes>> {
        match tokio::time::timeout(self.tuning.timeout, body.try_next()).await {
            Ok(Ok(piece)) => Ok(piece),
            Ok(Err(e)) => Err(self.stream_error(path, e.to_string())),
            Err(_) => Err(self.stream_error(
                path,
                format!("no data for {} s", self.tuning.timeout.as_secs()),
            )),
        }
    }

    /// Downloads `slot.len()` bytes from `start` straight into `slot`. A body cut off
    /// mid-way (a reset, a truncated answer) is resumed from the first byte missing, within
    /// the same budget of attempts as the SDK gives throttling and 5xx answers.
    pub(super) async fn fetch_range(
        &self,
        path: &str,
        key: &str,
        start: usize,
        slot: &mut [u8],
        etag: Option<String>,
    ) -> Result<()> {
        let mut filled = 0;
        let mut attempt = 1;
        while filled < slot.len() {
            match self
                .fetch_rest(path, key, start, slot, &mut filled, etag.clone())
                .await
            {
                Ok(()) => {}
                // all bytes arrived, then the body failed (its checksum, say): not data
                Err(Cut(e)) if filled == slot.len() => return Err(e),
                Err(Cut(e)) if attempt < self.tuning.max_attempts => {
                    tracing::debug!(path, filled, attempt, "resuming a download cut off: {e}");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                Err(Cut(e) | Failed(e)) => return Err(e),
            }
        }
        Ok(())
    }

    /// One request for the bytes of `slot` from `filled` on; `filled` counts what arrived.
    async fn fetch_rest(
        &self,
        path: &str,
        key: &str,
        start: usize,
        slot: &mut [u8],
        filled: &mut usize,
        etag: Option<String>,
    ) -> std::result::Result<(), Interruption> {
        let end = start + slot.len() - 1;
        let resp = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes={}-{end}", start + *filled))
            // Every range must come from the same object, even if it is replaced meanwhile.
            .set_if_match(etag)
            .send()
            .await
            .map_err(|e| {
                if is_not_found(&e) {
                    Failed(StoreError::NotFound {
                        path: path.to_owned(),
                    })
                } else {
                    Failed(self.error("get", path, e))
                }
            })?;
        self.read_body(path, resp.body, start, slot, filled).await
    }

    /// Reads a body (of the bytes from `start` on) into `slot` from `filled` on, counting
    /// in `filled` what arrived; a body that ends before `slot` is full is a cut, one that
    /// overflows it a failure.
    async fn read_body(
        &self,
        path: &str,
        mut body: ByteStream,
        start: usize,
        slot: &mut [u8],
        filled: &mut usize,
    ) -> std::result::Result<(), Interruption> {
        while let Some(bytes) = self.next_chunk(path, &mut body).await.map_err(Cut)? {
            let to = *filled + bytes.len();
            if to > slot.len() {
                return Err(Failed(self.stream_error(
                    path,
                    "the server sent more bytes than asked".into(),
                )));
            }
            slot[*filled..to].copy_from_slice(&bytes);
            *filled = to;
        }
        if *filled != slot.len() {
            let end = start + slot.len() - 1;
            return Err(Cut(self.stream_error(
                path,
                format!("range {start}-{end} ended early, at {}", start + *filled),
            )));
        }
        Ok(())
    }

    fn stream_error(&self, path: &str, message: String) -> StoreError {
        StoreError::S3 {
            op: "get",
            path: path.to_owned(),
            url: self.url.clone(),
            message,
            hint: " (the download was interrupted; it is safe to retry)".to_owned(),
        }
    }
}

/// Why a range request stopped: cut off mid-body (resumable), or failed outright.
enum Interruption {
    Cut(StoreError),
    Failed(StoreError),
}
use Interruption::{Cut, Failed};

/// `(start, end, size)` of `bytes START-END/SIZE`.
fn parse_content_range(range: &str) -> Option<(usize, usize, usize)> {
    let (span, size) = range.strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = span.split_once('-')?;
    Some((start.parse().ok()?, end.parse().ok()?, size.parse().ok()?))
}

/// A range the object cannot satisfy (416): its first byte is past the end.
fn is_unsatisfiable<E: ProvideErrorMetadata>(
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> bool {
    err.code() == Some("InvalidRange")
        || err
            .raw_response()
            .is_some_and(|r| r.status().as_u16() == 416)
}

fn is_not_found<E: ProvideErrorMetadata>(
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> bool {
    matches!(err.code(), Some("NoSuchKey" | "NotFound"))
        || err
            .raw_response()
            .is_some_and(|r| r.status().as_u16() == 404)
}
