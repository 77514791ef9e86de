//! Platform profiles for a run: the built-ins plus a `platforms/` folder beside each
//! inventory source, and the check that every planned host's platform is known.

use std::path::PathBuf;

use crate::device::profile::ProfileSet;
use crate::executor::Plan;
use crate::inventory::Inventory;
use crate::source::{suggest, LoadError};
use crate::Result;

/// Built-ins, overridden or extended by `platforms/*.yaml` beside the inventory sources.
pub fn load_profiles(inventory_sources: &[PathBuf]) -> Result<ProfileSet> {
    let mut set = ProfileSet::builtin();
    for src in inventory_sources {
        let dir = if src.is_dir() {
            src.clone()
        } else {
            src.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
        };
        let pdir = dir.join("platforms");
        if pdir.is_dir() {
            let user = ProfileSet::load_dir(&pdir)?;
            for name in user.names().map(str::to_owned).collect::<Vec<_>>() {
                if let Some(p) = user.get(&name) {
                    set.insert(p.clone());
                }
            }
        }
    }
    Ok(set)
}

/// Hosts of the plan whose platform is unknown, as load errors pointing at the play.
pub fn unknown_platforms(
    plan: &Plan<'_>,
    inventory: &Inventory,
    profiles: &ProfileSet,
) -> Vec<LoadError> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in &plan.plays {
        for h in &p.hosts {
            let Some(host) = inventory.hosts.get(h) else {
                continue;
            };
            let platform = host.platform();
            if profiles.get(&platform).is_some() || !seen.insert((platform.clone(), h.clone())) {
                continue;
            }
            let known: Vec<&str> = profiles.names().collect();
            let mut e = LoadError::file(
                &p.play.source.file,
                format!(
                    "host `{h}` (play `{}`) has platform `{platform}`, which netorch does not know; known: {}",
                    p.play.display_name(),
                    known.join(", ")
                ),
            );
            if let Some(s) = suggest(&platform, known.iter().copied()) {
                e.hint = Some(format!(
                    "did you mean `{s}`? (or add platforms/{platform}.yaml beside the inventory)"
                ));
            } else {
                e.hint = Some(format!(
                    "add platforms/{platform}.yaml beside the inventory to define it"
                ));
            }
            out.push(e);
        }
    }
    out
}

/// Hosts of a play with `confirm:` and `config` tasks whose platform has no revert timer:
/// the change could not be protected, so the run is refused before any connection.
pub fn unconfirmable(
    plan: &Plan<'_>,
    inventory: &Inventory,
    profiles: &ProfileSet,
) -> Vec<LoadError> {
    let mut out = Vec::new();
    for p in &plan.plays {
        if p.play.confirm.is_none()
            || !p
                .tasks
                .iter()
                .any(|t| matches!(t.action, crate::actions::Action::Config(_)))
        {
            continue;
        }
        let mut without: Vec<String> = Vec::new();
        let secs = p.play.confirm.as_ref().map_or(0, |c| c.timeout.as_secs());
        for h in &p.hosts {
            let Some(host) = inventory.hosts.get(h) else {
                continue;
            };
            let platform = host.platform();
            let spec = profiles
                .get(&platform)
                .and_then(|pr| pr.config.as_ref())
                .and_then(|c| c.confirm.as_ref());
            match spec {
                None if !without.contains(&platform) => without.push(platform),
                // A timer the device does not take would fail on every host at run time.
                Some(s)
                    if secs < s.min_seconds.unwrap_or(1)
                        || secs > s.max_seconds.unwrap_or(u64::MAX) =>
                {
                    let mut e = LoadError::file(
                        &p.play.source.file,
                        format!(
                            "play `{}`: confirm timeout {secs}s is outside what {platform} takes ({}s to {}s)",
                            p.play.display_name(),
                            s.min_seconds.unwrap_or(1),
                            s.max_seconds.unwrap_or(u64::MAX)
                        ),
                    );
                    e.line = Some(p.play.source.line);
                    e.column = Some(p.play.source.column);
                    if !out.iter().any(|o: &LoadError| o.message == e.message) {
                        out.push(e);
                    }
                }
                _ => {}
            }
        }
        if !without.is_empty() {
            let mut e = LoadError::file(
                &p.play.source.file,
                format!(
                    "play `{}` has `confirm:` but {} no revert timer, so its changes could not be rolled back by the device",
                    p.play.display_name(),
                    if without.len() == 1 {
                        format!("platform {} has", without[0])
                    } else {
                        format!("platforms {} have", without.join(", "))
                    }
                ),
            );
            e.line = Some(p.play.source.line);
            e.column = Some(p.play.source.column);
            e.hint = Some("limit the play to platforms with a timer, or drop `confirm:`".into());
            out.push(e);
        }
    }
    out
}
