//! Directives: comment lines `-- stowage:NAME` that come before a
//! migration's first statement and change how it runs.
//!
//! The one directive is `-- stowage:no-transaction`: run the statements one
//! at a time in autocommit instead of in one transaction. A comment that
//! starts with `stowage:` but is not a known directive, or one placed after
//! the first statement, is a build error: a misspelled directive must never
//! be silently ignored.

use crate::lexer::{Token, TokenKind};
use crate::position;
use crate::problem::Problem;

/// The directives a migration may carry.
pub const KNOWN: &[&str] = &[NO_TRANSACTION];

/// Runs the migration statement by statement, outside a transaction.
pub const NO_TRANSACTION: &str = "no-transaction";

/// What a migration's directives ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Directives {
    /// `-- stowage:no-transaction`
    pub no_transaction: bool,
}

/// Reads the directives from a migration's tokens (comments included).
/// `display` names the file in problems.
pub fn directives(
    sql: &str,
    tokens: &[Token<'_>],
    display: &str,
) -> Result<Directives, Vec<Problem>> {
    let mut found = Directives::default();
    let mut problems = Vec::new();
    let mut before_first_statement = true;
    for token in tokens {
        let body = match token.kind {
            TokenKind::LineComment => token.text.trim_start_matches('-'),
            TokenKind::BlockComment => token.text.trim_start_matches("/*").trim_end_matches("*/"),
            _ => {
                before_first_statement = false;
                continue;
            }
        };
        let body = body.trim();
        let Some(directive) = strip_prefix_ignore_case(body, "stowage:") else {
            continue;
        };
        let at = position::after(&sql[..token.start]);
        let subject = format!("{display}:{}", at.line);
        let directive = directive.trim();
        let problem = if token.kind == TokenKind::BlockComment {
            Some(Problem::new(
                subject,
                format!("the directive `stowage:{directive}` is in a block comment"),
                format!(
                    "write it as a line comment of its own, e.g. `-- stowage:{NO_TRANSACTION}`"
                ),
            ))
        } else if !KNOWN.contains(&directive) {
            Some(Problem::new(
                subject,
                format!("`{body}` is not a stowage directive"),
                format!(
                    "the known directive is `-- stowage:{NO_TRANSACTION}`; a comment must not start with `stowage:` otherwise"
                ),
            ))
        } else if !before_first_statement {
            Some(Problem::new(
                subject,
                format!("the directive `-- stowage:{directive}` comes after the first statement"),
                "move it above the first statement; directives apply to the whole migration",
            ))
        } else if found.no_transaction {
            Some(Problem::new(
                subject,
                format!("the directive `-- stowage:{directive}` is given twice"),
                "remove one of them",
            ))
        } else {
            found.no_transaction = true;
            None
        };
        problems.extend(problem);
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(problems)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokens;

    fn read(sql: &str) -> Result<Directives, Vec<String>> {
        let tokens: Vec<_> = tokens(sql).collect::<Result<_, _>>().expect("lexes");
        directives(sql, &tokens, "m.sql")
            .map_err(|ps| ps.into_iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn finds_the_directive_before_the_first_statement() {
        assert_eq!(read("select 1;"), Ok(Directives::default()));
        let on = Ok(Directives {
            no_transaction: true,
        });
        assert_eq!(
            read("-- stowage:no-transaction\ncreate index concurrently i on t (x);"),
            on
        );
        assert_eq!(
            read("\n-- a comment\n\n--stowage:no-transaction\nselect 1;"),
            on
        );
    }

    #[test]
    fn refuses_what_it_does_not_know_or_cannot_apply() {
        let problems = |sql| read(sql).expect_err(sql);
        assert!(
            problems("-- stowage:no-transactions\nselect 1;")[0]
                .contains("m.sql:1: `stowage:no-transactions` is not")
        );
        assert!(problems("-- Stowage:notx\nselect 1;")[0].contains("is not a stowage directive"));
        assert!(
            problems("select 1;\n-- stowage:no-transaction\n")[0]
                .contains("m.sql:2: the directive")
        );
        assert!(problems("/* stowage:no-transaction */ select 1;")[0].contains("block comment"));
        assert!(
            problems("-- stowage:no-transaction\n-- stowage:no-transaction\nselect 1;")[0]
                .contains("twice")
        );
    }

    #[test]
    fn ignores_other_comments_and_strings() {
        assert_eq!(
            read("-- see stowage:no-transaction\nselect '-- stowage:x';"),
            Ok(Directives::default())
        );
    }
}
