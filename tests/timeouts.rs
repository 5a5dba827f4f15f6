//! `lock_timeout` and `statement_timeout` per run and per migration: a
//! migration that waits on a lock another session holds fails fast, with a
//! clear error, instead of queueing that table's traffic behind it.

mod common;

use common::{
    advisory_locks, answers_outside_a_transaction, applied_versions, database, migration_error,
    versions, Conn, Driver,
};
use std::time::Duration;
use stowage::{Error, Stage};

static BUSY: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/timeouts_busy");
static DIRECTIVE: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/timeouts_directive");
static STATEMENT: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/timeouts_statement");
static NO_TRANSACTION: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/timeouts_no_transaction");

fn setting(client: &mut Conn, name: &str) -> String {
    client
        .query_one(&format!("SHOW {name}"), &[])
        .unwrap()
        .get(0)
}

/// Runs `migrations` while another session reads table `busy` in an open
/// transaction, as a long report would, and returns the run's result.
fn run_while_busy(
    client: &mut Conn,
    db: &stowage::testing::TestDatabase<'_>,
    runner: stowage::Runner,
) -> Result<stowage::Report, Error> {
    let mut reader = db.connect().unwrap();
    let mut long_read = reader.transaction().unwrap();
    long_read.query("SELECT * FROM busy", &[]).unwrap();
    let result = client.run(runner);
    long_read.commit().unwrap();
    result
}

fn a_run_lock_timeout_makes_a_blocked_migration_fail_fast(driver: Driver) {
    let (db, mut client) = database(driver);
    client.run(BUSY.runner().target(1)).unwrap();
    let err = migration_error(run_while_busy(
        &mut client,
        &db,
        BUSY.runner().lock_timeout(Duration::from_millis(100)),
    ));
    assert_eq!(err.version(), 2);
    assert_eq!(err.code(), Some("55P03"));
    let message = err.to_string();
    assert!(
        message.contains("gave up waiting for a lock another session holds (lock_timeout)"),
        "{message}"
    );
    assert_eq!(applied_versions(&mut client), [1]);
    assert_eq!(
        setting(&mut client, "lock_timeout"),
        "0",
        "SET LOCAL ends with the migration"
    );

    // Once the other session is done, the next run applies it.
    assert_eq!(
        versions(
            &client
                .run(BUSY.runner().lock_timeout(Duration::from_millis(100)))
                .unwrap()
        ),
        [2]
    );
}

fn a_migration_directive_sets_its_own_lock_timeout(driver: Driver) {
    let (db, mut client) = database(driver);
    client.run(DIRECTIVE.runner().target(1)).unwrap();
    assert_eq!(
        DIRECTIVE.get(2).unwrap().up().lock_timeout(),
        Some(Duration::from_millis(100))
    );
    // The directive wins over a runner that would wait an hour.
    let err = migration_error(run_while_busy(
        &mut client,
        &db,
        DIRECTIVE.runner().lock_timeout(Duration::from_secs(3600)),
    ));
    assert_eq!(err.code(), Some("55P03"));
    assert_eq!(versions(&client.run(DIRECTIVE.runner()).unwrap()), [2]);
}

fn a_statement_timeout_cancels_a_statement_that_runs_too_long(driver: Driver) {
    let (_db, mut client) = database(driver);
    let err = migration_error(client.run(STATEMENT.runner()));
    assert_eq!(err.code(), Some("57014"));
    assert!(
        err.to_string()
            .contains("ran longer than statement_timeout"),
        "{err}"
    );
    assert_eq!(setting(&mut client, "statement_timeout"), "0");
}

fn a_no_transaction_migration_gets_its_timeouts_and_the_session_gets_its_own_back(driver: Driver) {
    let (db, mut client) = database(driver);
    client.batch_execute("SET lock_timeout = '42s'").unwrap();
    client.run(NO_TRANSACTION.runner().target(1)).unwrap();
    let err = migration_error(run_while_busy(&mut client, &db, NO_TRANSACTION.runner()));
    assert_eq!(err.code(), Some("55P03"));
    match err.stage() {
        Stage::Statement(s) => assert_eq!((s.number, s.total), (1, 2)),
        other => panic!("expected a failed statement, got {other:?}"),
    }
    assert_eq!(
        setting(&mut client, "lock_timeout"),
        "42s",
        "the session's own setting is back"
    );
    let report = client.resume(NO_TRANSACTION.runner()).unwrap();
    assert_eq!(versions(&report), [2]);
    assert_eq!(setting(&mut client, "lock_timeout"), "42s");
}

/// A timeout PostgreSQL cannot take is refused before anything runs,
/// naming the option; one under a millisecond is sent as one millisecond,
/// not as 0 (which would turn it off).
fn timeouts_postgres_cannot_take_are_refused_and_tiny_ones_kept(driver: Driver) {
    let (db, mut client) = database(driver);
    let month = Duration::from_secs(30 * 24 * 3600);
    match client.run(BUSY.runner().statement_timeout(month)) {
        Err(Error::InvalidOption { option, .. }) => assert_eq!(option, "statement_timeout"),
        other => panic!("expected the option refused, got {other:?}"),
    }
    match client.run(BUSY.runner().lock_timeout(month)) {
        Err(Error::InvalidOption { option, .. }) => assert_eq!(option, "lock_timeout"),
        other => panic!("expected the option refused, got {other:?}"),
    }
    assert!(
        !common::table_exists(&mut client, "public.stowage_migrations"),
        "nothing ran"
    );
    client.run(BUSY.runner().target(1)).unwrap();
    let err = migration_error(run_while_busy(
        &mut client,
        &db,
        BUSY.runner().lock_timeout(Duration::from_micros(500)),
    ));
    assert_eq!(err.code(), Some("55P03"), "a 1 ms lock_timeout, not none");
    assert_eq!(advisory_locks(&mut client), 0);
    assert!(answers_outside_a_transaction(&db, &mut client));
}

both_drivers!(
    timeouts_postgres_cannot_take_are_refused_and_tiny_ones_kept,
    a_run_lock_timeout_makes_a_blocked_migration_fail_fast,
    a_migration_directive_sets_its_own_lock_timeout,
    a_statement_timeout_cancels_a_statement_that_runs_too_long,
    a_no_transaction_migration_gets_its_timeouts_and_the_session_gets_its_own_back,
);
