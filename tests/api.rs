//! HTTP device APIs against netorch-sim's `--api` listeners (HTTPS with a per-run test CA):
//! eAPI and NX-API hosts run `command`, `config`, save and backup through the API with the
//! CLI's output; certificates, auth, retries and the `api` action.

use serde_json::Value;

use crate::util::sim::Sim;
use crate::util::{run_playbook, write};

fn mixed_api_sim() -> Sim {
    Sim::with("mixed", 5).arg("--api").start()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `(host, command) -> output` from an `exec --json` report.
fn outputs(o: &std::process::Output) -> Vec<(String, String, String)> {
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("exec --json is JSON ({e}): {}", text(o)));
    let mut out = Vec::new();
    for play in v["plays"].as_array().unwrap() {
        for task in play["tasks"].as_array().unwrap() {
            for h in task["hosts"].as_array().unwrap() {
                for c in h["commands"].as_array().unwrap_or(&Vec::new()) {
                    out.push((
                        h["host"].as_str().unwrap().to_string(),
                        c["command"].as_str().unwrap().to_string(),
                        c["output"].as_str().unwrap_or_default().to_string(),
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn exec_over_eapi_and_nxapi_shows_what_the_cli_shows() {
    let sim = mixed_api_sim();
    assert_eq!(sim.vars("eos-001")["connection"], "eapi");
    assert_eq!(sim.vars("nxos-001")["connection"], "nxapi");
    // (Not show running-config: NX-OS stamps it with the current second.)
    let cmds = ["show version", "show vlan", "show ip interface brief"];
    let api = sim
        .netorch("exec")
        .args(["-l", "eos-001,nxos-001", "--json"])
        .args(cmds)
        .output()
        .unwrap();
    assert_eq!(api.status.code(), Some(0), "{}", text(&api));
    // The HTTP client's own debug lines stay out of a normal run.
    assert!(
        !String::from_utf8_lossy(&api.stderr).contains("DEBUG"),
        "{}",
        text(&api)
    );
    let ssh = sim
        .netorch("exec")
        .args(["-l", "eos-001,nxos-001", "--json", "-e", "connection=ssh"])
        .args(cmds)
        .output()
        .unwrap();
    assert_eq!(ssh.status.code(), Some(0), "{}", text(&ssh));
    let (a, s) = (outputs(&api), outputs(&ssh));
    assert_eq!(a.len(), 6, "{a:?}");
    assert!(a.iter().any(|(_, _, o)| o.contains("users")));
    assert_eq!(a, s);
}

#[test]
fn a_command_the_device_refuses_fails_the_host_with_the_device_words() {
    let sim = Sim::with("arista_eos", 1).arg("--api").start();
    let o = sim
        .netorch("exec")
        .args(["show bogus", "show version"])
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("% Invalid input (at token 1: 'bogus')"), "{t}");
    assert!(
        !t.contains("Arista vEOS"),
        "stops at the failed command: {t}"
    );
}

#[test]
fn config_push_save_and_backup_over_eapi_and_nxapi() {
    let sim = mixed_api_sim();
    let pb = write(
        sim.dir.path(),
        "pb.yml",
        r#"- hosts: eos-001,nxos-001
  tasks:
    - config:
        parents: interface Ethernet1
        lines:
          - description set-over-the-api
        save: true
      register: cfg
    - assert:
        that: cfg.changed
    - command: show running-config
      register: run
    - command: show startup-config
      register: start
    - assert:
        that:
          - "'description set-over-the-api' in run.stdout"
          - "'description set-over-the-api' in start.stdout"
"#,
    );
    let o = run_playbook(&sim, &pb, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The same change seen over SSH, and backups over the API equal those over SSH.
    let store_api = sim.dir.path().join("store-api");
    let store_ssh = sim.dir.path().join("store-ssh");
    for (store, extra) in [(&store_api, None), (&store_ssh, Some("connection=ssh"))] {
        let mut c = sim.netorch("backup");
        c.args(["-l", "eos-001,nxos-001", "--store"]).arg(store);
        if let Some(e) = extra {
            c.args(["-e", e]);
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    for f in ["eos-001.cfg", "nxos-001.cfg"] {
        let a = std::fs::read_to_string(store_api.join(f)).unwrap();
        let s = std::fs::read_to_string(store_ssh.join(f)).unwrap();
        assert!(a.contains("description set-over-the-api"), "{a}");
        assert_eq!(a, s, "{f}");
    }
}

#[test]
fn certificates_are_verified_unless_told_otherwise() {
    let sim = Sim::with("arista_eos", 1).arg("--api").start();
    // Without the test CA the system trust store does not know the device's issuer.
    let o = sim
        .netorch("exec")
        .args(["-e", r#"{"ca_file": null}"#, "show version"])
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(3), "{t}");
    assert!(t.contains("certificate verify failed"), "{t}");
    assert!(t.contains("ca_file"), "the hint names the fix: {t}");
    // ca_file (from the sim's inventory) passes.
    let o = sim.netorch("exec").arg("show version").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("verification is off"));
    // validate_certs: false connects and says what it gave up.
    let o = sim
        .netorch("exec")
        .args([
            "-e",
            r#"{"ca_file": null, "ansible_httpapi_validate_certs": false}"#,
            "show version",
        ])
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("certificate verification is off"), "{t}");
    // A CA file that is not PEM is a settings error naming the variable.
    let bogus = write(sim.dir.path(), "not-a-ca.pem", "hello\n");
    let o = sim
        .netorch("exec")
        .args([
            "-e",
            &format!("ca_file={}", bogus.display()),
            "show version",
        ])
        .output()
        .unwrap();
    let t = text(&o);
    assert_ne!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("ca_file") && t.contains("no PEM certificate"),
        "{t}"
    );
}

#[test]
fn a_wrong_password_is_a_clear_401_without_the_password() {
    let sim = Sim::with("arista_eos", 1).arg("--api").start();
    let o = sim
        .netorch("exec")
        .args([
            "-e",
            "password=Wr0ngPassw0rd",
            "-vv",
            "--json",
            "show version",
        ])
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(3), "{t}");
    assert!(t.contains("401"), "{t}");
    assert!(t.contains("authentication failed"), "{t}");
    assert!(!t.contains("Wr0ngPassw0rd"), "the password leaked: {t}");
    // A bearer token works where the device accepts one.
    let sim = Sim::with("arista_eos", 1)
        .args(&["--api", "--api-token", "T0kenValue"])
        .start();
    let o = sim
        .netorch("exec")
        .args([
            "-e",
            "api_token=T0kenValue",
            "-e",
            "password=nope",
            "show version",
        ])
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(!t.contains("T0kenValue"), "{t}");
}

#[test]
fn a_5xx_is_retried_then_succeeds_and_retries_are_bounded() {
    let sim = Sim::with("arista_eos", 1)
        .args(&["--api", "--api-fail", "eos-001=503:2"])
        .start();
    let o = sim.netorch("exec").arg("show version").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("Arista vEOS"));

    let sim = Sim::with("arista_eos", 1)
        .args(&["--api", "--api-fail", "eos-001=503:5"])
        .start();
    let o = sim
        .netorch("exec")
        .args(["-e", "api_retries=1", "show version"])
        .output()
        .unwrap();
    let t = text(&o);
    assert_ne!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("HTTP 503") && t.contains("service warming up"),
        "{t}"
    );
}

#[test]
fn a_down_api_port_is_unreachable_with_a_hint() {
    let sim = Sim::with("arista_eos", 1).arg("--api").start();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let o = sim
        .netorch("exec")
        .args(["-e", &format!("api_port={port}"), "show version"])
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(3), "{t}");
    assert!(t.contains("connection refused") && t.contains("API"), "{t}");
    // The SSH port speaks SSH, not HTTPS: a clear error, not a hang.
    let ssh_port = sim.vars("eos-001")["port"].to_string();
    let o = sim
        .netorch("exec")
        .args([
            "-e",
            &format!("api_port={ssh_port}"),
            "-e",
            "command_timeout=5",
            "show version",
        ])
        .output()
        .unwrap();
    let t = text(&o);
    assert_ne!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("eos-001"), "{t}");
}

#[test]
fn many_hosts_under_forks_each_get_their_own_answers() {
    let sim = Sim::with("arista_eos", 12).arg("--api").start();
    let o = sim
        .netorch("exec")
        .args([
            "-f",
            "5",
            "--json",
            "show running-config | include hostname",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let outs = outputs(&o);
    assert_eq!(outs.len(), 12);
    for (host, _, out) in outs {
        assert_eq!(out.trim(), format!("hostname {host}"));
    }
}

#[test]
fn a_restconf_host_refuses_cli_commands_with_a_hint() {
    let sim = Sim::with("cisco_ios", 1).arg("--api").start();
    let o = sim
        .netorch("exec")
        .args(["-e", "connection=restconf", "show version"])
        .output()
        .unwrap();
    let t = text(&o);
    // Refused before a connection is opened, as a mistake in what was asked.
    assert_eq!(o.status.code(), Some(4), "{t}");
    assert!(
        t.contains("CLI commands cannot run over restconf (platform cisco_ios) (host ios-001)")
            && t.contains("RESTCONF has no CLI")
            && t.contains("`api` action"),
        "{t}"
    );
}

#[test]
fn restconf_get_and_patch_through_the_api_action() {
    // ios-001 connects over SSH and has its API too; eos-001 connects over eAPI.
    let sim = Sim::with("mixed", 2).arg("--api").start();
    let pb = write(
        sim.dir.path(),
        "rc.yml",
        r#"- hosts: ios-001,eos-001
  vars:
    ifname: "{{ 'GigabitEthernet1%2F0%2F2' if inventory_hostname.startswith('ios') else 'Ethernet2' }}"
  tasks:
    - api:
        path: ietf-system:system
      register: sys
    - assert:
        that:
          - sys.http_status == 200
          - sys.json['ietf-system:system'].hostname == inventory_hostname
    - ansible.netcommon.restconf_config:
        method: patch
        path: /data/ietf-interfaces:interfaces/interface={{ ifname }}
        content:
          ietf-interfaces:interface:
            - description: "set by {{ inventory_hostname }}"
      register: patched
    - assert:
        that: patched.changed and patched.http_status == 204
    - ansible.netcommon.restconf_get:
        path: /data/ietf-interfaces:interfaces
        content: config
      register: ifs
    - assert:
        that: >-
          'set by ' ~ inventory_hostname in (ifs.response['ietf-interfaces:interfaces'].interface
          | selectattr('description', 'defined') | map(attribute='description') | list)
    - command: show running-config
      register: run
    - assert:
        that: "'description set by ' ~ inventory_hostname in run.stdout"
    - api:
        method: PATCH
        path: ietf-interfaces:interfaces/interface=Nope0
        body: {"ietf-interfaces:interface": [{"description": "x"}]}
      register: bad
      ignore_errors: true
    - assert:
        that:
          - bad.failed
          - bad.http_status == 404
          - "'no interface Nope0' in bad.msg"
"#,
    );
    // The RESTCONF tasks over the API, `command` over each host's own connection.
    let o = run_playbook(&sim, &pb, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn raw_eapi_commands_with_json_format_are_data() {
    let sim = Sim::with("arista_eos", 1).arg("--api").start();
    let pb = write(
        sim.dir.path(),
        "j.yml",
        r#"- hosts: all
  tasks:
    - api:
        commands: [show version]
        format: json
      register: v
    - assert:
        that:
          - v.json[0].modelName == 'vEOS-lab'
          - v.stdout[0].version is defined
    - api:
        commands: [show hostname, show bogus]
      register: bad
      ignore_errors: true
    - assert:
        that:
          - bad.failed
          - "'show bogus' in bad.msg"
          - "'eos-001' in bad.stdout[0]"
"#,
    );
    let o = run_playbook(&sim, &pb, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A typo in the method is refused before anything is sent.
    let typo = write(
        sim.dir.path(),
        "typo.yml",
        "- hosts: all\n  tasks:\n    - api: {method: PTACH, path: x, body: {a: 1}}\n",
    );
    let o = run_playbook(&sim, &typo, &[]);
    let t = text(&o);
    assert_ne!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("typo.yml") && t.contains("did you mean PATCH"),
        "{t}"
    );
}

#[test]
fn the_password_never_reaches_the_logs_even_at_trace_level() {
    let sim = Sim::with("arista_eos", 1)
        .arg("--api")
        .password("Sekr1tApiPw")
        .start();
    let o = sim
        .netorch("exec")
        .args(["-vvv", "--json", "show hostname"])
        .env("NETORCH_LOG", "trace")
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let basic = data_encoding::BASE64.encode(b"admin:Sekr1tApiPw");
    assert!(!t.contains("Sekr1tApiPw"), "password in the output");
    assert!(!t.contains(&basic), "Authorization header in the output");
    assert!(
        !t.contains(&basic[..16]),
        "Authorization header in the output"
    );
}

#[test]
fn a_slow_device_times_out_at_the_task_timeout_and_nxapi_json_is_data() {
    let sim = Sim::with("cisco_nxos", 1)
        .args(&["--api", "--latency-ms", "3000"])
        .start();
    let t0 = std::time::Instant::now();
    let o = sim
        .netorch("exec")
        .args(["-e", "command_timeout=0.5", "show version"])
        .output()
        .unwrap();
    let t = text(&o);
    assert_ne!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("timed out after 0.5s"), "{t}");
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(3),
        "not retried: {t}"
    );

    let sim = Sim::with("cisco_nxos", 1).arg("--api").start();
    let pb = write(
        sim.dir.path(),
        "nx.yml",
        r#"- hosts: all
  tasks:
    - api:
        commands: [show version]
        format: json
      register: v
    - assert:
        that: v.json[0] is mapping
"#,
    );
    let o = run_playbook(&sim, &pb, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn commit_confirm_over_eapi_keeps_the_confirmed_change() {
    // One minute of the device's revert timer lasts 0.3 s.
    let sim = Sim::with("arista_eos", 1)
        .args(&["--api", "--timer-scale-ms", "300"])
        .start();
    let pb = write(
        sim.dir.path(),
        "confirm.yml",
        r#"- hosts: all
  confirm: {timeout: 1m}
  tasks:
    - config:
        lines: ["snmp-server location rack-confirmed"]
"#,
    );
    let o = run_playbook(&sim, &pb, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::thread::sleep(std::time::Duration::from_millis(900));
    let o = sim
        .netorch("exec")
        .arg("show running-config | include location")
        .output()
        .unwrap();
    let t = text(&o);
    assert!(
        t.contains("snmp-server location rack-confirmed"),
        "reverted: {t}"
    );
}

#[test]
fn ansible_httpapi_inventories_pick_the_api_by_platform() {
    let sim = mixed_api_sim();
    // Ansible's names only: httpapi by ansible_network_os, the port from
    // ansible_httpapi_port, verification off by Ansible's variable.
    let dir = sim.dir.path();
    let host = |name: &str, os: &str| {
        let v = sim.vars(name);
        format!(
            "    {name}:\n      ansible_host: 127.0.0.1\n      ansible_network_os: {os}\n      ansible_httpapi_port: {}\n",
            v["api_port"]
        )
    };
    let inv = write(
        dir,
        "ansible-inv.yml",
        &format!(
            "all:\n  vars:\n    ansible_connection: ansible.netcommon.httpapi\n    ansible_user: admin\n    ansible_password: admin\n    ansible_httpapi_use_ssl: true\n    ansible_httpapi_validate_certs: false\n  hosts:\n{}{}",
            host("eos-001", "arista.eos.eos"),
            host("nxos-001", "cisco.nxos.nxos")
        ),
    );
    let o = crate::util::netorch()
        .current_dir(dir)
        .args(["exec", "-i"])
        .arg(&inv)
        .args(["--json", "show hostname"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let outs = outputs(&o);
    assert_eq!(outs.len(), 2);
    assert!(
        outs.iter().all(|(h, _, out)| out.contains(h.as_str())),
        "{outs:?}"
    );
}
