//! The ways out of a refusal or a failure, as values, and the words that
//! name them for whoever reads the message: a program's author (the API)
//! or an operator at the command line.

use std::fmt;

/// Something that mends what a refusal or a failure reports.
///
/// Messages name each remedy in the words of their reader: the library's
/// `Display` names the API (`Runner::mark_applied(13)`), the command line
/// names its own commands and flags (`repair --mark-applied 13`).
///
/// ```
/// use stowage::Remedy;
///
/// let remedy = Remedy::MarkApplied { version: 13 };
/// assert_eq!(remedy.to_string(), "Runner::mark_applied(13)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "remedy", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Remedy {
    /// Continue a dirty no-transaction migration at a statement.
    Resume {
        /// The migration.
        version: i64,
        /// The statement it goes on at, counted from 1.
        from_statement: usize,
    },
    /// Continue a dirty no-transaction migration whose statement was
    /// interrupted, saying whether that statement completed (the catalog
    /// cannot tell).
    ResumeInterrupted {
        /// The migration.
        version: i64,
        /// The interrupted statement, counted from 1.
        statement: usize,
        /// Whether it completed: the resume goes on after it, or runs it again.
        completed: bool,
    },
    /// Record a migration as applied without running it (it was completed
    /// by hand).
    MarkApplied {
        /// The migration.
        version: i64,
    },
    /// Remove the record of a failed migration (it was undone by hand), so
    /// that the next run applies it from the start.
    Forget {
        /// The migration.
        version: i64,
    },
    /// Record the binary's checksum of an applied migration whose file was
    /// edited deliberately.
    AcceptChecksum {
        /// The migration.
        version: i64,
    },
    /// Go on although applied migrations were edited since.
    AllowDivergent,
    /// Go on although the database has migrations this binary lacks.
    AllowMissing,
    /// Apply pending migrations below the highest one applied.
    AllowOutOfOrder,
    /// Remove the records of failed migrations.
    Repair,
    /// Undo the migrations applied after a version.
    RollbackTo {
        /// The version to go back to.
        version: i64,
    },
    /// Undo every applied migration.
    RollbackAll,
    /// Wait longer for another process's migration lock.
    RaiseLockWaitTimeout,
    /// Restore objects the migrations made that are missing: from a backup,
    /// or as the schema file has them.
    Restore,
    /// Run an applied migration again whose objects are missing, in one
    /// transaction with its row.
    Reapply {
        /// The migration.
        version: i64,
    },
    /// Make a change to the schema that no migration made into a migration,
    /// or undo it by hand.
    MigrateOrUndo,
}

/// Whose words a message speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Words {
    /// A program's author: method calls.
    Api,
    /// An operator at the command line: commands and flags.
    #[cfg_attr(not(feature = "cli"), allow(dead_code))]
    Cli,
}

impl Remedy {
    /// The remedy as `words` name it.
    pub(crate) fn words(&self, words: Words) -> Named<'_> {
        Named {
            remedy: self,
            words,
        }
    }
}

/// A [`Remedy`] named in some reader's words.
pub(crate) struct Named<'a> {
    remedy: &'a Remedy,
    words: Words,
}

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.words, self.remedy) {
            (Words::Api, Remedy::Resume { from_statement, .. }) => {
                write!(f, "Runner::resume (from statement {from_statement})")
            }
            (Words::Api, Remedy::ResumeInterrupted { completed, .. }) => write!(
                f,
                "Runner::interrupted_statement(Interrupted::{}) with Runner::resume",
                if *completed {
                    "Completed"
                } else {
                    "NotCompleted"
                }
            ),
            (Words::Api, Remedy::MarkApplied { version }) => {
                write!(f, "Runner::mark_applied({version})")
            }
            (Words::Api, Remedy::Forget { version }) => write!(f, "Runner::forget({version})"),
            (Words::Api, Remedy::AcceptChecksum { version }) => {
                write!(f, "Runner::accept_checksum({version})")
            }
            (Words::Api, Remedy::AllowDivergent) => f.write_str("Runner::allow_divergent(true)"),
            (Words::Api, Remedy::AllowMissing) => f.write_str("Runner::allow_missing(true)"),
            (Words::Api, Remedy::AllowOutOfOrder) => {
                f.write_str("Runner::allow_out_of_order(true)")
            }
            (Words::Api, Remedy::Repair) => f.write_str("Runner::repair"),
            (Words::Api, Remedy::RollbackTo { version }) => {
                write!(f, "Runner::rollback_to({version})")
            }
            (Words::Api, Remedy::RollbackAll) => f.write_str("Runner::rollback_all"),
            (Words::Api, Remedy::RaiseLockWaitTimeout) => f.write_str("Runner::lock_wait_timeout"),
            (Words::Api, Remedy::Reapply { version }) => write!(
                f,
                "running migration {version} again (Runner::reapply({version}))"
            ),
            (_, Remedy::Restore) => f.write_str(
                "restoring what is missing from a backup (or as the schema file has it, \
                 when it held no data)",
            ),
            (_, Remedy::MigrateOrUndo) => f.write_str(
                "writing a migration that makes each change made by hand, or undoing it by hand",
            ),
            (Words::Cli, Remedy::Resume { from_statement, .. }) => {
                write!(f, "`resume` (from statement {from_statement})")
            }
            (Words::Cli, Remedy::ResumeInterrupted { completed, .. }) => write!(
                f,
                "`resume --interrupted-statement {}`",
                if *completed {
                    "completed"
                } else {
                    "not-completed"
                }
            ),
            (Words::Cli, Remedy::MarkApplied { version }) => {
                write!(f, "`repair --mark-applied {version}`")
            }
            (Words::Cli, Remedy::Forget { version }) => write!(f, "`repair --forget {version}`"),
            (Words::Cli, Remedy::AcceptChecksum { version }) => {
                write!(f, "`repair --accept-checksum {version}`")
            }
            (Words::Cli, Remedy::AllowDivergent) => f.write_str("`--allow-divergent`"),
            (Words::Cli, Remedy::AllowMissing) => f.write_str("`--allow-missing`"),
            (Words::Cli, Remedy::AllowOutOfOrder) => f.write_str("`--allow-out-of-order`"),
            (Words::Cli, Remedy::Repair) => f.write_str("`repair`"),
            (Words::Cli, Remedy::RollbackTo { version }) => write!(f, "`rollback --to {version}`"),
            (Words::Cli, Remedy::RollbackAll) => f.write_str("`rollback --all`"),
            (Words::Cli, Remedy::RaiseLockWaitTimeout) => f.write_str("`--lock-wait-timeout`"),
            (Words::Cli, Remedy::Reapply { version }) => write!(
                f,
                "running migration {version} again (`repair --reapply {version}`)"
            ),
        }
    }
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.words(Words::Api).fmt(f)
    }
}

/// Writes `remedies` as `a, b or c` in `words`.
pub(crate) fn write_list(f: &mut dyn fmt::Write, remedies: &[Remedy], words: Words) -> fmt::Result {
    for (i, remedy) in remedies.iter().enumerate() {
        if i > 0 {
            f.write_str(if i + 1 == remedies.len() {
                " or "
            } else {
                ", "
            })?;
        }
        write!(f, "{}", remedy.words(words))?;
    }
    Ok(())
}
