//! XML text: one escape for everything netorch writes as XML (JUnit reports, NETCONF RPCs).

/// XML-escape text for attributes and element content; control characters that XML 1.0
/// forbids (device output and user variables can hold them) become U+FFFD, so the document
/// stays well-formed: a JUnit reader or a NETCONF server would otherwise refuse all of it.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if crate::terminal::is_unsafe(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
