//! serde_yaml's errors in the words of every other netorch message: our hints split out,
//! serde's type names replaced by ours, inner positions removed (the outer one is kept).

use std::path::Path;

use crate::playbook::positions;
use crate::playbook::values::HINT_SEP;
use crate::source::{yaml_error, LoadError};
use crate::value::kind::serde_word;

/// serde_yaml's error as a [`LoadError`], with our hint separated from the message.
pub(super) fn parse_error(path: &Path, text: &str, e: &serde_yaml::Error) -> LoadError {
    let mut le = yaml_error(path, text, e);
    if let Some((msg, hint)) = le.message.split_once(HINT_SEP) {
        let (msg, hint) = (msg.to_string(), hint.to_string());
        le.message = msg;
        le.hint = Some(hint);
    }
    // serde_yaml prefixes the path inside the document (`.[0].tasks[2]: `); keep it, it
    // helps in long files, without the leading dot.
    if let Some(rest) = le.message.strip_prefix('.') {
        le.message = rest.to_string();
    }
    // libyaml's scanner messages embed the position we already print.
    le.message = strip_inner_position(&le.message);
    le.message = found_after_expected(&le.message);
    // An error at the end of the file (an unclosed bracket or quote) points past the last
    // line; show the last line that has content instead.
    if le.snippet.is_none() && le.line.is_some() {
        if let Some((i, last)) = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .last()
        {
            let hint = le.hint.take();
            le = LoadError::at(
                path,
                Some(text),
                i + 1,
                last.chars().count() + 1,
                format!("{} (at the end of the file)", le.message),
            );
            le.hint = hint;
        }
    }
    if let Some(key) = le
        .message
        .split("duplicate field `")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .map(str::to_string)
    {
        // Derived structs report a duplicate at the mapping; point at the second key.
        le.message = le.message.replace("duplicate field", "duplicate key");
        if let (Some(line), Some(col), Some(tree)) = (le.line, le.column, positions::parse(text)) {
            if let Some(k) = positions::second_key_at(&tree, line, col, &key) {
                let mut moved = LoadError::at(path, Some(text), k.line, k.column, le.message);
                moved.hint = Some(format!("`{key}` may appear once; remove one of them"));
                le = moved;
            }
        }
    }
    le
}

/// serde's "invalid type: sequence, expected X" in the words of every other message:
/// "expected X, found a list".
fn found_after_expected(msg: &str) -> String {
    let Some(i) = msg.find("invalid type: ") else {
        return msg.to_string();
    };
    let rest = &msg[i + "invalid type: ".len()..];
    let Some(j) = rest.find(", expected ") else {
        return msg.to_string();
    };
    let found = serde_word(&rest[..j]);
    let expected = &rest[j + ", expected ".len()..];
    format!("{}expected {expected}, found {found}", &msg[..i])
}

/// Remove " at line N column M" from the middle of a message.
fn strip_inner_position(msg: &str) -> String {
    let Some(i) = msg.find(" at line ") else {
        return msg.to_string();
    };
    let rest = &msg[i + " at line ".len()..];
    let Some(c) = rest.find(" column ") else {
        return msg.to_string();
    };
    let after = &rest[c + " column ".len()..];
    let digits = after.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || !rest[..c].chars().all(|ch| ch.is_ascii_digit()) {
        return msg.to_string();
    }
    format!("{}{}", &msg[..i], &after[digits..])
}

#[cfg(test)]
mod tests {
    use super::found_after_expected;

    #[test]
    fn serde_type_errors_read_like_ours() {
        assert_eq!(
            found_after_expected("[0].forks: invalid type: sequence, expected a whole number"),
            "[0].forks: expected a whole number, found a list"
        );
        assert_eq!(
            found_after_expected("invalid type: boolean `true`, expected a string"),
            "expected a string, found boolean true"
        );
        assert_eq!(found_after_expected("other"), "other");
    }
}
