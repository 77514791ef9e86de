//! `hwaddr` / `macaddr` (ansible.utils): MAC addresses in netaddr's formats.

use minijinja::value::Value;
use minijinja::Error;

use super::invalid;

/// `hwaddr` / `macaddr` with netaddr's formats.
pub fn hwaddr(value: Value, query: Option<String>) -> Result<Value, Error> {
    let query = query.unwrap_or_default();
    let text = value.as_str().unwrap_or_default().to_string();
    let hex: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let seps: String = text.chars().filter(|c| !c.is_ascii_hexdigit()).collect();
    let valid_shape = (hex.len() == 12 && seps.chars().all(|c| ":-.".contains(c)))
        || text.split([':', '-']).filter(|p| !p.is_empty()).count() == 6
            && text
                .split([':', '-'])
                .all(|p| (1..=2).contains(&p.len()) && p.chars().all(|c| c.is_ascii_hexdigit()));
    let n = if text.contains([':', '-']) && !hex.is_empty() && text.split([':', '-']).count() == 6 {
        text.split([':', '-']).try_fold(0u64, |acc, p| {
            u64::from_str_radix(p, 16).ok().map(|b| acc << 8 | b)
        })
    } else if valid_shape {
        u64::from_str_radix(&hex, 16).ok()
    } else {
        None
    };
    let Some(n) = n.filter(|_| valid_shape) else {
        if query.is_empty() || query == "bool" {
            return Ok(Value::from(()));
        }
        return Err(invalid(format!("hwaddr: not a hardware address: {text}")));
    };
    let b: Vec<u8> = (0..6).rev().map(|i| (n >> (i * 8)) as u8).collect();
    let join = |fmt: &dyn Fn(&u8) -> String, sep: &str| -> String {
        b.iter().map(fmt).collect::<Vec<_>>().join(sep)
    };
    Ok(Value::from(match query.as_str() {
        "" => text,
        "bool" => return Ok(Value::from(true)),
        "int" => return Ok(Value::from(n)),
        "bare" => format!("{n:012X}"),
        "cisco" => format!(
            "{:04x}.{:04x}.{:04x}",
            (n >> 32) & 0xffff,
            (n >> 16) & 0xffff,
            n & 0xffff
        ),
        "eui48" | "win" => join(&|x| format!("{x:02X}"), "-"),
        "linux" => join(&|x| format!("{x:02x}"), ":"),
        "unix" => join(&|x| format!("{x:x}"), ":"),
        "pgsql" | "postgresql" | "psql" => format!("{:06x}:{:06x}", n >> 24, n & 0xff_ffff),
        other => return Err(invalid(format!("hwaddr: unknown filter type: {other}"))),
    }))
}
