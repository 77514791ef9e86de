//! netorch's messages for minijinja errors: the template, the line, the undefined
//! variable by name, and the variable whose value brought a line break into a one-line field.

use minijinja::{Environment, ErrorKind};

use super::{unknown_mark, LINE_BREAK, TEMPLATE_FUEL};
use crate::value::Vars;
use crate::Error;

/// Build an [`Error::Template`] whose message says what a user must fix: the template,
/// the line, and for undefined values the variable's name.
pub(super) fn template_error(what: &str, e: &minijinja::Error, vars: &Vars) -> Error {
    template_error_src(what, e, vars, None)
}

/// [`template_error`] for an expression, whose source minijinja does not keep.
pub(super) fn expr_error(what: &str, e: &minijinja::Error, vars: &Vars, expr: &str) -> Error {
    template_error_src(what, e, vars, Some(expr))
}

pub(super) fn template_error_src(
    what: &str,
    e: &minijinja::Error,
    vars: &Vars,
    src: Option<&str>,
) -> Error {
    let name = e.name().unwrap_or(what);
    // An inline string is named by `what`, which the error's context already shows; an
    // expression has no lines to speak of.
    let inline = name == what || name == "<expression>" || name == "<string>";
    let one_line = e.template_source().is_some_and(|t| !t.contains('\n'));
    let place = match (e.line(), inline) {
        (_, true) if src.is_some() || one_line => String::new(),
        (Some(line), true) => format!("line {line}"),
        (Some(line), false) => format!("{name} line {line}"),
        (None, _) => name.to_string(),
    };
    let message = match e.kind() {
        ErrorKind::UndefinedError => {
            let missing = match src {
                Some(expr) => undefined_in_expr(expr, vars),
                None => e
                    .template_source()
                    .map(|t| undefined_names(t, vars))
                    .unwrap_or_default(),
            };
            let body = if missing.is_empty() {
                "undefined variable or attribute".to_string()
            } else {
                format!(
                    "undefined variable {}",
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            placed(&place, &body)
        }
        ErrorKind::TemplateNotFound => format!("template `{name}` not found"),
        // minijinja says "filter X is unknown"; netorch names it, and says when Ansible
        // has it.
        ErrorKind::UnknownFilter => {
            let detail = e.detail().unwrap_or("");
            let filter = detail
                .strip_prefix("filter ")
                .and_then(|d| d.strip_suffix(" is unknown"))
                .unwrap_or(detail);
            placed(&place, &super::filters::unknown_filter(filter))
        }
        ErrorKind::UnknownTest => {
            let detail = e.detail().unwrap_or("");
            let test = detail
                .strip_prefix("test ")
                .and_then(|d| d.strip_suffix(" is unknown"))
                .unwrap_or(detail);
            placed(&place, &format!("unknown test `{test}`"))
        }
        ErrorKind::OutOfFuel => placed(
            &place,
            &format!(
                "stopped after {TEMPLATE_FUEL} steps; netorch bounds the work of one render \
                 (loops nested too deep or over too much?)"
            ),
        ),
        _ => {
            let detail = e.detail().unwrap_or("");
            let body = format!("{} {detail}", e.kind()).trim_end().to_string();
            placed(&place, &body)
        }
    };
    Error::Template {
        context: what.to_string(),
        message,
    }
}

pub(super) fn placed(place: &str, body: &str) -> String {
    if place.is_empty() {
        body.to_string()
    } else {
        format!("{place}: {body}")
    }
}

pub(super) fn is_line_break(e: &minijinja::Error) -> bool {
    e.kind() == ErrorKind::InvalidOperation && e.detail() == Some(LINE_BREAK)
}

/// The error for a one-line field whose rendered value holds a line break: the variables
/// of `source` that hold one are named, their values are not (they may be secrets).
pub(super) fn line_break_error(
    what: &str,
    e: &minijinja::Error,
    source: &str,
    vars: &Vars,
) -> Error {
    // In a template file, the line the expression is on.
    let source = match e.line() {
        Some(n) if source.lines().nth(1).is_some() => source
            .lines()
            .nth(n.saturating_sub(1))
            .unwrap_or(source)
            .trim(),
        _ => source,
    };
    let place = match (e.name(), e.line()) {
        (Some(name), Some(line)) if name != what && name != "<string>" => {
            format!("{name} line {line}: ")
        }
        _ => String::new(),
    };
    let env = Environment::new();
    let mut names: Vec<String> = env
        .template_from_str(source)
        .map(|t| t.undeclared_variables(true))
        .unwrap_or_default()
        .into_iter()
        .filter(|n| lookup_path(n, vars).is_some_and(holds_line_break))
        .collect();
    names.sort();
    let culprit = match names.as_slice() {
        [] => "an expression in it produces a line break".to_string(),
        [one] => format!("the value of `{one}` holds a line break"),
        many => format!(
            "the values of {} hold line breaks",
            many.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Error::Template {
        context: what.to_string(),
        message: format!(
            "{place}`{source}`: {culprit}; a {what} is one line, and a line break would make the \
             device run a second command, so it is refused"
        ),
    }
}

pub(super) fn lookup_path<'a>(path: &str, vars: &'a Vars) -> Option<&'a serde_json::Value> {
    let mut parts = path.split('.');
    let mut cur = vars.get(parts.next()?)?;
    for p in parts {
        cur = cur.get(p)?;
    }
    Some(cur)
}

pub(super) fn holds_line_break(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains(['\r', '\n']),
        serde_json::Value::Array(a) => a.iter().any(holds_line_break),
        serde_json::Value::Object(o) => o.values().any(holds_line_break),
        _ => false,
    }
}

/// Names referenced by `src` that the context does not define (dotted paths checked too).
pub(super) fn undefined_names(src: &str, vars: &Vars) -> Vec<String> {
    let env = Environment::new();
    let names = match env.template_from_str(src) {
        Ok(t) => t.undeclared_variables(true),
        Err(_) => match env.compile_expression(src) {
            Ok(e) => e.undeclared_variables(true),
            Err(_) => return Vec::new(),
        },
    };
    missing_of(names, vars)
}

pub(super) fn undefined_in_expr(expr: &str, vars: &Vars) -> Vec<String> {
    let env = Environment::new();
    let Ok(compiled) = env.compile_expression(expr) else {
        return Vec::new();
    };
    missing_of(compiled.undeclared_variables(true), vars)
}

/// Of the names a template or expression uses, the undefined ones (their shortest
/// undefined prefix), sorted.
fn missing_of(names: impl IntoIterator<Item = String>, vars: &Vars) -> Vec<String> {
    let mut missing: Vec<String> = names
        .into_iter()
        .filter(|n| !is_builtin_name(n))
        .filter_map(|n| first_undefined(&n, vars))
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

pub(super) fn is_builtin_name(n: &str) -> bool {
    let head = n.split('.').next().unwrap_or(n);
    matches!(
        head,
        "env"
            | "lookup"
            | "query"
            | "q"
            | "range"
            | "dict"
            | "namespace"
            | "loop"
            | "true"
            | "false"
            | "none"
            // The play's magic globals (executor/magic.rs): never undefined themselves.
            | "hostvars"
            | "groups"
            | "ansible_play_hosts"
            | "ansible_play_hosts_all"
            | "ansible_play_batch"
            | "play_hosts"
    )
}

/// The shortest prefix of a dotted name that is undefined (`ver` when `ver` is missing,
/// `ver.stdout` when only the attribute is), or none when the whole path is defined.
pub(super) fn first_undefined(path: &str, vars: &Vars) -> Option<String> {
    let parts: Vec<&str> = path.split('.').collect();
    (1..=parts.len())
        .map(|i| parts[..i].join("."))
        .find(|prefix| !path_defined(prefix, vars))
}

pub(super) fn path_defined(path: &str, vars: &Vars) -> bool {
    let mut parts = path.split('.');
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut cur) = vars.get(first) else {
        return false;
    };
    let mark = unknown_mark();
    for p in parts {
        if *cur == mark {
            return true;
        }
        match cur.get(p) {
            Some(next) => cur = next,
            None => return false,
        }
    }
    true
}
