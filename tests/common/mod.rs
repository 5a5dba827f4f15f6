//! Shared by the integration tests: a database of its own for each test, on
//! the server of `DATABASE_URL` or on a throwaway one, and a connection to it
//! through either of stowage's drivers.
//!
//! Every test body that runs migrations takes a [`Driver`] and is run once
//! per driver by [`both_drivers!`]: the blocking `postgres::Client` and the
//! async `tokio_postgres::Client`, on one shared tokio runtime. A [`Conn`]
//! offers stowage's calls and the few SQL calls the tests make, whichever
//! driver is under it. `STOWAGE_TEST_DRIVERS=sync` (or `async`) runs the
//! bodies with one driver only.

#![allow(dead_code)]

use postgres::types::ToSql;
use postgres::Row;
use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use stowage::testing::{TestDatabase, TestServer};
use stowage::{Error, Health, Plan, Report, Runner, SchemaCheck, Status, Verification};

/// Which of stowage's drivers a test body runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// `postgres::Client`, the blocking calls.
    Sync,
    /// `tokio_postgres::Client`, the `_async` calls.
    Async,
}

impl Driver {
    /// Whether test bodies run over this driver in this test process.
    pub fn is_enabled(self) -> bool {
        match std::env::var("STOWAGE_TEST_DRIVERS").as_deref() {
            Ok("sync") => self == Driver::Sync,
            Ok("async") => self == Driver::Async,
            _ => true,
        }
    }

    /// The name the child processes of the reliability suite take.
    pub fn name(self) -> &'static str {
        match self {
            Driver::Sync => "sync",
            Driver::Async => "async",
        }
    }
}

/// Defines, for each test body `name(driver: Driver)` listed, a test
/// `sync_driver::name` and a test `async_driver::name`.
#[macro_export]
macro_rules! both_drivers {
    ($($name:ident),* $(,)?) => {
        mod sync_driver {
            $(
                #[test]
                fn $name() {
                    if $crate::common::Driver::Sync.is_enabled() {
                        super::$name($crate::common::Driver::Sync)
                    }
                }
            )*
        }
        mod async_driver {
            $(
                #[test]
                fn $name() {
                    if $crate::common::Driver::Async.is_enabled() {
                        super::$name($crate::common::Driver::Async)
                    }
                }
            )*
        }
    };
}

/// The tokio runtime every async connection of a test process lives on.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start a tokio runtime: {e}"))
    })
}

/// A connection to a test database over one of stowage's drivers.
pub enum Conn {
    Sync(postgres::Client),
    Async(tokio_postgres::Client),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Sync(_) => "Conn::Sync",
            Conn::Async(_) => "Conn::Async",
        })
    }
}

/// Forwards a stowage call to the driver under a [`Conn`].
macro_rules! call {
    ($conn:expr, $runner:expr, $sync:ident, $async:ident $(, $arg:expr)*) => {
        match $conn {
            Conn::Sync(client) => $runner.$sync(client $(, $arg)*),
            Conn::Async(client) => runtime().block_on($runner.$async(client $(, $arg)*)),
        }
    };
}

/// Forwards an SQL call to the client under a [`Conn`].
macro_rules! sql {
    ($conn:expr, $method:ident $(, $arg:expr)*) => {
        match $conn {
            Conn::Sync(client) => client.$method($($arg),*),
            Conn::Async(client) => runtime().block_on(client.$method($($arg),*)),
        }
    };
}

impl Conn {
    pub fn driver(&self) -> Driver {
        match self {
            Conn::Sync(_) => Driver::Sync,
            Conn::Async(_) => Driver::Async,
        }
    }

    pub fn run(&mut self, runner: Runner) -> Result<Report, Error> {
        call!(self, runner, run, run_async)
    }
    pub fn resume(&mut self, runner: Runner) -> Result<Report, Error> {
        call!(self, runner, resume, resume_async)
    }
    pub fn status(&mut self, runner: Runner) -> Result<Status, Error> {
        call!(self, runner, status, status_async)
    }
    pub fn health(&mut self, runner: Runner) -> Result<Health, Error> {
        call!(self, runner, health, health_async)
    }
    pub fn plan(&mut self, runner: Runner) -> Result<Plan, Error> {
        call!(self, runner, plan, plan_async)
    }
    pub fn verify(&mut self, runner: Runner) -> Result<Verification, Error> {
        call!(self, runner, verify, verify_async)
    }
    pub fn check_schema(&mut self, runner: Runner) -> Result<SchemaCheck, Error> {
        call!(self, runner, check_schema, check_schema_async)
    }
    pub fn mark_applied(&mut self, runner: Runner, version: i64) -> Result<bool, Error> {
        call!(self, runner, mark_applied, mark_applied_async, version)
    }
    pub fn forget(&mut self, runner: Runner, version: i64) -> Result<(), Error> {
        call!(self, runner, forget, forget_async, version)
    }
    pub fn reapply(&mut self, runner: Runner, version: i64) -> Result<Report, Error> {
        call!(self, runner, reapply, reapply_async, version)
    }
    pub fn repair(&mut self, runner: Runner) -> Result<Vec<i64>, Error> {
        call!(self, runner, repair, repair_async)
    }
    pub fn accept_checksum(&mut self, runner: Runner, version: i64) -> Result<bool, Error> {
        call!(
            self,
            runner,
            accept_checksum,
            accept_checksum_async,
            version
        )
    }
    pub fn adopt(
        &mut self,
        runner: Runner,
        from: stowage::Adopt,
    ) -> Result<stowage::Adoption, Error> {
        call!(self, runner, adopt, adopt_async, from.clone())
    }
    pub fn baseline(&mut self, runner: Runner, version: i64) -> Result<Vec<i64>, Error> {
        call!(self, runner, baseline, baseline_async, version)
    }
    pub fn rollback_to(&mut self, runner: Runner, version: i64) -> Result<Report, Error> {
        call!(self, runner, rollback_to, rollback_to_async, version)
    }
    pub fn rollback_all(&mut self, runner: Runner) -> Result<Report, Error> {
        call!(self, runner, rollback_all, rollback_all_async)
    }

    pub fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        sql!(self, batch_execute, sql)
    }
    pub fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        sql!(self, query, sql, params)
    }
    pub fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error> {
        sql!(self, query_one, sql, params)
    }
    pub fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        sql!(self, query_opt, sql, params)
    }
    pub fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        sql!(self, execute, sql, params)
    }
    pub fn is_closed(&self) -> bool {
        match self {
            Conn::Sync(client) => client.is_closed(),
            Conn::Async(client) => client.is_closed(),
        }
    }
}

/// A new connection to `db` over `driver`.
pub fn connect(db: &TestDatabase<'_>, driver: Driver) -> Conn {
    match driver {
        Driver::Sync => Conn::Sync(db.connect().unwrap_or_else(|e| panic!("{e}"))),
        Driver::Async => Conn::Async(
            runtime()
                .block_on(db.connect_async())
                .unwrap_or_else(|e| panic!("{e}")),
        ),
    }
}

/// A fresh, empty database and a connection to it over `driver`.
pub fn database(driver: Driver) -> (TestDatabase<'static>, Conn) {
    let server = TestServer::shared().unwrap_or_else(|e| panic!("no test server: {e}"));
    let db = server.create_database().unwrap_or_else(|e| panic!("{e}"));
    let conn = connect(&db, driver);
    (db, conn)
}

/// The test server's version as `server_version_num` gives it, such as
/// 150004 for 15.4; read once per test process.
pub fn server_version() -> i32 {
    static VERSION: OnceLock<i32> = OnceLock::new();
    *VERSION.get_or_init(|| {
        let (_db, mut client) = database(Driver::Sync);
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
pub fn tracked(client: &mut Conn, table: &str) -> Vec<Tracked> {
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

/// The versions of the successful rows of versioned migrations in the
/// default tracking table (repeatable migrations' rows have negative
/// versions).
pub fn applied_versions(client: &mut Conn) -> Vec<i64> {
    tracked(client, "public.stowage_migrations")
        .into_iter()
        .filter(|t| t.success && t.version >= 0)
        .map(|t| t.version)
        .collect()
}

/// Whether `name` (e.g. `public.a`) names an existing table.
pub fn table_exists(client: &mut Conn, name: &str) -> bool {
    client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
        .map(|r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The query that counts the advisory locks held in the database now.
pub const ADVISORY_LOCKS: &str =
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

/// How many advisory locks are held in the database right now.
pub fn advisory_locks(client: &mut Conn) -> i64 {
    client
        .query_one(ADVISORY_LOCKS, &[])
        .map(|r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Whether the session under `client` answers, and is outside any
/// transaction, as another session of `db` sees it in `pg_stat_activity`.
pub fn answers_outside_a_transaction(db: &TestDatabase<'_>, client: &mut Conn) -> bool {
    let Ok(row) = client.query_one("SELECT pg_backend_pid()", &[]) else {
        return false;
    };
    let pid: i32 = row.get(0);
    let mut observer = db.connect().unwrap_or_else(|e| panic!("{e}"));
    let state: Option<String> = observer
        .query_one("SELECT state FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .unwrap_or_else(|e| panic!("{e}"))
        .get(0);
    state.as_deref() == Some("idle")
}

/// The versions a run applied.
pub fn versions(report: &Report) -> Vec<i64> {
    report.applied().iter().map(|a| a.version()).collect()
}

/// Polls `check` every 10 ms until it gives a value, for at most a minute;
/// panics naming `what` it waited for.
pub fn wait_until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "waited a minute for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits, by watching the server, until some session of this database is
/// blocked on a lock; returns its process id.
pub fn wait_for_blocked_session(client: &mut Conn) -> i32 {
    wait_until("a session blocked on a lock", || {
        client
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' LIMIT 1",
                &[],
            )
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|row| row.get(0))
    })
}

/// The migration error a call ended with; panics if it ended otherwise.
pub fn migration_error<T: std::fmt::Debug>(
    result: Result<T, Error>,
) -> Box<stowage::MigrationError> {
    match result {
        Err(Error::Migration(e)) => e,
        other => panic!("expected a migration error, got {other:?}"),
    }
}

/// Runs `runner` on `db` over `driver` in a thread that takes the migration
/// lock and then blocks in its last migration, which reads the table `gate`
/// while this function holds it locked. Meanwhile calls `during` with a
/// new connection over the same driver and the blocked session's process
/// id; then opens the gate and returns the blocked run's result.
pub fn while_a_run_holds_the_lock(
    db: &TestDatabase<'_>,
    driver: Driver,
    runner: Runner,
    during: impl FnOnce(&mut Conn, i32),
) -> Result<Report, Error> {
    let mut gatekeeper = db.connect().unwrap_or_else(|e| panic!("{e}"));
    gatekeeper
        .batch_execute("CREATE TABLE IF NOT EXISTS gate (id int)")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut gate = gatekeeper.transaction().unwrap_or_else(|e| panic!("{e}"));
    gate.batch_execute("LOCK TABLE gate IN ACCESS EXCLUSIVE MODE")
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::scope(|s| {
        let mut holder_client = connect(db, driver);
        let holder = s.spawn(move || holder_client.run(runner));
        let mut watcher = connect(db, driver);
        let holder_pid = wait_for_blocked_session(&mut watcher);
        during(&mut watcher, holder_pid);
        gate.commit().unwrap_or_else(|e| panic!("{e}"));
        holder
            .join()
            .unwrap_or_else(|_| panic!("the holding run panicked"))
    })
}
