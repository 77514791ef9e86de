//! ansible.netcommon's `vlan_parser` (a VLAN list as IOS `switchport trunk allowed vlan`
//! lines) and `vlan_expander` (`"1-3,5"` to `[1, 2, 3, 5]`).

use minijinja::value::{Kwargs, Value};
use minijinja::Error;

use super::invalid;

pub fn vlan_parser(
    data: Value,
    first_line_len: Option<usize>,
    other_line_len: Option<usize>,
    kwargs: Kwargs,
) -> Result<Vec<String>, Error> {
    let first = match kwargs.get::<Option<usize>>("first_line_len")? {
        Some(n) => n,
        None => first_line_len.unwrap_or(48),
    };
    let other = match kwargs.get::<Option<usize>>("other_line_len")? {
        Some(n) => n,
        None => other_line_len.unwrap_or(44),
    };
    kwargs.assert_all_used()?;
    if data.kind() != minijinja::value::ValueKind::Seq {
        return Err(invalid("vlan_parser: Input is not valid for vlan_parser"));
    }
    let mut ids = Vec::new();
    for v in data.try_iter()? {
        ids.push(
            i64::try_from(v.clone())
                .map_err(|_| invalid(format!("vlan_parser: `{v}` is not a VLAN number")))?,
        );
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.first().is_some_and(|f| *f < 1) || ids.last().is_some_and(|l| *l > 4094) {
        return Err(invalid("vlan_parser: Valid VLAN range is 1-4094"));
    }
    let mut parts = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let mut end = i;
        while end + 1 < ids.len() && ids[end + 1] - ids[end] == 1 {
            end += 1;
        }
        match end - i {
            0 => parts.push(ids[i].to_string()),
            1 => {
                parts.push(ids[i].to_string());
                parts.push(ids[end].to_string());
            }
            _ => parts.push(format!("{}-{}", ids[i], ids[end])),
        }
        i = end + 1;
    }
    let mut lines = vec![String::new()];
    for p in parts {
        let limit = if lines.len() == 1 { first } else { other };
        let last = lines.len() - 1;
        if lines[last].len() + p.len() > limit {
            lines.push(String::new());
        }
        let last = lines.len() - 1;
        lines[last].push_str(&p);
        lines[last].push(',');
    }
    let mut out: Vec<String> = lines
        .into_iter()
        .map(|l| l.trim_end_matches(',').to_string())
        .collect();
    if let Some(pos) = out.iter().position(String::is_empty) {
        out.remove(pos);
    }
    Ok(out)
}

pub fn vlan_expander(data: String) -> Result<Vec<i64>, Error> {
    let num = |s: &str| {
        s.trim()
            .parse::<i64>()
            .map_err(|_| invalid(format!("vlan_expander: `{s}` is not a VLAN number")))
    };
    let mut out = Vec::new();
    for part in data.split(',') {
        match part.split_once('-') {
            Some((a, b)) => out.extend(num(a)?..=num(b)?),
            None => out.push(num(part)?),
        }
    }
    out.sort_unstable();
    Ok(out)
}
