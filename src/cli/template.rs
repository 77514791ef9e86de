//! `netorch template -i INV --host NAME FILE`: render a template for one host, to review
//! what a config push would send.

use std::path::{Path, PathBuf};

use crate::error::{ExitCode, Result};
use crate::jinja::Templates;
use crate::source::suggest;
use crate::vars::{host_context, resolve_vars};
use crate::Error;

use super::common::InventoryOpts;

#[derive(Debug, clap::Args)]
pub struct TemplateArgs {
    #[command(flatten)]
    pub inv: InventoryOpts,

    /// The host whose variables fill the template.
    #[arg(long)]
    pub host: String,

    /// The template: a path, or a name inside ./templates/.
    pub file: PathBuf,

    /// Print the secrets the rendered text holds (the host's passwords and other secret
    /// variables, and what its platform's secret patterns match); masked by default.
    #[arg(long)]
    pub show_secrets: bool,
}

pub fn run(args: TemplateArgs) -> Result<ExitCode> {
    let inventory = args.inv.load(&[])?;
    let extra = args.inv.extra_vars()?;
    let Some(host) = inventory.hosts.get(&args.host) else {
        let hint = suggest(&args.host, inventory.hosts.keys().map(String::as_str))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        return Err(Error::Usage(format!(
            "no host named `{}` in the inventory{hint}",
            args.host
        )));
    };
    // A path that exists is used as given; otherwise the name is looked up in templates/.
    let (dirs, name) = if args.file.is_file() {
        let dir = args
            .file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let name = args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (vec![dir], name)
    } else {
        // A name typed on the command line: ./templates/, then where a run would look
        // beside the inventory.
        let mut dirs =
            crate::playbook::search_dirs(Path::new("./netorch-template"), &args.inv.inventory)
                .templates;
        dirs.retain(|d| d != Path::new("."));
        (dirs, args.file.to_string_lossy().into_owned())
    };
    let templates = Templates::new(dirs.clone());
    if templates.resolve(&name).is_none() {
        let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        return Err(Error::Usage(format!(
            "template `{}` not found (looked at the path and in {})",
            args.file.display(),
            looked.join(", ")
        )));
    }
    let ctx = host_context(
        &host.name,
        &host.groups,
        &host.vars,
        &Default::default(),
        &extra,
    );
    let (ctx, unresolved) = resolve_vars(&templates, &ctx);
    let out = templates
        .render_file(&name, &ctx)
        .map_err(|e| explain_unresolved(e, &unresolved))?;
    let out = if args.show_secrets {
        out
    } else {
        let mut redactor = crate::secret::Redactor::new();
        for s in crate::inventory::secret_values_of(&ctx) {
            redactor.add(&s);
        }
        let profiles = super::platforms::load_profiles(&args.inv.inventory)?;
        let patterns = profiles
            .get(&host.platform())
            .map(|p| p.secret_patterns.clone())
            .unwrap_or_default();
        let masked = crate::backup::normalize::mask_text(&out, &patterns);
        redactor.redact(&masked).into_owned()
    };
    super::common::print_out(&out)?;
    Ok(ExitCode::Ok)
}

/// When a template fails on a variable that could not be rendered itself (say, an unset
/// environment variable behind `password`), say so instead of only "undefined".
pub fn explain_unresolved(e: Error, unresolved: &crate::vars::Unresolved) -> Error {
    let Error::Template { context, message } = e else {
        return e;
    };
    let mut message = message;
    for (name, why) in unresolved {
        if message.contains(&format!("`{name}`")) {
            message.push_str(&format!("\n  `{name}` could not be rendered: {why}"));
        }
    }
    Error::Template { context, message }
}
