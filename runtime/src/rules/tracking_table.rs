//! A tracking table resolved to its schema, and the key of its migration
//! lock.

use postgres_protocol::escape::escape_identifier;

/// A tracking table resolved to its schema, at the start of a call, and
/// always addressed schema-qualified and quoted after that, so a migration
/// that changes `search_path` cannot make stowage lose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TrackingTable {
    schema: String,
    table: String,
    /// Whether the schema was named by the user (it is then created if
    /// missing), rather than found as the session's current schema.
    named_schema: bool,
    /// `"schema"."table"`.
    qualified: String,
    /// Whether the table has the columns that record which server process
    /// runs a no-transaction migration's statement (a table made by an
    /// earlier version, whose owner has not added them, has not).
    records_statements: bool,
}

impl TrackingTable {
    pub(crate) fn new(schema: String, table: String, named_schema: bool) -> TrackingTable {
        let qualified = format!(
            "{}.{}",
            escape_identifier(&schema),
            escape_identifier(&table)
        );
        TrackingTable {
            schema,
            table,
            named_schema,
            qualified,
            records_statements: true,
        }
    }

    /// Whether the table records which server process runs a
    /// no-transaction migration's statement, and from which transaction on.
    pub(crate) fn records_statements(&self) -> bool {
        self.records_statements
    }

    /// Says whether the table has the columns of
    /// [`records_statements`](TrackingTable::records_statements).
    pub(crate) fn set_records_statements(&mut self, records: bool) {
        self.records_statements = records;
    }

    /// `"schema"."table"`, as used in SQL and in messages.
    pub(crate) fn qualified(&self) -> &str {
        &self.qualified
    }

    /// The schema it is in.
    pub(crate) fn schema(&self) -> &str {
        &self.schema
    }

    /// Its name without the schema.
    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    /// Whether the user named its schema.
    pub(crate) fn named_schema(&self) -> bool {
        self.named_schema
    }

    /// The key of the advisory lock that guards it: FNV-1a of the qualified
    /// name, stable across versions and platforms, so two migration sets in
    /// one database (two tracking tables) do not block each other.
    pub(crate) fn lock_key(&self) -> i64 {
        let hash = self
            .qualified
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        i64::from_ne_bytes(hash.to_ne_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_and_keys_differ_by_table() {
        let a = TrackingTable::new("public".into(), "a".into(), false);
        let b = TrackingTable::new("public".into(), "b".into(), false);
        assert_eq!(a.qualified(), r#""public"."a""#);
        assert_ne!(a.lock_key(), b.lock_key());
        assert_eq!(
            a.lock_key(),
            TrackingTable::new("public".into(), "a".into(), true).lock_key()
        );
        let hostile = TrackingTable::new("s".into(), r#"a"; drop table x; --"#.into(), false);
        assert_eq!(hostile.qualified(), r#""s"."a""; drop table x; --""#);
    }
}
