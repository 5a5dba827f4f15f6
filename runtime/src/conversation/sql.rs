//! Every SQL text stowage sends of its own. Names are always quoted and
//! values always escaped, never trusted; the replies are read in
//! [`reply`](super::reply).

use crate::data::history::Record;
use crate::data::registry::{Created, RepeatableKind as Creates};
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

/// The table of the schema checks that found a schema as its file says,
/// one row per schema, in the tracking table's schema.
pub(crate) const SCHEMA_CHECKS_TABLE: &str = "stowage_schema_checks";

/// The comment on the digest table, which says what it is. A line
/// `{oid} {digest}` may follow, the digest of the tracking table written
/// last, so that a fleet can read its tenants' digests from the catalog
/// without opening each table; the trigger puts the comment back to this
/// text whenever any tracking table of the schema changes.
const DIGEST_COMMENT: &str = "The digest of each tracking table of stowage migrations in this schema, \
     for a quick check at start; a trigger on the tracking table deletes its row when the table changes.";

/// What the source of a trigger function that keeps the digest table's
/// comment true holds; an earlier version's does not, and its comment is
/// not trusted.
const CLEARS_COMMENT: &str = "COMMENT ON TABLE";

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
    // The comment takes the line of this table alone (so it never holds a
    // line of a table whose trigger may have run since), and only where
    // the trigger's function is the one that clears it and may (its owner
    // being the digest table's, or a member).
    let comment = format!(
        "DECLARE line text; BEGIN IF EXISTS (SELECT FROM pg_trigger g JOIN pg_proc f ON f.oid = g.tgfoid \
         JOIN pg_class d ON d.oid = {name}::regclass WHERE g.tgrelid = {oid}::regclass \
         AND g.tgname = {clear} AND strpos(f.prosrc, {marker}) > 0 \
         AND pg_has_role(f.proowner, d.relowner, 'USAGE') AND pg_has_role(d.relowner, 'USAGE')) THEN \
         SELECT chr(10) || tracking || ' ' || digest INTO line FROM {digests} WHERE tracking = {oid}::regclass; \
         EXECUTE format('COMMENT ON TABLE %s IS %L', {name}, {head} || coalesce(line, '')); END IF; END",
        name = literal(&digests),
        clear = literal(DIGEST_CLEAR),
        marker = literal(CLEARS_COMMENT),
        head = literal(DIGEST_COMMENT),
    );
    format!(
        "BEGIN;
LOCK TABLE {tracking} IN SHARE ROW EXCLUSIVE MODE NOWAIT;
DELETE FROM {digests} WHERE tracking = {oid}::regclass;
INSERT INTO {digests} (tracking, schema, digest)
    SELECT {oid}::regclass, {schema}, {DIGEST} FROM {tracking} HAVING coalesce(bool_and(success), true);
DO {comment};
COMMIT",
        schema = literal(table.schema()),
        comment = literal(&comment),
    )
}

// ---------------------------------------------------------------------- fleet

/// The schemas a fleet's member selects.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Selection<'a> {
    /// These names.
    Names(&'a [String]),
    /// The names matching a `LIKE` pattern (escaped with `\`), system
    /// schemas left out.
    Like(&'a str),
}

/// Each selected schema that exists (for a pattern, in byte order of the
/// names): its name, whether the session may read its digest table (it
/// exists, and the schema may be used), the oid of tracking table `table`
/// in it, the state of the digest's trigger on that table, and the digest
/// of that table the digest table's comment holds, where the trigger's
/// function keeps that comment true. Reads the catalog only, so it locks
/// no table of the schemas.
pub(crate) fn fleet_schemas(selection: Selection<'_>, table: &str) -> String {
    let which = match selection {
        Selection::Names(names) => {
            let names: Vec<String> = names.iter().map(|n| literal(n)).collect();
            format!("n.nspname = ANY (ARRAY[{}]::name[])", names.join(", "))
        }
        Selection::Like(pattern) => format!(
            "n.nspname LIKE {} ESCAPE {escape} AND n.nspname NOT LIKE {} ESCAPE {escape} \
             AND n.nspname <> 'information_schema'",
            literal(pattern),
            literal("pg\\_%"),
            escape = literal("\\"),
        ),
    };
    format!(
        "SELECT n.nspname, d.oid IS NOT NULL AND has_schema_privilege(n.oid, 'USAGE') \
         AND has_table_privilege(d.oid, 'SELECT'), t.oid, g.tgenabled, \
         CASE WHEN pg_catalog.strpos(f.prosrc, {}) > 0 \
         AND pg_catalog.split_part(c.line, ' ', 1) = t.oid::text THEN pg_catalog.split_part(c.line, ' ', 2) END \
         FROM pg_catalog.pg_namespace n \
         LEFT JOIN pg_catalog.pg_class d ON d.relnamespace = n.oid AND d.relname = {} AND d.relkind = 'r' \
         LEFT JOIN pg_catalog.pg_class t ON t.relnamespace = n.oid AND t.relname = {} AND t.relkind = 'r' \
         LEFT JOIN pg_catalog.pg_trigger g ON g.tgrelid = t.oid AND g.tgname = {} \
         LEFT JOIN pg_catalog.pg_proc f ON f.oid = g.tgfoid \
         LEFT JOIN (SELECT objoid, pg_catalog.split_part(description, pg_catalog.chr(10), 2) AS line \
         FROM pg_catalog.pg_description \
         WHERE classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND objsubid = 0) c ON c.objoid = d.oid \
         WHERE {which} ORDER BY n.nspname COLLATE \"C\"",
        literal(CLEARS_COMMENT),
        literal(DIGEST_TABLE),
        literal(table),
        literal(DIGEST_CLEAR),
    )
}

/// How many schemas' digest tables one transaction reads: each read locks
/// its table until the transaction ends, and the server's lock table is
/// sized for `max_locks_per_transaction` (64 by default) per session, so
/// that many processes starting together do not fill it.
pub(crate) const DIGESTS_PER_TRANSACTION: usize = 50;

/// The digest rows of the tracking tables of `schemas`, each led by its
/// schema's name: one transaction per [`DIGESTS_PER_TRANSACTION`] schemas,
/// all in one query (one round trip).
pub(crate) fn fleet_digests(schemas: &[&str]) -> String {
    let mut sql = String::new();
    for batch in schemas.chunks(DIGESTS_PER_TRANSACTION) {
        let reads: Vec<String> = batch
            .iter()
            .map(|schema| {
                format!(
                    "SELECT {}, tracking, schema, digest FROM {}.{DIGEST_TABLE}",
                    literal(schema),
                    ident(schema)
                )
            })
            .collect();
        sql.push_str("BEGIN;\n");
        sql.push_str(&reads.join("\nUNION ALL "));
        sql.push_str(";\nCOMMIT;\n");
    }
    sql
}

/// Leaves the session as a new one is: no settings, role, temporary
/// tables, prepared statements, open cursors, notifications or session
/// locks of an earlier target (as `DISCARD ALL` does, which cannot share a
/// query); then, for a target in `schema`, creates the schema when
/// `create`, and puts it first on `search_path`, before the connection's
/// own (so that extensions installed in `public` still resolve).
pub(crate) fn prepare_session(schema: Option<&str>, create: bool) -> String {
    let mut sql = String::from(
        "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DEALLOCATE ALL; UNLISTEN *; \
         SELECT pg_catalog.pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; DISCARD SEQUENCES",
    );
    if let Some(schema) = schema {
        if create {
            sql.push_str(&format!("; CREATE SCHEMA IF NOT EXISTS {}", ident(schema)));
        }
        sql.push_str(&format!(
            "; SELECT pg_catalog.set_config('search_path', pg_catalog.concat_ws(', ', {}, \
             NULLIF(pg_catalog.current_setting('search_path'), '')), false)",
            literal(&ident(schema))
        ));
    }
    sql
}

// ----------------------------------------------------------------------- lock

/// Tries the migration lock of `table`, without waiting, and names the
/// server process holding it if another does, in this database (advisory
/// keys are per database). pg_locks shows a bigint advisory key as its high
/// and low 32 bits.
///
/// The lock is taken twice (a session's advisory locks count): the check
/// every write to the tracking table makes, [`lock_still_held`], releases
/// it once and takes it again, which never lets it go while it is held.
pub(crate) fn try_lock(table: &TrackingTable) -> String {
    let key = table.lock_key();
    format!(
        "SELECT CASE WHEN pg_try_advisory_lock({key}) THEN pg_try_advisory_lock({key}) ELSE false END, \
         (SELECT min(pid) FROM pg_catalog.pg_locks \
         WHERE locktype = 'advisory' AND granted AND {} AND pid <> pg_backend_pid() \
         AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()))",
        lock_key_matches(key)
    )
}

/// Releases the migration lock of `table`, as often as [`try_lock`] took
/// it, and as long as this session holds it: without a warning if it does
/// not (after a run that was dropped, or lost the lock).
pub(crate) fn unlock(table: &TrackingTable) -> String {
    let key = table.lock_key();
    let once = format!(
        "SELECT pg_advisory_unlock({key}) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' \
         AND granted AND pid = pg_backend_pid() AND {}",
        lock_key_matches(key)
    );
    format!("{once};\n{once}")
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
///
/// Releasing an advisory lock says whether the session held it. The run
/// holds it twice ([`try_lock`]), so releasing it once and taking it back
/// never lets it go; had something released it (`pg_advisory_unlock_all()`),
/// the release says so. Reading `pg_locks` instead, which copies the
/// server's whole lock table, cost each write about 0.15 ms.
fn lock_still_held(table: &TrackingTable, version: Option<i64>) -> String {
    let key = table.lock_key();
    let what = match version {
        Some(v) => format!("{LOCK_LOST} during migration {v}"),
        None => LOCK_LOST.to_owned(),
    };
    let lost = literal(&what);
    format!(
        "(CASE WHEN pg_catalog.pg_advisory_unlock({key}) THEN \
         CASE WHEN pg_catalog.pg_try_advisory_lock({key}) THEN 'true' ELSE {lost} END \
         ELSE {lost} END)::boolean"
    )
}

/// The words of the error a write raises when the session lost the lock.
pub(crate) const LOCK_LOST: &str = "stowage: the migration lock was released";

// ------------------------------------------------------------ tracking table

/// The columns a tracking table made by an earlier version lacks: those
/// that record which server process runs a no-transaction migration's
/// statements and the transaction of the last record written before the
/// statement that runs, and the objects a repeatable migration created.
const STATEMENT_COLUMNS: [(&str, &str); 4] = [
    ("statement_pid", "integer"),
    ("statement_backend_start", "timestamptz"),
    ("statement_xid", "bigint"),
    ("objects", "jsonb"),
];

/// Whether the tracking table's schema, the table, its digest table and the
/// digest's trigger exist, the trigger's state (`A` when it fires in every
/// session mode), whether the table has the statement columns, and whether
/// the trigger's function keeps the digest table's comment true.
pub(crate) fn find_tracking_objects(table: &TrackingTable) -> String {
    let tracking = literal(table.qualified());
    let columns: Vec<String> = STATEMENT_COLUMNS.iter().map(|(c, _)| literal(c)).collect();
    format!(
        "SELECT to_regnamespace({}) IS NOT NULL, to_regclass({tracking}) IS NOT NULL, \
         to_regclass({}) IS NOT NULL, g.tgenabled, \
         (SELECT count(*) = {} FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass({tracking}) \
         AND attname IN ({}) AND NOT attisdropped), \
         pg_catalog.strpos(p.prosrc, {}) > 0 \
         FROM (SELECT) AS one \
         LEFT JOIN pg_catalog.pg_trigger g ON g.tgrelid = to_regclass({tracking}) AND g.tgname = {clear} \
         LEFT JOIN pg_catalog.pg_proc p ON p.oid = g.tgfoid",
        literal(&ident(table.schema())),
        literal(&format!("{}.{DIGEST_TABLE}", ident(table.schema()))),
        STATEMENT_COLUMNS.len(),
        columns.join(", "),
        literal(CLEARS_COMMENT),
        clear = literal(DIGEST_CLEAR),
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
    statement_xid bigint,
    objects jsonb
)",
        table.qualified()
    ));
    ddl
}

/// Creates the digest table (unless `digest_table_exists`), the trigger
/// function and the trigger on `table`, enabled in every session mode, and
/// drops any digest row of it and the digest line of the digest table's
/// comment, in one transaction: for a new tracking table, one whose digest
/// objects were dropped, or one whose trigger was disabled or created by an
/// earlier version. Quietly: no notice for what is not there to drop.
///
/// The function runs with its owner's rights, so that a role that may write
/// the tracking table need not be granted the digest table. It deletes the
/// table's digest row, and puts the digest table's comment back to
/// [`DIGEST_COMMENT`] when it holds a line. Its body names only the
/// schema-qualified digest table and `pg_catalog`'s objects, so the
/// caller's `search_path` cannot change what it does.
pub(crate) fn create_digest_objects(table: &TrackingTable, digest_table_exists: bool) -> String {
    let schema = ident(table.schema());
    let digests = format!("{schema}.{DIGEST_TABLE}");
    let function = format!("{schema}.{DIGEST_CLEAR}");
    let tracking = table.qualified();
    let (create, clear) = if digest_table_exists {
        (
            String::new(),
            format!(
                "DELETE FROM {digests} WHERE tracking = {}::regclass;\n\
                 COMMENT ON TABLE {digests} IS {};\n",
                literal(tracking),
                literal(DIGEST_COMMENT),
            ),
        )
    } else {
        (
            format!(
                "CREATE TABLE {digests} (tracking oid NOT NULL, schema name NOT NULL, digest text NOT NULL);
COMMENT ON TABLE {digests} IS {};\n",
                literal(DIGEST_COMMENT),
            ),
            String::new(),
        )
    };
    let body = format!(
        "BEGIN DELETE FROM {digests} WHERE tracking OPERATOR(pg_catalog.=) TG_RELID; \
         IF EXISTS (SELECT FROM pg_catalog.pg_description \
         WHERE objoid OPERATOR(pg_catalog.=) {name}::pg_catalog.regclass \
         AND classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass \
         AND objsubid OPERATOR(pg_catalog.=) 0 AND description OPERATOR(pg_catalog.<>) {head}) THEN \
         {CLEARS_COMMENT} {digests} IS {head}; END IF; RETURN NULL; END",
        name = literal(&digests),
        head = literal(DIGEST_COMMENT),
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
         AND a.pid <> pg_catalog.pg_backend_pid()) END, \
         CASE WHEN pg_catalog.jsonb_typeof(to_jsonb(t) -> 'objects') = 'array' THEN \
         (SELECT pg_catalog.string_agg((o ->> 'type') || ' ' || (o ->> 'identity'), E'\\n' ORDER BY n) \
         FROM pg_catalog.jsonb_array_elements(to_jsonb(t) -> 'objects') WITH ORDINALITY e(o, n)) END \
         FROM {} t ORDER BY version",
        table.qualified()
    )
}

/// Writes a migration's row, if this session still holds the lock. A
/// failure never replaces a success: a failed or unfinished run's row is not
/// written over the row of a run that succeeded. The row also records the
/// server process that writes it and the transaction it is written in.
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
    // Every row says which server process wrote it, and in which
    // transaction: for a no-transaction migration under way, the process
    // that runs its statements, and the last transaction before the next.
    let (statement_columns, statement_values, statement_updates) = if table.records_statements() {
        (
            ", statement_pid, statement_backend_start, statement_xid",
            // The function with the process's own number reads its entry
            // alone: the view builds every process's, which cost a write
            // about a third of a millisecond.
            ", pg_catalog.pg_backend_pid(), (SELECT backend_start FROM \
             pg_catalog.pg_stat_get_activity(pg_catalog.pg_backend_pid())), \
             pg_catalog.pg_current_xact_id()::text::bigint",
            ", statement_pid = excluded.statement_pid, \
             statement_backend_start = excluded.statement_backend_start, \
             statement_xid = excluded.statement_xid",
        )
    } else {
        ("", "", "")
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
        ms = record
            .execution_ms
            .map_or_else(|| SERVER_MS.to_owned(), |ms| ms.to_string()),
        success = record.success,
        error = text(record.error),
        note = text(record.note),
        held = lock_still_held(table, Some(record.version)),
    )
}

/// How long the current transaction has run, in milliseconds, as the server
/// measures it.
const SERVER_MS: &str = "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint";

/// The column by which the reply to a batch says which migration it
/// recorded, and how long the server measured it took.
pub(crate) const RECORDED: &str = "stowage_recorded";

/// What follows a transactional migration's SQL in a batch: its row (with
/// the duration the server measured, returned in the reply) and its
/// `COMMIT`. The SQL is ended first, should its last statement lack `;`.
pub(crate) fn batch_tail(table: &TrackingTable, record: &Record<'_>) -> String {
    format!(
        "\n;\n{} RETURNING version AS {RECORDED}, execution_ms;\n{COMMIT};\n",
        write_record(table, record)
    )
}

/// The migrations of `versions` that this session recorded as applied,
/// with their durations (any session's, on a table without the statement
/// columns).
pub(crate) fn recorded(table: &TrackingTable, versions: &[i64]) -> String {
    let list: Vec<String> = versions.iter().map(i64::to_string).collect();
    let ours = if table.records_statements() {
        " AND statement_pid = pg_catalog.pg_backend_pid()"
    } else {
        ""
    };
    format!(
        "SELECT version, execution_ms FROM {} WHERE success AND version IN ({}){ours}",
        table.qualified(),
        list.join(", ")
    )
}

/// The migration that a write found the lock gone in, from the error's
/// words ([`LOCK_LOST`] and the version).
pub(crate) fn lock_lost_version(message: &str) -> Option<i64> {
    let (_, rest) = message.split_once(&format!("{LOCK_LOST} during migration "))?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
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

/// Records that applied migration `version` ran again, in its
/// transaction, if this session still holds the lock: its time, who ran it,
/// how long it took (as the server measures it) and `note`.
pub(crate) fn record_reapplied(table: &TrackingTable, version: i64, note: &str) -> String {
    format!(
        "UPDATE {} SET applied_at = now(), applied_by = current_user, execution_ms = {SERVER_MS}, \
         note = {} WHERE version = {version} AND success AND {}",
        table.qualified(),
        literal(note),
        lock_still_held(table, Some(version))
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

// ----------------------------------------------------- repeatable migrations

/// Opens the transaction of the repeatable set, with the runner's timeouts.
/// Asking for the transaction's id gives it one now, so that `age(xmin)`
/// counts from it (see [`objects_of`]).
pub(crate) fn begin_set(timeouts: Timeouts) -> String {
    format!(
        "{}SELECT pg_catalog.pg_current_xact_id()",
        begin_with(timeouts)
    )
}

/// Sets a file's timeouts for the rest of the set's transaction: its own,
/// or the session's where it has none.
pub(crate) fn set_local_timeouts(timeouts: Timeouts) -> String {
    let set: Vec<(&str, u64)> = timeouts.settings().collect();
    ["lock_timeout", "statement_timeout"]
        .iter()
        .map(|name| match set.iter().find(|(n, _)| n == name) {
            Some((_, ms)) => format!("SET LOCAL {name} = '{ms}ms';\n"),
            None => format!("SET LOCAL {name} TO DEFAULT;\n"),
        })
        .collect()
}

/// The objects of a repeatable's row, one `type identity` per line, as a
/// column of what writes the row.
const RECORDED_OBJECTS: &str = "(SELECT pg_catalog.string_agg((o ->> 'type') || ' ' || (o ->> 'identity'), \
     E'\\n' ORDER BY n) FROM pg_catalog.jsonb_array_elements(r.objects) WITH ORDINALITY e(o, n))";

/// The objects that `objects` (an SQL expression, [`objects_of`]) finds
/// now, one `type identity` per line.
pub(crate) fn list_objects(objects: &str) -> String {
    format!(
        "SELECT (SELECT pg_catalog.string_agg((o ->> 'type') || ' ' || (o ->> 'identity'), E'\\n' \
         ORDER BY n) FROM pg_catalog.jsonb_array_elements({objects}) WITH ORDINALITY e(o, n))"
    )
}

/// The catalog row of each object the tracking table records for a
/// repeatable migration, as `(version, file, type, identity, classid,
/// objid)`; `objid` is NULL where the object is not there (any more). The
/// objects are recorded as `pg_identify_object_as_address` gives them, and
/// found again by name and argument types.
fn set_objects(table: &TrackingTable) -> String {
    let name = |i: usize| format!("(o -> 'names' ->> {i})");
    let relation = format!("pg_catalog.format('%I.%I', {}, {})", name(0), name(1));
    format!(
        "set_objects AS (SELECT t.version, t.name AS file, o ->> 'type' AS type, o ->> 'identity' AS identity, \
         CASE WHEN o ->> 'type' IN ('function', 'procedure') THEN 'pg_catalog.pg_proc'::regclass::oid \
         WHEN o ->> 'type' = 'trigger' THEN 'pg_catalog.pg_trigger'::regclass::oid \
         ELSE 'pg_catalog.pg_class'::regclass::oid END AS classid, \
         CASE WHEN o ->> 'type' IN ('function', 'procedure') THEN \
         pg_catalog.to_regprocedure(pg_catalog.format('%I.%I(%s)', {n0}, {n1}, \
         (SELECT pg_catalog.string_agg(a, ',' ORDER BY i) FROM pg_catalog.jsonb_array_elements_text(o -> 'args') \
         WITH ORDINALITY x(a, i))))::oid \
         WHEN o ->> 'type' = 'trigger' THEN (SELECT g.oid FROM pg_catalog.pg_trigger g \
         WHERE g.tgrelid = pg_catalog.to_regclass({relation}) AND g.tgname = {n2}) \
         ELSE (SELECT c.oid FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass({relation}) \
         AND c.relkind = CASE o ->> 'type' WHEN 'view' THEN 'v' WHEN 'materialized view' THEN 'm' ELSE 'i' END) \
         END AS objid \
         FROM {table} t, pg_catalog.jsonb_array_elements(CASE WHEN \
         pg_catalog.jsonb_typeof(to_jsonb(t) -> 'objects') = 'array' THEN to_jsonb(t) -> 'objects' \
         ELSE '[]'::jsonb END) o WHERE t.version < 0)",
        n0 = name(0),
        n1 = name(1),
        n2 = name(2),
        table = table.qualified(),
    )
}

/// Walks from `start(classid, objid, depth, parent_classid, parent_objid,
/// root)` to everything that depends on it, however indirectly: through
/// `pg_depend` (normal and automatic dependencies; a view's rule stands for
/// its view, and a relation's row type for its relation). Gives one row per
/// object reached: how it is described, its set file (NULL for an object
/// outside the repeatable set), its greatest depth, what it depends on
/// (described), its type and identity, and the set file the walk to it
/// started from (`root`).
fn dependents(table: &TrackingTable, start: &str) -> String {
    let class = "'pg_catalog.pg_class'::regclass::oid";
    let rewrite = "'pg_catalog.pg_rewrite'::regclass";
    format!(
        "WITH RECURSIVE {set}, {start}, \
         walk(classid, objid, depth, parent_classid, parent_objid, root) AS (\
         SELECT classid, objid, depth, parent_classid, parent_objid, root FROM start \
         UNION ALL \
         SELECT x.classid, x.objid, w.depth + 1, w.classid, w.objid, w.root FROM walk w CROSS JOIN LATERAL (\
         SELECT CASE WHEN d.classid = {rewrite} THEN {class} ELSE d.classid END AS classid, \
         CASE WHEN d.classid = {rewrite} THEN r.ev_class ELSE d.objid END AS objid \
         FROM pg_catalog.pg_depend d LEFT JOIN pg_catalog.pg_rewrite r \
         ON d.classid = {rewrite} AND r.oid = d.objid \
         WHERE d.deptype IN ('n', 'a') AND d.refclassid = w.classid AND d.refobjid = w.objid \
         UNION \
         SELECT d.classid, d.objid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_depend d \
         ON d.refclassid = 'pg_catalog.pg_type'::regclass AND d.refobjid = c.reltype \
         WHERE w.classid = {class} AND c.oid = w.objid AND d.deptype IN ('n', 'a') \
         AND d.classid <> {rewrite}) x \
         WHERE w.depth < 64 AND NOT (x.classid = w.classid AND x.objid = w.objid)) \
         SELECT pg_catalog.pg_describe_object(w.classid, w.objid, 0), min(s.file), max(w.depth), \
         min(pg_catalog.pg_describe_object(w.parent_classid, w.parent_objid, 0)), i.type, i.identity, \
         min(w.root) \
         FROM walk w LEFT JOIN set_objects s ON s.classid = w.classid AND s.objid = w.objid \
         CROSS JOIN LATERAL pg_catalog.pg_identify_object(w.classid, w.objid, 0) i \
         GROUP BY w.classid, w.objid, i.type, i.identity",
        set = set_objects(table),
    )
}

/// Everything that depends on the objects of the repeatables `versions`,
/// and those objects themselves (depth 0); see [`dependents`].
pub(crate) fn set_dependents(table: &TrackingTable, versions: &[i64]) -> String {
    let list: Vec<String> = versions.iter().map(i64::to_string).collect();
    dependents(
        table,
        &format!(
            "start AS (SELECT classid, objid, 0 AS depth, NULL::oid AS parent_classid, \
             NULL::oid AS parent_objid, file AS root FROM set_objects \
             WHERE objid IS NOT NULL AND version IN ({}))",
            list.join(", ")
        ),
    )
}

/// Everything that depends on the relations or columns `changed` (each a
/// relation's name as written, and a column as the server reads it or
/// `None` for the whole relation); see [`dependents`]. The relations
/// themselves are not among them.
pub(crate) fn dependents_of_changes(
    table: &TrackingTable,
    changed: &[(String, Option<String>)],
) -> String {
    let roots: Vec<String> = changed
        .iter()
        .map(|(relation, column)| {
            let column = column
                .as_deref()
                .map_or_else(|| "NULL::name".to_owned(), literal);
            format!("({}, {column})", literal(relation))
        })
        .collect();
    let class = "'pg_catalog.pg_class'::regclass::oid";
    let rewrite = "'pg_catalog.pg_rewrite'::regclass";
    dependents(
        table,
        &format!(
            "changed(relation, col) AS (VALUES {}), \
             start AS (SELECT DISTINCT CASE WHEN d.classid = {rewrite} THEN {class} ELSE d.classid END AS classid, \
             CASE WHEN d.classid = {rewrite} THEN r.ev_class ELSE d.objid END AS objid, 1 AS depth, \
             {class} AS parent_classid, d.refobjid AS parent_objid, NULL::text AS root \
             FROM changed c JOIN pg_catalog.pg_depend d ON d.refclassid = {class} \
             AND d.refobjid = pg_catalog.to_regclass(c.relation) \
             LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = {rewrite} AND r.oid = d.objid \
             WHERE d.deptype IN ('n', 'a') AND (c.col IS NULL OR d.refobjsubid = (SELECT a.attnum \
             FROM pg_catalog.pg_attribute a WHERE a.attrelid = d.refobjid AND a.attname = c.col)) \
             AND NOT (d.classid = {rewrite} AND r.ev_class = d.refobjid))",
            roots.join(", ")
        ),
    )
}

/// Drops one object, named as `pg_identify_object` gives it: never with
/// `CASCADE`.
pub(crate) fn drop_object(kind: &str, identity: &str) -> String {
    format!("DROP {kind} {identity}")
}

/// The objects one repeatable file created, found in the catalog after it
/// ran, as the JSON array its row records: for each object of `created` (in
/// order), its type, identity, and its address (`names`, `args`). An
/// unqualified view, materialized view or function went to the current
/// schema; an index to its view's schema; a trigger's table is looked up
/// as written. Of the functions of a name, those whose catalog row this
/// transaction wrote (`age(xmin)` not above 0) are the file's.
pub(crate) fn objects_of(created: &[Created]) -> String {
    let class = |catalog: &str| format!("'pg_catalog.{catalog}'::regclass::oid");
    let mut found = Vec::new();
    for (n, object) in created.iter().enumerate() {
        let own = literal(object.parts.last().map_or("", String::as_str));
        let qualified = if object.parts.len() == 1 {
            format!(
                "pg_catalog.format('%I.%s', current_schema(), {})",
                literal(&object.name)
            )
        } else {
            literal(&object.name)
        };
        let namespace = if object.parts.len() >= 2 {
            format!(
                "(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = {})",
                literal(&object.parts[object.parts.len() - 2])
            )
        } else {
            "(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema())".to_owned()
        };
        found.push(match object.kind {
            Creates::View | Creates::MaterializedView | Creates::Index => {
                let qualified = if object.kind == Creates::Index {
                    literal(&object.name)
                } else {
                    qualified
                };
                format!(
                    "SELECT {n}, {}, pg_catalog.to_regclass({qualified})::oid",
                    class("pg_class")
                )
            }
            Creates::Trigger => format!(
                "SELECT {n}, {}, g.oid FROM pg_catalog.pg_trigger g WHERE g.tgrelid = \
                 pg_catalog.to_regclass({}) AND g.tgname = {own}",
                class("pg_trigger"),
                literal(object.on.as_deref().unwrap_or(""))
            ),
            Creates::Function | Creates::Procedure => {
                let kinds = if object.kind == Creates::Procedure {
                    "'p'"
                } else {
                    "'f', 'w'"
                };
                format!(
                    "SELECT {n}, {}, p.oid FROM pg_catalog.pg_proc p WHERE p.proname = {own} \
                     AND p.pronamespace = {namespace} AND p.prokind IN ({kinds}) \
                     AND pg_catalog.age(p.xmin) <= 0",
                    class("pg_proc")
                )
            }
        });
    }
    format!(
        "(SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('type', a.type, \
         'identity', i.identity, 'names', a.object_names, 'args', a.object_args) ORDER BY f.n, i.identity), \
         '[]'::jsonb) FROM ({}) f(n, classid, objid) \
         CROSS JOIN LATERAL pg_catalog.pg_identify_object_as_address(f.classid, f.objid, 0) a \
         CROSS JOIN LATERAL pg_catalog.pg_identify_object(f.classid, f.objid, 0) i WHERE f.objid IS NOT NULL)",
        found.join(" UNION ALL ")
    )
}

/// Writes a repeatable's row as applied, with the objects `objects` (an SQL
/// expression, [`objects_of`]), if this session still holds the lock; the
/// row's objects are returned, one `type identity` per line.
pub(crate) fn write_repeatable(
    table: &TrackingTable,
    version: i64,
    name: &str,
    checksum: &str,
    ms: u128,
    objects: &str,
) -> String {
    format!(
        "INSERT INTO {table} AS r (version, name, checksum, execution_ms, success, objects) \
         SELECT {version}, {name}, {checksum}, {ms}, true, {objects} WHERE {held} \
         ON CONFLICT (version) DO UPDATE SET name = excluded.name, checksum = excluded.checksum, \
         applied_at = now(), applied_by = current_user, execution_ms = excluded.execution_ms, \
         success = true, error = NULL, note = NULL, statements_done = NULL, statements_total = NULL, \
         objects = excluded.objects RETURNING {RECORDED_OBJECTS}",
        table = table.qualified(),
        name = literal(name),
        checksum = literal(checksum),
        held = lock_still_held(table, Some(version)),
    )
}

/// Marks repeatables absent: their objects were dropped in the transaction
/// of migration `version`, to be created again.
pub(crate) fn mark_absent(table: &TrackingTable, versions: &[i64], version: i64) -> String {
    let list: Vec<String> = versions.iter().map(i64::to_string).collect();
    format!(
        "UPDATE {} SET success = false, note = {} WHERE version IN ({}) AND {}",
        table.qualified(),
        literal(&format!("{}{version}", crate::rules::repeatables::ABSENT)),
        list.join(", "),
        lock_still_held(table, Some(version))
    )
}

/// Marks absent, in the transaction of migration `version` run again, the
/// applied repeatables every recorded object of which is gone (dropped with
/// a `CASCADE` from under them, say), so that they are created again.
pub(crate) fn mark_gone_absent(table: &TrackingTable, version: i64) -> String {
    format!(
        "WITH {} UPDATE {} SET success = false, note = {} WHERE success AND version IN \
         (SELECT s.version FROM set_objects s GROUP BY s.version HAVING bool_and(s.objid IS NULL)) \
         AND {}",
        set_objects(table),
        table.qualified(),
        literal(&format!("{}{version}", crate::rules::repeatables::ABSENT)),
        lock_still_held(table, Some(version))
    )
}

/// Records that applying a repeatable failed: on its row, if it has one
/// (which keeps what was applied before), or on a new row that says it was
/// never applied.
pub(crate) fn repeatable_failed(
    table: &TrackingTable,
    version: i64,
    name: &str,
    checksum: &str,
    error: &str,
) -> String {
    format!(
        "INSERT INTO {table} AS r (version, name, checksum, execution_ms, success, error) \
         SELECT {version}, {name}, {checksum}, 0, false, {error} WHERE {held} \
         ON CONFLICT (version) DO UPDATE SET error = excluded.error",
        table = table.qualified(),
        name = literal(name),
        checksum = literal(checksum),
        error = literal(error),
        held = lock_still_held(table, Some(version)),
    )
}

/// Whether each materialized view the set holds is populated, by identity.
pub(crate) fn populated(table: &TrackingTable) -> String {
    format!(
        "WITH {} SELECT s.identity, c.relispopulated FROM set_objects s \
         JOIN pg_catalog.pg_class c ON c.oid = s.objid WHERE s.type = 'materialized view'",
        set_objects(table)
    )
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
            "CASE WHEN o.oid IS NOT NULL THEN format('%I.%I', ns.nspname, o.relname) END",
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
    /// Every schema but the system's: what a new database holds (read by
    /// the test helper).
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
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
/// quoted and not, and the database's name; with `fingerprint`, one more
/// holds the catalog's (see [`catalog_fingerprint`]). Left out are the
/// system's schemas, the objects of extensions and the ones their types
/// make by themselves (a range's constructors), stowage's own tables and
/// function (any table with the digest's trigger, the tables of schema
/// checks among them, the digest tables, the trigger function, and
/// `tracking`), what a partitioned table's partitions inherit, the
/// indexes of constraints, and the constraint a constraint trigger makes
/// (the trigger is read). With `grants`, the privileges granted on
/// schemas, tables and their columns, sequences, functions and types to
/// roles other than the owner.
pub(crate) fn read_schema(
    scope: &SchemaScope<'_>,
    tracking: &str,
    grants: bool,
    fingerprint: bool,
) -> String {
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
    let fingerprint = if fingerprint {
        format!(
            "\n\nUNION ALL\nSELECT 'fingerprint', NULL, {}, '', NULL, NULL, NULL",
            catalog_fingerprint()
        )
    } else {
        String::new()
    };
    format!(
        "SELECT pg_catalog.set_config({saved}, pg_catalog.current_setting('search_path'), true), \
         pg_catalog.set_config({saved_home}, coalesce(pg_catalog.current_schema(), ''), true), \
         pg_catalog.set_config('search_path', 'pg_catalog' || coalesce(', ' || \
         pg_catalog.quote_ident(pg_catalog.current_schema()), ''), true);
{SCHEMA_CATALOG}{grants}{fingerprint};
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

/// A fingerprint of the catalog, as one SQL expression: for each catalog
/// that what [`read_schema`] prints is read from, how many rows the
/// database's own objects have there, and the sum of the IDs of the
/// transactions that wrote them (found from `age`, which needs no
/// conversion to text). Any change to a row writes a new version of it,
/// with the writing transaction's ID, which is newer than any it replaces,
/// so any creation, change or removal of an object changes the
/// fingerprint; so does a role's name, the server's version, or a setting
/// that changes how values are printed. Left out are the catalogs whose
/// rows change only with another's (an aggregate's, a range's, a
/// partitioned table's go with its `pg_proc`, `pg_type` or `pg_class`
/// row), and the rows of temporary tables and their types, which sessions
/// come and go with. An index's state flags, which a concurrent build sets
/// in place on older versions, are added as they are.
fn catalog_fingerprint() -> String {
    /// Each catalog, and which of its rows are counted: `temp_rel` and
    /// `temp_type` hold the temporary tables and their types.
    const ROWS: [(&str, &str); 27] = [
        (
            "pg_namespace",
            "nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'",
        ),
        ("pg_class", "oid >= 16384 AND relpersistence <> 't'"),
        (
            "pg_attribute",
            "attrelid >= 16384 AND attnum > 0 AND attrelid NOT IN (SELECT oid FROM temp_rel)",
        ),
        (
            "pg_attrdef",
            "oid >= 16384 AND adrelid NOT IN (SELECT oid FROM temp_rel)",
        ),
        (
            "pg_constraint",
            "oid >= 16384 AND conrelid NOT IN (SELECT oid FROM temp_rel)",
        ),
        (
            "pg_index",
            "indexrelid >= 16384 AND indrelid NOT IN (SELECT oid FROM temp_rel)",
        ),
        (
            "pg_type",
            "oid >= 16384 AND oid NOT IN (SELECT oid FROM temp_type)",
        ),
        ("pg_proc", "oid >= 16384"),
        (
            "pg_trigger",
            "oid >= 16384 AND tgrelid NOT IN (SELECT oid FROM temp_rel)",
        ),
        ("pg_policy", "true"),
        (
            "pg_description",
            "(objoid >= 16384 OR classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass) \
            AND objoid NOT IN (SELECT oid FROM temp_rel)",
        ),
        (
            "pg_rewrite",
            "oid >= 16384 AND ev_class NOT IN (SELECT oid FROM temp_rel)",
        ),
        ("pg_sequence", "seqrelid NOT IN (SELECT oid FROM temp_rel)"),
        ("pg_enum", "true"),
        ("pg_inherits", "true"),
        ("pg_extension", "true"),
        // What the reading follows: extensions' members, sequences'
        // owners, and what a type makes of itself.
        (
            "pg_depend",
            "objid >= 16384 AND (deptype = 'e' OR deptype IN ('a', 'i') \
            AND classid IN ('pg_catalog.pg_class'::pg_catalog.regclass, 'pg_catalog.pg_proc'::pg_catalog.regclass) \
            AND objid NOT IN (SELECT oid FROM temp_rel))",
        ),
        ("pg_collation", "oid >= 16384"),
        ("pg_statistic_ext", "oid >= 16384"),
        ("pg_ts_config", "oid >= 16384"),
        ("pg_ts_config_map", "mapcfg >= 16384"),
        ("pg_ts_dict", "oid >= 16384"),
        ("pg_ts_parser", "oid >= 16384"),
        ("pg_ts_template", "oid >= 16384"),
        ("pg_operator", "oid >= 16384"),
        ("pg_opclass", "oid >= 16384"),
        ("pg_roles", "true"),
    ];
    // `age` counts back from the newest transaction ID, as this one does;
    // for a row written by initdb, whose ID is not a normal one, it gives
    // its largest value, which is left out of the sum.
    let newest = "(pg_catalog.age('3'::xid)::bigint + 3)";
    let normal = "pg_catalog.age(xmin) < 2147483647";
    let parts: Vec<String> = ROWS
        .iter()
        .map(|(catalog, rows)| {
            let extra = match *catalog {
                "pg_index" => {
                    " || ':' || sum(indisvalid::int + 2 * indisready::int + 4 * indislive::int)"
                }
                "pg_roles" => " || ':' || sum(hashtextextended(rolname, oid::bigint))",
                _ => "",
            };
            let written = if *catalog == "pg_roles" {
                String::new()
            } else {
                format!(
                    " || ':' || ((count(*) FILTER (WHERE {normal}) * {newest} \
                     - coalesce(sum(pg_catalog.age(xmin)) FILTER (WHERE {normal}), 0)) \
                     % 4294967296 + 4294967296) % 4294967296"
                )
            };
            format!("(SELECT count(*){written}{extra} FROM pg_catalog.{catalog} WHERE {rows})")
        })
        .collect();
    format!(
        "(WITH temp_rel AS MATERIALIZED (SELECT oid FROM pg_catalog.pg_class \
         WHERE oid >= 16384 AND relpersistence = 't'), \
         temp_type AS MATERIALIZED (SELECT t.oid FROM pg_catalog.pg_type t \
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
         WHERE t.oid >= 16384 AND (n.nspname LIKE 'pg\\_temp\\_%' \
         OR n.nspname LIKE 'pg\\_toast\\_temp\\_%')) \
         SELECT pg_catalog.md5(pg_catalog.concat_ws(' ', \
         pg_catalog.current_setting('server_version_num'), pg_catalog.current_setting('DateStyle'), \
         pg_catalog.current_setting('IntervalStyle'), pg_catalog.current_setting('TimeZone'), \
         pg_catalog.current_setting('extra_float_digits'), \
         pg_catalog.current_setting('quote_all_identifiers'), \
         pg_catalog.current_setting('standard_conforming_strings'),\n{})))",
        parts.join(",\n")
    )
}

/// Whether the last check of the session's current schema that found it as
/// its file says (`expected` names the file and the reading) saw the
/// catalog the session sees now; with the database's name and the current
/// schema. Fails with `42P01` where no check was ever recorded.
pub(crate) fn unchanged_since_check(table: &TrackingTable, expected: &str) -> String {
    format!(
        "SELECT pg_catalog.current_database(), pg_catalog.current_schema(), \
         (SELECT c.fingerprint = {} FROM {}.{SCHEMA_CHECKS_TABLE} c \
         WHERE c.home = pg_catalog.current_schema() AND c.expected = {})",
        catalog_fingerprint(),
        ident(table.schema()),
        literal(expected),
    )
}

/// Records that a check found the schema `home` as its file says, with the
/// catalog's `fingerprint` then; with `create`, creates the table of these
/// records first, beside the tracking table.
pub(crate) fn record_check(
    table: &TrackingTable,
    create: bool,
    home: &str,
    expected: &str,
    fingerprint: &str,
) -> String {
    let checks = format!("{}.{SCHEMA_CHECKS_TABLE}", ident(table.schema()));
    // The trigger, named as the digest's, marks the table as stowage's for
    // every version's reading of the schema, an earlier one's too, which
    // knows no other mark; it only skips updates that change nothing.
    let create = if create {
        format!(
            "CREATE TABLE {checks} (home name PRIMARY KEY, expected text NOT NULL, \
             fingerprint text NOT NULL, checked_at timestamptz NOT NULL DEFAULT pg_catalog.now());\n\
             CREATE TRIGGER {DIGEST_CLEAR} BEFORE UPDATE ON {checks} FOR EACH ROW \
             EXECUTE FUNCTION pg_catalog.suppress_redundant_updates_trigger();\n\
             COMMENT ON TABLE {checks} IS {};\n",
            literal(SCHEMA_CHECKS_COMMENT)
        )
    } else {
        String::new()
    };
    format!(
        "{create}INSERT INTO {checks} (home, expected, fingerprint) VALUES ({}, {}, {}) \
         ON CONFLICT (home) DO UPDATE SET expected = excluded.expected, \
         fingerprint = excluded.fingerprint, checked_at = excluded.checked_at",
        literal(home),
        literal(expected),
        literal(fingerprint),
    )
}

/// The comment on the table of schema checks, which says what it is.
const SCHEMA_CHECKS_COMMENT: &str = "The last check of each schema by stowage that found it as its schema \
     file says, and a fingerprint of the catalog then: a later check that finds the same fingerprint \
     finds the same schema without reading it again. Deleting a row makes the next check read the schema.";

/// The catalog query of [`read_schema`], run with `search_path` set to
/// `pg_catalog` and the current schema. `{scope}` is replaced by the
/// condition on a schema `n` to be read, `{tracking}` by the tracking
/// table's name, `{digest_table}` and `{digest_clear}` by stowage's names.
///
/// Comments are read from `pg_description` once, for every kind of object:
/// those of the database's own objects (OIDs from 16384, the first one a
/// database's objects get) and of schemas (`public` is older). The
/// system's thousands are never joined, and a small schema's check plans
/// about 5 ms faster than with a reading per kind. Collations and text
/// search dictionaries and configurations, which few schemas hold, are
/// read once as `named` objects, which plans faster than a reading each.
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
           c.relrowsecurity, c.relforcerowsecurity, c.relreplident, c.reloptions, c.relacl, c.relowner,
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
stats AS (
    SELECT s.oid, s.stxname, ns.sch, concat(ns.sch || '.', quote_ident(s.stxname)) AS qname
    FROM pg_statistic_ext s JOIN ns ON ns.oid = s.stxnamespace
    WHERE EXISTS (SELECT FROM rel r WHERE r.oid = s.stxrelid)
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_statistic_ext'::regclass
                      AND d.objid = s.oid AND d.deptype = 'e')
),
coll_name AS NOT MATERIALIZED (
    SELECT co.oid, CASE WHEN pg_collation_is_visible(co.oid) THEN quote_ident(co.collname)
                        ELSE format('%I.%I', cn.nspname, co.collname) END AS name
    FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
),
named AS (
    SELECT o.classid, o.oid, ns.sch, quote_ident(o.objname) AS name,
           concat(ns.sch || '.', quote_ident(o.objname)) AS qname
    FROM (SELECT 'pg_collation'::regclass::oid, co.oid, co.collnamespace, co.collname FROM pg_collation co
          UNION ALL SELECT 'pg_ts_dict'::regclass::oid, t.oid, t.dictnamespace, t.dictname FROM pg_ts_dict t
          UNION ALL SELECT 'pg_ts_config'::regclass::oid, t.oid, t.cfgnamespace, t.cfgname FROM pg_ts_config t
         ) o(classid, oid, nsp, objname)
    JOIN ns ON ns.oid = o.nsp
    WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = o.classid AND d.objid = o.oid AND d.deptype = 'e')
),
comments AS MATERIALIZED (
    SELECT d.objoid, d.classoid, d.objsubid, d.description FROM pg_description d
    WHERE d.objoid >= 16384 OR d.classoid = 'pg_namespace'::regclass
),
con AS (
    SELECT co.oid, co.conname, co.contype, co.conrelid, co.contypid, co.conindid
    FROM pg_constraint co
    WHERE co.contype NOT IN ('n', 't') AND co.conislocal AND co.conparentid = 0
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
SELECT 'collation', n.sch, n.name, '', 'definition',
       concat_ws(', ', 'provider = ' || CASE co.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END,
                 CASE WHEN co.collprovider <> 'c' THEN
                          'locale = ' || quote_literal(coalesce(x.j->>'colllocale', x.j->>'colliculocale',
                                                                x.j->>'collcollate'))
                      WHEN x.j->>'collcollate' = x.j->>'collctype' THEN 'locale = ' || quote_literal(x.j->>'collcollate')
                      ELSE concat('lc_collate = ', quote_literal(x.j->>'collcollate'),
                                  ', lc_ctype = ', quote_literal(x.j->>'collctype')) END,
                 'rules = ' || quote_literal(x.j->>'collicurules'),
                 CASE WHEN NOT co.collisdeterministic THEN 'deterministic = false' END), NULL
FROM named n JOIN pg_collation co ON co.oid = n.oid CROSS JOIN LATERAL (SELECT to_jsonb(co) AS j) x
WHERE n.classid = 'pg_collation'::regclass

UNION ALL
SELECT 'ts_dictionary', n.sch, n.name, '', 'definition',
       concat_ws(', ', 'TEMPLATE = ' || CASE WHEN pg_ts_template_is_visible(t.oid) THEN quote_ident(t.tmplname)
                                             ELSE format('%I.%I', tn.nspname, t.tmplname) END,
                 d.dictinitoption), NULL
FROM named n JOIN pg_ts_dict d ON d.oid = n.oid
JOIN pg_ts_template t ON t.oid = d.dicttemplate JOIN pg_namespace tn ON tn.oid = t.tmplnamespace
WHERE n.classid = 'pg_ts_dict'::regclass

UNION ALL
SELECT 'ts_configuration', n.sch, n.name, '', v.aspect, v.value, NULL
FROM named n JOIN pg_ts_config c ON c.oid = n.oid
JOIN pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_namespace pn ON pn.oid = p.prsnamespace
CROSS JOIN LATERAL (VALUES
    ('definition', 'PARSER = ' || CASE WHEN pg_ts_parser_is_visible(p.oid) THEN quote_ident(p.prsname)
                                       ELSE format('%I.%I', pn.nspname, p.prsname) END),
    ('mapping', (SELECT string_agg(m.alias || ' WITH ' || m.dicts, E'\n' ORDER BY m.maptokentype)
                 FROM (SELECT mm.maptokentype, tt.alias,
                              string_agg(CASE WHEN pg_ts_dict_is_visible(dd.oid) THEN quote_ident(dd.dictname)
                                              ELSE format('%I.%I', dn.nspname, dd.dictname) END,
                                         ', ' ORDER BY mm.mapseqno) AS dicts
                       FROM pg_ts_config_map mm JOIN ts_token_type(c.cfgparser) tt ON tt.tokid = mm.maptokentype
                       JOIN pg_ts_dict dd ON dd.oid = mm.mapdict JOIN pg_namespace dn ON dn.oid = dd.dictnamespace
                       WHERE mm.mapcfg = c.oid GROUP BY mm.maptokentype, tt.alias) m))) v(aspect, value)
WHERE n.classid = 'pg_ts_config'::regclass AND v.value IS NOT NULL

UNION ALL
SELECT CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' ELSE 'range' END,
       t.sch, t.name, '', 'definition',
       CASE t.typtype
           WHEN 'e' THEN coalesce((SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                   FROM pg_enum e WHERE e.enumtypid = t.oid), '')
           WHEN 'd' THEN concat(format_type(t.typbasetype, t.typtypmod),
                                (SELECT ' COLLATE ' || c.name FROM coll_name c JOIN pg_type b ON b.oid = t.typbasetype
                                 WHERE c.oid = t.typcollation AND t.typcollation <> b.typcollation),
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
       coalesce((SELECT string_agg(concat(quote_ident(a.attname), ' ', format_type(a.atttypid, a.atttypmod),
                                          (SELECT ' COLLATE ' || c.name FROM coll_name c JOIN pg_type at ON at.oid = a.atttypid
                                           WHERE c.oid = a.attcollation AND a.attcollation <> at.typcollation)), ', '
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
    ('replica_identity', CASE WHEN r.relkind IN ('r', 'p') THEN
                             CASE r.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING'
                                 WHEN 'i' THEN (SELECT 'USING INDEX ' || quote_ident(ic.relname)
                                                FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                                                WHERE i.indrelid = r.oid AND i.indisreplident) END END),
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
    ('collation', (SELECT c.name FROM coll_name c WHERE c.oid = a.attcollation AND a.attcollation <> t.typcollation)),
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
SELECT 'rule', r.sch, r.name, quote_ident(rw.rulename), v.aspect, v.value, r.name
FROM pg_rewrite rw JOIN rel r ON r.oid = rw.ev_class
CROSS JOIN LATERAL (VALUES ('definition', pg_get_ruledef(rw.oid, true)),
                           ('enabled', CASE rw.ev_enabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA'
                                                          WHEN 'A' THEN 'ENABLE ALWAYS' END)) v(aspect, value)
WHERE rw.rulename <> '_RETURN' AND v.value IS NOT NULL

UNION ALL
SELECT 'statistics', s.sch, quote_ident(s.stxname), '', 'definition', pg_get_statisticsobjdef(s.oid), NULL
FROM stats s

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
    SELECT CASE WHEN d.objsubid > 0 THEN 'COLUMN ' || r.qname || '.' || quote_ident(a.attname)
                ELSE CASE r.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'S' THEN 'SEQUENCE '
                                    WHEN 'c' THEN 'TYPE ' ELSE 'TABLE ' END || r.qname END AS target, d.description
    FROM comments d JOIN rel r ON r.oid = d.objoid
    LEFT JOIN pg_attribute a ON d.objsubid > 0 AND a.attrelid = d.objoid AND a.attnum = d.objsubid
    WHERE d.classoid = 'pg_class'::regclass AND (d.objsubid = 0 OR a.attnum IS NOT NULL)
    UNION ALL
    SELECT 'INDEX ' || concat(r.sch || '.', quote_ident(ic.relname)), d.description
    FROM comments d JOIN pg_index i ON i.indexrelid = d.objoid JOIN rel r ON r.oid = i.indrelid
    JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0
    UNION ALL
    SELECT 'CONSTRAINT ' || quote_ident(co.conname) || ' ON ' || coalesce(r.qname, 'DOMAIN ' || t.qname),
           d.description
    FROM comments d JOIN con co ON co.oid = d.objoid
    LEFT JOIN rel r ON r.oid = co.conrelid LEFT JOIN typ t ON t.oid = co.contypid
    WHERE d.classoid = 'pg_constraint'::regclass AND (r.oid IS NOT NULL OR t.oid IS NOT NULL)
    UNION ALL
    SELECT 'TRIGGER ' || quote_ident(tg.tgname) || ' ON ' || r.qname, d.description
    FROM comments d JOIN pg_trigger tg ON tg.oid = d.objoid JOIN rel r ON r.oid = tg.tgrelid
    WHERE d.classoid = 'pg_trigger'::regclass
    UNION ALL
    SELECT 'POLICY ' || quote_ident(p.polname) || ' ON ' || r.qname, d.description
    FROM comments d JOIN pg_policy p ON p.oid = d.objoid JOIN rel r ON r.oid = p.polrelid
    WHERE d.classoid = 'pg_policy'::regclass
    UNION ALL
    SELECT 'RULE ' || quote_ident(rw.rulename) || ' ON ' || r.qname, d.description
    FROM comments d JOIN pg_rewrite rw ON rw.oid = d.objoid JOIN rel r ON r.oid = rw.ev_class
    WHERE d.classoid = 'pg_rewrite'::regclass AND rw.rulename <> '_RETURN'
    UNION ALL
    SELECT 'STATISTICS ' || s.qname, d.description
    FROM comments d JOIN stats s ON s.oid = d.objoid
    WHERE d.classoid = 'pg_statistic_ext'::regclass
    UNION ALL
    SELECT CASE n.classid WHEN 'pg_collation'::regclass THEN 'COLLATION '
                          WHEN 'pg_ts_dict'::regclass THEN 'TEXT SEARCH DICTIONARY '
                          ELSE 'TEXT SEARCH CONFIGURATION ' END || n.qname, d.description
    FROM comments d JOIN named n ON n.classid = d.classoid AND n.oid = d.objoid
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' WHEN 'a' THEN 'AGGREGATE ' ELSE 'FUNCTION ' END
           || p.qname || '(' || pg_get_function_identity_arguments(p.oid) || ')', d.description
    FROM comments d JOIN routine p ON p.oid = d.objoid
    WHERE d.classoid = 'pg_proc'::regclass
    UNION ALL
    SELECT CASE WHEN t.typtype = 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || t.qname, d.description
    FROM comments d JOIN typ t ON t.oid = d.objoid
    WHERE d.classoid = 'pg_type'::regclass
    UNION ALL
    SELECT 'TYPE ' || r.qname, d.description
    FROM comments d JOIN pg_type t ON t.oid = d.objoid JOIN rel r ON r.oid = t.typrelid
    WHERE d.classoid = 'pg_type'::regclass AND r.relkind = 'c'
    UNION ALL
    SELECT 'SCHEMA ' || ns.sch, d.description
    FROM comments d JOIN ns ON ns.oid = d.objoid
    WHERE d.classoid = 'pg_namespace'::regclass AND ns.sch IS NOT NULL
) c"#;

/// The grants of [`read_schema`], when asked for: one row per object,
/// grantee and grant option, privileges in alphabetical order, a column's
/// written with it (`UPDATE (note)`) in its table's row. Functions and
/// types whose privileges were never changed hold the defaults
/// (`acldefault`): `EXECUTE` and `USAGE` for `PUBLIC`, so that revoking
/// those shows. What the owner holds is left out.
const SCHEMA_GRANTS: &str = r#"

UNION ALL
SELECT 'grant', NULL, g.target,
       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END
           || CASE WHEN g.grantable THEN ' WITH GRANT OPTION' ELSE '' END,
       'privileges', string_agg(g.privilege, ', ' ORDER BY g.privilege), NULL
FROM (
    SELECT CASE r.relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || r.qname AS target, r.relowner AS owner,
           x.grantee, x.is_grantable AS grantable, x.privilege_type AS privilege
    FROM rel r CROSS JOIN LATERAL aclexplode(r.relacl) x
    WHERE r.relkind IN ('r', 'p', 'v', 'm', 'S')
    UNION ALL
    SELECT 'TABLE ' || r.qname, r.relowner, x.grantee, x.is_grantable,
           x.privilege_type || ' (' || quote_ident(a.attname) || ')'
    FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    CROSS JOIN LATERAL aclexplode(a.attacl) x
    WHERE r.relkind IN ('r', 'p', 'v', 'm') AND a.attacl IS NOT NULL
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END
           || p.qname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
           p.proowner, x.grantee, x.is_grantable, x.privilege_type
    FROM routine p CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
    UNION ALL
    SELECT 'TYPE ' || coalesce(t.qname, r.qname), pt.typowner, x.grantee, x.is_grantable, x.privilege_type
    FROM pg_type pt LEFT JOIN typ t ON t.oid = pt.oid LEFT JOIN rel r ON r.oid = pt.typrelid AND r.relkind = 'c'
    CROSS JOIN LATERAL aclexplode(coalesce(pt.typacl, acldefault('T', pt.typowner))) x
    WHERE t.oid IS NOT NULL OR r.oid IS NOT NULL
    UNION ALL
    SELECT 'SCHEMA ' || ns.sch, n.nspowner, x.grantee, x.is_grantable, x.privilege_type
    FROM ns JOIN pg_namespace n ON n.oid = ns.oid CROSS JOIN LATERAL aclexplode(n.nspacl) x
    WHERE ns.sch IS NOT NULL
) g
WHERE g.grantee <> g.owner
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
            execution_ms: Some(0),
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
    fn a_fleet_reads_its_digests_in_transactions_of_a_bounded_size() {
        let names: Vec<String> = (0..120).map(|i| format!("t{i}")).collect();
        let schemas: Vec<&str> = names.iter().map(String::as_str).collect();
        let sql = fleet_digests(&schemas);
        assert_eq!(sql.matches("BEGIN;").count(), 3, "{sql}");
        assert_eq!(sql.matches("COMMIT;").count(), 3, "{sql}");
        assert_eq!(sql.matches("stowage_digest").count(), 120, "{sql}");
        let hostile = fleet_digests(&[r#"a"b'c"#]);
        assert!(
            hostile.contains(
                r#"SELECT 'a"b''c', tracking, schema, digest FROM "a""b'c".stowage_digest"#
            ),
            "{hostile}"
        );
        let listed = fleet_schemas(Selection::Names(&["it's".to_owned()]), "t");
        assert!(listed.contains("ARRAY['it''s']::name[]"), "{listed}");
        let session = prepare_session(Some("x\"y"), true);
        assert!(
            session.contains(r#"CREATE SCHEMA IF NOT EXISTS "x""y""#),
            "{session}"
        );
        assert!(!prepare_session(Some("x"), false).contains("CREATE"));
    }

    #[test]
    fn a_failure_never_replaces_a_success_and_every_write_checks_the_lock() {
        let table = TrackingTable::new("public".into(), "t".into(), false);
        let failure = Record {
            version: 2,
            name: "b",
            checksum: "c",
            execution_ms: Some(1),
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

// --------------------------------------------------------------- adoption

/// A `timestamptz` expression as RFC 3339 text in UTC.
fn utc_text(timestamptz: &str) -> String {
    format!("to_char(({timestamptz}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
}

/// A `timestamp` without time zone, read in the server's `TimeZone`, as
/// RFC 3339 text in UTC.
fn local_text(timestamp: &str) -> String {
    utc_text(&format!(
        "{timestamp} AT TIME ZONE current_setting('TimeZone')"
    ))
}

/// The columns of the table `name` (none if there is no such table), and
/// the server's `TimeZone`.
pub(crate) fn tool_table_columns(name: &TableName) -> String {
    format!(
        "SELECT attname, current_setting('TimeZone') FROM pg_catalog.pg_attribute \
         WHERE attrelid = to_regclass({}) AND attnum > 0 AND NOT attisdropped",
        literal(&qualified(name))
    )
}

/// `name` quoted, with its schema if it has one.
pub(crate) fn qualified(name: &TableName) -> String {
    match &name.schema {
        Some(schema) => format!("{}.{}", ident(schema), ident(&name.table)),
        None => ident(&name.table),
    }
}

/// The columns each tool's tracking table has, as the tool creates it.
pub(crate) fn tool_columns(tool: stowage_core::tools::Layout) -> &'static [&'static str] {
    use stowage_core::tools::Layout;
    match tool {
        Layout::Stowage => &[],
        Layout::Sqlx => &[
            "version",
            "description",
            "installed_on",
            "success",
            "checksum",
            "execution_time",
        ],
        Layout::Diesel => &["version", "run_on"],
        Layout::Refinery => &["version", "name", "applied_on", "checksum"],
        Layout::Goose => &["id", "version_id", "is_applied", "tstamp"],
        Layout::GolangMigrate => &["version", "dirty"],
        Layout::Dbmate => &["version"],
        Layout::Flyway => &[
            "installed_rank",
            "version",
            "description",
            "type",
            "script",
            "checksum",
            "installed_by",
            "installed_on",
            "execution_time",
            "success",
        ],
    }
}

/// Every row of a tool's tracking table, in the tool's order, as the same
/// columns for every tool: the version as text, applied, failed (or
/// dirty), the checksum as text, when it was applied (RFC 3339 in UTC, or
/// as the tool wrote it for refinery), milliseconds, the kind of row
/// (Flyway's `type`), and the name. goose's newest row per version
/// decides, and its version 0 is its own first row.
pub(crate) fn read_tool_table(tool: stowage_core::tools::Layout, name: &TableName) -> String {
    use stowage_core::tools::Layout;
    let table = qualified(name);
    match tool {
        Layout::Stowage => String::new(),
        Layout::Sqlx => format!(
            "SELECT version::text, success, NOT success, encode(checksum, 'hex'), {}, \
             CASE WHEN execution_time >= 0 THEN execution_time / 1000000 END, NULL, description \
             FROM {table} ORDER BY version",
            utc_text("installed_on")
        ),
        Layout::Diesel => format!(
            "SELECT version::text, true, false, NULL, {}, NULL, NULL, NULL FROM {table} ORDER BY version",
            local_text("run_on")
        ),
        Layout::Refinery => format!(
            "SELECT version::text, true, false, checksum::text, applied_on::text, NULL, NULL, name \
             FROM {table} ORDER BY version"
        ),
        Layout::Goose => format!(
            "SELECT * FROM (SELECT DISTINCT ON (version_id) version_id::text, is_applied, false, NULL::text, \
             {}, NULL::bigint, NULL::text, NULL::text FROM {table} WHERE version_id <> 0 \
             ORDER BY version_id, id DESC) g ORDER BY version_id::bigint",
            local_text("tstamp")
        ),
        Layout::GolangMigrate => {
            format!("SELECT version::text, true, dirty, NULL, NULL, NULL, NULL, NULL FROM {table}")
        }
        Layout::Dbmate => format!(
            "SELECT version::text, true, false, NULL, NULL, NULL, NULL, NULL FROM {table} ORDER BY version"
        ),
        Layout::Flyway => format!(
            "SELECT version, success, NOT success, checksum::text, {}, execution_time, type, description \
             FROM {table} ORDER BY installed_rank",
            local_text("installed_on")
        ),
    }
}

/// One row adopted from another tool.
#[derive(Debug, Clone)]
pub(crate) struct AdoptedRecord<'a> {
    pub version: i64,
    pub name: &'a str,
    pub checksum: &'a str,
    /// RFC 3339; `None` for the adoption's own time.
    pub applied_at: Option<String>,
    pub execution_ms: i64,
    /// For a no-transaction migration: its statements.
    pub statements: Option<usize>,
    pub note: &'a str,
}

/// Records adopted rows, each unless its version is recorded already, if
/// this session still holds the lock; in the transaction the caller opened.
pub(crate) fn write_adopted(table: &TrackingTable, records: &[AdoptedRecord<'_>]) -> String {
    let mut sql = String::new();
    for r in records {
        let count = r
            .statements
            .map_or_else(|| "NULL".to_owned(), |n| n.to_string());
        sql.push_str(&format!(
            "INSERT INTO {} (version, name, checksum, applied_at, execution_ms, success, statements_done, \
             statements_total, note) SELECT {}, {}, {}, {}, {}, true, {count}, {count}, {} WHERE {} \
             ON CONFLICT (version) DO NOTHING;\n",
            table.qualified(),
            r.version,
            literal(r.name),
            literal(r.checksum),
            r.applied_at
                .as_deref()
                .map_or_else(|| "now()".to_owned(), |t| format!("{}::timestamptz", literal(t))),
            r.execution_ms,
            literal(r.note),
            lock_still_held(table, Some(r.version)),
        ));
    }
    sql
}
