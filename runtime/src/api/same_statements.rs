//! The two drivers send the same statements, in the same round trips: the
//! engine is one, and a driver only carries its queries.

use crate::conversation::recording::Recording;
use crate::rules::classify::Allow;
use crate::runner::run;
use crate::testing::TestServer;

use crate::data::registry::{Migrations, for_tests};

/// A transactional migration, a no-transaction one, and one with timeouts.
fn migrations() -> Migrations {
    for_tests(&[
        (
            1,
            "accounts",
            "CREATE TABLE accounts (id int)",
            "c1",
            true,
            [None; 2],
        ),
        (
            2,
            "index",
            "CREATE INDEX CONCURRENTLY accounts_id ON accounts (id); ANALYZE accounts",
            "c2",
            false,
            [None; 2],
        ),
        (
            3,
            "timeouts",
            "ALTER TABLE accounts ADD c int",
            "c3",
            true,
            [Some(5_000), Some(60_000)],
        ),
    ])
}

/// `sql` with the duration of a migration, written in its row after its
/// checksum, taken out.
fn without_durations(sql: &str) -> String {
    if !sql.starts_with("INSERT INTO") {
        return sql.to_owned();
    }
    let at = sql
        .match_indices("', ")
        .map(|(i, _)| i + 3)
        .find(|&i| sql[i..].starts_with(|c: char| c.is_ascii_digit()));
    match at {
        Some(i) => {
            let rest = sql[i..].trim_start_matches(|c: char| c.is_ascii_digit());
            format!("{}<ms>{rest}", &sql[..i])
        }
        None => sql.to_owned(),
    }
}

#[test]
fn both_drivers_send_the_same_statements() {
    let server = TestServer::shared().unwrap_or_else(|e| panic!("{e}"));
    let runner = migrations().runner();

    let db = server.create_database().unwrap_or_else(|e| panic!("{e}"));
    let mut blocking = Recording::new(db.connect().unwrap_or_else(|e| panic!("{e}")));
    for _ in 0..2 {
        crate::conversation::blocking::block_on(run::run(&runner, &mut blocking, Allow::default()))
            .unwrap_or_else(|e| panic!("{e}"));
    }

    let db = server.create_database().unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let sent = runtime.block_on(async {
        let mut nonblocking =
            Recording::new(db.connect_async().await.unwrap_or_else(|e| panic!("{e}")));
        for _ in 0..2 {
            run::run(&runner, &mut nonblocking, Allow::default())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        nonblocking.sent()
    });
    let sent: Vec<String> = sent.iter().map(|s| without_durations(s)).collect();
    let blocking: Vec<String> = blocking
        .sent()
        .iter()
        .map(|s| without_durations(s))
        .collect();
    assert_eq!(sent, blocking);
    // The second run, with nothing to do, sent one query: the quick check.
    assert!(blocking[blocking.len() - 1].contains("FROM stowage_digest"));
    assert!(blocking[blocking.len() - 2].contains("pg_advisory_unlock"));
}

#[test]
fn a_schema_check_reads_the_catalog_in_one_query_or_only_its_fingerprint_over_either_driver() {
    let server = TestServer::shared().unwrap_or_else(|e| panic!("{e}"));
    let schema = "-- stowage:digest x\n\nCREATE TABLE accounts (\n    id integer\n);\n";
    let migrations = crate::data::registry::for_tests_with_schema(
        &[(
            1,
            "accounts",
            "CREATE TABLE accounts (id int)",
            "c1",
            true,
            [None; 2],
        )],
        Some(schema),
    );
    let runner = migrations.runner();
    let db = server.create_database().unwrap_or_else(|e| panic!("{e}"));
    let mut client = db.connect().unwrap_or_else(|e| panic!("{e}"));
    runner.run(&mut client).unwrap_or_else(|e| panic!("{e}"));
    // The first check makes the table of records, the second records
    // itself.
    for _ in 0..2 {
        let check = runner.check_schema(&mut client);
        assert!(check.is_ok_and(|c| c.is_ok()));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    // What a check sends over each driver, and whether it found the schema
    // as the file says.
    let checked_by_both = || {
        let mut blocking = Recording::new(db.connect().unwrap_or_else(|e| panic!("{e}")));
        let check = crate::conversation::blocking::block_on(
            crate::operations::schema::check_schema(&runner, &mut blocking),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let sent = runtime.block_on(async {
            let mut nonblocking =
                Recording::new(db.connect_async().await.unwrap_or_else(|e| panic!("{e}")));
            crate::operations::schema::check_schema(&runner, &mut nonblocking)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            nonblocking.sent()
        });
        assert_eq!(sent, blocking.sent());
        assert!(
            !sent.iter().any(|q| q.contains("pg_try_advisory_lock")),
            "no lock"
        );
        (sent, check.is_ok())
    };
    let reads_catalog =
        |sent: &[String]| sent.iter().filter(|q| q.contains("pg_get_viewdef")).count();
    let reads_fingerprint =
        |sent: &[String]| sent.iter().filter(|q| q.contains("age(xmin)")).count();

    let (unchanged, ok) = checked_by_both();
    assert!(ok);
    assert_eq!(reads_catalog(&unchanged), 0, "{unchanged:#?}");
    assert_eq!(reads_fingerprint(&unchanged), 1, "{unchanged:#?}");

    client
        .batch_execute("ALTER TABLE accounts ADD COLUMN note text")
        .unwrap_or_else(|e| panic!("{e}"));
    let (changed, ok) = checked_by_both();
    assert!(!ok, "the column added is found");
    assert_eq!(reads_catalog(&changed), 1, "{changed:#?}");
    assert!(
        !changed.iter().any(|q| q.contains("INSERT INTO")),
        "a check that found a difference is not recorded: {changed:#?}"
    );
}

/// The queries a first run sends over the blocking driver, applying `count`
/// small transactional migrations into an empty database.
fn queries_applying(count: i64) -> Vec<String> {
    let sql: Vec<(i64, String)> = (1..=count)
        .map(|v| (v, format!("CREATE TABLE t{v} (id int PRIMARY KEY)")))
        .collect();
    let names: Vec<String> = (1..=count).map(|v| format!("m{v}")).collect();
    let list: Vec<crate::data::registry::TestMigration<'_>> = sql
        .iter()
        .zip(&names)
        .map(|((v, sql), name)| (*v, name.as_str(), sql.as_str(), "c", true, [None; 2]))
        .collect();
    let migrations = for_tests(&list);
    let server = TestServer::shared().unwrap_or_else(|e| panic!("{e}"));
    let db = server.create_database().unwrap_or_else(|e| panic!("{e}"));
    let mut blocking = Recording::new(db.connect().unwrap_or_else(|e| panic!("{e}")));
    let report = crate::conversation::blocking::block_on(run::run(
        &migrations.runner(),
        &mut blocking,
        Allow::default(),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.applied().len(), usize::try_from(count).unwrap_or(0));
    blocking.sent()
}

#[test]
fn a_run_sends_as_many_queries_for_200_migrations_as_for_20() {
    assert_eq!(queries_applying(200).len(), queries_applying(20).len());
}
