//! The variables a task sees on a host: inventory vars (already merged by precedence), play
//! vars, extra vars, and Ansible's magic names (`inventory_hostname`, `group_names`), with
//! templated values (`password: "{{ env('PW') }}"`) rendered in the host's context.

use serde_json::Value;

use crate::jinja::Templates;
use crate::value::Vars;
use crate::Error;

/// A play's `connection:` keyword, under the host's own `connection` or
/// `ansible_connection` (Ansible's precedence: the host's variable wins).
pub fn add_play_connection(ctx: &mut Vars, play_connection: Option<&str>) {
    if let Some(c) = play_connection {
        if !ctx.contains_key("connection") && !ctx.contains_key("ansible_connection") {
            ctx.insert("ansible_connection".into(), c.into());
        }
    }
}

/// A host's context before rendering: `inventory` vars < `play` vars < `extra` vars (extra
/// vars always win, as in Ansible), plus the magic names.
pub fn host_context(
    name: &str,
    groups: &[String],
    inventory: &Vars,
    play: &Vars,
    extra: &Vars,
) -> Vars {
    let mut ctx = Vars::with_capacity(inventory.len() + play.len() + extra.len() + 3);
    for (k, v) in inventory.iter().chain(play.iter()).chain(extra.iter()) {
        ctx.insert(k.clone(), v.clone());
    }
    // The platform is decided once, here, whichever variable named it, so templates, the
    // connection and the transfer protocol choice all see the same one.
    if !ctx.contains_key("platform") {
        let platform = crate::inventory::resolve_platform(&ctx);
        ctx.insert("platform".into(), Value::from(platform));
    }
    // Templates written for Ansible ask for `ansible_host`, netorch's for `host`: whichever
    // the inventory set, both name the value the connection uses (netorch's name first, as
    // the transport reads them). Passwords are left alone: a secret gets no second name.
    for &(own, ansible) in CONNECTION_ALIASES {
        let value = [own, ansible]
            .iter()
            .filter_map(|n| ctx.get(*n))
            .find(|v| !v.is_null())
            .cloned();
        if let Some(v) = value {
            for n in [own, ansible] {
                if ctx.get(n).is_none_or(Value::is_null) {
                    ctx.insert(n.into(), v.clone());
                }
            }
        }
    }
    if ctx.get("ansible_host").is_none_or(Value::is_null) {
        ctx.insert("ansible_host".into(), Value::from(name));
    }
    if ctx.get("ansible_network_os").is_none_or(Value::is_null) {
        let platform = ctx
            .get("platform")
            .and_then(Value::as_str)
            .unwrap_or_default();
        ctx.insert(
            "ansible_network_os".into(),
            Value::from(network_os_of(platform)),
        );
    }
    ctx.insert("inventory_hostname".into(), Value::from(name));
    let short = name.split('.').next().unwrap_or(name);
    ctx.insert("inventory_hostname_short".into(), Value::from(short));
    let group_names: Vec<Value> = groups
        .iter()
        .filter(|g| g.as_str() != "all" && g.as_str() != "ungrouped")
        .map(|g| Value::from(g.as_str()))
        .collect();
    ctx.insert("group_names".into(), Value::Array(group_names));
    ctx
}

/// netorch's connection variables and Ansible's names for them (see transport/settings.rs).
const CONNECTION_ALIASES: &[(&str, &str)] = &[
    ("host", "ansible_host"),
    ("port", "ansible_port"),
    ("user", "ansible_user"),
];

/// Ansible's `ansible_network_os` for a netorch platform: the collection's name where Ansible
/// has one, else the platform itself (a user profile, `linux`).
fn network_os_of(platform: &str) -> String {
    let fqcn = match platform {
        "cisco_ios" => "cisco.ios.ios",
        "cisco_nxos" => "cisco.nxos.nxos",
        "cisco_iosxr" => "cisco.iosxr.iosxr",
        "cisco_asa" => "cisco.asa.asa",
        "arista_eos" => "arista.eos.eos",
        "juniper_junos" => "junipernetworks.junos.junos",
        "vyos" => "vyos.vyos.vyos",
        other => other,
    };
    fqcn.to_string()
}

/// Variables whose templated value could not be rendered, with the reason. They are left
/// out of the resolved context, so a use of one fails as undefined, and the caller can add
/// this reason to that error.
pub type Unresolved = Vec<(String, Error)>;

/// Render every templated variable in `ctx` exactly once, each after the variables it
/// refers to (`a: "{{ b }}"` sees `b`'s rendered value, as Ansible's lazy templating does).
///
/// What a render produces is data: a value read from the environment or a file, or the
/// rendered value of another variable, is never rendered again, so text such as
/// `{{ lookup('file', '/etc/shadow') }}` inside an environment variable stays that text.
/// The magic names (`inventory_hostname`, ...) and a connection address that is the host's
/// name are data too: a host name is never a template.
pub fn resolve_vars(templates: &Templates, ctx: &Vars) -> (Vars, Unresolved) {
    let mut current = ctx.clone();
    let mut failed: Unresolved = Vec::new();
    // An inline !vault value no password opened: unusable, like a failed render, so only a
    // use of it fails (Ansible decrypts inline values lazily).
    for (key, v) in ctx {
        if crate::vault::find_marker(v).is_none() {
            continue;
        }
        let mut opened = v.clone();
        match crate::vault::open_markers(&mut opened) {
            Ok(()) => {
                current.insert(key.clone(), opened);
            }
            Err(why) => {
                current.shift_remove(key);
                failed.push((
                    key.clone(),
                    Error::Template {
                        context: format!("variable `{key}`"),
                        message: why,
                    },
                ));
            }
        }
    }
    let host = ctx.get("inventory_hostname").and_then(Value::as_str);
    let mut pending: Vec<(String, Vec<String>)> = ctx
        .iter()
        .filter(|(k, v)| {
            let is_name = host.is_some() && v.as_str() == host;
            !MAGIC_NAMES.contains(&k.as_str()) && !is_name && contains_template(v)
        })
        .map(|(k, v)| {
            let mut refs = Vec::new();
            referenced_names(v, &mut refs);
            (k.clone(), refs)
        })
        .collect();
    loop {
        let waiting: Vec<String> = pending.iter().map(|(k, _)| k.clone()).collect();
        let ready = pending.iter().position(|(key, refs)| {
            !refs
                .iter()
                .any(|r| r == key || waiting.iter().any(|w| w == r))
        });
        let Some(i) = ready else { break };
        let (key, refs) = pending.remove(i);
        let Some(raw) = current.get(&key).cloned() else {
            continue;
        };
        if let Some((bad, _)) = failed.iter().find(|(f, _)| refs.contains(f)) {
            let e = Error::Template {
                context: format!("variable `{key}`"),
                message: format!("undefined variable `{bad}` (it could not be rendered)"),
            };
            current.shift_remove(&key);
            failed.push((key, e));
            continue;
        }
        match render_value(templates, &raw, &current, &key) {
            Ok(v) => {
                current.insert(key, v);
            }
            Err(e) => {
                // Left out, so a use of it fails as undefined and names this reason.
                current.shift_remove(&key);
                failed.push((key, e));
            }
        }
    }
    // What is left refers to itself, directly or through others.
    for (key, _) in pending {
        current.shift_remove(&key);
        failed.push((
            key.clone(),
            Error::Template {
                context: format!("variable `{key}`"),
                message: "its value refers back to itself (a loop of variables)".into(),
            },
        ));
    }
    (current, failed)
}

/// Set by netorch from the inventory, never rendered.
const MAGIC_NAMES: &[&str] = &[
    "inventory_hostname",
    "inventory_hostname_short",
    "group_names",
];

/// The top-level variable names the templates in `v` refer to.
fn referenced_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains("{{") || s.contains("{%") => {
            let env = minijinja::Environment::new();
            if let Ok(t) = env.template_from_str(s) {
                for n in t.undeclared_variables(false) {
                    if !out.contains(&n) {
                        out.push(n);
                    }
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| referenced_names(x, out)),
        Value::Object(o) => o.values().for_each(|x| referenced_names(x, out)),
        _ => {}
    }
}

fn contains_template(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{{") || s.contains("{%"),
        Value::Array(a) => a.iter().any(contains_template),
        Value::Object(o) => o.values().any(contains_template),
        _ => false,
    }
}

fn render_value(templates: &Templates, v: &Value, ctx: &Vars, key: &str) -> Result<Value, Error> {
    match v {
        Value::String(s) if s.contains("{{") || s.contains("{%") => {
            let what = format!("variable `{key}`");
            // A value that is exactly one expression keeps its type (a list stays a list).
            let trimmed = s.trim();
            if crate::jinja::is_single_expression(trimmed) {
                return templates.eval(trimmed, ctx, &what);
            }
            templates.render_str(s, ctx, &what).map(Value::String)
        }
        Value::Array(a) => a
            .iter()
            .map(|x| render_value(templates, x, ctx, key))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(o) => {
            let mut out = serde_json::Map::with_capacity(o.len());
            for (k, x) in o {
                out.insert(k.clone(), render_value(templates, x, ctx, key)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Vars {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn precedence_and_magic_names() {
        let ctx = host_context(
            "core-ams-1.example.net",
            &["all".into(), "core".into()],
            &vars(json!({"a": "inv", "b": "inv", "c": "inv"})),
            &vars(json!({"b": "play", "c": "play"})),
            &vars(json!({"c": "extra"})),
        );
        assert_eq!(ctx["a"], "inv");
        assert_eq!(ctx["b"], "play");
        assert_eq!(ctx["c"], "extra");
        assert_eq!(ctx["inventory_hostname_short"], "core-ams-1");
        assert_eq!(ctx["group_names"], json!(["core"]));
    }

    #[test]
    fn connection_variables_answer_to_both_names() {
        let ctx = host_context(
            "r1",
            &[],
            &vars(json!({"ansible_host": "10.0.0.1", "port": 2222, "ansible_network_os": "eos"})),
            &Vars::new(),
            &vars(json!({"user": "from_extra"})),
        );
        assert_eq!(ctx["host"], "10.0.0.1");
        assert_eq!(ctx["ansible_port"], 2222);
        assert_eq!(ctx["ansible_user"], "from_extra");
        assert_eq!(ctx["platform"], "arista_eos");
        assert_eq!(ctx["ansible_network_os"], "eos");
        let ctx = host_context(
            "r2",
            &[],
            &vars(json!({"platform": "cisco_ios"})),
            &Vars::new(),
            &Vars::new(),
        );
        assert_eq!(ctx["ansible_host"], "r2");
        assert_eq!(ctx["ansible_network_os"], "cisco.ios.ios");
        assert!(!ctx.contains_key("host") && !ctx.contains_key("ansible_password"));
    }

    #[test]
    fn chains_types_and_failures() {
        let t = Templates::new(vec![]);
        let ctx = vars(json!({
            "site": "ams",
            "fqdn": "{{ name }}.{{ site }}.example.net",
            "name": "{{ inventory_hostname }}",
            "inventory_hostname": "core1",
            "servers": "{{ base_servers }}",
            "base_servers": ["10.0.0.1", "10.0.0.2"],
            "pw": "{{ env('NETORCH_SURELY_UNSET_PW') }}",
            "x": "{{ y }}",
            "y": "{{ x }}",
        }));
        let (out, failed) = resolve_vars(&t, &ctx);
        assert_eq!(out["fqdn"], "core1.ams.example.net");
        assert_eq!(out["servers"], json!(["10.0.0.1", "10.0.0.2"]));
        assert!(!out.contains_key("pw"));
        let names: Vec<&str> = failed.iter().map(|(k, _)| k.as_str()).collect();
        assert!(names.contains(&"pw"), "{names:?}");
        assert!(failed
            .iter()
            .any(|(k, e)| k == "pw" && e.to_string().contains("NETORCH_SURELY_UNSET_PW")));
        assert!(names.contains(&"x") && names.contains(&"y"), "{names:?}");
    }

    #[test]
    fn rendered_once_results_are_data() {
        let dir = tempfile::tempdir().unwrap();
        let canary = dir.path().join("canary");
        std::fs::write(&canary, "CANARY-CONTENT").unwrap();
        let smuggled = format!("{{{{ lookup('file', '{}') }}}}", canary.display());
        let file = dir.path().join("note");
        std::fs::write(&file, &smuggled).unwrap();
        let t = Templates::new(vec![]);
        let ctx = vars(json!({
            "inventory_hostname": "{{ 7 * 6 }}",
            "inventory_hostname_short": "{{ 7 * 6 }}",
            "ansible_host": "{{ 7 * 6 }}",
            "from_file": format!("{{{{ lookup('file', '{}') }}}}", file.display()),
            "chain": "{{ from_file }}",
            "a": "{{ b }}-a",
            "b": "{{ c }}-b",
            "c": "{{ 1 + 1 }}",
            "bad": "{{ env('NETORCH_SURELY_UNSET_SEAL') }}",
            "uses_bad": "{{ bad }}",
        }));
        let (out, failed) = resolve_vars(&t, &ctx);
        assert_eq!(out["from_file"], smuggled.as_str());
        assert_eq!(out["chain"], smuggled.as_str());
        assert_eq!(out["inventory_hostname"], "{{ 7 * 6 }}");
        assert_eq!(out["ansible_host"], "{{ 7 * 6 }}");
        assert_eq!(out["a"], "2-b-a");
        let names: Vec<&str> = failed.iter().map(|(k, _)| k.as_str()).collect();
        assert!(
            names.contains(&"bad") && names.contains(&"uses_bad"),
            "{names:?}"
        );
        let why = failed
            .iter()
            .find(|(k, _)| k == "uses_bad")
            .unwrap()
            .1
            .to_string();
        assert!(why.contains("`bad`"), "{why}");
    }
}
