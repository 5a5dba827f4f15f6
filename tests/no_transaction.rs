//! Migrations marked `-- stowage:no-transaction`: run statement by statement
//! in autocommit, with progress recorded, a failure leaving a true "dirty"
//! record that every run refuses until the operator resumes, marks or
//! forgets it.

mod common;

use common::{
    advisory_locks, connect, database, migration_error, server_is_at_least, table_exists, tracked,
    versions, Conn, Driver,
};
use stowage::{Error, LineColumn, Refusal, Remedy, Stage, State, Violation};

static NO_TRANSACTION: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/no_transaction");
static DIRTY: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/dirty");
static INVALID_INDEX: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/invalid_index");
static INTERRUPTED: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/interrupted");

/// `(statements_done, statements_total, success)` of a migration's row.
fn progress(client: &mut Conn, version: i64) -> (Option<i32>, Option<i32>, bool) {
    let row = client
        .query_one(
            "SELECT statements_done, statements_total, success FROM stowage_migrations WHERE version = $1",
            &[&version],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

fn is_valid_index(client: &mut Conn, name: &str) -> bool {
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
    assert!(!m.up().is_transactional());
    assert!(NO_TRANSACTION.get(1).unwrap().up().is_transactional());
    let statements = m.up().statements();
    let starts: Vec<_> = statements.iter().map(|s| s.position()).collect();
    let at = |line, column| LineColumn { line, column };
    assert_eq!(starts, [at(4, 1), at(6, 1), at(8, 1), at(16, 1)]);
    assert!(statements[2].sql().ends_with("$fn$"));
    let atomic = NO_TRANSACTION.get(3).unwrap();
    assert!(!atomic.up().is_transactional());
    let statements = atomic.up().statements();
    let starts: Vec<_> = statements.iter().map(|s| s.position()).collect();
    assert_eq!(starts, [at(5, 1), at(11, 1)]);
    assert!(statements[0].sql().contains("'alpha; first'") && statements[0].sql().ends_with("END"));
    // A transactional script is cut too, though it runs whole.
    let statements = NO_TRANSACTION.get(1).unwrap().up().statements();
    let starts: Vec<_> = statements.iter().map(|s| s.position()).collect();
    assert_eq!(starts, [at(1, 1)]);
    assert!(statements[0].sql().starts_with("CREATE TABLE accounts"));
}

fn a_no_transaction_migration_with_concurrent_indexes_and_function_bodies_applies(driver: Driver) {
    let (_db, mut client) = database(driver);
    // Migration 3 holds a `BEGIN ATOMIC` body, which older servers reject.
    let atomic = server_is_at_least(14, "the BEGIN ATOMIC function of migration 3");
    let (runner, expected): (fn() -> stowage::Runner, &[i64]) = if atomic {
        (|| NO_TRANSACTION.runner(), &[1, 2, 3])
    } else {
        (|| NO_TRANSACTION.runner().target(2), &[1, 2])
    };
    let report = client.run(runner()).unwrap();
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
    assert!(client.run(runner()).unwrap().is_empty());
    // Forgetting it is refused; running it again is not offered, since it
    // runs outside a transaction.
    match client.forget(runner(), 2) {
        Err(Error::Refused(refusal)) => {
            assert_eq!(refusal.remedies(), [Remedy::RollbackTo { version: 1 }]);
            assert!(!refusal.to_string().contains("reapply"), "{refusal}");
        }
        other => panic!("{other:?}"),
    }
}

/// Runs DIRTY into a database where statement 3 of migration 2 fails.
fn fail_at_statement_three(client: &mut Conn) {
    let err = migration_error(client.run(DIRTY.runner()));
    assert_eq!(err.version(), 2);
    let Stage::Statement(failed) = err.stage() else {
        panic!("expected a no-transaction failure, got {:?}", err.stage());
    };
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
    assert_eq!(
        err.remedies(),
        [
            Remedy::Resume {
                version: 2,
                from_statement: 3
            },
            Remedy::MarkApplied { version: 2 },
            Remedy::Forget { version: 2 },
        ]
    );
    assert!(table_exists(client, "public.step_two"));
    assert!(!table_exists(client, "public.step_five"));
    assert_eq!(progress(client, 2), (Some(2), Some(5), false));
    assert_eq!(advisory_locks(client), 0);
}

fn a_failed_statement_leaves_a_dirty_record_that_every_run_refuses_until_resumed(driver: Driver) {
    let (_db, mut client) = database(driver);
    fail_at_statement_three(&mut client);

    for _ in 0..2 {
        let (violation, message) = dirty_violation(client.run(DIRTY.runner()));
        match &violation {
            Violation::Dirty {
                version: 2,
                path,
                statements_done: 2,
                statements_total: 5,
                error: Some(error),
                stopped: Some(stopped),
            } => {
                assert_eq!(stopped.statement, 3);
                assert_eq!(
                    stopped.completed,
                    Some(false),
                    "a failed statement did not complete"
                );
                assert_eq!(stopped.running_pid, None);
                assert_eq!(path, "tests/fixtures/dirty/2_backfill.sql");
                assert!(error.contains("42P01"), "{error}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            violation.remedies(),
            [
                Remedy::Resume {
                    version: 2,
                    from_statement: 3
                },
                Remedy::MarkApplied { version: 2 },
                Remedy::Forget { version: 2 },
            ]
        );
        for part in [
            "statement 3 of 5 (line 4) failed",
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

    // Verify reports the same, and nothing else; status counts it dirty.
    let verified = client.verify(DIRTY.runner()).unwrap();
    assert!(!verified.is_ok(), "{verified}");
    assert!(
        matches!(
            verified.problems(),
            [Violation::Dirty {
                version: 2,
                statements_done: 2,
                ..
            }]
        ),
        "{verified}"
    );
    // A dirty migration is not applied: the database is at 1.
    assert_eq!(verified.current_version(), Some(1));
    let counts = client.status(DIRTY.runner()).unwrap().counts();
    assert_eq!((counts.applied, counts.dirty), (1, 1), "{counts:?}");

    // The operator fixes the cause and resumes at statement 3.
    client
        .batch_execute("CREATE TABLE items_archive (id int, code text)")
        .unwrap();
    let report = client.resume(DIRTY.runner()).unwrap();
    assert_eq!(versions(&report), [2, 3]);
    assert_eq!(progress(&mut client, 2), (Some(5), Some(5), true));
    assert!(table_exists(&mut client, "public.step_five"));
    assert!(is_valid_index(&mut client, "items_code_idx"));
    let rows = tracked(&mut client, "public.stowage_migrations");
    assert!(
        rows.iter().all(|r| r.success && r.error.is_none()),
        "{rows:?}"
    );
    assert!(client.run(DIRTY.runner()).unwrap().is_empty());
}

fn a_dirty_migration_completed_by_hand_can_be_marked_applied(driver: Driver) {
    let (_db, mut client) = database(driver);
    fail_at_statement_three(&mut client);
    client
        .batch_execute(
            "CREATE INDEX items_code_idx ON items (code); CREATE TABLE step_five (id int);",
        )
        .unwrap();
    assert!(client.mark_applied(DIRTY.runner(), 2).unwrap());
    let marked = tracked(&mut client, "public.stowage_migrations");
    assert!(
        !client.mark_applied(DIRTY.runner(), 2).unwrap(),
        "already applied: it changes nothing"
    );
    assert_eq!(tracked(&mut client, "public.stowage_migrations"), marked);
    assert_eq!(progress(&mut client, 2), (Some(5), Some(5), true));
    let status = client.status(DIRTY.runner()).unwrap();
    assert_eq!(*status.entries()[1].state(), State::Applied);
    assert_eq!(status.entries()[1].note(), Some("marked applied by hand"));
    let report = client.run(DIRTY.runner()).unwrap();
    assert_eq!(versions(&report), [3]);
}

fn a_dirty_migration_undone_by_hand_can_be_forgotten_and_run_again(driver: Driver) {
    let (_db, mut client) = database(driver);
    fail_at_statement_three(&mut client);
    client
        .batch_execute("DROP TABLE step_one, step_two")
        .unwrap();
    client.forget(DIRTY.runner(), 2).unwrap();
    assert_eq!(tracked(&mut client, "public.stowage_migrations").len(), 1);
    client
        .batch_execute("CREATE TABLE items_archive (id int, code text)")
        .unwrap();
    let report = client.run(DIRTY.runner()).unwrap();
    assert_eq!(versions(&report), [2, 3]);
    assert!(table_exists(&mut client, "public.step_one"));
}

fn marking_and_forgetting_refuse_what_would_make_the_history_lie(driver: Driver) {
    let (_db, mut client) = database(driver);
    fail_at_statement_three(&mut client);
    fn refused<T: std::fmt::Debug>(result: Result<T, Error>) -> Refusal {
        match result {
            Err(Error::Refused(refusal)) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // Forgetting an applied migration would make the next run apply it again.
    let refusal = refused(client.forget(DIRTY.runner(), 1));
    assert_eq!(
        refusal,
        Refusal::Applied {
            version: 1,
            transactional: true
        }
    );
    let reason = refusal.to_string();
    assert!(reason.contains("apply it again"), "{reason}");
    assert_eq!(
        reason,
        "refused: migration 1 is applied; forgetting it would make the next run apply it \
         again; to undo it, Runner::rollback_to(0); if what it makes is missing, running \
         migration 1 again (Runner::reapply(1))"
    );
    assert_eq!(
        refusal.remedies(),
        [
            Remedy::RollbackTo { version: 0 },
            Remedy::Reapply { version: 1 }
        ]
    );
    // 3 has no record to forget; 99 is no migration of this binary.
    assert_eq!(
        refused(client.forget(DIRTY.runner(), 3)),
        Refusal::NotRecorded { version: 3 }
    );
    assert_eq!(
        refused(client.mark_applied(DIRTY.runner(), 99)),
        Refusal::UnknownVersion { version: 99 }
    );
    assert_eq!(
        progress(&mut client, 2),
        (Some(2), Some(5), false),
        "nothing changed"
    );
    assert_eq!(advisory_locks(&mut client), 0);
}

fn a_failed_concurrent_index_is_reported_as_left_invalid(driver: Driver) {
    let (_db, mut client) = database(driver);
    let err = migration_error(client.run(INVALID_INDEX.runner()));
    assert_eq!(err.code(), Some("23505"));
    let Stage::Statement(failed) = err.stage() else {
        panic!("expected a no-transaction failure, got {:?}", err.stage());
    };
    assert_eq!((failed.number, failed.total), (1, 1));
    assert_eq!(failed.invalid_indexes, ["public.dupes_code_key"]);
    assert!(!is_valid_index(&mut client, "dupes_code_key"));
    let message = err.to_string();
    assert!(
        message.contains("INVALID index(es) behind: public.dupes_code_key"),
        "{message}"
    );
    assert!(
        !message.contains("nothing of it changed the database"),
        "an index left behind is a change: {message}"
    );
    // With an index left behind, the first statement's failure changed the
    // database: completing or undoing it by hand are ways out too.
    assert_eq!(
        err.remedies(),
        [
            Remedy::Resume {
                version: 2,
                from_statement: 1
            },
            Remedy::MarkApplied { version: 2 },
            Remedy::Forget { version: 2 },
        ]
    );
}

fn a_connection_lost_mid_migration_leaves_a_record_of_how_far_it_got(driver: Driver) {
    let (db, mut client) = database(driver);
    let err = migration_error(client.run(INTERRUPTED.runner()));
    assert!(
        err.not_recorded().is_some(),
        "the connection was gone: {err}"
    );
    assert!(
        matches!(err.stage(), Stage::Statement(s) if (s.number, s.total) == (2, 3)),
        "{:?}",
        err.stage()
    );

    let mut fresh = connect(&db, driver);
    assert_eq!(progress(&mut fresh, 1), (Some(1), Some(3), false));
    assert!(table_exists(&mut fresh, "public.before_kill"));
    let (violation, message) = dirty_violation(fresh.run(INTERRUPTED.runner()));
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
    // Statement 2 is a `SELECT`: the catalog cannot tell whether it ran, so
    // the operator says.
    assert_eq!(
        violation.remedies(),
        [
            Remedy::ResumeInterrupted {
                version: 1,
                statement: 2,
                completed: true
            },
            Remedy::ResumeInterrupted {
                version: 1,
                statement: 2,
                completed: false
            },
            Remedy::MarkApplied { version: 1 },
            Remedy::Forget { version: 1 },
        ]
    );
    assert!(
        message.contains("The catalog cannot tell whether the statement completed"),
        "{message}"
    );
    // The status table says why it is dirty, though no error was recorded.
    let status = fresh.status(INTERRUPTED.runner()).unwrap();
    assert_eq!(status.entries()[0].error(), None);
    let table = status.to_string();
    assert!(
        table.lines().any(|l| l
            == "migration 1 dirty (1/3 statements): interrupted during statement 2 \
                (its process or connection died)"),
        "{table}"
    );
    assert!(
        table.contains("the catalog cannot tell whether it completed"),
        "{table}"
    );
    assert_eq!(advisory_locks(&mut fresh), 0);
    // Told that it completed, a resume goes on after it.
    let report = fresh
        .resume(
            INTERRUPTED
                .runner()
                .interrupted_statement(stowage::Interrupted::Completed),
        )
        .unwrap();
    assert_eq!(versions(&report), [1]);
    assert!(table_exists(&mut fresh, "public.after_kill"));
    assert!(fresh.run(INTERRUPTED.runner()).unwrap().is_empty());
}

both_drivers!(
    a_no_transaction_migration_with_concurrent_indexes_and_function_bodies_applies,
    a_failed_statement_leaves_a_dirty_record_that_every_run_refuses_until_resumed,
    a_dirty_migration_completed_by_hand_can_be_marked_applied,
    a_dirty_migration_undone_by_hand_can_be_forgotten_and_run_again,
    marking_and_forgetting_refuse_what_would_make_the_history_lie,
    a_failed_concurrent_index_is_reported_as_left_invalid,
    a_connection_lost_mid_migration_leaves_a_record_of_how_far_it_got,
);
