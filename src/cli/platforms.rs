//! Platform checks shared by `check` and `run`: every planned host's platform must be one
//! netorch knows (built in, or from a `platforms/` folder).

use crate::executor::Plan;
use crate::inventory::Inventory;
use crate::source::LoadError;

/// Hosts of the plan whose platform is unknown, as load errors pointing at the play.
pub fn unknown_platforms(_plan: &Plan<'_>, _inventory: &Inventory) -> Vec<LoadError> {
    Vec::new()
}
