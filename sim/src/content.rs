//! What the devices say: factory-default configurations per platform (with the volatile lines
//! and secrets real devices have) and plausible `show` outputs derived from the live config,
//! so `show interfaces` reflects a description or `shutdown` pushed a moment ago.

use sha2::{Digest, Sha256};

use crate::clock::Civil;
use crate::device::Device;
use crate::junos;
use crate::platform::Platform;
use crate::tree::{parse_indented, Node};

/// A deterministic crypt-looking string for the device's secrets, so backups are stable.
pub fn token(name: &str, salt: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(len);
    let mut block = 0u32;
    while out.len() < len {
        let digest = Sha256::new()
            .chain_update(name.as_bytes())
            .chain_update(salt.as_bytes())
            .chain_update(block.to_be_bytes())
            .finalize();
        for b in digest.iter() {
            if out.len() == len {
                break;
            }
            out.push(ALPHABET[(*b as usize) % ALPHABET.len()] as char);
        }
        block += 1;
    }
    out
}

/// Third and fourth octet for the device's addresses, unique up to 64,000 devices.
fn octets(index: usize) -> (usize, usize) {
    ((index / 250) % 256, index % 250 + 1)
}

/// A MAC address unique to the device.
pub fn mac(index: usize, port: usize) -> String {
    format!(
        "5254.00{:02x}.{:02x}{:02x}",
        (index >> 8) & 0xff,
        index & 0xff,
        port & 0xff
    )
}

/// Lines of padding blocks to add so the config reaches about `target` lines.
fn padding_ports(base_lines: usize, target: usize, lines_per_port: usize) -> usize {
    if target > base_lines {
        (target - base_lines).div_ceil(lines_per_port)
    } else {
        0
    }
}

/// The factory-default running configuration of a device.
pub fn default_config(dev: &Device) -> Vec<Node> {
    let host = dev.name.as_str();
    let (a, b) = octets(dev.index);
    let target = dev.settings.config_lines;
    match dev.platform {
        Platform::CiscoIos => parse_indented(&ios_default(host, a, b, target)),
        Platform::AristaEos => parse_indented(&eos_default(host, a, b, target)),
        Platform::CiscoNxos => parse_indented(&nxos_default(host, a, b, target)),
        Platform::CiscoIosxr => parse_indented(&xr_default(host, a, b, target)),
        Platform::JuniperJunos => junos::tree_from_set_lines(&junos_default(host, a, b, target)),
    }
}

/// A starting configuration read from a file (`--config-dir`): Junos as braces or `set`
/// lines, the others as indented text. The header lines a saved `show running-config` starts
/// with (`Building configuration...`, `Current configuration : N bytes`, leading `!`
/// comments) are dropped since the sim prints its own; Cisco IOS, EOS and IOS-XR configs end
/// with `end` as their `show running-config` does, whether or not the file had one.
pub fn parse_config(platform: Platform, text: &str) -> Result<Vec<Node>, String> {
    if platform == Platform::JuniperJunos {
        // The first statement tells the format: a brace file can hold a `set` keyword
        // deeper down (`community set X;`).
        let is_set = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .is_some_and(|l| l.starts_with("set ") || l.starts_with("deactivate "));
        return if is_set {
            Ok(junos::tree_from_set_lines(text))
        } else {
            junos::tree_from_braces(text)
        };
    }
    let lines: Vec<&str> = text.lines().collect();
    let header = |l: &str| {
        let t = l.trim();
        t.is_empty()
            || t.starts_with('!')
            || t.starts_with("Building configuration")
            || t.starts_with("Current configuration")
            || (t.starts_with("Using ") && t.contains(" out of "))
    };
    let start = lines.iter().position(|l| !header(l)).unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(start, |i| i + 1)
        .max(start);
    let mut tree = parse_indented(&lines[start..end].join("\n"));
    let ends_with_end = matches!(
        platform,
        Platform::CiscoIos | Platform::AristaEos | Platform::CiscoIosxr
    );
    if ends_with_end && tree.last().is_none_or(|n| n.line != "end") {
        tree.push(Node::leaf("end"));
    }
    Ok(tree)
}

fn ios_default(host: &str, a: usize, b: usize, target: usize) -> String {
    let enable = token(host, "enable", 43);
    let user = token(host, "user", 43);
    let mut s = format!(
        "version 17.3
service timestamps debug datetime msec
service timestamps log datetime msec
service password-encryption
no platform punt-keepalive disable-kernel-core
!
hostname {host}
!
vrf definition Mgmt-vrf
 !
 address-family ipv4
 exit-address-family
!
logging buffered 64000 informational
enable secret 9 $9${e1}${e2}
!
no aaa new-model
clock timezone UTC 0 0
ip domain name lab.example.net
ip name-server 192.0.2.53
!
login on-success log
!
archive
 path flash:archive
 maximum 14
!
username admin privilege 15 secret 9 $9${u1}${u2}
!
vlan 10
 name users
!
vlan 20
 name voice
!
interface GigabitEthernet0/0
 vrf forwarding Mgmt-vrf
 ip address 10.255.{a}.{b} 255.255.0.0
 negotiation auto
!
interface GigabitEthernet1/0/1
 description uplink to core
 switchport mode trunk
!
interface GigabitEthernet1/0/2
 switchport access vlan 10
 switchport mode access
 spanning-tree portfast
!
interface GigabitEthernet1/0/3
 switchport access vlan 20
 switchport mode access
 shutdown
!
interface GigabitEthernet1/0/4
 shutdown
!
interface Vlan1
 no ip address
 shutdown
!
interface Vlan10
 ip address 10.10.{b}.1 255.255.255.0
!
interface Loopback0
 ip address 192.0.{a}.{b} 255.255.255.255
!
",
        e1 = &enable[..14],
        e2 = &enable[14..],
        u1 = &user[..14],
        u2 = &user[14..],
    );
    let pad = padding_ports(s.lines().count() + 22, target, 5);
    for i in 0..pad {
        s.push_str(&format!(
            "interface GigabitEthernet2/0/{}\n description access port {}\n switchport access vlan 10\n switchport mode access\n!\n",
            i + 1,
            i + 1
        ));
    }
    s.push_str(
        "ip forward-protocol nd
ip ssh version 2
!
snmp-server community s3cr3t RO
snmp-server location lab rack 1
!
ntp clock-period 17179
ntp server 192.0.2.123
!
line con 0
 stopbits 1
line vty 0 4
 login local
 transport input ssh
line vty 5 15
 login local
 transport input ssh
!
end",
    );
    s
}

fn eos_default(host: &str, a: usize, b: usize, target: usize) -> String {
    let user = token(host, "user", 86);
    let enable = token(host, "enable", 86);
    let mut s = format!(
        "no aaa root
!
username admin privilege 15 role network-admin secret sha512 $6${u1}${u2}
!
transceiver qsfp default-mode 4x10G
!
service routing protocols model multi-agent
!
hostname {host}
ip name-server vrf default 192.0.2.53
dns domain lab.example.net
!
snmp-server community s3cr3t ro
!
spanning-tree mode mstp
!
enable password sha512 $6${e1}${e2}
!
vlan 10
   name users
!
vlan 20
   name voice
!
interface Ethernet1
   description uplink to core
   switchport mode trunk
!
interface Ethernet2
   switchport access vlan 10
!
interface Ethernet3
   switchport access vlan 20
   shutdown
!
interface Ethernet4
   shutdown
!
interface Loopback0
   ip address 192.0.{a}.{b}/32
!
interface Management1
   ip address 10.255.{a}.{b}/16
!
",
        u1 = &user[..16],
        u2 = &user[16..],
        e1 = &enable[..16],
        e2 = &enable[16..],
    );
    let pad = padding_ports(s.lines().count() + 12, target, 4);
    for i in 0..pad {
        s.push_str(&format!(
            "interface Ethernet{}\n   description access port {}\n   switchport access vlan 10\n!\n",
            i + 5,
            i + 5
        ));
    }
    s.push_str(
        "ip routing
!
ip route 0.0.0.0/0 10.255.0.254
!
ntp server 192.0.2.123
!
management api http-commands
   no shutdown
!
end",
    );
    s
}

fn nxos_default(host: &str, a: usize, b: usize, target: usize) -> String {
    let user = token(host, "user", 86);
    let mut s = format!(
        "version 9.3(8) Bios:version
hostname {host}
vdc {host} id 1
  limit-resource vlan minimum 16 maximum 4094
  limit-resource vrf minimum 2 maximum 4096

feature interface-vlan
feature lldp

username admin password 5 $5${u1}${u2}  role network-admin
ip domain-lookup
ip domain-name lab.example.net
snmp-server community s3cr3t group network-operator
ntp server 192.0.2.123 use-vrf management

vlan 1,10,20
vlan 10
  name users
vlan 20
  name voice

vrf context management
  ip route 0.0.0.0/0 10.255.0.254

interface Ethernet1/1
  description uplink to core
  switchport mode trunk

interface Ethernet1/2
  switchport access vlan 10

interface Ethernet1/3
  switchport access vlan 20
  shutdown

interface Ethernet1/4
  shutdown

interface mgmt0
  vrf member management
  ip address 10.255.{a}.{b}/16

interface loopback0
  ip address 192.0.{a}.{b}/32
",
        u1 = &user[..16],
        u2 = &user[16..],
    );
    let pad = padding_ports(s.lines().count() + 4, target, 4);
    for i in 0..pad {
        s.push_str(&format!(
            "\ninterface Ethernet1/{}\n  description access port {}\n  switchport access vlan 10",
            i + 5,
            i + 5
        ));
        s.push('\n');
    }
    s.push_str(
        "line console
line vty
boot nxos bootflash:/nxos.9.3.8.bin",
    );
    s
}

fn xr_default(host: &str, a: usize, b: usize, target: usize) -> String {
    let user = token(host, "user", 86);
    let mut s = format!(
        "hostname {host}
clock timezone UTC Etc/UTC
logging console disable
domain name lab.example.net
username admin
 group root-lr
 group cisco-support
 secret 10 $6${u1}${u2}
!
line default
 exec-timeout 30 0
!
snmp-server community s3cr3t RO
ntp
 server 192.0.2.123
!
interface Loopback0
 ipv4 address 192.0.{a}.{b} 255.255.255.255
!
interface MgmtEth0/RP0/CPU0/0
 ipv4 address 10.255.{a}.{b} 255.255.0.0
!
interface GigabitEthernet0/0/0/0
 description uplink to core
 ipv4 address 10.0.{a}.{b} 255.255.255.0
!
interface GigabitEthernet0/0/0/1
 shutdown
!
interface GigabitEthernet0/0/0/2
 shutdown
!
",
        u1 = &user[..16],
        u2 = &user[16..],
    );
    let pad = padding_ports(s.lines().count() + 8, target, 4);
    for i in 0..pad {
        s.push_str(&format!(
            "interface GigabitEthernet0/0/1/{}\n description access port {}\n shutdown\n!\n",
            i, i
        ));
    }
    s.push_str(
        "router static
 address-family ipv4 unicast
  0.0.0.0/0 10.255.0.254
 !
!
ssh server v2
end",
    );
    s
}

fn junos_default(host: &str, a: usize, b: usize, target: usize) -> String {
    let root = token(host, "root", 86);
    let user = token(host, "user", 86);
    let mut s = format!(
        "set version 21.4R3.15
set system host-name {host}
set system root-authentication encrypted-password \"$6${r1}${r2}\"
set system login user admin uid 2000
set system login user admin class super-user
set system login user admin authentication encrypted-password \"$6${u1}${u2}\"
set system domain-name lab.example.net
set system name-server 192.0.2.53
set system services ssh
set system services netconf ssh
set system syslog file messages any notice
set system ntp server 192.0.2.123
set snmp community s3cr3t authorization read-only
set interfaces ge-0/0/0 description \"uplink to core\"
set interfaces ge-0/0/0 unit 0 family inet address 10.0.{a}.{b}/24
set interfaces ge-0/0/1 unit 0 family inet address 10.1.{a}.{b}/24
set interfaces ge-0/0/2 disable
set interfaces fxp0 unit 0 family inet address 10.255.{a}.{b}/16
set interfaces lo0 unit 0 family inet address 192.0.{a}.{b}/32
set routing-options static route 0.0.0.0/0 next-hop 10.255.0.254
",
        r1 = &root[..16],
        r2 = &root[16..],
        u1 = &user[..16],
        u2 = &user[16..],
    );
    // Each padded interface renders to 8 lines of braces.
    let pad = padding_ports(62, target, 8);
    for i in 0..pad {
        s.push_str(&format!(
            "set interfaces ge-0/1/{i} description \"access port {i}\"\nset interfaces ge-0/1/{i} unit 0 family inet address 10.2.{}.{}/31\n",
            i / 128,
            (i % 128) * 2
        ));
    }
    s
}

/// What `show interfaces`-style commands need to know about one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iface {
    pub name: String,
    pub description: Option<String>,
    pub address: Option<String>,
    pub shutdown: bool,
    /// `switchport access vlan N`.
    pub access_vlan: Option<u32>,
    /// `switchport mode trunk`.
    pub trunk: bool,
    /// `vrf member X` (NX-OS) / `vrf forwarding X` (IOS) / `vrf X` (IOS-XR).
    pub vrf: Option<String>,
}

impl Iface {
    /// A front-panel port (not a loopback, SVI or management port).
    pub fn physical(&self) -> bool {
        let n = self.name.as_str();
        !(n.starts_with("Loopback")
            || n.starts_with("loopback")
            || n.starts_with("Vlan")
            || n.starts_with("Management")
            || n.starts_with("MgmtEth")
            || n.starts_with("mgmt")
            || n == "GigabitEthernet0/0")
    }

    /// A switch port in the VLAN table: physical, and not routed (no address).
    pub fn switchport(&self) -> bool {
        self.physical() && self.address.is_none()
    }

    /// The access VLAN of a switch port (1 unless configured).
    pub fn vlan(&self) -> u32 {
        self.access_vlan.unwrap_or(1)
    }
}

/// Interfaces of an IOS-family config tree.
pub fn interfaces(tree: &[Node]) -> Vec<Iface> {
    tree.iter()
        .filter_map(|n| {
            let name = n.line.strip_prefix("interface ")?;
            let mut iface = Iface {
                name: name.to_string(),
                description: None,
                address: None,
                shutdown: false,
                access_vlan: None,
                trunk: false,
                vrf: None,
            };
            for c in &n.children {
                if let Some(d) = c.line.strip_prefix("description ") {
                    iface.description = Some(d.to_string());
                } else if c.line == "shutdown" {
                    iface.shutdown = true;
                } else if let Some(v) = c.line.strip_prefix("switchport access vlan ") {
                    iface.access_vlan = v.trim().parse().ok();
                } else if c.line == "switchport mode trunk" {
                    iface.trunk = true;
                } else if let Some(v) = c
                    .line
                    .strip_prefix("vrf member ")
                    .or_else(|| c.line.strip_prefix("vrf forwarding "))
                {
                    iface.vrf = Some(v.trim().to_string());
                } else if let Some(rest) = c
                    .line
                    .strip_prefix("ip address ")
                    .or_else(|| c.line.strip_prefix("ipv4 address "))
                {
                    if !rest.contains("secondary") {
                        iface.address = Some(rest.to_string());
                    }
                }
            }
            Some(iface)
        })
        .collect()
}

/// The port that shows input errors and CRCs in `show interfaces` (a flaky access port, for
/// "list interfaces with errors"): the first access port that is up.
pub fn error_port(ifaces: &[Iface]) -> Option<&str> {
    ifaces
        .iter()
        .find(|i| i.physical() && i.access_vlan.is_some() && !i.shutdown)
        .map(|i| i.name.as_str())
}

/// Input error counters (input errors, CRC, frame) of a port.
pub fn input_errors(ifaces: &[Iface], name: &str) -> (u64, u64, u64) {
    if error_port(ifaces) == Some(name) {
        (1523, 1187, 336)
    } else {
        (0, 0, 0)
    }
}

/// A neighbor seen by CDP/LLDP on a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbor {
    pub local: String,
    /// Device ID / system name (`core-01.lab.example.net`).
    pub name: String,
    pub platform: &'static str,
    pub port: String,
}

/// The neighbors of a device: the core switch on every port described as an uplink that is
/// up (descriptions and `shutdown` pushed a moment ago count).
pub fn neighbors(dev: &Device, ifaces: &[Iface]) -> Vec<Neighbor> {
    let (_, b) = octets(dev.index);
    ifaces
        .iter()
        .filter(|i| {
            !i.shutdown
                && i.physical()
                && i.description
                    .as_deref()
                    .is_some_and(|d| d.to_ascii_lowercase().contains("uplink"))
        })
        .enumerate()
        .map(|(k, i)| Neighbor {
            local: i.name.clone(),
            name: "core-01.lab.example.net".into(),
            platform: "N9K-C93180YC-EX",
            port: format!("Ethernet1/{}", b + k),
        })
        .collect()
}

/// Packet counters of the n-th interface: (input packets, input bytes, output packets,
/// output bytes).
fn counters(n: usize) -> (usize, usize, usize, usize) {
    (
        123_456 + n * 17,
        9_876_543 + n * 1_313,
        98_765 + n * 11,
        7_654_321 + n * 977,
    )
}

/// `5254.0000.0001` -> `52:54:00:00:00:01`.
pub fn colon_mac(dotted: &str) -> String {
    let hex: String = dotted.chars().filter(|c| *c != '.').collect();
    hex.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

/// The chassis serial number (`show version`, `show inventory` and their JSON).
pub fn serial(dev: &Device) -> String {
    format!("FOC{:04}X{:03}", 2210 + dev.index / 1000, dev.index % 1000)
}

/// The system uptime every platform reports: 12 weeks, 3 days, 4 hours, 5 minutes.
pub const UPTIME_SECONDS: u64 = (87 * 24 + 4) * 3600 + 5 * 60;

fn uptime_line(host: &str) -> String {
    format!("{host} uptime is 12 weeks, 3 days, 4 hours, 5 minutes")
}

/// `show version` for the IOS family.
pub fn show_version(dev: &Device, host: &str) -> String {
    let serial = serial(dev);
    match dev.platform {
        Platform::CiscoIos => format!(
            "Cisco IOS XE Software, Version 17.03.04a
Cisco IOS Software [Amsterdam], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.3.4a, RELEASE SOFTWARE (fc3)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2021 by Cisco Systems, Inc.
Compiled Tue 20-Jul-21 06:18 by mcpre


Cisco IOS-XE software, Copyright (c) 2005-2021 by cisco Systems, Inc.
All rights reserved.  Certain components of Cisco IOS-XE software are
licensed under the GNU General Public License (\"GPL\") Version 2.0.

ROM: IOS-XE ROMMON
BOOTLDR: System Bootstrap, Version 17.5.2r, RELEASE SOFTWARE (P)

{uptime}
Uptime for this control processor is 12 weeks, 3 days, 4 hours, 7 minutes
System returned to ROM by Reload Command
System image file is \"flash:packages.conf\"
Last reload reason: Reload Command

This product contains cryptographic features and is subject to United
States and local country laws governing import, export, transfer and
use.

Technology Package License Information:

------------------------------------------------------------------------------
Technology-package                                     Technology-package
Current                        Type                       Next reboot
------------------------------------------------------------------------------
network-advantage       Smart License                 network-advantage
dna-advantage           Subscription Smart License    dna-advantage

Smart Licensing Status: UNREGISTERED/EVAL EXPIRED

cisco C9300-48P (X86) processor with 1338934K/6147K bytes of memory.
Processor board ID {serial}
2 Virtual Ethernet interfaces
52 Gigabit Ethernet interfaces
4 Ten Gigabit Ethernet interfaces
2048K bytes of non-volatile configuration memory.
8388608K bytes of physical memory.
1638400K bytes of Crash Files at crashinfo:.
11264000K bytes of Flash at flash:.

Base Ethernet MAC Address          : {mac}
Motherboard Assembly Number        : 73-17959-06
Motherboard Serial Number          : {serial}
Model Revision Number              : A0
Motherboard Revision Number        : A0
Model Number                       : C9300-48P
System Serial Number               : {serial}


Switch Ports Model              SW Version        SW Image              Mode
------ ----- -----              ----------        ----------            ----
*    1 56    C9300-48P          17.03.04a         CAT9K_IOSXE           INSTALL


Configuration register is 0x102",
            uptime = uptime_line(host),
            mac = colon_mac(&mac(dev.index, 0))
        ),
        Platform::AristaEos => format!(
            "Arista vEOS-lab
Hardware version:
Serial number: {serial}
Hardware MAC address: {mac}
System MAC address: {mac}

Software image version: 4.28.3M
Architecture: x86_64
Internal build version: 4.28.3M-29174443.4283M
Internal build ID: 5d8f7c46-0a2c-4a48-ad0c-0e5a9f8a6c8b
Image format version: 1.0
Image optimization: None

Uptime: 12 weeks, 3 days, 4 hours and 5 minutes
Total memory: 4002012 kB
Free memory: 2630404 kB",
            mac = mac(dev.index, 0)
        ),
        Platform::CiscoNxos => format!(
            "Cisco Nexus Operating System (NX-OS) Software
TAC support: http://www.cisco.com/tac
Documents: http://www.cisco.com/en/US/products/ps9372/tsd_products_support_series_home.html
Copyright (c) 2002-2021, Cisco Systems, Inc. All rights reserved.
The copyrights to certain works contained herein are owned by
other third parties and are used and distributed under license.
Some parts of this software are covered under the GNU Public
License. A copy of the license is available at
http://www.gnu.org/licenses/gpl.html.

Nexus 9000v is a demo version of the Nexus Operating System

Software
  BIOS: version
  NXOS: version 9.3(8)
  BIOS compile time:
  NXOS image file is: bootflash:///nxos.9.3.8.bin
  NXOS compile time:  8/18/2021 8:00:00 [08/18/2021 16:50:32]


Hardware
  cisco Nexus9000 C9300v Chassis
  Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz with 16409108 kB of memory.
  Processor Board ID {serial}

  Device name: {host}
  bootflash:    4287040 kB
Kernel uptime is 84 day(s), 4 hour(s), 5 minute(s), 12 second(s)

Last reset
  Reason: Unknown
  System version:
  Service:

plugin
  Core Plugin, Ethernet Plugin

Active Package(s):
"
        ),
        Platform::CiscoIosxr => String::from(
            "Cisco IOS XR Software, Version 7.3.2
Copyright (c) 2013-2021 by Cisco Systems, Inc.

Build Information:
 Built By     : ingunawa
 Built On     : Wed Oct 13 20:00:36 PDT 2021
 Built Host   : iox-ucs-017
 Workspace    : /auto/srcarchive17/prod/7.3.2/xrv9k/ws
 Version      : 7.3.2
 Location     : /opt/cisco/XR/packages/
 Label        : 7.3.2

cisco IOS-XRv 9000 () processor
System uptime is 12 weeks 3 days 4 hours 5 minutes"
        ),
        Platform::JuniperJunos => format!(
            "Hostname: {host}
Model: vsrx
Junos: 21.4R3.15
JUNOS OS Kernel 64-bit  [20220816.6ad4ec4_builder_stable_12_214]
JUNOS OS libs [20220816.6ad4ec4_builder_stable_12_214]
JUNOS OS runtime [20220816.6ad4ec4_builder_stable_12_214]
JUNOS OS time zone information [20220816.6ad4ec4_builder_stable_12_214]
JUNOS network stack and utilities [20221028.041845_builder_junos_214_r3]
JUNOS modules [20221028.041845_builder_junos_214_r3]
JUNOS mx libs [20221028.041845_builder_junos_214_r3]
JUNOS py extensions [20221028.041845_builder_junos_214_r3]
JUNOS py base [20221028.041845_builder_junos_214_r3]
JUNOS OS vmguest [20220816.6ad4ec4_builder_stable_12_214]
JUNOS OS crypto [20220816.6ad4ec4_builder_stable_12_214]
JUNOS Packet Forwarding Engine Support (vSRX) [20221028.041845_builder_junos_214_r3]
JUNOS Routing Engine [20221028.041845_builder_junos_214_r3]"
        ),
    }
}

pub fn split_addr(addr: &str) -> (String, String) {
    let mut it = addr.split_whitespace();
    let ip = it.next().unwrap_or("");
    match (ip.split_once('/'), it.next()) {
        (Some((ip, len)), _) => (ip.to_string(), len.to_string()),
        (None, Some(mask)) => {
            let len: u32 = mask
                .split('.')
                .filter_map(|o| o.parse::<u8>().ok())
                .map(|o| o.count_ones())
                .sum();
            (ip.to_string(), len.to_string())
        }
        (None, None) => (ip.to_string(), "32".into()),
    }
}

/// `show interfaces` (IOS, EOS, XR) / `show interface` (NX-OS), from the live config, in
/// the platform's layout.
pub fn show_interfaces(dev: &Device, tree: &[Node], filter: Option<&str>) -> Option<String> {
    let all = interfaces(tree);
    let wanted: Vec<(usize, &Iface)> = all
        .iter()
        .enumerate()
        .filter(|(_, i)| match filter {
            Some(f) => i.name.eq_ignore_ascii_case(f),
            None => true,
        })
        .collect();
    if wanted.is_empty() && filter.is_some() {
        return None;
    }
    let mut out = Vec::new();
    for (n, i) in wanted {
        let errs = input_errors(&all, &i.name);
        match dev.platform {
            Platform::AristaEos => eos_interface(dev, n, i, errs, &mut out),
            Platform::CiscoNxos => nxos_interface(dev, n, i, errs, &mut out),
            Platform::CiscoIosxr => xr_interface(dev, n, i, &mut out),
            _ => ios_interface(dev, n, i, errs, &mut out),
        }
    }
    Some(out.join("\n"))
}

fn is_loopback(i: &Iface) -> bool {
    i.name.to_ascii_lowercase().starts_with("loopback")
}

fn ios_interface(dev: &Device, n: usize, i: &Iface, errs: (u64, u64, u64), out: &mut Vec<String>) {
    let (state, proto) = if i.shutdown {
        ("administratively down", "down")
    } else {
        ("up", "up")
    };
    let m = mac(dev.index, n + 1);
    let hw = if is_loopback(i) {
        "Loopback".to_string()
    } else if i.name.starts_with("Vlan") {
        format!("Ethernet SVI, address is {m} (bia {m})")
    } else {
        format!("Gigabit Ethernet, address is {m} (bia {m})")
    };
    out.push(format!(
        "{} is {}, line protocol is {}",
        i.name, state, proto
    ));
    out.push(format!("  Hardware is {hw}"));
    if let Some(d) = &i.description {
        out.push(format!("  Description: {d}"));
    }
    if let Some(a) = &i.address {
        let (ip, len) = split_addr(a);
        out.push(format!("  Internet address is {ip}/{len}"));
    }
    let (ip, ib, op, ob) = counters(n);
    let (ie, crc, frame) = errs;
    if is_loopback(i) {
        out.push("  MTU 1514 bytes, BW 8000000 Kbit/sec, DLY 5000 usec,".into());
        out.push("     reliability 255/255, txload 1/255, rxload 1/255".into());
        out.push("  Encapsulation LOOPBACK, loopback not set".into());
        out.push("  Keepalive set (10 sec)".into());
    } else {
        out.push("  MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec,".into());
        out.push("     reliability 255/255, txload 1/255, rxload 1/255".into());
        out.push("  Encapsulation ARPA, loopback not set".into());
        if !i.name.starts_with("Vlan") {
            out.push("  Keepalive set (10 sec)".into());
            out.push("  Full-duplex, 1000Mb/s, media type is 10/100/1000BaseTX".into());
            out.push("  input flow-control is off, output flow-control is unsupported".into());
        } else {
            out.push("  Keepalive not supported ".into());
        }
        out.push("  ARP type: ARPA, ARP Timeout 04:00:00".into());
    }
    out.push("  Last input 00:00:01, output 00:00:00, output hang never".into());
    out.push("  Last clearing of \"show interface\" counters never".into());
    out.push("  Input queue: 0/375/0/0 (size/max/drops/flushes); Total output drops: 0".into());
    out.push("  Queueing strategy: fifo".into());
    out.push("  Output queue: 0/40 (size/max)".into());
    out.push("  5 minute input rate 2000 bits/sec, 3 packets/sec".into());
    out.push("  5 minute output rate 1000 bits/sec, 1 packets/sec".into());
    out.push(format!("     {ip} packets input, {ib} bytes, 0 no buffer"));
    out.push("     Received 1234 broadcasts (1000 multicasts)".into());
    out.push("     0 runts, 0 giants, 0 throttles".into());
    out.push(format!(
        "     {ie} input errors, {crc} CRC, {frame} frame, 0 overrun, 0 ignored"
    ));
    out.push("     0 watchdog, 1000 multicast, 0 pause input".into());
    out.push("     0 input packets with dribble condition detected".into());
    out.push(format!("     {op} packets output, {ob} bytes, 0 underruns"));
    out.push("     0 output errors, 0 collisions, 0 interface resets".into());
    out.push("     0 unknown protocol drops".into());
    out.push("     0 babbles, 0 late collision, 0 deferred".into());
    out.push("     0 lost carrier, 0 no carrier, 0 pause output".into());
    out.push("     0 output buffer failures, 0 output buffers swapped out".into());
}

/// EOS `show interfaces`: `(connected)` / `(disabled)` after the protocol state, kbps rates.
fn eos_interface(dev: &Device, n: usize, i: &Iface, errs: (u64, u64, u64), out: &mut Vec<String>) {
    let (state, proto, why) = if i.shutdown {
        ("administratively down", "down", "disabled")
    } else {
        ("up", "up", "connected")
    };
    out.push(format!(
        "{} is {state}, line protocol is {proto} ({why})",
        i.name
    ));
    let m = mac(dev.index, n + 1);
    if is_loopback(i) {
        out.push("  Hardware is Loopback".into());
    } else {
        out.push(format!("  Hardware is Ethernet, address is {m} (bia {m})"));
    }
    if let Some(d) = &i.description {
        out.push(format!("  Description: {d}"));
    }
    match &i.address {
        Some(a) => {
            let (ip, len) = split_addr(a);
            out.push(format!("  Internet address is {ip}/{len}"));
            out.push("  Broadcast address is 255.255.255.255".into());
        }
        None if !i.switchport() => {
            out.push("  No Internet protocol address assigned".into());
        }
        None => {}
    }
    if is_loopback(i) {
        out.push("  IP MTU 65535 bytes".into());
        out.push("  Up 12 weeks, 3 days, 4 hours, 5 minutes, 2 seconds".into());
        return;
    }
    if i.switchport() {
        out.push("  Ethernet MTU 9214 bytes, BW 1000000 kbit".into());
    } else {
        out.push("  IP MTU 1500 bytes, BW 1000000 kbit".into());
    }
    out.push("  Full-duplex, 1Gb/s, auto negotiation: off, uni-link: n/a".into());
    if i.shutdown {
        out.push("  Down 12 weeks, 3 days, 4 hours, 5 minutes, 2 seconds".into());
    } else {
        out.push("  Up 12 weeks, 3 days, 4 hours, 5 minutes, 2 seconds".into());
    }
    out.push("  Loopback Mode : None".into());
    out.push("  2 link status changes since last clear".into());
    out.push("  Last clearing of \"show interface\" counters never".into());
    out.push("  5 minutes input rate 2.00 kbps (0.0% with framing overhead), 3 packets/sec".into());
    out.push(
        "  5 minutes output rate 1.00 kbps (0.0% with framing overhead), 1 packets/sec".into(),
    );
    let (ip, ib, op, ob) = counters(n);
    let (ie, crc, _) = errs;
    out.push(format!("     {ip} packets input, {ib} bytes"));
    out.push("     Received 1234 broadcasts, 1000 multicast".into());
    out.push("     0 runts, 0 giants".into());
    out.push(format!(
        "     {ie} input errors, {crc} CRC alignment, 0 symbol, 0 input discards"
    ));
    out.push("     0 PAUSE input".into());
    out.push(format!("     {op} packets output, {ob} bytes"));
    out.push("     Sent 12 broadcasts, 345 multicast".into());
    out.push("     0 output errors, 0 collisions".into());
    out.push("     0 late collision, 0 deferred, 0 output discards".into());
    out.push("     0 PAUSE output".into());
}

/// NX-OS `show interface`: `admin state is`, an RX / TX block per port.
fn nxos_interface(dev: &Device, n: usize, i: &Iface, errs: (u64, u64, u64), out: &mut Vec<String>) {
    let m = mac(dev.index, n + 1);
    let admin = if i.shutdown { "down" } else { "up" };
    if i.shutdown {
        out.push(format!("{} is down (Administratively down)", i.name));
    } else {
        out.push(format!("{} is up", i.name));
    }
    let (ip, ib, op, ob) = counters(n);
    if is_loopback(i) {
        out.push(format!("admin state is {admin},"));
        out.push("  Hardware: Loopback".into());
        if let Some(d) = &i.description {
            out.push(format!("  Description: {d}"));
        }
        if let Some(a) = &i.address {
            let (addr, len) = split_addr(a);
            out.push(format!("  Internet Address is {addr}/{len}"));
        }
        out.push("  MTU 1500 bytes, BW 8000000 Kbit, DLY 5000 usec".into());
        out.push("  reliability 255/255, txload 1/255, rxload 1/255".into());
        out.push("  Encapsulation LOOPBACK, medium is broadcast".into());
        out.push("  Auto-mdix is turned off".into());
        out.push("    0 packets input 0 bytes".into());
        out.push("    0 multicast frames 0 compressed".into());
        out.push("    0 input errors 0 frame 0 overrun 0 fifo".into());
        out.push("    0 packets output 0 bytes 0 underruns".into());
        out.push("    0 output errors 0 collisions 0 fifo".into());
        out.push("    0 out_carrier_errors".into());
        return;
    }
    let mgmt = !i.physical();
    if mgmt {
        out.push(format!("admin state is {admin},"));
        out.push(format!(
            "  Hardware: GigabitEthernet, address: {m} (bia {m})"
        ));
    } else {
        out.push(format!("admin state is {admin}, Dedicated Interface"));
        out.push(format!(
            "  Hardware: 100/1000/10000 Ethernet, address: {m} (bia {m})"
        ));
    }
    if let Some(d) = &i.description {
        out.push(format!("  Description: {d}"));
    }
    if let Some(a) = &i.address {
        let (addr, len) = split_addr(a);
        out.push(format!("  Internet Address is {addr}/{len}"));
    }
    out.push("  MTU 1500 bytes, BW 1000000 Kbit , DLY 10 usec".into());
    out.push("  reliability 255/255, txload 1/255, rxload 1/255".into());
    out.push("  Encapsulation ARPA, medium is broadcast".into());
    if !mgmt {
        let mode = if i.trunk {
            "trunk"
        } else if i.address.is_some() {
            "routed"
        } else {
            "access"
        };
        out.push(format!("  Port mode is {mode}"));
    }
    if i.shutdown {
        out.push("  auto-duplex, auto-speed".into());
    } else {
        out.push("  full-duplex, 1000 Mb/s".into());
    }
    if !mgmt {
        out.push("  Beacon is turned off".into());
    }
    out.push("  Auto-Negotiation is turned on".into());
    out.push("  Input flow-control is off, output flow-control is off".into());
    out.push("  Auto-mdix is turned off".into());
    if !mgmt {
        out.push("  Switchport monitor is off".into());
        out.push("  EtherType is 0x8100".into());
        out.push("  EEE (efficient-ethernet) : n/a".into());
        out.push("  Last link flapped 12week(s) 3day(s)".into());
        out.push("  Last clearing of \"show interface\" counters never".into());
        out.push("  1 interface resets".into());
        out.push("  Load-Interval #1: 30 seconds".into());
        out.push("    30 seconds input rate 2000 bits/sec, 3 packets/sec".into());
        out.push("    30 seconds output rate 1000 bits/sec, 1 packets/sec".into());
    } else {
        out.push("  1 minute input rate 2000 bits/sec, 3 packets/sec".into());
        out.push("  1 minute output rate 1000 bits/sec, 1 packets/sec".into());
    }
    let (ie, crc, frame) = errs;
    out.push("  RX".into());
    out.push(format!(
        "    {} unicast packets  1234 multicast packets  1000 broadcast packets",
        ip - 2234
    ));
    out.push(format!("    {ip} input packets  {ib} bytes"));
    out.push("    0 jumbo packets  0 storm suppression packets".into());
    out.push(format!("    0 runts  0 giants  {crc} CRC  0 no buffer"));
    out.push(format!(
        "    {ie} input error  {frame} short frame  0 overrun   0 underrun  0 ignored"
    ));
    out.push("    0 watchdog  0 bad etype drop  0 bad proto drop  0 if down drop".into());
    out.push("    0 input with dribble  0 input discard".into());
    out.push("    0 Rx pause".into());
    out.push("  TX".into());
    out.push(format!(
        "    {} unicast packets  345 multicast packets  12 broadcast packets",
        op - 357
    ));
    out.push(format!("    {op} output packets  {ob} bytes"));
    out.push("    0 jumbo packets".into());
    out.push("    0 output error  0 collision  0 deferred  0 late collision".into());
    out.push("    0 lost carrier  0 no carrier  0 babble  0 output discard".into());
    out.push("    0 Tx pause".into());
    out.push(String::new());
}

/// IOS-XR `show interfaces`.
fn xr_interface(dev: &Device, n: usize, i: &Iface, out: &mut Vec<String>) {
    let (state, proto) = if i.shutdown {
        ("administratively down", "administratively down")
    } else {
        ("up", "up")
    };
    out.push(format!("{} is {state}, line protocol is {proto} ", i.name));
    out.push("  Interface state transitions: 1".into());
    let m = mac(dev.index, n + 1);
    if is_loopback(i) {
        out.push("  Hardware is Loopback interface(s)".into());
    } else if i.physical() {
        out.push(format!(
            "  Hardware is GigabitEthernet, address is {m} (bia {m})"
        ));
    } else {
        out.push(format!(
            "  Hardware is Management Ethernet, address is {m} (bia {m})"
        ));
    }
    if let Some(d) = &i.description {
        out.push(format!("  Description: {d}"));
    }
    match &i.address {
        Some(a) => {
            let (ip, len) = split_addr(a);
            out.push(format!("  Internet address is {ip}/{len}"));
        }
        None => out.push("  Internet address is Unknown".into()),
    }
    if is_loopback(i) {
        out.push("  MTU 1500 bytes, BW 0 Kbit".into());
        out.push("     reliability Unknown, txload Unknown, rxload Unknown".into());
        out.push("  Encapsulation Loopback,  loopback not set,".into());
        out.push("  Last link flapped 12w3d".into());
        out.push("  Last input Unknown, output Unknown".into());
        out.push("  Last clearing of \"show interface\" counters Unknown".into());
        out.push("  Input/output data rate is disabled.".into());
        out.push(String::new());
        return;
    }
    let (ip, ib, op, ob) = counters(n);
    out.push("  MTU 1514 bytes, BW 1000000 Kbit (Max: 1000000 Kbit)".into());
    out.push("     reliability 255/255, txload 0/255, rxload 0/255".into());
    out.push("  Encapsulation ARPA,".into());
    out.push("  Full-duplex, 1000Mb/s, 1000BASE-T, link type is autonegotiation".into());
    out.push("  output flow control is off, input flow control is off".into());
    out.push("  Carrier delay (up) is 10 msec".into());
    out.push("  loopback not set,".into());
    out.push("  Last link flapped 12w3d".into());
    out.push("  ARP type ARPA, ARP timeout 04:00:00".into());
    out.push("  Last input 00:00:00, output 00:00:00".into());
    out.push("  Last clearing of \"show interface\" counters never".into());
    out.push("  5 minute input rate 2000 bits/sec, 3 packets/sec".into());
    out.push("  5 minute output rate 1000 bits/sec, 1 packets/sec".into());
    out.push(format!(
        "     {ip} packets input, {ib} bytes, 0 total input drops"
    ));
    out.push("     0 drops for unrecognized upper-level protocol".into());
    out.push("     Received 1234 broadcast packets, 1000 multicast packets".into());
    out.push("              0 runts, 0 giants, 0 throttles, 0 parity".into());
    out.push("     0 input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored, 0 abort".into());
    out.push(format!(
        "     {op} packets output, {ob} bytes, 0 total output drops"
    ));
    out.push("     Output 12 broadcast packets, 345 multicast packets".into());
    out.push("     0 output errors, 0 underruns, 0 applique, 0 resets".into());
    out.push("     0 output buffer failures, 0 output buffers swapped out".into());
    out.push("     1 carrier transitions".into());
    out.push(String::new());
}

/// `show ip interface brief` in the platform's layout.
pub fn show_ip_int_brief(dev: &Device, tree: &[Node]) -> String {
    let ifaces = match dev.platform {
        // EOS lists routed interfaces only; NX-OS the addressed ones of VRF default.
        Platform::AristaEos => interfaces(tree)
            .into_iter()
            .filter(|i| !i.switchport())
            .collect(),
        Platform::CiscoNxos => crate::json::nxos_ip_brief_ifaces(tree),
        _ => interfaces(tree),
    };
    let mut out = Vec::new();
    match dev.platform {
        Platform::AristaEos => {
            out.push(
                "                                                                      Address"
                    .into(),
            );
            out.push("Interface         IP Address            Status       Protocol         MTU    Owner  ".into());
            out.push("----------------- --------------------- ------------ -------------- ---------- -------".into());
            for i in &ifaces {
                let ip = i.address.clone().unwrap_or_else(|| "unassigned".into());
                let (st, pr) = if i.shutdown {
                    ("adminDown", "down")
                } else {
                    ("up", "up")
                };
                out.push(format!(
                    "{:<17} {:<21} {:<12} {:<14} {:>10}",
                    i.name, ip, st, pr, 1500
                ));
            }
        }
        Platform::CiscoNxos => {
            out.push("IP Interface Status for VRF \"default\"(1)".into());
            out.push("Interface            IP Address      Interface Status".into());
            for i in &ifaces {
                if let Some(a) = &i.address {
                    let (ip, _) = split_addr(a);
                    let st = if i.shutdown {
                        "protocol-down/link-down/admin-down"
                    } else {
                        "protocol-up/link-up/admin-up"
                    };
                    out.push(format!("{:<20} {:<15} {}", i.name, ip, st));
                }
            }
        }
        Platform::CiscoIosxr => {
            out.push(String::new());
            out.push(
                "Interface                      IP-Address      Status          Protocol Vrf-Name"
                    .into(),
            );
            for i in &ifaces {
                let ip = i
                    .address
                    .as_deref()
                    .map(|a| split_addr(a).0)
                    .unwrap_or_else(|| "unassigned".into());
                let (st, pr) = if i.shutdown {
                    ("Shutdown", "Down")
                } else {
                    ("Up", "Up")
                };
                out.push(format!(
                    "{:<30} {:<15} {:<15} {:<8} default",
                    i.name, ip, st, pr
                ));
            }
        }
        _ => {
            out.push(
                "Interface              IP-Address      OK? Method Status                Protocol"
                    .into(),
            );
            for i in &ifaces {
                let ip = i
                    .address
                    .as_deref()
                    .map(|a| split_addr(a).0)
                    .unwrap_or_else(|| "unassigned".into());
                let method = if i.address.is_some() {
                    "NVRAM"
                } else {
                    "unset"
                };
                let (st, pr) = if i.shutdown {
                    ("administratively down", "down")
                } else {
                    ("up", "up")
                };
                out.push(format!(
                    "{:<22} {:<15} YES {:<6} {:<21} {}",
                    i.name, ip, method, st, pr
                ));
            }
        }
    }
    out.join("\n")
}

/// `show vlan` (IOS switch, EOS, NX-OS), from the `vlan N` / `name X` blocks.
pub fn show_vlan(dev: &Device, tree: &[Node]) -> String {
    let vlans = vlans(tree);
    let ifaces = interfaces(tree);
    // The Ports column wraps four ports to a line, continuation lines aligned under it (NX-OS
    // and EOS end a wrapped line with a comma, IOS does not).
    let rows = |head: String, vid: u32, out: &mut Vec<String>| {
        let names: Vec<String> = vlan_members(dev.platform, &ifaces, vid)
            .iter()
            .map(|i| match dev.platform {
                Platform::CiscoNxos => nxos_short(&i.name),
                _ => short_ifname(&i.name),
            })
            .collect();
        let chunks: Vec<&[String]> = names.chunks(4).collect();
        if chunks.is_empty() {
            out.push(head.trim_end().to_string());
            return;
        }
        let comma = if dev.platform == Platform::CiscoIos {
            ""
        } else {
            ","
        };
        let indent = " ".repeat(head.len());
        for (k, c) in chunks.iter().enumerate() {
            let sep = if k + 1 < chunks.len() { comma } else { "" };
            let lead = if k == 0 {
                head.as_str()
            } else {
                indent.as_str()
            };
            out.push(format!("{lead}{}{sep}", c.join(", ")));
        }
    };
    let mut out = Vec::new();
    match dev.platform {
        Platform::AristaEos => {
            out.push("VLAN  Name                             Status    Ports".into());
            out.push(
                "----- -------------------------------- --------- -------------------------------"
                    .into(),
            );
            for (id, name) in &vlans {
                rows(
                    format!("{:<5} {:<32} {:<9} ", id, name, "active"),
                    *id,
                    &mut out,
                );
            }
        }
        _ => {
            out.push(String::new());
            out.push("VLAN Name                             Status    Ports".into());
            out.push(
                "---- -------------------------------- --------- -------------------------------"
                    .into(),
            );
            for (id, name) in &vlans {
                rows(
                    format!("{:<4} {:<32} {:<9} ", id, name, "active"),
                    *id,
                    &mut out,
                );
            }
            if dev.platform == Platform::CiscoIos {
                for (id, name) in [
                    (1002, "fddi-default"),
                    (1003, "token-ring-default"),
                    (1004, "fddinet-default"),
                    (1005, "trnet-default"),
                ] {
                    out.push(format!("{:<4} {:<32} {:<9}", id, name, "act/unsup"));
                }
            }
        }
    }
    out.join("\n")
}

/// The VLANs a config defines, with names: VLAN 1 `default` and every `vlan N` block.
pub fn vlans(tree: &[Node]) -> Vec<(u32, String)> {
    let mut vlans: Vec<(u32, String)> = vec![(1, "default".into())];
    for n in tree {
        if let Some(id) = n.line.strip_prefix("vlan ") {
            if let Ok(id) = id.trim().parse::<u32>() {
                let name = n
                    .children
                    .iter()
                    .find_map(|c| c.line.strip_prefix("name ").map(str::to_string))
                    .unwrap_or_else(|| format!("VLAN{id:04}"));
                vlans.retain(|(v, _)| *v != id);
                vlans.push((id, name));
            }
        }
    }
    vlans.sort();
    vlans
}

/// The ports `show vlan` lists in a VLAN: its access ports; EOS also lists trunks (in every
/// VLAN), IOS and NX-OS do not.
pub fn vlan_members(platform: Platform, ifaces: &[Iface], vid: u32) -> Vec<&Iface> {
    ifaces
        .iter()
        .filter(|i| i.switchport())
        .filter(|i| {
            if i.trunk {
                platform == Platform::AristaEos
            } else {
                i.vlan() == vid
            }
        })
        .collect()
}

/// `GigabitEthernet1/0/2` -> `Gi1/0/2`, as `show vlan` prints ports.
pub fn short_ifname(name: &str) -> String {
    for (long, short) in [
        ("GigabitEthernet", "Gi"),
        ("TenGigabitEthernet", "Te"),
        ("FastEthernet", "Fa"),
        ("Ethernet", "Et"),
        ("Port-channel", "Po"),
        ("Port-Channel", "Po"),
        ("Loopback", "Lo"),
        ("Management", "Ma"),
        ("Vlan", "Vl"),
    ] {
        if let Some(rest) = name.strip_prefix(long) {
            return format!("{short}{rest}");
        }
    }
    name.to_string()
}

/// `show clock` in the platform's style.
pub fn show_clock(platform: Platform) -> String {
    let now = Civil::now();
    match platform {
        Platform::AristaEos => format!(
            "{}\nTimezone: UTC\nClock source: NTP server (192.0.2.123)",
            now.unix()
        ),
        Platform::CiscoNxos => format!("{}\nTime source is NTP", now.ios_clock()),
        Platform::CiscoIosxr => now.xr_stamp(),
        Platform::JuniperJunos => format!("Current time: {}", now.iso()),
        Platform::CiscoIos => now.ios_clock(),
    }
}

/// The status column of `show interfaces status`: `connected` or `disabled`.
fn link_status(i: &Iface) -> &'static str {
    if i.shutdown {
        "disabled"
    } else {
        "connected"
    }
}

/// The VLAN column of `show interfaces status`: `trunk`, `routed` or the access VLAN.
pub fn vlan_column(i: &Iface) -> String {
    if i.trunk {
        "trunk".into()
    } else if !i.switchport() {
        "routed".into()
    } else {
        i.vlan().to_string()
    }
}

/// `show interfaces status` (IOS, EOS) / `show interface status` (NX-OS): the ports, not
/// loopbacks or SVIs.
pub fn show_interfaces_status(dev: &Device, tree: &[Node]) -> String {
    let ifaces: Vec<Iface> = interfaces(tree)
        .into_iter()
        .filter(|i| !is_loopback(i) && !i.name.starts_with("Vlan"))
        .collect();
    let mut out = Vec::new();
    match dev.platform {
        Platform::AristaEos => {
            out.push("Port       Name           Status       Vlan     Duplex Speed  Type            Flags Encapsulation".to_string());
            for i in &ifaces {
                let (duplex, speed) = if i.shutdown {
                    ("full", "1G")
                } else {
                    ("a-full", "a-1G")
                };
                let name: String = i
                    .description
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(14)
                    .collect();
                out.push(format!(
                    "{:<10} {:<14} {:<12} {:<8} {:<6} {:<6} {:<15}",
                    short_ifname(&i.name),
                    name,
                    link_status(i),
                    vlan_column(i),
                    duplex,
                    speed,
                    "10/100/1000"
                ));
            }
        }
        Platform::CiscoNxos => {
            let rule = "-".repeat(80);
            out.push(String::new());
            out.push(rule.clone());
            out.push(
                "Port          Name               Status    Vlan      Duplex  Speed   Type".into(),
            );
            out.push(rule);
            for i in &ifaces {
                let (duplex, speed) = if i.shutdown {
                    ("auto", "auto")
                } else {
                    ("full", "1000")
                };
                let name: String = i
                    .description
                    .as_deref()
                    .unwrap_or("--")
                    .chars()
                    .take(18)
                    .collect();
                let kind = if i.physical() { "10g" } else { "--" };
                out.push(format!(
                    "{:<13} {:<18} {:<9} {:<9} {:<7} {:<7} {}",
                    nxos_short(&i.name),
                    name,
                    link_status(i),
                    vlan_column(i),
                    duplex,
                    speed,
                    kind
                ));
            }
        }
        _ => {
            out.push(String::new());
            out.push(
                "Port         Name               Status       Vlan       Duplex  Speed Type "
                    .into(),
            );
            for i in &ifaces {
                let (duplex, speed) = if i.shutdown {
                    ("auto", "auto")
                } else {
                    ("a-full", "a-1000")
                };
                let name: String = i
                    .description
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(18)
                    .collect();
                out.push(format!(
                    "{:<12} {:<18} {:<12} {:<10} {:>6} {:>6} {}",
                    short_ifname(&i.name),
                    name,
                    link_status(i),
                    vlan_column(i),
                    duplex,
                    speed,
                    "10/100/1000BaseTX"
                ));
            }
        }
    }
    out.join("\n")
}

/// NX-OS short names: `Ethernet1/1` -> `Eth1/1`, `loopback0` -> `Lo0`.
pub fn nxos_short(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("Ethernet") {
        format!("Eth{rest}")
    } else if let Some(rest) = name.strip_prefix("loopback") {
        format!("Lo{rest}")
    } else {
        name.to_string()
    }
}

/// NX-OS `show interface brief`: management, Ethernet and loopback tables.
pub fn nxos_show_interface_brief(tree: &[Node]) -> String {
    let ifaces = interfaces(tree);
    let rule = "-".repeat(80);
    let mut out = vec![String::new()];
    let mgmt: Vec<&Iface> = ifaces
        .iter()
        .filter(|i| i.name.starts_with("mgmt"))
        .collect();
    if !mgmt.is_empty() {
        out.push(rule.clone());
        out.push(
            "Port   VRF          Status IP Address                              Speed    MTU"
                .into(),
        );
        out.push(rule.clone());
        for i in mgmt {
            let ip = i
                .address
                .as_deref()
                .map(|a| split_addr(a).0)
                .unwrap_or_else(|| "--".into());
            let st = if i.shutdown { "down" } else { "up" };
            out.push(format!(
                "{:<6} {:<12} {:<6} {:<39} {:<8} {}",
                i.name, "--", st, ip, "1000", 1500
            ));
        }
        out.push(String::new());
    }
    out.push(rule.clone());
    out.push(
        "Ethernet      VLAN    Type Mode   Status  Reason                   Speed     Port".into(),
    );
    out.push(
        "Interface                                                                    Ch #".into(),
    );
    out.push(rule.clone());
    for i in ifaces.iter().filter(|i| i.physical()) {
        let vlan = if i.switchport() {
            i.vlan().to_string()
        } else {
            "--".into()
        };
        let mode = if i.trunk {
            "trunk"
        } else if i.switchport() {
            "access"
        } else {
            "routed"
        };
        let (st, reason, speed) = if i.shutdown {
            ("down", "Administratively down", "auto(D)")
        } else {
            ("up", "none", "1000(D)")
        };
        out.push(format!(
            "{:<13} {:<7} {:<4} {:<6} {:<7} {:<24} {:>9} --",
            nxos_short(&i.name),
            vlan,
            "eth",
            mode,
            st,
            reason,
            speed
        ));
    }
    let loops: Vec<&Iface> = ifaces.iter().filter(|i| is_loopback(i)).collect();
    if !loops.is_empty() {
        out.push(String::new());
        out.push(rule.clone());
        out.push("Interface     Status     Description".into());
        out.push(rule);
        for i in loops {
            let st = if i.shutdown { "down" } else { "up" };
            out.push(format!(
                "{:<13} {:<10} {}",
                nxos_short(&i.name),
                st,
                i.description.as_deref().unwrap_or("--")
            ));
        }
    }
    out.join("\n")
}

/// `show cdp neighbors` (IOS, NX-OS).
pub fn show_cdp_neighbors(dev: &Device, tree: &[Node]) -> String {
    let nbrs = neighbors(dev, &interfaces(tree));
    let mut out = Vec::new();
    if dev.platform == Platform::CiscoNxos {
        out.push(
            "Capability Codes: R - Router, T - Trans-Bridge, B - Source-Route-Bridge".to_string(),
        );
        out.push("                  S - Switch, H - Host, I - IGMP, r - Repeater,".into());
        out.push("                  V - VoIP-Phone, D - Remotely-Managed-Device,".into());
        out.push("                  s - Supports-STP-Dispute".into());
        out.push(String::new());
        out.push(
            "Device-ID          Local Intrfce  Hldtme Capability  Platform      Port ID".into(),
        );
        for n in &nbrs {
            out.push(format!("{}(FDO21240ABC)", n.name));
            out.push(format!(
                "                    {:<14} {:<6} {:<11} {:<13} {}",
                nxos_short(&n.local),
                157,
                "R S I s",
                n.platform,
                nxos_short(&n.port)
            ));
        }
        out.push(String::new());
        out.push(format!("Total entries displayed: {}", nbrs.len()));
    } else {
        out.push(
            "Capability Codes: R - Router, T - Trans Bridge, B - Source Route Bridge".to_string(),
        );
        out.push(
            "                  S - Switch, H - Host, I - IGMP, r - Repeater, P - Phone, ".into(),
        );
        out.push("                  D - Remote, C - CVTA, M - Two-port Mac Relay ".into());
        out.push(String::new());
        out.push(
            "Device ID        Local Intrfce     Holdtme    Capability  Platform  Port ID".into(),
        );
        let spaced = |name: &str| -> String {
            // `GigabitEthernet1/0/1` -> `Gig 1/0/1`, `Ethernet1/12` -> `Eth 1/12`.
            for (long, short) in [("GigabitEthernet", "Gig "), ("Ethernet", "Eth ")] {
                if let Some(rest) = name.strip_prefix(long) {
                    return format!("{short}{rest}");
                }
            }
            name.to_string()
        };
        for n in &nbrs {
            out.push(n.name.clone());
            out.push(format!(
                "                 {:<17} {:<10} {:>10} {} {}",
                spaced(&n.local),
                157,
                "R S I",
                n.platform,
                spaced(&n.port)
            ));
        }
        out.push(String::new());
        out.push(format!("Total cdp entries displayed : {}", nbrs.len()));
    }
    out.join("\n")
}

/// `show lldp neighbors` in the platform's layout (Junos builds its own interface list).
pub fn show_lldp_neighbors(dev: &Device, ifaces: &[Iface]) -> String {
    let nbrs = neighbors(dev, ifaces);
    let mut out = Vec::new();
    match dev.platform {
        Platform::AristaEos => {
            out.push("Last table change time   : 12 weeks, 3 days, 4 hours ago".to_string());
            out.push(format!("Number of table inserts  : {}", nbrs.len()));
            out.push("Number of table deletes  : 0".into());
            out.push("Number of table drops    : 0".into());
            out.push("Number of table age-outs : 0".into());
            out.push(String::new());
            out.push("Port          Neighbor Device ID       Neighbor Port ID    TTL".into());
            out.push("---------- ------------------------ ---------------------- ---".into());
            for n in &nbrs {
                out.push(format!(
                    "{:<13} {:<24} {:<19} 120",
                    short_ifname(&n.local),
                    n.name,
                    n.port
                ));
            }
        }
        Platform::JuniperJunos => {
            out.push("Local Interface    Parent Interface    Chassis Id          Port info          System Name".to_string());
            for n in &nbrs {
                out.push(format!(
                    "{:<18} {:<19} {:<19} {:<18} {}",
                    n.local, "-", "52:54:00:ff:00:01", n.port, n.name
                ));
            }
        }
        _ => {
            let indent = if dev.platform == Platform::CiscoIosxr {
                "        "
            } else {
                "    "
            };
            out.push("Capability codes:".to_string());
            out.push(format!(
                "{indent}(R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device"
            ));
            out.push(format!(
                "{indent}(W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other"
            ));
            out.push(String::new());
            match dev.platform {
                Platform::CiscoNxos => {
                    out.push(
                        "Device ID            Local Intf      Hold-time  Capability  Port ID"
                            .into(),
                    );
                    for n in &nbrs {
                        out.push(n.name.clone());
                        out.push(format!(
                            "                     {:<15} {:<10} {:<11} {}",
                            nxos_short(&n.local),
                            120,
                            "BR",
                            n.port
                        ));
                    }
                }
                Platform::CiscoIosxr => {
                    out.push(
                        "Device ID       Local Intf          Hold-time  Capability     Port ID"
                            .into(),
                    );
                    for n in &nbrs {
                        let local = n.local.replace("GigabitEthernet", "Gi");
                        out.push(format!(
                            "{:<15} {:<19} {:<10} {:<14} {}",
                            n.name, local, 120, "B,R", n.port
                        ));
                    }
                }
                _ => {
                    out.push(
                        "Device ID           Local Intf     Hold-time  Capability      Port ID"
                            .into(),
                    );
                    for n in &nbrs {
                        // IOS cuts the device ID to 20 characters, flush against the port.
                        let id: String = n.name.chars().take(20).collect();
                        out.push(format!(
                            "{:<20}{:<15}{:<11}{:<16}{}",
                            id,
                            short_ifname(&n.local),
                            120,
                            "B,R",
                            n.port
                        ));
                    }
                }
            }
            out.push(String::new());
            out.push(format!("Total entries displayed: {}", nbrs.len()));
        }
    }
    out.join("\n")
}

/// The processor pool of `show memory statistics` (IOS-XE): total and free bytes.
pub const MEMORY_TOTAL: u64 = 1_371_159_880;
pub const MEMORY_FREE: u64 = 1_087_243_392;

/// `show memory statistics` (IOS-XE), in bytes per pool.
pub fn show_memory_statistics() -> String {
    let used = MEMORY_TOTAL - MEMORY_FREE;
    format!(
        "Tracekey : 1#5a7d6e4c1b2f3a8e9d0c7b6a5f4e3d2c

                Head    Total(b)     Used(b)     Free(b)   Lowest(b)  Largest(b)
Processor  7F9A2C1010   {MEMORY_TOTAL}   {used}   {MEMORY_FREE}   1070573128   1087148216
 reserve P  7F9A2C1068      102404          92      102312      102312      102312
 lsmpi_io  7F9A0E81A8     6295128     6294304         824         824         412"
    )
}

/// `show inventory` (IOS family).
pub fn show_inventory(dev: &Device) -> String {
    let serial = serial(dev);
    if dev.platform == Platform::AristaEos {
        let ifaces = interfaces(&dev.running());
        let eth = ifaces
            .iter()
            .filter(|i| i.name.starts_with("Ethernet"))
            .count();
        let mgmt = ifaces
            .iter()
            .filter(|i| i.name.starts_with("Management"))
            .count();
        return format!(
            "System information
  Model                    Description
  ------------------------ ----------------------------------------------------
  vEOS-lab                 Arista vEOS

  HW Version  Serial Number  Mfg Date    Epoch
  ----------- -------------- ----------- --------
  11.00       {serial}    2021-05-12  01.00

System has 0 power supply slots

System has 0 fan modules

System has {ports} ports
  Type             Count
  ---------------- ----
  Ethernet         {eth}
  Management       {mgmt}
",
            ports = eth + mgmt
        );
    }
    let (pid, descr) = match dev.platform {
        Platform::CiscoIos => ("C9300-48P", "C9300-48P"),
        Platform::AristaEos => ("vEOS-lab", "Arista vEOS"),
        Platform::CiscoNxos => ("N9K-C9300v", "Nexus9000 C9300v Chassis"),
        _ => (
            "R-IOSXRV9000-CC",
            "Cisco IOS-XRv 9000 Centralized Virtual Router",
        ),
    };
    format!(
        "NAME: \"Chassis\", DESCR: \"{descr}\"\nPID: {pid}             , VID: V01  , SN: {serial}"
    )
}

/// A connected subnet: (network, prefix length, the interface's own address, interface).
fn connected(ifaces: &[Iface]) -> Vec<(String, String, String, String)> {
    ifaces
        .iter()
        .filter(|i| !i.shutdown && i.vrf.is_none())
        .filter_map(|i| {
            let (ip, len) = split_addr(i.address.as_deref()?);
            let v4: std::net::Ipv4Addr = ip.parse().ok()?;
            let bits: u32 = len.parse().ok()?;
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits.min(32))
            };
            let net = std::net::Ipv4Addr::from(u32::from(v4) & mask).to_string();
            Some((net, len, ip, i.name.clone()))
        })
        .collect()
}

/// The interface whose connected subnet holds `gw` (the static default route's next hop).
fn egress<'a>(conn: &'a [(String, String, String, String)], gw: &str) -> Option<&'a str> {
    let gw: u32 = gw.parse::<std::net::Ipv4Addr>().ok()?.into();
    conn.iter()
        .find(|(net, len, _, _)| {
            let bits: u32 = len.parse().unwrap_or(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits.min(32))
            };
            net.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|n| u32::from(n) == gw & mask)
        })
        .map(|(_, _, _, name)| name.as_str())
}

/// `show ip route` (IOS, EOS, NX-OS) / `show route` (IOS-XR): the default route and the
/// connected subnets of the global table (interfaces in a VRF are left out).
pub fn show_ip_route(dev: &Device, tree: &[Node]) -> String {
    let conn = connected(&interfaces(tree));
    let gw = "10.255.0.254";
    let mut out = Vec::new();
    match dev.platform {
        Platform::AristaEos => {
            out.push("VRF: default".to_string());
            out.push("Codes: C - connected, S - static, K - kernel, ".into());
            out.push("       O - OSPF, IA - OSPF inter area, E1 - OSPF external type 1,".into());
            out.push("       E2 - OSPF external type 2, N1 - OSPF NSSA external type 1,".into());
            out.push("       N2 - OSPF NSSA external type2, B - Other BGP Routes,".into());
            out.push("       B I - iBGP, B E - eBGP, R - RIP, I L1 - IS-IS level 1,".into());
            out.push("       I L2 - IS-IS level 2, O3 - OSPFv3, A B - BGP Aggregate,".into());
            out.push("       A O - OSPF Summary, NG - Nexthop Group Static Route,".into());
            out.push("       V - VXLAN Control Service, M - Martian,".into());
            out.push("       DH - DHCP client installed default route,".into());
            out.push("       DP - Dynamic Policy Route, L - VRF Leaked,".into());
            out.push("       G  - gRIBI, RC - Route Cache Route".into());
            out.push(String::new());
            out.push("Gateway of last resort:".into());
            if let Some(via) = egress(&conn, gw) {
                out.push(format!(" S        0.0.0.0/0 [1/0] via {gw}, {via}"));
            }
            out.push(String::new());
            for (net, len, _, name) in &conn {
                out.push(format!(
                    " C        {net}/{len} is directly connected, {name}"
                ));
            }
            out.push(String::new());
        }
        Platform::CiscoNxos => {
            out.push("IP Route Table for VRF \"default\"".to_string());
            out.push("'*' denotes best ucast next-hop".into());
            out.push("'**' denotes best mcast next-hop".into());
            out.push("'[x/y]' denotes [preference/metric]".into());
            out.push("'%<string>' in via output denotes VRF <string>".into());
            out.push(String::new());
            for (net, len, ip, name) in &conn {
                let short = nxos_short(name);
                if len == "32" {
                    out.push(format!("{net}/{len}, ubest/mbest: 2/0, attached"));
                    out.push(format!("    *via {ip}, {short}, [0/0], 12w3d, local"));
                    out.push(format!("    *via {ip}, {short}, [0/0], 12w3d, direct"));
                } else {
                    out.push(format!("{net}/{len}, ubest/mbest: 1/0, attached"));
                    out.push(format!("    *via {ip}, {short}, [0/0], 12w3d, direct"));
                    out.push(format!("{ip}/32, ubest/mbest: 1/0, attached"));
                    out.push(format!("    *via {ip}, {short}, [0/0], 12w3d, local"));
                }
            }
            out.push(String::new());
        }
        Platform::CiscoIosxr => {
            out.push(String::new());
            out.push(
                "Codes: C - connected, S - static, R - RIP, B - BGP, (>) - Diversion path"
                    .to_string(),
            );
            out.push(
                "       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area".into(),
            );
            out.push(
                "       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2".into(),
            );
            out.push("       E1 - OSPF external type 1, E2 - OSPF external type 2, E - EGP".into());
            out.push("       i - ISIS, L1 - IS-IS level-1, L2 - IS-IS level-2".into());
            out.push(
                "       ia - IS-IS inter area, su - IS-IS summary null, * - candidate default"
                    .into(),
            );
            out.push(
                "       U - per-user static route, o - ODR, L - local, G  - DAGR, l - LISP".into(),
            );
            out.push("       A - access/subscriber, a - Application route".into());
            out.push(
                "       M - mobile route, r - RPL, t - Traffic Engineering, (!) - FRR Backup path"
                    .into(),
            );
            out.push(String::new());
            out.push(format!("Gateway of last resort is {gw} to network 0.0.0.0"));
            out.push(String::new());
            out.push(format!("S*   0.0.0.0/0 [1/0] via {gw}, 12w3d"));
            for (net, len, ip, name) in &conn {
                if len != "32" {
                    out.push(format!(
                        "C    {net}/{len} is directly connected, 12w3d, {name}"
                    ));
                }
                out.push(format!("L    {ip}/32 is directly connected, 12w3d, {name}"));
            }
        }
        _ => {
            out.push(
                "Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP"
                    .to_string(),
            );
            out.push(
                "       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area".into(),
            );
            out.push(
                "       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2".into(),
            );
            out.push("       E1 - OSPF external type 1, E2 - OSPF external type 2, m - OMP".into());
            out.push("       n - NAT, Ni - NAT inside, No - NAT outside, Nd - NAT DIA".into());
            out.push(
                "       i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2"
                    .into(),
            );
            out.push(
                "       ia - IS-IS inter area, * - candidate default, U - per-user static route"
                    .into(),
            );
            out.push("       H - NHRP, G - NHRP registered, g - NHRP registration summary".into());
            out.push("       o - ODR, P - periodic downloaded static route, l - LISP".into());
            out.push("       a - application route".into());
            out.push(
                "       + - replicated route, % - next hop override, p - overrides from PfR".into(),
            );
            out.push(String::new());
            out.push(format!("Gateway of last resort is {gw} to network 0.0.0.0"));
            out.push(String::new());
            out.push(format!("S*    0.0.0.0/0 [1/0] via {gw}"));
            for (net, len, ip, name) in &conn {
                if len != "32" {
                    out.push(format!(
                        "C        {net}/{len} is directly connected, {name}"
                    ));
                }
                out.push(format!("L        {ip}/32 is directly connected, {name}"));
            }
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_deterministic_and_distinct() {
        assert_eq!(
            token("ios-001", "enable", 43),
            token("ios-001", "enable", 43)
        );
        assert_ne!(
            token("ios-001", "enable", 43),
            token("ios-002", "enable", 43)
        );
        assert_eq!(token("x", "y", 100).len(), 100);
    }

    #[test]
    fn masks_convert_to_prefix_lengths() {
        assert_eq!(
            split_addr("10.0.0.1 255.255.255.0"),
            ("10.0.0.1".into(), "24".into())
        );
        assert_eq!(split_addr("10.0.0.1/16"), ("10.0.0.1".into(), "16".into()));
    }
}
