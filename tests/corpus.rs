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
