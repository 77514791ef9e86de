//! JSON answers of the `| json` (EOS, NX-OS) and `| display json` (Junos) pipes, in the
//! shapes the real devices print, built from the same data as the text of the command.

use serde_json::{json, Map, Value};

use crate::content::{self, Iface};
use crate::device::Device;
use crate::tree::Node;

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// `10.0.0.1 255.255.255.0` or `10.0.0.1/24` -> (`10.0.0.1`, 24).
fn addr_len(a: &str) -> (String, u32) {
    let (ip, len) = content::split_addr(a);
    (ip, len.parse().unwrap_or(32))
}

/// EOS `show version | json`.
pub fn eos_version(dev: &Device) -> String {
    let mac = content::colon_mac(&content::mac(dev.index, 0));
    pretty(&json!({
        "mfgName": "Arista",
        "modelName": "vEOS-lab",
        "hardwareRevision": "",
        "serialNumber": content::serial(dev),
        "systemMacAddress": mac,
        "hwMacAddress": mac,
        "configMacAddress": "00:00:00:00:00:00",
        "version": "4.28.3M",
        "architecture": "x86_64",
        "internalVersion": "4.28.3M-29174443.4283M",
        "internalBuildId": "5d8f7c46-0a2c-4a48-ad0c-0e5a9f8a6c8b",
        "imageFormatVersion": "1.0",
        "imageOptimization": "None",
        "bootupTimestamp": 1_700_000_000.0,
        "uptime": content::UPTIME_SECONDS as f64,
        "memTotal": 4_002_012,
        "memFree": 2_630_404,
        "isIntlVersion": false
    }))
}

/// EOS `show interfaces status | json`.
pub fn eos_interfaces_status(tree: &[Node]) -> String {
    let mut statuses = Map::new();
    for i in content::interfaces(tree)
        .iter()
        .filter(|i| i.physical() || i.name.starts_with("Management"))
    {
        let vlan = if i.trunk {
            json!({"interfaceMode": "trunk", "vlanExplanation": "", "interfaceForwardingModel": "bridged"})
        } else if i.switchport() {
            json!({"interfaceMode": "bridged", "vlanId": i.vlan(), "interfaceForwardingModel": "bridged"})
        } else {
            json!({"interfaceForwardingModel": "routed"})
        };
        let up = !i.shutdown;
        statuses.insert(
            i.name.clone(),
            json!({
                "vlanInformation": vlan,
                "bandwidth": 1_000_000_000u64,
                "interfaceType": "10/100/1000",
                "description": i.description.clone().unwrap_or_default(),
                "autoNegotiateActive": up,
                "duplex": "duplexFull",
                "linkStatus": if up { "connected" } else { "disabled" },
                "lineProtocolStatus": if up { "up" } else { "down" }
            }),
        );
    }
    pretty(&json!({ "interfaceStatuses": statuses }))
}

/// EOS `show ip interface brief | json`: the routed interfaces, as the text lists them.
pub fn eos_ip_interface_brief(tree: &[Node]) -> String {
    let mut out = Map::new();
    for i in content::interfaces(tree).iter().filter(|i| !i.switchport()) {
        let (ip, len) = i
            .address
            .as_deref()
            .map(addr_len)
            .unwrap_or_else(|| ("0.0.0.0".into(), 0));
        let up = !i.shutdown;
        out.insert(
            i.name.clone(),
            json!({
                "name": i.name,
                "lineProtocolStatus": if up { "up" } else { "down" },
                "interfaceStatus": if up { "connected" } else { "disabled" },
                "mtu": if i.name.starts_with("Loopback") { 65535 } else { 1500 },
                "ipv4Routable240": false,
                "nonRoutableClass": false,
                "interfaceAddress": { "ipAddr": { "address": ip, "maskLen": len } }
            }),
        );
    }
    pretty(&json!({ "interfaces": out }))
}

/// EOS `show vlan | json`.
pub fn eos_vlan(dev: &Device, tree: &[Node]) -> String {
    let ifaces = content::interfaces(tree);
    let mut vlans = Map::new();
    for (id, name) in content::vlans(tree) {
        let mut members = Map::new();
        for i in content::vlan_members(dev.platform, &ifaces, id) {
            members.insert(
                i.name.clone(),
                json!({"privatePromoted": false, "blocked": null}),
            );
        }
        vlans.insert(
            id.to_string(),
            json!({"name": name, "dynamic": false, "status": "active", "interfaces": members}),
        );
    }
    pretty(&json!({ "vlans": vlans, "sourceDetail": "" }))
}

/// NX-OS `TABLE_x` / `ROW_x`: a single row is an object, not a list, as NX-API prints it.
fn nxos_table(table: &str, row: &str, rows: Vec<Value>) -> Value {
    let rows = if rows.len() == 1 {
        rows.into_iter().next().unwrap_or(Value::Null)
    } else {
        Value::Array(rows)
    };
    let mut inner = Map::new();
    inner.insert(row.to_string(), rows);
    let mut outer = Map::new();
    outer.insert(table.to_string(), Value::Object(inner));
    Value::Object(outer)
}

/// NX-OS `show version | json`.
pub fn nxos_version(dev: &Device, host: &str) -> String {
    pretty(&json!({
        "header_str": "Cisco Nexus Operating System (NX-OS) Software\nTAC support: http://www.cisco.com/tac\nCopyright (c) 2002-2021, Cisco Systems, Inc. All rights reserved.",
        "bios_ver_str": "",
        "kickstart_ver_str": "9.3(8)",
        "nxos_ver_str": "9.3(8)",
        "bios_cmpl_time": "",
        "kick_file_name": "bootflash:///nxos.9.3.8.bin",
        "nxos_file_name": "bootflash:///nxos.9.3.8.bin",
        "kick_cmpl_time": "8/18/2021 8:00:00",
        "nxos_cmpl_time": "8/18/2021 8:00:00",
        "kick_tmstmp": "08/18/2021 16:50:32",
        "nxos_tmstmp": "08/18/2021 16:50:32",
        "chassis_id": "Nexus9000 C9300v Chassis",
        "cpu_name": "Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz",
        "memory": 16_409_108,
        "mem_type": "kB",
        "proc_board_id": content::serial(dev),
        "host_name": host,
        "bootflash_size": 4_287_040,
        "kern_uptm_days": 84,
        "kern_uptm_hrs": 4,
        "kern_uptm_mins": 5,
        "kern_uptm_secs": 12,
        "rr_reason": "Unknown",
        "rr_sys_ver": "",
        "rr_service": "",
        "plugins": "Core Plugin, Ethernet Plugin",
        "manufacturer": "Cisco Systems, Inc.",
        "TABLE_package_list": { "ROW_package_list": { "package_id": "" } }
    }))
}

/// NX-OS `show interface brief | json`: the rows of the text's management, Ethernet and
/// loopback tables, with full interface names.
pub fn nxos_interface_brief(tree: &[Node]) -> String {
    let mut rows = Vec::new();
    let ifaces = content::interfaces(tree);
    for i in ifaces.iter().filter(|i| i.name.starts_with("mgmt")) {
        let ip = i
            .address
            .as_deref()
            .map(|a| addr_len(a).0)
            .unwrap_or_default();
        rows.push(json!({
            "interface": i.name,
            "state": if i.shutdown { "down" } else { "up" },
            "ip_addr": ip,
            "speed": "1000",
            "mtu": "1500"
        }));
    }
    for i in ifaces.iter().filter(|i| i.physical()) {
        let mode = if i.trunk {
            "trunk"
        } else if i.switchport() {
            "access"
        } else {
            "routed"
        };
        let vlan = if i.switchport() {
            i.vlan().to_string()
        } else {
            "--".into()
        };
        let (state, reason, speed) = if i.shutdown {
            ("down", "Administratively down", "auto")
        } else {
            ("up", "none", "1000")
        };
        rows.push(json!({
            "interface": i.name,
            "vlan": vlan,
            "type": "eth",
            "portmode": mode,
            "state": state,
            "state_rsn_desc": reason,
            "speed": speed,
            "ratemode": "D"
        }));
    }
    for i in ifaces
        .iter()
        .filter(|i| i.name.to_ascii_lowercase().starts_with("loopback"))
    {
        rows.push(json!({
            "interface": i.name,
            "state": if i.shutdown { "down" } else { "up" },
            "desc": i.description.clone().unwrap_or_else(|| "--".into())
        }));
    }
    pretty(&nxos_table("TABLE_interface", "ROW_interface", rows))
}

/// The interfaces NX-OS `show ip interface brief` lists: with an address, in VRF default.
pub fn nxos_ip_brief_ifaces(tree: &[Node]) -> Vec<Iface> {
    content::interfaces(tree)
        .into_iter()
        .filter(|i| i.address.is_some() && i.vrf.is_none())
        .collect()
}

/// NX-OS `show ip interface brief | json`.
pub fn nxos_ip_interface_brief(tree: &[Node]) -> String {
    let rows = nxos_ip_brief_ifaces(tree)
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let (ip, _) = addr_len(i.address.as_deref().unwrap_or(""));
            let st = if i.shutdown { "down" } else { "up" };
            json!({
                "vrf-name-out": "default",
                "intf-name": i.name,
                "proto-state": st,
                "link-state": st,
                "admin-state": st,
                "iod": 5 + n,
                "prefix": ip,
                "ip-disabled": "FALSE"
            })
        })
        .collect();
    let mut v = nxos_table("TABLE_intf", "ROW_intf", rows);
    if let Value::Object(m) = &mut v {
        let mut all = Map::new();
        all.insert(
            "TABLE_vrf".into(),
            json!({"ROW_vrf": {"vrf-name-out": "default"}}),
        );
        all.append(m);
        v = Value::Object(all);
    }
    pretty(&v)
}

/// NX-OS `show vlan brief | json`.
pub fn nxos_vlan_brief(dev: &Device, tree: &[Node]) -> String {
    let ifaces = content::interfaces(tree);
    let rows = content::vlans(tree)
        .into_iter()
        .map(|(id, name)| {
            let ports: Vec<String> = content::vlan_members(dev.platform, &ifaces, id)
                .iter()
                .map(|i| i.name.clone())
                .collect();
            let mut row = json!({
                "vlanshowbr-vlanid": id.to_string(),
                "vlanshowbr-vlanid-utf": id.to_string(),
                "vlanshowbr-vlanname": name,
                "vlanshowbr-vlanstate": "active",
                "vlanshowbr-shutstate": "noshutdown"
            });
            if !ports.is_empty() {
                row["vlanshowplist-ifidx"] = Value::String(ports.join(","));
            }
            row
        })
        .collect();
    pretty(&nxos_table(
        "TABLE_vlanbriefxbrief",
        "ROW_vlanbriefxbrief",
        rows,
    ))
}

/// Junos attribute-style leaf: `[{"data": "x"}]`.
fn data(v: impl Into<String>) -> Value {
    json!([{ "data": v.into() }])
}

/// Junos `show version | display json`.
pub fn junos_version(host: &str) -> String {
    let packages: Vec<Value> = [
        (
            "os-kernel",
            "JUNOS OS Kernel 64-bit  [20220816.6ad4ec4_builder_stable_12_214]",
        ),
        (
            "os-libs",
            "JUNOS OS libs [20220816.6ad4ec4_builder_stable_12_214]",
        ),
        (
            "os-runtime",
            "JUNOS OS runtime [20220816.6ad4ec4_builder_stable_12_214]",
        ),
        (
            "junos-routing",
            "JUNOS Routing Engine [20221028.041845_builder_junos_214_r3]",
        ),
    ]
    .iter()
    .map(|(n, c)| json!({"name": data(*n), "comment": data(*c)}))
    .collect();
    pretty(&json!({
        "software-information": [{
            "host-name": data(host),
            "product-model": data("vsrx"),
            "product-name": data("vsrx"),
            "junos-version": data("21.4R3.15"),
            "package-information": packages
        }]
    }))
}

/// One Junos interface as `show interfaces terse` shows it: name, disabled, and its
/// (unit, family, address) triples.
pub struct JunosIface {
    pub name: String,
    pub disabled: bool,
    pub description: Option<String>,
    pub addresses: Vec<(String, String, String)>,
}

/// Junos `show interfaces terse | display json`.
pub fn junos_interfaces_terse(ifaces: &[JunosIface]) -> String {
    let phys: Vec<Value> = ifaces
        .iter()
        .map(|i| {
            let st = if i.disabled { "down" } else { "up" };
            let mut units: Vec<(String, Vec<(String, String)>)> = Vec::new();
            for (unit, fam, addr) in &i.addresses {
                match units.iter_mut().find(|(u, _)| u == unit) {
                    Some((_, v)) => v.push((fam.clone(), addr.clone())),
                    None => units.push((unit.clone(), vec![(fam.clone(), addr.clone())])),
                }
            }
            let logical: Vec<Value> = units
                .iter()
                .map(|(unit, fams)| {
                    let families: Vec<Value> = fams
                        .iter()
                        .map(|(fam, addr)| {
                            json!({
                                "address-family-name": data(fam.clone()),
                                "interface-address": [{ "ifa-local": data(addr.clone()) }]
                            })
                        })
                        .collect();
                    json!({
                        "name": data(format!("{}.{}", i.name, unit)),
                        "admin-status": data(st),
                        "oper-status": data(st),
                        "filter-information": [{}],
                        "address-family": families
                    })
                })
                .collect();
            let mut v = json!({
                "name": data(i.name.clone()),
                "admin-status": data(st),
                "oper-status": data(st)
            });
            if !logical.is_empty() {
                v["logical-interface"] = Value::Array(logical);
            }
            v
        })
        .collect();
    pretty(&json!({
        "interface-information": [{
            "attributes": {
                "xmlns": "http://xml.juniper.net/junos/21.4R0/junos-interface",
                "junos:style": "terse"
            },
            "physical-interface": phys
        }]
    }))
}
