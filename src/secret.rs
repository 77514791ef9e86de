//! Secrets: a wrapper that never prints its content, and the [`Redactor`] that masks known
//! secret values in any text that leaves the process (terminal, logs, JSON, JUnit, backups).

use std::fmt;

/// What every masked secret is shown as.
pub const MASK: &str = "********";

/// A secret value (password, passphrase, enable secret). `Debug`, `Display` and `Serialize`
/// all print [`MASK`]; only [`Secret::expose`] gives the value, for the wire.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Call only where it goes to the device or server.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

/// True for variable names whose values are secrets (masked by `inventory host`, in reports
/// and registered into the [`Redactor`]).
pub fn is_secret_var(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "passphrase",
        "token",
        "community",
        "ansible_ssh_pass",
        "ansible_pass",
        "api_key",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// Where a URL's credentials are: the scheme, the user info (`user:token`) and what
/// follows the `@`; `None` for a URL without credentials.
fn split_userinfo(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..end].rfind('@')?;
    Some((scheme, &rest[..at], &rest[at + 1..]))
}

/// The credentials of a URL (`https://user:token@host/...`): the user name and the
/// password, either possibly empty.
pub fn url_credentials(url: &str) -> Option<(&str, &str)> {
    let (_, userinfo, _) = split_userinfo(url)?;
    Some(userinfo.split_once(':').unwrap_or((userinfo, "")))
}

/// `url` without its credentials: for a child's command line (they go another way).
pub fn url_without_credentials(url: &str) -> String {
    match split_userinfo(url) {
        Some((scheme, _, host)) => format!("{scheme}://{host}"),
        None => url.to_string(),
    }
}

/// `url` as it may be shown: the password (or a lone user name, which is often a token)
/// replaced by [`MASK`].
pub fn redact_url(url: &str) -> String {
    match (split_userinfo(url), url_credentials(url)) {
        (Some((scheme, _, host)), Some((user, pass))) => {
            if pass.is_empty() {
                format!("{scheme}://{MASK}@{host}")
            } else {
                format!("{scheme}://{user}:{MASK}@{host}")
            }
        }
        _ => url.to_string(),
    }
}

/// A line of a YAML or INI file as an error message may quote it: the value of every
/// secret-looking key (`password: x`, `ansible_password=x`, `{secret: "x"}`) masked.
pub fn mask_assignments(line: &str) -> std::borrow::Cow<'_, str> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r#"([A-Za-z_][A-Za-z0-9_]*)(["']?\s*[:=]\s*)("[^"]*"?|'[^']*'?|[^\s,}\]#]+)"#,
        )
        .ok()
    });
    let Some(re) = re else {
        return std::borrow::Cow::Borrowed(line);
    };
    re.replace_all(line, |c: &regex::Captures<'_>| {
        if is_secret_var(&c[1]) {
            format!("{}{}{MASK}", &c[1], &c[2])
        } else {
            c[0].to_string()
        }
    })
}

/// Masks every registered secret value in text. Cheap to clone and share.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    // Longest first, so a secret that contains another is masked whole.
    values: Vec<String>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Register a secret value, and the forms a template filter turns it into (`| upper`,
    /// `| lower`, `| b64encode`, `| urlencode`): a transformed secret is still the secret.
    /// Values shorter than 3 characters are not masked: masking every "a" in output would
    /// make it unreadable and hide nothing.
    pub fn add(&mut self, value: &str) {
        if value.chars().count() < 3 {
            return;
        }
        let b64 = data_encoding::BASE64.encode(value.as_bytes());
        let forms = [
            value.to_string(),
            value.to_uppercase(),
            value.to_lowercase(),
            b64.trim_end_matches('=').to_string(),
            b64.clone(),
            data_encoding::BASE64URL_NOPAD.encode(value.as_bytes()),
            urlencode(value),
        ];
        for form in forms {
            if form.chars().count() >= 3 && !self.values.contains(&form) {
                self.values.push(form);
            }
        }
        self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The text with every registered secret replaced by [`MASK`].
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        if !self.values.iter().any(|v| text.contains(v.as_str())) {
            return std::borrow::Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        std::borrow::Cow::Owned(out)
    }
}

/// Percent-encoding as minijinja's `urlencode` does it (unreserved characters kept).
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter22");
        assert_eq!(format!("{s} {s:?}"), format!("{MASK} {MASK}"));
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{MASK}\""));
        assert_eq!(s.expose(), "hunter22");
    }

    #[test]
    fn redactor_masks_longest_first() {
        let mut r = Redactor::new();
        r.add("abc");
        r.add("abcdef");
        r.add("x");
        assert_eq!(
            r.redact("pw abcdef and abc and x"),
            "pw ******** and ******** and x"
        );
    }

    #[test]
    fn url_credentials_are_found_shown_masked_and_taken_out() {
        let u = "https://bot:ghp_T0ken@git.example.net:8443/net/backups.git";
        assert_eq!(url_credentials(u), Some(("bot", "ghp_T0ken")));
        assert_eq!(
            redact_url(u),
            "https://bot:********@git.example.net:8443/net/backups.git"
        );
        assert_eq!(
            url_without_credentials(u),
            "https://git.example.net:8443/net/backups.git"
        );
        let t = "https://ghp_OnlyT0ken@host/r.git";
        assert_eq!(redact_url(t), "https://********@host/r.git");
        for plain in ["https://host/a@b", "/srv/store.git", "git@host:net/b.git"] {
            assert_eq!(url_credentials(plain), None, "{plain}");
            assert_eq!(redact_url(plain), plain);
        }
    }

    #[test]
    fn filtered_forms_of_a_secret_are_masked_too() {
        let mut r = Redactor::new();
        r.add("Hunter2 pw!");
        let t = crate::jinja::Templates::new(Vec::new());
        let vars: crate::value::Vars =
            serde_json::from_value(serde_json::json!({"pw": "Hunter2 pw!"})).unwrap();
        for expr in [
            "{{ pw | upper }}",
            "{{ pw | lower }}",
            "{{ pw | b64encode }}",
            "{{ pw | urlencode }}",
        ] {
            let shown = t.render_str(expr, &vars, "t").unwrap();
            assert_eq!(r.redact(&shown), MASK, "{expr} -> {shown}");
        }
    }

    #[test]
    fn assignments_of_secrets_are_masked_in_quoted_lines() {
        for (line, want) in [
            ("    password: Hunter2", "    password: ********"),
            (
                "r1 ansible_host=10.0.0.1 ansible_password=Hunter2 x=1",
                "r1 ansible_host=10.0.0.1 ansible_password=******** x=1",
            ),
            (
                "  - {user: ops, password: \"Hun ter2\", key: k}",
                "  - {user: ops, password: ********, key: k}",
            ),
            (
                "enable_secret: 'Hunter2' # comment",
                "enable_secret: ******** # comment",
            ),
            ("hostname: r1", "hostname: r1"),
        ] {
            assert_eq!(mask_assignments(line), want, "{line}");
        }
    }

    #[test]
    fn secret_var_names() {
        assert!(is_secret_var("ansible_become_password"));
        assert!(is_secret_var("enable_secret"));
        assert!(is_secret_var("snmp_community"));
        assert!(!is_secret_var("ansible_host"));
    }
}
