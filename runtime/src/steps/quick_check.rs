//! The quick check of a start with nothing to do, without the lock: whether
//! the tracking table records exactly the binary's migrations, all
//! successful.
//!
//! `stowage_digest`, in the tracking table's schema, holds one row per
//! tracking table: its oid, its schema and the digest of its rows, written
//! only while every row is successful. A statement trigger on the tracking
//! table, enabled in every session mode (`ENABLE ALWAYS`, so that
//! `session_replication_role = replica` does not silence it), deletes that
//! row whenever anything writes the table: a run, an operator's call, or an
//! `UPDATE` by hand. The row is written again at the end of every locked
//! call that ends well, in the query that releases the lock, so keeping it
//! costs no round trip; and by a start that found no row but a table that
//! is up to date.
//!
//! A start reads the row in one query, and trusts it only while the table's
//! name resolves to the table it was written for and the trigger still
//! fires always. Where there is no digest it can trust (something wrote the
//! table since; a role that may not create or read the digest table; a
//! digest table dropped by hand), a second query computes the digest over
//! the tracking table itself.
//!
//! The digest written last in a schema is also kept in the digest table's
//! comment, as a line `{oid} {digest}`, which the same trigger removes, so
//! that a fleet's listing of its schemas from the catalog reads each
//! tenant's digest without opening a table per tenant.

use crate::conversation::connection::{Connection, execute};
use crate::conversation::reply::FleetSchema;
use crate::conversation::{reply, sql};
use crate::data::error::Error;
use crate::data::registry::Migrations;
use crate::rules::table_name::TableName;
use crate::rules::tracking_table::TrackingTable;
use std::collections::{HashMap, HashSet};

/// What the quick check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// The history is exactly the binary's migrations, all successful.
    UpToDate,
    /// Anything else, or a history that cannot be read or trusted without
    /// the lock; with the session's current schema, when seen.
    Unknown { current_schema: Option<String> },
}

/// Reads the digest of the history and compares it with the binary's.
pub(crate) async fn quick_check<C: Connection>(
    conn: &mut C,
    name: &TableName,
    migrations: Migrations,
) -> Result<Found, Error> {
    let mut current_schema = None;
    match conn.simple_query(&sql::quick_check(name)).await {
        Ok(messages) => {
            let rows = reply::digest_rows(&messages);
            current_schema = rows.first().and_then(|r| r.current_schema.clone());
            match read(&rows, name.schema.is_some(), migrations.digest()) {
                Reading::UpToDate => return Ok(Found::UpToDate),
                // A trigger that does not fire always cannot be trusted to
                // have cleared the digest: the locked path mends it.
                Reading::Behind | Reading::Untrusted => {
                    return Ok(Found::Unknown { current_schema });
                }
                Reading::NoRow => {}
            }
        }
        // No digest table, or one this role may not read.
        Err(e) if e.as_db_error().is_some() => {
            tracing::debug!(error = %e, "no digest of the history to read");
        }
        Err(e) => return Err(Error::database("checking the tracking table")(e)),
    }
    computed(conn, name, migrations, current_schema).await
}

/// The quick check of many schemas at once, for a fleet: the schemas of
/// `found` whose tracking table records exactly `migrations`, all
/// successful. Where the listing found the digest in the digest table's
/// comment, that decides; the other schemas' digest rows are read in one
/// query (one round trip), a bounded number of tables per transaction;
/// only schemas whose digest table can be read and that have a tracking
/// table are read. A schema the query could not read counts as not found
/// up to date: its own run checks again.
pub(crate) async fn up_to_date_schemas<C: Connection>(
    conn: &mut C,
    found: &[&FleetSchema],
    migrations: Migrations,
) -> Result<HashSet<String>, Error> {
    // A digest the listing read from the catalog decides; the others are
    // read from the digest tables.
    let mut up_to_date = HashSet::new();
    let mut readable = Vec::new();
    for f in found.iter().copied().filter(|f| f.tracking.is_some()) {
        match (&f.listed_digest, f.trigger_always) {
            (Some(listed), true) if listed == migrations.digest() => {
                up_to_date.insert(f.name.clone());
            }
            (Some(_), true) => {}
            _ if f.digest_readable => readable.push(f),
            _ => {}
        }
    }
    if readable.is_empty() {
        return Ok(up_to_date);
    }
    let names: Vec<&str> = readable.iter().map(|f| f.name.as_str()).collect();
    let messages = match conn.simple_query(&sql::fleet_digests(&names)).await {
        Ok(messages) => messages,
        // A digest table dropped since the catalog was read, say: the
        // transaction it failed in is still open.
        Err(e) if e.as_db_error().is_some() => {
            tracing::debug!(error = %e, "could not read the digests of the fleet's schemas");
            execute(conn, sql::ROLLBACK)
                .await
                .map_err(Error::database("checking the fleet's schemas"))?;
            return Ok(up_to_date);
        }
        Err(e) => return Err(Error::database("checking the fleet's schemas")(e)),
    };
    let by_name: HashMap<&str, &FleetSchema> =
        readable.iter().map(|f| (f.name.as_str(), *f)).collect();
    let mut rows: HashMap<String, Vec<reply::DigestRow>> = HashMap::new();
    for (schema, row) in reply::fleet_digests(&messages, &by_name) {
        rows.entry(schema).or_default().push(row);
    }
    up_to_date.extend(
        rows.into_iter()
            .filter(|(_, rows)| read(rows, true, migrations.digest()) == Reading::UpToDate)
            .map(|(schema, _)| schema),
    );
    Ok(up_to_date)
}

/// What the digest rows say of the tracking table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Its digest is the binary's.
    UpToDate,
    /// Its digest is another.
    Behind,
    /// It has a digest, but the trigger that keeps it true does not fire
    /// in every session mode.
    Untrusted,
    /// It has no digest: none was written since the table last changed, or
    /// the table was dropped, or created again.
    NoRow,
}

/// Finds the row of the table the name resolves to now (in the current
/// schema, when no schema was named), and reads it.
fn read(rows: &[reply::DigestRow], schema_named: bool, digest: &str) -> Reading {
    let ours = rows.iter().find(|row| {
        row.resolved.is_some()
            && row.tracking == row.resolved
            && (schema_named || row.schema == row.current_schema)
    });
    match ours {
        None => Reading::NoRow,
        Some(row) if !row.trigger_always => Reading::Untrusted,
        Some(row) if row.digest.as_deref() == Some(digest) => Reading::UpToDate,
        Some(_) => Reading::Behind,
    }
}

/// The quick check without a digest row: computes the digest over the
/// table. When the table is up to date and the session may write the
/// digest, writes it, so that the next start reads it.
async fn computed<C: Connection>(
    conn: &mut C,
    name: &TableName,
    migrations: Migrations,
    current_schema: Option<String>,
) -> Result<Found, Error> {
    let unknown = |current_schema| Ok(Found::Unknown { current_schema });
    let found = match conn.simple_query(&sql::computed_quick_check(name)).await {
        Ok(messages) => reply::computed_digest(&messages),
        Err(e) if e.as_db_error().is_some() => return unknown(current_schema),
        Err(e) => return Err(Error::database("checking the tracking table")(e)),
    };
    let Some(found) = found else {
        return unknown(current_schema);
    };
    let current_schema = found.schema.clone().or(current_schema);
    let up_to_date = found.in_place
        && found.all_successful
        && found.digest.as_deref() == Some(migrations.digest());
    if !up_to_date {
        return unknown(current_schema);
    }
    if let (true, Some(schema)) = (found.may_write_digest, found.schema) {
        let table = TrackingTable::new(schema, name.table.clone(), name.schema.is_some());
        if let Err(e) = execute(conn, &sql::write_digest(&table)).await {
            tracing::debug!(error = %e, "could not write the history's digest");
            if !conn.is_closed()
                && let Err(e) = execute(conn, sql::ROLLBACK).await
            {
                tracing::debug!(error = %e, "rolling back the digest's write");
            }
        }
    }
    Ok(Found::UpToDate)
}

#[cfg(test)]
mod tests {
    use super::{Reading, read};
    use crate::conversation::reply::DigestRow;

    fn row(values: [&str; 6]) -> DigestRow {
        let v = |i: usize| (!values[i].is_empty()).then(|| values[i].to_owned());
        DigestRow {
            tracking: v(0),
            schema: v(1),
            digest: v(2),
            current_schema: v(3),
            resolved: v(4),
            trigger_always: values[5] == "A",
        }
    }

    #[test]
    fn a_row_counts_only_for_the_table_the_name_resolves_to_with_its_trigger_always_on() {
        let rows = [row(["16384", "public", "d", "public", "16384", "A"])];
        assert_eq!(read(&rows, false, "d"), Reading::UpToDate);
        assert_eq!(read(&rows, false, "other"), Reading::Behind);
        // The table was dropped, or dropped and created again.
        let dropped = [row(["16384", "public", "d", "public", "", ""])];
        assert_eq!(read(&dropped, false, "d"), Reading::NoRow);
        let recreated = [row(["16384", "public", "d", "public", "16999", "A"])];
        assert_eq!(read(&recreated, false, "d"), Reading::NoRow);
        // Found through search_path, but not in the current schema.
        let elsewhere = [row(["16384", "public", "d", "app", "16384", "A"])];
        assert_eq!(read(&elsewhere, false, "d"), Reading::NoRow);
        assert_eq!(read(&elsewhere, true, "d"), Reading::UpToDate);
        // The row of another tracking table in the schema.
        let other = [
            row(["16999", "public", "x", "public", "16384", "A"]),
            row(["16384", "public", "d", "public", "16384", "A"]),
        ];
        assert_eq!(read(&other, false, "d"), Reading::UpToDate);
        assert_eq!(read(&other[..1], false, "d"), Reading::NoRow);
        // The trigger is disabled, or fires only in some session modes.
        for state in ["D", "O", "R", ""] {
            let untrusted = [row(["16384", "public", "d", "public", "16384", state])];
            assert_eq!(read(&untrusted, false, "d"), Reading::Untrusted, "{state}");
        }
        assert_eq!(read(&[], false, "d"), Reading::NoRow);
    }
}
