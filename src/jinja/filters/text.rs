//! Ansible's filters on strings: the regex family with Python's `re` semantics (groups
//! `\1` / `\g<name>`, `re.match` anchoring), base64, hashes, path parts, shell quoting and
//! `comment`.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::Error;

use super::invalid;

/// A Python-style regex: fancy-regex, because Python patterns use lookarounds and
/// backreferences that the regex crate refuses.
fn build(pattern: &str, ignorecase: bool, multiline: bool) -> Result<fancy_regex::Regex, Error> {
    let mut flags = String::new();
    if ignorecase {
        flags.push('i');
    }
    if multiline {
        flags.push('m');
    }
    let full = if flags.is_empty() {
        pattern.to_string()
    } else {
        format!("(?{flags}){pattern}")
    };
    fancy_regex::RegexBuilder::new(&full)
        .delegate_size_limit(1 << 20)
        .build()
        .map_err(|e| invalid(format!("invalid regular expression `{pattern}`: {e}")))
}

fn flags(kwargs: &Kwargs) -> Result<(bool, bool), Error> {
    Ok((
        kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false),
        kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false),
    ))
}

fn run_err(e: fancy_regex::Error) -> Error {
    invalid(format!("regular expression failed: {e}"))
}

/// `regex_replace(pattern, replacement='', ignorecase=False, multiline=False, count=0)`.
pub fn regex_replace(
    value: Value,
    pattern: String,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let (ic, ml) = flags(&kwargs)?;
    let count = kwargs.get::<Option<usize>>("count")?.unwrap_or(0);
    kwargs.assert_all_used()?;
    let re = build(&pattern, ic, ml)?;
    let repl = python_template(&replacement.unwrap_or_default());
    let text = crate::jinja::python::to_str(&value);
    let out = re
        .try_replacen(&text, count, repl.as_str())
        .map_err(run_err)?;
    Ok(out.into_owned())
}

/// Python's replacement syntax (`\1`, `\g<1>`, `\g<name>`, `\n`) as fancy-regex's (`${1}`).
fn python_template(repl: &str) -> String {
    let mut out = String::with_capacity(repl.len());
    let chars: Vec<char> = repl.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '$' {
            out.push_str("$$");
        } else if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            if n.is_ascii_digit() {
                let mut j = i + 1;
                let mut num = String::new();
                while j < chars.len() && chars[j].is_ascii_digit() && num.len() < 2 {
                    num.push(chars[j]);
                    j += 1;
                }
                out.push_str(&format!("${{{num}}}"));
                i = j;
                continue;
            }
            if n == 'g' && chars.get(i + 2) == Some(&'<') {
                if let Some(end) = chars[i + 3..].iter().position(|c| *c == '>') {
                    let name: String = chars[i + 3..i + 3 + end].iter().collect();
                    out.push_str(&format!("${{{name}}}"));
                    i += 4 + end;
                    continue;
                }
            }
            let esc = match n {
                'n' => Some('\n'),
                't' => Some('\t'),
                'r' => Some('\r'),
                '\\' => Some('\\'),
                _ => None,
            };
            match esc {
                Some(e) => out.push(e),
                None => {
                    out.push('\\');
                    out.push(n);
                }
            }
            i += 2;
            continue;
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// A group reference of regex_search's arguments: `'\\1'` or `'\\g<name>'`.
enum Group {
    Index(usize),
    Name(String),
}

fn group_ref(arg: &str) -> Result<Group, Error> {
    if let Some(n) = arg.strip_prefix('\\').and_then(|d| d.parse::<usize>().ok()) {
        return Ok(Group::Index(n));
    }
    if let Some(name) = arg.strip_prefix("\\g<").and_then(|r| r.strip_suffix('>')) {
        return Ok(match name.parse::<usize>() {
            Ok(n) => Group::Index(n),
            Err(_) => Group::Name(name.to_string()),
        });
    }
    Err(invalid(format!(
        "regex_search: unknown argument `{arg}`; expected a group reference such as '\\\\1' or \
         '\\\\g<name>'"
    )))
}

/// `regex_search(pattern, *groups, ignorecase=False, multiline=False)`: the match, the
/// list of the named groups when groups are given, none when nothing matches.
pub fn regex_search(
    value: Value,
    pattern: String,
    groups: Rest<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let (ic, ml) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = build(&pattern, ic, ml)?;
    let text = crate::jinja::python::to_str(&value);
    let Some(caps) = re.captures(&text).map_err(run_err)? else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map(|m| m.as_str()).unwrap_or("")));
    }
    let mut out = Vec::new();
    for g in groups.iter() {
        let m = match group_ref(g)? {
            Group::Index(i) => caps.get(i),
            Group::Name(n) => caps.name(&n),
        };
        out.push(
            m.map(|m| Value::from(m.as_str()))
                .unwrap_or(Value::from(())),
        );
    }
    Ok(Value::from(out))
}

/// `re.findall`: the matches; with one group its texts; with several, lists of them.
pub fn regex_findall(value: Value, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let (ic, ml) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = build(&pattern, ic, ml)?;
    let text = crate::jinja::python::to_str(&value);
    let ngroups = re.captures_len() - 1;
    let mut out = Vec::new();
    for caps in re.captures_iter(&text) {
        let caps = caps.map_err(run_err)?;
        let g = |i: usize| Value::from(caps.get(i).map(|m| m.as_str()).unwrap_or(""));
        out.push(match ngroups {
            0 => g(0),
            1 => g(1),
            n => Value::from((1..=n).map(g).collect::<Vec<_>>()),
        });
    }
    Ok(Value::from(out))
}

/// Python's `re.escape` (3.7+): only characters special in a pattern get a backslash.
pub fn regex_escape(value: String, re_type: Option<String>) -> Result<String, Error> {
    match re_type.as_deref().unwrap_or("python") {
        "python" => Ok(value
            .chars()
            .map(|c| {
                if "()[]{}?*+-|^$\\.&~# \t\n\r\u{b}\u{c}".contains(c) {
                    format!("\\{c}")
                } else {
                    c.to_string()
                }
            })
            .collect()),
        "posix_basic" => Ok(value
            .chars()
            .map(|c| {
                if ".[]\\*^$".contains(c) {
                    format!("\\{c}")
                } else {
                    c.to_string()
                }
            })
            .collect()),
        other => Err(invalid(format!(
            "regex_escape: re_type `{other}` is not supported (python or posix_basic)"
        ))),
    }
}

/// The `match` / `search` / `regex` tests.
pub fn regex_test(
    value: &Value,
    pattern: &str,
    kwargs: &Kwargs,
    anchored: Option<bool>,
) -> Result<bool, Error> {
    let (ic, ml) = flags(kwargs)?;
    let anchored = match anchored {
        Some(a) => a,
        None => match kwargs.get::<Option<String>>("match_type")?.as_deref() {
            None | Some("search") => false,
            Some("match") => true,
            Some(other) => {
                return Err(invalid(format!(
                    "regex: match_type `{other}` is not supported (search or match)"
                )))
            }
        },
    };
    kwargs.assert_all_used()?;
    let pattern = if anchored {
        format!(r"\A(?:{pattern})")
    } else {
        pattern.to_string()
    };
    let re = build(&pattern, ic, ml)?;
    let text = crate::jinja::python::to_str(value);
    re.is_match(&text).map_err(run_err)
}

pub fn b64encode(value: Value) -> String {
    data_encoding::BASE64.encode(crate::jinja::python::to_str(&value).as_bytes())
}

/// Ansible's `b64decode`: standard base64 (padding optional) to UTF-8 text.
pub fn b64decode(s: String) -> Result<String, Error> {
    let t = s.trim().trim_end_matches('=');
    let bytes = data_encoding::BASE64_NOPAD
        .decode(t.as_bytes())
        .map_err(|e| invalid(format!("b64decode: not base64: {e}")))?;
    String::from_utf8(bytes).map_err(|_| invalid("b64decode: the decoded bytes are not UTF-8 text"))
}

/// `hash('sha1')` and friends: the hex digest of the text's UTF-8 bytes.
pub fn hash(value: Value, kind: Option<String>) -> Result<String, Error> {
    use sha2::Digest;
    let data = crate::jinja::python::to_str(&value).into_bytes();
    fn hex(b: &[u8]) -> String {
        data_encoding::HEXLOWER.encode(b)
    }
    Ok(match kind.as_deref().unwrap_or("sha1") {
        "sha1" => hex(&sha1::Sha1::digest(&data)),
        "md5" => hex(&md5::Md5::digest(&data)),
        "sha224" => hex(&sha2::Sha224::digest(&data)),
        "sha256" => hex(&sha2::Sha256::digest(&data)),
        "sha384" => hex(&sha2::Sha384::digest(&data)),
        "sha512" => hex(&sha2::Sha512::digest(&data)),
        other => {
            return Err(invalid(format!(
                "hash: `{other}` is not a hash netorch knows (sha1, md5, sha224, sha256, \
                 sha384, sha512)"
            )))
        }
    })
}

pub fn checksum(value: Value) -> Result<String, Error> {
    hash(value, Some("sha1".into()))
}

/// Python's `os.path.basename`.
pub fn basename(p: String) -> String {
    p.rsplit('/').next().unwrap_or_default().to_string()
}

/// Python's `os.path.dirname`.
pub fn dirname(p: String) -> String {
    match p.rfind('/') {
        None => String::new(),
        Some(i) => {
            let head = &p[..=i];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                head.to_string()
            } else {
                trimmed.to_string()
            }
        }
    }
}

/// Python's `os.path.splitext`: `[root, ext]`; leading dots of the name are not an extension.
pub fn splitext(p: String) -> Value {
    let name_start = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    let name = &p[name_start..];
    let lead = name.len() - name.trim_start_matches('.').len();
    match name.rfind('.') {
        Some(i) if i >= lead && i > 0 && lead < name.len() => {
            let at = name_start + i;
            Value::from(vec![p[..at].to_string(), p[at..].to_string()])
        }
        _ => Value::from(vec![p.clone(), String::new()]),
    }
}

/// Python's `shlex.quote`.
pub fn quote(v: Value) -> String {
    let s = crate::jinja::python::to_str(&v);
    if s.is_empty() {
        return "''".into();
    }
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c))
    {
        return s;
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// Ansible's `comment(style='plain', decoration=..., prefix=..., ...)`.
pub fn comment(text: Value, style: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let text = crate::jinja::python::to_str(&text);
    let style = match kwargs.get::<Option<String>>("style")? {
        Some(s) => s,
        None => style.unwrap_or_else(|| "plain".into()),
    };
    let (mut beginning, mut decoration, mut end) = match style.as_str() {
        "plain" => ("", "# ", ""),
        "erlang" => ("", "% ", ""),
        "c" => ("", "// ", ""),
        "cblock" => ("/*", " * ", " */"),
        "xml" => ("<!--", " - ", "-->"),
        other => {
            return Err(invalid(format!(
                "comment: unknown style `{other}` (plain, erlang, c, cblock, xml)"
            )))
        }
    };
    let get = |k: &str| kwargs.get::<Option<Value>>(k);
    let owned: Vec<(String, Option<String>)> = ["beginning", "decoration", "end"]
        .iter()
        .map(|k| {
            Ok((
                k.to_string(),
                get(k)?.map(|v| crate::jinja::python::to_str(&v)),
            ))
        })
        .collect::<Result<_, Error>>()?;
    for (k, v) in &owned {
        if let Some(v) = v {
            match k.as_str() {
                "beginning" => beginning = v.as_str(),
                "decoration" => decoration = v.as_str(),
                _ => end = v.as_str(),
            }
        }
    }
    let newline = get("newline")?
        .map(|v| crate::jinja::python::to_str(&v))
        .unwrap_or_else(|| "\n".into());
    let prefix = get("prefix")?.map(|v| crate::jinja::python::to_str(&v));
    let postfix = get("postfix")?.map(|v| crate::jinja::python::to_str(&v));
    let prefix_count = get("prefix_count")?
        .map(i64::try_from)
        .transpose()?
        .unwrap_or(1);
    let postfix_count = get("postfix_count")?
        .map(i64::try_from)
        .transpose()?
        .unwrap_or(1);
    kwargs.assert_all_used()?;
    let mut out = String::new();
    if !beginning.is_empty() {
        out.push_str(beginning);
        out.push_str(&newline);
    }
    let prefix = prefix.unwrap_or_else(|| decoration.trim_end().to_string());
    if !prefix.is_empty() {
        for _ in 0..prefix_count.max(0) {
            out.push_str(&prefix);
            out.push_str(&newline);
        }
    }
    let body = format!(
        "{decoration}{}",
        text.replace(&newline, &format!("{newline}{decoration}"))
    )
    .replace(
        &format!("{decoration}{newline}"),
        &format!("{}{newline}", decoration.trim_end()),
    );
    out.push_str(&body);
    let postfix = postfix.unwrap_or_else(|| decoration.trim_end().to_string());
    if !postfix.is_empty() {
        for _ in 0..postfix_count.max(0) {
            out.push_str(&newline);
            out.push_str(&postfix);
        }
    }
    if !end.is_empty() {
        out.push_str(&newline);
        out.push_str(end);
    }
    Ok(out)
}

/// Python's `os.path.join` over a list of parts.
pub fn path_join(parts: Value) -> Result<String, Error> {
    let items: Vec<String> = match parts.kind() {
        ValueKind::Seq => parts
            .try_iter()?
            .map(|v| crate::jinja::python::to_str(&v))
            .collect(),
        _ => vec![crate::jinja::python::to_str(&parts)],
    };
    let mut out = String::new();
    for p in items {
        if p.starts_with('/') {
            out = p;
        } else if out.is_empty() || out.ends_with('/') {
            out.push_str(&p);
        } else {
            out.push('/');
            out.push_str(&p);
        }
    }
    Ok(out)
}

/// Jinja's `center(width=80)`, with Python's `str.center` padding.
pub fn center(value: Value, width: Option<usize>) -> String {
    let s = crate::jinja::python::to_str(&value);
    let width = width.unwrap_or(80);
    let len = s.chars().count();
    if width <= len {
        return s;
    }
    let marg = width - len;
    let left = marg / 2 + (marg & width & 1);
    format!("{}{s}{}", " ".repeat(left), " ".repeat(marg - left))
}
