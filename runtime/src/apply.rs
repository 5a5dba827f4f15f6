//! Applying one migration.
//!
//! A transactional migration runs with its tracking row in one transaction,
//! so a crash at any instant leaves both or neither. A no-transaction
//! migration runs statement by statement in autocommit, its progress
//! recorded after each one, so a failure or a crash leaves a true account
//! of how far it got.

use crate::error::{Error, FailedStatement, MigrationError};
use crate::migration::{Migration, Script, Statement};
use crate::sql::{first_column, rollback};
use crate::timeouts::Timeouts;
use crate::tracking_table::{Record, TrackingTable};
use postgres::Client;
use std::time::{Duration, Instant};
use stowage_core::position::{self, LineColumn};

/// Applies `migration`, starting at statement `start_at` for a resumed
/// no-transaction one, and records it. `timeouts` are the runner's; the
/// migration's directives override them.
pub(crate) fn apply(
    client: &mut Client,
    table: &TrackingTable,
    migration: &Migration,
    start_at: usize,
    timeouts: Timeouts,
) -> Result<Duration, Error> {
    let timeouts = timeouts.for_script(migration.up());
    match migration.up().statements() {
        None => apply_in_transaction(client, table, migration, timeouts),
        Some(statements) => {
            let saved = timeouts.set_session(client)?;
            let outcome = apply_statements(client, table, migration, statements, start_at);
            if let Some(saved) = saved.filter(|_| !client.is_closed()) {
                saved.restore(client);
            }
            outcome
        }
    }
}

/// Two round trips: `BEGIN` with the migration's statements, then the
/// tracking row with `COMMIT`. On failure the transaction is rolled back and
/// the failure recorded.
fn apply_in_transaction(
    client: &mut Client,
    table: &TrackingTable,
    migration: &Migration,
    timeouts: Timeouts,
) -> Result<Duration, Error> {
    let finish = |took| {
        table.record_and_commit(Record {
            migration,
            took,
            success: true,
            error: None,
            progress: None,
            note: None,
        })
    };
    in_transaction(client, migration, migration.up(), timeouts, finish).map_err(
        |(failure, took)| {
            if failure.outcome_unknown {
                // It may have committed with its row: a failure row could lie.
                tracing::error!(version = migration.version(), "{failure}");
                Error::Migration(failure)
            } else {
                record_failure(client, table, migration, failure, took, None)
            }
        },
    )
}

/// Runs `script` of `migration` in a transaction that `finish(elapsed)`
/// (SQL ending in `COMMIT`) closes: two round trips. On failure the
/// transaction is rolled back and the error placed in the script's file,
/// unless the connection was lost once `COMMIT` was sent: then whether it
/// committed is unknown.
pub(crate) fn in_transaction(
    client: &mut Client,
    migration: &Migration,
    script: &Script,
    timeouts: Timeouts,
    finish: impl FnOnce(Duration) -> String,
) -> Result<Duration, (Box<MigrationError>, Duration)> {
    // Sent in front of the script, in the same query, to open its
    // transaction without a round trip of its own.
    let begin = format!("BEGIN;{}\n", timeouts.set_local());
    let started = Instant::now();
    let outcome = client
        .batch_execute(&format!("{begin}{}", script.sql()))
        .map_err(|e| (e, true))
        .and_then(|()| {
            client
                .batch_execute(&finish(started.elapsed()))
                .map_err(|e| (e, false))
        });
    let took = started.elapsed();
    let Err((source, in_script)) = outcome else {
        return Ok(took);
    };
    let outcome_unknown = !in_script && source.as_db_error().is_none();
    rollback(client, "a failed script");
    let position = if in_script {
        server_position(&source, begin.chars().count())
            .map(|index| position::of_char(script.sql(), index))
            .or_else(|| find_failing_statement(client, script, &begin, &source, took))
    } else {
        None
    };
    let failure = MigrationError {
        version: migration.version(),
        name: migration.name(),
        path: script.path(),
        position,
        statement: None,
        undoing: !std::ptr::eq(script, migration.up()),
        not_recorded: None,
        applied_before: Vec::new(),
        outcome_unknown,
        source,
    };
    Err((Box::new(failure), took))
}

/// One statement at a time, in autocommit, recording progress after each.
fn apply_statements(
    client: &mut Client,
    table: &TrackingTable,
    migration: &Migration,
    statements: &[Statement],
    start_at: usize,
) -> Result<Duration, Error> {
    let started = Instant::now();
    let total = statements.len();
    let record = |took, success, done| Record {
        migration,
        took,
        success,
        error: None,
        progress: Some((done, total)),
        note: None,
    };
    let invalid_before = invalid_indexes(client)?;
    table
        .record(client, record(Duration::ZERO, false, start_at))
        .map_err(Error::database(
            "recording the start of a no-transaction migration",
        ))?;
    for (i, statement) in statements.iter().enumerate().skip(start_at) {
        if let Err(source) = client.batch_execute(statement.sql()) {
            let took = started.elapsed();
            let position = position_in_statement(&source, statement.sql(), statement.position());
            let invalid_now = invalid_indexes(client).unwrap_or_default();
            let failure = MigrationError {
                version: migration.version(),
                name: migration.name(),
                path: migration.path(),
                position: position.or(Some(statement.position())),
                statement: Some(FailedStatement {
                    number: i + 1,
                    total,
                    at: statement.position(),
                    invalid_indexes: invalid_now
                        .into_iter()
                        .filter(|index| !invalid_before.contains(index))
                        .collect(),
                }),
                undoing: false,
                not_recorded: None,
                applied_before: Vec::new(),
                outcome_unknown: false,
                source,
            };
            return Err(record_failure(
                client,
                table,
                migration,
                Box::new(failure),
                took,
                Some((i, total)),
            ));
        }
        tracing::debug!(
            version = migration.version(),
            statement = i + 1,
            total,
            "statement done"
        );
        // After the last statement, one write records the migration applied.
        let done = i + 1;
        if done < total {
            table
                .record(client, record(started.elapsed(), false, done))
                .map_err(Error::database(
                    "recording the progress of a no-transaction migration",
                ))?;
        }
    }
    let took = started.elapsed();
    table
        .record(client, record(took, true, total))
        .map_err(Error::database(
            "recording a no-transaction migration as applied",
        ))?;
    Ok(took)
}

/// Records the failure (in a transaction of its own), logs it, and returns
/// it as the run's error.
fn record_failure(
    client: &mut Client,
    table: &TrackingTable,
    migration: &Migration,
    mut failure: Box<MigrationError>,
    took: Duration,
    progress: Option<(usize, usize)>,
) -> Error {
    let summary = failure.summary();
    let record = Record {
        migration,
        took,
        success: false,
        error: Some(&summary),
        progress,
        note: None,
    };
    if let Err(e) = table.record(client, record) {
        failure.not_recorded = Some(e);
    }
    tracing::error!(
        version = migration.version(),
        path = migration.path(),
        code = failure.code(),
        "migration failed: {summary}"
    );
    Error::Migration(failure)
}

/// How long a failed transactional script may have run for it to be run
/// again to find the statement that failed.
const REPLAY_LIMIT: Duration = Duration::from_secs(10);

/// When the server gives no position (a constraint violation, a column
/// that already exists), finds the statement that failed by running the
/// script again, statement by statement, in a transaction that is rolled
/// back. Only for errors that the same statements give again, and only for
/// a script that failed quickly.
fn find_failing_statement(
    client: &mut Client,
    script: &Script,
    begin: &str,
    error: &postgres::Error,
    took: Duration,
) -> Option<LineColumn> {
    let code = error.code()?.code();
    let transient = ["08", "40", "53", "55", "57", "58"]
        .iter()
        .any(|class| code.starts_with(class));
    if transient || took > REPLAY_LIMIT || client.is_closed() {
        return None;
    }
    let statements = script.statement_spans();
    client.batch_execute(begin).ok()?;
    let mut found = None;
    for (sql, at) in statements {
        if let Err(e) = client.batch_execute(sql) {
            found = Some(position_in_statement(&e, sql, at).unwrap_or(at));
            break;
        }
    }
    rollback(client, "finding the failed statement");
    found
}

/// Where in the file the server's error position falls, for an error of
/// one statement sent alone: `sql`, which starts at `at`.
fn position_in_statement(error: &postgres::Error, sql: &str, at: LineColumn) -> Option<LineColumn> {
    server_position(error, 0).map(|index| position::within(at, position::of_char(sql, index)))
}

/// The server's error position as an index in characters from 0 into the
/// text that followed `prefix_chars` characters of the query sent.
fn server_position(error: &postgres::Error, prefix_chars: usize) -> Option<usize> {
    match error.as_db_error()?.position()? {
        postgres::error::ErrorPosition::Original(position) => usize::try_from(*position)
            .ok()?
            .checked_sub(1 + prefix_chars),
        postgres::error::ErrorPosition::Internal { .. } => None,
    }
}

/// The indexes that are INVALID right now, schema-qualified.
fn invalid_indexes(client: &mut Client) -> Result<Vec<String>, Error> {
    first_column(
        client,
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_index i \
         JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid",
    )
    .map_err(Error::database("listing invalid indexes"))
}
