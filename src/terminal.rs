//! Text from devices and servers on the user's terminal: control characters are never
//! passed through. A device (or anything that controls its output) could otherwise set the
//! window title, clear the screen, or write the user's clipboard (OSC 52).
//!
//! The interactive CLI path renders output the way a terminal would and drops what is left
//! ([`crate::device::channel::render`]); exec output and everything else the report shows
//! is escaped by [`escape`]. Both decide with [`is_unsafe`].

use std::borrow::Cow;

/// C0 controls (but newline and tab), DEL, and C1 controls (U+0080..U+009F, which some
/// terminals read as ESC + a letter).
pub fn is_unsafe(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// `text` with every unsafe control character written as a visible escape (`\x1b`,
/// `\r`, `\u{9b}`), so the user sees that it was there.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            c if is_unsafe(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_title_clear_and_clipboard_sequences() {
        let hostile = "ok\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07\u{9b}31m\r\nnext\tcol";
        let shown = escape(hostile);
        assert!(!shown.chars().any(is_unsafe), "{shown:?}");
        assert_eq!(
            shown,
            "ok\\x1b]0;pwned\\x07\\x1b[2J\\x1b]52;c;ZWNobyBoaQ==\\x07\\u{9b}31m\\r\nnext\tcol"
        );
        assert!(matches!(escape("plain\ntext\t"), Cow::Borrowed(_)));
    }
}
