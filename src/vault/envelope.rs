//! The Ansible Vault envelope (format 1.1 and 1.2, cipher AES256) and its cryptography:
//!
//! ```text
//! $ANSIBLE_VAULT;1.2;AES256;prod          <- header; the label only in 1.2
//! 6162636465...                           <- hex of: hex(salt) \n hex(hmac) \n hex(ciphertext)
//! ```
//!
//! PBKDF2-HMAC-SHA256 (10,000 rounds) turns the password and the salt into 80 bytes: the
//! AES-256 key, the HMAC-SHA256 key and the CTR counter block. The HMAC of the ciphertext is
//! checked (in constant time) before anything is decrypted; the plaintext is PKCS#7-padded.

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Every vaulted text starts with this.
pub const HEADER_PREFIX: &str = "$ANSIBLE_VAULT";
/// The label of a 1.1 envelope and of a password given without one.
pub const DEFAULT_ID: &str = "default";

const ROUNDS: u32 = 10_000;
const KEY_LEN: usize = 32;
const IV_LEN: usize = 16;
const SALT_LEN: usize = 32;
const BLOCK: usize = 16;

/// A parsed envelope: the vault id named by a 1.2 header and the binary parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The header's label (1.2), or `None` for 1.1.
    pub label: Option<String>,
    salt: Vec<u8>,
    mac: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// Why a text is not a usable envelope, or a password does not open it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not an ansible-vault envelope: {0}")]
    Corrupt(String),
    /// The HMAC did not match: another password (or tampered data).
    #[error("the password does not match")]
    WrongPassword,
}

fn corrupt(msg: impl Into<String>) -> EnvelopeError {
    EnvelopeError::Corrupt(msg.into())
}

/// True when `text` is vaulted (Ansible's test: it starts with the header prefix).
pub fn is_vaulted(text: &str) -> bool {
    text.trim_start().starts_with(HEADER_PREFIX)
}

impl Envelope {
    /// Parse a vaulted text (whole file or an inline `!vault` scalar).
    pub fn parse(text: &str) -> Result<Envelope, EnvelopeError> {
        let mut lines = text.trim().lines();
        let header = lines.next().unwrap_or_default().trim();
        let parts: Vec<&str> = header.split(';').map(str::trim).collect();
        if parts.first() != Some(&HEADER_PREFIX) || parts.len() < 3 {
            return Err(corrupt(format!(
                "the first line `{}` is not `$ANSIBLE_VAULT;1.1;AES256`",
                crate::terminal::escape(&header.chars().take(60).collect::<String>())
            )));
        }
        let label = match (parts[1], parts.len()) {
            ("1.1", _) => None,
            ("1.2", 4..) if !parts[3].is_empty() => Some(parts[3].to_string()),
            ("1.2", _) => return Err(corrupt("a 1.2 header without a vault id label")),
            (v, _) => {
                return Err(corrupt(format!(
                    "format version `{}` (netorch reads 1.1 and 1.2)",
                    crate::terminal::escape(v)
                )))
            }
        };
        if parts[2] != "AES256" {
            return Err(corrupt(format!(
                "cipher `{}` (Ansible Vault uses AES256)",
                crate::terminal::escape(parts[2])
            )));
        }
        let body: String = lines.flat_map(|l| l.trim().chars()).collect();
        let outer = unhex(&body).ok_or_else(|| corrupt("the body is not hexadecimal"))?;
        let outer =
            String::from_utf8(outer).map_err(|_| corrupt("the decoded body is not text"))?;
        let mut fields = outer.split('\n');
        let mut next = |what: &str| {
            fields
                .next()
                .and_then(|f| unhex(f.trim()))
                .ok_or_else(|| corrupt(format!("the {what} is missing or not hexadecimal")))
        };
        let salt = next("salt")?;
        let mac = next("HMAC")?;
        let ciphertext = next("ciphertext")?;
        if salt.is_empty() || mac.len() != 32 {
            return Err(corrupt(
                "the salt or HMAC has the wrong length (truncated?)",
            ));
        }
        if ciphertext.is_empty() || ciphertext.len() % BLOCK != 0 {
            return Err(corrupt(
                "the ciphertext is not a whole number of AES blocks (truncated?)",
            ));
        }
        Ok(Envelope {
            label,
            salt,
            mac,
            ciphertext,
        })
    }

    /// The plaintext, if `password` opens the envelope. The HMAC is verified before any
    /// byte is decrypted.
    pub fn decrypt(&self, password: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let keys = derive(password, &self.salt);
        let (aes_key, rest) = keys.split_at(KEY_LEN);
        let (mac_key, iv) = rest.split_at(KEY_LEN);
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(mac_key)
            .map_err(|_| corrupt("HMAC key length"))?;
        mac.update(&self.ciphertext);
        mac.verify_slice(&self.mac)
            .map_err(|_| EnvelopeError::WrongPassword)?;
        let mut data = self.ciphertext.clone();
        ctr::Ctr128BE::<Aes256>::new_from_slices(aes_key, iv)
            .map_err(|_| corrupt("AES key length"))?
            .apply_keystream(&mut data);
        let pad = usize::from(*data.last().unwrap_or(&0));
        let valid = (1..=BLOCK).contains(&pad)
            && pad <= data.len()
            && data[data.len() - pad..]
                .iter()
                .all(|b| usize::from(*b) == pad);
        if !valid {
            return Err(corrupt("bad padding after decryption"));
        }
        data.truncate(data.len() - pad);
        Ok(data)
    }
}

/// Encrypt `plaintext` as Ansible does (`label` makes a 1.2 envelope). `salt` is taken
/// from the caller, so tests can produce known vectors; 32 random bytes in real use.
pub fn encrypt(plaintext: &[u8], password: &[u8], salt: &[u8], label: Option<&str>) -> String {
    let keys = derive(password, salt);
    let (aes_key, rest) = keys.split_at(KEY_LEN);
    let (mac_key, iv) = rest.split_at(KEY_LEN);
    let pad = BLOCK - plaintext.len() % BLOCK;
    let mut data = plaintext.to_vec();
    data.extend(std::iter::repeat_n(pad as u8, pad));
    if let Ok(mut c) = ctr::Ctr128BE::<Aes256>::new_from_slices(aes_key, iv) {
        c.apply_keystream(&mut data);
    }
    let mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(mac_key) {
        Ok(mut m) => {
            m.update(&data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    };
    let inner = format!("{}\n{}\n{}", hex(salt), hex(&mac), hex(&data));
    let header = match label {
        Some(l) => format!("{HEADER_PREFIX};1.2;AES256;{l}"),
        None => format!("{HEADER_PREFIX};1.1;AES256"),
    };
    let body = hex(inner.as_bytes());
    let mut out = header;
    for chunk in body.as_bytes().chunks(80) {
        out.push('\n');
        out.push_str(&String::from_utf8_lossy(chunk));
    }
    out.push('\n');
    out
}

/// The salt length `ansible-vault` uses.
pub const DEFAULT_SALT_LEN: usize = SALT_LEN;

fn derive(password: &[u8], salt: &[u8]) -> [u8; 2 * KEY_LEN + IV_LEN] {
    let mut out = [0u8; 2 * KEY_LEN + IV_LEN];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, ROUNDS, &mut out);
    out
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    data_encoding::HEXLOWER_PERMISSIVE.decode(s.as_bytes()).ok()
}

fn hex(b: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made once with the real tool:
    /// `echo -n 'Hunter2 vaulted!' | ansible-vault encrypt_string --vault-id prod@pw --stdin-name x`
    /// with `pw` holding `correct horse` (ansible-core 2.19).
    const ANSIBLE_1_2: &str = "$ANSIBLE_VAULT;1.2;AES256;prod
          34666134643430623139643232656238333365346531636566376634613862653861313437663534
          6232343834663730666336623831383136643534376632640a323330613139623533643039613132
          38356666656664393163393064373264313032373564373639643832643338323830646664353936
          3662313861373964340a633965396634343137303334633238336139343130643335373431363065
          32306666316434303038363961376661393561343535656131663766653965663433";

    #[test]
    fn round_trip_and_wrong_password() {
        let salt = [7u8; 32];
        for label in [None, Some("prod")] {
            let text = encrypt(b"s3cret value\n", b"pw", &salt, label);
            let env = Envelope::parse(&text).unwrap();
            assert_eq!(env.label.as_deref(), label);
            assert_eq!(env.decrypt(b"pw").unwrap(), b"s3cret value\n");
            assert_eq!(env.decrypt(b"other"), Err(EnvelopeError::WrongPassword));
        }
        // A whole block of padding when the plaintext fills its blocks.
        let text = encrypt(&[b'a'; 32], b"pw", &salt, None);
        assert_eq!(
            Envelope::parse(&text).unwrap().decrypt(b"pw").unwrap(),
            [b'a'; 32]
        );
    }

    #[test]
    fn corrupt_envelopes_are_refused_not_panicked_on() {
        let good = encrypt(b"x", b"pw", &[1u8; 32], None);
        let truncated = &good[..good.len() - 40];
        for bad in [
            "$ANSIBLE_VAULT;1.1;AES256\nzz\n",
            "$ANSIBLE_VAULT;1.1;AES256\n",
            "$ANSIBLE_VAULT;1.3;AES256\n00",
            "$ANSIBLE_VAULT;1.1;DES\n00",
            "$ANSIBLE_VAULT;1.2;AES256\n00",
            "$ANSIBLE_VAULT\n00",
            truncated,
        ] {
            let e = Envelope::parse(bad).unwrap_err();
            assert!(matches!(e, EnvelopeError::Corrupt(_)), "{bad}: {e}");
        }
    }

    #[test]
    fn a_vector_made_by_ansible_vault_decrypts() {
        let env = Envelope::parse(ANSIBLE_1_2).unwrap();
        assert_eq!(env.label.as_deref(), Some("prod"));
        assert_eq!(env.decrypt(b"correct horse").unwrap(), b"Hunter2 vaulted!");
        assert_eq!(
            env.decrypt(b"correct horse "),
            Err(EnvelopeError::WrongPassword)
        );
    }
}
