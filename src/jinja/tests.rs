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
    let e = render("{{ '10.0.0.0/30' | nthhost(9) }}", json!({})).unwrap_err();
    assert!(e.to_string().contains("outside 10.0.0.0/30"), "{e}");
    let e = render("{{ 'bogus' | ipaddr('network') }}", json!({})).unwrap_err();
    assert!(e.to_string().contains("not an IP address"), "{e}");
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
    assert_eq!(render("{{ m | to_json }}", v.clone()).unwrap(), "{\"k\":1}");
    assert_eq!(render("{{ m | to_yaml }}", v.clone()).unwrap(), "k: 1\n");
    assert_eq!(render("{{ x | default('d') }}", v.clone()).unwrap(), "d");
    assert_eq!(render("{{ 'a\nb' | indent(2) }}", v).unwrap(), "a\n  b");
}
