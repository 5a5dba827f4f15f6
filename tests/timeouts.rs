//! `lock_timeout` and `statement_timeout` per run and per migration: a
//! migration that waits on a lock another session holds fails fast, with a
//! clear error, instead of queueing that table's traffic behind it.

mod common;

use common::{applied_versions, database, migration_error, versions};
use postgres::Client;
use std::time::Duration;
use stowage::Error;

static BUSY: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/timeouts_busy");
static DIRECTIVE: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/timeouts_directive");
static STATEMENT: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/timeouts_statement");
static NO_TRANSACTION: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/timeouts_no_transaction");

fn setting(client: &mut Client, name: &str) -> String {
    client
        .query_one(&format!("SHOW {name}"), &[])
        .unwrap()
        .get(0)
}

/// Runs `migrations` while another session reads table `busy` in an open
/// transaction, as a long report would, and returns the run's result.
fn run_while_busy(
    client: &mut Client,
    db: &stowage::testing::TestDatabase<'_>,
    runner: stowage::Runner<'_>,
) -> Result<stowage::Report, Error> {
    let mut reader = db.connect().unwrap();
    let mut long_read = reader.transaction().unwrap();
    long_read.query("SELECT * FROM busy", &[]).unwrap();
    let result = runner.run(client);
    long_read.commit().unwrap();
    result
}

#[test]
fn a_run_lock_timeout_makes_a_blocked_migration_fail_fast() {
    let (db, mut client) = database();
    BUSY.runner().target(1).run(&mut client).unwrap();
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
            &BUSY
                .runner()
                .lock_timeout(Duration::from_millis(100))
                .run(&mut client)
                .unwrap()
        ),
        [2]
    );
}

#[test]
fn a_migration_directive_sets_its_own_lock_timeout() {
    let (db, mut client) = database();
    DIRECTIVE.runner().target(1).run(&mut client).unwrap();
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
    assert_eq!(versions(&DIRECTIVE.run(&mut client).unwrap()), [2]);
}

#[test]
fn a_statement_timeout_cancels_a_statement_that_runs_too_long() {
    let (_db, mut client) = database();
    let err = migration_error(STATEMENT.run(&mut client));
    assert_eq!(err.code(), Some("57014"));
    assert!(
        err.to_string()
            .contains("ran longer than statement_timeout"),
        "{err}"
    );
    assert_eq!(setting(&mut client, "statement_timeout"), "0");
}

#[test]
fn a_no_transaction_migration_gets_its_timeouts_and_the_session_gets_its_own_back() {
    let (db, mut client) = database();
    client.batch_execute("SET lock_timeout = '42s'").unwrap();
    NO_TRANSACTION.runner().target(1).run(&mut client).unwrap();
    let err = migration_error(run_while_busy(&mut client, &db, NO_TRANSACTION.runner()));
    assert_eq!(err.code(), Some("55P03"));
    assert_eq!(err.statement().map(|s| (s.number, s.total)), Some((1, 2)));
    assert_eq!(
        setting(&mut client, "lock_timeout"),
        "42s",
        "the session's own setting is back"
    );
    let report = NO_TRANSACTION.runner().resume(&mut client).unwrap();
    assert_eq!(versions(&report), [2]);
    assert_eq!(setting(&mut client, "lock_timeout"), "42s");
}
