//! `parse:` on commands against the simulator, with the real ntc-templates library (the
//! pinned one scripts/pyenv installs), and `netorch parse` on saved output.

use std::path::Path;

use serde_json::Value;

use crate::util::report::{json_of, results};
use crate::util::sim::Sim;
use crate::util::{netorch, ntc_templates, write};

fn run_json(sim: &Sim, playbook: &Path) -> (Option<i32>, Value) {
    let out = crate::util::run_playbook(sim, playbook, &["--json"]);
    (out.status.code(), json_of(&out))
}

fn play(tasks: &str) -> String {
    format!(
        "- name: Parsed\n  hosts: all\n  vars:\n    textfsm_dir: '{}'\n  tasks:\n{tasks}",
        ntc_templates().display()
    )
}

#[test]
fn a_playbook_decides_on_parsed_interfaces() {
    for platform in ["cisco_ios", "arista_eos"] {
        let sim = Sim::with(platform, 2).start();
        let pb = write(
            sim.dir.path(),
            "pb.yml",
            &play(
                r#"    - name: Interfaces
      command:
        commands: sh interfaces
        parse: textfsm
      register: intf
    - name: Loopback0 is up
      assert:
        that:
          - "(intf.parsed | selectattr('interface', 'equalto', 'Loopback0') | first).link_status == 'up'"
          - "intf.parsed | length > 3"
    - name: Up interfaces
      set_fact:
        up: "{{ intf.parsed | selectattr('link_status', 'equalto', 'up') | map(attribute='interface') | list }}"
    - name: Each interface that is not up
      debug:
        msg: "{{ item.interface }} is {{ item.link_status }}"
      loop: "{{ intf.parsed | rejectattr('link_status', 'equalto', 'up') | list }}"
"#,
            ),
        );
        let (code, doc) = run_json(&sim, &pb);
        assert_eq!(code, Some(0), "{platform}: {doc:#}");
        let r = &results(&doc, "Interfaces")[0];
        let parsed = r["commands"][0]["parsed"].as_array().unwrap();
        let output = r["commands"][0]["output"].as_str().unwrap();
        // One record per interface line of the device's table.
        let lines = output
            .lines()
            .filter(|l| {
                l.starts_with(|c: char| c.is_ascii_uppercase()) && !l.starts_with("Interface")
            })
            .count();
        assert_eq!(parsed.len(), lines, "{platform}: {output}\n{parsed:#?}");
        let down = parsed.iter().filter(|p| p["link_status"] != "up").count();
        assert!(down > 0, "{platform}: the sim has shut interfaces");
        let fact = &results(&doc, "Up interfaces")[0];
        let up = fact["data"]["facts"]["up"].as_array();
        assert!(
            up.is_some_and(
                |u| u.len() == parsed.len() - down && u.contains(&Value::from("Loopback0"))
            ),
            "{platform}: {fact:#}"
        );
        let looped = &results(&doc, "Each interface that is not up")[0];
        assert_eq!(
            looped["items"].as_array().map(Vec::len),
            Some(down),
            "{looped:#}"
        );
    }
}

#[test]
fn a_parse_that_reads_nothing_fails_the_task_unless_ignored() {
    let sim = Sim::with("cisco_ios", 1).start();
    write(
        sim.dir.path(),
        "parsers/needs_bgp.textfsm",
        "Value Required NEIGHBOR (\\d+\\.\\d+\\.\\d+\\.\\d+)\n\nStart\n  ^BGP neighbor is ${NEIGHBOR} -> Record\n",
    );
    let pb = write(
        sim.dir.path(),
        "pb.yml",
        &play(
            r#"    - name: Strict
      command:
        commands: show version
        parse: {textfsm: needs_bgp.textfsm}
      ignore_errors: true
    - name: Lenient
      command:
        commands: show version
        parse: {textfsm: needs_bgp.textfsm}
        parse_errors: ignore
      register: lenient
    - name: Lenient gave an empty list
      assert:
        that: "lenient.parsed == []"
"#,
        ),
    );
    let (code, doc) = run_json(&sim, &pb);
    assert_eq!(code, Some(0), "{doc:#}");
    let strict = &results(&doc, "Strict")[0];
    assert_eq!(strict["status"], "failed", "{strict:#}");
    let msg = strict["msg"].as_str().unwrap();
    assert!(
        msg.contains("needs_bgp.textfsm")
            && msg.contains("requires NEIGHBOR")
            && msg.contains("show version"),
        "{msg}"
    );
    assert_eq!(results(&doc, "Lenient")[0]["status"], "ok");
}

#[test]
fn the_playbooks_parsers_folder_comes_before_the_library() {
    let sim = Sim::with("cisco_ios", 1).start();
    write(
        sim.dir.path(),
        "parsers/index",
        "Template, Hostname, Platform, Command\n\nmy_version.textfsm, .*, cisco_ios, sh[[ow]] ver[[sion]]\n",
    );
    write(
        sim.dir.path(),
        "parsers/my_version.textfsm",
        "Value Required SERIAL (\\S+)\n\nStart\n  ^Processor board ID ${SERIAL} -> Record\n",
    );
    let pb = write(
        sim.dir.path(),
        "pb.yml",
        &play(
            r#"    - name: Version
      command:
        commands: [show version, show ip interface brief]
        parse: textfsm
      register: v
    - name: Mine for show version, the library's for the rest
      assert:
        that:
          - "v.parsed[0] | length == 1"
          - "v.parsed[0][0].serial == 'FOC2210X000' and v.parsed[0][0].version is not defined"
          - "v.parsed[1][0].interface is defined"
"#,
        ),
    );
    let (code, doc) = run_json(&sim, &pb);
    assert_eq!(code, Some(0), "{doc:#}");
}

#[test]
fn regex_and_unknown_commands() {
    let sim = Sim::with("cisco_ios", 1).start();
    let pb = write(
        sim.dir.path(),
        "pb.yml",
        &play(
            r#"    - name: Version by regex
      command:
        commands: show version
        parse: {regex: 'Cisco IOS XE Software, Version (?P<version>\S+)'}
      register: v
    - name: It matched
      assert:
        that: "v.parsed[0].version == '17.03.04a'"
    - name: No template
      command:
        commands: show privilege
        parse: textfsm
"#,
        ),
    );
    let (code, doc) = run_json(&sim, &pb);
    assert_eq!(code, Some(2), "{doc:#}");
    assert_eq!(results(&doc, "It matched")[0]["status"], "ok", "{doc:#}");
    let msg = results(&doc, "No template")[0]["msg"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("no TextFSM template for `show privilege` on platform cisco_ios"),
        "{msg}"
    );
}

#[test]
fn playbook_mistakes_are_found_before_any_device_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let inv = write(
        dir.path(),
        "hosts.yml",
        "all:\n  hosts:\n    r1:\n      platform: cisco_ios\n",
    );
    write(
        dir.path(),
        "parsers/broken.textfsm",
        "Value X (\\d+)\n\nStart\n  ^x ${X} -> Recrod\n",
    );
    for (task, want) in [
        (
            "command: {commands: show version, parse: texfsm}",
            "unknown parser `texfsm`",
        ),
        (
            "command: {commands: show version, parse: {regex: '(?P<x>[a-'}}",
            "regex `(?P<x>[a-`",
        ),
        (
            "command: {commands: show version, parse: {regex: 'no groups'}}",
            "named groups",
        ),
        (
            "command: {commands: show version, parse_errors: ignore}",
            "parse_errors without parse",
        ),
        (
            "command: {commands: show version, parse: textfsm, parse_errors: sometimes}",
            "expected `fail` (the default) or `ignore`",
        ),
        (
            "command: show version\n      parse: textfsm",
            "belongs to the command",
        ),
        (
            "command: {commands: show version, parse: {textfsm: nowhere.textfsm}}",
            "TextFSM template `nowhere.textfsm` not found",
        ),
        (
            "command: {commands: show version, parse: {textfsm: broken.textfsm}}",
            "broken.textfsm: line 4: state 'Recrod' not found",
        ),
    ] {
        let pb = write(
            dir.path(),
            "pb.yml",
            &format!("- hosts: all\n  tasks:\n    - {task}\n"),
        );
        let out = netorch()
            .current_dir(dir.path())
            .args(["check", "-i"])
            .arg(&inv)
            .arg(&pb)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{task}: {err}");
        assert!(
            err.contains(want) && err.contains("pb.yml:"),
            "{task}: {err}"
        );
    }
    // `parse: textfsm` with a library that is not there: refused by check, not by every
    // host at run time.
    let pb = write(
        dir.path(),
        "pb.yml",
        "- hosts: all\n  vars: {textfsm_dir: /nonexistent/templates}\n  tasks:\n    - command: {commands: show version, parse: textfsm}\n",
    );
    let out = netorch()
        .current_dir(dir.path())
        .args(["check", "-i"])
        .arg(&inv)
        .arg(&pb)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("parse: textfsm: TextFSM index /nonexistent/templates/index: not found"),
        "{err}"
    );
}

#[test]
fn exec_parse_prints_a_table_and_json_records() {
    let sim = Sim::with("cisco_ios", 2).start();
    let dir = ntc_templates();
    // As the README writes it: the command right after --parse.
    let out = sim
        .netorch("exec")
        .env("NETORCH_TEXTFSM", &dir)
        .args(["--parse", "show ip interface brief"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{out:?}");
    assert!(
        text.contains("INTERFACE") && text.contains("IP_ADDRESS"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("Loopback0") && l.contains(" up")),
        "{text}"
    );
    // The device's own table is not repeated under the records.
    assert!(!text.contains("OK? Method"), "{text}");
    let eos = Sim::with("arista_eos", 1).start();
    let out = eos
        .netorch("exec")
        .args(["--parser", "json", "--json", "show version"])
        .output()
        .unwrap();
    let doc = json_of(&out);
    let r = &results(&doc, "show version")[0];
    assert_eq!(r["commands"][0]["command"], "show version | json", "{r:#}");
    assert!(r["commands"][0]["parsed"]["version"].is_string(), "{r:#}");
    let out = sim
        .netorch("exec")
        .args(["--parse", "--json", "--textfsm-dir"])
        .arg(&dir)
        .arg("show ip interface brief")
        .output()
        .unwrap();
    let doc = json_of(&out);
    for r in results(&doc, "show ip interface brief") {
        let parsed = r["commands"][0]["parsed"].as_array().unwrap();
        assert!(
            parsed.iter().any(|p| p["interface"] == "Loopback0"),
            "{r:#}"
        );
    }
}

#[test]
fn netorch_parse_reads_saved_output_offline() {
    let dir = tempfile::tempdir().unwrap();
    let lib = ntc_templates();
    let saved = write(
        dir.path(),
        "xr.txt",
        "Mon Dec  1 10:00:00.000 UTC\n\nInterface                      IP-Address      Status          Protocol Vrf-Name\nLoopback0                      10.0.0.1        Up              Up       default \nGigabitEthernet0/0/0/0         192.0.2.1       Up              Up       default \nGigabitEthernet0/0/0/1         unassigned      Shutdown        Down     default \n",
    );
    // netorch's platform name maps to ntc-templates' (cisco_iosxr -> cisco_xr); the
    // command may be abbreviated as the index allows; the folder is not the repository.
    let out = netorch()
        .current_dir(dir.path())
        .args([
            "parse",
            "--platform",
            "cisco_iosxr",
            "--command",
            "sh ipv4 int br",
            "--json",
            "--textfsm-dir",
        ])
        .arg(&lib)
        .arg("xr.txt")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["interface"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Loopback0",
            "GigabitEthernet0/0/0/0",
            "GigabitEthernet0/0/0/1"
        ]
    );
    assert!(saved.exists());

    // A broken template: the file, the line and what was expected; exit 4.
    write(
        dir.path(),
        "bad.textfsm",
        "Value X (\\d+)\n\nStart\n  ^x ${X} -> Recrod Start\n",
    );
    let out = netorch()
        .current_dir(dir.path())
        .args(["parse", "--template", "bad.textfsm", "xr.txt"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("bad.textfsm") && err.contains("line 4") && err.contains("badly formatted"),
        "{err}"
    );

    // No template for the command: exit 2, the platform and command named.
    let out = netorch()
        .current_dir(dir.path())
        .args([
            "parse",
            "--platform",
            "cisco_ios",
            "--command",
            "show nothing here",
            "--textfsm-dir",
        ])
        .arg(&lib)
        .arg("-")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`show nothing here` on platform cisco_ios"),
        "{err}"
    );

    // Neither a template nor platform and command: a usage error.
    let out = netorch()
        .args(["parse", "xr.txt"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
}

#[test]
fn hostile_output_is_parsed_as_text_and_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // Control characters and an escape sequence in an interface description.
    write(
        dir.path(),
        "t.textfsm",
        "Value NAME (\\S+)\nValue DESC (.*)\n\nStart\n  ^${NAME}\\s+${DESC} -> Record\n",
    );
    let mut big = String::from("Gi1 \x1b]52;c;ZXZpbA==\x07 pwned\r\n");
    for i in 0..20000 {
        big.push_str(&format!("Gi{i} {}\n", "x".repeat(80)));
    }
    write(dir.path(), "out.txt", &big);
    let out = netorch()
        .current_dir(dir.path())
        .args(["parse", "--template", "t.textfsm", "out.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains('\x1b') && !text.contains('\x07'),
        "raw control characters"
    );
    assert!(text.contains("\\x1b]52"), "{}", &text[..200]);
    assert_eq!(text.lines().count(), 20002);
}

#[test]
fn parse_json_asks_each_platform_for_json_its_own_way() {
    for (platform, key, sent) in [
        ("arista_eos", "version", "show version | json"),
        ("cisco_nxos", "nxos_ver_str", "show version | json"),
        (
            "juniper_junos",
            "software-information",
            "show version | display json",
        ),
    ] {
        let sim = Sim::with(platform, 1).start();
        let pb = write(
            sim.dir.path(),
            "pb.yml",
            &format!(
                "- hosts: all\n  tasks:\n    - name: Version\n      command:\n        commands: show version\n        parse: json\n      register: v\n    - name: Field\n      assert:\n        that: \"v.parsed['{key}'] is defined\"\n"
            ),
        );
        let (code, doc) = run_json(&sim, &pb);
        assert_eq!(code, Some(0), "{platform}: {doc:#}");
        let r = &results(&doc, "Version")[0];
        assert_eq!(r["commands"][0]["command"], sent, "{platform}");
    }
    // A platform without JSON output: the error says what to use instead.
    let sim = Sim::with("cisco_ios", 1).start();
    let pb = write(
        sim.dir.path(),
        "pb.yml",
        "- hosts: all\n  tasks:\n    - name: Version\n      command: {commands: show version, parse: json}\n",
    );
    let (code, doc) = run_json(&sim, &pb);
    assert_eq!(code, Some(2));
    let msg = results(&doc, "Version")[0]["msg"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("not JSON") && msg.contains("use parse: textfsm"),
        "{msg}"
    );
}
