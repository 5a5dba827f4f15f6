//! Quoting names and values into SQL text, for the few statements stowage
//! builds itself. Every name is quoted, never trusted.

/// `name` as a quoted identifier: `"a""b"` for `a"b`.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `value` as an escape string literal, whatever `standard_conforming_strings` is.
pub(crate) fn literal(value: &str) -> String {
    format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

/// Runs `query` by the simple protocol (one round trip) and returns the text
/// of the columns of every row.
pub(crate) fn rows(
    client: &mut postgres::Client,
    query: &str,
) -> Result<Vec<Vec<Option<String>>>, postgres::Error> {
    Ok(client
        .simple_query(query)?
        .into_iter()
        .filter_map(|message| match message {
            postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_owned))
                    .collect(),
            ),
            _ => None,
        })
        .collect())
}

/// Runs `query` by the simple protocol (one round trip) and returns the text
/// of the columns of its first row, if it returned one.
pub(crate) fn first_row(
    client: &mut postgres::Client,
    query: &str,
) -> Result<Option<Vec<Option<String>>>, postgres::Error> {
    Ok(rows(client, query)?.into_iter().next())
}

/// Runs `query` by the simple protocol and returns the first column of
/// every row (NULLs left out).
pub(crate) fn first_column(
    client: &mut postgres::Client,
    query: &str,
) -> Result<Vec<String>, postgres::Error> {
    Ok(rows(client, query)?
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .collect())
}

/// Runs `sql`, statements that open a transaction with `BEGIN`, and if it
/// fails part way rolls that transaction back, so that the session can go
/// on; the error returned is the one of `sql`.
pub(crate) fn batch_or_rollback(
    client: &mut postgres::Client,
    sql: &str,
) -> Result<(), postgres::Error> {
    client
        .batch_execute(sql)
        .inspect_err(|_| rollback(client, "a failed batch"))
}

/// Rolls back whatever transaction a failure left open. A failure to do so
/// is only logged: the connection is lost, or there was nothing to undo.
pub(crate) fn rollback(client: &mut postgres::Client, after: &str) {
    if client.is_closed() {
        return;
    }
    if let Err(e) = client.batch_execute("ROLLBACK") {
        tracing::debug!(error = %e, "rolling back after {after}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_hostile_text() {
        assert_eq!(
            ident(r#"a"; drop table x; --"#),
            r#""a""; drop table x; --""#
        );
        assert_eq!(literal(r"it's \ here"), r"E'it''s \\ here'");
    }
}
