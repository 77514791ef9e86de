//! Ansible's `module: key=value key2="quoted value"` shorthand (`debug: var=output`,
//! `set_fact: a=1 b=2`), read as the mapping it stands for. Splitting follows Ansible's
//! `split_args`/`parse_kv`: spaces separate pairs except inside quotes and inside `{{ }}`,
//! `{% %}` and `{# #}`; the quotes around a value are removed and `\"` inside them kept
//! as `"`.

/// The pairs of a `key=value ...` string, or `None` when it is not in that form (a word
/// without `=`, which Ansible would pass as free-form text).
pub fn parse(s: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for token in split(s)? {
        let (k, v) = token.split_once('=')?;
        let valid = !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !k.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return None;
        }
        pairs.push((k.to_string(), unquote(v)));
    }
    (!pairs.is_empty()).then_some(pairs)
}

/// Split on unquoted whitespace outside Jinja blocks; `None` for an unclosed quote.
fn split(s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match quote {
            Some(q) => {
                if c == '\\' && next.is_some() {
                    cur.push(c);
                    cur.extend(next);
                    i += 2;
                    continue;
                }
                if c == q {
                    quote = None;
                }
                cur.push(c);
            }
            None => {
                if matches!((c, next), ('{', Some('{' | '%' | '#'))) {
                    depth += 1;
                    cur.push(c);
                    cur.extend(next);
                    i += 2;
                    continue;
                }
                if depth > 0 && matches!((c, next), ('}' | '%' | '#', Some('}'))) {
                    depth -= 1;
                    cur.push(c);
                    cur.extend(next);
                    i += 2;
                    continue;
                }
                if (c == '"' || c == '\'') && depth == 0 {
                    quote = Some(c);
                    cur.push(c);
                } else if c.is_whitespace() && depth == 0 {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                } else {
                    cur.push(c);
                }
            }
        }
        i += 1;
    }
    if quote.is_some() {
        return None;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Some(out)
}

fn unquote(v: &str) -> String {
    let b = v.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        let q = b[0] as char;
        let inner = &v[1..v.len() - 1];
        return inner.replace(&format!("\\{q}"), &q.to_string());
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(s: &str) -> Vec<(String, String)> {
        parse(s).unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn pairs_quotes_and_jinja() {
        assert_eq!(kv("var=output"), vec![("var".into(), "output".into())]);
        assert_eq!(
            kv(r#"msg="hello {{ x }}" verbosity=1"#),
            vec![
                ("msg".into(), "hello {{ x }}".into()),
                ("verbosity".into(), "1".into())
            ]
        );
        assert_eq!(
            kv("a=1 b={{ c | default('x y') }}"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "{{ c | default('x y') }}".into())
            ]
        );
        assert_eq!(kv(r#"msg='a b' x="a \"q\"""#)[1].1, r#"a "q""#);
        assert_eq!(kv(r#"msg='a b'"#)[0].1, "a b");
        assert!(parse("show version").is_none());
        assert!(parse("msg=\"unclosed").is_none());
        assert!(parse("1x=2").is_none());
    }
}
