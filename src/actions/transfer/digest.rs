//! Checksums: which one a comparison uses, streaming them over local files (also while a
//! file is being sent), reading them out of what a remote tool printed, and the check of
//! an uploaded copy against the local file.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use md5::Md5;
use sha2::{Digest, Sha256};

use super::remote::{CopyVerdict, RemoteFiles, RemoteSize};
use super::{TransferFailure, TransferJob};
use crate::actions::Verify;

/// Which checksum a comparison uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    Sha256,
    Md5,
}

impl Algo {
    pub fn name(self) -> &'static str {
        match self {
            Algo::Sha256 => "sha256",
            Algo::Md5 => "md5",
        }
    }

    /// The checksum the task asks for; `None` for `size` and `none`.
    pub(super) fn wanted(verify: Verify) -> Option<Algo> {
        match verify {
            Verify::Sha256 => Some(Algo::Sha256),
            Verify::Md5 => Some(Algo::Md5),
            Verify::Size | Verify::None => None,
        }
    }

    /// The checksum a device's checksum command computes, from its text (`verify /md5`,
    /// `show file ... sha256sum`).
    pub(super) fn of_command(cmd: &str) -> Algo {
        if cmd.contains("sha256") || cmd.contains("sha-256") {
            Algo::Sha256
        } else {
            Algo::Md5
        }
    }

    /// The coreutils tool that prints it.
    pub(super) fn sum_tool(self) -> &'static str {
        match self {
            Algo::Sha256 => "sha256sum",
            Algo::Md5 => "md5sum",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algo::Sha256 => 64,
            Algo::Md5 => 32,
        }
    }
}

/// The checksum at the start of a tool's output (`HEX  name`), lowercased; a leading `\`
/// is how sha256sum marks a name it had to escape.
pub(super) fn first_hex(text: &str, algo: Algo) -> Option<String> {
    text.split_whitespace()
        .next()
        .map(|t| t.trim_start_matches('\\').to_ascii_lowercase())
        .filter(|t| t.len() == algo.hex_len() && t.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Streaming hash over sha256 or md5.
pub(super) enum Hasher {
    Sha256(Sha256),
    Md5(Md5),
}

impl Hasher {
    pub(super) fn new(algo: Algo) -> Hasher {
        match algo {
            Algo::Sha256 => Hasher::Sha256(Sha256::new()),
            Algo::Md5 => Hasher::Md5(Md5::new()),
        }
    }

    pub(super) fn finish(self) -> String {
        match self {
            Hasher::Sha256(h) => data_encoding::HEXLOWER.encode(&h.finalize()),
            Hasher::Md5(h) => data_encoding::HEXLOWER.encode(&h.finalize()),
        }
    }
}

impl Write for Hasher {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self {
            Hasher::Sha256(h) => h.update(b),
            Hasher::Md5(h) => h.update(b),
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Hashes what passes through it: the local checksum is computed while the file is
/// sent instead of in a second pass over it (and it is the checksum of what was sent).
pub(super) struct HashingReader<R> {
    pub(super) inner: R,
    pub(super) hasher: Option<Hasher>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hasher) = self.hasher.as_mut() {
            let _ = hasher.write(&buf[..n]);
        }
        Ok(n)
    }
}

/// The checksum of a local file, streamed.
pub fn local_digest(path: &Path, algo: Algo) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Hasher::new(algo);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.write_all(&buf[..n])?;
    }
    Ok(hasher.finish())
}

/// The checksum of the upload's source: the one already known (computed while sending,
/// or for the idempotence check), else computed now and remembered.
pub(super) fn source_digest(
    local: &Path,
    algo: Algo,
    known: &mut Option<String>,
) -> Result<String, TransferFailure> {
    if let Some(sum) = known {
        return Ok(sum.clone());
    }
    let sum = local_digest(local, algo)
        .map_err(|e| TransferFailure::Message(format!("src {}: {e}", local.display())))?;
    *known = Some(sum.clone());
    Ok(sum)
}

/// Check the copy at `path` against the local file: its size, then its checksum with
/// `algo` when the target can compute one.
pub(super) fn verify_copy(
    job: &TransferJob<'_>,
    remote: &mut dyn RemoteFiles,
    local: &Path,
    path: &str,
    size: u64,
    algo: Option<Algo>,
    local_sum: &mut Option<String>,
) -> Result<CopyVerdict, TransferFailure> {
    if job.args.verify == Verify::None {
        return Ok(CopyVerdict::Sound {
            size_checked: false,
        });
    }
    let mut size_checked = false;
    if let RemoteSize::Known(n) = remote.size(path)? {
        size_checked = true;
        if n != size {
            return Ok(CopyVerdict::Bad(format!(
                "size on the target is {n} bytes, expected {size}"
            )));
        }
    }
    let Some(algo) = algo else {
        return Ok(CopyVerdict::Sound { size_checked });
    };
    let local_sum = source_digest(local, algo, local_sum)?;
    // A little past the deadline: the file is all there, only its checksum is missing.
    let remote_sum = remote.digest(path, algo, job.deadline + Duration::from_secs(60))?;
    Ok(match remote_sum {
        Some(sum) if sum == local_sum => CopyVerdict::Sound { size_checked },
        Some(sum) => CopyVerdict::Bad(format!(
            "{} on the target is {sum}, expected {local_sum}",
            algo.name()
        )),
        None => CopyVerdict::Bad(format!(
            "the target could not compute the {} of the file",
            algo.name()
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            local_digest(&p, Algo::Md5).unwrap(),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            local_digest(&p, Algo::Sha256).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            first_hex(
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  f\n",
                Algo::Sha256
            )
            .as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }
}
