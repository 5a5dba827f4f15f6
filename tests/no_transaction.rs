//! Migrations marked `-- stowage:no-transaction`: run statement by statement
//! in autocommit, with progress recorded, a failure leaving a true "dirty"
//! record that every run refuses until the operator resumes, marks or
//! forgets it.

mod common;

use common::{
    advisory_locks, database, migration_error, server_is_at_least, table_exists, tracked, versions,
};
use postgres::Client;
use stowage::{Error, LineColumn, Violation};

static NO_TRANSACTION: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/no_transaction");
static DIRTY: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/dirty");
static INVALID_INDEX: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/invalid_index");
static INTERRUPTED: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/interrupted");

/// `(statements_done, statements_total, success)` of a migration's row.
fn progress(client: &mut Client, version: i64) -> (Option<i32>, Option<i32>, bool) {
    let row = client
        .query_one(
            "SELECT statements_done, statements_total, success FROM stowage_migrations WHERE version = $1",
            &[&version],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

fn is_valid_index(client: &mut Client, name: &str) -> bool {
    client
        .query_one(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = $1::text::regclass",
            &[&name],
        )
        .unwrap()
        .get(0)
}

fn dirty_violation(result: Result<stowage::Report, Error>) -> (Violation, String) {
    match result {
        Err(Error::History(e)) => {
            assert_eq!(e.violations().len(), 1, "{e}");
            (e.violations()[0].clone(), e.to_string())
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn statements_are_split_at_build_time_as_postgres_would() {
    let m = NO_TRANSACTION.get(2).unwrap();
    assert!(!m.is_transactional());
    assert!(NO_TRANSACTION.get(1).unwrap().is_transactional());
    let statements = m.up().statements().unwrap();
    let starts: Vec<_> = statements.iter().map(|s| s.position()).collect();
    let at = |line, column| LineColumn { line, column };
    assert_eq!(starts, [at(4, 1), at(6, 1), at(8, 1), at(16, 1)]);
    assert!(statements[2].sql().ends_with("$fn$"));
    let atomic = NO_TRANSACTION.get(3).unwrap();
    assert!(!atomic.is_transactional());
    let statements = atomic.up().statements().unwrap();
    let starts: Vec<_> = statements.iter().map(|s| s.position()).collect();
    assert_eq!(starts, [at(5, 1), at(11, 1)]);
    assert!(statements[0].sql().contains("'alpha; first'") && statements[0].sql().ends_with("END"));
}

#[test]
fn a_no_transaction_migration_with_concurrent_indexes_and_function_bodies_applies() {
    let (_db, mut client) = database();
    // Migration 3 holds a `BEGIN ATOMIC` body, which older servers reject.
    let atomic = server_is_at_least(14, "the BEGIN ATOMIC function of migration 3");
    let (runner, expected): (fn() -> stowage::Runner<'static>, &[i64]) = if atomic {
        (|| NO_TRANSACTION.runner(), &[1, 2, 3])
    } else {
        (|| NO_TRANSACTION.runner().target(2), &[1, 2])
    };
    let report = runner().run(&mut client).unwrap();
    assert_eq!(versions(&report), expected);
    assert!(is_valid_index(&mut client, "events_account_idx"));
    assert!(is_valid_index(&mut client, "events_kind_idx"));
    let count: i64 = client
        .query_one("SELECT event_count(1)", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
    assert_eq!(progress(&mut client, 2), (Some(4), Some(4), true));
    assert_eq!(progress(&mut client, 1), (None, None, true));
    if atomic {
        let label: String = client
            .query_one("SELECT kind_label('a')", &[])
            .unwrap()
            .get(0);
        assert_eq!(label, "alpha; first");
        assert!(is_valid_index(&mut client, "events_note_idx"));
        assert_eq!(progress(&mut client, 3), (Some(2), Some(2), true));
    }
    assert!(runner().run(&mut client).unwrap().is_empty());
}

/// Runs DIRTY into a database where statement 3 of migration 2 fails.
fn fail_at_statement_three(client: &mut Client) {
    let err = migration_error(DIRTY.run(client));
    assert_eq!(err.version(), 2);
    let failed = err.statement().expect("a no-transaction failure");
    assert_eq!((failed.number, failed.total), (3, 5));
    assert_eq!(failed.at, LineColumn { line: 4, column: 1 });
    assert!(failed.invalid_indexes.is_empty());
    assert_eq!(err.code(), Some("42P01"));
    // `INSERT INTO items_archive`: the table name starts at column 13.
    assert_eq!(
        err.position(),
        Some(LineColumn {
            line: 4,
            column: 13
        })
    );
    let message = err.to_string();
    for part in [
        "tests/fixtures/dirty/2_backfill.sql:4:13",
        "statement 3 of 5",
        "statements 1 to 2 stay applied",
        "Runner::resume",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }
    assert!(table_exists(client, "public.step_two"));
    assert!(!table_exists(client, "public.step_five"));
    assert_eq!(progress(client, 2), (Some(2), Some(5), false));
    assert_eq!(advisory_locks(client), 0);
}

#[test]
fn a_failed_statement_leaves_a_dirty_record_that_every_run_refuses_until_resumed() {
    let (_db, mut client) = database();
    fail_at_statement_three(&mut client);

    for _ in 0..2 {
        let (violation, message) = dirty_violation(DIRTY.run(&mut client));
        match violation {
            Violation::Dirty {
                version: 2,
                statements_done: 2,
                statements_total: 5,
                error: Some(error),
                ..
            } => {
                assert!(error.contains("42P01"), "{error}");
            }
            other => panic!("unexpected {other:?}"),
        }
        for part in [
            "statement 3 of 5 failed",
            "Runner::resume",
            "Runner::mark_applied(2)",
            "Runner::forget(2)",
        ] {
            assert!(message.contains(part), "{part:?} not in {message}");
        }
        assert!(
            !table_exists(&mut client, "public.after_backfill"),
            "nothing runs past a dirty migration"
        );
    }

    // The operator fixes the cause and resumes at statement 3.
    client
        .batch_execute("CREATE TABLE items_archive (id int, code text)")
        .unwrap();
    let report = DIRTY.runner().resume(&mut client).unwrap();
    assert_eq!(versions(&report), [2, 3]);
    assert_eq!(progress(&mut client, 2), (Some(5), Some(5), true));
    assert!(table_exists(&mut client, "public.step_five"));
    assert!(is_valid_index(&mut client, "items_code_idx"));
    let rows = tracked(&mut client, "public.stowage_migrations");
    assert!(
        rows.iter().all(|r| r.success && r.error.is_none()),
        "{rows:?}"
    );
    assert!(DIRTY.run(&mut client).unwrap().is_empty());
}

#[test]
fn a_dirty_migration_completed_by_hand_can_be_marked_applied() {
    let (_db, mut client) = database();
    fail_at_statement_three(&mut client);
    client
        .batch_execute(
            "CREATE INDEX items_code_idx ON items (code); CREATE TABLE step_five (id int);",
        )
        .unwrap();
    assert!(DIRTY.runner().mark_applied(&mut client, 2).unwrap());
    assert!(
        !DIRTY.runner().mark_applied(&mut client, 2).unwrap(),
        "already applied"
    );
    assert_eq!(progress(&mut client, 2), (Some(5), Some(5), true));
    let report = DIRTY.run(&mut client).unwrap();
    assert_eq!(versions(&report), [3]);
}

#[test]
fn a_dirty_migration_undone_by_hand_can_be_forgotten_and_run_again() {
    let (_db, mut client) = database();
    fail_at_statement_three(&mut client);
    client
        .batch_execute("DROP TABLE step_one, step_two")
        .unwrap();
    DIRTY.runner().forget(&mut client, 2).unwrap();
    assert_eq!(tracked(&mut client, "public.stowage_migrations").len(), 1);
    client
        .batch_execute("CREATE TABLE items_archive (id int, code text)")
        .unwrap();
    let report = DIRTY.run(&mut client).unwrap();
    assert_eq!(versions(&report), [2, 3]);
    assert!(table_exists(&mut client, "public.step_one"));
}

#[test]
fn marking_and_forgetting_refuse_what_would_make_the_history_lie() {
    let (_db, mut client) = database();
    fail_at_statement_three(&mut client);
    fn refused<T: std::fmt::Debug>(result: Result<T, Error>) -> (i64, String) {
        match result {
            Err(Error::Refused { version, reason }) => (version, reason),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    let (version, reason) = refused(DIRTY.runner().forget(&mut client, 1));
    assert_eq!(version, 1);
    assert!(reason.contains("apply it again"), "{reason}");
    assert_eq!(refused(DIRTY.runner().forget(&mut client, 3)).0, 3);
    assert_eq!(refused(DIRTY.runner().mark_applied(&mut client, 99)).0, 99);
    assert_eq!(
        progress(&mut client, 2),
        (Some(2), Some(5), false),
        "nothing changed"
    );
    assert_eq!(advisory_locks(&mut client), 0);
}

#[test]
fn a_failed_concurrent_index_is_reported_as_left_invalid() {
    let (_db, mut client) = database();
    let err = migration_error(INVALID_INDEX.run(&mut client));
    assert_eq!(err.code(), Some("23505"));
    let failed = err.statement().unwrap();
    assert_eq!(failed.invalid_indexes, ["public.dupes_code_key"]);
    assert!(!is_valid_index(&mut client, "dupes_code_key"));
    let message = err.to_string();
    assert!(
        message.contains("INVALID index(es) behind: public.dupes_code_key"),
        "{message}"
    );
}

#[test]
fn a_connection_lost_mid_migration_leaves_a_record_of_how_far_it_got() {
    let (db, mut client) = database();
    let err = migration_error(INTERRUPTED.run(&mut client));
    assert!(
        err.not_recorded().is_some(),
        "the connection was gone: {err}"
    );

    let mut fresh = db.connect().unwrap();
    assert_eq!(progress(&mut fresh, 1), (Some(1), Some(3), false));
    assert!(table_exists(&mut fresh, "public.before_kill"));
    let (violation, message) = dirty_violation(INTERRUPTED.run(&mut fresh));
    assert!(
        matches!(
            violation,
            Violation::Dirty {
                version: 1,
                statements_done: 1,
                error: None,
                ..
            }
        ),
        "{violation:?}"
    );
    assert!(
        message.contains("interrupted during statement 2 of 3"),
        "{message}"
    );
    assert_eq!(advisory_locks(&mut fresh), 0);
}
