//! Ansible network playbooks against the simulator: `*_facts` and `gather_facts: true`,
//! `*_command` with `wait_for`, `*_config` with `backup_options`, `save_when`, `match`,
//! `replace`, `before`/`after` and `diff_against`, written as Ansible users write them.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::util::report::{json_of, results};
use crate::util::sim::Sim;
use crate::util::write;

fn run(sim: &Sim, playbook: &Path, args: &[&str]) -> Output {
    crate::util::run_playbook(sim, playbook, args)
}

/// The JSON report of a run that must succeed.
fn run_ok(sim: &Sim, playbook: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = run(sim, playbook, &all);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    json_of(&out)
}

/// The one result of `task` on `host`.
fn result<'a>(doc: &'a Value, task: &str, host: &str) -> &'a Value {
    results(doc, task)
        .into_iter()
        .find(|r| r["host"] == host)
        .unwrap_or_else(|| panic!("no result of `{task}` on {host}: {doc:#}"))
}

/// A debug task's message on `host`.
fn said<'a>(doc: &'a Value, task: &str, host: &str) -> &'a str {
    result(doc, task, host)["data"]["debug"]
        .as_str()
        .unwrap_or_default()
}

/// What `show CMD` answers on `host`.
fn show(sim: &Sim, host: &str, command: &str) -> String {
    let out = sim
        .netorch("exec")
        .args(["--limit", host, "--json", command])
        .output()
        .unwrap();
    let doc = json_of(&out);
    results(&doc, command)[0]["commands"][0]["output"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn facts_of_every_platform_read_from_the_show_output() {
    // Not the sim's default password `admin`: its masking would hide `admin-status`.
    let sim = Sim::with("mixed", 4).password("s3cret-Pw").start();
    let names: Vec<&str> = sim.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    let pb = write(
        sim.dir.path(),
        "facts.yml",
        r#"
- name: IOS
  hosts: cisco_ios
  gather_facts: false
  tasks:
    - name: Facts
      cisco.ios.ios_facts:
        gather_subset: [interfaces, hardware]
      register: f
- name: EOS
  hosts: arista_eos
  gather_facts: false
  tasks:
    - name: Facts
      arista.eos.eos_facts:
        gather_subset: all
      register: f
- name: NX-OS
  hosts: cisco_nxos
  gather_facts: false
  tasks:
    - name: Facts
      cisco.nxos.nxos_facts:
        gather_subset: [interfaces, "!config"]
      register: f
- name: Junos
  hosts: juniper_junos
  gather_facts: false
  tasks:
    - name: Facts
      junipernetworks.junos.junos_facts:
        gather_subset: interfaces
      register: f
- name: Report
  hosts: all
  gather_facts: false
  tasks:
    - name: Show
      debug:
        msg: "{{ ansible_net_hostname }}|{{ ansible_net_version }}|{{ ansible_facts.net_model }}|{{ ansible_net_serialnum }}|{{ f.ansible_facts.ansible_net_system }}"
"#,
    );
    let doc = run_ok(&sim, &pb, &[]);
    let facts = |host: &str| result(&doc, "Facts", host)["data"]["ansible_facts"].clone();

    let ios = facts("ios-001");
    assert_eq!(ios["ansible_net_version"], "17.03.04a");
    assert_eq!(ios["ansible_net_model"], "C9300-48P");
    assert_eq!(ios["ansible_net_image"], "flash:packages.conf");
    assert_eq!(ios["ansible_net_hostname"], "ios-001");
    assert_eq!(ios["ansible_net_api"], "cliconf");
    assert_eq!(
        ios["ansible_net_filesystems"],
        serde_json::json!(["flash:"])
    );
    assert_eq!(
        ios["ansible_net_memtotal_mb"],
        1_371_159_880u64 / 1024 / 1024
    );
    assert_eq!(
        ios["ansible_net_memfree_mb"],
        1_087_243_392u64 / 1024 / 1024
    );
    let uplink = &ios["ansible_net_interfaces"]["GigabitEthernet1/0/1"];
    assert_eq!(uplink["description"], "uplink to core");
    assert_eq!(uplink["mtu"], 1500);
    assert_eq!(uplink["bandwidth"], 1000000);
    assert_eq!(uplink["lineprotocol"], "up");
    let mgmt = &ios["ansible_net_interfaces"]["GigabitEthernet0/0"];
    assert_eq!(mgmt["macaddress"], "5254.0000.0001");
    assert_eq!(
        mgmt["ipv4"],
        serde_json::json!([{"address": "10.255.0.1", "subnet": "16"}])
    );
    assert!(ios["ansible_net_all_ipv4_addresses"]
        .as_array()
        .unwrap()
        .contains(&Value::from("10.255.0.1")));
    assert!(
        ios.get("ansible_net_config").is_none(),
        "config not asked for"
    );

    let eos = facts("eos-001");
    assert_eq!(eos["ansible_net_version"], "4.28.3M");
    assert_eq!(eos["ansible_net_model"], "vEOS-lab");
    assert_eq!(eos["ansible_net_serialnum"], "FOC2210X001");
    assert_eq!(eos["ansible_net_hostname"], "eos-001");
    assert_eq!(eos["ansible_net_fqdn"], "eos-001.lab.example.net");
    assert_eq!(eos["ansible_net_memtotal_mb"], 4002012 / 1024);
    assert_eq!(
        eos["ansible_net_interfaces"]["Ethernet1"]["description"],
        "uplink to core"
    );
    assert_eq!(eos["ansible_net_interfaces"]["Ethernet1"]["mtu"], 9214);
    assert!(eos["ansible_net_config"]
        .as_str()
        .unwrap()
        .contains("hostname eos-001"));

    let nx = facts("nxos-001");
    assert_eq!(nx["ansible_net_version"], "9.3(8)");
    assert_eq!(nx["ansible_net_image"], "bootflash:///nxos.9.3.8.bin");
    assert_eq!(nx["ansible_net_model"], "Nexus9000 C9300v");
    assert_eq!(nx["ansible_net_serialnum"], "FOC2210X003");
    assert_eq!(nx["ansible_net_hostname"], "nxos-001");
    assert_eq!(
        nx["ansible_net_interfaces"]["Ethernet1/1"]["description"],
        "uplink to core"
    );
    assert!(
        nx.get("ansible_net_config").is_none(),
        "!config excluded it"
    );
    assert_eq!(
        nx["ansible_net_gather_subset"],
        serde_json::json!(["default", "interfaces"])
    );

    let junos = facts("junos-001");
    assert_eq!(junos["ansible_net_version"], "21.4R3.15");
    assert_eq!(junos["ansible_net_model"], "vsrx");
    assert_eq!(junos["ansible_net_hostname"], "junos-001");
    assert!(!junos["ansible_net_serialnum"].as_str().unwrap().is_empty());
    let ge = &junos["ansible_net_interfaces"]["ge-0/0/0"];
    assert_eq!(ge["description"], "uplink to core");
    assert_eq!(ge["mtu"], 1514);
    assert_eq!(ge["oper-status"], "up");
    assert_eq!(ge["admin-status"], "up");
    assert!(junos["ansible_net_all_ipv4_addresses"]
        .as_array()
        .unwrap()
        .contains(&Value::from("10.0.0.3")));

    // The facts are host variables for later plays, in both of Ansible's spellings.
    assert_eq!(
        said(&doc, "Show", "ios-001"),
        format!(
            "ios-001|17.03.04a|C9300-48P|{}|ios",
            ios["ansible_net_serialnum"].as_str().unwrap()
        )
    );
    assert_eq!(
        said(&doc, "Show", "junos-001"),
        format!(
            "junos-001|21.4R3.15|vsrx|{}|junos",
            junos["ansible_net_serialnum"].as_str().unwrap()
        )
    );
}

/// An Ansible inventory of the sim's devices: `ansible_host`, `ansible_port`,
/// `ansible_network_os`, plus a local host that has no network OS.
fn ansible_inventory(sim: &Sim) -> std::path::PathBuf {
    let mut ini = String::from("[routers]\n");
    for h in &sim.hosts {
        let os = match h.vars["platform"].as_str().unwrap() {
            "cisco_ios" => "cisco.ios.ios",
            "arista_eos" => "arista.eos.eos",
            "cisco_nxos" => "cisco.nxos.nxos",
            _ => "junipernetworks.junos.junos",
        };
        ini.push_str(&format!(
            "{} ansible_host=127.0.0.1 ansible_port={} ansible_network_os={os}\n",
            h.name, h.vars["port"]
        ));
    }
    ini.push_str("\n[local]\ncontroller ansible_connection=local\n\n[all:vars]\n");
    for k in ["user", "password", "enable_secret", "known_hosts_file"] {
        ini.push_str(&format!("{k}={}\n", sim.hosts[0].vars[k].as_str().unwrap()));
    }
    write(sim.dir.path(), "hosts.ini", &ini)
}

#[test]
fn gather_facts_true_gathers_network_facts_by_ansible_network_os() {
    // Not the sim's default password `admin`: its masking would hide `admin-status`.
    let sim = Sim::with("mixed", 4).password("s3cret-Pw").start();
    let inv = ansible_inventory(&sim);
    let pb = write(
        sim.dir.path(),
        "gather.yml",
        r#"
- name: Inventory report
  hosts: all
  gather_facts: true
  gather_subset: [interfaces]
  tasks:
    - name: Model
      debug:
        msg: "{{ ansible_net_model | default('none') }} {{ ansible_net_interfaces | default({}) | length > 0 }}"
"#,
    );
    let check = crate::util::netorch()
        .args(["check", "-i"])
        .arg(&inv)
        .arg(&pb)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{check:?}");
    let out = crate::util::netorch()
        .current_dir(sim.dir.path())
        .args(["run", "--json", "-i"])
        .arg(&inv)
        .arg(&pb)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc = json_of(&out);
    let gathered = result(&doc, "Gathering Facts", "eos-001");
    assert_eq!(gathered["status"], "ok");
    assert_eq!(said(&doc, "Model", "eos-001"), "vEOS-lab True");
    assert_eq!(said(&doc, "Model", "nxos-001"), "Nexus9000 C9300v True");
    assert_eq!(said(&doc, "Model", "junos-001"), "vsrx True");
    // A host without a network OS is skipped, as Ansible gathers no network facts there.
    assert_eq!(
        result(&doc, "Gathering Facts", "controller")["status"],
        "skipped"
    );
    assert_eq!(said(&doc, "Model", "controller"), "none False");
}

#[test]
fn wait_for_passes_fails_and_retries_as_ansible() {
    let sim = Sim::with("cisco_ios", 1).start();
    let pb = write(
        sim.dir.path(),
        "wait.yml",
        r#"
- name: Wait
  hosts: all
  gather_facts: false
  tasks:
    - name: Holds
      cisco.ios.ios_command:
        commands: [show version, show clock]
        wait_for:
          - result[0] contains IOS
          - result[0] contains "Version 17"
          - result[0] not contains NX-OS
          - result[1] matches 'UTC'
      register: ver
    - name: Any
      ios_command:
        commands: show version
        match: any
        waitfor:
          - result[0] contains Junos
          - result[0] contains C9300
    - name: Shape
      debug:
        msg: "{{ ver.stdout | length }} {{ ver.stdout[0][:12] }} {{ ver.stdout_lines[0][0] }}"
    - name: Never
      cisco.ios.ios_command:
        commands: show version
        wait_for: result[0] contains NX-OS
        retries: 2
        interval: 0.2
      register: never
      ignore_errors: true
    - name: Why
      debug:
        msg: "{{ never.failed }} {{ never.failed_conditions[0] }} {{ never.attempts }}"
    - name: Prompted
      cisco.ios.ios_command:
        commands:
          - command: copy running-config startup-config
            prompt: 'Destination filename \[startup-config\]\?'
            answer: ""
        wait_for: result[0] contains "[OK]"
"#,
    );
    let doc = run_ok(&sim, &pb, &[]);
    assert_eq!(result(&doc, "Holds", "ios-001")["status"], "ok");
    assert_eq!(result(&doc, "Any", "ios-001")["status"], "ok");
    assert_eq!(
        said(&doc, "Shape", "ios-001"),
        "2 Cisco IOS XE Cisco IOS XE Software, Version 17.03.04a"
    );
    let never = result(&doc, "Never", "ios-001");
    assert_eq!(never["status"], "failed");
    let msg = never["msg"].as_str().unwrap();
    assert!(
        msg.contains("One or more conditional statements have not been satisfied")
            && msg.contains("result[0] contains NX-OS"),
        "{msg}"
    );
    // retries: 2 is three rounds, two pauses of 0.2 s between them.
    assert!(never["duration_ms"].as_u64().unwrap() >= 400, "{never}");
    // A command with its prompt and answer, as Ansible's `commands` entries carry them.
    assert_eq!(result(&doc, "Prompted", "ios-001")["status"], "ok");
    assert_eq!(
        said(&doc, "Why", "ios-001"),
        "True result[0] contains NX-OS 3"
    );
}

#[test]
fn a_bad_wait_for_condition_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let pb = write(
        dir.path(),
        "bad.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - ios_command:\n        commands: show version\n        wait_for: result[0] resembles IOS\n",
    );
    let inv = write(dir.path(), "hosts.ini", "r1 platform=cisco_ios\n");
    let out = crate::util::netorch()
        .args(["check", "-i"])
        .arg(&inv)
        .arg(&pb)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown operator `resembles`") && err.contains("bad.yml:"),
        "{err}"
    );
}

#[test]
fn backup_writes_where_ansible_writes_with_backup_options() {
    let sim = Sim::with("cisco_ios", 1).start();
    let pb = write(
        sim.dir.path(),
        "plays/backup.yml",
        r#"
- name: Backups
  hosts: all
  gather_facts: false
  tasks:
    - name: Default place
      cisco.ios.ios_config:
        backup: yes
      register: plain
    - name: Options
      cisco.ios.ios_config:
        backup: yes
        backup_options:
          filename: "{{ inventory_hostname }}.cfg"
          dir_path: configs/{{ inventory_hostname }}
      register: opts
"#,
    );
    let doc = run_ok(&sim, &pb, &[]);
    let plays = sim.dir.path().join("plays");
    let plain = &result(&doc, "Default place", "ios-001")["data"];
    let path = plain["backup_path"].as_str().unwrap();
    let prefix = plays.join("backup/ios-001_config.").display().to_string();
    assert!(path.starts_with(&prefix), "{path}");
    assert_eq!(
        plain["shortname"],
        plays.join("backup/ios-001_config").display().to_string()
    );
    assert!(plain["filename"]
        .as_str()
        .unwrap()
        .starts_with("ios-001_config."));
    assert_eq!(plain["date"].as_str().unwrap().len(), 10);
    assert!(std::fs::read_to_string(path)
        .unwrap()
        .contains("hostname ios-001"));

    let opts = &result(&doc, "Options", "ios-001")["data"];
    let want = plays.join("configs/ios-001/ios-001.cfg");
    assert_eq!(opts["backup_path"], want.display().to_string());
    assert!(opts.get("shortname").is_none());
    let text = std::fs::read_to_string(&want).unwrap();
    assert!(text.contains("interface GigabitEthernet1/0/1"), "{text}");
}

#[test]
fn save_when_modified_changed_and_never() {
    let sim = Sim::with("cisco_ios", 1).start();
    let step = |name: &str, body: &str| {
        let pb = write(
            sim.dir.path(),
            &format!("{name}.yml"),
            &format!("- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Step\n      cisco.ios.ios_config:\n{body}"),
        );
        let doc = run_ok(&sim, &pb, &[]);
        result(&doc, "Step", "ios-001").clone()
    };
    let startup = || show(&sim, "ios-001", "show startup-config");

    let r = step(
        "never",
        "        lines: [ntp server 192.0.2.201]\n        save_when: never\n",
    );
    assert_eq!(r["status"], "changed");
    assert!(!startup().contains("192.0.2.201"));

    // Nothing to send, but running differs from startup: modified saves.
    let r = step("modified", "        save_when: modified\n");
    assert_eq!(r["data"]["saved"], true, "{r}");
    assert_eq!(r["status"], "changed");
    assert!(startup().contains("ntp server 192.0.2.201"));

    let r = step("modified-again", "        save_when: modified\n");
    assert_eq!(r["status"], "ok", "{r}");
    assert!(r["data"].get("saved").is_none());

    let r = step(
        "changed",
        "        lines: [ntp server 192.0.2.202]\n        save_when: changed\n",
    );
    assert_eq!(r["data"]["saved"], true);
    assert!(startup().contains("ntp server 192.0.2.202"));

    let r = step(
        "changed-again",
        "        lines: [ntp server 192.0.2.202]\n        save_when: changed\n",
    );
    assert_eq!(r["status"], "ok", "{r}");
    assert!(r["data"].get("saved").is_none());
}

#[test]
fn match_replace_before_after_and_diff_against_intended() {
    let sim = Sim::with("cisco_ios", 1).start();
    let pb = write(
        sim.dir.path(),
        "match.yml",
        r#"
- name: Match
  hosts: all
  gather_facts: false
  tasks:
    - name: Line
      ios_config:
        parents: interface GigabitEthernet1/0/1
        lines: [description uplink to core, mtu 9000]
    - name: None
      ios_config:
        parents: interface GigabitEthernet1/0/1
        lines: [description uplink to core]
        match: none
    - name: Block
      ios_config:
        parents: interface GigabitEthernet1/0/1
        lines: [description uplink to core, mtu 9000]
        replace: block
        before: [default interface GigabitEthernet1/0/1]
        after: [do show clock]
    - name: Intended
      ios_config:
        diff_against: intended
        intended_config: "hostname ios-001\nntp server 192.0.2.99\n"
        diff_ignore_lines: ['^ntp server 192\.0\.2\.123']
        defaults: yes
    - name: From src
      cisco.ios.ios_config:
        src: ntp_src.j2
    - name: From a list
      ios_config:
        lines: "{{ servers | map('regex_replace', '^', 'ntp server ') | list }}"
      vars:
        servers: [192.0.2.31, 192.0.2.32]
"#,
    );
    // Ansible's `*_config` finds `src` among the templates.
    write(
        sim.dir.path(),
        "templates/ntp_src.j2",
        "ntp server {{ '192.0.2.' ~ (70 + 7) }}\n",
    );
    let doc = run_ok(&sim, &pb, &["--check", "--diff"]);
    let pending = |task: &str| result(&doc, task, "ios-001")["data"]["pending"].clone();
    assert_eq!(
        pending("Line"),
        serde_json::json!(["interface GigabitEthernet1/0/1", " mtu 9000"])
    );
    assert_eq!(
        pending("None"),
        serde_json::json!([
            "interface GigabitEthernet1/0/1",
            " description uplink to core"
        ])
    );
    assert_eq!(
        pending("Block"),
        serde_json::json!([
            "default interface GigabitEthernet1/0/1",
            "interface GigabitEthernet1/0/1",
            " description uplink to core",
            " mtu 9000",
            "do show clock"
        ])
    );
    assert_eq!(
        pending("From src"),
        serde_json::json!(["ntp server 192.0.2.77"])
    );
    // One expression giving a list is one line per element, as Ansible reads it.
    assert_eq!(
        pending("From a list"),
        serde_json::json!(["ntp server 192.0.2.31", "ntp server 192.0.2.32"])
    );
    let intended = result(&doc, "Intended", "ios-001");
    assert!(intended["msg"]
        .as_str()
        .unwrap()
        .contains("not acted on by netorch: defaults"));
    assert_eq!(
        intended["data"]["not_honoured"],
        serde_json::json!(["defaults"])
    );

    // The diff against the intended config: from the intended config to the device's.
    let only = write(
        sim.dir.path(),
        "intended.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Intended\n      ios_config:\n        diff_against: intended\n        intended_config: \"hostname ios-001\\nntp server 192.0.2.99\\n\"\n        diff_ignore_lines: ['^(?=ntp server 192\\.0\\.2\\.123)']\n",
    );
    let doc = run_ok(&sim, &only, &["--diff"]);
    let diff = result(&doc, "Intended", "ios-001")["diff"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(diff.contains("-ntp server 192.0.2.99"), "{diff}");
    assert!(diff.contains("+interface GigabitEthernet1/0/1"), "{diff}");
    assert!(!diff.contains("192.0.2.123"), "ignored line shown: {diff}");
    assert!(!diff.contains("-hostname ios-001"), "{diff}");
}

/// The Ansible-style examples in playbooks/ansible/ pass `check` against the example
/// inventory (the demo lab runs them).
#[test]
fn the_ansible_examples_pass_check() {
    let dir = crate::util::root().join("playbooks/ansible");
    let mut books: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    books.sort();
    assert!(books.len() >= 4, "{books:?}");
    let out = crate::util::netorch()
        .current_dir(crate::util::root())
        .env("NETORCH_PASSWORD", "Example-Pw-4411")
        .env("NETORCH_ENABLE_SECRET", "Example-En-4412")
        .args(["check", "-i", "inventory"])
        .args(&books)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches("ok: ").count(), books.len(), "{text}");
}

/// `wait_for` conditions decided by netorch and by ansible.netcommon's own `Conditional`
/// (the oracle's Python) on the same device output: the same verdict for every one.
#[test]
fn wait_for_conditions_agree_with_ansible_netcommon() {
    let sim = Sim::with("arista_eos", 1).start();
    let commands = ["show version", "show version | json", "show hostname"];
    let outputs: Vec<String> = commands.iter().map(|c| show(&sim, "eos-001", c)).collect();
    let conditions = [
        "result[0] contains Arista",
        "result[0] contains 'vEOS-lab'",
        "result[0] contains \"Software image version: 4.28\"",
        "result[0] contains NX-OS",
        "result[0] not contains NX-OS",
        "result[0] matches 'image version: 4\\.\\d+'",
        "result[0] matches '^Arista'",
        "result[0] matches 'version: 5\\.'",
        "result[1].version == 4.28.3M",
        "result[1].version eq 4.27.0F",
        "result[1].version neq 4.27.0F",
        "result[1].version != 4.28.3M",
        "result[1].memTotal gt 1000000",
        "result[1].memTotal > 9000000",
        "result[1].memFree ge 2630404",
        "result[1].memFree lt 2630404",
        "result[1].memFree le 2630404",
        "result[1].isIntlVersion == false",
        "result[1].modelName contains vEOS",
        "result[1]['serialNumber'] == FOC2210X000",
        "result[2] contains eos-001",
        "result[2] matches 'FQDN:\\s+eos-001'",
        "result[0] matches '^Arista(?! NX)'",
        "result[2] matches '(?<=FQDN:)\\s+eos-001'",
        "result[3] contains x",
        "result[1].nothing.deeper == 1",
    ];
    // The oracle: netcommon's Conditional on the outputs as its modules hand them over.
    let dir = sim.dir.path();
    write(
        dir,
        "case.json",
        &serde_json::json!({"outputs": outputs, "conditions": conditions}).to_string(),
    );
    let script = write(
        dir,
        "oracle.py",
        r#"
import json, sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.ansible.netcommon.plugins.module_utils.network.common.parsing import Conditional
case = json.load(open("case.json"))
responses = [case["outputs"][0], json.loads(case["outputs"][1]), case["outputs"][2]]
verdicts = []
for c in case["conditions"]:
    try:
        verdicts.append(bool(Conditional(c)(responses)))
    except Exception:
        verdicts.append(False)
print(json.dumps(verdicts))
"#,
    );
    let env = crate::util::ansible::env_dir();
    let out = crate::util::ansible::run_ok(
        crate::util::ansible::command("python", dir)
            .arg(&script)
            .arg(env.join("collections")),
    );
    let oracle: Vec<bool> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(oracle.iter().any(|v| *v) && oracle.iter().any(|v| !*v));

    let mut pb = String::from("- hosts: all\n  gather_facts: false\n  tasks:\n");
    for (i, c) in conditions.iter().enumerate() {
        pb.push_str(&format!(
            "    - name: C{i}\n      arista.eos.eos_command:\n        commands: {}\n        wait_for: {}\n        retries: 0\n      ignore_errors: true\n",
            serde_json::to_string(&commands).unwrap(),
            serde_json::to_string(c).unwrap()
        ));
    }
    let pb = write(dir, "conditions.yml", &pb);
    let doc = run_ok(&sim, &pb, &[]);
    for (i, c) in conditions.iter().enumerate() {
        let r = result(&doc, &format!("C{i}"), "eos-001");
        let netorch = r["status"] == "ok";
        assert_eq!(
            netorch, oracle[i],
            "`{c}`: netorch {r}, Ansible {}",
            oracle[i]
        );
    }
}
