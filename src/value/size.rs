//! Byte counts as users write them: `500000`, `500K`, `10M`, `1.5G`, optionally with a `B`
//! or `iB` (`512KB`, `1MiB`). Suffixes are powers of 1024, as rsync's `--bwlimit` and most
//! network gear count them.

use serde_json::Value;

/// What a size looks like, for messages.
pub const SIZE_EXPECTED: &str =
    "a size: bytes as a number, or a string like \"512k\", \"16M\", \"1MiB\", \"2G\"";

/// Parse a byte count. `None` for anything else, negatives, or more than `u64` holds.
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let t = t.strip_suffix(['B', 'b']).unwrap_or(t).trim_end();
    let t = match t.strip_suffix('i') {
        Some(u) if u.ends_with(['k', 'K', 'm', 'M', 'g', 'G', 't', 'T']) => u,
        _ => t,
    };
    let (num, mult) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 1u64 << 10),
        'm' | 'M' => (&t[..t.len() - 1], 1 << 20),
        'g' | 'G' => (&t[..t.len() - 1], 1 << 30),
        't' | 'T' => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let num = num.trim();
    // Whole numbers exactly (an f64 loses bytes above 2^53); decimals through f64.
    if let Ok(n) = num.parse::<u64>() {
        return n.checked_mul(mult);
    }
    let n: f64 = num.parse().ok()?;
    let bytes = n * mult as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// A size held in a JSON value (a host variable): a whole number of bytes or a string as
/// [`parse_size`] reads it.
pub fn size_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => parse_size(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        for (text, want) in [
            ("1000", 1000),
            ("0", 0),
            ("500K", 500 * 1024),
            ("500k", 500 * 1024),
            ("512KB", 512 * 1024),
            ("10M", 10 << 20),
            ("10 MB", 10 << 20),
            ("1.5G", 3 << 29),
            ("1MiB", 1 << 20),
            ("512 KiB", 512 << 10),
            ("2T", 2 << 40),
            ("18446744073709551615", u64::MAX),
        ] {
            assert_eq!(parse_size(text), Some(want), "{text}");
        }
    }

    #[test]
    fn rejects() {
        for text in [
            "",
            "fast",
            "-1",
            "-1K",
            "10X",
            "K",
            "1e400",
            "NaN",
            "18446744073709551615K",
            "5i",
            "iB",
        ] {
            assert_eq!(parse_size(text), None, "{text}");
        }
    }
}
