//! The steps a call is made of, each one conversation with the server: the
//! quick check (of one target, or of many schemas at once), the lock, the
//! tracking table, one migration applied, a script in a transaction,
//! finding where a script failed, the schema check, and for a fleet,
//! selecting its schemas and making a session ready for a target.

pub(crate) mod apply;
pub(crate) mod batch;
pub(crate) mod interrupted;
pub(crate) mod locate;
pub(crate) mod lock;
pub(crate) mod quick_check;
pub(crate) mod repeatables;
pub(crate) mod schema;
pub(crate) mod schemas;
pub(crate) mod session;
pub(crate) mod tracking;
pub(crate) mod transaction;
