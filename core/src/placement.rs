//! Where a statement can run: some statements PostgreSQL refuses inside a
//! transaction block, others work only inside one, and transaction control
//! would end the transaction a migration runs in. Statements are read as
//! tokens, so strings, comments and identifiers (`CREATE TABLE vacuum_log`)
//! never look like keywords; option lists are read with [`options`].

use crate::lexer::{Token, TokenKind};
use crate::options::{self, OptionList, Setting};

/// What a statement needs of its surroundings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// It runs anywhere.
    Anywhere,
    /// PostgreSQL refuses it inside a transaction block; the text names it.
    OutsideTransaction(&'static str),
    /// It works only inside a transaction block: outside one, PostgreSQL
    /// refuses it (`LOCK TABLE`) or ignores it with a warning (`SET
    /// LOCAL`); the text names it.
    InsideTransaction(&'static str),
    /// It begins or ends a transaction; the text names it.
    TransactionControl(&'static str),
}

/// A statement's tokens as placement reads them: comments left out, and
/// beside each token its text, upper-cased for an unquoted word, and the
/// parenthesis depth it stands at.
struct Words<'a> {
    tokens: Vec<Token<'a>>,
    words: Vec<(String, usize)>,
}

impl<'a> Words<'a> {
    fn new(all: &[Token<'a>]) -> Words<'a> {
        let tokens: Vec<_> = all
            .iter()
            .filter(|t| !t.kind.is_comment())
            .copied()
            .collect();
        let mut depth = 0usize;
        let mut words = Vec::new();
        for token in &tokens {
            match token.kind {
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
        Words { tokens, words }
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

    /// Whether `WITH HOLD` comes before the top-level `FOR` (in `DECLARE`).
    fn holds_cursor(&self) -> bool {
        let head = self
            .words
            .iter()
            .position(|(w, d)| *d == 0 && w == "FOR")
            .unwrap_or(self.words.len());
        self.words[..head]
            .windows(2)
            .any(|pair| pair[0].0 == "WITH" && pair[1].0 == "HOLD")
    }

    /// The option list in parentheses at `i`, if there is one, and the
    /// index after it.
    fn options(&self, i: usize) -> Option<(OptionList<'a>, usize)> {
        let (list, len) = options::read(self.tokens.get(i..)?)?;
        Some((list, i + len))
    }

    /// The index after an option list at `i`, or `i` where there is none.
    fn skip_options(&self, i: usize) -> usize {
        self.options(i).map_or(i, |(_, end)| end)
    }

    /// The definition list of a top-level `WITH (...)`; an empty list where
    /// there is none.
    fn with_options(&self) -> OptionList<'a> {
        self.words
            .iter()
            .enumerate()
            .filter(|(_, (w, d))| *d == 0 && w == "WITH")
            .find_map(|(i, _)| self.options(i + 1))
            .map(|(list, _)| list)
            .unwrap_or_default()
    }
}

/// The first words of the statements whose place is decided below: any
/// other statement runs anywhere, and is not read further (a file of
/// hundreds of thousands of `INSERT`s builds fast).
const DECIDED: [&str; 18] = [
    "BEGIN",
    "START",
    "COMMIT",
    "END",
    "ROLLBACK",
    "ABORT",
    "SAVEPOINT",
    "RELEASE",
    "LOCK",
    "SET",
    "DECLARE",
    "PREPARE",
    "VACUUM",
    "CLUSTER",
    "ALTER",
    "CREATE",
    "DROP",
    "REINDEX",
];

/// Where the statement made of `tokens` can run.
pub fn placement(tokens: &[Token<'_>]) -> Placement {
    use Placement::{
        Anywhere, InsideTransaction as Inside, OutsideTransaction as Outside,
        TransactionControl as Control,
    };
    let first = tokens.iter().find(|t| !t.kind.is_comment());
    let decided = first.is_some_and(|t| {
        t.kind == TokenKind::Word && DECIDED.iter().any(|k| t.text.eq_ignore_ascii_case(k))
    });
    if !decided {
        return Anywhere;
    }
    let w = Words::new(tokens);
    match w.at(0) {
        "BEGIN" => Control("BEGIN"),
        "START" if w.at(1) == "TRANSACTION" => Control("START TRANSACTION"),
        "COMMIT" if w.at(1) == "PREPARED" => Outside("COMMIT PREPARED"),
        "COMMIT" | "END" => Control("COMMIT"),
        "ROLLBACK" if w.at(1) == "PREPARED" => Outside("ROLLBACK PREPARED"),
        "ROLLBACK" if w.at(1) == "TO" || w.at(2) == "TO" => Inside("ROLLBACK TO SAVEPOINT"),
        "ROLLBACK" | "ABORT" => Control("ROLLBACK"),
        "SAVEPOINT" => Inside("SAVEPOINT"),
        "RELEASE" => Inside("RELEASE SAVEPOINT"),
        "LOCK" => Inside("LOCK TABLE"),
        "SET" => match w.at(1) {
            "LOCAL" => Inside("SET LOCAL"),
            "TRANSACTION" => Inside("SET TRANSACTION"),
            "CONSTRAINTS" => Inside("SET CONSTRAINTS"),
            _ => Anywhere,
        },
        // A cursor without `WITH HOLD` ends with its transaction.
        "DECLARE" if !w.holds_cursor() => Inside("DECLARE CURSOR without WITH HOLD"),
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
            ("SET" | "ADD" | "DROP", "PUBLICATION")
                if w.with_options().boolean("refresh").or(Setting::True) == Setting::True =>
            {
                Outside("ALTER SUBSCRIPTION ... PUBLICATION with refresh")
            }
            // From PostgreSQL 17, failover; from 18, two_phase turned off:
            // both change the replication slot, which no rollback undoes.
            ("SET", "(") => match w.options(4) {
                Some((set, _)) if set.has("failover") => {
                    Outside("ALTER SUBSCRIPTION ... SET (failover)")
                }
                Some((set, _)) if set.boolean("two_phase") == Setting::False => {
                    Outside("ALTER SUBSCRIPTION ... SET (two_phase = false)")
                }
                _ => Anywhere,
            },
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
                "SUBSCRIPTION" if w.at(0) == "CREATE" && creates_slot(&w.with_options()) => {
                    Outside("CREATE SUBSCRIPTION (it creates a replication slot)")
                }
                _ => Anywhere,
            }
        }
        "REINDEX" => {
            let (options, kind) = w.options(1).unwrap_or((OptionList::default(), 1));
            match w.at(kind) {
                "SCHEMA" | "DATABASE" | "SYSTEM" => Outside("REINDEX SCHEMA, DATABASE or SYSTEM"),
                // The keyword wins over the option: the server adds it to
                // the list last.
                _ if w.at(kind + 1) == "CONCURRENTLY" => Outside("REINDEX ... CONCURRENTLY"),
                _ if options.boolean("concurrently") == Setting::True => {
                    Outside("REINDEX (CONCURRENTLY)")
                }
                _ => Anywhere,
            }
        }
        _ => Anywhere,
    }
}

/// Whether `CREATE SUBSCRIPTION ... WITH (options)` creates a replication
/// slot: `create_slot` is true by default, and false by default with
/// `connect = false`, which the server refuses with `create_slot = true`.
fn creates_slot(options: &OptionList<'_>) -> bool {
    let connect = options.boolean("connect").or(Setting::True);
    let create_slot = options.boolean("create_slot");
    match (connect, create_slot) {
        (Setting::False, Setting::True) => false,
        (connect, create_slot) => create_slot.or(connect) == Setting::True,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokens;
    use Placement::{
        Anywhere, InsideTransaction as Inside, OutsideTransaction as Outside,
        TransactionControl as Control,
    };

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
            ("commit prepared 'x'", "COMMIT PREPARED"),
            (
                "create subscription s connection 'c' publication p",
                "CREATE SUBSCRIPTION (it creates a replication slot)",
            ),
            (
                "alter subscription s refresh publication",
                "ALTER SUBSCRIPTION ... REFRESH PUBLICATION",
            ),
            (
                "alter subscription s set publication p",
                "ALTER SUBSCRIPTION ... PUBLICATION with refresh",
            ),
            (
                "alter subscription s add publication p with (copy_data = false)",
                "ALTER SUBSCRIPTION ... PUBLICATION with refresh",
            ),
            (
                "alter subscription s set publication p with (refresh)",
                "ALTER SUBSCRIPTION ... PUBLICATION with refresh",
            ),
            (
                "alter subscription s set (failover = false)",
                "ALTER SUBSCRIPTION ... SET (failover)",
            ),
            (
                "alter subscription s set (two_phase = off)",
                "ALTER SUBSCRIPTION ... SET (two_phase = false)",
            ),
        ];
        for (sql, what) in cases {
            assert_eq!(of(sql), Outside(what), "{sql}");
        }
    }

    #[test]
    fn reads_option_lists() {
        let outside = [
            ("REINDEX (CONCURRENTLY) TABLE t", "REINDEX (CONCURRENTLY)"),
            (
                "REINDEX (VERBOSE, CONCURRENTLY true) INDEX i",
                "REINDEX (CONCURRENTLY)",
            ),
            ("reindex (concurrently 1) index i", "REINDEX (CONCURRENTLY)"),
            (
                "reindex (\"concurrently\" 'on') index i",
                "REINDEX (CONCURRENTLY)",
            ),
            (
                "reindex (tablespace pg_default, concurrently) table t",
                "REINDEX (CONCURRENTLY)",
            ),
            (
                "reindex (concurrently false, concurrently) table t",
                "REINDEX (CONCURRENTLY)",
            ),
            (
                "reindex (concurrently false) table concurrently t",
                "REINDEX ... CONCURRENTLY",
            ),
            (
                "reindex (concurrently false) schema s",
                "REINDEX SCHEMA, DATABASE or SYSTEM",
            ),
            (
                "create subscription s connection 'c' publication p with (create_slot)",
                "CREATE SUBSCRIPTION (it creates a replication slot)",
            ),
            (
                "create subscription s connection 'c' publication p with (connect = true, slot_name = 'x')",
                "CREATE SUBSCRIPTION (it creates a replication slot)",
            ),
            ("vacuum (analyze false, full false) t", "VACUUM"),
            ("cluster (verbose false)", "CLUSTER without a table"),
        ];
        for (sql, what) in outside {
            assert_eq!(of(sql), Outside(what), "{sql}");
        }
        for sql in [
            "REINDEX (CONCURRENTLY false) TABLE t",
            "reindex (concurrently off) table t",
            "reindex (concurrently 0) table t",
            "reindex (concurrently -0) table t",
            "reindex (concurrently 'false') table t",
            "reindex (concurrently \"FALSE\") table t",
            "reindex (concurrently true, concurrently false) table t",
            "reindex (verbose) table t",
            "reindex (\"CONCURRENTLY\") table t",
            "reindex (concurrently 2) table t",
            "create subscription s connection 'c' publication p with (connect = false)",
            "create subscription s connection 'c' publication p with (CONNECT = 'off', slot_name = NONE)",
            "create subscription s connection 'c' publication p with (connect = false, create_slot = true)",
            "create subscription s connection 'c' publication p with (create_slot = 0)",
            "create subscription s connection 'c' publication p with (create_slot = maybe)",
            "alter subscription s set publication p with (refresh = off)",
            "alter subscription s add publication p with (refresh = 0, copy_data = false)",
            "alter subscription s set (slot_name = none)",
            "alter subscription s set (two_phase = true)",
            "alter subscription s connection 'c'",
            "analyze (verbose) t",
            "analyze",
            "cluster (verbose) t using i",
        ] {
            assert_eq!(of(sql), Anywhere, "{sql}");
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
    fn finds_what_works_only_in_a_transaction() {
        for (sql, what) in [
            ("lock table t", "LOCK TABLE"),
            ("LOCK t IN SHARE MODE", "LOCK TABLE"),
            ("savepoint s", "SAVEPOINT"),
            ("release savepoint s", "RELEASE SAVEPOINT"),
            ("release s", "RELEASE SAVEPOINT"),
            ("rollback to savepoint s", "ROLLBACK TO SAVEPOINT"),
            ("rollback work to s", "ROLLBACK TO SAVEPOINT"),
            ("set local lock_timeout = '1s'", "SET LOCAL"),
            (
                "set transaction isolation level serializable",
                "SET TRANSACTION",
            ),
            ("set constraints all deferred", "SET CONSTRAINTS"),
            (
                "declare c cursor for select 1",
                "DECLARE CURSOR without WITH HOLD",
            ),
            (
                "declare c no scroll cursor without hold for select 'with hold'",
                "DECLARE CURSOR without WITH HOLD",
            ),
        ] {
            assert_eq!(of(sql), Inside(what), "{sql}");
        }
        for sql in [
            "declare c cursor with hold for select 1",
            "set lock_timeout = '1s'",
            "set session characteristics as transaction read only",
            "set session authorization default",
            "select 1 as savepoint",
        ] {
            assert_eq!(of(sql), Anywhere, "{sql}");
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
