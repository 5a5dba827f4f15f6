//! What a run would do, in order, with the SQL it would send.

use crate::data::registry::Migration;
use crate::data::repeatable_status::{RepeatableEntry, RepeatableState};
use std::fmt;

/// The migrations a run would apply, in order; made by
/// [`Runner::plan`](crate::Runner::plan).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// let plan = MIGRATIONS.runner().target(2).plan(&mut client)?;
/// let versions: Vec<i64> = plan.steps().iter().map(|s| s.migration().version()).collect();
/// assert_eq!(versions, [1, 2]);
/// print!("{plan}"); // each migration with its SQL
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Plan {
    pub(crate) steps: Vec<Step>,
    pub(crate) repeatables: RepeatablePlan,
}

/// What a run would do to the repeatable migrations, after the versioned
/// ones.
///
/// A changed file is first replaced in place, where its new definitions
/// allow it; every other (and a changed one that cannot be) is dropped with
/// the objects of the set that depend on it, newest dependency first, and
/// created again, in order. The plan shows the drops as they would be
/// should no file be replaceable in place.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// let plan = MIGRATIONS.runner().plan(&mut client)?;
/// assert_eq!(plan.repeatables().creates(), ["account_summary", "user_label"]);
/// assert!(plan.repeatables().drops().is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RepeatablePlan {
    pub(crate) changes: Vec<RepeatableEntry>,
    pub(crate) drops: Vec<String>,
    pub(crate) creates: Vec<String>,
    pub(crate) outside: Vec<String>,
}

impl RepeatablePlan {
    /// The repeatable migrations a run would bring up to date, with their
    /// states.
    pub fn changes(&self) -> &[RepeatableEntry] {
        &self.changes
    }

    /// The objects it would drop, in order (`view public.active_users`).
    pub fn drops(&self) -> &[String] {
        &self.drops
    }

    /// The repeatable migrations it would create (again), in order.
    pub fn creates(&self) -> &[String] {
        &self.creates
    }

    /// What outside the repeatable migrations depends on objects it would
    /// drop: a run refuses where it must drop them.
    pub fn outside(&self) -> &[String] {
        &self.outside
    }

    /// Whether a run would leave the repeatables alone.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// One migration a run would apply.
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// for step in MIGRATIONS.runner().plan(&mut client)?.steps() {
///     println!("{} from statement {}: {:?}", step.migration().version(), step.from_statement(), step.sql());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Step {
    pub(crate) migration: Migration,
    pub(crate) start_at: usize,
    pub(crate) drop_first: Vec<String>,
}

impl Plan {
    /// The steps, in the order a run would take them.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// What the run would do to the repeatable migrations.
    pub fn repeatables(&self) -> &RepeatablePlan {
        &self.repeatables
    }

    /// Whether a run would do nothing.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.repeatables.is_empty()
    }
}

impl Step {
    /// The migration.
    pub fn migration(&self) -> Migration {
        self.migration
    }

    /// For a no-transaction migration that a run would resume, the
    /// statement it goes on at, counted from 1; 1 for every other migration.
    pub fn from_statement(&self) -> usize {
        self.start_at + 1
    }

    /// The INVALID indexes a run would drop before it runs the statement a
    /// dirty migration stopped at again (what an interrupted or failed
    /// concurrent build left), schema-qualified.
    pub fn drop_first(&self) -> &[String] {
        &self.drop_first
    }

    /// The SQL the run would send: the whole file in one transaction, or
    /// for a no-transaction migration its statements one by one, from the
    /// one it would go on at.
    pub fn sql(&self) -> Vec<&'static str> {
        let up = self.migration.up();
        if up.is_transactional() {
            return vec![up.sql()];
        }
        up.statements()
            .into_iter()
            .skip(self.start_at)
            .map(|s| s.sql())
            .collect()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let m = self.migration;
        let mut step = serializer.serialize_struct("Step", 7)?;
        step.serialize_field("version", &m.version())?;
        step.serialize_field("name", m.name())?;
        step.serialize_field("path", m.up().path())?;
        step.serialize_field("transactional", &m.up().is_transactional())?;
        step.serialize_field("from_statement", &self.from_statement())?;
        step.serialize_field("drop_first", &self.drop_first)?;
        step.serialize_field("sql", &self.sql())?;
        step.end()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "nothing to apply: the database is up to date");
        }
        if !self.steps.is_empty() {
            writeln!(
                f,
                "a run would apply {} migration(s), in this order:",
                self.steps.len()
            )?;
            for step in &self.steps {
                let m = step.migration;
                let how = if m.up().is_transactional() {
                    "in one transaction".to_owned()
                } else {
                    format!(
                        "statement by statement, outside a transaction, from statement {}",
                        step.from_statement()
                    )
                };
                writeln!(
                    f,
                    "\n-- {} {} ({}), {how}",
                    m.version(),
                    m.name(),
                    m.up().path()
                )?;
                for index in &step.drop_first {
                    writeln!(
                        f,
                        "DROP INDEX CONCURRENTLY IF EXISTS {index}; -- left INVALID by the statement"
                    )?;
                }
                for sql in step.sql() {
                    writeln!(f, "{};", sql.trim_end().trim_end_matches(';'))?;
                }
            }
        }
        let r = &self.repeatables;
        if !r.is_empty() {
            let changes: Vec<String> = r
                .changes
                .iter()
                .map(|c| format!("{} ({})", c.name(), c.state()))
                .collect();
            writeln!(
                f,
                "\nthen it would bring {} repeatable migration(s) up to date: {}",
                r.changes.len(),
                changes.join(", ")
            )?;
            if r.changes
                .iter()
                .any(|c| matches!(c.state(), RepeatableState::Changed { .. }))
            {
                writeln!(
                    f,
                    "  each changed one is first replaced in place, where its new definitions allow it"
                )?;
            }
            if !r.drops.is_empty() {
                writeln!(f, "  dropping, in this order: {}", r.drops.join(", "))?;
            }
            if !r.creates.is_empty() {
                writeln!(f, "  creating, in this order: {}", r.creates.join(", "))?;
            }
            for outside in &r.outside {
                writeln!(
                    f,
                    "  outside the repeatable migrations, {outside}: the run refuses if it must drop that"
                )?;
            }
        }
        Ok(())
    }
}
