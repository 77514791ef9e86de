//! Logging in over telnet, before the CLI driver takes over: the device (or the console
//! server in front of it) asks for a user and a password in plain text, and may first
//! want an Enter, show banners, or already sit at a prompt.
//!
//! The patterns are the platform profile's `login:` section ([`LoginSpec`]); the
//! built-in profiles spell them out and a user profile can override any of them.

use std::time::{Duration, Instant};

use regex::Regex;
use serde::Deserialize;

use super::stream::TelnetStream;
use crate::device::channel::{render, CliStream};
use crate::device::profile::{PlatformProfile, ProfileProblem};
use crate::device::DeviceError;
use crate::transport::{Credential, TransportError};

/// The `login:` section of a platform profile (telnet and console logins).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSpec {
    /// The last line when the device asks for the user (`Username:`, `login:`).
    #[serde(default = "default_username")]
    pub username_prompt: String,
    /// The last line when it asks for the password.
    #[serde(default = "default_password")]
    pub password_prompt: String,
    /// Text after the password that means it was refused.
    #[serde(default = "default_failure")]
    pub failure: Vec<String>,
    /// Text that means the line is held by another session (console servers).
    #[serde(default = "default_busy")]
    pub busy: Vec<String>,
    /// A line asking for Enter before anything else (console servers, idle lines).
    #[serde(default = "default_press_return")]
    pub press_return: String,
}

fn default_username() -> String {
    r"(?i)(user ?name|login)\s*:\s*$".into()
}
fn default_password() -> String {
    r"(?i)pass(word|code)\s*:\s*$".into()
}
fn default_failure() -> Vec<String> {
    vec![
        r"(?i)login (invalid|incorrect|failed)".into(),
        r"(?i)authentication failed".into(),
        r"(?i)access denied".into(),
        r"(?i)bad password".into(),
    ]
}
fn default_busy() -> Vec<String> {
    vec![
        r"(?i)\b(line|port)\b.*\b(busy|in use)\b".into(),
        r"(?i)already in use".into(),
        r"(?i)connection refused by remote host".into(),
    ]
}
fn default_press_return() -> String {
    r"(?i)press (return|enter)\b".into()
}

impl Default for LoginSpec {
    fn default() -> Self {
        LoginSpec {
            username_prompt: default_username(),
            password_prompt: default_password(),
            failure: default_failure(),
            busy: default_busy(),
            press_return: default_press_return(),
        }
    }
}

/// [`LoginSpec`] compiled.
#[derive(Debug, Clone)]
pub struct LoginPatterns {
    pub username: Regex,
    pub password: Regex,
    pub failure: Vec<Regex>,
    pub busy: Vec<Regex>,
    pub press_return: Regex,
}

impl LoginSpec {
    pub fn compile(&self) -> Result<LoginPatterns, ProfileProblem> {
        let re = |field: &str, s: &str| {
            Regex::new(s).map_err(|e| ProfileProblem {
                field: format!("login.{field}"),
                value: Some(s.to_string()),
                message: format!(
                    "invalid regex: {}",
                    e.to_string().lines().last().unwrap_or("")
                ),
            })
        };
        let res = |field: &str, list: &[String]| -> Result<Vec<Regex>, ProfileProblem> {
            list.iter().map(|s| re(field, s)).collect()
        };
        Ok(LoginPatterns {
            username: re("username_prompt", &self.username_prompt)?,
            password: re("password_prompt", &self.password_prompt)?,
            failure: res("failure", &self.failure)?,
            busy: res("busy", &self.busy)?,
            press_return: re("press_return", &self.press_return)?,
        })
    }
}

/// How long a silent line is given before we send an Enter to wake it (a console port or
/// a device that speaks only when spoken to), and how often.
const WAKE_AFTER: Duration = Duration::from_millis(1500);
const MAX_WAKES: u32 = 3;

/// How often the user name is given again before a password was asked for.
const MAX_USER_ASKS: u32 = 3;

/// How long a login question after our password must stay the last line to count.
const SETTLE: Duration = Duration::from_millis(150);

/// How much of what the device says before a prompt is kept (messages show its end).
const SEEN_MAX: usize = 16 * 1024;

/// The text since our last answer, as the device sent it; what messages show of it has
/// the password masked (a device that echoes it anyway must not put it in our output).
struct Seen {
    bytes: Vec<u8>,
    secret: Option<Vec<u8>>,
}

impl Seen {
    fn line_start(&self) -> usize {
        self.bytes
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1)
    }

    /// The unfinished last line, for matching prompts.
    fn last_line(&self) -> String {
        render(&self.bytes[self.line_start()..])
            .trim_end()
            .to_string()
    }

    fn masked(&self, bytes: &[u8]) -> String {
        let text = render(bytes);
        match &self.secret {
            Some(pw) if !pw.is_empty() => text.replace(&*String::from_utf8_lossy(pw), "********"),
            _ => text,
        }
    }

    /// Everything, for messages.
    fn shown(&self) -> String {
        self.masked(&self.bytes).trim().to_string()
    }

    /// The last line, for messages.
    fn shown_last_line(&self) -> String {
        self.masked(&self.bytes[self.line_start()..])
            .trim_end()
            .to_string()
    }
}

/// Log in with the credentials that have a password, in turn; done when the last line
/// is a prompt of the platform (the text from that point on is given back to the stream
/// for the driver). A line already logged in is left as it is.
pub(super) fn login(
    stream: &mut TelnetStream,
    host: &str,
    addr: &str,
    profile: &PlatformProfile,
    credentials: &[Credential],
    timeout: Duration,
) -> Result<(), DeviceError> {
    let pats = &profile.login;
    let deadline = Instant::now() + timeout;
    let mut seen = Seen {
        bytes: Vec::new(),
        secret: None,
    };
    let mut creds = credentials.iter().filter(|c| c.password.is_some());
    let mut current: Option<&Credential> = None;
    let mut password_sent = false;
    let mut tried: Vec<String> = Vec::new();
    let mut wakes = 0;
    let mut user_asks = 0;
    let mut buf = [0u8; 8 * 1024];
    let write = |s: &mut TelnetStream, data: &[u8], what: &str| {
        s.write_all_timeout(data, Duration::from_secs(10))
            .map_err(|e| DeviceError::Closed {
                host: host.to_string(),
                what: format!("logging in ({what})"),
                partial: String::new(),
                reason: e.to_string(),
            })
    };
    let auth_failed = |tried: Vec<String>| {
        DeviceError::Transport(TransportError::AuthFailed {
            host: host.to_string(),
            addr: addr.to_string(),
            tried,
            server_methods: None,
        })
    };
    let mut more_read = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(DeviceError::NoPrompt {
                host: host.to_string(),
                platform: profile.name.clone(),
                secs: timeout.as_secs_f64(),
                last_line: seen.shown_last_line(),
            });
        }
        // Text the settle read below already took is judged before reading more.
        if more_read {
            more_read = false;
        } else {
            match stream.read_timeout(&mut buf, left.min(WAKE_AFTER)) {
                Ok(0) => {
                    if let Some(e) = busy(&seen.shown(), pats, host, addr) {
                        return Err(e);
                    }
                    if let (true, Some(c)) = (password_sent, current) {
                        tried.push(format!(
                            "{}: password (the device hung up after it)",
                            c.label
                        ));
                        return Err(auth_failed(tried));
                    }
                    return Err(DeviceError::Closed {
                        host: host.to_string(),
                        what: "logging in".into(),
                        partial: seen.shown(),
                        reason: "the device closed the connection".into(),
                    });
                }
                Ok(n) => {
                    seen.bytes.extend_from_slice(&buf[..n]);
                    if seen.bytes.len() > SEEN_MAX {
                        // A device that talks and talks before any prompt: keep the end.
                        let cut = seen.bytes.len() - SEEN_MAX;
                        seen.bytes.drain(..cut);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    // Quiet before any question: wake the line with an Enter, a few times.
                    // Not after our answers: a slow AAA server is no reason to type.
                    if current.is_none() && wakes < MAX_WAKES && Instant::now() < deadline {
                        wakes += 1;
                        write(stream, b"\n", "Enter")?;
                    }
                    continue;
                }
                Err(e) => {
                    return Err(DeviceError::Closed {
                        host: host.to_string(),
                        what: "logging in".into(),
                        partial: seen.shown(),
                        reason: e.to_string(),
                    })
                }
            }
        }
        if seen.bytes.starts_with(b"SSH-") {
            return Err(DeviceError::Transport(TransportError::Connect {
                host: host.to_string(),
                addr: addr.to_string(),
                reason: "this port speaks SSH, not telnet (is `port` right, or should the \
                         host use `connection: ssh`?)"
                    .into(),
            }));
        }
        let text = seen.shown();
        if let Some(e) = busy(&text, pats, host, addr) {
            return Err(e);
        }
        let last = seen.last_line();
        if last.is_empty() {
            continue;
        }
        if pats.username.is_match(&last) || pats.password.is_match(&last) {
            let asks_user = pats.username.is_match(&last);
            let mut hung_up = false;
            if password_sent {
                // After a login the device may print `Last login: ...`: a read that ends
                // after `Last login:` is not the device asking again. A real question is
                // followed by silence.
                match stream.read_timeout(&mut buf, SETTLE) {
                    Ok(0) => hung_up = true,
                    Ok(n) => {
                        seen.bytes.extend_from_slice(&buf[..n]);
                        more_read = true;
                        continue;
                    }
                    Err(_) => {}
                }
            }
            if asks_user && !password_sent && current.is_some() {
                // Asked for the user again before any password (an Enter of ours taken as
                // an empty user name): answer again, a few times at most.
                user_asks += 1;
                if user_asks > MAX_USER_ASKS {
                    if let Some(c) = current {
                        tried.push(format!("{}: the device kept asking for the user", c.label));
                    }
                    return Err(auth_failed(tried));
                }
            }
            if password_sent {
                // Asked again after our password: refused.
                if let Some(c) = current {
                    let said = matching_line(&text, &pats.failure)
                        .map(|l| format!(" (the device said: {l})"))
                        .unwrap_or_else(|| " (asked again)".into());
                    tried.push(format!("{}: password{said}", c.label));
                }
                current = None;
                password_sent = false;
                user_asks = 0;
                if hung_up {
                    return Err(auth_failed(tried));
                }
            }
            if current.is_none() {
                current = creds.next();
                let Some(_) = current else {
                    if tried.is_empty() {
                        tried.push(
                            "no credential with a password (set `password` or `credentials`)"
                                .into(),
                        );
                    }
                    return Err(auth_failed(tried));
                };
            }
            let Some(c) = current else { continue };
            if asks_user {
                write(stream, format!("{}\n", c.user).as_bytes(), "user")?;
            } else if let Some(pw) = &c.password {
                let mut data = pw.expose().as_bytes().to_vec();
                data.push(b'\n');
                write(stream, &data, "password")?;
                password_sent = true;
                seen.secret = Some(pw.expose().as_bytes().to_vec());
            }
            seen.bytes.clear();
            continue;
        }
        if profile.mode_of_prompt_at(&last, None).is_some() {
            // The driver starts by waiting for a prompt: it gets this one.
            stream.unread(&seen.bytes[seen.line_start()..]);
            return Ok(());
        }
        if pats.press_return.is_match(&last) {
            write(stream, b"\n", "Enter")?;
            seen.bytes.clear();
        }
    }
}

/// The error for a line held by another session, if `text` says so.
fn busy(text: &str, pats: &LoginPatterns, host: &str, addr: &str) -> Option<DeviceError> {
    let line = matching_line(text, &pats.busy)?;
    Some(DeviceError::Transport(TransportError::Connect {
        host: host.to_string(),
        addr: addr.to_string(),
        reason: format!("the line is busy (another session holds it); the device said: {line}"),
    }))
}

/// The first line of `text` that one of `patterns` matches.
fn matching_line(text: &str, patterns: &[Regex]) -> Option<String> {
    text.lines()
        .find(|l| patterns.iter().any(|r| r.is_match(l)))
        .map(|l| l.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::profile::ProfileSet;
    use crate::secret::Secret;
    use crate::transport::telnet::protocol::Enter;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    /// A scripted device: each step sends its text (in pieces, with pauses), then, when it
    /// expects a line, reads up to the next `\r\n` and checks it.
    fn device(
        steps: Vec<(Vec<&'static str>, Option<&'static str>)>,
    ) -> (TelnetStream, std::thread::JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            for (pieces, expect) in steps {
                for p in pieces {
                    s.write_all(p.as_bytes()).unwrap();
                    s.flush().unwrap();
                    std::thread::sleep(Duration::from_millis(40));
                }
                if let Some(want) = expect {
                    let mut got = Vec::new();
                    let mut b = [0u8; 1];
                    while !got.ends_with(b"\r\n") {
                        match s.read(&mut b) {
                            Ok(1) => got.push(b[0]),
                            // The client gave up: what it did is judged by the test.
                            _ => return,
                        }
                    }
                    assert_eq!(String::from_utf8_lossy(&got), format!("{want}\r\n"));
                }
            }
        });
        let tcp = TcpStream::connect(addr).unwrap();
        (TelnetStream::new(tcp, 80, 24, Enter::CrLf), h)
    }

    fn cred(user: &str, pw: &str) -> Credential {
        Credential {
            label: user.into(),
            user: user.into(),
            password: Some(Secret::new(pw.to_string())),
            private_key_file: None,
            private_key_passphrase: None,
        }
    }

    #[test]
    fn a_last_login_line_cut_after_its_colon_is_not_a_second_question() {
        let (mut s, h) = device(vec![
            (
                vec!["\r\nUser Access Verification\r\n\r\nUsername: "],
                Some("ops"),
            ),
            (vec!["Password: "], Some("pw")),
            (
                vec!["\r\nLast login:", " Wed Nov 25 from 10.0.0.1\r\nr1#"],
                None,
            ),
        ]);
        let p = ProfileSet::builtin().resolve("r1", "cisco_ios").unwrap();
        login(
            &mut s,
            "r1",
            "a",
            &p,
            &[cred("ops", "pw")],
            Duration::from_secs(5),
        )
        .unwrap();
        let mut buf = [0u8; 64];
        let n = s.read_timeout(&mut buf, Duration::from_secs(1)).unwrap();
        assert_eq!(&buf[..n], b"r1#");
        h.join().unwrap();
    }

    #[test]
    fn a_device_that_echoes_the_password_does_not_get_it_into_messages() {
        let (mut s, h) = device(vec![
            (vec!["Username: "], Some("ops")),
            (vec!["Password: "], Some("Sekr1t-pw")),
            // Echoed, then silence (the line stays open until the client gives up).
            (vec!["Sekr1t-pw"], Some("never sent")),
        ]);
        let p = ProfileSet::builtin().resolve("r1", "cisco_ios").unwrap();
        let e = login(
            &mut s,
            "r1",
            "a",
            &p,
            &[cred("ops", "Sekr1t-pw")],
            Duration::from_millis(800),
        )
        .unwrap_err();
        drop(s);
        let _ = h.join();
        let text = format!("{e} {e:?}");
        assert!(matches!(e, DeviceError::NoPrompt { .. }), "{text}");
        assert!(!text.contains("Sekr1t"), "{text}");
        assert!(text.contains("********"), "{text}");
    }

    #[test]
    fn a_line_with_only_a_password_and_a_banner_gets_one() {
        let (mut s, h) = device(vec![
            (
                vec!["\r\n*** authorized use only ***\r\n", "\r\nPassword: "],
                Some("pw"),
            ),
            (vec!["\r\nr1>"], None),
        ]);
        let p = ProfileSet::builtin().resolve("r1", "cisco_ios").unwrap();
        login(
            &mut s,
            "r1",
            "a",
            &p,
            &[cred("ops", "pw")],
            Duration::from_secs(5),
        )
        .unwrap();
        h.join().unwrap();
    }

    #[test]
    fn a_user_name_asked_twice_before_the_password_is_not_a_failure() {
        let (mut s, h) = device(vec![
            (vec!["Username: "], Some("ops")),
            (vec!["\r\nUsername: "], Some("ops")),
            (vec!["Password: "], Some("pw")),
            (vec!["\r\nr1#"], None),
        ]);
        let p = ProfileSet::builtin().resolve("r1", "cisco_ios").unwrap();
        login(
            &mut s,
            "r1",
            "a",
            &p,
            &[cred("ops", "pw")],
            Duration::from_secs(5),
        )
        .unwrap();
        h.join().unwrap();
    }

    #[test]
    fn a_refused_password_tries_the_next_credential_and_names_none() {
        let (mut s, h) = device(vec![
            (vec!["login: "], Some("a")),
            (vec!["Password:"], Some("one")),
            (vec!["\r\nLogin incorrect\r\nlogin: "], Some("b")),
            (vec!["Password:"], Some("two")),
            (vec!["\r\nLogin incorrect\r\n"], None),
        ]);
        let p = ProfileSet::builtin()
            .resolve("r1", "juniper_junos")
            .unwrap();
        let e = login(
            &mut s,
            "r1",
            "a",
            &p,
            &[cred("a", "one"), cred("b", "two")],
            Duration::from_secs(5),
        )
        .unwrap_err()
        .to_string();
        h.join().unwrap();
        assert!(e.contains("authentication failed"), "{e}");
        assert!(
            e.contains("a: password (the device said: Login incorrect)"),
            "{e}"
        );
        assert!(e.contains("b: password"), "{e}");
        assert!(!e.contains("one") && !e.contains("two"), "{e}");
    }

    #[test]
    fn every_cli_profile_knows_the_usual_login_lines() {
        let set = ProfileSet::builtin();
        for name in [
            "cisco_ios",
            "cisco_iosxr",
            "cisco_nxos",
            "arista_eos",
            "juniper_junos",
        ] {
            let p = set.resolve("h", name).unwrap();
            let l = &p.login;
            assert!(l.username.is_match("Username: ") && l.username.is_match("r1 login:"));
            assert!(l.password.is_match("Password: ") && !l.password.is_match("Username:"));
            assert!(l.press_return.is_match("Press RETURN to get started."));
            assert!(l.busy.iter().any(|r| r.is_match("% Port 7 is busy")));
            assert!(l.failure.iter().any(|r| r.is_match("% Login invalid")));
            // A prompt is none of these.
            assert!(!l.username.is_match("r1#") && !l.password.is_match("r1>"));
        }
    }

    #[test]
    fn a_profile_overrides_one_pattern_and_keeps_the_other_defaults() {
        let spec: LoginSpec = serde_yaml::from_str("username_prompt: 'Benutzer:\\s*$'").unwrap();
        let l = spec.compile().unwrap();
        assert!(l.username.is_match("Benutzer: ") && !l.username.is_match("Username:"));
        assert!(l.password.is_match("Password:"));
        let bad: LoginSpec = serde_yaml::from_str("password_prompt: '('").unwrap();
        let e = bad.compile().unwrap_err();
        assert_eq!(e.field, "login.password_prompt");
    }
}
