//! The blocking driver: `postgres::Client`, whose calls complete before
//! they return, so the engine's futures over it are ready as soon as they
//! are polled and run on the caller's thread without an async runtime.

use super::connection::Connection;
use crate::data::error::DbError;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use tokio_postgres::SimpleQueryMessage;

impl Connection for postgres::Client {
    async fn simple_query(&mut self, sql: &str) -> Result<Vec<SimpleQueryMessage>, DbError> {
        postgres::Client::simple_query(self, sql)
    }

    async fn pause(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn is_closed(&self) -> bool {
        postgres::Client::is_closed(self)
    }

    fn send_and_forget(&mut self, sql: &str) {
        if let Err(e) = self.batch_execute(sql) {
            tracing::debug!(error = %e, "cleaning up the session");
        }
    }
}

/// Runs `future` to its end on this thread. Over the blocking driver it is
/// ready at its first poll; should it ever wait, the thread sleeps until it
/// is woken.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}
