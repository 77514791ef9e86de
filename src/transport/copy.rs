//! The byte pump every file transport shares (SFTP, SCP, FTP): one large reusable buffer,
//! progress callbacks, an optional bandwidth cap and the transfer's own deadline.
//!
//! Files are streamed through a fixed buffer, never read whole into memory, so a push of a
//! 1 GiB image to 50 devices stays within a few tens of MB.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use super::ssh::set_deadline;
use super::TransportError;

/// Buffer size for SFTP and SCP. libssh2 pipelines an SFTP write over as many 30 kB packets
/// as the buffer holds (and reads ahead as far as the read buffer asks), so tiny buffers
/// serialise round trips. Measured (256 MiB over loopback, aes128-gcm, release build, a
/// loaded 2-core box): 32 KiB 2.27 s, 256 KiB 1.92 s, 1 MiB 2.12 s, 2-32 MiB 2.7 s (bigger
/// buffers drain the pipeline for longer at each refill); CPU time is the same from 256 KiB
/// up. See scripts/bench/transfer-speed.
pub const SSH_CHUNK_BYTES: usize = 512 * 1024;
/// Buffer size for FTP data connections (plain sockets: the kernel does the pipelining).
pub const FTP_CHUNK_BYTES: usize = 256 * 1024;

/// Called with the number of bytes just moved.
pub type ProgressFn<'a> = &'a mut dyn FnMut(u64);

/// How a copy is paced and bounded.
pub struct Pump<'a> {
    pub progress: Option<ProgressFn<'a>>,
    /// Bytes per second at most.
    pub bandwidth: Option<u64>,
    /// The whole transfer must be done by then.
    pub deadline: Instant,
}

/// How a transport wants the bytes moved.
#[derive(Clone, Copy)]
pub struct IoHooks<'h> {
    /// Buffer size.
    pub chunk: usize,
    /// The SSH session the reads and writes block in (SFTP, SCP): before each call its
    /// timeout is set to the time left, and a timeout that comes back before the deadline
    /// (libssh2 counts in whole milliseconds) is retried. `None` (FTP): a socket timeout
    /// is the stall limit and fails the copy.
    pub ssh: Option<&'h ssh2::Session>,
}

impl<'h> IoHooks<'h> {
    /// For a copy over `session` (SFTP or SCP).
    pub fn ssh(session: &'h ssh2::Session) -> IoHooks<'h> {
        IoHooks {
            chunk: SSH_CHUNK_BYTES,
            ssh: Some(session),
        }
    }
}

/// Why a copy stopped.
#[derive(Debug)]
pub enum PumpError {
    /// Reading the source failed (local file, or the remote side on a download).
    Read(io::Error),
    /// Writing the destination failed.
    Write(io::Error),
    /// The transfer's deadline passed.
    Deadline,
}

/// What a copy was doing, to word its failure.
pub struct CopySite<'a> {
    pub host: &'a str,
    /// The operation as errors name it ("write", "send", "retrieve", ...).
    pub op: &'a str,
    pub path: &'a str,
    /// True when the remote side is the one read from (a download).
    pub remote_reads: bool,
    pub started: Instant,
    pub deadline: Instant,
}

impl PumpError {
    /// The transport error for a copy that stopped at `site`. The deadline is a timeout
    /// over the whole transfer; a failure of the remote side is a `Remote` error whose
    /// reason each protocol words its own way (`remote_reason`); a failure of the local
    /// file is `Local`.
    pub fn at(
        self,
        site: &CopySite<'_>,
        remote_reason: impl FnOnce(&io::Error) -> String,
    ) -> TransportError {
        match self {
            PumpError::Deadline => TransportError::Timeout {
                host: site.host.to_string(),
                what: format!("transfer of {}", site.path),
                secs: site
                    .deadline
                    .saturating_duration_since(site.started)
                    .as_secs_f64(),
                partial: String::new(),
            },
            PumpError::Read(e) if site.remote_reads => site.remote(remote_reason(&e)),
            PumpError::Write(e) if !site.remote_reads => site.remote(remote_reason(&e)),
            PumpError::Read(e) | PumpError::Write(e) => TransportError::Local {
                host: site.host.to_string(),
                reason: e.to_string(),
            },
        }
    }
}

impl<'a> CopySite<'a> {
    /// A copy under `pump` that starts now.
    pub fn starting(
        host: &'a str,
        op: &'a str,
        path: &'a str,
        remote_reads: bool,
        pump: &Pump<'_>,
    ) -> CopySite<'a> {
        CopySite {
            host,
            op,
            path,
            remote_reads,
            started: Instant::now(),
            deadline: pump.deadline,
        }
    }

    fn remote(&self, reason: String) -> TransportError {
        TransportError::Remote {
            host: self.host.to_string(),
            op: self.op.to_string(),
            path: self.path.to_string(),
            reason,
        }
    }
}

impl Pump<'_> {
    /// Copy `r` into `w` until `r` ends (or `limit` bytes were copied); returns the count.
    pub fn copy(
        &mut self,
        r: &mut dyn Read,
        w: &mut dyn Write,
        limit: Option<u64>,
        hooks: IoHooks<'_>,
    ) -> Result<u64, PumpError> {
        // A sliding window twice the chunk: each write is handed everything not yet
        // accepted plus fresh data behind it. libssh2's SFTP write keeps the packets it
        // has in flight and only makes new ones for the tail, so the pipeline never drains
        // while the buffer is refilled (with one chunk per write it did, at every refill).
        let chunk = hooks.chunk.max(4096);
        let mut buf = vec![0u8; chunk * 2];
        let (mut start, mut end) = (0usize, 0usize);
        let mut eof = false;
        let mut read_total: u64 = 0;
        let started = Instant::now();
        let mut total: u64 = 0;
        loop {
            while !eof && end - start < chunk {
                if end == buf.len() {
                    buf.copy_within(start..end, 0);
                    end -= start;
                    start = 0;
                }
                let room = buf.len() - end;
                let want = match limit {
                    Some(l) => usize::try_from(l - read_total).map_or(room, |n| n.min(room)),
                    None => room,
                };
                if want == 0 {
                    eof = true;
                    break;
                }
                let n = loop {
                    self.check_time(hooks.ssh)?;
                    match r.read(&mut buf[end..end + want]) {
                        Ok(n) => break n,
                        Err(e) => self.retry_or_fail(e, hooks, PumpError::Read)?,
                    }
                };
                if n == 0 {
                    eof = true;
                } else {
                    end += n;
                    read_total += n as u64;
                }
            }
            if start == end {
                break;
            }
            self.check_time(hooks.ssh)?;
            let k = match w.write(&buf[start..end]) {
                Ok(0) => {
                    return Err(PumpError::Write(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the connection took no more data",
                    )))
                }
                Ok(k) => k,
                Err(e) => {
                    self.retry_or_fail(e, hooks, PumpError::Write)?;
                    0
                }
            };
            if k == 0 {
                continue;
            }
            start += k;
            total += k as u64;
            if let Some(p) = self.progress.as_mut() {
                p(k as u64);
            }
            if let Some(bw) = self.bandwidth {
                // Sleep until the average rate is back under the cap.
                let due = Duration::from_secs_f64(total as f64 / bw as f64);
                let spent = started.elapsed();
                if due > spent {
                    let nap =
                        (due - spent).min(self.deadline.saturating_duration_since(Instant::now()));
                    std::thread::sleep(nap);
                }
            }
        }
        if let Err(e) = w.flush() {
            return Err(PumpError::Write(e));
        }
        Ok(total)
    }

    /// `Ok(())`: the failed read or write may be repeated (interrupted, or a timeout the
    /// transport asked to retry while the deadline is not reached).
    fn retry_or_fail(
        &self,
        e: io::Error,
        hooks: IoHooks<'_>,
        wrap: fn(io::Error) -> PumpError,
    ) -> Result<(), PumpError> {
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(());
        }
        if !is_timeout(&e) {
            return Err(wrap(e));
        }
        if Instant::now() >= self.deadline {
            return Err(PumpError::Deadline);
        }
        if hooks.ssh.is_some() {
            Ok(())
        } else {
            Err(wrap(e))
        }
    }

    fn check_time(&self, ssh: Option<&ssh2::Session>) -> Result<(), PumpError> {
        let now = Instant::now();
        if now >= self.deadline {
            return Err(PumpError::Deadline);
        }
        if let Some(session) = ssh {
            set_deadline(session, self.deadline);
        }
        Ok(())
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) || e.to_string().contains("Timed out")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hooks(chunk: usize) -> IoHooks<'static> {
        IoHooks { chunk, ssh: None }
    }

    #[test]
    fn copies_with_limit_and_progress() {
        let data = vec![7u8; 100_000];
        let mut out = Vec::new();
        let mut seen = 0u64;
        let mut cb = |n: u64| seen += n;
        let mut p = Pump {
            progress: Some(&mut cb),
            bandwidth: None,
            deadline: Instant::now() + Duration::from_secs(5),
        };
        let n = p
            .copy(&mut &data[..], &mut out, Some(60_000), hooks(4096))
            .unwrap();
        assert_eq!(n, 60_000);
        assert_eq!(out.len(), 60_000);
        assert_eq!(seen, 60_000);
    }

    #[test]
    fn bandwidth_cap_slows_the_copy() {
        let data = vec![1u8; 50_000];
        let mut out = Vec::new();
        let t = Instant::now();
        let mut p = Pump {
            progress: None,
            bandwidth: Some(200_000),
            deadline: Instant::now() + Duration::from_secs(5),
        };
        p.copy(&mut &data[..], &mut out, None, hooks(10_000))
            .unwrap();
        // 50 kB at 200 kB/s: a quarter of a second.
        assert!(
            t.elapsed() >= Duration::from_millis(200),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn deadline_stops_the_copy() {
        let data = vec![1u8; 50_000];
        let mut out = Vec::new();
        let mut p = Pump {
            progress: None,
            bandwidth: None,
            deadline: Instant::now(),
        };
        assert!(matches!(
            p.copy(&mut &data[..], &mut out, None, hooks(10_000)),
            Err(PumpError::Deadline)
        ));
    }
}
