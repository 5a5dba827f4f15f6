//! The test helpers of the `testing` feature: checking a set of migrations
//! and its down scripts in one line, and the schema snapshots it compares.

mod common;

use common::{database, runtime, server_version, Conn, Driver};
use stowage::testing::{
    assert_migrations, check_migrations, schema, ProblemKind, Schema, TestServer,
};

static EXAMPLE: stowage::Migrations = stowage::embed_migrations!();
static BASE: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/base");
static GOOD: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/downs_good");
static INCOMPLETE: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/downs_incomplete");
static BROKEN: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/downs_broken");
static REDO: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/downs_redo");
static SECOND_RUN: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/downs_second_run");
static NO_TRANSACTION: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/downs_no_transaction");
static FAILING: stowage::Migrations = stowage::embed_migrations!("tests/fixtures/failing");

/// The error `check_migrations` must return for `migrations`.
fn check_fails(migrations: &stowage::Migrations) -> stowage::testing::TestError {
    match check_migrations(migrations) {
        Ok(checked) => panic!("the check passed: {checked}"),
        Err(e) => e,
    }
}

/// The kind and version of each problem found, in order.
fn found(error: &stowage::testing::TestError) -> Vec<(ProblemKind, Option<i64>)> {
    error
        .problems()
        .iter()
        .map(|p| (p.kind(), p.version()))
        .collect()
}

fn assert_contains(text: &str, expected: &str) {
    assert!(
        text.contains(expected),
        "expected to find\n{expected}\nin\n{text}"
    );
}

// --- check_migrations ---------------------------------------------------

#[test]
fn the_example_migrations_pass_with_the_down_script_of_6_exercised() {
    assert_migrations(&EXAMPLE);
    let checked = check_migrations(&EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked.applied(), [1, 2, 3, 4, 5, 6]);
    assert_eq!(checked.downs(), [6]);
    assert!(checked.downs_skipped().is_empty());
}

#[test]
fn correct_down_scripts_pass() {
    let checked = check_migrations(&GOOD).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked.applied(), [1, 2, 3, 4, 5]);
    assert_eq!(checked.downs(), [1, 2, 3, 4], "5 has no down script");
    assert_eq!(
        checked.to_string(),
        "5 migration(s) applied, and a second run applied nothing; the down scripts of 1, 2, 3 \
         and 4 undo their migration exactly and let it be applied again"
    );
}

#[test]
fn migrations_without_down_scripts_are_applied_and_run_twice() {
    let checked = check_migrations(&BASE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked.applied(), [1, 2, 3]);
    assert!(checked.downs().is_empty());
}

#[test]
fn no_transaction_down_scripts_are_listed_as_not_run() {
    let checked = check_migrations(&NO_TRANSACTION).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked.applied(), [1, 2]);
    assert_eq!(checked.downs(), [1]);
    assert_eq!(checked.downs_skipped(), [2]);
    assert_contains(
        &checked.to_string(),
        "; the no-transaction down scripts of 2 were not run",
    );
}

#[test]
fn down_scripts_that_leave_a_column_or_an_index_behind_fail_with_every_leftover_named() {
    let error = check_fails(&INCOMPLETE);
    assert_eq!(
        found(&error),
        [
            (ProblemKind::DownDiffers, Some(2)),
            (ProblemKind::RedoFailed, Some(2)),
            (ProblemKind::DownDiffers, Some(3)),
            (ProblemKind::RedoDiffers, Some(3)),
        ],
        "{error}"
    );
    let message = error.to_string();
    assert_contains(&message, "checking 4 migration(s) found 4 problem(s):");
    // Migration 2 forgot its column; applying it again then fails on it.
    assert_contains(
        &message,
        "1. migration 2 (tests/fixtures/downs_incomplete/0002_users_nickname.sql, \
         down script tests/fixtures/downs_incomplete/0002_users_nickname.down.sql): \
         its down script does not undo it",
    );
    assert_contains(
        &message,
        "only after the down script (the down script left it behind):\n        \
         + column public.users.nickname text\n",
    );
    assert_contains(
        &message,
        "ERROR 42701: column \"nickname\" of relation \"users\" already exists",
    );
    // Migration 3 dropped the wrong index name behind IF EXISTS.
    assert_contains(
        &message,
        "3. migration 3 (tests/fixtures/downs_incomplete/0003_users_created_at_index.sql, \
         down script tests/fixtures/downs_incomplete/0003_users_created_at_index.down.sql): \
         its down script does not undo it",
    );
    assert_contains(
        &message,
        "+ index public.users_created_at_idx: CREATE INDEX users_created_at_idx ON public.users \
         USING btree (created_at)",
    );
    assert_contains(
        &message,
        "+ index public.users_created_at_idx1: CREATE INDEX users_created_at_idx1",
    );
    // The check went on past them, and found nothing wrong with 4.
    assert!(!message.contains("migration 4"), "{message}");
    let leftover = &error.problems()[0];
    assert_eq!(
        leftover.path(),
        Some("tests/fixtures/downs_incomplete/0002_users_nickname.sql")
    );
    assert_eq!(
        leftover.down_path(),
        Some("tests/fixtures/downs_incomplete/0002_users_nickname.down.sql")
    );
    assert_eq!(leftover.only_after(), ["column public.users.nickname text"]);
    assert!(leftover.only_before().is_empty());
}

#[test]
fn assert_migrations_panics_with_the_whole_message() {
    let panic = std::panic::catch_unwind(|| assert_migrations(&INCOMPLETE))
        .expect_err("assert_migrations must panic");
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_else(|| panic!("the panic payload is not a String"));
    assert_eq!(message, check_fails(&INCOMPLETE).to_string());
    assert_contains(&message, "+ column public.users.nickname text");
}

#[test]
fn a_down_script_with_an_sql_error_fails_naming_its_file() {
    let error = check_fails(&BROKEN);
    assert_eq!(
        found(&error),
        [(ProblemKind::DownFailed, Some(2))],
        "{error}"
    );
    let problem = &error.problems()[0];
    assert_eq!(
        problem.down_path(),
        Some("tests/fixtures/downs_broken/0002_users_phone.down.sql")
    );
    assert_eq!(
        error.to_string(),
        "checking 3 migration(s) found 1 problem(s):\n\n\
         1. migration 2 (tests/fixtures/downs_broken/0002_users_phone.sql, \
         down script tests/fixtures/downs_broken/0002_users_phone.down.sql): its down script failed:\n      \
         ERROR 42703: column \"phone_number\" of relation \"users\" does not exist (at line 2, column 1)"
    );
}

#[test]
fn a_down_script_that_leaves_data_the_migration_trips_over_fails_on_the_redo() {
    let error = check_fails(&REDO);
    assert_eq!(
        found(&error),
        [(ProblemKind::RedoFailed, Some(2))],
        "{error}"
    );
    let message = error.to_string();
    assert_contains(
        &message,
        "1. migration 2 (tests/fixtures/downs_redo/0002_auditor_role.sql, down script \
         tests/fixtures/downs_redo/0002_auditor_role.down.sql): applying it again after its \
         down script failed:",
    );
    assert_contains(
        &message,
        "ERROR 23505: duplicate key value violates unique constraint \"roles_pkey\"",
    );
    assert_contains(&message, "Key (name)=(auditor) already exists.");
    assert_contains(&message, "may have left data behind");
}

#[test]
fn a_migration_that_fails_to_apply_ends_the_check() {
    let error = check_fails(&FAILING);
    assert_eq!(found(&error), [(ProblemKind::UpFailed, Some(2))], "{error}");
    let message = error.to_string();
    assert_contains(
        &message,
        "migration 2 (tests/fixtures/failing/2_needs_setup.sql): it failed to apply:\n      \
         ERROR 42P01: relation \"prerequisite\" does not exist (at line 3, column 13)",
    );
    assert_contains(&message, "the ones after it were not checked");
}

#[test]
fn a_second_run_that_does_not_find_the_tracking_rows_fails() {
    let error = check_fails(&SECOND_RUN);
    assert_eq!(found(&error), [(ProblemKind::SecondRun, None)], "{error}");
    let message = error.to_string();
    assert_contains(
        &message,
        "a second run, after every migration was applied, failed; it should apply nothing:",
    );
    assert_contains(&message, "ERROR 42P06: schema \"app\" already exists");
    assert_contains(
        &message,
        "new sessions now have the current schema app instead of public",
    );
}

// --- schema ---------------------------------------------------------------

/// The schema of the database under `client`, a blocking connection.
fn snapshot(client: &mut Conn) -> Schema {
    let Conn::Sync(client) = client else {
        panic!("schema takes a blocking client, not {client:?}")
    };
    schema(client).unwrap_or_else(|e| panic!("{e}"))
}

/// The lines removed and added by `change`, run after `setup`.
fn changes(setup: &str, change: &str) -> (Vec<String>, Vec<String>) {
    let (_db, mut client) = database(Driver::Sync);
    client.batch_execute(setup).unwrap();
    let before = snapshot(&mut client);
    client.batch_execute(change).unwrap();
    let after = snapshot(&mut client);
    let (removed, added) = before.diff(&after);
    let owned = |lines: Vec<&str>| lines.into_iter().map(str::to_owned).collect();
    (owned(removed), owned(added))
}

/// The lines a snapshot shows: `lines`, and each line of `newer` whose
/// version (as in `server_version_num`) the server has reached, sorted. From
/// PostgreSQL 17 a domain's `NOT NULL`, and from 18 a column's, is a
/// constraint of its own in the catalog, so it has a line of its own.
fn lines(lines: &[&str], newer: &[(i32, &str)]) -> Vec<String> {
    let version = server_version();
    let newer = newer.iter().filter(|(since, _)| version >= *since);
    let mut lines: Vec<String> = lines
        .iter()
        .chain(newer.map(|(_, line)| line))
        .map(|line| line.to_string())
        .collect();
    lines.sort();
    lines
}

fn added(setup: &str, change: &str) -> Vec<String> {
    let (removed, added) = changes(setup, change);
    assert!(removed.is_empty(), "{change} removed {removed:?}");
    added
}

const USERS: &str = "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL)";

#[test]
fn a_fresh_database_holds_only_the_public_schema_and_plpgsql() {
    let (_db, mut client) = database(Driver::Sync);
    let lines: Vec<String> = snapshot(&mut client).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            "extension plpgsql 1.0 in schema pg_catalog",
            "schema public"
        ]
    );
}

#[test]
fn schema_sees_a_table_and_its_columns() {
    assert_eq!(
        added(
            "",
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY, name varchar(20) COLLATE \"C\", n int DEFAULT 3 NOT NULL, twice int GENERATED ALWAYS AS (n * 2) STORED)"
        ),
        lines(
            &[
                "column public.t.id bigint not null generated always as identity",
                "column public.t.n integer not null default 3",
                "column public.t.name character varying(20) collate pg_catalog.\"C\"",
                "column public.t.twice integer generated always as ((n * 2)) stored",
                "sequence public.t_id_seq as bigint start 1 increment 1 min 1 max 9223372036854775807 cache 1 owned by public.t.id",
                "table public.t",
            ],
            &[
                (180000, "constraint public.t t_id_not_null NOT NULL id"),
                (180000, "constraint public.t t_n_not_null NOT NULL n"),
            ]
        )
    );
}

#[test]
fn schema_sees_a_new_column() {
    assert_eq!(
        added(
            USERS,
            "ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'active'"
        ),
        lines(
            &["column public.users.status text not null default 'active'::text"],
            &[(
                180000,
                "constraint public.users users_status_not_null NOT NULL status"
            )]
        )
    );
}

#[test]
fn schema_sees_a_changed_default() {
    assert_eq!(
        changes(USERS, "ALTER TABLE users ALTER COLUMN email SET DEFAULT ''"),
        (
            vec!["column public.users.email text not null".to_owned()],
            vec!["column public.users.email text not null default ''::text".to_owned()]
        )
    );
}

#[test]
fn schema_sees_an_index() {
    assert_eq!(
        added(
            USERS,
            "CREATE INDEX users_email_idx ON users (lower(email))"
        ),
        [
            "index public.users_email_idx: CREATE INDEX users_email_idx ON public.users USING btree (lower(email))"
        ]
    );
}

#[test]
fn schema_sees_a_constraint() {
    assert_eq!(
        added(
            USERS,
            "ALTER TABLE users ADD CONSTRAINT email_has_at CHECK (email LIKE '%@%')"
        ),
        ["constraint public.users email_has_at CHECK ((email ~~ '%@%'::text))"]
    );
}

#[test]
fn schema_sees_a_view_and_a_materialized_view() {
    // PostgreSQL 16 and newer leave out the table name when one table is read.
    let email = if server_version() >= 160000 {
        "email"
    } else {
        "users.email"
    };
    assert_eq!(
        added(USERS, "CREATE VIEW emails AS SELECT email FROM users"),
        [format!(
            "view public.emails: SELECT {email} FROM public.users;"
        )]
    );
    assert_eq!(
        added(
            USERS,
            "CREATE MATERIALIZED VIEW user_count AS SELECT count(*) AS n FROM users"
        ),
        ["materialized view public.user_count: SELECT count(*) AS n FROM public.users;"]
    );
}

#[test]
fn schema_sees_a_function_and_a_procedure() {
    assert_eq!(
        added(
            "",
            "CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$"
        ),
        [
            "function public.add(a integer, b integer): CREATE OR REPLACE FUNCTION public.add(a integer, b integer) \
          RETURNS integer LANGUAGE sql IMMUTABLE AS $function$ SELECT a + b $function$"
        ]
    );
    let added = added(
        USERS,
        "CREATE PROCEDURE wipe() LANGUAGE sql AS $$ DELETE FROM users $$",
    );
    assert_eq!(added.len(), 1, "{added:?}");
    assert!(
        added[0].starts_with("procedure public.wipe(): CREATE OR REPLACE PROCEDURE public.wipe()")
    );
}

#[test]
fn schema_sees_a_changed_function_body_but_not_its_indentation() {
    let f = |body: &str| {
        format!("CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $${body}$$")
    };
    let (removed, added) = changes(&f(" SELECT 1 "), &f("\n    SELECT 1\n"));
    assert!(
        removed.is_empty() && added.is_empty(),
        "{removed:?} {added:?}"
    );
    let (removed, added) = changes(&f("SELECT 1"), &f("SELECT 2"));
    assert_eq!((removed.len(), added.len()), (1, 1));
    assert!(
        added[0].ends_with("AS $function$SELECT 2$function$"),
        "{added:?}"
    );
}

#[test]
fn schema_sees_a_trigger() {
    let setup = format!(
        "{USERS}; CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
    );
    assert_eq!(
        added(
            &setup,
            "CREATE TRIGGER users_noop BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION noop()"
        ),
        [
            "trigger public.users users_noop: CREATE TRIGGER users_noop BEFORE UPDATE ON public.users \
          FOR EACH ROW EXECUTE FUNCTION public.noop()"
        ]
    );
    assert_eq!(
        changes(
            &format!("{setup}; CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION noop()"),
            "ALTER TABLE users DISABLE TRIGGER t"
        )
        .1,
        ["trigger public.users t: CREATE TRIGGER t BEFORE UPDATE ON public.users FOR EACH ROW \
          EXECUTE FUNCTION public.noop() (disabled)"]
    );
}

#[test]
fn schema_sees_types() {
    assert_eq!(
        added("", "CREATE TYPE mood AS ENUM ('sad', 'ok')"),
        ["enum public.mood ('sad', 'ok')"]
    );
    assert_eq!(
        changes(
            "CREATE TYPE mood AS ENUM ('sad', 'ok')",
            "ALTER TYPE mood ADD VALUE 'happy' BEFORE 'ok'"
        ),
        (
            vec!["enum public.mood ('sad', 'ok')".to_owned()],
            vec!["enum public.mood ('sad', 'happy', 'ok')".to_owned()]
        )
    );
    assert_eq!(
        added(
            "",
            "CREATE DOMAIN email AS text NOT NULL DEFAULT '' CHECK (VALUE LIKE '%@%')"
        ),
        lines(
            &[
                "constraint public.email email_check CHECK ((VALUE ~~ '%@%'::text))",
                "domain public.email as text not null default ''::text",
            ],
            &[(170000, "constraint public.email email_not_null NOT NULL")]
        )
    );
    assert_eq!(
        added("", "CREATE TYPE point2 AS (x float8, y float8)"),
        [
            "attribute public.point2.x double precision",
            "attribute public.point2.y double precision",
            "composite type public.point2",
        ]
    );
    assert_eq!(
        added("", "CREATE TYPE floatrange AS RANGE (subtype = float8)"),
        ["range public.floatrange of double precision"]
    );
}

#[test]
fn schema_sees_schemas_sequences_partitions_and_policies() {
    assert_eq!(added("", "CREATE SCHEMA app"), ["schema app"]);
    assert_eq!(
        added("", "CREATE SEQUENCE ticket_seq INCREMENT 10 CYCLE"),
        [
            "sequence public.ticket_seq as bigint start 1 increment 10 min 1 max 9223372036854775807 cache 1 cycle"
        ]
    );
    assert_eq!(
        added(
            "",
            "CREATE TABLE events (at date NOT NULL) PARTITION BY RANGE (at);
             CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        ),
        lines(
            &[
                "column public.events.at date not null",
                "column public.events_2024.at date not null",
                "partitioned table public.events partition by RANGE (at)",
                "table public.events_2024 partition of public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
            ],
            &[
                (180000, "constraint public.events events_at_not_null NOT NULL at"),
                (180000, "constraint public.events_2024 events_at_not_null NOT NULL at"),
            ]
        )
    );
    assert_eq!(
        changes(
            USERS,
            "ALTER TABLE users ENABLE ROW LEVEL SECURITY;
             CREATE POLICY own ON users FOR SELECT USING (email = current_user)",
        ),
        (
            vec!["table public.users".to_owned()],
            vec![
                "policy public.users own permissive for select to public using ((email = CURRENT_USER))"
                    .to_owned(),
                "table public.users row level security".to_owned(),
            ]
        )
    );
}

#[test]
fn schema_sees_extensions_but_not_the_objects_they_hold() {
    let (_db, mut client) = database(Driver::Sync);
    let available: bool = client
        .query_one(
            "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'citext')",
            &[],
        )
        .unwrap()
        .get(0);
    let before = snapshot(&mut client);
    client.batch_execute("DROP EXTENSION plpgsql").unwrap();
    assert_eq!(
        snapshot(&mut client).diff(&before).1,
        ["extension plpgsql 1.0 in schema pg_catalog"]
    );
    if available {
        let before = snapshot(&mut client);
        client.batch_execute("CREATE EXTENSION citext").unwrap();
        let after = snapshot(&mut client);
        let (_, added) = before.diff(&after);
        assert_eq!(added.len(), 1, "{added:?}");
        assert!(added[0].starts_with("extension citext "), "{added:?}");
    }
}

#[test]
fn schema_ignores_the_tracking_table_temporary_tables_and_data() {
    let (_db, mut client) = database(Driver::Sync);
    let empty = snapshot(&mut client);
    client.run(BASE.runner()).unwrap();
    let migrated = snapshot(&mut client);
    // Neither the tracking table nor the digest table, its trigger and
    // the trigger's function.
    assert!(
        migrated.lines().all(|l| !l.contains("stowage_")),
        "{migrated}"
    );
    assert_eq!(
        empty
            .diff(&migrated)
            .1
            .iter()
            .filter(|l| l.starts_with("table "))
            .count(),
        3,
        "only the tables a, b and c are new"
    );
    client
        .batch_execute(
            "CREATE TEMP TABLE scratch (id int);
             CREATE TABLE counted (id bigint GENERATED ALWAYS AS IDENTITY, n int);",
        )
        .unwrap();
    let before = snapshot(&mut client);
    client
        .batch_execute("INSERT INTO counted (n) SELECT generate_series(1, 10)")
        .unwrap();
    assert_eq!(
        snapshot(&mut client),
        before,
        "rows and sequence values are not schema"
    );
}

#[test]
fn a_tracking_table_elsewhere_is_an_ordinary_table() {
    let (removed, added) = changes(
        "CREATE SCHEMA ops",
        "CREATE TABLE ops.stowage_migrations (version bigint)",
    );
    assert!(removed.is_empty());
    assert_eq!(
        added,
        [
            "column ops.stowage_migrations.version bigint",
            "table ops.stowage_migrations"
        ]
    );
}

#[test]
fn schema_does_not_depend_on_search_path_and_leaves_it_as_it_was() {
    let (_db, mut client) = database(Driver::Sync);
    client
        .batch_execute(
            "CREATE SCHEMA other;
             CREATE TYPE other.mood AS ENUM ('ok');
             CREATE TABLE other.t (m other.mood DEFAULT 'ok')",
        )
        .unwrap();
    let plain = snapshot(&mut client);
    assert!(
        plain.contains("column other.t.m other.mood default 'ok'::other.mood"),
        "{plain}"
    );
    client
        .batch_execute("SET search_path = public, other")
        .unwrap();
    assert_eq!(snapshot(&mut client), plain);
    let path: String = client
        .query_one("SELECT current_setting('search_path')", &[])
        .unwrap()
        .get(0);
    assert_eq!(path, "public, other");
}

#[test]
fn two_databases_built_alike_have_equal_schemas() {
    let (_a, mut one) = database(Driver::Sync);
    let (_b, mut two) = database(Driver::Sync);
    one.run(EXAMPLE.runner()).unwrap();
    two.run(EXAMPLE.runner()).unwrap();
    one.batch_execute("INSERT INTO accounts (name) VALUES ('acme'), ('globex')")
        .unwrap();
    let first = snapshot(&mut one);
    assert_eq!(first, snapshot(&mut two));
    assert!(
        first.contains("enum public.order_status ('pending', 'paid', 'shipped', 'cancelled')"),
        "{first}"
    );
    assert!(first.contains("column public.users.last_login_at timestamp with time zone"));
}

// --- from an async test ---------------------------------------------------

#[test]
fn the_test_server_and_its_databases_work_from_an_async_test() {
    let name = runtime().block_on(async {
        let server = TestServer::shared().unwrap_or_else(|e| panic!("no test server: {e}"));
        let db = server.create_database().unwrap_or_else(|e| panic!("{e}"));
        let name = db.name().to_owned();
        let mut client = db.connect_async().await.unwrap_or_else(|e| panic!("{e}"));
        let report = BASE.run_async(&mut client).await.unwrap();
        assert_eq!(
            report
                .applied()
                .iter()
                .map(|a| a.version())
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert!(BASE
            .runner()
            .run_async(&mut client)
            .await
            .unwrap()
            .is_empty());
        let tables: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' \
                 AND tablename IN ('a', 'b', 'c')",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(tables, 3);
        // Dropped on the runtime, the connection still open.
        drop(db);
        drop(client);
        name
    });
    // The database is gone.
    let server = TestServer::shared().unwrap_or_else(|e| panic!("{e}"));
    let mut admin = server.config().connect(postgres::NoTls).unwrap();
    let left: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "database {name} was not dropped");
}
