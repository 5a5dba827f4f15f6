//! For tests: a connection that writes down every query it carries.

use super::connection::Connection;
use crate::data::error::DbError;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio_postgres::SimpleQueryMessage;

/// A connection that writes down every query it carries, in a log that
/// other connections may share.
pub(crate) struct Recording<C> {
    inner: C,
    log: Arc<Mutex<Vec<String>>>,
}

impl<C> Recording<C> {
    /// `inner`, with a log of its own.
    pub(crate) fn new(inner: C) -> Recording<C> {
        Recording::sharing(inner, &Arc::default())
    }

    /// `inner`, writing in `log`.
    pub(crate) fn sharing(inner: C, log: &Arc<Mutex<Vec<String>>>) -> Recording<C> {
        Recording {
            inner,
            log: Arc::clone(log),
        }
    }

    /// Every query written down so far.
    pub(crate) fn sent(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn write(&self, sql: &str) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sql.to_owned());
    }
}

impl<C: Connection> Connection for Recording<C> {
    async fn simple_query(&mut self, sql: &str) -> Result<Vec<SimpleQueryMessage>, DbError> {
        self.write(sql);
        self.inner.simple_query(sql).await
    }

    async fn pause(&mut self, duration: Duration) {
        self.inner.pause(duration).await;
    }

    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    fn send_and_forget(&mut self, sql: &str) {
        self.write(sql);
        self.inner.send_and_forget(sql);
    }
}
