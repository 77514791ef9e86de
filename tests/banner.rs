//! Multi-line banners pushed to the simulator: the device shows no prompt while it takes
//! a banner's text, so the text goes out without waiting for one.

use std::path::Path;

use crate::util::report::{json_of, results};
use crate::util::sim::Sim;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(sim: &Sim, playbook: &Path) -> serde_json::Value {
    let out = sim
        .netorch("run")
        .arg(playbook)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    json_of(&out)
}

fn statuses(doc: &serde_json::Value, task: &str) -> Vec<String> {
    results(doc, task)
        .iter()
        .map(|r| r["status"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn show_run(sim: &Sim, host: &str) -> String {
    let out = sim
        .netorch("exec")
        .args(["--limit", host, "--json", "show running-config"])
        .output()
        .unwrap();
    let doc = json_of(&out);
    let r = &results(&doc, "show running-config")[0];
    r["commands"][0]["output"].as_str().unwrap().to_string()
}

#[test]
fn a_multi_line_banner_is_pushed_then_replaced_in_its_scope() {
    for (platform, open, close) in [
        ("cisco_ios", "banner motd ^C", "^C"),
        ("arista_eos", "banner motd", "EOF"),
    ] {
        let sim = Sim::with(platform, 2).start();
        let host = sim.hosts[0].name.clone();
        let pb = write(
            sim.dir.path(),
            "push.yml",
            &format!(
                "- name: Banner\n  hosts: all\n  tasks:\n    - name: Push it\n      config:\n        lines: ['{open}', 'Authorized access only', '  all sessions are logged', '{close}']\n"
            ),
        );
        let doc = run(&sim, &pb);
        assert_eq!(
            statuses(&doc, "Push it"),
            ["changed", "changed"],
            "{platform}: {doc}"
        );
        let want =
            format!("\n{open}\nAuthorized access only\n  all sessions are logged\n{close}\n");
        assert!(
            show_run(&sim, &host).contains(&want),
            "{platform}: {}",
            show_run(&sim, &host)
        );
        // The banner the device shows is the one asked for: nothing to do again.
        let doc = run(&sim, &pb);
        assert_eq!(statuses(&doc, "Push it"), ["ok", "ok"], "{platform}: {doc}");

        let intended = format!("{open}\nMaintenance tonight 22:00 UTC\n{close}\n");
        write(sim.dir.path(), "intended.cfg", &intended);
        let pb = write(
            sim.dir.path(),
            "replace.yml",
            "- name: Banner\n  hosts: all\n  tasks:\n    - name: Replace it\n      config: {mode: replace, src: intended.cfg, scope: ['banner motd*']}\n",
        );
        let doc = run(&sim, &pb);
        assert_eq!(
            statuses(&doc, "Replace it"),
            ["changed", "changed"],
            "{platform}: {doc}"
        );
        let after = show_run(&sim, &host);
        assert!(
            after.contains(&format!("\n{intended}")),
            "{platform}: {after}"
        );
        assert!(
            !after.contains("Authorized access only"),
            "{platform}: {after}"
        );
        let doc = run(&sim, &pb);
        assert_eq!(
            statuses(&doc, "Replace it"),
            ["ok", "ok"],
            "{platform}: {doc}"
        );
    }
}
