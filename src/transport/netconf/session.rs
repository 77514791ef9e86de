//! A NETCONF session on an SSH channel: hello and capabilities, then RPCs matched to their
//! replies by message-id, with `<rpc-error>`s read out of each reply.
//!
//! A session that timed out or broke framing mid-message cannot be trusted to be in step
//! with the server any more: it is marked broken and every later RPC fails at once.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use ssh2::{Channel, Session};

use super::framing::{encode, FrameError, FrameReader, Framing};
use super::xml;
use crate::device::DeviceError;
use crate::transport::settings::ConnectionSettings;
use crate::transport::ssh::{set_deadline, SshOptions, SshSession};
use crate::transport::TransportError;

pub const BASE_NS: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
pub const BASE_10: &str = "urn:ietf:params:netconf:base:1.0";
pub const BASE_11: &str = "urn:ietf:params:netconf:base:1.1";

/// Replies to other message-ids (a late answer to an RPC given up on) and notifications
/// skipped while waiting for one reply, before the server counts as confused.
const MAX_SKIPPED: usize = 64;

/// One `<rpc-error>`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RpcError {
    pub error_type: String,
    pub tag: String,
    pub severity: String,
    pub path: Option<String>,
    pub message: Option<String>,
    pub info: Option<String>,
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.error_type, self.tag, self.severity)?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if let Some(p) = &self.path {
            write!(f, " [path {p}]")?;
        }
        if let Some(i) = &self.info {
            write!(f, " [{i}]")?;
        }
        Ok(())
    }
}

/// An `<rpc-reply>`: its text and the errors it carries (`severity` error, and warnings).
#[derive(Debug, Clone)]
pub struct Reply {
    pub xml: String,
    pub errors: Vec<RpcError>,
}

impl Reply {
    /// The errors of severity `error` (warnings do not fail an operation).
    pub fn failures(&self) -> impl Iterator<Item = &RpcError> {
        self.errors.iter().filter(|e| e.severity != "warning")
    }

    /// All errors in one line each, for a task's message.
    pub fn error_text(&self) -> Option<String> {
        let v: Vec<String> = self.failures().map(|e| e.to_string()).collect();
        (!v.is_empty()).then(|| v.join("; "))
    }
}

pub struct NetconfSession {
    // Field order is drop order: the channel goes before the session it lives on.
    channel: Channel,
    ssh: SshSession,
    reader: FrameReader,
    framing: Framing,
    capabilities: Vec<String>,
    session_id: Option<String>,
    next_id: u64,
    broken: Option<String>,
}

impl std::fmt::Debug for NetconfSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetconfSession")
            .field("host", &self.ssh.host())
            .field("framing", &self.framing)
            .field("session_id", &self.session_id)
            .finish()
    }
}

/// Reads from the channel, each read bounded by what is left of the deadline.
struct Bounded<'a> {
    channel: &'a mut Channel,
    session: &'a Session,
    deadline: Instant,
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !set_deadline(self.session, self.deadline) {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        self.channel.read(buf)
    }
}

impl NetconfSession {
    /// Connect over SSH (host keys, jump hosts and credentials as for any SSH host), open
    /// the `netconf` subsystem and exchange hellos.
    pub fn open(
        settings: &ConnectionSettings,
        opts: &SshOptions,
        timeout: Option<Duration>,
    ) -> Result<NetconfSession, DeviceError> {
        let ssh = SshSession::connect(settings, opts)?;
        let channel = ssh.open_subsystem("netconf").map_err(|e| match e {
            TransportError::Session { host, what, reason } => {
                DeviceError::Transport(TransportError::Session {
                    host,
                    what,
                    reason: format!(
                        "{reason}\n hint: is NETCONF enabled on the device (Junos: `set system services netconf ssh`; IOS-XE: `netconf-yang`) and is the port ({}) its NETCONF port?",
                        settings.port
                    ),
                })
            }
            e => e.into(),
        })?;
        let mut s = NetconfSession {
            channel,
            reader: FrameReader::new(settings.max_output),
            framing: Framing::EndOfMessage,
            capabilities: Vec::new(),
            session_id: None,
            next_id: 1,
            broken: None,
            ssh,
        };
        s.hello(timeout.unwrap_or(settings.command_timeout))?;
        Ok(s)
    }

    fn hello(&mut self, timeout: Duration) -> Result<(), DeviceError> {
        let ours = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><hello xmlns=\"{BASE_NS}\"><capabilities><capability>{BASE_10}</capability><capability>{BASE_11}</capability></capabilities></hello>"
        );
        let deadline = Instant::now() + timeout;
        self.send(ours.as_bytes(), deadline, timeout, "the hello")?;
        let msg = self.receive(deadline, timeout, "the server's hello")?;
        let doc = xml::parse(&msg, "the server's hello").map_err(|e| self.protocol(e))?;
        let root = doc.root_element();
        if root.tag_name().name() != "hello" {
            return Err(self.protocol(format!(
                "expected <hello> first, got <{}>",
                root.tag_name().name()
            )));
        }
        let caps: Vec<String> = root
            .descendants()
            .filter(|n| n.has_tag_name("capability"))
            .filter_map(|n| n.text())
            .map(|t| t.trim().to_string())
            .collect();
        if !caps.iter().any(|c| c == BASE_10 || c == BASE_11) {
            return Err(
                self.protocol("the server's hello announces neither base:1.0 nor base:1.1".into())
            );
        }
        self.session_id = root
            .descendants()
            .find(|n| n.has_tag_name("session-id"))
            .and_then(|n| n.text())
            .map(|t| t.trim().to_string());
        if caps.iter().any(|c| c == BASE_11) {
            self.framing = Framing::Chunked;
        }
        self.capabilities = caps;
        Ok(())
    }

    pub fn host(&self) -> &str {
        self.ssh.host()
    }

    pub fn ssh(&self) -> &SshSession {
        &self.ssh
    }

    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Whether the server announced a capability (`:candidate`, `:validate`, ...): a
    /// capability URI starting with `urn:ietf:params:netconf:capability` + `name`.
    pub fn has(&self, name: &str) -> bool {
        let want = format!("urn:ietf:params:netconf:capability{name}");
        self.capabilities.iter().any(|c| c.starts_with(&want))
    }

    /// The largest reply kept (the task's or host's `max_output`).
    pub fn set_max_output(&mut self, cap: u64) {
        self.reader.set_limit(cap);
    }

    /// Send one operation (the XML inside `<rpc>`) and wait for its reply.
    pub fn rpc(&mut self, operation: &str, timeout: Duration) -> Result<Reply, DeviceError> {
        if let Some(why) = &self.broken {
            return Err(DeviceError::Closed {
                host: self.host().to_string(),
                what: "NETCONF RPC".into(),
                partial: String::new(),
                reason: format!("the session is unusable after an earlier error: {why}"),
            });
        }
        let id = self.next_id;
        self.next_id += 1;
        let msg = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rpc message-id=\"{id}\" xmlns=\"{BASE_NS}\">{operation}</rpc>"
        );
        let what = format!("NETCONF RPC {}", op_name(operation));
        let deadline = Instant::now() + timeout;
        self.send(msg.as_bytes(), deadline, timeout, &what)?;
        let want = id.to_string();
        for _ in 0..MAX_SKIPPED {
            let text = self.receive(deadline, timeout, &what)?;
            let doc = xml::parse(&text, "the reply").map_err(|e| self.protocol(e))?;
            let root = doc.root_element();
            match root.tag_name().name() {
                "rpc-reply" => {}
                "notification" => continue,
                other => return Err(self.protocol(format!("expected <rpc-reply>, got <{other}>"))),
            }
            // A reply without message-id (some servers answer malformed RPCs so) is ours:
            // only one RPC is ever outstanding.
            match root.attribute("message-id") {
                Some(got) if got != want => continue,
                _ => {}
            }
            let errors = root
                .children()
                .filter(|n| n.has_tag_name("rpc-error"))
                .map(rpc_error)
                .collect();
            drop(doc);
            return Ok(Reply { xml: text, errors });
        }
        Err(self.protocol(format!(
            "no reply with message-id {id} among {MAX_SKIPPED} messages"
        )))
    }

    fn send(
        &mut self,
        msg: &[u8],
        deadline: Instant,
        timeout: Duration,
        what: &str,
    ) -> Result<(), DeviceError> {
        let framing = if what == "the hello" {
            Framing::EndOfMessage
        } else {
            self.framing
        };
        let bytes = encode(msg, framing);
        set_deadline(self.ssh.session(), deadline);
        // No flush(): on an ssh2 channel it discards data already received (a fast
        // server's hello), it does not push ours out; write_all has sent it all.
        let r = self.channel.write_all(&bytes);
        r.map_err(|e| self.io_err(e, what, timeout))
    }

    fn receive(
        &mut self,
        deadline: Instant,
        timeout: Duration,
        what: &str,
    ) -> Result<String, DeviceError> {
        let framing = if what == "the server's hello" {
            Framing::EndOfMessage
        } else {
            self.framing
        };
        let mut r = Bounded {
            channel: &mut self.channel,
            session: self.ssh.session(),
            deadline,
        };
        let got = self.reader.read_message(&mut r, framing);
        let bytes = match got {
            Ok(b) => b,
            Err(FrameError::Io(e)) => return Err(self.io_err(e, what, timeout)),
            Err(FrameError::Eof) => {
                self.broken = Some("the server closed the channel".into());
                return Err(DeviceError::Closed {
                    host: self.host().to_string(),
                    what: what.to_string(),
                    partial: String::new(),
                    reason: "the server closed the NETCONF channel".into(),
                });
            }
            Err(e) => return Err(self.protocol(format!("{what}: {e}"))),
        };
        String::from_utf8(bytes)
            .map(|s| s.trim().to_string())
            .map_err(|_| self.protocol(format!("{what} is not UTF-8")))
    }

    fn io_err(&mut self, e: std::io::Error, what: &str, timeout: Duration) -> DeviceError {
        if e.kind() == std::io::ErrorKind::TimedOut {
            self.broken = Some(format!("{what} timed out"));
            return DeviceError::Transport(TransportError::Timeout {
                host: self.host().to_string(),
                what: format!("{what} (waiting for a complete NETCONF message)"),
                secs: timeout.as_secs_f64(),
                partial: String::new(),
            });
        }
        self.broken = Some(e.to_string());
        DeviceError::Closed {
            host: self.host().to_string(),
            what: what.to_string(),
            partial: String::new(),
            reason: e.to_string(),
        }
    }

    fn protocol(&mut self, reason: String) -> DeviceError {
        self.broken = Some(reason.clone());
        DeviceError::Transport(TransportError::Session {
            host: self.host().to_string(),
            what: "NETCONF".into(),
            reason: format!("the server broke the protocol: {reason}"),
        })
    }

    /// `<close-session/>`, bounded: a dead server must not hold up the run.
    pub fn close(mut self) {
        if self.broken.is_none() {
            let _ = self.rpc("<close-session/>", Duration::from_secs(2));
        }
    }
}

/// The operation's element name, for messages (`get-config`).
pub fn op_name(operation: &str) -> String {
    let t = operation.trim_start().trim_start_matches('<');
    t.split(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn rpc_error(n: xml::Node<'_, '_>) -> RpcError {
    let field = |name: &str| {
        n.children()
            .find(|c| c.has_tag_name(name))
            .map(|c| {
                c.descendants()
                    .filter(|d| d.is_text())
                    .filter_map(|d| d.text())
                    .collect::<String>()
                    .trim()
                    .to_string()
            })
            .filter(|t| !t.is_empty())
    };
    let info = n
        .children()
        .find(|c| c.has_tag_name("error-info"))
        .map(|c| {
            c.children()
                .filter(|d| d.is_element())
                .map(|d| {
                    format!(
                        "{}: {}",
                        d.tag_name().name(),
                        d.text().unwrap_or_default().trim()
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|t| !t.is_empty());
    RpcError {
        error_type: field("error-type").unwrap_or_default(),
        tag: field("error-tag").unwrap_or_default(),
        severity: field("error-severity").unwrap_or_else(|| "error".into()),
        path: field("error-path"),
        message: field("error-message"),
        info,
    }
}
