//! The programs measured, and how to run one against a database.

use crate::generate::Migration;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The migration libraries compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Library {
    Stowage,
    /// stowage over its async driver (`run_async` over tokio-postgres),
    /// embedding the same folders as [`Library::Stowage`].
    StowageAsync,
    Refinery,
    Sqlx,
    Diesel,
}

impl Library {
    /// Every library: their builds and binaries are measured.
    pub const ALL: [Library; 5] = [
        Library::Stowage,
        Library::StowageAsync,
        Library::Refinery,
        Library::Sqlx,
        Library::Diesel,
    ];

    /// The libraries whose runs are measured too. diesel is there for its
    /// build only, the reference of stowage's target for rebuilds.
    pub const RUN: [Library; 4] = [
        Library::Stowage,
        Library::StowageAsync,
        Library::Refinery,
        Library::Sqlx,
    ];

    /// The libraries whose rebuild after an edit is measured. stowage's async
    /// program expands the same macro over the same folder as the sync one;
    /// its rebuild is the sync one's.
    pub const REBUILT: [Library; 4] = [
        Library::Stowage,
        Library::Refinery,
        Library::Sqlx,
        Library::Diesel,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Library::Stowage => "stowage",
            Library::StowageAsync => "stowage-async",
            Library::Refinery => "refinery",
            Library::Sqlx => "sqlx",
            Library::Diesel => "diesel",
        }
    }

    /// The library whose generated folders its programs embed: its own,
    /// but stowage's for the async driver.
    pub fn folder(self) -> Library {
        match self {
            Library::StowageAsync => Library::Stowage,
            other => other,
        }
    }

    /// The cargo package holding its programs.
    pub fn package(self) -> String {
        format!("bench-{}", self.name())
    }

    /// The program embedding `size` migrations.
    pub fn bin(self, size: usize) -> String {
        format!("{}-{size}", self.name())
    }

    /// The file the library wants a migration in, relative to its folder.
    /// stowage and sqlx both read `{version}_{name}.sql`; refinery wants
    /// `V{version}__{name}.sql`, diesel `{version}_{name}/up.sql`.
    pub fn file_name(self, m: &Migration) -> String {
        match self {
            Library::Stowage | Library::StowageAsync | Library::Sqlx => {
                format!("{:04}_{}.sql", m.version, m.name)
            }
            Library::Refinery => format!("V{}__{}.sql", m.version, m.name),
            Library::Diesel => format!("{:04}_{}/up.sql", m.version, m.name),
        }
    }

    /// How many migrations the library's tracking table records as applied.
    pub fn applied_query(self) -> &'static str {
        match self {
            Library::Stowage | Library::StowageAsync => {
                "SELECT count(*) FROM stowage_migrations WHERE success"
            }
            Library::Refinery => "SELECT count(*) FROM refinery_schema_history",
            Library::Sqlx => "SELECT count(*) FROM _sqlx_migrations WHERE success",
            Library::Diesel => "SELECT count(*) FROM __diesel_schema_migrations",
        }
    }
}

/// Something the driver runs as a whole process against one database.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Program {
    /// A library's program embedding `size` migrations.
    Library(Library, usize),
    /// psql applying the `size` migrations over one connection.
    Psql(usize),
    /// Connect with the `postgres` crate, `SELECT 1`, exit.
    Select1,
    /// Connect with sqlx on a tokio runtime, `SELECT 1`, exit.
    Select1Sqlx,
    /// Connect with tokio-postgres on a tokio runtime, `SELECT 1`, exit.
    Select1TokioPostgres,
    /// Connect with the `postgres` crate, send one no-op check query, exit.
    Check(Check),
    /// stowage's program of 1,000 on a database without the digest table:
    /// the no-op start that computes the digest over the table.
    StowageWithoutDigest,
}

/// The no-op check queries timed on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// The query stowage sends, as the proxy saw it.
    Current,
    /// The query that computes the digest over the tracking table, sent
    /// when there is no digest row to read (and stowage's only check before
    /// the digest was kept).
    Computed,
}

impl Check {
    pub fn name(self) -> &'static str {
        match self {
            Check::Current => "check-current",
            Check::Computed => "check-computed",
        }
    }
}

impl Program {
    pub fn label(&self) -> String {
        match self {
            Program::Library(library, size) => library.bin(*size),
            Program::Psql(size) => format!("psql-{size}"),
            Program::Select1 => "select1".into(),
            Program::Select1Sqlx => "select1-sqlx".into(),
            Program::Select1TokioPostgres => "select1-tokio-postgres".into(),
            Program::Check(check) => check.name().into(),
            Program::StowageWithoutDigest => "stowage-1000-without-digest".into(),
        }
    }
}

/// Where to connect: the server, and a database on it.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub dbname: String,
}

/// The paths the programs live at.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The `bench/` folder.
    pub bench: PathBuf,
    /// Where cargo puts the release programs.
    pub release: PathBuf,
    /// The generated migrations.
    pub generated: PathBuf,
    pub psql: PathBuf,
}

impl Paths {
    pub fn new(bench: &Path) -> Paths {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| bench.join("target"), PathBuf::from);
        Paths {
            bench: bench.to_owned(),
            release: target.join("release"),
            generated: bench.join("generated"),
            psql: find_psql(),
        }
    }

    /// The folder of the migrations of `library`, `size` of them.
    pub fn migrations(&self, library: Library, size: usize) -> PathBuf {
        self.generated
            .join(library.folder().name())
            .join(size.to_string())
    }

    /// The psql script that includes the `size` migrations one by one.
    pub fn psql_script(&self, size: usize) -> PathBuf {
        self.generated.join("psql").join(format!("{size}.sql"))
    }

    /// The file holding the text of a check query.
    pub fn query_file(&self, check: Check) -> PathBuf {
        self.release.join(format!("{}.sql", check.name()))
    }

    /// The executable of a program.
    pub fn executable(&self, program: &Program) -> PathBuf {
        match program {
            Program::Psql(_) => self.psql.clone(),
            Program::Check(_) => self.release.join("one-query"),
            Program::StowageWithoutDigest => self.release.join(Library::Stowage.bin(1000)),
            other => self.release.join(other.label()),
        }
    }

    /// The full command line of `program` against `target`.
    pub fn argv(&self, program: &Program, target: &Target) -> Vec<String> {
        let exe = self.executable(program).display().to_string();
        match program {
            Program::Psql(size) => vec![
                exe,
                "-X".into(),
                "-q".into(),
                "-v".into(),
                "ON_ERROR_STOP=1".into(),
                "-h".into(),
                target.host.clone(),
                "-p".into(),
                target.port.to_string(),
                "-U".into(),
                target.user.clone(),
                "-d".into(),
                target.dbname.clone(),
                "-f".into(),
                self.psql_script(*size).display().to_string(),
            ],
            Program::Check(check) => vec![
                exe,
                self.query_file(*check).display().to_string(),
                target.host.clone(),
                target.port.to_string(),
                target.user.clone(),
                target.dbname.clone(),
            ],
            _ => vec![
                exe,
                target.host.clone(),
                target.port.to_string(),
                target.user.clone(),
                target.dbname.clone(),
            ],
        }
    }
}

/// Runs `program` against `target` to its end; returns its wall time, or
/// its error output if it failed.
pub fn run(paths: &Paths, program: &Program, target: &Target) -> Result<Duration, String> {
    let argv = paths.argv(program, target);
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let output = command
        .output()
        .map_err(|e| format!("cannot run {}: {e}", argv[0]))?;
    let took = started.elapsed();
    if output.status.success() {
        Ok(took)
    } else {
        Err(format!(
            "{} failed ({}): {}",
            program.label(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// psql from the same installation as the server binaries, not a wrapper
/// script on `PATH` (Debian's `/usr/bin/psql` is a Perl script that would
/// add its own start-up time).
fn find_psql() -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("STOWAGE_PG_BINDIR") {
        candidates.push(PathBuf::from(dir).join("psql"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if let Ok(initdb) = std::fs::canonicalize(dir.join("initdb")) {
                if let Some(bin) = initdb.parent() {
                    candidates.push(bin.join("psql"));
                }
            }
        }
    }
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            Some((
                e.file_name().to_str()?.parse().ok()?,
                e.path().join("bin/psql"),
            ))
        })
        .collect();
    versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    candidates.extend(versioned.into_iter().map(|(_, p)| p));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("psql"))
}
