//! Applying one no-transaction migration: statement by statement in
//! autocommit, its progress recorded after each one, so a failure or a
//! crash leaves a true account of how far it got. Every write of a row
//! checks that the session still holds the lock. (Transactional migrations
//! travel in batches: see [`batch`](super::batch).)

use crate::conversation::connection::Connection;
use crate::conversation::{reply, sql};
use crate::data::error::{Error, FailedStatement, MigrationError, Stage};
use crate::data::history::Record;
use crate::data::registry::{Migration, Statement};
use crate::rules::classify::Pending;
use crate::rules::timeouts::Timeouts;
use crate::steps::lock::Locked;
use crate::steps::{locate, tracking};
use std::time::{Duration, Instant};

/// Applies `pending` and records it; `timeouts` are the runner's, which the
/// migration's directives override.
pub(crate) async fn apply<C: Connection>(
    locked: &mut Locked<'_, C>,
    pending: &Pending,
    timeouts: Timeouts,
) -> Result<Duration, Error> {
    let migration = pending.migration;
    let timeouts = timeouts.for_script(migration.up());
    let saved = set_session_timeouts(locked, timeouts).await?;
    for index in &pending.drop_first {
        tracing::info!(
            version = migration.version(),
            index,
            "dropping an INVALID index the statement left, before running it again"
        );
        crate::conversation::connection::execute(
            locked.conn(),
            &sql::drop_index_concurrently(index),
        )
        .await
        .map_err(Error::database(
            "dropping an INVALID index left by the statement",
        ))?;
    }
    let outcome = statements(locked, migration, pending.start_at).await;
    if let Some((lock, statement)) = saved
        && !locked.conn().is_closed()
    {
        let restore = sql::restore_session_timeouts(&lock, &statement);
        if let Err(e) = crate::conversation::connection::execute(locked.conn(), &restore).await {
            tracing::warn!(error = %e, "could not restore the session's timeouts");
        }
    }
    outcome
}

/// The row of `migration`.
fn record<'a>(
    migration: Migration,
    took: Duration,
    success: bool,
    error: Option<&'a str>,
    progress: Option<(usize, usize)>,
) -> Record<'a> {
    Record {
        version: migration.version(),
        name: migration.name(),
        checksum: migration.up().checksum(),
        execution_ms: Some(took.as_millis()),
        success,
        error,
        progress,
        note: None,
    }
}

/// One statement at a time, in autocommit, recording progress after each.
async fn statements<C: Connection>(
    locked: &mut Locked<'_, C>,
    migration: Migration,
    start_at: usize,
) -> Result<Duration, Error> {
    let started = Instant::now();
    let statements = migration.up().statements();
    let total = statements.len();
    let invalid_before = invalid_indexes(locked).await;
    write_progress(
        locked,
        migration,
        &record(
            migration,
            Duration::ZERO,
            false,
            None,
            Some((start_at, total)),
        ),
        "recording the start of a no-transaction migration",
    )
    .await?;
    for (i, statement) in statements.iter().enumerate().skip(start_at) {
        let done = i + 1;
        if let Err(source) =
            crate::conversation::connection::execute(locked.conn(), statement.sql()).await
        {
            let took = started.elapsed();
            let failure = failed_statement(
                locked,
                migration,
                statement,
                (done, total),
                &invalid_before,
                source,
            )
            .await;
            return Err(record_failure(locked, migration, failure, took, Some((i, total))).await);
        }
        tracing::debug!(
            version = migration.version(),
            statement = done,
            total,
            "statement done"
        );
        // After the last statement, one write records the migration applied.
        if done < total {
            write_progress(
                locked,
                migration,
                &record(
                    migration,
                    started.elapsed(),
                    false,
                    None,
                    Some((done, total)),
                ),
                "recording the progress of a no-transaction migration",
            )
            .await?;
        }
    }
    let took = started.elapsed();
    write_progress(
        locked,
        migration,
        &record(migration, took, true, None, Some((total, total))),
        "recording a no-transaction migration as applied",
    )
    .await?;
    Ok(took)
}

/// Writes the row of a no-transaction migration's progress; a write that
/// finds the lock gone stops the run.
async fn write_progress<C: Connection>(
    locked: &mut Locked<'_, C>,
    migration: Migration,
    row: &Record<'_>,
    doing: &'static str,
) -> Result<(), Error> {
    tracking::write(locked, row).await.map_err(|e| {
        tracking::lock_lost_or(
            locked.table(),
            Some((migration.version(), migration.up().path())),
            doing,
            e,
        )
    })
}

/// The error of statement `number` of `total`, with the indexes it left
/// INVALID.
async fn failed_statement<C: Connection>(
    locked: &mut Locked<'_, C>,
    migration: Migration,
    statement: &Statement,
    (number, total): (usize, usize),
    invalid_before: &[String],
    source: crate::data::error::DbError,
) -> Box<MigrationError> {
    let position = locate::in_statement(&source, statement.sql(), statement.position());
    let invalid_now = invalid_indexes(locked).await;
    Box::new(MigrationError {
        version: migration.version(),
        name: migration.name(),
        path: migration.up().path(),
        position: position.or(Some(statement.position())),
        stage: Stage::Statement(FailedStatement {
            number,
            total,
            at: statement.position(),
            invalid_indexes: invalid_now
                .into_iter()
                .filter(|index| !invalid_before.contains(index))
                .collect(),
        }),
        not_recorded: None,
        applied_before: Vec::new(),
        in_flight: Vec::new(),
        source,
    })
}

/// Records the failure (in a transaction of its own) and returns it as the
/// call's error. It is logged at debug level only: the caller gets it.
pub(crate) async fn record_failure<C: Connection>(
    locked: &mut Locked<'_, C>,
    migration: Migration,
    mut failure: Box<MigrationError>,
    took: Duration,
    progress: Option<(usize, usize)>,
) -> Error {
    let summary = failure.summary();
    let row = record(migration, took, false, Some(&summary), progress);
    if let Err(e) = tracking::write(locked, &row).await {
        failure.not_recorded = Some(e);
    }
    tracing::debug!(
        version = migration.version(),
        path = migration.up().path(),
        code = failure.code(),
        "migration failed: {summary}"
    );
    Error::Migration(failure)
}

/// Sets the migration's timeouts for the session, for a migration run in
/// autocommit; returns what they were, to restore afterwards.
async fn set_session_timeouts<C: Connection>(
    locked: &mut Locked<'_, C>,
    timeouts: Timeouts,
) -> Result<Option<(String, String)>, Error> {
    if !timeouts.any() {
        return Ok(None);
    }
    locked
        .conn()
        .simple_query(&sql::set_session_timeouts(timeouts))
        .await
        .map(|messages| Some(reply::session_timeouts(&messages)))
        .map_err(Error::database("setting the migration's timeouts"))
}

/// The indexes that are INVALID right now. Only to name the ones a failed
/// statement leaves: a failure to list them is logged, not fatal.
async fn invalid_indexes<C: Connection>(locked: &mut Locked<'_, C>) -> Vec<String> {
    if locked.conn().is_closed() {
        return Vec::new();
    }
    match locked.conn().simple_query(sql::INVALID_INDEXES).await {
        Ok(messages) => reply::first_column(&messages),
        Err(e) => {
            tracing::debug!(error = %e, "listing invalid indexes");
            Vec::new()
        }
    }
}
