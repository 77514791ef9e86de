//! The `sftp` subsystem (russh-sftp's protocol server) over a device's in-memory
//! [`crate::flash`] filesystem: open/read/write at offsets, stat, rename, remove, and a
//! folder listing of `flash:`. Files are assembled in memory and stored on close; one file
//! being written may hold at most [`MAX_SFTP_FILE_BYTES`].

use std::collections::HashMap;
use std::sync::Arc;

use russh::server::Handle as SshHandle;
use russh::ChannelId;
use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::device::Device;
use crate::flash;
use crate::server::Input;

/// Largest file one SFTP upload may assemble in memory.
pub const MAX_SFTP_FILE_BYTES: u64 = 512 * 1024 * 1024;

enum Open {
    Write { path: String, data: Vec<u8> },
    Read { content: Arc<Vec<u8>> },
    Dir { done: bool },
}

struct Sftp {
    device: String,
    handles: HashMap<String, Open>,
    next: u64,
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

fn err(code: StatusCode, msg: &str) -> StatusReply {
    StatusReply::from(code).with_message(msg.to_string())
}

fn attrs_of(size: u64) -> FileAttributes {
    let mut a = FileAttributes::empty();
    a.size = Some(size);
    a.permissions = Some(0o644);
    a.set_regular(true);
    a
}

fn dir_attrs() -> FileAttributes {
    let mut a = FileAttributes::empty();
    a.permissions = Some(0o755);
    a.set_dir(true);
    a
}

/// `flash:`, `flash:/` or `/` name the folder.
fn is_dir(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    p.is_empty() || p == "." || (p.ends_with(':') && !p.contains('/'))
}

impl Sftp {
    fn handle(&mut self, open: Open) -> String {
        self.next += 1;
        let h = format!("h{}", self.next);
        self.handles.insert(h.clone(), open);
        h
    }

    fn stat_path(&self, id: u32, path: &str) -> Result<Attrs, StatusReply> {
        if is_dir(path) {
            return Ok(Attrs {
                id,
                attrs: dir_attrs(),
            });
        }
        let p = flash::normalize(path).ok_or_else(|| err(StatusCode::NoSuchFile, path))?;
        match flash::get(&self.device, &p) {
            Some(f) => Ok(Attrs {
                id,
                attrs: attrs_of(f.size),
            }),
            None => Err(err(StatusCode::NoSuchFile, "No such file")),
        }
    }
}

impl russh_sftp::server::Handler for Sftp {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        err(StatusCode::OpUnsupported, "not supported by netorch-sim")
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        Ok(Version::new())
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let path = flash::normalize(&filename)
            .ok_or_else(|| err(StatusCode::NoSuchFile, "Invalid path"))?;
        let existing = flash::get(&self.device, &path);
        let open = if pflags.contains(OpenFlags::WRITE) {
            let data = match (&existing, pflags.contains(OpenFlags::TRUNCATE)) {
                (Some(f), false) => match &f.content {
                    Some(c) => c.as_ref().clone(),
                    None => return Err(err(StatusCode::Failure, "file too large to modify")),
                },
                (None, _) if !pflags.contains(OpenFlags::CREATE) => {
                    return Err(err(StatusCode::NoSuchFile, "No such file"))
                }
                _ => Vec::new(),
            };
            Open::Write { path, data }
        } else {
            let f = existing.ok_or_else(|| err(StatusCode::NoSuchFile, "No such file"))?;
            let content = f.content.ok_or_else(|| {
                err(
                    StatusCode::Failure,
                    "too large for netorch-sim to send back",
                )
            })?;
            Open::Read { content }
        };
        Ok(Handle {
            id,
            handle: self.handle(open),
        })
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        if let Some(Open::Write { path, data }) = self.handles.remove(&handle) {
            if data.len() as u64 > flash::free(&self.device) {
                return Err(err(StatusCode::Failure, "No space left on device"));
            }
            let mut inc = flash::Incoming::new(data.len() as u64);
            inc.push(&data);
            flash::put(&self.device, &path, inc.finish());
        }
        Ok(ok(id))
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let Some(Open::Write { data: buf, .. }) = self.handles.get_mut(&handle) else {
            return Err(err(StatusCode::Failure, "not open for writing"));
        };
        let end = offset + data.len() as u64;
        if end > MAX_SFTP_FILE_BYTES {
            return Err(err(StatusCode::Failure, "No space left on device"));
        }
        let (start, end) = (offset as usize, end as usize);
        if buf.len() < end {
            buf.resize(end, 0);
        }
        buf[start..end].copy_from_slice(&data);
        Ok(ok(id))
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let Some(Open::Read { content }) = self.handles.get(&handle) else {
            return Err(err(StatusCode::Failure, "not open for reading"));
        };
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        if start >= content.len() {
            return Err(err(StatusCode::Eof, "EOF"));
        }
        let end = content.len().min(start + len as usize);
        Ok(Data {
            id,
            data: content[start..end].to_vec(),
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        self.stat_path(id, &path)
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        self.stat_path(id, &path)
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let size = match self.handles.get(&handle) {
            Some(Open::Write { data, .. }) => data.len() as u64,
            Some(Open::Read { content }) => content.len() as u64,
            Some(Open::Dir { .. }) => {
                return Ok(Attrs {
                    id,
                    attrs: dir_attrs(),
                })
            }
            None => return Err(err(StatusCode::Failure, "bad handle")),
        };
        Ok(Attrs {
            id,
            attrs: attrs_of(size),
        })
    }

    async fn setstat(
        &mut self,
        id: u32,
        _path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        Ok(ok(id))
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        _handle: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        Ok(ok(id))
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        let p = flash::normalize(&filename).ok_or_else(|| err(StatusCode::NoSuchFile, "?"))?;
        if flash::remove(&self.device, &p) {
            Ok(ok(id))
        } else {
            Err(err(StatusCode::NoSuchFile, "No such file"))
        }
    }

    async fn rename(
        &mut self,
        id: u32,
        oldpath: String,
        newpath: String,
    ) -> Result<Status, Self::Error> {
        let (Some(from), Some(to)) = (flash::normalize(&oldpath), flash::normalize(&newpath))
        else {
            return Err(err(StatusCode::NoSuchFile, "Invalid path"));
        };
        let f = flash::get(&self.device, &from)
            .ok_or_else(|| err(StatusCode::NoSuchFile, "No such file"))?;
        // Like a device's rename: replaces the target.
        flash::put(&self.device, &to, f);
        flash::remove(&self.device, &from);
        Ok(ok(id))
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let shown = if is_dir(&path) {
            "flash:/".to_string()
        } else {
            flash::normalize(&path).unwrap_or(path)
        };
        Ok(Name {
            id,
            files: vec![File::dummy(shown)],
        })
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        if !is_dir(&path) {
            return Err(err(StatusCode::NoSuchFile, "No such folder"));
        }
        Ok(Handle {
            id,
            handle: self.handle(Open::Dir { done: false }),
        })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        let Some(Open::Dir { done }) = self.handles.get_mut(&handle) else {
            return Err(err(StatusCode::Failure, "bad handle"));
        };
        if *done {
            return Err(err(StatusCode::Eof, "EOF"));
        }
        *done = true;
        let files = flash::list(&self.device, "flash:")
            .into_iter()
            .map(|(name, size)| File::new(name, attrs_of(size)))
            .collect();
        Ok(Name { id, files })
    }
}

/// Serve the sftp subsystem on one channel: its data arrives through `rx` (the connection
/// handler's `data()`), answers go out with `handle.data`.
pub(crate) fn serve(
    device: Arc<Device>,
    handle: SshHandle,
    channel: ChannelId,
    mut rx: mpsc::UnboundedReceiver<Input>,
) {
    let (ours, theirs) = tokio::io::duplex(256 * 1024);
    let (mut from_sftp, mut to_sftp) = tokio::io::split(ours);
    tokio::spawn(async move {
        while let Some(input) = rx.recv().await {
            if let Input::Data(d) = input {
                if to_sftp.write_all(&d).await.is_err() {
                    break;
                }
            }
        }
        let _ = to_sftp.shutdown().await;
    });
    let out = handle.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from_sftp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if out.data(channel, buf[..n].to_vec()).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = out.eof(channel).await;
        let _ = out.close(channel).await;
    });
    let handler = Sftp {
        device: device.name.clone(),
        handles: HashMap::new(),
        next: 0,
    };
    tokio::spawn(russh_sftp::server::run(theirs, handler));
}
