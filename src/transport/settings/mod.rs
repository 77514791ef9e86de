//! Connection settings for one host, read from its (already rendered) inventory variables.
//!
//! netorch's own names are read first, then Ansible's, so existing inventories work
//! unchanged. Every bad value is a [`TransportError::Settings`] naming the host and the
//! variable; nothing here touches the network.
//!
//! | variable (Ansible name) | meaning | default |
//! | --- | --- | --- |
//! | `host` (`ansible_host`) | address to connect to | the inventory name |
//! | `connection` (`ansible_connection`) | `ssh` (`network_cli`, `paramiko`), `telnet`, `netconf`, `eapi`, `nxapi`, `restconf` (`httpapi`: by platform) | `ssh` |
//! | `port` (`ansible_port`) | the transport's port | 22, telnet 23, NETCONF 830, HTTP APIs 443 |
//! | `user` (`ansible_user`) | login user | `$USER` |
//! | `password` (`ansible_password`, `ansible_ssh_pass`) | password, also for keyboard-interactive | |
//! | `private_key_file` (`ansible_ssh_private_key_file`), `private_key_passphrase` | key auth | |
//! | `credentials` | more `{user, password, private_key_file, private_key_passphrase}` sets, tried in turn after the main one | |
//! | `auth_methods` | order of `agent`, `publickey`, `keyboard-interactive`, `password` | that order |
//! | `ssh_agent_socket` | ssh-agent socket | `$SSH_AUTH_SOCK` |
//! | `enable_secret` (`ansible_become_password`) | enable secret for privileged mode | |
//! | `platform` (`ansible_network_os`, mapped) | platform profile | `linux` |
//! | `host_key_checking` (`ansible_host_key_checking`) | `strict`, `accept-new`, `off` (`false` = off) | `strict` |
//! | `known_hosts_file` | OpenSSH known_hosts (hashed entries work) | `~/.ssh/known_hosts` |
//! | `ssh_legacy: true` | also offer SHA-1 kex, ssh-rsa/ssh-dss, CBC/3DES, hmac-sha1/md5 | off |
//! | `ssh_kex`, `ssh_hostkeys`, `ssh_ciphers`, `ssh_macs` | algorithm lists: replace the defaults, or append with `+name` | modern only |
//! | `ssh_jump` | `[user@]host[:port]` or a list of them (bastions, in order) | |
//! | `ssh_jump_user`, `ssh_jump_password`, `ssh_jump_private_key_file`, `ssh_jump_private_key_passphrase` | the bastions' own credentials (a `user@` in `ssh_jump` wins for its hop) | the host's user and keys, never its password |
//! | `ssh_jump_use_host_credentials: true` | bastions get every credential of the host, passwords included | off |
//! | `connect_timeout` (`ansible_connect_timeout`) | TCP connect and SSH handshake, each | 10 s |
//! | `command_timeout` (`ansible_command_timeout`) | per command | 30 s |
//! | `keepalive_interval` | SSH keepalive, 0 = off | 30 s |
//! | `transfer_timeout` | a whole upload or download (read by the transfer action) | 3600 s |
//! | `max_output` | output kept per command (head and tail; a task's `max_output` wins) | 16 MiB |
//! | `telnet_ok`, `telnet_enter` | telnet: no plain-text warning; Enter as `crlf` or `crnul` | off, `crlf` |
//!
//! Durations and booleans are read by [`crate::value`]: seconds (`10`, `2.5`) or a
//! string with a unit (`"500ms"`, `"10s"`, `"2m"`, `"2h"`).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::capture::{DEFAULT_MAX_OUTPUT, MIN_MAX_OUTPUT};
use super::TransportError;
use crate::secret::Secret;
use crate::value::Vars;
use crate::value::{kind_of, show};

mod algorithms;
mod auth;
mod jump_host;
mod reader;

use algorithms::algorithm_list;
pub use algorithms::{
    Algorithms, LEGACY_CIPHERS, LEGACY_HOSTKEYS, LEGACY_KEX, LEGACY_MACS, MODERN_CIPHERS,
    MODERN_HOSTKEYS, MODERN_KEX, MODERN_MACS,
};
pub use auth::{AuthMethod, Credential, HostKeyChecking, DEFAULT_AUTH_METHODS};
pub use jump_host::JumpHost;
pub(crate) use reader::settings_error;
pub use reader::{bool_var, duration_var, transfer_timeout_var};
use reader::{default_known_hosts, expand_home, scalar_string, Reader};

/// The known_hosts file used when none is named (`~/.ssh/known_hosts`): devices and the
/// backup store's SSH remote share it.
pub fn default_known_hosts_file() -> PathBuf {
    default_known_hosts()
}

/// Default TCP connect (and SSH handshake) timeout.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;
/// Default per-command timeout.
pub const DEFAULT_COMMAND_TIMEOUT_SECS: u64 = 30;
/// Default SSH keepalive interval; `keepalive_interval: 0` turns keepalives off.
pub const DEFAULT_KEEPALIVE_SECS: u64 = 30;

/// How a host is reached: the transport under its [`crate::device::Connection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnectionKind {
    /// SSH: a PTY CLI for network platforms, exec channels for shell hosts.
    #[default]
    Ssh,
    /// Telnet: the same CLI driver over a plain-text TCP stream.
    Telnet,
    /// NETCONF over SSH (RFC 6242), the `netconf` subsystem.
    Netconf,
    /// Arista eAPI (JSON-RPC over HTTPS).
    Eapi,
    /// Cisco NX-API (JSON-RPC over HTTPS).
    Nxapi,
    /// RESTCONF (RFC 8040) over HTTPS.
    Restconf,
}

impl ConnectionKind {
    /// Values of `connection` / `ansible_connection`, short or fully qualified.
    pub const NAMES: &'static [&'static str] = &[
        "ssh",
        "network_cli",
        "paramiko",
        "paramiko_ssh",
        "libssh",
        "smart",
        "local",
        "telnet",
        "netconf",
        "httpapi",
        "eapi",
        "nxapi",
        "restconf",
    ];

    /// Read a `connection` value; `httpapi` becomes the platform's API (eAPI on EOS,
    /// NX-API on NX-OS, RESTCONF otherwise). `local` keeps SSH: netorch's
    /// connection-free actions never open one, and the others reach the host as before.
    pub fn parse(value: &str, platform: &str) -> Option<ConnectionKind> {
        let short = value.trim().rsplit('.').next().unwrap_or(value).trim();
        Some(match short.to_ascii_lowercase().as_str() {
            "ssh" | "network_cli" | "paramiko" | "paramiko_ssh" | "libssh" | "smart" | "local" => {
                ConnectionKind::Ssh
            }
            "telnet" => ConnectionKind::Telnet,
            "netconf" => ConnectionKind::Netconf,
            "eapi" => ConnectionKind::Eapi,
            "nxapi" => ConnectionKind::Nxapi,
            "restconf" => ConnectionKind::Restconf,
            "httpapi" => match platform {
                "arista_eos" => ConnectionKind::Eapi,
                "cisco_nxos" => ConnectionKind::Nxapi,
                _ => ConnectionKind::Restconf,
            },
            _ => return None,
        })
    }

    /// The kind a host's (rendered) variables name; `None` when the value is not one
    /// (the connection settings report that, with the variable's place).
    pub fn of_vars(vars: &crate::value::Vars) -> Option<ConnectionKind> {
        let value = ["connection", "ansible_connection"]
            .iter()
            .find_map(|n| vars.get(*n).filter(|v| !v.is_null()));
        match value {
            None => Some(ConnectionKind::Ssh),
            Some(v) => {
                let text = scalar_string(v)?;
                ConnectionKind::parse(&text, &crate::inventory::resolve_platform(vars))
            }
        }
    }

    /// The port a host of this kind listens on unless `port` says otherwise.
    pub fn default_port(self) -> u16 {
        match self {
            ConnectionKind::Ssh => 22,
            ConnectionKind::Telnet => 23,
            ConnectionKind::Netconf => 830,
            ConnectionKind::Eapi | ConnectionKind::Nxapi | ConnectionKind::Restconf => 443,
        }
    }

    /// The name shown in messages.
    pub fn name(self) -> &'static str {
        match self {
            ConnectionKind::Ssh => "ssh",
            ConnectionKind::Telnet => "telnet",
            ConnectionKind::Netconf => "netconf",
            ConnectionKind::Eapi => "eapi",
            ConnectionKind::Nxapi => "nxapi",
            ConnectionKind::Restconf => "restconf",
        }
    }

    /// Whether the transport is a device HTTP API.
    pub fn is_http(self) -> bool {
        matches!(
            self,
            ConnectionKind::Eapi | ConnectionKind::Nxapi | ConnectionKind::Restconf
        )
    }

    /// Whether the transport runs over an SSH session (host keys, jump hosts, SCP/SFTP).
    pub fn is_ssh(self) -> bool {
        matches!(self, ConnectionKind::Ssh | ConnectionKind::Netconf)
    }
}

/// Everything needed to open (and keep) a connection to one host.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// The inventory name, used in every message.
    pub host_name: String,
    /// The transport (`connection` / `ansible_connection`).
    pub kind: ConnectionKind,
    /// What to connect to (`host` / `ansible_host`; default: the inventory name).
    pub address: String,
    pub port: u16,
    /// Tried in turn; the first that authenticates is used for the rest of the run.
    pub credentials: Vec<Credential>,
    pub auth_methods: Vec<AuthMethod>,
    pub enable_secret: Option<Secret>,
    /// Platform profile name (`platform`, or `ansible_network_os` mapped, else
    /// [`crate::inventory::DEFAULT_PLATFORM`]).
    pub platform: String,
    pub host_key_checking: HostKeyChecking,
    pub known_hosts_file: PathBuf,
    /// The ssh-agent socket (`ssh_agent_socket`); `None`: `$SSH_AUTH_SOCK` at connect time.
    pub agent_socket: Option<PathBuf>,
    pub algorithms: Algorithms,
    pub jumps: Vec<JumpHost>,
    /// What the bastions authenticate with (see the `ssh_jump_*` variables).
    pub jump_credentials: Vec<Credential>,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    /// `None`: no keepalives.
    pub keepalive_interval: Option<Duration>,
    /// Output kept per command (see [`crate::transport::capture`]).
    pub max_output: u64,
    /// Telnet's own variables (`telnet_ok`, `telnet_enter`).
    pub telnet: crate::transport::telnet::TelnetSettings,
    /// How the host's HTTP API is reached (eAPI, NX-API, RESTCONF, the `api` action).
    pub http: crate::transport::http::HttpSettings,
}

/// Variables this module reads (for "did you mean" hints elsewhere and documentation).
pub const CONNECTION_VARS: &[&str] = &[
    "host",
    "ansible_host",
    "connection",
    "ansible_connection",
    "port",
    "ansible_port",
    "user",
    "ansible_user",
    "password",
    "ansible_password",
    "ansible_ssh_pass",
    "private_key_file",
    "ansible_ssh_private_key_file",
    "private_key_passphrase",
    "enable_secret",
    "ansible_become_password",
    "platform",
    "ansible_network_os",
    "credentials",
    "auth_methods",
    "host_key_checking",
    "ansible_host_key_checking",
    "known_hosts_file",
    "ssh_agent_socket",
    "ssh_kex",
    "ssh_ciphers",
    "ssh_hostkeys",
    "ssh_macs",
    "ssh_legacy",
    "ssh_jump",
    "ssh_jump_user",
    "ssh_jump_password",
    "ssh_jump_private_key_file",
    "ssh_jump_private_key_passphrase",
    "ssh_jump_use_host_credentials",
    "connect_timeout",
    "command_timeout",
    "keepalive_interval",
    "transfer_timeout",
    "max_output",
    "telnet_ok",
    "telnet_enter",
    // HTTP device APIs (crate::transport::http::HttpSettings)
    "api_port",
    "ansible_httpapi_port",
    "api_use_ssl",
    "ansible_httpapi_use_ssl",
    "validate_certs",
    "ansible_httpapi_validate_certs",
    "ca_file",
    "api_ca_file",
    "api_token",
    "api_retries",
    "netconf_port",
];

pub use crate::inventory::platform_from_network_os;

impl ConnectionSettings {
    /// Build the settings for `host_name` from its merged, rendered variables.
    pub fn from_vars(host_name: &str, vars: &Vars) -> Result<ConnectionSettings, TransportError> {
        let r = Reader {
            host: host_name,
            vars,
        };
        let address = r
            .non_empty(&["host", "ansible_host"])?
            .unwrap_or_else(|| host_name.to_string());
        let platform = match r.non_empty(&["platform"])? {
            Some(p) => p,
            None => r.non_empty(&["ansible_network_os"])?.map_or_else(
                || crate::inventory::DEFAULT_PLATFORM.to_string(),
                |os| platform_from_network_os(&os),
            ),
        };

        // The kind validation judged the host's tasks by (`of_vars`): one reading of it.
        let kind = match (
            ConnectionKind::of_vars(vars),
            r.first(&["connection", "ansible_connection"]),
        ) {
            (Some(kind), _) => kind,
            (None, None) => ConnectionKind::Ssh,
            (None, Some((n, v))) => {
                let text = scalar_string(v).unwrap_or_default();
                let hint = crate::source::suggest(
                    text.rsplit('.').next().unwrap_or(&text),
                    ConnectionKind::NAMES.iter().copied(),
                )
                .map(|h| format!(" (did you mean `{h}`?)"))
                .unwrap_or_default();
                return Err(r.err(
                    n,
                    format!(
                        "expected a connection ({}), got {}{hint}",
                        ConnectionKind::NAMES.join(", "),
                        show(v)
                    ),
                ));
            }
        };
        let port = match r.first(&["port", "ansible_port"]) {
            None => kind.default_port(),
            Some((n, v)) => scalar_string(v)
                .and_then(|s| s.trim().parse::<u16>().ok())
                .filter(|p| *p != 0)
                .ok_or_else(|| {
                    r.err(
                        n,
                        format!("expected a port number 1-65535, got {}", show(v)),
                    )
                })?,
        };

        let user = r.non_empty(&["user", "ansible_user"])?;
        let password = r
            .string(&["password", "ansible_password", "ansible_ssh_pass"])?
            .map(Secret::new);
        let key_file = r
            .non_empty(&["private_key_file", "ansible_ssh_private_key_file"])?
            .map(|p| expand_home(&p));
        let passphrase = r.string(&["private_key_passphrase"])?.map(Secret::new);
        let enable_secret = r
            .string(&["enable_secret", "ansible_become_password"])?
            .map(Secret::new);

        let fallback_user = || {
            std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .ok()
                .filter(|u| !u.is_empty())
        };

        let mut extra = Vec::new();
        if let Some(v) = vars.get("credentials").filter(|v| !v.is_null()) {
            let Value::Array(items) = v else {
                return Err(r.err(
                    "credentials",
                    format!(
                        "expected a list of {{user, password, private_key_file}}, got {}",
                        kind_of(v)
                    ),
                ));
            };
            for (i, item) in items.iter().enumerate() {
                let Value::Object(map) = item else {
                    return Err(r.err(
                        "credentials",
                        format!("item {i}: expected a mapping with user/password/private_key_file, got {}", kind_of(item)),
                    ));
                };
                for k in map.keys() {
                    if ![
                        "user",
                        "password",
                        "private_key_file",
                        "private_key_passphrase",
                    ]
                    .contains(&k.as_str())
                    {
                        return Err(r.err(
                            "credentials",
                            format!("item {i}: unknown key `{k}`; expected user, password, private_key_file, private_key_passphrase"),
                        ));
                    }
                }
                let text = |k: &str| -> Result<Option<String>, TransportError> {
                    match map.get(k) {
                        None | Some(Value::Null) => Ok(None),
                        Some(v) => scalar_string(v).map(Some).ok_or_else(|| {
                            r.err("credentials", format!("item {i}: `{k}` must be a string"))
                        }),
                    }
                };
                let cuser = text("user")?
                    .filter(|s| !s.is_empty())
                    .or_else(|| user.clone())
                    .or_else(fallback_user)
                    .ok_or_else(|| r.err("credentials", format!("item {i}: no `user`")))?;
                let cpass = text("password")?.map(Secret::new);
                let ckey = text("private_key_file")?
                    .filter(|s| !s.is_empty())
                    .map(|p| expand_home(&p));
                if cpass.is_none() && ckey.is_none() {
                    return Err(r.err(
                        "credentials",
                        format!("item {i}: needs a password or a private_key_file"),
                    ));
                }
                extra.push(Credential {
                    label: format!("credentials[{i}] ({cuser})"),
                    user: cuser,
                    password: cpass,
                    private_key_file: ckey,
                    private_key_passphrase: text("private_key_passphrase")?.map(Secret::new),
                });
            }
        }

        let mut credentials = Vec::new();
        // The main set comes first; with only a `credentials` list and no main password or
        // key, the main set is left out (it could only try the agent).
        let main_has_material = password.is_some() || key_file.is_some();
        if main_has_material || extra.is_empty() {
            let u = user.clone().or_else(fallback_user).ok_or_else(|| {
                r.err(
                    "user",
                    "no user given (set `user` or `ansible_user`, or $USER for the default)",
                )
            })?;
            credentials.push(Credential {
                label: u.clone(),
                user: u,
                password,
                private_key_file: key_file,
                private_key_passphrase: passphrase,
            });
        }
        credentials.extend(extra);

        let jump_user = r.non_empty(&["ssh_jump_user"])?;
        let jump_password = r.string(&["ssh_jump_password"])?.map(Secret::new);
        let jump_key = r
            .non_empty(&["ssh_jump_private_key_file"])?
            .map(|p| expand_home(&p));
        let jump_credentials = if r.bool("ssh_jump_use_host_credentials")? == Some(true) {
            credentials.clone()
        } else if jump_password.is_some() || jump_key.is_some() {
            let u = jump_user
                .clone()
                .or_else(|| user.clone())
                .or_else(fallback_user)
                .ok_or_else(|| r.err("ssh_jump_user", "no user for the jump hosts"))?;
            vec![Credential {
                label: format!("ssh_jump ({u})"),
                user: u,
                password: jump_password,
                private_key_file: jump_key,
                private_key_passphrase: r
                    .string(&["ssh_jump_private_key_passphrase"])?
                    .map(Secret::new),
            }]
        } else {
            // The host's users and keys (and the agent), without its passwords: a bastion
            // is another machine, and the device's password is not its to see.
            let mut out: Vec<Credential> = Vec::new();
            for c in &credentials {
                let mut c = c.clone();
                c.password = None;
                if let Some(u) = &jump_user {
                    c.user = u.clone();
                }
                if !out
                    .iter()
                    .any(|o| o.user == c.user && o.private_key_file == c.private_key_file)
                {
                    out.push(c);
                }
            }
            out
        };

        let auth_methods = match r.list("auth_methods")? {
            None => DEFAULT_AUTH_METHODS.to_vec(),
            Some(items) => {
                let mut out = Vec::new();
                for i in items {
                    let m = AuthMethod::parse(&i).ok_or_else(|| {
                        r.err(
                            "auth_methods",
                            format!(
                                "unknown method `{i}`; expected {}",
                                AuthMethod::NAMES.join(", ")
                            ),
                        )
                    })?;
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
                out
            }
        };

        let host_key_checking = match r.first(&["host_key_checking", "ansible_host_key_checking"]) {
            None => HostKeyChecking::Strict,
            Some((n, v)) => scalar_string(v)
                .and_then(|s| HostKeyChecking::parse(&s))
                .ok_or_else(|| {
                    r.err(
                        n,
                        format!(
                            "expected strict, accept-new or off (or true/false), got {}",
                            show(v)
                        ),
                    )
                })?,
        };
        let known_hosts_file = r
            .non_empty(&["known_hosts_file"])?
            .map(|p| expand_home(&p))
            .unwrap_or_else(default_known_hosts);

        let agent_socket = r.non_empty(&["ssh_agent_socket"])?.map(|p| expand_home(&p));

        let mut algorithms = Algorithms::default();
        if r.bool("ssh_legacy")? == Some(true) {
            let add = |list: &mut Vec<String>, extra: &[&str]| {
                list.extend(extra.iter().map(|s| s.to_string()));
            };
            add(&mut algorithms.kex, LEGACY_KEX);
            add(&mut algorithms.hostkeys, LEGACY_HOSTKEYS);
            add(&mut algorithms.ciphers, LEGACY_CIPHERS);
            add(&mut algorithms.macs, LEGACY_MACS);
        }
        algorithm_list(&r, "ssh_kex", &mut algorithms.kex)?;
        algorithm_list(&r, "ssh_hostkeys", &mut algorithms.hostkeys)?;
        algorithm_list(&r, "ssh_ciphers", &mut algorithms.ciphers)?;
        algorithm_list(&r, "ssh_macs", &mut algorithms.macs)?;

        let mut jumps = Vec::new();
        if let Some(items) = r.list("ssh_jump")? {
            for i in items {
                let j = JumpHost::parse(&i)
                    .ok_or_else(|| r.err("ssh_jump", format!("`{i}` is not [user@]host[:port]")))?;
                jumps.push(j);
            }
        }

        let connect_timeout = r
            .seconds(
                &["connect_timeout", "ansible_connect_timeout"],
                Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS),
                false,
            )?
            .unwrap_or(Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS));
        let command_timeout = r
            .seconds(
                &["command_timeout", "ansible_command_timeout"],
                Duration::from_secs(DEFAULT_COMMAND_TIMEOUT_SECS),
                false,
            )?
            .unwrap_or(Duration::from_secs(DEFAULT_COMMAND_TIMEOUT_SECS));
        let keepalive_interval = r.seconds(
            &["keepalive_interval"],
            Duration::from_secs(DEFAULT_KEEPALIVE_SECS),
            true,
        )?;
        let max_output = r.size("max_output", DEFAULT_MAX_OUTPUT, MIN_MAX_OUTPUT)?;

        Ok(ConnectionSettings {
            host_name: host_name.to_string(),
            kind,
            address,
            port,
            credentials,
            auth_methods,
            enable_secret,
            platform,
            host_key_checking,
            known_hosts_file,
            agent_socket,
            algorithms,
            jumps,
            jump_credentials,
            connect_timeout,
            command_timeout,
            keepalive_interval,
            max_output,
            telnet: crate::transport::telnet::TelnetSettings::from_vars(host_name, vars)?,
            http: crate::transport::http::HttpSettings::from_vars(host_name, vars, kind.is_http())?,
        })
    }

    /// `address:port` as shown in messages.
    pub fn endpoint(&self) -> String {
        if self.address.contains(':') {
            format!("[{}]:{}", self.address, self.port)
        } else {
            format!("{}:{}", self.address, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Vars {
        match v {
            Value::Object(m) => m,
            _ => panic!("test vars must be a mapping"),
        }
    }

    #[test]
    fn ansible_names_and_defaults() {
        let s = ConnectionSettings::from_vars(
            "r1",
            &vars(json!({"ansible_host": "10.0.0.1", "ansible_user": "ops",
                "ansible_password": "pw", "ansible_network_os": "cisco.ios.ios"})),
        )
        .unwrap();
        assert_eq!(s.address, "10.0.0.1");
        assert_eq!(s.port, 22);
        assert_eq!(s.credentials.len(), 1);
        assert_eq!(s.credentials[0].user, "ops");
        assert_eq!(s.credentials[0].password.as_ref().unwrap().expose(), "pw");
        assert_eq!(s.platform, "cisco_ios");
        assert_eq!(s.host_key_checking, HostKeyChecking::Strict);
        assert_eq!(s.connect_timeout, Duration::from_secs(10));
        assert_eq!(s.command_timeout, Duration::from_secs(30));
        assert_eq!(s.algorithms, Algorithms::default());
        assert!(s.jumps.is_empty());
        assert!(s.known_hosts_file.ends_with(".ssh/known_hosts"));
    }

    #[test]
    fn connection_kinds_and_their_ports() {
        let kind = |mut v: Value| {
            v["user"] = json!("ops");
            ConnectionSettings::from_vars("r1", &vars(v)).map(|s| (s.kind, s.port))
        };
        assert_eq!(kind(json!({})).unwrap(), (ConnectionKind::Ssh, 22));
        assert_eq!(
            kind(json!({"ansible_connection": "ansible.netcommon.network_cli"})).unwrap(),
            (ConnectionKind::Ssh, 22)
        );
        assert_eq!(
            kind(json!({"connection": "telnet"})).unwrap(),
            (ConnectionKind::Telnet, 23)
        );
        assert_eq!(
            kind(json!({"ansible_connection": "ansible.netcommon.netconf", "port": 2830})).unwrap(),
            (ConnectionKind::Netconf, 2830)
        );
        assert_eq!(
            kind(json!({"ansible_connection": "httpapi", "ansible_network_os": "arista.eos.eos"}))
                .unwrap(),
            (ConnectionKind::Eapi, 443)
        );
        assert_eq!(
            kind(json!({"ansible_connection": "httpapi", "platform": "cisco_nxos"}))
                .unwrap()
                .0,
            ConnectionKind::Nxapi
        );
        let e = kind(json!({"connection": "telent"}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`connection`") && e.contains("did you mean `telnet`?"),
            "{e}"
        );
    }

    #[test]
    fn netorch_names_win_over_ansible() {
        let s = ConnectionSettings::from_vars(
            "r1",
            &vars(
                json!({"host": "a", "ansible_host": "b", "port": "2222", "ansible_port": 22,
                "user": "x", "ansible_user": "y", "platform": "arista_eos",
                "ansible_network_os": "ios"}),
            ),
        )
        .unwrap();
        assert_eq!((s.address.as_str(), s.port), ("a", 2222));
        assert_eq!(s.credentials[0].user, "x");
        assert_eq!(s.platform, "arista_eos");
        assert_eq!(s.endpoint(), "a:2222");
    }

    #[test]
    fn bad_values_name_host_and_variable() {
        let cases = [
            (json!({"user": "u", "port": "http"}), "port"),
            (json!({"user": "u", "ansible_port": 70000}), "ansible_port"),
            (
                json!({"user": "u", "host_key_checking": "maybe"}),
                "host_key_checking",
            ),
            (
                json!({"user": "u", "connect_timeout": "soon"}),
                "connect_timeout",
            ),
            (
                json!({"user": "u", "command_timeout": 0}),
                "command_timeout",
            ),
            (json!({"user": "u", "ssh_jump": "a@"}), "ssh_jump"),
            (
                json!({"user": "u", "auth_methods": ["password", "telepathy"]}),
                "auth_methods",
            ),
            (json!({"user": "u", "ssh_kex": ["+a", "b"]}), "ssh_kex"),
            (json!({"user": "u", "ssh_legacy": "sure"}), "ssh_legacy"),
            (
                json!({"user": "u", "credentials": [{"user": "a"}]}),
                "credentials",
            ),
            (
                json!({"user": "u", "credentials": [{"usr": "a", "password": "p"}]}),
                "credentials",
            ),
            (json!({"user": ["u"]}), "user"),
        ];
        for (v, var) in cases {
            let e = ConnectionSettings::from_vars("edge-7", &vars(v.clone())).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("edge-7"), "{v}: {msg}");
            assert!(msg.contains(&format!("`{var}`")), "{v}: {msg}");
        }
    }

    #[test]
    fn jump_hosts_never_get_the_device_password_unless_asked() {
        let base = json!({"user": "ops", "password": "dev-pw", "private_key_file": "/k/id",
            "credentials": [{"user": "alt", "password": "alt-pw"}], "ssh_jump": "bastion"});
        let s = ConnectionSettings::from_vars("r1", &vars(base.clone())).unwrap();
        assert!(s.credentials.iter().any(|c| c.password.is_some()));
        assert!(
            s.jump_credentials.iter().all(|c| c.password.is_none()),
            "{:?}",
            s.jump_credentials
        );
        assert_eq!(s.jump_credentials[0].user, "ops");
        assert_eq!(
            s.jump_credentials[0].private_key_file.as_deref(),
            Some(std::path::Path::new("/k/id"))
        );
        let mut own = base.clone();
        own["ssh_jump_user"] = json!("jumper");
        own["ssh_jump_password"] = json!("jump-pw");
        let s = ConnectionSettings::from_vars("r1", &vars(own)).unwrap();
        assert_eq!(s.jump_credentials.len(), 1);
        assert_eq!(s.jump_credentials[0].user, "jumper");
        assert_eq!(
            s.jump_credentials[0].password.as_ref().map(|p| p.expose()),
            Some("jump-pw")
        );
        let mut same = base;
        same["ssh_jump_use_host_credentials"] = json!(true);
        let s = ConnectionSettings::from_vars("r1", &vars(same)).unwrap();
        assert_eq!(s.jump_credentials, s.credentials);
    }

    #[test]
    fn a_bad_credentials_item_is_not_echoed() {
        let e = ConnectionSettings::from_vars(
            "r1",
            &vars(json!({"user": "u", "credentials": ["Hunter2-Secret"]})),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("credentials") && !e.contains("Hunter2-Secret"),
            "{e}"
        );
    }

    #[test]
    fn host_key_checking_forms() {
        for (v, want) in [
            (json!(false), HostKeyChecking::Off),
            (json!(true), HostKeyChecking::Strict),
            (json!("accept-new"), HostKeyChecking::AcceptNew),
            (json!("False"), HostKeyChecking::Off),
        ] {
            let s = ConnectionSettings::from_vars(
                "h",
                &vars(json!({"user": "u", "ansible_host_key_checking": v})),
            )
            .unwrap();
            assert_eq!(s.host_key_checking, want);
        }
    }

    #[test]
    fn legacy_and_algorithm_lists() {
        let s = ConnectionSettings::from_vars("h", &vars(json!({"user": "u", "ssh_legacy": true})))
            .unwrap();
        assert!(s
            .algorithms
            .kex
            .contains(&"diffie-hellman-group14-sha1".to_string()));
        assert_eq!(s.algorithms.kex[0], "curve25519-sha256");
        let s = ConnectionSettings::from_vars(
            "h",
            &vars(
                json!({"user": "u", "ssh_kex": "diffie-hellman-group14-sha1",
                "ssh_ciphers": ["+aes128-cbc"]}),
            ),
        )
        .unwrap();
        assert_eq!(s.algorithms.kex, vec!["diffie-hellman-group14-sha1"]);
        assert_eq!(s.algorithms.ciphers.last().unwrap(), "aes128-cbc");
        assert_eq!(s.algorithms.ciphers.len(), MODERN_CIPHERS.len() + 1);
    }

    #[test]
    fn jump_hosts_parse() {
        assert_eq!(
            JumpHost::parse("ops@bastion:2222"),
            Some(JumpHost {
                user: Some("ops".into()),
                host: "bastion".into(),
                port: 2222
            })
        );
        assert_eq!(
            JumpHost::parse("10.1.1.1"),
            Some(JumpHost {
                user: None,
                host: "10.1.1.1".into(),
                port: 22
            })
        );
        assert_eq!(
            JumpHost::parse("[::1]:2200").map(|j| (j.host, j.port)),
            Some(("::1".into(), 2200))
        );
        assert_eq!(JumpHost::parse("h:0"), None);
        assert_eq!(JumpHost::parse(""), None);
        let s = ConnectionSettings::from_vars(
            "h",
            &vars(json!({"user": "u", "ssh_jump": ["a@b1:2201", "b2"]})),
        )
        .unwrap();
        assert_eq!(s.jumps.len(), 2);
        assert_eq!(s.jumps[0].to_string(), "a@b1:2201");
    }

    #[test]
    fn credential_sets_in_order() {
        let s = ConnectionSettings::from_vars(
            "h",
            &vars(json!({"user": "tacacs", "password": "t",
                "credentials": [{"user": "local", "password": "l"}, {"private_key_file": "~/k"}]})),
        )
        .unwrap();
        let users: Vec<_> = s.credentials.iter().map(|c| c.user.as_str()).collect();
        assert_eq!(users, ["tacacs", "local", "tacacs"]);
        assert_eq!(s.credentials[1].label, "credentials[0] (local)");
        assert!(!format!("{:?}", s.credentials).contains("\"l\""));
        // Only a list: the main set (no password, no key) is left out.
        let s = ConnectionSettings::from_vars(
            "h",
            &vars(json!({"credentials": [{"user": "a", "password": "p"}]})),
        )
        .unwrap();
        assert_eq!(s.credentials.len(), 1);
    }

    #[test]
    fn durations_and_keepalive() {
        let s = ConnectionSettings::from_vars(
            "h",
            &vars(
                json!({"user": "u", "connect_timeout": "500ms", "command_timeout": 2.5,
                "keepalive_interval": 0}),
            ),
        )
        .unwrap();
        assert_eq!(s.connect_timeout, Duration::from_millis(500));
        assert_eq!(s.command_timeout, Duration::from_millis(2500));
        assert_eq!(s.keepalive_interval, None);
        // The old reader knew no `h`: "2h" was an error here and silently ignored by transfers.
        let s = ConnectionSettings::from_vars(
            "h",
            &vars(json!({"user": "u", "command_timeout": "2h", "ssh_legacy": "y"})),
        )
        .unwrap();
        assert_eq!(s.command_timeout, Duration::from_secs(7200));
        assert!(s
            .algorithms
            .kex
            .contains(&"diffie-hellman-group1-sha1".to_string()));
        let e = ConnectionSettings::from_vars(
            "edge-7",
            &vars(json!({"user": "u", "command_timeout": "a while"})),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("edge-7") && e.contains("`command_timeout`"),
            "{e}"
        );
        assert!(e.contains("string \"a while\""), "{e}");
    }

    #[test]
    fn network_os_mapping() {
        for (os, p) in [
            ("cisco.ios.ios", "cisco_ios"),
            ("ios", "cisco_ios"),
            ("arista.eos.eos", "arista_eos"),
            ("junipernetworks.junos.junos", "juniper_junos"),
            ("cisco.nxos.nxos", "cisco_nxos"),
            ("cisco.iosxr.iosxr", "cisco_iosxr"),
            ("my_os", "my_os"),
        ] {
            assert_eq!(platform_from_network_os(os), p);
        }
    }
}
