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
    println!("\nthe binary holds {} migration(s)", MIGRATIONS.len());

    let report = MIGRATIONS.run(client)?;
    println!("\nfirst run: {report}");

    println!("\nstowage_migrations:");
    print_status(client)?;

    // Nothing is pending now: this costs one query and takes no lock.
    let report = MIGRATIONS.run(client)?;
    println!("\nsecond run: {report}");
    Ok(())
}

/// Prints the tracking table as an aligned text table.
fn print_status(client: &mut Client) -> Result<(), postgres::Error> {
    let rows = client.query(
        "SELECT version::text, name, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS'), applied_by,
                execution_ms::text, success::text
         FROM stowage_migrations
         ORDER BY version",
        &[],
    )?;
    let header = [
        "version",
        "name",
        "applied_at",
        "applied_by",
        "execution_ms",
        "success",
    ];
    let mut table = vec![header.map(String::from).to_vec()];
    for row in &rows {
        table.push(
            (0..row.len())
                .map(|i| row.try_get(i))
                .collect::<Result<_, _>>()?,
        );
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|col| {
            table
                .iter()
                .map(|row| row[col].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &table {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &width)| format!("{cell:<width$}"))
            .collect();
        println!("  {}", cells.join("  ").trim_end());
    }
    Ok(())
}
