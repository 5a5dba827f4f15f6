//! The runner: the migrations with the options of a call.

use crate::data::drift::AfterRun;
use crate::data::error::{Error, Refusal};
use crate::data::registry::Migrations;
use crate::data::violation::Interrupted;
use crate::rules::classify::Allow;
use crate::rules::table_name::{DEFAULT_TABLE, TableName};
use crate::rules::timeouts::Timeouts;
use std::time::Duration;

/// How long a run waits for another process's migration lock by default.
pub const DEFAULT_LOCK_WAIT_TIMEOUT: Duration = Duration::from_secs(300);

/// Applies, inspects and mends with options; made by [`Migrations::runner`].
///
/// The builder methods set options; the calls take a client. Each call has
/// a blocking form over a `postgres::Client` (feature `postgres`, on by
/// default) and an async form over a `tokio_postgres::Client` (feature
/// `tokio-postgres`), named with `_async`: `run` and `run_async`, `status`
/// and `status_async`, and so on. Both send the same statements.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// let report = MIGRATIONS
///     .runner()
///     .table("ops.schema_history")
///     .lock_timeout(std::time::Duration::from_secs(5))
///     .run(&mut client)?;
/// println!("{report}");
/// assert_eq!(report.applied().len(), MIGRATIONS.len());
/// # Ok(())
/// # }
/// ```
///
/// The same from an async program:
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// let mut client = db.connect_async().await?; // a tokio_postgres::Client
/// let report = MIGRATIONS.runner().table("ops.schema_history").run_async(&mut client).await?;
/// assert_eq!(report.applied().len(), MIGRATIONS.len());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a runner does nothing until one of its calls is made"]
pub struct Runner {
    pub(crate) migrations: Migrations,
    table: Option<String>,
    pub(crate) allow: Allow,
    pub(crate) lock_wait_timeout: Duration,
    pub(crate) target: Option<i64>,
    lock_timeout: Option<Duration>,
    statement_timeout: Option<Duration>,
    /// The schema of a fleet's target, where the tracking table is placed.
    schema: Option<String>,
    pub(crate) after_run: AfterRun,
    pub(crate) health_checks_schema: bool,
    /// Whether runs bring the repeatable migrations up to date (the test
    /// helper's steps through the versioned ones leave them alone).
    pub(crate) repeatables: bool,
    /// Whether schema checks are recorded, and a recorded one trusted
    /// while the catalog is unchanged (not for a fleet's targets).
    pub(crate) records_schema_checks: bool,
}

impl Migrations {
    /// A runner with the default options, to be changed by its builder
    /// methods.
    pub fn runner(&self) -> Runner {
        Runner {
            migrations: *self,
            table: None,
            allow: Allow::default(),
            lock_wait_timeout: DEFAULT_LOCK_WAIT_TIMEOUT,
            target: None,
            lock_timeout: None,
            statement_timeout: None,
            schema: None,
            after_run: AfterRun::Off,
            health_checks_schema: false,
            repeatables: true,
            records_schema_checks: true,
        }
    }
}

impl Runner {
    /// The tracking table: `table`, in the connection's current schema, or
    /// `schema.table` (the part before the first `.` is the schema, created
    /// if missing). Names are used as written, case included, and always
    /// quoted; each part is at most 63 bytes. Default:
    /// [`DEFAULT_TABLE`](crate::DEFAULT_TABLE).
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = Some(name.into());
        self
    }

    /// Goes on when migrations applied earlier were edited since (their
    /// checksums differ), logging a warning for each; they are not run
    /// again. Default: refuse.
    pub fn allow_divergent(mut self, allow: bool) -> Self {
        self.allow.divergent = allow;
        self
    }

    /// Goes on when the database has applied migrations this binary does not
    /// have (say, a newer release ran first). Default: refuse.
    pub fn allow_missing(mut self, allow: bool) -> Self {
        self.allow.missing = allow;
        self
    }

    /// Applies pending migrations whose version is lower than the highest
    /// one applied (say, from a branch merged late). Default: refuse.
    pub fn allow_out_of_order(mut self, allow: bool) -> Self {
        self.allow.out_of_order = allow;
        self
    }

    /// How long to wait for the migration lock while another process holds
    /// it before giving up with [`Error::LockTimeout`]. Default: 5 minutes.
    pub fn lock_wait_timeout(mut self, wait: Duration) -> Self {
        self.lock_wait_timeout = wait;
        self
    }

    /// PostgreSQL's `lock_timeout` while each migration runs: a migration
    /// that waits longer for a lock another session holds fails (and is
    /// rolled back and recorded) instead of queueing that table's other
    /// queries behind its wait. A migration's `-- stowage:lock-timeout`
    /// directive wins. Rounded up to whole milliseconds, at least one;
    /// above PostgreSQL's maximum (2,147,483,647 ms) a call refuses to run.
    /// Default: the session's own setting.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// PostgreSQL's `statement_timeout` while each migration runs; a
    /// migration's `-- stowage:statement-timeout` directive wins. Rounded
    /// and bounded as [`lock_timeout`](Runner::lock_timeout). Default: the
    /// session's own setting.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }

    /// Says whether the statement a dirty no-transaction migration was
    /// interrupted at completed, where the catalog cannot tell (a run
    /// refuses such a migration, saying so): a resume then goes on after it
    /// ([`Interrupted::Completed`]) or runs it again
    /// ([`Interrupted::NotCompleted`]). Look at the database first. Where
    /// the catalog tells, it decides, and a run goes on by itself.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// use stowage::Interrupted;
    /// MIGRATIONS.runner().interrupted_statement(Interrupted::Completed).resume(&mut client)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn interrupted_statement(mut self, outcome: Interrupted) -> Self {
        self.allow.interrupted_completed = Some(outcome == Interrupted::Completed);
        self
    }

    /// Applies pending migrations only up to and including `version`, which
    /// the binary must have. Default: all of them.
    pub fn target(mut self, version: i64) -> Self {
        self.target = Some(version);
        self
    }

    /// Whether a run that ends well then compares the database's schema
    /// with the schema file the binary carries, as
    /// [`check_schema`](Runner::check_schema) does (one more query, that
    /// reads the catalog): [`AfterRun::Warn`] logs each difference as a
    /// warning, [`AfterRun::Fail`] makes the run return
    /// [`Error::SchemaDrift`] (the migrations it applied stay applied).
    /// A run with a [`target`](Runner::target) below the newest migration
    /// checks nothing. Default: [`AfterRun::Off`], and a start with nothing
    /// to do costs one query.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// use stowage::AfterRun;
    /// MIGRATIONS.runner().check_schema_after_run(AfterRun::Fail).run(&mut client)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn check_schema_after_run(mut self, when: AfterRun) -> Self {
        self.after_run = when;
        self
    }

    /// Whether [`health`](Runner::health) compares the schema itself (one
    /// query that reads the catalog) rather than report what the last check
    /// of this process found. Default: `false`, so that a health probe every
    /// few seconds costs no catalog read.
    pub fn health_checks_schema(mut self, check: bool) -> Self {
        self.health_checks_schema = check;
        self
    }

    /// The migrations it runs.
    pub fn migrations(&self) -> Migrations {
        self.migrations
    }

    /// The tracking table as given to [`table`](Runner::table), if it was.
    pub(crate) fn given_table(&self) -> Option<&str> {
        self.table.as_deref()
    }

    /// The same runner for a fleet's targets: its schema checks read the
    /// whole schema, and record nothing (a fleet's check writes nothing,
    /// and the catalog it would fingerprint is the whole database's).
    pub(crate) fn in_fleet(mut self) -> Self {
        self.records_schema_checks = false;
        self
    }

    /// The same runner for the target of a fleet in `schema`: its tracking
    /// table is placed there.
    pub(crate) fn in_schema(mut self, schema: &str) -> Self {
        self.schema = Some(schema.to_owned());
        self
    }

    /// The tracking table's name, checked; in the schema of a fleet's
    /// target, if the runner is for one.
    pub(crate) fn table_name(&self) -> Result<TableName, Error> {
        let name = match &self.table {
            Some(name) => TableName::parse(name)?,
            None => TableName::default(),
        };
        match &self.schema {
            Some(schema) => name.placed_in(schema, self.table.as_deref().unwrap_or(DEFAULT_TABLE)),
            None => Ok(name),
        }
    }

    /// The tracking table's name as given, if one was; checked, and for a
    /// fleet of schemas refused when it names a schema.
    pub(crate) fn table_for_schemas(&self) -> Result<Option<&str>, Error> {
        if let Some(name) = &self.table {
            TableName::parse(name)?.refuse_schema(name)?;
        }
        Ok(self.table.as_deref())
    }

    /// The timeouts, checked.
    pub(crate) fn timeouts(&self) -> Result<Timeouts, Error> {
        Timeouts::from_runner(self.lock_timeout, self.statement_timeout)
    }

    /// Refuses a target the binary does not have.
    pub(crate) fn check_target(&self) -> Result<(), Error> {
        match self.target {
            Some(version) if self.migrations.get(version).is_none() => {
                Err(Error::Refused(Refusal::UnknownVersion { version }))
            }
            _ => Ok(()),
        }
    }
}
