//! Looking in the catalog at the statement each dirty no-transaction
//! migration stopped at: what it made or dropped, whether its server
//! process still runs, and the INVALID indexes it left. What a run does
//! with that is [`rules::interrupted`](crate::rules::interrupted)'s to say.

use crate::conversation::connection::Connection;
use crate::conversation::{reply, sql};
use crate::data::error::Error;
use crate::data::registry::Statement;
use crate::data::status::State;
use crate::data::violation::Stopped;
use crate::rules::classify::History;
use crate::rules::interrupted::{Facts, Resolution, resolve};
use stowage_core::effect::{Effect, effect};

/// Fills in `history.stops`: for each dirty migration of the binary with a
/// statement left, what is known of the statement it stopped at. One query
/// per such migration; none when there is no dirty migration.
pub(crate) async fn examine<C: Connection>(
    conn: &mut C,
    history: &mut History<'_>,
) -> Result<(), Error> {
    for e in &history.entries {
        let (
            State::Dirty {
                statements_done, ..
            },
            Some(migration),
            Some(row),
        ) = (&e.state, e.migration, e.row)
        else {
            continue;
        };
        let statements = migration.up().statements();
        let Some(statement) = statements.get(*statements_done) else {
            continue;
        };
        let what = effect(statement.sql());
        let failed = row.error.is_some();
        let resolution = if search_path_changed(&statements[..*statements_done])
            && !matches!(what, Effect::Rerunnable)
        {
            // The killed session read names along a search path that a new
            // session does not have.
            Resolution::CannotTell
        } else {
            match sql::facts(&what, row.statement_xid) {
                None => resolve(&what, &Facts::default(), failed),
                Some(query) => match conn.simple_query(&query).await {
                    Ok(messages) => resolve(&what, &reply::facts(&what, &messages), failed),
                    // A name the lookup cannot take (a shell type, say).
                    Err(e) if e.as_db_error().is_some() => {
                        tracing::debug!(error = %e, "looking in the catalog at an interrupted statement");
                        Resolution::CannotTell
                    }
                    Err(e) => {
                        return Err(Error::database(
                            "looking in the catalog at an interrupted statement",
                        )(e));
                    }
                },
            }
        };
        history.stops.insert(
            e.version,
            Stopped {
                statement: statements_done + 1,
                at: Some(statement.position()),
                running_pid: row.statement_running.then_some(row.statement_pid).flatten(),
                completed: match row.error {
                    Some(_) => Some(false),
                    None => resolution.completed(),
                },
                invalid_indexes: resolution.drop_first().to_vec(),
            },
        );
    }
    Ok(())
}

/// Whether one of `statements` may have changed the session's search path,
/// by which unqualified names are read.
fn search_path_changed(statements: &[Statement]) -> bool {
    statements
        .iter()
        .any(|s| s.sql().to_ascii_lowercase().contains("search_path"))
}
