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

    /// Whether the run changed nothing.
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty() && self.undone.is_empty()
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
