//! A batch cut off: the fifty small transactional migrations of
//! `tests/fixtures/reliability_batch` (migration k creates table `tk`,
//! zero-padded, and inserts its one row) travel in one message, each as
//! `BEGIN`, its SQL, its tracking row and `COMMIT`.
//!
//! The server runs the message in order. A gate holds migration k at its
//! first statement (a transaction that created a table of the same name
//! and has not committed): while it holds, migrations 1 to k − 1 are
//! committed with their rows and nothing of k on is, whatever happened to
//! the client. Then the connection is cut (through the suite's proxy, as a
//! network fault cuts it) or the process killed with SIGKILL, at k = 1, the
//! first of the batch, at k = 50, its last, and between; and a connection
//! is cut right after the message went out, before any reply came back.
//! Once the gate opens, the server goes on with the message it had until
//! it notices that its client is gone, when it next writes to it: how far
//! it gets, the server decides, so the test asks only that the tracking
//! table is true and that the batch stopped somewhere from k on. Each time:
//!
//! - the tracking table agrees with the schema: every migration recorded
//!   as applied is there whole (its table and its row), none is there in
//!   part, and nothing is there that is not recorded;
//! - no migration lock is left once the server has ended the session;
//! - a run whose connection was cut ends in an error, never a success, that
//!   names every migration of the batch as in flight (its outcome unknown
//!   to it);
//! - a run after it applies the rest, and the one after that nothing.

use crate::child::{self, Instance, Outcome, Set};
use crate::common::{self, Conn, Driver};
use crate::gate::Gate;
use crate::proxy::Proxy;
use crate::{assert_no_lock, database_with, watch, Db, TRACKING};
use postgres::Config;
use std::time::Duration;

pub static BATCH: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/reliability_batch");

/// The newest migration, and the last of the one batch a run from an empty
/// database sends.
const LAST: i64 = 50;

/// Migration `version`'s table.
fn table(version: i64) -> String {
    format!("t{version:02}")
}

/// A gate that holds migration `version` at its first statement: a
/// transaction that created its table and has not committed. Rolled back,
/// it lets the migration go on.
fn holding(config: &Config, version: i64) -> Gate {
    Gate::creating(
        config,
        &format!("CREATE TABLE public.{} (id integer)", table(version)),
    )
}

/// Reads the tracking table, checks that the schema holds exactly what it
/// says (every migration recorded as applied there whole, nothing else),
/// and returns the newest version applied. Reads only what migrations
/// that committed made, so a gate holding a later one does not stop it.
pub fn check(client: &mut Conn) -> i64 {
    let rows = if common::table_exists(client, TRACKING) {
        common::tracked(client, TRACKING)
    } else {
        Vec::new()
    };
    for (row, version) in rows.iter().zip(1..) {
        let migration = BATCH.get(version).unwrap();
        assert!(
            row.version == version && row.success && row.checksum == migration.up().checksum(),
            "the tracking table does not hold migrations 1 to n, applied: {rows:#?}"
        );
    }
    let applied = i64::try_from(rows.len()).unwrap();
    let tables: Vec<String> = client
        .query(
            "SELECT relname::text FROM pg_class \
             WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' \
             AND NOT starts_with(relname, 'stowage_') ORDER BY relname",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        tables,
        (1..=applied).map(table).collect::<Vec<_>>(),
        "the tables are not those of migrations 1 to {applied}, which the tracking table records"
    );
    for version in 1..=applied {
        let held: Vec<(i32, String)> = client
            .query(&format!("SELECT id, note FROM {}", table(version)), &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(
            held,
            [(
                i32::try_from(version).unwrap(),
                format!("migration {version}")
            )],
            "the row of migration {version}"
        );
    }
    applied
}

/// Checks that the batch, held at migration `version` (or, for 1, not
/// begun), stopped from there on: returns where the database stands.
fn stopped_from(client: &mut Conn, version: i64) -> i64 {
    let applied = check(client);
    assert!(
        (version - 1..=LAST).contains(&applied),
        "the batch was held at migration {version}, yet {applied} is the newest applied"
    );
    applied
}

/// The run after the cut: it applies the migrations after `applied`, through
/// the test's driver, leaving all fifty applied and no lock; the run after
/// it has nothing to do.
fn completes(db: &Db<'_>, client: &mut Conn, applied: i64) {
    let mut operator = db.conn();
    let report = operator
        .run(BATCH.runner().lock_wait_timeout(Duration::from_secs(60)))
        .unwrap_or_else(|e| panic!("the run after the cut failed: {e}"));
    assert_eq!(
        common::versions(&report),
        (applied + 1..=LAST).collect::<Vec<_>>()
    );
    assert_eq!(check(client), LAST);
    assert!(operator.run(BATCH.runner()).unwrap().is_empty());
    assert_no_lock(client);
}

/// Checks that the child whose connection was cut during the batch ended
/// in the error of a lost batch, naming every migration of it in flight.
fn lost_in_flight(outcome: &Outcome) {
    assert!(
        !outcome.status.success(),
        "a run cut off in its batch succeeded: {}",
        outcome.describe()
    );
    let json = outcome
        .error_json()
        .unwrap_or_else(|| panic!("no error reported: {}", outcome.describe()));
    let in_flight: Vec<i64> = (1..=LAST).collect();
    assert_eq!(json["kind"], "migration", "{json}");
    assert_eq!(json["version"], 1, "{json}");
    assert_eq!(json["stage"]["stage"], "commit", "{json}");
    assert_eq!(json["in_flight"], serde_json::json!(in_flight), "{json}");
    assert_eq!(json["applied_before"], serde_json::json!([]), "{json}");
    let message = outcome.error().unwrap_or_default();
    assert!(
        message.contains("connection was lost") && message.contains("1, 2, 3,"),
        "{message}"
    );
}

/// Where a connection is cut in the batch.
#[derive(Debug, Clone, Copy)]
enum Cut {
    /// While a gate holds this migration at its first statement.
    HeldAt(i64),
    /// Right after the message went out, before any reply.
    Sent,
}

fn cut(driver: Driver, at: Cut) {
    let (db, mut client) = database_with(Set::Batch, 0, driver);
    let Some(proxy) = Proxy::start(db.config()) else {
        eprintln!("skipped: the proxy needs a server reached through a Unix socket");
        return;
    };
    let through = proxy.config(db.config());
    let start = || Instance::start(&through, driver, Set::Batch, "migrator", "run", false);
    let (outcome, from) = match at {
        Cut::HeldAt(version) => {
            let gate = holding(db.config(), version);
            let mut migrator = start();
            let pid = watch::blocked_in(&mut client, &mut migrator, &gate, version);
            assert_eq!(check(&mut client), version - 1);
            proxy.cut();
            let outcome = migrator.finish(child::FINISH_WITHIN);
            // The session is still held: nothing of the batch passed.
            assert_eq!(check(&mut client), version - 1);
            gate.roll_back();
            watch::gone(&mut client, pid);
            (outcome, version)
        }
        Cut::Sent => {
            proxy.cut_once_sent(&format!("CREATE TABLE {} ", table(1)));
            let outcome = start().finish(child::FINISH_WITHIN);
            watch::all_gone(&mut client, "migrator");
            (outcome, 1)
        }
    };
    assert_no_lock(&mut client);
    lost_in_flight(&outcome);
    let applied = stopped_from(&mut client, from);
    completes(&db, &mut client, applied);
}

/// Kills a run held at migration `version`; with `end_it`, the operator
/// ends the dead process's session before the gate opens.
fn killed(driver: Driver, version: i64, end_it: bool) {
    let (db, mut client) = database_with(Set::Batch, 0, driver);
    let gate = holding(db.config(), version);
    let mut migrator = db.start("migrator", "run");
    let pid = watch::blocked_in(&mut client, &mut migrator, &gate, version);
    assert_eq!(check(&mut client), version - 1);
    migrator.kill();
    assert_eq!(check(&mut client), version - 1);
    if end_it {
        client
            .execute("SELECT pg_terminate_backend($1)", &[&pid])
            .unwrap();
        watch::gone(&mut client, pid);
        gate.roll_back();
    } else {
        gate.roll_back();
        watch::gone(&mut client, pid);
    }
    assert_no_lock(&mut client);
    let applied = stopped_from(&mut client, version);
    if end_it {
        // Ended while held: the batch stopped there.
        assert_eq!(applied, version - 1);
    }
    completes(&db, &mut client, applied);
}

/// The server ends the session of a live run held at migration 25 (an
/// operator's `pg_terminate_backend`, a server shutting down): the run ends
/// in the fatal error (or, when the socket closes before the message is
/// read, in the closed connection), with every migration of the batch in flight, since
/// what the batch committed cannot be read back on a closed session; the
/// tracking table is true, the lock free, and a run completes.
fn the_server_ending_the_session_in_a_batch_is_an_error(driver: Driver) {
    let (db, mut client) = database_with(Set::Batch, 0, driver);
    let gate = holding(db.config(), 25);
    let mut migrator = db.start("migrator", "run");
    let pid = watch::blocked_in(&mut client, &mut migrator, &gate, 25);
    client
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    watch::gone(&mut client, pid);
    let outcome = migrator.finish(child::FINISH_WITHIN);
    gate.roll_back();
    assert!(
        !outcome.status.success(),
        "a run whose session the server ended succeeded: {}",
        outcome.describe()
    );
    let json = outcome
        .error_json()
        .unwrap_or_else(|| panic!("no error reported: {}", outcome.describe()));
    assert_eq!(json["kind"], "migration", "{json}");
    // The server sends its FATAL message (57P01) and closes; when the
    // close overtakes the message on the socket, the driver can only say
    // that the connection closed. Either way the run names the end of the
    // session.
    let said_why = json["code"] == "57P01"
        || (json["code"].is_null() && json["server_error"] == "connection closed");
    assert!(said_why, "the error does not say the session ended: {json}");
    let in_flight: Vec<i64> = (1..=LAST).collect();
    assert_eq!(json["in_flight"], serde_json::json!(in_flight), "{json}");
    assert_no_lock(&mut client);
    assert_eq!(check(&mut client), 24);
    completes(&db, &mut client, 24);
}

fn a_connection_cut_in_a_batch_leaves_the_tracking_table_true(driver: Driver) {
    for at in [
        Cut::HeldAt(1),
        Cut::HeldAt(2),
        Cut::HeldAt(25),
        Cut::HeldAt(LAST),
        Cut::Sent,
    ] {
        cut(driver, at);
    }
}

fn a_process_killed_in_a_batch_leaves_the_tracking_table_true(driver: Driver) {
    for version in [1, 25, LAST] {
        killed(driver, version, false);
    }
    killed(driver, 25, true);
}

crate::both_drivers!(
    a_connection_cut_in_a_batch_leaves_the_tracking_table_true,
    the_server_ending_the_session_in_a_batch_is_an_error,
    a_process_killed_in_a_batch_leaves_the_tracking_table_true,
);
