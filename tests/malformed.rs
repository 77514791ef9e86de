//! Integration tests: malformed input. Every file in tests/malformed/ must fail to load
//! with a message naming file:line:col and saying what was found and expected; generated
//! monsters (10,000-deep nesting, a 50 MB file) are refused cleanly; and a proptest fuzzes
//! the playbook loader with YAML-ish noise and mutated valid playbooks: it must never panic.

use std::path::{Path, PathBuf};

use netorch::playbook::Playbook;
use netorch::Error;
use proptest::prelude::*;

use crate::util;

fn corpus(name: &str) -> PathBuf {
    util::root().join("tests/malformed").join(name)
}

/// The whole error text (one or several load errors).
fn load_error(path: &Path) -> String {
    match Playbook::load(path) {
        Ok(_) => panic!("{} loaded, expected an error", path.display()),
        Err(e @ (Error::Load(_) | Error::LoadMany(_))) => e.to_string(),
        Err(other) => panic!("{}: not a load error: {other:?}", path.display()),
    }
}

/// (file, substrings its error must contain). The first substring is always the
/// position: `name.yml:line:col: ` (or `name.yml: ` for whole-file errors).
const TABLE: &[(&str, &[&str])] = &[
    (
        "block_rescue_typo.yml",
        &["block_rescue_typo.yml:6:7: ", "unknown key `resuce`", "did you mean `rescue`?"],
    ),
    (
        "rescue_without_block.yml",
        &["rescue_without_block.yml:4:7: ", "`rescue` without `block`"],
    ),
    (
        "block_with_action.yml",
        &["block_with_action.yml:4:7: ", "`block` and the action `command`", "move `command` into a task"],
    ),
    (
        "block_with_register.yml",
        &["block_with_register.yml:4:7: ", "`register` cannot be used on a block"],
    ),
    (
        "block_inner_typo.yml",
        &["block_inner_typo.yml:7:11: ", "unknown key `registr`", "did you mean `register`?"],
    ),
    (
        "delegate_elsewhere.yml",
        &["delegate_elsewhere.yml:5:20: ", "delegate_to `core1` is not supported", "delegate_to: localhost"],
    ),
    (
        "become_sudo.yml",
        &["become_sudo.yml:4:18: ", "become_method `sudo` is not supported", "enable"],
    ),
    (
        "copy_src_to_device.yml",
        &["copy_src_to_device.yml:4:13: ", "would copy a file to the device", "use `upload"],
    ),
    (
        "connection_typo.yml",
        &["connection_typo.yml:3:15: ", "connection `netwrk_cli`", "did you mean `network_cli`?"],
    ),
    (
        "command_delegated.yml",
        &["command_delegated.yml:5:20: ", "`command` talks to the device", "cannot be delegated"],
    ),
    (
        "tab_indent.yml",
        &["tab_indent.yml:4:1: ", "tab character", "indent with spaces"],
    ),
    (
        "unknown_key.yml",
        &[
            "unknown_key.yml:6:7: ",
            "unknown key `registr` in task \"Show version\"",
            "expected a task keyword",
            "hint: did you mean `register`?",
        ],
    ),
    (
        "two_actions.yml",
        &[
            "two_actions.yml:5:7: ",
            "task \"Version and debug\" has two actions, `command` and `debug`",
            "exactly one action",
        ],
    ),
    (
        "no_action.yml",
        &[
            "no_action.yml:3:7: ",
            "task \"Forgot the action\" has no action",
            "command, config, confirm, template, backup, upload, download, wait_for, assert, set_fact, fail, debug",
        ],
    ),
    (
        "retries_lots.yml",
        &[
            "retries_lots.yml:6:16: ",
            "retries: expected a whole number, found string \"lots\"",
        ],
    ),
    (
        "retries_u32_max.yml",
        &[
            "retries_u32_max.yml:6:16: ",
            "retries must be at most 10000, found 4294967295",
        ],
    ),
    (
        "forks_huge.yml",
        &[
            "forks_huge.yml:2:10: ",
            "forks must be from 1 to 10000, found 99999999999",
        ],
    ),
    (
        "forks_u64_max.yml",
        &[
            "forks_u64_max.yml:2:10: ",
            "forks must be from 1 to 10000, found 18446744073709551615",
        ],
    ),
    (
        "bad_host_pattern.yml",
        &[
            "bad_host_pattern.yml:2:10: ",
            "bad host pattern `core:&`",
            "empty term after `&`",
        ],
    ),
    (
        "missing_template.yml",
        &[
            "missing_template.yml:5:19: ",
            "template `ntpp.j2` not found; looked in ",
            "tests/malformed/templates",
            "did you mean `ntp.j2`?",
        ],
    ),
    (
        "cycle_a.yml",
        &[
            "cycle_b.yml:1:20: ",
            "import cycle: cycle_a.yml -> cycle_b.yml -> cycle_a.yml",
        ],
    ),
    (
        "task_cycle.yml",
        &[
            "loop_b.yml:1:18: ",
            "import cycle: tasks/loop_a.yml -> tasks/loop_b.yml -> tasks/loop_a.yml",
        ],
    ),
    (
        "empty.yml",
        &["empty.yml: ", "the file is empty; expected a list of plays"],
    ),
    (
        "non_utf8.yml",
        &["non_utf8.yml:3:24: ", "invalid UTF-8 (byte 0xe9", "expected UTF-8"],
    ),
    (
        "alias_bomb.yml",
        &["alias_bomb.yml: ", "repetition limit exceeded", "alias bomb"],
    ),
    (
        "duplicate_key.yml",
        &["duplicate_key.yml:5:7: ", "duplicate key `name` in task \"First\""],
    ),
    (
        "duplicate_play_key.yml",
        &[
            "duplicate_play_key.yml:2:3: ",
            "duplicate key `hosts`",
            "may appear once",
        ],
    ),
    (
        "duplicate_var.yml",
        &["duplicate_var.yml:5:7: ", "vars.ntp: duplicate key `primary`"],
    ),
    (
        "play_is_string.yml",
        &[
            "play_is_string.yml:1:3: ",
            "expected a play (a mapping with `hosts` and `tasks`)",
            "found string \"show version\"",
        ],
    ),
    (
        "playbook_is_map.yml",
        &[
            "playbook_is_map.yml:1:1: ",
            "expected a list of plays, found a mapping",
        ],
    ),
    (
        "tasks_is_map.yml",
        &[
            "tasks_is_map.yml:3:5: ",
            "expected a list of tasks, found a mapping",
            "start each task with `- `",
        ],
    ),
    (
        "unknown_action.yml",
        &[
            "unknown_action.yml:4:7: ",
            "unknown key `comand`",
            "did you mean the action `command`?",
        ],
    ),
    (
        "ansible_shell.yml",
        &[
            "ansible_shell.yml:4:7: ",
            "unknown key `ansible.builtin.shell`",
            "use `command`",
        ],
    ),
    (
        "serial_150.yml",
        &[
            "serial_150.yml:2:11: ",
            "serial percentage must be a whole number from 1% to 100%, found 150%",
        ],
    ),
    (
        "when_numbers.yml",
        &[
            "when_numbers.yml:5:14: ",
            "when[0]: expected a condition",
            "found integer 1",
        ],
    ),
    (
        "register_invalid.yml",
        &[
            "register_invalid.yml:5:17: ",
            "`not valid` is not a valid variable name",
            "try `not_valid`",
        ],
    ),
    (
        "loop_and_with_items.yml",
        &[
            "loop_and_with_items.yml:6:7: ",
            "`with_items` and `loop` both set",
            "use only `loop`",
        ],
    ),
    (
        "unknown_module_arg.yml",
        &[
            "unknown_module_arg.yml:5:9: ",
            "command: unknown key `comands`; expected one of: commands, expect, timeout",
            "did you mean `commands`?",
        ],
    ),
    (
        "retries_without_until.yml",
        &[
            "retries_without_until.yml:3:7: ",
            "`retries` without `until`",
            "add `until:",
        ],
    ),
    (
        "max_fail_150.yml",
        &[
            "max_fail_150.yml:2:24: ",
            "max_fail_percentage must be between 0 and 100, found 150",
        ],
    ),
    (
        "config_two_sources.yml",
        &[
            "config_two_sources.yml:5:9: ",
            "config takes exactly one of `lines`, `template` or `src`; found `lines` and `template`",
        ],
    ),
    (
        "missing_import.yml",
        &[
            "missing_import.yml:3:21: ",
            "import_tasks: file `tasks/nothere.yml` not found",
        ],
    ),
    (
        "no_hosts.yml",
        &[
            "no_hosts.yml:1:3: ",
            "play \"Where\" has no `hosts`",
            "add `hosts: all`",
        ],
    ),
    (
        "bad_duration.yml",
        &[
            "bad_duration.yml:5:16: ",
            "timeout: expected a duration",
            "found string \"soon\"",
        ],
    ),
    (
        "unknown_play_key.yml",
        &[
            "unknown_play_key.yml:2:3: ",
            "unknown key `taks`",
            "did you mean `tasks`?",
        ],
    ),
    (
        "unknown_notify.yml",
        &[
            "unknown_notify.yml:5:15: ",
            "notify `save confg`: no handler has this name",
            "did you mean `save config`?",
        ],
    ),
    (
        "listen_in_task.yml",
        &[
            "listen_in_task.yml:5:7: ",
            "task \"Not a handler\" uses `listen`, which only handlers have",
        ],
    ),
    (
        "bad_verify.yml",
        &[
            "bad_verify.yml:4:60: ",
            "unknown value `crc`; expected one of: sha256, md5, size, none",
        ],
    ),
    (
        "two_missing_templates.yml",
        &[
            "two_missing_templates.yml:3:26: ",
            "two_missing_templates.yml:4:26: ",
            "template `one.j2` not found",
            "template `two.j2` not found",
        ],
    ),
    (
        "unclosed_bracket.yml",
        &[
            "unclosed_bracket.yml:3:29: ",
            "did not find expected ',' or ']', while parsing a flow sequence (at the end of the file)",
        ],
    ),
    (
        "tags_numbers.yml",
        &["tags_numbers.yml:4:14: ", "expected a tag (a string), found integer 1"],
    ),
    (
        "import_with_register.yml",
        &[
            "import_with_register.yml:3:7: ",
            "`register` cannot be used with `import_tasks`",
        ],
    ),
];

#[test]
fn every_malformed_playbook_has_an_actionable_message() {
    let mut failures = Vec::new();
    for (file, expected) in TABLE {
        let msg = load_error(&corpus(file));
        for want in *expected {
            if !msg.contains(want) {
                failures.push(format!("{file}: missing {want:?} in\n{msg}\n"));
            }
        }
        // Every message shows the offending line when it has a position.
        // (Invalid UTF-8 has no text to show.)
        if expected[0].matches(':').count() == 3 && *file != "non_utf8.yml" {
            assert!(msg.contains(" | "), "{file}: no source snippet in\n{msg}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_table_covers_the_whole_corpus() {
    let listed: Vec<&str> = TABLE.iter().map(|(f, _)| *f).collect();
    assert!(listed.len() >= 22);
    let helpers = ["cycle_b.yml"]; // imported by cycle_a.yml; checked through it
    for entry in std::fs::read_dir(util::root().join("tests/malformed")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                listed.contains(&name.as_str()) || helpers.contains(&name.as_str()),
                "{name} is in tests/malformed/ but not in TABLE"
            );
        }
    }
}

#[test]
fn several_problems_are_reported_together() {
    match Playbook::load(&corpus("two_missing_templates.yml")) {
        Err(Error::LoadMany(errors)) => {
            assert_eq!(errors.len(), 2);
            assert_eq!(errors[0].line, Some(3));
            assert_eq!(errors[1].line, Some(4));
        }
        other => panic!("expected two errors, got {other:?}"),
    }
}

#[test]
fn ten_thousand_deep_nesting_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, open, close) in [("seq.yml", "[", "]"), ("map.yml", "{a: ", "}")] {
        let path = dir.path().join(name);
        let text = format!(
            "- hosts: all\n  vars:\n    deep: {}1{}\n  tasks: []\n",
            open.repeat(10_000),
            close.repeat(10_000)
        );
        std::fs::write(&path, text).unwrap();
        let msg = load_error(&path);
        assert!(msg.contains(&format!("{name}:3:")), "{msg}");
        assert!(msg.contains("nests deeper than netorch accepts"), "{msg}");
    }
}

#[test]
fn a_hundred_thousand_deep_flow_nesting_is_refused_before_parsing() {
    // The YAML parser's cost grows with the square of the depth: this took over a minute.
    let dir = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    for name in ["play.yml", "vars.yml"] {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("- hosts: all\n  vars:\n    deep: {}\n", "[".repeat(100_000)),
        )
        .unwrap();
        let msg = load_error(&path);
        assert!(
            msg.contains(&format!("{name}:3:{}: ", 11 + 128)),
            "{}",
            &msg[..200.min(msg.len())]
        );
        assert!(
            msg.contains("nests deeper than netorch accepts (128 levels"),
            "{msg}"
        );
    }
    // An inventory and a vars file loaded by the CLI, too.
    let inv = dir.path().join("inv.yml");
    std::fs::write(
        &inv,
        format!("all:\n  vars:\n    deep: {}\n", "{a: ".repeat(100_000)),
    )
    .unwrap();
    let out = util::netorch()
        .args(["inventory", "list", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("inv.yml:3:"), "{err}");
    assert!(err.contains("nests deeper than netorch accepts"), "{err}");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn special_files_are_refused_not_read_until_memory_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("inv.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for (inv, kind) in [
        (Path::new("/dev/zero"), "a character device"),
        (fifo.as_path(), "a FIFO (named pipe)"),
    ] {
        let out = util::netorch()
            .args(["inventory", "list", "-i"])
            .arg(inv)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{err}");
        assert!(
            err.contains(&format!(
                "{}: is {kind}, expected a regular file",
                inv.display()
            )),
            "{err}"
        );
    }
    // lookup('file') in a template reads through the same check.
    let inv = dir.path().join("inv.yml");
    std::fs::write(&inv, "all:\n  hosts:\n    r1:\n").unwrap();
    let pb = dir.path().join("pb.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  tasks:\n    - debug: {msg: \"{{ lookup('file', '/dev/zero') }}\"}\n",
    )
    .unwrap();
    let out = util::netorch()
        .arg("run")
        .arg("-i")
        .arg(&inv)
        .arg(&pb)
        .arg("--json")
        .output()
        .unwrap();
    // Validation renders the message before the run, so the run is refused (exit 4).
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("/dev/zero: is a character device, expected a regular file"),
        "{err}"
    );
}

#[test]
fn a_50_mb_file_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yml");
    // A sparse file: 50 MB long, instant to make, nothing to commit.
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(50 * 1024 * 1024).unwrap();
    let start = std::time::Instant::now();
    let msg = load_error(&path);
    assert!(msg.contains("huge.yml: file is 52.4 MB"), "{msg}");
    assert!(msg.contains("at most 16 MB"), "{msg}");
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn a_directory_or_missing_file_is_a_load_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(load_error(dir.path()).contains("is a directory"));
    assert!(load_error(&dir.path().join("nope.yml")).contains("nope.yml: file not found"));
}

#[test]
fn malformed_inventories_fail_with_the_file_named() {
    let cases: &[(&str, &[&str])] = &[
        ("tab_indent.yml", &["tab_indent.yml:3:"]),
        ("hosts_is_list.yml", &["hosts_is_list.yml:"]),
        ("bad_section.ini", &["bad_section.ini:3"]),
        ("empty.yml", &["empty.yml"]),
    ];
    for (file, expected) in cases {
        let path = corpus("inventory").join(file);
        let msg = match netorch::inventory::Inventory::load(std::slice::from_ref(&path)) {
            Ok(_) => panic!("{file} loaded, expected an error"),
            Err(e) => e.to_string(),
        };
        for want in *expected {
            assert!(msg.contains(want), "{file}: missing {want:?} in\n{msg}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// fuzzing

/// Characters that matter to YAML, plus letters that make keys.
const YAMLISH: &str = "[-a-z_:{}\\[\\]\"' \n\t&*!|>#%@,?0-9.]{0,300}";

/// Task and play vocabulary, so random documents reach the typed parsers.
const WORDS: &[&str] = &[
    "- ",
    "  ",
    "    ",
    "\n",
    "name: x",
    "hosts: all",
    "tasks:",
    "handlers:",
    "command:",
    "config:",
    "lines:",
    "template: ntp.j2",
    "src:",
    "dest:",
    "upload:",
    "download:",
    "wait_for:",
    "port: 22",
    "seconds: 1",
    "assert:",
    "that:",
    "set_fact:",
    "fail:",
    "debug:",
    "msg: hi",
    "var: x",
    "when:",
    "register: r",
    "loop:",
    "\"{{ x }}\"",
    "[1, 2]",
    "{}",
    "[]",
    "until: r",
    "retries: 3",
    "delay: 1",
    "serial: 25%",
    "serial: [1, 50%]",
    "tags: [a]",
    "notify: h",
    "listen: h",
    "import_tasks: tasks/common.yml",
    "include_tasks: x.yml",
    "import_playbook: other.yml",
    "vars:",
    "a: &a [1]",
    "b: *a",
    "<<: *a",
    "save: true",
    "protocol: scp",
    "verify: md5",
    "mode: 0644",
    "bandwidth: 10M",
    "timeout: 5s",
    "max_fail_percentage: 50",
    "strategy: free",
    "yes",
    "no",
    "null",
    "~",
    "!!str",
    "---",
    "...",
    "#",
    "\t",
];

fn site_text() -> String {
    std::fs::read_to_string(util::root().join("tests/fixtures/playbooks/site.yml")).unwrap()
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Insert(usize, char),
    DupLine(usize),
    DropLine(usize),
    SwapLines(usize, usize),
}

fn mutate(text: &str, muts: &[Mutation]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for m in muts {
        match *m {
            Mutation::Delete(i) if !chars.is_empty() => {
                chars.remove(i % chars.len());
            }
            Mutation::Insert(i, c) => {
                let at = i % (chars.len() + 1);
                chars.insert(at, c);
            }
            Mutation::DupLine(i) | Mutation::DropLine(i) | Mutation::SwapLines(i, _) => {
                let s: String = chars.iter().collect();
                let mut lines: Vec<&str> = s.lines().collect();
                if lines.is_empty() {
                    continue;
                }
                let a = i % lines.len();
                match *m {
                    Mutation::DupLine(_) => lines.insert(a, lines[a]),
                    Mutation::DropLine(_) => {
                        lines.remove(a);
                    }
                    Mutation::SwapLines(_, j) => {
                        let b = j % lines.len();
                        lines.swap(a, b);
                    }
                    _ => {}
                }
                chars = lines.join("\n").chars().collect();
            }
            Mutation::Delete(_) => {}
        }
    }
    chars.into_iter().collect()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let ch = prop::sample::select(
        " -:{}[]\"'\n\t&*!|>#%@,?0123456789abcxyz"
            .chars()
            .collect::<Vec<_>>(),
    );
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), ch).prop_map(|(i, c)| Mutation::Insert(i, c)),
        any::<usize>().prop_map(Mutation::DupLine),
        any::<usize>().prop_map(Mutation::DropLine),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::SwapLines(i, j)),
    ]
}

/// Loading must return (Ok or a load error), never panic. Loading is relative to the
/// fixture folder so that imports and templates resolve.
fn must_not_panic(text: &str) {
    let path = util::root().join("tests/fixtures/playbooks/fuzz.yml");
    match Playbook::load_str(&path, text, &[]) {
        Ok(_) | Err(Error::Load(_)) | Err(Error::LoadMany(_)) => {}
        Err(other) => panic!("unexpected error kind {other:?}"),
    }
}

fn config() -> ProptestConfig {
    // PROPTEST_CASES (default 256) sets the length of the run; no regression files are
    // written into the tree.
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_yamlish_noise(text in YAMLISH) {
        must_not_panic(&text);
    }

    #[test]
    fn fuzz_vocabulary(words in prop::collection::vec(prop::sample::select(WORDS), 0..80)) {
        must_not_panic(&words.join(" "));
        must_not_panic(&words.concat());
    }

    #[test]
    fn fuzz_mutated_site_playbook(muts in prop::collection::vec(mutation(), 1..8)) {
        must_not_panic(&mutate(&site_text(), &muts));
    }
}

/// Keys from every level of the language (play, task, action arguments).
const KEYS: &[&str] = &[
    "name",
    "hosts",
    "tasks",
    "handlers",
    "pre_tasks",
    "post_tasks",
    "vars",
    "vars_files",
    "serial",
    "max_fail_percentage",
    "strategy",
    "forks",
    "gather_facts",
    "tags",
    "timeout",
    "host_timeout",
    "connect_rate",
    "check_mode",
    "import_playbook",
    "when",
    "register",
    "loop",
    "loop_control",
    "until",
    "retries",
    "delay",
    "ignore_errors",
    "changed_when",
    "failed_when",
    "no_log",
    "notify",
    "listen",
    "with_items",
    "import_tasks",
    "include_tasks",
    "command",
    "config",
    "template",
    "backup",
    "upload",
    "download",
    "wait_for",
    "assert",
    "set_fact",
    "fail",
    "debug",
    "ios_config",
    "commands",
    "expect",
    "prompt",
    "answer",
    "lines",
    "parents",
    "src",
    "dest",
    "save",
    "diff_against",
    "protocol",
    "verify",
    "mode",
    "mkdirs",
    "resume",
    "bandwidth",
    "port",
    "host",
    "state",
    "seconds",
    "that",
    "fail_msg",
    "msg",
    "var",
    "verbosity",
    "store",
    "path",
    "loop_var",
    "label",
];

const STRS: &[&str] = &[
    "all",
    "ntp.j2",
    "x.yml",
    "other.yml",
    "tasks/common.yml",
    "{{ x }}",
    "25%",
    "150%",
    "0644",
    "10M",
    "5s",
    "sha256",
    "scp",
    "running",
    "when_changed",
    "a b",
    "",
    "core:&",
    "~[",
    "show version",
    "started",
    "free",
    "item",
    "save config",
];

fn yaml_value() -> impl Strategy<Value = serde_yaml::Value> {
    use serde_yaml::Value;
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..200).prop_map(Value::from),
        (0.0f64..2.0).prop_map(Value::from),
        prop::sample::select(STRS).prop_map(Value::from),
    ];
    scalar.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Sequence),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..4).prop_map(|kv| {
                Value::Mapping(kv.into_iter().map(|(k, v)| (Value::from(k), v)).collect())
            }),
        ]
    })
}

fn yaml_map(
    keys: impl Strategy<Value = Vec<(&'static str, serde_yaml::Value)>>,
) -> impl Strategy<Value = serde_yaml::Mapping> {
    keys.prop_map(|kv| {
        kv.into_iter()
            .map(|(k, v)| (serde_yaml::Value::from(k), v))
            .collect()
    })
}

/// Well-formed YAML with the language's own keys and random values: reaches the typed
/// argument parsers and the post-parse checks, not only the YAML scanner.
fn structured_playbook() -> impl Strategy<Value = String> {
    let task = yaml_map(prop::collection::vec(
        (prop::sample::select(KEYS), yaml_value()),
        1..5,
    ));
    let play = (
        prop::collection::vec(task, 0..5),
        yaml_map(prop::collection::vec(
            (prop::sample::select(KEYS), yaml_value()),
            0..3,
        )),
    )
        .prop_map(|(tasks, mut extra)| {
            use serde_yaml::Value;
            extra.insert(Value::from("hosts"), Value::from("all"));
            extra.insert(
                Value::from("tasks"),
                Value::Sequence(tasks.into_iter().map(Value::Mapping).collect()),
            );
            Value::Mapping(extra)
        });
    prop::collection::vec(play, 1..3)
        .prop_map(|plays| serde_yaml::to_string(&plays).unwrap_or_default())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_structured_playbooks(text in structured_playbook()) {
        must_not_panic(&text);
    }
}

#[test]
fn netorch_check_reports_each_malformed_playbook_with_exit_code_4() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("hosts.yml");
    std::fs::write(&inv, "all:\n  hosts:\n    sw1:\n").unwrap();
    for (file, expected) in TABLE {
        let out = util::netorch()
            .arg("check")
            .arg(corpus(file))
            .arg("-i")
            .arg(&inv)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{file}: {stderr}");
        assert!(stderr.contains(expected[0]), "{file}: {stderr}");
        assert!(!stderr.contains("panicked"), "{file}: {stderr}");
    }
}
