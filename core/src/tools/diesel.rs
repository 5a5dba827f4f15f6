//! diesel's layout, as `diesel migration run` and diesel's
//! `embed_migrations!` read it: every folder directly in the migrations
//! folder that is not hidden and not empty is a migration, named
//! `{version}_{name}`, and must hold `up.sql`; `down.sql` is the down
//! script, and `metadata.toml` may say `run_in_transaction = false`.
//!
//! - The version is the part before the first `_`, its `-` removed
//!   (`2017-08-31-230457` is `20170831230457`, as diesel records it); diesel
//!   orders versions as text, and stowage refuses a folder where that order
//!   differs from their order as numbers.
//! - Without `metadata.toml` a migration runs in a transaction. With one,
//!   diesel's default for a missing `run_in_transaction` key is `false` (its
//!   field's default), and stowage follows it. A key diesel does not read,
//!   or a file it could not parse (diesel then silently runs in a
//!   transaction), fails the build.
//! - An empty `up.sql` fails, as diesel refuses to run it; an empty
//!   `down.sql` means no down script.

use super::{Blank, Entry, Found, Read, bytes, check_versions, entries, version, whole_file};
use crate::problem::Problem;
use std::path::Path;

/// Reads `dir` as diesel does.
pub fn read(dir: &Path, root: &Path) -> Read {
    let mut read = Read::default();
    let entries = match entries(dir, root, false) {
        Ok(entries) => entries,
        Err(problems) => {
            read.problems = problems;
            return read;
        }
    };
    let mut keys = Vec::new();
    for folder in entries.iter().filter(|e| e.is_dir) {
        let files = match super::entries(&folder.path, root, false) {
            Ok(files) => files,
            Err(mut p) => {
                read.problems.append(&mut p);
                continue;
            }
        };
        if files.is_empty() {
            continue;
        }
        let file = |name: &str| files.iter().find(|f| f.name == name && !f.is_dir);
        let Some(up) = file("up.sql") else {
            read.problems.push(Problem::new(
                &folder.display,
                "holds no `up.sql`, so diesel refuses the folder (\"unknown migration format\")",
                "add its `up.sql`, or move the folder out of the migrations folder",
            ));
            continue;
        };
        let (raw_version, name) = folder
            .name
            .split_once('_')
            .unwrap_or((folder.name.as_str(), folder.name.as_str()));
        let key = raw_version.replace('-', "");
        let version = match version(&key, &folder.display, "diesel") {
            Ok(v) => v,
            Err(p) => {
                read.problems.push(p);
                continue;
            }
        };
        let transactional = match file("metadata.toml") {
            None => true,
            Some(metadata) => match run_in_transaction(metadata) {
                Ok(t) => t,
                Err(p) => {
                    read.problems.push(p);
                    continue;
                }
            },
        };
        let up = match script(up, !transactional) {
            Ok(Some(up)) => up,
            Ok(None) => {
                read.problems.push(Problem::new(
                    &up.display,
                    "is empty, and diesel refuses to run an empty migration",
                    "write the migration's SQL in it, or a comment saying why it does nothing",
                ));
                continue;
            }
            Err(p) => {
                read.problems.push(p);
                continue;
            }
        };
        let down = match file("down.sql").map(|d| script(d, !transactional)) {
            None => None,
            Some(Ok(down)) => down,
            Some(Err(p)) => {
                read.problems.push(p);
                continue;
            }
        };
        keys.push(key);
        read.found.push(Found {
            version,
            name: name.to_owned(),
            up,
            down,
            tool_checksum: None,
        });
    }
    read.problems
        .extend(check_versions(&read.found, "diesel", Some(&keys)));
    read
}

/// The script in `entry`, or `None` for an empty file.
fn script(entry: &Entry, no_transaction: bool) -> Result<Option<super::Source>, Problem> {
    let raw = bytes(&entry.path, &entry.display)?;
    if raw.is_empty() {
        return Ok(None);
    }
    whole_file(entry, &raw, no_transaction, Blank::NoOp).map(Some)
}

/// `run_in_transaction` as diesel reads `metadata.toml`.
fn run_in_transaction(entry: &Entry) -> Result<bool, Problem> {
    let raw = bytes(&entry.path, &entry.display)?;
    let (text, _) = super::decode(&raw, &entry.display)?;
    let mut value = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = format!("{}:{}", entry.display, i + 1);
        let Some((key, v)) = line.split_once('=') else {
            return Err(Problem::new(
                at,
                format!(
                    "`{line}` is not a `key = value` line, and diesel would ignore the whole file"
                ),
                "write `run_in_transaction = false` or `run_in_transaction = true`",
            ));
        };
        let key = key.trim().trim_matches('"');
        if key != "run_in_transaction" {
            return Err(Problem::new(
                at,
                format!(
                    "`{key}` is not a key diesel reads: diesel reads only `run_in_transaction`"
                ),
                "remove the line",
            ));
        }
        value = Some(match v.trim() {
            "true" => true,
            "false" => false,
            other => {
                return Err(Problem::new(
                    at,
                    format!(
                        "`run_in_transaction` is `{other}`, and diesel reads only `true` or `false`"
                    ),
                    "write `run_in_transaction = false` or `run_in_transaction = true`",
                ));
            }
        });
    }
    // diesel's field default: a `metadata.toml` without the key means false.
    Ok(value.unwrap_or(false))
}
