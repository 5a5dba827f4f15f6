//! The schema check: the catalog read in one round trip and compared with
//! the schema file the binary carries, unless a recorded check saw the same
//! catalog; and what the last check of each database found, for health
//! checks that must not read the catalog.

use crate::conversation::connection::Connection;
use crate::conversation::reply::{self, LiveSchema, SinceCheck};
use crate::conversation::sql::{self, SchemaScope};
use crate::data::drift::{SchemaCheck, SchemaHealth, SchemaOutcome};
use crate::data::error::Error;
use crate::data::registry::Migrations;
use crate::data::schema::Model;
use crate::data::schema::parse::parse;
use crate::rules::drift;
use crate::rules::tracking_table::TrackingTable;
use crate::steps::tracking::UNDEFINED_TABLE;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use stowage_core::checksum::checksum;

/// The schema the binary expects: the schema file it carries, read into
/// the model, and the file's SHA-256.
#[derive(Debug)]
pub(crate) struct Expected {
    pub model: Model,
    pub digest: String,
}

/// The schema the binary expects, read from the schema file it carries;
/// `None` when it carries none. The file is read once per process: it is
/// static, and a check of a large schema would otherwise spend much of its
/// time reading it again.
pub(crate) fn expected(migrations: Migrations) -> Result<Option<Arc<Expected>>, Error> {
    let Some(text) = migrations.expected_schema() else {
        return Ok(None);
    };
    static READ: Mutex<BTreeMap<usize, Arc<Expected>>> = Mutex::new(BTreeMap::new());
    // The text is static: its address names it.
    let key = text.as_ptr() as usize;
    if let Some(model) = READ
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&key)
    {
        return Ok(Some(Arc::clone(model)));
    }
    let model = Arc::new(Expected {
        model: parse(text).map_err(|e| Error::SchemaFile {
            path: migrations.schema_path(),
            line: e.line,
            reason: e.message,
        })?,
        digest: checksum(text),
    });
    READ.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(key, Arc::clone(&model));
    Ok(Some(model))
}

/// Reads the schemas of `scope` from the catalog, in one round trip,
/// leaving out stowage's tables (`tracking`, the tracking table's name as
/// SQL writes it, among them).
#[cfg(feature = "testing")]
pub(crate) async fn read<C: Connection>(
    conn: &mut C,
    scope: &SchemaScope<'_>,
    tracking: &str,
    grants: bool,
) -> Result<LiveSchema, Error> {
    read_with(conn, &sql::read_schema(scope, tracking, grants, false)).await
}

async fn read_with<C: Connection>(conn: &mut C, reading: &str) -> Result<LiveSchema, Error> {
    conn.simple_query(reading)
        .await
        .map(|messages| reply::schema(&messages))
        .map_err(Error::database("reading the schema from the catalog"))
}

/// Compares the database's schema with `expected`, for a database at the
/// binary's newest version, and remembers what it found.
///
/// A check that finds the schema as the file says records the catalog's
/// fingerprint beside the tracking table; a later check, by any process,
/// that finds the catalog's fingerprint unchanged finds the same schema,
/// and reads only the fingerprint. Without `records`, it neither records
/// nor trusts a record.
pub(crate) async fn compare<C: Connection>(
    conn: &mut C,
    migrations: Migrations,
    records: bool,
    expected: &Expected,
    table: &TrackingTable,
) -> Result<SchemaCheck, Error> {
    let schemas = expected.model.schemas();
    let reading = sql::read_schema(
        &SchemaScope::Named(&schemas),
        table.qualified(),
        migrations.schema_grants(),
        // The fingerprint, for the record, only where there is one to make.
        records,
    );
    // What a recorded check compared, and how: this file, this reading,
    // which names the schemas, the tracking table and whether grants are
    // read, and this version's rules for comparing the two.
    let compared = checksum(&format!(
        "{}\n{}\n{reading}",
        env!("CARGO_PKG_VERSION"),
        expected.digest
    ));
    let recorded = if records {
        recorded_check(conn, table, &compared).await?
    } else {
        Recorded::Unavailable
    };
    if let Recorded::Unchanged(since) = recorded {
        let check = SchemaCheck {
            file: migrations.schema_path(),
            schema: since.home,
            outcome: SchemaOutcome::Matches,
        };
        remember(migrations, &since.database, check.schema.as_deref(), &check);
        return Ok(check);
    }
    let live = read_with(conn, &reading).await?;
    let differences = drift::compare(
        &expected.model,
        &live.model,
        live.home.as_deref(),
        migrations,
    );
    let outcome = if differences.is_empty() {
        SchemaOutcome::Matches
    } else {
        SchemaOutcome::Differs {
            remedies: drift::remedies(&differences, migrations),
            differences,
        }
    };
    let check = SchemaCheck {
        file: migrations.schema_path(),
        schema: live.home.clone(),
        outcome,
    };
    if check.is_ok() {
        record(conn, table, &recorded, &live, &compared).await?;
    }
    remember(migrations, &live.database, live.home.as_deref(), &check);
    Ok(check)
}

/// What is recorded of the last check of the session's current schema that
/// found it as its file says.
#[derive(Debug, PartialEq, Eq)]
enum Recorded {
    /// It compared what this check compares, and the catalog is unchanged
    /// since.
    Unchanged(SinceCheck),
    /// Nothing that says the catalog is unchanged.
    Other,
    /// There is no table of checks yet.
    NoTable,
    /// The table is not to be read or written: this session cannot, or
    /// the check does not record.
    Unavailable,
}

/// Reads what is recorded of the last check, for the check that compares
/// `compared`.
async fn recorded_check<C: Connection>(
    conn: &mut C,
    table: &TrackingTable,
    compared: &str,
) -> Result<Recorded, Error> {
    match conn
        .simple_query(&sql::unchanged_since_check(table, compared))
        .await
    {
        Ok(messages) => {
            let since = reply::since_check(&messages);
            Ok(if since.unchanged == Some(true) {
                Recorded::Unchanged(since)
            } else {
                Recorded::Other
            })
        }
        Err(e) if e.code().is_some_and(|c| c.code() == UNDEFINED_TABLE) => Ok(Recorded::NoTable),
        Err(e) if e.as_db_error().is_some() => {
            tracing::debug!(error = %e, "cannot read the recorded schema checks");
            Ok(Recorded::Unavailable)
        }
        Err(e) => Err(Error::database("reading the recorded schema checks")(e)),
    }
}

/// Records that the schema `live` was found as the file says, where a
/// record may be written; a server's refusal (a standby, a role that may
/// not) leaves it unrecorded.
async fn record<C: Connection>(
    conn: &mut C,
    table: &TrackingTable,
    recorded: &Recorded,
    live: &LiveSchema,
    compared: &str,
) -> Result<(), Error> {
    let (Some(home), Some(fingerprint)) = (&live.home, &live.fingerprint) else {
        return Ok(());
    };
    if *recorded == Recorded::Unavailable {
        return Ok(());
    }
    let create = *recorded == Recorded::NoTable;
    let query = sql::record_check(table, create, home, compared, fingerprint);
    match conn.simple_query(&query).await {
        Ok(_) => Ok(()),
        Err(e) if e.as_db_error().is_some() => {
            tracing::debug!(error = %e, "cannot record the schema check");
            Ok(())
        }
        Err(e) => Err(Error::database("recording the schema check")(e)),
    }
}

/// Which database and schema a remembered check is of, for which
/// migrations (by their digest).
type Checked = (String, String, Option<String>);

/// What the last check of each database and schema found, in this process.
static LAST_CHECKS: Mutex<BTreeMap<Checked, SchemaHealth>> = Mutex::new(BTreeMap::new());

fn remember(migrations: Migrations, database: &str, home: Option<&str>, check: &SchemaCheck) {
    let key = (
        migrations.digest().to_owned(),
        database.to_owned(),
        home.map(str::to_owned),
    );
    LAST_CHECKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(key, SchemaHealth::from(check));
}

/// What the last check this process made of the session's database and
/// schema found, for `migrations`; one short query, no catalog read.
pub(crate) async fn remembered<C: Connection>(
    conn: &mut C,
    migrations: Migrations,
) -> Result<SchemaHealth, Error> {
    let (database, home) = conn
        .simple_query(sql::DATABASE_AND_SCHEMA)
        .await
        .map(|messages| reply::database_and_schema(&messages))
        .map_err(Error::database(
            "finding the database and the current schema",
        ))?;
    let key = (migrations.digest().to_owned(), database, home);
    Ok(LAST_CHECKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&key)
        .copied()
        .unwrap_or_default())
}
