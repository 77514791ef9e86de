//! Reading what algorithms a server offers, for the error message when negotiation fails.
//!
//! libssh2 only says "unable to exchange encryption keys". To tell the user *what* the old
//! device wants, a second short connection sends our version line and reads the server's
//! cleartext KEXINIT packet (RFC 4253 §7.1), then hangs up. Best effort: any problem means
//! the message simply has no list.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// `(category, comma-separated names)` in the server's KEXINIT order, e.g.
/// `("kex", "diffie-hellman-group14-sha1")`.
pub fn server_offer(addr: SocketAddr, timeout: Duration) -> Option<Vec<(String, String)>> {
    let stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    let mut w = stream.try_clone().ok()?;
    w.write_all(b"SSH-2.0-netorch_probe\r\n").ok()?;
    let mut r = BufReader::new(stream.take(256 * 1024));
    // Servers may send other lines before their version line.
    let mut line = Vec::new();
    for _ in 0..32 {
        line.clear();
        r.read_until(b'\n', &mut line).ok()?;
        if line.starts_with(b"SSH-") {
            break;
        }
        if line.is_empty() {
            return None;
        }
    }
    parse_kexinit_packet(&mut r)
}

fn parse_kexinit_packet(r: &mut impl Read) -> Option<Vec<(String, String)>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).ok()?;
    let len = u32::from_be_bytes(len) as usize;
    if !(16..=64 * 1024).contains(&len) {
        return None;
    }
    let mut packet = vec![0u8; len];
    r.read_exact(&mut packet).ok()?;
    let padding = *packet.first()? as usize;
    let payload = packet.get(1..len.checked_sub(padding)?)?;
    parse_kexinit(payload)
}

/// Parse a KEXINIT payload (message 20, cookie, ten name-lists).
pub fn parse_kexinit(payload: &[u8]) -> Option<Vec<(String, String)>> {
    const NAMES: [&str; 6] = [
        "kex",
        "host keys",
        "ciphers (client to server)",
        "ciphers (server to client)",
        "macs (client to server)",
        "macs (server to client)",
    ];
    if payload.first() != Some(&20) {
        return None;
    }
    let mut pos = 17; // message byte + 16-byte cookie
    let mut out: Vec<(String, String)> = Vec::new();
    for name in NAMES {
        let l = u32::from_be_bytes(payload.get(pos..pos + 4)?.try_into().ok()?) as usize;
        pos += 4;
        let list = std::str::from_utf8(payload.get(pos..pos + l)?).ok()?;
        pos += l;
        out.push((name.to_string(), list.to_string()));
    }
    // Merge identical directions, as they almost always are.
    let mut merged = Vec::new();
    let mut i = 0;
    while i < out.len() {
        if i + 1 < out.len() && out[i].0.contains("client to server") && out[i].1 == out[i + 1].1 {
            let base = out[i].0.split(" (").next().unwrap_or(&out[i].0).to_string();
            merged.push((base, out[i].1.clone()));
            i += 2;
        } else {
            merged.push(out[i].clone());
            i += 1;
        }
    }
    Some(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_list(s: &str) -> Vec<u8> {
        let mut v = (s.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(s.as_bytes());
        v
    }

    #[test]
    fn parses_a_kexinit() {
        let mut p = vec![20u8];
        p.extend_from_slice(&[7u8; 16]);
        for l in [
            "diffie-hellman-group14-sha1",
            "ssh-rsa",
            "aes128-cbc",
            "aes128-cbc",
            "hmac-sha1",
            "hmac-md5",
            "none",
            "none",
            "",
            "",
        ] {
            p.extend(name_list(l));
        }
        p.push(0);
        p.extend_from_slice(&[0, 0, 0, 0]);
        let got = parse_kexinit(&p).unwrap();
        assert_eq!(got[0], ("kex".into(), "diffie-hellman-group14-sha1".into()));
        assert_eq!(got[2], ("ciphers".into(), "aes128-cbc".into()));
        assert_eq!(got[3].0, "macs (client to server)");
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_kexinit(&[21, 0, 0]).is_none());
        assert!(parse_kexinit(&[20, 1, 2]).is_none());
        let mut r: &[u8] = &[0, 0, 0, 3, 1, 2, 3];
        assert!(parse_kexinit_packet(&mut r).is_none());
    }
}
