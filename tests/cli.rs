//! Integration tests: the command line itself (exit codes, inventory views, templates,
//! completions, Ctrl-C) on the example lab and small fixtures.

use std::process::Stdio;

use crate::util::{netorch, root};

fn example_env(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.current_dir(root())
        .env("NETORCH_PASSWORD", "Example-Pw-4411")
        .env("NETORCH_ENABLE_SECRET", "Example-En-4412")
}

#[test]
fn check_passes_on_the_examples() {
    let out = example_env(&mut netorch())
        .args(["check", "-i", "inventory"])
        .args([
            "playbooks/site.yml",
            "playbooks/backup.yml",
            "playbooks/distribute.yml",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("ok: playbooks/site.yml (3 plays"), "{text}");
}

/// The README's tour from inside `playbooks/`: templates and files are found beside the
/// playbooks and the inventory, never through the current folder.
#[test]
fn the_tour_works_the_same_from_inside_playbooks() {
    let names = ["site.yml", "backup.yml", "distribute.yml"];
    let from_root = example_env(&mut netorch())
        .args(["check", "-i", "inventory"])
        .args(names.iter().map(|n| format!("playbooks/{n}")))
        .output()
        .unwrap();
    let from_playbooks = example_env(&mut netorch())
        .current_dir(root().join("playbooks"))
        .args(["check", "-i", "../inventory"])
        .args(names)
        .output()
        .unwrap();
    for out in [&from_root, &from_playbooks] {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let root_text = String::from_utf8_lossy(&from_root.stdout).replace("playbooks/", "");
    assert_eq!(String::from_utf8_lossy(&from_playbooks.stdout), root_text);
}

/// A pattern that matches nothing is an error for `check`; for `run` it is an error when no
/// play has any host (a typo in a scheduled job must not report success), and a warning for
/// one play of a run that has hosts. Typed from another folder, with typos.
#[test]
fn a_pattern_matching_nothing_fails_check_and_a_run_on_no_host() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yml");
    std::fs::write(&pb, "- hosts: acces\n  tasks:\n    - debug: {msg: hi}\n").unwrap();
    let inventory = root().join("inventory");
    let netorch_in = |args: &[&str]| {
        example_env(&mut netorch())
            .current_dir(dir.path())
            .args(args)
            .arg("-i")
            .arg(&inventory)
            .output()
            .unwrap()
    };
    let out = netorch_in(&["check", "p.yml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("p.yml:1:"), "{err}");
    assert!(err.contains("matches no host"), "{err}");
    assert!(err.contains("did you mean `access`?"), "{err}");

    // `run` on a play whose pattern matches nothing: the same error, nothing runs.
    let out = netorch_in(&["run", "p.yml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("p.yml:1:") && err.contains("did you mean `access`?"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("RECAP"));

    // A --limit that names nothing: a bad option, with a suggestion, for every command
    // that runs tasks.
    let ok = dir.path().join("ok.yml");
    std::fs::write(&ok, "- hosts: all\n  tasks:\n    - debug: {msg: hi}\n").unwrap();
    for args in [
        &["run", "ok.yml", "--limit", "core-ams-9"][..],
        &["backup", "--store", "st", "--limit", "core-ams-9"],
        &["push", "--limit", "core-ams-9", "ok.yml", "/tmp/x"],
        &["pull", "--limit", "core-ams-9", "/tmp/x", "got"],
        &["exec", "--limit", "core-ams-9", "show clock"],
    ] {
        let out = netorch_in(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{args:?}: {err}");
        assert!(
            err.contains("--limit `core-ams-9` matches no host in the inventory"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("did you mean `core-ams-1`?"),
            "{args:?}: {err}"
        );
    }
    assert!(!dir.path().join("st").exists(), "backup created its store");

    // A limit that matches hosts, but none of the play's: the error names the play.
    let out = netorch_in(&["run", "p.yml", "--limit", "core"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("leaves no host to run on"), "{err}");

    // One play without hosts beside one with hosts: a warning, the run goes on.
    let two = dir.path().join("two.yml");
    std::fs::write(
        &two,
        "- hosts: acces\n  tasks:\n    - debug: {msg: hi}\n- hosts: core-ams-1\n  tasks:\n    - debug: {msg: there}\n",
    )
    .unwrap();
    let out = netorch_in(&["run", "two.yml"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("warning: play"), "{text}");
    assert!(text.contains("there"), "{text}");
}

/// `-i` and `-e` may come after the subcommand word, as people type them; without any
/// inventory the error says how to give one.
#[test]
fn inventory_options_may_follow_the_subcommand() {
    let out = example_env(&mut netorch())
        .args(["inventory", "list", "-i", "inventory", "--limit", "core"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("core-ams-1") && !text.contains("acc-ams-1"),
        "{text}"
    );
    let out = example_env(&mut netorch())
        .args([
            "inventory",
            "host",
            "core-ams-1",
            "-i",
            "inventory",
            "-e",
            "site=xyz",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("site: xyz"), "{text}");
    let out = example_env(&mut netorch())
        .env_remove("NETORCH_INVENTORY")
        .args(["inventory", "graph"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no inventory: give one with -i"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn inventory_host_masks_secrets_and_list_filters() {
    let out = example_env(&mut netorch())
        .args([
            "inventory",
            "-i",
            "inventory",
            "-e",
            "snmp_community=public123",
        ])
        .args(["host", "core-ams-1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(text.contains("password: '********'"), "{text}");
    assert!(text.contains("snmp_community: '********'"), "{text}");
    assert!(!text.contains("public123"));
    assert!(text.contains("platform: cisco_ios"), "{text}");
    let out = example_env(&mut netorch())
        .args([
            "inventory",
            "-i",
            "inventory",
            "list",
            "--limit",
            "network:&ams:!edge",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("acc-ams-1") && text.contains("core-ams-1"),
        "{text}"
    );
    assert!(
        !text.contains("edge-ams-1") && !text.contains("rtm"),
        "{text}"
    );
    assert!(text.contains("3 hosts"), "{text}");
    let out = example_env(&mut netorch())
        .args(["inventory", "-i", "inventory", "host", "core-ams-2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `core-ams-1`?"));
}

#[test]
fn template_renders_for_one_host_and_names_undefined_variables() {
    let out = example_env(&mut netorch())
        .args([
            "template",
            "-i",
            "inventory",
            "--host",
            "core-ams-1",
            "templates/interfaces.j2",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text.contains("interface GigabitEthernet0/1\n description uplink to edge-ams-1"),
        "{text}"
    );
    // Access switches have no `interfaces` but the template defaults; vlans.j2 needs `vlans`,
    // which core routers lack.
    let out = example_env(&mut netorch())
        .args([
            "template",
            "-i",
            "inventory",
            "--host",
            "core-ams-1",
            "vlans.j2",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("undefined variable `vlans`"), "{err}");
    assert!(err.contains("vlans.j2 line 1"), "{err}");
}

#[test]
fn bad_options_exit_5_and_completions_print() {
    let out = netorch()
        .args(["run", "--forks", "0", "x.yml", "-i", "y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let out = netorch()
        .args(["run", "p.yml", "-i", "inventory", "-e", "oops"])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    for shell in ["bash", "zsh", "fish"] {
        let out = netorch().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("netorch"));
    }
}

#[test]
fn ctrl_c_ends_a_pause_stops_new_work_prints_the_recap_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.yml");
    std::fs::write(&inv, "all:\n  hosts:\n    a:\n    b:\n").unwrap();
    let pb = dir.path().join("p.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  tasks:\n    - name: nap\n      wait_for: {seconds: 600}\n    - name: never\n      debug: {msg: late}\n",
    )
    .unwrap();
    let mut child = netorch()
        .args(["run", "-i"])
        .arg(&inv)
        .arg(&pb)
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is under way (the signal handler is installed before the first
    // task starts), however slow the machine is.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        match rx.recv_timeout(std::time::Duration::from_millis(100)) {
            Ok(l) if l.contains("TASK nap") => break,
            _ => {}
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let st = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    // The pause ends at once, not after its ten minutes.
    let interrupted_at = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if interrupted_at.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            panic!("Ctrl-C did not end the wait_for pause");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let text = reader.join().unwrap();
    let out = std::process::Output {
        status,
        stdout: text.clone().into_bytes(),
        stderr: Vec::new(),
    };
    assert_eq!(out.status.code(), Some(130), "{text}");
    assert!(text.contains("interrupted"), "{text}");
    assert!(text.contains("RECAP"), "{text}");
    assert!(!text.contains("TASK never"), "{text}");
}

/// `netorch exec` as a user types it, from another folder: the per-host text view (each
/// command and its whole output), a host that is down, secrets masked everywhere (text,
/// JSON, JUnit), a deadline per host, and the exit codes of the contract.
#[test]
fn exec_shows_each_host_and_follows_the_exit_code_contract() {
    let sim = crate::util::sim::Sim::with("cisco_ios", 2)
        .password("Pw-Secret-9931")
        .args(&["--fail", "ios-002=hang-after:3"])
        .start();
    let elsewhere = tempfile::tempdir().unwrap();
    let down = elsewhere.path().join("down.yml");
    std::fs::write(
        &down,
        "all:\n  hosts:\n    down-1:\n      host: 127.0.0.1\n      port: 1\n      platform: cisco_ios\n",
    )
    .unwrap();
    let exec = |args: &[&str]| {
        netorch()
            .current_dir(elsewhere.path())
            .args(["exec", "-i"])
            .arg(&sim.inventory)
            .arg("-i")
            .arg(&down)
            .args(args)
            .output()
            .unwrap()
    };

    let out = exec(&["--limit", "ios-001", "show clock", "show version"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("ios-001 [cisco_ios] ok ("),
        "no task view for exec: {text}"
    );
    assert!(text.contains("\n  $ show clock\n  "), "{text}");
    assert!(text.contains("\n  $ show version\n  Cisco IOS"), "{text}");
    assert!(text.contains("\n1 hosts, 0 with failures, "), "{text}");

    // The password typed into a command is masked in the text, the JSON and the JUnit.
    let junit = elsewhere.path().join("exec.xml");
    let secret_cmd = "show running-config | include Pw-Secret-9931";
    let out = exec(&["--limit", "ios-001,down-1", "show clock", secret_cmd]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("down-1 [cisco_ios] unreachable (") && text.contains("connection refused"),
        "{text}"
    );
    assert!(text.contains("2 hosts, 1 with failures"), "{text}");
    // The secret-bearing command was sent (and shown masked), not skipped.
    assert!(
        text.contains("\n  $ show running-config | include ********\n"),
        "{text}"
    );
    let out = exec(&[
        "--limit",
        "ios-001,down-1",
        "--json",
        "--junit",
        junit.to_str().unwrap(),
        "show clock",
        secret_cmd,
    ]);
    assert_eq!(out.status.code(), Some(3));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hosts = doc["plays"][0]["tasks"][0]["hosts"].as_array().unwrap();
    let status = |h: &str| {
        hosts
            .iter()
            .find(|r| r["host"] == h)
            .map(|r| r["status"].clone())
    };
    assert_eq!(status("ios-001"), Some("ok".into()), "{doc:#}");
    assert_eq!(status("down-1"), Some("unreachable".into()), "{doc:#}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testcase classname=\"down-1\""), "{xml}");
    for shown in [text.to_string(), doc.to_string(), xml] {
        assert!(!shown.contains("Pw-Secret-9931"), "secret leaked: {shown}");
    }

    // A device that hangs is abandoned at --host-timeout; a command failing is exit 2.
    let t = std::time::Instant::now();
    let out = exec(&[
        "--limit",
        "ios-002",
        "--host-timeout",
        "2s",
        "-e",
        "command_timeout=60",
        "--json",
        "show clock",
        "show clock",
        "show clock",
        "show clock",
    ]);
    assert!(
        t.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &doc["plays"][0]["tasks"][0]["hosts"][0];
    assert_eq!(r["status"], "failed", "{doc:#}");
    assert!(
        r["msg"].as_str().unwrap().contains("host_timeout exceeded"),
        "{doc:#}"
    );

    // Usage errors: a pattern matching nothing, a bad option.
    let out = exec(&["--limit", "nothing-here", "show clock"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("matches no host"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = exec(&["--host-timeout", "soon", "show clock"]);
    assert_eq!(out.status.code(), Some(5));
}

/// `netorch ... | head -1`: the reader goes away and netorch ends quietly, with the status
/// a shell shows for SIGPIPE (141) where the output is only a listing, and the run's own
/// result for a run (which is never cut short by a closed pager).
#[test]
fn a_closed_pipe_ends_quietly() {
    let elsewhere = tempfile::tempdir().unwrap();
    let inv = elsewhere.path().join("inv.yml");
    std::fs::write(
        &inv,
        "all:\n  hosts:\n    down-1:\n      host: 127.0.0.1\n      port: 1\n      user: x\n      platform: cisco_ios\n",
    )
    .unwrap();
    let closed = |args: &[&str]| {
        let mut child = netorch()
            .current_dir(elsewhere.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Closed before netorch has written anything, as `head` does once it has its lines.
        drop(child.stdout.take());
        child.wait_with_output().unwrap()
    };
    for args in [
        &["completions", "bash"][..],
        &["inventory", "list", "-i", "inv.yml"],
        &["inventory", "graph", "-i", "inv.yml"],
    ] {
        let out = closed(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
    let out = closed(&["exec", "-i", "inv.yml", "show clock"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn help_lists_the_exit_code_contract() {
    let out = netorch().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    for line in [
        "  0    every host ok",
        "  2    some host failed",
        "  3    some host unreachable",
        "  4    invalid input",
        "  5    bad command-line options",
        "  130  interrupted",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
}

/// The variables users expect from Ansible are there whichever name the inventory used,
/// and `-e` takes `key=value`, a JSON/YAML mapping and `@file` (from the current folder),
/// as ansible-playbook does; `key=[...]` stays a string, with a warning. No connection is
/// needed: `debug` and `assert` run locally.
#[test]
fn expected_variables_and_every_extra_vars_form() {
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    w(
        "inv.yml",
        "all:\n  hosts:\n    r1: {host: 10.0.0.1, port: 2222, user: alice, platform: cisco_ios, password: Pw-Never-Shown-51}\n    r2: {ansible_host: 10.0.0.2, ansible_port: 22, ansible_user: bob, ansible_network_os: arista.eos.eos}\n  children:\n    core:\n      hosts:\n        r1:\n",
    );
    w("vars.yml", "site: ams\n");
    w(
        "p.yml",
        r#"- hosts: all
  tasks:
    - name: Names
      assert:
        that:
          - ansible_host == host
          - ansible_port == port
          - ansible_user == user
          - ansible_password is not defined
    - name: Show
      debug:
        msg: "{{ inventory_hostname }} {{ ansible_host }}:{{ ansible_port }} {{ ansible_user }} {{ ansible_network_os }} {{ platform }} [{{ group_names | join(',') }}] {{ ntp_servers | join(',') }} {{ site }} {{ mode }}"
"#,
    );
    let out = netorch()
        .current_dir(dir.path())
        .args(["run", "-i", "inv.yml", "p.yml", "--json"])
        .args(["-e", r#"{"ntp_servers": ["10.0.0.9"]}"#])
        .args(["-e", "@vars.yml", "-e", "mode=[a,b]"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let msg = |host: &str| {
        doc["plays"][0]["tasks"][1]["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["host"] == host)
            .map(|r| r["data"]["debug"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        msg("r1"),
        "r1 10.0.0.1:2222 alice cisco.ios.ios cisco_ios [core] 10.0.0.9 ams [a,b]"
    );
    assert_eq!(
        msg("r2"),
        "r2 10.0.0.2:22 bob arista.eos.eos arista_eos [] 10.0.0.9 ams [a,b]"
    );
    let warnings = doc["warnings"].to_string();
    assert!(
        warnings.contains("`mode` is the string `[a,b]`, not a list"),
        "{warnings}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Pw-Never-Shown-51"));

    // A vars file that is not there names its path; it is bad input (exit 4).
    let out = netorch()
        .current_dir(dir.path())
        .args(["run", "-i", "inv.yml", "p.yml", "-e", "@varz.yml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("varz.yml"), "{err}");
}

/// `--version` names the commit and the build date; `--version --json` is data for scripts,
/// whichever order the flags come in and after a subcommand too.
#[test]
fn version_says_which_build_this_is() {
    let out = netorch().arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    let re = regex::Regex::new(
        r"^netorch \d+\.\d+\.\d+ \(commit (?:[0-9a-f]{12}|unknown), built \d{4}-\d\d-\d\d\)\n$",
    )
    .unwrap();
    assert!(re.is_match(&text), "{text:?}");
    for args in [["--version", "--json"], ["--json", "--version"]] {
        let out = netorch().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["name"], "netorch");
        assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
        assert!(
            text.contains(v["commit"].as_str().unwrap()),
            "{v} vs {text}"
        );
        assert_eq!(v["build_date"].as_str().unwrap().len(), 10, "{v}");
    }
    let out = netorch().args(["run", "--version"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("netorch-run "));
}

/// The man pages a package installs: one per visible command and the two file formats, each
/// valid roff with a NAME section (rendered by `man` when it is installed).
#[test]
fn man_pages_are_generated_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = netorch()
        .args(["manpages"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for want in [
        "netorch.1",
        "netorch-run.1",
        "netorch-backup.1",
        "netorch-daemon.1",
        "netorch-playbook.5",
        "netorch-inventory.5",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    assert!(!names
        .iter()
        .any(|n| n == "netorch-help.1" || n == "netorch-manpages.1"));
    let run = std::fs::read_to_string(dir.path().join("netorch-run.1")).unwrap();
    assert!(
        run.starts_with(".ie") || run.starts_with(".TH"),
        "{}",
        &run[..80]
    );
    assert!(
        run.contains("netorch\\-run") && run.contains("\\-\\-inventory"),
        "{run}"
    );
    if std::process::Command::new("man")
        .arg("--version")
        .output()
        .is_ok()
    {
        let out = std::process::Command::new("man")
            .arg("-l")
            .arg(dir.path().join("netorch-playbook.5"))
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("NAME") && text.contains("netorch-playbook"),
            "{text}"
        );
    }
}

/// A task the host's transport cannot carry is refused by `check` and by `run` before any
/// connection: `check` saying ok must mean the run will not fail on it.
#[test]
fn check_and_run_refuse_tasks_the_transport_cannot_carry() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 on loopback: nothing listens, so a run that tried to connect would report
    // the hosts unreachable instead of the load error asserted below.
    crate::util::write(
        dir.path(),
        "hosts.yml",
        "all:\n  vars: { ansible_host: 127.0.0.1, port: 9 }\n  hosts:\n    xr1: { platform: cisco_iosxr, connection: netconf }\n    lx1: { platform: linux, connection: telnet }\n    eos1: { platform: arista_eos, ansible_connection: httpapi }\n    r1: { platform: cisco_ios }\n",
    );
    crate::util::write(
        dir.path(),
        "pb.yml",
        "- hosts: all\n  tasks:\n    - name: ntp\n      config: { lines: [ntp server 10.0.0.1] }\n    - name: image\n      upload: { src: pb.yml, dest: 'flash:/pb.yml' }\n    - name: image over ftp\n      upload: { src: pb.yml, dest: 'flash:/pb.yml', protocol: ftp }\n- hosts: r1\n  connection: netconf\n  tasks:\n    - netconf_get: {}\n",
    );
    for cmd in ["check", "run"] {
        let out = netorch()
            .current_dir(dir.path())
            .args([cmd, "pb.yml", "-i", "hosts.yml"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{cmd}: {err}");
        assert!(
            err.contains("task `ntp`: config lines cannot run over netconf (platform cisco_iosxr) (host xr1)"),
            "{cmd}: {err}"
        );
        assert!(err.contains("hint: use netconf_config"), "{cmd}: {err}");
        assert!(
            err.contains("task `image`: SCP/SFTP transfers cannot run over eapi (platform arista_eos) (host eos1)"),
            "{cmd}: {err}"
        );
        assert!(
            err.contains("telnet needs a device CLI, and platform linux"),
            "{cmd}: {err}"
        );
        // FTP needs no SSH session, and the play's `connection: netconf` makes r1 a
        // NETCONF host for netconf_get.
        assert!(!err.contains("image over ftp"), "{cmd}: {err}");
        assert!(!err.contains("netconf_get"), "{cmd}: {err}");
        assert!(!err.contains("host r1"), "{cmd}: {err}");
        assert!(!err.contains("unreachable"), "{cmd}: {err}");
    }
}
