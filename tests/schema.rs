//! The schema check against a real server: a database built by the example
//! migrations matches their `schema.sql`, and each change made by hand is
//! reported as what it is, with what was expected.

mod common;

use common::{advisory_locks, database, Conn, Driver};
use stowage::{
    AfterRun, Aspect, Change, Error, ObjectKind, ReapplyReason, Refusal, Remedy, RepeatableAction,
    SchemaHealth, SchemaOutcome, Stage,
};

static EXAMPLE: stowage::Migrations = stowage::embed_migrations!();
static WITHOUT_FILE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/gap");
static NO_TRANSACTION: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/no_transaction");
static EVERY_KIND: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/every_kind");
static GRANTS: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/grants", grants = true);

/// A new database with every example migration applied, over `driver`,
/// and a check that found it as the file says recorded, so that a check
/// after a change made by hand finds the change only if the record of that
/// check does not hide it.
fn migrated(driver: Driver) -> (stowage::testing::TestDatabase<'static>, Conn) {
    let (db, mut client) = database(driver);
    applied_and_checked(&mut client, &EXAMPLE, "public");
    (db, client)
}

/// The differences `change`, made by hand, leaves, as their messages.
fn drift(driver: Driver, change: &str) -> Vec<String> {
    let (_db, mut client) = migrated(driver);
    let shown = drift_from(&mut client, &EXAMPLE, change);
    assert!(!shown.is_empty(), "{change} went unnoticed");
    shown
}

/// A new database with every migration of `migrations` applied, over
/// `driver`, checked to be the schema their file says.
fn matching(
    driver: Driver,
    migrations: &'static stowage::Migrations,
) -> (stowage::testing::TestDatabase<'static>, Conn) {
    let (db, mut client) = database(driver);
    applied_and_checked(&mut client, migrations, "public");
    (db, client)
}

/// The same, with the migrations run in the schema `tenant_a`.
fn matching_in_a_tenant(
    driver: Driver,
    migrations: &'static stowage::Migrations,
) -> (stowage::testing::TestDatabase<'static>, Conn) {
    let (db, mut client) = database(driver);
    client
        .batch_execute("CREATE SCHEMA tenant_a; SET search_path = tenant_a")
        .unwrap_or_else(|e| panic!("{e}"));
    applied_and_checked(&mut client, migrations, "tenant_a");
    (db, client)
}

/// Applies `migrations` and checks that the schema `home` is the one
/// their file says, until the check is recorded with the catalog's
/// fingerprint: the first check creates the table of records, which
/// changes the catalog; the second records it; the third finds the record.
fn applied_and_checked(client: &mut Conn, migrations: &stowage::Migrations, home: &str) {
    client
        .run(migrations.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..3 {
        let check = client
            .check_schema(migrations.runner())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(check.is_ok(), "{check}");
        assert_eq!(check.schema(), Some(home));
    }
    let recorded = client
        .query("SELECT home::text FROM stowage_schema_checks", &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let homes: Vec<String> = recorded.iter().map(|row| row.get(0)).collect();
    assert_eq!(homes, [home]);
}

/// The differences from the schema file of `migrations` that `change`,
/// made by hand, leaves, as their messages.
fn drift_from(client: &mut Conn, migrations: &stowage::Migrations, change: &str) -> Vec<String> {
    client
        .batch_execute(change)
        .unwrap_or_else(|e| panic!("{change}: {e}"));
    let check = client
        .check_schema(migrations.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    shown(&check)
}

/// The differences `check` found, as their messages.
fn shown(check: &stowage::SchemaCheck) -> Vec<String> {
    check
        .differences()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn the_example_schema_file_is_the_schema_its_migrations_build(driver: Driver) {
    let (_db, mut client) = migrated(driver);
    let check = client
        .check_schema(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(check.is_ok(), "{check}");
    assert_eq!(check.schema(), Some("public"));
    assert_eq!(check.file(), "migrations/schema.sql");
    assert_eq!(
        check.to_string(),
        "ok: the schema public is the one migrations/schema.sql says the migrations build"
    );
    let on_disk = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/schema.sql"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(EXAMPLE.expected_schema(), Some(on_disk.as_str()));
}

fn a_table_dropped_by_hand_is_missing(driver: Driver) {
    assert_eq!(
        drift(
            driver,
            "DROP VIEW account_summary; DROP VIEW account_revenue; DROP TABLE orders"
        ),
        [
            "table public.orders is missing (migration 3, migrations/0003_create_orders.sql, makes it)",
            "view public.account_revenue is missing (migration 5, migrations/0005_account_revenue_view.sql, makes it)",
            "view public.account_summary is missing",
        ],
        "the table's columns, constraints, index and trigger are not listed again"
    );
}

fn a_column_added_by_hand_is_extra(driver: Driver) {
    assert_eq!(
        drift(driver, "ALTER TABLE users ADD COLUMN nickname text"),
        ["column public.users.nickname is there, but not in the schema file"]
    );
}

fn a_changed_default_is_named_with_both_values(driver: Driver) {
    let (_db, mut client) = migrated(driver);
    client
        .batch_execute("ALTER TABLE accounts ALTER COLUMN plan SET DEFAULT 'team'")
        .unwrap_or_else(|e| panic!("{e}"));
    let check = client
        .check_schema(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    let differences = check.differences();
    assert_eq!(differences.len(), 1, "{check}");
    assert_eq!(differences[0].kind(), ObjectKind::Column);
    assert_eq!(differences[0].object(), "public.accounts.plan");
    assert_eq!(
        differences[0].change(),
        &Change::Differs {
            aspect: Aspect::Default,
            expected: Some("'free'::text".into()),
            found: Some("'team'::text".into()),
        }
    );
    assert_eq!(
        differences[0].to_string(),
        "column public.accounts.plan: default is 'team'::text, expected 'free'::text"
    );
}

fn a_dropped_index_is_missing(driver: Driver) {
    assert_eq!(
        drift(driver, "DROP INDEX users_active_idx"),
        ["index public.users_active_idx is missing (migration 6, migrations/0006_add_users_last_login.sql, makes it)"]
    );
}

fn an_invalid_index_is_reported_as_such(driver: Driver) {
    // A unique index built again concurrently over duplicates is left INVALID.
    let (_db, mut client) = migrated(driver);
    client
        .batch_execute(
            "DROP INDEX users_email_key;
             INSERT INTO accounts (name) VALUES ('acme');
             INSERT INTO users (account_id, email) SELECT id, 'a@example.com' FROM accounts;
             INSERT INTO users (account_id, email) SELECT id, 'A@example.com' FROM accounts;",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let failed = client
        .batch_execute("CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (lower(email))");
    assert!(failed.is_err(), "the duplicates must fail the build");
    let check = client
        .check_schema(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    let shown = shown(&check);
    assert_eq!(
        shown,
        ["index public.users_email_key is INVALID: a concurrent build of it failed, and queries \
          do not use it; drop it and create it again"]
    );
}

fn a_redefined_view_shows_both_queries(driver: Driver) {
    let shown = drift(
        driver,
        "CREATE OR REPLACE VIEW account_revenue AS
         SELECT a.id AS account_id, a.name AS account_name, 0::bigint AS paid_orders,
                0::numeric AS revenue_cents FROM accounts a",
    );
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].starts_with(
            "view public.account_revenue: definition differs\n    is:       SELECT id AS account_id,"
        ),
        "{}",
        shown[0]
    );
    assert!(
        shown[0].contains("\n    expected: SELECT a.id AS account_id,"),
        "{}",
        shown[0]
    );
}

fn a_changed_function_body_is_reported(driver: Driver) {
    let shown = drift(
        driver,
        "CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RETURN NEW; END $$",
    );
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].starts_with("function public.touch_updated_at(): definition differs\n    is:"),
        "{}",
        shown[0]
    );
    assert!(shown[0].contains("BEGIN RETURN NEW; END"), "{}", shown[0]);
    assert!(
        shown[0].contains("NEW.updated_at := now();"),
        "{}",
        shown[0]
    );
}

fn a_disabled_trigger_is_reported(driver: Driver) {
    assert_eq!(
        drift(
            driver,
            "ALTER TABLE orders DISABLE TRIGGER orders_touch_updated_at"
        ),
        ["trigger orders_touch_updated_at on public.orders: state is DISABLE, expected enabled"]
    );
}

fn a_changed_replica_identity_is_reported(driver: Driver) {
    assert_eq!(
        drift(driver, "ALTER TABLE orders REPLICA IDENTITY FULL"),
        ["table public.orders: replica identity is FULL, expected DEFAULT (the primary key)"]
    );
}

fn statistics_made_by_hand_are_extra_and_go_with_their_table(driver: Driver) {
    assert_eq!(
        drift(
            driver,
            "CREATE STATISTICS orders_by_user (dependencies) ON user_id, status FROM orders"
        ),
        ["statistics public.orders_by_user is there, but not in the schema file"]
    );
    assert_eq!(
        drift(
            driver,
            "CREATE TABLE scratch (a int, b int); CREATE STATISTICS scratch_ab ON a, b FROM scratch"
        ),
        ["table public.scratch is there, but not in the schema file"],
        "the table's statistics are not listed again"
    );
}

fn a_rule_added_by_hand_is_extra(driver: Driver) {
    assert_eq!(
        drift(
            driver,
            "CREATE RULE keep_orders AS ON DELETE TO orders DO INSTEAD NOTHING"
        ),
        ["rule keep_orders on public.orders is there, but not in the schema file"]
    );
}

fn every_kind_of_object_is_compared_and_text_search_changes_are_named(driver: Driver) {
    let (_db, mut client) = matching(driver, &EVERY_KIND);
    assert_eq!(
        drift_from(
            &mut client,
            &EVERY_KIND,
            "ALTER TEXT SEARCH CONFIGURATION english_plain ALTER MAPPING FOR asciiword WITH english_stem;
             ALTER TEXT SEARCH CONFIGURATION english_plain DROP MAPPING FOR email;
             ALTER TEXT SEARCH DICTIONARY english_simple (StopWords = russian);
             CREATE COLLATION posix (locale = 'POSIX')",
        ),
        [
            "collation public.posix is there, but not in the schema file",
            "text search dictionary public.english_simple: definition is TEMPLATE = simple, \
             stopwords = 'russian', expected TEMPLATE = simple, stopwords = 'english'",
            "text search configuration public.english_plain: mapping is asciiword WITH \
             english_stem, expected asciiword WITH english_simple",
            "text search configuration public.english_plain: mapping is none, expected email WITH simple",
        ]
    );
}

fn every_kind_of_object_compares_clean_in_a_tenant_schema(driver: Driver) {
    matching_in_a_tenant(driver, &EVERY_KIND);
}

fn a_tenant_schema_is_compared_under_its_own_name(driver: Driver) {
    let (_db, mut client) = matching_in_a_tenant(driver, &EXAMPLE);
    assert_eq!(
        drift_from(
            &mut client,
            &EXAMPLE,
            "ALTER TABLE users DROP COLUMN full_name"
        ),
        ["column tenant_a.users.full_name is missing"]
    );
}

/// Tracking says every migration is applied, but a table the migrations
/// made is gone, as when a database is restored without it.
fn applied_migrations_whose_table_is_gone_are_named_with_what_can_be_done(driver: Driver) {
    let (_db, mut client) = migrated(driver);
    client
        .batch_execute("DROP TABLE users CASCADE")
        .unwrap_or_else(|e| panic!("{e}"));
    let status = client
        .status(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.is_up_to_date(), "tracking says all is applied");
    let check = client
        .check_schema(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    let SchemaOutcome::Differs {
        differences,
        remedies,
    } = check.outcome()
    else {
        panic!("{check}")
    };
    let users = differences
        .iter()
        .find(|d| d.object() == "public.users")
        .unwrap_or_else(|| panic!("{check}"));
    assert_eq!(users.change(), &Change::Missing);
    assert_eq!(
        users.made_by(),
        Some((2, "migrations/0002_create_users.sql"))
    );
    assert!(remedies.contains(&Remedy::Restore), "{check}");
    let text = check.to_string();
    assert!(
        text.contains("what can be done: restoring what is missing from a backup"),
        "{text}"
    );
}

/// Migration `version`'s row: success, note, and when it was applied.
fn row(client: &mut Conn, version: i64) -> (bool, Option<String>, String) {
    let row = client
        .query_one(
            "SELECT success, note, applied_at::text FROM stowage_migrations WHERE version = $1",
            &[&version],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    (row.get(0), row.get(1), row.get(2))
}

/// The seeds' case mended: tracking says applied, the view a migration
/// made is gone; the check names the migration and offers to run it again,
/// which brings the view back with the row still a success.
fn a_migration_whose_view_is_gone_runs_again_with_its_row(driver: Driver) {
    let (_db, mut client) = migrated(driver);
    client
        .batch_execute("DROP VIEW account_revenue CASCADE")
        .unwrap_or_else(|e| panic!("{e}"));
    let check = client
        .check_schema(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    let before = shown(&check);
    assert!(
        before.contains(
            &"view public.account_revenue is missing (migration 5, \
              migrations/0005_account_revenue_view.sql, makes it)"
                .to_owned()
        ),
        "{check}"
    );
    let SchemaOutcome::Differs { remedies, .. } = check.outcome() else {
        panic!("{check}")
    };
    assert!(
        remedies.contains(&Remedy::Reapply { version: 5 }),
        "{check}"
    );
    assert!(
        check
            .to_string()
            .contains("running migration 5 again (Runner::reapply(5))"),
        "{check}"
    );

    let report = client
        .reapply(EXAMPLE.runner(), 5)
        .unwrap_or_else(|e| panic!("{e}"));
    let versions: Vec<i64> = report.applied().iter().map(|a| a.version()).collect();
    assert_eq!(versions, [5]);
    // The repeatable view on it, gone with it, is created again.
    let repeatables: Vec<(&str, RepeatableAction)> = report
        .repeatables()
        .iter()
        .map(|r| (r.name(), r.action()))
        .collect();
    assert_eq!(
        repeatables,
        [("account_summary", RepeatableAction::Created)]
    );
    let health = client
        .health(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    let check = client
        .check_schema(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(check.is_ok(), "{check}");
    let (success, note, _) = row(&mut client, 5);
    assert!(success);
    assert_eq!(
        note.as_deref(),
        Some("applied again: objects it makes were missing")
    );
    let status = client
        .status(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.is_up_to_date(), "{status}");
    assert_eq!(advisory_locks(&mut client), 0);
    // Health reports the check made after it, not the drift found before.
    assert_eq!(health.schema, SchemaHealth::Ok);
}

/// A function and its trigger, dropped together, are named with the
/// migration that makes them, which runs again and brings both back.
fn a_migration_whose_function_and_trigger_are_gone_runs_again(driver: Driver) {
    let (_db, mut client) = migrated(driver);
    client
        .batch_execute("DROP FUNCTION touch_updated_at() CASCADE")
        .unwrap_or_else(|e| panic!("{e}"));
    let check = client
        .check_schema(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    let made: Vec<(ObjectKind, Option<i64>)> = check
        .differences()
        .iter()
        .map(|d| (d.kind(), d.made_by().map(|(version, _)| version)))
        .collect();
    assert_eq!(
        made,
        [
            (ObjectKind::Function, Some(4)),
            (ObjectKind::Trigger, Some(4))
        ],
        "{check}"
    );
    client
        .reapply(EXAMPLE.runner(), 4)
        .unwrap_or_else(|e| panic!("{e}"));
    let check = client
        .check_schema(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(check.is_ok(), "{check}");
}

/// Running a migration again whose objects are partly there fails, and
/// changes nothing: its row, the schema and the session are as they were.
fn a_migration_that_cannot_run_again_changes_nothing(driver: Driver) {
    let (_db, mut client) = migrated(driver);
    client
        .batch_execute("DROP INDEX users_active_idx")
        .unwrap_or_else(|e| panic!("{e}"));
    let before = row(&mut client, 6);
    let Err(Error::Migration(failure)) = client.reapply(EXAMPLE.runner(), 6) else {
        panic!("running migration 6 again over its column succeeded")
    };
    assert_eq!(failure.stage(), &Stage::Reapply);
    assert_eq!(failure.version(), 6);
    assert_eq!(failure.path(), "migrations/0006_add_users_last_login.sql");
    assert_eq!(failure.code(), Some("42701"), "{failure}");
    assert_eq!(failure.position().map(|at| at.line), Some(1), "{failure}");
    let text = failure.to_string();
    assert!(
        text.starts_with("migration 6 (migrations/0006_add_users_last_login.sql:1:")
            && text.contains(", run again, failed and was rolled back: ")
            && text.contains("nothing changed: it stays recorded as applied"),
        "{text}"
    );
    assert_eq!(row(&mut client, 6), before);
    assert_eq!(advisory_locks(&mut client), 0);
    let still = shown(
        &client
            .check_schema(EXAMPLE.runner())
            .unwrap_or_else(|e| panic!("{e}")),
    );
    assert_eq!(
        still,
        ["index public.users_active_idx is missing (migration 6, \
          migrations/0006_add_users_last_login.sql, makes it)"]
    );
}

/// A migration runs again only where the check shows it is needed.
fn running_a_migration_again_is_refused_unless_what_it_makes_is_missing(driver: Driver) {
    let reason = |outcome: Result<stowage::Report, Error>| match outcome {
        Err(Error::Refused(Refusal::Reapply { reason, .. })) => reason,
        other => panic!("not refused: {other:?}"),
    };
    let (_db, mut client) = migrated(driver);
    let refused = client.reapply(EXAMPLE.runner(), 2);
    assert_eq!(
        refused
            .as_ref()
            .map_err(ToString::to_string)
            .err()
            .as_deref(),
        Some(
            "refused: migration 2 was not run again: the schema check finds nothing it makes \
             missing, and running it again would apply it twice"
        )
    );
    assert_eq!(reason(refused), ReapplyReason::NothingMissing);
    assert!(matches!(
        client.reapply(EXAMPLE.runner(), 9),
        Err(Error::Refused(Refusal::UnknownVersion { version: 9 }))
    ));
    assert_eq!(
        reason(client.reapply(WITHOUT_FILE.runner(), 1)),
        ReapplyReason::NoSchemaFile
    );
    assert_eq!(
        reason(client.reapply(NO_TRANSACTION.runner(), 2)),
        ReapplyReason::NoTransaction
    );

    let (_db, mut client) = database(driver);
    client
        .run(EXAMPLE.runner().target(3))
        .unwrap_or_else(|e| panic!("{e}"));
    client
        .batch_execute("DROP TABLE orders CASCADE")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        reason(client.reapply(EXAMPLE.runner(), 3)),
        ReapplyReason::NotAtNewestVersion
    );
    assert_eq!(
        reason(client.reapply(EXAMPLE.runner(), 5)),
        ReapplyReason::NotApplied
    );
    assert_eq!(advisory_locks(&mut client), 0);
}

fn a_database_at_another_version_is_not_compared(driver: Driver) {
    let (_db, mut client) = database(driver);
    client
        .run(EXAMPLE.runner().target(3))
        .unwrap_or_else(|e| panic!("{e}"));
    let check = client
        .check_schema(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        check.outcome(),
        &SchemaOutcome::NotAtNewestVersion {
            current: Some(3),
            newest: Some(6)
        }
    );
    assert!(!check.compared() && !check.is_ok());
    assert!(check.to_string().starts_with(
        "no schema compared: the database is at version 3, not at this binary's newest version 6"
    ));
    let check = client
        .check_schema(WITHOUT_FILE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(check.outcome(), &SchemaOutcome::NoSchemaFile);
}

fn health_reports_the_last_check_and_checks_when_asked(driver: Driver) {
    let (_db, mut client) = database(driver);
    client
        .run(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    let health = client
        .health(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(health.ok);
    assert_eq!(health.schema, SchemaHealth::Unknown, "no check yet");
    let checked = client
        .health(EXAMPLE.runner().health_checks_schema(true))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked.schema, SchemaHealth::Ok);
    client
        .batch_execute("DROP INDEX users_active_idx; ALTER TABLE users ADD COLUMN x int")
        .unwrap_or_else(|e| panic!("{e}"));
    // Until the next check, health says what the last one found.
    let health = client
        .health(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(health.schema, SchemaHealth::Ok);
    client
        .check_schema(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    let health = client
        .health(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(health.schema, SchemaHealth::Drift { differences: 2 });
    assert!(
        health.ok,
        "drift does not change what `ok` says of the migrations"
    );
}

fn a_run_checks_the_schema_after_it_when_asked(driver: Driver) {
    let (_db, mut client) = migrated(driver);
    let runner = || EXAMPLE.runner();
    client
        .run(runner().check_schema_after_run(AfterRun::Fail))
        .unwrap_or_else(|e| panic!("{e}"));
    client
        .batch_execute("ALTER TABLE orders DISABLE TRIGGER orders_touch_updated_at")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(client
        .run(runner())
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty());
    assert!(client
        .run(runner().check_schema_after_run(AfterRun::Warn))
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty());
    match client.run(runner().check_schema_after_run(AfterRun::Fail)) {
        Err(Error::SchemaDrift(check)) => {
            assert_eq!(check.differences().len(), 1, "{check}");
            let message = Error::SchemaDrift(check).to_string();
            assert!(
                message.starts_with("the migrations were applied, but the schema public differs"),
                "{message}"
            );
        }
        other => panic!("expected schema drift, got {other:?}"),
    }
}

fn a_revoked_grant_is_reported_when_grants_are_compared(driver: Driver) {
    let (_db, mut client) = matching(driver, &GRANTS);
    assert_eq!(
        drift_from(
            &mut client,
            &GRANTS,
            "REVOKE SELECT ON shared FROM PUBLIC;
             REVOKE USAGE ON TYPE mood FROM PUBLIC;
             GRANT EXECUTE ON FUNCTION owner_only() TO PUBLIC"
        ),
        [
            "grant on TABLE shared to PUBLIC: privileges is UPDATE (note), expected SELECT, UPDATE (note)",
            "grant on TYPE mood to PUBLIC is missing",
            "grant on FUNCTION owner_only() to PUBLIC is there, but not in the schema file",
        ]
    );
    assert_eq!(
        drift_from(
            &mut client,
            &GRANTS,
            "REVOKE UPDATE (note) ON shared FROM PUBLIC"
        ),
        [
            "grant on TABLE shared to PUBLIC is missing",
            "grant on TYPE mood to PUBLIC is missing",
            "grant on FUNCTION owner_only() to PUBLIC is there, but not in the schema file",
        ],
        "a column's privilege goes with the table's"
    );
}

/// When the check recorded for the current schema found it as the file
/// says.
fn recorded_at(client: &mut Conn) -> std::time::SystemTime {
    client
        .query_one(
            "SELECT checked_at FROM stowage_schema_checks WHERE home = current_schema()",
            &[],
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .get(0)
}

fn a_recorded_check_stands_until_the_catalog_changes_anywhere(driver: Driver) {
    let (_db, mut client) = migrated(driver);
    let recorded = recorded_at(&mut client);
    let check = |client: &mut Conn| {
        client
            .check_schema(EXAMPLE.runner())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    // Writing rows, and temporary tables, change nothing the check reads.
    client
        .batch_execute(
            "INSERT INTO accounts (name) VALUES ('acme');
             CREATE TEMPORARY TABLE scratch (id serial PRIMARY KEY, note text DEFAULT 'x');
             CREATE INDEX ON scratch (note);",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(check(&mut client).is_ok());
    assert_eq!(
        recorded_at(&mut client),
        recorded,
        "the catalog is unchanged: the recorded check stands"
    );
    // A change made by hand is found, and the difference is not recorded.
    client
        .batch_execute("COMMENT ON TABLE users IS 'people'")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        shown(&check(&mut client)),
        ["comment on TABLE users is there, but not in the schema file"]
    );
    assert_eq!(recorded_at(&mut client), recorded);
    // Undone, the catalog holds what the recorded check saw again.
    client
        .batch_execute("COMMENT ON TABLE users IS NULL")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(check(&mut client).is_ok());
    assert_eq!(recorded_at(&mut client), recorded);
    // A change in another schema is a change of the catalog too: the
    // schema is read again, found as the file says, and that is recorded.
    client
        .batch_execute("CREATE SCHEMA elsewhere; CREATE TABLE elsewhere.log (line text)")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(check(&mut client).is_ok());
    assert!(recorded_at(&mut client) > recorded);
}

fn a_session_that_cannot_write_still_checks(driver: Driver) {
    let (_db, mut client) = database(driver);
    client
        .run(EXAMPLE.runner())
        .unwrap_or_else(|e| panic!("{e}"));
    client
        .batch_execute("SET default_transaction_read_only = on")
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..2 {
        let check = client
            .check_schema(EXAMPLE.runner())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(check.is_ok(), "{check}");
    }
    client
        .batch_execute("DROP INDEX users_active_idx")
        .expect_err("the session writes nothing");
    let made = client
        .query_one(
            "SELECT to_regclass('stowage_schema_checks') IS NOT NULL",
            &[],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!made.get::<_, bool>(0), "no record is made");
}

both_drivers!(
    a_recorded_check_stands_until_the_catalog_changes_anywhere,
    a_session_that_cannot_write_still_checks,
    a_revoked_grant_is_reported_when_grants_are_compared,
    the_example_schema_file_is_the_schema_its_migrations_build,
    a_table_dropped_by_hand_is_missing,
    a_column_added_by_hand_is_extra,
    a_changed_default_is_named_with_both_values,
    a_dropped_index_is_missing,
    an_invalid_index_is_reported_as_such,
    a_redefined_view_shows_both_queries,
    a_changed_function_body_is_reported,
    a_disabled_trigger_is_reported,
    a_changed_replica_identity_is_reported,
    statistics_made_by_hand_are_extra_and_go_with_their_table,
    a_rule_added_by_hand_is_extra,
    every_kind_of_object_is_compared_and_text_search_changes_are_named,
    every_kind_of_object_compares_clean_in_a_tenant_schema,
    a_tenant_schema_is_compared_under_its_own_name,
    applied_migrations_whose_table_is_gone_are_named_with_what_can_be_done,
    a_migration_whose_view_is_gone_runs_again_with_its_row,
    a_migration_that_cannot_run_again_changes_nothing,
    a_migration_whose_function_and_trigger_are_gone_runs_again,
    running_a_migration_again_is_refused_unless_what_it_makes_is_missing,
    a_database_at_another_version_is_not_compared,
    health_reports_the_last_check_and_checks_when_asked,
    a_run_checks_the_schema_after_it_when_asked,
);
