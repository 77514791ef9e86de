//! Durations as users write them: a number of seconds (`30`, `2.5`) or a string with a unit
//! (`"500ms"`, `"30s"`, `"5m"`, `"2h"`). A plain number in a string (`"30"`) is seconds.

use std::time::Duration;

use serde_json::Value;

/// What a duration looks like, for messages.
pub const DURATION_EXPECTED: &str =
    "a duration: seconds as a number, or a string like \"30s\", \"500ms\", \"5m\", \"2h\"";

/// The longest duration accepted. Deadlines are `Instant::now() + duration`, which panics
/// on overflow; a year is longer than any timeout or interval anyone means.
pub const MAX_DURATION_SECS: u64 = 365 * 24 * 3600;

/// Parse `30`, `1.5`, `"30s"`, `"500ms"`, `"5m"`, `"2h"` (and the long forms `sec`, `min`,
/// `minutes`, `hours` ...). `None` for anything else, negatives, or more than a year.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (t[..i].trim(), t[i..].trim()),
        None => (t, "s"),
    };
    let n: f64 = num.parse().ok()?;
    let secs = match unit.to_ascii_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "millis" | "milliseconds" => n / 1000.0,
        "s" | "sec" | "secs" | "second" | "seconds" => n,
        "m" | "min" | "mins" | "minute" | "minutes" => n * 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => n * 3600.0,
        _ => return None,
    };
    from_secs(secs)
}

/// A number of seconds as a duration, within `0..=MAX_DURATION_SECS`.
pub fn from_secs(secs: f64) -> Option<Duration> {
    if !secs.is_finite() || !(0.0..=MAX_DURATION_SECS as f64).contains(&secs) {
        return None;
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// A duration held in a JSON value (a host variable): a number of seconds or a string as
/// [`parse_duration`] reads it. Booleans, lists and mappings are not durations.
pub fn duration_of(v: &Value) -> Option<Duration> {
    match v {
        Value::Number(n) => from_secs(n.as_f64()?),
        Value::String(s) => parse_duration(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn units() {
        for (text, want) in [
            ("30", Duration::from_secs(30)),
            ("1.5", Duration::from_millis(1500)),
            ("500ms", Duration::from_millis(500)),
            ("10s", Duration::from_secs(10)),
            ("1.5s", Duration::from_millis(1500)),
            ("5m", Duration::from_secs(300)),
            ("2h", Duration::from_secs(7200)),
            ("2 hours", Duration::from_secs(7200)),
            (" 3 min ", Duration::from_secs(180)),
            ("10S", Duration::from_secs(10)),
            ("0", Duration::ZERO),
        ] {
            assert_eq!(parse_duration(text), Some(want), "{text}");
        }
    }

    #[test]
    fn rejects() {
        for text in [
            "", "soon", "-1", "-5s", "5d", "1e400", "NaN", "inf", "5 m s", "ms", "2y",
        ] {
            assert_eq!(parse_duration(text), None, "{text}");
        }
        assert_eq!(parse_duration("366 days"), None);
        assert_eq!(parse_duration("9000h"), None, "more than a year");
        assert!(parse_duration("8760h").is_some(), "exactly a year");
    }

    #[test]
    fn json_values() {
        assert_eq!(duration_of(&json!(10)), Some(Duration::from_secs(10)));
        assert_eq!(duration_of(&json!(2.5)), Some(Duration::from_millis(2500)));
        assert_eq!(duration_of(&json!("2h")), Some(Duration::from_secs(7200)));
        assert_eq!(duration_of(&json!(-1)), None);
        assert_eq!(duration_of(&json!(true)), None);
        assert_eq!(duration_of(&json!([1])), None);
        assert_eq!(duration_of(&Value::Null), None);
    }
}
