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

#[test]
fn a_pattern_matching_nothing_is_an_error_for_check_and_a_warning_for_run() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yml");
    std::fs::write(&pb, "- hosts: acces\n  tasks:\n    - debug: {msg: hi}\n").unwrap();
    let out = example_env(&mut netorch())
        .args(["check", "-i", "inventory"])
        .arg(&pb)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("p.yml:1:"), "{err}");
    assert!(err.contains("matches no host"), "{err}");
    assert!(err.contains("did you mean `access`?"), "{err}");
    let out = example_env(&mut netorch())
        .args(["run", "-i", "inventory"])
        .arg(&pb)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("warning: play"));
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
fn ctrl_c_stops_new_work_prints_the_recap_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.yml");
    std::fs::write(&inv, "all:\n  hosts:\n    a:\n    b:\n").unwrap();
    let pb = dir.path().join("p.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  tasks:\n    - name: nap\n      wait_for: {seconds: 2}\n    - name: never\n      debug: {msg: late}\n",
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
    let status = child.wait().unwrap();
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
