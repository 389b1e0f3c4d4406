//! What a store holds, by record kind and format: `slipstream doctor`'s survey. Every record
//! is read (a few in flight at once) for its `format` alone; payloads and markers are only
//! listed past.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use serde::Deserialize;
use slipstream_core::records::record_kind;

use crate::{ObjectStore, Result, StoreError};

/// How many records are read at once.
const IN_FLIGHT: usize = 32;

/// The records of a store: how many of each `(kind, format)`, and those whose format cannot
/// be read, with why.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Survey {
    pub formats: BTreeMap<(&'static str, u32), u64>,
    pub unreadable: Vec<(String, String)>,
}

/// Only the `format` field (absent: format 1, as every reader takes it).
#[derive(Deserialize)]
struct FormatOnly {
    #[serde(default = "first")]
    format: serde_json::Value,
}

fn first() -> serde_json::Value {
    serde_json::Value::from(1)
}

/// Surveys every record of `store`.
pub async fn survey(store: Arc<dyn ObjectStore>) -> Result<Survey> {
    let records: Vec<String> = store
        .list("")
        .await?
        .into_iter()
        .filter(|path| record_kind(path).is_some())
        .collect();
    let read: Vec<(String, Result<bytes::Bytes>)> = stream::iter(records)
        .map(|path| {
            let store = store.clone();
            async move {
                let bytes = store.get(&path).await;
                (path, bytes)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut survey = Survey::default();
    for (path, bytes) in read {
        let Some(kind) = record_kind(&path) else {
            continue;
        };
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(StoreError::NotFound { .. }) => continue, // removed since it was listed
            Err(other) => return Err(other),
        };
        match serde_json::from_slice::<FormatOnly>(&bytes) {
            Ok(FormatOnly { format }) => match format.as_u64().map(u32::try_from) {
                Some(Ok(format)) => *survey.formats.entry((kind, format)).or_default() += 1,
                _ => survey
                    .unreadable
                    .push((path, format!("no format number: {format}"))),
            },
            Err(e) => survey
                .unreadable
                .push((path, format!("not JSON with a format: {e}"))),
        }
    }
    survey.unreadable.sort();
    Ok(survey)
}
