//! Validation before touch (issue 11 §1): every playbook in tests/broken/ has one mistake
//! that only shows once its templates are rendered for a host. `check` must refuse each
//! with the task's file:line, and `run` must refuse it before opening any connection (the
//! simulator's connection log stays empty).

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::sim::Sim;
use crate::util::{netorch, root};

fn corpus() -> PathBuf {
    root().join("tests/broken")
}

/// Each broken playbook with what its first line promises: `# expect: LINE: message`.
fn broken_playbooks() -> Vec<(PathBuf, usize, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".yml") || name == "inventory.yml" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let header = text.lines().next().unwrap_or_default();
        let rest = header
            .strip_prefix("# expect: ")
            .unwrap_or_else(|| panic!("{name}: first line must be `# expect: LINE: message`"));
        let (line, message) = rest.split_once(": ").unwrap();
        out.push((path, line.parse().unwrap(), message.to_string()));
    }
    out.sort();
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_refused(out: &Output, path: &Path, line: usize, message: &str) {
    let name = path.file_name().unwrap().to_string_lossy();
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(4), "{name}: {err}");
    assert!(
        err.contains(&format!("{name}:{line}:")),
        "{name}: the error must point at line {line}: {err}"
    );
    assert!(
        err.contains(message),
        "{name}: expected `{message}` in: {err}"
    );
    assert!(!err.contains("panicked"), "{name}: {err}");
}

#[test]
fn the_corpus_covers_every_kind_of_mistake() {
    assert!(broken_playbooks().len() >= 25);
}

#[test]
fn check_refuses_each_broken_playbook_at_its_line() {
    for (path, line, message) in broken_playbooks() {
        // From another folder: paths are found beside the playbook, never in the cwd.
        let elsewhere = tempfile::tempdir().unwrap();
        let out = netorch()
            .current_dir(elsewhere.path())
            .args(["check", "-i"])
            .arg(corpus().join("inventory.yml"))
            .arg(&path)
            .output()
            .unwrap();
        assert_refused(&out, &path, line, &message);
    }
}

#[test]
fn run_refuses_each_broken_playbook_before_any_connection() {
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("connections.log");
    let sim = Sim::with("cisco_ios", 2)
        .arg("--connection-log")
        .arg(log.to_str().unwrap())
        .start();
    for (path, line, message) in broken_playbooks() {
        let out = sim.netorch("run").arg(&path).output().unwrap();
        assert_refused(&out, &path, line, &message);
    }
    let touched = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(touched, "", "a refused run connected to a device");

    // The log does record connections: a valid command reaches both devices.
    let out = sim.netorch("exec").arg("show clock").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let touched = std::fs::read_to_string(&log).unwrap();
    assert_eq!(touched.lines().count(), 2, "{touched}");
}

/// All problems of a check at once, each file's sorted by line, with a count at the end.
#[test]
fn every_problem_is_reported_at_once_with_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("three.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: one\n      command: \"show {{ a }}\"\n    - name: two\n      command: show version\n      when: x = 1\n    - name: three\n      debug:\n        msg: \"{{ b | nosuch }}\"\n",
    )
    .unwrap();
    let out = netorch()
        .current_dir(dir.path())
        .args(["check", "-i"])
        .arg(corpus().join("inventory.yml"))
        .arg("three.yml")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    let one = err.find("three.yml:4:7: task `one`").expect(&err);
    let two = err.find("three.yml:6:7: task `two`").expect(&err);
    let three = err.find("three.yml:9:7: task `three`").expect(&err);
    assert!(one < two && two < three, "{err}");
    assert!(err.trim_end().ends_with("3 problems found"), "{err}");
}

/// Names that only the run defines (register, set_fact, loop variables), guarded
/// variables and Jinja's own names are no false alarm.
#[test]
fn runtime_names_are_not_false_alarms() {
    let out = netorch()
        .current_dir(root())
        .args(["check", "-i", "tests/broken/inventory.yml"])
        .arg("tests/fixtures/runtime_names.yml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A template that only the current folder has is not found: a playbook's templates
/// and files come from beside it or beside the inventory, so the same check gives the
/// same answer from any folder.
#[test]
fn templates_are_never_taken_from_the_current_folder() {
    let project = tempfile::tempdir().unwrap();
    let pbs = project.path().join("playbooks");
    let inv = project.path().join("inventory");
    std::fs::create_dir_all(&pbs).unwrap();
    std::fs::create_dir_all(&inv).unwrap();
    std::fs::create_dir_all(project.path().join("templates")).unwrap();
    std::fs::copy(corpus().join("inventory.yml"), inv.join("hosts.yml")).unwrap();
    std::fs::write(
        project.path().join("templates/ntp.j2"),
        "ntp server {{ ntp }}\n",
    )
    .unwrap();
    std::fs::write(
        pbs.join("site.yml"),
        "- hosts: all\n  gather_facts: false\n  vars: {ntp: 10.0.0.1}\n  tasks:\n    - config:\n        template: ntp.j2\n",
    )
    .unwrap();
    // Beside the inventory folder: found from the root and from inside playbooks/.
    for (cwd, inv_arg, pb_arg) in [
        (
            project.path().to_path_buf(),
            "inventory",
            "playbooks/site.yml",
        ),
        (pbs.clone(), "../inventory", "site.yml"),
    ] {
        let out = netorch()
            .current_dir(&cwd)
            .args(["check", "-i", inv_arg, pb_arg])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "from {cwd:?}: {}", stderr(&out));
    }
    // A templates/ folder in the current folder alone does not count.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(other.path().join("templates")).unwrap();
    std::fs::write(other.path().join("templates/only-here.j2"), "x\n").unwrap();
    std::fs::write(
        pbs.join("cwd.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - config:\n        template: only-here.j2\n",
    )
    .unwrap();
    let out = netorch()
        .current_dir(other.path())
        .arg("check")
        .arg("-i")
        .arg(&inv)
        .arg(pbs.join("cwd.yml"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("template `only-here.j2` not found"), "{err}");
}
