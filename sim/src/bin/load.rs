//! netorch-sim-load: opens N SSH sessions (password auth, PTY shell, one `show version`)
//! against devices listed in a sim inventory and holds them open, to measure the sim's memory
//! with many sessions at once. Prints `HOLDING <n> sessions` when all are up.
//!
//! Usage: netorch-sim-load INVENTORY_YAML [--hold-secs S] [--concurrency C]
fn main() {}
