//! What an operator does with a deployed binary: look (status, plan,
//! health), move to a version (target, rollback), and mend the tracking
//! table (baseline, repair, accept a checksum).

mod common;

use common::{advisory_locks, applied_versions, database, table_exists, tracked, versions, Driver};
use stowage::{
    Adopt, Counts, Error, ReapplyReason, Refusal, Remedy, RollbackProblem, RollbackReason, Stage,
    State, TargetBelow, Violation,
};

static BASE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/base");
static EDITED: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/edited");
static FEWER: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/fewer");
static GAP: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/gap");
static FAILING: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/failing");
static DIRTY: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/dirty");
static ROLLBACK: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/rollback");
static FAILING_DOWN: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/failing_down");
static EXAMPLE: stowage::Migrations = stowage::embed_migrations!();
static GATE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/gate");
static SQLX: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/adopt/sqlx", layout = "sqlx");
static ROLLBACK_FROM_ZERO: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/rollback_from_zero");

fn states(status: &stowage::Status) -> Vec<(i64, String)> {
    status
        .entries()
        .iter()
        .map(|e| (e.version(), e.state().name().to_owned()))
        .collect()
}

/// The refusal a call ended with; panics if it ended otherwise.
fn refused(result: Result<impl std::fmt::Debug, Error>) -> Refusal {
    match result {
        Err(Error::Refused(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn status_reads_an_empty_database_without_creating_anything(driver: Driver) {
    let (_db, mut client) = database(driver);
    let status = client.status(BASE.runner()).unwrap();
    assert_eq!(
        states(&status),
        [
            (1, "pending".into()),
            (2, "pending".into()),
            (3, "pending".into())
        ]
    );
    assert_eq!(status.current_version(), None);
    assert!(
        !table_exists(&mut client, "public.stowage_migrations"),
        "status creates nothing"
    );
}

/// On a database stowage never ran on, a call that is refused, or has
/// nothing to do, leaves it as it was: no tracking table, no lock.
fn refusals_on_a_new_database_create_nothing(driver: Driver) {
    let (_db, mut client) = database(driver);
    assert_eq!(
        refused(client.forget(BASE.runner(), 2)),
        Refusal::NotRecorded { version: 2 }
    );
    assert_eq!(
        refused(client.accept_checksum(BASE.runner(), 2)),
        Refusal::NotApplied { version: 2 }
    );
    assert_eq!(
        refused(client.reapply(EXAMPLE.runner(), 2)),
        Refusal::Reapply {
            version: 2,
            reason: ReapplyReason::NotApplied
        }
    );
    assert!(matches!(
        refused(client.adopt(SQLX.runner(), Adopt::from("sqlx"))),
        Refusal::Adopt { .. }
    ));
    assert_eq!(client.repair(BASE.runner()).unwrap(), Vec::<i64>::new());
    assert!(client
        .rollback_all(BASE.runner())
        .unwrap()
        .undone()
        .is_empty());
    for table in ["public.stowage_migrations", "public.stowage_digest"] {
        assert!(!table_exists(&mut client, table), "{table} was created");
    }
    assert_eq!(advisory_locks(&mut client), 0);
}

fn status_says_a_failure_below_what_is_applied_is_out_of_order_as_a_run_does(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    client
        .batch_execute(
            "UPDATE stowage_migrations SET success = false, error = 'x' WHERE version = 2",
        )
        .unwrap();
    let status = client.status(BASE.runner()).unwrap();
    assert_eq!(states(&status)[1], (2, "out-of-order".into()));
    match client.run(BASE.runner()) {
        Err(Error::History(e)) => assert!(
            matches!(
                e.violations(),
                [stowage::Violation::OutOfOrder { version: 2, .. }]
            ),
            "{e}"
        ),
        other => panic!("expected an out-of-order refusal, got {other:?}"),
    }
}

fn status_shows_every_state_with_when_and_by_whom(driver: Driver) {
    let (db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    let status = client.status(BASE.runner()).unwrap();
    assert!(status.is_up_to_date());
    let first = &status.entries()[0];
    assert_eq!(first.path(), Some("tests/fixtures/base/1_a.sql"));
    assert!(first.applied_at().is_some() && first.execution_ms().is_some());
    let user: String = client
        .query_one("SELECT current_user::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(first.applied_by(), Some(user.as_str()));
    assert_eq!(
        status.counts(),
        Counts {
            applied: 3,
            ..Counts::default()
        }
    );
    assert_eq!(
        (status.schema(), status.table()),
        ("public", "stowage_migrations")
    );
    let table = status.to_string();
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("version  name  state"), "{table}");
    let columns: Vec<&str> = header
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        columns,
        [
            "version",
            "name",
            "state",
            "applied at (UTC)",
            "by",
            "ms",
            "down",
            "note"
        ],
        "{table}"
    );
    assert_eq!(table.lines().count(), 4, "{table}");

    // Divergent (2 edited) and missing (3 unknown to FEWER's binary):
    assert_eq!(
        states(&client.status(EDITED.runner()).unwrap()),
        [
            (1, "applied".into()),
            (2, "divergent".into()),
            (3, "applied".into())
        ]
    );
    assert_eq!(
        states(&client.status(FEWER.runner()).unwrap()),
        [
            (1, "applied".into()),
            (2, "applied".into()),
            (3, "missing".into())
        ]
    );

    // Out of order: 2 pending below the applied 3, counted apart from the
    // pending ones.
    let (_other, mut gap) = database(driver);
    gap.run(GAP.runner()).unwrap();
    let status = gap.status(BASE.runner()).unwrap();
    assert_eq!(
        states(&status),
        [
            (1, "applied".into()),
            (2, "out-of-order".into()),
            (3, "applied".into())
        ]
    );
    assert_eq!(
        status.counts(),
        Counts {
            applied: 2,
            out_of_order: 1,
            ..Counts::default()
        }
    );

    // Failed, and dirty with its progress.
    let (_f, mut failing) = database(driver);
    failing.run(FAILING.runner()).unwrap_err();
    let status = failing.status(FAILING.runner()).unwrap();
    assert_eq!(
        states(&status),
        [
            (1, "applied".into()),
            (2, "failed".into()),
            (3, "pending".into())
        ]
    );
    assert!(status.entries()[1].error().unwrap().contains("42P01"));
    // The table lists the failure's error below it.
    let table = status.to_string();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("migration 2 failed: ERROR 42P01: ")),
        "{table}"
    );
    let (_d, mut dirty) = database(driver);
    dirty.run(DIRTY.runner()).unwrap_err();
    let status = dirty.status(DIRTY.runner()).unwrap();
    assert_eq!(
        *status.entries()[1].state(),
        State::Dirty {
            statements_done: 2,
            statements_total: 5
        }
    );
    let table = status.to_string();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("migration 2 dirty (2/5 statements): ERROR 42P01: ")),
        "{table}"
    );
    drop(db);
}

fn status_plan_and_health_need_no_lock(driver: Driver) {
    let (db, _client) = database(driver);
    // This run takes the migration lock, applies 1 to 3 and waits at 4.
    let report = common::while_a_run_holds_the_lock(&db, driver, GATE.runner(), |watcher, _| {
        // With no patience for the lock at all, reading still works.
        let reader = || GATE.runner().lock_wait_timeout(std::time::Duration::ZERO);
        let status = watcher.status(reader()).unwrap();
        assert_eq!(states(&status)[3], (4, "pending".to_owned()));
        assert_eq!(watcher.plan(reader()).unwrap().steps().len(), 1);
        assert_eq!(watcher.health(reader()).unwrap().counts.applied, 3);
        let verified = watcher.verify(reader()).unwrap();
        assert!(verified.is_ok(), "{verified}");
        assert_eq!(verified.pending(), [4]);
    });
    assert_eq!(versions(&report.unwrap()), [1, 2, 3, 4]);
}

fn health_counts_states_for_an_endpoint(driver: Driver) {
    let (_db, mut client) = database(driver);
    // `Health` is every field compared here: ok, the version, the counts.
    let health = client.health(FAILING.runner()).unwrap();
    assert_eq!(
        (health.ok, health.current_version, health.counts),
        (
            false,
            None,
            Counts {
                pending: 3,
                ..Counts::default()
            }
        )
    );
    client.run(FAILING.runner()).unwrap_err();
    let health = client.health(FAILING.runner()).unwrap();
    assert_eq!(
        (health.ok, health.current_version, health.counts),
        (
            false,
            Some(1),
            Counts {
                applied: 1,
                failed: 1,
                pending: 1,
                ..Counts::default()
            }
        )
    );
    client
        .batch_execute("CREATE TABLE prerequisite (id int)")
        .unwrap();
    client.run(FAILING.runner()).unwrap();
    let health = client.health(FAILING.runner()).unwrap();
    assert!(health.ok);
    assert_eq!(
        (health.current_version, health.counts),
        (
            Some(3),
            Counts {
                applied: 3,
                ..Counts::default()
            }
        )
    );
}

fn plan_shows_what_a_run_would_do_and_does_nothing(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner().target(1)).unwrap();
    let plan = client.plan(BASE.runner()).unwrap();
    let planned: Vec<i64> = plan
        .steps()
        .iter()
        .map(|s| s.migration().version())
        .collect();
    assert_eq!(planned, [2, 3]);
    assert_eq!(plan.steps()[0].sql(), [BASE.get(2).unwrap().up().sql()]);
    let text = plan.to_string();
    assert!(
        text.contains("-- 2 b (tests/fixtures/base/2_b.sql), in one transaction"),
        "{text}"
    );
    assert!(
        text.contains("CREATE TABLE b (id int PRIMARY KEY);"),
        "{text}"
    );
    assert_eq!(applied_versions(&mut client), [1], "a plan changes nothing");
    assert!(!table_exists(&mut client, "public.b"));

    // It refuses what a run would refuse.
    assert!(client.plan(EDITED.runner().target(1)).is_ok());
    client.run(BASE.runner()).unwrap();
    assert!(matches!(
        client.plan(EDITED.runner()),
        Err(Error::History(_))
    ));
}

fn target_runs_up_to_and_including_a_version(driver: Driver) {
    let (_db, mut client) = database(driver);
    assert_eq!(
        versions(&client.run(BASE.runner().target(2)).unwrap()),
        [1, 2]
    );
    assert!(!table_exists(&mut client, "public.c"));
    assert!(client.run(BASE.runner().target(2)).unwrap().is_empty());
    assert_eq!(versions(&client.run(BASE.runner().target(3)).unwrap()), [3]);
    let refusal = refused(client.run(BASE.runner().target(7)));
    assert_eq!(refusal, Refusal::UnknownVersion { version: 7 });
    assert_eq!(
        refusal.to_string(),
        "refused: this binary has no migration 7"
    );
}

fn a_target_below_the_current_version_applies_nothing_and_says_so(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    let before = tracked(&mut client, "public.stowage_migrations");
    // Nothing is pending: the run decides so without the lock.
    let report = client.run(BASE.runner().target(1)).unwrap();
    assert!(report.is_empty(), "{report}");
    assert_eq!(
        report.target_below(),
        Some(TargetBelow {
            target: 1,
            current: 3
        })
    );
    assert_eq!(
        report.to_string(),
        "nothing to apply: the target 1 is below the current version 3; \
         Runner::rollback_to(1) goes back to it"
    );
    assert_eq!(tracked(&mut client, "public.stowage_migrations"), before);
    assert!(table_exists(&mut client, "public.c"), "nothing was undone");

    // A target at the current version is not below it.
    let report = client.run(BASE.runner().target(3)).unwrap();
    assert_eq!(report.target_below(), None);
    assert_eq!(
        report.to_string(),
        "nothing to apply: the database is up to date"
    );

    // With later migrations pending, the run takes the lock and reads the
    // history, and says the same.
    let (_e, mut example) = database(driver);
    example.run(EXAMPLE.runner().target(3)).unwrap();
    let report = example.run(EXAMPLE.runner().target(1)).unwrap();
    assert!(report.is_empty(), "{report}");
    assert_eq!(
        report.target_below(),
        Some(TargetBelow {
            target: 1,
            current: 3
        })
    );
    assert!(
        report
            .to_string()
            .contains("the target 1 is below the current version 3"),
        "{report}"
    );
    assert_eq!(applied_versions(&mut example), [1, 2, 3]);
    assert_eq!(advisory_locks(&mut example), 0);
}

fn baseline_records_an_existing_schema_without_running_it(driver: Driver) {
    let (_db, mut client) = database(driver);
    // A database built before stowage: tables a and b exist.
    client
        .batch_execute("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);")
        .unwrap();
    assert_eq!(client.baseline(BASE.runner(), 2).unwrap(), [1, 2]);
    let rows = tracked(&mut client, "public.stowage_migrations");
    assert_eq!(
        rows.iter()
            .map(|r| (r.version, r.success))
            .collect::<Vec<_>>(),
        [(1, true), (2, true)]
    );
    let note: Option<String> = client
        .query_one("SELECT note FROM stowage_migrations WHERE version = 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(note.as_deref(), Some("baseline"));
    assert_eq!(versions(&client.run(BASE.runner()).unwrap()), [3]);

    // Again, over history that would contradict it: refused, nothing changed.
    let refusal = refused(client.baseline(BASE.runner(), 2));
    assert_eq!(
        refusal,
        Refusal::BaselineContradicted {
            version: 2,
            recorded: vec![3]
        }
    );
    assert_eq!(
        refusal.to_string(),
        "refused: the tracking table already records migrations [3] as failed, edited, \
         or above the baseline 2; a baseline is for a database with no history up to it"
    );
    let refusal = refused(client.baseline(BASE.runner(), 0));
    assert_eq!(refusal, Refusal::NothingToBaseline { version: 0 });
    assert!(
        refusal.to_string().contains("no migration at or below 0"),
        "{refusal}"
    );
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);

    let (_f, mut failed) = database(driver);
    failed.run(FAILING.runner()).unwrap_err();
    assert_eq!(
        refused(failed.baseline(FAILING.runner(), 3)),
        Refusal::BaselineContradicted {
            version: 3,
            recorded: vec![2]
        }
    );
}

fn repair_removes_failure_records_but_not_dirty_ones(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(FAILING.runner()).unwrap_err();
    assert_eq!(client.repair(FAILING.runner()).unwrap(), [2]);
    assert_eq!(tracked(&mut client, "public.stowage_migrations").len(), 1);
    assert!(client.repair(FAILING.runner()).unwrap().is_empty());

    let (_d, mut dirty) = database(driver);
    dirty.run(DIRTY.runner()).unwrap_err();
    assert!(dirty.repair(DIRTY.runner()).unwrap().is_empty());
    assert_eq!(tracked(&mut dirty, "public.stowage_migrations").len(), 2);
}

fn an_edited_migration_can_be_accepted_deliberately(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    match client.run(EDITED.runner()) {
        Err(Error::History(e)) => match e.violations() {
            [violation @ Violation::Divergent {
                version: 2,
                path,
                recorded_checksum,
                binary_checksum,
            }] => {
                assert_eq!(*path, "tests/fixtures/edited/2_b.sql");
                assert_eq!(recorded_checksum, BASE.get(2).unwrap().up().checksum());
                assert_eq!(*binary_checksum, EDITED.get(2).unwrap().up().checksum());
                assert_eq!(
                    violation.remedies(),
                    [
                        Remedy::AcceptChecksum { version: 2 },
                        Remedy::AllowDivergent
                    ]
                );
            }
            other => panic!("expected migration 2 divergent, got {other:?}"),
        },
        other => panic!("expected a history refusal, got {other:?}"),
    }
    let verified = client.verify(EDITED.runner()).unwrap();
    assert!(!verified.is_ok(), "{verified}");
    assert!(
        matches!(
            verified.problems(),
            [Violation::Divergent { version: 2, .. }]
        ),
        "{verified}"
    );
    assert!(client.accept_checksum(EDITED.runner(), 2).unwrap());
    let rows = tracked(&mut client, "public.stowage_migrations");
    assert_eq!(rows[1].checksum, EDITED.get(2).unwrap().up().checksum());
    let note: String = client
        .query_one("SELECT note FROM stowage_migrations WHERE version = 2", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        note,
        format!(
            "checksum accepted: was {}",
            BASE.get(2).unwrap().up().checksum()
        )
    );
    assert!(client.run(EDITED.runner()).unwrap().is_empty());
    assert!(client.verify(EDITED.runner()).unwrap().is_ok());
    assert!(
        !client.accept_checksum(EDITED.runner(), 2).unwrap(),
        "already accepted: it changes nothing"
    );
    assert_eq!(tracked(&mut client, "public.stowage_migrations"), rows);
    let refusal = refused(client.accept_checksum(EDITED.runner(), 9));
    assert_eq!(refusal, Refusal::UnknownVersion { version: 9 });
    assert_eq!(
        refusal.to_string(),
        "refused: this binary has no migration 9"
    );
}

fn rollback_undoes_later_migrations_newest_first(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(ROLLBACK.runner()).unwrap();
    let report = client.rollback_to(ROLLBACK.runner(), 1).unwrap();
    let undone: Vec<_> = report
        .undone()
        .iter()
        .map(|u| (u.version(), u.path()))
        .collect();
    assert_eq!(
        undone,
        [
            (3, "tests/fixtures/rollback/3_c.down.sql"),
            (2, "tests/fixtures/rollback/2_b.down.sql")
        ]
    );
    assert!(
        report.to_string().starts_with("rolled back 2 migration(s)"),
        "{report}"
    );
    assert_eq!(applied_versions(&mut client), [1]);
    assert!(!table_exists(&mut client, "public.b") && !table_exists(&mut client, "public.c"));
    assert!(table_exists(&mut client, "public.a"));
    assert_eq!(
        versions(&client.run(ROLLBACK.runner()).unwrap()),
        [2, 3],
        "and forward again"
    );
    let report = client.rollback_to(ROLLBACK.runner(), 0).unwrap();
    assert_eq!(versions(&report), Vec::<i64>::new());
    let undone: Vec<i64> = report.undone().iter().map(|u| u.version()).collect();
    assert_eq!(undone, [3, 2, 1]);
    assert_eq!(applied_versions(&mut client), Vec::<i64>::new());
    assert_eq!(advisory_locks(&mut client), 0);
}

fn rollback_all_undoes_every_migration_version_zero_included(driver: Driver) {
    let (_db, mut client) = database(driver);
    assert_eq!(
        versions(&client.run(ROLLBACK_FROM_ZERO.runner()).unwrap()),
        [0, 1]
    );

    // Going back to 0 keeps migration 0.
    let report = client.rollback_to(ROLLBACK_FROM_ZERO.runner(), 0).unwrap();
    let undone: Vec<i64> = report.undone().iter().map(|u| u.version()).collect();
    assert_eq!(undone, [1]);
    assert_eq!(applied_versions(&mut client), [0]);
    assert_eq!(
        client
            .status(ROLLBACK_FROM_ZERO.runner())
            .unwrap()
            .current_version(),
        Some(0)
    );
    assert_eq!(
        versions(&client.run(ROLLBACK_FROM_ZERO.runner()).unwrap()),
        [1]
    );

    // Forgetting an applied migration 0 is refused, pointing at undoing all.
    match client.forget(ROLLBACK_FROM_ZERO.runner(), 0) {
        Err(Error::Refused(refusal)) => {
            assert_eq!(
                refusal.remedies(),
                [
                    stowage::Remedy::RollbackAll,
                    stowage::Remedy::Reapply { version: 0 }
                ]
            );
            assert!(
                refusal
                    .to_string()
                    .contains("to undo it, Runner::rollback_all;"),
                "{refusal}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // Undoing everything undoes 0 too, newest first (`one` references `zero`).
    let report = client.rollback_all(ROLLBACK_FROM_ZERO.runner()).unwrap();
    let undone: Vec<_> = report
        .undone()
        .iter()
        .map(|u| (u.version(), u.path()))
        .collect();
    assert_eq!(
        undone,
        [
            (1, "tests/fixtures/rollback_from_zero/1_one.down.sql"),
            (0, "tests/fixtures/rollback_from_zero/0_zero.down.sql")
        ]
    );
    assert!(report.applied().is_empty());
    let nothing = client.rollback_all(ROLLBACK_FROM_ZERO.runner()).unwrap();
    assert_eq!(
        nothing.to_string(),
        "nothing to roll back: no migration is applied"
    );
    client.run(ROLLBACK_FROM_ZERO.runner()).unwrap();
    client.rollback_all(ROLLBACK_FROM_ZERO.runner()).unwrap();
    assert!(
        report.to_string().starts_with("rolled back 2 migration(s)"),
        "{report}"
    );
    assert_eq!(applied_versions(&mut client), Vec::<i64>::new());
    assert!(
        tracked(&mut client, "public.stowage_migrations").is_empty(),
        "no row is left behind"
    );
    assert!(!table_exists(&mut client, "public.one") && !table_exists(&mut client, "public.zero"));
    let status = client.status(ROLLBACK_FROM_ZERO.runner()).unwrap();
    assert_eq!(status.current_version(), None);
    assert_eq!(
        status.counts(),
        Counts {
            pending: 2,
            ..Counts::default()
        }
    );
    assert_eq!(advisory_locks(&mut client), 0);

    // With nothing applied, there is nothing to undo.
    assert!(client
        .rollback_all(ROLLBACK_FROM_ZERO.runner())
        .unwrap()
        .is_empty());

    // And forward again, from 0.
    assert_eq!(
        versions(&client.run(ROLLBACK_FROM_ZERO.runner()).unwrap()),
        [0, 1]
    );
    assert!(table_exists(&mut client, "public.one") && table_exists(&mut client, "public.zero"));
}

fn rollback_all_refuses_up_front_as_rollback_to_does(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(EXAMPLE.runner()).unwrap();
    // Only 6 has a down script.
    let refusal = refused(client.rollback_all(EXAMPLE.runner()));
    let no_down = |version: i64, path: &'static str| RollbackProblem {
        version,
        path: Some(path),
        reason: RollbackReason::NoDownScript,
    };
    assert_eq!(
        refusal,
        Refusal::Rollback {
            to: None,
            problems: vec![
                no_down(5, "migrations/0005_account_revenue_view.sql"),
                no_down(4, "migrations/0004_touch_updated_at.sql"),
                no_down(3, "migrations/0003_create_orders.sql"),
                no_down(2, "migrations/0002_create_users.sql"),
                no_down(1, "migrations/0001_create_accounts.sql"),
            ]
        }
    );
    assert_eq!(
        applied_versions(&mut client).len(),
        6,
        "nothing was rolled back"
    );
    assert_eq!(advisory_locks(&mut client), 0);
}

fn rollback_refuses_up_front_listing_what_cannot_be_undone(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(EXAMPLE.runner()).unwrap();
    // 6 has a down script; 5 and below have none.
    let refusal = refused(client.rollback_to(EXAMPLE.runner(), 3));
    assert_eq!(
        refusal,
        Refusal::Rollback {
            to: Some(3),
            problems: vec![
                RollbackProblem {
                    version: 5,
                    path: Some("migrations/0005_account_revenue_view.sql"),
                    reason: RollbackReason::NoDownScript,
                },
                RollbackProblem {
                    version: 4,
                    path: Some("migrations/0004_touch_updated_at.sql"),
                    reason: RollbackReason::NoDownScript,
                },
            ]
        }
    );
    assert!(refusal.remedies().is_empty(), "{:?}", refusal.remedies());
    let reason = refusal.to_string();
    assert!(
        reason
            .contains("migration 5 (migrations/0005_account_revenue_view.sql) has no down script"),
        "{reason}"
    );
    assert!(
        reason.contains("migration 4 (migrations/0004_touch_updated_at.sql) has no down script"),
        "{reason}"
    );
    assert!(!reason.contains("migration 6 "), "{reason}");
    assert_eq!(
        reason,
        "refused: nothing was rolled back:\n  \
         - migration 5 (migrations/0005_account_revenue_view.sql) has no down script\n  \
         - migration 4 (migrations/0004_touch_updated_at.sql) has no down script"
    );
    assert_eq!(
        applied_versions(&mut client).len(),
        6,
        "nothing was rolled back"
    );
    let report = client.rollback_to(EXAMPLE.runner(), 5).unwrap();
    assert_eq!(report.undone().len(), 1);
    let has_column: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'last_login_at')",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(!has_column);
}

fn a_failing_down_script_is_rolled_back_and_the_migration_stays_applied(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(FAILING_DOWN.runner()).unwrap();
    let err = match client.rollback_to(FAILING_DOWN.runner(), 1) {
        Err(Error::Migration(e)) => e,
        other => panic!("expected the down script to fail, got {other:?}"),
    };
    assert_eq!(err.stage(), &Stage::Down);
    assert_eq!(err.version(), 2);
    assert!(err.remedies().is_empty(), "{:?}", err.remedies());
    assert_eq!(err.path(), "tests/fixtures/failing_down/2_b.down.sql");
    assert_eq!(
        err.position(),
        Some(stowage::LineColumn {
            line: 3,
            column: 13
        })
    );
    assert!(
        err.to_string().contains("migration 2 stays applied"),
        "{err}"
    );
    assert_eq!(applied_versions(&mut client), [1, 2]);
    assert!(
        table_exists(&mut client, "public.a"),
        "the down's first statement was rolled back"
    );
}

both_drivers!(
    status_reads_an_empty_database_without_creating_anything,
    refusals_on_a_new_database_create_nothing,
    status_says_a_failure_below_what_is_applied_is_out_of_order_as_a_run_does,
    status_shows_every_state_with_when_and_by_whom,
    status_plan_and_health_need_no_lock,
    health_counts_states_for_an_endpoint,
    plan_shows_what_a_run_would_do_and_does_nothing,
    target_runs_up_to_and_including_a_version,
    baseline_records_an_existing_schema_without_running_it,
    repair_removes_failure_records_but_not_dirty_ones,
    an_edited_migration_can_be_accepted_deliberately,
    rollback_undoes_later_migrations_newest_first,
    rollback_refuses_up_front_listing_what_cannot_be_undone,
    a_failing_down_script_is_rolled_back_and_the_migration_stays_applied,
    a_target_below_the_current_version_applies_nothing_and_says_so,
    rollback_all_undoes_every_migration_version_zero_included,
    rollback_all_refuses_up_front_as_rollback_to_does,
);
