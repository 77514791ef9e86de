//! `netorch push SRC DEST -i INV` and `netorch pull REMOTE LOCAL_DIR -i INV`: bulk file
//! distribution without writing a playbook. Each builds a one-task playbook in memory
//! (`upload` or `download`) and runs it through [`super::run::execute`], so the results,
//! recap, `--json`, `--junit`, Ctrl-C and exit codes are the same as `netorch run`.
//!
//! Pulled files land in `LOCAL_DIR/<host>/NAME`; the download's `root` keeps every file
//! inside that folder whatever the remote name or the host name says.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{ExitCode, Result};
use crate::Error;

use super::common::{PlayOpts, RunOpts};
use super::run::{execute, playbook_in_memory, RunRequest};

/// Options shared by push and pull.
#[derive(Debug, clap::Args)]
#[command(mut_arg("check", |a| a.help(
    "Change nothing: show which hosts would get (or give) the file"
)))]
pub struct TransferOpts {
    #[command(flatten)]
    pub run: RunOpts,

    #[command(flatten)]
    pub play: PlayOpts,

    /// sftp, scp, ftp or ftps (default: the host's `transport`, else sftp for shell hosts
    /// and scp for devices).
    #[arg(long, value_parser = ["sftp", "scp", "ftp", "ftps"])]
    pub protocol: Option<String>,

    /// How the copy is checked: sha256, md5, size or none.
    #[arg(long, default_value = "sha256", value_parser = ["sha256", "md5", "size", "none"])]
    pub verify: String,

    /// Start over instead of resuming a partial transfer.
    #[arg(long)]
    pub no_resume: bool,

    /// At most this many bytes per second per host (`500K`, `10M`).
    #[arg(long, value_name = "RATE")]
    pub bandwidth: Option<String>,

    /// The transfer's own timeout per host, in seconds (default: the host's
    /// `transfer_timeout`, else 3600).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The local file to send.
    #[arg(value_name = "SRC")]
    pub src: PathBuf,
    /// Where it goes on each host (templated per host; a trailing `/` keeps SRC's name),
    /// e.g. `/opt/fw/` or `flash:/fw.bin`.
    #[arg(value_name = "DEST")]
    pub dest: String,
    /// Permission bits for the written file (`0644`).
    #[arg(long, value_name = "OCTAL")]
    pub mode: Option<String>,
    /// Create missing parent folders on the host.
    #[arg(long)]
    pub mkdirs: bool,
    #[command(flatten)]
    pub opts: TransferOpts,
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// The file to fetch from each host (templated per host).
    #[arg(value_name = "REMOTE")]
    pub remote: String,
    /// Files land in LOCAL_DIR/<host>/.
    #[arg(value_name = "LOCAL_DIR")]
    pub local_dir: PathBuf,
    #[command(flatten)]
    pub opts: TransferOpts,
}

pub fn push(args: PushArgs, verbose: u8) -> Result<ExitCode> {
    let src = std::path::absolute(&args.src).map_err(|e| Error::io(&args.src, e))?;
    let meta = std::fs::metadata(&src).map_err(|e| Error::io(&src, e))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!("{} is not a file", src.display())));
    }
    let mut task = serde_json::Map::new();
    task.insert("src".into(), Value::from(src.display().to_string()));
    task.insert("dest".into(), Value::from(args.dest.clone()));
    task.insert("mkdirs".into(), Value::from(args.mkdirs));
    if let Some(m) = &args.mode {
        task.insert("mode".into(), Value::from(m.clone()));
    }
    let name = format!("push {} -> {}", src.display(), args.dest);
    run_one(&args.opts, "upload", task, &name, verbose)
}

pub fn pull(args: PullArgs, verbose: u8) -> Result<ExitCode> {
    std::fs::create_dir_all(&args.local_dir).map_err(|e| Error::io(&args.local_dir, e))?;
    let dir = std::path::absolute(&args.local_dir).map_err(|e| Error::io(&args.local_dir, e))?;
    let mut task = serde_json::Map::new();
    task.insert("src".into(), Value::from(args.remote.clone()));
    task.insert("dest".into(), Value::from("./"));
    // The host name is a single folder: `/` or `..` in it cannot climb out (checked by the
    // action on the rendered root).
    task.insert(
        "root".into(),
        Value::from(format!(
            "{}/{{{{ inventory_hostname | replace('/', '_') }}}}",
            dir.display()
        )),
    );
    let name = format!("pull {} -> {}/<host>/", args.remote, dir.display());
    run_one(&args.opts, "download", task, &name, verbose)
}

fn run_one(
    o: &TransferOpts,
    action: &str,
    mut task: serde_json::Map<String, Value>,
    name: &str,
    verbose: u8,
) -> Result<ExitCode> {
    if let Some(p) = &o.protocol {
        task.insert("protocol".into(), Value::from(p.clone()));
    }
    task.insert("verify".into(), Value::from(o.verify.clone()));
    task.insert("resume".into(), Value::from(!o.no_resume));
    if let Some(b) = &o.bandwidth {
        // Checked by the upload/download arguments like a playbook's `bandwidth:`.
        task.insert("bandwidth".into(), Value::from(b.clone()));
    }
    if let Some(t) = o.timeout {
        if !(t.is_finite() && t > 0.0) {
            return Err(Error::Usage(format!("--timeout {t}: must be more than 0")));
        }
        task.insert("timeout".into(), Value::from(t));
    }
    let word = if action == "upload" { "push" } else { "pull" };
    let pb_path = std::env::current_dir()
        .map_err(|e| Error::io(Path::new("."), e))?
        .join(format!("<netorch {word}>"));
    let mut play = serde_json::Map::new();
    play.insert("name".into(), Value::from(name));
    play.insert("hosts".into(), Value::from("all"));
    o.play.apply(&mut play);
    play.insert(
        "tasks".into(),
        json!([{ "name": name, action: Value::Object(task) }]),
    );
    let mut req = RunRequest::load(&o.run, &[], verbose)?;
    req.playbooks = vec![playbook_in_memory(&pb_path, Value::Object(play))?];
    let report = execute(req)?;
    Ok(report.exit_code())
}
