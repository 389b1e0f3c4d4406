//! Opens a store from its URL.

use std::path::PathBuf;
use std::sync::Arc;

use crate::{LocalStore, ObjectStore, Result, S3Store, S3Tuning, StoreError};

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
