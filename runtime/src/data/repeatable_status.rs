//! What the database holds of the repeatable migrations, compared with the
//! binary: each one's state, and how many are in each.

use std::fmt;
use std::time::SystemTime;

/// The state of one repeatable migration.
///
/// ```
/// use stowage::RepeatableState;
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// let status = MIGRATIONS.runner().status(&mut client)?;
/// assert_eq!(*status.repeatables()[0].state(), RepeatableState::Pending);
/// MIGRATIONS.run(&mut client)?;
/// let status = MIGRATIONS.runner().status(&mut client)?;
/// assert_eq!(status.repeatables()[0].state().name(), "applied");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "state", rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum RepeatableState {
    /// Applied as the binary has it.
    Applied,
    /// Never applied: the next run creates its objects.
    Pending,
    /// Applied, but the binary's file differs: the next run replaces its
    /// objects.
    Changed {
        /// The checksum recorded when it was applied.
        recorded_checksum: String,
    },
    /// Its objects were dropped so that a versioned migration could change
    /// a table under them; the next run (or the rest of the run that did
    /// it) creates them again.
    Absent {
        /// The versioned migration they were dropped for.
        migration: i64,
    },
    /// Recorded, but the binary has no such file: the next run drops its
    /// objects and its row.
    Removed,
}

impl RepeatableState {
    /// A short name: `applied`, `pending`, `changed`, `absent` or `removed`.
    pub fn name(&self) -> &'static str {
        match self {
            RepeatableState::Applied => "applied",
            RepeatableState::Pending => "pending",
            RepeatableState::Changed { .. } => "changed",
            RepeatableState::Absent { .. } => "absent",
            RepeatableState::Removed => "removed",
        }
    }
}

impl fmt::Display for RepeatableState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepeatableState::Absent { migration } => {
                write!(f, "absent (dropped for migration {migration})")
            }
            other => f.write_str(other.name()),
        }
    }
}

/// One repeatable migration's line in a [`Status`](crate::Status).
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// MIGRATIONS.run(&mut client)?;
/// let status = MIGRATIONS.runner().status(&mut client)?;
/// let summary = &status.repeatables()[0];
/// assert_eq!(summary.name(), "account_summary");
/// assert_eq!(summary.objects(), ["view public.account_summary"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RepeatableEntry {
    pub(crate) name: String,
    pub(crate) path: Option<&'static str>,
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub(crate) state: RepeatableState,
    /// The binary's checksum of the file, if it has it.
    pub(crate) checksum: Option<&'static str>,
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::data::serde_time::rfc3339")
    )]
    pub(crate) applied_at: Option<SystemTime>,
    pub(crate) applied_by: Option<String>,
    pub(crate) objects: Vec<String>,
    pub(crate) error: Option<String>,
}

impl RepeatableEntry {
    /// Its name (`active_users` for `R__active_users.sql`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its file, if the binary has it.
    pub fn path(&self) -> Option<&'static str> {
        self.path
    }
    /// Its state.
    pub fn state(&self) -> &RepeatableState {
        &self.state
    }
    /// The binary's checksum of it, if the binary has it.
    pub fn checksum(&self) -> Option<&'static str> {
        self.checksum
    }
    /// When it was last applied.
    pub fn applied_at(&self) -> Option<SystemTime> {
        self.applied_at
    }
    /// The database user that last applied it.
    pub fn applied_by(&self) -> Option<&str> {
        self.applied_by.as_deref()
    }
    /// The objects it created, as recorded: each its type and
    /// schema-qualified identity, e.g. `view public.active_users` or
    /// `function public.label(integer)`.
    pub fn objects(&self) -> &[String] {
        &self.objects
    }
    /// The server's error, when the last attempt to apply it failed (the
    /// objects applied before stay as they were).
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// How many repeatable migrations are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RepeatableCounts {
    /// Applied as the binary has them.
    pub applied: usize,
    /// Never applied.
    pub pending: usize,
    /// Applied, but changed since.
    pub changed: usize,
    /// Dropped for a versioned migration, not created again yet.
    pub absent: usize,
    /// Recorded, but gone from the binary.
    pub removed: usize,
}

impl RepeatableCounts {
    pub(crate) fn of(entries: &[RepeatableEntry]) -> RepeatableCounts {
        let mut counts = RepeatableCounts::default();
        for e in entries {
            *match e.state {
                RepeatableState::Applied => &mut counts.applied,
                RepeatableState::Pending => &mut counts.pending,
                RepeatableState::Changed { .. } => &mut counts.changed,
                RepeatableState::Absent { .. } => &mut counts.absent,
                RepeatableState::Removed => &mut counts.removed,
            } += 1;
        }
        counts
    }
}
