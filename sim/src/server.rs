//! The SSH side: one listener task per device on one tokio runtime, a russh handler per
//! connection (password, public-key and keyboard-interactive auth; pty-req, shell, exec,
//! window-change), and one small task per shell channel that feeds keystrokes to the
//! device's [`Shell`], applies the configured latency and faults, and writes the answers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use russh::keys::PrivateKey;
use russh::server::{Auth, ChannelOpenHandle, Handle, Msg, Response, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::device::{Device, FailMode};
use crate::platform::Platform;
use crate::shell::Shell;

/// The ed25519 host key of a device, derived from (seed, name) so it survives restarts.
pub fn host_key(seed: u64, name: &str) -> PrivateKey {
    let digest = Sha256::new()
        .chain_update(b"netorch-sim host key\0")
        .chain_update(seed.to_be_bytes())
        .chain_update(name.as_bytes())
        .finalize();
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&digest);
    let pair = russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&bytes);
    PrivateKey::from(pair)
}

/// Key exchanges a network device offers: no post-quantum hybrid (no device has one, and it
/// would make every handshake dearer for the benchmarks), plus group14-sha1 as old boxes do.
static DEVICE_KEX: &[russh::kex::Name] = &[
    russh::kex::CURVE25519,
    russh::kex::CURVE25519_PRE_RFC_8731,
    russh::kex::ECDH_SHA2_NISTP256,
    russh::kex::ECDH_SHA2_NISTP384,
    russh::kex::ECDH_SHA2_NISTP521,
    russh::kex::DH_GEX_SHA256,
    russh::kex::DH_G16_SHA512,
    russh::kex::DH_G14_SHA256,
    russh::kex::DH_G14_SHA1,
    russh::kex::EXTENSION_SUPPORT_AS_SERVER,
    russh::kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
];

/// The russh configuration of one device (its host key, auth methods, timeouts).
pub fn ssh_config(key: PrivateKey, platform: Platform) -> Arc<russh::server::Config> {
    let id = match platform {
        Platform::CiscoIos | Platform::CiscoIosxr => "SSH-2.0-Cisco-1.25",
        Platform::CiscoNxos => "SSH-2.0-OpenSSH_8.3 PKIX[12.5.1]",
        _ => "SSH-2.0-OpenSSH_7.5",
    };
    Arc::new(russh::server::Config {
        server_id: russh::SshId::Standard(id.into()),
        methods: MethodSet::from(
            &[
                MethodKind::Password,
                MethodKind::PublicKey,
                MethodKind::KeyboardInteractive,
            ][..],
        ),
        auth_rejection_time: Duration::from_millis(100),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![key],
        inactivity_timeout: Some(Duration::from_secs(3600)),
        nodelay: true,
        preferred: russh::Preferred {
            kex: std::borrow::Cow::Borrowed(DEVICE_KEX),
            ..Default::default()
        },
        // Small buffers keep 1,000 open sessions cheap; device output is small.
        channel_buffer_size: 16,
        event_buffer_size: 8,
        ..Default::default()
    })
}

/// A device with its bound listener, ready to serve.
pub struct Bound {
    pub device: Arc<Device>,
    pub listener: TcpListener,
    pub addr: SocketAddr,
    pub config: Arc<russh::server::Config>,
}

/// Where accepted connections are logged (`--connection-log`).
static CONNECTION_LOG: std::sync::OnceLock<std::sync::Mutex<std::fs::File>> =
    std::sync::OnceLock::new();

pub fn log_connections_to(file: std::fs::File) {
    let _ = CONNECTION_LOG.set(std::sync::Mutex::new(file));
}

pub(crate) fn log_connection(device: &str) {
    use std::io::Write;
    if let Some(log) = CONNECTION_LOG.get() {
        let mut f = match log.lock() {
            Ok(f) => f,
            Err(p) => p.into_inner(),
        };
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let _ = writeln!(f, "{}.{:06} {device}", t.as_secs(), t.subsec_micros());
    }
}

/// Serves a device until the process ends.
pub fn spawn_listener(bound: Bound) {
    tokio::spawn(async move {
        let conn_counter = Arc::new(AtomicU64::new(0));
        loop {
            let (sock, _peer) = match bound.listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    eprintln!("netorch-sim: {}: accept failed: {e}", bound.device.name);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            log_connection(&bound.device.name);
            if bound.device.fail == Some(FailMode::Refuse) {
                drop(sock);
                continue;
            }
            let _ = sock.set_nodelay(true);
            let n = conn_counter.fetch_add(1, Ordering::Relaxed);
            let handler = Conn::new(bound.device.clone(), n);
            let config = bound.config.clone();
            tokio::spawn(async move {
                if let Ok(session) = russh::server::run_stream(config, sock, handler).await {
                    let _ = session.await;
                }
            });
        }
    });
}

pub(crate) enum Input {
    Data(Vec<u8>),
    Resize(u32, u32),
}

#[derive(Default)]
struct ChanState {
    pty: Option<(u32, u32)>,
    tx: Option<mpsc::UnboundedSender<Input>>,
}

/// Per-connection state shared with its channel tasks.
struct ConnShared {
    device: Arc<Device>,
    /// Commands received on this connection (for drop-after / hang-after).
    commands: std::sync::atomic::AtomicUsize,
    rng: std::sync::Mutex<u64>,
}

impl ConnShared {
    /// Counts a command and says what the configured fault wants done with it.
    fn next_command(&self) -> Fault {
        let n = self.commands.fetch_add(1, Ordering::SeqCst) + 1;
        match self.device.fail {
            Some(FailMode::DropAfter(k)) if n >= k => Fault::Drop,
            Some(FailMode::HangAfter(k)) if n >= k => Fault::Hang,
            Some(FailMode::TruncateAfter(k)) if n >= k => Fault::Truncate,
            Some(FailMode::FloodAfter(k)) if n >= k => Fault::Flood,
            _ => Fault::None,
        }
    }

    /// Latency plus a jitter drawn from a per-connection xorshift stream.
    fn delay(&self) -> Duration {
        let s = &self.device.settings;
        if s.jitter.is_zero() {
            return s.latency;
        }
        let mut g = match self.rng.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let mut x = *g;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *g = x;
        let j = s.jitter.as_micros() as u64;
        s.latency + Duration::from_micros(x % (j + 1))
    }
}

#[derive(PartialEq, Eq)]
enum Fault {
    None,
    Drop,
    Hang,
    Truncate,
    Flood,
}

/// Send the same lines until the client goes away; `data` waits for the channel window,
/// so a client that stops reading stops the flood.
async fn flood(handle: &Handle, channel: ChannelId) {
    let chunk = "flood: the device keeps talking and never shows a prompt\r\n".repeat(512);
    while handle
        .data(channel, chunk.clone().into_bytes())
        .await
        .is_ok()
    {}
}

struct Conn {
    shared: Arc<ConnShared>,
    user: String,
    channels: HashMap<ChannelId, ChanState>,
}

impl Conn {
    fn new(device: Arc<Device>, n: u64) -> Conn {
        let seed = device.settings.seed ^ ((device.index as u64) << 20) ^ n ^ 0x9e37_79b9_7f4a_7c15;
        Conn {
            shared: Arc::new(ConnShared {
                device,
                commands: std::sync::atomic::AtomicUsize::new(0),
                rng: std::sync::Mutex::new(seed | 1),
            }),
            user: String::new(),
            channels: HashMap::new(),
        }
    }

    fn device(&self) -> &Device {
        &self.shared.device
    }

    fn password_ok(&self, user: &str, password: &str) -> bool {
        let s = &self.device().settings;
        self.device().fail != Some(FailMode::AuthFail) && user == s.user && password == s.password
    }

    fn key_ok(&self, user: &str, key: &russh::keys::PublicKey) -> bool {
        let s = &self.device().settings;
        self.device().fail != Some(FailMode::AuthFail)
            && user == s.user
            && s.authorized_keys
                .iter()
                .any(|k| k.key_data() == key.key_data())
    }
}

impl russh::server::Handler for Conn {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        if self.password_ok(user, password) {
            self.user = user.to_string();
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.key_ok(user, offer.public_key) {
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.key_ok(user, key.public_key) {
            self.user = user.to_string();
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        match response {
            None => Ok(Auth::Partial {
                name: "".into(),
                instructions: "".into(),
                prompts: vec![("Password: ".into(), false)].into(),
            }),
            Some(mut answers) => {
                let given = answers
                    .next()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                if self.password_ok(user, &given) {
                    self.user = user.to_string();
                    Ok(Auth::Accept)
                } else {
                    Ok(Auth::reject())
                }
            }
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Data reaches us through `data()`; the Channel object is not read, so drop it (its
        // bounded queue would otherwise fill up and stall the connection).
        let id = channel.id();
        drop(channel);
        self.channels.insert(id, ChanState::default());
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(c) = self.channels.get_mut(&channel) {
            c.pty = Some((col_width, row_height));
        }
        session.channel_success(channel)?;
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(c) = self.channels.get_mut(&channel) {
            c.pty = Some((col_width, row_height));
            if let Some(tx) = &c.tx {
                let _ = tx.send(Input::Resize(col_width, row_height));
            }
        }
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(state) = self.channels.get_mut(&channel) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        let (tx, rx) = mpsc::unbounded_channel();
        state.tx = Some(tx);
        let mut shell = Shell::new(self.shared.device.clone(), &self.user);
        if let Some((cols, rows)) = state.pty {
            shell.set_window(cols, rows);
        }
        session.channel_success(channel)?;
        tokio::spawn(run_shell(
            shell,
            self.shared.clone(),
            session.handle(),
            channel,
            rx,
        ));
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let command = String::from_utf8_lossy(data).trim().to_string();
        // File transfer (`scp -t` / `scp -f`): the channel's data goes to the SCP server.
        if let (Some(job), Some(state)) = (
            crate::scp::Job::parse(&command),
            self.channels.get_mut(&channel),
        ) {
            let (tx, rx) = mpsc::unbounded_channel();
            state.tx = Some(tx);
            session.channel_success(channel)?;
            let device = self.shared.device.clone();
            tokio::spawn(crate::scp::serve(
                job,
                device,
                session.handle(),
                channel,
                rx,
            ));
            return Ok(());
        }
        let pty = self.channels.get(&channel).is_some_and(|c| c.pty.is_some());
        session.channel_success(channel)?;
        let shared = self.shared.clone();
        let handle = session.handle();
        let user = self.user.clone();
        tokio::spawn(async move {
            let fault = shared.next_command();
            match fault {
                Fault::Drop => {
                    disconnect(&handle).await;
                    return;
                }
                Fault::Hang => return,
                Fault::Flood => return flood(&handle, channel).await,
                Fault::None | Fault::Truncate => {}
            }
            let delay = shared.delay();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let mut shell = Shell::new(shared.device.clone(), &user);
            let (mut out, status) = shell.exec(&command, pty);
            if fault == Fault::Truncate {
                out.truncate(out.len() / 2);
                let _ = handle.data(channel, out).await;
                disconnect(&handle).await;
                return;
            }
            if !out.is_empty() {
                let _ = handle.data(channel, out).await;
            }
            let _ = handle.exit_status_request(channel, status).await;
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // SFTP onto the device's flash: filesystem (src/sftp.rs).
        if let (true, Some(state)) = (name == "sftp", self.channels.get_mut(&channel)) {
            let (tx, rx) = mpsc::unbounded_channel();
            state.tx = Some(tx);
            session.channel_success(channel)?;
            crate::sftp::serve(self.shared.device.clone(), session.handle(), channel, rx);
            return Ok(());
        }
        // NETCONF on Junos devices (src/netconf.rs).
        let junos = self.device().platform == crate::platform::Platform::JuniperJunos;
        if let (true, true, Some(state)) =
            (name == "netconf", junos, self.channels.get_mut(&channel))
        {
            let (tx, rx) = mpsc::unbounded_channel();
            state.tx = Some(tx);
            session.channel_success(channel)?;
            let shared = self.shared.clone();
            crate::netconf::serve(
                self.shared.device.clone(),
                self.user.clone(),
                session.handle(),
                channel,
                rx,
                move || match shared.next_command() {
                    Fault::Drop => crate::netconf::Fault::Drop,
                    Fault::Hang => crate::netconf::Fault::Hang,
                    Fault::Flood => crate::netconf::Fault::Flood,
                    Fault::None | Fault::Truncate => crate::netconf::Fault::None,
                },
            );
            return Ok(());
        }
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = self.channels.get(&channel).and_then(|c| c.tx.as_ref()) {
            let _ = tx.send(Input::Data(data.to_vec()));
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // The shell task ends when its input sender goes away.
        if let Some(c) = self.channels.get_mut(&channel) {
            c.tx = None;
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.remove(&channel);
        Ok(())
    }
}

async fn disconnect(handle: &Handle) {
    let _ = handle
        .disconnect(
            russh::Disconnect::ByApplication,
            "connection dropped by netorch-sim fault injection".into(),
            "en".into(),
        )
        .await;
}

/// Drives one interactive shell: keystrokes in, answers out.
async fn run_shell(
    mut shell: Shell,
    shared: Arc<ConnShared>,
    handle: Handle,
    channel: ChannelId,
    mut rx: mpsc::UnboundedReceiver<Input>,
) {
    shell.start();
    if handle.data(channel, shell.take_output()).await.is_err() {
        return;
    }
    let mut hung = false;
    let mut buf: Vec<u8> = Vec::new();
    while let Some(input) = rx.recv().await {
        if hung {
            continue;
        }
        match input {
            Input::Resize(cols, rows) => {
                shell.set_window(cols, rows);
                continue;
            }
            Input::Data(d) => buf.extend_from_slice(&d),
        }
        while !buf.is_empty() {
            let (used, command) = shell.feed(&buf);
            buf.drain(..used);
            let echo = shell.take_output();
            if !echo.is_empty() && handle.data(channel, echo).await.is_err() {
                return;
            }
            let Some(command) = command else { continue };
            let fault = shared.next_command();
            match fault {
                Fault::Drop => {
                    disconnect(&handle).await;
                    return;
                }
                Fault::Hang => {
                    hung = true;
                    buf.clear();
                    break;
                }
                Fault::Flood => return flood(&handle, channel).await,
                Fault::None | Fault::Truncate => {}
            }
            let delay = shared.delay();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            shell.run(&command);
            let mut out = shell.take_output();
            if fault == Fault::Truncate {
                out.truncate(out.len() / 2);
                let _ = handle.data(channel, out).await;
                disconnect(&handle).await;
                return;
            }
            if !out.is_empty() && handle.data(channel, out).await.is_err() {
                return;
            }
            if shell.closed() {
                let _ = handle.exit_status_request(channel, 0).await;
                let _ = handle.eof(channel).await;
                let _ = handle.close(channel).await;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Settings;

    #[test]
    fn host_keys_follow_seed_and_name() {
        let a = host_key(1, "r1").public_key().to_openssh().unwrap();
        assert_eq!(a, host_key(1, "r1").public_key().to_openssh().unwrap());
        assert_ne!(a, host_key(2, "r1").public_key().to_openssh().unwrap());
        assert_ne!(a, host_key(1, "r2").public_key().to_openssh().unwrap());
        assert!(a.starts_with("ssh-ed25519 "));
    }

    #[test]
    fn delays_stay_within_latency_plus_jitter() {
        let mut s = Settings::for_tests();
        s.latency = Duration::from_millis(10);
        s.jitter = Duration::from_millis(5);
        let dev = Arc::new(Device::new("r1", Platform::CiscoIos, 0, None, Arc::new(s)));
        let conn = Conn::new(dev, 0);
        let delays: Vec<Duration> = (0..200).map(|_| conn.shared.delay()).collect();
        assert!(delays
            .iter()
            .all(|d| *d >= Duration::from_millis(10) && *d <= Duration::from_millis(15)));
        assert!(delays.iter().any(|d| *d != delays[0]), "jitter varies");
    }

    #[test]
    fn drop_and_hang_count_commands_per_connection() {
        let dev = Arc::new(Device::new(
            "r1",
            Platform::CiscoIos,
            0,
            Some(FailMode::DropAfter(2)),
            Arc::new(Settings::for_tests()),
        ));
        let conn = Conn::new(dev.clone(), 0);
        assert!(conn.shared.next_command() == Fault::None);
        assert!(conn.shared.next_command() == Fault::Drop);
        // A new connection starts counting again.
        let again = Conn::new(dev, 1);
        assert!(again.shared.next_command() == Fault::None);
    }
}
