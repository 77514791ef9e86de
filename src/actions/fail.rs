//! `fail: { msg }`: fail the host on purpose (usually under `when:`).

use super::ActionCtx;
use crate::report::TaskResult;

pub fn run(ctx: &ActionCtx<'_>, msg: Option<&str>) -> TaskResult {
    let msg = msg.unwrap_or("Failed as requested from task");
    match ctx.render(msg, "fail msg") {
        Ok(m) => TaskResult::failed(m),
        Err(e) => TaskResult::failed(format!("{msg} (message could not be rendered: {e})")),
    }
}
