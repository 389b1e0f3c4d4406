//! Uploads in parts: a payload too large for one PUT, or a stream whose size is not known
//! in advance, as one multipart upload aborted if anything fails or the put is abandoned.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt, stream};

use super::S3Store;
use crate::{Chunks, Listed, Result, StoreError};

/// The most parts S3 takes in one multipart upload.
const MAX_PARTS: i32 = 10_000;

/// Aborts a multipart upload when dropped before it ended, on the runtime, best effort.
struct AbortOnDrop {
    client: Client,
    bucket: String,
    key: String,
    upload_id: Option<String>,
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let (Some(upload_id), Ok(runtime)) =
            (self.upload_id.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let abort = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id);
        runtime.spawn(async move {
            let _ = abort.send().await;
        });
    }
}

/// The size of part `index` (from 0) of a stream whose size is not known in advance: parts
/// double every 1,000 (up to S3's 5 GiB), so that 10,000 parts hold ~13 TiB from 16 MiB.
fn grown_part_size(first: usize, index: usize) -> usize {
    const MAX_PART: usize = 5 << 30; // S3's largest part
    first
        .saturating_mul(1 << (index / 1000).min(20))
        .min(MAX_PART)
}

/// `chunks` regrouped into parts of `first` bytes (growing past 1,000 parts, see
/// [`grown_part_size`]), the last one shorter.
pub(super) fn parts_of(chunks: Chunks<'_>, first: usize) -> Chunks<'_> {
    let parts = stream::try_unfold(
        (chunks, BytesMut::new(), false, 0usize),
        move |(mut chunks, mut buffer, mut ended, made)| async move {
            let size = grown_part_size(first, made);
            while !ended && buffer.len() < size {
                match chunks.try_next().await? {
                    Some(chunk) => buffer.extend_from_slice(&chunk),
                    None => ended = true,
                }
            }
            if buffer.is_empty() {
                return Ok(None);
            }
            let part = buffer.split_to(size.min(buffer.len())).freeze();
            Ok(Some((part, (chunks, buffer, ended, made + 1))))
        },
    );
    Box::pin(parts)
}

impl S3Store {
    pub(super) async fn put_multipart(&self, path: &str, key: &str, data: Bytes) -> Result<()> {
        let part_size = self.part_size_for(data.len());
        let parts = (0..data.len().div_ceil(part_size))
            .map(move |i| Ok(data.slice(i * part_size..((i + 1) * part_size).min(data.len()))));
        self.upload_parts(path, key, Box::pin(stream::iter(parts)))
            .await
    }

    /// Uploads `parts` (each but the last at least S3's minimum part size) as one multipart
    /// upload, `concurrency` of them in flight; the upload is aborted if anything fails.
    pub(super) async fn upload_parts(
        &self,
        path: &str,
        key: &str,
        parts: Chunks<'_>,
    ) -> Result<()> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| self.error("create multipart upload", path, e))?;
        let upload_id = created.upload_id().unwrap_or_default().to_owned();
        // A put abandoned mid-way (a signal cancelled it) aborts its upload on the way out.
        let mut abandoned = AbortOnDrop {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            upload_id: Some(upload_id.clone()),
        };

        let uploads = parts.enumerate().map(|(i, part)| {
            let upload_id = upload_id.clone();
            async move {
                let number = i32::try_from(i + 1)
                    .ok()
                    .filter(|n| *n <= MAX_PARTS)
                    .ok_or_else(|| StoreError::S3 {
                        op: "upload part",
                        path: path.to_owned(),
                        url: self.url.clone(),
                        message: format!("more than S3's {MAX_PARTS} parts"),
                        hint: " (raise SLIPSTREAM_S3_PART_SIZE_MB)".into(),
                    })?;
                let part = part?;
                let size = part.len();
                let done = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .body(ByteStream::from(part))
                    .customize()
                    .config_override(self.uploading(size))
                    .send()
                    .await
                    .map_err(|e| self.error("upload part", path, e))?;
                Ok::<_, StoreError>(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(done.e_tag().map(str::to_owned))
                        .build(),
                )
            }
        });
        let uploaded: Result<Vec<CompletedPart>> = uploads
            .buffered(self.tuning.concurrency)
            .try_collect()
            .await;
        let completed = match uploaded {
            Ok(parts) => self
                .client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.error("complete multipart upload", path, e)),
            Err(e) => Err(e),
        };
        abandoned.upload_id = None;
        if completed.is_err() {
            // Best effort: an abandoned upload only costs storage until a lifecycle rule runs.
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        completed
    }

    /// S3 allows at most 10,000 parts: grow parts for very large payloads.
    fn part_size_for(&self, len: usize) -> usize {
        self.tuning.part_size.max(len.div_ceil(MAX_PARTS as usize))
    }
}

impl S3Store {
    /// `ObjectStore::leftovers`: the multipart uploads under `prefix` begun before
    /// `before`, with the bytes of their parts; aborted too when `remove`.
    pub(super) async fn open_uploads(
        &self,
        prefix: &str,
        before: std::time::SystemTime,
        remove: bool,
    ) -> Result<Vec<Listed>> {
        let full = match (self.prefix.is_empty(), prefix.trim_matches('/')) {
            (true, p) => p.to_owned(),
            (false, "") => format!("{}/", self.prefix),
            (false, p) => format!("{}/{p}", self.prefix),
        };
        let mut found = vec![];
        let (mut key_marker, mut id_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(&full)
                .set_key_marker(key_marker.clone())
                .set_upload_id_marker(id_marker.clone())
                .send()
                .await
                .map_err(|e| self.error("list multipart uploads", prefix, e))?;
            for upload in page.uploads() {
                let initiated = upload
                    .initiated()
                    .and_then(|at| std::time::SystemTime::try_from(*at).ok());
                let stale = initiated.is_some_and(|at| at < before);
                let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) else {
                    continue;
                };
                if !stale {
                    continue;
                }
                // Best effort: a server whose part listing cannot be read counts the upload as 0.
                let size = self.upload_size(key, id).await.unwrap_or(0);
                if remove {
                    let _ = self
                        .client
                        .abort_multipart_upload()
                        .bucket(&self.bucket)
                        .key(key)
                        .upload_id(id)
                        .send()
                        .await;
                }
                let strip = if self.prefix.is_empty() {
                    0
                } else {
                    self.prefix.len() + 1
                };
                found.push(Listed {
                    path: format!("{} (open multipart upload)", &key[strip.min(key.len())..]),
                    size,
                    modified: initiated,
                });
            }
            if !page.is_truncated().unwrap_or(false) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            id_marker = page.next_upload_id_marker().map(str::to_owned);
        }
        Ok(found)
    }

    /// The bytes the parts of an open multipart upload hold.
    async fn upload_size(&self, key: &str, upload_id: &str) -> Result<u64> {
        let mut size = 0u64;
        let mut marker = None::<String>;
        loop {
            let page = self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .set_part_number_marker(marker.clone())
                .send()
                .await
                .map_err(|e| self.error("list parts", key, e))?;
            size += page
                .parts()
                .iter()
                .map(|p| u64::try_from(p.size().unwrap_or(0)).unwrap_or(0))
                .sum::<u64>();
            if !page.is_truncated().unwrap_or(false) {
                return Ok(size);
            }
            marker = page.next_part_number_marker().map(str::to_owned);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regroup(chunks: &[&'static [u8]], size: usize) -> Vec<Bytes> {
        let chunks = stream::iter(chunks.iter().map(|c| Ok(Bytes::from_static(c))));
        futures::executor::block_on(parts_of(Box::pin(chunks), size).try_collect()).unwrap()
    }

    #[test]
    fn parts_grow_so_that_ten_thousand_hold_any_stream() {
        assert_eq!(grown_part_size(16, 0), 16);
        assert_eq!(grown_part_size(16, 999), 16);
        assert_eq!(grown_part_size(16, 1000), 32);
        assert_eq!(grown_part_size(16 << 20, 9_999), 5 << 30);
        let held: usize = (0..10_000).map(|i| grown_part_size(16 << 20, i)).sum();
        assert!(held > 12 << 40, "{held}"); // ~13 TiB
    }

    #[test]
    fn parts_are_cut_at_the_part_size_whatever_the_chunks() {
        assert_eq!(
            regroup(&[b"ab", b"cdefg", b"h"], 3),
            [&b"abc"[..], b"def", b"gh"]
        );
        assert_eq!(regroup(&[b"abcdef"], 3), [&b"abc"[..], b"def"]);
        assert_eq!(regroup(&[b"", b"a", b""], 3), [&b"a"[..]]);
        assert!(regroup(&[], 3).is_empty());
    }

    #[test]
    fn an_error_in_the_chunks_is_an_error_of_the_parts() {
        let chunks = stream::iter([
            Ok(Bytes::from_static(b"abcd")),
            Err(StoreError::Interrupted { reason: "x".into() }),
        ]);
        let got: Result<Vec<Bytes>> =
            futures::executor::block_on(parts_of(Box::pin(chunks), 3).try_collect());
        assert!(matches!(got, Err(StoreError::Interrupted { .. })));
    }
}
