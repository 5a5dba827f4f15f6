//! A database whose history disagrees with the binary is refused, every
//! disagreement reported at once, unless the matching option allows it.

mod common;

use common::{applied_versions, database, table_exists, versions, Driver};
use stowage::{Error, Remedy, Violation};

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

fn an_edited_migration_is_refused_showing_both_checksums(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    let (found, message) = violations(client.run(EDITED.runner()));
    let applied = BASE.get(2).unwrap().up().checksum();
    let binary = EDITED.get(2).unwrap().up().checksum();
    assert_eq!(
        found,
        [Violation::Divergent {
            version: 2,
            path: "tests/fixtures/edited/2_b.sql",
            recorded_checksum: applied.to_owned(),
            binary_checksum: binary,
        }]
    );
    assert_eq!(
        found[0].remedies(),
        [
            Remedy::AcceptChecksum { version: 2 },
            Remedy::AllowDivergent
        ]
    );
    assert!(
        message.contains(applied) && message.contains(binary),
        "{message}"
    );
    assert!(
        message.contains("tests/fixtures/edited/2_b.sql"),
        "{message}"
    );

    let report = client.run(EDITED.runner().allow_divergent(true)).unwrap();
    assert!(
        report.is_empty(),
        "an edited migration is not run again: {report}"
    );
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);
}

fn a_missing_migration_is_refused_unless_allowed(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    let (found, message) = violations(client.run(FEWER.runner()));
    assert_eq!(
        found,
        [Violation::Missing {
            version: 3,
            name: "c".to_owned()
        }]
    );
    assert_eq!(found[0].remedies(), [Remedy::AllowMissing]);
    assert!(
        message.contains("Runner::allow_missing(true)"),
        "the library's message names the API: {message}"
    );

    assert!(client
        .run(FEWER.runner().allow_missing(true))
        .unwrap()
        .is_empty());
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);
}

fn an_out_of_order_migration_is_refused_unless_allowed(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(GAP.runner()).unwrap();
    let (found, _) = violations(client.run(BASE.runner()));
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

    let report = client.run(BASE.runner().allow_out_of_order(true)).unwrap();
    assert_eq!(versions(&report), [2]);
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);
}

fn every_disagreement_is_reported_in_one_error(driver: Driver) {
    let (_db, mut client) = database(driver);
    client.run(MIXED_APPLIED.runner()).unwrap();
    let (found, message) = violations(client.run(MIXED_BINARY.runner()));
    let kinds: Vec<_> = found
        .iter()
        .map(|v| match v {
            Violation::OutOfOrder { version, .. } => ("out of order", *version),
            Violation::Divergent { version, .. } => ("edited", *version),
            Violation::Missing { version, .. } => ("missing", *version),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(kinds, [("out of order", 2), ("edited", 3), ("missing", 4)]);
    assert_eq!(message.lines().count(), 4, "{message}");
    assert!(!table_exists(&mut client, "public.b"));

    let report = client
        .run(
            MIXED_BINARY
                .runner()
                .allow_out_of_order(true)
                .allow_divergent(true)
                .allow_missing(true),
        )
        .unwrap();
    assert_eq!(versions(&report), [2]);
}

both_drivers!(
    an_edited_migration_is_refused_showing_both_checksums,
    a_missing_migration_is_refused_unless_allowed,
    an_out_of_order_migration_is_refused_unless_allowed,
    every_disagreement_is_reported_in_one_error,
);
