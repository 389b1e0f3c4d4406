//! `Store.download`: an artifact's payload streamed into a local file, verified on the way,
//! with a progress bar when a person is watching.

use std::io::Write;
use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};
use slipstream_core::{ArtifactKey, Manifest};
use slipstream_store::{ObjectStore, StoreError, artifacts, persist, temporary_in};

/// Why a download failed: reading the store, or writing the destination file.
pub(crate) enum DownloadError {
    Store(StoreError),
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Streams the payload of `key` into the file `dest` and returns its manifest.
///
/// The bytes go to a hidden temporary file beside `dest`, renamed over `dest` only once the
/// whole payload has passed the size and checksum checks: `dest` is either left as it was or
/// holds the complete, verified payload. Memory stays at a few chunks whatever the size.
///
/// The file is written synchronously: this runs under [`crate::runtime::wait`], on the
/// caller's thread, while the transfers themselves run on the runtime's workers.
pub(crate) async fn download(
    store: &dyn ObjectStore,
    key: &ArtifactKey,
    dest: &Path,
    progress: bool,
) -> Result<Manifest, DownloadError> {
    let file_error = |source| DownloadError::File {
        path: dest.to_owned(),
        source,
    };
    let (manifest, mut chunks) = artifacts::read_chunks(store, key)
        .await
        .map_err(DownloadError::Store)?;
    let dir = match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut partial = temporary_in(dir, ".slipstream-download-").map_err(file_error)?;
    let bar = bar(manifest.bytes, dest, progress);
    while let Some(chunk) = chunks.try_next().await.map_err(DownloadError::Store)? {
        partial.write_all(&chunk).map_err(file_error)?;
        bar.inc(chunk.len() as u64);
    }
    persist(partial, dest).map_err(file_error)?;
    Ok(manifest)
}

/// A byte-count bar on stderr, cleared when dropped (done or failed) so that what is printed
/// next starts on a clean line; indicatif hides it when stderr is not a terminal, so piped
/// and logged output stays free of escape codes.
fn bar(total: u64, dest: &Path, progress: bool) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
    )
    .expect("the template is valid")
    .progress_chars("=> ");
    let name = dest.file_name().unwrap_or(dest.as_os_str());
    ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
        .with_style(style)
        .with_message(name.to_string_lossy().into_owned())
        .with_finish(ProgressFinish::AndClear)
}
