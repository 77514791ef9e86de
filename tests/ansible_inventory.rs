//! Differential test: every inventory of tests/ansible/inventories/ loaded by
//! `ansible-inventory --list` (the pinned oracle, scripts/ansible-env) and by netorch gives
//! the same hosts, the same group tree and the same merged variables, types included.
//!
//! A case is a folder: its `inv/` folder is the one source when there is one, else every
//! file whose name starts with `hosts`, in name order, each given with its own `-i` (later
//! sources win, as in both tools). `group_vars/` and `host_vars/` beside a source apply.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::util::{self, ansible};

fn cases() -> Vec<PathBuf> {
    let dir = util::root().join("tests/ansible/inventories");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

fn sources(case: &Path) -> Vec<PathBuf> {
    let folder = case.join("inv");
    if folder.is_dir() {
        return vec![folder];
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(case)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("hosts"))
        })
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "{}: no hosts* file and no inv/",
        case.display()
    );
    files
}

/// `ansible-inventory --list`, as hosts (in order), groups and host vars.
fn ansible_view(case: &Path, scratch: &Path) -> Value {
    let mut cmd = ansible::command("ansible-inventory", scratch);
    for s in sources(case) {
        cmd.arg("-i").arg(s);
    }
    let out = ansible::run_ok(cmd.arg("--list"));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hostvars = list["_meta"]["hostvars"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut groups = BTreeMap::new();
    for (name, g) in list.as_object().unwrap() {
        if name == "_meta" {
            continue;
        }
        groups.insert(name.clone(), group_entry(g.get("hosts"), g.get("children")));
    }
    // Hosts without variables are absent from _meta.hostvars: they have none.
    let mut vars = Map::new();
    for g in groups.values() {
        for h in g["hosts"].as_array().unwrap() {
            let h = h.as_str().unwrap();
            vars.insert(h.to_string(), hostvars.get(h).cloned().unwrap_or(json!({})));
        }
    }
    json!({"groups": groups, "hostvars": sorted(vars)})
}

/// netorch's inventory in the same shape: a group is listed when it has hosts or children
/// (as `ansible-inventory --list` does), `all` with its children only.
fn netorch_view(case: &Path) -> Value {
    let inv = netorch::inventory::Inventory::load(&sources(case))
        .unwrap_or_else(|e| panic!("{}: netorch failed to load: {e}", case.display()));
    let mut groups = BTreeMap::new();
    for (name, g) in &inv.groups {
        let hosts = if name == "all" {
            vec![]
        } else {
            g.hosts.clone()
        };
        if hosts.is_empty() && g.children.is_empty() {
            continue;
        }
        let hosts = json!(hosts);
        let children = json!(g.children);
        groups.insert(name.clone(), group_entry(Some(&hosts), Some(&children)));
    }
    let mut vars = Map::new();
    for (name, h) in &inv.hosts {
        vars.insert(
            name.clone(),
            Value::Object(h.vars.clone().into_iter().collect()),
        );
    }
    json!({"groups": groups, "hostvars": sorted(vars)})
}

/// Hosts keep their order (it is the order a play runs them in); children are a set.
fn group_entry(hosts: Option<&Value>, children: Option<&Value>) -> Value {
    let hosts = hosts.cloned().unwrap_or(json!([]));
    let mut children: Vec<String> = children
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    children.sort();
    json!({"hosts": hosts, "children": children})
}

fn sorted(m: Map<String, Value>) -> Value {
    let b: BTreeMap<String, Value> = m
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::Object(o) => Value::Object(
                    o.into_iter()
                        .collect::<BTreeMap<_, _>>()
                        .into_iter()
                        .collect(),
                ),
                other => other,
            };
            (k, v)
        })
        .collect();
    json!(b)
}

/// Every difference between the two views, one line each, typed (`1000.0` is not `1000`).
fn differences(want: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => differences(wv, gv, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: ansible has {wv}, netorch has nothing")),
                }
            }
            for (k, gv) in g {
                if !w.contains_key(k) {
                    out.push(format!("{path}.{k}: netorch has {gv}, ansible has nothing"));
                }
            }
        }
        _ if same(want, got) => {}
        _ => out.push(format!("{path}: ansible {want}, netorch {got}")),
    }
}

/// Equal values of equal JSON types: numbers compare as integer or float too.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.is_f64() == y.is_f64() && x.as_f64() == y.as_f64() && x.as_i64() == y.as_i64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn inventories_match_ansible_inventory_list() {
    let cases = cases();
    assert!(
        cases.len() >= 20,
        "the corpus has {} inventories",
        cases.len()
    );
    let scratch = tempfile::tempdir().unwrap();
    // Ansible starts slowly (~1 s): ask it about all cases at once, two at a time per core.
    let views: Vec<(PathBuf, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(cases.len().div_ceil(4))
            .map(|chunk| {
                let scratch = scratch.path();
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|c| (c.clone(), ansible_view(c, scratch)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut report = Vec::new();
    for (case, want) in &views {
        let got = netorch_view(case);
        let mut diffs = Vec::new();
        differences(want, &got, "", &mut diffs);
        if !diffs.is_empty() {
            let name = case.file_name().unwrap().to_string_lossy();
            report.push(format!("{name}:\n  {}", diffs.join("\n  ")));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {} inventories differ from ansible-inventory --list:\n{}",
        report.len(),
        views.len(),
        report.join("\n")
    );
}
