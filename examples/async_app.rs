//! A tokio program that applies its migrations at start, then serves: a
//! small HTTP server whose `/health` answers with stowage's [`Health`] as
//! JSON, from a pool of `tokio_postgres` connections.
//!
//! ```text
//! cargo run --example async_app                 # serves on 127.0.0.1:8080 until Ctrl-C
//! curl -s localhost:8080/health
//! ```
//!
//! With `DATABASE_URL` set, that database is migrated. Otherwise a
//! throwaway server is started with PostgreSQL's `initdb` and `pg_ctl`, and
//! removed when the program ends. `--once` answers one request and exits.
//!
//! [`Health`]: stowage::Health

use deadpool_postgres::{Manager, Pool};
use std::io::IsTerminal;
use std::str::FromStr;
use stowage::testing::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// Every `*.sql` file in `migrations/`, checked and embedded at compile time.
static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!();

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    // A throwaway server when DATABASE_URL is not set, kept while serving.
    let (config, _database) = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => (tokio_postgres::Config::from_str(&url)?, None),
        _ => {
            let database = TestServer::shared()?.create_database()?;
            println!(
                "DATABASE_URL is not set: migrating database {} of a throwaway server",
                database.name()
            );
            (database.async_config().clone(), Some(database))
        }
    };
    let pool = Pool::builder(Manager::new(config, tokio_postgres::NoTls))
        .max_size(4)
        .build()?;

    // At start: migrate over a connection of the pool. Replicas starting
    // together wait for each other's lock; the ones that find nothing to do
    // spend one query.
    let mut client = pool.get().await?;
    let report = MIGRATIONS.run_async(&mut client).await?;
    drop(client);
    println!("{report}");

    let listener = TcpListener::bind("127.0.0.1:8080").await?;
    println!("serving on http://{}/health", listener.local_addr()?);
    let once = std::env::args().any(|arg| arg == "--once");
    loop {
        let (mut socket, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let pool = pool.clone();
        let served = tokio::spawn(async move {
            let mut request = [0_u8; 1024];
            let _ = socket.read(&mut request).await;
            let (status, body) = match pool.get().await {
                Ok(mut client) => match MIGRATIONS.runner().health_async(&mut client).await {
                    Ok(health) if health.ok => ("200 OK", health_json(&health)),
                    Ok(health) => ("503 Service Unavailable", health_json(&health)),
                    Err(e) => (
                        "503 Service Unavailable",
                        format!("{{\"error\":{:?}}}", e.to_string()),
                    ),
                },
                Err(e) => (
                    "503 Service Unavailable",
                    format!("{{\"error\":{:?}}}", e.to_string()),
                ),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        });
        if once {
            served.await?;
            return Ok(());
        }
    }
}

fn health_json(health: &stowage::Health) -> String {
    serde_json::to_string(health).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
}
