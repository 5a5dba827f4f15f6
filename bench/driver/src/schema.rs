//! The schema phase: stowage's schema file and schema check on a database
//! of 300 tables, with indexes, views, functions and triggers in proportion
//! (two indexes a table; a view, a trigger function and its trigger every
//! fifth table; an SQL function every tenth).
//!
//! The driver writes the schema as one migration, builds `bench-schema`
//! (`apps/schema`), which applies it and writes the schema file from the
//! database, timing each write; builds it again, now embedding the file, and
//! times its schema check of the same database: reading the whole schema,
//! then where the catalog is unchanged since a recorded check, on one
//! connection, then on a new connection each time.

use crate::programs::{Paths, Target};
use std::error::Error;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The tables of the schema.
pub const TABLES: usize = 300;

/// What the schema phase measured: each call's time.
#[derive(Debug, Clone)]
pub struct SchemaTimes {
    /// Writing the schema file (reading the catalog, rendering, writing).
    pub write: Vec<Duration>,
    /// Checking the database against the embedded file, reading the whole
    /// schema.
    pub read: Vec<Duration>,
    /// The check where the catalog is unchanged since a recorded check.
    pub check: Vec<Duration>,
    /// That check on a new connection each time.
    pub first: Vec<Duration>,
    /// The schema file's size, in bytes.
    pub file_bytes: u64,
}

impl SchemaTimes {
    /// The table of the phase, in markdown.
    pub fn rows(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mut out = format!(
            "The schema of {TABLES} tables (schema file {} KiB), each call timed in the program \
             on one connection unless said:\n\n| | median, ms | fastest, ms | slowest, ms |\n|---|---:|---:|---:|\n",
            self.file_bytes / 1024
        );
        for (label, times) in [
            (
                "write the schema file (`testing::write_schema_file`)",
                &self.write,
            ),
            (
                "check the database against it (`Runner::check_schema`), reading the whole schema",
                &self.read,
            ),
            (
                "the same, the catalog unchanged since a recorded check",
                &self.check,
            ),
            (
                "the same, each on a new connection (as when a process starts)",
                &self.first,
            ),
        ] {
            let mut sorted = times.clone();
            sorted.sort();
            let at = |i: usize| sorted.get(i).copied().map_or(0.0, ms);
            let _ = writeln!(
                out,
                "| {label} | {:.2} | {:.2} | {:.2} |",
                at(sorted.len() / 2),
                at(0),
                at(sorted.len().saturating_sub(1))
            );
        }
        out
    }
}

/// The migration that builds the schema.
pub fn migration() -> String {
    let mut sql = String::new();
    for i in 0..TABLES {
        let parent = if i == 0 {
            String::new()
        } else {
            format!(",\n    parent_id bigint REFERENCES t{:03} (id)", i - 1)
        };
        let _ = write!(
            sql,
            "CREATE TABLE t{i:03} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'done')),
    amount numeric(12, 2) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz{parent}
);
CREATE INDEX t{i:03}_name_idx ON t{i:03} (lower(name));
CREATE INDEX t{i:03}_status_idx ON t{i:03} (status, created_at) WHERE status <> 'done';
"
        );
        if i % 5 == 0 {
            let _ = write!(
                sql,
                "CREATE VIEW t{i:03}_open AS SELECT t.id, t.name, t.amount FROM t{i:03} t WHERE t.status = 'new';
CREATE FUNCTION t{i:03}_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
CREATE TRIGGER t{i:03}_touch BEFORE UPDATE ON t{i:03} FOR EACH ROW EXECUTE FUNCTION t{i:03}_touch();
"
            );
        }
        if i % 10 == 0 {
            let _ = write!(
                sql,
                "CREATE FUNCTION t{i:03}_total(s text) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(amount), 0) FROM t{i:03} WHERE status = s
$$;
"
            );
        }
    }
    sql
}

/// Writes the migration, with no schema file beside it yet.
pub fn write_migration(paths: &Paths) -> Result<PathBuf, Box<dyn Error>> {
    let folder = paths.generated.join("schema");
    std::fs::create_dir_all(&folder)?;
    let _ = std::fs::remove_file(folder.join("schema.sql"));
    std::fs::write(folder.join("0001_schema.sql"), migration())?;
    Ok(folder)
}

/// Runs `bench-schema MODE RUNS` against `target`; returns the times it
/// printed.
pub fn run(
    paths: &Paths,
    mode: &str,
    runs: usize,
    target: &Target,
) -> Result<Vec<Duration>, Box<dyn Error>> {
    let output = Command::new(paths.release.join("bench-schema"))
        .args([
            mode,
            &runs.to_string(),
            &target.host,
            &target.port.to_string(),
            &target.user,
            &target.dbname,
        ])
        // The schema file's path is relative to the program's crate root.
        .env("CARGO_MANIFEST_DIR", paths.bench.join("apps/schema"))
        .stdin(Stdio::null())
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "bench-schema {mode} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let printed = String::from_utf8_lossy(&output.stdout);
    let times: Vec<u128> = serde_json::from_str(printed.trim())?;
    Ok(times
        .into_iter()
        .map(|us| Duration::from_micros(u64::try_from(us).unwrap_or(u64::MAX)))
        .collect())
}
