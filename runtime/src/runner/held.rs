//! A call under the migration lock: the lock taken, the tracking table and
//! its digest objects made sure of, the history read; then released
//! however the call ends.

use crate::conversation::connection::Connection;
use crate::data::error::Error;
use crate::data::history::{self, Row};
use crate::rules::tracking_table::TrackingTable;
use crate::steps::lock::Locked;
use crate::steps::tracking;
use std::time::Duration;

/// The state of a call that holds the lock.
#[derive(Debug)]
pub(crate) struct Held<'c, C: Connection> {
    pub locked: Locked<'c, C>,
    /// The history of the versioned migrations as it was when the lock was
    /// taken.
    pub rows: Vec<Row>,
    /// The rows of the repeatable migrations as they were then.
    pub repeatables: Vec<Row>,
    /// Whether the tracking table exists.
    exists: bool,
    /// Whether the digest of the history is kept beside the table.
    digest_kept: bool,
}

impl<'c, C: Connection> Held<'c, C> {
    /// Takes the lock of `table` (waiting at most `wait`), creates what is
    /// missing of the tracking table and the digest beside it, and reads the
    /// history. On failure the lock is released again.
    pub(crate) async fn take(
        conn: &'c mut C,
        table: TrackingTable,
        wait: Duration,
    ) -> Result<Held<'c, C>, Error> {
        Self::take_making(conn, table, wait, true).await
    }

    /// Takes the lock as [`take`](Held::take) does, for a call that writes
    /// only over a history that exists (forgetting, accepting, rolling
    /// back): a tracking table that does not exist is not created, and
    /// reads as an empty history, so that a refusal leaves nothing behind.
    pub(crate) async fn take_existing(
        conn: &'c mut C,
        table: TrackingTable,
        wait: Duration,
    ) -> Result<Held<'c, C>, Error> {
        Self::take_making(conn, table, wait, false).await
    }

    async fn take_making(
        conn: &'c mut C,
        table: TrackingTable,
        wait: Duration,
        create: bool,
    ) -> Result<Held<'c, C>, Error> {
        let mut locked = Locked::take(conn, table, wait).await?;
        let prepared = async {
            let Some(digest_kept) = tracking::ensure(&mut locked, create).await? else {
                return Ok((false, false, Vec::new()));
            };
            let table = locked.table().clone();
            let rows = tracking::read(locked.conn(), &table).await?;
            Ok((true, digest_kept, rows))
        }
        .await;
        match prepared {
            Ok((exists, digest_kept, rows)) => {
                let (rows, repeatables) = history::split(rows);
                Ok(Held {
                    locked,
                    rows,
                    repeatables,
                    exists,
                    digest_kept,
                })
            }
            Err(e) => {
                locked.release(false).await;
                Err(e)
            }
        }
    }

    /// Whether the tracking table exists.
    pub(crate) fn exists(&self) -> bool {
        self.exists
    }

    /// Creates the tracking table and its digest objects that
    /// [`take_existing`](Held::take_existing) did not.
    pub(crate) async fn make_table(&mut self) -> Result<(), Error> {
        self.digest_kept = tracking::ensure(&mut self.locked, true)
            .await?
            .unwrap_or(false);
        self.exists = true;
        Ok(())
    }

    /// Releases the lock, after `outcome`: when it is a success, the
    /// history's digest is written in the same query, so that the next
    /// start with nothing to do reads one row.
    pub(crate) async fn finish<T>(self, outcome: Result<T, Error>) -> Result<T, Error> {
        self.locked
            .release(outcome.is_ok() && self.digest_kept)
            .await;
        outcome
    }
}
