//! The device driver: privilege and configuration modes as a graph (from the profile),
//! commands in the platform's command mode, config pushes with commit/abort, saves.
//!
//! A device complaining (`% Invalid input`, `syntax error`, a failed commit) is a
//! [`Response`] with `failed` set: the session is fine and the caller decides. Only a broken
//! session (timeout, drop, a mode that cannot be reached) is a [`DeviceError`].

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use regex::Regex;

use super::channel::{Channel, CliStream, SshShell, Stop};
use super::profile::PlatformProfile;
use super::{elapsed_ms, DeviceError, Response};
use crate::secret::Secret;
use crate::transport::capture::DEFAULT_MAX_OUTPUT;
use crate::transport::ssh::{DEFAULT_PTY_COLS, DEFAULT_PTY_ROWS};
use crate::transport::SshSession;

/// One step in the mode graph.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    command: String,
    to: String,
    auth: bool,
}

/// Drives one interactive device session.
pub struct Driver<S: CliStream = SshShell> {
    channel: Channel<S>,
    profile: Arc<PlatformProfile>,
    host: String,
    enable: Option<Secret>,
    timeout: Duration,
}

impl Driver<SshShell> {
    /// Open a PTY shell on `session`, wait for the first prompt, send the profile's
    /// `on_open` commands and learn the prompt.
    pub fn open(
        session: &SshSession,
        profile: &PlatformProfile,
        enable: Option<&Secret>,
    ) -> Result<Driver<SshShell>, DeviceError> {
        Driver::open_shared(
            session,
            Arc::new(profile.clone()),
            enable,
            session.command_timeout(),
        )
    }

    /// [`Driver::open`] with a profile shared with other sessions (see
    /// [`super::ProfileSet::shared`]).
    /// `timeout` bounds each step of opening (first prompt, set-up commands, enable) and
    /// is the driver's default afterwards.
    pub fn open_shared(
        session: &SshSession,
        profile: Arc<PlatformProfile>,
        enable: Option<&Secret>,
        timeout: Duration,
    ) -> Result<Driver<SshShell>, DeviceError> {
        let ch = session.open_shell(DEFAULT_PTY_COLS, DEFAULT_PTY_ROWS)?;
        let shell = SshShell::new(session.session().clone(), ch);
        Driver::open_stream_shared(
            shell,
            session.host(),
            profile,
            enable,
            timeout,
            session.max_output(),
        )
    }
}

impl<S: CliStream> Driver<S> {
    /// [`Driver::open`] over any stream (tests use a scripted one).
    pub fn open_stream(
        stream: S,
        host: &str,
        profile: &PlatformProfile,
        enable: Option<&Secret>,
        timeout: Duration,
    ) -> Result<Driver<S>, DeviceError> {
        Driver::open_stream_shared(
            stream,
            host,
            Arc::new(profile.clone()),
            enable,
            timeout,
            DEFAULT_MAX_OUTPUT,
        )
    }

    pub fn open_stream_shared(
        stream: S,
        host: &str,
        profile: Arc<PlatformProfile>,
        enable: Option<&Secret>,
        timeout: Duration,
        max_output: u64,
    ) -> Result<Driver<S>, DeviceError> {
        let mut channel = Channel::with_profile(stream, host, Arc::clone(&profile));
        channel.set_max_output(max_output);
        match channel.read_until(&[], timeout, "waiting for the first prompt") {
            Ok(_) => {}
            Err(DeviceError::Timeout { partial, secs, .. }) => {
                return Err(DeviceError::NoPrompt {
                    host: host.to_string(),
                    platform: profile.name.clone(),
                    secs,
                    last_line: partial.lines().last().unwrap_or("").to_string(),
                })
            }
            Err(e) => return Err(e),
        }
        let cmds = profile.on_open.clone();
        let mut d = Driver {
            channel,
            profile,
            host: host.to_string(),
            enable: enable.cloned(),
            timeout,
        };
        // The set-up commands go in one write (one round trip, not one each); each answer
        // is still read and judged on its own.
        let outs = if d.profile.on_open_pipelined {
            d.channel.send_pipelined(&cmds, timeout)?
        } else {
            let mut outs = Vec::with_capacity(cmds.len());
            for cmd in &cmds {
                outs.push(d.channel.send_command(cmd, timeout)?);
            }
            outs
        };
        for (cmd, out) in cmds.iter().zip(&outs) {
            if let Some(f) = d.profile.failure_in(out) {
                // Not fatal: paging may still be on, and the channel copes with pagers.
                tracing::warn!(host, "on_open `{cmd}` was rejected: {f}");
            }
        }
        Ok(d)
    }

    /// The inventory name of the host.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn profile(&self) -> &PlatformProfile {
        &self.profile
    }

    /// The mode of the last prompt seen.
    pub fn current_mode(&self) -> Option<&str> {
        self.channel.mode()
    }

    /// The learned prompt base (hostname).
    pub fn prompt(&self) -> Option<&str> {
        self.channel.learned_prompt()
    }

    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The most output each command keeps (see [`crate::transport::capture`]).
    pub fn set_max_output(&mut self, cap: u64) {
        self.channel.set_max_output(cap);
    }

    fn path(&self, from: &str, to: &str) -> Option<Vec<Step>> {
        let mut edges: HashMap<&str, Vec<Step>> = HashMap::new();
        for m in &self.profile.modes {
            if let (Some(prev), Some(esc)) = (&m.previous, &m.escalate) {
                edges.entry(prev.as_str()).or_default().push(Step {
                    command: esc.clone(),
                    to: m.name.clone(),
                    auth: m.escalate_auth,
                });
            }
            if let (Some(prev), Some(de)) = (&m.previous, &m.deescalate) {
                edges.entry(m.name.as_str()).or_default().push(Step {
                    command: de.clone(),
                    to: prev.clone(),
                    auth: false,
                });
            }
        }
        let mut came: HashMap<String, (String, Step)> = HashMap::new();
        let mut queue = VecDeque::from([from.to_string()]);
        while let Some(m) = queue.pop_front() {
            if m == to {
                let mut steps = Vec::new();
                let mut cur = m;
                while let Some((prev, step)) = came.get(&cur) {
                    steps.push(step.clone());
                    cur = prev.clone();
                }
                steps.reverse();
                return Some(steps);
            }
            for s in edges.get(m.as_str()).into_iter().flatten() {
                if s.to != from && !came.contains_key(&s.to) {
                    came.insert(s.to.clone(), (m.clone(), s.clone()));
                    queue.push_back(s.to.clone());
                }
            }
        }
        None
    }

    /// Move to mode `name` along the profile's mode graph (entering the enable secret when
    /// a step asks for it).
    pub fn acquire_mode(&mut self, name: &str) -> Result<(), DeviceError> {
        let from = self.channel.mode().unwrap_or_default().to_string();
        if from == name {
            return Ok(());
        }
        let steps = self.path(&from, name).ok_or_else(|| DeviceError::NoPath {
            host: self.host.clone(),
            platform: self.profile.name.clone(),
            from: from.clone(),
            to: name.to_string(),
        })?;
        let mut here = from;
        for step in steps {
            if step.auth {
                self.escalate_with_secret(&step)?;
            } else {
                let out = self.channel.send_command(&step.command, self.timeout)?;
                let now = self.channel.mode().unwrap_or_default();
                if now != step.to {
                    return Err(DeviceError::ModeChange {
                        host: self.host.clone(),
                        command: step.command.clone(),
                        from: here,
                        to: step.to.clone(),
                        prompt: now.to_string(),
                        output: out,
                    });
                }
            }
            here = step.to;
        }
        Ok(())
    }

    /// Enters `mode` with `command` from the mode before it (its `previous`), checking
    /// that the prompt says so.
    fn enter_mode_with(&mut self, mode: &str, command: &str) -> Result<(), DeviceError> {
        if self.channel.mode() == Some(mode) {
            // A change entered with a timer must not land in a session opened without one.
            if let Some(m) = self.command_mode() {
                self.acquire_mode(&m)?;
            }
        }
        if let Some(prev) = self.profile.mode(mode).and_then(|m| m.previous.clone()) {
            self.acquire_mode(&prev)?;
        }
        let here = self.channel.mode().unwrap_or_default().to_string();
        let out = self.channel.send_command(command, self.timeout)?;
        let now = self.channel.mode().unwrap_or_default();
        if now != mode {
            return Err(DeviceError::ModeChange {
                host: self.host.clone(),
                command: command.to_string(),
                from: here,
                to: mode.to_string(),
                prompt: now.to_string(),
                output: out,
            });
        }
        Ok(())
    }

    /// Commands sent in `mode` (a confirmation), stopping at the first the device
    /// rejects; then back to the command mode.
    pub fn send_in_mode(
        &mut self,
        mode: &str,
        commands: &[String],
    ) -> Result<Response, DeviceError> {
        let t = Instant::now();
        self.acquire_mode(mode)?;
        let mut outputs = Vec::new();
        let mut failed = None;
        for c in commands {
            let out = self.channel.send_command(c, self.timeout)?;
            if let Some(f) = self.profile.failure_in(&out) {
                failed = Some(format!("`{c}` was rejected: {f}"));
            }
            if !out.is_empty() {
                outputs.push(out);
            }
            if failed.is_some() {
                break;
            }
        }
        if let Some(m) = self.command_mode() {
            self.acquire_mode(&m)?;
        }
        Ok(Response {
            command: commands.join("\n"),
            output: outputs.join("\n"),
            failed,
            exit_status: None,
            stderr: String::new(),
            elapsed_ms: elapsed_ms(t),
        })
    }

    fn escalate_with_secret(&mut self, step: &Step) -> Result<(), DeviceError> {
        let what = format!("`{}`", step.command);
        let Some(pw_prompt) = self.profile.enable_prompt.clone() else {
            return Err(DeviceError::Unsupported {
                host: self.host.clone(),
                platform: self.profile.name.clone(),
                what: "an enable password prompt".into(),
            });
        };
        let deadline = Instant::now() + self.timeout;
        self.channel.write_line(&step.command)?;
        let mut sent = false;
        let mut missing = false;
        let mut text = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let r = self
                .channel
                .read_until(&[&pw_prompt], left, &what)
                .map_err(|e| e.with_partial_prefix(&text))?;
            text.push_str(&r.output);
            match r.stop {
                Stop::Expect(_) => {
                    match (&self.enable, sent) {
                        (Some(secret), false) => {
                            self.channel.write_secret_line(secret)?;
                            sent = true;
                        }
                        // Asked again (wrong secret) or nothing to give: empty answers let
                        // the device give up and return to its prompt.
                        (_, true) => self.channel.write_line("")?,
                        (None, false) => {
                            missing = true;
                            self.channel.write_line("")?;
                        }
                    }
                }
                Stop::Prompt(mode) => {
                    if mode == step.to {
                        return Ok(());
                    }
                    let said = self
                        .profile
                        .enable_failure
                        .iter()
                        .find(|f| text.contains(f.as_str()))
                        .cloned()
                        .or_else(|| {
                            text.lines()
                                .rev()
                                .find(|l| !l.trim().is_empty())
                                .map(|l| l.trim().to_string())
                        })
                        .unwrap_or_default();
                    let reason = if missing {
                        format!("the device asks for an enable secret and none is set (set `enable_secret` or `ansible_become_password`); it said: {said}")
                    } else if sent {
                        format!("the enable secret was refused (wrong `enable_secret`?); the device said: {said}")
                    } else {
                        format!("the device said: {said}")
                    };
                    return Err(DeviceError::Enable {
                        host: self.host.clone(),
                        mode: step.to.clone(),
                        reason,
                    });
                }
            }
        }
    }

    fn command_mode(&self) -> Option<String> {
        self.profile.command_mode().map(str::to_string)
    }

    /// Run `cmd` in the command mode with the default timeout.
    pub fn send_command(&mut self, cmd: &str) -> Result<Response, DeviceError> {
        self.send_command_timeout(cmd, self.timeout)
    }

    pub fn send_command_timeout(
        &mut self,
        cmd: &str,
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        let t = Instant::now();
        if let Some(m) = self.command_mode() {
            self.acquire_mode(&m)?;
        }
        let output = self.channel.send_command(cmd, timeout)?;
        Ok(Response {
            command: cmd.to_string(),
            failed: self.profile.failure_in(&output),
            output,
            exit_status: None,
            stderr: String::new(),
            elapsed_ms: elapsed_ms(t),
        })
    }

    /// Run `cmd` answering questions: `(prompt regex, answer line)` pairs.
    pub fn send_interactive(
        &mut self,
        cmd: &str,
        expects: &[(Regex, String)],
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        let t = Instant::now();
        if let Some(m) = self.command_mode() {
            self.acquire_mode(&m)?;
        }
        let output = self.channel.send_interactive(cmd, expects, timeout)?;
        Ok(Response {
            command: cmd.to_string(),
            failed: self.profile.failure_in(&output),
            output,
            exit_status: None,
            stderr: String::new(),
            elapsed_ms: elapsed_ms(t),
        })
    }

    /// Enter config mode, send each line (stopping at the first the device rejects, named
    /// in `failed`), commit on commit platforms (abort on failure), and return to the
    /// command mode.
    pub fn send_config(&mut self, lines: &[String]) -> Result<Response, DeviceError> {
        self.send_config_with(lines, None, None)
    }

    /// [`Driver::send_config`] entering config mode with `enter` instead of the mode's own
    /// command (IOS `configure terminal revert timer 5`, EOS `configure session X`), and
    /// committing with `commit` instead of the profile's (`commit confirmed 5`).
    pub fn send_config_with(
        &mut self,
        lines: &[String],
        enter: Option<&str>,
        commit: Option<&str>,
    ) -> Result<Response, DeviceError> {
        let t = Instant::now();
        let Some(mut cfg) = self.profile.config.clone() else {
            return Err(DeviceError::Unsupported {
                host: self.host.clone(),
                platform: self.profile.name.clone(),
                what: "configuration".into(),
            });
        };
        if let Some(c) = commit {
            cfg.commit = Some(c.to_string());
        }
        match enter {
            Some(enter) => self.enter_mode_with(&cfg.mode, enter)?,
            None => self.acquire_mode(&cfg.mode)?,
        }
        let mut outputs: Vec<String> = Vec::new();
        let mut failed = None;
        // A hostname change changes the prompt (at once, or at commit): from that line on,
        // every prompt is learned afresh.
        let mut relearn = false;
        let mut next = 0;
        while next < lines.len() {
            let i = next;
            next += 1;
            let l = lines[i].trim_end();
            if l.trim().is_empty() {
                continue;
            }
            let lt = l.trim_start();
            if lt.starts_with("hostname ") || lt.starts_with("set system host-name ") {
                relearn = true;
            }
            if relearn {
                self.channel.forget_prompt();
            }
            if self.profile.syntax.unended_text(lt, &lines[next..]) {
                failed = Some(format!(
                    "line {} `{lt}` starts a banner that no later line ends; not sent",
                    i + 1
                ));
                break;
            }
            let out = match self.profile.syntax.text_block(lt, &lines[next..]) {
                Some(n) => {
                    let text = &lines[next..next + n];
                    next += n;
                    self.send_text_block(l, text)?
                }
                None => self.channel.send_command(l, self.timeout)?,
            };
            if let Some(f) = self.profile.failure_in(&out) {
                failed = Some(format!("line {} `{}` was rejected: {f}", i + 1, lt));
                outputs.push(out);
                break;
            }
            if !out.is_empty() {
                outputs.push(out);
            }
        }
        if failed.is_none() {
            if let Some(commit) = &cfg.commit {
                if relearn {
                    self.channel.forget_prompt();
                }
                let out = self.channel.send_command(commit, self.timeout)?;
                if let Some(f) = self.profile.failure_in(&out) {
                    failed = Some(format!("`{commit}` failed: {f}"));
                }
                if !out.is_empty() {
                    outputs.push(out);
                }
            }
        }
        if failed.is_some() {
            if let Some(abort) = &cfg.abort {
                if self.channel.mode() == Some(cfg.mode.as_str()) {
                    if relearn {
                        self.channel.forget_prompt();
                    }
                    let out = self.channel.send_command(abort, self.timeout)?;
                    if !out.is_empty() {
                        outputs.push(out);
                    }
                }
            }
        }
        if let Some(m) = self.command_mode() {
            if relearn && self.channel.mode() != Some(m.as_str()) {
                self.channel.forget_prompt();
            }
            self.acquire_mode(&m)?;
        }
        Ok(Response {
            command: lines.join("\n"),
            output: outputs.join("\n"),
            failed,
            exit_status: None,
            stderr: String::new(),
            elapsed_ms: elapsed_ms(t),
        })
    }

    /// A line opening a banner, then its text and end line. The device shows no prompt
    /// while it takes the text, so waiting for one after each line would hang: the lines
    /// go out one after another and the one prompt comes after the end line. Text lines
    /// are written as they are (blank and indented ones are text too).
    fn send_text_block(&mut self, first: &str, text: &[String]) -> Result<String, DeviceError> {
        self.channel.write_line(first)?;
        for t in text {
            self.channel.write_line(t.trim_end())?;
        }
        let what = format!("text of `{}`", first.trim());
        let r = self.channel.read_until(&[], self.timeout, &what)?;
        let out = self.channel.clean_output(first, &r.output);
        // The echoes of the text lines are no answer of the device's.
        let mut echoes = text.iter().map(|t| t.trim_end()).peekable();
        let kept: Vec<&str> = out
            .lines()
            .filter(|l| match echoes.peek() {
                Some(e) if l.trim_end() == *e => {
                    echoes.next();
                    false
                }
                _ => true,
            })
            .collect();
        Ok(kept.join("\n"))
    }

    /// Persist the running config (answering the save's confirmations). `None` on
    /// platforms where commit already persists.
    pub fn save(&mut self) -> Result<Option<Response>, DeviceError> {
        let Some(save) = self.profile.config.as_ref().and_then(|c| c.save.clone()) else {
            return Ok(None);
        };
        let expects: Vec<(Regex, String)> = self
            .profile
            .save_expect
            .iter()
            .map(|e| (e.prompt.clone(), e.answer.clone()))
            .collect();
        self.send_interactive(&save.command, &expects, self.timeout)
            .map(Some)
    }

    /// Send the profile's `on_close` commands and end the session.
    pub fn close(mut self) {
        for cmd in self.profile.on_close.clone() {
            if self.channel.send_command(&cmd, self.timeout).is_err() {
                break;
            }
        }
    }

    /// The underlying channel (for actions that need raw access).
    pub fn channel(&mut self) -> &mut Channel<S> {
        &mut self.channel
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::channel::tests::Fake;
    use crate::device::profile::ProfileSet;
    use std::cell::RefCell;
    use std::rc::Rc;

    const T: Duration = Duration::from_secs(2);

    /// A tiny IOS: user mode, enable with secret `en`, config mode with state.
    fn fake_ios(secret: &'static str) -> (Fake, Rc<RefCell<Vec<String>>>) {
        let config: Rc<RefCell<Vec<String>>> = Rc::new(RefCell::new(Vec::new()));
        let cfg = config.clone();
        let mut mode = "exec";
        let mut asked = 0;
        let fake = Fake::new("\r\nUser Access Verification\r\n\r\nr1>", move |line| {
            let prompt = |m: &str| match m {
                "exec" => "r1>".to_string(),
                "priv" => "r1#".to_string(),
                _ => "r1(config)#".to_string(),
            };
            if asked > 0 {
                if line == secret {
                    asked = 0;
                    mode = "priv";
                    return Some(format!("\r\n{}", prompt(mode)));
                }
                asked += 1;
                if asked > 3 {
                    asked = 0;
                    return Some(format!("\r\n% Bad secrets\r\n\r\n{}", prompt(mode)));
                }
                return Some("\r\nPassword: ".into());
            }
            let echo = format!("{line}\r\n");
            let body = match (mode, line) {
                (_, "terminal length 0") | (_, "terminal width 511") => String::new(),
                ("exec", "enable") => {
                    asked = 1;
                    return Some(format!("{echo}Password: "));
                }
                ("priv", "configure terminal") => {
                    mode = "config";
                    "Enter configuration commands, one per line.  End with CNTL/Z.\r\n".into()
                }
                ("priv", "show run") => {
                    let mut s = String::from("hostname r1\r\n");
                    for l in cfg.borrow().iter() {
                        s.push_str(l);
                        s.push_str("\r\n");
                    }
                    s + "end\r\n"
                }
                ("config", "end") => {
                    mode = "priv";
                    String::new()
                }
                ("config", l) if l.starts_with("bogus") => {
                    "              ^\r\n% Invalid input detected at '^' marker.\r\n\r\n".into()
                }
                ("config", l) => {
                    cfg.borrow_mut().push(l.trim().to_string());
                    String::new()
                }
                _ => "% Invalid input detected at '^' marker.\r\n".into(),
            };
            Some(format!("{echo}{body}{}", prompt(mode)))
        });
        (fake, config)
    }

    fn ios() -> PlatformProfile {
        ProfileSet::builtin().get("cisco_ios").unwrap().clone()
    }

    #[test]
    fn enable_then_command_then_config() {
        let (fake, config) = fake_ios("en");
        let secret = Secret::new("en");
        let mut d = Driver::open_stream(fake, "r1", &ios(), Some(&secret), T).unwrap();
        assert_eq!(d.current_mode(), Some("exec"));
        let r = d.send_command("show run").unwrap();
        assert!(r.is_ok());
        assert_eq!(d.current_mode(), Some("privileged"));
        assert!(r.output.starts_with("hostname r1"), "{}", r.output);

        let r = d
            .send_config(&["interface Gi0/1".into(), " description uplink".into()])
            .unwrap();
        assert!(r.is_ok(), "{:?}", r.failed);
        assert_eq!(d.current_mode(), Some("privileged"));
        assert_eq!(
            *config.borrow(),
            vec!["interface Gi0/1", "description uplink"]
        );
        let r = d.send_command("show run").unwrap();
        assert!(r.output.contains("description uplink"));
    }

    #[test]
    fn config_stops_at_the_first_rejected_line_and_names_it() {
        let (fake, config) = fake_ios("en");
        let mut d = Driver::open_stream(fake, "r1", &ios(), Some(&Secret::new("en")), T).unwrap();
        let r = d
            .send_config(&[
                "ntp server 1.1.1.1".into(),
                "bogus thing".into(),
                "never sent".into(),
            ])
            .unwrap();
        let f = r.failed.unwrap();
        assert!(f.contains("line 2 `bogus thing`"), "{f}");
        assert!(f.contains("% Invalid input detected"), "{f}");
        assert_eq!(*config.borrow(), vec!["ntp server 1.1.1.1"]);
        assert_eq!(d.current_mode(), Some("privileged"));
    }

    #[test]
    fn invalid_command_is_a_failed_response_not_an_error() {
        let (fake, _) = fake_ios("en");
        let mut d = Driver::open_stream(fake, "r1", &ios(), Some(&Secret::new("en")), T).unwrap();
        let r = d.send_command("show nonsense").unwrap();
        assert!(r.failed.unwrap().contains("% Invalid input"));
    }

    #[test]
    fn wrong_or_missing_enable_secret_is_a_clear_error() {
        let (fake, _) = fake_ios("en");
        let mut d = Driver::open_stream(fake, "r1", &ios(), Some(&Secret::new("nope")), T).unwrap();
        let e = d.send_command("show run").unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, DeviceError::Enable { .. }), "{msg}");
        assert!(
            msg.contains("refused") && msg.contains("% Bad secrets"),
            "{msg}"
        );
        assert!(!msg.contains("nope"), "{msg}");

        let (fake, _) = fake_ios("en");
        let mut d = Driver::open_stream(fake, "r1", &ios(), None, T).unwrap();
        let msg = d.send_command("show run").unwrap_err().to_string();
        assert!(msg.contains("none is set"), "{msg}");
    }

    /// Records each write separately (the fake device only sees the bytes).
    struct Writes {
        inner: Fake,
        log: Rc<RefCell<Vec<String>>>,
    }

    impl CliStream for Writes {
        fn read_timeout(&mut self, buf: &mut [u8], t: Duration) -> std::io::Result<usize> {
            self.inner.read_timeout(buf, t)
        }
        fn write_all_timeout(&mut self, data: &[u8], t: Duration) -> std::io::Result<()> {
            self.log
                .borrow_mut()
                .push(String::from_utf8_lossy(data).into_owned());
            self.inner.write_all_timeout(data, t)
        }
    }

    #[test]
    fn on_open_goes_in_one_write_unless_the_profile_says_not_to() {
        for pipelined in [true, false] {
            let (fake, _) = fake_ios("en");
            let log = Rc::new(RefCell::new(Vec::new()));
            let stream = Writes {
                inner: fake,
                log: log.clone(),
            };
            let mut profile = ios();
            profile.on_open_pipelined = pipelined;
            let secret = Secret::new("en");
            let mut d = Driver::open_stream(stream, "r1", &profile, Some(&secret), T).unwrap();
            let expected: Vec<&str> = if pipelined {
                vec!["terminal length 0\nterminal width 511\n"]
            } else {
                vec!["terminal length 0\n", "terminal width 511\n"]
            };
            assert_eq!(*log.borrow(), expected);
            assert_eq!(d.current_mode(), Some("exec"));
            // The session is in step: the next command gets its own answer.
            let r = d.send_command("show run").unwrap();
            assert!(r.output.starts_with("hostname r1"), "{}", r.output);
        }
        let yaml = "name: quirky\nmodes:\n  exec:\n    prompt: '^q> $'\non_open: [a, b]\non_open_pipelined: false\n";
        let p = crate::device::profile::parse_profile(std::path::Path::new("q.yaml"), yaml, "test")
            .unwrap();
        assert!(!p.on_open_pipelined);
        assert!(ios().on_open_pipelined);
    }

    /// An IOS in banner text entry shows no prompt until the delimiter comes back: a
    /// driver waiting for one after each text line would time out.
    #[test]
    fn banner_text_goes_out_without_waiting_for_prompts() {
        let config: Rc<RefCell<Vec<String>>> = Rc::new(RefCell::new(Vec::new()));
        let cfg = config.clone();
        let mut mode = "priv";
        let mut banner = false;
        let fake = Fake::new("r1#", move |line| {
            let echo = format!("{line}\r\n");
            if banner {
                cfg.borrow_mut().push(line.to_string());
                if !line.contains("^C") {
                    return Some(echo);
                }
                banner = false;
                return Some(format!("{echo}r1(config)#"));
            }
            let body = match line {
                "configure terminal" => {
                    mode = "config";
                    ""
                }
                "end" => {
                    mode = "priv";
                    ""
                }
                l if l.starts_with("banner motd ^C") => {
                    cfg.borrow_mut().push(l.to_string());
                    banner = true;
                    return Some(format!(
                        "{echo}Enter TEXT message.  End with the character '^C'.\r\n"
                    ));
                }
                l if mode == "config" => {
                    cfg.borrow_mut().push(l.to_string());
                    ""
                }
                _ => "",
            };
            let prompt = if mode == "priv" { "r1#" } else { "r1(config)#" };
            Some(format!("{echo}{body}{prompt}"))
        });
        let mut d = Driver::open_stream(fake, "r1", &ios(), None, T).unwrap();
        let lines: Vec<String> = [
            "banner motd ^C",
            "Authorized access only",
            "",
            "  all sessions are logged",
            "^C",
            "ntp server 192.0.2.1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let r = d.send_config(&lines[..4]).unwrap();
        let f = r.failed.unwrap();
        assert!(f.contains("line 1 `banner motd ^C` starts a banner"), "{f}");
        assert!(config.borrow().is_empty());
        let r = d.send_config(&lines).unwrap();
        assert!(r.is_ok(), "{:?}", r.failed);
        assert_eq!(*config.borrow(), lines);
        assert!(r.output.contains("Enter TEXT message"), "{}", r.output);
        assert!(!r.output.contains("Authorized access only"), "{}", r.output);
        assert_eq!(d.current_mode(), Some("privileged"));
    }

    #[test]
    fn mode_graph_paths() {
        let (fake, _) = fake_ios("en");
        let d = Driver::open_stream(fake, "r1", &ios(), None, T).unwrap();
        let p = d.path("exec", "configuration").unwrap();
        let cmds: Vec<&str> = p.iter().map(|s| s.command.as_str()).collect();
        assert_eq!(cmds, ["enable", "configure terminal"]);
        assert!(p[0].auth && !p[1].auth);
        let back = d.path("configuration", "exec").unwrap();
        let cmds: Vec<&str> = back.iter().map(|s| s.command.as_str()).collect();
        assert_eq!(cmds, ["end", "disable"]);
        assert!(d.path("exec", "nowhere").is_none());
    }

    #[test]
    fn wrong_platform_prompt_is_no_prompt() {
        let fake = Fake::new("\u{bb}\u{bb} ", |_| Some(String::new()));
        let e = Driver::open_stream(fake, "r9", &ios(), None, Duration::from_millis(50))
            .err()
            .unwrap();
        let msg = e.to_string();
        assert!(matches!(e, DeviceError::NoPrompt { .. }), "{msg}");
        assert!(msg.contains("cisco_ios") && msg.contains('\u{bb}'), "{msg}");
    }

    #[test]
    fn a_failed_commit_is_reported_with_the_device_text_and_rolled_back() {
        let sent = Rc::new(RefCell::new(Vec::<String>::new()));
        let log = sent.clone();
        let mut config = false;
        let fake = Fake::new("admin@j1> ", move |line| {
            log.borrow_mut().push(line.to_string());
            let echo = format!("{line}\r\n");
            let (body, next_config) = match line {
                "configure" => ("Entering configuration mode\r\n", true),
                "commit and-quit" => (
                    "[edit interfaces]\r\n  'unit 0'\r\n    Missing mandatory statement: 'family'\r\nerror: commit failed: (missing mandatory statements)\r\n",
                    true,
                ),
                "exit configuration-mode" => ("Exiting configuration mode\r\n", false),
                _ => ("", config),
            };
            config = next_config;
            let prompt = if config {
                "\r\n[edit]\r\nadmin@j1# "
            } else {
                "admin@j1> "
            };
            Some(format!("{echo}{body}{prompt}"))
        });
        let junos = ProfileSet::builtin().get("juniper_junos").unwrap().clone();
        let mut d = Driver::open_stream(fake, "j1", &junos, None, T).unwrap();
        let r = d
            .send_config(&["set interfaces ge-0/0/1 unit 0".into()])
            .unwrap();
        let f = r.failed.unwrap();
        assert!(f.contains("`commit and-quit` failed"), "{f}");
        assert!(
            f.contains("error: commit failed: (missing mandatory statements)"),
            "{f}"
        );
        assert!(!r.output.contains("[edit]"), "{}", r.output);
        assert_eq!(d.current_mode(), Some("exec"));
        let sent = sent.borrow();
        let i = sent.iter().position(|l| l == "commit and-quit").unwrap();
        assert_eq!(sent[i + 1..], ["rollback 0", "exit configuration-mode"]);
    }
}
