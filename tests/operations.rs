//! What an operator does with a deployed binary: look (status, plan,
//! health), move to a version (target, rollback), and mend the tracking
//! table (baseline, repair, accept a checksum).

mod common;

use common::{advisory_locks, applied_versions, database, table_exists, tracked, versions};
use stowage::{Error, Health, State};

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

fn states(status: &stowage::Status) -> Vec<(i64, String)> {
    status
        .entries()
        .iter()
        .map(|e| (e.version(), e.state().name().to_owned()))
        .collect()
}

fn refused(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Refused { reason, .. }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn status_reads_an_empty_database_without_creating_anything() {
    let (_db, mut client) = database();
    let status = BASE.runner().status(&mut client).unwrap();
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

#[test]
fn status_says_a_failure_below_what_is_applied_is_out_of_order_as_a_run_does() {
    let (_db, mut client) = database();
    BASE.run(&mut client).unwrap();
    client
        .batch_execute(
            "UPDATE stowage_migrations SET success = false, error = 'x' WHERE version = 2",
        )
        .unwrap();
    let status = BASE.runner().status(&mut client).unwrap();
    assert_eq!(states(&status)[1], (2, "out-of-order".into()));
    match BASE.run(&mut client) {
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

#[test]
fn status_shows_every_state_with_when_and_by_whom() {
    let (db, mut client) = database();
    BASE.run(&mut client).unwrap();
    let status = BASE.runner().status(&mut client).unwrap();
    assert!(status.is_up_to_date());
    let first = &status.entries()[0];
    assert_eq!(first.path(), Some("tests/fixtures/base/1_a.sql"));
    assert!(first.applied_at().is_some() && first.execution_ms().is_some());
    let user: String = client
        .query_one("SELECT current_user::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(first.applied_by(), Some(user.as_str()));
    let table = status.to_string();
    assert!(
        table
            .lines()
            .next()
            .unwrap()
            .starts_with("version  name  state"),
        "{table}"
    );
    assert_eq!(table.lines().count(), 4, "{table}");

    // Divergent (2 edited) and missing (3 unknown to FEWER's binary):
    assert_eq!(
        states(&EDITED.runner().status(&mut client).unwrap()),
        [
            (1, "applied".into()),
            (2, "divergent".into()),
            (3, "applied".into())
        ]
    );
    assert_eq!(
        states(&FEWER.runner().status(&mut client).unwrap()),
        [
            (1, "applied".into()),
            (2, "applied".into()),
            (3, "missing".into())
        ]
    );

    // Out of order: 2 pending below the applied 3.
    let (_other, mut gap) = database();
    GAP.run(&mut gap).unwrap();
    assert_eq!(
        states(&BASE.runner().status(&mut gap).unwrap()),
        [
            (1, "applied".into()),
            (2, "out-of-order".into()),
            (3, "applied".into())
        ]
    );

    // Failed, and dirty with its progress.
    let (_f, mut failing) = database();
    FAILING.run(&mut failing).unwrap_err();
    let status = FAILING.runner().status(&mut failing).unwrap();
    assert_eq!(
        states(&status),
        [
            (1, "applied".into()),
            (2, "failed".into()),
            (3, "pending".into())
        ]
    );
    assert!(status.entries()[1].error().unwrap().contains("42P01"));
    let (_d, mut dirty) = database();
    DIRTY.run(&mut dirty).unwrap_err();
    let status = DIRTY.runner().status(&mut dirty).unwrap();
    assert_eq!(
        *status.entries()[1].state(),
        State::Dirty {
            statements_done: 2,
            statements_total: 5
        }
    );
    drop(db);
}

#[test]
fn status_plan_and_health_need_no_lock() {
    let (db, _client) = database();
    // This run takes the migration lock, applies 1 to 3 and waits at 4.
    let report = common::while_a_run_holds_the_lock(&db, &GATE, |watcher, _| {
        // With no patience for the lock at all, reading still works.
        let reader = GATE.runner().lock_wait_timeout(std::time::Duration::ZERO);
        let status = reader.status(watcher).unwrap();
        assert_eq!(states(&status)[3], (4, "pending".to_owned()));
        assert_eq!(reader.plan(watcher).unwrap().steps().len(), 1);
        assert_eq!(reader.health(watcher).unwrap().applied, 3);
    });
    assert_eq!(versions(&report.unwrap()), [1, 2, 3, 4]);
}

#[test]
fn health_counts_states_for_an_endpoint() {
    let (_db, mut client) = database();
    let health = FAILING.runner().health(&mut client).unwrap();
    assert_eq!(
        health,
        Health {
            ok: false,
            current_version: None,
            applied: 0,
            pending: 3,
            failed: 0,
            dirty: 0,
            divergent: 0,
            missing: 0
        }
    );
    FAILING.run(&mut client).unwrap_err();
    let health = FAILING.runner().health(&mut client).unwrap();
    assert_eq!(
        (
            health.ok,
            health.current_version,
            health.applied,
            health.failed,
            health.pending
        ),
        (false, Some(1), 1, 1, 1)
    );
    client
        .batch_execute("CREATE TABLE prerequisite (id int)")
        .unwrap();
    FAILING.run(&mut client).unwrap();
    let health = FAILING.runner().health(&mut client).unwrap();
    assert!(health.ok);
    assert_eq!((health.current_version, health.applied), (Some(3), 3));
}

#[test]
fn plan_shows_what_a_run_would_do_and_does_nothing() {
    let (_db, mut client) = database();
    BASE.runner().target(1).run(&mut client).unwrap();
    let plan = BASE.runner().plan(&mut client).unwrap();
    let planned: Vec<i64> = plan
        .steps()
        .iter()
        .map(|s| s.migration().version())
        .collect();
    assert_eq!(planned, [2, 3]);
    assert_eq!(plan.steps()[0].sql(), [BASE.get(2).unwrap().sql()]);
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
    assert!(EDITED.runner().target(1).plan(&mut client).is_ok());
    BASE.run(&mut client).unwrap();
    assert!(matches!(
        EDITED.runner().plan(&mut client),
        Err(Error::History(_))
    ));
}

#[test]
fn target_runs_up_to_and_including_a_version() {
    let (_db, mut client) = database();
    assert_eq!(
        versions(&BASE.runner().target(2).run(&mut client).unwrap()),
        [1, 2]
    );
    assert!(!table_exists(&mut client, "public.c"));
    assert!(BASE.runner().target(2).run(&mut client).unwrap().is_empty());
    assert_eq!(
        versions(&BASE.runner().target(3).run(&mut client).unwrap()),
        [3]
    );
    assert!(refused(BASE.runner().target(7).run(&mut client))
        .contains("not a migration of this binary"));
}

#[test]
fn baseline_records_an_existing_schema_without_running_it() {
    let (_db, mut client) = database();
    // A database built before stowage: tables a and b exist.
    client
        .batch_execute("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);")
        .unwrap();
    assert_eq!(BASE.runner().baseline(&mut client, 2).unwrap(), [1, 2]);
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
    assert_eq!(versions(&BASE.run(&mut client).unwrap()), [3]);

    // Again, over history that would contradict it: refused, nothing changed.
    let reason = refused(BASE.runner().baseline(&mut client, 2));
    assert!(reason.contains("[3]"), "{reason}");
    assert!(refused(BASE.runner().baseline(&mut client, 0)).contains("no migration at or below"));
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);

    let (_f, mut failed) = database();
    FAILING.run(&mut failed).unwrap_err();
    assert!(refused(FAILING.runner().baseline(&mut failed, 3)).contains("[2]"));
}

#[test]
fn repair_removes_failure_records_but_not_dirty_ones() {
    let (_db, mut client) = database();
    FAILING.run(&mut client).unwrap_err();
    assert_eq!(FAILING.runner().repair(&mut client).unwrap(), [2]);
    assert_eq!(tracked(&mut client, "public.stowage_migrations").len(), 1);
    assert!(FAILING.runner().repair(&mut client).unwrap().is_empty());

    let (_d, mut dirty) = database();
    DIRTY.run(&mut dirty).unwrap_err();
    assert!(DIRTY.runner().repair(&mut dirty).unwrap().is_empty());
    assert_eq!(tracked(&mut dirty, "public.stowage_migrations").len(), 2);
}

#[test]
fn an_edited_migration_can_be_accepted_deliberately() {
    let (_db, mut client) = database();
    BASE.run(&mut client).unwrap();
    assert!(matches!(EDITED.run(&mut client), Err(Error::History(_))));
    assert!(EDITED.runner().accept_checksum(&mut client, 2).unwrap());
    let rows = tracked(&mut client, "public.stowage_migrations");
    assert_eq!(rows[1].checksum, EDITED.get(2).unwrap().checksum());
    let note: String = client
        .query_one("SELECT note FROM stowage_migrations WHERE version = 2", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        note,
        format!("checksum accepted: was {}", BASE.get(2).unwrap().checksum())
    );
    assert!(EDITED.run(&mut client).unwrap().is_empty());
    assert!(
        !EDITED.runner().accept_checksum(&mut client, 2).unwrap(),
        "already accepted"
    );
    assert!(refused(EDITED.runner().accept_checksum(&mut client, 9)).contains("no such migration"));
}

#[test]
fn rollback_undoes_later_migrations_newest_first() {
    let (_db, mut client) = database();
    ROLLBACK.run(&mut client).unwrap();
    let report = ROLLBACK.runner().rollback_to(&mut client, 1).unwrap();
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
        versions(&ROLLBACK.run(&mut client).unwrap()),
        [2, 3],
        "and forward again"
    );
    assert_eq!(
        versions(&ROLLBACK.runner().rollback_to(&mut client, 0).unwrap()),
        Vec::<i64>::new()
    );
    assert_eq!(applied_versions(&mut client), Vec::<i64>::new());
    assert_eq!(advisory_locks(&mut client), 0);
}

#[test]
fn rollback_refuses_up_front_listing_what_cannot_be_undone() {
    let (_db, mut client) = database();
    EXAMPLE.run(&mut client).unwrap();
    // 6 has a down script; 5 and below have none.
    let reason = refused(EXAMPLE.runner().rollback_to(&mut client, 3));
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
        applied_versions(&mut client).len(),
        6,
        "nothing was rolled back"
    );
    let report = EXAMPLE.runner().rollback_to(&mut client, 5).unwrap();
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

#[test]
fn a_failing_down_script_is_rolled_back_and_the_migration_stays_applied() {
    let (_db, mut client) = database();
    FAILING_DOWN.run(&mut client).unwrap();
    let err = match FAILING_DOWN.runner().rollback_to(&mut client, 1) {
        Err(Error::Migration(e)) => e,
        other => panic!("expected the down script to fail, got {other:?}"),
    };
    assert!(err.is_down());
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
