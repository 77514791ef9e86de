//! TextFSM conformance: `netorch parse` gives the same records as the reference
//! implementation, Google's textfsm with ntc-templates (pinned in tests/parse/requirements.txt,
//! installed by scripts/pyenv into ${NETORCH_PYENV:-~/.cache/netorch-test/pyenv}).
//!
//! - the corpus (tests/parse/corpus.yml, tests/parse/corpus/<platform>/*.txt): outputs as
//!   devices print them, each parsed by tests/parse/oracle.py (one Python process for all) and
//!   by netorch (one process per entry, with `--textfsm-dir` on the venv's ntc-templates);
//! - every template of the five platforms' index rows, on the empty string and on one line of
//!   garbage (cheap, broad: the Error states, the EOF record, Required values).
//!
//! Records are compared as JSON values: the order of keys does not matter, the order of records
//! does. Both sides failing counts as agreement. Missing Python environment = failure (CI runs
//! scripts/setup first), never a silent skip.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{netorch, root};

const PLATFORMS: [&str; 5] = [
    "cisco_ios",
    "arista_eos",
    "cisco_nxos",
    "juniper_junos",
    "cisco_xr",
];

/// The one-line garbage input of the every-template test. No "word: word" in it: Python's
/// backtracking regex engine takes ~20 s on such a line with the nested quantifiers of
/// cisco_ios_show_capability_feature_routing's `((\S+(\s)*)+):\s(\w+)`.
const GARBAGE: &str = "xyzzy garbage line 42 %% ## 0xDEAD\n";

#[derive(serde::Deserialize)]
struct Entry {
    platform: String,
    command: String,
    file: String,
    note: String,
}

fn parse_dir() -> PathBuf {
    root().join("tests/parse")
}

fn corpus() -> Vec<Entry> {
    let path = parse_dir().join("corpus.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The pinned venv's python; fails the test (with how to fix it) when it is missing.
fn python() -> PathBuf {
    let venv = crate::util::pyenv();
    let py = venv.join("bin/python");
    assert!(
        py.is_file(),
        "parse conformance: no Python test environment at {} (textfsm + ntc-templates): \
         run scripts/setup (scripts/pyenv)",
        venv.display()
    );
    py
}

/// The folder of ntc-templates' `index` inside the venv.
fn templates_dir(py: &Path) -> PathBuf {
    let out = Command::new(py)
        .args([
            "-c",
            "from ntc_templates.parse import _get_template_dir; print(_get_template_dir())",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ntc_templates is not importable from {}: run scripts/pyenv\n{}",
        py.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(dir.join("index").is_file(), "no index in {}", dir.display());
    dir
}

/// Runs tests/parse/oracle.py with `args` and returns its JSON object.
fn oracle(py: &Path, args: &[&str]) -> serde_json::Map<String, Value> {
    let out = Command::new(py)
        .arg(parse_dir().join("oracle.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "oracle.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout) {
        Ok(Value::Object(m)) => m,
        other => panic!("oracle.py {args:?} printed no JSON object: {other:?}"),
    }
}

/// What one implementation made of one input.
#[derive(Debug)]
enum Outcome {
    Records(Vec<Value>),
    /// It refused the input (textfsm's Error state, no template...): the message.
    Error(String),
    /// netorch succeeded but did not print a JSON array: never agrees with anything.
    Invalid(String),
}

impl Outcome {
    /// The oracle's `{"records": [...]}` or `{"error": "..."}`.
    fn from_oracle(v: &Value) -> Outcome {
        match (v.get("records"), v.get("error")) {
            (Some(Value::Array(r)), _) => Outcome::Records(r.clone()),
            (_, Some(e)) => Outcome::Error(e.as_str().unwrap_or_default().to_string()),
            _ => Outcome::Invalid(format!("oracle answer without records or error: {v}")),
        }
    }

    fn show(&self) -> String {
        match self {
            Outcome::Records(r) => format!("{} records", r.len()),
            Outcome::Error(e) => format!("error: {}", e.trim()),
            Outcome::Invalid(e) => format!("invalid output: {e}"),
        }
    }
}

/// `netorch parse --platform P --command C --textfsm-dir DIR [--template T] --allow-empty
/// --json FILE...`: what it made of each file. `--allow-empty`: textfsm returns no records (no error) when a template with
/// Required values finds nothing; netorch refuses that by default, on purpose (the output is
/// usually not what the template reads), which is policy, not the engine under test.
fn netorch_parse(
    platform: &str,
    command: &str,
    tdir: &Path,
    template: Option<&Path>,
    files: &[&Path],
) -> Vec<Outcome> {
    let mut cmd = netorch();
    cmd.args(["parse", "--platform", platform, "--command", command])
        .arg("--textfsm-dir")
        .arg(tdir);
    if let Some(t) = template {
        cmd.arg("--template").arg(t);
    }
    let out = cmd
        .args(["--allow-empty", "--json"])
        .args(files)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let error = || {
        Outcome::Error(if stderr.trim().is_empty() {
            format!("exit {} and nothing on stderr", out.status)
        } else {
            stderr.clone()
        })
    };
    let stdout = || format!("{:.300}", String::from_utf8_lossy(&out.stdout));
    if files.len() == 1 {
        if !out.status.success() {
            return vec![error()];
        }
        return vec![match serde_json::from_slice(&out.stdout) {
            Ok(Value::Array(r)) => Outcome::Records(r),
            _ => Outcome::Invalid(format!("stdout is not a JSON array: {}", stdout())),
        }];
    }
    // Several files: an object keyed by file with the ones that parsed; a file that did not
    // is named on stderr and the exit status is not 0 (nothing at all on stdout when the
    // template itself is broken).
    let parsed = match serde_json::from_slice::<Value>(&out.stdout) {
        Ok(Value::Object(m)) => m,
        _ if !out.status.success() && out.stdout.iter().all(u8::is_ascii_whitespace) => {
            Default::default()
        }
        _ => {
            let why = format!("stdout is not a JSON object: {}", stdout());
            return files
                .iter()
                .map(|_| Outcome::Invalid(why.clone()))
                .collect();
        }
    };
    files
        .iter()
        .map(|f| match parsed.get(f.to_str().unwrap_or_default()) {
            Some(Value::Array(r)) => Outcome::Records(r.clone()),
            Some(other) => Outcome::Invalid(format!("not an array: {other:.300}")),
            None if !out.status.success() => error(),
            None => Outcome::Invalid("missing from the JSON object, yet exit 0".into()),
        })
        .collect()
}

/// None when both agree, else a description of the first difference.
fn disagreement(python: &Outcome, netorch: &Outcome) -> Option<String> {
    match (python, netorch) {
        (Outcome::Error(_), Outcome::Error(_)) => None,
        (Outcome::Records(p), Outcome::Records(n)) => {
            let first = (0..p.len().max(n.len())).find(|&i| p.get(i) != n.get(i))?;
            let show = |r: Option<&Value>| match r {
                Some(v) => serde_json::to_string(v).unwrap_or_default(),
                None => "(no such record)".to_string(),
            };
            Some(format!(
                "{} records (python) vs {} (netorch); first difference at record {first}{}\n    \
                 python:  {}\n    netorch: {}",
                p.len(),
                n.len(),
                differing_keys(p.get(first), n.get(first)),
                show(p.get(first)),
                show(n.get(first)),
            ))
        }
        (p, n) => Some(format!("python: {}\n    netorch: {}", p.show(), n.show())),
    }
}

/// " (keys: a, b)": the keys whose values differ (or that only one side has).
fn differing_keys(p: Option<&Value>, n: Option<&Value>) -> String {
    let (Some(Value::Object(p)), Some(Value::Object(n))) = (p, n) else {
        return String::new();
    };
    let keys: BTreeSet<&String> = p.keys().chain(n.keys()).collect();
    let diff: Vec<&str> = keys
        .into_iter()
        .filter(|k| p.get(*k) != n.get(*k))
        .map(String::as_str)
        .collect();
    format!(" (keys: {})", diff.join(", "))
}

/// Runs `f` over `items` on a few threads, results in the items' order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let n = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8);
    let chunk = items.len().div_ceil(n).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

#[test]
fn corpus_files_and_corpus_yml_list_each_other() {
    let entries = corpus();
    let base = parse_dir().join("corpus");
    let listed: BTreeSet<String> = entries.iter().map(|e| e.file.clone()).collect();
    assert_eq!(listed.len(), entries.len(), "a file is listed twice");
    let mut on_disk = BTreeSet::new();
    for platform in std::fs::read_dir(&base).unwrap().flatten() {
        if !platform.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(platform.path()).unwrap().flatten() {
            let rel = f.path().strip_prefix(&base).unwrap().to_path_buf();
            on_disk.insert(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&on_disk).collect();
    assert!(
        unlisted.is_empty() && missing.is_empty(),
        "corpus files not in corpus.yml: {unlisted:?}; corpus.yml entries without a file: {missing:?}"
    );
    for e in &entries {
        assert!(
            PLATFORMS.contains(&e.platform.as_str()),
            "{}: unknown platform {}",
            e.file,
            e.platform
        );
        assert!(
            e.file.starts_with(&format!("{}/", e.platform)),
            "{}: not in its platform's folder ({})",
            e.file,
            e.platform
        );
        assert!(
            !e.command.trim().is_empty() && !e.note.trim().is_empty(),
            "{}: command and note must say something",
            e.file
        );
    }
    assert!(entries.len() >= 60, "only {} corpus entries", entries.len());
    for p in PLATFORMS {
        let n = entries.iter().filter(|e| e.platform == p).count();
        assert!(n >= 8, "only {n} corpus entries for {p}");
    }
}

#[test]
fn netorch_parses_the_corpus_like_textfsm() {
    let py = python();
    let tdir = templates_dir(&py);
    let entries = corpus();
    let corpus_yml = parse_dir().join("corpus.yml");
    let expected = oracle(&py, &[corpus_yml.to_str().unwrap()]);
    let base = parse_dir().join("corpus");
    let outcomes = par_map(&entries, |e| {
        let file = base.join(&e.file);
        let mut got = netorch_parse(&e.platform, &e.command, &tdir, None, &[&file]);
        got.pop().unwrap()
    });
    let mut bad = Vec::new();
    for (e, got) in entries.iter().zip(&outcomes) {
        let want = expected
            .get(&e.file)
            .map(Outcome::from_oracle)
            .unwrap_or_else(|| Outcome::Invalid("the oracle has no answer".into()));
        if let Some(d) = disagreement(&want, got) {
            bad.push(format!(
                "{} ({} / {:?}; {}):\n    {d}",
                e.file, e.platform, e.command, e.note
            ));
        }
    }
    println!(
        "parse conformance: {}/{} outputs agree",
        entries.len() - bad.len(),
        entries.len()
    );
    assert!(
        bad.is_empty(),
        "{} of {} corpus outputs disagree with textfsm + ntc-templates:\n\n{}",
        bad.len(),
        entries.len(),
        bad.join("\n\n")
    );
}

#[test]
fn every_template_agrees_on_empty_and_garbage_input() {
    let py = python();
    let tdir = templates_dir(&py);
    let dir = tempfile::tempdir().unwrap();
    let empty = crate::util::write(dir.path(), "empty.txt", "");
    let garbage = crate::util::write(dir.path(), "garbage.txt", GARBAGE);
    let expected = oracle(
        &py,
        &[
            "--templates",
            tdir.to_str().unwrap(),
            "--platforms",
            &PLATFORMS.join(","),
            "--each-template",
            empty.to_str().unwrap(),
            garbage.to_str().unwrap(),
        ],
    );
    assert!(
        expected.len() > 300,
        "only {} templates in the index",
        expected.len()
    );
    // One netorch process per template for both inputs (netorch's debug build spends most
    // of a run compiling the template's regexes).
    let templates: Vec<(&String, &Value)> = expected.iter().collect();
    let outcomes = par_map(&templates, |(template, t)| {
        netorch_parse(
            t["platform"].as_str().unwrap_or_default(),
            t["command"].as_str().unwrap_or_default(),
            &tdir,
            Some(&tdir.join(template)),
            &[empty.as_path(), garbage.as_path()],
        )
    });
    let mut bad = Vec::new();
    let mut runs = 0;
    for ((template, t), got) in templates.iter().zip(&outcomes) {
        for (input, got) in [&empty, &garbage].into_iter().zip(got) {
            runs += 1;
            let want = t["results"]
                .get(input.to_str().unwrap())
                .map(Outcome::from_oracle)
                .unwrap_or_else(|| Outcome::Invalid("the oracle has no answer".into()));
            if let Some(d) = disagreement(&want, got) {
                let what = input.file_name().unwrap().to_string_lossy();
                bad.push(format!("{template} on {what}:\n    {d}"));
            }
        }
    }
    println!(
        "parse conformance: {}/{} template runs agree (empty and garbage input, {} templates)",
        runs - bad.len(),
        runs,
        expected.len()
    );
    assert!(
        bad.is_empty(),
        "{} of {} template runs disagree with textfsm:\n\n{}",
        bad.len(),
        runs,
        bad.join("\n\n")
    );
}

/// The commands the simulator answers that ntc-templates has a template for (sim/PARSING.md),
/// by netorch platform; (ntc platform, command).
const SIM_COMMANDS: [(&str, &str, &[&str]); 5] = [
    (
        "cisco_ios",
        "cisco_ios",
        &[
            "show version",
            "show interfaces",
            "show interfaces status",
            "show ip interface brief",
            "show vlan",
            "show ip route",
            "show clock",
            "show inventory",
            "show users",
            "show cdp neighbors",
            "show lldp neighbors",
        ],
    ),
    (
        "arista_eos",
        "arista_eos",
        &[
            "show version",
            "show interfaces",
            "show interfaces status",
            "show ip interface brief",
            "show vlan",
            "show ip route",
            "show clock",
            "show inventory",
            "show hostname",
            "show lldp neighbors",
        ],
    ),
    (
        "cisco_nxos",
        "cisco_nxos",
        &[
            "show version",
            "show interface",
            "show interface status",
            "show interface brief",
            "show ip interface brief",
            "show vlan",
            "show ip route",
            "show clock",
            "show inventory",
            "show hostname",
            "show cdp neighbors",
            "show lldp neighbors",
        ],
    ),
    (
        "cisco_iosxr",
        "cisco_xr",
        &[
            "show version",
            "show interfaces",
            "show ipv4 interface brief",
            "show route",
            "show lldp neighbors",
        ],
    ),
    (
        "juniper_junos",
        "juniper_junos",
        &["show version", "show system uptime", "show lldp neighbors"],
    ),
];

/// Everything the simulator prints for those commands: netorch and textfsm agree on every
/// output, and every output gives records (the sim's text is what the templates read).
#[test]
fn the_simulators_outputs_parse_cleanly_and_like_textfsm() {
    let py = python();
    let tdir = templates_dir(&py);
    let work = tempfile::tempdir().unwrap();
    let mut yml = String::new();
    let mut entries: Vec<(String, String, PathBuf)> = Vec::new();
    for (platform, ntc, commands) in SIM_COMMANDS {
        // Not the default password `admin`: reports mask the password wherever it appears,
        // and "admin" is also a word of several outputs (`admin state is up`).
        let sim = crate::util::sim::Sim::with(platform, 1)
            .password("s1m-Passw0rd-parse")
            .start();
        let out = sim
            .netorch("exec")
            .arg("--json")
            .args(commands.iter())
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{platform}: exec --json: {e}: {out:?}"));
        let outputs = doc["plays"][0]["tasks"][0]["hosts"][0]["commands"]
            .as_array()
            .unwrap_or_else(|| panic!("{platform}: no command outputs: {doc:#}"))
            .clone();
        assert_eq!(outputs.len(), commands.len(), "{platform}: {doc:#}");
        for (cmd, o) in commands.iter().zip(&outputs) {
            let file = format!("{ntc}/{}.txt", cmd.replace(' ', "_"));
            let path = work.path().join("corpus").join(&file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, o["output"].as_str().unwrap()).unwrap();
            yml.push_str(&format!(
                "- {{platform: {ntc}, command: '{cmd}', file: {file}, note: sim}}\n"
            ));
            entries.push((ntc.to_string(), cmd.to_string(), path));
        }
    }
    let corpus_yml = work.path().join("corpus.yml");
    std::fs::write(&corpus_yml, yml).unwrap();
    let expected = oracle(&py, &[corpus_yml.to_str().unwrap()]);
    let mut bad = Vec::new();
    for (ntc, cmd, path) in &entries {
        let got = netorch_parse(ntc, cmd, &tdir, None, &[path]).pop().unwrap();
        let file = path
            .strip_prefix(work.path().join("corpus"))
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let want = expected
            .get(&file)
            .map(Outcome::from_oracle)
            .unwrap_or_else(|| Outcome::Invalid("the oracle has no answer".into()));
        if let Some(d) = disagreement(&want, &got) {
            bad.push(format!("{ntc} `{cmd}`: {d}"));
        } else if !matches!(&got, Outcome::Records(r) if !r.is_empty()) {
            bad.push(format!("{ntc} `{cmd}`: no records: {}", got.show()));
        }
    }
    println!(
        "parse conformance: {}/{} simulator outputs parse and agree",
        entries.len() - bad.len(),
        entries.len()
    );
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}
