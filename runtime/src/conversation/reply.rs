//! The server's replies to the queries of [`sql`](super::sql), read into
//! typed values: the only place that knows a boolean comes back as `t`.

use crate::data::history::Row;
use crate::data::schema::{Aspect, Key, Model, ObjectKind, routine_key};
use crate::rules::interrupted::Facts;
use std::collections::BTreeMap;
use stowage_core::effect::Effect;
use tokio_postgres::SimpleQueryMessage;

/// The text of every column of every row a query returned, in order.
pub(crate) fn rows(messages: &[SimpleQueryMessage]) -> Vec<Vec<Option<&str>>> {
    messages
        .iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some((0..row.len()).map(|i| row.get(i)).collect()),
            _ => None,
        })
        .collect()
}

/// The columns of the first row, if there is one.
fn first_row(messages: &[SimpleQueryMessage]) -> Vec<Option<&str>> {
    rows(messages).into_iter().next().unwrap_or_default()
}

/// A boolean column.
fn is_true(value: Option<&str>) -> bool {
    value == Some("t")
}

/// The first column of every row, NULLs left out.
pub(crate) fn first_column(messages: &[SimpleQueryMessage]) -> Vec<String> {
    rows(messages)
        .into_iter()
        .filter_map(|row| row.first().copied().flatten().map(str::to_owned))
        .collect()
}

/// The first column of the first row.
pub(crate) fn value(messages: &[SimpleQueryMessage]) -> Option<String> {
    first_column(messages).into_iter().next()
}

/// A digest row of the quick check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DigestRow {
    /// The oid of the tracking table the digest is of.
    pub tracking: Option<String>,
    /// The schema of that table.
    pub schema: Option<String>,
    pub digest: Option<String>,
    pub current_schema: Option<String>,
    /// The oid the tracking table's name resolves to now.
    pub resolved: Option<String>,
    /// Whether the digest's trigger fires in every session mode.
    pub trigger_always: bool,
}

/// The rows of [`sql::quick_check`](super::sql::quick_check).
pub(crate) fn digest_rows(messages: &[SimpleQueryMessage]) -> Vec<DigestRow> {
    rows(messages)
        .into_iter()
        .map(|row| {
            let column = |i: usize| row.get(i).copied().flatten().map(str::to_owned);
            DigestRow {
                tracking: column(0),
                schema: column(1),
                digest: column(2),
                current_schema: column(3),
                resolved: column(4),
                trigger_always: column(5).as_deref() == Some("A"),
            }
        })
        .collect()
}

/// A schema of a fleet, as [`sql::fleet_schemas`](super::sql::fleet_schemas)
/// found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FleetSchema {
    pub name: String,
    /// Its digest table exists, and the session may read it.
    pub digest_readable: bool,
    /// The oid of the tracking table in it, if there is one.
    pub tracking: Option<String>,
    /// Whether the digest's trigger on that table fires in every session mode.
    pub trigger_always: bool,
    /// The digest of that table held in the digest table's comment, where
    /// the trigger keeps the comment true.
    pub listed_digest: Option<String>,
}

pub(crate) fn fleet_schemas(messages: &[SimpleQueryMessage]) -> Vec<FleetSchema> {
    rows(messages)
        .into_iter()
        .filter_map(|row| {
            let column = |i: usize| row.get(i).copied().flatten();
            Some(FleetSchema {
                name: column(0)?.to_owned(),
                digest_readable: is_true(column(1)),
                tracking: column(2).map(str::to_owned),
                trigger_always: column(3) == Some("A"),
                listed_digest: column(4).map(str::to_owned),
            })
        })
        .collect()
}

/// The rows of [`sql::fleet_digests`](super::sql::fleet_digests): each
/// schema's name with a digest row of its own, its tracking table's oid and
/// trigger state taken from `found`.
pub(crate) fn fleet_digests(
    messages: &[SimpleQueryMessage],
    found: &std::collections::HashMap<&str, &FleetSchema>,
) -> Vec<(String, DigestRow)> {
    rows(messages)
        .into_iter()
        .filter_map(|row| {
            let column = |i: usize| row.get(i).copied().flatten().map(str::to_owned);
            let schema = column(0)?;
            let seen = found.get(schema.as_str())?;
            let digest = DigestRow {
                tracking: column(1),
                schema: column(2),
                digest: column(3),
                current_schema: None,
                resolved: seen.tracking.clone(),
                trigger_always: seen.trigger_always,
            };
            Some((schema, digest))
        })
        .collect()
}

/// The reply of [`sql::computed_quick_check`](super::sql::computed_quick_check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ComputedDigest {
    /// The table is in the current schema, or its schema was named.
    pub in_place: bool,
    pub digest: Option<String>,
    pub all_successful: bool,
    pub schema: Option<String>,
    pub may_write_digest: bool,
}

pub(crate) fn computed_digest(messages: &[SimpleQueryMessage]) -> Option<ComputedDigest> {
    let rows = rows(messages);
    let row = rows.first()?;
    let column = |i: usize| row.get(i).copied().flatten();
    Some(ComputedDigest {
        in_place: is_true(column(0)),
        digest: column(1).map(str::to_owned),
        all_successful: is_true(column(2)),
        schema: column(3).map(str::to_owned),
        may_write_digest: is_true(column(4)),
    })
}

/// The reply of [`sql::try_lock`](super::sql::try_lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LockAttempt {
    pub taken: bool,
    /// The server process holding the lock, if another does.
    pub holder: Option<i32>,
}

pub(crate) fn lock_attempt(messages: &[SimpleQueryMessage]) -> LockAttempt {
    let row = first_row(messages);
    LockAttempt {
        taken: is_true(row.first().copied().flatten()),
        holder: row
            .get(1)
            .copied()
            .flatten()
            .and_then(|pid| pid.parse().ok()),
    }
}

/// The reply of [`sql::running_statement`](super::sql::running_statement):
/// the migration and the statement, counted from 1.
pub(crate) fn running_statement(messages: &[SimpleQueryMessage]) -> Option<(i64, usize)> {
    let row = first_row(messages);
    let version = row.first().copied().flatten()?.parse().ok()?;
    let done: usize = row.get(1).copied().flatten()?.parse().ok()?;
    Some((version, done + 1))
}

/// The reply of [`sql::find_tracking_objects`](super::sql::find_tracking_objects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrackingObjects {
    pub schema: bool,
    pub table: bool,
    pub digest_table: bool,
    pub trigger: bool,
    /// The trigger fires in every session mode.
    pub trigger_always: bool,
    /// The table has the columns that record no-transaction statements.
    pub statement_columns: bool,
    /// The trigger's function keeps the digest table's comment true (an
    /// earlier version's does not).
    pub trigger_clears_comment: bool,
}

pub(crate) fn tracking_objects(messages: &[SimpleQueryMessage]) -> TrackingObjects {
    let row = first_row(messages);
    let column = |i: usize| row.get(i).copied().flatten();
    TrackingObjects {
        schema: is_true(column(0)),
        table: is_true(column(1)),
        digest_table: is_true(column(2)),
        trigger: column(3).is_some(),
        trigger_always: column(3) == Some("A"),
        statement_columns: is_true(column(4)),
        trigger_clears_comment: is_true(column(5)),
    }
}

/// The rows of [`sql::read_history`](super::sql::read_history).
pub(crate) fn history(messages: &[SimpleQueryMessage]) -> Vec<Row> {
    rows(messages)
        .into_iter()
        .filter_map(|row| {
            let column = |i: usize| row.get(i).copied().flatten();
            let count = |i: usize| column(i).and_then(|v| v.parse::<usize>().ok());
            let text = |i: usize| column(i).map(str::to_owned);
            Some(Row {
                version: column(0)?.parse().ok()?,
                name: text(1)?,
                checksum: text(2)?,
                success: is_true(column(3)),
                error: text(4),
                statements_done: count(5),
                statements_total: count(6),
                applied_at: column(7).and_then(|t| humantime::parse_rfc3339(t).ok()),
                applied_by: text(8),
                execution_ms: column(9).and_then(|v| v.parse().ok()),
                note: text(10),
                statement_pid: column(11).and_then(|v| v.parse().ok()),
                statement_xid: column(12).and_then(|v| v.parse().ok()),
                statement_running: is_true(column(13)),
                objects: column(14)
                    .map(|o| o.lines().map(str::to_owned).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// The session's timeouts as [`sql::set_session_timeouts`](super::sql::set_session_timeouts)
/// read them before changing them.
pub(crate) fn session_timeouts(messages: &[SimpleQueryMessage]) -> (String, String) {
    let row = first_row(messages);
    let value = |i: usize| row.get(i).copied().flatten().unwrap_or("0").to_owned();
    (value(0), value(1))
}

/// The reply of [`sql::facts`](super::sql::facts) for `what`.
pub(crate) fn facts(what: &Effect, messages: &[SimpleQueryMessage]) -> Facts {
    let rows = rows(messages);
    let first = rows.first().cloned().unwrap_or_default();
    let column = |i: usize| first.get(i).copied().flatten();
    match what {
        Effect::CreateIndexConcurrently { name: None, .. } => Facts {
            newer: Some(true),
            new_indexes: rows
                .iter()
                .filter_map(|row| {
                    let name = row.first().copied().flatten()?;
                    Some((name.to_owned(), is_true(row.get(1).copied().flatten())))
                })
                .collect(),
            ..Facts::default()
        },
        Effect::ReindexConcurrently { .. } => Facts {
            leftovers: rows
                .iter()
                .filter_map(|row| row.first().copied().flatten().map(str::to_owned))
                .collect(),
            ..Facts::default()
        },
        Effect::DropIndexConcurrently { .. }
        | Effect::Drop { .. }
        | Effect::AddEnumValue { .. } => Facts {
            exists: is_true(column(0)),
            ..Facts::default()
        },
        _ => Facts {
            exists: is_true(column(0)),
            valid: is_true(column(1)),
            newer: column(2).map(|v| v == "t"),
            qualified: column(3).map(str::to_owned),
            ..Facts::default()
        },
    }
}

/// The schema [`sql::read_schema`](super::sql::read_schema) read: the
/// model, and the session's current schema, the one the model names
/// objects without.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LiveSchema {
    pub model: Model,
    pub home: Option<String>,
    pub database: String,
    /// The catalog's fingerprint when it was read, where it was asked for.
    pub fingerprint: Option<String>,
}

/// The reply of
/// [`sql::unchanged_since_check`](super::sql::unchanged_since_check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SinceCheck {
    pub database: String,
    pub home: Option<String>,
    /// Whether the catalog is as a check that found the schema as its file
    /// says saw it; `None` when no such check of it is recorded.
    pub unchanged: Option<bool>,
}

/// The reply of
/// [`sql::unchanged_since_check`](super::sql::unchanged_since_check).
pub(crate) fn since_check(messages: &[SimpleQueryMessage]) -> SinceCheck {
    let row = first_row(messages);
    let column = |i: usize| row.get(i).copied().flatten();
    SinceCheck {
        database: column(0).unwrap_or("").to_owned(),
        home: column(1).map(str::to_owned),
        unchanged: column(2).map(|v| v == "t"),
    }
}

/// The rows of [`sql::read_schema`](super::sql::read_schema), read into the
/// model. What the server prints with the current schema written out
/// although `search_path` holds it (an index's or a trigger's table, a
/// function's name) is written without it, and a view's query as
/// PostgreSQL 16 and newer print it.
pub(crate) fn schema(messages: &[SimpleQueryMessage]) -> LiveSchema {
    let rows = rows(messages);
    let mut live = LiveSchema::default();
    let mut home_quoted: Option<String> = None;
    let mut version = 0;
    for row in &rows {
        let column = |i: usize| row.get(i).copied().flatten();
        if column(0) == Some("server") {
            version = column(2).and_then(|v| v.parse::<i32>().ok()).unwrap_or(0);
            home_quoted = column(3).map(str::to_owned);
            live.home = column(5).map(str::to_owned);
            live.database = column(6).unwrap_or("").to_owned();
        } else if column(0) == Some("fingerprint") {
            live.fingerprint = column(2).map(str::to_owned);
        }
    }
    let unhome = |text: &str, qualified: &str, bare: &str| match &home_quoted {
        Some(home) => text.replacen(&format!("{home}.{qualified}"), bare, 1),
        None => text.to_owned(),
    };
    let mut current: Option<(Key, BTreeMap<Aspect, String>)> = None;
    for row in &rows {
        let column = |i: usize| row.get(i).copied().flatten();
        let Some(kind) = column(0).and_then(ObjectKind::from_code) else {
            continue;
        };
        let schema = column(1);
        let Some(name) = column(2) else { continue };
        let mut member = column(3).unwrap_or("").to_owned();
        let aspect = column(4).and_then(Aspect::from_code);
        let parent = column(6);
        let mut value = column(5).map(str::to_owned);
        if let (Some(Aspect::Definition), Some(text)) = (aspect, value.as_mut()) {
            match kind {
                ObjectKind::Function | ObjectKind::Procedure => {
                    if schema.is_none() {
                        *text = unhome(text, &format!("{name}("), &format!("{name}("));
                    }
                    *text = text.trim_end().to_owned();
                    if let Some((_, _, arguments)) = routine_key(text) {
                        member = arguments;
                    }
                }
                ObjectKind::Rule => *text = statement_body(text).to_owned(),
                ObjectKind::Statistics if schema.is_none() => {
                    *text = unhome(text, &format!("{name} "), &format!("{name} "));
                }
                ObjectKind::Index | ObjectKind::Trigger if schema.is_none() => {
                    if let Some(table) = parent {
                        *text = unhome(text, &format!("{table} "), &format!("{table} "));
                    }
                }
                ObjectKind::View | ObjectKind::MaterializedView => {
                    let body = statement_body(text);
                    *text = if version < 160000 {
                        crate::rules::view_text::unqualified(body)
                    } else {
                        body.to_owned()
                    };
                }
                _ => {}
            }
        }
        // The rows of one object come one after another: its key is made
        // once, and its aspects gathered before they join the model.
        let same = current.as_ref().is_some_and(|(k, _): &(Key, _)| {
            k.kind == kind && k.schema.as_deref() == schema && k.name == name && k.member == member
        });
        if !same
            && let Some((key, aspects)) =
                current.replace((Key::new(kind, schema, name, &member), BTreeMap::new()))
        {
            live.model.add(key, aspects);
        }
        if let (Some(aspect), Some(value), Some((_, aspects))) = (aspect, value, current.as_mut()) {
            aspects.insert(aspect, value);
        }
    }
    if let Some((key, aspects)) = current {
        live.model.add(key, aspects);
    }
    live
}

/// A definition the server prints as a whole statement (a view's query, a
/// rule), without its closing semicolon and the whitespace around it.
fn statement_body(text: &str) -> &str {
    let trimmed = text.trim_end();
    trimmed.strip_suffix(';').unwrap_or(trimmed)
}

/// The reply of [`sql::DATABASE_AND_SCHEMA`](super::sql::DATABASE_AND_SCHEMA).
pub(crate) fn database_and_schema(messages: &[SimpleQueryMessage]) -> (String, Option<String>) {
    let row = first_row(messages);
    let column = |i: usize| row.get(i).copied().flatten().map(str::to_owned);
    (column(0).unwrap_or_default(), column(1))
}

/// A row of another tool's tracking table, as
/// [`sql::read_tool_table`](super::sql::read_tool_table) reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolRow {
    /// The version as the tool recorded it; `None` for a Flyway row without
    /// one (a repeatable migration).
    pub version: Option<String>,
    pub applied: bool,
    /// Failed, or (golang-migrate) dirty.
    pub failed: bool,
    pub checksum: Option<String>,
    /// RFC 3339 text.
    pub applied_at: Option<String>,
    pub execution_ms: Option<i64>,
    /// Flyway's `type`.
    pub kind: Option<String>,
    pub name: Option<String>,
}

pub(crate) fn tool_rows(messages: &[SimpleQueryMessage]) -> Vec<ToolRow> {
    rows(messages)
        .into_iter()
        .map(|row| {
            let column = |i: usize| row.get(i).copied().flatten();
            let text = |i: usize| column(i).map(str::to_owned);
            ToolRow {
                version: text(0),
                applied: is_true(column(1)),
                failed: is_true(column(2)),
                checksum: text(3),
                applied_at: text(4),
                execution_ms: column(5).and_then(|v| v.parse().ok()),
                kind: text(6),
                name: text(7),
            }
        })
        .collect()
}

/// The columns of a table, and the server's `TimeZone`.
pub(crate) fn table_columns(messages: &[SimpleQueryMessage]) -> (Vec<String>, Option<String>) {
    let rows = rows(messages);
    let zone = rows
        .first()
        .and_then(|r| r.get(1).copied().flatten())
        .map(str::to_owned);
    let columns = rows
        .iter()
        .filter_map(|r| r.first().copied().flatten().map(str::to_owned))
        .collect();
    (columns, zone)
}

/// The versions and durations (in milliseconds) of the migrations a reply
/// records: the rows of a batch whose first column is
/// [`sql::RECORDED`](super::sql::RECORDED), or every row of
/// [`sql::recorded`](super::sql::recorded).
pub(crate) fn recorded(messages: &[SimpleQueryMessage], batch: bool) -> Vec<(i64, i64)> {
    messages
        .iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row)
                if !batch
                    || row.columns().first().map(|c| c.name()) == Some(super::sql::RECORDED) =>
            {
                let version = row.get(0)?.parse().ok()?;
                let ms = row.get(1).and_then(|ms| ms.parse().ok()).unwrap_or(0);
                Some((version, ms))
            }
            _ => None,
        })
        .collect()
}

/// An object reached by [`sql::set_dependents`](super::sql::set_dependents)
/// or [`sql::dependents_of_changes`](super::sql::dependents_of_changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dependent {
    /// As PostgreSQL describes it (`view public.v`).
    pub described: String,
    /// The name of the row of the repeatable migration it is an object of;
    /// `None` for an object outside the repeatable set.
    pub file: Option<String>,
    /// How far from where the walk started: 0 for where it started.
    pub depth: i64,
    /// What it depends on, described.
    pub parent: Option<String>,
    /// Its type (`view`, `function`), as `DROP` takes it.
    pub kind: String,
    /// Its identity, as `DROP` takes it.
    pub identity: String,
    /// The row of the repeatable migration the walk to it started from.
    pub root: Option<String>,
}

/// The rows of a dependents query.
pub(crate) fn dependents(messages: &[SimpleQueryMessage]) -> Vec<Dependent> {
    rows(messages)
        .into_iter()
        .filter_map(|row| {
            let text = |i: usize| row.get(i).copied().flatten().map(str::to_owned);
            Some(Dependent {
                described: text(0)?,
                file: text(1),
                depth: text(2)?.parse().ok()?,
                parent: text(3),
                kind: text(4)?,
                identity: text(5)?,
                root: text(6),
            })
        })
        .collect()
}

/// The last row's first column, among every reply of a query of several
/// statements.
pub(crate) fn last_value(messages: &[SimpleQueryMessage]) -> Option<String> {
    rows(messages)
        .last()
        .and_then(|row| row.first().copied().flatten())
        .map(str::to_owned)
}
