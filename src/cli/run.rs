//! `netorch run PLAYBOOK... -i INV`: plan, then execute and report.

use std::path::PathBuf;

use crate::error::{ExitCode, Result};
use crate::executor::{Plan, PlanOptions};
use crate::Error;

use super::check::load_all;
use super::common::{playbook_dirs, InventoryOpts};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Playbook files, run in order.
    #[arg(required = true, value_name = "PLAYBOOK")]
    pub playbooks: Vec<PathBuf>,

    #[command(flatten)]
    pub inv: InventoryOpts,

    /// Only hosts matching this pattern (`@file` reads patterns from a file).
    #[arg(short, long)]
    pub limit: Option<String>,

    /// Only tasks with these tags (comma-separated).
    #[arg(short, long, value_delimiter = ',')]
    pub tags: Vec<String>,

    /// Skip tasks with these tags (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub skip_tags: Vec<String>,

    /// How many hosts are worked on at once.
    #[arg(short, long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub forks: u32,

    /// Change nothing: show what would change.
    #[arg(short = 'C', long)]
    pub check: bool,

    /// Show config diffs.
    #[arg(short = 'D', long)]
    pub diff: bool,

    /// Print one JSON document with every result instead of the live output.
    #[arg(long)]
    pub json: bool,

    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

pub fn run(args: RunArgs, _verbose: u8) -> Result<ExitCode> {
    let inventory = args.inv.load(&playbook_dirs(&args.playbooks))?;
    args.inv.extra_vars()?;
    let (playbooks, mut errors) = load_all(&args.playbooks);
    match errors.len() {
        0 => {}
        1 => return Err(Error::Load(errors.remove(0))),
        _ => return Err(Error::LoadMany(errors)),
    }
    let plan = Plan::build(
        &playbooks,
        &inventory,
        &PlanOptions {
            limit: args.limit.clone(),
            tags: args.tags.clone(),
            skip_tags: args.skip_tags.clone(),
            strict_patterns: false,
        },
    )?;
    for w in inventory.warnings.iter().chain(plan.warnings.iter()) {
        eprintln!("warning: {w}");
    }
    println!("netorch run: the executor is not available yet, so nothing was sent to any device.");
    println!("This is the plan it would run:");
    for p in &plan.plays {
        println!(
            "\nPLAY {} [{} hosts] ({})",
            p.play.display_name(),
            p.hosts.len(),
            p.play.source
        );
        println!("  hosts: {}", p.hosts.join(", "));
        for t in &p.tasks {
            println!(
                "  TASK {} [{}] ({})",
                t.display_name(),
                t.action_key,
                t.location
            );
        }
    }
    Ok(ExitCode::Ok)
}
