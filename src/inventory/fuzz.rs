//! Property tests over the inventory loaders and host patterns: any text, and text built
//! from inventory-shaped pieces, loads or fails with an error; it never panics.

use std::path::Path;

use proptest::prelude::*;

use super::builder::Builder;
use super::{ini, yaml, Inventory};

/// Lines that look like inventory, so the fuzzer reaches past the first parse error.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[core]".to_string()),
        Just("[core:children]".to_string()),
        Just("[dc:children]".to_string()),
        Just("[core:vars]".to_string()),
        Just("[all:vars]".to_string()),
        Just("core".to_string()),
        Just("dc".to_string()),
        Just("all".to_string()),
        Just("r1 ansible_host=10.0.0.1 port=22".to_string()),
        Just("r[1:3]:22 x='a b'".to_string()),
        Just("r[a:".to_string()),
        Just("x=[1, {'a': 2}]".to_string()),
        Just("note=\"open".to_string()),
        Just("all:".to_string()),
        Just("  hosts:".to_string()),
        Just("    r1:".to_string()),
        Just("    r2: {a: 1}".to_string()),
        Just("  children:".to_string()),
        Just("    core:".to_string()),
        Just("      children:".to_string()),
        Just("        core:".to_string()),
        Just("        all:".to_string()),
        Just("  vars:".to_string()),
        Just("    ansible_group_priority: x".to_string()),
        Just("    - a".to_string()),
        Just("    <<: *x".to_string()),
        Just("    y: &x {a: 1}".to_string()),
        Just("    v: !vault abc".to_string()),
        Just("\t".to_string()),
        "\\PC{0,12}",
    ]
}

fn doc() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..24).prop_map(|lines| lines.join("\n"))
}

fn try_ini(text: &str) {
    let mut b = Builder::new();
    if ini::load_ini(Path::new("f.ini"), text, &mut b).is_ok() {
        if let Ok(inv) = b.finish(&[], &[], &[]) {
            exercise(&inv);
        }
    }
}

fn try_yaml(text: &str) {
    let mut b = Builder::new();
    if yaml::load_yaml(Path::new("f.yml"), text, &mut b).is_ok() {
        if let Ok(inv) = b.finish(&[], &[], &[]) {
            exercise(&inv);
        }
    }
}

fn exercise(inv: &Inventory) {
    let _ = inv.graph();
    let _ = inv.secret_values();
    for h in inv.hosts.values() {
        let _ = (h.platform(), h.masked_vars());
    }
    for p in ["all", "core:&dc:!r1", "~r.*", "r[0]", "*"] {
        let _ = inv.select(p);
    }
}

proptest! {
    // PROPTEST_CASES=100000 for a long fuzzing run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
    ))]

    #[test]
    fn ini_never_panics(text in doc()) {
        try_ini(&text);
    }

    #[test]
    fn yaml_never_panics(text in doc()) {
        try_yaml(&text);
    }

    #[test]
    fn any_text_never_panics(text in "\\PC{0,200}") {
        try_ini(&text);
        try_yaml(&text);
    }

    #[test]
    fn patterns_never_panic(pattern in "[a-z0-9!&~:,\\[\\]*?().{}\\- ]{0,24}") {
        let mut b = Builder::new();
        let core = b.group("core");
        b.host("r1", Some(core));
        b.host("r2", None);
        let inv = b.finish(&[], &[], &[]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let _ = inv.select(&pattern);
        let _ = inv.unmatched_terms(&pattern);
        let _ = inv.select_with_limit("all", Some(&pattern));
    }
}
