//! NETCONF over SSH (RFC 6241, RFC 6242): the `netconf` subsystem on the host's SSH
//! session, so host keys, jump hosts and credential sets work as for any SSH host.
//!
//! - [`framing`]: base:1.0 end-of-message and base:1.1 chunked framing, bounded.
//! - [`session`]: hello, capabilities, RPCs matched by message-id, `<rpc-error>`s.
//! - [`xml`]: replies as structured values (xmltodict's shape) and YAML as XML.
//! - [`ops`]: the standard operations' XML.
//!
//! [`NetconfBackend`] is the [`Backend`] of `connection: netconf` hosts: the netconf_*
//! actions reach its session; `command` works on Junos (its `<command>` RPC); backup
//! reads the running datastore.

pub mod framing;
pub mod ops;
pub mod session;
pub mod xml;

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use session::{NetconfSession, Reply, RpcError};

use crate::device::connection::{Backend, Connection};
use crate::device::profile::{PlatformProfile, ProfileSet};
use crate::device::{DeviceError, Response};
use crate::transport::settings::ConnectionSettings;
use crate::transport::ssh::{SshOptions, SshSession};

/// Open a `connection: netconf` host.
pub fn open(
    settings: &ConnectionSettings,
    profile: Arc<PlatformProfile>,
    ssh: &SshOptions,
    timeout: Option<Duration>,
) -> Result<Connection, DeviceError> {
    let session = NetconfSession::open(settings, ssh, timeout)?;
    let warnings = session.ssh().warnings().to_vec();
    let abort = Some(session.ssh().abort_handle());
    let backend = NetconfBackend {
        session,
        profile: Arc::clone(&profile),
    };
    Ok(Connection::from_backend(
        Box::new(backend),
        settings,
        profile,
        warnings,
        abort,
    ))
}

/// Resolve the host's platform and open a NETCONF session beside its usual connection
/// (`backup_via: netconf` on a host reached over the CLI).
pub fn open_session(
    settings: &ConnectionSettings,
    profiles: &ProfileSet,
    timeout: Option<Duration>,
) -> Result<NetconfSession, DeviceError> {
    profiles.resolve(&settings.host_name, &settings.platform)?;
    NetconfSession::open(settings, &SshOptions::default(), timeout)
}

pub struct NetconfBackend {
    pub session: NetconfSession,
    pub profile: Arc<PlatformProfile>,
}

impl NetconfBackend {
    fn is_junos(&self) -> bool {
        self.profile.name.contains("junos")
    }

    /// The running config for backups: Junos's own text form where the device offers it,
    /// else the `<data>` of get-config as indented XML.
    pub fn running_config(&mut self, timeout: Duration) -> Result<Response, DeviceError> {
        let junos = self.is_junos();
        running_config(&mut self.session, junos, timeout)
    }
}

/// See [`NetconfBackend::running_config`].
pub fn running_config(
    session: &mut NetconfSession,
    junos: bool,
    timeout: Duration,
) -> Result<Response, DeviceError> {
    let start = Instant::now();
    if junos {
        let reply = session.rpc(
            "<get-configuration format=\"text\" database=\"committed\"/>",
            timeout,
        )?;
        let text = ops::junos_text(&reply.xml, "configuration-text");
        return Ok(Response {
            command: "get-configuration format=text".into(),
            output: text.unwrap_or_default(),
            failed: reply.error_text(),
            exit_status: None,
            stderr: String::new(),
            elapsed_ms: start.elapsed().as_millis() as u64,
        });
    }
    let reply = session.rpc(&ops::get_config("running", None), timeout)?;
    let output = ops::data_xml(&reply.xml, true).unwrap_or_default();
    Ok(Response {
        command: "get-config running".into(),
        output,
        failed: reply.error_text(),
        exit_status: None,
        stderr: String::new(),
        elapsed_ms: start.elapsed().as_millis() as u64,
    })
}

impl Backend for NetconfBackend {
    fn run_command(&mut self, cmd: &str, timeout: Duration) -> Result<Response, DeviceError> {
        if !self.is_junos() {
            return Err(self.unsupported(&format!(
                "the CLI command `{cmd}` (NETCONF has no CLI; use netconf_get or netconf_rpc, or `connection: ssh` for commands)"
            )));
        }
        let start = Instant::now();
        let reply = self.session.rpc(
            &format!("<command format=\"text\">{}</command>", xml::escape(cmd)),
            timeout,
        )?;
        Ok(Response {
            command: cmd.to_string(),
            output: ops::junos_text(&reply.xml, "output").unwrap_or_default(),
            failed: reply.error_text(),
            exit_status: None,
            stderr: String::new(),
            elapsed_ms: start.elapsed().as_millis() as u64,
        })
    }

    fn send_config_with(
        &mut self,
        _lines: &[String],
        _enter: Option<&str>,
        _commit: Option<&str>,
        _timeout: Duration,
    ) -> Result<Response, DeviceError> {
        Err(self.unsupported(
            "CLI config lines (use netconf_config with XML or YAML content, or `connection: ssh` for `config:`)",
        ))
    }

    fn set_max_output(&mut self, cap: u64) {
        self.session.set_max_output(cap);
    }

    fn ssh(&self) -> Option<&SshSession> {
        Some(self.session.ssh())
    }

    fn unsupported(&self, what: &str) -> DeviceError {
        DeviceError::Unsupported {
            host: self.session.host().to_string(),
            platform: format!("{} over netconf", self.profile.name),
            what: what.to_string(),
        }
    }

    fn close(self: Box<Self>) {
        self.session.close();
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
