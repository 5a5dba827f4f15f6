//! Measures stowage against refinery and sqlx on one throwaway PostgreSQL
//! server, with psql and a bare connect + `SELECT 1` as floors, and prints a
//! table. See BENCHMARKS.md at the repository root for what is measured and
//! why; `./run.sh --help` for the options.

mod builds;
mod fleet;
mod generate;
mod programs;
mod proxy;
mod report;
mod schema;

use programs::{Check, Library, Paths, Program, Target};
use proxy::{Counts, Proxy, Upstream};
use report::{Counted, Results, Stats};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;
use stowage::testing::{TestDatabase, TestServer};

/// The sizes of the migration sets.
const SIZES: [usize; 2] = [100, 1000];

/// The floors of a start: connect + `SELECT 1` with the `postgres` crate
/// (the client of stowage's sync driver and of refinery), with sqlx, and with
/// tokio-postgres (the client of stowage's async driver).
const FLOORS: [Program; 3] = [
    Program::Select1,
    Program::Select1Sqlx,
    Program::Select1TokioPostgres,
];

/// The migration edited to measure a rebuild: one in the middle.
const EDITED_VERSION: usize = 500;

#[derive(Debug, Clone)]
struct Options {
    /// Runs of each apply-everything measurement, each on a fresh database.
    apply_runs: usize,
    /// Runs of each no-op start.
    noop_runs: usize,
    /// Rounds of edit-and-rebuild per library (two rebuilds each).
    rebuild_rounds: usize,
    /// Whether to use hyperfine for the no-op starts when it is installed.
    hyperfine: bool,
    /// Before each timed run, wait (up to a minute) until other programs
    /// use less than this share of the CPUs.
    quiet: f64,
    /// Measure applying over a slow link only, and nothing else.
    slow_link: bool,
    /// The round trips of the slow link's proxy, each measured.
    latencies: Vec<Duration>,
    /// Runs of each program at each latency of the slow link.
    slow_link_runs: usize,
    /// Runs of each fleet measurement (0 skips the fleet phase).
    fleet_runs: usize,
    /// Tenant schemas in the fleet phase.
    fleet_tenants: usize,
    /// Runs only the fleet phase.
    only_fleet: bool,
    /// Runs of each call of the schema phase.
    schema_runs: usize,
    /// Only the schema phase.
    schema_only: bool,
}

const USAGE: &str = "\
usage: run.sh [--apply-runs N] [--noop-runs N] [--rebuild-rounds N] [--no-hyperfine] [--quiet SHARE] [--quick]
              [--fleet-runs N] [--fleet-tenants N] [--only-fleet]
              [--schema-runs N] [--schema-only]
       run.sh --slow-link [--latencies MS,...] [--slow-link-runs N] [--quiet SHARE]

  --apply-runs N      runs of each apply-all measurement, each on a new database (default 9)
  --noop-runs N       runs of each no-op start (default 300)
  --rebuild-rounds N  edit-and-rebuild rounds per library, two rebuilds each; 0 skips
                      the build measurements (default 2)
  --no-hyperfine      time the no-op starts with the driver's own loop
  --quiet SHARE       before each timed run, wait up to a minute until programs that
                      are not niced use less than SHARE of the CPUs (default 0.15)
  --quick             --apply-runs 1 --noop-runs 30 --rebuild-rounds 0, to try it out
  --slow-link         measure only applying into an empty database through a proxy
                      that delays each direction by half a round trip
  --latencies MS,...  the round trips of the slow link, in ms (default 0,1,5)
  --slow-link-runs N  runs of each program at each latency (default 5)
  --fleet-runs N      runs of each fleet measurement, each on a new database; 0 skips the
                      fleet phase (default 3)
  --fleet-tenants N   tenant schemas of the fleet phase (default 1000)
  --only-fleet        run the fleet phase alone
  --schema-runs N     runs of each call of the schema phase: writing the schema file of 300
                      tables, and checking the database against it, on one connection and
                      on new ones (default 50)
  --schema-only       the schema phase alone

The server is a throwaway one unless DATABASE_URL names one (see stowage::testing).";

impl Options {
    fn parse() -> Result<Options, String> {
        let mut options = Options {
            apply_runs: 9,
            noop_runs: 300,
            rebuild_rounds: 2,
            hyperfine: true,
            quiet: 0.15,
            slow_link: false,
            latencies: [0, 1, 5].map(Duration::from_millis).to_vec(),
            slow_link_runs: 5,
            fleet_runs: 3,
            fleet_tenants: 1000,
            only_fleet: false,
            schema_runs: 50,
            schema_only: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> Result<usize, String> {
                args.next()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("{name} needs a number\n\n{USAGE}"))
            };
            match arg.as_str() {
                "--apply-runs" => options.apply_runs = number(&arg)?.max(1),
                "--noop-runs" => options.noop_runs = number(&arg)?.max(1),
                "--rebuild-rounds" => options.rebuild_rounds = number(&arg)?,
                "--fleet-runs" => options.fleet_runs = number(&arg)?,
                "--fleet-tenants" => options.fleet_tenants = number(&arg)?.max(1),
                "--only-fleet" => options.only_fleet = true,
                "--schema-runs" => options.schema_runs = number(&arg)?.max(1),
                "--schema-only" => options.schema_only = true,
                "--no-hyperfine" => options.hyperfine = false,
                "--quiet" => {
                    options.quiet = args
                        .next()
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(|| format!("--quiet needs a number\n\n{USAGE}"))?;
                }
                "--slow-link" => options.slow_link = true,
                "--slow-link-runs" => options.slow_link_runs = number(&arg)?.max(1),
                "--latencies" => {
                    let list = args.next().unwrap_or_default();
                    options.latencies = list
                        .split(',')
                        .map(|ms| ms.trim().parse::<f64>().ok().filter(|ms| *ms >= 0.0))
                        .map(|ms| ms.map(|ms| Duration::from_secs_f64(ms / 1000.0)))
                        .collect::<Option<Vec<_>>>()
                        .filter(|l| !l.is_empty())
                        .ok_or_else(|| {
                            format!("--latencies needs numbers of ms, e.g. 0,1,5\n\n{USAGE}")
                        })?;
                }
                "--quick" => {
                    options.apply_runs = 1;
                    options.noop_runs = 30;
                    options.rebuild_rounds = 0;
                    options.fleet_runs = 1;
                }
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument {other}\n\n{USAGE}")),
            }
        }
        Ok(options)
    }
}

fn main() {
    let options = match Options::parse() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&options) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(options: &Options) -> Result<(), Box<dyn Error>> {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no bench folder")?;
    let paths = Paths::new(bench);
    let mut results = Results::new(options.apply_runs, options.noop_runs);
    results.slow_link_runs = options.slow_link_runs;
    results.load_at_start = report::load_average();

    if options.schema_only {
        return schema_only(&paths, options);
    }

    step("Generating the migrations");
    write_migrations(&paths)?;

    step("Building the programs (nice -n 19)");
    if options.only_fleet {
        builds::build(&paths, &Library::Stowage.package(), None)?;
    } else {
        builds::build(&paths, "bench-floor", None)?;
        // diesel's program is only built to be measured; the slow link runs the others.
        let built = Library::ALL
            .into_iter()
            .filter(|l| !options.slow_link || Library::RUN.contains(l));
        for library in built {
            println!("  {}", library.package());
            builds::build(&paths, &library.package(), None)?;
        }
    }

    step("Starting the server");
    // The throwaway server lives in the temporary folder. On tmpfs its
    // files cost no disk work: on ext4, creating the files of thousands of
    // tables right after dropping databases that held thousands more makes
    // the kernel search past recently deleted inodes, which added about a
    // second to every apply of 1,000 migrations, growing over the run.
    if std::env::var_os("TMPDIR").is_none() && Path::new("/dev/shm").is_dir() {
        std::env::set_var("TMPDIR", "/dev/shm");
    }
    let server = TestServer::start()?;
    if let Some(password) = server.config().get_password() {
        // The programs read it from there (see bench-common).
        std::env::set_var("PGPASSWORD", String::from_utf8_lossy(password).into_owned());
    }
    let log = {
        let db = server.create_database()?;
        let mut client = db.connect()?;
        results.server_version = first_value(&mut client, "SELECT version()")?;
        ServerLog::find(&mut client)
    };
    println!("  {server}\n  {}", results.server_version);
    if log.is_none() {
        println!(
            "  the server's log is not readable here: statements are counted by the proxy only"
        );
    }

    if options.slow_link {
        step(&format!(
            "Applying into an empty database over a slow link ({} runs each, interleaved)",
            options.slow_link_runs
        ));
        time_slow_link(&server, &paths, options, &mut results)?;
        return finish(
            &paths,
            &mut results,
            "bench-slow-link.md",
            Results::slow_link_markdown,
        );
    }

    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut fleet = fleet::FleetResults::default();
    if options.fleet_runs > 0 {
        time_fleet(&server, &paths, options, &mut results, &mut fleet)?;
    }
    if options.only_fleet {
        return finish(&paths, &mut results, "bench-results.md", |r| {
            let mut table = String::new();
            r.header(&mut table, "fleet runs");
            table.push_str(&fleet.markdown(cpus));
            table
        });
    }

    step("Counting statements and round trips (log_statement = all, counting proxy)");
    count_all(&server, log.as_ref(), &paths, &mut results)?;
    write_check_queries(&paths, &results)?;

    step(&format!(
        "Applying into an empty database ({} runs each, interleaved)",
        options.apply_runs
    ));
    time_applies(&server, &paths, options, &mut results)?;

    step(&format!("No-op starts ({} runs each)", options.noop_runs));
    time_noops(&server, &paths, options, &mut results)?;

    results.schema = Some(time_schema(&server, &paths, options)?);

    if options.rebuild_rounds > 0 {
        for library in Library::REBUILT {
            step(&format!(
                "Rebuilding {} after editing one of 1,000 migrations ({} rounds)",
                library.name(),
                options.rebuild_rounds
            ));
            time_rebuilds(&paths, library, options, &mut results)?;
        }
    }

    let every_library = SIZES
        .into_iter()
        .flat_map(|size| Library::ALL.map(|l| Program::Library(l, size)));
    for program in FLOORS.into_iter().chain(every_library) {
        if let Ok(meta) = std::fs::metadata(paths.executable(&program)) {
            results.sizes.insert(program, meta.len());
        }
    }
    finish(&paths, &mut results, "bench-results.md", |r| {
        let mut table = r.markdown();
        if options.fleet_runs > 0 {
            table.push_str(&fleet.markdown(cpus));
        }
        table
    })
}

/// Notes the machine, stowage's commit and the load at the end, then prints
/// the table and writes it beside the release folder as `file`.
fn finish(
    paths: &Paths,
    results: &mut Results,
    file: &str,
    table: impl FnOnce(&Results) -> String,
) -> Result<(), Box<dyn Error>> {
    results.machine = report::machine();
    results.stowage_version = stowage_version(paths);
    results.load_at_end = report::load_average();
    let table = table(results);
    let out = paths.release.parent().unwrap_or(&paths.bench).join(file);
    std::fs::write(&out, &table)?;
    step(&format!("Results (also in {})", out.display()));
    println!("{table}");
    Ok(())
}

/// The fleet phase (see `fleet.rs`): each run of each way of migrating on
/// a new database, the ways taking turns; then the up-to-date start, timed
/// and counted.
fn time_fleet(
    server: &TestServer,
    paths: &Paths,
    options: &Options,
    results: &mut Results,
    fleet: &mut fleet::FleetResults,
) -> Result<(), Box<dyn Error>> {
    let tenants = options.fleet_tenants;
    fleet.tenants = tenants;
    step(&format!(
        "Fleets: {tenants} tenant schemas, {} migrations each ({} runs each, interleaved)",
        fleet::MIGRATIONS,
        options.fleet_runs
    ));
    let modes = std::iter::once(fleet::Mode::Single)
        .chain(fleet::JOBS.iter().map(|j| fleet::Mode::Fleet(*j)));
    let modes: Vec<fleet::Mode> = modes.collect();
    let mut migrated = None;
    for run in 0..options.fleet_runs {
        for mode in &modes {
            let db = server.create_database()?;
            wait_for_quiet(options.quiet, results);
            let measured = fleet::run(paths, *mode, tenants, &target_of(server, db.name()))?;
            if measured.applied != tenants * fleet::MIGRATIONS {
                return Err(format!("{} applied {}", mode.label(), measured.applied).into());
            }
            println!(
                "  run {}: {:<28} {:>9.0} ms  (resident memory +{} KiB)",
                run + 1,
                mode.label(),
                measured.ms,
                measured.rss_growth_kb
            );
            fleet.runs.push((*mode, measured));
            if *mode == fleet::Mode::Fleet(1) && migrated.is_none() {
                migrated = Some(db);
            }
        }
    }
    let db = migrated.ok_or("no database was migrated by a fleet")?;
    let target = target_of(server, db.name());
    let checks = options.fleet_runs.max(1) * 5;
    for _ in 0..checks {
        wait_for_quiet(options.quiet, results);
        let measured = fleet::run(paths, fleet::Mode::Fleet(1), tenants, &target)?;
        if measured.applied != 0 {
            return Err(format!("the up-to-date start applied {}", measured.applied).into());
        }
        fleet.checks.push(measured);
    }
    let proxy = Proxy::start(upstream_of(server), server_port(server), Duration::ZERO)?;
    let counts = fleet::count(paths, &proxy, tenants, &target)?;
    println!(
        "  up to date: {:.1} ms (first of {checks}); {} queries in {} round trips",
        fleet.checks.first().map_or(0.0, |c| c.ms),
        counts.queries.len(),
        counts.round_trips
    );
    fleet.check_counts = Some(counts);
    Ok(())
}

/// The schema phase alone: its own server, and its table.
fn schema_only(paths: &Paths, options: &Options) -> Result<(), Box<dyn Error>> {
    if std::env::var_os("TMPDIR").is_none() && Path::new("/dev/shm").is_dir() {
        std::env::set_var("TMPDIR", "/dev/shm");
    }
    let server = TestServer::start()?;
    if let Some(password) = server.config().get_password() {
        std::env::set_var("PGPASSWORD", String::from_utf8_lossy(password).into_owned());
    }
    let times = time_schema(&server, paths, options)?;
    let version = {
        let db = server.create_database()?;
        first_value(&mut db.connect()?, "SELECT version()")?
    };
    step("Results");
    println!("{version}\n\n{}", times.rows());
    Ok(())
}

/// The schema phase (see [`schema`]): the file written, then the database
/// checked against it, each call timed in the program.
fn time_schema(
    server: &TestServer,
    paths: &Paths,
    options: &Options,
) -> Result<schema::SchemaTimes, Box<dyn Error>> {
    step(&format!(
        "The schema file and the schema check, {} tables ({} runs each)",
        schema::TABLES,
        options.schema_runs
    ));
    let folder = schema::write_migration(paths)?;
    builds::build(paths, "bench-schema", None)?;
    let db = server.create_database()?;
    let target = target_of(server, db.name());
    let mut ignored = Results::new(1, 1);
    wait_for_quiet(options.quiet, &mut ignored);
    let write = schema::run(paths, "write", options.schema_runs, &target)?;
    let file_bytes = std::fs::metadata(folder.join("schema.sql"))?.len();
    // Built again, the program embeds the file it wrote.
    builds::build(paths, "bench-schema", None)?;
    wait_for_quiet(options.quiet, &mut ignored);
    let read = schema::run(paths, "read", options.schema_runs, &target)?;
    wait_for_quiet(options.quiet, &mut ignored);
    let check = schema::run(paths, "check", options.schema_runs, &target)?;
    wait_for_quiet(options.quiet, &mut ignored);
    let first = schema::run(paths, "first", options.schema_runs, &target)?;
    let times = schema::SchemaTimes {
        write,
        read,
        check,
        first,
        file_bytes,
    };
    println!("{}", times.rows());
    Ok(times)
}

/// Runs every program once through the counting proxy (see [`count`]).
fn count_all(
    server: &TestServer,
    log: Option<&ServerLog>,
    paths: &Paths,
    results: &mut Results,
) -> Result<(), Box<dyn Error>> {
    let proxy = Proxy::start(upstream_of(server), server_port(server), Duration::ZERO)?;
    for size in SIZES {
        for program in library_programs(size)
            .into_iter()
            .chain([Program::Psql(size)])
        {
            count(server, &proxy, log, paths, &program, results)?;
        }
    }
    for floor in FLOORS {
        count(server, &proxy, log, paths, &floor, results)?;
    }
    Ok(())
}

/// Applies every set with every library and with psql, each run on a new
/// database, the programs taking turns so that a burst of other work on the
/// machine does not fall on one of them only.
fn time_applies(
    server: &TestServer,
    paths: &Paths,
    options: &Options,
    results: &mut Results,
) -> Result<(), Box<dyn Error>> {
    for run in 0..options.apply_runs {
        for size in SIZES {
            for program in library_programs(size)
                .into_iter()
                .chain([Program::Psql(size)])
            {
                let db = server.create_database()?;
                wait_for_quiet(options.quiet, results);
                let took = programs::run(paths, &program, &target_of(server, db.name()))?;
                println!(
                    "  run {}: {:<14} {:>8.1} ms",
                    run + 1,
                    program.label(),
                    ms(took)
                );
                results.apply.entry(program).or_default().push(took);
            }
        }
    }
    Ok(())
}

/// Applies every set with every library and with psql, and runs connect +
/// `SELECT 1`, through a proxy standing for a link of each round trip in
/// `options.latencies` (half of it each way), each apply on a new database.
/// The programs and the latencies take turns, run by run. The proxy counts
/// each run's round trips.
fn time_slow_link(
    server: &TestServer,
    paths: &Paths,
    options: &Options,
    results: &mut Results,
) -> Result<(), Box<dyn Error>> {
    let proxies = options
        .latencies
        .iter()
        .map(|latency| {
            Proxy::start(upstream_of(server), server_port(server), *latency / 2)
                .map(|proxy| (*latency, proxy))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for run in 0..options.slow_link_runs {
        for (latency, proxy) in &proxies {
            let programs = SIZES.into_iter().flat_map(|size| {
                library_programs(size)
                    .into_iter()
                    .chain([Program::Psql(size)])
            });
            for program in programs.chain([Program::Select1]) {
                let db = server.create_database()?;
                let mut target = target_of(server, db.name());
                target.host = proxy.dir().display().to_string();
                wait_for_quiet(options.quiet, results);
                proxy.take();
                let took = programs::run(paths, &program, &target)?;
                let counts = proxy.take();
                println!(
                    "  run {}, {:>4} ms: {:<22} {:>9.1} ms, {:>5} round trips",
                    run + 1,
                    ms(*latency),
                    program.label(),
                    ms(took),
                    counts.round_trips
                );
                let key = (*latency, program);
                results.slow_link.entry(key.clone()).or_default().push(took);
                results
                    .slow_link_counts
                    .entry(key)
                    .or_default()
                    .push(counts);
            }
        }
    }
    Ok(())
}

/// Times the starts with nothing to do: each library on a database where it
/// applied everything, the floors, and the check queries on their own.
fn time_noops(
    server: &TestServer,
    paths: &Paths,
    options: &Options,
    results: &mut Results,
) -> Result<(), Box<dyn Error>> {
    let mut databases: Vec<(Program, TestDatabase<'_>)> = Vec::new();
    for size in SIZES {
        for program in library_programs(size) {
            let db = server.create_database()?;
            programs::run(paths, &program, &target_of(server, db.name()))?;
            databases.push((program, db));
        }
    }
    // The floors and the check queries run in stowage's database of 1,000;
    // a second one has no digest table, as a database that a role which may
    // not write it uses.
    let stowage_db = databases
        .iter()
        .find(|(p, _)| *p == Program::Library(Library::Stowage, 1000))
        .map(|(_, db)| db)
        .ok_or("no stowage database")?;
    let stowage_target = target_of(server, stowage_db.name());
    let without_digest = server.create_database()?;
    let stowage_1000 = Program::Library(Library::Stowage, 1000);
    programs::run(
        paths,
        &stowage_1000,
        &target_of(server, without_digest.name()),
    )?;
    // Dropped, not emptied: a start that finds the table empty writes it.
    without_digest
        .connect()?
        .batch_execute("DROP TABLE stowage_digest")?;
    let mut noop: Vec<(Program, Target)> = FLOORS
        .into_iter()
        .chain([
            Program::Check(Check::Current),
            Program::Check(Check::Computed),
        ])
        .map(|p| (p, stowage_target.clone()))
        .collect();
    noop.push((
        Program::StowageWithoutDigest,
        target_of(server, without_digest.name()),
    ));
    noop.extend(
        databases
            .iter()
            .map(|(p, db)| (p.clone(), target_of(server, db.name()))),
    );

    let hyperfine = options.hyperfine && which("hyperfine").is_some();
    results.noop_timer = if hyperfine {
        "hyperfine -N, in passes of 30 over all the programs"
    } else {
        "the driver's loop, the programs taking turns"
    }
    .to_owned();
    results.noop = if hyperfine {
        noop_with_hyperfine(paths, &noop, options, results)?
    } else {
        noop_with_loop(paths, &noop, options, results)?
    };
    for (program, stats) in &results.noop {
        println!(
            "  {:<14} median {:>6.2} ms  (min {:.2}, mean {:.2})",
            program.label(),
            ms(stats.median),
            ms(stats.min),
            ms(stats.mean)
        );
    }
    Ok(())
}

/// The rebuilds of `library`'s 1,000-migration program after editing one
/// migration, and where rustc spends a build of it.
fn time_rebuilds(
    paths: &Paths,
    library: Library,
    options: &Options,
    results: &mut Results,
) -> Result<(), Box<dyn Error>> {
    let edited = &generate::migrations(EDITED_VERSION)[EDITED_VERSION - 1];
    let file = paths
        .migrations(library, 1000)
        .join(library.file_name(edited));
    let times = builds::rebuilds_after_edit(paths, library, &file, options.rebuild_rounds, || {
        wait_for_quiet(options.quiet, results)
    })?;
    for t in &times {
        println!(
            "  {:>7.2} s wall, {:>7.2} s CPU",
            t.wall.as_secs_f64(),
            t.cpu.as_secs_f64()
        );
    }
    results.rebuilds.insert(library, times);
    match builds::time_passes(paths, library) {
        Ok(passes) => {
            println!(
                "  rustc -Z time-passes: {}",
                report::passes_summary(&passes)
            );
            results.passes.insert(library, passes);
        }
        Err(e) => println!("  rustc -Z time-passes not available: {e}"),
    }
    Ok(())
}

/// The query that computes the digest over the tracking table, as
/// `runtime/src/conversation/sql.rs` (`computed_quick_check`) sends it for
/// the default table when there is no digest row to read.
const COMPUTED_QUERY: &str = "SELECT c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()), \
    h.digest, h.all_ok, current_schema(), \
    coalesce(has_table_privilege(to_regclass(quote_ident(current_schema()) || '.stowage_digest'), 'INSERT') \
    AND has_table_privilege(to_regclass(quote_ident(current_schema()) || '.stowage_digest'), 'DELETE') \
    AND has_table_privilege(c.oid, 'INSERT'), false) \
    FROM (SELECT encode(sha256(convert_to(coalesce(string_agg(version::text || ' ' || checksum, E'\\n' \
    ORDER BY version) FILTER (WHERE success), ''), 'UTF8')), 'hex') AS digest, coalesce(bool_and(success), true) AS all_ok \
    FROM \"stowage_migrations\") h, pg_catalog.pg_class c WHERE c.oid = '\"stowage_migrations\"'::regclass";

/// Writes the query stowage sent on its no-op start (as the proxy saw it)
/// and the one that computes the digest, for `one-query` to send.
fn write_check_queries(paths: &Paths, results: &Results) -> Result<(), Box<dyn Error>> {
    let sent = &results
        .noop_counts
        .get(&Program::Library(Library::Stowage, 1000))
        .ok_or("stowage's no-op start was not counted")?
        .counts
        .queries;
    if sent.len() != 1 {
        println!(
            "  note: stowage's no-op start sent {} simple queries; they are replayed as one",
            sent.len()
        );
    }
    std::fs::write(paths.query_file(Check::Current), sent.join(";\n"))?;
    std::fs::write(paths.query_file(Check::Computed), COMPUTED_QUERY)?;
    Ok(())
}

/// Waits, up to a minute, until programs that are not niced use less than
/// `share` of the CPUs, and counts whether the timing that follows starts
/// on a quiet machine.
fn wait_for_quiet(share: f64, results: &mut Results) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut said = false;
    loop {
        let busy = report::busy_share(Duration::from_millis(500));
        if busy < share {
            results.quiet_starts += 1;
            return;
        }
        if std::time::Instant::now() >= deadline {
            println!(
                "  (going on although other programs use {:.0}% of the CPUs)",
                busy * 100.0
            );
            results.noisy_starts += 1;
            return;
        }
        if !said {
            println!(
                "  (waiting: other programs use {:.0}% of the CPUs)",
                busy * 100.0
            );
            said = true;
        }
    }
}

/// The commit of the repository the stowage crates were built from, with
/// `+changes` if runtime/, macros/ or core/ differ from it.
fn stowage_version(paths: &Paths) -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(paths.bench.parent().unwrap_or(&paths.bench))
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => {
            let changed = git(&["status", "--porcelain", "--", "runtime", "macros", "core"])
                .is_some_and(|s| !s.is_empty());
            format!("{commit}{}", if changed { " +changes" } else { "" })
        }
        None => "unknown".into(),
    }
}

fn step(title: &str) {
    println!("\n==> {title}");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The programs of the libraries whose runs are measured.
fn library_programs(size: usize) -> Vec<Program> {
    Library::RUN
        .iter()
        .map(|l| Program::Library(*l, size))
        .collect()
}

/// Writes each library's folders and the psql scripts, leaving files whose
/// text is already right untouched, so that nothing is rebuilt needlessly.
fn write_migrations(paths: &Paths) -> Result<(), Box<dyn Error>> {
    let largest = *SIZES.iter().max().unwrap_or(&0);
    let all = generate::migrations(largest);
    // Each tenant's migrations in the fleet phase: stowage's alone.
    let tenant: Vec<(String, &str)> = all[..fleet::MIGRATIONS]
        .iter()
        .map(|m| (Library::Stowage.file_name(m), m.sql.as_str()))
        .collect();
    sync_folder(
        &paths.migrations(Library::Stowage, fleet::MIGRATIONS),
        &tenant,
    )?;
    for size in SIZES {
        let set = &all[..size];
        // stowage's async programs embed stowage's folders.
        for library in Library::ALL.into_iter().filter(|l| l.folder() == *l) {
            let files: Vec<(String, &str)> = set
                .iter()
                .map(|m| (library.file_name(m), m.sql.as_str()))
                .collect();
            sync_folder(&paths.migrations(library, size), &files)?;
        }
        let dir = paths.migrations(Library::Stowage, size);
        let mut script = String::from(
            "-- Applies every migration over one connection, one file after another.\n",
        );
        for m in set {
            script.push_str(&format!(
                "\\i {}\n",
                dir.join(Library::Stowage.file_name(m)).display()
            ));
        }
        write_if_changed(&paths.psql_script(size), &script)?;
        let bytes: usize = set.iter().map(|m| m.sql.len()).sum();
        println!(
            "  {size} migrations, {:.0} KB of SQL, in {}",
            bytes as f64 / 1024.0,
            paths.generated.display()
        );
    }
    Ok(())
}

/// Makes `dir` hold exactly `files` (paths relative to it, with their text).
fn sync_folder(dir: &Path, files: &[(String, &str)]) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(dir)?;
    let wanted: std::collections::HashSet<PathBuf> =
        files.iter().map(|(f, _)| dir.join(f)).collect();
    remove_unwanted(dir, &wanted)?;
    for (name, text) in files {
        write_if_changed(&dir.join(name), text)?;
    }
    Ok(())
}

/// Removes what is below `dir` and neither in `wanted` nor a folder of it.
fn remove_unwanted(dir: &Path, wanted: &std::collections::HashSet<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if wanted.iter().any(|w| w.starts_with(&path)) {
                remove_unwanted(&path, wanted)?;
            } else {
                std::fs::remove_dir_all(&path)?;
            }
        } else if !wanted.contains(&path) {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text)?;
    }
    Ok(())
}

/// Runs `program` once on a new database with every statement logged and
/// its connection through the proxy; for a library, runs it a second time
/// there, with nothing left to apply. Checks the library recorded everything.
fn count(
    server: &TestServer,
    proxy: &Proxy,
    log: Option<&ServerLog>,
    paths: &Paths,
    program: &Program,
    results: &mut Results,
) -> Result<(), Box<dyn Error>> {
    let db = server.create_database()?;
    let mut client = db.connect()?;
    client.batch_execute(&format!(
        "ALTER DATABASE \"{}\" SET log_statement = 'all'",
        db.name()
    ))?;
    drop(client);
    let mut target = target_of(server, db.name());
    target.host = proxy.dir().display().to_string();
    let once = || -> Result<Counted, Box<dyn Error>> {
        let offset = log.map(ServerLog::len);
        proxy.take();
        programs::run(paths, program, &target)?;
        let counts: Counts = proxy.take();
        let logged = match (log, offset) {
            (Some(log), Some(offset)) => Some(log.statements_since(offset)?),
            _ => None,
        };
        Ok(Counted { counts, logged })
    };
    let first = once()?;
    println!(
        "  {:<14} {:>6} statements logged, {:>6} round trips, {:>9} bytes sent  ({})",
        program.label(),
        first.logged.map_or_else(|| "?".into(), |n| n.to_string()),
        first.counts.round_trips,
        first.counts.bytes_to_server,
        first.counts.message_summary()
    );
    match program {
        Program::Library(library, size) => {
            let mut client = db.connect()?;
            let applied: i64 = first_value(&mut client, library.applied_query())?.parse()?;
            if applied != *size as i64 {
                return Err(format!(
                    "{} recorded {applied} migrations, not {size}",
                    program.label()
                )
                .into());
            }
            drop(client);
            let again = once()?;
            println!(
                "  {:<14} no-op: {} statements, {} round trips, {} bytes sent, {} received  ({})",
                "",
                again.logged.map_or_else(|| "?".into(), |n| n.to_string()),
                again.counts.round_trips,
                again.counts.bytes_to_server,
                again.counts.bytes_to_client,
                again.counts.message_summary()
            );
            results.noop_counts.insert(program.clone(), again);
            results.apply_counts.insert(program.clone(), first);
        }
        Program::Psql(_) => {
            results.apply_counts.insert(program.clone(), first);
        }
        Program::Select1
        | Program::Select1Sqlx
        | Program::Select1TokioPostgres
        | Program::Check(_)
        | Program::StowageWithoutDigest => {
            results.noop_counts.insert(program.clone(), first);
        }
    }
    Ok(())
}

/// Times each no-op start with hyperfine (`-N`: no shell in between). The
/// runs are split into passes of 30 over all the programs, so that a burst
/// of other work on the machine falls on all of them rather than on one.
fn noop_with_hyperfine(
    paths: &Paths,
    programs: &[(Program, Target)],
    options: &Options,
    results: &mut Results,
) -> Result<std::collections::BTreeMap<Program, Stats>, Box<dyn Error>> {
    let runs = options.noop_runs;
    let passes = runs.div_ceil(30).max(1);
    let per_pass = runs.div_ceil(passes);
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); programs.len()];
    for pass in 0..passes {
        wait_for_quiet(options.quiet, results);
        let json = paths
            .release
            .parent()
            .unwrap_or(&paths.bench)
            .join(format!("hyperfine-noop-{pass}.json"));
        let mut command = std::process::Command::new("hyperfine");
        command.args([
            "-N",
            "--style",
            "basic",
            "--warmup",
            "10",
            "--runs",
            &per_pass.to_string(),
        ]);
        command.arg("--export-json").arg(&json);
        for (program, target) in programs {
            command.args(["-n", &program.label()]);
            command.arg(paths.argv(program, target).join(" "));
        }
        let output = command.stdout(std::process::Stdio::null()).output()?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!("hyperfine failed ({}): {stderr}", output.status).into());
        }
        let parsed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
        let results = parsed["results"]
            .as_array()
            .ok_or("no results in hyperfine's JSON")?;
        for (i, result) in results.iter().enumerate().take(programs.len()) {
            let pass_times = result["times"]
                .as_array()
                .ok_or("no times in hyperfine's JSON")?;
            times[i].extend(
                pass_times
                    .iter()
                    .filter_map(|t| t.as_f64().map(Duration::from_secs_f64)),
            );
        }
    }
    Ok(programs
        .iter()
        .zip(&times)
        .map(|((p, _), t)| (p.clone(), Stats::of(t)))
        .collect())
}

/// Times each no-op start with a loop of our own, the programs taking turns.
fn noop_with_loop(
    paths: &Paths,
    programs: &[(Program, Target)],
    options: &Options,
    results: &mut Results,
) -> Result<std::collections::BTreeMap<Program, Stats>, Box<dyn Error>> {
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); programs.len()];
    for round in 0..options.noop_runs + 20 {
        if round % 20 == 0 {
            wait_for_quiet(options.quiet, results);
        }
        for (i, (program, target)) in programs.iter().enumerate() {
            let took = programs::run(paths, program, target)?;
            if round >= 20 {
                times[i].push(took); // the first 20 rounds warm up
            }
        }
    }
    Ok(programs
        .iter()
        .zip(&times)
        .map(|((p, _), t)| (p.clone(), Stats::of(t)))
        .collect())
}

fn first_value(client: &mut postgres::Client, query: &str) -> Result<String, Box<dyn Error>> {
    for message in client.simple_query(query)? {
        if let postgres::SimpleQueryMessage::Row(row) = message {
            return Ok(row.get(0).unwrap_or_default().to_owned());
        }
    }
    Err(format!("`{query}` returned no row").into())
}

/// The target for the programs: the server, and database `dbname` on it.
fn target_of(server: &TestServer, dbname: &str) -> Target {
    let config = server.config();
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        Some(postgres::config::Host::Tcp(name)) => name.clone(),
        None => "localhost".into(),
    };
    Target {
        host,
        port: server_port(server),
        user: config.get_user().unwrap_or("postgres").to_owned(),
        dbname: dbname.to_owned(),
    }
}

fn server_port(server: &TestServer) -> u16 {
    server.config().get_ports().first().copied().unwrap_or(5432)
}

fn upstream_of(server: &TestServer) -> Upstream {
    let port = server_port(server);
    match server.config().get_hosts().first() {
        Some(postgres::config::Host::Unix(dir)) => {
            Upstream::Unix(dir.join(format!(".s.PGSQL.{port}")))
        }
        Some(postgres::config::Host::Tcp(name)) => Upstream::Tcp(name.clone(), port),
        None => Upstream::Tcp("localhost".into(), port),
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The server's log file, where `log_statement = all` writes each simple
/// query and each extended-protocol execution as one entry. The throwaway
/// server writes it beside its data folder, as `server.log`.
struct ServerLog {
    path: PathBuf,
}

impl ServerLog {
    fn find(client: &mut postgres::Client) -> Option<ServerLog> {
        let data = first_value(client, "SHOW data_directory").ok()?;
        let path = Path::new(&data).parent()?.join("server.log");
        std::fs::metadata(&path).ok()?;
        Some(ServerLog { path })
    }

    fn len(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// The entries `statement: ...` and `execute <name>: ...` written after
    /// byte `offset`.
    fn statements_since(&self, offset: u64) -> std::io::Result<u64> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = std::fs::File::open(&self.path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        Ok(text
            .lines()
            .filter(|line| line.contains(" LOG:  statement: ") || line.contains(" LOG:  execute "))
            .count() as u64)
    }
}
