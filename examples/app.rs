//! A program with commands of its own and, from stowage, `db`: the
//! operator's tool to inspect and migrate the database, in the same binary
//! as the migrations it applies.
//!
//! ```text
//! export DATABASE_URL=postgres://app@localhost/app
//! cargo run --example app -- db status
//! cargo run --example app -- db migrate --dry-run
//! cargo run --example app -- db migrate
//! cargo run --example app -- db verify --json
//! cargo run --example app -- db --help
//! ```

use clap::{Parser, Subcommand};
use postgres::{Client, NoTls};
use std::process::ExitCode;

/// Every `*.sql` file in `migrations/`, checked and embedded at compile time.
static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!();

/// An application that carries its own database migrations.
#[derive(Parser)]
#[command(name = "app", version)]
struct App {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve requests (here, only says so)
    Serve {
        /// The port to listen on
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// Print the version and how many migrations this binary carries
    Version,
    /// Inspect, migrate and mend the database
    Db(stowage::cli::Db),
}

fn main() -> ExitCode {
    match App::parse().command {
        Command::Serve { port } => {
            println!("serving on port {port} (not really: this is an example)");
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!(
                "app {} with {} migration(s), the newest {}",
                env!("CARGO_PKG_VERSION"),
                MIGRATIONS.len(),
                MIGRATIONS.newest().map_or(0, |m| m.version())
            );
            ExitCode::SUCCESS
        }
        Command::Db(db) => db.run(&MIGRATIONS, |url| Client::connect(url, NoTls)),
    }
}
