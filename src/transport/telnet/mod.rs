//! Telnet: the device CLI (the same [`Driver`] as over SSH: modes, prompts, paging,
//! config, save) over a plain TCP stream, for legacy gear and console servers.
//!
//! - [`protocol`]: IAC commands and option negotiation, line endings, escaping.
//! - `stream`: the TCP stream as a [`crate::device::channel::CliStream`].
//! - `login`: the `Username:` / `Password:` dialogue, banners, console-server prompts.
//!
//! Host variables (besides `host`, `port` (23), `user`, `password`, `credentials`,
//! `enable_secret`, `connect_timeout`, `command_timeout`):
//! `telnet_ok: true` silences the plain-text warning; `telnet_enter: crlf | crnul` is
//! what Enter sends (`\r\n` by default).

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use crate::device::connection::{CliBackend, Connection};
use crate::device::driver::Driver;
use crate::device::profile::{PlatformProfile, Session};
use crate::device::DeviceError;
use crate::transport::settings::{bool_var, settings_error, ConnectionKind, ConnectionSettings};
use crate::transport::ssh::{AbortHandle, DEFAULT_PTY_COLS, DEFAULT_PTY_ROWS};
use crate::transport::TransportError;
use crate::value::Vars;

mod login;
pub mod protocol;
mod stream;

pub use login::{LoginPatterns, LoginSpec};
pub use protocol::Enter;
pub use stream::TelnetStream;

/// A host's telnet-only settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TelnetSettings {
    /// The inventory accepts plain text for this host: no warning.
    pub plain_text_ok: bool,
    pub enter: Enter,
}

impl TelnetSettings {
    pub fn from_vars(host: &str, vars: &Vars) -> Result<TelnetSettings, TransportError> {
        let plain_text_ok = bool_var(host, "telnet_ok", vars)?.unwrap_or(false);
        let enter = match vars.get("telnet_enter") {
            None | Some(serde_json::Value::Null) => Enter::default(),
            Some(v) => match v.as_str().map(|s| s.trim().to_ascii_lowercase()).as_deref() {
                Some("crlf") => Enter::CrLf,
                Some("crnul") | Some("cr") => Enter::CrNul,
                _ => {
                    return Err(settings_error(
                        host,
                        "telnet_enter",
                        format!("expected crlf or crnul, got {}", crate::value::show(v)),
                    ))
                }
            },
        };
        Ok(TelnetSettings {
            plain_text_ok,
            enter,
        })
    }
}

/// The warning a telnet host gets unless `telnet_ok: true`.
pub const PLAIN_TEXT_WARNING: &str = "telnet is plain text: the password and everything sent \
     cross the network unencrypted (set `telnet_ok: true` for this host or group to accept that)";

/// Connect, negotiate, log in and open the platform's CLI. `timeout` bounds the login and
/// each step of opening the CLI (default: the host's `command_timeout`).
pub fn open(
    settings: &ConnectionSettings,
    profile: Arc<PlatformProfile>,
    timeout: Option<Duration>,
) -> Result<Connection, DeviceError> {
    let host = settings.host_name.as_str();
    if profile.session != Session::Pty {
        return Err(DeviceError::Unsupported {
            host: host.to_string(),
            platform: profile.name.clone(),
            what: "telnet (a shell host runs commands over SSH exec channels)".into(),
        });
    }
    if !settings.jumps.is_empty() {
        // Silently going direct would reach another network (or nothing): refuse.
        return Err(DeviceError::Unsupported {
            host: host.to_string(),
            platform: profile.name.clone(),
            what: "`ssh_jump` with `connection: telnet` (telnet goes straight to the device; \
                   reach it over SSH, or drop `ssh_jump` for this host)"
                .into(),
        });
    }
    let t = timeout.unwrap_or(settings.command_timeout);
    let (tcp, addr) = connect(settings)?;
    let abort =
        tcp.try_clone()
            .map(AbortHandle::from_tcp)
            .map_err(|e| TransportError::Connect {
                host: host.to_string(),
                addr: addr.to_string(),
                reason: e.to_string(),
            })?;
    let cols = u16::try_from(DEFAULT_PTY_COLS).unwrap_or(u16::MAX);
    let rows = u16::try_from(DEFAULT_PTY_ROWS).unwrap_or(u16::MAX);
    let mut stream = TelnetStream::new(tcp, cols, rows, settings.telnet.enter);
    login::login(
        &mut stream,
        host,
        &addr.to_string(),
        &profile,
        &settings.credentials,
        t,
    )?;
    let driver = Driver::open_stream_shared(
        stream,
        host,
        Arc::clone(&profile),
        settings.enable_secret.as_ref(),
        t,
        settings.max_output,
    )?;
    let mut warnings = Vec::new();
    if !settings.telnet.plain_text_ok {
        warnings.push(PLAIN_TEXT_WARNING.to_string());
    }
    Ok(Connection::from_backend(
        Box::new(CliBackend {
            driver,
            ssh: None,
            kind: ConnectionKind::Telnet,
        }),
        settings,
        profile,
        warnings,
        Some(abort),
    ))
}

/// TCP to the host's address and port, each resolved address tried in turn.
fn connect(settings: &ConnectionSettings) -> Result<(TcpStream, SocketAddr), TransportError> {
    let host = settings.host_name.clone();
    let timeout = settings.connect_timeout;
    let addrs: Vec<SocketAddr> = (settings.address.as_str(), settings.port)
        .to_socket_addrs()
        .map_err(|e| TransportError::Resolve {
            host: host.clone(),
            target: settings.address.clone(),
            reason: e.to_string(),
        })?
        .collect();
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                // Request/response with small writes: Nagle only adds delay.
                let _ = s.set_nodelay(true);
                return Ok((s, a));
            }
            Err(e) => last = Some((a, e)),
        }
    }
    let Some((a, e)) = last else {
        return Err(TransportError::Resolve {
            host,
            target: settings.address.clone(),
            reason: "no addresses".into(),
        });
    };
    Err(crate::transport::connect_failure(
        host, a, &e, timeout, "telnet",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: serde_json::Value) -> Vars {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn telnet_variables_are_read_and_bad_values_named() {
        let s = ConnectionSettings::from_vars(
            "r1",
            &vars(
                json!({"ansible_connection": "telnet", "user": "u", "password": "p",
                "telnet_ok": "yes", "telnet_enter": "CRNUL"}),
            ),
        )
        .unwrap();
        assert_eq!(s.kind, ConnectionKind::Telnet);
        assert_eq!(s.port, 23);
        assert!(s.telnet.plain_text_ok);
        assert_eq!(s.telnet.enter, Enter::CrNul);
        let d = TelnetSettings::from_vars("r1", &vars(json!({}))).unwrap();
        assert_eq!((d.plain_text_ok, d.enter), (false, Enter::CrLf));
        let e = TelnetSettings::from_vars("r1", &vars(json!({"telnet_enter": "lf"})))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("r1") && e.contains("telnet_enter") && e.contains("crlf"),
            "{e}"
        );
        let e = TelnetSettings::from_vars("r1", &vars(json!({"telnet_ok": "maybe"})))
            .unwrap_err()
            .to_string();
        assert!(e.contains("telnet_ok"), "{e}");
    }
}
