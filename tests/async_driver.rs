//! What only the async driver has: futures a program can spawn, clients
//! from a pool, and calls that are dropped before they end.

mod common;

use common::{answers_outside_a_transaction, applied_versions, runtime, Conn, Driver};
use deadpool_postgres::{Manager, Pool};
use std::time::Duration;

static BASE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/base");
static GATE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/gate");

fn assert_send<T: Send>(_: &T) {}

/// Every call's future is `Send`, so that a program can spawn it.
#[test]
fn every_call_can_be_spawned() {
    let (db, _) = common::database(Driver::Sync);
    runtime().block_on(async {
        let mut client = db.connect_async().await.unwrap();
        let runner = BASE.runner();
        assert_send(&BASE.run_async(&mut client));
        assert_send(&runner.run_async(&mut client));
        assert_send(&runner.resume_async(&mut client));
        assert_send(&runner.status_async(&mut client));
        assert_send(&runner.health_async(&mut client));
        assert_send(&runner.plan_async(&mut client));
        assert_send(&runner.verify_async(&mut client));
        assert_send(&runner.mark_applied_async(&mut client, 1));
        assert_send(&runner.forget_async(&mut client, 1));
        assert_send(&runner.repair_async(&mut client));
        assert_send(&runner.accept_checksum_async(&mut client, 1));
        assert_send(&runner.baseline_async(&mut client, 1));
        assert_send(&runner.rollback_to_async(&mut client, 1));
        assert_send(&runner.rollback_all_async(&mut client));
        let report = tokio::spawn(async move { BASE.run_async(&mut client).await })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(report.applied().len(), 3);
    });
}

/// A fleet's calls are `Send` too: a program can spawn a whole fleet's run.
#[test]
fn a_fleet_can_be_spawned() {
    let (db, mut client) = common::database(Driver::Sync);
    let fleet = stowage::Fleet::new().schemas(
        "app",
        db.async_config().clone(),
        stowage::Schemas::listed(["a", "b"]),
        BASE.runner(),
    );
    let connect = |config: &tokio_postgres::Config| {
        let config = config.clone();
        async move {
            let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            Ok(client)
        }
    };
    runtime().block_on(async {
        assert_send(&fleet.run_async(connect));
        assert_send(&fleet.status_async(connect));
        assert_send(&fleet.plan_async(connect));
        assert_send(&fleet.verify_async(connect));
        let report = tokio::spawn(async move { fleet.run_async(connect).await })
            .await
            .unwrap()
            .unwrap();
        assert!(report.is_ok(), "{report}");
    });
    for schema in ["a", "b"] {
        let table = format!("{schema}.stowage_migrations");
        assert_eq!(common::tracked(&mut client, &table).len(), 3, "{table}");
    }
}

/// A run over a pooled client that is dropped while a migration is under
/// way (a cancelled task, say) leaves the pooled connection as it found
/// it: no lock held, no transaction open, so the next user of the pool
/// gets a clean session; and the tracking table true: what the server had
/// been sent ran to its end, each migration with its row.
#[test]
fn a_run_dropped_mid_migration_leaves_the_pooled_connection_clean() {
    let (db, mut observer) = common::database(Driver::Sync);
    let mut gatekeeper = db.connect().unwrap();
    gatekeeper
        .batch_execute("CREATE TABLE gate (id int)")
        .unwrap();
    let mut gate = gatekeeper.transaction().unwrap();
    gate.batch_execute("LOCK TABLE gate IN ACCESS EXCLUSIVE MODE")
        .unwrap();

    let pool = Pool::builder(Manager::new(
        db.async_config().clone(),
        tokio_postgres::NoTls,
    ))
    .max_size(1)
    .runtime(deadpool_postgres::Runtime::Tokio1)
    .build()
    .unwrap();
    let task = {
        let pool = pool.clone();
        runtime().spawn(async move {
            let mut client = pool.get().await.unwrap();
            GATE.run_async(&mut client).await
        })
    };
    // Migration 4 waits for the gate, holding the lock in its transaction.
    let blocked = common::wait_for_blocked_session(&mut observer);
    task.abort();
    let cancelled = runtime().block_on(task);
    assert!(cancelled.unwrap_err().is_cancelled());
    gate.commit().unwrap();

    let (pid, locks, migrated): (i32, i64, i64) = runtime().block_on(async {
        let client = pool.get().await.unwrap();
        let row = client
            .query_one(
                "SELECT pg_backend_pid(), \
                 (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'), \
                 (SELECT count(*) FROM stowage_migrations)",
                &[],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1), row.get(2))
    });
    assert_eq!(pid, blocked, "the pool handed out the same connection");
    assert_eq!(locks, 0, "the migration lock was released");
    assert_eq!(migrated, 4, "the batch sent ran to its end");
    let state: String = observer
        .query_one("SELECT state FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .unwrap()
        .get(0);
    assert_eq!(state, "idle", "no transaction is left open");

    let report = runtime()
        .block_on(async {
            let mut client = pool.get().await.unwrap();
            GATE.run_async(&mut client).await
        })
        .unwrap();
    assert!(report.is_empty(), "{report}");
    assert_eq!(applied_versions(&mut observer), [1, 2, 3, 4]);
}

/// A run dropped while it waits for the lock another process holds leaves
/// nothing behind either.
#[test]
fn a_run_dropped_while_waiting_for_the_lock_leaves_nothing_held() {
    let (db, mut observer) = common::database(Driver::Sync);
    let mut waiter = common::connect(&db, Driver::Async);
    let report = common::while_a_run_holds_the_lock(&db, Driver::Sync, GATE.runner(), |_, _| {
        let Conn::Async(client) = &mut waiter else {
            unreachable!("an async connection")
        };
        let waited = runtime().block_on(async {
            tokio::time::timeout(Duration::from_millis(300), GATE.run_async(client)).await
        });
        assert!(waited.is_err(), "the waiting run was cut short");
    });
    assert_eq!(common::versions(&report.unwrap()), [1, 2, 3, 4]);
    assert!(answers_outside_a_transaction(&db, &mut waiter));
    assert_eq!(common::advisory_locks(&mut observer), 0);
    assert!(waiter.run(GATE.runner()).unwrap().is_empty());
}
