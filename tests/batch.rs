//! Transactional migrations travel in batches, one message for many, each
//! in its own transaction with its row: a failure stops the run at that
//! migration, everything before it committed and recorded, nothing after it
//! run, the failure recorded with its place in the file.

mod common;

use common::{advisory_locks, applied_versions, database, table_exists, tracked, versions, Driver};
use stowage::{LineColumn, Stage};

static FAILING: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/batch_failing");
static NO_TRANSACTION: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/batch_no_transaction");

/// Runs `migrations`, whose migration 150 of 200 fails, and checks what a
/// user would: 1 to 149 applied and recorded, 150 recorded as failed at its
/// place in its file, nothing of 151 on, the lock free.
fn stops_at_150(driver: Driver, migrations: &'static stowage::Migrations, folder: &str) {
    let (db, mut client) = database(driver);
    let err = common::migration_error(client.run(migrations.runner()));
    assert_eq!(err.version(), 150);
    assert_eq!(
        err.path(),
        format!("tests/fixtures/{folder}/150_step_150.sql")
    );
    assert_eq!(err.code(), Some("42703"), "{err}");
    assert_eq!(*err.stage(), Stage::Up);
    assert_eq!(
        err.position(),
        Some(LineColumn {
            line: 3,
            column: 23
        }),
        "{err}"
    );
    assert_eq!(
        err.applied_before()
            .iter()
            .map(|a| a.version())
            .collect::<Vec<_>>(),
        (1..150).collect::<Vec<_>>()
    );
    assert!(err.in_flight().is_empty());
    assert_eq!(applied_versions(&mut client), (1..150).collect::<Vec<_>>());
    let rows = tracked(&mut client, "public.stowage_migrations");
    let failed = rows.iter().find(|r| r.version == 150).unwrap();
    assert!(!failed.success);
    let error = failed.error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("ERROR 42703: column \"missing\" of relation \"t150\" does not exist (at line 3, column 23)"),
        "{error}"
    );
    assert!(table_exists(&mut client, "public.t149"));
    assert!(!table_exists(&mut client, "public.t150"), "rolled back");
    assert!(!table_exists(&mut client, "public.t151"), "never run");
    assert_eq!(advisory_locks(&mut client), 0);
    assert!(common::answers_outside_a_transaction(&db, &mut client));
    // Durations come from the server, for every migration applied.
    let ms: i64 = client
        .query_one(
            "SELECT count(*) FROM stowage_migrations WHERE success AND execution_ms >= 0",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(ms, 149);
}

fn a_failure_in_a_batch_stops_the_run_at_that_migration(driver: Driver) {
    stops_at_150(driver, &FAILING, "batch_failing");
}

fn a_no_transaction_migration_between_batches_runs_on_its_own(driver: Driver) {
    stops_at_150(driver, &NO_TRANSACTION, "batch_no_transaction");
    let (_db, mut client) = database(driver);
    let report = client.run(NO_TRANSACTION.runner().target(149)).unwrap();
    assert_eq!(versions(&report), (1..150).collect::<Vec<_>>());
    let valid: bool = client
        .query_one(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 't100_id'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(valid);
    // Each migration's duration is in the report, as the server measured it.
    assert_eq!(report.applied().len(), 149);
}

both_drivers!(
    a_failure_in_a_batch_stops_the_run_at_that_migration,
    a_no_transaction_migration_between_batches_runs_on_its_own,
);
