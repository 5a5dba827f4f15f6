//! Every SQL text stowage sends of its own. Names are always quoted and
//! values always escaped, never trusted; the replies are read in
//! [`reply`](super::reply).

use crate::data::history::Record;
use crate::rules::table_name::TableName;
use crate::rules::timeouts::Timeouts;
use crate::rules::tracking_table::TrackingTable;
use postgres_protocol::escape::{escape_identifier as ident, escape_literal as literal};
use stowage_core::effect::{Effect, Lookup, Name, ObjectKind, ReindexTarget};

/// The table of history digests, one per schema that holds a tracking table.
pub(crate) const DIGEST_TABLE: &str = "stowage_digest";

/// The trigger function that deletes a tracking table's digest, and the
/// trigger that calls it (trigger names belong to their table).
pub(crate) const DIGEST_CLEAR: &str = "stowage_digest_clear";

/// The digest of a tracking table's successful rows, as an SQL aggregate
/// over it: SHA-256 over `"{version} {checksum}"` lines in version order, the
/// same text as the binary's digest.
const DIGEST: &str = "encode(sha256(convert_to(coalesce(string_agg(version::text || ' ' || checksum, E'\\n' \
     ORDER BY version) FILTER (WHERE success), ''), 'UTF8')), 'hex')";

pub(crate) const COMMIT: &str = "COMMIT";
pub(crate) const ROLLBACK: &str = "ROLLBACK";
pub(crate) const CURRENT_SCHEMA: &str = "SELECT current_schema()";
/// The database and the current schema: where a health check's remembered
/// schema check is looked up.
pub(crate) const DATABASE_AND_SCHEMA: &str = "SELECT current_database(), current_schema()";

// ---------------------------------------------------------------- quick check

/// The quick check of a start with nothing to do: each digest row of the
/// schema, the session's current schema, the oid that the tracking table's
/// name resolves to now, and the state of the trigger that keeps the digest
/// true. Its size depends only on the names.
pub(crate) fn quick_check(name: &TableName) -> String {
    let (digests, tracking) = match &name.schema {
        Some(schema) => (
            format!("{}.{DIGEST_TABLE}", ident(schema)),
            format!("{}.{}", ident(schema), ident(&name.table)),
        ),
        None => (DIGEST_TABLE.to_owned(), ident(&name.table)),
    };
    let tracking = literal(&tracking);
    format!(
        "SELECT tracking, schema, digest, current_schema(), to_regclass({tracking})::oid, \
         (SELECT tgenabled FROM pg_catalog.pg_trigger WHERE tgrelid = to_regclass({tracking}) \
         AND tgname = {}) FROM {digests}",
        literal(DIGEST_CLEAR)
    )
}

/// The quick check where there is no digest row to read: computes the
/// digest over the tracking table itself, and says whether the session may
/// write the digest (the digest table's rows, and the lock that keeps
/// writers of the tracking table out). Columns: the table is in the current
/// schema (or one was named), digest, all rows successful, the schema, may
/// write.
pub(crate) fn computed_quick_check(name: &TableName) -> String {
    let all_ok = "coalesce(bool_and(success), true)";
    let may_write = |digests: &str, tracking: &str| {
        format!(
            "coalesce(has_table_privilege(to_regclass({digests}), 'INSERT') \
             AND has_table_privilege(to_regclass({digests}), 'DELETE') \
             AND has_table_privilege({tracking}, 'INSERT'), false)"
        )
    };
    match &name.schema {
        Some(schema) => {
            let table = format!("{}.{}", ident(schema), ident(&name.table));
            format!(
                "SELECT true, {DIGEST}, {all_ok}, {}, {} FROM {table}",
                literal(schema),
                may_write(
                    &literal(&format!("{}.{DIGEST_TABLE}", ident(schema))),
                    &literal(&table)
                )
            )
        }
        None => {
            let table = ident(&name.table);
            format!(
                "SELECT c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()), \
                 h.digest, h.all_ok, current_schema(), {} \
                 FROM (SELECT {DIGEST} AS digest, {all_ok} AS all_ok FROM {table}) h, \
                 pg_catalog.pg_class c WHERE c.oid = {}::regclass",
                may_write(
                    &format!(
                        "quote_ident(current_schema()) || {}",
                        literal(&format!(".{DIGEST_TABLE}"))
                    ),
                    "c.oid"
                ),
                literal(&table)
            )
        }
    }
}

/// Writes the digest row of `table`, if every row of the table is
/// successful. The table is locked against writes meanwhile (and against
/// another session writing its digest), so that a change by hand commits
/// either before the digest is computed or after it is written, and its
/// trigger then deletes it; that makes it safe without the migration lock.
/// The lock is not waited for: while someone is writing the table, nothing
/// is written, and a later start writes it.
pub(crate) fn write_digest(table: &TrackingTable) -> String {
    let digests = format!("{}.{DIGEST_TABLE}", ident(table.schema()));
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

// ----------------------------------------------------------------------- lock

/// Tries the migration lock of `table`, without waiting, and names the
/// server process holding it if another does. pg_locks shows a bigint
/// advisory key as its high and low 32 bits.
pub(crate) fn try_lock(table: &TrackingTable) -> String {
    let key = table.lock_key();
    format!(
        "SELECT pg_try_advisory_lock({key}), (SELECT min(pid) FROM pg_catalog.pg_locks \
         WHERE locktype = 'advisory' AND granted AND {} AND pid <> pg_backend_pid())",
        lock_key_matches(key)
    )
}

/// Releases the migration lock of `table`.
pub(crate) fn unlock(table: &TrackingTable) -> String {
    format!("SELECT pg_advisory_unlock({})", table.lock_key())
}

/// Releases the migration lock of `table` if this session holds it, without
/// a warning if it does not: for cleaning up after a run that was dropped.
pub(crate) fn unlock_if_held(table: &TrackingTable) -> String {
    let key = table.lock_key();
    format!(
        "SELECT pg_advisory_unlock({key}) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' \
         AND granted AND pid = pg_backend_pid() AND {}",
        lock_key_matches(key)
    )
}

fn lock_key_matches(key: i64) -> String {
    format!(
        "classid = {} AND objid = {} AND objsubid = 1",
        (key as u64) >> 32,
        (key as u64) & 0xffff_ffff
    )
}

/// The dirty no-transaction migration whose statement server process `pid`
/// still runs, its client gone: its version and statements done.
pub(crate) fn running_statement(table: &TrackingTable, pid: i32) -> String {
    format!(
        "SELECT version, statements_done FROM {} t WHERE NOT success AND statements_total IS NOT NULL \
         AND (to_jsonb(t) ->> 'statement_pid')::integer = {pid} AND EXISTS (\
         SELECT FROM pg_catalog.pg_stat_activity a WHERE a.pid = {pid} \
         AND a.backend_start = (to_jsonb(t) ->> 'statement_backend_start')::timestamptz)",
        table.qualified()
    )
}

/// A condition that is true while this session holds the migration lock of
/// `table`, and otherwise raises an error naming `version`: every write to
/// the tracking table carries it, so that a write after the lock was lost
/// fails, and the migration's transaction fails with it.
fn lock_still_held(table: &TrackingTable, version: Option<i64>) -> String {
    let key = table.lock_key();
    let what = match version {
        Some(v) => format!("{LOCK_LOST} during migration {v}"),
        None => LOCK_LOST.to_owned(),
    };
    format!(
        "(CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted \
         AND pid = pg_catalog.pg_backend_pid() AND {}) THEN 'true' ELSE {} END)::boolean",
        lock_key_matches(key),
        literal(&what)
    )
}

/// The words of the error a write raises when the session lost the lock.
pub(crate) const LOCK_LOST: &str = "stowage: the migration lock was released";

// ------------------------------------------------------------ tracking table

/// The columns that record which server process runs a no-transaction
/// migration's statements, and the transaction of the last record written
/// before the statement that runs.
const STATEMENT_COLUMNS: [(&str, &str); 3] = [
    ("statement_pid", "integer"),
    ("statement_backend_start", "timestamptz"),
    ("statement_xid", "bigint"),
];

/// Whether the tracking table's schema, the table, its digest table and the
/// digest's trigger exist, the trigger's state (`A` when it fires in every
/// session mode), and whether the table has the statement columns.
pub(crate) fn find_tracking_objects(table: &TrackingTable) -> String {
    let tracking = literal(table.qualified());
    let columns: Vec<String> = STATEMENT_COLUMNS.iter().map(|(c, _)| literal(c)).collect();
    format!(
        "SELECT to_regnamespace({}) IS NOT NULL, to_regclass({tracking}) IS NOT NULL, \
         to_regclass({}) IS NOT NULL, (SELECT tgenabled FROM pg_catalog.pg_trigger \
         WHERE tgrelid = to_regclass({tracking}) AND tgname = {}), \
         (SELECT count(*) = {} FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass({tracking}) \
         AND attname IN ({}) AND NOT attisdropped)",
        literal(&ident(table.schema())),
        literal(&format!("{}.{DIGEST_TABLE}", ident(table.schema()))),
        literal(DIGEST_CLEAR),
        STATEMENT_COLUMNS.len(),
        columns.join(", "),
    )
}

/// Adds the statement columns to a tracking table made by an earlier
/// version.
pub(crate) fn add_statement_columns(table: &TrackingTable) -> String {
    let adds: Vec<String> = STATEMENT_COLUMNS
        .iter()
        .map(|(name, kind)| format!("ADD COLUMN IF NOT EXISTS {name} {kind}"))
        .collect();
    format!("ALTER TABLE {} {}", table.qualified(), adds.join(", "))
}

/// Creates the tracking table, and its schema first when `create_schema`.
pub(crate) fn create_tracking_table(table: &TrackingTable, create_schema: bool) -> String {
    let mut ddl = String::new();
    if create_schema {
        ddl.push_str(&format!(
            "CREATE SCHEMA IF NOT EXISTS {};\n",
            ident(table.schema())
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
    note text,
    statement_pid integer,
    statement_backend_start timestamptz,
    statement_xid bigint
)",
        table.qualified()
    ));
    ddl
}

/// Creates the digest table (unless `digest_table_exists`), the trigger
/// function and the trigger on `table`, enabled in every session mode, and
/// drops any digest row of it, in one transaction: for a new tracking
/// table, one whose digest objects were dropped, or one whose trigger was
/// disabled or created by an earlier version. Quietly: no notice for what
/// is not there to drop.
///
/// The function runs with its owner's rights, so that a role that may write
/// the tracking table need not be granted the digest table. Its body names
/// only the schema-qualified digest table and `pg_catalog`'s operator, so
/// the caller's `search_path` cannot change what it does.
pub(crate) fn create_digest_objects(table: &TrackingTable, digest_table_exists: bool) -> String {
    let schema = ident(table.schema());
    let digests = format!("{schema}.{DIGEST_TABLE}");
    let function = format!("{schema}.{DIGEST_CLEAR}");
    let tracking = table.qualified();
    let (create, clear) = if digest_table_exists {
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
SET LOCAL client_min_messages = warning;
{create}CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS {body};
DROP TRIGGER IF EXISTS {DIGEST_CLEAR} ON {tracking};
CREATE TRIGGER {DIGEST_CLEAR} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {tracking}
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
ALTER TABLE {tracking} ENABLE ALWAYS TRIGGER {DIGEST_CLEAR};
{clear}COMMIT",
        body = literal(&body),
    )
}

/// Every row of the tracking table, in version order; `applied_at` as RFC
/// 3339 in UTC. The statement columns are read through the row as JSON, so
/// that a table made by an earlier version, without them, reads as well;
/// for a dirty row, whether the server process that ran its statement is
/// still running, its client gone.
pub(crate) fn read_history(table: &TrackingTable) -> String {
    format!(
        "SELECT version, name, checksum, success, error, statements_done, statements_total, \
         to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), applied_by, \
         execution_ms, note, (to_jsonb(t) ->> 'statement_pid')::integer, \
         (to_jsonb(t) ->> 'statement_xid')::bigint, \
         CASE WHEN NOT success AND statements_total IS NOT NULL THEN EXISTS (\
         SELECT FROM pg_catalog.pg_stat_activity a \
         WHERE a.pid = (to_jsonb(t) ->> 'statement_pid')::integer \
         AND a.backend_start = (to_jsonb(t) ->> 'statement_backend_start')::timestamptz \
         AND a.pid <> pg_catalog.pg_backend_pid()) END \
         FROM {} t ORDER BY version",
        table.qualified()
    )
}

/// Writes a migration's row, if this session still holds the lock. A
/// failure never replaces a success: a failed or unfinished run's row is not
/// written over the row of a run that succeeded. The row of a no-transaction
/// migration under way also records the server process that runs its
/// statements and the transaction that writes the row.
pub(crate) fn write_record(table: &TrackingTable, record: &Record<'_>) -> String {
    let (done, total) = match record.progress {
        Some((done, total)) => (done.to_string(), total.to_string()),
        None => ("NULL".to_owned(), "NULL".to_owned()),
    };
    let text = |value: Option<&str>| value.map_or_else(|| "NULL".to_owned(), literal);
    let keep_success = if record.success {
        ""
    } else {
        " WHERE NOT r.success"
    };
    let (statement_columns, statement_values, statement_updates) = if !table.records_statements() {
        ("", "", "")
    } else if record.progress.is_some() && !record.success {
        (
            ", statement_pid, statement_backend_start, statement_xid",
            ", pg_catalog.pg_backend_pid(), (SELECT backend_start FROM pg_catalog.pg_stat_activity \
             WHERE pid = pg_catalog.pg_backend_pid()), pg_catalog.pg_current_xact_id()::text::bigint",
            ", statement_pid = excluded.statement_pid, \
             statement_backend_start = excluded.statement_backend_start, \
             statement_xid = excluded.statement_xid",
        )
    } else {
        (
            "",
            "",
            ", statement_pid = NULL, statement_backend_start = NULL, statement_xid = NULL",
        )
    };
    format!(
        "INSERT INTO {table} AS r (version, name, checksum, execution_ms, success, error, \
         statements_done, statements_total, note{statement_columns}) \
         SELECT {version}, {name}, {checksum}, {ms}, {success}, {error}, {done}, {total}, {note}{statement_values} \
         WHERE {held} \
         ON CONFLICT (version) DO UPDATE SET name = excluded.name, checksum = excluded.checksum, \
         applied_at = now(), applied_by = current_user, execution_ms = excluded.execution_ms, \
         success = excluded.success, error = excluded.error, \
         statements_done = excluded.statements_done, statements_total = excluded.statements_total, \
         note = excluded.note{statement_updates}{keep_success}",
        table = table.qualified(),
        version = record.version,
        name = literal(record.name),
        checksum = literal(record.checksum),
        ms = record.execution_ms,
        success = record.success,
        error = text(record.error),
        note = text(record.note),
        held = lock_still_held(table, Some(record.version)),
    )
}

/// Several migrations' rows in one transaction.
pub(crate) fn write_records(table: &TrackingTable, records: &[Record<'_>]) -> String {
    let mut sql = String::from("BEGIN;\n");
    for record in records {
        sql.push_str(&write_record(table, record));
        sql.push_str(";\n");
    }
    sql.push_str(COMMIT);
    sql
}

/// Removes the rows of `versions`, if this session still holds the lock.
pub(crate) fn delete_records(table: &TrackingTable, versions: &[i64]) -> String {
    let list: Vec<String> = versions.iter().map(i64::to_string).collect();
    format!(
        "DELETE FROM {} WHERE version IN ({}) AND {}",
        table.qualified(),
        list.join(", "),
        lock_still_held(table, None)
    )
}

/// Records an operator's acceptance of an applied migration's new checksum,
/// if this session still holds the lock.
pub(crate) fn accept_checksum(
    table: &TrackingTable,
    version: i64,
    checksum: &str,
    note: &str,
) -> String {
    format!(
        "UPDATE {} SET checksum = {}, note = {} WHERE version = {version} AND {}",
        table.qualified(),
        literal(checksum),
        literal(note),
        lock_still_held(table, None)
    )
}

// ----------------------------------------------------------------- migrations

/// Opens a transaction for a migration's script, with its timeouts: sent in
/// front of the script, in the same query.
pub(crate) fn begin_with(timeouts: Timeouts) -> String {
    let mut sql = String::from("BEGIN;");
    for (name, ms) in timeouts.settings() {
        sql.push_str(&format!(" SET LOCAL {name} = '{ms}ms';"));
    }
    sql.push('\n');
    sql
}

/// Sets the timeouts for the session, for a migration run in autocommit,
/// and reads what they were, to be restored after it.
pub(crate) fn set_session_timeouts(timeouts: Timeouts) -> String {
    let mut sql = String::from(
        "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')",
    );
    for (name, ms) in timeouts.settings() {
        sql.push_str(&format!("; SET {name} = '{ms}ms'"));
    }
    sql
}

/// Puts the session's timeouts back as they were.
pub(crate) fn restore_session_timeouts(lock: &str, statement: &str) -> String {
    format!(
        "SET lock_timeout = {}; SET statement_timeout = {}",
        literal(lock),
        literal(statement)
    )
}

/// Drops an INVALID index, named as the catalog gave it (`format('%I.%I')`).
pub(crate) fn drop_index_concurrently(qualified: &str) -> String {
    format!("DROP INDEX CONCURRENTLY IF EXISTS {qualified}")
}

// ------------------------------------------------- an interrupted statement

/// The query that shows in the catalog what `what` made or dropped (see
/// [`reply::facts`](super::reply::facts) for its reading), or `None` when
/// the catalog shows nothing of it. `xid` is the transaction of the record
/// written just before the statement: a catalog row written after it is
/// the statement's work.
pub(crate) fn facts(what: &Effect, xid: Option<i64>) -> Option<String> {
    Some(match what {
        Effect::CreateIndexConcurrently {
            name: Some(name), ..
        } => object_facts(ObjectKind::Index, name, xid, false),
        Effect::Create { kind, name, .. } => object_facts(*kind, name, xid, true),
        Effect::CreateIndexConcurrently {
            name: None, table, ..
        } => format!(
            "SELECT format('%I.%I', ns.nspname, c.relname), i.indisvalid \
             FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
             JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace \
             WHERE i.indrelid = to_regclass({}) AND {}",
            literal(table.sql()),
            newer("c", xid?)
        ),
        Effect::DropIndexConcurrently { names, .. } => any_exists(ObjectKind::Index, names),
        Effect::Drop { kind, names, .. } => any_exists(*kind, names),
        Effect::ReindexConcurrently { target } => {
            let leftover = "NOT i.indisvalid AND c.relname ~ '_cc(new|old)[0-9]*$'";
            let which = match target {
                ReindexTarget::Index(name) => format!(
                    "c.relnamespace = (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid = to_regclass({})) \
                     AND left(c.relname, {}) = {}",
                    literal(name.sql()),
                    last_part(name).chars().count(),
                    literal(last_part(name))
                ),
                ReindexTarget::Table(name) => format!(
                    "i.indrelid IN (SELECT oid FROM pg_catalog.pg_class WHERE oid = to_regclass({t}) \
                     UNION ALL SELECT reltoastrelid FROM pg_catalog.pg_class WHERE oid = to_regclass({t}))",
                    t = literal(name.sql())
                ),
                ReindexTarget::Schema(name) => {
                    format!("c.relnamespace = to_regnamespace({})", literal(name.sql()))
                }
                ReindexTarget::Database => "true".to_owned(),
                ReindexTarget::System => return None,
            };
            format!(
                "SELECT format('%I.%I', ns.nspname, c.relname) FROM pg_catalog.pg_index i \
                 JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
                 JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace \
                 WHERE {leftover} AND {which}"
            )
        }
        Effect::AddEnumValue {
            type_name, label, ..
        } => format!(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_enum WHERE enumtypid = to_regtype({}) \
             AND enumlabel = {})",
            literal(type_name.sql()),
            literal(label)
        ),
        _ => return None,
    })
}

/// The object's own name, as the server reads it.
fn last_part(name: &Name) -> &str {
    name.parts().last().map_or("", String::as_str)
}

/// Whether the catalog row of alias `row` was written after transaction
/// `xid` (of which the 32 bits a row keeps are compared, by age).
fn newer(row: &str, xid: i64) -> String {
    format!(
        "pg_catalog.age({row}.xmin) < pg_catalog.age('{}'::xid)",
        xid.rem_euclid(1 << 32)
    )
}

/// One row: whether the object exists, whether it is valid (an index),
/// whether its catalog row is newer than `xid` (`NULL` without one), and
/// its schema-qualified name (an index). An unqualified name that a
/// `CREATE` (`created`) gave is looked up in the current schema, where the
/// object went, not along the search path, which `pg_catalog` leads.
fn object_facts(kind: ObjectKind, name: &Name, xid: Option<i64>, created: bool) -> String {
    let written = if created && name.parts().len() == 1 {
        format!(
            "pg_catalog.format('%I.%s', current_schema(), {})",
            literal(name.sql())
        )
    } else {
        literal(name.sql())
    };
    let (catalog, key) = match kind.lookup() {
        Lookup::Regclass => ("pg_class", format!("to_regclass({written})")),
        Lookup::Regnamespace => (
            "pg_namespace",
            format!("to_regnamespace({})", literal(name.sql())),
        ),
        Lookup::Regtype => ("pg_type", format!("to_regtype({written})")),
        Lookup::Extension => (
            "pg_extension",
            format!(
                "(SELECT oid FROM pg_catalog.pg_extension WHERE extname = {})",
                literal(last_part(name))
            ),
        ),
    };
    let newer = xid.map_or_else(|| "NULL::boolean".to_owned(), |xid| newer("o", xid));
    let (valid, qualified, joins) = if kind == ObjectKind::Index {
        (
            "coalesce(i.indisvalid, false)",
            "format('%I.%I', ns.nspname, o.relname)",
            " LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = o.oid \
             LEFT JOIN pg_catalog.pg_namespace ns ON ns.oid = o.relnamespace",
        )
    } else {
        ("true", "NULL", "")
    };
    format!(
        "SELECT o.oid IS NOT NULL, {valid}, CASE WHEN o.oid IS NULL THEN NULL ELSE {newer} END, {qualified} \
         FROM (SELECT {key} AS oid) r LEFT JOIN pg_catalog.{catalog} o ON o.oid = r.oid{joins}"
    )
}

/// One row: whether any of the objects exists.
fn any_exists(kind: ObjectKind, names: &[Name]) -> String {
    let exists: Vec<String> = names
        .iter()
        .map(|name| match kind.lookup() {
            Lookup::Regclass => format!("to_regclass({}) IS NOT NULL", literal(name.sql())),
            Lookup::Regnamespace => format!("to_regnamespace({}) IS NOT NULL", literal(name.sql())),
            Lookup::Regtype => format!("to_regtype({}) IS NOT NULL", literal(name.sql())),
            Lookup::Extension => format!(
                "EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = {})",
                literal(last_part(name))
            ),
        })
        .collect();
    format!("SELECT {}", exists.join(" OR "))
}

/// The indexes that are INVALID right now, schema-qualified.
pub(crate) const INVALID_INDEXES: &str = "SELECT format('%I.%I', n.nspname, c.relname) \
     FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid";

// --------------------------------------------------------------- the schema

/// Which schemas [`read_schema`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SchemaScope<'a> {
    /// Every schema but the system's: what a new database holds.
    All,
    /// The session's current schema and these others, named as SQL writes
    /// them (quoted where they must be).
    Named(&'a [String]),
}

/// The name of the placeholder setting that keeps the session's
/// `search_path` while [`read_schema`] sets its own.
const SAVED_SEARCH_PATH: &str = "stowage.search_path";

/// The name of the placeholder setting that keeps the session's current
/// schema while [`read_schema`] reads, with its own `search_path`.
const SAVED_HOME: &str = "stowage.current_schema";

/// Reads the schema from the catalog in one round trip: the session's
/// `search_path` is set to `pg_catalog` and the current schema for the
/// reading, so that the server prints names in the current schema without
/// it, and set back after it, in the same query (and by the end of the
/// implicit transaction, should the reading fail).
///
/// Each row is `kind, schema, name, member, aspect, value, parent` (see
/// [`reply::schema`](super::reply::schema) for the reading): one row with
/// no aspect for each object, one row for each aspect known of it. The
/// first row is the server's: its version number, its current schema,
/// quoted and not, and the database's name. Left out are the system's schemas, the objects of
/// extensions and the ones their types make by themselves (a range's
/// constructors), stowage's own tables and function (any table with the
/// digest's trigger, the digest tables, the trigger function, and
/// `tracking`), what a partitioned table's partitions inherit, and the
/// indexes of constraints. With `grants`, the privileges granted on
/// tables, sequences, functions and schemas to roles other than the
/// owner.
pub(crate) fn read_schema(scope: &SchemaScope<'_>, tracking: &str, grants: bool) -> String {
    let scope = match scope {
        SchemaScope::All => "true".to_owned(),
        SchemaScope::Named(schemas) => {
            let names: Vec<String> = schemas.iter().map(|s| literal(s)).collect();
            format!(
                "(n.nspname = (SELECT name FROM home) OR quote_ident(n.nspname) IN ({}))",
                if names.is_empty() {
                    "NULL".to_owned()
                } else {
                    names.join(", ")
                }
            )
        }
    };
    let grants = if grants { SCHEMA_GRANTS } else { "" };
    format!(
        "SELECT pg_catalog.set_config({saved}, pg_catalog.current_setting('search_path'), true), \
         pg_catalog.set_config({saved_home}, coalesce(pg_catalog.current_schema(), ''), true), \
         pg_catalog.set_config('search_path', 'pg_catalog' || coalesce(', ' || \
         pg_catalog.quote_ident(pg_catalog.current_schema()), ''), true);
{SCHEMA_CATALOG}{grants};
SELECT pg_catalog.set_config('search_path', pg_catalog.current_setting({saved}), true)",
        saved = literal(SAVED_SEARCH_PATH),
        saved_home = literal(SAVED_HOME),
    )
    .replace("{saved_home}", &literal(SAVED_HOME))
    .replace("{scope}", &scope)
    .replace("{tracking}", &literal(tracking))
    .replace("{digest_table}", &literal(DIGEST_TABLE))
    .replace("{digest_clear}", &literal(DIGEST_CLEAR))
}

/// The catalog query of [`read_schema`], run with `search_path` set to
/// `pg_catalog` and the current schema. `{scope}` is replaced by the
/// condition on a schema `n` to be read, `{tracking}` by the tracking
/// table's name, `{digest_table}` and `{digest_clear}` by stowage's names.
const SCHEMA_CATALOG: &str = r#"WITH home AS (
    SELECT nullif(current_setting({saved_home}), '')::name AS name
),
ns AS (
    SELECT n.oid, n.nspname,
           CASE WHEN n.nspname = (SELECT name FROM home) THEN NULL ELSE quote_ident(n.nspname) END AS sch
    FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                      AND d.objid = n.oid AND d.deptype = 'e')
      AND {scope}
),
stowage AS (
    SELECT t.tgrelid AS oid FROM pg_trigger t WHERE t.tgname = {digest_clear}
    UNION SELECT c.oid FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
          WHERE c.relname = {digest_table} AND c.relkind = 'r'
    UNION SELECT to_regclass({tracking})::oid
),
rel AS (
    SELECT c.oid, c.relkind, c.relpersistence, c.relispartition, c.relpartbound,
           c.relrowsecurity, c.relforcerowsecurity, c.reloptions, c.relacl, c.relowner,
           ns.sch, quote_ident(c.relname) AS name,
           concat(ns.sch || '.', quote_ident(c.relname)) AS qname
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'c')
      AND NOT EXISTS (SELECT FROM stowage s WHERE s.oid = c.oid)
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
),
seq AS NOT MATERIALIZED (
    SELECT s.seqrelid, s.seqtypid, o.refobjid AS owner_rel, o.refobjsubid AS owner_column, o.deptype,
           concat_ws(' ',
               CASE WHEN s.seqstart <> b.start THEN 'START WITH ' || s.seqstart END,
               CASE WHEN s.seqincrement <> 1 THEN 'INCREMENT BY ' || s.seqincrement END,
               CASE WHEN s.seqmin <> b.min THEN 'MINVALUE ' || s.seqmin END,
               CASE WHEN s.seqmax <> b.max THEN 'MAXVALUE ' || s.seqmax END,
               CASE WHEN s.seqcache <> 1 THEN 'CACHE ' || s.seqcache END,
               CASE WHEN s.seqcycle THEN 'CYCLE' END) AS options
    FROM pg_sequence s
    LEFT JOIN pg_depend o ON o.classid = 'pg_class'::regclass AND o.objid = s.seqrelid
                         AND o.refclassid = 'pg_class'::regclass AND o.refobjsubid > 0 AND o.deptype IN ('a', 'i')
    CROSS JOIN LATERAL (
        SELECT CASE WHEN s.seqincrement > 0 THEN 1 ELSE t.low END AS min,
               CASE WHEN s.seqincrement > 0 THEN t.high ELSE -1 END AS max,
               CASE WHEN s.seqincrement > 0 THEN 1 ELSE -1 END AS start
        FROM (SELECT CASE s.seqtypid WHEN 'int2'::regtype THEN -32768
                                     WHEN 'int4'::regtype THEN -2147483648
                                     ELSE -9223372036854775808 END AS low,
                     CASE s.seqtypid WHEN 'int2'::regtype THEN 32767
                                     WHEN 'int4'::regtype THEN 2147483647
                                     ELSE 9223372036854775807 END AS high) t
    ) b
),
routine AS (
    SELECT p.oid, p.prokind, p.proacl, p.proowner, ns.sch, quote_ident(p.proname) AS name,
           concat(ns.sch || '.', quote_ident(p.proname)) AS qname
    FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
    WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                      AND d.objid = p.oid AND d.deptype IN ('e', 'i'))
      AND NOT (p.proname = {digest_clear} AND p.pronargs = 0 AND p.prorettype = 'trigger'::regtype)
),
typ AS (
    SELECT t.oid, t.typtype, t.typbasetype, t.typtypmod, t.typnotnull, t.typdefaultbin,
           t.typcollation, ns.sch, quote_ident(t.typname) AS name,
           concat(ns.sch || '.', quote_ident(t.typname)) AS qname
    FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd', 'r')
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                      AND d.objid = t.oid AND d.deptype = 'e')
),
con AS (
    SELECT co.oid, co.conname, co.contype, co.conrelid, co.contypid, co.conindid
    FROM pg_constraint co
    WHERE co.contype <> 'n' AND co.conislocal AND co.conparentid = 0
)
SELECT 'server'::text, NULL::text, current_setting('server_version_num')::text,
       quote_ident((SELECT name FROM home))::text, 'home'::text, (SELECT name FROM home)::text,
       current_database()::text

UNION ALL
SELECT 'schema', NULL, quote_ident(ns.nspname), '', NULL, NULL, NULL FROM ns WHERE ns.sch IS NOT NULL

UNION ALL
SELECT 'extension', NULL, quote_ident(e.extname), '', 'schema',
       CASE WHEN n.nspname = (SELECT name FROM home) THEN NULL ELSE quote_ident(n.nspname) END, NULL
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql' AND (n.nspname = 'pg_catalog' OR n.oid IN (SELECT oid FROM ns))

UNION ALL
SELECT CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' ELSE 'range' END,
       t.sch, t.name, '', 'definition',
       CASE t.typtype
           WHEN 'e' THEN coalesce((SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                   FROM pg_enum e WHERE e.enumtypid = t.oid), '')
           WHEN 'd' THEN concat(format_type(t.typbasetype, t.typtypmod),
                                (SELECT ' COLLATE ' || CASE WHEN pg_collation_is_visible(co.oid) THEN quote_ident(co.collname)
                                                            ELSE format('%I.%I', cn.nspname, co.collname) END
                                 FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                 JOIN pg_type b ON b.oid = t.typbasetype
                                 WHERE co.oid = t.typcollation AND t.typcollation <> b.typcollation),
                                CASE WHEN t.typnotnull THEN ' NOT NULL' END,
                                ' DEFAULT ' || pg_get_expr(t.typdefaultbin, 0))
           ELSE (SELECT 'SUBTYPE = ' || format_type(rg.rngsubtype, NULL) FROM pg_range rg WHERE rg.rngtypid = t.oid)
       END, NULL
FROM typ t

UNION ALL
SELECT 'constraint', t.sch, t.name, quote_ident(co.conname), 'definition', pg_get_constraintdef(co.oid), NULL
FROM con co JOIN typ t ON t.oid = co.contypid

UNION ALL
SELECT 'composite', r.sch, r.name, '', 'definition',
       coalesce((SELECT string_agg(concat(quote_ident(a.attname), ' ', format_type(a.atttypid, a.atttypmod)), ', '
                                   ORDER BY a.attnum)
                 FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped), ''), NULL
FROM rel r WHERE r.relkind = 'c'

UNION ALL
SELECT 'sequence', r.sch, r.name, '', v.aspect, v.value, NULL
FROM rel r JOIN seq s ON s.seqrelid = r.oid
CROSS JOIN LATERAL (VALUES
    ('definition', concat_ws(' ', CASE WHEN s.seqtypid <> 'int8'::regtype THEN 'AS ' || format_type(s.seqtypid, NULL) END,
                             nullif(s.options, ''))),
    ('owned_by', (SELECT s.owner_rel::regclass::text || '.' || quote_ident(a.attname)
                  FROM pg_attribute a WHERE a.attrelid = s.owner_rel AND a.attnum = s.owner_column))) v(aspect, value)
WHERE r.relkind = 'S' AND v.value IS NOT NULL AND s.deptype IS DISTINCT FROM 'i'

UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, p.sch, p.name, '', 'definition',
       pg_get_functiondef(p.oid), p.qname
FROM routine p WHERE p.prokind IN ('f', 'p', 'w')

UNION ALL
SELECT 'aggregate', p.sch, p.name, '(' || pg_get_function_identity_arguments(p.oid) || ')', 'definition',
       '(' || concat_ws(', ', 'SFUNC = ' || a.aggtransfn::regproc::text,
                        'STYPE = ' || format_type(a.aggtranstype, NULL),
                        CASE WHEN a.aggfinalfn::oid <> 0 THEN 'FINALFUNC = ' || a.aggfinalfn::regproc::text END,
                        CASE WHEN a.agginitval IS NOT NULL THEN 'INITCOND = ' || quote_literal(a.agginitval) END) || ')',
       NULL
FROM routine p JOIN pg_aggregate a ON a.aggfnoid = p.oid WHERE p.prokind = 'a'

UNION ALL
SELECT CASE WHEN r.relkind = 'v' THEN 'view' WHEN r.relkind = 'm' THEN 'matview' ELSE 'table' END,
       r.sch, r.name, '', v.aspect, v.value, NULL
FROM rel r
CROSS JOIN LATERAL (VALUES
    (NULL, NULL),
    ('persistence', CASE WHEN r.relpersistence = 'u' THEN 'UNLOGGED' END),
    ('partition', CASE WHEN r.relispartition THEN
                           concat('PARTITION OF ',
                                  (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = r.oid LIMIT 1),
                                  ' ', pg_get_expr(r.relpartbound, r.oid),
                                  CASE WHEN r.relkind = 'p' THEN ' PARTITION BY ' || pg_get_partkeydef(r.oid) END)
                       WHEN r.relkind = 'p' THEN 'PARTITION BY ' || pg_get_partkeydef(r.oid) END),
    ('inherits', CASE WHEN NOT r.relispartition AND r.relkind IN ('r', 'p') THEN
                     (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
                      FROM pg_inherits i WHERE i.inhrelid = r.oid) END),
    ('options', array_to_string(r.reloptions, ', ')),
    ('row_security', nullif(concat_ws(', ', CASE WHEN r.relrowsecurity THEN 'ENABLE' END,
                                      CASE WHEN r.relforcerowsecurity THEN 'FORCE' END), '')),
    ('column_order', CASE WHEN r.relkind IN ('r', 'p') AND NOT r.relispartition THEN
                         (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                          WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped) END),
    ('definition', CASE WHEN r.relkind IN ('v', 'm') THEN pg_get_viewdef(r.oid, true) END)) v(aspect, value)
WHERE r.relkind IN ('r', 'p', 'v', 'm') AND (v.aspect IS NULL OR v.value IS NOT NULL)

UNION ALL
SELECT 'column', r.sch, r.name, quote_ident(a.attname), v.aspect, v.value, NULL
FROM rel r
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
CROSS JOIN LATERAL (VALUES
    ('type', format_type(a.atttypid, a.atttypmod)),
    ('collation', (SELECT CASE WHEN pg_collation_is_visible(co.oid) THEN quote_ident(co.collname)
                               ELSE format('%I.%I', cn.nspname, co.collname) END
                   FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                   WHERE co.oid = a.attcollation AND a.attcollation <> t.typcollation)),
    ('not_null', CASE WHEN a.attnotnull THEN 'NOT NULL' END),
    ('identity', CASE WHEN a.attidentity IN ('a', 'd') THEN
                     concat(CASE a.attidentity WHEN 'a' THEN 'GENERATED ALWAYS AS IDENTITY'
                                               ELSE 'GENERATED BY DEFAULT AS IDENTITY' END,
                            (SELECT ' (' || nullif(si.options, '') || ')' FROM seq si
                             WHERE si.owner_rel = a.attrelid AND si.owner_column = a.attnum
                               AND si.deptype = 'i')) END),
    ('default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END),
    ('generated', CASE a.attgenerated
                      WHEN 's' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(ad.adbin, ad.adrelid) || ') STORED'
                      WHEN 'v' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(ad.adbin, ad.adrelid) || ') VIRTUAL' END)
) v(aspect, value)
WHERE r.relkind IN ('r', 'p') AND NOT r.relispartition AND v.value IS NOT NULL

UNION ALL
SELECT 'constraint', r.sch, r.name, quote_ident(co.conname), 'definition', pg_get_constraintdef(co.oid), NULL
FROM con co JOIN rel r ON r.oid = co.conrelid

UNION ALL
SELECT 'index', r.sch, quote_ident(ic.relname), '', v.aspect, v.value, r.name
FROM pg_index i JOIN rel r ON r.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
CROSS JOIN LATERAL (VALUES ('definition', pg_get_indexdef(i.indexrelid)),
                           ('validity', CASE WHEN NOT i.indisvalid THEN 'INVALID' END)) v(aspect, value)
WHERE v.value IS NOT NULL
  AND NOT EXISTS (SELECT FROM con co WHERE co.conindid = i.indexrelid AND co.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT FROM pg_constraint co WHERE co.conindid = i.indexrelid AND co.conparentid <> 0)
  AND NOT EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)

UNION ALL
SELECT 'trigger', r.sch, r.name, quote_ident(tg.tgname), v.aspect, v.value, r.name
FROM pg_trigger tg JOIN rel r ON r.oid = tg.tgrelid
CROSS JOIN LATERAL (VALUES ('definition', pg_get_triggerdef(tg.oid)),
                           ('enabled', CASE tg.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA'
                                                         WHEN 'A' THEN 'ENABLE ALWAYS' END)) v(aspect, value)
WHERE NOT tg.tgisinternal AND tg.tgparentid = 0 AND v.value IS NOT NULL

UNION ALL
SELECT 'policy', r.sch, r.name, quote_ident(p.polname), 'definition',
       concat('AS ', CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
              ' FOR ', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                     WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
              ' TO ', (SELECT string_agg(CASE WHEN g = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(g)) END,
                                         ', ' ORDER BY 1) FROM unnest(p.polroles) g),
              ' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')',
              ' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')'), NULL
FROM pg_policy p JOIN rel r ON r.oid = p.polrelid

UNION ALL
SELECT 'comment', NULL, c.target, '', 'text', quote_literal(c.description), NULL
FROM (
    SELECT CASE r.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'S' THEN 'SEQUENCE '
                          WHEN 'c' THEN 'TYPE ' ELSE 'TABLE ' END || r.qname AS target, d.description
    FROM pg_description d JOIN rel r ON r.oid = d.objoid
    WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0
    UNION ALL
    SELECT 'COLUMN ' || r.qname || '.' || quote_ident(a.attname), d.description
    FROM pg_description d JOIN rel r ON r.oid = d.objoid
    JOIN pg_attribute a ON a.attrelid = d.objoid AND a.attnum = d.objsubid
    WHERE d.classoid = 'pg_class'::regclass AND d.objsubid > 0
    UNION ALL
    SELECT 'INDEX ' || concat(r.sch || '.', quote_ident(ic.relname)), d.description
    FROM pg_description d JOIN pg_index i ON i.indexrelid = d.objoid JOIN rel r ON r.oid = i.indrelid
    JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0
    UNION ALL
    SELECT 'CONSTRAINT ' || quote_ident(co.conname) || ' ON ' || coalesce(r.qname, 'DOMAIN ' || t.qname),
           d.description
    FROM pg_description d JOIN con co ON co.oid = d.objoid
    LEFT JOIN rel r ON r.oid = co.conrelid LEFT JOIN typ t ON t.oid = co.contypid
    WHERE d.classoid = 'pg_constraint'::regclass AND (r.oid IS NOT NULL OR t.oid IS NOT NULL)
    UNION ALL
    SELECT 'TRIGGER ' || quote_ident(tg.tgname) || ' ON ' || r.qname, d.description
    FROM pg_description d JOIN pg_trigger tg ON tg.oid = d.objoid JOIN rel r ON r.oid = tg.tgrelid
    WHERE d.classoid = 'pg_trigger'::regclass
    UNION ALL
    SELECT 'POLICY ' || quote_ident(p.polname) || ' ON ' || r.qname, d.description
    FROM pg_description d JOIN pg_policy p ON p.oid = d.objoid JOIN rel r ON r.oid = p.polrelid
    WHERE d.classoid = 'pg_policy'::regclass
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' WHEN 'a' THEN 'AGGREGATE ' ELSE 'FUNCTION ' END
           || p.qname || '(' || pg_get_function_identity_arguments(p.oid) || ')', d.description
    FROM pg_description d JOIN routine p ON p.oid = d.objoid
    WHERE d.classoid = 'pg_proc'::regclass
    UNION ALL
    SELECT CASE WHEN t.typtype = 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || t.qname, d.description
    FROM pg_description d JOIN typ t ON t.oid = d.objoid
    WHERE d.classoid = 'pg_type'::regclass
    UNION ALL
    SELECT 'SCHEMA ' || ns.sch, d.description
    FROM pg_description d JOIN ns ON ns.oid = d.objoid
    WHERE d.classoid = 'pg_namespace'::regclass AND ns.sch IS NOT NULL
) c"#;

/// The grants of [`read_schema`], when asked for: one row per object,
/// grantee and grant option, privileges in alphabetical order.
const SCHEMA_GRANTS: &str = r#"

UNION ALL
SELECT 'grant', NULL, g.target, g.grantee || CASE WHEN g.grantable THEN ' WITH GRANT OPTION' ELSE '' END,
       'privileges', string_agg(g.privilege, ', ' ORDER BY g.privilege), NULL
FROM (
    SELECT CASE r.relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || r.qname AS target,
           CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END AS grantee,
           x.is_grantable AS grantable, x.privilege_type AS privilege
    FROM rel r CROSS JOIN LATERAL aclexplode(r.relacl) x
    WHERE r.relkind IN ('r', 'p', 'v', 'm', 'S') AND x.grantee <> r.relowner
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END
           || p.qname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
           CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END,
           x.is_grantable, x.privilege_type
    FROM routine p CROSS JOIN LATERAL aclexplode(p.proacl) x
    WHERE x.grantee <> p.proowner
    UNION ALL
    SELECT 'SCHEMA ' || ns.sch,
           CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END,
           x.is_grantable, x.privilege_type
    FROM ns JOIN pg_namespace n ON n.oid = ns.oid CROSS JOIN LATERAL aclexplode(n.nspacl) x
    WHERE ns.sch IS NOT NULL AND x.grantee <> n.nspowner
) g
GROUP BY g.target, g.grantee, g.grantable"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_are_quoted_not_injected() {
        let table = TrackingTable::new("s".into(), r#"a"; drop table x; --"#.into(), false);
        let record = Record {
            version: 1,
            name: "it's",
            checksum: r"c\",
            execution_ms: 0,
            success: true,
            error: None,
            progress: None,
            note: None,
        };
        let sql = write_record(&table, &record);
        assert!(
            sql.contains(r#"INSERT INTO "s"."a""; drop table x; --" AS r"#),
            "{sql}"
        );
        assert!(sql.contains("'it''s'"), "{sql}");
        assert!(sql.contains(r" E'c\\'"), "{sql}");
    }

    #[test]
    fn a_failure_never_replaces_a_success_and_every_write_checks_the_lock() {
        let table = TrackingTable::new("public".into(), "t".into(), false);
        let failure = Record {
            version: 2,
            name: "b",
            checksum: "c",
            execution_ms: 1,
            success: false,
            error: Some("ERROR"),
            progress: None,
            note: None,
        };
        let sql = write_record(&table, &failure);
        assert!(sql.ends_with(" WHERE NOT r.success"), "{sql}");
        assert!(sql.contains("during migration 2"), "{sql}");
        let success = write_record(
            &table,
            &Record {
                success: true,
                ..failure
            },
        );
        assert!(!success.contains("NOT r.success"), "{success}");
        for sql in [
            delete_records(&table, &[1, 2]),
            accept_checksum(&table, 1, "c", "n"),
        ] {
            assert!(sql.contains(LOCK_LOST), "{sql}");
        }
    }
}
