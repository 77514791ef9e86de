use super::*;
use crate::device::profile::ProfileSet;

/// Compiling every built-in profile costs a debug build much of a second: once per run.
static PROFILES: std::sync::LazyLock<ProfileSet> = std::sync::LazyLock::new(ProfileSet::builtin);

fn syntax(platform: &str) -> Syntax {
    match PROFILES.get(platform) {
        Some(p) => p.syntax.clone(),
        None => panic!("no builtin profile {platform}"),
    }
}

const IOS_RUNNING: &str = "\
Building configuration...

Current configuration : 512 bytes
!
version 15.2
hostname r1
!
no ip domain lookup
!
interface GigabitEthernet0/1
 description uplink
 ip address 10.1.1.1 255.255.255.0
 ip access-group EDGE in
!
interface GigabitEthernet0/2
 shutdown
!
router bgp 65000
 neighbor 10.0.0.2 remote-as 65001
 address-family ipv4
  network 10.1.0.0 mask 255.255.0.0
  neighbor 10.0.0.2 activate
 exit-address-family
!
ip access-list extended EDGE
 permit tcp any any eq 22
 deny ip any any
!
banner motd ^C
Authorised access only
^C
ntp server 10.0.0.1
!
end
";

#[test]
fn parse_and_render_round_trip_keeps_every_line() {
    let syn = syntax("cisco_ios");
    let t = Tree::parse(IOS_RUNNING, &syn).unwrap_or_default();
    let blank_free: String = IOS_RUNNING
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(t.render(&syn), blank_free);
    let banner = t.nodes.iter().find(|n| n.kind == Kind::Literal);
    assert_eq!(
        banner.map(|n| n.line.as_str()),
        Some("banner motd ^C\nAuthorised access only\n^C")
    );
    let bgp = t.nodes.iter().find(|n| n.line == "router bgp 65000");
    assert_eq!(bgp.map(|n| n.statements().count()), Some(2));
}

fn remediation_lines(platform: &str, running: &str, intended: &str, scope: &[&str]) -> Vec<String> {
    let syn = syntax(platform);
    let scope = Scope::new(
        &scope.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        &[],
    )
    .unwrap_or_default();
    match plan(running, intended, &syn, &scope) {
        Ok(p) => {
            let want = Tree::parse(intended, &syn).unwrap_or_default();
            let got = Tree::parse(&p.predicted, &syn).unwrap_or_default();
            if scope.sections.is_empty() {
                assert!(
                    equivalent(&got, &want, &syn),
                    "predicted:\n{}\nintended:\n{intended}",
                    p.predicted
                );
            }
            p.remediation.lines(&syn)
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn ios_remediation_negates_replaces_and_adds_in_place() {
    let intended = "\
version 15.2
hostname r2
no ip domain lookup
interface GigabitEthernet0/1
 description core uplink
 ip address 10.1.1.1 255.255.255.0
 ip access-group EDGE in
interface GigabitEthernet0/2
 description spare
router bgp 65000
 neighbor 10.0.0.2 remote-as 65001
 address-family ipv4
  network 10.1.0.0 mask 255.255.0.0
ip access-list extended EDGE
 permit tcp any any eq 22
 permit icmp any any
 deny ip any any
banner motd ^C
Authorised access only
^C
ntp server 10.0.0.9
";
    let lines = remediation_lines("cisco_ios", IOS_RUNNING, intended, &[]);
    assert_eq!(
        lines,
        vec![
            "no ip access-list extended EDGE",
            "ip access-list extended EDGE",
            " permit tcp any any eq 22",
            " permit icmp any any",
            " deny ip any any",
            "no ntp server 10.0.0.1",
            "hostname r2",
            "interface GigabitEthernet0/1",
            " description core uplink",
            "interface GigabitEthernet0/2",
            " no shutdown",
            " description spare",
            "router bgp 65000",
            " address-family ipv4",
            "  no neighbor 10.0.0.2 activate",
            "ntp server 10.0.0.9",
        ]
    );
}

#[test]
fn numbered_acl_entries_change_one_by_one() {
    let running = "ip access-list extended E\n 10 permit tcp any any eq 22\n 20 deny ip any any\n";
    let intended =
        "ip access-list extended E\n 10 permit tcp any any eq 443\n 20 deny ip any any\n";
    assert_eq!(
        remediation_lines("cisco_ios", running, intended, &[]),
        vec![
            "ip access-list extended E",
            " no 10 permit tcp any any eq 22",
            " 10 permit tcp any any eq 443"
        ]
    );
}

#[test]
fn scope_limits_the_change_to_its_sections() {
    let intended = "interface GigabitEthernet0/2\n description spare\nhostname other\n";
    let lines = remediation_lines(
        "cisco_ios",
        IOS_RUNNING,
        intended,
        &["interface GigabitEthernet0/*"],
    );
    assert_eq!(
        lines,
        vec![
            "no interface GigabitEthernet0/1",
            "interface GigabitEthernet0/2",
            " no shutdown",
            " description spare"
        ]
    );
}

#[test]
fn identical_configs_need_nothing() {
    assert!(remediation_lines("cisco_ios", IOS_RUNNING, IOS_RUNNING, &[]).is_empty());
}

const JUNOS_RUNNING: &str = "\
## Last commit: 2026-12-01 10:00:00 UTC by admin
version 21.4R3;
system {
    host-name j1;
    root-authentication {
        encrypted-password \"$6$abc\"; ## SECRET-DATA
    }
    ntp {
        server 10.0.0.1;
        server 10.0.0.2;
    }
}
interfaces {
    ge-0/0/0 {
        unit 0 {
            family inet {
                address 10.1.1.1/24;
            }
        }
    }
}
";

#[test]
fn junos_braces_and_set_lines_are_one_tree() {
    let syn = syntax("juniper_junos");
    let braces = Tree::parse(JUNOS_RUNNING, &syn).unwrap_or_default();
    assert_eq!(braces.render(&syn), JUNOS_RUNNING);
    let set = Tree::parse(
        "set version 21.4R3\nset system host-name j1\nset system root-authentication encrypted-password \"$6$abc\"\nset system ntp server 10.0.0.1\nset system ntp server 10.0.0.2\nset interfaces ge-0/0/0 unit 0 family inet address 10.1.1.1/24\n",
        &syn,
    )
    .unwrap_or_default();
    assert!(equivalent(&braces, &set, &syn));
}

#[test]
fn junos_remediation_is_set_and_delete() {
    let intended = "\
set version 21.4R3
set system host-name j2
set system root-authentication encrypted-password \"$6$abc\"
set system ntp server 10.0.0.2
set interfaces ge-0/0/0 unit 0 family inet address 10.1.1.1/24
set interfaces ge-0/0/1 unit 0 family inet address 10.2.2.1/24
set interfaces ge-0/0/1 description \"to core\"
";
    assert_eq!(
        remediation_lines("juniper_junos", JUNOS_RUNNING, intended, &[]),
        vec![
            "delete system ntp server 10.0.0.1",
            "set system host-name j2",
            "set interfaces ge-0/0/1 unit 0 family inet address 10.2.2.1/24",
            "set interfaces ge-0/0/1 description \"to core\"",
        ]
    );
}

#[test]
fn junos_unclosed_block_names_its_line() {
    let syn = syntax("juniper_junos");
    match Tree::parse("system {\n    host-name j1;\n", &syn) {
        Err(e) => assert_eq!(
            e.to_string(),
            "line 1: block `system` is not closed with `}`"
        ),
        Ok(t) => panic!("parsed {t:?}"),
    }
}

mod property {
    use super::*;
    use proptest::prelude::*;

    /// A random IOS config: values unique per key, as a device holds them.
    fn ios_config() -> impl Strategy<Value = String> {
        let iface = (
            0..6usize,
            proptest::option::of(0..3usize),
            proptest::option::of(0..3usize),
            any::<bool>(),
            proptest::collection::vec(0..4usize, 0..3),
        );
        (
            0..2usize,
            proptest::collection::btree_set(0..5usize, 0..4),
            proptest::collection::vec(iface, 0..5),
            proptest::option::of((any::<bool>(), Just(()))),
            proptest::collection::vec(0..4usize, 0..4),
        )
            .prop_map(|(host, ntp, ifaces, acl, entries)| {
                let mut out = format!("hostname r{host}\n");
                for n in ntp {
                    out.push_str(&format!("ntp server 10.0.0.{n}\n"));
                }
                let mut seen = std::collections::HashSet::new();
                for (i, desc, addr, shut, feats) in ifaces {
                    if !seen.insert(i) {
                        continue;
                    }
                    out.push_str(&format!("interface GigabitEthernet0/{i}\n"));
                    if let Some(d) = desc {
                        out.push_str(&format!(" description link {d}\n"));
                    }
                    if let Some(a) = addr {
                        out.push_str(&format!(" ip address 10.{i}.{a}.1 255.255.255.0\n"));
                    }
                    let mut fs: Vec<usize> = feats;
                    fs.sort_unstable();
                    fs.dedup();
                    for f in fs {
                        out.push_str(
                            [
                                " cdp enable\n",
                                " ip ospf cost 10\n",
                                " load-interval 30\n",
                                " mtu 9000\n",
                            ][f],
                        );
                    }
                    if shut {
                        out.push_str(" shutdown\n");
                    }
                    out.push_str("!\n");
                }
                if let Some((numbered, ())) = acl {
                    out.push_str("ip access-list extended EDGE\n");
                    let mut used = std::collections::HashSet::new();
                    let mut lines = Vec::new();
                    for (k, e) in entries.into_iter().enumerate() {
                        if !used.insert(e) {
                            continue;
                        }
                        let rule = [
                            "permit tcp any any eq 22",
                            "permit icmp any any",
                            "deny udp any any",
                            "deny ip any any",
                        ][e];
                        // Numbers follow the entry, so a reorder renumbers; a device lists
                        // numbered entries in number order.
                        lines.push(if numbered {
                            ((e + 1) * 10 + k, format!(" {} {rule}\n", (e + 1) * 10 + k))
                        } else {
                            (k, format!(" {rule}\n"))
                        });
                    }
                    if numbered {
                        lines.sort();
                    }
                    for (_, l) in lines {
                        out.push_str(&l);
                    }
                }
                out.push_str("end\n");
                out
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn remediation_reaches_the_intended_config(a in ios_config(), b in ios_config()) {
            let syn = syntax("cisco_ios");
            let p = plan(&a, &b, &syn, &Scope::whole()).map_err(TestCaseError::fail)?;
            let got = Tree::parse(&p.predicted, &syn).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let want = Tree::parse(&b, &syn).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(equivalent(&got, &want, &syn), "running:\n{a}\nintended:\n{b}\npredicted:\n{}\ncommands:\n{}", p.predicted, p.remediation.lines(&syn).join("\n"));
            // And back: the rollback of the change restores the running config.
            let back = plan(&p.predicted, &a, &syn, &Scope::whole()).map_err(TestCaseError::fail)?;
            let again = Tree::parse(&back.predicted, &syn).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let orig = Tree::parse(&a, &syn).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(equivalent(&again, &orig, &syn));
        }

        #[test]
        fn junos_remediation_reaches_the_intended_config(
            a in proptest::collection::btree_set((0..3usize, 0..3usize, 0..3usize), 0..8),
            b in proptest::collection::btree_set((0..3usize, 0..3usize, 0..3usize), 0..8),
            ha in 0..2usize, hb in 0..2usize,
        ) {
            let syn = syntax("juniper_junos");
            let text = |set: &std::collections::BTreeSet<(usize, usize, usize)>, h: usize| {
                let mut out = format!("set system host-name j{h}\n");
                for (i, u, a) in set {
                    out.push_str(&format!(
                        "set interfaces ge-0/0/{i} unit {u} family inet address 10.{i}.{u}.{a}/24\n"
                    ));
                }
                out
            };
            let (ta, tb) = (text(&a, ha), text(&b, hb));
            // The running side as the device prints it: braces.
            let running = Tree::parse(&ta, &syn).map_err(|e| TestCaseError::fail(e.to_string()))?.render(&syn);
            let p = plan(&running, &tb, &syn, &Scope::whole()).map_err(TestCaseError::fail)?;
            let got = Tree::parse(&p.predicted, &syn).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let want = Tree::parse(&tb, &syn).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(equivalent(&got, &want, &syn), "running:\n{running}\nintended:\n{tb}\npredicted:\n{}", p.predicted);
        }
    }
}

#[test]
fn an_acl_that_only_loses_and_gains_entries_at_the_end_is_never_rewritten() {
    let running = "ip access-list extended VTY\n permit tcp 10.0.0.0 0.0.0.255 any eq 22\n permit tcp 10.9.0.0 0.0.0.255 any eq 22\n deny ip any any log\n";
    let intended = "ip access-list extended VTY\n permit tcp 10.0.0.0 0.0.0.255 any eq 22\n deny ip any any log\n";
    assert_eq!(
        remediation_lines("cisco_ios", running, intended, &[]),
        vec![
            "ip access-list extended VTY",
            " no permit tcp 10.9.0.0 0.0.0.255 any eq 22"
        ]
    );
    // An entry before the final deny cannot be appended: the ACL is sent again whole.
    let inserted = "ip access-list extended VTY\n permit tcp 10.0.0.0 0.0.0.255 any eq 22\n permit tcp 10.9.0.0 0.0.0.255 any eq 22\n permit tcp 10.8.0.0 0.0.0.255 any eq 22\n deny ip any any log\n";
    assert_eq!(
        remediation_lines("cisco_ios", running, inserted, &[])[0],
        "no ip access-list extended VTY"
    );
}
