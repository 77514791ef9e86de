//! Integration tests: the device layer (channel, driver, profiles, run_commands_on_host)
//! against netorch-sim for every device platform, and the exec-channel `linux` platform
//! against a real sshd.

use std::time::{Duration, Instant};

use netorch::device::{
    run_commands_on_host, CommandStatus, Connection, Driver, HostStatus, ProfileSet,
};
use netorch::secret::Secret;
use netorch::transport::{ConnectionSettings, SshOptions, SshSession};
use serde_json::{json, Map, Value};

use crate::util::sim::{Sim, PLATFORMS};
use crate::util::sshd::{self, Sshd};

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
    let count = count.to_string();
    let mut args = vec!["--platform", "mixed", "--count", count.as_str()];
    args.extend_from_slice(extra);
    Sim::start(&args)
}

#[test]
fn show_version_on_every_platform() {
    let sim = mixed(5, &[]);
    let profiles = ProfileSet::builtin();
    for p in PLATFORMS {
        let host = name(p, 1);
        let s = settings(&sim, &host, json!({}));
        let o = run_commands_on_host(
            &s,
            &profiles,
            &["show version".into(), clock(p)],
            &SshOptions::default(),
        );
        assert_eq!(o.status, HostStatus::Ok, "{p}: {o:?}");
        assert_eq!(o.platform, *p);
        assert_eq!(o.credential.as_deref(), Some("admin"));
        let out = &o.commands[0].output;
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
        assert_eq!(
            o.commands[1].status,
            CommandStatus::Ok,
            "{p}: {:?}",
            o.commands[1]
        );
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
        let lines: Vec<String> = if *p == "juniper_junos" {
            vec![format!("set interfaces lo0 description {marker}")]
        } else {
            vec![
                "interface Loopback42".into(),
                format!(" description {marker}"),
            ]
        };
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
    let profiles = ProfileSet::builtin();
    for p in ["cisco_ios", "arista_eos"] {
        let host = name(p, 1);
        let s = settings(&sim, &host, json!({"enable_secret": "not-the-secret"}));
        let o = run_commands_on_host(
            &s,
            &profiles,
            &["show clock".into()],
            &SshOptions::default(),
        );
        assert_eq!(o.status, HostStatus::Failed, "{p}");
        let e = o.commands[0].error.clone().unwrap_or_default();
        assert_eq!(o.commands[0].status, CommandStatus::Error, "{p}: {o:?}");
        assert!(e.contains("enable secret was refused"), "{p}: {e}");
        assert!(
            e.contains("% Bad secrets") || e.contains("% Access denied"),
            "{p}: {e}"
        );
        assert!(!e.contains("not-the-secret"), "{p}: secret leaked: {e}");
    }
}

#[test]
fn invalid_command_fails_with_the_device_text() {
    let sim = mixed(5, &[]);
    let profiles = ProfileSet::builtin();
    for p in PLATFORMS {
        let host = name(p, 1);
        let s = settings(&sim, &host, json!({}));
        let o = run_commands_on_host(
            &s,
            &profiles,
            &["show nonsense-xyz".into(), clock(p)],
            &SshOptions::default(),
        );
        assert_eq!(o.status, HostStatus::Failed, "{p}");
        assert_eq!(o.commands[0].status, CommandStatus::Failed, "{p}: {o:?}");
        let e = o.commands[0].error.clone().unwrap();
        let want = match *p {
            "juniper_junos" => "syntax error",
            "cisco_nxos" => "% Invalid command",
            _ => "% Invalid input",
        };
        assert!(e.contains(want), "{p}: {e}");
        // The device complained; the session is fine and the next command runs.
        assert_eq!(o.commands[1].status, CommandStatus::Ok, "{p}");
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
    let profiles = ProfileSet::builtin();
    for p in PLATFORMS {
        let cmds: Vec<String> = (0..8).map(|_| clock(p)).collect();
        let host = name(p, 2);
        let s = settings(&sim, &host, json!({"command_timeout": "700ms"}));
        let t = Instant::now();
        let o = run_commands_on_host(&s, &profiles, &cmds, &SshOptions::default());
        assert!(
            t.elapsed() < Duration::from_secs(8),
            "{p}: {:?}",
            t.elapsed()
        );
        assert_eq!(o.status, HostStatus::Failed, "{p}: {o:?}");
        let i = o
            .commands
            .iter()
            .position(|c| c.status == CommandStatus::Error)
            .unwrap_or_else(|| panic!("{p}: no command timed out: {o:?}"));
        assert!(i >= 1, "{p}: the hang came before any command ran");
        let c = &o.commands[i];
        let e = c.error.clone().unwrap();
        assert!(e.contains("no prompt within 0.7s"), "{p}: {e}");
        assert!(
            c.output.contains(&clock(p)),
            "{p}: partial output {:?}",
            c.output
        );
        assert!(o.commands[i + 1..]
            .iter()
            .all(|c| c.status == CommandStatus::Skipped));
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
    let profiles = ProfileSet::builtin();
    for p in PLATFORMS {
        let cmds: Vec<String> = (0..8).map(|_| clock(p)).collect();
        let host = name(p, 2);
        let s = settings(&sim, &host, json!({}));
        let o = run_commands_on_host(&s, &profiles, &cmds, &SshOptions::default());
        let c = o
            .commands
            .iter()
            .find(|c| c.status == CommandStatus::Error)
            .unwrap_or_else(|| panic!("{p}: no command failed: {o:?}"));
        let e = c.error.clone().unwrap();
        assert!(e.contains("session lost"), "{p}: {e}");
        assert_eq!(o.commands[0].status, CommandStatus::Ok, "{p}");
    }
}

#[test]
fn wrong_prompt_auth_fail_and_keyboard_interactive() {
    let sim = Sim::start(&[
        "--platform",
        "cisco_ios",
        "--count",
        "3",
        "--fail",
        "ios-002=wrong-prompt",
        "--fail",
        "ios-003=auth-fail",
    ]);
    let profiles = ProfileSet::builtin();
    // Keyboard-interactive only, as many devices offer.
    let s = settings(
        &sim,
        "ios-001",
        json!({"auth_methods": ["keyboard-interactive"]}),
    );
    let o = run_commands_on_host(
        &s,
        &profiles,
        &["show clock".into()],
        &SshOptions::default(),
    );
    assert_eq!(o.status, HostStatus::Ok, "{o:?}");

    let s = settings(&sim, "ios-002", json!({"command_timeout": "600ms"}));
    let o = run_commands_on_host(
        &s,
        &profiles,
        &["show clock".into()],
        &SshOptions::default(),
    );
    assert_eq!(o.status, HostStatus::Failed);
    let e = o.error.unwrap();
    assert!(e.contains("no cisco_ios prompt recognized"), "{e}");
    assert_eq!(o.commands[0].status, CommandStatus::Skipped);

    let s = settings(&sim, "ios-003", json!({}));
    let o = run_commands_on_host(
        &s,
        &profiles,
        &["show clock".into()],
        &SshOptions::default(),
    );
    assert_eq!(o.status, HostStatus::Unreachable);
    let e = o.error.unwrap();
    assert!(e.contains("authentication failed"), "{e}");
    assert!(!e.contains("admin\""), "{e}");
}

#[test]
fn unknown_platform_is_named_with_a_hint() {
    let sim = Sim::start(&["--platform", "cisco_ios", "--count", "1"]);
    let s = settings(&sim, "ios-001", json!({"platform": "cisco_iso"}));
    let o = run_commands_on_host(
        &s,
        &ProfileSet::builtin(),
        &["show clock".into()],
        &SshOptions::default(),
    );
    assert_eq!(o.status, HostStatus::Failed);
    let e = o.error.unwrap();
    assert!(
        e.contains("unknown platform `cisco_iso`") && e.contains("did you mean `cisco_ios`"),
        "{e}"
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
    let s = settings_from("web1", vars, json!({}));
    assert_eq!(s.platform, "linux");
    let o = run_commands_on_host(
        &s,
        &ProfileSet::builtin(),
        &[
            "echo hello".into(),
            "ls /nonexistent-dir-xyz".into(),
            "echo after".into(),
        ],
        &SshOptions::default(),
    );
    assert_eq!(o.platform, "linux");
    assert_eq!(o.commands[0].status, CommandStatus::Ok);
    assert_eq!(o.commands[0].output, "hello");
    assert_eq!(o.commands[0].exit_status, Some(0));
    assert_eq!(o.commands[1].status, CommandStatus::Failed);
    assert_eq!(o.commands[1].exit_status, Some(2));
    assert!(o.commands[1]
        .error
        .as_deref()
        .unwrap()
        .contains("exit status 2"));
    assert_eq!(o.commands[2].output, "after");
    assert_eq!(o.status, HostStatus::Failed);

    // The same through the one connection type.
    let profiles = ProfileSet::builtin();
    let mut dev = Connection::open(&s, &profiles, &SshOptions::default(), None).unwrap();
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
