//! Statements no migration may hold, whatever its directives: those that
//! undo what stowage holds on the session for the run.
//!
//! - `DISCARD ALL` runs `pg_advisory_unlock_all()`, `RESET ALL` and `SET
//!   SESSION AUTHORIZATION DEFAULT`. `DISCARD PLANS`, `SEQUENCES` and
//!   `TEMP` are harmless and allowed.
//! - A call of `pg_advisory_unlock_all()` (qualified or not, its name
//!   quoted or not) outside strings, comments and dollar-quoted bodies.

use crate::lexer::{Token, TokenKind};

/// A statement no migration may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// `DISCARD ALL`.
    DiscardAll,
    /// A call of `pg_advisory_unlock_all()`.
    UnlockAll,
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
    tokens.windows(3).find_map(|w| {
        let name = match w[0].kind {
            TokenKind::Word => w[0].text.eq_ignore_ascii_case("pg_advisory_unlock_all"),
            TokenKind::QuotedIdentifier => w[0].text == "\"pg_advisory_unlock_all\"",
            _ => false,
        };
        let call = w[1].kind == TokenKind::OpenParen && w[2].kind == TokenKind::CloseParen;
        (name && call).then_some((Forbidden::UnlockAll, w[0].start))
    })
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
    fn says_what_to_do_instead() {
        for what in [DiscardAll, UnlockAll] {
            assert!(!what.message().is_empty() && !what.help().is_empty());
        }
    }
}
