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

both_drivers!(
    a_failing_migration_is_rolled_back_recorded_and_retried,
    the_error_keeps_the_server_error_as_its_source,
    an_error_without_a_server_position_still_points_at_its_statement,
);
