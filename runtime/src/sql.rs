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
/// of the columns of its first row, if it returned one.
pub(crate) fn first_row(
    client: &mut postgres::Client,
    query: &str,
) -> Result<Option<Vec<Option<String>>>, postgres::Error> {
    for message in client.simple_query(query)? {
        if let postgres::SimpleQueryMessage::Row(row) = message {
            return Ok(Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_owned))
                    .collect(),
            ));
        }
    }
    Ok(None)
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

/// Runs `query` by the simple protocol and returns the first column of
/// every row (NULLs left out).
pub(crate) fn first_column(
    client: &mut postgres::Client,
    query: &str,
) -> Result<Vec<String>, postgres::Error> {
    Ok(client
        .simple_query(query)?
        .into_iter()
        .filter_map(|message| match message {
            postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .collect())
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
