//! A fleet's call, written once for both drivers: its targets found (the
//! schemas selected, and those up to date read in one query), then each
//! other target given to a worker (a thread, or a task) with a connection,
//! in the order the rollout says, and the outcomes gathered in the fleet's
//! order. A target's call is the single target's own, after its session is
//! made ready.

use crate::conversation::connection::Connection;
use crate::data::drift::SchemaCheck;
use crate::data::error::{DbError, Error};
use crate::data::fleet::{
    FleetReport, Migrated, Target, TargetOutcome, TargetReport, TargetStatus,
};
use crate::data::plan::Plan;
use crate::data::verification::Verification;
use crate::fleet::options::{Fleet, Member};
use crate::operations::{schema, status};
use crate::rules::rollout::{Ended, Policy, Rollout};
use crate::runner::options::Runner;
use crate::runner::run;
use crate::steps::{quick_check, schemas, session};
use std::future::Future;
use tracing::Instrument;

/// A call a fleet makes on each target.
pub(crate) trait Operation: Copy + Send + Sync + 'static {
    /// What it gives for one target.
    type Line: Send + 'static;
    /// Whether it writes: a target's missing schema is then created first.
    const WRITES: bool;
    /// Whether the fleet's rollout applies (stopping at a failure, the
    /// canaries); a read goes through every target.
    const ROLLS_OUT: bool;

    /// The call, on a session made ready for the target of `runner`.
    fn call<C: Connection>(
        self,
        runner: &Runner,
        conn: &mut C,
    ) -> impl Future<Output = Result<Self::Line, Error>> + Send;

    /// What the call gives for a target whose history is exactly the
    /// binary's migrations, all successful, as the quick check found;
    /// `None` when the call must read the target all the same.
    fn up_to_date(self, runner: &Runner) -> Option<Result<Self::Line, Error>>;
}

/// A run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run;

impl Operation for Run {
    type Line = Migrated;
    const WRITES: bool = true;
    const ROLLS_OUT: bool = true;

    async fn call<C: Connection>(self, runner: &Runner, conn: &mut C) -> Result<Migrated, Error> {
        run::run(runner, conn, runner.allow)
            .await
            .map(|report| Migrated::from(&report))
    }

    fn up_to_date(self, runner: &Runner) -> Option<Result<Migrated, Error>> {
        Some(Ok(Migrated::from(&run::up_to_date(runner))))
    }
}

/// A status.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Status;

impl Operation for Status {
    type Line = TargetStatus;
    const WRITES: bool = false;
    const ROLLS_OUT: bool = false;

    async fn call<C: Connection>(
        self,
        runner: &Runner,
        conn: &mut C,
    ) -> Result<TargetStatus, Error> {
        status::status(runner, conn)
            .await
            .map(|status| TargetStatus::from(&status))
    }

    /// The status of each repeatable migration is read from the target.
    fn up_to_date(self, runner: &Runner) -> Option<Result<TargetStatus, Error>> {
        let versioned_only = runner.migrations.repeatables().len() == 0;
        versioned_only.then(|| Ok(TargetStatus::up_to_date(runner.migrations)))
    }
}

/// A plan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Planning;

impl Operation for Planning {
    type Line = Plan;
    const WRITES: bool = false;
    const ROLLS_OUT: bool = false;

    async fn call<C: Connection>(self, runner: &Runner, conn: &mut C) -> Result<Plan, Error> {
        status::plan(runner, conn).await
    }

    fn up_to_date(self, _: &Runner) -> Option<Result<Plan, Error>> {
        Some(Ok(Plan::default()))
    }
}

/// A verification.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verify;

impl Operation for Verify {
    type Line = Verification;
    const WRITES: bool = false;
    const ROLLS_OUT: bool = false;

    async fn call<C: Connection>(
        self,
        runner: &Runner,
        conn: &mut C,
    ) -> Result<Verification, Error> {
        status::verify(runner, conn).await
    }

    /// The status of each repeatable migration is read from the target.
    fn up_to_date(self, runner: &Runner) -> Option<Result<Verification, Error>> {
        if runner.migrations.repeatables().len() > 0 {
            return None;
        }
        Some(runner.table_name().map(|table| {
            Verification::up_to_date(
                table.schema.unwrap_or_default(),
                table.table,
                runner.migrations,
            )
        }))
    }
}

/// A schema check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CheckSchema;

impl Operation for CheckSchema {
    type Line = SchemaCheck;
    const WRITES: bool = false;
    const ROLLS_OUT: bool = false;

    async fn call<C: Connection>(
        self,
        runner: &Runner,
        conn: &mut C,
    ) -> Result<SchemaCheck, Error> {
        schema::check_schema(runner, conn).await
    }

    /// The catalog is read from every target.
    fn up_to_date(self, _: &Runner) -> Option<Result<SchemaCheck, Error>> {
        None
    }
}

/// One target's call, for a worker.
#[derive(Debug)]
pub(crate) struct Job<O> {
    /// Its place in the rollout.
    pub place: usize,
    /// The member it belongs to, whose database it connects to.
    pub member: usize,
    pub op: O,
    pub target: Target,
    /// The runner, placed in the target's schema.
    pub runner: Runner,
    pub schema: Option<String>,
    /// Whether its schema is to be created.
    pub create_schema: bool,
}

/// A target's call that ended, with the connection it used, if still open.
#[derive(Debug)]
pub(crate) struct Finished<C, L> {
    pub place: usize,
    pub member: usize,
    pub conn: Option<C>,
    pub outcome: TargetOutcome<L>,
}

/// The threads, or the tasks, that run targets' calls at once: what a
/// driver brings to a fleet.
pub(crate) trait Workers<O: Operation> {
    type Conn: Connection;

    /// A connection to the database of member `member`, made here.
    fn connect(&mut self, member: usize) -> impl Future<Output = Result<Self::Conn, DbError>>;

    /// Starts `job` on a worker of its own, over `conn` or, without one,
    /// over a connection the worker makes to the member's database; its
    /// end is told by [`finished`](Workers::finished).
    fn start(&mut self, job: Job<O>, conn: Option<Self::Conn>);

    /// The next call to end; `None` when none runs.
    fn finished(&mut self) -> impl Future<Output = Option<Finished<Self::Conn, O::Line>>>;
}

/// A worker's part: makes the session ready for the target, then makes
/// the call.
pub(crate) async fn work<C: Connection, O: Operation>(
    job: Job<O>,
    conn: Result<C, DbError>,
) -> Finished<C, O::Line> {
    let span = tracing::info_span!("stowage_target", target = %job.target);
    let mut conn = match conn {
        Ok(conn) => conn,
        Err(e) => {
            return Finished {
                place: job.place,
                member: job.member,
                conn: None,
                outcome: TargetOutcome::Unreachable(Error::database(
                    "connecting to the target's database",
                )(e)),
            };
        }
    };
    let outcome = async {
        session::prepare(&mut conn, job.schema.as_deref(), job.create_schema).await?;
        job.op.call(&job.runner, &mut conn).await
    }
    .instrument(span)
    .await;
    Finished {
        place: job.place,
        member: job.member,
        conn: (!conn.is_closed()).then_some(conn),
        outcome: match outcome {
            Ok(line) => TargetOutcome::Done(line),
            Err(e) => TargetOutcome::Failed(e),
        },
    }
}

/// Makes the session of `conn` ready for the one target of `runner` in
/// `schema`, as a fleet makes it for each of its own (the schema created
/// first, for a call that `writes`, if it is missing); returns the runner
/// placed in the schema.
#[cfg(feature = "cli")]
pub(crate) async fn prepare_one<C: Connection>(
    conn: &mut C,
    runner: &Runner,
    schema: &str,
    writes: bool,
) -> Result<Runner, Error> {
    runner.table_for_schemas()?;
    let placed = runner.clone().in_schema(schema);
    let table = placed.table_name()?.table;
    let listed = crate::data::fleet::Schemas::Listed(vec![schema.to_owned()]);
    let exists = !schemas::select(conn, &listed, &table)
        .await?
        .found
        .is_empty();
    session::prepare(conn, Some(schema), writes && !exists).await?;
    Ok(placed)
}

/// How a target ended, for the rollout.
fn ended<L>(outcome: &TargetOutcome<L>) -> Ended {
    match outcome {
        TargetOutcome::Done(_) => Ended::Done,
        TargetOutcome::Unreachable(_) => Ended::Unreachable,
        TargetOutcome::Failed(_) | TargetOutcome::NotStarted => Ended::Failed,
    }
}

/// The fleet's targets in order, with the outcome of those known before
/// the rollout, and the calls of the others.
struct Found<C, O: Operation> {
    targets: Vec<Target>,
    outcomes: Vec<Option<TargetOutcome<O::Line>>>,
    /// The calls to make, in the fleet's order, with their targets' places.
    jobs: Vec<(usize, Job<O>)>,
    /// Connections made to find the targets, which have served none yet.
    idle: Vec<Idle<C>>,
    /// A member's targets could not be found: a failure before the rollout.
    failed: bool,
    unreachable: bool,
}

/// An open connection waiting for a target of its member.
struct Idle<C> {
    /// The member whose database it is connected to.
    member: usize,
    conn: C,
    /// How many targets it has served.
    served: usize,
}

/// How many targets one connection serves before the fleet closes it and
/// opens another: a server process keeps in its caches every relation it
/// has touched, and with thousands of tenants behind one connection each
/// migration grows slower (BENCHMARKS.md, "Fleets"). A new connection costs
/// a few milliseconds.
pub(crate) const TARGETS_PER_CONNECTION: usize = 100;

/// Makes `op` on every target of `fleet`, with `workers`.
pub(crate) async fn drive<D, O: Operation, W: Workers<O>>(
    fleet: &Fleet<D>,
    op: O,
    workers: &mut W,
) -> Result<FleetReport<O::Line>, Error> {
    fleet.check()?;
    let Found {
        targets,
        mut outcomes,
        jobs,
        mut idle,
        failed,
        unreachable,
    } = find(fleet, op, workers).await?;
    let policy = if O::ROLLS_OUT {
        fleet.policy
    } else {
        Policy {
            canary: 0,
            keep_going: true,
            unreachable_stops: false,
            ..fleet.policy
        }
    };
    let mut rollout = Rollout::new(policy, jobs.len());
    if O::ROLLS_OUT && ((failed && !policy.keep_going) || (unreachable && policy.unreachable_stops))
    {
        rollout.stop();
    }
    let places: Vec<usize> = jobs.iter().map(|(index, _)| *index).collect();
    let mut jobs: Vec<Option<Job<O>>> = jobs.into_iter().map(|(_, job)| Some(job)).collect();
    // By place, how many targets the connection a call was given had
    // served before it.
    let mut served = vec![0; jobs.len()];
    loop {
        while let Some(place) = rollout.start() {
            let Some(job) = jobs.get_mut(place).and_then(Option::take) else {
                continue;
            };
            let conn = match idle.iter().position(|i| i.member == job.member) {
                Some(at) => {
                    let waiting = idle.remove(at);
                    if let Some(slot) = served.get_mut(job.place) {
                        *slot = waiting.served;
                    }
                    Some(waiting.conn)
                }
                None => {
                    // The connections open, idle or in use, stay within `jobs`.
                    while !idle.is_empty() && idle.len() + rollout.running() > policy.jobs {
                        idle.remove(0);
                    }
                    None
                }
            };
            workers.start(job, conn);
        }
        if rollout.running() == 0 {
            break;
        }
        let Some(finished) = workers.finished().await else {
            break;
        };
        rollout.ended(finished.place, ended(&finished.outcome));
        if let Some(slot) = places
            .get(finished.place)
            .and_then(|i| outcomes.get_mut(*i))
        {
            *slot = Some(finished.outcome);
        }
        if let Some(conn) = finished.conn {
            let count = served.get(finished.place).copied().unwrap_or(0) + 1;
            if count < TARGETS_PER_CONNECTION {
                idle.push(Idle {
                    member: finished.member,
                    conn,
                    served: count,
                });
            }
        }
    }
    Ok(FleetReport {
        targets: targets
            .into_iter()
            .zip(outcomes)
            .map(|(target, outcome)| TargetReport {
                target,
                outcome: outcome.unwrap_or(TargetOutcome::NotStarted),
            })
            .collect(),
    })
}

/// Finds the targets of every member, in order: a database is one; the
/// schemas of one are selected over a connection to it, and those whose
/// history the quick check finds up to date get their outcome at once.
async fn find<D, O: Operation, W: Workers<O>>(
    fleet: &Fleet<D>,
    op: O,
    workers: &mut W,
) -> Result<Found<W::Conn, O>, Error> {
    let mut found = Found {
        targets: Vec::new(),
        outcomes: Vec::new(),
        jobs: Vec::new(),
        idle: Vec::new(),
        failed: false,
        unreachable: false,
    };
    for (m, member) in fleet.members.iter().enumerate() {
        let Some(selection) = &member.schemas else {
            let target = target_of(member, None);
            found.call(m, op, target, member.runner.clone(), None, false);
            continue;
        };
        let whole = target_of(member, None);
        let mut conn = match workers.connect(m).await {
            Ok(conn) => conn,
            Err(e) => {
                found.unreachable = true;
                let error = Error::database("connecting to the database of the schemas")(e);
                found.known(whole, TargetOutcome::Unreachable(error));
                continue;
            }
        };
        let table = member.runner.table_name()?.table;
        let selected = match schemas::select(&mut conn, selection, &table).await {
            Ok(selected) => selected,
            Err(e) => {
                found.failed = true;
                found.known(whole, TargetOutcome::Failed(e));
                found.keep(m, conn, fleet.policy.jobs);
                continue;
            }
        };
        let seen: Vec<_> = selected
            .names
            .iter()
            .filter_map(|name| selected.found.get(name))
            .collect();
        let up_to_date =
            quick_check::up_to_date_schemas(&mut conn, &seen, member.runner.migrations)
                .await
                .unwrap_or_else(|e| {
                    tracing::debug!(error = %e, "could not check the schemas' digests");
                    Default::default()
                });
        for name in selected.names {
            let target = target_of(member, Some(&name));
            let runner = member.runner.clone().in_schema(&name);
            let known = match runner.table_name() {
                Err(e) => Some(Err(e)),
                Ok(_) if up_to_date.contains(&name) => op.up_to_date(&runner),
                Ok(_) => None,
            };
            if let Some(line) = known {
                found.known(
                    target,
                    line.map_or_else(TargetOutcome::Failed, TargetOutcome::Done),
                );
            } else {
                let create = O::WRITES && !selected.found.contains_key(&name);
                found.call(m, op, target, runner, Some(name), create);
            }
        }
        found.keep(m, conn, fleet.policy.jobs);
    }
    Ok(found)
}

impl<C: Connection, O: Operation> Found<C, O> {
    /// A target whose outcome is known before the rollout.
    fn known(&mut self, target: Target, outcome: TargetOutcome<O::Line>) {
        self.targets.push(target);
        self.outcomes.push(Some(outcome));
    }

    /// A target to make the call on.
    fn call(
        &mut self,
        member: usize,
        op: O,
        target: Target,
        runner: Runner,
        schema: Option<String>,
        create_schema: bool,
    ) {
        let index = self.targets.len();
        self.jobs.push((
            index,
            Job {
                place: self.jobs.len(),
                member,
                op,
                target: target.clone(),
                runner,
                schema,
                create_schema,
            },
        ));
        self.targets.push(target);
        self.outcomes.push(None);
    }

    /// Keeps a connection to member `member` for its targets, at most
    /// `jobs` in all.
    fn keep(&mut self, member: usize, conn: C, jobs: usize) {
        if conn.is_closed() {
            return;
        }
        if self.idle.len() >= jobs {
            self.idle.remove(0);
        }
        self.idle.push(Idle {
            member,
            conn,
            served: 0,
        });
    }
}

/// The target of `member` in `schema`, or the member's database itself.
fn target_of<D>(member: &Member<D>, schema: Option<&str>) -> Target {
    Target {
        database: member.name.clone(),
        schema: schema.map(str::to_owned),
        table: member.runner.given_table().map(str::to_owned),
    }
}
