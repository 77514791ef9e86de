//! Ansible Vault: reading what `ansible-vault` encrypted, as Ansible does.
//!
//! - Whole files (`group_vars/`, `host_vars/`, `vars_files`, `-e @file`) are decrypted when
//!   they are read: they need a password at load time, as in Ansible.
//! - Inline `!vault |` scalars are decrypted when read if a password opens them; otherwise
//!   they stay a marker ([`MARKER_KEY`], Ansible's own JSON form) that fails only when the
//!   variable is used (`vars::resolve_vars` turns it into an unresolved variable), so a run
//!   that never touches the value needs no password, as Ansible's lazy decryption behaves.
//! - Every decrypted value is a secret: it is kept in a process-wide list that the
//!   inventory's secret values (and so every Redactor) include.
//!
//! The passwords ([`Keyring`]) are given once per process by the command line
//! ([`install`]); the YAML reader has no other way to reach them.

mod envelope;
pub mod password;

use std::sync::{Arc, Mutex, RwLock};

use serde_json::Value;

pub use envelope::{encrypt, is_vaulted, Envelope, EnvelopeError, DEFAULT_ID, DEFAULT_SALT_LEN};

use crate::secret::Secret;

/// The key of Ansible's JSON form of an inline vaulted value: `{"__ansible_vault": "..."}`.
pub const MARKER_KEY: &str = "__ansible_vault";
/// Where an undecrypted inline value was written (`file:line`), beside [`MARKER_KEY`].
pub const ORIGIN_KEY: &str = "__vault_origin";
/// Why the installed passwords did not open it, beside [`MARKER_KEY`].
const ERROR_KEY: &str = "__vault_error";

/// How to give a vault password, for error messages.
pub const HOW_TO_GIVE: &str = "give one with --vault-password-file FILE, \
    --ask-vault-pass or --vault-id LABEL@SOURCE (or set ANSIBLE_VAULT_PASSWORD_FILE)";

/// One vault password and its label (vault id).
#[derive(Clone, Debug)]
pub struct VaultSecret {
    pub label: String,
    pub password: Secret,
}

/// The vault passwords of this run, in the order they were given.
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    pub secrets: Vec<VaultSecret>,
}

/// Why a vaulted text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("no vault password was given; {HOW_TO_GIVE}")]
    NoSecrets,
    #[error("decryption failed: no vault secret matched (tried ids: {})", tried.join(", "))]
    NoMatch { tried: Vec<String> },
    #[error("{0}")]
    Corrupt(String),
    #[error("the decrypted content is not UTF-8 text")]
    NotText,
}

impl Keyring {
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Decrypt a vaulted text. As Ansible does, the passwords whose label the 1.2 header
    /// names are tried first, then every other one.
    pub fn decrypt(&self, text: &str) -> Result<String, VaultError> {
        let env = Envelope::parse(text).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        if self.secrets.is_empty() {
            return Err(VaultError::NoSecrets);
        }
        let wanted = env.label.as_deref().unwrap_or(DEFAULT_ID);
        let (first, rest): (Vec<&VaultSecret>, Vec<&VaultSecret>) =
            self.secrets.iter().partition(|s| s.label == wanted);
        let mut tried: Vec<String> = Vec::new();
        for s in first.into_iter().chain(rest) {
            if !tried.contains(&s.label) {
                tried.push(s.label.clone());
            }
            match env.decrypt(s.password.expose().as_bytes()) {
                Ok(plain) => {
                    let plain = String::from_utf8(plain).map_err(|_| VaultError::NotText)?;
                    return Ok(plain);
                }
                Err(EnvelopeError::WrongPassword) => continue,
                Err(EnvelopeError::Corrupt(m)) => return Err(VaultError::Corrupt(m)),
            }
        }
        Err(VaultError::NoMatch { tried })
    }
}

static KEYRING: RwLock<Option<Arc<Keyring>>> = RwLock::new(None);
static DECRYPTED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Make `keyring` the passwords every later load uses; its passwords are secrets too.
pub fn install(keyring: Keyring) {
    for s in &keyring.secrets {
        note_secret(s.password.expose());
    }
    let mut g = match KEYRING.write() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    *g = Some(Arc::new(keyring));
}

/// The installed passwords (none when no vault option was given).
pub fn keyring() -> Arc<Keyring> {
    let g = match KEYRING.read() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    g.clone().unwrap_or_default()
}

fn note_secret(value: &str) {
    let mut g = match DECRYPTED.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if !value.is_empty() && !g.iter().any(|v| v == value) {
        g.push(value.to_string());
    }
}

/// Every value decrypted in this process so far, and the vault passwords: for the
/// Redactor.
pub fn secret_values() -> Vec<String> {
    match DECRYPTED.lock() {
        Ok(g) => g.clone(),
        Err(p) => p.into_inner().clone(),
    }
}

/// Read a user file, decrypting it when ansible-vault encrypted it (`true` then): vars
/// files and inventory files may be vaulted, as in Ansible.
pub fn read_source(path: &std::path::Path) -> Result<(String, bool), crate::source::LoadError> {
    let text = crate::source::read_source(path)?;
    if !is_vaulted(&text) {
        return Ok((text, false));
    }
    let plain = decrypt_file_text(&text).map_err(|e| {
        crate::source::LoadError::file(path, format!("encrypted with ansible-vault: {e}"))
    })?;
    Ok((plain, true))
}

/// Decrypt a whole vaulted file's text with the installed passwords. Each scalar of the
/// result is a secret once parsed: see [`note_secrets_in`].
pub fn decrypt_file_text(text: &str) -> Result<String, VaultError> {
    keyring().decrypt(text)
}

/// Register every text in `v` as a secret (the content of a vaulted file). Numbers and
/// booleans are not: masking every `161` or `true` in the output would hide nothing.
pub fn note_secrets_in(v: &Value) {
    match v {
        Value::String(s) => note_secret(s),
        Value::Array(a) => a.iter().for_each(note_secrets_in),
        Value::Object(o) => o.values().for_each(note_secrets_in),
        _ => {}
    }
}

/// An inline `!vault` scalar as the YAML reader returns it: the plaintext when an
/// installed password opens it (registered as a secret), else the marker. A corrupt
/// envelope is an error at once (the reader reports it at its line).
pub fn inline(text: &str) -> Result<Value, String> {
    match keyring().decrypt(text) {
        Ok(plain) => {
            note_secret(&plain);
            Ok(Value::String(plain))
        }
        Err(e @ (VaultError::NoSecrets | VaultError::NoMatch { .. })) => {
            let mut m = serde_json::Map::new();
            m.insert(MARKER_KEY.into(), Value::String(text.to_string()));
            // Kept, so a use on each of 10,000 hosts does not run PBKDF2 again to say why.
            m.insert(ERROR_KEY.into(), Value::String(e.to_string()));
            Ok(Value::Object(m))
        }
        Err(e) => Err(format!("!vault value: {e}")),
    }
}

/// The first undecrypted inline vault value in `v`, if any.
pub fn find_marker(v: &Value) -> Option<&serde_json::Map<String, Value>> {
    match v {
        Value::Object(o) if o.get(MARKER_KEY).is_some_and(Value::is_string) => Some(o),
        Value::Object(o) => o.values().find_map(find_marker),
        Value::Array(a) => a.iter().find_map(find_marker),
        _ => None,
    }
}

/// Decrypt, in place, the markers in `v` that were not decrypted when read: Ansible's JSON
/// form in a dynamic inventory's output or a JSON vars file. `Err` is why one cannot be
/// (see [`unusable_reason`]). Each ciphertext is decrypted once per process.
pub fn open_markers(v: &mut Value) -> Result<(), String> {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(text)) = o.get(MARKER_KEY) {
                if o.contains_key(ERROR_KEY) {
                    return Err(unusable_reason(o));
                }
                let plain = decrypt_cached(text).map_err(|_| unusable_reason(o))?;
                *v = Value::String(plain);
                return Ok(());
            }
            o.values_mut().try_for_each(open_markers)
        }
        Value::Array(a) => a.iter_mut().try_for_each(open_markers),
        _ => Ok(()),
    }
}

fn decrypt_cached(text: &str) -> Result<String, VaultError> {
    static CACHE: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let cached = match CACHE.lock() {
        Ok(g) => g.iter().find(|(t, _)| t == text).map(|(_, p)| p.clone()),
        Err(p) => p
            .into_inner()
            .iter()
            .find(|(t, _)| t == text)
            .map(|(_, p)| p.clone()),
    };
    if let Some(p) = cached {
        return Ok(p);
    }
    let plain = keyring().decrypt(text)?;
    note_secret(&plain);
    let mut g = match CACHE.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    g.push((text.to_string(), plain.clone()));
    Ok(plain)
}

/// Why a marker's variable cannot be used: where it was written, and what the passwords
/// did with it.
pub fn unusable_reason(marker: &serde_json::Map<String, Value>) -> String {
    let text = marker.get(MARKER_KEY).and_then(Value::as_str).unwrap_or("");
    let at = marker
        .get(ORIGIN_KEY)
        .and_then(Value::as_str)
        .map(|o| format!(" at {o}"))
        .unwrap_or_default();
    let why = match marker.get(ERROR_KEY).and_then(Value::as_str) {
        Some(e) => e.to_string(),
        None => match keyring().decrypt(text) {
            Err(e) => e.to_string(),
            Ok(_) => "it was read before the vault password was given".to_string(),
        },
    };
    format!("its inline !vault value{at} cannot be decrypted: {why}")
}

/// Undecrypted values in Ansible's JSON form (`{"__ansible_vault": "..."}`) for display:
/// netorch's notes beside the ciphertext are taken out.
pub fn ansible_form(v: &mut Value) {
    match v {
        Value::Object(o) if o.contains_key(MARKER_KEY) => {
            o.shift_remove(ORIGIN_KEY);
            o.shift_remove(ERROR_KEY);
        }
        Value::Object(o) => o.values_mut().for_each(ansible_form),
        Value::Array(a) => a.iter_mut().for_each(ansible_form),
        _ => {}
    }
}

/// Write into each marker in `vars` where it was written (`path:line`), found by its first
/// line of ciphertext in `text`. The text is searched only for a marker: an inventory calls
/// this once per host, and scanning a large file each time would be quadratic.
pub fn locate_markers<'a>(
    values: impl Iterator<Item = &'a mut Value>,
    path: &std::path::Path,
    text: &str,
) {
    for v in values {
        if find_marker(v).is_some() {
            locate(v, path, text);
        }
    }
}

fn locate(v: &mut Value, path: &std::path::Path, text: &str) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(env)) = o.get(MARKER_KEY) {
                let probe = env.lines().nth(1).map(str::trim).unwrap_or_default();
                let line = (!probe.is_empty())
                    .then(|| text.find(probe))
                    .flatten()
                    // `at` is on line n+1: the header is on n, the `key: !vault |` on n-1.
                    .map(|at| text[..at].matches('\n').count().saturating_sub(1).max(1));
                let origin = match line {
                    Some(l) => format!("{}:{}", path.display(), l),
                    None => path.display().to_string(),
                };
                o.insert(ORIGIN_KEY.into(), Value::String(origin));
                return;
            }
            o.values_mut().for_each(|x| locate(x, path, text));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| locate(x, path, text)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(ids: &[(&str, &str)]) -> Keyring {
        Keyring {
            secrets: ids
                .iter()
                .map(|(l, p)| VaultSecret {
                    label: l.to_string(),
                    password: Secret::new(*p),
                })
                .collect(),
        }
    }

    #[test]
    fn the_labelled_password_first_then_all() {
        let text = encrypt(b"v", b"prod-pw", &[3u8; 32], Some("prod"));
        // The label names the right one: found whatever the order.
        let r = ring(&[("dev", "dev-pw"), ("prod", "prod-pw")]);
        assert_eq!(r.decrypt(&text).unwrap(), "v");
        // A label that names no password: every password is still tried.
        let r = ring(&[("dev", "dev-pw"), ("other", "prod-pw")]);
        assert_eq!(r.decrypt(&text).unwrap(), "v");
        let r = ring(&[("dev", "x"), ("default", "y")]);
        assert_eq!(
            r.decrypt(&text).unwrap_err().to_string(),
            "decryption failed: no vault secret matched (tried ids: dev, default)"
        );
        assert_eq!(
            Keyring::default().decrypt(&text),
            Err(VaultError::NoSecrets)
        );
    }

    #[test]
    fn markers_are_found_and_located() {
        let text = encrypt(b"v", b"pw", &[3u8; 32], None);
        let yaml = format!(
            "a: 1\nb: !vault |\n  {}\n",
            text.trim().replace('\n', "\n  ")
        );
        let mut v = serde_json::json!({"b": {MARKER_KEY: text}});
        locate_markers(
            std::iter::once(&mut v),
            std::path::Path::new("g.yml"),
            &yaml,
        );
        let m = find_marker(&v).unwrap();
        assert_eq!(m[ORIGIN_KEY], "g.yml:2");
    }
}
