//! Jump hosts: carrying an SSH session through a bastion's `direct-tcpip` channel.
//!
//! libssh2 only runs a session over a socket file descriptor, and a channel is not one. So
//! for each hop a Unix socketpair is made: the next session gets one end as its "TCP
//! stream", and a relay thread copies bytes between the other end and the bastion's
//! channel. The relay owns the bastion session (switched to non-blocking mode, so one
//! thread can serve both directions) and waits for readiness on both sockets with a
//! single-threaded tokio reactor, never with sleeps. It ends when either side closes:
//! dropping the inner session closes its socket end, the relay sends EOF on the channel,
//! exits and drops the bastion session, which in turn closes the hop before it.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use ssh2::{BlockDirections, Channel, Session};
use tokio::io::Interest;

/// The socket a session runs on: TCP for the first hop, one end of a socketpair after it.
pub enum HopStream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl HopStream {
    pub fn try_clone(&self) -> io::Result<HopStream> {
        Ok(match self {
            HopStream::Tcp(s) => HopStream::Tcp(s.try_clone()?),
            HopStream::Unix(s) => HopStream::Unix(s.try_clone()?),
        })
    }
}

impl AsRawFd for HopStream {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            HopStream::Tcp(s) => s.as_raw_fd(),
            HopStream::Unix(s) => s.as_raw_fd(),
        }
    }
}

/// The bastion socket as seen by the reactor. Its readiness flags are cleared by hand
/// (`try_io` with a closure that reports `WouldBlock`) because libssh2, not tokio, does the
/// reading and writing.
enum Watched {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

impl Watched {
    fn new(s: HopStream) -> io::Result<Watched> {
        Ok(match s {
            HopStream::Tcp(t) => {
                t.set_nonblocking(true)?;
                Watched::Tcp(tokio::net::TcpStream::from_std(t)?)
            }
            HopStream::Unix(u) => {
                u.set_nonblocking(true)?;
                Watched::Unix(tokio::net::UnixStream::from_std(u)?)
            }
        })
    }

    async fn wait(&self, interest: Interest) -> io::Result<()> {
        let blocked = || Err::<(), _>(io::Error::from(io::ErrorKind::WouldBlock));
        match self {
            Watched::Tcp(t) => {
                t.ready(interest).await?;
                let _ = t.try_io(interest, blocked);
            }
            Watched::Unix(u) => {
                u.ready(interest).await?;
                let _ = u.try_io(interest, blocked);
            }
        }
        Ok(())
    }
}

const RELAY_BUF: usize = 32 * 1024;

/// Start relaying between `channel` (on the bastion `session`, whose socket is
/// `bastion_sock`) and `local`. The thread owns everything it is given.
pub fn spawn_relay(
    session: Session,
    channel: Channel,
    bastion_sock: HopStream,
    local: UnixStream,
    label: String,
    keepalive: Option<Duration>,
) -> io::Result<()> {
    std::thread::Builder::new()
        .name(format!("netorch-jump {label}"))
        .stack_size(256 * 1024)
        .spawn(move || {
            if let Err(e) = relay(&session, channel, bastion_sock, local, keepalive) {
                tracing::debug!("jump relay {label} ended: {e}");
            }
        })?;
    Ok(())
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

fn relay(
    session: &Session,
    mut channel: Channel,
    bastion_sock: HopStream,
    local: UnixStream,
    keepalive: Option<Duration>,
) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    if let Some(k) = keepalive {
        let secs = u32::try_from(k.as_secs()).unwrap_or(u32::MAX).max(2);
        session.set_keepalive(true, secs);
    }
    session.set_blocking(false);
    local.set_nonblocking(true)?;
    rt.block_on(async move {
        let bastion = Watched::new(bastion_sock)?;
        let local = tokio::net::UnixStream::from_std(local)?;
        let mut up = vec![0u8; RELAY_BUF];
        let (mut up_off, mut up_len) = (0usize, 0usize);
        let mut down = vec![0u8; RELAY_BUF];
        let (mut down_off, mut down_len) = (0usize, 0usize);
        let mut local_eof = false;
        // The bastion's own keepalives: the relay is the only user of its session.
        let far_future = Duration::from_secs(86_400 * 365);
        let mut next_keepalive = tokio::time::Instant::now() + keepalive.unwrap_or(far_future);
        let mut eof_sent = false;
        loop {
            let mut progress = false;

            // Inner session -> bastion channel.
            if up_off == up_len && !local_eof {
                match local.try_read(&mut up) {
                    Ok(0) => {
                        local_eof = true;
                        progress = true;
                    }
                    Ok(n) => {
                        (up_off, up_len) = (0, n);
                        progress = true;
                    }
                    Err(e) if would_block(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            if up_off < up_len {
                match channel.write(&up[up_off..up_len]) {
                    Ok(n) if n > 0 => {
                        up_off += n;
                        progress = true;
                    }
                    Ok(_) => {}
                    Err(e) if would_block(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            if local_eof && up_off == up_len && !eof_sent {
                match channel.send_eof() {
                    Ok(()) => {
                        eof_sent = true;
                        progress = true;
                    }
                    Err(e) => {
                        let e = io::Error::from(e);
                        if !would_block(&e) {
                            return Ok(());
                        }
                    }
                }
            }
            if eof_sent {
                // The inner session is gone; nothing left to deliver to it.
                let _ = channel.close();
                return Ok(());
            }

            // Bastion channel -> inner session.
            if down_off == down_len {
                match channel.read(&mut down) {
                    Ok(0) => {
                        if channel.eof() {
                            return Ok(());
                        }
                    }
                    Ok(n) => {
                        (down_off, down_len) = (0, n);
                        progress = true;
                    }
                    Err(e) if would_block(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            if down_off < down_len {
                match local.try_write(&down[down_off..down_len]) {
                    Ok(n) => {
                        down_off += n;
                        progress = true;
                    }
                    Err(e) if would_block(&e) => {}
                    Err(e) => return Err(e),
                }
            }

            if progress {
                continue;
            }
            let dirs = session.block_directions();
            let want_out = matches!(dirs, BlockDirections::Outbound | BlockDirections::Both);
            let want_local_read = up_off == up_len && !local_eof;
            let want_local_write = down_off < down_len;
            tokio::select! {
                r = bastion.wait(Interest::READABLE) => r?,
                r = bastion.wait(Interest::WRITABLE), if want_out => r?,
                r = local.readable(), if want_local_read => r?,
                r = local.writable(), if want_local_write => r?,
                _ = tokio::time::sleep_until(next_keepalive), if keepalive.is_some() => {
                    // Non-blocking: a full socket just means it goes out with the next write.
                    let wait = session.keepalive_send().unwrap_or(2).max(1);
                    next_keepalive = tokio::time::Instant::now() + Duration::from_secs(u64::from(wait));
                }
            }
        }
    })
}
