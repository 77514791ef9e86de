//! A minimal SSH client (russh) for the sim's own tests and the load tool: connect with an
//! optional pinned host key, authenticate, and drive a PTY shell (send a line, read until a
//! prompt) or an exec channel. netorch itself uses its own ssh2 transport, not this.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use russh::client::{self, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use russh::ChannelMsg;

/// Accepts the server key when it equals the pinned one (or any key when none is pinned).
pub struct Checker {
    pub expected: Option<PublicKey>,
}

impl client::Handler for Checker {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return Ok(false);
        };
        Ok(match &self.expected {
            Some(k) => k.key_data() == key.key_data(),
            None => true,
        })
    }
}

/// Opens a connection (no authentication yet).
pub async fn connect(
    addr: std::net::SocketAddr,
    expected: Option<PublicKey>,
) -> Result<Handle<Checker>> {
    let config = Arc::new(client::Config {
        inactivity_timeout: None,
        nodelay: true,
        ..Default::default()
    });
    client::connect(config, addr, Checker { expected })
        .await
        .with_context(|| format!("ssh connect to {addr}"))
}

/// Connects and logs in with a password.
pub async fn login(
    addr: std::net::SocketAddr,
    user: &str,
    password: &str,
    expected: Option<PublicKey>,
) -> Result<Handle<Checker>> {
    let mut h = connect(addr, expected).await?;
    let r = h.authenticate_password(user, password).await?;
    if !r.success() {
        bail!("password authentication to {addr} rejected");
    }
    Ok(h)
}

/// Logs in with keyboard-interactive, answering every prompt with `password`.
pub async fn login_keyboard_interactive(
    h: &mut Handle<Checker>,
    user: &str,
    password: &str,
) -> Result<bool> {
    use russh::client::KeyboardInteractiveAuthResponse as R;
    let mut r = h
        .authenticate_keyboard_interactive_start(user, None::<String>)
        .await?;
    for _ in 0..4 {
        match r {
            R::Success => return Ok(true),
            R::Failure { .. } => return Ok(false),
            R::InfoRequest { prompts, .. } => {
                let answers = prompts.iter().map(|_| password.to_string()).collect();
                r = h.authenticate_keyboard_interactive_respond(answers).await?;
            }
        }
    }
    Ok(false)
}

/// Logs in with a private key.
pub async fn login_key(h: &mut Handle<Checker>, user: &str, key: PrivateKey) -> Result<bool> {
    let r = h
        .authenticate_publickey(user, PrivateKeyWithHashAlg::new(Arc::new(key), None))
        .await?;
    Ok(r.success())
}

/// Runs one command on an exec channel: (output, exit status).
pub async fn exec(h: &Handle<Checker>, command: &str) -> Result<(String, Option<u32>)> {
    let mut ch = h.channel_open_session().await?;
    ch.exec(true, command).await?;
    let mut out = Vec::new();
    let mut status = None;
    while let Some(msg) = ch.wait().await {
        match msg {
            ChannelMsg::Data { data } => out.extend_from_slice(&data),
            ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    Ok((String::from_utf8_lossy(&out).into_owned(), status))
}

/// An interactive PTY shell.
pub struct Term {
    ch: russh::Channel<client::Msg>,
    /// Received and not yet consumed.
    pub buf: String,
    pub closed: bool,
}

impl Term {
    /// Opens a session channel with a PTY (`cols` x 24) and a shell.
    pub async fn open(h: &Handle<Checker>, cols: u32) -> Result<Term> {
        let ch = h.channel_open_session().await?;
        ch.request_pty(false, "vt100", cols, 24, 0, 0, &[]).await?;
        ch.request_shell(false).await?;
        Ok(Term {
            ch,
            buf: String::new(),
            closed: false,
        })
    }

    pub async fn send(&self, text: &str) -> Result<()> {
        self.ch.data(text.as_bytes()).await?;
        Ok(())
    }

    /// Reads until `pattern` appears; returns everything up to and including it.
    pub async fn read_until(&mut self, pattern: &str, timeout: Duration) -> Result<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(i) = self.buf.find(pattern) {
                let end = i + pattern.len();
                let head: String = self.buf.drain(..end).collect();
                return Ok(head);
            }
            if self.closed {
                bail!("channel closed before {pattern:?}; got {:?}", self.buf);
            }
            let msg = tokio::time::timeout_at(deadline, self.ch.wait())
                .await
                .map_err(|_| anyhow!("timed out waiting for {pattern:?}; got {:?}", self.buf))?;
            match msg {
                Some(ChannelMsg::Data { data }) => {
                    self.buf.push_str(&String::from_utf8_lossy(&data))
                }
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => self.closed = true,
                Some(_) => {}
            }
        }
    }

    /// Reads until the output ends with a prompt-like `>` or `#` (any platform).
    pub async fn read_until_prompt(&mut self, timeout: Duration) -> Result<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let t = self.buf.trim_end_matches(' ');
            if t.ends_with('>') || t.ends_with('#') {
                return Ok(std::mem::take(&mut self.buf));
            }
            if self.closed {
                bail!("channel closed before a prompt; got {:?}", self.buf);
            }
            let msg = tokio::time::timeout_at(deadline, self.ch.wait())
                .await
                .map_err(|_| anyhow!("timed out waiting for a prompt; got {:?}", self.buf))?;
            match msg {
                Some(ChannelMsg::Data { data }) => {
                    self.buf.push_str(&String::from_utf8_lossy(&data))
                }
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => self.closed = true,
                Some(_) => {}
            }
        }
    }

    /// Sends a command and reads its answer up to `prompt`.
    pub async fn cmd(&mut self, line: &str, prompt: &str, timeout: Duration) -> Result<String> {
        self.send(&format!("{line}\r")).await?;
        self.read_until(prompt, timeout).await
    }
}
