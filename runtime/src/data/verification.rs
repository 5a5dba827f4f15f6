//! What `verify` found: the history's disagreements with the binary.

use crate::data::registry::Migrations;
use crate::data::remedy::Words;
use crate::data::repeatable_status::RepeatableEntry;
use crate::data::violation::Violation;
use std::fmt;

/// The outcome of [`Runner::verify`](crate::Runner::verify): every way the
/// recorded history disagrees with the binary, and what is merely pending.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// MIGRATIONS.runner().target(2).run(&mut client)?;
/// let verified = MIGRATIONS.runner().verify(&mut client)?;
/// assert!(verified.is_ok(), "{verified}");
/// assert_eq!(verified.pending().len(), MIGRATIONS.len() - 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Verification {
    pub(crate) schema: String,
    pub(crate) table: String,
    pub(crate) current_version: Option<i64>,
    pub(crate) ok: bool,
    pub(crate) problems: Vec<Violation>,
    pub(crate) pending: Vec<i64>,
    /// The repeatable migrations a run would bring up to date.
    pub(crate) repeatables: Vec<RepeatableEntry>,
}

impl Verification {
    /// The verification of tracking table `table` in `schema` that records
    /// exactly `migrations`, all successful, for a binary without
    /// repeatable migrations.
    pub(crate) fn up_to_date(
        schema: String,
        table: String,
        migrations: Migrations,
    ) -> Verification {
        Verification {
            schema,
            table,
            current_version: migrations.newest().map(|m| m.version()),
            ok: true,
            problems: Vec::new(),
            pending: Vec::new(),
            repeatables: Vec::new(),
        }
    }

    /// Whether the history agrees with the binary: no migration is failed,
    /// dirty, divergent, missing or out of order. Pending ones are fine.
    pub fn is_ok(&self) -> bool {
        self.ok
    }

    /// Every disagreement, in version order, each with its remedies.
    pub fn problems(&self) -> &[Violation] {
        &self.problems
    }

    /// The versions a run would apply, none applied above them.
    pub fn pending(&self) -> &[i64] {
        &self.pending
    }

    /// The repeatable migrations a run would bring up to date: pending,
    /// changed, absent or removed.
    pub fn repeatables(&self) -> &[RepeatableEntry] {
        &self.repeatables
    }

    /// The highest version applied.
    pub fn current_version(&self) -> Option<i64> {
        self.current_version
    }

    /// The tracking table's schema and name.
    pub fn table(&self) -> (&str, &str) {
        (&self.schema, &self.table)
    }

    pub(crate) fn render(&self, words: Words, f: &mut dyn fmt::Write) -> fmt::Result {
        let table = format!(
            "{}.{}",
            postgres_protocol::escape::escape_identifier(&self.schema),
            postgres_protocol::escape::escape_identifier(&self.table)
        );
        let current = match self.current_version {
            Some(v) => format!("current version {v}"),
            None => "nothing applied".to_owned(),
        };
        if self.problems.is_empty() {
            writeln!(
                f,
                "ok: the history in {table} agrees with this binary ({current})"
            )?;
        } else {
            writeln!(
                f,
                "the history in {table} disagrees with this binary ({current}):"
            )?;
            for p in &self.problems {
                f.write_str("  - ")?;
                p.render(words, f)?;
                writeln!(f)?;
            }
        }
        if !self.pending.is_empty() {
            let versions: Vec<String> = self.pending.iter().map(i64::to_string).collect();
            let next = match words {
                Words::Api => "run",
                Words::Cli => "`migrate`",
            };
            writeln!(
                f,
                "{} migration(s) pending, applied by the next {next}: {}",
                self.pending.len(),
                versions.join(", ")
            )?;
        }
        if !self.repeatables.is_empty() {
            let names: Vec<String> = self
                .repeatables
                .iter()
                .map(|r| format!("{} ({})", r.name(), r.state()))
                .collect();
            writeln!(
                f,
                "{} repeatable migration(s) to bring up to date: {}",
                self.repeatables.len(),
                names.join(", ")
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, f)
    }
}
