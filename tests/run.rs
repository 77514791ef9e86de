//! `netorch run` end to end against netorch-sim: results per host, check mode, diff,
//! limit and tags, task keywords, handlers, failures mid-run, serial batches, JSON, JUnit and
//! secrets that must never appear in any output.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::util::report::{json_of, results};
use crate::util::{netorch, sim::Sim};

const PASSWORD: &str = "Sim-Passw0rd-7731";
const ENABLE: &str = "Sim-En4ble-9920";

fn start(count: &str, platform: &str, extra: &[&str]) -> Sim {
    let count = count.parse().unwrap();
    Sim::with(platform, count)
        .password(PASSWORD)
        .enable_secret(ENABLE)
        .args(extra)
        .start()
}

use crate::util::write;

fn run(sim: &Sim, playbook: &Path, args: &[&str]) -> Output {
    crate::util::run_playbook(sim, playbook, args)
}

fn status_of<'a>(doc: &'a Value, task: &str, host: &str) -> &'a str {
    results(doc, task)
        .into_iter()
        .find(|r| r["host"] == host)
        .and_then(|r| r["status"].as_str())
        .unwrap_or("missing")
}

const BASELINE: &str = r#"
- name: Baseline
  hosts: all
  tasks:
    - name: Version
      command: show version
      register: ver
    - name: NTP
      config:
        lines:
          - ntp server 10.9.9.1
          - ntp server 10.9.9.2
        save: when_changed
      notify: saved
    - name: Readback
      command: show running-config | include ntp server
      register: ntp
    - name: Check
      assert:
        that:
          - "'ntp server 10.9.9.1' in ntp.stdout"
          - "'IOS' in ver.stdout"
  handlers:
    - name: saved
      debug:
        msg: "handler ran on {{ inventory_hostname }}"
"#;

#[test]
fn fifty_devices_every_result_right_and_idempotent() {
    let sim = start("50", "cisco_ios", &[]);
    let pb = write(sim.dir.path(), "site.yml", BASELINE);
    let out = run(&sim, &pb, &["--json", "-f", "25"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_of(&out);
    assert_eq!(doc["stats"].as_object().unwrap().len(), 50);
    // The report says which build wrote it (`netorch --version`).
    assert_eq!(doc["netorch_version"], env!("CARGO_PKG_VERSION"));
    assert!(doc["netorch_commit"]
        .as_str()
        .is_some_and(|c| c.len() == 12 || c == "unknown"));
    for h in &sim.hosts {
        assert_eq!(status_of(&doc, "Version", &h.name), "ok", "{}", h.name);
        assert_eq!(status_of(&doc, "NTP", &h.name), "changed", "{}", h.name);
        assert_eq!(status_of(&doc, "Check", &h.name), "ok", "{}", h.name);
        assert_eq!(
            status_of(&doc, "saved", &h.name),
            "ok",
            "handler on {}",
            h.name
        );
        let stats = &doc["stats"][&h.name];
        assert_eq!(stats["changed"], 1);
        assert_eq!(stats["failed"], 0);
    }
    // The same run again changes nothing and notifies no handler.
    let out = run(&sim, &pb, &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json_of(&out);
    for h in &sim.hosts {
        assert_eq!(status_of(&doc, "NTP", &h.name), "ok");
        assert_eq!(status_of(&doc, "saved", &h.name), "missing");
    }
}

#[test]
fn check_mode_changes_nothing_but_reports_pending_lines_and_diff() {
    let sim = start("3", "arista_eos", &[]);
    let pb = write(
        sim.dir.path(),
        "p.yml",
        r#"
- name: Check mode
  hosts: all
  tasks:
    - name: Descriptions
      config:
        lines: [description to-core]
        parents: [interface Ethernet1]
    - name: Readback
      command: show running-config
"#,
    );
    let out = run(&sim, &pb, &["--check", "--diff", "--json"]);
    let doc = json_of(&out);
    assert_eq!(doc["check_mode"], true);
    for r in results(&doc, "Descriptions") {
        assert_eq!(r["status"], "changed");
        assert_eq!(
            r["data"]["pending"],
            serde_json::json!(["interface Ethernet1", " description to-core"])
        );
        assert!(r["diff"]
            .as_str()
            .unwrap()
            .contains("+   description to-core"));
    }
    for r in results(&doc, "Readback") {
        let out = r["commands"][0]["output"].as_str().unwrap();
        assert!(
            !out.contains("description to-core"),
            "check mode changed the device"
        );
    }
    // And the text output shows the pending lines and the diff.
    let out = run(&sim, &pb, &["--check", "--diff"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("would send:"), "{text}");
    assert!(text.contains("+   description to-core"), "{text}");
}

#[test]
fn limit_tags_loop_until_when_register() {
    let sim = start("4", "cisco_ios", &[]);
    let first = sim.hosts[0].name.clone();
    let pb = write(
        sim.dir.path(),
        "p.yml",
        r#"
- name: Keywords
  hosts: all
  vars:
    vlans: [110, 120]
  tasks:
    - name: Tagged
      command: show clock
      tags: [clock]
    - name: Untagged
      command: show version
      register: ver
    - name: VLANs in a loop
      config:
        lines: ["vlan {{ item }}"]
      loop: "{{ vlans }}"
      tags: [clock]
    - name: Only IOS
      debug:
        msg: "ios {{ inventory_hostname }}"
      when: "'IOS' in ver.stdout"
      tags: [clock]
    - name: Never true
      debug:
        msg: never
      when: "'Junos' in ver.stdout"
      tags: [clock]
    - name: Until
      command: show version
      register: again
      until: "'IOS' in again.stdout"
      retries: 2
      delay: 0
      tags: [clock]
"#,
    );
    let out = run(&sim, &pb, &["--json", "--limit", &first]);
    let doc = json_of(&out);
    assert_eq!(doc["stats"].as_object().unwrap().len(), 1, "--limit");
    assert_eq!(status_of(&doc, "VLANs in a loop", &first), "changed");
    let loop_r = results(&doc, "VLANs in a loop")[0];
    assert_eq!(loop_r["items"].as_array().unwrap().len(), 2);
    assert_eq!(status_of(&doc, "Only IOS", &first), "ok");
    assert_eq!(status_of(&doc, "Never true", &first), "skipped");
    assert_eq!(status_of(&doc, "Until", &first), "ok");

    // --tags clock: the untagged task does not run, so `ver` is undefined for `when`.
    let out = run(&sim, &pb, &["--json", "--tags", "clock"]);
    let doc = json_of(&out);
    assert!(results(&doc, "Untagged").is_empty());
    assert_eq!(results(&doc, "Tagged").len(), 4);
    let when = results(&doc, "Only IOS");
    assert!(when.iter().all(|r| r["status"] == "failed"), "{when:?}");
    assert!(when[0]["msg"].as_str().unwrap().contains("`ver`"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dropped_and_hung_devices_fail_alone() {
    let sim = start(
        "4",
        "cisco_ios",
        &[
            "--fail",
            "ios-002=drop-after:6",
            "--fail",
            "ios-003=hang-after:6",
        ],
    );
    let pb = write(
        sim.dir.path(),
        "p.yml",
        r#"
- name: Faults
  hosts: all
  timeout: 3s
  tasks:
    - { name: one, command: show clock }
    - { name: two, command: show clock }
    - { name: three, command: show clock }
    - { name: four, command: show clock }
    - { name: five, command: show version }
"#,
    );
    let out = run(&sim, &pb, &["--json"]);
    let doc = json_of(&out);
    for healthy in ["ios-001", "ios-004"] {
        assert_eq!(status_of(&doc, "five", healthy), "ok", "{healthy}");
    }
    let stats = &doc["stats"];
    // The session dropped mid-run: the host is lost for the run, not failed by a task.
    let dropped = &stats["ios-002"];
    assert_eq!(dropped["unreachable"], 1, "{dropped}");
    assert_eq!(dropped["failed"], 0, "{dropped}");
    let hung = &stats["ios-003"];
    assert_eq!(hung["failed"], 1, "{hung}");
    let reasons: Vec<String> = doc["plays"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["hosts"].as_array().unwrap())
        .filter(|r| r["host"] == "ios-003" && r["status"] == "failed")
        .map(|r| r["msg"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(reasons[0].contains("no prompt within"), "{reasons:?}");
    // An unreachable host outranks a failed one in the exit code.
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn serial_batches_stop_at_max_fail_percentage() {
    let sim = start("6", "cisco_ios", &["--fail", "ios-001=auth-fail"]);
    let pb = write(
        sim.dir.path(),
        "p.yml",
        r#"
- name: Rolling
  hosts: all
  serial: 2
  max_fail_percentage: 40
  tasks:
    - name: Version
      command: show version
"#,
    );
    let out = run(&sim, &pb, &["--json"]);
    let doc = json_of(&out);
    // The first batch (ios-001, ios-002) has 50% failed > 40%: no other batch starts.
    assert_eq!(status_of(&doc, "Version", "ios-001"), "unreachable");
    assert_eq!(status_of(&doc, "Version", "ios-002"), "ok");
    for h in ["ios-003", "ios-004", "ios-005", "ios-006"] {
        assert_eq!(status_of(&doc, "Version", h), "missing", "{h} ran");
    }
    assert!(doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("not started")));
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn junit_and_secrets_never_shown() {
    let sim = start("3", "cisco_ios", &[]);
    let pb = write(
        sim.dir.path(),
        "p.yml",
        r#"
- name: Secrets
  hosts: all
  tasks:
    - name: Echo a secret back
      command: "show {{ password }}"
      ignore_errors: true
    - name: Debug it
      debug:
        var: enable_secret
    - name: Hidden
      debug:
        msg: "{{ password }}"
      no_log: true
    - name: Fails
      fail:
        msg: "bad {{ enable_secret }}"
"#,
    );
    let junit = sim.dir.path().join("junit.xml");
    let json = run(&sim, &pb, &["--json"]);
    let text = run(
        &sim,
        &pb,
        &["-vv", "--diff", "--junit", junit.to_str().unwrap()],
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    for (what, s) in [
        ("json", String::from_utf8_lossy(&json.stdout).into_owned()),
        (
            "json stderr",
            String::from_utf8_lossy(&json.stderr).into_owned(),
        ),
        ("text", String::from_utf8_lossy(&text.stdout).into_owned()),
        (
            "text stderr",
            String::from_utf8_lossy(&text.stderr).into_owned(),
        ),
        ("junit", xml.clone()),
    ] {
        assert!(!s.contains(PASSWORD), "password in {what}:\n{s}");
        assert!(!s.contains(ENABLE), "enable secret in {what}:\n{s}");
    }
    let doc = json_of(&json);
    // The secret-bearing command was rendered with the password and sent on every host
    // (the device rejects it): what is shown is its masked form.
    let echoed = results(&doc, "Echo a secret back");
    assert_eq!(echoed.len(), 3, "{doc:#}");
    for r in &echoed {
        assert_eq!(r["commands"][0]["command"], "show ********", "{r:#}");
        assert!(r["commands"][0]["output"]
            .as_str()
            .unwrap()
            .contains("Invalid input"));
    }
    for r in results(&doc, "Debug it") {
        assert_eq!(r["data"]["debug"]["enable_secret"], "********", "{r:#}");
    }
    let text_out = String::from_utf8_lossy(&text.stdout);
    assert!(text_out.contains("$ show ********"), "{text_out}");
    let hidden = results(&doc, "Hidden");
    assert!(hidden[0]["msg"].as_str().unwrap().contains("no_log"));
    assert_eq!(json.status.code(), Some(2));
    // JUnit: one testcase per host and task, the failures counted.
    let parsed = roxmltree::Document::parse(&xml).unwrap();
    let cases = parsed
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, 12);
    let failures = parsed
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    assert_eq!(failures, 3);
}

#[test]
fn rerun_failed_runs_only_the_failed_hosts() {
    let sim = start("3", "cisco_ios", &["--fail", "ios-002=auth-fail"]);
    let pb = write(
        sim.dir.path(),
        "p.yml",
        "- hosts: all\n  tasks:\n    - name: v\n      command: show version\n",
    );
    let out = run(&sim, &pb, &["--json"]);
    assert_eq!(out.status.code(), Some(3));
    let recorded = std::fs::read_to_string(sim.dir.path().join(".netorch/last-failed")).unwrap();
    assert_eq!(recorded.trim(), "ios-002");
    let out = run(&sim, &pb, &["--json", "--rerun-failed"]);
    let doc = json_of(&out);
    let hosts: Vec<&String> = doc["stats"].as_object().unwrap().keys().collect();
    assert_eq!(hosts, vec!["ios-002"]);
}

#[test]
fn junos_set_lines_are_matched_against_display_set() {
    let sim = start("1", "juniper_junos", &[]);
    let pb = write(
        sim.dir.path(),
        "p.yml",
        r#"
- name: Junos
  hosts: all
  tasks:
    - name: NTP
      config:
        lines:
          - set system ntp server 192.0.2.123
          - set system ntp server 10.7.7.7
"#,
    );
    let out = run(&sim, &pb, &["--check", "--json"]);
    let doc = json_of(&out);
    let r = results(&doc, "NTP")[0];
    // The first server is already configured: only the second is pending.
    assert_eq!(
        r["data"]["pending"],
        serde_json::json!(["set system ntp server 10.7.7.7"])
    );
    let out = run(&sim, &pb, &["--json"]);
    assert_eq!(status_of(&json_of(&out), "NTP", "junos-001"), "changed");
    let out = run(&sim, &pb, &["--json"]);
    let doc = json_of(&out);
    assert_eq!(status_of(&doc, "NTP", "junos-001"), "ok");
    assert!(
        results(&doc, "NTP")[0]["data"].is_null(),
        "nothing sent the second time"
    );
}

#[test]
fn host_timeout_abandons_a_hung_device_and_frees_its_worker() {
    let sim = start("3", "cisco_ios", &["--fail", "ios-002=hang-after:5"]);
    let pb = write(
        sim.dir.path(),
        "p.yml",
        r#"
- name: Deadline
  hosts: all
  host_timeout: 2s
  tasks:
    - { name: one, command: show clock }
    - { name: two, command: show clock }
    - { name: three, command: show version }
"#,
    );
    let started = std::time::Instant::now();
    // forks 1: the hung host's worker must be freed for the others to run at all.
    let out = run(&sim, &pb, &["--json", "-f", "1"]);
    let elapsed = started.elapsed();
    let doc = json_of(&out);
    assert_eq!(status_of(&doc, "three", "ios-001"), "ok");
    assert_eq!(status_of(&doc, "three", "ios-003"), "ok");
    let msgs: Vec<String> = results(&doc, "one")
        .into_iter()
        .chain(results(&doc, "two"))
        .chain(results(&doc, "three"))
        .filter(|r| r["host"] == "ios-002" && r["status"] == "failed")
        .map(|r| r["msg"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(msgs[0].contains("host_timeout"), "{msgs:?}");
    // The default command timeout is 30 s; the deadline cut it at 2 s.
    assert!(elapsed < std::time::Duration::from_secs(20), "{elapsed:?}");
    assert_eq!(out.status.code(), Some(2));
}

/// Without `--diff` a push whose lines were all accepted is `changed` with no second read
/// of the config; `--diff` reads it again and reports what the device really holds. A
/// parent the device stores in another form (`interface gi1/0/1` shown as
/// `interface GigabitEthernet1/0/1`) is where the two differ. The save is one `write
/// memory` on IOS.
#[test]
fn config_changed_without_rereading_and_verified_with_diff() {
    let sim = start("2", "cisco_ios", &[]);
    let pb = write(
        sim.dir.path(),
        "p.yml",
        r#"
- name: Push
  hosts: all
  tasks:
    - name: Desc
      config:
        lines: ["description {{ desc | default('via-abbrev') }}"]
        parents: [interface gi1/0/1]
        save: true
    - name: Startup
      command: show startup-config
"#,
    );
    let out = run(&sim, &pb, &["--json"]);
    let doc = json_of(&out);
    for h in &sim.hosts {
        assert_eq!(status_of(&doc, "Desc", &h.name), "changed", "{}", h.name);
    }
    for r in results(&doc, "Desc") {
        assert!(r["diff"].is_null(), "no diff without --diff: {r}");
        let cmds = r["commands"].as_array().unwrap();
        let save = cmds.last().unwrap();
        assert_eq!(save["command"], "write memory", "{r}");
        assert!(save["output"].as_str().unwrap().contains("[OK]"), "{r}");
    }
    for r in results(&doc, "Startup") {
        let text = r["commands"][0]["output"].as_str().unwrap();
        assert!(
            text.contains("interface GigabitEthernet1/0/1\n description via-abbrev"),
            "saved: {text}"
        );
    }
    // The parent never reads back as written, so the line is sent again; accepted, it
    // counts as changed when nothing is re-read...
    let out = run(&sim, &pb, &["--json"]);
    let doc = json_of(&out);
    for h in &sim.hosts {
        assert_eq!(status_of(&doc, "Desc", &h.name), "changed", "{}", h.name);
    }
    // ...while --diff compares the config before and after: nothing changed.
    let out = run(&sim, &pb, &["--json", "--diff"]);
    let doc = json_of(&out);
    for r in results(&doc, "Desc") {
        assert_eq!(r["status"], "ok", "{r}");
        assert!(r["diff"].is_null(), "{r}");
    }
    let out = run(&sim, &pb, &["--json", "--diff", "-e", "desc=via-abbrev-2"]);
    let doc = json_of(&out);
    for r in results(&doc, "Desc") {
        assert_eq!(r["status"], "changed", "{r}");
        let diff = r["diff"].as_str().unwrap();
        assert!(diff.contains("+ description via-abbrev-2"), "{diff}");
        assert!(diff.contains("- description via-abbrev"), "{diff}");
    }
}

/// Established TCP connections from this machine to 127.0.0.1:`port` (the client side).
fn established_to(port: u16) -> usize {
    let text = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let remote = format!("0100007F:{port:04X}");
    text.lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[2] == remote && f[3] == "01"
        })
        .count()
}

/// A host's session closes once nothing more in the run needs it: while a later play
/// works on one host, the others' sessions are already gone, and the one still needed is
/// reused.
#[test]
fn sessions_close_when_the_host_has_nothing_more_to_do() {
    if !Path::new("/proc/net/tcp").exists() {
        return;
    }
    let sim = start("3", "cisco_ios", &[]);
    let pb = write(
        sim.dir.path(),
        "p.yml",
        r#"
- name: All
  hosts: all
  tasks:
    - name: Clock
      command: show clock
      changed_when: true
      notify: again
  handlers:
    - name: again
      command: show clock
- name: One
  hosts: ios-001
  tasks:
    - name: Slow
      command: show clock
      loop: [1, 2, 3, 4]
      loop_control:
        pause: 500ms
"#,
    );
    let port = |name: &str| -> u16 {
        sim.vars(name)["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .unwrap()
    };
    let ports: Vec<u16> = ["ios-001", "ios-002", "ios-003"]
        .iter()
        .map(|h| port(h))
        .collect();
    let mut child = netorch()
        .current_dir(sim.dir.path())
        .arg("run")
        .arg("-i")
        .arg(&sim.inventory)
        .arg(&pb)
        .arg("--json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut seen_only_first = false;
    while child.try_wait().unwrap().is_none() {
        let open: Vec<usize> = ports.iter().map(|p| established_to(*p)).collect();
        if open == [1, 0, 0] {
            seen_only_first = true;
        }
        assert!(started.elapsed().as_secs() < 60, "run did not end");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let doc = json_of(&out);
    for h in ["ios-001", "ios-002", "ios-003"] {
        assert_eq!(status_of(&doc, "Clock", h), "changed", "{h}");
        assert_eq!(status_of(&doc, "again", h), "ok", "handler on {h}");
    }
    assert_eq!(status_of(&doc, "Slow", "ios-001"), "ok");
    assert!(
        seen_only_first,
        "while play 2 ran on ios-001, the other hosts' sessions should be closed"
    );
}

/// A loop's items each show their label with their pending lines (`--check --diff`) or
/// their diff (`--diff`); the loop's own line carries neither.
#[test]
fn loop_items_show_their_label_pending_lines_and_diff() {
    let sim = start("1", "cisco_ios", &[]);
    let pb = write(
        sim.dir.path(),
        "p.yml",
        r#"
- hosts: all
  tasks:
    - name: NTP loop
      config:
        lines:
          - "ntp server {{ item }}"
      loop: [10.9.9.1, 10.9.9.2]
"#,
    );
    let out = run(&sim, &pb, &["--check", "--diff"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for ip in ["10.9.9.1", "10.9.9.2"] {
        assert!(
            text.contains(&format!(
                "item {ip}: changed\n        would send:\n          ntp server {ip}\n"
            )),
            "{text}"
        );
        assert!(text.contains(&format!("+ntp server {ip}")), "{text}");
    }
    let out = run(&sim, &pb, &["--diff"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for ip in ["10.9.9.1", "10.9.9.2"] {
        let at = text
            .find(&format!("item {ip}: changed\n"))
            .unwrap_or_else(|| panic!("no item {ip}: {text}"));
        assert!(
            text[at..].contains(&format!("        +ntp server {ip}\n")),
            "{text}"
        );
    }
    assert!(!text.contains("would send"), "{text}");
}
