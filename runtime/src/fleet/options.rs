//! A fleet: its members (a database, or schemas of one, each with a runner)
//! and how it rolls out over their targets.

use crate::data::error::Error;
use crate::data::fleet::Schemas;
use crate::rules::rollout::Policy;
use crate::runner::options::Runner;
use std::fmt;

/// Many targets migrated as one: schemas of a database (tenants), several
/// databases (shards, a primary and a data database), or both, each target
/// with its own tracking table, lock and history, any number at once, with
/// one report for all.
///
/// A fleet is built from members, each with the [`Runner`] (migrations
/// and options) its targets get:
///
/// - [`schemas`](Fleet::schemas): schemas of one database, listed, matching
///   a pattern, or named by a query ([`Schemas`]). Each target's calls run
///   with `search_path` set to its schema (created when a run finds it
///   missing), followed by the connection's own `search_path`, so that
///   extensions installed in `public` still resolve; its tracking table is
///   the runner's, placed in its schema (a runner whose table names a
///   schema is refused).
/// - [`database`](Fleet::database): a database of its own, as a single
///   call would migrate it.
///
/// A database is whatever the program connects with: a connection string,
/// a `postgres::Config`, a value of its own. The fleet's calls take the
/// program's connect function, with its TLS setup, and call it for each
/// connection they need; each connection serves one target at a time, and
/// each target starts from a clean session (as `DISCARD ALL` leaves it), so
/// settings a fleet's connections need belong in the connection string or
/// the role's settings, not in a `SET` after connecting.
///
/// ```
/// use stowage::{Fleet, Schemas};
/// static TENANT: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// static ANALYTICS: stowage::Migrations = stowage::embed_migrations!("../tests/fixtures/base");
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = stowage::testing::TestServer::shared()?;
/// # let (app, data) = (server.create_database()?, server.create_database()?);
/// # let (app_url, data_url) = (app.config().clone(), data.config().clone());
/// let fleet = Fleet::new()
///     .schemas("app", app_url, Schemas::listed(["tenant_1", "tenant_2", "tenant_3"]), TENANT.runner())
///     .database("data", data_url, ANALYTICS.runner())
///     .jobs(4) // four targets at once, over four connections
///     .canary(1); // the first target alone first; if it fails, nothing else starts
/// let report = fleet.run(|config: &postgres::Config| config.connect(postgres::NoTls))?;
/// print!("{report}");
/// assert!(report.is_ok());
/// println!("{}", fleet.status(|config| config.connect(postgres::NoTls))?.health().ok);
/// # Ok(())
/// # }
/// ```
///
/// A run stops starting targets at the first failure (those that run by
/// then run to their end) unless told to [`keep_going`](Fleet::keep_going);
/// the report says, for each target, what it applied, that it was up to
/// date, its error, or that it was not started. A target whose database
/// cannot be reached is reported and stops nothing, unless
/// [`stop_when_unreachable`](Fleet::stop_when_unreachable). Reads
/// (`status`, `plan`, `verify`) go through every target.
///
/// Before starting any target, a run, like every call, reads in one query
/// the digest of every schema's history (a bounded number of tables per
/// transaction, within the server's lock table): a schema found up to date
/// costs nothing more, so a start with 1,000 tenants up to date takes a
/// few round trips.
#[must_use = "a fleet does nothing until one of its calls is made"]
pub struct Fleet<D> {
    pub(crate) members: Vec<Member<D>>,
    pub(crate) policy: Policy,
}

/// A database, or schemas of one, with the runner their targets get.
pub(crate) struct Member<D> {
    /// The name the fleet gives the database, in reports.
    pub name: String,
    pub database: D,
    pub runner: Runner,
    /// The schemas, for a fleet of schemas.
    pub schemas: Option<Schemas>,
}

impl<D> Fleet<D> {
    /// An empty fleet: one target at a time, stopping at the first failure,
    /// no canary.
    pub fn new() -> Self {
        Fleet {
            members: Vec::new(),
            policy: Policy {
                jobs: 1,
                canary: 0,
                keep_going: false,
                unreachable_stops: false,
            },
        }
    }

    /// Adds database `database`, named `name` in reports, as one target
    /// migrated by `runner`.
    pub fn database(mut self, name: impl Into<String>, database: D, runner: Runner) -> Self {
        self.members.push(Member {
            name: name.into(),
            database,
            runner: runner.in_fleet(),
            schemas: None,
        });
        self
    }

    /// Adds the `schemas` of database `database`, named `name` in reports,
    /// each a target migrated by `runner`, in the schemas' order.
    pub fn schemas(
        mut self,
        name: impl Into<String>,
        database: D,
        schemas: Schemas,
        runner: Runner,
    ) -> Self {
        self.members.push(Member {
            name: name.into(),
            database,
            runner: runner.in_fleet(),
            schemas: Some(schemas),
        });
        self
    }

    /// How many targets are migrated at once, each over a connection of its
    /// own (at least 1). Default: 1.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.policy.jobs = jobs.max(1);
        self
    }

    /// Goes on starting targets after one fails, and reports every failure.
    /// Default: stop at the first failure.
    pub fn keep_going(mut self, keep_going: bool) -> Self {
        self.policy.keep_going = keep_going;
        self
    }

    /// Migrates the first `canaries` targets the fleet starts first (up to
    /// [`jobs`](Fleet::jobs) at once; schemas found up to date are not
    /// started, so they are no canaries), and starts no other until they
    /// all ended well: if one fails, the rollout stops there, whatever
    /// [`keep_going`](Fleet::keep_going) says. Default: 0.
    pub fn canary(mut self, canaries: usize) -> Self {
        self.policy.canary = canaries;
        self
    }

    /// Counts a target whose database cannot be reached as a failure (the
    /// rollout then stops at it, unless it keeps going). Default: it is
    /// reported, and the others go on.
    pub fn stop_when_unreachable(mut self, stop: bool) -> Self {
        self.policy.unreachable_stops = stop;
        self
    }

    /// Refuses what would fail for every target: a runner's option
    /// PostgreSQL cannot take, a target version the binary lacks, a
    /// tracking table that names a schema for a fleet of schemas.
    pub(crate) fn check(&self) -> Result<(), Error> {
        for member in &self.members {
            member.runner.timeouts()?;
            member.runner.check_target()?;
            if member.schemas.is_some() {
                member.runner.table_for_schemas()?;
            } else {
                member.runner.table_name()?;
            }
        }
        Ok(())
    }
}

impl<D> Default for Fleet<D> {
    fn default() -> Self {
        Fleet::new()
    }
}

impl<D> fmt::Debug for Fleet<D> {
    /// The members without their databases, which may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Shown<'a, D>(&'a Member<D>);
        impl<D> fmt::Debug for Shown<'_, D> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct("Member")
                    .field("name", &self.0.name)
                    .field("schemas", &self.0.schemas)
                    .field("runner", &self.0.runner)
                    .finish_non_exhaustive()
            }
        }
        f.debug_struct("Fleet")
            .field(
                "members",
                &self.members.iter().map(Shown).collect::<Vec<_>>(),
            )
            .field("policy", &self.policy)
            .finish()
    }
}
