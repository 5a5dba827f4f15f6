//! The calls over a `tokio_postgres::Client`, for async programs: the same
//! engine as the blocking calls, sending the same statements, awaited on
//! the program's tokio runtime (with its timer enabled, as `#[tokio::main]`
//! does). Their futures are `Send`, so a call can be spawned.

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
use crate::fleet::tasks;
use crate::operations::{mend, reapply, rollback, schema, status};
use crate::rules::classify::Allow;
use crate::runner::options::Runner;
use crate::runner::run;
use std::future::Future;
use tokio_postgres::Client;
use tracing::Instrument;

#[cfg_attr(docsrs, doc(cfg(feature = "tokio-postgres")))]
impl Migrations {
    /// Applies every pending migration with the default options, over a
    /// `tokio_postgres::Client`; see [`Runner::run_async`].
    ///
    /// ```no_run
    /// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    ///
    /// #[tokio::main]
    /// async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     let (mut client, connection) =
    ///         tokio_postgres::connect("host=localhost user=app", tokio_postgres::NoTls).await?;
    ///     tokio::spawn(connection);
    ///     let report = MIGRATIONS.run_async(&mut client).await?;
    ///     println!("{report}");
    ///     Ok(())
    /// }
    /// ```
    pub async fn run_async(&self, client: &mut Client) -> Result<Report, Error> {
        self.runner().run_async(client).await
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "tokio-postgres")))]
impl Runner {
    /// Applies every pending migration; the async form of [`run`](Runner::run).
    ///
    /// The client may come from a pool; here deadpool-postgres (bb8's
    /// pooled connections deref to the client likewise):
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(pool: deadpool_postgres::Pool) -> Result<(), Box<dyn std::error::Error>> {
    /// let mut client = pool.get().await?;
    /// let report = MIGRATIONS.runner().run_async(&mut client).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// If the future is dropped before it ends (the task is cancelled, a
    /// timeout fires), the connection is sent a `ROLLBACK` and the unlock
    /// ahead of anything it is asked to do next: a migration under way is
    /// rolled back with its row, and the pool's next user gets a session
    /// without the lock or an open transaction.
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().run_async(client).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run_async(&self, client: &mut Client) -> Result<Report, Error> {
        run::run(self, client, self.allow)
            .instrument(tracing::info_span!("stowage_run"))
            .await
    }

    /// Continues a dirty no-transaction migration where it stopped; the async form of [`resume`](Runner::resume).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().resume_async(client).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resume_async(&self, client: &mut Client) -> Result<Report, Error> {
        run::run(
            self,
            client,
            Allow {
                resume: true,
                ..self.allow
            },
        )
        .instrument(tracing::info_span!("stowage_resume"))
        .await
    }

    /// Every migration with its state; the async form of [`status`](Runner::status).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().status_async(client).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn status_async(&self, client: &mut Client) -> Result<Status, Error> {
        status::status(self, client).await
    }

    /// The [`Health`] summary; the async form of [`health`](Runner::health).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().health_async(client).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn health_async(&self, client: &mut Client) -> Result<Health, Error> {
        status::health(self, client).await
    }

    /// What a run would do now; the async form of [`plan`](Runner::plan).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().plan_async(client).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn plan_async(&self, client: &mut Client) -> Result<Plan, Error> {
        status::plan(self, client).await
    }

    /// Every way the history disagrees with the binary; the async form of [`verify`](Runner::verify).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().verify_async(client).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn verify_async(&self, client: &mut Client) -> Result<Verification, Error> {
        status::verify(self, client).await
    }

    /// Compares the database's schema with the schema file the binary
    /// carries; the async form of [`check_schema`](Runner::check_schema).
    ///
    /// ```
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = stowage::testing::TestServer::shared()?;
    /// # let db = server.create_database()?;
    /// # let mut client = db.connect_async().await?;
    /// MIGRATIONS.run_async(&mut client).await?;
    /// let check = MIGRATIONS.runner().check_schema_async(&mut client).await?;
    /// assert!(check.is_ok(), "{check}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn check_schema_async(&self, client: &mut Client) -> Result<SchemaCheck, Error> {
        schema::check_schema(self, client).await
    }

    /// Records a migration as applied without running it; the async form of [`mark_applied`](Runner::mark_applied).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().mark_applied_async(client, 5).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn mark_applied_async(
        &self,
        client: &mut Client,
        version: i64,
    ) -> Result<bool, Error> {
        mend::mark_applied(self, client, version).await
    }

    /// Removes the record of a failed or dirty migration; the async form of [`forget`](Runner::forget).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().forget_async(client, 5).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn forget_async(&self, client: &mut Client, version: i64) -> Result<(), Error> {
        mend::forget(self, client, version).await
    }

    /// Runs an applied migration again whose objects are missing; the async form of [`reapply`](Runner::reapply).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let report = MIGRATIONS.runner().reapply_async(client, 5).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn reapply_async(&self, client: &mut Client, version: i64) -> Result<Report, Error> {
        reapply::reapply(self, client, version).await
    }

    /// Removes the records of failed transactional migrations; the async form of [`repair`](Runner::repair).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().repair_async(client).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn repair_async(&self, client: &mut Client) -> Result<Vec<i64>, Error> {
        mend::repair(self, client).await
    }

    /// Accepts an applied migration's edited checksum; the async form of [`accept_checksum`](Runner::accept_checksum).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().accept_checksum_async(client, 5).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn accept_checksum_async(
        &self,
        client: &mut Client,
        version: i64,
    ) -> Result<bool, Error> {
        mend::accept_checksum(self, client, version).await
    }

    /// Records every migration up to a version as applied; the async form of [`baseline`](Runner::baseline).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().baseline_async(client, 5).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn baseline_async(
        &self,
        client: &mut Client,
        version: i64,
    ) -> Result<Vec<i64>, Error> {
        mend::baseline(self, client, version).await
    }

    /// Records the history of another tool as applied; the async form of
    /// [`adopt`](Runner::adopt).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let adoption = MIGRATIONS.runner().adopt_async(client, "sqlx").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn adopt_async(
        &self,
        client: &mut Client,
        from: impl Into<crate::Adopt>,
    ) -> Result<crate::Adoption, Error> {
        crate::operations::adopt::adopt(self, client, &from.into()).await
    }

    /// Undoes the migrations applied after a version; the async form of [`rollback_to`](Runner::rollback_to).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().rollback_to_async(client, 5).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn rollback_to_async(
        &self,
        client: &mut Client,
        version: i64,
    ) -> Result<Report, Error> {
        rollback::rollback(self, client, Some(version))
            .instrument(tracing::info_span!("stowage_rollback", to = version))
            .await
    }

    /// Undoes every applied migration; the async form of [`rollback_all`](Runner::rollback_all).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(client: &mut tokio_postgres::Client) -> Result<(), stowage::Error> {
    /// let outcome = MIGRATIONS.runner().rollback_all_async(client).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn rollback_all_async(&self, client: &mut Client) -> Result<Report, Error> {
        rollback::rollback(self, client, None)
            .instrument(tracing::info_span!("stowage_rollback"))
            .await
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "tokio-postgres")))]
impl<D> Fleet<D> {
    /// Applies what is pending on every target; the async form of
    /// [`run`](Fleet::run). Each target's call is a task of its own,
    /// spawned on the current tokio runtime, over a connection the future
    /// `connect` returns makes.
    ///
    /// ```
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = stowage::testing::TestServer::shared()?;
    /// # let db = server.create_database()?;
    /// # let url = db.async_config().clone();
    /// use stowage::{Fleet, Schemas};
    /// let fleet = Fleet::new()
    ///     .schemas("app", url, Schemas::listed(["tenant_1", "tenant_2"]), MIGRATIONS.runner())
    ///     .jobs(2);
    /// let report = fleet
    ///     .run_async(|config: &tokio_postgres::Config| {
    ///         let config = config.clone();
    ///         async move {
    ///             let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    ///             tokio::spawn(connection);
    ///             Ok(client)
    ///         }
    ///     })
    ///     .await?;
    /// assert!(report.is_ok(), "{report}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run_async<F, C>(&self, connect: F) -> Result<FleetReport<Migrated>, Error>
    where
        F: FnMut(&D) -> C,
        C: Future<Output = Result<Client, tokio_postgres::Error>> + Send + 'static,
    {
        tasks::drive(self, Run, connect).await
    }

    /// Every target's version and state; the async form of
    /// [`status`](Fleet::status).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// use stowage::{Fleet, Schemas};
    /// let fleet = Fleet::new().schemas("app", "host=db user=app".to_owned(), Schemas::matching("tenant_*"), MIGRATIONS.runner());
    /// let status = fleet
    ///     .status_async(|url| {
    ///         let url = url.clone();
    ///         async move {
    ///             let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    ///             tokio::spawn(connection);
    ///             Ok(client)
    ///         }
    ///     })
    ///     .await?;
    /// println!("{}", status.health().ok);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn status_async<F, C>(&self, connect: F) -> Result<FleetStatus, Error>
    where
        F: FnMut(&D) -> C,
        C: Future<Output = Result<Client, tokio_postgres::Error>> + Send + 'static,
    {
        tasks::drive(self, StatusCall, connect).await
    }

    /// What a run would do on every target; the async form of
    /// [`plan`](Fleet::plan).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(fleet: stowage::Fleet<tokio_postgres::Config>) -> Result<(), stowage::Error> {
    /// let plan = fleet
    ///     .plan_async(|config| {
    ///         let config = config.clone();
    ///         async move {
    ///             let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    ///             tokio::spawn(connection);
    ///             Ok(client)
    ///         }
    ///     })
    ///     .await?;
    /// print!("{plan}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn plan_async<F, C>(&self, connect: F) -> Result<FleetReport<Plan>, Error>
    where
        F: FnMut(&D) -> C,
        C: Future<Output = Result<Client, tokio_postgres::Error>> + Send + 'static,
    {
        tasks::drive(self, Planning, connect).await
    }

    /// Every target's history checked against the binary; the async form
    /// of [`verify`](Fleet::verify).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(fleet: stowage::Fleet<tokio_postgres::Config>) -> Result<(), stowage::Error> {
    /// let verified = fleet
    ///     .verify_async(|config| {
    ///         let config = config.clone();
    ///         async move {
    ///             let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    ///             tokio::spawn(connection);
    ///             Ok(client)
    ///         }
    ///     })
    ///     .await?;
    /// assert!(!verified.has_problems());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn verify_async<F, C>(&self, connect: F) -> Result<FleetReport<Verification>, Error>
    where
        F: FnMut(&D) -> C,
        C: Future<Output = Result<Client, tokio_postgres::Error>> + Send + 'static,
    {
        tasks::drive(self, Verify, connect).await
    }

    /// Every target's schema compared with the schema file the binary
    /// carries; the async form of [`check_schema`](Fleet::check_schema).
    ///
    /// ```no_run
    /// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// # async fn f(fleet: stowage::Fleet<tokio_postgres::Config>) -> Result<(), stowage::Error> {
    /// let checked = fleet
    ///     .check_schema_async(|config| {
    ///         let config = config.clone();
    ///         async move {
    ///             let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    ///             tokio::spawn(connection);
    ///             Ok(client)
    ///         }
    ///     })
    ///     .await?;
    /// assert!(!checked.has_drift(), "{checked}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn check_schema_async<F, C>(
        &self,
        connect: F,
    ) -> Result<FleetReport<SchemaCheck>, Error>
    where
        F: FnMut(&D) -> C,
        C: Future<Output = Result<Client, tokio_postgres::Error>> + Send + 'static,
    {
        tasks::drive(self, CheckSchema, connect).await
    }
}
