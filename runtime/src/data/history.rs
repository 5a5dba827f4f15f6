//! The tracking table's rows, as read: what the database has recorded.

use std::time::SystemTime;

/// A row of the tracking table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub success: bool,
    pub error: Option<String>,
    pub applied_at: Option<SystemTime>,
    pub applied_by: Option<String>,
    pub execution_ms: Option<i64>,
    /// What an operator did to the row, if anything (baseline, marked
    /// applied, checksum accepted).
    pub note: Option<String>,
    /// For a no-transaction migration: how many of its statements are done.
    pub statements_done: Option<usize>,
    /// For a no-transaction migration: how many statements it has.
    pub statements_total: Option<usize>,
    /// For a no-transaction migration: the server process that runs (or
    /// ran) its statements.
    pub statement_pid: Option<i32>,
    /// For a no-transaction migration: the transaction that wrote the row,
    /// just before the statement after the ones done started; what the
    /// catalog shows made since was made by that statement.
    pub statement_xid: Option<i64>,
    /// That server process is still running, its client gone: it finishes
    /// the statement it runs, holding the migration lock.
    pub statement_running: bool,
    /// For a repeatable migration: the objects it created, each its type
    /// and identity (`view public.active_users`).
    pub objects: Vec<String>,
}

/// The rows of versioned migrations and those of repeatable migrations
/// (whose versions are negative), each in version order.
pub(crate) fn split(rows: Vec<Row>) -> (Vec<Row>, Vec<Row>) {
    let (repeatables, versioned) = rows.into_iter().partition(|r| r.version < 0);
    (versioned, repeatables)
}

impl Row {
    /// A no-transaction migration that failed or was interrupted part way:
    /// the database may be partly changed.
    pub(crate) fn is_dirty(&self) -> bool {
        !self.success && self.statements_total.is_some()
    }
}

#[cfg(test)]
impl Row {
    /// A successful row, for tests.
    pub(crate) fn applied(version: i64, checksum: &str) -> Row {
        Row {
            version,
            name: format!("m{version}"),
            checksum: crate::data::registry::test_checksum(checksum),
            success: true,
            error: None,
            applied_at: None,
            applied_by: None,
            execution_ms: None,
            note: None,
            statements_done: None,
            statements_total: None,
            statement_pid: None,
            statement_xid: None,
            statement_running: false,
            objects: Vec::new(),
        }
    }
}

/// What to write in a migration's row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a> {
    pub version: i64,
    pub name: &'a str,
    pub checksum: &'a str,
    /// How long it took; `None` for the server to measure, from the start
    /// of the row's transaction to the row's write.
    pub execution_ms: Option<u128>,
    pub success: bool,
    pub error: Option<&'a str>,
    /// For a no-transaction migration: statements done, and in all.
    pub progress: Option<(usize, usize)>,
    /// What an operator did, for the `note` column.
    pub note: Option<&'a str>,
}
