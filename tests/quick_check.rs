//! The quick check a start with nothing to do makes reads the digest kept in
//! `stowage_digest` beside the tracking table. Whatever changes the tracking
//! table, a run or a hand, drops that digest, so the next start sees the
//! change.

mod common;

use common::{applied_versions, database, table_exists, versions, Conn, Driver};
use std::time::Duration;
use stowage::{Error, Violation};

static BASE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/base");
static FEWER: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/fewer");
static GATE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/gate");

/// The digests recorded in `schema`'s digest table.
fn digests(client: &mut Conn, schema: &str) -> i64 {
    let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
    client
        .query_one(
            &format!("SELECT count(*) FROM {quoted}.stowage_digest"),
            &[],
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .get(0)
}

fn refused_as_edited(result: Result<stowage::Report, Error>, version: i64) {
    match result {
        Err(Error::History(e)) => assert!(
            matches!(e.violations(), [Violation::Divergent { version: v, .. }] if *v == version),
            "{e}"
        ),
        other => panic!("expected the edit of {version} to be refused, got {other:?}"),
    }
}

fn a_checksum_edited_by_hand_is_seen_by_the_next_start(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    assert!(client.run(BASE.runner()).unwrap().is_empty());
    assert_eq!(digests(&mut client, "public"), 1);
    client
        .batch_execute("UPDATE stowage_migrations SET checksum = 'edited' WHERE version = 2")
        .unwrap();
    refused_as_edited(client.run(BASE.runner()), 2);
}

fn a_start_that_finds_no_digest_writes_it_for_the_next(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    client.batch_execute("DELETE FROM stowage_digest").unwrap();
    assert!(client.run(BASE.runner()).unwrap().is_empty());
    assert_eq!(digests(&mut client, "public"), 1);
    // A binary that is not up to date does not write one.
    client.batch_execute("DELETE FROM stowage_digest").unwrap();
    assert!(matches!(client.run(FEWER.runner()), Err(Error::History(_))));
    assert_eq!(digests(&mut client, "public"), 0);
    client
        .batch_execute("UPDATE stowage_migrations SET checksum = 'edited' WHERE version = 2")
        .unwrap();
    refused_as_edited(client.run(BASE.runner()), 2);
}

fn a_row_deleted_by_hand_is_applied_again(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    client
        .batch_execute("DROP TABLE c; DELETE FROM stowage_migrations WHERE version = 3")
        .unwrap();
    assert_eq!(versions(&client.run(BASE.runner()).unwrap()), [3]);
    assert!(table_exists(&mut client, "public.c"));
    assert!(client.run(BASE.runner()).unwrap().is_empty());
}

fn a_tracking_table_truncated_by_hand_is_filled_again(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    client
        .batch_execute("DROP TABLE a, b, c; TRUNCATE stowage_migrations")
        .unwrap();
    assert_eq!(versions(&client.run(BASE.runner()).unwrap()), [1, 2, 3]);
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);
}

fn a_tracking_table_dropped_by_hand_is_created_again(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    client
        .batch_execute("DROP TABLE a, b, c, stowage_migrations")
        .unwrap();
    assert_eq!(versions(&client.run(BASE.runner()).unwrap()), [1, 2, 3]);
    assert!(client.run(BASE.runner()).unwrap().is_empty());
    // The new table has the trigger too: an edit is seen.
    client
        .batch_execute("UPDATE stowage_migrations SET checksum = 'edited' WHERE version = 1")
        .unwrap();
    refused_as_edited(client.run(BASE.runner()), 1);
}

fn a_database_migrated_without_a_digest_table_gets_one_at_the_next_locked_call(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    // The digest table and its trigger dropped by hand.
    client
        .batch_execute("DROP TABLE stowage_digest; DROP FUNCTION stowage_digest_clear() CASCADE")
        .unwrap();
    assert!(client.run(BASE.runner()).unwrap().is_empty());
    assert!(!table_exists(&mut client, "public.stowage_digest"));
    assert!(client.resume(BASE.runner()).unwrap().is_empty());
    assert_eq!(digests(&mut client, "public"), 1);
    client
        .batch_execute("DELETE FROM stowage_migrations WHERE version = 3; DROP TABLE c")
        .unwrap();
    assert_eq!(versions(&client.run(BASE.runner()).unwrap()), [3]);
}

fn a_tracking_table_in_a_named_schema_keeps_its_digest_there(driver: Driver) {
    let (_db, mut client) = database(driver);
    let schema = r#"o"p's $$ü"#;
    let table = format!("{schema}.t; DROP TABLE a; --");
    client.run(BASE.runner().table(&table)).unwrap();
    assert_eq!(digests(&mut client, schema), 1);
    assert!(client.run(BASE.runner().table(&table)).unwrap().is_empty());
    let quoted = r#""o""p's $$ü"."t; DROP TABLE a; --""#;
    client
        .batch_execute(&format!(
            "UPDATE {quoted} SET checksum = 'edited' WHERE version = 3"
        ))
        .unwrap();
    refused_as_edited(client.run(BASE.runner().table(&table)), 3);
    assert!(table_exists(&mut client, "public.a"));
}

fn a_role_granted_only_the_tracking_table_applies_and_checks_without_the_lock(driver: Driver) {
    let (db, mut client) = database(driver);
    client.run(FEWER.runner()).unwrap();
    let role = format!("app_{}", db.name());
    let set_role = format!("SET ROLE \"{role}\"");
    client
        .batch_execute(&format!(
            "CREATE ROLE \"{role}\";
             GRANT USAGE, CREATE ON SCHEMA public TO \"{role}\";
             GRANT SELECT, INSERT, UPDATE, DELETE ON stowage_migrations TO \"{role}\";
             {set_role}"
        ))
        .unwrap();
    // Its rows are written through the trigger, which clears the digest
    // with its owner's rights; it may not read or write the digest itself,
    // so its starts compute the digest instead.
    assert_eq!(versions(&client.run(BASE.runner()).unwrap()), [3]);
    let report = common::while_a_run_holds_the_lock(&db, driver, GATE.runner(), |waiter, _| {
        waiter.batch_execute(&set_role).unwrap();
        let nothing = waiter
            .run(BASE.runner().lock_wait_timeout(Duration::ZERO))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(nothing.is_empty());
    });
    assert_eq!(versions(&report.unwrap()), [4]);
    client
        .batch_execute("UPDATE stowage_migrations SET checksum = 'edited' WHERE version = 1")
        .unwrap();
    refused_as_edited(client.run(GATE.runner()), 1);
    client
        .batch_execute(&format!(
            "RESET ROLE; DROP OWNED BY \"{role}\"; DROP ROLE \"{role}\""
        ))
        .unwrap();
}

/// The state of the digest's trigger: `A` when it fires in every session
/// mode.
fn trigger_state(client: &mut Conn) -> String {
    let state: i8 = client
        .query_one(
            "SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'stowage_migrations'::regclass \
             AND tgname = 'stowage_digest_clear'",
            &[],
        )
        .unwrap()
        .get(0);
    char::from(u8::try_from(state).unwrap()).to_string()
}

/// Replication and restore tooling run with `session_replication_role =
/// replica`, which silences ordinary triggers: an edit made so is still
/// seen by the next start.
fn an_edit_in_replica_mode_is_seen_by_the_next_start(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    assert_eq!(trigger_state(&mut client), "A");
    client
        .batch_execute(
            "SET session_replication_role = replica; \
             UPDATE stowage_migrations SET checksum = 'edited' WHERE version = 1; \
             RESET session_replication_role",
        )
        .unwrap();
    refused_as_edited(client.run(BASE.runner()), 1);
    assert!(!client.verify(BASE.runner()).unwrap().is_ok());
}

/// A digest whose trigger was disabled is not trusted: an edit made while
/// it was is seen, and the next locked call enables it again.
fn a_digest_whose_trigger_is_disabled_is_not_trusted(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    client
        .batch_execute(
            "ALTER TABLE stowage_migrations DISABLE TRIGGER stowage_digest_clear; \
             UPDATE stowage_migrations SET checksum = 'edited' WHERE version = 1",
        )
        .unwrap();
    assert_eq!(
        digests(&mut client, "public"),
        1,
        "the trigger did not fire"
    );
    refused_as_edited(client.run(BASE.runner()), 1);
    assert_eq!(
        trigger_state(&mut client),
        "A",
        "the refused run's lock mended it"
    );
}

/// A database set up when the trigger fired only in the default session
/// mode gets it made to fire always by its next start, which then writes
/// the digest: the start after reads one row.
fn a_trigger_in_the_default_state_is_made_to_fire_always(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    client
        .batch_execute("ALTER TABLE stowage_migrations ENABLE TRIGGER stowage_digest_clear")
        .unwrap();
    assert_eq!(trigger_state(&mut client), "O");
    assert!(client.run(BASE.runner()).unwrap().is_empty());
    assert_eq!(trigger_state(&mut client), "A");
    assert_eq!(digests(&mut client, "public"), 1);
}

both_drivers!(
    an_edit_in_replica_mode_is_seen_by_the_next_start,
    a_digest_whose_trigger_is_disabled_is_not_trusted,
    a_trigger_in_the_default_state_is_made_to_fire_always,
    a_checksum_edited_by_hand_is_seen_by_the_next_start,
    a_start_that_finds_no_digest_writes_it_for_the_next,
    a_row_deleted_by_hand_is_applied_again,
    a_tracking_table_truncated_by_hand_is_filled_again,
    a_tracking_table_dropped_by_hand_is_created_again,
    a_database_migrated_without_a_digest_table_gets_one_at_the_next_locked_call,
    a_tracking_table_in_a_named_schema_keeps_its_digest_there,
    a_role_granted_only_the_tracking_table_applies_and_checks_without_the_lock,
);
