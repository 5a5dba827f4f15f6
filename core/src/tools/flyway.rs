//! Flyway's layout, as Flyway reads a location: the files below the folder,
//! at any depth, named `V{version}__{description}.sql`, with an optional
//! `V{version}__{description}.sql.conf` beside each. Flyway records CRC-32
//! over the lines of the file (see [`super::checksum::flyway`]).
//!
//! - stowage keeps a version as one integer: a dotted or underscored
//!   version (`V1.1__`, `V1_1__`) fails the build, since no mapping onto
//!   one integer keeps both Flyway's order and room for the versions a
//!   team adds later between two others.
//! - `executeInTransaction=false` in the `.sql.conf` runs the file outside
//!   a transaction; any other setting fails the build.
//! - `${...}` placeholders fail the build wherever they are, strings and
//!   comments included, since Flyway replaces them there too and stowage
//!   replaces nothing.
//! - Undo (`U`) and baseline (`B`) migrations fail the build, and so do
//!   repeatable (`R__`) ones: Flyway runs them whole again, `OR REPLACE`
//!   and `DROP ... CASCADE` included, where stowage's repeatable migrations
//!   hold plain `CREATE` statements that stowage replaces or creates again
//!   itself.
//! - Migrations in code (`.java`, `.kt`, and script migrations such as
//!   `.sh`) are reported as such.
//! - An empty file is a no-op, as Flyway runs it.

use super::{
    Blank, Code, Entry, Found, Read, bytes, check_versions, checksum, entries, version, whole_file,
};
use crate::problem::Problem;
use std::path::Path;

/// The extensions of Flyway's migrations in code or scripts.
const CODE: &[&str] = &[
    ".java", ".kt", ".class", ".sh", ".bash", ".ps1", ".cmd", ".bat", ".py",
];

/// Reads `dir` as Flyway does.
pub fn read(dir: &Path, root: &Path) -> Read {
    let mut read = Read::default();
    let entries = match entries(dir, root, true) {
        Ok(entries) => entries,
        Err(problems) => {
            read.problems = problems;
            return read;
        }
    };
    for entry in &entries {
        let name = entry.name.as_str();
        if name.ends_with(".sql.conf") {
            let script = name.trim_end_matches(".conf");
            if !entries
                .iter()
                .any(|e| e.name == script && e.path.parent() == entry.path.parent())
            {
                read.problems.push(Problem::new(
                    &entry.display,
                    format!("configures `{script}`, which is not beside it"),
                    "rename it after its migration, or delete it",
                ));
            }
            continue;
        }
        let code = CODE.iter().find(|ext| name.ends_with(*ext));
        let Some(stem) = name
            .strip_suffix(".sql")
            .or_else(|| code.map(|ext| &name[..name.len() - ext.len()]))
        else {
            continue;
        };
        let Some((prefix_version, description)) = stem.split_once("__") else {
            if code.is_none() {
                read.problems.push(stray(&entry.display));
            }
            continue;
        };
        let (prefix, raw_version) = prefix_version.split_at(prefix_version.len().min(1));
        match prefix {
            "V" => {}
            "R" if raw_version.is_empty() => {
                read.problems.push(Problem::new(
                    &entry.display,
                    "is a repeatable Flyway migration, which stowage does not read in Flyway's layout",
                    "rewrite it as a repeatable migration in stowage's own layout (`R__{name}.sql`, holding plain \
                     `CREATE VIEW`, `CREATE FUNCTION` and the like, which stowage replaces or creates again \
                     itself), or fold it into a versioned migration",
                ));
                continue;
            }
            "U" => {
                read.problems.push(Problem::new(
                    &entry.display,
                    "is a Flyway undo migration, which stowage does not read",
                    "move its SQL to `{version}_{name}.down.sql` beside the migration in stowage's own layout, \
                     or delete it",
                ));
                continue;
            }
            "B" => {
                read.problems.push(Problem::new(
                    &entry.display,
                    "is a Flyway baseline migration, which stowage does not read",
                    "adopt the database's history with `db adopt --from flyway` instead, and delete it",
                ));
                continue;
            }
            _ => {
                if code.is_none() {
                    read.problems.push(stray(&entry.display));
                }
                continue;
            }
        }
        if raw_version.contains(['.', '_']) {
            read.problems.push(Problem::new(
                &entry.display,
                format!(
                    "the version `{raw_version}` has parts, and stowage keeps a version as one integer: no mapping \
                     of dotted versions onto one keeps Flyway's order and leaves room for a version added later \
                     between two others"
                ),
                "renumber the migrations with integer versions (e.g. `V11__` for `V1.1__`) in the folder and in \
                 `flyway_schema_history` before adopting, or stay with Flyway for this folder",
            ));
            continue;
        }
        let version = match version(raw_version, &entry.display, "Flyway") {
            Ok(v) => v,
            Err(p) => {
                read.problems.push(p);
                continue;
            }
        };
        if code.is_some() {
            read.code.push(Code {
                version,
                display: entry.display.clone(),
            });
            continue;
        }
        match script(entry, &entries) {
            Ok((up, checksum)) => read.found.push(Found {
                version,
                name: description.to_owned(),
                up,
                down: None,
                tool_checksum: Some(checksum),
            }),
            Err(mut p) => read.problems.append(&mut p),
        }
    }
    read.found.sort_by_key(|f| f.version);
    read.problems
        .extend(check_versions(&read.found, "Flyway", None));
    read
}

fn stray(display: &str) -> Problem {
    Problem::new(
        display,
        "is not named as Flyway names a migration, so Flyway skips it",
        "name it `V{version}__{description}.sql`, or move it out of the folder",
    )
}

/// The script, its settings and its checksum.
fn script(entry: &Entry, entries: &[Entry]) -> Result<(super::Source, String), Vec<Problem>> {
    let raw = bytes(&entry.path, &entry.display).map_err(|p| vec![p])?;
    let conf_name = format!("{}.conf", entry.name);
    let conf = entries
        .iter()
        .find(|e| e.name == conf_name && e.path.parent() == entry.path.parent());
    let transactional = match conf {
        Some(conf) => execute_in_transaction(conf).map_err(|p| vec![p])?,
        None => true,
    };
    let source = whole_file(entry, &raw, !transactional, Blank::NoOp).map_err(|p| vec![p])?;
    let placeholders = placeholders(&source.text, &entry.display);
    if !placeholders.is_empty() {
        return Err(placeholders);
    }
    let checksum = checksum::flyway(&String::from_utf8_lossy(&raw));
    Ok((source, checksum))
}

/// A problem for each `${` in `text`, strings and comments included.
fn placeholders(text: &str, display: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(column) = line.find("${") {
            let end = line[column..]
                .find('}')
                .map_or(line.len(), |e| column + e + 1);
            problems.push(Problem::new(
                format!("{display}:{}:{}", i + 1, line[..column].chars().count() + 1),
                format!(
                    "`{}` is a Flyway placeholder, which Flyway replaces even in strings and comments; stowage \
                     replaces nothing",
                    &line[column..end]
                ),
                "write the value into the SQL itself",
            ));
        }
    }
    problems
}

/// `executeInTransaction` as Flyway reads a `.sql.conf`.
fn execute_in_transaction(entry: &Entry) -> Result<bool, Problem> {
    let raw = bytes(&entry.path, &entry.display)?;
    let (text, _) = super::decode(&raw, &entry.display)?;
    let mut transactional = true;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{}:{}", entry.display, i + 1);
        match line.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
            Some(("executeInTransaction", "false")) => transactional = false,
            Some(("executeInTransaction", "true")) => transactional = true,
            Some(("encoding", v))
                if v.eq_ignore_ascii_case("UTF-8") || v.eq_ignore_ascii_case("UTF8") => {}
            _ => {
                return Err(Problem::new(
                    at,
                    format!(
                        "`{line}` is a setting stowage does not read: it reads `executeInTransaction` alone"
                    ),
                    "remove it, or write `executeInTransaction=false`",
                ));
            }
        }
    }
    Ok(transactional)
}
