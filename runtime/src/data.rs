//! The values stowage works with and hands back: the registry the macro
//! expands to, the recorded history, reports, states, plans, violations,
//! remedies and errors, and a fleet's reports. Nothing here talks to a
//! server or decides anything.

pub(crate) mod adoption;
pub(crate) mod drift;
pub(crate) mod error;
pub(crate) mod fleet;
pub(crate) mod history;
pub(crate) mod line_column;
pub(crate) mod plan;
pub(crate) mod registry;
pub(crate) mod remedy;
pub(crate) mod repeatable_status;
pub(crate) mod report;
pub(crate) mod schema;
#[cfg(feature = "serde")]
pub(crate) mod serde_time;
pub(crate) mod status;
pub(crate) mod verification;
pub(crate) mod violation;
