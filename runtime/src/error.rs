//! The errors a run can end with.

use crate::history::Violation;
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

    /// A query of stowage's own (not a migration's) failed, e.g. because the
    /// connection was lost.
    #[error("{doing}: {source}")]
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
    pub(crate) not_recorded: Option<postgres::Error>,
    pub(crate) source: postgres::Error,
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
        write!(f, "migration {} ({}", self.version, self.path)?;
        if let Some(at) = self.position {
            write!(f, ":{}:{}", at.line, at.column)?;
        }
        write!(f, ") failed and was rolled back: {}", self.summary())?;
        match &self.not_recorded {
            None => write!(
                f,
                "\nthe failure is recorded in the tracking table; the next run retries this migration"
            ),
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
