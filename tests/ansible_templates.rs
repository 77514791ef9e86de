//! Templates rendered by Ansible's own `template` module (connection local) and by
//! `netorch template` must be the same bytes. The corpus (tests/ansible/templates/) holds
//! the kinds of templates network playbooks use; Ansible renders them all in one playbook
//! run, netorch one by one.

use std::path::Path;

use crate::util;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

#[test]
fn netorch_renders_templates_byte_for_byte_as_ansible() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    copy_dir(&util::root().join("tests/ansible/templates"), work);
    let mut names: Vec<String> = std::fs::read_dir(work.join("templates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".j2") && n != "fragment.j2")
        .collect();
    names.sort();
    assert!(
        names.len() >= 25,
        "the corpus has {} templates",
        names.len()
    );

    // One Ansible run for the whole corpus; a template that fails leaves no file.
    std::fs::create_dir_all(work.join("out/ansible")).unwrap();
    std::fs::write(work.join("ansible.cfg"), "").unwrap();
    let python = util::ansible::env_dir().join("bin/python");
    let playbook = format!(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  \
         vars_files: [vars.yml]\n  tasks:\n    - ansible.builtin.template:\n        \
         src: \"templates/{{{{ item }}}}\"\n        dest: \"out/ansible/{{{{ item }}}}\"\n      \
         loop: {names:?}\n      ignore_errors: true\n"
    );
    std::fs::write(work.join("render.yml"), playbook).unwrap();
    let mut cmd = util::ansible::command("ansible-playbook", work);
    cmd.env("ANSIBLE_CONFIG", work.join("ansible.cfg")).args([
        "-i",
        "localhost,",
        "-e",
        &format!("ansible_python_interpreter={}", python.display()),
        "render.yml",
    ]);
    let ansible_out = util::ansible::run_ok(&mut cmd);
    std::fs::write(
        work.join("inventory.yml"),
        "all:\n  hosts:\n    localhost: {}\n",
    )
    .unwrap();

    let mut failures = Vec::new();
    for name in &names {
        let want = std::fs::read_to_string(work.join("out/ansible").join(name));
        let out = util::netorch()
            .current_dir(work)
            .args(["template", "-i", "inventory.yml", "--host", "localhost"])
            .args(["-e", "@vars.yml", "--show-secrets"])
            .arg(format!("templates/{name}"))
            .output()
            .unwrap();
        let got = String::from_utf8_lossy(&out.stdout).into_owned();
        match want {
            Err(_) => failures.push(format!(
                "== {name}: Ansible did not render it (see its output below)"
            )),
            Ok(_) if !out.status.success() => failures.push(format!(
                "== {name}: netorch failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )),
            Ok(want) if want != got => {
                let diff = similar::TextDiff::from_lines(&want, &got)
                    .unified_diff()
                    .header("ansible", "netorch")
                    .to_string();
                failures.push(format!("== {name}: differs\n{diff}"));
            }
            Ok(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} templates differ:\n{}\n--- ansible-playbook output:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n"),
        String::from_utf8_lossy(&ansible_out.stdout)
    );
}
