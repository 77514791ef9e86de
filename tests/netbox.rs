//! NetBox as an inventory source, against netorch-sim's NetBox 4.x API fake (`--netbox`)
//! on 127.0.0.1: nb_inventory files read unchanged, groups and host vars as nb_inventory
//! names them, a playbook over the simulated devices NetBox lists, local overrides, the
//! token kept out of every output, server faults and the cache.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::util::sim::{self, Sim};
use crate::util::{netorch, write};

const TOKEN: &str = "0123456789abcdef0123456789abcdef01234567";

/// A NetBox fake alone (synthetic devices `nb-00000`...), stopped on drop.
struct Netbox {
    child: Option<Child>,
    url: String,
    dir: tempfile::TempDir,
}

impl Netbox {
    fn start(args: &[&str]) -> Netbox {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(sim::binary())
            .args(["--netbox", "--bind", "127.0.0.1", "--netbox-token", TOKEN])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for _ in 0..2 {
                let _ = tx.send(lines.next().and_then(Result::ok).unwrap_or_default());
            }
            for _ in lines {}
        });
        let ready = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let line = rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
        assert!(ready.starts_with("READY"), "{ready:?}");
        let url = line.strip_prefix("NETBOX ").unwrap_or_default().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{line:?}");
        Netbox {
            child: Some(child),
            url,
            dir,
        }
    }

    /// Write `netbox.yml`: the plugin line, the endpoint, then `rest`.
    fn inventory(&self, rest: &str) -> PathBuf {
        write(
            self.dir.path(),
            "netbox.yml",
            &format!(
                "plugin: netbox.netbox.nb_inventory\napi_endpoint: {}\nvalidate_certs: false\n{rest}",
                self.url
            ),
        )
    }

    /// `netorch ARGS` with the token in NETBOX_TOKEN and a private cache folder.
    fn netorch(&self, args: &[&str]) -> Output {
        nb_command(self.dir.path(), TOKEN)
            .args(args)
            .output()
            .unwrap()
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Netbox {
    fn drop(&mut self) {
        self.stop();
    }
}

fn nb_command(dir: &Path, token: &str) -> Command {
    let mut c = netorch();
    c.current_dir(dir)
        .env("NETBOX_TOKEN", token)
        .env_remove("NETBOX_API_KEY")
        .env_remove("NETBOX_API_TOKEN")
        .env("XDG_CACHE_HOME", dir.join("cache"));
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", text(o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn list_json(o: &Output) -> serde_json::Map<String, Value> {
    let out = ok(o);
    match serde_json::from_str(&out) {
        Ok(Value::Object(m)) => m,
        _ => panic!("inventory list --json: {out}"),
    }
}

fn host_vars(nb: &Netbox, inv: &Path, host: &str) -> Value {
    let inv = inv.to_string_lossy();
    let out = ok(&nb.netorch(&["inventory", "-i", &inv, "host", host]));
    serde_yaml::from_str(&out).unwrap()
}

#[test]
fn list_and_graph_group_devices_and_vms_as_nb_inventory_does() {
    let nb = Netbox::start(&["--netbox-devices", "12", "--netbox-vms", "2"]);
    let inv = nb.inventory(
        "group_by:\n  - sites\n  - device_roles\n  - platforms\n  - tags\n  - status\n  - region\n",
    );
    let invs = inv.to_string_lossy();
    let hosts = list_json(&nb.netorch(&["inventory", "-i", &invs, "list", "--json"]));
    assert_eq!(hosts.len(), 14, "{hosts:?}");
    // Device 1: site fra (region de in eu), role access, arista-eos, tags golden + pci.
    let h = &hosts["nb-00001"];
    assert_eq!(h["address"], "10.0.0.1");
    assert_eq!(h["platform"], "arista_eos");
    let groups: Vec<&str> = h["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for g in [
        "sites_fra",
        "device_roles_access",
        "platforms_arista-eos",
        "tags_golden",
        "tags_pci",
        "status_active",
        "region_de",
        "region_eu",
    ] {
        assert!(groups.contains(&g), "{g} in {groups:?}");
    }
    assert!(!groups.contains(&"sites_ams"), "{groups:?}");
    assert!(hosts.contains_key("vm-000") && hosts.contains_key("vm-001"));
    assert_eq!(hosts["vm-000"]["platform"], "linux");
    assert_eq!(hosts["vm-000"]["address"], "198.51.100.1");

    let graph = ok(&nb.netorch(&["inventory", "-i", &invs, "graph"]));
    assert!(
        graph.contains("  |--@region_eu:\n  |  |--@region_de:\n  |  |  |--nb-00001\n"),
        "{graph}"
    );
    assert!(graph.contains("|--@tags_pci:"), "{graph}");
    // Planned devices (every fifth) are in their status group.
    let planned = graph.split("@status_planned:\n").nth(1).unwrap_or_default();
    assert!(
        planned.starts_with("  |  |--nb-00004\n  |  |--nb-00009\n"),
        "{graph}"
    );

    let v = host_vars(&nb, &inv, "nb-00001");
    assert_eq!(v["sites"], serde_json::json!(["fra"]));
    assert_eq!(v["device_roles"], serde_json::json!(["access"]));
    assert_eq!(v["platforms"], serde_json::json!(["arista-eos"]));
    assert_eq!(v["tags"], serde_json::json!(["golden", "pci"]));
    assert_eq!(v["regions"], serde_json::json!(["de", "eu"]));
    assert_eq!(v["custom_fields"]["owner"], "team-a");
    assert_eq!(v["ansible_host"], "10.0.0.1");
    // config_context is off by default, as in nb_inventory.
    assert!(v.get("config_context").is_none(), "{v:?}");
}

#[test]
fn raw_group_names_filters_compose_and_flattened_config_context() {
    let nb = Netbox::start(&["--netbox-devices", "12", "--netbox-vms", "2"]);
    let inv = nb.inventory(
        "group_by: [sites, tags]\ngroup_names_raw: true\nvirtual_machines: false\n\
         config_context: true\nflatten_config_context: true\n\
         query_filters:\n  - site: ams\n\
         device_query_filters:\n  - status: active\n  - tag: pci\n\
         dns_name: true\nansible_host_dns_name: true\n\
         compose:\n  ansible_network_os: platform.slug\n  location: site.slug ~ '/' ~ name\n",
    );
    let invs = inv.to_string_lossy();
    let hosts = list_json(&nb.netorch(&["inventory", "-i", &invs, "list", "--json"]));
    // ams is every third device, pci every odd one, planned every fifth: 3 only (9 is planned).
    assert_eq!(hosts.keys().collect::<Vec<_>>(), ["nb-00003"], "{hosts:?}");
    let groups = hosts["nb-00003"]["groups"].to_string();
    assert!(
        groups.contains("\"ams\"") && groups.contains("\"pci\"") && groups.contains("\"golden\""),
        "{groups}"
    );
    let v = host_vars(&nb, &inv, "nb-00003");
    assert_eq!(v["ansible_network_os"], "cisco-ios");
    assert_eq!(v["platform"], "cisco_ios");
    assert_eq!(v["location"], "ams/nb-00003");
    assert_eq!(
        v["ntp_servers"],
        serde_json::json!(["192.0.2.1", "192.0.2.2"])
    );
    assert_eq!(v["site_code"], "AMS");
    assert!(v.get("config_context").is_none(), "{v:?}");
    assert_eq!(v["dns_name"], "nb-00003.example.net");
    assert_eq!(v["ansible_host"], "nb-00003.example.net");
    assert_eq!(v["primary_ip4"], "10.0.0.3");
}

#[test]
fn playbook_runs_over_netbox_devices_with_local_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let nb_inv = dir.path().join("netbox.yml");
    let sim = Sim::with("cisco_ios", 2)
        .args(&[
            "--netbox",
            "--netbox-token",
            TOKEN,
            "--netbox-inventory-out",
        ])
        .arg(&nb_inv.to_string_lossy())
        .start();
    let creds = sim.vars("ios-001");
    write(
        dir.path(),
        "overrides/group_vars/all.yml",
        &format!(
            "user: {}\npassword: {}\nenable_secret: {}\nknown_hosts_file: {}\n",
            creds["user"].as_str().unwrap(),
            creds["password"].as_str().unwrap(),
            creds["enable_secret"].as_str().unwrap(),
            sim.known_hosts.display()
        ),
    );
    // Ansible's precedence: host_vars beat the source's host vars, which beat group_vars.
    write(
        dir.path(),
        "overrides/group_vars/sites_ams.yml",
        "snmp_location: AMS-DC\nntp_servers: [198.51.100.9]\n",
    );
    write(
        dir.path(),
        "overrides/host_vars/ios-001.yml",
        "site_code: LOCAL\n",
    );
    let run = |args: &[&str]| {
        nb_command(dir.path(), TOKEN)
            .args([args[0], "-i", "netbox.yml", "-i", "overrides"])
            .args(&args[1..])
            .output()
            .unwrap()
    };
    let out = run(&["inventory", "host", "ios-001"]);
    let v: Value = serde_yaml::from_str(&ok(&out)).unwrap();
    assert_eq!(v["ansible_host"], "127.0.0.1");
    assert_eq!(v["ansible_port"], sim.vars("ios-001")["port"]);
    assert_eq!(v["platform"], "cisco_ios");
    assert_eq!(v["site_code"], "LOCAL");
    assert_eq!(v["snmp_location"], "AMS-DC");
    assert_eq!(
        v["ntp_servers"],
        serde_json::json!(["192.0.2.1", "192.0.2.2"])
    );
    let v2: Value = serde_yaml::from_str(&ok(&run(&["inventory", "host", "ios-002"]))).unwrap();
    assert_eq!(v2["site_code"], "FRA");
    assert!(v2.get("snmp_location").is_none());

    let out = run(&["exec", "--json", "show version"]);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("exec --json ({e}): {}", text(&out)));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut seen = Vec::new();
    for play in doc["plays"].as_array().unwrap() {
        for task in play["tasks"].as_array().unwrap() {
            for h in task["hosts"].as_array().unwrap() {
                let output = h["commands"][0]["output"].as_str().unwrap_or_default();
                assert!(output.contains("Cisco IOS"), "{h}");
                seen.push(h["host"].as_str().unwrap().to_string());
            }
        }
    }
    seen.sort();
    assert_eq!(seen, ["ios-001", "ios-002"]);

    let pb = write(
        dir.path(),
        "pb.yml",
        "- hosts: sites_ams\n  gather_facts: false\n  tasks:\n    - command: show version\n      register: v\n    - assert:\n        that: \"'Cisco' in v.stdout\"\n",
    );
    let out = nb_command(dir.path(), TOKEN)
        .args(["run", "-i", "netbox.yml", "-i", "overrides"])
        .arg(&pb)
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("ios-001") && !t.contains("ios-002"), "{t}");
    assert!(!t.contains(TOKEN), "{t}");
}

#[test]
fn token_comes_from_the_environment_and_never_shows() {
    let nb = Netbox::start(&["--netbox-devices", "3"]);
    let inv = nb.inventory("group_by: [sites]\n");
    let invs = inv.to_string_lossy();
    for args in [
        vec!["inventory", "-i", &invs, "list"],
        vec!["inventory", "-i", &invs, "host", "nb-00000"],
        vec!["inventory", "-i", &invs, "graph"],
    ] {
        let out = nb.netorch(&args);
        let t = ok(&out);
        assert!(t.contains("nb-0000") || t.contains("ansible_host"), "{t}");
        assert!(!text(&out).contains(TOKEN), "{}", text(&out));
    }
    // NETBOX_API_TOKEN works as well.
    let out = netorch()
        .current_dir(nb.dir.path())
        .env_remove("NETBOX_TOKEN")
        .env_remove("NETBOX_API_KEY")
        .env("NETBOX_API_TOKEN", TOKEN)
        .args(["inventory", "-i", &invs, "list"])
        .output()
        .unwrap();
    assert!(ok(&out).contains("3 hosts"), "{}", text(&out));

    // A virtual chassis is one host, named after it (devices 0 and 1 are `stack-1`).
    let vc = nb.inventory("virtual_chassis_name: true\n");
    let out = ok(&nb.netorch(&["inventory", "-i", &vc.to_string_lossy(), "list"]));
    assert!(
        out.contains("stack-1 ") && out.contains("nb-00002 "),
        "{out}"
    );
    assert!(
        !out.contains("nb-00000") && !out.contains("nb-00001"),
        "{out}"
    );
    assert!(out.ends_with("2 hosts\n"), "{out}");
    nb.inventory("group_by: [sites]\n");

    // A wrong token: 403 with NetBox's words and the URL, never the token.
    let wrong = "feedfacefeedfacefeedfacefeedfacefeedface";
    let out = nb_command(nb.dir.path(), wrong)
        .args(["inventory", "-i", &invs, "list"])
        .output()
        .unwrap();
    let t = text(&out);
    assert_ne!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("HTTP 403") && t.contains("Invalid token"), "{t}");
    assert!(t.contains(&format!("{}/api/dcim/devices/", nb.url)), "{t}");
    assert!(t.contains("netbox.yml"), "{t}");
    assert!(!t.contains(wrong), "{t}");

    // No token at all: the error says where one is read from.
    let out = netorch()
        .current_dir(nb.dir.path())
        .env_remove("NETBOX_TOKEN")
        .env_remove("NETBOX_API_KEY")
        .env_remove("NETBOX_API_TOKEN")
        .args(["inventory", "-i", &invs, "list"])
        .output()
        .unwrap();
    let t = text(&out);
    assert_ne!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("HTTP 403") && t.contains("no token"), "{t}");
}

#[test]
fn server_error_mid_pagination_names_the_url_and_one_off_errors_are_retried() {
    let nb = Netbox::start(&["--netbox-devices", "2500", "--netbox-fault", "500@2"]);
    let inv = nb.inventory("");
    let invs = inv.to_string_lossy();
    let out = nb.netorch(&["inventory", "-i", &invs, "list"]);
    let t = text(&out);
    assert_ne!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("HTTP 500"), "{t}");
    assert!(
        t.contains(&format!("{}/api/dcim/devices/?", nb.url)) && t.contains("offset=1000"),
        "{t}"
    );

    let nb = Netbox::start(&["--netbox-devices", "2500", "--netbox-fault", "503x1@3"]);
    let inv = nb.inventory("");
    let out = nb.netorch(&["inventory", "-i", &inv.to_string_lossy(), "list"]);
    assert!(ok(&out).ends_with("2500 hosts\n"), "{}", text(&out));
}

#[test]
fn a_server_page_size_below_the_limit_asked_still_gets_every_device() {
    // NetBox's MAX_PAGE_SIZE may be lower than the 1,000 netorch asks for: the other
    // pages are planned from the size of the first one.
    let nb = Netbox::start(&["--netbox-devices", "2345", "--netbox-max-page-size", "300"]);
    let inv = nb.inventory("");
    let out = nb.netorch(&["inventory", "-i", &inv.to_string_lossy(), "list", "--json"]);
    let hosts = list_json(&out);
    assert_eq!(hosts.len(), 2345);
    assert!(hosts.contains_key("nb-00000") && hosts.contains_key("nb-02344"));
}

#[test]
fn invalid_json_is_an_error_naming_the_url() {
    let nb = Netbox::start(&["--netbox-devices", "5", "--netbox-fault", "json@1"]);
    let inv = nb.inventory("");
    let out = nb.netorch(&["inventory", "-i", &inv.to_string_lossy(), "list"]);
    let t = text(&out);
    assert_ne!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("invalid JSON"), "{t}");
    assert!(t.contains(&format!("{}/api/dcim/devices/?", nb.url)), "{t}");
}

#[test]
fn cache_serves_repeated_runs_and_stands_in_while_netbox_is_down() {
    let mut nb = Netbox::start(&["--netbox-devices", "20"]);
    let inv = nb.inventory("cache: true\ngroup_by: [sites]\n");
    let invs = inv.to_string_lossy().into_owned();
    let first = ok(&nb.netorch(&["inventory", "-i", &invs, "list"]));
    assert!(first.ends_with("20 hosts\n"), "{first}");
    let cache_dir = nb.dir.path().join("cache/netorch/netbox");
    let files: Vec<_> = std::fs::read_dir(&cache_dir).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let meta = files[0].metadata().unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let cached = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(cached.contains("nb-00019") && !cached.contains(TOKEN));

    nb.stop();
    // Fresh (within cache_timeout): no request at all, no warning.
    let out = nb.netorch(&["inventory", "-i", &invs, "list"]);
    assert_eq!(ok(&out), first);
    assert!(!text(&out).contains("warning"), "{}", text(&out));

    // Stale, NetBox down, younger than cache_max_age: used, with a warning.
    nb.inventory("cache: true\ncache_timeout: 0\ngroup_by: [sites]\n");
    let out = nb.netorch(&["inventory", "-i", &invs, "list"]);
    assert_eq!(ok(&out), first);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning:")
            && err.contains("cannot reach NetBox")
            && err.contains("cached copy"),
        "{err}"
    );

    // Older than cache_max_age: the error, naming the URL.
    nb.inventory("cache: true\ncache_timeout: 0\ncache_max_age: 0\ngroup_by: [sites]\n");
    let out = nb.netorch(&["inventory", "-i", &invs, "list"]);
    let t = text(&out);
    assert_ne!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains(&format!("cannot reach NetBox at {}/api/", nb.url)),
        "{t}"
    );
}

#[test]
fn unsupported_options_are_named_with_file_and_line() {
    let nb = Netbox::start(&["--netbox-devices", "1"]);
    let inv = nb.inventory("group_by: [sites]\nkeyed_groups:\n  - key: status.value\n");
    let invs = inv.to_string_lossy();
    let out = nb.netorch(&["inventory", "-i", &invs, "list"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(4), "{t}");
    assert!(t.contains("netbox.yml:5:1"), "{t}");
    assert!(
        t.contains("`keyed_groups` is not supported by netorch"),
        "{t}"
    );
    assert!(
        t.contains("supported options:") && t.contains("group_by"),
        "{t}"
    );

    let pb = write(
        nb.dir.path(),
        "pb.yml",
        "- hosts: all\n  tasks:\n    - command: show version\n",
    );
    let inv = nb.inventory("interfaces: true\n");
    let out = nb_command(nb.dir.path(), TOKEN)
        .args(["check", "-i"])
        .arg(&inv)
        .arg(&pb)
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(4), "{t}");
    assert!(
        t.contains("netbox.yml:4:1") && t.contains("`interfaces: true`"),
        "{t}"
    );
}
