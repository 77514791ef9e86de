//! YAML read straight into JSON values (`serde_json::Value`), the form every variable has
//! at run time. One set of rules for play vars, task vars, inventory vars, `host_vars/`,
//! `group_vars/` and `-e` files:
//!
//! - merge keys (`<<: *defaults`, `<<: [*a, *b]`) are applied: the mapping's own keys win,
//!   then the merged mappings in order;
//! - a key written twice in one mapping is an error naming it (serde_json's map would keep
//!   the last one silently, hiding a mistake); the error is raised inside the key's own
//!   visit, so serde_yaml reports the key's line and column;
//! - keys that are numbers or booleans (`10:` for VLAN 10) become text;
//! - tags (`!unsafe`, custom ones) are dropped, the tagged value kept; a `!vault` value is
//!   decrypted with the installed vault passwords, or kept as a marker that fails when used
//!   (see [`crate::vault`]);
//! - `.nan` and `.inf`, which JSON cannot hold, are kept as the text YAML spells them.
//!
//! There is no intermediate YAML tree: inventories hold thousands of small host mappings.

use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::Vars;

/// YAML's merge key.
pub const MERGE_KEY: &str = "<<";

/// A check on the variable names at the top of a vars mapping (play vars must be
/// identifiers; inventory vars may be anything). `Err` holds the message.
pub type NameCheck = fn(&str) -> Result<(), String>;

/// Any YAML value, read as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlAsJson(pub Value);

impl<'de> Deserialize<'de> for YamlAsJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ValueSeed.deserialize(d).map(YamlAsJson)
    }
}

/// A mapping of variables read as JSON; nothing (an empty file, `vars:`) is no variables.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct VarsFromYaml(pub Vars);

impl<'de> Deserialize<'de> for VarsFromYaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        VarsSeed { names: None }.deserialize(d).map(VarsFromYaml)
    }
}

/// [`YamlAsJson`] as a seed, for callers that drive a `SeqAccess` or `MapAccess` themselves.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(Reader { vars: None })
    }
}

/// [`VarsFromYaml`] with a check on the top-level names.
#[derive(Clone, Copy)]
pub struct VarsSeed {
    pub names: Option<NameCheck>,
}

impl<'de> DeserializeSeed<'de> for VarsSeed {
    type Value = Vars;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match d.deserialize_any(Reader { vars: Some(self) })? {
            Value::Object(m) => Ok(m),
            // Only a mapping or nothing gets past the reader at the top.
            _ => Ok(Vars::new()),
        }
    }
}

/// `vars`: reading the top of a vars mapping (anything else is refused there).
#[derive(Clone, Copy)]
struct Reader {
    vars: Option<VarsSeed>,
}

const VARS_EXPECTED: &str = "a mapping of variable names to values";

impl Reader {
    fn scalar<E: de::Error>(&self, v: Value) -> Result<Value, E> {
        if self.vars.is_some() && !v.is_null() {
            let unexpected = match &v {
                Value::Bool(b) => de::Unexpected::Bool(*b),
                Value::String(s) => de::Unexpected::Str(s),
                _ => de::Unexpected::Other("a number"),
            };
            return Err(de::Error::invalid_type(unexpected, self));
        }
        Ok(v)
    }
}

impl<'de> DeserializeSeed<'de> for Reader {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Reader {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(if self.vars.is_some() {
            VARS_EXPECTED
        } else {
            "a YAML value"
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.scalar(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.scalar(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.scalar(Value::from(v))
    }

    /// Integers beyond 64 bits (YAML reads them; JSON numbers here cannot hold them) are
    /// kept as the digits.
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        self.scalar(Value::String(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        self.scalar(Value::String(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        let n = serde_json::Number::from_f64(v)
            .map_or_else(|| Value::from(v.to_string()), Value::Number);
        self.scalar(n)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.scalar(Value::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.scalar(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.vars.is_some() {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element_seed(ValueSeed)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let names = self.vars.and_then(|v| v.names);
        let mut out = Vars::new();
        let mut merges: Vec<Value> = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed { seen: &out, names })? {
            let value = map.next_value_seed(ValueSeed)?;
            if key == MERGE_KEY {
                merges.push(value);
            } else {
                out.insert(key, value);
            }
        }
        for m in merges {
            let maps = match m {
                Value::Array(list) => list,
                other => vec![other],
            };
            for m in maps {
                let Value::Object(m) = m else {
                    return Err(de::Error::custom(
                        "`<<` (merge key) must be a mapping or a list of mappings",
                    ));
                };
                for (k, v) in m {
                    if let Some(check) = names {
                        check(&k).map_err(de::Error::custom)?;
                    }
                    out.entry(k).or_insert(v);
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        use de::VariantAccess;
        let (tag, variant): (String, _) = data.variant()?;
        if tag == "vault" {
            let inner = variant.newtype_variant_seed(ValueSeed)?;
            let Value::String(text) = inner else {
                return Err(de::Error::custom(
                    "a !vault value must be the text ansible-vault encrypt_string printed",
                ));
            };
            return crate::vault::inline(&text).map_err(de::Error::custom);
        }
        variant.newtype_variant_seed(self)
    }
}

/// A mapping key as text, checked against the keys already read. The checks run inside the
/// visit so that serde_yaml reports them at the key itself.
#[derive(Clone, Copy)]
struct KeySeed<'a> {
    seen: &'a Vars,
    names: Option<NameCheck>,
}

impl KeySeed<'_> {
    fn check<E: de::Error>(self, key: String) -> Result<String, E> {
        if key == MERGE_KEY {
            return Ok(key);
        }
        if let Some(check) = self.names {
            check(&key).map_err(E::custom)?;
        }
        if self.seen.contains_key(&key) {
            return Err(E::custom(format!("duplicate key `{key}`")));
        }
        Ok(key)
    }
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a variable name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.check(v.to_string())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        self.check(v)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        self.check(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        self.check(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        self.check(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        self.check(v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        self.check("null".to_string())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<String, A::Error> {
        use de::VariantAccess;
        let (_tag, variant): (String, _) = data.variant()?;
        variant.newtype_variant_seed(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(text: &str) -> Result<Vars, String> {
        serde_yaml::from_str::<VarsFromYaml>(text)
            .map(|v| v.0)
            .map_err(|e| e.to_string())
    }

    fn identifiers(s: &str) -> Result<(), String> {
        if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            Ok(())
        } else {
            Err(format!("`{s}` is not a valid variable name"))
        }
    }

    #[test]
    fn number_keys_become_text() {
        let v = vars("vlans:\n  10: {name: users}\n  20: {name: voice}\n").unwrap();
        assert_eq!(v["vlans"]["10"]["name"], "users");
        assert_eq!(v["vlans"]["20"]["name"], "voice");
    }

    #[test]
    fn merge_keys_are_applied() {
        let v = vars("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\ny:\n  <<: [*b, {c: 4, a: 9}]\n")
            .unwrap();
        assert_eq!(v["x"], json!({"b": 3, "a": 1}));
        assert_eq!(v["y"], json!({"a": 1, "b": 2, "c": 4}));
        let e = vars("x:\n  <<: 3\n").unwrap_err();
        assert!(e.contains("merge key"), "{e}");
    }

    #[test]
    fn duplicate_keys_are_errors_at_their_line() {
        let e = vars("a: 1\nb:\n  c: 1\n  c: 2\n").unwrap_err();
        assert!(e.contains("duplicate key `c`"), "{e}");
        assert!(e.contains("line 4"), "{e}");
        let e = vars("a: 1\na: 2\n").unwrap_err();
        assert!(
            e.contains("duplicate key `a`") && e.contains("line 2"),
            "{e}"
        );
        // `10` and "10" are the same variable once keys are text.
        assert!(vars("m: {10: a, '10': b}\n").is_err());
        // A key set beside a merge overrides it; that is no duplicate.
        assert!(vars("b: &b {a: 1}\nx: {<<: *b, a: 2}\n").is_ok());
    }

    /// Plain scalars resolve as PyYAML (so Ansible) resolves them: YAML 1.1, through the
    /// patched serde_yaml in vendor/. Quoted scalars stay text.
    #[test]
    fn plain_scalars_resolve_by_yaml_1_1() {
        let v = vars(
            "a: yes\nb: Off\nc: 0755\nd: 1_000\ne: 12:30\nf: 1.5e3\ng: 1.5e+3\nh: 0o17\n\
             i: 0x1F\nj: 'yes'\nk: y\nl: 08\nm: 1.\nn: -0b11\no: 190:20:30.15\n\
             p: 123456789012345678901234567890\nq: 1e3\n",
        )
        .unwrap();
        let want = json!({"a": true, "b": false, "c": 493, "d": 1000, "e": 750, "f": "1.5e3",
            "g": 1500.0, "h": "0o17", "i": 31, "j": "yes", "k": "y", "l": "08", "m": 1.0,
            "n": -3, "o": 685230.15, "p": "123456789012345678901234567890", "q": "1e3"});
        for (k, w) in want.as_object().unwrap() {
            assert_eq!(&v[k], w, "{k}");
        }
    }

    #[test]
    fn yaml_values_become_json() {
        let v = vars(
            "a: [1, 2.5, true, null, text]\nb: .nan\nc: !unsafe '{{ x }}'\nd: {true: yes, 1.5: x}\n",
        )
        .unwrap();
        assert_eq!(v["a"], json!([1, 2.5, true, null, "text"]));
        assert_eq!(v["b"], "NaN");
        assert_eq!(v["c"], "{{ x }}");
        assert_eq!(v["d"], json!({"true": true, "1.5": "x"}));
        let e = vars("a: {[1]: x}\n").unwrap_err();
        assert!(e.contains("a variable name"), "{e}");
        // A vaulted value no password opens is kept as Ansible's JSON form of it; a
        // corrupt one is an error at its line.
        let text = crate::vault::encrypt(b"pw", b"k", &[1; 32], None);
        let yaml = format!("pw: !vault |\n  {}\n", text.trim().replace('\n', "\n  "));
        let v = vars(&yaml).unwrap();
        assert!(crate::vault::find_marker(&v["pw"]).is_some(), "{v:?}");
        let e = vars("a: 1\npw: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3131\n").unwrap_err();
        assert!(e.contains("!vault value") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn the_top_is_a_mapping_or_nothing() {
        assert!(vars("~\n").unwrap().is_empty());
        for text in ["- a\n- b\n", "text\n", "3\n", "true\n"] {
            let e = vars(text).unwrap_err();
            assert!(e.contains(VARS_EXPECTED), "{text}: {e}");
        }
        let YamlAsJson(v) = serde_yaml::from_str("- a\n- {b: 1}\n").unwrap();
        assert_eq!(v, json!(["a", {"b": 1}]));
    }

    #[test]
    fn names_are_checked_at_the_top_only_and_in_merges() {
        let seed = |text: &str| {
            VarsSeed {
                names: Some(identifiers),
            }
            .deserialize(serde_yaml::Deserializer::from_str(text))
            .map_err(|e| e.to_string())
        };
        assert!(seed("ok_name: {not-checked: 1}\n").is_ok());
        let e = seed("bad-name: 1\n").unwrap_err();
        assert!(e.contains("`bad-name` is not a valid variable name"), "{e}");
        let e = seed("<<: {bad-name: 1}\n").unwrap_err();
        assert!(e.contains("`bad-name`"), "{e}");
    }
}
