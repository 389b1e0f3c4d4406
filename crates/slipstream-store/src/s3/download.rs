//! Reading objects: whole for small ones, by ranges in parallel for large ones, a body cut
//! off mid-way resumed from its first missing byte.

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

    pub(super) async fn get_ranged(
        &self,
        path: &str,
        key: &str,
        size: usize,
        etag: Option<String>,
    ) -> Result<Bytes> {
        let mut buf = vec![0u8; size];
        let chunk = self.tuning.part_size;
        let fetches: Vec<_> = buf
            .chunks_mut(chunk)
            .enumerate()
            .map(|(i, slot)| self.fetch_range(path, key, i * chunk, slot, etag.clone()))
            .collect();
        stream::iter(fetches)
            .buffer_unordered(self.tuning.concurrency)
            .try_for_each(|()| async { Ok(()) })
            .await?;
        Ok(Bytes::from(buf))
    }

    /// A small object in one request, without a precondition (records are rewritten in
    /// place); a body cut off mid-way is resumed with ranges of the same version (ETag).
    pub(super) async fn get_whole(&self, path: &str, key: &str) -> Result<Bytes> {
        let resp = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                if is_not_found(&e) {
                    StoreError::NotFound {
                        path: path.to_owned(),
                    }
                } else {
                    self.error("get", path, e)
                }
            })?;
        let size = resp.content_length().unwrap_or(0).max(0) as usize;
        let etag = resp.e_tag().map(str::to_owned);
        let mut buf = Vec::with_capacity(size);
        let mut body = resp.body;
        loop {
            let cut = match self.next_chunk(path, &mut body).await {
                Ok(Some(bytes)) => {
                    buf.extend_from_slice(&bytes);
                    continue;
                }
                Ok(None) if buf.len() >= size => return Ok(Bytes::from(buf)),
                Ok(None) => self.stream_error(path, format!("ended early, at {}", buf.len())),
                Err(e) => e,
            };
            // resumable: the size and the version (ETag) of what was being read are known
            if etag.is_some() && size > buf.len() {
                break;
            }
            return Err(cut);
        }
        // Cut off: the rest of this same version, by range.
        let start = buf.len();
        buf.resize(size, 0);
        self.fetch_range(path, key, start, &mut buf[start..], etag)
            .await?;
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
        let mut body = resp.body;
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

fn is_not_found<E: ProvideErrorMetadata>(
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> bool {
    matches!(err.code(), Some("NoSuchKey" | "NotFound"))
        || err
            .raw_response()
            .is_some_and(|r| r.status().as_u16() == 404)
}
