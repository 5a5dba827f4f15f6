//! Template markers of other tools outside strings, quoted identifiers,
//! comments and dollar quotes: `{{ ... }}` (Jinja, dbt, Go templates,
//! Handlebars), `{% ... %}` and `{# ... #}` (Jinja, dbt), `${...}` (Flyway,
//! Liquibase, the shell). stowage sends the file to the server as it is and
//! substitutes nothing. PostgreSQL has no use for `{` outside literals, so
//! none of these is valid SQL that could be meant as it is.

use crate::lexer::{Token, TokenKind};
use crate::position::Cursor;
use crate::problem::Problem;

/// The longest marker shown whole in a message.
const SHOWN: usize = 60;

/// A problem for each template marker in the migration `sql` made of
/// `tokens` and shown as `display`.
pub fn markers(sql: &str, tokens: &[Token<'_>], display: &str) -> Vec<Problem> {
    let mut cursor = Cursor::new(sql);
    let mut problems = Vec::new();
    // A marker's own `{` (as in `{{{ x }}}`) opens no other.
    let mut covered_until = 0;
    for token in tokens {
        if token.kind != TokenKind::Operator || token.start < covered_until {
            continue;
        }
        let rest = sql.get(token.start..).unwrap_or_default();
        let Some(close) = ["{{{", "{{", "{%", "{#", "${"]
            .iter()
            .find(|open| rest.starts_with(*open))
            .map(|open| closing(open))
        else {
            continue;
        };
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        let marker = match line.find(close) {
            Some(end) if end + close.len() <= SHOWN => &line[..end + close.len()],
            _ => &rest[..2],
        };
        covered_until = token.start + marker.len();
        problems.push(Problem::at(
            display,
            cursor.at(token.start),
            format!(
                "`{marker}` is a template marker of another tool: stowage sends the file to the server as it \
                 is and substitutes nothing"
            ),
            "write the value into the SQL itself, or render the template into the migration file before \
             the build",
        ));
    }
    problems
}

/// What closes a marker that opens with `open`.
fn closing(open: &str) -> &'static str {
    match open {
        "{{{" => "}}}",
        "{%" => "%}",
        "{#" => "#}",
        "${" => "}",
        _ => "}}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokens;

    fn found(sql: &str) -> Vec<String> {
        let tokens: Vec<_> = tokens(sql).collect::<Result<_, _>>().expect("lexes");
        markers(sql, &tokens, "m.sql")
            .into_iter()
            .map(|p| {
                let end = p.message.find(" is a template").unwrap_or(0);
                format!("{} {}", p.subject, &p.message[..end])
            })
            .collect()
    }

    #[test]
    fn finds_markers_and_shows_them() {
        assert_eq!(
            found("create table {{ schema }}.orders (id int);"),
            ["m.sql:1:14 `{{ schema }}`"]
        );
        assert_eq!(
            found("{% if prod %}\ngrant select on t to {{role}};\n{% endif %}"),
            [
                "m.sql:1:1 `{% if prod %}`",
                "m.sql:2:22 `{{role}}`",
                "m.sql:3:1 `{% endif %}`"
            ]
        );
        assert_eq!(found("{# a note #} select 1"), ["m.sql:1:1 `{# a note #}`"]);
        assert_eq!(
            found("create schema ${schema_name};"),
            ["m.sql:1:15 `${schema_name}`"]
        );
        assert_eq!(found("select {{{ raw }}}"), ["m.sql:1:8 `{{{ raw }}}`"]);
    }

    #[test]
    fn shows_only_the_opening_of_a_long_or_unclosed_marker() {
        assert_eq!(found("select {{ x"), ["m.sql:1:8 `{{`"]);
        assert_eq!(found("select {{ x\n}}"), ["m.sql:1:8 `{{`"]);
        let long = format!("select {{{{ {} }}}}", "x".repeat(80));
        assert_eq!(found(&long), ["m.sql:1:8 `{{`"]);
    }

    #[test]
    fn leaves_literals_and_comments_alone() {
        for sql in [
            "select '{{ x }}', '{1,2}'::int[], E'${x}'",
            "-- {{ x }}\nselect 1",
            "/* {% if %} */ select 1",
            "create function f() returns text as $$ select '{{x}}' $$ language sql",
            "select \"{{x}}\" from t",
            "select a % (b) from t",
            "select $1",
        ] {
            assert_eq!(found(sql), Vec::<String>::new(), "{sql}");
        }
    }
}
