//! Listening helpers for the daemon. The HTTP server itself (the web interface,
//! `GET /status` and `GET /metrics`) is [`crate::web`]; it used to be a hand-written
//! responder here.

/// True for addresses only this machine can reach.
pub fn is_loopback(addr: &std::net::SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Raise this process's soft limit on open files to its hard limit: runs, their pipes
/// and HTTP clients all take descriptors, and 1024 (a common soft default) is little for a
/// daemon. Returns the limit now in force, or why it could not be raised.
pub fn raise_fd_limit() -> Result<u64, String> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let now = getrlimit(Resource::Nofile);
    if now.current.is_none() || now.current == now.maximum {
        return Ok(now.current.unwrap_or(u64::MAX));
    }
    let want = Rlimit {
        current: now.maximum,
        maximum: now.maximum,
    };
    match setrlimit(Resource::Nofile, want) {
        Ok(()) => Ok(now.maximum.unwrap_or(u64::MAX)),
        Err(e) => Err(format!(
            "cannot raise the open-file limit from {} to {}: {e}",
            now.current.unwrap_or(u64::MAX),
            now.maximum
                .map_or("unlimited".to_string(), |m| m.to_string())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_quiet() {
        for (addr, quiet) in [
            ("127.0.0.1:9469", true),
            ("[::1]:9469", true),
            ("0.0.0.0:9469", false),
            ("[::]:9469", false),
            ("10.1.2.3:9469", false),
        ] {
            assert_eq!(is_loopback(&addr.parse().unwrap()), quiet, "{addr}");
        }
    }

    #[test]
    fn the_fd_limit_is_raised_to_the_hard_limit() {
        use rustix::process::{getrlimit, Resource};
        let got = raise_fd_limit().unwrap();
        let now = getrlimit(Resource::Nofile);
        assert_eq!(now.current, now.maximum);
        assert_eq!(Some(got), now.current.or(Some(u64::MAX)));
    }
}
