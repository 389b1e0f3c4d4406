//! S3 and S3-compatible servers through aws-sdk-s3.
//!
//! Configuration follows the standard AWS environment (credential chain, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`, profiles). With an explicit endpoint (MinIO, moto, Ceph…)
//! path-style addressing is used. Throttling and 5xx answers are retried by the SDK's
//! standard retry strategy with exponential backoff.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};

use crate::{Chunks, Listed, ObjectStore, Result, StoreError, check_path};

mod conditional;
mod counter;
mod download;
mod upload;

use counter::RequestCounter;

use upload::parts_of;

/// Transfer settings; the defaults suit payloads from kilobytes to tens of gigabytes.
#[derive(Debug, Clone)]
pub struct S3Tuning {
    /// Size of multipart upload parts and of ranged download chunks (S3's minimum is 5 MiB).
    pub part_size: usize,
    /// Parts or ranges in flight at once.
    pub concurrency: usize,
    /// Attempts per request, counting the first (throttling and 5xx are retried).
    pub max_attempts: u32,
    /// How long a request waits for the server's answer to start, per attempt: a server
    /// that accepts and never answers fails the call instead of hanging it. A request that
    /// sends a body (a put, a part) gets this plus the time the body takes at `min_rate`.
    pub timeout: Duration,
    /// The slowest upload rate, in bytes per second, that counts as progress: an attempt to
    /// send `n` bytes ends after `timeout + n / min_rate`.
    pub min_rate: u64,
}

impl Default for S3Tuning {
    fn default() -> Self {
        Self {
            part_size: 16 * 1024 * 1024,
            concurrency: 8,
            max_attempts: 6,
            timeout: Duration::from_secs(30),
            min_rate: 256 * 1024,
        }
    }
}

impl S3Tuning {
    /// The longest one attempt to send `bytes` of body may take.
    pub fn upload_attempt_timeout(&self, bytes: usize) -> Duration {
        let rate = self.min_rate.max(1);
        self.timeout + Duration::from_millis((bytes as u64).saturating_mul(1000) / rate)
    }

    /// Defaults, overridden by `SLIPSTREAM_S3_PART_SIZE_MB`, `SLIPSTREAM_S3_CONCURRENCY`,
    /// `SLIPSTREAM_S3_MAX_ATTEMPTS`, `SLIPSTREAM_S3_TIMEOUT` (seconds) and
    /// `SLIPSTREAM_S3_MIN_RATE_KIB` (KiB per second) when set.
    pub fn from_env() -> Result<Self> {
        let mut tuning = Self::default();
        let read = |name: &str| -> Result<Option<usize>> {
            match std::env::var(name) {
                Ok(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| StoreError::InvalidUrl {
                        url: format!("{name}={v}"),
                        reason: "expected a positive whole number".into(),
                    }),
                Err(_) => Ok(None),
            }
        };
        if let Some(mb) = read("SLIPSTREAM_S3_PART_SIZE_MB")? {
            tuning.part_size = mb.max(5) * 1024 * 1024;
        }
        if let Some(n) = read("SLIPSTREAM_S3_CONCURRENCY")? {
            tuning.concurrency = n.max(1);
        }
        if let Some(n) = read("SLIPSTREAM_S3_MAX_ATTEMPTS")? {
            tuning.max_attempts = n.max(1) as u32;
        }
        if let Some(seconds) = read("SLIPSTREAM_S3_TIMEOUT")? {
            tuning.timeout = Duration::from_secs(seconds.max(1) as u64);
        }
        if let Some(kib) = read("SLIPSTREAM_S3_MIN_RATE_KIB")? {
            tuning.min_rate = kib.max(1) as u64 * 1024;
        }
        Ok(tuning)
    }
}

/// A bucket, or a prefix inside one.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
    url: String,
    /// Where requests go, for messages: `AWS_ENDPOINT_URL`, or AWS S3 in its region.
    endpoint: String,
    tuning: S3Tuning,
    requests: RequestCounter,
    /// Whether the server honours `If-None-Match: *` on a put, once probed.
    exclusive: Arc<tokio::sync::OnceCell<bool>>,
}

impl S3Store {
    /// The bucket key of the folder `prefix` (ending in `/`; empty for the whole bucket).
    fn folder_key(&self, prefix: &str) -> String {
        match (self.prefix.is_empty(), prefix.trim_matches('/')) {
            (true, "") => String::new(),
            (true, p) => format!("{p}/"),
            (false, "") => format!("{}/", self.prefix),
            (false, p) => format!("{}/{p}/", self.prefix),
        }
    }

    /// Opens `s3://bucket[/prefix]` with the standard AWS configuration chain.
    pub async fn open(url: &str, tuning: S3Tuning) -> Result<Self> {
        let invalid = |reason: &str| StoreError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| invalid("expected s3://bucket/prefix"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("the bucket name is missing (s3://bucket/prefix)"));
        }
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() {
            check_path(prefix).map_err(|_| invalid("the prefix has empty, '.' or '..' parts"))?;
        }

        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let retry = RetryConfig::standard()
            .with_max_attempts(tuning.max_attempts)
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_secs(10));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10).min(tuning.timeout))
            .read_timeout(tuning.timeout)
            .build();
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .retry_config(retry)
            .timeout_config(timeouts)
            .load()
            .await;
        let requests = RequestCounter::default();
        let mut config = aws_sdk_s3::config::Builder::from(&shared)
            .interceptor(requests.clone())
            // slipstream verifies its own checksum of every payload; skipping the SDK's
            // per-request CRC keeps S3-compatible servers that lack it working.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if shared.endpoint_url().is_some() {
            config = config.force_path_style(true);
        }
        if shared.region().is_none() {
            config = config.region(Region::from_static("us-east-1"));
        }
        let endpoint = match shared.endpoint_url() {
            Some(endpoint) => endpoint.to_owned(),
            None => format!(
                "AWS S3 ({})",
                shared.region().map_or("us-east-1", |r| r.as_ref())
            ),
        };
        Ok(Self {
            client: Client::from_conf(config.build()),
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            url: url.trim_end_matches('/').to_owned(),
            endpoint,
            tuning,
            requests,
            exclusive: Arc::default(),
        })
    }

    /// The configuration of a request that sends `bytes` of body. The SDK's read timeout
    /// runs from the start of the request to the answer, body included, so it is off here;
    /// each attempt is bounded instead by the timeout plus the time the body needs at
    /// `min_rate`: a server that takes the body and never answers fails the attempt (and the
    /// retries after it) within a time known from the part's size, never hangs the put.
    fn uploading(&self, bytes: usize) -> aws_sdk_s3::config::Builder {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10).min(self.tuning.timeout))
            .disable_read_timeout()
            .operation_attempt_timeout(self.tuning.upload_attempt_timeout(bytes))
            .build();
        aws_sdk_s3::config::Builder::default().timeout_config(timeouts)
    }

    fn timeout_hint(&self) -> String {
        format!(
            " (the S3 endpoint {} did not answer in time, {} attempts of at most {} s each, \
             plus 1 s per {} KiB sent: check AWS_ENDPOINT_URL and the network; \
             SLIPSTREAM_S3_TIMEOUT and SLIPSTREAM_S3_MIN_RATE_KIB set the wait)",
            self.endpoint(),
            self.tuning.max_attempts,
            self.tuning.timeout.as_secs(),
            self.tuning.min_rate / 1024,
        )
    }

    /// Where requests go, for messages.
    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The SDK client, for callers that need an operation this trait does not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn key(&self, path: &str) -> Result<String> {
        check_path(path)?;
        Ok(if self.prefix.is_empty() {
            path.to_owned()
        } else {
            format!("{}/{path}", self.prefix)
        })
    }

    fn error<E, R>(&self, op: &'static str, path: &str, err: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let code = err.code().unwrap_or_default().to_owned();
        let hint = match (&err, code.as_str()) {
            (_, "NoSuchBucket") => format!(
                " (bucket {:?} does not exist: create it, or fix the store URL)",
                self.bucket
            ),
            (_, "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "AccessDenied" | "Forbidden") => {
                " (the credentials were refused: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY \
                 or AWS_PROFILE, and that they may access this bucket)"
                    .to_owned()
            }
            (SdkError::ConstructionFailure(_), _) => " (no usable AWS credentials were found: set \
                 AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
                .to_owned(),
            (SdkError::TimeoutError(_), _) => self.timeout_hint(),
            (SdkError::DispatchFailure(d), _) if d.is_timeout() => self.timeout_hint(),
            (SdkError::DispatchFailure(_), _) => format!(
                " (the S3 endpoint {} could not be reached: check AWS_ENDPOINT_URL and the \
                 network)",
                self.endpoint()
            ),
            _ => String::new(),
        };
        StoreError::S3 {
            op,
            path: path.to_owned(),
            url: self.url.clone(),
            message: DisplayErrorContext(&err).to_string(),
            hint,
        }
    }

    /// One `DeleteObjects` request for `keys` (full keys, at most 1,000).
    async fn delete_batch(&self, keys: Vec<String>) -> Result<()> {
        let first = keys.first().cloned().unwrap_or_default();
        let objects = keys
            .into_iter()
            .map(|key| ObjectIdentifier::builder().key(key).build())
            .collect::<std::result::Result<Vec<_>, _>>()
            .expect("every identifier has a key");
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .expect("a delete request has objects");
        let answer = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| self.error("delete", &first, e))?;
        match answer.errors().first() {
            Some(failed) => Err(StoreError::S3 {
                op: "delete",
                path: failed.key().unwrap_or_default().to_owned(),
                url: self.url.clone(),
                message: format!(
                    "{}: {}",
                    failed.code().unwrap_or_default(),
                    failed.message().unwrap_or_default()
                ),
                hint: String::new(),
            }),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn put(&self, path: &str, data: Bytes) -> Result<()> {
        let key = self.key(path)?;
        if data.len() > self.tuning.part_size {
            return self.put_multipart(path, &key, data).await;
        }
        let size = data.len();
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(ByteStream::from(data))
            .customize()
            .config_override(self.uploading(size))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error("put", path, e))
    }

    /// One PUT when the stream holds at most one part; else a multipart upload that starts
    /// with the first two parts, so memory holds the parts in flight and the one filling.
    async fn put_stream(&self, path: &str, data: Chunks<'_>) -> Result<()> {
        let key = self.key(path)?;
        let mut parts = parts_of(data, self.tuning.part_size);
        let first = parts.try_next().await?.unwrap_or_default();
        let second = if first.len() < self.tuning.part_size {
            None
        } else {
            parts.try_next().await?
        };
        let Some(second) = second else {
            return self.put(path, first).await;
        };
        let parts = stream::iter([Ok(first), Ok(second)]).chain(parts);
        self.upload_parts(path, &key, Box::pin(parts)).await
    }

    /// A conditional put (`If-None-Match: *`) where the server honours it; else the default
    /// look-then-write (see `conditional.rs`).
    async fn create(&self, path: &str, data: Bytes) -> Result<bool> {
        self.create_if_absent(path, data).await
    }

    /// Probed once: a server that refuses the probe (no right to write or delete it, an
    /// error) counts as not honouring conditional writes, so that claims still work there,
    /// by looking first.
    async fn exclusive_create(&self) -> Result<bool> {
        Ok(*self
            .exclusive
            .get_or_init(|| async { self.probe_conditional_writes().await.unwrap_or(false) })
            .await)
    }

    async fn get(&self, path: &str) -> Result<Bytes> {
        let key = self.key(path)?;
        self.get_by_parts(path, &key).await
    }

    /// Ranges of `part_size` bytes, `concurrency` of them in flight, handed on in order.
    async fn get_chunks(&self, path: &str) -> Result<Chunks<'_>> {
        let key = self.key(path)?;
        let (size, etag) = self.size_and_etag(path, &key).await?;
        let chunk = self.tuning.part_size;
        let path = path.to_owned();
        let chunks = stream::iter((0..size).step_by(chunk))
            .map(move |start| {
                let (path, key, etag) = (path.clone(), key.clone(), etag.clone());
                async move {
                    let mut slot = vec![0; chunk.min(size - start)];
                    self.fetch_range(&path, &key, start, &mut slot, etag)
                        .await?;
                    Ok(Bytes::from(slot))
                }
            })
            .buffered(self.tuning.concurrency);
        Ok(Box::pin(chunks))
    }

    async fn head(&self, path: &str) -> Result<Option<u64>> {
        let key = self.key(path)?;
        match self.size_and_etag(path, &key).await {
            Ok((size, _)) => Ok(Some(size as u64)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delete(&self, path: &str) -> Result<()> {
        let key = self.key(path)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error("delete", path, e))
    }

    async fn list_sized(&self, prefix: &str) -> Result<Vec<Listed>> {
        let full_prefix = self.folder_key(prefix);
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&full_prefix)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("list", prefix, e))?;
            for object in page.contents() {
                if let Some(key) = object.key() {
                    out.push(Listed {
                        path: key[strip..].to_owned(),
                        size: object.size().unwrap_or_default().max(0) as u64,
                        modified: object
                            .last_modified()
                            .and_then(|at| std::time::SystemTime::try_from(*at).ok()),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>> {
        let full_prefix = self.folder_key(prefix);
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&full_prefix)
            .delimiter("/")
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("list", prefix, e))?;
            for common in page.common_prefixes() {
                if let Some(name) = common
                    .prefix()
                    .and_then(|p| p.strip_prefix(&full_prefix))
                    .map(|p| p.trim_end_matches('/'))
                    .filter(|p| !p.is_empty())
                {
                    out.push(name.to_owned());
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Open multipart uploads under `prefix` begun before `before`, every page of them.
    async fn leftovers(
        &self,
        prefix: &str,
        before: std::time::SystemTime,
        remove: bool,
    ) -> Result<Vec<Listed>> {
        self.open_uploads(prefix, before, remove).await
    }

    /// `DeleteObjects` requests of up to 1,000 keys, a few at once.
    async fn delete_many(&self, paths: &[String]) -> Result<()> {
        let keys = paths
            .iter()
            .map(|p| self.key(p))
            .collect::<Result<Vec<_>>>()?;
        let batches: Vec<Vec<String>> = keys.chunks(1000).map(<[String]>::to_vec).collect();
        stream::iter(batches)
            .map(|batch| self.delete_batch(batch))
            .buffer_unordered(self.tuning.concurrency.min(4))
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn sweep(&self, dir: &str, before: std::time::SystemTime, size: usize) -> Result<()> {
        if size <= self.tuning.part_size {
            return Ok(()); // not a multipart size: spare the LIST request
        }
        // Uploads of a put killed mid-way stay open (and billed) until aborted.
        let prefix = self.key(dir.trim_end_matches('/'))? + "/";
        let listed = self
            .client
            .list_multipart_uploads()
            .bucket(&self.bucket)
            .prefix(&prefix)
            .send()
            .await
            .map_err(|e| self.error("list multipart uploads", dir, e))?;
        for upload in listed.uploads() {
            let stale = upload
                .initiated()
                .and_then(|at| std::time::SystemTime::try_from(*at).ok())
                .is_some_and(|at| at < before);
            if let (true, Some(key), Some(id)) = (stale, upload.key(), upload.upload_id()) {
                let _ = self
                    .client
                    .abort_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(id)
                    .send()
                    .await;
            }
        }
        Ok(())
    }

    fn url(&self) -> &str {
        &self.url
    }

    fn requests(&self) -> Option<u64> {
        Some(self.requests.count())
    }
}
