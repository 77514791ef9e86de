//! NetBox as an inventory source: a `netbox.netbox.nb_inventory` file, read unchanged.
//!
//! The options are nb_inventory's (with its names and defaults); the devices (and virtual
//! machines) become hosts, grouped and with host vars as nb_inventory names them, in
//! Ansible's dynamic-inventory JSON shape, which [`super::script::load_json`] loads like a
//! script's output: `-i netbox.yml -i overrides/` then layers local vars over NetBox data
//! with the usual precedence.
//!
//! Options netorch does not implement are errors that name the option (an unchanged file
//! must not quietly mean something else), except those with no effect on the hosts,
//! groups or vars netorch builds (`fetch_all`, `max_uri_length`, `follow_redirects`,
//! `cache_plugin: jsonfile`...).

pub mod fetch;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::builder::Builder;
use crate::secret::Secret;
use crate::source::{suggest, LoadError};
use crate::value::{bool_of, duration_of, kind_of};
use fetch::{Client, FetchError, Tls};

/// The `plugin:` values that make a YAML file a NetBox source.
const PLUGIN_NAMES: [&str; 2] = ["netbox.netbox.nb_inventory", "nb_inventory"];

/// nb_inventory's default `cache_timeout`.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(3600);
/// How old a cached copy may be and still stand in for a NetBox that is down.
pub const DEFAULT_CACHE_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// nb_inventory's default `timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Environment variables holding the token, in nb_inventory's order (NETBOX_API_TOKEN is
/// what pynetbox-based tools read).
const TOKEN_ENV: [&str; 3] = ["NETBOX_TOKEN", "NETBOX_API_KEY", "NETBOX_API_TOKEN"];

/// Options read and honoured.
const SUPPORTED: &[&str] = &[
    "plugin",
    "api_endpoint",
    "token",
    "validate_certs",
    "ca_path",
    "timeout",
    "query_filters",
    "device_query_filters",
    "vm_query_filters",
    "group_by",
    "group_names_raw",
    "plurals",
    "config_context",
    "flatten_config_context",
    "flatten_custom_fields",
    "flatten_local_context_data",
    "compose",
    "strict",
    "virtual_chassis_name",
    "dns_name",
    "ansible_host_dns_name",
    "oob_ip_as_primary_ip",
    "interfaces",
    "services",
    "site_data",
    "prefixes",
    "racks",
    "fetch_all",
    "max_uri_length",
    "follow_redirects",
    "cache",
    "cache_timeout",
    "cache_ttl",
    "cache_max_age",
    "cache_plugin",
    "cache_connection",
    "cache_prefix",
    "virtual_machines",
    "platform_map",
];

/// nb_inventory (and Ansible `constructed`) options netorch does not implement, and why
/// that matters.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("cert", "client certificates are not supported"),
    ("key", "client certificates are not supported"),
    (
        "keyed_groups",
        "use group_by (sites, device_roles, platforms, tags, ...)",
    ),
    (
        "groups",
        "use group_by, or groups in a local inventory file",
    ),
    ("hostname_field", "hosts are named by the device name"),
    ("use_extra_vars", "extra vars apply after the inventory"),
    ("leading_separator", "group names are `<group_by>_<slug>`"),
    ("bearer_token", "give `token: {type: Bearer, value: ...}`"),
];

/// Boolean options supported only when false (what they add is not loaded).
const ONLY_FALSE: &[(&str, &str)] = &[
    ("interfaces", "interface data is not loaded"),
    ("services", "service data is not loaded"),
    ("site_data", "sites appear as slugs"),
    ("prefixes", "prefixes are not loaded"),
];

/// `group_by` values, with the prefix nb_inventory gives their groups.
const GROUP_BY: &[&str] = &[
    "sites",
    "site",
    "tenants",
    "tenant",
    "tags",
    "tag",
    "device_roles",
    "role",
    "platforms",
    "platform",
    "device_types",
    "device_type",
    "manufacturers",
    "manufacturer",
    "region",
    "status",
    "cluster",
];

/// NetBox platform slugs (as NetBox's own fixtures and most installs name them) and the
/// netorch platform each one is; `platform_map:` adds to it.
const PLATFORM_SLUGS: &[(&str, &str)] = &[
    ("cisco-ios", "cisco_ios"),
    ("cisco-ios-xe", "cisco_ios"),
    ("cisco-iosxe", "cisco_ios"),
    ("ios", "cisco_ios"),
    ("ios-xe", "cisco_ios"),
    ("iosxe", "cisco_ios"),
    ("cisco-nxos", "cisco_nxos"),
    ("cisco-nx-os", "cisco_nxos"),
    ("nxos", "cisco_nxos"),
    ("nx-os", "cisco_nxos"),
    ("cisco-ios-xr", "cisco_iosxr"),
    ("cisco-iosxr", "cisco_iosxr"),
    ("iosxr", "cisco_iosxr"),
    ("ios-xr", "cisco_iosxr"),
    ("cisco-asa", "cisco_asa"),
    ("asa", "cisco_asa"),
    ("arista-eos", "arista_eos"),
    ("eos", "arista_eos"),
    ("juniper-junos", "juniper_junos"),
    ("junos", "juniper_junos"),
    ("vyos", "vyos"),
    ("linux", "linux"),
];

/// Is this YAML text an nb_inventory file? (Its top-level `plugin:` names the plugin.)
pub(crate) fn is_netbox_source(text: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix("plugin:").is_some_and(|v| {
            let v = v.split(" #").next().unwrap_or("").trim();
            let v = v.trim_matches(|c| c == '"' || c == '\'');
            PLUGIN_NAMES.contains(&v)
        })
    })
}

/// One `group_by` entry: as written (the group-name prefix) and what it groups by.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GroupBy {
    written: String,
    /// The singular form: site, tenant, tag, role, platform, device_type, manufacturer,
    /// region, status, cluster.
    kind: &'static str,
}

/// The parsed options of a netbox.yml.
#[derive(Debug, Clone)]
pub struct Options {
    pub endpoint: String,
    token: Option<Secret>,
    token_type: String,
    validate_certs: bool,
    ca_path: Option<PathBuf>,
    timeout: Duration,
    query_filters: Vec<(String, String)>,
    device_query_filters: Vec<(String, String)>,
    vm_query_filters: Vec<(String, String)>,
    group_by: Vec<GroupBy>,
    group_names_raw: bool,
    plurals: bool,
    config_context: bool,
    flatten_config_context: bool,
    flatten_custom_fields: bool,
    flatten_local_context_data: bool,
    compose: Vec<(String, String)>,
    strict: bool,
    virtual_chassis_name: bool,
    dns_name: bool,
    ansible_host_dns_name: bool,
    oob_ip_as_primary_ip: bool,
    virtual_machines: bool,
    platform_map: HashMap<String, String>,
    cache: bool,
    cache_ttl: Duration,
    cache_max_age: Duration,
    cache_dir: Option<PathBuf>,
}

/// The 1-based line of a top-level key, for errors.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

struct Reader<'a> {
    path: &'a Path,
    text: &'a str,
    map: Map<String, Value>,
}

impl Reader<'_> {
    fn error(&self, key: &str, message: String) -> LoadError {
        match key_line(self.text, key) {
            Some(line) => LoadError::at(self.path, Some(self.text), line, 1, message),
            None => LoadError::file(self.path, message),
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn bool(&self, key: &str, default: bool) -> Result<bool, LoadError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => bool_of(v).ok_or_else(|| {
                self.error(
                    key,
                    format!("`{key}` must be true or false, found {}", kind_of(v)),
                )
            }),
        }
    }

    fn string(&self, key: &str) -> Result<Option<String>, LoadError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(v) => Err(self.error(
                key,
                format!("`{key}` must be a string, found {}", kind_of(v)),
            )),
        }
    }

    fn duration(&self, key: &str) -> Result<Option<Duration>, LoadError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => duration_of(v).map(Some).ok_or_else(|| {
                self.error(
                    key,
                    format!(
                        "`{key}` must be {}",
                        crate::value::duration::DURATION_EXPECTED
                    ),
                )
            }),
        }
    }

    /// nb_inventory's filter lists: `- site: ams` entries (several keys per entry allowed;
    /// a list value repeats the key).
    fn filters(&self, key: &str) -> Result<Vec<(String, String)>, LoadError> {
        let Some(v) = self.get(key) else {
            return Ok(Vec::new());
        };
        let bad = |what: String| self.error(key, format!("`{key}`: {what}"));
        let Value::Array(items) = v else {
            return Err(bad(format!(
                "expected a list of `- filter: value` entries, found {}",
                kind_of(v)
            )));
        };
        let mut out = Vec::new();
        for item in items {
            let Value::Object(m) = item else {
                return Err(bad(format!(
                    "each entry is a `filter: value` mapping, found {}",
                    kind_of(item)
                )));
            };
            for (k, v) in m {
                let values = match v {
                    Value::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                for v in values {
                    let text = match v {
                        Value::String(s) => s,
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        other => {
                            return Err(bad(format!(
                                "`{k}` must be a string, number or boolean, found {}",
                                kind_of(&other)
                            )))
                        }
                    };
                    if text.contains("{{") {
                        return Err(bad(format!(
                            "`{k}: {text}`: templated filter values are not supported; \
                             write the value"
                        )));
                    }
                    out.push((k.clone(), text));
                }
            }
        }
        Ok(out)
    }

    fn string_map(&self, key: &str) -> Result<Vec<(String, String)>, LoadError> {
        let Some(v) = self.get(key) else {
            return Ok(Vec::new());
        };
        let Value::Object(m) = v else {
            return Err(self.error(
                key,
                format!("`{key}` must be a mapping, found {}", kind_of(v)),
            ));
        };
        m.iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.to_string())),
                other => Err(self.error(
                    key,
                    format!("`{key}.{k}` must be a string, found {}", kind_of(other)),
                )),
            })
            .collect()
    }
}

/// Render `{{ lookup('env', 'X') }}`-style option values (a token kept out of the file).
fn render_option(value: &str, what: &str) -> Result<String, String> {
    if !value.contains("{{") {
        return Ok(value.to_string());
    }
    let t = crate::jinja::Templates::new(Vec::new());
    t.render_str(value, &crate::value::Vars::new(), what)
        .map_err(|e| e.to_string())
}

impl Options {
    /// Parse and check a netbox.yml; every problem names the option and its line.
    pub fn parse(path: &Path, text: &str) -> Result<Options, LoadError> {
        let doc: Value = crate::source::parse_yaml(path, text, "nb_inventory options")?;
        let Value::Object(map) = doc else {
            return Err(LoadError::file(
                path,
                format!(
                    "expected a mapping of nb_inventory options, found {}",
                    kind_of(&doc)
                ),
            ));
        };
        let r = Reader { path, text, map };
        for key in r.map.keys() {
            if SUPPORTED.contains(&key.as_str()) {
                continue;
            }
            if let Some((_, why)) = UNSUPPORTED.iter().find(|(k, _)| k == key) {
                return Err(r
                    .error(
                        key,
                        format!("nb_inventory option `{key}` is not supported by netorch: {why}"),
                    )
                    .with_hint(format!("supported options: {}", SUPPORTED.join(", "))));
            }
            let hint = match suggest(key, SUPPORTED.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("supported options: {}", SUPPORTED.join(", ")),
            };
            return Err(r
                .error(key, format!("unknown nb_inventory option `{key}`"))
                .with_hint(hint));
        }
        for (key, why) in ONLY_FALSE {
            if r.bool(key, false)? {
                return Err(r.error(
                    key,
                    format!("`{key}: true` is not supported by netorch ({why}); remove it or set it to false"),
                ));
            }
        }
        match r.string("plugin")? {
            Some(p) if PLUGIN_NAMES.contains(&p.as_str()) => {}
            other => {
                return Err(r.error(
                    "plugin",
                    format!(
                        "`plugin` must be netbox.netbox.nb_inventory, found {}",
                        other.unwrap_or_else(|| "nothing".into())
                    ),
                ))
            }
        }
        let endpoint = match r.string("api_endpoint")? {
            Some(e) => render_option(&e, "api_endpoint").map_err(|e| r.error("api_endpoint", e))?,
            None => std::env::var("NETBOX_API").unwrap_or_default(),
        };
        let endpoint = endpoint.trim().trim_end_matches('/').to_string();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(r.error(
                "api_endpoint",
                format!(
                    "`api_endpoint` must be NetBox's http:// or https:// address, found {:?} \
                     (or set NETBOX_API)",
                    fetch::shown_endpoint(&endpoint)
                ),
            ));
        }
        let (token, token_type) = match r.get("token") {
            None => (
                TOKEN_ENV
                    .iter()
                    .filter_map(|v| std::env::var(v).ok())
                    .find(|t| !t.trim().is_empty())
                    .map(|t| t.trim().to_string()),
                None,
            ),
            Some(Value::String(s)) => (
                Some(render_option(s, "token").map_err(|e| r.error("token", e))?),
                None,
            ),
            Some(Value::Object(m)) => {
                let ty = m.get("type").and_then(Value::as_str).map(str::to_string);
                let value = m.get("value").and_then(Value::as_str).ok_or_else(|| {
                    r.error(
                        "token",
                        "`token` as a mapping needs `type` and `value`".into(),
                    )
                })?;
                (
                    Some(render_option(value, "token").map_err(|e| r.error("token", e))?),
                    ty,
                )
            }
            Some(v) => {
                return Err(r.error(
                    "token",
                    format!(
                        "`token` must be a string or {{type, value}}, found {}",
                        kind_of(v)
                    ),
                ))
            }
        };
        // NetBox 4.5's v2 tokens (`nbt_...`) go as Bearer; older ones as `Token`.
        let token_type = token_type.unwrap_or_else(|| match &token {
            Some(t) if t.starts_with("nbt_") => "Bearer".into(),
            _ => "Token".into(),
        });
        let mut group_by = Vec::new();
        if let Some(v) = r.get("group_by") {
            let Value::Array(items) = v else {
                return Err(r.error(
                    "group_by",
                    format!("`group_by` must be a list, found {}", kind_of(v)),
                ));
            };
            for item in items {
                let Some(name) = item.as_str() else {
                    return Err(r.error(
                        "group_by",
                        format!("`group_by` entries are names, found {}", kind_of(item)),
                    ));
                };
                let kind = match name {
                    "sites" | "site" => "site",
                    "tenants" | "tenant" => "tenant",
                    "tags" | "tag" => "tag",
                    "device_roles" | "role" | "roles" => "role",
                    "platforms" | "platform" => "platform",
                    "device_types" | "device_type" => "device_type",
                    "manufacturers" | "manufacturer" => "manufacturer",
                    "region" | "regions" => "region",
                    "status" => "status",
                    "cluster" => "cluster",
                    other => {
                        let supported = format!("supported: {}", GROUP_BY.join(", "));
                        let hint = match suggest(other, GROUP_BY.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`? {supported}"),
                            None => supported,
                        };
                        return Err(r
                            .error(
                                "group_by",
                                format!("group_by `{other}` is not supported by netorch"),
                            )
                            .with_hint(hint));
                    }
                };
                group_by.push(GroupBy {
                    written: name.to_string(),
                    kind,
                });
            }
        }
        let cache_plugin = r.string("cache_plugin")?;
        if let Some(p) = &cache_plugin {
            if !matches!(
                p.as_str(),
                "jsonfile" | "ansible.builtin.jsonfile" | "memory"
            ) {
                return Err(r.error(
                    "cache_plugin",
                    format!(
                        "cache_plugin `{p}` is not supported: netorch keeps its own JSON file \
                         cache (jsonfile)"
                    ),
                ));
            }
        }
        let ca_path = r.string("ca_path")?.map(PathBuf::from);
        let platform_map = r
            .string_map("platform_map")?
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let cache_dir = r
            .string("cache_connection")?
            .map(|d| match d.strip_prefix("~/") {
                Some(rest) => std::env::var_os("HOME")
                    .map(|h| PathBuf::from(h).join(rest))
                    .unwrap_or_else(|| PathBuf::from(&d)),
                None => PathBuf::from(d),
            });
        let compose = r.string_map("compose")?;
        if !compose.is_empty() {
            let templates = crate::jinja::Templates::new(Vec::new());
            for (k, e) in &compose {
                if let Err(err) = templates.compile_expr(e, &format!("compose.{k}")) {
                    return Err(r.error("compose", err.to_string()));
                }
            }
        }
        Ok(Options {
            endpoint,
            token: token.map(Secret::new),
            token_type,
            validate_certs: r.bool("validate_certs", true)?,
            ca_path,
            timeout: r.duration("timeout")?.unwrap_or(DEFAULT_TIMEOUT),
            query_filters: r.filters("query_filters")?,
            device_query_filters: r.filters("device_query_filters")?,
            vm_query_filters: r.filters("vm_query_filters")?,
            group_by,
            group_names_raw: r.bool("group_names_raw", false)?,
            plurals: r.bool("plurals", true)?,
            config_context: r.bool("config_context", false)?,
            flatten_config_context: r.bool("flatten_config_context", false)?,
            flatten_custom_fields: r.bool("flatten_custom_fields", false)?,
            flatten_local_context_data: r.bool("flatten_local_context_data", false)?,
            compose,
            strict: r.bool("strict", false)?,
            virtual_chassis_name: r.bool("virtual_chassis_name", false)?,
            dns_name: r.bool("dns_name", false)?,
            ansible_host_dns_name: r.bool("ansible_host_dns_name", false)?,
            oob_ip_as_primary_ip: r.bool("oob_ip_as_primary_ip", false)?,
            virtual_machines: r.bool("virtual_machines", true)?,
            platform_map,
            cache: r.bool("cache", false)?,
            cache_ttl: match r.duration("cache_timeout")? {
                Some(d) => d,
                None => r.duration("cache_ttl")?.unwrap_or(DEFAULT_CACHE_TTL),
            },
            cache_max_age: r
                .duration("cache_max_age")?
                .unwrap_or(DEFAULT_CACHE_MAX_AGE),
            cache_dir,
        })
    }

    /// The cache file of these options: the endpoint and everything that shapes the
    /// result, hashed (never the token).
    fn cache_path(&self) -> Option<PathBuf> {
        let dir = self.cache_dir.clone().or_else(fetch::default_cache_dir)?;
        let shape = json!({
            "v": 1,
            "endpoint": fetch::shown_endpoint(&self.endpoint),
            "q": self.query_filters, "dq": self.device_query_filters, "vq": self.vm_query_filters,
            "g": self.group_by.iter().map(|g| &g.written).collect::<Vec<_>>(),
            "raw": self.group_names_raw, "plurals": self.plurals,
            "cc": [self.config_context, self.flatten_config_context, self.flatten_custom_fields,
                   self.flatten_local_context_data],
            "compose": self.compose, "strict": self.strict,
            "vc": self.virtual_chassis_name, "dns": [self.dns_name, self.ansible_host_dns_name],
            "oob": self.oob_ip_as_primary_ip, "vms": self.virtual_machines,
            "pm": self.platform_map.iter().collect::<std::collections::BTreeMap<_, _>>(),
        });
        let digest = Sha256::digest(shape.to_string().as_bytes());
        let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
        let host: String = fetch::shown_endpoint(&self.endpoint)
            .split("://")
            .nth(1)
            .unwrap_or("netbox")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .take(60)
            .collect();
        Some(dir.join(format!("{host}-{hex}.json")))
    }

    /// The fields a device or VM list needs (NetBox 4's `fields=`; older servers ignore it
    /// and send everything).
    fn fields(&self, vm: bool) -> String {
        let mut f: BTreeSet<&str> = [
            "id",
            "name",
            "status",
            "site",
            "role",
            "tenant",
            "platform",
            "tags",
            "primary_ip",
            "primary_ip4",
            "primary_ip6",
            "custom_fields",
            "local_context_data",
        ]
        .into_iter()
        .collect();
        if vm {
            f.insert("cluster");
        } else {
            f.extend(["device_type", "serial", "asset_tag", "oob_ip"]);
            if self.virtual_chassis_name {
                f.insert("virtual_chassis");
            }
        }
        if self.config_context {
            f.insert("config_context");
        }
        let mut out: Vec<String> = f.into_iter().map(str::to_string).collect();
        // What compose reads from the object must come too.
        for (_, expr) in &self.compose {
            for name in expr_roots(expr) {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        out.join(",")
    }
}

/// The top-level names an expression reads (`platform.slug | default('x')` -> platform):
/// identifiers not after a `.`, not in quotes, not a filter or test name.
fn expr_roots(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut quote: Option<char> = None;
    let mut prev_sig = ' ';
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            prev_sig = c;
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let keyword = matches!(
                word.as_str(),
                "and"
                    | "or"
                    | "not"
                    | "in"
                    | "is"
                    | "if"
                    | "else"
                    | "true"
                    | "false"
                    | "none"
                    | "True"
                    | "False"
                    | "None"
            );
            if prev_sig != '.' && prev_sig != '|' && !keyword {
                out.push(word);
            }
            prev_sig = 'a';
            continue;
        }
        if !c.is_whitespace() {
            prev_sig = c;
        }
        i += 1;
    }
    out
}

/// The netorch platform of a NetBox platform slug: the user's `platform_map`, the
/// built-in table, Ansible's network OS names, else the slug with `-` as `_`.
pub fn platform_from_slug(slug: &str, user: &HashMap<String, String>) -> String {
    let lower = slug.trim().to_ascii_lowercase();
    if let Some(p) = user.get(&lower) {
        return p.clone();
    }
    if let Some((_, p)) = PLATFORM_SLUGS.iter().find(|(s, _)| *s == lower) {
        return (*p).to_string();
    }
    let mapped = super::platform_from_network_os(&lower);
    if mapped != lower {
        return mapped;
    }
    lower.replace('-', "_")
}

/// Load a NetBox source into the builder.
pub(crate) fn load(path: &Path, text: &str, b: &mut Builder) -> Result<(), LoadError> {
    let opts = Options::parse(path, text)?;
    let cache_path = if opts.cache { opts.cache_path() } else { None };
    if let Some(cp) = &cache_path {
        if let Some(c) = fetch::read_cache(cp) {
            if c.age < opts.cache_ttl {
                tracing::debug!(cache = %cp.display(), "NetBox inventory from the cache");
                return super::script::load_json(path, c.data, b, None);
            }
        }
    }
    let built = match fetch_and_build(&opts, b) {
        Ok(v) => v,
        Err(e) => {
            let cached = cache_path.as_deref().and_then(fetch::read_cache);
            match cached {
                Some(c) if e.is_unreachable() && c.age < opts.cache_max_age => {
                    b.warnings.push(format!(
                        "{}: {e}; using the cached copy from {} ago (cache_max_age {})",
                        path.display(),
                        humanize(c.age),
                        humanize(opts.cache_max_age)
                    ));
                    return super::script::load_json(path, c.data, b, None);
                }
                _ => {
                    let err = LoadError::file(path, e.to_string());
                    let no_token = opts.token.is_none()
                        && matches!(e, BuildError::Fetch(FetchError::Auth { .. }));
                    return Err(if no_token {
                        err.with_hint(
                            "no token was given: set NETBOX_TOKEN (or NETBOX_API_KEY, \
                             NETBOX_API_TOKEN), or `token:` in the file",
                        )
                    } else {
                        err
                    });
                }
            }
        }
    };
    if let Some(cp) = &cache_path {
        if let Err(e) = fetch::write_cache(cp, &opts.endpoint, &built) {
            b.warnings.push(format!(
                "{}: cannot write the NetBox cache {}: {e}",
                path.display(),
                cp.display()
            ));
        }
    }
    super::script::load_json(path, built, b, None)
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86400),
    }
}

/// Errors of a fetch, or of options only found when used (a CA file, compose with strict).
#[derive(Debug)]
enum BuildError {
    Fetch(FetchError),
    Config(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Fetch(e) => e.fmt(f),
            BuildError::Config(m) => f.write_str(m),
        }
    }
}

impl BuildError {
    fn is_unreachable(&self) -> bool {
        matches!(self, BuildError::Fetch(e) if e.is_unreachable())
    }
}

impl From<FetchError> for BuildError {
    fn from(e: FetchError) -> Self {
        BuildError::Fetch(e)
    }
}

/// A fetch thread's result; a panic in it (a bug) is an error, not a crash.
fn joined<T>(
    h: std::thread::ScopedJoinHandle<'_, Result<T, FetchError>>,
    url: &str,
) -> Result<T, FetchError> {
    h.join().unwrap_or_else(|_| {
        Err(FetchError::BadAnswer {
            url: url.to_string(),
            reason: "a fetch thread panicked".into(),
        })
    })
}

fn fetch_and_build(opts: &Options, b: &mut Builder) -> Result<Value, BuildError> {
    // Compiled before the first request: a bad expression needs no round trip to show.
    let templates = crate::jinja::Templates::new(Vec::new());
    let compose = Compose::new(&templates, opts)?;
    if let Some(w) = transport_warning(opts) {
        b.warnings.push(w);
    }
    let auth = opts
        .token
        .as_ref()
        .map(|t| Secret::new(format!("{} {}", opts.token_type, t.expose())));
    let client = Client::new(
        &opts.endpoint,
        auth,
        &Tls {
            validate_certs: opts.validate_certs,
            ca_path: opts.ca_path.as_deref(),
        },
        opts.timeout,
    )
    .map_err(BuildError::Config)?;
    let mut dq = opts.query_filters.clone();
    dq.extend(opts.device_query_filters.iter().cloned());
    dq.push(("fields".into(), opts.fields(false)));
    let mut vq = opts.query_filters.clone();
    vq.extend(opts.vm_query_filters.iter().cloned());
    vq.push(("fields".into(), opts.fields(true)));
    let needs_regions = opts.group_by.iter().any(|g| g.kind == "region");
    let needs_dns = opts.dns_name || opts.ansible_host_dns_name;
    // The lists do not depend on each other: fetch them side by side.
    let (devices, vms, regions, dns) = std::thread::scope(|s| {
        let vms = opts
            .virtual_machines
            .then(|| s.spawn(|| client.list("/api/virtualization/virtual-machines/", &vq)));
        let regions = needs_regions.then(|| {
            s.spawn(|| -> Result<_, FetchError> {
                let fields = |f: &str| vec![("fields".to_string(), f.to_string())];
                Ok((
                    client.list("/api/dcim/sites/", &fields("id,slug,region"))?,
                    client.list("/api/dcim/regions/", &fields("id,slug,parent"))?,
                ))
            })
        });
        let dns = needs_dns.then(|| {
            s.spawn(|| {
                client.list(
                    "/api/ipam/ip-addresses/",
                    &[("fields".to_string(), "id,dns_name".to_string())],
                )
            })
        });
        let devices = client.list("/api/dcim/devices/", &dq);
        let url = &opts.endpoint;
        (
            devices,
            vms.map(|h| joined(h, url)),
            regions.map(|h| joined(h, url)),
            dns.map(|h| joined(h, url)),
        )
    });
    let devices = devices?;
    let vms = vms.transpose()?.unwrap_or_default();
    let regions = regions.transpose()?;
    let dns: HashMap<u64, String> = dns
        .transpose()?
        .unwrap_or_default()
        .into_iter()
        .filter_map(|ip| {
            let id = ip.get("id")?.as_u64()?;
            let name = ip.get("dns_name")?.as_str()?;
            (!name.is_empty()).then(|| (id, name.to_string()))
        })
        .collect();
    let lookups = Lookups::new(regions, dns);
    let mut out = Built::default();
    for d in &devices {
        map_host(opts, &lookups, &compose, d, false, &mut out)?;
    }
    for vm in &vms {
        map_host(opts, &lookups, &compose, vm, true, &mut out)?;
    }
    b.warnings.extend(out.warnings.iter().cloned());
    Ok(out.into_json())
}

/// Plain HTTP to a remote NetBox sends the token in clear; unverified HTTPS lets anyone on
/// the path take it.
fn transport_warning(opts: &Options) -> Option<String> {
    let shown = fetch::shown_endpoint(&opts.endpoint);
    if let Some(rest) = opts.endpoint.strip_prefix("http://") {
        let host = rest.split(['/', '@']).next().unwrap_or("");
        let local = ["127.", "localhost", "[::1]"]
            .iter()
            .any(|l| host.starts_with(l));
        return (!local && opts.token.is_some()).then(|| {
            format!(
                "NetBox at {shown} is plain HTTP: the API token crosses the network unencrypted"
            )
        });
    }
    (!opts.validate_certs).then(|| {
        format!(
            "NetBox at {shown}: certificate verification is off (validate_certs: false); \
             anyone on the path can pose as NetBox and read the token"
        )
    })
}

/// Site -> region, region -> parent, IP -> DNS name.
#[derive(Default)]
struct Lookups {
    site_region: HashMap<u64, u64>,
    region_slug: HashMap<u64, String>,
    region_parent: HashMap<u64, u64>,
    dns: HashMap<u64, String>,
}

impl Lookups {
    fn new(regions: Option<(Vec<Value>, Vec<Value>)>, dns: HashMap<u64, String>) -> Lookups {
        let mut l = Lookups {
            dns,
            ..Lookups::default()
        };
        if let Some((sites, regions)) = regions {
            for s in sites {
                if let (Some(id), Some(r)) = (
                    s.get("id").and_then(Value::as_u64),
                    s.pointer("/region/id").and_then(Value::as_u64),
                ) {
                    l.site_region.insert(id, r);
                }
            }
            for r in regions {
                let Some(id) = r.get("id").and_then(Value::as_u64) else {
                    continue;
                };
                if let Some(slug) = r.get("slug").and_then(Value::as_str) {
                    l.region_slug.insert(id, slug.to_string());
                }
                if let Some(p) = r.pointer("/parent/id").and_then(Value::as_u64) {
                    l.region_parent.insert(id, p);
                }
            }
        }
        l
    }

    /// The site's region and its ancestors, innermost first.
    fn regions(&self, host: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = host
            .pointer("/site/id")
            .and_then(Value::as_u64)
            .and_then(|s| self.site_region.get(&s).copied());
        while let Some(id) = cur {
            let Some(slug) = self.region_slug.get(&id) else {
                break;
            };
            if out.contains(slug) {
                break;
            }
            out.push(slug.clone());
            cur = self.region_parent.get(&id).copied();
        }
        out
    }
}

/// The `compose` expressions, compiled once for every host.
struct Compose<'t> {
    exprs: Vec<(&'t str, minijinja::Expression<'t, 't>)>,
    strict: bool,
}

impl<'t> Compose<'t> {
    fn new(templates: &'t crate::jinja::Templates, opts: &'t Options) -> Result<Self, BuildError> {
        let mut exprs = Vec::with_capacity(opts.compose.len());
        for (k, e) in &opts.compose {
            let (compiled, _) = templates
                .compile_expr(e, &format!("compose.{k}"))
                .map_err(|err| BuildError::Config(err.to_string()))?;
            exprs.push((k.as_str(), compiled));
        }
        Ok(Compose {
            exprs,
            strict: opts.strict,
        })
    }

    /// Ansible's constructed semantics as nb_inventory applies them: each expression sees
    /// the NetBox object as the API gave it; one that fails (or is undefined) is skipped
    /// unless `strict`.
    fn apply(
        &self,
        name: &str,
        object: &Value,
        vars: &mut Map<String, Value>,
    ) -> Result<(), BuildError> {
        if self.exprs.is_empty() {
            return Ok(());
        }
        let ctx = minijinja::Value::from_serialize(object);
        for (k, e) in &self.exprs {
            let result = e.eval(&ctx).and_then(|v| {
                if v.is_undefined() {
                    return Err(minijinja::Error::new(
                        minijinja::ErrorKind::UndefinedError,
                        "undefined value",
                    ));
                }
                serde_json::to_value(&v).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::BadSerialization, e.to_string())
                })
            });
            match result {
                Ok(v) => {
                    vars.insert((*k).to_string(), v);
                }
                Err(err) if self.strict => {
                    return Err(BuildError::Config(format!(
                        "host {name}: compose.{k}: {err}"
                    )))
                }
                Err(_) => {}
            }
        }
        Ok(())
    }
}

/// The inventory being built, in the dynamic-inventory shape.
#[derive(Default)]
struct Built {
    hosts: IndexMap<String, Map<String, Value>>,
    /// A set per group: 10,000 hosts in one site group must not mean a scan per add.
    groups: IndexMap<String, indexmap::IndexSet<String>>,
    /// Parent group -> child groups (region nesting).
    children: IndexMap<String, BTreeSet<String>>,
    warnings: Vec<String>,
}

impl Built {
    fn add_to_group(&mut self, group: String, host: &str) {
        self.groups
            .entry(group)
            .or_default()
            .insert(host.to_string());
    }

    fn into_json(self) -> Value {
        let mut top = Map::new();
        // Every host under `all` first, so the hosts keep NetBox's order.
        top.insert(
            "all".into(),
            json!({"hosts": self.hosts.keys().collect::<Vec<_>>()}),
        );
        let mut names: BTreeSet<&String> = self.groups.keys().collect();
        names.extend(self.children.keys());
        for g in names {
            let mut entry = Map::new();
            if let Some(h) = self.groups.get(g) {
                entry.insert("hosts".into(), json!(h.iter().collect::<Vec<_>>()));
            }
            if let Some(c) = self.children.get(g) {
                entry.insert("children".into(), json!(c));
            }
            top.insert(g.clone(), Value::Object(entry));
        }
        top.insert("_meta".into(), json!({"hostvars": self.hosts}));
        Value::Object(top)
    }
}

fn slug(v: &Value, field: &str) -> Option<String> {
    let o = v.get(field)?;
    o.get("slug")
        .or_else(|| o.get("name"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `10.0.0.1/24` -> `10.0.0.1`.
fn address_of(ip: &Value) -> Option<String> {
    let a = ip.get("address")?.as_str()?;
    Some(a.split('/').next().unwrap_or(a).to_string())
}

fn map_host(
    opts: &Options,
    lookups: &Lookups,
    compose: &Compose,
    d: &Value,
    is_vm: bool,
    out: &mut Built,
) -> Result<(), BuildError> {
    let id = d.get("id").and_then(Value::as_u64).unwrap_or(0);
    let what = if is_vm { "virtual machine" } else { "device" };
    let mut name = d
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if opts.virtual_chassis_name && !is_vm {
        if let Some(vc) = d.get("virtual_chassis").filter(|v| !v.is_null()) {
            let master = vc.pointer("/master/id").and_then(Value::as_u64);
            if master.is_some_and(|m| m != id) {
                // nb_inventory: a chassis is one host, with its master's vars.
                return Ok(());
            }
            if let Some(n) = vc.get("name").and_then(Value::as_str) {
                name = n.to_string();
            }
        }
    }
    if name.is_empty() {
        out.warnings
            .push(format!("NetBox {what} id {id} has no name and is left out"));
        return Ok(());
    }
    if let Err(why) = super::hostname::check_host_name(&name) {
        out.warnings.push(format!(
            "NetBox {what} `{name}` (id {id}) is left out: {why}"
        ));
        return Ok(());
    }
    if out.hosts.contains_key(&name) {
        out.warnings.push(format!(
            "NetBox {what} `{name}` (id {id}): another object has this name; the first one is kept"
        ));
        return Ok(());
    }
    let plural = |v: Value| if opts.plurals { json!([v]) } else { v };
    let key = |singular: &'static str, plural_name: &'static str| {
        if opts.plurals {
            plural_name
        } else {
            singular
        }
    };
    let mut vars = Map::new();
    let mut groups: Vec<String> = Vec::new();
    // Host vars as nb_inventory sets them.
    let site = slug(d, "site");
    let role = slug(d, "role").or_else(|| slug(d, "device_role"));
    let tenant = slug(d, "tenant");
    let platform = slug(d, "platform");
    let device_type = d
        .pointer("/device_type/slug")
        .and_then(Value::as_str)
        .map(str::to_string);
    let manufacturer = d
        .pointer("/device_type/manufacturer/slug")
        .and_then(Value::as_str)
        .map(str::to_string);
    for (v, singular, pl) in [
        (&site, "site", "sites"),
        (&role, "role", "device_roles"),
        (&tenant, "tenant", "tenants"),
        (&device_type, "device_type", "device_types"),
        (&manufacturer, "manufacturer", "manufacturers"),
    ] {
        if let Some(v) = v {
            vars.insert(key(singular, pl).into(), plural(json!(v)));
        }
    }
    if let Some(p) = &platform {
        vars.insert("platforms".into(), json!([p]));
    }
    let tags: Vec<String> = d
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(|t| {
                    t.get("slug")
                        .and_then(Value::as_str)
                        .or_else(|| t.as_str())
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    vars.insert("tags".into(), json!(tags));
    if let Some(s) = d.get("status").filter(|s| !s.is_null()) {
        vars.insert("status".into(), s.clone());
    }
    vars.insert("is_virtual".into(), json!(is_vm));
    for f in ["serial", "asset_tag"] {
        if let Some(v) = d.get(f).filter(|v| !v.is_null() && *v != "") {
            vars.insert(f.into(), v.clone());
        }
    }
    if let Some(c) = slug(d, "cluster") {
        vars.insert("cluster".into(), json!(c));
    }
    let regions = lookups.regions(d);
    if !regions.is_empty() {
        vars.insert("regions".into(), json!(regions));
    }
    for f in ["primary_ip4", "primary_ip6"] {
        if let Some(a) = d.get(f).and_then(address_of) {
            vars.insert(f.into(), json!(a));
        }
    }
    let primary_id = d.pointer("/primary_ip/id").and_then(Value::as_u64);
    let dns = primary_id.and_then(|i| lookups.dns.get(&i));
    if opts.dns_name {
        if let Some(n) = dns {
            vars.insert("dns_name".into(), json!(n));
        }
    }
    let host_addr = if opts.ansible_host_dns_name && dns.is_some() {
        dns.cloned()
    } else if opts.oob_ip_as_primary_ip {
        d.get("oob_ip")
            .and_then(address_of)
            .or_else(|| d.get("primary_ip").and_then(address_of))
    } else {
        d.get("primary_ip").and_then(address_of)
    };
    if let Some(a) = host_addr {
        vars.insert("ansible_host".into(), json!(a));
    }
    if let Some(Value::Object(cf)) = d.get("custom_fields") {
        if opts.flatten_custom_fields {
            for (k, v) in cf {
                vars.insert(k.clone(), v.clone());
            }
        } else {
            vars.insert("custom_fields".into(), Value::Object(cf.clone()));
        }
    }
    if let Some(lc) = d.get("local_context_data").filter(|v| !v.is_null()) {
        match (opts.flatten_local_context_data, lc) {
            (true, Value::Object(m)) => {
                for (k, v) in m {
                    vars.insert(k.clone(), v.clone());
                }
            }
            _ => {
                vars.insert("local_context_data".into(), plural(lc.clone()));
            }
        }
    }
    if opts.config_context {
        if let Some(cc) = d.get("config_context").filter(|v| !v.is_null()) {
            match (opts.flatten_config_context, cc) {
                (true, Value::Object(m)) => {
                    for (k, v) in m {
                        vars.insert(k.clone(), v.clone());
                    }
                }
                _ => {
                    vars.insert("config_context".into(), plural(cc.clone()));
                }
            }
        }
    }
    // netorch's platform from the slug, unless compose decides it; a composed
    // `ansible_network_os` (`platform.slug`: cisco-ios) goes through the same table.
    let composes = |k: &str| opts.compose.iter().any(|(c, _)| c == k);
    if let (Some(p), false) = (&platform, composes("platform")) {
        vars.insert(
            "platform".into(),
            json!(platform_from_slug(p, &opts.platform_map)),
        );
    }
    compose.apply(&name, d, &mut vars)?;
    if composes("ansible_network_os") && !composes("platform") {
        if let Some(Value::String(os)) = vars.get("ansible_network_os") {
            let p = platform_from_slug(os, &opts.platform_map);
            vars.insert("platform".into(), json!(p));
        }
    }

    for g in &opts.group_by {
        let values: Vec<String> = match g.kind {
            "site" => site.iter().cloned().collect(),
            "tenant" => tenant.iter().cloned().collect(),
            "tag" => tags.clone(),
            "role" => role.iter().cloned().collect(),
            "platform" => platform.iter().cloned().collect(),
            "device_type" => device_type.iter().cloned().collect(),
            "manufacturer" => manufacturer.iter().cloned().collect(),
            "status" => d
                .pointer("/status/value")
                .and_then(Value::as_str)
                .map(str::to_string)
                .into_iter()
                .collect(),
            "cluster" => slug(d, "cluster").into_iter().collect(),
            "region" => {
                // The host goes in its innermost region; each region is a child of its
                // parent's group.
                let names: Vec<String> = regions.iter().map(|r| group_name(opts, g, r)).collect();
                for pair in names.windows(2) {
                    out.children
                        .entry(pair[1].clone())
                        .or_default()
                        .insert(pair[0].clone());
                }
                if let Some(inner) = names.first() {
                    groups.push(inner.clone());
                }
                continue;
            }
            _ => Vec::new(),
        };
        groups.extend(values.iter().map(|v| group_name(opts, g, v)));
    }
    for g in groups {
        if super::hostname::check_host_name(&g).is_err() || g == "all" {
            out.warnings.push(format!(
                "NetBox group name `{g}` is not usable and is left out"
            ));
            continue;
        }
        out.add_to_group(g, &name);
    }
    out.hosts.insert(name, vars);
    Ok(())
}

/// nb_inventory's group names: `<group_by as written>_<slug>`, or the slug alone with
/// `group_names_raw`.
fn group_name(opts: &Options, g: &GroupBy, value: &str) -> String {
    if opts.group_names_raw {
        value.to_string()
    } else {
        format!("{}_{value}", g.written)
    }
}

#[cfg(test)]
mod tests;
