//! SQL migrations checked at build time, stowed in the binary, applied to
//! PostgreSQL at run time.
//!
//! ```no_run
//! static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let mut client = postgres::Client::connect("host=localhost user=postgres", postgres::NoTls)?;
//!     let report = MIGRATIONS.run(&mut client)?;
//!     println!("{report}");
//!     Ok(())
//! }
//! ```
//!
//! [`embed_migrations!`] reads the folder when the crate is compiled: a
//! misnamed file, a duplicate version, an empty or non-UTF-8 file fails the
//! build with a message naming the file. [`Migrations::run`] applies what is
//! pending over a client you connect (with any TLS setup), each migration in
//! its own transaction together with its row in the tracking table, under an
//! advisory lock so that many replicas may start at once.
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
//! autocommit (for `CREATE INDEX CONCURRENTLY` and the like; the build splits
//! them as PostgreSQL's parser would), `-- stowage:lock-timeout 5s` and
//! `-- stowage:statement-timeout 10min` set those timeouts while it runs. A
//! statement that cannot run in a transaction, in a migration that runs in
//! one, fails the build.
//!
//! # Operations
//!
//! Besides [`run`](Runner::run), a [`Runner`] reads [`status`](Runner::status),
//! [`health`](Runner::health) and [`plan`](Runner::plan) without the lock, and
//! mends what needs an operator: [`resume`](Runner::resume),
//! [`mark_applied`](Runner::mark_applied), [`forget`](Runner::forget),
//! [`repair`](Runner::repair), [`accept_checksum`](Runner::accept_checksum),
//! [`baseline`](Runner::baseline) and [`rollback_to`](Runner::rollback_to).
//! The `cli` feature puts them on the program's command line; the `testing`
//! feature checks a set of migrations in one line of a test.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod apply;
#[cfg(feature = "cli")]
pub mod cli;
mod error;
mod health;
mod history;
mod history_digest;
mod lock;
mod migration;
mod plan;
mod repair;
mod report;
mod rollback;
mod runner;
mod sql;
mod status;
#[cfg(feature = "testing")]
pub mod testing;
mod timeouts;
mod tracking_table;

pub use error::{Error, FailedStatement, HistoryError, LineColumn, MigrationError};
pub use health::Health;
pub use history::Violation;
pub use migration::{Migration, Migrations, Script, Statement};
pub use plan::{Plan, Step};
pub use report::{Applied, Report};
pub use runner::{DEFAULT_LOCK_WAIT_TIMEOUT, Runner};
pub use status::{Entry, State, Status};
pub use tracking_table::DEFAULT_TABLE;

/// Reads, checks and embeds a folder of SQL migrations at compile time.
///
/// `embed_migrations!()` reads `migrations/` beside the crate's `Cargo.toml`;
/// `embed_migrations!("db/analytics")` reads that folder, relative to
/// `Cargo.toml`. The expansion is a [`Migrations`] value, so it can
/// initialize a `static`:
///
/// ```no_run
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// ```
///
/// Every `*.sql` file below the folder is read, at any depth; hidden files
/// and folders are skipped. Any of these fails the build, each reported with
/// the file it concerns, all in one build: a misnamed file, two files with
/// one version, a down file without its up file, a file that is empty or
/// holds only comments, a file that is not UTF-8, a missing or empty folder.
///
/// The stowed text has any UTF-8 BOM removed and CRLF turned into LF; its
/// SHA-256 is the migration's checksum.
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
