//! One interactive CLI session on a device, as a synchronous state machine: bytes in
//! (keystrokes), bytes out (echo, output, prompts). It owns what every vendor shares: line
//! editing (echo, backspace, `\r` / `\n` / `\r\n` as Enter, escape sequences), the
//! `--More--` pager, password and confirmation prompts, and the keyword matcher with
//! abbreviations. The vendor logic lives in `ios.rs` (IOS, EOS, NX-OS, IOS-XR) and `junos.rs`.
//!
//! The SSH layer calls [`Shell::feed`] with received bytes; it returns when a command line is
//! complete so the caller can apply latency or a fault before [`Shell::run`] answers it.

use std::sync::Arc;

use crate::device::{Device, FailMode};
use crate::platform::Platform;
use crate::tree::Node;

/// Longest command line kept; further characters are dropped.
const MAX_LINE: usize = 4096;

/// Where the session is in the vendor's mode graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// User exec (`>`).
    User,
    /// Privileged exec (`#`), or Junos operational mode.
    Priv,
    /// Configuration mode with the stack of sub-mode blocks entered (IOS family), or the
    /// Junos `[edit ...]` path.
    Config(Vec<String>),
}

/// Something the session waits for instead of a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pending {
    None,
    /// `enable` asked `Password: `.
    EnablePassword {
        attempts: u32,
    },
    /// A yes/no or filename question.
    Confirm(Confirm),
    /// Output waiting behind a `--More--`.
    Pager {
        rest: Vec<String>,
        shown: usize,
    },
    /// `banner TYPE` took over the lines: text until the delimiter (`None`: a line `EOF`).
    Banner {
        kind: String,
        delim: Option<String>,
        text: Vec<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// IOS `copy running-config startup-config`: `Destination filename [startup-config]? `.
    CopyRunStart,
    /// Junos `exit` with uncommitted changes.
    JunosExit,
    /// IOS-XR `end` with uncommitted changes.
    XrEnd,
    /// IOS `configure replace FILE` without `force`; the file's config waits in
    /// [`Shell::replace`].
    ConfigReplace,
}

/// The session's state; see the module docs.
pub struct Shell {
    pub(crate) dev: Arc<Device>,
    pub(crate) user: String,
    pub(crate) mode: Mode,
    pub(crate) pending: Pending,
    /// Lines per page; 0 turns the pager off.
    pub(crate) page_len: usize,
    pub(crate) width: usize,
    /// IOS-XR prints a timestamp before show output until `terminal exec prompt no-timestamp`.
    pub(crate) xr_timestamp: bool,
    /// Junos / IOS-XR candidate configuration while in config mode (also EOS sessions).
    pub(crate) candidate: Option<Vec<Node>>,
    /// EOS `configure session NAME`.
    pub(crate) session: Option<String>,
    /// IOS `configure replace` waiting for its Y: the new config and the revert timer (minutes).
    pub(crate) replace: Option<(Vec<Node>, Option<u64>)>,
    /// The device's revert count this session has caught up with.
    reverts_seen: u64,
    line: String,
    last_cr: bool,
    esc: u8,
    out: Vec<u8>,
    closed: bool,
    /// False on exec channels without a PTY: plain `\n` and no echo.
    pty: bool,
}

impl Shell {
    pub fn new(dev: Arc<Device>, user: &str) -> Shell {
        let mode = if dev.platform.starts_unprivileged() || dev.prompt.user_exec {
            Mode::User
        } else {
            Mode::Priv
        };
        Shell {
            dev,
            user: user.to_string(),
            mode,
            pending: Pending::None,
            page_len: 24,
            width: 80,
            xr_timestamp: true,
            candidate: None,
            session: None,
            replace: None,
            reverts_seen: 0,
            line: String::new(),
            last_cr: false,
            esc: 0,
            out: Vec::new(),
            closed: false,
            pty: true,
        }
    }

    /// A PTY window size from pty-req / window-change. Junos pages by the window height; the
    /// Cisco-style CLIs keep their `terminal length`.
    pub fn set_window(&mut self, cols: u32, rows: u32) {
        if cols > 0 {
            self.width = cols as usize;
        }
        if self.dev.platform == Platform::JuniperJunos && rows > 1 && self.page_len != 0 {
            self.page_len = rows as usize - 1;
        }
    }

    /// Login banner and first prompt.
    pub fn start(&mut self) {
        let banner = match self.dev.platform {
            Platform::JuniperJunos => {
                "--- JUNOS 21.4R3.15 Kernel 64-bit  JNPR-12.1-20220816.6ad4ec4_buil\n".to_string()
            }
            Platform::AristaEos => "Last login: Wed Nov 25 09:12:44 2026 from 10.255.0.254\n".into(),
            Platform::CiscoNxos => "Cisco NX-OS Software\nCopyright (c) 2002-2021, Cisco Systems, Inc. All rights reserved.\nNexus 9000v software (\"Nexus 9000v Software\") and related documentation,\nfiles or other reference materials (\"Documentation\") are\nthe proprietary property and confidential information of Cisco\nSystems, Inc. (\"Cisco\") and are protected, without limitation,\npursuant to United States and International copyright and trademark\nlaws in the applicable jurisdiction which provides civil and criminal\npenalties for copying or distribution without Cisco's authorization.\n".into(),
            Platform::CiscoIos | Platform::CiscoIosxr => "\n".into(),
        };
        self.emit(&banner);
        if let Some(re) = self.dev.prompt.re_line {
            self.emit(&format!("\n{re}\n"));
        }
        let p = self.prompt();
        self.emit(&p);
    }

    /// Takes the bytes produced so far.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// The session asked to be closed (`exit`, `logout`).
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Consumes keystrokes until a command line is complete. Returns how many bytes were
    /// consumed and the command, if one is ready for [`Shell::run`]. Echo, pager keys and
    /// password or confirmation answers are handled here.
    pub fn feed(&mut self, data: &[u8]) -> (usize, Option<String>) {
        for (i, &b) in data.iter().enumerate() {
            if self.closed {
                return (data.len(), None);
            }
            let was_cr = self.last_cr;
            self.last_cr = b == b'\r';
            if let Pending::Pager { .. } = self.pending {
                if b == b'\n' && was_cr {
                    continue;
                }
                self.pager_key(b);
                continue;
            }
            if self.esc > 0 {
                // ESC [ ... final byte: arrow keys and the like are ignored.
                if self.esc == 1 && b != b'[' && b != b'O' {
                    self.esc = 0;
                } else if self.esc == 1 {
                    self.esc = 2;
                } else if (0x40..=0x7e).contains(&b) {
                    self.esc = 0;
                }
                continue;
            }
            match b {
                b'\n' if was_cr => {}
                b'\r' | b'\n' => {
                    let line = std::mem::take(&mut self.line);
                    self.emit("\n");
                    match self.pending.clone() {
                        Pending::EnablePassword { attempts } => self.enable_answer(&line, attempts),
                        Pending::Confirm(c) => self.confirm_answer(c, line.trim()),
                        // Blank lines are banner text too, not an empty command.
                        Pending::Banner { .. } => self.ios_banner_line(&line),
                        _ => {
                            if line.trim().is_empty() {
                                let p = self.prompt_after(false);
                                self.emit(&p);
                            } else {
                                return (i + 1, Some(line));
                            }
                        }
                    }
                }
                0x7f | 0x08 => {
                    let erased = self.line.pop().is_some();
                    if erased && !self.is_secret_input() {
                        self.emit_raw(b"\x08 \x08");
                    }
                }
                0x03 => {
                    // Ctrl-C abandons the line.
                    self.line.clear();
                    self.pending = Pending::None;
                    self.emit("^C\n");
                    let p = self.prompt_after(false);
                    self.emit(&p);
                }
                0x1a => {
                    // Ctrl-Z leaves configuration mode like `end`.
                    self.line.clear();
                    if matches!(self.mode, Mode::Config(_)) {
                        self.emit("^Z\n");
                        return (i + 1, Some("end".into()));
                    }
                }
                0x1b => self.esc = 1,
                0x15 => {
                    // Ctrl-U erases the line.
                    let n = self.line.chars().count();
                    self.line.clear();
                    if !self.is_secret_input() {
                        for _ in 0..n {
                            self.emit_raw(b"\x08 \x08");
                        }
                    }
                }
                b'\t' => {}
                // Like the real CLIs, a line stops growing at a sane length.
                b if b >= 0x20 && self.line.len() < MAX_LINE => {
                    self.line.push(b as char);
                    if !self.is_secret_input() {
                        self.emit_raw(&[b]);
                    }
                }
                _ => {}
            }
        }
        (data.len(), None)
    }

    fn is_secret_input(&self) -> bool {
        matches!(self.pending, Pending::EnablePassword { .. })
    }

    /// Answers one command line (from [`Shell::feed`]): output, then the next prompt.
    pub fn run(&mut self, line: &str) {
        self.follow_revert();
        match self.dev.platform {
            Platform::JuniperJunos => self.junos_run(line),
            _ => self.ios_run(line),
        }
    }

    /// After a revert timer fired, a candidate without edits of its own (still the
    /// configuration the revert threw away) becomes the running config again, so leaving
    /// configuration mode does not report uncommitted changes that nobody made.
    fn follow_revert(&mut self) {
        let st = self.dev.state();
        if st.reverts == self.reverts_seen {
            return;
        }
        self.reverts_seen = st.reverts;
        let stale = self.candidate.as_ref() == Some(&st.reverted_from) && self.session.is_none();
        drop(st);
        if stale {
            self.candidate = Some(self.dev.running());
        }
    }

    /// Runs one command on an exec channel (`ssh host 'show version'`): privileged, no
    /// paging, no echo, no prompt. Returns the output and an exit status.
    pub fn exec(&mut self, line: &str, pty: bool) -> (Vec<u8>, u32) {
        self.pty = pty;
        self.page_len = 0;
        if self.mode == Mode::User {
            self.mode = Mode::Priv;
        }
        self.out.clear();
        let text = match self.dev.platform {
            Platform::JuniperJunos => self.junos_exec(line),
            _ => self.ios_exec(line),
        };
        let failed = is_error_text(&text);
        self.emit(&text);
        if !text.is_empty() && !text.ends_with('\n') {
            self.emit("\n");
        }
        (self.take_output(), u32::from(failed))
    }

    /// The prompt for the current mode.
    pub fn prompt(&self) -> String {
        if self.dev.fail == Some(FailMode::WrongPrompt) {
            return "\u{bb}\u{bb} ".into();
        }
        let host = self.dev.hostname();
        let style = self.dev.prompt;
        match self.dev.platform {
            Platform::JuniperJunos => {
                let user = if style.no_user {
                    String::new()
                } else {
                    format!("{}@", self.user)
                };
                match &self.mode {
                    Mode::Config(_) => format!("{user}{host}# "),
                    _ => format!("{user}{host}> "),
                }
            }
            p => {
                let prefix = match p {
                    Platform::CiscoIosxr if style.rsp => "RP/0/RSP0/CPU0:",
                    Platform::CiscoIosxr => "RP/0/RP0/CPU0:",
                    _ => "",
                };
                let space = if p == Platform::CiscoNxos { " " } else { "" };
                let maint = if style.maint_mode { "(maint-mode)" } else { "" };
                match &self.mode {
                    Mode::User => format!("{prefix}{host}{maint}>{space}"),
                    Mode::Priv => format!("{prefix}{host}{maint}#{space}"),
                    Mode::Config(path) => {
                        // IOS shows at most 20 characters of the hostname in
                        // configuration prompts.
                        let host: String = if p == Platform::CiscoIos {
                            host.chars().take(20).collect()
                        } else {
                            host
                        };
                        let label = self.config_label(path);
                        format!("{prefix}{host}{maint}({label})#{space}")
                    }
                }
            }
        }
    }

    /// The full text before the cursor after a command: Junos adds `[edit]` and a blank line.
    pub(crate) fn prompt_after(&self, had_output: bool) -> String {
        let p = self.prompt();
        if self.dev.platform != Platform::JuniperJunos
            || self.dev.fail == Some(FailMode::WrongPrompt)
        {
            return p;
        }
        let re = self.dev.prompt.re_line.unwrap_or("");
        match &self.mode {
            Mode::Config(path) if path.is_empty() => format!("\n{re}[edit]\n{p}"),
            Mode::Config(path) => format!("\n{re}[edit {}]\n{p}", path.join(" ")),
            // A cluster line comes on a line of its own before every operational prompt.
            _ if !re.is_empty() => format!("\n{re}\n{p}"),
            _ if had_output => format!("\n{p}"),
            _ => p,
        }
    }

    /// Emits a command's output and the next prompt, through the pager when it is on.
    pub(crate) fn finish(&mut self, output: &str) {
        if output.is_empty() {
            let p = self.prompt_after(false);
            self.emit(&p);
            return;
        }
        let lines: Vec<String> = output.lines().map(str::to_string).collect();
        if self.page_len > 0 && lines.len() > self.page_len {
            let first = self.page_len;
            for l in &lines[..first] {
                self.emit(l);
                self.emit("\n");
            }
            self.pending = Pending::Pager {
                rest: lines[first..].to_vec(),
                shown: first,
            };
            self.emit_more();
        } else {
            for l in &lines {
                self.emit(l);
                self.emit("\n");
            }
            let p = self.prompt_after(true);
            self.emit(&p);
        }
    }

    fn more_text(&self, shown: usize, total: usize) -> String {
        match self.dev.platform {
            Platform::JuniperJunos => {
                format!("---(more {}%)---", shown * 100 / total.max(1))
            }
            _ => " --More-- ".into(),
        }
    }

    fn emit_more(&mut self) {
        if let Pending::Pager { rest, shown } = &self.pending {
            let t = self.more_text(*shown, shown + rest.len());
            self.emit(&t);
        }
    }

    fn erase_more(&mut self) {
        if let Pending::Pager { rest, shown } = &self.pending {
            let n = self.more_text(*shown, shown + rest.len()).len();
            let mut e = Vec::with_capacity(3 * n);
            e.extend(std::iter::repeat_n(b'\x08', n));
            e.extend(std::iter::repeat_n(b' ', n));
            e.extend(std::iter::repeat_n(b'\x08', n));
            self.emit_raw(&e);
        }
    }

    /// Space: next page; Enter: next line; anything else (q): stop.
    fn pager_key(&mut self, key: u8) {
        self.erase_more();
        let Pending::Pager {
            mut rest,
            mut shown,
        } = std::mem::replace(&mut self.pending, Pending::None)
        else {
            return;
        };
        let take = match key {
            b' ' => self.page_len.max(1),
            b'\r' | b'\n' => 1,
            _ => 0,
        };
        if take == 0 {
            let p = self.prompt_after(true);
            self.emit(&p);
            return;
        }
        let n = take.min(rest.len());
        let page: Vec<String> = rest.drain(..n).collect();
        shown += n;
        for l in &page {
            self.emit(l);
            self.emit("\n");
        }
        if rest.is_empty() {
            let p = self.prompt_after(true);
            self.emit(&p);
        } else {
            self.pending = Pending::Pager { rest, shown };
            self.emit_more();
        }
    }

    fn enable_answer(&mut self, given: &str, attempts: u32) {
        let ok =
            given == self.dev.settings.enable_secret && self.dev.fail != Some(FailMode::NoEnable);
        self.pending = Pending::None;
        if ok {
            self.mode = Mode::Priv;
            let p = self.prompt_after(false);
            self.emit(&p);
            return;
        }
        if self.dev.platform == Platform::CiscoIos && attempts < 3 {
            // IOS asks again, up to three times, then gives up with `% Bad secrets`.
            self.pending = Pending::EnablePassword {
                attempts: attempts + 1,
            };
            self.emit("Password: ");
            return;
        }
        let msg = if self.dev.platform == Platform::CiscoIos {
            "% Bad secrets\n\n"
        } else {
            "% Access denied\n"
        };
        self.emit(msg);
        let p = self.prompt_after(false);
        self.emit(&p);
    }

    pub(crate) fn ask_enable_password(&mut self) {
        self.pending = Pending::EnablePassword { attempts: 1 };
        self.emit("Password: ");
    }

    pub(crate) fn ask(&mut self, what: Confirm, question: &str) {
        self.pending = Pending::Confirm(what);
        self.emit(question);
    }

    fn confirm_answer(&mut self, what: Confirm, answer: &str) {
        self.pending = Pending::None;
        match self.dev.platform {
            Platform::JuniperJunos => self.junos_confirm(what, answer),
            _ => self.ios_confirm(what, answer),
        }
    }

    /// Appends text, turning `\n` into the terminal's line ending.
    pub(crate) fn emit(&mut self, text: &str) {
        if !self.pty {
            self.out.extend_from_slice(text.as_bytes());
            return;
        }
        for b in text.bytes() {
            if b == b'\n' {
                self.out.extend_from_slice(b"\r\n");
            } else {
                self.out.push(b);
            }
        }
    }

    pub(crate) fn emit_raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    pub(crate) fn close(&mut self) {
        self.closed = true;
    }

    /// The length of the prompt as shown, for caret positioning.
    pub(crate) fn prompt_width(&self) -> usize {
        self.prompt().chars().count()
    }
}

/// Whether an answer is the vendor's error text (exec channels report it as exit status 1).
pub fn is_error_text(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("% Invalid")
            || l.starts_with("% Incomplete")
            || l.starts_with("% Ambiguous")
            || l.starts_with("syntax error")
            || l.starts_with("unknown command")
            || l.starts_with("error:")
    })
}

/// A command form: keywords (abbreviable), then free arguments.
#[derive(Debug)]
pub struct Spec<Id: 'static> {
    pub words: &'static [&'static str],
    pub id: Id,
    pub args: Args,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Args {
    None,
    Optional,
    Required,
}

/// The outcome of matching typed words against the command forms available in a mode.
#[derive(Debug, PartialEq, Eq)]
pub enum Match<Id> {
    Ok {
        id: Id,
        args: Vec<String>,
    },
    /// The word at this index matches nothing.
    Invalid(usize),
    /// The word at this index is a prefix of several keywords.
    Ambiguous(usize),
    Incomplete,
}

/// Matches words against command forms, with unique-prefix abbreviations (`sh ip int br`).
pub fn match_command<Id: Copy>(specs: &[&Spec<Id>], words: &[&str]) -> Match<Id> {
    let mut cands: Vec<&Spec<Id>> = specs.to_vec();
    let mut i = 0;
    loop {
        if i == words.len() {
            return match cands.iter().find(|s| s.words.len() == i) {
                Some(s) if s.args != Args::Required => Match::Ok {
                    id: s.id,
                    args: Vec::new(),
                },
                _ => Match::Incomplete,
            };
        }
        let typed = words[i].to_ascii_lowercase();
        let mut keywords: Vec<&str> = cands
            .iter()
            .filter(|s| s.words.len() > i)
            .map(|s| s.words[i])
            .collect();
        keywords.dedup();
        let chosen = if keywords.contains(&typed.as_str()) {
            Some(typed.clone())
        } else {
            let mut prefixed: Vec<&str> = keywords
                .iter()
                .copied()
                .filter(|k| k.starts_with(typed.as_str()))
                .collect();
            prefixed.sort_unstable();
            prefixed.dedup();
            match prefixed.len() {
                0 => None,
                1 => Some(prefixed[0].to_string()),
                _ => return Match::Ambiguous(i),
            }
        };
        match chosen {
            Some(k) => {
                cands.retain(|s| s.words.len() > i && s.words[i] == k);
                i += 1;
            }
            None => {
                return match cands
                    .iter()
                    .find(|s| s.words.len() == i && s.args != Args::None)
                {
                    Some(s) => Match::Ok {
                        id: s.id,
                        args: words[i..].iter().map(|w| w.to_string()).collect(),
                    },
                    None => Match::Invalid(i),
                };
            }
        }
    }
}

/// Splits a line into words with each word's character offset (for the `^` marker).
pub fn words_with_offsets(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push((s, &line[s..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, &line[s..]));
    }
    out
}

/// Splits `cmd | filter args` at the first pipe.
pub fn split_pipe(line: &str) -> (&str, Option<&str>) {
    match line.split_once('|') {
        Some((cmd, filter)) => (cmd.trim_end(), Some(filter.trim())),
        None => (line, None),
    }
}
