//! A snapshot of a database's schema as a sorted set of text lines, for
//! comparing two states of one database.

use super::TestError;
use crate::conversation::sql::{DIGEST_CLEAR, DIGEST_TABLE};
use crate::rules::table_name::DEFAULT_TABLE;
use postgres::Client;
use std::collections::BTreeSet;
use std::fmt;

/// The schema of a database, read from its catalog by [`schema`]: one line
/// per object, sorted, such as
/// `column public.users.email text not null default ''::text`.
///
/// Two snapshots of databases built by the same migrations are equal; a
/// difference between two snapshots is shown by [`Schema::diff`] as the
/// lines only one of them has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    lines: BTreeSet<String>,
}

impl Schema {
    /// The lines, sorted.
    pub fn lines(&self) -> impl Iterator<Item = &str> + '_ {
        self.lines.iter().map(String::as_str)
    }

    /// Whether the snapshot holds exactly this line.
    pub fn contains(&self, line: &str) -> bool {
        self.lines.contains(line)
    }

    /// How many lines it holds.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether it holds no line.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The lines only `self` has and the lines only `other` has, each sorted;
    /// both are empty when the snapshots are equal.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = stowage::testing::TestServer::shared()?;
    /// let db = server.create_database()?;
    /// let mut client = db.connect()?;
    /// let before = stowage::testing::schema(&mut client)?;
    /// client.batch_execute("CREATE TABLE t (id int)")?;
    /// let after = stowage::testing::schema(&mut client)?;
    /// let (removed, added) = before.diff(&after);
    /// assert!(removed.is_empty());
    /// assert_eq!(added, ["column public.t.id integer", "table public.t"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn diff<'a>(&'a self, other: &'a Schema) -> (Vec<&'a str>, Vec<&'a str>) {
        let only = |a: &'a Schema, b: &'a Schema| {
            a.lines
                .difference(&b.lines)
                .map(String::as_str)
                .collect::<Vec<_>>()
        };
        (only(self, other), only(other, self))
    }
}

impl fmt::Display for Schema {
    /// One line per object.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

impl FromIterator<String> for Schema {
    fn from_iter<I: IntoIterator<Item = String>>(lines: I) -> Self {
        Schema {
            lines: lines.into_iter().map(|line| normalize(&line)).collect(),
        }
    }
}

/// Reads the schema of the database `client` is connected to.
///
/// It holds the schemas; tables (partitioned, foreign, unlogged, partitions
/// and inheritance included) and their columns (type, collation, `not null`,
/// default, identity, generated expression), constraints, indexes, triggers
/// (not the internal ones of foreign keys) and row-level security policies;
/// views and materialized views with their definitions; functions,
/// procedures and aggregates; sequences (their settings and owning column,
/// not their current values); enum (labels in order), domain, composite and
/// range types; and extensions (by name, version and schema, not the objects
/// they hold). Left out are the `pg_catalog`, `information_schema`, TOAST
/// and temporary schemas, the tracking table `stowage_migrations` of the
/// session's current schema with the digest table and trigger beside it,
/// owners, privileges, comments, and anything outside the database, such as
/// roles.
///
/// Names are schema-qualified whatever the session's `search_path` (it is
/// set to `pg_catalog` for the reading and restored after), and runs of
/// whitespace in a line are made one space, so a function body re-indented
/// does not count as a change. Nothing that differs between two databases
/// built alike, such as object ids or the current values of sequences, is
/// read.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = stowage::testing::TestServer::shared()?;
/// let db = server.create_database()?;
/// let mut client = db.connect()?;
/// client.batch_execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)")?;
/// let schema = stowage::testing::schema(&mut client)?;
/// assert!(schema.contains("column public.users.email text not null"));
/// println!("{schema}");
/// # Ok(())
/// # }
/// ```
pub fn schema(client: &mut Client) -> Result<Schema, TestError> {
    let row = client
        .query_one(
            "SELECT current_setting('search_path'), \
             coalesce(to_regclass(quote_ident(current_schema()) || '.' || quote_ident($1))::oid, 0), \
             coalesce(to_regclass(quote_ident(current_schema()) || '.' || quote_ident($2))::oid, 0), \
             coalesce(to_regprocedure(quote_ident(current_schema()) || '.' || quote_ident($3) || '()')::oid, 0)",
            &[&DEFAULT_TABLE, &DIGEST_TABLE, &DIGEST_CLEAR],
        )
        .map_err(|e| TestError::with("cannot read the session's search_path", e))?;
    let search_path: String = row
        .try_get(0)
        .map_err(|e| TestError::with("cannot read the session's search_path", e))?;
    let stowage = (1..4)
        .map(|i| row.try_get::<_, u32>(i))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TestError::with("cannot find the tracking table", e))?;
    client
        .batch_execute("SET search_path = pg_catalog")
        .map_err(|e| TestError::with("cannot set search_path to read the schema", e))?;
    let read = client
        .query(&snapshot_sql(&stowage), &[])
        .map_err(|e| TestError::with("cannot read the schema from the catalog", e));
    let restored = client
        .execute(
            "SELECT pg_catalog.set_config('search_path', $1, false)",
            &[&search_path],
        )
        .map_err(|e| TestError::with("cannot restore the session's search_path", e));
    let rows = read?;
    restored?;
    rows.iter()
        .map(|row| {
            row.try_get::<_, Option<String>>(0)
                .map_err(|e| TestError::with("cannot read the schema from the catalog", e))
        })
        .filter_map(Result::transpose)
        .collect()
}

/// `line` with every run of whitespace made one space, and trimmed.
fn normalize(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The query that lists the schema, one line per row, leaving out the
/// objects with the oids in `stowage` (the tracking table, the digest table
/// and the digest's trigger function; 0 for none). Run with `search_path` set to
/// `pg_catalog`, so every name the server prints is schema-qualified.
fn snapshot_sql(stowage: &[u32]) -> String {
    let excluded = stowage
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"
WITH ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\_toast%'
      AND n.nspname NOT LIKE 'pg\_temp\_%'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                      AND d.objid = n.oid AND d.deptype = 'e')
),
rel AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relispartition, c.relpartbound,
           c.relrowsecurity, c.relforcerowsecurity, c.reloptions, ns.nspname,
           format('%I.%I', ns.nspname, c.relname) AS qname
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
    WHERE c.oid NOT IN ({excluded})
      AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'c')
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
)
SELECT 'schema ' || quote_ident(ns.nspname) FROM ns

UNION ALL
SELECT concat(
    CASE r.relkind WHEN 'p' THEN 'partitioned table ' WHEN 'f' THEN 'foreign table ' ELSE 'table ' END,
    r.qname,
    CASE WHEN r.relpersistence = 'u' THEN ' unlogged' END,
    CASE WHEN r.relkind = 'p' THEN ' partition by ' || pg_get_partkeydef(r.oid) END,
    CASE WHEN r.relispartition THEN
        (SELECT ' partition of ' || i.inhparent::regclass::text FROM pg_inherits i
         WHERE i.inhrelid = r.oid LIMIT 1) || ' ' || pg_get_expr(r.relpartbound, r.oid)
    ELSE
        (SELECT ' inherits ' || string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
         FROM pg_inherits i WHERE i.inhrelid = r.oid)
    END,
    CASE WHEN r.reloptions IS NOT NULL THEN ' with (' || array_to_string(r.reloptions, ', ') || ')' END,
    CASE WHEN r.relrowsecurity THEN ' row level security' END,
    CASE WHEN r.relforcerowsecurity THEN ' forced' END)
FROM rel r WHERE r.relkind IN ('r', 'p', 'f')

UNION ALL
SELECT concat(
    CASE r.relkind WHEN 'c' THEN 'attribute ' ELSE 'column ' END,
    r.qname, '.', quote_ident(a.attname), ' ', format_type(a.atttypid, a.atttypmod),
    CASE WHEN a.attcollation <> t.typcollation THEN
        (SELECT ' collate ' || format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
         JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation)
    END,
    CASE WHEN a.attnotnull THEN ' not null' END,
    CASE a.attidentity WHEN 'a' THEN ' generated always as identity'
                       WHEN 'd' THEN ' generated by default as identity' END,
    CASE WHEN a.attgenerated = 's' THEN ' generated always as (' || pg_get_expr(ad.adbin, ad.adrelid) || ') stored'
         WHEN ad.adbin IS NOT NULL THEN ' default ' || pg_get_expr(ad.adbin, ad.adrelid) END)
FROM rel r
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE r.relkind IN ('r', 'p', 'f', 'c')

UNION ALL
SELECT concat('constraint ', r.qname, ' ', quote_ident(co.conname), ' ', pg_get_constraintdef(co.oid))
FROM pg_constraint co JOIN rel r ON r.oid = co.conrelid

UNION ALL
SELECT concat('constraint ', format('%I.%I', ns.nspname, t.typname), ' ', quote_ident(co.conname), ' ',
              pg_get_constraintdef(co.oid))
FROM pg_constraint co JOIN pg_type t ON t.oid = co.contypid JOIN ns ON ns.oid = t.typnamespace

UNION ALL
SELECT concat('index ', format('%I.%I', r.nspname, ic.relname), ': ', pg_get_indexdef(i.indexrelid),
              CASE WHEN NOT i.indisvalid THEN ' (invalid)' END)
FROM pg_index i JOIN rel r ON r.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid

UNION ALL
SELECT concat(CASE r.relkind WHEN 'v' THEN 'view ' ELSE 'materialized view ' END, r.qname,
              CASE WHEN r.reloptions IS NOT NULL THEN ' with (' || array_to_string(r.reloptions, ', ') || ')' END,
              ': ', pg_get_viewdef(r.oid, true))
FROM rel r WHERE r.relkind IN ('v', 'm')

UNION ALL
SELECT concat('trigger ', r.qname, ' ', quote_ident(tg.tgname), ': ', pg_get_triggerdef(tg.oid),
              CASE tg.tgenabled WHEN 'D' THEN ' (disabled)' WHEN 'R' THEN ' (enabled replica)'
                                WHEN 'A' THEN ' (enabled always)' END)
FROM pg_trigger tg JOIN rel r ON r.oid = tg.tgrelid WHERE NOT tg.tgisinternal

UNION ALL
SELECT concat('policy ', format('%I.%I', p.schemaname, p.tablename), ' ', quote_ident(p.policyname), ' ',
              lower(p.permissive), ' for ', lower(p.cmd), ' to ', array_to_string(p.roles, ', '),
              ' using (' || p.qual || ')', ' with check (' || p.with_check || ')')
FROM pg_policies p JOIN ns ON ns.nspname = p.schemaname

UNION ALL
SELECT concat('sequence ', r.qname, ' as ', format_type(s.seqtypid, NULL),
              ' start ', s.seqstart, ' increment ', s.seqincrement, ' min ', s.seqmin, ' max ', s.seqmax,
              ' cache ', s.seqcache, CASE WHEN s.seqcycle THEN ' cycle' END,
              (SELECT ' owned by ' || d.refobjid::regclass::text || '.' || quote_ident(a.attname)
               FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
               WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                 AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
               LIMIT 1))
FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid

UNION ALL
SELECT CASE WHEN p.prokind = 'a' THEN
           concat('aggregate ', format('%I.%I', ns.nspname, p.proname), '(',
                  pg_get_function_identity_arguments(p.oid), ') returns ', pg_get_function_result(p.oid))
       ELSE
           concat(CASE p.prokind WHEN 'p' THEN 'procedure ' ELSE 'function ' END,
                  format('%I.%I', ns.nspname, p.proname), '(', pg_get_function_identity_arguments(p.oid), '): ',
                  pg_get_functiondef(p.oid))
       END
FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
WHERE p.oid NOT IN ({excluded}) AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype IN ('e', 'i'))

UNION ALL
SELECT concat(
    CASE t.typtype WHEN 'e' THEN 'enum ' WHEN 'd' THEN 'domain ' WHEN 'r' THEN 'range ' ELSE 'composite type ' END,
    format('%I.%I', ns.nspname, t.typname),
    CASE t.typtype
        WHEN 'e' THEN ' (' || coalesce((SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                        FROM pg_enum e WHERE e.enumtypid = t.oid), '') || ')'
        WHEN 'd' THEN concat(' as ', format_type(t.typbasetype, t.typtypmod),
                             CASE WHEN t.typnotnull THEN ' not null' END,
                             ' default ' || t.typdefault)
        WHEN 'r' THEN (SELECT ' of ' || format_type(rg.rngsubtype, NULL) FROM pg_range rg WHERE rg.rngtypid = t.oid)
    END)
FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
WHERE (t.typtype IN ('e', 'd', 'r')
       OR (t.typtype = 'c' AND EXISTS (SELECT FROM rel r WHERE r.oid = t.typrelid AND r.relkind = 'c')))
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                  AND d.objid = t.oid AND d.deptype = 'e')

UNION ALL
SELECT concat('extension ', quote_ident(e.extname), ' ', e.extversion, ' in schema ', quote_ident(n.nspname))
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_gives_the_lines_of_each_side_alone() {
        let a: Schema = ["table public.a", "column public.a.id  integer"]
            .map(String::from)
            .into_iter()
            .collect();
        let b: Schema = ["table public.a", "table public.b"]
            .map(String::from)
            .into_iter()
            .collect();
        assert!(
            a.contains("column public.a.id integer"),
            "whitespace is normalized"
        );
        assert_eq!(
            a.diff(&b),
            (vec!["column public.a.id integer"], vec!["table public.b"])
        );
        assert_eq!(a.diff(&a), (vec![], vec![]));
    }
}
