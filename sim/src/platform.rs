//! The device platforms the simulator speaks, their names (netorch's and Ansible's), default
//! device-name prefixes, and the prompt and error-text conventions that differ per vendor.

/// One simulated vendor CLI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    CiscoIos,
    AristaEos,
    JuniperJunos,
    CiscoNxos,
    CiscoIosxr,
}

impl Platform {
    /// Every platform, in the order `--platform mixed` cycles through them.
    pub const ALL: [Platform; 5] = [
        Platform::CiscoIos,
        Platform::AristaEos,
        Platform::JuniperJunos,
        Platform::CiscoNxos,
        Platform::CiscoIosxr,
    ];

    /// netorch's platform name (`cisco_ios`, ...), also the inventory group name.
    pub fn name(self) -> &'static str {
        match self {
            Platform::CiscoIos => "cisco_ios",
            Platform::AristaEos => "arista_eos",
            Platform::JuniperJunos => "juniper_junos",
            Platform::CiscoNxos => "cisco_nxos",
            Platform::CiscoIosxr => "cisco_iosxr",
        }
    }

    /// Device-name prefix for `--count` mode: `ios-` gives `ios-001`.
    pub fn default_prefix(self) -> &'static str {
        match self {
            Platform::CiscoIos => "ios-",
            Platform::AristaEos => "eos-",
            Platform::JuniperJunos => "junos-",
            Platform::CiscoNxos => "nxos-",
            Platform::CiscoIosxr => "xr-",
        }
    }

    /// Accepts netorch names and Ansible `ansible_network_os` values (short and FQCN).
    pub fn parse(text: &str) -> Option<Platform> {
        match text.trim() {
            "cisco_ios" | "cisco_xe" | "cisco_iosxe" | "ios" | "cisco.ios.ios" => {
                Some(Platform::CiscoIos)
            }
            "arista_eos" | "eos" | "arista.eos.eos" => Some(Platform::AristaEos),
            "juniper_junos" | "junos" | "junipernetworks.junos.junos" => {
                Some(Platform::JuniperJunos)
            }
            "cisco_nxos" | "nxos" | "cisco.nxos.nxos" => Some(Platform::CiscoNxos),
            "cisco_iosxr" | "cisco_xr" | "iosxr" | "cisco.iosxr.iosxr" => {
                Some(Platform::CiscoIosxr)
            }
            _ => None,
        }
    }

    /// Whether a login lands in user exec (`>`) and needs `enable` for privileged mode.
    pub fn starts_unprivileged(self) -> bool {
        matches!(self, Platform::CiscoIos | Platform::AristaEos)
    }

    /// Whether configuration changes go to a candidate that needs `commit`.
    pub fn commit_based(self) -> bool {
        matches!(self, Platform::JuniperJunos | Platform::CiscoIosxr)
    }

    /// Indentation unit of `show running-config` sub-blocks.
    pub fn indent(self) -> usize {
        match self {
            Platform::AristaEos => 3,
            Platform::CiscoNxos => 2,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ansible_names_map() {
        for p in Platform::ALL {
            assert_eq!(Platform::parse(p.name()), Some(p));
        }
        assert_eq!(Platform::parse("cisco.ios.ios"), Some(Platform::CiscoIos));
        assert_eq!(
            Platform::parse("junipernetworks.junos.junos"),
            Some(Platform::JuniperJunos)
        );
        assert_eq!(Platform::parse("iosxr"), Some(Platform::CiscoIosxr));
        assert_eq!(Platform::parse("linux"), None);
    }
}
