//! Reaching the server: TCP with a timeout, through a chain of jump hosts (each hop's
//! channel relayed to a local socket), algorithm preferences, the handshake and host-key
//! checking, then authentication for each group of credentials.

use super::*;

pub(super) fn connect_chain(
    ctx: &mut Ctx<'_>,
    chain: &[Endpoint],
) -> Result<Connected, TransportError> {
    let Some((target, bastions)) = chain.split_last() else {
        return Err(TransportError::Settings {
            host: ctx.settings.host_name.clone(),
            var: "host".into(),
            reason: "nothing to connect to".into(),
        });
    };
    // Credential sets, with the bastion's user when it names one, grouped by user. A
    // bastion gets the jump credentials: never the device's password unless the inventory
    // says so (`ssh_jump_use_host_credentials`).
    let own = if target.bastion {
        &ctx.settings.jump_credentials
    } else {
        &ctx.settings.credentials
    };
    let creds: Vec<Credential> = own
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if let Some(u) = &target.user {
                c.user = u.clone();
                c.label = format!("{} ({u})", c.label);
            }
            c
        })
        .collect();
    let mut groups: Vec<Vec<&Credential>> = Vec::new();
    for c in &creds {
        match groups.iter_mut().find(|g| g[0].user == c.user) {
            Some(g) => g.push(c),
            None => groups.push(vec![c]),
        }
    }
    if groups.is_empty() {
        return Err(TransportError::Settings {
            host: ctx.settings.host_name.clone(),
            var: "user".into(),
            reason: "no credentials to log in with".into(),
        });
    }

    let mut tried = Vec::new();
    let mut server_methods = None;
    for group in groups {
        let (sock, sockaddr) = if bastions.is_empty() {
            let (tcp, a) = tcp_connect(ctx, target)?;
            (HopStream::Tcp(tcp), Some(a))
        } else {
            (tunnel(ctx, bastions, target)?, None)
        };
        let relay_sock = sock.try_clone().map_err(|e| TransportError::Connect {
            host: target.name.clone(),
            addr: target.addr(),
            reason: e.to_string(),
        })?;
        let session = handshake(ctx, target, sock, sockaddr)?;
        let user = group[0].user.clone();
        if let Some(label) = authenticate(
            ctx,
            &session,
            target,
            &user,
            &group,
            &mut tried,
            &mut server_methods,
        ) {
            return Ok(Connected {
                session,
                sock: relay_sock,
                credential: label,
            });
        }
    }
    Err(TransportError::AuthFailed {
        host: target.name.clone(),
        addr: target.addr(),
        tried,
        server_methods,
    })
}

/// Connect through the bastions (recursively) and return a socket that reaches `target`.
fn tunnel(
    ctx: &mut Ctx<'_>,
    bastions: &[Endpoint],
    target: &Endpoint,
) -> Result<HopStream, TransportError> {
    let Some(last) = bastions.last() else {
        return Err(TransportError::Settings {
            host: ctx.settings.host_name.clone(),
            var: "ssh_jump".into(),
            reason: "no bastion".into(),
        });
    };
    let host = ctx.settings.host_name.clone();
    let wrap = |e: TransportError| match e {
        e @ TransportError::Jump { .. } => e,
        e => TransportError::Jump {
            host: host.clone(),
            jump: last.name.clone(),
            source: Box::new(e),
        },
    };
    let bastion = connect_chain(ctx, bastions).map_err(wrap)?;
    ctx.opts.log(&host, || {
        format!(
            "via jump host {} as {}: opening a tunnel to {}",
            last.name,
            bastion.credential,
            target.addr()
        )
    });
    set_deadline(
        &bastion.session,
        Instant::now() + ctx.settings.connect_timeout,
    );
    let channel = bastion
        .session
        .channel_direct_tcpip(&target.address, target.port, None)
        .map_err(|e| {
            wrap(TransportError::Connect {
                host: last.name.clone(),
                addr: last.addr(),
                reason: format!(
                    "the bastion could not open a tunnel to {}: {}",
                    target.addr(),
                    e.message()
                ),
            })
        })?;
    let (inner, outer) = UnixStream::pair().map_err(|e| {
        wrap(TransportError::Connect {
            host: last.name.clone(),
            addr: last.addr(),
            reason: format!("socketpair: {e}"),
        })
    })?;
    spawn_relay(
        bastion.session,
        channel,
        bastion.sock,
        outer,
        last.name.clone(),
        ctx.settings.keepalive_interval,
    )
    .map_err(|e| {
        wrap(TransportError::Connect {
            host: last.name.clone(),
            addr: last.addr(),
            reason: format!("relay thread: {e}"),
        })
    })?;
    Ok(HopStream::Unix(inner))
}

fn tcp_connect(ctx: &Ctx<'_>, t: &Endpoint) -> Result<(TcpStream, SocketAddr), TransportError> {
    let timeout = ctx.settings.connect_timeout;
    let addrs: Vec<SocketAddr> = (t.address.as_str(), t.port)
        .to_socket_addrs()
        .map_err(|e| TransportError::Resolve {
            host: t.name.clone(),
            target: t.address.clone(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(TransportError::Resolve {
            host: t.name.clone(),
            target: t.address.clone(),
            reason: "no addresses".into(),
        });
    }
    let mut last = None;
    for a in addrs {
        ctx.opts.log(&t.name, || format!("connecting to {a}"));
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                // Device CLIs are request/response with small writes: Nagle only adds delay.
                let _ = s.set_nodelay(true);
                return Ok((s, a));
            }
            Err(e) => last = Some((a, e)),
        }
    }
    let (a, e) = last.ok_or_else(|| TransportError::Resolve {
        host: t.name.clone(),
        target: t.address.clone(),
        reason: "no addresses".into(),
    })?;
    Err(crate::transport::connect_failure(
        t.name.clone(),
        a,
        &e,
        timeout,
        "SSH",
    ))
}

/// Apply the algorithm preferences: names libssh2 does not support are dropped from the
/// built-in lists, and are an error when the user named them.
fn apply_prefs(ctx: &Ctx<'_>, session: &Session) -> Result<(), TransportError> {
    let a = &ctx.settings.algorithms;
    // (variable, wanted names, libssh2 method types, the built-in lists the names may come from)
    type PrefList<'a> = (
        &'a str,
        &'a Vec<String>,
        &'a [MethodType],
        [&'a [&'a str]; 2],
    );
    let lists: [PrefList<'_>; 4] = [
        (
            "ssh_kex",
            &a.kex,
            &[MethodType::Kex],
            [MODERN_KEX, LEGACY_KEX],
        ),
        (
            "ssh_hostkeys",
            &a.hostkeys,
            &[MethodType::HostKey],
            [MODERN_HOSTKEYS, LEGACY_HOSTKEYS],
        ),
        (
            "ssh_ciphers",
            &a.ciphers,
            &[MethodType::CryptCs, MethodType::CryptSc],
            [MODERN_CIPHERS, LEGACY_CIPHERS],
        ),
        (
            "ssh_macs",
            &a.macs,
            &[MethodType::MacCs, MethodType::MacSc],
            [MODERN_MACS, LEGACY_MACS],
        ),
    ];
    for (var, wanted, types, builtin) in lists {
        let supported = session.supported_algs(types[0]).unwrap_or_default();
        let mut keep = Vec::new();
        for w in wanted {
            if supported.iter().any(|s| s == w) {
                keep.push(w.as_str());
            } else if !builtin.iter().any(|l| l.contains(&w.as_str())) {
                return Err(TransportError::Settings {
                    host: ctx.settings.host_name.clone(),
                    var: var.into(),
                    reason: format!(
                        "`{w}` is not supported; supported: {}",
                        supported.join(", ")
                    ),
                });
            }
        }
        if keep.is_empty() {
            return Err(TransportError::Settings {
                host: ctx.settings.host_name.clone(),
                var: var.into(),
                reason: format!(
                    "none of the names are supported; supported: {}",
                    supported.join(", ")
                ),
            });
        }
        let pref = keep.join(",");
        for t in types {
            session
                .method_pref(*t, &pref)
                .map_err(|e| TransportError::Settings {
                    host: ctx.settings.host_name.clone(),
                    var: var.into(),
                    reason: e.message().to_string(),
                })?;
        }
    }
    Ok(())
}

fn handshake(
    ctx: &mut Ctx<'_>,
    t: &Endpoint,
    sock: HopStream,
    sockaddr: Option<SocketAddr>,
) -> Result<Session, TransportError> {
    let host = t.name.clone();
    let addr = t.addr();
    let mut session = Session::new().map_err(|e| TransportError::Handshake {
        host: host.clone(),
        addr: addr.clone(),
        reason: e.message().to_string(),
    })?;
    apply_prefs(ctx, &session)?;
    session.set_tcp_stream(sock);
    let timeout = ctx.settings.connect_timeout;
    set_deadline(&session, Instant::now() + timeout);
    if let Err(e) = session.handshake() {
        return Err(match e.code() {
            ErrorCode::Session(LIBSSH2_ERROR_TIMEOUT) => TransportError::HandshakeTimeout {
                host,
                addr,
                secs: timeout.as_secs_f64(),
            },
            ErrorCode::Session(LIBSSH2_ERROR_KEX_FAILURE | LIBSSH2_ERROR_METHOD_NONE) => {
                let offered = sockaddr
                    .and_then(|a| crate::transport::probe::server_offer(a, timeout))
                    .unwrap_or_default();
                let mut reason = e.message().to_string();
                if let Some(gap) = build_gap(&session, &offered) {
                    reason.push_str("; ");
                    reason.push_str(&gap);
                }
                TransportError::Negotiation {
                    host,
                    addr,
                    reason,
                    offered,
                }
            }
            _ => TransportError::Handshake {
                host,
                addr,
                reason: e.message().to_string(),
            },
        });
    }
    ctx.opts.log(&t.name, || {
        format!(
            "handshake done: kex {}, host key {}, cipher {}",
            session.methods(MethodType::Kex).unwrap_or("?"),
            session.methods(MethodType::HostKey).unwrap_or("?"),
            session.methods(MethodType::CryptCs).unwrap_or("?")
        )
    });
    let target = Target {
        host: &t.name,
        addr: &addr,
        address: &t.address,
        port: t.port,
    };
    if let Some(w) =
        known_hosts::check(&session, &target, ctx.mode, &ctx.settings.known_hosts_file)?
    {
        if !ctx.warnings.contains(&w) {
            ctx.warnings.push(w);
        }
    }
    Ok(session)
}

/// When the server only offers algorithms this libssh2 build does not have at all (SHA-1
/// key exchange, hmac-sha1, ssh-rsa with SHA-1 and 3DES are compiled out of libssh2 unless
/// enabled at build time), say so: no inventory setting can fix that.
fn build_gap(session: &Session, offered: &[(String, String)]) -> Option<String> {
    let mut gaps = Vec::new();
    for (category, list) in offered {
        let t = match category.split(' ').next().unwrap_or("") {
            "kex" => MethodType::Kex,
            "host" => MethodType::HostKey,
            "ciphers" => MethodType::CryptCs,
            "macs" => MethodType::MacCs,
            _ => continue,
        };
        if category.starts_with("macs")
            && offered
                .iter()
                .any(|(c, l)| c.starts_with("ciphers") && l.contains("gcm@openssh.com"))
        {
            // AEAD ciphers need no MAC; a MAC gap alone does not block them.
            continue;
        }
        let supported = session.supported_algs(t).unwrap_or_default();
        let names: Vec<&str> = list
            .split(',')
            .filter(|n| !n.is_empty() && !n.contains("kex-strict") && *n != "ext-info-s")
            .collect();
        if !names.is_empty() && !names.iter().any(|n| supported.contains(n)) {
            gaps.push(format!("{category} ({})", names.join(", ")));
        }
    }
    if gaps.is_empty() {
        return None;
    }
    Some(format!(
        "this netorch build's libssh2 supports none of the server's {}; they are compiled out of libssh2 (rebuild with CFLAGS=\"-DLIBSSH2_KEX_SHA1_ENABLE -DLIBSSH2_HMAC_SHA1_ENABLE -DLIBSSH2_RSA_SHA1_ENABLE -DLIBSSH2_3DES_ENABLE -DLIBSSH2_DSA_ENABLE\")",
        gaps.join(" or ")
    ))
}
