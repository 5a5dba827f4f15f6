//! A dry run: exactly what [`Runner::run`] would do, in order, without
//! changing anything.

use crate::error::Error;
use crate::migration::Migration;
use crate::runner::Runner;
use postgres::Client;
use std::fmt;

/// The migrations a run would apply, in order.
#[derive(Debug, Clone)]
pub struct Plan<'m> {
    steps: Vec<Step<'m>>,
}

/// One migration a run would apply.
#[derive(Debug, Clone, Copy)]
pub struct Step<'m> {
    migration: &'m Migration,
    start_at: usize,
}

impl<'m> Plan<'m> {
    /// The steps, in the order a run would take them.
    pub fn steps(&self) -> &[Step<'m>] {
        &self.steps
    }

    /// Whether a run would do nothing.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl<'m> Step<'m> {
    /// The migration.
    pub fn migration(&self) -> &'m Migration {
        self.migration
    }

    /// The SQL the run would send: the whole file in one transaction, or
    /// for a no-transaction migration its statements one by one.
    pub fn sql(&self) -> Vec<&'m str> {
        match self.migration.up().statements() {
            None => vec![self.migration.sql()],
            Some(statements) => statements[self.start_at.min(statements.len())..]
                .iter()
                .map(|s| s.sql())
                .collect(),
        }
    }
}

impl fmt::Display for Plan<'_> {
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
            let how = if m.is_transactional() {
                "in one transaction".to_owned()
            } else {
                format!(
                    "statement by statement, outside a transaction, from statement {}",
                    step.start_at + 1
                )
            };
            writeln!(f, "\n-- {} {} ({}), {how}", m.version(), m.name(), m.path())?;
            for sql in step.sql() {
                writeln!(f, "{};", sql.trim_end().trim_end_matches(';'))?;
            }
        }
        Ok(())
    }
}

impl<'m> Runner<'m> {
    /// What [`run`](Runner::run) would do now, with each migration's SQL,
    /// refusing what it would refuse. Reads only: it takes no lock and
    /// creates nothing, so another process may change the database between
    /// the plan and a run.
    pub fn plan(&self, client: &mut Client) -> Result<Plan<'m>, Error> {
        let table = self.table_name()?.resolve(client)?;
        let rows = table.read_if_exists(client)?;
        let steps = self
            .pending(&table, &rows, self.allow())?
            .into_iter()
            .map(|p| Step {
                migration: p.migration,
                start_at: p.start_at,
            })
            .collect();
        Ok(Plan { steps })
    }
}
