//! The rules a migrations folder must follow, each reported with the file it
//! concerns; every problem in the folder is collected, not just the first.

use crate::checksum::checksum;
use crate::directive::{self, Directives, NO_TRANSACTION};
use crate::forbidden::forbidden;
use crate::invisible;
use crate::lexer::{self, Token, TokenKind};
use crate::name::{self, Direction, FileName};
use crate::placement::{Placement, placement};
use crate::position::{Cursor, LineColumn};
use crate::problem::Problem;
use crate::psql;
use crate::scan::{self, SqlFile};
use crate::split::{self, split_tokens};
use crate::template;
use crate::text;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A checked migrations folder.
#[derive(Debug, Clone)]
pub struct Folder {
    /// The migrations, sorted by version; never empty.
    pub migrations: Vec<Migration>,
    /// The digest of the migrations: [`history_digest`](crate::checksum::history_digest)
    /// of their versions and checksums.
    pub digest: String,
    /// The schema file, whether it is there or not; `None` before it was
    /// looked for.
    pub schema: Option<crate::schema_file::SchemaFile>,
}

/// One version: its up script and, if there is one, its down script.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The version.
    pub version: i64,
    /// The name from the up file.
    pub name: String,
    /// `{version}_{name}.sql`.
    pub up: Script,
    /// `{version}_{name}.down.sql`, if present.
    pub down: Option<Script>,
}

/// One checked file.
#[derive(Debug, Clone)]
pub struct Script {
    /// Absolute path.
    pub path: PathBuf,
    /// Path as shown to the user.
    pub display: String,
    /// Normalized text (see [`text::normalize`]).
    pub sql: String,
    /// Whether `sql` is exactly the file's bytes.
    pub verbatim: bool,
    /// [`checksum`] of `sql`.
    pub checksum: String,
    /// Whether it carries `-- stowage:no-transaction`: its statements then
    /// run one at a time in autocommit, not in one transaction.
    pub no_transaction: bool,
    /// Its statements, as PostgreSQL would split them.
    pub statements: Vec<Statement>,
    /// `-- stowage:lock-timeout`, in milliseconds.
    pub lock_timeout_ms: Option<u64>,
    /// `-- stowage:statement-timeout`, in milliseconds.
    pub statement_timeout_ms: Option<u64>,
}

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Its text, without the `;` that ends it.
    pub sql: String,
    /// Its offset in the script's text, in bytes.
    pub start: usize,
    /// Where it starts in the file.
    pub at: LineColumn,
}

/// Applies every rule to the files [`scan::scan`] found in `dir`.
pub fn check(dir: &Path, root: &Path, files: Vec<SqlFile>) -> Result<Folder, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut by_version: BTreeMap<i64, Vec<(FileName, Script)>> = BTreeMap::new();
    for file in files {
        let parsed = name::parse(&file.file_name);
        let script = read(&file);
        match (parsed, script) {
            (Ok(parsed), Ok(script)) => by_version
                .entry(parsed.version)
                .or_default()
                .push((parsed, script)),
            (parsed, script) => {
                if let Err(e) = parsed {
                    let help = match e.suggestion {
                        Some(s) => format!("{}; rename it to `{s}`", name::RULE),
                        None => format!("{}, e.g. `{}`", name::RULE, name::EXAMPLE),
                    };
                    problems.push(Problem::new(&file.display, e.message, help));
                }
                if let Err(mut p) = script {
                    problems.append(&mut p);
                }
            }
        }
    }
    let mut migrations = Vec::new();
    for (version, scripts) in by_version {
        match pair(version, scripts) {
            Ok(m) => migrations.push(m),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if migrations.is_empty() && problems.is_empty() {
        problems.push(Problem::new(
            scan::display(dir, root),
            format!(
                "the folder holds no migration (looked in {})",
                dir.display()
            ),
            format!(
                "add a file named `{{version}}_{{name}}.sql`, e.g. `{}`",
                name::EXAMPLE
            ),
        ));
    }
    if problems.is_empty() {
        let digest = crate::checksum::history_digest(
            migrations
                .iter()
                .map(|m| (m.version, m.up.checksum.as_str())),
        );
        Ok(Folder {
            migrations,
            digest,
            schema: None,
        })
    } else {
        Err(problems)
    }
}

fn read(file: &SqlFile) -> Result<Script, Vec<Problem>> {
    let text = text::normalize(&file.bytes).map_err(|e| vec![e.problem(&file.display)])?;
    let (directives, statements) = statements(&text.sql, &file.display)?;
    Ok(Script {
        path: file.path.clone(),
        display: file.display.clone(),
        checksum: checksum(&text.sql),
        sql: text.sql,
        verbatim: text.verbatim,
        no_transaction: directives.no_transaction,
        statements,
        lock_timeout_ms: directives.lock_timeout_ms,
        statement_timeout_ms: directives.statement_timeout_ms,
    })
}

/// Splits a script into statements and checks them: text for psql,
/// invisible characters, template markers, the directives, and each statement, for what no migration may hold and for
/// where it can run.
/// Where the text is left unterminated, what comes before is checked all
/// the same.
fn statements(sql: &str, display: &str) -> Result<(Directives, Vec<Statement>), Vec<Problem>> {
    let mut tokens = Vec::new();
    let mut unterminated = None;
    for token in lexer::tokens(sql) {
        match token {
            Ok(token) => tokens.push(token),
            Err(e) => unterminated = Some(e),
        }
    }
    let mut problems = psql::meta_commands(sql, &tokens, display);
    problems.extend(invisible::characters(sql, &tokens, display));
    problems.extend(template::markers(sql, &tokens, display));
    let mut split = split_tokens(sql, &tokens);
    match unterminated {
        // The statement that holds the unterminated part is cut short.
        Some(_) if !ends_with_semicolon(&tokens) => {
            split.pop();
        }
        Some(_) => {}
        None if split.is_empty() => {
            return Err(vec![Problem::new(
                display,
                "is empty: it holds no SQL statement, only whitespace or comments",
                "write the migration's SQL in it, or delete the file",
            )]);
        }
        None => {}
    }
    let directives = directive::directives(sql, &tokens, display)
        .map_err(|mut p| problems.append(&mut p))
        .ok();
    let mut cursor = Cursor::new(sql);
    for statement in &split {
        // Its tokens: those that start within its text.
        let first = tokens.partition_point(|t| t.start < statement.start);
        let last = tokens.partition_point(|t| t.start < statement.start + statement.text.len());
        let tokens = &tokens[first..last];
        if let Some((what, start)) = forbidden(tokens) {
            problems.push(Problem::at(
                display,
                cursor.at(start),
                what.message(),
                what.help(),
            ));
        }
        if let Some(directives) = &directives {
            problems.extend(placed(
                display,
                statement,
                placement(tokens),
                directives.no_transaction,
            ));
        }
    }
    if let Some(e) = unterminated {
        problems.push(Problem::at(
            display,
            cursor.at(e.start),
            format!("{}: it starts here and is never closed", e.kind),
            "close it; PostgreSQL would refuse the file",
        ));
    }
    // In the order of their places; the sort is stable.
    problems.sort_by_key(|p| p.at);
    match directives {
        Some(directives) if problems.is_empty() => {
            let statements = split
                .iter()
                .map(|s| Statement {
                    sql: s.text.to_owned(),
                    start: s.start,
                    at: s.at,
                })
                .collect();
            Ok((directives, statements))
        }
        _ => Err(problems),
    }
}

/// Whether the last token that is not a comment is a `;`.
fn ends_with_semicolon(tokens: &[Token<'_>]) -> bool {
    tokens
        .iter()
        .rev()
        .find(|t| !t.kind.is_comment())
        .is_some_and(|t| t.kind == TokenKind::Semicolon)
}

/// The problem with a statement's placement in a migration that runs in a
/// transaction or, with `no_transaction`, does not.
fn placed(
    display: &str,
    statement: &split::Statement<'_>,
    placement: Placement,
    no_transaction: bool,
) -> Option<Problem> {
    let at =
        |message: String, help: String| Some(Problem::at(display, statement.at, message, help));
    match placement {
        Placement::Anywhere => None,
        Placement::OutsideTransaction(what) if !no_transaction => at(
            format!("`{what}` cannot run inside a transaction block, and this migration runs in one"),
            format!(
                "add the line `-- stowage:{NO_TRANSACTION}` above the first statement: the statements then run \
                 one at a time, outside a transaction (keep statements that must commit together in a \
                 migration of their own)"
            ),
        ),
        Placement::OutsideTransaction(_) => None,
        Placement::InsideTransaction(what) if no_transaction => at(
            format!(
                "`{what}` only works inside a transaction block, and in a no-transaction migration each \
                 statement runs on its own, outside one"
            ),
            format!("move it, with the statements it is for, into a migration without `-- stowage:{NO_TRANSACTION}`"),
        ),
        Placement::InsideTransaction(_) => None,
        Placement::TransactionControl(what) if !no_transaction => at(
            format!("`{what}` controls the transaction, and this migration already runs in one of its own"),
            "remove it: stowage begins the migration's transaction and commits it together with the \
             migration's row in the tracking table"
                .to_owned(),
        ),
        Placement::TransactionControl(what) => at(
            format!("`{what}` controls a transaction, and a no-transaction migration does not use one"),
            "remove it: each statement runs on its own, in autocommit; put statements that must commit \
             together in a migration of their own, without the directive"
                .to_owned(),
        ),
    }
}

/// Pairs the files of one version into a migration.
fn pair(version: i64, scripts: Vec<(FileName, Script)>) -> Result<Migration, Vec<Problem>> {
    let (ups, downs): (Vec<_>, Vec<_>) = scripts
        .into_iter()
        .partition(|(n, _)| n.direction == Direction::Up);
    let mut problems = Vec::new();
    for (direction, files) in [("", &ups), (" down", &downs)] {
        if files.len() > 1 {
            let names: Vec<_> = files
                .iter()
                .map(|(_, s)| format!("`{}`", s.display))
                .collect();
            problems.push(Problem::new(
                names.join(" and "),
                format!("these{direction} migrations share version {version}"),
                "each version is used once (`001` and `1` are the same version); renumber all but one",
            ));
        }
    }
    let Some((up_name, up)) = ups.into_iter().next() else {
        for (_, down) in &downs {
            problems.push(Problem::new(
                &down.display,
                format!("is a down migration, but there is no up migration with version {version}"),
                format!("add the up migration `{version}_{{name}}.sql` beside it, or delete the down file"),
            ));
        }
        return Err(problems);
    };
    let down = downs.into_iter().next().map(|(down_name, down)| {
        if down_name.name != up_name.name {
            problems.push(Problem::new(
                &down.display,
                format!(
                    "is the down migration of version {version}, but its name differs from `{}`",
                    up.display
                ),
                format!(
                    "rename it to `{}_{}.down.sql`",
                    version_of(&up),
                    up_name.name
                ),
            ));
        }
        down
    });
    if problems.is_empty() {
        Ok(Migration {
            version,
            name: up_name.name,
            up,
            down,
        })
    } else {
        Err(problems)
    }
}

/// The version as the up file spells it (leading zeros kept).
fn version_of(up: &Script) -> &str {
    let file = up.display.rsplit('/').next().unwrap_or(&up.display);
    file.split('_').next().unwrap_or(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that `sql`, as one migration, has the problems `expected`:
    /// each a subject and the start of its message.
    fn assert_problems(sql: &str, expected: &[(&str, &str)]) {
        let problems = statements(sql, "m.sql").map_or_else(|ps| ps, |_| Vec::new());
        let found: Vec<_> = problems
            .iter()
            .map(|p| (p.subject.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        for ((subject, message), (want_subject, want_start)) in found.iter().zip(expected) {
            assert_eq!(subject, want_subject, "{found:#?}");
            assert!(message.starts_with(want_start), "{message:?}");
        }
    }

    #[test]
    fn checks_what_comes_before_an_unterminated_string() {
        assert_problems(
            "COPY t FROM stdin;\nCI\tC\u{f4}te d'Ivoire\n\\.\n",
            &[
                ("m.sql:1:1", "`COPY ... FROM STDIN`"),
                ("m.sql:2:10", "unterminated quoted string"),
            ],
        );
        // The statement the string is in is cut short, and not checked.
        assert_problems(
            "VACUUM; CREATE SUBSCRIPTION s CONNECTION 'c' PUBLICATION p \
             WITH (connect = false, slot_name = 'x",
            &[
                ("m.sql:1:1", "`VACUUM` cannot run"),
                ("m.sql:1:95", "unterminated quoted string"),
            ],
        );
    }

    #[test]
    fn checks_the_statements_when_a_directive_is_wrong() {
        assert_problems(
            "-- stowage:lock-timeout soon\nDISCARD ALL;\nVACUUM;",
            &[
                ("m.sql:1:1", "the directive `-- stowage:lock-timeout`"),
                ("m.sql:2:1", "`DISCARD ALL` releases"),
            ],
        );
    }

    #[test]
    fn reports_text_for_other_tools_with_the_statements_in_order() {
        assert_problems(
            "\\set x 1\nSELECT {{ x }}\u{a0};",
            &[
                ("m.sql:1:1", "`\\set` is a psql meta-command"),
                ("m.sql:2:8", "`{{ x }}` is a template marker"),
                ("m.sql:2:15", "U+00A0 NO-BREAK SPACE"),
            ],
        );
    }

    #[test]
    fn gives_the_statements_of_a_sound_migration() {
        let (directives, statements) = statements(
            "-- stowage:no-transaction\n;SELECT 1;\nSELECT '\\';",
            "m.sql",
        )
        .expect("sound");
        assert!(directives.no_transaction);
        let texts: Vec<_> = statements.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(texts, ["SELECT 1", "SELECT '\\'"]);
    }
}
