//! The corpus of Ansible-style network playbooks (tests/ansible/network/): each is real
//! Ansible (`ansible-playbook --syntax-check` accepts it), passes `netorch check`, and runs
//! green with `netorch run` against netorch-sim devices, with an Ansible inventory
//! (`ansible_network_os`, `ansible_connection`, credentials in an ansible-vault file).

use std::path::{Path, PathBuf};

use crate::util::sim::Sim;
use crate::util::{self, ansible};

const PASSWORD: &str = "Sim-Vaulted-Pw-7q";
const ENABLE: &str = "Sim-Enable-Vaulted-3x";
const SNMP: &str = "Vaulted-Community-9k";
const VAULT_PASSWORD: &str = "corpus vault password";

fn corpus() -> Vec<PathBuf> {
    let dir = util::root().join("tests/ansible/network");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

fn groups_inventory() -> &'static str {
    "[ios]\nios-001\n[eos]\neos-001\n[nxos]\nnxos-001\n[junos]\njunos-001\n\
     [network:children]\nios\neos\nnxos\njunos\n"
}

#[test]
fn the_corpus_is_real_ansible() {
    let files = corpus();
    assert!(
        files.len() >= 15,
        "the corpus has {} playbooks",
        files.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let inv = util::write(dir.path(), "hosts", groups_inventory());
    std::thread::scope(|s| {
        for chunk in files.chunks(files.len().div_ceil(4)) {
            let (inv, dir) = (&inv, dir.path());
            s.spawn(move || {
                for f in chunk {
                    let mut cmd = ansible::command("ansible-playbook", dir);
                    ansible::run_ok(cmd.arg("-i").arg(inv).arg("--syntax-check").arg(f));
                }
            });
        }
    });
}

/// The lab: every platform the corpus names, an Ansible inventory for it, and the vault.
struct Lab {
    sim: Sim,
    dir: tempfile::TempDir,
    inventory: PathBuf,
    vault_pass: PathBuf,
}

fn lab() -> Lab {
    let sim = Sim::with("mixed", 8)
        .password(PASSWORD)
        .enable_secret(ENABLE)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let mut groups: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for h in &sim.hosts {
        let (group, os) = match h.vars["platform"].as_str().unwrap() {
            "cisco_ios" => ("ios", "cisco.ios.ios"),
            "arista_eos" => ("eos", "arista.eos.eos"),
            "cisco_nxos" => ("nxos", "cisco.nxos.nxos"),
            "juniper_junos" => ("junos", "junipernetworks.junos.junos"),
            "cisco_iosxr" => ("iosxr", "cisco.iosxr.iosxr"),
            other => panic!("sim platform {other}"),
        };
        groups.entry(group).or_default().push(format!(
            "        {}:\n          ansible_host: 127.0.0.1\n          ansible_port: {}\n          \
             ansible_network_os: {os}\n",
            h.name, h.vars["port"]
        ));
    }
    let mut inv = format!(
        "all:\n  vars:\n    ansible_connection: ansible.netcommon.network_cli\n    \
         ansible_user: admin\n    known_hosts_file: {}\n  children:\n    network:\n      \
         children:\n",
        sim.known_hosts.display()
    );
    for (g, hosts) in &groups {
        inv.push_str(&format!("        {g}:\n          hosts:\n"));
        for h in hosts {
            // Re-indent the host entries under this group's `hosts:`.
            for line in h.lines() {
                inv.push_str(&format!("    {line}\n"));
            }
        }
    }
    let inventory = util::write(dir.path(), "inventory/hosts.yml", &inv);
    let vault_pass = util::write(dir.path(), "vault-pass.txt", &format!("{VAULT_PASSWORD}\n"));
    let secrets = util::write(
        dir.path(),
        "inventory/group_vars/all/vault.yml",
        &format!("ansible_password: {PASSWORD}\nansible_become_password: {ENABLE}\n"),
    );
    encrypt(dir.path(), &vault_pass, &secrets);
    for f in corpus() {
        std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
    }
    let snmp = util::write(
        dir.path(),
        "vars/snmp_vault.yml",
        &format!("snmp_community: {SNMP}\n"),
    );
    encrypt(dir.path(), &vault_pass, &snmp);
    Lab {
        sim,
        dir,
        inventory,
        vault_pass,
    }
}

/// `ansible-vault encrypt` in place: the files are the real thing, not netorch's idea of it.
fn encrypt(dir: &Path, pass: &Path, file: &Path) {
    let mut cmd = ansible::command("ansible-vault", dir);
    ansible::run_ok(
        cmd.arg("encrypt")
            .arg("--vault-password-file")
            .arg(pass)
            .arg(file),
    );
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.starts_with("$ANSIBLE_VAULT;1.1;AES256"), "{text}");
}

fn netorch(lab: &Lab, cmd: &str, playbook: &str) -> std::process::Output {
    util::netorch()
        .current_dir(lab.dir.path())
        .arg(cmd)
        .arg("-i")
        .arg(&lab.inventory)
        .arg("--vault-password-file")
        .arg(&lab.vault_pass)
        .arg(playbook)
        .output()
        .unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_corpus_passes_check_and_runs_against_the_simulator() {
    let lab = lab();
    let mut failures = Vec::new();
    for f in corpus() {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let check = netorch(&lab, "check", &name);
        if !check.status.success() {
            failures.push(format!("check {name}: {}\n{}", check.status, text(&check)));
            continue;
        }
        let run = netorch(&lab, "run", &name);
        let out = text(&run);
        if !run.status.success() {
            failures.push(format!("run {name}: {}\n{out}", run.status));
        }
        for secret in [PASSWORD, ENABLE, SNMP, VAULT_PASSWORD] {
            assert!(
                !out.contains(secret),
                "{name} printed a vaulted secret:\n{out}"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // What the playbooks wrote where Ansible would have written it.
    let d = lab.dir.path();
    let backup = std::fs::read_to_string(d.join("backups/ios-001.cfg")).unwrap();
    assert!(backup.contains("hostname ios-001"), "{backup}");
    let csv = std::fs::read_to_string(d.join("reports/versions.csv")).unwrap();
    for h in ["ios-001", "ios-002", "eos-001", "eos-002"] {
        assert!(
            csv.lines().any(|l| l.starts_with(&format!("{h},{h},"))),
            "{h}: {csv}"
        );
    }
    let summary = std::fs::read_to_string(d.join("reports/summary.txt")).unwrap();
    assert_eq!(summary.lines().count(), lab.sim.hosts.len(), "{summary}");
}
