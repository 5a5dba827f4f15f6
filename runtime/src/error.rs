//! The errors a run can end with.

use crate::history::Violation;
use crate::report::Applied;
use std::fmt;
use std::time::Duration;
pub use stowage_core::position::LineColumn;

/// Why a run stopped. Each variant says what to do about it; none ever holds
/// a connection string.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A migration failed; it was rolled back and its failure recorded.
    #[error(transparent)]
    Migration(Box<MigrationError>),

    /// The tracking table's history disagrees with the binary; nothing was
    /// applied.
    #[error(transparent)]
    History(HistoryError),

    /// Another process held the migration lock for longer than the runner's
    /// lock wait timeout.
    #[error(
        "gave up after {waited:?} waiting for the migration lock on {table}{}: \
         another process is migrating this database; retry later or raise Runner::lock_wait_timeout",
        holder.map(|pid| format!(" (held by server process {pid})")).unwrap_or_default()
    )]
    LockTimeout {
        /// The tracking table the lock guards.
        table: String,
        /// How long this run waited.
        waited: Duration,
        /// The server process id of the session holding the lock, if seen.
        holder: Option<i32>,
    },

    /// The name given to [`Runner::table`](crate::Runner::table) cannot name a table.
    #[error("invalid tracking table name {name:?}: {reason}")]
    InvalidTable {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The session has no current schema to put the tracking table in.
    #[error(
        "the connection has no current schema (its search_path names no existing schema): \
         fix search_path, or name the tracking table with its schema, e.g. table(\"public.stowage_migrations\")"
    )]
    NoCurrentSchema,

    /// An operator's request (resume, mark applied, forget) that would make
    /// the tracking table lie, or that names a migration it cannot act on.
    #[error("cannot do that to migration {version}: {reason}")]
    Refused {
        /// The migration's version.
        version: i64,
        /// Why, and what to do instead.
        reason: String,
    },

    /// A query of stowage's own (not a migration's) failed, e.g. because the
    /// connection was lost.
    #[error("{doing}: {}", server_error(source))]
    Database {
        /// What stowage was doing.
        doing: &'static str,
        /// The error from the `postgres` crate.
        #[source]
        source: postgres::Error,
    },
}

impl Error {
    pub(crate) fn database(doing: &'static str) -> impl FnOnce(postgres::Error) -> Error {
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
}

/// A migration that PostgreSQL refused, with everything the server said and
/// where in the file it happened.
#[derive(Debug)]
pub struct MigrationError {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) path: &'static str,
    pub(crate) position: Option<LineColumn>,
    pub(crate) statement: Option<FailedStatement>,
    /// The failed script is the migration's down script.
    pub(crate) undoing: bool,
    pub(crate) not_recorded: Option<postgres::Error>,
    /// The migrations the same run applied before this one failed.
    pub(crate) applied_before: Vec<Applied>,
    /// The connection was lost after `COMMIT` was sent: the server may have
    /// committed the script with its tracking row, or not.
    pub(crate) outcome_unknown: bool,
    pub(crate) source: postgres::Error,
}

/// Where a no-transaction migration stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl MigrationError {
    /// The migration's version.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The migration's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The migration's file, relative to the crate root.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// Where in the file the server placed the error, when it gave a position.
    pub fn position(&self) -> Option<LineColumn> {
        self.position
    }

    /// The server's error, with its message, detail, hint and context.
    pub fn db_error(&self) -> Option<&postgres::error::DbError> {
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

    /// Whether the connection was lost after the script's `COMMIT` was sent,
    /// so that it may have been committed, tracking row included, or not:
    /// the tracking table tells which.
    pub fn is_outcome_unknown(&self) -> bool {
        self.outcome_unknown
    }

    /// Whether it was the migration's down script that failed, in a rollback.
    pub fn is_down(&self) -> bool {
        self.undoing
    }

    /// For a no-transaction migration, the statement it stopped at: the
    /// ones before it stay applied, and the migration is dirty.
    pub fn statement(&self) -> Option<&FailedStatement> {
        self.statement.as_ref()
    }

    /// Whether the failure row could not be written to the tracking table
    /// (for example because the connection was lost): the error it met.
    pub fn not_recorded(&self) -> Option<&postgres::Error> {
        self.not_recorded.as_ref()
    }

    /// The server's account of the failure, as recorded in the tracking
    /// table's `error` column.
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
            None => s.push_str(&self.source.to_string()),
        }
        s
    }
}

impl fmt::Display for MigrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.outcome_unknown {
            let (what, done) = if self.undoing {
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
            return write!(
                f,
                "{what} {} ({}) lost its connection after COMMIT was sent ({}), so whether it committed is \
                 unknown: if it did, it is {done}; the tracking table is true either way, and the next run \
                 goes on from what it says",
                self.version,
                self.path,
                self.summary()
            );
        }
        if self.undoing {
            write!(
                f,
                "the down script of migration {} ({}",
                self.version, self.path
            )?;
            if let Some(at) = self.position {
                write!(f, ":{}:{}", at.line, at.column)?;
            }
            return write!(
                f,
                ") failed and was rolled back: {}\nmigration {} stays applied",
                self.summary(),
                self.version
            );
        }
        write!(f, "migration {} ({}", self.version, self.path)?;
        if let Some(at) = self.position {
            write!(f, ":{}:{}", at.line, at.column)?;
        }
        match &self.statement {
            None => write!(f, ") failed and was rolled back: {}", self.summary())?,
            Some(s) => {
                write!(
                    f,
                    ") failed at statement {} of {} (line {}): {}",
                    s.number,
                    s.total,
                    s.at.line,
                    self.summary()
                )?;
                write!(
                    f,
                    "\nit runs outside a transaction: {}, so the database may be partly changed",
                    stays_applied(s.number - 1)
                )?;
                if !s.invalid_indexes.is_empty() {
                    write!(
                        f,
                        "\nthe failed statement left INVALID index(es) behind: {}; \
                         drop them (DROP INDEX CONCURRENTLY) before resuming",
                        s.invalid_indexes.join(", ")
                    )?;
                }
                write!(
                    f,
                    "\nruns refuse to go on until it is resumed (Runner::resume, at statement {}) \
                     or, once completed or undone by hand, marked applied (Runner::mark_applied({v})) \
                     or forgotten (Runner::forget({v}))",
                    s.number,
                    v = self.version
                )?;
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
        if !self.applied_before.is_empty() {
            let versions: Vec<String> = self
                .applied_before
                .iter()
                .map(|a| a.version().to_string())
                .collect();
            write!(f, "\nthis run applied {} before it", versions.join(", "))?;
        }
        match &self.not_recorded {
            None if self.statement.is_none() => write!(
                f,
                "\nthe failure is recorded in the tracking table; the next run retries this migration"
            ),
            None => write!(f, "\nthe failure is recorded in the tracking table"),
            Some(e) => write!(
                f,
                "\nthe failure could not be recorded in the tracking table: {e}"
            ),
        }
    }
}

impl std::error::Error for MigrationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// A `postgres` error with what the server said, which its own `Display`
/// leaves to its source: `ERROR 42P01: relation "x" does not exist`, or
/// `error connecting to server: Connection refused (os error 111)`.
pub(crate) fn server_error(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut s = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
            if let Some(detail) = db.detail() {
                s.push_str(&format!(" ({detail})"));
            }
            s
        }
        None => {
            // The `postgres` error's text leaves its cause (an I/O error, say) to its source.
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                if !text.contains(&cause_text) {
                    text.push_str(&format!(": {cause_text}"));
                }
                source = cause.source();
            }
            text
        }
    }
}

/// What stays of a no-transaction migration that stopped after `done` statements.
pub(crate) fn stays_applied(done: usize) -> String {
    match done {
        0 => "no statement before the failed one had completed".to_owned(),
        1 => "statement 1 stays applied".to_owned(),
        n => format!("statements 1 to {n} stay applied"),
    }
}

/// Every way the tracking table's history disagrees with the binary.
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
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the history in {} disagrees with the migrations in this binary; nothing was applied:",
            self.table
        )?;
        for v in &self.violations {
            write!(f, "\n  - {v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for HistoryError {}
