//! `backup`: fetch the running configuration into the backup store (`backup: {}`).
//!
//! Every argument is optional; what is not given comes from the run (`netorch backup
//! --store ...`) or the host's variables (`backup_store`, `backup_path`).

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::map_only;
use crate::playbook::values;

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupArgs {
    /// The backup store (a git repository folder); default: the run's configured store.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub store: Option<String>,
    /// The file name inside the store, a template (`{{ site }}/{{ name }}.cfg`); default:
    /// `<host name>.cfg`.
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub path: Option<String>,
    /// Mask passwords, secrets, SNMP communities and keys (the profile's `secret_patterns`).
    #[serde(default, deserialize_with = "values::opt_boolish")]
    pub mask_secrets: Option<bool>,
    /// Refuse a config that shrank by more than this share of the last stored one: a
    /// percentage (`50`, `"50%"`); default 50.
    #[serde(default, deserialize_with = "opt_shrink")]
    pub max_shrink: Option<f64>,
    /// The command that prints the config, instead of the profile's `show_config` (e.g.
    /// `cat /etc/nftables.conf` on a Linux host).
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    pub command: Option<String>,
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BackupArgs, D::Error> {
    d.deserialize_any(map_only::visitor(
        "{} or {store, path, mask_secrets, max_shrink, command}",
        true,
        Ok,
    ))
}

/// `max_shrink` as a share (0..=1) from a percentage (0..=100, `%` optional).
fn opt_shrink<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    struct V;
    const WHAT: &str = "a percentage from 0 to 100 (`max_shrink: 50` or \"50%\")";
    impl Visitor<'_> for V {
        type Value = f64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(WHAT)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            self.visit_f64(v as f64)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            self.visit_f64(v as f64)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            if (0.0..=100.0).contains(&v) {
                Ok(v / 100.0)
            } else {
                Err(E::custom(format!(
                    "max_shrink must be between 0 and 100 (percent), found {v}"
                )))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            match v.trim().trim_end_matches('%').trim().parse::<f64>() {
                Ok(f) if f.is_finite() => self.visit_f64(f),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &WHAT)),
            }
        }
    }
    d.deserialize_any(V).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_as_number_or_percent() {
        let a: BackupArgs = serde_yaml::from_str("max_shrink: 30").unwrap();
        assert_eq!(a.max_shrink, Some(0.3));
        let a: BackupArgs = serde_yaml::from_str("max_shrink: '80%'\nmask_secrets: yes").unwrap();
        assert_eq!(a.max_shrink, Some(0.8));
        assert_eq!(a.mask_secrets, Some(true));
        let e = serde_yaml::from_str::<BackupArgs>("max_shrink: 150").unwrap_err();
        assert!(e.to_string().contains("between 0 and 100"), "{e}");
        assert!(serde_yaml::from_str::<BackupArgs>("max_shrink: lots").is_err());
    }
}
