//! The inventory as the loaders describe it (hosts, groups, inline vars, edges), and the one
//! pass that turns it into an [`Inventory`]: implicit groups, cycle check, group depth and
//! priority, and variable precedence.
//!
//! Precedence is Ansible's documented order for these sources, lowest first:
//!
//! 1. inline vars of `all`, then inline vars of the host's other groups (sorted by depth,
//!    `ansible_group_priority`, name: a child group beats its parent, same-depth groups
//!    merge alphabetically)
//! 2. `group_vars/all` beside the inventory sources, then beside the playbooks
//! 3. `group_vars/<group>` beside the inventory sources (outer loop: source, inner: groups
//!    in the order of 1.), then beside the playbooks
//! 4. host inline vars, then `host_vars/<host>` beside the inventory, then beside the
//!    playbooks
//!
//! Note that, as in Ansible, any group_vars *file* beats any *inline* group var: a value in
//! `group_vars/all.yml` overrides one written inline on a child group in hosts.yml.
//! Top-level keys replace (Ansible's default `hash_behaviour=replace`).
//!
//! The merge is done once per distinct set of groups (hosts in the same groups share it),
//! so a 10,000-host inventory costs one map clone per host, not one merge per group per host.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use indexmap::{IndexMap, IndexSet};
use serde_json::Value;

use super::vars_files::VarsDir;
use super::{Group, Host, Inventory};
use crate::source::{suggest, LoadError};
use crate::value::Vars;

/// Deeper nesting than this is generated or malicious, not an inventory; refusing it keeps
/// the group walks (and `graph`) bounded.
pub(crate) const MAX_GROUP_DEPTH: usize = 512;

/// Ansible's default group priority.
const DEFAULT_PRIORITY: i64 = 1;

/// Where something was declared, for errors that are found only after all sources are in.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub file: PathBuf,
    pub line: Option<usize>,
    /// The source line, shown under the error.
    pub text: Option<String>,
}

impl Origin {
    pub fn file(path: &Path) -> Self {
        Origin {
            file: path.to_path_buf(),
            line: None,
            text: None,
        }
    }

    pub fn line(path: &Path, line: usize, text: &str) -> Self {
        Origin {
            file: path.to_path_buf(),
            line: Some(line),
            text: Some(text.to_string()),
        }
    }

    fn error(&self, message: String) -> LoadError {
        let mut e = LoadError::file(&self.file, message);
        e.line = self.line;
        e.snippet = self.text.clone();
        e
    }
}

#[derive(Debug, Default)]
struct HostB {
    vars: Vars,
    /// Direct groups (indices into `Builder::groups`).
    groups: IndexSet<usize>,
}

#[derive(Debug)]
struct GroupB {
    vars: Vars,
    priority: i64,
    /// Child group index -> where the edge was declared.
    children: IndexMap<usize, Origin>,
    /// Direct hosts (indices into `Builder::hosts`).
    hosts: IndexSet<usize>,
    /// Declared by a section, a YAML key or a script; false when only named by `[x:vars]`.
    declared: bool,
}

impl GroupB {
    fn new() -> Self {
        GroupB {
            vars: Vars::new(),
            priority: DEFAULT_PRIORITY,
            children: IndexMap::new(),
            hosts: IndexSet::new(),
            declared: false,
        }
    }
}

/// Accumulates every source, in order; later sources win for the same variable.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    hosts: IndexMap<String, HostB>,
    groups: IndexMap<String, GroupB>,
    /// `[name:vars]` sections, checked once every source is in (the group may be declared
    /// by a later file of the same folder).
    vars_sections: Vec<(usize, Origin)>,
    /// Warnings from the sources (a NetBox cache standing in for NetBox, a device left
    /// out), passed on to [`Inventory::warnings`].
    pub warnings: Vec<String>,
}

impl Builder {
    pub fn new() -> Self {
        let mut b = Builder::default();
        b.group("all");
        b.group("ungrouped");
        b
    }

    /// The index of a declared group, creating it if needed.
    pub fn group(&mut self, name: &str) -> usize {
        let idx = self.group_ref(name);
        self.groups[idx].declared = true;
        idx
    }

    /// The index of a group named by a `[name:vars]` section (declared or not yet).
    pub fn group_for_vars(&mut self, name: &str, origin: Origin) -> usize {
        let idx = self.group_ref(name);
        self.vars_sections.push((idx, origin));
        idx
    }

    fn group_ref(&mut self, name: &str) -> usize {
        if let Some(i) = self.groups.get_index_of(name) {
            return i;
        }
        self.groups.insert_full(name.to_string(), GroupB::new()).0
    }

    /// The index of a host, creating it if needed; adds it to `group` when given.
    pub fn host(&mut self, name: &str, group: Option<usize>) -> usize {
        let idx = match self.hosts.get_index_of(name) {
            Some(i) => i,
            None => self.hosts.insert_full(name.to_string(), HostB::default()).0,
        };
        if let Some(g) = group {
            self.hosts[idx].groups.insert(g);
            self.groups[g].hosts.insert(idx);
        }
        idx
    }

    pub fn set_host_var(&mut self, host: usize, key: String, value: Value) {
        self.hosts[host].vars.insert(key, value);
    }

    /// Set many host vars at once; a host with none yet takes the map as it is (no
    /// re-insertion per key, which is most of loading a large dynamic inventory).
    pub fn set_host_vars(&mut self, host: usize, vars: Vars) {
        let own = &mut self.hosts[host].vars;
        if own.is_empty() {
            *own = vars;
        } else {
            own.extend(vars);
        }
    }

    /// Set an inline group var. `ansible_group_priority` sets the priority instead, as in
    /// Ansible (it is not a variable).
    pub fn set_group_var(
        &mut self,
        group: usize,
        key: String,
        value: Value,
        origin: &Origin,
    ) -> Result<(), LoadError> {
        if key == "ansible_group_priority" {
            let p = match &value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            let Some(p) = p else {
                return Err(origin.error(format!(
                    "group `{}`: ansible_group_priority must be an integer, found {value}",
                    self.groups
                        .get_index(group)
                        .map_or("?", |(n, _)| n.as_str())
                )));
            };
            self.groups[group].priority = p;
            return Ok(());
        }
        self.groups[group].vars.insert(key, value);
        Ok(())
    }

    pub fn add_child(&mut self, parent: usize, child: usize, origin: Origin) {
        self.groups[parent].children.entry(child).or_insert(origin);
    }

    pub fn has_host(&self, name: &str) -> bool {
        self.hosts.contains_key(name)
    }

    pub fn has_group(&self, name: &str) -> bool {
        self.groups.contains_key(name)
    }

    pub fn host_names(&self) -> impl Iterator<Item = &str> {
        self.hosts.keys().map(String::as_str)
    }

    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups.keys().map(String::as_str)
    }

    /// Build the inventory. `dirs` are the loaded host_vars/group_vars folders; `inv_dirs`
    /// and `play_dirs` index into it, in precedence order (lowest first).
    pub fn finish(
        mut self,
        dirs: &[VarsDir],
        inv_dirs: &[usize],
        play_dirs: &[usize],
    ) -> Result<Inventory, LoadError> {
        self.check_vars_sections()?;
        let all = self.group("all");
        let ungrouped = self.group("ungrouped");
        let ng = self.groups.len();

        // Parents, and every group without one becomes a child of `all` (Ansible's rule).
        let mut parents: Vec<Vec<usize>> = vec![Vec::new(); ng];
        for (p, g) in self.groups.values().enumerate() {
            for &c in g.children.keys() {
                parents[c].push(p);
            }
        }
        if let Some(p) = parents[all].first() {
            let origin = &self.groups[*p].children[&all];
            return Err(origin.error(format!(
                "group `all` is listed as a child of `{}`; `all` is the root of every \
                 inventory and cannot have a parent",
                self.groups.get_index(*p).map_or("?", |(n, _)| n.as_str())
            )));
        }
        for (g, ps) in parents.iter_mut().enumerate() {
            if g != all && ps.is_empty() {
                ps.push(all);
                self.groups[all]
                    .children
                    .insert(g, Origin::file(Path::new("<implicit>")));
            }
        }

        // Hosts in no group but `all` are `ungrouped`; hosts the INI parser put there
        // before seeing them in a real group leave it.
        for (h, host) in self.hosts.values_mut().enumerate() {
            let real = host.groups.iter().any(|&g| g != all && g != ungrouped);
            if real {
                if host.groups.shift_remove(&ungrouped) {
                    self.groups[ungrouped].hosts.shift_remove(&h);
                }
            } else if !host.groups.contains(&ungrouped) {
                host.groups.insert(ungrouped);
                self.groups[ungrouped].hosts.insert(h);
            }
        }

        let order = self.topo_order(&parents)?;
        let mut depth = vec![0usize; ng];
        for &g in &order {
            for &c in self.groups[g].children.keys() {
                depth[c] = depth[c].max(depth[g] + 1);
            }
        }
        if let Some(g) = (0..ng).find(|&g| depth[g] > MAX_GROUP_DEPTH) {
            let name = self.groups.get_index(g).map_or("?", |(n, _)| n.as_str());
            return Err(LoadError::file(
                self.first_origin(g),
                format!(
                    "group `{name}` is nested more than {MAX_GROUP_DEPTH} levels below `all`; \
                     netorch accepts at most {MAX_GROUP_DEPTH}"
                ),
            ));
        }

        // Rank: the precedence position of each group (depth, priority, name).
        let mut by_rank: Vec<usize> = (0..ng).collect();
        by_rank.sort_by(|&a, &b| {
            let (na, ga) = self
                .groups
                .get_index(a)
                .map_or(("", None), |(n, g)| (n.as_str(), Some(g)));
            let (nb, gb) = self
                .groups
                .get_index(b)
                .map_or(("", None), |(n, g)| (n.as_str(), Some(g)));
            let pa = ga.map_or(DEFAULT_PRIORITY, |g| g.priority);
            let pb = gb.map_or(DEFAULT_PRIORITY, |g| g.priority);
            (depth[a], pa, na).cmp(&(depth[b], pb, nb))
        });
        let mut rank = vec![0usize; ng];
        for (r, &g) in by_rank.iter().enumerate() {
            rank[g] = r;
        }

        let group_names: Vec<String> = self.groups.keys().cloned().collect();
        let own_vars = self.group_own_vars(&group_names, dirs, inv_dirs, play_dirs);

        // Hosts: groups in precedence order and merged vars, computed once per distinct
        // set of direct groups (hosts of a role and site share one) and cloned per host.
        // Ancestors are walked per distinct set, not stored per group: that would be
        // groups x groups in memory.
        struct Shared {
            groups: Vec<usize>,
            names: Vec<String>,
            vars: Vars,
        }
        let mut shared_sets: Vec<Shared> = Vec::new();
        let mut cache: HashMap<Vec<usize>, usize> = HashMap::new();
        let mut stamp = vec![0usize; ng];
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); ng];
        let mut hosts: IndexMap<String, Host> = IndexMap::with_capacity(self.hosts.len());
        let host_names: Vec<String> = self.hosts.keys().cloned().collect();
        for (h, (name, hb)) in self.hosts.iter_mut().enumerate() {
            let mut key: Vec<usize> = hb.groups.iter().copied().collect();
            key.sort_unstable();
            let idx = match cache.get(&key) {
                Some(&i) => i,
                None => {
                    let generation = shared_sets.len() + 1;
                    let mut in_order = Vec::new();
                    let mut stack: Vec<usize> = key.iter().copied().chain([all]).collect();
                    while let Some(g) = stack.pop() {
                        if stamp[g] == generation {
                            continue;
                        }
                        stamp[g] = generation;
                        in_order.push(g);
                        stack.extend(&parents[g]);
                    }
                    in_order.sort_unstable_by_key(|&g| rank[g]);
                    let vars = merge_group_vars(
                        &in_order,
                        all,
                        &self.groups,
                        &group_names,
                        dirs,
                        inv_dirs,
                        play_dirs,
                    );
                    let names = in_order.iter().map(|&g| group_names[g].clone()).collect();
                    shared_sets.push(Shared {
                        groups: in_order,
                        names,
                        vars,
                    });
                    cache.insert(key, shared_sets.len() - 1);
                    shared_sets.len() - 1
                }
            };
            let shared = &shared_sets[idx];
            for &g in &shared.groups {
                members[g].push(h);
            }
            // Without group vars the host's own map is the result: no copy per key.
            let mut vars = if shared.vars.is_empty() {
                std::mem::take(&mut hb.vars)
            } else {
                let mut v = shared.vars.clone();
                v.extend(std::mem::take(&mut hb.vars));
                v
            };
            for &d in inv_dirs.iter().chain(play_dirs) {
                if let Some(v) = dirs[d].hosts.get(name.as_str()) {
                    vars.extend(v.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            hosts.insert(
                name.clone(),
                Host {
                    name: name.clone(),
                    groups: shared.names.clone(),
                    vars,
                },
            );
        }

        let mut groups: IndexMap<String, Group> = IndexMap::with_capacity(ng);
        for ((g, (name, gb)), vars) in self.groups.iter().enumerate().zip(own_vars) {
            let mut children: Vec<String> = gb
                .children
                .keys()
                .map(|&c| group_names[c].clone())
                .collect();
            children.sort();
            groups.insert(
                name.clone(),
                Group {
                    name: name.clone(),
                    children,
                    parents: parents[g].iter().map(|&p| group_names[p].clone()).collect(),
                    hosts: gb.hosts.iter().map(|&h| host_names[h].clone()).collect(),
                    vars,
                    depth: depth[g],
                    priority: gb.priority,
                },
            );
        }

        let warnings = std::mem::take(&mut self.warnings)
            .into_iter()
            .chain(dirs.iter().flat_map(|d| d.warnings.iter().cloned()))
            .collect();
        Ok(Inventory {
            hosts,
            groups,
            members,
            warnings,
        })
    }

    /// A `[name:vars]` section for a group nothing declares is an error, as in Ansible (it
    /// is almost always a typo of a real group's name).
    fn check_vars_sections(&self) -> Result<(), LoadError> {
        for (g, origin) in &self.vars_sections {
            let Some((name, gb)) = self.groups.get_index(*g) else {
                continue;
            };
            if gb.declared {
                continue;
            }
            let declared = self
                .groups
                .iter()
                .filter(|(_, g)| g.declared)
                .map(|(n, _)| n.as_str());
            let mut e = origin.error(format!(
                "section [{name}:vars] sets variables for group `{name}`, which no inventory \
                 source declares"
            ));
            e.hint = Some(match suggest(name, declared) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("declare the group with a [{name}] section"),
            });
            return Err(e);
        }
        Ok(())
    }

    /// Where some edge into group `g` was declared (for errors about `g`).
    fn first_origin(&self, g: usize) -> PathBuf {
        self.groups
            .values()
            .find_map(|p| p.children.get(&g))
            .map_or_else(|| PathBuf::from("<inventory>"), |o| o.file.clone())
    }

    /// Groups from `all` down, parents before children; a cycle is an error naming it.
    fn topo_order(&self, parents: &[Vec<usize>]) -> Result<Vec<usize>, LoadError> {
        let ng = self.groups.len();
        let mut indeg: Vec<usize> = parents.iter().map(Vec::len).collect();
        let mut queue: Vec<usize> = (0..ng).filter(|&g| indeg[g] == 0).collect();
        let mut order = Vec::with_capacity(ng);
        while let Some(g) = queue.pop() {
            order.push(g);
            for &c in self.groups[g].children.keys() {
                indeg[c] -= 1;
                if indeg[c] == 0 {
                    queue.push(c);
                }
            }
        }
        if order.len() == ng {
            return Ok(order);
        }
        let in_cycle: Vec<bool> = indeg.iter().map(|&d| d > 0).collect();
        Err(self.cycle_error(&in_cycle))
    }

    /// Find and describe one cycle among the groups Kahn's algorithm could not order.
    fn cycle_error(&self, candidate: &[bool]) -> LoadError {
        let Some(start) = candidate.iter().position(|&c| c) else {
            return LoadError::file("<inventory>", "group cycle");
        };
        // Walk children that are themselves in the leftover set until a group repeats.
        let mut path = vec![start];
        let mut seen: HashMap<usize, usize> = HashMap::from([(start, 0)]);
        let mut cur = start;
        loop {
            let next = self.groups[cur]
                .children
                .keys()
                .copied()
                .find(|&c| candidate[c]);
            let Some(next) = next else {
                break;
            };
            if let Some(&pos) = seen.get(&next) {
                let cycle: Vec<usize> = path[pos..].iter().copied().chain([next]).collect();
                let names: Vec<&str> = cycle
                    .iter()
                    .map(|&g| self.groups.get_index(g).map_or("?", |(n, _)| n.as_str()))
                    .collect();
                let last = cycle[cycle.len() - 2];
                let origin = &self.groups[last].children[&next];
                let msg = if cycle.len() == 2 {
                    format!("group `{}` is listed as a child of itself", names[0])
                } else {
                    format!("group cycle: {}", names.join(" -> "))
                };
                return origin
                    .error(msg)
                    .with_hint("a group cannot contain itself, directly or through its children");
            }
            seen.insert(next, path.len());
            path.push(next);
            cur = next;
        }
        LoadError::file("<inventory>", "group cycle")
    }

    /// Each group's own vars: inline < group_vars beside the inventory < beside the playbook.
    fn group_own_vars(
        &self,
        names: &[String],
        dirs: &[VarsDir],
        inv_dirs: &[usize],
        play_dirs: &[usize],
    ) -> Vec<Vars> {
        self.groups
            .values()
            .zip(names)
            .map(|(g, name)| {
                let mut v = g.vars.clone();
                for &d in inv_dirs.iter().chain(play_dirs) {
                    if let Some(f) = dirs[d].groups.get(name.as_str()) {
                        v.extend(f.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                }
                v
            })
            .collect()
    }
}

/// The group part of a host's vars (steps 1 to 3 of the module doc).
fn merge_group_vars(
    groups: &[usize],
    all: usize,
    gb: &IndexMap<String, GroupB>,
    names: &[String],
    dirs: &[VarsDir],
    inv_dirs: &[usize],
    play_dirs: &[usize],
) -> Vars {
    let mut out = Vars::new();
    let mut put = |v: &Vars| out.extend(v.iter().map(|(k, v)| (k.clone(), v.clone())));
    for &g in groups {
        put(&gb[g].vars);
    }
    let others: Vec<usize> = groups.iter().copied().filter(|&g| g != all).collect();
    for &d in inv_dirs.iter().chain(play_dirs) {
        if let Some(v) = dirs[d].groups.get(names[all].as_str()) {
            put(v);
        }
    }
    for &d in inv_dirs.iter().chain(play_dirs) {
        for &g in &others {
            if let Some(v) = dirs[d].groups.get(names[g].as_str()) {
                put(v);
            }
        }
    }
    out
}

/// Precedence, case by case. Each case writes a tiny inventory whose values name their
/// origin, so a failure says which source won.
#[cfg(test)]
mod precedence_tests {
    use std::path::PathBuf;

    use crate::inventory::{Inventory, LoadOptions};
    use crate::value::Vars;

    /// Write `files` under a temp dir, load `sources` with `playbook_dirs` (relative).
    fn load(files: &[(&str, &str)], sources: &[&str], playbook_dirs: &[&str]) -> Inventory {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let abs = |v: &[&str]| -> Vec<PathBuf> { v.iter().map(|s| dir.path().join(s)).collect() };
        let opts = LoadOptions {
            playbook_dirs: abs(playbook_dirs),
            ..LoadOptions::default()
        };
        Inventory::load_opts(&abs(sources), &opts).unwrap()
    }

    fn var(inv: &Inventory, host: &str, name: &str) -> String {
        inv.hosts[host].vars[name]
            .as_str()
            .unwrap_or("?")
            .to_string()
    }

    const TREE: &str = "all:
  vars: {ntp: from_all_inline}
  children:
    dc:
      vars: {ntp: from_dc_inline}
      children:
        core:
          vars: {ntp: from_core_inline}
          hosts:
            r1:
";

    #[test]
    fn child_group_inline_beats_parent_inline_beats_all_inline() {
        let inv = load(&[("inv/hosts.yml", TREE)], &["inv/hosts.yml"], &[]);
        assert_eq!(var(&inv, "r1", "ntp"), "from_core_inline");
        assert_eq!(inv.hosts["r1"].groups, ["all", "dc", "core"]);
        let parent_only = TREE.replace("vars: {ntp: from_core_inline}", "vars: {}");
        let inv = load(&[("inv/hosts.yml", &parent_only)], &["inv/hosts.yml"], &[]);
        assert_eq!(var(&inv, "r1", "ntp"), "from_dc_inline");
    }

    #[test]
    fn group_vars_all_file_beats_any_inline_group_var() {
        // Ansible's documented order: "inventory file or script group vars" <
        // "inventory group_vars/all". Surprising, but existing inventories rely on it.
        let inv = load(
            &[
                ("inv/hosts.yml", TREE),
                ("inv/group_vars/all.yml", "ntp: from_group_vars_all\n"),
            ],
            &["inv/hosts.yml"],
            &[],
        );
        assert_eq!(var(&inv, "r1", "ntp"), "from_group_vars_all");
    }

    #[test]
    fn group_vars_files_child_beats_parent_beats_all() {
        let files = [
            ("inv/hosts.yml", TREE),
            (
                "inv/group_vars/all.yml",
                "ntp: from_group_vars_all\nsnmp: from_group_vars_all\n",
            ),
            (
                "inv/group_vars/dc.yml",
                "ntp: from_group_vars_dc\nsnmp: from_group_vars_dc\n",
            ),
            ("inv/group_vars/core.yml", "ntp: from_group_vars_core\n"),
        ];
        let inv = load(&files, &["inv/hosts.yml"], &[]);
        assert_eq!(var(&inv, "r1", "ntp"), "from_group_vars_core");
        assert_eq!(var(&inv, "r1", "snmp"), "from_group_vars_dc");
    }

    #[test]
    fn same_depth_groups_merge_alphabetically_unless_priority_says_otherwise() {
        let text = "all:
  children:
    core: {vars: {ntp: from_core_inline}, hosts: {r1: }}
    ams: {vars: {ntp: from_ams_inline}, hosts: {r1: }}
";
        let inv = load(&[("hosts.yml", text)], &["hosts.yml"], &[]);
        assert_eq!(inv.hosts["r1"].groups, ["all", "ams", "core"]);
        assert_eq!(var(&inv, "r1", "ntp"), "from_core_inline");

        let text = text.replace(
            "{ntp: from_ams_inline}",
            "{ntp: from_ams_inline, ansible_group_priority: 10}",
        );
        let inv = load(&[("hosts.yml", &text)], &["hosts.yml"], &[]);
        assert_eq!(inv.hosts["r1"].groups, ["all", "core", "ams"]);
        assert_eq!(var(&inv, "r1", "ntp"), "from_ams_inline");
        assert!(!inv.hosts["r1"].vars.contains_key("ansible_group_priority"));
        assert_eq!(inv.groups["ams"].priority, 10);
    }

    #[test]
    fn deeper_group_beats_shallower_whatever_the_names() {
        let text = "all:
  children:
    zz: {vars: {ntp: from_zz_depth1}, hosts: {r1: }}
    dc:
      children:
        aa: {vars: {ntp: from_aa_depth2}, hosts: {r1: }}
";
        let inv = load(&[("hosts.yml", text)], &["hosts.yml"], &[]);
        assert_eq!(inv.hosts["r1"].groups, ["all", "dc", "zz", "aa"]);
        assert_eq!(var(&inv, "r1", "ntp"), "from_aa_depth2");
    }

    #[test]
    fn playbook_group_vars_beat_inventory_group_vars() {
        let files = [
            ("inv/hosts.yml", TREE),
            ("inv/group_vars/core.yml", "ntp: from_inv_group_vars_core\n"),
            (
                "play/group_vars/core.yml",
                "ntp: from_play_group_vars_core\n",
            ),
            ("inv/group_vars/all.yml", "snmp: from_inv_group_vars_all\n"),
            (
                "play/group_vars/all.yml",
                "snmp: from_play_group_vars_all\n",
            ),
        ];
        let inv = load(&files, &["inv/hosts.yml"], &["play"]);
        assert_eq!(var(&inv, "r1", "ntp"), "from_play_group_vars_core");
        assert_eq!(var(&inv, "r1", "snmp"), "from_play_group_vars_all");
    }

    #[test]
    fn playbook_group_vars_of_a_parent_beat_inventory_group_vars_of_a_child() {
        // Ansible applies every inventory group_vars file, then every playbook one.
        let files = [
            ("inv/hosts.yml", TREE),
            ("inv/group_vars/core.yml", "ntp: from_inv_group_vars_core\n"),
            ("play/group_vars/dc.yml", "ntp: from_play_group_vars_dc\n"),
        ];
        let inv = load(&files, &["inv/hosts.yml"], &["play"]);
        assert_eq!(var(&inv, "r1", "ntp"), "from_play_group_vars_dc");
    }

    #[test]
    fn host_inline_beats_group_vars_files_and_host_vars_files_beat_host_inline() {
        let tree = TREE.replace(
            "r1:\n",
            "r1: {ntp: from_host_inline, snmp: from_host_inline}\n",
        );
        let files = [
            ("inv/hosts.yml", tree.as_str()),
            (
                "inv/group_vars/core.yml",
                "ntp: from_group_vars_core\nsnmp: from_group_vars_core\n",
            ),
            (
                "inv/host_vars/r1.yml",
                "snmp: from_inv_host_vars\nuser: from_inv_host_vars\n",
            ),
            ("play/host_vars/r1.yml", "user: from_play_host_vars\n"),
        ];
        let inv = load(&files, &["inv/hosts.yml"], &["play"]);
        assert_eq!(var(&inv, "r1", "ntp"), "from_host_inline");
        assert_eq!(var(&inv, "r1", "snmp"), "from_inv_host_vars");
        assert_eq!(var(&inv, "r1", "user"), "from_play_host_vars");
    }

    #[test]
    fn extra_vars_win_over_everything() {
        let files = [
            ("inv/hosts.yml", TREE),
            ("inv/host_vars/r1.yml", "ntp: from_host_vars\n"),
        ];
        let mut inv = load(&files, &["inv/hosts.yml"], &[]);
        let mut extra = Vars::new();
        extra.insert("ntp".into(), "from_extra_vars".into());
        inv.apply_extra_vars(&extra);
        assert_eq!(var(&inv, "r1", "ntp"), "from_extra_vars");
    }

    #[test]
    fn later_sources_win_for_the_same_host_and_group() {
        let files = [
            ("a.yml", "all:\n  children:\n    core:\n      vars: {ntp: from_a, snmp: from_a}\n      hosts:\n        r1: {user: from_a, port: 1}\n"),
            ("b.ini", "[core]\nr1 user=from_b\nr2\n[core:vars]\nntp=from_b\n"),
        ];
        let inv = load(&files, &["a.yml", "b.ini"], &[]);
        assert_eq!(var(&inv, "r1", "user"), "from_b");
        assert_eq!(inv.hosts["r1"].vars["port"], 1);
        assert_eq!(var(&inv, "r1", "ntp"), "from_b");
        assert_eq!(var(&inv, "r1", "snmp"), "from_a");
        assert_eq!(inv.hosts.keys().collect::<Vec<_>>(), ["r1", "r2"]);
    }

    #[test]
    fn vars_folder_files_merge_sorted_then_name_yml() {
        let files = [
            ("hosts.yml", TREE),
            (
                "group_vars/core/10-base.yml",
                "ntp: from_core_10\nsnmp: from_core_10\nuser: from_core_10\n",
            ),
            (
                "group_vars/core/20-site.yaml",
                "ntp: from_core_20\nsnmp: from_core_20\n",
            ),
            ("group_vars/core.yml", "ntp: from_core_yml\n"),
            ("group_vars/core/notes.md", "not: vars\n"),
        ];
        let inv = load(&files, &["hosts.yml"], &[]);
        assert_eq!(var(&inv, "r1", "ntp"), "from_core_yml");
        assert_eq!(var(&inv, "r1", "snmp"), "from_core_20");
        assert_eq!(var(&inv, "r1", "user"), "from_core_10");
        assert!(!inv.hosts["r1"].vars.contains_key("not"));
    }

    #[test]
    fn top_level_keys_replace_not_merge() {
        let files = [
            ("hosts.yml", "all:\n  vars:\n    ntp: {servers: [a], source: from_all}\n  hosts:\n    r1: {ntp: {servers: [b]}}\n"),
        ];
        let inv = load(&files, &["hosts.yml"], &[]);
        assert_eq!(
            inv.hosts["r1"].vars["ntp"],
            serde_json::json!({"servers": ["b"]})
        );
    }

    #[test]
    fn group_vars_of_the_same_folder_count_once_per_role() {
        // The playbook beside the inventory: the same folder is both; values are unchanged.
        let files = [
            ("hosts.yml", TREE),
            ("group_vars/core.yml", "ntp: from_group_vars_core\n"),
        ];
        let inv = load(&files, &["hosts.yml"], &["."]);
        assert_eq!(var(&inv, "r1", "ntp"), "from_group_vars_core");
        assert_eq!(inv.groups["core"].vars["ntp"], "from_group_vars_core");
    }

    #[test]
    fn vars_files_for_unknown_names_warn_only_when_close_to_a_real_name() {
        let files = [
            ("hosts.yml", TREE),
            ("host_vars/r2.yml", "ntp: typo\n"),
            ("host_vars/other-site-host.yml", "ntp: unrelated\n"),
            ("group_vars/cores.yml", "ntp: typo\n"),
        ];
        let inv = load(&files, &["hosts.yml"], &[]);
        assert_eq!(var(&inv, "r1", "ntp"), "from_core_inline");
        assert_eq!(inv.warnings.len(), 2, "{:?}", inv.warnings);
        assert!(inv
            .warnings
            .iter()
            .any(|w| w.contains("`r2`") && w.contains("`r1`")));
        assert!(inv
            .warnings
            .iter()
            .any(|w| w.contains("`cores`") && w.contains("`core`")));
    }
}
