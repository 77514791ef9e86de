//! `netorch check PLAYBOOK... -i INV`: validate without connecting to anything: syntax,
//! keys, action arguments, template and file references, host patterns, platforms.

use std::path::PathBuf;

use crate::error::{ExitCode, Result};
use crate::executor::{Plan, PlanOptions};
use crate::playbook::Playbook;
use crate::source::LoadError;
use crate::Error;

use super::common::{playbook_dirs, InventoryOpts};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Playbook files to validate.
    #[arg(required = true, value_name = "PLAYBOOK")]
    pub playbooks: Vec<PathBuf>,

    #[command(flatten)]
    pub inv: InventoryOpts,

    /// Check against the hosts matching this pattern only.
    #[arg(short, long)]
    pub limit: Option<String>,

    /// Print nothing when everything is valid.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let inventory = args.inv.load(&playbook_dirs(&args.playbooks))?;
    let extra = args.inv.extra_vars()?;
    for w in &inventory.warnings {
        eprintln!("warning: {w}");
    }
    let profiles = super::platforms::load_profiles(&args.inv.inventory)?;
    let (playbooks, errors) = load_all(&args.playbooks, &args.inv.inventory);
    let mut errors = errors;
    let plan_opts = PlanOptions {
        limit: args.limit.clone(),
        strict_patterns: true,
        ..Default::default()
    };
    let mut summary = Vec::new();
    for pb in &playbooks {
        match Plan::build(std::slice::from_ref(pb), &inventory, &plan_opts) {
            Ok(plan) => {
                let mut problems =
                    super::platforms::unknown_platforms(&plan, &inventory, &profiles);
                problems.extend(super::platforms::unconfirmable(
                    &plan, &inventory, &profiles,
                ));
                if problems.is_empty() {
                    problems =
                        crate::executor::validate::validate(&plan, &inventory, &extra, &profiles);
                }
                if problems.is_empty() {
                    let tasks: usize = plan.plays.iter().map(|p| p.tasks.len()).sum();
                    let mut hosts: Vec<&str> = plan
                        .plays
                        .iter()
                        .flat_map(|p| p.hosts.iter().map(String::as_str))
                        .collect();
                    hosts.sort_unstable();
                    hosts.dedup();
                    summary.push(format!(
                        "ok: {} ({} plays, {} tasks, {} hosts)",
                        pb.path.display(),
                        plan.plays.len(),
                        tasks,
                        hosts.len()
                    ));
                } else {
                    errors.append(&mut problems);
                }
            }
            Err(Error::Load(e)) => errors.push(e),
            Err(Error::LoadMany(mut es)) => errors.append(&mut es),
            Err(other) => return Err(other),
        }
    }
    if !args.quiet {
        let mut text = summary.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        super::common::print_out(&text)?;
    }
    match errors.len() {
        0 => Ok(ExitCode::Ok),
        1 => Err(Error::Load(errors.remove(0))),
        _ => Err(Error::LoadMany(errors)),
    }
}

/// Load every playbook, gathering every load error rather than stopping at the first;
/// templates and files are looked up beside the playbooks and the `inventories`.
pub fn load_all(paths: &[PathBuf], inventories: &[PathBuf]) -> (Vec<Playbook>, Vec<LoadError>) {
    let mut playbooks = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match Playbook::load_beside(path, inventories) {
            Ok(pb) => playbooks.push(pb),
            Err(Error::Load(e)) => errors.push(e),
            Err(Error::LoadMany(mut es)) => errors.append(&mut es),
            Err(other) => errors.push(LoadError::file(path, other.to_string())),
        }
    }
    (playbooks, errors)
}
