//! Which runs a runs list shows: by status, trigger, version and a range of start dates, as the
//! URL's query says (`?status=failed&trigger=airflow&version=…&from=2026-11-01&to=2026-11-30`),
//! so that a filtered list can be shared.

use chrono::NaiveDate;
use serde::Deserialize;
use slipstream_core::records::RunSummary;

use crate::error::{Result, UiError};
use crate::time::instant;

/// The filter as the query gives it: empty values are no filter.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunFilter {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub trigger: String,
    #[serde(default)]
    pub version: String,
    /// First day (UTC) a shown run started on, `YYYY-MM-DD`.
    #[serde(default)]
    pub from: String,
    /// Last day (UTC), included.
    #[serde(default)]
    pub to: String,
}

/// A [`RunFilter`] checked: its dates parsed.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    filter: RunFilter,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl RunFilter {
    pub fn is_empty(&self) -> bool {
        [
            &self.status,
            &self.trigger,
            &self.version,
            &self.from,
            &self.to,
        ]
        .iter()
        .all(|v| v.is_empty())
    }

    pub fn check(self) -> Result<Checked> {
        let day = |text: &str, name: &str| -> Result<Option<NaiveDate>> {
            if text.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    UiError::BadRequest(format!("{name}={text:?} is not a date like 2026-11-24"))
                })
        };
        let (from, to) = (day(&self.from, "from")?, day(&self.to, "to")?);
        Ok(Checked {
            filter: self,
            from,
            to,
        })
    }
}

impl Checked {
    pub fn is_empty(&self) -> bool {
        self.filter.is_empty()
    }

    pub fn query(&self) -> &RunFilter {
        &self.filter
    }

    /// Whether `run` is shown. A run whose start cannot be read is left out by a date range.
    pub fn keeps(&self, run: &RunSummary) -> bool {
        let f = &self.filter;
        let same = |wanted: &str, value: &str| wanted.is_empty() || wanted == value;
        if !same(&f.status, run.status.as_str())
            || !same(&f.trigger, &run.trigger)
            || !same(&f.version, &run.version)
        {
            return false;
        }
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        let Some(day) = instant(&run.started_at).map(|t| t.naive_utc().date()) else {
            return false;
        };
        self.from.is_none_or(|from| day >= from) && self.to.is_none_or(|to| day <= to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: &str, trigger: &str, started_at: &str) -> RunSummary {
        serde_json::from_value(serde_json::json!({
            "run_id": "r", "version": "v1", "trigger": trigger, "status": status,
            "params": {}, "started_at": started_at, "ended_at": null, "metrics": {},
            "checks": {}, "failed": {}, "indexed_at": "2026-11-24T10:00:00+00:00",
        }))
        .unwrap()
    }

    #[test]
    fn every_given_condition_must_hold() {
        let filter = RunFilter {
            status: "failed".into(),
            trigger: "airflow".into(),
            from: "2026-11-24".into(),
            to: "2026-11-24".into(),
            ..RunFilter::default()
        }
        .check()
        .unwrap();
        assert!(filter.keeps(&run("failed", "airflow", "2026-11-24T23:59:00+00:00")));
        // 00:30 in Paris is still the 23rd in UTC
        assert!(!filter.keeps(&run("failed", "airflow", "2026-11-24T00:30:00+01:00")));
        assert!(!filter.keeps(&run("success", "airflow", "2026-11-24T08:00:00+00:00")));
        assert!(!filter.keeps(&run("failed", "local", "2026-11-24T08:00:00+00:00")));
        assert!(!filter.keeps(&run("failed", "airflow", "not a time")));
    }

    #[test]
    fn no_condition_keeps_everything_and_bad_dates_say_so() {
        let all = RunFilter::default().check().unwrap();
        assert!(all.is_empty() && all.keeps(&run("running", "local", "garbage")));
        let bad = RunFilter {
            from: "24/11/2026".into(),
            ..RunFilter::default()
        }
        .check()
        .unwrap_err();
        assert!(bad.to_string().contains("2026-11-24"), "{bad}");
    }
}
