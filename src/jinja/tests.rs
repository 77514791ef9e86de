use super::*;
use serde_json::json;

fn vars(v: serde_json::Value) -> Vars {
    v.as_object().cloned().unwrap_or_default()
}

fn render(src: &str, v: serde_json::Value) -> Result<String, Error> {
    Templates::new(vec![]).render_str(src, &vars(v), "test")
}

#[test]
fn one_line_fields_refuse_line_breaks_from_values() {
    let t = Templates::new(vec![]);
    let v = vars(
        json!({"port": "Gi1/0/1\nshow version", "cr": "a\rb", "ok": "Gi1/0/2",
        "nested": {"p": "x\ny"}}),
    );
    let e = t
        .render_line("show interface {{ port }}", &v, "command")
        .unwrap_err()
        .to_string();
    assert!(e.contains("`port`") && e.contains("line break"), "{e}");
    assert!(!e.contains("show version"), "the value is not quoted: {e}");
    for src in ["{{ cr }}", "{{ nested.p }}", "{{ ok ~ '\n' ~ ok }}"] {
        assert!(t.render_line(src, &v, "config line").is_err(), "{src}");
    }
    let e = t
        .render_line("x {{ nested.p }}", &v, "dest")
        .unwrap_err()
        .to_string();
    assert!(e.contains("`nested.p`"), "{e}");
    assert_eq!(
        t.render_line("show interface {{ ok }}", &v, "command")
            .unwrap(),
        "show interface Gi1/0/2"
    );
    // What the author wrote on several lines stays several lines.
    assert_eq!(
        t.render_line("show a\nshow {{ ok }}\n", &v, "command")
            .unwrap(),
        "show a\nshow Gi1/0/2\n"
    );
    // The plain renderer (debug messages, template files to review) is unchanged.
    assert_eq!(
        t.render_str("{{ port }}", &v, "msg").unwrap(),
        "Gi1/0/1\nshow version"
    );
}

#[test]
fn config_template_files_keep_loops_but_refuse_smuggled_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ntp.j2"),
        "{% for s in servers %}\nntp server {{ s }}\n{% endfor %}\n",
    )
    .unwrap();
    let t = Templates::new(vec![dir.path().to_path_buf()]);
    let ok = vars(json!({"servers": ["10.0.0.1", "10.0.0.2"]}));
    assert_eq!(
        t.render_file_lines("ntp.j2", &ok).unwrap(),
        "ntp server 10.0.0.1\nntp server 10.0.0.2\n"
    );
    let bad = vars(json!({"servers": ["10.0.0.1\nusername x privilege 15"]}));
    let e = t.render_file_lines("ntp.j2", &bad).unwrap_err().to_string();
    assert!(
        e.contains("ntp.j2 line 2") && e.contains("line break"),
        "{e}"
    );
}

#[test]
fn runaway_loops_run_out_of_fuel_with_the_template_named() {
    let src = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
    let e = Templates::new(vec![])
        .render_str(src, &vars(json!({})), "task \"Push\" lines")
        .unwrap_err()
        .to_string();
    assert!(e.contains("task \"Push\" lines"), "{e}");
    assert!(e.contains("stopped after 10000000 steps"), "{e}");
}

#[test]
fn ipaddr_queries() {
    let cases = [
        ("address", "10.1.2.3"),
        ("network", "10.1.2.0"),
        ("netmask", "255.255.255.0"),
        ("prefix", "24"),
        ("broadcast", "10.1.2.255"),
        ("wildcard", "0.0.0.255"),
        ("subnet", "10.1.2.0/24"),
        ("5", "10.1.2.5/24"),
    ];
    for (q, want) in cases {
        let arg = if q.parse::<i64>().is_ok() {
            q.to_string()
        } else {
            format!("'{q}'")
        };
        let got = render(
            &format!("{{{{ ip | ipaddr({arg}) }}}}"),
            json!({"ip": "10.1.2.3/24"}),
        )
        .unwrap();
        assert_eq!(got, want, "query {q}");
    }
    assert_eq!(
        render("{{ '10.0.0.0/30' | nthhost(-2) }}", json!({})).unwrap(),
        "10.0.0.2"
    );
    assert_eq!(
        render("{{ '2001:db8::/64' | nthhost(1) }}", json!({})).unwrap(),
        "2001:db8::1"
    );
    // As ansible.utils: a host outside the network and a value that is no address are
    // False (templates test `x | ipaddr`); an unknown query is an error.
    assert_eq!(
        render("{{ '10.0.0.0/30' | nthhost(9) }}", json!({})).unwrap(),
        "False"
    );
    assert_eq!(
        render("{{ 'bogus' | ipaddr }}", json!({})).unwrap(),
        "False"
    );
    assert_eq!(
        render("{{ 'bogus' | ipaddr('network') }}", json!({})).unwrap(),
        "False"
    );
    let e = render("{{ '10.0.0.1/24' | ipaddr('bogus-query') }}", json!({})).unwrap_err();
    assert!(
        e.to_string().contains("unknown filter type: bogus-query"),
        "{e}"
    );
}

#[test]
fn regex_filters() {
    let v = json!({"s": "GigabitEthernet0/1"});
    assert_eq!(
        render(
            r"{{ s | regex_replace('^Gigabit(\\w+)(\\d)/(\\d)', 'Gi\\2/\\3') }}",
            v.clone()
        )
        .unwrap(),
        "Gi0/1"
    );
    assert_eq!(
        render(r"{{ s | regex_search('\\d+/\\d+') }}", v.clone()).unwrap(),
        "0/1"
    );
    let e = render("{{ s | regex_search('(') }}", v).unwrap_err();
    assert!(e.to_string().contains("invalid regular expression"), "{e}");
}

#[test]
fn strict_undefined_names_the_variable() {
    let e = render("ntp server {{ ntp_servers[0] }}\n", json!({})).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("`ntp_servers`"), "{msg}");
    assert!(msg.contains("line 1"), "{msg}");
    let e = render("{{ site.name }}", json!({"site": {"code": "ams"}})).unwrap_err();
    assert!(e.to_string().contains("`site.name`"), "{e}");
}

#[test]
fn template_files_and_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ntp.j2"),
        "{% for s in ntp_servers %}\nntp server {{ s }}\n{% endfor %}\n{{ missing }}\n",
    )
    .unwrap();
    let t = Templates::new(vec![dir.path().to_path_buf()]);
    let e = t.render_file("ntp.j2", &vars(json!({"ntp_servers": ["10.0.0.1"]})));
    let msg = e.unwrap_err().to_string();
    assert!(msg.contains("ntp.j2 line 4"), "{msg}");
    assert!(msg.contains("`missing`"), "{msg}");
    let ok = t
        .render_file(
            "ntp.j2",
            &vars(json!({"ntp_servers": ["10.0.0.1"], "missing": "x"})),
        )
        .unwrap();
    assert_eq!(ok, "ntp server 10.0.0.1\nx\n");
    assert!(t.resolve("../etc/passwd").is_none());
    assert!(t.render_file("../x.j2", &Vars::new()).is_err());
}

#[test]
fn env_and_lookup() {
    std::env::set_var("NETORCH_TEST_TEMPLATE_ENV", "s3cret");
    assert_eq!(
        render("{{ env('NETORCH_TEST_TEMPLATE_ENV') }}", json!({})).unwrap(),
        "s3cret"
    );
    assert_eq!(
        render(
            "{{ lookup('env', 'NETORCH_TEST_TEMPLATE_ENV') }}",
            json!({})
        )
        .unwrap(),
        "s3cret"
    );
    let e = render("{{ env('NETORCH_SURELY_UNSET_VAR') }}", json!({})).unwrap_err();
    assert!(e.to_string().contains("NETORCH_SURELY_UNSET_VAR"), "{e}");
}

#[test]
fn expressions() {
    let t = Templates::new(vec![]);
    let v = vars(json!({"ver": {"stdout": "Cisco IOS XE"}, "n": 3}));
    assert!(t.eval_bool("'IOS' in ver.stdout", &v, "when").unwrap());
    assert!(t.eval_bool("{{ n > 2 }}", &v, "when").unwrap());
    assert!(!t.eval_bool("n > 5", &v, "when").unwrap());
    assert_eq!(t.eval("n * 2", &v, "x").unwrap(), json!(6));
    let e = t.eval_bool("nope == 1", &v, "when").unwrap_err();
    assert!(e.to_string().contains("`nope`"), "{e}");
}

#[test]
fn yaml_json_indent_default_join() {
    let v = json!({"l": ["a", "b"], "m": {"k": 1}});
    assert_eq!(render("{{ l | join(',') }}", v.clone()).unwrap(), "a,b");
    assert_eq!(
        render("{{ m | to_json }}", v.clone()).unwrap(),
        "{\"k\": 1}"
    );
    assert_eq!(render("{{ m | to_yaml }}", v.clone()).unwrap(), "{k: 1}\n");
    assert_eq!(render("{{ x | default('d') }}", v.clone()).unwrap(), "d");
    assert_eq!(render("{{ 'a\nb' | indent(2) }}", v).unwrap(), "a\n  b");
}

fn r(src: &str) -> String {
    render(src, json!({})).unwrap()
}

fn err(src: &str) -> String {
    render(src, json!({})).unwrap_err().to_string()
}

#[test]
fn collection_filters() {
    assert_eq!(
        r("{{ {'a': {'x': 1, 'l': [1]}, 'b': 2} | combine({'a': {'y': 2, 'l': [2]}}, recursive=True, list_merge='append') }}"),
        "{'a': {'x': 1, 'l': [1, 2], 'y': 2}, 'b': 2}"
    );
    assert_eq!(
        r("{{ [{'a': 1}, {'b': 2}] | combine }}"),
        "{'a': 1, 'b': 2}"
    );
    assert!(err("{{ {'a': 1} | combine({}, list_merge='bogus') }}").contains("list_merge"));
    assert!(err("{{ {'a': 1} | combine(5) }}").contains("expects dictionaries"));
    assert_eq!(
        r("{{ {'k': 'v'} | dict2items(key_name='n') }}"),
        "[{'n': 'k', 'value': 'v'}]"
    );
    assert_eq!(
        r("{{ [{'key': 'a', 'value': 1}] | items2dict }}"),
        "{'a': 1}"
    );
    assert!(err("{{ [{'x': 1}] | items2dict }}").contains("`key`"));
    assert_eq!(
        r("{{ none | ternary(1, 2, 3) }} {{ false | ternary(1, 2) }}"),
        "3 2"
    );
    assert_eq!(
        r("{{ 'yes' | bool }} {{ 'off' | ansible.builtin.bool }}"),
        "True False"
    );
    assert!(err("{{ nope | mandatory('set nope') }}").contains("set nope"));
    assert_eq!(
        r("{{ '' | default('d', true) }}{{ '' | default('d') }}"),
        "d"
    );
    assert_eq!(
        r("{{ [1, [2, [3]], none] | flatten(levels=1) }}"),
        "[1, 2, [3]]"
    );
    assert_eq!(
        r("{{ [1, 2] | zip_longest([3], fillvalue=0) | list }}"),
        "[[1, 3], [2, 0]]"
    );
    assert_eq!(
        r("{{ [1, 2] | product(['a']) | list }}"),
        "[[1, 'a'], [2, 'a']]"
    );
    assert!(err("{{ [{'a': 1}] | subelements('b') }}").contains("could not find `b`"));
    assert_eq!(r("{{ [3, 1, 3] | ansible.builtin.unique }}"), "[3, 1]");
}

#[test]
fn text_filters_and_tests() {
    assert_eq!(
        r(r"{{ 'ab12' | regex_search('(?P<l>[a-z]+)(\\d+)', '\\g<l>', '\\2') }}"),
        "['ab', '12']"
    );
    assert_eq!(r(r"{{ 'a1b22' | regex_findall('\\d+') }}"), "['1', '22']");
    assert_eq!(r(r"{{ 'x' | regex_search('y') }}"), "");
    assert_eq!(r("{{ 'a.b' | regex_escape }}"), "a\\.b");
    assert!(err("{{ 'x' | regex_replace('(', 'y') }}").contains("invalid regular expression `(`"));
    assert!(err("{{ 'x' is match('[') }}").contains("invalid regular expression"));
    assert_eq!(r("{{ 'abc' is match('b') }} {{ 'abc' is search('b') }} {{ 'abc' is regex('b', match_type='match') }}"), "False True False");
    assert_eq!(
        r("{{ 'x' | hash('md5') }}"),
        "9dd4e461268c8034f5c8564e155c67a6"
    );
    assert_eq!(
        r("{{ 'x' | checksum }}"),
        "11f6ad8ec52a2984abaafd7c3b516503785c2072"
    );
    assert!(err("{{ 'x' | hash('crc') }}").contains("`crc`"));
    assert!(err("{{ '%%%' | b64decode }}").contains("not base64"));
    assert_eq!(
        r("{{ '/a/b.tar.gz' | splitext }} {{ '.bashrc' | splitext }}"),
        "['/a/b.tar', '.gz'] ['.bashrc', '']"
    );
    assert_eq!(r("{{ \"it's\" | quote }}"), "'it'\"'\"'s'");
    assert_eq!(r("{{ 'x' | comment }}"), "#\n# x\n#");
    assert_eq!(
        r("{{ '2.10' is version('2.9', '>') }} {{ '1.0' is version('1.0', 'eq', strict=true) }}"),
        "True True"
    );
    assert!(err("{{ '1.x' is version('1.0', '>', strict=true) }}").contains("invalid version"));
    assert!(err("{{ '1' is version('1', 'bogus') }}").contains("invalid operator"));
    assert_eq!(
        r("{{ [1] is subset([1, 2]) }} {{ [1, 2] is superset([3]) }} {{ [1] is contains(1) }}"),
        "True False True"
    );
    assert_eq!(
        r("{{ 'a-b'.split('-') }} {{ 'x'.upper() }} {{ {'k': 1}.items() | list }}"),
        "['a', 'b'] X [['k', 1]]"
    );
}

#[test]
fn data_filters() {
    assert_eq!(
        r("{{ {'b': [1, 'x'], 'a': none} | to_nice_json }}"),
        "{\n    \"a\": null,\n    \"b\": [\n        1,\n        \"x\"\n    ]\n}"
    );
    assert_eq!(
        r("{{ {'b': {'c': 1}, 'a': 'yes'} | to_nice_yaml }}"),
        "a: 'yes'\nb:\n    c: 1\n"
    );
    assert_eq!(r("{{ {'a': [1, 2]} | to_yaml }}"), "a: [1, 2]\n");
    assert_eq!(
        r("{{ ('{\"a\": [1]}' | from_json).a }} {{ ('a: 1' | from_yaml).a }}"),
        "[1] 1"
    );
    assert!(err("{{ '{' | from_json }}").contains("not JSON"));
    assert_eq!(
        r("{{ 1 | type_debug }} {{ none | type_debug }} {{ {} | type_debug }}"),
        "int NoneType dict"
    );
    assert_eq!(r("{{ {'l': [{'n': 'a', 'up': true}, {'n': 'b', 'up': false}]} | json_query('l[?up].n') }}"), "['a']");
    assert!(err("{{ {} | json_query('[?') }}").contains("not a JMESPath expression"));
    assert_eq!(r("{{ true }} {{ none }} {{ [1, 'a'] }}"), "True  [1, 'a']");
}

#[test]
fn net_filters() {
    assert_eq!(
        r("{{ '10.0.0.1/24' | ansible.utils.ipaddr('range_usable') }}"),
        "10.0.0.1-10.0.0.254"
    );
    assert_eq!(
        r("{{ ['10.0.0.1', 'x', '::1'] | ansible.netcommon.ipv4 }}"),
        "['10.0.0.1']"
    );
    assert_eq!(r("{{ '2001:db8::1' | ipwrap }}"), "[2001:db8::1]");
    assert_eq!(r("{{ '10.0.0.255' | ipmath(1) }}"), "10.0.1.0");
    assert!(err("{{ 'x' | ipmath(1) }}").contains("x is invalid"));
    assert_eq!(r("{{ '10.0.0.0/16' | ipsubnet(24, 2) }}"), "10.0.2.0/24");
    assert!(err("{{ '10.0.0.0/16' | ipsubnet(8) }}").contains("subnet size"));
    assert_eq!(
        r("{{ ['10.0.0.0/25', '10.0.0.128/25'] | cidr_merge }}"),
        "['10.0.0.0/24']"
    );
    assert_eq!(
        r("{{ '10.0.0.0/8' | network_in_network('10.2.0.0/16') }}"),
        "True"
    );
    assert_eq!(
        r("{{ '0011.2233.4455' | hwaddr('linux') }}"),
        "00:11:22:33:44:55"
    );
    assert!(err("{{ 'nope' | macaddr('cisco') }}").contains("not a hardware address"));
}

#[test]
fn lookups_and_unknown_filters() {
    let e = err("{{ lookup('pipe', 'echo hi') }}");
    assert!(e.contains("NETORCH_ALLOW_PIPE=1"), "{e}");
    assert!(err("{{ lookup('nope', 'x') }}").contains("not supported"));
    assert_eq!(
        render(
            "{{ lookup('vars', 'a') }} {{ query('vars', 'a') }}",
            json!({"a": "x"})
        )
        .unwrap(),
        "x ['x']"
    );
    let t = Templates::new(vec![]);
    let (_, insp) = t
        .compile("{{ x | to_datetime }} {{ x | shout }}", "test", false)
        .unwrap();
    assert!(
        insp.unknown[0].contains("Ansible has `to_datetime`; netorch does not have it yet"),
        "{:?}",
        insp.unknown
    );
    assert_eq!(insp.unknown[1], "unknown filter `shout`");
    // At run time too.
    let e = err("{{ 'x' | to_nice_xml }}");
    assert!(e.ends_with("unknown filter `to_nice_xml`"), "{e}");
    let e = err("{{ 'x' | ansible.utils.to_xml }}");
    assert!(
        e.contains("Ansible has `ansible.utils.to_xml`; netorch does not have it yet"),
        "{e}"
    );
}

#[test]
fn jinja2_header_sets_whitespace_and_is_not_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("h.j2"),
        "#jinja2: lstrip_blocks: True\n  {% if true %}\nx {{ v }}\n  {% endif %}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.j2"),
        "#jinja2: lstrip_blocks: maybe\nx\n",
    )
    .unwrap();
    let t = Templates::new(vec![dir.path().to_path_buf()]);
    let v = vars(json!({"v": 1}));
    assert_eq!(t.render_file("h.j2", &v).unwrap(), "x 1\n");
    assert_eq!(t.render_file_lines("h.j2", &v).unwrap(), "x 1\n");
    let e = t.render_file("bad.j2", &v).unwrap_err().to_string();
    assert!(
        e.contains("bad.j2 line 1") && e.contains("True or False"),
        "{e}"
    );
}

#[test]
fn vlan_filters() {
    assert_eq!(
        r("{{ [1, 2, 3, 5, 6, 10] | ansible.netcommon.vlan_parser }}"),
        "['1-3,5,6,10']"
    );
    assert!(err("{{ [0, 5] | vlan_parser }}").contains("1-4094"));
    assert!(err("{{ 'x' | vlan_parser }}").contains("not valid"));
    assert_eq!(r("{{ '1-3,5' | vlan_expander }}"), "[1, 2, 3, 5]");
    assert!(err("{{ '1-x' | vlan_expander }}").contains("`x` is not a VLAN number"));
}

#[test]
fn python_rounding_and_center() {
    assert_eq!(
        r("{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.1 | round(0, 'ceil') }}"),
        "2.0 4.0 3.0"
    );
    assert!(err("{{ 'x' | round }}").contains("not a number"));
    assert!(err("{{ 1 | round(0, 'up') }}").contains("common, ceil or floor"));
    assert_eq!(r("{{ 'ab' | center(5) }}|"), "  ab |");
}
