//! The runner: options, then one run that applies what is pending.

use crate::apply::apply;
use crate::error::{Error, HistoryError};
use crate::history::{self, Allow, Pending};
use crate::history_digest;
use crate::lock::acquire_lock;
use crate::migration::Migrations;
use crate::report::{Applied, Report};
use crate::timeouts::Timeouts;
use crate::tracking_table::{Row, TableName, TrackingTable};
use postgres::Client;
use std::time::Duration;

/// How long a run waits for another process's migration lock by default.
pub const DEFAULT_LOCK_WAIT_TIMEOUT: Duration = Duration::from_secs(300);

/// Applies migrations with options; made by [`Migrations::runner`].
///
/// ```no_run
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let mut client = postgres::Client::connect("host=localhost user=postgres", postgres::NoTls)?;
/// let report = MIGRATIONS
///     .runner()
///     .table("ops.schema_history")
///     .allow_out_of_order(true)
///     .run(&mut client)?;
/// println!("{report}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a runner does nothing until `run` is called"]
pub struct Runner<'m> {
    migrations: &'m Migrations,
    table: Option<String>,
    allow: Allow,
    lock_wait_timeout: Duration,
    target: Option<i64>,
    timeouts: Timeouts,
}

impl<'m> Runner<'m> {
    pub(crate) fn new(migrations: &'m Migrations) -> Self {
        Runner {
            migrations,
            table: None,
            allow: Allow::default(),
            lock_wait_timeout: DEFAULT_LOCK_WAIT_TIMEOUT,
            target: None,
            timeouts: Timeouts::default(),
        }
    }

    /// The tracking table: `table`, in the connection's current schema, or
    /// `schema.table` (the part before the first `.` is the schema, created
    /// if missing). Names are used as written, case included, and always
    /// quoted. Default: `stowage_migrations`.
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
    /// directive wins. Default: the session's own setting.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.lock = Some(timeout);
        self
    }

    /// PostgreSQL's `statement_timeout` while each migration runs; a
    /// migration's `-- stowage:statement-timeout` directive wins. Default:
    /// the session's own setting.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.statement = Some(timeout);
        self
    }

    /// Applies pending migrations only up to and including `version`, which
    /// the binary must have. Default: all of them.
    pub fn target(mut self, version: i64) -> Self {
        self.target = Some(version);
        self
    }

    /// Applies every pending migration, each in its own transaction with its
    /// tracking row, in version order, and stops at the first failure.
    ///
    /// Before anything is applied the recorded history is checked against
    /// the binary, and every disagreement is reported at once. A start with
    /// nothing to do reads one row (the digest of the history, kept in
    /// `stowage_digest`) and takes no lock; otherwise the run
    /// takes the migration lock, reads the history again, and releases the
    /// lock when it ends, however it ends.
    pub fn run(&self, client: &mut Client) -> Result<Report, Error> {
        let _span = tracing::info_span!("stowage_run").entered();
        self.check_target()?;
        if self.table_name()?.is_up_to_date(client, self.migrations)? {
            tracing::debug!("the database is up to date");
            return Ok(Report::default());
        }
        self.apply_pending(client, self.allow)
    }

    /// Like [`run`](Runner::run), but a dirty no-transaction migration (one
    /// that failed or was interrupted part way) is continued at the
    /// statement where it stopped instead of refused. Fix what made it fail
    /// first: a failed `CREATE INDEX CONCURRENTLY` leaves an INVALID index
    /// that must be dropped. With no dirty migration this is a plain run.
    pub fn resume(&self, client: &mut Client) -> Result<Report, Error> {
        let _span = tracing::info_span!("stowage_resume").entered();
        self.apply_pending(
            client,
            Allow {
                resume: true,
                ..self.allow
            },
        )
    }

    pub(crate) fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    pub(crate) fn allow(&self) -> Allow {
        self.allow
    }

    pub(crate) fn migrations(&self) -> &'m Migrations {
        self.migrations
    }

    pub(crate) fn table_name(&self) -> Result<TableName, Error> {
        match &self.table {
            Some(name) => TableName::parse(name),
            None => Ok(TableName::default_name()),
        }
    }

    /// Takes the lock, makes sure the tracking table exists, reads it, and
    /// calls `f`; the lock is released however `f` ends. When `f` ends well,
    /// the history's digest is written in the query that releases the lock,
    /// so the next start with nothing to do reads one row.
    pub(crate) fn locked<T>(
        &self,
        client: &mut Client,
        f: impl FnOnce(&mut Client, &TrackingTable, Vec<Row>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let table = self.table_name()?.resolve(client)?;
        let mut lock = acquire_lock(client, &table, self.lock_wait_timeout)?;
        let client = lock.client();
        let digest_kept = table.create_if_missing(client)?;
        let rows = table.read(client)?;
        let done = f(client, &table, rows)?;
        if digest_kept {
            lock.release_after(&history_digest::refresh_sql(&table));
        }
        Ok(done)
    }

    /// Refuses a target the binary does not have.
    fn check_target(&self) -> Result<(), Error> {
        match self.target {
            Some(target) if self.migrations.get(target).is_none() => Err(Error::Refused {
                version: target,
                reason: "the target is not a migration of this binary".to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// What a run would apply, given the recorded `rows`, in order.
    pub(crate) fn pending(
        &self,
        table: &TrackingTable,
        rows: &[Row],
        allow: Allow,
    ) -> Result<Vec<Pending<'m>>, Error> {
        self.check_target()?;
        let mut pending = history::pending(self.migrations, rows, allow).map_err(|violations| {
            Error::History(HistoryError {
                table: table.qualified().to_owned(),
                violations,
            })
        })?;
        if let Some(target) = self.target {
            pending.retain(|p| p.migration.version() <= target);
        }
        Ok(pending)
    }

    fn apply_pending(&self, client: &mut Client, allow: Allow) -> Result<Report, Error> {
        self.locked(client, |client, table, rows| {
            let pending = self.pending(table, &rows, allow)?;
            let mut report = Report::default();
            for Pending {
                migration,
                start_at,
            } in pending
            {
                let duration = apply(client, table, migration, start_at, self.timeouts).map_err(
                    |e| match e {
                        Error::Migration(mut failure) => {
                            failure.applied_before = std::mem::take(&mut report.applied);
                            Error::Migration(failure)
                        }
                        other => other,
                    },
                )?;
                tracing::info!(
                    version = migration.version(),
                    name = migration.name(),
                    path = migration.path(),
                    duration_ms = duration.as_millis(),
                    "applied migration"
                );
                report.applied.push(Applied {
                    version: migration.version(),
                    name: migration.name(),
                    path: migration.path(),
                    duration,
                });
            }
            Ok(report)
        })
    }
}
