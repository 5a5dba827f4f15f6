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
        let mut locked = Locked::take(conn, table, wait).await?;
        let prepared = async {
            let digest_kept = tracking::ensure(&mut locked).await?;
            let table = locked.table().clone();
            let rows = tracking::read(locked.conn(), &table).await?;
            Ok((digest_kept, rows))
        }
        .await;
        match prepared {
            Ok((digest_kept, rows)) => {
                let (rows, repeatables) = history::split(rows);
                Ok(Held {
                    locked,
                    rows,
                    repeatables,
                    digest_kept,
                })
            }
            Err(e) => {
                locked.release(false).await;
                Err(e)
            }
        }
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
