//! The FTP/FTPS backend: its own connection (not the host's SSH session), SIZE for sizes,
//! MKD, DELE, RNFR/RNTO, and REST to resume. FTP has no checksum command: a checksum means
//! reading the file back through the hash, and it cannot tell free space.

use std::io::{Read, Write};
use std::time::Instant;

use super::digest::{Algo, Hasher};
use super::remote::{RemoteFiles, RemoteSize};
use super::{transport_failure, TransferFailure};
use crate::actions::ActionCtx;
use crate::actions::Verify;
use crate::report::TaskResult;
use crate::transport::copy::Pump;
use crate::transport::ftp::{FtpClient, FtpSettings};
use crate::transport::settings::ConnectionSettings;
use crate::transport::TransportError;

pub(super) struct FtpFiles {
    client: FtpClient,
}

impl FtpFiles {
    /// Log in to the host's FTP server (`tls`: explicit FTPS), with the host's variables.
    pub(super) fn connect(ctx: &ActionCtx<'_>, tls: bool) -> Result<FtpFiles, TaskResult> {
        let ssh = ConnectionSettings::from_vars(ctx.host, ctx.vars)
            .map_err(|e| TaskResult::failed(e.to_string()))?;
        let settings = FtpSettings::from_vars(&ssh, ctx.vars, tls)
            .map_err(|e| TaskResult::failed(e.to_string()))?;
        FtpClient::connect(&settings)
            .map(|client| FtpFiles { client })
            .map_err(|e| transport_failure(&e))
    }
}

impl RemoteFiles for FtpFiles {
    fn algo(&self, verify: Verify) -> Option<Algo> {
        Algo::wanted(verify)
    }

    fn size(&mut self, path: &str) -> Result<RemoteSize, TransferFailure> {
        Ok(match self.client.size(path)? {
            Some(n) => RemoteSize::Known(n),
            None => RemoteSize::Absent,
        })
    }

    fn free_space(&mut self, _dest: &str) -> Option<u64> {
        None
    }

    fn digest(
        &mut self,
        path: &str,
        algo: Algo,
        deadline: Instant,
    ) -> Result<Option<String>, TransferFailure> {
        let mut hasher = Hasher::new(algo);
        let mut pump = Pump {
            progress: None,
            bandwidth: None,
            deadline,
        };
        // Read back no more than the server says the file holds (it may keep growing).
        let limit = self.client.size(path).ok().flatten();
        match self.client.download(path, &mut hasher, 0, limit, &mut pump) {
            Ok(_) => Ok(Some(hasher.finish())),
            Err(TransportError::Remote { reason, .. }) if reason.contains("no such file") => {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn digest_reads_back(&self) -> bool {
        true
    }

    fn mkdirs(&mut self, dir: &str) -> Result<(), TransferFailure> {
        Ok(self.client.mkdirs(dir)?)
    }

    fn remove(&mut self, path: &str) -> Result<(), TransferFailure> {
        Ok(self.client.remove(path)?)
    }

    fn rename(
        &mut self,
        tmp: &str,
        dest: &str,
        _deadline: Instant,
        _dest_absent: bool,
    ) -> Result<(), TransferFailure> {
        Ok(self.client.rename(tmp, dest)?)
    }

    fn can_resume(&self) -> bool {
        true
    }

    fn send(
        &mut self,
        src: &mut dyn Read,
        _size: u64,
        path: &str,
        offset: u64,
        _mode: Option<u32>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransferFailure> {
        Ok(self.client.upload(src, path, offset, pump)?)
    }

    fn fetch(
        &mut self,
        path: &str,
        dst: &mut dyn Write,
        offset: u64,
        limit: Option<u64>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransferFailure> {
        Ok(self.client.download(path, dst, offset, limit, pump)?)
    }

    fn close(self: Box<Self>) {
        self.client.quit();
    }
}
