//! What `embed_migrations!` spends in `stowage_core::load` on a large folder:
//! 1,000 migrations (and 50 down scripts) of a few hundred bytes to a few
//! kilobytes each, spread over yearly subfolders, read and checked.
//!
//! Run with `cargo bench -p stowage-core`; prints the median of several runs.
//! In a dev build the macro runs unoptimized, as
//! `cargo bench -p stowage-core --profile dev` measures.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

const MIGRATIONS: usize = 1_000;
const WARM_UP: usize = 2;
const RUNS: usize = 15;

fn main() {
    let root = std::env::temp_dir().join(format!("stowage-bench-load-{}", std::process::id()));
    let dir = root.join("migrations");
    let bytes = generate(&dir);

    for _ in 0..WARM_UP {
        check(&dir, &root);
    }
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            check(&dir, &root);
            start.elapsed()
        })
        .collect();
    times.sort();

    println!(
        "load: {MIGRATIONS} migrations, {} KiB: median {:.2?} (min {:.2?}, max {:.2?}, {RUNS} runs)",
        bytes / 1024,
        times[RUNS / 2],
        times[0],
        times[RUNS - 1],
    );
    let _ = std::fs::remove_dir_all(&root);
}

fn check(dir: &Path, root: &Path) {
    let folder = stowage_core::load(
        dir,
        root,
        &dir.join(stowage_core::schema_file::DEFAULT_NAME),
        false,
    )
    .unwrap_or_else(|problems| {
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!("the generated folder is invalid:\n{}", problems.join("\n"))
    });
    assert_eq!(folder.migrations.len(), MIGRATIONS);
}

/// Writes the folder and returns its size in bytes.
fn generate(dir: &Path) -> usize {
    let _ = std::fs::remove_dir_all(dir);
    let mut bytes = 0;
    for i in 0..MIGRATIONS {
        let year = 2015 + i / 100;
        let version = format!("{year}{:02}{:02}{:06}", 1 + i % 12, 1 + i % 28, i);
        let table = format!("table_{i:04}");
        let folder = dir.join(year.to_string());
        std::fs::create_dir_all(&folder).expect("create the folder");
        let (name, up, down) = match i % 4 {
            0 => (
                format!("create_{table}"),
                create_table(&table, i),
                Some(format!("drop table {table};\n")),
            ),
            1 => (
                format!("add_columns_to_{table}"),
                add_columns(&table, i),
                None,
            ),
            2 => (format!("index_{table}"), add_indexes(&table), None),
            _ => (format!("backfill_{table}"), backfill(&table, i), None),
        };
        bytes += write(&folder.join(format!("{version}_{name}.sql")), &up);
        if let Some(down) = down.filter(|_| i % 10 == 0) {
            bytes += write(&folder.join(format!("{version}_{name}.down.sql")), &down);
        }
    }
    bytes
}

fn write(path: &Path, text: &str) -> usize {
    std::fs::write(path, text).expect("write a migration");
    text.len()
}

fn create_table(table: &str, i: usize) -> String {
    let mut sql = format!(
        "-- The {table} table.\ncreate table {table} (\n    id bigint generated always as identity primary key,\n"
    );
    for c in 0..8 + i % 8 {
        let kind = [
            "text not null",
            "bigint",
            "timestamptz not null default now()",
            "numeric(12, 2)",
            "boolean not null default false",
        ][c % 5];
        let _ = writeln!(sql, "    column_{c} {kind},");
    }
    sql.push_str("    created_at timestamptz not null default now()\n);\n");
    let _ = writeln!(
        sql,
        "comment on table {table} is 'Generated table number {i}, with its columns';"
    );
    sql
}

fn add_columns(table: &str, i: usize) -> String {
    let mut sql = String::new();
    for c in 0..3 + i % 5 {
        let _ = writeln!(sql, "alter table {table} add column extra_{c} text;");
    }
    sql
}

fn add_indexes(table: &str) -> String {
    format!(
        "/* Indexes for the common lookups. */\n\
         create index {table}_created_at on {table} (created_at);\n\
         create unique index {table}_column_0 on {table} (column_0) where column_0 is not null;\n"
    )
}

fn backfill(table: &str, i: usize) -> String {
    let mut sql = format!(
        "-- Backfill in one statement; the function keeps the logic in one place.\n\
         create or replace function {table}_fill() returns void language plpgsql as $$\n\
         begin\n"
    );
    for step in 0..10 + i % 20 {
        let _ = writeln!(
            sql,
            "    update {table} set column_1 = coalesce(column_1, {step}) where id % 30 = {step};"
        );
    }
    let _ = write!(
        sql,
        "end;\n$$;\nselect {table}_fill();\ndrop function {table}_fill();\n"
    );
    sql
}
