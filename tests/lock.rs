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
    for report in reports {
        applied.extend(versions(
            &report.unwrap_or_else(|e| panic!("an instance failed: {e}")),
        ));
    }
    applied.sort_unstable();
    let all: Vec<i64> = EXAMPLE.iter().map(|m| m.version()).collect();
    assert_eq!(
        applied, all,
        "each migration applied by exactly one instance"
    );
    assert_eq!(
        tracked(&mut client, "public.stowage_migrations").len(),
        all.len()
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

both_drivers!(
    eight_instances_started_together_apply_each_migration_exactly_once,
    a_waiting_instance_gives_up_after_its_timeout_naming_the_holder,
    instances_waiting_for_the_lock_do_not_block_a_concurrent_index_build,
);
