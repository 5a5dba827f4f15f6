//! The test helpers of the `testing` feature: checking a set of migrations
//! and its down scripts in one line, and the schema snapshots it compares.

mod common;

use common::{database, runtime, Conn, Driver};
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
static EVERY_KIND_FILE: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/every_kind");
static GRANTS: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/grants", grants = true);

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
fn a_schema_file_with_every_kind_of_object_is_written_alike_by_every_server() {
    // The same bytes on PostgreSQL 13 to 18: CI runs this on each.
    assert_migrations(&EVERY_KIND_FILE);
    let file = EVERY_KIND_FILE.expected_schema().unwrap_or_default();
    for statement in [
        "\nCREATE COLLATION bytes (provider = libc, locale = 'C');\n",
        "\nCREATE TEXT SEARCH DICTIONARY english_simple (TEMPLATE = simple, stopwords = 'english');\n",
        "\nCREATE TEXT SEARCH CONFIGURATION english_plain (PARSER = \"default\");\n\
         ALTER TEXT SEARCH CONFIGURATION english_plain ADD MAPPING FOR asciiword WITH english_simple;\n",
        "\nCOMMENT ON COLLATION bytes IS 'compares bytes';\n",
    ] {
        assert!(file.contains(statement), "{statement}\n{file}");
    }
    // A constraint trigger is written once, as the trigger it is.
    assert!(
        file.contains(
            "\nCREATE CONSTRAINT TRIGGER bookings_checked AFTER INSERT OR UPDATE ON bookings "
        ),
        "{file}"
    );
    assert!(!file.contains("ADD CONSTRAINT bookings_checked"), "{file}");
}

#[test]
fn the_schema_file_holds_grants_when_asked() {
    assert_migrations(&GRANTS);
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/grants/schema.sql"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    // What every role may do, the defaults included; nothing of what
    // was revoked, or of what the owner holds.
    assert!(
        file.ends_with(
            "\nGRANT EXECUTE ON FUNCTION open_to_all() TO PUBLIC;\n\
             GRANT SELECT, UPDATE (note) ON TABLE shared TO PUBLIC;\n\
             GRANT USAGE ON TYPE mood TO PUBLIC;\n"
        ),
        "{file}"
    );
    assert!(
        file.contains("\nCOMMENT ON TABLE shared IS 'readable by every role';\n"),
        "{file}"
    );
    let example = EXAMPLE.expected_schema().unwrap_or_default();
    assert!(example.contains(", and so are grants.\n"), "{example}");
    assert!(!example.contains("\nGRANT "), "{example}");
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
        "+ index public.users_created_at_idx: CREATE INDEX users_created_at_idx ON users \
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

fn added(setup: &str, change: &str) -> Vec<String> {
    let (removed, added) = changes(setup, change);
    assert!(removed.is_empty(), "{change} removed {removed:?}");
    added
}

const USERS: &str = "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL)";

#[test]
fn a_fresh_database_holds_nothing() {
    let (_db, mut client) = database(Driver::Sync);
    assert!(snapshot(&mut client).is_empty());
}

// The same lines on PostgreSQL 13 to 18: from 17 a domain's `NOT NULL`, and
// from 18 a column's, is a constraint of its own in the catalog, which the
// snapshot reads as the column's (or the domain's) `NOT NULL`.

#[test]
fn schema_sees_a_table_and_its_columns() {
    assert_eq!(
        added(
            "",
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY, name varchar(20) COLLATE \"C\", \
             n int DEFAULT 3 NOT NULL, twice int GENERATED ALWAYS AS (n * 2) STORED, \
             s serial, b bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 2))"
        ),
        [
            "column public.t.b bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 2)",
            "column public.t.id bigint NOT NULL GENERATED ALWAYS AS IDENTITY",
            "column public.t.n integer NOT NULL DEFAULT 3",
            "column public.t.name character varying(20) COLLATE \"C\"",
            "column public.t.s integer NOT NULL DEFAULT nextval('t_s_seq'::regclass)",
            "column public.t.twice integer GENERATED ALWAYS AS ((n * 2)) STORED",
            "sequence public.t_s_seq: AS integer (owner column t.s)",
            "table public.t",
        ]
    );
}

#[test]
fn schema_sees_a_new_column() {
    assert_eq!(
        added(
            USERS,
            "ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'active'"
        ),
        ["column public.users.status text NOT NULL DEFAULT 'active'::text"]
    );
}

#[test]
fn schema_sees_a_changed_default() {
    assert_eq!(
        changes(USERS, "ALTER TABLE users ALTER COLUMN email SET DEFAULT ''"),
        (
            vec!["column public.users.email text NOT NULL".to_owned()],
            vec!["column public.users.email text NOT NULL DEFAULT ''::text".to_owned()]
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
        ["index public.users_email_idx: CREATE INDEX users_email_idx ON users USING btree (lower(email))"]
    );
}

#[test]
fn schema_sees_a_constraint() {
    assert_eq!(
        added(
            USERS,
            "ALTER TABLE users ADD CONSTRAINT email_has_at CHECK (email LIKE '%@%')"
        ),
        ["constraint email_has_at on public.users: CHECK ((email ~~ '%@%'::text))"]
    );
}

#[test]
fn schema_sees_a_view_and_a_materialized_view() {
    // Read as PostgreSQL 16 and newer print them, which leave out the table
    // name where one table is read, on every version.
    assert_eq!(
        added(USERS, "CREATE VIEW emails AS SELECT email FROM users"),
        ["view public.emails: SELECT email FROM users"]
    );
    assert_eq!(
        added(
            USERS,
            "CREATE MATERIALIZED VIEW user_count AS SELECT count(*) AS n FROM users"
        ),
        ["materialized view public.user_count: SELECT count(*) AS n FROM users"]
    );
}

#[test]
fn schema_sees_a_function_and_a_procedure() {
    assert_eq!(
        added(
            "",
            "CREATE FUNCTION add(a int, b int DEFAULT 2) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$"
        ),
        [
            "function public.add(a integer, b integer): CREATE OR REPLACE FUNCTION add(a integer, b integer DEFAULT 2) \
             RETURNS integer LANGUAGE sql IMMUTABLE AS $function$ SELECT a + b $function$"
        ]
    );
    let added = added(
        USERS,
        "CREATE PROCEDURE wipe() LANGUAGE sql AS $$ DELETE FROM users $$",
    );
    assert_eq!(added.len(), 1, "{added:?}");
    assert!(
        added[0].starts_with("procedure public.wipe(): CREATE OR REPLACE PROCEDURE wipe()"),
        "{added:?}"
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
            "trigger users_noop on public.users: CREATE TRIGGER users_noop BEFORE UPDATE ON users \
          FOR EACH ROW EXECUTE FUNCTION noop()"
        ]
    );
    assert_eq!(
        changes(
            &format!("{setup}; CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION noop()"),
            "ALTER TABLE users DISABLE TRIGGER t"
        )
        .1,
        ["trigger t on public.users: CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW \
          EXECUTE FUNCTION noop() (state DISABLE)"]
    );
}

#[test]
fn schema_sees_types() {
    assert_eq!(
        added("", "CREATE TYPE mood AS ENUM ('sad', 'ok')"),
        ["enum type public.mood: 'sad', 'ok'"]
    );
    assert_eq!(
        changes(
            "CREATE TYPE mood AS ENUM ('sad', 'ok')",
            "ALTER TYPE mood ADD VALUE 'happy' BEFORE 'ok'"
        ),
        (
            vec!["enum type public.mood: 'sad', 'ok'".to_owned()],
            vec!["enum type public.mood: 'sad', 'happy', 'ok'".to_owned()]
        )
    );
    assert_eq!(
        added(
            "",
            "CREATE DOMAIN email AS text NOT NULL DEFAULT '' CHECK (VALUE LIKE '%@%')"
        ),
        [
            "constraint email_check on public.email: CHECK ((VALUE ~~ '%@%'::text))",
            "domain public.email: text NOT NULL DEFAULT ''::text",
        ]
    );
    assert_eq!(
        added("", "CREATE TYPE point2 AS (x float8, y float8)"),
        ["composite type public.point2: x double precision, y double precision"]
    );
    assert_eq!(
        added("", "CREATE TYPE floatrange AS RANGE (subtype = float8)"),
        ["range type public.floatrange: SUBTYPE = double precision"]
    );
}

#[test]
fn schema_sees_schemas_sequences_partitions_and_policies() {
    assert_eq!(added("", "CREATE SCHEMA app"), ["schema app"]);
    assert_eq!(
        added("", "CREATE SEQUENCE ticket_seq INCREMENT 10 CYCLE"),
        ["sequence public.ticket_seq: INCREMENT BY 10 CYCLE"]
    );
    assert_eq!(
        added(
            "",
            "CREATE TABLE events (at date NOT NULL) PARTITION BY RANGE (at);
             CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        ),
        [
            "column public.events.at date NOT NULL",
            "table public.events (partitioning PARTITION BY RANGE (at))",
            "table public.events_2024 (partitioning PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01'))",
        ]
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
                "policy own on public.users: AS PERMISSIVE FOR SELECT TO public USING ((email = CURRENT_USER))"
                    .to_owned(),
                "table public.users (row-level security ENABLE)".to_owned(),
            ]
        )
    );
    // What logical replication logs of a row, when it is not the default.
    for (change, identity) in [
        ("ALTER TABLE users REPLICA IDENTITY FULL", "FULL"),
        ("ALTER TABLE users REPLICA IDENTITY NOTHING", "NOTHING"),
        (
            "CREATE UNIQUE INDEX users_email_key ON users (email);
             ALTER TABLE users REPLICA IDENTITY USING INDEX users_email_key",
            "USING INDEX users_email_key",
        ),
    ] {
        let (removed, added) = changes(USERS, change);
        assert_eq!(removed, ["table public.users"], "{change}");
        assert!(
            added.contains(&format!("table public.users (replica identity {identity})")),
            "{change}: {added:?}"
        );
    }
    assert_eq!(
        added(
            USERS,
            "CREATE SCHEMA other;
             CREATE STATISTICS users_deps (dependencies) ON id, email FROM users;
             CREATE STATISTICS other.users_n ON id, email FROM users"
        ),
        [
            "schema other",
            "statistics other.users_n: CREATE STATISTICS other.users_n ON id, email FROM users",
            "statistics public.users_deps: CREATE STATISTICS users_deps (dependencies) ON id, email FROM users",
        ]
    );
    assert_eq!(
        added(
            "",
            "CREATE SCHEMA other;
             CREATE COLLATION bytes (locale = 'C');
             CREATE COLLATION other.split (lc_collate = 'C', lc_ctype = 'POSIX');
             CREATE TABLE t (a text COLLATE bytes, b text COLLATE other.split)"
        ),
        [
            "collation other.split: provider = libc, lc_collate = 'C', lc_ctype = 'POSIX'",
            "collation public.bytes: provider = libc, locale = 'C'",
            "column public.t.a text COLLATE bytes",
            "column public.t.b text COLLATE other.split",
            "schema other",
            "table public.t",
        ]
    );
    // ICU collations, where the server was built with ICU.
    let (_db, mut client) = database(Driver::Sync);
    let icu: bool = client
        .query_one(
            "SELECT EXISTS (SELECT FROM pg_collation WHERE collprovider = 'i')",
            &[],
        )
        .unwrap()
        .get(0);
    if icu {
        let before = snapshot(&mut client);
        client
            .batch_execute(
                "CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', \
                 deterministic = false)",
            )
            .unwrap();
        assert_eq!(
            before.diff(&snapshot(&mut client)).1,
            ["collation public.nocase: provider = icu, locale = 'und-u-ks-level2', deterministic = false"]
        );
    }
    assert_eq!(
        added(
            "CREATE SCHEMA other",
            "CREATE TEXT SEARCH DICTIONARY other.english_simple (TEMPLATE = simple, STOPWORDS = english);
             CREATE TEXT SEARCH CONFIGURATION plain (PARSER = default);
             ALTER TEXT SEARCH CONFIGURATION plain
                 ADD MAPPING FOR asciiword, word WITH other.english_simple, english_stem;
             ALTER TEXT SEARCH CONFIGURATION plain ADD MAPPING FOR int WITH simple"
        ),
        [
            "text search configuration public.plain: PARSER = \"default\" (mapping asciiword WITH \
             other.english_simple, english_stem; word WITH other.english_simple, english_stem; int WITH simple)",
            "text search dictionary other.english_simple: TEMPLATE = simple, stopwords = 'english'",
        ]
    );
    assert_eq!(
        added(
            USERS,
            "CREATE RULE keep AS ON DELETE TO users DO INSTEAD NOTHING;
             ALTER TABLE users DISABLE RULE keep"
        ),
        ["rule keep on public.users: CREATE RULE keep AS ON DELETE TO users DO INSTEAD NOTHING (state DISABLE)"]
    );
    assert!(
        changes(USERS, "ALTER TABLE users REPLICA IDENTITY DEFAULT")
            .1
            .is_empty(),
        "the default is not written"
    );
}

#[test]
fn schema_sees_extensions_and_comments_but_not_the_objects_extensions_hold() {
    let (_db, mut client) = database(Driver::Sync);
    let available: bool = client
        .query_one(
            "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'citext')",
            &[],
        )
        .unwrap()
        .get(0);
    if available {
        let before = snapshot(&mut client);
        client.batch_execute("CREATE EXTENSION citext").unwrap();
        let after = snapshot(&mut client);
        assert_eq!(before.diff(&after).1, ["extension citext"]);
    }
    assert_eq!(
        added(
            USERS,
            "COMMENT ON TABLE users IS 'people'; COMMENT ON COLUMN users.email IS 'where to write'"
        ),
        [
            "comment on COLUMN users.email (text 'where to write')",
            "comment on TABLE users (text 'people')",
        ]
    );
}

#[test]
fn schema_sees_a_comment_on_every_kind_of_object() {
    let setup = "CREATE SCHEMA other;
        CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL CONSTRAINT email_set CHECK (email <> ''));
        CREATE INDEX users_email_idx ON users (email);
        CREATE VIEW people AS SELECT id FROM users;
        CREATE MATERIALIZED VIEW counted AS SELECT count(*) FROM users;
        CREATE SEQUENCE numbers;
        CREATE TYPE pair AS (a int, b int);
        CREATE TYPE mood AS ENUM ('ok');
        CREATE DOMAIN positive AS int CONSTRAINT above_zero CHECK (VALUE > 0);
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
        CREATE PROCEDURE tidy() LANGUAGE sql AS 'SELECT 1';
        CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
        CREATE POLICY own ON users USING (true);
        CREATE RULE keep AS ON DELETE TO users DO INSTEAD NOTHING;
        CREATE STATISTICS users_stats ON id, email FROM users;
        CREATE COLLATION bytes (locale = 'C');
        CREATE TEXT SEARCH DICTIONARY english_simple (TEMPLATE = simple);
        CREATE TEXT SEARCH CONFIGURATION plain (PARSER = default);
        CREATE TABLE other.notes (id int)";
    let comments = "COMMENT ON SCHEMA other IS 'elsewhere';
        COMMENT ON TABLE users IS 't';
        COMMENT ON COLUMN users.email IS 'c';
        COMMENT ON CONSTRAINT email_set ON users IS 'k';
        COMMENT ON INDEX users_email_idx IS 'i';
        COMMENT ON VIEW people IS 'v';
        COMMENT ON COLUMN people.id IS 'vc';
        COMMENT ON MATERIALIZED VIEW counted IS 'm';
        COMMENT ON SEQUENCE numbers IS 's';
        COMMENT ON TYPE pair IS 'p';
        COMMENT ON COLUMN pair.a IS 'pa';
        COMMENT ON TYPE mood IS 'e';
        COMMENT ON DOMAIN positive IS 'd';
        COMMENT ON CONSTRAINT above_zero ON DOMAIN positive IS 'dk';
        COMMENT ON FUNCTION touch() IS 'f';
        COMMENT ON PROCEDURE tidy() IS 'pr';
        COMMENT ON TRIGGER users_touch ON users IS 'tr';
        COMMENT ON POLICY own ON users IS 'po';
        COMMENT ON RULE keep ON users IS 'r';
        COMMENT ON STATISTICS users_stats IS 'st';
        COMMENT ON COLLATION bytes IS 'co';
        COMMENT ON TEXT SEARCH DICTIONARY english_simple IS 'td';
        COMMENT ON TEXT SEARCH CONFIGURATION plain IS 'tc';
        COMMENT ON TABLE other.notes IS 'n'";
    let added = added(setup, comments);
    assert_eq!(
        added,
        [
            "comment on COLLATION bytes (text 'co')",
            "comment on COLUMN pair.a (text 'pa')",
            "comment on COLUMN people.id (text 'vc')",
            "comment on COLUMN users.email (text 'c')",
            "comment on CONSTRAINT above_zero ON DOMAIN positive (text 'dk')",
            "comment on CONSTRAINT email_set ON users (text 'k')",
            "comment on DOMAIN positive (text 'd')",
            "comment on FUNCTION touch() (text 'f')",
            "comment on INDEX users_email_idx (text 'i')",
            "comment on MATERIALIZED VIEW counted (text 'm')",
            "comment on POLICY own ON users (text 'po')",
            "comment on PROCEDURE tidy() (text 'pr')",
            "comment on RULE keep ON users (text 'r')",
            "comment on SCHEMA other (text 'elsewhere')",
            "comment on SEQUENCE numbers (text 's')",
            "comment on STATISTICS users_stats (text 'st')",
            "comment on TABLE other.notes (text 'n')",
            "comment on TABLE users (text 't')",
            "comment on TEXT SEARCH CONFIGURATION plain (text 'tc')",
            "comment on TEXT SEARCH DICTIONARY english_simple (text 'td')",
            "comment on TRIGGER users_touch ON users (text 'tr')",
            "comment on TYPE mood (text 'e')",
            "comment on TYPE pair (text 'p')",
            "comment on VIEW people (text 'v')",
        ]
    );
    // Dropping a column takes its comment with it; the table's stays.
    let (removed, _) = changes(
        &format!("{setup}; {comments}"),
        "ALTER TABLE users DROP COLUMN email CASCADE",
    );
    assert!(
        removed.contains(&"comment on COLUMN users.email (text 'c')".to_owned()),
        "{removed:?}"
    );
    assert!(
        !removed.contains(&"comment on TABLE users (text 't')".to_owned()),
        "{removed:?}"
    );
}

/// A schema with one of each kind of object, for changes to be made to.
const EVERY_KIND: &str = "
    CREATE TYPE mood AS ENUM ('ok', 'bad');
    CREATE TYPE pair AS (a int, b int);
    CREATE TYPE label AS (t text);
    CREATE TYPE span AS RANGE (subtype = int4);
    CREATE DOMAIN positive AS int CONSTRAINT above_zero CHECK (VALUE > 0);
    CREATE SEQUENCE numbers;
    CREATE TABLE users (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        email text NOT NULL UNIQUE, name varchar(20) DEFAULT '', m mood, n numeric(10,2),
        created timestamptz DEFAULT now());
    CREATE TABLE orders (id serial PRIMARY KEY, user_id bigint REFERENCES users (id) ON DELETE CASCADE,
        total int CHECK (total >= 0), note text);
    CREATE INDEX orders_user_idx ON orders (user_id);
    CREATE VIEW people AS SELECT id, email FROM users;
    CREATE MATERIALIZED VIEW counted AS SELECT count(*) AS c FROM users;
    CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
    CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
    CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
    CREATE POLICY own ON users USING (true);
    ALTER TABLE users ENABLE ROW LEVEL SECURITY;
    CREATE TABLE events (at date NOT NULL) PARTITION BY RANGE (at);
    CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE COLLATION bytes (provider = libc, locale = 'C');
    CREATE TEXT SEARCH DICTIONARY english_simple (TEMPLATE = simple, STOPWORDS = english);
    CREATE TEXT SEARCH CONFIGURATION english_plain (COPY = english);
    ALTER TEXT SEARCH CONFIGURATION english_plain ALTER MAPPING FOR asciiword WITH english_simple";

#[test]
fn schema_sees_every_change_made_by_hand() {
    // Each change is made in a transaction that is rolled back, and must
    // change what the schema reads. Left out on purpose, as physical
    // settings that do not change what the schema means: a column's
    // storage, compression and statistics target, and the index a table
    // is clustered on.
    let changes = [
        "ALTER TYPE mood ADD VALUE 'meh'",
        "ALTER TYPE mood RENAME VALUE 'bad' TO 'sad'",
        "ALTER TYPE pair ADD ATTRIBUTE c int",
        "ALTER TYPE pair ADD ATTRIBUTE t text COLLATE \"C\"",
        "ALTER TYPE label ALTER ATTRIBUTE t TYPE text COLLATE \"POSIX\"",
        "ALTER TYPE span RENAME TO span2",
        "ALTER DOMAIN positive SET DEFAULT 1",
        "ALTER DOMAIN positive SET NOT NULL",
        "ALTER SEQUENCE numbers INCREMENT BY 2",
        "ALTER SEQUENCE numbers OWNED BY orders.note",
        "ALTER TABLE users ALTER COLUMN id SET INCREMENT BY 5",
        "ALTER TABLE users ALTER COLUMN id SET GENERATED ALWAYS",
        "ALTER TABLE users ALTER COLUMN name TYPE varchar(30)",
        "ALTER TABLE users ALTER COLUMN name SET DEFAULT 'x'",
        "ALTER TABLE users ALTER COLUMN name DROP DEFAULT",
        "ALTER TABLE users ALTER COLUMN name SET NOT NULL",
        "ALTER TABLE users ALTER COLUMN n TYPE numeric(12,2)",
        "ALTER TABLE users ALTER COLUMN name TYPE varchar(20) COLLATE \"C\"",
        "ALTER TABLE users ALTER COLUMN created SET DEFAULT clock_timestamp()",
        "ALTER TABLE users RENAME COLUMN name TO full_name",
        "ALTER TABLE users ADD COLUMN extra int",
        "ALTER TABLE users ADD COLUMN twice bigint GENERATED ALWAYS AS (id * 2) STORED",
        "ALTER TABLE users DROP COLUMN n",
        "ALTER TABLE users SET (fillfactor = 70)",
        "ALTER TABLE users FORCE ROW LEVEL SECURITY",
        "ALTER TABLE users DISABLE TRIGGER users_touch",
        "ALTER TABLE users REPLICA IDENTITY FULL",
        "ALTER TABLE users RENAME TO members",
        "ALTER TABLE users ADD CONSTRAINT users_email_excl EXCLUDE USING btree (email WITH =)",
        "ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey, \
         ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)",
        "ALTER TABLE orders DROP CONSTRAINT orders_total_check, \
         ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID",
        "ALTER TABLE orders ALTER CONSTRAINT orders_user_id_fkey DEFERRABLE",
        "CREATE TABLE orders_child () INHERITS (orders)",
        "ALTER INDEX orders_user_idx SET (fillfactor = 50)",
        "ALTER INDEX orders_user_idx RENAME TO orders_by_user",
        "DROP INDEX orders_user_idx; CREATE INDEX orders_user_idx ON orders (user_id DESC)",
        "CREATE UNIQUE INDEX users_lower_email ON users (lower(email)) WHERE email <> ''",
        "CREATE STATISTICS orders_stats ON user_id, total FROM orders",
        "CREATE RULE keep AS ON DELETE TO orders DO INSTEAD NOTHING",
        "CREATE RULE log AS ON UPDATE TO people DO INSTEAD \
         (UPDATE users SET email = new.email WHERE id = old.id; DELETE FROM orders WHERE false)",
        "CREATE OR REPLACE VIEW people AS SELECT id, email, name FROM users",
        "ALTER VIEW people SET (security_barrier = true)",
        "DROP MATERIALIZED VIEW counted; \
         CREATE MATERIALIZED VIEW counted AS SELECT count(*) AS c FROM orders",
        "CREATE INDEX counted_c ON counted (c)",
        "CREATE OR REPLACE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE \
         AS 'SELECT a + b + 0'",
        "ALTER FUNCTION add(int, int) STABLE",
        "ALTER FUNCTION add(int, int) SECURITY DEFINER",
        "ALTER FUNCTION add(int, int) SET search_path = public",
        "ALTER FUNCTION add(int, int) COST 5",
        "ALTER FUNCTION add(int, int) RENAME TO plus",
        "CREATE PROCEDURE tidy() LANGUAGE sql AS 'SELECT 1'",
        "CREATE AGGREGATE mysum(int) (SFUNC = int4pl, STYPE = int)",
        "DROP TRIGGER users_touch ON users; \
         CREATE TRIGGER users_touch BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION touch()",
        "ALTER POLICY own ON users USING (false)",
        "ALTER POLICY own ON users RENAME TO mine",
        "ALTER TABLE events DETACH PARTITION events_2024",
        "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "ALTER TABLE events_2024 ADD CONSTRAINT at_check CHECK (at > '2000-01-01')",
        "CREATE INDEX events_at ON events (at)",
        "CREATE SCHEMA other",
        "CREATE TYPE pair2 AS (a int)",
        "COMMENT ON COLUMN people.email IS 'x'",
        "COMMENT ON MATERIALIZED VIEW counted IS 'x'",
        "COMMENT ON DOMAIN positive IS 'x'",
        "COMMENT ON SEQUENCE numbers IS 'x'",
        "COMMENT ON TYPE span IS 'x'",
        "COMMENT ON TYPE pair IS 'x'",
        "COMMENT ON FUNCTION add(int, int) IS 'x'",
        "COMMENT ON POLICY own ON users IS 'x'",
        "DROP COLLATION bytes; CREATE COLLATION bytes (provider = libc, locale = 'POSIX')",
        "ALTER COLLATION bytes RENAME TO raw",
        "ALTER TEXT SEARCH DICTIONARY english_simple (STOPWORDS = russian)",
        "ALTER TEXT SEARCH DICTIONARY english_simple (Accept = false)",
        "ALTER TEXT SEARCH CONFIGURATION english_plain ALTER MAPPING FOR word WITH simple",
        "ALTER TEXT SEARCH CONFIGURATION english_plain ALTER MAPPING REPLACE english_stem WITH simple",
        "ALTER TEXT SEARCH CONFIGURATION english_plain DROP MAPPING FOR email",
        "ALTER TEXT SEARCH CONFIGURATION english_plain RENAME TO english_other",
        "CREATE TEXT SEARCH CONFIGURATION plain (PARSER = default)",
        "COMMENT ON COLLATION bytes IS 'x'",
        "COMMENT ON TEXT SEARCH CONFIGURATION english_plain IS 'x'",
    ];
    let (_db, mut client) = database(Driver::Sync);
    client.batch_execute(EVERY_KIND).unwrap();
    let before = snapshot(&mut client);
    let mut unseen = Vec::new();
    for change in changes {
        client
            .batch_execute(&format!("BEGIN; {change}"))
            .unwrap_or_else(|e| panic!("{change}: {e}"));
        let after = snapshot(&mut client);
        client.batch_execute("ROLLBACK").unwrap();
        if after == before {
            unseen.push(change);
        }
    }
    assert!(
        unseen.is_empty(),
        "changes the schema did not show: {unseen:#?}"
    );
    assert_eq!(
        snapshot(&mut client),
        before,
        "every change was rolled back"
    );
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
fn schema_names_the_current_schema_whatever_the_search_path_and_leaves_it_as_it_was() {
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
        plain.contains("column other.t.m other.mood DEFAULT 'ok'::other.mood"),
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
    // With `other` the current schema, its objects are named without it.
    client
        .batch_execute("SET search_path = other, public")
        .unwrap();
    let from_other = snapshot(&mut client);
    assert!(
        from_other.contains("column other.t.m mood DEFAULT 'ok'::mood"),
        "{from_other}"
    );
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
        first.contains("enum type public.order_status: 'pending', 'paid', 'shipped', 'cancelled'"),
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
