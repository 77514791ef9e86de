use super::*;

fn parse(text: &str) -> Result<Options, LoadError> {
    Options::parse(Path::new("netbox.yml"), text)
}

const BASE: &str =
    "plugin: netbox.netbox.nb_inventory\napi_endpoint: http://nb.example:8000/\ntoken: tok3n\n";

fn device() -> Value {
    json!({
        "id": 7, "name": "ams-core-1",
        "site": {"id": 1, "slug": "ams", "name": "AMS"},
        "role": {"id": 1, "slug": "core", "name": "Core"},
        "tenant": {"id": 1, "slug": "netops"},
        "platform": {"id": 1, "slug": "cisco-ios", "name": "Cisco IOS"},
        "device_type": {"slug": "c9300", "manufacturer": {"slug": "cisco"}},
        "status": {"value": "active", "label": "Active"},
        "tags": [{"slug": "golden"}, {"slug": "pci"}],
        "primary_ip": {"id": 5, "address": "10.0.0.1/24"},
        "primary_ip4": {"id": 5, "address": "10.0.0.1/24"},
        "oob_ip": {"id": 6, "address": "192.0.2.1/24"},
        "config_context": {"ntp": ["192.0.2.9"], "ansible_port": 2222},
        "custom_fields": {"owner": "team-a"},
        "serial": "SN1",
    })
}

fn build(opts: &Options, devices: &[Value]) -> Built {
    let templates = crate::jinja::Templates::new(Vec::new());
    let compose = Compose::new(&templates, opts).unwrap();
    let mut out = Built::default();
    for d in devices {
        map_host(opts, &Lookups::default(), &compose, d, false, &mut out).unwrap();
    }
    out
}

#[test]
fn detection_needs_the_plugin_line() {
    assert!(is_netbox_source("plugin: netbox.netbox.nb_inventory\n"));
    assert!(is_netbox_source("# x\nplugin: 'nb_inventory'  # comment\n"));
    assert!(!is_netbox_source(
        "all:\n  hosts:\n    plugin: netbox.netbox.nb_inventory\n"
    ));
    assert!(!is_netbox_source("plugin: amazon.aws.aws_ec2\n"));
}

#[test]
fn options_and_defaults() {
    let o = parse(&format!(
        "{BASE}query_filters:\n  - site: ams\n  - tag: [a, b]\ndevice_query_filters:\n  - has_primary_ip: true\ngroup_by: [sites, device_roles, tags]\ncache: yes\ncache_timeout: 60\n"
    ))
    .unwrap();
    assert_eq!(o.endpoint, "http://nb.example:8000");
    assert_eq!(o.token_type, "Token");
    assert!(o.validate_certs && o.plurals && o.cache && !o.config_context);
    assert_eq!(o.cache_ttl, Duration::from_secs(60));
    assert_eq!(o.cache_max_age, DEFAULT_CACHE_MAX_AGE);
    assert_eq!(
        o.query_filters,
        [("site", "ams"), ("tag", "a"), ("tag", "b")].map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert_eq!(o.device_query_filters[0].1, "true");
    assert_eq!(o.group_by.len(), 3);
    let o = parse(
        &format!("{BASE}token: {{type: Bearer, value: xyz}}\n").replace("token: tok3n\n", ""),
    )
    .unwrap();
    assert_eq!(o.token_type, "Bearer");
    assert_eq!(o.token.as_ref().map(Secret::expose), Some("xyz"));
}

#[test]
fn unsupported_and_unknown_options_are_named_with_their_line() {
    let e = parse(&format!("{BASE}keyed_groups:\n  - key: status\n")).unwrap_err();
    assert_eq!(e.line, Some(4));
    assert!(e.message.contains("`keyed_groups` is not supported"), "{e}");
    let e = parse(&format!("{BASE}group_bye: [sites]\n")).unwrap_err();
    assert!(
        e.message
            .contains("unknown nb_inventory option `group_bye`"),
        "{e}"
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `group_by`?"));
    let e = parse(&format!("{BASE}interfaces: true\n")).unwrap_err();
    assert!(
        e.message.contains("`interfaces: true` is not supported"),
        "{e}"
    );
    assert!(parse(&format!("{BASE}interfaces: false\n")).is_ok());
    let e = parse(&format!("{BASE}group_by: [racks]\n")).unwrap_err();
    assert!(e.message.contains("group_by `racks`"), "{e}");
    assert!(e.hint.unwrap_or_default().contains("device_roles"));
    let e = parse(&format!("{BASE}group_by: [sites, platfroms]\n")).unwrap_err();
    assert!(e.message.contains("group_by `platfroms`"), "{e}");
    assert!(
        e.hint
            .unwrap_or_default()
            .starts_with("did you mean `platforms`?"),
        "a misspelt group_by value gets a suggestion"
    );
    let e = parse("plugin: netbox.netbox.nb_inventory\napi_endpoint: nb.example\n").unwrap_err();
    assert!(e.message.contains("http:// or https://"), "{e}");
    let e = parse(&format!("{BASE}compose:\n  x: platform.slug |\n")).unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.message.contains("compose.x"), "{e}");
    let e = parse(&format!("{BASE}config_context: maybe\n")).unwrap_err();
    assert!(e.message.contains("true or false"), "{e}");
}

#[test]
fn platform_slugs_map_to_netorch_platforms() {
    let mut user = HashMap::new();
    user.insert("acme-os".to_string(), "cisco_ios".to_string());
    for (slug, want) in [
        ("cisco-ios", "cisco_ios"),
        ("Cisco-IOS-XE", "cisco_ios"),
        ("cisco-nxos", "cisco_nxos"),
        ("cisco-ios-xr", "cisco_iosxr"),
        ("arista-eos", "arista_eos"),
        ("juniper-junos", "juniper_junos"),
        ("cisco.ios.ios", "cisco_ios"),
        ("acme-os", "cisco_ios"),
        ("my-vendor", "my_vendor"),
    ] {
        assert_eq!(platform_from_slug(slug, &user), want, "{slug}");
    }
}

#[test]
fn host_vars_and_groups_as_nb_inventory_names_them() {
    let o = parse(&format!(
        "{BASE}group_by: [sites, device_roles, platforms, tags, status]\nconfig_context: true\n"
    ))
    .unwrap();
    let b = build(&o, &[device()]);
    let v = &b.hosts["ams-core-1"];
    assert_eq!(v["ansible_host"], "10.0.0.1");
    assert_eq!(v["sites"], json!(["ams"]));
    assert_eq!(v["device_roles"], json!(["core"]));
    assert_eq!(v["platforms"], json!(["cisco-ios"]));
    assert_eq!(v["platform"], "cisco_ios");
    assert_eq!(v["tags"], json!(["golden", "pci"]));
    assert_eq!(v["manufacturers"], json!(["cisco"]));
    assert_eq!(
        v["config_context"],
        json!([{"ntp": ["192.0.2.9"], "ansible_port": 2222}])
    );
    assert_eq!(v["custom_fields"]["owner"], "team-a");
    let mut groups: Vec<&String> = b.groups.keys().collect();
    groups.sort();
    assert_eq!(
        groups,
        [
            "device_roles_core",
            "platforms_cisco-ios",
            "sites_ams",
            "status_active",
            "tags_golden",
            "tags_pci"
        ]
    );
}

#[test]
fn raw_names_flattening_compose_and_addresses() {
    let o = parse(&format!(
        "{BASE}group_by: [site, tags]\ngroup_names_raw: true\nplurals: false\nconfig_context: true\n\
         flatten_config_context: true\nflatten_custom_fields: true\noob_ip_as_primary_ip: true\n\
         compose:\n  ansible_network_os: platform.slug\n  where: site.name ~ '-' ~ serial\n  broken: rack.name\n"
    ))
    .unwrap();
    let b = build(&o, &[device()]);
    let v = &b.hosts["ams-core-1"];
    assert_eq!(v["site"], "ams");
    assert_eq!(v["ansible_port"], 2222);
    assert_eq!(v["owner"], "team-a");
    assert_eq!(v["ansible_host"], "192.0.2.1");
    assert_eq!(v["ansible_network_os"], "cisco-ios");
    assert_eq!(v["platform"], "cisco_ios");
    assert_eq!(v["where"], "AMS-SN1");
    // A failing expression is skipped, as Ansible's constructed does without strict.
    assert!(!v.contains_key("broken"));
    let mut groups: Vec<&String> = b.groups.keys().collect();
    groups.sort();
    assert_eq!(groups, ["ams", "golden", "pci"]);
    let strict = parse(&format!(
        "{BASE}strict: true\ncompose:\n  broken: rack.name\n"
    ))
    .unwrap();
    let templates = crate::jinja::Templates::new(Vec::new());
    let compose = Compose::new(&templates, &strict).unwrap();
    let mut out = Built::default();
    let e = map_host(
        &strict,
        &Lookups::default(),
        &compose,
        &device(),
        false,
        &mut out,
    );
    assert!(e.is_err());
}

#[test]
fn virtual_chassis_unnamed_and_duplicate_devices() {
    let o = parse(&format!("{BASE}virtual_chassis_name: true\n")).unwrap();
    let mut master = device();
    master["virtual_chassis"] = json!({"id": 1, "name": "stack-1", "master": {"id": 7}});
    let mut member = device();
    member["id"] = json!(8);
    member["name"] = json!("ams-core-2");
    member["virtual_chassis"] = master["virtual_chassis"].clone();
    let mut unnamed = device();
    unnamed["name"] = Value::Null;
    let mut spaced = device();
    spaced["name"] = json!("Core Switch");
    let b = build(&o, &[master, member, unnamed, spaced, device(), device()]);
    assert_eq!(
        b.hosts.keys().collect::<Vec<_>>(),
        ["stack-1", "ams-core-1"]
    );
    assert_eq!(b.warnings.len(), 3, "{:?}", b.warnings);
}

#[test]
fn fields_include_what_compose_reads() {
    let o = parse(&format!(
        "{BASE}config_context: true\ncompose:\n  a: last_updated | default('x')\n  b: \"rack.name if rack else 'none'\"\n"
    ))
    .unwrap();
    let f = o.fields(false);
    for want in [
        "config_context",
        "last_updated",
        "rack",
        "primary_ip",
        "platform",
    ] {
        assert!(f.split(',').any(|x| x == want), "{want} in {f}");
    }
    assert!(!f.split(',').any(|x| x == "default" || x == "x"), "{f}");
    assert_eq!(expr_roots("a.b | lower and c['x']"), ["a", "c"]);
}

#[test]
fn cache_path_never_holds_the_token_and_depends_on_filters() {
    let a = parse(&format!("{BASE}cache: true\ncache_connection: /tmp/nbc\n")).unwrap();
    let b = parse(&format!(
        "{BASE}cache: true\ncache_connection: /tmp/nbc\nquery_filters:\n  - site: ams\n"
    ))
    .unwrap();
    let (pa, pb) = (a.cache_path().unwrap(), b.cache_path().unwrap());
    assert_ne!(pa, pb);
    assert!(pa.starts_with("/tmp/nbc"));
    assert!(!pa.to_string_lossy().contains("tok3n"));
    let c = parse(&BASE.replace("tok3n", "other")).unwrap();
    let a2 = parse(BASE).unwrap();
    assert_eq!(c.cache_path(), a2.cache_path());
}

#[test]
fn insecure_transports_are_warned_about() {
    let remote = parse(BASE).unwrap();
    assert!(transport_warning(&remote).unwrap().contains("plain HTTP"));
    let local = parse(&BASE.replace("nb.example:8000", "127.0.0.1:8000")).unwrap();
    assert_eq!(transport_warning(&local), None);
    let tls = parse(&BASE.replace("http://", "https://")).unwrap();
    assert_eq!(transport_warning(&tls), None);
    let unverified = parse(&format!(
        "{}validate_certs: false\n",
        BASE.replace("http://", "https://")
    ))
    .unwrap();
    assert!(transport_warning(&unverified)
        .unwrap()
        .contains("validate_certs: false"));
}
