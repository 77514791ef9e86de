//! The show outputs that parsers read: JSON pipes agree with the text of the same command,
//! and (ignored test) a dump of every parsed show output for `compat/ntc_check.py`.

use std::sync::Arc;

use crate::device::{Device, Settings};
use crate::platform::Platform;
use crate::shell::Shell;

fn device(p: Platform) -> Arc<Device> {
    let name = format!("{}001", p.default_prefix());
    Arc::new(Device::new(
        &name,
        p,
        0,
        None,
        Arc::new(Settings::for_tests()),
    ))
}

/// One command on an exec channel; the text, and whether the device called it an error.
fn exec(sh: &mut Shell, line: &str) -> (String, bool) {
    let (out, status) = sh.exec(line, false);
    (
        String::from_utf8_lossy(&out).replace("\r\n", "\n"),
        status != 0,
    )
}

/// The (platform, command) pairs that ntc-templates has a template for; `compat/ntc_check.py`
/// parses their dump.
pub const PARSED: &[(Platform, &[&str])] = &[
    (
        Platform::CiscoIos,
        &[
            "show version",
            "show interfaces",
            "show ip interface brief",
            "show interfaces status",
            "show vlan",
            "show clock",
            "show inventory",
            "show ip route",
            "show users",
            "show cdp neighbors",
            "show lldp neighbors",
        ],
    ),
    (
        Platform::AristaEos,
        &[
            "show version",
            "show interfaces",
            "show ip interface brief",
            "show interfaces status",
            "show vlan",
            "show clock",
            "show inventory",
            "show hostname",
            "show ip route",
            "show lldp neighbors",
        ],
    ),
    (
        Platform::CiscoNxos,
        &[
            "show version",
            "show interface",
            "show ip interface brief",
            "show interface status",
            "show interface brief",
            "show vlan",
            "show clock",
            "show inventory",
            "show hostname",
            "show ip route",
            "show cdp neighbors",
            "show lldp neighbors",
        ],
    ),
    (
        Platform::CiscoIosxr,
        &[
            "show version",
            "show interfaces",
            "show ipv4 interface brief",
            "show ip route",
            "show lldp neighbors",
        ],
    ),
    (
        Platform::JuniperJunos,
        &[
            "show version",
            "show interfaces",
            "show interfaces terse",
            "show chassis hardware",
            "show system uptime",
            "show lldp neighbors",
        ],
    ),
];

/// `PSIM_DUMP=DIR cargo test -p netorch-sim dump_show_outputs -- --ignored` writes
/// `DIR/<platform>/<command>.txt` for `python compat/ntc_check.py DIR`.
#[test]
#[ignore]
fn dump_show_outputs() {
    let Ok(dir) = std::env::var("PSIM_DUMP") else {
        return;
    };
    for (p, cmds) in PARSED {
        let sub = std::path::Path::new(&dir).join(p.name());
        std::fs::create_dir_all(&sub).unwrap();
        let mut sh = Shell::new(device(*p), "admin");
        for c in *cmds {
            let (text, failed) = exec(&mut sh, c);
            let text = if failed {
                format!("ERROR {text}")
            } else {
                text
            };
            std::fs::write(sub.join(format!("{c}.txt")), text).unwrap();
        }
    }
}
