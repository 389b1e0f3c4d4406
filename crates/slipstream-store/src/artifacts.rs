//! The artifact protocol over any [`ObjectStore`]:
//!
//! 1. the payload is written under a name derived from its checksum;
//! 2. the manifest is written last, atomically replacing any previous one;
//! 3. the previous payload, if it had another name, is deleted.
//!
//! A reader starts from the manifest, so it sees the old artifact or the new one whole, and
//! a crash between (1) and (2) leaves only an unreferenced payload. Reads verify size and
//! checksum before any byte is decoded.

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use slipstream_core::{ArtifactKey, Checksum, Manifest};

use crate::{ObjectStore, Result, StoreError};

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
    let checksum = Checksum::of(&payload);
    manifest.payload = format!("payload-{}.{extension}", checksum.hex());
    manifest.bytes = payload.len() as u64;
    manifest.checksum = checksum.to_string();

    let previous = match read_manifest(store, key).await {
        Ok(previous) => Some(previous.payload),
        Err(_) => None, // absent or unreadable: nothing to clean up
    };
    store
        .put(&key.payload_path(&manifest.payload), payload)
        .await?;
    manifest.write_seconds = started.elapsed().as_secs_f64();
    manifest.written_at = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    store
        .put(&key.manifest_path(), Bytes::from(manifest.to_json()))
        .await?;
    if let Some(old) = previous.filter(|old| *old != manifest.payload)
        && is_payload_name(&old)
    {
        // Best effort: a leftover payload is unreferenced, never read as data.
        let _ = store.delete(&key.payload_path(&old)).await;
    }
    Ok(manifest)
}

/// Reads and parses the manifest of `key`.
pub async fn read_manifest(store: &dyn ObjectStore, key: &ArtifactKey) -> Result<Manifest> {
    let bytes = store.get(&key.manifest_path()).await?;
    Manifest::from_json(&bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_string(),
        reason: format!(
            "its manifest at {} cannot be parsed ({e})",
            key.manifest_path()
        ),
    })
}

/// Reads the manifest and the payload of `key`, verifying the payload's size and checksum.
pub async fn read(store: &dyn ObjectStore, key: &ArtifactKey) -> Result<(Manifest, Bytes)> {
    let manifest = read_manifest(store, key).await?;
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
    let path = key.payload_path(&manifest.payload);
    let payload = match store.get(&path).await {
        Ok(payload) => payload,
        Err(StoreError::NotFound { .. }) => {
            return Err(corrupt(format!(
                "its manifest points at {path}, which is missing"
            )));
        }
        Err(e) => return Err(e),
    };
    if payload.len() as u64 != manifest.bytes {
        return Err(corrupt(format!(
            "{path} holds {} bytes, its manifest says {}",
            payload.len(),
            manifest.bytes
        )));
    }
    let expected: Checksum = manifest
        .checksum
        .parse()
        .map_err(|e| corrupt(format!("its manifest has {e}")))?;
    let actual = Checksum::of(&payload);
    if actual != expected {
        return Err(corrupt(format!(
            "{path} has checksum {actual} but its manifest says {expected}"
        )));
    }
    Ok((manifest, payload))
}

/// Whether `key` has a manifest, i.e. a complete artifact.
pub async fn exists(store: &dyn ObjectStore, key: &ArtifactKey) -> Result<bool> {
    Ok(store.head(&key.manifest_path()).await?.is_some())
}

fn is_payload_name(name: &str) -> bool {
    name.starts_with("payload-") && !name.contains('/') && !name.contains("..")
}
