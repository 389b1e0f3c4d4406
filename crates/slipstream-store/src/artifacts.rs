//! The artifact protocol over any [`ObjectStore`]:
//!
//! 1. the payload is written under a name derived from its checksum (or, for a payload
//!    streamed as it is produced, whose checksum is known only at its end, a unique name);
//! 2. the manifest is written last, atomically replacing any previous one;
//! 3. every other payload of the output is deleted: the previous artifact's, and those of
//!    puts killed between (1) and (2); so are the store's leftovers of interrupted writes
//!    (temporary files, open multipart uploads) from before this put began.
//!
//! A reader starts from the manifest, so it sees the old artifact or the new one whole, and
//! a crash between (1) and (2) leaves only an unreferenced payload, removed by the next
//! successful put of that output. Reads verify size and checksum before any byte is
//! decoded. Two puts of one output at once (a zombie try beside its retry) are not
//! supported: the one whose manifest lands last may find its payload swept.

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use futures::{Future, TryStreamExt, stream};
use slipstream_core::records::{Expiry, Record};
use slipstream_core::{ArtifactKey, Checksum, Manifest};

use crate::{Chunks, ObjectStore, Result, StoreError};

/// Writes `payload` and then its manifest; fills in the manifest's payload name, size,
/// checksum, write time and timestamp, and returns the manifest as stored.
pub async fn write(
    store: &dyn ObjectStore,
    key: &ArtifactKey,
    payload: Bytes,
    extension: &str,
    mut manifest: Manifest,
) -> Result<Manifest> {
    let started = Instant::now();
    let began = SystemTime::now();
    let checksum = Checksum::of(&payload);
    manifest.payload = format!("payload-{}.{extension}", checksum.hex());
    manifest.bytes = payload.len() as u64;
    manifest.checksum = checksum.to_string();

    // What earlier attempts left is listed while the payload uploads: the listing costs
    // no time of its own, and nothing it names can be this put's manifest's payload but
    // its own, which the sweep keeps.
    let dir = format!("{}/", key.output_dir());
    let payload_path = key.payload_path(&manifest.payload);
    let (written, listed) = futures::join!(store.put(&payload_path, payload), store.list(&dir));
    written?;
    let sweep_size = manifest.bytes as usize;
    finish(store, key, manifest, listed, started, began, sweep_size).await
}

/// Writes the manifest of a stored payload, then sweeps what earlier attempts left.
async fn finish(
    store: &dyn ObjectStore,
    key: &ArtifactKey,
    mut manifest: Manifest,
    listed: Result<Vec<String>>,
    started: Instant,
    began: SystemTime,
    sweep_size: usize,
) -> Result<Manifest> {
    manifest.write_seconds = started.elapsed().as_secs_f64();
    manifest.written_at = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    store
        .put(&key.manifest_path(), Bytes::from(manifest.to_json()))
        .await?;
    // Best effort: what earlier attempts of this output left is unreferenced, never read
    // as data, but it costs storage forever unless removed here.
    if let Ok(listed) = listed {
        let dir = format!("{}/", key.output_dir());
        let _ = sweep(store, &dir, &listed, &manifest.payload, began, sweep_size).await;
    }
    Ok(manifest)
}

/// Writes a payload that arrives as `chunks` (a frame encoded as its batches arrive), then
/// its manifest, which `manifest` gives once the producer has finished; size, checksum and
/// timestamps are filled in here. The payload's name is unique to this put
/// (`payload-s<uuid>.<ext>`): its checksum is known only at its end. `Ok(None)` when the
/// producer gives no manifest (it failed, and reports why itself): the payload is then
/// removed, and the output keeps its previous artifact.
pub async fn write_stream(
    store: &dyn ObjectStore,
    key: &ArtifactKey,
    chunks: Chunks<'_>,
    extension: &str,
    manifest: impl Future<Output = Option<Manifest>> + Send,
) -> Result<Option<Manifest>> {
    let started = Instant::now();
    let began = SystemTime::now();
    let payload = format!("payload-s{}.{extension}", uuid::Uuid::new_v4().simple());
    let payload_path = key.payload_path(&payload);
    let summed = std::sync::Mutex::new((0u64, Checksum::EMPTY));
    let counted = chunks.inspect_ok(|chunk| {
        let mut summed = summed.lock().unwrap_or_else(|p| p.into_inner());
        *summed = (summed.0 + chunk.len() as u64, summed.1.append(chunk));
    });
    let dir = format!("{}/", key.output_dir());
    let (written, listed) = futures::join!(
        store.put_stream(&payload_path, Box::pin(counted)),
        store.list(&dir)
    );
    written?;
    let Some(mut manifest) = manifest.await else {
        let _ = store.delete(&payload_path).await;
        return Ok(None);
    };
    let (bytes, checksum) = *summed.lock().unwrap_or_else(|p| p.into_inner());
    manifest.payload = payload;
    manifest.bytes = bytes;
    manifest.checksum = checksum.to_string();
    // An earlier streamed attempt of any size may have left an open upload: look for them.
    let sweep_size = usize::MAX;
    finish(store, key, manifest, listed, started, began, sweep_size)
        .await
        .map(Some)
}

/// Removes the payloads among `listed` (the paths under the output's folder `dir`) other
/// than `keep`: the previous artifact's, and those of puts killed between their payload and
/// their manifest; then the store's leftovers of interrupted writes from before `began`.
async fn sweep(
    store: &dyn ObjectStore,
    dir: &str,
    listed: &[String],
    keep: &str,
    began: SystemTime,
    size: usize,
) -> Result<()> {
    for path in listed {
        let name = &path[dir.len()..];
        if is_payload_name(name) && name != keep {
            store.delete(path).await?;
        }
    }
    store.sweep(dir, began, size).await
}

/// Reads and parses the manifest of `key`, and checks that it is this key's: a manifest
/// copied from another output, run or op is refused, never served as this one's data.
pub async fn read_manifest(store: &dyn ObjectStore, key: &ArtifactKey) -> Result<Manifest> {
    let bytes = store.get(&key.manifest_path()).await?;
    let manifest = Manifest::from_json(&bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_string(),
        reason: format!(
            "its manifest at {} cannot be parsed ({e})",
            key.manifest_path()
        ),
    })?;
    let claimed = (
        manifest.op_prefix.as_str(),
        manifest.run_id.as_str(),
        manifest.output.as_str(),
    );
    let actual = (
        key.op_prefix.as_str(),
        key.run_id.as_str(),
        key.output.as_str(),
    );
    if claimed != actual {
        return Err(StoreError::Corrupt {
            key: key.to_string(),
            reason: format!(
                "its manifest at {} describes output {:?} of op {} in run {:?}, not this one: \
                 it was copied or moved here",
                key.manifest_path(),
                claimed.2,
                claimed.0,
                claimed.1
            ),
        });
    }
    Ok(manifest)
}

/// Reads the manifest and the payload of `key`, verifying the payload's size and checksum.
pub async fn read(store: &dyn ObjectStore, key: &ArtifactKey) -> Result<(Manifest, Bytes)> {
    let manifest = read_manifest(store, key).await?;
    let mut check = Verifier::new(key, &manifest)?;
    let payload = match store.get(&check.path).await {
        Ok(payload) => payload,
        Err(e) => return Err(missing(store, key, &manifest, &check, e).await),
    };
    check.update(&payload)?;
    check.finish()?;
    Ok((manifest, payload))
}

/// Reads the manifest of `key` and its payload as chunks in order, for payloads too large to
/// hold at once. Size and checksum are verified as the chunks pass: a payload that is too long
/// fails at the chunk that overflows, a wrong checksum or a short payload fails after the
/// last chunk. A consumer must therefore treat what it received as data only once the stream
/// has ended without an error.
pub async fn read_chunks<'a>(
    store: &'a dyn ObjectStore,
    key: &ArtifactKey,
) -> Result<(Manifest, Chunks<'a>)> {
    let manifest = read_manifest(store, key).await?;
    let check = Verifier::new(key, &manifest)?;
    let chunks = match store.get_chunks(&check.path).await {
        Ok(chunks) => chunks,
        Err(e) => return Err(missing(store, key, &manifest, &check, e).await),
    };
    // An error ends the stream: `try_unfold` drops its state with it.
    let verified = stream::try_unfold((chunks, check), |(mut chunks, mut check)| async move {
        match chunks.try_next().await? {
            Some(chunk) => {
                check.update(&chunk)?;
                Ok(Some((chunk, (chunks, check))))
            }
            None => check.finish().map(|()| None),
        }
    });
    Ok((manifest, Box::pin(verified)))
}

/// The error of a payload that could not be read: that it expired, if retention deleted it,
/// else that its artifact is corrupt (a manifest naming no payload), else the store's error.
async fn missing(
    store: &dyn ObjectStore,
    key: &ArtifactKey,
    manifest: &Manifest,
    check: &Verifier,
    err: StoreError,
) -> StoreError {
    if !matches!(err, StoreError::NotFound { .. }) {
        return err;
    }
    match read_expiry(store, key).await {
        Ok(Some(expiry)) if expiry_covers(&expiry, manifest) => StoreError::Expired {
            key: key.to_string(),
            at: expiry.expired_at,
            reason: expiry.reason,
        },
        Ok(_) => check.missing(err),
        Err(e) => e,
    }
}

/// Whether retention's marker covers the artifact of `manifest`: it does unless the artifact
/// was written after it (the op ran again in that run). Times that cannot be read count as
/// covered.
fn expiry_covers(expiry: &Expiry, manifest: &Manifest) -> bool {
    let parse = |at: &str| humantime::parse_rfc3339_weak(at.trim_end_matches("+00:00")).ok();
    match (parse(&expiry.expired_at), parse(&manifest.written_at)) {
        (Some(expired), Some(written)) => written <= expired,
        _ => true,
    }
}

/// The expiry marker of `key`'s op and run, if retention deleted its payloads.
pub async fn read_expiry(store: &dyn ObjectStore, key: &ArtifactKey) -> Result<Option<Expiry>> {
    let bytes = match store.get(&key.expiry_path()).await {
        Ok(bytes) => bytes,
        Err(StoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    Expiry::parse(&bytes)
        .map(Some)
        .map_err(|e| StoreError::Corrupt {
            key: key.to_string(),
            reason: format!(
                "its expiry marker at {} cannot be read ({e})",
                key.expiry_path()
            ),
        })
}

/// Checks a payload against its manifest as its bytes arrive.
struct Verifier {
    key: String,
    path: String,
    bytes: u64,
    checksum: Checksum,
    seen: u64,
    sum: Checksum,
}

impl Verifier {
    fn new(key: &ArtifactKey, manifest: &Manifest) -> Result<Self> {
        let corrupt = |reason: String| StoreError::Corrupt {
            key: key.to_string(),
            reason,
        };
        if !is_payload_name(&manifest.payload) {
            return Err(corrupt(format!(
                "its manifest names an invalid payload {:?}",
                manifest.payload
            )));
        }
        let checksum = manifest
            .checksum
            .parse()
            .map_err(|e| corrupt(format!("its manifest has {e}")))?;
        Ok(Self {
            key: key.to_string(),
            path: key.payload_path(&manifest.payload),
            bytes: manifest.bytes,
            checksum,
            seen: 0,
            sum: Checksum::EMPTY,
        })
    }

    fn corrupt(&self, reason: String) -> StoreError {
        StoreError::Corrupt {
            key: self.key.clone(),
            reason,
        }
    }

    /// A payload that is absent although its manifest names it is a corrupt artifact.
    fn missing(&self, err: StoreError) -> StoreError {
        match err {
            StoreError::NotFound { .. } => self.corrupt(format!(
                "its manifest points at {}, which is missing",
                self.path
            )),
            other => other,
        }
    }

    fn update(&mut self, chunk: &[u8]) -> Result<()> {
        self.seen += chunk.len() as u64;
        if self.seen > self.bytes {
            return Err(self.corrupt(format!(
                "{} holds more than the {} bytes its manifest says",
                self.path, self.bytes
            )));
        }
        self.sum = self.sum.append(chunk);
        Ok(())
    }

    fn finish(&self) -> Result<()> {
        if self.seen != self.bytes {
            return Err(self.corrupt(format!(
                "{} holds {} bytes, its manifest says {}",
                self.path, self.seen, self.bytes
            )));
        }
        if self.sum != self.checksum {
            return Err(self.corrupt(format!(
                "{} has checksum {} but its manifest says {}",
                self.path, self.sum, self.checksum
            )));
        }
        Ok(())
    }
}

/// The manifest of `key` if its payload is still stored whole (present, of the size its
/// manifest records) and not expiring: one small read, then a HEAD and a look for an expiry
/// marker at once, never the payload. `None` when either is gone or retention marked the
/// payloads expired. The checksum is verified when the payload is read.
pub async fn stored_manifest(
    store: &dyn ObjectStore,
    key: &ArtifactKey,
) -> Result<Option<Manifest>> {
    let manifest = match read_manifest(store, key).await {
        Ok(manifest) => manifest,
        Err(StoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    // An op whose payloads retention is deleting counts as gone, even while they are still
    // there: a run that reused them would find them deleted under it.
    let payload = key.payload_path(&manifest.payload);
    let (size, expiry) = futures::join!(store.head(&payload), read_expiry(store, key));
    if expiry?.is_some_and(|e| expiry_covers(&e, &manifest)) {
        return Ok(None);
    }
    Ok((size? == Some(manifest.bytes)).then_some(manifest))
}

/// Whether `key` has a manifest, i.e. a complete artifact.
pub async fn exists(store: &dyn ObjectStore, key: &ArtifactKey) -> Result<bool> {
    Ok(store.head(&key.manifest_path()).await?.is_some())
}

fn is_payload_name(name: &str) -> bool {
    name.starts_with("payload-") && !name.contains('/') && !name.contains("..")
}
