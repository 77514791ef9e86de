//! The filters, tests and lookups of Ansible that network playbooks use, each under its
//! short name and its fully qualified one (`ansible.builtin.combine`,
//! `ansible.utils.ipaddr`, `ansible.netcommon.*`), with Ansible's behaviour.

mod collections;
mod data;
mod lookups;
mod mac;
mod net;
mod text;
mod vlan;

use minijinja::functions::Function;
use minijinja::value::{FunctionArgs, FunctionResult, Kwargs, Rest, Value};
use minijinja::{Environment, Error, ErrorKind};

pub use lookups::PIPE_ENV;

pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Registers `f` as a filter under `name` and `ns.name` for each namespace.
fn filter<F, Rv, Args>(env: &mut Environment<'static>, ns: &[&str], name: &'static str, f: F)
where
    F: Function<Rv, Args> + Clone,
    Rv: FunctionResult,
    Args: for<'a> FunctionArgs<'a>,
{
    for n in ns {
        env.add_filter(format!("{n}.{name}"), f.clone());
    }
    env.add_filter(name, f);
}

fn test<F, Rv, Args>(env: &mut Environment<'static>, name: &'static str, f: F)
where
    F: Function<Rv, Args> + Clone,
    Rv: FunctionResult,
    Args: for<'a> FunctionArgs<'a>,
{
    env.add_test(format!("ansible.builtin.{name}"), f.clone());
    env.add_test(name, f);
}

const B: &[&str] = &["ansible.builtin"];
const U: &[&str] = &["ansible.utils", "ansible.netcommon"];

pub fn register(env: &mut Environment<'static>) {
    use collections as c;
    use data as d;
    use net as n;
    use text as t;
    // Filters Jinja has that Ansible also lists under ansible.builtin.
    filter(env, B, "combine", c::combine);
    filter(env, B, "dict2items", c::dict2items);
    filter(env, B, "items2dict", c::items2dict);
    filter(env, B, "ternary", c::ternary);
    filter(env, B, "bool", c::to_bool);
    filter(env, B, "mandatory", c::mandatory);
    filter(env, B, "unique", c::unique);
    filter(env, B, "union", c::union);
    filter(env, B, "intersect", c::intersect);
    filter(env, B, "difference", c::difference);
    filter(env, B, "symmetric_difference", c::symmetric_difference);
    filter(env, B, "flatten", c::flatten);
    filter(env, B, "zip", c::zip);
    filter(env, B, "zip_longest", c::zip_longest);
    filter(env, B, "subelements", c::subelements);
    filter(env, B, "product", c::product);
    filter(env, B, "regex_replace", t::regex_replace);
    filter(env, B, "regex_search", t::regex_search);
    filter(env, B, "regex_findall", t::regex_findall);
    filter(env, B, "regex_escape", t::regex_escape);
    filter(env, B, "b64encode", t::b64encode);
    filter(env, B, "b64decode", t::b64decode);
    filter(env, B, "hash", t::hash);
    filter(env, B, "checksum", t::checksum);
    filter(env, B, "basename", t::basename);
    filter(env, B, "dirname", t::dirname);
    filter(env, B, "splitext", t::splitext);
    filter(env, B, "path_join", t::path_join);
    filter(env, B, "quote", t::quote);
    filter(env, B, "center", t::center);
    filter(env, B, "comment", t::comment);
    filter(env, B, "to_json", d::to_json);
    filter(env, B, "to_nice_json", d::to_nice_json);
    filter(env, B, "from_json", d::from_json);
    filter(env, B, "to_yaml", d::to_yaml);
    filter(env, B, "to_nice_yaml", d::to_nice_yaml);
    filter(env, B, "from_yaml", d::from_yaml);
    filter(env, B, "type_debug", d::type_debug);
    filter(env, B, "round", d::round);
    filter(env, &["community.general"], "json_query", d::json_query);
    filter(env, B, "string", |v: Value| {
        crate::jinja::python::to_str(&v)
    });
    // The ipaddr family (ansible.utils; older playbooks call them ansible.netcommon.*).
    filter(env, U, "ipaddr", n::ipaddr);
    filter(env, U, "ipv4", n::ipv4);
    filter(env, U, "ipv6", n::ipv6);
    filter(env, U, "ipwrap", n::ipwrap);
    filter(env, U, "ipmath", n::ipmath);
    filter(env, U, "ipsubnet", n::ipsubnet);
    filter(env, U, "nthhost", n::nthhost);
    filter(env, U, "network_in_network", n::network_in_network);
    filter(env, U, "network_in_usable", n::network_in_usable);
    filter(env, U, "cidr_merge", n::cidr_merge);
    filter(
        env,
        &["ansible.netcommon"],
        "vlan_parser",
        vlan::vlan_parser,
    );
    filter(
        env,
        &["ansible.netcommon"],
        "vlan_expander",
        vlan::vlan_expander,
    );
    filter(env, U, "hwaddr", mac::hwaddr);
    filter(env, U, "macaddr", mac::hwaddr);

    test(env, "match", |v: &Value, p: String, k: Kwargs| {
        t::regex_test(v, &p, &k, Some(true))
    });
    test(env, "search", |v: &Value, p: String, k: Kwargs| {
        t::regex_test(v, &p, &k, Some(false))
    });
    test(env, "regex", |v: &Value, p: String, k: Kwargs| {
        t::regex_test(v, &p, &k, None)
    });
    test(env, "version", version_test);
    test(env, "version_compare", version_test);
    test(env, "subset", |a: Value, b: Value| contains_all(&b, &a));
    test(env, "superset", |a: Value, b: Value| contains_all(&a, &b));
    test(
        env,
        "contains",
        |a: Value, b: Value| -> Result<bool, Error> { Ok(a.try_iter()?.any(|x| x == b)) },
    );
    test(env, "truthy", |v: Value| v.is_true());
    test(env, "falsy", |v: Value| !v.is_true());
    test(env, "failed", |v: Value| result_flag(&v, "failed"));
    test(env, "changed", |v: Value| result_flag(&v, "changed"));
    test(env, "skipped", |v: Value| result_flag(&v, "skipped"));
    test(env, "succeeded", |v: Value| !result_flag(&v, "failed"));
    test(env, "success", |v: Value| !result_flag(&v, "failed"));
    test(env, "any", |v: Value| -> Result<bool, Error> {
        Ok(v.try_iter()?.any(|x| x.is_true()))
    });
    test(env, "all", |v: Value| -> Result<bool, Error> {
        Ok(v.try_iter()?.all(|x| x.is_true()))
    });

    env.add_function("env", lookups::env_var);
    env.add_function("lookup", lookups::lookup);
    env.add_function("query", lookups::query);
    env.add_function("q", lookups::query);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
}

fn result_flag(v: &Value, key: &str) -> bool {
    v.get_attr(key).is_ok_and(|x| x.is_true())
}

fn contains_all(outer: &Value, inner: &Value) -> Result<bool, Error> {
    let o: Vec<Value> = outer.try_iter()?.collect();
    Ok(inner.try_iter()?.all(|x| o.contains(&x)))
}

/// Ansible's `version` test: `ansible_net_version is version('15.2', '>=')`, with
/// `strict` (X.Y.Z numbers only) and `semver` checked for their shape, and the loose
/// comparison otherwise (numbers compare as numbers, words as text).
fn version_test(
    value: Value,
    other: Value,
    op: Option<String>,
    rest: Rest<Value>,
    kwargs: Kwargs,
) -> Result<bool, Error> {
    let op = match kwargs.get::<Option<String>>("operator")? {
        Some(o) => o,
        None => op.unwrap_or_else(|| "eq".into()),
    };
    let strict = kwargs.get::<Option<bool>>("strict")?.unwrap_or(false)
        || rest.first().is_some_and(|v| v.is_true());
    let vtype = kwargs
        .get::<Option<String>>("version_type")?
        .unwrap_or_else(|| {
            if strict {
                "strict".into()
            } else {
                "loose".into()
            }
        });
    kwargs.assert_all_used()?;
    let (a, b) = (value.to_string(), other.to_string());
    match vtype.as_str() {
        "strict" => {
            let shape = |s: &str| {
                let re = regex::Regex::new(r"^\d+\.\d+(\.\d+)?([ab]\d+)?$").ok();
                re.is_some_and(|r| r.is_match(s))
            };
            for s in [&a, &b] {
                if !shape(s) {
                    return Err(invalid(format!(
                        "Version comparison failed: invalid version number '{s}'"
                    )));
                }
            }
        }
        "semver" | "semantic" => {
            let shape = |s: &str| {
                let re =
                    regex::Regex::new(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$").ok();
                re.is_some_and(|r| r.is_match(s))
            };
            for s in [&a, &b] {
                if !shape(s) {
                    return Err(invalid(format!(
                        "Version comparison failed: invalid semantic version '{s}'"
                    )));
                }
            }
        }
        "loose" | "pep440" => {}
        other => {
            return Err(invalid(format!(
            "version: version_type `{other}` is not one of loose, strict, semver, semantic, pep440"
        )))
        }
    }
    let ord = loose_cmp(&a, &b);
    use std::cmp::Ordering::*;
    Ok(match op.as_str() {
        "==" | "=" | "eq" => ord == Equal,
        "!=" | "<>" | "ne" => ord != Equal,
        "<" | "lt" => ord == Less,
        "<=" | "le" => ord != Greater,
        ">" | "gt" => ord == Greater,
        ">=" | "ge" => ord != Less,
        other => {
            return Err(invalid(format!(
                "version: invalid operator `{other}` (==, !=, <, <=, >, >=, eq, ne, lt, le, gt, ge)"
            )))
        }
    })
}

/// Python's LooseVersion: the version split into numbers and words, compared in order.
fn loose_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Part {
        Num(u128),
        Word(String),
    }
    fn parts(s: &str) -> Vec<Part> {
        let re = regex::Regex::new(r"\d+|[a-zA-Z]+").ok();
        re.map(|r| {
            r.find_iter(s)
                .map(|m| match m.as_str().parse::<u128>() {
                    Ok(n) => Part::Num(n),
                    Err(_) => Part::Word(m.as_str().to_string()),
                })
                .collect()
        })
        .unwrap_or_default()
    }
    parts(a).cmp(&parts(b))
}

/// Filters Ansible (ansible.builtin, ansible.utils, ansible.netcommon) has that netorch
/// does not have yet: an unknown filter of this list says so instead of only "unknown".
pub const ANSIBLE_ONLY: &[&str] = &[
    // Jinja's own, which Ansible has and minijinja does not.
    "wordwrap",
    "truncate",
    "striptags",
    "xmlattr",
    "filesizeformat",
    "urlize",
    "forceescape",
    "to_datetime",
    "strftime",
    "random",
    "shuffle",
    "password_hash",
    "vault",
    "unvault",
    "urlsplit",
    "human_readable",
    "human_to_bytes",
    "extract",
    "random_mac",
    "realpath",
    "relpath",
    "expanduser",
    "expandvars",
    "win_basename",
    "win_dirname",
    "win_splitdrive",
    "commonpath",
    "normpath",
    "to_uuid",
    "from_yaml_all",
    "from_xml",
    "to_xml",
    "keep_keys",
    "remove_keys",
    "replace_keys",
    "to_paths",
    "get_path",
    "index_of",
    "consolidate",
    "param_list_compare",
    "validate",
    "usable_range",
    "next_nth_usable",
    "previous_nth_usable",
    "reduce_on_network",
    "slaac",
    "ip4_hex",
    "ipcut",
    "ipv6form",
    "fact_diff",
    "parse_cli",
    "parse_cli_textfsm",
    "parse_xml",
    "type5_pw",
    "hash_salt",
    "comp_type5",
    "pop_ace",
];

/// The message for a filter the engine does not have.
pub fn unknown_filter(name: &str) -> String {
    let short = name.rsplit('.').next().unwrap_or(name);
    if ANSIBLE_ONLY.contains(&short) {
        format!("unknown filter `{name}`: Ansible has `{name}`; netorch does not have it yet")
    } else {
        format!("unknown filter `{name}`")
    }
}
