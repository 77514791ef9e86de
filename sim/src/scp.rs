//! SCP on exec channels: `scp -t PATH` (the client uploads) and `scp -f PATH` (the client
//! downloads), speaking the rcp protocol that OpenSSH's scp and libssh2 use, against the
//! device's in-memory [`crate::flash`] filesystem.

use std::sync::Arc;

use russh::server::Handle;
use russh::ChannelId;
use tokio::sync::mpsc;

use crate::device::Device;
use crate::flash;
use crate::server::Input;

/// What an exec request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// `scp -t PATH`: receive a file.
    Sink(String),
    /// `scp -f PATH`: send a file; `true` with `-p` (times first, as libssh2 asks).
    Source(String, bool),
}

/// Undo the shell quoting libssh2 and OpenSSH put around the path (`'flash:/x'`).
fn unquote(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    let mut single = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' => single = !single,
            '\\' if !single => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '"' if !single => {}
            c => out.push(c),
        }
    }
    out
}

impl Job {
    /// `scp [-v] [-p] [-d] -t|-f [--] PATH`.
    pub fn parse(command: &str) -> Option<Job> {
        let rest = command.trim().strip_prefix("scp ")?;
        let mut dir = None;
        let mut times = false;
        let mut words = rest.split_whitespace().peekable();
        let mut path_start = None;
        while let Some(w) = words.peek() {
            match *w {
                "--" => {}
                w if w.starts_with('-') => {
                    times |= w.contains('p');
                    if w.contains('t') {
                        dir = Some(true);
                    } else if w.contains('f') {
                        dir = Some(false);
                    }
                }
                _ => {
                    path_start = Some(*w);
                    break;
                }
            }
            words.next();
        }
        let first = path_start?;
        let at = rest.find(first)?;
        let path = unquote(&rest[at..]);
        match dir? {
            true => Some(Job::Sink(path)),
            false => Some(Job::Source(path, times)),
        }
    }
}

/// Bytes from the client, read on demand.
struct Incoming {
    rx: mpsc::UnboundedReceiver<Input>,
    buf: Vec<u8>,
    pos: usize,
}

impl Incoming {
    async fn fill(&mut self) -> bool {
        if self.pos < self.buf.len() {
            return true;
        }
        loop {
            match self.rx.recv().await {
                Some(Input::Data(d)) if !d.is_empty() => {
                    self.buf = d;
                    self.pos = 0;
                    return true;
                }
                Some(_) => continue,
                None => return false,
            }
        }
    }

    async fn line(&mut self) -> Option<Vec<u8>> {
        let mut line = Vec::new();
        loop {
            if !self.fill().await {
                return None;
            }
            let b = self.buf[self.pos];
            self.pos += 1;
            if b == b'\n' {
                return Some(line);
            }
            line.push(b);
            if line.len() > 4096 {
                return None;
            }
        }
    }

    async fn byte(&mut self) -> Option<u8> {
        if !self.fill().await {
            return None;
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Some(b)
    }
}

async fn finish(handle: &Handle, channel: ChannelId, status: u32) {
    let _ = handle.exit_status_request(channel, status).await;
    let _ = handle.eof(channel).await;
    let _ = handle.close(channel).await;
}

async fn refuse(handle: &Handle, channel: ChannelId, msg: &str) {
    let mut m = vec![1u8];
    m.extend_from_slice(format!("scp: {msg}\n").as_bytes());
    let _ = handle.data(channel, m).await;
    finish(handle, channel, 1).await;
}

/// Serve one SCP exec channel to the end.
pub(crate) async fn serve(
    job: Job,
    device: Arc<Device>,
    handle: Handle,
    channel: ChannelId,
    rx: mpsc::UnboundedReceiver<Input>,
) {
    let mut input = Incoming {
        rx,
        buf: Vec::new(),
        pos: 0,
    };
    match job {
        Job::Sink(path) => sink(&device, &path, &handle, channel, &mut input).await,
        Job::Source(path, times) => {
            source(&device, &path, times, &handle, channel, &mut input).await
        }
    }
}

async fn sink(
    device: &Device,
    path: &str,
    handle: &Handle,
    channel: ChannelId,
    input: &mut Incoming,
) {
    let Some(target) = flash::normalize(path) else {
        refuse(handle, channel, &format!("{path}: Invalid argument")).await;
        return;
    };
    if handle.data(channel, vec![0u8]).await.is_err() {
        return;
    }
    loop {
        let Some(line) = input.line().await else {
            finish(handle, channel, 0).await;
            return;
        };
        let text = String::from_utf8_lossy(&line).to_string();
        match text.chars().next() {
            // Times (-p): acknowledge and wait for the file line.
            Some('T') => {
                let _ = handle.data(channel, vec![0u8]).await;
            }
            Some('C') => {
                let mut parts = text[1..].splitn(3, ' ');
                let _mode = parts.next();
                let size: Option<u64> = parts.next().and_then(|s| s.parse().ok());
                let Some(size) = size else {
                    refuse(handle, channel, "protocol error: bad file line").await;
                    return;
                };
                if size > flash::free(&device.name) {
                    refuse(
                        handle,
                        channel,
                        &format!("{target}: No space left on device"),
                    )
                    .await;
                    return;
                }
                if handle.data(channel, vec![0u8]).await.is_err() {
                    return;
                }
                let mut file = flash::Incoming::new(size);
                let mut left = size;
                while left > 0 {
                    if !input.fill().await {
                        // The client went away mid-file: nothing is stored.
                        return;
                    }
                    let avail = input.buf.len() - input.pos;
                    let take = usize::try_from(left).map_or(avail, |l| l.min(avail));
                    file.push(&input.buf[input.pos..input.pos + take]);
                    input.pos += take;
                    left -= take as u64;
                }
                flash::put(&device.name, &target, file.finish());
                // OpenSSH's scp ends the file with a 0 byte; libssh2 does not: the ack is
                // sent either way.
                let _ = handle.data(channel, vec![0u8]).await;
                match input.byte().await {
                    Some(0) => continue,
                    _ => {
                        finish(handle, channel, 0).await;
                        return;
                    }
                }
            }
            Some('E') => {
                let _ = handle.data(channel, vec![0u8]).await;
            }
            Some('D') => {
                refuse(handle, channel, "folders are not supported by netorch-sim").await;
                return;
            }
            _ => {
                finish(handle, channel, 0).await;
                return;
            }
        }
    }
}

async fn source(
    device: &Device,
    path: &str,
    times: bool,
    handle: &Handle,
    channel: ChannelId,
    input: &mut Incoming,
) {
    let file = flash::normalize(path).and_then(|p| flash::get(&device.name, &p));
    // Wait for the client's go.
    if input.byte().await.is_none() {
        return;
    }
    let Some(file) = file else {
        refuse(
            handle,
            channel,
            &format!("{path}: No such file or directory"),
        )
        .await;
        return;
    };
    let Some(content) = file.content.clone() else {
        refuse(
            handle,
            channel,
            &format!("{path}: too large for netorch-sim to send back (only its checksum is kept)"),
        )
        .await;
        return;
    };
    if times {
        let t = "T1764061200 0 1764061200 0\n";
        if handle.data(channel, t.as_bytes().to_vec()).await.is_err() {
            return;
        }
        if input.byte().await != Some(0) {
            finish(handle, channel, 1).await;
            return;
        }
    }
    let name = path.rsplit(['/', ':']).next().unwrap_or("file");
    let header = format!("C0644 {} {name}\n", file.size);
    if handle.data(channel, header.into_bytes()).await.is_err() {
        return;
    }
    if input.byte().await != Some(0) {
        finish(handle, channel, 1).await;
        return;
    }
    for chunk in content.chunks(32 * 1024) {
        if handle.data(channel, chunk.to_vec()).await.is_err() {
            return;
        }
    }
    let _ = handle.data(channel, vec![0u8]).await;
    finish(handle, channel, 0).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scp_commands() {
        assert_eq!(
            Job::parse("scp -t 'flash:/fw.bin'"),
            Some(Job::Sink("flash:/fw.bin".into()))
        );
        assert_eq!(
            Job::parse("scp -f flash:x.cfg"),
            Some(Job::Source("flash:x.cfg".into(), false))
        );
        assert_eq!(
            Job::parse("scp -v -p -t -- 'flash:/a b'"),
            Some(Job::Sink("flash:/a b".into()))
        );
        assert_eq!(
            Job::parse("scp -pf 'flash:/x'"),
            Some(Job::Source("flash:/x".into(), true))
        );
        assert_eq!(Job::parse("show version"), None);
        assert_eq!(Job::parse("scp flash:x"), None);
    }
}
