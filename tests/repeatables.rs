//! Repeatable migrations (`R__{name}.sql`): views, functions and triggers
//! kept as code, applied after the versioned migrations whenever they
//! change, in one transaction with their rows; replaced in place where
//! that keeps what depends on them, dropped and created again with the
//! set's objects that depend on them otherwise, never with `CASCADE`.

mod common;

use common::{advisory_locks, database, Conn, Driver};
use stowage::{Error, LineColumn, Refusal, RepeatableAction, RepeatableState, Stage};

static BASE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/repeatable/base");
static REORDERED: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/reordered");
static OUTSIDE_V1: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/outside_v1");
static OUTSIDE_V2: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/outside_v2");
static STACKED_V1: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/stacked_v1");
static STACKED_V2: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/stacked_v2");
static FUNCTION_V1: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/function_v1");
static FUNCTION_V2: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/function_v2");
static DEFAULT_V1: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/default_v1");
static DEFAULT_V2: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/default_v2");
static TRIGGER_V1: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/trigger_v1");
static TRIGGER_V2: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/trigger_v2");
/// The base set with its view's file edited into a syntax error.
static SYNTAX_V2: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/syntax_v2");
static FAILING_V2: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/failing_v2");
static RETYPE_V2: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/retype_v2");
static RETYPE_V3: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/retype_v3");
static ROLLBACK: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/rollback");
static MATVIEW_V1: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/matview_v1");
static MATVIEW_V2: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/matview_v2");
static MATVIEW_V3: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/repeatable/matview_v3");

/// The columns of a relation, in order.
fn columns(client: &mut Conn, relation: &str) -> Vec<String> {
    client
        .query(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) \
             AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[&relation],
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// A relation's oid, if it exists.
fn oid(client: &mut Conn, relation: &str) -> Option<u32> {
    client
        .query_one("SELECT to_regclass($1)::oid", &[&relation])
        .map(|r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// What a run did to the repeatables: each name with its action.
fn actions(report: &stowage::Report) -> Vec<(String, RepeatableAction)> {
    report
        .repeatables()
        .iter()
        .map(|r| (r.name().to_owned(), r.action()))
        .collect()
}

fn run(client: &mut Conn, migrations: &'static stowage::Migrations) -> stowage::Report {
    client
        .run(migrations.runner())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn the_seeds_view_gets_its_new_columns(driver: Driver) {
    let (_db, mut client) = database(driver);
    let first = run(&mut client, &BASE);
    assert_eq!(
        actions(&first),
        [("item_view".to_owned(), RepeatableAction::Created)]
    );
    client
        .batch_execute("INSERT INTO items (a, b, c) VALUES (1, 'one', 1.5)")
        .unwrap();
    assert_eq!(columns(&mut client, "item_view"), ["a", "b"]);
    // (a, b) becomes (b, a, c): `CREATE OR REPLACE VIEW` would fail with
    // "cannot drop columns from view"; the run drops and creates it.
    let report = run(&mut client, &REORDERED);
    assert_eq!(
        actions(&report),
        [("item_view".to_owned(), RepeatableAction::Recreated)]
    );
    assert_eq!(columns(&mut client, "item_view"), ["b", "a", "c"]);
    let row = client.query_one("SELECT b, a FROM item_view", &[]).unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, i32>(1)),
        ("one".to_owned(), 1)
    );
    let status = client.status(REORDERED.runner()).unwrap();
    assert!(status.is_up_to_date(), "{status}");
    assert!(run(&mut client, &REORDERED).is_empty());
}

fn a_view_on_a_changed_view_is_created_again_after_it(driver: Driver) {
    let (_db, mut client) = database(driver);
    // The outer view's file comes first by name, and is created after the
    // view it selects from.
    let first = run(&mut client, &STACKED_V1);
    assert_eq!(
        actions(&first),
        [
            ("b_inner".to_owned(), RepeatableAction::Created),
            ("a_outer".to_owned(), RepeatableAction::Created)
        ]
    );
    let inner = oid(&mut client, "inner_view");
    let report = run(&mut client, &STACKED_V2);
    assert_eq!(
        actions(&report),
        [
            ("b_inner".to_owned(), RepeatableAction::Recreated),
            ("a_outer".to_owned(), RepeatableAction::Recreated)
        ]
    );
    assert_ne!(oid(&mut client, "inner_view"), inner);
    client
        .batch_execute("INSERT INTO items (a, b) VALUES (2, 'four')")
        .unwrap();
    let row = client
        .query_one("SELECT a, b FROM outer_view", &[])
        .unwrap();
    assert_eq!((row.get::<_, i32>(0), row.get::<_, i32>(1)), (2, 4));
}

fn a_versioned_view_on_a_repeatable_view_is_never_cascaded(driver: Driver) {
    let (_db, mut client) = database(driver);
    run(&mut client, &BASE);
    run(&mut client, &OUTSIDE_V1);
    let before = oid(&mut client, "item_view");
    let err = client.run(OUTSIDE_V2.runner()).unwrap_err();
    let Error::Refused(Refusal::OutsideDependent {
        repeatable,
        object,
        dependent,
    }) = &err
    else {
        panic!("{err}")
    };
    assert_eq!(repeatable, "item_view");
    assert_eq!(object, "view item_view");
    assert_eq!(dependent, "view item_report");
    let message = err.to_string();
    assert!(message.contains("view item_report"), "{message}");
    assert!(message.contains("never drops with CASCADE"), "{message}");
    // Nothing changed: both views as they were, the row as it was.
    assert_eq!(oid(&mut client, "item_view"), before);
    assert_eq!(columns(&mut client, "item_view"), ["a", "b"]);
    assert!(oid(&mut client, "item_report").is_some());
    let status = client.status(OUTSIDE_V2.runner()).unwrap();
    assert!(matches!(
        status.repeatables()[0].state(),
        RepeatableState::Changed { .. }
    ));
    assert_eq!(advisory_locks(&mut client), 0);
}

fn a_function_whose_arguments_change_leaves_no_old_overload(driver: Driver) {
    let (_db, mut client) = database(driver);
    run(&mut client, &FUNCTION_V1);
    client
        .batch_execute("INSERT INTO items (a) VALUES (7)")
        .unwrap();
    let report = run(&mut client, &FUNCTION_V2);
    let signatures: Vec<String> = client
        .query(
            "SELECT oid::regprocedure::text FROM pg_proc WHERE proname = 'label'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(signatures, ["label(bigint)"]);
    // The view that calls it was created again, on the new one.
    let label: String = client
        .query_one("SELECT label FROM labels", &[])
        .unwrap()
        .get(0);
    assert_eq!(label, "item #7");
    let label = report
        .repeatables()
        .iter()
        .find(|r| r.name() == "label")
        .unwrap();
    assert_eq!(label.objects(), ["function public.label(bigint)"]);
}

fn a_default_on_a_function_whose_signature_changes_is_refused(driver: Driver) {
    let (_db, mut client) = database(driver);
    run(&mut client, &FUNCTION_V1);
    run(&mut client, &DEFAULT_V1);
    let err = client.run(DEFAULT_V2.runner()).unwrap_err();
    let Error::Refused(Refusal::OutsideDependent {
        repeatable,
        object,
        dependent,
    }) = &err
    else {
        panic!("{err}")
    };
    assert_eq!(
        (repeatable.as_str(), object.as_str(), dependent.as_str()),
        (
            "label",
            "function label(integer)",
            "default value for column b of table items"
        )
    );
    let signatures: Vec<String> = client
        .query(
            "SELECT oid::regprocedure::text FROM pg_proc WHERE proname = 'label'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(signatures, ["label(integer)"]);
}

fn a_trigger_is_applied_again_with_its_function(driver: Driver) {
    let (_db, mut client) = database(driver);
    run(&mut client, &TRIGGER_V1);
    client
        .batch_execute("INSERT INTO items (a) VALUES (1)")
        .unwrap();
    let report = run(&mut client, &TRIGGER_V2);
    assert_eq!(report.repeatables().len(), 1);
    assert_eq!(
        report.repeatables()[0].objects(),
        [
            "function public.stamp()",
            "trigger items_stamp on public.items"
        ]
    );
    client
        .batch_execute("INSERT INTO items (a) VALUES (2); UPDATE items SET a = a + 10 WHERE a = 1")
        .unwrap();
    let stamps: Vec<String> = client
        .query("SELECT b FROM items ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    // The new function, and the trigger now fires on updates too.
    assert_eq!(stamps, ["stamped v2", "stamped v2"]);
    let triggers: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'items'::regclass AND NOT tgisinternal",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(triggers, 1);
}

/// A changed file that PostgreSQL cannot parse fails with the server's
/// syntax error at its place in the file, as a failing statement does: the
/// trial of replacing it in place, stopped by that error before it ran,
/// leaves the run's savepoint to roll back to.
fn a_changed_file_with_a_syntax_error_is_named_at_its_place(driver: Driver) {
    let (_db, mut client) = database(driver);
    run(&mut client, &BASE);
    let before = oid(&mut client, "item_view");
    let err = common::migration_error(client.run(SYNTAX_V2.runner()));
    assert_eq!(*err.stage(), Stage::Repeatable);
    assert_eq!(
        err.path(),
        "tests/fixtures/repeatable/syntax_v2/R__item_view.sql"
    );
    assert_eq!(err.code(), Some("42601"), "{err}");
    assert_eq!(
        err.position(),
        Some(LineColumn { line: 4, column: 1 }),
        "{err}"
    );
    assert_eq!(oid(&mut client, "item_view"), before);
    assert_eq!(columns(&mut client, "item_view"), ["a", "b"]);
    assert_eq!(advisory_locks(&mut client), 0);
}

fn a_failing_file_rolls_the_set_back_and_is_recorded(driver: Driver) {
    let (db, mut client) = database(driver);
    run(&mut client, &BASE);
    let before = oid(&mut client, "item_view");
    let err = common::migration_error(client.run(FAILING_V2.runner()));
    assert_eq!(*err.stage(), Stage::Repeatable);
    assert_eq!(err.name(), "item_view");
    assert_eq!(
        err.path(),
        "tests/fixtures/repeatable/failing_v2/R__item_view.sql"
    );
    assert_eq!(err.code(), Some("42703"));
    assert_eq!(
        err.position(),
        Some(LineColumn {
            line: 3,
            column: 14
        })
    );
    let message = err.to_string();
    assert!(
        message.starts_with(
            "repeatable migration item_view (tests/fixtures/repeatable/failing_v2/R__item_view.sql:3:14) failed"
        ),
        "{message}"
    );
    // The previous set is intact; the new file's view was never made.
    assert_eq!(oid(&mut client, "item_view"), before);
    assert_eq!(columns(&mut client, "item_view"), ["a", "b"]);
    assert_eq!(oid(&mut client, "other_view"), None);
    let status = client.status(FAILING_V2.runner()).unwrap();
    let entry = &status.repeatables()[0];
    assert!(matches!(entry.state(), RepeatableState::Changed { .. }));
    assert_eq!(entry.objects(), ["view public.item_view"]);
    let recorded = entry.error().unwrap_or_default();
    assert!(
        recorded.starts_with("ERROR 42703: column \"nope\" does not exist (at line 3, column 14)"),
        "{recorded}"
    );
    assert_eq!(*status.repeatables()[1].state(), RepeatableState::Pending);
    assert_eq!(advisory_locks(&mut client), 0);
    assert!(common::answers_outside_a_transaction(&db, &mut client));
    // The binary that works still finds its set in place.
    assert!(run(&mut client, &BASE).is_empty());
}

fn a_versioned_migration_may_change_a_column_under_a_repeatable_view(driver: Driver) {
    let (_db, mut client) = database(driver);
    run(&mut client, &BASE);
    let report = run(&mut client, &RETYPE_V2);
    let applied: Vec<i64> = report.applied().iter().map(|a| a.version()).collect();
    assert_eq!(applied, [2]);
    assert_eq!(
        actions(&report),
        [("item_view".to_owned(), RepeatableAction::Created)]
    );
    let kind: String = client
        .query_one(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'item_view'::regclass AND attname = 'a'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(kind, "bigint");
    assert!(client.status(RETYPE_V2.runner()).unwrap().is_up_to_date());
}

fn a_run_that_stops_after_dropping_the_set_makes_it_first_next_time(driver: Driver) {
    let (_db, mut client) = database(driver);
    run(&mut client, &BASE);
    // Migration 2 changes the column under the view; 3 fails.
    let err = common::migration_error(client.run(RETYPE_V3.runner()));
    assert_eq!(err.version(), 3);
    assert_eq!(
        err.applied_before()
            .iter()
            .map(|a| a.version())
            .collect::<Vec<_>>(),
        [2]
    );
    assert_eq!(oid(&mut client, "item_view"), None);
    let status = client.status(RETYPE_V3.runner()).unwrap();
    assert_eq!(
        *status.repeatables()[0].state(),
        RepeatableState::Absent { migration: 2 }
    );
    assert!(status
        .to_string()
        .contains("absent (dropped for migration 2)"));
    let health = client.health(RETYPE_V3.runner()).unwrap();
    assert!(!health.ok);
    assert_eq!(health.repeatables.absent, 1);
    // The next run makes the view before it gets to migration 3, which
    // fails again.
    let err = common::migration_error(client.run(RETYPE_V3.runner()));
    assert_eq!(err.version(), 3);
    assert_eq!(columns(&mut client, "item_view"), ["a", "b"]);
    let status = client.status(RETYPE_V3.runner()).unwrap();
    assert_eq!(*status.repeatables()[0].state(), RepeatableState::Applied);
}

fn rollback_refuses_to_pull_a_column_from_under_a_repeatable_view(driver: Driver) {
    let (_db, mut client) = database(driver);
    run(&mut client, &ROLLBACK);
    let err = client.rollback_to(ROLLBACK.runner(), 1).unwrap_err();
    let Error::Refused(Refusal::UnderRepeatable {
        version,
        repeatable,
        object,
    }) = &err
    else {
        panic!("{err}")
    };
    assert_eq!(
        (*version, repeatable.as_str(), object.as_str()),
        (2, "item_view", "view item_view")
    );
    assert_eq!(columns(&mut client, "items"), ["id", "a", "b", "c", "d"]);
}

fn materialized_views_are_left_alone_or_populated_again(driver: Driver) {
    let (_db, mut client) = database(driver);
    run(&mut client, &MATVIEW_V1);
    client
        .batch_execute("INSERT INTO items (a) VALUES (1), (5)")
        .unwrap();
    let populated = |client: &mut Conn, view: &str| -> bool {
        client
            .query_one(
                "SELECT relispopulated FROM pg_class WHERE oid = to_regclass($1)",
                &[&view],
            )
            .unwrap()
            .get(0)
    };
    // `WITH NO DATA` is honoured.
    assert!(!populated(&mut client, "lazy"));
    let lazy = oid(&mut client, "lazy");
    let report = run(&mut client, &MATVIEW_V2);
    assert_eq!(
        actions(&report),
        [("totals".to_owned(), RepeatableAction::Recreated)]
    );
    assert_eq!(
        report.repeatables()[0].populated(),
        ["materialized view public.totals"]
    );
    assert!(report
        .to_string()
        .contains("populated materialized view public.totals"));
    let row = client.query_one("SELECT n, top FROM totals", &[]).unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i32>(1)), (2, 5));
    assert!(oid(&mut client, "totals_n").is_some());
    // The unchanged one was left alone.
    assert_eq!(oid(&mut client, "lazy"), lazy);
    // A file removed from the binary: its view and its row go.
    let report = run(&mut client, &MATVIEW_V3);
    assert_eq!(
        actions(&report),
        [("lazy".to_owned(), RepeatableAction::Dropped)]
    );
    assert_eq!(oid(&mut client, "lazy"), None);
    let status = client.status(MATVIEW_V3.runner()).unwrap();
    assert_eq!(status.repeatables().len(), 1);
    assert!(status.is_up_to_date(), "{status}");
}

fn status_plan_verify_and_health_show_repeatables(driver: Driver) {
    let (_db, mut client) = database(driver);
    let plan = client.plan(STACKED_V1.runner()).unwrap();
    assert_eq!(plan.repeatables().creates(), ["a_outer", "b_inner"]);
    run(&mut client, &STACKED_V1);
    let status = client.status(STACKED_V1.runner()).unwrap();
    let entries: Vec<(&str, &[String])> = status
        .repeatables()
        .iter()
        .map(|r| (r.name(), r.objects()))
        .collect();
    assert_eq!(
        entries,
        [
            ("a_outer", &["view public.outer_view".to_owned()][..]),
            ("b_inner", &["view public.inner_view".to_owned()][..])
        ]
    );
    let entry = &status.repeatables()[1];
    assert_eq!(
        entry.checksum(),
        STACKED_V1
            .repeatable("b_inner")
            .map(|r| r.script().checksum())
    );
    assert!(entry.applied_at().is_some());
    let text = status.to_string();
    assert!(text.contains("repeatable"), "{text}");
    assert!(text.contains("view public.inner_view"), "{text}");
    // The changed inner view: dropped after the outer one, both created
    // again, the outer one after.
    let plan = client.plan(STACKED_V2.runner()).unwrap();
    assert_eq!(
        plan.repeatables().drops(),
        ["view public.outer_view", "view public.inner_view"]
    );
    assert_eq!(plan.repeatables().creates(), ["a_outer", "b_inner"]);
    assert!(plan
        .to_string()
        .contains("dropping, in this order: view public.outer_view, view public.inner_view"));
    let verified = client.verify(STACKED_V2.runner()).unwrap();
    assert!(verified.is_ok());
    assert_eq!(verified.repeatables().len(), 1);
    assert_eq!(verified.repeatables()[0].name(), "b_inner");
    let health = client.health(STACKED_V2.runner()).unwrap();
    assert!(!health.ok);
    assert_eq!(
        (health.repeatables.applied, health.repeatables.changed),
        (1, 1)
    );
    // A target below the newest migration leaves them alone.
    assert!(!client
        .plan(RETYPE_V2.runner())
        .unwrap()
        .repeatables()
        .is_empty());
    assert!(client
        .plan(RETYPE_V2.runner().target(1))
        .unwrap()
        .repeatables()
        .is_empty());
}

both_drivers!(
    a_changed_file_with_a_syntax_error_is_named_at_its_place,
    the_seeds_view_gets_its_new_columns,
    a_view_on_a_changed_view_is_created_again_after_it,
    a_versioned_view_on_a_repeatable_view_is_never_cascaded,
    a_function_whose_arguments_change_leaves_no_old_overload,
    a_default_on_a_function_whose_signature_changes_is_refused,
    a_trigger_is_applied_again_with_its_function,
    a_failing_file_rolls_the_set_back_and_is_recorded,
    a_versioned_migration_may_change_a_column_under_a_repeatable_view,
    a_run_that_stops_after_dropping_the_set_makes_it_first_next_time,
    rollback_refuses_to_pull_a_column_from_under_a_repeatable_view,
    materialized_views_are_left_alone_or_populated_again,
    status_plan_verify_and_health_show_repeatables,
);
