//! The tracking table's name as the user gives it: `table`, in the
//! connection's current schema, or `schema.table`.

use crate::data::error::Error;

/// The name used when the runner is given none.
pub const DEFAULT_TABLE: &str = "stowage_migrations";

/// PostgreSQL's longest identifier, in bytes (`NAMEDATALEN - 1`). A longer
/// one is clipped, so two long names could be one table with two locks.
const MAX_IDENTIFIER_BYTES: usize = 63;

/// A tracking table's name: its schema, if one was named, and the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableName {
    pub schema: Option<String>,
    pub table: String,
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
        if table.len() > MAX_IDENTIFIER_BYTES
            || schema.is_some_and(|s| s.len() > MAX_IDENTIFIER_BYTES)
        {
            return Err(invalid(
                "PostgreSQL names are at most 63 bytes long and it cuts longer ones short, \
                 so two such names could be one table; use a shorter name",
            ));
        }
        Ok(TableName {
            schema: schema.map(str::to_owned),
            table: table.to_owned(),
        })
    }

    /// The name as SQL writes it, quoted: `"schema"."table"`, or `"table"`,
    /// which the session's `search_path` resolves.
    pub(crate) fn sql(&self) -> String {
        let table = postgres_protocol::escape::escape_identifier(&self.table);
        match &self.schema {
            Some(schema) => format!(
                "{}.{table}",
                postgres_protocol::escape::escape_identifier(schema)
            ),
            None => table,
        }
    }
}

impl Default for TableName {
    fn default() -> Self {
        TableName {
            schema: None,
            table: DEFAULT_TABLE.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(name: &str) -> Option<(Option<&str>, String)> {
        TableName::parse(name).ok().map(|n| {
            let schema = n.schema.map(|s| if s == "ops" { "ops" } else { "?" });
            (schema, n.table)
        })
    }

    #[test]
    fn parses_a_table_and_a_schema() {
        assert_eq!(parsed("t"), Some((None, "t".into())));
        assert_eq!(
            parsed("ops.schema_history"),
            Some((Some("ops"), "schema_history".into()))
        );
        assert_eq!(parsed("ops.a.b"), Some((Some("ops"), "a.b".into())));
    }

    #[test]
    fn refuses_empty_parts_nul_and_names_postgres_would_cut_short() {
        for name in ["", ".t", "s.", "a\0b"] {
            assert!(TableName::parse(name).is_err(), "{name:?}");
        }
        let longest = "t".repeat(63);
        assert!(TableName::parse(&longest).is_ok());
        assert!(TableName::parse(&format!("{longest}x")).is_err());
        // 62 bytes and a two-byte character: 64 bytes.
        assert!(TableName::parse(&format!("{}é", "t".repeat(62))).is_err());
        assert!(TableName::parse(&format!("{longest}x.t")).is_err());
    }
}
