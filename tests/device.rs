//! Integration tests: the device layer (channel, driver, profiles) against netorch-sim for
//! every device platform, directly and through `netorch exec --json` (the run report's
//! shape and exit codes), and the exec-channel `linux` platform against a real sshd.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use netorch::device::{Connection, Driver, ProfileSet};
use netorch::secret::Secret;
use netorch::transport::{ConnectionSettings, SshOptions, SshSession};
use serde_json::{json, Map, Value};

use crate::util::netorch;
use crate::util::sim::{Sim, PLATFORMS};
use crate::util::sshd::{self, Sshd};

/// `netorch exec --json -i INVENTORY ARGS... COMMANDS...` from the inventory's folder.
fn exec(inventory: &Path, args: &[&str], commands: &[String]) -> Output {
    netorch()
        .current_dir(inventory.parent().unwrap())
        .args(["exec", "--json", "-i"])
        .arg(inventory)
        .args(args)
        .arg("--")
        .args(commands)
        .output()
        .unwrap()
}

/// Each host's result in exec's JSON (the run report: one play, one task), by host.
fn exec_results(out: &Output) -> Map<String, Value> {
    let doc = crate::util::report::json_of(out);
    let tasks = doc["plays"][0]["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{doc:#}");
    tasks[0]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["host"].as_str().unwrap().to_string(), h.clone()))
        .collect()
}

/// The commands a result lists (sent, with their output), as (command, output, error).
fn commands_of(r: &Value) -> Vec<(String, String, Option<String>)> {
    r["commands"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["command"].as_str().unwrap().to_string(),
                        c["output"].as_str().unwrap().to_string(),
                        c["error"].as_str().map(str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The sim's default name of the `n`th device of a platform.
fn name(platform: &str, n: usize) -> String {
    let prefix = match platform {
        "cisco_ios" => "ios",
        "arista_eos" => "eos",
        "juniper_junos" => "junos",
        "cisco_nxos" => "nxos",
        "cisco_iosxr" => "xr",
        other => panic!("no sim platform {other}"),
    };
    format!("{prefix}-{n:03}")
}

/// A harmless show command every platform knows.
fn clock(platform: &str) -> String {
    if platform == "juniper_junos" {
        "show system uptime".into()
    } else {
        "show clock".into()
    }
}

/// Config lines that describe a loopback interface with `marker`.
fn loopback_description(platform: &str, marker: &str) -> Vec<String> {
    if platform == "juniper_junos" {
        vec![format!("set interfaces lo0 description {marker}")]
    } else {
        vec![
            "interface Loopback42".into(),
            format!(" description {marker}"),
        ]
    }
}

fn settings_from(host: &str, mut vars: Map<String, Value>, extra: Value) -> ConnectionSettings {
    vars.insert("connect_timeout".into(), json!(5));
    vars.insert("command_timeout".into(), json!(10));
    vars.insert("keepalive_interval".into(), json!(0));
    if let Value::Object(e) = extra {
        for (k, v) in e {
            vars.insert(k, v);
        }
    }
    ConnectionSettings::from_vars(host, &vars).unwrap()
}

fn settings(sim: &Sim, host: &str, extra: Value) -> ConnectionSettings {
    settings_from(host, sim.vars(host), extra)
}

fn open(sim: &Sim, host: &str) -> (SshSession, netorch::device::PlatformProfile) {
    let s = settings(sim, host, json!({}));
    let sess = SshSession::connect(&s, &SshOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let profile = ProfileSet::builtin().get(&s.platform).unwrap().clone();
    (sess, profile)
}

fn mixed(count: usize, extra: &[&str]) -> Sim {
    Sim::with("mixed", count).args(extra).start()
}

#[test]
fn show_version_on_every_platform() {
    let sim = mixed(5, &[]);
    for p in PLATFORMS {
        let host = name(p, 1);
        let out = exec(
            &sim.inventory,
            &["--limit", &host],
            &["show version".into(), clock(p)],
        );
        assert_eq!(out.status.code(), Some(0), "{p}");
        let r = &exec_results(&out)[&host];
        assert_eq!(r["status"], "ok", "{p}: {r:#}");
        let cmds = commands_of(r);
        assert_eq!(cmds.len(), 2, "{p}: {r:#}");
        let out = &cmds[0].1;
        assert!(
            out.to_lowercase().contains("version") || out.contains("Junos: "),
            "{p}: {out}"
        );
        assert!(!out.starts_with("show version"), "{p}: echo left in: {out}");
        let last = out.lines().last().unwrap_or_default();
        assert!(
            !last.contains(&host) || last.contains("uptime"),
            "{p}: prompt left in: {last:?}"
        );
        assert!(!out.contains('\r') && !out.contains('\u{1b}'), "{p}");
        assert_eq!(cmds[1].0, clock(p));
        assert_eq!(cmds[1].2, None, "{p}: {r:#}");
    }
}

#[test]
fn config_push_changes_the_running_config_and_saves() {
    let sim = mixed(5, &[]);
    for p in PLATFORMS {
        let host = name(p, 1);
        let (sess, profile) = open(&sim, &host);
        let mut d = Driver::open(&sess, &profile, Some(&Secret::new("en4ble"))).unwrap();
        let marker = format!("netorch-{p}-42");
        let lines = loopback_description(p, &marker);
        let before = d
            .send_command(profile.show_config.as_deref().unwrap())
            .unwrap();
        assert!(!before.output.contains(&marker));
        let r = d.send_config(&lines).unwrap();
        assert!(r.is_ok(), "{p}: {:?}\n{}", r.failed, r.output);
        assert_eq!(d.current_mode(), profile.command_mode(), "{p}");
        let after = d
            .send_command(profile.show_config.as_deref().unwrap())
            .unwrap();
        assert!(after.output.contains(&marker), "{p}: {}", after.output);
        if let Some(end) = &profile.backup_end_marker {
            let last = after
                .output
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap();
            assert!(end.is_match(last), "{p}: config ends with {last:?}");
        }
        if let Some(saved) = d.save().unwrap() {
            assert!(saved.is_ok(), "{p}: {:?} {}", saved.failed, saved.output);
        }
        d.close();
    }
}

#[test]
fn a_rejected_config_line_is_named_and_commit_platforms_roll_back() {
    let sim = mixed(5, &[]);
    for p in PLATFORMS {
        let host = name(p, 1);
        let (sess, profile) = open(&sim, &host);
        let mut d = Driver::open(&sess, &profile, Some(&Secret::new("en4ble"))).unwrap();
        let (good, bad) = if *p == "juniper_junos" {
            (
                "set system domain-name good.example",
                "set frobnicate everything",
            )
        } else {
            ("ip domain-name good.example", "frobnicate everything")
        };
        let r = d
            .send_config(&[
                good.to_string(),
                bad.to_string(),
                "hostname never-sent".into(),
            ])
            .unwrap();
        let f = r.failed.clone().unwrap_or_default();
        assert!(f.contains(&format!("line 2 `{bad}`")), "{p}: {f}");
        assert_eq!(d.current_mode(), profile.command_mode(), "{p}");
        let run = d
            .send_command(profile.show_config.as_deref().unwrap())
            .unwrap();
        assert!(!run.output.contains("never-sent"), "{p}");
        if profile.config.as_ref().unwrap().commit.is_some() {
            assert!(
                !run.output.contains("good.example"),
                "{p}: the candidate was not rolled back"
            );
        }
    }
}

#[test]
fn paging_off_and_on_give_the_same_output() {
    let sim = mixed(5, &["--config-lines", "150"]);
    for p in PLATFORMS {
        let host = name(p, 1);
        let (sess, profile) = open(&sim, &host);
        let show = profile.show_config.clone().unwrap();
        let mut d = Driver::open(&sess, &profile, Some(&Secret::new("en4ble"))).unwrap();
        let off = d.send_command(&show).unwrap();
        drop(d);
        // Same profile without the paging-off commands: the pager appears and is answered.
        let mut paging = profile.clone();
        paging.on_open.retain(|c| !c.contains("length"));
        assert!(paging.on_open.len() < profile.on_open.len());
        let mut d = Driver::open(&sess, &paging, Some(&Secret::new("en4ble"))).unwrap();
        let on = d.send_command(&show).unwrap();
        assert!(
            off.output.lines().count() > 100,
            "{p}: {} lines",
            off.output.lines().count()
        );
        assert!(
            !on.output.to_lowercase().contains("more"),
            "{p}: pager text left in"
        );
        assert_eq!(
            profile.strip_backup(&on.output),
            profile.strip_backup(&off.output),
            "{p}"
        );
    }
}

#[test]
fn wrong_enable_secret_is_a_clear_failure() {
    let sim = mixed(5, &[]);
    for p in ["cisco_ios", "arista_eos"] {
        let host = name(p, 1);
        let out = exec(
            &sim.inventory,
            &["--limit", &host, "-e", "enable_secret=not-the-secret"],
            &["show clock".into()],
        );
        assert_eq!(out.status.code(), Some(2), "{p}");
        let r = &exec_results(&out)[&host];
        assert_eq!(r["status"], "failed", "{p}: {r:#}");
        let e = r["msg"].as_str().unwrap();
        assert!(e.contains("enable secret was refused"), "{p}: {e}");
        assert!(
            e.contains("% Bad secrets") || e.contains("% Access denied"),
            "{p}: {e}"
        );
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("not-the-secret"), "{p}: secret leaked: {all}");
    }
}

#[test]
fn invalid_command_fails_with_the_device_text() {
    let sim = mixed(5, &[]);
    for p in PLATFORMS {
        let host = name(p, 1);
        let out = exec(
            &sim.inventory,
            &["--limit", &host],
            &["show nonsense-xyz".into(), clock(p)],
        );
        assert_eq!(out.status.code(), Some(2), "{p}");
        let r = &exec_results(&out)[&host];
        assert_eq!(r["status"], "failed", "{p}: {r:#}");
        let cmds = commands_of(r);
        let e = cmds[0].2.clone().unwrap();
        let want = match *p {
            "juniper_junos" => "syntax error",
            "cisco_nxos" => "% Invalid command",
            _ => "% Invalid input",
        };
        assert!(e.contains(want), "{p}: {e}");
        assert!(r["msg"].as_str().unwrap().contains(want), "{p}: {r:#}");
        // As in a playbook, the commands after a rejected one are not sent.
        assert_eq!(cmds.len(), 1, "{p}: {r:#}");

        // The device complained; the session is fine and the next command runs.
        let (sess, profile) = open(&sim, &host);
        let mut d = Driver::open(&sess, &profile, Some(&Secret::new("en4ble"))).unwrap();
        let bad = d.send_command("show nonsense-xyz").unwrap();
        assert!(
            bad.failed.as_deref().unwrap_or_default().contains(want),
            "{p}"
        );
        let next = d.send_command(&clock(p)).unwrap();
        assert!(next.is_ok(), "{p}: {:?}", next.failed);
    }
}

#[test]
fn a_hung_device_times_out_with_the_output_so_far() {
    let mut fails = Vec::new();
    for p in PLATFORMS {
        fails.push(format!("{}=hang-after:7", name(p, 2)));
    }
    let mut args: Vec<&str> = Vec::new();
    for f in &fails {
        args.extend(["--fail", f.as_str()]);
    }
    let sim = mixed(10, &args);
    for p in PLATFORMS {
        let cmds: Vec<String> = (0..8).map(|_| clock(p)).collect();
        let host = name(p, 2);
        let t = Instant::now();
        let out = exec(
            &sim.inventory,
            &["--limit", &host, "-e", "command_timeout=700ms"],
            &cmds,
        );
        assert!(
            t.elapsed() < Duration::from_secs(8),
            "{p}: {:?}",
            t.elapsed()
        );
        assert_eq!(out.status.code(), Some(2), "{p}");
        let r = &exec_results(&out)[&host];
        assert_eq!(r["status"], "failed", "{p}: {r:#}");
        let e = r["msg"].as_str().unwrap();
        assert!(e.contains("no prompt within 0.7s"), "{p}: {e}");
        let sent = commands_of(r);
        let (last, before) = sent.split_last().unwrap();
        assert!(
            !before.is_empty(),
            "{p}: the hang came before any command ran"
        );
        assert!(before.iter().all(|c| c.2.is_none()), "{p}: {r:#}");
        // What the device sent before it went quiet (the echo of the command), and the
        // commands after the hang were not sent.
        assert_eq!(last.0, "(output before the error)", "{p}: {r:#}");
        assert!(
            last.1.contains(&clock(p)),
            "{p}: partial output {:?}",
            last.1
        );
        assert!(before.len() < cmds.len(), "{p}: {r:#}");
    }
}

#[test]
fn a_dropped_session_is_reported() {
    let mut fails = Vec::new();
    for p in PLATFORMS {
        fails.push(format!("{}=drop-after:7", name(p, 2)));
    }
    let mut args: Vec<&str> = Vec::new();
    for f in &fails {
        args.extend(["--fail", f.as_str()]);
    }
    let sim = mixed(10, &args);
    for p in PLATFORMS {
        let cmds: Vec<String> = (0..8).map(|_| clock(p)).collect();
        let host = name(p, 2);
        let out = exec(&sim.inventory, &["--limit", &host], &cmds);
        // A lost session is the host becoming unreachable, as in a playbook.
        assert_eq!(out.status.code(), Some(3), "{p}");
        let r = &exec_results(&out)[&host];
        assert_eq!(r["status"], "unreachable", "{p}: {r:#}");
        let e = r["msg"].as_str().unwrap();
        assert!(e.contains("session lost"), "{p}: {e}");
        let sent = commands_of(r);
        assert!(sent[0].2.is_none(), "{p}: {r:#}");
        // The commands after the drop were not sent.
        let real = sent.iter().filter(|c| !c.0.starts_with('(')).count();
        assert!(real < cmds.len(), "{p}: {r:#}");
    }
}

#[test]
fn wrong_prompt_auth_fail_and_keyboard_interactive() {
    let sim = Sim::with("cisco_ios", 3)
        .args(&[
            "--fail",
            "ios-002=wrong-prompt",
            "--fail",
            "ios-003=auth-fail",
        ])
        .start();
    // Keyboard-interactive only, as many devices offer.
    let out = exec(
        &sim.inventory,
        &[
            "--limit",
            "ios-001",
            "-e",
            r#"{"auth_methods": ["keyboard-interactive"]}"#,
        ],
        &["show clock".into()],
    );
    assert_eq!(out.status.code(), Some(0));
    let r = &exec_results(&out)["ios-001"];
    assert_eq!(r["status"], "ok", "{r:#}");

    // One host fails, one is unreachable: the exit code says unreachable.
    let out = exec(
        &sim.inventory,
        &["--limit", "ios-002,ios-003", "-e", "command_timeout=600ms"],
        &["show clock".into()],
    );
    assert_eq!(out.status.code(), Some(3));
    let results = exec_results(&out);
    let r = &results["ios-002"];
    assert_eq!(r["status"], "failed", "{r:#}");
    let e = r["msg"].as_str().unwrap();
    assert!(e.contains("no cisco_ios prompt recognized"), "{e}");
    assert!(commands_of(r).iter().all(|c| c.0 != "show clock"), "{r:#}");

    let r = &results["ios-003"];
    assert_eq!(r["status"], "unreachable", "{r:#}");
    let e = r["msg"].as_str().unwrap();
    assert!(e.contains("authentication failed"), "{e}");
    assert!(!e.contains("admin\""), "{e}");
}

#[test]
fn unknown_platform_is_named_with_a_hint() {
    let sim = Sim::with("cisco_ios", 1).start();
    // A second inventory on top of the sim's, as a lab overlay would be.
    let overlay = sim.dir.path().join("typo.yml");
    std::fs::write(
        &overlay,
        "all:\n  hosts:\n    ios-001:\n      platform: cisco_iso\n",
    )
    .unwrap();
    let out = netorch()
        .current_dir(sim.dir.path())
        .args(["exec", "-i"])
        .arg(&sim.inventory)
        .arg("-i")
        .arg(&overlay)
        .arg("show clock")
        .output()
        .unwrap();
    // Found before anything connects: invalid input.
    assert_eq!(out.status.code(), Some(4));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("host `ios-001`")
            && e.contains("platform `cisco_iso`")
            && e.contains("did you mean `cisco_ios`"),
        "{e}"
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn linux_hosts_use_the_exec_channel() {
    let d = Sshd::start("");
    let vars = json!({
        "host": "127.0.0.1", "port": d.port, "user": sshd::current_user(),
        "private_key_file": d.client_key, "known_hosts_file": d.known_hosts_file(),
    });
    let Value::Object(vars) = vars else {
        unreachable!()
    };
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory.yml");
    let doc = json!({"all": {"hosts": {"web1": vars.clone()}}});
    std::fs::write(&inventory, serde_yaml::to_string(&doc).unwrap()).unwrap();
    let out = exec(
        &inventory,
        &[],
        &[
            "echo hello".into(),
            "ls /nonexistent-dir-xyz".into(),
            "echo after".into(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let r = &exec_results(&out)["web1"];
    assert_eq!(r["status"], "failed", "{r:#}");
    let cmds = &r["commands"];
    assert_eq!(cmds[0]["output"], "hello");
    assert_eq!(cmds[0]["exit_status"], 0);
    assert_eq!(cmds[1]["exit_status"], 2);
    assert!(
        cmds[1]["error"].as_str().unwrap().contains("exit status 2"),
        "{r:#}"
    );
    // Not sent after the failure.
    assert_eq!(cmds.as_array().unwrap().len(), 2, "{r:#}");

    // The same through the one connection type.
    let s = settings_from("web1", vars, json!({}));
    assert_eq!(s.platform, "linux");
    let profiles = ProfileSet::builtin();
    let mut dev = Connection::open(&s, &profiles, &SshOptions::default(), None, None).unwrap();
    assert!(!dev.is_cli());
    let r = dev
        .run_command("printf 'a\\nb\\n'", Duration::from_secs(5))
        .unwrap();
    assert_eq!(r.output, "a\nb");
    assert!(r.is_ok());
}

#[test]
fn a_hostname_change_is_followed_by_the_prompt() {
    let sim = mixed(5, &[]);
    for p in PLATFORMS {
        let host = name(p, 1);
        let (sess, profile) = open(&sim, &host);
        let mut d = Driver::open(&sess, &profile, Some(&Secret::new("en4ble"))).unwrap();
        let line = if *p == "juniper_junos" {
            "set system host-name renamed-9".to_string()
        } else {
            "hostname renamed-9".to_string()
        };
        let t = Instant::now();
        let r = d.send_config(&[line]).unwrap();
        assert!(r.is_ok(), "{p}: {:?}", r.failed);
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "{p}: {:?}",
            t.elapsed()
        );
        assert!(
            d.prompt().unwrap().contains("renamed-9"),
            "{p}: {:?}",
            d.prompt()
        );
        let r = d.send_command(&clock(p)).unwrap();
        assert!(r.is_ok(), "{p}: {:?}", r.failed);
    }
}

/// (device name, platform, `--prompt` styles): the prompts of third-party simulators and
/// real gear that the profiles must accept (issue 11).
const PROMPT_VARIANTS: &[(&str, &str, &str)] = &[
    ("mx-1", "juniper_junos", "no-user"),
    ("ex-vc-1.ams.example.net", "juniper_junos", "master"),
    ("srx-1", "juniper_junos", "no-user,primary"),
    ("n9k-1", "cisco_nxos", "user-exec"),
    ("n9k-2", "cisco_nxos", "maint-mode"),
    ("pe-1.ams.example.net", "cisco_iosxr", "rsp"),
    (
        "this-is-a-very-long-hostname.ams.example.net",
        "cisco_ios",
        "",
    ),
    ("dc1/rack-12/sw-3", "cisco_ios", ""),
    ("leaf-1.dc1.example.net", "arista_eos", ""),
];

#[test]
fn every_prompt_variant_runs_a_command_and_a_config_push() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("variants.yaml");
    let mut hosts = Map::new();
    for (name, platform, _) in PROMPT_VARIANTS {
        hosts.insert(name.to_string(), json!({ "platform": platform }));
    }
    let doc = json!({ "all": { "hosts": hosts } });
    std::fs::write(&inv, serde_yaml::to_string(&doc).unwrap()).unwrap();
    let mut args = vec!["--inventory".to_string(), inv.display().to_string()];
    for (name, _, style) in PROMPT_VARIANTS {
        if !style.is_empty() {
            args.extend(["--prompt".to_string(), format!("{name}={style}")]);
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let sim = Sim::start(&args);
    for (host, p, style) in PROMPT_VARIANTS {
        let mut vars = sim.vars(host);
        for (k, v) in [
            ("platform", *p),
            ("user", "admin"),
            ("password", "admin"),
            ("enable_secret", "en4ble"),
        ] {
            vars.insert(k.into(), json!(v));
        }
        let s = settings_from(host, vars, json!({}));
        let sess =
            SshSession::connect(&s, &SshOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let profile = ProfileSet::builtin().get(p).unwrap().clone();
        let what = format!("{host} ({p}, prompt {style:?})");
        let mut d = Driver::open(&sess, &profile, Some(&Secret::new("en4ble")))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let r = d
            .send_command("show version")
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(r.is_ok(), "{what}: {:?}", r.failed);
        assert!(!r.output.is_empty(), "{what}");
        assert!(
            !r.output.contains("{master") && !r.output.contains("{primary"),
            "{what}: cluster line left in: {}",
            r.output
        );
        let last = r.output.lines().last().unwrap_or_default();
        assert!(
            !last.ends_with('#') && !last.ends_with('>'),
            "{what}: {last:?}"
        );
        let marker = "netorch-prompt-variant";
        let lines = loopback_description(p, marker);
        let r = d
            .send_config(&lines)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(r.is_ok(), "{what}: {:?}\n{}", r.failed, r.output);
        assert_eq!(d.current_mode(), profile.command_mode(), "{what}");
        let show = profile.show_config.as_deref().unwrap();
        let after = d
            .send_command(show)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(after.output.contains(marker), "{what}: {}", after.output);
        if let Some(saved) = d.save().unwrap_or_else(|e| panic!("{what}: {e}")) {
            assert!(saved.is_ok(), "{what}: {:?}", saved.failed);
        }
        d.close();
    }
}
