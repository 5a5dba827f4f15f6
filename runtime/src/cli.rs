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
//! variable; it is never printed, not even in a connection error.
//!
//! # Commands
//!
//! | command | what it does |
//! |---------|--------------|
//! | `migrate [--target V] [--dry-run] [--allow-…]` | applies what is pending ([`Runner::run`]); `--dry-run` only shows the plan |
//! | `status` | every migration with its state ([`Runner::status`]); reads only |
//! | `plan [--target V] [--allow-…]` | what `migrate` would do, with the SQL ([`Runner::plan`]); reads only |
//! | `verify` | checks the history against the binary; reads only (see below) |
//! | `baseline V` | records every migration up to `V` as applied without running it ([`Runner::baseline`]) |
//! | `repair` | removes the records of failed migrations ([`Runner::repair`]) |
//! | `repair --accept-checksum V` | accepts that applied migration `V` was edited ([`Runner::accept_checksum`]) |
//! | `repair --mark-applied V` | records a failed or dirty `V` as applied, once completed by hand ([`Runner::mark_applied`]) |
//! | `repair --forget V` | removes the record of a failed or dirty `V`, once undone by hand ([`Runner::forget`]) |
//! | `rollback --to V` | runs the down scripts of everything applied after `V`, newest first ([`Runner::rollback_to`]) |
//! | `resume [--allow-…]` | like `migrate`, continuing a dirty no-transaction migration where it stopped ([`Runner::resume`]) |
//!
//! The `--allow-out-of-order`, `--allow-missing` and `--allow-divergent`
//! flags are the [`Runner`] options of the same names. Every command takes
//! `--table NAME` (`table` or `schema.table`) for a tracking table other
//! than [`DEFAULT_TABLE`](crate::DEFAULT_TABLE), and `--json`.
//!
//! `verify` succeeds when no migration is failed, dirty, divergent (edited
//! since it was applied), missing from the binary or out of order. Pending
//! migrations are not a problem: a binary ahead of its database is what
//! every deployment looks like before `migrate`. They are listed all the
//! same.
//!
//! # Output
//!
//! Results go to standard output as readable text, or with `--json` as one
//! JSON document per command; times are RFC 3339 in UTC
//! (`"2026-11-21T09:37:14Z"`). Errors go to standard error as text, and
//! nothing is written to standard output then.
//!
//! # Exit codes
//!
//! - `0`: done; for `verify`, the history agrees with the binary.
//! - `1`: an error: no connection, a refused request, a failed migration.
//! - `2`: `verify` found problems. clap also exits with `2` when the
//!   arguments cannot be parsed, before anything touches the database.

use crate::Health;
use crate::error::{Error, server_error};
use crate::migration::Migrations;
use crate::plan::Plan;
use crate::report::{Applied, Report};
use crate::runner::Runner;
use crate::status::{Entry, State, Status, utc};
use postgres::Client;
use serde_json::{Value, json};
use std::fmt;
use std::io::Write;
use std::str::FromStr;
use std::time::SystemTime;

/// The exit code of success.
const OK: u8 = 0;
/// The exit code of an error.
const ERROR: u8 = 1;
/// The exit code of `verify` finding problems.
const PROBLEMS: u8 = 2;

/// Inspects and migrates the database: mount it as a subcommand of the
/// program's clap parser and call [`run`](Db::run). See the
/// [module documentation](self).
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

    #[command(subcommand)]
    command: DbCommand,
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
            .field("command", &self.command)
            .finish()
    }
}

/// The commands of [`Db`].
#[derive(Debug, clap::Subcommand)]
#[non_exhaustive]
pub enum DbCommand {
    /// Apply the pending migrations
    Migrate {
        #[command(flatten)]
        #[allow(missing_docs)]
        options: RunOptions,
        /// Show what would be applied, with the SQL, and change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Show every migration with its state (reads only)
    Status,
    /// Show what `migrate` would apply, with the SQL (reads only)
    Plan {
        #[command(flatten)]
        #[allow(missing_docs)]
        options: RunOptions,
    },
    /// Check the history against this binary (reads only); exit code 2 on problems
    Verify,
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
    },
    /// Undo the migrations applied after a version with their down scripts, newest first
    Rollback {
        /// The version to go back to (0 undoes every migration)
        #[arg(long, value_name = "VERSION")]
        to: i64,
        /// Roll back migrations edited since they were applied
        #[arg(long)]
        allow_divergent: bool,
    },
    /// Like `migrate`, continuing a dirty no-transaction migration where it stopped
    Resume {
        #[command(flatten)]
        #[allow(missing_docs)]
        options: RunOptions,
    },
}

/// The options `migrate`, `plan` and `resume` share.
#[derive(Debug, Clone, clap::Args)]
pub struct RunOptions {
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
    lock_timeout: Option<std::time::Duration>,
    /// PostgreSQL's statement_timeout while each migration runs, e.g. 10min
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    statement_timeout: Option<std::time::Duration>,
    /// How long to wait for another process's migration lock, e.g. 30s
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    lock_wait_timeout: Option<std::time::Duration>,
}

/// A duration as the directives write it: `250ms`, `5s`, `10min`, `2h`, `1d`.
fn duration(value: &str) -> Result<std::time::Duration, String> {
    stowage_core::directive::milliseconds(value)
        .map(std::time::Duration::from_millis)
        .ok_or_else(|| {
            format!(
                "`{value}` is not a duration: write a whole number with a unit (ms, s, min, h or d)"
            )
        })
}

impl RunOptions {
    fn apply<'m>(&self, runner: Runner<'m>) -> Runner<'m> {
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

impl Db {
    /// Runs the command over a client that `connect` makes from the
    /// connection string (with the program's choice of TLS), printing to
    /// standard output and standard error; returns the exit code for
    /// `main` to return.
    pub fn run<F>(&self, migrations: &Migrations, connect: F) -> std::process::ExitCode
    where
        F: FnOnce(&str) -> Result<Client, postgres::Error>,
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
    pub fn run_with<F>(
        &self,
        migrations: &Migrations,
        connect: F,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> u8
    where
        F: FnOnce(&str) -> Result<Client, postgres::Error>,
    {
        let (code, text) = match self.execute(migrations, connect) {
            Ok(Output { code, text, json }) => {
                let written = if self.json {
                    serde_json::to_writer_pretty(&mut *out, &json)
                        .map_err(std::io::Error::from)
                        .and_then(|()| writeln!(out))
                } else {
                    out.write_all(text.as_bytes())
                };
                match written.and_then(|()| out.flush()) {
                    Ok(()) => return code,
                    Err(e) => (ERROR, format!("cannot write the output: {e}")),
                }
            }
            Err(message) => (ERROR, message),
        };
        // Nothing more can be done if standard error is gone too.
        let _ = writeln!(err, "error: {text}").and_then(|()| err.flush());
        code
    }

    fn execute<F>(&self, migrations: &Migrations, connect: F) -> Result<Output, String>
    where
        F: FnOnce(&str) -> Result<Client, postgres::Error>,
    {
        let url = self.database_url.as_deref().unwrap_or_default();
        if url.is_empty() {
            return Err(
                "no database: pass --database-url or set the DATABASE_URL environment variable"
                    .to_owned(),
            );
        }
        let mut client = connect(url).map_err(|e| {
            redact(
                &format!("cannot connect to the database: {}", server_error(&e)),
                url,
            )
        })?;
        let mut runner = migrations.runner();
        if let Some(table) = &self.table {
            runner = runner.table(table);
        }
        self.command
            .execute(runner, &mut client)
            .map_err(|e| redact(&e.to_string(), url))
    }
}

/// What a command has to say, as text and as JSON, and its exit code.
struct Output {
    code: u8,
    text: String,
    json: Value,
}

impl Output {
    fn ok(text: impl Into<String>, json: Value) -> Output {
        Output {
            code: OK,
            text: text.into(),
            json,
        }
    }
}

impl DbCommand {
    fn execute(&self, runner: Runner<'_>, client: &mut Client) -> Result<Output, Error> {
        match self {
            DbCommand::Migrate { options, dry_run } => {
                let runner = options.apply(runner);
                if *dry_run {
                    let plan = runner.plan(client)?;
                    let mut json = plan_json(&plan);
                    json["dry_run"] = json!(true);
                    Ok(Output::ok(plan.to_string(), json))
                } else {
                    let report = runner.run(client)?;
                    Ok(Output::ok(format!("{report}\n"), report_json(&report)))
                }
            }
            DbCommand::Status => {
                let status = runner.status(client)?;
                Ok(Output::ok(
                    status_text(&status),
                    status_json(runner.migrations(), &status),
                ))
            }
            DbCommand::Plan { options } => {
                let plan = options.apply(runner).plan(client)?;
                Ok(Output::ok(plan.to_string(), plan_json(&plan)))
            }
            DbCommand::Verify => {
                let status = runner.status(client)?;
                Ok(verify(runner.migrations(), &status))
            }
            DbCommand::Baseline { version } => {
                let recorded = runner.baseline(client, *version)?;
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
                Ok(Output::ok(
                    text,
                    json!({ "baseline": version, "recorded": recorded }),
                ))
            }
            DbCommand::Repair {
                accept_checksum,
                mark_applied,
                forget,
            } => repair(runner, client, *accept_checksum, *mark_applied, *forget),
            DbCommand::Rollback {
                to,
                allow_divergent,
            } => {
                let report = runner
                    .allow_divergent(*allow_divergent)
                    .rollback_to(client, *to)?;
                let text = if report.undone().is_empty() {
                    format!("nothing to roll back: no migration after {to} is applied\n")
                } else {
                    format!("{report}\n")
                };
                Ok(Output::ok(
                    text,
                    json!({ "to": to, "rolled_back": applied_json(report.undone()) }),
                ))
            }
            DbCommand::Resume { options } => {
                let report = options.apply(runner).resume(client)?;
                Ok(Output::ok(format!("{report}\n"), report_json(&report)))
            }
        }
    }
}

fn repair(
    runner: Runner<'_>,
    client: &mut Client,
    accept_checksum: Option<i64>,
    mark_applied: Option<i64>,
    forget: Option<i64>,
) -> Result<Output, Error> {
    if let Some(version) = accept_checksum {
        runner.accept_checksum(client, version)?;
        return Ok(Output::ok(
            format!("migration {version}: recorded this binary's checksum as applied\n"),
            json!({ "accepted_checksum": version }),
        ));
    }
    if let Some(version) = mark_applied {
        runner.mark_applied(client, version)?;
        return Ok(Output::ok(
            format!("migration {version}: recorded as applied without running it\n"),
            json!({ "marked_applied": version }),
        ));
    }
    if let Some(version) = forget {
        runner.forget(client, version)?;
        return Ok(Output::ok(
            format!(
                "migration {version}: removed its record; the next migrate applies it from the start\n"
            ),
            json!({ "forgotten": version }),
        ));
    }
    let removed = runner.repair(client)?;
    let dirty: Vec<i64> = runner
        .status(client)?
        .entries()
        .iter()
        .filter(|e| matches!(e.state(), State::Dirty { .. }))
        .map(Entry::version)
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

/// The `verify` command: problems make exit code 2.
fn verify(migrations: &Migrations, status: &Status) -> Output {
    let problems: Vec<(&Entry, String)> = status
        .entries()
        .iter()
        .filter_map(|e| problem(migrations, e).map(|p| (e, p)))
        .collect();
    let pending: Vec<&Entry> = status
        .entries()
        .iter()
        .filter(|e| *e.state() == State::Pending)
        .collect();
    let current = match status.current_version() {
        Some(v) => format!("current version {v}"),
        None => "nothing applied".to_owned(),
    };
    let mut text = if problems.is_empty() {
        format!(
            "ok: the history in {} agrees with this binary ({current})\n",
            status.table()
        )
    } else {
        let mut text = format!(
            "the history in {} disagrees with this binary ({current}):\n",
            status.table()
        );
        for (_, p) in &problems {
            text.push_str(&format!("  - {}\n", indent(p, "    ")));
        }
        text
    };
    if !pending.is_empty() {
        let versions: Vec<i64> = pending.iter().map(|e| e.version()).collect();
        text.push_str(&format!(
            "{} migration(s) pending, applied by the next migrate: {}\n",
            pending.len(),
            list(&versions)
        ));
    }
    let json = json!({
        "ok": problems.is_empty(),
        "table": status.table(),
        "current_version": status.current_version(),
        "problems": problems
            .iter()
            .map(|(e, p)| {
                let mut v = entry_json(migrations, e);
                v["problem"] = json!(p);
                v
            })
            .collect::<Vec<_>>(),
        "pending": pending.iter().map(|e| entry_json(migrations, e)).collect::<Vec<_>>(),
    });
    Output {
        code: if problems.is_empty() { OK } else { PROBLEMS },
        text,
        json,
    }
}

/// What is wrong with a migration in this state, and what to do about it.
fn problem(migrations: &Migrations, e: &Entry) -> Option<String> {
    let v = e.version();
    let what = format!("migration {v} ({})", e.path().unwrap_or(e.name()));
    let error = e
        .error()
        .map(|error| format!(": {error}"))
        .unwrap_or_default();
    Some(match e.state() {
        State::Applied | State::Pending => return None,
        State::Failed => format!(
            "{what} failed{error}\nthe next migrate retries it; `repair` removes the record"
        ),
        State::Dirty {
            statements_done,
            statements_total,
        } => format!(
            "{what} is dirty: it runs outside a transaction and stopped after \
             {statements_done} of {statements_total} statements{error}\n\
             `resume` it, or once it is completed or undone by hand, \
             `repair --mark-applied {v}` or `repair --forget {v}`"
        ),
        State::Divergent { recorded_checksum } => format!(
            "{what} was edited after it was applied: checksum applied {recorded_checksum}, \
             in this binary {}\nrestore the file as it was applied, or `repair --accept-checksum {v}`",
            binary_checksum(migrations, v).unwrap_or("?")
        ),
        State::Missing => format!(
            "{what} is recorded as applied but this binary does not have it\n\
             run a binary that has it, or `migrate --allow-missing`"
        ),
        State::OutOfOrder => format!(
            "{what} is pending but lower than the highest version applied\n\
             `migrate --allow-out-of-order` applies it"
        ),
    })
}

fn status_text(status: &Status) -> String {
    let mut text = status.to_string();
    text.push_str(&format!(
        "\n{}; tracking table {}\n",
        match status.current_version() {
            Some(v) => format!("current version {v}"),
            None => "nothing applied".to_owned(),
        },
        status.table()
    ));
    for e in status.entries() {
        if let Some(error) = e.error() {
            text.push_str(&format!(
                "migration {} {}: {}\n",
                e.version(),
                e.state(),
                indent(error, "  ")
            ));
        }
    }
    text
}

fn status_json(migrations: &Migrations, status: &Status) -> Value {
    json!({
        "table": status.table(),
        "current_version": status.current_version(),
        "up_to_date": status.is_up_to_date(),
        "health": Health::from(status),
        "migrations": status
            .entries()
            .iter()
            .map(|e| entry_json(migrations, e))
            .collect::<Vec<_>>(),
    })
}

fn entry_json(migrations: &Migrations, e: &Entry) -> Value {
    let mut v = json!({
        "version": e.version(),
        "name": e.name(),
        "path": e.path(),
        "state": e.state().name(),
        "checksum": binary_checksum(migrations, e.version()),
        "applied_at": e.applied_at().map(rfc3339),
        "applied_by": e.applied_by(),
        "execution_ms": e.execution_ms(),
        "error": e.error(),
        "note": e.note(),
    });
    match e.state() {
        State::Dirty {
            statements_done,
            statements_total,
        } => {
            v["statements_done"] = json!(statements_done);
            v["statements_total"] = json!(statements_total);
        }
        State::Divergent { recorded_checksum } => {
            v["recorded_checksum"] = json!(recorded_checksum);
        }
        _ => {}
    }
    v
}

fn plan_json(plan: &Plan<'_>) -> Value {
    json!({
        "steps": plan
            .steps()
            .iter()
            .map(|step| {
                let m = step.migration();
                json!({
                    "version": m.version(),
                    "name": m.name(),
                    "path": m.path(),
                    "transactional": m.is_transactional(),
                    "sql": step.sql(),
                })
            })
            .collect::<Vec<_>>(),
    })
}

fn report_json(report: &Report) -> Value {
    json!({ "applied": applied_json(report.applied()) })
}

fn applied_json(list: &[Applied]) -> Vec<Value> {
    list.iter()
        .map(|a| {
            json!({
                "version": a.version(),
                "name": a.name(),
                "path": a.path(),
                "duration_ms": a.duration().as_millis(),
            })
        })
        .collect()
}

/// The binary's checksum of migration `version`, if it has it.
fn binary_checksum(migrations: &Migrations, version: i64) -> Option<&'static str> {
    migrations.get(version).map(|m| m.checksum())
}

/// `time` as RFC 3339 in UTC, e.g. `2026-11-21T09:37:14Z`.
fn rfc3339(time: SystemTime) -> String {
    format!("{}Z", utc(time).replacen(' ', "T", 1))
}

/// `1, 2, 3`.
fn list(versions: &[i64]) -> String {
    versions
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` with every line after the first indented by `by`.
fn indent(text: &str, by: &str) -> String {
    text.trim_end().replace('\n', &format!("\n{by}"))
}

/// `message` with the connection string and its password, should either
/// appear in it, replaced by `***`.
fn redact(message: &str, url: &str) -> String {
    let mut secrets = vec![url.to_owned()];
    if let Ok(config) = postgres::Config::from_str(url)
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
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_253_834)),
            "2026-11-21T09:37:14Z"
        );
    }

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
