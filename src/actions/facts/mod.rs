//! `gather_facts` (and Ansible's `ios_facts`, `eos_facts`, `nxos_facts`, `junos_facts`): read
//! the device's show output into Ansible's `ansible_net_*` facts, which become host
//! variables for the rest of the run. A play's `gather_facts: true` runs it first, as the
//! implicit "Gathering Facts" task, on the hosts whose platform is a network OS.
//!
//! The facts follow the platform the host really has (an `ios_facts` task on an EOS switch
//! gives the EOS facts), and `gather_subset` works as in the collections' legacy facts:
//! `min`/`default` always, plus `hardware`, `config`, `interfaces` or `all`, `!x` excluding.

mod parse;

use std::time::Duration;

use serde::de::Deserializer;
use serde::Deserialize;
use serde_json::{json, Value};

use super::args::map_only;
use super::{device_failure, ActionArgs, Env, Probe};
use crate::device::Connection;
use crate::playbook::values;
use crate::report::{Status, TaskResult};
use parse::Facts;

/// The subsets beyond `default` that a task may ask for.
const SUBSETS: &[&str] = &["hardware", "config", "interfaces"];

/// Every variable a facts task may set, so that validation knows them before the run.
pub const FACT_NAMES: &[&str] = &[
    "ansible_facts",
    "ansible_net_api",
    "ansible_net_system",
    "ansible_net_version",
    "ansible_net_model",
    "ansible_net_serialnum",
    "ansible_net_hostname",
    "ansible_net_image",
    "ansible_net_iostype",
    "ansible_net_fqdn",
    "ansible_net_gather_subset",
    "ansible_net_gather_network_resources",
    "ansible_net_filesystems",
    "ansible_net_filesystems_info",
    "ansible_net_memtotal_mb",
    "ansible_net_memfree_mb",
    "ansible_net_config",
    "ansible_net_interfaces",
    "ansible_net_all_ipv4_addresses",
];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FactsArgs {
    /// The subsets gathered beyond `default`, resolved from `gather_subset`.
    pub subsets: Vec<String>,
    /// `gather_network_resources`, which netorch does not gather: named in the result.
    pub network_resources: Vec<String>,
    /// The play's `gather_facts: true`: hosts without a network OS are skipped, not failed.
    pub implicit: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(default, deserialize_with = "opt_strings")]
    gather_subset: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_strings")]
    gather_network_resources: Option<Vec<String>>,
    /// Ansible's `available_network_resources`: no resources here, so nothing to list.
    #[serde(default, deserialize_with = "values::opt_boolish")]
    available_network_resources: Option<bool>,
}

fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    values::strings(d).map(Some)
}

/// Ansible's subset arithmetic: `all`, names, `!name` and `!all`; only exclusions start
/// from everything; `min`/`default` is always gathered.
pub fn resolve_subsets(given: &[String]) -> Result<Vec<String>, String> {
    let mut run: Vec<&str> = Vec::new();
    let mut exclude: Vec<&str> = Vec::new();
    let mut any_positive = false;
    let words = given
        .iter()
        .flat_map(|g| g.split(','))
        .map(str::trim)
        .filter(|w| !w.is_empty());
    for w in words {
        let (neg, name) = match w.strip_prefix('!') {
            Some(n) => (true, n.trim()),
            None => (false, w),
        };
        let names: Vec<&str> = match name {
            "all" => SUBSETS.to_vec(),
            "min" | "default" => Vec::new(),
            n => match SUBSETS.iter().find(|s| **s == n) {
                Some(s) => vec![*s],
                None => {
                    return Err(format!(
                        "gather_subset: unknown subset `{n}`; expected all, min, default, {} (or `!` before one to exclude it)",
                        SUBSETS.join(", ")
                    ))
                }
            },
        };
        if neg {
            exclude.extend(names);
        } else {
            any_positive = true;
            run.extend(names);
        }
    }
    if !any_positive && !exclude.is_empty() {
        run = SUBSETS.to_vec();
    }
    Ok(SUBSETS
        .iter()
        .filter(|s| run.contains(s) && !exclude.contains(s))
        .map(|s| s.to_string())
        .collect())
}

fn check(s: Spec) -> Result<FactsArgs, String> {
    let _ = s.available_network_resources;
    let subsets = match &s.gather_subset {
        Some(g) => resolve_subsets(g)?,
        None => Vec::new(),
    };
    Ok(FactsArgs {
        subsets,
        network_resources: s.gather_network_resources.unwrap_or_default(),
        implicit: false,
    })
}

impl ActionArgs for FactsArgs {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(map_only::visitor(
            "facts arguments: {gather_subset: [...]} (or nothing)",
            true,
            check,
        ))
    }

    fn summary(&self) -> String {
        self.subsets.join(", ")
    }

    fn probes(&self) -> Vec<Probe<'_>> {
        Vec::new()
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        let platform = env
            .ctx
            .vars
            .get("platform")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let local = env
            .ctx
            .vars
            .get("ansible_connection")
            .and_then(Value::as_str)
            .is_some_and(|c| c == "local");
        let family = family(&platform).filter(|_| !local);
        let Some(family) = family else {
            let why = if local {
                "the host is reached with `ansible_connection: local`".to_string()
            } else {
                format!("platform `{platform}` is not a network OS netorch gathers facts from (cisco_ios, cisco_iosxr, arista_eos, cisco_nxos, juniper_junos)")
            };
            return if self.implicit {
                TaskResult::skipped(format!("no network facts: {why}"))
            } else {
                TaskResult::failed(format!("facts: {why}"))
            };
        };
        match env.connect() {
            Ok((conn, _, timeout)) => gather(conn, self, family, timeout),
            Err(r) => r,
        }
    }
}

/// The facts family of a netorch platform.
fn family(platform: &str) -> Option<&'static str> {
    match platform {
        "cisco_ios" | "cisco_xe" | "cisco_iosxe" => Some("ios"),
        "cisco_iosxr" | "cisco_xr" => Some("iosxr"),
        "arista_eos" => Some("eos"),
        "cisco_nxos" => Some("nxos"),
        "juniper_junos" => Some("junos"),
        _ => None,
    }
}

/// One show command's output; a device that rejects it fails the task with its text.
fn show(conn: &mut Connection, cmd: &str, timeout: Duration) -> Result<String, TaskResult> {
    match conn.run_command(cmd, timeout) {
        Ok(r) => match r.failed {
            Some(f) => Err(TaskResult::failed(format!(
                "facts: `{cmd}` was refused: {f}"
            ))),
            None => Ok(r.output),
        },
        Err(e) => Err(device_failure(&e)),
    }
}

fn json_of(cmd: &str, text: &str) -> Result<Value, TaskResult> {
    serde_json::from_str(text.trim())
        .map_err(|e| TaskResult::failed(format!("facts: `{cmd}` did not answer in JSON: {e}")))
}

fn gather(conn: &mut Connection, args: &FactsArgs, family: &str, timeout: Duration) -> TaskResult {
    match collect(conn, args, family, timeout) {
        Ok((facts, notes)) => {
            let mut r = TaskResult::new(Status::Ok);
            if !notes.is_empty() {
                r.msg = Some(notes.join("; "));
            }
            r.data = json!({ "ansible_facts": Value::Object(facts) });
            r
        }
        Err(r) => r,
    }
}

fn collect(
    conn: &mut Connection,
    args: &FactsArgs,
    family: &str,
    timeout: Duration,
) -> Result<(Facts, Vec<String>), TaskResult> {
    let wants = |s: &str| args.subsets.iter().any(|x| x == s);
    let mut f = Facts::new();
    let mut notes = Vec::new();
    f.insert("ansible_net_api".into(), json!("cliconf"));
    f.insert("ansible_net_system".into(), json!(family));
    let mut gathered = vec![Value::from("default")];
    gathered.extend(args.subsets.iter().map(|s| Value::from(s.as_str())));
    f.insert("ansible_net_gather_subset".into(), Value::Array(gathered));
    f.insert(
        "ansible_net_gather_network_resources".into(),
        Value::Array(Vec::new()),
    );
    if !args.network_resources.is_empty() {
        notes.push(format!(
            "gather_network_resources ({}) is not supported by netorch: no resource facts were gathered",
            args.network_resources.join(", ")
        ));
    }
    match family {
        "ios" | "iosxr" => {
            f.extend(parse::ios_version(&show(conn, "show version", timeout)?));
            if wants("hardware") && family == "ios" {
                // As ios_facts: a device without the command gets a note, not a failure.
                match show(conn, "show memory statistics | include Processor", timeout) {
                    Ok(text) => f.extend(parse::ios_memory(&text)),
                    Err(_) => notes.push("unable to gather memory statistics".into()),
                }
            }
        }
        "nxos" => {
            let v = show(conn, "show version", timeout)?;
            f.extend(parse::nxos_version(&v));
            if wants("hardware") {
                f.extend(parse::nxos_memory(&v));
            }
        }
        "eos" => {
            let v = json_of(
                "show version | json",
                &show(conn, "show version | json", timeout)?,
            )?;
            let h = json_of(
                "show hostname | json",
                &show(conn, "show hostname | json", timeout)?,
            )?;
            f.extend(parse::eos_version(&v, &h));
            if wants("hardware") {
                f.extend(parse::eos_memory(&v));
            }
        }
        _ => {
            let v = show(conn, "show version", timeout)?;
            let hw = show(conn, "show chassis hardware", timeout)?;
            f.extend(parse::junos_version(&v, &hw));
        }
    }
    if wants("hardware") {
        if family == "junos" {
            notes.push(
                "gather_subset hardware: netorch reads no filesystems or memory from Junos".into(),
            );
        } else {
            f.extend(parse::filesystems(&show(conn, "dir", timeout)?));
        }
    }
    if wants("config") {
        let config = match conn.running_config(timeout) {
            Ok(r) => match r.failed {
                Some(e) => {
                    return Err(TaskResult::failed(format!(
                        "facts: reading the config: {e}"
                    )))
                }
                None => r.output,
            },
            Err(e) => return Err(device_failure(&e)),
        };
        f.insert("ansible_net_config".into(), Value::from(config));
    }
    if wants("interfaces") {
        match family {
            "junos" => {
                f.extend(parse::junos_interfaces(&show(
                    conn,
                    "show interfaces",
                    timeout,
                )?));
            }
            "nxos" => {
                f.extend(parse::ios_interfaces(&show(
                    conn,
                    "show interface",
                    timeout,
                )?));
            }
            _ => {
                f.extend(parse::ios_interfaces(&show(
                    conn,
                    "show interfaces",
                    timeout,
                )?));
            }
        }
    }
    Ok((f, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subsets(v: &[&str]) -> Result<Vec<String>, String> {
        resolve_subsets(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn subset_arithmetic_as_ansible() {
        assert_eq!(subsets(&["min"]).unwrap(), Vec::<String>::new());
        assert_eq!(
            subsets(&["all"]).unwrap(),
            vec!["hardware", "config", "interfaces"]
        );
        assert_eq!(
            subsets(&["!config"]).unwrap(),
            vec!["hardware", "interfaces"]
        );
        assert_eq!(
            subsets(&["all", "!hardware"]).unwrap(),
            vec!["config", "interfaces"]
        );
        assert_eq!(
            subsets(&["interfaces,config"]).unwrap(),
            vec!["config", "interfaces"]
        );
        assert_eq!(subsets(&["!all"]).unwrap(), Vec::<String>::new());
        assert!(subsets(&["routing"]).unwrap_err().contains("`routing`"));
    }
}
