//! Shared by the integration tests: a database of its own for each test, on
//! the server of `DATABASE_URL` or on a throwaway one.

#![allow(dead_code)]

use postgres::Client;
use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use stowage::testing::{TestDatabase, TestServer};

/// A fresh, empty database and a connection to it.
pub fn database() -> (TestDatabase<'static>, Client) {
    let server = TestServer::shared().unwrap_or_else(|e| panic!("no test server: {e}"));
    let db = server.create_database().unwrap_or_else(|e| panic!("{e}"));
    let client = db.connect().unwrap_or_else(|e| panic!("{e}"));
    (db, client)
}

/// The test server's version as `server_version_num` gives it, such as
/// 150004 for 15.4; read once per test process.
pub fn server_version() -> i32 {
    static VERSION: OnceLock<i32> = OnceLock::new();
    *VERSION.get_or_init(|| {
        let (_db, mut client) = database();
        client
            .query_one("SELECT current_setting('server_version_num')::int", &[])
            .map(|r| r.get(0))
            .unwrap_or_else(|e| panic!("reading the server's version: {e}"))
    })
}

/// Whether the server is PostgreSQL `major` or newer. If it is older, says
/// so on the standard error, naming `what` is not tested (written to the
/// stream itself, not through `eprintln!`, so the test harness shows it).
pub fn server_is_at_least(major: i32, what: &str) -> bool {
    let version = server_version();
    if version >= major * 10_000 {
        return true;
    }
    let _ = writeln!(
        std::io::stderr(),
        "note: skipped on PostgreSQL {}: {what} (needs PostgreSQL {major} or newer)",
        version / 10_000
    );
    false
}

/// A row of a tracking table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub success: bool,
    pub error: Option<String>,
}

/// Every row of `table` (a qualified, quoted name), in version order.
pub fn tracked(client: &mut Client, table: &str) -> Vec<Tracked> {
    client
        .query(
            &format!(
                "SELECT version, name, checksum, success, error FROM {table} ORDER BY version"
            ),
            &[],
        )
        .unwrap_or_else(|e| panic!("reading {table}: {e}"))
        .iter()
        .map(|r| Tracked {
            version: r.get(0),
            name: r.get(1),
            checksum: r.get(2),
            success: r.get(3),
            error: r.get(4),
        })
        .collect()
}

/// The versions of the successful rows of the default tracking table.
pub fn applied_versions(client: &mut Client) -> Vec<i64> {
    tracked(client, "public.stowage_migrations")
        .into_iter()
        .filter(|t| t.success)
        .map(|t| t.version)
        .collect()
}

/// Whether `name` (e.g. `public.a`) names an existing table.
pub fn table_exists(client: &mut Client, name: &str) -> bool {
    client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
        .map(|r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// How many advisory locks are held in the database right now.
pub fn advisory_locks(client: &mut Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .map(|r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The versions a run applied.
pub fn versions(report: &stowage::Report) -> Vec<i64> {
    report.applied().iter().map(|a| a.version()).collect()
}

/// Waits, by watching the server, until some session of this database is
/// blocked on a lock; returns its process id.
pub fn wait_for_blocked_session(client: &mut postgres::Client) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let row = client
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' LIMIT 1",
                &[],
            )
            .unwrap();
        if let Some(row) = row {
            return row.get(0);
        }
        assert!(Instant::now() < deadline, "no session blocked on the gate");
    }
}

/// The migration error a run ended with; panics if it ended otherwise.
pub fn migration_error(
    result: Result<stowage::Report, stowage::Error>,
) -> Box<stowage::MigrationError> {
    match result {
        Err(stowage::Error::Migration(e)) => e,
        other => panic!("expected a migration error, got {other:?}"),
    }
}

/// Runs `migrations` on `db` in a thread that takes the migration lock and
/// then blocks in its last migration, which reads the table `gate` while
/// this function holds it locked. Meanwhile calls `during` with a new
/// connection and the blocked session's process id; then opens the gate
/// and returns the blocked run's result.
pub fn while_a_run_holds_the_lock(
    db: &TestDatabase<'_>,
    migrations: &'static stowage::Migrations,
    during: impl FnOnce(&mut Client, i32),
) -> Result<stowage::Report, stowage::Error> {
    let mut gatekeeper = db.connect().unwrap_or_else(|e| panic!("{e}"));
    gatekeeper
        .batch_execute("CREATE TABLE IF NOT EXISTS gate (id int)")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut gate = gatekeeper.transaction().unwrap_or_else(|e| panic!("{e}"));
    gate.batch_execute("LOCK TABLE gate IN ACCESS EXCLUSIVE MODE")
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::scope(|s| {
        let mut holder_client = db.connect().unwrap_or_else(|e| panic!("{e}"));
        let holder = s.spawn(move || migrations.run(&mut holder_client));
        let mut watcher = db.connect().unwrap_or_else(|e| panic!("{e}"));
        let holder_pid = wait_for_blocked_session(&mut watcher);
        during(&mut watcher, holder_pid);
        gate.commit().unwrap_or_else(|e| panic!("{e}"));
        holder
            .join()
            .unwrap_or_else(|_| panic!("the holding run panicked"))
    })
}
