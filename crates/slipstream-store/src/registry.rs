//! Opens a store from its URL.

use std::path::PathBuf;
use std::sync::Arc;

use crate::{LocalStore, ObjectStore, Result, S3Store, S3Tuning, StoreError};

/// The URL of a store given as a URL or as a plain local path (`/data/slip`, `./slip`,
/// `slip`: a folder, made absolute against the working directory).
pub fn store_url(location: &str) -> Result<String> {
    if location.contains("://") {
        return Ok(location.to_owned());
    }
    let invalid = |reason: String| StoreError::InvalidUrl {
        url: location.to_owned(),
        reason,
    };
    if location.trim().is_empty() {
        return Err(invalid(
            "expected a folder, file:///absolute/path or s3://bucket/prefix".into(),
        ));
    }
    let path = std::path::absolute(location).map_err(|e| invalid(e.to_string()))?;
    let url = url::Url::from_file_path(&path)
        .map_err(|()| invalid(format!("{} is not a local path", path.display())))?;
    Ok(url.to_string())
}

/// Opens the store a URL names: `file:///abs/path` or `s3://bucket[/prefix]`.
pub async fn open(url: &str) -> Result<Arc<dyn ObjectStore>> {
    let invalid = |reason: &str| StoreError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let (scheme, _) = url
        .split_once("://")
        .ok_or_else(|| invalid("expected file:///absolute/path or s3://bucket/prefix"))?;
    match scheme {
        "file" => {
            let parsed = url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
            if parsed
                .host_str()
                .is_some_and(|h| !h.is_empty() && h != "localhost")
            {
                return Err(invalid(
                    "file URLs name a local path: file:///absolute/path",
                ));
            }
            let path: PathBuf = parsed
                .to_file_path()
                .map_err(|()| invalid("file URLs need an absolute path: file:///absolute/path"))?;
            Ok(Arc::new(LocalStore::new(path)?))
        }
        "s3" => Ok(Arc::new(S3Store::open(url, S3Tuning::from_env()?).await?)),
        other => Err(invalid(&format!(
            "unknown scheme {other:?}: slipstream stores are file:// or s3://"
        ))),
    }
}
