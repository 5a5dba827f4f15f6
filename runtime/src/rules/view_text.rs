//! A view's query as PostgreSQL 16 and newer print it, from the text that
//! 13 to 15 print.
//!
//! Up to 15 a view's query kept two placeholder range entries beside its
//! own, so `pg_get_viewdef` wrote every column with its table's name or
//! alias; from 16, a query that reads one relation (one item in its `FROM`,
//! no join) writes its columns alone (`SELECT email FROM users`, where 15
//! wrote `SELECT users.email FROM users`). Sub-queries, the queries of a
//! `WITH` and the branches of a `UNION` write theirs in full in every
//! version, and so does a whole-row reference (`u.*`). The same view reads
//! the same on every version once the older text has the qualification of
//! its top-level columns taken out, which [`unqualified`] does.

use stowage_core::lexer::{self, Token, TokenKind};

/// The words that end a `FROM` clause at the top level of a query.
const AFTER_FROM: [&str; 9] = [
    "WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "FETCH", "FOR",
];

/// The words that make a query a set operation, whose branches keep their
/// qualification.
const SET_OPERATIONS: [&str; 3] = ["UNION", "INTERSECT", "EXCEPT"];

/// `definition`, a view's query as PostgreSQL 13 to 15 print it, as 16 and
/// newer print it; unchanged when its top level reads more or less than
/// one relation, or is a set operation.
pub(crate) fn unqualified(definition: &str) -> String {
    let Ok(tokens) = lexer::tokens(definition).collect::<Result<Vec<_>, _>>() else {
        return definition.to_owned();
    };
    let tokens: Vec<Token<'_>> = tokens
        .into_iter()
        .filter(|t| !t.kind.is_comment())
        .collect();
    // The top level: tokens outside parentheses, and the parenthesized
    // groups that are not sub-queries (a function's arguments, an
    // expression), which belong to it too.
    let top = top_level(&tokens);
    if top
        .iter()
        .any(|&i| SET_OPERATIONS.iter().any(|w| tokens[i].is_word(w)))
    {
        return definition.to_owned();
    }
    let Some(refname) = single_relation(&tokens, &top) else {
        return definition.to_owned();
    };
    let mut text = String::with_capacity(definition.len());
    let mut copied = 0;
    for window in top.windows(3) {
        let [a, dot, column] = [window[0], window[1], window[2]];
        let qualifies = dot == a + 1
            && column == a + 2
            && tokens[a].text == refname
            && tokens[dot].text == "."
            && matches!(
                tokens[column].kind,
                TokenKind::Word | TokenKind::QuotedIdentifier
            )
            && (a == 0 || tokens[a - 1].text != ".")
            && tokens
                .get(column + 1)
                .is_none_or(|t| t.kind != TokenKind::OpenParen && t.text != ".");
        if qualifies {
            text.push_str(&definition[copied..tokens[a].start]);
            copied = tokens[column].start;
        }
    }
    text.push_str(&definition[copied..]);
    text
}

/// The indexes of the tokens at the top level of the query.
fn top_level(tokens: &[Token<'_>]) -> Vec<usize> {
    let mut top = Vec::new();
    // For each open parenthesis, whether it opens a sub-query.
    let mut open: Vec<bool> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let in_subquery = open.iter().any(|&sub| sub);
        match token.kind {
            TokenKind::OpenParen => {
                let next = tokens.get(i + 1);
                let sub = next.is_some_and(|n| {
                    n.is_word("SELECT")
                        || n.is_word("WITH")
                        || n.is_word("VALUES")
                        || n.is_word("TABLE")
                });
                open.push(sub);
            }
            TokenKind::CloseParen => {
                open.pop();
            }
            _ => {}
        }
        let opens_subquery = token.kind == TokenKind::OpenParen && open.last() == Some(&true);
        if !in_subquery && !opens_subquery {
            top.push(i);
        }
    }
    top
}

/// The name that the top level's one relation is referred to by (its
/// alias, or its own name), if its `FROM` holds exactly one item.
fn single_relation<'a>(tokens: &[Token<'a>], top: &[usize]) -> Option<&'a str> {
    // Depth in parentheses of each top-level token, to find the FROM at
    // depth 0 (not the one of `EXTRACT(... FROM ...)`).
    let mut depth = 0usize;
    let mut at_zero = Vec::new();
    for &i in top {
        match tokens[i].kind {
            TokenKind::OpenParen => depth += 1,
            TokenKind::CloseParen => depth = depth.saturating_sub(1),
            _ if depth == 0 => at_zero.push(i),
            _ => {}
        }
    }
    let from = at_zero.iter().position(|&i| {
        tokens[i].is_word("FROM") && (i == 0 || !tokens[i - 1].is_word("DISTINCT"))
    })?;
    let clause: Vec<usize> = at_zero[from + 1..]
        .iter()
        .copied()
        .take_while(|&i| !AFTER_FROM.iter().any(|w| tokens[i].is_word(w)) && tokens[i].text != ";")
        .collect();
    let several = clause.iter().any(|&i| {
        let t = &tokens[i];
        t.text == "," || t.is_word("JOIN") || t.is_word("LATERAL") || t.is_word("ROWS")
    });
    if several || clause.is_empty() {
        return None;
    }
    // The last name at depth 0 that is not followed by `.`: the alias, or
    // the relation's (or function's) own name.
    clause
        .iter()
        .rev()
        .map(|&i| (i, &tokens[i]))
        .find(|(i, t)| {
            matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdentifier)
                && !t.is_word("ONLY")
                && tokens.get(i + 1).is_none_or(|n| n.text != ".")
        })
        .map(|(_, t)| t.text)
}

#[cfg(test)]
mod tests {
    use super::unqualified;

    /// What PostgreSQL 15 printed, and what 16 prints, for the same views.
    const PAIRS: [(&str, &str); 10] = [
        (
            " SELECT users.email\n   FROM users;",
            " SELECT email\n   FROM users;",
        ),
        (
            " SELECT u.email,\n    u.id\n   FROM users u\n  WHERE u.id > 3 AND lower(u.email) ~~ '%x'::text;",
            " SELECT email,\n    id\n   FROM users u\n  WHERE id > 3 AND lower(email) ~~ '%x'::text;",
        ),
        (
            " SELECT log.id,\n    log.at\n   FROM audit.log;",
            " SELECT id,\n    at\n   FROM audit.log;",
        ),
        (
            " SELECT users.email\n   FROM users\n  WHERE (users.id IN ( SELECT accounts.id\n           FROM accounts\n          WHERE accounts.id = users.id));",
            " SELECT email\n   FROM users\n  WHERE (id IN ( SELECT accounts.id\n           FROM accounts\n          WHERE accounts.id = users.id));",
        ),
        (
            " WITH x AS (\n         SELECT users.id,\n            users.email\n           FROM users\n        )\n SELECT x.id\n   FROM x\n  WHERE x.email <> ''::text;",
            " WITH x AS (\n         SELECT users.id,\n            users.email\n           FROM users\n        )\n SELECT id\n   FROM x\n  WHERE email <> ''::text;",
        ),
        (
            " SELECT g.i\n   FROM generate_series(1, 3) g(i);",
            " SELECT i\n   FROM generate_series(1, 3) g(i);",
        ),
        (
            " SELECT \"U\".id\n   FROM users \"U\";",
            " SELECT id\n   FROM users \"U\";",
        ),
        (
            " SELECT users.id,\n    rank() OVER (PARTITION BY users.account_id ORDER BY users.id) AS r\n   FROM users;",
            " SELECT id,\n    rank() OVER (PARTITION BY account_id ORDER BY id) AS r\n   FROM users;",
        ),
        (
            " SELECT\n        CASE\n            WHEN u.disabled THEN 'x'::text\n            ELSE u.email\n        END AS e,\n    ( SELECT count(*) AS count\n           FROM accounts a\n          WHERE a.id = u.account_id) AS c\n   FROM users u;",
            " SELECT\n        CASE\n            WHEN disabled THEN 'x'::text\n            ELSE email\n        END AS e,\n    ( SELECT count(*) AS count\n           FROM accounts a\n          WHERE a.id = u.account_id) AS c\n   FROM users u;",
        ),
        (
            " SELECT DISTINCT ON (users.account_id) users.account_id,\n    users.id\n   FROM users\n  ORDER BY users.account_id, users.id;",
            " SELECT DISTINCT ON (account_id) account_id,\n    id\n   FROM users\n  ORDER BY account_id, id;",
        ),
    ];

    #[test]
    fn a_view_of_one_relation_reads_as_sixteen_prints_it() {
        for (fifteen, sixteen) in PAIRS {
            assert_eq!(unqualified(fifteen), sixteen);
            assert_eq!(unqualified(sixteen), sixteen, "16's text is left as it is");
        }
    }

    #[test]
    fn joins_set_operations_and_whole_rows_keep_their_names() {
        for same in [
            " SELECT a.id AS account_id,\n    count(u.id) AS n\n   FROM accounts a\n     LEFT JOIN users u ON u.account_id = a.id\n  GROUP BY a.id;",
            " SELECT users.id\n   FROM users\nUNION ALL\n SELECT accounts.id\n   FROM accounts;",
            " SELECT row_to_json(u.*) AS j\n   FROM users u;",
            " SELECT a.id, b.id\n   FROM a, b;",
            " SELECT 1 AS one;",
        ] {
            assert_eq!(unqualified(same), same);
        }
    }
}
