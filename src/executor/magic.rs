//! Ansible's play-wide magic variables: `groups`, `ansible_play_hosts_all`,
//! `ansible_play_hosts` / `play_hosts` / `ansible_play_batch`, and `hostvars`.
//!
//! They are template globals of the play's environment, one copy shared by every host:
//! put into each host's variables, `groups` and the host lists would cost hosts x hosts.
//! (`playbook_dir`, one short text, is a play variable: see playbook/load.)
//! `hostvars` is an object that reads each host's variables and facts when a template asks
//! for them; it is kept up to date only for plays that mention it.

use std::collections::HashMap;
use std::path::PathBuf;
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
/// loaded, or a template file it may render): only then are every host's facts copied for
/// it after each task.
pub fn mentions_hostvars(play: &crate::playbook::Play, template_dirs: &[PathBuf]) -> bool {
    format!("{play:?}").contains("hostvars") || templates_mention(template_dirs)
}

/// Template files are read at run time, so a reference there counts too. Bounded: a
/// template folder is small; past the budget, assume it does.
fn templates_mention(dirs: &[PathBuf]) -> bool {
    let mut budget: u64 = 32 << 20;
    let mut stack: Vec<PathBuf> = dirs.to_vec();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                stack.push(e.path());
            } else if kind.is_file() {
                let len = e.metadata().map_or(0, |m| m.len());
                if len > budget {
                    return true;
                }
                budget -= len;
                if std::fs::read(e.path())
                    .is_ok_and(|b| b.windows(b"hostvars".len()).any(|w| w == b"hostvars"))
                {
                    return true;
                }
            }
        }
    }
    false
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inventory() -> Inventory {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hosts.yml");
        std::fs::write(
            &p,
            "all:\n  children:\n    core:\n      hosts:\n        r1: {site: ams}\n        r2: {site: rtm}\n",
        )
        .unwrap();
        Inventory::load(&[p]).unwrap()
    }

    fn render(t: &Templates, src: &str) -> Result<String, crate::Error> {
        t.render_str(src, &Vars::new(), "test")
    }

    #[test]
    fn globals_and_hostvars_follow_the_run() {
        let inv = inventory();
        let hv = Arc::new(HostVars::new(&inv, false));
        let mut t = Templates::new(vec![]);
        let hosts = vec!["r1".to_string(), "r2".to_string()];
        add_play_globals(&mut t, &inv, &hosts, Some(Arc::clone(&hv)));
        assert_eq!(
            render(&t, "{{ groups['core'] | join(',') }}").unwrap(),
            "r1,r2"
        );
        assert_eq!(
            render(&t, "{{ ansible_play_hosts | length }}").unwrap(),
            "2"
        );
        assert_eq!(render(&t, "{{ hostvars['r2'].site }}").unwrap(), "rtm");
        // A registered result of r1 reaches r2's templates once published.
        let facts = json!({"ver": {"stdout": "IOS"}});
        hv.set("r1", &inv.hosts["r1"].vars, facts.as_object().unwrap());
        assert_eq!(render(&t, "{{ hostvars.r1.ver.stdout }}").unwrap(), "IOS");
        assert!(render(&t, "{{ hostvars.r2.ver.stdout }}").is_err());
    }

    #[test]
    fn at_check_time_what_the_run_brings_is_unknown_not_undefined() {
        let inv = inventory();
        let hv = Arc::new(HostVars::new(&inv, true));
        let mut t = Templates::new(vec![]);
        add_play_globals(&mut t, &inv, &["r1".to_string()], Some(hv));
        assert_eq!(
            render(&t, "{{ hostvars.r1.not_yet_registered.stdout }}").unwrap(),
            ""
        );
    }

    #[test]
    fn a_template_file_that_uses_hostvars_counts() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = vec![dir.path().to_path_buf()];
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.j2"), "{{ x }}").unwrap();
        assert!(!templates_mention(&dirs));
        std::fs::write(dir.path().join("sub/b.j2"), "{{ hostvars[h].y }}").unwrap();
        assert!(templates_mention(&dirs));
    }
}
