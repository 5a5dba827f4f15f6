//! The migration lock: a session-level PostgreSQL advisory lock keyed on the
//! qualified tracking table, so two migration sets in one database do not
//! block each other.
//!
//! It is taken by polling `pg_try_advisory_lock`, never by the blocking
//! `pg_advisory_lock`: a session blocked on the lock would itself be waited on
//! by a `CREATE INDEX CONCURRENTLY` that the holder runs, and the two would
//! deadlock.

use crate::error::Error;
use crate::sql::{batch_or_rollback, first_row};
use crate::tracking_table::TrackingTable;
use postgres::Client;
use std::time::{Duration, Instant};

/// The first pause between two tries; it doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(25);
const MAX_POLL: Duration = Duration::from_secs(1);

/// The held lock. Dropping it releases it, on error and on panic too.
pub(crate) struct LockGuard<'c> {
    client: &'c mut Client,
    key: i64,
    released: bool,
}

impl LockGuard<'_> {
    pub(crate) fn client(&mut self) -> &mut Client {
        self.client
    }

    /// Runs `sql`, then releases the lock, in one query. If `sql` fails,
    /// its transaction is rolled back and the lock released all the same:
    /// what it does is worth a log line, not the failure of a call that
    /// has done its work.
    pub(crate) fn release_after(mut self, sql: &str) {
        let query = format!("{sql};\nSELECT pg_advisory_unlock({})", self.key);
        match batch_or_rollback(self.client, &query) {
            Ok(()) => self.released = true,
            Err(e) => {
                tracing::debug!(error = %e, "the query that releases the migration lock failed")
            }
        }
    }
}

impl std::fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        if self.released || self.client.is_closed() {
            return; // released, or the server released it with the session
        }
        if let Err(e) = self
            .client
            .batch_execute(&format!("SELECT pg_advisory_unlock({})", self.key))
        {
            tracing::warn!(error = %e, "could not release the migration lock; it is released when the connection closes");
        }
    }
}

/// Takes the lock for `table`, waiting at most `wait`.
pub(crate) fn acquire_lock<'c>(
    client: &'c mut Client,
    table: &TrackingTable,
    wait: Duration,
) -> Result<LockGuard<'c>, Error> {
    let key = lock_key(table.qualified());
    // pg_locks shows a bigint advisory key as its high and low 32 bits.
    let query = format!(
        "SELECT pg_try_advisory_lock({key}), (SELECT min(pid) FROM pg_catalog.pg_locks \
         WHERE locktype = 'advisory' AND granted AND classid = {hi} AND objid = {lo} AND objsubid = 1 \
         AND pid <> pg_backend_pid())",
        hi = (key as u64) >> 32,
        lo = (key as u64) & 0xffff_ffff,
    );
    let started = Instant::now();
    let mut pause = FIRST_POLL;
    let mut last_holder = None;
    loop {
        let row = first_row(client, &query)
            .map_err(Error::database("taking the migration lock"))?
            .unwrap_or_default();
        if row.first().is_some_and(|v| v.as_deref() == Some("t")) {
            tracing::debug!(table = table.qualified(), waited = ?started.elapsed(), "took the migration lock");
            return Ok(LockGuard {
                client,
                key,
                released: false,
            });
        }
        let holder = row
            .get(1)
            .and_then(|v| v.as_deref())
            .and_then(|v| v.parse::<i32>().ok());
        let waited = started.elapsed();
        if waited >= wait {
            return Err(Error::LockTimeout {
                table: table.qualified().to_owned(),
                waited,
                holder,
            });
        }
        if holder != last_holder {
            tracing::debug!(
                table = table.qualified(),
                holder_pid = holder,
                "waiting for the migration lock held by server process {}",
                holder.map_or_else(|| "?".to_owned(), |pid| pid.to_string())
            );
            last_holder = holder;
        }
        std::thread::sleep(pause.min(wait.saturating_sub(waited)));
        pause = (pause * 2).min(MAX_POLL);
    }
}

/// FNV-1a of the qualified table name: stable across versions and platforms.
fn lock_key(qualified: &str) -> i64 {
    let hash = qualified.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_table() {
        assert_ne!(lock_key(r#""public"."a""#), lock_key(r#""public"."b""#));
        assert_eq!(lock_key(r#""public"."a""#), lock_key(r#""public"."a""#));
    }
}
