//! Where a statement can run: some statements PostgreSQL refuses inside a
//! transaction block, and transaction control would end the transaction a
//! migration runs in. Statements are read as tokens, so strings, comments
//! and identifiers (`CREATE TABLE vacuum_log`) never look like keywords.

use crate::lexer::{Token, TokenKind};

/// What a statement needs of its surroundings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// It runs anywhere.
    Anywhere,
    /// PostgreSQL refuses it inside a transaction block; the text names it.
    OutsideTransaction(&'static str),
    /// It begins or ends a transaction; the text names it.
    TransactionControl(&'static str),
}

/// A statement's tokens as placement reads them: unquoted words upper-cased,
/// each with the parenthesis depth it stands at; comments left out.
struct Words {
    words: Vec<(String, usize)>,
}

impl Words {
    fn new(tokens: &[Token<'_>]) -> Words {
        let mut depth = 0usize;
        let mut words = Vec::new();
        for token in tokens {
            match token.kind {
                TokenKind::LineComment | TokenKind::BlockComment => {}
                TokenKind::OpenParen => {
                    words.push(("(".to_owned(), depth));
                    depth += 1;
                }
                TokenKind::CloseParen => {
                    depth = depth.saturating_sub(1);
                    words.push((")".to_owned(), depth));
                }
                TokenKind::Word => words.push((token.text.to_ascii_uppercase(), depth)),
                _ => words.push((token.text.to_owned(), depth)),
            }
        }
        Words { words }
    }

    /// The `i`th token, or "" past the end.
    fn at(&self, i: usize) -> &str {
        self.words.get(i).map_or("", |(w, _)| w.as_str())
    }

    /// Whether the statement starts with `prefix`.
    fn starts(&self, prefix: &[&str]) -> bool {
        prefix.iter().enumerate().all(|(i, p)| self.at(i) == *p)
    }

    /// Whether `word` stands outside any parentheses.
    fn has_top_level(&self, word: &str) -> bool {
        self.words.iter().any(|(w, d)| *d == 0 && w == word)
    }

    /// Whether an option `name = value` (in a `WITH (...)` list) is set to
    /// one of PostgreSQL's spellings of false.
    fn option_is_false(&self, name: &str) -> bool {
        self.words.windows(3).any(|w| {
            w[0].0 == name
                && w[1].0 == "="
                && matches!(
                    w[2].0.to_ascii_lowercase().as_str(),
                    "false" | "off" | "0" | "'false'" | "'off'"
                )
        })
    }

    /// The index after a parenthesized option list at `i`, or `i`.
    fn skip_options(&self, i: usize) -> usize {
        if self.at(i) != "(" {
            return i;
        }
        let depth = self.words[i].1;
        self.words[i + 1..]
            .iter()
            .position(|(w, d)| w == ")" && *d == depth)
            .map_or(self.words.len(), |close| i + close + 2)
    }
}

/// Where the statement made of `tokens` can run.
pub fn placement(tokens: &[Token<'_>]) -> Placement {
    use Placement::{Anywhere, OutsideTransaction as Outside, TransactionControl as Control};
    let w = Words::new(tokens);
    match w.at(0) {
        "BEGIN" => Control("BEGIN"),
        "START" if w.at(1) == "TRANSACTION" => Control("START TRANSACTION"),
        "COMMIT" if w.at(1) == "PREPARED" => Outside("COMMIT PREPARED"),
        "COMMIT" | "END" => Control("COMMIT"),
        "ROLLBACK" if w.at(1) == "PREPARED" => Outside("ROLLBACK PREPARED"),
        "ROLLBACK" | "ABORT" if w.at(1) != "TO" && w.at(2) != "TO" => Control("ROLLBACK"),
        "PREPARE" if w.at(1) == "TRANSACTION" => Control("PREPARE TRANSACTION"),
        "VACUUM" => Outside("VACUUM"),
        // `CLUSTER`, `CLUSTER VERBOSE` and `CLUSTER (VERBOSE)`: no table.
        "CLUSTER"
            if {
                let i = w.skip_options(1);
                w.at(i + usize::from(w.at(i) == "VERBOSE")).is_empty()
            } =>
        {
            Outside("CLUSTER without a table")
        }
        "DISCARD" if w.at(1) == "ALL" => Outside("DISCARD ALL"),
        "ALTER" if w.at(1) == "SYSTEM" => Outside("ALTER SYSTEM"),
        "ALTER"
            if w.starts(&["ALTER", "DATABASE"]) && w.at(3) == "SET" && w.at(4) == "TABLESPACE" =>
        {
            Outside("ALTER DATABASE ... SET TABLESPACE")
        }
        "ALTER"
            if w.at(1) == "TABLE"
                && w.has_top_level("DETACH")
                && w.has_top_level("PARTITION")
                && w.has_top_level("CONCURRENTLY") =>
        {
            Outside("ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY")
        }
        "ALTER" if w.starts(&["ALTER", "SUBSCRIPTION"]) => match (w.at(3), w.at(4)) {
            ("REFRESH", "PUBLICATION") => Outside("ALTER SUBSCRIPTION ... REFRESH PUBLICATION"),
            ("SET" | "ADD" | "DROP", "PUBLICATION") if !w.option_is_false("REFRESH") => {
                Outside("ALTER SUBSCRIPTION ... PUBLICATION with refresh")
            }
            _ => Anywhere,
        },
        "CREATE" | "DROP" => {
            let unique = usize::from(w.at(1) == "UNIQUE");
            match w.at(1 + unique) {
                "INDEX" if w.at(2 + unique) == "CONCURRENTLY" => {
                    if w.at(0) == "CREATE" {
                        Outside("CREATE INDEX CONCURRENTLY")
                    } else {
                        Outside("DROP INDEX CONCURRENTLY")
                    }
                }
                "DATABASE" if unique == 0 => {
                    if w.at(0) == "CREATE" {
                        Outside("CREATE DATABASE")
                    } else {
                        Outside("DROP DATABASE")
                    }
                }
                "TABLESPACE" if unique == 0 => {
                    if w.at(0) == "CREATE" {
                        Outside("CREATE TABLESPACE")
                    } else {
                        Outside("DROP TABLESPACE")
                    }
                }
                "SUBSCRIPTION" if w.at(0) == "CREATE" && !w.option_is_false("CREATE_SLOT") => {
                    Outside("CREATE SUBSCRIPTION (it creates a replication slot)")
                }
                _ => Anywhere,
            }
        }
        "REINDEX" => {
            let kind = w.skip_options(1);
            match w.at(kind) {
                "SCHEMA" | "DATABASE" | "SYSTEM" => Outside("REINDEX SCHEMA, DATABASE or SYSTEM"),
                _ if w.at(kind + 1) == "CONCURRENTLY" => Outside("REINDEX ... CONCURRENTLY"),
                _ => Anywhere,
            }
        }
        _ => Anywhere,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokens;
    use Placement::{Anywhere, OutsideTransaction as Outside, TransactionControl as Control};

    fn of(sql: &str) -> Placement {
        let tokens: Vec<_> = tokens(sql).collect::<Result<_, _>>().expect("lexes");
        placement(&tokens)
    }

    #[test]
    fn finds_what_cannot_run_in_a_transaction() {
        let cases = [
            (
                "create index concurrently i on t (x)",
                "CREATE INDEX CONCURRENTLY",
            ),
            (
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x)",
                "CREATE INDEX CONCURRENTLY",
            ),
            (
                "drop index concurrently if exists i",
                "DROP INDEX CONCURRENTLY",
            ),
            ("reindex index concurrently i", "REINDEX ... CONCURRENTLY"),
            (
                "reindex (verbose) table concurrently t",
                "REINDEX ... CONCURRENTLY",
            ),
            ("reindex database app", "REINDEX SCHEMA, DATABASE or SYSTEM"),
            ("vacuum (analyze) t", "VACUUM"),
            ("/* c */ VACUUM", "VACUUM"),
            ("create database app", "CREATE DATABASE"),
            ("drop database app", "DROP DATABASE"),
            ("create tablespace ts location '/x'", "CREATE TABLESPACE"),
            ("drop tablespace ts", "DROP TABLESPACE"),
            ("alter system set work_mem = '64MB'", "ALTER SYSTEM"),
            (
                "alter database app set tablespace ts",
                "ALTER DATABASE ... SET TABLESPACE",
            ),
            (
                "alter table p detach partition c concurrently",
                "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY",
            ),
            ("cluster", "CLUSTER without a table"),
            ("cluster verbose", "CLUSTER without a table"),
            ("CLUSTER (VERBOSE)", "CLUSTER without a table"),
            ("discard all", "DISCARD ALL"),
            ("commit prepared 'x'", "COMMIT PREPARED"),
            (
                "create subscription s connection 'c' publication p",
                "CREATE SUBSCRIPTION (it creates a replication slot)",
            ),
            (
                "alter subscription s refresh publication",
                "ALTER SUBSCRIPTION ... REFRESH PUBLICATION",
            ),
        ];
        for (sql, what) in cases {
            assert_eq!(of(sql), Outside(what), "{sql}");
        }
    }

    #[test]
    fn finds_transaction_control() {
        for (sql, what) in [
            ("BEGIN", "BEGIN"),
            ("begin transaction isolation level serializable", "BEGIN"),
            ("start transaction", "START TRANSACTION"),
            ("COMMIT", "COMMIT"),
            ("end", "COMMIT"),
            ("rollback", "ROLLBACK"),
            ("abort", "ROLLBACK"),
            ("prepare transaction 'x'", "PREPARE TRANSACTION"),
        ] {
            assert_eq!(of(sql), Control(what), "{sql}");
        }
    }

    #[test]
    fn is_not_fooled_by_names_strings_and_comments() {
        for sql in [
            "create table vacuum_log (id int)",
            "create index i on t (x)",
            "create index concurrently_named on t (x)",
            "select 'vacuum'",
            "-- vacuum\nselect 1",
            "create table \"vacuum\" (concurrently int)",
            "insert into t values ('begin')",
            "rollback to savepoint s",
            "rollback work to s",
            "savepoint s",
            "cluster t using i",
            "cluster verbose t",
            "cluster (verbose) t using i",
            "reindex table t",
            "alter table p detach partition c",
            "refresh materialized view concurrently v",
            "create subscription s connection 'c' publication p with (create_slot = false, enabled = false)",
            "alter subscription s set publication p with (refresh = false)",
            "do $$ begin perform 1; end $$",
            "create function f() returns int language sql begin atomic select 1; end",
        ] {
            assert_eq!(of(sql), Anywhere, "{sql}");
        }
    }
}
