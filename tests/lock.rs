//! Many processes migrating one database at once: the advisory lock lets one
//! apply each migration exactly once, and the others wait or give up cleanly.

mod common;

use common::{
    advisory_locks, applied_versions, connect, database, runtime, tracked, versions, wait_until,
    Conn, Driver,
};
use std::sync::Barrier;
use std::time::Duration;
use stowage::Error;

static EXAMPLE: stowage::Migrations = stowage::embed_migrations!();
static BASE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/base");
static GATE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/gate");

fn eight_instances_started_together_apply_each_migration_exactly_once(driver: Driver) {
    let (db, mut client) = database(driver);
    let instances = 8;
    let barrier = Barrier::new(instances);
    let reports: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..instances)
            .map(|_| {
                let mut own = connect(&db, driver);
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    own.run(EXAMPLE.runner())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut applied: Vec<i64> = Vec::new();
    let mut repeatables: Vec<String> = Vec::new();
    for report in reports {
        let report = report.unwrap_or_else(|e| panic!("an instance failed: {e}"));
        applied.extend(versions(&report));
        repeatables.extend(report.repeatables().iter().map(|r| r.name().to_owned()));
    }
    applied.sort_unstable();
    let all: Vec<i64> = EXAMPLE.iter().map(|m| m.version()).collect();
    assert_eq!(
        applied, all,
        "each migration applied by exactly one instance"
    );
    // The repeatable migrations too, by one of them.
    repeatables.sort_unstable();
    assert_eq!(repeatables, ["account_summary", "user_label"]);
    assert_eq!(
        tracked(&mut client, "public.stowage_migrations").len(),
        all.len() + repeatables.len()
    );
    assert_eq!(advisory_locks(&mut client), 0);
}

fn a_waiting_instance_gives_up_after_its_timeout_naming_the_holder(driver: Driver) {
    let (db, mut client) = database(driver);
    // The holder applies 1 to 3 and blocks in 4, holding the lock.
    let report =
        common::while_a_run_holds_the_lock(&db, driver, GATE.runner(), |waiter, holder_pid| {
            match waiter.run(GATE.runner().lock_wait_timeout(Duration::from_millis(200))) {
                Err(Error::LockTimeout { holder, waited, .. }) => {
                    assert_eq!(holder, Some(holder_pid));
                    assert!(waited >= Duration::from_millis(200));
                }
                other => panic!("expected a lock timeout, got {other:?}"),
            }
            // A binary with nothing to do decides so without the lock.
            let nothing = waiter
                .run(BASE.runner().lock_wait_timeout(Duration::ZERO))
                .unwrap();
            assert!(nothing.is_empty());
        });
    assert_eq!(versions(&report.unwrap()), [1, 2, 3, 4]);
    assert_eq!(applied_versions(&mut client), [1, 2, 3, 4]);
    assert_eq!(advisory_locks(&mut client), 0);
}

static CONCURRENT_INDEX_BASE: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/concurrent_index_base");
static CONCURRENT_INDEX: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/concurrent_index");

/// Waits, by watching the server, until `count` sessions other than the
/// watcher's have asked for the migration lock.
fn wait_for_pollers(client: &mut Conn, count: i64) {
    wait_until("the waiting instances to poll for the lock", || {
        let polled: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND query LIKE '%advisory_lock(%'",
                &[],
            )
            .unwrap()
            .get(0);
        (polled >= count).then_some(())
    });
}

/// `CREATE INDEX CONCURRENTLY` waits for every transaction that started
/// before it. An instance waiting for the migration lock in a blocking call
/// would be such a transaction, and the two would deadlock; instances that
/// poll must let it finish.
fn instances_waiting_for_the_lock_do_not_block_a_concurrent_index_build(driver: Driver) {
    let (db, mut gatekeeper) = database(driver);
    gatekeeper.run(CONCURRENT_INDEX_BASE.runner()).unwrap();
    // An open transaction that wrote to the table: the index build waits for it.
    let mut writer_session = db.connect().unwrap();
    let mut writer = writer_session.transaction().unwrap();
    writer
        .batch_execute("INSERT INTO big VALUES (1, 1)")
        .unwrap();

    let waiters = 4;
    let reports = std::thread::scope(|s| {
        let mut holder_client = connect(&db, driver);
        // Should the build deadlock after all, fail instead of hanging.
        holder_client
            .batch_execute("SET statement_timeout = '60s'")
            .unwrap();
        let holder = s.spawn(move || holder_client.run(CONCURRENT_INDEX.runner()));
        let mut watcher = connect(&db, driver);
        common::wait_for_blocked_session(&mut watcher);

        let handles: Vec<_> = (0..waiters)
            .map(|_| {
                let mut own = connect(&db, driver);
                s.spawn(move || {
                    own.run(
                        CONCURRENT_INDEX
                            .runner()
                            .lock_wait_timeout(Duration::from_secs(120)),
                    )
                })
            })
            .collect();
        wait_for_pollers(&mut watcher, waiters);
        writer.commit().unwrap();

        let mut reports = vec![holder.join().unwrap()];
        reports.extend(handles.into_iter().map(|h| h.join().unwrap()));
        reports
    });
    let applied: Vec<i64> = reports
        .into_iter()
        .flat_map(|r| versions(&r.unwrap_or_else(|e| panic!("an instance failed: {e}"))))
        .collect();
    assert_eq!(applied, [2]);
    let valid: bool = gatekeeper
        .query_one(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_v_idx'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(valid);
    assert_eq!(advisory_locks(&mut gatekeeper), 0);
}

/// Tasks on one tokio runtime, racing over connections of their own: each
/// migration is applied once, and waiting for the lock holds up no thread.
#[test]
fn eight_tasks_on_one_runtime_apply_each_migration_exactly_once() {
    if !Driver::Async.is_enabled() {
        return;
    }
    let (db, mut client) = database(Driver::Async);
    let reports = runtime().block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let mut own = db.connect_async().await.unwrap();
            tasks.push(tokio::spawn(
                async move { EXAMPLE.run_async(&mut own).await },
            ));
        }
        let mut reports = Vec::new();
        for task in tasks {
            reports.push(task.await.unwrap());
        }
        reports
    });
    let mut applied: Vec<i64> = reports
        .into_iter()
        .flat_map(|r| versions(&r.unwrap_or_else(|e| panic!("a task failed: {e}"))))
        .collect();
    applied.sort_unstable();
    let all: Vec<i64> = EXAMPLE.iter().map(|m| m.version()).collect();
    assert_eq!(applied, all);
    assert_eq!(applied_versions(&mut client), all);
    assert_eq!(advisory_locks(&mut client), 0);
}

static LOCK_RELEASED: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/lock_released");
static LOCK_RELEASED_NO_TRANSACTION: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/lock_released_no_transaction");
static LOCK_STOLEN: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/lock_stolen");
static LOCK_THIEF: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/lock_thief");

fn lock_lost(result: Result<stowage::Report, Error>) -> (String, Option<(i64, &'static str)>) {
    match result {
        Err(Error::LockLost { table, migration }) => (table, migration),
        other => panic!("expected the lock found lost, got {other:?}"),
    }
}

/// A migration that releases the run's lock (here inside a function body,
/// where the build cannot see it) is rolled back with its row: the write of
/// the row finds the lock gone and fails, so its transaction fails.
fn a_migration_that_releases_the_lock_is_rolled_back_and_the_run_stops(driver: Driver) {
    let (_db, mut client) = database(driver);
    let result = client.run(LOCK_RELEASED.runner());
    let message = match &result {
        Err(e) => e.to_string(),
        Ok(_) => String::new(),
    };
    let (table, migration) = lock_lost(result);
    assert_eq!(table, r#""public"."stowage_migrations""#);
    assert_eq!(
        migration,
        Some((2, "tests/fixtures/lock_released/2_releases.sql"))
    );
    assert!(
        message.contains("the migration lock on \"public\".\"stowage_migrations\" was released during migration 2"),
        "{message}"
    );
    assert!(!common::table_exists(&mut client, "public.released"));
    assert_eq!(applied_versions(&mut client), [1]);
    assert_eq!(tracked(&mut client, "public.stowage_migrations").len(), 1);
    assert_eq!(advisory_locks(&mut client), 0);
}

/// In a no-transaction migration, the statement that released the lock
/// stays done, but the write of its progress fails: the row says how far
/// the migration got for sure, and the run stops.
fn a_no_transaction_statement_that_releases_the_lock_stops_the_run(driver: Driver) {
    let (_db, mut client) = database(driver);
    let (_, migration) = lock_lost(client.run(LOCK_RELEASED_NO_TRANSACTION.runner()));
    assert_eq!(migration.map(|(v, _)| v), Some(1));
    assert!(common::table_exists(&mut client, "public.before_release"));
    assert!(!common::table_exists(&mut client, "public.after_release"));
    let row = client
        .query_one(
            "SELECT success, statements_done, statements_total FROM stowage_migrations WHERE version = 1",
            &[],
        )
        .unwrap();
    let (success, done, total): (bool, i32, i32) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((success, done, total), (false, 1, 3));
    assert_eq!(advisory_locks(&mut client), 0);
}

/// The race that lost a success record: a migration releases the lock and
/// then waits; another process takes the free lock and applies its own
/// migration 2. When the first goes on, its row may not be written over the
/// other's: its migration is rolled back, and the other's row stays.
fn another_process_that_takes_a_released_lock_keeps_its_record(driver: Driver) {
    let (db, mut client) = database(driver);
    let mut gatekeeper = db.connect().unwrap();
    gatekeeper
        .batch_execute("CREATE TABLE gate (id int)")
        .unwrap();
    let mut gate = gatekeeper.transaction().unwrap();
    gate.batch_execute("LOCK TABLE gate IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let (first, second) = std::thread::scope(|s| {
        let mut first_client = connect(&db, driver);
        let first = s.spawn(move || first_client.run(LOCK_STOLEN.runner()));
        let mut watcher = connect(&db, driver);
        common::wait_for_blocked_session(&mut watcher);
        // The lock is free: the other process applies its migration 2.
        let second = watcher.run(LOCK_THIEF.runner());
        gate.commit().unwrap();
        (first.join().unwrap(), second)
    });
    assert_eq!(versions(&second.unwrap()), [2]);
    let (_, migration) = lock_lost(first);
    assert_eq!(migration.map(|(v, _)| v), Some(2));
    let rows = tracked(&mut client, "public.stowage_migrations");
    assert_eq!(rows.len(), 2);
    assert!(rows[1].success, "{rows:?}");
    assert_eq!(rows[1].checksum, LOCK_THIEF.get(2).unwrap().up().checksum());
    assert!(!common::table_exists(&mut client, "public.stolen"));
    assert!(common::table_exists(&mut client, "public.thief"));
    assert_eq!(advisory_locks(&mut client), 0);
}

both_drivers!(
    a_migration_that_releases_the_lock_is_rolled_back_and_the_run_stops,
    a_no_transaction_statement_that_releases_the_lock_stops_the_run,
    another_process_that_takes_a_released_lock_keeps_its_record,
    eight_instances_started_together_apply_each_migration_exactly_once,
    a_waiting_instance_gives_up_after_its_timeout_naming_the_holder,
    instances_waiting_for_the_lock_do_not_block_a_concurrent_index_build,
);
