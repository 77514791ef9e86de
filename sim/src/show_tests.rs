//! The show outputs that parsers read: JSON pipes agree with the text of the same command,
//! and (ignored test) a dump of every parsed show output for `compat/ntc_check.py`.

use std::sync::Arc;

use crate::device::{Device, Settings};
use crate::platform::Platform;
use crate::shell::Shell;

fn device(p: Platform) -> Arc<Device> {
    let name = format!("{}001", p.default_prefix());
    Arc::new(Device::new(
        &name,
        p,
        0,
        None,
        Arc::new(Settings::for_tests()),
    ))
}

/// One command on an exec channel; the text, and whether the device called it an error.
fn exec(sh: &mut Shell, line: &str) -> (String, bool) {
    let (out, status) = sh.exec(line, false);
    (
        String::from_utf8_lossy(&out).replace("\r\n", "\n"),
        status != 0,
    )
}

/// The (platform, command) pairs that ntc-templates has a template for; `compat/ntc_check.py`
/// parses their dump.
pub const PARSED: &[(Platform, &[&str])] = &[
    (
        Platform::CiscoIos,
        &[
            "show version",
            "show interfaces",
            "show ip interface brief",
            "show interfaces status",
            "show vlan",
            "show clock",
            "show inventory",
            "show ip route",
            "show users",
            "show cdp neighbors",
            "show lldp neighbors",
        ],
    ),
    (
        Platform::AristaEos,
        &[
            "show version",
            "show interfaces",
            "show ip interface brief",
            "show interfaces status",
            "show vlan",
            "show clock",
            "show inventory",
            "show hostname",
            "show ip route",
            "show lldp neighbors",
        ],
    ),
    (
        Platform::CiscoNxos,
        &[
            "show version",
            "show interface",
            "show ip interface brief",
            "show interface status",
            "show interface brief",
            "show vlan",
            "show clock",
            "show inventory",
            "show hostname",
            "show ip route",
            "show cdp neighbors",
            "show lldp neighbors",
        ],
    ),
    (
        Platform::CiscoIosxr,
        &[
            "show version",
            "show interfaces",
            "show ipv4 interface brief",
            "show route",
            "show lldp neighbors",
        ],
    ),
    (
        Platform::JuniperJunos,
        &[
            "show version",
            "show interfaces",
            "show interfaces terse",
            "show chassis hardware",
            "show system uptime",
            "show lldp neighbors",
        ],
    ),
];

/// `PSIM_DUMP=DIR cargo test -p netorch-sim dump_show_outputs -- --ignored` writes
/// `DIR/<platform>/<command>.txt` for `python compat/ntc_check.py DIR`.
#[test]
#[ignore]
fn dump_show_outputs() {
    let Ok(dir) = std::env::var("PSIM_DUMP") else {
        return;
    };
    // `PSIM_DUMP_LINES=N`: devices with configs padded to N lines (many access ports).
    let lines: usize = std::env::var("PSIM_DUMP_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for (p, cmds) in PARSED {
        let sub = std::path::Path::new(&dir).join(p.name());
        std::fs::create_dir_all(&sub).unwrap();
        let settings = Settings {
            config_lines: lines,
            ..Settings::for_tests()
        };
        let name = format!("{}001", p.default_prefix());
        let dev = Arc::new(Device::new(&name, *p, 0, None, Arc::new(settings)));
        let mut sh = Shell::new(dev, "admin");
        for c in *cmds {
            let (text, failed) = exec(&mut sh, c);
            let text = if failed {
                format!("ERROR {text}")
            } else {
                text
            };
            std::fs::write(sub.join(format!("{c}.txt")), text).unwrap();
        }
    }
}

fn json_of(sh: &mut Shell, line: &str) -> serde_json::Value {
    let (text, failed) = exec(sh, line);
    assert!(!failed, "{line}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{line}: {e}\n{text}"))
}

/// The data rows of a column table: lines that start with one of `names`.
fn row<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default()
}

#[test]
fn eos_json_agrees_with_the_text() {
    let mut sh = Shell::new(device(Platform::AristaEos), "admin");
    let v = json_of(&mut sh, "show version | json");
    let (text, _) = exec(&mut sh, "show version");
    assert_eq!(v["modelName"], "vEOS-lab");
    let version = v["version"].as_str().unwrap();
    assert!(text.contains(&format!("Software image version: {version}")));
    let serial = v["serialNumber"].as_str().unwrap();
    assert!(text.contains(&format!("Serial number: {serial}")), "{text}");
    assert!(v["uptime"].as_f64().unwrap() > 0.0);

    let v = json_of(&mut sh, "show interfaces status | json");
    let (text, _) = exec(&mut sh, "show interfaces status");
    let st = v["interfaceStatuses"].as_object().unwrap();
    assert_eq!(st.len(), text.lines().count() - 1, "{text}");
    for (name, i) in st {
        let cols = row(&text, &crate::content::short_ifname(name));
        assert_eq!(
            Some(&i["linkStatus"].as_str().unwrap()),
            cols.iter().rev().nth(4),
            "{name}: {cols:?}"
        );
    }
    assert_eq!(st["Ethernet1"]["linkStatus"], "connected");
    assert_eq!(st["Ethernet1"]["description"], "uplink to core");
    assert_eq!(st["Ethernet1"]["vlanInformation"]["interfaceMode"], "trunk");
    assert_eq!(st["Ethernet2"]["vlanInformation"]["vlanId"], 10);
    assert_eq!(st["Ethernet3"]["linkStatus"], "disabled");

    let v = json_of(&mut sh, "show ip interface brief | json");
    let (text, _) = exec(&mut sh, "show ip interface brief");
    let ifs = v["interfaces"].as_object().unwrap();
    assert!(!ifs.is_empty());
    for (name, i) in ifs {
        let cols = row(&text, name);
        let addr = &i["interfaceAddress"]["ipAddr"];
        assert_eq!(
            cols[1],
            format!("{}/{}", addr["address"].as_str().unwrap(), addr["maskLen"])
        );
        assert_eq!(cols[3], i["lineProtocolStatus"].as_str().unwrap());
    }

    let v = json_of(&mut sh, "show vlan | json");
    let (text, _) = exec(&mut sh, "show vlan");
    let vlans = v["vlans"].as_object().unwrap();
    assert_eq!(vlans.len(), 3);
    for (id, vl) in vlans {
        let cols = row(&text, id);
        assert_eq!(cols[1], vl["name"].as_str().unwrap());
        for port in vl["interfaces"].as_object().unwrap().keys() {
            assert!(
                text.lines().any(|l| l.starts_with(&format!("{id} "))
                    && l.contains(&crate::content::short_ifname(port))),
                "{id} {port}\n{text}"
            );
        }
    }
    assert!(vlans["10"]["interfaces"].get("Ethernet2").is_some());

    // Not converted, and not a command at all.
    let (text, _) = exec(&mut sh, "show clock | json");
    assert!(text.contains("unconverted"), "{text}");
    let (text, failed) = exec(&mut sh, "show bogus | json");
    assert!(failed && text.contains("% Invalid input"), "{text}");
}

#[test]
fn nxos_json_agrees_with_the_text() {
    let mut sh = Shell::new(device(Platform::CiscoNxos), "admin");
    let v = json_of(&mut sh, "show version | json");
    let (text, _) = exec(&mut sh, "show version");
    let version = v["nxos_ver_str"].as_str().unwrap();
    assert!(text.contains(&format!("NXOS: version {version}")));
    assert_eq!(v["host_name"], "nxos-001");
    assert!(text.contains(&format!(
        "Processor Board ID {}",
        v["proc_board_id"].as_str().unwrap()
    )));

    let v = json_of(&mut sh, "show interface brief | json");
    let (text, _) = exec(&mut sh, "show interface brief");
    let rows = v["TABLE_interface"]["ROW_interface"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    for r in rows {
        let name = r["interface"].as_str().unwrap();
        let cols = row(&text, &crate::content::nxos_short(name));
        assert!(
            cols.contains(&r["state"].as_str().unwrap()),
            "{name}: {cols:?}"
        );
    }
    let eth3 = rows
        .iter()
        .find(|r| r["interface"] == "Ethernet1/3")
        .unwrap();
    assert_eq!(eth3["state"], "down");
    assert_eq!(eth3["state_rsn_desc"], "Administratively down");

    // One row: an object, as NX-API prints a single-row table.
    let v = json_of(&mut sh, "show ip interface brief | json");
    let (text, _) = exec(&mut sh, "show ip interface brief");
    let r = &v["TABLE_intf"]["ROW_intf"];
    assert!(r.is_object(), "{v}");
    let cols = row(&text, r["intf-name"].as_str().unwrap());
    assert_eq!(cols[1], r["prefix"].as_str().unwrap());

    let v = json_of(&mut sh, "show vlan brief | json");
    let rows = v["TABLE_vlanbriefxbrief"]["ROW_vlanbriefxbrief"]
        .as_array()
        .unwrap();
    let (text, _) = exec(&mut sh, "show vlan brief");
    for r in rows {
        let cols = row(&text, r["vlanshowbr-vlanid"].as_str().unwrap());
        assert_eq!(cols[1], r["vlanshowbr-vlanname"].as_str().unwrap());
    }
    let v10 = rows
        .iter()
        .find(|r| r["vlanshowbr-vlanid"] == "10")
        .unwrap();
    assert_eq!(v10["vlanshowplist-ifidx"], "Ethernet1/2");

    let (text, failed) = exec(&mut sh, "show bogus | json");
    assert!(failed && text.contains("% Invalid command"), "{text}");
}

#[test]
fn junos_json_agrees_with_the_text() {
    let mut sh = Shell::new(device(Platform::JuniperJunos), "admin");
    let v = json_of(&mut sh, "show version | display json");
    let (text, _) = exec(&mut sh, "show version");
    let sw = &v["software-information"][0];
    assert_eq!(sw["host-name"][0]["data"], "junos-001");
    let version = sw["junos-version"][0]["data"].as_str().unwrap();
    assert!(text.contains(&format!("Junos: {version}")));

    let v = json_of(&mut sh, "show interfaces terse | display json");
    let (text, _) = exec(&mut sh, "show interfaces terse");
    let phys = v["interface-information"][0]["physical-interface"]
        .as_array()
        .unwrap();
    assert_eq!(phys[0]["name"][0]["data"], "ge-0/0/0");
    for p in phys {
        let name = p["name"][0]["data"].as_str().unwrap();
        let cols = row(&text, name);
        assert_eq!(
            cols[1],
            p["admin-status"][0]["data"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            cols[2],
            p["oper-status"][0]["data"].as_str().unwrap(),
            "{name}"
        );
        for l in p["logical-interface"].as_array().into_iter().flatten() {
            let lname = l["name"][0]["data"].as_str().unwrap();
            let cols = row(&text, lname);
            let fam = &l["address-family"][0];
            assert_eq!(
                cols[3],
                fam["address-family-name"][0]["data"].as_str().unwrap()
            );
            assert_eq!(
                cols[4],
                fam["interface-address"][0]["ifa-local"][0]["data"]
                    .as_str()
                    .unwrap()
            );
        }
    }
    let ge2 = phys
        .iter()
        .find(|p| p["name"][0]["data"] == "ge-0/0/2")
        .unwrap();
    assert_eq!(ge2["admin-status"][0]["data"], "down");

    let (text, failed) = exec(&mut sh, "show bogus | display json");
    assert!(failed && text.contains("syntax error"), "{text}");
}

#[test]
fn ios_show_interfaces_has_an_erroring_port_and_an_up_uplink() {
    let mut sh = Shell::new(device(Platform::CiscoIos), "admin");
    let (text, _) = exec(&mut sh, "show interfaces");
    let blocks: Vec<&str> = text.split("\nGigabitEthernet").collect();
    let with_errors: Vec<&&str> = blocks
        .iter()
        .filter(|b| !b.contains("     0 input errors, 0 CRC"))
        .collect();
    assert_eq!(with_errors.len(), 1, "{text}");
    assert!(
        with_errors[0].starts_with("1/0/2 is up"),
        "{}",
        with_errors[0]
    );
    assert!(with_errors[0].contains("1523 input errors, 1187 CRC"));
    assert!(text.contains("GigabitEthernet1/0/1 is up, line protocol is up"));
    // The neighbors follow the uplink's state.
    let (cdp, _) = exec(&mut sh, "show cdp neighbors");
    assert!(cdp.contains("Gig 1/0/1"), "{cdp}");
    let mut sh2 = Shell::new(device(Platform::CiscoIos), "admin");
    let (status, _) = exec(&mut sh2, "show interfaces status");
    assert!(row(&status, "Gi1/0/1").contains(&"connected"), "{status}");
    assert!(row(&status, "Gi1/0/3").contains(&"disabled"), "{status}");
}
