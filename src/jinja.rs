//! The minijinja environment for config templates and `{{ }}` expressions.
//!
//! One [`Templates`] per run: a loader over the template folders (the playbook's
//! `templates/`, then the project's), strict undefined (a missing variable is an error that
//! names the variable, the template and the line, never an empty string pushed to a device),
//! and the filters network engineers reach for: `ipaddr`, `nthhost`, `regex_replace`,
//! `regex_search`, `to_yaml`, `to_json`, `b64encode`/`b64decode`, plus `env("NAME")` and Ansible's
//! `lookup('env'|'file', ...)` for secrets kept outside the inventory.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Component, Path, PathBuf};

use ipnet::IpNet;
use minijinja::machinery::Instruction;
use minijinja::value::Value;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};

use crate::value::Vars;
use crate::Error;

/// The template engine of a run.
pub struct Templates {
    env: Environment<'static>,
    /// The same environment whose `{{ }}` output may not hold a line break: for text sent
    /// to a device or used as a path as one line ([`Templates::render_line`]).
    line_env: Environment<'static>,
    dirs: Vec<PathBuf>,
}

/// The error detail the one-line formatter gives; [`Templates::render_line`] turns it into
/// a message that names the variable.
const LINE_BREAK: &str = "an expression produced a line break";

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("dirs", &self.dirs)
            .finish()
    }
}

/// Steps (minijinja instructions) one render may take: a loop body of a few lines costs
/// tens of steps per item, so this leaves room for loops over 100,000 items, and stops
/// nested ones over `range(100000)` within seconds.
pub const TEMPLATE_FUEL: u64 = 10_000_000;

impl Templates {
    /// An engine that loads templates from `dirs`, first match wins.
    pub fn new(dirs: Vec<PathBuf>) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Config text must come out byte for byte as written; keep the trailing newline.
        env.set_keep_trailing_newline(true);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        // Bounds the work of one render: nested loops over range(100000) would otherwise
        // run for hours and fill memory with output.
        env.set_fuel(Some(TEMPLATE_FUEL));
        let loader_dirs = dirs.clone();
        env.set_loader(move |name| load_template(&loader_dirs, name));
        register_filters(&mut env);
        let mut line_env = env.clone();
        line_env.set_formatter(|out, state, value| {
            let text = match value.as_str() {
                Some(s) => std::borrow::Cow::Borrowed(s),
                None => std::borrow::Cow::Owned(value.to_string()),
            };
            if text.contains(['\r', '\n']) {
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    LINE_BREAK,
                ));
            }
            minijinja::escape_formatter(out, state, value)
        });
        Templates {
            env,
            line_env,
            dirs,
        }
    }

    /// The folders searched for templates, in order.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Where `name` would be loaded from, if it exists.
    pub fn resolve(&self, name: &str) -> Option<PathBuf> {
        let rel = safe_relative(name)?;
        self.dirs.iter().map(|d| d.join(&rel)).find(|p| p.is_file())
    }

    /// Render the template file `name` with `vars`.
    pub fn render_file(&self, name: &str, vars: &Vars) -> Result<String, Error> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| self.load_error(name, &e))?;
        tmpl.render(vars)
            .map_err(|e| template_error("template", &e, vars))
    }

    /// A template file that cannot be loaded: not found (where it was looked for), or
    /// not compiled (at which line).
    fn load_error(&self, name: &str, e: &minijinja::Error) -> Error {
        if e.kind() != ErrorKind::TemplateNotFound {
            return template_error("template", e, &Vars::new());
        }
        let looked: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        Error::Template {
            context: "template".into(),
            message: format!("`{name}` not found; looked in {}", looked.join(", ")),
        }
    }

    /// Render the template file `name` whose every line is sent to a device as a config
    /// line: a value that brings a line break with it is refused, as in
    /// [`Templates::render_line`]; the template's own lines and loops are kept.
    pub fn render_file_lines(&self, name: &str, vars: &Vars) -> Result<String, Error> {
        let what = format!("template {name}");
        let tmpl = self
            .line_env
            .get_template(name)
            .map_err(|e| template_error(&what, &e, vars))?;
        tmpl.render(vars).map_err(|e| {
            if is_line_break(&e) {
                line_break_error("config line", &e, tmpl.source(), vars)
            } else {
                template_error(&what, &e, vars)
            }
        })
    }

    /// Render a string (a templated value such as `dest: "{{ name }}.cfg"`). `what` names
    /// where the string came from for error messages.
    pub fn render_str(&self, source: &str, vars: &Vars, what: &str) -> Result<String, Error> {
        if !source.contains("{{") && !source.contains("{%") && !source.contains("{#") {
            return Ok(source.to_string());
        }
        self.env
            .render_named_str(what, source, vars)
            .map_err(|e| template_error(what, &e, vars))
    }

    /// Render a string that is sent or used as one line (a command, a config line, a path):
    /// like [`Templates::render_str`], but a value that brings a `\r` or `\n` with it is
    /// refused, naming the variable. Line breaks the author wrote in the source itself are
    /// kept: only text that came from a variable must not smuggle in a second command.
    pub fn render_line(&self, source: &str, vars: &Vars, what: &str) -> Result<String, Error> {
        self.render_lines_named(source, vars, what, what)
    }

    /// [`Templates::render_line`] for a text of several config lines named `name` (a `src:`
    /// file): each `{{ }}` must stay on its line.
    pub fn render_lines_named(
        &self,
        source: &str,
        vars: &Vars,
        name: &str,
        kind: &str,
    ) -> Result<String, Error> {
        if !source.contains("{{") && !source.contains("{%") && !source.contains("{#") {
            return Ok(source.to_string());
        }
        self.line_env
            .render_named_str(name, source, vars)
            .map_err(|e| {
                if is_line_break(&e) {
                    line_break_error(kind, &e, source, vars)
                } else {
                    template_error(name, &e, vars)
                }
            })
    }

    /// Evaluate an expression (`when:`, `assert: that:`) to a value.
    pub fn eval(&self, expr: &str, vars: &Vars, what: &str) -> Result<serde_json::Value, Error> {
        let expr = strip_braces(expr);
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| expr_error(what, &e, vars, expr))?;
        let value = compiled
            .eval(vars)
            .map_err(|e| expr_error(what, &e, vars, expr))?;
        // Strict undefined only fails when an undefined value is used; a value that *is*
        // one would become `null` and reach a device as `none`.
        if value.is_undefined() {
            let e = minijinja::Error::new(ErrorKind::UndefinedError, "undefined value");
            return Err(expr_error(what, &e, vars, expr));
        }
        serde_json::to_value(&value).map_err(|e| Error::Template {
            context: what.to_string(),
            message: format!("the result of `{expr}` cannot be used as data: {e}"),
        })
    }

    /// Evaluate an expression as a condition, with Jinja truthiness.
    pub fn eval_bool(&self, expr: &str, vars: &Vars, what: &str) -> Result<bool, Error> {
        let expr = strip_braces(expr);
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| expr_error(what, &e, vars, expr))?;
        let value = compiled
            .eval(vars)
            .map_err(|e| expr_error(what, &e, vars, expr))?;
        Ok(value.is_true())
    }
}

/// What a template uses, found without rendering it (for `netorch check`).
#[derive(Debug, Default, Clone)]
pub struct Inspection {
    /// Top-level variables it reads and does not set itself; the engine's functions
    /// (`range`, `lookup`...) are left out.
    pub names: BTreeSet<String>,
    /// Filters and tests it names that the engine does not have.
    pub unknown: Vec<String>,
    /// It includes, imports or extends another template, whose names `names` does not
    /// list.
    pub composed: bool,
}

impl Templates {
    /// Compile a templated string once (validation renders it for every host) and list
    /// what it uses: a syntax error, unknown filters and tests are found whatever the
    /// variables hold.
    /// `lines`: it renders one line (or config lines): a value may not bring a line break.
    pub fn compile<'e, 's>(
        &'e self,
        source: &'s str,
        what: &str,
        lines: bool,
    ) -> Result<(minijinja::Template<'e, 's>, Inspection), Error> {
        let env = if lines { &self.line_env } else { &self.env };
        let tmpl = env
            .template_from_str(source)
            .map_err(|e| template_error(what, &e, &Vars::new()))?;
        let insp = self.inspection(&tmpl, false);
        Ok((tmpl, insp))
    }

    /// [`Templates::compile`] for an expression (`when:`, `that:`).
    pub fn compile_expr<'e, 's>(
        &'e self,
        source: &'s str,
        what: &str,
    ) -> Result<(minijinja::Expression<'e, 's>, Inspection), Error> {
        let expr = strip_braces(source);
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| expr_error(what, &e, &Vars::new(), expr))?;
        // As the body of `{{ }}` the expression gives the same instructions, which only a
        // template exposes.
        let wrapped = format!("{{{{ {expr} }}}}");
        let insp = match self.env.template_from_str(&wrapped) {
            Ok(t) => self.inspection(&t, false),
            Err(e) => return Err(expr_error(what, &e, &Vars::new(), expr)),
        };
        Ok((compiled, insp))
    }

    /// [`Templates::compile`] for a template file (minijinja keeps it compiled).
    pub fn compile_file(
        &self,
        name: &str,
        lines: bool,
    ) -> Result<(minijinja::Template<'_, '_>, Inspection), Error> {
        let env = if lines { &self.line_env } else { &self.env };
        let tmpl = env
            .get_template(name)
            .map_err(|e| self.load_error(name, &e))?;
        let insp = self.inspection(&tmpl, true);
        Ok((tmpl, insp))
    }

    fn inspection(&self, tmpl: &minijinja::Template<'_, '_>, file: bool) -> Inspection {
        let globals: BTreeSet<&str> = self.env.globals().map(|(n, _)| n).collect();
        let names = tmpl
            .undeclared_variables(false)
            .into_iter()
            .filter(|n| !globals.contains(n.as_str()) && !is_builtin_name(n))
            .collect();
        let compiled = minijinja::machinery::get_compiled_template(tmpl);
        let mut unknown = Vec::new();
        for (line, i) in all_instructions(compiled) {
            let missing = match i {
                Instruction::ApplyFilter(name, ..) if !self.has_filter(name) => {
                    format!("unknown filter `{name}`")
                }
                Instruction::PerformTest(name, ..) if !self.has_test(name) => {
                    format!("unknown test `{name}`")
                }
                _ => continue,
            };
            let missing = match line {
                Some(line) if file => format!("{} line {line}: {missing}", tmpl.name()),
                _ => missing,
            };
            if !unknown.contains(&missing) {
                unknown.push(missing);
            }
        }
        let composed = all_instructions(compiled).any(|(_, i)| {
            matches!(
                i,
                Instruction::Include(..) | Instruction::ExportLocals | Instruction::LoadBlocks
            )
        });
        Inspection {
            names,
            unknown,
            composed,
        }
    }

    /// Whether the engine has a filter of this name; minijinja looks filters up only when
    /// they run, so ask by running one on a value.
    fn has_filter(&self, name: &str) -> bool {
        self.known(&format!("none | {name}"), ErrorKind::UnknownFilter)
    }

    fn has_test(&self, name: &str) -> bool {
        self.known(&format!("none is {name}"), ErrorKind::UnknownTest)
    }

    fn known(&self, expr: &str, missing: ErrorKind) -> bool {
        match self.env.compile_expression(expr) {
            Ok(e) => !matches!(e.eval(()), Err(err) if err.kind() == missing),
            Err(_) => true,
        }
    }
}

/// A value only the run will have (a registered result, a fact, a loop item), standing in
/// for it when a template is tried before the run: any attribute, item or method of it is
/// another unknown, it iterates once, and it renders as nothing. What the template does
/// with it cannot fail for real at check time; what it does with everything else can.
#[derive(Debug)]
struct Unknown;

impl minijinja::value::Object for Unknown {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Iterable
    }

    fn get_value(self: &std::sync::Arc<Self>, _key: &Value) -> Option<Value> {
        Some(Value::from_object(Unknown))
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Iter(Box::new(std::iter::once(Value::from_object(Unknown))))
    }

    fn call_method(
        self: &std::sync::Arc<Self>,
        _state: &minijinja::State<'_, '_>,
        _method: &str,
        _args: &[Value],
    ) -> Result<Value, minijinja::Error> {
        Ok(Value::from_object(Unknown))
    }

    fn render(self: &std::sync::Arc<Self>, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

/// Whether a value is or holds an [`Unknown`]: serializing one never ends (each of its
/// items is another), and what it would give is known only at run time anyway.
fn holds_unknown(v: &Value, depth: usize) -> bool {
    if v.downcast_object_ref::<Unknown>().is_some() {
        return true;
    }
    if depth > 32 {
        return false;
    }
    match v.kind() {
        minijinja::value::ValueKind::Seq | minijinja::value::ValueKind::Map => v
            .try_iter()
            .map(|it| {
                it.take(10_000).any(|k| {
                    holds_unknown(&k, depth + 1)
                        || v.get_item(&k).is_ok_and(|x| {
                            v.kind() == minijinja::value::ValueKind::Map
                                && holds_unknown(&x, depth + 1)
                        })
                })
            })
            .unwrap_or(false),
        _ => false,
    }
}

/// A host's variables as the template engine takes them, converted once and layered
/// (task vars, loop items) without copying.
pub fn context(vars: &Vars) -> Value {
    Value::from_serialize(vars)
}

/// `layer` over `base`: the layer's names win.
pub fn layered(layer: &Vars, base: &Value) -> Value {
    if layer.is_empty() {
        return base.clone();
    }
    minijinja::value::merge_maps([Value::from_serialize(layer), base.clone()])
}

/// The outcome of trying a template before the run, with some names standing for values
/// only the run will have (see [`try_render`]).
pub enum Tried {
    /// The text, when it needs none of the unknown names.
    Text(String),
    /// It needs one, and nothing else that can be told now went wrong.
    Unknown,
    /// It fails: the minijinja error, for [`describe`].
    Failed(minijinja::Error),
}

/// Render a compiled template in `ctx` with the `unknown` names standing for values only
/// the run will have ([`Unknown`]). With unknowns, only an undefined variable is a
/// failure (whatever the run brings, it stays undefined); other errors may come from the
/// stand-ins.
pub fn try_render(tmpl: &minijinja::Template<'_, '_>, ctx: &Value, unknown: &[&str]) -> Tried {
    if unknown.is_empty() {
        return match tmpl.render(ctx) {
            Ok(s) => Tried::Text(s),
            Err(e) => Tried::Failed(e),
        };
    }
    let stand_ins: std::collections::BTreeMap<&str, Value> = unknown
        .iter()
        .map(|n| (*n, Value::from_object(Unknown)))
        .collect();
    let ctx = minijinja::value::merge_maps([Value::from(stand_ins), ctx.clone()]);
    match tmpl.render(ctx) {
        Ok(_) => Tried::Unknown,
        Err(e) if e.kind() == ErrorKind::UndefinedError => Tried::Failed(e),
        Err(_) => Tried::Unknown,
    }
}

/// A minijinja error as netorch's: `what` names the field (an inline string) or
/// "template" (a file); `vars` (with [`mark_unknown`] names) lists what is undefined;
/// `expr` is the expression's source when it is one.
pub fn describe(what: &str, e: &minijinja::Error, vars: &Vars, expr: Option<&str>) -> Error {
    template_error_src(what, e, vars, expr.map(strip_braces))
}

/// A render of `source` that failed, as netorch's error: a value's line break names the
/// variable that brought it (as the run says it), anything else as [`describe`].
pub fn describe_render(what: &str, e: &minijinja::Error, source: &str, vars: &Vars) -> Error {
    if is_line_break(e) {
        line_break_error(what, e, source, vars)
    } else {
        template_error(what, e, vars)
    }
}

/// Mark `names` in `vars` as known at run time, for the messages of [`describe`].
pub fn mark_unknown(vars: &mut Vars, names: &[&str]) {
    for n in names {
        vars.insert((*n).to_string(), unknown_mark());
    }
}

/// Every instruction of a compiled template (its blocks too), with its line.
fn all_instructions<'a>(
    compiled: &'a minijinja::machinery::CompiledTemplate<'_>,
) -> impl Iterator<Item = (Option<usize>, &'a Instruction<'a>)> + 'a {
    std::iter::once(&compiled.instructions)
        .chain(compiled.blocks.values())
        .flat_map(|ins| {
            (0..ins.len()).filter_map(move |idx| {
                let idx = u32::try_from(idx).ok()?;
                Some((ins.get_line(idx), ins.get(idx)?))
            })
        })
}

/// What an [`Unknown`] is in the variables an error message looks at: any path under it
/// counts as defined.
fn unknown_mark() -> serde_json::Value {
    serde_json::Value::String("\u{0}netorch: known at run time".into())
}

/// Whether `s` is one `{{ expression }}` and nothing else: such a value keeps the
/// expression's type (a list stays a list), as in Ansible; anything else renders as text.
pub fn is_single_expression(s: &str) -> bool {
    let t = s.trim();
    t.starts_with("{{") && t.ends_with("}}") && t.matches("{{").count() == 1
}

/// `{{ x }}` in a `when:` is a common Ansible habit; accept it.
fn strip_braces(expr: &str) -> &str {
    let t = expr.trim();
    match t.strip_prefix("{{").and_then(|s| s.strip_suffix("}}")) {
        Some(inner) if !inner.contains("{{") => inner.trim(),
        _ => t,
    }
}

/// Turn a template name into a relative path that cannot leave the template folders.
fn safe_relative(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if out.as_os_str().is_empty() {
        None
    } else {
        Some(out)
    }
}

fn load_template(dirs: &[PathBuf], name: &str) -> Result<Option<String>, minijinja::Error> {
    let Some(rel) = safe_relative(name) else {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("template name `{name}` must be a relative path inside a templates folder"),
        ));
    };
    for dir in dirs {
        let path = dir.join(&rel);
        if path.is_file() {
            return crate::source::read_source(&path)
                .map(Some)
                .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string()));
        }
    }
    Ok(None)
}

/// Build an [`Error::Template`] whose message says what a user must fix: the template,
/// the line, and for undefined values the variable's name.
fn template_error(what: &str, e: &minijinja::Error, vars: &Vars) -> Error {
    template_error_src(what, e, vars, None)
}

/// [`template_error`] for an expression, whose source minijinja does not keep.
fn expr_error(what: &str, e: &minijinja::Error, vars: &Vars, expr: &str) -> Error {
    template_error_src(what, e, vars, Some(expr))
}

fn template_error_src(what: &str, e: &minijinja::Error, vars: &Vars, src: Option<&str>) -> Error {
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

fn placed(place: &str, body: &str) -> String {
    if place.is_empty() {
        body.to_string()
    } else {
        format!("{place}: {body}")
    }
}

fn is_line_break(e: &minijinja::Error) -> bool {
    e.kind() == ErrorKind::InvalidOperation && e.detail() == Some(LINE_BREAK)
}

/// The error for a one-line field whose rendered value holds a line break: the variables
/// of `source` that hold one are named, their values are not (they may be secrets).
fn line_break_error(what: &str, e: &minijinja::Error, source: &str, vars: &Vars) -> Error {
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

fn lookup_path<'a>(path: &str, vars: &'a Vars) -> Option<&'a serde_json::Value> {
    let mut parts = path.split('.');
    let mut cur = vars.get(parts.next()?)?;
    for p in parts {
        cur = cur.get(p)?;
    }
    Some(cur)
}

fn holds_line_break(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains(['\r', '\n']),
        serde_json::Value::Array(a) => a.iter().any(holds_line_break),
        serde_json::Value::Object(o) => o.values().any(holds_line_break),
        _ => false,
    }
}

/// Names referenced by `src` that the context does not define (dotted paths checked too).
fn undefined_names(src: &str, vars: &Vars) -> Vec<String> {
    let env = Environment::new();
    let names = match env.template_from_str(src) {
        Ok(t) => t.undeclared_variables(true),
        Err(_) => match env.compile_expression(src) {
            Ok(e) => e.undeclared_variables(true),
            Err(_) => return Vec::new(),
        },
    };
    let mut missing: Vec<String> = names
        .into_iter()
        .filter(|n| !is_builtin_name(n))
        .filter_map(|n| first_undefined(&n, vars))
        .collect();
    missing.dedup();
    missing.sort();
    missing
}

fn undefined_in_expr(expr: &str, vars: &Vars) -> Vec<String> {
    let env = Environment::new();
    let Ok(compiled) = env.compile_expression(expr) else {
        return Vec::new();
    };
    let mut missing: Vec<String> = compiled
        .undeclared_variables(true)
        .into_iter()
        .filter(|n| !is_builtin_name(n))
        .filter_map(|n| first_undefined(&n, vars))
        .collect();
    missing.dedup();
    missing.sort();
    missing
}

fn is_builtin_name(n: &str) -> bool {
    let head = n.split('.').next().unwrap_or(n);
    matches!(
        head,
        "env" | "lookup" | "range" | "dict" | "namespace" | "loop" | "true" | "false" | "none"
    )
}

/// The shortest prefix of a dotted name that is undefined (`ver` when `ver` is missing,
/// `ver.stdout` when only the attribute is), or none when the whole path is defined.
fn first_undefined(path: &str, vars: &Vars) -> Option<String> {
    let parts: Vec<&str> = path.split('.').collect();
    (1..=parts.len())
        .map(|i| parts[..i].join("."))
        .find(|prefix| !path_defined(prefix, vars))
}

fn path_defined(path: &str, vars: &Vars) -> bool {
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

fn register_filters(env: &mut Environment<'static>) {
    env.add_filter("ipaddr", ipaddr);
    env.add_filter("nthhost", nthhost);
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("to_yaml", to_yaml);
    env.add_filter("to_nice_yaml", to_yaml);
    env.add_filter("to_json", to_json);
    env.add_filter("b64encode", |s: String| {
        data_encoding::BASE64.encode(s.as_bytes())
    });
    env.add_filter("b64decode", b64decode);
    env.add_function("env", env_var);
    env.add_function("lookup", lookup);
}

/// Ansible's `b64decode`: standard base64 (padding optional) to UTF-8 text.
fn b64decode(s: String) -> Result<String, minijinja::Error> {
    let t = s.trim().trim_end_matches('=');
    let bytes = data_encoding::BASE64_NOPAD
        .decode(t.as_bytes())
        .map_err(|e| invalid(format!("b64decode: not base64: {e}")))?;
    String::from_utf8(bytes).map_err(|_| invalid("b64decode: the decoded bytes are not UTF-8 text"))
}

fn invalid(msg: impl Into<String>) -> minijinja::Error {
    minijinja::Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn parse_net(value: &str) -> Result<IpNet, minijinja::Error> {
    let v = value.trim();
    if let Ok(net) = v.parse::<IpNet>() {
        return Ok(net);
    }
    if let Ok(addr) = v.parse::<IpAddr>() {
        return Ok(IpNet::from(addr));
    }
    // "10.0.0.1 255.255.255.0", the IOS way of writing an address and mask.
    if let Some((a, m)) = v.split_once(' ') {
        if let (Ok(addr), Ok(mask)) = (a.trim().parse::<IpAddr>(), m.trim().parse::<IpAddr>()) {
            if let Ok(prefix) = ipnet::ip_mask_to_prefix(mask) {
                if let Ok(net) = IpNet::new(addr, prefix) {
                    return Ok(net);
                }
            }
        }
    }
    Err(invalid(format!(
        "ipaddr: `{value}` is not an IP address or prefix (expected e.g. 10.0.0.1/24)"
    )))
}

/// `"10.1.2.3/24" | ipaddr('netmask')`. With an integer, host n of the prefix as
/// `address/prefix` (Ansible's behaviour); with no argument, the value if it is a valid
/// address or prefix.
fn ipaddr(value: String, query: Option<Value>) -> Result<Value, minijinja::Error> {
    let net = parse_net(&value)?;
    let Some(query) = query else {
        return Ok(Value::from(value));
    };
    if let Ok(n) = i64::try_from(query.clone()) {
        let host = nth_host(&net, n)?;
        return Ok(Value::from(format!("{host}/{}", net.prefix_len())));
    }
    let q = query.as_str().unwrap_or_default();
    let out = match q {
        "address" => net.addr().to_string(),
        "network" => net.network().to_string(),
        "netmask" => net.netmask().to_string(),
        "prefix" => return Ok(Value::from(net.prefix_len())),
        "broadcast" => net.broadcast().to_string(),
        "wildcard" | "hostmask" => net.hostmask().to_string(),
        "network/prefix" | "subnet" => net.trunc().to_string(),
        "host" | "host/prefix" => net.to_string(),
        "version" => {
            return Ok(Value::from(match net {
                IpNet::V4(_) => 4,
                IpNet::V6(_) => 6,
            }))
        }
        other => {
            return Err(invalid(format!(
                "ipaddr: unknown query `{other}`; expected one of address, network, netmask, \
                 prefix, broadcast, wildcard, subnet, host, version, or a host number"
            )))
        }
    };
    Ok(Value::from(out))
}

/// `"10.0.0.0/24" | nthhost(5)` -> `10.0.0.5`; negative counts from the end.
fn nthhost(value: String, n: i64) -> Result<String, minijinja::Error> {
    let net = parse_net(&value)?;
    Ok(nth_host(&net, n)?.to_string())
}

fn nth_host(net: &IpNet, n: i64) -> Result<IpAddr, minijinja::Error> {
    let size_bits = net.max_prefix_len() - net.prefix_len();
    let out_of_range = || invalid(format!("host {n} is outside {}", net.trunc()));
    match net {
        IpNet::V4(v4) => {
            let base = u32::from(v4.network()) as i128;
            let size: i128 = 1i128 << size_bits;
            let off = if n < 0 { size + n as i128 } else { n as i128 };
            if off < 0 || off >= size {
                return Err(out_of_range());
            }
            let addr = u32::try_from(base + off).map_err(|_| out_of_range())?;
            Ok(IpAddr::V4(addr.into()))
        }
        IpNet::V6(v6) => {
            let base = u128::from(v6.network());
            let off = if n < 0 {
                if size_bits < 128 && (n.unsigned_abs() as u128) > (1u128 << size_bits) {
                    return Err(out_of_range());
                }
                let size_minus = if size_bits >= 128 {
                    u128::MAX
                } else {
                    (1u128 << size_bits) - 1
                };
                size_minus - (n.unsigned_abs() as u128 - 1)
            } else {
                let o = n as u128;
                if size_bits < 128 && o >= (1u128 << size_bits) {
                    return Err(out_of_range());
                }
                o
            };
            Ok(IpAddr::V6((base | off).into()))
        }
    }
}

fn build_regex(pattern: &str, ignorecase: bool) -> Result<regex::Regex, minijinja::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(ignorecase)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| invalid(format!("invalid regular expression `{pattern}`: {e}")))
}

/// `regex_replace(pattern, replacement, ignorecase=false)`; `\1` style backreferences work
/// as in Ansible (Python) and are translated to the regex crate's `${1}`.
fn regex_replace(
    value: String,
    pattern: String,
    replacement: Option<String>,
    ignorecase: Option<bool>,
) -> Result<String, minijinja::Error> {
    let re = build_regex(&pattern, ignorecase.unwrap_or(false))?;
    let repl = python_backrefs(&replacement.unwrap_or_default());
    Ok(re.replace_all(&value, repl.as_str()).into_owned())
}

fn python_backrefs(repl: &str) -> String {
    let mut out = String::with_capacity(repl.len());
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut num = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    num.push(d);
                    chars.next();
                }
                out.push_str(&format!("${{{num}}}"));
            }
            '$' => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

/// The first match of `pattern` in the value, or none.
fn regex_search(
    value: String,
    pattern: String,
    ignorecase: Option<bool>,
) -> Result<Value, minijinja::Error> {
    let re = build_regex(&pattern, ignorecase.unwrap_or(false))?;
    Ok(re
        .find(&value)
        .map(|m| Value::from(m.as_str()))
        .unwrap_or(Value::from(())))
}

fn to_yaml(value: Value) -> Result<String, minijinja::Error> {
    if holds_unknown(&value, 0) {
        return Ok(String::new());
    }
    serde_yaml::to_string(&value).map_err(|e| invalid(format!("to_yaml: {e}")))
}

fn to_json(value: Value, indent: Option<usize>) -> Result<String, minijinja::Error> {
    if holds_unknown(&value, 0) {
        return Ok(String::new());
    }
    let res = match indent {
        Some(_) => serde_json::to_string_pretty(&value),
        None => serde_json::to_string(&value),
    };
    res.map_err(|e| invalid(format!("to_json: {e}")))
}

/// `env("NAME")`, or `env("NAME", "default")`.
fn env_var(name: String, default: Option<String>) -> Result<String, minijinja::Error> {
    match std::env::var(&name) {
        Ok(v) => Ok(v),
        Err(_) => default.ok_or_else(|| {
            invalid(format!(
                "environment variable `{name}` is not set (referenced with env(\"{name}\"))"
            ))
        }),
    }
}

/// Ansible's `lookup('env', 'NAME')` and `lookup('file', 'path')`.
fn lookup(kind: String, arg: String) -> Result<String, minijinja::Error> {
    match kind.as_str() {
        "env" => env_var(arg, None),
        "file" => {
            let text = crate::source::read_source(Path::new(&arg))
                .map_err(|e| invalid(format!("lookup('file'): {e}")))?;
            // Ansible strips the trailing newline of a looked-up file; secrets rely on it.
            Ok(text.trim_end_matches(['\n', '\r']).to_string())
        }
        other => Err(invalid(format!(
            "lookup('{other}') is not supported; expected 'env' or 'file'"
        ))),
    }
}

#[cfg(test)]
mod tests {
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
        let src =
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
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
}
