//! `netorch parse --platform P --command C FILE...`: parse saved command output offline
//! (TextFSM, JSON or a regex), to write and test templates before a playbook uses them.

use std::io::Read;
use std::path::PathBuf;

use serde_json::Value;

use crate::device::ProfileSet;
use crate::error::{ExitCode, Result};
use crate::parse::{self, Library, ParseError};
use crate::Error;

#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    /// The device platform the output came from: netorch's name (cisco_iosxr) or
    /// ntc-templates' (cisco_xr).
    #[arg(long)]
    pub platform: Option<String>,

    /// The command that printed the output, as typed (`sh ip int br` is fine): picks the
    /// template from the index.
    #[arg(long)]
    pub command: Option<String>,

    /// A TextFSM template to use instead of the index (repeat to merge several on their Key
    /// values, as an index row with `a:b` does).
    #[arg(long, value_name = "FILE")]
    pub template: Vec<PathBuf>,

    /// The template library: a folder with an `index` (ntc-templates' `templates` folder).
    /// Default: $NETORCH_TEXTFSM, $NET_TEXTFSM, then an installed ntc_templates package.
    #[arg(long, value_name = "DIR")]
    pub textfsm_dir: Option<PathBuf>,

    /// Your own templates, searched before the library: a folder with its own `index`, or
    /// files named like the library's that replace them. Default: ./parsers if it exists.
    #[arg(long, value_name = "DIR")]
    pub parsers: Option<PathBuf>,

    /// Parse the output as JSON (a device's `| json` answer) instead of with TextFSM.
    #[arg(long, conflicts_with_all = ["template", "regex"])]
    pub as_json: bool,

    /// Parse with a regex with named groups (Python syntax): one record per match.
    #[arg(long, value_name = "REGEX", conflicts_with = "template")]
    pub regex: Option<String>,

    /// Accept an empty result from a template whose values are Required (an error by
    /// default: the output is usually not what the template reads).
    #[arg(long)]
    pub allow_empty: bool,

    /// Print the records as JSON: an array for one file, an object keyed by file for several.
    #[arg(long)]
    pub json: bool,

    /// Files of saved command output; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

fn read_input(path: &PathBuf) -> Result<String> {
    let bytes = if path.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|e| Error::io("<stdin>", e))?;
        b
    } else {
        std::fs::read(path).map_err(|e| Error::io(path, e))?
    };
    // Saved output may hold bytes from a device in another encoding: keep what decodes.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub fn run(args: ParseArgs) -> Result<ExitCode> {
    let mode = if args.as_json {
        Mode::Json
    } else if let Some(r) = &args.regex {
        Mode::Regex(r.clone())
    } else if !args.template.is_empty() {
        Mode::Templates(args.template.clone())
    } else {
        let (Some(platform), Some(command)) = (&args.platform, &args.command) else {
            return Err(Error::Usage(
                "say which template parses the output: --platform and --command (looked up in the index), or --template FILE, --regex or --as-json".into(),
            ));
        };
        // netorch's platform names map to the index's through the profiles.
        let platform = ProfileSet::builtin()
            .get(platform)
            .map(|p| p.textfsm_platform().to_string())
            .unwrap_or_else(|| platform.clone());
        let user = args.parsers.clone().or_else(|| {
            let p = PathBuf::from("parsers");
            p.is_dir().then_some(p)
        });
        if let Some(u) = &args.parsers {
            if !u.is_dir() {
                return Err(Error::Usage(format!(
                    "--parsers {}: not a folder",
                    u.display()
                )));
            }
        }
        Mode::Index {
            library: Library::discover(user, args.textfsm_dir.clone()),
            platform,
            command: command.clone(),
        }
    };
    // Files are parsed on every core (a folder of saved outputs is the common case), a
    // chunk at a time so that memory stays flat however many files; printed in the order given.
    let many = args.files.len() > 1;
    let chunk = std::thread::available_parallelism().map_or(1, |n| n.get()) * 16;
    let mut failed = 0usize;
    let mut printed = 0usize;
    for (ci, files) in args.files.chunks(chunk).enumerate() {
        let outcomes = parse_all(&mode, files, args.allow_empty, args.json);
        let mut out = String::new();
        if ci == 0 && args.json && many {
            out.push_str("{\n");
        }
        for (file, outcome) in files.iter().zip(outcomes) {
            let name = file.display().to_string();
            match outcome {
                Ok(piece) => {
                    if args.json && many {
                        if printed > 0 {
                            out.push_str(",\n");
                        }
                        out.push_str(&format!(
                            "  {}: {}",
                            Value::from(name.as_str()),
                            piece.replace('\n', "\n  ")
                        ));
                    } else if args.json {
                        out.push_str(&piece);
                        out.push('\n');
                    } else {
                        if many {
                            out.push_str(&format!("== {}\n", crate::terminal::escape(&name)));
                        }
                        out.push_str(&piece);
                    }
                    printed += 1;
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {name}: {e}");
                    if matches!(
                        e,
                        ParseError::Template { .. }
                            | ParseError::Index { .. }
                            | ParseError::NoLibrary
                    ) {
                        // Nothing else can parse with a broken template or library.
                        return Ok(ExitCode::InvalidInput);
                    }
                }
            }
        }
        super::common::print_out(&out)?;
    }
    if args.json && many {
        super::common::print_out("\n}\n")?;
    }
    Ok(if failed > 0 {
        ExitCode::HostFailed
    } else {
        ExitCode::Ok
    })
}

/// Parses each file and renders its records (pretty JSON or a table), on all cores.
fn parse_all(
    mode: &Mode,
    files: &[PathBuf],
    allow_empty: bool,
    json: bool,
) -> Vec<Result<String, ParseError>> {
    let one = |file: &PathBuf| -> Result<String, ParseError> {
        let text = read_input(file).map_err(|e| match e {
            Error::Io { path, source } => ParseError::Io { path, source },
            other => ParseError::Io {
                path: file.clone(),
                source: std::io::Error::other(other.to_string()),
            },
        })?;
        let out = mode.parse(&text, allow_empty)?;
        Ok(match (json, out) {
            (true, Out::Records(r)) => serde_json::to_string_pretty(&r).unwrap_or_default(),
            (true, Out::Value(v)) => serde_json::to_string_pretty(&v).unwrap_or_default(),
            (false, Out::Records(r)) => crate::report::records_table(&r.to_json()),
            (false, Out::Value(v)) => crate::report::records_table(&v),
        })
    };
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len())
        .max(1);
    if workers == 1 {
        return files.iter().map(one).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<Result<String, ParseError>>>> =
        files.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                let r = one(file);
                *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| {
                    Err(ParseError::Io {
                        path: PathBuf::from("?"),
                        source: std::io::Error::other("a parse worker stopped"),
                    })
                })
        })
        .collect()
}

enum Mode {
    Json,
    Regex(String),
    Templates(Vec<PathBuf>),
    Index {
        library: Library,
        platform: String,
        command: String,
    },
}

/// Records stay in their table until printed (no JSON tree for thousands of files).
enum Out {
    Records(parse::Records),
    Value(Value),
}

impl Mode {
    fn parse(&self, text: &str, allow_empty: bool) -> Result<Out, ParseError> {
        let records = match self {
            Mode::Json => return parse::parse_json(text).map(Out::Value),
            Mode::Regex(r) => return parse::parse_regex(r, text).map(Out::Value),
            Mode::Templates(t) => parse::parse_templates(t, text)?,
            Mode::Index {
                library,
                platform,
                command,
            } => library.parse_command(platform, command, text)?,
        };
        if !allow_empty {
            records.check_required()?;
        }
        Ok(Out::Records(records))
    }
}
