//! What a run did.

use crate::data::remedy::{Remedy, Words};
use std::fmt;
use std::time::Duration;

/// The outcome of a run that ended well: the migrations it applied, in order
/// (or, for a rollback, the ones it undid).
///
/// It prints as a short summary:
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// let report = MIGRATIONS.run(&mut client)?;
/// assert_eq!(report.applied().len(), MIGRATIONS.len());
/// println!("{report}"); // applied 6 migration(s) in 25ms ...
/// assert!(MIGRATIONS.run(&mut client)?.is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Report {
    pub(crate) applied: Vec<Applied>,
    pub(crate) undone: Vec<Applied>,
    /// What the run did to the repeatable migrations.
    pub(crate) repeatables: Vec<RepeatableApplied>,
    /// Set when a run with a target found the database past it already.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub(crate) target_below: Option<TargetBelow>,
    /// For a rollback, the version it went back to (`None`: before every
    /// migration).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) rolled_back_to: Option<Option<i64>>,
}

/// A run's target that is below the version the database is at: such a run
/// applies nothing, and [`Runner::rollback_to`](crate::Runner::rollback_to)
/// is what goes back.
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// MIGRATIONS.run(&mut client)?;
/// let report = MIGRATIONS.runner().target(2).run(&mut client)?;
/// assert!(report.is_empty());
/// assert_eq!(report.target_below(), Some(stowage::TargetBelow { target: 2, current: 6 }));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TargetBelow {
    /// The run's target.
    pub target: i64,
    /// The highest version the database has applied.
    pub current: i64,
}

impl Report {
    /// The migrations this run applied, in the order it applied them.
    pub fn applied(&self) -> &[Applied] {
        &self.applied
    }

    /// The migrations a rollback undid, newest first; their `path` is the
    /// down script's.
    pub fn undone(&self) -> &[Applied] {
        &self.undone
    }

    /// What the run did to the repeatable migrations, in the order it did
    /// it.
    pub fn repeatables(&self) -> &[RepeatableApplied] {
        &self.repeatables
    }

    /// Whether the run changed nothing.
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty() && self.undone.is_empty() && self.repeatables.is_empty()
    }

    /// When the run had a target below the version the database is at, the
    /// two versions: it applied nothing.
    pub fn target_below(&self) -> Option<TargetBelow> {
        self.target_below
    }

    /// The time spent running scripts, tracking rows included.
    pub fn duration(&self) -> Duration {
        self.applied
            .iter()
            .chain(&self.undone)
            .map(|a| a.duration)
            .sum()
    }

    pub(crate) fn render(&self, words: Words, f: &mut dyn fmt::Write) -> fmt::Result {
        if self.is_empty() {
            if let Some(to) = self.rolled_back_to {
                return match to {
                    Some(to) => write!(
                        f,
                        "nothing to roll back: no migration after {to} is applied"
                    ),
                    None => write!(f, "nothing to roll back: no migration is applied"),
                };
            }
            return match self.target_below {
                Some(TargetBelow { target, current }) => write!(
                    f,
                    "nothing to apply: the target {target} is below the current version {current}; {} goes back to it",
                    Remedy::RollbackTo { version: target }.words(words)
                ),
                None => write!(f, "nothing to apply: the database is up to date"),
            };
        }
        let mut first = true;
        for (what, list) in [("applied", &self.applied), ("rolled back", &self.undone)] {
            if list.is_empty() {
                continue;
            }
            if !first {
                writeln!(f)?;
            }
            first = false;
            let took: Duration = list.iter().map(|a| a.duration).sum();
            write!(f, "{what} {} migration(s) in {took:?}", list.len())?;
            for a in list {
                write!(f, "\n  {a}")?;
            }
        }
        if !self.repeatables.is_empty() {
            if !first {
                writeln!(f)?;
            }
            write!(
                f,
                "brought {} repeatable migration(s) up to date:",
                self.repeatables.len()
            )?;
            for r in &self.repeatables {
                write!(f, "\n  {r}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, f)
    }
}

/// One applied (or, in a rollback, undone) migration.
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// for applied in MIGRATIONS.run(&mut client)?.applied() {
///     println!("{} {} took {:?}", applied.version(), applied.path(), applied.duration());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Applied {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) path: &'static str,
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "duration_ms",
            serialize_with = "crate::data::serde_time::millis"
        )
    )]
    pub(crate) duration: Duration,
}

impl Applied {
    /// Its version.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Its name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its file, relative to the crate root.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// How long it took, its tracking row and commit included.
    pub fn duration(&self) -> Duration {
        self.duration
    }
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({}) in {:?}",
            self.version, self.name, self.path, self.duration
        )
    }
}

/// What a run did to one repeatable migration.
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// let report = MIGRATIONS.run(&mut client)?;
/// let summary = &report.repeatables()[0];
/// assert_eq!((summary.name(), summary.action()), ("account_summary", stowage::RepeatableAction::Created));
/// assert_eq!(summary.objects(), ["view public.account_summary"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RepeatableApplied {
    pub(crate) name: String,
    pub(crate) path: Option<&'static str>,
    pub(crate) action: RepeatableAction,
    pub(crate) objects: Vec<String>,
    pub(crate) populated: Vec<String>,
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "duration_ms",
            serialize_with = "crate::data::serde_time::millis"
        )
    )]
    pub(crate) duration: Duration,
}

impl RepeatableApplied {
    /// Its name (`active_users` for `R__active_users.sql`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its file, relative to the crate root; `None` for one removed from
    /// the binary.
    pub fn path(&self) -> Option<&'static str> {
        self.path
    }

    /// What was done.
    pub fn action(&self) -> RepeatableAction {
        self.action
    }

    /// The objects it holds now (none once dropped), each its type and
    /// schema-qualified identity, e.g. `view public.active_users`.
    pub fn objects(&self) -> &[String] {
        &self.objects
    }

    /// The materialized views created again and populated (those created
    /// `WITH NO DATA` are not).
    pub fn populated(&self) -> &[String] {
        &self.populated
    }

    /// How long it took.
    pub fn duration(&self) -> Duration {
        self.duration
    }
}

impl fmt::Display for RepeatableApplied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action, self.name)?;
        if let Some(path) = self.path {
            write!(f, " ({path})")?;
        }
        // In whole milliseconds, as the versioned migrations' lines are.
        write!(f, " in {}ms", self.duration.as_millis())?;
        if !self.objects.is_empty() {
            write!(f, ": {}", self.objects.join(", "))?;
        }
        if !self.populated.is_empty() {
            write!(f, "; populated {}", self.populated.join(", "))?;
        }
        Ok(())
    }
}

/// What a run did to a repeatable migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum RepeatableAction {
    /// Its objects were created: a new file, or one whose objects were
    /// absent.
    Created,
    /// Its changed objects replaced the old ones in place, so what depends
    /// on them stayed.
    Replaced,
    /// Its objects were dropped and created again: they could not be
    /// replaced in place, or something they depend on was.
    Recreated,
    /// Its file is gone from the binary: its objects were dropped, with its
    /// row.
    Dropped,
}

impl fmt::Display for RepeatableAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RepeatableAction::Created => "created",
            RepeatableAction::Replaced => "replaced",
            RepeatableAction::Recreated => "recreated",
            RepeatableAction::Dropped => "dropped",
        })
    }
}
