//! The engine against expectations produced by Python's textfsm 1.1.3 on the same template
//! and input (src/parse/testdata; the corpus test in tests/parse_conformance.rs compares
//! with Python live over ntc-templates).

use serde_json::{json, Value};

use super::clitable::{expand_completion, Index};
use super::pyre::{translate, PyRegex};
use super::textfsm::{split_lines, Template};
use super::*;

fn run(template: &str, input: &str) -> Value {
    let t = Template::parse(template).unwrap();
    let rows = t.parse_text(input).unwrap();
    Records {
        table: Table {
            header: t.header(),
            rows,
        },
        templates: vec![],
        required: vec![],
    }
    .to_json()
}

#[test]
fn options_filldown_fillup_list_required_clear_as_python() {
    let got = run(
        include_str!("testdata/t1.textfsm"),
        include_str!("testdata/i1.txt"),
    );
    let want = json!([
        {"chassis": "c1", "slot": "1", "ports": ["a", "b"], "state": "up", "desc": "first"},
        {"chassis": "c1", "slot": "2", "ports": ["c"], "state": "up", "desc": ""},
        {"chassis": "c2", "slot": "3", "ports": ["d"], "state": "up", "desc": "  "}
    ]);
    assert_eq!(got, want);
}

#[test]
fn nested_list_groups_states_and_unmatched_groups_as_python() {
    // `^${A}|${B}` on "bb" sets A to nothing: a group that takes no part still assigns.
    let got = run(
        include_str!("testdata/t2.textfsm"),
        include_str!("testdata/i2.txt"),
    );
    let want = json!([
        {"nb": [{"name": "bob", "age": "32"}], "a": "", "b": "bb"},
        {"nb": [], "a": "aaaa", "b": ""}
    ]);
    assert_eq!(got, want);
}

#[test]
fn lines_split_as_python_splitlines_and_dollar_dollar_anchors() {
    let got = run(
        include_str!("testdata/t3.textfsm"),
        include_str!("testdata/i3.txt"),
    );
    assert_eq!(got, json!([{"x": "1"}, {"x": "3"}, {"x": "4"}]));
    assert_eq!(split_lines("a\r\nb\rc\n\nd"), vec!["a", "b", "c", "", "d"]);
    assert_eq!(split_lines(""), Vec::<&str>::new());
    assert_eq!(split_lines("\n"), vec![""]);
}

#[test]
fn error_rule_stops_the_parse_with_its_message() {
    let t = Template::parse(include_str!("testdata/t2.textfsm")).unwrap();
    let e = t.parse_text("go\nx\n").unwrap_err();
    assert!(e.message.contains("bad x"), "{}", e.message);
    let t = Template::parse(include_str!("testdata/t3.textfsm")).unwrap();
    let e = t.parse_text("x=1\ny\n").unwrap_err();
    assert!(e.message.contains("line 5"), "{}", e.message);
}

#[test]
fn template_errors_name_the_line_and_what_was_expected() {
    let cases = [
        ("Value X (a)\nStart\n  ^a\n", 2, "blank line"),
        ("Value Bogus X (a)\n\nStart\n  ^a\n", 1, "unknown option"),
        ("Value Filldown X a\n\nStart\n  ^a\n", 1, "'()' pair"),
        ("Value X (a)\n\nBegin\n  ^a\n", 0, "'Start'"),
        ("Value X (a)\n\nStart\n^a\n", 4, "white space"),
        ("Value X (a)\n\nStart\n  ^${Y}\n", 4, "substitution"),
        ("Value X (a)\n\nStart\n  ^a$ -> Record\n", 4, "`$$`"),
        (
            "Value X (a)\n\nStart\n  ^a -> Nowhere\n",
            4,
            "'Nowhere' not found",
        ),
        (
            "Value X (a)\n\nStart\n  ^a -> Continue Start\n",
            4,
            "Continue",
        ),
        (
            "Value X (a)\n\nStart\n  ^(a -> Record\n",
            4,
            "invalid regular expression",
        ),
        (
            "Value X (a)\n\nStart\n  ^a\n\nEnd\n  ^b\n",
            7,
            "non-empty 'End'",
        ),
        ("Value X (a)\nValue X (b)\n\nStart\n  ^a\n", 2, "duplicate"),
        (
            "Value X (a)\n\nStart\n  ^a -> Next Two Three\n",
            4,
            "badly formatted",
        ),
    ];
    for (text, line, want) in cases {
        let e = Template::parse(text).unwrap_err();
        assert_eq!(e.line, line, "{text}: {e}");
        assert!(e.to_string().contains(want), "{text}: {e}");
    }
}

#[test]
fn actions_parse_as_the_reference_reads_them() {
    let t = Template::parse(
        "Value X (\\S+)\n\nStart\n  ^a ${X} -> Next.Record\n  ^b ${X} ->  Record Two\n  ^c ${X} -> Two\n  ^d -> Error \"said no\"\n\nTwo\n  ^e ${X} -> Continue.Record\n  ^e -> Start\n",
    )
    .unwrap();
    let rows = t.parse_text("a 1\nb 2\ne 3\nc 4\ne 5\nd\n");
    assert!(rows.unwrap_err().message.contains("said no"));
    let rows = t.parse_text("a 1\nb 2\ne 3\nc 4\ne 5\n").unwrap();
    assert_eq!(rows.len(), 4);
}

#[test]
fn python_regex_syntax_is_translated() {
    for (py, rust) in [
        (r"a\Z", r"a\z"),
        (r"\<x\>", r"<x>"),
        (r"[[]x", r"[\[]x"),
        (r"[a-z&&b]", r"[a-z\&\&b]"),
        (r"x{,3}", r"x{0,3}"),
        (r"{abc}", r"\{abc\}"),
        (r"a{2}b{2,}", r"a{2}b{2,}"),
        (r"(?P<a>x)(?P=a)", r"(?P<a>x)\k<a>"),
        (r"a(?#note)b", r"ab"),
        (r"[]a]", r"[\]a]"),
        (r"\/\:\'", r"/:'"),
        (r"x(?<=[^()\s])+y", r"x(?<=[^()\s])y"),
        (r"x(?=a)*y", r"xy"),
    ] {
        assert_eq!(translate(py).unwrap(), rust, "{py}");
    }
    assert!(translate(r"\q").is_err());
    assert!(translate("[abc").is_err());
}

#[test]
fn matching_is_anchored_at_the_start_only_and_lookaround_works() {
    let re = PyRegex::new(r"a|b").unwrap();
    assert!(re.match_groups("bc").unwrap().is_some());
    assert!(re.match_groups("cb").unwrap().is_none());
    let re = PyRegex::new(r"(?P<x>\d+)(?!\d|\.)").unwrap();
    let g = re.match_groups("123 ").unwrap().unwrap();
    assert_eq!(g[1], Some("123"));
    assert!(re.match_groups("1.2").unwrap().is_none());
}

#[test]
fn index_expands_completions_and_matches_at_the_start() {
    assert_eq!(
        expand_completion("sh[[ow]] ver[[sion]]"),
        "sh(o(w)?)? ver(s(i(o(n)?)?)?)?"
    );
    let index = Index::parse(
        "# comment\n\nTemplate, Hostname, Platform, Command\n\na.textfsm:b.textfsm, .*, cisco_ios, sh[[ow]] ip int[[erface]] br[[ief]]\nc.textfsm, .*, cisco_ios, sh[[ow]] ver[[sion]]\nbad, row\nd.textfsm, .*, cisco_(nxos|ios), sh[[ow]] clock\n",
    )
    .unwrap();
    let find = |p: &str, c: &str| index.find(&[("Platform", p), ("Command", c)]).unwrap();
    assert_eq!(
        find("cisco_ios", "sh ip int br"),
        Some((vec!["a.textfsm".to_string(), "b.textfsm".to_string()], 5))
    );
    assert_eq!(
        find("cisco_ios", "show version detail").map(|f| f.1),
        Some(6)
    );
    assert_eq!(find("cisco_nxos", "show clock").map(|f| f.1), Some(8));
    assert_eq!(find("cisco_nxos", "show version"), None);
    assert!(Index::parse("# nothing\n").is_err());
}

#[test]
fn several_templates_merge_on_keys() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.textfsm");
    let b = dir.path().join("b.textfsm");
    std::fs::write(
        &a,
        "Value Key IF (\\S+)\nValue ST (\\S+)\n\nStart\n  ^st ${IF} ${ST} -> Record\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "Value Key IF (\\S+)\nValue MTU (\\d+)\n\nStart\n  ^mtu ${IF} ${MTU} -> Record\n",
    )
    .unwrap();
    let out = parse_templates(&[a, b], "st e1 up\nst e2 down\nmtu e2 9000\nmtu e9 1500\n").unwrap();
    assert_eq!(
        out.to_json(),
        json!([{"if": "e1", "st": "up", "mtu": ""}, {"if": "e2", "st": "down", "mtu": "9000"}])
    );
}

#[test]
fn an_empty_result_is_an_error_only_when_values_are_required() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.textfsm");
    std::fs::write(
        &t,
        "Value Required X (\\d+)\n\nStart\n  ^x=${X} -> Record\n",
    )
    .unwrap();
    let out = parse_templates(std::slice::from_ref(&t), "nothing here").unwrap();
    let e = out.check_required().unwrap_err().to_string();
    assert!(e.contains("requires X") && e.contains("t.textfsm"), "{e}");
    std::fs::write(&t, "Value X (\\d+)\n\nStart\n  ^x=${X} -> Record\n").unwrap();
    // A cached template is not read again in this process: use another file.
    let u = dir.path().join("u.textfsm");
    std::fs::copy(&t, &u).unwrap();
    assert!(parse_templates(&[u], "nothing")
        .unwrap()
        .check_required()
        .is_ok());
}

#[test]
fn json_and_regex_parsers() {
    assert_eq!(
        parse_json("show version | json\n{\"version\": \"4.30\"}\n").unwrap(),
        json!({"version": "4.30"})
    );
    assert!(parse_json("% Invalid input")
        .unwrap_err()
        .to_string()
        .contains("not JSON"));
    let v = parse_regex(
        r"^(?P<intf>\S+)\s+(?P<st>up|down)$",
        "e1 up\r\ne2 down\nbad\n",
    )
    .unwrap();
    assert_eq!(
        v,
        json!([{"intf": "e1", "st": "up"}, {"intf": "e2", "st": "down"}])
    );
    assert!(parse_regex(r"(?P<x>zzz)", "abc")
        .unwrap_err()
        .to_string()
        .contains("matched nothing"));
    assert!(parse_regex(r"abc", "abc")
        .unwrap_err()
        .to_string()
        .contains("named groups"));
}

#[test]
fn a_hostile_line_cannot_hang_a_backtracking_pattern() {
    // Look-around forces the backtracking engine; its step limit turns a catastrophic
    // pattern into an error instead of a hang.
    let t = Template::parse("Value X ((a+)+(?=b))\n\nStart\n  ^${X}c -> Record\n").unwrap();
    let line = "a".repeat(40);
    let started = std::time::Instant::now();
    let r = t.parse_text(&line);
    assert!(r.is_err() || r.is_ok_and(|rows| rows.is_empty()));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
