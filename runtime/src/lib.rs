//! SQL migrations checked at build time, stowed in the binary, applied to
//! PostgreSQL at run time.
//!
//! ```
//! static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//! #   let server = stowage::testing::TestServer::shared()?;
//! #   let db = server.create_database()?;
//! #   let mut client = db.connect()?;
//!     // let mut client = postgres::Client::connect("host=localhost user=app", postgres::NoTls)?;
//!     let report = MIGRATIONS.run(&mut client)?;
//!     println!("{report}");
//!     assert!(MIGRATIONS.run(&mut client)?.is_empty(), "a second run applies nothing");
//!     Ok(())
//! }
//! ```
//!
//! An async program (feature `tokio-postgres`) calls the same API with
//! `_async`, over a `tokio_postgres::Client`, from a pool or not:
//!
//! ```
//! static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! #   let server = stowage::testing::TestServer::shared()?;
//! #   let db = server.create_database()?;
//! #   let mut client = db.connect_async().await?;
//!     // let (mut client, connection) =
//!     //     tokio_postgres::connect("host=localhost user=app", tokio_postgres::NoTls).await?;
//!     // tokio::spawn(connection);
//!     let report = MIGRATIONS.run_async(&mut client).await?;
//!     println!("{report}");
//!     Ok(())
//! }
//! ```
//!
//! [`embed_migrations!`] reads the folder when the crate is compiled: a
//! misnamed file, a duplicate version, an empty or non-UTF-8 file, a
//! statement that cannot run where it would, fails the build with a message
//! naming the file. [`Migrations::run`] applies what is pending over a client
//! you connect (with any TLS setup), each migration in its own transaction
//! together with its row in the tracking table, under an advisory lock so
//! that many replicas may start at once.
//!
//! # Naming
//!
//! A migration is `{version}_{name}.sql`: the version is ASCII digits that fit
//! an `i64` (leading zeros allowed; `001` and `1` are the same version), the
//! name ASCII letters, digits, `_` and `-`. `{version}_{name}.down.sql` is
//! the down script of the same version. Files in hidden folders, hidden files
//! and files not ending in `.sql` are ignored.
//!
//! # Directives
//!
//! Comment lines before a migration's first statement change how it runs:
//! `-- stowage:no-transaction` runs its statements one at a time in
//! autocommit (for `CREATE INDEX CONCURRENTLY` and the like; they are cut
//! as PostgreSQL's parser would), `-- stowage:lock-timeout 5s` and
//! `-- stowage:statement-timeout 10min` set those timeouts while it runs. A
//! statement that cannot run in a transaction, in a migration that runs in
//! one, fails the build.
//!
//! # Operations
//!
//! Besides [`run`](Runner::run), a [`Runner`] reads [`status`](Runner::status),
//! [`health`](Runner::health), [`plan`](Runner::plan),
//! [`verify`](Runner::verify) and [`check_schema`](Runner::check_schema)
//! without the lock, and mends what needs an
//! operator: [`resume`](Runner::resume), [`mark_applied`](Runner::mark_applied),
//! [`forget`](Runner::forget), [`repair`](Runner::repair),
//! [`accept_checksum`](Runner::accept_checksum), [`baseline`](Runner::baseline),
//! [`rollback_to`](Runner::rollback_to) and [`rollback_all`](Runner::rollback_all).
//! The `cli` feature puts them on the program's command line; the `testing`
//! feature checks a set of migrations in one line of a test.
//!
//! # Fleets
//!
//! A [`Fleet`] migrates many targets as one, any number at once: schemas
//! of a database (a schema per tenant), databases of their own, each with
//! its own tracking table, lock and history, with one report, a grouped
//! status and a [`FleetHealth`].
//!
//! # Features
//!
//! - `postgres` (default): the calls over a blocking `postgres::Client`.
//! - `tokio-postgres`: the `_async` calls over a `tokio_postgres::Client`.
//! - `serde`: `Serialize` for reports, states, plans and errors' parts.
//! - `cli`: [`cli::Db`], a `db` subcommand for the program's command line.
//! - `testing`: a throwaway server and [`testing::assert_migrations`].
//!
//! # The schema file
//!
//! `schema.sql` beside the migrations (or where `embed_migrations!("dir",
//! schema = "path")` says) holds the schema they build, as SQL, written and
//! kept true by [`testing::assert_migrations`]
//! (`STOWAGE_UPDATE_SCHEMA=1 cargo test` writes it again). The build fails
//! when it was made from other migrations, and the binary carries it:
//! [`Runner::check_schema`] reports every way a database differs from it.
//!
//! # Poolers
//!
//! The migration lock and a no-transaction migration's timeouts belong to a
//! session. A pooler in transaction mode (PgBouncer's `pool_mode =
//! transaction`) hands each transaction to any server session, so the lock
//! taken by one transaction may be held by another session than the next
//! one's, and never released. Migrate over a direct connection to the
//! server, or through a pool in session mode (a separate PgBouncer database
//! entry with `pool_mode = session`, or the server's own port), and keep
//! the transaction-mode pool for the program's queries.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod cli;
mod conversation;
mod data;
mod fleet;
mod operations;
mod rules;
mod runner;
mod steps;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use data::adoption::{Adopt, Adopted, Adoption, Outcome};
pub use data::drift::{AfterRun, Change, Difference, SchemaCheck, SchemaHealth, SchemaOutcome};
pub use data::error::{
    Error, FailedStatement, HistoryError, MigrationError, ReapplyReason, Refusal, RollbackProblem,
    RollbackReason, Stage,
};
pub use data::fleet::{
    FleetHealth, FleetReport, FleetStatus, Migrated, Schemas, StatusGroup, Target, TargetOutcome,
    TargetReport, TargetStatus,
};
pub use data::line_column::LineColumn;
pub use data::plan::{Plan, Step};
pub use data::registry::{Migration, Migrations, Repeatable, RepeatableKind, Script, Statement};
pub use data::remedy::Remedy;
pub use data::repeatable_status::{RepeatableCounts, RepeatableEntry, RepeatableState};
pub use data::report::{Applied, RepeatableAction, RepeatableApplied, Report, TargetBelow};
pub use data::schema::{Aspect, ObjectKind};
pub use data::status::{Counts, Entry, Health, State, Status};
pub use data::verification::Verification;
pub use data::violation::{Interrupted, Stopped, Violation};
pub use fleet::options::Fleet;
pub use rules::table_name::DEFAULT_TABLE;
pub use runner::options::{DEFAULT_LOCK_WAIT_TIMEOUT, Runner};

/// Reads, checks and embeds a folder of SQL migrations at compile time.
///
/// `embed_migrations!()` reads `migrations/` beside the crate's `Cargo.toml`;
/// `embed_migrations!("db/analytics")` reads that folder, relative to
/// `Cargo.toml`. The expansion is a [`Migrations`] value, so it can
/// initialize a `static`:
///
/// ```
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// assert!(!MIGRATIONS.is_empty());
/// ```
///
/// Every `*.sql` file below the folder is read, at any depth; hidden files
/// and folders are skipped. Any mistake fails the build, each reported with
/// the file it concerns, all in one build: a misnamed file, two files with
/// one version, a down file without its up file, a file that is empty or
/// holds only comments, a file that is not UTF-8, a missing or empty folder,
/// a statement that cannot run where it would.
///
/// The stowed text has any UTF-8 BOM removed and CRLF turned into LF; its
/// SHA-256 is the migration's checksum.
///
/// The schema file, `schema.sql` in the folder, is not a migration: the
/// build checks that it was made from these migrations (see
/// [`testing::assert_migrations`], which writes it) and embeds it, for
/// [`Runner::check_schema`]. `schema = "db/schema.sql"` puts it elsewhere,
/// relative to `Cargo.toml`; `grants = true` makes it hold the privileges
/// granted on the objects too:
///
/// ```
/// static MIGRATIONS: stowage::Migrations =
///     stowage::embed_migrations!("../migrations", schema = "../migrations/schema.sql");
/// assert!(MIGRATIONS.expected_schema().is_some());
/// ```
///
/// Editing a migration rebuilds the crate. For adding or removing one to
/// rebuild it too, give the crate a `build.rs` that says so:
///
/// ```text
/// // build.rs
/// fn main() {
///     println!("cargo:rerun-if-changed=migrations");
/// }
/// ```
pub use stowage_macros::embed_migrations;
