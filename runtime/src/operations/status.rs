//! Reading what the database has applied, without the lock: status, health,
//! plan and verify.

use crate::conversation::connection::Connection;
use crate::data::drift::SchemaHealth;
use crate::data::error::Error;
use crate::data::history::{self, Row};
use crate::data::plan::{Plan, RepeatablePlan, Step};
use crate::data::status::{Health, State, Status};
use crate::data::verification::Verification;
use crate::rules::classify::classify;
use crate::rules::repeatables::{ClassifiedRepeatable, applies, classify_repeatables};
use crate::rules::tracking_table::TrackingTable;
use crate::runner::options::Runner;
use crate::steps::interrupted::examine;
use crate::steps::repeatables;
use crate::steps::tracking;

/// The tracking table and its rows (those of versioned migrations, and
/// those of repeatable ones), read without the lock and creating nothing; a
/// missing table reads as an empty history.
async fn read<C: Connection>(
    runner: &Runner,
    conn: &mut C,
) -> Result<(TrackingTable, Vec<Row>, Vec<Row>), Error> {
    let table = tracking::resolve(conn, &runner.table_name()?, None).await?;
    let rows = tracking::read_if_exists(conn, &table).await?;
    let (rows, repeatables) = history::split(rows);
    Ok((table, rows, repeatables))
}

/// Every migration with its state.
pub(crate) async fn status<C: Connection>(runner: &Runner, conn: &mut C) -> Result<Status, Error> {
    let (table, rows, repeatables) = read(runner, conn).await?;
    let mut history = classify(runner.migrations, &rows);
    examine(conn, &mut history).await?;
    let mut entries = history.status_entries();
    elsewhere(runner, &mut entries);
    let repeatables = classify_repeatables(runner.migrations, &repeatables)
        .iter()
        .map(ClassifiedRepeatable::entry)
        .collect();
    Ok(Status::new(
        table.schema().to_owned(),
        table.table().to_owned(),
        entries,
        repeatables,
    ))
}

/// Shows the versions handled elsewhere as such.
fn elsewhere(runner: &Runner, entries: &mut Vec<crate::data::status::Entry>) {
    for &version in runner.migrations.elsewhere() {
        match entries.iter_mut().find(|e| e.version == version) {
            Some(e) => e.state = crate::data::status::State::Elsewhere,
            None => entries.push(crate::data::status::Entry {
                version,
                name: String::new(),
                path: None,
                state: crate::data::status::State::Elsewhere,
                checksum: None,
                has_down: false,
                applied_at: None,
                applied_by: None,
                execution_ms: None,
                error: None,
                note: Some("a migration in code, handled elsewhere".to_owned()),
                stopped: None,
            }),
        }
    }
    entries.sort_by_key(|e| e.version);
}

/// The summary of [`status`], with the state of the schema: from the last
/// check this process made, or checked now when the runner says so. A
/// binary without a schema file reads nothing more.
pub(crate) async fn health<C: Connection>(runner: &Runner, conn: &mut C) -> Result<Health, Error> {
    let mut health = Health::from(&status(runner, conn).await?);
    if runner.migrations.expected_schema().is_some() {
        health.schema = if runner.health_checks_schema {
            SchemaHealth::from(&super::schema::check_schema(runner, conn).await?)
        } else {
            crate::steps::schema::remembered(conn, runner.migrations).await?
        };
    }
    Ok(health)
}

/// What a run would do now, refusing what it would refuse.
pub(crate) async fn plan<C: Connection>(runner: &Runner, conn: &mut C) -> Result<Plan, Error> {
    runner.check_target()?;
    let (table, rows, repeatables) = read(runner, conn).await?;
    let mut history = classify(runner.migrations, &rows);
    examine(conn, &mut history).await?;
    let decision = history.decide(runner.allow, runner.target);
    if !decision.refused.is_empty() {
        return Err(Error::History(crate::data::error::HistoryError {
            table: table.qualified().to_owned(),
            violations: decision.refused,
        }));
    }
    let steps = decision
        .apply
        .into_iter()
        .map(|p| Step {
            migration: p.migration,
            start_at: p.start_at,
            drop_first: p.drop_first,
        })
        .collect();
    let repeatables = if runner.repeatables && applies(runner.migrations, runner.target, &history) {
        repeatables::plan(conn, &table, runner.migrations, &repeatables).await?
    } else {
        RepeatablePlan::default()
    };
    Ok(Plan { steps, repeatables })
}

/// Every way the history disagrees with the binary, whatever a run would
/// allow; pending migrations are not among them.
pub(crate) async fn verify<C: Connection>(
    runner: &Runner,
    conn: &mut C,
) -> Result<Verification, Error> {
    let (table, rows, repeatables) = read(runner, conn).await?;
    let mut history = classify(runner.migrations, &rows);
    examine(conn, &mut history).await?;
    let problems = history.violations();
    let repeatables = classify_repeatables(runner.migrations, &repeatables)
        .iter()
        .filter(|c| c.needs_work())
        .map(ClassifiedRepeatable::entry)
        .collect();
    Ok(Verification {
        schema: table.schema().to_owned(),
        table: table.table().to_owned(),
        current_version: history.highest_applied,
        ok: problems.is_empty(),
        problems,
        pending: history
            .entries
            .iter()
            .filter(|e| e.state == State::Pending)
            .map(|e| e.version)
            .collect(),
        repeatables,
    })
}
