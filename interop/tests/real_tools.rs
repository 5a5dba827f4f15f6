//! The real tools migrate a database first, with their own crates, up to
//! their second migration; stowage then adopts their history from the same
//! folders (the root package's fixtures), `status` shows both applied,
//! `run` applies the third alone, and a second adoption changes nothing.

use std::path::PathBuf;
use stowage::testing::{TestDatabase, TestServer};
use stowage::{Adopt, Migrations, State};

static SQLX: Migrations =
    stowage::embed_migrations!("../tests/fixtures/adopt/sqlx", layout = "sqlx");
static REFINERY: Migrations =
    stowage::embed_migrations!("../tests/fixtures/adopt/refinery", layout = "refinery");
static DIESEL: Migrations =
    stowage::embed_migrations!("../tests/fixtures/adopt/diesel", layout = "diesel");

fn fixtures(tool: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/adopt")
        .join(tool)
}

/// A libpq connection URI of `db`, on the server's socket or port.
fn url(db: &TestDatabase<'_>) -> String {
    let config = db.config();
    let user = config.get_user().unwrap_or("postgres");
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        None => "localhost".to_owned(),
    };
    format!("postgres://{user}@/{}?host={host}&port={port}", db.name())
}

/// sqlx's options for `db`: its URL parser takes no empty host, so a
/// socket directory is given as a socket.
fn sqlx_options(db: &TestDatabase<'_>) -> sqlx::postgres::PgConnectOptions {
    let config = db.config();
    let options = sqlx::postgres::PgConnectOptions::new()
        .username(config.get_user().unwrap_or("postgres"))
        .port(config.get_ports().first().copied().unwrap_or(5432))
        .database(db.name());
    let options = match config.get_password() {
        Some(password) => options.password(&String::from_utf8_lossy(password)),
        None => options,
    };
    match config.get_hosts().first() {
        Some(postgres::config::Host::Unix(path)) => options.socket(path),
        Some(postgres::config::Host::Tcp(host)) => options.host(host),
        None => options,
    }
}

/// Adopts `tool`'s history and checks what follows.
fn adopt(db: &TestDatabase<'_>, migrations: Migrations, tool: &str, adopted: &[i64], next: i64) {
    let mut client = db.connect().expect("connect");
    let runner = migrations.runner();
    let adoption = runner.adopt(&mut client, tool).expect("adopt");
    assert_eq!(adoption.adopted(), adopted, "{adoption}");
    let status = runner.status(&mut client).expect("status");
    for e in status.entries() {
        let want = if e.version() == next {
            State::Pending
        } else {
            State::Applied
        };
        assert_eq!(*e.state(), want, "{status}");
    }
    let again = runner
        .adopt(&mut client, Adopt::from(tool))
        .expect("adopt again");
    assert!(again.adopted().is_empty(), "{again}");
    let report = runner.run(&mut client).expect("run");
    let ran: Vec<i64> = report.applied().iter().map(|a| a.version()).collect();
    assert_eq!(ran, [next]);
}

#[test]
fn sqlx() {
    let server = TestServer::shared().expect("server");
    let db = server.create_database().expect("database");
    let options = sqlx_options(&db);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let pool = sqlx::PgPool::connect_with(options)
                .await
                .expect("sqlx connects");
            let mut migrator = sqlx::migrate::Migrator::new(fixtures("sqlx"))
                .await
                .expect("sqlx reads the folder");
            let first_two: Vec<_> = migrator
                .migrations
                .iter()
                .filter(|m| m.version <= 2)
                .cloned()
                .collect();
            migrator.migrations = first_two.into();
            migrator.run(&pool).await.expect("sqlx migrates");
            pool.close().await;
        });
    adopt(&db, SQLX, "sqlx", &[1, 2], 3);
}

mod refinery_migrations {
    refinery::embed_migrations!("../tests/fixtures/adopt/refinery");
}

#[test]
fn refinery() {
    let server = TestServer::shared().expect("server");
    let db = server.create_database().expect("database");
    let mut client = db.connect().expect("connect");
    refinery_migrations::migrations::runner()
        .set_target(refinery::Target::Version(2))
        .run(&mut client)
        .expect("refinery migrates");
    adopt(&db, REFINERY, "refinery", &[1, 2], 3);
}

#[test]
fn diesel() {
    use diesel::Connection;
    use diesel_migrations::MigrationHarness;
    let server = TestServer::shared().expect("server");
    let db = server.create_database().expect("database");
    let mut conn = diesel::PgConnection::establish(&url(&db)).expect("diesel connects");
    let source = diesel_migrations::FileBasedMigrations::from_path(fixtures("diesel"))
        .expect("diesel reads the folder");
    conn.run_next_migration(source.clone())
        .expect("diesel migrates 1");
    conn.run_next_migration(source).expect("diesel migrates 2");
    drop(conn);
    adopt(
        &db,
        DIESEL,
        "diesel",
        &[20170831230457, 20170901000000],
        20170902000000,
    );
}
