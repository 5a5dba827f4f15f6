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
    /// A no-transaction migration that failed or was interrupted part way:
    /// the statements before the one that failed stay applied, so the
    /// database may be partly changed.
    Dirty {
        /// Its version.
        version: i64,
        /// Its recorded name.
        name: String,
        /// How many of its statements completed.
        statements_done: usize,
        /// How many statements it has.
        statements_total: usize,
        /// The error it failed with; `None` when it was interrupted (the
        /// process or the connection died) before it could say.
        error: Option<String>,
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
            Violation::Dirty {
                version,
                name,
                statements_done,
                statements_total,
                ..
            } if statements_done >= statements_total => write!(
                f,
                "migration {version} ({name}) is dirty: it runs outside a transaction, and all \
                 {statements_total} of its statements completed, but it was interrupted before it was \
                 recorded as applied; resume it (Runner::resume) to record it, or mark it applied \
                 (Runner::mark_applied({version}))"
            ),
            Violation::Dirty {
                version,
                name,
                statements_done,
                statements_total,
                error,
            } => {
                let next = statements_done + 1;
                write!(
                    f,
                    "migration {version} ({name}) is dirty: it runs outside a transaction and "
                )?;
                match error {
                    Some(error) => write!(
                        f,
                        "statement {next} of {statements_total} failed ({})",
                        error.lines().next().unwrap_or_default()
                    )?,
                    None => write!(
                        f,
                        "was interrupted during statement {next} of {statements_total}, which may or may not have completed"
                    )?,
                }
                write!(
                    f,
                    "; {}, so the database may be partly changed. \
                     Fix the cause, then resume it from statement {next} (Runner::resume), \
                     or complete or undo it by hand and mark it applied (Runner::mark_applied({version})) \
                     or forget it (Runner::forget({version}))",
                    crate::error::stays_applied(*statements_done)
                )
            }
        }
    }
}

/// The options that relax the check.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Allow {
    pub divergent: bool,
    pub missing: bool,
    pub out_of_order: bool,
    /// Continue dirty migrations instead of refusing them.
    pub resume: bool,
}

/// A migration to apply, and the statement to start at (after the ones a
/// resumed no-transaction migration already did).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending<'m> {
    pub migration: &'m Migration,
    pub start_at: usize,
}

/// The migrations to apply, in version order, or every violation found.
pub(crate) fn pending<'m>(
    migrations: &'m Migrations,
    rows: &[Row],
    allow: Allow,
) -> Result<Vec<Pending<'m>>, Vec<Violation>> {
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
    let mut resume_at = std::collections::BTreeMap::new();
    for row in rows.iter().filter(|r| r.is_dirty()) {
        let done = row.statements_done.unwrap_or(0);
        let binary = migrations.get(row.version);
        let resumable = binary
            .and_then(|m| m.up().statements())
            .is_some_and(|statements| done <= statements.len());
        if allow.resume && resumable {
            if binary.is_some_and(|m| m.checksum() != row.checksum) {
                tracing::warn!(
                    version = row.version,
                    "migration {} changed since it stopped; resuming at statement {} of the file as it is now",
                    row.version,
                    done + 1
                );
            }
            resume_at.insert(row.version, done);
        } else {
            violations.push(Violation::Dirty {
                version: row.version,
                name: row.name.clone(),
                statements_done: done,
                statements_total: row.statements_total.unwrap_or(0),
                error: row.error.clone(),
            });
        }
    }
    let pending: Vec<Pending<'m>> = migrations
        .iter()
        .filter(|m| {
            applied
                .binary_search_by_key(&m.version(), |r| r.version)
                .is_err()
        })
        .map(|migration| Pending {
            migration,
            start_at: resume_at.get(&migration.version()).copied().unwrap_or(0),
        })
        .collect();
    if let (Some(highest_applied), false) = (highest_applied, allow.out_of_order) {
        for p in pending
            .iter()
            .filter(|p| p.migration.version() < highest_applied)
        {
            violations.push(Violation::OutOfOrder {
                version: p.migration.version(),
                path: p.migration.path(),
                highest_applied,
            });
        }
    }
    if violations.is_empty() {
        Ok(pending)
    } else {
        violations.sort_by_key(Violation::version);
        Err(violations)
    }
}

impl Violation {
    /// The version it concerns.
    pub fn version(&self) -> i64 {
        match self {
            Violation::ChecksumMismatch { version, .. }
            | Violation::Missing { version, .. }
            | Violation::OutOfOrder { version, .. }
            | Violation::Dirty { version, .. } => *version,
        }
    }
}
