//! Opens a store from its URL.

use std::path::PathBuf;
use std::sync::Arc;

use crate::{LocalStore, ObjectStore, Result, S3Store, S3Tuning, StoreError};

/// The URL of a store given as a URL or as a plain local path (`/data/slip`, `./slip`,
/// `slip`: a folder, made absolute against the working directory).
pub fn store_url(location: &str) -> Result<String> {
    if location.contains("://") {
        check_secrets(location)?;
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
    check_secrets(url)?;
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

/// Refuses a URL that carries credentials (`s3://KEY:SECRET@bucket`, `file://user:pw@/x`),
/// a query string or a fragment, before anything prints it: the URL is written into DAG
/// files, records and messages, so credentials come from the environment instead. The error
/// shows the URL with those parts masked, never their text.
fn check_secrets(url: &str) -> Result<()> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(());
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let (before, extra) = rest.split_at(end);
    // `user:secret@host`, where the secret may itself hold `/`: an `@` in the host part, or
    // one with a `:` anywhere before it.
    let host_end = before.find('/').unwrap_or(before.len());
    let at = before
        .rfind('@')
        .filter(|&at| before[..host_end].contains('@') || before[..at].contains(':'));
    if at.is_none() && extra.is_empty() {
        return Ok(());
    }
    let shown = format!(
        "{scheme}://{}{}{}",
        if at.is_some() { "***@" } else { "" },
        at.map_or(before, |at| &before[at + 1..]),
        if extra.is_empty() { "" } else { "?***" },
    );
    let reason = if at.is_some() {
        "store URLs must not carry credentials (they would be copied into DAG files, records \
         and messages): give them through the environment instead (for S3 \
         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role)"
    } else {
        "store URLs take no query string or fragment: s3://bucket/prefix or \
         file:///absolute/path (S3 settings come from the environment: AWS_ENDPOINT_URL, \
         AWS_REGION, SLIPSTREAM_S3_*)"
    };
    Err(StoreError::InvalidUrl {
        url: shown,
        reason: reason.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> String {
        match check_secrets(url) {
            Err(e) => e.to_string(),
            Ok(()) => panic!("{url} was accepted"),
        }
    }

    #[test]
    fn credentials_and_queries_are_refused_without_echoing_them() {
        for (url, shown) in [
            ("s3://AKIAKEY:s3cr3t@bucket/p", "s3://***@bucket/p"),
            ("file://u:pw@/tmp/store", "file://***@/tmp/store"),
            ("s3://bucket/p?secret=s3cr3t", "s3://bucket/p?***"),
            ("s3://bucket/p#s3cr3t", "s3://bucket/p?***"),
            ("s3://k:s3cr3t@bucket?s3cr3t", "s3://***@bucket?***"),
            // AWS secrets may hold `/`
            ("s3://AKIA:s3cr3t/pw+x@bucket/p", "s3://***@bucket/p"),
        ] {
            let message = refused(url);
            assert!(message.contains(shown), "{message}");
            assert!(
                !message.contains("s3cr3t") && !message.contains("pw"),
                "{message}"
            );
        }
    }

    #[test]
    fn plain_urls_pass() {
        for url in [
            "s3://bucket/p/q",
            "s3://bucket",
            "file:///tmp/a@b/c",
            "/tmp/x?y",
        ] {
            assert!(check_secrets(url).is_ok(), "{url}");
        }
    }

    #[allow(clippy::disallowed_methods)] // a test's own runtime
    #[tokio::test]
    async fn open_and_store_url_refuse_them() {
        assert!(store_url("s3://k:s3cr3t@bucket/p").is_err());
        let err = open("file://u:s3cr3t@/tmp/x")
            .await
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}
