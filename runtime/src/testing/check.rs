//! Checking a set of migrations on a database of its own: they apply, a
//! second run applies nothing, and every down script undoes its migration
//! exactly and lets it be applied again.

use super::schema::{Schema, schema};
use super::{TestDatabase, TestError, TestServer};
use crate::data::registry::{Migration, Migrations};
use crate::runner::options::Runner;
use postgres::Client;
use std::fmt;

/// What [`check_migrations`] checked, when it found nothing wrong.
///
/// ```
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
///
/// let checked = stowage::testing::check_migrations(&MIGRATIONS).unwrap();
/// assert_eq!(checked.downs(), [6]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    applied: Vec<i64>,
    downs: Vec<i64>,
    downs_skipped: Vec<i64>,
    schema_written: Option<String>,
    repeatables: Vec<String>,
}

impl Checked {
    /// The versions of the migrations applied, in order: all of them.
    pub fn applied(&self) -> &[i64] {
        &self.applied
    }

    /// The versions of the migrations whose down script was run, in order:
    /// each was applied, undone and applied again.
    pub fn downs(&self) -> &[i64] {
        &self.downs
    }

    /// The versions of the migrations whose down script was not run because
    /// it is a no-transaction one, which rollback does not run.
    pub fn downs_skipped(&self) -> &[i64] {
        &self.downs_skipped
    }

    /// The schema file, if the check wrote it: it was missing (and `CI` is
    /// not set), or `STOWAGE_UPDATE_SCHEMA` is set.
    pub fn schema_written(&self) -> Option<&str> {
        self.schema_written.as_deref()
    }

    /// The names of the repeatable migrations created, in the order they
    /// were, after the versioned ones.
    ///
    /// ```
    /// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    ///
    /// let checked = stowage::testing::check_migrations(&MIGRATIONS).unwrap();
    /// assert_eq!(checked.repeatables(), ["account_summary", "user_label"]);
    /// ```
    pub fn repeatables(&self) -> &[String] {
        &self.repeatables
    }
}

impl fmt::Display for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} migration(s) applied", self.applied.len())?;
        if !self.repeatables.is_empty() {
            write!(
                f,
                " and {} repeatable migration(s) created",
                self.repeatables.len()
            )?;
        }
        write!(f, ", and a second run applied nothing; ")?;
        if self.downs.is_empty() {
            write!(f, "no down script to check")?;
        } else {
            write!(
                f,
                "the down scripts of {} undo their migration exactly and let it be applied again",
                list(&self.downs)
            )?;
        }
        if !self.downs_skipped.is_empty() {
            write!(
                f,
                "; the no-transaction down scripts of {} were not run",
                list(&self.downs_skipped)
            )?;
        }
        if let Some(path) = &self.schema_written {
            write!(f, "; wrote the schema they build to {path}")?;
        }
        Ok(())
    }
}

/// What went wrong with a migration in [`check_migrations`]; see
/// [`Problem`] for an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The migration failed to apply.
    UpFailed,
    /// Its down script failed.
    DownFailed,
    /// After the migration and its down script, the schema is not what it
    /// was before the migration.
    DownDiffers,
    /// Applying the migration again after its down script failed.
    RedoFailed,
    /// Applying the migration again after its down script gave another
    /// schema than applying it the first time.
    RedoDiffers,
    /// A second run, after every migration was applied, applied something or
    /// failed.
    SecondRun,
    /// The schema file is missing (where `CI` is set), or is not the schema
    /// the migrations build; the message shows how it differs.
    SchemaFile,
}

/// One thing [`check_migrations`] found wrong.
///
/// ```
/// use stowage::testing::ProblemKind;
/// static BROKEN: stowage::Migrations = stowage::embed_migrations!("../tests/fixtures/downs_broken");
///
/// let error = stowage::testing::check_migrations(&BROKEN).unwrap_err();
/// let first = &error.problems()[0];
/// assert_eq!(first.kind(), ProblemKind::DownFailed);
/// println!("{:?}: {:?}", first.version(), first.only_before());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    kind: ProblemKind,
    version: Option<i64>,
    path: Option<&'static str>,
    down_path: Option<&'static str>,
    message: String,
    only_before: Vec<String>,
    only_after: Vec<String>,
}

impl Problem {
    fn new(kind: ProblemKind, migration: Option<Migration>, message: impl Into<String>) -> Self {
        Problem {
            kind,
            version: migration.map(|m| m.version()),
            path: migration.map(|m| m.up().path()),
            down_path: migration.and_then(|m| m.down()).map(|d| d.path()),
            message: message.into(),
            only_before: Vec::new(),
            only_after: Vec::new(),
        }
    }

    fn differs(
        kind: ProblemKind,
        migration: Migration,
        message: &str,
        before: &Schema,
        after: &Schema,
    ) -> Self {
        let (only_before, only_after) = before.diff(after);
        Problem {
            only_before: only_before.into_iter().map(str::to_owned).collect(),
            only_after: only_after.into_iter().map(str::to_owned).collect(),
            ..Problem::new(kind, Some(migration), message)
        }
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> ProblemKind {
        self.kind
    }

    /// The version of the migration concerned; `None` for a second run that
    /// applied or failed.
    pub fn version(&self) -> Option<i64> {
        self.version
    }

    /// The migration's file.
    pub fn path(&self) -> Option<&'static str> {
        self.path
    }

    /// The migration's down script, if it has one.
    pub fn down_path(&self) -> Option<&'static str> {
        self.down_path
    }

    /// For [`DownDiffers`](ProblemKind::DownDiffers) and
    /// [`RedoDiffers`](ProblemKind::RedoDiffers), the schema lines
    /// (see [`Schema`]) found only in the first of the two states compared:
    /// before the migration, or after its first application.
    pub fn only_before(&self) -> &[String] {
        &self.only_before
    }

    /// For [`DownDiffers`](ProblemKind::DownDiffers) and
    /// [`RedoDiffers`](ProblemKind::RedoDiffers), the schema lines found
    /// only in the second of the two states compared: after the down script,
    /// or after applying the migration again.
    pub fn only_after(&self) -> &[String] {
        &self.only_after
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(version), Some(path)) = (self.version, self.path) {
            write!(f, "migration {version} ({path}")?;
            if let Some(down) = self.down_path {
                write!(f, ", down script {down}")?;
            }
            write!(f, "): ")?;
        }
        write!(f, "{}", indent(&self.message, "   "))?;
        let (before, after) = match self.kind {
            ProblemKind::DownDiffers => (
                "only before the migration (the down script removed or changed it):",
                "only after the down script (the down script left it behind):",
            ),
            _ => (
                "only after applying it the first time:",
                "only after applying it again:",
            ),
        };
        for (label, sign, lines) in [
            (before, '-', &self.only_before),
            (after, '+', &self.only_after),
        ] {
            if !lines.is_empty() {
                write!(f, "\n   {label}")?;
                for line in lines {
                    write!(f, "\n     {sign} {line}")?;
                }
            }
        }
        Ok(())
    }
}

/// Applies `migrations` to a new database on [`TestServer::shared`] and
/// checks them, reporting every problem found.
///
/// On a fresh database, the migrations are applied one at a time, in
/// version order, the repeatable ones after them all. For each one that has a down script, the schema (see
/// [`schema`]) is read before and after it is applied; then its down script
/// is run ([`Runner::rollback_to`]) and must bring the schema back to what
/// it was before the migration; then the migration is applied again and
/// must give the same schema as the first time. Once every migration is
/// applied, a second run must apply nothing, and the schema file
/// ([`Migrations::schema_path`]) must hold the schema of the database: a
/// missing file is written (where the environment variable `CI` is not
/// set; where it is, a missing file is a problem), a different one is a
/// problem whose message shows the difference as a diff, and with
/// `STOWAGE_UPDATE_SCHEMA` set the file is written again. Its path is taken
/// from the crate root that `CARGO_MANIFEST_DIR` names (cargo sets it for
/// the tests of the crate that embeds the migrations). Each run and rollback
/// uses a connection of its own, as separate deployments would.
///
/// A problem does not stop the check unless the migrations after it cannot
/// be applied: a migration that fails to apply ends it. When a migration
/// cannot be applied again after its down script, the check goes on in a
/// new database brought up to that migration. The error lists every
/// problem, each naming the migration's version and files and, for a schema
/// that differs, the lines only in one state or the other;
/// [`TestError::problems`] gives them one by one.
///
/// Migrations are applied with the default options, so the tracking table is
/// `stowage_migrations` in the current schema. Down scripts marked
/// `-- stowage:no-transaction` are not run (rollback does not support them);
/// [`Checked::downs_skipped`] lists them.
///
/// ```no_run
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
///
/// #[test]
/// fn migrations() -> Result<(), stowage::testing::TestError> {
///     let checked = stowage::testing::check_migrations(&MIGRATIONS)?;
///     assert!(checked.downs().contains(&6));
///     Ok(())
/// }
/// ```
pub fn check_migrations(migrations: &Migrations) -> Result<Checked, TestError> {
    let migrations = *migrations;
    super::off_runtime(move || {
        let server = TestServer::shared()?;
        Check::new(server, &migrations)?.run()
    })
}

/// [`check_migrations`], panicking with its error's message, which lists
/// every problem found.
///
/// ```no_run
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
///
/// #[test]
/// fn migrations() {
///     stowage::testing::assert_migrations(&MIGRATIONS);
/// }
/// ```
#[track_caller]
pub fn assert_migrations(migrations: &Migrations) {
    if let Err(e) = check_migrations(migrations) {
        panic!("{e}");
    }
}

/// The state of one check.
struct Check {
    server: &'static TestServer,
    migrations: Migrations,
    runner: Runner,
    db: TestDatabase<'static>,
    problems: Vec<Problem>,
    checked: Checked,
}

impl Check {
    fn new(server: &'static TestServer, migrations: &Migrations) -> Result<Self, TestError> {
        let runner = migrations.runner();
        let db = fresh_database(server, &runner)?;
        Ok(Check {
            server,
            migrations: *migrations,
            runner,
            db,
            problems: Vec::new(),
            checked: Checked::default(),
        })
    }

    fn run(mut self) -> Result<Checked, TestError> {
        let last_down = self
            .migrations
            .iter()
            .rposition(|m| m.down().is_some())
            .map_or(0, |i| i + 1);
        let mut before = schema(&mut self.connect()?)?;
        let mut ended = false;
        for migration in self.migrations.iter().take(last_down) {
            match self.step(migration, before)? {
                Some(after) => before = after,
                None => {
                    ended = true;
                    break;
                }
            }
        }
        if !ended {
            ended = !self.finish()?;
        }
        if !ended {
            self.schema_file()?;
        }
        if self.problems.is_empty() {
            return Ok(self.checked);
        }
        let count = self.problems.len();
        let mut message = format!(
            "checking {} migration(s) found {count} problem(s):",
            self.migrations.len()
        );
        for (i, problem) in self.problems.iter().enumerate() {
            message.push_str(&format!(
                "\n\n{}. {}",
                i + 1,
                indent(&problem.to_string(), "   ")
            ));
        }
        if ended {
            message.push_str(
                "\n\nthe check stopped at the migration that failed to apply: the ones after it were not checked",
            );
        }
        Err(TestError {
            problems: self.problems,
            ..TestError::new(message)
        })
    }

    /// Applies `migration` to a database in state `before` and, if it has a
    /// down script, undoes and redoes it. The schema it leaves, or `None`
    /// when the check cannot go on.
    fn step(&mut self, migration: Migration, before: Schema) -> Result<Option<Schema>, TestError> {
        if !self.apply(migration, ProblemKind::UpFailed, "")? {
            return Ok(None);
        }
        let applied = schema(&mut self.connect()?)?;
        match migration.down() {
            None => return Ok(Some(applied)),
            Some(down) if !down.is_transactional() => {
                self.checked.downs_skipped.push(migration.version());
                return Ok(Some(applied));
            }
            Some(_) => {}
        }
        let undone = self
            .runner
            .rollback_to(&mut self.connect()?, migration.version() - 1);
        if let Err(e) = undone {
            self.problems.push(Problem::new(
                ProblemKind::DownFailed,
                Some(migration),
                format!("its down script failed:\n{}", describe(&e)),
            ));
            return Ok(Some(applied));
        }
        let after_down = schema(&mut self.connect()?)?;
        let down_differs = after_down != before;
        if down_differs {
            self.problems.push(Problem::differs(
                ProblemKind::DownDiffers,
                migration,
                "its down script does not undo it: after the migration and its down script, \
                 the schema differs from the schema before the migration",
                &before,
                &after_down,
            ));
        }
        let hint = if down_differs {
            "\n(the down script left the schema changed, see above)"
        } else {
            "\n(the down script may have left data behind that the migration does not expect)"
        };
        if !self.apply(migration, ProblemKind::RedoFailed, hint)? {
            // Go on in a database where the migration was applied once.
            self.db = fresh_database(self.server, &self.runner)?;
            return match self
                .stepping()
                .target(migration.version())
                .run(&mut self.connect()?)
            {
                Ok(_) => Ok(Some(schema(&mut self.connect()?)?)),
                Err(e) => {
                    self.problems.push(Problem::new(
                        ProblemKind::UpFailed,
                        Some(migration),
                        format!("it failed to apply in a new database:\n{}", describe(&e)),
                    ));
                    Ok(None)
                }
            };
        }
        self.checked.downs.push(migration.version());
        let redone = schema(&mut self.connect()?)?;
        if redone != applied {
            self.problems.push(Problem::differs(
                ProblemKind::RedoDiffers,
                migration,
                &format!(
                    "applying it again after its down script gives another schema than applying it \
                     the first time{}",
                    if down_differs {
                        " (the down script left the schema changed, see above)"
                    } else {
                        ""
                    }
                ),
                &applied,
                &redone,
            ));
        }
        Ok(Some(redone))
    }

    /// Applies the pending migrations up to `migration`; records a problem
    /// of `kind` and returns `false` if that fails.
    /// The runner of the steps through the versioned migrations, which
    /// leaves the repeatable ones to the last run.
    fn stepping(&self) -> Runner {
        let mut runner = self.runner.clone();
        runner.repeatables = false;
        runner
    }

    fn apply(
        &mut self,
        migration: Migration,
        kind: ProblemKind,
        hint: &str,
    ) -> Result<bool, TestError> {
        let outcome = self
            .stepping()
            .target(migration.version())
            .run(&mut self.connect()?);
        match outcome {
            Ok(report) => {
                if kind == ProblemKind::UpFailed {
                    self.checked
                        .applied
                        .extend(report.applied().iter().map(|a| a.version()));
                }
                Ok(true)
            }
            Err(e) => {
                let what = match kind {
                    ProblemKind::UpFailed => "it failed to apply",
                    _ => "applying it again after its down script failed",
                };
                self.problems.push(Problem::new(
                    kind,
                    Some(migration),
                    format!("{what}:\n{}{hint}", describe(&e)),
                ));
                Ok(false)
            }
        }
    }

    /// Applies the rest, then requires a second run to apply nothing;
    /// `false` if the rest could not be applied.
    fn finish(&mut self) -> Result<bool, TestError> {
        let start_schema = current_schema(&mut self.connect()?)?;
        match self.runner.run(&mut self.connect()?) {
            Ok(report) => {
                self.checked
                    .applied
                    .extend(report.applied().iter().map(|a| a.version()));
                self.checked
                    .repeatables
                    .extend(report.repeatables().iter().map(|r| r.name().to_owned()));
            }
            Err(e) => {
                let failed = match &e {
                    crate::Error::Migration(m) => self.migrations.get(m.version()),
                    _ => None,
                };
                let what = if failed.is_some() {
                    "it failed to apply"
                } else {
                    "applying the migrations failed"
                };
                self.problems.push(Problem::new(
                    ProblemKind::UpFailed,
                    failed,
                    format!("{what}:\n{}", describe(&e)),
                ));
                return Ok(false);
            }
        }
        let mut message = match self.runner.run(&mut self.connect()?) {
            Ok(report) if report.is_empty() => return Ok(true),
            Ok(report) => format!(
                "a second run, after every migration was applied, applied {} again; it should apply nothing:\n{report}",
                list(
                    &report
                        .applied()
                        .iter()
                        .map(|a| a.version())
                        .collect::<Vec<_>>()
                )
            ),
            Err(e) => format!(
                "a second run, after every migration was applied, failed; it should apply nothing:\n{}",
                describe(&e)
            ),
        };
        let end_schema = current_schema(&mut self.connect()?)?;
        if end_schema != start_schema {
            message.push_str(&format!(
                "\n(new sessions now have the current schema {} instead of {}, so they look for the \
                 tracking table there: does a migration change search_path for the database or a role?)",
                end_schema.as_deref().unwrap_or("(none)"),
                start_schema.as_deref().unwrap_or("(none)"),
            ));
        }
        self.problems
            .push(Problem::new(ProblemKind::SecondRun, None, message));
        Ok(true)
    }

    fn connect(&self) -> Result<Client, TestError> {
        self.db.connect()
    }

    /// Compares the schema file with the schema of the database, where
    /// every migration is applied now; writes it where it may.
    fn schema_file(&mut self) -> Result<(), TestError> {
        match super::file::keep(&self.migrations, &mut self.connect()?)? {
            super::file::Outcome::Matches => {}
            super::file::Outcome::Written(path) => {
                self.checked.schema_written = Some(path.display().to_string());
            }
            super::file::Outcome::Wrong(message) => {
                self.problems
                    .push(Problem::new(ProblemKind::SchemaFile, None, message));
            }
        }
        Ok(())
    }
}

/// A new database with an empty tracking table, so that the table is part
/// of every state compared rather than appearing with the first migration.
fn fresh_database(
    server: &'static TestServer,
    runner: &Runner,
) -> Result<TestDatabase<'static>, TestError> {
    let db = server.create_database()?;
    let mut client = db.connect()?;
    // Under the lock, as a run would, the tracking table is created.
    crate::conversation::blocking::block_on(crate::operations::mend::prepare(runner, &mut client))
        .map_err(|e| TestError::with("cannot create the tracking table", e))?;
    Ok(db)
}

/// The session's current schema, where the default tracking table is.
fn current_schema(client: &mut Client) -> Result<Option<String>, TestError> {
    client
        .query_one("SELECT current_schema()::text", &[])
        .and_then(|row| row.try_get(0))
        .map_err(|e| TestError::with("cannot read the current schema", e))
}

/// What the server said about a failed script, without the advice on what
/// the next run will do, which does not apply to a check's throwaway
/// database; other errors as they are.
fn describe(error: &crate::Error) -> String {
    match error {
        crate::Error::Migration(m) => m.summary(),
        other => other.to_string(),
    }
}

/// `1, 2 and 3`.
fn list(versions: &[i64]) -> String {
    let text: Vec<String> = versions.iter().map(i64::to_string).collect();
    match text.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// `text` with every line after the first indented by `prefix`.
fn indent(text: &str, prefix: &str) -> String {
    text.replace('\n', &format!("\n{prefix}"))
}
