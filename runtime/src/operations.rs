//! Everything a runner does besides a run, written once over the
//! connection seam: reading (status, health, plan, verify, the schema
//! check), mending
//! (mark applied, forget, repair, accept a checksum, baseline), running an
//! applied migration again, and rolling back.

pub(crate) mod adopt;
pub(crate) mod mend;
pub(crate) mod reapply;
pub(crate) mod rollback;
pub(crate) mod schema;
pub(crate) mod status;
