//! Fleets: many schemas of a database, and several databases, migrated as
//! one, on a real server, over both drivers (`both_drivers!`).
//!
//! The tenants' migrations are `tests/fixtures/tenant`; their last one uses
//! a domain kept in `public`, as an extension's types are, which resolves
//! only because each target's `search_path` ends with the connection's own.
//!
//! The kill test runs the fleet in a child process (this test binary run
//! again with `--exact child_process`, as the reliability suite does), stops
//! one tenant at a known point with a gate (an open transaction creating a
//! table the tenant's migration creates), watches the server until the
//! child's session waits for the gate, and kills it with SIGKILL.

#[path = "../common/mod.rs"]
mod common;

use common::{advisory_locks, runtime, table_exists, tracked, Conn, Driver};
use std::collections::BTreeMap;
use std::future::Future;
use std::process::{Command, Stdio};
use std::sync::Barrier;
use stowage::testing::TestDatabase;
use stowage::{
    Error, Fleet, FleetReport, FleetStatus, Migrated, Migrations, Plan, Schemas, TargetOutcome,
    Verification, Violation,
};

static TENANT: Migrations = stowage::embed_migrations!("tests/fixtures/tenant");
static BASE: Migrations = stowage::embed_migrations!("tests/fixtures/base");
static LEAKY: Migrations = stowage::embed_migrations!("tests/fixtures/tenant_leaky");
/// The example's migrations, with repeatable ones (a view, a function).
static EXAMPLE: Migrations = stowage::embed_migrations!();
/// goose's layout, its Go migration 4 handled elsewhere.
static GOOSE: Migrations = stowage::embed_migrations!(
    "tests/fixtures/adopt/goose",
    layout = "goose",
    elsewhere = [4]
);

type Database = tokio_postgres::Config;

/// The entry point of the child process of the kill test; does nothing in
/// a plain test run.
#[test]
fn child_process() {
    child::main();
}

/// A new database that keeps, in `public`, the domain the tenants'
/// migrations use; and a blocking connection to it that checks.
fn tenant_database() -> (TestDatabase<'static>, Conn) {
    let (db, mut client) = common::database(Driver::Sync);
    client
        .batch_execute("CREATE DOMAIN public.email_address AS text CHECK (VALUE LIKE '%@%')")
        .unwrap();
    (db, client)
}

fn connect_blocking(database: &Database) -> Result<postgres::Client, postgres::Error> {
    postgres::Config::from(database.clone()).connect(postgres::NoTls)
}

fn connect_async(
    database: &Database,
) -> impl Future<Output = Result<tokio_postgres::Client, tokio_postgres::Error>> + Send + 'static {
    let database = database.clone();
    async move {
        let (client, connection) = database.connect(tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    }
}

/// Makes a fleet's call over `driver`.
macro_rules! fleet_call {
    ($fleet:expr, $driver:expr, $sync:ident, $async:ident) => {
        match $driver {
            Driver::Sync => $fleet.$sync(connect_blocking),
            Driver::Async => runtime().block_on($fleet.$async(connect_async)),
        }
        .unwrap_or_else(|e| panic!("the fleet's call failed: {e}"))
    };
}

fn run(fleet: &Fleet<Database>, driver: Driver) -> FleetReport<Migrated> {
    fleet_call!(fleet, driver, run, run_async)
}

fn status(fleet: &Fleet<Database>, driver: Driver) -> FleetStatus {
    fleet_call!(fleet, driver, status, status_async)
}

fn plan(fleet: &Fleet<Database>, driver: Driver) -> FleetReport<Plan> {
    fleet_call!(fleet, driver, plan, plan_async)
}

fn verify(fleet: &Fleet<Database>, driver: Driver) -> FleetReport<Verification> {
    fleet_call!(fleet, driver, verify, verify_async)
}

/// `tenant_1` ... `tenant_{n}`.
fn tenants(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("tenant_{i}")).collect()
}

/// The fleet of `schemas` of `db`, migrated by the tenants' migrations.
fn fleet_of(db: &TestDatabase<'_>, schemas: Schemas) -> Fleet<Database> {
    Fleet::new().schemas("app", db.async_config().clone(), schemas, TENANT.runner())
}

/// Each target as it prints, with its outcome's name and, for a done run,
/// how many migrations it applied.
fn outcomes(report: &FleetReport<Migrated>) -> Vec<(String, String)> {
    report
        .targets()
        .iter()
        .map(|line| {
            let outcome = match line.outcome() {
                TargetOutcome::Done(migrated) => format!("applied {}", migrated.applied()),
                other => other.name().to_owned(),
            };
            (line.target().to_string(), outcome)
        })
        .collect()
}

fn all(names: &[String], outcome: &str) -> Vec<(String, String)> {
    names
        .iter()
        .map(|n| (format!("app/{n}"), outcome.to_owned()))
        .collect()
}

/// The successful versions in `schema`'s tracking table, checked against
/// its schema: each applied migration's objects are there, and no other's.
fn consistent_versions(client: &mut Conn, schema: &str) -> Vec<i64> {
    let table = format!("{schema}.stowage_migrations");
    if !table_exists(client, &table) {
        assert!(
            !table_exists(client, &format!("{schema}.accounts")),
            "{schema}"
        );
        return Vec::new();
    }
    let versions: Vec<i64> = tracked(client, &table)
        .into_iter()
        .filter(|row| row.success)
        .map(|row| row.version)
        .collect();
    let expected: Vec<i64> = (1..=versions.len() as i64).collect();
    assert_eq!(versions, expected, "{schema}: applied in order");
    let has_email: bool = client
        .query_one(
            "SELECT EXISTS (SELECT FROM information_schema.columns \
             WHERE table_schema = $1 AND table_name = 'accounts' AND column_name = 'email')",
            &[&schema],
        )
        .unwrap()
        .get(0);
    let objects = (
        table_exists(client, &format!("{schema}.accounts")),
        table_exists(client, &format!("{schema}.invoices")),
        has_email,
    );
    let applied = versions.len();
    assert_eq!(
        objects,
        (applied >= 1, applied >= 2, applied >= 3),
        "{schema}: the schema holds what its tracking table says"
    );
    versions
}

// ---------------------------------------------------------------------------

fn fifty_tenants_four_at_a_time_each_get_their_migrations_and_tracking_table(driver: Driver) {
    let (db, mut client) = tenant_database();
    let names: Vec<String> = (0..50).map(|i| format!("tenant_{i:02}")).collect();
    // `_` is no wildcard: tenantX01 is not a tenant.
    for schema in names
        .iter()
        .map(String::as_str)
        .chain(["tenantX01", "other"])
    {
        client
            .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
            .unwrap();
    }
    let fleet = fleet_of(&db, Schemas::matching("tenant_*")).jobs(4);
    let report = run(&fleet, driver);
    assert_eq!(outcomes(&report), all(&names, "applied 3"), "{report}");
    for line in report.targets() {
        let migrated = line.outcome().done().unwrap();
        assert_eq!(migrated.versions(), Some((1, 3)), "{}", line.target());
    }
    let expected: Vec<(i64, String, String)> = TENANT
        .iter()
        .map(|m| {
            (
                m.version(),
                m.name().to_owned(),
                m.up().checksum().to_owned(),
            )
        })
        .collect();
    for name in &names {
        let rows = tracked(&mut client, &format!("{name}.stowage_migrations"));
        let recorded: Vec<(i64, String, String)> = rows
            .iter()
            .map(|r| (r.version, r.name.clone(), r.checksum.clone()))
            .collect();
        assert_eq!(recorded, expected, "{name}");
        assert!(
            rows.iter().all(|r| r.success && r.error.is_none()),
            "{name}"
        );
        assert_eq!(consistent_versions(&mut client, name), [1, 2, 3]);
    }
    for schema in ["public", "tenantX01", "other"] {
        assert!(!table_exists(
            &mut client,
            &format!("{schema}.stowage_migrations")
        ));
        assert!(!table_exists(&mut client, &format!("{schema}.accounts")));
    }
    assert_eq!(advisory_locks(&mut client), 0);

    let again = run(&fleet, driver);
    assert_eq!(outcomes(&again), all(&names, "applied 0"), "{again}");
    assert!(again
        .targets()
        .iter()
        .all(|l| l.outcome().done().is_some_and(Migrated::is_up_to_date)));
    let health = status(&fleet, driver).health();
    assert!(health.ok, "{health:?}");
    assert_eq!((health.targets, health.up_to_date), (50, 50));
    assert_eq!(
        (health.lowest_version, health.highest_version),
        (Some(3), Some(3))
    );
}

fn each_target_starts_from_a_clean_session(driver: Driver) {
    // Migration 2 leaves, in the session that ran it, search_path set to
    // public, a prepared statement and a temporary table: the next tenant,
    // on the same connection, would put its table in public and fail on
    // both names.
    let (db, mut client) = common::database(Driver::Sync);
    let names = tenants(3);
    let fleet = Fleet::new().schemas(
        "app",
        db.async_config().clone(),
        Schemas::listed(names.clone()),
        LEAKY.runner(),
    );
    let report = run(&fleet, driver);
    assert!(report.is_ok(), "{report}");
    for name in &names {
        assert!(
            table_exists(&mut client, &format!("{name}.accounts")),
            "{name}"
        );
        let rows = tracked(&mut client, &format!("{name}.stowage_migrations"));
        assert_eq!(rows.iter().filter(|r| r.success).count(), 2, "{name}");
    }
    assert!(!table_exists(&mut client, "public.accounts"));
}

fn a_runner_table_is_placed_in_each_schema_and_one_with_a_schema_is_refused(driver: Driver) {
    let (db, mut client) = tenant_database();
    let names = tenants(2);
    let fleet = Fleet::new().schemas(
        "app",
        db.async_config().clone(),
        Schemas::listed(names.clone()),
        TENANT.runner().table("history"),
    );
    let report = run(&fleet, driver);
    assert_eq!(
        report.targets()[0].target().to_string(),
        "app/tenant_1 (history)"
    );
    assert!(report.is_ok(), "{report}");
    for name in &names {
        assert_eq!(tracked(&mut client, &format!("{name}.history")).len(), 3);
    }
    let refused = Fleet::new().schemas(
        "app",
        db.async_config().clone(),
        Schemas::listed(tenants(3)),
        TENANT.runner().table("ops.history"),
    );
    let outcome = match driver {
        Driver::Sync => refused.run(connect_blocking),
        Driver::Async => runtime().block_on(refused.run_async(connect_async)),
    };
    match outcome {
        Err(Error::InvalidTable { name, .. }) => assert_eq!(name, "ops.history"),
        other => panic!("expected the table to be refused, got {other:?}"),
    }
    let created: bool = client
        .query_one("SELECT to_regnamespace('tenant_3') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!created, "nothing ran");
}

/// The fleet of `names`, schemas of `db`, migrated by the example's
/// migrations (repeatable ones, and a schema file), two at a time.
fn example_fleet(db: &TestDatabase<'_>, names: &[String]) -> Fleet<Database> {
    Fleet::new()
        .schemas(
            "app",
            db.async_config().clone(),
            Schemas::listed(names.to_vec()),
            EXAMPLE.runner(),
        )
        .jobs(2)
}

fn repeatable_migrations_are_made_in_each_schema(driver: Driver) {
    let (db, mut client) = common::database(Driver::Sync);
    let names = tenants(3);
    let fleet = example_fleet(&db, &names);
    let report = run(&fleet, driver);
    assert!(report.is_ok(), "{report}");
    for name in &names {
        assert!(
            table_exists(&mut client, &format!("{name}.account_summary")),
            "{name}"
        );
    }
    assert!(!table_exists(&mut client, "public.account_summary"));
    let health = status(&fleet, driver).health();
    assert_eq!((health.ok, health.up_to_date), (true, 3), "{health:?}");
    assert!(!verify(&fleet, driver).has_problems());
    assert!(run(&fleet, driver)
        .targets()
        .iter()
        .all(|l| l.outcome().done().is_some_and(Migrated::is_up_to_date)));
}

/// Each tenant's schema is compared with the example's schema file under
/// its own name: a column dropped by hand in one tenant is its drift alone.
fn each_tenant_schema_is_checked_against_the_schema_file(driver: Driver) {
    let (db, mut client) = common::database(Driver::Sync);
    let names = tenants(3);
    let fleet = example_fleet(&db, &names);
    assert!(run(&fleet, driver).is_ok());
    let checked = fleet_call!(fleet, driver, check_schema, check_schema_async);
    assert!(!checked.has_drift(), "{checked}");
    for name in &names {
        assert!(
            !table_exists(&mut client, &format!("{name}.stowage_schema_checks")),
            "a fleet's check writes nothing in {name}"
        );
    }
    client
        .batch_execute("ALTER TABLE tenant_2.users DROP COLUMN full_name")
        .unwrap();
    let checked = fleet_call!(fleet, driver, check_schema, check_schema_async);
    assert!(checked.has_drift(), "{checked}");
    let differences: Vec<(String, Vec<String>)> = checked
        .targets()
        .iter()
        .map(|line| {
            let check = line.outcome().done().expect("checked");
            let shown = check
                .differences()
                .iter()
                .map(ToString::to_string)
                .collect();
            (line.target().to_string(), shown)
        })
        .collect();
    assert_eq!(
        differences,
        [
            ("app/tenant_1".to_owned(), vec![]),
            (
                "app/tenant_2".to_owned(),
                vec!["column tenant_2.users.full_name is missing".to_owned()]
            ),
            ("app/tenant_3".to_owned(), vec![]),
        ]
    );
}

/// `tenant_3` already has a table `invoices`: its migration 2 fails there.
fn fleet_with_a_failing_tenant(db: &TestDatabase<'_>, client: &mut Conn) -> Fleet<Database> {
    client
        .batch_execute("CREATE SCHEMA tenant_3; CREATE TABLE tenant_3.invoices (id int)")
        .unwrap();
    fleet_of(db, Schemas::listed(tenants(6)))
}

fn assert_failed_at_2(report: &FleetReport<Migrated>, target: &str) {
    match report.get(target).map(|l| l.outcome()) {
        Some(TargetOutcome::Failed(Error::Migration(failure))) => {
            assert_eq!((failure.version(), failure.code()), (2, Some("42P07")));
        }
        other => panic!("{target}: expected migration 2 to fail, got {other:?}"),
    }
}

fn one_failing_tenant_with_keep_going_leaves_the_others_done_and_its_failure_recorded(
    driver: Driver,
) {
    let (db, mut client) = tenant_database();
    let fleet = fleet_with_a_failing_tenant(&db, &mut client)
        .jobs(2)
        .keep_going(true);
    let report = run(&fleet, driver);
    assert!(!report.is_ok());
    assert_failed_at_2(&report, "app/tenant_3");
    let mut expected = all(&tenants(6), "applied 3");
    expected[2].1 = "failed".to_owned();
    assert_eq!(outcomes(&report), expected, "{report}");
    let rows = tracked(&mut client, "tenant_3.stowage_migrations");
    let states: Vec<(i64, bool)> = rows.iter().map(|r| (r.version, r.success)).collect();
    assert_eq!(states, [(1, true), (2, false)], "the failure is recorded");
    assert!(rows[1].error.as_deref().unwrap().contains("42P07"));
    let text = report.to_string();
    assert!(text.contains("app/tenant_3: failed: migration 2"), "{text}");
    assert!(
        text.ends_with("6 target(s): 5 migrated, 0 up to date, 1 failed\n"),
        "{text}"
    );
}

fn one_failing_tenant_without_keep_going_stops_the_fleet_there(driver: Driver) {
    let (db, mut client) = tenant_database();
    let fleet = fleet_with_a_failing_tenant(&db, &mut client);
    let report = run(&fleet, driver);
    assert_failed_at_2(&report, "app/tenant_3");
    let names = tenants(6);
    let mut expected = all(&names[..2], "applied 3");
    expected.push(("app/tenant_3".into(), "failed".into()));
    expected.extend(all(&names[3..], "not-started"));
    assert_eq!(outcomes(&report), expected, "{report}");
    for name in &names[3..] {
        let exists: bool = client
            .query_one("SELECT to_regnamespace($1) IS NOT NULL", &[name])
            .unwrap()
            .get(0);
        assert!(!exists, "nothing started after the failure: {name}");
    }
}

fn a_failing_canary_stops_the_rollout(driver: Driver) {
    let (db, mut client) = tenant_database();
    client
        .batch_execute("CREATE SCHEMA tenant_2; CREATE TABLE tenant_2.invoices (id int)")
        .unwrap();
    // Canaries stop the rollout even for a fleet that keeps going.
    let fleet = fleet_of(&db, Schemas::listed(tenants(6)))
        .jobs(4)
        .canary(2)
        .keep_going(true);
    let report = run(&fleet, driver);
    let names = tenants(6);
    let mut expected = all(&names[..1], "applied 3");
    expected.push(("app/tenant_2".into(), "failed".into()));
    expected.extend(all(&names[2..], "not-started"));
    assert_eq!(outcomes(&report), expected, "{report}");
    for name in &names[2..] {
        assert_eq!(consistent_versions(&mut client, name), [] as [i64; 0]);
    }

    // Mended, the canaries pass (tenant_1 is up to date and no canary;
    // tenant_2 had applied migration 1), and the rollout goes on.
    client
        .batch_execute("DROP TABLE tenant_2.invoices")
        .unwrap();
    let report = run(&fleet, driver);
    let mut expected = all(&names, "applied 3");
    expected[0].1 = "applied 0".to_owned();
    expected[1].1 = "applied 2".to_owned();
    assert_eq!(outcomes(&report), expected, "{report}");
}

fn two_fleets_racing_apply_each_migration_once_per_target(driver: Driver) {
    let (db, mut client) = tenant_database();
    let names = tenants(12);
    let fleet = fleet_of(&db, Schemas::listed(names.clone())).jobs(3);
    let start = Barrier::new(2);
    let reports: Vec<FleetReport<Migrated>> = std::thread::scope(|s| {
        let racers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    run(&fleet, driver)
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut applied: BTreeMap<String, usize> = BTreeMap::new();
    for report in &reports {
        assert!(report.is_ok(), "{report}");
        for line in report.targets() {
            *applied.entry(line.target().to_string()).or_default() +=
                line.outcome().done().unwrap().applied();
        }
    }
    for name in &names {
        assert_eq!(applied[&format!("app/{name}")], 3, "{name}: {applied:?}");
        assert_eq!(
            tracked(&mut client, &format!("{name}.stowage_migrations")).len(),
            3
        );
        assert_eq!(consistent_versions(&mut client, name), [1, 2, 3]);
    }
    assert_eq!(advisory_locks(&mut client), 0);
}

fn a_fleet_of_two_databases_with_two_migration_sets(driver: Driver) {
    let (primary, mut primary_client) = tenant_database();
    let (data, mut data_client) = common::database(Driver::Sync);
    let fleet = Fleet::new()
        .database("primary", primary.async_config().clone(), TENANT.runner())
        .database("data", data.async_config().clone(), BASE.runner())
        // A second set in the primary database, with a tracking table of its own.
        .database(
            "primary",
            primary.async_config().clone(),
            BASE.runner().table("data_migrations"),
        )
        .jobs(2);
    let report = run(&fleet, driver);
    assert_eq!(
        outcomes(&report),
        [
            ("primary".to_owned(), "applied 3".to_owned()),
            ("data".to_owned(), "applied 3".to_owned()),
            (
                "primary (data_migrations)".to_owned(),
                "applied 3".to_owned()
            ),
        ],
        "{report}"
    );
    assert_eq!(common::applied_versions(&mut primary_client), [1, 2, 3]);
    assert_eq!(common::applied_versions(&mut data_client), [1, 2, 3]);
    let sets = [
        (&mut primary_client, "public.stowage_migrations", TENANT),
        (&mut data_client, "public.stowage_migrations", BASE),
    ];
    for (client, table, set) in sets {
        let checksums: Vec<String> = tracked(client, table)
            .into_iter()
            .map(|r| r.checksum)
            .collect();
        let expected: Vec<String> = set.iter().map(|m| m.up().checksum().to_owned()).collect();
        assert_eq!(checksums, expected, "{table}");
    }
    assert_eq!(
        tracked(&mut primary_client, "public.data_migrations").len(),
        3
    );
    assert!(table_exists(&mut primary_client, "public.a"));
    assert!(table_exists(&mut data_client, "public.a"));
    assert!(!table_exists(&mut data_client, "public.accounts"));
    assert!(run(&fleet, driver)
        .targets()
        .iter()
        .all(|l| l.outcome().done().is_some_and(Migrated::is_up_to_date)));
}

fn status_groups_the_targets_by_where_they_stand(driver: Driver) {
    let (db, mut client) = tenant_database();
    // tenant_1..5 at 3, tenant_6..7 at 2, tenant_8 failed at 2.
    let at = |schemas: Vec<String>, runner: stowage::Runner| {
        let fleet = Fleet::new().schemas(
            "app",
            db.async_config().clone(),
            Schemas::listed(schemas),
            runner,
        );
        run(&fleet, Driver::Sync)
    };
    at(tenants(5), TENANT.runner());
    at(
        vec!["tenant_6".into(), "tenant_7".into()],
        TENANT.runner().target(2),
    );
    client
        .batch_execute("CREATE SCHEMA tenant_8; CREATE TABLE tenant_8.invoices (id int)")
        .unwrap();
    assert!(!at(vec!["tenant_8".into()], TENANT.runner()).is_ok());
    let mut gone = db.async_config().clone();
    gone.dbname("no_such_database");
    let fleet = fleet_of(&db, Schemas::matching("tenant_*"))
        .database("gone", gone, TENANT.runner())
        .jobs(3);

    let status = status(&fleet, driver);
    let groups: Vec<String> = status.groups().iter().map(ToString::to_string).collect();
    let failed = "1 at 1, failed at 2: ERROR 42P07: relation \"invoices\" already exists \
                  (at line 1, column 1)";
    assert_eq!(
        groups,
        ["5 at 3", "2 at 2, 1 pending", failed, "1 unreachable"],
        "{status}"
    );
    let text = status.to_string();
    assert!(
        text.starts_with(&format!(
            "9 target(s): 5 at 3; 2 at 2, 1 pending; {failed}; 1 unreachable\n"
        )),
        "{text}"
    );
    assert!(text.contains("\n  app/tenant_8\n"), "{text}");
    assert!(
        text.contains("\n  gone: connecting to the target's database: "),
        "{text}"
    );
    let health = status.health();
    assert_eq!(
        (
            health.ok,
            health.targets,
            health.up_to_date,
            health.behind,
            health.problems,
            health.unreachable
        ),
        (false, 9, 5, 2, 1, 1),
        "{health:?}"
    );
    assert_eq!(
        (health.lowest_version, health.highest_version),
        (Some(1), Some(3))
    );

    // The reads go through every target.
    let verified = verify(&fleet, driver);
    assert!(verified.has_problems(), "{verified}");
    assert_eq!(
        verified
            .targets()
            .iter()
            .filter(|l| l.outcome().done().is_some_and(|v| !v.is_ok()))
            .count(),
        1
    );
    let planned = plan(&fleet, driver);
    let steps: Vec<usize> = planned
        .targets()
        .iter()
        .filter_map(|l| l.outcome().done().map(|p| p.steps().len()))
        .collect();
    assert_eq!(steps, [0, 0, 0, 0, 0, 1, 1, 2], "{planned}");
    assert!(matches!(
        planned.targets()[8].outcome(),
        TargetOutcome::Unreachable(_)
    ));
}

fn killed_mid_fleet_each_tenant_stays_consistent_and_a_rerun_completes(driver: Driver) {
    let (db, mut client) = tenant_database();
    let names = tenants(12);
    for name in &names {
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .unwrap();
    }
    // The gate creates tenant_3's invoices and does not commit: the
    // tenant's migration 2 waits to see whether it will.
    let mut gatekeeper = db.connect().unwrap();
    let gate_pid: i32 = gatekeeper
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let mut gate = gatekeeper.transaction().unwrap();
    gate.batch_execute("CREATE TABLE tenant_3.invoices (id int)")
        .unwrap();
    let mut child = child::start(&db, driver);
    common::wait_until("the fleet blocked in tenant_3's migration 2", || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the fleet ended before it could be killed: {status}");
        }
        client
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1 \
                 AND $2 = ANY (pg_blocking_pids(pid))",
                &[&child::NAME, &gate_pid],
            )
            .unwrap()
            .map(|row| row.get::<_, i32>(0))
    });
    child.kill().unwrap();
    child.wait().unwrap();
    gate.rollback().unwrap();
    common::wait_until("the killed fleet's sessions to end", || {
        let left: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                &[&child::NAME],
            )
            .unwrap()
            .get(0);
        (left == 0).then_some(())
    });
    assert_eq!(advisory_locks(&mut client), 0, "a lock is left");
    // Each tenant holds what its tracking table says, whatever the kill
    // interrupted; tenant_3 had committed migration 1.
    for name in &names {
        let versions = consistent_versions(&mut client, name);
        if name == "tenant_3" {
            assert_eq!(versions.first(), Some(&1), "{name}");
        }
    }

    let fleet = fleet_of(&db, Schemas::matching("tenant_*")).jobs(2);
    let report = run(&fleet, driver);
    assert!(report.is_ok(), "{report}");
    for name in &names {
        assert_eq!(consistent_versions(&mut client, name), [1, 2, 3], "{name}");
    }
    assert!(run(&fleet, driver)
        .targets()
        .iter()
        .all(|l| l.outcome().done().is_some_and(Migrated::is_up_to_date)));
}

/// The fleet in a process of its own, to be killed.
mod child {
    use super::*;

    /// The connection settings, as `key='value'` pairs; their presence
    /// makes the test binary a child.
    const CONNINFO_VAR: &str = "STOWAGE_FLEET_CHILD_CONNINFO";
    const DRIVER_VAR: &str = "STOWAGE_FLEET_CHILD_DRIVER";
    /// The `application_name` of the child's connections.
    pub const NAME: &str = "fleet-child";

    /// Runs the fleet of `tenant_*` of the database of the settings, two at
    /// a time, over the driver named.
    pub fn main() {
        let Ok(conninfo) = std::env::var(CONNINFO_VAR) else {
            return;
        };
        let database: Database = conninfo.parse().expect("valid connection settings");
        let fleet = Fleet::new()
            .schemas(
                "app",
                database,
                Schemas::matching("tenant_*"),
                TENANT.runner(),
            )
            .jobs(2);
        let report = match std::env::var(DRIVER_VAR).as_deref() {
            Ok("sync") => fleet.run(connect_blocking),
            Ok("async") => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime")
                .block_on(fleet.run_async(connect_async)),
            other => panic!("{DRIVER_VAR} must be sync or async, not {other:?}"),
        };
        println!("\n{}", report.expect("the fleet's run"));
    }

    /// Starts the child on `db`, over `driver`.
    pub fn start(db: &TestDatabase<'_>, driver: Driver) -> std::process::Child {
        let config = db.config();
        let mut pairs = vec![("application_name", NAME.to_owned())];
        for host in config.get_hosts() {
            pairs.push((
                "host",
                match host {
                    postgres::config::Host::Tcp(name) => name.clone(),
                    postgres::config::Host::Unix(path) => path.display().to_string(),
                },
            ));
        }
        for port in config.get_ports() {
            pairs.push(("port", port.to_string()));
        }
        if let Some(user) = config.get_user() {
            pairs.push(("user", user.to_owned()));
        }
        if let Some(password) = config.get_password() {
            pairs.push(("password", String::from_utf8_lossy(password).into_owned()));
        }
        pairs.push(("dbname", db.name().to_owned()));
        let conninfo: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
            .collect();
        Command::new(std::env::current_exe().expect("the test binary"))
            .args([
                "--exact",
                "child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CONNINFO_VAR, conninfo.join(" "))
            .env(DRIVER_VAR, driver.name())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the child process")
    }
}

fn refused_as_edited_at_2(report: &FleetReport<Migrated>, target: &str) {
    match report.get(target).map(|l| l.outcome()) {
        Some(TargetOutcome::Failed(Error::History(e))) => assert!(
            matches!(e.violations(), [Violation::Divergent { version: 2, .. }]),
            "{e}"
        ),
        other => panic!("{target}: expected the edit of 2 to be refused, got {other:?}"),
    }
}

/// The fleet reads each tenant's digest from the catalog (the digest
/// table's comment), which the trigger on the tracking table clears with
/// the digest row: a tracking table changed by hand is checked again, in
/// that tenant alone. A trigger function of an earlier version, which
/// leaves the comment, is not trusted, and a locked call replaces it.
fn a_tracking_table_changed_by_hand_is_seen_by_the_next_fleet(driver: Driver) {
    let (db, mut client) = tenant_database();
    let names = tenants(3);
    let fleet = fleet_of(&db, Schemas::listed(names.clone()));
    assert_eq!(outcomes(&run(&fleet, driver)), all(&names, "applied 3"));
    let comment = |client: &mut Conn, schema: &str| -> String {
        client
            .query_one(
                &format!(
                    "SELECT coalesce(obj_description('{schema}.stowage_digest'::regclass, 'pg_class'), '') \
                     || '|' || '{schema}.stowage_migrations'::regclass::oid"
                ),
                &[],
            )
            .unwrap()
            .get(0)
    };
    let holds_line = |text: &str| {
        let (comment, oid) = text.rsplit_once('|').unwrap();
        comment.contains(&format!("\n{oid} "))
    };
    for name in &names {
        assert!(holds_line(&comment(&mut client, name)), "{name}");
    }
    assert_eq!(outcomes(&run(&fleet, driver)), all(&names, "applied 0"));

    client
        .batch_execute(
            "UPDATE tenant_2.stowage_migrations SET checksum = 'edited' WHERE version = 2",
        )
        .unwrap();
    assert!(!holds_line(&comment(&mut client, "tenant_2")));
    let report = run(&fleet, driver);
    refused_as_edited_at_2(&report, "app/tenant_2");
    let mut expected = all(&names, "applied 0");
    expected[1].1 = "failed".to_owned();
    assert_eq!(outcomes(&report), expected, "{report}");

    // An earlier version's trigger function deletes the digest row only.
    let earlier = "CREATE OR REPLACE FUNCTION tenant_1.stowage_digest_clear() RETURNS trigger \
         LANGUAGE plpgsql SECURITY DEFINER AS 'BEGIN DELETE FROM tenant_1.stowage_digest \
         WHERE tracking OPERATOR(pg_catalog.=) TG_RELID; RETURN NULL; END'";
    client.batch_execute(earlier).unwrap();
    client
        .batch_execute(
            "UPDATE tenant_1.stowage_migrations SET checksum = 'edited' WHERE version = 2",
        )
        .unwrap();
    assert!(holds_line(&comment(&mut client, "tenant_1")), "left by it");
    refused_as_edited_at_2(&run(&fleet, driver), "app/tenant_1");

    // The next run that takes the lock in that tenant puts this version's
    // in: here, one that applies migration 3 again, undone by hand.
    client
        .batch_execute(
            "UPDATE tenant_1.stowage_migrations SET checksum = r.checksum \
             FROM tenant_3.stowage_migrations r WHERE r.version = 2 \
             AND tenant_1.stowage_migrations.version = 2; \
             ALTER TABLE tenant_1.accounts DROP COLUMN email; \
             DELETE FROM tenant_1.stowage_migrations WHERE version = 3",
        )
        .unwrap();
    let one = fleet_of(&db, Schemas::listed(["tenant_1"]));
    assert_eq!(outcomes(&run(&one, driver)), all(&names[..1], "applied 1"));
    let replaced: bool = client
        .query_one(
            "SELECT prosrc LIKE '%COMMENT ON TABLE%' FROM pg_proc \
             WHERE oid = 'tenant_1.stowage_digest_clear'::regproc",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(replaced);
    assert!(holds_line(&comment(&mut client, "tenant_1")));
}

/// A target's status reads as the same call on that target alone: with a
/// version handled elsewhere, shown as such and not as a problem, whether
/// the target was found up to date before the rollout or read.
fn versions_handled_elsewhere_read_as_on_one_target(driver: Driver) {
    let (db, mut client) = common::database(Driver::Sync);
    let names = tenants(2);
    let fleet_up_to = |target: Option<i64>| {
        let runner = match target {
            Some(version) => GOOSE.runner().target(version),
            None => GOOSE.runner(),
        };
        Fleet::new().schemas(
            "app",
            db.async_config().clone(),
            Schemas::listed(names.clone()),
            runner,
        )
    };
    assert!(run(&fleet_up_to(Some(2)), driver).is_ok());
    let fleet = Fleet::new().schemas(
        "app",
        db.async_config().clone(),
        Schemas::listed(["tenant_1"]),
        GOOSE.runner(),
    );
    assert!(run(&fleet, driver).is_ok());

    let report = status(&fleet_up_to(None), driver);
    for line in report.targets() {
        let schema = line.target().schema().unwrap();
        let read = line.outcome().done().unwrap_or_else(|| panic!("{report}"));
        let alone = client
            .status(GOOSE.runner().table(format!("{schema}.stowage_migrations")))
            .unwrap();
        assert_eq!(
            (
                read.health().ok,
                read.current_version(),
                read.health().counts
            ),
            (
                alone.is_up_to_date(),
                alone.current_version(),
                alone.counts()
            ),
            "{schema}: {alone}"
        );
        assert_eq!(read.health().counts.elsewhere, 1, "{schema}");
        assert!(read.problem().is_none(), "{schema}: {read}");
    }
    let text = report.to_string();
    assert!(!text.contains("elsewhere at"), "{text}");
}

both_drivers!(
    each_tenant_schema_is_checked_against_the_schema_file,
    fifty_tenants_four_at_a_time_each_get_their_migrations_and_tracking_table,
    each_target_starts_from_a_clean_session,
    a_runner_table_is_placed_in_each_schema_and_one_with_a_schema_is_refused,
    repeatable_migrations_are_made_in_each_schema,
    versions_handled_elsewhere_read_as_on_one_target,
    one_failing_tenant_with_keep_going_leaves_the_others_done_and_its_failure_recorded,
    one_failing_tenant_without_keep_going_stops_the_fleet_there,
    a_failing_canary_stops_the_rollout,
    two_fleets_racing_apply_each_migration_once_per_target,
    a_fleet_of_two_databases_with_two_migration_sets,
    status_groups_the_targets_by_where_they_stand,
    killed_mid_fleet_each_tenant_stays_consistent_and_a_rerun_completes,
    a_tracking_table_changed_by_hand_is_seen_by_the_next_fleet,
);
