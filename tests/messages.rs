//! The exact wording of the main messages a program's author reads: they
//! name the migration, its file, the place in it, the SQLSTATE, and the
//! calls that mend what they report. (The command line's wording is checked
//! in `tests/cli.rs`.)

mod common;

use common::{database, Driver};
use std::time::Duration;
use stowage::Error;

static BASE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/base");
static EDITED: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/edited");
static FAILING: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/failing");
static DIRTY: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/dirty");
static GATE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/gate");

#[test]
fn a_failed_migration() {
    let (_db, mut client) = database(Driver::Sync);
    let message = client.run(FAILING.runner()).unwrap_err().to_string();
    assert_eq!(
        message,
        "migration 2 (tests/fixtures/failing/2_needs_setup.sql:3:13) failed and was rolled back: \
         ERROR 42P01: relation \"prerequisite\" does not exist (at line 3, column 13)\n\
         this run applied 1 before it\n\
         the failure is recorded in the tracking table; the next run retries this migration"
    );
}

#[test]
fn a_dirty_migration_and_the_refusal_that_follows() {
    let (_db, mut client) = database(Driver::Sync);
    let message = client.run(DIRTY.runner()).unwrap_err().to_string();
    assert_eq!(
        message,
        "migration 2 (tests/fixtures/dirty/2_backfill.sql:4:13) failed at statement 3 of 5 (line 4): \
         ERROR 42P01: relation \"items_archive\" does not exist (at line 4, column 13)\n\
         it runs outside a transaction: statements 1 to 2 stay applied, so the database may be partly changed\n\
         runs refuse to go on until it is resumed, or, once completed or undone by hand, recorded so: \
         Runner::resume (from statement 3), Runner::mark_applied(2) or Runner::forget(2)\n\
         this run applied 1 before it\n\
         the failure is recorded in the tracking table"
    );
    let refusal = client.run(DIRTY.runner()).unwrap_err().to_string();
    assert_eq!(
        refusal,
        "the history in \"public\".\"stowage_migrations\" disagrees with the migrations in this binary; \
         nothing was applied:\n  \
         - migration 2 (tests/fixtures/dirty/2_backfill.sql) is dirty: it runs outside a transaction and \
         statement 3 of 5 (line 4) failed (ERROR 42P01: relation \"items_archive\" does not exist (at line 4, column 13)); \
         statements 1 to 2 stay applied, so the database may be partly changed. Fix the cause and resume it, \
         or once it is completed or undone by hand, record that: \
         Runner::resume (from statement 3), Runner::mark_applied(2) or Runner::forget(2)"
    );
}

#[test]
fn an_edited_migration() {
    let (_db, mut client) = database(Driver::Sync);
    client.run(BASE.runner()).unwrap();
    let message = client.run(EDITED.runner()).unwrap_err().to_string();
    let (applied, binary) = (
        BASE.get(2).unwrap().up().checksum(),
        EDITED.get(2).unwrap().up().checksum(),
    );
    assert_eq!(
        message,
        format!(
            "the history in \"public\".\"stowage_migrations\" disagrees with the migrations in this binary; \
             nothing was applied:\n  \
             - migration 2 (tests/fixtures/edited/2_b.sql) was edited after it was applied: checksum applied \
             {applied}, in this binary {binary}; restore the file as it was applied and make the change in a \
             new migration, or if the edit changes nothing that was applied, \
             Runner::accept_checksum(2) or Runner::allow_divergent(true)"
        )
    );
}

#[test]
fn a_lock_wait_that_gives_up_and_a_refusal() {
    let (db, _client) = database(Driver::Sync);
    common::while_a_run_holds_the_lock(&db, Driver::Sync, GATE.runner(), |waiter, holder| {
        let message = waiter
            .run(GATE.runner().lock_wait_timeout(Duration::ZERO))
            .unwrap_err()
            .to_string();
        let expected = format!(
            "gave up after 0ns waiting for the migration lock on \"public\".\"stowage_migrations\" \
             (held by server process {holder}): another process is migrating this database; retry \
             later or wait longer: Runner::lock_wait_timeout"
        );
        assert!(
            message.ends_with(&expected[expected.find(" waiting").unwrap()..]),
            "{message}"
        );
    })
    .unwrap();
    let (_db, mut client) = database(Driver::Sync);
    client.run(BASE.runner()).unwrap();
    match client.forget(BASE.runner(), 2) {
        Err(e @ Error::Refused(_)) => assert_eq!(
            e.to_string(),
            "refused: migration 2 is applied; forgetting it would make the next run apply it again; \
             to undo it, Runner::rollback_to(1); if what it makes is missing, running migration 2 \
             again (Runner::reapply(2))"
        ),
        other => panic!("{other:?}"),
    }
}
