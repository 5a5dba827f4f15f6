//! The ways the recorded history can disagree with the binary.

use crate::data::line_column::LineColumn;
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
        /// What is known of the statement it stopped at, when the binary
        /// has the migration and a statement is left.
        stopped: Option<Stopped>,
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
                error,
                stopped,
                ..
            } => {
                let version = *version;
                let statement = statements_done + 1;
                let resume = match stopped.as_ref().map(|s| s.completed) {
                    // Interrupted, and the catalog cannot tell: say which.
                    Some(None) if error.is_none() => vec![
                        Remedy::ResumeInterrupted {
                            version,
                            statement,
                            completed: true,
                        },
                        Remedy::ResumeInterrupted {
                            version,
                            statement,
                            completed: false,
                        },
                    ],
                    Some(Some(true)) if error.is_none() => vec![Remedy::Resume {
                        version,
                        from_statement: statement + 1,
                    }],
                    _ => vec![Remedy::Resume {
                        version,
                        from_statement: statement,
                    }],
                };
                resume
                    .into_iter()
                    .chain([Remedy::MarkApplied { version }, Remedy::Forget { version }])
                    .collect()
            }
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
                stopped,
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
                let at = stopped
                    .as_ref()
                    .and_then(|s| s.at)
                    .map(|at| format!(" (line {})", at.line))
                    .unwrap_or_default();
                match error {
                    Some(error) => write!(
                        f,
                        "statement {next} of {statements_total}{at} failed ({})",
                        error.lines().next().unwrap_or_default()
                    )?,
                    None => write!(
                        f,
                        "was interrupted during statement {next} of {statements_total}{at}"
                    )?,
                }
                write!(f, "; {}", what_stays(*statements_done, false))?;
                if let Some(stopped) = stopped {
                    stopped.render(f)?;
                }
                match (error, stopped.as_ref().map(|s| s.completed)) {
                    (None, Some(None)) => f.write_str(
                        ". The catalog cannot tell whether the statement completed: look, then resume \
                         it saying whether it did, or once it is completed or undone by hand, record that: ",
                    )?,
                    (None, Some(Some(_))) => f.write_str(
                        ". The catalog tells whether the statement completed, so a run goes on with it by \
                         itself: ",
                    )?,
                    _ => f.write_str(
                        ". Fix the cause and resume it, or once it is completed or undone by hand, \
                         record that: ",
                    )?,
                }
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

/// What is known of the statement a no-transaction migration stopped at.
///
/// ```
/// # fn check(violation: &stowage::Violation) {
/// if let stowage::Violation::Dirty { stopped: Some(stopped), .. } = violation {
///     if let Some(pid) = stopped.running_pid {
///         println!("server process {pid} still runs statement {}", stopped.statement);
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Stopped {
    /// The statement, counted from 1.
    pub statement: usize,
    /// Where it starts in the file.
    pub at: Option<LineColumn>,
    /// The server process still running it, for a process that died: the
    /// server finishes the statement, holding the migration lock, and a
    /// run waits for it through the lock.
    pub running_pid: Option<i32>,
    /// For an interrupted statement, whether the catalog shows it
    /// completed; `None` where it cannot tell. A failed one did not.
    pub completed: Option<bool>,
    /// INVALID indexes the statement left (an interrupted or failed
    /// `CREATE INDEX CONCURRENTLY`, a `REINDEX CONCURRENTLY`'s
    /// `_ccnew`/`_ccold`), which a resume drops before it runs the
    /// statement again.
    pub invalid_indexes: Vec<String>,
}

/// An operator's word on an interrupted statement whose outcome the
/// catalog cannot tell: whether it completed; see
/// [`Runner::interrupted_statement`](crate::Runner::interrupted_statement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupted {
    /// It completed: a resume goes on after it.
    Completed,
    /// It did not complete: a resume runs it again.
    NotCompleted,
}

impl Stopped {
    fn render(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        if let Some(pid) = self.running_pid {
            write!(
                f,
                "; server process {pid} still runs statement {} for a client that died, holding the \
                 migration lock: a run waits for it to end, then goes on",
                self.statement
            )?;
        }
        if !self.invalid_indexes.is_empty() {
            write!(
                f,
                "; it left INVALID index(es) {}, which a resume drops before running it again",
                self.invalid_indexes.join(", ")
            )?;
        }
        Ok(())
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
