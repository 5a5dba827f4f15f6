//! A fleet's session, made ready for its next target: left as a new
//! session is, and, for a target in a schema, working in that schema.

use crate::conversation::connection::{Connection, execute};
use crate::conversation::sql;
use crate::data::error::Error;

/// The SQLSTATE of a unique violation: two sessions creating one schema at
/// once, the second finds it made (`IF NOT EXISTS` does not cover that).
const UNIQUE_VIOLATION: &str = "23505";

/// Resets the session (what an earlier target's migrations set or left
/// goes), then, for a target in `schema`, creates the schema when `create`
/// and puts it first on `search_path`, before the connection's own. One
/// round trip; two when another session created the schema meanwhile.
pub(crate) async fn prepare<C: Connection>(
    conn: &mut C,
    schema: Option<&str>,
    create: bool,
) -> Result<(), Error> {
    let prepared = match execute(conn, &sql::prepare_session(schema, create)).await {
        Err(e) if create && e.code().is_some_and(|c| c.code() == UNIQUE_VIOLATION) => {
            execute(conn, &sql::prepare_session(schema, false)).await
        }
        prepared => prepared,
    };
    prepared.map_err(Error::database("preparing the session for the target"))
}
