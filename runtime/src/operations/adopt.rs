//! Adopting another tool's history: its tracking table read with its own
//! columns and meaning, each version it applied mapped onto the binary's
//! migration and checked the tool's way, and recorded as applied with the
//! tool's applied time and duration, under the lock, in one transaction.
//! The tool's table is left as it is.

use crate::conversation::connection::{Connection, execute};
use crate::conversation::reply::{self, ToolRow};
use crate::conversation::sql::{self, AdoptedRecord};
use crate::data::adoption::{Adopt, Adopted, Adoption, Outcome};
use crate::data::error::{Error, Refusal};
use crate::data::history::Row;
use crate::data::registry::Migrations;
use crate::rules::table_name::TableName;
use crate::runner::held::Held;
use crate::runner::options::Runner;
use crate::steps::tracking;
use std::collections::BTreeSet;
use stowage_core::tools::Layout;

/// Adopts the history of `from.tool`.
pub(crate) async fn adopt<C: Connection>(
    runner: &Runner,
    conn: &mut C,
    from: &Adopt,
) -> Result<Adoption, Error> {
    let tool = match Layout::parse(&from.tool) {
        Some(Layout::Stowage) | None => {
            return Err(refused(
                &from.tool,
                "",
                vec![format!(
                    "`{}` is not a tool stowage adopts from: the tools are `sqlx`, `diesel`, `refinery`, \
                     `goose`, `golang-migrate`, `dbmate` and `flyway`",
                    from.tool
                )],
            ));
        }
        Some(tool) => tool,
    };
    let tool_table = TableName::parse(
        from.table
            .as_deref()
            .or(tool.tracking_table())
            .unwrap_or_default(),
    )?;
    let shown = sql::qualified(&tool_table);
    if from.dry_run {
        // Reads only: takes no lock and creates nothing.
        let table = tracking::resolve(conn, &runner.table_name()?, None).await?;
        let recorded = tracking::read_if_exists(conn, &table).await?;
        execute(conn, "BEGIN READ ONLY")
            .await
            .map_err(Error::database("starting to read the tool's table"))?;
        let read = read_tool(conn, tool, &tool_table, &shown).await;
        let _ = execute(conn, sql::ROLLBACK).await;
        let (rows, zone) = read?;
        let mapped = map(runner.migrations, tool, &rows, &recorded, from, &shown)?;
        return Ok(mapped.adoption(tool, shown, zone, true));
    }
    let table = tracking::resolve(conn, &runner.table_name()?, None).await?;
    let mut held = Held::take_existing(conn, table, runner.lock_wait_timeout).await?;
    let outcome = async {
        if !held.exists() {
            // Refused before anything is created: the mapping of a history
            // onto an empty table decides it.
            let (rows, _) = read_tool(held.locked.conn(), tool, &tool_table, &shown).await?;
            map(runner.migrations, tool, &rows, &[], from, &shown)?;
            held.make_table().await?;
        }
        execute(held.locked.conn(), "BEGIN")
            .await
            .map_err(Error::database("starting the adoption's transaction"))?;
        held.locked.set_in_transaction(true);
        let done = async {
            let (rows, zone) = read_tool(held.locked.conn(), tool, &tool_table, &shown).await?;
            let mapped = map(runner.migrations, tool, &rows, &held.rows, from, &shown)?;
            let adoption = mapped.adoption(tool, shown.clone(), zone, false);
            let records: Vec<AdoptedRecord<'_>> = mapped
                .records
                .iter()
                .map(|(m, applied_at, ms)| AdoptedRecord {
                    version: m.version(),
                    name: m.name(),
                    checksum: m.up().checksum(),
                    applied_at: applied_at.clone(),
                    execution_ms: *ms,
                    statements: (!m.up().is_transactional()).then(|| m.up().statements().len()),
                    note: &adoption.note,
                })
                .collect();
            let table = held.locked.table().clone();
            let mut query = sql::write_adopted(&table, &records);
            query.push_str(sql::COMMIT);
            execute(held.locked.conn(), &query).await.map_err(|e| {
                tracking::lock_lost_or(&table, None, "recording the adopted history", e)
            })?;
            Ok(adoption)
        }
        .await;
        match done {
            Ok(adoption) => {
                held.locked.set_in_transaction(false);
                tracing::info!(
                    tool = tool.name(),
                    versions = ?adoption.adopted(),
                    "adopted the history of another tool"
                );
                Ok(adoption)
            }
            Err(e) => {
                held.locked.roll_back().await;
                Err(e)
            }
        }
    }
    .await;
    held.finish(outcome).await
}

fn refused(tool: &str, table: &str, problems: Vec<String>) -> Error {
    Error::Refused(Refusal::Adopt {
        tool: tool.to_owned(),
        table: table.to_owned(),
        problems,
    })
}

/// Checks the tool's table has the tool's columns, and reads it.
async fn read_tool<C: Connection>(
    conn: &mut C,
    tool: Layout,
    name: &TableName,
    shown: &str,
) -> Result<(Vec<ToolRow>, Option<String>), Error> {
    let (columns, zone) = conn
        .simple_query(&sql::tool_table_columns(name))
        .await
        .map(|m| reply::table_columns(&m))
        .map_err(Error::database("looking for the tool's table"))?;
    if columns.is_empty() {
        return Err(refused(
            tool.name(),
            shown,
            vec![format!(
                "there is no table {shown}: name the table {} kept its history in with `--table` \
                 (`Adopt::table`), schema-qualified if it is not on the search path",
                tool.name()
            )],
        ));
    }
    let missing: Vec<&str> = sql::tool_columns(tool)
        .iter()
        .copied()
        .filter(|c| !columns.iter().any(|have| have == c))
        .collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "{shown} is not {}'s table: it lacks the column(s) {} (it has {})",
            tool.name(),
            missing.join(", "),
            columns.join(", ")
        ));
    }
    if tool == Layout::Dbmate && columns.iter().any(|c| c == "dirty") {
        problems.push(format!(
            "{shown} has a `dirty` column, as golang-migrate's table does (both are named schema_migrations), \
             and dbmate's has `version` alone: adopt it `--from golang-migrate`"
        ));
    }
    if !problems.is_empty() {
        if tool == Layout::GolangMigrate && columns.iter().all(|c| c == "version") {
            problems.push(
                "a schema_migrations table with `version` alone is dbmate's: adopt it `--from dbmate`".to_owned(),
            );
        }
        return Err(refused(tool.name(), shown, problems));
    }
    let rows = conn
        .simple_query(&sql::read_tool_table(tool, name))
        .await
        .map(|m| reply::tool_rows(&m))
        .map_err(Error::database("reading the tool's table"))?;
    Ok((rows, zone))
}

/// The tool's history mapped onto the binary.
struct Mapped {
    entries: Vec<Adopted>,
    /// The migrations to record, with the applied time and milliseconds.
    records: Vec<(crate::data::registry::Migration, Option<String>, i64)>,
}

impl Mapped {
    fn adoption(
        &self,
        tool: Layout,
        table: String,
        zone: Option<String>,
        dry_run: bool,
    ) -> Adoption {
        let when = match tool {
            Layout::Diesel | Layout::Goose | Layout::Flyway => format!(
                "; its applied time, which {} keeps without a time zone, was read in the server's TimeZone ({})",
                tool.name(),
                zone.as_deref().unwrap_or("unknown")
            ),
            Layout::GolangMigrate | Layout::Dbmate => format!(
                "; {} keeps no applied time, so the adoption's is recorded",
                tool.name()
            ),
            _ => String::new(),
        };
        Adoption {
            tool: tool.name(),
            note: format!("adopted from {} ({table}){when}", tool.name()),
            table,
            dry_run,
            entries: self.entries.clone(),
        }
    }
}

/// stowage's version of the tool's `recorded`.
fn version_of(tool: Layout, recorded: &str) -> Option<i64> {
    let recorded = recorded.trim();
    let digits = match tool {
        Layout::Diesel => recorded.replace('-', ""),
        _ => recorded.to_owned(),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Maps every row; refuses, listing every problem, where the history
/// cannot be adopted as it is.
fn map(
    migrations: Migrations,
    tool: Layout,
    rows: &[ToolRow],
    recorded: &[Row],
    from: &Adopt,
    shown: &str,
) -> Result<Mapped, Error> {
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    let mut records = Vec::new();
    let already: BTreeSet<i64> = recorded.iter().map(|r| r.version).collect();
    let mut seen = BTreeSet::new();
    // golang-migrate keeps the current version alone: every migration up to
    // it is applied.
    let rows: Vec<ToolRow> = if tool == Layout::GolangMigrate {
        expand_current(migrations, rows)
    } else {
        rows.to_vec()
    };
    for row in &rows {
        let recorded_as = row
            .version
            .clone()
            .unwrap_or_else(|| format!("(repeatable) {}", row.name.as_deref().unwrap_or_default()));
        if tool == Layout::Flyway {
            match row.kind.as_deref() {
                Some("SQL" | "JDBC" | "SCRIPT" | "SPRING_JDBC" | "BASELINE" | "SQL_BASELINE") => {}
                Some("SCHEMA") => continue,
                Some(other) => {
                    problems.push(format!(
                        "Flyway's row for {recorded_as} is of type {other}, which stowage cannot adopt"
                    ));
                    continue;
                }
                None => {}
            }
        }
        let version = row.version.as_deref().and_then(|v| version_of(tool, v));
        let migration = version.and_then(|v| migrations.get(v));
        let entry = |outcome| Adopted {
            recorded_as: recorded_as.clone(),
            version,
            path: migration.map(|m| m.up().path()),
            applied_at: row
                .applied_at
                .as_deref()
                .and_then(|t| humantime::parse_rfc3339_weak(t).ok()),
            execution_ms: row.execution_ms,
            outcome,
        };
        if row.failed {
            problems.push(match tool {
                Layout::GolangMigrate => format!(
                    "golang-migrate's history is dirty at version {recorded_as}: that migration failed part \
                     way; mend the database and golang-migrate's table first (`migrate force`)"
                ),
                _ => format!(
                    "{}'s history records version {recorded_as} as failed; mend it with {} first",
                    tool.name(),
                    tool.name()
                ),
            });
            continue;
        }
        if !row.applied {
            entries.push(entry(Outcome::NotApplied));
            continue;
        }
        let Some(version) = version else {
            if from.allow_unknown {
                entries.push(entry(Outcome::Unknown));
            } else {
                problems.push(format!(
                    "{}'s version {recorded_as} does not map onto one of stowage's integer versions (allow \
                     unknown versions to skip it)",
                    tool.name()
                ));
            }
            continue;
        };
        if !seen.insert(version) {
            problems.push(format!(
                "{}'s history records {recorded_as} twice as stowage reads its versions",
                tool.name()
            ));
            continue;
        }
        if migrations.elsewhere().contains(&version) {
            entries.push(entry(Outcome::Elsewhere));
            continue;
        }
        let Some(migration) = migration else {
            if from.allow_unknown {
                entries.push(entry(Outcome::Unknown));
            } else {
                problems.push(format!(
                    "{} applied version {recorded_as}, which this binary does not have (allow unknown \
                     versions to adopt the rest, or add the migration to the folder)",
                    tool.name()
                ));
            }
            continue;
        };
        if let (Some(theirs), Some(ours)) = (row.checksum.as_deref(), migration.tool_checksum()) {
            let theirs = theirs.trim();
            if !ours.split(' ').any(|c| c.eq_ignore_ascii_case(theirs))
                && !from.allow_other_checksums
            {
                problems.push(format!(
                    "{} recorded checksum {theirs} for version {recorded_as}, and this binary's {} gives {ours} \
                     computed {}'s way: the file was edited since (allow other checksums to adopt it all the \
                     same)",
                    tool.name(),
                    migration.up().path(),
                    tool.name()
                ));
                continue;
            }
        }
        if tool == Layout::Flyway
            && matches!(row.kind.as_deref(), Some("BASELINE" | "SQL_BASELINE"))
        {
            // Everything up to Flyway's baseline is applied.
            for m in migrations.iter().filter(|m| m.version() <= version) {
                if seen.insert(m.version()) || m.version() == version {
                    push(&mut entries, &mut records, &already, m, row, &recorded_as);
                }
            }
            continue;
        }
        push(
            &mut entries,
            &mut records,
            &already,
            migration,
            row,
            &recorded_as,
        );
    }
    if !problems.is_empty() {
        return Err(refused(tool.name(), shown, problems));
    }
    Ok(Mapped { entries, records })
}

fn push(
    entries: &mut Vec<Adopted>,
    records: &mut Vec<(crate::data::registry::Migration, Option<String>, i64)>,
    already: &BTreeSet<i64>,
    migration: crate::data::registry::Migration,
    row: &ToolRow,
    recorded_as: &str,
) {
    let outcome = if already.contains(&migration.version()) {
        Outcome::AlreadyRecorded
    } else {
        records.push((
            migration,
            row.applied_at.clone(),
            row.execution_ms.unwrap_or(0).max(0),
        ));
        Outcome::Adopted
    };
    entries.push(Adopted {
        recorded_as: recorded_as.to_owned(),
        version: Some(migration.version()),
        path: Some(migration.up().path()),
        applied_at: row
            .applied_at
            .as_deref()
            .and_then(|t| humantime::parse_rfc3339_weak(t).ok()),
        execution_ms: row.execution_ms,
        outcome,
    });
}

/// golang-migrate's one row as a row per migration up to its version.
fn expand_current(migrations: Migrations, rows: &[ToolRow]) -> Vec<ToolRow> {
    let Some(current) = rows.first() else {
        return Vec::new();
    };
    let Some(version) = current
        .version
        .as_deref()
        .and_then(|v| version_of(Layout::GolangMigrate, v))
    else {
        return rows.to_vec();
    };
    if current.failed {
        return vec![current.clone()];
    }
    let mut expanded: Vec<ToolRow> = migrations
        .iter()
        .filter(|m| m.version() < version)
        .map(|m| ToolRow {
            version: Some(m.version().to_string()),
            ..current.clone()
        })
        .collect();
    expanded.push(current.clone());
    expanded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_versions_as_each_tool_records_them() {
        assert_eq!(
            version_of(Layout::Diesel, "2017-08-31-230457"),
            Some(20170831230457)
        );
        assert_eq!(
            version_of(Layout::Diesel, "20170831230457"),
            Some(20170831230457)
        );
        assert_eq!(version_of(Layout::Dbmate, "001"), Some(1));
        assert_eq!(version_of(Layout::Flyway, "1.1"), None);
        assert_eq!(version_of(Layout::Flyway, ""), None);
    }
}
