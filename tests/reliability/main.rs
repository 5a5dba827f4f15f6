//! Reliability: stowage against what production does to a program that
//! migrates at start-up. Everything runs on a real PostgreSQL server; the
//! instances are real processes (this test binary run again, see
//! `child_process`), killed with SIGKILL as `kill -9` does.
//!
//! Each test runs twice, once per driver (`sync_driver::…` and
//! `async_driver::…`, see `both_drivers!` in `tests/common/mod.rs`): what
//! migrates, a child process or a run in a thread, goes through the
//! blocking `postgres::Client` or the async `tokio_postgres::Client`, and so
//! do the operator's runs, resumes, `mark_applied`s and `forget`s after a
//! kill. A child takes its driver in `STOWAGE_RELIABILITY_DRIVER` (`sync`
//! or `async`); an async child runs on a tokio runtime of its own. What
//! watches, gates and checks is a blocking connection: it is not what is
//! tested. A process killed is killed whatever its driver; the outcomes
//! asserted here hold for both.
//!
//! The migrations are the fifty of `tests/fixtures/reliability_fifty`, the
//! history of a small shop's schema: tables, indexes, `ALTER`s, functions
//! with `$$` bodies, triggers, views, and no-transaction migrations that
//! build indexes with `CREATE INDEX CONCURRENTLY`; in `concurrent.rs`,
//! the five of `tests/fixtures/reliability_concurrent`, whose no-transaction
//! migrations build, drop and rebuild indexes concurrently, add an enum
//! label, vacuum, and backfill; and in `batch.rs`, the fifty small
//! transactional ones of `tests/fixtures/reliability_batch`, one batch (a
//! child takes its set in `STOWAGE_RELIABILITY_MIGRATIONS`).
//!
//! A test never sleeps to let something happen: to stop a migrating process
//! at a known point, a *gate* (an open transaction, as an application's
//! would be) holds a lock the next statement needs, and the test watches
//! `pg_stat_activity` until the process is blocked by that gate in that
//! statement. Every wait is bounded, polls with a pause, and says what it
//! waited for.
//!
//! After each kill the test checks what an operator would: that the
//! tracking table agrees with the schema (see `state.rs`; for the
//! concurrent set, that the schema is that of a clean apply once the
//! migrations complete), that no migration lock is left once the server
//! has ended the dead session, and that the documented way on completes
//! the migrations. For a no-transaction migration interrupted during a
//! statement, that way is a plain run wherever the catalog shows whether
//! the statement completed (an index, a label made since the record before
//! it, an index still there that it drops, a statement that simply runs
//! again): the run goes on by itself, after the statement or with it,
//! dropping first the INVALID indexes a cut-off build left, and `status`
//! and `plan` say so beforehand. Where the catalog cannot tell (an
//! `UPDATE`), the run refuses, naming the statement, and a resume told
//! whether it completed (`Runner::interrupted_statement`) goes on.
//!
//! The kill points, 54 in all:
//!
//! | where the process is killed                                   | the way on | test |
//! |---------------------------------------------------------------|------------|------|
//! | in the quick check, before the lock                           | run | `kill_in_the_quick_check` |
//! | creating the tracking table, on a first run                   | run | `kill_while_creating_the_tracking_table` |
//! | reading the history under the lock (a `resume`)               | run | `kill_a_resume_while_it_reads_the_history` |
//! | waiting for the lock another instance holds                   | the holder's run | `kill_an_instance_waiting_for_the_lock` |
//! | holding the lock, in a migration, while another instance waits | the waiter's run | `kill_the_lock_holder_while_another_instance_waits` |
//! | holding the lock, in a no-transaction migration, while another waits | the waiter's run, on after the statement by itself | `kill_the_lock_holder_in_a_no_transaction_migration_while_another_waits` |
//! | at the first statement of a migration, the first of its batch | run | `kill_at_the_first_statement_of_a_migration` |
//! | at statement 3 of 4, after a table and an index               | run | `kill_after_some_statements_of_a_migration` |
//! | after a `$$` function, at the trigger that uses it            | run | `kill_between_a_function_and_its_trigger` |
//! | at migration 45, after applying 31 to 44 in the same run      | run | `kill_late_in_a_long_run` |
//! | in a backfill `UPDATE` waiting for a row lock                 | run | `kill_in_a_backfill_waiting_for_a_row_lock` |
//! | writing the row of the first migration of a run, its `COMMIT` and the batch after it sent | run | `kill_while_the_first_row_of_a_run_is_written` |
//! | writing the row of a migration in the middle of a batch       | run | `kill_while_a_row_mid_run_is_written` |
//! | small set, in migration 1, 25 or 50 of a batch of fifty        | run | `batch::a_process_killed_in_a_batch_leaves_the_tracking_table_true` |
//! | ... in 25, then its server process ended there                | run | `batch::a_process_killed_in_a_batch_leaves_the_tracking_table_true` |
//! | recording the start of a no-transaction migration             | run, with statement 1 | `kill_while_a_no_transaction_migration_records_its_start` |
//! | in statement 1 of 2, a `CREATE INDEX CONCURRENTLY`            | run, after statement 1 | `kill_in_a_concurrent_index_build` |
//! | in statement 2 of 3, written to be run again                  | `resume` | `kill_in_a_statement_written_to_run_again` |
//! | recording progress after statement 1 of 3                     | run, with statement 2 | `kill_while_progress_is_recorded` |
//! | recording a no-transaction migration applied, after its last statement | run | `kill_while_the_last_statement_is_recorded_applied` |
//! | in statement 3 of 3, then the orphaned build is terminated    | run, dropping the INVALID index first | `kill_then_terminate_the_orphaned_index_build` |
//! | in the only statement, then marked applied                    | `mark_applied` | `kill_in_the_only_statement_then_mark_applied` |
//! | in statement 3 of 3, then undone by hand and forgotten        | `forget` | `kill_in_the_last_statement_then_undo_and_forget` |
//! | `mark_applied` writing its row                                | run | `kill_mark_applied_while_it_writes` |
//! | `forget` deleting the row                                     | run | `kill_forget_while_it_deletes` |
//! | writing the history's digest, in the query that releases the lock | run | `kill_while_the_digest_is_written` |
//! | concurrent set, migration 2, recording its start              | run, with statement 1 | `concurrent::kill_while_recording_the_start` |
//! | ... recording progress after `CREATE INDEX CONCURRENTLY`      | run, with statement 2 | `concurrent::kill_while_recording_the_build_done` |
//! | ... after `DROP INDEX CONCURRENTLY`                           | run, with statement 3 | `concurrent::kill_while_recording_the_drop_done` |
//! | ... after `REINDEX INDEX CONCURRENTLY`                        | run, with statement 4 | `concurrent::kill_while_recording_the_rebuild_done` |
//! | ... after `ALTER TYPE ... ADD VALUE`                          | run, with statement 5 | `concurrent::kill_while_recording_the_label_added` |
//! | ... recording it applied, after `VACUUM`                      | run | `concurrent::kill_while_recording_the_migration_applied` |
//! | in `CREATE INDEX CONCURRENTLY`, its index made INVALID, finished after | run, after it | `concurrent::kill_in_the_build` |
//! | ... its server process ended there                            | run, dropping the INVALID index first | `concurrent::kill_in_the_build_then_end_it` |
//! | in `DROP INDEX CONCURRENTLY`, the index marked INVALID, finished after | run, after it | `concurrent::kill_in_the_drop` |
//! | ... its server process ended there                            | run, with it | `concurrent::kill_in_the_drop_then_end_it` |
//! | in `REINDEX INDEX CONCURRENTLY`, before its swap, finished after | run, with it | `concurrent::kill_in_the_rebuild_before_its_swap` |
//! | ... its server process ended there, leaving `_ccnew`          | run, dropping `_ccnew` first | `concurrent::kill_in_the_rebuild_before_its_swap_then_end_it` |
//! | in `REINDEX INDEX CONCURRENTLY`, after its swap, finished after | run, with it | `concurrent::kill_in_the_rebuild_after_its_swap` |
//! | ... its server process ended there, leaving `_ccold`          | run, dropping `_ccold` first | `concurrent::kill_in_the_rebuild_after_its_swap_then_end_it` |
//! | in `ALTER TYPE ... ADD VALUE`, at its lock, finished after    | run, after it | `concurrent::kill_in_the_label` |
//! | ... its server process ended there                            | run, with it | `concurrent::kill_in_the_label_then_end_it` |
//! | in `VACUUM`, at its lock, finished after                      | run, with it | `concurrent::kill_in_the_vacuum` |
//! | ... its server process ended there                            | run, with it | `concurrent::kill_in_the_vacuum_then_end_it` |
//! | in the rebuild, while a second instance gives up waiting      | run, with it | `concurrent::a_second_instance_is_told_what_the_orphan_still_runs` |
//! | in `CREATE INDEX CONCURRENTLY IF NOT EXISTS`, ended there     | run, dropping the INVALID index first | `concurrent::kill_then_end_a_build_that_skips_an_existing_index` |
//! | in an unnamed `CREATE INDEX CONCURRENTLY`, finished after     | run, after it | `concurrent::kill_in_an_unnamed_build` |
//! | ... its server process ended there                            | run, dropping the INVALID index first | `concurrent::kill_then_end_an_unnamed_build` |
//! | in a no-transaction `UPDATE`, finished after                  | `resume`, told it completed | `concurrent::kill_in_a_backfill_the_catalog_cannot_judge` |
//! | ... its server process ended there                            | `resume`, told it did not | `concurrent::kill_then_end_a_backfill_the_catalog_cannot_judge` |
//! | repeatables, recreating the set, at its second view           | run | `repeatables::a_process_killed_while_it_recreates_the_set_leaves_the_old_set` |
//! | ... the lock holder, while another instance waits             | the waiter's run | `repeatables::racing_processes_one_killed_half_way_leave_the_new_set` |
//!
//! Besides: 32 processes started together on an empty database; a
//! connection cut (through a proxy) while the server holds a migration's
//! row, its `COMMIT` and the rest of its batch; a connection cut in a batch
//! of fifty, while migration 1, 2, 25 or 50 is held, and right after the
//! batch was sent, before any reply, and a live run's session ended by the
//! server while a gate holds migration 25 (`batch.rs`); and a server stopped with
//! `pg_ctl stop -m immediate` mid-run (and mid-`CREATE INDEX CONCURRENTLY`
//! of the concurrent set) and started again, on a throwaway server of its
//! own (one per driver).
//!
//! What a killed process leaves depends on one fact of PostgreSQL: the
//! server learns that its client died only when it next reads from or
//! writes to it. A session blocked behind a gate therefore finishes the
//! query it had received once the gate is released, then finds the client
//! gone and ends, rolling back an open transaction. Consecutive
//! transactional migrations are sent in one query, each as `BEGIN`, its
//! statements, its tracking row and `COMMIT`: while a gate holds migration
//! k of a batch, the ones before it are committed with their rows and
//! nothing of k on is (`watch::blocked_in` checks it). Once the gate opens,
//! the server goes on with the batch, committing each migration with its
//! row, until it next writes to the dead client (when its output buffer
//! fills, or to send a notice); it then ends, rolling back the migration
//! it was in. How far it got, the server decides, so a test checks that the
//! tracking table agrees with the schema, each migration whole or absent,
//! and that the batch stopped somewhere from k − 1 to its last migration.
//! A no-transaction statement commits on its own: the process
//! killed during it leaves it completed, and its row saying it was
//! interrupted during it; the next run looks in the catalog for what the
//! statement made or dropped. The digest of the history is written in the query
//! that releases the lock: a process killed there leaves the history as it
//! was, and the lock is released with its session. (A server can be told to
//! check for dead clients while a query runs,
//! `client_connection_check_interval`; the children pin it to its default,
//! off, so that these outcomes hold on any server.)

mod batch;
mod child;
mod concurrent;
mod gate;
mod proxy;
mod repeatables;
mod state;
mod watch;

#[path = "../common/mod.rs"]
mod common;

use child::{Instance, Set};
use common::{Conn, Driver};
use gate::Gate;
use postgres::Config;
use state::{Dirty, Next, State};
use std::time::Duration;
use stowage::testing::{TestDatabase, TestServer};
use stowage::{Error, Stage};
use watch::ThreadRun;

static FIFTY: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/reliability_fifty");

/// The tracking table, as a gate names it.
const TRACKING: &str = "public.stowage_migrations";
const DIGEST: &str = "public.stowage_digest";

/// The entry point of the child processes; does nothing in a plain test run.
#[test]
fn child_process() {
    child::child_main();
}

/// A test's database, the driver its migrating side goes through, and the
/// set of migrations it runs.
struct Db<'s> {
    db: TestDatabase<'s>,
    driver: Driver,
    set: Set,
}

impl Db<'_> {
    fn config(&self) -> &Config {
        self.db.config()
    }

    /// A new connection over the test's driver, for a call of stowage's.
    fn conn(&self) -> Conn {
        common::connect(&self.db, self.driver)
    }

    /// Starts a process that runs the migrations through the test's
    /// driver, as a program does at start-up.
    fn start(&self, name: &str, action: &str) -> Instance {
        Instance::start(self.config(), self.driver, self.set, name, action, false)
    }

    /// What `status`, through the test's driver, knows of the statement
    /// dirty migration `version` stopped at.
    fn stopped(&self, version: i64) -> stowage::Stopped {
        let status = self
            .conn()
            .status(self.set.migrations().runner())
            .unwrap_or_else(|e| panic!("{e}"));
        let entry = status
            .entries()
            .iter()
            .find(|e| e.version() == version)
            .unwrap_or_else(|| panic!("no migration {version} in the status:\n{status}"));
        entry
            .stopped()
            .unwrap_or_else(|| panic!("migration {version} did not stop at a statement:\n{status}"))
            .clone()
    }

    /// Checks what the catalog shows of the statement dirty migration
    /// `version` was interrupted at, its process gone: whether it
    /// `completed`, and the INVALID indexes it left (`invalid`), as
    /// `status` says; and that a run, as `plan` shows, goes on by itself,
    /// after the statement or with it, dropping those indexes first.
    fn catalog_says(&self, version: i64, statement: usize, completed: bool, invalid: &[&str]) {
        let stopped = self.stopped(version);
        assert_eq!(stopped.statement, statement, "{stopped:?}");
        assert_eq!(stopped.running_pid, None, "{stopped:?}");
        assert_eq!(stopped.completed, Some(completed), "{stopped:?}");
        assert_eq!(stopped.invalid_indexes, invalid, "{stopped:?}");
        let plan = self
            .conn()
            .plan(self.set.migrations().runner())
            .unwrap_or_else(|e| panic!("a run would refuse: {e}"));
        let step = &plan.steps()[0];
        assert_eq!(step.migration().version(), version, "{plan}");
        assert_eq!(
            step.from_statement(),
            statement + usize::from(completed),
            "{plan}"
        );
        assert_eq!(step.drop_first(), invalid, "{plan}");
    }
}

/// A new database with migrations 1 to `version` applied, whose migrating
/// side goes through `driver`, and a blocking connection to it that
/// watches and checks.
fn database_at(version: i64, driver: Driver) -> (Db<'static>, Conn) {
    database_with(Set::Fifty, version, driver)
}

/// [`database_at`] for the migrations of `set`.
fn database_with(set: Set, version: i64, driver: Driver) -> (Db<'static>, Conn) {
    let server = TestServer::shared().unwrap_or_else(|e| panic!("no test server: {e}"));
    let db = server.create_database().unwrap_or_else(|e| panic!("{e}"));
    let mut client = common::connect(&db, Driver::Sync);
    if version > 0 {
        client
            .run(set.migrations().runner().target(version))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    (Db { db, driver, set }, client)
}

fn assert_no_lock(client: &mut Conn) {
    assert_eq!(
        watch::advisory_lock_holders(client),
        [] as [i32; 0],
        "a migration lock is left"
    );
}

/// Kills `instance` (blocked as server process `pid`), releases `gate`,
/// waits until the server has ended the dead session, and checks that no
/// lock is left.
fn kill_and_release(client: &mut Conn, instance: Instance, gate: Gate, pid: i32) {
    instance.kill();
    gate.release();
    watch::gone(client, pid);
    assert_no_lock(client);
}

/// Waits until `instance` is blocked by `gate` at `at`, then
/// [`kill_and_release`].
fn kill_at(client: &mut Conn, mut instance: Instance, gate: Gate, at: &str) {
    let pid = watch::blocked(client, &mut instance, &gate, at);
    kill_and_release(client, instance, gate, pid);
}

/// Waits until `instance` is blocked by `gate` in migration `version` of a
/// batch that ends with migration `last`, then [`kill_and_release`];
/// returns where the database stands ([`stopped_in_batch`]).
fn kill_in(client: &mut Conn, mut instance: Instance, gate: Gate, version: i64, last: i64) -> i64 {
    let pid = watch::blocked_in(client, &mut instance, &gate, version);
    kill_and_release(client, instance, gate, pid);
    stopped_in_batch(client, version, last)
}

/// Where the database stands once the session of a batch that was held in
/// migration `version`, and ends with migration `last`, has ended without
/// its client: the tracking table agrees with the schema, no migration is
/// in part applied, and the batch stopped from `version - 1` to `last`.
/// The server went on with the batch after the gate opened until it wrote
/// to the dead client: how far it got, the server decides. Returns the
/// newest version applied.
fn stopped_in_batch(client: &mut Conn, version: i64, last: i64) -> i64 {
    let state = state::check(client);
    assert!(
        state.dirty.is_none() && (version - 1..=last).contains(&state.applied),
        "the batch of migrations {version} to {last}, held at {version}, left {state:?}"
    );
    state.applied
}

/// The operator's last step, through the test's driver: a run (or, with
/// `resume`, a resume) that applies migrations `from` to 50, leaving the
/// schema complete, the tracking table true, no lock, and nothing for a
/// further run to do.
fn completes(db: &Db<'_>, client: &mut Conn, resume: bool, from: i64) {
    let runner = FIFTY.runner().lock_wait_timeout(Duration::from_secs(60));
    let mut operator = db.conn();
    let outcome = if resume {
        operator.resume(runner)
    } else {
        operator.run(runner)
    };
    let report = outcome.unwrap_or_else(|e| panic!("the run after the kill failed: {e}"));
    assert_eq!(common::versions(&report), (from..=50).collect::<Vec<_>>());
    assert_eq!(state::check(client), State::COMPLETE);
    assert!(operator.run(FIFTY.runner()).unwrap().is_empty());
    assert_no_lock(client);
}

fn dirty(version: i64, done: usize, total: usize, next: Next) -> State {
    State {
        applied: version - 1,
        dirty: Some(Dirty {
            version,
            done,
            total,
            interrupted: true,
            next,
        }),
    }
}

// ---------------------------------------------------------------------------
// Many processes at once.

fn thirty_two_processes_started_together_apply_each_of_fifty_migrations_once(driver: Driver) {
    let (db, mut client) = database_at(0, driver);
    let processes = 32;
    let mut crowd: Vec<Instance> = (0..processes)
        .map(|i| {
            Instance::start(
                db.config(),
                driver,
                Set::Fifty,
                &format!("crowd-{i:02}"),
                "run",
                true,
            )
        })
        .collect();
    // All are connected and waiting on their input: let them go at once.
    watch::connected(&mut client, "crowd-", processes);
    for instance in &mut crowd {
        instance.go();
    }
    let outcomes = child::finish_all(crowd, child::FINISH_WITHIN);

    let reports: Vec<Vec<i64>> = outcomes.iter().map(child::Outcome::succeeded).collect();
    let mut applied: Vec<i64> = reports.iter().flatten().copied().collect();
    applied.sort_unstable();
    assert_eq!(
        applied,
        (1..=50).collect::<Vec<_>>(),
        "every migration applied once"
    );
    assert_eq!(
        reports.iter().filter(|r| !r.is_empty()).count(),
        1,
        "the first to take the lock applies all fifty; the others find nothing to do"
    );
    let rows = common::tracked(&mut client, TRACKING);
    assert_eq!(rows.len(), 50, "{rows:#?}");
    assert_eq!(
        common::applied_versions(&mut client),
        (1..=50).collect::<Vec<_>>()
    );
    assert_eq!(state::check(&mut client), State::COMPLETE);
    assert_no_lock(&mut client);
}

// ---------------------------------------------------------------------------
// Killed before applying anything.

fn kill_in_the_quick_check(driver: Driver) {
    let (db, mut client) = database_at(5, driver);
    let gate = Gate::exclusive(db.config(), DIGEST);
    let mut migrator = db.start("migrator", "run");
    let pid = watch::blocked(&mut client, &mut migrator, &gate, "stowage_digest");
    assert_no_lock(&mut client); // the quick check runs before the lock is taken
    kill_and_release(&mut client, migrator, gate, pid);
    assert_eq!(state::check(&mut client), State::at(5));
    completes(&db, &mut client, false, 6);
}

fn kill_while_creating_the_tracking_table(driver: Driver) {
    let (db, mut client) = database_at(0, driver);
    // Another session is creating a table of that name and has not
    // committed: the run's CREATE TABLE waits to see whether it will.
    let gate = Gate::creating(
        db.config(),
        "CREATE TABLE public.stowage_migrations (version bigint PRIMARY KEY)",
    );
    let mut migrator = db.start("migrator", "run");
    let pid = watch::blocked(&mut client, &mut migrator, &gate, "CREATE TABLE");
    assert_eq!(watch::advisory_lock_holders(&mut client), [pid]);
    migrator.kill();
    gate.roll_back();
    watch::gone(&mut client, pid);
    assert_no_lock(&mut client);
    // The dead process's CREATE TABLE went through once the gate rolled back.
    assert!(common::table_exists(&mut client, TRACKING));
    assert_eq!(state::check(&mut client), State::at(0));
    completes(&db, &mut client, false, 1);
}

fn kill_a_resume_while_it_reads_the_history(driver: Driver) {
    let (db, mut client) = database_at(15, driver);
    let gate = Gate::exclusive(db.config(), TRACKING);
    let mut migrator = db.start("migrator", "resume");
    let pid = watch::blocked(&mut client, &mut migrator, &gate, "ORDER BY version");
    assert_eq!(watch::advisory_lock_holders(&mut client), [pid]);
    kill_and_release(&mut client, migrator, gate, pid);
    assert_eq!(state::check(&mut client), State::at(15));
    completes(&db, &mut client, false, 16);
}

fn kill_while_the_digest_is_written(driver: Driver) {
    let (db, mut client) = database_at(50, driver);
    let gate = Gate::blocking_writes(db.config(), DIGEST);
    let mut migrator = db.start("migrator", "resume");
    // The digest is written in the query that releases the lock, beyond
    // the part of it that `pg_stat_activity` shows.
    let pid = watch::blocked(
        &mut client,
        &mut migrator,
        &gate,
        "INSERT INTO \"public\".stowage_digest",
    );
    assert_eq!(watch::advisory_lock_holders(&mut client), [pid]);
    kill_and_release(&mut client, migrator, gate, pid);
    assert_eq!(state::check(&mut client), State::COMPLETE);
    completes(&db, &mut client, false, 51);
}

// ---------------------------------------------------------------------------
// Killed around the lock, with two instances.

fn kill_an_instance_waiting_for_the_lock(driver: Driver) {
    let (db, mut client) = database_at(15, driver);
    let gate = Gate::reading(db.config(), "products");
    let mut holder = db.start("holder", "run");
    let holder_pid = watch::blocked(&mut client, &mut holder, &gate, "ADD COLUMN sku");
    let mut waiter = db.start("waiter", "run");
    let waiter_pid = watch::polling_for_lock(&mut client, &mut waiter);
    waiter.kill();
    watch::gone(&mut client, waiter_pid);
    assert_eq!(watch::advisory_lock_holders(&mut client), [holder_pid]);
    gate.release();
    let outcome = holder.finish(child::FINISH_WITHIN);
    assert_eq!(outcome.succeeded(), (16..=50).collect::<Vec<_>>());
    assert_eq!(state::check(&mut client), State::COMPLETE);
    assert_no_lock(&mut client);
}

fn kill_the_lock_holder_while_another_instance_waits(driver: Driver) {
    let (db, mut client) = database_at(8, driver);
    let gate = Gate::writing(db.config(), "orders");
    let mut holder = db.start("holder", "run");
    // Migrations 9 to 11 travel in one message; 9 waits at its trigger.
    let holder_pid = watch::blocked_in(&mut client, &mut holder, &gate, 9);
    let mut waiter = db.start("waiter", "run");
    watch::polling_for_lock(&mut client, &mut waiter);
    holder.kill();
    gate.release();
    watch::gone(&mut client, holder_pid);
    // The holder's server process went on with its batch until it found
    // its client gone, and ended: the migrations it completed are committed
    // with their rows, the one it was in, if any, rolled back. The waiter
    // takes the lock and applies everything after the holder's last.
    let outcome = waiter.finish(child::FINISH_WITHIN);
    let applied = outcome.succeeded();
    let first = applied.first().copied().unwrap_or(51);
    assert!((9..=12).contains(&first), "{applied:?}");
    assert_eq!(applied, (first..=50).collect::<Vec<_>>());
    let by_holder: Vec<i64> = client
        .query(
            "SELECT version FROM public.stowage_migrations WHERE statement_pid = $1 \
             ORDER BY version",
            &[&holder_pid],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(by_holder, (9..first).collect::<Vec<_>>());
    assert_eq!(state::check(&mut client), State::COMPLETE);
    assert_no_lock(&mut client);
}

fn kill_the_lock_holder_in_a_no_transaction_migration_while_another_waits(driver: Driver) {
    let (db, mut client) = database_at(19, driver);
    let gate = Gate::writing(db.config(), "orders");
    let mut holder = db.start("holder", "run");
    let holder_pid = watch::blocked(&mut client, &mut holder, &gate, "orders_placed_at_idx");
    let mut waiter = db.start("waiter", "run");
    watch::polling_for_lock(&mut client, &mut waiter);
    holder.kill();
    gate.release();
    // The holder's server process finishes statement 2, then ends, and
    // only then is the lock free.
    watch::gone(&mut client, holder_pid);
    // The waiter takes the lock and finds migration 20 interrupted during
    // statement 2, a `CREATE INDEX CONCURRENTLY IF NOT EXISTS`: its index
    // is in the catalog, valid, made since the record before it. The
    // waiter goes on after it by itself, and applies everything after.
    let outcome = waiter.finish(child::FINISH_WITHIN);
    assert_eq!(outcome.succeeded(), (20..=50).collect::<Vec<_>>());
    assert_eq!(state::check(&mut client), State::COMPLETE);
    assert_no_lock(&mut client);
    assert!(db.conn().run(FIFTY.runner()).unwrap().is_empty());
}

// ---------------------------------------------------------------------------
// Killed inside a migration's transaction.

fn kill_at_the_first_statement_of_a_migration(driver: Driver) {
    let (db, mut client) = database_at(1, driver);
    let gate = Gate::writing(db.config(), "accounts");
    let migrator = db.start("migrator", "run");
    // Migrations 2 to 11 travel in one message; 2 waits at its first
    // statement, nothing of the batch committed yet.
    let applied = kill_in(&mut client, migrator, gate, 2, 11);
    completes(&db, &mut client, false, applied + 1);
}

fn kill_after_some_statements_of_a_migration(driver: Driver) {
    let (db, mut client) = database_at(24, driver);
    let gate = Gate::reading(db.config(), "products");
    let mut migrator = db.start("migrator", "run");
    // Migrations 25 to 29 travel in one message. Statements 1 and 2 of 25
    // created reviews and its index, in its transaction; 3 waits.
    let pid = watch::blocked_in(&mut client, &mut migrator, &gate, 25);
    assert!(!common::table_exists(&mut client, "public.reviews"));
    kill_and_release(&mut client, migrator, gate, pid);
    let applied = stopped_in_batch(&mut client, 25, 29);
    completes(&db, &mut client, false, applied + 1);
}

fn kill_between_a_function_and_its_trigger(driver: Driver) {
    let (db, mut client) = database_at(8, driver);
    let gate = Gate::writing(db.config(), "orders");
    let mut migrator = db.start("migrator", "run");
    // Migrations 9 to 11 travel in one message; 9 made its function, in
    // its transaction, and waits at the trigger that uses it.
    let pid = watch::blocked_in(&mut client, &mut migrator, &gate, 9);
    let function = |client: &mut Conn| -> bool {
        client
            .query_one("SELECT to_regprocedure('audit_row()') IS NOT NULL", &[])
            .unwrap()
            .get(0)
    };
    assert!(
        !function(&mut client),
        "the function shows before its migration commits"
    );
    kill_and_release(&mut client, migrator, gate, pid);
    let applied = stopped_in_batch(&mut client, 9, 11);
    // The function and the trigger are there together, or neither.
    assert_eq!(function(&mut client), applied >= 9);
    completes(&db, &mut client, false, applied + 1);
}

fn kill_late_in_a_long_run(driver: Driver) {
    let (db, mut client) = database_at(30, driver);
    let gate = Gate::reading(db.config(), "shipments");
    let migrator = db.start("migrator", "run");
    // The process applies 31 to 44 (in batches, 33 and 41 on their own),
    // then waits in 45, of the batch of 42 to 46.
    let applied = kill_in(&mut client, migrator, gate, 45, 46);
    completes(&db, &mut client, false, applied + 1);
}

fn kill_in_a_backfill_waiting_for_a_row_lock(driver: Driver) {
    let (db, mut client) = database_at(25, driver);
    client
        .batch_execute("INSERT INTO products (name, price_cents) VALUES ('kettle', 2500)")
        .unwrap();
    let gate = Gate::locking_rows(db.config(), "SELECT id FROM products FOR UPDATE");
    let mut migrator = db.start("migrator", "run");
    let sku = |client: &mut Conn| -> Option<String> {
        client
            .query_one("SELECT sku FROM products", &[])
            .unwrap()
            .get(0)
    };
    // Migrations 26 to 29 travel in one message; 26's backfill waits.
    let pid = watch::blocked_in(&mut client, &mut migrator, &gate, 26);
    kill_and_release(&mut client, migrator, gate, pid);
    let applied = stopped_in_batch(&mut client, 26, 29);
    // The backfill committed with its migration's row, or neither did.
    let filled = (applied >= 26).then(|| "SKU-00000001".to_owned());
    assert_eq!(sku(&mut client), filled);
    completes(&db, &mut client, false, applied + 1);
    assert_eq!(sku(&mut client).as_deref(), Some("SKU-00000001"));
}

// ---------------------------------------------------------------------------
// Killed while a migration's tracking row is written.

fn kill_while_the_first_row_of_a_run_is_written(driver: Driver) {
    let (db, mut client) = database_at(42, driver);
    let gate = Gate::blocking_writes(db.config(), TRACKING);
    let migrator = db.start("migrator", "run");
    // Migrations 43 to 46 travel in one message; 43's SQL ran, its row
    // waits, with its COMMIT and the rest of the batch behind it.
    let applied = kill_in(&mut client, migrator, gate, 43, 46);
    completes(&db, &mut client, false, applied + 1);
}

fn kill_while_a_row_mid_run_is_written(driver: Driver) {
    let (db, mut client) = database_at(36, driver);
    let in_migration = Gate::exclusive(db.config(), "products");
    let mut migrator = db.start("migrator", "run");
    // Migrations 37 to 40 travel in one message: 37 committed with its
    // row, and 38 waits; block writes to the tracking table, then let 38
    // go on to its row.
    watch::blocked_in(&mut client, &mut migrator, &in_migration, 38);
    let at_row = Gate::blocking_writes(db.config(), TRACKING);
    in_migration.release();
    let applied = kill_in(&mut client, migrator, at_row, 38, 40);
    completes(&db, &mut client, false, applied + 1);
}

// ---------------------------------------------------------------------------
// Killed in a no-transaction migration.

fn kill_while_a_no_transaction_migration_records_its_start(driver: Driver) {
    let (db, mut client) = database_at(11, driver);
    let gate = Gate::blocking_writes(db.config(), TRACKING);
    let migrator = db.start("migrator", "run");
    kill_at(&mut client, migrator, gate, "'index_payments'");
    assert_eq!(state::check(&mut client), dirty(12, 0, 2, Next::NotRun));
    // Interrupted before statement 1 of 2, a `CREATE INDEX CONCURRENTLY`:
    // the catalog has no such index, so it did not run; a plain run runs it.
    db.catalog_says(12, 1, false, &[]);
    completes(&db, &mut client, false, 12);
}

fn kill_in_a_concurrent_index_build(driver: Driver) {
    let (db, mut client) = database_at(11, driver);
    let gate = Gate::writing(db.config(), "payments");
    let migrator = db.start("migrator", "run");
    kill_at(&mut client, migrator, gate, "payments_order_idx");
    // The build finished after the process died; the row cannot know.
    assert_eq!(state::check(&mut client), dirty(12, 0, 2, Next::Completed));
    // The catalog can: the index is valid and was made after the record
    // before statement 1. A plain run goes on at statement 2, and never
    // runs statement 1 again, which would fail on the index it built.
    db.catalog_says(12, 1, true, &[]);
    completes(&db, &mut client, false, 12);
}

fn kill_in_a_statement_written_to_run_again(driver: Driver) {
    let (db, mut client) = database_at(19, driver);
    let gate = Gate::writing(db.config(), "orders");
    let migrator = db.start("migrator", "run");
    kill_at(&mut client, migrator, gate, "orders_placed_at_idx");
    assert_eq!(state::check(&mut client), dirty(20, 1, 3, Next::Completed));
    // `IF NOT EXISTS`: resuming at statement 2 is harmless.
    completes(&db, &mut client, true, 20);
}

fn kill_while_progress_is_recorded(driver: Driver) {
    let (db, mut client) = database_at(19, driver);
    let in_statement = Gate::writing(db.config(), "order_items");
    let mut migrator = db.start("migrator", "run");
    watch::blocked(
        &mut client,
        &mut migrator,
        &in_statement,
        "order_items_product_idx",
    );
    let at_row = Gate::blocking_writes(db.config(), TRACKING);
    in_statement.release();
    kill_at(&mut client, migrator, at_row, "'index_orders_concurrently'");
    assert_eq!(state::check(&mut client), dirty(20, 1, 3, Next::NotRun));
    // The record of statement 1 committed; statement 2's index is not in
    // the catalog: a plain run goes on with statement 2.
    db.catalog_says(20, 2, false, &[]);
    completes(&db, &mut client, false, 20);
}

fn kill_while_the_last_statement_is_recorded_applied(driver: Driver) {
    let (db, mut client) = database_at(32, driver);
    let in_statement = Gate::writing(db.config(), "audit_log");
    let mut migrator = db.start("migrator", "run");
    watch::blocked(
        &mut client,
        &mut migrator,
        &in_statement,
        "audit_log_row_idx",
    );
    let at_row = Gate::blocking_writes(db.config(), TRACKING);
    in_statement.release();
    kill_at(&mut client, migrator, at_row, "'index_sessions_and_audit'");
    // The write after the last statement records the migration applied:
    // there is no separate record of that statement's progress to be
    // caught between.
    assert_eq!(state::check(&mut client), State::at(33));
    completes(&db, &mut client, false, 34);
}

fn kill_then_terminate_the_orphaned_index_build(driver: Driver) {
    let (db, mut client) = database_at(29, driver);
    let gate = Gate::writing(db.config(), "shipments");
    let mut migrator = db.start("migrator", "run");
    let pid = watch::blocked(&mut client, &mut migrator, &gate, "shipments_tracking_idx");
    migrator.kill();
    // The operator ends the dead process's session before the build goes on.
    client
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    watch::gone(&mut client, pid);
    gate.release();
    assert_no_lock(&mut client);
    assert_eq!(
        state::check(&mut client),
        dirty(30, 2, 3, Next::LeftInvalid)
    );
    // The build left its index INVALID: a plain run drops it, then builds
    // it again, valid.
    db.catalog_says(30, 3, false, &["public.shipments_tracking_idx"]);
    completes(&db, &mut client, false, 30);
}

/// Kills a run in migration 24's only statement, which completes after.
fn killed_in_the_only_statement(db: &Db<'_>, client: &mut Conn) {
    let gate = Gate::writing(db.config(), "products");
    let migrator = db.start("migrator", "run");
    kill_at(client, migrator, gate, "products_sku_lower_idx");
    assert_eq!(state::check(client), dirty(24, 0, 1, Next::Completed));
}

fn kill_in_the_only_statement_then_mark_applied(driver: Driver) {
    let (db, mut client) = database_at(23, driver);
    killed_in_the_only_statement(&db, &mut client);
    // The index is complete and valid: the migration is done.
    assert!(db.conn().mark_applied(FIFTY.runner(), 24).unwrap());
    assert_eq!(state::check(&mut client), State::at(24));
    completes(&db, &mut client, false, 25);
}

fn kill_mark_applied_while_it_writes(driver: Driver) {
    let (db, mut client) = database_at(23, driver);
    killed_in_the_only_statement(&db, &mut client);
    let gate = Gate::blocking_writes(db.config(), TRACKING);
    let operator = db.start("operator", "mark_applied:24");
    kill_at(&mut client, operator, gate, "'index_products_sku_lower'");
    // Its row was sent before the kill and committed after.
    assert_eq!(state::check(&mut client), State::at(24));
    completes(&db, &mut client, false, 25);
}

/// Kills a run in migration 30's last statement, which completes after,
/// then undoes the migration by hand.
fn killed_in_the_last_statement_and_undone(db: &Db<'_>, client: &mut Conn) {
    let gate = Gate::writing(db.config(), "shipments");
    let migrator = db.start("migrator", "run");
    kill_at(client, migrator, gate, "shipments_tracking_idx");
    assert_eq!(state::check(client), dirty(30, 2, 3, Next::Completed));
    client
        .batch_execute("DROP INDEX shipments_tracking_idx; DROP TABLE order_events")
        .unwrap();
}

fn kill_in_the_last_statement_then_undo_and_forget(driver: Driver) {
    let (db, mut client) = database_at(29, driver);
    killed_in_the_last_statement_and_undone(&db, &mut client);
    db.conn().forget(FIFTY.runner(), 30).unwrap();
    assert_eq!(state::check(&mut client), State::at(29));
    completes(&db, &mut client, false, 30);
}

fn kill_forget_while_it_deletes(driver: Driver) {
    let (db, mut client) = database_at(29, driver);
    killed_in_the_last_statement_and_undone(&db, &mut client);
    let gate = Gate::blocking_writes(db.config(), TRACKING);
    let operator = db.start("operator", "forget:30");
    kill_at(&mut client, operator, gate, "DELETE FROM");
    assert_eq!(state::check(&mut client), State::at(29));
    completes(&db, &mut client, false, 30);
}

// ---------------------------------------------------------------------------
// The connection cut, as by the network.

fn a_connection_cut_while_committing_is_not_reported_as_rolled_back(driver: Driver) {
    let (db, mut client) = database_at(42, driver);
    let Some(proxy) = proxy::Proxy::start(db.config()) else {
        eprintln!("skipped: the proxy needs a server reached through a Unix socket");
        return;
    };
    let gate = Gate::blocking_writes(db.config(), TRACKING);
    let mut migrator = ThreadRun::start(&proxy.config(db.config()), "migrator", driver, Set::Fifty);
    // Migrations 43 to 46 are sent in one message, each with its row and
    // COMMIT; the server waits to write 43's row.
    let pid = watch::blocked_in(&mut client, &mut migrator, &gate, 43);
    proxy.cut();
    let outcome = migrator.finish();
    gate.release();
    watch::gone(&mut client, pid);
    assert_no_lock(&mut client);
    // The server had the whole batch, and went on with it after the cut.
    let applied = stopped_in_batch(&mut client, 43, 46);
    let error = outcome.expect_err("the run lost its connection");
    let message = error.to_string();
    // Lost after the batch was sent: whether each committed is unknown to
    // the run, which names them all.
    assert!(
        matches!(&error, Error::Migration(e)
            if e.version() == 43
                && *e.stage() == Stage::Commit { down: false }
                && e.in_flight() == [43, 44, 45, 46]),
        "{error:?}"
    );
    assert!(message.contains("connection"), "{message}");
    assert!(
        !message.contains("rolled back"),
        "the run cannot know that a migration was rolled back: {message}"
    );
    completes(&db, &mut client, false, applied + 1);
}

// ---------------------------------------------------------------------------
// The server stopped as by a crash.

/// The password the migrating connection carries (the throwaway server
/// trusts every local connection and never asks for it); no error may show it.
const PASSWORD: &str = "s3cret-never-shown";

/// Runs the migrations of `set` on `db` (at `version`) through `driver` in
/// a thread until it is blocked by the gate `gate` opens at `at`, stops
/// the server immediately, starts it again, and returns the run's error
/// and a new blocking connection.
fn stopped_mid_run(
    server: &TestServer,
    db: &TestDatabase<'_>,
    (driver, set): (Driver, Set),
    version: i64,
    gate: impl FnOnce() -> Gate,
    at: &str,
) -> (Error, Conn) {
    // The throwaway server commits asynchronously; these sessions' commits
    // must survive the stop, as on a production server.
    let mut client = common::connect(db, Driver::Sync);
    client
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET synchronous_commit = on",
            db.name()
        ))
        .unwrap();
    let mut client = common::connect(db, Driver::Sync);
    client
        .run(set.migrations().runner().target(version))
        .unwrap_or_else(|e| panic!("{e}"));
    let gate = gate();
    let mut config = db.config().clone();
    config.password(PASSWORD);
    let mut migrator = ThreadRun::start(&config, "migrator", driver, set);
    watch::blocked(&mut client, &mut migrator, &gate, at);
    server.stop_immediately().unwrap_or_else(|e| panic!("{e}"));
    let outcome = migrator.finish();
    let error = outcome.expect_err("the run must fail when the server stops");
    server.start_again().unwrap_or_else(|e| panic!("{e}"));
    let client = common::connect(db, Driver::Sync);
    (error, client)
}

fn a_server_stopped_mid_run_keeps_only_what_committed(driver: Driver) {
    if std::env::var("DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
        eprintln!("skipped: stopping the server needs a throwaway one, and DATABASE_URL is set");
        return;
    }
    let server = TestServer::start().unwrap_or_else(|e| panic!("{e}"));
    assert!(server.is_throwaway());

    // In statement 3 of migration 25, a transactional one.
    let db = server.create_database().unwrap();
    let (error, mut client) = stopped_mid_run(
        &server,
        &db,
        (driver, Set::Fifty),
        24,
        || Gate::reading(db.config(), "products"),
        "ADD COLUMN rating_avg",
    );
    let message = error.to_string();
    // Migrations 25 to 29 were sent in one message: the run cannot know
    // which committed, and names them all.
    assert!(
        matches!(&error, Error::Migration(e)
            if e.version() == 25
                && *e.stage() == Stage::Commit { down: false }
                && e.in_flight() == [25, 26, 27, 28, 29]),
        "{error:?}"
    );
    assert!(
        message.contains("connection") || message.contains("server"),
        "{message}"
    );
    assert!(!message.contains(PASSWORD), "{message}");
    // The server stopped while the gate held 25: the batch stopped there.
    assert_eq!(state::check(&mut client), State::at(24));
    let db = Db {
        db,
        driver,
        set: Set::Fifty,
    };
    completes(&db, &mut client, false, 25);
    drop(client);
    drop(db);

    // In statement 3 of migration 30, a `CREATE INDEX CONCURRENTLY`.
    let db = server.create_database().unwrap();
    let (error, mut client) = stopped_mid_run(
        &server,
        &db,
        (driver, Set::Fifty),
        29,
        || Gate::writing(db.config(), "shipments"),
        "shipments_tracking_idx",
    );
    let message = error.to_string();
    match &error {
        Error::Migration(e) => {
            let Stage::Statement(statement) = e.stage() else {
                panic!("expected a no-transaction migration's statement: {error:?}");
            };
            assert_eq!((e.version(), statement.number, statement.total), (30, 3, 3));
            assert!(e.not_recorded().is_some(), "{message}");
        }
        other => panic!("expected the migration's error, got {other:?}"),
    }
    assert!(
        message.contains("connection") || message.contains("server"),
        "{message}"
    );
    assert!(!message.contains(PASSWORD), "{message}");
    // The index's catalog entry had committed; its build had not.
    assert_eq!(
        state::check(&mut client),
        dirty(30, 2, 3, Next::LeftInvalid)
    );
    // `status` names the INVALID index; a plain run drops it and builds
    // it again, valid.
    let db = Db {
        db,
        driver,
        set: Set::Fifty,
    };
    db.catalog_says(30, 3, false, &["public.shipments_tracking_idx"]);
    completes(&db, &mut client, false, 30);
    drop(client);
    drop(db);

    // In statement 1 of 5 of the concurrent set's migration 2, a `CREATE
    // INDEX CONCURRENTLY`: the same, checked against a clean apply.
    concurrent::stopped_mid_build(&server, driver);
}

#[test]
fn stopping_the_server_of_database_url_is_refused() {
    let server = TestServer::shared().unwrap_or_else(|e| panic!("no test server: {e}"));
    let refusals: Vec<String> = if server.is_throwaway() {
        // Run this binary again with DATABASE_URL naming the throwaway server.
        let url = child::conninfo(server.config(), "refusal");
        let instance = Instance::start_with(
            server.config(),
            "refusal",
            "refuse_stop",
            false,
            &[("DATABASE_URL", &url)],
        );
        let outcome = instance.finish(child::FINISH_WITHIN);
        assert!(outcome.status.success(), "{}", outcome.describe());
        outcome.refusals().into_iter().map(str::to_owned).collect()
    } else {
        vec![
            server.stop_immediately().unwrap_err().to_string(),
            server.start_again().unwrap_err().to_string(),
        ]
    };
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    for (refusal, verb) in refusals.iter().zip(["stop", "start"]) {
        assert!(
            refusal.contains(&format!("refusing to {verb} the server of DATABASE_URL")),
            "{refusal}"
        );
        assert!(refusal.contains("throwaway"), "{refusal}");
    }
    // The server is still up.
    let db = server.create_database().unwrap();
    db.connect().unwrap().batch_execute("SELECT 1").unwrap();
}

both_drivers!(
    thirty_two_processes_started_together_apply_each_of_fifty_migrations_once,
    kill_in_the_quick_check,
    kill_while_creating_the_tracking_table,
    kill_a_resume_while_it_reads_the_history,
    kill_while_the_digest_is_written,
    kill_an_instance_waiting_for_the_lock,
    kill_the_lock_holder_while_another_instance_waits,
    kill_the_lock_holder_in_a_no_transaction_migration_while_another_waits,
    kill_at_the_first_statement_of_a_migration,
    kill_after_some_statements_of_a_migration,
    kill_between_a_function_and_its_trigger,
    kill_late_in_a_long_run,
    kill_in_a_backfill_waiting_for_a_row_lock,
    kill_while_the_first_row_of_a_run_is_written,
    kill_while_a_row_mid_run_is_written,
    kill_while_a_no_transaction_migration_records_its_start,
    kill_in_a_concurrent_index_build,
    kill_in_a_statement_written_to_run_again,
    kill_while_progress_is_recorded,
    kill_while_the_last_statement_is_recorded_applied,
    kill_then_terminate_the_orphaned_index_build,
    kill_in_the_only_statement_then_mark_applied,
    kill_mark_applied_while_it_writes,
    kill_in_the_last_statement_then_undo_and_forget,
    kill_forget_while_it_deletes,
    a_connection_cut_while_committing_is_not_reported_as_rolled_back,
    a_server_stopped_mid_run_keeps_only_what_committed,
);
