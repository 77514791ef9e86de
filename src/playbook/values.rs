//! Value shapes shared by plays, tasks and actions (durations, booleans, one-or-many
//! strings, variable maps, identifiers, `serial`), each deserialized by a visitor so that a
//! bad value is reported by serde_yaml at the value's own line and column.
//!
//! Why visitors and not "deserialize, then check": serde_yaml attaches a position to an
//! error only while it is inside the `deserialize_*` call for that node. A check made after
//! the value came back would be reported at the enclosing mapping instead.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::value::boolean::{bool_of_int, BOOL_EXPECTED};
use crate::value::duration::{from_secs, DURATION_EXPECTED};
use crate::value::yaml::VarsSeed;
use crate::value::Vars;
use crate::value::{parse_size, SIZE_EXPECTED};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// Separates a message from its hint inside a serde error string; the playbook loader
/// splits it back into `LoadError::message` and `LoadError::hint`.
pub(crate) const HINT_SEP: char = '\u{1f}';

/// A serde error message carrying a hint for the [`crate::source::LoadError`].
pub(crate) fn with_hint(message: impl fmt::Display, hint: Option<String>) -> String {
    match hint {
        Some(h) => format!("{message}{HINT_SEP}{h}"),
        None => message.to_string(),
    }
}

pub(crate) use crate::value::describe;

fn found<E: de::Error>(what: &str, u: de::Unexpected<'_>) -> E {
    E::custom(format!("expected {what}, found {}", describe(u)))
}

// ---------------------------------------------------------------------------------------
// booleans

/// A boolean as Ansible users write it (the spellings are [`crate::value::boolean`]'s).
pub fn boolish<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    d.deserialize_any(BoolVisitor)
}

/// [`boolish`] for an optional field.
pub fn opt_boolish<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(BoolVisitor).map(Some)
}

pub(crate) struct BoolVisitor;

pub(crate) use crate::value::parse_bool;

impl Visitor<'_> for BoolVisitor {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("true or false")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        parse_bool(v).ok_or_else(|| found(BOOL_EXPECTED, de::Unexpected::Str(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        bool_of_int(i128::from(v)).ok_or_else(|| found(BOOL_EXPECTED, de::Unexpected::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        bool_of_int(i128::from(v)).ok_or_else(|| found(BOOL_EXPECTED, de::Unexpected::Signed(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        Err(found(BOOL_EXPECTED, de::Unexpected::Float(v)))
    }
}

// ---------------------------------------------------------------------------------------
// numbers

/// A whole number (`3`, or `"3"` quoted), with a message that says what was found.
pub fn count<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(CountVisitor(PhantomData))
}

/// [`count`] for an optional field.
pub fn opt_count<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Option<T>, D::Error> {
    d.deserialize_any(CountVisitor(PhantomData)).map(Some)
}

struct CountVisitor<T>(PhantomData<T>);

/// A whole number from `min` to `max`; `name` names it in the message. The bound is
/// checked inside the visitor so that the error points at the value.
pub fn bounded_count<'de, D: Deserializer<'de>>(
    d: D,
    name: &'static str,
    min: u64,
    max: u64,
) -> Result<u64, D::Error> {
    struct V {
        name: &'static str,
        min: u64,
        max: u64,
    }
    impl Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            if (self.min..=self.max).contains(&v) {
                return Ok(v);
            }
            let (name, min, max) = (self.name, self.min, self.max);
            Err(E::custom(if min == 0 {
                format!("{name} must be at most {max}, found {v}")
            } else {
                format!("{name} must be from {min} to {max}, found {v}")
            }))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            CountVisitor::<u64>(PhantomData).visit_i64(v)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            Err(found("a whole number", de::Unexpected::Float(v)))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<u64, E> {
            Err(found("a whole number", de::Unexpected::Bool(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            match v.trim().parse::<u64>() {
                Ok(u) => self.visit_u64(u),
                Err(_) => Err(found("a whole number", de::Unexpected::Str(v))),
            }
        }
    }
    d.deserialize_any(V { name, min, max })
}

impl<T: TryFrom<u64>> Visitor<'_> for CountVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("the number {v} is too large here")))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(found(
                "a whole number (0 or more)",
                de::Unexpected::Signed(v),
            )),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Err(found("a whole number", de::Unexpected::Float(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        Err(found("a whole number", de::Unexpected::Bool(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        match v.trim().parse::<u64>() {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(found("a whole number", de::Unexpected::Str(v))),
        }
    }
}

/// A number (integer or decimal), as for `connect_rate` or `max_fail_percentage`.
pub(crate) struct NumberVisitor(pub &'static str);

impl Visitor<'_> for NumberVisitor {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(found(self.0, de::Unexpected::Float(v)))
        }
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<f64, E> {
        Err(found(self.0, de::Unexpected::Bool(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(f),
            _ => Err(found(self.0, de::Unexpected::Str(v))),
        }
    }
}

/// `max_fail_percentage`: a number from 0 to 100.
pub fn percentage<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a percentage from 0 to 100")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            self.visit_f64(v as f64)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            self.visit_f64(v as f64)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            if (0.0..=100.0).contains(&v) {
                Ok(v)
            } else {
                Err(E::custom(format!(
                    "max_fail_percentage must be between 0 and 100, found {v}"
                )))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            let t = v.trim().trim_end_matches('%');
            match t.parse::<f64>() {
                Ok(f) if f.is_finite() => self.visit_f64(f),
                _ => Err(found("a percentage from 0 to 100", de::Unexpected::Str(v))),
            }
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<f64, E> {
            Err(found("a percentage from 0 to 100", de::Unexpected::Bool(v)))
        }
    }
    d.deserialize_any(V).map(Some)
}

/// A positive number, such as `connect_rate` (new connections per second).
pub fn positive_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = d.deserialize_any(NumberVisitor("a number greater than 0"))?;
    if v > 0.0 {
        Ok(Some(v))
    } else {
        Err(de::Error::custom(format!(
            "expected a number greater than 0, found {v}"
        )))
    }
}

// ---------------------------------------------------------------------------------------
// durations

pub use crate::value::parse_duration;

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(DURATION_EXPECTED)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        from_secs(v as f64).ok_or_else(|| found(DURATION_EXPECTED, de::Unexpected::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        from_secs(v as f64).ok_or_else(|| found(DURATION_EXPECTED, de::Unexpected::Signed(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        from_secs(v).ok_or_else(|| found(DURATION_EXPECTED, de::Unexpected::Float(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse_duration(v).ok_or_else(|| found(DURATION_EXPECTED, de::Unexpected::Str(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Duration, E> {
        Err(found(DURATION_EXPECTED, de::Unexpected::Bool(v)))
    }
}

/// An optional duration field (see [`parse_duration`]).
pub fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    d.deserialize_any(DurationVisitor).map(Some)
}

/// A required duration field.
pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(DurationVisitor)
}

/// A byte count (`max_output: 1MiB`, `512k`, `1048576`), read by [`crate::value::size`].
pub fn size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(SIZE_EXPECTED)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| found(SIZE_EXPECTED, de::Unexpected::Signed(v)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            Err(found(SIZE_EXPECTED, de::Unexpected::Float(v)))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<u64, E> {
            Err(found(SIZE_EXPECTED, de::Unexpected::Bool(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            parse_size(v).ok_or_else(|| found(SIZE_EXPECTED, de::Unexpected::Str(v)))
        }
    }
    d.deserialize_any(V)
}

// ---------------------------------------------------------------------------------------
// strings

/// A scalar written where a string is expected. Numbers are accepted and kept as written
/// (`dest: 42`), since YAML users rarely quote them; lists and mappings are not.
pub fn scalar_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(ScalarString {
        what: "a string",
        allow_bool: true,
        allow_number: true,
    })
}

/// [`scalar_string`] for an optional field.
pub fn opt_scalar_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    scalar_string(d).map(Some)
}

#[derive(Clone, Copy)]
pub(crate) struct ScalarString {
    pub what: &'static str,
    pub allow_bool: bool,
    pub allow_number: bool,
}

impl<'de> DeserializeSeed<'de> for ScalarString {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScalarString {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.what)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        if self.allow_bool {
            Ok(v.to_string())
        } else {
            Err(found(self.what, de::Unexpected::Bool(v)))
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        if self.allow_number {
            Ok(v.to_string())
        } else {
            Err(found(self.what, de::Unexpected::Unsigned(v)))
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        if self.allow_number {
            Ok(v.to_string())
        } else {
            Err(found(self.what, de::Unexpected::Signed(v)))
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        if self.allow_number {
            Ok(v.to_string())
        } else {
            Err(found(self.what, de::Unexpected::Float(v)))
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Err(found(self.what, de::Unexpected::Unit))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(found(self.what, de::Unexpected::Seq))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(found(self.what, de::Unexpected::Map))
    }
}

/// `x` or `[x, y]` as a list of strings. `item` names one element in messages.
#[derive(Clone, Copy)]
pub(crate) struct StringList {
    pub what: &'static str,
    pub item: ScalarString,
    /// Split a single string on commas (Ansible's `tags: a,b`).
    pub split_commas: bool,
}

impl<'de> DeserializeSeed<'de> for StringList {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringList {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.what)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
        if self.split_commas {
            Ok(v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect())
        } else {
            Ok(vec![v.to_string()])
        }
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Vec<String>, E> {
        self.item
            .visit_bool(v)
            .map(|s| vec![s])
            .map_err(|_: E| found(self.what, de::Unexpected::Bool(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<String>, E> {
        self.item
            .visit_u64(v)
            .map(|s| vec![s])
            .map_err(|_: E| found(self.what, de::Unexpected::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<String>, E> {
        self.item
            .visit_i64(v)
            .map(|s| vec![s])
            .map_err(|_: E| found(self.what, de::Unexpected::Signed(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Vec<String>, E> {
        self.item
            .visit_f64(v)
            .map(|s| vec![s])
            .map_err(|_: E| found(self.what, de::Unexpected::Float(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut out = Vec::new();
        while let Some(s) = seq.next_element_seed(self.item)? {
            out.push(s);
        }
        Ok(out)
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Vec<String>, A::Error> {
        Err(found(self.what, de::Unexpected::Map))
    }
}

/// Plain strings (numbers kept as written): `commands`, `lines`, `parents`, `notify`.
pub(crate) const STRINGS: StringList = StringList {
    what: "a string or a list of strings",
    item: ScalarString {
        what: "a string",
        allow_bool: false,
        allow_number: true,
    },
    split_commas: false,
};

/// Conditions (`when`, `until`, `changed_when`, `failed_when`, `that`): expressions, or
/// booleans. A number is not a condition (`when: [1, 2]` is a mistake, not a test).
pub(crate) const CONDITIONS: StringList = StringList {
    what: "a condition (an expression string or true/false) or a list of them",
    item: ScalarString {
        what: "a condition (an expression string or true/false)",
        allow_bool: true,
        allow_number: false,
    },
    split_commas: false,
};

/// Tags: strings only.
pub(crate) const TAGS: StringList = StringList {
    what: "a tag or a list of tags (strings)",
    item: ScalarString {
        what: "a tag (a string)",
        allow_bool: false,
        allow_number: false,
    },
    split_commas: true,
};

pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    STRINGS.deserialize(d)
}

pub fn tags<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    TAGS.deserialize(d)
}

pub fn conditions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    CONDITIONS.deserialize(d)
}

/// One of a fixed set of words (`strategy: free`, `verify: md5`) for a unit-variant enum.
/// serde_yaml would read a list or mapping here as an attempt at a tagged enum and say
/// "expected a YAML tag starting with '!'"; this says what the words are instead.
pub fn keyword<'de, D: Deserializer<'de>, T: de::DeserializeOwned>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(KeywordVisitor(PhantomData))
}

/// [`keyword`] for an optional field.
pub fn opt_keyword<'de, D: Deserializer<'de>, T: de::DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    keyword(d).map(Some)
}

struct KeywordVisitor<T>(PhantomData<T>);

impl<T: de::DeserializeOwned> KeywordVisitor<T> {
    fn word<E: de::Error>(v: &str) -> Result<T, E> {
        use serde::de::IntoDeserializer;
        T::deserialize(v.into_deserializer()).map_err(|e: de::value::Error| E::custom(e))
    }

    /// The words, learnt by asking serde for an impossible one.
    fn wrong<E: de::Error>(u: de::Unexpected<'_>) -> E {
        let words = match Self::word::<de::value::Error>("\u{0}") {
            Err(e) => e
                .to_string()
                .split("expected")
                .nth(1)
                .map(|w| {
                    w.replace('`', "")
                        .replace(" or ", ", ")
                        .trim()
                        .trim_start_matches("one of")
                        .trim()
                        .to_string()
                })
                .unwrap_or_default(),
            Ok(_) => String::new(),
        };
        E::custom(format!("expected one of: {words}; found {}", describe(u)))
    }
}

impl<'de, T: de::DeserializeOwned> Visitor<'de> for KeywordVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("one of a fixed set of words")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Self::word(v)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        Err(Self::wrong(de::Unexpected::Bool(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Err(Self::wrong(de::Unexpected::Unsigned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Err(Self::wrong(de::Unexpected::Signed(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Err(Self::wrong(de::Unexpected::Float(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Err(Self::wrong(de::Unexpected::Unit))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<T, A::Error> {
        Err(Self::wrong(de::Unexpected::Seq))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<T, A::Error> {
        Err(Self::wrong(de::Unexpected::Map))
    }
}

// ---------------------------------------------------------------------------------------
// identifiers

const RESERVED: &[&str] = &[
    "true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if", "else",
];

/// A valid variable name: a letter or `_`, then letters, digits, `_`; not a keyword of the
/// expression language.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&s)
}

pub(crate) fn identifier_error(s: &str) -> String {
    if RESERVED.contains(&s) {
        format!("`{s}` is a reserved word and cannot be a variable name")
    } else {
        let fixed: String = s
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let fixed = if fixed.starts_with(|c: char| c.is_ascii_digit()) {
            format!("_{fixed}")
        } else {
            fixed
        };
        with_hint(
            format!(
                "`{s}` is not a valid variable name; expected letters, digits and `_`, not starting with a digit"
            ),
            Some(format!("try `{fixed}`")),
        )
    }
}

/// A variable name (for `register`, `loop_var`, `set_fact` keys ...).
pub fn identifier<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a variable name")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            if is_identifier(v) {
                Ok(v.to_string())
            } else {
                Err(E::custom(identifier_error(v)))
            }
        }
    }
    d.deserialize_str(V)
}

pub fn opt_identifier<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    identifier(d).map(Some)
}

// ---------------------------------------------------------------------------------------
// variables

/// A mapping of variable names to values (play `vars`, task `vars`, `set_fact`), read by
/// [`crate::value::yaml`]'s rules, with top-level names checked as identifiers.
pub fn vars<'de, D: Deserializer<'de>>(d: D) -> Result<Vars, D::Error> {
    VarsSeed {
        names: Some(check_identifier),
    }
    .deserialize(d)
}

fn check_identifier(s: &str) -> Result<(), String> {
    if is_identifier(s) {
        Ok(())
    } else {
        Err(identifier_error(s))
    }
}

pub(crate) use crate::value::yaml::ValueSeed;

// ---------------------------------------------------------------------------------------
// serial

/// One step of `serial`: a host count or a percentage of the play's hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialStep {
    Count(usize),
    /// 1..=100
    Percent(u8),
}

/// Rolling batches: `serial: 5`, `serial: 25%`, or `serial: [1, 5, 50%]` (the last step
/// repeats until every host has had its turn), as in Ansible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serial(pub Vec<SerialStep>);

impl Serial {
    /// Batch sizes for `hosts` hosts. Percentages are of all the play's hosts, rounded down
    /// but at least 1, as Ansible does.
    pub fn batch_sizes(&self, hosts: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut left = hosts;
        let mut i = 0;
        while left > 0 {
            let step = self.0.get(i.min(self.0.len().saturating_sub(1)));
            let size = match step {
                Some(SerialStep::Count(n)) => *n,
                Some(SerialStep::Percent(p)) => {
                    (hosts.saturating_mul(usize::from(*p)) / 100).max(1)
                }
                None => hosts,
            }
            .clamp(1, left);
            out.push(size);
            left -= size;
            i += 1;
        }
        out
    }
}

impl<'de> Deserialize<'de> for Serial {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SerialVisitor { in_list: false })
    }
}

const SERIAL_EXPECTED: &str =
    "a host count (5), a percentage (\"25%\"), or a list of them ([1, 5, \"50%\"])";

#[derive(Clone, Copy)]
struct SerialVisitor {
    in_list: bool,
}

impl SerialVisitor {
    fn step<E: de::Error>(self, s: &str) -> Result<SerialStep, E> {
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%') {
            match p.trim().parse::<f64>() {
                Ok(v) if (1.0..=100.0).contains(&v) && v.fract() == 0.0 => {
                    Ok(SerialStep::Percent(v as u8))
                }
                Ok(_) => Err(E::custom(format!(
                    "serial percentage must be a whole number from 1% to 100%, found {t}"
                ))),
                Err(_) => Err(found(SERIAL_EXPECTED, de::Unexpected::Str(s))),
            }
        } else {
            match t.parse::<u64>() {
                Ok(n) => self.count(n),
                Err(_) => Err(found(SERIAL_EXPECTED, de::Unexpected::Str(s))),
            }
        }
    }

    fn count<E: de::Error>(self, n: u64) -> Result<SerialStep, E> {
        if n == 0 {
            return Err(E::custom(with_hint(
                "serial must be at least 1 host",
                Some("leave `serial` out to run all hosts in one batch".into()),
            )));
        }
        Ok(SerialStep::Count(usize::try_from(n).unwrap_or(usize::MAX)))
    }
}

impl<'de> DeserializeSeed<'de> for SerialVisitor {
    type Value = Serial;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Serial, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SerialVisitor {
    type Value = Serial;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(SERIAL_EXPECTED)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Serial, E> {
        Ok(Serial(vec![self.count(v)?]))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Serial, E> {
        Err(found(SERIAL_EXPECTED, de::Unexpected::Signed(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Serial, E> {
        Err(found(SERIAL_EXPECTED, de::Unexpected::Float(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Serial, E> {
        Err(found(SERIAL_EXPECTED, de::Unexpected::Bool(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Serial, E> {
        Ok(Serial(vec![self.step(v)?]))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Serial, A::Error> {
        if self.in_list {
            return Err(found(SERIAL_EXPECTED, de::Unexpected::Seq));
        }
        let mut steps = Vec::new();
        while let Some(Serial(s)) = seq.next_element_seed(SerialVisitor { in_list: true })? {
            steps.extend(s);
        }
        if steps.is_empty() {
            return Err(de::Error::custom(
                "serial is an empty list; expected at least one batch size",
            ));
        }
        Ok(Serial(steps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Flags {
        #[serde(deserialize_with = "boolish")]
        b: bool,
        #[serde(default, deserialize_with = "opt_duration")]
        d: Option<Duration>,
    }

    #[test]
    fn booleans_take_the_one_rule_set() {
        for (text, want) in [
            ("b: yes", true),
            ("b: Off", false),
            ("b: y", true),
            ("b: '1'", true),
            ("b: 0", false),
            ("b: 1", true),
        ] {
            let f: Flags = serde_yaml::from_str(text).unwrap();
            assert_eq!(f.b, want, "{text}");
        }
        for text in ["b: 2", "b: sure", "b: 1.0", "b: [true]"] {
            let e = serde_yaml::from_str::<Flags>(text).unwrap_err().to_string();
            assert!(e.contains("true or false"), "{text}: {e}");
        }
    }

    #[test]
    fn durations_take_the_one_parser() {
        let f: Flags = serde_yaml::from_str("b: true\nd: 2h").unwrap();
        assert_eq!(f.d, Some(Duration::from_secs(7200)));
        let f: Flags = serde_yaml::from_str("b: true\nd: 90").unwrap();
        assert_eq!(f.d, Some(Duration::from_secs(90)));
        for text in ["d: -1", "d: 10y", "d: 1e12", "d: true"] {
            let e = serde_yaml::from_str::<Flags>(&format!("b: true\n{text}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("expected a duration"), "{text}: {e}");
        }
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("ver"));
        assert!(is_identifier("_x1"));
        assert!(!is_identifier("not valid"));
        assert!(!is_identifier("1x"));
        assert!(!is_identifier("a-b"));
        assert!(!is_identifier("true"));
        assert!(!is_identifier(""));
    }

    #[test]
    fn serial_batches_follow_ansible() {
        let s = Serial(vec![SerialStep::Count(1), SerialStep::Percent(50)]);
        assert_eq!(s.batch_sizes(10), vec![1, 5, 4]);
        assert_eq!(
            Serial(vec![SerialStep::Percent(25)]).batch_sizes(3),
            vec![1, 1, 1]
        );
        assert_eq!(
            Serial(vec![SerialStep::Count(5)]).batch_sizes(12),
            vec![5, 5, 2]
        );
        assert!(Serial(vec![SerialStep::Count(5)]).batch_sizes(0).is_empty());
    }
}

#[cfg(test)]
mod keyword_tests {
    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Color {
        Red,
        Blue,
    }

    #[derive(Debug, Deserialize)]
    struct S {
        #[serde(deserialize_with = "keyword")]
        c: Color,
    }

    #[test]
    fn keywords_name_the_choices() {
        let ok: S = serde_yaml::from_str("c: blue").unwrap();
        assert_eq!(ok.c, Color::Blue);
        let e = serde_yaml::from_str::<S>("c: [red]")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("expected one of: red, blue; found a list"),
            "{e}"
        );
        let e = serde_yaml::from_str::<S>("c: green")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown variant `green`"), "{e}");
    }
}
