//! Host workers, the same for both strategies: each runs a host's blocking work on tokio's
//! blocking pool while holding one of the play's `forks` permits, under the host's deadline
//! (`host_timeout`). A worker that outlives its deadline is abandoned: its session is cut
//! from outside through the host's [`AbortSlot`] so the blocked thread comes back soon, and
//! its slot is freed at once. Whatever happens to a worker (done, panicked, abandoned,
//! cancelled), its host comes back with an outcome, so no host is ever missing from the
//! report.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OwnedSemaphorePermit;
use tokio::task::{Id, JoinSet};
use tokio::time::Instant;

use crate::transport::ssh::AbortHandle;

/// Where a host's session leaves the handle that cuts it from outside. Shared between the
/// host's state (filled when the connection opens, inside the worker) and the async side
/// (which uses it when the deadline passes).
pub type AbortSlot = Arc<Mutex<Option<AbortHandle>>>;

/// Cut the session whose handle is in `slot`, if any.
pub fn abort(slot: &AbortSlot) {
    let guard = match slot.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(a) = guard.as_ref() {
        a.abort();
    }
}

/// How a worker ended.
pub enum Outcome<T> {
    Done(T),
    /// The work panicked or was cancelled; the text says which.
    Lost(String),
    /// The host's deadline passed first.
    TimedOut,
}

/// The workers of one task (linear strategy) or one batch (free strategy).
pub struct Workers<T> {
    set: JoinSet<Outcome<T>>,
    hosts: HashMap<Id, String>,
}

impl<T: Send + 'static> Workers<T> {
    pub fn new() -> Self {
        Workers {
            set: JoinSet::new(),
            hosts: HashMap::new(),
        }
    }

    /// Run `work` for `host` on the blocking pool, holding `permit` until it ends or is
    /// abandoned at `deadline`.
    pub fn spawn(
        &mut self,
        host: &str,
        permit: OwnedSemaphorePermit,
        deadline: Option<Instant>,
        abort_slot: AbortSlot,
        work: impl FnOnce() -> T + Send + 'static,
    ) {
        let handle = self.set.spawn(async move {
            let worker = tokio::task::spawn_blocking(work);
            let joined = match deadline {
                Some(d) => tokio::time::timeout_at(d, worker).await,
                None => Ok(worker.await),
            };
            let outcome = match joined {
                Ok(Ok(v)) => Outcome::Done(v),
                Ok(Err(e)) => Outcome::Lost(e.to_string()),
                Err(_) => {
                    // Unblock the abandoned worker now rather than at ssh2's own timeout.
                    abort(&abort_slot);
                    Outcome::TimedOut
                }
            };
            drop(permit);
            outcome
        });
        self.hosts.insert(handle.id(), host.to_string());
    }

    /// A finished worker, if one is ready (results are taken as they come, to keep the
    /// output live).
    pub fn try_next(&mut self) -> Option<(String, Outcome<T>)> {
        let done = self.set.try_join_next_with_id()?;
        Some(self.named(done))
    }

    /// The next worker to finish; `None` when all have.
    pub async fn next(&mut self) -> Option<(String, Outcome<T>)> {
        let done = self.set.join_next_with_id().await?;
        Some(self.named(done))
    }

    fn named(
        &mut self,
        done: Result<(Id, Outcome<T>), tokio::task::JoinError>,
    ) -> (String, Outcome<T>) {
        match done {
            Ok((id, outcome)) => (self.hosts.remove(&id).unwrap_or_default(), outcome),
            Err(e) => (
                self.hosts.remove(&e.id()).unwrap_or_default(),
                Outcome::Lost(e.to_string()),
            ),
        }
    }
}

/// Per-host time budgets of a batch (`host_timeout`). A host's budget is spent only while
/// its own tasks run, so waiting for slower hosts under the linear strategy or for a free
/// fork does not count against it.
pub struct Deadlines {
    budget: Option<Duration>,
    spent: HashMap<String, Duration>,
}

impl Deadlines {
    pub fn new(budget: Option<Duration>) -> Self {
        Deadlines {
            budget,
            spent: HashMap::new(),
        }
    }

    /// When the host's work starting now must end.
    pub fn start(&mut self, host: &str) -> Option<Instant> {
        let budget = self.budget?;
        let spent = self.spent.get(host).copied().unwrap_or_default();
        Some(Instant::now() + budget.saturating_sub(spent))
    }

    pub fn spend(&mut self, host: &str, d: Duration) {
        if self.budget.is_some() {
            *self.spent.entry(host.to_string()).or_default() += d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::Semaphore;

    #[tokio::test]
    async fn every_host_comes_back_whatever_its_worker_did() {
        let sem = Arc::new(Semaphore::new(3));
        let mut w: Workers<u32> = Workers::new();
        let slot = AbortSlot::default();
        let p = || Arc::clone(&sem).try_acquire_owned().unwrap();
        w.spawn("ok", p(), None, slot.clone(), || 7);
        w.spawn("panics", p(), None, slot.clone(), || panic!("boom"));
        let soon = Some(Instant::now() + Duration::from_millis(50));
        w.spawn("slow", p(), soon, slot, || {
            std::thread::sleep(Duration::from_millis(400));
            1
        });
        let mut seen = Vec::new();
        while let Some((host, outcome)) = w.next().await {
            let what = match outcome {
                Outcome::Done(v) => format!("done {v}"),
                Outcome::Lost(e) => format!("lost {}", e.contains("panic")),
                Outcome::TimedOut => "timed out".to_string(),
            };
            seen.push(format!("{host}: {what}"));
        }
        seen.sort();
        assert_eq!(seen, ["ok: done 7", "panics: lost true", "slow: timed out"]);
        // Every permit is back although one worker is still sleeping.
        assert_eq!(sem.available_permits(), 3);
    }
}
