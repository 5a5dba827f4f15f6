//! Mending the tracking table by hand, for an operator who has looked at
//! the database: each call takes the lock, checks that what it records is
//! true of the history, and says why when it refuses.

use crate::error::Error;
use crate::migration::Migration;
use crate::runner::Runner;
use crate::tracking_table::Record;
use postgres::Client;
use std::time::Duration;

impl Runner<'_> {
    /// Records migration `version` as applied without running it, for a
    /// failed or dirty migration that was completed by hand. Refused for a
    /// version the binary does not have or one applied with another
    /// checksum; a no-op for one already applied as it is. Returns whether
    /// it recorded anything.
    pub fn mark_applied(&self, client: &mut Client, version: i64) -> Result<bool, Error> {
        let migration = self.known(version)?;
        self.locked(client, |client, table, rows| {
            match rows.iter().find(|r| r.version == version) {
                Some(row) if row.success && row.checksum == migration.checksum() => return Ok(false),
                Some(row) if row.success => {
                    return Err(refused(
                        version,
                        format!(
                            "it is applied with checksum {}, not this binary's {}; use accept_checksum({version})",
                            row.checksum,
                            migration.checksum()
                        ),
                    ));
                }
                _ => {}
            }
            table
                .record(client, applied(migration, "marked applied by hand"))
                .map_err(Error::database("marking a migration applied"))?;
            tracing::info!(version, path = migration.path(), "marked migration applied without running it");
            Ok(true)
        })
    }

    /// Removes the record of a failed or dirty migration, for one that was
    /// undone by hand: the next run applies it from the start. Refused for a
    /// migration recorded as applied (forgetting it would make the next run
    /// apply it twice) or one with no record.
    pub fn forget(&self, client: &mut Client, version: i64) -> Result<(), Error> {
        self.locked(client, |client, table, rows| match rows.iter().find(|r| r.version == version) {
            None => Err(refused(version, "the tracking table has no record of it")),
            Some(row) if row.success => Err(refused(
                version,
                "it is applied; forgetting it would make the next run apply it again (roll it back instead)",
            )),
            Some(_) => {
                table.forget(client, &[version])?;
                tracing::info!(version, "forgot the record of a failed migration");
                Ok(())
            }
        })
    }

    /// Removes the records of failed transactional migrations (they changed
    /// nothing, and the next run retries them anyway) and returns their
    /// versions. Dirty no-transaction migrations are left alone: they need
    /// [`resume`](Runner::resume), [`mark_applied`](Runner::mark_applied) or
    /// [`forget`](Runner::forget).
    pub fn repair(&self, client: &mut Client) -> Result<Vec<i64>, Error> {
        self.locked(client, |client, table, rows| {
            let failed: Vec<i64> = rows
                .iter()
                .filter(|r| !r.success && !r.is_dirty())
                .map(|r| r.version)
                .collect();
            if !failed.is_empty() {
                table.forget(client, &failed)?;
                tracing::info!(versions = ?failed, "removed the records of failed migrations");
            }
            Ok(failed)
        })
    }

    /// Records this binary's checksum for applied migration `version`,
    /// deliberately accepting that its file was edited since it was applied
    /// (say, a comment fixed). The old and the new checksum are logged and
    /// kept in the row's `note`. A no-op if they already agree. Returns
    /// whether it changed anything.
    pub fn accept_checksum(&self, client: &mut Client, version: i64) -> Result<bool, Error> {
        let migration = self.known(version)?;
        self.locked(client, |client, table, rows| {
            let row = rows
                .iter()
                .find(|r| r.version == version && r.success)
                .ok_or_else(|| refused(version, "it is not recorded as applied"))?;
            if row.checksum == migration.checksum() {
                return Ok(false);
            }
            let note = format!("checksum accepted: was {}", row.checksum);
            table.accept_checksum(client, version, migration.checksum(), &note)?;
            tracing::warn!(
                version,
                old = %row.checksum,
                new = migration.checksum(),
                "accepted the edited checksum of migration {version}"
            );
            Ok(true)
        })
    }

    /// Records every migration up to and including `version` as applied
    /// without running it, for a database that was built by hand or by
    /// another tool; returns the versions recorded. Refused, changing
    /// nothing, if it would contradict the recorded history: a migration at
    /// or below `version` recorded as failed or with another checksum, or
    /// any migration above it recorded at all.
    pub fn baseline(&self, client: &mut Client, version: i64) -> Result<Vec<i64>, Error> {
        let upto: Vec<&Migration> = self
            .migrations()
            .iter()
            .filter(|m| m.version() <= version)
            .collect();
        if upto.is_empty() {
            return Err(refused(
                version,
                "this binary has no migration at or below it",
            ));
        }
        self.locked(client, |client, table, rows| {
            let mut contradictions = Vec::new();
            for row in &rows {
                let agrees = row.version <= version
                    && row.success
                    && self.migrations().get(row.version).is_some_and(|m| m.checksum() == row.checksum);
                if !agrees {
                    contradictions.push(row.version);
                }
            }
            if !contradictions.is_empty() {
                return Err(refused(
                    version,
                    format!(
                        "the tracking table already records migrations {contradictions:?} as failed, edited, \
                         or above the baseline; a baseline is for a database with no history up to it"
                    ),
                ));
            }
            let records: Vec<Record<'_>> = upto
                .iter()
                .filter(|m| !rows.iter().any(|r| r.version == m.version()))
                .map(|m| applied(m, "baseline"))
                .collect();
            table.record_all(client, &records)?;
            let versions: Vec<i64> = records.iter().map(|r| r.migration.version()).collect();
            tracing::info!(?versions, "baselined migrations up to {version} without running them");
            Ok(versions)
        })
    }

    /// The binary's migration `version`, or a refusal.
    fn known(&self, version: i64) -> Result<&Migration, Error> {
        self.migrations()
            .get(version)
            .ok_or_else(|| refused(version, "this binary has no such migration"))
    }
}

fn refused(version: i64, reason: impl Into<String>) -> Error {
    Error::Refused {
        version,
        reason: reason.into(),
    }
}

/// The row of a migration recorded as applied without running it.
fn applied<'a>(migration: &'a Migration, note: &'a str) -> Record<'a> {
    let total = migration.up().statements().map(<[_]>::len);
    Record {
        migration,
        took: Duration::ZERO,
        success: true,
        error: None,
        progress: total.map(|n| (n, n)),
        note: Some(note),
    }
}
