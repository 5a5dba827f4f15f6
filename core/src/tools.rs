//! The folder layouts of other migration tools, each read as its tool
//! reads it, so that a team can point `embed_migrations!` at the folder it
//! has: `layout = "sqlx"`, `"diesel"`, `"refinery"`, `"goose"`,
//! `"golang-migrate"`, `"dbmate"` or `"flyway"`. stowage's own layout is the
//! default.
//!
//! Each reader finds the tool's files, its versions and names, the script
//! each direction runs and whether it runs in a transaction, in the tool's
//! own order, and, where the tool records a checksum, computes it the
//! tool's way. Everything it finds then goes through every rule of stowage
//! (see [`crate::check`]); a tool's marker is understood or refused, never
//! ignored (see [`crate::markers`]).

#[cfg(feature = "tools")]
pub mod checksum;
#[cfg(feature = "tools")]
pub mod dbmate;
#[cfg(feature = "tools")]
pub mod diesel;
#[cfg(feature = "tools")]
pub mod flyway;
#[cfg(feature = "tools")]
pub mod golang_migrate;
#[cfg(feature = "tools")]
pub mod goose;
#[cfg(feature = "tools")]
pub mod refinery;
#[cfg(feature = "tools")]
pub mod sqlx;
#[cfg(feature = "tools")]
pub mod stowage;

#[cfg(feature = "tools")]
use crate::problem::Problem;
#[cfg(feature = "tools")]
use std::path::{Path, PathBuf};

/// A folder layout: stowage's own, or another tool's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layout {
    /// `{version}_{name}.sql` and `{version}_{name}.down.sql`.
    Stowage,
    /// sqlx: `{version}_{description}.sql`, or `.up.sql` and `.down.sql`.
    Sqlx,
    /// diesel: folders `{version}_{name}/` with `up.sql`, `down.sql` and
    /// `metadata.toml`.
    Diesel,
    /// refinery: `V{version}__{name}.sql` and `U{version}__{name}.sql`.
    Refinery,
    /// goose: `{version}_{name}.sql` with `-- +goose Up` and `-- +goose Down`.
    Goose,
    /// golang-migrate: `{version}_{title}.up.sql` and `.down.sql`.
    GolangMigrate,
    /// dbmate: `{version}_{name}.sql` with `-- migrate:up` and `-- migrate:down`.
    Dbmate,
    /// Flyway: `V{version}__{description}.sql` and `.sql.conf`.
    Flyway,
}

impl Layout {
    /// Every layout, stowage's first.
    pub const ALL: [Layout; 8] = [
        Layout::Stowage,
        Layout::Sqlx,
        Layout::Diesel,
        Layout::Refinery,
        Layout::Goose,
        Layout::GolangMigrate,
        Layout::Dbmate,
        Layout::Flyway,
    ];

    /// Its name, as `layout = "..."` and `--from` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Stowage => "stowage",
            Layout::Sqlx => "sqlx",
            Layout::Diesel => "diesel",
            Layout::Refinery => "refinery",
            Layout::Goose => "goose",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Dbmate => "dbmate",
            Layout::Flyway => "flyway",
        }
    }

    /// The layout named `name`.
    pub fn parse(name: &str) -> Option<Layout> {
        Layout::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The names of every layout, for messages.
    pub fn names() -> String {
        let names: Vec<String> = Layout::ALL
            .iter()
            .map(|l| format!("`{}`", l.name()))
            .collect();
        names.join(", ")
    }

    /// The table in which the tool records what it applied, by default.
    pub fn tracking_table(self) -> Option<&'static str> {
        match self {
            Layout::Stowage => None,
            Layout::Sqlx => Some("_sqlx_migrations"),
            Layout::Diesel => Some("__diesel_schema_migrations"),
            Layout::Refinery => Some("refinery_schema_history"),
            Layout::Goose => Some("goose_db_version"),
            Layout::GolangMigrate | Layout::Dbmate => Some("schema_migrations"),
            Layout::Flyway => Some("flyway_schema_history"),
        }
    }
}

/// Whether `line` is refinery's `-- +refinery NO TRANSACTION`: two or more
/// `-`, at most one white space, then the words.
pub fn refinery_no_transaction(line: &str) -> bool {
    let rest = line.trim_start_matches('-');
    if line.len() - rest.len() < 2 {
        return false;
    }
    let rest = rest
        .strip_prefix(|c: char| c.is_whitespace())
        .unwrap_or(rest);
    rest == "+refinery NO TRANSACTION"
}

/// One script as a tool's layout gives it: the text that runs, and what
/// the tool says of it.
#[cfg(feature = "tools")]
#[derive(Debug, Clone)]
pub struct Source {
    /// The file's absolute path.
    pub path: PathBuf,
    /// The file as shown to the user.
    pub display: String,
    /// The text that runs, decoded as [`crate::text::normalize`] does. For
    /// a section of a file (goose, dbmate), the lines before it are kept as
    /// empty lines, so that places in it are places in the file.
    pub text: String,
    /// Whether `text` is exactly the file's bytes.
    pub verbatim: bool,
    /// The tool runs it outside a transaction.
    pub no_transaction: bool,
    /// What a script with no statement means.
    pub blank: Blank,
}

/// What a script without a statement means in a layout.
#[cfg(feature = "tools")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blank {
    /// Comments alone are a deliberate no-op; empty or whitespace alone is
    /// refused (stowage's own layout).
    CommentsOnly,
    /// Anything without a statement is a no-op, as the tool runs it.
    NoOp,
}

/// A migration a layout found: its version in stowage, its name, its
/// scripts, and the tool's checksum of it where the tool records one.
#[cfg(feature = "tools")]
#[derive(Debug, Clone)]
pub struct Found {
    /// The version, as stowage keeps it.
    pub version: i64,
    /// The name.
    pub name: String,
    /// The up script.
    pub up: Source,
    /// The down script, if there is one.
    pub down: Option<Source>,
    /// The tool's checksum, as the tool's table holds it in text.
    pub tool_checksum: Option<String>,
}

/// A migration written in code (goose's `.go`, refinery's `.rs`, Flyway's
/// Java), which stowage cannot run.
#[cfg(feature = "tools")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// Its version.
    pub version: i64,
    /// The file, as shown.
    pub display: String,
}

/// What a layout's reader found in a folder.
#[cfg(feature = "tools")]
#[derive(Debug, Default)]
pub struct Read {
    /// The SQL migrations, in the tool's order.
    pub found: Vec<Found>,
    /// The migrations written in code.
    pub code: Vec<Code>,
    /// What is wrong.
    pub problems: Vec<Problem>,
}

/// Reads `dir` in `layout`; paths are shown relative to `root`.
#[cfg(feature = "tools")]
pub fn read(layout: Layout, dir: &Path, root: &Path) -> Read {
    match layout {
        Layout::Stowage => Read {
            problems: vec![Problem::new(
                crate::scan::display(dir, root),
                "stowage's own layout is read by `crate::load`",
                "",
            )],
            ..Read::default()
        },
        Layout::Sqlx => sqlx::read(dir, root),
        Layout::Diesel => diesel::read(dir, root),
        Layout::Refinery => refinery::read(dir, root),
        Layout::Goose => goose::read(dir, root),
        Layout::GolangMigrate => golang_migrate::read(dir, root),
        Layout::Dbmate => dbmate::read(dir, root),
        Layout::Flyway => flyway::read(dir, root),
    }
}

/// A file or folder of a migrations folder.
#[cfg(feature = "tools")]
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its absolute path.
    pub path: PathBuf,
    /// As shown to the user.
    pub display: String,
    /// Its name.
    pub name: String,
    /// Whether it is a folder.
    pub is_dir: bool,
}

/// The entries of `dir` that are not hidden, sorted by name; with
/// `recursive`, those of every folder below it too (files only).
#[cfg(feature = "tools")]
pub fn entries(dir: &Path, root: &Path, recursive: bool) -> Result<Vec<Entry>, Vec<Problem>> {
    let shown = crate::scan::display(dir, root);
    if !dir.is_dir() {
        return Err(vec![Problem::new(
            shown,
            format!(
                "the migrations folder does not exist or is not a folder (looked for {})",
                dir.display()
            ),
            "pass the folder's path relative to Cargo.toml, e.g. `embed_migrations!(\"migrations\", layout = \"...\")`",
        )]);
    }
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .min_depth(1)
        .max_depth(if recursive { usize::MAX } else { 1 })
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !e.file_name().to_string_lossy().starts_with('.'));
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for entry in walk {
        match entry {
            Ok(entry) => {
                let is_dir = entry.file_type().is_dir();
                if recursive && is_dir {
                    continue;
                }
                found.push(Entry {
                    display: crate::scan::display(entry.path(), root),
                    name: entry.file_name().to_string_lossy().into_owned(),
                    path: entry.into_path(),
                    is_dir,
                });
            }
            Err(e) => {
                let at = e
                    .path()
                    .map_or_else(|| shown.clone(), |p| crate::scan::display(p, root));
                problems.push(Problem::new(at, format!("cannot be read: {e}"), ""));
            }
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(problems)
    }
}

/// A file's bytes, or the problem of reading it.
#[cfg(feature = "tools")]
pub fn bytes(path: &Path, display: &str) -> Result<Vec<u8>, Problem> {
    std::fs::read(path).map_err(|e| Problem::new(display, format!("cannot be read: {e}"), ""))
}

/// A file's text as [`crate::text::normalize`] decodes it, and whether it is
/// the file's bytes exactly.
#[cfg(feature = "tools")]
pub fn decode(bytes: &[u8], display: &str) -> Result<(String, bool), Problem> {
    crate::text::normalize(bytes)
        .map(|t| (t.sql, t.verbatim))
        .map_err(|e| e.problem(display))
}

/// A whole file as a [`Source`].
#[cfg(feature = "tools")]
pub fn whole_file(
    entry: &Entry,
    bytes: &[u8],
    no_transaction: bool,
    blank: Blank,
) -> Result<Source, Problem> {
    let (text, verbatim) = decode(bytes, &entry.display)?;
    Ok(Source {
        path: entry.path.clone(),
        display: entry.display.clone(),
        text,
        verbatim,
        no_transaction,
        blank,
    })
}

/// The part of `text` from byte `start` to byte `end`, with every line
/// before it kept as an empty line so that places in it are places in the
/// file. `start` is at the start of a line.
#[cfg(feature = "tools")]
pub fn section(text: &str, start: usize, end: usize) -> String {
    let lines = text[..start].matches('\n').count();
    let mut section = "\n".repeat(lines);
    section.push_str(&text[start..end]);
    section
}

/// The version of a tool's file name, `digits` as stowage keeps it; a
/// problem for `display` if they do not fit an `i64`.
#[cfg(feature = "tools")]
pub fn version(digits: &str, display: &str, tool: &str) -> Result<i64, Problem> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::new(
            display,
            format!(
                "the version `{digits}` is not ASCII digits, as {tool}'s versions must be here"
            ),
            "stowage keeps a version as a 64-bit integer; rename the file with a version of digits",
        ));
    }
    digits.parse::<i64>().map_err(|_| {
        Problem::new(
            display,
            format!(
                "the version `{digits}` is too large: stowage keeps a version as a 64-bit signed integer (at most {})",
                i64::MAX
            ),
            "give the migration a smaller version",
        )
    })
}

/// Problems for versions given by more than one file, and, for a tool that
/// orders its migrations by text, for versions whose order as text differs
/// from their order as numbers (stowage applies them by number).
#[cfg(feature = "tools")]
pub fn check_versions(found: &[Found], tool: &str, text_order: Option<&[String]>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut by_version: std::collections::BTreeMap<i64, Vec<&str>> = Default::default();
    for f in found {
        by_version.entry(f.version).or_default().push(&f.up.display);
    }
    for (version, files) in &by_version {
        if files.len() > 1 {
            let names: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
            problems.push(Problem::new(
                names.join(" and "),
                format!("these migrations share version {version} as stowage reads {tool}'s versions"),
                "stowage keeps one migration per version (as a number, so `001` and `1` are the same); \
                 renumber all but one",
            ));
        }
    }
    if let Some(keys) = text_order {
        let mut pairs: Vec<(&String, i64, &str)> = keys
            .iter()
            .zip(found)
            .map(|(k, f)| (k, f.version, f.up.display.as_str()))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        for w in pairs.windows(2) {
            if w[0].1 > w[1].1 {
                problems.push(Problem::new(
                    format!("`{}` and `{}`", w[0].2, w[1].2),
                    format!(
                        "{tool} runs `{}` before `{}` (it orders versions as text), but stowage orders them \
                         as numbers, the other way round",
                        w[0].0, w[1].0
                    ),
                    "give the versions the same number of digits, so that both orders agree",
                ));
            }
        }
    }
    problems
}
