//! Reading netorch's JSON report (`run`, `exec`, `push`, `pull`, `backup --json`) in tests.

use std::process::Output;

use serde_json::Value;

/// stdout as one JSON document; a panic that shows stdout and stderr when it is not.
pub fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Every host result of every task, in order.
pub fn host_results(doc: &Value) -> Vec<Value> {
    doc["plays"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["tasks"].as_array().unwrap().clone())
        .flat_map(|t| t["hosts"].as_array().unwrap().clone())
        .collect()
}

/// Every host's result for the task named `task`.
pub fn results<'a>(doc: &'a Value, task: &str) -> Vec<&'a Value> {
    doc["plays"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["tasks"].as_array().unwrap())
        .filter(|t| t["name"] == task)
        .flat_map(|t| t["hosts"].as_array().unwrap())
        .collect()
}

/// The one host result of a one-host, one-task run.
pub fn only_result(out: &Output) -> Value {
    let doc = json_of(out);
    let r = host_results(&doc);
    assert_eq!(r.len(), 1, "{doc:#}");
    r[0].clone()
}
