//! Integration tests: inventory. Whole-folder fixtures (tests/fixtures/inventory/), dynamic
//! inventory scripts written into temp dirs, malformed inventories and their messages, and
//! the load time of a generated 10,000-host inventory.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use netorch::inventory::{Inventory, LoadOptions};
use netorch::secret::MASK;
use netorch::Error;

use crate::util;

fn fixture(rel: &str) -> PathBuf {
    util::root().join("tests/fixtures/inventory").join(rel)
}

fn names(hosts: &[&netorch::inventory::Host]) -> Vec<String> {
    hosts.iter().map(|h| h.name.clone()).collect()
}

fn load_err(rel: &str) -> String {
    match Inventory::load(&[fixture(rel)]) {
        Ok(_) => panic!("{rel} loaded without error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn campus_folder_loads_yaml_ini_and_subfolders_as_one_inventory() {
    let inv = Inventory::load(&[fixture("campus")]).unwrap();
    let hosts: Vec<&str> = inv.hosts.keys().map(String::as_str).collect();
    assert_eq!(
        hosts,
        [
            "core-ams-1",
            "core-rtm-1",
            "acc-ams-1",
            "acc-ams-2",
            "srv-ams-1",
            "srv-rtm-1",
            "edge-ams-1"
        ]
    );
    let core = &inv.hosts["core-ams-1"];
    assert_eq!(core.groups, ["all", "ams", "network", "core"]);
    assert_eq!(core.platform(), "cisco_ios");
    assert_eq!(core.vars["ntp"], "from_core_inline");
    assert_eq!(core.vars["domain"], "from_group_vars_all");
    assert_eq!(core.vars["ntp_source"], "from_group_vars_core_folder");
    assert_eq!(core.vars["site"], "from_ams_ini_vars");
    assert_eq!(core.vars["transport"], "from_network_inline");
    assert_eq!(core.var(&["host", "ansible_host"]).unwrap(), "10.10.0.1");

    assert_eq!(inv.hosts["core-rtm-1"].platform(), "cisco_ios");
    assert_eq!(inv.hosts["core-rtm-1"].vars["site"], "from_rtm_ini_vars");
    assert_eq!(inv.hosts["acc-ams-2"].platform(), "arista_eos");
    assert_eq!(inv.hosts["edge-ams-1"].platform(), "juniper_junos");
    assert_eq!(inv.hosts["edge-ams-1"].groups, ["all", "edge"]);
    let srv = &inv.hosts["srv-rtm-1"];
    assert_eq!(srv.platform(), "linux");
    assert_eq!(srv.var(&["port", "ansible_port"]).unwrap(), 2222);
    assert_eq!(inv.hosts["srv-ams-1"].vars["note"], "rack 4, row b");
    // README.md, site.retry and .hidden.yml were skipped, or loading would have failed.
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[test]
fn campus_graph_matches_ansible_inventory_graph() {
    let inv = Inventory::load(&[fixture("campus")]).unwrap();
    let want = "\
@all:
  |--@ams:
  |  |--acc-ams-1
  |  |--acc-ams-2
  |  |--core-ams-1
  |--@edge:
  |  |--edge-ams-1
  |--@network:
  |  |--@access:
  |  |  |--acc-ams-1
  |  |  |--acc-ams-2
  |  |--@core:
  |  |  |--core-ams-1
  |  |  |--core-rtm-1
  |--@rtm:
  |  |--core-rtm-1
  |  |--srv-rtm-1
  |--@servers:
  |  |--srv-ams-1
  |  |--srv-rtm-1
  |--@ungrouped:
";
    assert_eq!(inv.graph(), want);
}

#[test]
fn campus_patterns_and_limit() {
    let inv = Inventory::load(&[fixture("campus")]).unwrap();
    let sel = |p: &str| names(&inv.select(p).unwrap());
    assert_eq!(
        sel("ams:&network"),
        ["core-ams-1", "acc-ams-1", "acc-ams-2"]
    );
    assert_eq!(sel("network:!core"), ["acc-ams-1", "acc-ams-2"]);
    assert_eq!(sel("*-rtm-*"), ["core-rtm-1", "srv-rtm-1"]);
    assert_eq!(sel("~(srv|edge)-ams"), ["srv-ams-1", "edge-ams-1"]);
    assert_eq!(
        sel("servers,edge"),
        ["srv-ams-1", "srv-rtm-1", "edge-ams-1"]
    );
    let limited = inv.select_with_limit("all", Some("rtm")).unwrap();
    assert_eq!(names(&limited), ["core-rtm-1", "srv-rtm-1"]);
    assert_eq!(inv.unmatched_terms("core:acces:!edge"), ["acces"]);
    match inv.select("core:&") {
        Err(Error::Pattern { reason, .. }) => assert!(reason.contains("empty term"), "{reason}"),
        other => panic!("expected a pattern error, got {other:?}"),
    }
}

#[test]
fn campus_secrets_are_masked_and_collected() {
    let inv = Inventory::load(&[fixture("campus")]).unwrap();
    let masked = inv.hosts["core-ams-1"].masked_vars();
    assert_eq!(masked["ansible_password"], MASK);
    assert_eq!(masked["snmp_community"], MASK);
    assert_eq!(masked["ansible_host"], "10.10.0.1");
    let secrets = inv.secret_values();
    assert!(
        secrets.contains(&"hunter22-from-host-vars".to_string()),
        "{secrets:?}"
    );
    assert!(
        secrets.contains(&"public-from-group-vars-all".to_string()),
        "{secrets:?}"
    );
    assert_eq!(secrets.len(), 2, "{secrets:?}");
}

#[test]
fn playbook_dir_vars_and_a_second_source_override() {
    let dir = tempfile::tempdir().unwrap();
    let play = dir.path().join("play");
    std::fs::create_dir_all(play.join("group_vars")).unwrap();
    std::fs::write(
        play.join("group_vars/core.yml"),
        "ntp: from_playbook_group_vars_core\n",
    )
    .unwrap();
    let overlay = dir.path().join("lab.ini");
    std::fs::write(
        &overlay,
        "[core]\ncore-ams-1 ansible_host=127.0.0.1 ansible_port=2201\n",
    )
    .unwrap();
    let inv = Inventory::load_with(&[fixture("campus"), overlay], &[play]).unwrap();
    let h = &inv.hosts["core-ams-1"];
    assert_eq!(h.vars["ntp"], "from_playbook_group_vars_core");
    assert_eq!(h.vars["ansible_host"], "127.0.0.1");
    assert_eq!(h.vars["ansible_port"], 2201);
    assert_eq!(inv.hosts.len(), 7);
}

#[test]
fn yaml_content_without_extension_and_saved_list_json() {
    let inv = Inventory::load(&[fixture("yaml-noext/hosts")]).unwrap();
    assert_eq!(inv.hosts["r1"].vars["ansible_host"], "10.0.0.1");
    let inv = Inventory::load(&[fixture("saved-list.json")]).unwrap();
    assert_eq!(inv.hosts["r1"].groups, ["all", "dc", "core"]);
    assert_eq!(inv.hosts["r1"].vars["ansible_host"], "10.0.0.1");
    assert_eq!(inv.hosts["r2"].vars["ntp"], "from_core_json");
}

#[test]
fn malformed_inventories_give_clear_errors() {
    for (file, needles) in [
        (
            "malformed/hosts_as_list.yml",
            &[
                "hosts_as_list.yml:5:",
                "invalid type: sequence",
                "not a list",
            ][..],
        ),
        (
            "malformed/host_typo.yml",
            &[
                "host_typo.yml:4:7:",
                "unknown key `host`",
                "did you mean `hosts`?",
            ][..],
        ),
        (
            "malformed/cycle.yml",
            &["cycle.yml", "group cycle:", "a -> b -> a"][..],
        ),
        (
            "malformed/self_child.ini",
            &[
                "self_child.ini:5",
                "group `core` is listed as a child of itself",
            ][..],
        ),
        (
            "malformed/vars_list.yml",
            &[
                "vars_list.yml:3:",
                "expected a mapping of variable names to values",
            ][..],
        ),
        (
            "malformed/non_utf8.ini",
            &["non_utf8.ini:3:", "invalid UTF-8", "0xe9"][..],
        ),
        (
            "malformed/group_child.ini",
            &[
                "group_child.ini:4:1:",
                "unknown section type `:child`",
                "did you mean `[dc:children]`?",
            ][..],
        ),
        (
            "malformed/missing_equals.ini",
            &[
                "missing_equals.ini:2:",
                "expected key=value after the host name, found `ansible_host`",
            ][..],
        ),
        ("malformed/empty.ini", &["empty.ini: the file is empty"][..]),
        (
            "malformed/no_such_file.yml",
            &["no_such_file.yml: inventory not found"][..],
        ),
    ] {
        let msg = load_err(file);
        eprintln!("{msg}\n");
        for needle in needles {
            assert!(msg.contains(needle), "{file}: `{needle}` not in:\n{msg}");
        }
    }
}

/// Write an executable `#!/bin/sh` script into `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn dynamic_inventory_with_meta() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "cmdb.sh",
        r#"[ "$1" = "--list" ] || { echo "expected --list, got $*" >&2; exit 9; }
cat <<'EOF'
{
  "all": {"vars": {"ntp": "from_script_all"}},
  "core": {"hosts": ["r1", "r2"], "vars": {"ntp": "from_script_core"}},
  "access": ["sw1"],
  "dc": {"children": ["core", "access"]},
  "_meta": {"hostvars": {"r1": {"ansible_host": "10.0.0.1", "ansible_network_os": "nxos"}}}
}
EOF
"#,
    );
    let inv = Inventory::load(&[s]).unwrap();
    assert_eq!(inv.hosts.keys().collect::<Vec<_>>(), ["r1", "r2", "sw1"]);
    assert_eq!(inv.hosts["r1"].platform(), "cisco_nxos");
    assert_eq!(inv.hosts["r1"].vars["ntp"], "from_script_core");
    assert_eq!(inv.hosts["sw1"].vars["ntp"], "from_script_all");
    assert_eq!(inv.hosts["sw1"].groups, ["all", "dc", "access"]);
}

#[test]
fn dynamic_inventory_without_meta_asks_each_host() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "inv",
        r#"case "$1" in
  --list) echo '{"core": {"hosts": ["r1", "r2"]}}' ;;
  --host) echo "{\"ansible_host\": \"host-of-$2\"}" ;;
  *) exit 2 ;;
esac
"#,
    );
    let inv = Inventory::load(&[s]).unwrap();
    assert_eq!(inv.hosts["r2"].vars["ansible_host"], "host-of-r2");
}

#[test]
fn dynamic_inventory_failure_reports_exit_code_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "broken.sh",
        "echo 'cannot reach the CMDB: timed out' >&2\nexit 3\n",
    );
    let msg = Inventory::load(&[s]).unwrap_err().to_string();
    assert!(msg.contains("failed with exit code 3"), "{msg}");
    assert!(msg.contains("cannot reach the CMDB: timed out"), "{msg}");
    assert!(msg.contains("broken.sh --list"), "{msg}");
}

#[test]
fn dynamic_inventory_invalid_json_quotes_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "bad.sh",
        "printf '{\\n  \"core\": [r1]\\n}\\n'\n",
    );
    let msg = Inventory::load(&[s]).unwrap_err().to_string();
    assert!(msg.contains("printed invalid JSON (output line 2"), "{msg}");
    assert!(msg.contains("\"core\": [r1]"), "{msg}");
}

#[test]
fn dynamic_inventory_timeout_stops_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("still-running");
    let s = script(
        dir.path(),
        "slow.sh",
        &format!("sleep 5\ntouch {}\necho '{{}}'\n", marker.display()),
    );
    let opts = LoadOptions {
        script_timeout: Duration::from_millis(300),
        ..LoadOptions::default()
    };
    let start = Instant::now();
    let msg = Inventory::load_opts(&[s], &opts).unwrap_err().to_string();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
    assert!(msg.contains("did not finish within 0.3 s"), "{msg}");
    // The whole process group was killed: the script never gets to touch the marker.
    std::thread::sleep(Duration::from_millis(200));
    assert!(!marker.exists());
}

#[test]
fn dynamic_inventory_timeout_also_bounds_its_pipes() {
    let dir = tempfile::tempdir().unwrap();
    // Prints a whole inventory and exits, but its background job keeps stdout open.
    let s = script(
        dir.path(),
        "lingers.sh",
        "sleep 75 &\necho '{\"core\": [\"r1\"]}'\n",
    );
    let opts = LoadOptions {
        script_timeout: Duration::from_millis(500),
        ..LoadOptions::default()
    };
    let start = Instant::now();
    let msg = Inventory::load_opts(&[s], &opts).unwrap_err().to_string();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        msg.contains("lingers.sh --list` did not finish within 0.5 s"),
        "{msg}"
    );
    assert!(msg.contains("kept its output open"), "{msg}");
}

#[test]
fn dynamic_inventory_output_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(dir.path(), "endless.sh", "exec yes '{}'\n");
    let start = Instant::now();
    let msg = Inventory::load(&[s]).unwrap_err().to_string();
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        msg.contains("endless.sh --list` printed more than 64 MiB and was stopped"),
        "{msg}"
    );
}

#[test]
fn a_bare_inventory_name_runs_the_file_here_never_one_found_through_path() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    script(&bin, "inv.sh", "echo '{\"evil\": [\"from-path\"]}'\n");
    let here = dir.path().join("here");
    std::fs::create_dir(&here).unwrap();
    script(&here, "inv.sh", "echo '{\"core\": [\"from-here\"]}'\n");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = crate::util::netorch()
        .current_dir(&here)
        .env("PATH", path)
        .args(["inventory", "list", "-i", "inv.sh", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("from-here"), "{text}");
    assert!(!text.contains("from-path"), "{text}");
}

#[test]
fn executable_yaml_file_is_still_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hosts.yml");
    std::fs::write(&f, "all:\n  hosts:\n    r1:\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(Inventory::load(&[f]).unwrap().hosts.contains_key("r1"));
}

/// A 10,000-host, 200-group inventory: 20 sites, each with 9 role groups (hosts spread
/// evenly), group_vars for every group and host_vars for 100 hosts.
fn generate_big(dir: &Path) -> PathBuf {
    use std::fmt::Write;
    let mut y = String::from("all:\n  vars:\n    ntp: from_all\n  children:\n");
    for s in 0..20 {
        let _ = write!(
            y,
            "    site{s:02}:\n      vars:\n        site: s{s:02}\n      children:\n"
        );
        for r in 0..9 {
            let g = s * 9 + r;
            let _ = write!(
                y,
                "        s{s:02}r{r}:\n          vars:\n            role: r{r}\n          hosts:\n"
            );
            for h in (g..10_000).step_by(180) {
                let _ = write!(
                    y,
                    "            h{h:05}:\n              ansible_host: 10.{s}.{r}.{}\n              \
                     ansible_network_os: cisco.ios.ios\n",
                    h % 250
                );
            }
        }
    }
    let inv = dir.join("hosts.yml");
    std::fs::write(&inv, y).unwrap();
    std::fs::create_dir_all(dir.join("group_vars")).unwrap();
    std::fs::create_dir_all(dir.join("host_vars")).unwrap();
    for s in 0..20 {
        std::fs::write(
            dir.join(format!("group_vars/site{s:02}.yml")),
            "snmp: from_site_file\n",
        )
        .unwrap();
        for r in 0..9 {
            std::fs::write(
                dir.join(format!("group_vars/s{s:02}r{r}.yml")),
                "dns: from_role_file\n",
            )
            .unwrap();
        }
    }
    // 100 host_vars files, 5 of them for hosts this inventory does not have.
    for h in 0..100 {
        std::fs::write(
            dir.join(format!("host_vars/h{:05}.yml", h * 105)),
            "ansible_user: from_host_vars\n",
        )
        .unwrap();
    }
    inv
}

#[test]
fn big_inventory_loads_fast() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_big(dir.path());
    let start = Instant::now();
    let inv = Inventory::load(&[path]).unwrap();
    let took = start.elapsed();
    assert_eq!(inv.hosts.len(), 10_000);
    assert_eq!(
        inv.groups.len(),
        200 + 2,
        "200 groups, plus all and ungrouped"
    );
    let h = &inv.hosts["h01260"];
    assert_eq!(h.vars["ansible_user"], "from_host_vars");
    assert_eq!(h.vars["dns"], "from_role_file");
    assert_eq!(h.vars["snmp"], "from_site_file");
    assert_eq!(h.groups, ["all", "site00", "s00r0"]);
    assert_eq!(inv.select("site03:&*r4").unwrap().len(), 56);
    // The target is < 150 ms in a release build; a debug build is several times slower,
    // so this only catches accidental quadratic work.
    eprintln!("10k-host inventory loaded in {took:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// The speed target: run with `cargo test --release --test tests inventory::big_inventory_timing
/// -- --ignored --nocapture`; prints the best of five loads.
#[test]
#[ignore = "timing run for release builds"]
fn big_inventory_timing() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_big(dir.path());
    let best = (0..5)
        .map(|_| {
            let start = Instant::now();
            let inv = Inventory::load(std::slice::from_ref(&path)).unwrap();
            assert_eq!(inv.hosts.len(), 10_000);
            start.elapsed()
        })
        .min()
        .unwrap();
    eprintln!("10k hosts / 200 groups: best of 5 loads {best:?}");
}
