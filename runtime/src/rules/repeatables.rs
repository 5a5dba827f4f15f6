//! The one rule for the repeatable migrations' states: the binary's
//! repeatable files against their rows in the tracking table. `status`,
//! `plan` and a run all derive from [`classify_repeatables`]. Pure: no
//! server, no clock.

use crate::data::history::Row;
use crate::data::registry::{Migrations, Repeatable};
use crate::data::repeatable_status::{RepeatableEntry, RepeatableState};
use crate::data::status::State;
use crate::rules::classify::History;

/// What the `note` of a repeatable's row starts with while its objects are
/// absent: dropped in a versioned migration's transaction, to be created
/// again. The migration's version follows.
pub(crate) const ABSENT: &str = "dropped to apply migration ";

/// How a repeatable's row is named: its file name without `.sql`.
pub(crate) fn row_name(name: &str) -> String {
    format!("{}{name}", stowage_core::repeatable::PREFIX)
}

/// Whether a run brings the repeatable migrations up to date: not when it
/// stops below the binary's newest migration (`target`), nor when the
/// database has applied migrations this binary lacks (the binary is older
/// than the database, and its repeatable files may be too).
pub(crate) fn applies(migrations: Migrations, target: Option<i64>, history: &History<'_>) -> bool {
    let newest = migrations.newest().map(|m| m.version());
    if target.is_some_and(|target| newest.is_some_and(|newest| target < newest)) {
        return false;
    }
    let older = history.entries.iter().any(|e| e.state == State::Missing);
    if older && migrations.repeatables().len() > 0 {
        tracing::warn!(
            "the database has applied migrations this binary lacks: leaving the repeatable migrations \
             as a newer binary left them"
        );
    }
    !older
}

/// One repeatable known to the binary or to the tracking table.
#[derive(Debug, Clone)]
pub(crate) struct ClassifiedRepeatable<'r> {
    pub version: i64,
    pub repeatable: Option<Repeatable>,
    pub row: Option<&'r Row>,
    pub state: RepeatableState,
}

impl ClassifiedRepeatable<'_> {
    /// Its name, from the binary or, for a removed one, from its row.
    pub(crate) fn name(&self) -> String {
        match (&self.repeatable, self.row) {
            (Some(r), _) => r.name().to_owned(),
            (None, Some(row)) => row
                .name
                .strip_prefix(stowage_core::repeatable::PREFIX)
                .unwrap_or(&row.name)
                .to_owned(),
            (None, None) => String::new(),
        }
    }

    /// Whether a run has work to do on it.
    pub(crate) fn needs_work(&self) -> bool {
        self.state != RepeatableState::Applied
    }

    /// Its line in a status.
    pub(crate) fn entry(&self) -> RepeatableEntry {
        RepeatableEntry {
            name: self.name(),
            path: self.repeatable.map(|r| r.script().path()),
            state: self.state.clone(),
            checksum: self.repeatable.map(|r| r.script().checksum()),
            applied_at: self.row.filter(|r| r.success).and_then(|r| r.applied_at),
            applied_by: self
                .row
                .filter(|r| r.success)
                .and_then(|r| r.applied_by.clone()),
            objects: self.row.map(|r| r.objects.clone()).unwrap_or_default(),
            error: self.row.and_then(|r| r.error.clone()),
        }
    }
}

/// The version of the migration that the objects of `row` were dropped
/// for, if they are absent.
fn absent_for(row: &Row) -> Option<i64> {
    row.note
        .as_deref()?
        .strip_prefix(ABSENT)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Classifies every repeatable of the binary and every repeatable row
/// (`rows`, their versions negative), in the binary's order (by name), the
/// removed ones after.
///
/// - A row of a file the binary has is `Absent` while its note says its
///   objects were dropped for a versioned migration; `Applied` if it
///   succeeded with the binary's checksum, `Changed` with another; a row
///   that never succeeded (a first attempt that failed) is `Pending`, as is
///   a file without a row.
/// - A row of a file the binary lacks is `Removed`.
pub(crate) fn classify_repeatables(
    migrations: Migrations,
    rows: &[Row],
) -> Vec<ClassifiedRepeatable<'_>> {
    let mut classified: Vec<ClassifiedRepeatable<'_>> = migrations
        .repeatables()
        .map(|repeatable| {
            let version = repeatable.tracking_version();
            let row = rows.iter().find(|r| r.version == version);
            let state = match row {
                Some(row) => match absent_for(row) {
                    Some(migration) => RepeatableState::Absent { migration },
                    None if !row.success => RepeatableState::Pending,
                    None if row.checksum == repeatable.script().checksum() => {
                        RepeatableState::Applied
                    }
                    None => RepeatableState::Changed {
                        recorded_checksum: row.checksum.clone(),
                    },
                },
                None => RepeatableState::Pending,
            };
            ClassifiedRepeatable {
                version,
                repeatable: Some(repeatable),
                row,
                state,
            }
        })
        .collect();
    for row in rows {
        if !classified.iter().any(|c| c.version == row.version) {
            classified.push(ClassifiedRepeatable {
                version: row.version,
                repeatable: None,
                row: Some(row),
                state: RepeatableState::Removed,
            });
        }
    }
    classified
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::registry::for_tests_with_repeatables;

    fn row(version: i64, checksum: &str, success: bool, note: Option<&str>) -> Row {
        Row {
            version,
            success,
            note: note.map(str::to_owned),
            ..Row::applied(version, checksum)
        }
    }

    #[test]
    fn each_repeatable_has_one_state() {
        let migrations = for_tests_with_repeatables(&[
            ("a", "CREATE VIEW a AS SELECT 1", "ca"),
            ("b", "CREATE VIEW b AS SELECT 1", "cb"),
            ("c", "CREATE VIEW c AS SELECT 1", "cc"),
            ("d", "CREATE VIEW d AS SELECT 1", "cd"),
            ("e", "CREATE VIEW e AS SELECT 1", "ce"),
        ]);
        let version = |name: &str| {
            migrations
                .repeatable(name)
                .map_or(0, |r| r.tracking_version())
        };
        let gone = stowage_core::repeatable::tracking_version("gone");
        let rows = [
            row(version("a"), "ca", true, None),
            row(version("b"), "old", true, None),
            row(version("c"), "cc", false, Some(&format!("{ABSENT}7"))),
            row(version("d"), "cd", false, None),
            row(gone, "cg", true, None),
        ];
        let states: Vec<(String, RepeatableState)> = classify_repeatables(migrations, &rows)
            .iter()
            .map(|c| (c.name(), c.state.clone()))
            .collect();
        assert_eq!(
            states,
            [
                ("a".to_owned(), RepeatableState::Applied),
                (
                    "b".to_owned(),
                    RepeatableState::Changed {
                        recorded_checksum: crate::data::registry::test_checksum("old")
                    }
                ),
                ("c".to_owned(), RepeatableState::Absent { migration: 7 }),
                ("d".to_owned(), RepeatableState::Pending),
                ("e".to_owned(), RepeatableState::Pending),
                ("m-1".to_owned(), RepeatableState::Removed),
            ]
            .map(|(n, s)| (if n == "m-1" { format!("m{gone}") } else { n }, s))
        );
    }
}
