//! A NetBox 4.x REST API fake (`--netbox`), written from NetBox's documented API for
//! netorch's NetBox inventory tests and benchmark: devices, virtual machines, sites,
//! regions, platforms, tags and IP addresses, with `count`/`next`/`previous`/`results`
//! pagination (limit/offset, MAX_PAGE_SIZE 1000), the `fields=` parameter (NetBox 4.0
//! dynamic fields), the common filters, token auth (`Token` and `Bearer`), a latency per
//! request and fault injection.
//!
//! NetBox has no port field, so with simulated devices (`--count N --netbox`) each
//! device's SSH port is in its config context as `ansible_port` (an inventory with
//! `config_context: true` and `flatten_config_context: true` gets it as a host var).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;

/// NetBox's default MAX_PAGE_SIZE.
pub const MAX_PAGE_SIZE: usize = 1000;
/// NetBox's default PAGINATE_COUNT.
const DEFAULT_PAGE_SIZE: usize = 50;

const SITES: [(&str, &str); 3] = [("ams", "nl"), ("fra", "de"), ("lon", "uk")];
const REGIONS: [(u64, &str, Option<u64>); 4] = [
    (1, "eu", None),
    (2, "nl", Some(1)),
    (3, "de", Some(1)),
    (4, "uk", Some(1)),
];

/// One injected fault on the devices list: its page (1-based, by offset / limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub page: usize,
    pub kind: FaultKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// This status on every request for the page.
    Status(u16),
    /// This status on the first N requests for the page, then the page.
    StatusTimes(u16, u32),
    /// A body that is not JSON.
    BadJson,
}

impl Fault {
    /// `500@3` (page 3 always answers 500), `503x2@2` (the first two requests for page 2
    /// answer 503), `json@1` (page 1 is not JSON).
    pub fn parse(text: &str) -> Result<Fault, String> {
        let (kind, page) = text
            .split_once('@')
            .ok_or_else(|| format!("{text:?}: expected KIND@PAGE (500@3, 503x2@2, json@1)"))?;
        let page: usize = page
            .parse()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| format!("{text:?}: the page is a number from 1"))?;
        let kind = if kind == "json" {
            FaultKind::BadJson
        } else if let Some((status, times)) = kind.split_once('x') {
            let status = parse_status(status)?;
            let times = times
                .parse()
                .map_err(|_| format!("{text:?}: expected STATUSxN"))?;
            FaultKind::StatusTimes(status, times)
        } else {
            FaultKind::Status(parse_status(kind)?)
        };
        Ok(Fault { page, kind })
    }
}

fn parse_status(s: &str) -> Result<u16, String> {
    s.parse()
        .ok()
        .filter(|c| (400..600).contains(c))
        .ok_or_else(|| format!("{s:?}: expected an HTTP error status"))
}

/// A simulated device the fake lists with its address and SSH port.
pub struct SimDevice {
    pub name: String,
    pub platform: &'static str,
    pub addr: SocketAddr,
}

/// What the fake serves.
pub struct NetboxData {
    devices: Vec<Value>,
    vms: Vec<Value>,
    ips: Vec<Value>,
}

fn platform_slug(platform: &str) -> String {
    match platform {
        "cisco_iosxr" => "cisco-ios-xr".into(),
        "cisco_nxos" => "cisco-nxos".into(),
        other => other.replace('_', "-"),
    }
}

fn brief(id: u64, name: &str, slug: &str) -> Value {
    json!({"id": id, "display": name, "name": name, "slug": slug})
}

fn status(value: &str) -> Value {
    let mut label = value.to_string();
    if let Some(f) = label.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    json!({"value": value, "label": label})
}

impl NetboxData {
    /// `synthetic` devices named `nb-NNNNN` on documentation addresses, or the simulated
    /// devices (their address and port), plus `vms` virtual machines.
    pub fn build(sim: &[SimDevice], synthetic: usize, vms: usize) -> NetboxData {
        let mut devices = Vec::new();
        let mut ips = Vec::new();
        let n = if sim.is_empty() { synthetic } else { sim.len() };
        let mut platforms: HashMap<String, u64> = HashMap::new();
        for i in 0..n {
            let id = i as u64 + 1;
            let (name, platform, address, port) = match sim.get(i) {
                Some(d) => (
                    d.name.clone(),
                    d.platform.to_string(),
                    format!("{}/32", d.addr.ip()),
                    Some(d.addr.port()),
                ),
                None => (
                    format!("nb-{i:05}"),
                    ["cisco_ios", "arista_eos", "juniper_junos"][i % 3].to_string(),
                    format!("10.{}.{}.{}/24", (i >> 16) & 255, (i >> 8) & 255, i & 255),
                    None,
                ),
            };
            let slug = platform_slug(&platform);
            let next_pid = platforms.len() as u64 + 1;
            let pid = *platforms.entry(slug.clone()).or_insert(next_pid);
            let (site, _) = SITES[i % SITES.len()];
            let role = if i % 3 == 0 { "core" } else { "access" };
            let mut tags =
                vec![json!({"id": 1, "name": "golden", "slug": "golden", "color": "00ff00"})];
            if i % 2 == 1 {
                tags.push(json!({"id": 2, "name": "PCI", "slug": "pci", "color": "ff0000"}));
            }
            let mut context = Map::new();
            context.insert("ntp_servers".into(), json!(["192.0.2.1", "192.0.2.2"]));
            context.insert("site_code".into(), json!(site.to_uppercase()));
            if let Some(p) = port {
                context.insert("ansible_port".into(), json!(p));
            }
            let ip_id = id;
            ips.push(json!({
                "id": ip_id, "address": address, "family": {"value": 4, "label": "IPv4"},
                "dns_name": format!("{name}.example.net"), "status": status("active"),
            }));
            let ip = json!({"id": ip_id, "display": address, "family": 4, "address": address});
            let vc = if i < 2 && n >= 2 {
                json!({"id": 1, "display": "stack-1", "name": "stack-1", "master": {"id": 1}})
            } else {
                Value::Null
            };
            devices.push(json!({
                "id": id,
                "url": format!("/api/dcim/devices/{id}/"),
                "display": name,
                "name": name,
                "device_type": {
                    "id": 1, "display": "Generic 48", "model": "Generic 48", "slug": "generic-48",
                    "manufacturer": brief(1, "Acme", "acme"),
                },
                "role": brief(if role == "core" { 1 } else { 2 }, role, role),
                "tenant": brief(1, "NetOps", "netops"),
                "platform": brief(pid, &platform, &slug),
                "serial": format!("SN{id:06}"),
                "asset_tag": null,
                "site": brief((i % SITES.len()) as u64 + 1, site, site),
                "location": null,
                "rack": null,
                "status": status(if i % 5 == 4 { "planned" } else { "active" }),
                "primary_ip": ip,
                "primary_ip4": ip,
                "primary_ip6": null,
                "oob_ip": {"id": 100_000 + id, "address": format!("192.0.2.{}/24", i % 250 + 1)},
                "virtual_chassis": vc,
                "config_context": Value::Object(context),
                "local_context_data": null,
                "tags": tags,
                "custom_fields": {"owner": "team-a", "rack_unit": id},
                "last_updated": "2024-05-01T10:00:00.000000Z",
            }));
        }
        let vms = (0..vms)
            .map(|i| {
                let id = i as u64 + 1;
                json!({
                    "id": id,
                    "display": format!("vm-{i:03}"),
                    "name": format!("vm-{i:03}"),
                    "status": status("active"),
                    "site": brief(1, "ams", "ams"),
                    "cluster": {"id": 1, "display": "k8s-1", "name": "k8s-1"},
                    "role": brief(3, "server", "server"),
                    "tenant": brief(1, "NetOps", "netops"),
                    "platform": brief(99, "linux", "linux"),
                    "primary_ip": {"id": 200_000 + id, "address": format!("198.51.100.{}/24", i % 250 + 1)},
                    "primary_ip4": null,
                    "primary_ip6": null,
                    "config_context": {},
                    "local_context_data": null,
                    "tags": [],
                    "custom_fields": {},
                })
            })
            .collect();
        NetboxData { devices, vms, ips }
    }
}

/// The fake's settings and state.
pub struct Netbox {
    data: NetboxData,
    /// The largest page served (NetBox's MAX_PAGE_SIZE setting).
    pub max_page_size: usize,
    token: String,
    latency: Duration,
    faults: Vec<Fault>,
    /// Requests seen per faulty page (for `503x2@2`).
    hits: Vec<AtomicU32>,
}

impl Netbox {
    pub fn new(data: NetboxData, token: String, latency: Duration, faults: Vec<Fault>) -> Self {
        let hits = faults.iter().map(|_| AtomicU32::new(0)).collect();
        Netbox {
            data,
            max_page_size: MAX_PAGE_SIZE,
            token,
            latency,
            faults,
            hits,
        }
    }
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, body: String) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// Serve plain HTTP on the listener until the process ends.
pub fn spawn(listener: TcpListener, netbox: Arc<Netbox>) {
    tokio::spawn(async move {
        loop {
            let (sock, _) = match listener.accept().await {
                Ok(x) => x,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = sock.set_nodelay(true);
            let nb = netbox.clone();
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(sock);
                let service = hyper::service::service_fn(move |req| {
                    let nb = nb.clone();
                    async move { Ok::<_, Infallible>(nb.handle(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
}

/// `a=1&b=2` decoded into pairs (repeated keys kept).
fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The slug (or name) of a nested object field.
fn slug_of(obj: &Value, field: &str) -> Option<String> {
    let v = obj.get(field)?;
    v.get("slug")
        .or_else(|| v.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Whether `obj` passes filter `key=values` (values of one key: any of them; tags: all).
fn passes(obj: &Value, key: &str, values: &[&str]) -> bool {
    let any = |got: Option<String>| got.is_some_and(|g| values.iter().any(|v| *v == g));
    match key {
        "site" | "role" | "tenant" | "platform" | "cluster" => any(slug_of(obj, key)),
        "site_id" | "role_id" | "tenant_id" | "platform_id" => {
            let f = key.trim_end_matches("_id");
            any(obj.get(f).and_then(|o| o.get("id")).map(|i| i.to_string()))
        }
        "status" => any(obj
            .pointer("/status/value")
            .and_then(Value::as_str)
            .map(str::to_string)),
        "name" => any(obj.get("name").and_then(Value::as_str).map(str::to_string)),
        "id" => any(obj.get("id").map(|i| i.to_string())),
        "tag" => values.iter().all(|v| {
            obj.get("tags").and_then(Value::as_array).is_some_and(|t| {
                t.iter()
                    .any(|t| t.get("slug").and_then(Value::as_str) == Some(v))
            })
        }),
        "has_primary_ip" => {
            let has = obj.get("primary_ip").is_some_and(|p| !p.is_null());
            values.iter().any(|v| (*v == "true" || *v == "True") == has)
        }
        // NetBox ignores query parameters that are not filters.
        _ => true,
    }
}

/// Keep only the requested top-level fields (NetBox 4's `fields=`).
fn select_fields(obj: &Value, fields: &[&str]) -> Value {
    match obj {
        Value::Object(m) if !fields.is_empty() => Value::Object(
            m.iter()
                .filter(|(k, _)| fields.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl Netbox {
    async fn handle(&self, req: Request<Incoming>) -> Answer {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let auth = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let good = auth
            .strip_prefix("Token ")
            .or_else(|| auth.strip_prefix("Bearer "))
            .is_some_and(|t| t.trim() == self.token);
        if auth.is_empty() {
            return answer(
                StatusCode::FORBIDDEN,
                json!({"detail": "Authentication credentials were not provided."}).to_string(),
            );
        }
        if !good {
            return answer(
                StatusCode::FORBIDDEN,
                json!({"detail": "Invalid token"}).to_string(),
            );
        }
        let host = req
            .headers()
            .get(hyper::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost")
            .to_string();
        let path = req.uri().path().to_string();
        let query = query_pairs(req.uri().query().unwrap_or_default());
        let list = match path.as_str() {
            "/api/status/" => {
                return answer(
                    StatusCode::OK,
                    json!({"netbox-version": "4.2.0", "python-version": "3.12.0"}).to_string(),
                )
            }
            "/api/dcim/devices/" => &self.data.devices,
            "/api/virtualization/virtual-machines/" => &self.data.vms,
            "/api/ipam/ip-addresses/" => &self.data.ips,
            "/api/dcim/sites/" => return self.static_list(&host, &path, &query, &sites()),
            "/api/dcim/regions/" => return self.static_list(&host, &path, &query, &regions()),
            _ => {
                return answer(
                    StatusCode::NOT_FOUND,
                    json!({"detail": "Not found."}).to_string(),
                )
            }
        };
        let (limit, offset) = paging(&query, self.max_page_size);
        if path == "/api/dcim/devices/" {
            let page = offset / limit.max(1) + 1;
            for (f, hits) in self.faults.iter().zip(&self.hits) {
                if f.page != page {
                    continue;
                }
                match f.kind {
                    FaultKind::Status(s) => return fault_status(s),
                    FaultKind::StatusTimes(s, n) => {
                        if hits.fetch_add(1, Ordering::SeqCst) < n {
                            return fault_status(s);
                        }
                    }
                    FaultKind::BadJson => {
                        return answer(
                            StatusCode::OK,
                            "{\"count\": 3, \"results\": [{\"id\": 1,".into(),
                        )
                    }
                }
            }
        }
        self.page(&host, &path, &query, list)
    }

    fn static_list(
        &self,
        host: &str,
        path: &str,
        query: &[(String, String)],
        list: &[Value],
    ) -> Answer {
        self.page(host, path, query, list)
    }

    fn page(&self, host: &str, path: &str, query: &[(String, String)], list: &[Value]) -> Answer {
        let (limit, offset) = paging(query, self.max_page_size);
        let mut filters: Vec<(&str, Vec<&str>)> = Vec::new();
        let mut fields: Vec<&str> = Vec::new();
        for (k, v) in query {
            match k.as_str() {
                "limit" | "offset" | "brief" | "ordering" => {}
                "fields" => fields.extend(v.split(',').map(str::trim).filter(|f| !f.is_empty())),
                _ => match filters.iter_mut().find(|(fk, _)| fk == k) {
                    Some((_, vals)) => vals.push(v),
                    None => filters.push((k, vec![v])),
                },
            }
        }
        let matching: Vec<&Value> = list
            .iter()
            .filter(|o| filters.iter().all(|(k, vals)| passes(o, k, vals)))
            .collect();
        let count = matching.len();
        let results: Vec<Value> = matching
            .iter()
            .skip(offset)
            .take(limit)
            .map(|o| select_fields(o, &fields))
            .collect();
        let rest: String = query
            .iter()
            .filter(|(k, _)| k != "limit" && k != "offset")
            .map(|(k, v)| format!("&{}={}", encode(k), encode(v)))
            .collect();
        let link = |off: usize| format!("http://{host}{path}?limit={limit}&offset={off}{rest}");
        let next = (offset + limit < count).then(|| link(offset + limit));
        let previous = (offset > 0).then(|| link(offset.saturating_sub(limit)));
        answer(
            StatusCode::OK,
            json!({"count": count, "next": next, "previous": previous, "results": results})
                .to_string(),
        )
    }
}

fn fault_status(s: u16) -> Answer {
    let code = StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = Response::new(Full::new(Bytes::from(
        "<h1>Server Error (500)</h1>".to_string(),
    )));
    *r.status_mut() = code;
    r
}

fn paging(query: &[(String, String)], max: usize) -> (usize, usize) {
    let get = |k: &str| {
        query
            .iter()
            .find(|(q, _)| q == k)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let limit = match get("limit") {
        None => DEFAULT_PAGE_SIZE.min(max),
        Some(0) => max,
        Some(l) => l.min(max),
    };
    (limit, get("offset").unwrap_or(0))
}

fn sites() -> Vec<Value> {
    SITES
        .iter()
        .enumerate()
        .map(|(i, (slug, region))| {
            let rid = REGIONS.iter().find(|r| r.1 == *region).map_or(0, |r| r.0);
            json!({"id": i + 1, "name": slug, "slug": slug,
                   "region": {"id": rid, "name": region, "slug": region}})
        })
        .collect()
}

fn regions() -> Vec<Value> {
    REGIONS
        .iter()
        .map(|(id, slug, parent)| {
            json!({"id": id, "name": slug, "slug": slug,
                   "parent": parent.map(|p| json!({"id": p}))})
        })
        .collect()
}

/// The inventory file an Ansible user would write for this fake (the token is not in it:
/// it comes from `NETBOX_TOKEN`).
pub fn inventory_yaml(addr: SocketAddr) -> String {
    format!(
        "plugin: netbox.netbox.nb_inventory\n\
         api_endpoint: http://{addr}\n\
         validate_certs: false\n\
         config_context: true\n\
         flatten_config_context: true\n\
         group_by:\n  - sites\n  - device_roles\n  - platforms\n  - tags\n\
         compose:\n  ansible_network_os: platform.slug\n"
    )
}

/// Check `--netbox` options that need no network.
pub fn check_token(token: &str) -> Result<()> {
    if token.is_empty() || token.contains(char::is_whitespace) {
        bail!("--netbox-token must be a non-empty word");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse() {
        assert_eq!(
            Fault::parse("500@3"),
            Ok(Fault {
                page: 3,
                kind: FaultKind::Status(500)
            })
        );
        assert_eq!(
            Fault::parse("503x2@2").map(|f| f.kind),
            Ok(FaultKind::StatusTimes(503, 2))
        );
        assert_eq!(
            Fault::parse("json@1").map(|f| f.kind),
            Ok(FaultKind::BadJson)
        );
        assert!(Fault::parse("500").is_err());
        assert!(Fault::parse("200@1").is_err());
        assert!(Fault::parse("500@0").is_err());
    }

    #[test]
    fn filters_and_fields() {
        let data = NetboxData::build(&[], 10, 0);
        let d = &data.devices[1];
        assert!(passes(d, "site", &["fra"]));
        assert!(!passes(d, "site", &["ams"]));
        assert!(passes(d, "tag", &["golden", "pci"]));
        assert!(!passes(&data.devices[0], "tag", &["pci"]));
        let brief = select_fields(d, &["id", "name"]);
        assert_eq!(brief.as_object().map(|m| m.len()), Some(2));
        assert_eq!(percent_decode("a%2Cb+c"), "a,b c");
    }
}
