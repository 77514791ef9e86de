//! Issue 12, "no injection" and "secrets stay secret": values that try to smuggle a second
//! command, a template or a terminal escape, and secrets that must not reach any output,
//! backup or child process. Each test drives netorch against real parts started here.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Value};

use crate::util::report::{host_results, json_of};
use crate::util::sshd::{self, Sshd};
use crate::util::{netorch, sim::Sim};

const PASSWORD: &str = "Seal-Passw0rd-5521";
const ENABLE: &str = "Seal-En4ble-6632";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// An inventory of the sim's devices under other names and with more host variables:
/// `hosts` maps a new name to (sim device, extra vars).
fn inventory(sim: &Sim, file: &str, hosts: &[(&str, &str, Value)]) -> PathBuf {
    let mut out = serde_json::Map::new();
    for (name, device, extra) in hosts {
        let mut vars = sim.vars(device);
        if let Some(o) = extra.as_object() {
            for (k, v) in o {
                vars.insert(k.clone(), v.clone());
            }
        }
        out.insert(name.to_string(), Value::Object(vars));
    }
    let doc = json!({"all": {"hosts": out}});
    write(sim.dir.path(), file, &serde_yaml::to_string(&doc).unwrap())
}

fn run(sim: &Sim, inv: &Path, playbook: &Path, args: &[&str]) -> Output {
    netorch()
        .current_dir(sim.dir.path())
        .arg("run")
        .arg("-i")
        .arg(inv)
        .arg(playbook)
        .args(args)
        .output()
        .unwrap()
}

fn ios(n: usize) -> Sim {
    Sim::with("cisco_ios", n)
        .password(PASSWORD)
        .enable_secret(ENABLE)
        .start()
}

#[test]
fn a_variable_cannot_smuggle_a_second_command_or_config_line() {
    let sim = ios(1);
    let dev = sim.hosts[0].name.clone();
    let inv = inventory(
        &sim,
        "inv.yaml",
        &[(
            "r1",
            &dev,
            json!({"intf": "Gi1/0/1\nshow version", "desc": "uplink\r\nusername evil privilege 15 secret x",
                   "dir": "flash:\nshow version"}),
        )],
    );
    let pb = write(
        sim.dir.path(),
        "pb.yml",
        r#"
- name: Injection
  hosts: all
  gather_facts: false
  tasks:
    - name: Show
      command: "show interface {{ intf }}"
      ignore_errors: true
    - name: Push
      config:
        lines: ["description {{ desc }}"]
        parents: ["interface Gi1/0/2"]
      ignore_errors: true
    - name: Written on two lines by the author
      command: |
        show clock
        show users
    - name: Readback
      command: show running-config
"#,
    );
    // Validation renders every field before the run: nothing is sent at all.
    let out = run(&sim, &inv, &pb, &["--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("`intf`") && err.contains("`desc`") && err.contains("line break"),
        "{err}"
    );
    assert!(
        !err.contains("show version"),
        "the value is not quoted: {err}"
    );
    assert!(out.stdout.is_empty(), "a refused run reports no host");

    // A value known only at run time (a registered output of several lines) is refused
    // by the task that would send it; the author's own two lines still go as two.
    let pb = write(
        sim.dir.path(),
        "pb2.yml",
        r#"
- name: Injection at run time
  hosts: all
  gather_facts: false
  tasks:
    - name: Version
      command: show version
      register: ver
    - name: Show
      command: "show interface {{ ver.stdout }}"
      ignore_errors: true
    - name: Written on two lines by the author
      command: |
        show clock
        show users
"#,
    );
    let out = run(&sim, &inv, &pb, &["--json"]);
    let doc = json_of(&out);
    let results = host_results(&doc);
    let show = &results[1];
    assert_eq!(show["status"], "failed", "{show:#}");
    let msg = show["msg"].as_str().unwrap_or_default();
    assert!(
        msg.contains("`ver.stdout`") && msg.contains("line break"),
        "{msg}"
    );
    assert!(
        show["commands"].as_array().is_none_or(Vec::is_empty),
        "{show:#}"
    );
    assert_eq!(results[2]["status"], "ok", "{:#}", results[2]);
}

#[test]
fn values_from_variables_env_and_files_are_rendered_once() {
    let sim = ios(1);
    let dev = sim.hosts[0].name.clone();
    let canary = write(sim.dir.path(), "canary.txt", "CANARY-7f3e");
    let smuggled = format!("{{{{ lookup('file', '{}') }}}}", canary.display());
    let note = write(sim.dir.path(), "note.txt", &smuggled);
    let inv = inventory(
        &sim,
        "inv.yaml",
        &[(
            "{{7-6}}",
            &dev,
            json!({"from_file": format!("{{{{ lookup('file', '{}') }}}}", note.display())}),
        )],
    );
    let pb = write(
        sim.dir.path(),
        "pb.yml",
        r#"
- name: Once
  hosts: all
  vars:
    from_env: "{{ lookup('env', 'SEAL_NOTE') }}"
    chained: "{{ from_env }}"
  tasks:
    - name: Show
      debug:
        msg: "name={{ inventory_hostname }} env={{ from_env }} chain={{ chained }} file={{ from_file }}"
"#,
    );
    let out = netorch()
        .current_dir(sim.dir.path())
        .env("SEAL_NOTE", &smuggled)
        .args(["run", "-i"])
        .arg(&inv)
        .arg(&pb)
        .arg("--json")
        .output()
        .unwrap();
    let doc = json_of(&out);
    let r = &host_results(&doc)[0];
    assert_eq!(r["status"], "ok", "{r:#}");
    let all = doc.to_string();
    assert!(
        !all.contains("CANARY-7f3e"),
        "a value was rendered twice: {all}"
    );
    let msg = r["data"]["debug"].as_str().unwrap_or_default();
    assert_eq!(
        msg,
        format!("name={{{{7-6}}}} env={smuggled} chain={smuggled} file={smuggled}"),
        "{r:#}"
    );
}

/// Config lines that hold a secret, in IOS syntax, and the secret each holds.
const IOS_SECRET_LINES: &[(&str, &str)] = &[
    ("snmp-server community Comm-Seal-1 RO", "Comm-Seal-1"),
    (
        "snmp-server user mon v3grp v3 auth sha Auth-Seal-2 priv aes 128 Priv-Seal-3",
        "Auth-Seal-2",
    ),
    ("ntp authentication-key 1 md5 Ntp-Seal-4 7", "Ntp-Seal-4"),
    ("tacacs-server key Tac-Seal-5", "Tac-Seal-5"),
    (
        "crypto isakmp key Ike-Seal-6 address 192.0.2.1",
        "Ike-Seal-6",
    ),
    (
        "username ops privilege 15 secret 0 User-Seal-7",
        "User-Seal-7",
    ),
];

fn secret_push_playbook(dir: &Path) -> PathBuf {
    let lines: Vec<String> = IOS_SECRET_LINES
        .iter()
        .map(|(l, _)| format!("          - \"{l}\""))
        .collect();
    write(
        dir,
        "secrets.yml",
        &format!(
            r#"
- name: Secrets
  hosts: all
  tasks:
    - name: Push
      config:
        lines:
{}
          - "snmp-server location rack-{{{{ password }}}}"
    - name: Backup
      backup:
        store: store
"#,
            lines.join("\n")
        ),
    )
}

#[test]
fn backups_and_diffs_mask_what_the_platform_stores_and_the_run_secrets() {
    let sim = ios(1);
    let pb = secret_push_playbook(sim.dir.path());
    let out = run(&sim, &sim.inventory, &pb, &["--diff"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored = std::fs::read_to_string(
        sim.dir
            .path()
            .join("store")
            .join(format!("{}.cfg", sim.hosts[0].name)),
    )
    .unwrap();
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for secret in IOS_SECRET_LINES
        .iter()
        .map(|(_, s)| *s)
        .chain(["Priv-Seal-3", PASSWORD])
    {
        assert!(!stored.contains(secret), "{secret} stored:\n{stored}");
        assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
    }
    assert!(
        stored.contains("snmp-server community ******** RO"),
        "{stored}"
    );
    assert!(
        stored.contains("snmp-server location rack-********"),
        "{stored}"
    );
    // The diff still shows which lines changed.
    assert!(
        shown.contains("+snmp-server community ******** RO"),
        "{shown}"
    );

    // --show-secrets reveals the platform's secrets for one run; the inventory's stay masked.
    let pb = write(
        sim.dir.path(),
        "more.yml",
        r#"
- name: More
  hosts: all
  tasks:
    - name: Push
      config:
        lines: ["snmp-server community Comm-Seal-8 RW", "snmp-server contact {{ password }}"]
"#,
    );
    let out = run(&sim, &sim.inventory, &pb, &["--diff", "--show-secrets"]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("+snmp-server community Comm-Seal-8 RW"),
        "{shown}"
    );
    assert!(!shown.contains(PASSWORD), "{shown}");
}

/// A Linux host on the test sshd, reached with the test key.
fn sshd_inventory(d: &Sshd, dir: &Path, extra: &str) -> PathBuf {
    let inv = format!(
        "all:\n  vars:\n    host: 127.0.0.1\n    port: {}\n    user: {}\n    private_key_file: {}\n    known_hosts_file: {}\n    auth_methods: [publickey]\n    platform: linux\n{extra}  hosts:\n    h0:\n",
        d.port,
        sshd::current_user(),
        d.client_key.display(),
        d.known_hosts_file().display(),
    );
    write(dir, "inventory.yml", &inv)
}

#[test]
fn exec_output_reaches_the_terminal_with_control_characters_escaped() {
    let d = Sshd::start("");
    let work = tempfile::tempdir().unwrap();
    let inv = sshd_inventory(&d, work.path(), "");
    // Window title, clear screen, clipboard (OSC 52), a C1 CSI and a carriage return.
    let cmd = r"printf 'a\033]0;pwned\007b\033[2Jc\033]52;c;aGk=\007d\302\233e\rf\n'";
    let exec = netorch()
        .current_dir(work.path())
        .args(["exec", "-v", "-i"])
        .arg(&inv)
        .arg(cmd)
        .output()
        .unwrap();
    let pb = write(
        work.path(),
        "pb.yml",
        &format!(
            "- hosts: all\n  tasks:\n    - command: \"{}\"\n",
            cmd.replace('\\', "\\\\")
        ),
    );
    let run = netorch()
        .current_dir(work.path())
        .args(["run", "-vv", "-i"])
        .arg(&inv)
        .arg(&pb)
        .output()
        .unwrap();
    for (what, out) in [("exec", &exec), ("run", &run)] {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(
            !text.contains(['\x1b', '\x07', '\u{9b}', '\r']),
            "{what}: raw control characters reached the terminal: {text:?}"
        );
        assert!(text.contains(r"a\x1b]0;pwned\x07b"), "{what}: {text}");
    }
    // The JSON report keeps the output as data.
    let json = netorch()
        .current_dir(work.path())
        .args(["exec", "--json", "-i"])
        .arg(&inv)
        .arg(cmd)
        .output()
        .unwrap();
    let doc = json_of(&json);
    assert!(doc.to_string().contains("\\u001b]0;pwned"), "{doc}");
}

#[test]
fn host_names_are_checked_at_load_and_rerun_failed_matches_them_exactly() {
    let sim = ios(2);
    let (a, b) = (sim.hosts[0].name.clone(), sim.hosts[1].name.clone());
    let conn = |dev: &str| serde_json::to_string(&Value::Object(sim.vars(dev))).unwrap();
    // A host name a pattern would misread: refused with the file and the line.
    let bad = write(
        sim.dir.path(),
        "bad.yaml",
        &format!(
            "all:\n  hosts:\n    good: {}\n    \"sw*\": {}\n",
            conn(&a),
            conn(&b)
        ),
    );
    let out = netorch()
        .current_dir(sim.dir.path())
        .args(["inventory", "list", "-i"])
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("bad.yaml") && err.contains(":4") && err.contains("`sw*`"),
        "{err}"
    );

    // A host that is also the name of a group: the group's hosts are not "the failed host".
    let inv = write(
        sim.dir.path(),
        "inv.yaml",
        &format!(
            "all:\n  hosts:\n    dist: {}\n  children:\n    dist:\n      hosts:\n        d2: {}\n",
            conn(&a),
            conn(&b)
        ),
    );
    let pb = write(
        sim.dir.path(),
        "pb.yml",
        "- hosts: all\n  tasks:\n    - name: Maybe fail\n      fail: { msg: boom }\n      when: inventory_hostname == 'dist' and not (again | default(false))\n",
    );
    let first = run(&sim, &inv, &pb, &["--json"]);
    assert_eq!(
        first.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let rerun = run(
        &sim,
        &inv,
        &pb,
        &["--json", "--rerun-failed", "-e", "again=true"],
    );
    let doc = json_of(&rerun);
    let hosts: Vec<String> = host_results(&doc)
        .iter()
        .map(|r| r["host"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(hosts, vec!["dist"], "{doc:#}");
}

#[test]
fn backup_store_is_private_and_links_in_its_working_tree_are_not_followed() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let sim = ios(1);
    let dev = sim.hosts[0].name.clone();
    let store = sim.dir.path().join("store");
    let backup = || {
        netorch()
            .current_dir(sim.dir.path())
            .args(["backup", "-i"])
            .arg(&sim.inventory)
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap()
    };
    let out = backup();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let cfg = store.join(format!("{dev}.cfg"));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&store), mode(&cfg)), (0o700, 0o600));
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(&store)
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert!(
        status.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    // The device file becomes a link to a file of the user's; the device changes.
    let victim = sim.dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::remove_file(&cfg).unwrap();
    symlink(&victim, &cfg).unwrap();
    let pb = write(
        sim.dir.path(),
        "change.yml",
        "- hosts: all\n  tasks:\n    - config: { lines: ['snmp-server location seal-lab'] }\n",
    );
    let out = run(&sim, &sim.inventory, &pb, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = backup();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(std::fs::read_to_string(&cfg).unwrap().contains("seal-lab"));
}

/// A `git` first on PATH that records its command line and the credentials it was given,
/// then fails or succeeds as `tests/seal-git-ok` says.
fn fake_git(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("git.log");
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"argv: $*\" >> {log}\nprintf '%s\\n' \"env: $NETORCH_GIT_USERNAME $NETORCH_GIT_PASSWORD\" >> {log}\n\
         if [ -e {ok} ]; then exit 0; fi\necho \"fatal: unable to access '$5': Could not connect\" >&2\nexit 128\n",
        log = log.display(),
        ok = dir.join("git-ok").display()
    );
    let git = bin.join("git");
    std::fs::write(&git, script).unwrap();
    std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn push_url_credentials_are_never_shown_nor_on_a_command_line_and_failed_pushes_retry() {
    const TOKEN: &str = "ghp_SealT0ken4242";
    let sim = ios(1);
    let dir = sim.dir.path();
    let bin = fake_git(dir);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let url = format!("https://bot:{TOKEN}@127.0.0.1:9/net/backups.git");
    let backup = |extra: &[&str]| {
        netorch()
            .current_dir(dir)
            .env("PATH", &path)
            .args(["backup", "-i"])
            .arg(&sim.inventory)
            .args(["--store", "store", "--push", &url])
            .args(extra)
            .output()
            .unwrap()
    };
    let log = || std::fs::read_to_string(dir.join("git.log")).unwrap_or_default();
    let argv_count = || log().lines().filter(|l| l.starts_with("argv:")).count();
    let first = backup(&["--json"]);
    let after_first = argv_count();
    let second = backup(&[]);
    for out in [&first, &second] {
        let all = text(out);
        assert_ne!(out.status.code(), Some(0), "{all}");
        assert!(!all.contains(TOKEN), "{all}");
        assert!(
            all.contains("https://bot:********@127.0.0.1:9/net/backups.git"),
            "{all}"
        );
    }
    // Nothing changed in the second run, yet the failed push was tried again.
    let argv: Vec<String> = log()
        .lines()
        .filter(|l| l.starts_with("argv:"))
        .map(String::from)
        .collect();
    // (each push fetches first; a new store also tries to start from the remote)
    assert!(argv.len() > after_first && after_first > 0, "{}", log());
    for a in &argv {
        assert!(!a.contains(TOKEN), "{a}");
        assert!(a.contains("https://127.0.0.1:9/net/backups.git"), "{a}");
    }
    assert!(log().contains(&format!("env: bot {TOKEN}")), "{}", log());
    // Once a push succeeds, an unchanged run does not push again.
    std::fs::write(dir.join("git-ok"), "").unwrap();
    let before = argv_count();
    assert_eq!(backup(&[]).status.code(), Some(0));
    let pushed = argv_count();
    assert_eq!(pushed, before + 2, "a fetch and a push: {}", log());
    assert_eq!(backup(&[]).status.code(), Some(0));
    assert_eq!(argv_count(), pushed, "{}", log());
}

#[test]
fn daemon_jobs_get_extra_vars_and_push_urls_outside_their_command_line() {
    const SECRET: &str = "Daemon-Seal-Secret-77";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "inv.yml",
        "all:\n  hosts:\n    a1: {host: 127.0.0.1, port: 1}\n",
    );
    write(
        d,
        "pb.yml",
        "- hosts: all\n  tasks:\n    - debug: {msg: hi}\n",
    );
    write(
        d,
        "s.yml",
        &format!(
            "jobs:\n  - {{name: play, every: 1h, playbook: pb.yml, inventory: inv.yml, extra_vars: {{api_token: {SECRET}}}}}\n\
             \x20 - {{name: bk, every: 1h, backup: {{store: st, push: 'https://bot:{SECRET}@127.0.0.1:9/b.git'}}, inventory: inv.yml}}\n"
        ),
    );
    let out = netorch()
        .current_dir(d)
        .args(["daemon", "--check", "--config", "s.yml"])
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(!all.contains(SECRET), "{all}");
    assert!(all.contains("NETORCH_EXTRA_VARS=********"), "{all}");
    assert!(
        all.contains("NETORCH_BACKUP_PUSH=https://bot:********@127.0.0.1:9/b.git"),
        "{all}"
    );
    // The child reads them from its environment, as the daemon gives them.
    let out = netorch()
        .current_dir(d)
        .env("NETORCH_EXTRA_VARS", format!("{{\"who\": \"{SECRET}\"}}"))
        .args(["run", "-i", "inv.yml", "--json"])
        .arg(write(
            d,
            "who.yml",
            "- hosts: all\n  tasks:\n    - debug: {msg: '{{ who | length }}'}\n",
        ))
        .output()
        .unwrap();
    let doc = json_of(&out);
    assert_eq!(
        host_results(&doc)[0]["data"]["debug"],
        SECRET.len().to_string(),
        "{doc}"
    );
}

#[test]
fn a_revoked_host_key_is_refused_even_in_accept_new_and_cert_authorities_are_reported() {
    let d = Sshd::start("");
    let work = tempfile::tempdir().unwrap();
    let kh = work.path().join("known_hosts");
    let key = d.known_hosts_line.split_once(' ').unwrap().1;
    let inv_for = |marker: &str| {
        std::fs::write(&kh, format!("{marker}\n")).unwrap();
        let inv = sshd_inventory(&d, work.path(), "    host_key_checking: accept-new\n");
        // Point the host at this test's own known_hosts file.
        let text = std::fs::read_to_string(&inv).unwrap();
        let text = text.replace(
            &format!("known_hosts_file: {}", d.known_hosts_file().display()),
            &format!("known_hosts_file: {}", kh.display()),
        );
        std::fs::write(&inv, text).unwrap();
        inv
    };
    let exec = |inv: &Path| {
        netorch()
            .current_dir(work.path())
            .args(["exec", "-i"])
            .arg(inv)
            .arg("true")
            .output()
            .unwrap()
    };
    let inv = inv_for(&format!("@revoked [127.0.0.1]:{} {key}", d.port));
    let out = exec(&inv);
    let all = text(&out);
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("REVOKED"), "{all}");
    // Nothing was recorded for the revoked key.
    assert_eq!(std::fs::read_to_string(&kh).unwrap().lines().count(), 1);

    let inv = inv_for(&format!("@cert-authority [127.0.0.1]:* {key}"));
    let out = exec(&inv);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("@cert-authority is not supported"), "{all}");
}

#[test]
fn a_jump_host_never_sees_the_device_password() {
    let bastion = Sshd::start("");
    let sim = ios(1);
    let dev = sim.hosts[0].name.clone();
    let kh = sim.dir.path().join("both_known_hosts");
    std::fs::write(
        &kh,
        format!(
            "{}{}\n",
            std::fs::read_to_string(&sim.known_hosts).unwrap(),
            bastion.known_hosts_line
        ),
    )
    .unwrap();
    let inv = inventory(
        &sim,
        "jump.yaml",
        &[(
            "r1",
            &dev,
            json!({
                "known_hosts_file": kh.display().to_string(),
                "ssh_jump": format!("{}@127.0.0.1:{}", sshd::current_user(), bastion.port),
                "private_key_file": bastion.client_key.display().to_string(),
                // Password first: the bastion would be offered the device's password first.
                "auth_methods": ["password", "publickey"],
            }),
        )],
    );
    let out = netorch()
        .current_dir(sim.dir.path())
        .args(["exec", "-i"])
        .arg(&inv)
        .arg("show clock")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out),
        bastion.log()
    );
    let log = bastion.log();
    assert!(log.contains("Accepted publickey"), "{log}");
    assert!(
        !log.contains("password"),
        "the bastion was offered a password:\n{log}"
    );
}

#[test]
fn ftp_passwords_stay_out_of_logs_pasv_cannot_redirect_and_ssh_passwords_are_not_reused() {
    let Some(f) = crate::util::ftpd::Ftpd::start_with(false, "127.0.0.2") else {
        eprintln!("skipped: needs root for the FTP test account");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let src = write(work.path(), "cfg.txt", "hostname r1\n");
    let pb = write(
        work.path(),
        "up.yml",
        &format!(
            "- hosts: all\n  tasks:\n    - upload: {{ src: {}, dest: \"{}/{{{{ inventory_hostname }}}}.txt\", protocol: ftp, verify: size }}\n",
            src.display(),
            f.root.display()
        ),
    );
    let inv = write(
        work.path(),
        "inv.yml",
        &format!("all:\n  vars:\n{}  hosts:\n    f1:\n    f2:\n", f.vars()),
    );
    let out = netorch()
        .current_dir(work.path())
        .env("NETORCH_LOG", "trace")
        .args(["run", "--json", "-i"])
        .arg(&inv)
        .arg(&pb)
        .output()
        .unwrap();
    let all = text(&out);
    // The server's passive replies name 127.0.0.2; the data went to 127.0.0.1 anyway.
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(f.root.join("f1.txt").exists() && f.root.join("f2.txt").exists());
    assert!(!all.contains(sshd::TEST_PASSWORD), "{all}");
    assert_eq!(
        all.matches("plain FTP sends the password in clear").count(),
        1,
        "{all}"
    );

    // Only `password:` (the SSH one): FTP logs in without it, and is refused.
    let ssh_only = write(
        work.path(),
        "ssh-only.yml",
        &f.vars().replace("ftp_password:", "password:"),
    );
    let inv = write(
        work.path(),
        "inv2.yml",
        &format!(
            "all:\n  vars:\n{}  hosts:\n    f3:\n",
            std::fs::read_to_string(&ssh_only).unwrap()
        ),
    );
    let out = netorch()
        .current_dir(work.path())
        .args(["run", "--json", "-i"])
        .arg(&inv)
        .arg(&pb)
        .output()
        .unwrap();
    let r = &host_results(&json_of(&out))[0];
    assert_ne!(r["status"], "changed", "{r:#}");
    assert!(
        r["msg"].as_str().unwrap_or_default().contains("login"),
        "{r:#}"
    );
    assert!(!f.root.join("f3.txt").exists());
}

#[test]
fn load_errors_and_template_previews_do_not_echo_secrets() {
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    // A duplicate key on a line that holds a password: the error quotes the line.
    let bad = write(
        d,
        "bad.yml",
        "all:\n  hosts:\n    r1:\n      password: Load-Secret-1\n      password: Load-Secret-2\n",
    );
    let out = netorch()
        .current_dir(d)
        .args(["inventory", "list", "-i"])
        .arg(&bad)
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(4), "{all}");
    assert!(all.contains("password: ********"), "{all}");
    assert!(!all.contains("Load-Secret"), "{all}");

    let inv = write(
        d,
        "inv.yml",
        "all:\n  hosts:\n    r1:\n      platform: cisco_ios\n      password: Tmpl-Secret-3\n      snmp_community: Tmpl-Comm-4\n",
    );
    write(
        d,
        "templates/base.j2",
        "username admin secret 0 {{ password | upper }}\nsnmp-server community {{ snmp_community }} RO\nsnmp-server user u g v3 auth sha Tmpl-Auth-5 priv aes 128 Tmpl-Priv-6\nhostname {{ inventory_hostname }}\n",
    );
    let template = |extra: &[&str]| {
        netorch()
            .current_dir(d)
            .args(["template", "-i"])
            .arg(&inv)
            .args(["--host", "r1", "base.j2"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = template(&[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    for s in ["TMPL-SECRET-3", "Tmpl-Comm-4", "Tmpl-Auth-5", "Tmpl-Priv-6"] {
        assert!(!all.contains(s), "{s}: {all}");
    }
    assert!(all.contains("hostname r1"), "{all}");
    let shown = text(&template(&["--show-secrets"]));
    for s in ["TMPL-SECRET-3", "Tmpl-Comm-4", "Tmpl-Auth-5"] {
        assert!(shown.contains(s), "{s}: {shown}");
    }
}

/// Item 14: distinctive secrets in every secret-bearing variable and config line, a run
/// (with -vv, --json, --junit, --diff), a backup and an exec; none of them in any output,
/// backup file or commit message.
#[test]
fn no_output_of_a_full_run_holds_any_secret() {
    const COMMUNITY: &str = "Grep-Comm-1001";
    const TOKEN: &str = "Grep-Token-1002";
    const EXTRA: &str = "Grep-Extra-1003";
    let sim = ios(2);
    let dir = sim.dir.path();
    let hosts: Vec<(String, String)> = sim
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("r{i}"), h.name.clone()))
        .collect();
    let extra = json!({"snmp_community": COMMUNITY, "api_token": TOKEN});
    let entries: Vec<(&str, &str, Value)> = hosts
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_str(), extra.clone()))
        .collect();
    let inv = inventory(&sim, "inv.yaml", &entries);
    let lines: Vec<String> = IOS_SECRET_LINES
        .iter()
        .map(|(l, _)| format!("          - \"{l}\""))
        .collect();
    let pb = write(
        dir,
        "all.yml",
        &format!(
            r#"
- name: Everything
  hosts: all
  tasks:
    - name: Push
      config:
        lines:
{}
          - "snmp-server community {{{{ snmp_community }}}} RO"
          - "snmp-server location {{{{ password | upper }}}}"
          - "snmp-server contact {{{{ api_token | b64encode }}}}"
    - name: Show
      command: show running-config
      register: run
    - name: Say
      debug:
        msg: "{{{{ password }}}} {{{{ enable_secret }}}} {{{{ vault_secret }}}} {{{{ run.stdout_lines | length }}}}"
    - name: Fail on purpose
      command: "show {{{{ password }}}}"
      ignore_errors: true
    - name: Backup
      backup: {{ store: store }}
"#,
            lines.join("\n")
        ),
    );
    let junit = dir.join("junit.xml");
    let run_out = netorch()
        .current_dir(dir)
        .args(["run", "-vv", "--diff", "--json", "-i"])
        .arg(&inv)
        .arg(&pb)
        .arg("--junit")
        .arg(&junit)
        .args(["-e", &format!("vault_secret={EXTRA}")])
        .output()
        .unwrap();
    assert_eq!(run_out.status.code(), Some(0), "{}", text(&run_out));
    let exec_out = netorch()
        .current_dir(dir)
        .args(["exec", "-vv", "-i"])
        .arg(&inv)
        .arg("show running-config")
        .output()
        .unwrap();
    assert_eq!(exec_out.status.code(), Some(0), "{}", text(&exec_out));
    let backup_out = netorch()
        .current_dir(dir)
        .args(["backup", "-vv", "--json", "--diff", "-i"])
        .arg(&inv)
        .args(["--store", "store2"])
        .output()
        .unwrap();
    assert_eq!(backup_out.status.code(), Some(0), "{}", text(&backup_out));
    let log = std::process::Command::new("git")
        .arg("-C")
        .arg(dir.join("store"))
        .args(["log", "-p", "--all"])
        .output()
        .unwrap();
    let mut everything = vec![
        ("run", text(&run_out)),
        ("exec", text(&exec_out)),
        ("backup", text(&backup_out)),
        ("junit", std::fs::read_to_string(&junit).unwrap()),
        ("git log", String::from_utf8_lossy(&log.stdout).into_owned()),
    ];
    for store in ["store", "store2"] {
        for e in std::fs::read_dir(dir.join(store)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                everything.push(("backup file", std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut secrets: Vec<String> = IOS_SECRET_LINES
        .iter()
        .map(|(_, s)| s.to_string())
        .collect();
    secrets.extend(
        ["Priv-Seal-3", PASSWORD, ENABLE, COMMUNITY, TOKEN, EXTRA]
            .iter()
            .map(|s| s.to_string()),
    );
    secrets.push(PASSWORD.to_uppercase());
    secrets.push(data_encoding_b64(TOKEN));
    for (what, out) in &everything {
        for s in &secrets {
            assert!(!out.contains(s.as_str()), "{s} in {what}:\n{out}");
        }
    }
    // The run did what it says: the config is there, masked, in the backup.
    assert!(
        everything
            .iter()
            .any(|(w, o)| *w == "backup file" && o.contains("snmp-server community ******** RO")),
        "{everything:?}"
    );
}

/// Standard base64, as the `b64encode` filter writes it.
fn data_encoding_b64(s: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
