//! `upload` and `download` as entries of the action table: the protocol is chosen from the
//! task and the host, the host's SSH connection is opened only for the protocols that ride
//! on it, and the copy itself is [`super::transfer`]'s.

use serde::de::Deserializer;

use super::transfer::{self, TransferEnv};
use super::{ActionArgs, Env};
pub use crate::playbook::action::{Download, TransferArgs, Upload};
use crate::report::TaskResult;

impl ActionArgs for Upload {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::playbook::action::transfer::deserialize(d, "upload").map(Upload)
    }

    fn summary(&self) -> String {
        format!("{} -> {}", self.src, self.dest)
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        copy(&self.0, true, env)
    }
}

impl ActionArgs for Download {
    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::playbook::action::transfer::deserialize(d, "download").map(Download)
    }

    fn summary(&self) -> String {
        format!("{} -> {}", self.src, self.dest)
    }

    fn run(&self, env: &mut Env<'_>) -> TaskResult {
        copy(&self.0, false, env)
    }
}

fn copy(args: &TransferArgs, is_upload: bool, env: &mut Env<'_>) -> TaskResult {
    let protocol = transfer::protocol_for(args, env.ctx.vars, env.profiles);
    let files = TransferEnv {
        resolve_src: env.resolve_src,
        progress: Some(env.progress),
    };
    let conn = if transfer::needs_ssh(protocol) {
        match env.connector.connection() {
            Ok(c) => Some(c),
            Err(r) => return r,
        }
    } else {
        None
    };
    transfer::run(
        conn,
        &env.ctx,
        args,
        protocol,
        is_upload,
        env.task_timeout,
        &files,
    )
}
