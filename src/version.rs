//! What this binary is: version, git commit, build date (stamped by build.rs), for
//! `netorch --version`, the JSON reports and the daemon's status.

use serde::Serialize;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The 12-digit commit the binary was built from, or `unknown` outside a git checkout.
pub const COMMIT: &str = env!("NETORCH_GIT_COMMIT");
/// `YYYY-MM-DD` (UTC; SOURCE_DATE_EPOCH when set).
pub const BUILD_DATE: &str = env!("NETORCH_BUILD_DATE");
pub const TARGET: &str = env!("NETORCH_TARGET");

/// The build, as `--version --json` prints it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Build {
    pub name: &'static str,
    pub version: &'static str,
    pub commit: &'static str,
    pub build_date: &'static str,
    pub target: &'static str,
}

pub const BUILD: Build = Build {
    name: "netorch",
    version: VERSION,
    commit: COMMIT,
    build_date: BUILD_DATE,
    target: TARGET,
};

/// `0.1.0 (commit 0123456789ab, built 2026-12-03)`: what `--version` prints after the name.
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("NETORCH_GIT_COMMIT"),
    ", built ",
    env!("NETORCH_BUILD_DATE"),
    ")"
);

/// `netorch 0.1.0 (commit 0123456789ab, built 2026-12-03)`.
pub fn line() -> String {
    format!("netorch {LONG}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_is_filled_in() {
        assert!(!COMMIT.is_empty());
        assert_eq!(BUILD_DATE.len(), 10, "{BUILD_DATE}");
        assert!(line().starts_with(&format!("netorch {VERSION} (commit ")));
    }
}
