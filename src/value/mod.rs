//! Values that users type, read by one set of rules wherever they are typed: in a playbook,
//! an inventory, a host variable, a schedule or on the command line.
//!
//! - [`duration`]: `30`, `2.5`, `"500ms"`, `"10s"`, `"5m"`, `"2h"`.
//! - [`boolean`]: `true`/`false` and the spellings Ansible users write (`yes`, `on`, `1` ...).
//! - [`size`]: byte counts such as `500K`, `10M` or `1MiB` (powers of 1024).
//! - [`kind`]: how a value's type is named in messages (`a list`, `string "x"`).
//! - [`pyliteral`]: Python literals as `ast.literal_eval` reads them (INI inventory values).
//! - [`yaml`]: YAML read straight into JSON values: merge keys applied, duplicate keys
//!   refused, number keys made text, tags dropped (`!vault` decrypted or kept for later).
//!
//! [`Vars`], the map of variables by name, lives here too: it is what these values make.
//!
//! Nothing here knows about playbooks, inventories or hosts: callers add the names and the
//! positions their errors need.

pub mod boolean;
pub mod duration;
pub mod kind;
pub mod pyliteral;
pub mod size;
pub mod yaml;

pub use boolean::{bool_of, parse_bool};
pub use duration::{duration_of, parse_duration};
pub use kind::{describe, kind_of, show};
pub use size::{parse_size, size_of, SIZE_EXPECTED};
pub use yaml::{VarsFromYaml, YamlAsJson};

/// Variables by name, as every loader produces them and every task sees them; insertion
/// order is kept for stable output.
pub type Vars = serde_json::Map<String, serde_json::Value>;
