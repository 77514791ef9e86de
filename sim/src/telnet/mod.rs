//! The telnet side (`--telnet`): each device also listens for telnet on a second port,
//! negotiates options as a Cisco box does (WILL ECHO, WILL SUPPRESS-GO-AHEAD, DO
//! TERMINAL-TYPE, DO NAWS), asks for a user and password, then feeds the device's [`Shell`]
//! as the SSH side does. The window size the client reports (NAWS) sizes the shell.
//!
//! Faults for the client's tests (`--telnet-fault NAME=KNOB[,KNOB...]`): a login banner
//! and MOTD, no negotiation at all, a line that says nothing until it gets an Enter, a
//! console server's "Press RETURN to get started", a line already logged in, a line busy
//! with another session, and `\r\0` line endings. The device's `--fail` modes (refuse,
//! auth-fail, drop-after:N, hang-after:N, truncate-after:N, flood-after:N) apply to telnet as to SSH.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::device::{Device, FailMode};
use crate::platform::Platform;
use crate::shell::Shell;

mod wire;

use wire::{
    encode, Decoder, Negotiated, DO, DONT, ECHO, IAC, NAWS, SB, SE, SGA, TTYPE, WILL, WONT,
};

/// How a device's telnet side misbehaves on purpose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TelnetFaults {
    /// A banner before the login prompt and a MOTD after it.
    pub banner: bool,
    /// Send no IAC negotiation at all (a bare TCP console).
    pub no_negotiation: bool,
    /// Say nothing until the client sends an Enter.
    pub needs_enter: bool,
    /// A console server's "Press RETURN to get started." first.
    pub press_return: bool,
    /// The line is held by another session: say so and hang up.
    pub busy: bool,
    /// The line is already logged in: the prompt comes without a login.
    pub logged_in: bool,
    /// End lines with `\r\0` instead of `\r\n`.
    pub cr_nul: bool,
}

impl TelnetFaults {
    /// A comma-separated list of banner, no-negotiation, needs-enter, press-return,
    /// busy, logged-in, cr-nul.
    pub fn parse(text: &str) -> Result<TelnetFaults, String> {
        let mut f = TelnetFaults::default();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "banner" => f.banner = true,
                "no-negotiation" => f.no_negotiation = true,
                "needs-enter" => f.needs_enter = true,
                "press-return" => f.press_return = true,
                "busy" => f.busy = true,
                "logged-in" => f.logged_in = true,
                "cr-nul" => f.cr_nul = true,
                _ => {
                    return Err(format!(
                        "unknown telnet fault {word:?}; expected banner, no-negotiation, \
                         needs-enter, press-return, busy, logged-in or cr-nul"
                    ))
                }
            }
        }
        Ok(f)
    }
}

/// A device's telnet listener, bound.
pub struct TelnetBound {
    pub device: Arc<Device>,
    pub listener: TcpListener,
    pub faults: TelnetFaults,
}

/// Serves a device's telnet port until the process ends.
pub fn spawn_listener(bound: TelnetBound) {
    tokio::spawn(async move {
        let mut n: u64 = 0;
        loop {
            let (sock, _) = match bound.listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    eprintln!(
                        "netorch-sim: {}: telnet accept failed: {e}",
                        bound.device.name
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            crate::server::log_connection(&bound.device.name);
            if bound.device.fail == Some(FailMode::Refuse) {
                drop(sock);
                continue;
            }
            let _ = sock.set_nodelay(true);
            n += 1;
            let device = bound.device.clone();
            let faults = bound.faults;
            tokio::spawn(async move {
                let mut s = Session::new(sock, device, faults, n);
                let _ = s.run().await;
            });
        }
    });
}

struct Session {
    sock: TcpStream,
    device: Arc<Device>,
    faults: TelnetFaults,
    dec: Decoder,
    neg: Negotiated,
    /// Decoded client text not used yet.
    input: Vec<u8>,
    /// The last line ended in CR: a LF that follows in the next read belongs to it.
    skip_lf: bool,
    rng: u64,
}

type Res<T> = std::io::Result<T>;

fn closed() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "client went away")
}

/// How long the device waits at its login prompts (and for negotiation answers).
const LOGIN_IDLE: Duration = Duration::from_secs(60);
const NEGOTIATION_WAIT: Duration = Duration::from_secs(3);

impl Session {
    fn new(sock: TcpStream, device: Arc<Device>, faults: TelnetFaults, n: u64) -> Session {
        let rng = device.settings.seed ^ ((device.index as u64) << 20) ^ n ^ 0x51ed_270b_27a1_3c5d;
        Session {
            sock,
            device,
            faults,
            dec: Decoder::default(),
            neg: Negotiated::default(),
            input: Vec::new(),
            skip_lf: false,
            rng: rng | 1,
        }
    }

    async fn send(&mut self, text: &str) -> Res<()> {
        let bytes = text.replace('\n', "\r\n");
        self.send_bytes(bytes.as_bytes()).await
    }

    async fn send_bytes(&mut self, bytes: &[u8]) -> Res<()> {
        let out = encode(bytes, self.faults.cr_nul);
        self.sock.write_all(&out).await
    }

    /// Read more from the client (decoded into `input`); negotiation it starts is
    /// refused, except what we asked for.
    async fn fill(&mut self, wait: Duration) -> Res<bool> {
        let mut buf = [0u8; 4096];
        let n = match tokio::time::timeout(wait, self.sock.read(&mut buf)).await {
            Err(_) => return Ok(false),
            Ok(r) => r?,
        };
        if n == 0 {
            return Err(closed());
        }
        let before = self.neg.answers.len();
        self.dec.feed(&buf[..n], &mut self.input, &mut self.neg);
        let mut reply = Vec::new();
        for &(verb, opt) in &self.neg.answers[before..] {
            match (verb, opt) {
                (WILL, TTYPE) => reply.extend_from_slice(&[IAC, SB, TTYPE, 1, IAC, SE]),
                (WILL, NAWS) | (DO, ECHO) | (DO, SGA) => {}
                (WILL, o) => reply.extend_from_slice(&[IAC, DONT, o]),
                (DO, o) => reply.extend_from_slice(&[IAC, WONT, o]),
                _ => {}
            }
        }
        if !reply.is_empty() {
            self.sock.write_all(&reply).await?;
        }
        Ok(true)
    }

    /// Offer and ask for the options a Cisco box does, and wait (a little) for the
    /// client's answers. A client that refuses or never answers still gets a login, as on
    /// real gear; what it negotiated is logged (`--connection-log`) for the tests.
    async fn negotiate(&mut self) -> Res<()> {
        self.sock
            .write_all(&[
                IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, TTYPE, IAC, DO, NAWS,
            ])
            .await?;
        let deadline = tokio::time::Instant::now() + NEGOTIATION_WAIT;
        loop {
            let answered = |o: u8, yes: u8, no: u8| {
                self.neg
                    .answers
                    .iter()
                    .any(|&(v, x)| x == o && (v == yes || v == no))
            };
            let ttype_done =
                self.neg.answers.contains(&(WONT, TTYPE)) || self.neg.terminal_type.is_some();
            let naws_done = self.neg.answers.contains(&(WONT, NAWS)) || self.neg.window.is_some();
            if answered(ECHO, DO, DONT) && answered(SGA, DO, DONT) && ttype_done && naws_done {
                break;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            self.fill(left).await?;
        }
        let echo = if self.neg.answers.contains(&(WILL, ECHO)) {
            "both"
        } else if self.neg.answers.contains(&(DO, ECHO)) {
            "server"
        } else {
            "refused"
        };
        let (c, r) = self.neg.window.unwrap_or((0, 0));
        crate::server::log_connection(&format!(
            "{} telnet ttype={} window={c}x{r} echo={echo}",
            self.device.name,
            self.neg.terminal_type.as_deref().unwrap_or("-"),
        ));
        Ok(())
    }

    /// The LF of a CR LF split across reads.
    fn drop_lf(&mut self) {
        if self.skip_lf && !self.input.is_empty() {
            if self.input[0] == b'\n' {
                self.input.remove(0);
            }
            self.skip_lf = false;
        }
    }

    /// One line from the client (without its line end); `None` after the idle time.
    async fn read_line(&mut self, echo: bool) -> Res<Option<String>> {
        loop {
            self.drop_lf();
            if let Some(i) = self.input.iter().position(|b| *b == b'\r' || *b == b'\n') {
                let line: Vec<u8> = self.input.drain(..i).collect();
                let end = self.input.remove(0);
                if end == b'\r' {
                    match self.input.first() {
                        Some(b'\n') => {
                            self.input.remove(0);
                        }
                        Some(_) => {}
                        None => self.skip_lf = true,
                    }
                }
                if echo {
                    let mut e = line.clone();
                    e.extend_from_slice(b"\r\n");
                    self.send_bytes(&e).await?;
                } else {
                    self.send_bytes(b"\r\n").await?;
                }
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            if !self.fill(LOGIN_IDLE).await? {
                return Ok(None);
            }
        }
    }

    fn is_cisco_style(&self) -> bool {
        matches!(
            self.device.platform,
            Platform::CiscoIos | Platform::CiscoIosxr
        )
    }

    async fn run(&mut self) -> Res<()> {
        let negotiated = !self.faults.no_negotiation;
        if negotiated {
            self.negotiate().await?;
        }
        if self.faults.busy {
            self.send("\n% Port 2 is busy: in use by another session\n")
                .await?;
            return Ok(());
        }
        if self.faults.needs_enter && self.read_line(false).await?.is_none() {
            return Ok(());
        }
        if self.faults.press_return {
            let name = self.device.name.clone();
            self.send(&format!(
                "\n\n{name} con0 is now available\n\n\n\n\nPress RETURN to get started.\n"
            ))
            .await?;
            if self.read_line(false).await?.is_none() {
                return Ok(());
            }
        }
        let user = if self.faults.logged_in {
            self.device.settings.user.clone()
        } else {
            if self.faults.banner {
                self.send(
                    "\n**************************************************\n\
                     * WARNING: authorized users only. Activity is     *\n\
                     * monitored and logged. Contact: noc@example.net *\n\
                     **************************************************\n",
                )
                .await?;
            }
            match self.login(negotiated).await? {
                Some(u) => u,
                None => return Ok(()),
            }
        };
        if self.faults.banner {
            self.send("\n*** MOTD: maintenance window Sunday 02:00-04:00 UTC ***\n")
                .await?;
        }
        self.shell(&user).await
    }

    /// The login dialogue; `None`: the client gave up or failed three times.
    async fn login(&mut self, echo: bool) -> Res<Option<String>> {
        let name = self.device.name.clone();
        let (ask_user, refused) = if self.is_cisco_style() {
            (
                "\nUser Access Verification\n\nUsername: ".to_string(),
                "% Login invalid\n\nUsername: ".to_string(),
            )
        } else {
            (
                format!("\n{name} login: "),
                format!("\nLogin incorrect\n{name} login: "),
            )
        };
        self.send(&ask_user).await?;
        for attempt in 1..=3 {
            let Some(user) = self.read_line(echo).await? else {
                return Ok(None);
            };
            self.send("Password: ").await?;
            let Some(password) = self.read_line(false).await? else {
                return Ok(None);
            };
            let s = &self.device.settings;
            let ok = self.device.fail != Some(FailMode::AuthFail)
                && user == s.user
                && password == s.password;
            if ok {
                return Ok(Some(user));
            }
            // Devices pause before saying no.
            tokio::time::sleep(Duration::from_millis(50)).await;
            if attempt == 3 {
                let bye = if self.is_cisco_style() {
                    "% Bad passwords\n"
                } else {
                    "\nLogin incorrect\n"
                };
                self.send(bye).await?;
                return Ok(None);
            }
            self.send(&refused).await?;
        }
        Ok(None)
    }

    fn delay(&mut self) -> Duration {
        let s = &self.device.settings;
        if s.jitter.is_zero() {
            return s.latency;
        }
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        s.latency + Duration::from_micros(x % (s.jitter.as_micros() as u64 + 1))
    }

    /// The device CLI: keystrokes in, answers out, with the device's `--fail` mode.
    async fn shell(&mut self, user: &str) -> Res<()> {
        let mut shell = Shell::new(self.device.clone(), user);
        if let Some((cols, rows)) = self.neg.window {
            shell.set_window(u32::from(cols), u32::from(rows));
        }
        shell.start();
        let out = shell.take_output();
        self.send_bytes(&out).await?;
        let mut commands = 0usize;
        loop {
            self.drop_lf();
            while !self.input.is_empty() {
                let (used, command) = shell.feed(&self.input);
                self.input.drain(..used);
                let echo = shell.take_output();
                if !echo.is_empty() {
                    self.send_bytes(&echo).await?;
                }
                let Some(command) = command else { continue };
                commands += 1;
                match self.device.fail {
                    Some(FailMode::DropAfter(k)) if commands >= k => return Ok(()),
                    Some(FailMode::FloodAfter(k)) if commands >= k => {
                        let chunk = "flood: the device keeps talking and never shows a prompt\n"
                            .repeat(512);
                        loop {
                            self.send(&chunk).await?;
                        }
                    }
                    Some(FailMode::HangAfter(k)) if commands >= k => {
                        // Keep the line open, say nothing.
                        let mut sink = [0u8; 4096];
                        while self.sock.read(&mut sink).await? > 0 {}
                        return Ok(());
                    }
                    _ => {}
                }
                let delay = self.delay();
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                shell.run(&command);
                let mut out = shell.take_output();
                if matches!(self.device.fail, Some(FailMode::TruncateAfter(k)) if commands >= k) {
                    out.truncate(out.len() / 2);
                    self.send_bytes(&out).await?;
                    return Ok(());
                }
                if !out.is_empty() {
                    self.send_bytes(&out).await?;
                }
                if shell.closed() {
                    return Ok(());
                }
            }
            self.fill(Duration::from_secs(3600)).await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse() {
        let f = TelnetFaults::parse("banner, press-return,cr-nul").unwrap_or_default();
        assert!(f.banner && f.press_return && f.cr_nul && !f.busy);
        assert!(TelnetFaults::parse("bogus").is_err());
    }
}
