//! A snapshot of a database's schema as a sorted set of text lines, for
//! comparing two states of one database.

use super::TestError;
use crate::conversation::blocking::block_on;
use crate::conversation::reply::LiveSchema;
use crate::conversation::sql::SchemaScope;
use crate::data::schema::{Aspect, Key, Model, ObjectKind, collapse_whitespace, render};
use crate::rules::table_name::DEFAULT_TABLE;
use crate::steps;
use postgres::Client;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The schema of a database, read from its catalog by [`schema`]: one line
/// per object, sorted, such as
/// `column public.users.email text NOT NULL DEFAULT ''::text`.
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
            lines: lines
                .into_iter()
                .map(|line| collapse_whitespace(&line))
                .collect(),
        }
    }
}

impl Schema {
    /// One line per object of `model`, its home schema written `home`.
    pub(crate) fn from_model(model: &Model, home: Option<&str>) -> Schema {
        model
            .objects
            .iter()
            .map(|(key, aspects)| line(key, aspects, home))
            .collect()
    }
}

/// An object's line: its kind and name, then what is known of it.
fn line(key: &Key, aspects: &BTreeMap<Aspect, String>, home: Option<&str>) -> String {
    let mut line = format!("{} {}", key.kind, key.display(home));
    if key.kind == ObjectKind::Column {
        let column = render::column("", aspects);
        line.push_str(&column);
        return line;
    }
    if let Some(definition) = aspects.get(&Aspect::Definition) {
        line.push_str(": ");
        line.push_str(definition);
    }
    for (aspect, value) in aspects {
        if matches!(aspect, Aspect::Definition | Aspect::ColumnOrder) {
            continue;
        }
        if *aspect == Aspect::Mapping {
            // Its lines, one per kind of token, read as a list.
            line.push_str(&format!(" ({aspect} {})", value.replace('\n', "; ")));
        } else {
            line.push_str(&format!(" ({aspect} {value})"));
        }
    }
    line
}

/// Reads the schema of the database `client` is connected to.
///
/// It is what [`Runner::check_schema`](crate::Runner::check_schema) reads
/// and the schema file holds, one line per object: the schemas but the
/// current one; tables (partitioned, unlogged, partitions and inheritance
/// included) and their columns (type, collation, `NOT NULL`, identity,
/// default, generated expression), constraints, indexes (not those of
/// constraints), triggers, rules, row-level security and its policies, and the
/// replica identity where it is not the default; extended statistics;
/// views and materialized views with their queries; functions, procedures
/// and aggregates; sequences (their settings and owning column, not their
/// current values); enum (labels in order), domain, composite and range
/// types; collations (not their version); text search dictionaries and
/// configurations, with each kind of token's dictionaries; extensions (by
/// name and schema, not their version or the objects they hold, and not
/// plpgsql, which every database has); comments. Left out are the
/// system's schemas, the tracking table `stowage_migrations` of the
/// session's current schema with the digest table and trigger beside it,
/// owners, privileges, and anything outside the database, such as roles.
///
/// Objects in the session's current schema are named with it in the
/// lines, but written without it in the definitions the server prints
/// (`ON users`), whatever the session's `search_path`, which is left as it
/// was. Runs of whitespace in a line are made one space, so a function body
/// re-indented does not count as a change. Nothing that differs between two
/// databases built alike, such as object ids or the current values of
/// sequences, is read; nor what differs between PostgreSQL 13 and 18 for the
/// same schema (the `NOT NULL` constraints that 17 and 18 record, a view's
/// qualified columns before 16).
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = stowage::testing::TestServer::shared()?;
/// let db = server.create_database()?;
/// let mut client = db.connect()?;
/// client.batch_execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)")?;
/// let schema = stowage::testing::schema(&mut client)?;
/// assert!(schema.contains("column public.users.email text NOT NULL"));
/// println!("{schema}");
/// # Ok(())
/// # }
/// ```
pub fn schema(client: &mut Client) -> Result<Schema, TestError> {
    let live = read(client, false)?;
    Ok(Schema::from_model(&live.model, live.home.as_deref()))
}

/// The schema of the database under `client`, all of it, as the model;
/// with the grants on its objects when `grants`.
pub(crate) fn read(client: &mut Client, grants: bool) -> Result<LiveSchema, TestError> {
    let tracking = postgres_protocol::escape::escape_identifier(DEFAULT_TABLE);
    block_on(steps::schema::read(
        client,
        &SchemaScope::All,
        &tracking,
        grants,
    ))
    .map_err(|e| TestError::with("cannot read the schema from the catalog", e))
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
