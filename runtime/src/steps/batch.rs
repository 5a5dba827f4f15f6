//! Applying consecutive transactional migrations in one message: each in
//! its own transaction, with its timeouts, its SQL, its row (the lock
//! checked by the write, the duration measured by the server) and its
//! `COMMIT`, one after the other. One round trip for the batch, however
//! many migrations it holds.
//!
//! The server runs the message's statements in order and stops at the
//! first error: the migrations before the failed one are committed with
//! their rows, the failed one is rolled back, the ones after it never run.
//! A reply that ends in an error carries no rows, so what was committed is
//! read back from the tracking table; the error's position, counted in the
//! whole message, is placed in the failed migration's file. A connection
//! lost during the batch leaves every migration of it whose outcome was not
//! seen unknown, and the error says which.

use crate::conversation::connection::Connection;
use crate::conversation::{reply, sql};
use crate::data::error::{DbError, Error, MigrationError, Stage};
use crate::data::history::Record;
use crate::data::line_column::LineColumn;
use crate::data::registry::Migration;
use crate::rules::timeouts::Timeouts;
use crate::steps::apply::record_failure;
use crate::steps::lock::Locked;
use crate::steps::{locate, tracking};
use std::time::{Duration, Instant};
use tokio_postgres::error::Severity;

/// What a batch did: the migrations it applied, in order, with the
/// durations the server measured; and how it stopped, if it did.
#[derive(Debug)]
pub(crate) struct Batched {
    pub applied: Vec<(Migration, Duration)>,
    pub failure: Option<Error>,
}

/// Where one migration's SQL stands in the message.
struct Span {
    /// Its first character, counted from 0 in the whole message.
    start: usize,
    /// Its length in characters.
    len: usize,
    /// What opened its transaction, to run it again alone.
    begin: String,
}

/// Applies `migrations` in one message; `timeouts` are the runner's, which
/// each migration's directives override.
pub(crate) async fn apply_batch<C: Connection>(
    locked: &mut Locked<'_, C>,
    migrations: &[Migration],
    timeouts: Timeouts,
) -> Batched {
    let table = locked.table().clone();
    let mut message = String::new();
    let mut chars = 0;
    let mut spans = Vec::with_capacity(migrations.len());
    for m in migrations {
        let begin = sql::begin_with(timeouts.for_script(m.up()));
        let record = Record {
            version: m.version(),
            name: m.name(),
            checksum: m.up().checksum(),
            execution_ms: None,
            success: true,
            error: None,
            progress: None,
            note: None,
        };
        let tail = sql::batch_tail(&table, &record);
        let script = m.up().sql();
        let len = script.chars().count();
        chars += begin.chars().count();
        spans.push(Span {
            start: chars,
            len,
            begin: begin.clone(),
        });
        chars += len + tail.chars().count();
        message.push_str(&begin);
        message.push_str(script);
        message.push_str(&tail);
    }
    let started = Instant::now();
    locked.set_in_transaction(true);
    let error = match locked.conn().simple_query(&message).await {
        Ok(messages) => {
            locked.set_in_transaction(false);
            let durations = reply::recorded(&messages, true);
            return Batched {
                applied: with_durations(migrations, &durations),
                failure: None,
            };
        }
        Err(error) => error,
    };
    let took = started.elapsed();
    drop(message);
    locked.roll_back().await;
    // A lost connection, or an error that ended the session (the server
    // shutting down, the process terminated): what the batch committed
    // cannot be read back on it.
    let fatal = error.as_db_error().is_none_or(|db| {
        matches!(
            db.parsed_severity(),
            Some(Severity::Fatal) | Some(Severity::Panic)
        )
    });
    if fatal || locked.conn().is_closed() {
        return Batched {
            applied: Vec::new(),
            failure: Some(in_flight(migrations, error)),
        };
    }
    // The server ran the message in order and stopped at the error: the
    // migrations before the failed one committed. Which one failed, the
    // error says (a row's write that found the lock gone, or a place in
    // the message); otherwise, the first that this session did not record.
    let versions: Vec<i64> = migrations.iter().map(Migration::version).collect();
    let recorded = match locked
        .conn()
        .simple_query(&sql::recorded(&table, &versions))
        .await
    {
        Ok(messages) => reply::recorded(&messages, false),
        Err(e) => {
            tracing::debug!(error = %e, "reading what a batch of migrations committed");
            return Batched {
                applied: Vec::new(),
                failure: Some(in_flight(migrations, error)),
            };
        }
    };
    let lock_lost = tracking::is_lock_lost(&error);
    let failed_at = if lock_lost {
        error
            .as_db_error()
            .and_then(|db| sql::lock_lost_version(db.message()))
            .and_then(|v| versions.iter().position(|w| *w == v))
    } else {
        locate::server_position(&error, 0).and_then(|at| {
            spans
                .iter()
                .position(|s| at >= s.start && at < s.start + s.len)
        })
    };
    let done = failed_at.unwrap_or_else(|| {
        versions
            .iter()
            .take_while(|v| recorded.iter().any(|(r, _)| r == *v))
            .count()
    });
    let applied = with_durations(&migrations[..done.min(migrations.len())], &recorded);
    let (Some(failed), Some(span)) = (migrations.get(done), spans.get(done)) else {
        // Every migration of the batch recorded, yet the message failed:
        // nothing of it is left to blame.
        return Batched {
            applied,
            failure: None,
        };
    };
    if lock_lost {
        return Batched {
            applied,
            failure: Some(Error::LockLost {
                table: table.qualified().to_owned(),
                migration: Some((failed.version(), failed.up().path())),
            }),
        };
    }
    let position = match place(&error, span, failed) {
        Some(at) => Some(at),
        None => locate::replay(locked, failed.up(), &span.begin, &error, took).await,
    };
    let failure = Box::new(MigrationError {
        version: failed.version(),
        name: failed.name(),
        path: failed.up().path(),
        position,
        stage: Stage::Up,
        not_recorded: None,
        applied_before: Vec::new(),
        in_flight: Vec::new(),
        source: error,
    });
    Batched {
        applied,
        failure: Some(record_failure(locked, *failed, failure, took, None).await),
    }
}

/// `migrations` with the durations `recorded` gives them.
fn with_durations(migrations: &[Migration], recorded: &[(i64, i64)]) -> Vec<(Migration, Duration)> {
    migrations
        .iter()
        .map(|m| {
            let ms = recorded
                .iter()
                .find(|(v, _)| *v == m.version())
                .map_or(0, |(_, ms)| *ms);
            (*m, Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
        })
        .collect()
}

/// Where the error falls in the failed migration's file, when the server
/// placed it in that migration's SQL.
fn place(error: &DbError, span: &Span, failed: &Migration) -> Option<LineColumn> {
    let at = locate::server_position(error, 0)?;
    let within = at.checked_sub(span.start).filter(|i| *i < span.len)?;
    Some(stowage_core::position::of_char(failed.up().sql(), within).into())
}

/// The error of a batch whose connection was lost: every migration of it
/// may have committed with its row, or not.
fn in_flight(migrations: &[Migration], source: DbError) -> Error {
    let Some(first) = migrations.first() else {
        return Error::database("sending a batch of migrations")(source);
    };
    Error::Migration(Box::new(MigrationError {
        version: first.version(),
        name: first.name(),
        path: first.up().path(),
        position: None,
        stage: Stage::Commit { down: false },
        not_recorded: None,
        applied_before: Vec::new(),
        in_flight: migrations.iter().map(Migration::version).collect(),
        source,
    }))
}
