//! Adopting another tool's history: what to adopt from, and what was
//! adopted.

use std::fmt;
use std::time::SystemTime;

/// Where [`Runner::adopt`](crate::Runner::adopt) reads the history from:
/// the tool, its tracking table, and what may be let through.
///
/// ```
/// let from = stowage::Adopt::from("goose").table("app.goose_db_version").dry_run(true);
/// assert_eq!(from.tool(), "goose");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adopt {
    pub(crate) tool: String,
    pub(crate) table: Option<String>,
    pub(crate) dry_run: bool,
    pub(crate) allow_unknown: bool,
    pub(crate) allow_other_checksums: bool,
}

impl Adopt {
    /// From `tool`: `sqlx`, `diesel`, `refinery`, `goose`,
    /// `golang-migrate`, `dbmate` or `flyway`, in its default table.
    pub fn from(tool: impl Into<String>) -> Adopt {
        Adopt {
            tool: tool.into(),
            table: None,
            dry_run: false,
            allow_unknown: false,
            allow_other_checksums: false,
        }
    }

    /// The tool's name.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// Reads this table instead of the tool's default (`schema.table` or
    /// `table`).
    pub fn table(mut self, name: impl Into<String>) -> Adopt {
        self.table = Some(name.into());
        self
    }

    /// Reads and maps everything, and records nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Adopt {
        self.dry_run = dry_run;
        self
    }

    /// Skips the versions the tool recorded that this binary does not
    /// have, instead of refusing.
    pub fn allow_unknown(mut self, allow: bool) -> Adopt {
        self.allow_unknown = allow;
        self
    }

    /// Adopts versions whose checksum in the tool's table differs from the
    /// binary's file, instead of refusing.
    pub fn allow_other_checksums(mut self, allow: bool) -> Adopt {
        self.allow_other_checksums = allow;
        self
    }
}

impl From<&str> for Adopt {
    fn from(tool: &str) -> Adopt {
        Adopt::from(tool)
    }
}

/// What became of one version of the tool's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum Outcome {
    /// Recorded as applied in stowage's table (or, in a dry run, would be).
    Adopted,
    /// stowage's table records it already: left as it is.
    AlreadyRecorded,
    /// A migration in code, handled elsewhere: not recorded.
    Elsewhere,
    /// The tool undid it (goose's down row): not applied.
    NotApplied,
    /// The binary does not have it, and unknown versions were allowed: not
    /// recorded.
    Unknown,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Adopted => "adopted",
            Outcome::AlreadyRecorded => "already recorded",
            Outcome::Elsewhere => "handled elsewhere",
            Outcome::NotApplied => "not applied (undone)",
            Outcome::Unknown => "skipped: not in this binary",
        })
    }
}

/// One version of the tool's history and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Adopted {
    pub(crate) recorded_as: String,
    pub(crate) version: Option<i64>,
    pub(crate) path: Option<&'static str>,
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::data::serde_time::rfc3339")
    )]
    pub(crate) applied_at: Option<SystemTime>,
    pub(crate) execution_ms: Option<i64>,
    pub(crate) outcome: Outcome,
}

impl Adopted {
    /// The version as the tool recorded it.
    pub fn recorded_as(&self) -> &str {
        &self.recorded_as
    }
    /// stowage's version, where the tool's maps onto one.
    pub fn version(&self) -> Option<i64> {
        self.version
    }
    /// The binary's file of it.
    pub fn path(&self) -> Option<&'static str> {
        self.path
    }
    /// When the tool applied it, where it kept that.
    pub fn applied_at(&self) -> Option<SystemTime> {
        self.applied_at
    }
    /// How long it took, where the tool kept that.
    pub fn execution_ms(&self) -> Option<i64> {
        self.execution_ms
    }
    /// What became of it.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }
}

/// What [`Runner::adopt`](crate::Runner::adopt) read and recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Adoption {
    pub(crate) tool: &'static str,
    pub(crate) table: String,
    pub(crate) dry_run: bool,
    pub(crate) entries: Vec<Adopted>,
    pub(crate) note: String,
}

impl Adoption {
    /// The tool adopted from.
    pub fn tool(&self) -> &'static str {
        self.tool
    }
    /// Its table, qualified.
    pub fn table(&self) -> &str {
        &self.table
    }
    /// Whether nothing was recorded.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }
    /// Every version of the tool's history, in the tool's order.
    pub fn entries(&self) -> &[Adopted] {
        &self.entries
    }
    /// The versions recorded (or, in a dry run, to be recorded).
    pub fn adopted(&self) -> Vec<i64> {
        self.entries
            .iter()
            .filter(|e| e.outcome == Outcome::Adopted)
            .filter_map(|e| e.version)
            .collect()
    }
    /// The note written on each row adopted.
    pub fn note(&self) -> &str {
        &self.note
    }
}

impl fmt::Display for Adoption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let adopted = self.adopted().len();
        if self.dry_run {
            writeln!(
                f,
                "dry run: would adopt {adopted} migration(s) from {} ({}); nothing was recorded",
                self.tool, self.table
            )?;
        } else {
            writeln!(
                f,
                "adopted {adopted} migration(s) from {} ({}), which is left as it was",
                self.tool, self.table
            )?;
        }
        for e in &self.entries {
            let version = e.version.map_or_else(|| "?".to_owned(), |v| v.to_string());
            write!(f, "  {} -> {version}", e.recorded_as)?;
            if let Some(path) = e.path {
                write!(f, " {path}")?;
            }
            write!(f, ": {}", e.outcome)?;
            if let Some(at) = e.applied_at {
                write!(f, ", applied {}", humantime::format_rfc3339_seconds(at))?;
            }
            writeln!(f)?;
        }
        write!(f, "note: {}", self.note)
    }
}
