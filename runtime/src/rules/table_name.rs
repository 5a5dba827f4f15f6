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
        check_identifier(table).map_err(invalid)?;
        if let Some(schema) = schema {
            check_identifier(schema).map_err(invalid)?;
        }
        Ok(TableName {
            schema: schema.map(str::to_owned),
            table: table.to_owned(),
        })
    }

    /// Refuses a name with a schema for a fleet of schemas, which keeps
    /// each target's tracking table in the target's schema.
    pub(crate) fn refuse_schema(&self, written: &str) -> Result<(), Error> {
        match self.schema {
            Some(_) => Err(Error::InvalidTable {
                name: written.to_owned(),
                reason: "a fleet of schemas keeps each target's tracking table in the target's schema: \
                         name the table without a schema",
            }),
            None => Ok(()),
        }
    }

    /// The same name placed in `schema`, as a fleet places each target's
    /// tracking table in the target's schema; refused when the name has a
    /// schema of its own.
    pub(crate) fn placed_in(self, schema: &str, written: &str) -> Result<TableName, Error> {
        self.refuse_schema(written)?;
        check_schema(schema).map_err(|reason| Error::InvalidTable {
            name: format!("{schema}.{}", self.table),
            reason,
        })?;
        Ok(TableName {
            schema: Some(schema.to_owned()),
            table: self.table,
        })
    }
}

/// Whether `schema` can name a schema: not empty, and as
/// [`check_identifier`].
pub(crate) fn check_schema(schema: &str) -> Result<(), &'static str> {
    if schema.is_empty() {
        return Err("the schema and the table name must not be empty");
    }
    check_identifier(schema)
}

/// Whether `name` is a name PostgreSQL keeps as it is: no NUL, at most 63
/// bytes.
fn check_identifier(name: &str) -> Result<(), &'static str> {
    if name.contains('\0') {
        return Err("a name cannot hold a NUL character");
    }
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Err(
            "PostgreSQL names are at most 63 bytes long and it cuts longer ones short, \
             so two such names could be one table; use a shorter name",
        );
    }
    Ok(())
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

    #[test]
    fn a_name_is_placed_in_a_schema_only_when_it_names_none() {
        let placed = TableName::parse("t")
            .and_then(|n| n.placed_in("tenant.7", "t"))
            .ok();
        assert_eq!(
            placed,
            Some(TableName {
                schema: Some("tenant.7".into()),
                table: "t".into()
            })
        );
        assert!(
            TableName::parse("ops.t")
                .and_then(|n| n.placed_in("tenant_7", "ops.t"))
                .is_err()
        );
        for schema in ["", "a\0b", &"s".repeat(64)] {
            assert!(
                TableName::default().placed_in(schema, "t").is_err(),
                "{schema:?}"
            );
        }
    }
}
