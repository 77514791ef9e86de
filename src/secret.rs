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

/// A writer that masks the [`Redactor`]'s secrets in what passes through it, for documents
/// too large to hold whole (the `--json` report of 10,000 hosts). A secret split between two
/// writes is still masked: the last bytes, as many as the longest secret less one, wait for
/// the next write. A secret is also found in its JSON-escaped form (`"` as `\"`).
/// [`MaskingWriter::finish`] writes what is left; dropping the writer without it loses that.
pub struct MaskingWriter<W: std::io::Write> {
    inner: W,
    finder: Option<aho_corasick::AhoCorasick>,
    /// Bytes kept back at each write: a match may start in them and end in the next write.
    keep: usize,
    /// Bytes gathered before they are searched and passed on.
    chunk: usize,
    buf: Vec<u8>,
}

const MASKING_CHUNK: usize = 64 * 1024;

impl<W: std::io::Write> MaskingWriter<W> {
    pub fn new(inner: W, redactor: &Redactor) -> Self {
        let mut forms: Vec<String> = Vec::new();
        for v in &redactor.values {
            let escaped = serde_json::to_string(v).unwrap_or_default();
            let escaped = escaped
                .strip_prefix('"')
                .and_then(|e| e.strip_suffix('"'))
                .unwrap_or(v);
            for form in [v.as_str(), escaped] {
                if !forms.iter().any(|f| f == form) {
                    forms.push(form.to_string());
                }
            }
        }
        let keep = forms.iter().map(String::len).max().unwrap_or(1) - 1;
        let finder = if forms.is_empty() {
            None
        } else {
            aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&forms)
                .ok()
        };
        MaskingWriter {
            inner,
            finder,
            keep,
            chunk: MASKING_CHUNK,
            buf: Vec::with_capacity(MASKING_CHUNK + 1024),
        }
    }

    #[cfg(test)]
    fn with_chunk(mut self, chunk: usize) -> Self {
        self.chunk = chunk;
        self
    }

    /// Pass on what can no longer be the start of a secret (everything, at the end).
    fn drain(&mut self, all: bool) -> std::io::Result<()> {
        let safe = if all {
            self.buf.len()
        } else {
            self.buf.len().saturating_sub(self.keep)
        };
        let mut pos = 0;
        if let Some(finder) = &self.finder {
            // A match that starts before `safe` lies whole in the buffer (no secret is
            // longer than `keep` + 1), and none started in what was passed on before.
            for m in finder.find_iter(&self.buf) {
                if m.start() >= safe {
                    break;
                }
                self.inner.write_all(&self.buf[pos..m.start()])?;
                self.inner.write_all(MASK.as_bytes())?;
                pos = m.end();
            }
        }
        let upto = pos.max(safe);
        self.inner.write_all(&self.buf[pos..upto])?;
        self.buf.drain(..upto);
        Ok(())
    }

    /// Write what is left and give back the inner writer, flushed.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.drain(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: std::io::Write> std::io::Write for MaskingWriter<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= self.chunk {
            self.drain(false)?;
        }
        Ok(data.len())
    }

    /// Passes on only what is safe to: a flush must not cut a secret in two.
    fn flush(&mut self) -> std::io::Result<()> {
        self.drain(false)?;
        self.inner.flush()
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
    use proptest::prelude::*;
    use std::io::Write as _;

    fn masked_in_pieces(r: &Redactor, text: &[u8], piece: usize, chunk: usize) -> Vec<u8> {
        let mut w = MaskingWriter::new(Vec::new(), r).with_chunk(chunk);
        for part in text.chunks(piece.max(1)) {
            w.write_all(part).unwrap();
            w.flush().unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn masking_writer_masks_a_secret_cut_between_writes_and_json_escaped() {
        let mut r = Redactor::new();
        r.add("s3cr\"et");
        let doc = serde_json::to_string(&serde_json::json!({"out": "pw s3cr\"et end"})).unwrap();
        assert!(doc.contains("s3cr\\\"et"), "{doc}");
        for piece in 1..6 {
            let out = String::from_utf8(masked_in_pieces(&r, doc.as_bytes(), piece, 3)).unwrap();
            assert_eq!(
                out,
                format!("{{\"out\":\"pw {MASK} end\"}}"),
                "piece {piece}"
            );
        }
        // Nothing to mask: the bytes pass unchanged.
        let plain = masked_in_pieces(&Redactor::new(), doc.as_bytes(), 2, 3);
        assert_eq!(plain, doc.as_bytes());
    }

    proptest! {
        #[test]
        fn masking_writer_gives_the_same_bytes_however_the_text_is_cut(
            secrets in proptest::collection::vec("[abc]{3,6}", 1..4),
            text in "[abcd ]{0,300}",
            piece in 1usize..40,
            chunk in 1usize..64,
        ) {
            let mut r = Redactor::new();
            for s in &secrets {
                r.add(s);
            }
            let whole = masked_in_pieces(&r, text.as_bytes(), text.len().max(1), usize::MAX);
            let cut = masked_in_pieces(&r, text.as_bytes(), piece, chunk);
            prop_assert_eq!(&whole, &cut);
            let out = String::from_utf8(cut).unwrap();
            for s in &secrets {
                prop_assert!(!out.contains(s.as_str()), "{} left in {}", s, out);
            }
        }
    }

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
