//! The [`Backend`] of a host reached over its HTTP API: CLI commands and config lines go
//! through eAPI or NX-API and come back as the same text the CLI shows, so `command`,
//! `config`, parsers and `backup` work unchanged. A command the device refuses is a failed
//! [`Response`] (as `% Invalid input` is on the CLI); only transport trouble is an error.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client::{HttpClient, HttpRequest, HttpResponse};
use super::{eapi, error_message, nxapi};
use crate::device::connection::Backend;
use crate::device::profile::PlatformProfile;
use crate::device::{elapsed_ms, DeviceError, Response};
use crate::secret::Secret;
use crate::transport::capture::Capped;
use crate::transport::settings::{ConnectionKind, ConnectionSettings};
use crate::transport::TransportError;

/// An API host's connection.
pub struct ApiBackend {
    client: HttpClient,
    kind: ConnectionKind,
    profile: Arc<PlatformProfile>,
    enable: Option<Secret>,
    max_output: u64,
    next_id: u64,
}

impl ApiBackend {
    pub fn new(
        client: HttpClient,
        settings: &ConnectionSettings,
        profile: Arc<PlatformProfile>,
    ) -> ApiBackend {
        ApiBackend {
            client,
            kind: settings.kind,
            profile,
            enable: settings.enable_secret.clone(),
            max_output: settings.max_output,
            next_id: 0,
        }
    }

    /// The host's HTTP client, for the `api` action's own requests.
    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    pub fn kind(&self) -> ConnectionKind {
        self.kind
    }

    fn bad_status(&self, what: &str, r: &HttpResponse) -> TransportError {
        TransportError::Session {
            host: self.client.host().to_string(),
            what: format!("{} API: {what}", self.kind.name()),
            reason: format!(
                "HTTP {}{}",
                r.status,
                error_message(r)
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
        }
    }

    fn body_cap(&self) -> u64 {
        // The answer is JSON around the output: room for escaping and framing.
        self.max_output.saturating_mul(2).saturating_add(1 << 20)
    }

    /// Run `cmds` in one eAPI session.
    pub fn eapi(
        &mut self,
        cmds: &[String],
        format: &str,
        timeout: Duration,
    ) -> Result<eapi::Outcome, DeviceError> {
        self.next_id += 1;
        let body = eapi::run_cmds(self.next_id, self.enable.as_ref(), cmds, format);
        let r = self.post(eapi::PATH, eapi::CONTENT_TYPE, &body, timeout)?;
        let parsed = r.json().as_ref().and_then(eapi::parse);
        match parsed {
            Some(o) if r.status < 400 => Ok(o),
            _ => Err(self.bad_status("runCmds", &r).into()),
        }
    }

    /// Send one `ins_api` message.
    pub fn nxapi(
        &mut self,
        msg_type: &str,
        cmds: &[String],
        timeout: Duration,
    ) -> Result<Vec<nxapi::Output>, DeviceError> {
        let body = nxapi::ins_api(msg_type, cmds);
        let r = self.post(nxapi::PATH, nxapi::CONTENT_TYPE, &body, timeout)?;
        match r.json().as_ref().and_then(nxapi::parse) {
            Some(o) => Ok(o),
            None => Err(self.bad_status("ins_api", &r).into()),
        }
    }

    fn post(
        &mut self,
        path: &str,
        content_type: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        self.client.set_max_body(self.body_cap());
        self.client.send(
            HttpRequest {
                method: "POST",
                path,
                content_type: Some(content_type),
                accept: "application/json",
                body: Some(body),
            },
            timeout,
        )
    }

    /// The output as the CLI path shows it: lines without trailing blanks, the profile's
    /// `output_strip` lines dropped, no blank lines at either end.
    fn tidy(&self, text: &str) -> String {
        let mut lines: Vec<&str> = text
            .lines()
            .map(str::trim_end)
            .filter(|l| !self.profile.output_strip.iter().any(|r| r.is_match(l)))
            .collect();
        while lines.first().is_some_and(|l| l.is_empty()) {
            lines.remove(0);
        }
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines.join("\n")
    }

    fn capped(&self, text: String) -> String {
        if text.len() as u64 <= self.max_output {
            return text;
        }
        Capped::with_bytes(text.into_bytes(), self.max_output).text()
    }

    /// Commands in one session, their text joined, failed at the first the device refuses.
    fn run_lines(
        &mut self,
        label: &str,
        lines: &[String],
        config: bool,
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        let started = Instant::now();
        let (texts, failed): (Vec<String>, Option<(usize, String)>) = match self.kind {
            ConnectionKind::Eapi => {
                let o = self.eapi(lines, "text", timeout)?;
                (o.results.iter().map(eapi::text_of).collect(), o.failed)
            }
            ConnectionKind::Nxapi => {
                let kind = if config { "cli_conf" } else { "cli_show_ascii" };
                let outs = self.nxapi(kind, lines, timeout)?;
                let mut texts = Vec::new();
                let mut failed = None;
                for (i, o) in outs.iter().enumerate() {
                    if !o.ok {
                        texts.push(o.error.clone());
                        failed = Some((i, o.error.clone()));
                        break;
                    }
                    texts.push(nxapi::text_of(&o.body));
                }
                (texts, failed)
            }
            _ => {
                return Err(
                    self.unsupported("CLI commands (RESTCONF has no CLI; use the `api` action)")
                )
            }
        };
        let mut output = String::new();
        for t in &texts {
            let t = self.tidy(t);
            if !t.is_empty() {
                output.push_str(&t);
                output.push('\n');
            }
        }
        let failed = failed.map(|(i, why)| {
            let why = why.trim().to_string();
            match lines.get(i) {
                Some(line) if config || lines.len() > 1 => format!("{line}: {why}"),
                _ => why,
            }
        });
        Ok(Response {
            command: label.to_string(),
            output: self.capped(output.trim_end_matches('\n').to_string()),
            failed,
            exit_status: None,
            stderr: String::new(),
            elapsed_ms: elapsed_ms(started),
        })
    }
}

impl Backend for ApiBackend {
    fn run_command(&mut self, cmd: &str, timeout: Duration) -> Result<Response, DeviceError> {
        self.run_lines(cmd, &[cmd.to_string()], false, timeout)
    }

    fn send_config_with(
        &mut self,
        lines: &[String],
        enter: Option<&str>,
        commit: Option<&str>,
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        let mut all: Vec<String> = Vec::with_capacity(lines.len() + 3);
        match self.kind {
            ConnectionKind::Eapi => {
                all.push(enter.unwrap_or("configure").to_string());
                all.extend(lines.iter().cloned());
                match commit {
                    // A session's commit (`commit timer ...`) leaves config mode itself.
                    Some(c) => all.push(c.to_string()),
                    None => all.push("end".to_string()),
                }
                let mut r = self.run_lines("configure", &all, true, timeout)?;
                r.command = lines.join("\n");
                Ok(r)
            }
            ConnectionKind::Nxapi => {
                if enter.is_some() || commit.is_some() {
                    return Err(self.unsupported(
                        "another way into config mode or a commit over NX-API (cli_conf applies each line as it goes)",
                    ));
                }
                let mut r = self.run_lines("configure", lines, true, timeout)?;
                r.command = lines.join("\n");
                Ok(r)
            }
            _ => Err(self.unsupported("config lines (RESTCONF: use the `api` action with PATCH)")),
        }
    }

    /// An API session is privileged from the start: commands for the privileged (or user)
    /// mode run as they are, config-mode ones inside `configure` ... `end`.
    fn send_in_mode(
        &mut self,
        mode: &str,
        commands: &[String],
        timeout: Duration,
    ) -> Result<Response, DeviceError> {
        let config_mode = self.profile.config.as_ref().map(|c| c.mode.as_str());
        if Some(mode) == config_mode || mode == "config" {
            return self.send_config_with(commands, None, None, timeout);
        }
        let mut r = self.run_lines("commands", commands, false, timeout)?;
        r.command = commands.join("\n");
        Ok(r)
    }

    fn save(&mut self, timeout: Duration) -> Result<Option<Response>, DeviceError> {
        match self.kind {
            ConnectionKind::Eapi | ConnectionKind::Nxapi => {
                let Some(cmd) = self
                    .profile
                    .config
                    .as_ref()
                    .and_then(|c| c.save.as_ref())
                    .map(|s| s.command.clone())
                else {
                    return Ok(None);
                };
                self.run_command(&cmd, timeout).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn set_max_output(&mut self, cap: u64) {
        self.max_output = cap;
    }

    fn unsupported(&self, what: &str) -> DeviceError {
        DeviceError::Unsupported {
            host: self.client.host().to_string(),
            platform: format!("{} over {}", self.profile.name, self.kind.name()),
            what: what.to_string(),
        }
    }

    fn close(self: Box<Self>) {}

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
