//! What the database has applied, compared with the binary: every
//! migration with its state. Reading it takes no lock and changes nothing.

use crate::error::Error;
use crate::runner::Runner;
use crate::tracking_table::Row;
use postgres::Client;
use std::collections::BTreeMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// The state of one migration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Applied, with the binary's checksum.
    Applied,
    /// Not applied yet.
    Pending,
    /// Not applied yet, and lower than the highest version applied.
    OutOfOrder,
    /// Failed and rolled back; the next run retries it.
    Failed,
    /// A no-transaction migration that stopped part way.
    Dirty {
        /// Statements that completed.
        statements_done: usize,
        /// Statements in all.
        statements_total: usize,
    },
    /// Applied, but the binary's file differs from what was applied.
    Divergent {
        /// The checksum recorded when it was applied.
        recorded_checksum: String,
    },
    /// Recorded as applied, but the binary does not have it.
    Missing,
}

impl State {
    /// A short name: `applied`, `pending`, `out-of-order`, `failed`,
    /// `dirty`, `divergent` or `missing`.
    pub fn name(&self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::OutOfOrder => "out-of-order",
            State::Failed => "failed",
            State::Dirty { .. } => "dirty",
            State::Divergent { .. } => "divergent",
            State::Missing => "missing",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Dirty {
                statements_done,
                statements_total,
            } => {
                write!(f, "dirty ({statements_done}/{statements_total} statements)")
            }
            other => f.write_str(other.name()),
        }
    }
}

/// One migration's line in a [`Status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    version: i64,
    name: String,
    path: Option<&'static str>,
    state: State,
    applied_at: Option<SystemTime>,
    applied_by: Option<String>,
    execution_ms: Option<i64>,
    error: Option<String>,
    note: Option<String>,
}

impl Entry {
    /// Its version.
    pub fn version(&self) -> i64 {
        self.version
    }
    /// Its name (the recorded one for a missing migration).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its file, if the binary has it.
    pub fn path(&self) -> Option<&'static str> {
        self.path
    }
    /// Its state.
    pub fn state(&self) -> &State {
        &self.state
    }
    /// When it was applied, or last failed.
    pub fn applied_at(&self) -> Option<SystemTime> {
        self.applied_at
    }
    /// The database user that applied it.
    pub fn applied_by(&self) -> Option<&str> {
        self.applied_by.as_deref()
    }
    /// How long it took, in milliseconds.
    pub fn execution_ms(&self) -> Option<i64> {
        self.execution_ms
    }
    /// The server's error, for a failed or dirty migration.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
    /// What an operator did to its record (baseline, marked applied, checksum accepted).
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

/// Every migration known to the binary or to the tracking table, in version
/// order, with its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    table: String,
    entries: Vec<Entry>,
}

impl Status {
    /// The tracking table, schema-qualified.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Every migration, in version order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The highest version applied.
    pub fn current_version(&self) -> Option<i64> {
        self.entries
            .iter()
            .filter(|e| {
                matches!(
                    e.state,
                    State::Applied | State::Divergent { .. } | State::Missing
                )
            })
            .map(|e| e.version)
            .max()
    }

    /// How many entries are in a state with this [`State::name`].
    pub fn count(&self, state: &str) -> usize {
        self.entries
            .iter()
            .filter(|e| e.state.name() == state)
            .count()
    }

    /// Whether every migration of the binary is applied as it is, and the
    /// history holds nothing else.
    pub fn is_up_to_date(&self) -> bool {
        self.entries.iter().all(|e| e.state == State::Applied)
    }
}

impl fmt::Display for Status {
    /// An aligned table, one line per migration.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = ["version", "name", "state", "applied at (UTC)", "by", "ms"];
        let lines: Vec<[String; 6]> = self
            .entries
            .iter()
            .map(|e| {
                [
                    e.version.to_string(),
                    e.name.clone(),
                    e.state.to_string(),
                    e.applied_at.map(utc).unwrap_or_default(),
                    e.applied_by.clone().unwrap_or_default(),
                    e.execution_ms.map(|ms| ms.to_string()).unwrap_or_default(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for line in &lines {
            for (width, cell) in widths.iter_mut().zip(line) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let header = header.map(str::to_owned);
        for line in std::iter::once(&header).chain(&lines) {
            let cells: Vec<String> = line
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            writeln!(f, "{}", cells.join("  ").trim_end())?;
        }
        Ok(())
    }
}

/// `time` as `YYYY-MM-DD HH:MM:SS`, in UTC.
pub(crate) fn utc(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian calendar).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

impl Runner<'_> {
    /// Every migration with its state. Reads only: it takes no lock and
    /// creates nothing, so it works with a read-only role, and reports a
    /// database without a tracking table as having everything pending.
    pub fn status(&self, client: &mut Client) -> Result<Status, Error> {
        let table = self.table_name()?.resolve(client)?;
        let rows = table.read_if_exists(client)?;
        Ok(status(self, table.qualified(), &rows))
    }
}

fn status(runner: &Runner<'_>, table: &str, rows: &[Row]) -> Status {
    let highest_applied = rows.iter().filter(|r| r.success).map(|r| r.version).max();
    let mut entries: BTreeMap<i64, Entry> = BTreeMap::new();
    for m in runner.migrations() {
        let state = match highest_applied {
            Some(highest) if m.version() < highest => State::OutOfOrder,
            _ => State::Pending,
        };
        entries.insert(
            m.version(),
            Entry {
                version: m.version(),
                name: m.name().to_owned(),
                path: Some(m.path()),
                state,
                applied_at: None,
                applied_by: None,
                execution_ms: None,
                error: None,
                note: None,
            },
        );
    }
    for row in rows {
        let binary = runner.migrations().get(row.version);
        let state = match (row.success, binary) {
            (true, Some(m)) if m.checksum() == row.checksum => State::Applied,
            (true, Some(_)) => State::Divergent {
                recorded_checksum: row.checksum.clone(),
            },
            (true, None) => State::Missing,
            (false, _) if row.is_dirty() => State::Dirty {
                statements_done: row.statements_done.unwrap_or(0),
                statements_total: row.statements_total.unwrap_or(0),
            },
            // A run does not retry it: it is pending below what is applied.
            (false, Some(_)) if highest_applied.is_some_and(|h| row.version < h) => {
                State::OutOfOrder
            }
            (false, _) => State::Failed,
        };
        entries.insert(
            row.version,
            Entry {
                version: row.version,
                name: binary.map_or_else(|| row.name.clone(), |m| m.name().to_owned()),
                path: binary.map(|m| m.path()),
                state,
                applied_at: row.applied_at,
                applied_by: row.applied_by.clone(),
                execution_ms: row.execution_ms,
                error: row.error.clone(),
                note: row.note.clone(),
            },
        );
    }
    Status {
        table: table.to_owned(),
        entries: entries.into_values().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_utc_times() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01 00:00:00");
        assert_eq!(
            utc(UNIX_EPOCH + Duration::from_secs(951_782_400 + 3_723)),
            "2000-02-29 01:02:03"
        );
        assert_eq!(
            utc(UNIX_EPOCH + Duration::from_secs(1_795_253_834)),
            "2026-11-21 09:37:14"
        );
    }
}
