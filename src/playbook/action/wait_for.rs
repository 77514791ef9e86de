//! `wait_for`: wait until a TCP port is open (or closed), or simply wait some seconds.

use std::time::Duration;

use serde::de::Deserializer;
use serde::Deserialize;

use super::map_only;
use crate::playbook::values;

#[derive(Debug, Clone, PartialEq)]
pub enum WaitForArgs {
    /// Poll `host:port` until it is in `state`, for at most `timeout`, after `delay`.
    Port {
        port: u16,
        /// Default: the task's host address.
        host: Option<String>,
        state: PortState,
        timeout: Option<Duration>,
        delay: Option<Duration>,
    },
    /// `{seconds: N}`: just wait.
    Sleep(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortState {
    #[default]
    Started,
    Stopped,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(default, deserialize_with = "values::opt_count")]
    port: Option<u16>,
    #[serde(default, deserialize_with = "values::opt_scalar_string")]
    host: Option<String>,
    #[serde(default, deserialize_with = "values::opt_keyword")]
    state: Option<PortState>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    timeout: Option<Duration>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    delay: Option<Duration>,
    #[serde(default, deserialize_with = "values::opt_duration")]
    seconds: Option<Duration>,
}

fn check(s: Spec) -> Result<WaitForArgs, String> {
    match (s.port, s.seconds) {
        (Some(port), None) => Ok(WaitForArgs::Port {
            port,
            host: s.host,
            state: s.state.unwrap_or_default(),
            timeout: s.timeout,
            delay: s.delay,
        }),
        (None, Some(secs)) => {
            if s.host.is_some() || s.state.is_some() || s.timeout.is_some() || s.delay.is_some() {
                Err("wait_for with `seconds` takes no other option".into())
            } else {
                Ok(WaitForArgs::Sleep(secs))
            }
        }
        (Some(_), Some(_)) => Err("wait_for takes `port` or `seconds`, not both".into()),
        (None, None) => {
            Err("wait_for needs `port` (with host, state, timeout, delay) or `seconds`".into())
        }
    }
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<WaitForArgs, D::Error> {
    d.deserialize_any(map_only::visitor(
        "{port, host, state: started|stopped, timeout, delay} or {seconds: N}",
        false,
        check,
    ))
}
