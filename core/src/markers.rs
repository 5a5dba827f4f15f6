//! Other tools' markers in a migration's comments: each is understood by
//! the layout of its tool and refused everywhere else, never ignored. A
//! marker ignored would change what runs: a goose file read as stowage's
//! own would run its `-- +goose Down` section as part of the up migration.
//!
//! - goose: `-- +goose ...`;
//! - dbmate: `-- migrate:up`, `-- migrate:down`;
//! - sql-migrate: `-- +migrate ...`;
//! - postgres-migrations: `-- postgres-migrations ...`;
//! - refinery: `-- +refinery ...`;
//! - sqlx: `-- no-transaction`, which sqlx reads on the first line alone.

use crate::lexer::{Token, TokenKind};
use crate::position::Cursor;
use crate::problem::Problem;
use crate::tools::{Layout, refinery_no_transaction};

/// The tool a marker belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `-- +goose`
    Goose,
    /// `-- migrate:`
    Dbmate,
    /// `-- +migrate`
    SqlMigrate,
    /// `-- postgres-migrations`
    PostgresMigrations,
    /// `-- +refinery`
    Refinery,
    /// `-- no-transaction`
    Sqlx,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Goose => "goose",
            Tool::Dbmate => "dbmate",
            Tool::SqlMigrate => "sql-migrate",
            Tool::PostgresMigrations => "postgres-migrations",
            Tool::Refinery => "refinery",
            Tool::Sqlx => "sqlx",
        }
    }

    /// The layout that reads the marker, if stowage has one.
    fn layout(self) -> Option<Layout> {
        match self {
            Tool::Goose => Some(Layout::Goose),
            Tool::Dbmate => Some(Layout::Dbmate),
            Tool::Refinery => Some(Layout::Refinery),
            Tool::Sqlx => Some(Layout::Sqlx),
            Tool::SqlMigrate | Tool::PostgresMigrations => None,
        }
    }
}

/// The tool whose marker the line comment `text` (with its `--`) is.
pub fn marker(text: &str) -> Option<Tool> {
    let body = text.trim_start_matches('-').trim_start();
    let lower = body.to_ascii_lowercase();
    if lower.starts_with("+goose") {
        Some(Tool::Goose)
    } else if lower.starts_with("+migrate") {
        Some(Tool::SqlMigrate)
    } else if lower.starts_with("migrate:") {
        Some(Tool::Dbmate)
    } else if lower.starts_with("postgres-migrations") {
        Some(Tool::PostgresMigrations)
    } else if lower.starts_with("+refinery") {
        Some(Tool::Refinery)
    } else if lower.trim_end() == "no-transaction" {
        Some(Tool::Sqlx)
    } else {
        None
    }
}

/// A problem for each marker of another tool than `layout`'s in the
/// comments of the migration `sql` made of `tokens`, shown as `display`.
/// `understood` says which markers the layout's reader has read already.
pub fn foreign(sql: &str, tokens: &[Token<'_>], display: &str, layout: Layout) -> Vec<Problem> {
    let mut cursor = Cursor::new(sql);
    let mut problems = Vec::new();
    for token in tokens {
        if token.kind != TokenKind::LineComment {
            continue;
        }
        let Some(tool) = marker(token.text) else {
            continue;
        };
        if tool.layout() == Some(layout) {
            // Its reader has read it: sqlx's on the first line; refinery's
            // and goose's wherever they are; dbmate's own.
            let read = match tool {
                Tool::Sqlx => token.start == 0,
                Tool::Refinery => refinery_no_transaction(token.text),
                _ => true,
            };
            if read {
                continue;
            }
        }
        let shown = token.text.trim_end();
        let (message, help) = explain(tool, shown, layout);
        problems.push(Problem::at(display, cursor.at(token.start), message, help));
    }
    problems
}

fn explain(tool: Tool, shown: &str, layout: Layout) -> (String, String) {
    let read_as = match layout {
        Layout::Stowage => "stowage's own layout".to_owned(),
        other => format!("{}'s layout", other.name()),
    };
    let message = match tool {
        Tool::Sqlx if layout == Layout::Sqlx => format!(
            "`{shown}` is sqlx's marker, but sqlx reads it only at the very start of the file, so here it \
             would mean nothing"
        ),
        Tool::Refinery if layout == Layout::Refinery => format!(
            "`{shown}` is not refinery's marker: refinery reads only the line `-- +refinery NO TRANSACTION`, \
             exactly so, and would run the file ignoring this one"
        ),
        _ => format!(
            "`{shown}` is a marker of {}, and this folder is read in {read_as}, which would run the file \
             without doing what the marker says",
            tool.name()
        ),
    };
    let help = match tool {
        Tool::Sqlx if layout == Layout::Sqlx => {
            "move it to the first line, or write `-- stowage:no-transaction` above the first statement"
                .to_owned()
        }
        Tool::Refinery if layout == Layout::Refinery => {
            "write it as `-- +refinery NO TRANSACTION`, or remove it".to_owned()
        }
        Tool::PostgresMigrations => {
            "stowage has no layout for postgres-migrations: for `disable-transaction`, write \
             `-- stowage:no-transaction` above the first statement instead; for `ignore`, delete the file or \
             move it out of the folder"
                .to_owned()
        }
        Tool::SqlMigrate => {
            "stowage has no layout for sql-migrate: put the up section in `{version}_{name}.sql` and the \
             down section in `{version}_{name}.down.sql`, without the markers, and write \
             `-- stowage:no-transaction` for `notransaction`"
                .to_owned()
        }
        _ => {
            let layout = tool.layout().map_or("", Layout::name);
            format!(
                "if the folder is {}'s, read it as {} does: `embed_migrations!(\"...\", layout = \"{layout}\")`; \
                 otherwise remove the line",
                tool.name(),
                tool.name()
            )
        }
    };
    (message, help)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokens;

    fn found(sql: &str, layout: Layout) -> Vec<String> {
        let tokens: Vec<_> = tokens(sql).collect::<Result<_, _>>().expect("lexes");
        foreign(sql, &tokens, "m.sql", layout)
            .into_iter()
            .map(|p| p.subject)
            .collect()
    }

    #[test]
    fn refuses_every_foreign_marker_in_stowages_layout() {
        let sql = "-- +goose Up\n-- migrate:up\n-- +migrate Up\n-- postgres-migrations ignore\n\
                   --+refinery NO TRANSACTION\nselect 1; -- no-transaction\n";
        assert_eq!(
            found(sql, Layout::Stowage),
            [
                "m.sql:1:1",
                "m.sql:2:1",
                "m.sql:3:1",
                "m.sql:4:1",
                "m.sql:5:1",
                "m.sql:6:11"
            ]
        );
    }

    #[test]
    fn leaves_a_layouts_own_markers_and_strings_alone() {
        assert!(found("-- +goose Up\nselect 1;", Layout::Goose).is_empty());
        assert!(found("-- migrate:up\nselect 1;", Layout::Dbmate).is_empty());
        assert!(found("-- no-transaction\nselect 1;", Layout::Sqlx).is_empty());
        assert_eq!(
            found("select 1;\n-- no-transaction", Layout::Sqlx),
            ["m.sql:2:1"]
        );
        assert!(found("select '-- +goose Up';", Layout::Stowage).is_empty());
        assert!(found("-- a goose is a bird\nselect 1;", Layout::Stowage).is_empty());
    }
}
