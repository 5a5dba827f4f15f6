//! The async driver: `tokio_postgres::Client`, awaited on the program's
//! tokio runtime. Waiting for the lock sleeps on the runtime's timer, never
//! on its thread.

use super::connection::Connection;
use crate::data::error::DbError;
use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio_postgres::SimpleQueryMessage;

impl Connection for tokio_postgres::Client {
    async fn simple_query(&mut self, sql: &str) -> Result<Vec<SimpleQueryMessage>, DbError> {
        tokio_postgres::Client::simple_query(self, sql).await
    }

    async fn pause(&mut self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    fn is_closed(&self) -> bool {
        tokio_postgres::Client::is_closed(self)
    }

    /// The client queues a query on its connection when the query's future
    /// is first polled, and the connection task sends queued queries in
    /// order whether or not anyone waits for their replies. Polling once
    /// therefore puts `sql` on the wire ahead of anything the client is
    /// asked to do later, by a pool's next user say, without awaiting.
    fn send_and_forget(&mut self, sql: &str) {
        let query = tokio_postgres::Client::simple_query_raw(self, sql);
        let mut query = std::pin::pin!(query);
        let mut context = Context::from_waker(Waker::noop());
        if let Poll::Ready(Err(e)) = query.as_mut().poll(&mut context) {
            tracing::debug!(error = %e, "cleaning up the session");
        }
    }
}
