//! `upload` and `download`: move a file between this machine and a host over SFTP, SCP,
//! FTP or FTPS, verified by checksum. Both take the same arguments; for `upload` `src` is
//! local and `dest` remote, for `download` the other way round. The protocol is chosen from
//! the task and the host, the host's SSH connection is opened only for the protocols that
//! ride on it, and the copy itself is [`super`]'s.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::{self as transfer, TransferEnv};
use crate::actions::args::map_only;
use crate::actions::{ActionArgs, Env, Probe};
use crate::playbook::values::{self, describe};
use crate::report::TaskResult;
use crate::value::parse_size;

#[derive(Debug, Clone, PartialEq)]
pub struct TransferArgs {
    pub src: String,
    pub dest: String,
    /// Default: the host's `transport` setting, else SFTP.
    pub protocol: Option<Protocol>,
    pub verify: Verify,
    /// Permission bits for the written file (`0644`).
    pub mode: Option<u32>,
    /// Create missing parent folders.
    pub mkdirs: bool,
    /// Continue a partial transfer instead of starting over.
    pub resume: bool,
    /// Bytes per second at most.
    pub bandwidth: Option<u64>,
    pub timeout: Option<Duration>,
    /// `download` only: the folder the file must land in (templated, e.g.
    /// `fetched/{{ inventory_hostname }}`); `dest` is then relative to it and may not leave
    /// it (`..`, absolute paths and symlinks are refused).
    pub root: Option<String>,
}

/// `upload`: `src` is local, `dest` on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload(pub TransferArgs);

/// `download`: `src` is on the host, `dest` local.
#[derive(Debug, Clone, PartialEq)]
pub struct Download(pub TransferArgs);

impl std::ops::Deref for Upload {
    type Target = TransferArgs;
    fn deref(&self) -> &TransferArgs {
        &self.0
    }
}

impl std::ops::Deref for Download {
    type Target = TransferArgs;
    fn deref(&self) -> &TransferArgs {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Sftp,
    Scp,
    Ftp,
    Ftps,
}

/// How a transferred file is checked on the other side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verify {
    #[default]
    Sha256,
    Md5,
    Size,
    None,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(deserialize_with = "values::scalar_string")]
    src: String,
    #[serde(deserialize_with = "values::scalar_string")]
    dest: String,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    protocol: Option<Protocol>,
    #[serde(default, deserialize_with = "values::keyword")]
    verify: Verify,
    #[serde(default, deserialize_with = "mode")]
    mode: Option<u32>,
    #[serde(default, deserialize_with = "values::boolish")]
    mkdirs: bool,
    #[serde(default, deserialize_with = "values::boolish")]
    resume: bool,
    #[serde(default, deserialize_with = "bandwidth")]
    bandwidth: Option<u64>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    timeout: Option<Duration>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    root: Option<String>,
}

/// `0644`, `"0644"`, `644` or `0o644`: octal permission bits. YAML 1.2 reads an unquoted
/// `0644` as the decimal 644, so integers are read back as octal digits.
pub(crate) fn mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    struct V;
    const WHAT: &str = "file permissions in octal, like \"0644\"";
    fn octal<E: de::Error>(s: &str, shown: de::Unexpected<'_>) -> Result<u32, E> {
        let t = s.trim();
        let t = t.strip_prefix("0o").unwrap_or(t);
        match u32::from_str_radix(t, 8) {
            Ok(m) if m <= 0o7777 => Ok(m),
            _ => Err(E::custom(format!(
                "expected {WHAT}, found {}",
                describe(shown)
            ))),
        }
    }
    impl Visitor<'_> for V {
        type Value = u32;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(WHAT)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
            octal(&v.to_string(), de::Unexpected::Unsigned(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u32, E> {
            octal(v, de::Unexpected::Str(v))
        }
    }
    d.deserialize_any(V).map(Some)
}

/// Parse a bandwidth: bytes per second as a size ([`crate::value::size`]: `500K`, `10M`),
/// optionally followed by `/s`. Zero is refused: it would never finish.
pub fn parse_bandwidth(s: &str) -> Option<u64> {
    let t = s.trim();
    parse_size(t.strip_suffix("/s").unwrap_or(t)).filter(|b| *b > 0)
}

fn bandwidth<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    const WHAT: &str = "a bandwidth in bytes per second, like 500000 or \"10M\"";
    impl Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(WHAT)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            if v == 0 {
                Err(E::custom(format!("expected {WHAT}, found 0")))
            } else {
                Ok(v)
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            parse_bandwidth(v).ok_or_else(|| {
                E::custom(format!(
                    "expected {WHAT}, found {}",
                    describe(de::Unexpected::Str(v))
                ))
            })
        }
    }
    d.deserialize_any(V).map(Some)
}

fn check(s: Spec) -> Result<TransferArgs, String> {
    if s.src.trim().is_empty() || s.dest.trim().is_empty() {
        return Err("`src` and `dest` must not be empty".into());
    }
    Ok(TransferArgs {
        src: s.src,
        dest: s.dest,
        protocol: s.protocol,
        verify: s.verify,
        mode: s.mode,
        mkdirs: s.mkdirs,
        resume: s.resume,
        bandwidth: s.bandwidth,
        timeout: s.timeout,
        root: s.root,
    })
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    d: D,
    _kind: &'static str,
) -> Result<TransferArgs, D::Error> {
    d.deserialize_any(map_only::visitor(
        "{src, dest, protocol: sftp|scp|ftp|ftps, verify: sha256|md5|size|none, ...}",
        false,
        check,
    ))
}

impl ActionArgs for Upload {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d, "upload").map(Upload)
    }

    fn summary(&self) -> String {
        format!("{} -> {}", self.src, self.dest)
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        copy(&self.0, true, env)
    }

    fn probes(&self) -> Vec<Probe<'_>> {
        let mut p = vec![Probe::LocalFile {
            what: "src".into(),
            name: &self.src,
        }];
        p.extend(self.0.remote_probes(false));
        p
    }
}

impl ActionArgs for Download {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d, "download").map(Download)
    }

    fn summary(&self) -> String {
        format!("{} -> {}", self.src, self.dest)
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        copy(&self.0, false, env)
    }

    fn probes(&self) -> Vec<Probe<'_>> {
        self.0.remote_probes(true)
    }
}

impl TransferArgs {
    /// The fields rendered but not looked up locally: `dest` (and `src` and `root` of a
    /// download).
    fn remote_probes(&self, with_src: bool) -> Vec<Probe<'_>> {
        let mut p = Vec::new();
        if with_src {
            p.push(Probe::line("src", &self.src));
        }
        p.push(Probe::line("dest", &self.dest));
        p.extend(self.root.as_deref().map(|r| Probe::line("root", r)));
        p
    }
}

fn copy(args: &TransferArgs, is_upload: bool, env: &mut Env<'_>) -> TaskResult {
    let protocol = transfer::protocol_for(args, env.ctx.vars, env.profiles);
    let files = TransferEnv {
        resolve_src: env.resolve_src,
        progress: Some(env.progress),
    };
    let conn = if transfer::needs_ssh(protocol) {
        match env.connector.connection() {
            Ok(c) => Some(c),
            Err(r) => return r,
        }
    } else {
        None
    };
    transfer::run(
        conn,
        &env.ctx,
        args,
        protocol,
        is_upload,
        env.task_timeout,
        &files,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bandwidths() {
        assert_eq!(parse_bandwidth("1000"), Some(1000));
        assert_eq!(parse_bandwidth("10M"), Some(10 * 1024 * 1024));
        assert_eq!(parse_bandwidth("512KB/s"), Some(512 * 1024));
        assert_eq!(parse_bandwidth("fast"), None);
        assert_eq!(parse_bandwidth("0"), None);
        assert_eq!(parse_bandwidth("0.5"), None);
    }
}
