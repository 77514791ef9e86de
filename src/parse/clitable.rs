//! The CliTable `index` of a template folder (ntc-templates' format): which templates parse
//! a command's output on a platform.
//!
//! ```text
//! Template, Hostname, Platform, Command
//! cisco_ios_show_version.textfsm, .*, cisco_ios, sh[[ow]] ver[[sion]]
//! ```
//! As in the reference: `#` at the start of a line is a comment, the first non-comment line
//! is the header, rows with the wrong number of fields are skipped, every column but
//! `Template` is a regex matched at the start of the attribute (Python's `re.match`), the
//! first matching row wins, `abc[[xyz]]` means `abc(x(y(z)?)?)?`, and several templates
//! in one row are joined with `:`; their tables are merged on the first one's `Key` values.

use std::sync::OnceLock;

use super::pyre::PyRegex;
use super::textfsm::{Field, Template};

type Found = Option<(Vec<String>, usize)>;

pub struct Index {
    header: Vec<String>,
    rows: Vec<Row>,
    /// Answers already found: a run asks the same (platform, command) once per host.
    seen: std::sync::Mutex<std::collections::HashMap<Vec<(String, String)>, Found>>,
}

struct Row {
    /// 1-based line in the index file.
    pub line: usize,
    cells: Vec<Cell>,
}

struct Cell {
    text: String,
    compiled: OnceLock<Result<PyRegex, String>>,
}

impl Cell {
    /// `re.match(text, attr)`: literal cells are compared without a regex.
    fn matches(&self, attr: &str) -> Result<bool, String> {
        if !self.text.contains(|c: char| "\\.^$*+?{}[]|()".contains(c)) {
            return Ok(attr.starts_with(&self.text));
        }
        match self.compiled.get_or_init(|| PyRegex::new(&self.text)) {
            Ok(re) => {
                let mut locs = re.locations();
                re.match_into(attr, &mut locs)
            }
            Err(e) => Err(e.clone()),
        }
    }
}

/// `sh[[ow]]` -> `sh(o(w)?)?`.
pub fn expand_completion(cmd: &str) -> String {
    let mut out = String::with_capacity(cmd.len() * 2);
    let mut rest = cmd;
    while let Some(start) = rest.find("[[") {
        // Python's `\[\[.+?\]\]`: the shortest non-empty run up to `]]`.
        let after = &rest[start + 2..];
        let Some(end) = after.get(1..).and_then(|a| a.find("]]")).map(|e| e + 1) else {
            break;
        };
        out.push_str(&rest[..start]);
        let word: Vec<char> = after[..end].chars().collect();
        out.push('(');
        let joined: Vec<String> = word.iter().map(|c| c.to_string()).collect();
        out.push_str(&joined.join("("));
        for _ in 0..word.len() {
            out.push_str(")?");
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

impl Index {
    pub fn parse(text: &str) -> Result<Index, String> {
        let mut header: Option<Vec<String>> = None;
        let mut rows = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            match &header {
                None => {
                    let h = raw.split('#').next().unwrap_or("").trim();
                    if h.is_empty() {
                        continue;
                    }
                    let cols: Vec<String> = h.split(',').map(|c| c.trim().to_string()).collect();
                    for (j, c) in cols.iter().enumerate() {
                        if cols[..j].contains(c) {
                            return Err(format!("line {line_no}: duplicate header entry {c:?}"));
                        }
                    }
                    if !cols.iter().any(|c| c == "Template") {
                        return Err(format!(
                            "line {line_no}: the header has no `Template` column (expected `Template, Hostname, Platform, Command`)"
                        ));
                    }
                    header = Some(cols);
                }
                Some(h) => {
                    if raw.starts_with('#') {
                        continue;
                    }
                    let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
                    if fields.len() != h.len() {
                        continue;
                    }
                    let cells = h
                        .iter()
                        .zip(fields)
                        .map(|(col, f)| Cell {
                            text: if col == "Command" {
                                expand_completion(f)
                            } else {
                                f.to_string()
                            },
                            compiled: OnceLock::new(),
                        })
                        .collect();
                    rows.push(Row {
                        line: line_no,
                        cells,
                    });
                }
            }
        }
        let Some(header) = header else {
            return Err("no header line (expected `Template, Hostname, Platform, Command`)".into());
        };
        Ok(Index {
            header,
            rows,
            seen: Default::default(),
        })
    }

    /// The templates (`a.textfsm:b.textfsm` split) and index line of the first row whose
    /// columns all match `attrs` (columns the index lacks, and empty cells, match anything).
    pub fn find(&self, attrs: &[(&str, &str)]) -> Result<Found, String> {
        let key: Vec<(String, String)> = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(f) = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(f.clone());
        }
        let found = self.scan(attrs)?;
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, found.clone());
        Ok(found)
    }

    fn scan(&self, attrs: &[(&str, &str)]) -> Result<Found, String> {
        let cols: Vec<Option<usize>> = attrs
            .iter()
            .map(|(k, _)| self.header.iter().position(|h| h == k))
            .collect();
        let template_col = self.header.iter().position(|h| h == "Template");
        'rows: for row in &self.rows {
            for ((_, v), col) in attrs.iter().zip(&cols) {
                let Some(c) = col else { continue };
                let cell = &row.cells[*c];
                if cell.text.is_empty() {
                    continue;
                }
                let ok = cell
                    .matches(v)
                    .map_err(|e| format!("index line {}: {e}", row.line))?;
                if !ok {
                    continue 'rows;
                }
            }
            let t = template_col
                .map(|c| row.cells[c].text.clone())
                .unwrap_or_default();
            return Ok(Some((t.split(':').map(str::to_string).collect(), row.line)));
        }
        Ok(None)
    }
}

/// A parsed table: column names and rows (the reference's `CliTable`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Field>>,
}

/// Parses `text` with each template and merges the tables as `CliTable.ParseCmd` does:
/// later tables add their new columns to the rows of the first whose key values are equal
/// (by row position when no template has keys).
pub fn parse_merged<E>(
    templates: &[&Template],
    text: &str,
    mut run: impl FnMut(&Template, &str) -> Result<Vec<Vec<Field>>, E>,
) -> Result<Table, E> {
    let mut table = Table {
        header: Vec::new(),
        rows: Vec::new(),
    };
    let mut keys: Vec<String> = Vec::new();
    for (n, t) in templates.iter().enumerate() {
        let rows = run(t, text)?;
        if keys.is_empty() {
            keys = t.keys();
        }
        let header = t.header();
        if n == 0 {
            table = Table { header, rows };
            continue;
        }
        let new_cols: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| !table.header.contains(h))
            .map(|(i, _)| i)
            .collect();
        if new_cols.is_empty() {
            continue;
        }
        for &c in &new_cols {
            table.header.push(header[c].clone());
        }
        for row in &mut table.rows {
            row.extend(new_cols.iter().map(|_| Field::Str(String::new())));
        }
        let first_width = table.header.len() - new_cols.len();
        if keys.is_empty() {
            for (row1, row2) in table.rows.iter_mut().zip(&rows) {
                for (k, &c) in new_cols.iter().enumerate() {
                    row1[first_width + k] = row2[c].clone();
                }
            }
            continue;
        }
        let key_cols: Vec<(Option<usize>, Option<usize>)> = keys
            .iter()
            .map(|k| {
                (
                    table.header.iter().position(|h| h == k),
                    header.iter().position(|h| h == k),
                )
            })
            .collect();
        for row1 in &mut table.rows {
            for row2 in &rows {
                let same = key_cols.iter().all(|(a, b)| match (a, b) {
                    (Some(a), Some(b)) => row1[*a] == row2[*b],
                    _ => false,
                });
                if same {
                    for (k, &c) in new_cols.iter().enumerate() {
                        row1[first_width + k] = row2[c].clone();
                    }
                    break;
                }
            }
        }
    }
    Ok(table)
}
