//! psql's meta-commands (`\i file.sql`, `\set x 1`, `\connect db`,
//! `\copy`, `\gset`, the `\.` that ends `COPY` data): stowage sends a
//! migration to the server as it is, and psql, which would run them, is not
//! involved. The server has no use for a backslash outside strings, quoted
//! identifiers, comments and dollar quotes, so any such backslash is taken
//! for one, the first on each line (a meta-command takes the rest of its
//! line).

use crate::lexer::{Token, TokenKind};
use crate::position::Cursor;
use crate::problem::Problem;

/// A problem for each line that holds a meta-command, in the migration
/// `sql` made of `tokens` and shown as `display`.
pub fn meta_commands(sql: &str, tokens: &[Token<'_>], display: &str) -> Vec<Problem> {
    let mut cursor = Cursor::new(sql);
    let mut last_line = 0;
    let mut problems = Vec::new();
    for token in tokens {
        if token.kind != TokenKind::Operator || token.text != "\\" {
            continue;
        }
        let at = cursor.at(token.start);
        if at.line == last_line {
            continue;
        }
        last_line = at.line;
        let name = name(sql.get(token.end()..).unwrap_or_default());
        problems.push(Problem::at(
            display,
            at,
            format!(
                "`\\{name}` is a psql meta-command: stowage sends the file to the server as it is, without psql, \
                 and the server does not know it"
            ),
            help(name),
        ));
    }
    problems
}

/// The command's name in `rest`, the text after its backslash: letters,
/// digits and `+` (`i`, `set`, `dt+`), or else one character (`.`, `!`).
fn name(rest: &str) -> &str {
    let word = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '+'))
        .unwrap_or(rest.len());
    let end = match rest.chars().next() {
        Some(c) if word == 0 && !c.is_whitespace() => c.len_utf8(),
        _ => word,
    };
    &rest[..end]
}

/// What to do instead of the command `name`.
fn help(name: &str) -> &'static str {
    match name {
        "i" | "ir" | "include" | "include_relative" => {
            "put the SQL of the included file in this migration, or in a migration of its own"
        }
        "set" | "unset" | "gset" => {
            "write the values into the SQL itself: stowage substitutes no variables"
        }
        "c" | "connect" => {
            "remove it: a migration runs on the connection stowage is given; migrate another database with a \
             runner of its own"
        }
        "copy" | "." => {
            "load the rows with `INSERT`, or `COPY ... FROM` a file on the database server, or outside the \
             migration"
        }
        _ => "remove it, and write plain SQL: every statement ends with `;`",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokens;

    fn found(sql: &str) -> Vec<String> {
        let tokens: Vec<_> = tokens(sql).collect::<Result<_, _>>().expect("lexes");
        meta_commands(sql, &tokens, "m.sql")
            .into_iter()
            .map(|p| {
                let end = p.message.find(" is a psql").unwrap_or(0);
                format!("{} {}", p.subject, &p.message[..end])
            })
            .collect()
    }

    #[test]
    fn finds_meta_commands_and_names_them() {
        assert_eq!(found("\\i file.sql"), ["m.sql:1:1 `\\i`"]);
        assert_eq!(
            found("\\set x 1\nselect :x;\n  \\connect other\n\\copy t from 'a.csv'"),
            [
                "m.sql:1:1 `\\set`",
                "m.sql:3:3 `\\connect`",
                "m.sql:4:1 `\\copy`"
            ]
        );
        assert_eq!(found("select 1 \\gset"), ["m.sql:1:10 `\\gset`"]);
        assert_eq!(found("copy t from stdin;\n1\n\\."), ["m.sql:3:1 `\\.`"]);
        assert_eq!(found("\\dt+ orders"), ["m.sql:1:1 `\\dt+`"]);
        assert_eq!(found("\\! ls"), ["m.sql:1:1 `\\!`"]);
        assert_eq!(found("select 1 \\\\ select 2"), ["m.sql:1:10 `\\\\`"]);
        assert_eq!(found("\\"), ["m.sql:1:1 `\\`"]);
        assert_eq!(found("\\ é"), ["m.sql:1:1 `\\`"]);
    }

    #[test]
    fn leaves_backslashes_in_strings_comments_and_quotes_alone() {
        for sql in [
            "select 'a\\b', E'\\n', \"x\\y\"",
            "-- \\i file.sql\nselect 1",
            "/* \\set x */ select 1",
            "create function f() returns text as $$ select '\\x' $$ language sql",
            "select U&'\\0041'",
        ] {
            assert_eq!(found(sql), Vec::<String>::new(), "{sql}");
        }
    }

    #[test]
    fn says_what_to_do_instead() {
        assert!(help("ir").contains("included file"));
        assert!(help("gset").contains("substitutes no variables"));
        assert!(help("connect").contains("connection stowage is given"));
        assert!(help(".").contains("INSERT"));
        assert!(help("echo").contains("plain SQL"));
    }
}
