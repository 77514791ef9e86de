//! Reading user files: the one place that turns bytes on disk into typed values.
//!
//! Every loader (inventory, vars files, playbooks, platform profiles) reads through
//! [`read_source`] and [`parse_yaml`], so every load error has the same shape: the file, the
//! line and column, what was found, what was expected, a hint (the nearest valid key for a
//! typo), and the offending source line with a caret under the column.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Largest file netorch reads as YAML/INI/JSON input. Real inventories and playbooks are
/// far below this; the cap keeps a wrong path (an image, a log) from eating memory.
pub const MAX_SOURCE_BYTES: u64 = 16 * 1024 * 1024;

/// A load error that points into a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
    /// The source line the error points at, if the text was available.
    pub snippet: Option<String>,
}

impl std::error::Error for LoadError {}

impl LoadError {
    /// An error about the file as a whole (missing, empty, too large).
    pub fn file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        LoadError {
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
            hint: None,
            snippet: None,
        }
    }

    /// An error at a position; `text` (the file's content) supplies the snippet.
    pub fn at(
        file: impl Into<PathBuf>,
        text: Option<&str>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        let snippet = text.and_then(|t| t.lines().nth(line.saturating_sub(1)).map(str::to_owned));
        LoadError {
            file: file.into(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
            hint: None,
            snippet,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `file:line:col` (or less, when the position is unknown).
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file.display()),
            (Some(l), None) => format!("{}:{l}", self.file.display()),
            _ => self.file.display().to_string(),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let (Some(line), Some(snippet)) = (self.line, &self.snippet) {
            // Tabs would misplace the caret; show them as one space each.
            // The quoted line may assign a secret (`password: ...`): never echo it.
            let snippet = crate::secret::mask_assignments(snippet);
            let shown: String = snippet
                .chars()
                .take(160)
                .map(|c| if c == '\t' { ' ' } else { c })
                .collect();
            let gutter = line.to_string().len();
            write!(f, "\n {line} | {shown}")?;
            if let Some(col) = self.column {
                let pad = " ".repeat(col.saturating_sub(1).min(160));
                write!(f, "\n {} | {pad}^", " ".repeat(gutter))?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n hint: {hint}")?;
        }
        Ok(())
    }
}

/// Read a user file as UTF-8 text, refusing files over [`MAX_SOURCE_BYTES`].
pub fn read_source(path: &Path) -> Result<String, LoadError> {
    let bytes = read_bounded(path, MAX_SOURCE_BYTES)?;
    decode_utf8(path, bytes)
}

/// Read at most `max` bytes of a regular file; more is an error. The limit is on the
/// bytes read, not on the size the file system reports: `/dev/zero` reports 0 and never
/// ends, a FIFO reports nothing and may never be written to, so anything but a regular
/// file is refused before it is opened.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, LoadError> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if !meta.is_file() {
        return Err(LoadError::file(
            path,
            format!("is {}, expected a regular file", file_kind(&meta)),
        ));
    }
    let too_big = |size: String| {
        LoadError::file(
            path,
            format!(
                "file is {size}; netorch reads at most {} MB from an input file",
                max / (1024 * 1024)
            ),
        )
        .with_hint("is this the right path? playbooks and inventories are small text files")
    };
    if meta.len() > max {
        return Err(too_big(format!(
            "{:.1} MB",
            meta.len() as f64 / 1_000_000.0
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| io_error(path, &e))?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, &e))?;
    if bytes.len() as u64 > max {
        // It grew while being read, or reported less than it holds.
        return Err(too_big("larger than it said".to_string()));
    }
    Ok(bytes)
}

/// What a file that is not a regular file is, for messages.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// The deepest nesting of `[` and `{` accepted, as serde_yaml's own recursion limit.
pub const MAX_NESTING: usize = 128;

/// Refuse YAML or JSON text whose flow collections (`[`, `{`) nest deeper than
/// [`MAX_NESTING`], before any parser sees it: the YAML parser's cost grows with the square
/// of the depth (100,000 levels took over a minute) before its recursion limit stops it.
/// Brackets inside quoted strings and comments do not count.
pub fn check_nesting(path: &Path, text: &str) -> Result<(), LoadError> {
    let (mut depth, mut line, mut col) = (0usize, 1usize, 0usize);
    let mut quote: Option<u8> = None;
    let mut comment = false;
    let mut prev = b'\n';
    let mut escaped = false;
    for &c in text.as_bytes() {
        col += 1;
        if c == b'\n' {
            line += 1;
            col = 0;
            comment = false;
            prev = c;
            continue;
        }
        if comment {
            continue;
        }
        match quote {
            Some(q) => {
                if q == b'"' && c == b'\\' && !escaped {
                    escaped = true;
                    continue;
                }
                if c == q && !escaped {
                    quote = None;
                }
                escaped = false;
            }
            None => match c {
                b'#' if prev.is_ascii_whitespace() => comment = true,
                b'\'' | b'"'
                    if matches!(prev, b' ' | b'\t' | b'\n' | b'[' | b'{' | b',' | b':') =>
                {
                    quote = Some(c)
                }
                // `''` inside single quotes is a quote: the string goes on.
                b'\'' if prev == b'\'' => quote = Some(c),
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err(LoadError::at(
                            path,
                            Some(text),
                            line,
                            col,
                            format!(
                                "the document nests deeper than netorch accepts ({MAX_NESTING} levels of `[` and `{{`)"
                            ),
                        ));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
        prev = c;
    }
    Ok(())
}

/// Decode bytes as UTF-8, pointing at the first invalid byte.
pub fn decode_utf8(path: &Path, bytes: Vec<u8>) -> Result<String, LoadError> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let before = String::from_utf8_lossy(&bytes[..valid]);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err(LoadError::at(
                path,
                None,
                line,
                column,
                format!(
                    "invalid UTF-8 (byte 0x{:02x} at offset {valid}); expected UTF-8 text",
                    bytes[valid]
                ),
            )
            .with_hint("save the file as UTF-8"))
        }
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> LoadError {
    let msg = match e.kind() {
        std::io::ErrorKind::NotFound => "file not found".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    LoadError::file(path, msg)
}

/// Parse YAML text into `T`. `expected` says in words what the file should hold (e.g. "a
/// list of plays"); it is used when the file is empty.
pub fn parse_yaml<T: DeserializeOwned>(
    path: &Path,
    text: &str,
    expected: &str,
) -> Result<T, LoadError> {
    if is_blank_yaml(text) {
        return Err(LoadError::file(
            path,
            format!("the file is empty; expected {expected}"),
        ));
    }
    check_nesting(path, text)?;
    serde_yaml::from_str(text).map_err(|e| yaml_error(path, text, &e))
}

/// True when the text holds no YAML content (only whitespace, comments, `---`).
pub fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

/// Turn a serde_yaml error into a [`LoadError`] with position, a clean message and a hint.
pub fn yaml_error(path: &Path, text: &str, e: &serde_yaml::Error) -> LoadError {
    let raw = e.to_string();
    let message = strip_position_suffix(&raw).to_string();
    let (line, column) = match e.location() {
        Some(loc) => (loc.line(), loc.column()),
        None => (0, 0),
    };
    let mut err = if line > 0 {
        LoadError::at(path, Some(text), line, column, message.clone())
    } else {
        LoadError::file(path, message.clone())
    };
    if let Some((found, candidates)) = parse_unknown(&message) {
        let kind = if message.contains("unknown variant") {
            "value"
        } else {
            "key"
        };
        let prefix = message.split("unknown ").next().unwrap_or_default();
        err.message = format!(
            "{prefix}unknown {kind} `{found}`; expected one of: {}",
            candidates.join(", ")
        );
        if let Some(best) = suggest(&found, candidates.iter().map(String::as_str)) {
            err.hint = Some(format!("did you mean `{best}`?"));
        }
    } else if message.contains("cannot start any token") || message.contains("tab") {
        let tab_on_line = err.snippet.as_deref().is_some_and(|s| s.contains('\t'));
        if tab_on_line {
            err.message = format!("{message} (a tab character)");
            err.hint = Some("YAML does not allow tabs for indentation; indent with spaces".into());
        }
    } else if message.contains("recursion limit exceeded") {
        err.hint = Some("the document nests deeper than netorch accepts (128 levels)".into());
    } else if message.contains("repetition limit exceeded") {
        err.hint =
            Some("aliases (*name) expand to too many nodes; this looks like an alias bomb".into());
    }
    err
}

fn strip_position_suffix(msg: &str) -> &str {
    // serde_yaml appends " at line L column C"; we print the position ourselves.
    match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => &msg[..i],
        _ => msg,
    }
}

/// From serde's "unknown field `x`, expected one of `a`, `b`" (or "expected `a` or `b`"),
/// return the found word and the candidates.
fn parse_unknown(message: &str) -> Option<(String, Vec<String>)> {
    let start = message
        .find("unknown field `")
        .map(|i| i + "unknown field `".len())
        .or_else(|| {
            message
                .find("unknown variant `")
                .map(|i| i + "unknown variant `".len())
        })?;
    let rest = &message[start..];
    let end = rest.find('`')?;
    let found = rest[..end].to_string();
    let expected = rest[end..].split("expected").nth(1)?;
    let candidates: Vec<String> = expected
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect();
    if candidates.is_empty() {
        return None;
    }
    Some((found, candidates))
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_l = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&word_l, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        name: String,
        register: Option<String>,
    }

    #[test]
    fn unknown_key_names_position_and_suggests() {
        let text = "name: x\nregistr: y\n";
        let e = parse_yaml::<T>(Path::new("p.yml"), text, "a task").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert_eq!(e.column, Some(1));
        assert!(e.message.contains("unknown key `registr`"), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `register`?"));
        assert!(e.to_string().starts_with("p.yml:2:1: "), "{e}");
    }

    #[test]
    fn empty_file_says_what_was_expected() {
        let e = parse_yaml::<T>(Path::new("e.yml"), "# nothing\n---\n", "a task").unwrap_err();
        assert_eq!(e.to_string(), "e.yml: the file is empty; expected a task");
    }

    #[test]
    fn tab_indentation_gets_a_hint() {
        let text = "name: x\n\tregister: y\n";
        let e = parse_yaml::<T>(Path::new("t.yml"), text, "a task").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.hint.unwrap_or_default().contains("tabs"));
    }

    #[test]
    fn invalid_utf8_points_at_the_byte() {
        let e = decode_utf8(Path::new("u.yml"), b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(4)));
        assert!(e.message.contains("0xff"));
    }

    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        let p = Path::new("d.yml");
        let ok = format!(
            "a: {}1{}\n",
            "[".repeat(MAX_NESTING),
            "]".repeat(MAX_NESTING)
        );
        assert!(check_nesting(p, &ok).is_ok());
        let deep = format!("a: 1\nb: {}\n", "[".repeat(100_000));
        let e = check_nesting(p, &deep).unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(4 + MAX_NESTING)));
        assert!(
            e.message.contains("nests deeper than netorch accepts"),
            "{e}"
        );
        // Quoted or commented brackets are text.
        let quoted = format!("a: \"{0}\"\nb: '{0}'\n# {0}\nc: x{0}\n", "[".repeat(1000));
        assert!(
            check_nesting(p, &quoted).is_err(),
            "a plain scalar's brackets count"
        );
        let quoted = format!("a: \"\\\"{0}\"\nb: 'it''s {0}'\n# {0}\n", "[".repeat(1000));
        assert!(check_nesting(p, &quoted).is_ok());
    }

    #[test]
    fn special_files_are_refused_and_reads_are_bounded() {
        let e = read_source(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(e.message, "is a character device, expected a regular file");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let st = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(st.success());
        let e = read_source(&fifo).unwrap_err();
        assert_eq!(e.message, "is a FIFO (named pipe), expected a regular file");
        let e = read_source(dir.path()).unwrap_err();
        assert_eq!(e.message, "is a directory, expected a regular file");
        let f = dir.path().join("big");
        std::fs::write(&f, vec![b'a'; 2000]).unwrap();
        assert_eq!(read_bounded(&f, 2000).unwrap().len(), 2000);
        assert!(read_bounded(&f, 1999).is_err());
    }

    #[test]
    fn suggest_only_close_words() {
        let c = ["register", "when", "loop"];
        assert_eq!(suggest("registr", c), Some("register"));
        assert_eq!(suggest("wehn", c), Some("when"));
        assert_eq!(suggest("completely", c), None);
    }
}
