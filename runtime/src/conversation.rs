//! The conversation with the server: the one seam to a driver
//! ([`connection`]), every SQL text stowage sends ([`sql`]), the reading of
//! the replies into typed values ([`reply`]), and the two drivers.

#[cfg(feature = "postgres")]
pub(crate) mod blocking;
pub(crate) mod connection;
#[cfg(feature = "tokio-postgres")]
pub(crate) mod nonblocking;
#[cfg(test)]
pub(crate) mod recording;
pub(crate) mod reply;
pub(crate) mod sql;
