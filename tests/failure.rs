//! A failing migration: rolled back, recorded, reported with the server's
//! error and its place in the file, and retried by the next run.

mod common;

use common::{advisory_locks, database, migration_error, table_exists, tracked, versions, Driver};
use stowage::LineColumn;

static FAILING: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/failing");

fn a_failing_migration_is_rolled_back_recorded_and_retried(driver: Driver) {
    let (_db, mut client) = database(driver);
    let err = migration_error(client.run(FAILING.runner()));
    assert_eq!(err.version(), 2);
    assert_eq!(err.path(), "tests/fixtures/failing/2_needs_setup.sql");
    assert_eq!(err.code(), Some("42P01"));
    // `INSERT INTO prerequisite` is on line 3; the name starts at column 13.
    assert_eq!(
        err.position(),
        Some(LineColumn {
            line: 3,
            column: 13
        })
    );
    assert!(err.not_recorded().is_none());
    let before: Vec<i64> = err.applied_before().iter().map(|a| a.version()).collect();
    assert_eq!(
        before,
        [1],
        "migration 1 was applied and committed before 2 failed"
    );
    let message = err.to_string();
    for part in [
        "this run applied 1 before it",
        "migration 2",
        "tests/fixtures/failing/2_needs_setup.sql:3:13",
        "42P01",
        "prerequisite",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }

    // The database is as it was before migration 2, and nothing after it ran.
    assert!(table_exists(&mut client, "public.a"));
    assert!(!table_exists(&mut client, "public.rolled_back"));
    assert!(!table_exists(&mut client, "public.c"));
    let rows = tracked(&mut client, "public.stowage_migrations");
    assert_eq!(rows.len(), 2);
    assert!(rows[0].success);
    assert_eq!((rows[1].version, rows[1].success), (2, false));
    let recorded = rows[1].error.as_deref().unwrap_or_default();
    assert!(
        recorded.contains("42P01") && recorded.contains("line 3, column 13"),
        "{recorded}"
    );
    assert_eq!(
        advisory_locks(&mut client),
        0,
        "the lock is released after an error"
    );

    // Once the operator has fixed what was missing, the next run retries it.
    client
        .batch_execute("CREATE TABLE prerequisite (id int)")
        .unwrap();
    let report = client.run(FAILING.runner()).unwrap();
    assert_eq!(versions(&report), [2, 3]);
    let rows = tracked(&mut client, "public.stowage_migrations");
    assert!(
        rows.iter().all(|r| r.success && r.error.is_none()),
        "{rows:?}"
    );
    assert!(table_exists(&mut client, "public.rolled_back"));
}

fn the_error_keeps_the_server_error_as_its_source(driver: Driver) {
    let (_db, mut client) = database(driver);
    let err = client.run(FAILING.runner()).unwrap_err();
    let source = std::error::Error::source(&err).expect("a source");
    let db = source
        .downcast_ref::<postgres::Error>()
        .and_then(postgres::Error::as_db_error)
        .expect("the server's error");
    assert_eq!(db.message(), "relation \"prerequisite\" does not exist");
}

static NO_POSITION: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/failing_without_position");

fn an_error_without_a_server_position_still_points_at_its_statement(driver: Driver) {
    let (_db, mut client) = database(driver);
    let err = migration_error(client.run(NO_POSITION.runner()));
    assert_eq!(err.code(), Some("23505"));
    assert!(
        err.db_error().unwrap().position().is_none(),
        "the server gave no position"
    );
    // The third INSERT, which starts at line 5, column 5.
    assert_eq!(err.position(), Some(LineColumn { line: 5, column: 5 }));
    assert!(
        err.to_string()
            .contains("tests/fixtures/failing_without_position/2_rows.sql:5:5"),
        "{err}"
    );
    let rows: i64 = client
        .query_one("SELECT count(*) FROM a", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 0, "finding the statement changed nothing");
}

static BASE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/base");
static EDITED: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/edited");
static DIRTY: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/dirty");
static FAILING_DOWN: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/failing_down");
static GATE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/gate");
static LOCK_RELEASED: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/lock_released");
static TRACKING_DROPPED: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/tracking_dropped");

/// After any failure, on every path, the session is left as it was found:
/// out of any transaction, without the migration lock, answering.
fn every_error_path_leaves_the_session_clean(driver: Driver) {
    type Scenario = (
        &'static str,
        fn(&mut common::Conn) -> Option<stowage::Error>,
    );
    let scenarios: [Scenario; 14] = [
        ("a transactional migration fails", |c| {
            c.run(FAILING.runner()).err()
        }),
        (
            "a failure without a position, found by running the script again",
            |c| c.run(NO_POSITION.runner()).err(),
        ),
        ("a no-transaction statement fails", |c| {
            c.run(DIRTY.runner()).err()
        }),
        ("a dirty migration is refused", |c| {
            c.run(DIRTY.runner()).err();
            c.run(DIRTY.runner()).err()
        }),
        ("the history disagrees", |c| {
            c.run(BASE.runner()).unwrap();
            c.run(EDITED.runner()).err()
        }),
        ("an operator's call is refused", |c| {
            c.run(BASE.runner()).unwrap();
            c.forget(BASE.runner(), 2).err()
        }),
        ("mark_applied is refused", |c| {
            c.run(BASE.runner()).unwrap();
            c.mark_applied(EDITED.runner(), 2).err()
        }),
        ("a baseline is refused", |c| {
            c.run(BASE.runner()).unwrap();
            c.baseline(BASE.runner(), 1).err()
        }),
        ("a rollback is refused", |c| {
            c.run(BASE.runner()).unwrap();
            c.rollback_to(BASE.runner(), 0).err()
        }),
        ("a down script fails", |c| {
            c.run(FAILING_DOWN.runner()).unwrap();
            c.rollback_to(FAILING_DOWN.runner(), 1).err()
        }),
        ("a migration releases the lock", |c| {
            c.run(LOCK_RELEASED.runner()).err()
        }),
        ("a migration drops the tracking table, then fails", |c| {
            c.run(TRACKING_DROPPED.runner()).err()
        }),
        ("an option PostgreSQL cannot take", |c| {
            c.run(
                BASE.runner()
                    .lock_timeout(std::time::Duration::from_secs(40 * 86_400)),
            )
            .err()
        }),
        ("a tracking table name PostgreSQL would cut short", |c| {
            c.run(BASE.runner().table("t".repeat(64))).err()
        }),
    ];
    for (what, scenario) in scenarios {
        let (db, mut client) = database(driver);
        let error = scenario(&mut client);
        assert!(error.is_some(), "{what}: no error");
        assert_eq!(advisory_locks(&mut client), 0, "{what}: {error:?}");
        assert!(
            common::answers_outside_a_transaction(&db, &mut client),
            "{what}: the session is not idle: {error:?}"
        );
    }
}

/// The digest written at the end of a run cannot be written while another
/// session writes the tracking table: the run ends well all the same, the
/// lock released and no transaction left open.
fn a_digest_that_cannot_be_written_leaves_the_session_clean(driver: Driver) {
    let (db, mut client) = database(driver);
    client.run(BASE.runner().target(1)).unwrap();
    let mut writer = db.connect().unwrap();
    let mut busy = writer.transaction().unwrap();
    busy.batch_execute("LOCK TABLE stowage_migrations IN ROW EXCLUSIVE MODE")
        .unwrap();
    assert_eq!(versions(&client.run(BASE.runner()).unwrap()), [2, 3]);
    busy.commit().unwrap();
    assert_eq!(advisory_locks(&mut client), 0);
    assert!(common::answers_outside_a_transaction(&db, &mut client));
    assert!(client.run(BASE.runner()).unwrap().is_empty());
}

/// A role that may not create the tracking table gets the server's error,
/// and leaves nothing held.
fn a_tracking_table_that_cannot_be_created_leaves_the_session_clean(driver: Driver) {
    let (db, mut client) = database(driver);
    let role = format!("reader_{}", db.name());
    client
        .batch_execute(&format!(
            "CREATE ROLE \"{role}\"; REVOKE CREATE ON SCHEMA public FROM PUBLIC; SET ROLE \"{role}\""
        ))
        .unwrap();
    match client.run(BASE.runner()) {
        Err(e @ stowage::Error::Database { .. }) => {
            assert_eq!(e.code(), Some("42501"), "{e}");
            assert!(
                e.to_string()
                    .starts_with("creating the tracking table: ERROR 42501"),
                "{e}"
            );
        }
        other => panic!("expected a database error, got {other:?}"),
    }
    assert_eq!(advisory_locks(&mut client), 0);
    assert!(common::answers_outside_a_transaction(&db, &mut client));
    client
        .batch_execute(&format!("RESET ROLE; DROP ROLE \"{role}\""))
        .unwrap();
}

/// A run that waits for the lock another process holds, and gives up,
/// holds nothing afterwards either.
fn a_lock_wait_that_gives_up_leaves_the_session_clean(driver: Driver) {
    let (db, _client) = database(driver);
    let report = common::while_a_run_holds_the_lock(&db, driver, GATE.runner(), |waiter, _| {
        let waited = waiter.run(GATE.runner().lock_wait_timeout(std::time::Duration::ZERO));
        assert!(
            matches!(waited, Err(stowage::Error::LockTimeout { .. })),
            "{waited:?}"
        );
        assert!(common::answers_outside_a_transaction(&db, waiter));
    });
    report.unwrap();
    let mut observer = common::connect(&db, driver);
    assert_eq!(advisory_locks(&mut observer), 0);
}

both_drivers!(
    every_error_path_leaves_the_session_clean,
    a_digest_that_cannot_be_written_leaves_the_session_clean,
    a_tracking_table_that_cannot_be_created_leaves_the_session_clean,
    a_lock_wait_that_gives_up_leaves_the_session_clean,
    a_failing_migration_is_rolled_back_recorded_and_retried,
    the_error_keeps_the_server_error_as_its_source,
    an_error_without_a_server_position_still_points_at_its_statement,
);
