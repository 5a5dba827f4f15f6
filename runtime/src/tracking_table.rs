//! The tracking table: one row per migration that was applied or that failed.
//!
//! The table is resolved to a schema once, at the start of a run, and always
//! addressed schema-qualified and quoted, so a migration that changes
//! `search_path` cannot make stowage lose it.

use crate::error::Error;
use crate::migration::{Migration, Migrations};
use crate::sql::{first_row, ident, literal};
use postgres::Client;
use std::time::Duration;

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

    /// The one-query check that a start with nothing to do makes, without
    /// the lock: whether the table (in the current schema, if none was
    /// named) records exactly the binary's migrations, all successful.
    /// `Ok(false)` when it does not, or when the table cannot be read.
    pub(crate) fn is_up_to_date(
        &self,
        client: &mut Client,
        migrations: &Migrations,
    ) -> Result<bool, Error> {
        let digest = "encode(sha256(convert_to(coalesce(string_agg(version::text || ' ' || checksum, E'\\n' \
                      ORDER BY version) FILTER (WHERE success), ''), 'UTF8')), 'hex') AS digest, \
                      coalesce(bool_and(success), true) AS all_ok";
        let query = match &self.schema {
            Some(schema) => format!(
                "SELECT true, {digest} FROM {}.{}",
                ident(schema),
                ident(&self.table)
            ),
            None => {
                let table = ident(&self.table);
                format!(
                    "SELECT c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()), \
                     h.digest, h.all_ok FROM (SELECT {digest} FROM {table}) h, pg_catalog.pg_class c \
                     WHERE c.oid = {}::regclass",
                    literal(&table)
                )
            }
        };
        match first_row(client, &query) {
            Ok(Some(row)) => Ok(matches!(
                (row.first(), row.get(1), row.get(2)),
                (Some(Some(here)), Some(Some(digest)), Some(Some(all_ok)))
                    if here == "t" && all_ok == "t" && digest == migrations.digest()
            )),
            Ok(None) => Ok(false),
            Err(e) if e.as_db_error().is_some() => Ok(false),
            Err(e) => Err(Error::database("checking the tracking table")(e)),
        }
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

    /// Creates the table (and a schema that was named but is missing). Run
    /// under the lock, so concurrent runs never race to create it. Existence
    /// is checked first, so a role that may not create anything can still
    /// run against a table that exists.
    pub(crate) fn create_if_missing(&self, client: &mut Client) -> Result<(), Error> {
        let exists = first_row(
            client,
            &format!(
                "SELECT to_regnamespace({}) IS NOT NULL, to_regclass({}) IS NOT NULL",
                literal(&ident(&self.schema)),
                literal(&self.qualified)
            ),
        )
        .map_err(Error::database("looking for the tracking table"))?
        .unwrap_or_default();
        let is_true = |i: usize| exists.get(i).is_some_and(|v| v.as_deref() == Some("t"));
        if is_true(1) {
            return Ok(());
        }
        let mut ddl = String::new();
        if !is_true(0) && self.named_schema {
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
                error text
            )",
            self.qualified
        ));
        tracing::debug!(table = %self.qualified, "creating the tracking table");
        client
            .batch_execute(&ddl)
            .map_err(Error::database("creating the tracking table"))
    }

    /// Every row, in version order.
    pub(crate) fn read(&self, client: &mut Client) -> Result<Vec<Row>, Error> {
        let query = format!(
            "SELECT version, name, checksum, success FROM {} ORDER BY version",
            self.qualified
        );
        let messages = client
            .simple_query(&query)
            .map_err(Error::database("reading the tracking table"))?;
        let mut rows = Vec::new();
        for message in messages {
            if let postgres::SimpleQueryMessage::Row(row) = message {
                let version = row.get(0).and_then(|v| v.parse().ok());
                let (Some(version), Some(name), Some(checksum), Some(success)) =
                    (version, row.get(1), row.get(2), row.get(3))
                else {
                    continue;
                };
                rows.push(Row {
                    version,
                    name: name.to_owned(),
                    checksum: checksum.to_owned(),
                    success: success == "t",
                });
            }
        }
        Ok(rows)
    }

    /// The statements that record `migration` as applied and commit, sent
    /// as one query after the migration's own statements.
    pub(crate) fn record_success_and_commit(
        &self,
        migration: &Migration,
        took: Duration,
    ) -> String {
        format!("{}; COMMIT", self.upsert(migration, took, true, "NULL"))
    }

    /// Records that `migration` failed, in a transaction of its own.
    pub(crate) fn record_failure(
        &self,
        client: &mut Client,
        migration: &Migration,
        took: Duration,
        error: &str,
    ) -> Result<(), postgres::Error> {
        client.batch_execute(&self.upsert(migration, took, false, &literal(error)))
    }

    fn upsert(&self, migration: &Migration, took: Duration, success: bool, error: &str) -> String {
        format!(
            "INSERT INTO {table} AS t (version, name, checksum, execution_ms, success, error) \
             VALUES ({version}, {name}, {checksum}, {ms}, {success}, {error}) \
             ON CONFLICT (version) DO UPDATE SET name = excluded.name, checksum = excluded.checksum, \
             applied_at = now(), applied_by = current_user, execution_ms = excluded.execution_ms, \
             success = excluded.success, error = excluded.error",
            table = self.qualified,
            version = migration.version(),
            name = literal(migration.name()),
            checksum = literal(migration.checksum()),
            ms = took.as_millis(),
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
