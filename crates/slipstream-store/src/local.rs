//! The embedded default store: a folder on the local filesystem.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use futures::{TryStreamExt, stream};
use tempfile::NamedTempFile;

use crate::{Chunks, Listed, ObjectStore, Result, StoreError, check_path};

/// Size of the chunks [`ObjectStore::get_chunks`] reads a file in.
const CHUNK: u64 = 2 * 1024 * 1024;

/// Objects as files under a root folder. Writes go to a temporary file in the target folder
/// that is renamed over the final name, so readers never see a partial file.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    url: String,
}

impl LocalStore {
    /// A store rooted at `root`, which is created if missing.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let url = format!("file://{}", root.display());
        std::fs::create_dir_all(&root).map_err(|source| StoreError::Io {
            op: "create",
            path: String::new(),
            root: url.clone(),
            source,
        })?;
        Ok(Self { root, url })
    }

    fn full(&self, path: &str) -> Result<PathBuf> {
        check_path(path)?;
        Ok(self.root.join(path))
    }

    fn io(&self, op: &'static str, path: &str, source: std::io::Error) -> StoreError {
        if source.kind() == ErrorKind::NotFound && op != "write" {
            return StoreError::NotFound {
                path: path.to_owned(),
            };
        }
        StoreError::Io {
            op,
            path: path.to_owned(),
            root: self.url.clone(),
            source,
        }
    }

    fn write_atomic(target: &Path, data: &[u8]) -> std::io::Result<()> {
        let mut tmp = Self::temporary(target)?;
        tmp.write_all(data)?;
        Self::persist(tmp, target)
    }

    /// A temporary file beside `target`, removed unless persisted.
    fn temporary(target: &Path) -> std::io::Result<NamedTempFile> {
        let dir = target.parent().expect("object paths have a parent folder");
        std::fs::create_dir_all(dir)?;
        temporary_in(dir, ".tmp-")
    }

    fn persist(tmp: NamedTempFile, target: &Path) -> std::io::Result<()> {
        persist(tmp, target)
    }
}

/// A hidden temporary file in `dir` (its name starts with `prefix`), removed unless
/// [`persist`]ed: how a file appears whole or not at all.
pub fn temporary_in(dir: &Path, prefix: &str) -> std::io::Result<NamedTempFile> {
    tempfile::Builder::new()
        .prefix(prefix)
        // What a plain `open` would create (the umask still applies), not tempfile's 0600: a
        // store a team shares is read by other users than the one who wrote it.
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
}

/// Makes a complete temporary file the file at `target`, durable before visible: a crash
/// after the rename never leaves an empty file.
pub fn persist(tmp: NamedTempFile, target: &Path) -> std::io::Result<()> {
    tmp.as_file().sync_data()?;
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

impl LocalStore {
    /// The root, the folder a walk of `prefix` starts from, and the prefix for messages.
    fn walk_start(&self, prefix: &str) -> Result<(PathBuf, PathBuf, String)> {
        let prefix = prefix.trim_end_matches('/').to_owned();
        let start = if prefix.is_empty() {
            self.root.clone()
        } else {
            self.full(&prefix)?
        };
        Ok((self.root.clone(), start, prefix))
    }
}

/// Calls `visit` for every file under `start`, recursively; a folder that is gone is empty.
fn walk_files(
    start: &Path,
    visit: &mut dyn FnMut(&std::fs::DirEntry) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut stack = vec![start.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            } else {
                visit(&entry)?;
            }
        }
    }
    Ok(())
}

/// Runs blocking filesystem work off the async worker threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("filesystem task panicked")
}

#[async_trait]
impl ObjectStore for LocalStore {
    async fn put(&self, path: &str, data: Bytes) -> Result<()> {
        let target = self.full(path)?;
        blocking(move || Self::write_atomic(&target, &data))
            .await
            .map_err(|e| self.io("write", path, e))
    }

    async fn put_stream(&self, path: &str, mut data: Chunks<'_>) -> Result<()> {
        let target = self.full(path)?;
        let at = target.clone();
        let mut tmp = blocking(move || Self::temporary(&at))
            .await
            .map_err(|e| self.io("write", path, e))?;
        // An error below drops the temporary file, which removes it.
        while let Some(chunk) = data.try_next().await? {
            tmp = blocking(move || tmp.write_all(&chunk).map(|()| tmp))
                .await
                .map_err(|e| self.io("write", path, e))?;
        }
        blocking(move || Self::persist(tmp, &target))
            .await
            .map_err(|e| self.io("write", path, e))
    }

    /// A complete temporary file linked to its name only if the name is free (`link(2)`
    /// refuses to replace): atomic, and never a partial file under the name.
    async fn create(&self, path: &str, data: Bytes) -> Result<bool> {
        let target = self.full(path)?;
        blocking(move || {
            let mut tmp = Self::temporary(&target)?;
            tmp.write_all(&data)?;
            tmp.as_file().sync_data()?;
            match tmp.persist_noclobber(&target) {
                Ok(_) => Ok(true),
                Err(e) if e.error.kind() == ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(e.error),
            }
        })
        .await
        .map_err(|e| self.io("write", path, e))
    }

    async fn exclusive_create(&self) -> Result<bool> {
        Ok(true)
    }

    async fn get(&self, path: &str) -> Result<Bytes> {
        let target = self.full(path)?;
        blocking(move || std::fs::read(target))
            .await
            .map(Bytes::from)
            .map_err(|e| self.io("read", path, e))
    }

    async fn get_chunks(&self, path: &str) -> Result<Chunks<'_>> {
        let target = self.full(path)?;
        let file = blocking(move || std::fs::File::open(target))
            .await
            .map_err(|e| self.io("read", path, e))?;
        let path = path.to_owned();
        let chunks = stream::try_unfold(file, move |mut file| {
            let path = path.clone();
            async move {
                let (file, chunk) = blocking(move || {
                    let mut chunk = Vec::new();
                    (&mut file).take(CHUNK).read_to_end(&mut chunk)?;
                    Ok((file, chunk))
                })
                .await
                .map_err(|e| self.io("read", &path, e))?;
                Ok((!chunk.is_empty()).then(|| (Bytes::from(chunk), file)))
            }
        });
        Ok(Box::pin(chunks))
    }

    async fn head(&self, path: &str) -> Result<Option<u64>> {
        let target = self.full(path)?;
        match blocking(move || std::fs::metadata(target)).await {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io("stat", path, e)),
        }
    }

    async fn delete(&self, path: &str) -> Result<()> {
        let target = self.full(path)?;
        match blocking(move || std::fs::remove_file(target)).await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(self.io("delete", path, e)),
            _ => Ok(()),
        }
    }

    /// One blocking task for all of them: a file removal is cheap, a task switch is not.
    async fn delete_many(&self, paths: &[String]) -> Result<()> {
        let targets = paths
            .iter()
            .map(|p| Ok((p.clone(), self.full(p)?)))
            .collect::<Result<Vec<_>>>()?;
        let failed = blocking(move || {
            targets
                .into_iter()
                .find_map(|(path, target)| match std::fs::remove_file(&target) {
                    Err(e) if e.kind() != ErrorKind::NotFound => Some((path, e)),
                    _ => None,
                })
        })
        .await;
        match failed {
            Some((path, e)) => Err(self.io("delete", &path, e)),
            None => Ok(()),
        }
    }

    async fn list_sized(&self, prefix: &str) -> Result<Vec<Listed>> {
        let (root, start, prefix) = self.walk_start(prefix)?;
        let found = blocking(move || {
            let mut out = Vec::new();
            walk_files(&start, &mut |entry| {
                if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                    return Ok(()); // an in-flight write, not an object
                }
                let path = entry.path();
                let Ok(rel) = path.strip_prefix(&root) else {
                    return Ok(());
                };
                // A file removed since the listing began is not listed.
                match entry.metadata() {
                    Ok(meta) => out.push(Listed {
                        path: rel.to_string_lossy().replace('\\', "/"),
                        size: meta.len(),
                        modified: meta.modified().ok(),
                    }),
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
                Ok(())
            })?;
            out.sort_by(|a, b| a.path.cmp(&b.path));
            Ok(out)
        })
        .await;
        found.map_err(|e| self.io("list", &prefix, e))
    }

    /// The sub-folders of `prefix` (one that deletions left empty too: readers find nothing
    /// in it).
    async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>> {
        let (_, folder, prefix) = self.walk_start(prefix)?;
        let found = blocking(move || {
            let entries = match std::fs::read_dir(&folder) {
                Ok(entries) => entries,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let mut out = Vec::new();
            for entry in entries {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.file_type()?.is_dir() && !name.starts_with(".tmp-") {
                    out.push(name);
                }
            }
            out.sort();
            Ok(out)
        })
        .await;
        found.map_err(|e| self.io("list", &prefix, e))
    }

    async fn sweep(&self, dir: &str, before: std::time::SystemTime, _size: usize) -> Result<()> {
        let folder = self.full(dir.trim_end_matches('/'))?;
        blocking(move || {
            let entries = match std::fs::read_dir(&folder) {
                Ok(entries) => entries,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            for entry in entries.flatten() {
                let stale = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|at| at < before);
                if entry.file_name().to_string_lossy().starts_with(".tmp-") && stale {
                    // a write killed before its rename; one still going is newer than this put
                    let _ = std::fs::remove_file(entry.path());
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| self.io("sweep", dir, e))
    }

    async fn leftovers(
        &self,
        prefix: &str,
        before: std::time::SystemTime,
        remove: bool,
    ) -> Result<Vec<Listed>> {
        let (root, start, prefix) = self.walk_start(prefix)?;
        let found = blocking(move || {
            let mut out = Vec::new();
            walk_files(&start, &mut |entry| {
                let temporary = entry.file_name().to_string_lossy().starts_with(".tmp-");
                let Ok(meta) = entry.metadata() else {
                    return Ok(());
                };
                let stale = meta.modified().is_ok_and(|at| at < before);
                if temporary && stale {
                    let path = entry.path();
                    if remove {
                        let _ = std::fs::remove_file(&path);
                    }
                    if let Ok(rel) = path.strip_prefix(&root) {
                        out.push(Listed {
                            path: rel.to_string_lossy().into_owned(),
                            size: meta.len(),
                            modified: meta.modified().ok(),
                        });
                    }
                }
                Ok(())
            })?;
            out.sort_by(|a: &Listed, b: &Listed| a.path.cmp(&b.path));
            Ok(out)
        })
        .await;
        found.map_err(|e| self.io("sweep", &prefix, e))
    }

    fn url(&self) -> &str {
        &self.url
    }
}
