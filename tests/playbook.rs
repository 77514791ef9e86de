//! Integration tests: playbook loading (`netorch::playbook`): every part of the language
//! in tests/fixtures/playbooks/site.yml, imports, locations, tags, template lookup, speed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use netorch::actions::{
    ConfigSource, DebugWhat, DiffAgainst, Protocol, SaveWhen, Verify, WaitForArgs,
};
use netorch::playbook::{Action, Loop, Playbook, SerialStep, Strategy};

use crate::util;

fn fixture(name: &str) -> PathBuf {
    util::root().join("tests/fixtures/playbooks").join(name)
}

/// The project's inventory: templates and files are also looked up beside it.
fn inventories() -> Vec<PathBuf> {
    vec![util::root().join("inventory")]
}

fn site() -> Playbook {
    match Playbook::load_beside(&fixture("site.yml"), &inventories()) {
        Ok(p) => p,
        Err(e) => panic!("site.yml should load:\n{e}"),
    }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn site_play_fields_are_typed() {
    let pb = site();
    assert_eq!(pb.plays.len(), 2, "the play plus the imported other.yml");
    let p = &pb.plays[0];
    assert_eq!(p.name.as_deref(), Some("Access switches"));
    assert_eq!(p.hosts, "access:&ams");
    let serial = p.serial.as_ref().unwrap();
    assert_eq!(
        serial.0,
        vec![SerialStep::Count(1), SerialStep::Percent(25)]
    );
    assert_eq!(serial.batch_sizes(8), vec![1, 2, 2, 2, 1]);
    assert_eq!(p.max_fail_percentage, Some(10.0));
    assert_eq!(p.strategy, Strategy::Free);
    assert_eq!(p.forks, Some(10));
    assert!(!p.gather_facts);
    assert_eq!(p.connect_rate, Some(2.5));
    assert_eq!(p.timeout, Some(Duration::from_secs(30)));
    assert_eq!(p.host_timeout, Some(Duration::from_secs(300)));
    assert_eq!(p.vars["site"], "ams");
    assert_eq!(p.vars_files.len(), 1);
    assert!(p.vars_files[0].ends_with("files/extra_vars.yml"));
    assert_eq!(p.pre_tasks.len(), 1);
    assert_eq!(p.handlers.len(), 1);
    assert_eq!(p.handlers[0].listen, s(&["saves"]));
    assert_eq!(p.handlers_notified_by("save config").count(), 1);
    assert_eq!(p.handlers_notified_by("saves").count(), 1);
    assert_eq!(p.handlers_notified_by("Version").count(), 0);
    assert_eq!(p.source.line, 2);
    assert_eq!(pb.plays[1].hosts, "core");
    assert!(pb.plays[1].source.file.ends_with("other.yml"));
}

#[test]
fn site_actions_are_typed() {
    let pb = site();
    let t = &pb.plays[0].tasks;
    let by_name = |n: &str| t.iter().find(|x| x.name.as_deref() == Some(n)).unwrap();

    let ver = by_name("Version");
    assert!(matches!(&ver.action, Action::Command(c) if c.commands == s(&["show version"])));
    assert_eq!(ver.register.as_deref(), Some("ver"));

    let ntp = by_name("Push NTP");
    match &ntp.action {
        Action::Config(c) => {
            assert_eq!(c.source, ConfigSource::Template("ntp.j2".into()));
            assert_eq!(c.save, SaveWhen::WhenChanged);
            assert_eq!(c.diff_against, Some(DiffAgainst::Running));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ntp.when.as_ref().unwrap().0, s(&["'IOS' in ver.stdout"]));
    assert_eq!(ntp.notify, s(&["save config"]));

    let intf = by_name("Interfaces");
    assert_eq!(intf.action_key, "ios_config");
    assert!(
        matches!(&intf.action, Action::Config(c) if c.source == ConfigSource::Lines {
            lines: s(&["description uplink", "no shutdown"]),
            parents: s(&["interface Gi0/1"]),
        })
    );
    assert_eq!(intf.loop_, Some(Loop::Expr("{{ uplinks }}".into())));
    assert_eq!(intf.loop_control.as_ref().unwrap().loop_var, "port");

    let retry = by_name("Retry until up");
    assert_eq!(retry.retries, Some(5));
    assert_eq!(retry.delay, Some(Duration::from_secs(2)));
    assert!(retry.ignore_errors);
    assert_eq!(retry.changed_when.as_ref().unwrap().0, s(&["false"]));

    match &by_name("Firmware").action {
        Action::Upload(u) => {
            assert_eq!(u.protocol, Some(Protocol::Scp));
            assert_eq!(u.verify, Verify::Sha256);
            assert_eq!(u.mode, Some(0o644));
            assert_eq!(u.bandwidth, Some(10 * 1024 * 1024));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(&by_name("Sleep").action, Action::WaitFor(WaitForArgs::Sleep(d)) if *d == Duration::from_secs(1))
    );
    let dbg = t.iter().find(|x| x.name.is_none()).unwrap();
    assert!(matches!(&dbg.action, Action::Debug(d) if d.what == DebugWhat::Var("ver".into())));
    assert_eq!(dbg.display_name(), "debug: ver");
}

#[test]
fn imports_are_inlined_with_inherited_keywords_and_their_own_locations() {
    let pb = site();
    let t = &pb.plays[0].tasks;
    let banner = t
        .iter()
        .find(|x| x.name.as_deref() == Some("Common banner"))
        .unwrap();
    assert!(banner.location.file.ends_with("tasks/common.yml"));
    assert_eq!((banner.location.line, banner.location.column), (1, 3));
    assert_eq!(banner.when.as_ref().unwrap().0, s(&["site == 'ams'"]));
    for tag in ["banner", "common", "switching"] {
        assert!(banner.tags.contains(&tag.to_string()), "{:?}", banner.tags);
    }
    let clock = t
        .iter()
        .find(|x| x.name.as_deref() == Some("Clock"))
        .unwrap();
    assert!(clock.location.file.ends_with("tasks/more.yml"));
    assert_eq!(
        clock.when.as_ref().unwrap().0,
        s(&["site == 'ams'", "true"])
    );
    // order is kept: the import sits between "Retry until up" and "Backup"
    let names: Vec<String> = t.iter().map(|x| x.display_name()).collect();
    let pos = |n: &str| names.iter().position(|x| x == n).unwrap();
    assert!(pos("Retry until up") < pos("Common banner"));
    assert!(pos("Clock") < pos("Backup"));
}

#[test]
fn task_locations_point_at_the_task() {
    let pb = site();
    let text = std::fs::read_to_string(fixture("site.yml")).unwrap();
    for task in pb.plays[0].all_tasks() {
        if !task.location.file.ends_with("site.yml") {
            continue;
        }
        let line = text.lines().nth(task.location.line - 1).unwrap();
        let at = &line[task.location.column - 1..];
        let expected = match &task.name {
            Some(n) => format!("name: {n}"),
            None => format!("{}:", task.action_key),
        };
        assert!(at.starts_with(&expected), "{task:?} at {line:?}");
    }
}

#[test]
fn tags_follow_ansible() {
    let pb = site();
    let p = &pb.plays[0];
    let names = |only: &[&str], skip: &[&str]| -> Vec<String> {
        p.tasks_filtered(&s(only), &s(skip))
            .iter()
            .map(|t| t.display_name())
            .collect()
    };
    let all = names(&[], &[]);
    assert!(
        !all.contains(&"Backup".to_string()),
        "never-tagged task is off by default"
    );
    assert!(
        all.contains(&"Wait for SSH".to_string()),
        "pre_tasks are included"
    );
    assert_eq!(names(&["facts"], &[]), s(&["Version", "Firmware"]));
    assert_eq!(names(&["backup"], &[]), s(&["Backup", "Firmware"]));
    assert!(!names(&[], &["common"]).contains(&"Clock".to_string()));
    assert!(names(&["banner"], &["always"]) == s(&["Common banner"]));
    let tags = pb.all_tags();
    for t in [
        "always",
        "backup",
        "banner",
        "common",
        "facts",
        "never",
        "switching",
    ] {
        assert!(tags.contains(t), "{tags:?}");
    }
}

#[test]
fn templates_resolve_from_the_playbook_folder_then_the_project() {
    let pb = site();
    let dirs = pb.template_dirs();
    assert!(dirs[0].ends_with("tests/fixtures/playbooks/templates"));
    assert!(pb.resolve_template("ntp.j2").unwrap().is_file());
    assert!(pb.resolve_template("nope.j2").is_none());
    assert!(pb.resolve_src("files/extra_vars.yml").is_some());
}

#[test]
fn a_template_beside_the_inventory_is_found_when_the_playbook_has_none() {
    // Beside the inventory folder: the repository's templates/ here, whatever the cwd.
    let dir = tempfile::tempdir().unwrap();
    let pb_path = dir.path().join("p.yml");
    let project_tpl = std::fs::read_dir(util::root().join("templates"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".j2"));
    let Some(tpl) = project_tpl else { return };
    std::fs::write(
        &pb_path,
        format!("- hosts: all\n  tasks:\n    - config: {{template: {tpl}}}\n"),
    )
    .unwrap();
    assert!(
        Playbook::load(&pb_path).is_err(),
        "found without the inventory"
    );
    let pb = Playbook::load_beside(&pb_path, &inventories()).unwrap();
    assert_eq!(
        pb.template_dirs(),
        &[
            dir.path().join("templates"),
            dir.path().to_path_buf(),
            util::root().join("templates"),
            util::root(),
        ]
    );
    assert!(pb
        .resolve_template(&tpl)
        .unwrap()
        .starts_with(util::root().join("templates")));
}

#[test]
fn the_example_playbooks_load() {
    for name in ["site.yml", "backup.yml", "distribute.yml"] {
        let path: &Path = &util::root().join("playbooks").join(name);
        if path.exists() {
            if let Err(e) = Playbook::load_beside(path, &inventories()) {
                panic!("{name}:\n{e}");
            }
        }
    }
}

#[test]
fn fifty_tasks_load_with_their_keywords() {
    // Speed is measured by scripts/bench/check-speed, not by a wall-clock limit here.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("- name: big\n  hosts: all\n  tasks:\n");
    for i in 0..50 {
        text.push_str(&format!(
            "    - name: task {i}\n      command: show interface {i}\n      register: r{i}\n      when: r{} is defined\n      tags: [t{}]\n",
            i.max(1) - 1,
            i % 5
        ));
    }
    let path = dir.path().join("big.yml");
    std::fs::write(&path, &text).unwrap();
    let pb = Playbook::load(&path).unwrap();
    let tasks = &pb.plays[0].tasks;
    assert_eq!(tasks.len(), 50);
    assert_eq!(tasks[49].register.as_deref(), Some("r49"));
    assert_eq!(tasks[49].action.summary(), "command: show interface 49");
    assert_eq!(tasks[49].location.line, 4 + 49 * 5);
}
