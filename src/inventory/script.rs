//! Dynamic inventories: an executable run with `--list` that prints Ansible's JSON
//! (`{"group": {"hosts": [...], "vars": {...}, "children": [...]}, "_meta": {"hostvars":
//! {...}}}`; a group may also be a plain list of hosts). Without `_meta`, each host's vars
//! come from `SCRIPT --host NAME`, as Ansible does it.
//!
//! The script runs with a timeout in its own process group (so a shell script's children
//! die with it); a failure reports the exit code or signal and the script's stderr.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use indexmap::IndexSet;
use serde_json::Value;

use super::builder::{Builder, Origin};
use crate::source::LoadError;
use crate::transport::capture::Capped;
use crate::value::kind_of;
use crate::value::Vars;

/// Output beyond this is a runaway script, not an inventory (100,000 hosts with their
/// variables fit in a fraction of it).
const MAX_OUTPUT_BYTES: u64 = 64 << 20;

/// How much of a script's stderr is kept (its head and its end).
const STDERR_KEPT: u64 = 64 << 10;

/// Linux's "text file busy".
const ETXTBSY: i32 = 26;

/// How much of a failing script's stderr goes into the error.
const MAX_STDERR_LINES: usize = 20;

/// Gets one host's vars (`SCRIPT --host NAME`) when the output has no `_meta`.
pub(crate) type HostVarsFetch<'a> = dyn Fn(&str) -> Result<Vars, LoadError> + 'a;

/// Run `script --list` and load its JSON.
pub(crate) fn load_script(
    path: &Path,
    b: &mut Builder,
    timeout: Duration,
) -> Result<(), LoadError> {
    let out = run(path, &["--list"], timeout)?;
    let fetch = |host: &str| -> Result<Vars, LoadError> {
        let text = run(path, &["--host", host], timeout)?;
        match parse_json(path, &text, &format!("--host {host}"))? {
            Value::Object(v) => Ok(v),
            Value::Null => Ok(Vars::new()),
            other => Err(LoadError::file(
                path,
                format!(
                    "`--host {host}` printed {}, expected a JSON object of variables",
                    kind_of(&other)
                ),
            )),
        }
    };
    let data = parse_json(path, &out, "--list")?;
    load_json(path, data, b, Some(&fetch))
}

/// Load Ansible's `--list` JSON (from a script, or a saved `.json` file of that shape).
/// `fetch` gives a host's vars when the output has no `_meta`.
pub(crate) fn load_json(
    path: &Path,
    data: Value,
    b: &mut Builder,
    fetch: Option<&HostVarsFetch>,
) -> Result<(), LoadError> {
    let Value::Object(top) = data else {
        return Err(LoadError::file(
            path,
            format!(
                "the dynamic inventory printed {}, expected a JSON object of groups",
                kind_of(&data)
            ),
        ));
    };
    let origin = Origin::file(path);
    let mut seen: IndexSet<String> = IndexSet::new();
    let mut meta: Option<Value> = None;
    for (group, gdata) in top {
        if group == "_meta" {
            meta = Some(gdata);
            continue;
        }
        let g = b.group(&group);
        let bad = |what: &str, v: &Value| {
            LoadError::file(
                path,
                format!(
                    "group `{group}`: `{what}` must be {}, found {}",
                    expected(what),
                    kind_of(v)
                ),
            )
        };
        let (hosts, vars, children) = match gdata {
            Value::Array(hosts) => (Value::Array(hosts), Value::Null, Value::Null),
            Value::Object(mut o) => (
                o.remove("hosts").unwrap_or(Value::Null),
                o.remove("vars").unwrap_or(Value::Null),
                o.remove("children").unwrap_or(Value::Null),
            ),
            Value::Null => continue,
            other => return Err(bad("group", &other)),
        };
        match hosts {
            Value::Null => {}
            Value::Array(list) => {
                for h in list {
                    let Value::String(name) = h else {
                        return Err(bad("hosts", &Value::Array(vec![h])));
                    };
                    super::hostname::check_host_name(&name).map_err(|why| {
                        LoadError::file(path, format!("group `{group}`: host {why}"))
                    })?;
                    b.host(&name, Some(g));
                    seen.insert(name);
                }
            }
            other => return Err(bad("hosts", &other)),
        }
        match vars {
            Value::Null => {}
            Value::Object(vars) => {
                for (k, v) in vars {
                    b.set_group_var(g, k, v, &origin)?;
                }
            }
            other => return Err(bad("vars", &other)),
        }
        match children {
            Value::Null => {}
            Value::Array(list) => {
                for c in list {
                    let Value::String(name) = c else {
                        return Err(bad("children", &Value::Array(vec![c])));
                    };
                    let c = b.group(&name);
                    b.add_child(g, c, origin.clone());
                }
            }
            other => return Err(bad("children", &other)),
        }
    }
    let mut hostvars = match meta {
        None => None,
        Some(Value::Object(mut m)) => match m.remove("hostvars") {
            None | Some(Value::Null) => Some(Vars::new()),
            Some(Value::Object(hv)) => Some(hv),
            Some(other) => {
                return Err(LoadError::file(
                    path,
                    format!(
                        "`_meta.hostvars` must be an object of hosts, found {}",
                        kind_of(&other)
                    ),
                ))
            }
        },
        Some(other) => {
            return Err(LoadError::file(
                path,
                format!("`_meta` must be an object, found {}", kind_of(&other)),
            ))
        }
    };
    for name in &seen {
        // Taken, not cloned: 10,000 hosts' vars (a NetBox inventory) are most of the load.
        let vars = match (&mut hostvars, fetch) {
            (Some(hv), _) => match hv.get_mut(name).map(Value::take) {
                None | Some(Value::Null) => continue,
                Some(Value::Object(v)) => v,
                Some(other) => {
                    return Err(LoadError::file(
                        path,
                        format!(
                            "`_meta.hostvars.{name}` must be an object, found {}",
                            kind_of(&other)
                        ),
                    ))
                }
            },
            (None, Some(fetch)) => fetch(name)?,
            (None, None) => continue,
        };
        let h = b.host(name, None);
        b.set_host_vars(h, vars);
    }
    Ok(())
}

fn expected(what: &str) -> &'static str {
    match what {
        "hosts" => "a list of host names",
        "children" => "a list of group names",
        "vars" => "an object of variables",
        _ => "an object with hosts, vars and children, or a list of hosts",
    }
}

/// Parse a script's output; an error quotes the output line it points at.
pub(crate) fn parse_json(path: &Path, text: &str, args: &str) -> Result<Value, LoadError> {
    serde_json::from_str(text).map_err(|e| {
        let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
        let shown: String = line.chars().take(120).collect();
        LoadError::file(
            path,
            format!(
                "`{args}` printed invalid JSON (output line {}, column {}): {e}\n   | {shown}",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Run the script with `args`; its stdout, or an error with the exit status and stderr.
///
/// The timeout bounds the whole run, reading the pipes included: a script that exits but
/// leaves a child holding its stdout (`sleep 75 &`) is stopped at the deadline, not
/// waited for. Its output is capped at [`MAX_OUTPUT_BYTES`] (the script is stopped as soon
/// as it passes the cap); only the end of its stderr is kept.
fn run(path: &Path, args: &[&str], timeout: Duration) -> Result<String, LoadError> {
    use std::os::unix::process::{CommandExt, ExitStatusExt};

    let shown = format!("{} {}", path.display(), args.join(" "));
    // A bare name (`-i inv.sh`) is the file in the current folder: Command would look
    // it up through PATH and could run some other program of that name.
    let program = if path.components().count() == 1 && path.is_relative() {
        Path::new(".").join(path)
    } else {
        path.to_path_buf()
    };
    let spawn = || {
        Command::new(&program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
    };
    // ETXTBSY: a script written a moment ago may still be open for writing in a child some
    // other thread forked; that clears within milliseconds.
    let mut attempt = spawn();
    for _ in 0..20 {
        match &attempt {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) => {
                std::thread::sleep(Duration::from_millis(10));
                attempt = spawn();
            }
            _ => break,
        }
    }
    let mut child = attempt.map_err(|e| {
        LoadError::file(
            path,
            format!("cannot run the dynamic inventory `{shown}`: {e}"),
        )
        .with_hint(
            "an executable inventory file is run as a script; if this is a static \
                     inventory, remove its executable bit (chmod -x)",
        )
    })?;
    let (tx, rx) = mpsc::channel::<Piped>();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let r = out.take(MAX_OUTPUT_BYTES + 1).read_to_end(&mut buf);
            let _ = tx.send(Piped::Stdout(buf, r.err()));
        });
    } else {
        let _ = tx.send(Piped::Stdout(Vec::new(), None));
    }
    if let Some(mut err) = child.stderr.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            // Drained to the end (a script blocked on a full stderr pipe would look hung),
            // keeping its head and tail.
            let mut kept = Capped::new(STDERR_KEPT);
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                kept.extend(&buf[..n]);
            }
            let _ = tx.send(Piped::Stderr(kept.text()));
        });
    } else {
        let _ = tx.send(Piped::Stderr(String::new()));
    }
    drop(tx);

    let deadline = Instant::now() + timeout;
    let stopped = |child: &mut std::process::Child, why: String| {
        kill_group(child);
        LoadError::file(path, why)
    };
    let late = || {
        format!(
            "the dynamic inventory `{shown}` did not finish within {} s and was stopped",
            timeout.as_secs_f64()
        )
    };
    let (mut out, mut err) = (None, None);
    while out.is_none() || err.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Piped::Stdout(buf, e)) => {
                if buf.len() as u64 > MAX_OUTPUT_BYTES {
                    return Err(stopped(
                        &mut child,
                        format!(
                            "`{shown}` printed more than {} MiB and was stopped",
                            MAX_OUTPUT_BYTES >> 20
                        ),
                    ));
                }
                if let Some(e) = e {
                    return Err(stopped(&mut child, format!("reading `{shown}`: {e}")));
                }
                out = Some(buf);
            }
            Ok(Piped::Stderr(text)) => err = Some(text),
            // Both readers are gone without a word: nothing more will come.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let still = if matches!(child.try_wait(), Ok(Some(_))) {
                    format!(
                        "{}: the script exited but something it started kept its output \
                         open (a background job?)",
                        late()
                    )
                } else {
                    late()
                };
                return Err(stopped(&mut child, still));
            }
        }
    }
    // Both pipes are closed: the script is exiting, if it has not already.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => return Err(stopped(&mut child, late())),
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                return Err(stopped(&mut child, format!("waiting for `{shown}`: {e}")));
            }
        }
    };
    let out = out.unwrap_or_default();
    let err = err.unwrap_or_default();
    if !status.success() {
        let how = match (status.code(), status.signal()) {
            (Some(c), _) => format!("exit code {c}"),
            (None, Some(s)) => format!("signal {s}"),
            _ => "an unknown status".to_string(),
        };
        let lines: Vec<&str> = err.trim_end().lines().collect();
        let tail = &lines[lines.len().saturating_sub(MAX_STDERR_LINES)..];
        let detail = if tail.is_empty() {
            " and printed nothing on stderr".to_string()
        } else {
            format!("; its stderr:\n   | {}", tail.join("\n   | "))
        };
        return Err(LoadError::file(
            path,
            format!("the dynamic inventory `{shown}` failed with {how}{detail}"),
        ));
    }
    String::from_utf8(out).map_err(|e| {
        LoadError::file(
            path,
            format!(
                "`{shown}` printed invalid UTF-8 at byte {}; expected JSON",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// What a pipe reader thread hands back.
enum Piped {
    /// Up to `MAX_OUTPUT_BYTES + 1` bytes, and the read error if one ended it.
    Stdout(Vec<u8>, Option<std::io::Error>),
    Stderr(String),
}

/// Stop the script and anything it started (it leads its own process group).
fn kill_group(child: &mut std::process::Child) {
    let pgid = child.id();
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load(v: Value) -> Result<crate::inventory::Inventory, LoadError> {
        let mut b = Builder::new();
        load_json(Path::new("inv.py"), v, &mut b, None)?;
        b.finish(&[], &[], &[])
    }

    #[test]
    fn groups_lists_children_and_meta() {
        let inv = load(json!({
            "core": {"hosts": ["r1", "r2"], "vars": {"ntp": "from_core"}},
            "dc": {"children": ["core", "edge"]},
            "edge": ["e1"],
            "_meta": {"hostvars": {"r1": {"ansible_host": "10.0.0.1"}, "ghost": {"x": 1}}}
        }))
        .unwrap();
        assert_eq!(inv.hosts.keys().collect::<Vec<_>>(), ["r1", "r2", "e1"]);
        assert_eq!(inv.hosts["r1"].vars["ansible_host"], "10.0.0.1");
        assert_eq!(inv.hosts["r2"].vars["ntp"], "from_core");
        assert_eq!(inv.hosts["e1"].groups, ["all", "dc", "edge"]);
    }

    #[test]
    fn wrong_types_name_the_group() {
        let e = load(json!({"core": {"hosts": {"r1": {}}}})).unwrap_err();
        assert!(
            e.message
                .contains("group `core`: `hosts` must be a list of host names, found a mapping"),
            "{e}"
        );
        let e = load(json!(["r1"])).unwrap_err();
        assert!(
            e.message.contains("expected a JSON object of groups"),
            "{e}"
        );
    }

    #[test]
    fn invalid_json_quotes_the_line() {
        let e = parse_json(Path::new("inv.py"), "{\n  \"core\": [r1]\n}", "--list").unwrap_err();
        assert!(e.message.contains("output line 2"), "{e}");
        assert!(e.message.contains("\"core\": [r1]"), "{e}");
    }
}
