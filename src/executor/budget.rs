//! The run's output budget. `max_output` bounds what one command keeps, but a run keeps
//! every host's results until its report is written: a thousand chatty hosts at the cap
//! would still hold gigabytes. The budget bounds the sum: `forks` times the default cap.
//! While it lasts, output is kept whole (up to its own cap); once it is spent, each
//! further output keeps only its head and tail, with a marker saying why. The peak of a
//! run then depends on forks and the cap (what is being read, plus what is kept), never on
//! how many hosts there are or what they send.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::report::TaskResult;
use crate::transport::capture::{size_text, DEFAULT_MAX_OUTPUT};

/// What an output keeps once the budget is spent: enough for a prompt, an error and the
/// end of a listing.
pub const SPENT_KEEP: usize = 64 << 10;

/// The smallest budget, whatever `forks` is.
const MIN_BUDGET: u64 = 256 << 20;

#[derive(Debug)]
pub struct OutputBudget {
    left: AtomicU64,
    total: u64,
}

impl OutputBudget {
    /// The budget of a run with `forks` hosts at once.
    pub fn for_forks(forks: usize) -> OutputBudget {
        let forks = u64::try_from(forks.max(1)).unwrap_or(u64::MAX);
        OutputBudget::new(forks.saturating_mul(DEFAULT_MAX_OUTPUT).max(MIN_BUDGET))
    }

    pub fn new(total: u64) -> OutputBudget {
        OutputBudget {
            left: AtomicU64::new(total),
            total,
        }
    }

    /// Charge a result's outputs (its loop items' too) to the budget, cutting those that
    /// no longer fit.
    pub fn charge(&self, r: &mut TaskResult) {
        for c in &mut r.commands {
            self.charge_text(&mut c.output);
        }
        for item in &mut r.items {
            self.charge(item);
        }
    }

    fn charge_text(&self, text: &mut String) {
        let want = u64::try_from(text.len()).unwrap_or(u64::MAX);
        let taken = self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(want)
            });
        if taken.is_ok() {
            return;
        }
        cut_middle(text, SPENT_KEEP, self.total);
        let kept = u64::try_from(text.len()).unwrap_or(u64::MAX);
        let _ = self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                Some(left.saturating_sub(kept))
            });
    }
}

/// Keep the first and last `keep / 2` bytes of `text` (at character boundaries) with a
/// marker between them.
fn cut_middle(text: &mut String, keep: usize, budget: u64) {
    if text.len() <= keep {
        return;
    }
    let mut head = keep / 2;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - keep / 2;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    let dropped = tail - head;
    let mut out = String::with_capacity(keep + 160);
    out.push_str(&text[..head]);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "[netorch: {dropped} bytes of output dropped here; the run already keeps {} of output \
         (forks x the default max_output)]\n",
        size_text(budget)
    ));
    out.push_str(&text[tail..]);
    *text = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CommandOutput;

    fn result(outputs: &[&str]) -> TaskResult {
        let mut r = TaskResult::ok();
        for o in outputs {
            r.commands.push(CommandOutput {
                command: "show".into(),
                output: (*o).to_string(),
                exit_status: None,
                error: None,
                parsed: None,
            });
        }
        r
    }

    #[test]
    fn outputs_are_whole_until_the_budget_is_spent_then_cut() {
        let b = OutputBudget::new(200 << 10);
        let big = "x".repeat(150 << 10);
        let mut first = result(&[&big]);
        b.charge(&mut first);
        assert_eq!(first.commands[0].output, big, "fits: kept whole");
        let mut second = result(&[&big]);
        b.charge(&mut second);
        let text = &second.commands[0].output;
        assert!(text.len() < SPENT_KEEP + 200, "{}", text.len());
        assert!(text.contains("bytes of output dropped here"), "{text:.100}");
        // What is small still fits where it can.
        let mut small = result(&["ok"]);
        b.charge(&mut small);
        assert_eq!(small.commands[0].output, "ok");
    }

    #[test]
    fn cuts_fall_on_character_boundaries_and_keep_both_ends() {
        let b = OutputBudget::new(0);
        let text = format!("HEAD{}TAIL", "é".repeat(100 << 10));
        let mut r = result(&[&text]);
        b.charge(&mut r);
        let out = &r.commands[0].output;
        assert!(out.starts_with("HEAD") && out.ends_with("TAIL"));
    }

    #[test]
    fn loop_items_are_charged_too() {
        let b = OutputBudget::new(0);
        let mut r = TaskResult::ok();
        r.items.push(result(&[&"y".repeat(1 << 20)]));
        b.charge(&mut r);
        assert!(r.items[0].commands[0].output.len() < SPENT_KEEP + 200);
    }
}
