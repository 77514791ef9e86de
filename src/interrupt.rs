//! The process-wide Ctrl-C flag that actions which only wait (`wait_for`) check while they
//! sleep, so an interrupt ends a long pause at once instead of after it. The executor keeps
//! its own cancel flag for starting no new work; this one is set beside it by `netorch run`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a wait sleeps between two looks at the flag: short enough that Ctrl-C feels
/// immediate, long enough to cost nothing.
const POLL_MS: u64 = 50;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Record that the user asked to stop.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Sleep for `d` unless interrupted first; `false` when interrupted.
pub fn sleep(d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if requested() {
            return false;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(POLL_MS)));
    }
}
