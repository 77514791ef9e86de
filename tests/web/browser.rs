//! The main flows in a real headless Chromium, driven over WebDriver (Debian's `chromium`
//! and `chromium-driver`, installed by scripts/setup): log in, open a device, compare two
//! versions (unified and side by side), start a job and see it finish. Every page is
//! saved as a PNG in target/web-screenshots/.
//!
//! The WebDriver client is the few JSON calls these flows need, over ureq (already a
//! dependency): no WebDriver crate and its tree to build on a 2-core machine.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::lab::{free_port, Lab, LabOptions, ALICE_PASSWORD, TOKEN};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Generous: a 2-core machine shared with compilers.
const WAIT: Duration = Duration::from_secs(90);
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    agent: ureq::Agent,
    session: String,
}

impl Driver {
    fn start() -> Driver {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let mut d = Driver {
            child,
            base,
            agent,
            session: String::new(),
        };
        let deadline = Instant::now() + WAIT;
        loop {
            let ready = d
                .agent
                .get(format!("{}/status", d.base))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,860",
                         "--no-first-run", "--disable-extensions"]
            }
        }}});
        let v = d.call("POST", "/session", Some(caps));
        d.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        d
    }

    /// One WebDriver command; its `value` (panics on a WebDriver error).
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let v = self.try_call(method, path, body);
        if let Some(err) = v.get("error") {
            panic!("webdriver {method} {path}: {err}: {}", v["message"]);
        }
        v
    }

    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let resp = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, b) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(b.unwrap_or(json!({})).to_string()),
        };
        let mut resp = resp.unwrap_or_else(|e| panic!("webdriver {method} {path}: {e}"));
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        v["value"].clone()
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.call("GET", &self.s("/url"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn find_now(&self, using: &str, value: &str) -> Option<String> {
        let v = self.try_call(
            "POST",
            &self.s("/element"),
            Some(json!({ "using": using, "value": value })),
        );
        v[ELEMENT].as_str().map(str::to_string)
    }

    /// Wait for an element (polling; pages reload on their own while a run goes).
    fn find(&self, css: &str) -> String {
        self.find_by("css selector", css)
    }

    fn find_by(&self, using: &str, value: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(e) = self.find_now(using, value) {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no element {value} on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn text_now(&self, css: &str) -> Option<String> {
        let e = self.find_now("css selector", css)?;
        let v = self.try_call("GET", &self.s(&format!("/element/{e}/text")), None);
        v.as_str().map(str::to_string)
    }

    /// Wait until the element's text satisfies `pred`; that text.
    fn wait_text(&self, css: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(t) = self.text_now(css) {
                if pred(&t) {
                    return t;
                }
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} ({css}: {:?}) on {}",
                self.text_now(css),
                self.url()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn click(&self, element: &str) {
        self.call(
            "POST",
            &self.s(&format!("/element/{element}/click")),
            Some(json!({})),
        );
    }

    fn type_into(&self, element: &str, text: &str) {
        self.call(
            "POST",
            &self.s(&format!("/element/{element}/value")),
            Some(json!({ "text": text })),
        );
    }

    fn screenshot(&self, dir: &Path, name: &str) {
        let v = self.call("GET", &self.s("/screenshot"), None);
        let png = data_encoding::BASE64
            .decode(v.as_str().unwrap_or_default().as_bytes())
            .expect("a base64 PNG");
        assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.try_call("DELETE", &self.s(""), None);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshots_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn log_in_open_a_device_compare_versions_run_a_job() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        eprintln!(
            "\n\n********************************************************************\n\
             SKIPPED: the browser tests need {CHROMIUM} and {CHROMEDRIVER}\n\
             (Debian packages chromium and chromium-driver; scripts/setup installs them)\n\
             ********************************************************************\n"
        );
        return;
    }
    let shots = screenshots_dir();
    let lab = Lab::start(LabOptions {
        commits: 12,
        ..Default::default()
    });
    let base = format!("http://127.0.0.1:{}", lab.port);
    // The inventory (platforms, hosts without a backup) is read in the background: wait
    // for it, so the page the browser gets is the whole one.
    let bearer = format!("Bearer {TOKEN}");
    lab.wait_until("the inventory to be read", 90, || {
        super::lab::request(
            lab.port,
            "GET",
            "/devices",
            &[("Authorization", &bearer)],
            None,
        )
        .body
        .contains("4 of 4")
    });
    let b = Driver::start();

    // Any page asks for a login first.
    b.goto(&format!("{base}/devices"));
    let user = b.find("#user");
    assert!(b.url().contains("/login?next=%2Fdevices"), "{}", b.url());
    b.type_into(&user, "alice");
    b.type_into(&b.find("#password"), ALICE_PASSWORD);
    b.screenshot(&shots, "login");
    b.click(&b.find("#login-button"));
    // Back where we were going, logged in.
    b.wait_text("#whoami", "the user's name", |t| t.contains("alice"));
    assert!(b.url().ends_with("/devices"), "{}", b.url());
    b.wait_text("#device-count", "four devices", |t| t.contains("4 of 4"));
    b.screenshot(&shots, "devices");

    // Open a device.
    b.click(&b.find("#devices a[href='/device/0/core-ams-1.cfg']"));
    b.wait_text("#device-name", "the device page", |t| t == "core-ams-1");
    let config = b.wait_text("#config", "the config", |t| t.contains("hostname"));
    assert!(config.contains("description uplink 11"), "{config}");
    b.screenshot(&shots, "device");

    // Compare two versions: A is the third newest, B the newest.
    let radios = b.find_by("xpath", "(//table[@id='versions']//input[@name='a'])[3]");
    b.click(&radios);
    b.click(&b.find("#compare"));
    let added = b.wait_text("#added", "the diff", |t| t.starts_with('+'));
    assert_eq!(added, "+4");
    let diff = b.wait_text("#diff", "the diff rows", |t| t.contains("uplink 11"));
    assert!(diff.contains("uplink 9"), "{diff}");
    b.screenshot(&shots, "diff");
    b.click(&b.find("#split-link"));
    b.find("table.split");
    b.screenshot(&shots, "diff-split");

    // Start a job from the overview and watch it finish (its page reloads itself).
    b.goto(&format!("{base}/"));
    b.find("#jobs");
    b.screenshot(&shots, "overview");
    let button = b.find_by(
        "xpath",
        "//form[@action='/actions/run-job'][input[@name='job' and @value='hello']]/button",
    );
    b.click(&button);
    b.wait_text("#run-by", "the run page", |t| t == "alice");
    assert!(b.url().contains("/runs/hello/"), "{}", b.url());
    let result = b.wait_text("#run-result", "the run to finish", |t| t != "running");
    assert_eq!(result, "ok");
    b.find("#hosts");
    b.screenshot(&shots, "run");
    b.goto(&format!("{base}/runs"));
    b.wait_text("#runs", "the run in the history", |t| t.contains("alice"));
    b.screenshot(&shots, "runs");
    eprintln!("browser tests: screenshots in {}", shots.display());
}
