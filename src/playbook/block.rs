//! `block` / `rescue` / `always` and the task keywords that only say where or how a task
//! runs (`delegate_to`, `become_method`).
//!
//! The loader flattens blocks into the play's task list: every task carries the blocks it
//! sits in ([`BlockFrame`], outermost first) and has the block's keywords folded in. The
//! executor reads the frames to decide, per host, whether a task runs (a rescue only after
//! a failure in its block) and where a failure goes (to the nearest rescue, else the host).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};

use super::task::TaskEntry;
use super::values::with_hint;
use crate::value::Vars;

/// Which part of a block a task is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Block,
    Rescue,
    Always,
}

/// One block around a task: which block (unique within the playbook), which part of it,
/// and whether the block has a `rescue` (a failure in it is then rescued, as Ansible
/// counts it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockFrame {
    pub id: usize,
    pub section: Section,
    pub has_rescue: bool,
}

/// A `block:` entry as written, with the keywords its tasks inherit.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct BlockEntry {
    pub name: Option<String>,
    pub keywords: BlockKeywords,
    pub block: Vec<TaskEntry>,
    pub rescue: Vec<TaskEntry>,
    pub always: Vec<TaskEntry>,
    /// The keys written on the block itself (they win over the enclosing block's).
    pub written: Vec<String>,
}

/// The keywords a block (or a play) passes to every task inside it.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct BlockKeywords {
    pub when: Vec<String>,
    pub tags: Vec<String>,
    pub vars: Vars,
    pub ignore_errors: bool,
    pub ignore_unreachable: bool,
    pub run_once: bool,
    pub no_log: bool,
    pub check_mode: Option<bool>,
    pub become_: Option<bool>,
    pub become_method: Option<String>,
    pub delegate_to: Option<String>,
    pub environment: Vars,
}

/// Keywords that a block may carry (the rest only make sense on one task).
pub(crate) const BLOCK_KEYWORDS: &[&str] = &[
    "name",
    "when",
    "tags",
    "vars",
    "ignore_errors",
    "ignore_unreachable",
    "run_once",
    "no_log",
    "check_mode",
    "become",
    "become_method",
    "become_user",
    "delegate_to",
    "environment",
    "block",
    "rescue",
    "always",
];

/// The names that mean "this machine" for `delegate_to`.
pub const LOCAL_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// `become_method`: netorch's privilege escalation is the device's enable mode.
pub(crate) struct BecomeMethod;

impl<'de> DeserializeSeed<'de> for BecomeMethod {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for BecomeMethod {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`enable`")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        let short = v.rsplit('.').next().unwrap_or(v);
        if short == "enable" {
            Ok(short.to_string())
        } else {
            Err(E::custom(with_hint(
                format!("become_method `{v}` is not supported; netorch's become is the device's enable mode"),
                Some("write `become_method: enable` (the secret is `ansible_become_password` or `enable_secret`)".into()),
            )))
        }
    }
}

/// `delegate_to`: only this machine; netorch runs a delegated task without a connection.
pub(crate) struct DelegateTo;

impl<'de> DeserializeSeed<'de> for DelegateTo {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for DelegateTo {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`localhost`")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        if LOCAL_NAMES.contains(&v) {
            Ok(v.to_string())
        } else {
            Err(E::custom(with_hint(
                format!("delegate_to `{v}` is not supported; netorch delegates only to the machine it runs on"),
                Some("write `delegate_to: localhost` for tasks that write local files or only compute".into()),
            )))
        }
    }
}
