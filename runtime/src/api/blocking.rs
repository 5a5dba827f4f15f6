//! The calls over a blocking `postgres::Client`: each drives the engine's
//! call to its end on the caller's thread.

use crate::conversation::blocking::block_on;
use crate::data::drift::SchemaCheck;
use crate::data::error::Error;
use crate::data::fleet::{FleetReport, FleetStatus, Migrated};
use crate::data::plan::Plan;
use crate::data::registry::Migrations;
use crate::data::report::Report;
use crate::data::status::{Health, Status};
use crate::data::verification::Verification;
use crate::fleet::engine::{CheckSchema, Planning, Run, Status as StatusCall, Verify};
use crate::fleet::options::Fleet;
use crate::fleet::threads;
use crate::operations::{mend, reapply, rollback, schema, status};
use crate::rules::classify::Allow;
use crate::runner::options::Runner;
use crate::runner::run;
use postgres::Client;
use tracing::Instrument;

#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl Migrations {
    /// Applies every pending migration with the default options; see
    /// [`Runner::run`].
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// let report = MIGRATIONS.run(&mut client)?;
    /// println!("{report}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn run(&self, client: &mut Client) -> Result<Report, Error> {
        self.runner().run(client)
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl Runner {
    /// Applies every pending migration, each in its own transaction with its
    /// tracking row, in version order, and stops at the first failure.
    ///
    /// Before anything is applied the recorded history is checked against
    /// the binary, and every disagreement is reported at once
    /// ([`Error::History`]). A start with nothing to do reads one row (the
    /// digest of the history, kept in `stowage_digest`) and takes no lock;
    /// otherwise the run takes the migration lock, reads the history, and
    /// releases the lock when it ends, however it ends.
    ///
    /// ```
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = stowage::testing::TestServer::shared()?;
    /// # let db = server.create_database()?;
    /// # let mut client = db.connect()?;
    /// let report = MIGRATIONS.runner().target(2).run(&mut client)?;
    /// assert_eq!(report.applied().len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn run(&self, client: &mut Client) -> Result<Report, Error> {
        let span = tracing::info_span!("stowage_run");
        block_on(run::run(self, client, self.allow).instrument(span))
    }

    /// Like [`run`](Runner::run), but a dirty no-transaction migration (one
    /// that failed or was interrupted part way) is continued at the
    /// statement where it stopped instead of refused. Fix what made it fail
    /// first: a failed `CREATE INDEX CONCURRENTLY` leaves an INVALID index
    /// that must be dropped. With no dirty migration this is a plain run.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// let report = MIGRATIONS.runner().resume(&mut client)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume(&self, client: &mut Client) -> Result<Report, Error> {
        let span = tracing::info_span!("stowage_resume");
        let allow = Allow {
            resume: true,
            ..self.allow
        };
        block_on(run::run(self, client, allow).instrument(span))
    }

    /// Every migration with its state. Reads only: it takes no lock and
    /// creates nothing, so it works with a read-only role, and reports a
    /// database without a tracking table as having everything pending.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// print!("{}", MIGRATIONS.runner().status(&mut client)?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn status(&self, client: &mut Client) -> Result<Status, Error> {
        block_on(status::status(self, client))
    }

    /// The [`Health`] summary; reads only, like [`status`](Runner::status).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// let healthy = MIGRATIONS.runner().health(&mut client)?.ok;
    /// # Ok(())
    /// # }
    /// ```
    pub fn health(&self, client: &mut Client) -> Result<Health, Error> {
        block_on(status::health(self, client))
    }

    /// What [`run`](Runner::run) would do now, with each migration's SQL,
    /// refusing what it would refuse. Reads only: it takes no lock and
    /// creates nothing, so another process may change the database between
    /// the plan and a run.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// print!("{}", MIGRATIONS.runner().plan(&mut client)?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn plan(&self, client: &mut Client) -> Result<Plan, Error> {
        block_on(status::plan(self, client))
    }

    /// Every way the recorded history disagrees with the binary: failed,
    /// dirty, divergent, missing and out-of-order migrations, whatever the
    /// runner's options allow, each with what can be done about it. Pending
    /// migrations are not a problem: a binary ahead of its database is what
    /// every deployment looks like before a run. Reads only.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// for problem in MIGRATIONS.runner().verify(&mut client)?.problems() {
    ///     eprintln!("{problem}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn verify(&self, client: &mut Client) -> Result<Verification, Error> {
        block_on(status::verify(self, client))
    }

    /// Compares the database's schema with the schema file the binary
    /// carries (see [`Migrations::expected_schema`]): every table, column,
    /// type, default, constraint, index (an INVALID one too), view,
    /// function, trigger and policy that is missing, extra or different,
    /// each with what it is and what was expected. The catalog is read in
    /// one query, for the session's current schema (named without it, so a
    /// tenant's schema compares with the schema the migrations build in
    /// `public`) and the other schemas the file names.
    ///
    /// It compares only a database at the binary's newest version, with
    /// nothing applied that the binary does not have; otherwise it says so
    /// and compares nothing. This process remembers what it found, for
    /// [`health`](Runner::health).
    ///
    /// A check that finds the schema as the file says records it in
    /// `stowage_schema_checks`, beside the tracking table, with a
    /// fingerprint of the catalog; a later check, by any process, whose
    /// catalog has the same fingerprint (no object created, changed or
    /// dropped since, in any schema) finds the same, and reads only the
    /// fingerprint. That record is all a check writes.
    ///
    /// ```
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = stowage::testing::TestServer::shared()?;
    /// # let db = server.create_database()?;
    /// # let mut client = db.connect()?;
    /// MIGRATIONS.run(&mut client)?;
    /// let check = MIGRATIONS.runner().check_schema(&mut client)?;
    /// assert!(check.is_ok(), "{check}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn check_schema(&self, client: &mut Client) -> Result<SchemaCheck, Error> {
        block_on(schema::check_schema(self, client))
    }

    /// Records migration `version` as applied without running it, for a
    /// failed or dirty migration that was completed by hand. Refused for a
    /// version the binary does not have or one applied with another
    /// checksum. Returns whether it recorded anything: `false` for one
    /// already applied as it is.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// let changed = MIGRATIONS.runner().mark_applied(&mut client, 5)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn mark_applied(&self, client: &mut Client, version: i64) -> Result<bool, Error> {
        block_on(mend::mark_applied(self, client, version))
    }

    /// Removes the record of a failed or dirty migration, for one that was
    /// undone by hand: the next run applies it from the start. Refused for a
    /// migration recorded as applied (forgetting it would make the next run
    /// apply it twice: [`reapply`](Runner::reapply) runs it again where what
    /// it makes is missing) or one with no record.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// MIGRATIONS.runner().forget(&mut client, 5)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn forget(&self, client: &mut Client, version: i64) -> Result<(), Error> {
        block_on(mend::forget(self, client, version))
    }

    /// Runs applied migration `version` again, for a database that lost
    /// what it made (restored without it, or dropped by hand), in one
    /// transaction with its row, which stays a success whatever happens.
    ///
    /// It runs only where it is known to be needed: the binary carries a
    /// schema file, the database is at the binary's newest version, and
    /// [`check_schema`](Runner::check_schema) finds an object this migration
    /// makes missing (a [`Difference`](crate::Difference) whose
    /// [`made_by`](crate::Difference::made_by) names it, as
    /// [`Remedy::Reapply`](crate::Remedy::Reapply) does); otherwise it is
    /// refused with a [`ReapplyReason`](crate::ReapplyReason). A migration
    /// that cannot run again (part of what it makes is still there) fails,
    /// is rolled back, and changes nothing. The repeatable files whose
    /// objects are all gone (dropped with a `CASCADE` from under them) are
    /// created again after it, as at the end of a run, and named in the
    /// report. Run again what the check names oldest first: a later
    /// migration that changed what an earlier one makes (a column it added)
    /// is named once the earlier one ran.
    ///
    /// ```
    /// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = stowage::testing::TestServer::shared()?;
    /// # let db = server.create_database()?;
    /// # let mut client = db.connect()?;
    /// MIGRATIONS.run(&mut client)?;
    /// // Restored without the view migration 5 makes, and the repeatable
    /// // view on it.
    /// client.batch_execute("DROP VIEW account_revenue CASCADE")?;
    /// let report = MIGRATIONS.runner().reapply(&mut client, 5)?;
    /// assert_eq!(report.applied()[0].version(), 5);
    /// assert_eq!(report.repeatables()[0].name(), "account_summary");
    /// assert!(MIGRATIONS.runner().check_schema(&mut client)?.is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn reapply(&self, client: &mut Client, version: i64) -> Result<Report, Error> {
        block_on(reapply::reapply(self, client, version))
    }

    /// Removes the records of failed transactional migrations (they changed
    /// nothing, and the next run retries them anyway) and returns their
    /// versions. Dirty no-transaction migrations are left alone: they need
    /// [`resume`](Runner::resume), [`mark_applied`](Runner::mark_applied) or
    /// [`forget`](Runner::forget).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// let removed = MIGRATIONS.runner().repair(&mut client)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn repair(&self, client: &mut Client) -> Result<Vec<i64>, Error> {
        block_on(mend::repair(self, client))
    }

    /// Records this binary's checksum for applied migration `version`,
    /// deliberately accepting that its file was edited since it was applied
    /// (say, a comment fixed). The old and the new checksum are logged and
    /// kept in the row's `note`. Returns whether it changed anything:
    /// `false` if they already agree.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// MIGRATIONS.runner().accept_checksum(&mut client, 3)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn accept_checksum(&self, client: &mut Client, version: i64) -> Result<bool, Error> {
        block_on(mend::accept_checksum(self, client, version))
    }

    /// Records every migration up to and including `version` as applied
    /// without running it, for a database that was built by hand or by
    /// another tool; returns the versions recorded. Refused, changing
    /// nothing, if it would contradict the recorded history: a migration at
    /// or below `version` recorded as failed or with another checksum, or
    /// any migration above it recorded at all.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// let recorded = MIGRATIONS.runner().baseline(&mut client, 4)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn baseline(&self, client: &mut Client, version: i64) -> Result<Vec<i64>, Error> {
        block_on(mend::baseline(self, client, version))
    }

    /// Records the history of another tool as applied, without running
    /// anything: `from` names the tool (`"sqlx"`, `"diesel"`, `"refinery"`,
    /// `"goose"`, `"golang-migrate"`, `"dbmate"` or `"flyway"`), or is an
    /// [`Adopt`](crate::Adopt) with its table and what to let through.
    ///
    /// Under the lock and in one transaction, it reads the tool's tracking
    /// table with its own columns and meaning, maps each version the tool
    /// applied onto this binary's migration, checks the file against the
    /// checksum the tool recorded (computed the tool's way at build time),
    /// and records it as applied with the tool's applied time and duration
    /// where the tool kept them, and a note naming the tool. The tool's
    /// table is left as it is; versions already in stowage's table are left
    /// alone, so a second adoption changes nothing.
    ///
    /// Refused, recording nothing and listing every problem, when the
    /// tool's history is failed or dirty, a version it applied is not in
    /// this binary (unless allowed), or a checksum differs (unless allowed).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// let adoption = MIGRATIONS.runner().adopt(&mut client, "goose")?;
    /// println!("{adoption}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn adopt(
        &self,
        client: &mut Client,
        from: impl Into<crate::Adopt>,
    ) -> Result<crate::Adoption, Error> {
        block_on(crate::operations::adopt::adopt(self, client, &from.into()))
    }

    /// Undoes every migration applied after `version`, newest first, by its
    /// down script `{version}_{name}.down.sql`. Each runs in its own
    /// transaction together with the removal of its tracking row, and the
    /// rollback stops at the first failure.
    ///
    /// Refused up front, changing nothing and listing every reason, if a
    /// migration to undo has no down script, is dirty or failed, was edited
    /// since it was applied (unless `allow_divergent`), is unknown to this
    /// binary, or has a no-transaction down script (not supported yet).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// let report = MIGRATIONS.runner().rollback_to(&mut client, 5)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn rollback_to(&self, client: &mut Client, version: i64) -> Result<Report, Error> {
        let span = tracing::info_span!("stowage_rollback", to = version);
        block_on(rollback::rollback(self, client, Some(version)).instrument(span))
    }

    /// Undoes every applied migration, the first one included, newest
    /// first; refused as [`rollback_to`](Runner::rollback_to) is.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
    /// let report = MIGRATIONS.runner().rollback_all(&mut client)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn rollback_all(&self, client: &mut Client) -> Result<Report, Error> {
        let span = tracing::info_span!("stowage_rollback");
        block_on(rollback::rollback(self, client, None).instrument(span))
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl<D: Sync> Fleet<D> {
    /// Applies what is pending on every target, as [`Runner::run`] does on
    /// one, up to [`jobs`](Fleet::jobs) targets at once, each on a thread
    /// of its own over a connection `connect` makes; returns every target's
    /// outcome, in the fleet's order. Refused, running nothing, if a
    /// member's runner would fail for every target (an option PostgreSQL
    /// cannot take, a tracking table that names a schema for a fleet of
    /// schemas).
    ///
    /// ```
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = stowage::testing::TestServer::shared()?;
    /// # let db = server.create_database()?;
    /// # let url = db.config().clone();
    /// use stowage::{Fleet, Schemas};
    /// let fleet = Fleet::new()
    ///     .schemas("app", url, Schemas::listed(["tenant_1", "tenant_2"]), MIGRATIONS.runner())
    ///     .jobs(2)
    ///     .keep_going(true);
    /// let report = fleet.run(|config| config.connect(postgres::NoTls))?;
    /// assert!(report.is_ok(), "{report}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn run<F>(&self, connect: F) -> Result<FleetReport<Migrated>, Error>
    where
        F: Fn(&D) -> Result<Client, postgres::Error> + Sync,
    {
        threads::drive(self, Run, &connect)
    }

    /// Every target's version and state ([`Runner::status`] on each), to
    /// be [grouped](FleetReport::groups) and summed up in a
    /// [`health`](FleetReport::health). Reads only.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use stowage::{Fleet, Schemas};
    /// let fleet = Fleet::new().schemas("app", "host=db user=app", Schemas::matching("tenant_*"), MIGRATIONS.runner());
    /// let status = fleet.status(|url| postgres::Client::connect(url, postgres::NoTls))?;
    /// print!("{status}"); // 1000 target(s): 812 at 42; 3 at 41, failed at 42: ...; 1 unreachable
    /// # Ok(())
    /// # }
    /// ```
    pub fn status<F>(&self, connect: F) -> Result<FleetStatus, Error>
    where
        F: Fn(&D) -> Result<Client, postgres::Error> + Sync,
    {
        threads::drive(self, StatusCall, &connect)
    }

    /// What a run would do on every target ([`Runner::plan`] on each).
    /// Reads only.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use stowage::{Fleet, Schemas};
    /// let fleet = Fleet::new().schemas("app", "host=db user=app", Schemas::matching("tenant_*"), MIGRATIONS.runner());
    /// print!("{}", fleet.plan(|url| postgres::Client::connect(url, postgres::NoTls))?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn plan<F>(&self, connect: F) -> Result<FleetReport<Plan>, Error>
    where
        F: Fn(&D) -> Result<Client, postgres::Error> + Sync,
    {
        threads::drive(self, Planning, &connect)
    }

    /// Every target's history checked against the binary
    /// ([`Runner::verify`] on each). Reads only.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use stowage::{Fleet, Schemas};
    /// let fleet = Fleet::new().schemas("app", "host=db user=app", Schemas::matching("tenant_*"), MIGRATIONS.runner());
    /// let verified = fleet.verify(|url| postgres::Client::connect(url, postgres::NoTls))?;
    /// assert!(!verified.has_problems(), "{verified}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn verify<F>(&self, connect: F) -> Result<FleetReport<Verification>, Error>
    where
        F: Fn(&D) -> Result<Client, postgres::Error> + Sync,
    {
        threads::drive(self, Verify, &connect)
    }

    /// Every target's schema compared with the schema file the binary
    /// carries, each under its own name ([`Runner::check_schema`] on each).
    /// Reads only.
    ///
    /// ```
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = stowage::testing::TestServer::shared()?;
    /// # let db = server.create_database()?;
    /// use stowage::{Fleet, Schemas};
    /// let fleet = Fleet::new().schemas(
    ///     "app",
    ///     db.config().clone(),
    ///     Schemas::listed(["tenant_a", "tenant_b"]),
    ///     MIGRATIONS.runner(),
    /// );
    /// let connect = |config: &postgres::Config| config.connect(postgres::NoTls);
    /// fleet.run(connect)?;
    /// let checked = fleet.check_schema(connect)?;
    /// assert!(!checked.has_drift(), "{checked}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn check_schema<F>(&self, connect: F) -> Result<FleetReport<SchemaCheck>, Error>
    where
        F: Fn(&D) -> Result<Client, postgres::Error> + Sync,
    {
        threads::drive(self, CheckSchema, &connect)
    }
}
