//! The errors a run or an operation can end with.

use crate::data::drift::{SchemaCheck, SchemaOutcome};
use crate::data::line_column::LineColumn;
use crate::data::remedy::{Remedy, Words, write_list};
use crate::data::report::Applied;
use crate::data::violation::{Violation, what_stays};
use std::fmt;
use std::time::Duration;

/// The error of the driver underneath, one type for `postgres` and
/// `tokio-postgres`: what the server said, or why it could not be reached.
pub(crate) type DbError = tokio_postgres::Error;

/// Why a run or an operation stopped. Each variant says what to do about
/// it; none ever holds a connection string.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// match MIGRATIONS.runner().mark_applied(&mut client, 99) {
///     Err(stowage::Error::Refused(refusal)) => {
///         assert_eq!(refusal, stowage::Refusal::UnknownVersion { version: 99 })
///     }
///     other => panic!("{other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A migration failed; it was rolled back (or, outside a transaction,
    /// stopped) and its failure recorded.
    Migration(Box<MigrationError>),

    /// The tracking table's history disagrees with the binary; nothing was
    /// applied.
    History(HistoryError),

    /// Another process held the migration lock for longer than the runner's
    /// lock wait timeout.
    LockTimeout {
        /// The tracking table the lock guards, schema-qualified and quoted.
        table: String,
        /// How long this run waited.
        waited: Duration,
        /// The server process id of the session holding the lock, if seen.
        holder: Option<i32>,
        /// When the holder is the server process of a migrating process
        /// that died, still running one of its no-transaction statements:
        /// the migration's version and the statement, counted from 1.
        running_statement: Option<(i64, usize)>,
    },

    /// The session lost the migration lock while a migration ran (a
    /// statement released it): the migration's changes were rolled back
    /// with its row, or for a no-transaction migration its progress stays as
    /// recorded, and the run stopped, since another process may be
    /// migrating now.
    LockLost {
        /// The tracking table the lock guards, schema-qualified and quoted.
        table: String,
        /// The migration that ran when the lock was found gone, with its
        /// file; `None` for an operator's call.
        migration: Option<(i64, &'static str)>,
    },

    /// An operator's request that would make the tracking table lie, or
    /// that names a migration it cannot act on; nothing was changed.
    Refused(Refusal),

    /// The name given to [`Runner::table`](crate::Runner::table) cannot name
    /// a table.
    InvalidTable {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An option of the runner has a value PostgreSQL cannot take; nothing
    /// was run.
    InvalidOption {
        /// The option, e.g. `lock_timeout`.
        option: &'static str,
        /// What is wrong with its value.
        reason: String,
    },

    /// The session has no current schema to put the tracking table in.
    NoCurrentSchema,

    /// A run with [`Runner::check_schema_after_run(AfterRun::Fail)`](crate::Runner::check_schema_after_run)
    /// applied what was pending, and then found the database's schema to
    /// differ from the schema file.
    SchemaDrift(Box<SchemaCheck>),

    /// The schema file the binary carries cannot be read: it was edited by
    /// hand, or written by another version of stowage.
    SchemaFile {
        /// The file, relative to the crate root.
        path: &'static str,
        /// The line of the statement that cannot be read.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// A query of stowage's own (not a migration's) failed, e.g. because the
    /// connection was lost.
    Database {
        /// What stowage was doing.
        doing: &'static str,
        /// The driver's error.
        source: DbError,
    },
}

impl Error {
    pub(crate) fn database(doing: &'static str) -> impl FnOnce(DbError) -> Error {
        move |source| Error::Database { doing, source }
    }

    /// The SQLSTATE code of the server error behind this one, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Migration(m) => m.code(),
            Error::Database { source, .. } => source.code().map(|c| c.code()),
            _ => None,
        }
    }

    /// What can be done about it.
    pub fn remedies(&self) -> Vec<Remedy> {
        match self {
            Error::Migration(m) => m.remedies(),
            Error::History(h) => h.violations.iter().flat_map(Violation::remedies).collect(),
            Error::LockTimeout { .. } => vec![Remedy::RaiseLockWaitTimeout],
            Error::Refused(r) => r.remedies(),
            Error::SchemaDrift(check) => match check.outcome() {
                SchemaOutcome::Differs { remedies, .. } => remedies.clone(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// The message, in `words`.
    pub(crate) fn render(&self, words: Words, f: &mut dyn fmt::Write) -> fmt::Result {
        match self {
            Error::Migration(m) => m.render(words, f),
            Error::History(h) => h.render(words, f),
            Error::LockTimeout {
                table,
                waited,
                holder,
                running_statement,
            } => {
                let waited =
                    Duration::from_millis(u64::try_from(waited.as_millis()).unwrap_or(u64::MAX));
                write!(
                    f,
                    "gave up after {waited:?} waiting for the migration lock on {table}"
                )?;
                match (holder, running_statement) {
                    (Some(pid), Some((version, statement))) => write!(
                        f,
                        ": server process {pid} holds it, still running statement {statement} of migration \
                         {version} for a migrating process that died; the server finishes that statement \
                         first, then the lock is free, and the next run goes on from what the catalog shows. \
                         Wait for it: "
                    )?,
                    (Some(pid), None) => write!(f, " (held by server process {pid})")?,
                    _ => {}
                }
                if running_statement.is_some() {
                    return write_list(f, &self.remedies(), words);
                }
                write!(
                    f,
                    ": another process is migrating this database; retry later or wait longer: "
                )?;
                write_list(f, &self.remedies(), words)
            }
            Error::LockLost { table, migration } => {
                write!(f, "the migration lock on {table} was released")?;
                if let Some((version, path)) = migration {
                    write!(f, " during migration {version} ({path})")?;
                }
                write!(
                    f,
                    ", so the call stopped: another process may be migrating now. The tracking table \
                     records nothing that did not happen. A statement released the lock: DISCARD ALL \
                     or pg_advisory_unlock_all() in a migration does; remove it, then run again"
                )
            }
            Error::Refused(r) => r.render(words, f),
            Error::InvalidTable { name, reason } => {
                write!(f, "invalid tracking table name {name:?}: {reason}")
            }
            Error::InvalidOption { option, reason } => {
                let option = match words {
                    Words::Api => format!("Runner::{option}"),
                    Words::Cli => format!("--{}", option.replace('_', "-")),
                };
                write!(f, "{option}: {reason}")
            }
            Error::NoCurrentSchema => {
                let example = match words {
                    Words::Api => "table(\"public.stowage_migrations\")",
                    Words::Cli => "--table public.stowage_migrations",
                };
                write!(
                    f,
                    "the connection has no current schema (its search_path names no existing schema): \
                     fix search_path, or name the tracking table with its schema, e.g. {example}"
                )
            }
            Error::Database { doing, source } => write!(f, "{doing}: {}", ServerError(source)),
            Error::SchemaDrift(check) => {
                write!(f, "the migrations were applied, but ")?;
                check.render(words, f)
            }
            Error::SchemaFile { path, line, reason } => write!(
                f,
                "the schema file {path} cannot be read at line {line}: {reason}; write it again \
                 with `STOWAGE_UPDATE_SCHEMA=1 cargo test`"
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // Its message is the migration error's own: its cause is the
            // server's error.
            Error::Migration(m) => Some(&m.source),
            Error::Database { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A driver's error with what the server said, which the driver's own
/// `Display` leaves to its source: `ERROR 42P01: relation "x" does not
/// exist (detail)`, or `error connecting to server: Connection refused (os
/// error 111)`. The one formatter of a server error.
pub(crate) struct ServerError<'a>(pub &'a DbError);

impl fmt::Display for ServerError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_db_error() {
            Some(db) => {
                write!(
                    f,
                    "{} {}: {}",
                    db.severity(),
                    db.code().code(),
                    db.message()
                )?;
                if let Some(detail) = db.detail() {
                    write!(f, " ({detail})")?;
                }
                Ok(())
            }
            None => {
                // The driver's text leaves its cause (an I/O error, say) to its source.
                let mut text = self.0.to_string();
                let mut source = std::error::Error::source(self.0);
                while let Some(cause) = source {
                    let cause_text = cause.to_string();
                    if !text.contains(&cause_text) {
                        text.push_str(&format!(": {cause_text}"));
                    }
                    source = cause.source();
                }
                f.write_str(&text)
            }
        }
    }
}

/// Where a migration failed.
///
/// ```
/// static DIRTY: stowage::Migrations = stowage::embed_migrations!("../tests/fixtures/dirty");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// match DIRTY.run(&mut client) {
///     Err(stowage::Error::Migration(failure)) => match failure.stage() {
///         stowage::Stage::Statement(s) => assert_eq!((s.number, s.total), (3, 5)),
///         other => panic!("{other:?}"),
///     },
///     other => panic!("{other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "stage", rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum Stage {
    /// Its up script failed in its transaction, which was rolled back:
    /// nothing of it stays, and the next run retries it.
    Up,
    /// A statement of its no-transaction up script failed (or its
    /// connection was lost during it): the statements before it stay
    /// applied, and the migration is dirty.
    Statement(FailedStatement),
    /// Its down script failed during a rollback and was rolled back: the
    /// migration stays applied.
    Down,
    /// The connection was lost after the `COMMIT` of its script (up, or down
    /// in a rollback) was sent: it may have committed with its tracking row,
    /// or not. The tracking table tells which.
    Commit {
        /// Whether it was the down script, in a rollback.
        down: bool,
    },
    /// A repeatable migration failed: the repeatable migrations, applied
    /// together in one transaction, were rolled back, and are as they were
    /// before the run. Its [`version`](MigrationError::version) is its
    /// tracking row's, and its [`name`](MigrationError::name) the
    /// repeatable's.
    Repeatable,
    /// Its up script, run again by [`Runner::reapply`](crate::Runner::reapply)
    /// because what it makes was missing, failed and was rolled back: the
    /// migration stays recorded as applied, as it was.
    Reapply,
}

/// Where a no-transaction migration stopped.
///
/// It is what [`Stage::Statement`] holds; see there for an example.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FailedStatement {
    /// The statement that failed, counted from 1.
    pub number: usize,
    /// How many statements the migration has.
    pub total: usize,
    /// Where the statement starts in the file.
    pub at: LineColumn,
    /// Indexes left INVALID by the failed statement (a failed
    /// `CREATE INDEX CONCURRENTLY` leaves one behind), schema-qualified.
    pub invalid_indexes: Vec<String>,
}

/// A migration that PostgreSQL refused, with everything the server said and
/// where in the file it happened.
///
/// ```
/// static FAILING: stowage::Migrations = stowage::embed_migrations!("../tests/fixtures/failing");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// let Err(stowage::Error::Migration(failure)) = FAILING.run(&mut client) else { panic!() };
/// assert_eq!((failure.version(), failure.code()), (2, Some("42P01")));
/// assert_eq!(*failure.stage(), stowage::Stage::Up);
/// let at = failure.position().expect("the line and column in the file");
/// println!("{}:{at}: {}", failure.path(), failure.db_error().unwrap().message());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct MigrationError {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) path: &'static str,
    pub(crate) position: Option<LineColumn>,
    pub(crate) stage: Stage,
    /// The error met writing the failure to the tracking table, if any.
    pub(crate) not_recorded: Option<DbError>,
    /// The migrations the same run applied before this one failed.
    pub(crate) applied_before: Vec<Applied>,
    /// For a connection lost during a batch: every migration of it whose
    /// outcome is unknown, this one first.
    pub(crate) in_flight: Vec<i64>,
    pub(crate) source: DbError,
}

impl MigrationError {
    /// The migration's version.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The migration's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The file that failed (the down script's, for [`Stage::Down`]),
    /// relative to the crate root.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// Where in the file the error is, when the server gave a position or
    /// the failing statement could be found.
    pub fn position(&self) -> Option<LineColumn> {
        self.position
    }

    /// Where it failed.
    pub fn stage(&self) -> &Stage {
        &self.stage
    }

    /// The server's error, with its message, detail, hint and context.
    pub fn db_error(&self) -> Option<&tokio_postgres::error::DbError> {
        self.source.as_db_error()
    }

    /// The SQLSTATE code, e.g. `42P01`.
    pub fn code(&self) -> Option<&str> {
        self.source.code().map(|c| c.code())
    }

    /// The migrations the same run applied, and committed, before this one
    /// failed.
    pub fn applied_before(&self) -> &[Applied] {
        &self.applied_before
    }

    /// For a connection lost while a batch of migrations was sent together:
    /// the versions whose outcome is unknown (each may have committed with
    /// its row, or not; the tracking table tells), this one first. Empty
    /// otherwise.
    pub fn in_flight(&self) -> &[i64] {
        &self.in_flight
    }

    /// Whether the failure row could not be written to the tracking table
    /// (for example because the connection was lost): the error it met.
    pub fn not_recorded(&self) -> Option<&DbError> {
        self.not_recorded.as_ref()
    }

    /// What can be done about it.
    pub fn remedies(&self) -> Vec<Remedy> {
        match &self.stage {
            Stage::Statement(s)
                if s.number > 1
                    || !s.invalid_indexes.is_empty()
                    || self.source.as_db_error().is_none() =>
            {
                vec![
                    Remedy::Resume {
                        version: self.version,
                        from_statement: s.number,
                    },
                    Remedy::MarkApplied {
                        version: self.version,
                    },
                    Remedy::Forget {
                        version: self.version,
                    },
                ]
            }
            Stage::Statement(s) => vec![Remedy::Resume {
                version: self.version,
                from_statement: s.number,
            }],
            _ => Vec::new(),
        }
    }

    /// The server's account of the failure, as recorded in the tracking
    /// table's `error` column: severity, SQLSTATE, message, the place in the
    /// file, detail, hint and context.
    pub(crate) fn summary(&self) -> String {
        let mut s = String::new();
        match self.source.as_db_error() {
            Some(db) => {
                s.push_str(&format!(
                    "{} {}: {}",
                    db.severity(),
                    db.code().code(),
                    db.message()
                ));
                if let Some(at) = self.position {
                    s.push_str(&format!(" (at line {}, column {})", at.line, at.column));
                }
                for (label, value) in [
                    ("detail", db.detail()),
                    ("hint", db.hint()),
                    ("where", db.where_()),
                ] {
                    if let Some(value) = value {
                        s.push_str(&format!("\n{label}: {value}"));
                    }
                }
            }
            None => s.push_str(&ServerError(&self.source).to_string()),
        }
        s
    }

    fn write_place(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        write!(f, "{} ({}", self.version, self.path)?;
        if let Some(at) = self.position {
            write!(f, ":{at}")?;
        }
        f.write_str(")")
    }

    pub(crate) fn render(&self, words: Words, f: &mut dyn fmt::Write) -> fmt::Result {
        match &self.stage {
            Stage::Commit { down: false } if self.in_flight.len() > 1 => {
                let versions: Vec<String> = self.in_flight.iter().map(i64::to_string).collect();
                write!(
                    f,
                    "the connection was lost while migrations {} were sent together ({}), so whether each \
                     committed is unknown: each runs in its own transaction with its row in the tracking \
                     table, which is true either way, and the next run goes on from what it says",
                    versions.join(", "),
                    self.summary()
                )?;
            }
            Stage::Commit { down } => {
                let (what, done) = if *down {
                    (
                        "the down script of migration",
                        "rolled back: its row is gone from the tracking table",
                    )
                } else {
                    (
                        "migration",
                        "applied: its row in the tracking table says success",
                    )
                };
                write!(
                    f,
                    "{what} {} ({}) lost its connection after COMMIT was sent ({}), so whether it committed is \
                     unknown: if it did, it is {done}; the tracking table is true either way, and the next run \
                     goes on from what it says",
                    self.version,
                    self.path,
                    self.summary()
                )?;
            }
            Stage::Down => {
                f.write_str("the down script of migration ")?;
                self.write_place(f)?;
                write!(
                    f,
                    " failed and was rolled back: {}\nmigration {} stays applied",
                    self.summary(),
                    self.version
                )?;
            }
            Stage::Up => {
                f.write_str("migration ")?;
                self.write_place(f)?;
                write!(f, " failed and was rolled back: {}", self.summary())?;
            }
            Stage::Reapply => {
                f.write_str("migration ")?;
                self.write_place(f)?;
                write!(
                    f,
                    ", run again, failed and was rolled back: {}\nnothing changed: it stays recorded \
                     as applied; what it makes may be partly there, which running it again cannot mend",
                    self.summary()
                )?;
            }
            Stage::Repeatable => {
                write!(f, "repeatable migration {} ({}", self.name, self.path)?;
                if let Some(at) = self.position {
                    write!(f, ":{at}")?;
                }
                write!(
                    f,
                    ") failed, and the repeatable migrations, applied together, were rolled back as they were: {}",
                    self.summary()
                )?;
            }
            Stage::Statement(s) => {
                f.write_str("migration ")?;
                self.write_place(f)?;
                write!(
                    f,
                    " failed at statement {} of {} (line {}): {}",
                    s.number,
                    s.total,
                    s.at.line,
                    self.summary()
                )?;
                write!(
                    f,
                    "\nit runs outside a transaction: {}",
                    what_stays(
                        s.number - 1,
                        self.source.as_db_error().is_some() && s.invalid_indexes.is_empty()
                    )
                )?;
                if !s.invalid_indexes.is_empty() {
                    write!(
                        f,
                        "\nthe failed statement left INVALID index(es) behind: {}; \
                         drop them (DROP INDEX CONCURRENTLY) before resuming",
                        s.invalid_indexes.join(", ")
                    )?;
                }
                let remedies = self.remedies();
                if remedies.len() == 1 {
                    f.write_str(
                        "\nruns refuse to go on until it is resumed, once its cause is fixed: ",
                    )?;
                } else {
                    f.write_str(
                        "\nruns refuse to go on until it is resumed, or, once completed or undone by hand, \
                         recorded so: ",
                    )?;
                }
                write_list(f, &remedies, words)?;
            }
        }
        match self.code() {
            Some("55P03") => write!(
                f,
                "\nit gave up waiting for a lock another session holds (lock_timeout), so it did not hold up \
                 that session's queries; retry when the other session is done, or allow a longer wait"
            )?,
            Some("57014") => write!(
                f,
                "\na statement was canceled: it ran longer than statement_timeout, or a cancel was requested"
            )?,
            _ => {}
        }
        match &self.applied_before[..] {
            [] => {}
            few @ [_, ..] if few.len() <= 5 => {
                let versions: Vec<String> = few.iter().map(|a| a.version().to_string()).collect();
                write!(f, "\nthis run applied {} before it", versions.join(", "))?;
            }
            [first, .., last] => write!(
                f,
                "\nthis run applied {} migrations before it, {} to {}",
                self.applied_before.len(),
                first.version(),
                last.version()
            )?,
            [_] => {}
        }
        match (&self.not_recorded, &self.stage) {
            (_, Stage::Commit { .. }) => Ok(()),
            (None, Stage::Up) => write!(
                f,
                "\nthe failure is recorded in the tracking table; the next run retries this migration"
            ),
            (None, Stage::Statement(_)) => {
                write!(f, "\nthe failure is recorded in the tracking table")
            }
            (None, Stage::Repeatable) => write!(
                f,
                "\nthe failure is recorded in the tracking table; the next run tries again"
            ),
            (None, _) => Ok(()),
            (Some(e), _) => write!(
                f,
                "\nthe failure could not be recorded in the tracking table: {}",
                ServerError(e)
            ),
        }
    }
}

impl fmt::Display for MigrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, f)
    }
}

impl std::error::Error for MigrationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Every way the tracking table's history disagrees with the binary.
///
/// ```
/// static BASE: stowage::Migrations = stowage::embed_migrations!("../tests/fixtures/base");
/// static EDITED: stowage::Migrations = stowage::embed_migrations!("../tests/fixtures/edited");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// BASE.run(&mut client)?;
/// let Err(stowage::Error::History(history)) = EDITED.run(&mut client) else { panic!() };
/// assert!(matches!(history.violations(), [stowage::Violation::Divergent { version: 2, .. }]));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct HistoryError {
    pub(crate) table: String,
    pub(crate) violations: Vec<Violation>,
}

impl HistoryError {
    /// The disagreements, in version order.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    fn render(&self, words: Words, f: &mut dyn fmt::Write) -> fmt::Result {
        write!(
            f,
            "the history in {} disagrees with the migrations in this binary; nothing was applied:",
            self.table
        )?;
        for v in &self.violations {
            f.write_str("\n  - ")?;
            v.render(words, f)?;
        }
        Ok(())
    }
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, f)
    }
}

impl std::error::Error for HistoryError {}

/// An operator's request that stowage refused, changing nothing: the
/// request would make the tracking table lie, or names a migration it
/// cannot act on.
///
/// See [`Error`] for an example.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "refusal", rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum Refusal {
    /// The binary has no migration with this version (a target, or a
    /// migration to mark applied or accept).
    UnknownVersion {
        /// The version asked for.
        version: i64,
    },
    /// The tracking table has no record of the migration.
    NotRecorded {
        /// The version asked for.
        version: i64,
    },
    /// The migration is not recorded as applied, so there is no checksum
    /// to accept.
    NotApplied {
        /// The version asked for.
        version: i64,
    },
    /// The migration is recorded as applied: forgetting it would make the
    /// next run apply it again. Rolling it back undoes it;
    /// [`Runner::reapply`](crate::Runner::reapply) runs a transactional one
    /// again where what it makes is missing.
    Applied {
        /// The version asked for.
        version: i64,
        /// Whether it runs in a transaction, and so can be run again.
        transactional: bool,
    },
    /// The migration is applied with another checksum than the binary's:
    /// marking it applied would hide that.
    OtherChecksum {
        /// The version asked for.
        version: i64,
        /// The checksum recorded.
        recorded: String,
        /// The binary's checksum.
        binary: &'static str,
    },
    /// The binary has no migration at or below the baseline.
    NothingToBaseline {
        /// The baseline asked for.
        version: i64,
    },
    /// The tracking table records migrations that contradict a baseline:
    /// failed or edited ones at or below it, or any above it.
    BaselineContradicted {
        /// The baseline asked for.
        version: i64,
        /// The versions recorded that contradict it.
        recorded: Vec<i64>,
    },
    /// Another tool's history cannot be adopted as it is; nothing was
    /// recorded.
    Adopt {
        /// The tool.
        tool: String,
        /// Its table.
        table: String,
        /// Every problem found.
        problems: Vec<String>,
    },
    /// An object outside the repeatable migrations depends on one of theirs
    /// that a run must drop and create again (a view whose columns
    /// changed, a function whose signature did): stowage never drops with
    /// `CASCADE`, so nothing of the repeatable migrations was changed.
    OutsideDependent {
        /// The repeatable migration whose object must be dropped.
        repeatable: String,
        /// That object, as PostgreSQL describes it (`view account_summary`).
        object: String,
        /// What depends on it, as PostgreSQL describes it (`view
        /// big_accounts`, `default value for column c of table t`).
        dependent: String,
    },
    /// A rollback would drop or change what an object of a repeatable
    /// migration depends on; nothing was rolled back.
    UnderRepeatable {
        /// The migration whose down script would do it.
        version: i64,
        /// The repeatable migration.
        repeatable: String,
        /// Its object that depends on it, as PostgreSQL describes it.
        object: String,
    },
    /// An applied migration cannot be run again; nothing was changed.
    Reapply {
        /// The migration asked for.
        version: i64,
        /// Why not.
        reason: ReapplyReason,
    },
    /// Some migration to undo cannot be rolled back; nothing was.
    Rollback {
        /// The version to go back to; `None` to undo everything.
        to: Option<i64>,
        /// Every reason, one per migration.
        problems: Vec<RollbackProblem>,
    },
}

/// Why one migration cannot be rolled back.
///
/// ```
/// use stowage::{Error, Refusal, RollbackReason};
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// MIGRATIONS.run(&mut client)?;
/// // Migration 5 has no down script.
/// let Err(Error::Refused(Refusal::Rollback { problems, .. })) =
///     MIGRATIONS.runner().rollback_to(&mut client, 4)
/// else {
///     panic!()
/// };
/// assert_eq!((problems[0].version, problems[0].reason), (5, RollbackReason::NoDownScript));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RollbackProblem {
    /// The migration.
    pub version: i64,
    /// Its file, if the binary has it.
    pub path: Option<&'static str>,
    /// What stands in the way.
    pub reason: RollbackReason,
}

/// What stands in the way of rolling a migration back.
///
/// See [`RollbackProblem`] for an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum RollbackReason {
    /// The binary does not have it.
    Unknown,
    /// It failed, or a no-transaction run of it stopped part way.
    FailedOrDirty,
    /// It has no down script.
    NoDownScript,
    /// Its down script runs outside a transaction, which rollback does not
    /// do.
    NoTransactionDown,
    /// It was edited since it was applied, so its down script may not fit.
    Divergent,
}

/// Why an applied migration cannot be run again with
/// [`Runner::reapply`](crate::Runner::reapply).
///
/// ```
/// use stowage::{Error, ReapplyReason, Refusal};
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// MIGRATIONS.run(&mut client)?;
/// // Everything migration 2 makes is there.
/// let Err(Error::Refused(Refusal::Reapply { reason, .. })) =
///     MIGRATIONS.runner().reapply(&mut client, 2)
/// else {
///     panic!()
/// };
/// assert_eq!(reason, ReapplyReason::NothingMissing);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum ReapplyReason {
    /// It is not recorded as applied (a run applies it).
    NotApplied,
    /// It runs outside a transaction, so a failure part way could not be
    /// undone.
    NoTransaction,
    /// The binary carries no schema file, so nothing can tell that what the
    /// migration makes is missing.
    NoSchemaFile,
    /// The database is not at the binary's newest version, where the schema
    /// file says what should be there.
    NotAtNewestVersion,
    /// The schema check finds nothing that this migration makes missing:
    /// running it again would apply it twice.
    NothingMissing,
}

impl Refusal {
    /// What can be done about it.
    pub fn remedies(&self) -> Vec<Remedy> {
        match self {
            Refusal::OtherChecksum { version, .. } => {
                vec![Remedy::AcceptChecksum { version: *version }]
            }
            Refusal::Applied {
                version,
                transactional,
            } => {
                let mut remedies = vec![if *version <= 0 {
                    Remedy::RollbackAll
                } else {
                    Remedy::RollbackTo {
                        version: version - 1,
                    }
                }];
                if *transactional {
                    remedies.push(Remedy::Reapply { version: *version });
                }
                remedies
            }
            Refusal::Rollback { problems, .. } => {
                let mut remedies = Vec::new();
                for p in problems {
                    let remedy = match p.reason {
                        RollbackReason::Divergent => Remedy::AllowDivergent,
                        _ => continue,
                    };
                    if !remedies.contains(&remedy) {
                        remedies.push(remedy);
                    }
                }
                remedies
            }
            _ => Vec::new(),
        }
    }

    pub(crate) fn render(&self, words: Words, f: &mut dyn fmt::Write) -> fmt::Result {
        match self {
            Refusal::UnknownVersion { version } => {
                write!(f, "refused: this binary has no migration {version}")
            }
            Refusal::NotRecorded { version } => write!(
                f,
                "refused: the tracking table has no record of migration {version}"
            ),
            Refusal::NotApplied { version } => write!(
                f,
                "refused: migration {version} is not recorded as applied, so there is no checksum to accept"
            ),
            Refusal::Applied { version, .. } => {
                write!(
                    f,
                    "refused: migration {version} is applied; forgetting it would make the next run apply it \
                     again; to undo it, "
                )?;
                let remedies = self.remedies();
                let (undo, again) = remedies.split_at(1);
                write_list(f, undo, words)?;
                if !again.is_empty() {
                    f.write_str("; if what it makes is missing, ")?;
                    write_list(f, again, words)?;
                }
                Ok(())
            }
            Refusal::OtherChecksum {
                version,
                recorded,
                binary,
            } => {
                write!(
                    f,
                    "refused: migration {version} is applied with checksum {recorded}, not this binary's \
                     {binary}; to accept the edited file, "
                )?;
                write_list(f, &self.remedies(), words)
            }
            Refusal::NothingToBaseline { version } => write!(
                f,
                "refused: this binary has no migration at or below {version} to record as a baseline"
            ),
            Refusal::BaselineContradicted { version, recorded } => write!(
                f,
                "refused: the tracking table already records migrations {recorded:?} as failed, edited, \
                 or above the baseline {version}; a baseline is for a database with no history up to it"
            ),
            Refusal::Adopt {
                tool,
                table,
                problems,
            } => {
                write!(f, "refused: nothing was adopted from {tool}")?;
                if !table.is_empty() {
                    write!(f, " ({table})")?;
                }
                f.write_str(":")?;
                for p in problems {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
            Refusal::OutsideDependent {
                repeatable,
                object,
                dependent,
            } => write!(
                f,
                "refused: {object} of repeatable migration {repeatable} cannot be replaced in place, and \
                 {dependent}, which is not a repeatable migration's, depends on it; stowage never drops \
                 with CASCADE, so nothing of the repeatable migrations was changed: drop or change \
                 {dependent} in a versioned migration first, or create it in a repeatable file too"
            ),
            Refusal::UnderRepeatable {
                version,
                repeatable,
                object,
            } => write!(
                f,
                "refused: nothing was rolled back: the down script of migration {version} drops or changes \
                 what {object} of repeatable migration {repeatable} depends on; remove the repeatable file \
                 (or change it) and run, then roll back"
            ),
            Refusal::Reapply { version, reason } => {
                write!(f, "refused: migration {version} was not run again: ")?;
                f.write_str(match reason {
                    ReapplyReason::NotApplied => "it is not recorded as applied; a run applies it",
                    ReapplyReason::NoTransaction => {
                        "it runs outside a transaction, so a failure part way could not be undone"
                    }
                    ReapplyReason::NoSchemaFile => {
                        "this binary carries no schema file, so nothing tells that what it makes is missing"
                    }
                    ReapplyReason::NotAtNewestVersion => {
                        "the database is not at this binary's newest version, where the schema file \
                         says what should be there"
                    }
                    ReapplyReason::NothingMissing => {
                        "the schema check finds nothing it makes missing, and running it again would \
                         apply it twice"
                    }
                })
            }
            Refusal::Rollback { problems, .. } => {
                f.write_str("refused: nothing was rolled back:")?;
                for p in problems {
                    write!(f, "\n  - migration {}", p.version)?;
                    if let Some(path) = p.path {
                        write!(f, " ({path})")?;
                    }
                    f.write_str(match p.reason {
                        RollbackReason::Unknown => " is unknown to this binary",
                        RollbackReason::FailedOrDirty => {
                            " is failed or dirty: mend it first (repair, resume, mark it applied or forget it)"
                        }
                        RollbackReason::NoDownScript => " has no down script",
                        RollbackReason::NoTransactionDown => {
                            " has a no-transaction down script, which rollback does not run yet"
                        }
                        RollbackReason::Divergent => {
                            " was edited since it was applied, so its down script may not fit what was applied"
                        }
                    })?;
                }
                let remedies = self.remedies();
                if !remedies.is_empty() {
                    f.write_str("\nto roll back edited migrations all the same: ")?;
                    write_list(f, &remedies, words)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, f)
    }
}

/// An error as JSON: its kind, its typed parts and its remedies; the
/// message is its `Display`, left to whoever writes it in their reader's
/// words.
#[cfg(feature = "serde")]
impl serde::Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        let kind = match self {
            Error::Migration(_) => "migration",
            Error::History(_) => "history",
            Error::LockTimeout { .. } => "lock-timeout",
            Error::LockLost { .. } => "lock-lost",
            Error::Refused(_) => "refused",
            Error::InvalidTable { .. } => "invalid-table",
            Error::InvalidOption { .. } => "invalid-option",
            Error::NoCurrentSchema => "no-current-schema",
            Error::Database { .. } => "database",
            Error::SchemaDrift(_) => "schema-drift",
            Error::SchemaFile { .. } => "schema-file",
        };
        map.serialize_entry("kind", kind)?;
        map.serialize_entry("code", &self.code())?;
        match self {
            Error::Migration(m) => {
                map.serialize_entry("version", &m.version)?;
                map.serialize_entry("path", m.path)?;
                map.serialize_entry("position", &m.position)?;
                map.serialize_entry("stage", &m.stage)?;
                map.serialize_entry("server_error", &m.summary())?;
                map.serialize_entry("applied_before", &m.applied_before)?;
                map.serialize_entry("in_flight", &m.in_flight)?;
                map.serialize_entry("recorded", &m.not_recorded.is_none())?;
            }
            Error::History(h) => {
                map.serialize_entry("table", &h.table)?;
                map.serialize_entry("violations", &h.violations)?;
            }
            Error::LockTimeout {
                table,
                waited,
                holder,
                running_statement,
            } => {
                map.serialize_entry("table", table)?;
                map.serialize_entry("waited_ms", &waited.as_millis())?;
                map.serialize_entry("holder_pid", holder)?;
                map.serialize_entry("running_statement", running_statement)?;
            }
            Error::LockLost { table, migration } => {
                map.serialize_entry("table", table)?;
                map.serialize_entry("version", &migration.map(|(v, _)| v))?;
            }
            Error::Refused(refusal) => map.serialize_entry("refusal", refusal)?,
            Error::InvalidTable { name, .. } => map.serialize_entry("name", name)?,
            Error::InvalidOption { option, .. } => map.serialize_entry("option", option)?,
            Error::NoCurrentSchema => {}
            Error::Database { doing, .. } => map.serialize_entry("doing", doing)?,
            Error::SchemaDrift(check) => map.serialize_entry("schema", check)?,
            Error::SchemaFile { path, line, .. } => {
                map.serialize_entry("path", path)?;
                map.serialize_entry("line", line)?;
            }
        }
        map.serialize_entry("remedies", &self.remedies())?;
        map.end()
    }
}
