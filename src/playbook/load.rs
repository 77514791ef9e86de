//! The playbook loader: reads files, parses plays with serde_yaml (which reports typing
//! mistakes at their line:column), inlines `import_playbook` / `import_tasks` /
//! `include_tasks` with cycle detection, gives each play and task its location from the
//! marked parse in `positions`, and checks what needs the file system or the whole play
//! (templates, `src` files, `vars_files`, `notify` names).

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::action::{Action, ConfigSource};
use super::positions::{self, Node};
use super::task::{HandlerList, TaskEntry, TaskImport, TaskList};
use super::values::{self, describe, with_hint, Serial, HINT_SEP};
use super::{dirs_for, is_templated, Location, Play, Playbook, Strategy, Task};
use crate::inventory::{check_pattern, Vars};
use crate::source::{is_blank_yaml, read_source, suggest, yaml_error, LoadError};
use crate::value::kind::serde_word;
use crate::Error;

/// A play as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaySpec {
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "hosts")]
    hosts: Option<String>,
    #[serde(default)]
    tasks: TaskList,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    import_playbook: Option<String>,
    #[serde(default, deserialize_with = "values::vars")]
    vars: Vars,
    #[serde(default, deserialize_with = "values::strings")]
    vars_files: Vec<String>,
    #[serde(default)]
    serial: Option<Serial>,
    #[serde(default, deserialize_with = "values::percentage")]
    max_fail_percentage: Option<f64>,
    #[serde(default, deserialize_with = "values::boolish")]
    any_errors_fatal: bool,
    #[serde(default, deserialize_with = "values::keyword")]
    strategy: Strategy,
    #[serde(default, deserialize_with = "forks")]
    forks: Option<usize>,
    #[serde(default, deserialize_with = "values::boolish")]
    gather_facts: bool,
    #[serde(default, deserialize_with = "values::tags")]
    tags: Vec<String>,
    #[serde(default)]
    pre_tasks: TaskList,
    #[serde(default)]
    post_tasks: TaskList,
    #[serde(default)]
    handlers: HandlerList,
    #[serde(default, deserialize_with = "values::opt_boolish")]
    check_mode: Option<bool>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    timeout: Option<Duration>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    host_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "values::positive_number")]
    connect_rate: Option<f64>,
}

fn forks<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let n: usize = values::count(d)?;
    if n == 0 {
        return Err(de::Error::custom("forks must be at least 1"));
    }
    Ok(Some(n))
}

/// A host pattern: a string, or a list joined with `,` (Ansible accepts both).
fn hosts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    const WHAT: &str = "a host pattern like `all`, `core`, `access:&ams` or a list of them";
    fn check<E: de::Error>(p: String) -> Result<String, E> {
        if is_templated(&p) {
            return Ok(p);
        }
        match check_pattern(&p) {
            Ok(()) => Ok(p),
            Err(reason) => Err(E::custom(format!("bad host pattern `{p}`: {reason}"))),
        }
    }
    impl<'de> Visitor<'de> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(WHAT)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            check(v.to_string())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<String, A::Error> {
            let items = values::STRINGS.visit_seq(seq)?;
            check(items.join(","))
        }
        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Err(E::custom(format!("expected {WHAT}, found nothing")))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
            Err(E::custom(format!(
                "expected {WHAT}, found {}",
                describe(de::Unexpected::Bool(v))
            )))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Err(E::custom(format!(
                "expected {WHAT}, found {}",
                describe(de::Unexpected::Unsigned(v))
            )))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Err(E::custom(format!(
                "expected {WHAT}, found {}",
                describe(de::Unexpected::Signed(v))
            )))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Err(E::custom(format!(
                "expected {WHAT}, found {}",
                describe(de::Unexpected::Float(v))
            )))
        }
    }
    d.deserialize_any(V).map(Some)
}

/// An entry of a playbook file: a play or `import_playbook: file`.
enum PlayEntry {
    Play(Box<PlaySpec>),
    Import(String),
}

struct PlayEntrySeed;

impl<'de> de::DeserializeSeed<'de> for PlayEntrySeed {
    type Value = PlayEntry;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<PlayEntry, D::Error> {
        d.deserialize_any(self)
    }
}

const PLAY_EXPECTED: &str =
    "a play (a mapping with `hosts` and `tasks`) or `import_playbook: file`";

fn not_a_play<E: de::Error>(u: de::Unexpected<'_>) -> E {
    E::custom(with_hint(
        format!("expected {PLAY_EXPECTED}, found {}", describe(u)),
        Some(
            "a playbook is a list of plays: `- name: ...` / `  hosts: all` / `  tasks: [...]`"
                .into(),
        ),
    ))
}

impl<'de> Visitor<'de> for PlayEntrySeed {
    type Value = PlayEntry;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(PLAY_EXPECTED)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PlayEntry, A::Error> {
        let spec = PlaySpec::deserialize(MapAccessDeserializer::new(map))?;
        if let Some(file) = spec.import_playbook {
            let is_play = spec.hosts.is_some()
                || !spec.tasks.0.is_empty()
                || !spec.pre_tasks.0.is_empty()
                || !spec.post_tasks.0.is_empty()
                || !spec.handlers.0.is_empty()
                || !spec.vars.is_empty();
            if is_play {
                return Err(de::Error::custom(
                    "an `import_playbook` entry takes only `name`; put the play in its own list item",
                ));
            }
            return Ok(PlayEntry::Import(file));
        }
        if spec.hosts.is_none() {
            let named = spec
                .name
                .as_ref()
                .map(|n| format!("play \"{n}\""))
                .unwrap_or_else(|| "this play".into());
            return Err(de::Error::custom(with_hint(
                format!("{named} has no `hosts`; expected a host pattern"),
                Some("add `hosts: all` or a group name".into()),
            )));
        }
        Ok(PlayEntry::Play(Box::new(spec)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<PlayEntry, E> {
        Err(not_a_play(de::Unexpected::Str(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<PlayEntry, A::Error> {
        Err(not_a_play(de::Unexpected::Seq))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<PlayEntry, E> {
        Err(not_a_play(de::Unexpected::Bool(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<PlayEntry, E> {
        Err(not_a_play(de::Unexpected::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<PlayEntry, E> {
        Err(not_a_play(de::Unexpected::Signed(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<PlayEntry, E> {
        Err(not_a_play(de::Unexpected::Float(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<PlayEntry, E> {
        Err(not_a_play(de::Unexpected::Unit))
    }
}

/// The top level of a playbook file.
struct PlaybookFile(Vec<PlayEntry>);

impl<'de> Deserialize<'de> for PlaybookFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PlaybookFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of plays")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PlaybookFile, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = seq.next_element_seed(PlayEntrySeed)? {
                    out.push(e);
                }
                Ok(PlaybookFile(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<PlaybookFile, A::Error> {
                Err(de::Error::custom(with_hint(
                    "expected a list of plays, found a mapping",
                    Some("start each play with `- ` (a playbook is a YAML list)".into()),
                )))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PlaybookFile, E> {
                Err(E::custom(format!(
                    "expected a list of plays, found {}",
                    describe(de::Unexpected::Str(v))
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PlaybookFile, E> {
                Err(E::custom(format!(
                    "expected a list of plays, found integer {v}"
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PlaybookFile, E> {
                Err(E::custom(format!(
                    "expected a list of plays, found integer {v}"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PlaybookFile, E> {
                Err(E::custom(format!(
                    "expected a list of plays, found number {v}"
                )))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<PlaybookFile, E> {
                Err(E::custom(format!(
                    "expected a list of plays, found boolean {v}"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// serde_yaml's error as a [`LoadError`], with our hint separated from the message.
fn parse_error(path: &Path, text: &str, e: &serde_yaml::Error) -> LoadError {
    let mut le = yaml_error(path, text, e);
    if let Some((msg, hint)) = le.message.split_once(HINT_SEP) {
        let (msg, hint) = (msg.to_string(), hint.to_string());
        le.message = msg;
        le.hint = Some(hint);
    }
    // serde_yaml prefixes the path inside the document (`.[0].tasks[2]: `); keep it, it
    // helps in long files, without the leading dot.
    if let Some(rest) = le.message.strip_prefix('.') {
        le.message = rest.to_string();
    }
    // libyaml's scanner messages embed the position we already print.
    le.message = strip_inner_position(&le.message);
    le.message = found_after_expected(&le.message);
    // An error at the end of the file (an unclosed bracket or quote) points past the last
    // line; show the last line that has content instead.
    if le.snippet.is_none() && le.line.is_some() {
        if let Some((i, last)) = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .last()
        {
            let hint = le.hint.take();
            le = LoadError::at(
                path,
                Some(text),
                i + 1,
                last.chars().count() + 1,
                format!("{} (at the end of the file)", le.message),
            );
            le.hint = hint;
        }
    }
    if let Some(key) = le
        .message
        .split("duplicate field `")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .map(str::to_string)
    {
        // Derived structs report a duplicate at the mapping; point at the second key.
        le.message = le.message.replace("duplicate field", "duplicate key");
        if let (Some(line), Some(col), Some(tree)) = (le.line, le.column, positions::parse(text)) {
            if let Some(k) = positions::second_key_at(&tree, line, col, &key) {
                let mut moved = LoadError::at(path, Some(text), k.line, k.column, le.message);
                moved.hint = Some(format!("`{key}` may appear once; remove one of them"));
                le = moved;
            }
        }
    }
    le
}

/// serde's "invalid type: sequence, expected X" in the words of every other message:
/// "expected X, found a list".
fn found_after_expected(msg: &str) -> String {
    let Some(i) = msg.find("invalid type: ") else {
        return msg.to_string();
    };
    let rest = &msg[i + "invalid type: ".len()..];
    let Some(j) = rest.find(", expected ") else {
        return msg.to_string();
    };
    let found = serde_word(&rest[..j]);
    let expected = &rest[j + ", expected ".len()..];
    format!("{}expected {expected}, found {found}", &msg[..i])
}

/// Remove " at line N column M" from the middle of a message.
fn strip_inner_position(msg: &str) -> String {
    let Some(i) = msg.find(" at line ") else {
        return msg.to_string();
    };
    let rest = &msg[i + " at line ".len()..];
    let Some(c) = rest.find(" column ") else {
        return msg.to_string();
    };
    let after = &rest[c + " column ".len()..];
    let digits = after.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || !rest[..c].chars().all(|ch| ch.is_ascii_digit()) {
        return msg.to_string();
    }
    format!("{}{}", &msg[..i], &after[digits..])
}

/// Tags, conditions and variables an import passes down to the tasks it brings in.
#[derive(Default, Clone)]
struct Inherit {
    when: Vec<String>,
    tags: Vec<String>,
    vars: Vars,
}

/// A `notify` to check once all handlers of the play are known.
struct NotifyRef {
    name: String,
    at: LoadError,
}

struct Loader {
    /// Files being loaded, outermost first: (canonical path, name shown in messages).
    stack: Vec<(PathBuf, String)>,
    root_dir: PathBuf,
    template_dirs: Vec<PathBuf>,
    src_dirs: Vec<PathBuf>,
    errors: Vec<LoadError>,
}

pub(super) fn load(path: &Path, text: Option<&str>) -> crate::Result<Playbook> {
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let project_dir = std::env::current_dir().unwrap_or_default();
    let template_dirs = dirs_for(&base_dir, &project_dir);
    let mut loader = Loader {
        stack: Vec::new(),
        root_dir: base_dir.clone(),
        template_dirs: template_dirs.clone(),
        src_dirs: vec![base_dir.clone(), project_dir.clone()],
        errors: Vec::new(),
    };
    let plays = match text {
        Some(t) => loader.playbook_text(path, t),
        None => loader.playbook_file(path, None),
    };
    let plays = match plays {
        Ok(p) => p,
        Err(e) => {
            loader.errors.insert(0, e);
            Vec::new()
        }
    };
    match loader.errors.len() {
        0 => Ok(Playbook {
            path: path.to_path_buf(),
            plays,
            template_dirs,
            base_dir,
            project_dir,
        }),
        1 => Err(Error::Load(loader.errors.remove(0))),
        _ => Err(Error::LoadMany(loader.errors)),
    }
}

impl Loader {
    fn shown(&self, path: &Path) -> String {
        path.strip_prefix(&self.root_dir)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// Enter a file, refusing a cycle. `at` is where the import was written.
    fn enter(&mut self, path: &Path, at: Option<LoadError>) -> Result<(), LoadError> {
        let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let shown = self.shown(path);
        if self.stack.iter().any(|(p, _)| *p == canon) {
            let chain: Vec<&str> = self
                .stack
                .iter()
                .skip_while(|(p, _)| *p != canon)
                .map(|(_, s)| s.as_str())
                .chain(std::iter::once(shown.as_str()))
                .collect();
            let msg = format!("import cycle: {}", chain.join(" -> "));
            return Err(match at {
                Some(mut e) => {
                    e.message = msg;
                    e.with_hint("a file cannot import itself, directly or through other files")
                }
                None => LoadError::file(path, msg),
            });
        }
        self.stack.push((canon, shown));
        Ok(())
    }

    fn playbook_file(
        &mut self,
        path: &Path,
        at: Option<LoadError>,
    ) -> Result<Vec<Play>, LoadError> {
        let text = read_source(path)?;
        self.enter(path, at)?;
        let r = self.playbook_body(path, &text);
        self.stack.pop();
        r
    }

    fn playbook_text(&mut self, path: &Path, text: &str) -> Result<Vec<Play>, LoadError> {
        self.enter(path, None)?;
        let r = self.playbook_body(path, text);
        self.stack.pop();
        r
    }

    fn playbook_body(&mut self, path: &Path, text: &str) -> Result<Vec<Play>, LoadError> {
        if is_blank_yaml(text) {
            return Err(LoadError::file(
                path,
                "the file is empty; expected a list of plays",
            ));
        }
        let file: PlaybookFile =
            serde_yaml::from_str(text).map_err(|e| parse_error(path, text, &e))?;
        let tree = positions::parse(text);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut plays = Vec::new();
        for (i, entry) in file.0.into_iter().enumerate() {
            let node = tree.as_ref().and_then(|t| t.index(i));
            match entry {
                PlayEntry::Import(name) => {
                    let at = self.at(
                        path,
                        text,
                        node.and_then(|n| n.get("import_playbook")),
                        node,
                    );
                    let target = dir.join(&name);
                    if !target.is_file() {
                        self.errors
                            .push(missing_file(at, "import_playbook", &name, &target));
                        continue;
                    }
                    match self.playbook_file(&target, Some(at)) {
                        Ok(p) => plays.extend(p),
                        Err(e) => self.errors.push(e),
                    }
                }
                PlayEntry::Play(spec) => plays.push(self.play(*spec, node, path, text, &dir)),
            }
        }
        Ok(plays)
    }

    /// A `LoadError` positioned at `node` (or `fallback`, or the file) with no message yet.
    fn at(
        &self,
        path: &Path,
        text: &str,
        node: Option<&Node>,
        fallback: Option<&Node>,
    ) -> LoadError {
        match node.or(fallback) {
            Some(n) => LoadError::at(path, Some(text), n.line, n.column, ""),
            None => LoadError::file(path, ""),
        }
    }

    fn location(path: &Path, node: Option<&Node>) -> Location {
        Location {
            file: path.to_path_buf(),
            line: node.map_or(0, |n| n.line),
            column: node.map_or(0, |n| n.column),
        }
    }

    fn play(
        &mut self,
        spec: PlaySpec,
        node: Option<&Node>,
        path: &Path,
        text: &str,
        dir: &Path,
    ) -> Play {
        let inherit = Inherit {
            tags: spec.tags.clone(),
            ..Inherit::default()
        };
        let mut notifies = Vec::new();
        let section = |this: &mut Loader,
                       list: Vec<TaskEntry>,
                       key: &str,
                       handler: bool,
                       notifies: &mut Vec<NotifyRef>| {
            let mut out = Vec::new();
            let list_node = node.and_then(|n| n.get(key));
            this.tasks(
                list, list_node, path, text, &inherit, handler, &mut out, notifies,
            );
            out
        };
        let handlers = section(self, spec.handlers.0, "handlers", true, &mut notifies);
        let pre_tasks = section(self, spec.pre_tasks.0, "pre_tasks", false, &mut notifies);
        let tasks = section(self, spec.tasks.0, "tasks", false, &mut notifies);
        let post_tasks = section(self, spec.post_tasks.0, "post_tasks", false, &mut notifies);

        let known: HashSet<&str> = handlers
            .iter()
            .flat_map(|h| h.name.iter().chain(h.listen.iter()))
            .map(String::as_str)
            .collect();
        let templated_handler = handlers
            .iter()
            .any(|h| h.name.as_deref().is_some_and(is_templated));
        for n in notifies {
            if known.contains(n.name.as_str()) || is_templated(&n.name) || templated_handler {
                continue;
            }
            let mut e = n.at;
            e.message = if known.is_empty() {
                format!("notify `{}`: the play has no handlers", n.name)
            } else {
                let mut names: Vec<&str> = known.iter().copied().collect();
                names.sort_unstable();
                format!(
                    "notify `{}`: no handler has this name or listens to it; handlers: {}",
                    n.name,
                    names.join(", ")
                )
            };
            if let Some(s) = suggest(&n.name, known.iter().copied()) {
                e.hint = Some(format!("did you mean `{s}`?"));
            }
            self.errors.push(e);
        }

        let mut vars_files = Vec::new();
        for (i, f) in spec.vars_files.iter().enumerate() {
            let p = dir.join(f);
            if !is_templated(f) && !p.is_file() {
                let vf = node.and_then(|n| n.get("vars_files"));
                let item = vf.and_then(|v| v.index(i)).or(vf);
                let at = self.at(path, text, item, node);
                self.errors.push(missing_file(at, "vars_files", f, &p));
            }
            vars_files.push(p);
        }

        Play {
            name: spec.name,
            hosts: spec.hosts.unwrap_or_default(),
            vars: spec.vars,
            vars_files,
            serial: spec.serial,
            max_fail_percentage: spec.max_fail_percentage,
            any_errors_fatal: spec.any_errors_fatal,
            strategy: spec.strategy,
            forks: spec.forks,
            gather_facts: spec.gather_facts,
            tags: spec.tags,
            pre_tasks,
            tasks,
            post_tasks,
            handlers,
            check_mode: spec.check_mode,
            timeout: spec.timeout,
            host_timeout: spec.host_timeout,
            connect_rate: spec.connect_rate,
            source: Self::location(path, node),
        }
    }

    /// Append the tasks of `list` (imports inlined) to `out`.
    #[allow(clippy::too_many_arguments)]
    fn tasks(
        &mut self,
        list: Vec<TaskEntry>,
        list_node: Option<&Node>,
        path: &Path,
        text: &str,
        inherit: &Inherit,
        handler: bool,
        out: &mut Vec<Task>,
        notifies: &mut Vec<NotifyRef>,
    ) {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for (j, entry) in list.into_iter().enumerate() {
            let node = list_node.and_then(|l| l.index(j));
            match entry {
                TaskEntry::Task(task) => {
                    let mut task = *task;
                    task.location = Self::location(path, node);
                    self.check_files(&task, node, path, text);
                    let notify_node = node.and_then(|n| n.get("notify"));
                    for (k, name) in task.notify.iter().enumerate() {
                        let item = notify_node.and_then(|v| v.index(k)).or(notify_node);
                        notifies.push(NotifyRef {
                            name: name.clone(),
                            at: self.at(path, text, item, node),
                        });
                    }
                    apply(&mut task, inherit);
                    out.push(task);
                }
                TaskEntry::Import(imp) => {
                    self.import(imp, node, path, text, &dir, inherit, handler, out, notifies)
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn import(
        &mut self,
        imp: TaskImport,
        node: Option<&Node>,
        path: &Path,
        text: &str,
        dir: &Path,
        inherit: &Inherit,
        handler: bool,
        out: &mut Vec<Task>,
        notifies: &mut Vec<NotifyRef>,
    ) {
        let key = imp.kind.key();
        let at = self.at(path, text, node.and_then(|n| n.get(key)), node);
        if is_templated(&imp.file) {
            let mut e = at;
            e.message = format!(
                "`{key}: {}`: netorch resolves task files when the playbook loads, so the file name cannot be templated",
                imp.file
            );
            self.errors.push(e);
            return;
        }
        let target = dir.join(&imp.file);
        if !target.is_file() {
            self.errors.push(missing_file(at, key, &imp.file, &target));
            return;
        }
        let sub_text = match read_source(&target) {
            Ok(t) => t,
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        if let Err(e) = self.enter(&target, Some(at)) {
            self.errors.push(e);
            return;
        }
        let parsed = if is_blank_yaml(&sub_text) {
            Ok(Vec::new())
        } else if handler {
            serde_yaml::from_str::<HandlerList>(&sub_text).map(|l| l.0)
        } else {
            serde_yaml::from_str::<TaskList>(&sub_text).map(|l| l.0)
        };
        match parsed {
            Ok(entries) => {
                let tree = positions::parse(&sub_text);
                let mut inner = inherit.clone();
                inner.when.extend(imp.when);
                for t in imp.tags {
                    if !inner.tags.contains(&t) {
                        inner.tags.push(t);
                    }
                }
                for (k, v) in imp.vars {
                    inner.vars.insert(k, v);
                }
                self.tasks(
                    entries,
                    tree.as_ref(),
                    &target,
                    &sub_text,
                    &inner,
                    handler,
                    out,
                    notifies,
                );
            }
            Err(e) => self.errors.push(parse_error(&target, &sub_text, &e)),
        }
        self.stack.pop();
    }

    /// Templates and `src` files a task names must exist (unless templated).
    fn check_files(&mut self, task: &Task, node: Option<&Node>, path: &Path, text: &str) {
        let (name, field, is_template) = match &task.action {
            Action::Config(c) => match &c.source {
                ConfigSource::Template(t) => (t, "template", true),
                ConfigSource::Src(s) => (s, "src", false),
                ConfigSource::Lines { .. } => return,
            },
            Action::Template(t) => (&t.src, "src", true),
            _ => return,
        };
        if is_templated(name) {
            return;
        }
        let dirs = if is_template {
            &self.template_dirs
        } else {
            &self.src_dirs
        };
        if super::resolve_in(name, dirs).is_some() {
            return;
        }
        let args = node.and_then(|n| n.get(&task.action_key));
        let at_node = args.and_then(|a| a.get(field)).or(args);
        let mut e = self.at(path, text, at_node, node);
        let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        let what = if is_template { "template" } else { "file" };
        e.message = format!("{what} `{name}` not found; looked in {}", looked.join(", "));
        let available = list_files(dirs);
        if let Some(s) = suggest(name, available.iter().map(String::as_str)) {
            e.hint = Some(format!("did you mean `{s}`?"));
        } else if is_template {
            e.hint = Some(format!(
                "put it in {} (or give a path relative to one of those folders)",
                looked.first().cloned().unwrap_or_default()
            ));
        }
        self.errors.push(e);
    }
}

/// The names of files in `dirs` (not recursive), for "did you mean".
fn list_files(dirs: &[PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    for d in dirs {
        if let Ok(rd) = std::fs::read_dir(d) {
            for entry in rd.flatten().take(1000) {
                if entry.path().is_file() {
                    out.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
    }
    out
}

fn missing_file(mut at: LoadError, key: &str, name: &str, looked: &Path) -> LoadError {
    at.message = format!(
        "{key}: file `{name}` not found (looked for {})",
        looked.display()
    );
    let dir = looked.parent().map(Path::to_path_buf).unwrap_or_default();
    if let Some(s) = suggest(name, list_files(&[dir]).iter().map(String::as_str)) {
        at.hint = Some(format!("did you mean `{s}`?"));
    } else {
        at.hint = Some("paths are relative to the file that contains the import".into());
    }
    at
}

/// Fold an import's (and the play's) keywords into an imported task.
fn apply(task: &mut Task, inherit: &Inherit) {
    for t in &inherit.tags {
        if !task.tags.contains(t) {
            task.tags.push(t.clone());
        }
    }
    if !inherit.when.is_empty() {
        let mut when = inherit.when.clone();
        if let Some(w) = task.when.take() {
            when.extend(w.0);
        }
        task.when = Some(super::When(when));
    }
    if !inherit.vars.is_empty() {
        let mut vars = inherit.vars.clone();
        for (k, v) in std::mem::take(&mut task.vars) {
            vars.insert(k, v);
        }
        task.vars = vars;
    }
}

#[cfg(test)]
mod tests {
    use super::found_after_expected;
    use std::path::Path;

    #[test]
    fn serde_type_errors_read_like_ours() {
        assert_eq!(
            found_after_expected("[0].forks: invalid type: sequence, expected a whole number"),
            "[0].forks: expected a whole number, found a list"
        );
        assert_eq!(
            found_after_expected("invalid type: boolean `true`, expected a string"),
            "expected a string, found boolean true"
        );
        assert_eq!(found_after_expected("other"), "other");
    }

    #[test]
    fn play_vars_apply_merge_keys() {
        // Play vars used to keep `<<` as a variable name error; inventory vars merged it.
        let text = "- hosts: all\n  vars:\n    base: &base {ntp: 10.0.0.1, dns: 10.0.0.53}\n    site:\n      <<: *base\n      dns: 10.9.9.9\n  tasks: []\n- hosts: all\n  vars:\n    <<: *base\n    extra: 1\n  tasks: []\n";
        let pb = crate::playbook::Playbook::load_str(Path::new("p.yml"), text).unwrap();
        let site = &pb.plays[0].vars["site"];
        assert_eq!(site["ntp"], "10.0.0.1");
        assert_eq!(site["dns"], "10.9.9.9");
        assert_eq!(pb.plays[1].vars["ntp"], "10.0.0.1");
        assert_eq!(pb.plays[1].vars["extra"], 1);
    }

    #[test]
    fn play_vars_refuse_duplicates_and_bad_names_at_their_line() {
        let load = |text: &str| {
            crate::playbook::Playbook::load_str(Path::new("p.yml"), text)
                .unwrap_err()
                .to_string()
        };
        let e = load("- hosts: all\n  vars:\n    a: 1\n    a: 2\n  tasks: []\n");
        assert!(
            e.contains("p.yml:4:5") && e.contains("duplicate key `a`"),
            "{e}"
        );
        let e = load("- hosts: all\n  vars:\n    bad-name: 1\n  tasks: []\n");
        assert!(e.contains("p.yml:3:5") && e.contains("`bad-name`"), "{e}");
    }

    #[test]
    fn host_patterns_follow_the_inventory_grammar() {
        // `{1,2}` used to be split at its comma here while `--limit` read it whole.
        let text =
            "- hosts: \"~r[0-9]{1,2}\"\n  tasks: []\n- hosts: [\"~sw{1,2}\", core]\n  tasks: []\n";
        let pb = crate::playbook::Playbook::load_str(Path::new("p.yml"), text).unwrap();
        assert_eq!(pb.plays[0].hosts, "~r[0-9]{1,2}");
        assert_eq!(pb.plays[1].hosts, "~sw{1,2},core");
        let e = crate::playbook::Playbook::load_str(
            Path::new("p.yml"),
            "- hosts: \"core:&\"\n  tasks: []\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("p.yml:1:10") && e.contains("bad host pattern `core:&`: empty term"),
            "{e}"
        );
    }
}
