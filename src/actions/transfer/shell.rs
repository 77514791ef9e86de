//! The shell backend: a host with a POSIX shell reached over SSH exec. Bytes go by SCP;
//! everything else is a short command: `stat` for sizes, `df` for free space,
//! sha256sum/md5sum for checksums, `mkdir -p`, `rm -f`, and `mv -f`, which replaces the
//! destination atomically (rename(2)). Also the command side of SFTP to such a host.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use super::digest::{first_hex, Algo};
use super::paths::folder_or_cwd;
use super::remote::{scp_send, CopyVerdict, RemoteFiles, RemoteSize};
use super::TransferFailure;
use crate::actions::Verify;
use crate::device::Connection;
use crate::transport::copy::Pump;
use crate::transport::ssh::ExecOutput;
use crate::transport::{scp, TransportError};

pub(super) struct ShellFiles<'c> {
    conn: &'c mut Connection,
}

impl<'c> ShellFiles<'c> {
    pub(super) fn new(conn: &'c mut Connection) -> ShellFiles<'c> {
        ShellFiles { conn }
    }

    pub(super) fn connection(&self) -> &Connection {
        self.conn
    }

    fn exec(&self, cmd: &str, timeout: Duration) -> Result<ExecOutput, TransportError> {
        self.conn.ssh("a shell command")?.exec(cmd, timeout)
    }

    fn command_timeout(&self) -> Duration {
        self.conn.command_timeout()
    }

    /// Time left for a last step of a transfer: up to its deadline, but at least the
    /// command timeout (a busy host that took the whole file must not fail it on the
    /// rename).
    fn until_left(&self, deadline: Instant) -> Duration {
        deadline
            .saturating_duration_since(Instant::now())
            .max(self.command_timeout())
    }

    /// A command that failed on `path`, in the words it wrote to stderr.
    fn refused(&self, op: &str, path: &str, out: &ExecOutput) -> TransferFailure {
        TransferFailure::Transport(TransportError::Remote {
            host: self.conn.host().to_string(),
            op: op.into(),
            path: path.to_string(),
            reason: out.stderr.trim().to_string(),
        })
    }
}

/// Single-quote for a POSIX shell.
pub(super) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A line of `stat -L -c '%s %F'` for a path that exists.
fn parse_stat_line(line: &str) -> RemoteSize {
    if line.contains("directory") {
        return RemoteSize::Dir;
    }
    line.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .map_or(RemoteSize::Unknown, RemoteSize::Known)
}

/// `df -Pk` output: the "Available" column (KiB) of the last line, in bytes.
pub fn parse_df(text: &str) -> Option<u64> {
    let line = text.lines().rfind(|l| !l.trim().is_empty())?;
    let avail: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(avail.saturating_mul(1024))
}

impl RemoteFiles for ShellFiles<'_> {
    fn algo(&self, verify: Verify) -> Option<Algo> {
        Algo::wanted(verify)
    }

    fn size(&mut self, path: &str) -> Result<RemoteSize, TransferFailure> {
        let out = self.exec(
            &format!("stat -L -c '%s %F' -- {}", quote(path)),
            self.command_timeout(),
        )?;
        if out.exit_status != 0 {
            return Ok(RemoteSize::Absent);
        }
        Ok(parse_stat_line(out.stdout.trim()))
    }

    /// Both in one exec: one login shell instead of two.
    fn size_and_free(&mut self, path: &str) -> Result<(RemoteSize, Option<u64>), TransferFailure> {
        const MARK: &str = "--netorch-df--";
        let out = self.exec(
            &format!(
                "stat -L -c '%s %F' -- {} 2>/dev/null; echo {MARK}; df -Pk -- {}",
                quote(path),
                quote(folder_or_cwd(path))
            ),
            self.command_timeout(),
        )?;
        let (stat, df) = out.stdout.split_once(MARK).unwrap_or((&out.stdout, ""));
        let line = stat.trim();
        let size = if line.is_empty() {
            RemoteSize::Absent
        } else {
            parse_stat_line(line)
        };
        Ok((size, parse_df(df)))
    }

    fn free_space(&mut self, dest: &str) -> Option<u64> {
        let out = self
            .exec(
                &format!("df -Pk -- {}", quote(folder_or_cwd(dest))),
                self.command_timeout(),
            )
            .ok()?;
        if out.exit_status != 0 {
            return None;
        }
        parse_df(&out.stdout)
    }

    fn digest(
        &mut self,
        path: &str,
        algo: Algo,
        deadline: Instant,
    ) -> Result<Option<String>, TransferFailure> {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1));
        let out = self.exec(&format!("{} -- {}", algo.sum_tool(), quote(path)), left)?;
        if out.exit_status != 0 {
            return Ok(None);
        }
        Ok(first_hex(&out.stdout, algo))
    }

    fn mkdirs(&mut self, dir: &str) -> Result<(), TransferFailure> {
        let out = self.exec(
            &format!("mkdir -p -- {}", quote(dir)),
            self.command_timeout(),
        )?;
        if out.exit_status != 0 {
            return Err(TransferFailure::Message(format!(
                "{}: cannot create folder {dir}: {}",
                self.conn.host(),
                out.stderr.trim()
            )));
        }
        Ok(())
    }

    /// `rm -f`: a file already gone is fine, anything else it says is a failure.
    fn remove(&mut self, path: &str) -> Result<(), TransferFailure> {
        let out = self.exec(&format!("rm -f -- {}", quote(path)), self.command_timeout())?;
        if out.exit_status != 0 {
            return Err(self.refused("remove", path, &out));
        }
        Ok(())
    }

    /// rename(2) replaces the target atomically; SFTP v3 cannot.
    fn rename(
        &mut self,
        tmp: &str,
        dest: &str,
        deadline: Instant,
        _dest_absent: bool,
    ) -> Result<(), TransferFailure> {
        let out = self.exec(
            &format!("mv -f -- {} {}", quote(tmp), quote(dest)),
            self.until_left(deadline),
        )?;
        if out.exit_status != 0 {
            return Err(self.refused("rename into", dest, &out));
        }
        Ok(())
    }

    fn send(
        &mut self,
        src: &mut dyn Read,
        size: u64,
        path: &str,
        _offset: u64,
        mode: Option<u32>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransferFailure> {
        let sent = scp_send(super::ssh_of(self.conn)?, src, size, path, mode, pump)?;
        // Whatever the SCP sink made of the mode (its umask, a replaced file's old mode),
        // the task asked for this one.
        if let Some(mode) = mode {
            let _ = self.exec(
                &format!("chmod {mode:o} -- {}", quote(path)),
                self.command_timeout(),
            );
        }
        Ok(sent)
    }

    fn fetch(
        &mut self,
        path: &str,
        dst: &mut dyn Write,
        _offset: u64,
        // SCP announces the size itself and reads exactly that much.
        _limit: Option<u64>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransferFailure> {
        Ok(scp::download(super::ssh_of(self.conn)?, path, dst, pump)?)
    }

    fn prefers_combined_finish(&self, _algo: Option<Algo>, _dest_absent: bool) -> bool {
        true
    }

    fn verify_and_rename(
        &mut self,
        tmp: &str,
        dest: &str,
        size: u64,
        expect: Option<&str>,
        algo: Option<Algo>,
        deadline: Instant,
    ) -> Result<CopyVerdict, TransferFailure> {
        let (part, target) = (quote(tmp), quote(dest));
        // Exit codes 90-94 say which step failed; stdout carries what was measured.
        // `wc -c`, not GNU `stat -c`: BSD and BusyBox hosts have it too.
        let mut script = format!(
            "[ -f {part} ] || exit 90; got=$(wc -c < {part} | tr -d ' '); echo \"size $got\"; \
             [ \"$got\" = {size} ] || {{ rm -f -- {part}; exit 91; }}; "
        );
        if let (Some(algo), Some(want)) = (algo, expect) {
            script.push_str(&format!(
                "sum=$({} -- {part}) || exit 92; echo \"sum $sum\"; \
                 [ \"${{sum%% *}}\" = {} ] || {{ rm -f -- {part}; exit 93; }}; ",
                algo.sum_tool(),
                quote(want)
            ));
        }
        script.push_str(&format!("mv -f -- {part} {target} || exit 94"));
        // Through sh: the login shell may not be a POSIX one (fish, csh).
        let out = self.exec(
            &format!("sh -c {}", quote(&script)),
            self.until_left(deadline),
        )?;
        let field = |key: &str| {
            out.stdout
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
                .unwrap_or_default()
        };
        let name = algo.map_or("checksum", Algo::name);
        Ok(match out.exit_status {
            0 => CopyVerdict::Sound { size_checked: true },
            90 => CopyVerdict::Bad(format!(
                "the copy is not on the target (or not a file): {}",
                out.stderr.trim()
            )),
            91 => CopyVerdict::Bad(format!(
                "size on the target is {} bytes, expected {size}",
                field("size ")
            )),
            92 => CopyVerdict::Bad(format!(
                "the target could not compute the {name} of the file: {}",
                out.stderr.trim()
            )),
            93 => CopyVerdict::Bad(format!(
                "{name} on the target is {}, expected {}",
                field("sum "),
                expect.unwrap_or("")
            )),
            _ => return Err(self.refused("rename into", dest, &out)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_and_stat_parsers() {
        let df = "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 100 50 42 50% /\n";
        assert_eq!(parse_df(df), Some(42 * 1024));
        assert_eq!(
            parse_stat_line("1234 regular file"),
            RemoteSize::Known(1234)
        );
        assert_eq!(parse_stat_line("4096 directory"), RemoteSize::Dir);
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("it's"), "'it'\\''s'");
    }
}
