//! End-to-end tests of the netorch-sim binary over real SSH: the binary is started on
//! 127.0.0.1 with OS-assigned ports from a temp dir, driven with an in-process russh client
//! (host keys pinned from the written known_hosts), and killed on drop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use netorch_sim::client::{self, Term};
use russh::keys::PublicKey;

const T: Duration = Duration::from_secs(10);

struct Sim {
    child: Child,
    dir: tempfile::TempDir,
    ports: HashMap<String, u16>,
    keys: HashMap<u16, PublicKey>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        Sim::start_in(tempfile::tempdir().unwrap(), args)
    }

    fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Sim {
        let inv = dir.path().join("lab.yaml");
        let kh = dir.path().join("known_hosts");
        let mut child = Command::new(env!("CARGO_BIN_EXE_netorch-sim"))
            .args(args)
            .arg("--inventory-out")
            .arg(&inv)
            .arg("--known-hosts-out")
            .arg(&kh)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let ready = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("READY line");
        assert!(ready.starts_with("READY "), "{ready:?}");
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&inv).unwrap()).unwrap();
        let mut ports = HashMap::new();
        let mut collect = |hosts: &serde_yaml::Value| {
            if let Some(m) = hosts.as_mapping() {
                for (k, v) in m {
                    ports.insert(
                        k.as_str().unwrap().to_string(),
                        v["port"].as_u64().unwrap() as u16,
                    );
                }
            }
        };
        collect(&doc["all"]["hosts"]);
        if let Some(children) = doc["all"]["children"].as_mapping() {
            for (_, g) in children {
                collect(&g["hosts"]);
            }
        }
        let mut keys = HashMap::new();
        for line in std::fs::read_to_string(&kh).unwrap().lines() {
            let (host, key) = line.split_once(' ').unwrap();
            let port: u16 = host.rsplit(':').next().unwrap().parse().unwrap();
            keys.insert(port, PublicKey::from_openssh(key).unwrap());
        }
        Sim {
            child,
            dir,
            ports,
            keys,
        }
    }

    fn addr(&self, name: &str) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.ports[name]))
    }

    fn key(&self, name: &str) -> PublicKey {
        self.keys[&self.ports[name]].clone()
    }
}

async fn shell(sim: &Sim, name: &str) -> (client::Term, russh::client::Handle<client::Checker>) {
    let h = client::login(sim.addr(name), "admin", "admin", Some(sim.key(name)))
        .await
        .unwrap();
    let t = Term::open(&h, 200).await.unwrap();
    (t, h)
}

#[tokio::test]
async fn show_version_over_ssh_on_every_platform() {
    let sim = Sim::start(&["--count", "5", "--platform", "mixed"]);
    assert_eq!(sim.ports.len(), 5);
    let cases = [
        (
            "ios-001",
            "ios-001>",
            "terminal length 0",
            "Cisco IOS XE Software",
        ),
        ("eos-001", "eos-001>", "terminal length 0", "Arista vEOS"),
        (
            "junos-001",
            "admin@junos-001> ",
            "set cli screen-length 0",
            "Junos: 21.4R3.15",
        ),
        ("nxos-001", "nxos-001# ", "terminal length 0", "Nexus 9000v"),
        (
            "xr-001",
            "RP/0/RP0/CPU0:xr-001#",
            "terminal length 0",
            "Cisco IOS XR Software",
        ),
    ];
    for (name, prompt, paging_off, version) in cases {
        let (mut t, _h) = shell(&sim, name).await;
        t.read_until(prompt, T).await.unwrap();
        t.cmd(paging_off, prompt, T).await.unwrap();
        let out = t.cmd("show version", prompt, T).await.unwrap();
        assert!(out.contains(version), "{name}: {out}");
        assert!(out.contains("\r\n"), "{name}: CRLF line endings");
    }
}

#[tokio::test]
async fn exec_channel_answers_and_closes() {
    let sim = Sim::start(&["--count", "1", "--platform", "cisco_ios"]);
    let h = client::login(
        sim.addr("ios-001"),
        "admin",
        "admin",
        Some(sim.key("ios-001")),
    )
    .await
    .unwrap();
    let (out, status) = client::exec(&h, "show version").await.unwrap();
    assert!(out.contains("Cisco IOS XE Software"), "{out}");
    assert_eq!(status, Some(0));
    let (out, status) = client::exec(&h, "show running-config").await.unwrap();
    assert!(
        out.contains("hostname ios-001"),
        "privileged on exec: {out}"
    );
    assert_eq!(status, Some(0));
    let (_, status) = client::exec(&h, "show nonsense").await.unwrap();
    assert_eq!(status, Some(1));
}

#[tokio::test]
async fn config_push_and_save_over_ssh() {
    let sim = Sim::start(&["--count", "1", "--platform", "cisco_ios"]);
    let (mut t, _h) = shell(&sim, "ios-001").await;
    t.read_until("ios-001>", T).await.unwrap();
    t.cmd("enable", "Password: ", T).await.unwrap();
    t.cmd("en4ble", "ios-001#", T).await.unwrap();
    t.cmd("terminal length 0", "ios-001#", T).await.unwrap();
    t.cmd("conf t", "(config)#", T).await.unwrap();
    t.cmd("interface Loopback9", "(config-if)#", T)
        .await
        .unwrap();
    t.cmd("description pushed over ssh", "(config-if)#", T)
        .await
        .unwrap();
    t.cmd("end", "ios-001#", T).await.unwrap();
    t.cmd("copy run start", "[startup-config]? ", T)
        .await
        .unwrap();
    let out = t.cmd("", "ios-001#", T).await.unwrap();
    assert!(out.contains("[OK]"), "{out}");
    // A second connection sees the device state.
    let h2 = client::login(
        sim.addr("ios-001"),
        "admin",
        "admin",
        Some(sim.key("ios-001")),
    )
    .await
    .unwrap();
    let (out, _) = client::exec(&h2, "show startup-config").await.unwrap();
    assert!(
        out.contains("interface Loopback9\n description pushed over ssh"),
        "{out}"
    );
}

#[tokio::test]
async fn auth_methods_and_host_key_pinning() {
    let dir = tempfile::tempdir().unwrap();
    let key = russh::keys::PrivateKey::from(
        russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&[7u8; 32]),
    );
    let other = russh::keys::PrivateKey::from(
        russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&[8u8; 32]),
    );
    std::fs::write(
        dir.path().join("id.pub"),
        key.public_key().to_openssh().unwrap(),
    )
    .unwrap();
    let sim = Sim::start_in(
        dir,
        &[
            "--count",
            "2",
            "--platform",
            "arista_eos",
            "--authorized-key",
            "id.pub",
            "--password",
            "s3cret",
        ],
    );
    let addr = sim.addr("eos-001");
    // Wrong password, then the right one.
    let mut h = client::connect(addr, Some(sim.key("eos-001")))
        .await
        .unwrap();
    assert!(!h
        .authenticate_password("admin", "admin")
        .await
        .unwrap()
        .success());
    assert!(h
        .authenticate_password("admin", "s3cret")
        .await
        .unwrap()
        .success());
    // Keyboard-interactive with the same password.
    let mut h = client::connect(addr, Some(sim.key("eos-001")))
        .await
        .unwrap();
    assert!(
        client::login_keyboard_interactive(&mut h, "admin", "s3cret")
            .await
            .unwrap()
    );
    // Public key: the authorized one works, another does not.
    let mut h = client::connect(addr, Some(sim.key("eos-001")))
        .await
        .unwrap();
    assert!(!client::login_key(&mut h, "admin", other).await.unwrap());
    assert!(client::login_key(&mut h, "admin", key).await.unwrap());
    // Pinning eos-002's key while talking to eos-001 fails the handshake.
    assert!(client::connect(addr, Some(sim.key("eos-002")))
        .await
        .is_err());
    assert!(sim.dir.path().join("known_hosts").exists());
}

#[tokio::test]
async fn host_keys_are_stable_across_restarts_and_follow_the_seed() {
    let a = Sim::start(&["--count", "2", "--platform", "cisco_nxos", "--seed", "42"]);
    let b = Sim::start(&["--count", "2", "--platform", "cisco_nxos", "--seed", "42"]);
    let c = Sim::start(&["--count", "2", "--platform", "cisco_nxos", "--seed", "43"]);
    assert_eq!(a.key("nxos-001"), b.key("nxos-001"));
    assert_ne!(a.key("nxos-001"), a.key("nxos-002"));
    assert_ne!(a.key("nxos-001"), c.key("nxos-001"));
}

#[tokio::test]
async fn fault_injection_modes() {
    let sim = Sim::start(&[
        "--count",
        "5",
        "--platform",
        "cisco_ios",
        "--fail",
        "ios-001=refuse",
        "--fail",
        "ios-002=auth-fail",
        "--fail",
        "ios-003=drop-after:2",
        "--fail",
        "ios-004=hang-after:2",
        "--fail",
        "ios-005=truncate-after:1",
    ]);
    // refuse: the TCP connection closes before the SSH banner.
    assert!(client::connect(sim.addr("ios-001"), None).await.is_err());
    // auth-fail: the right password is rejected.
    assert!(client::login(sim.addr("ios-002"), "admin", "admin", None)
        .await
        .is_err());
    // drop-after:2: the first command is answered, the second kills the connection.
    let (mut t, _h) = shell(&sim, "ios-003").await;
    t.read_until("ios-003>", T).await.unwrap();
    t.cmd("show clock", "ios-003>", T).await.unwrap();
    let err = t.cmd("show clock", "ios-003>", T).await.unwrap_err();
    assert!(err.to_string().contains("closed"), "{err}");
    // hang-after:2: the second command never gets an answer, the session stays open.
    let (mut t, _h) = shell(&sim, "ios-004").await;
    t.read_until("ios-004>", T).await.unwrap();
    t.cmd("show clock", "ios-004>", T).await.unwrap();
    let err = t
        .cmd("show version", "ios-004>", Duration::from_millis(700))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(!t.closed);
    // truncate-after:1: half of the running config, then the connection closes.
    let h = client::login(sim.addr("ios-005"), "admin", "admin", None)
        .await
        .unwrap();
    let (out, status) = client::exec(&h, "show running-config").await.unwrap();
    assert!(out.contains("hostname ios-005"), "{out}");
    assert!(!out.contains("\nend"), "cut before the end: {out}");
    assert_eq!(status, None);
}

#[tokio::test]
async fn latency_delays_each_answer() {
    let sim = Sim::start(&[
        "--count",
        "1",
        "--platform",
        "juniper_junos",
        "--latency-ms",
        "300",
    ]);
    let (mut t, _h) = shell(&sim, "junos-001").await;
    t.read_until("admin@junos-001> ", T).await.unwrap();
    let start = Instant::now();
    t.cmd("show system uptime", "admin@junos-001> ", T)
        .await
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn inventory_mode_serves_device_hosts_and_writes_an_overlay() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("site.yaml"),
        "all:
  vars: {ansible_user: admin}
  children:
    routers:
      vars: {ansible_network_os: cisco.ios.ios}
      hosts:
        edge-ams-1: {ansible_host: 192.0.2.1}
    firewalls:
      hosts:
        fw-1: {ansible_network_os: junipernetworks.junos.junos}
    linux:
      hosts:
        web-1: {ansible_host: 192.0.2.9}
",
    )
    .unwrap();
    let sim = Sim::start_in(dir, &["--inventory", "site.yaml"]);
    let mut names: Vec<_> = sim.ports.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["edge-ams-1", "fw-1"]);
    let overlay = std::fs::read_to_string(sim.dir.path().join("lab.yaml")).unwrap();
    assert!(overlay.contains("known_hosts_file"), "{overlay}");
    assert!(
        !overlay.contains("password"),
        "credentials stay in the real inventory"
    );
    let (mut t, _h) = shell(&sim, "fw-1").await;
    t.read_until("admin@fw-1> ", T).await.unwrap();
    let (mut t, _h) = shell(&sim, "edge-ams-1").await;
    t.read_until("edge-ams-1>", T).await.unwrap();
    t.cmd("terminal length 0", "edge-ams-1>", T).await.unwrap();
    let out = t.cmd("show version", "edge-ams-1>", T).await.unwrap();
    assert!(out.contains("edge-ams-1 uptime is"), "{out}");
}

/// Runs `command` on exec channels until the output satisfies `done` (up to 5 s).
async fn poll_exec(sim: &Sim, name: &str, command: &str, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let h = client::login(sim.addr(name), "admin", "admin", Some(sim.key(name)))
            .await
            .unwrap();
        let (out, _) = client::exec(&h, command).await.unwrap();
        if done(&out) || start.elapsed() > Duration::from_secs(5) {
            return out;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn config_dir_starts_devices_and_revert_timers_fire_without_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    std::fs::create_dir(&cfg).unwrap();
    std::fs::write(
        cfg.join("ios-001.cfg"),
        "hostname edge-from-file\n!\ninterface Loopback7\n description from file\n!\narchive\n path flash:archive\n",
    )
    .unwrap();
    std::fs::write(
        cfg.join("junos-001.cfg"),
        "system {\n    host-name fw-from-file;\n    services {\n        ssh;\n    }\n}\n",
    )
    .unwrap();
    // mixed, 3 devices: ios-001, eos-001 (no file: the default config), junos-001.
    let sim = Sim::start_in(
        dir,
        &[
            "--count",
            "3",
            "--platform",
            "mixed",
            "--config-dir",
            "cfg",
            "--timer-scale-ms",
            "600",
        ],
    );
    let h = client::login(
        sim.addr("eos-001"),
        "admin",
        "admin",
        Some(sim.key("eos-001")),
    )
    .await
    .unwrap();
    let (out, _) = client::exec(&h, "show running-config").await.unwrap();
    assert!(out.contains("hostname eos-001"), "{out}");

    // IOS: the file's config, then a revert timer that fires after the session is gone.
    let (mut t, h) = shell(&sim, "ios-001").await;
    t.read_until("edge-from-file>", T).await.unwrap();
    t.cmd("enable", "Password: ", T).await.unwrap();
    t.cmd("en4ble", "edge-from-file#", T).await.unwrap();
    t.cmd("terminal length 0", "edge-from-file#", T)
        .await
        .unwrap();
    let run = t
        .cmd("show running-config", "edge-from-file#", T)
        .await
        .unwrap()
        .replace("\r\n", "\n");
    assert!(
        run.contains("!\nhostname edge-from-file\n!\ninterface Loopback7\n description from file\n!\narchive\n path flash:archive\nend\n"),
        "{run}"
    );
    t.cmd("configure terminal revert timer 1", "(config)#", T)
        .await
        .unwrap();
    t.cmd("hostname edge-changed", "edge-changed(config)#", T)
        .await
        .unwrap();
    t.cmd("end", "edge-changed#", T).await.unwrap();
    drop(t);
    drop(h);
    let run = poll_exec(&sim, "ios-001", "show running-config", |o| {
        o.contains("hostname edge-from-file")
    })
    .await;
    assert!(run.contains("hostname edge-from-file"), "{run}");

    // Junos: braces file, then `commit confirmed 1` left unconfirmed.
    let (mut t, h) = shell(&sim, "junos-001").await;
    let p = "admin@fw-from-file> ";
    t.read_until(p, T).await.unwrap();
    t.cmd("set cli screen-length 0", p, T).await.unwrap();
    let conf = t
        .cmd("show configuration", p, T)
        .await
        .unwrap()
        .replace("\r\n", "\n");
    assert!(
        conf.contains(
            "system {\n    host-name fw-from-file;\n    services {\n        ssh;\n    }\n}"
        ),
        "{conf}"
    );
    t.cmd("configure", "# ", T).await.unwrap();
    t.cmd("set system ntp server 10.9.9.9", "# ", T)
        .await
        .unwrap();
    let out = t.cmd("commit confirmed 1", "# ", T).await.unwrap();
    assert!(
        out.contains("commit confirmed will be automatically rolled back in 1 minutes unless confirmed\r\ncommit complete"),
        "{out}"
    );
    drop(t);
    drop(h);
    let set = poll_exec(&sim, "junos-001", "show configuration | display set", |o| {
        !o.contains("10.9.9.9")
    })
    .await;
    assert!(
        !set.contains("10.9.9.9") && set.contains("set system host-name fw-from-file"),
        "{set}"
    );
}
