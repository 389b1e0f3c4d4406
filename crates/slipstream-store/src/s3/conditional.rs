//! Create-if-absent on S3: `If-None-Match: *` puts, and the probe that tells whether a
//! server honours them.

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::put_object::PutObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use bytes::Bytes;

use super::S3Store;
use crate::{ObjectStore, Result};

impl S3Store {
    /// `ObjectStore::create`: a conditional put where the server honours it (a refusal
    /// whose stored bytes are ours counts as ours: an attempt whose answer was lost wrote
    /// them), else look, then write.
    pub(super) async fn create_if_absent(&self, path: &str, data: Bytes) -> Result<bool> {
        if !self.exclusive_create().await? {
            return crate::look_then_put(self, path, data).await;
        }
        let key = self.key(path)?;
        if self
            .put_if_none_match(&key, data.clone())
            .await
            .map_err(|e| self.error("create", path, e))?
        {
            return Ok(true);
        }
        // Refused: another writer's object, or ours when an attempt whose answer was lost
        // wrote it and its retry was refused; the same bytes tell.
        Ok(self.get(path).await.is_ok_and(|there| there == data))
    }

    /// Puts `data` at `key` unless an object is there: `Ok(false)` when the server refused
    /// (412 Precondition Failed, or 409 when another conditional write raced this one).
    async fn put_if_none_match(
        &self,
        key: &str,
        data: Bytes,
    ) -> std::result::Result<bool, SdkError<PutObjectError, HttpResponse>> {
        let size = data.len();
        let sent = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .body(ByteStream::from(data))
            .customize()
            .config_override(self.uploading(size))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.raw_response().map(|r| r.status().as_u16()),
                    Some(409 | 412)
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the server honours `If-None-Match: *`: a probe object created twice must be
    /// refused the second time (some S3-compatible servers ignore the header and let both
    /// writers win). The probe is removed afterwards.
    pub(super) async fn probe_conditional_writes(&self) -> Result<bool> {
        // Under `ops/`, where slipstream may write and `gc --orphans` looks.
        let path = format!("ops/.probes/if-none-match-{}", uuid::Uuid::new_v4());
        let key = self.key(&path)?;
        let probe = Bytes::from_static(b"slipstream conditional write probe");
        let first = self.put_if_none_match(&key, probe.clone()).await;
        let honoured = match first {
            Ok(true) => !self
                .put_if_none_match(&key, probe)
                .await
                .map_err(|e| self.error("probe conditional writes", &path, e))?,
            // A server that rejects the header outright (501, 400) does not offer it.
            Err(e)
                if matches!(
                    e.raw_response().map(|r| r.status().as_u16()),
                    Some(400 | 501)
                ) =>
            {
                false
            }
            Ok(false) => true,
            Err(e) => return Err(self.error("probe conditional writes", &path, e)),
        };
        let _ = self.delete(&path).await; // best effort: a probe left behind is 34 bytes
        Ok(honoured)
    }
}
