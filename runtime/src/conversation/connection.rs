//! The seam between the engine and a driver: a connection that carries a
//! query to the server and its replies back. The engine holds every
//! decision and every SQL text; a driver only carries them.
//!
//! The engine is written once, as async functions over this trait. The
//! async driver awaits the server; the blocking driver's futures are ready
//! as soon as they are polled, and [`block_on`](super::blocking::block_on)
//! drives them on the caller's thread without a runtime.

use crate::data::error::DbError;
use std::future::Future;
use std::time::Duration;
use tokio_postgres::SimpleQueryMessage;

/// A session with the server.
pub(crate) trait Connection: Send {
    /// Sends `sql`, one or more statements, as one simple-protocol query
    /// (one round trip), and reads every reply. A failing statement stops
    /// the rest of `sql`.
    fn simple_query(
        &mut self,
        sql: &str,
    ) -> impl Future<Output = Result<Vec<SimpleQueryMessage>, DbError>> + Send;

    /// Waits `duration`, without holding up anything else the program does
    /// meanwhile.
    fn pause(&mut self, duration: Duration) -> impl Future<Output = ()> + Send;

    /// Whether the connection is known to be closed.
    fn is_closed(&self) -> bool;

    /// Sends `sql` to run after whatever the session is doing, without
    /// waiting for it to finish and ignoring its outcome: for cleaning up
    /// after a call that was dropped part way, when nothing can be awaited.
    fn send_and_forget(&mut self, sql: &str);
}

/// Runs `sql`, ignoring any rows.
pub(crate) async fn execute<C: Connection>(conn: &mut C, sql: &str) -> Result<(), DbError> {
    conn.simple_query(sql).await.map(drop)
}
