//! The migration lock: a session-level PostgreSQL advisory lock keyed on the
//! qualified tracking table, and the session that holds it.
//!
//! It is taken by polling `pg_try_advisory_lock`, never by the blocking
//! `pg_advisory_lock`: a session blocked on the lock would itself be waited on
//! by a `CREATE INDEX CONCURRENTLY` that the holder runs, and the two would
//! deadlock.
//!
//! However a call ends, the session is left as it was found: out of any
//! transaction, without the lock. [`Locked::release`] does it on every path
//! the call returns by. A call that never returns, because it panicked or
//! because its future was dropped part way (a cancelled task, a timeout),
//! is cleaned up when the [`Locked`] is dropped: the connection is sent a
//! `ROLLBACK` (if a transaction may be open) and the unlock, ahead of
//! anything else it is later asked to do, so a pool never hands out a
//! connection that holds the lock or sits in an open transaction.

use crate::conversation::connection::{Connection, execute};
use crate::conversation::{reply, sql};
use crate::data::error::Error;
use crate::rules::tracking_table::TrackingTable;
use std::time::{Duration, Instant};

/// The first pause between two tries; it doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(25);
const MAX_POLL: Duration = Duration::from_secs(1);

/// A session holding the migration lock of a tracking table.
pub(crate) struct Locked<'c, C: Connection> {
    conn: &'c mut C,
    table: TrackingTable,
    /// The lock may be held: set before the first try, so that a call
    /// dropped while trying still unlocks.
    held: bool,
    /// A transaction may be open.
    in_transaction: bool,
}

impl<C: Connection> std::fmt::Debug for Locked<'_, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locked")
            .field("table", &self.table)
            .field("held", &self.held)
            .field("in_transaction", &self.in_transaction)
            .finish_non_exhaustive()
    }
}

impl<'c, C: Connection> Locked<'c, C> {
    /// Takes the lock of `table`, waiting at most `wait` for another process
    /// to release it.
    pub(crate) async fn take(
        conn: &'c mut C,
        table: TrackingTable,
        wait: Duration,
    ) -> Result<Locked<'c, C>, Error> {
        let query = sql::try_lock(&table);
        let mut locked = Locked {
            conn,
            table,
            held: true,
            in_transaction: false,
        };
        let started = Instant::now();
        let mut pause = FIRST_POLL;
        let mut last_holder = None;
        loop {
            let attempt = locked
                .conn
                .simple_query(&query)
                .await
                .map(|messages| reply::lock_attempt(&messages))
                .map_err(Error::database("taking the migration lock"))?;
            if attempt.taken {
                tracing::debug!(table = locked.table.qualified(), waited = ?started.elapsed(), "took the migration lock");
                return Ok(locked);
            }
            let waited = started.elapsed();
            if waited >= wait {
                locked.held = false;
                let running_statement = match attempt.holder {
                    Some(pid) => locked.running_statement(pid).await,
                    None => None,
                };
                return Err(Error::LockTimeout {
                    table: locked.table.qualified().to_owned(),
                    waited,
                    holder: attempt.holder,
                    running_statement,
                });
            }
            if attempt.holder != last_holder {
                tracing::debug!(
                    table = locked.table.qualified(),
                    holder_pid = attempt.holder,
                    "waiting for the migration lock held by server process {}",
                    attempt
                        .holder
                        .map_or_else(|| "?".to_owned(), |pid| pid.to_string())
                );
                last_holder = attempt.holder;
            }
            locked
                .conn
                .pause(pause.min(wait.saturating_sub(waited)))
                .await;
            pause = (pause * 2).min(MAX_POLL);
        }
    }

    /// The no-transaction statement that server process `pid`, holding the
    /// lock, still runs for a migrating process that died, as the history
    /// says: its migration and its number.
    async fn running_statement(&mut self, pid: i32) -> Option<(i64, usize)> {
        let query = sql::running_statement(&self.table, pid);
        let messages = self.conn.simple_query(&query).await.ok()?;
        reply::running_statement(&messages)
    }

    /// The tracking table the lock guards.
    pub(crate) fn table(&self) -> &TrackingTable {
        &self.table
    }

    /// The tracking table, to say what it holds.
    pub(crate) fn table_mut(&mut self) -> &mut TrackingTable {
        &mut self.table
    }

    /// The connection, to send a query on.
    pub(crate) fn conn(&mut self) -> &mut C {
        self.conn
    }

    /// Says that a transaction may now be open (a `BEGIN` is being sent),
    /// or that none is (its `COMMIT` or `ROLLBACK` completed).
    pub(crate) fn set_in_transaction(&mut self, open: bool) {
        self.in_transaction = open;
    }

    /// Ends the transaction a failure left open, if any. A failure to do so
    /// is only logged: the connection is lost, or there was nothing to undo.
    pub(crate) async fn roll_back(&mut self) {
        if !self.in_transaction || self.conn.is_closed() {
            return;
        }
        match execute(self.conn, sql::ROLLBACK).await {
            Ok(()) => self.in_transaction = false,
            Err(e) => tracing::debug!(error = %e, "rolling back after a failure"),
        }
    }

    /// Releases the lock, and the session to its owner. When the call ended
    /// well (`digest`), the history's digest is written in the same query,
    /// so the next start with nothing to do reads one row; a failure to
    /// write it costs only that. After a failure, any transaction it left
    /// open is rolled back first.
    pub(crate) async fn release(mut self, digest: bool) {
        if self.conn.is_closed() {
            self.held = false;
            return; // the server released it with the session
        }
        if digest {
            let query = format!(
                "{};\n{}",
                sql::write_digest(&self.table),
                sql::unlock(&self.table)
            );
            match execute(self.conn, &query).await {
                Ok(()) => {
                    self.held = false;
                    return;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "could not write the history's digest");
                    self.in_transaction = true;
                }
            }
        }
        let mut query = String::new();
        if self.in_transaction {
            query.push_str(sql::ROLLBACK);
            query.push_str(";\n");
        }
        query.push_str(&sql::unlock(&self.table));
        match execute(self.conn, &query).await {
            Ok(()) => self.held = false,
            Err(e) => tracing::warn!(
                error = %e,
                "could not release the migration lock; it is released when the connection closes"
            ),
        }
    }
}

impl<C: Connection> Drop for Locked<'_, C> {
    fn drop(&mut self) {
        if !self.held || self.conn.is_closed() {
            return;
        }
        let mut query = String::new();
        if self.in_transaction {
            query.push_str(sql::ROLLBACK);
            query.push_str(";\n");
        }
        query.push_str(&sql::unlock(&self.table));
        self.conn.send_and_forget(&query);
    }
}
