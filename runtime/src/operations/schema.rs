//! The schema check: whether the database's schema is the one the schema
//! file says the migrations build.

use crate::conversation::connection::Connection;
use crate::data::drift::{SchemaCheck, SchemaOutcome};
use crate::data::error::Error;
use crate::data::history;
use crate::rules::classify::classify;
use crate::runner::options::Runner;
use crate::steps::{schema, tracking};

/// Compares the database's schema with the schema file the binary carries,
/// if the database is at the binary's newest version; says why it compared
/// nothing otherwise. Reads only, but for the record of a check that found
/// the schema as the file says.
pub(crate) async fn check_schema<C: Connection>(
    runner: &Runner,
    conn: &mut C,
) -> Result<SchemaCheck, Error> {
    let migrations = runner.migrations;
    let not_compared = |outcome| SchemaCheck {
        file: migrations.schema_path(),
        schema: None,
        outcome,
    };
    let Some(expected) = schema::expected(migrations)? else {
        return Ok(not_compared(SchemaOutcome::NoSchemaFile));
    };
    let table = tracking::resolve(conn, &runner.table_name()?, None).await?;
    // The versioned migrations' rows; the repeatable ones' are not versions.
    let (rows, _) = history::split(tracking::read_if_exists(conn, &table).await?);
    let history = classify(migrations, &rows);
    if !history.at_newest() {
        return Ok(SchemaCheck {
            schema: Some(table.schema().to_owned()),
            ..not_compared(SchemaOutcome::NotAtNewestVersion {
                current: history.highest_applied,
                newest: migrations.newest().map(|m| m.version()),
            })
        });
    }
    schema::compare(
        conn,
        runner.migrations,
        runner.records_schema_checks,
        &expected,
        &table,
    )
    .await
}
