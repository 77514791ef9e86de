//! The remediation corpus (tests/configs/): for every running/intended pair, the
//! remediation applied to the running config in the model gives the intended config, and
//! the remediation back gives the running config again.

use std::path::{Path, PathBuf};

use netorch::config::{equivalent, plan, Scope, Tree};
use netorch::device::profile::ProfileSet;

fn cases() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs");
    let mut out = Vec::new();
    for platform in std::fs::read_dir(&root).unwrap().flatten() {
        if !platform.path().is_dir() {
            continue;
        }
        let name = platform.file_name().to_string_lossy().into_owned();
        for case in std::fs::read_dir(platform.path()).unwrap().flatten() {
            out.push((name.clone(), case.path()));
        }
    }
    out.sort();
    out
}

fn scope_of(case: &Path) -> Vec<String> {
    std::fs::read_to_string(case.join("scope"))
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The statements of `tree` inside the scope (all of it without one), as a tree; the
/// lines the device manages itself (`version`) are not compared.
fn in_scope(tree: &Tree, scope: &Scope, syn: &netorch::config::Syntax) -> Tree {
    let nodes = tree
        .nodes
        .iter()
        .filter(|n| n.is_config() && !syn.unmanaged.iter().any(|re| re.is_match(&n.line)))
        .filter(|n| !scope.ignore.iter().any(|re| re.is_match(&n.line)))
        .filter(|n| scope.sections.is_empty() || scope.sections.iter().any(|p| p.matches(&n.line)))
        .cloned()
        .collect();
    Tree { nodes }
}

#[test]
fn corpus_round_trips_in_the_model() {
    let profiles = ProfileSet::builtin();
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (platform, case) in &cases {
        let syn = &profiles.get(platform).unwrap().syntax;
        let running = std::fs::read_to_string(case.join("running.cfg")).unwrap();
        let intended = std::fs::read_to_string(case.join("intended.cfg")).unwrap();
        let scope = Scope::new(&scope_of(case), &[]).unwrap();
        let there = match plan(&running, &intended, syn, &scope) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{}: {e}", case.display()));
                continue;
            }
        };
        let run_tree = Tree::parse(&running, syn).unwrap();
        let got = in_scope(&Tree::parse(&there.predicted, syn).unwrap(), &scope, syn);
        let want = in_scope(
            &Tree::parse_guided(&intended, syn, Some(&run_tree)).unwrap(),
            &scope,
            syn,
        );
        if !equivalent(&got, &want, syn) {
            failures.push(format!(
                "{}: remediation does not reach the intended config\ncommands:\n{}\npredicted:\n{}",
                case.display(),
                there.remediation.lines(syn).join("\n"),
                there.predicted
            ));
            continue;
        }
        let back = plan(&there.predicted, &running, syn, &scope).unwrap();
        let again = in_scope(&Tree::parse(&back.predicted, syn).unwrap(), &scope, syn);
        let orig = in_scope(&run_tree, &scope, syn);
        if !equivalent(&again, &orig, syn) {
            failures.push(format!(
                "{}: the way back does not restore the running config\ncommands:\n{}",
                case.display(),
                back.remediation.lines(syn).join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A pair that differs only in layout (header, `!`, spacing) needs no command.
#[test]
fn cosmetic_differences_need_no_command() {
    let profiles = ProfileSet::builtin();
    let syn = &profiles.get("cisco_ios").unwrap().syntax;
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs/cisco_ios/12-cosmetic-only-no-change");
    let running = std::fs::read_to_string(case.join("running.cfg")).unwrap();
    let intended = std::fs::read_to_string(case.join("intended.cfg")).unwrap();
    let p = plan(&running, &intended, syn, &Scope::whole()).unwrap();
    assert!(p.remediation.is_empty(), "{:?}", p.remediation.lines(syn));
}

/// The corpus on the simulator: each device starts from a case's running config,
/// `mode: replace` takes it to the intended config (as `show running-config` then shows
/// it), and `netorch rollback` takes it back.
#[test]
fn corpus_round_trips_on_the_simulator() {
    use crate::util::report::{json_of, results};
    let profiles = ProfileSet::builtin();
    let mut all_failures = Vec::new();
    for platform in [
        "cisco_ios",
        "arista_eos",
        "juniper_junos",
        "cisco_nxos",
        "cisco_iosxr",
    ] {
        let profile = profiles.get(platform).unwrap();
        let syn = &profile.syntax;
        // Command output comes with secrets masked: both sides are compared masked.
        let read = |p: &Path| {
            netorch::backup::normalize::mask_text(
                &std::fs::read_to_string(p).unwrap(),
                &profile.secret_patterns,
            )
        };
        let cases: Vec<PathBuf> = cases()
            .into_iter()
            .filter(|(p, _)| p == platform)
            .map(|(_, c)| c)
            .filter(|c| {
                let id = c
                    .strip_prefix(root())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                std::env::var_os("CORPUS_ALL").is_some()
                    || !SIM_LACKS.iter().any(|(case, _)| *case == id)
            })
            .collect();
        if cases.is_empty() {
            continue;
        }
        let configs = tempfile::tempdir().unwrap();
        let names: Vec<String> = (1..=cases.len()).map(|i| format!("case-{i:03}")).collect();
        let mut plays = String::new();
        for (name, case) in names.iter().zip(&cases) {
            std::fs::copy(
                case.join("running.cfg"),
                configs.path().join(format!("{name}.cfg")),
            )
            .unwrap();
            let scope = scope_of(case);
            plays.push_str(&format!(
                "- name: {name}\n  hosts: {name}\n  tasks:\n    - name: Replace\n      config:\n        mode: replace\n        src: {}\n        scope: {}\n",
                case.join("intended.cfg").display(),
                serde_json::to_string(&scope).unwrap()
            ));
        }
        // Not the default `admin`: the password is masked wherever it appears in output,
        // the `username admin` lines included.
        let sim = crate::util::sim::Sim::with(platform, cases.len())
            .password("Corpus-Passw0rd-8841")
            .args(&[
                "--name-prefix",
                "case-",
                "--config-dir",
                configs.path().to_str().unwrap(),
            ])
            .start();
        let pb = sim.dir.path().join("replace.yml");
        std::fs::write(&pb, plays).unwrap();
        let out = sim.netorch("run").arg(&pb).arg("--json").output().unwrap();
        let doc = json_of(&out);
        let show = |host: &str| -> String {
            let cmd = syn_show(platform);
            let out = sim
                .netorch("exec")
                .args(["--limit", host, "--json", cmd])
                .output()
                .unwrap();
            let doc = json_of(&out);
            results(&doc, cmd)[0]["commands"][0]["output"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let mut failures = Vec::new();
        for (name, case) in names.iter().zip(&cases) {
            for r in results(&doc, "Replace")
                .iter()
                .filter(|r| r["host"] == name.as_str())
            {
                if r["status"] == "failed" {
                    failures.push(format!("{}: {}", case.display(), r["msg"]));
                }
            }
            let scope = Scope::new(&scope_of(case), &[]).unwrap();
            let running = Tree::parse(&read(&case.join("running.cfg")), syn).unwrap();
            let want = in_scope(
                &Tree::parse_guided(&read(&case.join("intended.cfg")), syn, Some(&running))
                    .unwrap(),
                &scope,
                syn,
            );
            let shown =
                netorch::backup::normalize::mask_text(&show(name), &profile.secret_patterns);
            let got = in_scope(&Tree::parse(&shown, syn).unwrap(), &scope, syn);
            if !equivalent(&got, &want, syn) {
                failures.push(format!(
                    "{}: the device does not hold the intended config",
                    case.display()
                ));
            }
        }
        let id = doc["rollback_run"].as_str().unwrap().to_string();
        let back = sim
            .netorch("rollback")
            .args(["--run", &id, "--json"])
            .output()
            .unwrap();
        let back_doc = json_of(&back);
        for (name, case) in names.iter().zip(&cases) {
            for t in back_doc["plays"][0]["tasks"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for r in t["hosts"].as_array().into_iter().flatten() {
                    if r["host"] == name.as_str() && r["status"] == "failed" {
                        failures.push(format!("{}: rollback: {}", case.display(), r["msg"]));
                    }
                }
            }
        }
        for (name, case) in names.iter().zip(&cases) {
            let running = Tree::parse(&read(&case.join("running.cfg")), syn).unwrap();
            // A line whose secret the record holds masked is not sent back (the run lists it
            // as `not_restored`): it is left out of the comparison.
            let masked = Scope::new(&[], &[r"\*{8}".to_string()]).unwrap();
            let orig = in_scope(&running, &masked, syn);
            let shown =
                netorch::backup::normalize::mask_text(&show(name), &profile.secret_patterns);
            let got = in_scope(&Tree::parse(&shown, syn).unwrap(), &masked, syn);
            if !equivalent(&got, &orig, syn) {
                failures.push(format!(
                    "{}: rollback does not restore the running config",
                    case.display()
                ));
            }
        }
        all_failures.extend(failures);
    }
    assert!(all_failures.is_empty(), "{}", all_failures.join("\n"));
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs")
}

/// Cases the simulator cannot play yet, and what it lacks (the model round trip above
/// covers them all). `CORPUS_ALL=1` runs them anyway.
const SIM_LACKS: &[(&str, &str)] = &[
    (
        "arista_eos/04-prefix-lists-route-maps",
        "`ip prefix-list` blocks with `seq` entries",
    ),
    (
        "arista_eos/05-bgp-evpn-vrfs",
        "`vlan` and `vrf` sub-modes of `router bgp`",
    ),
    (
        "arista_eos/06-ntp-logging-snmp-mgmt",
        "the `management ssh` sub-mode",
    ),
    (
        "arista_eos/07-hostname-users-banner",
        "`no server` in `aaa group server`",
    ),
    (
        "cisco_iosxr/02-bgp-neighbors",
        "`vrf` and neighbor sub-modes of `router bgp`",
    ),
    (
        "cisco_iosxr/03-route-policies-prefix-sets",
        "route policies and prefix sets",
    ),
    (
        "cisco_iosxr/04-acl-ntp-logging-snmp",
        "numbered `ipv4 access-list` entries",
    ),
    (
        "cisco_nxos/01-interfaces-vlans",
        "`interface VlanN` (feature interface-vlan)",
    ),
    (
        "cisco_nxos/02-bgp-vrf-neighbors",
        "`vrf` and neighbor sub-modes of `router bgp`",
    ),
    (
        "juniper_junos/01-system",
        "Junos grammar: `class X` lists, syslog facilities",
    ),
    (
        "juniper_junos/02-interfaces-units",
        "Junos grammar: `filter { input X; }`",
    ),
    (
        "juniper_junos/03-bgp-groups",
        "Junos grammar: `bfd-liveness-detection`, import/export",
    ),
    (
        "juniper_junos/04-policy-options",
        "Junos grammar: policy terms `from`/`then`",
    ),
    (
        "juniper_junos/05-firewall-filters",
        "Junos grammar: filter terms `from`/`then`",
    ),
    (
        "juniper_junos/07-vlans-interfaces-set-intended",
        "Junos grammar: `vlan { members X; }`",
    ),
    (
        "juniper_junos/08-ospf-static-set-intended",
        "Junos grammar: `area X interface Y` options",
    ),
];

fn syn_show(platform: &str) -> &'static str {
    if platform == "juniper_junos" {
        "show configuration"
    } else {
        "show running-config"
    }
}

/// `netorch config remediate` from files: the commands, JSON with the prediction, and
/// errors that name the file and line.
#[test]
fn remediate_from_files() {
    let case = root().join("cisco_ios/01-interface-changes");
    let out = crate::util::netorch()
        .args([
            "config",
            "remediate",
            "--platform",
            "cisco_ios",
            "--running",
        ])
        .arg(case.join("running.cfg"))
        .arg("--intended")
        .arg(case.join("intended.cfg"))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!doc["commands"].as_array().unwrap().is_empty(), "{doc}");
    assert!(
        doc["predicted"].as_str().unwrap().contains("hostname"),
        "{doc}"
    );
    assert!(doc["timing_ms"]["remediate"].is_number(), "{doc}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.cfg");
    std::fs::write(&bad, "system {\n    host-name j1;\n").unwrap();
    let out = crate::util::netorch()
        .args([
            "config",
            "remediate",
            "--platform",
            "juniper_junos",
            "--running",
        ])
        .arg(&bad)
        .arg("--intended")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.cfg:1:1") && err.contains("not closed"),
        "{err}"
    );
    let out = crate::util::netorch()
        .args([
            "config",
            "remediate",
            "--platform",
            "cisco_ois",
            "--running",
        ])
        .arg(&bad)
        .arg("--intended")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `cisco_ios`?"));
}
