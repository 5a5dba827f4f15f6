//! What a run would do, in order, with the SQL it would send.

use crate::data::registry::Migration;
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

    /// Whether a run would do nothing.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
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
        if self.steps.is_empty() {
            return writeln!(f, "nothing to apply: the database is up to date");
        }
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
        Ok(())
    }
}
