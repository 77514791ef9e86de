//! The show output of each platform read into Ansible's fact names, with the regexes the
//! Ansible collections' legacy facts modules use (cisco.ios, arista.eos, cisco.nxos), so that
//! a playbook sees the values Ansible would give it. Written in Rust rather than through
//! TextFSM templates: facts must work without ntc-templates installed.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{json, Map, Value};

pub type Facts = Map<String, Value>;

fn re(pattern: &str) -> Regex {
    // The patterns are literals of this file, covered by its tests.
    Regex::new(pattern).unwrap_or_else(|e| panic!("facts regex {pattern}: {e}"))
}

fn first<'t>(r: &Regex, text: &'t str) -> Option<&'t str> {
    r.captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim())
        .filter(|s| !s.is_empty())
}

fn put(facts: &mut Facts, name: &str, v: Option<&str>) {
    if let Some(v) = v {
        facts.insert(format!("ansible_net_{name}"), Value::from(v));
    }
}

static IOS_VERSION: LazyLock<Regex> = LazyLock::new(|| re(r"Version (\S+?)(?:,\s|\s|$)"));
static IOS_SERIAL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)board ID (\S+)"));
static IOS_MODEL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^[Cc]isco (\S+).+?(?:\(revision|processor|\(\S+\) processor)"));
static IOS_IMAGE: LazyLock<Regex> = LazyLock::new(|| re(r#"image file is "(.+)""#));
static IOS_HOSTNAME: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^(\S+) uptime is"));

/// IOS / IOS-XE / IOS-XR `show version`.
pub fn ios_version(text: &str) -> Facts {
    let mut f = Facts::new();
    put(&mut f, "version", first(&IOS_VERSION, text));
    put(&mut f, "serialnum", first(&IOS_SERIAL, text));
    put(&mut f, "model", first(&IOS_MODEL, text));
    put(&mut f, "image", first(&IOS_IMAGE, text));
    put(&mut f, "hostname", first(&IOS_HOSTNAME, text));
    if text.contains("IOS-XE") || text.contains("IOS XE") {
        f.insert("ansible_net_iostype".into(), json!("IOS-XE"));
    } else if text.contains("IOS XR") {
        f.insert("ansible_net_iostype".into(), json!("IOS-XR"));
    } else {
        f.insert("ansible_net_iostype".into(), json!("IOS"));
    }
    f
}

static NX_VERSION: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^\s+(?:NXOS|system):\s+version (\S+)"));
static NX_IMAGE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^\s+(?:NXOS|system) image file is:\s+(\S+)"));
static NX_MODEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^\s+cisco (.+?)\s+[Cc]hassis"));
static NX_HOSTNAME: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^\s+Device name:\s+(\S+)"));
static NX_MEMORY: LazyLock<Regex> = LazyLock::new(|| re(r"with (\d+) kB of memory"));

/// NX-OS `show version`.
pub fn nxos_version(text: &str) -> Facts {
    let mut f = Facts::new();
    put(&mut f, "version", first(&NX_VERSION, text));
    put(&mut f, "image", first(&NX_IMAGE, text));
    put(&mut f, "model", first(&NX_MODEL, text));
    put(&mut f, "serialnum", first(&IOS_SERIAL, text));
    put(&mut f, "hostname", first(&NX_HOSTNAME, text));
    f
}

/// NX-OS memory from `show version` (hardware subset).
pub fn nxos_memory(text: &str) -> Facts {
    let mut f = Facts::new();
    if let Some(kb) = first(&NX_MEMORY, text).and_then(|s| s.parse::<u64>().ok()) {
        f.insert("ansible_net_memtotal_mb".into(), json!(kb / 1024));
    }
    f
}

/// EOS `show version | json` and `show hostname | json` (the commands eos_facts sends).
pub fn eos_version(version: &Value, hostname: &Value) -> Facts {
    let mut f = Facts::new();
    for (key, fact) in [
        ("version", "version"),
        ("serialNumber", "serialnum"),
        ("modelName", "model"),
        ("internalVersion", "image"),
    ] {
        put(&mut f, fact, version.get(key).and_then(Value::as_str));
    }
    put(
        &mut f,
        "hostname",
        hostname.get("hostname").and_then(Value::as_str),
    );
    put(&mut f, "fqdn", hostname.get("fqdn").and_then(Value::as_str));
    f
}

/// EOS memory from `show version | json` (hardware subset), in MB as eos_facts gives it.
pub fn eos_memory(version: &Value) -> Facts {
    let mut f = Facts::new();
    for (key, fact) in [("memTotal", "memtotal_mb"), ("memFree", "memfree_mb")] {
        if let Some(kb) = version.get(key).and_then(Value::as_u64) {
            f.insert(format!("ansible_net_{fact}"), json!(kb / 1024));
        }
    }
    f
}

static IOS_MEMORY: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^Processor\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)"));

/// IOS `show memory statistics | include Processor`: the processor pool's total and free
/// bytes, in MB.
pub fn ios_memory(text: &str) -> Facts {
    let mut f = Facts::new();
    if let Some(c) = IOS_MEMORY.captures(text) {
        let mb = |i: usize| c[i].parse::<u64>().map(|b| b / 1024 / 1024).unwrap_or(0);
        f.insert("ansible_net_memtotal_mb".into(), json!(mb(1)));
        f.insert("ansible_net_memfree_mb".into(), json!(mb(3)));
    }
    f
}

static JUNOS_HOSTNAME: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^Hostname:\s+(\S+)"));
static JUNOS_MODEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^Model:\s+(\S+)"));
static JUNOS_VERSION: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^(?:Junos|JUNOS Software Release \[)[:\s]*([^\s\]]+)"));
static JUNOS_SERIAL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^Chassis\s+(?:\S+\s+)*?(\S+)\s+\S+\s*$"));

/// Junos `show version` and `show chassis hardware` (the serial number).
pub fn junos_version(version: &str, hardware: &str) -> Facts {
    let mut f = Facts::new();
    put(&mut f, "hostname", first(&JUNOS_HOSTNAME, version));
    put(&mut f, "model", first(&JUNOS_MODEL, version));
    put(&mut f, "version", first(&JUNOS_VERSION, version));
    put(&mut f, "serialnum", first(&JUNOS_SERIAL, hardware));
    f
}

static DIR_OF: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^Directory of (\S+?)/?\s*$"));
static DIR_SPACE: LazyLock<Regex> = LazyLock::new(|| re(r"(\d+) bytes total \((\d+) bytes free\)"));

/// `dir` (IOS family): `ansible_net_filesystems` and `ansible_net_filesystems_info`.
pub fn filesystems(text: &str) -> Facts {
    let mut f = Facts::new();
    let mut names = Vec::new();
    let mut info = Map::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(c) = DIR_OF.captures(line) {
            let name = c[1].to_string();
            names.push(Value::from(name.clone()));
            current = Some(name);
        } else if let (Some(c), Some(name)) = (DIR_SPACE.captures(line), &current) {
            let total: u64 = c[1].parse().unwrap_or(0);
            let free: u64 = c[2].parse().unwrap_or(0);
            info.insert(
                name.clone(),
                json!({"spacetotal_kb": total / 1024, "spacefree_kb": free / 1024}),
            );
        }
    }
    f.insert("ansible_net_filesystems".into(), Value::Array(names));
    f.insert("ansible_net_filesystems_info".into(), Value::Object(info));
    f
}

static IF_HEAD: LazyLock<Regex> = LazyLock::new(|| re(r"^(\S+) is ([^,]+?)(?:,|$)"));
static IF_DESC: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^\s+Description: (.+)$"));
static IF_MAC: LazyLock<Regex> = LazyLock::new(|| re(r"address(?: is|:) (\S+)"));
static IF_MTU: LazyLock<Regex> = LazyLock::new(|| re(r"MTU (\d+)"));
static IF_BW: LazyLock<Regex> = LazyLock::new(|| re(r"BW (\d+)"));
static IF_LINE: LazyLock<Regex> = LazyLock::new(|| re(r"line protocol is (\w+)"));
static IF_TYPE: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^\s+Hardware(?: is|:) ([^,]+)"));
static IF_DUPLEX: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)(full|half)-duplex"));
static IF_MEDIA: LazyLock<Regex> = LazyLock::new(|| re(r"media type is (.+)$"));
static IF_IPV4: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^\s+Internet [Aa]ddress is (\d+\.\d+\.\d+\.\d+)/(\d+)"));

/// `show interfaces` of the IOS family (IOS, EOS, NX-OS `show interface`): one entry per
/// interface, keyed by name, with the fields ios_facts gives; and every IPv4 address.
pub fn ios_interfaces(text: &str) -> Facts {
    let mut ifaces = Map::new();
    let mut all_v4 = Vec::new();
    // A block starts at an interface name (NX-OS prints `admin state is up` unindented
    // under it: no digit, not an interface).
    let starts = |l: &str| {
        !l.starts_with(char::is_whitespace)
            && l.contains(" is ")
            && l.split_whitespace()
                .next()
                .is_some_and(|w| w.contains(|c: char| c.is_ascii_digit()))
    };
    for block in blocks(text, starts) {
        let Some(head) = IF_HEAD.captures(block.lines().next().unwrap_or_default()) else {
            continue;
        };
        let name = head[1].to_string();
        let mut i = Map::new();
        let opt = |r: &Regex| first(r, &block).map(Value::from).unwrap_or(Value::Null);
        let num = |r: &Regex| {
            first(r, &block)
                .and_then(|s| s.parse::<u64>().ok())
                .map(Value::from)
                .unwrap_or(Value::Null)
        };
        i.insert("description".into(), opt(&IF_DESC));
        i.insert("macaddress".into(), opt(&IF_MAC));
        i.insert("mtu".into(), num(&IF_MTU));
        i.insert("bandwidth".into(), num(&IF_BW));
        i.insert(
            "duplex".into(),
            first(&IF_DUPLEX, &block)
                .map(|d| Value::from(d.to_ascii_lowercase()))
                .unwrap_or(Value::Null),
        );
        i.insert(
            "mediatype".into(),
            block
                .lines()
                .find_map(|l| first(&IF_MEDIA, l))
                .map(Value::from)
                .unwrap_or(Value::Null),
        );
        i.insert("type".into(), opt(&IF_TYPE));
        let oper = head[2].trim().to_string();
        // NX-OS prints no line protocol: its state line is the one ios_facts reads.
        let line = first(&IF_LINE, &block).map_or_else(|| oper.clone(), str::to_string);
        i.insert("lineprotocol".into(), Value::from(line));
        i.insert("operstatus".into(), Value::from(oper));
        let mut v4 = Vec::new();
        for c in IF_IPV4.captures_iter(&block) {
            let subnet: u8 = c[2].parse().unwrap_or(32);
            v4.push(json!({"address": &c[1], "subnet": subnet.to_string()}));
            all_v4.push(Value::from(&c[1]));
        }
        i.insert("ipv4".into(), Value::Array(v4));
        ifaces.insert(name, Value::Object(i));
    }
    let mut f = Facts::new();
    f.insert("ansible_net_interfaces".into(), Value::Object(ifaces));
    f.insert(
        "ansible_net_all_ipv4_addresses".into(),
        Value::Array(all_v4),
    );
    f
}

static JUNOS_PHYS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^Physical interface: (\S+?),\s+(Enabled|Disabled|Administratively down)[^,]*,\s+Physical link is (\w+)",
    )
});
static JUNOS_MTU: LazyLock<Regex> = LazyLock::new(|| re(r"Link-level type: ([^,]+), MTU: (\d+)"));
static JUNOS_SPEED: LazyLock<Regex> = LazyLock::new(|| re(r"Speed: ([^,\s]+)"));
static JUNOS_MAC: LazyLock<Regex> = LazyLock::new(|| re(r"Current address: ([0-9a-fA-F:]+)"));
static JUNOS_LOCAL: LazyLock<Regex> =
    LazyLock::new(|| re(r"Destination: [\d.]+/(\d+), Local: (\d+\.\d+\.\d+\.\d+)"));

/// Junos `show interfaces`: the keys junos_facts gives (`admin-status`, `oper-status`,
/// `macaddress`, `mtu`, `speed`, `type`, `description`), plus `ipv4` of the units.
pub fn junos_interfaces(text: &str) -> Facts {
    let mut ifaces = Map::new();
    let mut all_v4 = Vec::new();
    for block in blocks(text, |l| l.starts_with("Physical interface: ")) {
        let Some(head) = JUNOS_PHYS.captures(block.lines().next().unwrap_or_default()) else {
            continue;
        };
        let mut i = Map::new();
        let admin = if &head[2] == "Enabled" { "up" } else { "down" };
        i.insert("admin-status".into(), json!(admin));
        i.insert("oper-status".into(), json!(head[3].to_ascii_lowercase()));
        i.insert(
            "description".into(),
            first(&IF_DESC, &block)
                .map(Value::from)
                .unwrap_or(Value::Null),
        );
        i.insert(
            "macaddress".into(),
            first(&JUNOS_MAC, &block)
                .map(Value::from)
                .unwrap_or(Value::Null),
        );
        if let Some(c) = JUNOS_MTU.captures(&block) {
            i.insert("type".into(), json!(c[1].trim()));
            i.insert("mtu".into(), json!(c[2].parse::<u64>().unwrap_or(0)));
        }
        i.insert(
            "speed".into(),
            first(&JUNOS_SPEED, &block)
                .map(Value::from)
                .unwrap_or(Value::Null),
        );
        let mut v4 = Vec::new();
        for c in JUNOS_LOCAL.captures_iter(&block) {
            v4.push(json!({"address": &c[2], "subnet": &c[1]}));
            all_v4.push(Value::from(&c[2]));
        }
        i.insert("ipv4".into(), Value::Array(v4));
        ifaces.insert(head[1].to_string(), Value::Object(i));
    }
    let mut f = Facts::new();
    f.insert("ansible_net_interfaces".into(), Value::Object(ifaces));
    f.insert(
        "ansible_net_all_ipv4_addresses".into(),
        Value::Array(all_v4),
    );
    f
}

/// The text split into blocks, each starting at a line `starts` accepts.
fn blocks(text: &str, starts: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if starts(line) {
            out.push(String::new());
        }
        if let Some(b) = out.last_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const IOS: &str = "Cisco IOS XE Software, Version 17.03.04a
Cisco IOS Software [Amsterdam], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.3.4a, RELEASE SOFTWARE (fc3)

r1 uptime is 12 weeks, 3 days, 4 hours, 5 minutes
System image file is \"flash:packages.conf\"
cisco C9300-48P (X86) processor with 1338934K/6147K bytes of memory.
Processor board ID FOC2210X001
";

    #[test]
    fn ios_show_version() {
        let f = ios_version(IOS);
        assert_eq!(f["ansible_net_version"], "17.03.04a");
        assert_eq!(f["ansible_net_serialnum"], "FOC2210X001");
        assert_eq!(f["ansible_net_model"], "C9300-48P");
        assert_eq!(f["ansible_net_image"], "flash:packages.conf");
        assert_eq!(f["ansible_net_hostname"], "r1");
        assert_eq!(f["ansible_net_iostype"], "IOS-XE");
        let classic = "Cisco IOS Software, 2800 Software (C2800NM-ADVIPSERVICESK9-M), Version 15.1(4)M4, RELEASE SOFTWARE (fc1)\nrtr uptime is 1 week\ncisco 2811 (revision 53.50) with 249856K/12288K bytes of memory.\nProcessor board ID FTX1234\n";
        let f = ios_version(classic);
        assert_eq!(f["ansible_net_version"], "15.1(4)M4");
        assert_eq!(f["ansible_net_model"], "2811");
        assert_eq!(f["ansible_net_iostype"], "IOS");
    }

    #[test]
    fn ios_memory_statistics() {
        let f = ios_memory("Processor  7F9A2C1010   1371159880   283916488   1087243392   1070573128   1087148216\n");
        assert_eq!(f["ansible_net_memtotal_mb"], 1307);
        assert_eq!(f["ansible_net_memfree_mb"], 1036);
    }

    #[test]
    fn nxos_show_version() {
        let text = "Software\n  NXOS: version 9.3(8)\n  NXOS image file is: bootflash:///nxos.9.3.8.bin\nHardware\n  cisco Nexus9000 C9300v Chassis\n  Intel(R) Xeon(R) CPU with 16409108 kB of memory.\n  Processor Board ID FOC1\n\n  Device name: n1\n";
        let f = nxos_version(text);
        assert_eq!(f["ansible_net_version"], "9.3(8)");
        assert_eq!(f["ansible_net_image"], "bootflash:///nxos.9.3.8.bin");
        assert_eq!(f["ansible_net_model"], "Nexus9000 C9300v");
        assert_eq!(f["ansible_net_serialnum"], "FOC1");
        assert_eq!(f["ansible_net_hostname"], "n1");
        assert_eq!(nxos_memory(text)["ansible_net_memtotal_mb"], 16024);
    }

    #[test]
    fn junos_version_and_serial() {
        let v = "Hostname: j1\nModel: vsrx\nJunos: 21.4R3.15\nJUNOS OS Kernel 64-bit  [x]\n";
        let hw = "Hardware inventory:\nItem             Version  Part number  Serial number     Description\nChassis                                JQ7JLCQ5MJ0J      VSRX\nMidplane\n";
        let f = junos_version(v, hw);
        assert_eq!(f["ansible_net_hostname"], "j1");
        assert_eq!(f["ansible_net_model"], "vsrx");
        assert_eq!(f["ansible_net_version"], "21.4R3.15");
        assert_eq!(f["ansible_net_serialnum"], "JQ7JLCQ5MJ0J");
    }

    #[test]
    fn ios_interfaces_and_addresses() {
        let text = "GigabitEthernet0/0 is up, line protocol is up\n  Hardware is Gigabit Ethernet, address is 5254.0000.0001 (bia 5254.0000.0001)\n  Internet address is 10.255.0.1/16\n  MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec,\n  Full-duplex, 1000Mb/s, media type is 10/100/1000BaseTX\nadmin state is up, Dedicated Interface\nGigabitEthernet1/0/2 is administratively down, line protocol is down\n  Description: spare\n  MTU 9000 bytes, BW 100000 Kbit/sec\n";
        let f = ios_interfaces(text);
        let g0 = &f["ansible_net_interfaces"]["GigabitEthernet0/0"];
        assert_eq!(g0["macaddress"], "5254.0000.0001");
        assert_eq!(g0["mtu"], 1500);
        assert_eq!(g0["bandwidth"], 1000000);
        assert_eq!(g0["lineprotocol"], "up");
        assert_eq!(g0["operstatus"], "up");
        assert_eq!(g0["duplex"], "full");
        assert_eq!(g0["mediatype"], "10/100/1000BaseTX");
        assert_eq!(g0["type"], "Gigabit Ethernet");
        assert_eq!(
            g0["ipv4"][0],
            json!({"address": "10.255.0.1", "subnet": "16"})
        );
        let g2 = &f["ansible_net_interfaces"]["GigabitEthernet1/0/2"];
        assert_eq!(g2["operstatus"], "administratively down");
        assert_eq!(g2["lineprotocol"], "down");
        assert_eq!(g2["description"], "spare");
        assert_eq!(f["ansible_net_all_ipv4_addresses"], json!(["10.255.0.1"]));
    }

    #[test]
    fn junos_interfaces_read() {
        let text = "Physical interface: ge-0/0/0, Enabled, Physical link is Up\n  Description: uplink\n  Link-level type: Ethernet, MTU: 1514, Link-mode: Full-duplex, Speed: 1000mbps\n  Current address: 52:54:00:00:02:01, Hardware address: 52:54:00:00:02:01\n  Logical interface ge-0/0/0.0 (Index 70)\n      Destination: 10.0.0/24, Local: 10.0.0.3, Broadcast: 10.0.0.255\n";
        let f = junos_interfaces(text);
        let g = &f["ansible_net_interfaces"]["ge-0/0/0"];
        assert_eq!(g["admin-status"], "up");
        assert_eq!(g["oper-status"], "up");
        assert_eq!(g["mtu"], 1514);
        assert_eq!(g["speed"], "1000mbps");
        assert_eq!(g["macaddress"], "52:54:00:00:02:01");
        assert_eq!(g["description"], "uplink");
        assert_eq!(f["ansible_net_all_ipv4_addresses"], json!(["10.0.0.3"]));
    }

    #[test]
    fn dir_filesystems() {
        let f = filesystems("Directory of flash:/\n\n  12 -rw- 2097 x vlan.dat\n\n11353194496 bytes total (8532901888 bytes free)\n");
        assert_eq!(f["ansible_net_filesystems"], json!(["flash:"]));
        assert_eq!(
            f["ansible_net_filesystems_info"]["flash:"]["spacefree_kb"],
            8532901888u64 / 1024
        );
    }
}
