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
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if meta.is_dir() {
        return Err(LoadError::file(path, "is a directory, expected a file"));
    }
    if meta.len() > MAX_SOURCE_BYTES {
        return Err(LoadError::file(
            path,
            format!(
                "file is {:.1} MB; netorch reads at most {} MB from an input file",
                meta.len() as f64 / 1_000_000.0,
                MAX_SOURCE_BYTES / (1024 * 1024)
            ),
        )
        .with_hint("is this the right path? playbooks and inventories are small text files"));
    }
    let bytes = std::fs::read(path).map_err(|e| io_error(path, &e))?;
    decode_utf8(path, bytes)
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
    fn suggest_only_close_words() {
        let c = ["register", "when", "loop"];
        assert_eq!(suggest("registr", c), Some("register"));
        assert_eq!(suggest("wehn", c), Some("when"));
        assert_eq!(suggest("completely", c), None);
    }
}
