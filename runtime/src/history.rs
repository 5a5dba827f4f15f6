//! Checking the tracking table's history against the binary's migrations.

use crate::migration::{Migration, Migrations};
use crate::tracking_table::Row;
use std::fmt;

/// One way the recorded history disagrees with the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// An applied migration's file was edited since.
    ChecksumMismatch {
        /// Its version.
        version: i64,
        /// Its file in this binary.
        path: &'static str,
        /// The checksum recorded when it was applied.
        applied: String,
        /// The checksum of the file in this binary.
        binary: String,
    },
    /// A version recorded as applied that this binary does not have.
    Missing {
        /// Its version.
        version: i64,
        /// Its recorded name.
        name: String,
    },
    /// A pending migration older than the newest applied one.
    OutOfOrder {
        /// Its version.
        version: i64,
        /// Its file.
        path: &'static str,
        /// The highest version applied.
        highest_applied: i64,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::ChecksumMismatch {
                version,
                path,
                applied,
                binary,
            } => write!(
                f,
                "migration {version} ({path}) was edited after it was applied: \
                 checksum applied {applied}, in this binary {binary}; \
                 restore the file as it was applied and make the change in a new migration, \
                 or allow_divergent(true) to go on"
            ),
            Violation::Missing { version, name } => write!(
                f,
                "migration {version} ({name}) is recorded as applied but this binary does not have it; \
                 run a binary that has it, or allow_missing(true) to go on without it"
            ),
            Violation::OutOfOrder {
                version,
                path,
                highest_applied,
            } => write!(
                f,
                "migration {version} ({path}) is pending but migration {highest_applied} is already applied; \
                 give it a version above {highest_applied}, or allow_out_of_order(true) to apply it anyway"
            ),
        }
    }
}

/// The options that relax the check.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Allow {
    pub divergent: bool,
    pub missing: bool,
    pub out_of_order: bool,
}

/// The migrations to apply, in version order, or every violation found.
pub(crate) fn pending<'m>(
    migrations: &'m Migrations,
    rows: &[Row],
    allow: Allow,
) -> Result<Vec<&'m Migration>, Vec<Violation>> {
    let applied: Vec<&Row> = rows.iter().filter(|r| r.success).collect();
    let highest_applied = applied.iter().map(|r| r.version).max();
    let mut violations = Vec::new();
    for row in &applied {
        match migrations.get(row.version) {
            Some(m) if m.checksum() != row.checksum => {
                let violation = Violation::ChecksumMismatch {
                    version: row.version,
                    path: m.path(),
                    applied: row.checksum.clone(),
                    binary: m.checksum().to_owned(),
                };
                if allow.divergent {
                    tracing::warn!("going on although {violation}");
                } else {
                    violations.push(violation);
                }
            }
            Some(_) => {}
            None if allow.missing => {}
            None => violations.push(Violation::Missing {
                version: row.version,
                name: row.name.clone(),
            }),
        }
    }
    let pending: Vec<&Migration> = migrations
        .iter()
        .filter(|m| {
            applied
                .binary_search_by_key(&m.version(), |r| r.version)
                .is_err()
        })
        .collect();
    if let (Some(highest_applied), false) = (highest_applied, allow.out_of_order) {
        for m in pending.iter().filter(|m| m.version() < highest_applied) {
            violations.push(Violation::OutOfOrder {
                version: m.version(),
                path: m.path(),
                highest_applied,
            });
        }
    }
    if violations.is_empty() {
        Ok(pending)
    } else {
        violations.sort_by_key(|v| match v {
            Violation::ChecksumMismatch { version, .. }
            | Violation::Missing { version, .. }
            | Violation::OutOfOrder { version, .. } => *version,
        });
        Err(violations)
    }
}
