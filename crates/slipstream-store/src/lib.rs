//! Object stores for slipstream artifacts, chosen by URL: `file:///abs/path` (the embedded
//! default) and `s3://bucket/prefix`.
//!
//! [`ObjectStore`] is the small trait every backend implements; [`artifacts`] builds the
//! artifact protocol (payload first, manifest last, checksum verified on read) on top of it.

pub mod artifacts;
mod error;
mod local;
mod pipe;
mod registry;
pub mod run_index;
mod s3;
pub mod survey;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream};

pub use error::{Result, StoreError};
pub use local::{LocalStore, persist, temporary_in};
pub use pipe::{PipeWriter, pipe};
pub use registry::{open, store_url};
pub use s3::{S3Store, S3Tuning};

/// An object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub path: String,
    pub size: u64,
    /// When it was last written, where the backend says.
    pub modified: Option<std::time::SystemTime>,
}

/// An object read piece by piece, in order.
pub type Chunks<'a> = BoxStream<'a, Result<Bytes>>;

/// A flat namespace of immutable-until-replaced objects addressed by `/`-separated paths.
///
/// Every backend guarantees that `put` is atomic: a reader sees the previous object or the
/// new one, never a partial write.
#[async_trait]
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    /// Writes `data` at `path`, replacing any previous object atomically.
    async fn put(&self, path: &str, data: Bytes) -> Result<()>;
    /// Writes the chunks of `data` at `path`, in order. The object appears (replacing any
    /// previous one atomically) only once the stream has ended without an error; an error in
    /// the stream, a failed write or the future dropped leave nothing at `path`. Memory holds
    /// a bounded number of chunks. The default collects the chunks and calls `put`.
    async fn put_stream(&self, path: &str, mut data: Chunks<'_>) -> Result<()> {
        use futures::TryStreamExt;
        let mut whole = bytes::BytesMut::new();
        while let Some(chunk) = data.try_next().await? {
            whole.extend_from_slice(&chunk);
        }
        self.put(path, whole.freeze()).await
    }
    /// Writes `data` at `path` only if no object is there: `Ok(true)` when this call created
    /// it, `Ok(false)` when one was there already (and is left as it was). Atomic against
    /// other writers where [`ObjectStore::exclusive_create`] says so; the default looks, then
    /// writes, and is not.
    async fn create(&self, path: &str, data: Bytes) -> Result<bool> {
        look_then_put(self, path, data).await
    }
    /// Whether [`ObjectStore::create`] is atomic here: of two writers creating one path at
    /// once, exactly one is told it created it. S3-compatible servers that ignore
    /// `If-None-Match` are found out by a probe the first time this is asked.
    async fn exclusive_create(&self) -> Result<bool> {
        Ok(false)
    }
    /// Reads the whole object; [`StoreError::NotFound`] if absent.
    async fn get(&self, path: &str) -> Result<Bytes>;
    /// Reads the object as chunks, in order, so that objects larger than memory can be
    /// copied elsewhere; [`StoreError::NotFound`] if absent. The default reads it whole.
    async fn get_chunks(&self, path: &str) -> Result<Chunks<'_>> {
        let data = self.get(path).await?;
        Ok(Box::pin(stream::once(async { Ok(data) })))
    }
    /// Size of the object, or `None` if absent.
    async fn head(&self, path: &str) -> Result<Option<u64>>;
    /// Deletes the object; deleting an absent object is not an error.
    async fn delete(&self, path: &str) -> Result<()>;
    /// Paths of every object under `prefix` (recursively), sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        Ok(self
            .list_sized(prefix)
            .await?
            .into_iter()
            .map(|o| o.path)
            .collect())
    }
    /// Every object under `prefix` (recursively) with its size and time, sorted by path.
    async fn list_sized(&self, prefix: &str) -> Result<Vec<Listed>>;
    /// The names of the folders directly under the folder `prefix` (those some object's path
    /// continues through), sorted: one listing of names however many objects they hold. The
    /// default lists every object.
    async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>> {
        let dir = format!("{}/", prefix.trim_end_matches('/'));
        let mut names: Vec<String> = self
            .list(&dir)
            .await?
            .iter()
            .filter_map(|p| Some(p.strip_prefix(&dir)?.split_once('/')?.0.to_owned()))
            .collect();
        names.dedup();
        Ok(names)
    }
    /// What interrupted writes under `prefix` left before `before`, beyond objects: a local
    /// store's temporary files, S3's open multipart uploads (with the bytes of their parts);
    /// removed too when `remove`. The default has none.
    async fn leftovers(
        &self,
        prefix: &str,
        before: std::time::SystemTime,
        remove: bool,
    ) -> Result<Vec<Listed>> {
        let _ = (prefix, before, remove);
        Ok(vec![])
    }
    /// Deletes every object of `paths`; absent ones are not an error. The default deletes
    /// them one by one.
    async fn delete_many(&self, paths: &[String]) -> Result<()> {
        for path in paths {
            self.delete(path).await?;
        }
        Ok(())
    }
    /// Removes what interrupted writes left under the folder `dir` before `before`, beyond
    /// its objects: a local store's temporary files, S3's open multipart uploads (looked for
    /// only when `size`, that of the object just written, is one S3 uploads in parts: the
    /// earlier attempts of an output are about as large). Best effort; the default has
    /// nothing to remove.
    async fn sweep(&self, dir: &str, before: std::time::SystemTime, size: usize) -> Result<()> {
        let _ = (dir, before, size);
        Ok(())
    }
    /// The URL this store was opened with.
    fn url(&self) -> &str;
    /// How many requests this store has sent, counting each retry, where it sends any (S3):
    /// what a page or a command costs, measured.
    fn requests(&self) -> Option<u64> {
        None
    }
}

/// Create-if-absent where a backend cannot make it atomic: look, then write. Two writers at
/// the same instant may both be told they created the object.
pub(crate) async fn look_then_put<S: ObjectStore + ?Sized>(
    store: &S,
    path: &str,
    data: Bytes,
) -> Result<bool> {
    if store.head(path).await?.is_some() {
        return Ok(false);
    }
    store.put(path, data).await?;
    Ok(true)
}

/// Refuses paths that could escape the store's root or address nothing.
pub(crate) fn check_path(path: &str) -> Result<()> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        return Err(StoreError::InvalidPath {
            path: path.to_owned(),
        });
    }
    Ok(())
}
