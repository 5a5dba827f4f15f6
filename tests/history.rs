//! A database whose history disagrees with the binary is refused, every
//! disagreement reported at once, unless the matching option allows it.

mod common;

use common::{applied_versions, database, table_exists, versions};
use stowage::{Error, Violation};

static BASE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/base");
static EDITED: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/edited");
static FEWER: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/fewer");
static GAP: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/gap");
static MIXED_APPLIED: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/mixed_applied");
static MIXED_BINARY: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/mixed_binary");

fn violations(result: Result<stowage::Report, Error>) -> (Vec<Violation>, String) {
    match result {
        Err(Error::History(e)) => (e.violations().to_vec(), e.to_string()),
        other => panic!("expected a history error, got {other:?}"),
    }
}

#[test]
fn an_edited_migration_is_refused_showing_both_checksums() {
    let (_db, mut client) = database();
    BASE.run(&mut client).unwrap();
    let (found, message) = violations(EDITED.run(&mut client));
    let applied = BASE.get(2).unwrap().checksum();
    let binary = EDITED.get(2).unwrap().checksum();
    assert_eq!(
        found,
        [Violation::ChecksumMismatch {
            version: 2,
            path: "tests/fixtures/edited/2_b.sql",
            applied: applied.to_owned(),
            binary: binary.to_owned(),
        }]
    );
    assert!(
        message.contains(applied) && message.contains(binary),
        "{message}"
    );
    assert!(
        message.contains("tests/fixtures/edited/2_b.sql"),
        "{message}"
    );

    let report = EDITED
        .runner()
        .allow_divergent(true)
        .run(&mut client)
        .unwrap();
    assert!(
        report.is_empty(),
        "an edited migration is not run again: {report}"
    );
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);
}

#[test]
fn a_missing_migration_is_refused_unless_allowed() {
    let (_db, mut client) = database();
    BASE.run(&mut client).unwrap();
    let (found, message) = violations(FEWER.run(&mut client));
    assert_eq!(
        found,
        [Violation::Missing {
            version: 3,
            name: "c".to_owned()
        }]
    );
    assert!(message.contains("allow_missing"), "{message}");

    assert!(FEWER
        .runner()
        .allow_missing(true)
        .run(&mut client)
        .unwrap()
        .is_empty());
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);
}

#[test]
fn an_out_of_order_migration_is_refused_unless_allowed() {
    let (_db, mut client) = database();
    GAP.run(&mut client).unwrap();
    let (found, _) = violations(BASE.run(&mut client));
    assert_eq!(
        found,
        [Violation::OutOfOrder {
            version: 2,
            path: "tests/fixtures/base/2_b.sql",
            highest_applied: 3
        }]
    );
    assert!(
        !table_exists(&mut client, "public.b"),
        "nothing is applied when refused"
    );

    let report = BASE
        .runner()
        .allow_out_of_order(true)
        .run(&mut client)
        .unwrap();
    assert_eq!(versions(&report), [2]);
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);
}

#[test]
fn every_disagreement_is_reported_in_one_error() {
    let (_db, mut client) = database();
    MIXED_APPLIED.run(&mut client).unwrap();
    let (found, message) = violations(MIXED_BINARY.run(&mut client));
    let kinds: Vec<_> = found
        .iter()
        .map(|v| match v {
            Violation::OutOfOrder { version, .. } => ("out of order", *version),
            Violation::ChecksumMismatch { version, .. } => ("edited", *version),
            Violation::Missing { version, .. } => ("missing", *version),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(kinds, [("out of order", 2), ("edited", 3), ("missing", 4)]);
    assert_eq!(message.lines().count(), 4, "{message}");
    assert!(!table_exists(&mut client, "public.b"));

    let report = MIXED_BINARY
        .runner()
        .allow_out_of_order(true)
        .allow_divergent(true)
        .allow_missing(true)
        .run(&mut client)
        .unwrap();
    assert_eq!(versions(&report), [2]);
}
