//! Rolling back: running the down scripts of the migrations applied after a
//! version, newest first, each in its own transaction with the removal of
//! its tracking row.

use crate::conversation::connection::Connection;
use crate::conversation::sql;
use crate::data::error::{Error, Refusal, RollbackProblem, RollbackReason};
use crate::data::registry::Migration;
use crate::data::report::{Applied, Report};
use crate::data::status::State;
use crate::rules::classify::classify;
use crate::runner::held::Held;
use crate::runner::options::Runner;
use crate::steps::repeatables::under_repeatables;
use crate::steps::tracking;
use crate::steps::transaction::{Failed, run_in_transaction};

/// Undoes every migration applied after `to` (every one, with `None`),
/// newest first, refusing up front, changing nothing, if any of them
/// cannot be undone.
pub(crate) async fn rollback<C: Connection>(
    runner: &Runner,
    conn: &mut C,
    to: Option<i64>,
) -> Result<Report, Error> {
    let timeouts = runner.timeouts()?;
    let table = tracking::resolve(conn, &runner.table_name()?, None).await?;
    let mut held = Held::take_existing(conn, table, runner.lock_wait_timeout).await?;
    let outcome = async {
        let history = classify(runner.migrations, &held.rows);
        let mut problems = Vec::new();
        let mut undo: Vec<Migration> = Vec::new();
        let above = |version: i64| to.is_none_or(|to| version > to);
        for e in history
            .entries
            .iter()
            .rev()
            .filter(|e| e.row.is_some() && above(e.version))
        {
            let reason = match (&e.state, e.migration) {
                (_, None) => Some(RollbackReason::Unknown),
                (State::Divergent { .. }, _) if !runner.allow.divergent => {
                    Some(RollbackReason::Divergent)
                }
                (state, _) if !state.is_applied() => Some(RollbackReason::FailedOrDirty),
                (_, Some(m)) if m.down().is_none() => Some(RollbackReason::NoDownScript),
                (_, Some(m)) if m.down().is_some_and(|d| !d.is_transactional()) => {
                    Some(RollbackReason::NoTransactionDown)
                }
                _ => None,
            };
            match (reason, e.migration) {
                (Some(reason), m) => problems.push(RollbackProblem {
                    version: e.version,
                    path: m.map(|m| m.up().path()),
                    reason,
                }),
                (None, Some(m)) => undo.push(m),
                (None, None) => {}
            }
        }
        if !problems.is_empty() {
            return Err(Error::Refused(Refusal::Rollback { to, problems }));
        }
        // What a repeatable migration's object depends on stays.
        if let Some(refusal) = under_repeatables(&mut held.locked, &undo, &held.repeatables).await?
        {
            return Err(Error::Refused(refusal));
        }
        let mut report = Report {
            rolled_back_to: Some(to),
            ..Report::default()
        };
        for m in undo {
            let Some(down) = m.down() else { continue };
            let table = held.locked.table().clone();
            let finish = |_| {
                format!(
                    "{}; {}",
                    sql::delete_records(&table, &[m.version()]),
                    sql::COMMIT
                )
            };
            let timeouts = timeouts.for_script(down);
            let duration =
                match run_in_transaction(&mut held.locked, m, down, timeouts, true, "", finish)
                    .await
                {
                    Ok(duration) => duration,
                    Err(Failed::Script(failure)) => return Err(Error::Migration(failure)),
                    Err(Failed::LockLost) => {
                        return Err(Error::LockLost {
                            table: table.qualified().to_owned(),
                            migration: Some((m.version(), down.path())),
                        });
                    }
                };
            tracing::info!(
                version = m.version(),
                path = down.path(),
                duration_ms = duration.as_millis(),
                "rolled back migration"
            );
            report.undone.push(Applied {
                version: m.version(),
                name: m.name(),
                path: down.path(),
                duration,
            });
        }
        Ok(report)
    }
    .await;
    held.finish(outcome).await
}
