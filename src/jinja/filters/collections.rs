//! Ansible's filters on lists and dicts: combine, dict2items/items2dict, set operations,
//! flatten, zip, subelements, product, ternary, bool, mandatory.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Error, State};

use super::invalid;

fn list(v: &Value, filter: &str) -> Result<Vec<Value>, Error> {
    match v.kind() {
        ValueKind::Seq | ValueKind::Iterable | ValueKind::Map | ValueKind::String => {
            Ok(v.try_iter()?.collect())
        }
        ValueKind::Undefined => Err(Error::from(minijinja::ErrorKind::UndefinedError)),
        other => Err(invalid(format!("{filter}: expected a list, got {other}"))),
    }
}

fn pairs(v: &Value) -> Result<Vec<(Value, Value)>, Error> {
    v.try_iter()?
        .map(|k| Ok((k.clone(), v.get_item(&k)?)))
        .collect()
}

/// `d1 | combine(d2, [d3...], recursive=False, list_merge='replace')`; a list of dicts
/// counts as its dicts.
pub fn combine(base: Value, rest: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive: bool = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    let list_merge: String = kwargs
        .get::<Option<String>>("list_merge")?
        .unwrap_or_else(|| "replace".into());
    kwargs.assert_all_used()?;
    const MERGES: &[&str] = &[
        "replace",
        "keep",
        "append",
        "prepend",
        "append_rp",
        "prepend_rp",
    ];
    if !MERGES.contains(&list_merge.as_str()) {
        return Err(invalid(format!(
            "combine: list_merge is `{list_merge}`; expected one of {}",
            MERGES.join(", ")
        )));
    }
    let mut dicts = Vec::new();
    for t in std::iter::once(base).chain(rest.0) {
        if t.kind() == ValueKind::Seq {
            dicts.extend(t.try_iter()?);
        } else {
            dicts.push(t);
        }
    }
    let mut acc: Option<Value> = None;
    for d in dicts {
        if d.kind() != ValueKind::Map {
            return Err(invalid(format!(
                "combine: expects dictionaries, got {} ({})",
                d.kind(),
                crate::jinja::python::repr(&d)
            )));
        }
        acc = Some(match acc {
            None => d,
            Some(a) => merge_hash(&a, &d, recursive, &list_merge)?,
        });
    }
    Ok(acc.unwrap_or_else(|| Value::from_iter(Vec::<(Value, Value)>::new())))
}

fn merge_hash(x: &Value, y: &Value, recursive: bool, list_merge: &str) -> Result<Value, Error> {
    let mut out: indexmap::IndexMap<Value, Value> = pairs(x)?.into_iter().collect();
    for (k, yv) in pairs(y)? {
        let merged = match out.get(&k) {
            None => yv,
            Some(xv) if xv.kind() == ValueKind::Map && yv.kind() == ValueKind::Map => {
                if recursive {
                    merge_hash(xv, &yv, recursive, list_merge)?
                } else {
                    yv
                }
            }
            Some(xv) if xv.kind() == ValueKind::Seq && yv.kind() == ValueKind::Seq => {
                let xs: Vec<Value> = xv.try_iter()?.collect();
                let ys: Vec<Value> = yv.try_iter()?.collect();
                let kept = || xs.iter().filter(|z| !ys.contains(z)).cloned();
                Value::from(match list_merge {
                    "keep" => xs.clone(),
                    "append" => xs.iter().chain(&ys).cloned().collect(),
                    "prepend" => ys.iter().chain(&xs).cloned().collect(),
                    "append_rp" => kept().chain(ys.iter().cloned()).collect(),
                    "prepend_rp" => ys.iter().cloned().chain(kept()).collect(),
                    _ => ys,
                })
            }
            Some(_) => yv,
        };
        out.insert(k, merged);
    }
    Ok(Value::from_iter(out))
}

/// `key_name` and `value_name` of dict2items / items2dict (default `key`, `value`).
fn key_value_names(kwargs: &Kwargs) -> Result<(String, String), Error> {
    let key = kwargs
        .get::<Option<String>>("key_name")?
        .unwrap_or("key".into());
    let value = kwargs
        .get::<Option<String>>("value_name")?
        .unwrap_or("value".into());
    kwargs.assert_all_used()?;
    Ok((key, value))
}

pub fn dict2items(d: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let (key, value) = key_value_names(&kwargs)?;
    if d.kind() != ValueKind::Map {
        return Err(invalid(format!(
            "dict2items requires a dictionary, got {}",
            d.kind()
        )));
    }
    Ok(Value::from(
        pairs(&d)?
            .into_iter()
            .map(|(k, v)| Value::from_iter([(key.clone(), k), (value.clone(), v)]))
            .collect::<Vec<_>>(),
    ))
}

pub fn items2dict(l: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let (key, value) = key_value_names(&kwargs)?;
    let mut out = indexmap::IndexMap::new();
    for item in list(&l, "items2dict")? {
        let k = item.get_attr(&key)?;
        let v = item.get_attr(&value)?;
        if k.is_undefined() || v.is_undefined() {
            return Err(invalid(format!(
                "items2dict: each item needs the keys `{key}` and `{value}`; got {}",
                crate::jinja::python::repr(&item)
            )));
        }
        out.insert(k, v);
    }
    Ok(Value::from_iter(out))
}

/// `cond | ternary(a, b, none_val)`.
pub fn ternary(
    cond: Value,
    yes: Value,
    no: Value,
    none_val: Option<Value>,
) -> Result<Value, Error> {
    if cond.is_none() {
        if let Some(n) = none_val {
            return Ok(n);
        }
    }
    Ok(if cond.is_true() { yes } else { no })
}

/// Ansible's `bool`: yes/on/1/true (any case) are true, anything else false.
pub fn to_bool(v: Value) -> bool {
    match v.kind() {
        ValueKind::Bool => v.is_true(),
        ValueKind::None | ValueKind::Undefined => false,
        ValueKind::Number => v.as_i64() == Some(1) || f64::try_from(v).ok() == Some(1.0),
        _ => {
            let s = v.to_string().to_lowercase();
            matches!(s.trim(), "yes" | "on" | "1" | "true" | "y" | "t")
        }
    }
}

pub fn mandatory(state: &State, v: Value, msg: Option<String>) -> Result<Value, Error> {
    if v.is_undefined() {
        let _ = state;
        return Err(invalid(msg.unwrap_or_else(|| {
            "Mandatory variable has not been defined (the `mandatory` filter)".into()
        })));
    }
    Ok(v)
}

fn dedup(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

pub fn unique(v: Value) -> Result<Value, Error> {
    Ok(Value::from(dedup(list(&v, "unique")?)))
}

pub fn union(a: Value, b: Value) -> Result<Value, Error> {
    let mut all = list(&a, "union")?;
    all.extend(list(&b, "union")?);
    Ok(Value::from(dedup(all)))
}

pub fn intersect(a: Value, b: Value) -> Result<Value, Error> {
    let b = list(&b, "intersect")?;
    Ok(Value::from(dedup(
        list(&a, "intersect")?
            .into_iter()
            .filter(|x| b.contains(x))
            .collect(),
    )))
}

pub fn difference(a: Value, b: Value) -> Result<Value, Error> {
    let b = list(&b, "difference")?;
    Ok(Value::from(dedup(
        list(&a, "difference")?
            .into_iter()
            .filter(|x| !b.contains(x))
            .collect(),
    )))
}

pub fn symmetric_difference(a: Value, b: Value) -> Result<Value, Error> {
    let la = list(&a, "symmetric_difference")?;
    let lb = list(&b, "symmetric_difference")?;
    let mut out: Vec<Value> = la.iter().filter(|x| !lb.contains(x)).cloned().collect();
    out.extend(lb.iter().filter(|x| !la.contains(x)).cloned());
    Ok(Value::from(dedup(out)))
}

/// `flatten(levels=None, skip_nulls=True)`.
pub fn flatten(v: Value, levels: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let levels: Option<i64> = match levels {
        Some(l) if !l.is_none() => Some(i64::try_from(l)?),
        _ => kwargs.get::<Option<i64>>("levels")?,
    };
    let skip_nulls = kwargs.get::<Option<bool>>("skip_nulls")?.unwrap_or(true);
    kwargs.assert_all_used()?;
    fn go(items: Vec<Value>, levels: Option<i64>, skip: bool, out: &mut Vec<Value>) {
        for i in items {
            let is_null = i.is_none() || i.as_str().is_some_and(|s| s == "None");
            if skip && is_null {
                continue;
            }
            if i.kind() == ValueKind::Seq && levels.is_none_or(|l| l > 0) {
                let inner: Vec<Value> = i.try_iter().map(|it| it.collect()).unwrap_or_default();
                go(inner, levels.map(|l| l - 1), skip, out);
            } else {
                out.push(i);
            }
        }
    }
    let mut out = Vec::new();
    go(list(&v, "flatten")?, levels, skip_nulls, &mut out);
    Ok(Value::from(out))
}

pub fn zip(a: Value, rest: Rest<Value>) -> Result<Value, Error> {
    let mut lists = vec![list(&a, "zip")?];
    for r in rest.0 {
        lists.push(list(&r, "zip")?);
    }
    let n = lists.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Value::from(
        (0..n)
            .map(|i| Value::from(lists.iter().map(|l| l[i].clone()).collect::<Vec<_>>()))
            .collect::<Vec<_>>(),
    ))
}

pub fn zip_longest(a: Value, rest: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let fill: Value = kwargs
        .get::<Option<Value>>("fillvalue")?
        .unwrap_or(Value::from(()));
    kwargs.assert_all_used()?;
    let mut lists = vec![list(&a, "zip_longest")?];
    for r in rest.0 {
        lists.push(list(&r, "zip_longest")?);
    }
    let n = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok(Value::from(
        (0..n)
            .map(|i| {
                Value::from(
                    lists
                        .iter()
                        .map(|l| l.get(i).cloned().unwrap_or(fill.clone()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

/// `users | subelements('groups', skip_missing=False)`: pairs of (item, sub-item).
pub fn subelements(v: Value, key: String, kwargs: Kwargs) -> Result<Value, Error> {
    let skip_missing = kwargs.get::<Option<bool>>("skip_missing")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    for item in list(&v, "subelements")? {
        let mut cur = item.clone();
        for part in key.split('.') {
            cur = cur.get_attr(part)?;
        }
        if cur.is_undefined() {
            if skip_missing {
                continue;
            }
            return Err(invalid(format!(
                "subelements: could not find `{key}` in an item ({})",
                crate::jinja::python::repr(&item)
            )));
        }
        if cur.kind() != ValueKind::Seq {
            return Err(invalid(format!(
                "subelements: the key `{key}` should point to a list, got {}",
                cur.kind()
            )));
        }
        for sub in cur.try_iter()? {
            out.push(Value::from(vec![item.clone(), sub]));
        }
    }
    Ok(Value::from(out))
}

/// The cartesian product of the lists (`itertools.product`).
pub fn product(a: Value, rest: Rest<Value>) -> Result<Value, Error> {
    let mut acc: Vec<Vec<Value>> = vec![vec![]];
    let mut lists = vec![list(&a, "product")?];
    for r in rest.0 {
        lists.push(list(&r, "product")?);
    }
    for l in lists {
        let mut next = Vec::new();
        for prefix in &acc {
            for x in &l {
                let mut p = prefix.clone();
                p.push(x.clone());
                next.push(p);
            }
        }
        acc = next;
    }
    Ok(Value::from(
        acc.into_iter().map(Value::from).collect::<Vec<_>>(),
    ))
}
