//! `slipstream.Store`: artifacts in and out of a local folder or S3.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use slipstream_core::Manifest;
use slipstream_store::{ObjectStore, artifacts};

use crate::codec;
use crate::download::{DownloadError, download};
use crate::errors::{file_error, guarded, store_error};
use crate::key::PyArtifactKey;
use crate::runtime::wait;

/// A store of artifacts at a URL: `file:///abs/path` or `s3://bucket/prefix`.
#[pyclass(name = "Store", module = "slipstream", frozen)]
pub struct PyStore {
    url: String,
    /// The backend, per process: a forked child must not reuse the parent's connections.
    backend: Mutex<Option<(u32, Arc<dyn ObjectStore>)>>,
}

impl PyStore {
    pub(crate) fn backend(&self, py: Python<'_>) -> PyResult<Arc<dyn ObjectStore>> {
        let pid = std::process::id();
        if let Some((owner, store)) = self
            .backend
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            && *owner == pid
        {
            return Ok(store.clone());
        }
        let url = self.url.clone();
        let store = wait(py, async move { slipstream_store::open(&url).await })?
            .map_err(|e| store_error(&self.url, e))?;
        *self.backend.lock().unwrap_or_else(|p| p.into_inner()) = Some((pid, store.clone()));
        Ok(store)
    }
}

fn epoch_seconds(at: std::time::SystemTime) -> f64 {
    at.duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn manifest_dict<'py>(py: Python<'py>, manifest: &Manifest) -> PyResult<Bound<'py, PyDict>> {
    let json = PyBytes::new(py, &manifest.to_json());
    Ok(py
        .import("json")?
        .call_method1("loads", (json,))?
        .cast_into::<PyDict>()?)
}

#[pymethods]
impl PyStore {
    #[new]
    fn new(py: Python<'_>, url: &str) -> PyResult<Self> {
        // A plain path is a local folder.
        let url = slipstream_store::store_url(url).map_err(|e| store_error(url, e))?;
        // `s3://bucket/prefix/` and `s3://bucket/prefix` are the same store; `s3://` stays invalid.
        let url = match url.split_once("://") {
            Some((scheme, rest)) if !rest.trim_end_matches('/').is_empty() => {
                format!("{scheme}://{}", rest.trim_end_matches('/'))
            }
            _ => url,
        };
        let store = Self {
            url,
            backend: Mutex::new(None),
        };
        store.backend(py)?; // fail now on a bad URL, not at the first put
        Ok(store)
    }

    /// The URL the store was opened with.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// Stores `value` under `key` and returns its manifest.
    #[pyo3(signature = (key, value, *, allow_pickle = false, try_number = 1, extra = None))]
    fn put<'py>(
        &self,
        py: Python<'py>,
        key: &PyArtifactKey,
        value: &Bound<'py, PyAny>,
        allow_pickle: bool,
        try_number: i64,
        extra: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guarded(&format!("storing {}", key.0), || {
            let key = &key.0;
            let try_number = u32::try_from(try_number)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    pyo3::exceptions::PyValueError::new_err(format!(
                        "try_number must be 1 or more (the first try is 1), not {try_number}"
                    ))
                })?;
            let extra = match extra {
                Some(extra) => {
                    let text: String = py
                        .import("json")?
                        .call_method1("dumps", (extra,))?
                        .extract()?;
                    Some(serde_json::from_str::<BTreeMap<_, _>>(&text).map_err(|e| {
                        pyo3::exceptions::PyValueError::new_err(format!("extra: {e}"))
                    })?)
                }
                None => None,
            };
            let store = self.backend(py)?;
            if codec::is_stream(value) {
                let extra = extra.unwrap_or_default();
                let written = codec::put_stream(py, store.as_ref(), key, value, try_number, extra)?;
                return manifest_dict(py, &written);
            }
            let mut encoded = codec::encode(py, key, value, allow_pickle, try_number)?;
            if let Some(extra) = extra {
                encoded.manifest.extra = extra;
            }
            let payload = Bytes::from(encoded.payload);
            let written = wait(py, async {
                artifacts::write(
                    store.as_ref(),
                    key,
                    payload,
                    encoded.extension,
                    encoded.manifest,
                )
                .await
            })?
            .map_err(|e| store_error(&key.to_string(), e))?;
            manifest_dict(py, &written)
        })
    }

    /// Reads the value stored under `key`, as the same Python type that was stored.
    #[pyo3(signature = (key, *, allow_pickle = false))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &PyArtifactKey,
        allow_pickle: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(&format!("reading {}", key.0), || {
            let key = &key.0;
            let store = self.backend(py)?;
            let (manifest, payload) =
                wait(py, async { artifacts::read(store.as_ref(), key).await })?
                    .map_err(|e| store_error(&key.to_string(), e))?;
            codec::decode(py, key, &manifest, payload, allow_pickle)
        })
    }

    /// Streams the payload of the artifact under `key` into the file `path`, as stored
    /// (Parquet, PNG, bincode…), and returns its manifest. Size and checksum are verified on
    /// the way; `path` appears only when the whole payload is verified, and is left untouched
    /// otherwise. With `progress`, a bar is drawn on stderr when stderr is a terminal.
    #[pyo3(signature = (key, path, *, progress = false))]
    fn download<'py>(
        &self,
        py: Python<'py>,
        key: &PyArtifactKey,
        path: PathBuf,
        progress: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let key = &key.0;
        let store = self.backend(py)?;
        let manifest =
            wait(py, download(store.as_ref(), key, &path, progress))?.map_err(|e| match e {
                DownloadError::Store(e) => store_error(&key.to_string(), e),
                DownloadError::File { path, source } => file_error(&path, source),
            })?;
        manifest_dict(py, &manifest)
    }

    /// The manifest of the artifact under `key`.
    fn manifest<'py>(&self, py: Python<'py>, key: &PyArtifactKey) -> PyResult<Bound<'py, PyDict>> {
        let key = &key.0;
        let store = self.backend(py)?;
        let manifest = wait(py, async {
            artifacts::read_manifest(store.as_ref(), key).await
        })?
        .map_err(|e| store_error(&key.to_string(), e))?;
        manifest_dict(py, &manifest)
    }

    /// The manifest under `key` if its payload is still stored whole, else None (one small
    /// read and one HEAD; the payload is not read).
    fn stored_manifest<'py>(
        &self,
        py: Python<'py>,
        key: &PyArtifactKey,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let key = &key.0;
        let store = self.backend(py)?;
        let found = wait(py, async {
            artifacts::stored_manifest(store.as_ref(), key).await
        })?
        .map_err(|e| store_error(&key.to_string(), e))?;
        found.map(|m| manifest_dict(py, &m)).transpose()
    }

    /// Reads the artifact under `key` and checks its payload against the manifest's size and
    /// checksum, without decoding it or holding it whole: `CorruptArtifact` if it does not
    /// match.
    fn verify(&self, py: Python<'_>, key: &PyArtifactKey) -> PyResult<()> {
        guarded(&format!("verifying {}", key.0), || {
            let key = &key.0;
            let store = self.backend(py)?;
            wait(py, async {
                use futures::TryStreamExt;
                // Chunk by chunk: a payload larger than memory is checked too.
                let (_, chunks) = artifacts::read_chunks(store.as_ref(), key).await?;
                chunks.try_for_each(|_| async { Ok(()) }).await
            })?
            .map_err(|e| store_error(&key.to_string(), e))
        })
    }

    /// Whether a complete artifact exists under `key`.
    fn exists(&self, py: Python<'_>, key: &PyArtifactKey) -> PyResult<bool> {
        let key = &key.0;
        let store = self.backend(py)?;
        wait(py, async { artifacts::exists(store.as_ref(), key).await })?
            .map_err(|e| store_error(&key.to_string(), e))
    }

    /// Writes raw bytes at a path relative to the store root (records, specs).
    fn put_object(&self, py: Python<'_>, path: &str, data: Vec<u8>) -> PyResult<()> {
        let store = self.backend(py)?;
        wait(py, async { store.put(path, Bytes::from(data)).await })?
            .map_err(|e| store_error(path, e))
    }

    /// Writes raw bytes at a path only if nothing is there: True when this call created it,
    /// False when an object was there already (left as it was). See `exclusive_creates`.
    fn create_object(&self, py: Python<'_>, path: &str, data: Vec<u8>) -> PyResult<bool> {
        let store = self.backend(py)?;
        wait(py, async { store.create(path, Bytes::from(data)).await })?
            .map_err(|e| store_error(path, e))
    }

    /// Whether `create_object` is atomic on this store (a local folder; S3 where the server
    /// honours conditional writes, probed once): of two writers at once, exactly one wins.
    fn exclusive_creates(&self, py: Python<'_>) -> PyResult<bool> {
        let store = self.backend(py)?;
        wait(py, async { store.exclusive_create().await })?.map_err(|e| store_error("", e))
    }

    /// Writes many objects of raw bytes, a few dozen at once (each atomically, as
    /// `put_object`); stops at the first failure.
    fn put_objects(&self, py: Python<'_>, items: Vec<(String, Vec<u8>)>) -> PyResult<()> {
        use futures::{StreamExt, TryStreamExt};
        let store = self.backend(py)?;
        let store = store.as_ref();
        wait(py, async {
            futures::stream::iter(items)
                .map(|(path, data)| async move {
                    store
                        .put(&path, Bytes::from(data))
                        .await
                        .map_err(|e| (path, e))
                })
                .buffer_unordered(32)
                .try_collect::<Vec<()>>()
                .await
        })?
        .map(|_| ())
        .map_err(|(path, e)| store_error(&path, e))
    }

    /// Reads the raw bytes at a path relative to the store root.
    fn get_object<'py>(&self, py: Python<'py>, path: &str) -> PyResult<Bound<'py, PyBytes>> {
        let store = self.backend(py)?;
        let data = wait(py, async { store.get(path).await })?.map_err(|e| store_error(path, e))?;
        Ok(PyBytes::new(py, &data))
    }

    /// Paths of every object under `prefix`, sorted.
    #[pyo3(signature = (prefix = ""))]
    fn list(&self, py: Python<'_>, prefix: &str) -> PyResult<Vec<String>> {
        let store = self.backend(py)?;
        wait(py, async { store.list(prefix).await })?.map_err(|e| store_error(prefix, e))
    }

    /// `(path, size in bytes, modified)` of every object under `prefix`, sorted by path;
    /// `modified` in seconds since the epoch (None where the backend does not say).
    #[pyo3(signature = (prefix = ""))]
    fn list_details(
        &self,
        py: Python<'_>,
        prefix: &str,
    ) -> PyResult<Vec<(String, u64, Option<f64>)>> {
        let store = self.backend(py)?;
        let listed = wait(py, async { store.list_sized(prefix).await })?
            .map_err(|e| store_error(prefix, e))?;
        Ok(listed
            .into_iter()
            .map(|o| (o.path, o.size, o.modified.map(epoch_seconds)))
            .collect())
    }

    /// `(path, bytes, started)` of what interrupted writes under `prefix` left before
    /// `before` (seconds since the epoch), beyond objects: local temporary files, open S3
    /// multipart uploads; removed too when `remove`.
    #[pyo3(signature = (prefix, before, *, remove = false))]
    fn leftovers(
        &self,
        py: Python<'_>,
        prefix: &str,
        before: f64,
        remove: bool,
    ) -> PyResult<Vec<(String, u64, Option<f64>)>> {
        let store = self.backend(py)?;
        let before = std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(before.max(0.0));
        let found = wait(py, async { store.leftovers(prefix, before, remove).await })?
            .map_err(|e| store_error(prefix, e))?;
        Ok(found
            .into_iter()
            .map(|l| (l.path, l.size, l.modified.map(epoch_seconds)))
            .collect())
    }

    /// Deletes the objects at `paths` (relative to the store root); absent ones are not an
    /// error. On S3, in requests of up to 1,000 keys.
    fn delete_objects(&self, py: Python<'_>, paths: Vec<String>) -> PyResult<()> {
        let store = self.backend(py)?;
        let first = paths.first().cloned().unwrap_or_default();
        wait(py, async { store.delete_many(&paths).await })?.map_err(|e| store_error(&first, e))
    }

    /// How many requests this process has sent to the store, each retry counted (S3);
    /// `None` for a local folder.
    fn requests(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        Ok(self.backend(py)?.requests())
    }

    fn __repr__(&self) -> String {
        format!("Store({:?})", self.url)
    }
}
