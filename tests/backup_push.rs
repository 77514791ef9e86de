//! Backups pushed to a shared remote, end to end: `netorch backup --push` against a bare
//! repository served by a real sshd (host key checked, key auth) and by `git http-backend`
//! (basic auth with a token), other writers pushing in between (fetched and rebased, never
//! forced: the bare repositories refuse non-fast-forward updates), four shard processes
//! pushing at once, and a push that failed made by the next run with nothing new.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::git_http::GitHttp;
use crate::util::report::json_of;
use crate::util::sshd::{current_user, Sshd};
use crate::util::{fsck_clean, netorch, sim::Sim, write};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bare repository that refuses anything but fast-forwards (a force push would fail)
/// and keeps a reflog of every update.
fn bare_repo(dir: &Path, name: &str) -> PathBuf {
    let bare = dir.join(name);
    git(dir, &["init", "-q", "--bare", bare.to_str().unwrap()]);
    git(&bare, &["config", "receive.denyNonFastForwards", "true"]);
    git(&bare, &["config", "receive.denyDeletes", "true"]);
    git(&bare, &["config", "core.logAllRefUpdates", "always"]);
    git(&bare, &["config", "http.receivepack", "true"]);
    bare
}

fn backup(sim: &Sim, store: &Path, limit: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    netorch()
        .current_dir(sim.dir.path())
        .args(["backup", "-i"])
        .arg(&sim.inventory)
        .arg("--store")
        .arg(store)
        .args(["--limit", limit, "--json"])
        .args(args)
        .env_remove("NETORCH_GIT_TOKEN")
        .env_remove("NETORCH_SHARD")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The bare repository's `main`: commits along the first-parent chain, and all commits.
fn shape(bare: &Path) -> (usize, usize, String) {
    let first: usize = git(bare, &["rev-list", "--count", "--first-parent", "main"])
        .trim()
        .parse()
        .unwrap();
    let all: usize = git(bare, &["rev-list", "--count", "main"])
        .trim()
        .parse()
        .unwrap();
    let merges = git(bare, &["rev-list", "--merges", "main"]);
    (first, all, merges)
}

fn files_at(repo: &Path, rev: &str) -> Vec<String> {
    let mut f: Vec<String> = git(repo, &["ls-tree", "-r", "--name-only", rev])
        .lines()
        .map(str::to_string)
        .collect();
    f.sort();
    f
}

/// Every update of `main` in the bare repository's reflog moved it forward.
fn only_fast_forwards(bare: &Path) {
    let log = git(bare, &["reflog", "show", "--format=%H", "main"]);
    let ids: Vec<&str> = log.lines().collect();
    for w in ids.windows(2) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(bare)
            .args(["merge-base", "--is-ancestor", w[1], w[0]])
            .status()
            .unwrap()
            .success();
        assert!(ok, "{} -> {} is not a fast-forward", w[1], w[0]);
    }
}

#[test]
fn ssh_push_checks_the_host_key_and_rebases_onto_another_writer() {
    let sshd = Sshd::start("");
    let sim = Sim::with("cisco_ios", 4).start();
    let d = sim.dir.path();
    let bare = bare_repo(d, "remote.git");
    let url = format!(
        "ssh://{}@127.0.0.1:{}{}",
        current_user(),
        sshd.port,
        bare.display()
    );
    let key = sshd.client_key.to_str().unwrap().to_string();
    let names: Vec<String> = sim.hosts.iter().map(|h| h.name.clone()).collect();
    let store = d.join("store");

    // The server's key is not known: refused, clearly, and nothing reaches the remote.
    let empty = write(d, "empty_known_hosts", "");
    let out = backup(
        &sim,
        &store,
        &names[..2].join(","),
        &[
            "--push",
            &url,
            "--push-ssh-key",
            &key,
            "--push-known-hosts",
            empty.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let doc = json_of(&out);
    let err = doc["backups"][0]["error"].as_str().unwrap_or("");
    assert!(
        err.contains("Host key verification failed") && err.contains("empty_known_hosts"),
        "{err}"
    );
    assert!(git(&bare, &["for-each-ref"]).is_empty());
    assert_eq!(
        std::fs::read_to_string(&empty).unwrap(),
        "",
        "strict never records"
    );

    // accept-new records the unknown key, and the commit that failed to go is pushed by
    // this next run, which has nothing new to back up.
    let accepted = write(d, "accepted_known_hosts", "");
    let out = backup(
        &sim,
        &store,
        &names[..2].join(","),
        &[
            "--push",
            &url,
            "--push-ssh-key",
            &key,
            "--push-known-hosts",
            accepted.to_str().unwrap(),
            "--push-host-key-checking",
            "accept-new",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = json_of(&out);
    assert!(doc["backups"][0]["commit"].is_null(), "{doc}");
    assert!(doc["backups"][0]["pushed"].is_string(), "{doc}");
    let head = git(&store, &["rev-parse", "HEAD"]);
    assert_eq!(git(&bare, &["rev-parse", "main"]), head);
    let recorded = std::fs::read_to_string(&accepted).unwrap();
    // (hashed or not, as the system's ssh_config says)
    let host_key = sshd.known_hosts_line.split_whitespace().nth(2).unwrap();
    assert!(recorded.contains(host_key), "{recorded}");
    let kh = sshd.known_hosts_file();
    let push_args = [
        "--push",
        url.as_str(),
        "--push-ssh-key",
        key.as_str(),
        "--push-known-hosts",
        kh.to_str().unwrap(),
    ];

    // Another writer pushes in the meantime (its own files, by plain git).
    let other = d.join("other");
    git(
        d,
        &[
            "clone",
            "-q",
            "-b",
            "main",
            bare.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    std::fs::write(other.join("other-site.cfg"), "hostname other\nend\n").unwrap();
    git(&other, &["add", "."]);
    git(
        &other,
        &[
            "-c",
            "user.name=Other",
            "-c",
            "user.email=o@x",
            "commit",
            "-qm",
            "Backup: other-site changed",
        ],
    );
    git(&other, &["push", "-q", "origin", "HEAD:main"]);

    // This store backs up two more devices: its commit is rebased onto the other's.
    let out = backup(&sim, &store, &names[2..].join(","), &push_args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = json_of(&out);
    let b = &doc["backups"][0];
    assert_eq!(b["push"]["rebased"], 1, "{doc}");
    let commit = b["commit"].as_str().unwrap();
    assert_eq!(git(&bare, &["rev-parse", "main"]).trim(), commit);
    assert_eq!(git(&store, &["rev-parse", "HEAD"]).trim(), commit);
    let (first, all, merges) = shape(&bare);
    assert_eq!(
        (first, all),
        (3, 3),
        "linear: one commit per writer per run"
    );
    assert!(merges.is_empty(), "{merges}");
    let mut want: Vec<String> = names.iter().map(|n| format!("{n}.cfg")).collect();
    want.push("other-site.cfg".into());
    want.sort();
    assert_eq!(files_at(&bare, "main"), want);
    // The other writer's file is in this store's working tree too.
    assert!(store.join("other-site.cfg").exists());
    only_fast_forwards(&bare);
    fsck_clean(&store);
    let subject = git(&bare, &["log", "-1", "--format=%s%n%an", "main"]);
    assert!(subject.starts_with("Backup: "), "{subject}");
    assert!(subject.contains("netorch"), "author kept: {subject}");
}

#[test]
fn https_push_sends_the_token_and_never_shows_it() {
    const TOKEN: &str = "glpat-Zq8rT0kenNeverShown";
    let sim = Sim::with("cisco_ios", 2).start();
    let d = sim.dir.path();
    let root = d.join("srv");
    std::fs::create_dir(&root).unwrap();
    let bare = bare_repo(&root, "configs.git");
    let server = GitHttp::start(&root, TOKEN);
    let url = server.url("configs.git");
    let store = d.join("store");
    let all = sim
        .hosts
        .iter()
        .map(|h| h.name.as_str())
        .collect::<Vec<_>>()
        .join(",");

    // A wrong token: refused with a hint, and neither token is printed anywhere.
    let out = backup(
        &sim,
        &store,
        &all,
        &["--push", &url],
        &[("NETORCH_GIT_TOKEN", "wrong-Tok3n-value")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("401") || t.contains("Authentication failed"),
        "{t}"
    );
    assert!(
        t.contains("NETORCH_GIT_TOKEN"),
        "hint names the variable: {t}"
    );
    assert!(!t.contains("wrong-Tok3n-value"), "{t}");
    assert!(git(&bare, &["for-each-ref"]).is_empty());

    // The right token from a file: pushed.
    let token_file = write(d, "token", &format!("{TOKEN}\n"));
    let out = backup(
        &sim,
        &store,
        &all,
        &[
            "--push",
            &url,
            "--push-token-file",
            token_file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(TOKEN));
    assert_eq!(
        git(&bare, &["rev-parse", "main"]),
        git(&store, &["rev-parse", "HEAD"])
    );
    assert!(server
        .log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.starts_with("POST /configs.git/git-receive-pack -> 200")));

    // The token in the URL works too, and is still never shown, nor kept in the store.
    let other = d.join("store2");
    let with_creds = url.replace("http://", &format!("http://bot:{TOKEN}@"));
    let out = backup(&sim, &other, &all, &["--push", &with_creds, "-v"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(TOKEN), "{}", text(&out));
    for s in [&store, &other] {
        let grep = Command::new("grep")
            .args(["-r", "-l", TOKEN])
            .arg(s)
            .output()
            .unwrap();
        assert!(
            grep.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&grep.stdout)
        );
    }
    // Two stores, one remote, no merge: store2's first commit went on top.
    let (first, all_n, merges) = shape(&bare);
    assert_eq!((first, all_n), (1, 1), "store2 had nothing new to add");
    assert!(merges.is_empty());
}

#[test]
fn four_shards_push_at_once_into_one_linear_history() {
    let sshd = Sshd::start("");
    let sim = Sim::with("cisco_ios", 8).start();
    let d = sim.dir.path();
    let bare = bare_repo(d, "shared.git");
    let url = format!(
        "ssh://{}@127.0.0.1:{}{}",
        current_user(),
        sshd.port,
        bare.display()
    );
    let key = sshd.client_key.to_str().unwrap().to_string();
    let kh = sshd.known_hosts_file();
    let names: Vec<String> = sim.hosts.iter().map(|h| h.name.clone()).collect();
    let started = Instant::now();
    let children: Vec<_> = (0..4)
        .map(|k| {
            let limit = format!("{},{}", names[2 * k], names[2 * k + 1]);
            netorch()
                .current_dir(d)
                .args(["backup", "-i"])
                .arg(&sim.inventory)
                .arg("--store")
                .arg(d.join(format!("store{k}")))
                .args(["--limit", &limit, "--json", "--push", &url])
                .args(["--push-ssh-key", &key, "--push-known-hosts"])
                .arg(&kh)
                .env("NETORCH_SHARD", format!("{}/4", k + 1))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut commits = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let doc: Value = json_of(&out);
        commits.push(doc["backups"][0]["commit"].as_str().unwrap().to_string());
    }
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
    let (first, all, merges) = shape(&bare);
    assert_eq!((first, all), (4, 4), "one commit per shard, in one line");
    assert!(merges.is_empty(), "{merges}");
    let mut want: Vec<String> = names.iter().map(|n| format!("{n}.cfg")).collect();
    want.sort();
    assert_eq!(files_at(&bare, "main"), want, "nothing lost");
    // Each shard's commit is on the remote under the id its run reported.
    let on_remote = git(&bare, &["rev-list", "main"]);
    for c in &commits {
        assert!(on_remote.contains(c.as_str()), "{c} not in {on_remote}");
    }
    let mut shards: Vec<String> = git(
        &bare,
        &["log", "--format=%(trailers:key=Shard,valueonly)", "main"],
    )
    .lines()
    .filter(|l| !l.trim().is_empty())
    .map(str::to_string)
    .collect();
    shards.sort();
    assert_eq!(shards, ["1/4", "2/4", "3/4", "4/4"]);
    only_fast_forwards(&bare);
    // `backup log` shows each commit's shard (each store holds its own commit).
    let out = netorch()
        .args(["backup", "log", &names[0], "--store"])
        .arg(d.join("store0"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("[shard 1/4]"), "{log}");
    let last = d.join("store3");
    let out = netorch()
        .args(["backup", "log", &names[6], "--store"])
        .arg(&last)
        .arg("--json")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["commits"][0]["shard"], "4/4", "{doc}");
}

#[test]
fn a_push_to_a_remote_that_was_down_is_made_by_the_next_run() {
    const TOKEN: &str = "t0k-down-test";
    let sim = Sim::with("cisco_ios", 1).start();
    let d = sim.dir.path();
    let root = d.join("srv");
    std::fs::create_dir(&root).unwrap();
    let bare = bare_repo(&root, "configs.git");
    // A port nobody listens on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/configs.git");
    let store = d.join("store");
    let host = sim.hosts[0].name.clone();
    let env = [("NETORCH_GIT_TOKEN", TOKEN)];
    let out = backup(&sim, &store, &host, &["--push", &url], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let doc = json_of(&out);
    assert!(doc["backups"][0]["commit"].is_string(), "committed locally");
    let err = doc["backups"][0]["error"].as_str().unwrap();
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(store.join(".git/netorch-push-pending").exists());

    let server = GitHttp::start_on(port, &root, TOKEN);
    let out = backup(&sim, &store, &host, &["--push", &url], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = json_of(&out);
    assert!(doc["backups"][0]["commit"].is_null(), "nothing new: {doc}");
    assert_eq!(doc["backups"][0]["pushed"].as_str(), Some(url.as_str()));
    assert_eq!(
        git(&bare, &["rev-parse", "main"]),
        git(&store, &["rev-parse", "HEAD"])
    );
    assert!(!store.join(".git/netorch-push-pending").exists());
    // And then nothing more: no fetch or push at all.
    let before = server.log.lock().unwrap().len();
    let out = backup(&sim, &store, &host, &["--push", &url], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(json_of(&out)["backups"][0]["pushed"].is_null());
    assert_eq!(server.log.lock().unwrap().len(), before);
}

/// A pre-receive hook that moves `main` itself during the first `times` pushes, as another
/// writer winning the race between our fetch and our push would.
fn race_hook(bare: &Path, times: u32) {
    let count = bare.join("race-count");
    let hook = format!(
        "#!/bin/sh\nn=$(cat '{c}' 2>/dev/null || echo 0)\nif [ \"$n\" -lt {times} ]; then\n  echo $((n+1)) > '{c}'\n  \
         unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n  \
         export GIT_AUTHOR_NAME=racer GIT_AUTHOR_EMAIL=r@x GIT_COMMITTER_NAME=racer GIT_COMMITTER_EMAIL=r@x\n  \
         c=$(git commit-tree -p refs/heads/main -m \"racer $n\" 'refs/heads/main^{{tree}}') && git update-ref refs/heads/main \"$c\"\nfi\ncat >/dev/null\nexit 0\n",
        c = count.display()
    );
    let p = bare.join("hooks/pre-receive");
    std::fs::write(&p, hook).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_push_that_loses_the_race_is_fetched_rebased_and_retried_a_bounded_number_of_times() {
    use netorch::backup::{Author, BackupError, PushOptions, Store};
    const TOKEN: &str = "race-t0ken";
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("srv");
    std::fs::create_dir(&root).unwrap();
    let bare = bare_repo(&root, "configs.git");
    let server = GitHttp::start(&root, TOKEN);
    let url = server.url("configs.git");
    let opts = PushOptions {
        token: Some(netorch::secret::Secret::new(TOKEN)),
        attempts: 3,
        ..PushOptions::default()
    };
    let store = Store::open_or_init(&dir.path().join("store")).unwrap();
    let files = |p: &str, t: &str| vec![(p.to_string(), t.to_string())];
    store
        .commit(&files("r1.cfg", "one\n"), "first", &Author::default())
        .unwrap();
    store.push_if_needed(&url, true, &opts).unwrap().unwrap();

    // Another writer moves main while our push is on its way, once: the server refuses
    // ours (not a fast-forward from where main now is), we fetch, rebase, push again.
    race_hook(&bare, 1);
    store
        .commit(&files("r2.cfg", "two\n"), "second", &Author::default())
        .unwrap();
    let r = store.push_if_needed(&url, true, &opts).unwrap().unwrap();
    assert_eq!((r.attempts, r.rebased), (2, 1), "{r:?}");
    let subjects = git(&bare, &["log", "--format=%s", "main"]);
    assert_eq!(subjects, "second\nracer 0\nfirst\n");
    assert!(shape(&bare).2.is_empty());
    only_fast_forwards(&bare);
    assert_eq!(files_at(&bare, "main"), ["r1.cfg", "r2.cfg"]);

    // A remote that moves on every attempt: a clear error after `attempts`, in bounded
    // time; the commit stays, marked for the next run.
    std::fs::remove_file(bare.join("race-count")).unwrap();
    race_hook(&bare, 100);
    store
        .commit(&files("r3.cfg", "three\n"), "third", &Author::default())
        .unwrap();
    let t = Instant::now();
    let e = store.push_if_needed(&url, true, &opts).unwrap_err();
    assert!(
        matches!(e, BackupError::PushRace { attempts: 3, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("moved again"), "{e}");
    assert!(!e.to_string().contains(TOKEN));
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    assert!(store.push_pending());
    assert_eq!(store.read("r3.cfg").unwrap().as_deref(), Some("three\n"));
    // The race ends: the next run (nothing new) pushes it.
    std::fs::write(bare.join("race-count"), "100").unwrap();
    let r = store.push_if_needed(&url, false, &opts).unwrap().unwrap();
    assert_eq!(r.attempts, 1);
    assert!(files_at(&bare, "main").contains(&"r3.cfg".to_string()));
    assert!(!store.push_pending());
    only_fast_forwards(&bare);
}
