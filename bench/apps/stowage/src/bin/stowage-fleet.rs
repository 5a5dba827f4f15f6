//! The fleet benchmark's program: tenant schemas `t0000`, `t0001`, ... of
//! one database, each migrated with the first 20 generated migrations.
//!
//! - `fleet N J`: one `Fleet` of the N schemas, J at a time (from empty, or
//!   with everything applied: the up-to-date check); prints the time of
//!   the fleet's run (connecting included) and how much the process's
//!   resident memory grew during it.
//! - `single N J`: the same N schemas one after another, each created and
//!   put on `search_path`, then migrated by a single run over one
//!   connection; prints the time of the runs alone (J is not used).
//!
//! Arguments: `<mode> <N> <J> <host> <port> <user> <dbname>`. The result is
//! one line, `fleet-result ms=... applied=... rss_growth_kb=...`.

use bench_common::{arguments, or_exit, postgres_client, Target};
use std::time::{Duration, Instant};
use stowage::{Fleet, Schemas};

static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../../generated/stowage/20");

fn main() {
    let (args, target) = arguments(3);
    let number = |i: usize| -> usize {
        args[i].parse().unwrap_or_else(|_| {
            eprintln!("error: {} is not a number", args[i]);
            std::process::exit(2)
        })
    };
    let (tenants, jobs) = (number(1), number(2));
    let names: Vec<String> = (0..tenants).map(|i| format!("t{i:04}")).collect();
    let before = kib("VmRSS");
    let (took, applied) = match args[0].as_str() {
        "fleet" => fleet(target, names, jobs),
        "single" => single(&target, &names),
        other => {
            eprintln!("error: unknown mode {other}: fleet or single");
            std::process::exit(2)
        }
    };
    println!(
        "fleet-result ms={:.3} applied={applied} rss_growth_kb={}",
        took.as_secs_f64() * 1000.0,
        kib("VmHWM").saturating_sub(before)
    );
}

/// One fleet's run; its time, and how many migrations it applied.
fn fleet(target: Target, names: Vec<String>, jobs: usize) -> (Duration, usize) {
    let fleet = Fleet::new()
        .schemas("bench", target, Schemas::listed(names), MIGRATIONS.runner())
        .jobs(jobs);
    let started = Instant::now();
    let report = or_exit(fleet.run(postgres_client));
    let took = started.elapsed();
    if !report.is_ok() {
        eprintln!("{report}");
        std::process::exit(1);
    }
    let applied = report
        .targets()
        .iter()
        .filter_map(|line| line.outcome().done())
        .map(|migrated| migrated.applied())
        .sum();
    (took, applied)
}

/// A single run per schema, over one connection; the time of the runs.
fn single(target: &Target, names: &[String]) -> (Duration, usize) {
    let mut client = or_exit(postgres_client(target));
    let mut took = Duration::ZERO;
    let mut applied = 0;
    for name in names {
        or_exit(client.batch_execute(&format!("CREATE SCHEMA {name}; SET search_path = {name}")));
        let started = Instant::now();
        let report = or_exit(MIGRATIONS.run(&mut client));
        took += started.elapsed();
        applied += report.applied().len();
    }
    (took, applied)
}

/// A line of /proc/self/status, in KiB.
fn kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}
