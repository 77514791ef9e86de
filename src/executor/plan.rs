//! The plan: playbooks as loaded, matched against the inventory. For each play, the hosts
//! (its pattern narrowed by `--limit`) and the tasks selected by `--tags`/`--skip-tags`.
//! Built before any connection opens, so `check` and `run` agree on what would happen.

use crate::inventory::Inventory;
use crate::playbook::{Play, Playbook, Task};
use crate::source::{suggest, LoadError};
use crate::{Error, Result};

/// What to run, fully decided.
#[derive(Debug)]
pub struct Plan<'a> {
    pub plays: Vec<PlannedPlay<'a>>,
    /// Patterns that matched nothing, and similar things worth telling before a run.
    pub warnings: Vec<String>,
}

#[derive(Debug)]
pub struct PlannedPlay<'a> {
    pub playbook: &'a Playbook,
    pub play: &'a Play,
    /// Host names, in inventory order (this shard's only, with `--shard`).
    pub hosts: Vec<String>,
    /// How many hosts the play matches in all shards together.
    pub total_hosts: usize,
    pub tasks: Vec<&'a Task>,
}

/// Options that narrow a plan.
#[derive(Debug, Default, Clone)]
pub struct PlanOptions {
    pub limit: Option<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    /// A play whose pattern matches no host is an error (check) rather than a warning (run).
    pub strict_patterns: bool,
    /// Only this shard's hosts (`--shard K/N`).
    pub shard: Option<crate::inventory::shard::Shard>,
}

impl<'a> Plan<'a> {
    pub fn build(
        playbooks: &'a [Playbook],
        inventory: &Inventory,
        opts: &PlanOptions,
    ) -> Result<Plan<'a>> {
        let mut plays = Vec::new();
        let mut warnings = Vec::new();
        let mut errors = Vec::new();
        if let Some(limit) = &opts.limit {
            // A malformed --limit is a usage error, reported once.
            inventory
                .select(limit)
                .map_err(|e| Error::Usage(format!("--limit: {e}")))?;
        }
        for pb in playbooks {
            for play in &pb.plays {
                let hosts = match inventory.select_with_limit(&play.hosts, opts.limit.as_deref()) {
                    Ok(h) => h,
                    Err(e) => {
                        errors.push(at_play(play, e.to_string(), None));
                        continue;
                    }
                };
                if hosts.is_empty() {
                    let unmatched = inventory.unmatched_terms(&play.hosts);
                    let msg = if unmatched.is_empty() {
                        match &opts.limit {
                            Some(l) => format!(
                                "play `{}`: hosts `{}` with --limit `{l}` leaves no host",
                                play.display_name(),
                                play.hosts
                            ),
                            None => format!(
                                "play `{}`: host pattern `{}` matches no host",
                                play.display_name(),
                                play.hosts
                            ),
                        }
                    } else {
                        format!(
                            "play `{}`: host pattern `{}` matches no host ({} names no group or host in the inventory)",
                            play.display_name(),
                            play.hosts,
                            unmatched
                                .iter()
                                .map(|t| format!("`{t}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    if opts.strict_patterns {
                        let hint = unmatched.first().and_then(|t| did_you_mean(inventory, t));
                        errors.push(at_play(play, msg, hint));
                    } else {
                        warnings.push(format!("{} ({})", msg, play.source));
                    }
                }
                let total_hosts = hosts.len();
                plays.push(PlannedPlay {
                    playbook: pb,
                    play,
                    total_hosts,
                    hosts: hosts
                        .into_iter()
                        .filter(|h| opts.shard.is_none_or(|s| s.owns(&h.name)))
                        .map(|h| h.name.clone())
                        .collect(),
                    tasks: play.tasks_filtered(&opts.tags, &opts.skip_tags),
                });
            }
        }
        match errors.len() {
            0 => Ok(Plan { plays, warnings }),
            1 => Err(Error::Load(errors.remove(0))),
            _ => Err(Error::LoadMany(errors)),
        }
    }
}

/// "did you mean `access`?" for a pattern term (`!acces`, `&acces`) that names no group or
/// host in the inventory.
pub fn did_you_mean(inventory: &Inventory, term: &str) -> Option<String> {
    let bare = term.trim_start_matches(['!', '&']);
    suggest(
        bare,
        inventory
            .groups
            .keys()
            .chain(inventory.hosts.keys())
            .map(String::as_str),
    )
    .map(|s| format!("did you mean `{s}`?"))
}

fn at_play(play: &Play, msg: String, hint: Option<String>) -> LoadError {
    let mut e = if play.source.line > 0 {
        let text = std::fs::read_to_string(&play.source.file).ok();
        LoadError::at(
            &play.source.file,
            text.as_deref(),
            play.source.line,
            play.source.column,
            msg,
        )
    } else {
        LoadError::file(&play.source.file, msg)
    };
    e.hint = hint;
    e
}
