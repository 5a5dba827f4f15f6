//! The schemas a fleet's member selects, listed, matching a pattern or
//! returned by the program's query, with what the catalog shows of each:
//! whether it exists, and whether its digest can be read.

use crate::conversation::connection::Connection;
use crate::conversation::reply::{self, FleetSchema};
use crate::conversation::sql::{self, Selection};
use crate::data::error::Error;
use crate::data::fleet::Schemas;
use crate::rules::glob::like_pattern;
use std::collections::{HashMap, HashSet};

/// The schemas selected, in the member's order, and what the catalog
/// shows of those that exist.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selected {
    /// Listed: in the order given; matching: by name; by a query: in the
    /// order of its rows. Each once.
    pub names: Vec<String>,
    pub found: HashMap<String, FleetSchema>,
}

/// Selects the schemas of `schemas`, whose tracking table is `table`.
pub(crate) async fn select<C: Connection>(
    conn: &mut C,
    schemas: &Schemas,
    table: &str,
) -> Result<Selected, Error> {
    let names = match schemas {
        Schemas::Listed(names) => names.clone(),
        Schemas::Matching(glob) => {
            let found = catalog(conn, Selection::Like(&like_pattern(glob)), table).await?;
            let names = found.iter().map(|f| f.name.clone()).collect();
            return Ok(Selected {
                names,
                found: found.into_iter().map(|f| (f.name.clone(), f)).collect(),
            });
        }
        Schemas::Query(query) => conn
            .simple_query(query)
            .await
            .map(|messages| reply::first_column(&messages))
            .map_err(Error::database(
                "running the query that selects the schemas",
            ))?,
    };
    let mut seen = HashSet::new();
    let names: Vec<String> = names
        .into_iter()
        .filter(|name| seen.insert(name.clone()))
        .collect();
    if names.is_empty() {
        return Ok(Selected::default());
    }
    let found = catalog(conn, Selection::Names(&names), table).await?;
    Ok(Selected {
        names,
        found: found.into_iter().map(|f| (f.name.clone(), f)).collect(),
    })
}

async fn catalog<C: Connection>(
    conn: &mut C,
    selection: Selection<'_>,
    table: &str,
) -> Result<Vec<FleetSchema>, Error> {
    conn.simple_query(&sql::fleet_schemas(selection, table))
        .await
        .map(|messages| reply::fleet_schemas(&messages))
        .map_err(Error::database("looking up the schemas in the catalog"))
}
