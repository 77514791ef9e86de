//! `connection: telnet` end to end against netorch-sim's telnet side (`--telnet`): run,
//! exec and backup on several platforms, the login dialogue (wrong password, banners,
//! console-server prompts, a line already logged in or busy), option negotiation, a
//! connection dropped mid-command, and the plain-text warning.

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::report::{host_results, json_of, results};
use crate::util::sim::Sim;
use crate::util::write;

const WARNING: &str = "telnet is plain text";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What a user sees (warnings are printed with the run's output).
fn both(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out))
}

fn telnet_sim(platform: &str, count: usize, extra: &[&str]) -> Sim {
    Sim::with(platform, count)
        .arg("--telnet")
        .args(extra)
        .start()
}

fn exec_json(sim: &Sim, args: &[&str]) -> (Output, Value) {
    let out = sim
        .netorch("exec")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let doc = json_of(&out);
    (out, doc)
}

/// (host, status, msg, output of the first command) for each host.
fn outcomes(doc: &Value) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = host_results(doc)
        .iter()
        .map(|r| {
            (
                r["host"].as_str().unwrap_or_default().to_string(),
                r["status"].as_str().unwrap_or_default().to_string(),
                r["msg"].as_str().unwrap_or_default().to_string(),
                r["commands"][0]["output"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn all_ok(doc: &Value) {
    for (host, status, msg, _) in outcomes(doc) {
        assert_eq!(status, "ok", "{host}: {msg}\n{doc:#}");
    }
}

#[test]
fn run_exec_and_backup_work_over_telnet_on_ios_eos_and_junos() {
    for (platform, line, readback) in [
        ("cisco_ios", "ntp server 192.0.2.55", "show running-config"),
        ("arista_eos", "ntp server 192.0.2.55", "show running-config"),
        (
            "juniper_junos",
            "set system ntp server 192.0.2.55",
            "show configuration | display set",
        ),
    ] {
        let sim = telnet_sim(platform, 2, &[]);
        assert!(
            sim.hosts.iter().all(|h| h.vars["connection"] == "telnet"),
            "{:?}",
            sim.hosts
        );
        // exec: several commands, paging off, prompts found.
        let (out, doc) = exec_json(&sim, &["show version", readback]);
        assert_eq!(out.status.code(), Some(0), "{platform}: {doc:#}");
        all_ok(&doc);
        for (host, _, _, output) in outcomes(&doc) {
            assert!(output.lines().count() > 3, "{platform} {host}: {output:?}");
            assert!(!output.contains('\u{ff}') && !output.contains('\0'));
        }

        // run: a config change (config mode, commit on Junos) and its readback.
        let pb = write(
            sim.dir.path(),
            "change.yml",
            &format!(
                "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: ntp\n      config:\n        lines: ['{line}']\n    - name: readback\n      command: {readback}\n      register: cfg\n    - name: check\n      assert:\n        that: \"'192.0.2.55' in cfg.stdout\"\n"
            ),
        );
        let out = sim.netorch("run").arg(&pb).arg("--json").output().unwrap();
        let doc = json_of(&out);
        assert_eq!(out.status.code(), Some(0), "{platform}: {doc:#}");
        for r in results(&doc, "ntp") {
            assert_eq!(r["status"], "changed", "{platform}: {r:#}");
        }
        for r in results(&doc, "check") {
            assert_eq!(r["status"], "ok", "{platform}: {r:#}");
        }

        // backup: whole configs in the store, the change in them.
        let store = sim.dir.path().join("store");
        let out = sim
            .netorch("backup")
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{platform}: {}", stderr(&out));
        for h in &sim.hosts {
            let cfg = std::fs::read_to_string(store.join(format!("{}.cfg", h.name)))
                .unwrap_or_else(|e| panic!("{platform} {}: {e}", h.name));
            assert!(cfg.contains("192.0.2.55"), "{platform}: {cfg}");
        }
    }
}

#[test]
fn a_wrong_password_is_an_auth_failure_that_never_shows_the_password() {
    let sim = telnet_sim("cisco_ios", 1, &["--password", "Right-0ne"]);
    let secret = "Wr0ng-Secret-77";
    let (out, doc) = exec_json(&sim, &["-e", &format!("password={secret}"), "show version"]);
    assert_eq!(out.status.code(), Some(3), "{doc:#}");
    let (_, status, msg, _) = outcomes(&doc).remove(0);
    assert_eq!(status, "unreachable", "{doc:#}");
    assert!(msg.contains("authentication failed"), "{msg}");
    assert!(msg.contains("Login invalid"), "{msg}");
    let all = both(&out);
    assert!(!all.contains(secret), "the password leaked:\n{all}");

    // Junos-style `login:` dialogue, device rejecting every login: the same error.
    let sim = telnet_sim("juniper_junos", 1, &["--fail", "junos-001=auth-fail"]);
    let (_, doc) = exec_json(&sim, &["show version"]);
    let (_, status, msg, _) = outcomes(&doc).remove(0);
    assert_eq!(status, "unreachable", "{doc:#}");
    assert!(
        msg.contains("authentication failed") && msg.contains("Login incorrect"),
        "{msg}"
    );
    assert!(
        !msg.contains("admin\n") && !msg.contains(": admin)"),
        "{msg}"
    );
}

#[test]
fn banners_cr_nul_line_ends_and_a_server_that_never_negotiates() {
    let sim = telnet_sim(
        "cisco_ios",
        3,
        &[
            "--telnet-fault",
            "ios-001=banner",
            "--telnet-fault",
            "ios-002=cr-nul,banner",
            "--telnet-fault",
            "ios-003=no-negotiation",
        ],
    );
    let (out, doc) = exec_json(&sim, &["show clock", "show version"]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    all_ok(&doc);
    let outputs: Vec<String> = host_results(&doc)
        .iter()
        .map(|r| r["commands"][1]["output"].as_str().unwrap().to_string())
        .collect();
    for o in &outputs {
        assert!(
            !o.contains("MOTD") && !o.contains("authorized users"),
            "{o}"
        );
        assert!(o.contains("Cisco IOS XE Software"), "{o}");
    }
    // `\r\0` line ends come out as the same lines as `\r\n` ones.
    assert_eq!(
        outputs[0].lines().count(),
        outputs[1].lines().count(),
        "{outputs:#?}"
    );

    // Enter sent as `\r\0` (telnet_enter: crnul) works the same.
    let (out, doc) = exec_json(
        &sim,
        &["-e", "telnet_enter=crnul", "show clock", "show version"],
    );
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    all_ok(&doc);
}

#[test]
fn negotiation_reports_terminal_type_and_window_size() {
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("connections.log");
    let sim = telnet_sim(
        "arista_eos",
        1,
        &["--connection-log", log.to_str().unwrap()],
    );
    let (_, doc) = exec_json(&sim, &["show clock"]);
    all_ok(&doc);
    let text = std::fs::read_to_string(&log).unwrap();
    // What the client answered to the sim's WILL ECHO, WILL SGA, DO TTYPE, DO NAWS.
    assert!(
        text.contains("eos-001 telnet ttype=VT100 window=511x24 echo=server"),
        "{text}"
    );
}

#[test]
fn console_lines_press_return_wait_for_enter_or_are_already_logged_in() {
    let sim = telnet_sim(
        "cisco_ios",
        3,
        &[
            "--telnet-fault",
            "ios-001=press-return,banner",
            "--telnet-fault",
            "ios-002=needs-enter",
            "--telnet-fault",
            "ios-003=needs-enter,logged-in",
        ],
    );
    let (out, doc) = exec_json(&sim, &["show clock"]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    all_ok(&doc);
}

#[test]
fn a_busy_console_line_is_a_clear_error() {
    let sim = telnet_sim("cisco_ios", 1, &["--telnet-fault", "ios-001=busy"]);
    let t = Instant::now();
    let (out, doc) = exec_json(&sim, &["show clock"]);
    assert_eq!(out.status.code(), Some(3), "{doc:#}");
    let (_, status, msg, _) = outcomes(&doc).remove(0);
    assert_eq!(status, "unreachable");
    assert!(
        msg.contains("line is busy") && msg.contains("in use by another session"),
        "{msg}"
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}

#[test]
fn a_connection_dropped_mid_command_is_unreachable_with_the_partial_output() {
    // Commands 1-3 open the session (terminal length, width, enable); the 4th is cut in half.
    let sim = telnet_sim("cisco_ios", 1, &["--fail", "ios-001=truncate-after:4"]);
    let (out, doc) = exec_json(&sim, &["show running-config"]);
    assert_eq!(out.status.code(), Some(3), "{doc:#}");
    let (_, status, msg, output) = outcomes(&doc).remove(0);
    assert_eq!(status, "unreachable", "{doc:#}");
    assert!(msg.contains("session lost"), "{msg}");
    assert!(
        output.contains("version"),
        "partial output kept: {output:?}"
    );

    // A device that floods after the login: the task ends at its timeout, output capped.
    let sim = telnet_sim("cisco_ios", 1, &["--fail", "ios-001=flood-after:4"]);
    let pb = write(
        sim.dir.path(),
        "flood.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: flood\n      command: show clock\n      timeout: 3\n      max_output: 64KiB\n",
    );
    let t = Instant::now();
    let out = sim.netorch("run").arg(&pb).arg("--json").output().unwrap();
    let doc = json_of(&out);
    let (_, status, msg, output) = outcomes(&doc).remove(0);
    assert_ne!(status, "ok", "{doc:#}");
    assert!(msg.contains("3.0s"), "{msg}");
    assert!(output.len() < 200 * 1024, "{} bytes kept", output.len());
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());

    // A device that goes silent is cut by --host-timeout (the abort handle reaches telnet).
    let sim = telnet_sim("cisco_ios", 1, &["--fail", "ios-001=hang-after:4"]);
    let t = Instant::now();
    let (out, _) = exec_json(&sim, &["--host-timeout", "2", "show clock"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}

#[test]
fn the_plain_text_warning_is_shown_per_host_unless_telnet_ok() {
    let sim = telnet_sim("mixed", 4, &[]);
    let out = sim.netorch("exec").arg("show version").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = both(&out);
    assert_eq!(err.matches(WARNING).count(), 4, "{err}");

    // telnet_ok for one group: the others still warn, once each.
    let overlay = write(
        sim.dir.path(),
        "ok.yaml",
        "all:\n  children:\n    cisco_ios:\n      vars:\n        telnet_ok: true\n",
    );
    let out = sim
        .netorch("exec")
        .arg("-i")
        .arg(&overlay)
        .arg("show version")
        .output()
        .unwrap();
    let err = both(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.matches(WARNING).count(), 3, "{err}");
    assert!(!err.contains("ios-001: telnet"), "{err}");

    // Telnet cannot go through an SSH bastion: refused, not silently direct.
    let out = sim
        .netorch("exec")
        .args(["-e", "ssh_jump=bastion.example.net", "show version"])
        .output()
        .unwrap();
    let all = both(&out);
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("`ssh_jump` with `connection: telnet`"),
        "{all}"
    );

    // A telnet host pointed at an SSH port: said so at once.
    let ssh = Sim::with("cisco_ios", 1).start();
    let port = ssh.hosts[0].vars["port"].to_string();
    let t = Instant::now();
    let out = sim
        .netorch("exec")
        .args([
            "--limit",
            "ios-001",
            "-e",
            &format!("port={port}"),
            "show version",
        ])
        .output()
        .unwrap();
    let all = both(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(all.contains("speaks SSH, not telnet"), "{all}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());

    // A bad value is refused with the variable named.
    let out = sim
        .netorch("exec")
        .args(["-e", "telnet_ok=maybe", "show clock"])
        .output()
        .unwrap();
    let all = both(&out);
    assert!(all.contains("telnet_ok"), "{all}");
}
