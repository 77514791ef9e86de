//! `netorch backup` end to end against netorch-sim: 30 devices into a git store, one device
//! changed through a playbook gives exactly one changed file and a commit naming it, volatile
//! lines never cause commits, secrets masked, empty/truncated configs refused with the old
//! file kept, hostile device names refused, push to a bare remote, and kill -9 mid-run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use crate::util::fsck_clean;
use crate::util::report::json_of;
use crate::util::{netorch, sim::Sim};

fn backup(sim: &Sim, store: &Path, args: &[&str]) -> Output {
    netorch()
        .current_dir(sim.dir.path())
        .args(["backup", "-i"])
        .arg(&sim.inventory)
        .arg("--store")
        .arg(store)
        .arg("--json")
        .args(args)
        .output()
        .unwrap()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn commit_count(store: &Path) -> usize {
    git(store, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

/// Each host's status for the backup task.
fn statuses(doc: &Value) -> Vec<(String, String, String)> {
    doc["plays"][0]["tasks"][0]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["host"].as_str().unwrap().to_string(),
                h["status"].as_str().unwrap().to_string(),
                h["msg"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn files_in(store: &Path) -> Vec<String> {
    let mut f: Vec<String> = git(store, &["ls-tree", "-r", "--name-only", "HEAD"])
        .lines()
        .map(str::to_string)
        .collect();
    f.sort();
    f
}

#[test]
fn thirty_devices_one_change_one_commit_naming_it() {
    let sim = Sim::with("mixed", 30).start();
    let store = sim.dir.path().join("store");
    let bare = sim.dir.path().join("remote.git");
    git(
        sim.dir.path(),
        &["init", "-q", "--bare", bare.to_str().unwrap()],
    );

    let out = backup(&sim, &store, &["--push", bare.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_of(&out);
    assert!(
        statuses(&doc).iter().all(|(_, s, _)| s == "changed"),
        "{doc}"
    );
    let b = &doc["backups"][0];
    assert_eq!(b["changed"].as_array().unwrap().len(), 30);
    let first = b["commit"].as_str().unwrap().to_string();
    let expected: Vec<String> = {
        let mut v: Vec<String> = sim
            .hosts
            .iter()
            .map(|h| format!("{}.cfg", h.name))
            .collect();
        v.sort();
        v
    };
    assert_eq!(files_in(&store), expected);
    assert_eq!(commit_count(&store), 1);
    assert_eq!(git(&bare, &["rev-parse", "refs/heads/main"]).trim(), first);
    // Every platform's config passed the end-marker check and lost its volatile lines.
    for h in &sim.hosts {
        let text = std::fs::read_to_string(store.join(format!("{}.cfg", h.name))).unwrap();
        assert!(!text.contains("Last configuration change"), "{}", h.name);
        assert!(!text.contains("ntp clock-period"), "{}", h.name);
        assert!(!text.contains('\r') && !text.contains(" \n"), "{}", h.name);
    }

    // Nothing changed on the devices: no commit, every host ok.
    let out = backup(&sim, &store, &[]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json_of(&out);
    assert!(statuses(&doc).iter().all(|(_, s, _)| s == "ok"), "{doc}");
    assert!(doc["backups"][0]["commit"].is_null());
    assert_eq!(commit_count(&store), 1);

    // Change one IOS device through a playbook (its `Last configuration change` moves too).
    let target = sim
        .hosts
        .iter()
        .find(|h| h.vars["platform"] == "cisco_ios")
        .unwrap()
        .name
        .clone();
    let pb = sim.dir.path().join("ntp.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  tasks:\n    - name: NTP\n      config:\n        lines: [ntp server 10.9.9.9]\n",
    )
    .unwrap();
    let out = netorch()
        .current_dir(sim.dir.path())
        .arg("run")
        .arg("-i")
        .arg(&sim.inventory)
        .arg(&pb)
        .args(["--limit", &target])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = backup(&sim, &store, &[]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json_of(&out);
    for (host, status, _) in statuses(&doc) {
        let want = if host == target { "changed" } else { "ok" };
        assert_eq!(status, want, "{host}");
    }
    let changed = doc["backups"][0]["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["host"], target.as_str());
    assert_eq!(
        (changed[0]["added"].as_u64(), changed[0]["removed"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(commit_count(&store), 2);
    let files = git(&store, &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(files.trim(), format!("{target}.cfg"));
    let msg = git(&store, &["log", "-1", "--format=%B"]);
    assert!(
        msg.starts_with(&format!("Backup: {target} changed")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("{target}: {target}.cfg +1 -0")),
        "{msg}"
    );
    fsck_clean(&store);
    let status = git(&store, &["status", "--porcelain"]);
    assert!(status.trim().is_empty(), "{status}");
    // The push followed only when asked: the remote still has the first commit.
    assert_eq!(git(&bare, &["rev-parse", "refs/heads/main"]).trim(), first);

    // Reading back.
    let read = |args: &[&str]| {
        let out = netorch()
            .args(["backup"])
            .args(args)
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let log = read(&["log", &target]);
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(log.lines().next().unwrap().contains("+1"), "{log}");
    let diff = read(&["diff", &target]);
    assert!(diff.contains("+ntp server 10.9.9.9"), "{diff}");
    let changed_lines: Vec<&str> = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(changed_lines, vec!["+ntp server 10.9.9.9"], "{diff}");
    assert!(read(&["show", &target]).contains("ntp server 10.9.9.9"));
    assert!(!read(&["show", &target, "1"]).contains("ntp server 10.9.9.9"));
    assert_eq!(
        read(&["show", &target, &first]),
        read(&["show", &target, "1"])
    );
    let out = netorch()
        .args(["backup", "log", "no-such-device", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no backup of `no-such-device`"));
}

/// Secrets are masked unless the user asks to keep them for restores.
#[test]
fn secrets_are_masked_by_default_and_kept_only_when_asked() {
    let sim = Sim::with("cisco_ios", 1).start();
    let name = &sim.hosts[0].name;
    let masked = sim.dir.path().join("masked");
    let out = backup(&sim, &masked, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(masked.join(format!("{name}.cfg"))).unwrap();
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(text.contains("snmp-server community ******** RO"), "{text}");
    let kept = sim.dir.path().join("kept");
    let out = backup(&sim, &kept, &["--keep-secrets"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(kept.join(format!("{name}.cfg"))).unwrap();
    assert!(text.contains("snmp-server community s3cr3t RO"), "{text}");
    // Both flags at once is a usage error (exit 5), not a guess.
    let out = backup(&sim, &kept, &["--keep-secrets", "--mask-secrets"]);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn secrets_masked_and_bad_configs_refused_keeping_the_old_file() {
    let sim = Sim::with("cisco_ios", 2).start();
    let store = sim.dir.path().join("store");
    let out = backup(&sim, &store, &["--mask-secrets"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = &sim.hosts[0].name;
    let file = store.join(format!("{name}.cfg"));
    let good = std::fs::read_to_string(&file).unwrap();
    assert!(!good.contains("s3cr3t"), "{good}");
    assert!(good.contains("snmp-server community ******** RO"), "{good}");
    assert!(good.contains("enable secret 9 ********"), "{good}");
    let before = git(&store, &["rev-parse", "HEAD"]);

    // The same devices, fetched with commands that return nothing, a config cut before
    // `end`, and a fragment: all refused, nothing stored.
    let pb = sim.dir.path().join("bad.yml");
    std::fs::write(
        &pb,
        format!(
            "- hosts: all\n  tasks:\n\
             \x20   - name: Empty\n      backup: {{ store: {s}, mask_secrets: true, command: 'show running-config | include zzzz-nothing' }}\n      ignore_errors: true\n\
             \x20   - name: Truncated\n      backup: {{ store: {s}, mask_secrets: true, command: 'show running-config | exclude end' }}\n      ignore_errors: true\n\
             \x20   - name: Shrunk\n      backup: {{ store: {s}, mask_secrets: true, command: 'show running-config | begin ^line' }}\n",
            s = store.display()
        ),
    )
    .unwrap();
    let out = netorch()
        .current_dir(sim.dir.path())
        .arg("run")
        .arg("-i")
        .arg(&sim.inventory)
        .arg(&pb)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_of(&out);
    let msg = |task: usize| {
        doc["plays"][0]["tasks"][task]["hosts"][0]["msg"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(
        msg(0).contains("the config is empty; the old backup is kept"),
        "{}",
        msg(0)
    );
    assert!(msg(1).contains("looks truncated"), "{}", msg(1));
    assert!(msg(2).contains("shrank from"), "{}", msg(2));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), good);
    assert_eq!(git(&store, &["rev-parse", "HEAD"]), before);
    // Secrets never reach the report either (the inventory password is known to it).
    assert!(!String::from_utf8_lossy(&out.stdout).contains("s3cr3t"));
}

#[test]
fn hostile_device_names_are_refused() {
    let sim = Sim::with("cisco_ios", 1).start();
    let vars = sim.vars(&sim.hosts[0].name);
    let conn = |extra: &str| {
        format!(
            "{{ host: {}, port: {}, platform: cisco_ios, user: {}, password: {}, enable_secret: {}, known_hosts_file: {}{extra} }}",
            vars["host"].as_str().unwrap(),
            vars["port"],
            vars["user"].as_str().unwrap(),
            vars["password"].as_str().unwrap(),
            vars["enable_secret"].as_str().unwrap(),
            vars["known_hosts_file"].as_str().unwrap(),
        )
    };
    let inv = sim.dir.path().join("hostile.yaml");
    std::fs::write(
        &inv,
        format!(
            // A host named `../evil` is refused when the inventory loads (tests/seal.rs);
            // names that render into a path outside the store are refused here.
            "all:\n  hosts:\n    good-1: {}\n    sneaky: {}\n    gitdir: {}\n",
            conn(""),
            conn(", site: '../../outside'"),
            conn(", backup_path: '.git/hooks/pre-commit'"),
        ),
    )
    .unwrap();
    let root = sim.dir.path().join("stores");
    std::fs::create_dir(&root).unwrap();
    let store = root.join("store");
    let out = netorch()
        .current_dir(sim.dir.path())
        .args(["backup", "-i"])
        .arg(&inv)
        .arg("--store")
        .arg(&store)
        .args([
            "--path",
            "{{ site | default('lab') }}/{{ name }}.cfg",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_of(&out);
    for (host, status, msg) in statuses(&doc) {
        match host.as_str() {
            "good-1" => assert_eq!(status, "changed", "{msg}"),
            "sneaky" => assert!(
                status == "failed" && msg.contains("outside the store"),
                "{msg}"
            ),
            "gitdir" => assert!(status == "failed" && msg.contains(".git"), "{msg}"),
            other => panic!("unexpected host {other}"),
        }
    }
    assert_eq!(files_in(&store), vec!["lab/good-1.cfg".to_string()]);
    // Nothing landed beside the store.
    let mut beside: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, vec!["store".to_string()]);
    assert!(!sim.dir.path().join("outside").exists());
}

#[test]
fn kill_9_mid_run_leaves_a_consistent_store() {
    let sim = Sim::with("cisco_ios", 30)
        .args(&["--config-lines", "2000", "--latency-ms", "20"])
        .start();
    let store: PathBuf = sim.dir.path().join("store");
    // Kill at several points: while fetching, and around the commit at the end.
    for delay_ms in [300u64, 700, 1100, 1500, 1900] {
        let mut child = netorch()
            .current_dir(sim.dir.path())
            .args(["backup", "-i"])
            .arg(&sim.inventory)
            .arg("--store")
            .arg(&store)
            .arg("--json")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if store.join(".git").exists() {
            fsck_clean(&store);
        }
    }
    let out = backup(&sim, &store, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fsck_clean(&store);
    assert_eq!(files_in(&store).len(), 30);
    for h in &sim.hosts {
        let text = std::fs::read_to_string(store.join(format!("{}.cfg", h.name))).unwrap();
        assert!(text.ends_with("end\n"), "{}", h.name);
    }
    let status = git(&store, &["status", "--porcelain"]);
    assert!(status.trim().is_empty(), "{status}");
}

/// `backup --check` fetches and compares but writes nothing (no store folder, no `.git`),
/// and its summary says what would change, agreeing with the per-host lines; on an
/// existing store it commits nothing.
#[test]
fn check_writes_nothing_and_its_summary_agrees_with_the_hosts() {
    let sim = Sim::with("cisco_ios", 2).start();
    let store = sim.dir.path().join("never-made");
    let text = |args: &[&str]| {
        netorch()
            .current_dir(sim.dir.path())
            .args(["backup", "-i"])
            .arg(&sim.inventory)
            .arg("--store")
            .arg(&store)
            .args(args)
            .output()
            .unwrap()
    };
    let out = text(&["--check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!store.exists(), "--check created the store");
    let changed_lines = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("changed"))
        .count();
    assert_eq!(changed_lines, 2, "{stdout}");
    assert!(
        stdout.contains("check mode, nothing stored: 2 would change, 0 unchanged"),
        "{stdout}"
    );

    // A real run makes the store; a check after it commits nothing.
    let out = backup(&sim, &store, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(commit_count(&store), 1);
    let out = backup(&sim, &store, &["--check"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json_of(&out);
    assert_eq!(doc["backups"][0]["commit"], Value::Null, "{doc:#}");
    assert_eq!(commit_count(&store), 1);
}
