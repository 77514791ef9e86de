//! Playbooks, differentially: every playbook of tests/ansible/playbooks/ runs under the
//! real `ansible-playbook` (connection local) and under `netorch run`, each in its own copy
//! of the folder. Each playbook ends by writing what it computed per host to
//! `out/<host>.json` (copy content, delegate_to localhost); the files written, and the
//! recap counts per host, must be the same.
//!
//! netorch's recap counts a changed task as `changed` only and an ignored failure as
//! `ignored` only, where Ansible counts both as `ok` too: the comparison adds them back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util;

const COUNTS: &[&str] = &[
    "ok",
    "changed",
    "unreachable",
    "failed",
    "skipped",
    "rescued",
    "ignored",
];

type Stats = BTreeMap<String, BTreeMap<String, u64>>;

fn corpus() -> PathBuf {
    util::root().join("tests/ansible/playbooks")
}

fn playbooks() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml") && n != "inventory.yml")
        .collect();
    names.sort();
    names
}

/// A fresh copy of the corpus with an empty `out/`.
fn workdir(parent: &Path, tag: &str) -> PathBuf {
    let dir = parent.join(tag);
    std::fs::create_dir_all(dir.join("out")).unwrap();
    for e in std::fs::read_dir(corpus()).unwrap() {
        let e = e.unwrap();
        if e.path().is_file() {
            std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
        }
    }
    dir
}

/// What the playbook wrote: JSON files parsed, other files as their sorted lines (hosts
/// append to shared files in whatever order they finish).
fn outputs(dir: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir.join("out")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let v = if p.is_dir() {
            Value::from("<folder>")
        } else {
            let text = std::fs::read_to_string(&p).unwrap();
            serde_json::from_str(&text).unwrap_or_else(|_| {
                let mut lines: Vec<&str> = text.lines().collect();
                lines.sort_unstable();
                Value::from(lines)
            })
        };
        out.insert(name, v);
    }
    out
}

fn ansible(dir: &Path, playbook: &str) -> Stats {
    let mut cmd = util::ansible::command("ansible-playbook", dir);
    let cfg = dir.join("ansible.cfg");
    std::fs::write(&cfg, "").unwrap();
    let python = util::ansible::env_dir().join("bin/python");
    // An empty file rather than /dev/null: ansible-core 2.19 refuses a configuration file
    // without an extension it knows.
    cmd.env("ANSIBLE_CONFIG", &cfg)
        .env("ANSIBLE_PYTHON_INTERPRETER", python)
        .args(["-i", "inventory.yml", playbook]);
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let re = regex::Regex::new(
        r"(?m)^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)",
    )
    .unwrap();
    let mut stats = Stats::new();
    for c in re.captures_iter(&stdout) {
        let counts = COUNTS
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), c[i + 2].parse().unwrap()))
            .collect();
        stats.insert(c[1].to_string(), counts);
    }
    assert!(
        !stats.is_empty(),
        "ansible-playbook {playbook} gave no recap:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stats
}

fn netorch(dir: &Path, playbook: &str) -> Stats {
    let out = util::netorch()
        .current_dir(dir)
        .args(["run", "--json", "-i", "inventory.yml", playbook])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "netorch run {playbook}: no JSON report ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut stats = Stats::new();
    for (host, s) in report["stats"].as_object().unwrap() {
        let n = |k: &str| s[k].as_u64().unwrap();
        let mut counts: BTreeMap<String, u64> =
            COUNTS.iter().map(|k| (k.to_string(), n(k))).collect();
        counts.insert("ok".into(), n("ok") + n("changed") + n("ignored"));
        stats.insert(host.clone(), counts);
    }
    stats
}

/// Run one playbook under both; what differs, as messages.
fn compare(tmp: &Path, name: &str) -> Vec<String> {
    let mut differences = Vec::new();
    let a = workdir(tmp, &format!("ansible-{name}"));
    let n = workdir(tmp, &format!("netorch-{name}"));
    let (a_stats, n_stats) = (ansible(&a, name), netorch(&n, name));
    let (a_out, n_out) = (outputs(&a), outputs(&n));
    // One file per host at least: a playbook that fails before writing proves nothing.
    assert!(
        a_out.len() >= 3,
        "{name}: Ansible wrote {a_out:?} to out/; the playbook must write its results"
    );
    if a_stats != n_stats {
        differences.push(format!(
            "{name}: recap differs\n  ansible: {a_stats:?}\n  netorch: {n_stats:?}"
        ));
    }
    if a_out != n_out {
        differences.push(format!(
            "{name}: results differ\n  ansible: {}\n  netorch: {}",
            serde_json::to_string(&a_out).unwrap(),
            serde_json::to_string(&n_out).unwrap()
        ));
    }
    differences
}

#[test]
fn playbooks_give_what_ansible_gives() {
    let names = playbooks();
    assert!(
        names.len() >= 12,
        "the corpus has {} playbooks",
        names.len()
    );
    let tmp = tempfile::tempdir().unwrap();
    // Two playbooks at a time: Ansible takes seconds per playbook, mostly waiting.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let differences = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(name) = names.get(i) else { break };
                let found = compare(tmp.path(), name);
                differences.lock().unwrap().extend(found);
            });
        }
    });
    let differences = differences.into_inner().unwrap();
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Against devices (netorch-sim): an unreachable device skips its block's `rescue` and
/// leaves the play (Ansible's strategy drops unreachable hosts before the rescue runs);
/// `ignore_unreachable` carries on; a device failure is rescued; `become: true` with
/// `become_method: enable` runs with the enable secret; the report lines written with
/// `lineinfile` + `delegate_to: localhost` from every host are all there.
#[test]
fn device_blocks_rescue_failures_but_not_unreachable_hosts() {
    let sim = util::sim::Sim::with("cisco_ios", 3)
        .password("pw")
        .enable_secret("en")
        .args(&["--fail", "ios-003=auth-fail"])
        .start();
    let report = sim.dir.path().join("report.txt");
    let pb = util::write(
        sim.dir.path(),
        "p.yml",
        &format!(
            r#"
- name: Rollback pattern
  hosts: all
  become: true
  become_method: enable
  tasks:
    - name: Probe
      command: show clock
      ignore_unreachable: true
    - block:
        - name: Version
          command: show version
          register: ver
        - name: Broken on ios-001
          command: show bogus-command
          when: inventory_hostname == 'ios-001'
      rescue:
        - name: Rolled back
          set_fact: {{ rolled_back: "{{{{ ansible_failed_task.name }}}}" }}
      always:
        - name: Report
          lineinfile:
            path: {report}
            line: "{{{{ inventory_hostname }}}} {{{{ rolled_back | default('clean') }}}}"
            create: true
          delegate_to: localhost
"#,
            report = report.display()
        ),
    );
    let out = util::run_playbook(&sim, &pb, &["--json"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let stats = &doc["stats"];
    assert_eq!(stats["ios-001"]["rescued"], 1, "{stats}");
    assert_eq!(stats["ios-001"]["failed"], 0, "{stats}");
    assert_eq!(stats["ios-002"]["rescued"], 0, "{stats}");
    // ios-003 cannot log in: the probe's unreachable is ignored, the block's is not, and
    // neither its rescue nor its always runs.
    assert_eq!(stats["ios-003"]["ignored"], 1, "{stats}");
    assert_eq!(stats["ios-003"]["unreachable"], 1, "{stats}");
    assert_eq!(stats["ios-003"]["rescued"], 0, "{stats}");
    let mut lines: Vec<String> = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    assert_eq!(lines, ["ios-001 Broken on ios-001", "ios-002 clean"]);
    assert_eq!(out.status.code(), Some(3));
}

/// Many hosts appending to one file at once lose no line (the per-file lock).
#[test]
fn concurrent_lineinfile_keeps_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut inv = String::from("all:\n  hosts:\n");
    for i in 0..60 {
        inv.push_str(&format!("    h{i:02}: {{}}\n"));
    }
    util::write(dir.path(), "inv.yml", &inv);
    let pb = util::write(
        dir.path(),
        "p.yml",
        r#"
- hosts: all
  tasks:
    - lineinfile:
        path: out/report.txt
        line: "{{ inventory_hostname }}"
        create: true
      delegate_to: localhost
"#,
    );
    let out = util::netorch()
        .current_dir(dir.path())
        .args(["run", "--json", "-f", "60", "-i", "inv.yml"])
        .arg(&pb)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("out/report.txt")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(lines.len(), 60, "{text}");
}
