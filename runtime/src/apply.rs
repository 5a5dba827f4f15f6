//! Applying one migration: its statements and its tracking row in one
//! transaction, so a crash at any instant leaves both or neither.

use crate::error::{Error, MigrationError};
use crate::migration::Migration;
use crate::tracking_table::TrackingTable;
use postgres::Client;
use std::time::{Duration, Instant};

/// Sent in front of the migration's SQL, in the same query, to open its
/// transaction without a round trip of its own.
const BEGIN: &str = "BEGIN;\n";

/// Applies `migration` and records it: two round trips, one with `BEGIN` and
/// the migration's statements, one with the tracking row and `COMMIT`. On
/// failure the transaction is rolled back and the failure recorded.
pub(crate) fn apply(
    client: &mut Client,
    table: &TrackingTable,
    migration: &Migration,
) -> Result<Duration, Error> {
    let started = Instant::now();
    let outcome = client
        .batch_execute(&format!("{BEGIN}{}", migration.sql()))
        .map_err(|e| (e, true))
        .and_then(|()| {
            client
                .batch_execute(&table.record_success_and_commit(migration, started.elapsed()))
                .map_err(|e| (e, false))
        });
    let took = started.elapsed();
    match outcome {
        Ok(()) => Ok(took),
        Err((source, in_migration)) => {
            Err(fail(client, table, migration, source, in_migration, took))
        }
    }
}

fn fail(
    client: &mut Client,
    table: &TrackingTable,
    migration: &Migration,
    source: postgres::Error,
    in_migration: bool,
    took: Duration,
) -> Error {
    if let Err(e) = client.batch_execute("ROLLBACK") {
        tracing::debug!(error = %e, "rollback after a failed migration");
    }
    let position = in_migration
        .then(|| locate(migration.sql(), &source))
        .flatten();
    let mut failure = MigrationError {
        version: migration.version(),
        name: migration.name(),
        path: migration.path(),
        position,
        not_recorded: None,
        source,
    };
    if let Err(e) = table.record_failure(client, migration, took, &failure.summary()) {
        failure.not_recorded = Some(e);
    }
    tracing::error!(
        version = migration.version(),
        path = migration.path(),
        code = failure.code(),
        "migration failed: {}",
        failure.summary()
    );
    Error::Migration(Box::new(failure))
}

/// Maps the server's error position (in characters from 1, counted in the
/// query that was sent) to a line and column in the file.
fn locate(sql: &str, error: &postgres::Error) -> Option<crate::LineColumn> {
    match error.as_db_error()?.position()? {
        postgres::error::ErrorPosition::Original(position) => {
            let index = usize::try_from(*position)
                .ok()?
                .checked_sub(1 + BEGIN.chars().count())?;
            Some(stowage_core::position::of_char(sql, index))
        }
        postgres::error::ErrorPosition::Internal { .. } => None,
    }
}
