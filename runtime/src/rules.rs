//! The decisions that need no server: which state each migration is in and
//! what a run does about it, what a tracking table may be named, which
//! timeouts a migration runs with, which schemas a fleet's pattern names
//! and in which order a fleet's targets start. Pure functions, tested
//! beside them.

pub(crate) mod batches;
pub(crate) mod classify;
pub(crate) mod drift;
pub(crate) mod glob;
pub(crate) mod interrupted;
pub(crate) mod repeatables;
pub(crate) mod rollout;
pub(crate) mod table_name;
pub(crate) mod timeouts;
pub(crate) mod tracking_table;
pub(crate) mod view_text;
