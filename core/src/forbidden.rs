//! Statements no migration may hold, whatever its directives: those that
//! undo what stowage holds on the session for the run, and those that need
//! a client that sends or reads data, which stowage is not.
//!
//! - `DISCARD ALL` runs `pg_advisory_unlock_all()`, `RESET ALL` and `SET
//!   SESSION AUTHORIZATION DEFAULT`. `DISCARD PLANS`, `SEQUENCES` and
//!   `TEMP` are harmless and allowed.
//! - A call of `pg_advisory_unlock_all()` (qualified or not, its name
//!   quoted or not) outside strings, comments and dollar-quoted bodies.
//! - `COPY ... FROM STDIN` and `COPY ... TO STDOUT`, in any spelling and
//!   with any options (`COPY (query) TO STDOUT`): the server then waits for
//!   data from the client, or sends it rows, in a sub-protocol stowage does
//!   not speak.

use crate::lexer::{Token, TokenKind};

/// A statement no migration may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// `DISCARD ALL`.
    DiscardAll,
    /// A call of `pg_advisory_unlock_all()`.
    UnlockAll,
    /// `COPY ... FROM STDIN` (or `FROM STDOUT`, which means the same).
    CopyFromClient,
    /// `COPY ... TO STDOUT` (or `TO STDIN`, which means the same).
    CopyToClient,
}

impl Forbidden {
    /// What is wrong with it.
    pub fn message(self) -> &'static str {
        match self {
            Forbidden::DiscardAll => {
                "`DISCARD ALL` releases the migration lock stowage holds for the run and drops the session's \
                 settings, such as the run's timeouts and search_path: it runs `pg_advisory_unlock_all()`, \
                 `RESET ALL` and `SET SESSION AUTHORIZATION DEFAULT`"
            }
            Forbidden::UnlockAll => {
                "`pg_advisory_unlock_all()` releases the migration lock stowage holds for the run, so another \
                 process could apply the same migrations at the same time"
            }
            Forbidden::CopyFromClient => {
                "`COPY ... FROM STDIN` waits for rows from the client, and stowage sends none: the connection \
                 breaks (\"unexpected message from server\") and the failure is not recorded"
            }
            Forbidden::CopyToClient => {
                "`COPY ... TO STDOUT` sends rows to the client, and stowage reads none: the connection breaks \
                 (\"unexpected message from server\") and the failure is not recorded"
            }
        }
    }

    /// How to do without it.
    pub fn help(self) -> &'static str {
        match self {
            Forbidden::DiscardAll => {
                "remove it; `DISCARD PLANS`, `DISCARD SEQUENCES` and `DISCARD TEMP` leave the lock and the \
                 settings alone"
            }
            Forbidden::UnlockAll => {
                "remove the call; to release an advisory lock of your own, call `pg_advisory_unlock` with its key"
            }
            Forbidden::CopyFromClient => {
                "write the rows with `INSERT ... VALUES` or `INSERT ... SELECT`, or `COPY ... FROM` a file on the \
                 database server, or load the data outside the migration (e.g. with psql's `\\copy`)"
            }
            Forbidden::CopyToClient => {
                "remove it, since a migration's output is not kept: to export data, `COPY ... TO` a file on the \
                 database server, or export it outside the migration (e.g. with psql's `\\copy`)"
            }
        }
    }
}

/// The first thing no migration may hold in the statement made of `tokens`
/// (comments included), with its offset in the migration.
pub fn forbidden(tokens: &[Token<'_>]) -> Option<(Forbidden, usize)> {
    let tokens: Vec<_> = tokens.iter().filter(|t| !t.kind.is_comment()).collect();
    let first = tokens.first()?;
    let word = |i: usize, keyword: &str| tokens.get(i).is_some_and(|t| t.is_word(keyword));
    if word(0, "discard") && word(1, "all") {
        return Some((Forbidden::DiscardAll, first.start));
    }
    if word(0, "copy")
        && let Some(copy) = copy_with_client(&tokens)
    {
        return Some((copy, first.start));
    }
    tokens.windows(3).find_map(|w| {
        // The cheap test first: a call with no argument.
        let call = w[1].kind == TokenKind::OpenParen && w[2].kind == TokenKind::CloseParen;
        let name = call
            && match w[0].kind {
                TokenKind::Word => w[0].text.eq_ignore_ascii_case("pg_advisory_unlock_all"),
                TokenKind::QuotedIdentifier => w[0].text == "\"pg_advisory_unlock_all\"",
                _ => false,
            };
        name.then_some((Forbidden::UnlockAll, w[0].start))
    })
}

/// `COPY` whose file is `STDIN` or `STDOUT`: the first `FROM` or `TO`
/// outside parentheses says which way, and the file comes after it and
/// maybe `PROGRAM`.
fn copy_with_client(tokens: &[&Token<'_>]) -> Option<Forbidden> {
    let mut depth = 0usize;
    let direction = tokens.iter().position(|t| {
        match t.kind {
            TokenKind::OpenParen => depth += 1,
            TokenKind::CloseParen => depth = depth.saturating_sub(1),
            _ => {}
        }
        depth == 0 && (t.is_word("from") || t.is_word("to"))
    })?;
    let mut file = direction + 1;
    if tokens.get(file).is_some_and(|t| t.is_word("program")) {
        file += 1;
    }
    let client = tokens
        .get(file)
        .is_some_and(|t| t.is_word("stdin") || t.is_word("stdout"));
    match (client, tokens[direction].is_word("from")) {
        (false, _) => None,
        (true, true) => Some(Forbidden::CopyFromClient),
        (true, false) => Some(Forbidden::CopyToClient),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokens;
    use Forbidden::*;

    fn of(sql: &str) -> Option<(Forbidden, usize)> {
        let tokens: Vec<_> = tokens(sql).collect::<Result<_, _>>().expect("lexes");
        forbidden(&tokens)
    }

    #[test]
    fn refuses_discard_all() {
        assert_eq!(of("DISCARD ALL"), Some((DiscardAll, 0)));
        assert_eq!(of("discard /* c */ all"), Some((DiscardAll, 0)));
        for sql in [
            "DISCARD PLANS",
            "discard sequences",
            "discard temp",
            "DISCARD TEMPORARY",
            "select 'discard all'",
        ] {
            assert_eq!(of(sql), None, "{sql}");
        }
    }

    #[test]
    fn refuses_a_call_of_pg_advisory_unlock_all() {
        assert_eq!(of("SELECT pg_advisory_unlock_all()"), Some((UnlockAll, 7)));
        assert_eq!(
            of("select pg_catalog.PG_ADVISORY_UNLOCK_ALL ( /* now */ )"),
            Some((UnlockAll, 18))
        );
        assert_eq!(
            of("select \"pg_advisory_unlock_all\"()"),
            Some((UnlockAll, 7))
        );
        assert_eq!(
            of("select 1, (select pg_advisory_unlock_all())"),
            Some((UnlockAll, 18))
        );
        for sql in [
            "select 'pg_advisory_unlock_all()'",
            "-- pg_advisory_unlock_all()\nselect 1",
            "do $$ begin perform pg_advisory_unlock_all(); end $$",
            "select pg_advisory_unlock(42)",
            "select \"PG_ADVISORY_UNLOCK_ALL\"()",
            "create table pg_advisory_unlock_all (x int)",
        ] {
            assert_eq!(of(sql), None, "{sql}");
        }
    }

    #[test]
    fn refuses_copy_with_the_client() {
        for (sql, what) in [
            ("COPY t FROM STDIN", CopyFromClient),
            ("copy t from stdin", CopyFromClient),
            (
                "COPY public.t (a, b) FROM stdin WITH (FORMAT csv)",
                CopyFromClient,
            ),
            ("COPY t FROM STDIN WITH CSV HEADER", CopyFromClient),
            ("copy binary t from stdin", CopyFromClient),
            ("copy t from stdout", CopyFromClient),
            ("COPY t TO STDOUT", CopyToClient),
            ("copy t (a) to stdout (format csv)", CopyToClient),
            ("COPY (SELECT 1 FROM t) TO STDOUT", CopyToClient),
            (
                "copy (select * from t where a in (select b from u)) to stdout",
                CopyToClient,
            ),
            ("copy t to program stdout", CopyToClient),
        ] {
            assert_eq!(of(sql), Some((what, 0)), "{sql}");
        }
        for sql in [
            "COPY t FROM '/srv/data/t.csv'",
            "copy t to '/tmp/t.csv' (format csv)",
            "copy (select 'stdin' from t) to '/tmp/x'",
            "copy t from program 'zcat /srv/t.gz'",
            "copy \"from\" from '/x'",
            "select 1 from stdin",
        ] {
            assert_eq!(of(sql), None, "{sql}");
        }
    }

    #[test]
    fn says_what_to_do_instead() {
        for what in [DiscardAll, UnlockAll, CopyFromClient, CopyToClient] {
            assert!(!what.message().is_empty() && !what.help().is_empty());
        }
        assert!(CopyFromClient.help().contains("INSERT ... SELECT"));
    }
}
