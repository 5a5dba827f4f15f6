//! Running an applied migration again, for a database that lost what it
//! made (restored without it, dropped by hand): only when the schema check
//! finds something that migration makes missing, in one transaction with
//! its row, which stays a success whatever happens. The repeatable files
//! whose objects are all gone with it are created again after it, as at the
//! end of a run.

use crate::conversation::connection::Connection;
use crate::conversation::sql;
use crate::data::drift::Change;
use crate::data::error::{Error, ReapplyReason, Refusal, Stage};
use crate::data::history;
use crate::data::report::{Applied, Report};
use crate::data::status::State;
use crate::rules::classify::classify;
use crate::runner::held::Held;
use crate::runner::options::Runner;
use crate::steps::transaction::{Failed, run_in_transaction};
use crate::steps::{repeatables, schema, tracking};

/// What the row of a migration run again says.
const NOTE: &str = "applied again: objects it makes were missing";

/// Runs applied migration `version` again and records it, refusing,
/// changing nothing, unless the schema check finds an object it makes
/// missing.
pub(crate) async fn reapply<C: Connection>(
    runner: &Runner,
    conn: &mut C,
    version: i64,
) -> Result<Report, Error> {
    let refuse = |reason| Error::Refused(Refusal::Reapply { version, reason });
    let migration = runner
        .migrations
        .get(version)
        .ok_or(Error::Refused(Refusal::UnknownVersion { version }))?;
    let up = migration.up();
    if !up.is_transactional() {
        return Err(refuse(ReapplyReason::NoTransaction));
    }
    let expected =
        schema::expected(runner.migrations)?.ok_or_else(|| refuse(ReapplyReason::NoSchemaFile))?;
    let set_timeouts = runner.timeouts()?;
    let timeouts = set_timeouts.for_script(up);
    let table = tracking::resolve(conn, &runner.table_name()?, None).await?;
    let mut held = Held::take_existing(conn, table, runner.lock_wait_timeout).await?;
    let outcome = async {
        let history = classify(runner.migrations, &held.rows);
        match history.get(version).map(|e| &e.state) {
            Some(State::Applied) => {}
            Some(State::Divergent { recorded_checksum }) => {
                return Err(Error::Refused(Refusal::OtherChecksum {
                    version,
                    recorded: recorded_checksum.clone(),
                    binary: up.checksum(),
                }));
            }
            _ => return Err(refuse(ReapplyReason::NotApplied)),
        }
        if !history.at_newest() {
            return Err(refuse(ReapplyReason::NotAtNewestVersion));
        }
        let tracking = held.locked.table().clone();
        let check = schema::compare(
            held.locked.conn(),
            runner.migrations,
            runner.records_schema_checks,
            &expected,
            &tracking,
        )
        .await?;
        let makes_missing = check.differences().iter().any(|d| {
            d.change() == &Change::Missing && d.made_by().is_some_and(|(v, _)| v == version)
        });
        if !makes_missing {
            return Err(refuse(ReapplyReason::NothingMissing));
        }
        let table = held.locked.table().clone();
        let finish = |_| {
            format!(
                "{};\n{};\n{}",
                sql::record_reapplied(&table, version, NOTE),
                sql::mark_gone_absent(&table, version),
                sql::COMMIT
            )
        };
        let duration =
            match run_in_transaction(&mut held.locked, migration, up, timeouts, false, "", finish)
                .await
            {
                Ok(duration) => duration,
                Err(Failed::Script(mut failure)) => {
                    if failure.stage == Stage::Up {
                        failure.stage = Stage::Reapply;
                    }
                    return Err(Error::Migration(failure));
                }
                Err(Failed::LockLost) => {
                    return Err(Error::LockLost {
                        table: table.qualified().to_owned(),
                        migration: Some((version, up.path())),
                    });
                }
            };
        tracing::info!(
            version,
            path = up.path(),
            duration_ms = duration.as_millis(),
            "applied migration again: objects it makes were missing"
        );
        // Repeatable files whose objects are all gone are created again,
        // as at the end of a run.
        let rows = tracking::read(held.locked.conn(), &table).await?;
        let (_, repeatable_rows) = history::split(rows);
        let repeatables = repeatables::update(
            &mut held.locked,
            runner.migrations,
            &repeatable_rows,
            set_timeouts,
            true,
        )
        .await?;
        // What health reports from the last check is now out of date.
        if let Err(e) = schema::compare(
            held.locked.conn(),
            runner.migrations,
            runner.records_schema_checks,
            &expected,
            &tracking,
        )
        .await
        {
            tracing::debug!(error = %e, "could not check the schema again");
        }
        Ok(Report {
            applied: vec![Applied {
                version,
                name: migration.name(),
                path: up.path(),
                duration,
            }],
            repeatables,
            ..Report::default()
        })
    }
    .await;
    held.finish(outcome).await
}
