//! The one rule for every migration's state: the binary's migrations
//! against the recorded history. The refusals of a run, the states of
//! `status` and `health`, the steps of `plan` and the problems of `verify`
//! all derive from [`classify`]. Pure: no server, no clock.

use crate::data::history::Row;
use crate::data::registry::{Migration, Migrations};
use crate::data::status::{Entry, State};
use crate::data::violation::{Stopped, Violation};
use std::collections::BTreeMap;

/// The options that relax what a run refuses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Allow {
    pub divergent: bool,
    pub missing: bool,
    pub out_of_order: bool,
    /// Continue dirty migrations instead of refusing them.
    pub resume: bool,
    /// An operator's word on an interrupted statement whose outcome the
    /// catalog cannot tell: whether it completed.
    pub interrupted_completed: Option<bool>,
}

/// One version known to the binary or to the tracking table, with its state.
#[derive(Debug, Clone)]
pub(crate) struct Classified<'r> {
    pub version: i64,
    pub migration: Option<Migration>,
    pub row: Option<&'r Row>,
    pub state: State,
}

/// Every version with its state, in version order.
#[derive(Debug, Clone)]
pub(crate) struct History<'r> {
    pub entries: Vec<Classified<'r>>,
    pub highest_applied: Option<i64>,
    /// For each dirty migration of the binary with statements left, what
    /// the catalog shows of the statement it stopped at (filled in by the
    /// step that looks).
    pub stops: BTreeMap<i64, Stopped>,
}

/// A migration to apply, and the statement to start at (after the ones a
/// resumed no-transaction migration already did), with the INVALID indexes
/// to drop before (what an interrupted or failed concurrent build left).
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub migration: Migration,
    pub start_at: usize,
    pub drop_first: Vec<String>,
}

/// What a run does with a history: the migrations to apply, or the
/// violations that make it refuse; and the violations it goes on despite,
/// because they were allowed, to be logged.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub apply: Vec<Pending>,
    pub refused: Vec<Violation>,
    pub allowed: Vec<Violation>,
    /// Dirty migrations resumed although their file changed since they stopped.
    pub resumed_changed: Vec<i64>,
}

/// Classifies every migration of the binary and every row of the history.
///
/// - A successful row is `Applied` if the binary has the migration with the
///   same checksum, `Divergent` if with another, `Missing` if not at all.
/// - A failed row of a no-transaction migration that stopped part way is
///   `Dirty`.
/// - A pending migration, or one whose transactional run failed, is
///   `OutOfOrder` below the highest version applied, else `Pending` or
///   `Failed`.
pub(crate) fn classify(migrations: Migrations, rows: &[Row]) -> History<'_> {
    let highest_applied = rows.iter().filter(|r| r.success).map(|r| r.version).max();
    let below_applied = |version: i64| highest_applied.is_some_and(|h| version < h);
    let mut entries: Vec<Classified<'_>> = Vec::with_capacity(migrations.len() + rows.len());
    let mut recorded = rows.iter().peekable();
    for migration in migrations {
        // Rows of versions the binary lacks, before this migration.
        while let Some(row) = recorded.next_if(|r| r.version < migration.version()) {
            entries.push(unknown(row));
        }
        let row = recorded.next_if(|r| r.version == migration.version());
        let state = match row {
            Some(row) if row.success && row.checksum == migration.up().checksum() => State::Applied,
            Some(row) if row.success => State::Divergent {
                recorded_checksum: row.checksum.clone(),
            },
            Some(row) if row.is_dirty() => dirty(row),
            _ if below_applied(migration.version()) => State::OutOfOrder,
            Some(_) => State::Failed,
            None => State::Pending,
        };
        entries.push(Classified {
            version: migration.version(),
            migration: Some(migration),
            row,
            state,
        });
    }
    entries.extend(recorded.map(unknown));
    History {
        entries,
        highest_applied,
        stops: BTreeMap::new(),
    }
}

/// A row of a version the binary does not have.
fn unknown(row: &Row) -> Classified<'_> {
    let state = if row.success {
        State::Missing
    } else if row.is_dirty() {
        dirty(row)
    } else {
        State::Failed
    };
    Classified {
        version: row.version,
        migration: None,
        row: Some(row),
        state,
    }
}

fn dirty(row: &Row) -> State {
    State::Dirty {
        statements_done: row.statements_done.unwrap_or(0),
        statements_total: row.statements_total.unwrap_or(0),
    }
}

impl<'r> History<'r> {
    /// The entry of `version`, if the binary or the history knows it.
    pub(crate) fn get(&self, version: i64) -> Option<&Classified<'r>> {
        self.entries
            .binary_search_by_key(&version, |e| e.version)
            .ok()
            .map(|i| &self.entries[i])
    }

    /// Whether the database is at the binary's newest version and nowhere
    /// else: every migration applied, none recorded that the binary lacks,
    /// and at least one. There the schema file says what it holds.
    pub(crate) fn at_newest(&self) -> bool {
        !self.entries.is_empty()
            && self
                .entries
                .iter()
                .all(|e| e.state.is_applied() && e.migration.is_some())
    }

    /// Every disagreement with the binary, whatever a run would allow: what
    /// `verify` reports.
    pub(crate) fn violations(&self) -> Vec<Violation> {
        self.entries
            .iter()
            .filter_map(|e| self.violation(e))
            .collect()
    }

    fn violation(&self, e: &Classified<'_>) -> Option<Violation> {
        let path = || {
            e.migration.map_or_else(
                || e.row.map(|r| r.name.clone()).unwrap_or_default(),
                |m| m.up().path().to_owned(),
            )
        };
        let error = || e.row.and_then(|r| r.error.clone());
        Some(match (&e.state, e.migration) {
            (State::Applied | State::Pending | State::Elsewhere, _) => return None,
            (State::Divergent { recorded_checksum }, Some(m)) => Violation::Divergent {
                version: e.version,
                path: m.up().path(),
                recorded_checksum: recorded_checksum.clone(),
                binary_checksum: m.up().checksum(),
            },
            (State::OutOfOrder, Some(m)) => Violation::OutOfOrder {
                version: e.version,
                path: m.up().path(),
                highest_applied: self.highest_applied.unwrap_or(e.version),
            },
            (State::Missing | State::Divergent { .. } | State::OutOfOrder, _) => {
                Violation::Missing {
                    version: e.version,
                    name: e.row.map(|r| r.name.clone()).unwrap_or_default(),
                }
            }
            (
                State::Dirty {
                    statements_done,
                    statements_total,
                },
                _,
            ) => Violation::Dirty {
                version: e.version,
                path: path(),
                statements_done: *statements_done,
                statements_total: *statements_total,
                error: error(),
                stopped: self.stops.get(&e.version).cloned(),
            },
            (State::Failed, _) => Violation::Failed {
                version: e.version,
                path: path(),
                error: error(),
            },
        })
    }

    /// What a run with these options does: the migrations it applies, up to
    /// `target` when there is one, or what it refuses.
    pub(crate) fn decide(&self, allow: Allow, target: Option<i64>) -> Decision {
        let mut decision = Decision {
            apply: Vec::new(),
            refused: Vec::new(),
            allowed: Vec::new(),
            resumed_changed: Vec::new(),
        };
        for e in &self.entries {
            let violation = self.violation(e);
            let start = match (&e.state, e.migration) {
                (State::Pending | State::Failed, Some(_)) => Some((0, Vec::new())),
                (State::OutOfOrder, Some(_)) => allow.out_of_order.then(|| (0, Vec::new())),
                (
                    State::Dirty {
                        statements_done, ..
                    },
                    Some(m),
                ) => match self.resume_at(e, m, *statements_done, allow) {
                    Some(_)
                        if self.highest_applied.is_some_and(|h| e.version < h)
                            && !allow.out_of_order =>
                    {
                        decision.refused.push(Violation::OutOfOrder {
                            version: e.version,
                            path: m.up().path(),
                            highest_applied: self.highest_applied.unwrap_or(e.version),
                        });
                        continue;
                    }
                    Some(start) => {
                        if e.row.is_some_and(|r| r.checksum != m.up().checksum()) {
                            decision.resumed_changed.push(e.version);
                        }
                        Some(start)
                    }
                    None => None,
                },
                _ => None,
            };
            let start_at = start.as_ref().map(|(at, _)| *at);
            let allowed = match &e.state {
                State::Divergent { .. } => allow.divergent,
                State::Missing => allow.missing,
                State::OutOfOrder => allow.out_of_order,
                State::Failed => true,
                State::Dirty { .. } => start_at.is_some(),
                State::Applied | State::Pending | State::Elsewhere => true,
            };
            match violation {
                Some(v) if !allowed => decision.refused.push(v),
                Some(v) if !matches!(e.state, State::Failed | State::Dirty { .. }) => {
                    decision.allowed.push(v)
                }
                _ => {}
            }
            if let (Some((start_at, drop_first)), Some(migration)) = (start, e.migration)
                && target.is_none_or(|t| e.version <= t)
            {
                decision.apply.push(Pending {
                    migration,
                    start_at,
                    drop_first,
                });
            }
        }
        decision.refused.sort_by_key(Violation::version);
        decision
    }

    /// Where a dirty migration goes on, and what to drop first, if a run
    /// with `allow` goes on with it. A statement that failed is run again by
    /// a resume, once its cause is fixed. One that was interrupted is
    /// judged by the catalog and gone on with by any run: after it if it
    /// completed, with it if not; where the catalog cannot tell, the
    /// operator says which. One whose server process still runs is left
    /// alone; so is one the binary's file no longer has.
    fn resume_at(
        &self,
        e: &Classified<'_>,
        migration: Migration,
        done: usize,
        allow: Allow,
    ) -> Option<(usize, Vec<String>)> {
        let statements = migration.up().statements().len();
        let failed = e.row.is_some_and(|r| r.error.is_some());
        if done >= statements {
            // Every statement completed; only its record is missing.
            return (done == statements && (!failed || allow.resume)).then(|| (done, Vec::new()));
        }
        let stop = self.stops.get(&e.version);
        let drop_first = || stop.map(|s| s.invalid_indexes.clone()).unwrap_or_default();
        if failed {
            return allow.resume.then(|| (done, drop_first()));
        }
        let stop = stop?;
        if stop.running_pid.is_some() {
            return None;
        }
        match allow.interrupted_completed.or(stop.completed)? {
            true => Some((done + 1, Vec::new())),
            false => Some((done, drop_first())),
        }
    }

    /// Every entry as `status` shows it.
    pub(crate) fn status_entries(&self) -> Vec<Entry> {
        self.entries
            .iter()
            .map(|e| Entry {
                version: e.version,
                name: e.migration.map_or_else(
                    || e.row.map(|r| r.name.clone()).unwrap_or_default(),
                    |m| m.name().to_owned(),
                ),
                path: e.migration.map(|m| m.up().path()),
                state: e.state.clone(),
                checksum: e.migration.map(|m| m.up().checksum()),
                has_down: e.migration.is_some_and(|m| m.down().is_some()),
                applied_at: e.row.and_then(|r| r.applied_at),
                applied_by: e.row.and_then(|r| r.applied_by.clone()),
                execution_ms: e.row.and_then(|r| r.execution_ms),
                error: e.row.and_then(|r| r.error.clone()),
                note: e.row.and_then(|r| r.note.clone()),
                stopped: self.stops.get(&e.version).cloned(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::remedy::Remedy;

    fn binary() -> Migrations {
        crate::data::registry::for_tests(&[
            (1, "one", "SELECT 1", "c1", true, [None; 2]),
            (2, "two", "SELECT 1", "c2", true, [None; 2]),
            (
                3,
                "three",
                "SELECT 1; SELECT 2; SELECT 3",
                "c3",
                false,
                [None; 2],
            ),
            (4, "four", "SELECT 1", "c4", true, [None; 2]),
        ])
    }

    fn failed(version: i64, checksum: &str) -> Row {
        Row {
            success: false,
            error: Some(format!("ERROR: {version} broke")),
            ..Row::applied(version, checksum)
        }
    }

    fn dirty_row(version: i64, done: usize, total: usize) -> Row {
        Row {
            statements_done: Some(done),
            statements_total: Some(total),
            ..failed(version, "c3")
        }
    }

    fn states(rows: &[Row]) -> Vec<(i64, State)> {
        classify(binary(), rows)
            .entries
            .into_iter()
            .map(|e| (e.version, e.state))
            .collect()
    }

    fn to_apply(rows: &[Row], allow: Allow, target: Option<i64>) -> Vec<(i64, usize)> {
        let decision = classify(binary(), rows).decide(allow, target);
        assert!(decision.refused.is_empty(), "{:?}", decision.refused);
        decision
            .apply
            .iter()
            .map(|p| (p.migration.version(), p.start_at))
            .collect()
    }

    fn refused(rows: &[Row], allow: Allow) -> Vec<Violation> {
        classify(binary(), rows).decide(allow, None).refused
    }

    #[test]
    fn a_new_database_has_everything_pending_and_applies_it_in_order() {
        assert_eq!(
            states(&[]),
            [
                (1, State::Pending),
                (2, State::Pending),
                (3, State::Pending),
                (4, State::Pending)
            ]
        );
        assert_eq!(
            to_apply(&[], Allow::default(), None),
            [(1, 0), (2, 0), (3, 0), (4, 0)]
        );
        assert_eq!(to_apply(&[], Allow::default(), Some(2)), [(1, 0), (2, 0)]);
        assert!(classify(binary(), &[]).violations().is_empty());
    }

    #[test]
    fn applied_rows_with_the_binary_checksum_are_applied() {
        let rows = [Row::applied(1, "c1"), Row::applied(2, "c2")];
        assert_eq!(
            states(&rows)[..2],
            [(1, State::Applied), (2, State::Applied)]
        );
        assert_eq!(to_apply(&rows, Allow::default(), None), [(3, 0), (4, 0)]);
    }

    #[test]
    fn a_baseline_counts_as_applied() {
        let rows = [Row {
            note: Some("baseline".into()),
            ..Row::applied(1, "c1")
        }];
        assert_eq!(states(&rows)[0], (1, State::Applied));
    }

    #[test]
    fn an_edited_migration_is_divergent_and_refused_unless_allowed() {
        let rows = [Row::applied(1, "old")];
        assert_eq!(
            states(&rows)[0],
            (
                1,
                State::Divergent {
                    recorded_checksum: crate::data::registry::test_checksum("old")
                }
            )
        );
        let refused = refused(&rows, Allow::default());
        assert!(
            matches!(&refused[..], [Violation::Divergent { version: 1, recorded_checksum, binary_checksum, .. }] if *recorded_checksum == crate::data::registry::test_checksum("old") && *binary_checksum == crate::data::registry::test_checksum("c1")),
            "{refused:?}"
        );
        let allow = Allow {
            divergent: true,
            ..Allow::default()
        };
        let decision = classify(binary(), &rows).decide(allow, None);
        assert!(decision.refused.is_empty());
        assert_eq!(decision.allowed.len(), 1, "the run logs what it allowed");
        assert_eq!(
            decision.apply.len(),
            3,
            "an edited migration is not run again"
        );
    }

    #[test]
    fn a_version_the_binary_lacks_is_missing_and_refused_unless_allowed() {
        let rows = [Row::applied(1, "c1"), Row::applied(7, "c7")];
        let states = states(&rows);
        assert_eq!(states.last(), Some(&(7, State::Missing)));
        assert_eq!(states[1], (2, State::OutOfOrder), "below what is applied");
        assert!(matches!(
            refused(&rows, Allow::default())[..],
            [
                Violation::OutOfOrder {
                    version: 2,
                    highest_applied: 7,
                    ..
                },
                Violation::OutOfOrder { version: 3, .. },
                Violation::OutOfOrder { version: 4, .. },
                Violation::Missing { version: 7, .. }
            ]
        ));
        let allow = Allow {
            missing: true,
            out_of_order: true,
            ..Allow::default()
        };
        assert_eq!(to_apply(&rows, allow, None), [(2, 0), (3, 0), (4, 0)]);
    }

    #[test]
    fn a_pending_migration_below_the_highest_applied_is_out_of_order() {
        let rows = [Row::applied(1, "c1"), Row::applied(4, "c4")];
        let all = states(&rows);
        assert_eq!(all[1], (2, State::OutOfOrder));
        assert_eq!(all[2], (3, State::OutOfOrder));
        let refused = refused(&rows, Allow::default());
        assert_eq!(
            refused.iter().map(Violation::version).collect::<Vec<_>>(),
            [2, 3]
        );
        let allow = Allow {
            out_of_order: true,
            ..Allow::default()
        };
        assert_eq!(to_apply(&rows, allow, None), [(2, 0), (3, 0)]);
    }

    #[test]
    fn a_failed_migration_is_retried_and_verify_reports_it() {
        let rows = [Row::applied(1, "c1"), failed(2, "c2")];
        assert_eq!(states(&rows)[1], (2, State::Failed));
        assert_eq!(
            to_apply(&rows, Allow::default(), None),
            [(2, 0), (3, 0), (4, 0)]
        );
        let violations = classify(binary(), &rows).violations();
        assert!(matches!(
            &violations[..],
            [Violation::Failed {
                version: 2,
                error: Some(_),
                ..
            }]
        ));
    }

    #[test]
    fn a_failure_below_the_highest_applied_is_out_of_order_as_a_run_refuses_it() {
        let rows = [failed(1, "c1"), Row::applied(2, "c2")];
        assert_eq!(states(&rows)[0], (1, State::OutOfOrder));
        assert!(matches!(
            refused(&rows, Allow::default())[..],
            [Violation::OutOfOrder { version: 1, .. }]
        ));
    }

    #[test]
    fn a_dirty_migration_is_refused_until_resumed_at_its_statement() {
        let rows = [
            Row::applied(1, "c1"),
            Row::applied(2, "c2"),
            dirty_row(3, 1, 3),
        ];
        assert_eq!(
            states(&rows)[2],
            (
                3,
                State::Dirty {
                    statements_done: 1,
                    statements_total: 3
                }
            )
        );
        assert!(matches!(
            refused(&rows, Allow::default())[..],
            [Violation::Dirty {
                version: 3,
                statements_done: 1,
                statements_total: 3,
                ..
            }]
        ));
        let resume = Allow {
            resume: true,
            ..Allow::default()
        };
        assert_eq!(to_apply(&rows, resume, None), [(3, 1), (4, 0)]);
    }

    #[test]
    fn a_dirty_migration_past_the_binary_statements_cannot_be_resumed() {
        let rows = [
            Row::applied(1, "c1"),
            Row::applied(2, "c2"),
            dirty_row(3, 5, 5),
        ];
        let resume = Allow {
            resume: true,
            ..Allow::default()
        };
        assert!(matches!(
            refused(&rows, resume)[..],
            [Violation::Dirty { version: 3, .. }]
        ));
    }

    #[test]
    fn a_resumed_migration_edited_since_it_stopped_is_named() {
        let rows = [Row {
            checksum: "other".into(),
            ..dirty_row(3, 2, 3)
        }];
        let resume = Allow {
            resume: true,
            out_of_order: false,
            ..Allow::default()
        };
        let decision = classify(binary(), &rows).decide(resume, None);
        assert_eq!(decision.resumed_changed, [3]);
    }

    #[test]
    fn a_dirty_migration_the_binary_lacks_is_still_dirty() {
        let rows = [Row {
            version: 9,
            ..dirty_row(9, 0, 2)
        }];
        assert_eq!(
            states(&rows).last(),
            Some(&(
                9,
                State::Dirty {
                    statements_done: 0,
                    statements_total: 2
                }
            ))
        );
        assert!(matches!(
            refused(
                &rows,
                Allow {
                    resume: true,
                    ..Allow::default()
                }
            )[..],
            [Violation::Dirty { version: 9, .. }]
        ));
    }

    fn interrupted_row(version: i64, done: usize, total: usize) -> Row {
        Row {
            error: None,
            ..dirty_row(version, done, total)
        }
    }

    fn stopped(
        statement: usize,
        completed: Option<bool>,
        running: Option<i32>,
        invalid: &[&str],
    ) -> Stopped {
        Stopped {
            statement,
            at: None,
            running_pid: running,
            completed,
            invalid_indexes: invalid.iter().map(|i| (*i).to_owned()).collect(),
        }
    }

    fn decide_with(rows: &[Row], stop: Option<Stopped>, allow: Allow) -> Decision {
        let mut history = classify(binary(), rows);
        if let Some(stop) = stop {
            history.stops.insert(3, stop);
        }
        history.decide(allow, None)
    }

    #[test]
    fn an_interrupted_statement_the_catalog_judges_is_gone_on_with_by_any_run() {
        let rows = [
            Row::applied(1, "c1"),
            Row::applied(2, "c2"),
            interrupted_row(3, 1, 3),
        ];
        // It completed: on after it, with no resume asked for.
        let decision = decide_with(
            &rows,
            Some(stopped(2, Some(true), None, &[])),
            Allow::default(),
        );
        assert!(decision.refused.is_empty(), "{:?}", decision.refused);
        assert_eq!(
            (
                decision.apply[0].start_at,
                decision.apply[0].drop_first.len()
            ),
            (2, 0)
        );
        // It did not: run again, after dropping what it left.
        let decision = decide_with(
            &rows,
            Some(stopped(2, Some(false), None, &["public.i"])),
            Allow::default(),
        );
        assert_eq!(decision.apply[0].start_at, 1);
        assert_eq!(decision.apply[0].drop_first, ["public.i"]);
    }

    #[test]
    fn an_interrupted_statement_the_catalog_cannot_judge_waits_for_the_operator() {
        let rows = [
            Row::applied(1, "c1"),
            Row::applied(2, "c2"),
            interrupted_row(3, 1, 3),
        ];
        let stop = stopped(2, None, None, &[]);
        let decision = decide_with(
            &rows,
            Some(stop.clone()),
            Allow {
                resume: true,
                ..Allow::default()
            },
        );
        assert!(matches!(
            &decision.refused[..],
            [Violation::Dirty { version: 3, stopped: Some(s), .. }] if s.completed.is_none()
        ));
        assert_eq!(
            decision.refused[0].remedies()[..2],
            [
                Remedy::ResumeInterrupted {
                    version: 3,
                    statement: 2,
                    completed: true
                },
                Remedy::ResumeInterrupted {
                    version: 3,
                    statement: 2,
                    completed: false
                },
            ]
        );
        for (completed, start_at) in [(true, 2), (false, 1)] {
            let allow = Allow {
                interrupted_completed: Some(completed),
                ..Allow::default()
            };
            let decision = decide_with(&rows, Some(stop.clone()), allow);
            assert!(decision.refused.is_empty());
            assert_eq!(decision.apply[0].start_at, start_at);
        }
    }

    #[test]
    fn a_statement_its_server_process_still_runs_is_left_alone() {
        let rows = [
            Row::applied(1, "c1"),
            Row::applied(2, "c2"),
            interrupted_row(3, 1, 3),
        ];
        let decision = decide_with(
            &rows,
            Some(stopped(2, Some(true), Some(4242), &[])),
            Allow {
                resume: true,
                interrupted_completed: Some(true),
                ..Allow::default()
            },
        );
        assert_eq!(decision.refused.len(), 1);
        assert!(
            decision.refused[0]
                .to_string()
                .contains("server process 4242 still runs statement 2")
        );
    }

    #[test]
    fn a_migration_interrupted_after_its_last_statement_is_recorded_by_any_run() {
        let rows = [
            Row::applied(1, "c1"),
            Row::applied(2, "c2"),
            interrupted_row(3, 3, 3),
        ];
        let decision = decide_with(&rows, None, Allow::default());
        assert!(decision.refused.is_empty());
        assert_eq!(decision.apply[0].start_at, 3);
    }

    #[test]
    fn every_disagreement_is_reported_at_once_in_version_order() {
        let rows = [
            Row::applied(1, "old"),
            dirty_row(3, 1, 3),
            Row::applied(4, "c4"),
            Row::applied(8, "c8"),
        ];
        let versions: Vec<i64> = refused(&rows, Allow::default())
            .iter()
            .map(Violation::version)
            .collect();
        assert_eq!(versions, [1, 2, 3, 8]);
        let status: Vec<&str> = classify(binary(), &rows)
            .status_entries()
            .iter()
            .map(|e| e.state().name())
            .collect();
        assert_eq!(
            status,
            ["divergent", "out-of-order", "dirty", "applied", "missing"]
        );
    }

    #[test]
    fn a_target_limits_what_is_applied_but_not_what_is_refused() {
        let rows = [Row::applied(1, "old")];
        assert_eq!(
            classify(binary(), &rows)
                .decide(Allow::default(), Some(1))
                .refused
                .len(),
            1
        );
        assert_eq!(to_apply(&[], Allow::default(), Some(1)), [(1, 0)]);
    }
}
