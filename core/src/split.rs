//! A migration's text cut into the statements that are run one at a time.
//!
//! A `;` ends a statement, except where PostgreSQL's grammar lets it stand
//! inside one:
//!
//! - inside parentheses, as in `CREATE RULE ... DO ALSO (a; b)`;
//! - inside the SQL-standard body of a function or procedure: in a statement
//!   that begins `CREATE [OR REPLACE] FUNCTION` or `PROCEDURE`, the words
//!   `BEGIN ATOMIC` outside parentheses open a body of statements that ends
//!   at the `END` that takes the place of a statement's first word. An `END`
//!   anywhere else in a body statement closes a `CASE` or is a column name
//!   (`SELECT 1 end`), and a body statement never starts with `END`, so the
//!   body's end is found without counting `CASE`s; a body may itself hold
//!   such a `CREATE FUNCTION`.
//!
//! Strings, quoted identifiers, dollar quotes and comments are read with the
//! [`lexer`], so nothing inside them counts. Wherever the server's parser
//! accepts a multi-statement string, it divides it at the same places
//! (`stowage-differential` checks this against libpg_query); psql's own
//! splitting is a heuristic and can differ.

use crate::lexer::{self, LexError, Token, TokenKind};
use crate::position::{Cursor, LineColumn};

/// One statement of a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement<'a> {
    /// From its first token to the end of its last, without the `;` that
    /// ends it or the whitespace and comments around it; comments inside it
    /// are kept.
    pub text: &'a str,
    /// The offset of `text` in the migration, in bytes.
    pub start: usize,
    /// The line and column of `text` in the migration.
    pub at: LineColumn,
}

/// Cuts `sql` into statements. Empty statements (`;;`) give nothing, and a
/// last statement without `;` is kept; text with only comments and
/// whitespace gives none.
pub fn split_statements(sql: &str) -> Result<Vec<Statement<'_>>, LexError> {
    let tokens: Vec<Token<'_>> = lexer::tokens(sql).collect::<Result<_, _>>()?;
    Ok(split_tokens(sql, &tokens))
}

/// [`split_statements`] over the tokens of `sql`, already lexed.
pub fn split_tokens<'a>(sql: &'a str, tokens: &[Token<'a>]) -> Vec<Statement<'a>> {
    let mut statements = Vec::new();
    // The statement being read, as the offsets of its first token and of the
    // end of its last.
    let mut current: Option<(usize, usize)> = None;
    let mut cursor = Cursor::new(sql);
    // The outermost level is the migration; each level above it is the body
    // of a `BEGIN ATOMIC` in the level below.
    let mut levels = vec![Level::default()];

    for &token in tokens {
        if token.kind.is_comment() {
            continue;
        }
        let outermost = levels.len() == 1;
        let Some(level) = levels.last_mut() else {
            break;
        };
        if token.kind == TokenKind::Semicolon && level.depth == 0 {
            if outermost && let Some((start, end)) = current.take() {
                statements.push(statement(sql, &mut cursor, start, end));
            }
            *level = Level::default();
            continue;
        }
        match &mut current {
            Some((_, end)) => *end = token.end(),
            None => current = Some((token.start, token.end())),
        }
        if !outermost && level.head == Head::Start && token.is_word("end") {
            levels.pop();
            continue;
        }
        if level.read(&token) {
            levels.push(Level::default());
        }
    }
    if let Some((start, end)) = current {
        statements.push(statement(sql, &mut cursor, start, end));
    }
    statements
}

/// How far the first words of a statement go towards
/// `CREATE [OR REPLACE] FUNCTION` or `PROCEDURE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Head {
    /// No token yet.
    #[default]
    Start,
    Create,
    Or,
    Replace,
    /// The statement creates a function or procedure.
    Routine,
    /// Any other statement.
    Other,
}

/// The state of the statement being read at one level.
#[derive(Debug, Clone, Copy, Default)]
struct Level {
    head: Head,
    /// Open parentheses.
    depth: usize,
    /// The last token was `BEGIN` at depth 0 in a routine.
    after_begin: bool,
}

impl Level {
    /// Takes in a token that is not a comment nor a `;` ending the
    /// statement; true if it opens a `BEGIN ATOMIC` body.
    fn read(&mut self, token: &Token<'_>) -> bool {
        let routine = token.is_word("function") || token.is_word("procedure");
        self.head = match self.head {
            Head::Start if token.is_word("create") => Head::Create,
            Head::Create if token.is_word("or") => Head::Or,
            Head::Or if token.is_word("replace") => Head::Replace,
            Head::Create | Head::Replace if routine => Head::Routine,
            Head::Routine => Head::Routine,
            _ => Head::Other,
        };
        match token.kind {
            TokenKind::OpenParen => self.depth += 1,
            TokenKind::CloseParen => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        let in_header = self.head == Head::Routine && self.depth == 0;
        let opens = in_header && self.after_begin && token.is_word("atomic");
        self.after_begin = in_header && !opens && token.is_word("begin");
        opens
    }
}

/// The statement at `start..end`, which comes after every earlier one.
fn statement<'a>(sql: &'a str, cursor: &mut Cursor<'_>, start: usize, end: usize) -> Statement<'a> {
    Statement {
        text: sql.get(start..end).unwrap_or_default(),
        start,
        at: cursor.at(start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::Unterminated;
    use crate::position;

    /// The statements' texts, after checking their offsets and places.
    fn split(sql: &str) -> Vec<&str> {
        let statements = split_statements(sql).unwrap_or_else(|e| panic!("{sql:?}: {e}"));
        for s in &statements {
            assert_eq!(&sql[s.start..s.start + s.text.len()], s.text);
            assert_eq!(s.at, position::after(&sql[..s.start]), "{sql:?}");
        }
        statements.iter().map(|s| s.text).collect()
    }

    fn error(sql: &str) -> LexError {
        split_statements(sql).expect_err(sql)
    }

    #[test]
    fn splits_at_semicolons() {
        assert_eq!(split("select 1; select 2;"), ["select 1", "select 2"]);
        assert_eq!(split("select 1;\nselect 2"), ["select 1", "select 2"]);
        assert_eq!(split("select 1"), ["select 1"]);
        assert_eq!(split("select 1 ;"), ["select 1"]);
    }

    #[test]
    fn empty_input_and_empty_statements() {
        assert_eq!(split(""), [""; 0]);
        assert_eq!(split(" \n\t"), [""; 0]);
        assert_eq!(split(";;"), [""; 0]);
        assert_eq!(split("; -- c\n;"), [""; 0]);
        assert_eq!(split("-- a\n/* b /* c */ */\n-- d"), [""; 0]);
        assert_eq!(split(";; select 1;; ;select 2;"), ["select 1", "select 2"]);
    }

    #[test]
    fn comments_between_statements_belong_to_none() {
        let sql = "-- head\n/* c */ select 1 /* in */ + 2 -- tail\n; /* x */ select 2 -- eof";
        assert_eq!(split(sql), ["select 1 /* in */ + 2", "select 2"]);
        assert_eq!(split("select 1 -- eof"), ["select 1"]);
        assert_eq!(split("select 1; -- eof"), ["select 1"]);
        assert_eq!(split("select -- c\n 1"), ["select -- c\n 1"]);
    }

    #[test]
    fn semicolons_inside_literals_and_comments() {
        assert_eq!(
            split("select 'a;b', E'\\';', \"c;d\", $$e;f$$, $t$ $$; $t$ /* ; */ -- ;\n; select 2"),
            [
                "select 'a;b', E'\\';', \"c;d\", $$e;f$$, $t$ $$; $t$",
                "select 2"
            ]
        );
        assert_eq!(
            split("insert into t values (U&'x;', B'1', X'2', N';')"),
            ["insert into t values (U&'x;', B'1', X'2', N';')"]
        );
        assert_eq!(
            split("select a$b; select x$$; select $1"),
            ["select a$b", "select x$$", "select $1"]
        );
    }

    #[test]
    fn dollar_quoted_function_bodies() {
        let f = "create function f() returns int language plpgsql as $body$\n\
                 begin\n  return 1; -- one\nend;\n$body$";
        assert_eq!(split(&format!("{f};\nselect f();")), [f, "select f()"]);
        let g = "create function g() returns text as $f$ select $$;$$ $f$ language sql";
        assert_eq!(split(&format!("{g}; select 1")), [g, "select 1"]);
    }

    #[test]
    fn parentheses_hold_semicolons() {
        let rule =
            "create rule r as on insert to t do also (insert into u values (1); delete from v)";
        assert_eq!(split(&format!("{rule};\nselect 1;")), [rule, "select 1"]);
        assert_eq!(
            split("select (1;2); select 3"),
            ["select (1;2)", "select 3"]
        );
        assert_eq!(split("select 1); select 2"), ["select 1)", "select 2"]);
    }

    #[test]
    fn begin_atomic_bodies() {
        let f = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n\
                 BEGIN ATOMIC\n  SELECT CASE WHEN a > 0 THEN CASE a WHEN 1 THEN 1 END ELSE 0 END;\n  \
                 SELECT 2;\nEND";
        assert_eq!(split(&format!("{f};\nselect 1;")), [f, "select 1"]);
        let p = "create or replace procedure p() begin atomic insert into t values (1); end";
        assert_eq!(split(&format!("{p}; select 1")), [p, "select 1"]);
        let e = "create procedure p() begin atomic end";
        assert_eq!(split(&format!("{e}; select 1")), [e, "select 1"]);
        let empty = "create function f() returns int begin atomic ;; select 1;; end";
        assert_eq!(split(&format!("{empty}; select 1")), [empty, "select 1"]);
    }

    #[test]
    fn end_that_does_not_close_a_body() {
        // `end` as an output name, bare or after AS, and as a field name.
        for body in [
            "select 1 end;",
            "select 1 as end;",
            "select t.end from t;",
            "select case when true then 1 end end;",
            "select 1 as case;",
        ] {
            let f = format!("create function f() returns int begin atomic {body} end");
            assert_eq!(split(&format!("{f}; select 2")), [f.as_str(), "select 2"]);
        }
    }

    #[test]
    fn begin_that_does_not_open_a_body() {
        // A column named begin, in and out of a function.
        assert_eq!(
            split("create table t (begin int); select begin from t; begin; select 1; end;"),
            [
                "create table t (begin int)",
                "select begin from t",
                "begin",
                "select 1",
                "end"
            ]
        );
        let f = "create function f(begin int, atomic int) returns table (begin int) language sql \
                 begin atomic select begin; end";
        assert_eq!(split(&format!("{f}; select 1")), [f, "select 1"]);
        // BEGIN ATOMIC only counts in CREATE FUNCTION and CREATE PROCEDURE.
        assert_eq!(
            split("select 1 as begin; select atomic; begin atomic; select 2; end"),
            [
                "select 1 as begin",
                "select atomic",
                "begin atomic",
                "select 2",
                "end"
            ]
        );
        assert_eq!(
            split("create table begin (atomic int); select 1"),
            ["create table begin (atomic int)", "select 1"]
        );
        // A dollar-quoted body is a string; its words do not count.
        let g = "create function g() returns int as $$ begin atomic $$ language sql";
        assert_eq!(split(&format!("{g}; select 1")), [g, "select 1"]);
        // Nor do quoted identifiers or comments.
        let h = "create function h() returns int as 'select 1' language sql set x = \"begin\" /* atomic */ -- c\n";
        assert_eq!(
            split(&format!("{h}; select 1")),
            [h.trim_end_matches(" /* atomic */ -- c\n"), "select 1"]
        );
    }

    #[test]
    fn nested_begin_atomic_bodies() {
        let f = "create function f() returns int begin atomic \
                 create function g() returns int begin atomic select 1; end; \
                 select 2; end";
        assert_eq!(split(&format!("{f}; select 3")), [f, "select 3"]);
    }

    #[test]
    fn unterminated_body_runs_to_the_end() {
        let f = "create function f() returns int begin atomic select 1; select 2";
        assert_eq!(split(f), [f]);
    }

    #[test]
    fn unterminated_constructs() {
        let e = |kind, start| LexError { kind, start };
        assert_eq!(error("select 1; select 'a;"), e(Unterminated::String, 17));
        assert_eq!(error("select 1; select E'\\'"), e(Unterminated::String, 17));
        assert_eq!(error("select \"a;"), e(Unterminated::QuotedIdentifier, 7));
        assert_eq!(
            error("select $x$ a; $y$;"),
            e(Unterminated::DollarString, 7)
        );
        assert_eq!(
            error("select 1; /* a /* b */;"),
            e(Unterminated::BlockComment, 10)
        );
    }

    #[test]
    fn places_of_statements() {
        let sql = "select 'é';\n\n  /* ü */ select 2; select 3\n";
        let statements = split_statements(sql).unwrap();
        let at: Vec<_> = statements.iter().map(|s| (s.start, s.at)).collect();
        let lc = |line, column| LineColumn { line, column };
        assert_eq!(at, [(0, lc(1, 1)), (25, lc(3, 11)), (35, lc(3, 21))]);
    }

    #[test]
    fn unicode_text() {
        assert_eq!(
            split("insert into données values ('naïve; ☃'); select 'ß'"),
            ["insert into données values ('naïve; ☃')", "select 'ß'"]
        );
    }

    #[test]
    fn many_statements_are_linear() {
        let sql = "select 1;\n".repeat(100_000);
        assert_eq!(split_statements(&sql).unwrap().len(), 100_000);
    }
}
