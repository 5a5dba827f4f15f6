//! Applies the migrations in `migrations/` to PostgreSQL, shows the tracking
//! table, then runs again to show that a second run applies nothing.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With `DATABASE_URL` set (e.g. `postgres://app@localhost/app`), that
//! database is migrated. Otherwise a throwaway server is started with
//! PostgreSQL's `initdb` and `pg_ctl`, and removed when the program ends.
//! Set `RUST_LOG=debug` for more of stowage's log.

use postgres::{Client, NoTls};
use std::io::IsTerminal;
use stowage::testing::TestServer;
use tracing_subscriber::EnvFilter;

/// Every `*.sql` file in `migrations/`, checked and embedded at compile time.
static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!();

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // stowage logs through `tracing`: one line per applied migration.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            println!("migrating the database that DATABASE_URL names");
            let mut client = Client::connect(&url, NoTls)?;
            migrate(&mut client)
        }
        _ => {
            let server = TestServer::start()?;
            println!(
                "DATABASE_URL is not set: started {server}; it is removed when this program ends"
            );
            let database = server.create_database()?;
            println!("created database {}", database.name());
            let mut client = database.connect()?;
            migrate(&mut client)
        }
    }
}

fn migrate(client: &mut Client) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "\nthe binary holds {} migration(s) and {} repeatable migration(s): {}",
        MIGRATIONS.len(),
        MIGRATIONS.repeatables().len(),
        MIGRATIONS
            .repeatables()
            .map(|r| r.script().path())
            .collect::<Vec<_>>()
            .join(", ")
    );

    let report = MIGRATIONS.run(client)?;
    println!("\nfirst run: {report}");

    // What the tracking table now records, as `status` sees it.
    print!("\n{}", MIGRATIONS.runner().status(client)?);

    // Nothing is pending now: this costs one query and takes no lock.
    let report = MIGRATIONS.run(client)?;
    println!("\nsecond run: {report}");
    Ok(())
}
