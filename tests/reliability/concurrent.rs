//! Kills in the no-transaction statements whose work the catalog shows, and
//! in their neighbours, on the migrations of
//! `tests/fixtures/reliability_concurrent`:
//!
//! 1. tables `items`, `tags`, `events` and `visits`, an index on `tags`
//!    and one on `events`, and the enum `mood` (in a transaction);
//! 2. five statements in autocommit, each on an object of its own made by
//!    migration 1, so that a gate on one holds no other:
//!    `CREATE INDEX CONCURRENTLY items_sku_idx ON items (sku)`,
//!    `DROP INDEX CONCURRENTLY tags_legacy_idx`,
//!    `REINDEX INDEX CONCURRENTLY events_kind_idx`,
//!    `ALTER TYPE mood ADD VALUE 'calm' AFTER 'happy'` and `VACUUM visits`;
//! 3. `CREATE INDEX CONCURRENTLY IF NOT EXISTS items_name_idx ...`;
//! 4. `CREATE INDEX CONCURRENTLY ON items (created_at)`, which the server
//!    names `items_created_at_idx` (`..._idx1` if that name is taken);
//! 5. `UPDATE items SET mood = 'calm' ...`, of which the catalog shows
//!    nothing.
//!
//! A child is killed (SIGKILL) at every boundary of migration 2 (while the
//! row that records its progress is written, behind a gate on the tracking
//! table) and in each of its statements, blocked behind a gate. Its server
//! process then either finishes the statement once the gate is released,
//! as PostgreSQL does for a client that died, or is ended by
//! `pg_terminate_backend` first, cutting the statement off. Either way the
//! catalog tells whether the statement completed, and a plain run goes on
//! by itself: after the statement or with it, dropping first the INVALID
//! indexes a cut-off build left. Afterwards the schema is that of a clean
//! apply in a fresh database, every migration is recorded applied, and no
//! lock is left.
//!
//! What each statement waits for, as `pg_locks` and `pg_stat_activity`
//! show it, and so where a gate holds it:
//!
//! | statement | gate | waits on | holds it |
//! |-----------|------|----------|----------|
//! | `CREATE INDEX CONCURRENTLY` | writing `items` (ROW EXCLUSIVE) | `virtualxid`: the writers before its build | after its catalog entry committed: the index there, INVALID, not ready |
//! | `DROP INDEX CONCURRENTLY` | writing `tags` | `virtualxid`: the transactions that may use the index | after the index was marked INVALID |
//! | `REINDEX INDEX CONCURRENTLY` | writing `events` | `virtualxid`: the writers before its build | after `events_kind_idx_ccnew` was made, INVALID |
//! | `REINDEX INDEX CONCURRENTLY` | reading `events` (ACCESS SHARE) | `virtualxid`: the readers of the old index | after the swap: the old index is `events_kind_idx_ccold`, INVALID |
//! | `ALTER TYPE ... ADD VALUE` | commenting on `mood` (SHARE UPDATE EXCLUSIVE on the type) | `object`: its EXCLUSIVE lock on the type | before it did anything |
//! | `VACUUM` | blocking writes to `visits` (SHARE) | `relation`: its SHARE UPDATE EXCLUSIVE on the table | before it did anything |
//!
//! `ALTER TYPE ... ADD VALUE` and `VACUUM` cannot be held part way by any
//! gate: the first takes its lock on the type before anything else and
//! then runs in one transaction, showing nothing until it commits; the
//! second, once it has its table lock, waits only for buffer pins, never
//! for a lock another session holds, and skips a page it cannot pin (its
//! truncation takes its lock only if it is free). Held at their lock, a
//! kill there leaves them not begun, then completed by their server
//! process or cut off before they began; a kill at the boundary after each
//! leaves them completed with the next statement not begun.
//!
//! While a killed child's server process still runs a statement behind a
//! gate, `status` names it (`running_pid`), and another run with a short
//! `lock_wait_timeout` gives up naming the migration and the statement it
//! still runs (`Error::LockTimeout::running_statement`).
//!
//! Besides: the traps around these statements (`IF NOT EXISTS` over an
//! INVALID index, an unnamed build completed by its server process, a
//! rebuild cut off leaving `_ccnew` or `_ccold`), a backfill whose outcome
//! the catalog cannot tell, and a server stopped mid-build (a stage of the
//! suite's test of a stopped server, [`stopped_mid_build`]).

use crate::child::{self, Set};
use crate::common::{self, Conn, Driver};
use crate::gate::Gate;
use crate::{assert_no_lock, database_with, kill_and_release, kill_at, state, watch, Db, TRACKING};
use postgres::Config;
use std::sync::OnceLock;
use std::time::Duration;
use stowage::testing::{Schema, TestServer};
use stowage::{Error, Interrupted, Remedy, Stage, Violation};

pub static CONCURRENT: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/reliability_concurrent");

/// Migration 2, its five statements, and the name its rows are written with.
const MAINTENANCE: i64 = 2;
const STATEMENTS: usize = 5;
const MAINTENANCE_NAME: &str = "'concurrent_maintenance'";
/// The last migration.
const LAST: i64 = 5;

/// How long a second instance waits for the lock a dead child's server
/// process holds.
const SHORT_WAIT: Duration = Duration::from_millis(100);

/// Where a gate holds a statement of migration 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Within {
    /// `CREATE INDEX CONCURRENTLY items_sku_idx`: its index made, INVALID,
    /// waiting for the writers of `items`.
    Build,
    /// `DROP INDEX CONCURRENTLY tags_legacy_idx`: the index marked
    /// INVALID, waiting for the writers of `tags`.
    Drop,
    /// `REINDEX INDEX CONCURRENTLY events_kind_idx`: its new index
    /// `events_kind_idx_ccnew` made, waiting for the writers of `events`.
    RebuildBeforeSwap,
    /// The same, swapped: the old index is `events_kind_idx_ccold`,
    /// waiting for the readers of `events` before it is dropped.
    RebuildAfterSwap,
    /// `ALTER TYPE mood ADD VALUE 'calm'`: waiting for its lock on the type.
    Label,
    /// `VACUUM visits`: waiting for its lock on the table.
    Vacuum,
}

impl Within {
    /// The gate that holds the statement, for each statement from 1.
    const BY_STATEMENT: [Within; STATEMENTS] = [
        Within::Build,
        Within::Drop,
        Within::RebuildBeforeSwap,
        Within::Label,
        Within::Vacuum,
    ];

    /// The statement's number, from 1.
    fn statement(self) -> usize {
        match self {
            Within::Build => 1,
            Within::Drop => 2,
            Within::RebuildBeforeSwap | Within::RebuildAfterSwap => 3,
            Within::Label => 4,
            Within::Vacuum => 5,
        }
    }

    /// Opens the gate, before the run.
    fn gate(self, config: &Config) -> Gate {
        match self {
            Within::Build => Gate::writing(config, "items"),
            Within::Drop => Gate::writing(config, "tags"),
            Within::RebuildBeforeSwap => Gate::writing(config, "events"),
            Within::RebuildAfterSwap => Gate::reading(config, "events"),
            Within::Label => Gate::commenting_on_type(config, "mood"),
            Within::Vacuum => Gate::blocking_writes(config, "visits"),
        }
    }

    /// A part of the statement's text.
    fn part(self) -> &'static str {
        match self {
            Within::Build => "items_sku_idx",
            Within::Drop => "tags_legacy_idx",
            Within::RebuildBeforeSwap | Within::RebuildAfterSwap => "events_kind_idx",
            Within::Label => "ADD VALUE 'calm'",
            Within::Vacuum => "VACUUM visits",
        }
    }

    /// Whether the catalog shows the statement completed once its server
    /// process finished it: a build, a drop and a label show; a rebuild
    /// and a vacuum change no definition, and simply run again.
    fn shows_completed(self) -> bool {
        matches!(self, Within::Build | Within::Drop | Within::Label)
    }

    /// The INVALID indexes the statement leaves when its server process is
    /// ended here, which a run drops before it runs the statement again.
    /// (The index a drop cut off leaves INVALID is the one it drops:
    /// running the drop again is what removes it.)
    fn leaves(self) -> &'static [&'static str] {
        match self {
            Within::Build => &["public.items_sku_idx"],
            Within::RebuildBeforeSwap => &["public.events_kind_idx_ccnew"],
            Within::RebuildAfterSwap => &["public.events_kind_idx_ccold"],
            Within::Drop | Within::Label | Within::Vacuum => &[],
        }
    }
}

/// What becomes of the server process of a child killed in a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// The gate is released: it finishes the statement, then finds its
    /// client gone and ends.
    Finishes,
    /// An operator ends it (`pg_terminate_backend`) while it waits, cutting
    /// the statement off; then the gate is released.
    IsEnded,
}

/// The schema of a clean apply of the five migrations in a fresh database,
/// read once.
fn clean_schema() -> &'static Schema {
    static CLEAN: OnceLock<Schema> = OnceLock::new();
    CLEAN.get_or_init(|| {
        let server = TestServer::shared().unwrap_or_else(|e| panic!("no test server: {e}"));
        let db = server.create_database().unwrap();
        let mut client = db.connect().unwrap();
        CONCURRENT.runner().run(&mut client).unwrap();
        stowage::testing::schema(&mut client).unwrap()
    })
}

/// A migration's row, as far as these tests read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    /// Dirty, no error recorded, after `done` statements.
    Interrupted {
        done: usize,
    },
    Applied,
}

fn row(client: &mut Conn, version: i64) -> Option<Row> {
    let row = client
        .query_opt(
            "SELECT statements_done, success, error IS NULL FROM public.stowage_migrations \
             WHERE version = $1",
            &[&version],
        )
        .unwrap()?;
    let done: Option<i32> = row.get(0);
    let success: bool = row.get(1);
    let interrupted: bool = row.get(2);
    Some(match (success, interrupted) {
        (true, _) => Row::Applied,
        (false, true) => Row::Interrupted {
            done: usize::try_from(done.expect("statements_done")).unwrap(),
        },
        (false, false) => panic!("migration {version} failed, it was not interrupted"),
    })
}

/// Whether index `name` is valid; `None` if there is none.
fn index_valid(client: &mut Conn, name: &str) -> Option<bool> {
    client
        .query_opt(
            "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass($1)",
            &[&name],
        )
        .unwrap()
        .map(|r| r.get(0))
}

/// The indexes of `items` whose names start with `prefix`, sorted.
fn item_indexes(client: &mut Conn, prefix: &str) -> Vec<String> {
    client
        .query(
            "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = 'items'::regclass AND starts_with(c.relname, $1) ORDER BY 1",
            &[&prefix],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// How many items have no mood yet.
fn moods_missing(client: &mut Conn) -> i64 {
    client
        .query_one("SELECT count(*) FROM items WHERE mood IS NULL", &[])
        .unwrap()
        .get(0)
}

/// Ends server process `pid`, as an operator does with
/// `pg_terminate_backend`, and waits until it is gone.
fn end(client: &mut Conn, pid: i32) {
    client
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    watch::gone(client, pid);
}

/// Checks, while the server process `pid` of a killed child still runs
/// `statement` of `version` behind a gate, holding the migration lock,
/// that `status` names it.
fn status_names_the_orphan(db: &Db<'_>, pid: i32, version: i64, statement: usize) {
    let stopped = db.stopped(version);
    assert_eq!(stopped.statement, statement, "{stopped:?}");
    assert_eq!(stopped.running_pid, Some(pid), "{stopped:?}");
}

/// Checks that a second instance, waiting a short while for the lock the
/// server process `pid` of a killed child holds, running `statement` of
/// `version`, gives up naming the migration and the statement.
fn second_instance_is_told_what_the_orphan_runs(
    db: &Db<'_>,
    pid: i32,
    version: i64,
    statement: usize,
) {
    let second = db.start("second", &format!("run_waiting:{}", SHORT_WAIT.as_millis()));
    let outcome = second.finish(child::FINISH_WITHIN);
    assert!(!outcome.status.success(), "{}", outcome.describe());
    let error = outcome.error_json().expect("the second instance's error");
    assert_eq!(error["kind"], "lock-timeout", "{error:#}");
    assert_eq!(error["holder_pid"], pid, "{error:#}");
    assert_eq!(
        error["running_statement"],
        serde_json::json!([version, statement]),
        "{error:#}"
    );
    let message = outcome.error().expect("the second instance's message");
    assert!(
        message.contains(&format!(
            "server process {pid} holds it, still running statement {statement} of migration {version}"
        )),
        "{message}"
    );
}

/// Checks that the database is a clean apply of the five migrations: every
/// one recorded applied, and the schema that of a fresh database they
/// were applied to.
fn is_clean(client: &mut Conn) {
    assert_eq!(
        common::applied_versions(client),
        (1..=LAST).collect::<Vec<_>>()
    );
    state::assert_same(&state::schema_of(client), clean_schema(), "a clean apply");
}

/// The operator's step after a kill: nothing but a plain run, through the
/// test's driver, which applies migrations `from` to the last, leaving a
/// clean apply, no lock, and nothing for a further run to do.
fn completes_by_itself(db: &Db<'_>, client: &mut Conn, from: i64) {
    let mut operator = db.conn();
    let report = operator
        .run(
            CONCURRENT
                .runner()
                .lock_wait_timeout(Duration::from_secs(60)),
        )
        .unwrap_or_else(|e| panic!("the run after the kill failed: {e}"));
    assert_eq!(common::versions(&report), (from..=LAST).collect::<Vec<_>>());
    is_clean(client);
    assert!(operator.run(CONCURRENT.runner()).unwrap().is_empty());
    assert_no_lock(client);
}

// ---------------------------------------------------------------------------
// Killed at a boundary of migration 2.

/// Kills a run while it writes the row of migration 2 after `done` of its
/// statements (0: the row recording its start; all five: the row recording
/// it applied): the row commits, the statement after is not begun.
fn kill_while_recording(driver: Driver, done: usize) {
    let (db, mut client) = database_with(Set::Concurrent, 1, driver);
    let (migrator, at_row) = if done == 0 {
        let at_row = Gate::blocking_writes(db.config(), TRACKING);
        (db.start("migrator", "run"), at_row)
    } else {
        // Held in statement `done`, then let go on to its row.
        let within = Within::BY_STATEMENT[done - 1];
        let in_statement = within.gate(db.config());
        let mut migrator = db.start("migrator", "run");
        watch::blocked(&mut client, &mut migrator, &in_statement, within.part());
        let at_row = Gate::blocking_writes(db.config(), TRACKING);
        in_statement.release();
        (migrator, at_row)
    };
    kill_at(&mut client, migrator, at_row, MAINTENANCE_NAME);
    if done == STATEMENTS {
        assert_eq!(row(&mut client, MAINTENANCE), Some(Row::Applied));
        completes_by_itself(&db, &mut client, MAINTENANCE + 1);
    } else {
        assert_eq!(
            row(&mut client, MAINTENANCE),
            Some(Row::Interrupted { done })
        );
        // What the statement after makes is not in the catalog, what it
        // drops is still there: it did not run.
        db.catalog_says(MAINTENANCE, done + 1, false, &[]);
        completes_by_itself(&db, &mut client, MAINTENANCE);
    }
}

fn kill_while_recording_the_start(driver: Driver) {
    kill_while_recording(driver, 0);
}

fn kill_while_recording_the_build_done(driver: Driver) {
    kill_while_recording(driver, 1);
}

fn kill_while_recording_the_drop_done(driver: Driver) {
    kill_while_recording(driver, 2);
}

fn kill_while_recording_the_rebuild_done(driver: Driver) {
    kill_while_recording(driver, 3);
}

fn kill_while_recording_the_label_added(driver: Driver) {
    kill_while_recording(driver, 4);
}

fn kill_while_recording_the_migration_applied(driver: Driver) {
    kill_while_recording(driver, 5);
}

// ---------------------------------------------------------------------------
// Killed in a statement of migration 2.

/// Kills a run held `within` a statement of migration 2; checks what its
/// server process, still running the statement, shows; then lets it finish
/// the statement or ends it, and checks that the catalog decides and a
/// plain run completes.
fn kill_within(driver: Driver, within: Within, then: Then) {
    let (db, mut client) = database_with(Set::Concurrent, 1, driver);
    let statement = within.statement();
    let gate = within.gate(db.config());
    let mut migrator = db.start("migrator", "run");
    let pid = watch::blocked(&mut client, &mut migrator, &gate, within.part());
    migrator.kill();
    status_names_the_orphan(&db, pid, MAINTENANCE, statement);
    match then {
        Then::Finishes => {
            gate.release();
            watch::gone(&mut client, pid);
        }
        Then::IsEnded => {
            end(&mut client, pid);
            gate.release();
        }
    }
    assert_no_lock(&mut client);
    assert_eq!(
        row(&mut client, MAINTENANCE),
        Some(Row::Interrupted {
            done: statement - 1
        })
    );
    match then {
        Then::Finishes => db.catalog_says(MAINTENANCE, statement, within.shows_completed(), &[]),
        Then::IsEnded => db.catalog_says(MAINTENANCE, statement, false, within.leaves()),
    }
    completes_by_itself(&db, &mut client, MAINTENANCE);
}

fn kill_in_the_build(driver: Driver) {
    kill_within(driver, Within::Build, Then::Finishes);
}

fn kill_in_the_build_then_end_it(driver: Driver) {
    kill_within(driver, Within::Build, Then::IsEnded);
}

fn kill_in_the_drop(driver: Driver) {
    kill_within(driver, Within::Drop, Then::Finishes);
}

fn kill_in_the_drop_then_end_it(driver: Driver) {
    kill_within(driver, Within::Drop, Then::IsEnded);
}

fn kill_in_the_rebuild_before_its_swap(driver: Driver) {
    kill_within(driver, Within::RebuildBeforeSwap, Then::Finishes);
}

/// A rebuild cut off before its swap leaves `events_kind_idx_ccnew`
/// INVALID: the run drops it, then rebuilds.
fn kill_in_the_rebuild_before_its_swap_then_end_it(driver: Driver) {
    kill_within(driver, Within::RebuildBeforeSwap, Then::IsEnded);
}

fn kill_in_the_rebuild_after_its_swap(driver: Driver) {
    kill_within(driver, Within::RebuildAfterSwap, Then::Finishes);
}

/// Cut off after its swap, it leaves the old index as
/// `events_kind_idx_ccold`, INVALID.
fn kill_in_the_rebuild_after_its_swap_then_end_it(driver: Driver) {
    kill_within(driver, Within::RebuildAfterSwap, Then::IsEnded);
}

fn kill_in_the_label(driver: Driver) {
    kill_within(driver, Within::Label, Then::Finishes);
}

fn kill_in_the_label_then_end_it(driver: Driver) {
    kill_within(driver, Within::Label, Then::IsEnded);
}

fn kill_in_the_vacuum(driver: Driver) {
    kill_within(driver, Within::Vacuum, Then::Finishes);
}

fn kill_in_the_vacuum_then_end_it(driver: Driver) {
    kill_within(driver, Within::Vacuum, Then::IsEnded);
}

// ---------------------------------------------------------------------------
// The server process of a killed child, still running a statement.

/// While the server process of a killed child still runs statement 3 of
/// migration 2 behind a gate, holding the migration lock, `status` names
/// it, and a second instance that waits a short while for the lock gives
/// up naming the statement, not merely the process. Meanwhile another
/// database of the server, migrated by a program of its own, holds its own
/// migration lock (the same key: the tracking table has the same name
/// there), as on a server that holds one database per tenant.
fn a_second_instance_is_told_what_the_orphan_still_runs(driver: Driver) {
    let (other, mut other_client) = database_with(Set::Concurrent, 1, driver);
    let other_gate = Gate::writing(other.config(), "items");
    let mut other_migrator = other.start("other", "run");
    watch::blocked(
        &mut other_client,
        &mut other_migrator,
        &other_gate,
        "items_sku_idx",
    );

    let (db, mut client) = database_with(Set::Concurrent, 1, driver);
    let within = Within::RebuildBeforeSwap;
    let gate = within.gate(db.config());
    let mut migrator = db.start("migrator", "run");
    let pid = watch::blocked(&mut client, &mut migrator, &gate, within.part());
    migrator.kill();
    status_names_the_orphan(&db, pid, MAINTENANCE, 3);
    second_instance_is_told_what_the_orphan_runs(&db, pid, MAINTENANCE, 3);
    gate.release();
    watch::gone(&mut client, pid);
    assert_no_lock(&mut client);
    db.catalog_says(MAINTENANCE, 3, false, &[]);
    completes_by_itself(&db, &mut client, MAINTENANCE);

    other_gate.release();
    let outcome = other_migrator.finish(child::FINISH_WITHIN);
    assert_eq!(
        outcome.succeeded(),
        (MAINTENANCE..=LAST).collect::<Vec<_>>()
    );
    is_clean(&mut other_client);
}

// ---------------------------------------------------------------------------
// The traps.

/// Migration 3's `CREATE INDEX CONCURRENTLY IF NOT EXISTS`, cut off, leaves
/// its index INVALID; run again as it is, it would report "already exists,
/// skipping" and leave it so. The run drops it first and builds it valid.
fn kill_then_end_a_build_that_skips_an_existing_index(driver: Driver) {
    let (db, mut client) = database_with(Set::Concurrent, 2, driver);
    let gate = Gate::writing(db.config(), "items");
    let mut migrator = db.start("migrator", "run");
    let pid = watch::blocked(&mut client, &mut migrator, &gate, "items_name_idx");
    migrator.kill();
    end(&mut client, pid);
    gate.release();
    assert_no_lock(&mut client);
    assert_eq!(index_valid(&mut client, "items_name_idx"), Some(false));
    db.catalog_says(3, 1, false, &["public.items_name_idx"]);
    completes_by_itself(&db, &mut client, 3);
    assert_eq!(index_valid(&mut client, "items_name_idx"), Some(true));
}

/// Migration 4's unnamed `CREATE INDEX CONCURRENTLY ON items (created_at)`,
/// completed by the server process of the killed child: run again, it would
/// build a second index, `items_created_at_idx1`. The run goes on after it.
fn kill_in_an_unnamed_build(driver: Driver) {
    let (db, mut client) = database_with(Set::Concurrent, 3, driver);
    let gate = Gate::writing(db.config(), "items");
    let migrator = db.start("migrator", "run");
    kill_at(&mut client, migrator, gate, "ON items (created_at)");
    assert_eq!(
        item_indexes(&mut client, "items_created_at"),
        ["items_created_at_idx"]
    );
    db.catalog_says(4, 1, true, &[]);
    completes_by_itself(&db, &mut client, 4);
    assert_eq!(
        item_indexes(&mut client, "items_created_at"),
        ["items_created_at_idx"]
    );
}

/// The same, cut off: its INVALID `items_created_at_idx` is dropped, and
/// the build run again takes that name, not `items_created_at_idx1`.
fn kill_then_end_an_unnamed_build(driver: Driver) {
    let (db, mut client) = database_with(Set::Concurrent, 3, driver);
    let gate = Gate::writing(db.config(), "items");
    let mut migrator = db.start("migrator", "run");
    let pid = watch::blocked(&mut client, &mut migrator, &gate, "ON items (created_at)");
    migrator.kill();
    end(&mut client, pid);
    gate.release();
    assert_no_lock(&mut client);
    assert_eq!(
        index_valid(&mut client, "items_created_at_idx"),
        Some(false)
    );
    db.catalog_says(4, 1, false, &["public.items_created_at_idx"]);
    completes_by_itself(&db, &mut client, 4);
    assert_eq!(
        item_indexes(&mut client, "items_created_at"),
        ["items_created_at_idx"]
    );
}

// ---------------------------------------------------------------------------
// Where the catalog cannot tell.

/// A plain run, and a resume that does not say, refuse migration 5,
/// interrupted in its `UPDATE`: the refusal names the statement and offers
/// to resume it saying whether it completed.
fn refused_as_undecided(db: &Db<'_>) {
    for resume in [false, true] {
        let mut operator = db.conn();
        let outcome = if resume {
            operator.resume(CONCURRENT.runner())
        } else {
            operator.run(CONCURRENT.runner())
        };
        let Err(Error::History(e)) = outcome else {
            panic!("expected a refusal of migration 5, got {outcome:?}");
        };
        match e.violations() {
            [Violation::Dirty {
                version: 5,
                statements_done: 0,
                statements_total: 1,
                error: None,
                stopped: Some(stopped),
                ..
            }] => {
                assert_eq!(stopped.statement, 1, "{e}");
                assert_eq!(stopped.completed, None, "{e}");
                assert_eq!(stopped.running_pid, None, "{e}");
                assert!(stopped.invalid_indexes.is_empty(), "{e}");
            }
            other => panic!("expected migration 5 interrupted in statement 1: {other:?}"),
        }
        assert_eq!(
            e.violations()[0].remedies()[..2],
            [
                Remedy::ResumeInterrupted {
                    version: 5,
                    statement: 1,
                    completed: true
                },
                Remedy::ResumeInterrupted {
                    version: 5,
                    statement: 1,
                    completed: false
                },
            ],
            "{e}"
        );
        let message = e.to_string();
        assert!(
            message.contains("interrupted during statement 1 of 1 (line 3)")
                && message.contains("The catalog cannot tell whether the statement completed"),
            "{message}"
        );
    }
}

/// The operator, having looked, says whether the statement completed;
/// the resume then completes migration 5.
fn resumed_saying(db: &Db<'_>, client: &mut Conn, outcome: Interrupted) {
    let report = db
        .conn()
        .resume(CONCURRENT.runner().interrupted_statement(outcome))
        .unwrap_or_else(|e| panic!("the resume failed: {e}"));
    assert_eq!(common::versions(&report), [5]);
    is_clean(client);
    assert_eq!(moods_missing(client), 0);
    assert!(db.conn().run(CONCURRENT.runner()).unwrap().is_empty());
    assert_no_lock(client);
}

/// Killed in migration 5's `UPDATE`, which its server process completes:
/// every item has its mood, which the catalog does not show.
fn kill_in_a_backfill_the_catalog_cannot_judge(driver: Driver) {
    let (db, mut client) = database_with(Set::Concurrent, 4, driver);
    let gate = Gate::locking_rows(db.config(), "SELECT id FROM items WHERE id = 1 FOR UPDATE");
    let mut migrator = db.start("migrator", "run");
    let pid = watch::blocked(&mut client, &mut migrator, &gate, "UPDATE items SET mood");
    kill_and_release(&mut client, migrator, gate, pid);
    assert_eq!(row(&mut client, 5), Some(Row::Interrupted { done: 0 }));
    assert_eq!(moods_missing(&mut client), 0);
    refused_as_undecided(&db);
    resumed_saying(&db, &mut client, Interrupted::Completed);
}

/// The same, its server process ended first: the `UPDATE` rolled back.
fn kill_then_end_a_backfill_the_catalog_cannot_judge(driver: Driver) {
    let (db, mut client) = database_with(Set::Concurrent, 4, driver);
    let gate = Gate::locking_rows(db.config(), "SELECT id FROM items WHERE id = 1 FOR UPDATE");
    let mut migrator = db.start("migrator", "run");
    let pid = watch::blocked(&mut client, &mut migrator, &gate, "UPDATE items SET mood");
    migrator.kill();
    end(&mut client, pid);
    gate.release();
    assert_no_lock(&mut client);
    assert_eq!(moods_missing(&mut client), 500);
    refused_as_undecided(&db);
    resumed_saying(&db, &mut client, Interrupted::NotCompleted);
}

// ---------------------------------------------------------------------------
// The server stopped as by a crash.

/// On `server`, a throwaway one, stops the server (`pg_ctl stop -m
/// immediate`) in statement 1 of migration 2, a `CREATE INDEX
/// CONCURRENTLY` whose catalog entry had committed, and starts it again:
/// `status` names the INVALID index it left, and a plain run drops it and
/// builds it valid. A stage of the suite's test of a stopped server, which
/// starts that server.
pub fn stopped_mid_build(server: &TestServer, driver: Driver) {
    let db = server.create_database().unwrap();
    let (error, mut client) = crate::stopped_mid_run(
        server,
        &db,
        (driver, Set::Concurrent),
        1,
        || Gate::writing(db.config(), "items"),
        "items_sku_idx",
    );
    match &error {
        Error::Migration(e) => {
            let Stage::Statement(statement) = e.stage() else {
                panic!("expected a no-transaction migration's statement: {error:?}");
            };
            assert_eq!(
                (e.version(), statement.number, statement.total),
                (MAINTENANCE, 1, STATEMENTS)
            );
        }
        other => panic!("expected the migration's error, got {other:?}"),
    }
    assert_eq!(
        row(&mut client, MAINTENANCE),
        Some(Row::Interrupted { done: 0 })
    );
    assert_eq!(index_valid(&mut client, "items_sku_idx"), Some(false));
    let db = Db {
        db,
        driver,
        set: Set::Concurrent,
    };
    db.catalog_says(MAINTENANCE, 1, false, &["public.items_sku_idx"]);
    completes_by_itself(&db, &mut client, MAINTENANCE);
    assert_eq!(index_valid(&mut client, "items_sku_idx"), Some(true));
}

crate::both_drivers!(
    kill_while_recording_the_start,
    kill_while_recording_the_build_done,
    kill_while_recording_the_drop_done,
    kill_while_recording_the_rebuild_done,
    kill_while_recording_the_label_added,
    kill_while_recording_the_migration_applied,
    kill_in_the_build,
    kill_in_the_build_then_end_it,
    kill_in_the_drop,
    kill_in_the_drop_then_end_it,
    kill_in_the_rebuild_before_its_swap,
    kill_in_the_rebuild_before_its_swap_then_end_it,
    kill_in_the_rebuild_after_its_swap,
    kill_in_the_rebuild_after_its_swap_then_end_it,
    kill_in_the_label,
    kill_in_the_label_then_end_it,
    kill_in_the_vacuum,
    kill_in_the_vacuum_then_end_it,
    a_second_instance_is_told_what_the_orphan_still_runs,
    kill_then_end_a_build_that_skips_an_existing_index,
    kill_in_an_unnamed_build,
    kill_then_end_an_unnamed_build,
    kill_in_a_backfill_the_catalog_cannot_judge,
    kill_then_end_a_backfill_the_catalog_cannot_judge,
);
