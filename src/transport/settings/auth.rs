//! Who we are and how we prove it: credential sets, authentication methods and their order,
//! and how a host's key is checked.

use std::path::PathBuf;

use crate::secret::Secret;
use crate::value::parse_bool;

/// How a host's key is checked against known_hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyChecking {
    /// Unknown or changed keys refuse the connection (the default).
    Strict,
    /// Unknown keys are recorded in known_hosts; changed keys refuse.
    AcceptNew,
    /// No checking; the session carries a warning saying so.
    Off,
}

impl HostKeyChecking {
    /// Parse `strict | accept-new | off`, or a boolean (true = strict, false = off, as
    /// Ansible and OpenSSH spell them).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "strict" => Some(Self::Strict),
            "accept-new" | "accept_new" | "acceptnew" => Some(Self::AcceptNew),
            _ => parse_bool(s).map(|on| if on { Self::Strict } else { Self::Off }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::AcceptNew => "accept-new",
            Self::Off => "off",
        }
    }
}

/// One way of proving who we are, tried in the order of `auth_methods`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Keys held by the ssh-agent at `$SSH_AUTH_SOCK`.
    Agent,
    /// The credential's private key file.
    PublicKey,
    /// Keyboard-interactive, answering password prompts (many network devices offer only
    /// this).
    KeyboardInteractive,
    Password,
}

impl AuthMethod {
    pub const NAMES: &'static [&'static str] =
        &["agent", "publickey", "keyboard-interactive", "password"];

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "agent" | "ssh-agent" => Some(Self::Agent),
            "publickey" | "key" | "public-key" => Some(Self::PublicKey),
            "keyboard-interactive" | "keyboard_interactive" | "kbdint" => {
                Some(Self::KeyboardInteractive)
            }
            "password" => Some(Self::Password),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::PublicKey => "publickey",
            Self::KeyboardInteractive => "keyboard-interactive",
            Self::Password => "password",
        }
    }

    /// The SSH protocol method name the server announces.
    pub fn protocol_name(self) -> &'static str {
        match self {
            Self::Agent | Self::PublicKey => "publickey",
            Self::KeyboardInteractive => "keyboard-interactive",
            Self::Password => "password",
        }
    }
}

/// The default order, as OpenSSH does it: keys first (agent, then the key file), then
/// keyboard-interactive, then password. Methods without material (no password, no key
/// file, no agent) are skipped at connect time.
pub const DEFAULT_AUTH_METHODS: &[AuthMethod] = &[
    AuthMethod::Agent,
    AuthMethod::PublicKey,
    AuthMethod::KeyboardInteractive,
    AuthMethod::Password,
];

/// One credential set (user + password and/or key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Shown in verbose output to say which set worked (never contains a secret).
    pub label: String,
    pub user: String,
    pub password: Option<Secret>,
    pub private_key_file: Option<PathBuf>,
    pub private_key_passphrase: Option<Secret>,
}
