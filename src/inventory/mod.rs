//! Inventory: hosts, groups, variables and their precedence, host patterns.
//!
//! - [`Inventory::load`] / [`Inventory::load_with`] read sources (`load.rs`): Ansible YAML
//!   (`yaml.rs`), INI (`ini.rs`), a folder of them, or a dynamic inventory script
//!   (`script.rs`), a NetBox `nb_inventory` file (`netbox/`), plus `host_vars/` and `group_vars/` (`vars_files.rs`).
//! - `builder.rs` merges them into the model below and applies Ansible's precedence.
//! - `pattern.rs` selects hosts (`core:&ams:!core-ams-2`, `--limit @file`).
//!
//! Every host's `vars` are fully merged at load time, so callers never redo precedence.

mod builder;
#[cfg(test)]
mod fuzz;
mod hostname;
mod ini;
mod load;
pub mod netbox;
mod pattern;
pub use pattern::check_pattern;
mod script;
pub mod shard;
mod vars_files;
pub use vars_files::load_vars_file;
mod yaml;

use indexmap::IndexMap;
use serde_json::Value;

use crate::secret::{is_secret_var, MASK};

pub use load::{LoadOptions, DYNAMIC_INVENTORY_TIMEOUT_SECS};

// Host and group vars are `Vars`; the type lives with the other user-typed values.
pub use crate::value::Vars;

/// Hosts and groups, in the order the sources list them.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub hosts: IndexMap<String, Host>,
    pub groups: IndexMap<String, Group>,
    /// Per group (same index as `groups`): its hosts and its descendants' hosts, as indices
    /// into `hosts`, in inventory order. Patterns match groups through this.
    members: Vec<Vec<usize>>,
    /// Oddities worth telling the user that do not stop loading (e.g. a host_vars file
    /// whose name is a typo of a host's). The caller prints them.
    pub warnings: Vec<String>,
}

/// One host with its variables fully merged by precedence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Host {
    pub name: String,
    /// Every group the host belongs to, ancestors included, lowest precedence first
    /// (`all` first; then by depth, `ansible_group_priority`, name).
    pub groups: Vec<String>,
    pub vars: Vars,
}

/// One group as the inventory declares it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Group {
    pub name: String,
    /// Direct child groups, sorted by name.
    pub children: Vec<String>,
    /// Direct parent groups (`all` for a top-level group).
    pub parents: Vec<String>,
    /// Hosts listed directly in this group (not its children's).
    pub hosts: Vec<String>,
    /// The group's own vars: inline < group_vars beside the inventory < beside the playbook.
    pub vars: Vars,
    /// Longest path from `all` (0 for `all`, 1 for top-level groups).
    pub depth: usize,
    /// `ansible_group_priority` (default 1): among groups at the same depth, higher wins.
    pub priority: i64,
}

impl Host {
    /// The first of `names` that is set (and not null): ask for netorch's name first, then
    /// Ansible's, e.g. `["host", "ansible_host"]`.
    pub fn var(&self, names: &[&str]) -> Option<&Value> {
        names
            .iter()
            .filter_map(|n| self.vars.get(*n))
            .find(|v| !v.is_null())
    }

    /// The netorch platform (see [`resolve_platform`]).
    pub fn platform(&self) -> String {
        resolve_platform(&self.vars)
    }

    /// The vars with every secret-looking value (see [`is_secret_var`]) replaced by
    /// [`MASK`], also inside nested mappings.
    pub fn masked_vars(&self) -> Vars {
        mask_map(&self.vars)
    }
}

impl Inventory {
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.get(name)
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    /// The hosts of a group and of all its descendants, in inventory order.
    pub fn group_hosts(&self, name: &str) -> Vec<&Host> {
        match self.groups.get_index_of(name) {
            Some(g) => self.members[g]
                .iter()
                .filter_map(|&h| self.hosts.get_index(h).map(|(_, host)| host))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Extra vars (`-e`) win over everything, on every host.
    pub fn apply_extra_vars(&mut self, extra: &Vars) {
        if extra.is_empty() {
            return;
        }
        for host in self.hosts.values_mut() {
            for (k, v) in extra {
                host.vars.insert(k.clone(), v.clone());
            }
        }
    }

    /// Every value of a secret-looking variable on any host or group, and every value
    /// decrypted from ansible-vault, for the Redactor.
    /// Templated values (`{{ env('X') }}`) are not secrets themselves and are left out; their
    /// rendered values must be registered where they are rendered.
    pub fn secret_values(&self) -> Vec<String> {
        let mut out = indexmap::IndexSet::new();
        for vars in self
            .hosts
            .values()
            .map(|h| &h.vars)
            .chain(self.groups.values().map(|g| &g.vars))
        {
            collect_secrets(vars, false, &mut out);
        }
        out.extend(crate::vault::secret_values());
        out.into_iter().collect()
    }

    /// The group tree as `ansible-inventory --graph` prints it: child groups then hosts,
    /// each sorted by name; hosts directly in `all` show under `ungrouped`.
    pub fn graph(&self) -> String {
        let mut out = String::new();
        if self.groups.contains_key("all") {
            self.graph_group("all", 0, &mut out, &mut Vec::new());
        }
        out
    }

    fn graph_group(&self, name: &str, depth: usize, out: &mut String, stack: &mut Vec<String>) {
        let Some(g) = self.groups.get(name) else {
            return;
        };
        // A group reachable along many paths prints once per path (as in Ansible); a
        // generated DAG could make that explode, so the tree stops at a size no one reads.
        if out.len() > MAX_GRAPH_BYTES {
            if !out.ends_with(GRAPH_TRUNCATED) {
                out.push_str(GRAPH_TRUNCATED);
            }
            return;
        }
        push_graph_line(out, depth, &format!("@{name}:"));
        // The loader refuses cycles; the stack only guards against a hand-built inventory.
        if stack.iter().any(|s| s == name) {
            return;
        }
        stack.push(name.to_string());
        for child in &g.children {
            self.graph_group(child, depth + 1, out, stack);
        }
        if name != "all" {
            let mut hosts: Vec<&String> = g.hosts.iter().collect();
            hosts.sort();
            for h in hosts {
                push_graph_line(out, depth + 1, h);
            }
        }
        stack.pop();
    }
}

/// `graph` output beyond this is cut.
const MAX_GRAPH_BYTES: usize = 64 * 1024 * 1024;
const GRAPH_TRUNCATED: &str = "... (graph truncated)\n";

fn push_graph_line(out: &mut String, depth: usize, text: &str) {
    if depth > 0 {
        out.push_str(&"  |".repeat(depth));
        out.push_str("--");
    }
    out.push_str(text);
    out.push('\n');
}

/// The platform used when the inventory names none: a server reached over exec channels,
/// as Ansible treats a host without a network OS.
pub const DEFAULT_PLATFORM: &str = "linux";

/// The netorch platform of a host's variables: the `platform` var, else the mapped
/// `ansible_network_os`, else [`DEFAULT_PLATFORM`]. The one place a platform is decided;
/// the executor puts the answer in every host's context as `platform`.
pub fn resolve_platform(vars: &Vars) -> String {
    if let Some(p) = vars.get("platform").and_then(value_text) {
        return p;
    }
    if let Some(os) = vars.get("ansible_network_os").and_then(value_text) {
        return platform_from_network_os(&os);
    }
    DEFAULT_PLATFORM.to_string()
}

/// Map Ansible's `ansible_network_os` (FQCN or short) to a netorch platform name; unknown
/// values are returned as they are (a user platform profile may be named so).
pub fn platform_from_network_os(os: &str) -> String {
    let trimmed = os.trim();
    let lower = trimmed.to_ascii_lowercase();
    let short = match lower.as_str() {
        "cisco.ios.ios" | "ios" | "cisco.ios" | "iosxe" | "ios_xe" => "cisco_ios",
        "cisco.nxos.nxos" | "nxos" => "cisco_nxos",
        "cisco.iosxr.iosxr" | "iosxr" | "ios_xr" => "cisco_iosxr",
        "cisco.asa.asa" | "asa" => "cisco_asa",
        "arista.eos.eos" | "eos" => "arista_eos",
        "junipernetworks.junos.junos" | "junos" => "juniper_junos",
        "vyos.vyos.vyos" | "vyos" => "vyos",
        _ => return trimmed.to_string(),
    };
    short.to_string()
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn mask_map(vars: &Vars) -> Vars {
    vars.iter()
        .map(|(k, v)| {
            let v = if is_secret_var(k) && !v.is_null() {
                Value::from(MASK)
            } else {
                mask_value(v)
            };
            (k.clone(), v)
        })
        .collect()
}

fn mask_value(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(mask_map(m)),
        Value::Array(a) => Value::Array(a.iter().map(mask_value).collect()),
        other => other.clone(),
    }
}

/// Every secret value in `vars` (values under secret-looking names, nested ones too), for
/// registering rendered variables with the Redactor. Rendered values are final (never
/// rendered again), so one that holds `{{` is a secret like any other.
pub fn secret_values_of(vars: &Vars) -> Vec<String> {
    let mut out = indexmap::IndexSet::new();
    collect_secrets(vars, true, &mut out);
    // Decrypted vault values are secrets whatever their variable is called.
    out.extend(crate::vault::secret_values());
    out.into_iter().collect()
}

/// `rendered`: the values are final, so one holding `{{` is a secret too; in raw inventory
/// values it is a template, not a secret.
fn collect_secrets(vars: &Vars, rendered: bool, out: &mut indexmap::IndexSet<String>) {
    for (k, v) in vars {
        if is_secret_var(k) {
            collect_leaves(v, rendered, out);
        } else {
            collect_nested(v, rendered, out);
        }
    }
}

/// Look for secret-named keys inside a non-secret value.
fn collect_nested(v: &Value, rendered: bool, out: &mut indexmap::IndexSet<String>) {
    match v {
        Value::Object(m) => collect_secrets(m, rendered, out),
        Value::Array(a) => a.iter().for_each(|x| collect_nested(x, rendered, out)),
        _ => {}
    }
}

/// Every scalar under a secret-named key is a secret.
fn collect_leaves(v: &Value, rendered: bool, out: &mut indexmap::IndexSet<String>) {
    match v {
        Value::String(s) if !s.is_empty() && (rendered || !s.contains("{{")) => {
            out.insert(s.clone());
        }
        Value::Number(n) => {
            out.insert(n.to_string());
        }
        Value::Object(m) => m.values().for_each(|x| collect_leaves(x, rendered, out)),
        Value::Array(a) => a.iter().for_each(|x| collect_leaves(x, rendered, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rendered_nested_secrets_are_found() {
        let vars = json!({
            "user": "netops",
            "credentials": [{"user": "tacacs", "password": "Tac-Pw-1"}, {"password": "Local-Pw-2"}],
            "enable_secret": "En-3",
        });
        let mut found = secret_values_of(vars.as_object().unwrap());
        found.sort();
        assert_eq!(found, vec!["En-3", "Local-Pw-2", "Tac-Pw-1"]);
        // A rendered secret that happens to hold `{{` (from an environment variable).
        let vars = json!({"password": "pw{{x}}y"});
        assert_eq!(
            secret_values_of(vars.as_object().unwrap()),
            vec!["pw{{x}}y"]
        );
        assert_eq!(platform_from_network_os("ios_xe"), "cisco_ios");
        assert_eq!(platform_from_network_os("cisco.iosxr.iosxr"), "cisco_iosxr");
    }

    fn host(vars: Value) -> Host {
        Host {
            name: "h".into(),
            groups: vec!["all".into()],
            vars: vars.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn network_os_mapping() {
        for (os, want) in [
            ("cisco.ios.ios", "cisco_ios"),
            ("ios", "cisco_ios"),
            ("cisco.nxos.nxos", "cisco_nxos"),
            ("nxos", "cisco_nxos"),
            ("cisco.iosxr.iosxr", "cisco_iosxr"),
            ("iosxr", "cisco_iosxr"),
            ("arista.eos.eos", "arista_eos"),
            ("EOS", "arista_eos"),
            ("junipernetworks.junos.junos", "juniper_junos"),
            ("junos", "juniper_junos"),
            ("my_vendor", "my_vendor"),
            ("cisco_ios", "cisco_ios"),
        ] {
            assert_eq!(platform_from_network_os(os), want, "{os}");
        }
    }

    #[test]
    fn platform_prefers_netorch_name_then_network_os_then_linux() {
        assert_eq!(
            host(json!({"platform": "arista_eos", "ansible_network_os": "ios"})).platform(),
            "arista_eos"
        );
        assert_eq!(
            host(json!({"ansible_network_os": "cisco.ios.ios"})).platform(),
            "cisco_ios"
        );
        assert_eq!(host(json!({})).platform(), "linux");
        assert_eq!(host(json!({"platform": ""})).platform(), "linux");
    }

    #[test]
    fn var_takes_the_first_set_name() {
        let h = host(json!({"ansible_host": "10.0.0.1", "host": null, "port": 2222}));
        assert_eq!(h.var(&["host", "ansible_host"]), Some(&json!("10.0.0.1")));
        assert_eq!(h.var(&["port", "ansible_port"]), Some(&json!(2222)));
        assert_eq!(h.var(&["user", "ansible_user"]), None);
    }

    #[test]
    fn masking_and_secret_values() {
        let h = host(json!({
            "ansible_password": "hunter22",
            "enable_secret": 4242,
            "ansible_user": "admin",
            "snmp": {"community": "public-ro", "location": "ams"},
            "templated_password": "{{ env('PW') }}",
            "token": null
        }));
        let m = h.masked_vars();
        assert_eq!(m["ansible_password"], MASK);
        assert_eq!(m["enable_secret"], MASK);
        assert_eq!(m["ansible_user"], "admin");
        assert_eq!(m["snmp"]["community"], MASK);
        assert_eq!(m["snmp"]["location"], "ams");
        assert_eq!(m["token"], Value::Null);
        let mut inv = Inventory::default();
        inv.hosts.insert("h".into(), h);
        assert_eq!(inv.secret_values(), ["hunter22", "4242", "public-ro"]);
    }
}
