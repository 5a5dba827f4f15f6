//! Applying migrations to a real server: what lands in the schema and in the
//! tracking table.

mod common;

use common::{
    advisory_locks, applied_versions, connect, database, table_exists, tracked, versions, Driver,
};

static BASE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/base");
static EXAMPLE: stowage::Migrations = stowage::embed_migrations!();
static SEARCH_PATH: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/search_path");

fn a_fresh_database_gets_every_migration_once_and_a_true_tracking_table(driver: Driver) {
    let (_db, mut client) = database(driver);
    let report = client.run(BASE.runner()).unwrap();
    assert_eq!(versions(&report), [1, 2, 3]);
    for table in ["public.a", "public.b", "public.c"] {
        assert!(table_exists(&mut client, table), "{table} missing");
    }
    let rows = tracked(&mut client, "public.stowage_migrations");
    let expected: Vec<_> = BASE
        .iter()
        .map(|m| {
            (
                m.version(),
                m.name().to_owned(),
                m.up().checksum().to_owned(),
            )
        })
        .collect();
    let recorded: Vec<_> = rows
        .iter()
        .map(|r| (r.version, r.name.clone(), r.checksum.clone()))
        .collect();
    assert_eq!(recorded, expected);
    assert!(rows.iter().all(|r| r.success && r.error.is_none()));
    let by: String = client
        .query_one(
            "SELECT string_agg(DISTINCT applied_by, ',') FROM stowage_migrations",
            &[],
        )
        .unwrap()
        .get(0);
    let user: String = client
        .query_one("SELECT current_user::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(by, user);
    assert_eq!(
        advisory_locks(&mut client),
        0,
        "the lock is released after a run"
    );
}

fn a_second_run_applies_nothing_and_changes_nothing(driver: Driver) {
    let (db, mut client) = database(driver);
    client.run(BASE.runner()).unwrap();
    let snapshot =
        "SELECT version, applied_at, execution_ms FROM stowage_migrations ORDER BY version";
    let before: Vec<(i64, std::time::SystemTime, i64)> = client
        .query(snapshot, &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();

    let again = client.run(BASE.runner()).unwrap();
    assert!(again.is_empty(), "{again}");
    let mut other = connect(&db, driver);
    assert!(other.run(BASE.runner()).unwrap().is_empty());

    let after: Vec<(i64, std::time::SystemTime, i64)> = client
        .query(snapshot, &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(before, after);
}

fn the_example_migrations_apply(driver: Driver) {
    let (_db, mut client) = database(driver);
    let report = client.run(EXAMPLE.runner()).unwrap();
    assert_eq!(report.applied().len(), EXAMPLE.len());
    assert!(table_exists(&mut client, "public.account_revenue"));
    // The plpgsql trigger from the `$$` body works.
    client
        .batch_execute(
            "INSERT INTO accounts (name) VALUES ('acme');
             INSERT INTO users (account_id, email) VALUES (1, 'a@example.com');
             INSERT INTO orders (user_id, total_cents, updated_at) VALUES (1, 100, '2000-01-01');
             UPDATE orders SET status = 'paid';",
        )
        .unwrap();
    let touched: bool = client
        .query_one("SELECT updated_at > '2001-01-01' FROM orders", &[])
        .unwrap()
        .get(0);
    assert!(touched);
}

fn a_named_tracking_table_is_created_in_its_schema(driver: Driver) {
    let (_db, mut client) = database(driver);
    let report = client
        .run(BASE.runner().table("ops.schema_history"))
        .unwrap();
    assert_eq!(versions(&report), [1, 2, 3]);
    assert_eq!(tracked(&mut client, "ops.schema_history").len(), 3);
    assert!(!table_exists(&mut client, "public.stowage_migrations"));
    assert!(client
        .run(BASE.runner().table("ops.schema_history"))
        .unwrap()
        .is_empty());
}

fn a_hostile_table_name_is_quoted_not_injected(driver: Driver) {
    let (_db, mut client) = database(driver);
    let name = r#"we"ird; DROP TABLE a; --ü"#;
    client.run(BASE.runner().table(name)).unwrap();
    assert!(table_exists(&mut client, "public.a"));
    let quoted = format!("public.\"{}\"", name.replace('"', "\"\""));
    assert_eq!(tracked(&mut client, &quoted).len(), 3);
    assert!(client.run(BASE.runner().table(name)).unwrap().is_empty());
}

fn a_migration_that_changes_search_path_does_not_break_tracking(driver: Driver) {
    let (db, mut client) = database(driver);
    let report = client.run(SEARCH_PATH.runner()).unwrap();
    assert_eq!(versions(&report), [1, 2, 3]);
    // The tracking rows went to the table resolved at the start, not to the
    // look-alike the last migration created in the new first schema.
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);
    assert!(table_exists(&mut client, "app.widgets"));
    let decoy_rows: i64 = client
        .query_one("SELECT count(*) FROM app.stowage_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(decoy_rows, 0);
    let mut fresh = connect(&db, driver);
    assert!(fresh.run(SEARCH_PATH.runner()).unwrap().is_empty());
}

#[test]
fn the_registry_is_sorted_and_carries_names_paths_and_checksums() {
    let versions: Vec<_> = EXAMPLE.iter().map(|m| m.version()).collect();
    let mut sorted = versions.clone();
    sorted.sort_unstable();
    assert_eq!(versions, sorted);
    let first = EXAMPLE.get(1).unwrap();
    assert_eq!(first.name(), "create_accounts");
    assert_eq!(first.up().path(), "migrations/0001_create_accounts.sql");
    assert_eq!(
        first.up().sql(),
        include_str!("../migrations/0001_create_accounts.sql")
    );
    assert_eq!(first.up().checksum().len(), 64);
    let with_down = EXAMPLE.get(6).unwrap();
    assert_eq!(
        with_down.down().map(|d| d.path()),
        Some("migrations/0006_add_users_last_login.down.sql")
    );
}

/// A first run, which creates the tracking table and its digest objects,
/// and every later one, make the server say nothing: no notice reaches the
/// program's log. (Both drivers send the same statements.)
#[test]
fn a_run_makes_the_server_say_nothing() {
    let (db, _) = database(Driver::Sync);
    let notices = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut config = db.config().clone();
    let heard = notices.clone();
    config.notice_callback(move |notice| {
        heard
            .lock()
            .unwrap()
            .push(format!("{}: {}", notice.severity(), notice.message()))
    });
    let mut client = config.connect(postgres::NoTls).unwrap();
    EXAMPLE.run(&mut client).unwrap();
    EXAMPLE.run(&mut client).unwrap();
    EXAMPLE.runner().resume(&mut client).unwrap();
    EXAMPLE.runner().status(&mut client).unwrap();
    assert_eq!(*notices.lock().unwrap(), Vec::<String>::new());
}

/// PostgreSQL cuts names longer than 63 bytes short, so two such tracking
/// table names could be one table with two locks: refused before anything
/// runs, a name of 63 bytes taken.
fn a_tracking_table_name_longer_than_postgres_keeps_is_refused(driver: Driver) {
    let (_db, mut client) = database(driver);
    for name in [
        format!("{}x", "t".repeat(63)),
        format!("{}é", "t".repeat(62)),
        format!("{}.t", "s".repeat(64)),
    ] {
        match client.run(BASE.runner().table(name.as_str())) {
            Err(stowage::Error::InvalidTable { name: refused, .. }) => assert_eq!(refused, name),
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
    }
    assert!(!table_exists(&mut client, "public.a"), "nothing ran");
    let longest = "t".repeat(63);
    client.run(BASE.runner().table(longest.as_str())).unwrap();
    assert_eq!(tracked(&mut client, &format!("public.{longest}")).len(), 3);
}

both_drivers!(
    a_tracking_table_name_longer_than_postgres_keeps_is_refused,
    a_fresh_database_gets_every_migration_once_and_a_true_tracking_table,
    a_second_run_applies_nothing_and_changes_nothing,
    the_example_migrations_apply,
    a_named_tracking_table_is_created_in_its_schema,
    a_hostile_table_name_is_quoted_not_injected,
    a_migration_that_changes_search_path_does_not_break_tracking,
);
