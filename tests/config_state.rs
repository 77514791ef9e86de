//! The config model against the simulator: previews equal the real change, `mode:
//! replace` converges a scope and removes what is not intended, rollback brings back the
//! config a run changed.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::util::report::{json_of, results};
use crate::util::sim::Sim;

fn start(platform: &str) -> Sim {
    Sim::with(platform, 2).start()
}

use crate::util::write;

fn run(sim: &Sim, playbook: &Path, args: &[&str]) -> Output {
    crate::util::run_playbook(sim, playbook, args)
}

/// The changed lines of a unified diff (headers dropped), in order.
fn body(diff: &str) -> Vec<String> {
    diff.lines()
        .filter(|l| !l.starts_with("---") && !l.starts_with("+++"))
        .map(str::to_string)
        .collect()
}

/// Each host's diff, by host.
fn diffs(doc: &Value, task: &str) -> std::collections::BTreeMap<String, String> {
    results(doc, task)
        .iter()
        .map(|r| {
            (
                r["host"].as_str().unwrap_or_default().to_string(),
                r["diff"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn show_run(sim: &Sim, host: &str, command: &str) -> String {
    let out = sim
        .netorch("exec")
        .args(["--limit", host, "--json", command])
        .output()
        .unwrap();
    let doc = json_of(&out);
    let r = &results(&doc, command)[0];
    r["commands"][0]["output"].as_str().unwrap().to_string()
}

/// `--check --diff` predicts the running config the change leads to, line for line: the
/// same diff as the real change shows afterwards.
fn preview_is_the_real_change(platform: &str, tasks: &str) {
    let sim = start(platform);
    let pb = write(
        sim.dir.path(),
        "p.yml",
        &format!("- name: Change\n  hosts: all\n  tasks:\n{tasks}"),
    );
    let check = run(&sim, &pb, &["--check", "--diff", "--json"]);
    assert_eq!(check.status.code(), Some(0), "{check:?}");
    let predicted = diffs(&json_of(&check), "Change it");
    assert_eq!(predicted.len(), 2);
    assert!(predicted.values().all(|d| !d.is_empty()), "{predicted:?}");
    let real = run(&sim, &pb, &["--diff", "--json"]);
    assert_eq!(real.status.code(), Some(0), "{real:?}");
    let actual = diffs(&json_of(&real), "Change it");
    assert_eq!(predicted.len(), actual.len());
    for (host, p) in &predicted {
        let a = &actual[host];
        assert_eq!(body(p), body(a), "{platform}: predicted\n{p}\nreal\n{a}");
    }
}

#[test]
fn ios_preview_puts_new_lines_in_their_place() {
    preview_is_the_real_change(
        "cisco_ios",
        r#"    - name: Change it
      config:
        lines:
          - interface GigabitEthernet0/2
          - " description to-core"
          - interface Loopback42
          - " ip address 10.42.0.1 255.255.255.255"
          - ntp server 10.9.9.9
          - hostname preview-{{ inventory_hostname }}
"#,
    );
}

#[test]
fn eos_preview_puts_new_lines_in_their_place() {
    preview_is_the_real_change(
        "arista_eos",
        r#"    - name: Change it
      config:
        lines: [description to-core, mtu 9000]
        parents: [interface Ethernet2]
"#,
    );
}

#[test]
fn junos_preview_puts_new_lines_in_their_block() {
    preview_is_the_real_change(
        "juniper_junos",
        r#"    - name: Change it
      config:
        lines:
          - set system ntp server 10.9.9.9
          - set interfaces ge-0/0/1 description "to core"
          - set system host-name preview-{{ inventory_hostname }}
"#,
    );
}

/// `mode: replace` with a scope: the section becomes what is intended, lines not intended
/// are removed, nothing outside the scope is touched, and a second run changes nothing.
#[test]
fn replace_converges_a_scope_and_is_idempotent() {
    for (platform, iface, intended) in [
        (
            "cisco_ios",
            "interface GigabitEthernet1/0/1",
            "interface GigabitEthernet1/0/1\n description managed by netorch\n ip address 10.77.0.1 255.255.255.0\n",
        ),
        (
            "arista_eos",
            "interface Ethernet1",
            "interface Ethernet1\n   description managed by netorch\n   mtu 9000\n",
        ),
    ] {
        let sim = start(platform);
        let host = sim.hosts[0].name.clone();
        let before = show_run(&sim, &host, "show running-config");
        write(sim.dir.path(), "intended.cfg", intended);
        let pb = write(
            sim.dir.path(),
            "p.yml",
            &format!(
                "- name: Replace\n  hosts: all\n  tasks:\n    - name: Converge\n      config:\n        mode: replace\n        src: intended.cfg\n        scope: ['{iface}']\n"
            ),
        );
        let out = run(&sim, &pb, &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{platform}: {out:?}");
        let doc = json_of(&out);
        for r in results(&doc, "Converge") {
            assert_eq!(r["status"], "changed", "{platform}: {r}");
        }
        assert!(doc["rollback_run"].is_string(), "{doc}");
        let after = show_run(&sim, &host, "show running-config");
        let block: Vec<&str> = after
            .lines()
            .skip_while(|l| *l != iface)
            .take_while(|l| *l == iface || l.starts_with(' '))
            .collect();
        let want: Vec<&str> = intended.lines().collect();
        assert_eq!(block, want, "{platform}:\n{after}");
        // Outside the scope nothing moved.
        let outside = |t: &str| -> Vec<String> {
            t.lines()
                .filter(|l| !l.starts_with(' ') && !l.starts_with('!') && !l.starts_with("Current configuration"))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(outside(&before), outside(&after), "{platform}");
        let again = run(&sim, &pb, &["--json"]);
        for r in results(&json_of(&again), "Converge") {
            assert_eq!(r["status"], "ok", "{platform}: second run {r}");
        }
    }
}

/// A run that changed devices keeps their configs; `netorch rollback --run ID` brings them
/// back, and `--check` only shows what it would send.
#[test]
fn rollback_restores_what_a_run_changed() {
    for platform in ["cisco_ios", "juniper_junos"] {
        let sim = start(platform);
        let host = sim.hosts[0].name.clone();
        // Junos orders statements by its schema, the simulator by arrival: the set form,
        // sorted, is the config either way.
        let show = if platform == "juniper_junos" {
            "show configuration | display set"
        } else {
            "show running-config"
        };
        let strip = |t: &str| -> std::collections::BTreeSet<String> {
            t.lines()
                .filter(|l| {
                    !l.starts_with("## Last")
                        && !l.starts_with("! Last")
                        && !l.starts_with("! NVRAM")
                        && !l.starts_with("Current configuration")
                })
                .map(str::to_string)
                .collect::<std::collections::BTreeSet<_>>()
        };
        let before = strip(&show_run(&sim, &host, show));
        let lines = if platform == "juniper_junos" {
            "[set system ntp server 10.9.9.9, set system host-name changed-by-run, delete system syslog]"
        } else {
            "[ntp server 10.9.9.9, hostname changed-by-run, no ip domain lookup]"
        };
        let pb = write(
            sim.dir.path(),
            "p.yml",
            &format!("- name: Change\n  hosts: all\n  tasks:\n    - name: Change it\n      config: {lines}\n"),
        );
        let out = run(&sim, &pb, &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let doc = json_of(&out);
        let id = doc["rollback_run"].as_str().unwrap().to_string();
        assert_ne!(strip(&show_run(&sim, &host, show)), before);
        // The record is private and holds no secret.
        let rec = sim
            .dir
            .path()
            .join(".netorch/rollback")
            .join(&id)
            .join(format!("{host}.cfg"));
        let text = std::fs::read_to_string(&rec).unwrap();
        for l in text.lines().filter(|l| {
            l.starts_with("enable secret")
                || l.starts_with("username ")
                || l.contains("encrypted-password")
        }) {
            assert!(l.contains("********"), "{l}");
        }
        let check = sim
            .netorch("rollback")
            .current_dir(sim.dir.path())
            .args(["--run", &id, "--check", "--json"])
            .output()
            .unwrap();
        assert_eq!(check.status.code(), Some(0), "{check:?}");
        assert_ne!(
            strip(&show_run(&sim, &host, show)),
            before,
            "--check changed the device"
        );
        let back = sim
            .netorch("rollback")
            .current_dir(sim.dir.path())
            .args(["--run", &id])
            .output()
            .unwrap();
        assert_eq!(back.status.code(), Some(0), "{back:?}");
        assert_eq!(strip(&show_run(&sim, &host, show)), before, "{platform}");
    }
}

/// `netorch compliance`: live and from a backup store, the same verdicts; exit 0 only when
/// every host is compliant; JSON and JUnit carry one entry per host.
#[test]
fn compliance_live_and_from_a_backup_store() {
    // Not the default `admin`: the password is masked wherever it appears, the user name
    // in the config included.
    let sim = Sim::with("cisco_ios", 2)
        .password("Compl-Passw0rd-4417")
        .start();
    let dir = sim.dir.path().join("intended");
    std::fs::create_dir_all(&dir).unwrap();
    // The intended configs are what the devices run now (secrets come masked, and are
    // compared masked).
    for h in &sim.hosts {
        std::fs::write(
            dir.join(format!("{}.cfg", h.name)),
            show_run(&sim, &h.name, "show running-config"),
        )
        .unwrap();
    }
    let compliance = |running: &str, extra: &[&str]| -> Output {
        sim.netorch("compliance")
            .args(["--intended", "intended", "--running", running])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = compliance("live", &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 compliant, 0 not compliant"));
    // Drift on one device: a line added, one removed.
    let drifted = sim.hosts[1].name.clone();
    let pb = write(
        sim.dir.path(),
        "drift.yml",
        &format!("- name: Drift\n  hosts: {drifted}\n  tasks:\n    - name: Drift it\n      config: [ntp server 10.9.9.9, no ip ssh version 2]\n"),
    );
    assert_eq!(run(&sim, &pb, &[]).status.code(), Some(0));
    let store = sim.dir.path().join("store");
    let b = sim
        .netorch("backup")
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(b.status.code(), Some(0), "{b:?}");
    for running in ["live", store.to_str().unwrap()] {
        let junit = sim.dir.path().join("c.xml");
        let out = compliance(running, &["--json", "--junit", junit.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{running}: {out:?}");
        let doc = json_of(&out);
        let hosts = doc["hosts"].as_array().unwrap();
        assert_eq!(hosts.len(), 2);
        for h in hosts {
            if h["host"] == drifted.as_str() {
                assert_eq!(h["status"], "not_compliant", "{running}: {h}");
                assert_eq!(
                    h["missing"],
                    serde_json::json!(["ip ssh version 2"]),
                    "{running}"
                );
                assert_eq!(
                    h["extra"],
                    serde_json::json!(["ntp server 10.9.9.9"]),
                    "{running}"
                );
                assert_eq!(
                    h["remediation"],
                    serde_json::json!(["no ntp server 10.9.9.9", "ip ssh version 2"]),
                    "{running}"
                );
            } else {
                assert_eq!(h["status"], "compliant", "{running}: {h}");
            }
        }
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
    }
    // Ignoring the drift's lines makes the fleet compliant again.
    let out = compliance("live", &["--ignore", "^ntp server", "--ignore", "^ip ssh"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// A play's `confirm:`: changes go in under the device's revert timer; a host whose checks
/// pass gets the confirmation and keeps the change, a host whose checks fail is left to
/// its device, which rolls the change back when the timer runs out.
#[test]
fn commit_confirm_keeps_checked_changes_and_lets_the_others_roll_back() {
    for (platform, line, show) in [
        ("cisco_ios", "ntp server 10.9.9.9", "show running-config"),
        ("arista_eos", "ntp server 10.9.9.9", "show running-config"),
        (
            "juniper_junos",
            "set system ntp server 10.9.9.9",
            "show configuration | display set",
        ),
        ("cisco_iosxr", "ntp server 10.9.9.9", "show running-config"),
    ] {
        // One device minute lasts 1.5 s.
        let sim = Sim::with(platform, 2)
            .args(&["--timer-scale-ms", "1500"])
            .start();
        let (good, bad) = (sim.hosts[0].name.clone(), sim.hosts[1].name.clone());
        let pb = write(
            sim.dir.path(),
            "p.yml",
            &format!(
                r#"- name: Careful change
  hosts: all
  confirm: {{timeout: 1m, after: [Check]}}
  tasks:
    - name: Change it
      config: ["{line}"]
    - name: Check
      fail: {{msg: the check failed}}
      when: inventory_hostname == "{bad}"
"#
            ),
        );
        let out = run(&sim, &pb, &["--json"]);
        assert_eq!(out.status.code(), Some(2), "{platform}: {out:?}");
        let doc = json_of(&out);
        let confirm = results(&doc, "confirm the change");
        assert_eq!(
            confirm.len(),
            1,
            "{platform}: only the checked host is confirmed: {doc}"
        );
        assert_eq!(confirm[0]["host"], good.as_str());
        assert_eq!(
            confirm[0]["status"], "changed",
            "{platform}: {}",
            confirm[0]
        );
        let has = |host: &str| show_run(&sim, host, show).contains("10.9.9.9");
        for r in results(&doc, "Change it") {
            assert_eq!(r["status"], "changed", "{platform}: {r}");
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while has(&bad) {
            assert!(
                std::time::Instant::now() < deadline,
                "{platform}: {bad} kept an unconfirmed change"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        // The unconfirmed change is gone; the confirmed one outlives the timer.
        std::thread::sleep(std::time::Duration::from_millis(1600));
        assert!(
            has(&good),
            "{platform}: the confirmed change was rolled back"
        );
    }
}

/// `confirm:` on a platform without a revert timer refuses the change before sending it,
/// and a typo in `after` is an error of the playbook.
#[test]
fn commit_confirm_refuses_what_it_cannot_protect() {
    let sim = Sim::with("cisco_nxos", 1).start();
    let host = sim.hosts[0].name.clone();
    let pb = write(
        sim.dir.path(),
        "p.yml",
        "- name: Careful change\n  hosts: all\n  confirm: {timeout: 2m}\n  tasks:\n    - name: Change it\n      config: [ntp server 10.9.9.9]\n",
    );
    // Refused before any connection, at the play.
    let out = run(&sim, &pb, &[]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("p.yml:1:3") && err.contains("platform cisco_nxos has no revert timer"),
        "{err}"
    );
    assert!(!show_run(&sim, &host, "show running-config").contains("10.9.9.9"));
    // A timer shorter than the device takes (IOS: a minute) is refused at check time too.
    let ios = Sim::with("cisco_ios", 1).start();
    let short = write(
        ios.dir.path(),
        "short.yml",
        "- name: Careful change\n  hosts: all\n  confirm: {timeout: 10s}\n  tasks:\n    - name: Change it\n      config: [ntp server 10.9.9.9]\n",
    );
    let out = run(&ios, &short, &[]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("confirm timeout 10s is outside what cisco_ios takes (60s to 7200s)"),
        "{err}"
    );
    let typo = write(
        sim.dir.path(),
        "typo.yml",
        "- name: Careful change\n  hosts: all\n  confirm: {timeout: 2m, after: [Chek]}\n  tasks:\n    - name: Check\n      command: show version\n",
    );
    let out = run(&sim, &typo, &[]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("typo.yml:3") && err.contains("did you mean `Check`?"),
        "{err}"
    );
}

/// `netorch rollback --store DIR --to REV`: back to a backed-up version of the config.
#[test]
fn rollback_to_a_backup_revision() {
    let sim = Sim::with("cisco_ios", 1)
        .password("Rb-Passw0rd-5521")
        .start();
    let host = sim.hosts[0].name.clone();
    let store = sim.dir.path().join("store");
    let backup = || {
        let b = sim
            .netorch("backup")
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap();
        assert_eq!(b.status.code(), Some(0), "{b:?}");
    };
    let strip = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with('!') && !l.starts_with("Current configuration"))
            .map(str::to_string)
            .collect()
    };
    let before = strip(&show_run(&sim, &host, "show running-config"));
    backup();
    let pb = write(
        sim.dir.path(),
        "p.yml",
        "- name: Change\n  hosts: all\n  tasks:\n    - name: Change it\n      config: [ntp server 10.9.9.9, no ip ssh version 2]\n",
    );
    assert_eq!(run(&sim, &pb, &[]).status.code(), Some(0));
    backup();
    assert_ne!(strip(&show_run(&sim, &host, "show running-config")), before);
    let out = sim
        .netorch("rollback")
        .arg("--store")
        .arg(&store)
        .args(["--to", "1", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc = json_of(&out);
    let r = &results(&doc, "back to backup 1")[0];
    assert_eq!(r["status"], "changed", "{r}");
    assert_eq!(strip(&show_run(&sim, &host, "show running-config")), before);
}

/// Previews and compliance on the other platforms: NX-OS and IOS-XR previews equal the
/// real change; a drift is found live on EOS, Junos, NX-OS and IOS-XR.
#[test]
fn previews_and_compliance_on_every_platform() {
    preview_is_the_real_change(
        "cisco_nxos",
        "    - name: Change it\n      config:\n        lines: [description to-core]\n        parents: [interface Ethernet1/2]\n",
    );
    preview_is_the_real_change(
        "cisco_iosxr",
        "    - name: Change it\n      config: [ntp server 10.9.9.9, \"hostname preview-{{ inventory_hostname }}\"]\n",
    );
    for (platform, show, drift) in [
        ("arista_eos", "show running-config", "ntp server 10.9.9.9"),
        (
            "juniper_junos",
            "show configuration",
            "set system ntp server 10.9.9.9",
        ),
        ("cisco_nxos", "show running-config", "ntp server 10.9.9.9"),
        ("cisco_iosxr", "show running-config", "ntp server 10.9.9.9"),
    ] {
        let sim = Sim::with(platform, 1)
            .password("Every-Passw0rd-3391")
            .start();
        let host = sim.hosts[0].name.clone();
        let dir = sim.dir.path().join("intended");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{host}.cfg")), show_run(&sim, &host, show)).unwrap();
        let compliance = || {
            sim.netorch("compliance")
                .args(["--intended", "intended", "--json"])
                .output()
                .unwrap()
        };
        let out = compliance();
        assert_eq!(out.status.code(), Some(0), "{platform}: {out:?}");
        let pb = write(
            sim.dir.path(),
            "drift.yml",
            &format!("- name: Drift\n  hosts: all\n  tasks:\n    - name: Drift it\n      config: [\"{drift}\"]\n"),
        );
        assert_eq!(run(&sim, &pb, &[]).status.code(), Some(0), "{platform}");
        let out = compliance();
        assert_eq!(out.status.code(), Some(2), "{platform}: {out:?}");
        let doc = json_of(&out);
        let h = &doc["hosts"][0];
        assert_eq!(h["status"], "not_compliant", "{platform}: {h}");
        let extra = h["extra"].to_string();
        assert!(extra.contains("10.9.9.9"), "{platform}: {h}");
    }
}
