//! The ways the recorded history can disagree with the binary.

use crate::data::remedy::{Remedy, Words, write_list};
use std::fmt;

/// One way the recorded history disagrees with the binary: why a run
/// refuses to go on, or what [`Runner::verify`](crate::Runner::verify)
/// reports. Each says what can be done about it ([`remedies`](Violation::remedies)).
///
/// ```
/// use stowage::{Remedy, Violation};
///
/// # fn check(violation: &Violation) {
/// match violation {
///     Violation::Divergent { version, .. } => {
///         assert!(violation.remedies().contains(&Remedy::AcceptChecksum { version: *version }))
///     }
///     other => println!("{other}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "problem", rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum Violation {
    /// An applied migration's file was edited since.
    Divergent {
        /// Its version.
        version: i64,
        /// Its file in this binary.
        path: &'static str,
        /// The checksum recorded when it was applied.
        recorded_checksum: String,
        /// The checksum of the file in this binary.
        binary_checksum: &'static str,
    },
    /// A version recorded as applied that this binary does not have.
    Missing {
        /// Its version.
        version: i64,
        /// Its recorded name.
        name: String,
    },
    /// A pending (or failed) migration older than the newest applied one.
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
        /// Its file, if the binary has it, or else its recorded name.
        path: String,
        /// How many of its statements completed.
        statements_done: usize,
        /// How many statements it has.
        statements_total: usize,
        /// The error it failed with; `None` when it was interrupted (the
        /// process or the connection died) before it could say.
        error: Option<String>,
    },
    /// A transactional migration that failed and was rolled back: nothing
    /// of it stays, and the next run retries it. Only
    /// [`verify`](crate::Runner::verify) reports it; a run does not refuse it.
    Failed {
        /// Its version.
        version: i64,
        /// Its file, if the binary has it, or else its recorded name.
        path: String,
        /// The error it failed with.
        error: Option<String>,
    },
}

impl Violation {
    /// The version it concerns.
    pub fn version(&self) -> i64 {
        match self {
            Violation::Divergent { version, .. }
            | Violation::Missing { version, .. }
            | Violation::OutOfOrder { version, .. }
            | Violation::Dirty { version, .. }
            | Violation::Failed { version, .. } => *version,
        }
    }

    /// What can be done about it, the first the most likely.
    pub fn remedies(&self) -> Vec<Remedy> {
        match self {
            Violation::Divergent { version, .. } => vec![
                Remedy::AcceptChecksum { version: *version },
                Remedy::AllowDivergent,
            ],
            Violation::Missing { .. } => vec![Remedy::AllowMissing],
            Violation::OutOfOrder { .. } => vec![Remedy::AllowOutOfOrder],
            Violation::Dirty {
                version,
                statements_done,
                ..
            } => vec![
                Remedy::Resume {
                    version: *version,
                    from_statement: statements_done + 1,
                },
                Remedy::MarkApplied { version: *version },
                Remedy::Forget { version: *version },
            ],
            Violation::Failed { .. } => vec![Remedy::Repair],
        }
    }

    pub(crate) fn render(&self, words: Words, f: &mut dyn fmt::Write) -> fmt::Result {
        let remedies = self.remedies();
        match self {
            Violation::Divergent {
                version,
                path,
                recorded_checksum,
                binary_checksum,
            } => {
                write!(
                    f,
                    "migration {version} ({path}) was edited after it was applied: \
                     checksum applied {recorded_checksum}, in this binary {binary_checksum}; \
                     restore the file as it was applied and make the change in a new migration, \
                     or if the edit changes nothing that was applied, "
                )?;
                write_list(f, &remedies, words)
            }
            Violation::Missing { version, name } => {
                write!(
                    f,
                    "migration {version} ({name}) is recorded as applied but this binary does not have it; \
                     run a binary that has it, or go on without it: "
                )?;
                write_list(f, &remedies, words)
            }
            Violation::OutOfOrder {
                version,
                path,
                highest_applied,
            } => {
                write!(
                    f,
                    "migration {version} ({path}) is pending but migration {highest_applied} is already applied; \
                     give it a version above {highest_applied}, or apply it anyway: "
                )?;
                write_list(f, &remedies, words)
            }
            Violation::Dirty {
                version,
                path,
                statements_done,
                statements_total,
                error,
            } => {
                write!(
                    f,
                    "migration {version} ({path}) is dirty: it runs outside a transaction and "
                )?;
                let next = statements_done + 1;
                if statements_done >= statements_total {
                    write!(
                        f,
                        "all {statements_total} of its statements completed, but it was interrupted before \
                         it was recorded as applied; record it: "
                    )?;
                    return write_list(f, &remedies[..2], words);
                }
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
                    "; {}. Fix the cause and resume it, or once it is completed or undone by hand, \
                     record that: ",
                    what_stays(*statements_done, false)
                )?;
                write_list(f, &remedies, words)
            }
            Violation::Failed {
                version,
                path,
                error,
            } => {
                write!(f, "migration {version} ({path}) failed")?;
                if let Some(error) = error {
                    write!(f, " ({})", error.lines().next().unwrap_or_default())?;
                }
                write!(f, " and was rolled back; the next run retries it, and ")?;
                write_list(f, &remedies, words)?;
                f.write_str(" removes the record")
            }
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, f)
    }
}

/// What stays of a no-transaction migration that stopped after `done`
/// statements, at the statement after them. `nothing_else` says that that
/// statement is known to have changed nothing: the server refused it and
/// it left nothing behind.
pub(crate) fn what_stays(done: usize, nothing_else: bool) -> String {
    match (done, nothing_else) {
        (0, true) => "its first statement failed, so nothing of it changed the database".to_owned(),
        (0, false) => "no statement of it had completed before".to_owned(),
        (1, _) => "statement 1 stays applied, so the database may be partly changed".to_owned(),
        (n, _) => {
            format!("statements 1 to {n} stay applied, so the database may be partly changed")
        }
    }
}
