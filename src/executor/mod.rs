//! The executor: plans (hosts x tasks) and, in time, the scheduler that runs them.

pub mod plan;

pub use plan::{Plan, PlanOptions, PlannedPlay};
