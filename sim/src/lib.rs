//! netorch-sim: one process serving many simulated network devices over SSH, for netorch's
//! tests, demo and benchmarks.
//!
//! Layout:
//! - `api`: eAPI, NX-API and RESTCONF over HTTPS (`--api`), on the devices' command engine.
//! - `app`: the command line (a contract other tests rely on) and the startup sequence.
//! - `lab`: which devices to start, and the inventory / known_hosts files describing them.
//! - `server`: SSH (russh) listeners, auth, channels, latency and fault injection.
//! - `shell`: one CLI session as a byte-level state machine (echo, pager, prompts, matcher).
//! - `ios` (IOS, EOS, NX-OS, IOS-XR) and `junos`: the vendor command sets.
//! - `device`: per-device state that outlives sessions (running/startup config, history), and
//!   the revert timers of confirmed commits (Junos / IOS-XR `commit confirmed`, EOS `commit
//!   timer`, IOS `configure terminal revert timer`), scaled by `--timer-scale-ms`.
//! - `flash`, `scp` and `sftp`: each device's in-memory flash: filesystem, SCP and SFTP
//!   uploads and downloads into it, and the CLI commands that read it (dir, checksums, delete).
//! - `telnet`: the telnet side (`--telnet`): negotiation, login dialogue, console faults.
//! - `netbox`: a NetBox 4.x REST API fake (`--netbox`) for the NetBox inventory source.
//! - `client`: a small russh client for the sim's tests and the load tool.
//! - `content`: default configs and show outputs; `tree`: the config tree; `clock`: dates.

pub mod api;
pub mod app;
pub mod client;
pub mod clock;
pub mod content;
pub mod device;
pub mod flash;
pub mod ios;
pub mod json;
pub mod junos;
pub mod lab;
pub mod netbox;
pub mod netconf;
pub mod platform;
pub mod scp;
pub mod server;
pub mod sftp;
pub mod shell;
pub mod telnet;
pub mod tree;

#[cfg(test)]
mod cli_tests;
#[cfg(test)]
mod show_tests;
