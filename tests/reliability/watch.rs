//! Waiting for the server to reach a state, by watching its views
//! (`pg_stat_activity`, `pg_locks`), never by sleeping. Every wait polls
//! through [`common::wait_until`] (every 10 ms, for at most a minute) and
//! panics saying what it waited for and what the sessions of the database
//! were doing.
//!
//! The watching connection is a blocking one (`Conn::Sync`): it is not
//! what is tested. What migrates runs over the test's driver.

use crate::child::{self, Instance, Set};
use crate::common::{self, Conn, Driver};
use crate::gate::Gate;
use postgres::types::ToSql;
use postgres::Config;
use std::str::FromStr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What migrates while the test watches: a child process or a thread. A
/// wait gives up at once when it ends.
pub trait Migrator {
    /// The `application_name` of its connection.
    fn name(&self) -> &str;
    /// How it ended, if it has.
    fn ended(&mut self) -> Option<String>;
}

impl Migrator for Instance {
    fn name(&self) -> &str {
        Instance::name(self)
    }

    fn ended(&mut self) -> Option<String> {
        self.output_if_exited()
    }
}

/// A connection named `name` to the database of `config`, over `driver`,
/// made from the settings a child process is given; an async one lives on
/// the tests' shared tokio runtime.
pub fn connect(config: &Config, name: &str, driver: Driver) -> Conn {
    let conninfo = child::conninfo(config, name);
    match driver {
        Driver::Sync => Conn::Sync(
            Config::from_str(&conninfo)
                .expect("valid connection settings")
                .connect(postgres::NoTls)
                .unwrap_or_else(|e| panic!("{name} cannot connect: {e}")),
        ),
        Driver::Async => {
            let config =
                tokio_postgres::Config::from_str(&conninfo).expect("valid connection settings");
            let (client, connection) = common::runtime()
                .block_on(config.connect(tokio_postgres::NoTls))
                .unwrap_or_else(|e| panic!("{name} cannot connect: {e}"));
            common::runtime().spawn(async move {
                // It ends with an error when the connection is cut.
                let _ = connection.await;
            });
            Conn::Async(client)
        }
    }
}

/// A run of a set of migrations in a thread of the test, on a connection
/// of its own named `name`, over the test's driver.
pub struct ThreadRun {
    name: &'static str,
    handle: JoinHandle<()>,
    result: mpsc::Receiver<Result<stowage::Report, stowage::Error>>,
}

impl ThreadRun {
    /// Connects to the database of `config` as `name` over `driver`, and
    /// starts the run of the migrations of `set`.
    pub fn start(config: &Config, name: &'static str, driver: Driver, set: Set) -> ThreadRun {
        let mut conn = connect(config, name, driver);
        let (send, result) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            let _ = send.send(conn.run(set.migrations().runner()));
        });
        ThreadRun {
            name,
            handle,
            result,
        }
    }

    /// What the run returned, waiting for it at most [`AT_MOST`].
    pub fn finish(self) -> Result<stowage::Report, stowage::Error> {
        self.result
            .recv_timeout(AT_MOST)
            .unwrap_or_else(|_| panic!("the run in a thread did not end within {AT_MOST:?}"))
    }
}

impl Migrator for ThreadRun {
    fn name(&self) -> &str {
        self.name
    }

    fn ended(&mut self) -> Option<String> {
        self.handle
            .is_finished()
            .then(|| "its run returned".to_owned())
    }
}

/// The longest any state is waited for: the minute of
/// [`common::wait_until`].
const AT_MOST: Duration = Duration::from_secs(60);

/// Asks `probe` until it answers, pausing between tries, at most
/// [`AT_MOST`]; gives up at once if `migrator` ends meanwhile.
pub fn until<T>(
    client: &mut Conn,
    what: &str,
    mut migrator: Option<&mut dyn Migrator>,
    mut probe: impl FnMut(&mut Conn) -> Option<T>,
) -> T {
    // Set before `wait_until` sets its own, so it passes first and the
    // panic lists the sessions.
    let deadline = Instant::now() + AT_MOST;
    common::wait_until(what, || {
        if let Some(found) = probe(client) {
            return Some(found);
        }
        if let Some(migrator) = migrator.as_deref_mut() {
            if let Some(how) = migrator.ended() {
                panic!(
                    "waiting until {what}, {} ended: {how}\nsessions:\n{}",
                    migrator.name(),
                    activity(client)
                );
            }
        }
        assert!(
            Instant::now() < deadline,
            "waited {AT_MOST:?} in vain until {what}; sessions:\n{}",
            activity(client)
        );
        None
    })
}

/// The sessions of the database, one per line, for a message.
pub fn activity(client: &mut Conn) -> String {
    client
        .query(
            "SELECT format('%s %s %s %s/%s blocked by %s: %s', pid, application_name, state, \
             wait_event_type, wait_event, pg_blocking_pids(pid), left(query, 300)) \
             FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .map(|rows| {
            rows.iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_else(|e| format!("(cannot read pg_stat_activity: {e})"))
}

/// Waits until the session of `migrator` is blocked by `gate` in a query
/// that holds `part`; returns its server process id.
pub fn blocked(client: &mut Conn, migrator: &mut dyn Migrator, gate: &Gate, part: &str) -> i32 {
    let name = migrator.name().to_owned();
    let what = format!("{name} is blocked by the gate {} at {part:?}", gate.what());
    until(client, &what, Some(migrator), |client| {
        client
            .query_opt(
                "SELECT pid FROM (SELECT pid, query FROM pg_stat_activity \
                   WHERE datname = current_database() AND application_name = $1 \
                   AND wait_event_type = 'Lock' OFFSET 0) s \
                 WHERE $2 = ANY(pg_blocking_pids(pid)) AND strpos(query, $3) > 0",
                &[&name, &gate.pid(), &part],
            )
            .unwrap()
            .map(|r| r.get(0))
    })
}

/// Waits until the session of `migrator` is blocked by `gate` in migration
/// `version`, a transactional one; returns its server process id.
///
/// Consecutive transactional migrations travel in one message, which
/// `pg_stat_activity` shows from its start, cut at
/// `track_activity_query_size`: where in it the session waits, the tracking
/// table tells, each migration being committed with its row before the
/// next begins. Blocked in `version`, the session has recorded migrations 1
/// to `version - 1`, and no other; and while the gate holds, it cannot pass.
pub fn blocked_in(
    client: &mut Conn,
    migrator: &mut dyn Migrator,
    gate: &Gate,
    version: i64,
) -> i32 {
    let name = migrator.name().to_owned();
    let what = format!("{name} is blocked by the gate {}", gate.what());
    let pid = until(client, &what, Some(migrator), |client| {
        client
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = $1 AND wait_event_type = 'Lock' \
                 AND $2 = ANY(pg_blocking_pids(pid))",
                &[&name, &gate.pid()],
            )
            .unwrap()
            .map(|r| r.get(0))
    });
    let rows: Vec<(i64, bool)> = common::tracked(client, "public.stowage_migrations")
        .iter()
        .map(|r| (r.version, r.success))
        .collect();
    assert_eq!(
        rows,
        (1..version).map(|v| (v, true)).collect::<Vec<_>>(),
        "{what}, but not in migration {version}: the tracking table does not hold 1 to {} alone",
        version - 1
    );
    pid
}

/// Waits until the session of `instance` has asked for the migration lock
/// and been refused, so that it is polling for it; returns its process id.
pub fn polling_for_lock(client: &mut Conn, instance: &mut Instance) -> i32 {
    let name = instance.name().to_owned();
    let what = format!("{name} is waiting for the migration lock");
    until(
        client,
        &what,
        Some(instance as &mut dyn Migrator),
        |client| {
            client
                .query_opt(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                     AND application_name = $1 AND strpos(query, 'pg_try_advisory_lock(') > 0",
                    &[&name],
                )
                .unwrap()
                .map(|r| r.get(0))
        },
    )
}

/// Waits until `count`, a query that counts sessions in `pg_stat_activity`
/// with one parameter, gives a number that `enough` accepts.
fn until_counted(
    client: &mut Conn,
    what: &str,
    count: &str,
    param: &(dyn ToSql + Sync),
    enough: impl Fn(i64) -> bool,
) {
    until(client, what, None, |client| {
        let counted: i64 = client.query_one(count, &[param]).unwrap().get(0);
        enough(counted).then_some(())
    });
}

/// Waits until server process `pid` has ended: the server noticed that
/// its client is gone.
pub fn gone(client: &mut Conn, pid: i32) {
    until_counted(
        client,
        &format!("server process {pid} has ended"),
        "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
        &pid,
        |live| live == 0,
    );
}

/// Waits until no session named `name` is left: the server noticed that
/// their client is gone.
pub fn all_gone(client: &mut Conn, name: &str) {
    until_counted(
        client,
        &format!("the server processes of {name} have ended"),
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name = $1",
        &name,
        |live| live == 0,
    );
}

/// Waits until `count` sessions whose name starts with `prefix` are
/// connected and idle.
pub fn connected(client: &mut Conn, prefix: &str, count: i64) {
    until_counted(
        client,
        &format!("{count} sessions named {prefix}* are connected"),
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND starts_with(application_name, $1) AND state = 'idle'",
        &prefix,
        |idle| idle >= count,
    );
}

/// The server processes holding an advisory lock in the database: the
/// locks [`common::ADVISORY_LOCKS`] counts, by holder.
pub fn advisory_lock_holders(client: &mut Conn) -> Vec<i32> {
    let query = common::ADVISORY_LOCKS.replacen("SELECT count(*)", "SELECT pid", 1);
    assert_ne!(query, common::ADVISORY_LOCKS, "{query}");
    client
        .query(&format!("{query} ORDER BY pid"), &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}
