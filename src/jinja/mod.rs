//! The minijinja environment for config templates and `{{ }}` expressions.
//!
//! One [`Templates`] per run: a loader over the template folders (the playbook's
//! `templates/`, then the project's), strict undefined (a missing variable is an error that
//! names the variable, the template and the line, never an empty string pushed to a device),
//! and the filters network engineers reach for: `ipaddr`, `nthhost`, `regex_replace`,
//! `regex_search`, `to_yaml`, `to_json`, `b64encode`/`b64decode`, plus `env("NAME")` and Ansible's
//! `lookup('env'|'file', ...)` for secrets kept outside the inventory.

mod errors;
pub mod filters;
pub mod python;
mod yaml;

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use errors::*;
use minijinja::machinery::Instruction;
use minijinja::value::Value;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};

use crate::value::Vars;
use crate::Error;

/// Undefined and safe strings go through minijinja (strict undefined fails there); every
/// other value is written as Python's `str()` would.
fn python_formatter(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if value.is_undefined() || value.as_str().is_some() {
        return minijinja::escape_formatter(out, state, value);
    }
    std::fmt::Write::write_str(out, &python::to_str(value))
        .map_err(|e| minijinja::Error::new(ErrorKind::WriteFailure, e.to_string()))
}

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
        // Ansible's template module: trim_blocks on, lstrip_blocks off, the trailing
        // newline kept; config text must come out byte for byte as Ansible writes it.
        env.set_keep_trailing_newline(true);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(false);
        // Bounds the work of one render: nested loops over range(100000) would otherwise
        // run for hours and fill memory with output.
        env.set_fuel(Some(TEMPLATE_FUEL));
        let loader_dirs = dirs.clone();
        env.set_loader(move |name| load_template(&loader_dirs, name));
        filters::register(&mut env);
        // Values print as Python prints them (`True`, `['a', 'b']`, none as nothing).
        env.set_formatter(python_formatter);
        let mut line_env = env.clone();
        line_env.set_formatter(|out, state, value| {
            let text = python::to_str(value);
            if text.contains(['\r', '\n']) {
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    LINE_BREAK,
                ));
            }
            python_formatter(out, state, value)
        });
        Templates {
            env,
            line_env,
            dirs,
        }
    }

    /// A name every template of this environment sees unless a variable shadows it: the
    /// play-wide magic variables (`groups`, `hostvars`, the play's hosts), shared by every
    /// host instead of copied into each host's variables.
    pub fn add_global(&mut self, name: &'static str, value: Value) {
        self.env.add_global(name, value.clone());
        self.line_env.add_global(name, value);
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
    /// Trailing newlines as Ansible's template module leaves them: Jinja drops the
    /// source's last newline, then Ansible adds newlines until the text ends with as many
    /// as the source does.
    pub fn render_file(&self, name: &str, vars: &Vars) -> Result<String, Error> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| self.load_error(name, &e))?;
        let source = tmpl.source();
        // Ansible's `#jinja2: lstrip_blocks: True, trim_blocks: False` first line sets the
        // whitespace options of this template and is not part of its text.
        let header = source
            .strip_prefix("#jinja2:")
            .map(|rest| rest.split_once('\n').unwrap_or((rest, "")));
        let (env, source, keep) = match header {
            Some((opts, body)) => {
                let (env, keep) =
                    Self::env_with_header(&self.env, opts).map_err(|message| Error::Template {
                        context: "template".into(),
                        message: format!("{name} line 1: {message}"),
                    })?;
                (std::borrow::Cow::Owned(env), body, keep)
            }
            None => (std::borrow::Cow::Borrowed(&self.env), source, false),
        };
        let wanted = trailing_newlines(source);
        let trimmed = source
            .strip_suffix('\n')
            .map(|s| s.strip_suffix('\r').unwrap_or(s))
            .filter(|_| !keep || header.is_none());
        let mut out = match (trimmed, header) {
            (Some(src), _) if !keep => env.render_named_str(name, src, vars),
            (_, Some(_)) => env.render_named_str(name, source, vars),
            _ => tmpl.render(vars),
        }
        .map_err(|e| template_error("template", &e, vars))?;
        let have = trailing_newlines(&out);
        for _ in have..wanted {
            out.push('\n');
        }
        Ok(out)
    }

    /// The engine with the options of a `#jinja2:` header (`trim_blocks: False, ...`), and
    /// whether it keeps the trailing newline.
    fn env_with_header(
        base: &Environment<'static>,
        opts: &str,
    ) -> Result<(Environment<'static>, bool), String> {
        let mut env = base.clone();
        let mut keep = false;
        for opt in opts.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let (key, value) = opt
                .split_once(':')
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or_else(|| format!("`#jinja2:` option `{opt}` is not `name: value`"))?;
            let on = match value {
                "True" | "true" => true,
                "False" | "false" => false,
                _ if key == "newline_sequence" => continue,
                _ => return Err(format!("`#jinja2:` option `{key}` takes True or False")),
            };
            match key {
                "trim_blocks" => env.set_trim_blocks(on),
                "lstrip_blocks" => env.set_lstrip_blocks(on),
                "keep_trailing_newline" => keep = on,
                other => {
                    return Err(format!(
                        "`#jinja2:` option `{other}` is not supported (trim_blocks, \
                         lstrip_blocks, keep_trailing_newline)"
                    ))
                }
            }
        }
        Ok((env, keep))
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
        let source = tmpl.source();
        // A `#jinja2:` first line sets options; it is never sent to the device.
        let rendered = match source
            .strip_prefix("#jinja2:")
            .map(|rest| rest.split_once('\n').unwrap_or((rest, "")))
        {
            Some((opts, body)) => {
                let (env, _) = Self::env_with_header(&self.line_env, opts).map_err(|message| {
                    Error::Template {
                        context: what.clone(),
                        message: format!("{name} line 1: {message}"),
                    }
                })?;
                env.render_named_str(name, body, vars)
            }
            None => tmpl.render(vars),
        };
        rendered.map_err(|e| {
            if is_line_break(&e) {
                line_break_error("config line", &e, source, vars)
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
        let value = self.eval_value(expr, vars, what)?;
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
        Ok(self.eval_value(strip_braces(expr), vars, what)?.is_true())
    }

    fn eval_value(&self, expr: &str, vars: &Vars, what: &str) -> Result<Value, Error> {
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| expr_error(what, &e, vars, expr))?;
        compiled
            .eval(vars)
            .map_err(|e| expr_error(what, &e, vars, expr))
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
                    filters::unknown_filter(name)
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

/// Whether a value is or holds an [`Unknown`]: serializing one never ends (each of its
/// items is another), and what it would give is known only at run time anyway.
pub(crate) fn holds_unknown(v: &Value, depth: usize) -> bool {
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

/// The stand-in for a value only the run will have (see [`Unknown`]).
pub(crate) fn unknown_value() -> Value {
    Value::from_object(Unknown)
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

fn trailing_newlines(s: &str) -> usize {
    s.len() - s.trim_end_matches('\n').len()
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

#[cfg(test)]
mod tests;
