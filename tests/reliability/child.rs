//! Instances of a program that migrates at start-up: this test binary run
//! again as a child process, with `--exact child_process`, doing one thing
//! with a set of migrations (the fifty, or the concurrent index work of
//! `concurrent.rs`) over a connection of its own, through the driver the
//! parent names, and printing what came of it.
//!
//! A child of the blocking driver calls `run`, `resume`, `mark_applied` or
//! `forget` over a `postgres::Client`; a child of the async driver calls
//! `run_async` and the like over a `tokio_postgres::Client`, on a
//! current-thread tokio runtime of its own that drives the connection's
//! task. Both connect with the same settings and do the same thing.

use crate::common::Driver;
use postgres::{Config, NoTls};
use std::io::{BufRead, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use stowage::{Error, Report};

/// What a child does; its presence makes the test binary a child.
const ACTION_VAR: &str = "STOWAGE_RELIABILITY_ACTION";
/// The connection settings, as `key='value'` pairs.
const CONNINFO_VAR: &str = "STOWAGE_RELIABILITY_CONNINFO";
/// The driver a child migrates through: `sync` or `async`.
const DRIVER_VAR: &str = "STOWAGE_RELIABILITY_DRIVER";
/// When set, the child connects, then waits for a line on its input.
const WAIT_VAR: &str = "STOWAGE_RELIABILITY_WAIT_FOR_START";
/// The set of migrations the child runs: `fifty`, `concurrent` or `batch`.
const SET_VAR: &str = "STOWAGE_RELIABILITY_MIGRATIONS";

/// Marks the child's account of its run in its output.
const APPLIED: &str = "stowage-child applied:";
const ERROR_BEGIN: &str = "stowage-child error:";
const ERROR_END: &str = "stowage-child error ends";
/// The error as stowage serializes it, its typed parts, on one line.
const ERROR_JSON: &str = "stowage-child error as json:";
const REFUSED: &str = "stowage-child refused:";

/// Whether the server can be told to check for dead clients while a query
/// runs (PostgreSQL 14 and newer).
const CHECKS_FOR_DEAD_CLIENTS: &str = "SELECT current_setting('server_version_num')::int >= 140000";
/// The server learns that a client died when it next talks to it (the
/// default); this pins that, should the server be configured to check
/// sooner.
const NO_DEAD_CLIENT_CHECKS: &str = "SET client_connection_check_interval = 0";

/// The longest a child may take to finish once it may.
pub const FINISH_WITHIN: Duration = Duration::from_secs(120);

/// A set of migrations a child runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    /// The fifty of `tests/fixtures/reliability_fifty`.
    Fifty,
    /// The concurrent index work of `tests/fixtures/reliability_concurrent`.
    Concurrent,
    /// The fifty small transactional migrations of
    /// `tests/fixtures/reliability_batch`.
    Batch,
    /// The new set of `tests/fixtures/reliability_repeatables_new`.
    RepeatablesNew,
}

impl Set {
    pub fn migrations(self) -> stowage::Migrations {
        match self {
            Set::Fifty => crate::FIFTY,
            Set::Concurrent => crate::concurrent::CONCURRENT,
            Set::Batch => crate::batch::BATCH,
            Set::RepeatablesNew => crate::repeatables::NEW,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Set::Fifty => "fifty",
            Set::Concurrent => "concurrent",
            Set::Batch => "batch",
            Set::RepeatablesNew => "repeatables",
        }
    }

    fn parse(name: &str) -> Set {
        match name {
            "fifty" => Set::Fifty,
            "concurrent" => Set::Concurrent,
            "batch" => Set::Batch,
            "repeatables" => Set::RepeatablesNew,
            other => {
                panic!("{SET_VAR} must be fifty, concurrent, batch or repeatables, not {other:?}")
            }
        }
    }
}

/// What a child does with its migrations.
#[derive(Debug, Clone, Copy)]
enum Action {
    Run,
    /// A run that waits at most this long for the migration lock.
    RunWaiting(Duration),
    Resume,
    MarkApplied(i64),
    Forget(i64),
}

impl Action {
    fn parse(action: &str) -> Action {
        match action.split_once(':') {
            None if action == "run" => Action::Run,
            None if action == "resume" => Action::Resume,
            Some(("run_waiting", ms)) => {
                Action::RunWaiting(Duration::from_millis(ms.parse().unwrap()))
            }
            Some(("mark_applied", v)) => Action::MarkApplied(v.parse().unwrap()),
            Some(("forget", v)) => Action::Forget(v.parse().unwrap()),
            _ => panic!("unknown action {action:?}"),
        }
    }
}

/// The child's side: does what the parent asked, when this process is a
/// child; returns at once otherwise.
pub fn child_main() {
    let Ok(action) = std::env::var(ACTION_VAR) else {
        return;
    };
    if action == "refuse_stop" {
        refuse_stop();
        return;
    }
    let action = Action::parse(&action);
    let conninfo = std::env::var(CONNINFO_VAR).expect("the connection settings");
    let set = Set::parse(&std::env::var(SET_VAR).unwrap_or_else(|_| "fifty".to_owned()));
    let outcome = match std::env::var(DRIVER_VAR).as_deref() {
        Ok("sync") => blocking(&conninfo, set, action),
        Ok("async") => nonblocking(&conninfo, set, action),
        other => panic!("{DRIVER_VAR} must be sync or async, not {other:?}"),
    };
    match outcome {
        Ok(report) => {
            let versions: Vec<String> = report
                .applied()
                .iter()
                .map(|a| a.version().to_string())
                .collect();
            // On a line of its own: the harness has begun one, "test child_process ...".
            println!("\n{APPLIED} {}", versions.join(" "));
        }
        Err(e) => {
            let json = serde_json::to_string(&e).expect("the error as JSON");
            println!("\n{ERROR_BEGIN}\n{e}\n{ERROR_END}\n{ERROR_JSON} {json}");
            panic!("the run failed");
        }
    }
}

/// With `STOWAGE_RELIABILITY_WAIT_FOR_START`, waits for the parent's
/// signal; the child is connected and idle meanwhile.
fn wait_for_start() {
    if std::env::var_os(WAIT_VAR).is_some() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .expect("the start signal");
    }
}

/// Does `action` with `set` over a blocking `postgres::Client`.
fn blocking(conninfo: &str, set: Set, action: Action) -> Result<Report, Error> {
    let config = Config::from_str(conninfo).expect("valid connection settings");
    let mut client = config
        .connect(NoTls)
        .expect("a connection to the test database");
    let checks: bool = client
        .query_one(CHECKS_FOR_DEAD_CLIENTS, &[])
        .unwrap()
        .get(0);
    if checks {
        client.batch_execute(NO_DEAD_CLIENT_CHECKS).unwrap();
    }
    wait_for_start();
    let runner = set.migrations().runner();
    match action {
        Action::Run => runner.run(&mut client),
        Action::RunWaiting(wait) => runner.lock_wait_timeout(wait).run(&mut client),
        Action::Resume => runner.resume(&mut client),
        Action::MarkApplied(v) => runner
            .mark_applied(&mut client, v)
            .map(|_| Report::default()),
        Action::Forget(v) => runner.forget(&mut client, v).map(|()| Report::default()),
    }
}

/// Does `action` with `set` over an async `tokio_postgres::Client`, on a
/// tokio runtime of the child's own.
fn nonblocking(conninfo: &str, set: Set, action: Action) -> Result<Report, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let config = tokio_postgres::Config::from_str(conninfo).expect("valid connection settings");
    let mut client = runtime.block_on(async {
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .expect("a connection to the test database");
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("the connection ended: {e}");
            }
        });
        let checks: bool = client
            .query_one(CHECKS_FOR_DEAD_CLIENTS, &[])
            .await
            .unwrap()
            .get(0);
        if checks {
            client.batch_execute(NO_DEAD_CLIENT_CHECKS).await.unwrap();
        }
        client
    });
    wait_for_start();
    runtime.block_on(async {
        let runner = set.migrations().runner();
        match action {
            Action::Run => runner.run_async(&mut client).await,
            Action::RunWaiting(wait) => runner.lock_wait_timeout(wait).run_async(&mut client).await,
            Action::Resume => runner.resume_async(&mut client).await,
            Action::MarkApplied(v) => runner
                .mark_applied_async(&mut client, v)
                .await
                .map(|_| Report::default()),
            Action::Forget(v) => runner
                .forget_async(&mut client, v)
                .await
                .map(|()| Report::default()),
        }
    })
}

/// Asks the server of `DATABASE_URL` to stop and start, printing both
/// refusals.
fn refuse_stop() {
    let server = stowage::testing::TestServer::start().expect("the server of DATABASE_URL");
    assert!(!server.is_throwaway());
    let stop = server
        .stop_immediately()
        .expect_err("stopping must be refused");
    let start = server.start_again().expect_err("starting must be refused");
    println!("\n{REFUSED} {stop}\n{REFUSED} {start}");
}

/// The parent's side: one child process.
pub struct Instance {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    output: mpsc::Receiver<(String, String)>,
}

/// How a child ended.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Its exit status and everything it printed, for a message.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}):\nstdout:\n{}\nstderr:\n{}",
            self.name, self.status, self.stdout, self.stderr
        )
    }

    /// The versions the child reported applied; panics if it reported none.
    pub fn applied(&self) -> Vec<i64> {
        let line = self
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(APPLIED))
            .unwrap_or_else(|| panic!("reported no run: {}", self.describe()));
        line.split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect()
    }

    /// The error the child's run ended with, if it printed one.
    pub fn error(&self) -> Option<String> {
        let (_, rest) = self.stdout.split_once(&format!("{ERROR_BEGIN}\n"))?;
        let (error, _) = rest.split_once(&format!("\n{ERROR_END}"))?;
        Some(error.to_owned())
    }

    /// The error the child's run ended with, as stowage serializes it (its
    /// kind, typed parts and remedies), if it printed one.
    pub fn error_json(&self) -> Option<serde_json::Value> {
        let line = self
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(ERROR_JSON))?;
        Some(serde_json::from_str(line.trim()).expect("the child's error as JSON"))
    }

    /// The refusals the child printed.
    pub fn refusals(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix(REFUSED))
            .map(str::trim)
            .collect()
    }

    /// Panics unless the child exited 0; returns what it applied.
    pub fn succeeded(&self) -> Vec<i64> {
        assert!(self.status.success(), "failed: {}", self.describe());
        self.applied()
    }
}

impl Instance {
    /// Starts a child named `name` (its connection's `application_name`,
    /// by which the server's views show it) that does `action` with the
    /// migrations of `set` on the database of `config` through `driver`:
    /// `run`, `run_waiting:MS` (a run that waits at most MS milliseconds
    /// for the migration lock), `resume`, `mark_applied:V` or `forget:V`. With
    /// `wait_for_start`, it connects, then waits for [`Instance::go`].
    pub fn start(
        config: &Config,
        driver: Driver,
        set: Set,
        name: &str,
        action: &str,
        wait_for_start: bool,
    ) -> Instance {
        Instance::start_with(
            config,
            name,
            action,
            wait_for_start,
            &[(DRIVER_VAR, driver.name()), (SET_VAR, set.name())],
        )
    }

    /// A child with the environment variables `env`: [`Instance::start`]
    /// sets the driver there; `refuse_stop`, with `DATABASE_URL`, asks that
    /// server to stop and needs no driver.
    pub fn start_with(
        config: &Config,
        name: &str,
        action: &str,
        wait_for_start: bool,
        env: &[(&str, &str)],
    ) -> Instance {
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut command = Command::new(exe);
        command
            .args([
                "--exact",
                "child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ACTION_VAR, action)
            .env(CONNINFO_VAR, conninfo(config, name))
            .env_remove(DRIVER_VAR)
            .env_remove(SET_VAR)
            .env_remove(WAIT_VAR)
            .stdin(if wait_for_start {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if wait_for_start {
            command.env(WAIT_VAR, "1");
        }
        command.envs(env.iter().copied());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (send, output) = mpsc::channel();
        // Read both pipes to their end, which comes when the child exits.
        std::thread::spawn(move || {
            let err = std::thread::spawn(move || {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text);
                text
            });
            let mut out = String::new();
            let _ = stdout.read_to_string(&mut out);
            let _ = send.send((out, err.join().unwrap_or_default()));
        });
        Instance {
            name: name.to_owned(),
            child,
            stdin,
            output,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Lets a child started with `wait_for_start` go on.
    pub fn go(&mut self) {
        let mut stdin = self.stdin.take().expect("a child that waits for the start");
        stdin.write_all(b"go\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Whether the child has exited, and how, without waiting.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Kills the child with SIGKILL, as `kill -9` does, and reaps it.
    pub fn kill(mut self) {
        assert!(
            self.exited().is_none(),
            "{} exited before it could be killed",
            self.name
        );
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits, at most `within`, for the child to exit.
    pub fn finish(mut self, within: Duration) -> Outcome {
        let Ok((stdout, stderr)) = self.output.recv_timeout(within) else {
            panic!("{} did not finish within {within:?}", self.name);
        };
        Outcome {
            status: self.child.wait().unwrap(),
            name: self.name.clone(),
            stdout,
            stderr,
        }
    }

    /// What the child printed so far, for a message; only once it exited.
    pub fn output_if_exited(&mut self) -> Option<String> {
        let status = self.exited()?;
        let (out, err) = self
            .output
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_default();
        Some(format!("{status}\nstdout:\n{out}\nstderr:\n{err}"))
    }
}

impl Drop for Instance {
    /// A child left running by a test that failed is killed.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits for every child, at most `within` in all.
pub fn finish_all(instances: Vec<Instance>, within: Duration) -> Vec<Outcome> {
    let deadline = Instant::now() + within;
    instances
        .into_iter()
        .map(|i| i.finish(deadline.saturating_duration_since(Instant::now())))
        .collect()
}

/// `config` as `key='value'` pairs, with `application_name` set to `name`.
pub fn conninfo(config: &Config, name: &str) -> String {
    fn quote(value: &str) -> String {
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
    }
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    let mut pairs = vec![("application_name", name.to_owned())];
    if !hosts.is_empty() {
        pairs.push(("host", hosts.join(",")));
    }
    if !ports.is_empty() {
        pairs.push(("port", ports.join(",")));
    }
    if let Some(user) = config.get_user() {
        pairs.push(("user", user.to_owned()));
    }
    if let Some(password) = config.get_password() {
        pairs.push(("password", String::from_utf8_lossy(password).into_owned()));
    }
    if let Some(dbname) = config.get_dbname() {
        pairs.push(("dbname", dbname.to_owned()));
    }
    if let Some(options) = config.get_options() {
        pairs.push(("options", options.to_owned()));
    }
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", quote(&v)))
        .collect::<Vec<_>>()
        .join(" ")
}
