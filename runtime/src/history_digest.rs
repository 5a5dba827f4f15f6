//! The digest of the tracking table's history, kept in a table beside it so
//! that a start with nothing to do reads one short row instead of hashing
//! every row of the history.
//!
//! `stowage_digest`, in the tracking table's schema, holds one row per
//! tracking table: its oid, its schema and the digest of its rows
//! ([`DIGEST`]), written only while every row is successful. A statement
//! trigger on the tracking table deletes that row whenever anything writes
//! the table: a run, an operator's call, or an `UPDATE` by hand. The row is
//! written again at the end of every locked call that ends well, in the
//! query that releases the lock, so keeping it costs no round trip; and by
//! a start that found no row but a table that is up to date.
//!
//! Where there is no digest of the table (something wrote it since; a
//! role that may not create or read the digest table; a digest table
//! dropped by hand), the quick check computes the digest over the tracking
//! table itself, in a second query.

use crate::sql::{ident, literal};
use crate::tracking_table::TrackingTable;

/// The digest of a tracking table's successful rows, as an SQL aggregate
/// over it: SHA-256 over `"{version} {checksum}"` lines in version order, the
/// same text as the binary's digest.
pub(crate) const DIGEST: &str = "encode(sha256(convert_to(coalesce(string_agg(version::text || ' ' || checksum, E'\\n' \
     ORDER BY version) FILTER (WHERE success), ''), 'UTF8')), 'hex')";

/// The table of digests, one per schema that holds a tracking table.
pub(crate) const TABLE: &str = "stowage_digest";

/// The trigger function that deletes a tracking table's digest, and the
/// trigger that calls it (trigger names belong to their table).
pub(crate) const CLEAR: &str = "stowage_digest_clear";

/// The query of the quick check: each digest row of the schema, the
/// session's current schema, and the oid that the tracking table's name
/// resolves to now. Its size depends only on the names.
pub(crate) fn quick_check_sql(schema: Option<&str>, table: &str) -> String {
    let (digests, tracking) = match schema {
        Some(schema) => (
            format!("{}.{TABLE}", ident(schema)),
            format!("{}.{}", ident(schema), ident(table)),
        ),
        None => (TABLE.to_owned(), ident(table)),
    };
    format!(
        "SELECT tracking, schema, digest, current_schema(), to_regclass({})::oid FROM {digests}",
        literal(&tracking)
    )
}

/// What the rows of [`quick_check_sql`] say about the tracking table:
/// `Some(true)` if it records exactly the history with `digest`, all of it
/// successful, `Some(false)` if it records another history, `None` if there
/// is no digest of it (something wrote the table since the digest was
/// written, or the table was dropped or created again). With no schema
/// named, the table must also be in the current schema.
pub(crate) fn matches(
    rows: &[Vec<Option<String>>],
    schema_named: bool,
    digest: &str,
) -> Option<bool> {
    rows.iter()
        .find(|row| {
            let column = |i: usize| row.get(i).and_then(Option::as_deref);
            let resolved = column(4);
            resolved.is_some() && column(0) == resolved && (schema_named || column(1) == column(3))
        })
        .map(|row| row.get(2).and_then(Option::as_deref) == Some(digest))
}

/// Creates the digest table (unless `table_exists`), the trigger function
/// and the trigger on `table`, and drops any digest row of it, in one
/// transaction: for a new tracking table, one whose digest objects were
/// dropped, or one recreated by hand. Run under the lock.
///
/// The function runs with its owner's rights, so that a role that may write
/// the tracking table need not be granted the digest table. Its body names
/// only the schema-qualified digest table and `pg_catalog`'s operator, so
/// the caller's `search_path` cannot change what it does.
pub(crate) fn create_sql(table: &TrackingTable, table_exists: bool) -> String {
    let schema = ident(table.schema());
    let digests = format!("{schema}.{TABLE}");
    let function = format!("{schema}.{CLEAR}");
    let tracking = table.qualified();
    let (create, clear) = if table_exists {
        (
            String::new(),
            format!(
                "DELETE FROM {digests} WHERE tracking = {}::regclass;\n",
                literal(tracking)
            ),
        )
    } else {
        (
            format!(
                "CREATE TABLE {digests} (tracking oid NOT NULL, schema name NOT NULL, digest text NOT NULL);
COMMENT ON TABLE {digests} IS 'The digest of each tracking table of stowage migrations in this schema, for a quick check at start; a trigger on the tracking table deletes its row when the table changes.';\n"
            ),
            String::new(),
        )
    };
    let body = format!(
        "BEGIN DELETE FROM {digests} WHERE tracking OPERATOR(pg_catalog.=) TG_RELID; RETURN NULL; END"
    );
    format!(
        "BEGIN;
{create}CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS {body};
DROP TRIGGER IF EXISTS {CLEAR} ON {tracking};
CREATE TRIGGER {CLEAR} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {tracking}
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
{clear}COMMIT",
        body = literal(&body),
    )
}

/// Writes the digest row of `table`, if every row of the table is
/// successful. The table is locked against writes meanwhile (and against
/// another session writing its digest), so that a change by hand commits
/// either before the digest is computed or after it is written, and its
/// trigger then deletes it; that makes it safe without the migration lock.
/// The lock is not waited for: while someone is writing the table, nothing
/// is written, and a later start writes it.
pub(crate) fn refresh_sql(table: &TrackingTable) -> String {
    let digests = format!("{}.{TABLE}", ident(table.schema()));
    let tracking = table.qualified();
    let oid = literal(tracking);
    format!(
        "BEGIN;
LOCK TABLE {tracking} IN SHARE ROW EXCLUSIVE MODE NOWAIT;
DELETE FROM {digests} WHERE tracking = {oid}::regclass;
INSERT INTO {digests} (tracking, schema, digest)
    SELECT {oid}::regclass, {schema}, {DIGEST} FROM {tracking} HAVING coalesce(bool_and(success), true);
COMMIT",
        schema = literal(table.schema()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: [&str; 5]) -> Vec<Option<String>> {
        values
            .iter()
            .map(|v| (!v.is_empty()).then(|| (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_row_counts_only_for_the_table_the_name_resolves_to() {
        let rows = [row(["16384", "public", "d", "public", "16384"])];
        assert_eq!(matches(&rows, false, "d"), Some(true));
        assert_eq!(matches(&rows, false, "other"), Some(false));
        // The table was dropped, or dropped and created again.
        let dropped = [row(["16384", "public", "d", "public", ""])];
        assert_eq!(matches(&dropped, false, "d"), None);
        let recreated = [row(["16384", "public", "d", "public", "16999"])];
        assert_eq!(matches(&recreated, false, "d"), None);
        // Found through search_path, but not in the current schema.
        let elsewhere = [row(["16384", "public", "d", "app", "16384"])];
        assert_eq!(matches(&elsewhere, false, "d"), None);
        assert_eq!(matches(&elsewhere, true, "d"), Some(true));
        // The row of another tracking table in the schema.
        let other = [
            row(["16999", "public", "x", "public", "16384"]),
            row(["16384", "public", "d", "public", "16384"]),
        ];
        assert_eq!(matches(&other, false, "d"), Some(true));
        assert_eq!(matches(&other[..1], false, "d"), None);
        assert_eq!(matches(&[], false, "d"), None);
    }
}
