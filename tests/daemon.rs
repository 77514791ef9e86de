//! `netorch daemon` against netorch-sim: a job every 2 seconds makes commits as devices
//! change, a run still going when its next time comes is skipped (and says so), the status
//! file and `/metrics` tell the story, and SIGTERM during a backup leaves a consistent store
//! and exits 0.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::fsck_clean;
use crate::util::{netorch, sim::Sim};

/// The daemon process, killed on Drop if a test fails before stopping it.
struct Daemon {
    child: Option<Child>,
    status: PathBuf,
}

impl Daemon {
    fn start(dir: &Path, schedule: &str, extra: &[&str]) -> Daemon {
        let cfg = dir.join("schedule.yml");
        std::fs::write(&cfg, schedule).unwrap();
        let child = netorch()
            .current_dir(dir)
            .arg("daemon")
            .arg("--config")
            .arg(&cfg)
            .args(extra)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("daemon.log")).unwrap())
            .spawn()
            .unwrap();
        Daemon {
            child: Some(child),
            status: dir.join("netorch-status.json"),
        }
    }

    fn status(&self) -> Value {
        std::fs::read_to_string(&self.status)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null)
    }

    /// Poll the status file until `pred` holds (panics after `secs`).
    fn wait_for(&self, secs: u64, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let st = self.status();
            if pred(&st) {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {st}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, then the exit code.
    fn terminate(&mut self, secs: u64) -> Option<i32> {
        let mut child = self.child.take().unwrap();
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                return st.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("daemon did not stop within {secs}s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn commits(store: &Path) -> usize {
    let out = Command::new("git")
        .arg("-C")
        .arg(store)
        .args(["rev-list", "--count", "HEAD"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

fn http_get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn every_two_seconds_commits_and_overlapping_runs_are_skipped() {
    let fast = Sim::with("cisco_ios", 2).start();
    // Each command answers after 700 ms: one backup takes longer than its 1 s interval.
    let slow = Sim::with("cisco_ios", 1)
        .args(&["--latency-ms", "700"])
        .start();
    let dir = fast.dir.path();
    let store = dir.join("store");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let schedule = format!(
        "grace_period: 20s\njobs:\n\
         \x20 - name: fast\n    cron: '*/2 * * * * *'\n    backup: {{ store: {store} }}\n    inventory: {fast_inv}\n\
         \x20 - name: slow\n    every: 1s\n    backup: {{ store: {slow_store} }}\n    inventory: {slow_inv}\n",
        store = store.display(),
        fast_inv = fast.inventory.display(),
        slow_store = dir.join("slow-store").display(),
        slow_inv = slow.inventory.display(),
    );
    let mut d = Daemon::start(dir, &schedule, &["--listen", &addr]);
    let st = d.wait_for(20, "the first fast backup", |s| {
        s["jobs"]["fast"]["last_run"]["result"] == "ok"
    });
    assert_eq!(commits(&store), 1);
    // The counts and the commit come from the run's report, read from the file it was
    // written to (never held in the daemon); that report is kept for the web interface.
    // A first backup changes both devices (their files are new).
    let last = &st["jobs"]["fast"]["last_run"];
    assert_eq!(
        (&last["ok"], &last["changed"], &last["failed"]),
        (&json!(0), &json!(2), &json!(0)),
        "{st}"
    );
    let head = std::process::Command::new("git")
        .arg("-C")
        .arg(&store)
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    assert_eq!(
        last["commit"],
        json!(String::from_utf8_lossy(&head.stdout).trim()),
        "{st}"
    );
    let kept: Vec<_> = std::fs::read_dir(dir.join("runs").join("fast"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(kept.iter().any(|n| n.ends_with(".report.json")), "{kept:?}");
    // The log at its default level says what ran, not the daemon's internals.
    let log = std::fs::read_to_string(dir.join("daemon.log")).unwrap();
    assert!(log.contains("job fast: start"), "{log}");
    assert!(!log.contains("DEBUG"), "{log}");

    // Change a device between runs: the next run commits it, naming it.
    let pb = dir.join("ntp.yml");
    let target = &fast.hosts[0].name;
    for (i, server) in ["10.7.7.1", "10.7.7.2"].iter().enumerate() {
        std::fs::write(
            &pb,
            format!(
                "- hosts: all\n  tasks:\n    - config:\n        lines: [ntp server {server}]\n"
            ),
        )
        .unwrap();
        let out = netorch()
            .current_dir(dir)
            .args(["run", "-i"])
            .arg(&fast.inventory)
            .arg(&pb)
            .args(["--limit", target])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let deadline = Instant::now() + Duration::from_secs(15);
        while commits(&store) < i + 2 {
            assert!(Instant::now() < deadline, "no commit after change {i}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let msg = Command::new("git")
            .arg("-C")
            .arg(&store)
            .args(["log", "-1", "--format=%s"])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&msg.stdout).trim(),
            format!("Backup: {target} changed")
        );
    }

    let st = d.wait_for(20, "a skipped slow run", |s| {
        s["jobs"]["slow"]["skipped"].as_u64().unwrap_or(0) >= 1
    });
    assert!(st["jobs"]["fast"]["next_run"].is_string(), "{st}");
    assert!(st["jobs"]["fast"]["runs"].as_u64().unwrap() >= 3, "{st}");

    let status = http_get(&addr, "/status");
    assert!(status.starts_with("HTTP/1.1 200 OK"), "{status}");
    let body: Value = serde_json::from_str(status.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["jobs"]["fast"]["kind"], "backup");
    let metrics = http_get(&addr, "/metrics");
    assert!(
        metrics.contains("netorch_job_devices{job=\"fast\",state=\"ok\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("netorch_job_skipped_total{job=\"slow\"}"),
        "{metrics}"
    );

    assert_eq!(d.terminate(60), Some(0));
    let log = std::fs::read_to_string(dir.join("daemon.log")).unwrap();
    assert!(
        log.contains("job slow: skipped: the previous run is still going"),
        "{log}"
    );
    assert!(log.contains("job fast: end: ok"), "{log}");
    assert!(log.contains("job fast: start (backup)"), "{log}");
    fsck_clean(&store);
}

#[test]
fn sigterm_during_a_backup_leaves_a_consistent_store_and_exits_0() {
    let sim = Sim::with("cisco_ios", 20)
        .args(&["--latency-ms", "150", "--config-lines", "1000"])
        .start();
    let dir = sim.dir.path();
    let store = dir.join("store");
    // A 1 s grace period: the run is still going then, so it is interrupted (SIGINT, it
    // commits what it gathered) rather than waited for.
    let schedule = format!(
        "grace_period: 1s\njobs:\n  - name: bk\n    every: 1s\n    backup: {{ store: {} }}\n    inventory: {}\n    forks: 4\n",
        store.display(),
        sim.inventory.display()
    );
    let mut d = Daemon::start(dir, &schedule, &[]);
    d.wait_for(20, "a backup in progress", |s| {
        s["jobs"]["bk"]["running"] == true
    });
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    assert_eq!(d.terminate(60), Some(0));
    assert!(started.elapsed() < Duration::from_secs(30));
    let st = d.status();
    assert_eq!(st["shutting_down"], true);
    assert_eq!(st["jobs"]["bk"]["running"], false, "{st}");
    assert_ne!(st["jobs"]["bk"]["last_run"]["result"], "ok", "{st}");
    if store.join(".git").exists() {
        fsck_clean(&store);
    }
    // The next backup completes the store.
    let out = netorch()
        .current_dir(dir)
        .args(["backup", "-i"])
        .arg(&sim.inventory)
        .arg("--store")
        .arg(&store)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fsck_clean(&store);
    let files = Command::new("git")
        .arg("-C")
        .arg(&store)
        .args(["ls-tree", "-r", "--name-only", "HEAD"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&files.stdout).lines().count(), 20);
}

#[test]
fn missed_runs_are_replayed_only_when_asked() {
    let sim = Sim::with("cisco_ios", 1).start();
    let dir = sim.dir.path();
    // The last daemon ran both jobs three days ago; both missed a daily run since.
    let three_days_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3 * 86_400;
    let last = serde_json::json!({
        "started": "earlier", "started_unix": three_days_ago, "duration_ms": 1000,
        "result": "ok", "ok": 1, "changed": 0, "failed": 0
    });
    let old_status = serde_json::json!({
        "netorch_version": "0", "pid": 1, "started": "earlier", "schedule": "s",
        "shutting_down": true,
        "jobs": {
            "eager": {"name": "eager", "kind": "backup", "schedule": "", "running": false,
                      "last_run": last, "runs": 1, "failures": 0, "skipped": 0},
            "lazy": {"name": "lazy", "kind": "backup", "schedule": "", "running": false,
                     "last_run": last, "runs": 1, "failures": 0, "skipped": 0}
        }
    });
    std::fs::write(dir.join("netorch-status.json"), old_status.to_string()).unwrap();
    let schedule = format!(
        "jobs:\n\
         \x20 - name: eager\n    cron: '0 0 3 * * *'\n    catch_up: true\n    backup: {{ store: {s}/a }}\n    inventory: {i}\n\
         \x20 - name: lazy\n    cron: '0 0 3 * * *'\n    backup: {{ store: {s}/b }}\n    inventory: {i}\n",
        s = dir.display(),
        i = sim.inventory.display()
    );
    let mut d = Daemon::start(dir, &schedule, &[]);
    let st = d.wait_for(20, "the catch-up run", |s| {
        s["jobs"]["eager"]["last_run"]["started_unix"].as_u64() > Some(three_days_ago)
            && s["jobs"]["eager"]["running"] == false
    });
    assert_eq!(st["jobs"]["eager"]["last_run"]["result"], "ok", "{st}");
    // The other job keeps its old last run and waits for its next time.
    assert_eq!(
        st["jobs"]["lazy"]["last_run"]["started_unix"], three_days_ago,
        "{st}"
    );
    assert!(st["jobs"]["lazy"]["next_run"].is_string(), "{st}");
    assert_eq!(d.terminate(30), Some(0));
    assert!(dir.join("a/.git").exists() && !dir.join("b").exists());
}

/// `daemon --check` validates each job completely (its playbook and inventory exist and pass
/// `check`, a backup's limit matches hosts); a failed job's log line carries the error
/// itself, and the log has no colour codes when it is not a terminal.
#[test]
fn check_validates_every_job_and_the_log_tells_the_error_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("inv.yml"),
        "all:\n  children:\n    access:\n      hosts:\n        a1: {host: 127.0.0.1, port: 1}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("typo.yml"),
        "- hosts: acces\n  tasks:\n    - debug: {msg: hi}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("good.yml"),
        "- hosts: all\n  tasks:\n    - debug: {msg: hi}\n",
    )
    .unwrap();
    let jobs = |names: &[&str]| {
        let mut s = String::from("jobs:\n");
        for n in names {
            s.push_str(match *n {
                "typo" => "  - {name: typo, every: 1s, playbook: typo.yml, inventory: inv.yml}\n",
                "gone" => "  - {name: gone, every: 1h, playbook: gone.yml, inventory: inv.yml}\n",
                "good" => "  - {name: good, every: 1h, playbook: good.yml, inventory: inv.yml}\n",
                _ => "  - {name: bk, every: 1h, backup: {store: st}, inventory: inv.yml, limit: acess}\n",
            });
        }
        s
    };
    std::fs::write(d.join("s.yml"), jobs(&["typo", "gone", "good", "bk"])).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = netorch()
        .current_dir(elsewhere.path())
        .args(["daemon", "--check", "--config"])
        .arg(d.join("s.yml"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{text}{err}");
    assert!(
        err.contains("job `typo`") && err.contains("did you mean `access`?"),
        "{err}"
    );
    assert!(
        err.contains("job `gone`") && err.contains("gone.yml: file not found"),
        "{err}"
    );
    assert!(
        err.contains("job `bk`: --limit `acess` matches no host"),
        "{err}"
    );
    assert!(text.starts_with("good: every 3600s"), "{text}");
    assert!(!err.contains("job `good`"), "{err}");

    // The daemon runs the typo job: it fails, and its log line says why.
    std::fs::write(d.join("run.yml"), jobs(&["typo"])).unwrap();
    let log = d.join("daemon.log");
    let mut child = netorch()
        .current_dir(d)
        .args(["daemon", "--config", "run.yml", "--status-file", "st.json"])
        .env_remove("NO_COLOR")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("job typo: end") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(!text.contains('\x1b'), "colour codes in the log: {text:?}");
    let end = text
        .lines()
        .find(|l| l.contains("job typo: end"))
        .unwrap_or_else(|| panic!("no end line: {text}"));
    assert!(
        end.contains("end: failed")
            && end.contains("host pattern `acces` matches no host")
            && end.contains("did you mean `access`?"),
        "{end}"
    );
}

/// A run that hangs is killed at the job's timeout (with everything it started) and
/// recorded as `timed_out`; the next ticks run again. A damaged status file left by the
/// last daemon is copied aside and reported, not silently dropped.
#[test]
fn a_hung_run_is_killed_at_its_timeout_and_a_damaged_status_is_kept_aside() {
    // The device answers its login and on_open commands, then never again.
    let sim = Sim::with("cisco_ios", 1)
        .args(&["--fail", "ios-001=hang-after:4"])
        .start();
    let dir = sim.dir.path();
    std::fs::write(
        dir.join("pb.yml"),
        "- hosts: all\n  tasks:\n    - name: v\n      command: show version\n      timeout: 60\n",
    )
    .unwrap();
    std::fs::write(dir.join("netorch-status.json"), "{\"jobs\": {\"half").unwrap();
    let schedule = format!(
        "jobs:\n  - name: hangs\n    every: 1s\n    timeout: 2s\n    playbook: pb.yml\n    inventory: {}\n",
        sim.inventory.display()
    );
    let t = Instant::now();
    let mut d = Daemon::start(dir, &schedule, &[]);
    let st = d.wait_for(40, "two timed-out runs", |s| {
        s["jobs"]["hangs"]["failures"].as_u64() >= Some(2)
    });
    assert!(t.elapsed() < Duration::from_secs(40), "{:?}", t.elapsed());
    let last = &st["jobs"]["hangs"]["last_run"];
    assert_eq!(last["result"], "timed_out", "{st}");
    assert_eq!(
        last["error"], "did not finish within 2s (the job's timeout) and was killed",
        "{st}"
    );
    assert!(last["duration_ms"].as_u64().unwrap() < 10_000, "{st}");
    assert_eq!(d.terminate(30), Some(0));

    let aside: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("netorch-status.json.corrupt-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read_to_string(&aside[0]).unwrap(),
        "{\"jobs\": {\"half"
    );
    let log = std::fs::read_to_string(dir.join("daemon.log")).unwrap();
    assert!(
        log.contains("netorch-status.json is damaged") && log.contains("kept a copy as"),
        "{log}"
    );
    assert!(log.contains("job hangs: end: timed_out"), "{log}");
}

/// The daemon raises its soft open-file limit to the hard one (runs, pipes and HTTP
/// clients all take descriptors).
#[test]
fn the_daemon_raises_its_open_file_limit() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("schedule.yml");
    std::fs::write(
        &cfg,
        "jobs:\n  - {name: idle, every: 1h, playbook: pb.yml, inventory: inv.yml}\n",
    )
    .unwrap();
    let port = free_port();
    let mut child = Command::new("prlimit")
        .arg("--nofile=256:4096")
        .arg(env!("CARGO_BIN_EXE_netorch"))
        .args(["daemon", "--config"])
        .arg(&cfg)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    // prlimit execs netorch in the same process; wait until the daemon serves.
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the daemon did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let nums: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(nums, ["4096", "4096"], "{line}");
}

/// Issue 12: a daemon whose jobs carry secrets (the device password, an extra var, a
/// token in the push URL) shows none of them in its log, its status file, `/status`,
/// `/metrics`, the run reports it keeps, the backup store or its commit messages.
#[test]
fn no_daemon_output_holds_a_secret() {
    const PW: &str = "Daemon-Pw-Secret-5151";
    const TOKEN: &str = "Daemon-Token-Secret-5252";
    const EXTRA: &str = "Daemon-Extra-Secret-5353";
    let sim = Sim::with("cisco_ios", 1).password(PW).start();
    let dir = sim.dir.path();
    let store = dir.join("store");
    std::fs::write(
        dir.join("pb.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: {msg: \"token {{ api_token }}\"}\n    - command: show version\n",
    )
    .unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let schedule = format!(
        "jobs:\n\
         \x20 - name: bk\n    every: 2s\n    backup: {{ store: {store}, push: 'https://bot:{TOKEN}@127.0.0.1:9/b.git' }}\n    inventory: {inv}\n\
         \x20 - name: play\n    every: 2s\n    playbook: pb.yml\n    inventory: {inv}\n    extra_vars: {{ api_token: {EXTRA} }}\n",
        store = store.display(),
        inv = sim.inventory.display(),
    );
    let mut d = Daemon::start(dir, &schedule, &["--listen", &addr, "-vv"]);
    let st = d.wait_for(60, "both jobs to run once", |s| {
        s["jobs"]["bk"]["last_run"]["result"].is_string()
            && s["jobs"]["play"]["last_run"]["result"].is_string()
    });
    let status = http_get(&addr, "/status");
    let metrics = http_get(&addr, "/metrics");
    assert_eq!(d.terminate(60), Some(0));
    let log = std::fs::read_to_string(dir.join("daemon.log")).unwrap();
    let status_file = std::fs::read_to_string(dir.join("netorch-status.json")).unwrap();
    let git_log = Command::new("git")
        .arg("-C")
        .arg(&store)
        .args(["log", "-p", "--all"])
        .output()
        .unwrap();
    let mut stored = String::new();
    for e in std::fs::read_dir(&store).unwrap().flatten() {
        if e.path().is_file() {
            stored.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    // The run reports the daemon keeps for its web interface.
    let mut kept = String::new();
    for job in std::fs::read_dir(dir.join("runs")).unwrap().flatten() {
        for f in std::fs::read_dir(job.path()).unwrap().flatten() {
            kept.push_str(&std::fs::read_to_string(f.path()).unwrap_or_default());
        }
    }
    assert!(
        kept.contains("\"report\": true"),
        "reports were kept: {kept}"
    );
    let everything = [
        ("kept run reports", kept.as_str()),
        ("daemon log", log.as_str()),
        ("status file", status_file.as_str()),
        ("/status", status.as_str()),
        ("/metrics", metrics.as_str()),
        ("store files", stored.as_str()),
        ("git log -p", &String::from_utf8_lossy(&git_log.stdout)),
    ];
    for (name, text) in everything {
        for secret in [PW, TOKEN, EXTRA] {
            assert!(!text.contains(secret), "{secret} in the {name}: {text}");
        }
    }
    // The jobs did run: the secrets had somewhere to leak to.
    assert!(log.contains("job play: end"), "{log}");
    assert!(st["jobs"]["bk"]["last_run"].is_object(), "{st}");
    assert!(commits(&store) >= 1);
}
