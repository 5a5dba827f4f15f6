//! A script in a transaction of its own, closed by a query that records it:
//! two round trips, atomic with its row.

use crate::conversation::connection::{Connection, execute};
use crate::conversation::sql;
use crate::data::error::{MigrationError, Stage};
use crate::data::registry::{Migration, Script};
use crate::rules::timeouts::Timeouts;
use crate::steps::lock::Locked;
use crate::steps::{locate, tracking};
use std::time::{Duration, Instant};

/// How a script in a transaction failed.
#[derive(Debug)]
pub(crate) enum Failed {
    /// The script, or the query that closes it, failed; the transaction
    /// was rolled back (unless the connection was lost after `COMMIT` was
    /// sent: the stage says so).
    Script(Box<MigrationError>),
    /// The query that closes it found the lock gone: the transaction was
    /// rolled back.
    LockLost,
}

/// Runs `script` of `migration` (its down script when `down`) after `BEGIN`,
/// its timeouts and `prelude` (SQL that must run in the same transaction
/// first), then `finish(elapsed)`, SQL that records it and ends in
/// `COMMIT`. On failure the transaction is rolled back and the error placed
/// in the script's file.
pub(crate) async fn run_in_transaction<C: Connection>(
    locked: &mut Locked<'_, C>,
    migration: Migration,
    script: Script,
    timeouts: Timeouts,
    down: bool,
    prelude: &str,
    finish: impl FnOnce(Duration) -> String,
) -> Result<Duration, Failed> {
    let begin = format!("{}{prelude}", sql::begin_with(timeouts));
    let started = Instant::now();
    locked.set_in_transaction(true);
    let mut in_script = true;
    let mut outcome = execute(locked.conn(), &format!("{begin}{}", script.sql())).await;
    if outcome.is_ok() {
        in_script = false;
        outcome = execute(locked.conn(), &finish(started.elapsed())).await;
    }
    let took = started.elapsed();
    let source = match outcome {
        Ok(()) => {
            locked.set_in_transaction(false);
            return Ok(took);
        }
        Err(source) => source,
    };
    locked.roll_back().await;
    if !in_script && tracking::is_lock_lost(&source) {
        return Err(Failed::LockLost);
    }
    let position = if in_script {
        match locate::in_script(&source, script.sql(), begin.chars().count()) {
            Some(at) => Some(at),
            None => locate::replay(locked, script, &begin, &source, took).await,
        }
    } else {
        None
    };
    let stage = if !in_script && source.as_db_error().is_none() {
        // It may have committed with its row: the tracking table tells.
        Stage::Commit { down }
    } else if down {
        Stage::Down
    } else {
        Stage::Up
    };
    let failure = MigrationError {
        version: migration.version(),
        name: migration.name(),
        path: script.path(),
        position,
        stage,
        not_recorded: None,
        applied_before: Vec::new(),
        in_flight: Vec::new(),
        source,
    };
    Err(Failed::Script(Box::new(failure)))
}
