//! The schema check: the catalog read in one round trip and compared with
//! the schema file the binary carries; and what the last check of each
//! database found, for health checks that must not read the catalog.

use crate::conversation::connection::Connection;
use crate::conversation::reply::{self, LiveSchema};
use crate::conversation::sql::{self, SchemaScope};
use crate::data::drift::{SchemaCheck, SchemaHealth, SchemaOutcome};
use crate::data::error::Error;
use crate::data::registry::Migrations;
use crate::data::schema::Model;
use crate::data::schema::parse::parse;
use crate::rules::drift;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The schema the binary expects, read from the schema file it carries;
/// `None` when it carries none. The file is read once per process: it is
/// static, and a check of a large schema would otherwise spend much of its
/// time reading it again.
pub(crate) fn expected(migrations: Migrations) -> Result<Option<Arc<Model>>, Error> {
    let Some(text) = migrations.expected_schema() else {
        return Ok(None);
    };
    static READ: Mutex<BTreeMap<usize, Arc<Model>>> = Mutex::new(BTreeMap::new());
    // The text is static: its address names it.
    let key = text.as_ptr() as usize;
    if let Some(model) = READ
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&key)
    {
        return Ok(Some(Arc::clone(model)));
    }
    let model = Arc::new(parse(text).map_err(|e| Error::SchemaFile {
        path: migrations.schema_path(),
        line: e.line,
        reason: e.message,
    })?);
    READ.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(key, Arc::clone(&model));
    Ok(Some(model))
}

/// Reads the schemas of `scope` from the catalog, in one round trip,
/// leaving out stowage's tables (`tracking`, the tracking table's name as
/// SQL writes it, among them).
pub(crate) async fn read<C: Connection>(
    conn: &mut C,
    scope: &SchemaScope<'_>,
    tracking: &str,
    grants: bool,
) -> Result<LiveSchema, Error> {
    conn.simple_query(&sql::read_schema(scope, tracking, grants))
        .await
        .map(|messages| reply::schema(&messages))
        .map_err(Error::database("reading the schema from the catalog"))
}

/// Compares the database's schema with `expected`, for a database at the
/// binary's newest version, and remembers what it found.
pub(crate) async fn compare<C: Connection>(
    conn: &mut C,
    migrations: Migrations,
    expected: &Model,
    tracking: &str,
) -> Result<SchemaCheck, Error> {
    let schemas = expected.schemas();
    let live = read(
        conn,
        &SchemaScope::Named(&schemas),
        tracking,
        migrations.schema_grants(),
    )
    .await?;
    let differences = drift::compare(expected, &live.model, live.home.as_deref(), migrations);
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
    remember(migrations, &live.database, live.home.as_deref(), &check);
    Ok(check)
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
