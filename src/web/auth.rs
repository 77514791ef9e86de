//! Who is asking: signed session cookies (HMAC-SHA256 over user, expiry and a nonce),
//! bearer tokens, argon2 password checks, and CSRF tokens derived from the session.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::config::{Principal, Role, Secret, WebSettings};

pub const COOKIE: &str = "netorch_session";
/// How long a login form stays valid.
const LOGIN_FORM_TTL_SECS: i64 = 3600;

type HmacSha256 = Hmac<Sha256>;

/// A logged-in user (or a token), as pages see it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Who {
    pub name: String,
    pub role: Role,
    /// The CSRF token for this session's forms (empty for bearer tokens, which do not
    /// post forms).
    pub csrf: String,
    pub operator: bool,
}

pub struct Keys {
    key: Vec<u8>,
}

impl Keys {
    /// From the configured key, or a random one (sessions then end with the process).
    pub fn new(web: &WebSettings) -> Result<Keys, String> {
        let key = match &web.session_key {
            Some(k) => k.clone(),
            None => random_bytes(32)?,
        };
        Ok(Keys { key })
    }

    fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        // A key of any length is accepted by HMAC; the fallback is never taken.
        let Ok(mut m) = <HmacSha256 as KeyInit>::new_from_slice(&self.key) else {
            return Vec::new();
        };
        for p in parts {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p);
        }
        m.finalize().into_bytes().to_vec()
    }

    fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        let Ok(mut m) = <HmacSha256 as KeyInit>::new_from_slice(&self.key) else {
            return false;
        };
        for p in parts {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p);
        }
        m.verify_slice(tag).is_ok()
    }

    /// A session cookie value for `name` until `expires` (unix seconds).
    pub fn session(&self, name: &str, expires: i64) -> Result<String, String> {
        let nonce = hex(&random_bytes(16)?);
        let payload = format!("{name}\n{expires}\n{nonce}");
        let b64 = data_encoding::BASE64URL_NOPAD.encode(payload.as_bytes());
        let tag = self.mac(&[b"session", b64.as_bytes()]);
        Ok(format!("{b64}.{}", hex(&tag)))
    }

    /// The user name and nonce of a valid, unexpired session cookie.
    pub fn check_session(&self, value: &str, now: i64) -> Option<(String, String)> {
        let (b64, tag) = value.split_once('.')?;
        let tag = unhex(tag)?;
        if !self.verify(&[b"session", b64.as_bytes()], &tag) {
            return None;
        }
        let payload = data_encoding::BASE64URL_NOPAD.decode(b64.as_bytes()).ok()?;
        let payload = String::from_utf8(payload).ok()?;
        let mut it = payload.split('\n');
        let (name, expires, nonce) = (it.next()?, it.next()?, it.next()?);
        let expires: i64 = expires.parse().ok()?;
        (now < expires).then(|| (name.to_string(), nonce.to_string()))
    }

    /// The CSRF token of a session (by its nonce).
    pub fn csrf(&self, nonce: &str) -> String {
        hex(&self.mac(&[b"csrf", nonce.as_bytes()]))
    }

    pub fn check_csrf(&self, nonce: &str, token: &str) -> bool {
        match unhex(token) {
            Some(tag) => self.verify(&[b"csrf", nonce.as_bytes()], &tag),
            None => false,
        }
    }

    /// The login form's token (it is posted before there is a session).
    pub fn login_token(&self, now: i64) -> String {
        let ts = now.to_string();
        format!("{ts}.{}", hex(&self.mac(&[b"login", ts.as_bytes()])))
    }

    pub fn check_login_token(&self, token: &str, now: i64) -> bool {
        let Some((ts, tag)) = token.split_once('.') else {
            return false;
        };
        let (Ok(t), Some(tag)) = (ts.parse::<i64>(), unhex(tag)) else {
            return false;
        };
        (now - t).abs() <= LOGIN_FORM_TTL_SECS && self.verify(&[b"login", ts.as_bytes()], &tag)
    }
}

/// Check a name and password (or token) against the configured principals. Slow on
/// purpose for passwords (argon2); the caller serialises these checks.
pub fn check_password<'a>(
    principals: &'a [Principal],
    name: &str,
    password: &str,
) -> Option<&'a Principal> {
    use argon2::PasswordVerifier;
    let p = principals.iter().find(|p| p.name == name)?;
    let ok = match &p.secret {
        Secret::Argon2(hash) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok(),
        Secret::Token(t) => constant_time_eq(t.as_bytes(), password.as_bytes()),
    };
    ok.then_some(p)
}

/// The principal a bearer token belongs to.
pub fn check_bearer<'a>(principals: &'a [Principal], token: &str) -> Option<&'a Principal> {
    let mut found = None;
    for p in principals {
        if let Secret::Token(t) = &p.secret {
            if constant_time_eq(t.as_bytes(), token.as_bytes()) {
                found = Some(p);
            }
        }
    }
    found
}

/// Equal, in a time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // Compare MACs of both under a fixed key: equal length and time whatever the inputs.
    let mac = |x: &[u8]| {
        let Ok(mut m) = <HmacSha256 as KeyInit>::new_from_slice(b"netorch-compare") else {
            return Vec::new();
        };
        m.update(x);
        m.finalize().into_bytes().to_vec()
    };
    let (x, y) = (mac(a), mac(b));
    !x.is_empty() && x.iter().zip(&y).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0
}

/// A password hash for the `web:` section (`netorch daemon hash-password`).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::PasswordHasher;
    let salt = random_bytes(16)?;
    argon2::Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Bytes from the kernel's random source.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    Ok(buf)
}

pub fn hex(b: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(b)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    data_encoding::HEXLOWER.decode(s.as_bytes()).ok()
}

/// The `Set-Cookie` value for a session.
pub fn set_cookie(value: &str, ttl: Duration, secure: bool) -> String {
    format!(
        "{COOKIE}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
        ttl.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session cookie's value in a `Cookie` header.
pub fn cookie_value(header: &str) -> Option<&str> {
    header
        .split(';')
        .map(str::trim)
        .find_map(|kv| kv.strip_prefix(COOKIE)?.strip_prefix('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys {
            key: b"0123456789abcdef0123456789abcdef".to_vec(),
        }
    }

    #[test]
    fn sessions_are_signed_and_expire() {
        let k = keys();
        let c = k.session("alice", 2000).unwrap();
        let (name, nonce) = k.check_session(&c, 1000).unwrap();
        assert_eq!(name, "alice");
        assert!(k.check_session(&c, 2001).is_none());
        // A changed payload (another user) fails the MAC.
        let (_, tag) = c.split_once('.').unwrap();
        let forged = format!(
            "{}.{tag}",
            data_encoding::BASE64URL_NOPAD.encode(format!("admin\n2000\n{nonce}").as_bytes())
        );
        assert!(k.check_session(&forged, 1000).is_none());
        let t = k.csrf(&nonce);
        assert!(k.check_csrf(&nonce, &t));
        assert!(!k.check_csrf("other", &t));
        assert!(!k.check_csrf(&nonce, ""));
        let lt = k.login_token(1000);
        assert!(k.check_login_token(&lt, 1100));
        assert!(!k.check_login_token(&lt, 1000 + 7200));
        assert_eq!(cookie_value("a=b; netorch_session=xyz; c=d"), Some("xyz"));
    }

    #[test]
    fn passwords_and_tokens() {
        let hash = hash_password("s3cret").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        let ps = vec![
            Principal {
                name: "alice".into(),
                role: Role::Operator,
                secret: Secret::Argon2(hash),
            },
            Principal {
                name: "ci".into(),
                role: Role::Read,
                secret: Secret::Token("a-long-enough-token-123".into()),
            },
        ];
        assert!(check_password(&ps, "alice", "s3cret").is_some());
        assert!(check_password(&ps, "alice", "wrong").is_none());
        assert!(check_password(&ps, "bob", "s3cret").is_none());
        assert_eq!(
            check_bearer(&ps, "a-long-enough-token-123").map(|p| p.name.as_str()),
            Some("ci")
        );
        assert!(check_bearer(&ps, "a-long-enough-token-12").is_none());
    }
}
