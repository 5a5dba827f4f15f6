//! What the tracking table says, checked against what the schema holds.
//!
//! The reference is the schema after each migration and, for a
//! no-transaction migration, after each of its statements, read once from a
//! database built step by step. A database agrees with its tracking table
//! when its schema is the reference's for the migrations recorded as
//! applied plus, for a dirty migration, the statements recorded as done;
//! the statement after them may also have completed (or left an INVALID
//! index) when the run was interrupted during it, which the dirty row says.

use crate::common::{self, Conn};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use stowage::testing::{self, Schema, TestServer};

/// Where a database stands, as its tracking table says and its schema
/// confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Migrations 1 to `applied` are recorded as applied, and no other.
    pub applied: i64,
    /// The migration after them, if it is dirty.
    pub dirty: Option<Dirty>,
}

impl State {
    pub const COMPLETE: State = State {
        applied: 50,
        dirty: None,
    };

    pub fn at(applied: i64) -> State {
        State {
            applied,
            dirty: None,
        }
    }
}

/// A dirty no-transaction migration's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirty {
    pub version: i64,
    /// `statements_done`.
    pub done: usize,
    /// `statements_total`.
    pub total: usize,
    /// Whether the row holds no error: the run was interrupted, not failed.
    pub interrupted: bool,
    /// What the schema shows of statement `done + 1`.
    pub next: Next,
}

/// What became of the statement after the ones a dirty row records as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Nothing of it is in the schema.
    NotRun,
    /// It completed: its objects are in the schema.
    Completed,
    /// It was a `CREATE INDEX CONCURRENTLY` cut short: the index is there,
    /// INVALID.
    LeftInvalid,
}

/// The schema after each step of the fifty migrations.
struct Reference {
    /// After migrations 1 to k, at index k.
    after: Vec<Schema>,
    /// After migrations before `v` and statements 1 to `d` of no-transaction
    /// migration `v`, at `(v, d)`.
    partial: BTreeMap<(i64, usize), Schema>,
}

impl Reference {
    /// Schema after migrations before `version` and `done` of its statements.
    fn partial(&self, version: i64, done: usize) -> &Schema {
        if done == 0 {
            &self.after[usize::try_from(version - 1).unwrap()]
        } else {
            &self.partial[&(version, done)]
        }
    }
}

fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let server = TestServer::shared().unwrap_or_else(|e| panic!("no test server: {e}"));
        let db = server.create_database().unwrap();
        let mut client = db.connect().unwrap();
        let mut after = vec![testing::schema(&mut client).unwrap()];
        let mut partial = BTreeMap::new();
        for m in crate::FIFTY.iter() {
            let v = m.version();
            if m.up().is_transactional() {
                crate::FIFTY.runner().target(v).run(&mut client).unwrap();
            } else {
                for (i, s) in m.up().statements().iter().enumerate() {
                    client.batch_execute(s.sql()).unwrap();
                    partial.insert((v, i + 1), testing::schema(&mut client).unwrap());
                }
                assert!(crate::FIFTY.runner().mark_applied(&mut client, v).unwrap());
            }
            after.push(testing::schema(&mut client).unwrap());
        }
        Reference { after, partial }
    })
}

/// A row of the tracking table, with the progress columns of a
/// no-transaction migration that `common::tracked` does not read.
#[derive(Debug)]
struct Row {
    version: i64,
    checksum: String,
    success: bool,
    error: Option<String>,
    done: Option<i32>,
    total: Option<i32>,
}

fn rows(client: &mut Conn) -> Vec<Row> {
    if !common::table_exists(client, "public.stowage_migrations") {
        return Vec::new();
    }
    client
        .query(
            "SELECT version, checksum, success, error, statements_done, statements_total \
             FROM public.stowage_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| Row {
            version: r.get(0),
            checksum: r.get(1),
            success: r.get(2),
            error: r.get(3),
            done: r.get(4),
            total: r.get(5),
        })
        .collect()
}

/// The schema of the database, read over the blocking connection under
/// `client`.
pub fn schema_of(client: &mut Conn) -> Schema {
    match client {
        Conn::Sync(client) => testing::schema(client).unwrap_or_else(|e| panic!("{e}")),
        Conn::Async(_) => panic!("the state is read over a blocking connection"),
    }
}

/// Reads the tracking table, checks that the schema holds exactly what it
/// says (panicking with the difference if not), and returns it. `client`
/// is a blocking connection ([`Conn::Sync`]).
pub fn check(client: &mut Conn) -> State {
    let rows = rows(client);
    let reference = reference();
    let mut applied = 0;
    let mut dirty = None;
    for row in &rows {
        let migration = crate::FIFTY
            .get(row.version)
            .unwrap_or_else(|| panic!("a row for unknown migration {}: {rows:#?}", row.version));
        assert_eq!(row.checksum, migration.up().checksum(), "{rows:#?}");
        let total = (!migration.up().is_transactional()).then(|| migration.up().statements().len());
        assert_eq!(
            row.total.map(|t| usize::try_from(t).unwrap()),
            total,
            "statements_total of {}: {rows:#?}",
            row.version
        );
        if row.success {
            assert!(
                row.version == applied + 1 && dirty.is_none(),
                "applied migrations are not 1 to n in order: {rows:#?}"
            );
            assert_eq!(row.done, row.total, "{rows:#?}");
            applied = row.version;
        } else {
            assert!(
                row.version == applied + 1 && dirty.is_none(),
                "a failed row that is not the first after the applied ones: {rows:#?}"
            );
            let total = total.unwrap_or_else(|| {
                panic!("a failed transactional migration (none fails here): {rows:#?}")
            });
            dirty = Some((row, total));
        }
    }
    let actual = schema_of(client);
    let Some((row, total)) = dirty else {
        let expected = &reference.after[usize::try_from(applied).unwrap()];
        assert_same(&actual, expected, &format!("migrations 1 to {applied}"));
        return State::at(applied);
    };
    let done = usize::try_from(row.done.expect("statements_done of a dirty row")).unwrap();
    let interrupted = row.error.is_none();
    let version = row.version;
    let not_run = reference.partial(version, done);
    let next = if &actual == not_run {
        Next::NotRun
    } else if done < total && &actual == reference.partial(version, done + 1) {
        Next::Completed
    } else if done < total && actual == left_invalid(not_run, reference.partial(version, done + 1))
    {
        Next::LeftInvalid
    } else {
        assert_same(
            &actual,
            not_run,
            &format!("migrations 1 to {applied} and {done} statements of {version}"),
        );
        unreachable!()
    };
    assert!(
        interrupted || next == Next::NotRun,
        "a failed statement changed the schema: {row:#?}"
    );
    State {
        applied,
        dirty: Some(Dirty {
            version,
            done,
            total,
            interrupted,
            next,
        }),
    }
}

/// `before` with the indexes that `after` adds, INVALID.
fn left_invalid(before: &Schema, after: &Schema) -> Schema {
    let (_, added) = before.diff(after);
    if added.iter().any(|line| !line.starts_with("index ")) {
        return before.clone();
    }
    before
        .lines()
        .map(str::to_owned)
        .chain(
            added
                .iter()
                .map(|line| format!("{line} (validity INVALID)")),
        )
        .collect()
}

/// Panics, showing the lines that differ, unless `actual` is `expected`,
/// the schema of `what`.
pub fn assert_same(actual: &Schema, expected: &Schema, what: &str) {
    let (extra, missing) = actual.diff(expected);
    assert!(
        extra.is_empty() && missing.is_empty(),
        "the schema is not that of {what}:\nin the database, not expected:\n  {}\nexpected, not in the database:\n  {}",
        extra.join("\n  "),
        missing.join("\n  ")
    );
}
