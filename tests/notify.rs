//! Change notifications against real servers on loopback: a webhook receiver (every format,
//! the HMAC signature checked here independently, a retry after a 500, hostile receivers
//! that hang or never stop talking) and aiosmtpd (plain SMTP with AUTH, STARTTLS with a CA
//! made for the test), driven by `netorch backup` against netorch-sim and by the daemon.
//! Secrets never reach a payload or a mail, even from a store that keeps them.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;

use crate::util::report::json_of;
use crate::util::smtpd::Smtpd;
use crate::util::webhookd::{Receiver, Reply};
use crate::util::{netorch, sim::Sim, write};

/// The community the simulator's configs carry (see tests/backup.rs).
const SIM_SECRET: &str = "s3cr3t";

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

fn ok(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(out)
}

/// The device password of the sim's inventory: must never appear anywhere.
fn sim_password(sim: &Sim) -> String {
    sim.hosts[0].vars["password"]
        .as_str()
        .unwrap_or("admin")
        .to_string()
}

fn no_secrets(what: &str, text: &str, sim: &Sim) {
    assert!(
        !text.contains(SIM_SECRET),
        "{what} leaks the community: {text}"
    );
    let pw = sim_password(sim);
    assert!(
        pw.len() < 4 || !text.contains(&pw),
        "{what} leaks the device password: {text}"
    );
}

fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(data);
    data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
}

fn deliveries(doc: &Value) -> Vec<Value> {
    doc["notifications"].as_array().cloned().unwrap_or_default()
}

#[test]
fn webhook_formats_signature_retry_and_no_secrets() {
    let sim = Sim::with("cisco_ios", 2).start();
    let plain = Receiver::start(&[Reply::Status(500)], Reply::Status(200));
    let chat = Receiver::start(&[], Reply::Status(200));
    let key = "hmac-k3y-for-test";
    write(sim.dir.path(), "hook.key", &format!("{key}\n"));
    let cfg = write(
        sim.dir.path(),
        "notify.yml",
        &format!(
            "links:\n  commit: https://git.example.com/configs/-/commit/{{commit}}\n  device: https://git.example.com/configs/-/blob/main/{{path}}\n\
             targets:\n\
             \x20 - webhook:\n      url: {p}/hook\n      secret_file: hook.key\n      timeout: 20s\n\
             \x20 - webhook: {{ url: '{c}/slack', format: slack }}\n\
             \x20 - webhook: {{ url: '{c}/teams', format: teams }}\n\
             \x20 - webhook: {{ url: '{c}/mattermost', format: mattermost }}\n",
            p = plain.url,
            c = chat.url
        ),
    );
    let store = sim.dir.path().join("store");
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // The store keeps the secrets: the notifications must mask them all the same.
    let doc = ok(&backup(
        &sim,
        &store,
        &["--keep-secrets", "--notify", cfg.to_str().unwrap()],
    ));
    let commit = doc["backups"][0]["commit"].as_str().unwrap().to_string();
    let d = deliveries(&doc);
    assert_eq!(d.len(), 4, "{doc}");
    assert!(d.iter().all(|x| x["status"] == "sent"), "{d:?}");
    assert_eq!(d[0]["attempts"], 2, "a retry after the 500: {d:?}");
    assert_eq!(d[0]["events"], serde_json::json!(["changed"]));

    // The JSON document: retried once with the same delivery id, signed.
    let reqs = plain.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].header("x-netorch-delivery"),
        reqs[1].header("x-netorch-delivery")
    );
    for r in &reqs {
        let ts = r.header("x-netorch-timestamp").unwrap();
        let t: u64 = ts.parse().unwrap();
        assert!(t + 1 >= started && t <= started + 120, "{ts}");
        let mut signed = ts.as_bytes().to_vec();
        signed.push(b'.');
        signed.extend_from_slice(&r.body);
        assert_eq!(
            r.header("x-netorch-signature").unwrap(),
            format!("sha256={}", hmac_hex(key.as_bytes(), &signed))
        );
        // A wrong key does not verify.
        assert_ne!(
            r.header("x-netorch-signature").unwrap(),
            format!("sha256={}", hmac_hex(b"other", &signed))
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("x-netorch-event"), Some("changed"));
        no_secrets("the JSON payload", &r.text(), &sim);
        assert!(!r.text().contains(key), "the HMAC key is in the payload");
    }
    let body = reqs[1].json();
    assert_eq!(body["events"], serde_json::json!(["changed"]));
    assert_eq!(body["commit"], commit.as_str());
    assert_eq!(
        body["links"]["commit"],
        format!("https://git.example.com/configs/-/commit/{commit}")
    );
    let changed = body["changed"].as_array().unwrap();
    let mut hosts: Vec<&str> = changed
        .iter()
        .map(|c| c["host"].as_str().unwrap())
        .collect();
    hosts.sort();
    let mut want: Vec<&str> = sim.hosts.iter().map(|h| h.name.as_str()).collect();
    want.sort();
    assert_eq!(hosts, want);
    let diff = changed[0]["diff"].as_str().unwrap();
    assert!(
        diff.contains("+snmp-server community ******** RO"),
        "{diff}"
    );
    assert!(changed[0]["new"].as_bool().unwrap());
    assert!(changed[0]["link"]
        .as_str()
        .unwrap()
        .starts_with("https://git.example.com/configs/-/blob/main/"));
    assert!(body["failed"].as_array().unwrap().is_empty());

    // The chat shapes.
    let reqs = chat.requests();
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    let by = |p: &str| reqs.iter().find(|r| r.path == p).unwrap().json();
    let slack = by("/slack");
    let text = slack["text"].as_str().unwrap();
    assert!(
        text.starts_with("*netorch backup: 2 devices changed*"),
        "{text}"
    );
    assert!(text.contains("```diff\n"), "{text}");
    let teams = by("/teams");
    assert_eq!(teams["type"], "message");
    let att = &teams["attachments"][0];
    assert_eq!(
        att["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(att["content"]["type"], "AdaptiveCard");
    let blocks = att["content"]["body"].as_array().unwrap();
    assert_eq!(blocks[0]["text"], "netorch backup: 2 devices changed");
    assert!(blocks[1]["text"].as_str().unwrap().contains(want[0]));
    let mm = by("/mattermost");
    assert_eq!(mm["username"], "netorch");
    assert!(mm["text"]
        .as_str()
        .unwrap()
        .starts_with("**netorch backup: 2 devices changed**"));
    for r in &reqs {
        no_secrets(&r.path, &r.text(), &sim);
        assert!(r.header("x-netorch-signature").is_none());
    }
}

fn mail_text(m: &Value, kind: &str) -> String {
    m["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} part: {m}"))["content"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn mail_over_plain_smtp_with_auth_over_starttls_and_over_implicit_tls() {
    let sim = Sim::with("cisco_ios", 2).start();
    let plain = Smtpd::start(false);
    let tls = Smtpd::start(true);
    let smtps = Smtpd::start_with(crate::util::smtpd::Tls::Implicit);
    write(
        sim.dir.path(),
        "smtp.pass",
        &format!("{}\n", plain.password),
    );
    let cfg = write(
        sim.dir.path(),
        "notify.yml",
        &format!(
            "targets:\n\
             \x20 - email:\n      server: 127.0.0.1\n      port: {}\n      tls: none\n      username: {}\n      password_file: smtp.pass\n      from: netorch@example.com\n      to: [neteng@example.com, noc@example.com]\n\
             \x20 - email:\n      server: localhost\n      port: {}\n      tls: starttls\n      ca_file: {}\n      username: {}\n      password_env: NETORCH_TEST_SMTP_PASSWORD\n      from: netorch@example.com\n      to: neteng@example.com\n      subject_prefix: '[lab]'\n\
             \x20 - email: {{ server: localhost, port: {}, tls: tls, ca_file: '{}', username: {}, password_file: smtp.pass, from: netorch@example.com, to: neteng@example.com }}\n",
            plain.port,
            plain.user,
            tls.port,
            tls.ca().display(),
            tls.user,
            smtps.port,
            smtps.ca().display(),
            smtps.user
        ),
    );
    let store = sim.dir.path().join("store");
    let out = netorch()
        .current_dir(sim.dir.path())
        .args(["backup", "-i"])
        .arg(&sim.inventory)
        .arg("--store")
        .arg(&store)
        .args(["--json", "--keep-secrets", "--notify"])
        .arg(&cfg)
        .env("NETORCH_TEST_SMTP_PASSWORD", &tls.password)
        .output()
        .unwrap();
    let doc = ok(&out);
    let d = deliveries(&doc);
    assert_eq!(d.len(), 3, "{doc}");
    assert!(d.iter().all(|x| x["status"] == "sent"), "{d:?}");
    let names: Vec<&str> = sim.hosts.iter().map(|h| h.name.as_str()).collect();
    for (server, encrypted, rcpts) in [(&plain, false, 2), (&tls, true, 1), (&smtps, true, 1)] {
        let mails = server.messages();
        assert_eq!(mails.len(), 1, "one mail per run: {mails:?}");
        let m = &mails[0];
        assert_eq!(m["auth_user"], "netorch");
        assert_eq!(m["tls"], encrypted);
        assert_eq!(m["mail_from"], "netorch@example.com");
        assert_eq!(m["rcpt_tos"].as_array().unwrap().len(), rcpts);
        assert_eq!(m["content_type"], "multipart/alternative");
        let text = mail_text(m, "text/plain");
        let html = mail_text(m, "text/html");
        for n in &names {
            assert!(text.contains(n) && html.contains(n), "{n}: {text}");
        }
        assert!(text.contains("Changed (2)"), "{text}");
        assert!(
            text.contains("+snmp-server community ******** RO"),
            "{text}"
        );
        assert!(html.contains("<pre"), "{html}");
        // Device text is escaped in the HTML part (the banner has no markup of its own).
        assert!(!html.contains("<script"), "{html}");
        no_secrets("the mail", &m["data"].to_string(), &sim);
        assert!(!m["data"].to_string().contains(&server.password));
    }
    assert!(tls.messages()[0]["subject"]
        .as_str()
        .unwrap()
        .starts_with("[lab] backup: 2 devices changed"));
}

/// An inventory with one host nothing answers on.
fn dead_host(dir: &Path) -> PathBuf {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    write(
        dir,
        "dead.yml",
        &format!(
            "all:\n  hosts:\n    dead-rtr-1:\n      host: 127.0.0.1\n      port: {port}\n      platform: cisco_ios\n      user: admin\n      password: whatever-pw\n"
        ),
    )
}

#[test]
fn one_message_per_change_none_when_unchanged_and_failures_told() {
    let sim = Sim::with("cisco_ios", 3).start();
    let hook = Receiver::start(&[], Reply::Status(204));
    let smtp = Smtpd::start(false);
    write(sim.dir.path(), "smtp.pass", &smtp.password);
    let cfg = write(
        sim.dir.path(),
        "notify.yml",
        &format!(
            "targets:\n  - webhook: {{ url: '{}/n' }}\n  - email: {{ server: 127.0.0.1, port: {}, tls: none, username: {}, password_file: smtp.pass, from: n@example.com, to: ops@example.com }}\n",
            hook.url, smtp.port, smtp.user
        ),
    );
    let notify = ["--notify", cfg.to_str().unwrap()];
    let store = sim.dir.path().join("store");

    ok(&backup(&sim, &store, &notify));
    assert_eq!(hook.requests().len(), 1);
    assert_eq!(smtp.messages().len(), 1);

    // Nothing changed: nothing sent, nothing in the report.
    let doc = ok(&backup(&sim, &store, &notify));
    assert!(doc.get("notifications").is_none(), "{doc}");
    assert_eq!(hook.requests().len(), 1);
    assert_eq!(smtp.messages().len(), 1);

    // One device changes: one webhook and one mail, naming it alone, with its diff.
    let target = sim.hosts[1].name.clone();
    let pb = write(
        sim.dir.path(),
        "ntp.yml",
        "- hosts: all\n  tasks:\n    - name: NTP\n      config:\n        lines: [ntp server 10.9.9.9]\n",
    );
    let out = crate::util::run_playbook(&sim, &pb, &["--limit", &target]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = ok(&backup(&sim, &store, &notify));
    assert_eq!(deliveries(&doc).len(), 2, "{doc}");
    let reqs = hook.wait_for(2, 5);
    assert_eq!(reqs.len(), 2);
    let body = reqs[1].json();
    let changed = body["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{body}");
    assert_eq!(changed[0]["host"], target.as_str());
    assert!(
        changed[0]["diff"]
            .as_str()
            .unwrap()
            .contains("+ntp server 10.9.9.9"),
        "{body}"
    );
    let mails = smtp.wait_for(2, 5);
    let text = mail_text(&mails[1], "text/plain");
    assert!(
        text.contains(&target) && text.contains("+ntp server 10.9.9.9"),
        "{text}"
    );
    assert!(
        !text.contains(&sim.hosts[0].name),
        "only the changed device: {text}"
    );

    // A device that cannot be reached: a failure notification, even with nothing changed.
    let dead = dead_host(sim.dir.path());
    let out = netorch()
        .current_dir(sim.dir.path())
        .args(["backup", "-i"])
        .arg(&sim.inventory)
        .arg("-i")
        .arg(&dead)
        .arg("--store")
        .arg(&store)
        .arg("--json")
        .args(notify)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reqs = hook.wait_for(3, 5);
    let body = reqs[2].json();
    assert_eq!(body["events"], serde_json::json!(["failed"]), "{body}");
    assert_eq!(body["result"], "failed");
    assert_eq!(body["failed"][0]["host"], "dead-rtr-1");
    assert_eq!(body["failed"][0]["status"], "unreachable");
    assert_eq!(reqs[2].header("x-netorch-event"), Some("failed"));
    let mails = smtp.wait_for(3, 5);
    let text = mail_text(&mails[2], "text/plain");
    assert!(
        text.contains("Failed (1)") && text.contains("dead-rtr-1"),
        "{text}"
    );
    assert!(!text.contains("whatever-pw"), "{text}");
}

#[test]
fn hostile_or_absent_receivers_never_hold_the_backup() {
    let sim = Sim::with("cisco_ios", 1).start();
    let hang = Receiver::start(&[], Reply::Hang);
    let endless = Receiver::start(&[], Reply::Endless);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = write(
        sim.dir.path(),
        "notify.yml",
        &format!(
            "targets:\n\
             \x20 - webhook: {{ name: hangs, url: '{}/x', timeout: 2s, retries: 0 }}\n\
             \x20 - webhook: {{ name: endless, url: '{}/x', timeout: 5s }}\n\
             \x20 - webhook: {{ name: nobody, url: 'http://127.0.0.1:{closed}/x', timeout: 2s }}\n",
            hang.url, endless.url
        ),
    );
    let store = sim.dir.path().join("store");
    let t = Instant::now();
    let out = backup(&sim, &store, &["--notify", cfg.to_str().unwrap()]);
    let took = t.elapsed();
    let doc = ok(&out);
    // The backup itself is whole: the store has its commit.
    assert!(doc["backups"][0]["commit"].is_string(), "{doc}");
    assert!(took < Duration::from_secs(12), "the run took {took:?}");
    let d = deliveries(&doc);
    let get = |n: &str| d.iter().find(|x| x["target"] == n).unwrap().clone();
    let h = get("hangs");
    assert_eq!(h["status"], "failed");
    assert!(h["error"].as_str().unwrap().contains("timed out"), "{h}");
    assert!(h["duration_ms"].as_u64().unwrap() < 5000, "{h}");
    assert_eq!(get("endless")["status"], "sent", "{d:?}");
    let n = get("nobody");
    assert_eq!(n["status"], "failed");
    assert!(n["attempts"].as_u64().unwrap() >= 2, "retried: {n}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: notification not delivered: hangs:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: notification not delivered: nobody:"),
        "{stderr}"
    );
}

#[test]
fn bad_notify_configs_are_refused_before_any_device_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dead_host(dir.path());
    let cfg = write(
        dir.path(),
        "notify.yml",
        "targets:\n  - webhook:\n      url: https://chat.example.com/hooks/x\n      fromat: slack\n",
    );
    let store = dir.path().join("store");
    let run = |notify: &str| {
        netorch()
            .current_dir(dir.path())
            .args(["backup", "-i"])
            .arg(&inv)
            .arg("--store")
            .arg(&store)
            .args(["--notify", notify])
            .output()
            .unwrap()
    };
    let out = run(cfg.to_str().unwrap());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("notify.yml:4:7"), "{err}");
    assert!(err.contains("did you mean `format`?"), "{err}");
    assert!(!store.exists(), "the store was touched");
    let out = run("https://chat.example.com/hooks/SECRETPATH");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("slack:URL") && !err.contains("SECRETPATH"),
        "{err}"
    );
    write(
        dir.path(),
        "n2.yml",
        "targets:\n  - chat: { url: https://x }\n",
    );
    let out = run("n2.yml");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("n2.yml:2:5") && err.contains("webhook, email"),
        "{err}"
    );

    // The daemon's schedule: the same checks, with the line.
    let sched = write(
        dir.path(),
        "schedule.yml",
        &format!(
            "notify:\n  targets:\n    - email: {{ server: mail.example.com, tls: none, from: a@example.com, to: b@example.com }}\njobs:\n  - name: b\n    every: 1h\n    backup: {{ store: st }}\n    inventory: {}\n",
            inv.display()
        ),
    );
    let out = netorch()
        .args(["daemon", "--check", "--config"])
        .arg(&sched)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("schedule.yml:3:") && err.contains("allow_insecure"),
        "{err}"
    );
}

#[test]
fn the_daemon_notifies_after_runs_and_keeps_the_deliveries_in_its_status() {
    let sim = Sim::with("cisco_ios", 1).start();
    let hook = Receiver::start(&[], Reply::Status(200));
    let dir = sim.dir.path();
    let schedule = format!(
        "notify:\n  links: {{ job: 'https://netorch.example.com/jobs/{{job}}' }}\n  targets:\n    - webhook: {{ url: '{}/d' }}\n\
         jobs:\n  - name: nightly\n    every: 1s\n    backup: {{ store: store }}\n    inventory: {}\n\
         \x20 - name: broken\n    every: 1s\n    playbook: missing.yml\n    inventory: {}\n\
         \x20 - name: quiet\n    every: 1s\n    playbook: missing.yml\n    inventory: {}\n    notify: {{ targets: [] }}\n",
        hook.url,
        sim.inventory.display(),
        sim.inventory.display(),
        sim.inventory.display()
    );
    let cfg = write(dir, "schedule.yml", &schedule);
    let mut child = netorch()
        .current_dir(dir)
        .args(["daemon", "--config"])
        .arg(&cfg)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    let status_file = dir.join("netorch-status.json");
    let deadline = Instant::now() + Duration::from_secs(20);
    let st = loop {
        let st: Value = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let sent = |j: &str| {
            st["jobs"][j]["last_run"]["notifications"]
                .as_array()
                .is_some_and(|n| !n.is_empty())
        };
        if sent("nightly") && sent("broken") && st["jobs"]["quiet"]["last_run"].is_object() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("no notifications in the status: {st}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let n = &st["jobs"]["nightly"]["last_run"]["notifications"][0];
    assert_eq!(n["status"], "sent", "{st}");
    assert_eq!(n["events"], serde_json::json!(["changed"]));
    let b = &st["jobs"]["broken"]["last_run"]["notifications"][0];
    assert_eq!(b["events"], serde_json::json!(["failed"]), "{st}");
    assert!(
        st["jobs"]["quiet"]["last_run"]["notifications"].is_null(),
        "{st}"
    );
    let reqs = hook.requests();
    let job = |name: &str| {
        reqs.iter()
            .map(|r| r.json())
            .find(|b| b["job"] == name)
            .unwrap_or_else(|| panic!("no request for job {name}"))
    };
    let nightly = job("nightly");
    assert_eq!(nightly["kind"], "backup");
    assert_eq!(nightly["changed"][0]["host"], sim.hosts[0].name.as_str());
    assert!(nightly["changed"][0]["diff"]
        .as_str()
        .unwrap()
        .contains("+hostname"));
    assert_eq!(
        nightly["links"]["job"],
        "https://netorch.example.com/jobs/nightly"
    );
    no_secrets("the daemon's payload", &nightly.to_string(), &sim);
    let broken = job("broken");
    assert_eq!(broken["result"], "failed");
    assert!(
        broken["error"].as_str().unwrap().contains("missing.yml"),
        "{broken}"
    );
    assert!(reqs.iter().all(|r| r.json()["job"] != "quiet"));
}

#[test]
fn a_failing_playbook_run_notifies_its_failures_and_a_clean_one_nothing() {
    let sim = Sim::with("cisco_ios", 2).start();
    let hook = Receiver::start(&[], Reply::Status(200));
    let notify = format!("mattermost:{}/mm", hook.url);
    let target = sim.hosts[0].name.clone();
    let pb = write(
        sim.dir.path(),
        "check.yml",
        &format!(
            "- hosts: all\n  tasks:\n    - name: Version\n      command: show version\n    - name: Policy\n      fail: {{ msg: 'policy @channel violated on {{{{ inventory_hostname }}}}' }}\n      when: inventory_hostname == '{target}'\n"
        ),
    );
    let out = crate::util::run_playbook(&sim, &pb, &["--notify", &notify]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("NOTIFY webhook mattermost http://127.0.0.1:"),
        "{stdout}"
    );
    let reqs = hook.wait_for(1, 5);
    let text = reqs[0].json()["text"].as_str().unwrap().to_string();
    assert!(
        text.starts_with("**netorch run: 1 device failed**"),
        "{text}"
    );
    assert!(
        text.contains(&format!("policy @\u{2060}channel violated on {target}")),
        "{text}"
    );
    assert!(!text.contains(&sim.hosts[1].name), "{text}");
    // All ok: nothing to say.
    let pb = write(
        sim.dir.path(),
        "ok.yml",
        "- hosts: all\n  tasks:\n    - name: Version\n      command: show version\n",
    );
    let out = crate::util::run_playbook(&sim, &pb, &["--notify", &notify]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(hook.requests().len(), 1);
}
