//! `ssh_jump` entries: the bastions a connection goes through, as `[user@]host[:port]`.

/// A bastion to go through: `user@host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHost {
    /// `None`: use the host's own credentials' users.
    pub user: Option<String>,
    pub host: String,
    pub port: u16,
}

impl JumpHost {
    /// Parse `[user@]host[:port]` (IPv6 as `[addr]:port`).
    pub fn parse(s: &str) -> Option<JumpHost> {
        let s = s.trim();
        let (user, rest) = match s.rsplit_once('@') {
            Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
            Some(_) => return None,
            None => (None, s),
        };
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (h, after) = inner.split_once(']')?;
            match after.strip_prefix(':') {
                Some(p) => (h.to_string(), p.parse().ok()?),
                None if after.is_empty() => (h.to_string(), 22),
                None => return None,
            }
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_string(), p.parse().ok()?),
                Some(_) => (rest.to_string(), 22),
                None => (rest.to_string(), 22),
            }
        };
        if host.is_empty() || host.contains(char::is_whitespace) || port == 0 {
            return None;
        }
        Some(JumpHost { user, host, port })
    }
}

impl std::fmt::Display for JumpHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}
