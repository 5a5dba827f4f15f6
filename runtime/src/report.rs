//! What a run did.

use std::fmt;
use std::time::Duration;

/// The outcome of a successful run: the migrations it applied, in order
/// (or, for a rollback, the ones it undid).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub(crate) applied: Vec<Applied>,
    pub(crate) undone: Vec<Applied>,
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

    /// Whether the run found nothing to do.
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty() && self.undone.is_empty()
    }

    /// The time spent running scripts, tracking rows included.
    pub fn duration(&self) -> Duration {
        self.applied
            .iter()
            .chain(&self.undone)
            .map(|a| a.duration)
            .sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return write!(f, "nothing to apply: the database is up to date");
        }
        for (what, list) in [("applied", &self.applied), ("rolled back", &self.undone)] {
            if list.is_empty() {
                continue;
            }
            let took: Duration = list.iter().map(|a| a.duration).sum();
            write!(f, "{what} {} migration(s) in {took:?}", list.len())?;
            for a in list {
                write!(f, "\n  {a}")?;
            }
        }
        Ok(())
    }
}

/// One applied migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) path: &'static str,
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
