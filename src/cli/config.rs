//! `netorch config remediate`: the commands that turn a running config into an intended
//! one, from files, without touching a device.

use std::path::{Path, PathBuf};

use crate::config::{remediate, Scope, Tree};
use crate::device::profile::PlatformProfile;
use crate::error::{ExitCode, Result};
use crate::source::{read_source, suggest, LoadError};
use crate::Error;

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print the commands that turn RUNNING into INTENDED (negations included, in an order
    /// the device accepts), from files.
    Remediate(RemediateArgs),
}

#[derive(Debug, clap::Args)]
pub struct RemediateArgs {
    /// The platform whose syntax the configs are in (cisco_ios, arista_eos, cisco_nxos,
    /// cisco_iosxr, juniper_junos, or one from a platforms/ folder beside INTENDED).
    #[arg(long)]
    pub platform: String,

    /// The running config, as the device prints it.
    #[arg(long, value_name = "FILE")]
    pub running: PathBuf,

    /// The intended config (Junos: braces or `set` lines).
    #[arg(long, value_name = "FILE")]
    pub intended: PathBuf,

    /// Only these top-level sections (glob patterns, e.g. 'interface GigabitEthernet0/*',
    /// 'router bgp 65000'); repeat for several. Default: the whole config.
    #[arg(long, value_name = "SECTION")]
    pub scope: Vec<String>,

    /// Leave statements matching this regex alone on both sides; repeat for several.
    #[arg(long, value_name = "REGEX")]
    pub ignore: Vec<String>,

    /// Also print a unified diff of the running config and the predicted one.
    #[arg(long)]
    pub diff: bool,

    /// JSON: commands, missing and extra statements, the predicted config.
    #[arg(long)]
    pub json: bool,

    /// Print secrets (the platform's secret patterns) instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
}

pub fn run(args: ConfigArgs) -> Result<ExitCode> {
    match args.command {
        ConfigCommand::Remediate(a) => remediate_files(a),
    }
}

/// The profile named on the command line, with a suggestion when it is mistyped.
pub fn profile_named(
    profiles: &crate::device::profile::ProfileSet,
    name: &str,
) -> Result<PlatformProfile> {
    match profiles.get(name) {
        Some(p) => Ok(p.clone()),
        None => {
            let known: Vec<&str> = profiles.names().collect();
            let hint = suggest(name, known.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            Err(Error::Usage(format!(
                "unknown platform `{name}`{hint} (known: {})",
                known.join(", ")
            )))
        }
    }
}

/// Parses one config file's text; a parse error names the file and line.
pub fn parse_named(
    path: &Path,
    text: &str,
    profile: &PlatformProfile,
    guide: Option<&Tree>,
) -> Result<Tree> {
    Tree::parse_guided(text, &profile.syntax, guide).map_err(|e| {
        LoadError::at(
            path,
            Some(text),
            e.line,
            1,
            format!(
                "not a {} configuration: {}",
                profile.name,
                e.message.as_str()
            ),
        )
        .into()
    })
}

fn remediate_files(args: RemediateArgs) -> Result<ExitCode> {
    let profiles = super::platforms::load_profiles(std::slice::from_ref(&args.intended))?;
    let profile = profile_named(&profiles, &args.platform)?;
    let syn = &profile.syntax;
    let scope = Scope::new(&args.scope, &args.ignore).map_err(Error::Usage)?;
    // Read both files first: the timing is of the model, not of the disk.
    let running_text = read_source(&args.running)?;
    let intended_text = read_source(&args.intended)?;
    let started = std::time::Instant::now();
    let mut running = parse_named(&args.running, &running_text, &profile, None)?;
    let intended = parse_named(&args.intended, &intended_text, &profile, Some(&running))?;
    let parsed = started.elapsed();
    let plan = remediate(&running, &intended, syn, &scope);
    let remediated = started.elapsed();
    // The diff compares renderings of both trees, so blank lines are not a difference.
    let running_text = running.render(syn);
    running.apply(&plan.commands, syn);
    let predicted = running.render(syn);
    let ms = |d: std::time::Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    let timing = serde_json::json!({
        "parse": ms(parsed),
        "remediate": ms(remediated - parsed),
        "predict": ms(started.elapsed() - remediated),
    });
    let mask = |t: &str| -> String {
        if args.show_secrets {
            t.to_string()
        } else {
            crate::backup::normalize::mask_text(t, &profile.secret_patterns)
        }
    };
    let lines: Vec<String> = plan.lines(syn).iter().map(|l| mask(l)).collect();
    let path_text = |paths: &[Vec<String>]| -> Vec<String> {
        paths.iter().map(|p| mask(&p.join(" > "))).collect()
    };
    let out = if args.json {
        let v = serde_json::json!({
            "platform": profile.name,
            "running": args.running.display().to_string(),
            "intended": args.intended.display().to_string(),
            "scope": args.scope,
            "commands": lines,
            "missing": path_text(&plan.missing),
            "extra": path_text(&plan.extra),
            "predicted": mask(&predicted),
            "timing_ms": timing,
        });
        let mut s = serde_json::to_string_pretty(&v).map_err(|e| Error::Usage(e.to_string()))?;
        s.push('\n');
        s
    } else {
        let mut s = String::new();
        for l in &lines {
            s.push_str(l);
            s.push('\n');
        }
        if args.diff {
            s.push_str(&crate::actions::config_lines::unified_diff(
                &mask(&running_text),
                &mask(&predicted),
                &args.running.display().to_string(),
                "predicted",
            ));
        }
        // Control characters in a config file are shown, never played to the terminal.
        crate::terminal::escape(&s).into_owned()
    };
    super::common::print_out(&out)?;
    Ok(ExitCode::Ok)
}
