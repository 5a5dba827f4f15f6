//! The `db` subcommand an application mounts with `stowage::cli::Db`, run
//! as an operator would run it, against a database of its own per test.

mod common;

use clap::Parser;
use common::{applied_versions, database, table_exists};
use postgres::NoTls;
use serde_json::Value;
use stowage::cli::Db;
use stowage::testing::TestDatabase;
use stowage::Migrations;

static MIGRATIONS: Migrations = stowage::embed_migrations!();
static BASE: Migrations = stowage::embed_migrations!("tests/fixtures/base");
static EDITED: Migrations = stowage::embed_migrations!("tests/fixtures/edited");
static FEWER: Migrations = stowage::embed_migrations!("tests/fixtures/fewer");
static FAILING: Migrations = stowage::embed_migrations!("tests/fixtures/failing");
static DIRTY: Migrations = stowage::embed_migrations!("tests/fixtures/dirty");

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
    /// Standard output as JSON, after checking the command succeeded.
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
        assert_eq!(self.code, 1, "{self:?}");
        assert_eq!(self.out, "", "{self:?}");
        assert!(self.err.starts_with("error: "), "{self:?}");
        assert!(
            !self.err.contains("Error {") && !self.err.contains("kind:"),
            "errors are shown as text, not debug output: {}",
            self.err
        );
        self.err
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

/// Runs `app db {args}` on `database`, connecting to it whatever the
/// connection string says.
fn db(migrations: &Migrations, database: &TestDatabase<'_>, args: &[&str]) -> Run {
    let mut argv = vec!["--database-url", "postgres://operator@db.example/app"];
    argv.extend(args);
    run(migrations, &argv, |_| database.config().connect(NoTls))
}

fn run(
    migrations: &Migrations,
    args: &[&str],
    connect: impl FnOnce(&str) -> Result<postgres::Client, postgres::Error>,
) -> Run {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = parse(args).run_with(migrations, connect, &mut out, &mut err);
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

#[test]
fn migrate_then_status_shows_every_migration_applied() {
    let (db_, mut client) = database();
    let out = db(&MIGRATIONS, &db_, &["migrate"]).ok().out;
    assert!(out.starts_with("applied 6 migration(s) in "), "{out}");
    assert!(
        out.contains("\n  1 create_accounts (migrations/0001_create_accounts.sql) in "),
        "{out}"
    );
    assert_eq!(applied_versions(&mut client), [1, 2, 3, 4, 5, 6]);

    let out = db(&MIGRATIONS, &db_, &["status"]).ok().out;
    let lines: Vec<&str> = out.lines().collect();
    let header: Vec<&str> = lines[0]
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        ["version", "name", "state", "applied at (UTC)", "by", "ms"],
        "{out}"
    );
    let names = [
        "create_accounts",
        "create_users",
        "create_orders",
        "touch_updated_at",
        "account_revenue_view",
        "add_users_last_login",
    ];
    for (i, name) in names.iter().enumerate() {
        let cells: Vec<&str> = lines[i + 1].split_whitespace().collect();
        assert_eq!(
            cells[..3],
            [&(i + 1).to_string(), *name, "applied"],
            "{out}"
        );
        // The date and the time, then the user and the milliseconds.
        assert_eq!(cells.len(), 7, "{out}");
        assert_eq!((cells[3].len(), cells[4].len()), (10, 8), "{out}");
    }
    assert_eq!(
        lines[7..],
        [
            "",
            r#"current version 6; tracking table "public"."stowage_migrations""#
        ],
        "{out}"
    );

    // Running it again applies nothing.
    let out = db(&MIGRATIONS, &db_, &["migrate"]).ok().out;
    assert_eq!(out, "nothing to apply: the database is up to date\n");
}

#[test]
fn status_as_json() {
    let (db_, _client) = database();
    let before = db(&MIGRATIONS, &db_, &["status", "--json"]).ok().json();
    assert_eq!(before["current_version"], Value::Null);
    assert_eq!(before["up_to_date"], false);
    assert_eq!(states(&before), all(1..=6, "pending"));
    assert_eq!(before["migrations"][0]["applied_at"], Value::Null);

    db(&MIGRATIONS, &db_, &["migrate"]).ok();
    // `--json` may come before the command too.
    let status = db(&MIGRATIONS, &db_, &["--json", "status"]).ok().json();
    assert_eq!(status["table"], r#""public"."stowage_migrations""#);
    assert_eq!(status["current_version"], 6);
    assert_eq!(status["up_to_date"], true);
    assert_eq!(status["health"]["applied"], 6);
    assert_eq!(status["health"]["pending"], 0);
    assert_eq!(states(&status), all(1..=6, "applied"));
    let first = &status["migrations"][0];
    assert_eq!(first["name"], "create_accounts");
    assert_eq!(first["path"], "migrations/0001_create_accounts.sql");
    assert_eq!(first["checksum"], MIGRATIONS.get(1).unwrap().checksum());
    assert_eq!(first["error"], Value::Null);
    assert!(first["execution_ms"].is_i64(), "{first}");
    assert!(first["applied_by"].is_string(), "{first}");
    // RFC 3339 in UTC: 2026-11-21T09:37:14Z.
    let at = first["applied_at"].as_str().unwrap();
    assert_eq!(at.len(), 20, "{at}");
    assert_eq!((&at[4..5], &at[10..11], &at[19..]), ("-", "T", "Z"), "{at}");
}

#[test]
fn plan_and_dry_run_show_the_sql_and_change_nothing() {
    let (db_, mut client) = database();
    let out = db(&MIGRATIONS, &db_, &["plan"]).ok().out;
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

    let dry = db(&MIGRATIONS, &db_, &["migrate", "--dry-run"]).ok().out;
    assert_eq!(dry, out, "a dry run shows the plan");

    let json = db(
        &MIGRATIONS,
        &db_,
        &["migrate", "--dry-run", "--target", "2", "--json"],
    )
    .ok()
    .json();
    assert_eq!(json["dry_run"], true);
    let steps = json["steps"].as_array().unwrap();
    let versions: Vec<i64> = steps
        .iter()
        .map(|s| s["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
    assert_eq!(steps[1]["transactional"], true);
    assert_eq!(steps[1]["sql"][0], MIGRATIONS.get(2).unwrap().sql());

    assert!(
        !table_exists(&mut client, "public.stowage_migrations"),
        "neither creates the tracking table"
    );
    assert!(!table_exists(&mut client, "public.accounts"));

    db(&MIGRATIONS, &db_, &["migrate"]).ok();
    let out = db(&MIGRATIONS, &db_, &["plan"]).ok().out;
    assert_eq!(out, "nothing to apply: the database is up to date\n");
}

#[test]
fn migrate_to_a_target_version() {
    let (db_, mut client) = database();
    let out = db(&MIGRATIONS, &db_, &["migrate", "--target", "3"])
        .ok()
        .out;
    assert!(out.starts_with("applied 3 migration(s)"), "{out}");
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);

    let status = db(&MIGRATIONS, &db_, &["status", "--json"]).ok().json();
    assert_eq!(status["current_version"], 3);
    let mut expected = all(1..=3, "applied");
    expected.extend(all(4..=6, "pending"));
    assert_eq!(states(&status), expected);

    let message = db(&MIGRATIONS, &db_, &["migrate", "--target", "99"]).error();
    assert_eq!(
        message,
        "error: cannot do that to migration 99: the target is not a migration of this binary\n"
    );

    let json = db(&MIGRATIONS, &db_, &["migrate", "--json"]).ok().json();
    let applied: Vec<i64> = json["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["version"].as_i64().unwrap())
        .collect();
    assert_eq!(applied, [4, 5, 6]);
    assert!(json["applied"][0]["duration_ms"].is_u64(), "{json}");
}

#[test]
fn verify_passes_a_good_database_and_one_behind_the_binary() {
    let (db_, _client) = database();
    db(&BASE, &db_, &["migrate", "--target", "2"]).ok();
    let out = db(&BASE, &db_, &["verify"]).ok().out;
    assert_eq!(
        out,
        "ok: the history in \"public\".\"stowage_migrations\" agrees with this binary (current version 2)\n\
         1 migration(s) pending, applied by the next migrate: 3\n"
    );

    db(&BASE, &db_, &["migrate"]).ok();
    let out = db(&BASE, &db_, &["verify"]).ok().out;
    assert_eq!(
        out,
        "ok: the history in \"public\".\"stowage_migrations\" agrees with this binary (current version 3)\n"
    );
    let json = db(&BASE, &db_, &["verify", "--json"]).ok().json();
    assert_eq!(json["ok"], true);
    assert_eq!(json["problems"], serde_json::json!([]));
}

#[test]
fn verify_finds_an_edited_migration_and_repair_accepts_it() {
    let (db_, mut client) = database();
    db(&BASE, &db_, &["migrate"]).ok();

    let run = db(&EDITED, &db_, &["verify"]);
    assert_eq!((run.code, run.err.as_str()), (2, ""), "{run:?}");
    let applied = BASE.get(2).unwrap().checksum();
    let binary = EDITED.get(2).unwrap().checksum();
    assert!(
        run.out.starts_with(
            "the history in \"public\".\"stowage_migrations\" disagrees with this binary (current version 3):\n  \
             - migration 2 (tests/fixtures/edited/2_b.sql) was edited after it was applied"
        ),
        "{}",
        run.out
    );
    for part in [applied, binary, "repair --accept-checksum 2"] {
        assert!(run.out.contains(part), "{part}: {}", run.out);
    }

    let run = db(&EDITED, &db_, &["verify", "--json"]);
    assert_eq!(run.code, 2);
    let json = run.json();
    assert_eq!(json["ok"], false);
    let problems = json["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{json}");
    assert_eq!(problems[0]["version"], 2);
    assert_eq!(problems[0]["state"], "divergent");
    assert_eq!(problems[0]["recorded_checksum"], applied);
    assert_eq!(problems[0]["checksum"], binary);

    // Verifying changed nothing; migrate refuses the edited history.
    let message = db(&EDITED, &db_, &["migrate"]).error();
    assert!(
        message.contains("was edited after it was applied"),
        "{message}"
    );

    let out = db(&EDITED, &db_, &["repair", "--accept-checksum", "2"])
        .ok()
        .out;
    assert_eq!(
        out,
        "migration 2: recorded this binary's checksum as applied\n"
    );
    db(&EDITED, &db_, &["verify"]).ok();
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);
}

#[test]
fn verify_finds_a_migration_missing_from_the_binary() {
    let (db_, _client) = database();
    db(&BASE, &db_, &["migrate"]).ok();
    let run = db(&FEWER, &db_, &["verify"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.out.contains(
            "  - migration 3 (c) is recorded as applied but this binary does not have it\n"
        ),
        "{}",
        run.out
    );
    assert!(run.out.contains("migrate --allow-missing"), "{}", run.out);

    let out = db(&FEWER, &db_, &["migrate", "--allow-missing"]).ok().out;
    assert_eq!(out, "nothing to apply: the database is up to date\n");
}

#[test]
fn baseline_records_without_running() {
    let (db_, mut client) = database();
    let out = db(&BASE, &db_, &["baseline", "2"]).ok().out;
    assert_eq!(
        out,
        "recorded migration(s) 1, 2 as applied without running them\n"
    );
    assert!(!table_exists(&mut client, "public.a"), "not run");
    assert!(!table_exists(&mut client, "public.b"), "not run");

    let status = db(&BASE, &db_, &["status", "--json"]).ok().json();
    assert_eq!(
        states(&status),
        [
            (1, "applied".into()),
            (2, "applied".into()),
            (3, "pending".into())
        ]
    );
    assert_eq!(status["migrations"][0]["note"], "baseline");

    let json = db(&BASE, &db_, &["migrate", "--json"]).ok().json();
    assert_eq!(json["applied"][0]["version"], 3);
    assert_eq!(json["applied"].as_array().unwrap().len(), 1);

    let message = db(&BASE, &db_, &["baseline", "2"]).error();
    assert!(
        message.starts_with("error: cannot do that to migration 2: the tracking table already records migrations [3]"),
        "{message}"
    );
}

#[test]
fn repair_refuses_what_would_make_the_history_lie() {
    let (db_, mut client) = database();
    db(&BASE, &db_, &["migrate"]).ok();

    let message = db(&BASE, &db_, &["repair", "--forget", "2"]).error();
    assert_eq!(
        message,
        "error: cannot do that to migration 2: it is applied; forgetting it would make the next run \
         apply it again (roll it back instead)\n"
    );
    let message = db(&BASE, &db_, &["repair", "--forget", "7"]).error();
    assert_eq!(
        message,
        "error: cannot do that to migration 7: the tracking table has no record of it\n"
    );
    let message = db(&BASE, &db_, &["repair", "--mark-applied", "7"]).error();
    assert_eq!(
        message,
        "error: cannot do that to migration 7: this binary has no such migration\n"
    );
    let message = db(&EDITED, &db_, &["repair", "--mark-applied", "2"]).error();
    assert!(
        message.contains("use accept_checksum(2)"),
        "an edited migration is not marked applied: {message}"
    );
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);

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

#[test]
fn a_failed_migration_is_reported_then_repaired() {
    let (db_, mut client) = database();
    let message = db(&FAILING, &db_, &["migrate"]).error();
    assert!(
        message.starts_with(
            "error: migration 2 (tests/fixtures/failing/2_needs_setup.sql:3:13) failed and was rolled back: \
             ERROR 42P01: relation \"prerequisite\" does not exist"
        ),
        "{message}"
    );

    let out = db(&FAILING, &db_, &["status"]).ok().out;
    assert!(out.contains("\n2        needs_setup  failed "), "{out}");
    assert!(
        out.contains("migration 2 failed: ERROR 42P01: relation \"prerequisite\" does not exist"),
        "the server's error is shown under the table: {out}"
    );
    let run = db(&FAILING, &db_, &["verify"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.out.contains(
            "  - migration 2 (tests/fixtures/failing/2_needs_setup.sql) failed: ERROR 42P01"
        ),
        "{}",
        run.out
    );

    let out = db(&FAILING, &db_, &["repair"]).ok().out;
    assert_eq!(
        out,
        "removed the record(s) of failed migration(s) 2; the next migrate retries them\n"
    );
    let status = db(&FAILING, &db_, &["status", "--json"]).ok().json();
    assert_eq!(
        states(&status),
        [
            (1, "applied".into()),
            (2, "pending".into()),
            (3, "pending".into())
        ]
    );
    let out = db(&FAILING, &db_, &["repair"]).ok().out;
    assert_eq!(out, "no failed migration to remove\n");

    // Completed by hand, then marked applied.
    db(&FAILING, &db_, &["migrate"]).error();
    client
        .batch_execute("CREATE TABLE rolled_back (id int); CREATE TABLE prerequisite (id int)")
        .unwrap();
    let out = db(&FAILING, &db_, &["repair", "--mark-applied", "2"])
        .ok()
        .out;
    assert_eq!(out, "migration 2: recorded as applied without running it\n");
    db(&FAILING, &db_, &["migrate"]).ok();
    assert_eq!(applied_versions(&mut client), [1, 2, 3]);
}

#[test]
fn a_dirty_migration_is_shown_then_resumed() {
    let (db_, mut client) = database();
    let message = db(&DIRTY, &db_, &["migrate"]).error();
    assert!(message.contains("failed at statement 3 of 5"), "{message}");

    let run = db(&DIRTY, &db_, &["verify"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.out.contains("migration 2 (tests/fixtures/dirty/2_backfill.sql) is dirty: it runs outside a transaction and stopped after 2 of 5 statements"),
        "{}",
        run.out
    );
    let json = db(&DIRTY, &db_, &["status", "--json"]).ok().json();
    let second = &json["migrations"][1];
    assert_eq!(second["state"], "dirty");
    assert_eq!(
        (
            second["statements_done"].as_u64(),
            second["statements_total"].as_u64()
        ),
        (Some(2), Some(5))
    );

    let out = db(&DIRTY, &db_, &["repair"]).ok().out;
    assert!(
        out.starts_with(
            "no failed migration to remove\nmigration 2 is dirty and was left alone: `resume` it"
        ),
        "{out}"
    );

    client
        .batch_execute("CREATE TABLE items_archive (id int, code text)")
        .unwrap();
    let out = db(&DIRTY, &db_, &["resume"]).ok().out;
    assert!(out.starts_with("applied 2 migration(s)"), "{out}");
    db(&DIRTY, &db_, &["verify"]).ok();
    assert!(table_exists(&mut client, "public.step_five"));
}

#[test]
fn rollback_runs_down_scripts_and_refuses_without_one() {
    let (db_, mut client) = database();
    db(&MIGRATIONS, &db_, &["migrate"]).ok();
    let has_last_login = |client: &mut postgres::Client| -> bool {
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

    let message = db(&MIGRATIONS, &db_, &["rollback", "--to", "4"]).error();
    assert!(
        message.contains(
            "nothing was rolled back:\n  - migration 5 (migrations/0005_account_revenue_view.sql) has no down script"
        ),
        "{message}"
    );
    assert!(has_last_login(&mut client), "nothing was undone");
    assert_eq!(applied_versions(&mut client), [1, 2, 3, 4, 5, 6]);

    let out = db(&MIGRATIONS, &db_, &["rollback", "--to", "5"]).ok().out;
    assert!(out.starts_with("rolled back 1 migration(s) in "), "{out}");
    assert!(
        out.contains(
            "\n  6 add_users_last_login (migrations/0006_add_users_last_login.down.sql) in "
        ),
        "{out}"
    );
    assert!(!has_last_login(&mut client));
    assert_eq!(applied_versions(&mut client), [1, 2, 3, 4, 5]);

    let json = db(&MIGRATIONS, &db_, &["rollback", "--to", "5", "--json"])
        .ok()
        .json();
    assert_eq!(json["rolled_back"], serde_json::json!([]));
    let out = db(&MIGRATIONS, &db_, &["rollback", "--to", "5"]).ok().out;
    assert_eq!(
        out,
        "nothing to roll back: no migration after 5 is applied\n"
    );

    let status = db(&MIGRATIONS, &db_, &["status", "--json"]).ok().json();
    assert_eq!(status["current_version"], 5);
    assert_eq!(status["migrations"][5]["state"], "pending");
}

#[test]
fn another_tracking_table() {
    let (db_, mut client) = database();
    db(&BASE, &db_, &["migrate", "--table", "ops.history"]).ok();
    assert!(table_exists(&mut client, "ops.history"));
    assert!(!table_exists(&mut client, "public.stowage_migrations"));
    let status = db(&BASE, &db_, &["--table", "ops.history", "status", "--json"])
        .ok()
        .json();
    assert_eq!(status["table"], r#""ops"."history""#);
    assert_eq!(states(&status), all(1..=3, "applied"));

    let message = db(&BASE, &db_, &["status", "--table", ".history"]).error();
    assert!(
        message.starts_with("error: invalid tracking table name"),
        "{message}"
    );
}

#[test]
fn a_connection_error_never_shows_the_password() {
    let url = "postgres://u:s3cret@127.0.0.1:1/db";
    for json in [false, true] {
        let mut args = vec!["--database-url", url, "status"];
        if json {
            args.push("--json");
        }
        let message = run(&BASE, &args, |url| postgres::Client::connect(url, NoTls)).error();
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

static BUSY: Migrations = stowage::embed_migrations!("tests/fixtures/timeouts_busy");

#[test]
fn migrate_takes_timeouts_and_refuses_a_duration_it_cannot_read() {
    let (database, mut client) = database();
    db(&BUSY, &database, &["migrate", "--target", "1"]).ok();
    let mut reader = database.connect().unwrap();
    let mut long_read = reader.transaction().unwrap();
    long_read.query("SELECT * FROM busy", &[]).unwrap();
    let message = db(&BUSY, &database, &["migrate", "--lock-timeout", "100ms"]).error();
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
    assert!(
        err.to_string().contains("`soon` is not a duration"),
        "{err}"
    );
}
