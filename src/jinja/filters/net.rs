//! The ansible.utils ipaddr family, with netaddr's answers: a value that is not an address
//! gives `False` (templates use `x | ipaddr` as a test), a query that does not apply gives
//! none, an unknown query is an error.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use minijinja::value::{Value, ValueKind};
use minijinja::Error;

use super::invalid;

/// An address with a prefix length, as netaddr's IPNetwork: the address as given, not
/// truncated to the network.
#[derive(Clone, Copy, PartialEq)]
struct Net {
    ip: u128,
    prefix: u32,
    v6: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Address,
    Network,
}

impl Net {
    fn bits(&self) -> u32 {
        if self.v6 {
            128
        } else {
            32
        }
    }
    fn host_bits(&self) -> u32 {
        self.bits() - self.prefix
    }
    fn size(&self) -> u128 {
        if self.host_bits() >= 128 {
            u128::MAX
        } else {
            1u128 << self.host_bits()
        }
    }
    fn hostmask(&self) -> u128 {
        if self.host_bits() >= 128 {
            u128::MAX
        } else {
            (1u128 << self.host_bits()) - 1
        }
    }
    fn full(&self) -> u128 {
        if self.v6 {
            u128::MAX
        } else {
            u32::MAX as u128
        }
    }
    fn netmask(&self) -> u128 {
        self.full() & !self.hostmask()
    }
    fn network(&self) -> u128 {
        self.ip & self.netmask()
    }
    fn last(&self) -> u128 {
        self.network() | self.hostmask()
    }
    /// netaddr has no broadcast for /31 and /32 (/127, /128).
    fn broadcast(&self) -> Option<u128> {
        (self.host_bits() > 1).then(|| self.last())
    }
    fn addr(&self, n: u128) -> String {
        if self.v6 {
            Ipv6Addr::from(n).to_string()
        } else {
            Ipv4Addr::from(n as u32).to_string()
        }
    }
    fn ip_str(&self) -> String {
        self.addr(self.ip)
    }
    fn cidr(&self) -> String {
        format!("{}/{}", self.addr(self.network()), self.prefix)
    }
    fn with_prefix(&self) -> String {
        format!("{}/{}", self.ip_str(), self.prefix)
    }
    fn contains(&self, other: &Net) -> bool {
        self.v6 == other.v6 && other.network() >= self.network() && other.last() <= self.last()
    }
}

fn parse_addr(s: &str) -> Option<(u128, bool)> {
    match s.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => Some((u32::from(a) as u128, false)),
        IpAddr::V6(a) => Some((u128::from(a), true)),
    }
}

/// netaddr's IPNetwork: `a.b.c.d`, `a.b.c.d/len`, `a.b.c.d/netmask`, IPv6, and netorch's
/// IOS-style `a.b.c.d netmask`.
fn parse(s: &str) -> Option<(Net, Kind)> {
    let s = s.trim();
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => match s.split_once(' ') {
            Some((a, m)) if !a.contains(':') => (a, Some(m.trim())),
            _ => (s, None),
        },
    };
    let (ip, v6) = parse_addr(a)?;
    let bits = if v6 { 128 } else { 32 };
    let Some(p) = p else {
        return Some((
            Net {
                ip,
                prefix: bits,
                v6,
            },
            Kind::Address,
        ));
    };
    let prefix = match p.parse::<u32>() {
        Ok(n) if n <= bits => n,
        Ok(_) => return None,
        Err(_) if !v6 => {
            let (m, _) = parse_addr(p).filter(|(_, m6)| !m6)?;
            let m = m as u32;
            if m.leading_ones() + m.trailing_zeros() == 32 {
                m.leading_ones()
            } else if m.leading_zeros() + m.trailing_ones() == 32 {
                m.leading_zeros()
            } else {
                return None;
            }
        }
        Err(_) => return None,
    };
    Some((Net { ip, prefix, v6 }, Kind::Network))
}

/// A value as ipaddr reads it: a string, or an integer (an IPv4 address, else IPv6).
fn read(v: &Value, version: Option<u8>) -> Option<(Net, Kind)> {
    if let Some(s) = v.as_str() {
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
            return from_int(s.parse().ok()?, version);
        }
        return parse(s);
    }
    if v.kind() == ValueKind::Number && v.is_integer() {
        return from_int(u128::try_from(v.clone()).ok()?, version);
    }
    None
}

fn from_int(n: u128, version: Option<u8>) -> Option<(Net, Kind)> {
    let v6 = version == Some(6) || n > u32::MAX as u128;
    let prefix = if v6 { 128 } else { 32 };
    Some((Net { ip: n, prefix, v6 }, Kind::Address))
}

fn none() -> Value {
    Value::from(())
}

fn is_global(n: &Net) -> bool {
    const V4: &[&str] = &[
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "255.255.255.255/32",
    ];
    const V4_OK: &[&str] = &["192.0.0.9/32", "192.0.0.10/32"];
    const V6: &[&str] = &[
        "::1/128",
        "::/128",
        "::ffff:0:0/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "2002::/16",
        "fc00::/7",
        "fe80::/10",
    ];
    const V6_OK: &[&str] = &[
        "2001:1::1/128",
        "2001:1::2/128",
        "2001:3::/32",
        "2001:4:112::/48",
        "2001:20::/28",
        "2001:30::/28",
    ];
    let host = Net {
        prefix: n.bits(),
        ..*n
    };
    let within = |list: &[&str]| {
        list.iter()
            .filter_map(|s| parse(s))
            .any(|(net, _)| net.contains(&host))
    };
    let (bad, ok) = if n.v6 { (V6, V6_OK) } else { (V4, V4_OK) };
    within(ok) || !within(bad)
}

fn in_net(n: &Net, cidr: &str) -> bool {
    let host = Net {
        prefix: n.bits(),
        ..*n
    };
    parse(cidr).is_some_and(|(net, _)| net.contains(&host))
}

fn is_multicast(n: &Net) -> bool {
    in_net(n, if n.v6 { "ff00::/8" } else { "224.0.0.0/4" })
}

fn first_last(n: &Net) -> Option<(u128, u128)> {
    match n.size() {
        2 => Some((n.network(), n.last())),
        s if s > 1 => Some((n.network() + 1, n.last() - 1)),
        _ => None,
    }
}

fn not_network(alias: &str) -> Error {
    invalid(format!("{alias}: Not a network address"))
}

/// One value through one query (netaddr's `ipaddr(value, query, version)`).
/// A value that is no address gives `False`, as in Ansible: templates rely on it both as
/// a test (`x | ipaddr`) and in `ternary` branches that Jinja evaluates for every value.
fn query_one(value: &Value, query: &str, version: Option<u8>, alias: &str) -> Result<Value, Error> {
    let Some((v, vtype)) = read(value, version) else {
        return Ok(Value::from(false));
    };
    if version.is_some_and(|ver| (ver == 6) != v.v6) {
        return Ok(Value::from(false));
    }
    let s = Value::from;
    let size = v.size();
    let ip_ne_net = v.ip != v.network();
    let out = match query {
        "" => match vtype {
            Kind::Address => s(v.ip_str()),
            Kind::Network => s(v.with_prefix()),
        },
        "address" | "ip" => {
            if size == 1 || ip_ne_net || v.broadcast().is_none() || v.v6 {
                s(v.ip_str())
            } else {
                none()
            }
        }
        "address/prefix" | "host/prefix" | "gateway" | "gw" | "hostnet" | "router" => {
            if size > 2 && (v.ip == v.network() || Some(v.ip) == v.broadcast()) {
                Value::from(false)
            } else {
                s(v.with_prefix())
            }
        }
        "bool" => Value::from(true),
        "broadcast" => match v.broadcast() {
            Some(b) if size > 2 => s(v.addr(b)),
            _ => none(),
        },
        "cidr" => s(v.with_prefix()),
        "first_usable" | "last_usable" | "range_usable" | "next_usable" | "previous_usable"
        | "peer"
            if vtype == Kind::Address =>
        {
            return Err(not_network(alias))
        }
        "first_usable" => match first_last(&v) {
            Some((f, _)) => s(v.addr(f)),
            None => none(),
        },
        "last_usable" => match first_last(&v) {
            Some((_, l)) => s(v.addr(l)),
            None => none(),
        },
        "range_usable" => match first_last(&v) {
            Some((f, l)) => s(format!("{}-{}", v.addr(f), v.addr(l))),
            None => none(),
        },
        "next_usable" => match first_last(&v) {
            Some((f, l)) if (f..=l).contains(&(v.ip + 1)) => s(v.addr(v.ip + 1)),
            _ => none(),
        },
        "previous_usable" => match first_last(&v) {
            Some((f, l)) if v.ip > 0 && (f..=l).contains(&(v.ip - 1)) => s(v.addr(v.ip - 1)),
            _ => none(),
        },
        "peer" => match size {
            2 => s(v.addr(v.ip ^ 1)),
            4 if v.ip % 4 == 0 => return Err(invalid("Network address of /30 has no peer")),
            4 if v.ip % 4 == 3 => return Err(invalid("Broadcast address of /30 has no peer")),
            4 => s(v.addr(v.ip ^ 3)),
            _ => return Err(invalid("Not a point-to-point network")),
        },
        "host" => {
            if size == 1 || ip_ne_net || v.broadcast().is_none() {
                s(v.with_prefix())
            } else {
                none()
            }
        }
        "hostmask" | "wildcard" => s(v.addr(v.hostmask())),
        "int" => match vtype {
            Kind::Address => Value::from(v.ip),
            Kind::Network => s(format!("{}/{}", v.ip, v.prefix)),
        },
        "ip/prefix" => {
            if size == 2 || (size > 1 && ip_ne_net) {
                s(v.with_prefix())
            } else {
                none()
            }
        }
        "ip_netmask" => {
            if size == 2 || (size > 1 && ip_ne_net) {
                s(format!("{} {}", v.ip_str(), v.addr(v.netmask())))
            } else {
                none()
            }
        }
        "ipv4" | "v4" => {
            if v.v6 {
                // netaddr's ipv4(): only IPv4-compatible or -mapped addresses convert.
                let mapped = v.ip >> 32 == 0xffff || v.ip >> 32 == 0;
                if mapped && v.prefix >= 96 {
                    let n = Net {
                        ip: v.ip & 0xffff_ffff,
                        prefix: v.prefix - 96,
                        v6: false,
                    };
                    s(n.with_prefix())
                } else {
                    Value::from(false)
                }
            } else {
                value.clone()
            }
        }
        "ipv6" | "v6" => {
            if v.v6 {
                value.clone()
            } else {
                let n = Net {
                    ip: v.ip | (0xffff << 32),
                    prefix: v.prefix + 96,
                    v6: true,
                };
                s(n.with_prefix())
            }
        }
        "link-local" => {
            if in_net(&v, if v.v6 { "fe80::/10" } else { "169.254.0.0/16" }) {
                value.clone()
            } else {
                none()
            }
        }
        "lo" | "loopback" => {
            if in_net(&v, if v.v6 { "::1/128" } else { "127.0.0.0/8" }) {
                value.clone()
            } else {
                none()
            }
        }
        "multicast" => {
            if is_multicast(&v) {
                value.clone()
            } else {
                none()
            }
        }
        "unicast" => {
            if is_multicast(&v) {
                none()
            } else {
                value.clone()
            }
        }
        "net" => {
            if size > 1 && !ip_ne_net {
                s(v.cidr())
            } else {
                none()
            }
        }
        "netmask" => s(v.addr(v.netmask())),
        "network" | "network_id" => s(v.addr(v.network())),
        "network/prefix" | "subnet" => s(v.cidr()),
        "network_netmask" => s(format!("{} {}", v.addr(v.network()), v.addr(v.netmask()))),
        "network_wildcard" => s(format!("{} {}", v.addr(v.network()), v.addr(v.hostmask()))),
        "prefix" => Value::from(v.prefix),
        "private" => {
            if is_global(&v) {
                none()
            } else {
                value.clone()
            }
        }
        "public" => {
            let ip = v.ip & v.full();
            let is_mask = |m: u128| {
                let m = if v.v6 { m } else { m << 96 };
                m.leading_ones() + m.trailing_zeros() == 128
            };
            let is_hostmask = |m: u128| {
                let width = v.bits();
                m.trailing_ones() + m.leading_zeros() - (128 - width) == width
            };
            let loopback = in_net(&v, if v.v6 { "::1/128" } else { "127.0.0.0/8" });
            if !is_multicast(&v) && is_global(&v) && !loopback && !is_mask(ip) && !is_hostmask(ip) {
                value.clone()
            } else {
                none()
            }
        }
        "size" => Value::from(size),
        "size_usable" => Value::from(match size {
            1 => 0,
            2 => 2,
            n => n - 2,
        }),
        "type" => Value::from(if size == 1 || ip_ne_net {
            "address"
        } else {
            "network"
        }),
        "version" => Value::from(if v.v6 { 6 } else { 4 }),
        "wrap" => {
            if v.v6 {
                match vtype {
                    Kind::Address => s(format!("[{}]", v.ip_str())),
                    Kind::Network => s(format!("[{}]/{}", v.ip_str(), v.prefix)),
                }
            } else {
                value.clone()
            }
        }
        q if q.parse::<i128>().is_ok() => {
            let n: i128 = q.parse().unwrap_or_default();
            if size == 1 {
                match vtype {
                    Kind::Address => s(v.ip_str()),
                    Kind::Network => s(v.with_prefix()),
                }
            } else {
                match nth(&v, n) {
                    Some(a) => s(format!("{}/{}", v.addr(a), v.prefix)),
                    None => Value::from(false),
                }
            }
        }
        q => match parse(q) {
            // A network as the query: the value if it lies inside it.
            Some((net, _)) => {
                if net.contains(&v) {
                    value.clone()
                } else {
                    none()
                }
            }
            None => {
                return Err(invalid(format!(
                    "{alias}: unknown filter type: {q} (netorch knows the ansible.utils \
                     queries: address, network, netmask, prefix, broadcast, host, net, \
                     subnet, cidr, host/prefix, network/prefix, int, version, private, \
                     public, size, first_usable, last_usable, range_usable, wrap, ...)"
                )))
            }
        },
    };
    Ok(out)
}

/// Host `n` of the network (negative: from the end), as netaddr's `IPNetwork[n]`.
fn nth(v: &Net, n: i128) -> Option<u128> {
    let size = v.size();
    let off = if n < 0 {
        size.checked_sub(n.unsigned_abs())?
    } else {
        n as u128
    };
    (off < size).then(|| v.network() + off)
}

fn query_arg(q: Option<Value>) -> String {
    match q {
        None => String::new(),
        Some(q) if q.is_none() => String::new(),
        Some(q) => q
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| q.to_string()),
    }
}

fn filter_family(
    value: Value,
    query: Option<Value>,
    version: Option<u8>,
    alias: &str,
) -> Result<Value, Error> {
    let q = query_arg(query);
    match value.kind() {
        ValueKind::Seq | ValueKind::Iterable => {
            let mut out = Vec::new();
            for item in value.try_iter()? {
                let r = query_one(&item, &q, version, alias)?;
                if r.is_true() {
                    out.push(r);
                }
            }
            Ok(Value::from(out))
        }
        ValueKind::String | ValueKind::Number => query_one(&value, &q, version, alias),
        ValueKind::Undefined => Err(Error::from(minijinja::ErrorKind::UndefinedError)),
        ValueKind::Bool | ValueKind::None => Ok(Value::from(false)),
        other => Err(invalid(format!(
            "Unrecognized type <{other}> for {alias} filter <value>"
        ))),
    }
}

pub fn ipaddr(value: Value, query: Option<Value>) -> Result<Value, Error> {
    filter_family(value, query, None, "ipaddr")
}

pub fn ipv4(value: Value, query: Option<Value>) -> Result<Value, Error> {
    filter_family(value, query, Some(4), "ipv4")
}

pub fn ipv6(value: Value, query: Option<Value>) -> Result<Value, Error> {
    filter_family(value, query, Some(6), "ipv6")
}

pub fn ipwrap(value: Value, query: Option<Value>) -> Result<Value, Error> {
    let q = query_arg(query);
    let wrap = |item: &Value| -> Value {
        match query_one(item, &q, None, "ipwrap") {
            Ok(r) if r.is_true() => query_one(&r, "wrap", None, "ipwrap").unwrap_or(r),
            _ => item.clone(),
        }
    };
    Ok(match value.kind() {
        ValueKind::Seq => Value::from(value.try_iter()?.map(|i| wrap(&i)).collect::<Vec<_>>()),
        _ => wrap(&value),
    })
}

pub fn ipmath(value: String, amount: Value) -> Result<String, Error> {
    let bad = || {
        invalid(format!(
            "ipmath: you must pass a valid IP address; {value} is invalid"
        ))
    };
    let (v, _) = parse(&value).ok_or_else(bad)?;
    let n = i128::try_from(amount.clone()).map_err(|_| {
        invalid(format!(
            "ipmath: you must pass an integer for arithmetic; {amount} is not a valid integer"
        ))
    })?;
    let r = (v.ip as i128)
        .checked_add(n)
        .filter(|r| *r >= 0 && (*r as u128) <= v.full())
        .ok_or_else(|| {
            invalid(format!(
                "ipmath: {value} + {n} is outside the address space"
            ))
        })?;
    Ok(v.addr(r as u128))
}

/// The value's network: an address as its /32 (/128).
fn normalized(value: &str) -> Option<Net> {
    let (v, _) = parse(value)?;
    Some(v)
}

pub fn nthhost(value: String, n: Value) -> Result<Value, Error> {
    let Some(v) = normalized(&value) else {
        return Ok(Value::from(false));
    };
    let Ok(n) = i128::try_from(n) else {
        return Ok(Value::from(false));
    };
    Ok(match nth(&v, n) {
        Some(a) => Value::from(v.addr(a)),
        None => Value::from(false),
    })
}

pub fn ipsubnet(value: String, query: Option<Value>, index: Option<Value>) -> Result<Value, Error> {
    let Some((v, _)) = parse(&value) else {
        return Ok(Value::from(false));
    };
    let vtype_addr = v.size() == 1 || v.ip != v.network();
    let value_net = Net {
        ip: v.network(),
        ..v
    };
    let q = query_arg(query);
    if q.is_empty() {
        return Ok(Value::from(value_net.cidr()));
    }
    let total = v.bits();
    if let Ok(query) = q.parse::<u32>() {
        if query > total {
            return Ok(Value::from(false));
        }
        let supernet = |idx: i128| -> Option<String> {
            // netaddr's supernet(query)[idx]: the supernets of the address from /query up.
            let sups: Vec<String> = (query..v.prefix)
                .map(|p| {
                    Net {
                        ip: v.ip,
                        prefix: p,
                        v6: v.v6,
                    }
                    .cidr()
                })
                .collect();
            let i = if idx < 0 {
                sups.len() as i128 + idx
            } else {
                idx
            };
            usize::try_from(i).ok().and_then(|i| sups.get(i).cloned())
        };
        let Some(index) = index.filter(|i| !i.is_none()) else {
            if vtype_addr && v.size() == 1 {
                return Ok(supernet(0).map(Value::from).unwrap_or(Value::from(false)));
            }
            if query < v.prefix {
                return Err(invalid(format!(
                    "Requested subnet size of {query} is invalid"
                )));
            }
            return Ok(Value::from((1u128 << (query - v.prefix)).to_string()));
        };
        let index = i128::try_from(index)?;
        if vtype_addr && v.size() == 1 {
            return Ok(supernet(index)
                .map(Value::from)
                .unwrap_or(Value::from(false)));
        }
        if query < v.prefix {
            return Ok(Value::from(false));
        }
        let subnets = 1i128 << (query - v.prefix).min(126);
        let index = if index < 0 { index + subnets } else { index };
        if index < 0 || index >= subnets {
            return Ok(Value::from(false));
        }
        let ip = value_net.ip + ((index as u128) << (total - query));
        return Ok(Value::from(
            Net {
                ip,
                prefix: query,
                v6: v.v6,
            }
            .cidr(),
        ));
    }
    let Some((outer, _)) = parse(&q) else {
        return Err(invalid(format!(
            "You must pass a valid subnet or IP address; {q} is invalid"
        )));
    };
    if outer.contains(&value_net) && outer.prefix <= value_net.prefix {
        let idx = (value_net.network() - outer.network()) >> (total - value_net.prefix);
        return Ok(Value::from((idx + 1).to_string()));
    }
    Err(invalid(format!(
        "{} is not in the subnet {}",
        value_net.cidr(),
        outer.cidr()
    )))
}

pub fn network_in_network(value: String, test: String) -> Result<bool, Error> {
    let (Some(v), Some(w)) = (normalized(&value), normalized(&test)) else {
        return Ok(false);
    };
    Ok(v.v6 == w.v6 && w.network() >= v.network() && w.last() <= v.last())
}

pub fn network_in_usable(value: String, test: String) -> Result<bool, Error> {
    let (Some(v), Some(w)) = (normalized(&value), normalized(&test)) else {
        return Ok(false);
    };
    let Some((f, l)) = first_last(&Net {
        ip: v.network(),
        ..v
    }) else {
        return Ok(v.contains(&w));
    };
    Ok(v.v6 == w.v6 && w.network() >= f && w.last() <= l)
}

/// netaddr's `cidr_merge` (`merge`: the fewest networks covering the list) and `span`.
pub fn cidr_merge(value: Value, action: Option<String>) -> Result<Value, Error> {
    let mut nets = Vec::new();
    for item in value.try_iter()? {
        let s = item.to_string();
        let (n, _) =
            parse(&s).ok_or_else(|| invalid(format!("cidr_merge: `{s}` is not a network")))?;
        nets.push(Net {
            ip: n.network(),
            ..n
        });
    }
    match action.as_deref().unwrap_or("merge") {
        "merge" => {
            let mut out = Vec::new();
            for v6 in [false, true] {
                let ipnets: Vec<ipnet::IpNet> = nets
                    .iter()
                    .filter(|n| n.v6 == v6)
                    .filter_map(|n| n.cidr().parse().ok())
                    .collect();
                out.extend(
                    ipnet::IpNet::aggregate(&ipnets)
                        .iter()
                        .map(|n| n.to_string()),
                );
            }
            Ok(Value::from(out))
        }
        "span" => match nets.as_slice() {
            [] => Ok(none()),
            [one] => Ok(Value::from(one.cidr())),
            all => {
                let lo = all.iter().map(|n| n.network()).min().unwrap_or(0);
                let hi = all.iter().map(|n| n.last()).max().unwrap_or(0);
                let v6 = all[0].v6;
                let bits = if v6 { 128 } else { 32 };
                let common = ((lo ^ hi) << (128 - bits)).leading_zeros().min(bits);
                Ok(Value::from(
                    Net {
                        ip: lo,
                        prefix: common,
                        v6,
                    }
                    .cidr(),
                ))
            }
        },
        other => Err(invalid(format!("cidr_merge: invalid action '{other}'"))),
    }
}
