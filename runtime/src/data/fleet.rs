//! What a fleet's call hands back: one line per target, in the fleet's
//! order, each target's outcome; for `status`, the targets grouped by
//! where they stand, and the fleet's health.

use crate::data::drift::{SchemaCheck, SchemaHealth, SchemaOutcome};
use crate::data::error::Error;
use crate::data::plan::Plan;
use crate::data::registry::Migrations;
use crate::data::remedy::Words;
use crate::data::repeatable_status::RepeatableCounts;
use crate::data::report::{Report, TargetBelow};
use crate::data::status::{Counts, Entry, Health, State, Status};
use crate::data::verification::Verification;
use std::fmt;
use std::time::Duration;

/// The schemas of a database that a [`Fleet`](crate::Fleet) migrates, each
/// a target with its own tracking table, lock and history.
///
/// ```
/// use stowage::Schemas;
///
/// let listed = Schemas::listed(["tenant_1", "tenant_2"]);
/// let matching = Schemas::matching("tenant_*"); // `*` and `?` are the only wildcards
/// let queried = Schemas::query("SELECT schema_name FROM public.tenants WHERE active ORDER BY id");
/// assert_ne!(listed, matching);
/// # let _ = queried;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Schemas {
    /// These schemas, in this order; each is created if missing.
    Listed(Vec<String>),
    /// The existing schemas whose names match a pattern, in byte order of
    /// the names: `*` stands for any run of characters, `?` for any one,
    /// and every other character for itself (`tenant_*` matches `tenant_7`,
    /// not `tenantX7`). The system's schemas (`pg_*`,
    /// `information_schema`) are never matched.
    Matching(String),
    /// The schemas named by the first column of the rows of a query, in the
    /// order of the rows; each is created if missing.
    Query(String),
}

impl Schemas {
    /// These schemas, in this order.
    pub fn listed<I, S>(names: I) -> Schemas
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Schemas::Listed(names.into_iter().map(Into::into).collect())
    }

    /// The existing schemas matching `glob`.
    pub fn matching(glob: impl Into<String>) -> Schemas {
        Schemas::Matching(glob.into())
    }

    /// The schemas a query names, e.g.
    /// `SELECT schema_name FROM public.tenants ORDER BY id`.
    pub fn query(sql: impl Into<String>) -> Schemas {
        Schemas::Query(sql.into())
    }
}

/// One target of a fleet: a database the fleet names, and for a fleet of
/// schemas, one schema of it; its tracking table is the runner's, placed
/// in that schema.
///
/// It prints as `database/schema`, or `database` for a database of its own,
/// followed by the tracking table in parentheses when the runner names
/// one.
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// let fleet = stowage::Fleet::new()
///     .schemas("app", db.config().clone(), stowage::Schemas::listed(["tenant_1"]), MIGRATIONS.runner());
/// let report = fleet.run(|config| config.connect(postgres::NoTls))?;
/// let target = report.targets()[0].target();
/// assert_eq!((target.database(), target.schema()), ("app", Some("tenant_1")));
/// assert_eq!(target.to_string(), "app/tenant_1");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Target {
    pub(crate) database: String,
    pub(crate) schema: Option<String>,
    pub(crate) table: Option<String>,
}

impl Target {
    /// The name the fleet gives the target's database.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The target's schema, for a fleet of schemas.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The tracking table, as the runner names it (placed in the target's
    /// schema, for a fleet of schemas), if it names one.
    pub fn table(&self) -> Option<&str> {
        self.table.as_deref()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.database)?;
        if let Some(schema) = &self.schema {
            write!(f, "/{schema}")?;
        }
        if let Some(table) = &self.table {
            write!(f, " ({table})")?;
        }
        Ok(())
    }
}

/// How a fleet's call went for one target.
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// use stowage::{Fleet, TargetOutcome, Schemas};
/// let fleet = Fleet::new()
///     .schemas("app", db.config().clone(), Schemas::listed(["a", "b"]), MIGRATIONS.runner());
/// for line in fleet.run(|config| config.connect(postgres::NoTls))?.targets() {
///     match line.outcome() {
///         TargetOutcome::Done(migrated) => println!("{}: {migrated}", line.target()),
///         TargetOutcome::Failed(error) | TargetOutcome::Unreachable(error) => eprintln!("{}: {error}", line.target()),
///         TargetOutcome::NotStarted => println!("{}: not started", line.target()),
///         _ => {}
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum TargetOutcome<T> {
    /// The call ended well, with this.
    Done(T),
    /// The call failed, as it would for this target alone.
    Failed(Error),
    /// The target's database could not be reached.
    Unreachable(Error),
    /// The fleet stopped before this target's turn: a failure came first,
    /// or a canary failed.
    NotStarted,
}

impl<T> TargetOutcome<T> {
    /// What the call gave, if it ended well.
    pub fn done(&self) -> Option<&T> {
        match self {
            TargetOutcome::Done(done) => Some(done),
            _ => None,
        }
    }

    /// The error, for a failed or unreachable target.
    pub fn error(&self) -> Option<&Error> {
        match self {
            TargetOutcome::Failed(error) | TargetOutcome::Unreachable(error) => Some(error),
            _ => None,
        }
    }

    /// `done`, `failed`, `unreachable` or `not-started`.
    pub fn name(&self) -> &'static str {
        match self {
            TargetOutcome::Done(_) => "done",
            TargetOutcome::Failed(_) => "failed",
            TargetOutcome::Unreachable(_) => "unreachable",
            TargetOutcome::NotStarted => "not-started",
        }
    }
}

/// One target's line of a [`FleetReport`].
///
/// See [`TargetOutcome`] for an example.
#[derive(Debug)]
pub struct TargetReport<T> {
    pub(crate) target: Target,
    pub(crate) outcome: TargetOutcome<T>,
}

impl<T> TargetReport<T> {
    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// How the call went for it.
    pub fn outcome(&self) -> &TargetOutcome<T> {
        &self.outcome
    }
}

/// What a fleet's call did, one line per target in the fleet's order:
/// [`Fleet::run`](crate::Fleet::run) gives a `FleetReport<Migrated>`,
/// [`Fleet::status`](crate::Fleet::status) a [`FleetStatus`],
/// [`Fleet::plan`](crate::Fleet::plan) a `FleetReport<Plan>` and
/// [`Fleet::verify`](crate::Fleet::verify) a `FleetReport<Verification>`.
/// Each prints as a readable summary.
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// use stowage::{Fleet, Schemas};
/// let fleet = Fleet::new()
///     .schemas("app", db.config().clone(), Schemas::listed(["a", "b"]), MIGRATIONS.runner())
///     .jobs(2);
/// let report = fleet.run(|config| config.connect(postgres::NoTls))?;
/// assert!(report.is_ok());
/// print!("{report}"); // app/a: applied 6 migration(s) ...
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct FleetReport<T> {
    pub(crate) targets: Vec<TargetReport<T>>,
}

/// What [`Fleet::status`](crate::Fleet::status) gives: every target's
/// version and state.
pub type FleetStatus = FleetReport<TargetStatus>;

impl<T> FleetReport<T> {
    /// Every target's line, in the fleet's order.
    pub fn targets(&self) -> &[TargetReport<T>] {
        &self.targets
    }

    /// The line of `target` (as it prints, e.g. `app/tenant_7`).
    pub fn get(&self, target: &str) -> Option<&TargetReport<T>> {
        self.targets
            .iter()
            .find(|line| line.target.to_string() == target)
    }

    /// Whether the call ended well for every target.
    pub fn is_ok(&self) -> bool {
        self.targets
            .iter()
            .all(|line| matches!(line.outcome, TargetOutcome::Done(_)))
    }

    /// How many targets ended each way: done, failed, unreachable, not
    /// started.
    fn tally(&self) -> [usize; 4] {
        let mut tally = [0; 4];
        for line in &self.targets {
            tally[match line.outcome {
                TargetOutcome::Done(_) => 0,
                TargetOutcome::Failed(_) => 1,
                TargetOutcome::Unreachable(_) => 2,
                TargetOutcome::NotStarted => 3,
            }] += 1;
        }
        tally
    }

    /// Writes each line as `target: ...`, the done ones by `done`, then a
    /// closing count, the done ones counted under `kinds`: the first for
    /// those `is_first` says, the second for the others.
    fn render_lines(
        &self,
        words: Words,
        f: &mut dyn fmt::Write,
        done: impl Fn(&T, &mut dyn fmt::Write) -> fmt::Result,
        kinds: [&str; 2],
        is_first: impl Fn(&T) -> bool,
    ) -> fmt::Result {
        for line in &self.targets {
            write!(f, "{}: ", line.target)?;
            match &line.outcome {
                TargetOutcome::Done(value) => {
                    let mut text = String::new();
                    done(value, &mut text)?;
                    write_indented(f, &text)?;
                }
                TargetOutcome::Failed(error) => {
                    f.write_str("failed: ")?;
                    write_error(f, error, words)?;
                }
                TargetOutcome::Unreachable(error) => {
                    f.write_str("unreachable: ")?;
                    write_error(f, error, words)?;
                }
                TargetOutcome::NotStarted => {
                    f.write_str("not started: the fleet stopped before it")?
                }
            }
            writeln!(f)?;
        }
        let [_, failed, unreachable, not_started] = self.tally();
        let first = self
            .targets
            .iter()
            .filter(|l| l.outcome.done().is_some_and(&is_first))
            .count();
        let mut parts = vec![
            format!("{first} {}", kinds[0]),
            format!("{} {}", self.tally()[0] - first, kinds[1]),
        ];
        for (n, name) in [
            (failed, "failed"),
            (unreachable, "unreachable"),
            (not_started, "not started"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {name}"));
            }
        }
        writeln!(f, "{} target(s): {}", self.targets.len(), parts.join(", "))
    }
}

/// Writes `error` in `words`, its lines after the first indented.
fn write_error(f: &mut dyn fmt::Write, error: &Error, words: Words) -> fmt::Result {
    let mut text = String::new();
    error.render(words, &mut text)?;
    write_indented(f, &text)
}

/// Writes `text` without its last line break, its lines after the first
/// indented by two spaces.
fn write_indented(f: &mut dyn fmt::Write, text: &str) -> fmt::Result {
    f.write_str(&text.trim_end().replace('\n', "\n  "))
}

// ---------------------------------------------------------------------- run

/// What a fleet's run did for one target: how many migrations it applied,
/// the first and the last, and how long they took; nothing applied means
/// the target was up to date.
///
/// See [`FleetReport`] for an example.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Migrated {
    pub(crate) applied: usize,
    pub(crate) first: Option<i64>,
    pub(crate) last: Option<i64>,
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "duration_ms",
            serialize_with = "crate::data::serde_time::millis"
        )
    )]
    pub(crate) duration: Duration,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub(crate) target_below: Option<TargetBelow>,
}

impl Migrated {
    /// How many migrations the run applied.
    pub fn applied(&self) -> usize {
        self.applied
    }

    /// The first and the last version it applied.
    pub fn versions(&self) -> Option<(i64, i64)> {
        self.first.zip(self.last)
    }

    /// Whether it applied nothing: the target was up to date.
    pub fn is_up_to_date(&self) -> bool {
        self.applied == 0
    }

    /// The time spent applying.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// When the runner's target is below the version the target is at, the
    /// two versions: it applied nothing.
    pub fn target_below(&self) -> Option<TargetBelow> {
        self.target_below
    }
}

impl From<&Report> for Migrated {
    fn from(report: &Report) -> Migrated {
        Migrated {
            applied: report.applied().len(),
            first: report.applied().first().map(|a| a.version()),
            last: report.applied().last().map(|a| a.version()),
            duration: report.duration(),
            target_below: report.target_below(),
        }
    }
}

impl fmt::Display for Migrated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.first, self.last) {
            (Some(first), Some(last)) if first == last => {
                write!(f, "applied migration {first} in {:?}", self.duration)
            }
            (Some(first), Some(last)) => write!(
                f,
                "applied {} migration(s), {first} to {last}, in {:?}",
                self.applied, self.duration
            ),
            _ => match self.target_below {
                Some(TargetBelow { target, current }) => write!(
                    f,
                    "nothing to apply: the target {target} is below the current version {current}"
                ),
                None => f.write_str("up to date"),
            },
        }
    }
}

impl FleetReport<Migrated> {
    pub(crate) fn render(&self, words: Words, f: &mut dyn fmt::Write) -> fmt::Result {
        self.render_lines(
            words,
            f,
            |m, f| write!(f, "{m}"),
            ["migrated", "up to date"],
            |m| !m.is_up_to_date(),
        )
    }
}

impl fmt::Display for FleetReport<Migrated> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, f)
    }
}

// ------------------------------------------------------------------- plan

impl FleetReport<Plan> {
    /// Whether some target has something to apply.
    pub fn has_steps(&self) -> bool {
        self.targets
            .iter()
            .any(|l| l.outcome.done().is_some_and(|p| !p.is_empty()))
    }

    pub(crate) fn render(&self, words: Words, f: &mut dyn fmt::Write) -> fmt::Result {
        self.render_lines(
            words,
            f,
            |plan, f| {
                if plan.is_empty() {
                    return f.write_str("nothing to apply");
                }
                let versions: Vec<String> = plan
                    .steps()
                    .iter()
                    .map(|s| match s.from_statement() {
                        1 => s.migration().version().to_string(),
                        n => format!("{} (from statement {n})", s.migration().version()),
                    })
                    .collect();
                write!(
                    f,
                    "would apply {} migration(s): {}",
                    versions.len(),
                    versions.join(", ")
                )
            },
            ["with migrations to apply", "up to date"],
            |p| !p.is_empty(),
        )
    }
}

impl fmt::Display for FleetReport<Plan> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, f)
    }
}

// ----------------------------------------------------------------- verify

impl FleetReport<Verification> {
    /// Whether some target's history disagrees with the binary.
    pub fn has_problems(&self) -> bool {
        self.targets
            .iter()
            .any(|l| l.outcome.done().is_some_and(|v| !v.is_ok()))
    }

    pub(crate) fn render(&self, words: Words, f: &mut dyn fmt::Write) -> fmt::Result {
        self.render_lines(
            words,
            f,
            |v, f| {
                if v.is_ok() && v.pending().is_empty() {
                    return match v.current_version() {
                        Some(current) => write!(f, "ok, at {current}"),
                        None => f.write_str("ok, nothing applied"),
                    };
                }
                f.write_str("\n")?;
                v.render(words, f)
            },
            ["ok", "with problems"],
            Verification::is_ok,
        )
    }
}

impl fmt::Display for FleetReport<Verification> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, f)
    }
}

impl FleetReport<SchemaCheck> {
    /// Whether some target's schema differs from the schema file.
    pub fn has_drift(&self) -> bool {
        self.targets.iter().any(|l| {
            l.outcome
                .done()
                .is_some_and(|c| matches!(c.outcome(), SchemaOutcome::Differs { .. }))
        })
    }

    /// With `full`, every difference of each target; else how many.
    pub(crate) fn render(&self, words: Words, full: bool, f: &mut dyn fmt::Write) -> fmt::Result {
        self.render_lines(
            words,
            f,
            |c, f| match c.outcome() {
                SchemaOutcome::Differs { differences, .. } if !full => write!(
                    f,
                    "the schema differs from {} in {} place(s)",
                    c.file(),
                    differences.len()
                ),
                _ => c.render(words, f),
            },
            ["matching the schema file", "differing or not compared"],
            SchemaCheck::is_ok,
        )
    }
}

impl fmt::Display for FleetReport<SchemaCheck> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, true, f)
    }
}

// ----------------------------------------------------------------- status

/// Where one target of a fleet stands: its [`Health`], and the first
/// migration, in version order, that is neither applied nor pending
/// (failed, dirty, divergent, missing or out of order), if any.
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// use stowage::{Fleet, Schemas};
/// let fleet = Fleet::new()
///     .schemas("app", db.config().clone(), Schemas::listed(["a"]), MIGRATIONS.runner());
/// let status = fleet.status(|config| config.connect(postgres::NoTls))?;
/// let a = status.targets()[0].outcome().done().expect("read");
/// assert_eq!((a.current_version(), a.health().counts.pending), (None, MIGRATIONS.len()));
/// assert!(a.problem().is_none());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TargetStatus {
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub(crate) health: Health,
    pub(crate) problem: Option<Entry>,
}

impl TargetStatus {
    /// The status of a target whose history records exactly `migrations`,
    /// all successful, for a binary without repeatable migrations: as a
    /// status reads it, with the versions handled elsewhere shown as such.
    pub(crate) fn up_to_date(migrations: Migrations) -> TargetStatus {
        TargetStatus {
            health: Health {
                // Versions handled elsewhere are nothing to run, as in a
                // target's own status.
                ok: true,
                current_version: migrations.newest().map(|m| m.version()),
                counts: Counts {
                    applied: migrations.len(),
                    elsewhere: migrations.elsewhere().len(),
                    ..Counts::default()
                },
                schema: SchemaHealth::Unknown,
                repeatables: RepeatableCounts::default(),
            },
            problem: None,
        }
    }

    /// Its current version, counts per state, and whether it is up to date.
    pub fn health(&self) -> Health {
        self.health
    }

    /// The highest version applied.
    pub fn current_version(&self) -> Option<i64> {
        self.health.current_version
    }

    /// Whether every migration of the binary is applied, and nothing else.
    pub fn is_up_to_date(&self) -> bool {
        self.health.ok
    }

    /// The first migration that is neither applied, pending nor handled
    /// elsewhere.
    pub fn problem(&self) -> Option<&Entry> {
        self.problem.as_ref()
    }

    /// How many migrations are neither applied nor pending.
    fn problems(&self) -> usize {
        let c = self.health.counts;
        c.out_of_order + c.failed + c.dirty + c.divergent + c.missing
    }

    /// `at 41, failed at 42: ERROR ...`, `at 40, 2 pending`, `at 42, 1
    /// repeatable(s) to apply`, `at 42`.
    fn summary(&self) -> String {
        let mut text = match self.health.current_version {
            Some(v) => format!("at {v}"),
            None => "with nothing applied".to_owned(),
        };
        if let Some(problem) = &self.problem {
            text.push_str(&format!(", {} at {}", problem.state(), problem.version()));
            if let Some(error) = problem.error() {
                text.push_str(": ");
                text.push_str(error.lines().next().unwrap_or_default());
            }
            if self.problems() > 1 {
                text.push_str(&format!(" (and {} more)", self.problems() - 1));
            }
        } else if self.health.counts.pending > 0 {
            text.push_str(&format!(", {} pending", self.health.counts.pending));
        }
        let r = self.health.repeatables;
        let to_apply = r.pending + r.changed + r.absent + r.removed;
        if to_apply > 0 {
            text.push_str(&format!(", {to_apply} repeatable(s) to apply"));
        }
        text
    }
}

impl From<&Status> for TargetStatus {
    fn from(status: &Status) -> TargetStatus {
        TargetStatus {
            health: Health::from(status),
            problem: status
                .entries()
                .iter()
                .find(|e| {
                    !matches!(
                        e.state(),
                        State::Applied | State::Pending | State::Elsewhere
                    )
                })
                .cloned(),
        }
    }
}

impl fmt::Display for TargetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

/// Targets that stand the same way, for [`FleetReport::groups`]: `812 at
/// 42`, `3 at 41, failed at 42: ...`, `1 unreachable`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StatusGroup<'a> {
    summary: String,
    /// Whether these targets are up to date.
    up_to_date: bool,
    targets: Vec<&'a Target>,
}

impl StatusGroup<'_> {
    /// How they stand, e.g. `at 41, failed at 42: ERROR 42P01: ...`.
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// The targets, in the fleet's order.
    pub fn targets(&self) -> &[&Target] {
        &self.targets
    }

    /// Whether these targets are up to date.
    pub fn is_up_to_date(&self) -> bool {
        self.up_to_date
    }
}

impl fmt::Display for StatusGroup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.targets.len(), self.summary)
    }
}

/// The fleet's health, for a `/health` endpoint: whether every target is
/// up to date, and how many are in each condition. With the `serde`
/// feature it serializes, e.g. to JSON.
///
/// ```
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// use stowage::{Fleet, Schemas};
/// let fleet = Fleet::new()
///     .schemas("app", db.config().clone(), Schemas::listed(["a", "b"]), MIGRATIONS.runner());
/// fleet.run(|config| config.connect(postgres::NoTls))?;
/// let health = fleet.status(|config| config.connect(postgres::NoTls))?.health();
/// assert!(health.ok);
/// assert_eq!((health.targets, health.up_to_date), (2, 2));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct FleetHealth {
    /// Whether every target is up to date.
    pub ok: bool,
    /// How many targets the fleet has.
    pub targets: usize,
    /// Targets with every migration applied, and nothing else.
    pub up_to_date: usize,
    /// Targets with pending migrations and no other problem.
    pub behind: usize,
    /// Targets with a failed, dirty, divergent, missing or out-of-order
    /// migration, or whose status could not be read.
    pub problems: usize,
    /// Targets whose database could not be reached.
    pub unreachable: usize,
    /// The lowest current version among the targets read.
    pub lowest_version: Option<i64>,
    /// The highest current version among the targets read.
    pub highest_version: Option<i64>,
}

impl FleetReport<TargetStatus> {
    /// The targets grouped by where they stand, the largest group first
    /// (of groups as large, the one whose first target comes first).
    pub fn groups(&self) -> Vec<StatusGroup<'_>> {
        let mut groups: Vec<StatusGroup<'_>> = Vec::new();
        for line in &self.targets {
            let (summary, up_to_date) = match &line.outcome {
                TargetOutcome::Done(status) => (status.summary(), status.is_up_to_date()),
                TargetOutcome::Failed(_) => ("could not be read".to_owned(), false),
                TargetOutcome::Unreachable(_) => ("unreachable".to_owned(), false),
                TargetOutcome::NotStarted => ("not read".to_owned(), false),
            };
            match groups.iter_mut().find(|g| g.summary == summary) {
                Some(group) => group.targets.push(&line.target),
                None => groups.push(StatusGroup {
                    summary,
                    up_to_date,
                    targets: vec![&line.target],
                }),
            }
        }
        // A stable sort keeps groups of one size in order of appearance.
        groups.sort_by_key(|g| std::cmp::Reverse(g.targets.len()));
        groups
    }

    /// The fleet's health.
    pub fn health(&self) -> FleetHealth {
        let mut health = FleetHealth {
            ok: false,
            targets: self.targets.len(),
            up_to_date: 0,
            behind: 0,
            problems: 0,
            unreachable: 0,
            lowest_version: None,
            highest_version: None,
        };
        for line in &self.targets {
            match &line.outcome {
                TargetOutcome::Done(status) => {
                    if status.is_up_to_date() {
                        health.up_to_date += 1;
                    } else if status.problem.is_none() {
                        health.behind += 1;
                    } else {
                        health.problems += 1;
                    }
                    let version = status.current_version();
                    health.lowest_version = match (health.lowest_version, version) {
                        (Some(low), Some(v)) => Some(low.min(v)),
                        (low, v) => low.or(v),
                    };
                    health.highest_version = health.highest_version.max(version);
                }
                TargetOutcome::Failed(_) => health.problems += 1,
                TargetOutcome::Unreachable(_) | TargetOutcome::NotStarted => {
                    health.unreachable += 1
                }
            }
        }
        health.ok = health.up_to_date == health.targets;
        health
    }

    pub(crate) fn render(&self, words: Words, f: &mut dyn fmt::Write) -> fmt::Result {
        let groups = self.groups();
        let parts: Vec<String> = groups.iter().map(ToString::to_string).collect();
        writeln!(f, "{} target(s): {}", self.targets.len(), parts.join("; "))?;
        for group in groups.iter().filter(|g| !g.up_to_date) {
            writeln!(f, "{group}:")?;
            for target in &group.targets {
                write!(f, "  {target}")?;
                let error = self
                    .targets
                    .iter()
                    .find(|l| std::ptr::eq(&l.target, *target))
                    .and_then(|l| l.outcome.error());
                if let Some(error) = error {
                    f.write_str(": ")?;
                    let mut text = String::new();
                    error.render(words, &mut text)?;
                    f.write_str(&text.trim_end().replace('\n', "\n    "))?;
                }
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for FleetReport<TargetStatus> {
    /// The groups on one line, then the targets of each group that is not
    /// up to date.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, f)
    }
}

// ------------------------------------------------------------------ serde

#[cfg(feature = "serde")]
impl<T: serde::Serialize> serde::Serialize for TargetReport<T> {
    /// The target's `database`, `schema` and `table`, its `outcome`
    /// (`done`, `failed`, `unreachable`, `not-started`), and the call's
    /// value (its fields) or the `error`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        #[serde(tag = "outcome", rename_all = "kebab-case")]
        enum Shown<'a, T> {
            Done(&'a T),
            Failed { error: &'a Error },
            Unreachable { error: &'a Error },
            NotStarted,
        }
        #[derive(serde::Serialize)]
        struct Line<'a, T> {
            #[serde(flatten)]
            target: &'a Target,
            #[serde(flatten)]
            outcome: Shown<'a, T>,
        }
        let outcome = match &self.outcome {
            TargetOutcome::Done(done) => Shown::Done(done),
            TargetOutcome::Failed(error) => Shown::Failed { error },
            TargetOutcome::Unreachable(error) => Shown::Unreachable { error },
            TargetOutcome::NotStarted => Shown::NotStarted,
        };
        Line {
            target: &self.target,
            outcome,
        }
        .serialize(serializer)
    }
}

#[cfg(feature = "serde")]
impl<T: serde::Serialize> serde::Serialize for FleetReport<T> {
    /// `{"targets": [...]}`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("targets", &self.targets)?;
        map.end()
    }
}
