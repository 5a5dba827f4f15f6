//! Mending the tracking table by hand, for an operator who has looked at
//! the database: each call takes the lock, checks that what it records is
//! true of the history, and says why when it refuses.

use crate::conversation::connection::Connection;
use crate::data::error::{Error, Refusal};
use crate::data::history::Record;
use crate::data::registry::Migration;
use crate::data::status::State;
use crate::rules::classify::classify;
use crate::runner::held::Held;
use crate::runner::options::Runner;
use crate::steps::tracking;

/// Takes the lock for an operator's call that may write the first rows of
/// a history.
async fn hold<'c, C: Connection>(runner: &Runner, conn: &'c mut C) -> Result<Held<'c, C>, Error> {
    let table = tracking::resolve(conn, &runner.table_name()?, None).await?;
    Held::take(conn, table, runner.lock_wait_timeout).await
}

/// Takes the lock for an operator's call that changes only rows there
/// are: it creates no tracking table.
async fn hold_existing<'c, C: Connection>(
    runner: &Runner,
    conn: &'c mut C,
) -> Result<Held<'c, C>, Error> {
    let table = tracking::resolve(conn, &runner.table_name()?, None).await?;
    Held::take_existing(conn, table, runner.lock_wait_timeout).await
}

/// The binary's migration `version`, or a refusal.
fn known(runner: &Runner, version: i64) -> Result<Migration, Error> {
    runner
        .migrations
        .get(version)
        .ok_or(Error::Refused(Refusal::UnknownVersion { version }))
}

/// The row of a migration recorded as applied without running it.
fn applied(migration: Migration, note: &str) -> Record<'_> {
    let total = (!migration.up().is_transactional()).then(|| migration.up().statements().len());
    Record {
        version: migration.version(),
        name: migration.name(),
        checksum: migration.up().checksum(),
        execution_ms: Some(0),
        success: true,
        error: None,
        progress: total.map(|n| (n, n)),
        note: Some(note),
    }
}

/// Records migration `version` as applied without running it; `false` if
/// it already was, as the binary has it.
pub(crate) async fn mark_applied<C: Connection>(
    runner: &Runner,
    conn: &mut C,
    version: i64,
) -> Result<bool, Error> {
    let migration = known(runner, version)?;
    let mut held = hold(runner, conn).await?;
    let outcome = async {
        let history = classify(runner.migrations, &held.rows);
        match history.get(version).map(|e| &e.state) {
            Some(State::Applied) => return Ok(false),
            Some(State::Divergent { recorded_checksum }) => {
                return Err(Error::Refused(Refusal::OtherChecksum {
                    version,
                    recorded: recorded_checksum.clone(),
                    binary: migration.up().checksum(),
                }));
            }
            _ => {}
        }
        tracking::write_all(
            &mut held.locked,
            &[applied(migration, "marked applied by hand")],
        )
        .await?;
        tracing::info!(
            version,
            path = migration.up().path(),
            "marked migration applied without running it"
        );
        Ok(true)
    }
    .await;
    held.finish(outcome).await
}

/// Removes the record of a failed or dirty migration.
pub(crate) async fn forget<C: Connection>(
    runner: &Runner,
    conn: &mut C,
    version: i64,
) -> Result<(), Error> {
    let mut held = hold_existing(runner, conn).await?;
    let outcome = async {
        let history = classify(runner.migrations, &held.rows);
        match history.get(version) {
            Some(e) if e.row.is_none() => Err(Error::Refused(Refusal::NotRecorded { version })),
            None => Err(Error::Refused(Refusal::NotRecorded { version })),
            Some(e) if e.state.is_applied() => Err(Error::Refused(Refusal::Applied {
                version,
                transactional: e.migration.is_some_and(|m| m.up().is_transactional()),
            })),
            Some(_) => {
                tracking::delete(&mut held.locked, &[version]).await?;
                tracing::info!(version, "forgot the record of a failed migration");
                Ok(())
            }
        }
    }
    .await;
    held.finish(outcome).await
}

/// Removes the records of failed transactional migrations; returns their
/// versions.
pub(crate) async fn repair<C: Connection>(
    runner: &Runner,
    conn: &mut C,
) -> Result<Vec<i64>, Error> {
    let mut held = hold_existing(runner, conn).await?;
    let outcome = async {
        let failed: Vec<i64> = held
            .rows
            .iter()
            .filter(|r| !r.success && !r.is_dirty())
            .map(|r| r.version)
            .collect();
        if !failed.is_empty() {
            tracking::delete(&mut held.locked, &failed).await?;
            tracing::info!(versions = ?failed, "removed the records of failed migrations");
        }
        Ok(failed)
    }
    .await;
    held.finish(outcome).await
}

/// Records the binary's checksum of applied migration `version`; `false`
/// if they already agree.
pub(crate) async fn accept_checksum<C: Connection>(
    runner: &Runner,
    conn: &mut C,
    version: i64,
) -> Result<bool, Error> {
    let migration = known(runner, version)?;
    let mut held = hold_existing(runner, conn).await?;
    let outcome = async {
        let history = classify(runner.migrations, &held.rows);
        let recorded = match history.get(version).map(|e| &e.state) {
            Some(State::Applied) => return Ok(false),
            Some(State::Divergent { recorded_checksum }) => recorded_checksum.clone(),
            _ => return Err(Error::Refused(Refusal::NotApplied { version })),
        };
        let note = format!("checksum accepted: was {recorded}");
        tracking::accept_checksum(&mut held.locked, version, migration.up().checksum(), &note)
            .await?;
        tracing::warn!(
            version,
            old = %recorded,
            new = migration.up().checksum(),
            "accepted the edited checksum of migration {version}"
        );
        Ok(true)
    }
    .await;
    held.finish(outcome).await
}

/// Records every migration up to and including `version` as applied
/// without running it; returns the versions recorded.
pub(crate) async fn baseline<C: Connection>(
    runner: &Runner,
    conn: &mut C,
    version: i64,
) -> Result<Vec<i64>, Error> {
    let upto: Vec<Migration> = runner
        .migrations
        .iter()
        .filter(|m| m.version() <= version)
        .collect();
    if upto.is_empty() {
        return Err(Error::Refused(Refusal::NothingToBaseline { version }));
    }
    let mut held = hold(runner, conn).await?;
    let outcome = async {
        let history = classify(runner.migrations, &held.rows);
        let contradictions: Vec<i64> = history
            .entries
            .iter()
            .filter(|e| e.row.is_some() && (e.version > version || e.state != State::Applied))
            .map(|e| e.version)
            .collect();
        if !contradictions.is_empty() {
            return Err(Error::Refused(Refusal::BaselineContradicted {
                version,
                recorded: contradictions,
            }));
        }
        let records: Vec<Record<'_>> = upto
            .iter()
            .filter(|m| history.get(m.version()).is_some_and(|e| e.row.is_none()))
            .map(|m| applied(*m, "baseline"))
            .collect();
        if !records.is_empty() {
            tracking::write_all(&mut held.locked, &records).await?;
        }
        let versions: Vec<i64> = records.iter().map(|r| r.version).collect();
        tracing::info!(
            ?versions,
            "baselined migrations up to {version} without running them"
        );
        Ok(versions)
    }
    .await;
    held.finish(outcome).await
}

/// Makes the tracking table and its digest objects, under the lock, as a
/// run would before applying anything.
#[cfg(feature = "testing")]
pub(crate) async fn prepare<C: Connection>(runner: &Runner, conn: &mut C) -> Result<(), Error> {
    let held = hold(runner, conn).await?;
    held.finish(Ok(())).await
}
