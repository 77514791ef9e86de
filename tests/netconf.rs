//! NETCONF end to end: `netorch run` with Ansible's netconf_get / netconf_config /
//! netconf_rpc against yuma123's netconfd behind a real sshd (`scripts/setup` installs it).

use crate::util::netconfd::Netconfd;
use crate::util::report::{json_of, results};
use crate::util::{netorch, write};

const IF_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-interfaces";

fn run(nc: &Netconfd, dir: &std::path::Path, playbook: &str) -> std::process::Output {
    let inv = nc.inventory(dir, "");
    let pb = write(dir, "site.yml", playbook);
    netorch()
        .current_dir(dir)
        .args(["run", "--json", "-i"])
        .arg(&inv)
        .arg(&pb)
        .output()
        .unwrap()
}

#[test]
fn netconfd_get_edit_commit_and_errors() {
    let nc = Netconfd::start();
    let dir = tempfile::tempdir().unwrap();
    let pb = format!(
        r#"
- hosts: r1
  gather_facts: false
  tasks:
    - name: caps
      ansible.netcommon.netconf_get:
        source: running
      register: empty
    - name: add eth0
      ansible.netcommon.netconf_config:
        content: |
          <config>
            <interfaces xmlns="{IF_NS}">
              <interface>
                <name>eth0</name>
                <description>uplink</description>
                <type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:ethernetCsmacd</type>
              </interface>
            </interfaces>
          </config>
      register: added
    - name: same again
      netconf_config:
        content:
          interfaces:
            "@xmlns": {IF_NS}
            interface:
              name: eth0
              description: uplink
      register: again
    - name: read back
      netconf_get:
        source: running
        filter: <interfaces xmlns="{IF_NS}"/>
        display: json
      register: got
    - name: check
      assert:
        that:
          - added is changed
          - "'urn:ietf:params:netconf:capability:candidate:1.0' in added.server_capabilities"
          - again is not changed
          - got.output.data.interfaces.interface.name == 'eth0'
          - got.output.data.interfaces.interface.description == 'uplink'
          - "'<description>uplink</description>' in got.stdout"
    - name: bad
      netconf_config:
        content: <interfaces xmlns="{IF_NS}"><interface><name>eth1</name><no-such-leaf>1</no-such-leaf></interface></interfaces>
      ignore_errors: true
      register: bad
    - name: candidate clean
      netconf_get:
        source: candidate
        filter: <interfaces xmlns="{IF_NS}"/>
      register: cand
    - name: xpath
      netconf_get:
        source: running
        filter: ["/if:interfaces/if:interface[if:name='eth0']/if:description", {{if: "{IF_NS}"}}]
        display: pretty
      register: xp
    - name: rpc
      ansible.netcommon.netconf_rpc:
        rpc: get-config
        xmlns: urn:ietf:params:xml:ns:netconf:base:1.0
        content: <source><candidate/></source>
        display: json
      register: rpc
    - name: check errors
      assert:
        that:
          - bad is failed
          - "'no-such-leaf' in bad.msg or 'unknown-element' in bad.msg"
          - "'eth1' not in cand.stdout"
          - "'<description>uplink</description>' in xp.output"
          - "'xmlns' not in xp.output"
          - "rpc.output['rpc-reply'].data.interfaces.interface.name == 'eth0'"
"#
    );
    let out = run(&nc, dir.path(), &pb);
    let doc = json_of(&out);
    assert!(
        out.status.success(),
        "{doc:#}\nstderr: {}\nnetconfd: {}",
        String::from_utf8_lossy(&out.stderr),
        nc.log()
    );
    let bad = results(&doc, "bad");
    let msg = bad[0]["msg"].as_str().unwrap();
    assert!(msg.contains("edit-config on candidate failed"), "{msg}");
    assert!(
        msg.contains("unknown-element") && msg.contains("[path /nc:rpc/nc:edit-config"),
        "{msg}"
    );
}

#[test]
fn netconfd_confirmed_commit_rolls_back_or_is_confirmed() {
    let nc = Netconfd::start();
    let dir = tempfile::tempdir().unwrap();
    let pb = format!(
        r##"
- hosts: r1
  gather_facts: false
  tasks:
    - name: unconfirmed
      netconf_config:
        content:
          interfaces:
            "@xmlns": {IF_NS}
            interface:
              name: lo9
              type:
                "@xmlns:ianaift": urn:ietf:params:xml:ns:yang:iana-if-type
                "#text": ianaift:softwareLoopback
        confirm: 2
    - name: rolled back by then
      wait_for:
        seconds: 4
    - name: after rollback
      netconf_get:
        source: running
        filter: <interfaces xmlns="{IF_NS}"/>
      register: gone
    - name: persisted
      netconf_config:
        content: <interfaces xmlns="{IF_NS}"><interface><name>lo8</name><type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:softwareLoopback</type></interface></interfaces>
        confirm: 30
        persist: change-42
      register: pending
    - name: confirm it
      netconf_config:
        confirm_commit: true
        persist_id: change-42
      register: confirmed
    - name: after confirm
      netconf_get:
        source: running
        filter: <interfaces xmlns="{IF_NS}"/>
        display: json
      register: kept
    - assert:
        that:
          - "'lo9' not in gone.stdout"
          - pending is changed
          - confirmed is changed
          - kept.output.data.interfaces.interface.name == 'lo8'
"##
    );
    let out = run(&nc, dir.path(), &pb);
    assert!(
        out.status.success(),
        "{}\nnetconfd: {}",
        String::from_utf8_lossy(&out.stdout),
        nc.log()
    );
}

#[test]
fn backup_over_netconf_and_backup_via() {
    let nc = Netconfd::start();
    let dir = tempfile::tempdir().unwrap();
    let pb = format!(
        r#"
- hosts: r1
  gather_facts: false
  tasks:
    - netconf_config:
        content: <interfaces xmlns="{IF_NS}"><interface><name>eth7</name><description>core &amp; edge</description><type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:ethernetCsmacd</type></interface></interfaces>
"#
    );
    let out = run(&nc, dir.path(), &pb);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A NETCONF host: backup reads running over its own connection.
    let store = dir.path().join("store");
    let inv = nc.inventory(dir.path(), "");
    let out = netorch()
        .current_dir(dir.path())
        .args(["backup", "--json", "-i"])
        .arg(&inv)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let saved = std::fs::read_to_string(store.join("r1.cfg")).unwrap();
    assert!(saved.contains("<name>eth7</name>"), "{saved}");
    assert!(saved.contains("core &amp; edge"), "{saved}");
    roxmltree::Document::parse(&format!("<w>{saved}</w>")).expect("the backup is XML");

    // An SSH host with `backup_via: netconf`: a NETCONF session of its own on netconf_port.
    let store2 = dir.path().join("store2");
    let inv2 = write(
        dir.path(),
        "inv2.yml",
        &format!(
            "all:\n  hosts:\n    r2:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n      backup_via: netconf\n      netconf_port: {}\n      user: {}\n      private_key_file: {}\n      known_hosts_file: {}\n      auth_methods: [publickey]\n",
            nc.sshd.port,
            crate::util::sshd::current_user(),
            nc.sshd.client_key.display(),
            nc.sshd.known_hosts_file().display()
        ),
    );
    let out = netorch()
        .current_dir(dir.path())
        .args(["backup", "--json", "-i"])
        .arg(&inv2)
        .arg("--store")
        .arg(&store2)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let saved2 = std::fs::read_to_string(store2.join("r2.cfg")).unwrap();
    assert_eq!(saved, saved2);

    // A typo in backup_via is a clear error, before any connection.
    let inv3 = write(
        dir.path(),
        "inv3.yml",
        "all:\n  hosts:\n    r3:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n      backup_via: netconff\n",
    );
    let out = netorch()
        .current_dir(dir.path())
        .args(["backup", "--json", "-i"])
        .arg(&inv3)
        .arg("--store")
        .arg(dir.path().join("store3"))
        .output()
        .unwrap();
    let doc = json_of(&out);
    assert!(!out.status.success());
    assert!(
        doc.to_string()
            .contains("`backup_via: netconff` is not a way to fetch configs"),
        "{doc:#}"
    );
}

/// An inventory of the sim's devices over NETCONF (the sim serves the `netconf` subsystem
/// on its SSH port); `extra`: more `all.vars` entries.
fn sim_netconf_inventory(
    sim: &crate::util::sim::Sim,
    extra: &[(&str, serde_json::Value)],
) -> std::path::PathBuf {
    let mut hosts = serde_json::Map::new();
    for h in &sim.hosts {
        let mut vars = h.vars.clone();
        vars.insert("connection".into(), "netconf".into());
        for (k, v) in extra {
            vars.insert((*k).into(), v.clone());
        }
        hosts.insert(h.name.clone(), serde_json::Value::Object(vars));
    }
    let inv = serde_json::json!({"all": {"hosts": hosts}});
    write(
        sim.dir.path(),
        "netconf-inventory.yml",
        &serde_yaml::to_string(&inv).unwrap(),
    )
}

#[test]
fn sim_junos_netconf_end_to_end() {
    let sim = crate::util::sim::Sim::with("juniper_junos", 1).start();
    let inv = sim_netconf_inventory(&sim, &[]);
    let pb = write(
        sim.dir.path(),
        "junos.yml",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: facts
      junipernetworks.junos.junos_command:
        commands: show version
      register: ver
    - name: software
      ansible.netcommon.netconf_rpc:
        rpc: get-software-information
        display: json
      register: sw
    - name: hostname
      ansible.netcommon.netconf_config:
        content: |
          <config>
            <configuration>
              <system><host-name>nc-edge-1</host-name></system>
              <interfaces><interface><name>ge-0/0/9</name><description>to core</description></interface></interfaces>
            </configuration>
          </config>
      register: cfg
    - name: read
      ansible.netcommon.netconf_get:
        source: running
        filter: <configuration><system/></configuration>
        display: json
      register: got
    - name: unknown rpc
      netconf_rpc:
        rpc: get-no-such-thing
      ignore_errors: true
      register: bad
    - assert:
        that:
          - "'Model: vsrx' in ver.stdout[0]"
          - sw.output['rpc-reply']['software-information']['junos-version'] == '21.4R3.15'
          - cfg is changed
          - got.output.data.configuration.system['host-name'] == 'nc-edge-1'
          - bad is failed
          - "'operation-not-supported' in bad.msg"
"#,
    );
    let out = sim
        .netorch("run")
        .arg(&pb)
        .args(["-i"])
        .arg(&inv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // exec over NETCONF: Junos's <command> RPC.
    let out = crate::util::netorch()
        .current_dir(sim.dir.path())
        .args(["exec", "-i"])
        .arg(&inv)
        .arg("show version")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Model: vsrx"),
        "{text}"
    );

    // backup over NETCONF: Junos's text form of the committed config.
    let store = sim.dir.path().join("store");
    let out = crate::util::netorch()
        .current_dir(sim.dir.path())
        .args(["backup", "--json", "-i"])
        .arg(&inv)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let saved = std::fs::read_to_string(store.join("junos-001.cfg")).unwrap();
    assert!(saved.contains("host-name nc-edge-1;"), "{saved}");
    assert!(saved.contains("description \"to core\";"), "{saved}");
}

#[test]
fn sim_netconf_lying_servers_are_clear_errors() {
    // Floods without a frame end: stopped at max_output, not read forever.
    let sim = crate::util::sim::Sim::with("juniper_junos", 1)
        .args(&["--fail", "junos-001=flood-after:1"])
        .start();
    let inv = sim_netconf_inventory(&sim, &[("max_output", "64k".into())]);
    let pb = write(
        sim.dir.path(),
        "get.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: get\n      netconf_get: {source: running}\n",
    );
    let t = std::time::Instant::now();
    let out = sim
        .netorch("run")
        .arg(&pb)
        .args(["--json", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    let doc = json_of(&out);
    let r = &results(&doc, "get")[0];
    let msg = r["msg"].as_str().unwrap_or_default();
    assert!(
        msg.contains("larger than") && msg.contains("max_output"),
        "{doc:#}"
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(30));

    // Never answers: the command timeout ends it.
    let sim = crate::util::sim::Sim::with("juniper_junos", 1)
        .args(&["--fail", "junos-001=hang-after:1"])
        .start();
    let inv = sim_netconf_inventory(&sim, &[("command_timeout", 2.into())]);
    let t = std::time::Instant::now();
    let out = sim
        .netorch("run")
        .arg(&pb)
        .args(["--json", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    let doc = json_of(&out);
    let r = &results(&doc, "get")[0];
    let msg = r["msg"].as_str().unwrap_or_default();
    assert!(
        msg.contains("waiting for a complete NETCONF message) timed out after 2.0s"),
        "{doc:#}"
    );
    assert!(
        t.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn netconfd_check_mode_and_bad_arguments() {
    let nc = Netconfd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = nc.inventory(dir.path(), "");
    let pb = write(
        dir.path(),
        "check.yml",
        &format!(
            r#"
- hosts: r1
  gather_facts: false
  tasks:
    - name: try
      netconf_config:
        content: <interfaces xmlns="{IF_NS}"><interface><name>eth3</name><type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:ethernetCsmacd</type></interface></interfaces>
"#
        ),
    );
    let out = netorch()
        .current_dir(dir.path())
        .args(["run", "--json", "--check", "--diff", "-i"])
        .arg(&inv)
        .arg(&pb)
        .output()
        .unwrap();
    let doc = json_of(&out);
    let r = &results(&doc, "try")[0];
    assert_eq!(r["status"], "changed", "{doc:#}");
    assert!(
        r["diff"]
            .as_str()
            .unwrap()
            .contains("+    <name>eth3</name>"),
        "{doc:#}"
    );
    // Nothing was committed, and the candidate was discarded.
    let pb2 = write(
        dir.path(),
        "read.yml",
        "- hosts: r1\n  gather_facts: false\n  tasks:\n    - {name: read, netconf_get: {source: candidate}, register: c}\n    - assert: {that: [\"'eth3' not in c.stdout\"]}\n",
    );
    let out = run_file(&inv, dir.path(), &pb2);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A misspelt argument is refused before any device is touched.
    let pb3 = write(
        dir.path(),
        "typo.yml",
        "- hosts: r1\n  gather_facts: false\n  tasks:\n    - netconf_get: {sorce: running}\n",
    );
    let out = netorch()
        .current_dir(dir.path())
        .args(["check", "-i"])
        .arg(&inv)
        .arg(&pb3)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("sorce") && err.contains("typo.yml:4"), "{err}");
}

fn run_file(
    inv: &std::path::Path,
    dir: &std::path::Path,
    pb: &std::path::Path,
) -> std::process::Output {
    netorch()
        .current_dir(dir)
        .args(["run", "-i"])
        .arg(inv)
        .arg(pb)
        .output()
        .unwrap()
}

#[test]
fn sim_without_netconf_and_cli_hosts_get_hints() {
    let sim = crate::util::sim::Sim::with("cisco_ios", 1).start();
    let pb = write(
        sim.dir.path(),
        "get.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: get\n      netconf_get: {}\n",
    );
    // Over SSH: refused before any connection, saying what connection it needs.
    let out = sim.netorch("run").arg(&pb).arg("--json").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("NETCONF operations cannot run over ssh")
            && err.contains("ansible.netcommon.netconf"),
        "{err}"
    );
    // With the failure expected (`ignore_errors`), the run goes ahead and the action
    // itself says what it needs.
    let tolerant = write(
        sim.dir.path(),
        "get-tolerant.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: get\n      netconf_get: {}\n      ignore_errors: true\n",
    );
    let out = sim
        .netorch("run")
        .arg(&tolerant)
        .arg("--json")
        .output()
        .unwrap();
    let doc = json_of(&out);
    let msg = results(&doc, "get")[0]["msg"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        msg.contains("needs a NETCONF connection") && msg.contains("ansible.netcommon.netconf"),
        "{doc:#}"
    );
    // Over NETCONF to a device without the subsystem: a hint, not a hang.
    let inv = sim_netconf_inventory(&sim, &[]);
    let out = sim
        .netorch("run")
        .arg(&pb)
        .args(["--json", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    let doc = json_of(&out);
    let msg = results(&doc, "get")[0]["msg"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        msg.contains("netconf") && msg.contains("is NETCONF enabled"),
        "{doc:#}"
    );
}

#[test]
fn play_connection_keyword_selects_netconf() {
    let sim = crate::util::sim::Sim::with("juniper_junos", 1).start();
    // The sim's own inventory names no connection: the play's keyword decides.
    let pb = write(
        sim.dir.path(),
        "play.yml",
        r#"
- hosts: all
  gather_facts: false
  connection: ansible.netcommon.netconf
  tasks:
    - name: software
      netconf_rpc: {rpc: get-software-information}
      register: sw
    - name: cli config
      junos_config:
        lines: [set system host-name x]
      ignore_errors: true
      register: cli
    - assert:
        that:
          - "'vsrx' in sw.stdout"
          - cli is failed
          - "'use netconf_config' in cli.msg"
"#,
    );
    let out = sim.netorch("run").arg(&pb).output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn netconfd_src_backup_and_reply_cap() {
    let nc = Netconfd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = nc.inventory(dir.path(), "      if_descr: from a file\n");
    write(
        dir.path(),
        "files/eth5.xml",
        &format!("<interfaces xmlns=\"{IF_NS}\"><interface><name>eth5</name><description>{{{{ if_descr }}}}</description><type xmlns:ianaift=\"urn:ietf:params:xml:ns:yang:iana-if-type\">ianaift:ethernetCsmacd</type></interface></interfaces>"),
    );
    let pb = write(
        dir.path(),
        "src.yml",
        r#"
- hosts: r1
  gather_facts: false
  tasks:
    - name: from src
      netconf_config:
        src: files/eth5.xml
        backup: yes
      register: cfg
    - name: read
      netconf_get:
        source: running
        display: json
      register: got
    - assert:
        that:
          - cfg is changed
          - cfg.backup_path is defined
          - got.output.data.interfaces.interface.description == 'from a file'
    - name: capped
      netconf_get: {}
      max_output: 4096
"#,
    );
    let out = netorch()
        .current_dir(dir.path())
        .args(["run", "--json", "-i"])
        .arg(&inv)
        .arg(&pb)
        .output()
        .unwrap();
    let doc = json_of(&out);
    let cfg = &results(&doc, "from src")[0];
    assert_eq!(cfg["status"], "changed", "{doc:#}");
    let backup = cfg["data"]["backup_path"].as_str().unwrap();
    assert!(backup.contains("/backup/r1_config."), "{backup}");
    // The backup is running before the change: no eth5 yet.
    let before = std::fs::read_to_string(backup).unwrap();
    assert!(
        !before.contains("eth5") && before.contains("nacm"),
        "{before}"
    );
    let capped = &results(&doc, "capped")[0];
    let msg = capped["msg"].as_str().unwrap_or_default();
    assert!(msg.contains("larger than 4096 bytes"), "{doc:#}");
}
