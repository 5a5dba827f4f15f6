//! Times stowage's schema file and schema check on the generated 300-table
//! schema: `bench-schema write|read|check|first RUNS <host> <port> <user>
//! <dbname>`. `write` applies the migration, then writes the schema file
//! RUNS times; `read` compares the database with the embedded file RUNS
//! times, reading the whole schema each time (the record of the last check
//! is deleted before each, untimed), as after any change; `check` does the
//! same where the catalog is unchanged since a recorded check, on one
//! connection; `first` does that on a new connection each time, as a
//! process that starts does (the connecting is not timed). Each call is
//! timed alone; the times, in microseconds, are printed as one JSON array.

use bench_common::{arguments, or_exit, postgres_client};
use std::time::Instant;

static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../../generated/schema");

fn main() {
    let (args, target) = arguments(2);
    let runs: usize = args[1].parse().unwrap_or(1);
    let mut client = or_exit(postgres_client(&target));
    let mut times = Vec::with_capacity(runs);
    match args[0].as_str() {
        "write" => {
            or_exit(MIGRATIONS.run(&mut client));
            for _ in 0..runs {
                let start = Instant::now();
                or_exit(stowage::testing::write_schema_file(
                    &MIGRATIONS,
                    &mut client,
                ));
                times.push(start.elapsed().as_micros());
            }
        }
        mode => {
            // Checks until one is recorded: the first makes the table of
            // records, the next records itself.
            for _ in 0..2 {
                or_exit(MIGRATIONS.runner().check_schema(&mut client));
            }
            for _ in 0..runs {
                if mode == "first" {
                    client = or_exit(postgres_client(&target));
                }
                if mode == "read" {
                    or_exit(client.batch_execute("DELETE FROM stowage_schema_checks"));
                }
                let start = Instant::now();
                let check = or_exit(MIGRATIONS.runner().check_schema(&mut client));
                times.push(start.elapsed().as_micros());
                if !check.is_ok() {
                    eprintln!("{check}");
                    std::process::exit(1);
                }
            }
        }
    }
    println!("{times:?}");
}
