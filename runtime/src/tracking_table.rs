//! The tracking table: one row per migration that was applied or that failed.
//!
//! The table is resolved to a schema once, at the start of a run, and always
//! addressed schema-qualified and quoted, so a migration that changes
//! `search_path` cannot make stowage lose it.

use crate::error::Error;
use crate::history_digest;
use crate::migration::{Migration, Migrations};
use crate::sql::{batch_or_rollback, first_row, ident, literal, rows};
use postgres::Client;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The name used when the runner is given none.
pub const DEFAULT_TABLE: &str = "stowage_migrations";

/// The table as the user named it: `table` or `schema.table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableName {
    schema: Option<String>,
    table: String,
}

impl TableName {
    /// Parses `name`: the part before the first `.` is the schema. Names are
    /// taken as written (no case folding) and always quoted.
    pub(crate) fn parse(name: &str) -> Result<TableName, Error> {
        let invalid = |reason| Error::InvalidTable {
            name: name.to_owned(),
            reason,
        };
        let (schema, table) = match name.split_once('.') {
            Some((schema, table)) => (Some(schema), table),
            None => (None, name),
        };
        if table.is_empty() || schema.is_some_and(str::is_empty) {
            return Err(invalid("the schema and the table name must not be empty"));
        }
        if name.contains('\0') {
            return Err(invalid("a name cannot hold a NUL character"));
        }
        Ok(TableName {
            schema: schema.map(str::to_owned),
            table: table.to_owned(),
        })
    }

    pub(crate) fn default_name() -> TableName {
        TableName {
            schema: None,
            table: DEFAULT_TABLE.to_owned(),
        }
    }

    /// The quick check that a start with nothing to do makes, without the
    /// lock: whether the table (in the current schema, if none was named)
    /// records exactly the binary's migrations, all successful. One query
    /// reads the digest kept beside the table; where there is no digest of
    /// it, a second computes the digest over the table itself, so that a
    /// binary with nothing to do decides so without the lock even while
    /// another run is writing the table. `Ok(false)` when the history
    /// differs, or when the table cannot be read.
    pub(crate) fn is_up_to_date(
        &self,
        client: &mut Client,
        migrations: &Migrations,
    ) -> Result<bool, Error> {
        let query = history_digest::quick_check_sql(self.schema.as_deref(), &self.table);
        match rows(client, &query) {
            Ok(rows) => {
                let known =
                    history_digest::matches(&rows, self.schema.is_some(), migrations.digest());
                if let Some(up_to_date) = known {
                    return Ok(up_to_date);
                }
            }
            // No digest table, or one this role may not read.
            Err(e) if e.as_db_error().is_some() => {
                tracing::debug!(error = %e, "no digest of the history to read");
            }
            Err(e) => return Err(Error::database("checking the tracking table")(e)),
        }
        self.compute_is_up_to_date(client, migrations)
    }

    /// The quick check without a digest row: computes the digest over the
    /// table. When the table is up to date and the session may write the
    /// digest, writes it, so that the next start reads it.
    fn compute_is_up_to_date(
        &self,
        client: &mut Client,
        migrations: &Migrations,
    ) -> Result<bool, Error> {
        let digest = history_digest::DIGEST;
        let all_ok = "coalesce(bool_and(success), true)";
        // Whether the session may write the digest: the digest table's
        // rows, and the lock that keeps writers of the tracking table out.
        let may_write = |digests: &str, tracking: &str| {
            format!(
                "coalesce(has_table_privilege(to_regclass({digests}), 'INSERT') \
                 AND has_table_privilege(to_regclass({digests}), 'DELETE') \
                 AND has_table_privilege({tracking}, 'INSERT, UPDATE, DELETE, TRUNCATE'), false)"
            )
        };
        let query = match &self.schema {
            Some(schema) => {
                let tracking = format!("{}.{}", ident(schema), ident(&self.table));
                format!(
                    "SELECT true, {digest}, {all_ok}, {}, {} FROM {tracking}",
                    literal(schema),
                    may_write(
                        &literal(&format!("{}.{}", ident(schema), history_digest::TABLE)),
                        &format!("{}::regclass", literal(&tracking))
                    ),
                )
            }
            None => {
                let table = ident(&self.table);
                format!(
                    "SELECT c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()), \
                     h.digest, h.all_ok, current_schema(), {} \
                     FROM (SELECT {digest} AS digest, {all_ok} AS all_ok FROM {table}) h, \
                     pg_catalog.pg_class c WHERE c.oid = {}::regclass",
                    may_write(
                        &format!(
                            "quote_ident(current_schema()) || {}",
                            literal(&format!(".{}", history_digest::TABLE))
                        ),
                        "c.oid"
                    ),
                    literal(&table)
                )
            }
        };
        let row = match first_row(client, &query) {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(false),
            Err(e) if e.as_db_error().is_some() => return Ok(false),
            Err(e) => return Err(Error::database("checking the tracking table")(e)),
        };
        let column = |i: usize| row.get(i).and_then(Option::as_deref);
        let up_to_date = column(0) == Some("t")
            && column(2) == Some("t")
            && column(1) == Some(migrations.digest());
        if let (true, Some(schema), Some("t")) = (up_to_date, column(3), column(4)) {
            let table =
                TrackingTable::new(schema.to_owned(), self.table.clone(), self.schema.is_some());
            if let Err(e) = batch_or_rollback(client, &history_digest::refresh_sql(&table)) {
                tracing::debug!(error = %e, "could not write the history's digest");
            }
        }
        Ok(up_to_date)
    }

    /// Resolves the schema: the one named, or the session's current schema.
    pub(crate) fn resolve(&self, client: &mut Client) -> Result<TrackingTable, Error> {
        let schema = match &self.schema {
            Some(schema) => schema.clone(),
            None => first_row(client, "SELECT current_schema()")
                .map_err(Error::database("finding the current schema"))?
                .and_then(|row| row.into_iter().next().flatten())
                .ok_or(Error::NoCurrentSchema)?,
        };
        Ok(TrackingTable::new(
            schema,
            self.table.clone(),
            self.schema.is_some(),
        ))
    }
}

/// A tracking table resolved to its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TrackingTable {
    schema: String,
    table: String,
    named_schema: bool,
    /// `"schema"."table"`.
    qualified: String,
}

/// A row of the tracking table, as the run needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub success: bool,
    pub error: Option<String>,
    pub applied_at: Option<SystemTime>,
    pub applied_by: Option<String>,
    pub execution_ms: Option<i64>,
    /// What an operator did to the row, if anything (baseline, marked
    /// applied, checksum accepted).
    pub note: Option<String>,
    /// For a no-transaction migration: how many of its statements are done.
    pub statements_done: Option<usize>,
    /// For a no-transaction migration: how many statements it has.
    pub statements_total: Option<usize>,
}

impl Row {
    /// A no-transaction migration that failed or was interrupted part way:
    /// the database may be partly changed.
    pub(crate) fn is_dirty(&self) -> bool {
        !self.success && self.statements_total.is_some()
    }
}

/// What to write in a migration's row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a> {
    pub migration: &'a Migration,
    pub took: Duration,
    pub success: bool,
    pub error: Option<&'a str>,
    /// For a no-transaction migration: statements done, and in all.
    pub progress: Option<(usize, usize)>,
    /// What an operator did, for the `note` column.
    pub note: Option<&'a str>,
}

impl TrackingTable {
    fn new(schema: String, table: String, named_schema: bool) -> TrackingTable {
        let qualified = format!("{}.{}", ident(&schema), ident(&table));
        TrackingTable {
            schema,
            table,
            named_schema,
            qualified,
        }
    }

    /// `"schema"."table"`, as used in SQL and in messages.
    pub(crate) fn qualified(&self) -> &str {
        &self.qualified
    }

    /// The schema it is in.
    pub(crate) fn schema(&self) -> &str {
        &self.schema
    }

    /// Creates the table (and a schema that was named but is missing), and
    /// the digest table and trigger beside it; returns whether the digest is
    /// kept. Run under the lock, so concurrent runs never race to create
    /// them. Existence is checked first, so a role that may not create
    /// anything can still run against a table that exists; a role that may
    /// create the table but not the digest's objects runs without them.
    pub(crate) fn create_if_missing(&self, client: &mut Client) -> Result<bool, Error> {
        let tracking = literal(&self.qualified);
        let exists = first_row(
            client,
            &format!(
                "SELECT to_regnamespace({}) IS NOT NULL, to_regclass({tracking}) IS NOT NULL, \
                 to_regclass({}) IS NOT NULL, EXISTS (SELECT FROM pg_catalog.pg_trigger \
                 WHERE tgrelid = to_regclass({tracking}) AND tgname = {})",
                literal(&ident(&self.schema)),
                literal(&format!(
                    "{}.{}",
                    ident(&self.schema),
                    history_digest::TABLE
                )),
                literal(history_digest::CLEAR),
            ),
        )
        .map_err(Error::database("looking for the tracking table"))?
        .unwrap_or_default();
        let is_true = |i: usize| exists.get(i).is_some_and(|v| v.as_deref() == Some("t"));
        if is_true(1) && is_true(2) && is_true(3) {
            return Ok(true);
        }
        if !is_true(1) {
            self.create(client, !is_true(0))?;
        }
        tracing::debug!(table = %self.qualified, "creating the digest table and its trigger");
        match batch_or_rollback(client, &history_digest::create_sql(self, is_true(2))) {
            Ok(()) => Ok(true),
            Err(e) if e.as_db_error().is_some() => {
                tracing::info!(
                    table = %self.qualified,
                    error = %e,
                    "cannot create the digest table beside the tracking table: each start reads the whole table instead"
                );
                Ok(false)
            }
            Err(e) => Err(Error::database("creating the digest table")(e)),
        }
    }

    /// Creates the table, and its schema if one was named and is missing.
    fn create(&self, client: &mut Client, create_schema: bool) -> Result<(), Error> {
        let mut ddl = String::new();
        if create_schema && self.named_schema {
            ddl.push_str(&format!(
                "CREATE SCHEMA IF NOT EXISTS {};\n",
                ident(&self.schema)
            ));
        }
        ddl.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {} (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                applied_by text NOT NULL DEFAULT current_user,
                execution_ms bigint NOT NULL,
                success boolean NOT NULL,
                error text,
                statements_done integer,
                statements_total integer,
                note text
            )",
            self.qualified
        ));
        tracing::debug!(table = %self.qualified, "creating the tracking table");
        client
            .batch_execute(&ddl)
            .map_err(Error::database("creating the tracking table"))
    }

    /// Whether the table exists.
    pub(crate) fn exists(&self, client: &mut Client) -> Result<bool, Error> {
        let row = first_row(
            client,
            &format!(
                "SELECT to_regclass({}) IS NOT NULL",
                literal(&self.qualified)
            ),
        )
        .map_err(Error::database("looking for the tracking table"))?;
        Ok(row.and_then(|r| r.into_iter().next().flatten()).as_deref() == Some("t"))
    }

    /// Every row, in version order; none if the table does not exist. Reads
    /// only: creates nothing.
    pub(crate) fn read_if_exists(&self, client: &mut Client) -> Result<Vec<Row>, Error> {
        if self.exists(client)? {
            self.read(client)
        } else {
            Ok(Vec::new())
        }
    }

    /// Every row, in version order.
    pub(crate) fn read(&self, client: &mut Client) -> Result<Vec<Row>, Error> {
        let query = format!(
            "SELECT version, name, checksum, success, error, statements_done, statements_total, \
             extract(epoch FROM applied_at), applied_by, execution_ms, note \
             FROM {} ORDER BY version",
            self.qualified
        );
        let messages = client
            .simple_query(&query)
            .map_err(Error::database("reading the tracking table"))?;
        let mut rows = Vec::new();
        for message in messages {
            if let postgres::SimpleQueryMessage::Row(row) = message {
                let number = |i: usize| row.get(i).and_then(|v| v.parse::<usize>().ok());
                let text = |i: usize| row.get(i).map(str::to_owned);
                let version = row.get(0).and_then(|v| v.parse().ok());
                let (Some(version), Some(name), Some(checksum), Some(success)) =
                    (version, row.get(1), row.get(2), row.get(3))
                else {
                    continue;
                };
                let applied_at = row
                    .get(7)
                    .and_then(|v| v.parse::<f64>().ok())
                    .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
                    .map(|since| UNIX_EPOCH + since);
                rows.push(Row {
                    version,
                    name: name.to_owned(),
                    checksum: checksum.to_owned(),
                    success: success == "t",
                    error: text(4),
                    statements_done: number(5),
                    statements_total: number(6),
                    applied_at,
                    applied_by: text(8),
                    execution_ms: row.get(9).and_then(|v| v.parse().ok()),
                    note: text(10),
                });
            }
        }
        Ok(rows)
    }

    /// Records an operator's change of an applied migration's checksum.
    pub(crate) fn accept_checksum(
        &self,
        client: &mut Client,
        version: i64,
        checksum: &str,
        note: &str,
    ) -> Result<(), Error> {
        client
            .batch_execute(&format!(
                "UPDATE {} SET checksum = {}, note = {} WHERE version = {version}",
                self.qualified,
                literal(checksum),
                literal(note)
            ))
            .map_err(Error::database("updating a checksum in the tracking table"))
    }

    /// Records several migrations in one transaction.
    pub(crate) fn record_all(
        &self,
        client: &mut Client,
        records: &[Record<'_>],
    ) -> Result<(), Error> {
        let mut sql = String::from("BEGIN;\n");
        for record in records {
            sql.push_str(&self.upsert(*record));
            sql.push_str(";\n");
        }
        sql.push_str("COMMIT");
        batch_or_rollback(client, &sql).map_err(Error::database("writing the tracking table"))
    }

    /// The statements that record a transactional migration as applied and
    /// commit, sent as one query after the migration's own statements.
    pub(crate) fn record_and_commit(&self, record: Record<'_>) -> String {
        format!("{}; COMMIT", self.upsert(record))
    }

    /// Writes a migration's row, in a transaction of its own.
    pub(crate) fn record(
        &self,
        client: &mut Client,
        record: Record<'_>,
    ) -> Result<(), postgres::Error> {
        client.batch_execute(&self.upsert(record))
    }

    /// Removes the rows of `versions`.
    pub(crate) fn forget(&self, client: &mut Client, versions: &[i64]) -> Result<(), Error> {
        client
            .batch_execute(&self.delete_sql(versions))
            .map_err(Error::database("removing rows of the tracking table"))
    }

    /// `DELETE` of the rows of `versions`.
    pub(crate) fn delete_sql(&self, versions: &[i64]) -> String {
        let list: Vec<String> = versions.iter().map(i64::to_string).collect();
        format!(
            "DELETE FROM {} WHERE version IN ({})",
            self.qualified,
            list.join(", ")
        )
    }

    fn upsert(&self, record: Record<'_>) -> String {
        let (done, total) = match record.progress {
            Some((done, total)) => (done.to_string(), total.to_string()),
            None => ("NULL".to_owned(), "NULL".to_owned()),
        };
        format!(
            "INSERT INTO {table} AS t (version, name, checksum, execution_ms, success, error, \
             statements_done, statements_total, note) \
             VALUES ({version}, {name}, {checksum}, {ms}, {success}, {error}, {done}, {total}, {note}) \
             ON CONFLICT (version) DO UPDATE SET name = excluded.name, checksum = excluded.checksum, \
             applied_at = now(), applied_by = current_user, execution_ms = excluded.execution_ms, \
             success = excluded.success, error = excluded.error, \
             statements_done = excluded.statements_done, statements_total = excluded.statements_total, \
             note = excluded.note",
            table = self.qualified,
            version = record.migration.version(),
            name = literal(record.migration.name()),
            checksum = literal(record.migration.checksum()),
            ms = record.took.as_millis(),
            success = record.success,
            error = record.error.map_or_else(|| "NULL".to_owned(), literal),
            note = record.note.map_or_else(|| "NULL".to_owned(), literal),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        assert_eq!(
            TableName::parse("t").unwrap(),
            TableName {
                schema: None,
                table: "t".into()
            }
        );
        assert_eq!(
            TableName::parse("ops.schema_history").unwrap(),
            TableName {
                schema: Some("ops".into()),
                table: "schema_history".into()
            }
        );
        assert!(TableName::parse("").is_err());
        assert!(TableName::parse(".t").is_err());
        assert!(TableName::parse("s.").is_err());
    }
}
