//! `netorch inventory -i INV list|host NAME|graph`: look at an inventory as netorch sees it.

use crate::error::{ExitCode, Result};
use crate::secret::{is_secret_var, MASK};
use crate::source::suggest;
use crate::Error;

use super::common::{print_out, InventoryOpts};

#[derive(Debug, clap::Args)]
pub struct InventoryArgs {
    #[command(flatten)]
    pub inv: InventoryOpts,

    #[command(subcommand)]
    pub what: InventoryCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum InventoryCommand {
    /// List hosts with platform, address and groups.
    List {
        /// Only hosts matching this pattern.
        #[arg(short, long)]
        limit: Option<String>,
        /// One JSON document instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one host's merged variables (secrets masked).
    Host {
        /// The host's inventory name.
        name: String,
    },
    /// Show the group tree.
    Graph,
}

pub fn run(args: InventoryArgs) -> Result<ExitCode> {
    // Never dropped: the process ends right after, and freeing 10,000 hosts' vars one
    // allocation at a time costs a large part of listing a big (NetBox) inventory.
    let inventory = std::mem::ManuallyDrop::new(args.inv.load(&[])?);
    for w in &inventory.warnings {
        eprintln!("warning: {w}");
    }
    let extra = args.inv.extra_vars()?;
    match args.what {
        InventoryCommand::List { limit, json } => {
            let hosts = match &limit {
                Some(p) => inventory.select(p)?,
                None => inventory.hosts.values().collect(),
            };
            if let Some(p) = &limit {
                if hosts.is_empty() {
                    eprintln!("warning: --limit `{p}` matches no host");
                }
            }
            if json {
                let doc: serde_json::Map<String, serde_json::Value> = hosts
                    .iter()
                    .map(|h| {
                        (
                            h.name.clone(),
                            serde_json::json!({
                                "platform": h.platform(),
                                "address": address(h),
                                "groups": h.groups,
                            }),
                        )
                    })
                    .collect();
                let text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
                print_out(&format!("{text}\n"))?;
                return Ok(ExitCode::Ok);
            }
            let w_name = hosts.iter().map(|h| h.name.len()).max().unwrap_or(4).max(4);
            let w_plat = hosts
                .iter()
                .map(|h| h.platform().len())
                .max()
                .unwrap_or(8)
                .max(8);
            let mut text = format!(
                "{:w_name$}  {:w_plat$}  {:22}  GROUPS\n",
                "HOST", "PLATFORM", "ADDRESS"
            );
            for h in &hosts {
                let groups: Vec<&str> = h
                    .groups
                    .iter()
                    .map(String::as_str)
                    .filter(|g| *g != "all" && *g != "ungrouped")
                    .collect();
                text.push_str(&format!(
                    "{:w_name$}  {:w_plat$}  {:22}  {}\n",
                    h.name,
                    h.platform(),
                    address(h),
                    groups.join(",")
                ));
            }
            text.push_str(&format!("{} hosts\n", hosts.len()));
            print_out(&text)?;
        }
        InventoryCommand::Host { name } => {
            let Some(host) = inventory.hosts.get(&name) else {
                let hint = suggest(&name, inventory.hosts.keys().map(String::as_str))
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(Error::Usage(format!(
                    "no host named `{name}` in the inventory{hint}"
                )));
            };
            let mut vars = host.masked_vars();
            for (k, v) in extra {
                let v = if is_secret_var(&k) {
                    serde_json::Value::from(MASK)
                } else {
                    v
                };
                vars.insert(k, v);
            }
            vars.insert("inventory_hostname".into(), host.name.clone().into());
            vars.insert("platform".into(), host.platform().into());
            let groups: Vec<&String> = host
                .groups
                .iter()
                .filter(|g| g.as_str() != "all" && g.as_str() != "ungrouped")
                .collect();
            vars.insert("group_names".into(), serde_json::json!(groups));
            vars.values_mut().for_each(crate::vault::ansible_form);
            let text = serde_yaml::to_string(&vars).unwrap_or_default();
            // Values decrypted from ansible-vault are secrets whatever their name.
            let mut redactor = crate::secret::Redactor::new();
            for v in crate::vault::secret_values() {
                redactor.add(&v);
            }
            print_out(&redactor.redact(&text))?;
        }
        InventoryCommand::Graph => print_out(&inventory.graph())?,
    }
    Ok(ExitCode::Ok)
}

fn address(h: &crate::inventory::Host) -> String {
    let addr = h
        .var(&["host", "ansible_host"])
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| h.name.clone());
    match h.var(&["port", "ansible_port"]) {
        Some(p) => format!(
            "{addr}:{}",
            p.as_str().map(str::to_owned).unwrap_or(p.to_string())
        ),
        None => addr,
    }
}
