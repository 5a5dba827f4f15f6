//! Fleets: many targets (schemas of a database, databases) migrated as one,
//! any number at once, each with the single target's calls. Above the
//! operations: a target's call is theirs, made on a session made ready for
//! it; the rollout is written once, and each driver brings its workers,
//! threads for the blocking one, tasks for the async one.

pub(crate) mod engine;
pub(crate) mod options;
#[cfg(feature = "tokio-postgres")]
pub(crate) mod tasks;
#[cfg(feature = "postgres")]
pub(crate) mod threads;
