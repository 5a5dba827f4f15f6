//! Adopting the history of sqlx, diesel, refinery, goose, golang-migrate,
//! dbmate and Flyway: for each, a folder in its layout and its tracking
//! table as that tool writes it (its own `CREATE TABLE` and rows, its
//! checksums computed here independently of stowage); then adopt, `status`
//! shows what the tool applied as applied, `run` applies only what is new,
//! and a second adoption changes nothing.

mod common;

use common::{database, Conn, Driver};
use std::hash::{Hash, Hasher};
use stowage::{Adopt, Error, Migrations, Outcome, Refusal, State};

static SQLX: Migrations = stowage::embed_migrations!("tests/fixtures/adopt/sqlx", layout = "sqlx");
static DIESEL: Migrations =
    stowage::embed_migrations!("tests/fixtures/adopt/diesel", layout = "diesel");
static REFINERY: Migrations =
    stowage::embed_migrations!("tests/fixtures/adopt/refinery", layout = "refinery");
static GOOSE: Migrations = stowage::embed_migrations!(
    "tests/fixtures/adopt/goose",
    layout = "goose",
    elsewhere = [4]
);
static GOLANG_MIGRATE: Migrations = stowage::embed_migrations!(
    "tests/fixtures/adopt/golang_migrate",
    layout = "golang-migrate"
);
static DBMATE: Migrations =
    stowage::embed_migrations!("tests/fixtures/adopt/dbmate", layout = "dbmate");
static FLYWAY: Migrations =
    stowage::embed_migrations!("tests/fixtures/adopt/flyway", layout = "flyway");

/// What the tools' first migrations did to the schema.
const SCHEMA: &str =
    "CREATE TABLE users (id bigint PRIMARY KEY); ALTER TABLE users ADD COLUMN email text;";

fn file(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/adopt/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Adopts `from` over a database the tool migrated with `tool_table`,
/// and checks what follows: `applied` adopted, `pending` left to run.
fn adopt_and_run(
    driver: Driver,
    migrations: Migrations,
    tool: &str,
    tool_table: &str,
    applied: &[i64],
    pending: &[i64],
) -> (stowage::testing::TestDatabase<'static>, Conn) {
    let (db, mut client) = database(driver);
    client.batch_execute(SCHEMA).expect("schema");
    client.batch_execute(tool_table).expect("the tool's table");
    let runner = migrations.runner();

    let dry = client
        .adopt(runner.clone(), Adopt::from(tool).dry_run(true))
        .expect("dry run");
    assert_eq!(dry.adopted(), applied, "{dry}");
    assert!(dry.to_string().starts_with("dry run"), "{dry}");
    assert!(
        client
            .query("SELECT 1 FROM stowage_migrations", &[])
            .is_err(),
        "a dry run creates nothing"
    );

    let adoption = client
        .adopt(runner.clone(), Adopt::from(tool))
        .expect("adopt");
    assert_eq!(adoption.adopted(), applied, "{adoption}");
    assert!(adoption.note().contains(tool), "{}", adoption.note());
    let status = client.status(runner.clone()).expect("status");
    for e in status.entries() {
        if applied.contains(&e.version()) {
            assert_eq!(*e.state(), State::Applied, "{status}");
            assert!(e.note().unwrap_or_default().contains(tool), "{status}");
        } else if pending.contains(&e.version()) {
            assert!(
                matches!(e.state(), State::Pending | State::OutOfOrder),
                "{status}"
            );
        }
    }
    let again = client
        .adopt(runner.clone(), Adopt::from(tool))
        .expect("adopt again");
    assert!(
        again.adopted().is_empty(),
        "a second adoption changes nothing: {again}"
    );
    assert!(again
        .entries()
        .iter()
        .all(|e| e.outcome() != Outcome::Adopted));

    let report = client
        .run(runner.clone().allow_out_of_order(true))
        .expect("run");
    let ran: Vec<i64> = report.applied().iter().map(|a| a.version()).collect();
    assert_eq!(ran, pending);
    assert!(client.run(runner.clone()).expect("run again").is_empty());
    (db, client)
}

fn sqlx(driver: Driver) {
    let checksum = |path: &str| format!("sha384(decode('{}', 'hex'))", hex(&file(path)));
    let table = format!(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
);
INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
    VALUES (1, 'create users', TRUE, {}, 1500000);
INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
    VALUES (2, 'add email', TRUE, {}, -1);",
        checksum("sqlx/1_create_users.sql"),
        checksum("sqlx/2_add_email.up.sql"),
    );
    let (_db, mut client) = adopt_and_run(driver, SQLX, "sqlx", &table, &[1, 2], &[3]);
    let ms: i64 = client
        .query_one(
            "SELECT execution_ms FROM stowage_migrations WHERE version = 1",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(ms, 1, "sqlx's nanoseconds are kept as milliseconds");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sqlx_refuses_an_edited_file_and_a_failed_history(driver: Driver) {
    let (_db, mut client) = database(driver);
    client
        .batch_execute(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, \
             checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL);
             INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                 VALUES (1, 'create users', TRUE, sha384('something else'), 1),
                        (2, 'add email', FALSE, sha384('x'), 1),
                        (7, 'gone', TRUE, sha384('y'), 1);",
        )
        .unwrap();
    let Err(Error::Refused(Refusal::Adopt { problems, .. })) =
        client.adopt(SQLX.runner(), Adopt::from("sqlx"))
    else {
        panic!("refused");
    };
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].contains("checksum"), "{problems:#?}");
    assert!(problems[1].contains("failed"), "{problems:#?}");
    assert!(problems[2].contains("does not have"), "{problems:#?}");
    assert!(
        !common::table_exists(&mut client, "public.stowage_migrations"),
        "a refused adoption creates nothing"
    );
}

fn diesel(driver: Driver) {
    let table = "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
       version VARCHAR(50) PRIMARY KEY NOT NULL,
       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO __diesel_schema_migrations (version, run_on) VALUES
    ('20170831230457', '2017-08-31 23:10:00'), ('20170901000000', '2017-09-01 00:05:00');";
    let (_db, mut client) = adopt_and_run(
        driver,
        DIESEL,
        "diesel",
        table,
        &[20170831230457, 20170901000000],
        &[20170902000000],
    );
    let at: String = client
        .query_one(
            "SELECT to_char(applied_at AT TIME ZONE current_setting('TimeZone'), 'YYYY-MM-DD HH24:MI') \
             FROM stowage_migrations WHERE version = 20170831230457",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        at, "2017-08-31 23:10",
        "diesel's time, read in the server's TimeZone"
    );
    assert!(
        DIESEL.get(20170901000000).unwrap().down().is_none(),
        "an empty down.sql is no down script"
    );
    assert!(!DIESEL.get(20170902000000).unwrap().up().is_transactional());
}

fn refinery_checksum(name: &str, version: i32, sql: &str) -> u64 {
    let mut hasher = siphasher::sip::SipHasher13::new();
    name.hash(&mut hasher);
    version.hash(&mut hasher);
    sql.hash(&mut hasher);
    hasher.finish()
}

fn refinery(driver: Driver) {
    let sql = |p: &str| String::from_utf8(file(p)).unwrap();
    let table = format!(
        "CREATE TABLE IF NOT EXISTS refinery_schema_history(
             version int4 PRIMARY KEY,
             name VARCHAR(255),
             applied_on VARCHAR(255),
             checksum VARCHAR(255));
         INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES
             (1, 'create_users', '2024-05-01T10:00:00.123456789Z', '{}'),
             (2, 'add_email', '2024-05-02T10:00:00Z', '{}');",
        refinery_checksum("create_users", 1, &sql("refinery/V1__create_users.sql")),
        refinery_checksum("add_email", 2, &sql("refinery/V2__add_email.sql")),
    );
    adopt_and_run(driver, REFINERY, "refinery", &table, &[1, 2], &[3]);
    assert!(!REFINERY.get(3).unwrap().up().is_transactional());
}

fn goose(driver: Driver) {
    // goose's table, its version 0 row first; version 3 applied then rolled
    // back (goose's older down row); 4 is the Go migration.
    let table = "CREATE TABLE goose_db_version (
		id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
		version_id bigint NOT NULL,
		is_applied boolean NOT NULL,
		tstamp timestamp NOT NULL DEFAULT now()
	);
    INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true),
        (3, false), (4, true);";
    let (_db, mut client) = adopt_and_run(driver, GOOSE, "goose", table, &[1, 2], &[3]);
    let status = client.status(GOOSE.runner()).unwrap();
    let four = status.entries().iter().find(|e| e.version() == 4).unwrap();
    assert_eq!(*four.state(), State::Elsewhere);
    assert!(status.is_up_to_date(), "{status}");
    assert!(client.health(GOOSE.runner()).unwrap().ok);
    let emails: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_proc WHERE proname = 'email_of'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(emails, 0, "goose's migration 2 was adopted, not run");
    assert!(
        !GOOSE.get(2).unwrap().up().sql().contains("DROP FUNCTION"),
        "the down section is not the up"
    );
}

fn golang_migrate(driver: Driver) {
    let table = "CREATE TABLE IF NOT EXISTS \"schema_migrations\" (version bigint not null primary key, dirty boolean not null);
        INSERT INTO schema_migrations (version, dirty) VALUES (2, false);";
    adopt_and_run(
        driver,
        GOLANG_MIGRATE,
        "golang-migrate",
        table,
        &[1, 2],
        &[3],
    );
    assert!(GOLANG_MIGRATE.get(2).unwrap().down().is_none());
    assert!(!GOLANG_MIGRATE.get(1).unwrap().up().sql().contains("BEGIN"));
}

fn golang_migrate_refuses_a_dirty_history_and_dbmates_table(driver: Driver) {
    let (_db, mut client) = database(driver);
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null);
             INSERT INTO schema_migrations VALUES (2, true);",
        )
        .unwrap();
    let refused = client.adopt(GOLANG_MIGRATE.runner(), Adopt::from("golang-migrate"));
    assert!(
        matches!(refused, Err(Error::Refused(Refusal::Adopt { ref problems, .. })) if problems[0].contains("dirty")),
        "{refused:?}"
    );
    let refused = client.adopt(DBMATE.runner(), Adopt::from("dbmate"));
    assert!(
        matches!(refused, Err(Error::Refused(Refusal::Adopt { ref problems, .. })) if problems[0].contains("golang-migrate")),
        "{refused:?}"
    );
}

fn dbmate(driver: Driver) {
    let table = "create table if not exists public.schema_migrations (version varchar primary key);
        insert into public.schema_migrations (version) values ('20200101000000'), ('20200102000000'), ('20200103000000');";
    adopt_and_run(
        driver,
        DBMATE,
        "dbmate",
        table,
        &[20200101000000, 20200102000000, 20200103000000],
        &[20200104000000],
    );
    assert!(
        DBMATE
            .get(20200102000000)
            .unwrap()
            .up()
            .statements()
            .is_empty(),
        "a deliberate no-op"
    );
}

/// Flyway's CRC-32: each line's bytes without its line end, the BOM off.
fn flyway_checksum(bytes: &[u8]) -> i32 {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut crc = crc32fast::Hasher::new();
    for line in text.lines() {
        crc.update(line.as_bytes());
    }
    crc.finalize() as i32
}

fn flyway(driver: Driver) {
    let table = format!(
        "CREATE TABLE \"flyway_schema_history\" (
    \"installed_rank\" INT NOT NULL,
    \"version\" VARCHAR(50),
    \"description\" VARCHAR(200) NOT NULL,
    \"type\" VARCHAR(20) NOT NULL,
    \"script\" VARCHAR(1000) NOT NULL,
    \"checksum\" INTEGER,
    \"installed_by\" VARCHAR(100) NOT NULL,
    \"installed_on\" TIMESTAMP NOT NULL DEFAULT now(),
    \"execution_time\" INTEGER NOT NULL,
    \"success\" BOOLEAN NOT NULL
);
ALTER TABLE \"flyway_schema_history\" ADD CONSTRAINT \"flyway_schema_history_pk\" PRIMARY KEY (\"installed_rank\");
INSERT INTO flyway_schema_history VALUES
    (1, '1', 'create users', 'SQL', 'V1__create_users.sql', {}, 'app', '2023-01-01 10:00:00', 12, true),
    (2, '2', 'add email', 'SQL', 'V2__add_email.sql', {}, 'app', '2023-01-02 10:00:00', 7, true);",
        flyway_checksum(&file("flyway/V1__create_users.sql")),
        flyway_checksum(&file("flyway/V2__add_email.sql")),
    );
    let (_db, mut client) = adopt_and_run(driver, FLYWAY, "flyway", &table, &[1, 2], &[3]);
    let ms: i64 = client
        .query_one(
            "SELECT execution_ms FROM stowage_migrations WHERE version = 1",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(ms, 12);
    let rows: i64 = client
        .query_one("SELECT count(*) FROM flyway_schema_history", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 2, "the tool's table is left as it was");
}

fn pending_below_the_newest_adopted_is_out_of_order(driver: Driver) {
    let (_db, mut client) = database(driver);
    client
        .batch_execute(
            "CREATE TABLE users (id bigint PRIMARY KEY); \
             CREATE TABLE refinery_schema_history(version int4 PRIMARY KEY, name VARCHAR(255), \
             applied_on VARCHAR(255), checksum VARCHAR(255));",
        )
        .unwrap();
    let sql = String::from_utf8(file("refinery/V1__create_users.sql")).unwrap();
    let index = String::from_utf8(file("refinery/V3__index_email.sql")).unwrap();
    client
        .batch_execute(&format!(
            "INSERT INTO refinery_schema_history VALUES (1, 'create_users', '2024-05-01T10:00:00Z', '{}'), \
             (3, 'index_email', '2024-05-03T10:00:00Z', '{}')",
            refinery_checksum("create_users", 1, &sql),
            refinery_checksum("index_email", 3, &index)
        ))
        .unwrap();
    client
        .adopt(REFINERY.runner(), Adopt::from("refinery"))
        .unwrap();
    let status = client.status(REFINERY.runner()).unwrap();
    assert_eq!(*status.entries()[1].state(), State::OutOfOrder, "{status}");
}

both_drivers!(
    sqlx,
    sqlx_refuses_an_edited_file_and_a_failed_history,
    diesel,
    refinery,
    goose,
    golang_migrate,
    golang_migrate_refuses_a_dirty_history_and_dbmates_table,
    dbmate,
    flyway,
    pending_below_the_newest_adopted_is_out_of_order,
);
