//! The runner: its options, a call under the lock, and a run.

pub(crate) mod held;
pub(crate) mod options;
pub(crate) mod run;
