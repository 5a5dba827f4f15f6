//! The `db` subcommand an application mounts with `stowage::cli::Db`, run
//! as an operator would run it, against a database of its own per test,
//! over the blocking driver (`Db::run_with`) or the async one
//! (`Db::run_async_with`).

mod common;

use clap::Parser;
use common::{applied_versions, database, runtime, table_exists, Driver};
use serde_json::{json, Value};
use std::io::Write;
use stowage::cli::Db;
use stowage::testing::TestDatabase;
use stowage::Migrations;

static MIGRATIONS: Migrations = stowage::embed_migrations!();
static BASE: Migrations = stowage::embed_migrations!("tests/fixtures/base");
static EDITED: Migrations = stowage::embed_migrations!("tests/fixtures/edited");
static FEWER: Migrations = stowage::embed_migrations!("tests/fixtures/fewer");
static FAILING: Migrations = stowage::embed_migrations!("tests/fixtures/failing");
static DIRTY: Migrations = stowage::embed_migrations!("tests/fixtures/dirty");
static ROLLBACK: Migrations = stowage::embed_migrations!("tests/fixtures/rollback");
static FROM_ZERO: Migrations = stowage::embed_migrations!("tests/fixtures/rollback_from_zero");
static GATE: Migrations = stowage::embed_migrations!("tests/fixtures/gate");
static BUSY: Migrations = stowage::embed_migrations!("tests/fixtures/timeouts_busy");
static TENANT: Migrations = stowage::embed_migrations!("tests/fixtures/tenant");
static GOLANG_MIGRATE: Migrations = stowage::embed_migrations!(
    "tests/fixtures/adopt/golang_migrate",
    layout = "golang-migrate"
);

/// The connection string every command is given; the connectors ignore it
/// and connect to the test database.
const URL: &str = "postgres://operator@db.example/app";

/// An application with the `db` subcommand mounted, as in `examples/app.rs`.
#[derive(Parser)]
struct App {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    Db(Db),
}

/// What one command did.
#[derive(Debug)]
struct Run {
    code: u8,
    out: String,
    err: String,
}

impl Run {
    /// Standard output as JSON.
    fn json(&self) -> Value {
        serde_json::from_str(&self.out)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.out, self.err))
    }

    /// Asserts the command succeeded and wrote nothing to standard error.
    #[track_caller]
    fn ok(self) -> Run {
        assert_eq!(
            (self.code, self.err.as_str()),
            (0, ""),
            "stdout: {}",
            self.out
        );
        self
    }

    /// Asserts the command failed with exit code 1 and printed nothing on
    /// standard output; returns its error message.
    #[track_caller]
    fn error(self) -> String {
        assert_eq!(self.out, "", "{self:?}");
        self.error_text()
    }

    /// Asserts the command, run with `--json`, failed with exit code 1,
    /// its message on standard error and the same message in a JSON error
    /// object on standard output; returns that object (what is under
    /// `"error"`).
    #[track_caller]
    fn json_error(self) -> Value {
        let mut document = self.json();
        let message = self.error_text();
        let object = document
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {document}"));
        assert_eq!(object.keys().collect::<Vec<_>>(), ["error"], "{document:#}");
        let error = document["error"].take();
        assert_eq!(
            format!("error: {}\n", error["message"].as_str().unwrap_or("?")),
            message,
            "the JSON message is the text on standard error: {error:#}"
        );
        for key in ["kind", "message", "code", "remedies"] {
            assert!(error.get(key).is_some(), "no {key}: {error:#}");
        }
        assert!(error["remedies"].is_array(), "{error:#}");
        error
    }

    /// Asserts the exit code 1 and an error message on standard error;
    /// returns it.
    #[track_caller]
    fn error_text(&self) -> String {
        assert_eq!(self.code, 1, "{self:?}");
        assert!(self.err.starts_with("error: "), "{self:?}");
        assert!(
            !self.err.contains("Error {") && !self.err.contains("kind:"),
            "errors are shown as text, not debug output: {}",
            self.err
        );
        self.err.clone()
    }
}

fn parse(args: &[&str]) -> Db {
    let argv = ["app", "db"].iter().chain(args);
    match App::try_parse_from(argv) {
        Ok(App {
            command: Command::Db(db),
        }) => db,
        Err(e) => panic!("cannot parse {args:?}: {e}"),
    }
}

/// Runs `app db {args}` on `database` over `driver`, connecting to it
/// whatever the connection string says.
fn db(driver: Driver, migrations: &Migrations, database: &TestDatabase<'_>, args: &[&str]) -> Run {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = db_writing_to(driver, migrations, database, args, &mut out, &mut err);
    Run {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

/// Like [`db`], writing to `out` and `err`; returns the exit code.
fn db_writing_to(
    driver: Driver,
    migrations: &Migrations,
    database: &TestDatabase<'_>,
    args: &[&str],
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> u8 {
    let mut argv = vec!["--database-url", URL];
    argv.extend(args);
    connecting_to(
        driver,
        migrations,
        (database.config(), database.async_config()),
        &argv,
        out,
        err,
    )
}

/// Runs `app db {args}` over `driver`, connecting with `configs` (the
/// blocking driver's and the async one's) whatever the connection string
/// says; returns the exit code.
fn connecting_to(
    driver: Driver,
    migrations: &Migrations,
    configs: (&postgres::Config, &tokio_postgres::Config),
    args: &[&str],
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> u8 {
    let command = parse(args);
    match driver {
        Driver::Sync => command.run_with(
            migrations,
            |url| {
                assert_eq!(url, URL);
                configs.0.connect(postgres::NoTls)
            },
            out,
            err,
        ),
        Driver::Async => {
            let config = configs.1.clone();
            runtime().block_on(command.run_async_with(
                migrations,
                |url| {
                    let config = config.clone();
                    async move {
                        assert_eq!(url, URL);
                        let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
                        runtime().spawn(connection);
                        Ok(client)
                    }
                },
                out,
                err,
            ))
        }
    }
}

/// Runs `app db {args}` over `driver`, connecting with the connection
/// string as given.
fn run(driver: Driver, migrations: &Migrations, args: &[&str]) -> Run {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let command = parse(args);
    let code = match driver {
        Driver::Sync => command.run_with(
            migrations,
            |url| postgres::Client::connect(url, postgres::NoTls),
            &mut out,
            &mut err,
        ),
        Driver::Async => runtime().block_on(command.run_async_with(
            migrations,
            |url| async move {
                let (client, connection) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
                runtime().spawn(connection);
                Ok(client)
            },
            &mut out,
            &mut err,
        )),
    };
    Run {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

/// The `(version, state)` of each migration in `status --json`.
fn states(status: &Value) -> Vec<(i64, String)> {
    status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["version"].as_i64().unwrap(),
                m["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn all(versions: std::ops::RangeInclusive<i64>, state: &str) -> Vec<(i64, String)> {
    versions.map(|v| (v, state.to_owned())).collect()
}

/// The versions of a list of `{"version": ...}` objects.
fn versions_of(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|a| a["version"].as_i64().unwrap())
        .collect()
}

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// `expected`, sorted, to compare with [`keys`].
fn sorted<'a>(expected: &[&'a str]) -> Vec<&'a str> {
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    expected
}

/// Asserts that `text`, which an operator reads, names no API call.
#[track_caller]
fn speaks_the_cli(text: &str) {
    for api in [
        "Runner::",
        "(true)",
        "allow_divergent",
        "mark_applied(",
        "accept_checksum(",
    ] {
        assert!(
            !text.contains(api),
            "{api:?} in what an operator reads:\n{text}"
        );
    }
}

fn migrate_then_status_shows_every_migration_applied(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    let out = db(driver, &MIGRATIONS, &db_, &["migrate"]).ok().out;
    assert!(out.starts_with("applied 6 migration(s) in "), "{out}");
    assert!(
        out.contains("\n  1 create_accounts (migrations/0001_create_accounts.sql) in "),
        "{out}"
    );
    assert_eq!(applied_versions(&mut client), [1, 2, 3, 4, 5, 6]);

    let out = db(driver, &MIGRATIONS, &db_, &["status"]).ok().out;
    let lines: Vec<&str> = out.lines().collect();
    let header: Vec<&str> = lines[0]
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "version",
            "name",
            "state",
            "applied at (UTC)",
            "by",
            "ms",
            "down",
            "note"
        ],
        "{out}"
    );
    let down_at = lines[0].find("down").unwrap();
    let names = [
        "create_accounts",
        "create_users",
        "create_orders",
        "touch_updated_at",
        "account_revenue_view",
        "add_users_last_login",
    ];
    for (i, name) in names.iter().enumerate() {
        let line = lines[i + 1];
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            cells[..3],
            [&(i + 1).to_string(), *name, "applied"],
            "{out}"
        );
        // The date and the time, then the user and the milliseconds, then
        // `yes` in the down column for the one migration with a down script.
        let has_down = i + 1 == 6;
        assert_eq!(cells.len(), if has_down { 8 } else { 7 }, "{out}");
        assert_eq!((cells[3].len(), cells[4].len()), (10, 8), "{out}");
        assert_eq!(
            line.get(down_at..).map(str::trim_end).unwrap_or(""),
            if has_down { "yes" } else { "" },
            "{out}"
        );
    }
    // Then the repeatable migrations, each with what it created.
    let repeatables: Vec<Vec<&str>> = lines[8..11]
        .iter()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        repeatables[0],
        ["repeatable", "state", "applied at (UTC)", "objects"],
        "{out}"
    );
    assert_eq!(
        (repeatables[1][0], repeatables[1][1], repeatables[1][3]),
        ("account_summary", "applied", "view public.account_summary"),
        "{out}"
    );
    assert_eq!(
        (repeatables[2][0], repeatables[2][1], repeatables[2][3]),
        (
            "user_label",
            "applied",
            "function public.user_label(public.users)"
        ),
        "{out}"
    );
    assert_eq!(
        lines[11..],
        [
            "",
            r#"current version 6; tracking table "public"."stowage_migrations""#
        ],
        "{out}"
    );

    // Running it again applies nothing.
    let out = db(driver, &MIGRATIONS, &db_, &["migrate"]).ok().out;
    assert_eq!(out, "nothing to apply: the database is up to date\n");
}

fn status_as_json(driver: Driver) {
    let (db_, _client) = database(Driver::Sync);
    let before = db(driver, &MIGRATIONS, &db_, &["status", "--json"])
        .ok()
        .json();
    assert_eq!(before["current_version"], Value::Null);
    assert_eq!(before["up_to_date"], false);
    assert_eq!(states(&before), all(1..=6, "pending"));
    assert_eq!(before["migrations"][0]["applied_at"], Value::Null);

    db(driver, &MIGRATIONS, &db_, &["migrate"]).ok();
    // `--json` may come before the command too.
    let status = db(driver, &MIGRATIONS, &db_, &["--json", "status"])
        .ok()
        .json();
    assert_eq!(
        keys(&status),
        sorted(&[
            "schema",
            "table",
            "current_version",
            "up_to_date",
            "counts",
            "migrations",
            "repeatables"
        ]),
        "{status:#}"
    );
    assert_eq!(status["repeatables"][0]["name"], "account_summary");
    assert_eq!(status["repeatables"][0]["state"], "applied");
    assert_eq!(
        status["repeatables"][1]["objects"],
        json!(["function public.user_label(public.users)"])
    );
    assert_eq!(
        (&status["schema"], &status["table"]),
        (&json!("public"), &json!("stowage_migrations"))
    );
    assert_eq!(status["current_version"], 6);
    assert_eq!(status["up_to_date"], true);
    assert_eq!(
        status["counts"],
        json!({
            "applied": 6, "pending": 0, "out_of_order": 0, "failed": 0,
            "dirty": 0, "divergent": 0, "missing": 0, "elsewhere": 0
        })
    );
    assert_eq!(states(&status), all(1..=6, "applied"));
    let first = &status["migrations"][0];
    assert_eq!(
        keys(first),
        sorted(&[
            "version",
            "name",
            "path",
            "state",
            "checksum",
            "has_down",
            "applied_at",
            "applied_by",
            "execution_ms",
            "error",
            "note"
        ]),
        "{first:#}"
    );
    assert_eq!(first["name"], "create_accounts");
    assert_eq!(first["path"], "migrations/0001_create_accounts.sql");
    assert_eq!(
        first["checksum"],
        MIGRATIONS.get(1).unwrap().up().checksum()
    );
    assert_eq!(first["error"], Value::Null);
    assert_eq!(first["note"], Value::Null);
    assert_eq!(first["has_down"], false);
    assert_eq!(status["migrations"][5]["has_down"], true);
    assert!(first["execution_ms"].is_i64(), "{first}");
    assert!(first["applied_by"].is_string(), "{first}");
    // RFC 3339 in UTC: 2026-11-21T09:37:14Z.
    let at = first["applied_at"].as_str().unwrap();
    assert_eq!(at.len(), 20, "{at}");
    assert_eq!((&at[4..5], &at[10..11], &at[19..]), ("-", "T", "Z"), "{at}");
}

fn plan_and_dry_run_show_the_sql_and_change_nothing(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    let out = db(driver, &MIGRATIONS, &db_, &["plan"]).ok().out;
    assert!(
        out.starts_with("a run would apply 6 migration(s), in this order:\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "\n-- 1 create_accounts (migrations/0001_create_accounts.sql), in one transaction\n"
        ),
        "{out}"
    );
    assert!(out.contains("CREATE TABLE accounts ("), "{out}");
    assert!(out.contains("CREATE VIEW account_revenue AS"), "{out}");

    let dry = db(driver, &MIGRATIONS, &db_, &["migrate", "--dry-run"])
        .ok()
        .out;
    assert_eq!(dry, out, "a dry run shows the plan");

    let json = db(
        driver,
        &MIGRATIONS,
        &db_,
        &["migrate", "--dry-run", "--target", "2", "--json"],
    )
    .ok()
    .json();
    // A dry run prints the plan, the same document as `plan`.
    let plan = db(
        driver,
        &MIGRATIONS,
        &db_,
        &["plan", "--target", "2", "--json"],
    )
    .ok()
    .json();
    assert_eq!(json, plan, "a dry run prints the plan");
    assert_eq!(keys(&json), ["repeatables", "steps"], "{json:#}");
    // With a target below the newest migration, the repeatables wait.
    assert_eq!(json["repeatables"]["changes"], json!([]));
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(versions_of(&json["steps"]), [1, 2]);
    assert_eq!(
        keys(&steps[1]),
        sorted(&[
            "version",
            "name",
            "path",
            "transactional",
            "from_statement",
            "drop_first",
            "sql"
        ]),
        "{json:#}"
    );
    assert_eq!(steps[1]["name"], "create_users");
    assert_eq!(steps[1]["path"], "migrations/0002_create_users.sql");
    assert_eq!(steps[1]["transactional"], true);
    assert_eq!(steps[1]["from_statement"], 1);
    assert_eq!(
        steps[1]["sql"],
        json!([MIGRATIONS.get(2).unwrap().up().sql()])
    );

    assert!(
        !table_exists(&mut client, "public.stowage_migrations"),
        "neither creates the tracking table"
    );
    assert!(!table_exists(&mut client, "public.accounts"));

    db(driver, &MIGRATIONS, &db_, &["migrate"]).ok();
    let out = db(driver, &MIGRATIONS, &db_, &["plan"]).ok().out;
    assert_eq!(out, "nothing to apply: the database is up to date\n");
    let json = db(driver, &MIGRATIONS, &db_, &["plan", "--json"])
        .ok()
        .json();
    assert_eq!(
        json,
        json!({
            "steps": [],
            "repeatables": { "changes": [], "drops": [], "creates": [], "outside": [] }
        })
    );
}

fn migrate_to_a_target_version(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    let out = db(driver, &MIGRATIONS, &db_, &["migrate", "--target", "3"])
        .ok()
        .out;
    assert!(out.starts_with("applied 3 migration(s)"), "{out}");
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);

    let status = db(driver, &MIGRATIONS, &db_, &["status", "--json"])
        .ok()
        .json();
    assert_eq!(status["current_version"], 3);
    let mut expected = all(1..=3, "applied");
    expected.extend(all(4..=6, "pending"));
    assert_eq!(states(&status), expected);

    let message = db(driver, &MIGRATIONS, &db_, &["migrate", "--target", "99"]).error();
    assert_eq!(message, "error: refused: this binary has no migration 99\n");

    let json = db(driver, &MIGRATIONS, &db_, &["migrate", "--json"])
        .ok()
        .json();
    assert_eq!(
        keys(&json),
        ["applied", "repeatables", "undone"],
        "{json:#}"
    );
    assert_eq!(versions_of(&json["applied"]), [4, 5, 6]);
    assert_eq!(json["repeatables"][0]["name"], "account_summary");
    assert_eq!(json["repeatables"][0]["action"], "created");
    assert_eq!(json["undone"], json!([]));
    let first = &json["applied"][0];
    assert_eq!(
        keys(first),
        sorted(&["version", "name", "path", "duration_ms"]),
        "{json:#}"
    );
    assert_eq!(first["name"], "touch_updated_at");
    assert_eq!(first["path"], "migrations/0004_touch_updated_at.sql");
    assert!(first["duration_ms"].is_u64(), "{json}");
}

fn a_target_below_the_current_version_says_so(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    db(driver, &MIGRATIONS, &db_, &["migrate"]).ok();
    let out = db(driver, &MIGRATIONS, &db_, &["migrate", "--target", "5"])
        .ok()
        .out;
    assert_eq!(
        out,
        "nothing to apply: the target 5 is below the current version 6; \
         `rollback --to 5` goes back to it\n"
    );
    let json = db(
        driver,
        &MIGRATIONS,
        &db_,
        &["migrate", "--target", "5", "--json"],
    )
    .ok()
    .json();
    assert_eq!(
        json,
        json!({
            "applied": [],
            "undone": [],
            "repeatables": [],
            "target_below": { "target": 5, "current": 6 }
        })
    );
    assert_eq!(applied_versions(&mut client), [1, 2, 3, 4, 5, 6]);
}

fn verify_passes_a_good_database_and_one_behind_the_binary(driver: Driver) {
    let (db_, _client) = database(Driver::Sync);
    db(driver, &BASE, &db_, &["migrate", "--target", "2"]).ok();
    let out = db(driver, &BASE, &db_, &["verify"]).ok().out;
    assert_eq!(
        out,
        "ok: the history in \"public\".\"stowage_migrations\" agrees with this binary (current version 2)\n\
         1 migration(s) pending, applied by the next `migrate`: 3\n"
    );
    let json = db(driver, &BASE, &db_, &["verify", "--json"]).ok().json();
    assert_eq!(
        json,
        json!({
            "schema": "public",
            "table": "stowage_migrations",
            "current_version": 2,
            "ok": true,
            "problems": [],
            "pending": [3],
            "repeatables": [],
            "schema_check": {
                "file": "tests/fixtures/base/schema.sql",
                "schema": "public",
                "state": "not_at_newest_version",
                "current": 2,
                "newest": 3
            }
        })
    );

    db(driver, &BASE, &db_, &["migrate"]).ok();
    let out = db(driver, &BASE, &db_, &["verify"]).ok().out;
    assert_eq!(
        out,
        "ok: the history in \"public\".\"stowage_migrations\" agrees with this binary (current version 3)\n\
         ok: the schema public is the one tests/fixtures/base/schema.sql says the migrations build\n"
    );
    let json = db(driver, &BASE, &db_, &["verify", "--json"]).ok().json();
    assert_eq!(json["ok"], true);
    assert_eq!(json["problems"], json!([]));
    assert_eq!(json["pending"], json!([]));
    assert_eq!(json["current_version"], 3);
}

fn verify_and_drift_report_a_schema_changed_by_hand(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    db(driver, &MIGRATIONS, &db_, &["migrate"]).ok();
    let matches =
        "ok: the schema public is the one migrations/schema.sql says the migrations build\n";
    assert_eq!(db(driver, &MIGRATIONS, &db_, &["drift"]).ok().out, matches);
    assert!(db(driver, &MIGRATIONS, &db_, &["verify"])
        .ok()
        .out
        .ends_with(matches));
    client
        .batch_execute("ALTER TABLE users ADD COLUMN nickname text; DROP INDEX users_active_idx")
        .unwrap();

    let run = db(driver, &MIGRATIONS, &db_, &["verify"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.out,
        "ok: the history in \"public\".\"stowage_migrations\" agrees with this binary (current version 6)\n\
         the schema public differs from migrations/schema.sql in 2 place(s): `drift` shows them\n"
    );
    let full = "the schema public differs from migrations/schema.sql in 2 place(s):\n  \
                - column public.users.nickname is there, but not in the schema file\n  \
                - index public.users_active_idx is missing (migration 6, \
                migrations/0006_add_users_last_login.sql, makes it)\n\
                what can be done: restoring what is missing from a backup (or as the schema file has it, \
                when it held no data), running migration 6 again (`repair --reapply 6`) or writing a \
                migration that makes each change made by hand, or undoing it by hand\n";
    let run = db(driver, &MIGRATIONS, &db_, &["drift"]);
    assert_eq!((run.code, run.out.as_str()), (2, full));
    let run = db(driver, &MIGRATIONS, &db_, &["verify", "--drift"]);
    assert_eq!(run.code, 2);
    assert!(run.out.ends_with(full), "{}", run.out);

    let json = db(driver, &MIGRATIONS, &db_, &["drift", "--json"]).json();
    assert_eq!(
        json,
        json!({
            "file": "migrations/schema.sql",
            "schema": "public",
            "state": "differs",
            "differences": [
                { "kind": "column", "object": "public.users.nickname", "change": "extra" },
                {
                    "kind": "index",
                    "object": "public.users_active_idx",
                    "change": "missing",
                    "made_by": { "version": 6, "path": "migrations/0006_add_users_last_login.sql" }
                }
            ],
            "remedies": [
                { "remedy": "restore" },
                { "remedy": "reapply", "version": 6 },
                { "remedy": "migrate_or_undo" }
            ]
        })
    );
    let json = db(driver, &MIGRATIONS, &db_, &["verify", "--json"]).json();
    assert_eq!(json["ok"], true, "the history agrees: {json:#}");
    assert_eq!(json["schema_check"]["state"], "differs");
    assert_eq!(
        json["schema_check"]["differences"].as_array().map(Vec::len),
        Some(2)
    );
}

/// `repair --reapply` runs a migration again whose view is gone, and
/// refuses one whose objects are all there.
fn repair_reapply_runs_a_migration_again_whose_objects_are_gone(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    db(driver, &MIGRATIONS, &db_, &["migrate"]).ok();
    let run = db(driver, &MIGRATIONS, &db_, &["repair", "--reapply", "5"]);
    assert_eq!(
        (run.code, run.err.as_str()),
        (
            1,
            "error: refused: migration 5 was not run again: the schema check finds nothing it \
             makes missing, and running it again would apply it twice\n"
        ),
        "{run:?}"
    );
    client
        .batch_execute("DROP VIEW account_revenue CASCADE")
        .unwrap();
    let run = db(driver, &MIGRATIONS, &db_, &["drift"]);
    assert!(
        run.out
            .contains("running migration 5 again (`repair --reapply 5`)"),
        "{}",
        run.out
    );
    let json = db(
        driver,
        &MIGRATIONS,
        &db_,
        &["repair", "--reapply", "5", "--json"],
    )
    .json();
    assert_eq!(json["applied"][0]["version"], 5, "{json:#}");
    let run = db(driver, &MIGRATIONS, &db_, &["drift"]);
    assert!(!run.out.contains("account_revenue "), "{}", run.out);
}

fn verify_finds_an_edited_migration_and_repair_accepts_it(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    db(driver, &BASE, &db_, &["migrate"]).ok();

    let run = db(driver, &EDITED, &db_, &["verify"]);
    assert_eq!((run.code, run.err.as_str()), (2, ""), "{run:?}");
    let applied = BASE.get(2).unwrap().up().checksum();
    let binary = EDITED.get(2).unwrap().up().checksum();
    assert!(
        run.out.starts_with(
            "the history in \"public\".\"stowage_migrations\" disagrees with this binary (current version 3):\n  \
             - migration 2 (tests/fixtures/edited/2_b.sql) was edited after it was applied"
        ),
        "{}",
        run.out
    );
    for part in [applied, binary, "`repair --accept-checksum 2`"] {
        assert!(run.out.contains(part), "{part}: {}", run.out);
    }

    let run = db(driver, &EDITED, &db_, &["verify", "--json"]);
    assert_eq!(run.code, 2);
    let json = run.json();
    assert_eq!(
        keys(&json),
        sorted(&[
            "schema",
            "table",
            "current_version",
            "ok",
            "problems",
            "pending",
            "repeatables"
        ]),
        "{json:#}"
    );
    assert_eq!(json["ok"], false);
    assert_eq!(json["current_version"], 3);
    assert_eq!(
        json["problems"],
        json!([{
            "problem": "divergent",
            "version": 2,
            "path": "tests/fixtures/edited/2_b.sql",
            "recorded_checksum": applied,
            "binary_checksum": binary,
        }])
    );

    // Verifying changed nothing; migrate refuses the edited history.
    let message = db(driver, &EDITED, &db_, &["migrate"]).error();
    assert!(
        message.contains("was edited after it was applied"),
        "{message}"
    );

    let out = db(driver, &EDITED, &db_, &["repair", "--accept-checksum", "2"])
        .ok()
        .out;
    assert_eq!(
        out,
        "migration 2: recorded this binary's checksum as applied\n"
    );
    db(driver, &EDITED, &db_, &["verify"]).ok();
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);

    // Accepting it again changes nothing, and says so.
    let out = db(driver, &EDITED, &db_, &["repair", "--accept-checksum", "2"])
        .ok()
        .out;
    assert_eq!(
        out,
        "migration 2: its recorded checksum already is this binary's; nothing changed\n"
    );
    let json = db(
        driver,
        &EDITED,
        &db_,
        &["repair", "--accept-checksum", "2", "--json"],
    )
    .ok()
    .json();
    assert_eq!(json, json!({ "version": 2, "changed": false }));

    // The status shows what the operator did.
    let status = db(driver, &EDITED, &db_, &["status", "--json"]).ok().json();
    let note = status["migrations"][1]["note"].as_str().unwrap();
    assert!(note.starts_with("checksum accepted"), "{note}");
}

fn verify_finds_a_migration_missing_from_the_binary(driver: Driver) {
    let (db_, _client) = database(Driver::Sync);
    db(driver, &BASE, &db_, &["migrate"]).ok();
    let run = db(driver, &FEWER, &db_, &["verify"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.out.contains(
            "  - migration 3 (c) is recorded as applied but this binary does not have it; \
             run a binary that has it, or go on without it: `--allow-missing`\n"
        ),
        "{}",
        run.out
    );

    let out = db(driver, &FEWER, &db_, &["migrate", "--allow-missing"])
        .ok()
        .out;
    assert_eq!(out, "nothing to apply: the database is up to date\n");
}

fn baseline_records_without_running(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    let out = db(driver, &BASE, &db_, &["baseline", "2"]).ok().out;
    assert_eq!(
        out,
        "recorded migration(s) 1, 2 as applied without running them\n"
    );
    assert!(!table_exists(&mut client, "public.a"), "not run");
    assert!(!table_exists(&mut client, "public.b"), "not run");

    let status = db(driver, &BASE, &db_, &["status", "--json"]).ok().json();
    assert_eq!(
        states(&status),
        [
            (1, "applied".into()),
            (2, "applied".into()),
            (3, "pending".into())
        ]
    );
    assert_eq!(status["migrations"][0]["note"], "baseline");
    // The text shows the note too, in its column.
    let out = db(driver, &BASE, &db_, &["status"]).ok().out;
    let lines: Vec<&str> = out.lines().collect();
    let note_at = lines[0].find("note").unwrap();
    for line in &lines[1..=2] {
        assert_eq!(line.get(note_at..), Some("baseline"), "{out}");
    }
    assert_eq!(lines[3].get(note_at..), None, "{out}");

    let json = db(driver, &BASE, &db_, &["migrate", "--json"]).ok().json();
    assert_eq!(json["applied"][0]["version"], 3);
    assert_eq!(json["applied"].as_array().unwrap().len(), 1);

    let message = db(driver, &BASE, &db_, &["baseline", "2"]).error();
    assert!(
        message.starts_with("error: refused: the tracking table already records migrations [3]"),
        "{message}"
    );
    let json = db(driver, &BASE, &db_, &["baseline", "3", "--json"])
        .ok()
        .json();
    assert_eq!(json, json!({ "recorded": [] }));
}

fn repair_refuses_what_would_make_the_history_lie(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    db(driver, &BASE, &db_, &["migrate"]).ok();

    let message = db(driver, &BASE, &db_, &["repair", "--forget", "2"]).error();
    assert_eq!(
        message,
        "error: refused: migration 2 is applied; forgetting it would make the next run \
         apply it again; to undo it, `rollback --to 1`; if what it makes is missing, running \
         migration 2 again (`repair --reapply 2`)\n"
    );
    let message = db(driver, &BASE, &db_, &["repair", "--forget", "7"]).error();
    assert_eq!(
        message,
        "error: refused: the tracking table has no record of migration 7\n"
    );
    let message = db(driver, &BASE, &db_, &["repair", "--mark-applied", "7"]).error();
    assert_eq!(message, "error: refused: this binary has no migration 7\n");
    let message = db(driver, &EDITED, &db_, &["repair", "--mark-applied", "2"]).error();
    assert!(
        message.contains("to accept the edited file, `repair --accept-checksum 2`"),
        "an edited migration is not marked applied: {message}"
    );
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);

    // Marking an applied migration applied changes nothing, and says so.
    let out = db(driver, &BASE, &db_, &["repair", "--mark-applied", "1"])
        .ok()
        .out;
    assert_eq!(
        out,
        "migration 1 is already recorded as applied; nothing changed\n"
    );
    let json = db(
        driver,
        &BASE,
        &db_,
        &["repair", "--mark-applied", "1", "--json"],
    )
    .ok()
    .json();
    assert_eq!(json, json!({ "version": 1, "changed": false }));
    let status = db(driver, &BASE, &db_, &["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][0]["note"], Value::Null, "not touched");

    // Only one repair at a time.
    let Err(e) = App::try_parse_from([
        "app",
        "db",
        "repair",
        "--forget",
        "1",
        "--mark-applied",
        "2",
    ]) else {
        panic!("two repairs at once are accepted");
    };
    assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
}

fn a_failed_migration_is_reported_then_repaired(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    let message = db(driver, &FAILING, &db_, &["migrate"]).error();
    assert!(
        message.starts_with(
            "error: migration 2 (tests/fixtures/failing/2_needs_setup.sql:3:13) failed and was rolled back: \
             ERROR 42P01: relation \"prerequisite\" does not exist"
        ),
        "{message}"
    );

    let out = db(driver, &FAILING, &db_, &["status"]).ok().out;
    assert!(out.contains("\n2        needs_setup  failed "), "{out}");
    assert!(
        out.contains("migration 2 failed: ERROR 42P01: relation \"prerequisite\" does not exist"),
        "the server's error is shown under the table: {out}"
    );
    let run = db(driver, &FAILING, &db_, &["verify"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.out.contains(
            "  - migration 2 (tests/fixtures/failing/2_needs_setup.sql) failed (ERROR 42P01"
        ),
        "{}",
        run.out
    );
    let json = db(driver, &FAILING, &db_, &["verify", "--json"]).json();
    assert_eq!(json["problems"][0]["problem"], "failed", "{json:#}");
    assert_eq!(json["problems"][0]["version"], 2, "{json:#}");

    let out = db(driver, &FAILING, &db_, &["repair"]).ok().out;
    assert_eq!(
        out,
        "removed the record(s) of failed migration(s) 2; the next migrate retries them\n"
    );
    let status = db(driver, &FAILING, &db_, &["status", "--json"])
        .ok()
        .json();
    assert_eq!(
        states(&status),
        [
            (1, "applied".into()),
            (2, "pending".into()),
            (3, "pending".into())
        ]
    );
    let out = db(driver, &FAILING, &db_, &["repair"]).ok().out;
    assert_eq!(out, "no failed migration to remove\n");
    let json = db(driver, &FAILING, &db_, &["repair", "--json"])
        .ok()
        .json();
    assert_eq!(json, json!({ "removed": [], "dirty": [] }));

    // Completed by hand, then marked applied.
    db(driver, &FAILING, &db_, &["migrate"]).error();
    client
        .batch_execute("CREATE TABLE rolled_back (id int); CREATE TABLE prerequisite (id int)")
        .unwrap();
    let out = db(driver, &FAILING, &db_, &["repair", "--mark-applied", "2"])
        .ok()
        .out;
    assert_eq!(out, "migration 2: recorded as applied without running it\n");
    db(driver, &FAILING, &db_, &["migrate"]).ok();
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);
}

fn a_dirty_migration_is_shown_then_resumed(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    let message = db(driver, &DIRTY, &db_, &["migrate"]).error();
    assert!(message.contains("failed at statement 3 of 5"), "{message}");

    let run = db(driver, &DIRTY, &db_, &["verify"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.out.contains(
            "migration 2 (tests/fixtures/dirty/2_backfill.sql) is dirty: it runs outside a transaction \
             and statement 3 of 5 (line 4) failed (ERROR 42P01"
        ),
        "{}",
        run.out
    );
    assert!(
        run.out
            .contains("statements 1 to 2 stay applied, so the database may be partly changed"),
        "{}",
        run.out
    );
    let json = db(driver, &DIRTY, &db_, &["status", "--json"]).ok().json();
    let second = &json["migrations"][1];
    assert_eq!(second["state"], "dirty");
    assert_eq!(
        (
            second["statements_done"].as_u64(),
            second["statements_total"].as_u64()
        ),
        (Some(2), Some(5))
    );
    assert!(
        second["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("ERROR 42P01")),
        "{second}"
    );
    assert_eq!(json["counts"]["dirty"], 1);
    // The text says why it is dirty, below the table.
    let out = db(driver, &DIRTY, &db_, &["status"]).ok().out;
    assert!(
        out.contains(
            "\nmigration 2 dirty (2/5 statements): ERROR 42P01: relation \"items_archive\" does not exist"
        ),
        "{out}"
    );

    let out = db(driver, &DIRTY, &db_, &["repair"]).ok().out;
    assert!(
        out.starts_with(
            "no failed migration to remove\nmigration 2 is dirty and was left alone: `resume` it"
        ),
        "{out}"
    );
    let json = db(driver, &DIRTY, &db_, &["repair", "--json"]).ok().json();
    assert_eq!(json, json!({ "removed": [], "dirty": [2] }));

    // `plan` shows what `migrate` would do: refuse, naming `resume`.
    let error = db(driver, &DIRTY, &db_, &["plan", "--json"]).json_error();
    assert_eq!(error["kind"], "history", "{error:#}");
    assert_eq!(error["violations"][0]["problem"], "dirty", "{error:#}");
    assert_eq!(
        error["remedies"][0],
        json!({ "remedy": "resume", "version": 2, "from_statement": 3 }),
        "{error:#}"
    );

    client
        .batch_execute("CREATE TABLE items_archive (id int, code text)")
        .unwrap();
    let out = db(driver, &DIRTY, &db_, &["resume"]).ok().out;
    assert!(out.starts_with("applied 2 migration(s)"), "{out}");
    db(driver, &DIRTY, &db_, &["verify"]).ok();
    assert!(table_exists(&mut client, "public.step_five"));
}

fn rollback_runs_down_scripts_and_refuses_without_one(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    db(driver, &MIGRATIONS, &db_, &["migrate"]).ok();
    let has_last_login = |client: &mut common::Conn| -> bool {
        client
            .query_one(
                "SELECT count(*) = 1 FROM information_schema.columns \
                 WHERE table_name = 'users' AND column_name = 'last_login_at'",
                &[],
            )
            .unwrap()
            .get(0)
    };
    assert!(has_last_login(&mut client));

    let message = db(driver, &MIGRATIONS, &db_, &["rollback", "--to", "4"]).error();
    assert!(
        message.contains(
            "nothing was rolled back:\n  - migration 5 (migrations/0005_account_revenue_view.sql) has no down script"
        ),
        "{message}"
    );
    assert!(has_last_login(&mut client), "nothing was undone");
    assert_eq!(applied_versions(&mut client), [1, 2, 3, 4, 5, 6]);

    let out = db(driver, &MIGRATIONS, &db_, &["rollback", "--to", "5"])
        .ok()
        .out;
    assert!(out.starts_with("rolled back 1 migration(s) in "), "{out}");
    assert!(
        out.contains(
            "\n  6 add_users_last_login (migrations/0006_add_users_last_login.down.sql) in "
        ),
        "{out}"
    );
    assert!(!has_last_login(&mut client));
    assert_eq!(applied_versions(&mut client), [1, 2, 3, 4, 5]);

    let json = db(
        driver,
        &MIGRATIONS,
        &db_,
        &["rollback", "--to", "5", "--json"],
    )
    .ok()
    .json();
    assert_eq!(
        json,
        json!({ "applied": [], "undone": [], "repeatables": [] })
    );
    let out = db(driver, &MIGRATIONS, &db_, &["rollback", "--to", "5"])
        .ok()
        .out;
    assert_eq!(
        out,
        "nothing to roll back: no migration after 5 is applied\n"
    );

    let status = db(driver, &MIGRATIONS, &db_, &["status", "--json"])
        .ok()
        .json();
    assert_eq!(status["current_version"], 5);
    assert_eq!(status["migrations"][5]["state"], "pending");
}

fn rollback_all_undoes_everything(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    db(driver, &ROLLBACK, &db_, &["migrate"]).ok();
    let json = db(driver, &ROLLBACK, &db_, &["rollback", "--all", "--json"])
        .ok()
        .json();
    assert_eq!(
        keys(&json),
        ["applied", "repeatables", "undone"],
        "{json:#}"
    );
    assert_eq!(json["applied"], json!([]));
    assert_eq!(versions_of(&json["undone"]), [3, 2, 1], "newest first");
    let first = &json["undone"][0];
    assert_eq!(
        keys(first),
        sorted(&["version", "name", "path", "duration_ms"]),
        "{json:#}"
    );
    assert_eq!(first["path"], "tests/fixtures/rollback/3_c.down.sql");
    assert_eq!(applied_versions(&mut client), Vec::<i64>::new());
    for table in ["public.a", "public.b", "public.c"] {
        assert!(!table_exists(&mut client, table), "{table} stays");
    }
    let out = db(driver, &ROLLBACK, &db_, &["rollback", "--all"]).ok().out;
    assert_eq!(out, "nothing to roll back: no migration is applied\n");

    // And in text.
    db(driver, &ROLLBACK, &db_, &["migrate"]).ok();
    let out = db(driver, &ROLLBACK, &db_, &["rollback", "--all"]).ok().out;
    assert!(out.starts_with("rolled back 3 migration(s) in "), "{out}");
    assert!(
        out.contains("\n  1 a (tests/fixtures/rollback/1_a.down.sql) in "),
        "{out}"
    );
    assert_eq!(applied_versions(&mut client), Vec::<i64>::new());

    // Everything is version 0 too, where `--to 0` stops above it.
    let (zero, mut client) = database(Driver::Sync);
    db(driver, &FROM_ZERO, &zero, &["migrate"]).ok();
    let json = db(
        driver,
        &FROM_ZERO,
        &zero,
        &["rollback", "--to", "0", "--json"],
    )
    .ok()
    .json();
    assert_eq!(versions_of(&json["undone"]), [1]);
    assert_eq!(applied_versions(&mut client), [0]);
    db(driver, &FROM_ZERO, &zero, &["migrate"]).ok();
    let json = db(driver, &FROM_ZERO, &zero, &["rollback", "--all", "--json"])
        .ok()
        .json();
    assert_eq!(versions_of(&json["undone"]), [1, 0]);
    assert_eq!(
        json["undone"][1]["path"],
        "tests/fixtures/rollback_from_zero/0_zero.down.sql"
    );
    assert_eq!(applied_versions(&mut client), Vec::<i64>::new());
    assert!(!table_exists(&mut client, "public.zero"));

    // `--to` and `--all` do not go together, and one of them is needed.
    for argv in [
        &["app", "db", "rollback", "--to", "1", "--all"][..],
        &["app", "db", "rollback"][..],
    ] {
        assert!(App::try_parse_from(argv).is_err(), "{argv:?} is accepted");
    }
}

#[test]
fn another_tracking_table() {
    let driver = Driver::Sync;
    let (db_, mut client) = database(driver);
    db(driver, &BASE, &db_, &["migrate", "--table", "ops.history"]).ok();
    assert!(table_exists(&mut client, "ops.history"));
    assert!(!table_exists(&mut client, "public.stowage_migrations"));
    let status = db(
        driver,
        &BASE,
        &db_,
        &["--table", "ops.history", "status", "--json"],
    )
    .ok()
    .json();
    assert_eq!(
        (&status["schema"], &status["table"]),
        (&json!("ops"), &json!("history"))
    );
    assert_eq!(states(&status), all(1..=3, "applied"));

    let message = db(driver, &BASE, &db_, &["status", "--table", ".history"]).error();
    assert!(
        message.starts_with("error: invalid tracking table name"),
        "{message}"
    );
}

fn a_connection_error_never_shows_the_password(driver: Driver) {
    let url = "postgres://u:s3cret@127.0.0.1:1/db";
    for json in [false, true] {
        let mut args = vec!["--database-url", url, "status"];
        if json {
            args.push("--json");
        }
        let run = run(driver, &BASE, &args);
        let message = if json {
            let document = run.json();
            let error = &document["error"];
            assert_eq!(error["kind"], "connection", "{document:#}");
            assert!(!run.out.contains("s3cret"), "{}", run.out);
            assert_eq!(
                format!("error: {}\n", error["message"].as_str().unwrap_or("?")),
                run.error_text(),
                "the JSON message is the text on standard error"
            );
            run.err
        } else {
            run.error()
        };
        assert!(
            message
                .starts_with("error: cannot connect to the database: error connecting to server: "),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
        assert!(!message.contains("u:"), "{message}");
    }
    // Nor does the parsed command's debug output.
    let parsed = format!("{:?}", parse(&["--database-url", url, "status"]));
    assert!(!parsed.contains("s3cret"), "{parsed}");
}

/// A connection error has the documented shape of every JSON error:
/// `kind`, `message`, `code` (the server's SQLSTATE, when it gave one) and
/// `remedies`.
fn a_connection_error_as_a_json_error(driver: Driver) {
    let (db_, _client) = database(Driver::Sync);
    let mut config = db_.config().clone();
    config.dbname("stowage_no_such_database");
    let mut async_config = db_.async_config().clone();
    async_config.dbname("stowage_no_such_database");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = connecting_to(
        driver,
        &BASE,
        (&config, &async_config),
        &["--database-url", URL, "status", "--json"],
        &mut out,
        &mut err,
    );
    let run = Run {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    };
    assert!(
        run.err
            .starts_with("error: cannot connect to the database: "),
        "{run:?}"
    );
    assert!(run.err.contains("3D000"), "{run:?}");
    let error = run.json_error();
    assert_eq!(error["kind"], "connection", "{error:#}");
    assert_eq!(error["code"], "3D000", "{error:#}");
    assert_eq!(error["remedies"], json!([]), "{error:#}");
}

#[test]
fn migrate_takes_timeouts_and_refuses_a_duration_it_cannot_read() {
    let driver = Driver::Sync;
    let (database, mut client) = database(driver);
    db(driver, &BUSY, &database, &["migrate", "--target", "1"]).ok();
    let mut reader = database.connect().unwrap();
    let mut long_read = reader.transaction().unwrap();
    long_read.query("SELECT * FROM busy", &[]).unwrap();
    let message = db(
        driver,
        &BUSY,
        &database,
        &["migrate", "--lock-timeout", "100ms"],
    )
    .error();
    assert!(
        message.contains("55P03") && message.contains("lock_timeout"),
        "{message}"
    );
    long_read.commit().unwrap();
    assert_eq!(applied_versions(&mut client), [1]);

    let argv = ["app", "db", "migrate", "--lock-timeout", "soon"];
    let err = App::try_parse_from(argv)
        .err()
        .expect("a bad duration is refused");
    let message = err.to_string();
    assert!(
        message.contains("`soon` does not start with a number")
            && message.contains("write a number and a unit"),
        "{message}"
    );
}

#[test]
fn durations_take_the_forms_of_the_directives() {
    for value in [
        "250ms",
        "5s",
        "1.5s",
        "5sec",
        "2min",
        "10 minutes",
        "1h",
        "1d",
        "24d",
        "0",
    ] {
        for option in [
            "--lock-timeout",
            "--statement-timeout",
            "--lock-wait-timeout",
        ] {
            let argv = ["app", "db", "migrate", option, value];
            if let Err(e) = App::try_parse_from(argv) {
                panic!("{option} {value} is refused: {e}");
            }
        }
    }
}

#[test]
fn a_statement_timeout_above_what_postgres_takes_is_refused_before_anything_runs() {
    let (db_, mut client) = database(Driver::Sync);
    let message = db(
        Driver::Sync,
        &BASE,
        &db_,
        &["migrate", "--statement-timeout", "30d"],
    )
    .error();
    assert!(
        message.starts_with("error: --statement-timeout: 2592000s is more than PostgreSQL takes"),
        "{message}"
    );
    assert!(message.contains("2147483647 ms"), "{message}");
    // Refused before anything ran: nothing reached the database.
    assert!(!table_exists(&mut client, "public.stowage_migrations"));
}

/// A standard output whose reader is gone, as in `db status | head -0`.
struct ClosedPipe;

impl Write for ClosedPipe {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }
}

fn output_into_a_closed_pipe_ends_quietly(driver: Driver) {
    let (db_, _client) = database(Driver::Sync);
    db(driver, &BASE, &db_, &["migrate"]).ok();
    for (migrations, args, code) in [
        (&BASE, &["status"][..], 0),
        (&BASE, &["status", "--json"][..], 0),
        // `verify` keeps its own exit code for problems.
        (&EDITED, &["verify"][..], 2),
    ] {
        let mut err = Vec::new();
        let exit = db_writing_to(driver, migrations, &db_, args, &mut ClosedPipe, &mut err);
        assert_eq!(
            (exit, String::from_utf8_lossy(&err).as_ref()),
            (code, ""),
            "{args:?}"
        );
    }
}

fn a_failed_migration_as_a_json_error(driver: Driver) {
    let (db_, _client) = database(Driver::Sync);
    let error = db(driver, &FAILING, &db_, &["migrate", "--json"]).json_error();
    assert_eq!(error["kind"], "migration", "{error:#}");
    assert_eq!(error["code"], "42P01", "{error:#}");
    assert_eq!(error["version"], 2, "{error:#}");
    assert_eq!(
        error["path"], "tests/fixtures/failing/2_needs_setup.sql",
        "{error:#}"
    );
    assert_eq!(
        error["position"],
        json!({ "line": 3, "column": 13 }),
        "{error:#}"
    );
    assert_eq!(error["stage"], json!({ "stage": "up" }), "{error:#}");
    assert_eq!(error["remedies"], json!([]), "{error:#}");
    assert_eq!(versions_of(&error["applied_before"]), [1], "{error:#}");
    assert!(
        error["message"].as_str().unwrap().starts_with(
            "migration 2 (tests/fixtures/failing/2_needs_setup.sql:3:13) failed and was rolled back: \
             ERROR 42P01: relation \"prerequisite\" does not exist"
        ),
        "{error:#}"
    );
}

fn a_dirty_migration_as_a_json_error(driver: Driver) {
    let (db_, _client) = database(Driver::Sync);
    let error = db(driver, &DIRTY, &db_, &["migrate", "--json"]).json_error();
    assert_eq!(error["kind"], "migration", "{error:#}");
    assert_eq!(error["version"], 2, "{error:#}");
    assert_eq!(error["path"], "tests/fixtures/dirty/2_backfill.sql");
    let stage = &error["stage"];
    assert_eq!(
        (
            &stage["stage"],
            &stage["number"],
            &stage["total"],
            &stage["invalid_indexes"]
        ),
        (&json!("statement"), &json!(3), &json!(5), &json!([])),
        "{error:#}"
    );
    assert_eq!(
        error["remedies"],
        json!([
            { "remedy": "resume", "version": 2, "from_statement": 3 },
            { "remedy": "mark_applied", "version": 2 },
            { "remedy": "forget", "version": 2 },
        ]),
        "{error:#}"
    );
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(
            "`resume` (from statement 3), `repair --mark-applied 2` or `repair --forget 2`"
        ),
        "{message}"
    );
}

fn a_refusal_as_a_json_error(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    db(driver, &BASE, &db_, &["migrate"]).ok();
    let error = db(driver, &BASE, &db_, &["repair", "--forget", "2", "--json"]).json_error();
    assert_eq!(
        error,
        json!({
            "kind": "refused",
            "code": null,
            "refusal": { "refusal": "applied", "version": 2, "transactional": true },
            "remedies": [
                { "remedy": "rollback_to", "version": 1 },
                { "remedy": "reapply", "version": 2 }
            ],
            "message": "refused: migration 2 is applied; forgetting it would make the next run \
                        apply it again; to undo it, `rollback --to 1`; if what it makes is \
                        missing, running migration 2 again (`repair --reapply 2`)",
        })
    );
    assert_eq!(applied_versions(&mut client), [1, 2, 3], "nothing changed");

    // A history that disagrees carries its violations.
    let error = db(driver, &EDITED, &db_, &["migrate", "--json"]).json_error();
    assert_eq!(error["kind"], "history", "{error:#}");
    assert_eq!(error["table"], r#""public"."stowage_migrations""#);
    assert_eq!(error["violations"][0]["problem"], "divergent", "{error:#}");
    assert_eq!(error["violations"][0]["version"], 2, "{error:#}");
    assert_eq!(
        error["remedies"],
        json!([
            { "remedy": "accept_checksum", "version": 2 },
            { "remedy": "allow_divergent" },
        ]),
        "{error:#}"
    );
}

fn messages_name_the_commands_and_flags_not_the_api(driver: Driver) {
    let (db_, _client) = database(Driver::Sync);

    // An edited migration: migrate refuses, verify and status report it.
    db(driver, &BASE, &db_, &["migrate"]).ok();
    let message = db(driver, &EDITED, &db_, &["migrate"]).error();
    assert!(
        message.contains("`repair --accept-checksum 2` or `--allow-divergent`"),
        "{message}"
    );
    speaks_the_cli(&message);
    let error = db(driver, &EDITED, &db_, &["migrate", "--json"]).json_error();
    speaks_the_cli(error["message"].as_str().unwrap());
    let run = db(driver, &EDITED, &db_, &["verify"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.out.contains("`--allow-divergent`"), "{}", run.out);
    speaks_the_cli(&run.out);
    speaks_the_cli(&db(driver, &EDITED, &db_, &["status"]).ok().out);
    let message = db(driver, &EDITED, &db_, &["repair", "--mark-applied", "2"]).error();
    assert!(
        message.contains("`repair --accept-checksum 2`"),
        "{message}"
    );
    speaks_the_cli(&message);
    let message = db(driver, &EDITED, &db_, &["rollback", "--all"]).error();
    assert!(message.contains("`--allow-divergent`"), "{message}");
    speaks_the_cli(&message);
    let message = db(driver, &BASE, &db_, &["repair", "--forget", "3"]).error();
    assert!(message.contains("`rollback --to 2`"), "{message}");
    speaks_the_cli(&message);

    // A dirty migration.
    let (dirty, _client) = database(Driver::Sync);
    let message = db(driver, &DIRTY, &dirty, &["migrate"]).error();
    assert!(
        message.contains(
            "`resume` (from statement 3), `repair --mark-applied 2` or `repair --forget 2`"
        ),
        "{message}"
    );
    speaks_the_cli(&message);
    let run = db(driver, &DIRTY, &dirty, &["verify"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.out.contains("`resume` (from statement 3)"),
        "{}",
        run.out
    );
    speaks_the_cli(&run.out);
    speaks_the_cli(&db(driver, &DIRTY, &dirty, &["status"]).ok().out);
    speaks_the_cli(&db(driver, &DIRTY, &dirty, &["repair"]).ok().out);
    let message = db(driver, &DIRTY, &dirty, &["migrate"]).error();
    speaks_the_cli(&message);

    // Another process holds the migration lock.
    let (gated, mut client) = database(Driver::Sync);
    let report =
        common::while_a_run_holds_the_lock(&gated, Driver::Sync, GATE.runner(), |_, holder_pid| {
            let args = ["migrate", "--lock-wait-timeout", "100ms"];
            let message = db(driver, &GATE, &gated, &args).error();
            assert!(message.starts_with("error: gave up after "), "{message}");
            assert!(
                message.contains(
                    "ms waiting for the migration lock on \"public\".\"stowage_migrations\""
                ),
                "{message}"
            );
            assert!(
                message.contains(&format!("(held by server process {holder_pid})")),
                "{message}"
            );
            assert!(message.ends_with("`--lock-wait-timeout`\n"), "{message}");
            speaks_the_cli(&message);

            let mut json_args = args.to_vec();
            json_args.push("--json");
            let error = db(driver, &GATE, &gated, &json_args).json_error();
            assert_eq!(error["kind"], "lock-timeout", "{error:#}");
            assert_eq!(error["holder_pid"], holder_pid, "{error:#}");
            assert!(
                error["waited_ms"].as_u64().is_some_and(|ms| ms >= 100),
                "{error:#}"
            );
            assert_eq!(
                error["remedies"],
                json!([{ "remedy": "raise_lock_wait_timeout" }]),
                "{error:#}"
            );
            speaks_the_cli(error["message"].as_str().unwrap());
        });
    assert_eq!(report.unwrap().applied().len(), 4);
    assert_eq!(applied_versions(&mut client), [1, 2, 3, 4]);
}

/// A database with schemas `tenant_1` to `tenant_4` for the tenants'
/// migrations, and the domain in `public` they use; `tenant_3` already has
/// a table `invoices`, so its migration 2 fails.
fn tenants_with_one_failing() -> (TestDatabase<'static>, common::Conn) {
    let (db_, mut client) = database(Driver::Sync);
    client
        .batch_execute(
            "CREATE DOMAIN public.email_address AS text; \
             CREATE SCHEMA tenant_1; CREATE SCHEMA tenant_2; CREATE SCHEMA tenant_3; \
             CREATE SCHEMA tenant_4; CREATE TABLE tenant_3.invoices (id int)",
        )
        .unwrap();
    (db_, client)
}

/// `verify` over a fleet also compares each tenant's schema with the schema
/// file, under its own name: a column dropped in one tenant is drift (exit
/// code 2), counted, and listed with `--drift`.
fn verify_over_a_fleet_checks_each_schema(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    client
        .batch_execute("CREATE SCHEMA tenant_1; CREATE SCHEMA tenant_2")
        .unwrap();
    let fleet = ["--schemas", "tenant_*"];
    let with = |args: &[&'static str]| -> Vec<&'static str> {
        args.iter().chain(&fleet).copied().collect()
    };
    db(driver, &MIGRATIONS, &db_, &with(&["migrate"])).ok();
    let run = db(driver, &MIGRATIONS, &db_, &with(&["verify"]));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.out.contains("\nschemas:\n"), "{}", run.out);
    client
        .batch_execute("ALTER TABLE tenant_2.users DROP COLUMN full_name")
        .unwrap();
    let run = db(driver, &MIGRATIONS, &db_, &with(&["verify"]));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.out
            .contains("/tenant_2: the schema differs from migrations/schema.sql in 1 place(s)\n"),
        "{}",
        run.out
    );
    assert!(
        run.out
            .contains("/tenant_1: ok: the schema tenant_1 is the one"),
        "{}",
        run.out
    );
    let run = db(driver, &MIGRATIONS, &db_, &with(&["verify", "--drift"]));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.out
            .contains("- column tenant_2.users.full_name is missing"),
        "{}",
        run.out
    );
    let json = db(driver, &MIGRATIONS, &db_, &with(&["verify", "--json"])).json();
    let states: Vec<&str> = json["schema_checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(states, ["matches", "differs"], "{json}");
}

/// Each target of a fleet's JSON report, as it prints, with its outcome.
fn fleet_outcomes(report: &Value) -> Vec<(String, String)> {
    report["targets"]
        .as_array()
        .unwrap_or_else(|| panic!("no targets: {report:#}"))
        .iter()
        .map(|t| {
            (
                format!(
                    "{}/{}",
                    t["database"].as_str().unwrap(),
                    t["schema"].as_str().unwrap()
                ),
                t["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn a_fleet_of_schemas_and_its_exit_codes(driver: Driver) {
    let (db_, mut client) = tenants_with_one_failing();
    let fleet = ["--schemas", "tenant_*"];
    let with = |args: &[&'static str]| -> Vec<&'static str> {
        args.iter().chain(&fleet).copied().collect()
    };

    // Stops at the failure: the fourth tenant is not started.
    let run = db(driver, &TENANT, &db_, &with(&["migrate", "--jobs", "1"]));
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.out
            .starts_with("app/tenant_1: applied 3 migration(s), 1 to 3, in "),
        "{}",
        run.out
    );
    assert!(
        run.out.contains("\napp/tenant_3: failed: migration 2 ("),
        "{}",
        run.out
    );
    assert!(
        run.out.contains("\napp/tenant_4: not started"),
        "{}",
        run.out
    );
    assert!(
        run.out
            .ends_with("4 target(s): 2 migrated, 0 up to date, 1 failed, 1 not started\n"),
        "{}",
        run.out
    );
    assert_eq!(
        run.err,
        "error: 2 of 4 target(s) did not end well: see each one above\n"
    );
    speaks_the_cli(&run.out);

    // Keeps going: every other tenant is migrated, the failure reported.
    let run = db(
        driver,
        &TENANT,
        &db_,
        &with(&["migrate", "--keep-going", "--jobs", "2", "--json"]),
    );
    assert_eq!(run.code, 1, "{run:?}");
    let report = run.json();
    assert_eq!(
        fleet_outcomes(&report),
        [
            ("app/tenant_1".to_owned(), "done".to_owned()),
            ("app/tenant_2".to_owned(), "done".to_owned()),
            ("app/tenant_3".to_owned(), "failed".to_owned()),
            ("app/tenant_4".to_owned(), "done".to_owned()),
        ]
    );
    let error = &report["targets"][2]["error"];
    assert_eq!(
        (&error["kind"], &error["code"], &error["version"]),
        (&json!("migration"), &json!("42P07"), &json!(2))
    );
    speaks_the_cli(error["message"].as_str().unwrap());
    assert_eq!(report["targets"][3]["applied"], 3, "{report:#}");

    // verify: problems found on one target, exit code 2.
    let run = db(driver, &TENANT, &db_, &with(&["verify"]));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.out.contains("app/tenant_1: ok, at 3\n"), "{}", run.out);
    assert!(
        run.out.ends_with("4 target(s): 3 ok, 1 with problems\n"),
        "{}",
        run.out
    );
    speaks_the_cli(&run.out);

    // status: every target read, grouped.
    let run = db(driver, &TENANT, &db_, &with(&["status", "--json"])).ok();
    let status = run.json();
    let groups: Vec<(String, usize)> = status["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["summary"].as_str().unwrap().to_owned(),
                g["targets"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(groups[0], ("at 3".to_owned(), 3), "{status:#}");
    assert!(
        groups[1].0.starts_with("at 1, failed at 2: ERROR 42P07"),
        "{status:#}"
    );
    assert_eq!(status["health"]["ok"], false, "{status:#}");
    assert_eq!(status["health"]["problems"], 1, "{status:#}");
    let text = db(driver, &TENANT, &db_, &with(&["status"])).ok().out;
    assert!(
        text.starts_with("4 target(s): 3 at 3; 1 at 1, failed at 2: "),
        "{text}"
    );

    // One target, by --schema: its status, then mended by repair.
    let one = db(driver, &TENANT, &db_, &["status", "--schema", "tenant_3"])
        .ok()
        .out;
    assert!(
        one.contains("tracking table \"tenant_3\".\"stowage_migrations\""),
        "{one}"
    );
    let repaired = db(driver, &TENANT, &db_, &["repair", "--schema", "tenant_3"])
        .ok()
        .out;
    assert!(
        repaired.starts_with("removed the record(s) of failed migration(s) 2"),
        "{repaired}"
    );
    client
        .batch_execute("DROP TABLE tenant_3.invoices")
        .unwrap();
    let plan = db(driver, &TENANT, &db_, &with(&["plan"])).ok().out;
    assert!(
        plan.contains("app/tenant_3: would apply 2 migration(s): 2, 3\n"),
        "{plan}"
    );
    let run = db(driver, &TENANT, &db_, &with(&["migrate", "--jobs", "3"])).ok();
    assert!(
        run.out.ends_with("4 target(s): 1 migrated, 3 up to date\n"),
        "{}",
        run.out
    );
    db(driver, &TENANT, &db_, &with(&["verify"])).ok();

    // A fleet and one target at once is a mistake; so is a glob and a query.
    let message = db(
        driver,
        &TENANT,
        &db_,
        &["status", "--schema", "tenant_1", "--schemas", "tenant_*"],
    )
    .error();
    assert!(message.contains("--schema names one target"), "{message}");
    let argv = [
        "app",
        "db",
        "status",
        "--schemas",
        "a*",
        "--schemas-query",
        "SELECT 'a'",
    ];
    assert!(App::try_parse_from(argv).is_err());
}

/// The connection settings of `db` as `key='value'` pairs, with `extra`.
fn conninfo(db_: &TestDatabase<'_>, extra: &str) -> String {
    let config = db_.config();
    let mut pairs = Vec::new();
    for host in config.get_hosts() {
        if let postgres::config::Host::Unix(path) = host {
            pairs.push(format!("host='{}'", path.display()));
        } else if let postgres::config::Host::Tcp(name) = host {
            pairs.push(format!("host='{name}'"));
        }
    }
    for port in config.get_ports() {
        pairs.push(format!("port={port}"));
    }
    if let Some(user) = config.get_user() {
        pairs.push(format!("user='{user}'"));
    }
    pairs.push(format!("dbname='{}' {extra}", db_.name()));
    pairs.join(" ")
}

fn a_fleet_of_databases_from_a_file(driver: Driver) {
    let (primary, mut primary_client) = database(Driver::Sync);
    let (data, mut data_client) = database(Driver::Sync);
    let file = std::env::temp_dir().join(format!(
        "stowage-databases-{}-{}",
        std::process::id(),
        primary.name()
    ));
    let write = |lines: &[String]| std::fs::write(&file, lines.join("\n")).unwrap();
    let path = file.to_str().unwrap().to_owned();
    write(&[
        "# the databases this program owns".to_owned(),
        format!("primary {}", conninfo(&primary, "")),
        String::new(),
        format!("data  {}", conninfo(&data, "")),
    ]);
    let out = self::run(
        driver,
        &BASE,
        &["migrate", "--databases", &path, "--jobs", "2"],
    )
    .ok()
    .out;
    assert!(
        out.starts_with("primary: applied 3 migration(s), 1 to 3"),
        "{out}"
    );
    assert!(
        out.contains("\ndata: applied 3 migration(s), 1 to 3"),
        "{out}"
    );
    assert_eq!(applied_versions(&mut primary_client), [1, 2, 3]);
    assert_eq!(applied_versions(&mut data_client), [1, 2, 3]);
    let status = self::run(driver, &BASE, &["status", "--databases", &path, "--json"])
        .ok()
        .json();
    assert_eq!(status["health"]["up_to_date"], 2, "{status:#}");

    // Mending names one database of the file.
    let out = self::run(
        driver,
        &BASE,
        &["repair", "--databases", &path, "--database", "data"],
    )
    .ok()
    .out;
    assert_eq!(out, "no failed migration to remove\n");
    let message = self::run(driver, &BASE, &["repair", "--databases", &path]).error();
    assert!(message.contains("--database NAME"), "{message}");
    let message = self::run(
        driver,
        &BASE,
        &["repair", "--databases", &path, "--database", "nope"],
    )
    .error();
    assert!(message.contains("names no database nope"), "{message}");

    // A database that cannot be reached: reported, the others read, exit 1,
    // and its password shown nowhere.
    let mut gone = conninfo(&primary, "password='s3cret-pw'");
    gone = gone.replace(primary.name(), "no_such_database");
    write(&[
        format!("primary {}", conninfo(&primary, "")),
        format!("gone {gone}"),
    ]);
    let run = self::run(driver, &BASE, &["status", "--databases", &path]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.out.starts_with("2 target(s): 1 at 3; 1 unreachable\n"),
        "{}",
        run.out
    );
    assert!(
        run.out
            .contains("\n  gone: connecting to the target's database: "),
        "{}",
        run.out
    );
    assert!(
        !run.out.contains("s3cret-pw") && !run.err.contains("s3cret-pw"),
        "{run:?}"
    );
    let _ = std::fs::remove_file(&file);
}

/// `adopt` is a mending command: with `--schema` it reads the tool's table
/// of that schema and records into stowage's table there, nowhere else.
fn adopt_acts_on_one_schema_of_a_fleet(driver: Driver) {
    let (db_, mut client) = database(Driver::Sync);
    client
        .batch_execute(
            "CREATE SCHEMA tenant_1; CREATE SCHEMA tenant_2; \
             CREATE TABLE tenant_1.users (id bigint PRIMARY KEY, email text); \
             CREATE TABLE tenant_1.schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); \
             INSERT INTO tenant_1.schema_migrations VALUES (2, false)",
        )
        .unwrap();
    let adopt = |extra: &[&'static str]| -> Vec<&'static str> {
        ["adopt", "--from", "golang-migrate", "--schema", "tenant_1"]
            .iter()
            .chain(extra)
            .copied()
            .collect()
    };

    let dry = db(driver, &GOLANG_MIGRATE, &db_, &adopt(&["--dry-run"]))
        .ok()
        .out;
    assert!(
        dry.starts_with("dry run: would adopt 2 migration(s) from golang-migrate"),
        "{dry}"
    );
    assert!(!table_exists(&mut client, "tenant_1.stowage_migrations"));

    let adopted = db(driver, &GOLANG_MIGRATE, &db_, &adopt(&[])).ok().out;
    assert!(
        adopted.starts_with("adopted 2 migration(s) from golang-migrate"),
        "{adopted}"
    );
    assert!(table_exists(&mut client, "tenant_1.stowage_migrations"));
    assert!(!table_exists(&mut client, "public.stowage_migrations"));
    assert!(!table_exists(&mut client, "tenant_2.stowage_migrations"));
    let status = db(
        driver,
        &GOLANG_MIGRATE,
        &db_,
        &["status", "--schema", "tenant_1"],
    )
    .ok()
    .out;
    assert!(
        status
            .contains("\ncurrent version 2; tracking table \"tenant_1\".\"stowage_migrations\"\n"),
        "{status}"
    );

    // The other schema has no golang-migrate table to adopt.
    let message = db(
        driver,
        &GOLANG_MIGRATE,
        &db_,
        &["adopt", "--from", "golang-migrate", "--schema", "tenant_2"],
    )
    .error();
    assert!(message.contains("schema_migrations"), "{message}");
}

both_drivers!(
    verify_over_a_fleet_checks_each_schema,
    verify_and_drift_report_a_schema_changed_by_hand,
    migrate_then_status_shows_every_migration_applied,
    status_as_json,
    plan_and_dry_run_show_the_sql_and_change_nothing,
    migrate_to_a_target_version,
    a_target_below_the_current_version_says_so,
    verify_passes_a_good_database_and_one_behind_the_binary,
    verify_finds_an_edited_migration_and_repair_accepts_it,
    repair_reapply_runs_a_migration_again_whose_objects_are_gone,
    verify_finds_a_migration_missing_from_the_binary,
    baseline_records_without_running,
    repair_refuses_what_would_make_the_history_lie,
    a_failed_migration_is_reported_then_repaired,
    a_dirty_migration_is_shown_then_resumed,
    rollback_runs_down_scripts_and_refuses_without_one,
    rollback_all_undoes_everything,
    a_connection_error_never_shows_the_password,
    a_connection_error_as_a_json_error,
    output_into_a_closed_pipe_ends_quietly,
    a_failed_migration_as_a_json_error,
    a_dirty_migration_as_a_json_error,
    a_refusal_as_a_json_error,
    messages_name_the_commands_and_flags_not_the_api,
    a_fleet_of_schemas_and_its_exit_codes,
    a_fleet_of_databases_from_a_file,
    adopt_acts_on_one_schema_of_a_fleet,
);
