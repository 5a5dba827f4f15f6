//! Directives: comment lines `-- stowage:NAME [VALUE]` that come before a
//! migration's first statement (a `;` alone is an empty statement, which
//! does not count) and change how it runs.
//!
//! - `-- stowage:no-transaction`: run the statements one at a time in
//!   autocommit instead of in one transaction.
//! - `-- stowage:lock-timeout 5s`: give up on any lock the migration waits
//!   for longer than that (PostgreSQL's `lock_timeout`), so it fails fast
//!   instead of queueing other sessions' queries behind its own wait.
//! - `-- stowage:statement-timeout 10min`: cancel any statement that runs
//!   longer (PostgreSQL's `statement_timeout`).
//!
//! A timeout is a [`duration`] such as `250ms`, `1.5s` or `10min`, or `0`
//! to turn it off, and at most PostgreSQL's limit for a timeout,
//! 2,147,483,647 ms (about 24.8 days). A comment that starts with `stowage:` but is not a known directive, has
//! a bad value, or is placed after the first statement is a build error: a
//! misspelled directive must never be silently ignored.

use crate::duration::{self, InvalidDuration};
use crate::lexer::{Token, TokenKind};
use crate::position;
use crate::problem::Problem;

/// The directives a migration may carry.
pub const KNOWN: &[&str] = &[NO_TRANSACTION, LOCK_TIMEOUT, STATEMENT_TIMEOUT];

/// Runs the migration statement by statement, outside a transaction.
pub const NO_TRANSACTION: &str = "no-transaction";

/// Sets `lock_timeout` while the migration runs.
pub const LOCK_TIMEOUT: &str = "lock-timeout";

/// Sets `statement_timeout` while the migration runs.
pub const STATEMENT_TIMEOUT: &str = "statement-timeout";

/// What a migration's directives ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Directives {
    /// `-- stowage:no-transaction`
    pub no_transaction: bool,
    /// `-- stowage:lock-timeout`, in milliseconds.
    pub lock_timeout_ms: Option<u64>,
    /// `-- stowage:statement-timeout`, in milliseconds.
    pub statement_timeout_ms: Option<u64>,
}

/// Reads the directives from a migration's tokens (comments included).
/// `display` names the file in problems.
pub fn directives(
    sql: &str,
    tokens: &[Token<'_>],
    display: &str,
) -> Result<Directives, Vec<Problem>> {
    let mut found = Directives::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut problems = Vec::new();
    // Where the first statement starts; a `;` alone is an empty statement,
    // which runs nothing.
    let mut first_statement = None;
    for token in tokens {
        let body = match token.kind {
            TokenKind::LineComment => token.text.trim_start_matches('-'),
            TokenKind::BlockComment => token.text.trim_start_matches("/*").trim_end_matches("*/"),
            TokenKind::Semicolon => continue,
            _ => {
                first_statement.get_or_insert(token.start);
                continue;
            }
        };
        let body = body.trim();
        let Some(directive) = strip_prefix_ignore_case(body, "stowage:") else {
            continue;
        };
        let at = position::after(&sql[..token.start]);
        let problem = |message: String, help: String| Problem::at(display, at, message, help);
        let directive = directive.trim();
        let (name, value) = directive
            .split_once(char::is_whitespace)
            .map_or((directive, ""), |(name, value)| (name, value.trim()));
        let Some(name) = KNOWN.iter().copied().find(|known| *known == name) else {
            problems.push(problem(
                format!("`{body}` is not a stowage directive"),
                format!(
                    "the directives are `-- stowage:{NO_TRANSACTION}`, `-- stowage:{LOCK_TIMEOUT} 5s` and \
                     `-- stowage:{STATEMENT_TIMEOUT} 10min`; a comment must not start with `stowage:` otherwise"
                ),
            ));
            continue;
        };
        if token.kind == TokenKind::BlockComment {
            problems.push(problem(
                format!("the directive `stowage:{directive}` is in a block comment"),
                format!("write it as a line comment of its own, e.g. `-- stowage:{directive}`"),
            ));
            continue;
        }
        if let Some(start) = first_statement {
            let first = position::after(&sql[..start]);
            problems.push(problem(
                format!(
                    "the directive `-- stowage:{name}` comes after the first statement, which starts at \
                     line {}, column {}",
                    first.line, first.column
                ),
                format!(
                    "move it above line {}; directives apply to the whole migration",
                    first.line
                ),
            ));
            continue;
        }
        if seen.contains(&name) {
            problems.push(problem(
                format!("the directive `-- stowage:{name}` is given twice"),
                "remove one of them".to_owned(),
            ));
            continue;
        }
        seen.push(name);
        match name {
            NO_TRANSACTION if value.is_empty() => found.no_transaction = true,
            NO_TRANSACTION => problems.push(problem(
                format!("the directive `-- stowage:{NO_TRANSACTION}` takes no value, but has `{value}`"),
                format!("write it alone: `-- stowage:{NO_TRANSACTION}`"),
            )),
            _ => match timeout(value) {
                Ok(ms) if name == LOCK_TIMEOUT => found.lock_timeout_ms = Some(ms),
                Ok(ms) => found.statement_timeout_ms = Some(ms),
                Err(TimeoutError::NotADuration(e)) => problems.push(problem(
                    if value.is_empty() {
                        format!("the directive `-- stowage:{name}` needs a duration, but has none")
                    } else {
                        format!("the directive `-- stowage:{name}` needs a duration, but has `{value}`")
                    },
                    format!("{e}, which turns the timeout off"),
                )),
                Err(TimeoutError::AboveLimit(_)) => problems.push(problem(
                    format!(
                        "`{value}` is longer than PostgreSQL allows for `{}`: its limit is 2,147,483,647 ms \
                         (about 24.8 days)",
                        name.replace('-', "_")
                    ),
                    format!(
                        "give at most `{TIMEOUT_LIMIT_MS}ms`, e.g. `-- stowage:{name} 24d`, or `0` to turn the \
                         timeout off"
                    ),
                )),
            },
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(problems)
    }
}

/// The longest timeout PostgreSQL takes, in milliseconds: `lock_timeout`
/// and `statement_timeout` are 32-bit integer settings.
pub const TIMEOUT_LIMIT_MS: u64 = i32::MAX as u64;

/// Why a value is not a timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeoutError {
    /// It is not a [`duration`].
    NotADuration(InvalidDuration),
    /// It is longer than [`TIMEOUT_LIMIT_MS`]; the milliseconds it asks for.
    AboveLimit(u64),
}

/// A timeout directive's value in milliseconds: a [`duration`] of at most
/// [`TIMEOUT_LIMIT_MS`].
pub fn timeout(value: &str) -> Result<u64, TimeoutError> {
    match duration::milliseconds(value) {
        Ok(ms) if ms > TIMEOUT_LIMIT_MS => Err(TimeoutError::AboveLimit(ms)),
        Ok(ms) => Ok(ms),
        Err(e) => Err(TimeoutError::NotADuration(e)),
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
            ..Directives::default()
        });
        assert_eq!(
            read("-- stowage:no-transaction\ncreate index concurrently i on t (x);"),
            on
        );
        assert_eq!(
            read("\n-- a comment\n\n--stowage:no-transaction\nselect 1;"),
            on
        );
        // Empty statements run nothing, so the first statement is still to
        // come.
        assert_eq!(read(";\n-- stowage:no-transaction\nselect 1;"), on);
        assert_eq!(read(";; -- stowage:no-transaction\nselect 1;"), on);
    }

    #[test]
    fn refuses_what_it_does_not_know_or_cannot_apply() {
        let problems = |sql| read(sql).expect_err(sql);
        assert!(
            problems("-- stowage:no-transactions\nselect 1;")[0]
                .contains("m.sql:1:1: `stowage:no-transactions` is not")
        );
        assert!(problems("-- Stowage:notx\nselect 1;")[0].contains("is not a stowage directive"));
        assert_eq!(
            problems("\n  select 1;\n;\n-- stowage:no-transaction\n")[0],
            "m.sql:4:1: the directive `-- stowage:no-transaction` comes after the first statement, \
             which starts at line 2, column 3\n  help: move it above line 2; directives apply to the \
             whole migration"
        );
        assert!(problems("/* stowage:no-transaction */ select 1;")[0].contains("block comment"));
        assert!(
            problems("-- stowage:no-transaction\n-- stowage:no-transaction\nselect 1;")[0]
                .contains("twice")
        );
    }

    #[test]
    fn reads_timeouts() {
        let found =
            read("-- stowage:lock-timeout 5s\n-- stowage:statement-timeout 10min\nselect 1;")
                .unwrap();
        assert_eq!(found.lock_timeout_ms, Some(5_000));
        assert_eq!(found.statement_timeout_ms, Some(600_000));
        assert_eq!(
            read("-- stowage:lock-timeout 250ms\nselect 1;")
                .unwrap()
                .lock_timeout_ms,
            Some(250)
        );
        assert_eq!(
            read("-- stowage:lock-timeout 0s\nselect 1;")
                .unwrap()
                .lock_timeout_ms,
            Some(0)
        );
        assert_eq!(
            read("-- stowage:statement-timeout 1.5s\nselect 1;")
                .unwrap()
                .statement_timeout_ms,
            Some(1_500)
        );
        for bad in ["", "5", "-1s", "soon", "5 parsecs"] {
            let sql = format!("-- stowage:lock-timeout {bad}\nselect 1;");
            let problems = read(&sql).expect_err(&sql);
            assert!(problems[0].contains("needs a duration"), "{problems:?}");
        }
        assert!(
            read("-- stowage:no-transaction yes\nselect 1;").expect_err("value")[0]
                .contains("takes no value")
        );
    }

    #[test]
    fn zero_without_a_unit_turns_a_timeout_off() {
        let found = read("-- stowage:lock-timeout 0\n-- stowage:statement-timeout 0\nselect 1;");
        assert_eq!(
            found.map(|d| (d.lock_timeout_ms, d.statement_timeout_ms)),
            Ok((Some(0), Some(0)))
        );
    }

    #[test]
    fn refuses_a_timeout_above_the_servers_limit() {
        let limit = read("-- stowage:lock-timeout 2147483647ms\nselect 1;");
        assert_eq!(limit.unwrap().lock_timeout_ms, Some(2_147_483_647));
        let problems = read("-- stowage:statement-timeout 30d\nselect 1;").expect_err("30d");
        assert!(
            problems[0].starts_with(
                "m.sql:1:1: `30d` is longer than PostgreSQL allows for `statement_timeout`: \
                 its limit is 2,147,483,647 ms"
            ),
            "{problems:?}"
        );
        assert_eq!(
            timeout("2147483648ms"),
            Err(TimeoutError::AboveLimit(2_147_483_648))
        );
        assert_eq!(timeout("24d"), Ok(2_073_600_000));
        assert_eq!(timeout("1.5s"), Ok(1_500));
    }

    #[test]
    fn says_what_a_duration_is() {
        let problems = read("-- stowage:lock-timeout\nselect 1;").expect_err("none");
        assert_eq!(
            problems[0],
            "m.sql:1:1: the directive `-- stowage:lock-timeout` needs a duration, but has none\n  \
             help: there is no duration: write a number and a unit (ms, s, min, h or d), such as \
             `250ms`, `1.5s` or `10min`, or just `0`, which turns the timeout off"
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
