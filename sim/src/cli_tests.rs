//! Table-driven tests of the vendor CLIs through the byte-level shell: what a client types,
//! what it gets back, and which prompt follows, per platform.

use std::sync::Arc;

use crate::device::{Device, FailMode, Settings};
use crate::platform::Platform;
use crate::shell::Shell;

fn device(p: Platform, fail: Option<FailMode>) -> Arc<Device> {
    let name = format!("{}001", p.default_prefix());
    Arc::new(Device::new(
        &name,
        p,
        0,
        fail,
        Arc::new(Settings::for_tests()),
    ))
}

fn shell_on(dev: Arc<Device>) -> (Shell, String) {
    let mut sh = Shell::new(dev, "admin");
    sh.start();
    let banner = String::from_utf8_lossy(&sh.take_output()).into_owned();
    (sh, banner)
}

fn shell(p: Platform) -> Shell {
    shell_on(device(p, None)).0
}

/// Types `keys` and answers every complete command, returning everything printed.
fn typed(sh: &mut Shell, keys: &str) -> String {
    let mut buf = keys.as_bytes().to_vec();
    let mut out = Vec::new();
    while !buf.is_empty() {
        let (used, cmd) = sh.feed(&buf);
        buf.drain(..used);
        out.extend(sh.take_output());
        if let Some(c) = cmd {
            sh.run(&c);
            out.extend(sh.take_output());
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One command line; the output with CRLF turned into `\n`.
fn cmd(sh: &mut Shell, line: &str) -> String {
    typed(sh, &format!("{line}\r")).replace("\r\n", "\n")
}

fn enable(sh: &mut Shell) {
    let out = cmd(sh, "enable");
    assert!(out.ends_with("Password: "), "{out:?}");
    let out = cmd(sh, "en4ble");
    assert!(out.ends_with('#'), "{out:?}");
}

#[test]
fn prompts_per_platform_and_mode() {
    let cases: &[(Platform, &[&str], &str)] = &[
        (Platform::CiscoIos, &[], "ios-001>"),
        (Platform::CiscoIos, &["enable", "en4ble"], "ios-001#"),
        (
            Platform::CiscoIos,
            &["enable", "en4ble", "conf t"],
            "ios-001(config)#",
        ),
        (
            Platform::CiscoIos,
            &["enable", "en4ble", "conf t", "int gi1/0/1"],
            "ios-001(config-if)#",
        ),
        (
            Platform::CiscoIos,
            &["enable", "en4ble", "conf t", "router ospf 1"],
            "ios-001(config-router)#",
        ),
        (
            Platform::CiscoIos,
            &["enable", "en4ble", "conf t", "line vty 0 4"],
            "ios-001(config-line)#",
        ),
        (Platform::AristaEos, &[], "eos-001>"),
        (
            Platform::AristaEos,
            &["enable", "en4ble", "configure", "interface et1"],
            "eos-001(config-if-Et1)#",
        ),
        (Platform::CiscoNxos, &[], "nxos-001# "),
        (Platform::CiscoNxos, &["conf t"], "nxos-001(config)# "),
        (Platform::CiscoIosxr, &[], "RP/0/RP0/CPU0:xr-001#"),
        (
            Platform::CiscoIosxr,
            &["configure", "interface gi0/0/0/1"],
            "RP/0/RP0/CPU0:xr-001(config-if)#",
        ),
        (Platform::JuniperJunos, &[], "admin@junos-001> "),
        (
            Platform::JuniperJunos,
            &["configure"],
            "[edit]\nadmin@junos-001# ",
        ),
    ];
    for (p, lines, want) in cases {
        let mut sh = shell(*p);
        let mut last = String::new();
        for l in *lines {
            last = cmd(&mut sh, l);
        }
        if lines.is_empty() {
            last = cmd(&mut sh, "");
        }
        assert!(last.ends_with(want), "{p:?} {lines:?}: got {last:?}");
    }
}

#[test]
fn login_banner_ends_with_the_prompt() {
    for p in Platform::ALL {
        let (_, banner) = shell_on(device(p, None));
        let mut sh = shell(p);
        let prompt = sh.prompt();
        assert!(banner.ends_with(&prompt), "{p:?}: {banner:?}");
        assert!(!cmd(&mut sh, "").is_empty());
    }
}

#[test]
fn show_version_is_plausible_everywhere() {
    let cases = [
        (Platform::CiscoIos, "show version", "Cisco IOS XE Software"),
        (Platform::CiscoIos, "sh ver", "ios-001 uptime is"),
        (Platform::AristaEos, "sh ver", "Arista vEOS"),
        (Platform::CiscoNxos, "show version", "NXOS: version 9.3(8)"),
        (
            Platform::CiscoIosxr,
            "show version",
            "Cisco IOS XR Software",
        ),
        (Platform::JuniperJunos, "show version", "Junos: 21.4R3.15"),
    ];
    for (p, line, want) in cases {
        let mut sh = shell(p);
        cmd(&mut sh, "terminal length 0");
        cmd(&mut sh, "set cli screen-length 0");
        let out = cmd(&mut sh, line);
        assert!(out.contains(want), "{p:?} {line}: {out}");
        assert!(out.starts_with(&format!("{line}\n")), "echo first: {out:?}");
    }
}

#[test]
fn invalid_incomplete_and_ambiguous_commands_use_vendor_text() {
    let cases: &[(Platform, &str, &[&str])] = &[
        (
            Platform::CiscoIos,
            "shw version",
            &["        ^\n", "% Invalid input detected at '^' marker."],
        ),
        (Platform::CiscoIos, "show", &["% Incomplete command."]),
        (Platform::CiscoIos, "s", &["% Ambiguous command:  \"s\""]),
        (
            Platform::CiscoIos,
            "show running-config",
            &["% Invalid input detected at '^' marker."],
        ),
        (
            Platform::AristaEos,
            "shw ver",
            &["% Invalid input (at token 0: 'shw')"],
        ),
        (
            Platform::CiscoNxos,
            "shw ver",
            &["          ^\n", "% Invalid command at '^' marker."],
        ),
        (
            Platform::CiscoIosxr,
            "show bogus",
            &["% Invalid input detected at '^' marker."],
        ),
        (Platform::JuniperJunos, "shw version", &["unknown command."]),
        (
            Platform::JuniperJunos,
            "show bogus",
            &["syntax error, expecting <command>."],
        ),
    ];
    for (p, line, wants) in cases {
        let mut sh = shell(*p);
        let out = cmd(&mut sh, line);
        for w in *wants {
            assert!(out.contains(w), "{p:?} {line:?}: want {w:?} in {out:?}");
        }
        assert!(
            out.ends_with(&sh.prompt()),
            "{p:?}: prompt follows: {out:?}"
        );
    }
}

#[test]
fn enable_checks_the_secret() {
    let mut sh = shell(Platform::CiscoIos);
    assert!(cmd(&mut sh, "enable").ends_with("Password: "));
    // IOS asks three times, then gives up.
    let out = cmd(&mut sh, "wrong");
    assert!(out.ends_with("Password: "), "{out:?}");
    assert!(!out.contains("wrong"), "secret input is not echoed");
    cmd(&mut sh, "wrong");
    let out = cmd(&mut sh, "wrong");
    assert!(out.contains("% Bad secrets"), "{out:?}");
    assert!(out.ends_with("ios-001>"));

    let mut sh = shell(Platform::AristaEos);
    cmd(&mut sh, "enable");
    let out = cmd(&mut sh, "nope");
    assert!(out.contains("% Access denied"), "{out:?}");
    assert!(out.ends_with("eos-001>"));
    enable(&mut sh);

    let (mut sh, _) = shell_on(device(Platform::CiscoIos, Some(FailMode::NoEnable)));
    cmd(&mut sh, "enable");
    cmd(&mut sh, "en4ble");
    cmd(&mut sh, "en4ble");
    let out = cmd(&mut sh, "en4ble");
    assert!(out.contains("% Bad secrets"), "no-enable: {out:?}");
}

#[test]
fn paging_on_and_off() {
    for p in [
        Platform::CiscoIos,
        Platform::AristaEos,
        Platform::CiscoNxos,
        Platform::CiscoIosxr,
    ] {
        let mut sh = shell(p);
        if p.starts_unprivileged() {
            enable(&mut sh);
        }
        let out = cmd(&mut sh, "sh int");
        assert!(out.ends_with(" --More-- "), "{p:?}: {out:?}");
        assert_eq!(out.lines().count(), 26, "{p:?}: echo, 24 lines, More");
        // Space: next page.
        let out = typed(&mut sh, " ");
        assert!(out.starts_with('\x08'), "More is erased: {out:?}");
        assert!(out.ends_with(" --More-- "));
        // q: quit to the prompt.
        let out = typed(&mut sh, "q");
        assert!(out.ends_with(&sh.prompt()), "{p:?}: {out:?}");

        cmd(&mut sh, "terminal length 0");
        let out = cmd(&mut sh, "show running-config");
        assert!(!out.contains("--More--"), "{p:?}");
        assert!(out.ends_with(&sh.prompt()));
        assert!(out.lines().count() > 40);
    }
    let mut sh = shell(Platform::JuniperJunos);
    let out = cmd(&mut sh, "show configuration");
    assert!(out.contains("---(more"), "{out:?}");
    typed(&mut sh, "q");
    assert!(cmd(&mut sh, "set cli screen-length 0").contains("Screen length set to 0"));
    let out = cmd(&mut sh, "show configuration");
    assert!(!out.contains("---(more"), "{out:?}");
    assert!(out.contains("host-name junos-001;"));
}

#[test]
fn enter_works_as_cr_lf_and_crlf() {
    let mut sh = shell(Platform::CiscoNxos);
    for ending in ["\r", "\n", "\r\n"] {
        let out = typed(&mut sh, &format!("show clock{ending}"));
        assert_eq!(out.matches("nxos-001# ").count(), 1, "{ending:?}: {out:?}");
        assert!(out.contains("Time source is NTP"));
    }
    // Backspace edits the line.
    let out = typed(&mut sh, "show clockx\x7f\r");
    assert!(out.contains("Time source is NTP"), "{out:?}");
}

#[test]
fn ios_config_changes_show_in_running_config_and_no_removes_them() {
    let mut sh = shell(Platform::CiscoIos);
    enable(&mut sh);
    cmd(&mut sh, "terminal length 0");
    let out = cmd(&mut sh, "conf t");
    assert!(out.contains("Enter configuration commands"));
    cmd(&mut sh, "interface Gi1/0/4");
    cmd(&mut sh, "description to printer");
    cmd(&mut sh, "no shutdown");
    cmd(&mut sh, "exit");
    cmd(&mut sh, "ntp server 10.9.9.9");
    cmd(&mut sh, "int loopback 7");
    cmd(&mut sh, "ip address 10.7.7.7 255.255.255.255");
    cmd(&mut sh, "end");
    let run = cmd(&mut sh, "show run");
    assert!(
        run.contains("interface GigabitEthernet1/0/4\n description to printer\n!"),
        "{run}"
    );
    assert!(run.contains("ntp server 10.9.9.9"));
    assert!(run.contains("interface Loopback7\n ip address 10.7.7.7 255.255.255.255"));
    let brief = cmd(&mut sh, "sh ip int br");
    assert!(brief.contains("Loopback7              10.7.7.7"), "{brief}");
    let intf = cmd(&mut sh, "show interfaces GigabitEthernet1/0/4");
    assert!(intf.contains("Description: to printer"), "{intf}");
    assert!(intf.contains("is up, line protocol is up"));

    cmd(&mut sh, "configure terminal");
    cmd(&mut sh, "interface GigabitEthernet1/0/4");
    cmd(&mut sh, "no description");
    cmd(&mut sh, "shutdown");
    cmd(&mut sh, "exit");
    cmd(&mut sh, "no ntp server 10.9.9.9");
    cmd(&mut sh, "no interface Loopback7");
    cmd(&mut sh, "hostname core-1");
    let out = cmd(&mut sh, "end");
    assert!(
        out.ends_with("core-1#"),
        "hostname changes the prompt: {out:?}"
    );
    let run = cmd(&mut sh, "show running-config");
    assert!(!run.contains("to printer"));
    assert!(!run.contains("10.9.9.9"));
    assert!(!run.contains("Loopback7"));
    assert!(
        run.contains("interface GigabitEthernet1/0/4\n shutdown\n!"),
        "{run}"
    );
    assert!(run.contains("! Last configuration change at"));
    assert!(run.contains("ntp clock-period 17179"));
    assert!(run.contains("enable secret 9 $9$"));
    assert!(run.contains("snmp-server community s3cr3t RO"));
    assert!(run.trim_end().ends_with("end\ncore-1#"), "{run}");
    // Filters.
    let inc = cmd(&mut sh, "show run | include hostname");
    assert!(inc.contains("\nhostname core-1\n"), "{inc}");
    let sec = cmd(&mut sh, "show run | section interface Vlan10");
    assert!(sec.contains(" ip address 10.10.1.1 255.255.255.0"), "{sec}");
    assert!(!sec.contains("Loopback0"));
}

#[test]
fn ios_startup_config_needs_a_save() {
    let mut sh = shell(Platform::CiscoIos);
    enable(&mut sh);
    cmd(&mut sh, "terminal length 0");
    cmd(&mut sh, "conf t");
    cmd(&mut sh, "snmp-server location basement");
    cmd(&mut sh, "end");
    assert!(!cmd(&mut sh, "show startup-config").contains("basement"));
    let out = cmd(&mut sh, "copy running-config startup-config");
    assert!(
        out.ends_with("Destination filename [startup-config]? "),
        "{out:?}"
    );
    let out = cmd(&mut sh, "");
    assert!(out.contains("Building configuration...\n[OK]"), "{out:?}");
    assert!(out.ends_with("ios-001#"));
    assert!(cmd(&mut sh, "show startup-config").contains("snmp-server location basement"));
    // `wr` saves too.
    cmd(&mut sh, "conf t");
    cmd(&mut sh, "snmp-server contact noc");
    cmd(&mut sh, "end");
    assert!(cmd(&mut sh, "wr").contains("[OK]"));
    assert!(cmd(&mut sh, "sh start").contains("snmp-server contact noc"));
}

#[test]
fn state_is_per_device_and_shared_by_sessions() {
    let dev = device(Platform::AristaEos, None);
    let (mut a, _) = shell_on(dev.clone());
    enable(&mut a);
    cmd(&mut a, "configure terminal");
    cmd(&mut a, "vlan 30");
    cmd(&mut a, "name cameras");
    cmd(&mut a, "end");
    let (mut b, _) = shell_on(dev);
    enable(&mut b);
    let vlans = cmd(&mut b, "show vlan");
    assert!(vlans.contains("30    cameras"), "{vlans}");
    let other = shell(Platform::AristaEos);
    drop(other);
    let mut c = shell(Platform::AristaEos);
    enable(&mut c);
    assert!(!cmd(&mut c, "show vlan").contains("cameras"));
}

#[test]
fn eos_and_nxos_save_messages() {
    let mut sh = shell(Platform::AristaEos);
    enable(&mut sh);
    assert!(cmd(&mut sh, "write memory").contains("Copy completed successfully."));
    let mut sh = shell(Platform::CiscoNxos);
    let out = cmd(&mut sh, "copy running-config startup-config");
    assert!(out.contains("Copy complete."), "{out}");
    let out = cmd(&mut sh, "write memory");
    assert!(
        out.contains("% Invalid command"),
        "NX-OS has no write memory: {out}"
    );
}

#[test]
fn iosxr_changes_need_commit() {
    let mut sh = shell(Platform::CiscoIosxr);
    cmd(&mut sh, "terminal length 0");
    cmd(&mut sh, "terminal exec prompt no-timestamp");
    cmd(&mut sh, "configure");
    cmd(&mut sh, "interface GigabitEthernet0/0/0/1");
    cmd(&mut sh, "description to lab");
    cmd(&mut sh, "root");
    let pending = cmd(&mut sh, "show configuration");
    assert!(pending.contains("description to lab"), "{pending}");
    let out = cmd(&mut sh, "end");
    assert!(out.contains("Uncommitted changes found"), "{out}");
    let out = cmd(&mut sh, "cancel");
    assert!(
        out.ends_with("(config-if)#") || out.ends_with("(config)#"),
        "{out}"
    );
    cmd(&mut sh, "commit");
    cmd(&mut sh, "end");
    let run = cmd(&mut sh, "show running-config");
    assert!(
        run.contains("interface GigabitEthernet0/0/0/1\n description to lab\n shutdown"),
        "{run}"
    );
    assert!(run.contains("!! Last configuration change at"));
    // Abort throws changes away.
    cmd(&mut sh, "configure");
    cmd(&mut sh, "hostname other");
    cmd(&mut sh, "abort");
    assert!(!cmd(&mut sh, "show running-config").contains("hostname other"));
}

#[test]
fn junos_candidate_compare_commit_and_rollback() {
    let mut sh = shell(Platform::JuniperJunos);
    cmd(&mut sh, "set cli screen-length 0");
    cmd(&mut sh, "configure");
    cmd(
        &mut sh,
        "set interfaces ge-0/0/1 description \"to the lab\"",
    );
    cmd(&mut sh, "set system ntp server 10.1.1.1");
    cmd(&mut sh, "delete interfaces ge-0/0/2 disable");
    let diff = cmd(&mut sh, "show | compare");
    assert!(
        diff.contains("[edit interfaces ge-0/0/1]\n+  description \"to the lab\";"),
        "{diff}"
    );
    assert!(
        diff.contains("[edit system ntp]\n+  server 10.1.1.1;"),
        "{diff}"
    );
    assert!(
        diff.contains("[edit interfaces ge-0/0/2]\n-  disable;"),
        "{diff}"
    );
    // Not committed yet: operational view unchanged.
    let run = cmd(&mut sh, "run show configuration interfaces");
    assert!(!run.contains("to the lab"));
    let out = cmd(&mut sh, "commit");
    assert!(out.contains("commit complete"), "{out}");
    let out = cmd(&mut sh, "set foo bar");
    assert!(out.contains("syntax error."), "{out}");
    cmd(&mut sh, "set system host-name edge-9");
    let out = cmd(&mut sh, "commit and-quit");
    assert!(
        out.contains("commit complete\nExiting configuration mode"),
        "{out}"
    );
    assert!(out.ends_with("admin@edge-9> "), "{out:?}");
    let conf = cmd(&mut sh, "show configuration");
    assert!(conf.contains("## Last commit:"));
    assert!(
        conf.contains("            description \"to the lab\";")
            || conf.contains("        description \"to the lab\";"),
        "{conf}"
    );
    assert!(conf.contains("encrypted-password \"$6$"));
    assert!(conf.contains("## SECRET-DATA"));
    let set = cmd(&mut sh, "show configuration | display set");
    assert!(set.contains("set system ntp server 10.1.1.1"), "{set}");
    // Roll back the last commit (the host-name).
    cmd(&mut sh, "configure");
    assert!(cmd(&mut sh, "rollback 1").contains("load complete"));
    cmd(&mut sh, "commit and-quit");
    assert!(cmd(&mut sh, "").ends_with("admin@junos-001> "));
    // Exit with uncommitted changes asks first.
    cmd(&mut sh, "configure");
    cmd(&mut sh, "set snmp location lab");
    let out = cmd(&mut sh, "exit");
    assert!(
        out.contains("Exit with uncommitted changes? [yes,no] (yes)"),
        "{out}"
    );
    let out = cmd(&mut sh, "yes");
    assert!(out.contains("Exiting configuration mode"));
    assert!(!cmd(&mut sh, "show configuration snmp").contains("location"));
}

#[test]
fn exec_channel_runs_privileged_without_prompt() {
    let dev = device(Platform::CiscoIos, None);
    let mut sh = Shell::new(dev, "admin");
    let (out, status) = sh.exec("show running-config", false);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(status, 0);
    assert!(text.contains("hostname ios-001\n"));
    assert!(!text.contains("--More--"));
    assert!(!text.contains("ios-001#"));
    let (out, status) = sh.exec("show bogus", false);
    assert_eq!(status, 1);
    assert!(String::from_utf8(out).unwrap().contains("% Invalid input"));
}

#[test]
fn wrong_prompt_hides_the_hostname() {
    let (mut sh, banner) = shell_on(device(Platform::CiscoIos, Some(FailMode::WrongPrompt)));
    assert!(!banner.contains("ios-001"));
    let out = cmd(&mut sh, "show clock");
    assert!(!out.contains("ios-001"), "{out}");
}

#[test]
fn padded_configs_reach_the_requested_size() {
    for p in Platform::ALL {
        let mut settings = Settings::for_tests();
        settings.config_lines = 1000;
        let dev = Arc::new(Device::new("big", p, 3, None, Arc::new(settings)));
        let mut sh = Shell::new(dev, "admin");
        let cmdline = if p == Platform::JuniperJunos {
            "show configuration"
        } else {
            "show running-config"
        };
        let (out, _) = sh.exec(cmdline, false);
        let n = String::from_utf8(out).unwrap().lines().count();
        assert!((950..1150).contains(&n), "{p:?}: {n} lines");
    }
}

#[test]
fn random_keystrokes_never_panic_and_always_get_a_prompt_back() {
    // Deterministic xorshift so a failure reproduces.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let words = [
        "show",
        "sh",
        "run",
        "conf",
        "t",
        "interface",
        "int",
        "gi1/0/1",
        "no",
        "description",
        "x",
        "end",
        "exit",
        "set",
        "delete",
        "commit",
        "rollback",
        "|",
        "include",
        "?",
        "do",
        "enable",
        "en4ble",
        "terminal",
        "length",
        "0",
        "\"",
        "edit",
        "top",
        "up",
        "write",
        "copy",
        "running-config",
        "startup-config",
        "vlan",
        "10",
        "hostname",
        "r1",
        "é",
    ];
    for p in Platform::ALL {
        let mut sh = shell(p);
        for _ in 0..400 {
            let mut line = String::new();
            for _ in 0..(next() % 6) {
                line.push_str(words[(next() % words.len() as u64) as usize]);
                line.push(' ');
            }
            // Sprinkle control bytes and escape sequences.
            let mut bytes = line.into_bytes();
            match next() % 8 {
                0 => bytes.push(0x03),
                1 => bytes.extend_from_slice(b"\x1b[A"),
                2 => bytes.push(0x7f),
                3 => bytes.push(0x1a),
                4 => bytes.push(b' '),
                _ => {}
            }
            bytes.push(b'\r');
            let mut buf = bytes;
            while !buf.is_empty() {
                let (used, c) = sh.feed(&buf);
                buf.drain(..used);
                if let Some(c) = c {
                    sh.run(&c);
                }
            }
            sh.take_output();
            if sh.closed() {
                sh = shell(p);
            }
        }
        // Whatever state it is in, q + Enter + `end` gets a prompt back.
        let out = typed(&mut sh, "q\r\x03end\r");
        assert!(out.ends_with(&sh.prompt()) || sh.closed(), "{p:?}: {out:?}");
    }
}

#[test]
fn eos_configuration_sessions_diff_commit_and_abort() {
    let mut sh = shell(Platform::AristaEos);
    enable(&mut sh);
    cmd(&mut sh, "terminal length 0");
    assert!(cmd(&mut sh, "show configuration sessions").contains("pending sessions"));
    let out = cmd(&mut sh, "configure session ansible_1234");
    assert!(out.ends_with("eos-001(config-s-ansibl)#"), "{out:?}");
    let out = cmd(&mut sh, "interface Loopback5");
    assert!(out.ends_with("(config-s-ansibl-if-Lo5)#"), "{out:?}");
    cmd(&mut sh, "description in a session");
    cmd(&mut sh, "exit");
    let diff = cmd(&mut sh, "show session-config diffs");
    assert!(
        diff.contains("+++ session:/ansible_1234-session-config"),
        "{diff}"
    );
    assert!(
        diff.contains("+interface Loopback5\n+   description in a session"),
        "{diff}"
    );
    // Not applied before commit.
    assert!(!cmd(&mut sh, "show running-config").contains("in a session"));
    let out = cmd(&mut sh, "commit");
    assert!(out.ends_with("eos-001#"), "{out:?}");
    assert!(cmd(&mut sh, "show running-config").contains("   description in a session"));
    cmd(&mut sh, "configure session other");
    cmd(&mut sh, "hostname gone");
    cmd(&mut sh, "abort");
    assert!(!cmd(&mut sh, "show running-config").contains("hostname gone"));
}

/// (platform, device name, --prompt styles, first prompt, config-mode prompt).
const PROMPT_STYLES: &[(Platform, &str, &str, &str, &str)] = &[
    (
        Platform::JuniperJunos,
        "junos-001",
        "no-user",
        "junos-001> ",
        "\n[edit]\njunos-001# ",
    ),
    (
        Platform::JuniperJunos,
        "junos-001",
        "master",
        "{master:0}\nadmin@junos-001> ",
        "\n{master:0}[edit]\nadmin@junos-001# ",
    ),
    (
        Platform::JuniperJunos,
        "srx-1",
        "no-user,primary",
        "{primary:node0}\nsrx-1> ",
        "\n{primary:node0}[edit]\nsrx-1# ",
    ),
    (
        Platform::CiscoNxos,
        "nxos-001",
        "maint-mode",
        "nxos-001(maint-mode)# ",
        "nxos-001(maint-mode)(config)# ",
    ),
    (
        Platform::CiscoIosxr,
        "pe-1.ams.example.net",
        "rsp",
        "RP/0/RSP0/CPU0:pe-1.ams.example.net#",
        "RP/0/RSP0/CPU0:pe-1.ams.example.net(config)#",
    ),
    (
        Platform::CiscoIos,
        "this-is-a-very-long-hostname.example.net",
        "",
        "this-is-a-very-long-hostname.example.net>",
        "this-is-a-very-long-(config)#",
    ),
];

#[test]
fn prompt_styles_show_the_real_world_variants() {
    for (p, name, style, first, config) in PROMPT_STYLES {
        let style = crate::device::PromptStyle::parse(style).unwrap();
        let dev = Device::new(name, *p, 0, None, Arc::new(Settings::for_tests()));
        let (mut sh, banner) = shell_on(Arc::new(dev.with_prompt(style)));
        let banner = banner.replace("\r\n", "\n");
        assert!(banner.ends_with(first), "{p:?} {banner:?}");
        if sh.dev.platform.starts_unprivileged() {
            enable(&mut sh);
        }
        let verb = if *p == Platform::JuniperJunos {
            "configure"
        } else {
            "configure terminal"
        };
        let out = cmd(&mut sh, verb);
        assert!(out.ends_with(config), "{p:?} {out:?}");
    }
}

#[test]
fn nxos_can_land_in_user_exec_and_enable() {
    let style = crate::device::PromptStyle::parse("user-exec").unwrap();
    let dev = Device::new(
        "nxos-001",
        Platform::CiscoNxos,
        0,
        None,
        Arc::new(Settings::for_tests()),
    );
    let (mut sh, banner) = shell_on(Arc::new(dev.with_prompt(style)));
    assert!(banner.ends_with("nxos-001> "), "{banner:?}");
    let out = cmd(&mut sh, "enable");
    assert!(out.ends_with("Password: "), "{out:?}");
    let out = cmd(&mut sh, "en4ble");
    assert!(out.ends_with("nxos-001# "), "{out:?}");
}

/// A device whose revert timers run at `scale_ms` per minute, named apart from the other
/// tests' devices (the flash store is keyed by name).
fn fast_device(p: Platform, name: &str, scale_ms: u64) -> Arc<Device> {
    let mut settings = Settings::for_tests();
    settings.timer_scale_ms = scale_ms;
    Arc::new(Device::new(name, p, 0, None, Arc::new(settings)))
}

/// Runs `line` until its output satisfies `done`, for up to 5 s; returns the last output.
fn poll(sh: &mut Shell, line: &str, done: impl Fn(&str) -> bool) -> String {
    let start = std::time::Instant::now();
    loop {
        let out = cmd(sh, line);
        if done(&out) || start.elapsed() > std::time::Duration::from_secs(5) {
            return out;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn pause_ms(ms: u64) {
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

#[test]
fn junos_commit_confirmed_rolls_back_unless_confirmed() {
    // One minute lasts 300 ms.
    let dev = fast_device(Platform::JuniperJunos, "cc-junos", 300);
    let (mut sh, _) = shell_on(dev.clone());
    cmd(&mut sh, "set cli screen-length 0");
    cmd(&mut sh, "configure");
    cmd(&mut sh, "set system ntp server 10.9.9.9");
    cmd(&mut sh, "set system host-name cc-new");
    let out = cmd(&mut sh, "commit confirmed 1");
    assert!(
        out.contains(
            "commit confirmed will be automatically rolled back in 1 minutes unless confirmed\ncommit complete\n\n[edit]\nadmin@cc-new# "
        ),
        "{out:?}"
    );
    let conf = cmd(&mut sh, "run show configuration | display set");
    assert!(conf.contains("set system ntp server 10.9.9.9"), "{conf}");
    // Nobody confirms: the previous configuration (and hostname) come back.
    let conf = poll(&mut sh, "run show configuration | display set", |o| {
        !o.contains("10.9.9.9")
    });
    assert!(!conf.contains("10.9.9.9"), "{conf}");
    assert!(conf.contains("set system host-name cc-junos"), "{conf}");
    assert_eq!(dev.hostname(), "cc-junos");
    assert!(
        crate::device::hostname_in(Platform::JuniperJunos, &dev.startup()).as_deref()
            == Some("cc-junos")
    );
    // The session's untouched candidate rolled back too.
    assert_eq!(
        cmd(&mut sh, "show | compare"),
        "show | compare\n\n[edit]\nadmin@cc-junos# "
    );
    // The rollback was a commit of its own: rollback 1 is the unconfirmed configuration.
    cmd(&mut sh, "rollback 1");
    assert!(cmd(&mut sh, "show | compare").contains("+  server 10.9.9.9;"));
    cmd(&mut sh, "rollback 0");
    let log = cmd(&mut sh, "run show system commit");
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines[1].starts_with("0   ") && lines[1].ends_with(" by root via other"),
        "{log}"
    );
    assert_eq!(
        lines[2], "    automatic rollback: commit not confirmed",
        "{log}"
    );
    assert!(
        lines[3].starts_with("1   ")
            && lines[3].ends_with(" by admin via cli commit confirmed, rollback in 1mins"),
        "{log}"
    );
    assert!(lines[4].starts_with("2   "), "{log}");
    // A plain commit confirms; bare `commit confirmed` means 10 minutes.
    cmd(&mut sh, "set system ntp server 10.8.8.8");
    let out = cmd(&mut sh, "commit confirmed");
    assert!(out.contains("rolled back in 10 minutes"), "{out}");
    let out = cmd(&mut sh, "commit comment \"looks good\"");
    assert!(out.contains("commit complete"), "{out}");
    assert!(dev.pending_revert().is_none());
    let log = cmd(&mut sh, "run show system commit");
    assert!(
        log.contains(" by admin via cli\n    looks good\n1   "),
        "{log}"
    );
    cmd(&mut sh, "set system ntp server 10.7.7.7");
    cmd(&mut sh, "commit confirmed 1");
    let out = cmd(&mut sh, "commit and-quit");
    assert!(out.contains("Exiting configuration mode"), "{out}");
    pause_ms(500);
    let conf = cmd(&mut sh, "show configuration | display set");
    assert!(
        conf.contains("server 10.8.8.8") && conf.contains("server 10.7.7.7"),
        "{conf}"
    );
    // Bad forms.
    cmd(&mut sh, "configure");
    let out = cmd(&mut sh, "commit confirmed 0");
    assert!(out.contains("not within range (1..65535)"), "{out}");
    let out = cmd(&mut sh, "commit confirmed 5 and-quit");
    assert!(out.contains("syntax error."), "{out}");
    assert!(dev.pending_revert().is_none());
}

#[test]
fn eos_commit_timer_reverts_unless_the_session_is_committed() {
    // One minute lasts 600 ms: `commit timer 00:01:00` fires after 0.6 s.
    let dev = fast_device(Platform::AristaEos, "cc-eos", 600);
    let (mut sh, _) = shell_on(dev.clone());
    enable(&mut sh);
    cmd(&mut sh, "terminal length 0");
    cmd(&mut sh, "configure session nt1");
    cmd(&mut sh, "ntp server 10.9.9.9");
    let out = cmd(&mut sh, "commit timer 00:01:00");
    assert!(out.ends_with("cc-eos#"), "{out:?}");
    assert!(cmd(&mut sh, "show running-config").contains("ntp server 10.9.9.9"));
    let sessions = cmd(&mut sh, "show configuration sessions");
    assert!(sessions.contains("nt1") && sessions.contains("pendingCommitTimer"));
    let run = poll(&mut sh, "show running-config", |o| !o.contains("10.9.9.9"));
    assert!(!run.contains("10.9.9.9"), "{run}");
    let out = cmd(&mut sh, "configure session nt1 commit");
    assert!(
        out.contains("% Session nt1 has no pending commit timer"),
        "{out}"
    );
    // Confirmed in time: the change stays.
    cmd(&mut sh, "configure session nt2");
    cmd(&mut sh, "ntp server 10.8.8.8");
    cmd(&mut sh, "commit timer 0:01:00");
    let out = cmd(&mut sh, "configure session nt2 commit");
    assert!(out.ends_with("cc-eos#"), "{out:?}");
    pause_ms(800);
    assert!(cmd(&mut sh, "show running-config").contains("ntp server 10.8.8.8"));
    // Abort reverts at once; bad timers are rejected.
    cmd(&mut sh, "configure session nt3");
    cmd(&mut sh, "ntp server 10.7.7.7");
    for bad in [
        "1:99:00",
        "24:00:01",
        "0:00:00",
        "5124095576030431:00:00",
        "1:2",
    ] {
        let out = cmd(&mut sh, &format!("commit timer {bad}"));
        assert!(out.contains("% Invalid input"), "{bad}: {out}");
    }
    cmd(&mut sh, "commit timer 01:00:00");
    cmd(&mut sh, "configure session nt3 abort");
    assert!(!cmd(&mut sh, "show running-config").contains("10.7.7.7"));
}

#[test]
fn iosxr_commit_confirmed_reverts_unless_confirmed() {
    // 30 seconds last 300 ms.
    let dev = fast_device(Platform::CiscoIosxr, "cc-xr", 600);
    let (mut sh, _) = shell_on(dev.clone());
    cmd(&mut sh, "terminal length 0");
    cmd(&mut sh, "terminal exec prompt no-timestamp");
    cmd(&mut sh, "configure");
    cmd(&mut sh, "hostname cc-xr-new");
    let out = cmd(&mut sh, "commit confirmed 10");
    assert!(
        out.contains("% Invalid input detected at '^' marker."),
        "{out}"
    );
    let out = cmd(&mut sh, "commit confirmed 30");
    assert!(out.ends_with("RP/0/RP0/CPU0:cc-xr-new(config)#"), "{out:?}");
    cmd(&mut sh, "end");
    let run = poll(&mut sh, "show running-config", |o| !o.contains("cc-xr-new"));
    assert!(run.contains("hostname cc-xr\n"), "{run}");
    assert!(cmd(&mut sh, "").ends_with("RP/0/RP0/CPU0:cc-xr#"));
    // A later commit with nothing to commit confirms the trial.
    cmd(&mut sh, "configure");
    cmd(&mut sh, "domain name confirmed.example");
    cmd(&mut sh, "commit confirmed minutes 1");
    cmd(&mut sh, "end");
    cmd(&mut sh, "configure");
    let out = cmd(&mut sh, "commit");
    assert!(
        out.contains("% Confirming commit for trial session."),
        "{out}"
    );
    let out = cmd(&mut sh, "commit");
    assert!(
        out.contains("% No configuration changes to commit."),
        "{out}"
    );
    cmd(&mut sh, "end");
    pause_ms(800);
    assert!(cmd(&mut sh, "show running-config").contains("domain name confirmed.example"));
}

#[test]
fn ios_revert_timer_needs_an_archive_path_and_configure_confirm() {
    let dev = fast_device(Platform::CiscoIos, "cc-ios", 300);
    let (mut sh, _) = shell_on(dev.clone());
    enable(&mut sh);
    cmd(&mut sh, "terminal length 0");
    assert!(
        cmd(&mut sh, "show running-config").contains("archive\n path flash:archive\n maximum 14\n")
    );
    let out = cmd(&mut sh, "configure terminal revert timer 1");
    assert!(out.contains("Enter configuration commands"), "{out}");
    assert!(out.ends_with("cc-ios(config)#"), "{out:?}");
    cmd(&mut sh, "hostname cc-ios-new");
    cmd(&mut sh, "end");
    let run = poll(&mut sh, "show running-config", |o| {
        !o.contains("cc-ios-new")
    });
    assert!(run.contains("hostname cc-ios\n"), "{run}");
    assert!(cmd(&mut sh, "").ends_with("cc-ios#"));
    assert!(cmd(&mut sh, "configure confirm").contains("% No Rollback Confirmed Change pending"));
    // Confirmed in time: the change stays.
    cmd(&mut sh, "configure terminal revert timer 1");
    cmd(&mut sh, "snmp-server location confirmed");
    cmd(&mut sh, "end");
    let out = cmd(&mut sh, "configure confirm");
    assert!(out.ends_with("cc-ios#") && !out.contains('%'), "{out:?}");
    pause_ms(500);
    assert!(cmd(&mut sh, "show running-config").contains("snmp-server location confirmed"));
    // `configure revert timer N` arms the same way; `configure revert now` reverts at once.
    let out = cmd(&mut sh, "configure revert timer 1");
    assert!(out.ends_with("cc-ios(config)#"), "{out:?}");
    cmd(&mut sh, "snmp-server contact reverted-now");
    cmd(&mut sh, "end");
    assert_eq!(
        cmd(&mut sh, "configure revert now"),
        "configure revert now\ncc-ios#"
    );
    assert!(!cmd(&mut sh, "show running-config").contains("reverted-now"));
    assert!(cmd(&mut sh, "configure revert now").contains("% No Rollback Confirmed Change pending"));
    // Bad timers, then no archive path.
    assert!(cmd(&mut sh, "configure terminal revert timer 0").contains("% Invalid input"));
    assert!(cmd(&mut sh, "configure terminal revert").contains("% Incomplete command."));
    cmd(&mut sh, "configure terminal");
    cmd(&mut sh, "no archive");
    cmd(&mut sh, "end");
    let out = cmd(&mut sh, "configure terminal revert timer 5");
    assert!(out.contains("% Archive path not set"), "{out}");
    assert!(out.ends_with("cc-ios#"), "{out:?}");
    assert!(dev.pending_revert().is_none());
}

fn put_flash(device: &str, name: &str, text: &str) {
    let mut f = crate::flash::Incoming::new(text.len() as u64);
    f.push(text.as_bytes());
    crate::flash::put(device, name, f.finish());
}

#[test]
fn ios_configure_replace_asks_replaces_and_can_revert() {
    let dev = fast_device(Platform::CiscoIos, "cr-ios", 300);
    let (mut sh, _) = shell_on(dev.clone());
    enable(&mut sh);
    cmd(&mut sh, "terminal length 0");
    let shown = cmd(&mut sh, "show running-config");
    // Without the echoed command and the prompt: a saved `show running-config`.
    let lines: Vec<&str> = shown.lines().collect();
    let original = lines[1..lines.len() - 1].join("\n");
    put_flash(
        "cr-ios",
        "flash:/new.cfg",
        "Building configuration...\n\nCurrent configuration : 80 bytes\n!\nhostname cr-new\n!\ninterface Loopback0\n ip address 10.0.0.1 255.255.255.255\n!\narchive\n path flash:archive\n!\nend\n",
    );
    let out = cmd(&mut sh, "configure replace flash:missing.cfg");
    assert!(
        out.contains("%Error opening flash:missing.cfg (No such file or directory)"),
        "{out}"
    );
    let out = cmd(&mut sh, "configure replace flash:new.cfg");
    assert!(
        out.ends_with("configuration. Enter Y if you are sure you want to proceed. ? [no]: "),
        "{out:?}"
    );
    assert!(out.contains("This will apply all necessary additions and deletions\nto replace the current running configuration with the\n"));
    let out = cmd(&mut sh, "n");
    assert!(out.ends_with("cr-ios#"), "{out:?}");
    cmd(&mut sh, "configure replace flash:new.cfg");
    let out = cmd(&mut sh, "y");
    assert!(
        out.contains("Total number of passes: 1\nRollback Done"),
        "{out}"
    );
    assert!(out.ends_with("cr-new#"), "{out:?}");
    let run = cmd(&mut sh, "show running-config");
    assert!(run.contains("!\nhostname cr-new\n!\ninterface Loopback0\n ip address 10.0.0.1 255.255.255.255\n!\narchive\n path flash:archive\n!\nend\n"), "{run}");
    assert!(!run.contains("GigabitEthernet"), "{run}");
    // Back to the original with force and a revert timer: it reverts to cr-new unless
    // confirmed.
    put_flash("cr-ios", "flash:/orig.cfg", &original);
    let out = cmd(
        &mut sh,
        "configure replace flash:orig.cfg force revert trigger timer 1",
    );
    assert!(out.contains("Rollback Done"), "{out}");
    assert!(cmd(&mut sh, "show running-config").contains("GigabitEthernet1/0/1"));
    let run = poll(&mut sh, "show running-config", |o| {
        o.contains("hostname cr-new")
    });
    assert!(
        run.contains("hostname cr-new") && !run.contains("GigabitEthernet"),
        "{run}"
    );
    cmd(&mut sh, "configure replace flash:orig.cfg force time 1");
    cmd(&mut sh, "configure confirm");
    pause_ms(500);
    let run = cmd(&mut sh, "show running-config");
    assert!(
        run.contains("hostname cr-ios") && run.contains("GigabitEthernet1/0/1"),
        "{run}"
    );
}

#[test]
fn config_files_parse_and_render_back() {
    let ios = "!\nversion 17.3\nhostname from-file\n!\ninterface Loopback0\n description x\n!\nline vty 0 4\n login local";
    let tree = crate::content::parse_config(Platform::CiscoIos, ios).unwrap();
    let dev = device(Platform::CiscoIos, None);
    dev.set_initial_config(tree);
    assert_eq!(dev.hostname(), "from-file");
    let mut sh = Shell::new(dev.clone(), "admin");
    let (out, _) = sh.exec("show running-config", false);
    let out = String::from_utf8(out).unwrap();
    let body = out.split_once("! NVRAM config last updated").unwrap().1;
    assert!(
        body.ends_with("\n!\nversion 17.3\nhostname from-file\n!\ninterface Loopback0\n description x\n!\nline vty 0 4\n login local\nend\n"),
        "{out}"
    );
    assert!(out.starts_with("Building configuration...\n\nCurrent configuration : "));
    let (out, _) = sh.exec("show startup-config", false);
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("hostname from-file"));

    let eos = "! Command: show running-config\n! device: leaf1 (vEOS-lab, EOS-4.28.3M)\n!\nhostname leaf1\n!\ninterface Ethernet1\n   description x\n";
    let tree = crate::content::parse_config(Platform::AristaEos, eos).unwrap();
    let lines: Vec<&str> = tree.iter().map(|n| n.line.as_str()).collect();
    assert_eq!(lines, ["hostname leaf1", "!", "interface Ethernet1", "end"]);
    let nxos = crate::content::parse_config(Platform::CiscoNxos, "hostname n1\n").unwrap();
    assert_eq!(nxos.len(), 1, "NX-OS configs have no end");

    let braces = "## Last commit: 2026-11-25 09:00:00 UTC by admin\nversion 21.4R3.15;\nsystem {\n    host-name fw-file;\n    root-authentication {\n        encrypted-password \"$6$abc\"; ## SECRET-DATA\n    }\n    /* managed */\n    services {\n        ssh;\n    }\n}\ninterfaces {\n    ge-0/0/0 {\n        description \"uplink to core\";\n        unit 0 {\n            family inet {\n                address 10.0.0.1/24;\n            }\n        }\n    }\n}\nvlans {\n    v10 {\n        vlan-id 10;\n    }\n}";
    let tree = crate::content::parse_config(Platform::JuniperJunos, braces).unwrap();
    let mut lines = Vec::new();
    crate::junos::render_braces(&tree, 0, &mut lines);
    let expected: Vec<&str> = braces
        .lines()
        .filter(|l| !l.starts_with("##") && !l.contains("/*"))
        .collect();
    assert_eq!(lines, expected);
    let dev = device(Platform::JuniperJunos, None);
    dev.set_initial_config(tree);
    assert_eq!(dev.hostname(), "fw-file");
    let mut sh = Shell::new(dev, "admin");
    let (out, _) = sh.exec("show configuration | display set", false);
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("set interfaces ge-0/0/0 unit 0 family inet address 10.0.0.1/24"),
        "{out}"
    );
    let set = crate::content::parse_config(
        Platform::JuniperJunos,
        "set system host-name fw-set\nset system services ssh\n",
    )
    .unwrap();
    assert_eq!(
        crate::device::hostname_in(Platform::JuniperJunos, &set).as_deref(),
        Some("fw-set")
    );
    for bad in [
        "system {\n host-name x;\n",
        "system {\n host-name x\n}",
        "}",
    ] {
        assert!(
            crate::content::parse_config(Platform::JuniperJunos, bad).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn ios_banner_text_entry_shows_no_prompt_until_the_delimiter() {
    let mut sh = shell(Platform::CiscoIos);
    enable(&mut sh);
    cmd(&mut sh, "terminal length 0");
    cmd(&mut sh, "conf t");
    let out = cmd(&mut sh, "banner motd ^C");
    assert_eq!(
        out,
        "banner motd ^C\nEnter TEXT message.  End with the character '^C'.\n"
    );
    assert_eq!(
        cmd(&mut sh, "Authorized access only"),
        "Authorized access only\n"
    );
    assert_eq!(cmd(&mut sh, ""), "\n");
    assert_eq!(cmd(&mut sh, "  logged ^C"), "  logged ^C\nios-001(config)#");
    cmd(&mut sh, "end");
    let run = cmd(&mut sh, "show running-config");
    assert!(
        run.contains("!\nbanner motd ^C\nAuthorized access only\n\n  logged ^C\n!\nline con 0\n"),
        "{run}"
    );
    // A new banner replaces the old one in place, whatever its delimiter; `^C` is shown.
    cmd(&mut sh, "conf t");
    let out = cmd(&mut sh, "banner motd #");
    assert!(out.ends_with("End with the character '#'.\n"), "{out:?}");
    cmd(&mut sh, "Maintenance tonight");
    assert!(cmd(&mut sh, "#").ends_with("(config)#"));
    assert!(cmd(&mut sh, "banner login ^Chello^C").ends_with("ios-001(config)#"));
    cmd(&mut sh, "end");
    let run = cmd(&mut sh, "show running-config");
    assert!(
        run.contains(
            "!\nbanner motd ^C\nMaintenance tonight\n^C\nbanner login ^Chello^C\n!\nline con 0\n"
        ),
        "{run}"
    );
    assert!(!run.contains("Authorized"), "{run}");
    cmd(&mut sh, "conf t");
    assert!(cmd(&mut sh, "no banner motd").ends_with("(config)#"));
    cmd(&mut sh, "no banner login");
    cmd(&mut sh, "end");
    let run = cmd(&mut sh, "show running-config");
    assert!(
        !run.contains("banner") && !run.contains("Maintenance"),
        "{run}"
    );
    assert!(
        run.contains("ntp server 192.0.2.123\n!\nline con 0\n"),
        "{run}"
    );
    cmd(&mut sh, "conf t");
    assert!(cmd(&mut sh, "banner motd").contains("% Incomplete command."));
    assert!(cmd(&mut sh, "banner nonsense #x#").contains("% Invalid input"));
}

#[test]
fn eos_banner_ends_at_eof() {
    let mut sh = shell(Platform::AristaEos);
    enable(&mut sh);
    cmd(&mut sh, "terminal length 0");
    cmd(&mut sh, "configure");
    let out = cmd(&mut sh, "banner motd");
    assert_eq!(
        out,
        "banner motd\nEnter TEXT message.  Type 'EOF' on its own line to end.\n"
    );
    assert_eq!(cmd(&mut sh, "text line"), "text line\n");
    assert!(cmd(&mut sh, "EOF").ends_with("eos-001(config)#"));
    cmd(&mut sh, "banner motd");
    cmd(&mut sh, "second banner");
    cmd(&mut sh, "EOF");
    cmd(&mut sh, "end");
    let run = cmd(&mut sh, "show running-config");
    assert!(run.contains("\nbanner motd\nsecond banner\nEOF\n"), "{run}");
    assert!(!run.contains("text line"), "{run}");
    cmd(&mut sh, "configure");
    cmd(&mut sh, "no banner motd");
    cmd(&mut sh, "end");
    let run = cmd(&mut sh, "show running-config");
    assert!(!run.contains("banner") && !run.contains("EOF"), "{run}");
}

#[test]
fn nxos_banner_keeps_its_delimiter() {
    let mut sh = shell(Platform::CiscoNxos);
    cmd(&mut sh, "terminal length 0");
    cmd(&mut sh, "conf t");
    cmd(&mut sh, "banner motd ^");
    cmd(&mut sh, "authorized access only");
    assert!(cmd(&mut sh, "^").ends_with("(config)# "));
    cmd(&mut sh, "end");
    let run = cmd(&mut sh, "show running-config");
    assert!(
        run.contains("banner motd ^\nauthorized access only\n^\n"),
        "{run}"
    );
}

#[test]
fn ios_numbered_acl_entries_go_in_number_order_and_no_removes_them() {
    let mut sh = shell(Platform::CiscoIos);
    enable(&mut sh);
    cmd(&mut sh, "terminal length 0");
    cmd(&mut sh, "conf t");
    cmd(&mut sh, "ip access-list extended MAIL");
    cmd(&mut sh, "10 permit tcp any host 192.0.2.10 eq 25");
    cmd(&mut sh, "40 deny ip any any");
    let out = cmd(&mut sh, "35 permit tcp any host 192.0.2.11 eq 587");
    assert!(out.ends_with("(config-ext-nacl)#"), "{out:?}");
    cmd(&mut sh, "end");
    let run = cmd(&mut sh, "show running-config");
    assert!(
        run.contains("ip access-list extended MAIL\n 10 permit tcp any host 192.0.2.10 eq 25\n 35 permit tcp any host 192.0.2.11 eq 587\n 40 deny ip any any\n"),
        "{run}"
    );
    cmd(&mut sh, "conf t");
    cmd(&mut sh, "ip access-list extended MAIL");
    cmd(&mut sh, "no 35");
    cmd(&mut sh, "no 40 deny ip any any");
    cmd(&mut sh, "end");
    let run = cmd(&mut sh, "show running-config");
    assert!(
        run.contains("ip access-list extended MAIL\n 10 permit tcp any host 192.0.2.10 eq 25\n"),
        "{run}"
    );
    assert!(!run.contains(" 35 ") && !run.contains(" 40 deny"), "{run}");
    // At the top level a line still starts with a keyword.
    cmd(&mut sh, "conf t");
    assert!(cmd(&mut sh, "35 permit ip any any").contains("% Invalid input"));
}

#[test]
fn config_files_with_banners_render_back_identically() {
    let cases = [
        (
            Platform::CiscoIos,
            "hostname from-file\n!\nbanner exec ^Cwelcome^C\nbanner motd ^C\n  Authorized access only\n\n ! all sessions are logged\n^C\n!\nline con 0\n stopbits 1\nend\n",
        ),
        (
            Platform::AristaEos,
            "hostname leaf1\n!\nbanner login\n   Property of Example Networks.\n!\nEOF\n!\nend\n",
        ),
        (
            Platform::CiscoNxos,
            "hostname n1\nbanner motd #\n  nx-ams-2 -- authorized access only\n#\nline console\n",
        ),
    ];
    for (p, text) in cases {
        let tree = crate::content::parse_config(p, text).unwrap();
        let dev = device(p, None);
        dev.set_initial_config(tree);
        let mut sh = Shell::new(dev.clone(), "admin");
        let (out, _) = sh.exec("show running-config", false);
        let out = String::from_utf8(out).unwrap();
        assert!(out.ends_with(&format!("\n{text}")), "{p:?}: {out}");
    }
}
