//! The daemon's web interface over HTTP: every route, authentication on and off, roles,
//! CSRF, escaping, 404s, history paging on a store with many commits, diffs, and the two
//! actions (a job run now, one device backed up now) recorded with who asked. Then the
//! main flows in a real headless Chromium (`browser`). Every server listens on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod web {
    pub mod browser;
    pub mod lab;
}

use web::lab::{enc, get, post, request, Lab, LabOptions, ALICE_PASSWORD, BOB_PASSWORD, TOKEN};

/// The id of the run a POST redirected to (`/runs/<job>/<id>`).
fn run_location(r: &web::lab::Resp, job: &str) -> String {
    let loc = r.header("location").unwrap_or_default().to_string();
    let prefix = format!("/runs/{job}/");
    assert!(
        loc.starts_with(&prefix),
        "redirected to `{loc}`: {}",
        r.body
    );
    loc
}

#[test]
fn without_auth_every_page_answers_and_escapes() {
    let lab = Lab::start(LabOptions {
        auth: false,
        ..Default::default()
    });
    let p = lab.port;
    // Overview: the jobs and the counts.
    let r = get(p, "/", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("nightly-backup") && r.body.contains("hello"),
        "{}",
        r.body
    );
    assert!(r.body.contains("id=\"count-devices\">3<"), "{}", r.body);
    // No actions without a login.
    assert!(!r.body.contains("Run now"), "{}", r.body);
    // Security headers on every page.
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));

    // Devices: all three, the HTML-named one as text, platforms and groups from the
    // inventory (read in the background).
    lab.wait_until("platforms from the inventory", 30, || {
        get(p, "/devices", None).body.contains("cisco_ios")
    });
    let r = get(p, "/devices", None);
    assert_eq!(r.status, 200);
    assert!(r.body.contains(">&lt;script&gt;</a>"), "{}", r.body);
    assert!(!r.body.contains("<script>"), "{}", r.body);
    assert!(
        r.body.contains("href=\"/device/0/core-ams-1.cfg\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("<td>edge</td>"), "{}", r.body);
    // A host the backup job covers that has no backup yet.
    assert!(
        r.body
            .contains("new-sw <span class=\"muted\">(no backup stored)"),
        "{}",
        r.body
    );
    assert!(r.body.contains(">no backup</span>"), "{}", r.body);
    let r = get(p, "/devices?q=edge", None);
    assert!(
        r.body.contains("quiet") && !r.body.contains("core-ams-1.cfg"),
        "{}",
        r.body
    );
    let r = get(p, "/devices?sort=name&desc=1", None);
    let (q, c) = (
        r.body.find(">quiet<").unwrap(),
        r.body.find(">core-ams-1<").unwrap(),
    );
    assert!(q < c, "descending by name");

    // Device: highlighted config, history, the HTML config line shown as text.
    let r = get(p, "/device/0/core-ams-1.cfg", None);
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("<span class=\"k\">hostname</span>"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("<span class=\"s\">********</span>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("description uplink 4"), "{}", r.body);
    let r = get(p, "/device/0/%3Cscript%3E.cfg", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("&lt;script&gt;alert("), "{}", r.body);
    assert!(
        r.body.contains("&lt;b&gt;bold&lt;&#x2f;b&gt;"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("<script>") && !r.body.contains("<b>bold"),
        "{}",
        r.body
    );

    // Raw download.
    let r = get(p, "/raw/0/core-ams-1.cfg", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, web::lab::config_at(4));
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert!(r
        .header("content-disposition")
        .unwrap()
        .contains("core-ams-1.cfg"));
    let r = get(p, "/raw/0/core-ams-1.cfg?rev=HEAD~2", None);
    assert_eq!(r.body, web::lab::config_at(2));

    // Diff: the last change by default, unified and side by side.
    let r = get(p, "/diff/0/core-ams-1.cfg", None);
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("<tr class=\"del\">") && r.body.contains("description uplink 3"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("<tr class=\"ins\">") && r.body.contains("description uplink 4"),
        "{}",
        r.body
    );
    let r = get(p, "/diff/0/core-ams-1.cfg?a=HEAD~4&b=HEAD&mode=split", None);
    assert!(r.body.contains("class=\"code diff split\""), "{}", r.body);
    assert!(
        r.body
            .contains("<td class=\"left\"> description uplink 0</td>"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("<td class=\"right\"> description uplink 4</td>"),
        "{}",
        r.body
    );

    // 404s: no such page, store, device, revision; a revision that is an option.
    for path in [
        "/nope",
        "/device/7/core-ams-1.cfg",
        "/device/0/nope.cfg",
        "/history/0/nope.cfg",
        "/diff/0/core-ams-1.cfg?b=0123456789abcdef",
        "/raw/0/core-ams-1.cfg?rev=--output%3D%2Ftmp%2Fx",
        "/runs/nope/20260101T000000.000Z",
        "/runs/hello/..%2F..%2Fetc",
    ] {
        let r = get(p, path, None);
        assert_eq!(r.status, 404, "{path}: {}", r.body);
    }
    // Methods.
    assert_eq!(request(p, "POST", "/status", &[], Some("")).status, 405);
    assert_eq!(request(p, "DELETE", "/", &[], None).status, 405);
    // Actions need a login, even on loopback.
    let r = post(p, "/actions/run-job", None, "job=hello&csrf=x");
    assert_eq!(r.status, 403, "{}", r.body);
    // /status and /metrics as before.
    let r = get(p, "/status", None);
    assert_eq!(r.status, 200);
    let st: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(st["jobs"]["hello"]["kind"], "playbook");
    let r = get(p, "/metrics", None);
    assert!(
        r.body.contains("# TYPE netorch_job_runs_total counter"),
        "{}",
        r.body
    );
    // The stylesheet from the binary.
    let r = get(p, "/static/style.css", None);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/css"));
    // A body over the limit is refused.
    let big = format!("user=a&password={}&csrf=x", "a".repeat(64 << 10));
    assert_eq!(post(p, "/login", None, &big).status, 413);
    // Runs: none yet.
    let r = get(p, "/runs", None);
    assert!(r.body.contains("No runs kept yet"), "{}", r.body);
}

#[test]
fn auth_roles_csrf_and_actions() {
    let lab = Lab::start(LabOptions::default());
    let p = lab.port;
    // Without a session: pages go to the login form, /status and /metrics are 401.
    let r = get(p, "/devices?q=x", None);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login?next=%2Fdevices%3Fq%3Dx"));
    for path in ["/status", "/metrics"] {
        let r = get(p, path, None);
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
    assert_eq!(
        post(p, "/actions/run-job", None, "job=hello&csrf=x").status,
        401
    );
    // The login form and the stylesheet are open.
    assert_eq!(get(p, "/login", None).status, 200);
    assert_eq!(get(p, "/static/style.css", None).status, 200);
    // A bearer token reads /status and the pages.
    let bearer = format!("Bearer {TOKEN}");
    let r = request(p, "GET", "/status", &[("Authorization", &bearer)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = request(
        p,
        "GET",
        "/status",
        &[("Authorization", "Bearer wrong-token-0123456789")],
        None,
    );
    assert_eq!(r.status, 401);
    // Wrong password: back to the form, no cookie.
    let form = get(p, "/login", None);
    let r = post(
        p,
        "/login",
        None,
        &format!("user=alice&password=nope&csrf={}", enc(&form.csrf())),
    );
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with("/login?failed=1"));
    assert!(r.session_cookie().is_none());
    // A login form token that this server did not make.
    let r = post(
        p,
        "/login",
        None,
        &format!("user=alice&password={ALICE_PASSWORD}&csrf=1.abcd"),
    );
    assert_eq!(r.status, 403);
    // Alice (operator) logs in: the cookie is HttpOnly and SameSite=Strict.
    let form = get(p, "/login", None);
    let r = post(
        p,
        "/login",
        None,
        &format!(
            "user=alice&password={}&csrf={}&next=%2Fdevices",
            enc(ALICE_PASSWORD),
            enc(&form.csrf())
        ),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/devices"));
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "no TLS, no proxy: {set}");
    let alice = r.session_cookie().unwrap();
    let page = get(p, "/", Some(&alice));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"whoami\">alice"), "{}", page.body);
    assert!(page.body.contains("Run now"), "{}", page.body);
    let csrf = page.csrf();
    // /status with a session.
    assert_eq!(get(p, "/status", Some(&alice)).status, 200);
    // A forged or tampered cookie is no session.
    let tampered = alice.replace("netorch_session=", "netorch_session=x");
    assert_eq!(get(p, "/", Some(&tampered)).status, 303);

    // CSRF: none, wrong, another session's.
    let r = post(p, "/actions/run-job", Some(&alice), "job=hello");
    assert_eq!(
        r.status, 422,
        "a form without its token is refused: {}",
        r.body
    );
    let r = post(p, "/actions/run-job", Some(&alice), "job=hello&csrf=");
    assert_eq!(r.status, 403, "{}", r.body);
    let r = post(p, "/actions/run-job", Some(&alice), "job=hello&csrf=00ff");
    assert_eq!(r.status, 403, "{}", r.body);
    let bob = lab.login("bob", BOB_PASSWORD);
    let bob_page = get(p, "/", Some(&bob));
    assert!(
        !bob_page.body.contains("Run now"),
        "read-only sees no action"
    );
    let bob_csrf = bob_page.csrf();
    let r = post(
        p,
        "/actions/run-job",
        Some(&alice),
        &format!("job=hello&csrf={bob_csrf}"),
    );
    assert_eq!(r.status, 403, "another session's token: {}", r.body);
    // Bob is read-only, with his own valid token.
    let r = post(
        p,
        "/actions/run-job",
        Some(&bob),
        &format!("job=hello&csrf={bob_csrf}"),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("read-only"), "{}", r.body);
    // The bearer token cannot act either (no CSRF token: no forms).
    let r = request(
        p,
        "POST",
        "/actions/run-job",
        &[("Authorization", &bearer)],
        Some("job=hello&csrf="),
    );
    assert_eq!(r.status, 403);
    // Unknown job.
    let r = post(
        p,
        "/actions/run-job",
        Some(&alice),
        &format!("job=nope&csrf={csrf}"),
    );
    assert_eq!(r.status, 404);

    // Alice runs `hello` now: redirected to its run page, which ends ok, says who asked.
    let r = post(
        p,
        "/actions/run-job",
        Some(&alice),
        &format!("job=hello&csrf={csrf}"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let run = run_location(&r, "hello");
    let mut page = String::new();
    lab.wait_until("the hello run to end", 120, || {
        page = get(p, &run, Some(&alice)).body;
        !page.contains("id=\"run-result\">running")
    });
    assert!(page.contains("id=\"run-result\">ok<"), "{page}");
    assert!(page.contains("id=\"run-by\">alice<"), "{page}");
    assert!(page.contains("Say hello"), "{page}");
    // The task's data, escaped.
    assert!(
        page.contains("hello &lt;b&gt;core-ams-1&lt;&#x2f;b&gt;"),
        "{page}"
    );
    let runs = get(p, "/runs", Some(&alice)).body;
    assert!(runs.contains(">alice<") && runs.contains(">ok<"), "{runs}");
    // On disk: the meta and the report.
    let job_dir = lab.dir.path().join("runs").join("hello");
    let metas: Vec<_> = std::fs::read_dir(&job_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(metas.len(), 2, "meta and report: {metas:?}");

    // `mixed` fails on the HTML-named host; the run page filters by status.
    let r = post(
        p,
        "/actions/run-job",
        Some(&alice),
        &format!("job=mixed&csrf={csrf}"),
    );
    let run = run_location(&r, "mixed");
    lab.wait_until("the mixed run to end", 120, || {
        !get(p, &run, Some(&alice))
            .body
            .contains("id=\"run-result\">running")
    });
    let all = get(p, &run, Some(&alice)).body;
    assert!(all.contains("id=\"run-result\">failed<"), "{all}");
    assert!(
        all.contains("<strong>core-ams-1</strong>")
            && all.contains("<strong>&lt;script&gt;</strong>"),
        "{all}"
    );
    assert!(
        all.contains("not a plain name: &lt;i&gt;&lt;script&gt;&lt;&#x2f;i&gt;"),
        "{all}"
    );
    let failed = get(p, &format!("{run}?status=failed"), Some(&alice)).body;
    assert!(
        failed.contains("<strong>&lt;script&gt;</strong>"),
        "{failed}"
    );
    assert!(!failed.contains("<strong>core-ams-1</strong>"), "{failed}");
    // The overview lists the failure.
    let ov = get(p, "/", Some(&alice)).body;
    assert!(
        ov.contains("id=\"failures\"") && ov.contains("device(s) failed"),
        "{ov}"
    );
    // Runs filtered by job and result.
    let r = get(p, "/runs?job=mixed&result=failed", Some(&alice)).body;
    assert!(
        r.contains("<td>mixed</td>") && !r.contains("<td>hello</td>"),
        "{r}"
    );

    // Back one device up now: the backup job with that device as its limit (it fails:
    // nothing listens on its port), recorded with who asked.
    let r = post(
        p,
        "/actions/backup-device",
        Some(&alice),
        &format!("store=0&path=core-ams-1.cfg&csrf={csrf}"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let run = run_location(&r, "nightly-backup");
    let mut page = String::new();
    lab.wait_until("the one-device backup to end", 120, || {
        page = get(p, &run, Some(&alice)).body;
        !page.contains("id=\"run-result\">running")
    });
    assert!(
        page.contains("limit <span class=\"tag\">core-ams-1</span>"),
        "{page}"
    );
    assert!(page.contains("id=\"run-by\">alice<"), "{page}");
    assert!(page.contains("<strong>core-ams-1</strong>"), "{page}");
    // It is not the job's run: the job's last run (what alerts watch) is untouched.
    let st: serde_json::Value =
        serde_json::from_str(&get(p, "/status", Some(&alice)).body).unwrap();
    assert!(st["jobs"]["nightly-backup"]["last_run"].is_null(), "{st}");
    assert_eq!(st["jobs"]["nightly-backup"]["running"], false, "{st}");
    assert_eq!(st["jobs"]["hello"]["last_run"]["result"], "ok", "{st}");
    // The device page shows that run.
    let dev = get(p, "/device/0/core-ams-1.cfg", Some(&alice)).body;
    assert!(dev.contains("id=\"recent-runs\""), "{dev}");
    // Not a plain host name: refused.
    let r = post(
        p,
        "/actions/backup-device",
        Some(&alice),
        &format!("store=0&path={}&csrf={csrf}", enc("<script>.cfg")),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(lab.log().contains("requested by `alice`"), "{}", lab.log());

    // Log out: the cookie is cleared.
    let r = post(p, "/logout", Some(&alice), &format!("csrf={csrf}"));
    assert_eq!(r.status, 303);
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
}

#[test]
fn metrics_may_be_public() {
    let lab = Lab::start(LabOptions {
        metrics_public: true,
        ..Default::default()
    });
    let r = get(lab.port, "/metrics", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("netorch_job_runs_total"));
    assert_eq!(get(lab.port, "/status", None).status, 401);
    assert_eq!(get(lab.port, "/", None).status, 303);
}

#[test]
fn history_pages_through_2000_commits() {
    let lab = Lab::start(LabOptions {
        commits: 2_000,
        auth: false,
        ..Default::default()
    });
    let p = lab.port;
    let t = std::time::Instant::now();
    let first = get(p, "/history/0/core-ams-1.cfg", None);
    assert_eq!(first.status, 200);
    let versions = |body: &str| body.matches("name=\"b\" value=\"").count();
    assert_eq!(versions(&first.body), 50);
    assert!(first.body.contains("Backup 1999") && first.body.contains("Backup 1950"));
    let older = first.body.find("id=\"older\"").map(|_| ()).and_then(|_| {
        let at = first.body.find("?from=")?;
        let rest = &first.body[at + 6..];
        Some(rest[..rest.find('"')?].to_string())
    });
    let from = older.expect("a link to older versions");
    let second = get(p, &format!("/history/0/core-ams-1.cfg?from={from}"), None);
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(versions(&second.body), 50);
    assert!(
        second.body.contains("Backup 1949") && second.body.contains("Backup 1900"),
        "{}",
        second.body
    );
    assert!(!second.body.contains("Backup 1950<"), "{}", second.body);
    // `<script>.cfg` changed twice, long ago: its page looks through every commit.
    let r = get(p, "/history/0/%3Cscript%3E.cfg", None);
    assert_eq!(versions(&r.body), 2, "{}", r.body);
    assert!(r.body.contains("2000 commits looked at"), "{}", r.body);
    // quiet.cfg: one version.
    let r = get(p, "/history/0/quiet.cfg", None);
    assert_eq!(versions(&r.body), 1, "{}", r.body);
    // A diff between two revisions of page 2.
    let id_of = |body: &str, summary: &str| -> String {
        let at = body.find(&format!("<td>{summary}</td>")).unwrap();
        let before = &body[..at];
        let v = before.rfind("name=\"b\" value=\"").unwrap();
        before[v + 16..v + 56].to_string()
    };
    let (a, b) = (
        id_of(&second.body, "Backup 1900"),
        id_of(&second.body, "Backup 1949"),
    );
    let r = get(p, &format!("/diff/0/core-ams-1.cfg?a={a}&b={b}"), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("description uplink 1900") && r.body.contains("description uplink 1949"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("id=\"added\">+4<") && r.body.contains("id=\"removed\">−4<"),
        "{}",
        r.body
    );
    // The Devices page and the overview with that history.
    let r = get(p, "/devices", None);
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("2023-11-16"),
        "last change of core-ams-1: {}",
        r.body
    );
    eprintln!(
        "2,000-commit store: history pages, diff and devices in {:?}",
        t.elapsed()
    );
}

#[test]
fn a_listener_others_can_reach_needs_auth_and_config_errors_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |schedule: &str, args: &[&str]| {
        std::fs::write(d.join("schedule.yml"), schedule).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_netorch"))
            .current_dir(d)
            .args(["daemon", "--config", "schedule.yml"])
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let job = "jobs:\n  - name: j\n    every: 1h\n    playbook: p.yml\n    inventory: i.yml\n";
    // In the schedule: refused at load, with the line.
    let (code, err) = run(&format!("{job}web:\n  listen: 0.0.0.0:9\n"), &[]);
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err.contains("schedule.yml:7:") && err.contains("without authentication"),
        "{err}"
    );
    // On the command line: refused before binding.
    let (code, err) = run(job, &["--listen", "0.0.0.0:9"]);
    assert_eq!(code, Some(5), "{err}");
    assert!(err.contains("without authentication"), "{err}");
    // A misspelt key: did you mean, at its line.
    let (code, err) = run(&format!("{job}web:\n  lisen: 127.0.0.1:9\n"), &[]);
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err.contains("schedule.yml:7:") && err.contains("listen"),
        "{err}"
    );
    // A password hash that is not one.
    let (code, err) = run(
        &format!(
            "{job}web:\n  users:\n    - {{ name: a, role: operator, password_hash: secret }}\n"
        ),
        &[],
    );
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err.contains("schedule.yml:8:") && err.contains("hash-password"),
        "{err}"
    );
    assert!(!err.contains("secret }"), "the value is not echoed: {err}");
    // A role that does not exist.
    let (code, err) = run(
        &format!("{job}web:\n  users:\n    - {{ name: a, role: admin, password_hash_env: X }}\n"),
        &[],
    );
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("operator"), "{err}");
    // A token that is too short, from a file.
    std::fs::write(d.join("tok"), "short\n").unwrap();
    let (code, err) = run(
        &format!("{job}web:\n  tokens:\n    - {{ name: t, role: read, token_file: tok }}\n"),
        &[],
    );
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("shorter than 16"), "{err}");
}

#[test]
fn hash_password_reads_stdin_and_the_hash_verifies() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_netorch"))
        .args(["daemon", "hash-password"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"s3cret pass\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hash = String::from_utf8(out.stdout).unwrap();
    let hash = hash.trim();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    use argon2::PasswordVerifier;
    assert!(argon2::Argon2::default()
        .verify_password(b"s3cret pass", hash)
        .is_ok());
    assert!(argon2::Argon2::default()
        .verify_password(b"s3cret", hash)
        .is_err());
}

#[test]
fn tls_serves_https_with_secure_cookies() {
    let lab = Lab::start(LabOptions {
        tls: true,
        ..Default::default()
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::NativeTls)
                .disable_verification(true)
                .build(),
        )
        .build()
        .into();
    let base = format!("https://127.0.0.1:{}", lab.port);
    let mut r = agent.get(format!("{base}/login")).call().unwrap();
    assert_eq!(r.status(), 200);
    let page = r.body_mut().read_to_string().unwrap();
    let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    let token = &page[at..at + page[at..].find('"').unwrap()];
    let r = agent
        .post(format!("{base}/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!(
            "user=alice&password={}&csrf={}",
            enc(ALICE_PASSWORD),
            enc(token)
        ))
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // Plain HTTP on the TLS port gets no page.
    let port = lab.port;
    let plain = std::panic::catch_unwind(move || get(port, "/login", None).status);
    assert!(!matches!(plain, Ok(200)), "{plain:?}");
}

/// A run of more hosts than a page holds (a 10,000-device job) is paged: every host can be
/// reached, a page number past the end shows the last page, and a filter keeps its hosts.
#[test]
fn a_run_of_many_hosts_is_paged() {
    let lab = Lab::start(LabOptions {
        auth: false,
        ..Default::default()
    });
    let p = lab.port;
    let id = "20260101T000000.000Z";
    let runs = lab.dir.path().join("runs").join("mixed");
    std::fs::create_dir_all(&runs).unwrap();
    let hosts: Vec<serde_json::Value> = (0..2500)
        .map(|i| {
            let status = if i == 7 { "failed" } else { "ok" };
            serde_json::json!({"host": format!("h{i:04}"), "status": status, "duration_ms": 1,
                "commands": [{"command": "show clock", "output": format!("clock of h{i:04}")}]})
        })
        .collect();
    let stats: serde_json::Map<String, serde_json::Value> = (0..2500)
        .map(|i| {
            let s = if i == 7 {
                serde_json::json!({"failed": 1})
            } else {
                serde_json::json!({"ok": 1})
            };
            (format!("h{i:04}"), s)
        })
        .collect();
    let report = serde_json::json!({"plays": [{"name": "p", "tasks": [{"name": "t", "hosts": hosts}]}],
        "stats": stats});
    std::fs::write(
        runs.join(format!("{id}.report.json")),
        serde_json::to_vec(&report).unwrap(),
    )
    .unwrap();
    let meta = serde_json::json!({"id": id, "job": "mixed", "kind": "playbook", "trigger": "schedule",
        "requested_by": null, "limit": null, "report": true,
        "outcome": {"started": "2026-01-01T00:00:00Z", "started_unix": 1767225600, "duration_ms": 1000,
            "result": "failed", "exit_code": 2, "ok": 2499, "changed": 0, "failed": 1}});
    std::fs::write(
        runs.join(format!("{id}.meta.json")),
        serde_json::to_vec(&meta).unwrap(),
    )
    .unwrap();
    let page = |q: &str| {
        let r = get(p, &format!("/runs/mixed/{id}{q}"), None);
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        r.body
    };
    let first = page("");
    assert!(first.contains("Hosts 1–2000 of 2500"), "{first}");
    assert!(first.contains("<strong>h0000</strong>") && first.contains("<strong>h1999</strong>"));
    assert!(first.contains("clock of h1999"));
    assert!(!first.contains("<strong>h2000</strong>"));
    assert!(first.contains("href=\"?page=2\" rel=\"next\""), "{first}");
    let second = page("?page=2");
    assert!(second.contains("Hosts 2001–2500 of 2500"), "{second}");
    assert!(second.contains("<strong>h2499</strong>") && second.contains("clock of h2000"));
    assert!(!second.contains("<strong>h0000</strong>"));
    assert!(second.contains("href=\"?page=1\" rel=\"prev\""), "{second}");
    // Past the end: the last page; not a number: the first.
    assert!(page("?page=99").contains("Hosts 2001–2500 of 2500"));
    assert!(page("?page=abc").contains("Hosts 1–2000 of 2500"));
    // The counts are the whole run's; a filter narrows to one page, no pager.
    let failed = page("?status=failed");
    assert!(failed.contains("<strong>h0007</strong>"), "{failed}");
    assert!(!failed.contains("<strong>h0008</strong>") && !failed.contains("id=\"pager\""));
    assert!(failed.contains("</span> 2499</a>"), "{failed}");
}
