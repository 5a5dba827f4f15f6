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
//! nothing, and every down script undoes its migration exactly, comparing
//! [`schema`] snapshots:
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
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

mod check;
mod schema;

pub use check::{Checked, Problem, ProblemKind, assert_migrations, check_migrations};
pub use schema::{Schema, schema};

/// The environment variable naming the folder of the server binaries.
pub const BINDIR_VAR: &str = "STOWAGE_PG_BINDIR";

/// Why a test server or database could not be had, or what
/// [`check_migrations`] found wrong with a set of migrations.
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
pub struct TestServer {
    config: Config,
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
                let config = Config::from_str(&url).map_err(|e| {
                    TestError::with("DATABASE_URL is not a valid connection string", e)
                })?;
                TestServer::new(config, None)
            }
            _ => {
                let local = LocalServer::start()?;
                let mut config = Config::new();
                config
                    .host_path(&local.root)
                    .user("postgres")
                    .dbname("postgres");
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

    fn new(config: Config, local: Option<LocalServer>) -> Result<TestServer, TestError> {
        let admin = connect_admin(&config)?;
        Ok(TestServer {
            config,
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
        let mut config = self.config.clone();
        config.dbname(&name);
        Ok(TestDatabase {
            server: self,
            name,
            config,
        })
    }

    fn admin(&self, sql: &str) -> Result<(), TestError> {
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
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Close the admin connection before the server goes away.
        if let Ok(mut admin) = self.admin.lock() {
            admin.take();
        }
    }
}

/// An empty database of its own for one test.
pub struct TestDatabase<'s> {
    server: &'s TestServer,
    name: String,
    config: Config,
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
}

impl Drop for TestDatabase<'_> {
    fn drop(&mut self) {
        let _ = self.server.admin(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ));
    }
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

/// A server this process started with `initdb` and `pg_ctl`.
struct LocalServer {
    root: PathBuf,
    bindir: PathBuf,
    as_root: bool,
    watchdog: Option<(Child, ChildStdin)>,
}

impl LocalServer {
    fn start() -> Result<LocalServer, TestError> {
        let bindir = find_bindir()?;
        let as_root = is_root();
        let root = std::env::temp_dir().join(format!(
            "stowage-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&root)
            .map_err(|e| TestError::with(format!("cannot create {}", root.display()), e))?;
        if as_root {
            let (uid, gid) = postgres_user()?;
            std::os::unix::fs::chown(&root, Some(uid), Some(gid)).map_err(|e| {
                TestError::with(
                    format!("cannot give {} to the postgres user", root.display()),
                    e,
                )
            })?;
        }
        let data = root.join("data");
        let mut server = LocalServer {
            root: root.clone(),
            bindir: bindir.clone(),
            as_root,
            watchdog: None,
        };
        run(
            as_root,
            &bindir.join("initdb"),
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        // From here on the watchdog stops the server when this process ends.
        server.watchdog = Some(watchdog(as_root, &bindir, &data, &root)?);
        server.pg_ctl_start()?;
        Ok(server)
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// `pg_ctl start`, waiting until the server accepts connections.
    fn pg_ctl_start(&self) -> Result<(), TestError> {
        let options = format!(
            "-c listen_addresses='' -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=200",
            self.root.display()
        );
        run(
            self.as_root,
            &self.bindir.join("pg_ctl"),
            &[
                "-D".as_ref(),
                self.data().as_os_str(),
                "-l".as_ref(),
                self.root.join("server.log").as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "start".as_ref(),
            ],
        )
        .map_err(|e| {
            let log = std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default();
            TestError::new(format!("{e}\nserver log:\n{log}"))
        })
    }

    /// `pg_ctl stop -m immediate`, waiting until the server has exited.
    fn pg_ctl_stop_immediately(&self) -> Result<(), TestError> {
        run(
            self.as_root,
            &self.bindir.join("pg_ctl"),
            &[
                "-D".as_ref(),
                self.data().as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        )
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some((mut child, stdin)) = self.watchdog.take() {
            drop(stdin); // the watchdog sees the end of its input and stops the server
            let _ = child.wait();
        }
    }
}

/// A process that waits until this one closes its input (by exiting, or by
/// dropping the server), then stops the server and removes its folder.
fn watchdog(
    as_root: bool,
    bindir: &Path,
    data: &Path,
    root: &Path,
) -> Result<(Child, ChildStdin), TestError> {
    let script =
        r#"cat >/dev/null; "$0" -D "$1" -m immediate -w stop >/dev/null 2>&1; rm -rf "$2""#;
    let mut command = as_postgres(as_root, Path::new("sh"));
    command
        .arg("-c")
        .arg(script)
        .arg(bindir.join("pg_ctl"))
        .arg(data)
        .arg(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command
        .spawn()
        .map_err(|e| TestError::with("cannot start the server's watchdog", e))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| TestError::new("the watchdog has no input pipe"))?;
    let _ = stdin.flush();
    Ok((child, stdin))
}

fn as_postgres(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(as_root: bool, program: &Path, args: &[&std::ffi::OsStr]) -> Result<(), TestError> {
    let output = as_postgres(as_root, program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| TestError::with(format!("cannot run {}", program.display()), e))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(TestError::new(format!(
            "{} failed ({}): {}{}",
            program.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn postgres_user() -> Result<(u32, u32), TestError> {
    let id = |flag: &str| -> Result<u32, TestError> {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(|e| TestError::with("cannot run `id`", e))?;
        String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|_| {
            TestError::new(
                "running as root, but there is no `postgres` user to run the server as \
                 (PostgreSQL refuses to run as root); install PostgreSQL's server package or set DATABASE_URL",
            )
        })
    };
    Ok((id("-u")?, id("-g")?))
}

/// The folder holding `initdb` and `pg_ctl`.
fn find_bindir() -> Result<PathBuf, TestError> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os(BINDIR_VAR) {
        let dir = PathBuf::from(dir);
        return if has_tools(&dir) {
            Ok(dir)
        } else {
            Err(TestError::new(format!(
                "{BINDIR_VAR}={} holds no initdb and pg_ctl",
                dir.display()
            )))
        };
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .filter_map(|dir| {
            // Follow a symlinked initdb (as Debian's /usr/bin wrappers are not)
            // to the folder that also has pg_ctl.
            let initdb = dir.join("initdb");
            let real = std::fs::canonicalize(&initdb).ok()?;
            [dir, real.parent()?.to_path_buf()]
                .into_iter()
                .find(|d| has_tools(d))
        });
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_tools(dir))
        .collect();
    versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    on_path
        .chain(versioned.into_iter().map(|(_, dir)| dir))
        .next()
        .ok_or_else(|| {
            TestError::new(
                "no PostgreSQL server binaries found (initdb and pg_ctl: looked in STOWAGE_PG_BINDIR, PATH \
                 and /usr/lib/postgresql/*/bin); install them (Debian: apt-get install postgresql) \
                 or set DATABASE_URL",
            )
        })
}
