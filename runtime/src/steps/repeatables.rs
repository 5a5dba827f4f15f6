//! Bringing the repeatable migrations up to date, in one transaction under
//! the lock, with their rows: all of the set's changes commit together, or
//! none does.
//!
//! 1. A changed file is first run with `CREATE OR REPLACE`, in a savepoint:
//!    where the new definitions replace the old in place (a function with
//!    the same signature, a view whose columns only grow at the end) and
//!    the file leaves none of its old objects behind, that is all, and
//!    whatever depends on its objects stays.
//! 2. Every other file to apply (new, absent, removed, or changed and not
//!    replaceable) is dropped, with the set's objects that depend on its
//!    objects (their files join it), newest dependency first, never with
//!    `CASCADE`: an object outside the set that depends on one of them
//!    makes the run refuse, naming both, before anything is dropped.
//! 3. The files are created again in name order; a file that names what a
//!    later file creates is put off until that file ran.
//!
//! Separately, [`make_way`] lets a versioned migration change a table under
//! the set's views: it drops them in the migration's transaction, and the
//! set is created again at the end of the run.

use crate::conversation::connection::{Connection, execute};
use crate::conversation::reply::{self, Dependent};
use crate::conversation::sql;
use crate::data::error::{DbError, Error, MigrationError, Refusal, Stage};
use crate::data::history::{Record, Row};
use crate::data::line_column::LineColumn;
use crate::data::plan::RepeatablePlan;
use crate::data::registry::{Migration, Migrations, Repeatable, RepeatableKind as ObjectKind};
use crate::data::repeatable_status::RepeatableState;
use crate::data::report::{RepeatableAction, RepeatableApplied};
use crate::rules::repeatables::{ClassifiedRepeatable, classify_repeatables, row_name};
use crate::rules::timeouts::Timeouts;
use crate::rules::tracking_table::TrackingTable;
use crate::steps::lock::Locked;
use crate::steps::transaction::{Failed, run_in_transaction};
use crate::steps::{locate, tracking};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use stowage_core::repeatable::Part;

/// The SQLSTATEs of a reference to something that does not exist (yet):
/// undefined table, function, object (a type).
const NOT_YET: [&str; 3] = ["42P01", "42883", "42704"];

/// The SQLSTATEs of a change the server refuses because something depends
/// on what it changes: dependent objects still exist, and the refusal to
/// change a column's type that a view uses.
const DEPENDED_ON: [&str; 2] = ["2BP01", "0A000"];

/// Whether a run has work to do on the repeatables now: with `absent_only`,
/// only on those whose objects were dropped for a versioned migration and
/// whose files did not change since (they are created again first).
pub(crate) fn has_work(migrations: Migrations, rows: &[Row], absent_only: bool) -> bool {
    classify_repeatables(migrations, rows)
        .iter()
        .any(|c| wanted(c, absent_only))
}

fn wanted(c: &ClassifiedRepeatable<'_>, absent_only: bool) -> bool {
    if absent_only {
        matches!(c.state, RepeatableState::Absent { .. })
            && c.repeatable
                .zip(c.row)
                .is_some_and(|(r, row)| r.script().checksum() == row.checksum)
    } else {
        c.needs_work()
    }
}

/// How bringing the set up to date stopped.
enum Stop {
    /// A file failed: its error, with where it is.
    Failed {
        repeatable: Repeatable,
        version: i64,
        position: Option<LineColumn>,
        source: DbError,
    },
    /// Anything else.
    Other(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Other(e)
    }
}

/// Brings the repeatables of `migrations` up to date against their rows
/// `rows` (with `absent_only`, only the absent ones whose files did not
/// change), in one transaction; `timeouts` are the runner's, which each
/// file's directives override. A failure rolls the whole set back and is
/// recorded on the failed file's row.
pub(crate) async fn update<C: Connection>(
    locked: &mut Locked<'_, C>,
    migrations: Migrations,
    rows: &[Row],
    timeouts: Timeouts,
    absent_only: bool,
) -> Result<Vec<RepeatableApplied>, Error> {
    let classified = classify_repeatables(migrations, rows);
    let work: Vec<&ClassifiedRepeatable<'_>> = classified
        .iter()
        .filter(|c| wanted(c, absent_only))
        .collect();
    if work.is_empty() {
        return Ok(Vec::new());
    }
    let started = Instant::now();
    locked.set_in_transaction(true);
    let outcome = match execute(locked.conn(), &sql::begin_set(timeouts)).await {
        Ok(()) => bring_up_to_date(locked, &classified, &work, timeouts).await,
        Err(e) => Err(Stop::Other(Error::database(
            "opening the transaction of the repeatable migrations",
        )(e))),
    };
    let outcome = match outcome {
        Ok(report) => match execute(locked.conn(), sql::COMMIT).await {
            Ok(()) => {
                locked.set_in_transaction(false);
                Ok(report)
            }
            Err(e) => Err(Stop::Other(tracking::lock_lost_or(
                locked.table(),
                None,
                "committing the repeatable migrations",
                e,
            ))),
        },
        Err(stop) => Err(stop),
    };
    match outcome {
        Ok(report) => {
            for r in &report {
                tracing::info!(
                    repeatable = r.name(),
                    path = r.path(),
                    action = %r.action(),
                    "brought a repeatable migration up to date"
                );
            }
            Ok(report)
        }
        Err(Stop::Other(e)) => {
            locked.roll_back().await;
            Err(e)
        }
        Err(Stop::Failed {
            repeatable,
            version,
            position,
            source,
        }) => {
            locked.roll_back().await;
            if tracking::is_lock_lost(&source) {
                return Err(Error::LockLost {
                    table: locked.table().qualified().to_owned(),
                    migration: Some((version, repeatable.script().path())),
                });
            }
            let mut failure = Box::new(MigrationError {
                version,
                name: repeatable.name(),
                path: repeatable.script().path(),
                position,
                stage: Stage::Repeatable,
                not_recorded: None,
                applied_before: Vec::new(),
                in_flight: Vec::new(),
                source,
            });
            let summary = failure.summary();
            let record = sql::repeatable_failed(
                locked.table(),
                version,
                &row_name(repeatable.name()),
                repeatable.script().checksum(),
                &summary,
            );
            if let Err(e) = execute(locked.conn(), &record).await {
                failure.not_recorded = Some(e);
            }
            tracing::debug!(
                repeatable = repeatable.name(),
                took_ms = started.elapsed().as_millis(),
                "a repeatable migration failed: {summary}"
            );
            Err(Error::Migration(failure))
        }
    }
}

/// The work inside the set's transaction; see the module's documentation.
async fn bring_up_to_date<C: Connection>(
    locked: &mut Locked<'_, C>,
    classified: &[ClassifiedRepeatable<'_>],
    work: &[&ClassifiedRepeatable<'_>],
    timeouts: Timeouts,
) -> Result<Vec<RepeatableApplied>, Stop> {
    let mut report = Vec::new();
    let mut recreate: BTreeSet<i64> = BTreeSet::new();
    for c in work {
        match (&c.state, c.repeatable) {
            (RepeatableState::Changed { .. }, Some(repeatable)) => {
                let started = Instant::now();
                match replace_in_place(locked, c, repeatable, timeouts).await? {
                    Some(objects) => report.push(RepeatableApplied {
                        name: c.name(),
                        path: Some(repeatable.script().path()),
                        action: RepeatableAction::Replaced,
                        objects,
                        populated: Vec::new(),
                        duration: started.elapsed(),
                    }),
                    None => {
                        recreate.insert(c.version);
                    }
                }
            }
            _ => {
                recreate.insert(c.version);
            }
        }
    }
    if recreate.is_empty() {
        return Ok(report);
    }
    let started = Instant::now();
    let dropped = drop_with_dependents(locked, classified, &mut recreate).await?;
    let removed: Vec<&ClassifiedRepeatable<'_>> = classified
        .iter()
        .filter(|c| recreate.contains(&c.version) && c.repeatable.is_none())
        .collect();
    if !removed.is_empty() {
        let versions: Vec<i64> = removed.iter().map(|c| c.version).collect();
        tracking::delete(locked, &versions).await?;
        for c in removed {
            report.push(RepeatableApplied {
                name: c.name(),
                path: None,
                action: RepeatableAction::Dropped,
                objects: Vec::new(),
                populated: Vec::new(),
                duration: started.elapsed(),
            });
        }
    }
    let create: Vec<&ClassifiedRepeatable<'_>> = classified
        .iter()
        .filter(|c| recreate.contains(&c.version) && c.repeatable.is_some())
        .collect();
    let mut created = create_in_order(locked, create, timeouts).await?;
    // Which of the materialized views made again are populated.
    let has_views = created.iter().any(|r| {
        r.objects
            .iter()
            .any(|o| o.starts_with(ObjectKind::MaterializedView.as_str()))
    });
    if has_views {
        let query = sql::populated(locked.table());
        let populated = locked
            .conn()
            .simple_query(&query)
            .await
            .map_err(Error::database(
                "reading which materialized views are populated",
            ))?;
        let populated: Vec<String> = reply::rows(&populated)
            .into_iter()
            .filter(|row| row.get(1).copied().flatten() == Some("t"))
            .filter_map(|row| row.first().copied().flatten().map(str::to_owned))
            .collect();
        for r in &mut created {
            r.populated = r
                .objects
                .iter()
                .filter_map(|o| o.strip_prefix("materialized view "))
                .filter(|identity| populated.iter().any(|p| p == identity))
                .map(|identity| format!("materialized view {identity}"))
                .collect();
        }
    }
    for r in &mut created {
        if r.action == RepeatableAction::Created && dropped.contains(&r.name) {
            r.action = RepeatableAction::Recreated;
        }
    }
    report.extend(created);
    Ok(report)
}

/// Runs a changed file with `CREATE OR REPLACE`, in a savepoint; keeps it
/// and writes its row when its objects replaced the old ones in place and
/// none of the old is left over, and returns the objects. Otherwise rolls
/// back to the savepoint: the file must be dropped and created again.
async fn replace_in_place<C: Connection>(
    locked: &mut Locked<'_, C>,
    c: &ClassifiedRepeatable<'_>,
    repeatable: Repeatable,
    timeouts: Timeouts,
) -> Result<Option<Vec<String>>, Stop> {
    let created = repeatable.created();
    let objects = sql::objects_of(&created);
    // The savepoint is set by a query of its own: a syntax error anywhere in
    // a query stops all of it before it runs (so does `OR REPLACE TRIGGER`
    // before PostgreSQL 14), and the rollback to it must still find it.
    execute(locked.conn(), "SAVEPOINT stowage_repeatable")
        .await
        .map_err(|e| Stop::Other(Error::database("setting a savepoint")(e)))?;
    let trial = format!(
        "{}{}\n;\n{}",
        sql::set_local_timeouts(timeouts.for_script(repeatable.script())),
        or_replace(repeatable),
        sql::list_objects(&objects)
    );
    let now = match locked.conn().simple_query(&trial).await {
        Ok(messages) => lines(reply::last_value(&messages)),
        Err(e) if e.as_db_error().is_some() => {
            tracing::debug!(
                repeatable = repeatable.name(),
                error = %e,
                "cannot replace in place; dropping and creating again"
            );
            roll_back_to_savepoint(locked).await?;
            return Ok(None);
        }
        Err(e) => {
            return Err(Stop::Other(Error::database(
                "replacing a repeatable migration's objects",
            )(e)));
        }
    };
    let old = c.row.map(|r| r.objects.clone()).unwrap_or_default();
    if old.iter().any(|o| !now.contains(o)) {
        roll_back_to_savepoint(locked).await?;
        return Ok(None);
    }
    let write = format!(
        "{};\nRELEASE SAVEPOINT stowage_repeatable",
        sql::write_repeatable(
            locked.table(),
            c.version,
            &row_name(repeatable.name()),
            repeatable.script().checksum(),
            0,
            &objects
        )
    );
    match locked.conn().simple_query(&write).await {
        Ok(messages) => Ok(Some(lines(reply::value(&messages)))),
        Err(source) => Err(Stop::Failed {
            repeatable,
            version: c.version,
            position: None,
            source,
        }),
    }
}

/// The file's SQL with `OR REPLACE` after the `CREATE` of every view,
/// function, procedure and trigger.
fn or_replace(repeatable: Repeatable) -> String {
    let mut sql = String::new();
    for (part, statement) in repeatable.parts() {
        let text = statement.sql();
        let replaceable = matches!(
            &part,
            Part::Creates(o) if matches!(
                o.kind,
                ObjectKind::View | ObjectKind::Function | ObjectKind::Procedure | ObjectKind::Trigger
            )
        );
        let create_end = stowage_core::lexer::tokens(text)
            .filter_map(Result::ok)
            .find(|t| !t.kind.is_comment())
            .map(|t| t.end());
        match create_end {
            Some(end) if replaceable => {
                sql.push_str(&text[..end]);
                sql.push_str(" OR REPLACE");
                sql.push_str(&text[end..]);
            }
            _ => sql.push_str(text),
        }
        sql.push_str(";\n");
    }
    sql
}

async fn roll_back_to_savepoint<C: Connection>(locked: &mut Locked<'_, C>) -> Result<(), Stop> {
    execute(locked.conn(), "ROLLBACK TO SAVEPOINT stowage_repeatable")
        .await
        .map_err(|e| Stop::Other(Error::database("rolling back to a savepoint")(e)))
}

/// Drops the objects of the files `files` (tracking versions), and with
/// them every object of the set that depends on them, whose files then join
/// `files`, newest dependency first. Refuses, dropping nothing, if anything
/// outside the set depends on them. Returns the names of the files whose
/// objects were dropped.
async fn drop_with_dependents<C: Connection>(
    locked: &mut Locked<'_, C>,
    classified: &[ClassifiedRepeatable<'_>],
    files: &mut BTreeSet<i64>,
) -> Result<BTreeSet<String>, Stop> {
    let version_of = |file: &str| {
        classified
            .iter()
            .find(|c| c.row.is_some_and(|r| r.name == file))
            .map(|c| c.version)
    };
    let table = locked.table().clone();
    let reached = closure(locked.conn(), &table, version_of, files).await?;
    if let Some(outside) = reached.iter().find(|d| d.file.is_none()) {
        return Err(Stop::Other(Error::Refused(Refusal::OutsideDependent {
            repeatable: outside
                .root
                .as_deref()
                .map(repeatable_name)
                .unwrap_or_default(),
            object: outside.parent.clone().unwrap_or_default(),
            dependent: outside.described.clone(),
        })));
    }
    let mut order: Vec<&Dependent> = reached.iter().collect();
    order.sort_by_key(|d| std::cmp::Reverse(d.depth));
    let drops: Vec<String> = order
        .iter()
        .map(|d| sql::drop_object(&d.kind, &d.identity))
        .collect();
    if !drops.is_empty() {
        tracing::debug!(objects = ?drops, "dropping repeatable migrations' objects");
        execute(locked.conn(), &drops.join(";\n"))
            .await
            .map_err(Error::database("dropping repeatable migrations' objects"))?;
    }
    Ok(reached
        .iter()
        .filter_map(|d| d.file.as_deref())
        .map(repeatable_name)
        .collect())
}

/// A repeatable's name, from its row's.
fn repeatable_name(row: &str) -> String {
    row.strip_prefix(stowage_core::repeatable::PREFIX)
        .unwrap_or(row)
        .to_owned()
}

/// What depends on the objects of the files `files` (tracking versions),
/// those objects included: the files of the set's objects among them join
/// `files`, until none does. What is outside the set is among the objects
/// returned, with no file.
async fn closure<C: Connection>(
    conn: &mut C,
    table: &TrackingTable,
    version_of: impl Fn(&str) -> Option<i64>,
    files: &mut BTreeSet<i64>,
) -> Result<Vec<Dependent>, Error> {
    loop {
        let versions: Vec<i64> = files.iter().copied().collect();
        let reached = dependents(conn, &sql::set_dependents(table, &versions)).await?;
        let joining: Vec<i64> = reached
            .iter()
            .filter_map(|d| d.file.as_deref().and_then(&version_of))
            .filter(|v| !files.contains(v))
            .collect();
        if joining.is_empty() {
            return Ok(reached);
        }
        files.extend(joining);
    }
}

async fn dependents<C: Connection>(conn: &mut C, query: &str) -> Result<Vec<Dependent>, Error> {
    conn.simple_query(query)
        .await
        .map(|messages| reply::dependents(&messages))
        .map_err(Error::database(
            "finding what depends on repeatable migrations' objects",
        ))
}

/// What a run would do to the repeatables: which need work, the objects it
/// would drop (all of them, should no changed file be replaceable in place)
/// newest dependency first, the files it would create in order, and what
/// outside the set depends on those objects.
pub(crate) async fn plan<C: Connection>(
    conn: &mut C,
    table: &TrackingTable,
    migrations: Migrations,
    rows: &[Row],
) -> Result<RepeatablePlan, Error> {
    let classified = classify_repeatables(migrations, rows);
    let mut files: BTreeSet<i64> = classified
        .iter()
        .filter(|c| c.needs_work())
        .map(|c| c.version)
        .collect();
    let changes = classified
        .iter()
        .filter(|c| c.needs_work())
        .map(ClassifiedRepeatable::entry)
        .collect();
    if files.is_empty() {
        return Ok(RepeatablePlan::default());
    }
    let version_of = |file: &str| {
        classified
            .iter()
            .find(|c| c.row.is_some_and(|r| r.name == file))
            .map(|c| c.version)
    };
    // Without objects recorded (nothing applied yet, or no tracking table)
    // there is nothing to drop.
    let mut reached = if rows.iter().any(|r| !r.objects.is_empty()) {
        closure(conn, table, version_of, &mut files).await?
    } else {
        Vec::new()
    };
    reached.sort_by_key(|d| std::cmp::Reverse(d.depth));
    let (inside, outside): (Vec<Dependent>, Vec<Dependent>) =
        reached.into_iter().partition(|d| d.file.is_some());
    Ok(RepeatablePlan {
        changes,
        drops: inside
            .iter()
            .map(|d| format!("{} {}", d.kind, d.identity))
            .collect(),
        creates: classified
            .iter()
            .filter(|c| files.contains(&c.version))
            .filter_map(|c| c.repeatable.map(|r| r.name().to_owned()))
            .collect(),
        outside: outside
            .iter()
            .map(|d| {
                format!(
                    "{} (depends on {})",
                    d.described,
                    d.parent.as_deref().unwrap_or_default()
                )
            })
            .collect(),
    })
}

/// Runs each file of `create` as written, in a savepoint of its own, with
/// its row; a file that names what does not exist yet is put off until the
/// others ran, and fails if it still does then.
async fn create_in_order<C: Connection>(
    locked: &mut Locked<'_, C>,
    create: Vec<&ClassifiedRepeatable<'_>>,
    timeouts: Timeouts,
) -> Result<Vec<RepeatableApplied>, Stop> {
    let mut created = Vec::new();
    let mut queue = create;
    loop {
        let mut put_off = Vec::new();
        let mut first_put_off = None;
        let progress_before = created.len();
        for c in queue {
            let Some(repeatable) = c.repeatable else {
                continue;
            };
            let started = Instant::now();
            let prefix = format!(
                "SAVEPOINT stowage_repeatable;\n{}",
                sql::set_local_timeouts(timeouts.for_script(repeatable.script()))
            );
            let script = repeatable.script().sql();
            let objects = sql::objects_of(&repeatable.created());
            let message = format!(
                "{prefix}{script}\n;\n{};\nRELEASE SAVEPOINT stowage_repeatable",
                sql::write_repeatable(
                    locked.table(),
                    c.version,
                    &row_name(repeatable.name()),
                    repeatable.script().checksum(),
                    0,
                    &objects
                )
            );
            match locked.conn().simple_query(&message).await {
                Ok(messages) => created.push(RepeatableApplied {
                    name: c.name(),
                    path: Some(repeatable.script().path()),
                    action: RepeatableAction::Created,
                    objects: lines(reply::last_value(&messages)),
                    populated: Vec::new(),
                    duration: started.elapsed(),
                }),
                Err(source) => {
                    let not_yet = source
                        .code()
                        .is_some_and(|code| NOT_YET.contains(&code.code()));
                    let position = in_script(&source, script, prefix.chars().count());
                    if source.as_db_error().is_none() || tracking::is_lock_lost(&source) {
                        return Err(Stop::Failed {
                            repeatable,
                            version: c.version,
                            position,
                            source,
                        });
                    }
                    roll_back_to_savepoint(locked).await?;
                    if !not_yet {
                        return Err(Stop::Failed {
                            repeatable,
                            version: c.version,
                            position,
                            source,
                        });
                    }
                    put_off.push(c);
                    first_put_off.get_or_insert((repeatable, c.version, position, source));
                }
            }
        }
        let Some((repeatable, version, position, source)) = first_put_off else {
            return Ok(created);
        };
        if created.len() == progress_before {
            return Err(Stop::Failed {
                repeatable,
                version,
                position,
                source,
            });
        }
        queue = put_off;
    }
}

/// Where an error falls in a script sent after `prefix_chars` characters,
/// if it falls in the script at all.
fn in_script(error: &DbError, script: &str, prefix_chars: usize) -> Option<LineColumn> {
    let at = locate::server_position(error, prefix_chars)?;
    (at < script.chars().count()).then(|| stowage_core::position::of_char(script, at).into())
}

/// The objects of a reply, one per line.
fn lines(value: Option<String>) -> Vec<String> {
    value
        .map(|v| v.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// What [`make_way`] did.
#[derive(Debug)]
pub(crate) enum MadeWay {
    /// The migration was applied, after the set's objects in its way were
    /// dropped (and marked absent): how long it took.
    Applied(Duration),
    /// No object of the set is in the way (or something else is too): the
    /// migration's failure stands.
    NotInTheWay,
}

/// When the transactional migration `migration` failed because objects
/// depend on what it changes, and objects of the repeatable set are among
/// them: applies it again, with those objects (and the set's objects that
/// depend on them) dropped first in its transaction and their rows marked
/// absent, to be created again at the end of the run. `failure` is its
/// error.
pub(crate) async fn make_way<C: Connection>(
    locked: &mut Locked<'_, C>,
    migration: Migration,
    failure: &MigrationError,
    repeatable_rows: &[Row],
    timeouts: Timeouts,
) -> Result<MadeWay, Error> {
    let depended_on = failure
        .code()
        .is_some_and(|code| DEPENDED_ON.contains(&code));
    if !depended_on || repeatable_rows.iter().all(|r| r.objects.is_empty()) {
        return Ok(MadeWay::NotInTheWay);
    }
    let changed: Vec<(String, Option<String>)> = migration
        .up()
        .statements()
        .iter()
        .flat_map(|s| stowage_core::repeatable::changes(s.sql()))
        .map(|c| (c.relation.sql().to_owned(), c.column))
        .collect();
    if changed.is_empty() {
        return Ok(MadeWay::NotInTheWay);
    }
    let query = sql::dependents_of_changes(locked.table(), &changed);
    let reached = dependents(locked.conn(), &query).await?;
    let version_of = |file: &str| {
        repeatable_rows
            .iter()
            .find(|r| r.name == file)
            .map(|r| r.version)
    };
    let mut files: BTreeSet<i64> = reached
        .iter()
        .filter_map(|d| d.file.as_deref().and_then(version_of))
        .collect();
    if files.is_empty() {
        return Ok(MadeWay::NotInTheWay);
    }
    // The set's objects that depend on those, and their files; anything
    // outside the set among them keeps the objects where they are.
    let table = locked.table().clone();
    let in_the_way = closure(locked.conn(), &table, version_of, &mut files).await?;
    if in_the_way.iter().any(|d| d.file.is_none()) {
        return Ok(MadeWay::NotInTheWay);
    }
    let mut order: Vec<&Dependent> = in_the_way.iter().collect();
    order.sort_by_key(|d| std::cmp::Reverse(d.depth));
    let versions: Vec<i64> = files.iter().copied().collect();
    let mut prelude: String = order
        .iter()
        .map(|d| format!("{};\n", sql::drop_object(&d.kind, &d.identity)))
        .collect();
    prelude.push_str(&sql::mark_absent(
        locked.table(),
        &versions,
        migration.version(),
    ));
    prelude.push_str(";\n");
    let table = locked.table().clone();
    let record = Record {
        version: migration.version(),
        name: migration.name(),
        checksum: migration.up().checksum(),
        execution_ms: None,
        success: true,
        error: None,
        progress: None,
        note: None,
    };
    let finish = |_| format!("{}; {}", sql::write_record(&table, &record), sql::COMMIT);
    let dropped: Vec<&str> = order.iter().map(|d| d.described.as_str()).collect();
    tracing::info!(
        version = migration.version(),
        objects = ?dropped,
        "dropping repeatable migrations' objects that depend on what the migration changes; \
         they are created again at the end of the run"
    );
    match run_in_transaction(
        locked,
        migration,
        migration.up(),
        timeouts.for_script(migration.up()),
        false,
        &prelude,
        finish,
    )
    .await
    {
        Ok(took) => Ok(MadeWay::Applied(took)),
        Err(Failed::Script(failure)) => Err(crate::steps::apply::record_failure(
            locked,
            migration,
            failure,
            Duration::ZERO,
            None,
        )
        .await),
        Err(Failed::LockLost) => Err(Error::LockLost {
            table: table.qualified().to_owned(),
            migration: Some((migration.version(), migration.up().path())),
        }),
    }
}

/// Whether an object of the repeatable set depends on what the down
/// scripts of `migrations` drop or change: the repeatable, its object, and
/// the migration, for the first one found.
pub(crate) async fn under_repeatables<C: Connection>(
    locked: &mut Locked<'_, C>,
    migrations: &[Migration],
    repeatable_rows: &[Row],
) -> Result<Option<Refusal>, Error> {
    if repeatable_rows.iter().all(|r| r.objects.is_empty()) {
        return Ok(None);
    }
    for m in migrations {
        let Some(down) = m.down() else { continue };
        let changed: Vec<(String, Option<String>)> = down
            .statements()
            .iter()
            .flat_map(|s| stowage_core::repeatable::changes(s.sql()))
            .map(|c| (c.relation.sql().to_owned(), c.column))
            .collect();
        if changed.is_empty() {
            continue;
        }
        let query = sql::dependents_of_changes(locked.table(), &changed);
        let reached = dependents(locked.conn(), &query).await?;
        if let Some(d) = reached.iter().find(|d| d.file.is_some()) {
            return Ok(Some(Refusal::UnderRepeatable {
                version: m.version(),
                repeatable: repeatable_name(d.file.as_deref().unwrap_or_default()),
                object: d.described.clone(),
            }));
        }
    }
    Ok(None)
}
