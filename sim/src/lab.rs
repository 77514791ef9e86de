//! Which devices to start (from `--count/--platform` or from an Ansible-style inventory), and
//! the files describing what was started: a netorch inventory (or an overlay for an existing
//! inventory) and OpenSSH known_hosts lines.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_yaml::{Mapping, Value};

use crate::platform::Platform;

/// A device to start: its name (also its hostname) and platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSpec {
    pub name: String,
    pub platform: Platform,
}

/// `--count N --platform P [--name-prefix PFX]`; `mixed` cycles through every platform, each
/// numbered on its own (`ios-001`, `eos-001`, ..., `ios-002`).
pub fn from_count(count: usize, platform: &str, prefix: Option<&str>) -> Result<Vec<DeviceSpec>> {
    let platforms: Vec<Platform> = if platform == "mixed" {
        Platform::ALL.to_vec()
    } else {
        match Platform::parse(platform) {
            Some(p) => vec![p],
            None => bail!(
                "unknown platform {platform:?}; expected cisco_ios, arista_eos, juniper_junos, \
                 cisco_nxos, cisco_iosxr or mixed"
            ),
        }
    };
    let width = count.to_string().len().max(3);
    let mut per_platform: HashMap<Platform, usize> = HashMap::new();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let p = platforms[i % platforms.len()];
        let n = per_platform.entry(p).or_insert(0);
        *n += 1;
        let pfx = match prefix {
            Some(x) if platforms.len() == 1 => x.to_string(),
            Some(x) => format!("{x}{}", p.default_prefix()),
            None => p.default_prefix().to_string(),
        };
        out.push(DeviceSpec {
            name: format!("{pfx}{:0width$}", n),
            platform: p,
        });
    }
    Ok(out)
}

fn platform_of(vars: Option<&Value>) -> Option<Option<Platform>> {
    let vars = vars?.as_mapping()?;
    let raw = vars
        .get("platform")
        .or_else(|| vars.get("ansible_network_os"))?
        .as_str()?;
    Some(Platform::parse(raw))
}

/// Devices of an Ansible/netorch YAML inventory: every host whose platform (its own
/// `platform` / `ansible_network_os`, else the nearest group's) is a device platform.
pub fn from_inventory(path: &Path) -> Result<Vec<DeviceSpec>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read inventory {}", path.display()))?;
    let root: Value = serde_yaml::from_str(&text)
        .with_context(|| format!("{}: not valid YAML", path.display()))?;
    let Some(map) = root.as_mapping() else {
        bail!(
            "{}: expected a mapping of groups (all: ...)",
            path.display()
        );
    };
    let mut order: Vec<String> = Vec::new();
    let mut found: HashMap<String, Option<Platform>> = HashMap::new();
    for (name, group) in map {
        let _ = name;
        walk_group(group, None, &mut order, &mut found);
    }
    Ok(order
        .into_iter()
        .filter_map(|h| {
            let p = found.get(&h).copied().flatten()?;
            Some(DeviceSpec {
                name: h,
                platform: p,
            })
        })
        .collect())
}

fn walk_group(
    group: &Value,
    inherited: Option<Option<Platform>>,
    order: &mut Vec<String>,
    found: &mut HashMap<String, Option<Platform>>,
) {
    let Some(g) = group.as_mapping() else {
        return;
    };
    let here = platform_of(g.get("vars")).or(inherited);
    if let Some(hosts) = g.get("hosts").and_then(Value::as_mapping) {
        for (h, vars) in hosts {
            let Some(h) = h
                .as_str()
                .map(str::to_string)
                .or_else(|| h.as_i64().map(|n| n.to_string()))
            else {
                continue;
            };
            let p = platform_of(Some(vars)).or(here).flatten();
            match found.get(&h) {
                None => {
                    order.push(h.clone());
                    found.insert(h, p);
                }
                Some(None) if p.is_some() => {
                    found.insert(h, p);
                }
                _ => {}
            }
        }
    }
    if let Some(children) = g.get("children").and_then(Value::as_mapping) {
        for (_, child) in children {
            walk_group(child, here, order, found);
        }
    }
}

/// What the sim started, for the output files.
pub struct Started<'a> {
    pub name: &'a str,
    pub platform: Platform,
    pub addr: SocketAddr,
    pub public_key: String,
    /// The telnet port (`--telnet`): the inventory then connects over telnet.
    pub telnet_port: Option<u16>,
    /// The HTTPS API's port (`--api`).
    pub api_port: Option<u16>,
}

/// `host`/`port` (and `connection: telnet` when the device serves telnet).
fn reach(h: &mut Mapping, d: &Started<'_>) {
    h.insert(s("host"), s(&d.addr.ip().to_string()));
    match d.telnet_port {
        Some(p) => {
            h.insert(s("port"), Value::Number(p.into()));
            h.insert(s("connection"), s("telnet"));
        }
        None => {
            h.insert(s("port"), Value::Number(d.addr.port().into()));
        }
    }
}

/// With `--api`: the API port, CA file and (EOS, NX-OS) connection kind of a host.
fn api_vars(h: &mut Mapping, d: &Started<'_>, ca: Option<&Path>) {
    let (Some(port), Some(ca)) = (d.api_port, ca) else {
        return;
    };
    match d.platform {
        Platform::AristaEos => {
            h.insert(s("connection"), s("eapi"));
        }
        Platform::CiscoNxos => {
            h.insert(s("connection"), s("nxapi"));
        }
        _ => {}
    }
    h.insert(s("api_port"), Value::Number(port.into()));
    h.insert(s("ca_file"), s(&ca.display().to_string()));
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// The netorch inventory of a `--count` lab.
pub fn inventory_yaml(
    started: &[Started<'_>],
    user: &str,
    password: &str,
    enable_secret: &str,
    known_hosts: Option<&Path>,
    api_ca: Option<&Path>,
) -> Result<String> {
    let mut vars = Mapping::new();
    vars.insert(s("user"), s(user));
    vars.insert(s("password"), s(password));
    vars.insert(s("enable_secret"), s(enable_secret));
    if let Some(k) = known_hosts {
        vars.insert(s("known_hosts_file"), s(&k.display().to_string()));
    }
    let mut children = Mapping::new();
    for p in Platform::ALL {
        let mut hosts = Mapping::new();
        for d in started.iter().filter(|d| d.platform == p) {
            let mut h = Mapping::new();
            reach(&mut h, d);
            h.insert(s("platform"), s(p.name()));
            api_vars(&mut h, d, api_ca);
            hosts.insert(s(d.name), Value::Mapping(h));
        }
        if !hosts.is_empty() {
            let mut g = Mapping::new();
            g.insert(s("hosts"), Value::Mapping(hosts));
            children.insert(s(p.name()), Value::Mapping(g));
        }
    }
    let mut all = Mapping::new();
    all.insert(s("vars"), Value::Mapping(vars));
    all.insert(s("children"), Value::Mapping(children));
    let mut root = Mapping::new();
    root.insert(s("all"), Value::Mapping(all));
    Ok(serde_yaml::to_string(&Value::Mapping(root))?)
}

/// The overlay for `--inventory` mode: only where each host is reachable now.
pub fn overlay_yaml(
    started: &[Started<'_>],
    known_hosts: Option<&Path>,
    api_ca: Option<&Path>,
) -> Result<String> {
    let mut hosts = Mapping::new();
    for d in started {
        let mut h = Mapping::new();
        reach(&mut h, d);
        if let Some(k) = known_hosts {
            h.insert(s("known_hosts_file"), s(&k.display().to_string()));
        }
        api_vars(&mut h, d, api_ca);
        hosts.insert(s(d.name), Value::Mapping(h));
    }
    let mut all = Mapping::new();
    all.insert(s("hosts"), Value::Mapping(hosts));
    let mut root = Mapping::new();
    root.insert(s("all"), Value::Mapping(all));
    Ok(serde_yaml::to_string(&Value::Mapping(root))?)
}

/// OpenSSH known_hosts lines, `[127.0.0.1]:PORT ssh-ed25519 AAAA...`.
pub fn known_hosts(started: &[Started<'_>]) -> String {
    let mut out = String::new();
    for d in started {
        let host = match d.addr {
            SocketAddr::V4(a) if a.port() == 22 => a.ip().to_string(),
            SocketAddr::V4(a) => format!("[{}]:{}", a.ip(), a.port()),
            SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
        };
        out.push_str(&format!("{host} {}\n", d.public_key));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_mode_names_devices_per_platform() {
        let d = from_count(3, "cisco_ios", None).unwrap();
        let names: Vec<_> = d.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["ios-001", "ios-002", "ios-003"]);
        let d = from_count(6, "mixed", None).unwrap();
        assert_eq!(d[0].name, "ios-001");
        assert_eq!(d[2].name, "junos-001");
        assert_eq!(d[5].name, "ios-002");
        assert_eq!(d[5].platform, Platform::CiscoIos);
        let d = from_count(2, "arista_eos", Some("leaf")).unwrap();
        assert_eq!(d[1].name, "leaf002");
        assert!(from_count(1, "bogus", None).is_err());
    }

    #[test]
    fn inventory_mode_inherits_platforms_and_skips_linux() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("inv.yaml");
        std::fs::write(
            &p,
            "all:
  children:
    core:
      vars: {ansible_network_os: cisco.ios.ios}
      hosts:
        r1:
        r2: {platform: juniper_junos}
      children:
        edge:
          hosts:
            e1: {}
    servers:
      hosts:
        web1: {ansible_host: 10.0.0.5}
    leafs:
      vars: {platform: eos}
      hosts:
        leaf1:
",
        )
        .unwrap();
        let d = from_inventory(&p).unwrap();
        let got: Vec<_> = d.iter().map(|d| (d.name.as_str(), d.platform)).collect();
        assert_eq!(
            got,
            [
                ("r1", Platform::CiscoIos),
                ("r2", Platform::JuniperJunos),
                ("e1", Platform::CiscoIos),
                ("leaf1", Platform::AristaEos),
            ]
        );
    }

    #[test]
    fn output_files_have_the_documented_shape() {
        let started = [Started {
            name: "ios-001",
            platform: Platform::CiscoIos,
            addr: "127.0.0.1:40001".parse().unwrap(),
            public_key: "ssh-ed25519 AAAAC3Nza".into(),
            telnet_port: None,
            api_port: None,
        }];
        let inv = inventory_yaml(&started, "admin", "admin", "en4ble", None, None).unwrap();
        let v: Value = serde_yaml::from_str(&inv).unwrap();
        assert_eq!(v["all"]["vars"]["enable_secret"], s("en4ble"));
        assert_eq!(
            v["all"]["children"]["cisco_ios"]["hosts"]["ios-001"]["port"],
            Value::Number(40001.into())
        );
        let ov = overlay_yaml(&started, Some(Path::new("/tmp/kh")), None).unwrap();
        let v: Value = serde_yaml::from_str(&ov).unwrap();
        assert_eq!(
            v["all"]["hosts"]["ios-001"]["known_hosts_file"],
            s("/tmp/kh")
        );
        assert_eq!(
            known_hosts(&started),
            "[127.0.0.1]:40001 ssh-ed25519 AAAAC3Nza\n"
        );
    }
}
