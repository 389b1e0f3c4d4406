//! Timestamps as records carry them: RFC 3339, written by slipstream (`…+00:00`) or by
//! Airflow (`…Z`). Compared as instants, never as strings, so every spelling orders alike.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};

/// The instant an RFC 3339 timestamp names, if it parses.
pub fn instant(ts: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(ts).ok()
}

/// Seconds between two RFC 3339 timestamps, if both parse and `end` is not before `start`.
pub fn seconds_between(start: &str, end: &str) -> Option<f64> {
    let elapsed = instant(end)? - instant(start)?;
    (elapsed >= chrono::TimeDelta::zero()).then(|| elapsed.as_seconds_f64())
}

/// Newest first by `(timestamp, id)`: the id breaks ties, so equal or unparsable
/// timestamps still give one order; an unparsable timestamp sorts as the oldest.
pub fn newest_first(a: (&str, &str), b: (&str, &str)) -> Ordering {
    let key = |(ts, id): (&str, &str)| (instant(ts), id.to_owned());
    key(b).cmp(&key(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_of_utc_order_as_instants() {
        // As strings `Z` sorts after `.`; as instants the later one is the fraction.
        let airflow = ("2026-11-24T10:00:00Z", "a");
        let ours = ("2026-11-24T10:00:00.500+00:00", "b");
        assert_eq!(newest_first(ours, airflow), Ordering::Less);
        assert_eq!(seconds_between(airflow.0, ours.0), Some(0.5));
    }

    #[test]
    fn ties_and_garbage_still_give_one_order() {
        let t = "2026-11-24T10:00:00+00:00";
        assert_eq!(newest_first((t, "run-2"), (t, "run-1")), Ordering::Less);
        assert_eq!(newest_first(("", "x"), (t, "y")), Ordering::Greater);
        assert_eq!(newest_first(("", "x"), ("", "x")), Ordering::Equal);
        let new_york = ("2026-11-24T05:30:00-05:00", "a"); // 10:30 UTC
        assert_eq!(newest_first(new_york, (t, "b")), Ordering::Less);
    }
}
