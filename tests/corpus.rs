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
    for platform in ["cisco_ios", "arista_eos", "juniper_junos"] {
        let syn = &profiles.get(platform).unwrap().syntax;
        let cases: Vec<PathBuf> = cases()
            .into_iter()
            .filter(|(p, _)| p == platform)
            .map(|(_, c)| c)
            .collect();
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
        let sim = crate::util::sim::Sim::with(platform, cases.len())
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
        assert_eq!(out.status.code(), Some(0), "{platform}: {doc:#}");
        let show = |host: &str| -> String {
            let cmd = syn_show(platform);
            let out = sim
                .netorch("exec")
                .args(["--limit", host, "--json", "--show-secrets", cmd])
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
            let scope = Scope::new(&scope_of(case), &[]).unwrap();
            let running = Tree::parse(
                &std::fs::read_to_string(case.join("running.cfg")).unwrap(),
                syn,
            )
            .unwrap();
            let want = in_scope(
                &Tree::parse_guided(
                    &std::fs::read_to_string(case.join("intended.cfg")).unwrap(),
                    syn,
                    Some(&running),
                )
                .unwrap(),
                &scope,
                syn,
            );
            let got = in_scope(&Tree::parse(&show(name), syn).unwrap(), &scope, syn);
            if !equivalent(&got, &want, syn) {
                failures.push(format!(
                    "{}: the device does not hold the intended config:\n{}",
                    case.display(),
                    show(name)
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
        let id = doc["rollback_run"].as_str().unwrap().to_string();
        let back = sim
            .netorch("rollback")
            .args(["--run", &id])
            .output()
            .unwrap();
        assert_eq!(back.status.code(), Some(0), "{platform}: {back:?}");
        for (name, case) in names.iter().zip(&cases) {
            let running = Tree::parse(
                &std::fs::read_to_string(case.join("running.cfg")).unwrap(),
                syn,
            )
            .unwrap();
            let orig = in_scope(&running, &Scope::whole(), syn);
            let got = in_scope(
                &Tree::parse(&show(name), syn).unwrap(),
                &Scope::whole(),
                syn,
            );
            if !equivalent(&got, &orig, syn) {
                failures.push(format!(
                    "{}: rollback does not restore the running config:\n{}",
                    case.display(),
                    show(name)
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }
}

fn syn_show(platform: &str) -> &'static str {
    if platform == "juniper_junos" {
        "show configuration"
    } else {
        "show running-config"
    }
}
