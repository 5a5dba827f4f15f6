//! What the database has applied, compared with the binary: every
//! migration with its state, and the summary of it for a health endpoint.

use crate::data::drift::SchemaHealth;
use crate::data::repeatable_status::{RepeatableCounts, RepeatableEntry, RepeatableState};
use crate::data::violation::Stopped;
use std::fmt;
use std::time::SystemTime;

/// The state of one migration.
///
/// ```
/// use stowage::State;
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// MIGRATIONS.runner().target(1).run(&mut client)?;
/// let status = MIGRATIONS.runner().status(&mut client)?;
/// assert_eq!(*status.entries()[0].state(), State::Applied);
/// assert_eq!(status.entries()[1].state().name(), "pending");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "state", rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum State {
    /// Applied, with the binary's checksum.
    Applied,
    /// Not applied yet.
    Pending,
    /// Not applied yet (or failed), and lower than the highest version
    /// applied: a run refuses it unless out-of-order migrations are allowed.
    OutOfOrder,
    /// Failed and rolled back; the next run retries it.
    Failed,
    /// A no-transaction migration that stopped part way.
    Dirty {
        /// Statements that completed.
        statements_done: usize,
        /// Statements in all.
        statements_total: usize,
    },
    /// Applied, but the binary's file differs from what was applied.
    Divergent {
        /// The checksum recorded when it was applied.
        recorded_checksum: String,
    },
    /// Recorded as applied, but the binary does not have it.
    Missing,
    /// A migration in code that the build was told is handled elsewhere
    /// (`embed_migrations!(..., elsewhere = [...])`): stowage never runs it.
    Elsewhere,
}

impl State {
    /// A short name: `applied`, `pending`, `out-of-order`, `failed`,
    /// `dirty`, `divergent`, `missing` or `handled-elsewhere`.
    pub fn name(&self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::OutOfOrder => "out-of-order",
            State::Failed => "failed",
            State::Dirty { .. } => "dirty",
            State::Divergent { .. } => "divergent",
            State::Missing => "missing",
            State::Elsewhere => "handled-elsewhere",
        }
    }

    /// Whether the database holds the migration's changes: applied, as the
    /// binary has it or not.
    pub fn is_applied(&self) -> bool {
        matches!(
            self,
            State::Applied | State::Divergent { .. } | State::Missing
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Dirty {
                statements_done,
                statements_total,
            } => {
                write!(f, "dirty ({statements_done}/{statements_total} statements)")
            }
            other => f.write_str(other.name()),
        }
    }
}

/// One migration's line in a [`Status`].
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// MIGRATIONS.run(&mut client)?;
/// for entry in MIGRATIONS.runner().status(&mut client)?.entries() {
///     println!("{} {} {} by {:?}", entry.version(), entry.name(), entry.state(), entry.applied_by());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Entry {
    pub(crate) version: i64,
    pub(crate) name: String,
    pub(crate) path: Option<&'static str>,
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub(crate) state: State,
    /// The binary's checksum of the migration, if it has it.
    pub(crate) checksum: Option<&'static str>,
    pub(crate) has_down: bool,
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::data::serde_time::rfc3339")
    )]
    pub(crate) applied_at: Option<SystemTime>,
    pub(crate) applied_by: Option<String>,
    pub(crate) execution_ms: Option<i64>,
    pub(crate) error: Option<String>,
    pub(crate) note: Option<String>,
    /// For a dirty migration: what is known of the statement it stopped at.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub(crate) stopped: Option<Stopped>,
}

impl Entry {
    /// Its version.
    pub fn version(&self) -> i64 {
        self.version
    }
    /// Its name (the recorded one for a missing migration).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its file, if the binary has it.
    pub fn path(&self) -> Option<&'static str> {
        self.path
    }
    /// Its state.
    pub fn state(&self) -> &State {
        &self.state
    }
    /// The binary's checksum of it, if the binary has it.
    pub fn checksum(&self) -> Option<&'static str> {
        self.checksum
    }
    /// Whether the binary has a down script for it.
    pub fn has_down(&self) -> bool {
        self.has_down
    }
    /// When it was applied, or last failed.
    pub fn applied_at(&self) -> Option<SystemTime> {
        self.applied_at
    }
    /// The database user that applied it.
    pub fn applied_by(&self) -> Option<&str> {
        self.applied_by.as_deref()
    }
    /// How long it took, in milliseconds.
    pub fn execution_ms(&self) -> Option<i64> {
        self.execution_ms
    }
    /// The server's error, for a failed or dirty migration; a dirty one
    /// without an error was interrupted (its process or connection died).
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
    /// What an operator did to its record (baseline, marked applied, checksum accepted).
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
    /// For a dirty migration: what is known of the statement it stopped at
    /// (the server process still running it, whether the catalog shows it
    /// completed, INVALID indexes it left).
    pub fn stopped(&self) -> Option<&Stopped> {
        self.stopped.as_ref()
    }
}

/// Every migration known to the binary or to the tracking table, in version
/// order, with its state; made by [`Runner::status`](crate::Runner::status).
///
/// It prints as an aligned table:
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// MIGRATIONS.runner().target(3).run(&mut client)?;
/// let status = MIGRATIONS.runner().status(&mut client)?;
/// assert_eq!(status.current_version(), Some(3));
/// assert_eq!(status.counts().pending, MIGRATIONS.len() - 3);
/// assert_eq!((status.schema(), status.table()), ("public", "stowage_migrations"));
/// print!("{status}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Status {
    pub(crate) schema: String,
    pub(crate) table: String,
    pub(crate) current_version: Option<i64>,
    pub(crate) up_to_date: bool,
    pub(crate) counts: Counts,
    #[cfg_attr(feature = "serde", serde(rename = "migrations"))]
    pub(crate) entries: Vec<Entry>,
    pub(crate) repeatables: Vec<RepeatableEntry>,
}

impl Status {
    pub(crate) fn new(
        schema: String,
        table: String,
        entries: Vec<Entry>,
        repeatables: Vec<RepeatableEntry>,
    ) -> Status {
        let current_version = entries
            .iter()
            .filter(|e| e.state.is_applied())
            .map(|e| e.version)
            .max();
        // A version handled elsewhere (a migration in code) is nothing to run.
        let up_to_date = entries
            .iter()
            .all(|e| matches!(e.state, State::Applied | State::Elsewhere))
            && repeatables
                .iter()
                .all(|r| *r.state() == RepeatableState::Applied);
        let counts = Counts::of(&entries);
        Status {
            schema,
            table,
            current_version,
            up_to_date,
            counts,
            entries,
            repeatables,
        }
    }

    /// Every repeatable migration known to the binary or to the tracking
    /// table: the binary's in name order, then those it lacks.
    pub fn repeatables(&self) -> &[RepeatableEntry] {
        &self.repeatables
    }

    /// The tracking table's schema.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The tracking table's name, without its schema.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Every migration, in version order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The highest version applied.
    pub fn current_version(&self) -> Option<i64> {
        self.current_version
    }

    /// How many migrations are in each state.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Whether every migration of the binary is applied as it is, every
    /// repeatable migration too, and the history holds nothing else.
    pub fn is_up_to_date(&self) -> bool {
        self.up_to_date
    }
}

impl fmt::Display for Status {
    /// An aligned table, one line per migration, then the reason of each
    /// failed or dirty one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = [
            "version",
            "name",
            "state",
            "applied at (UTC)",
            "by",
            "ms",
            "down",
            "note",
        ];
        let lines: Vec<[String; 8]> = self
            .entries
            .iter()
            .map(|e| {
                [
                    e.version.to_string(),
                    e.name.clone(),
                    e.state.to_string(),
                    e.applied_at.map(utc).unwrap_or_default(),
                    e.applied_by.clone().unwrap_or_default(),
                    e.execution_ms.map(|ms| ms.to_string()).unwrap_or_default(),
                    if e.has_down { "yes" } else { "" }.to_owned(),
                    e.note.clone().unwrap_or_default(),
                ]
            })
            .collect();
        write_table(f, header, &lines)?;
        for e in &self.entries {
            let why = match (&e.state, e.error()) {
                (
                    State::Dirty {
                        statements_done, ..
                    },
                    None,
                ) => format!(
                    "interrupted during statement {} (its process or connection died)",
                    statements_done + 1
                ),
                (_, Some(error)) => error.trim_end().replace('\n', "\n  "),
                _ => continue,
            };
            write!(f, "migration {} {}: {why}", e.version, e.state)?;
            if let Some(stopped) = &e.stopped {
                if let Some(pid) = stopped.running_pid {
                    write!(
                        f,
                        "\n  server process {pid} still runs it for a client that died, holding the migration lock"
                    )?;
                }
                match (e.error(), stopped.completed) {
                    (None, Some(true)) => write!(f, "\n  the catalog shows it completed")?,
                    (None, Some(false)) => write!(f, "\n  the catalog shows it did not complete")?,
                    (None, None) => write!(f, "\n  the catalog cannot tell whether it completed")?,
                    _ => {}
                }
                if !stopped.invalid_indexes.is_empty() {
                    write!(
                        f,
                        "\n  it left INVALID index(es): {}",
                        stopped.invalid_indexes.join(", ")
                    )?;
                }
            }
            writeln!(f)?;
        }
        if !self.repeatables.is_empty() {
            writeln!(f)?;
            let header = ["repeatable", "state", "applied at (UTC)", "objects"];
            let lines: Vec<[String; 4]> = self
                .repeatables
                .iter()
                .map(|r| {
                    [
                        r.name().to_owned(),
                        r.state().to_string(),
                        r.applied_at().map(utc).unwrap_or_default(),
                        r.objects().join(", "),
                    ]
                })
                .collect();
            write_table(f, header, &lines)?;
            for r in &self.repeatables {
                if let Some(error) = r.error() {
                    writeln!(
                        f,
                        "repeatable {} failed when last applied: {}",
                        r.name(),
                        error.trim_end().replace('\n', "\n  ")
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// `time` as `YYYY-MM-DD HH:MM:SS`, in UTC.
/// Writes `lines` under `header`, each column as wide as its widest cell.
fn write_table<const N: usize>(
    f: &mut fmt::Formatter<'_>,
    header: [&str; N],
    lines: &[[String; N]],
) -> fmt::Result {
    let mut widths = header.map(str::len);
    for line in lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header = header.map(str::to_owned);
    for line in std::iter::once(&header).chain(lines) {
        let cells: Vec<String> = line
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(f, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

fn utc(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time)
        .to_string()
        .trim_end_matches('Z')
        .replacen('T', " ", 1)
}

/// How many migrations are in each state.
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// let counts = MIGRATIONS.runner().status(&mut client)?.counts();
/// assert_eq!((counts.applied, counts.pending), (0, MIGRATIONS.len()));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Counts {
    /// Applied as the binary has them.
    pub applied: usize,
    /// Not applied yet, none applied above them.
    pub pending: usize,
    /// Not applied yet, or failed, below the highest version applied.
    pub out_of_order: usize,
    /// Failed and rolled back.
    pub failed: usize,
    /// No-transaction migrations stopped part way.
    pub dirty: usize,
    /// Applied, but edited since.
    pub divergent: usize,
    /// Applied, but unknown to the binary.
    pub missing: usize,
    /// Migrations in code, handled elsewhere.
    pub elsewhere: usize,
}

impl Counts {
    fn of(entries: &[Entry]) -> Counts {
        let mut counts = Counts::default();
        for e in entries {
            *match e.state {
                State::Applied => &mut counts.applied,
                State::Pending => &mut counts.pending,
                State::OutOfOrder => &mut counts.out_of_order,
                State::Failed => &mut counts.failed,
                State::Dirty { .. } => &mut counts.dirty,
                State::Divergent { .. } => &mut counts.divergent,
                State::Missing => &mut counts.missing,
                State::Elsewhere => &mut counts.elsewhere,
            } += 1;
        }
        counts
    }
}

/// The schema's health, for a `/health` endpoint: the current version and
/// how many migrations are in each state. With the `serde` feature it
/// serializes, e.g. to JSON:
/// `{"ok":true,"current_version":6,"applied":6,"pending":0,...}`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// MIGRATIONS.run(&mut client)?;
/// let health = MIGRATIONS.runner().health(&mut client)?;
/// assert!(health.ok);
/// assert_eq!(health.counts.applied, MIGRATIONS.len());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Health {
    /// Whether every migration of the binary is applied as it is, every
    /// repeatable migration too, and the history holds nothing else.
    pub ok: bool,
    /// The highest version applied.
    pub current_version: Option<i64>,
    /// How many migrations are in each state.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub counts: Counts,
    /// Whether the schema is the one the schema file says the migrations
    /// build: as the last [`Runner::check_schema`](crate::Runner::check_schema)
    /// of this process (or a run's check after it) found it, unless the
    /// runner was told to check it each time
    /// ([`Runner::health_checks_schema`](crate::Runner::health_checks_schema)).
    /// It does not change `ok`.
    pub schema: SchemaHealth,
    /// How many repeatable migrations are in each state.
    pub repeatables: RepeatableCounts,
}

impl From<&Status> for Health {
    fn from(status: &Status) -> Health {
        Health {
            ok: status.is_up_to_date(),
            current_version: status.current_version(),
            counts: status.counts(),
            schema: SchemaHealth::Unknown,
            repeatables: RepeatableCounts::of(status.repeatables()),
        }
    }
}
