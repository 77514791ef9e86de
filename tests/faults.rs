//! The fault suite: netorch against hostile or broken peers that the tests start
//! themselves on loopback (a host that streams output forever, a device that never shows
//! a prompt, an SFTP file that never ends, an inventory script that never closes its
//! pipes). Each run must end within its timeout with a clear per-host error, and keep its
//! memory bounded by forks and `max_output`, never by what a peer sends.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::util::report::{host_results, json_of};
use crate::util::sshd::{sshd_inventory, Sshd};
use crate::util::{netorch, sim::Sim};

/// Peak RSS the fault runs must stay under, in KiB.
const PEAK_RSS_LIMIT_KB: u64 = 200 * 1024;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Run netorch with `args` in `dir` under GNU time: its output and its peak RSS in KiB.
fn measured(dir: &Path, args: &[&std::ffi::OsStr]) -> (Output, u64) {
    let rss = dir.join("rss.txt");
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss)
        .arg(env!("CARGO_BIN_EXE_netorch"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&rss).unwrap();
    let kb = text
        .lines()
        .rev()
        .find_map(|l| l.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no RSS figure in {text:?}"));
    (out, kb)
}

#[test]
fn hosts_streaming_output_forever_keep_the_head_and_tail_within_max_output() {
    let d = Sshd::start("");
    let work = tempfile::tempdir().unwrap();
    let inv = sshd_inventory(&d, work.path(), 50, "");
    let pb = write(
        work.path(),
        "pb.yml",
        "- hosts: all\n  tasks:\n    - name: flood\n      command: \"yes\"\n      timeout: 4\n      max_output: 256KiB\n",
    );
    let t = Instant::now();
    let (out, rss_kb) = measured(
        work.path(),
        &[
            "run".as_ref(),
            "-i".as_ref(),
            inv.as_os_str(),
            pb.as_os_str(),
            "--json".as_ref(),
            "--forks".as_ref(),
            "50".as_ref(),
        ],
    );
    let took = t.elapsed();
    let doc = json_of(&out);
    let results = host_results(&doc);
    assert_eq!(results.len(), 50, "{doc:#}");
    let mut cut = 0;
    for r in &results {
        assert_eq!(r["status"], "failed", "{r:#}\n{}", d.log());
        let msg = r["msg"].as_str().unwrap();
        assert!(msg.contains("command `yes` timed out after 4.0s"), "{msg}");
        // Messages show the end of the output, never all of it.
        assert!(msg.len() < 4096, "{} bytes of message", msg.len());
        // A host starved of CPU by the other 49 may have had no output yet: no entry.
        let Some(cmds) = r["commands"].as_array() else {
            continue;
        };
        assert_eq!(
            cmds.len(),
            1,
            "the partial output is stored once: {cmds:#?}"
        );
        let output = cmds[0]["output"].as_str().unwrap();
        assert!(output.len() <= 300 * 1024, "{} bytes kept", output.len());
        assert!(output.starts_with("y\ny\n"), "{}", &output[..20]);
        assert!(cmds[0]["error"].as_str().unwrap().len() < 4096);
        if output.contains("bytes of output dropped here; max_output is 256KiB]") {
            cut += 1;
        }
    }
    // Loopback sshd on a shared machine still sends far more than 256 KiB in 4 s.
    assert!(cut > 0, "no host's output was cut");
    assert_eq!(out.status.code(), Some(2));
    assert!(took < Duration::from_secs(40), "{took:?}");
    eprintln!("peak RSS at forks 50: {rss_kb} KiB");
    assert!(
        rss_kb < PEAK_RSS_LIMIT_KB,
        "peak RSS {rss_kb} KiB at forks 50"
    );
}

#[test]
fn max_output_is_read_from_host_vars_and_sizes_are_checked() {
    let d = Sshd::start("");
    let work = tempfile::tempdir().unwrap();
    let inv = sshd_inventory(&d, work.path(), 1, "    max_output: 8k\n");
    let pb = write(
        work.path(),
        "pb.yml",
        "- hosts: all\n  tasks:\n    - name: count\n      command: seq 1 100000\n",
    );
    let out = netorch()
        .current_dir(work.path())
        .args(["run", "-i"])
        .arg(&inv)
        .arg(&pb)
        .arg("--json")
        .output()
        .unwrap();
    let doc = json_of(&out);
    let r = &host_results(&doc)[0];
    assert_eq!(r["status"], "ok", "{r:#}");
    let output = r["commands"][0]["output"].as_str().unwrap();
    assert!(output.starts_with("1\n2\n3\n"), "{output}");
    assert!(output.ends_with("99999\n100000"), "{output}");
    let dropped = 588_895 - 8192;
    assert!(
        output.contains(&format!(
            "[netorch: {dropped} bytes of output dropped here; max_output is 8KiB]"
        )),
        "{output}"
    );

    // A size that is not one names the task's file and what was expected.
    let bad = write(
        work.path(),
        "bad.yml",
        "- hosts: all\n  tasks:\n    - name: count\n      command: seq 1 10\n      max_output: lots\n",
    );
    let out = netorch()
        .current_dir(work.path())
        .args(["check", "-i"])
        .arg(&inv)
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("bad.yml:5:"), "{err}");
    assert!(err.contains("expected a size"), "{err}");
}

#[test]
fn a_device_that_streams_and_never_shows_a_prompt_fails_within_its_timeout() {
    // Its fourth command floods (after the two of on_open and `enable`).
    let sim = Sim::with("cisco_ios", 1)
        .password("pw")
        .args(&["--fail", "ios-001=flood-after:4"])
        .start();
    let pb = write(
        sim.dir.path(),
        "pb.yml",
        "- hosts: all\n  tasks:\n    - name: flood\n      command: show tech-support\n      timeout: 3\n      max_output: 64k\n",
    );
    let t = Instant::now();
    let out = sim.netorch("run").arg(&pb).arg("--json").output().unwrap();
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    let doc = json_of(&out);
    let r = &host_results(&doc)[0];
    assert_eq!(r["status"], "failed", "{r:#}");
    let msg = r["msg"].as_str().unwrap();
    assert!(
        msg.starts_with("ios-001: command `show tech-support`: no prompt within 3.0s"),
        "{msg}"
    );
    assert!(msg.len() < 4096, "{} bytes of message", msg.len());
    let output = r["commands"][0]["output"].as_str().unwrap();
    assert!(output.len() <= 80 * 1024, "{} bytes kept", output.len());
    assert!(
        output.contains("bytes of output dropped here; max_output is 64KiB]"),
        "{}",
        &output[..200]
    );
    // The tail is the latest output, cut wherever the read stopped.
    let last = output.lines().last().unwrap();
    assert!(
        "flood: the device keeps talking and never shows a prompt".starts_with(last),
        "{last}"
    );
}

#[test]
fn a_device_whose_prompt_never_comes_is_a_clear_per_host_error() {
    let sim = Sim::with("cisco_ios", 2)
        .password("pw")
        .args(&["--fail", "ios-002=wrong-prompt"])
        .start();
    let pb = write(
        sim.dir.path(),
        "pb.yml",
        "- hosts: all\n  tasks:\n    - name: version\n      command: show version\n",
    );
    let t = Instant::now();
    let out = sim
        .netorch("run")
        .arg(&pb)
        .args(["--json", "-e", "command_timeout=2"])
        .output()
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    let doc = json_of(&out);
    let results = host_results(&doc);
    let by = |h: &str| results.iter().find(|r| r["host"] == h).unwrap().clone();
    assert_eq!(by("ios-001")["status"], "ok", "{doc:#}");
    let bad = by("ios-002");
    assert_eq!(bad["status"], "failed", "{bad:#}");
    let msg = bad["msg"].as_str().unwrap();
    assert!(msg.contains("ios-002"), "{msg}");
    assert!(msg.contains("prompt"), "{msg}");
}

/// An executable `#!/bin/sh` script in `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = write(dir, name, &format!("#!/bin/sh\n{body}"));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn inventory_scripts_that_never_close_their_pipes_or_never_stop_printing_are_stopped() {
    let work = tempfile::tempdir().unwrap();
    script(
        work.path(),
        "lingers.sh",
        "sleep 75 &\necho '{\"core\": [\"r1\"]}'\n",
    );
    script(work.path(), "endless.sh", "exec yes '{}'\n");
    let t = Instant::now();
    let (out, _) = measured(
        work.path(),
        &[
            "inventory".as_ref(),
            "list".as_ref(),
            "-i".as_ref(),
            "lingers.sh".as_ref(),
            "--inventory-timeout".as_ref(),
            "2s".as_ref(),
        ],
    );
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("lingers.sh --list` did not finish within 2 s and was stopped"),
        "{err}"
    );

    let (out, rss_kb) = measured(
        work.path(),
        &[
            "inventory".as_ref(),
            "list".as_ref(),
            "-i".as_ref(),
            "endless.sh".as_ref(),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("printed more than 64 MiB and was stopped"),
        "{err}"
    );
    assert!(rss_kb < PEAK_RSS_LIMIT_KB, "peak RSS {rss_kb} KiB");
}

/// A file that keeps growing (about 6 MB/s) until the returned flag is set.
fn growing_file(
    path: &Path,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<()>,
) {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(&vec![b'g'; 1 << 20]).unwrap();
    let flag = stop.clone();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'g'; 64 << 10];
        while !flag.load(Ordering::Relaxed) {
            let _ = f.write_all(&chunk);
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    (stop, writer)
}

fn run_pb(dir: &Path, inv: &Path, body: &str) -> (serde_json::Value, Duration) {
    let pb = write(dir, "pb.yml", body);
    let t = Instant::now();
    let out = netorch()
        .current_dir(dir)
        .arg("run")
        .arg("-i")
        .arg(inv)
        .arg(&pb)
        .arg("--json")
        .output()
        .unwrap();
    let took = t.elapsed();
    let doc = json_of(&out);
    let r = host_results(&doc);
    assert_eq!(r.len(), 1, "{doc:#}");
    (r[0].clone(), took)
}

fn download_pb(src: &Path, dest: &Path, opts: &str, timeout: u64) -> String {
    format!(
        "- hosts: all\n  tasks:\n    - name: pull\n      timeout: {timeout}\n      download: {{ src: \"{}\", dest: \"{}\"{opts} }}\n",
        src.display(),
        dest.display()
    )
}

#[test]
fn sftp_downloads_stop_at_the_reported_size_and_refuse_endless_files() {
    use std::sync::atomic::Ordering;
    let d = Sshd::start("");
    let work = tempfile::tempdir().unwrap();
    let inv = sshd_inventory(&d, work.path(), 1, "");

    // A device file never ends: refused by name, at once.
    let dest = work.path().join("zero");
    let (r, took) = run_pb(
        work.path(),
        &inv,
        &download_pb(Path::new("/dev/zero"), &dest, "", 20),
    );
    assert_eq!(r["status"], "failed", "{r:#}");
    let msg = r["msg"].as_str().unwrap();
    assert!(msg.contains("/dev/zero is not a regular file"), "{msg}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert!(!dest.exists());
    assert!(!work.path().join(".zero.netorch-part").exists());

    // A file growing faster than the (capped) download reads it: the download stops at
    // the size the server gave, instead of reading until the timeout.
    let remote = tempfile::tempdir().unwrap();
    let src = remote.path().join("growing.log");
    let (stop, writer) = growing_file(&src);
    let dest = work.path().join("growing.log");
    let (r, took) = run_pb(
        work.path(),
        &inv,
        &download_pb(&src, &dest, ", verify: size, bandwidth: 1M", 20),
    );
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert_eq!(r["status"], "changed", "{r:#}");
    let size = r["data"]["size"].as_u64().unwrap();
    assert_eq!(r["data"]["received_bytes"], size, "{r:#}");
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), size);
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn a_download_that_times_out_removes_its_partial_file_unless_resuming() {
    let d = Sshd::start("");
    let work = tempfile::tempdir().unwrap();
    let inv = sshd_inventory(&d, work.path(), 1, "");
    let remote = tempfile::tempdir().unwrap();
    let src = remote.path().join("big.bin");
    std::fs::write(&src, vec![b'b'; 4 << 20]).unwrap();
    let dest = work.path().join("big.bin");
    let part = work.path().join(".big.bin.netorch-part");
    for (opts, kept) in [("", false), (", resume: true", true)] {
        let (r, took) = run_pb(
            work.path(),
            &inv,
            &download_pb(
                &src,
                &dest,
                &format!(", verify: size, bandwidth: 512k{opts}"),
                3,
            ),
        );
        assert_eq!(r["status"], "failed", "{r:#}");
        let msg = r["msg"].as_str().unwrap();
        assert!(msg.contains("timed out"), "{msg}");
        assert!(took < Duration::from_secs(15), "{took:?}");
        assert!(!dest.exists());
        assert_eq!(part.exists(), kept, "{opts}: {msg}");
    }
}

#[test]
fn ftp_downloads_stop_at_the_reported_size() {
    use std::sync::atomic::Ordering;
    let Some(f) = crate::util::ftpd::Ftpd::start(false) else {
        eprintln!("skipped: needs root for the FTP test account");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let inv = write(
        work.path(),
        "ftp.yml",
        &format!("all:\n  vars:\n{}  hosts:\n    f1:\n", f.vars()),
    );
    let src = f.root.join("growing.log");
    let (stop, writer) = growing_file(&src);
    let dest = work.path().join("growing.log");
    let (r, took) = run_pb(
        work.path(),
        &inv,
        &download_pb(
            &src,
            &dest,
            ", protocol: ftp, verify: size, bandwidth: 1M",
            20,
        ),
    );
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert_eq!(r["status"], "changed", "{r:#}");
    let size = r["data"]["size"].as_u64().unwrap();
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), size);
    assert!(took < Duration::from_secs(15), "{took:?}");
}

/// A device that floods while the session is being opened (here during `enable`) holds
/// the task only as long as the task's `timeout`, not the host's 30 s `command_timeout`.
#[test]
fn a_device_that_floods_while_opening_is_bounded_by_the_task_timeout() {
    let sim = Sim::with("cisco_ios", 1)
        .password("pw")
        .args(&["--fail", "ios-001=flood-after:3"])
        .start();
    let pb = write(
        sim.dir.path(),
        "pb.yml",
        "- hosts: all\n  tasks:\n    - name: version\n      command: show version\n      timeout: 2\n      max_output: 64k\n",
    );
    let t = Instant::now();
    let out = sim.netorch("run").arg(&pb).arg("--json").output().unwrap();
    let took = t.elapsed();
    let doc = json_of(&out);
    let r = &host_results(&doc)[0];
    assert_ne!(r["status"], "ok", "{r:#}");
    assert!(took < Duration::from_secs(15), "took {took:?}: {r:#}");
    let msg = r["msg"].as_str().unwrap_or_default();
    assert!(msg.contains("2.0s"), "{msg}");
}
