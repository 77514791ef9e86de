//! File transfer end to end: `upload` / `download` tasks and `netorch push` / `pull` against
//! a real OpenSSH sshd (SFTP, SCP, checksums over exec), a real vsftpd (plain and explicit
//! TLS) and netorch-sim devices (SCP, `verify /md5`), each started here on loopback.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::util::netorch;
use crate::util::sshd::{self, Sshd};

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Every host result of every task, in order.
fn host_results(doc: &Value) -> Vec<Value> {
    doc["plays"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["tasks"].as_array().unwrap().clone())
        .flat_map(|t| t["hosts"].as_array().unwrap().clone())
        .collect()
}

fn only_result(out: &Output) -> Value {
    let doc = json_of(out);
    let r = host_results(&doc);
    assert_eq!(r.len(), 1, "{doc:#}");
    r[0].clone()
}

/// An inventory with `n` names for the same sshd, key auth as the current user.
fn sshd_inventory(d: &Sshd, dir: &Path, n: usize, extra: &str) -> PathBuf {
    let mut hosts = String::new();
    for i in 0..n {
        hosts.push_str(&format!("    h{i}:\n"));
    }
    let inv = format!(
        "all:\n  vars:\n    host: 127.0.0.1\n    port: {}\n    user: {}\n    private_key_file: {}\n    known_hosts_file: {}\n    auth_methods: [publickey]\n{extra}  hosts:\n{hosts}",
        d.port,
        sshd::current_user(),
        d.client_key.display(),
        d.known_hosts_file().display(),
    );
    let p = dir.join("inventory.yml");
    std::fs::write(&p, inv).unwrap();
    p
}

fn write_file(path: &Path, len: usize, seed: u8) {
    let mut data = Vec::with_capacity(len);
    let mut x: u32 = 0x1234_5678 ^ u32::from(seed);
    for _ in 0..len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data.push((x >> 24) as u8);
    }
    std::fs::write(path, data).unwrap();
}

fn playbook(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("pb.yml");
    std::fs::write(&p, body).unwrap();
    p
}

fn run_json(dir: &Path, inv: &Path, pb: &Path, extra: &[&str]) -> Output {
    netorch()
        .current_dir(dir)
        .arg("run")
        .arg("-i")
        .arg(inv)
        .arg(pb)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap()
}

fn upload_pb(src: &Path, dest: &Path, opts: &str) -> String {
    format!(
        "- hosts: all\n  tasks:\n    - name: up\n      upload: {{ src: \"{}\", dest: \"{}\"{opts} }}\n",
        src.display(),
        dest.display()
    )
}

#[test]
fn sftp_round_trips_empty_one_byte_and_one_mib_files_and_skips_identical() {
    let d = Sshd::start("");
    let work = tempfile::tempdir().unwrap();
    let remote = tempfile::tempdir().unwrap();
    let inv = sshd_inventory(&d, work.path(), 1, "");
    for (name, len) in [("empty", 0usize), ("one", 1), ("mib", 1 << 20)] {
        let src = work.path().join(name);
        write_file(&src, len, 1);
        let dest = remote.path().join("sub/dir").join(name);
        let pb = playbook(
            work.path(),
            &upload_pb(&src, &dest, ", mkdirs: true, mode: \"0640\""),
        );
        let out = run_json(work.path(), &inv, &pb, &[]);
        let r = only_result(&out);
        assert_eq!(r["status"], "changed", "{name}: {r:#}\n{}", d.log());
        assert_eq!(std::fs::read(&dest).unwrap(), std::fs::read(&src).unwrap());
        assert_eq!(r["data"]["verified"], "sha256", "{r:#}");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
            0o640
        );
        // No temporary file left beside it.
        let left: Vec<_> = std::fs::read_dir(dest.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("netorch-part"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // Again: identical, nothing sent.
        let out = run_json(work.path(), &inv, &pb, &[]);
        let r = only_result(&out);
        assert_eq!(r["status"], "ok", "{r:#}");
        assert_eq!(r["data"]["sent_bytes"], 0);

        // And back down.
        let back = work.path().join("back").join(name);
        let pb = playbook(
            work.path(),
            &format!(
                "- hosts: all\n  tasks:\n    - name: down\n      download: {{ src: \"{}\", dest: \"{}\" }}\n",
                dest.display(),
                back.display()
            ),
        );
        let out = run_json(work.path(), &inv, &pb, &[]);
        let r = only_result(&out);
        assert_eq!(r["status"], "changed", "{r:#}");
        assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&src).unwrap());
        let out = run_json(work.path(), &inv, &pb, &[]);
        assert_eq!(only_result(&out)["status"], "ok");
    }
}

#[test]
fn scp_to_a_shell_host_is_verified_and_atomic() {
    let d = Sshd::start("");
    let work = tempfile::tempdir().unwrap();
    let remote = tempfile::tempdir().unwrap();
    let inv = sshd_inventory(&d, work.path(), 1, "");
    let src = work.path().join("img.bin");
    write_file(&src, 3 << 20, 2);
    let dest = remote.path().join("img.bin");
    std::fs::write(&dest, b"old contents").unwrap();
    let pb = playbook(
        work.path(),
        &upload_pb(&src, &dest, ", protocol: scp, verify: md5"),
    );
    let r = only_result(&run_json(work.path(), &inv, &pb, &[]));
    assert_eq!(r["status"], "changed", "{r:#}");
    assert_eq!(r["data"]["verified"], "md5");
    assert_eq!(std::fs::read(&dest).unwrap(), std::fs::read(&src).unwrap());
    let r = only_result(&run_json(work.path(), &inv, &pb, &[]));
    assert_eq!(r["status"], "ok", "{r:#}");
}
