//! A `db` subcommand for the program's own command line, so that the
//! binary that carries the migrations is also the tool to inspect and mend
//! its database.
//!
//! Mount [`Db`] as a subcommand of a [clap](https://docs.rs/clap) parser,
//! then hand it the migrations and a way to connect:
//!
//! ```no_run
//! use clap::{Parser, Subcommand};
//! use postgres::{Client, NoTls};
//!
//! static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
//!
//! #[derive(Parser)]
//! struct App {
//!     #[command(subcommand)]
//!     command: Command,
//! }
//!
//! #[derive(Subcommand)]
//! enum Command {
//!     /// Serve requests
//!     Serve,
//!     /// Inspect and migrate the database
//!     Db(stowage::cli::Db),
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     match App::parse().command {
//!         Command::Serve => std::process::ExitCode::SUCCESS,
//!         Command::Db(db) => db.run(&MIGRATIONS, |url| Client::connect(url, NoTls)),
//!     }
//! }
//! ```
//!
//! The closure connects with the program's own TLS setup. The connection
//! string comes from `--database-url` or the `DATABASE_URL` environment
//! variable; it is never printed, not even in a connection error. An async
//! program calls [`Db::run_async`] with a closure that connects with
//! `tokio_postgres` and spawns the connection.
//!
//! # Commands
//!
//! | command | what it does |
//! |---------|--------------|
//! | `migrate [--target V] [--dry-run] [--allow-…]` | applies what is pending ([`Runner::run`](crate::Runner::run)); `--dry-run` only shows the plan |
//! | `status` | every migration with its state ([`Runner::status`](crate::Runner::status)); reads only |
//! | `plan [--target V] [--allow-…]` | what `migrate` would do, with the SQL ([`Runner::plan`](crate::Runner::plan)); reads only |
//! | `verify [--drift]` | checks the history against the binary ([`Runner::verify`](crate::Runner::verify)) and, when the binary carries a schema file, the database's schema against it ([`Runner::check_schema`](crate::Runner::check_schema)), saying how many differences there are; `--drift` lists them; reads only |
//! | `drift` | every difference of the database's schema from the schema file the binary carries ([`Runner::check_schema`](crate::Runner::check_schema)); reads only |
//! | `baseline V` | records every migration up to `V` as applied without running it ([`Runner::baseline`](crate::Runner::baseline)) |
//! | `repair` | removes the records of failed migrations ([`Runner::repair`](crate::Runner::repair)) |
//! | `repair --accept-checksum V` | accepts that applied migration `V` was edited ([`Runner::accept_checksum`](crate::Runner::accept_checksum)) |
//! | `repair --mark-applied V` | records a failed or dirty `V` as applied, once completed by hand ([`Runner::mark_applied`](crate::Runner::mark_applied)) |
//! | `repair --forget V` | removes the record of a failed or dirty `V`, once undone by hand ([`Runner::forget`](crate::Runner::forget)) |
//! | `repair --reapply V` | runs applied migration `V` again, in one transaction with its row, when the schema check finds what it makes missing ([`Runner::reapply`](crate::Runner::reapply)) |
//! | `rollback --to V` | runs the down scripts of everything applied after `V`, newest first ([`Runner::rollback_to`](crate::Runner::rollback_to)) |
//! | `rollback --all` | runs the down scripts of everything applied ([`Runner::rollback_all`](crate::Runner::rollback_all)) |
//! | `adopt --from TOOL [--table NAME] [--into NAME] [--dry-run] [--allow-unknown] [--allow-other-checksums]` | records the history of `sqlx`, `diesel`, `refinery`, `goose`, `golang-migrate`, `dbmate` or `flyway` as applied, reading the tool's table (`--table`, the tool's default name otherwise) and leaving it as it is; stowage's own table is `--into` ([`Runner::adopt`](crate::Runner::adopt)); `--dry-run` prints the mapping and records nothing |
//! | `resume [--allow-…] [--interrupted-statement completed\|not-completed]` | like `migrate`, continuing a dirty no-transaction migration where it stopped ([`Runner::resume`](crate::Runner::resume)); the option says whether an interrupted statement completed where the catalog cannot tell ([`Runner::interrupted_statement`](crate::Runner::interrupted_statement)) |
//!
//! # Fleets
//!
//! `migrate`, `status`, `plan` and `verify` run on a whole fleet
//! ([`Fleet`]) when given `--schemas GLOB` (every schema
//! matching it, `*` and `?` being the only wildcards, is a target),
//! `--schemas-query SQL` (every schema the query's rows name), or
//! `--databases FILE` (every database of the file, or with `--schemas`,
//! the schemas of each), with `--jobs N` targets at once; `migrate` also
//! takes `--canary K` (the first K targets first; if one fails, no other
//! starts) and `--keep-going` (go on after a failure; by default no target
//! starts after one); `verify` also compares each target's schema with
//! the schema file the binary carries, if any (`--drift` lists every
//! difference). The file names one database a line, its name and
//! then its connection string; blank lines and `#` comments are skipped:
//!
//! ```text
//! # the databases this program owns
//! primary  postgres://app@db1.example/app
//! data     host=db2.example user=app dbname=data
//! ```
//!
//! Every command acts on one target of a fleet with `--schema SCHEMA` (its
//! tracking table in that schema, which comes first on `search_path`)
//! and `--database NAME` (that database of `--databases FILE`); the
//! mending commands (`baseline`, `repair`, `rollback`, `resume`, `adopt`)
//! take only one target: `db repair --schema tenant_7`,
//! `db resume --databases dbs.txt --database data`,
//! `db adopt --from goose --schema tenant_7`.
//!
//! The `--allow-out-of-order`, `--allow-missing` and `--allow-divergent`
//! flags are the [`Runner`] options of the same names, and
//! `--lock-timeout`, `--statement-timeout` and `--lock-wait-timeout` take a
//! duration such as `250ms`, `1.5s`, `5sec`, `2min` or `1h`. Every command
//! takes `--table NAME` (`table` or `schema.table`) for a tracking table
//! other than [`DEFAULT_TABLE`](crate::DEFAULT_TABLE), and `--json`.
//!
//! `verify` succeeds when no migration is failed, dirty, divergent (edited
//! since it was applied), missing from the binary or out of order, and the
//! schema is the schema file's (it is compared only at the binary's newest
//! version). `drift` succeeds when the schema is the file's, or was not
//! compared (another version, no schema file), which it says. Pending
//! migrations are not a problem: a binary ahead of its database is what
//! every deployment looks like before `migrate`. They are listed all the
//! same. Messages name the commands and flags that mend what they report.
//!
//! # Output
//!
//! Results go to standard output as readable text, or with `--json` as one
//! JSON document per command. The documents are the library's values as
//! they serialize: `migrate`, `resume` and `rollback` print a
//! [`Report`](crate::Report) (`{"applied": [...], "undone": [...]}`, each
//! with `version`, `name`, `path` and `duration_ms`); `status` a
//! [`Status`](crate::Status) (`schema`, `table`, `current_version`,
//! `up_to_date`, `counts`, and `migrations`, each with `version`, `name`,
//! `path`, `state` and its details, `checksum`, `has_down`, `applied_at`,
//! `applied_by`, `execution_ms`, `error`, `note`); `plan` and `migrate
//! --dry-run` a [`Plan`](crate::Plan) (`steps`); `verify` a
//! [`Verification`](crate::Verification) (`ok`, `problems`, `pending`, ...),
//! with the [`SchemaCheck`](crate::SchemaCheck) under `schema_check` when the
//! binary carries a schema file; `drift` a [`SchemaCheck`](crate::SchemaCheck)
//! (`file`, `schema`, `state`: `matches`, `differs` with `differences`,
//! each with `kind`, `object`, `change` and for a change its `aspect`,
//! `expected` and `found`, and `remedies`, `not_at_newest_version`, or
//! `no_schema_file`).
//! `baseline` prints `{"recorded": [...]}`, `repair` `{"removed": [...],
//! "dirty": [...]}`, its `--accept-checksum`, `--mark-applied` and
//! `--forget` forms `{"version": V, "changed": true|false}`, and its
//! `--reapply` form the report of a run. Times are RFC
//! 3339 in UTC (`"2026-11-21T09:37:14Z"`).
//!
//! A fleet's command prints a [`FleetReport`]:
//! `{"targets": [...]}`, each target with its `database`, `schema` and
//! `table`, its `outcome` (`done`, `failed`, `unreachable`, `not-started`)
//! and either what the command gave for it (for `migrate`, `applied`,
//! `first`, `last` and `duration_ms`; for `status`, `ok`,
//! `current_version`, the counts and the first `problem`; for `plan` the
//! `steps`; for `verify` its verification) or its `error`, with the
//! error's `message`. `status` adds the `groups` (`summary` and `targets`
//! of each) and the fleet's `health`.
//!
//! Errors go to standard error as text, and with `--json` also to standard
//! output as `{"error": {"kind": ..., "message": ..., "remedies": [...],
//! ...}}`, with the error's typed parts (a failed migration's `version`,
//! `path`, `position` and `stage`, a history's `violations`, a refusal).
//!
//! # Exit codes
//!
//! - `0`: done; for `verify`, the history agrees with the binary, and the
//!   schema with the schema file; for `drift`, the schema does.
//! - `1`: an error: no connection, a refused request, a failed migration.
//! - `2`: `verify` found problems, or `drift` a difference. clap also exits with `2` when the
//!   arguments cannot be parsed, before anything touches the database.
//!
//! For a fleet, taken over every target: `1` when any target failed, could
//! not be reached or was not started (standard error says how many), else
//! `2` when `verify` found problems on any, else `0`.

#[cfg(feature = "postgres")]
use crate::conversation::blocking::block_on;
use crate::conversation::connection::Connection;
use crate::data::drift::SchemaOutcome;
use crate::data::error::{Error, ServerError};
use crate::data::fleet::{FleetReport, Schemas};
use crate::data::registry::Migrations;
use crate::data::remedy::Words;
use crate::data::status::State;
use crate::fleet::engine::{
    self, CheckSchema, Operation, Planning, Run, Status as StatusCall, Verify,
};
use crate::fleet::options::Fleet;
use crate::operations::{mend, reapply, rollback, schema, status};
use crate::rules::classify::Allow;
use crate::runner::options::Runner;
use crate::runner::run;
use serde_json::{Value, json};
use std::fmt;
use std::future::Future;
use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

/// The exit code of success.
const OK: u8 = 0;
/// The exit code of an error.
const ERROR: u8 = 1;
/// The exit code of `verify` finding problems.
const PROBLEMS: u8 = 2;

/// Inspects and migrates the database: mount it as a subcommand of the
/// program's clap parser and call [`run`](Db::run) or
/// [`run_async`](Db::run_async). See the [module documentation](self).
#[derive(clap::Args)]
pub struct Db {
    /// PostgreSQL connection string, e.g. postgres://app@localhost/app
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        global = true,
        value_name = "URL",
        help_heading = "Common options"
    )]
    database_url: Option<String>,

    /// Tracking table: `table` in the current schema, or `schema.table`
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Common options"
    )]
    table: Option<String>,

    /// Print one JSON document instead of text
    #[arg(long, global = true, help_heading = "Common options")]
    json: bool,

    /// The databases of a fleet, one per line: NAME CONNECTION-STRING
    #[arg(long, global = true, value_name = "FILE", help_heading = "Fleets")]
    databases: Option<std::path::PathBuf>,

    /// One target: this schema (its tracking table in it, first on search_path)
    #[arg(long, global = true, value_name = "SCHEMA", help_heading = "Fleets")]
    schema: Option<String>,

    /// One target: the database named NAME in --databases FILE
    #[arg(long, global = true, value_name = "NAME", help_heading = "Fleets")]
    database: Option<String>,

    #[command(subcommand)]
    command: Box<Command>,
}

impl fmt::Debug for Db {
    /// Everything but the connection string, which may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "<hidden>"),
            )
            .field("table", &self.table)
            .field("json", &self.json)
            .field("databases", &self.databases)
            .field("schema", &self.schema)
            .field("database", &self.database)
            .field("command", &self.command)
            .finish()
    }
}

/// The commands of [`Db`].
#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Apply the pending migrations
    Migrate {
        #[command(flatten)]
        options: RunOptions,
        /// Show what would be applied, with the SQL, and change nothing
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        fleet: FleetOptions,
        #[command(flatten)]
        rollout: RolloutOptions,
    },
    /// Show every migration with its state (reads only)
    Status {
        #[command(flatten)]
        fleet: FleetOptions,
    },
    /// Show what `migrate` would apply, with the SQL (reads only)
    Plan {
        #[command(flatten)]
        options: RunOptions,
        #[command(flatten)]
        fleet: FleetOptions,
    },
    /// Check the history, and the schema, against this binary (reads only); exit code 2 on problems
    Verify {
        /// Print every difference of the schema from the schema file, as `drift` does
        #[arg(long)]
        drift: bool,
        #[command(flatten)]
        fleet: FleetOptions,
    },
    /// Show every difference of the database's schema from the schema file this binary carries (reads only); exit code 2 on drift
    Drift,
    /// Record every migration up to VERSION as applied, without running it
    Baseline {
        /// The last version the database already has
        version: i64,
    },
    /// Mend the tracking table; with no option, remove the records of failed migrations
    #[command(group = clap::ArgGroup::new("action").multiple(false))]
    Repair {
        /// Accept that applied migration VERSION was edited since
        #[arg(long, value_name = "VERSION", group = "action")]
        accept_checksum: Option<i64>,
        /// Record failed or dirty migration VERSION as applied, once completed by hand
        #[arg(long, value_name = "VERSION", group = "action")]
        mark_applied: Option<i64>,
        /// Remove the record of failed or dirty migration VERSION, once undone by hand
        #[arg(long, value_name = "VERSION", group = "action")]
        forget: Option<i64>,
        /// Run applied migration VERSION again, when the schema check finds what it makes missing
        #[arg(long, value_name = "VERSION", group = "action")]
        reapply: Option<i64>,
    },
    /// Undo applied migrations with their down scripts, newest first
    #[command(group = clap::ArgGroup::new("how_far").required(true).multiple(false))]
    Rollback {
        /// Undo the migrations applied after VERSION
        #[arg(long, value_name = "VERSION", group = "how_far")]
        to: Option<i64>,
        /// Undo every applied migration
        #[arg(long, group = "how_far")]
        all: bool,
        /// Roll back migrations edited since they were applied
        #[arg(long)]
        allow_divergent: bool,
    },
    /// Record another tool's history as applied, reading its tracking table (left as it is)
    Adopt {
        /// The tool: sqlx, diesel, refinery, goose, golang-migrate, dbmate or flyway
        #[arg(long, value_name = "TOOL")]
        from: String,
        /// stowage's own tracking table, if not the default (with `adopt`, `--table` names the tool's)
        #[arg(long, value_name = "NAME")]
        into: Option<String>,
        /// Print the mapping and record nothing
        #[arg(long)]
        dry_run: bool,
        /// Skip versions the tool applied that this binary does not have
        #[arg(long)]
        allow_unknown: bool,
        /// Adopt versions whose file was edited since the tool applied it
        #[arg(long)]
        allow_other_checksums: bool,
    },
    /// Like `migrate`, continuing a dirty no-transaction migration where it stopped
    Resume {
        #[command(flatten)]
        options: RunOptions,
        /// Whether the interrupted statement completed, where the catalog cannot tell
        #[arg(long, value_name = "OUTCOME")]
        interrupted_statement: Option<InterruptedArg>,
    },
}

/// What `--interrupted-statement` says.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum InterruptedArg {
    /// It completed: go on after it
    Completed,
    /// It did not complete: run it again
    NotCompleted,
}

/// The options `migrate`, `plan` and `resume` share.
#[derive(Debug, Clone, clap::Args)]
struct RunOptions {
    /// Apply pending migrations only up to and including this version
    #[arg(long, value_name = "VERSION")]
    target: Option<i64>,
    /// Apply pending migrations lower than the highest one applied
    #[arg(long)]
    allow_out_of_order: bool,
    /// Go on when the database has applied migrations this binary does not have
    #[arg(long)]
    allow_missing: bool,
    /// Go on when migrations applied earlier were edited since
    #[arg(long)]
    allow_divergent: bool,
    /// PostgreSQL's lock_timeout while each migration runs, e.g. 5s
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    lock_timeout: Option<Duration>,
    /// PostgreSQL's statement_timeout while each migration runs, e.g. 10min
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    statement_timeout: Option<Duration>,
    /// How long to wait for another process's migration lock, e.g. 30s
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    lock_wait_timeout: Option<Duration>,
}

/// The options that make `migrate`, `status`, `plan` and `verify` a
/// fleet's: schemas of the database (or of each of `--databases`).
#[derive(Debug, Clone, clap::Args)]
struct FleetOptions {
    /// Each schema matching GLOB is a target (`*` and `?` are the only wildcards)
    #[arg(
        long,
        value_name = "GLOB",
        conflicts_with = "schemas_query",
        help_heading = "Fleets"
    )]
    schemas: Option<String>,
    /// Each schema named by the first column of SQL's rows is a target
    #[arg(long, value_name = "SQL", help_heading = "Fleets")]
    schemas_query: Option<String>,
    /// How many targets at once, each over a connection of its own
    #[arg(long, value_name = "N", default_value_t = 1, help_heading = "Fleets")]
    jobs: usize,
}

impl FleetOptions {
    fn schemas(&self) -> Option<Schemas> {
        match (&self.schemas, &self.schemas_query) {
            (Some(glob), _) => Some(Schemas::matching(glob)),
            (None, Some(query)) => Some(Schemas::query(query)),
            (None, None) => None,
        }
    }
}

/// How `migrate` rolls out over a fleet.
#[derive(Debug, Clone, clap::Args)]
struct RolloutOptions {
    /// Migrate the first K targets first; if one fails, start no other
    #[arg(long, value_name = "K", default_value_t = 0, help_heading = "Fleets")]
    canary: usize,
    /// Go on with the other targets after one fails
    #[arg(long, help_heading = "Fleets")]
    keep_going: bool,
}

/// A duration as the directives write it: `250ms`, `1.5s`, `5sec`, `2min`,
/// `1h` (see `stowage_core::duration`). Whether PostgreSQL takes it is the
/// runner's to say, naming the option.
fn duration(value: &str) -> Result<Duration, String> {
    stowage_core::duration::milliseconds(value)
        .map(Duration::from_millis)
        .map_err(|e| e.to_string())
}

impl RunOptions {
    fn apply(&self, runner: Runner) -> Runner {
        let mut runner = runner
            .allow_out_of_order(self.allow_out_of_order)
            .allow_missing(self.allow_missing)
            .allow_divergent(self.allow_divergent);
        if let Some(timeout) = self.lock_timeout {
            runner = runner.lock_timeout(timeout);
        }
        if let Some(timeout) = self.statement_timeout {
            runner = runner.statement_timeout(timeout);
        }
        if let Some(wait) = self.lock_wait_timeout {
            runner = runner.lock_wait_timeout(wait);
        }
        match self.target {
            Some(version) => runner.target(version),
            None => runner,
        }
    }
}

/// What a command has to say, as text and as JSON, and its exit code.
struct Output {
    code: u8,
    text: String,
    json: Value,
    /// What went wrong, said on standard error besides the output: for a
    /// fleet whose targets did not all end well.
    complaint: Option<String>,
}

impl Output {
    fn ok(text: impl Into<String>, json: Value) -> Output {
        Output {
            code: OK,
            text: text.into(),
            json,
            complaint: None,
        }
    }
}

/// Why a command failed, as its reader should see it.
struct Failure {
    text: String,
    json: Value,
}

impl Db {
    /// Runs the command over a `postgres::Client` that `connect` makes from
    /// the connection string (with the program's choice of TLS), printing
    /// to standard output and standard error; returns the exit code for
    /// `main` to return.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    ///
    /// `connect` is called once per connection: once for one target, and
    /// for a fleet from as many threads as `--jobs` says, hence `Sync`.
    pub fn run<F>(&self, migrations: &Migrations, connect: F) -> std::process::ExitCode
    where
        F: Fn(&str) -> Result<postgres::Client, postgres::Error> + Sync,
    {
        let code = self.run_with(
            migrations,
            connect,
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        );
        std::process::ExitCode::from(code)
    }

    /// Like [`run`](Db::run), writing to `out` and `err`; returns the exit
    /// code: 0 done, 1 error, 2 `verify` found problems.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn run_with<F>(
        &self,
        migrations: &Migrations,
        connect: F,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> u8
    where
        F: Fn(&str) -> Result<postgres::Client, postgres::Error> + Sync,
    {
        let outcome = self.targets(*migrations).and_then(|targets| match targets {
            Targets::One { url, schema } => {
                let mut client = connect(&url).map_err(|e| self.connection_failed(&e))?;
                block_on(self.execute(*migrations, &mut client, schema.as_deref()))
            }
            Targets::Fleet(fleet) => block_on(self.execute_fleet(&fleet, &mut Threads(&connect))),
        });
        self.print(outcome, out, err)
    }

    /// Runs the command over a `tokio_postgres::Client` that `connect` makes
    /// from the connection string, for an async program; prints and returns
    /// as [`run`](Db::run) does. A fleet's targets run in tasks of their
    /// own, each connecting through the future `connect` returns.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(db: stowage::cli::Db) -> std::process::ExitCode {
    /// db.run_async(&MIGRATIONS, |url| async move {
    ///     let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    ///     tokio::spawn(connection);
    ///     Ok(client)
    /// })
    /// .await
    /// # }
    /// ```
    #[cfg(feature = "tokio-postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio-postgres")))]
    pub async fn run_async<F, C>(
        &self,
        migrations: &Migrations,
        connect: F,
    ) -> std::process::ExitCode
    where
        F: FnMut(String) -> C,
        C: Future<Output = Result<tokio_postgres::Client, tokio_postgres::Error>> + Send + 'static,
    {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = self
            .run_async_with(migrations, connect, &mut out, &mut err)
            .await;
        // Written at the end, not held across the awaits, so that the
        // future stays `Send`.
        let _ = std::io::stdout().lock().write_all(&out);
        let _ = std::io::stderr().lock().write_all(&err);
        std::process::ExitCode::from(code)
    }

    /// Like [`run_async`](Db::run_async), writing to `out` and `err`;
    /// returns the exit code.
    #[cfg(feature = "tokio-postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio-postgres")))]
    pub async fn run_async_with<F, C>(
        &self,
        migrations: &Migrations,
        mut connect: F,
        out: &mut (dyn Write + Send),
        err: &mut (dyn Write + Send),
    ) -> u8
    where
        F: FnMut(String) -> C,
        C: Future<Output = Result<tokio_postgres::Client, tokio_postgres::Error>> + Send + 'static,
    {
        let outcome = match self.targets(*migrations) {
            Ok(Targets::One { url, schema }) => match connect(url).await {
                Ok(mut client) => {
                    self.execute(*migrations, &mut client, schema.as_deref())
                        .await
                }
                Err(e) => Err(self.connection_failed(&e)),
            },
            Ok(Targets::Fleet(fleet)) => self.execute_fleet(&fleet, &mut Tasks(connect)).await,
            Err(failure) => Err(failure),
        };
        self.print(outcome, out, err)
    }

    /// The connection string, or why there is none.
    fn url(&self) -> Result<&str, Failure> {
        match self.database_url.as_deref() {
            Some(url) if !url.is_empty() => Ok(url),
            _ => Err(self.failure(
                "no database: pass --database-url or set the DATABASE_URL environment variable"
                    .to_owned(),
                json!({ "kind": "usage", "code": null, "remedies": [] }),
            )),
        }
    }

    fn connection_failed(&self, e: &tokio_postgres::Error) -> Failure {
        self.failure(
            format!("cannot connect to the database: {}", ServerError(e)),
            json!({ "kind": "connection", "code": e.code().map(|c| c.code()), "remedies": [] }),
        )
    }

    /// A failure with `message`, redacted, and the JSON error object of
    /// `details`.
    fn failure(&self, message: String, mut details: Value) -> Failure {
        let text = self.redact(&message);
        details["message"] = json!(text);
        Failure {
            text,
            json: json!({ "error": details }),
        }
    }

    /// Writes the outcome: results on `out`; errors on `err`, and with
    /// `--json` also as a JSON object on `out`. A reader that stops reading
    /// (`db status | head`) ends the output quietly.
    fn print(
        &self,
        outcome: Result<Output, Failure>,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> u8 {
        let (code, failure) = match outcome {
            Ok(output) => {
                let written = if self.json {
                    write_json(out, &output.json)
                } else {
                    out.write_all(output.text.as_bytes())
                };
                match (written.and_then(|()| out.flush()), output.complaint) {
                    (Ok(()), None) => return output.code,
                    (Ok(()), Some(complaint)) => (output.code, complaint),
                    (Err(e), _) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                        return output.code;
                    }
                    (Err(e), _) => (ERROR, format!("cannot write the output: {e}")),
                }
            }
            Err(failure) => {
                if self.json {
                    let _ = write_json(out, &failure.json).and_then(|()| out.flush());
                }
                (ERROR, failure.text)
            }
        };
        // Nothing more can be done if standard error is gone too.
        let _ = writeln!(err, "error: {failure}").and_then(|()| err.flush());
        code
    }

    fn runner(&self, migrations: Migrations) -> Runner {
        let runner = migrations.runner();
        // With `adopt`, `--table` names the tool's table, and `--into`
        // stowage's own.
        let table = match &*self.command {
            Command::Adopt { into, .. } => into,
            _ => &self.table,
        };
        match table {
            Some(table) => runner.table(table),
            None => runner,
        }
    }

    /// Runs the command over `client`, with either driver; for the target
    /// in `schema`, when one is named, with the session made ready for it
    /// as a fleet makes it.
    async fn execute<C: Connection>(
        &self,
        migrations: Migrations,
        client: &mut C,
        schema: Option<&str>,
    ) -> Result<Output, Failure> {
        async {
            let mut runner = self.runner(migrations);
            if let Some(schema) = schema {
                let writes = self.command.writes();
                runner = engine::prepare_one(client, &runner, schema, writes).await?;
            }
            self.command
                .execute(runner, client, self.table.as_deref())
                .await
        }
        .await
        .map_err(|e| self.error(&e))
    }

    /// `error` as a failure, in the command line's words.
    fn error(&self, error: &Error) -> Failure {
        let details = serde_json::to_value(error).unwrap_or_else(|_| json!({}));
        self.failure(cli_words(error), details)
    }

    /// What the command is run on: one target (the database of
    /// `--database-url`, or of `--database NAME`, maybe in `--schema`), or
    /// for `migrate`, `status`, `plan` and `verify` with `--schemas`,
    /// `--schemas-query` or `--databases`, a fleet.
    fn targets(&self, migrations: Migrations) -> Result<Targets, Failure> {
        let usage = |message: &str| {
            self.failure(
                message.to_owned(),
                json!({ "kind": "usage", "code": null, "remedies": [] }),
            )
        };
        let databases = match &self.databases {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    usage(&format!("cannot read --databases {}: {e}", path.display()))
                })?;
                parse_databases(&text)
                    .map_err(|e| usage(&format!("--databases {}: {e}", path.display())))?
            }
            None => Vec::new(),
        };
        let fleet = self.command.fleet_options();
        let schemas = fleet.and_then(FleetOptions::schemas);
        if self.schema.is_some() || self.database.is_some() {
            if schemas.is_some() {
                return Err(usage(
                    "--schema names one target, --schemas and --schemas-query a fleet: give one or the other",
                ));
            }
            let url = match &self.database {
                Some(name) if self.databases.is_none() => {
                    return Err(usage(&format!(
                        "--database {name} names a database of --databases FILE: pass the file"
                    )));
                }
                Some(name) => databases
                    .into_iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, url)| url)
                    .ok_or_else(|| usage(&format!("--databases names no database {name}")))?,
                None => self.url()?.to_owned(),
            };
            return Ok(Targets::One {
                url,
                schema: self.schema.clone(),
            });
        }
        let Some(fleet) = fleet.filter(|_| schemas.is_some() || self.databases.is_some()) else {
            if self.databases.is_some() {
                return Err(usage(
                    "this command mends one target: name it with --database NAME (and --schema SCHEMA)",
                ));
            }
            return Ok(Targets::One {
                url: self.url()?.to_owned(),
                schema: None,
            });
        };
        let databases = if self.databases.is_some() {
            databases
        } else {
            let url = self.url()?.to_owned();
            vec![(database_name(&url), url)]
        };
        let runner = self.command.runner(self.runner(migrations));
        let mut members = Fleet::new().jobs(fleet.jobs);
        if let Command::Migrate { rollout, .. } = &*self.command {
            members = members
                .canary(rollout.canary)
                .keep_going(rollout.keep_going);
        }
        for (name, url) in databases {
            members = match &schemas {
                Some(schemas) => members.schemas(name, url, schemas.clone(), runner.clone()),
                None => members.database(name, url, runner.clone()),
            };
        }
        Ok(Targets::Fleet(members))
    }

    /// Runs `migrate`, `status`, `plan` or `verify` on every target of
    /// `fleet`, with either driver's workers.
    async fn execute_fleet<W: Drive>(
        &self,
        fleet: &Fleet<String>,
        workers: &mut W,
    ) -> Result<Output, Failure> {
        let output = match &*self.command {
            Command::Migrate { dry_run: true, .. } | Command::Plan { .. } => {
                let report = workers.drive(fleet, Planning).await;
                report.map(|r| self.fleet_output(&r, cli_text!(r), None))
            }
            Command::Migrate { .. } => {
                let report = workers.drive(fleet, Run).await;
                report.map(|r| self.fleet_output(&r, cli_text!(r), None))
            }
            Command::Status { .. } => workers.drive(fleet, StatusCall).await.map(|r| {
                let mut output = self.fleet_output(&r, cli_text!(r), None);
                output.json["groups"] = to_json(&r.groups());
                output.json["health"] = to_json(&r.health());
                output
            }),
            Command::Verify { drift: full, .. } => {
                let verified = workers.drive(fleet, Verify).await;
                let carries_schema = fleet
                    .members
                    .iter()
                    .any(|m| m.runner.migrations().expected_schema().is_some());
                match verified {
                    Ok(verified) if carries_schema => {
                        // Each target's schema too, compared under its own name.
                        let checked = workers.drive(fleet, CheckSchema).await;
                        checked.map(|checked| {
                            let mut text = cli_text!(verified);
                            text.push_str("\nschemas:\n");
                            let _ = checked.render(Words::Cli, *full, &mut text);
                            let problems = (verified.has_problems() || checked.has_drift())
                                .then_some(PROBLEMS);
                            let mut schemas = self.fleet_output(&checked, String::new(), problems);
                            let mut output = self.fleet_output(&verified, text, problems);
                            output.json["schema_checks"] = schemas.json["targets"].take();
                            if output.code == OK {
                                output.code = schemas.code;
                                output.complaint = schemas.complaint;
                            }
                            output
                        })
                    }
                    verified => verified.map(|r| {
                        let problems = r.has_problems().then_some(PROBLEMS);
                        self.fleet_output(&r, cli_text!(r), problems)
                    }),
                }
            }
            // Only the four commands above make fleets.
            _ => return Err(self.failure(
                "this command mends one target: name it with --database NAME (and --schema SCHEMA)"
                    .to_owned(),
                json!({ "kind": "usage", "code": null, "remedies": [] }),
            )),
        };
        output.map_err(|e| self.error(&e))
    }

    /// The output of a fleet's call: `text`, and the report as JSON with
    /// each error's message; exit code 1 when a target did not end well,
    /// else `problems` or 0.
    fn fleet_output<T: serde::Serialize>(
        &self,
        report: &FleetReport<T>,
        text: String,
        problems: Option<u8>,
    ) -> Output {
        let secrets = self.connection_strings();
        let mut json = to_json(report);
        for (i, line) in report.targets().iter().enumerate() {
            if let Some(error) = line.outcome().error() {
                json["targets"][i]["error"]["message"] =
                    json!(redact_all(&cli_words(error), &secrets));
            }
        }
        let not_ok = report
            .targets()
            .iter()
            .filter(|l| l.outcome().done().is_none())
            .count();
        let complaint = (not_ok > 0).then(|| {
            format!(
                "{not_ok} of {} target(s) did not end well: see each one above",
                report.targets().len()
            )
        });
        Output {
            code: if not_ok > 0 {
                ERROR
            } else {
                problems.unwrap_or(OK)
            },
            text: redact_all(&text, &secrets),
            json,
            complaint,
        }
    }

    /// `message` with the connection strings given, and their passwords,
    /// replaced by `***`.
    fn redact(&self, message: &str) -> String {
        redact_all(message, &self.connection_strings())
    }

    /// The connection strings given: `--database-url`'s and those of
    /// `--databases FILE`.
    fn connection_strings(&self) -> Vec<String> {
        let listed = self
            .databases
            .as_ref()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|text| parse_databases(&text).ok())
            .unwrap_or_default();
        self.database_url
            .iter()
            .cloned()
            .chain(listed.into_iter().map(|(_, url)| url))
            .collect()
    }
}

/// A fleet's report as an operator reads it.
macro_rules! cli_text {
    ($report:expr) => {{
        let mut text = String::new();
        let _ = $report.render(Words::Cli, &mut text);
        text
    }};
}
use cli_text;

/// What a command runs on.
enum Targets {
    /// One target: a database, maybe in one of its schemas.
    One { url: String, schema: Option<String> },
    /// A fleet: schemas of a database, or databases, or schemas of each.
    Fleet(Fleet<String>),
}

/// The workers a driver brings to a fleet: threads for the blocking
/// driver, tasks for the async one.
trait Drive {
    fn drive<O: Operation>(
        &mut self,
        fleet: &Fleet<String>,
        op: O,
    ) -> impl Future<Output = Result<FleetReport<O::Line>, Error>>;
}

/// Threads, each connecting with the program's blocking connect function.
#[cfg(feature = "postgres")]
struct Threads<'a, F>(&'a F);

#[cfg(feature = "postgres")]
impl<F> Drive for Threads<'_, F>
where
    F: Fn(&str) -> Result<postgres::Client, postgres::Error> + Sync,
{
    async fn drive<O: Operation>(
        &mut self,
        fleet: &Fleet<String>,
        op: O,
    ) -> Result<FleetReport<O::Line>, Error> {
        let connect = self.0;
        crate::fleet::threads::drive(fleet, op, &|url: &String| connect(url))
    }
}

/// Tasks, each connecting through the program's async connect function.
#[cfg(feature = "tokio-postgres")]
struct Tasks<F>(F);

#[cfg(feature = "tokio-postgres")]
impl<F, C> Drive for Tasks<F>
where
    F: FnMut(String) -> C,
    C: Future<Output = Result<tokio_postgres::Client, tokio_postgres::Error>> + Send + 'static,
{
    async fn drive<O: Operation>(
        &mut self,
        fleet: &Fleet<String>,
        op: O,
    ) -> Result<FleetReport<O::Line>, Error> {
        let connect = &mut self.0;
        crate::fleet::tasks::drive(fleet, op, |url: &String| connect(url.clone())).await
    }
}

/// The databases of `--databases FILE`: one a line, its name, then after
/// white space its connection string (a URL, or `key=value` pairs);
/// blank lines and lines starting with `#` are skipped.
fn parse_databases(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut databases: Vec<(String, String)> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let number = number + 1;
        let Some((name, url)) = line.split_once(char::is_whitespace) else {
            return Err(format!(
                "line {number}: `{line}` has no connection string after the name"
            ));
        };
        if databases.iter().any(|(n, _)| n == name) {
            return Err(format!("line {number}: the name {name} is given twice"));
        }
        databases.push((name.to_owned(), url.trim().to_owned()));
    }
    if databases.is_empty() {
        return Err("names no database (each line: NAME CONNECTION-STRING)".to_owned());
    }
    Ok(databases)
}

/// The name a fleet gives the database of `url`: its database name, as
/// the connection string gives it.
fn database_name(url: &str) -> String {
    tokio_postgres::Config::from_str(url)
        .ok()
        .and_then(|config| config.get_dbname().map(str::to_owned))
        .unwrap_or_else(|| "database".to_owned())
}

/// `error` as an operator reads it: the commands and flags that mend it.
fn cli_words(error: &Error) -> String {
    let mut text = String::new();
    let _ = error.render(Words::Cli, &mut text);
    text
}

fn write_json(out: &mut dyn Write, value: &Value) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)
}

fn to_json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Command {
    /// The fleet options of `migrate`, `status`, `plan` and `verify`.
    fn fleet_options(&self) -> Option<&FleetOptions> {
        match self {
            Command::Migrate { fleet, .. }
            | Command::Status { fleet }
            | Command::Plan { fleet, .. }
            | Command::Verify { fleet, .. } => Some(fleet),
            _ => None,
        }
    }

    /// `runner` with the command's options.
    fn runner(&self, runner: Runner) -> Runner {
        match self {
            Command::Migrate { options, .. }
            | Command::Plan { options, .. }
            | Command::Resume { options, .. } => options.apply(runner),
            _ => runner,
        }
    }

    /// Whether the command may write: a target's missing schema is then
    /// created first.
    fn writes(&self) -> bool {
        !matches!(
            self,
            Command::Status { .. }
                | Command::Plan { .. }
                | Command::Verify { .. }
                | Command::Migrate { dry_run: true, .. }
                | Command::Adopt { dry_run: true, .. }
        )
    }

    async fn execute<C: Connection>(
        &self,
        runner: Runner,
        client: &mut C,
        table: Option<&str>,
    ) -> Result<Output, Error> {
        match self {
            Command::Adopt {
                from,
                dry_run,
                allow_unknown,
                allow_other_checksums,
                ..
            } => {
                let mut from = crate::Adopt::from(from.as_str())
                    .dry_run(*dry_run)
                    .allow_unknown(*allow_unknown)
                    .allow_other_checksums(*allow_other_checksums);
                if let Some(table) = table {
                    from = from.table(table);
                }
                let adoption = crate::operations::adopt::adopt(&runner, client, &from).await?;
                Ok(Output::ok(format!("{adoption}\n"), to_json(&adoption)))
            }
            Command::Migrate {
                options, dry_run, ..
            } => {
                let runner = options.apply(runner);
                if *dry_run {
                    let plan = status::plan(&runner, client).await?;
                    Ok(Output::ok(plan.to_string(), to_json(&plan)))
                } else {
                    let report = run::run(&runner, client, runner.allow).await?;
                    Ok(Output::ok(report_text(&report), to_json(&report)))
                }
            }
            Command::Status { .. } => {
                let status = status::status(&runner, client).await?;
                let mut text = status.to_string();
                text.push_str(&format!(
                    "\n{}; tracking table {}.{}\n",
                    match status.current_version() {
                        Some(v) => format!("current version {v}"),
                        None => "nothing applied".to_owned(),
                    },
                    postgres_protocol::escape::escape_identifier(status.schema()),
                    postgres_protocol::escape::escape_identifier(status.table()),
                ));
                Ok(Output::ok(text, to_json(&status)))
            }
            Command::Plan { options, .. } => {
                let plan = status::plan(&options.apply(runner), client).await?;
                Ok(Output::ok(plan.to_string(), to_json(&plan)))
            }
            Command::Verify { drift: full, .. } => {
                let verification = status::verify(&runner, client).await?;
                let mut text = String::new();
                let _ = verification.render(Words::Cli, &mut text);
                let mut json = to_json(&verification);
                let mut ok = verification.is_ok();
                if runner.migrations().expected_schema().is_some() {
                    let check = schema::check_schema(&runner, client).await?;
                    ok &= !matches!(check.outcome(), SchemaOutcome::Differs { .. });
                    match (full, check.outcome()) {
                        (false, SchemaOutcome::NotAtNewestVersion { .. }) => {}
                        (false, SchemaOutcome::Differs { differences, .. }) => {
                            text.push_str(&format!(
                                "the schema {} differs from {} in {} place(s): `drift` shows them\n",
                                check.schema().unwrap_or("(none)"),
                                check.file(),
                                differences.len()
                            ));
                        }
                        _ => {
                            let _ = check.render(Words::Cli, &mut text);
                            text.push('\n');
                        }
                    }
                    json["schema_check"] = to_json(&check);
                }
                Ok(Output {
                    code: if ok { OK } else { PROBLEMS },
                    text,
                    json,
                    complaint: None,
                })
            }
            Command::Drift => {
                let check = schema::check_schema(&runner, client).await?;
                let mut text = String::new();
                let _ = check.render(Words::Cli, &mut text);
                text.push('\n');
                let drift = matches!(check.outcome(), SchemaOutcome::Differs { .. });
                Ok(Output {
                    code: if drift { PROBLEMS } else { OK },
                    text,
                    json: to_json(&check),
                    complaint: None,
                })
            }
            Command::Baseline { version } => {
                let recorded = mend::baseline(&runner, client, *version).await?;
                let text = if recorded.is_empty() {
                    format!(
                        "nothing to record: every migration up to {version} is already applied\n"
                    )
                } else {
                    format!(
                        "recorded migration(s) {} as applied without running them\n",
                        list(&recorded)
                    )
                };
                Ok(Output::ok(text, json!({ "recorded": recorded })))
            }
            Command::Repair {
                accept_checksum,
                mark_applied,
                forget,
                reapply,
            } => {
                if let Some(version) = *accept_checksum {
                    let changed = mend::accept_checksum(&runner, client, version).await?;
                    let text = if changed {
                        format!("migration {version}: recorded this binary's checksum as applied\n")
                    } else {
                        format!(
                            "migration {version}: its recorded checksum already is this binary's; nothing changed\n"
                        )
                    };
                    return Ok(Output::ok(
                        text,
                        json!({ "version": version, "changed": changed }),
                    ));
                }
                if let Some(version) = *mark_applied {
                    let changed = mend::mark_applied(&runner, client, version).await?;
                    let text = if changed {
                        format!("migration {version}: recorded as applied without running it\n")
                    } else {
                        format!(
                            "migration {version} is already recorded as applied; nothing changed\n"
                        )
                    };
                    return Ok(Output::ok(
                        text,
                        json!({ "version": version, "changed": changed }),
                    ));
                }
                if let Some(version) = *forget {
                    mend::forget(&runner, client, version).await?;
                    return Ok(Output::ok(
                        format!(
                            "migration {version}: removed its record; the next migrate applies it from the start\n"
                        ),
                        json!({ "version": version, "changed": true }),
                    ));
                }
                if let Some(version) = *reapply {
                    let report = reapply::reapply(&runner, client, version).await?;
                    return Ok(Output::ok(report_text(&report), to_json(&report)));
                }
                repair(&runner, client).await
            }
            Command::Rollback {
                to,
                all: _,
                allow_divergent,
            } => {
                let runner = runner.allow_divergent(*allow_divergent);
                let report = rollback::rollback(&runner, client, *to).await?;
                Ok(Output::ok(report_text(&report), to_json(&report)))
            }
            Command::Resume {
                options,
                interrupted_statement,
            } => {
                let mut runner = options.apply(runner);
                if let Some(outcome) = interrupted_statement {
                    runner = runner.interrupted_statement(match outcome {
                        InterruptedArg::Completed => crate::Interrupted::Completed,
                        InterruptedArg::NotCompleted => crate::Interrupted::NotCompleted,
                    });
                }
                let allow = Allow {
                    resume: true,
                    ..runner.allow
                };
                let report = run::run(&runner, client, allow).await?;
                Ok(Output::ok(report_text(&report), to_json(&report)))
            }
        }
    }
}

/// `repair` with no option: removes failure records, and names the dirty
/// migrations it leaves alone with what mends them.
async fn repair<C: Connection>(runner: &Runner, client: &mut C) -> Result<Output, Error> {
    let removed = mend::repair(runner, client).await?;
    let dirty: Vec<i64> = status::status(runner, client)
        .await?
        .entries()
        .iter()
        .filter(|e| matches!(e.state(), State::Dirty { .. }))
        .map(|e| e.version())
        .collect();
    let mut text = if removed.is_empty() {
        "no failed migration to remove\n".to_owned()
    } else {
        format!(
            "removed the record(s) of failed migration(s) {}; the next migrate retries them\n",
            list(&removed)
        )
    };
    for version in &dirty {
        text.push_str(&format!(
            "migration {version} is dirty and was left alone: `resume` it, or once it is \
             completed or undone by hand, `repair --mark-applied {version}` or `repair --forget {version}`\n"
        ));
    }
    Ok(Output::ok(
        text,
        json!({ "removed": removed, "dirty": dirty }),
    ))
}

fn report_text(report: &crate::Report) -> String {
    let mut text = String::new();
    let _ = report.render(Words::Cli, &mut text);
    text.push('\n');
    text
}

/// `1, 2, 3`.
fn list(versions: &[i64]) -> String {
    versions
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `message` with each of `urls` and their passwords replaced by `***`.
fn redact_all(message: &str, urls: &[String]) -> String {
    urls.iter()
        .fold(message.to_owned(), |message, url| redact(&message, url))
}

/// `message` with the connection string and its password, should either
/// appear in it, replaced by `***`.
fn redact(message: &str, url: &str) -> String {
    let mut secrets = vec![url.to_owned()];
    if let Ok(config) = tokio_postgres::Config::from_str(url)
        && let Some(password) = config.get_password()
    {
        secrets.push(String::from_utf8_lossy(password).into_owned());
    }
    // The password as written in a URL (`scheme://user:password@host`),
    // percent-encoded or not, even when the URL does not parse.
    if let Some((_, rest)) = url.split_once("://")
        && let Some(authority) = rest.split(['/', '?']).next()
        && let Some((userinfo, _)) = authority.rsplit_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
    {
        secrets.push(password.to_owned());
    }
    let mut message = message.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 3) {
        message = message.replace(secret.as_str(), "***");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        let url = "postgres://u:s3cret@db.example/app";
        assert_eq!(
            redact(
                "failed for postgres://u:s3cret@db.example/app and s3cret",
                url
            ),
            "failed for *** and ***"
        );
        assert_eq!(
            redact("got s%40cret", "postgres://u:s%40cret@h/app"),
            "got ***"
        );
        assert_eq!(
            redact("got s@cret", "postgres://u:s%40cret@h/app"),
            "got ***"
        );
        assert_eq!(
            redact("got pw 'x y z'", "host=h password='x y z'"),
            "got pw '***'"
        );
    }
}
