//! The tracking table: finding it, creating it with the digest objects
//! beside it, reading its history, and writing rows under the lock.

use crate::conversation::connection::{Connection, execute};
use crate::conversation::{reply, sql};
use crate::data::error::{DbError, Error};
use crate::data::history::{Record, Row};
use crate::rules::table_name::TableName;
use crate::rules::tracking_table::TrackingTable;
use crate::steps::lock::Locked;

/// The SQLSTATE of a relation that does not exist.
pub(crate) const UNDEFINED_TABLE: &str = "42P01";

/// Resolves `name` to its schema: the one named, or the session's current
/// schema (`current_schema` when the caller has read it already).
pub(crate) async fn resolve<C: Connection>(
    conn: &mut C,
    name: &TableName,
    current_schema: Option<String>,
) -> Result<TrackingTable, Error> {
    let schema = match (&name.schema, current_schema) {
        (Some(schema), _) => schema.clone(),
        (None, Some(current)) => current,
        (None, None) => conn
            .simple_query(sql::CURRENT_SCHEMA)
            .await
            .map(|messages| reply::value(&messages))
            .map_err(Error::database("finding the current schema"))?
            .ok_or(Error::NoCurrentSchema)?,
    };
    Ok(TrackingTable::new(
        schema,
        name.table.clone(),
        name.schema.is_some(),
    ))
}

/// Creates what is missing of the tracking table (and of a schema that was
/// named), the digest table and its trigger, which must fire in every
/// session mode; returns whether the digest is kept. Run under the lock,
/// so concurrent runs never race to create them. Existence is checked
/// first, so a role that may not create anything can still run against a
/// table that exists; a role that may create the table but not the digest's
/// objects runs without them. Without `create`, a table that does not exist
/// is left so, and `None` says it.
pub(crate) async fn ensure<C: Connection>(
    locked: &mut Locked<'_, C>,
    create: bool,
) -> Result<Option<bool>, Error> {
    let table = locked.table().clone();
    let found = locked
        .conn()
        .simple_query(&sql::find_tracking_objects(&table))
        .await
        .map(|messages| reply::tracking_objects(&messages))
        .map_err(Error::database("looking for the tracking table"))?;
    if !found.table && !create {
        return Ok(None);
    }
    if found.table && !found.statement_columns {
        let added = execute(locked.conn(), &sql::add_statement_columns(&table)).await;
        if let Err(e) = added {
            tracing::info!(
                table = table.qualified(),
                error = %e,
                "cannot add the columns that record no-transaction statements to the tracking table: \
                 an interrupted statement's outcome is decided without them"
            );
            locked.table_mut().set_records_statements(false);
        }
    }
    let kept = found.table && found.digest_table && found.trigger_always;
    if kept && found.trigger_clears_comment {
        return Ok(Some(true));
    }
    if !found.table {
        tracing::debug!(table = table.qualified(), "creating the tracking table");
        let create_schema = table.named_schema() && !found.schema;
        execute(
            locked.conn(),
            &sql::create_tracking_table(&table, create_schema),
        )
        .await
        .map_err(Error::database("creating the tracking table"))?;
    }
    tracing::debug!(
        table = table.qualified(),
        "creating the digest table and its trigger"
    );
    locked.set_in_transaction(true);
    let created = execute(
        locked.conn(),
        &sql::create_digest_objects(&table, found.digest_table),
    )
    .await;
    match created {
        Ok(()) => {
            locked.set_in_transaction(false);
            Ok(Some(true))
        }
        Err(e) if e.as_db_error().is_some() => {
            locked.roll_back().await;
            if kept {
                // An earlier version's trigger this role may not replace
                // still keeps the digest row true; only a fleet's read of
                // the digest from the catalog is lost.
                tracing::debug!(
                    table = table.qualified(),
                    error = %e,
                    "cannot replace the digest's trigger function with this version's"
                );
            } else {
                tracing::info!(
                    table = table.qualified(),
                    error = %e,
                    "cannot create the digest table beside the tracking table: each start reads the whole table instead"
                );
            }
            Ok(Some(kept))
        }
        Err(e) => Err(Error::database("creating the digest table")(e)),
    }
}

/// Every row, in version order.
pub(crate) async fn read<C: Connection>(
    conn: &mut C,
    table: &TrackingTable,
) -> Result<Vec<Row>, Error> {
    conn.simple_query(&sql::read_history(table))
        .await
        .map(|messages| reply::history(&messages))
        .map_err(Error::database("reading the tracking table"))
}

/// Every row, in version order; none if the table does not exist. Reads
/// only: creates nothing.
pub(crate) async fn read_if_exists<C: Connection>(
    conn: &mut C,
    table: &TrackingTable,
) -> Result<Vec<Row>, Error> {
    match conn.simple_query(&sql::read_history(table)).await {
        Ok(messages) => Ok(reply::history(&messages)),
        Err(e) if e.code().is_some_and(|c| c.code() == UNDEFINED_TABLE) => Ok(Vec::new()),
        Err(e) => Err(Error::database("reading the tracking table")(e)),
    }
}

/// Writes a migration's row, in a transaction of its own.
pub(crate) async fn write<C: Connection>(
    locked: &mut Locked<'_, C>,
    record: &Record<'_>,
) -> Result<(), DbError> {
    let query = sql::write_record(locked.table(), record);
    execute(locked.conn(), &query).await
}

/// Writes several rows in one transaction.
pub(crate) async fn write_all<C: Connection>(
    locked: &mut Locked<'_, C>,
    records: &[Record<'_>],
) -> Result<(), Error> {
    let query = sql::write_records(locked.table(), records);
    locked.set_in_transaction(true);
    let written = execute(locked.conn(), &query).await;
    match written {
        Ok(()) => {
            locked.set_in_transaction(false);
            Ok(())
        }
        Err(e) => {
            locked.roll_back().await;
            Err(lock_lost_or(
                locked.table(),
                None,
                "writing the tracking table",
                e,
            ))
        }
    }
}

/// Removes the rows of `versions`.
pub(crate) async fn delete<C: Connection>(
    locked: &mut Locked<'_, C>,
    versions: &[i64],
) -> Result<(), Error> {
    let query = sql::delete_records(locked.table(), versions);
    execute(locked.conn(), &query).await.map_err(|e| {
        lock_lost_or(
            locked.table(),
            None,
            "removing rows of the tracking table",
            e,
        )
    })
}

/// Records an operator's acceptance of an applied migration's new checksum.
pub(crate) async fn accept_checksum<C: Connection>(
    locked: &mut Locked<'_, C>,
    version: i64,
    checksum: &str,
    note: &str,
) -> Result<(), Error> {
    let query = sql::accept_checksum(locked.table(), version, checksum, note);
    execute(locked.conn(), &query).await.map_err(|e| {
        lock_lost_or(
            locked.table(),
            None,
            "updating a checksum in the tracking table",
            e,
        )
    })
}

/// Whether `error` is a write's refusal because the session no longer
/// holds the migration lock.
pub(crate) fn is_lock_lost(error: &DbError) -> bool {
    error
        .as_db_error()
        .is_some_and(|db| db.message().contains(sql::LOCK_LOST))
}

/// [`Error::LockLost`] if `error` says the lock was lost during the
/// migration `version` (with its file), else a database error while `doing`.
pub(crate) fn lock_lost_or(
    table: &TrackingTable,
    migration: Option<(i64, &'static str)>,
    doing: &'static str,
    error: DbError,
) -> Error {
    if is_lock_lost(&error) {
        Error::LockLost {
            table: table.qualified().to_owned(),
            migration,
        }
    } else {
        Error::database(doing)(error)
    }
}
