//! The rules a migrations folder must follow, each reported with the file it
//! concerns; every problem in the folder is collected, not just the first.

use crate::checksum::{self, checksum};
use crate::directive::{self, Directives, NO_TRANSACTION};
use crate::forbidden::forbidden;
use crate::invisible;
use crate::lexer::{self, Token, TokenKind};
use crate::name::{self, Direction, FileName};
use crate::placement::{Placement, placement};
use crate::position::{Cursor, LineColumn};
use crate::problem::Problem;
use crate::psql;
use crate::repeatable::{self, Object, ObjectKind, Part, Refused};
use crate::scan::{self, SqlFile};
use crate::split::{self, split_tokens};
use crate::template;
use crate::text;
use crate::tools::Layout;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A checked migrations folder.
#[derive(Debug, Clone)]
pub struct Folder {
    /// The migrations, sorted by version; never empty.
    pub migrations: Vec<Migration>,
    /// The layout it was read in.
    pub layout: Layout,
    /// The versions the macro was told are handled elsewhere (migrations in
    /// code, which stowage cannot run), sorted.
    pub elsewhere: Vec<i64>,
    /// The repeatable migrations, sorted by name.
    pub repeatables: Vec<Repeatable>,
    /// The digest of the migrations, repeatable ones included:
    /// [`history_digest`](crate::checksum::history_digest) of their tracking
    /// versions and checksums.
    pub digest: String,
    /// The schema file, whether it is there or not; `None` before it was
    /// looked for.
    pub schema: Option<crate::schema_file::SchemaFile>,
}

/// A repeatable migration: `R__{name}.sql`, applied again whenever it
/// changes (see [`repeatable`]).
#[derive(Debug, Clone)]
pub struct Repeatable {
    /// The name, between `R__` and `.sql`.
    pub name: String,
    /// The version its row has in the tracking table
    /// ([`repeatable::tracking_version`]).
    pub version: i64,
    /// The file.
    pub script: Script,
    /// What its statements create, in order.
    pub objects: Vec<Object>,
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
    /// The checksum the layout's tool records for it, in the text its table
    /// holds it as, where the tool records one.
    pub tool_checksum: Option<String>,
}

/// How a layout has a script's text checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// The layout: its tool's markers are understood, others refused.
    pub layout: Layout,
    /// Whether a script that is empty or only whitespace is refused
    /// (stowage's own layout); comments alone are a deliberate no-op.
    pub refuse_blank: bool,
    /// Whether the tool runs it outside a transaction.
    pub no_transaction: bool,
    /// Whether it is a repeatable migration, which may hold only what
    /// [`repeatable::read`] takes.
    pub repeatable: bool,
}

impl Rules {
    /// stowage's own layout.
    pub const STOWAGE: Rules = Rules {
        layout: Layout::Stowage,
        refuse_blank: true,
        no_transaction: false,
        repeatable: false,
    };

    /// A repeatable migration in stowage's own layout.
    pub const REPEATABLE: Rules = Rules {
        repeatable: true,
        ..Rules::STOWAGE
    };
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
    #[cfg(feature = "tools")]
    let total = files.len();
    let mut problems = Vec::new();
    let mut by_version: BTreeMap<i64, Vec<(FileName, Script)>> = BTreeMap::new();
    let mut repeatables = Vec::new();
    for file in files {
        if repeatable::is_repeatable(&file.file_name) {
            match read_repeatable(&file) {
                Ok(r) => repeatables.push(r),
                Err(mut p) => problems.append(&mut p),
            }
            continue;
        }
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
    #[cfg(feature = "tools")]
    if !problems.is_empty() {
        let refused: std::collections::BTreeSet<&str> = problems
            .iter()
            .map(|p| p.subject.split(':').next().unwrap_or(&p.subject))
            .collect();
        // Only where half the folder or more shows it.
        if let Some(evidence) =
            crate::tools::stowage::looks_like(dir, root).filter(|e| e.count * 2 >= total)
        {
            return Err(vec![crate::tools::stowage::problem(
                dir,
                root,
                &evidence,
                refused.len(),
            )]);
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
    problems.extend(repeatables_apart(&mut repeatables));
    if problems.is_empty() {
        Ok(Folder {
            digest: digest(&migrations, &repeatables),
            migrations,
            layout: Layout::Stowage,
            elsewhere: Vec::new(),
            repeatables,
            schema: None,
        })
    } else {
        Err(problems)
    }
}

/// The digest of a folder's history: every migration's version and up
/// checksum and every repeatable's tracking version and checksum, in
/// version order (the repeatables', negative, first), as the tracking table
/// of a database that applied exactly them gives it.
fn digest(migrations: &[Migration], repeatables: &[Repeatable]) -> String {
    let mut history: Vec<(i64, &str)> = repeatables
        .iter()
        .map(|r| (r.version, r.script.checksum.as_str()))
        .chain(
            migrations
                .iter()
                .map(|m| (m.version, m.up.checksum.as_str())),
        )
        .collect();
    history.sort_by_key(|(version, _)| *version);
    checksum::history_digest(history)
}

fn read(file: &SqlFile) -> Result<Script, Vec<Problem>> {
    let text = text::normalize(&file.bytes).map_err(|e| vec![e.problem(&file.display)])?;
    script(
        file.path.clone(),
        file.display.clone(),
        text.sql,
        text.verbatim,
        &Rules::STOWAGE,
    )
}

/// Checks a script's text by `rules`.
fn script(
    path: PathBuf,
    display: String,
    sql: String,
    verbatim: bool,
    rules: &Rules,
) -> Result<Script, Vec<Problem>> {
    let Read {
        directives,
        statements,
        ..
    } = statements_by(&sql, &display, rules)?;
    Ok(Script {
        path,
        display,
        checksum: checksum(&sql),
        sql,
        verbatim,
        no_transaction: directives.no_transaction || rules.no_transaction,
        statements,
        lock_timeout_ms: directives.lock_timeout_ms,
        statement_timeout_ms: directives.statement_timeout_ms,
    })
}

/// Checks what a layout's reader found: every rule of stowage inside each
/// script, the migrations in code, and the versions handled elsewhere.
#[cfg(feature = "tools")]
pub fn check_found(
    dir: &Path,
    root: &Path,
    layout: Layout,
    read: crate::tools::Read,
    elsewhere: &[i64],
) -> Result<Folder, Vec<Problem>> {
    use crate::tools::{Blank, Source};
    let mut problems = read.problems;
    let mut migrations = Vec::new();
    let check = |source: Source| {
        let rules = Rules {
            layout,
            refuse_blank: source.blank == Blank::CommentsOnly,
            no_transaction: source.no_transaction,
            repeatable: false,
        };
        script(
            source.path,
            source.display,
            source.text,
            source.verbatim,
            &rules,
        )
    };
    for found in read.found {
        let up = check(found.up);
        let down = found
            .down
            .filter(|d| !d.text.trim().is_empty())
            .map(check)
            .transpose();
        match (up, down) {
            (Ok(up), Ok(down)) => migrations.push(Migration {
                version: found.version,
                name: found.name,
                up,
                down,
                tool_checksum: found.tool_checksum,
            }),
            (up, down) => {
                problems.extend(up.err().into_iter().flatten());
                problems.extend(down.err().into_iter().flatten());
            }
        }
    }
    for code in &read.code {
        if !elsewhere.contains(&code.version) {
            problems.push(Problem::new(
                &code.display,
                format!(
                    "is migration {} written in code, which stowage cannot run, and the build is not told where it is handled",
                    code.version
                ),
                format!(
                    "if it runs elsewhere, say so: `embed_migrations!(\"{}\", layout = \"{}\", elsewhere = [{}])`; \
                     `status` then shows it as handled elsewhere; or rewrite it in SQL",
                    scan::display(dir, root),
                    layout.name(),
                    code.version
                ),
            ));
        }
    }
    for version in elsewhere {
        if let Some(m) = migrations.iter().find(|m| m.version == *version) {
            problems.push(Problem::new(
                &m.up.display,
                format!("is migration {version} in SQL, and the build is told version {version} is handled elsewhere"),
                format!("remove {version} from `elsewhere`, or renumber one of them"),
            ));
        }
    }
    if migrations.is_empty() && problems.is_empty() {
        problems.push(Problem::new(
            scan::display(dir, root),
            format!(
                "the folder holds no migration in {}'s layout (looked in {})",
                layout.name(),
                dir.display()
            ),
            "check the folder and the `layout` given to `embed_migrations!`",
        ));
    }
    problems.sort_by(|a, b| a.subject.cmp(&b.subject).then(a.at.cmp(&b.at)));
    problems.dedup();
    if !problems.is_empty() {
        return Err(problems);
    }
    migrations.sort_by_key(|m| m.version);
    let mut elsewhere = elsewhere.to_vec();
    elsewhere.sort_unstable();
    elsewhere.dedup();
    Ok(Folder {
        digest: digest(&migrations, &[]),
        migrations,
        layout,
        elsewhere,
        repeatables: Vec::new(),
        schema: None,
    })
}

/// A repeatable file, checked: its name, its statements, and what it
/// creates.
fn read_repeatable(file: &SqlFile) -> Result<Repeatable, Vec<Problem>> {
    let name = repeatable::parse_name(&file.file_name).map_err(|e| {
        let help = match e.suggestion {
            Some(s) => format!("{}; rename it to `{s}`", repeatable::RULE),
            None => format!("{}, e.g. `R__active_users.sql`", repeatable::RULE),
        };
        vec![Problem::new(&file.display, e.message, help)]
    })?;
    let text = text::normalize(&file.bytes).map_err(|e| vec![e.problem(&file.display)])?;
    let Read {
        directives,
        statements,
        parts,
    } = statements_by(&text.sql, &file.display, &Rules::REPEATABLE)?;
    let objects = objects(&file.display, parts)?;
    Ok(Repeatable {
        version: repeatable::tracking_version(&name),
        name,
        script: Script {
            path: file.path.clone(),
            display: file.display.clone(),
            checksum: checksum(&text.sql),
            sql: text.sql,
            verbatim: text.verbatim,
            no_transaction: false,
            statements,
            lock_timeout_ms: directives.lock_timeout_ms,
            statement_timeout_ms: directives.statement_timeout_ms,
        },
        objects,
    })
}

/// What a repeatable file creates, from its statements: every `COMMENT
/// ON`, `GRANT` and `REVOKE` must be on one of them, made before it, and
/// every index on one of its materialized views. (A file of statements
/// that create nothing fails those rules, or is empty.)
fn objects(display: &str, parts: Vec<(Part, LineColumn)>) -> Result<Vec<Object>, Vec<Problem>> {
    let mut objects: Vec<Object> = Vec::new();
    let mut problems = Vec::new();
    for (part, at) in parts {
        match part {
            Part::Creates(object) => {
                if let (ObjectKind::Index, Some(on)) = (object.kind, &object.on) {
                    let view = Object {
                        kind: ObjectKind::MaterializedView,
                        name: on.clone(),
                        on: None,
                    };
                    let of_file = objects
                        .iter()
                        .any(|o| o.kind == ObjectKind::MaterializedView && o.same(&view));
                    if !of_file {
                        problems.push(Problem::at(
                            display,
                            at,
                            format!(
                                "`CREATE INDEX` in a repeatable file is for a materialized view the file \
                                 creates before it, and `{on}` is not one"
                            ),
                            "index tables in a versioned migration",
                        ));
                    }
                }
                objects.push(object);
            }
            Part::Concerns { verb, targets } => {
                for target in targets {
                    if !objects.iter().any(|o| o.same(&target)) {
                        let name = &target.name;
                        problems.push(Problem::at(
                            display,
                            at,
                            format!(
                                "`{verb}` here is on `{name}`, which this file does not create before it"
                            ),
                            format!(
                                "put it after the statement that creates `{name}`, in the file that \
                                 creates it, or in a versioned migration"
                            ),
                        ));
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(objects)
    } else {
        Err(problems)
    }
}

/// Sorts the repeatable files by name; two files with one name, or that
/// create the same object, are problems.
fn repeatables_apart(repeatables: &mut [Repeatable]) -> Vec<Problem> {
    repeatables.sort_by(|a, b| a.name.cmp(&b.name));
    let mut problems = Vec::new();
    for pair in repeatables.windows(2) {
        if pair[0].name == pair[1].name {
            problems.push(Problem::new(
                format!(
                    "`{}` and `{}`",
                    pair[0].script.display, pair[1].script.display
                ),
                format!(
                    "these repeatable migrations share the name `{}`",
                    pair[0].name
                ),
                "rename one: the tracking table knows a repeatable migration by its name",
            ));
        }
    }
    for (i, later) in repeatables.iter().enumerate() {
        for object in &later.objects {
            let earlier = repeatables[..i]
                .iter()
                .find(|r| r.objects.iter().any(|o| o.same(object)));
            if let Some(earlier) = earlier {
                problems.push(Problem::new(
                    &later.script.display,
                    format!(
                        "creates `{}`, which `{}` creates as well",
                        object.name, earlier.script.display
                    ),
                    "create each object in one file only",
                ));
            }
        }
    }
    problems
}

/// A script's directives and statements, and for a repeatable file what
/// each statement is, with where it starts.
struct Read {
    directives: Directives,
    statements: Vec<Statement>,
    parts: Vec<(Part, LineColumn)>,
}

/// Splits a script into statements and checks them: text for psql,
/// invisible characters, template markers, the directives, and each statement, for what no migration may hold and for
/// where it can run.
/// Where the text is left unterminated, what comes before is checked all
/// the same.
#[cfg(test)]
fn statements(sql: &str, display: &str) -> Result<Read, Vec<Problem>> {
    statements_by(sql, display, &Rules::STOWAGE)
}

/// [`statements`] by the rules of a layout (for a repeatable file, what it
/// may hold instead of where each statement can run).
fn statements_by(sql: &str, display: &str, rules: &Rules) -> Result<Read, Vec<Problem>> {
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
    problems.extend(crate::markers::foreign(sql, &tokens, display, rules.layout));
    let mut split = split_tokens(sql, &tokens);
    match unterminated {
        // The statement that holds the unterminated part is cut short.
        Some(_) if !ends_with_semicolon(&tokens) => {
            split.pop();
        }
        Some(_) => {}
        // Comments alone are a deliberate no-op; nothing at all is one only
        // where the layout's tool says so.
        None if split.is_empty()
            && tokens.is_empty()
            && rules.refuse_blank
            && !rules.repeatable =>
        {
            return Err(vec![Problem::new(
                display,
                "is empty: it holds nothing, or only whitespace",
                "write the migration's SQL in it; if it is meant to do nothing, write a comment saying why \
                 (a migration of comments alone is applied as a deliberate no-op); or delete the file",
            )]);
        }
        None => {}
    }
    // A repeatable file is applied again whenever it changes: one that
    // creates nothing is a mistake, not a deliberate no-op.
    if rules.repeatable && split.is_empty() && unterminated.is_none() {
        problems.push(Problem::new(
            display,
            "holds no statement: a repeatable file creates views, functions, procedures or triggers",
            "write the CREATE statement it is for; if it is no longer needed, delete the file, and the next \
             run drops what it created",
        ));
    }
    let directives = directive::directives(sql, &tokens, display)
        .map_err(|mut p| problems.append(&mut p))
        .ok();
    if rules.repeatable && directives.is_some_and(|d| d.no_transaction) {
        problems.push(Problem::new(
            display,
            format!(
                "a repeatable file cannot be `-- stowage:{NO_TRANSACTION}`: the repeatable files are applied \
                 together in one transaction"
            ),
            "remove the directive; statements that cannot run in a transaction belong in a versioned migration",
        ));
    }
    let mut parts = Vec::new();
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
        } else if rules.repeatable {
            match repeatable::read(tokens) {
                Ok(part) => parts.push((part, statement.at)),
                Err(refused) => problems.push(refusal(display, statement, &refused)),
            }
            continue;
        }
        if let Some(directives) = &directives {
            problems.extend(placed(
                display,
                statement,
                placement(tokens),
                directives.no_transaction || rules.no_transaction,
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
            Ok(Read {
                directives,
                statements,
                parts,
            })
        }
        _ => Err(problems),
    }
}

/// The problem with a statement a repeatable file may not hold.
fn refusal(display: &str, statement: &split::Statement<'_>, refused: &Refused) -> Problem {
    Problem::at(display, statement.at, refused.message(), refused.help())
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
            tool_checksum: None,
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
        let Read {
            directives,
            statements,
            ..
        } = statements(
            "-- stowage:no-transaction\n;SELECT 1;\nSELECT '\\';",
            "m.sql",
        )
        .expect("sound");
        assert!(directives.no_transaction);
        let texts: Vec<_> = statements.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(texts, ["SELECT 1", "SELECT '\\'"]);
    }
}
