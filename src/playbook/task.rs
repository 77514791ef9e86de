//! Tasks: the common keywords plus exactly one action, or an `import_tasks` /
//! `include_tasks` entry that the loader replaces with the tasks of that file.
//!
//! Deserialized by hand (a `MapAccess` visitor with a stateful key seed) so that every
//! mistake is reported by serde_yaml at the offending key: an unknown key (with "did you
//! mean"), a second action, a duplicate key, `loop` beside `with_items`.

use std::fmt;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::values::{self, describe, with_hint, ValueSeed, CONDITIONS, STRINGS, TAGS};
use super::Location;
use crate::actions::keys::{instead_of, ActionSeed};
use crate::actions::{Action, ActionKind};
use crate::source::suggest;
use crate::value::Vars;

/// Conditions that must all be true (`when: [a, b]` means `a and b`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct When(pub Vec<String>);

impl When {
    pub fn conditions(&self) -> &[String] {
        &self.0
    }
}

/// What a task loops over.
#[derive(Debug, Clone, PartialEq)]
pub enum Loop {
    /// Items written in the playbook (templated strings inside are rendered per item).
    Items(Vec<Value>),
    /// An expression that yields a list: `"{{ interfaces }}"`.
    Expr(String),
}

/// `loop_control`: the loop variable's name, a label for the report, an index variable and
/// a pause between items.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopControl {
    #[serde(default = "default_loop_var", deserialize_with = "values::identifier")]
    pub loop_var: String,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub label: Option<String>,
    #[serde(default, deserialize_with = "values::opt_identifier")]
    pub index_var: Option<String>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    pub pause: Option<Duration>,
}

fn default_loop_var() -> String {
    "item".into()
}

impl Default for LoopControl {
    fn default() -> Self {
        LoopControl {
            loop_var: default_loop_var(),
            label: None,
            index_var: None,
            pause: None,
        }
    }
}

/// A task, validated. Effective `tags` include those inherited from the play and from
/// `import_tasks`; `when` includes the conditions of enclosing imports (first).
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub name: Option<String>,
    pub when: Option<When>,
    pub register: Option<String>,
    pub loop_: Option<Loop>,
    pub loop_control: Option<LoopControl>,
    pub until: Option<When>,
    pub retries: Option<u32>,
    pub delay: Option<Duration>,
    pub ignore_errors: bool,
    pub changed_when: Option<When>,
    pub failed_when: Option<When>,
    pub tags: Vec<String>,
    pub timeout: Option<Duration>,
    /// Output kept per command (`None`: the host's `max_output`).
    pub max_output: Option<u64>,
    /// `Some(true)`: always check mode; `Some(false)`: never, even under `--check`.
    pub check_mode: Option<bool>,
    /// `diff: true`: show this task's changes as a diff, as `--diff` does for every task.
    pub diff: Option<bool>,
    pub no_log: bool,
    /// Handlers (by name or `listen` topic) to run when this task changes something.
    pub notify: Vec<String>,
    /// For handlers: extra topics this handler answers to.
    pub listen: Vec<String>,
    pub vars: Vars,
    /// The blocks around this task, outermost first (empty outside blocks).
    pub block: Vec<super::block::BlockFrame>,
    /// Run on the first host of the batch only; its result is given to every host.
    pub run_once: bool,
    /// An unreachable device does not take the host out of the play.
    pub ignore_unreachable: bool,
    /// `become`: accepted; netorch enters the device's enable mode whenever a secret is set.
    pub become_: Option<bool>,
    pub become_method: Option<String>,
    /// `delegate_to: localhost`: the task runs on this machine, with no device connection.
    pub delegate_to: Option<String>,
    /// `environment`: set for local tasks; device sessions have no environment to set.
    pub environment: Vars,
    /// The keys written on the task itself: they win over what a block or play passes down.
    pub(crate) written: Vec<String>,
    pub action: Action,
    /// The key the action was written with (`ios_config`), for messages.
    pub action_key: String,
    pub location: Location,
}

/// The task a play's `confirm:` adds after its checks. Tagged `always`, so that a run
/// limited by `--tags` still confirms what it changed.
pub fn confirm_task(location: Location) -> Task {
    Task {
        name: Some("confirm the change".into()),
        when: None,
        register: None,
        loop_: None,
        loop_control: None,
        until: None,
        retries: None,
        delay: None,
        ignore_errors: false,
        changed_when: None,
        failed_when: None,
        tags: vec!["always".into()],
        timeout: None,
        max_output: None,
        check_mode: None,
        diff: None,
        no_log: false,
        notify: Vec::new(),
        listen: Vec::new(),
        vars: Vars::new(),
        block: Vec::new(),
        run_once: false,
        ignore_unreachable: false,
        become_: None,
        become_method: None,
        delegate_to: None,
        environment: Vars::new(),
        written: Vec::new(),
        action: Action::Confirm(crate::actions::confirm::ConfirmArgs::default()),
        action_key: "confirm".into(),
        location,
    }
}

/// The task a play's `gather_facts: true` runs first, as Ansible's implicit one: tagged
/// `always`, and skipped on hosts without a network OS.
pub fn gather_facts_task(location: Location, subsets: Vec<String>) -> Task {
    let mut t = confirm_task(location);
    t.name = Some("Gathering Facts".into());
    t.action = Action::Facts(crate::actions::facts::FactsArgs {
        subsets,
        network_resources: Vec::new(),
        implicit: true,
    });
    t.action_key = "gather_facts".into();
    t
}

impl Task {
    /// The name for reports: the task's name, else a summary of its action.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => self.action.summary(),
        }
    }
}

/// Whether an entry is an import (copied in at load time) or an include; both are
/// resolved at load time in netorch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImportKind {
    Import,
    Include,
}

impl ImportKind {
    pub fn key(self) -> &'static str {
        match self {
            ImportKind::Import => "import_tasks",
            ImportKind::Include => "include_tasks",
        }
    }
}

/// `import_tasks: file` with the keywords that apply to every imported task.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaskImport {
    pub kind: ImportKind,
    pub file: String,
    pub when: Vec<String>,
    pub tags: Vec<String>,
    pub vars: Vars,
}

/// One item of a task list as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TaskEntry {
    Task(Box<Task>),
    Import(TaskImport),
    Block(Box<super::block::BlockEntry>),
}

/// A list of tasks (or handlers) as written.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct TaskList(pub Vec<TaskEntry>);

/// A list of handlers as written (tasks that may `listen`).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct HandlerList(pub Vec<TaskEntry>);

impl<'de> Deserialize<'de> for TaskList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor { handler: false })
            .map(TaskList)
    }
}

impl<'de> Deserialize<'de> for HandlerList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor { handler: true })
            .map(HandlerList)
    }
}

struct ListVisitor {
    handler: bool,
}

impl<'de> Visitor<'de> for ListVisitor {
    type Value = Vec<TaskEntry>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.handler {
            f.write_str("a list of handlers (each item starts with `- `)")
        } else {
            f.write_str("a list of tasks (each item starts with `- `)")
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(t) = seq.next_element_seed(TaskSeed {
            handler: self.handler,
        })? {
            out.push(t);
        }
        Ok(out)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(with_hint(
            "expected a list of tasks, found a mapping",
            Some("start each task with `- ` (tasks are a YAML list)".into()),
        )))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "expected a list of tasks, found {}",
            describe(de::Unexpected::Str(v))
        )))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "expected a list of tasks, found boolean {v}"
        )))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "expected a list of tasks, found integer {v}"
        )))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "expected a list of tasks, found integer {v}"
        )))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "expected a list of tasks, found number {v}"
        )))
    }
}

/// A nested task list (`block`, `rescue`, `always`).
struct ListSeed {
    handler: bool,
}

impl<'de> DeserializeSeed<'de> for ListSeed {
    type Value = Vec<TaskEntry>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ListVisitor {
            handler: self.handler,
        })
    }
}

/// Deserializes one task (or handler) mapping.
#[derive(Clone, Copy)]
pub(crate) struct TaskSeed {
    pub handler: bool,
}

impl<'de> DeserializeSeed<'de> for TaskSeed {
    type Value = TaskEntry;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<TaskEntry, D::Error> {
        d.deserialize_map(self)
    }
}

/// Task keywords (not actions), in the order shown in messages.
pub const TASK_KEYWORDS: &[&str] = &[
    "name",
    "when",
    "register",
    "loop",
    "loop_control",
    "until",
    "retries",
    "delay",
    "ignore_errors",
    "changed_when",
    "failed_when",
    "tags",
    "timeout",
    "max_output",
    "check_mode",
    "diff",
    "no_log",
    "notify",
    "vars",
    "listen",
    "with_items",
    "with_list",
    "import_tasks",
    "include_tasks",
    "block",
    "rescue",
    "always",
    "run_once",
    "ignore_unreachable",
    "become",
    "become_method",
    "become_user",
    "delegate_to",
    "environment",
];

/// Keywords that make sense on an `import_tasks`/`include_tasks` entry.
const IMPORT_KEYWORDS: &[&str] = &["name", "when", "tags", "vars"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Keyword(&'static str),
    Action(ActionKind),
    Import(ImportKind),
}

/// Reads one task key, knowing what the task already has, so that a bad key is reported
/// at its own position.
struct KeySeed<'a> {
    state: &'a Builder,
    handler: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = (Key, String);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = (Key, String);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a task keyword or an action name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let key = classify(v).ok_or_else(|| E::custom(unknown_key(v, self.state, self.handler)))?;
        let b = self.state;
        let in_task = b.in_task();
        if b.seen.iter().any(|s| s == v) {
            return Err(E::custom(format!("duplicate key `{v}`{in_task}")));
        }
        match key {
            Key::Keyword("listen") if !self.handler => {
                return Err(E::custom(with_hint(
                    format!("{} uses `listen`, which only handlers have", b.subject()),
                    Some("move this task under the play's `handlers:`".into()),
                )));
            }
            Key::Keyword(k @ ("loop" | "with_items" | "with_list")) => {
                if let Some(other) = b
                    .seen
                    .iter()
                    .find(|s| matches!(s.as_str(), "loop" | "with_items" | "with_list"))
                {
                    return Err(E::custom(with_hint(
                        format!("`{k}` and `{other}` both set{in_task}; a task has one loop"),
                        Some("use only `loop`".into()),
                    )));
                }
            }
            Key::Action(_) | Key::Import(_) => {
                if let Some(first) = &b.action_key {
                    return Err(E::custom(with_hint(
                        format!(
                            "{} has two actions, `{first}` and `{v}`; a task has exactly one action",
                            b.subject()
                        ),
                        Some(format!("split it into two tasks, or remove `{v}`")),
                    )));
                }
            }
            Key::Keyword(_) => {}
        }
        Ok((key, v.to_string()))
    }
}

fn classify(v: &str) -> Option<Key> {
    if let Some(kind) = ActionKind::from_key(v) {
        return Some(Key::Action(kind));
    }
    match v {
        "import_tasks" => Some(Key::Import(ImportKind::Import)),
        "include_tasks" => Some(Key::Import(ImportKind::Include)),
        _ => TASK_KEYWORDS
            .iter()
            .find(|k| **k == v)
            .map(|k| Key::Keyword(k)),
    }
}

fn unknown_key(v: &str, b: &Builder, handler: bool) -> String {
    let what = if handler { "handler" } else { "task" };
    let actions: Vec<&str> = ActionKind::ALL.iter().map(|k| k.name()).collect();
    let message = format!(
        "unknown key `{v}`{}; expected a {what} keyword ({}) or one action ({})",
        b.in_task(),
        TASK_KEYWORDS.join(", "),
        actions.join(", ")
    );
    let hint = instead_of(v).or_else(|| {
        suggest(
            v,
            TASK_KEYWORDS.iter().copied().chain(ActionKind::all_keys()),
        )
        .map(|s| {
            if ActionKind::from_key(s).is_some() {
                format!("did you mean the action `{s}`?")
            } else {
                format!("did you mean `{s}`?")
            }
        })
    });
    with_hint(message, hint)
}

#[derive(Default)]
struct Builder {
    seen: Vec<String>,
    name: Option<String>,
    action_key: Option<String>,
    action: Option<Action>,
    import: Option<(ImportKind, String)>,
    when: Option<Vec<String>>,
    register: Option<String>,
    loop_: Option<Loop>,
    loop_control: Option<LoopControl>,
    until: Option<Vec<String>>,
    retries: Option<u32>,
    delay: Option<Duration>,
    ignore_errors: bool,
    changed_when: Option<Vec<String>>,
    failed_when: Option<Vec<String>>,
    tags: Vec<String>,
    timeout: Option<Duration>,
    max_output: Option<u64>,
    check_mode: Option<bool>,
    diff: Option<bool>,
    no_log: bool,
    notify: Vec<String>,
    listen: Vec<String>,
    vars: Vars,
    block: Option<Vec<TaskEntry>>,
    rescue: Option<Vec<TaskEntry>>,
    always: Option<Vec<TaskEntry>>,
    run_once: bool,
    ignore_unreachable: bool,
    become_: Option<bool>,
    become_method: Option<String>,
    delegate_to: Option<String>,
    environment: Vars,
}

impl Builder {
    /// `task "name"` when the name is known, else `this task`.
    fn subject(&self) -> String {
        match &self.name {
            Some(n) => format!("task \"{n}\""),
            None => "this task".to_string(),
        }
    }

    /// ` in task "name"` when the name is known, for messages.
    fn in_task(&self) -> String {
        match &self.name {
            Some(n) => format!(" in task \"{n}\""),
            None => String::new(),
        }
    }
}

impl<'de> Visitor<'de> for TaskSeed {
    type Value = TaskEntry;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a task: a mapping with a `name` and one action, like `- name: Version` / `  command: show version`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TaskEntry, A::Error> {
        let mut b = Builder::default();
        loop {
            let Some((key, written)) = map.next_key_seed(KeySeed {
                state: &b,
                handler: self.handler,
            })?
            else {
                break;
            };
            b.seen.push(written.clone());
            match key {
                Key::Action(kind) => {
                    b.action = Some(map.next_value_seed(ActionSeed(kind, &written))?);
                    b.action_key = Some(written);
                }
                Key::Import(kind) => {
                    let file = map.next_value_seed(values::ScalarString {
                        what: "a file name",
                        allow_bool: false,
                        allow_number: false,
                    })?;
                    b.import = Some((kind, file));
                    b.action_key = Some(written);
                }
                Key::Keyword(k @ ("block" | "rescue" | "always")) => {
                    let list = map.next_value_seed(ListSeed {
                        handler: self.handler,
                    })?;
                    match k {
                        "block" => b.block = Some(list),
                        "rescue" => b.rescue = Some(list),
                        _ => b.always = Some(list),
                    }
                }
                Key::Keyword(k) => keyword(&mut b, k, &mut map)?,
            }
        }
        finish(b, self.handler).map_err(de::Error::custom)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TaskEntry, E> {
        Err(not_a_task(de::Unexpected::Str(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<TaskEntry, A::Error> {
        Err(not_a_task(de::Unexpected::Seq))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<TaskEntry, E> {
        Err(not_a_task(de::Unexpected::Bool(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<TaskEntry, E> {
        Err(not_a_task(de::Unexpected::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<TaskEntry, E> {
        Err(not_a_task(de::Unexpected::Signed(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<TaskEntry, E> {
        Err(not_a_task(de::Unexpected::Float(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<TaskEntry, E> {
        Err(not_a_task(de::Unexpected::Unit))
    }
}

fn not_a_task<E: de::Error>(u: de::Unexpected<'_>) -> E {
    E::custom(with_hint(
        format!(
            "expected a task (a mapping with a `name` and one action), found {}",
            describe(u)
        ),
        Some("write a task as `- name: Show version` then `  command: show version` on the next line".into()),
    ))
}

fn keyword<'de, A: MapAccess<'de>>(b: &mut Builder, k: &str, map: &mut A) -> Result<(), A::Error> {
    match k {
        "name" => {
            b.name = Some(map.next_value_seed(values::ScalarString {
                what: "a task name (a string)",
                allow_bool: true,
                allow_number: true,
            })?)
        }
        "when" => b.when = Some(map.next_value_seed(CONDITIONS)?),
        "until" => b.until = Some(map.next_value_seed(CONDITIONS)?),
        "changed_when" => b.changed_when = Some(map.next_value_seed(CONDITIONS)?),
        "failed_when" => b.failed_when = Some(map.next_value_seed(CONDITIONS)?),
        "register" => b.register = Some(map.next_value_seed(Ident)?),
        "loop" | "with_items" | "with_list" => b.loop_ = Some(map.next_value_seed(LoopSeed)?),
        "loop_control" => b.loop_control = Some(map.next_value()?),
        "retries" => b.retries = Some(map.next_value_seed(Retries)?),
        "delay" => b.delay = Some(map.next_value_seed(DurationSeed)?),
        "timeout" => b.timeout = Some(map.next_value_seed(DurationSeed)?),
        "max_output" => b.max_output = Some(map.next_value_seed(SizeSeed)?),
        "ignore_errors" => b.ignore_errors = map.next_value_seed(Bool)?,
        "no_log" => b.no_log = map.next_value_seed(Bool)?,
        "check_mode" => b.check_mode = Some(map.next_value_seed(Bool)?),
        "diff" => b.diff = Some(map.next_value_seed(Bool)?),
        "tags" => b.tags = map.next_value_seed(TAGS)?,
        "notify" => b.notify = map.next_value_seed(STRINGS)?,
        "listen" => b.listen = map.next_value_seed(STRINGS)?,
        "vars" => b.vars = map.next_value_seed(VarsSeed)?,
        "run_once" => b.run_once = map.next_value_seed(Bool)?,
        "ignore_unreachable" => b.ignore_unreachable = map.next_value_seed(Bool)?,
        "become" => b.become_ = Some(map.next_value_seed(Bool)?),
        "become_method" => b.become_method = Some(map.next_value_seed(super::block::BecomeMethod)?),
        // netorch's privilege is the device's enable mode; there is no user to become.
        "become_user" => {
            map.next_value::<de::IgnoredAny>()?;
        }
        "delegate_to" => b.delegate_to = Some(map.next_value_seed(super::block::DelegateTo)?),
        "environment" => b.environment = map.next_value_seed(VarsSeed)?,
        // `classify` only returns keywords from TASK_KEYWORDS, all handled above.
        other => {
            return Err(de::Error::custom(format!("unknown key `{other}`")));
        }
    }
    Ok(())
}

macro_rules! fn_seed {
    ($name:ident, $ty:ty, $f:path) => {
        struct $name;
        impl<'de> DeserializeSeed<'de> for $name {
            type Value = $ty;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<$ty, D::Error> {
                $f(d)
            }
        }
    };
}

fn_seed!(Ident, String, values::identifier);
fn_seed!(Retries, u32, retries);

/// `retries`, bounded: `until` with 4294967295 retries and no delay never ends.
fn retries<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let max = crate::executor::MAX_RETRIES;
    let n = values::bounded_count(d, "retries", 0, u64::from(max))?;
    Ok(u32::try_from(n).unwrap_or(max))
}
fn_seed!(DurationSeed, Duration, values::duration);
fn_seed!(SizeSeed, u64, values::size);
fn_seed!(Bool, bool, values::boolish);
fn_seed!(VarsSeed, Vars, values::vars);

struct LoopSeed;

impl<'de> DeserializeSeed<'de> for LoopSeed {
    type Value = Loop;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Loop, D::Error> {
        d.deserialize_any(self)
    }
}

const LOOP_EXPECTED: &str = "a list of items, or a \"{{ expression }}\" that gives a list";

impl<'de> Visitor<'de> for LoopSeed {
    type Value = Loop;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(LOOP_EXPECTED)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loop, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(ValueSeed)? {
            items.push(v);
        }
        Ok(Loop::Items(items))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Loop, E> {
        if v.contains("{{") && v.contains("}}") {
            Ok(Loop::Expr(v.to_string()))
        } else {
            Err(E::custom(with_hint(
                format!(
                    "expected {LOOP_EXPECTED}, found {}",
                    describe(de::Unexpected::Str(v))
                ),
                Some(format!(
                    "write `loop: \"{{{{ {v} }}}}\"` for a variable, or a YAML list"
                )),
            )))
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Loop, A::Error> {
        Err(de::Error::custom(with_hint(
            format!("expected {LOOP_EXPECTED}, found a mapping"),
            Some("to loop over a mapping use `loop: \"{{ mymap | dict2items }}\"`".into()),
        )))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Loop, E> {
        Err(E::custom(format!(
            "expected {LOOP_EXPECTED}, found {}",
            describe(de::Unexpected::Bool(v))
        )))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Loop, E> {
        Err(E::custom(format!(
            "expected {LOOP_EXPECTED}, found {}",
            describe(de::Unexpected::Unsigned(v))
        )))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Loop, E> {
        Err(E::custom(format!(
            "expected {LOOP_EXPECTED}, found {}",
            describe(de::Unexpected::Signed(v))
        )))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Loop, E> {
        Err(E::custom(format!(
            "expected {LOOP_EXPECTED}, found {}",
            describe(de::Unexpected::Float(v))
        )))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Loop, E> {
        Err(E::custom(format!(
            "expected {LOOP_EXPECTED}, found nothing"
        )))
    }
}

/// A `block:` entry: no action, only keywords its tasks inherit.
fn finish_block(b: Builder) -> Result<TaskEntry, String> {
    use super::block::{BlockEntry, BlockKeywords, BLOCK_KEYWORDS};
    let at = match &b.name {
        Some(n) => format!(" in block \"{n}\""),
        None => String::new(),
    };
    if let Some(key) = &b.action_key {
        return Err(with_hint(
            format!("`block` and the action `{key}` in one entry{at}; a block holds tasks, it has no action of its own"),
            Some(format!("move `{key}` into a task inside the block")),
        ));
    }
    if let Some(bad) = b
        .seen
        .iter()
        .find(|k| !BLOCK_KEYWORDS.contains(&k.as_str()))
    {
        return Err(format!(
            "`{bad}` cannot be used on a block{at}; a block takes only {}",
            BLOCK_KEYWORDS.join(", ")
        ));
    }
    Ok(TaskEntry::Block(Box::new(BlockEntry {
        name: b.name,
        keywords: BlockKeywords {
            when: b.when.unwrap_or_default(),
            tags: b.tags,
            vars: b.vars,
            ignore_errors: b.ignore_errors,
            ignore_unreachable: b.ignore_unreachable,
            run_once: b.run_once,
            no_log: b.no_log,
            check_mode: b.check_mode,
            become_: b.become_,
            become_method: b.become_method,
            delegate_to: b.delegate_to,
            environment: b.environment,
        },
        block: b.block.unwrap_or_default(),
        rescue: b.rescue.unwrap_or_default(),
        always: b.always.unwrap_or_default(),
        written: b.seen,
    })))
}

/// Checks that need the whole task; reported at the task's position.
fn finish(b: Builder, handler: bool) -> Result<TaskEntry, String> {
    let in_task = b.in_task();
    let what = if handler { "handler" } else { "task" };
    if b.block.is_some() {
        return finish_block(b);
    }
    for k in ["rescue", "always"] {
        if b.seen.iter().any(|s| s == k) {
            return Err(with_hint(
                format!("`{k}` without `block`{in_task}"),
                Some(format!(
                    "`{k}` belongs beside a `block:` list: `- block: [...]` then `  {k}: [...]`"
                )),
            ));
        }
    }
    if let Some((kind, file)) = b.import {
        if let Some(bad) = b
            .seen
            .iter()
            .find(|k| !IMPORT_KEYWORDS.contains(&k.as_str()) && *k != kind.key())
        {
            return Err(format!(
                "`{bad}` cannot be used with `{}`{in_task}; an import takes only {}",
                kind.key(),
                IMPORT_KEYWORDS.join(", ")
            ));
        }
        return Ok(TaskEntry::Import(TaskImport {
            kind,
            file,
            when: b.when.unwrap_or_default(),
            tags: b.tags,
            vars: b.vars,
        }));
    }
    let (Some(action), Some(action_key)) = (b.action, b.action_key) else {
        let actions: Vec<&str> = ActionKind::ALL.iter().map(|k| k.name()).collect();
        let named = match &b.name {
            Some(n) => format!("{what} \"{n}\""),
            None => format!("this {what}"),
        };
        return Err(with_hint(
            format!(
                "{named} has no action; expected exactly one of: {}",
                actions.join(", ")
            ),
            Some("for example `command: show version`".into()),
        ));
    };
    if b.retries.is_some() && b.until.is_none() {
        return Err(with_hint(
            format!("`retries` without `until`{in_task}"),
            Some("add `until: <condition>` saying when to stop retrying".into()),
        ));
    }
    if b.loop_control.is_some() && b.loop_.is_none() {
        return Err(format!("`loop_control` without `loop`{in_task}"));
    }
    Ok(TaskEntry::Task(Box::new(Task {
        name: b.name,
        when: b.when.map(When),
        register: b.register,
        loop_: b.loop_,
        loop_control: b.loop_control,
        until: b.until.map(When),
        retries: b.retries,
        delay: b.delay,
        ignore_errors: b.ignore_errors,
        changed_when: b.changed_when.map(When),
        failed_when: b.failed_when.map(When),
        tags: b.tags,
        timeout: b.timeout,
        max_output: b.max_output,
        check_mode: b.check_mode,
        diff: b.diff,
        no_log: b.no_log,
        notify: b.notify,
        listen: b.listen,
        vars: b.vars,
        block: Vec::new(),
        run_once: b.run_once,
        ignore_unreachable: b.ignore_unreachable,
        become_: b.become_,
        become_method: b.become_method,
        delegate_to: b.delegate_to,
        environment: b.environment,
        written: b.seen,
        action,
        action_key,
        location: Location::default(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::{BackupArgs, CommandArgs, ConfigSource, FailArgs, SaveWhen, WaitForArgs};

    fn entry(yaml: &str) -> Result<TaskEntry, String> {
        TaskSeed { handler: false }
            .deserialize(serde_yaml::Deserializer::from_str(yaml))
            .map_err(|e| e.to_string())
    }

    fn task(yaml: &str) -> Task {
        match entry(yaml) {
            Ok(TaskEntry::Task(t)) => *t,
            other => panic!("{yaml}: {other:?}"),
        }
    }

    fn err(yaml: &str) -> String {
        match entry(yaml) {
            Err(e) => e,
            Ok(t) => panic!("{yaml} parsed: {t:?}"),
        }
    }

    #[test]
    fn command_forms() {
        let one = task("command: show version");
        assert!(
            matches!(one.action, Action::Command(CommandArgs { ref commands, .. }) if commands == &["show version"])
        );
        let list = task("command: [show clock, show users]");
        assert!(
            matches!(list.action, Action::Command(CommandArgs { ref commands, .. }) if commands.len() == 2)
        );
        let map = task(
            "command: {commands: copy run start, expect: [{prompt: 'Destination.*\\?', answer: ''}], timeout: 2m}",
        );
        match map.action {
            Action::Command(c) => {
                assert_eq!(c.expect.len(), 1);
                assert_eq!(c.timeout, Some(Duration::from_secs(120)));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            err("command: {commands: x, expect: [{prompt: '(', answer: y}]}")
                .contains("not a valid regular expression")
        );
        assert!(err("command: []").contains("no commands"));
        // ansible.netcommon.cli_command's dialect.
        let cli =
            task("ansible.netcommon.cli_command: {command: reload, prompt: 'confirm', answer: y}");
        match cli.action {
            Action::Command(c) => {
                assert_eq!(c.commands, ["reload"]);
                assert_eq!(c.expect.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        assert!(err("cli_command: {command: x, sendonly: true, bogus: 1}").contains("`bogus`"));
    }

    #[test]
    fn config_forms() {
        let t = task("config: [ntp server 1.1.1.1]");
        assert!(
            matches!(t.action, Action::Config(ref c) if matches!(c.source, ConfigSource::Lines { .. }) && c.save == SaveWhen::Never)
        );
        let t = task("config: {src: base.cfg, save: yes}");
        assert!(
            matches!(t.action, Action::Config(ref c) if c.source == ConfigSource::Src("base.cfg".into()) && c.save == SaveWhen::Always)
        );
        assert!(err("config: {template: a.j2, parents: [x]}")
            .contains("`parents` only goes with `lines`"));
        assert!(err("config: {}").contains("found none of them"));
        assert!(
            err("config: {lines: [x], save: sometimes}").contains("true, false or when_changed")
        );
    }

    #[test]
    fn empty_argument_actions() {
        assert_eq!(
            task("backup:").action,
            Action::Backup(BackupArgs::default())
        );
        assert_eq!(
            task("backup: {}").action,
            Action::Backup(BackupArgs::default())
        );
        assert_eq!(task("fail:").action, Action::Fail(FailArgs::default()));
        assert!(err("debug: {}").contains("needs `msg` or `var`"));
        assert!(err("debug: {msg: a, var: b}").contains("not both"));
        assert!(err("set_fact: {}").contains("at least one"));
        assert!(err("set_fact: {bad-name: 1}").contains("not a valid variable name"));
    }

    #[test]
    fn wait_for_and_transfer() {
        assert!(matches!(
            task("wait_for: {port: 22}").action,
            Action::WaitFor(WaitForArgs::Port { port: 22, .. })
        ));
        assert!(err("wait_for: {port: 22, seconds: 3}").contains("not both"));
        assert!(err("wait_for: {port: 70000}").contains("too large"));
        assert!(err("upload: {src: a}").contains("missing field `dest`"));
        assert!(err("upload: {src: a, dest: b, mode: 999}").contains("octal"));
        assert!(
            err("download: {src: a, dest: b, protocol: http}").contains("unknown variant `http`")
        );
    }

    #[test]
    fn task_keywords() {
        let t = task("name: x\ndebug: {msg: hi}\nwhen: a\nloop: [1, {k: v}]\nloop_control: {loop_var: port}\nno_log: on\ncheck_mode: false\nnotify: [a, b]\nvars: {x: 1}");
        assert_eq!(t.when, Some(When(vec!["a".into()])));
        assert!(matches!(t.loop_, Some(Loop::Items(ref v)) if v.len() == 2));
        assert!(t.no_log);
        assert_eq!(t.check_mode, Some(false));
        assert_eq!(t.notify.len(), 2);
        let e = err("debug: {msg: x}\nloop: interfaces");
        assert!(e.contains("\"{{ interfaces }}\""), "{e}");
        assert!(err("debug: {msg: x}\nloop_control: {loop_var: p}").contains("without `loop`"));
        assert!(err("- debug: {}").contains("expected a task"));
        assert!(err("debug: {msg: x}\nignore_errors: maybe").contains("true or false"));
    }

    #[test]
    fn imports_take_few_keywords() {
        match entry("import_tasks: x.yml\nwhen: a\ntags: t") {
            Ok(TaskEntry::Import(i)) => {
                assert_eq!(i.file, "x.yml");
                assert_eq!(i.when, vec!["a".to_string()]);
                assert_eq!(i.tags, vec!["t".to_string()]);
            }
            other => panic!("{other:?}"),
        }
        assert!(err("import_tasks: x.yml\ndebug: {msg: x}").contains("two actions"));
        assert!(
            err("include_tasks: x.yml\nretries: 3").contains("cannot be used with `include_tasks`")
        );
    }
}
