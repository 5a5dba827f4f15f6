//! A throwaway PostgreSQL server and a fresh database per test.
//!
//! With `DATABASE_URL` set, that server is used; otherwise
//! [`TestServer`] runs `initdb` and `pg_ctl` in a temporary folder (as the
//! `postgres` user when run as root, since PostgreSQL refuses to run as
//! root), listening only on a Unix socket in that folder. The server binaries
//! are looked for in `STOWAGE_PG_BINDIR`, then on `PATH`, then under
//! `/usr/lib/postgresql/*/bin` (newest version first).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = stowage::testing::TestServer::shared()?;
//! let db = server.create_database()?;
//! let mut client = db.connect()?;
//! client.batch_execute("CREATE TABLE t (id int)")?;
//! # Ok(())
//! # }
//! ```
//!
//! The server stops, and its folder is removed, when the [`TestServer`] is
//! dropped or, for [`TestServer::shared`], when the process exits, however
//! it exits: a watchdog process waits for the end of a pipe this process
//! holds open. A throwaway server can also be stopped as a crash would stop
//! it and started again ([`TestServer::stop_immediately`],
//! [`TestServer::start_again`]), to test what survives.
//!
//! [`check_migrations`] and [`assert_migrations`] check a set of migrations
//! in one line of a test: they apply on a new database, a second run applies
//! nothing, every down script undoes its migration exactly, comparing
//! [`schema`] snapshots, and the schema file holds the schema they build
//! (written when missing, or with `STOWAGE_UPDATE_SCHEMA=1`):
//!
//! ```no_run
//! static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
//!
//! #[test]
//! fn migrations() {
//!     stowage::testing::assert_migrations(&MIGRATIONS);
//! }
//! ```

use postgres::{Client, Config, NoTls};
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

mod check;
mod file;
#[cfg(unix)]
mod local_server;
mod schema;

#[cfg(unix)]
use local_server::LocalServer;

pub use check::{Checked, Problem, ProblemKind, assert_migrations, check_migrations};
pub use schema::{Schema, schema};

/// Writes the schema file of `migrations` (its path is
/// [`Migrations::schema_path`](crate::Migrations::schema_path), from the
/// crate root that `CARGO_MANIFEST_DIR` names, or the current folder) from
/// the database under `client`, where every one of them is applied; returns
/// where it wrote. [`check_migrations`] does this itself, on a database of
/// its own; this is for a database built otherwise.
///
/// ```no_run
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let db = stowage::testing::TestServer::shared()?.create_database()?;
/// let mut client = db.connect()?;
/// MIGRATIONS.run(&mut client)?;
/// let path = stowage::testing::write_schema_file(&MIGRATIONS, &mut client)?;
/// println!("wrote {}", path.display());
/// # Ok(())
/// # }
/// ```
pub fn write_schema_file(
    migrations: &crate::Migrations,
    client: &mut Client,
) -> Result<std::path::PathBuf, TestError> {
    file::write_from(migrations, client)
}

/// The environment variable naming the folder of the server binaries.
pub const BINDIR_VAR: &str = "STOWAGE_PG_BINDIR";

/// Why a test server or database could not be had, or what
/// [`check_migrations`] found wrong with a set of migrations.
///
/// ```
/// static BROKEN: stowage::Migrations = stowage::embed_migrations!("../tests/fixtures/downs_broken");
///
/// let error = stowage::testing::check_migrations(&BROKEN).unwrap_err();
/// assert!(!error.problems().is_empty());
/// println!("{error}"); // every problem, with the schema lines that differ
/// ```
#[derive(Debug)]
pub struct TestError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    problems: Vec<Problem>,
}

impl TestError {
    fn new(message: impl Into<String>) -> Self {
        TestError {
            message: message.into(),
            source: None,
            problems: Vec::new(),
        }
    }

    fn with(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        TestError {
            message: message.into(),
            source: Some(Box::new(source)),
            problems: Vec::new(),
        }
    }

    /// The problems [`check_migrations`] found, in the order found; empty
    /// when the error is about the server or the database instead.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// A PostgreSQL server for tests: the one `DATABASE_URL` names, or a
/// throwaway one.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = stowage::testing::TestServer::shared()?;
/// println!("testing against {server}");
/// let db = server.create_database()?;
/// # Ok(())
/// # }
/// ```
pub struct TestServer {
    config: Config,
    async_config: tokio_postgres::Config,
    admin: Mutex<Option<Client>>,
    local: Option<LocalServer>,
    next: AtomicU64,
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("server", &self.to_string())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for TestServer {
    /// Where the server is, never with a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.local {
            Some(local) => write!(
                f,
                "a throwaway PostgreSQL server in {} (binaries from {})",
                local.root.display(),
                local.bindir.display()
            ),
            None => write!(f, "the server of DATABASE_URL ({})", describe(&self.config)),
        }
    }
}

impl TestServer {
    /// The server of `DATABASE_URL` if it is set, else a new throwaway
    /// server that stops when this value is dropped.
    pub fn start() -> Result<TestServer, TestError> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                let config = tokio_postgres::Config::from_str(&url).map_err(|e| {
                    TestError::with("DATABASE_URL is not a valid connection string", e)
                })?;
                TestServer::new(config, None)
            }
            _ => {
                let local = LocalServer::start()?;
                let config = local.config();
                TestServer::new(config, Some(local))
            }
        }
    }

    /// One server for the whole process, started on first use.
    pub fn shared() -> Result<&'static TestServer, TestError> {
        static SHARED: OnceLock<Result<TestServer, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| TestServer::start().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| TestError::new(e.clone()))
    }

    fn new(
        async_config: tokio_postgres::Config,
        local: Option<LocalServer>,
    ) -> Result<TestServer, TestError> {
        let config = Config::from(async_config.clone());
        let admin = off_runtime(|| connect_admin(&config))?;
        Ok(TestServer {
            config,
            async_config,
            admin: Mutex::new(Some(admin)),
            local,
            next: AtomicU64::new(0),
        })
    }

    /// Whether this is a throwaway server started by this process.
    pub fn is_throwaway(&self) -> bool {
        self.local.is_some()
    }

    /// The connection settings of the server's own database.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Stops a throwaway server at once, as a crash would: `pg_ctl stop -m
    /// immediate`, which cuts every connection without a word to its client
    /// and exits without a checkpoint. It returns once the server has exited;
    /// [`start_again`](TestServer::start_again) starts it on the same data
    /// and socket, and the server recovers from its write-ahead log: what
    /// had not committed is gone.
    ///
    /// The throwaway server runs with `synchronous_commit = off` for speed,
    /// so the transactions that committed last before the stop may be lost
    /// too; a session whose commits must survive sets
    /// `synchronous_commit = on` (then they all do).
    /// Connections made before the stop are closed; make new ones after
    /// the start.
    ///
    /// Refused, stopping nothing, on the server of `DATABASE_URL`: a test
    /// stops only a server it started.
    pub fn stop_immediately(&self) -> Result<(), TestError> {
        let local = self.local("stop")?;
        // The admin connection dies with the server: the next use makes a new one.
        self.admin
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        local.pg_ctl_stop_immediately()
    }

    /// Starts a throwaway server again after
    /// [`stop_immediately`](TestServer::stop_immediately), returning once it
    /// accepts connections. Refused on the server of `DATABASE_URL`.
    pub fn start_again(&self) -> Result<(), TestError> {
        self.local("start")?.pg_ctl_start()
    }

    /// The server this process started, or a refusal to `doing` any other.
    fn local(&self, doing: &str) -> Result<&LocalServer, TestError> {
        self.local.as_ref().ok_or_else(|| {
            TestError::new(format!(
                "refusing to {doing} {self}: only a throwaway server that this process started can be \
                 stopped and started again; unset DATABASE_URL to have one"
            ))
        })
    }

    /// Creates an empty database, dropped again when the returned value is.
    pub fn create_database(&self) -> Result<TestDatabase<'_>, TestError> {
        let name = format!(
            "stowage_test_{}_{}",
            std::process::id(),
            self.next.fetch_add(1, Ordering::Relaxed)
        );
        self.admin(&format!("DROP DATABASE IF EXISTS \"{name}\""))?;
        self.admin(&format!("CREATE DATABASE \"{name}\""))?;
        let mut async_config = self.async_config.clone();
        async_config.dbname(&name);
        Ok(TestDatabase {
            server: self,
            name,
            config: Config::from(async_config.clone()),
            async_config,
        })
    }

    fn admin(&self, sql: &str) -> Result<(), TestError> {
        off_runtime(|| {
            let mut admin = self
                .admin
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let client = match admin.as_mut() {
                Some(client) if !client.is_closed() => client,
                _ => admin.insert(connect_admin(&self.config)?),
            };
            client
                .batch_execute(sql)
                .map_err(|e| TestError::with(format!("`{sql}` failed"), e))
        })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Close the admin connection before the server goes away.
        off_runtime(|| {
            if let Ok(mut admin) = self.admin.lock() {
                admin.take();
            }
        });
    }
}

/// An empty database of its own for one test, dropped with this value.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let db = stowage::testing::TestServer::shared()?.create_database()?;
/// let mut client = db.connect()?;
/// let count: i64 = client.query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", &[])?.get(0);
/// assert_eq!(count, 0, "{} is empty", db.name());
/// # Ok(())
/// # }
/// ```
pub struct TestDatabase<'s> {
    server: &'s TestServer,
    name: String,
    config: Config,
    // Read by the async calls, and kept by the sync ones to connect from.
    #[cfg_attr(not(feature = "tokio-postgres"), allow(dead_code))]
    async_config: tokio_postgres::Config,
}

impl fmt::Debug for TestDatabase<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TestDatabase<'_> {
    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its connection settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A new connection to it.
    pub fn connect(&self) -> Result<Client, TestError> {
        self.config
            .connect(NoTls)
            .map_err(|e| TestError::with(format!("cannot connect to database {}", self.name), e))
    }

    /// Its connection settings, for `tokio_postgres`.
    #[cfg(feature = "tokio-postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio-postgres")))]
    pub fn async_config(&self) -> &tokio_postgres::Config {
        &self.async_config
    }

    /// A new async connection to it, its connection task spawned on the
    /// current tokio runtime.
    #[cfg(feature = "tokio-postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio-postgres")))]
    pub async fn connect_async(&self) -> Result<tokio_postgres::Client, TestError> {
        let (client, connection) = self
            .async_config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| TestError::with(format!("cannot connect to database {}", self.name), e))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a test connection ended");
            }
        });
        Ok(client)
    }
}

impl Drop for TestDatabase<'_> {
    fn drop(&mut self) {
        let _ = self.server.admin(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ));
    }
}

/// Runs `f`, which uses the blocking `postgres` client, on a thread of its
/// own: the blocking client cannot run on a thread that drives an async
/// runtime, and a test server may be set up, and its databases dropped,
/// from an async test.
pub(crate) fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// The connection that creates and drops databases; it keeps quiet about
/// `DROP DATABASE IF EXISTS` finding nothing.
fn connect_admin(config: &Config) -> Result<Client, TestError> {
    let mut client = config
        .connect(NoTls)
        .map_err(|e| TestError::with(format!("cannot connect to {}", describe(config)), e))?;
    client
        .batch_execute("SET client_min_messages = warning")
        .map_err(|e| TestError::with("cannot configure the admin connection", e))?;
    Ok(client)
}

/// How a connection is shown: host, port, user and database, never the password.
fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    format!(
        "host={} port={:?} user={} dbname={}",
        hosts.join(","),
        config.get_ports(),
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or("?")
    )
}

/// Where no throwaway server can be started: every start says so.
#[cfg(not(unix))]
struct LocalServer {
    root: std::path::PathBuf,
    bindir: std::path::PathBuf,
}

#[cfg(not(unix))]
impl LocalServer {
    fn start() -> Result<LocalServer, TestError> {
        Err(TestError::new(
            "a throwaway PostgreSQL server needs a Unix-like system (it listens on a Unix socket); \
             set DATABASE_URL to a server the tests may create databases on",
        ))
    }

    fn config(&self) -> tokio_postgres::Config {
        tokio_postgres::Config::new()
    }

    fn pg_ctl_start(&self) -> Result<(), TestError> {
        LocalServer::start().map(drop)
    }

    fn pg_ctl_stop_immediately(&self) -> Result<(), TestError> {
        LocalServer::start().map(drop)
    }
}
