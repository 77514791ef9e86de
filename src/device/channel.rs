//! Prompt-aware I/O over an interactive PTY shell.
//!
//! Reads until the last line of output is a prompt of the platform (or a question the caller
//! expects), answering `--More--` pagers on the way. Only the tail of the buffer (the
//! current, unfinished line) is examined after each read, so long outputs cost linear time.
//! Output is cleaned like a terminal would show it: ANSI escapes removed, `\r` and
//! backspaces applied (which also erases pager prompts), the command echo and the trailing
//! prompt dropped. Several commands can go out in one write ([`Channel::send_pipelined`]):
//! their answers are still read and cleaned one by one.
//!
//! The byte stream is a small trait ([`CliStream`]) so the channel can be tested against a
//! scripted in-memory device; [`SshShell`] is the real one.

use std::io::{self, Read, Write};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use regex::Regex;

use super::profile::PlatformProfile;
use super::DeviceError;
use crate::transport::capture::{Capped, DEFAULT_MAX_OUTPUT};

/// The bytes of an interactive session.
pub trait CliStream {
    /// Read what is available, waiting at most `timeout`. `Ok(0)` means the peer closed;
    /// a timeout is an `Err` of kind `TimedOut`.
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// Write everything, waiting at most `timeout`.
    fn write_all_timeout(&mut self, data: &[u8], timeout: Duration) -> io::Result<()>;
}

/// A PTY shell on an SSH session. Timeouts are libssh2 session timeouts set per call.
pub struct SshShell {
    session: ssh2::Session,
    channel: ssh2::Channel,
}

impl SshShell {
    pub fn new(session: ssh2::Session, channel: ssh2::Channel) -> Self {
        SshShell { session, channel }
    }
}

fn set_timeout(session: &ssh2::Session, timeout: Duration) {
    let ms = u32::try_from(timeout.as_millis())
        .unwrap_or(u32::MAX)
        .max(1);
    session.set_timeout(ms);
}

impl CliStream for SshShell {
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        set_timeout(&self.session, timeout);
        match self.channel.read(buf) {
            Ok(0) if !self.channel.eof() => Err(io::Error::new(io::ErrorKind::TimedOut, "no data")),
            other => other,
        }
    }

    fn write_all_timeout(&mut self, data: &[u8], timeout: Duration) -> io::Result<()> {
        set_timeout(&self.session, timeout);
        self.channel.write_all(data)?;
        self.channel.flush()
    }
}

impl Drop for SshShell {
    fn drop(&mut self) {
        self.session.set_timeout(1000);
        let _ = self.channel.close();
    }
}

/// How much of the unfinished last line is examined for prompts.
const TAIL_BYTES: usize = 1024;

fn ansi() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // CSI sequences, OSC strings, charset selections and single-character escapes.
    RE.get_or_init(|| {
        Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>78DEHMc]")
            .unwrap_or_else(|_| unreachable!("constant regex"))
    })
}

/// Render bytes as a terminal shows them: ANSI escapes removed, `\r` returns to the line
/// start, backspace moves left, later characters overwrite; trailing spaces trimmed.
pub fn render(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = ansi().replace_all(&text, "");
    let mut out = String::with_capacity(text.len());
    let mut line: Vec<char> = Vec::new();
    let mut cursor = 0usize;
    // Straight into `out`, trailing whitespace dropped: no string per line.
    let flush = |line: &mut Vec<char>, out: &mut String| {
        let end = line
            .iter()
            .rposition(|c| !c.is_whitespace())
            .map_or(0, |i| i + 1);
        out.extend(&line[..end]);
        line.clear();
    };
    for c in text.chars() {
        match c {
            '\n' => {
                flush(&mut line, &mut out);
                out.push('\n');
                cursor = 0;
            }
            '\r' => cursor = 0,
            '\x08' => cursor = cursor.saturating_sub(1),
            '\t' => {
                let next = (cursor / 8 + 1) * 8;
                while cursor < next {
                    put(&mut line, cursor, ' ');
                    cursor += 1;
                }
            }
            c if crate::terminal::is_unsafe(c) => {}
            c => {
                put(&mut line, cursor, c);
                cursor += 1;
            }
        }
    }
    flush(&mut line, &mut out);
    out
}

fn put(line: &mut Vec<char>, at: usize, c: char) {
    if at < line.len() {
        line[at] = c;
    } else {
        while line.len() < at {
            line.push(' ');
        }
        line.push(c);
    }
}

/// What ended a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A prompt of this mode.
    Prompt(String),
    /// The caller's expected question with this index.
    Expect(usize),
}

/// The result of [`Channel::read_until`].
#[derive(Debug, Clone)]
pub struct ReadResult {
    /// Rendered output before the last line (the prompt or question is not included).
    pub output: String,
    /// The last line as rendered (the prompt or the question).
    pub last_line: String,
    pub stop: Stop,
}

/// Prompt-aware reading and writing on one interactive session.
pub struct Channel<S: CliStream> {
    stream: S,
    host: String,
    profile: Arc<PlatformProfile>,
    /// The prompt's stable part (hostname, `user@host`) once learned.
    learned: Option<String>,
    /// The current mode, from the last prompt seen.
    mode: Option<String>,
    write_timeout: Duration,
    /// Bytes already read that belong to the next command's answer (pipelined sends).
    pending: Vec<u8>,
    /// The most output one read keeps (head and tail): see [`crate::transport::capture`].
    max_output: u64,
}

impl<S: CliStream> Channel<S> {
    pub fn new(stream: S, host: &str, profile: &PlatformProfile) -> Self {
        Channel::with_profile(stream, host, Arc::new(profile.clone()))
    }

    /// [`Channel::new`] with a profile shared with other sessions.
    pub fn with_profile(stream: S, host: &str, profile: Arc<PlatformProfile>) -> Self {
        Channel {
            stream,
            host: host.to_string(),
            profile,
            learned: None,
            mode: None,
            write_timeout: Duration::from_secs(10),
            pending: Vec::new(),
            max_output: DEFAULT_MAX_OUTPUT,
        }
    }

    /// The most output each command keeps (the task's or the host's `max_output`).
    pub fn set_max_output(&mut self, cap: u64) {
        self.max_output = cap;
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The mode of the last prompt seen.
    pub fn mode(&self) -> Option<&str> {
        self.mode.as_deref()
    }

    /// The learned prompt base (e.g. `ios-001`, `admin@junos-001`).
    pub fn learned_prompt(&self) -> Option<&str> {
        self.learned.as_deref()
    }

    /// Forget the learned prompt (the hostname is being changed).
    pub fn forget_prompt(&mut self) {
        self.learned = None;
    }

    /// Send one line (the command and Enter).
    pub fn write_line(&mut self, line: &str) -> Result<(), DeviceError> {
        let mut data = Vec::with_capacity(line.len() + 1);
        data.extend_from_slice(line.as_bytes());
        data.push(b'\n');
        self.write_raw(&data, line)
    }

    /// Send a secret and Enter; errors never contain it.
    pub fn write_secret_line(&mut self, secret: &crate::secret::Secret) -> Result<(), DeviceError> {
        let mut data = Vec::with_capacity(secret.expose().len() + 1);
        data.extend_from_slice(secret.expose().as_bytes());
        data.push(b'\n');
        self.write_raw(&data, "(secret)")
    }

    fn write_raw(&mut self, data: &[u8], what: &str) -> Result<(), DeviceError> {
        self.stream
            .write_all_timeout(data, self.write_timeout)
            .map_err(|e| match e.kind() {
                io::ErrorKind::TimedOut => DeviceError::Timeout {
                    host: self.host.clone(),
                    what: format!("sending `{what}`"),
                    secs: self.write_timeout.as_secs_f64(),
                    partial: String::new(),
                },
                _ => DeviceError::Closed {
                    host: self.host.clone(),
                    what: format!("sending `{what}`"),
                    partial: String::new(),
                    reason: e.to_string(),
                },
            })
    }

    /// The mode of `line` if it is a prompt of this session (its base is the learned one),
    /// learning the base from the first prompt seen.
    fn prompt_mode(&self, line: &str) -> Option<(String, Option<String>)> {
        let m = self
            .profile
            .mode_of_prompt_at(line, self.learned.as_deref())?;
        let learn = match self.learned {
            Some(_) => None,
            None => Some(m.base_of(line).to_string()),
        };
        Some((m.name.clone(), learn))
    }

    /// Take a prompt: its mode is the session's, its base learned if none was.
    fn accept_prompt(&mut self, mode: &str, learn: Option<String>) {
        if learn.is_some() {
            self.learned = learn;
        }
        if self.mode.as_deref() != Some(mode) {
            self.mode = Some(mode.to_string());
        }
    }

    /// Read until the last line is a prompt (any mode) or matches one of `expects`.
    /// Pagers are answered and erased. `what` names the command for errors.
    pub fn read_until(
        &mut self,
        expects: &[&Regex],
        timeout: Duration,
        what: &str,
    ) -> Result<ReadResult, DeviceError> {
        self.read_until_next(expects, None, timeout, what)
    }

    /// [`Channel::read_until`] for a command whose successor was already sent: the answer
    /// also ends at a line holding a prompt followed by the echo of `next` (the device
    /// echoes typed-ahead input after the prompt), and what follows is kept for the next
    /// read. Without this, a read that got both answers at once would stop at the last
    /// prompt and give the first command both outputs.
    fn read_until_next(
        &mut self,
        expects: &[&Regex],
        next: Option<&str>,
        timeout: Duration,
        what: &str,
    ) -> Result<ReadResult, DeviceError> {
        let deadline = Instant::now() + timeout;
        let mut raw = Capped::with_bytes(std::mem::take(&mut self.pending), self.max_output);
        let mut line_start = 0usize;
        // Where the first line not yet checked for `next`'s echo starts.
        let mut scanned = 0usize;
        // Bytes left over from a pipelined read are examined before reading more.
        let mut have_pending = !raw.is_empty();
        // On the stack: a heap buffer per read was a malloc, a 32 KB memset and a free
        // for every command.
        let mut buf = [0u8; 32 * 1024];
        loop {
            let mut old_len = if have_pending { 0 } else { raw.len() };
            if have_pending {
                have_pending = false;
            } else {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(self.timeout(what, timeout, &raw));
                }
                let n = self.read_some(&mut buf, left, timeout, what, &raw)?;
                if let Some(cut) = raw.extend(&buf[..n]) {
                    old_len = cut.shift(old_len);
                    line_start = cut.shift(line_start);
                    scanned = cut.shift(scanned);
                }
            }
            if let Some(i) = raw.bytes()[old_len..].iter().rposition(|b| *b == b'\n') {
                line_start = old_len + i + 1;
            }
            if let Some(next) = next {
                if let Some(r) = self.split_at_echo(&mut raw, &mut scanned, line_start, next) {
                    return Ok(r);
                }
            }
            let tail_from = line_start.max(raw.len().saturating_sub(TAIL_BYTES));
            let tail = render(&raw.bytes()[tail_from..]);
            let last = tail.rsplit('\n').next().unwrap_or("").to_string();
            if last.trim().is_empty() {
                continue;
            }
            if let Some((re, answer)) = &self.profile.pager {
                if re.is_match(&last) {
                    // Drop the pager line; its erase sequence then renders as nothing.
                    raw.truncate(line_start);
                    let answer = answer.clone();
                    self.write_raw(answer.as_bytes(), "pager answer")?;
                    continue;
                }
            }
            if let Some((mode, learn)) = self.prompt_mode(&last) {
                self.accept_prompt(&mode, learn);
                raw.truncate(line_start);
                return Ok(ReadResult {
                    output: raw.text_with(render),
                    last_line: last,
                    stop: Stop::Prompt(mode),
                });
            }
            if let Some(i) = expects.iter().position(|r| r.is_match(&last)) {
                raw.truncate(line_start);
                return Ok(ReadResult {
                    output: raw.text_with(render),
                    last_line: last,
                    stop: Stop::Expect(i),
                });
            }
        }
    }

    /// Whether `line` is a prompt followed by the echo of `next`: the mode and the prompt.
    fn echo_prompt(&self, line: &str, next: &str) -> Option<(String, Option<String>, String)> {
        let prefix = line.trim_end().strip_suffix(next.trim())?;
        if prefix.trim().is_empty() {
            return None;
        }
        let (mode, learn) = self.prompt_mode(prefix)?;
        Some((mode, learn, prefix.to_string()))
    }

    /// Look for the line where the next pipelined command's answer starts (its prompt and
    /// echo): complete lines from `scanned` on, then the unfinished last line. On a match,
    /// everything from that line on goes back to `pending` and the answer so far is returned.
    fn split_at_echo(
        &mut self,
        raw: &mut Capped,
        scanned: &mut usize,
        line_start: usize,
        next: &str,
    ) -> Option<ReadResult> {
        let mut at = *scanned;
        let mut found = None;
        while at < raw.len() {
            let end = match raw.bytes()[at..].iter().position(|b| *b == b'\n') {
                Some(i) => at + i + 1,
                None => raw.len(),
            };
            let line = render(&raw.bytes()[at..end]);
            let line = line.trim_end_matches('\n');
            if let Some((mode, learn, prompt)) = self.echo_prompt(line, next) {
                found = Some((at, mode, learn, prompt));
                break;
            }
            if end > line_start {
                // The unfinished last line is checked again once more of it arrives.
                break;
            }
            at = end;
        }
        let Some((at, mode, learn, prompt)) = found else {
            *scanned = line_start.max(*scanned);
            return None;
        };
        self.accept_prompt(&mode, learn);
        self.pending = raw.split_off(at);
        Some(ReadResult {
            output: raw.text_with(render),
            last_line: prompt,
            stop: Stop::Prompt(mode),
        })
    }

    /// One read from the stream; the peer closing or an I/O error is a session error.
    fn read_some(
        &mut self,
        buf: &mut [u8],
        left: Duration,
        timeout: Duration,
        what: &str,
        raw: &Capped,
    ) -> Result<usize, DeviceError> {
        match self.stream.read_timeout(buf, left) {
            Ok(0) => Err(DeviceError::Closed {
                host: self.host.clone(),
                what: what.to_string(),
                partial: raw.text_with(render).trim().to_string(),
                reason: "the device closed the session".into(),
            }),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Err(self.timeout(what, timeout, raw)),
            Err(e) => Err(DeviceError::Closed {
                host: self.host.clone(),
                what: what.to_string(),
                partial: raw.text_with(render).trim().to_string(),
                reason: e.to_string(),
            }),
        }
    }

    fn timeout(&self, what: &str, timeout: Duration, raw: &Capped) -> DeviceError {
        DeviceError::Timeout {
            host: self.host.clone(),
            what: what.to_string(),
            secs: timeout.as_secs_f64(),
            partial: raw.text_with(render).trim().to_string(),
        }
    }

    /// Send `cmd` and return its output (echo, prompt and `output_strip` lines removed).
    pub fn send_command(&mut self, cmd: &str, timeout: Duration) -> Result<String, DeviceError> {
        self.write_line(cmd)?;
        let r = self.read_until(&[], timeout, &format!("command `{cmd}`"))?;
        Ok(self.clean_output(cmd, &r.output))
    }

    /// Send `cmds` in one write and read their answers in turn: one round trip for all
    /// of them instead of one each. Each output is cleaned as [`Channel::send_command`]
    /// does, so a caller can still tell which command a complaint belongs to.
    pub fn send_pipelined(
        &mut self,
        cmds: &[String],
        timeout: Duration,
    ) -> Result<Vec<String>, DeviceError> {
        let mut data = Vec::with_capacity(cmds.iter().map(|c| c.len() + 1).sum());
        for c in cmds {
            data.extend_from_slice(c.as_bytes());
            data.push(b'\n');
        }
        self.write_raw(&data, &cmds.join("`, `"))?;
        let mut outs = Vec::with_capacity(cmds.len());
        for (i, cmd) in cmds.iter().enumerate() {
            let next = cmds.get(i + 1).map(String::as_str);
            let r = self.read_until_next(&[], next, timeout, &format!("command `{cmd}`"))?;
            outs.push(self.clean_output(cmd, &r.output));
        }
        Ok(outs)
    }

    /// Send `cmd`, answering each expected question (regex on the last line) with its
    /// answer line, until a prompt. Returns the whole cleaned output, questions included.
    pub fn send_interactive(
        &mut self,
        cmd: &str,
        expects: &[(Regex, String)],
        timeout: Duration,
    ) -> Result<String, DeviceError> {
        let deadline = Instant::now() + timeout;
        self.write_line(cmd)?;
        let what = format!("command `{cmd}`");
        let res: Vec<&Regex> = expects.iter().map(|(r, _)| r).collect();
        let mut text = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let r = self
                .read_until(&res, left, &what)
                .map_err(|e| e.with_partial_prefix(&text))?;
            text.push_str(&r.output);
            match r.stop {
                Stop::Prompt(_) => return Ok(self.clean_output(cmd, &text)),
                Stop::Expect(i) => {
                    text.push_str(&r.last_line);
                    self.write_line(&expects[i].1)?;
                }
            }
        }
    }

    /// Drop the echo of `cmd`, `output_strip` lines, and blank lines at both ends.
    pub fn clean_output(&self, cmd: &str, output: &str) -> String {
        let mut lines: Vec<&str> = output.lines().collect();
        if let Some(first) = lines.first() {
            let c = cmd.trim();
            let echo = if c.is_empty() {
                first.trim().is_empty()
            } else {
                first.trim_end().ends_with(c)
            };
            if echo {
                lines.remove(0);
            }
        }
        lines.retain(|l| !self.profile.output_strip.iter().any(|r| r.is_match(l)));
        while lines.first().is_some_and(|l| l.trim().is_empty()) {
            lines.remove(0);
        }
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        lines.join("\n")
    }

    /// Give the stream back (for tests).
    pub fn into_stream(self) -> S {
        self.stream
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::device::profile::ProfileSet;
    use std::collections::VecDeque;

    /// A scripted device: each line written is answered by `respond`; reads hand out the
    /// queued bytes in small chunks (to exercise chunk boundaries) and time out at once
    /// when nothing is queued.
    /// The device's answer to a line (`None`: it hangs up).
    pub type Responder = Box<dyn FnMut(&str) -> Option<String>>;

    pub struct Fake {
        pub out: VecDeque<u8>,
        pub written: Vec<u8>,
        partial: Vec<u8>,
        pub respond: Responder,
        pub chunk: usize,
        pub closed: bool,
    }

    impl Fake {
        pub fn new(greeting: &str, respond: impl FnMut(&str) -> Option<String> + 'static) -> Fake {
            Fake {
                out: greeting.bytes().collect(),
                written: Vec::new(),
                partial: Vec::new(),
                respond: Box::new(respond),
                chunk: 7,
                closed: false,
            }
        }
    }

    impl CliStream for Fake {
        fn read_timeout(&mut self, buf: &mut [u8], _t: Duration) -> io::Result<usize> {
            if self.out.is_empty() {
                if self.closed {
                    return Ok(0);
                }
                return Err(io::Error::new(io::ErrorKind::TimedOut, "nothing queued"));
            }
            let n = self.chunk.min(buf.len()).min(self.out.len());
            for b in buf.iter_mut().take(n) {
                *b = self.out.pop_front().unwrap_or(0);
            }
            Ok(n)
        }

        fn write_all_timeout(&mut self, data: &[u8], _t: Duration) -> io::Result<()> {
            self.written.extend_from_slice(data);
            if data == b" " {
                // A pager key, not part of a line.
                match (self.respond)(" ") {
                    Some(reply) => self.out.extend(reply.bytes()),
                    None => self.closed = true,
                }
                return Ok(());
            }
            for &b in data {
                if b == b'\n' {
                    let key = String::from_utf8_lossy(&self.partial).into_owned();
                    self.partial.clear();
                    match (self.respond)(&key) {
                        Some(reply) => self.out.extend(reply.bytes()),
                        None => self.closed = true,
                    }
                } else {
                    self.partial.push(b);
                }
            }
            Ok(())
        }
    }

    fn ios() -> PlatformProfile {
        // Compiled once: regex compilation dominates these tests in debug builds.
        static IOS: OnceLock<PlatformProfile> = OnceLock::new();
        IOS.get_or_init(|| ProfileSet::builtin().get("cisco_ios").unwrap().clone())
            .clone()
    }

    const T: Duration = Duration::from_secs(2);

    #[test]
    fn render_applies_terminal_semantics() {
        assert_eq!(render(b"abc\r\ndef\r\n"), "abc\ndef\n");
        assert_eq!(render(b"\x1b[1mbold\x1b[0m x"), "bold x");
        assert_eq!(render(b"12345\rab"), "ab345");
        assert_eq!(render(b" --More-- \x08\x08\x08\x08\x08\x08\x08\x08\x08\x08          \x08\x08\x08\x08\x08\x08\x08\x08\x08\x08line"), "line");
        assert_eq!(render(b"a\tb"), "a       b");
    }

    #[test]
    fn learns_the_prompt_and_strips_echo_and_prompt() {
        let fake = Fake::new("\r\nWelcome\r\nios-001#", |line| {
            Some(match line {
                "show clock" => "show clock\r\n*10:00:00.000 UTC Mon Jan 1 2024\r\nios-001#".into(),
                _ => format!("{line}\r\n% Invalid input\r\nios-001#"),
            })
        });
        let mut ch = Channel::new(fake, "ios-001", &ios());
        let r = ch.read_until(&[], T, "login").unwrap();
        assert_eq!(r.stop, Stop::Prompt("privileged".into()));
        assert!(r.output.contains("Welcome"));
        assert_eq!(ch.learned_prompt(), Some("ios-001"));
        let out = ch.send_command("show clock", T).unwrap();
        assert_eq!(out, "*10:00:00.000 UTC Mon Jan 1 2024");
        assert_eq!(ch.mode(), Some("privileged"));
    }

    #[test]
    fn pager_is_answered_and_erased() {
        let more = " --More-- ";
        let erase = format!(
            "{}{}{}",
            "\x08".repeat(more.len()),
            " ".repeat(more.len()),
            "\x08".repeat(more.len())
        );
        let mut pages = vec![
            format!("line 3\r\nline 4\r\n{more}"),
            format!("{erase}line 5\r\nr1#"),
        ]
        .into_iter();
        let fake = Fake::new("r1#", move |line| {
            Some(match line {
                "show long" => format!("show long\r\nline 1\r\nline 2\r\n{more}"),
                " " => pages.next().unwrap_or_default(),
                _ => "r1#".into(),
            })
        });
        let mut ch = Channel::new(fake, "r1", &ios());
        ch.read_until(&[], T, "login").unwrap();
        let out = ch.send_command("show long", T).unwrap();
        assert_eq!(out, "line 1\nline 2\nline 3\nline 4\nline 5");
        let written = String::from_utf8(ch.into_stream().written).unwrap();
        assert_eq!(written.matches(' ').count(), 1 + 2, "{written:?}");
    }

    #[test]
    fn timeout_returns_the_output_so_far() {
        let fake = Fake::new("r1#", |line| {
            Some(match line {
                "show slow" => "show slow\r\nfirst half\r\n".into(),
                _ => "r1#".into(),
            })
        });
        let mut ch = Channel::new(fake, "r1", &ios());
        ch.read_until(&[], T, "login").unwrap();
        match ch.send_command("show slow", T).unwrap_err() {
            DeviceError::Timeout {
                partial,
                what,
                host,
                ..
            } => {
                assert_eq!(host, "r1");
                assert!(what.contains("show slow"));
                assert!(partial.contains("first half"), "{partial}");
            }
            e => panic!("expected a timeout: {e}"),
        }
    }

    #[test]
    fn closed_session_is_an_error_with_partial_output() {
        let fake = Fake::new("r1#", |line| {
            if line == "reload" {
                None
            } else {
                Some("r1#".into())
            }
        });
        let mut ch = Channel::new(fake, "r1", &ios());
        ch.read_until(&[], T, "login").unwrap();
        assert!(matches!(
            ch.send_command("reload", T),
            Err(DeviceError::Closed { .. })
        ));
    }

    #[test]
    fn interactive_answers_questions() {
        let fake = Fake::new("r1#", |line| {
            Some(match line {
                "copy running-config startup-config" => {
                    "copy running-config startup-config\r\nDestination filename [startup-config]? "
                        .into()
                }
                "" => "\r\nBuilding configuration...\r\n[OK]\r\nr1#".into(),
                _ => "r1#".into(),
            })
        });
        let mut ch = Channel::new(fake, "r1", &ios());
        ch.read_until(&[], T, "login").unwrap();
        let q = Regex::new(r"Destination filename \[[^\]]*\]\?\s*$").unwrap();
        let out = ch
            .send_interactive(
                "copy running-config startup-config",
                &[(q, String::new())],
                T,
            )
            .unwrap();
        assert!(out.contains("Destination filename"), "{out}");
        assert!(out.ends_with("[OK]"), "{out}");
    }

    #[test]
    fn a_prompt_lookalike_from_another_host_is_not_the_prompt() {
        // After learning `r1`, a line `r2#` in the output does not end the read.
        let fake = Fake::new("r1#", |line| {
            Some(match line {
                "show cdp" => "show cdp\r\nr2#".into(),
                _ => "r1#".into(),
            })
        });
        let mut ch = Channel::new(fake, "r1", &ios());
        ch.read_until(&[], T, "login").unwrap();
        assert!(matches!(
            ch.send_command("show cdp", T),
            Err(DeviceError::Timeout { .. })
        ));
    }

    /// A device whose answer is read in two pieces, the first ending with `first` (a line
    /// that looks like a prompt, without its newline yet).
    fn split_answer(profile: &PlatformProfile, prompt: &str, first: &str, rest: &str) -> String {
        let cmd = "show neighbors";
        let answer = format!("{cmd}\r\n{first}");
        let mut fake = Fake::new(prompt, {
            let (answer, rest, prompt) = (answer.clone(), rest.to_string(), prompt.to_string());
            move |line| {
                Some(match line {
                    "show neighbors" => format!("{answer}{rest}{prompt}"),
                    _ => prompt.clone(),
                })
            }
        });
        fake.chunk = answer.len().max(prompt.len());
        let mut ch = Channel::new(fake, "r1", profile);
        ch.read_until(&[], T, "login").unwrap();
        ch.send_command(cmd, T).unwrap()
    }

    #[test]
    fn an_output_line_like_a_prompt_of_another_base_does_not_end_the_answer() {
        // Learned `core-1`: `core-10#` is a neighbour's name, not this device's prompt.
        let out = split_answer(&ios(), "core-1#", "core-10#", "\r\ncore-1-old>\r\n");
        assert_eq!(out, "core-10#\ncore-1-old>");
        // An output line ending in `%` on a one-mode generic profile.
        let generic = ProfileSet::builtin().get("generic").unwrap().clone();
        let out = split_answer(&generic, "fw1 % ", "fw1 CPU at 50%", "\r\ndone\r\n");
        assert_eq!(out, "fw1 CPU at 50%\ndone");
    }

    #[test]
    fn an_abbreviated_base_in_configuration_mode_is_still_the_prompt() {
        let long = "this-is-a-very-long-hostname";
        let fake = Fake::new(&format!("{long}#"), move |line| {
            Some(match line {
                "configure terminal" => format!("{line}\r\n{}(config)#", &long[..20]),
                _ => format!("{line}\r\n{long}#"),
            })
        });
        let mut ch = Channel::new(fake, "r1", &ios());
        ch.read_until(&[], T, "login").unwrap();
        assert_eq!(ch.learned_prompt(), Some(long));
        ch.send_command("configure terminal", T).unwrap();
        assert_eq!(ch.mode(), Some("configuration"));
        ch.send_command("end", T).unwrap();
        assert_eq!(ch.mode(), Some("privileged"));
    }

    /// A device that answers typed-ahead lines one after the other, echoing each after
    /// the previous prompt (as IOS does), with the write's answers all queued at once.
    fn typeahead_device() -> Fake {
        Fake::new("r1#", |line| {
            Some(match line {
                "terminal length 0" => "terminal length 0\r\nr1#".into(),
                "show clock" => "show clock\r\n10:00:00 UTC\r\nr1#".into(),
                l => format!("{l}\r\n% Invalid input detected at '^' marker.\r\nr1#"),
            })
        })
    }

    #[test]
    fn pipelined_commands_get_their_own_outputs() {
        for chunk in [1, 7, 4096] {
            let mut fake = typeahead_device();
            fake.chunk = chunk;
            let mut ch = Channel::new(fake, "r1", &ios());
            ch.read_until(&[], T, "login").unwrap();
            let cmds: Vec<String> = ["terminal length 0", "terminal bogus", "show clock"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            let outs = ch.send_pipelined(&cmds, T).unwrap();
            assert_eq!(outs.len(), 3);
            assert_eq!(outs[0], "", "chunk {chunk}");
            assert!(
                outs[1].starts_with("% Invalid input"),
                "chunk {chunk}: {:?}",
                outs[1]
            );
            assert_eq!(outs[2], "10:00:00 UTC", "chunk {chunk}");
            assert_eq!(ch.mode(), Some("privileged"));
            // Nothing left over: the next command reads its own answer.
            assert_eq!(ch.send_command("show clock", T).unwrap(), "10:00:00 UTC");
            // The three lines went out before any answer was read.
            let written = String::from_utf8(ch.into_stream().written).unwrap();
            assert!(
                written.starts_with("terminal length 0\nterminal bogus\nshow clock\n"),
                "{written:?}"
            );
        }
    }

    proptest::proptest! {
        /// However the bytes are split into reads, the cleaned output is the same.
        #[test]
        fn output_does_not_depend_on_read_sizes(chunk in 1usize..64) {
            let more = " --More-- ";
            let erase = format!("{}{}{}", "\x08".repeat(more.len()), " ".repeat(more.len()), "\x08".repeat(more.len()));
            let mut pages = vec![format!("{erase}c\x1b[0m 3\r\nr1#")].into_iter();
            let mut fake = Fake::new("banner\r\nr1#", move |line| {
                Some(match line {
                    "show x" => format!("show x\r\n\x1b[1ma\x1b[0m 1\r\n  b 2\r\n{more}"),
                    " " => pages.next().unwrap_or_default(),
                    _ => "r1#".into(),
                })
            });
            fake.chunk = chunk;
            let mut ch = Channel::new(fake, "r1", &ios());
            ch.read_until(&[], T, "login").unwrap();
            let out = ch.send_command("show x", T).unwrap();
            proptest::prop_assert_eq!(out, "a 1\n  b 2\nc 3");
        }
    }
}
