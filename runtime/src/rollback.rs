//! Rolling back: running the down scripts of the migrations applied after a
//! version, newest first, each in its own transaction with the removal of
//! its tracking row.

use crate::apply::in_transaction;
use crate::error::Error;
use crate::migration::Migration;
use crate::report::{Applied, Report};
use crate::runner::Runner;
use postgres::Client;

impl Runner<'_> {
    /// Undoes every migration applied after `version`, newest first, by its
    /// down script `{version}_{name}.down.sql`; `rollback_to(0)` undoes them
    /// all. Each runs in its own transaction together with the removal of
    /// its tracking row, and the rollback stops at the first failure.
    ///
    /// Refused up front, changing nothing and listing every reason, if a
    /// migration to undo has no down script, is dirty or failed, was edited
    /// since it was applied (unless `allow_divergent`), is unknown to this
    /// binary, or has a no-transaction down script (not supported yet).
    pub fn rollback_to(&self, client: &mut Client, version: i64) -> Result<Report, Error> {
        let _span = tracing::info_span!("stowage_rollback", to = version).entered();
        self.locked(client, |client, table, rows| {
            let mut problems = Vec::new();
            let mut undo: Vec<&Migration> = Vec::new();
            for row in rows.iter().rev().filter(|r| r.version > version) {
                let Some(m) = self.migrations().get(row.version) else {
                    problems.push(format!("migration {} is unknown to this binary", row.version));
                    continue;
                };
                let problem = if !row.success {
                    Some("is failed or dirty: mend it first (repair, resume, mark_applied or forget)")
                } else if m.down().is_none() {
                    Some("has no down script")
                } else if m.down().is_some_and(|d| !d.is_transactional()) {
                    Some("has a no-transaction down script, which rollback does not run yet")
                } else if m.checksum() != row.checksum && !self.allow().divergent {
                    Some("was edited since it was applied, so its down script may not fit what was applied")
                } else {
                    None
                };
                match problem {
                    Some(problem) => problems.push(format!("migration {} ({}) {problem}", m.version(), m.path())),
                    None => undo.push(m),
                }
            }
            if !problems.is_empty() {
                return Err(Error::Refused {
                    version,
                    reason: format!("nothing was rolled back:\n  - {}", problems.join("\n  - ")),
                });
            }
            let mut report = Report::default();
            for m in undo {
                let Some(down) = m.down() else { continue };
                let finish = |_| format!("{}; COMMIT", table.delete_sql(&[m.version()]));
                let duration = in_transaction(client, m, down, self.timeouts().for_script(down), finish).map_err(|(failure, _)| {
                    tracing::error!(version = m.version(), path = down.path(), "down script failed: {}", failure.summary());
                    Error::Migration(failure)
                })?;
                tracing::info!(version = m.version(), path = down.path(), duration_ms = duration.as_millis(), "rolled back migration");
                report.undone.push(Applied {
                    version: m.version(),
                    name: m.name(),
                    path: down.path(),
                    duration,
                });
            }
            Ok(report)
        })
    }
}
