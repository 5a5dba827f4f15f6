//! Where in its file a migration failed.

use crate::conversation::connection::{Connection, execute};
use crate::data::error::DbError;
use crate::data::line_column::LineColumn;
use crate::data::registry::Script;
use crate::steps::lock::Locked;
use std::time::Duration;
use stowage_core::position;

/// How long a failed transactional script may have run for it to be run
/// again to find the statement that failed.
const REPLAY_LIMIT: Duration = Duration::from_secs(10);

/// The SQLSTATE classes of errors that running the same statements again
/// need not give again: connection, transaction rollback, resources,
/// object state, operator intervention, system errors.
const TRANSIENT_CLASSES: [&str; 6] = ["08", "40", "53", "55", "57", "58"];

/// Where the error of a script that was sent after `prefix_chars`
/// characters of other SQL falls in the script's file.
pub(crate) fn in_script(error: &DbError, script: &str, prefix_chars: usize) -> Option<LineColumn> {
    server_position(error, prefix_chars).map(|index| position::of_char(script, index).into())
}

/// Where the error of one statement sent alone, `sql`, which starts at
/// `at` in the file, falls in the file.
pub(crate) fn in_statement(error: &DbError, sql: &str, at: LineColumn) -> Option<LineColumn> {
    server_position(error, 0)
        .map(|index| position::within(at.into(), position::of_char(sql, index)).into())
}

/// The server's error position as an index in characters from 0 into the
/// text that followed `prefix_chars` characters of the query sent.
pub(crate) fn server_position(error: &DbError, prefix_chars: usize) -> Option<usize> {
    match error.as_db_error()?.position()? {
        tokio_postgres::error::ErrorPosition::Original(position) => usize::try_from(*position)
            .ok()?
            .checked_sub(1 + prefix_chars),
        tokio_postgres::error::ErrorPosition::Internal { .. } => None,
    }
}

/// When the server gives no position (a constraint violation, a column
/// that already exists), finds the statement that failed by running the
/// script again, statement by statement, after `begin`, in a transaction
/// that is rolled back whatever happens. Only for errors that the same
/// statements give again, and only for a script that failed quickly.
pub(crate) async fn replay<C: Connection>(
    locked: &mut Locked<'_, C>,
    script: Script,
    begin: &str,
    error: &DbError,
    took: Duration,
) -> Option<LineColumn> {
    let code = error.code()?.code();
    let transient = TRANSIENT_CLASSES
        .iter()
        .any(|class| code.starts_with(class));
    if transient || took > REPLAY_LIMIT || locked.conn().is_closed() {
        return None;
    }
    locked.set_in_transaction(true);
    let mut found = None;
    if execute(locked.conn(), begin).await.is_ok() {
        for statement in script.statements() {
            if let Err(e) = execute(locked.conn(), statement.sql()).await {
                found = Some(
                    in_statement(&e, statement.sql(), statement.position())
                        .unwrap_or(statement.position()),
                );
                break;
            }
        }
    }
    locked.roll_back().await;
    found
}
