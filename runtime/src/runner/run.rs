//! A run: what a program does at start to bring its database up to date.

use crate::conversation::connection::Connection;
use crate::data::drift::AfterRun;
use crate::data::error::{Error, HistoryError, Stage};
use crate::data::history::{self, Row};
use crate::data::registry::Migration;
use crate::data::report::{Applied, Report, TargetBelow};
use crate::rules::batches::{Batch, MESSAGE_BOUND, batches};
use crate::rules::classify::{Allow, Pending, classify};
use crate::rules::repeatables::applies;
use crate::rules::timeouts::Timeouts;
use crate::rules::tracking_table::TrackingTable;
use crate::runner::held::Held;
use crate::runner::options::Runner;
use crate::steps::apply::apply;
use crate::steps::batch::apply_batch;
use crate::steps::interrupted::examine;
use crate::steps::lock::Locked;
use crate::steps::quick_check::{Found, quick_check};
use crate::steps::repeatables::{MadeWay, has_work, make_way, update};
use crate::steps::schema;
use crate::steps::tracking;
use std::collections::VecDeque;
use std::time::Duration;

/// Applies every pending migration, each in its own transaction with its
/// tracking row, in version order, and stops at the first failure; with
/// `allow.resume`, continues dirty ones where they stopped.
pub(crate) async fn run<C: Connection>(
    runner: &Runner,
    conn: &mut C,
    allow: Allow,
) -> Result<Report, Error> {
    let name = runner.table_name()?;
    let timeouts = runner.timeouts()?;
    runner.check_target()?;

    // One query, no lock, when there is nothing to do. An operator's
    // resume always takes the lock, so that it makes what is missing of
    // the tracking table's digest objects.
    let current_schema = if allow.resume {
        None
    } else {
        match quick_check(conn, &name, runner.migrations).await? {
            Found::UpToDate => {
                let report = up_to_date(runner);
                if !checks_after_run(runner) {
                    return Ok(report);
                }
                let table = tracking::resolve(conn, &name, None).await?;
                return after_run(runner, conn, &table, report).await;
            }
            Found::Unknown { current_schema } => current_schema,
        }
    };

    // The lock; the tracking table made sure of; the history read.
    let table = tracking::resolve(conn, &name, current_schema).await?;
    let mut held = Held::take(conn, table, runner.lock_wait_timeout).await?;

    let outcome = async {
        // Each migration's state, what the catalog shows of a statement a
        // no-transaction migration stopped at, and what a run does about it.
        let mut history = classify(runner.migrations, &held.rows);
        examine(held.locked.conn(), &mut history).await?;
        let decision = history.decide(allow, runner.target);
        for allowed in &decision.allowed {
            tracing::warn!(version = allowed.version(), "going on although {allowed}");
        }
        for version in &decision.resumed_changed {
            tracing::warn!(
                version,
                "migration {version} changed since it stopped; resuming it with the file as it is now"
            );
        }
        if !decision.refused.is_empty() {
            return Err(Error::History(HistoryError {
                table: held.locked.table().qualified().to_owned(),
                violations: decision.refused,
            }));
        }
        let repeatables = runner.repeatables && applies(runner.migrations, runner.target, &history);
        let mut report = Report::default();
        // Repeatables a versioned migration dropped, whose files did not
        // change, are created again before anything else.
        let mut rows_changed = false;
        if repeatables && has_work(runner.migrations, &held.repeatables, true) {
            report.repeatables = update(
                &mut held.locked,
                runner.migrations,
                &held.repeatables,
                timeouts,
                true,
            )
            .await?;
            rows_changed = true;
        }
        let made_way = apply_all(
            &mut held.locked,
            decision.apply,
            timeouts,
            &held.repeatables,
            &mut report,
        )
        .await?;
        if repeatables {
            let rows = if rows_changed || made_way {
                let table = held.locked.table().clone();
                history::split(tracking::read(held.locked.conn(), &table).await?).1
            } else {
                std::mem::take(&mut held.repeatables)
            };
            let updated = update(&mut held.locked, runner.migrations, &rows, timeouts, false).await;
            match updated {
                Ok(updated) => report.repeatables.extend(updated),
                Err(Error::Migration(mut failure)) => {
                    failure.applied_before = std::mem::take(&mut report.applied);
                    return Err(Error::Migration(failure));
                }
                Err(e) => return Err(e),
            }
        }
        report.target_below = target_below(runner, history.highest_applied, &report);
        Ok(report)
    }
    .await;

    // The digest written, if all went well, and the lock released.
    let tracking = held.locked.table().clone();
    let report = held.finish(outcome).await?;
    after_run(runner, conn, &tracking, report).await
}

/// Whether the runner asks for a schema check after a run that ends well
/// at the binary's newest migration.
fn checks_after_run(runner: &Runner) -> bool {
    let newest = runner.migrations.newest().map(|m| m.version());
    runner.after_run != AfterRun::Off && runner.target.is_none_or(|t| Some(t) == newest)
}

/// After a run that ended well at the binary's newest migration, the
/// schema check the runner asks for, if any.
async fn after_run<C: Connection>(
    runner: &Runner,
    conn: &mut C,
    tracking: &TrackingTable,
    report: Report,
) -> Result<Report, Error> {
    if !checks_after_run(runner) {
        return Ok(report);
    }
    let Some(expected) = schema::expected(runner.migrations)? else {
        return Ok(report);
    };
    let check = schema::compare(
        conn,
        runner.migrations,
        runner.records_schema_checks,
        &expected,
        tracking,
    )
    .await?;
    if check.is_ok() {
        return Ok(report);
    }
    match runner.after_run {
        AfterRun::Fail => Err(Error::SchemaDrift(Box::new(check))),
        _ => {
            for difference in check.differences() {
                tracing::warn!(file = check.file(), "schema drift: {difference}");
            }
            Ok(report)
        }
    }
}

/// Applies `pending` in order, consecutive transactional migrations in one
/// message each batch, into `report`, stopping at the first failure; the
/// error names what the run applied before it. A migration that fails
/// because objects of the repeatable set (`repeatable_rows`) depend on what
/// it changes is applied again with them dropped first; returns whether
/// that happened.
async fn apply_all<C: Connection>(
    locked: &mut Locked<'_, C>,
    pending: Vec<Pending>,
    timeouts: Timeouts,
    repeatable_rows: &[Row],
    report: &mut Report,
) -> Result<bool, Error> {
    let mut made_way = false;
    let mut queue: VecDeque<Batch> = batches(pending, MESSAGE_BOUND).into();
    while let Some(batch) = queue.pop_front() {
        let failure = match batch {
            Batch::Transactional(group) => {
                let migrations: Vec<Migration> = group.iter().map(|p| p.migration).collect();
                let batched = apply_batch(locked, &migrations, timeouts).await;
                for (migration, duration) in batched.applied {
                    applied(report, migration, duration);
                }
                match batched.failure {
                    Some(Error::Migration(failure)) => {
                        let failed = group
                            .iter()
                            .position(|p| p.migration.version() == failure.version);
                        let retried = match failed {
                            Some(at) if failure.stage == Stage::Up => {
                                let migration = group[at].migration;
                                match make_way(
                                    locked,
                                    migration,
                                    &failure,
                                    repeatable_rows,
                                    timeouts,
                                )
                                .await
                                {
                                    Ok(MadeWay::Applied(duration)) => {
                                        made_way = true;
                                        applied(report, migration, duration);
                                        let rest: Vec<Pending> =
                                            group.into_iter().skip(at + 1).collect();
                                        if !rest.is_empty() {
                                            queue.push_front(Batch::Transactional(rest));
                                        }
                                        true
                                    }
                                    Ok(MadeWay::NotInTheWay) => false,
                                    Err(e) => {
                                        return Err(with_applied(e, report));
                                    }
                                }
                            }
                            _ => false,
                        };
                        if retried {
                            None
                        } else {
                            Some(Error::Migration(failure))
                        }
                    }
                    other => other,
                }
            }
            Batch::Statements(step) => match apply(locked, &step, timeouts).await {
                Ok(duration) => {
                    applied(report, step.migration, duration);
                    None
                }
                Err(e) => Some(e),
            },
        };
        if let Some(failure) = failure {
            return Err(with_applied(failure, report));
        }
    }
    Ok(made_way)
}

/// `error`, naming the migrations the run applied before it when it is a
/// migration's failure.
fn with_applied(error: Error, report: &mut Report) -> Error {
    match error {
        Error::Migration(mut failure) => {
            failure.applied_before = std::mem::take(&mut report.applied);
            Error::Migration(failure)
        }
        other => other,
    }
}

/// Adds `migration`, applied in `duration`, to the report, and says so.
fn applied(report: &mut Report, migration: Migration, duration: Duration) {
    tracing::info!(
        version = migration.version(),
        name = migration.name(),
        path = migration.up().path(),
        duration_ms = duration.as_millis(),
        "applied migration"
    );
    report.applied.push(Applied {
        version: migration.version(),
        name: migration.name(),
        path: migration.up().path(),
        duration,
    });
}

/// The report of a run that found nothing to do.
pub(crate) fn up_to_date(runner: &Runner) -> Report {
    tracing::debug!("the database is up to date");
    let newest = runner.migrations.newest().map(|m| m.version());
    Report {
        target_below: target_below(runner, newest, &Report::default()),
        ..Report::default()
    }
}

/// When a run with a target applied nothing because the database is past
/// the target already, the two versions.
fn target_below(runner: &Runner, current: Option<i64>, report: &Report) -> Option<TargetBelow> {
    match (runner.target, current) {
        (Some(target), Some(current)) if report.is_empty() && target < current => {
            Some(TargetBelow { target, current })
        }
        _ => None,
    }
}
