//! Ansible's play-wide magic variables: `groups`, `ansible_play_hosts_all`,
//! `ansible_play_hosts` / `play_hosts` / `ansible_play_batch`, and `hostvars`.
//!
//! They are template globals of the play's environment, one copy shared by every host:
//! put into each host's variables, `groups` and the host lists would cost hosts x hosts.
//! (`playbook_dir`, one short text, is a play variable: see playbook/load.)
//! `hostvars` is an object that reads each host's variables and facts when a template asks
//! for them; it is kept up to date only for plays that mention it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};

use crate::inventory::Inventory;
use crate::jinja::Templates;
use crate::value::Vars;

/// Every host's variables as templates see them through `hostvars[name]`.
#[derive(Debug, Default)]
pub struct HostVars {
    hosts: RwLock<HashMap<String, Arc<Vars>>>,
    order: Vec<String>,
    /// At check time: a variable a host does not have yet (a registered result) is a
    /// value only the run will have, not an undefined one.
    unknown_missing: bool,
}

impl HostVars {
    /// The inventory's hosts with their inventory variables (and Ansible's
    /// `inventory_hostname`); hosts of the play get theirs from [`HostVars::set`].
    pub fn new(inventory: &Inventory, unknown_missing: bool) -> HostVars {
        let mut hosts = HashMap::with_capacity(inventory.hosts.len());
        for (name, h) in &inventory.hosts {
            let mut v = h.vars.clone();
            v.insert("inventory_hostname".into(), name.clone().into());
            hosts.insert(name.clone(), Arc::new(v));
        }
        HostVars {
            hosts: RwLock::new(hosts),
            order: inventory.hosts.keys().cloned().collect(),
            unknown_missing,
        }
    }

    /// `host`'s variables now: its resolved variables, then its facts and registered
    /// results over them.
    pub fn set(&self, host: &str, base: &Vars, facts: &Vars) {
        let mut v = base.clone();
        for (k, x) in facts {
            v.insert(k.clone(), x.clone());
        }
        if let Ok(mut hosts) = self.hosts.write() {
            hosts.insert(host.to_string(), Arc::new(v));
        }
    }
}

impl Object for HostVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        let vars = self.hosts.read().ok()?.get(name).cloned()?;
        Some(Value::from_object(HostView {
            vars,
            unknown_missing: self.unknown_missing,
        }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.order.iter().map(|n| Value::from(n.as_str())).collect())
    }
}

/// One host's variables, converted for the template only when one is read.
#[derive(Debug)]
struct HostView {
    vars: Arc<Vars>,
    unknown_missing: bool,
}

impl Object for HostView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match self.vars.get(key.as_str()?) {
            Some(v) => Some(Value::from_serialize(v)),
            None if self.unknown_missing => Some(crate::jinja::unknown_value()),
            None => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.vars.keys().map(|k| Value::from(k.as_str())).collect())
    }
}

/// Whether anything in the play mentions `hostvars` (its tasks, vars and imports, as
/// loaded): only then are every host's facts copied for it after each task.
pub fn mentions_hostvars(play: &crate::playbook::Play) -> bool {
    format!("{play:?}").contains("hostvars")
}

/// Add the play's magic variables to `templates`. `hosts`: the play's hosts, in order.
pub fn add_play_globals(
    templates: &mut Templates,
    inventory: &Inventory,
    hosts: &[String],
    hostvars: Option<Arc<HostVars>>,
) {
    let mut groups: indexmap::IndexMap<&str, Vec<&str>> = indexmap::IndexMap::new();
    for (name, h) in &inventory.hosts {
        for g in &h.groups {
            groups.entry(g.as_str()).or_default().push(name.as_str());
        }
    }
    for g in inventory.groups.keys() {
        groups.entry(g.as_str()).or_default();
    }
    templates.add_global("groups", Value::from_serialize(&groups));
    let list = Value::from_serialize(hosts);
    for name in [
        "ansible_play_hosts_all",
        "ansible_play_hosts",
        "play_hosts",
        "ansible_play_batch",
    ] {
        templates.add_global(name, list.clone());
    }
    if let Some(hv) = hostvars {
        templates.add_global("hostvars", Value::from_dyn_object(hv));
    }
}
