//! `block` / `rescue` / `always` on one host: which tasks of a block a host runs, and
//! where its failures go. The loader gave each task the blocks around it (outermost
//! first); the executor asks [`runs`] before a task, tells [`on_failure`] about a failure
//! and [`close`]s each block when the task list leaves it.
//!
//! Ansible's rules: a failure in a block sends the host to the block's `rescue` (and
//! counts as `rescued`, not `failed`); `always` runs either way; a failure left unrescued
//! when a block ends goes to the enclosing block, or fails the host. A failure in a rescue
//! or in an always section goes to the enclosing block at once.

use std::collections::HashSet;

use crate::playbook::block::{BlockFrame, Section};

/// One host's blocks in flight.
#[derive(Debug, Default)]
pub struct BlockState {
    /// Blocks whose `block` section failed on this host.
    failed: HashSet<usize>,
    /// Blocks whose `rescue` section failed too.
    rescue_failed: HashSet<usize>,
}

impl BlockState {
    /// Whether a task inside `frames` runs on this host.
    pub fn runs(&self, frames: &[BlockFrame]) -> bool {
        frames.iter().all(|f| match f.section {
            Section::Block => !self.failed.contains(&f.id),
            Section::Rescue => self.failed.contains(&f.id) && !self.rescue_failed.contains(&f.id),
            Section::Always => true,
        })
    }

    /// A task inside `frames` failed: true when a block takes the failure (the host goes
    /// on), false when the host fails.
    pub fn on_failure(&mut self, frames: &[BlockFrame]) -> bool {
        for f in frames.iter().rev() {
            match f.section {
                Section::Block => {
                    self.failed.insert(f.id);
                    return true;
                }
                Section::Rescue => {
                    self.rescue_failed.insert(f.id);
                    return true;
                }
                Section::Always => {}
            }
        }
        false
    }

    /// The block of `frames`' last frame ends: a failure it did not rescue goes to the
    /// enclosing frames. False when that fails the host.
    pub fn close(&mut self, frames: &[BlockFrame]) -> bool {
        let Some((last, outer)) = frames.split_last() else {
            return true;
        };
        let failed = self.failed.remove(&last.id);
        let rescue_failed = self.rescue_failed.remove(&last.id);
        if failed && (!last.has_rescue || rescue_failed) {
            return self.on_failure(outer);
        }
        true
    }
}

/// Whether a failure inside `frames` counts as rescued (Ansible counts it so as soon as
/// some enclosing block has a rescue that will take it).
pub fn rescued(frames: &[BlockFrame]) -> bool {
    frames
        .iter()
        .any(|f| f.section == Section::Block && f.has_rescue)
}

/// The frames of `before` that `after` is not in, innermost first, each with its
/// enclosing frames: the blocks that end between two consecutive tasks.
pub fn ending<'a>(before: &'a [BlockFrame], after: &[BlockFrame]) -> Vec<&'a [BlockFrame]> {
    let common = before
        .iter()
        .zip(after)
        .take_while(|(a, b)| a.id == b.id)
        .count();
    // The same block with a different section (block -> rescue) has not ended.
    (common..before.len())
        .rev()
        .map(|i| &before[..=i])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: usize, section: Section, has_rescue: bool) -> BlockFrame {
        BlockFrame {
            id,
            section,
            has_rescue,
        }
    }

    #[test]
    fn failure_goes_to_rescue_then_always() {
        let mut s = BlockState::default();
        let block = [f(0, Section::Block, true)];
        let rescue = [f(0, Section::Rescue, true)];
        let always = [f(0, Section::Always, true)];
        assert!(s.runs(&block) && !s.runs(&rescue) && s.runs(&always));
        assert!(s.on_failure(&block));
        assert!(!s.runs(&block) && s.runs(&rescue) && s.runs(&always));
        assert!(s.close(&always));
        // A failing rescue fails the host when the block ends.
        assert!(s.on_failure(&block) && s.on_failure(&rescue));
        assert!(!s.runs(&rescue));
        assert!(!s.close(&always));
    }

    #[test]
    fn unrescued_inner_failure_reaches_outer_rescue() {
        let mut s = BlockState::default();
        let inner = [f(0, Section::Block, true), f(1, Section::Block, false)];
        let inner_always = [f(0, Section::Block, true), f(1, Section::Always, false)];
        let outer_rescue = [f(0, Section::Rescue, true)];
        assert!(rescued(&inner));
        assert!(s.on_failure(&inner));
        assert!(s.runs(&inner_always) && !s.runs(&outer_rescue));
        assert!(s.close(&inner_always));
        assert!(s.runs(&outer_rescue));
        assert_eq!(ending(&inner_always, &outer_rescue).len(), 1);
        assert_eq!(ending(&inner, &inner_always).len(), 0);
    }
}
