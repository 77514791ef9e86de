//! What each transport can do, as one table: validation reads it to refuse a task a host's
//! connection cannot run before any device is touched (`netorch check` and the start of a
//! run), so that `check` saying ok means the run will not fail on a mismatch it could have
//! known. The backends refuse the same pairs at run time (their `unsupported()` errors);
//! the tests below pin the table to those refusals.

use super::profile::Session;
use crate::transport::settings::ConnectionKind;

/// What a task needs from its host's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Commands sent as text (`command`, `gather_facts`).
    Commands,
    /// Config lines in the device's config mode (`config`, `confirm`).
    Config,
    /// A running config to store (`backup`; NETCONF's get-config counts).
    Backup,
    /// SCP or SFTP over the host's SSH session (`upload`, `download`).
    SshFiles,
    /// A NETCONF session (`netconf_get`, `netconf_config`, `netconf_rpc`).
    Netconf,
}

impl Need {
    fn what(self) -> &'static str {
        match self {
            Need::Commands => "CLI commands",
            Need::Config => "config lines",
            Need::Backup => "config backups",
            Need::SshFiles => "SCP/SFTP transfers",
            Need::Netconf => "NETCONF operations",
        }
    }
}

/// Why a task cannot run over a host's transport, and what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub hint: String,
}

/// Why a host reached over `kind`, whose platform `platform` has a `session` of this type,
/// cannot do `need`; `None`: it can.
pub fn refusal(
    kind: ConnectionKind,
    session: Session,
    platform: &str,
    need: Need,
) -> Option<Refusal> {
    use ConnectionKind as K;
    let over = kind.name();
    let hint: &str = match (kind, need) {
        // A shell host has no CLI to drive over telnet, whatever the task.
        (K::Telnet, _) if session == Session::Exec => {
            return Some(Refusal {
                message: format!(
                    "telnet needs a device CLI, and platform {platform} is a shell host (exec channels over SSH)"
                ),
                hint: "use `connection: ssh` for shell hosts".into(),
            })
        }
        (K::Ssh, Need::Netconf) | (K::Telnet, Need::Netconf) | (K::Eapi | K::Nxapi | K::Restconf, Need::Netconf) => {
            "set `connection: netconf` (or `ansible_connection: ansible.netcommon.netconf`) for the host; NETCONF listens on port 830 by default"
        }
        (K::Ssh, Need::Config) if session == Session::Exec => {
            "a shell host has no config mode; use `command:` (or `lineinfile:`/`copy:` for files)"
        }
        (K::Ssh, _) => return None,
        (K::Telnet, Need::SshFiles) => {
            "telnet carries no SCP/SFTP; use `protocol: ftp` (or `ftps`), or `connection: ssh`"
        }
        (K::Telnet, _) => return None,
        (K::Netconf, Need::Commands) if platform == "juniper_junos" => return None,
        (K::Netconf, Need::Commands) => {
            "NETCONF has no CLI; use netconf_get or netconf_rpc, or `connection: ssh` for commands"
        }
        (K::Netconf, Need::Config) => {
            "use netconf_config with XML or YAML content, or `connection: ssh` for `config:`"
        }
        (K::Netconf, _) => return None,
        (K::Eapi | K::Nxapi, Need::SshFiles) => {
            "an HTTP API carries no SCP/SFTP; use `protocol: ftp` (or `ftps`), or `connection: ssh` for the transfer's hosts"
        }
        (K::Eapi | K::Nxapi, _) => return None,
        (K::Restconf, Need::SshFiles) => {
            "an HTTP API carries no SCP/SFTP; use `protocol: ftp` (or `ftps`), or `connection: ssh`"
        }
        (K::Restconf, Need::Commands | Need::Config | Need::Backup) => {
            "RESTCONF has no CLI; use the `api` action (GET for state, PATCH for config), or `connection: ssh`"
        }
    };
    Some(Refusal {
        message: format!(
            "{} cannot run over {over} (platform {platform})",
            need.what()
        ),
        hint: hint.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectionKind as K;

    const ALL_NEEDS: [Need; 5] = [
        Need::Commands,
        Need::Config,
        Need::Backup,
        Need::SshFiles,
        Need::Netconf,
    ];

    fn can(kind: K, session: Session, platform: &str) -> Vec<Need> {
        ALL_NEEDS
            .into_iter()
            .filter(|n| refusal(kind, session, platform, *n).is_none())
            .collect()
    }

    #[test]
    fn each_transport_can_what_its_backend_does() {
        use Need::*;
        assert_eq!(
            can(K::Ssh, Session::Pty, "cisco_ios"),
            [Commands, Config, Backup, SshFiles]
        );
        assert_eq!(
            can(K::Ssh, Session::Exec, "linux"),
            [Commands, Backup, SshFiles]
        );
        assert_eq!(
            can(K::Telnet, Session::Pty, "cisco_ios"),
            [Commands, Config, Backup]
        );
        assert!(can(K::Telnet, Session::Exec, "linux").is_empty());
        assert_eq!(
            can(K::Netconf, Session::Pty, "cisco_iosxr"),
            [Backup, SshFiles, Netconf]
        );
        assert_eq!(
            can(K::Netconf, Session::Pty, "juniper_junos"),
            [Commands, Backup, SshFiles, Netconf]
        );
        assert_eq!(
            can(K::Eapi, Session::Pty, "arista_eos"),
            [Commands, Config, Backup]
        );
        assert_eq!(
            can(K::Nxapi, Session::Pty, "cisco_nxos"),
            [Commands, Config, Backup]
        );
        assert!(can(K::Restconf, Session::Pty, "cisco_iosxe").is_empty());
    }

    #[test]
    fn a_refusal_names_the_transport_the_platform_and_a_way_out() {
        let r = refusal(K::Netconf, Session::Pty, "cisco_iosxr", Need::Config);
        let r = r.expect("config over NETCONF is refused");
        assert_eq!(
            r.message,
            "config lines cannot run over netconf (platform cisco_iosxr)"
        );
        assert!(r.hint.starts_with("use netconf_config"), "{}", r.hint);
        let r = refusal(K::Telnet, Session::Exec, "linux", Need::Commands);
        let r = r.expect("telnet to a shell host is refused");
        assert!(
            r.message.starts_with("telnet needs a device CLI"),
            "{}",
            r.message
        );
    }
}
