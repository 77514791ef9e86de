//! netorch's one integration-test binary. Themed modules; real servers (sshd, an FTP server,
//! netorch-sim) are started by the tests on loopback from temp dirs and stopped by them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

mod ansible_inventory;
mod ansible_network;
mod ansible_network_corpus;
mod ansible_playbooks;
mod ansible_templates;
mod api;
mod backup;
mod backup_push;
mod banner;
mod broken;
mod cli;
mod config_state;
mod corpus;
mod daemon;
mod device;
mod faults;
mod inventory;
mod malformed;
mod netbox;
mod netconf;
mod notify;
mod parse_conformance;
mod parsing;
mod playbook;
mod run;
mod seal;
mod shard;
mod ssh;
mod telnet;
mod transfer;
mod vault;
