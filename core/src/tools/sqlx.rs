//! sqlx's layout, as sqlx's `migrate!` and `sqlx migrate run` read it: the
//! files directly in the folder (not below it) named
//! `{version}_{description}.sql`, or `.up.sql` and `.down.sql` for a
//! reversible migration; the version is an `i64`. A file that begins with
//! `-- no-transaction` runs outside a transaction. sqlx records SHA-384 of
//! the up file's bytes. It skips files that are not `{x}_{y}.sql`; stowage
//! reports a `.sql` file it would skip, and sqlx runs an empty file as a
//! no-op.

use super::{Blank, Found, Read, bytes, check_versions, checksum, entries, version, whole_file};
use crate::problem::Problem;
use std::collections::BTreeMap;
use std::path::Path;

/// Reads `dir` as sqlx does.
pub fn read(dir: &Path, root: &Path) -> Read {
    let mut read = Read::default();
    let entries = match entries(dir, root, false) {
        Ok(entries) => entries,
        Err(problems) => {
            read.problems = problems;
            return read;
        }
    };
    // version → (name, up, down)
    let mut versions: BTreeMap<i64, Vec<File>> = BTreeMap::new();
    for entry in entries.iter().filter(|e| !e.is_dir) {
        let Some((digits, rest)) = entry.name.split_once('_') else {
            if entry.name.ends_with(".sql") {
                read.problems.push(stray(&entry.display));
            }
            continue;
        };
        if !rest.ends_with(".sql") {
            if crate::name::is_sql_file(&entry.name) {
                read.problems.push(stray(&entry.display));
            }
            continue;
        }
        let version = match version(digits, &entry.display, "sqlx") {
            Ok(v) => v,
            Err(p) => {
                read.problems.push(p);
                continue;
            }
        };
        let (name, direction) = if let Some(name) = rest.strip_suffix(".up.sql") {
            (name, Some(true))
        } else if let Some(name) = rest.strip_suffix(".down.sql") {
            (name, Some(false))
        } else {
            (rest.trim_end_matches(".sql"), None)
        };
        let raw = match bytes(&entry.path, &entry.display) {
            Ok(b) => b,
            Err(p) => {
                read.problems.push(p);
                continue;
            }
        };
        let no_transaction = raw.starts_with(b"-- no-transaction");
        match whole_file(entry, &raw, no_transaction, Blank::NoOp) {
            Ok(source) => versions.entry(version).or_default().push((
                name.to_owned(),
                direction.unwrap_or(true),
                direction,
                source,
                checksum::sqlx(&raw),
            )),
            Err(p) => read.problems.push(p),
        }
    }
    for (version, files) in versions {
        let (ups, downs): (Vec<_>, Vec<_>) = files.into_iter().partition(|f| f.1);
        if ups.len() > 1 || downs.len() > 1 {
            let names: Vec<String> = ups
                .iter()
                .chain(&downs)
                .map(|f| format!("`{}`", f.3.display))
                .collect();
            read.problems.push(Problem::new(
                names.join(" and "),
                format!("these files share version {version}"),
                "sqlx refuses them too: keep one `{version}_{description}.sql`, or one `.up.sql` with its \
                 `.down.sql`",
            ));
            continue;
        }
        let Some((name, _, up_kind, up, checksum)) = ups.into_iter().next() else {
            for down in downs {
                read.problems.push(Problem::new(
                    &down.3.display,
                    format!(
                        "is a down migration, but there is no `{version}_{}.up.sql`",
                        down.0
                    ),
                    "add the up migration beside it, or delete the down file",
                ));
            }
            continue;
        };
        let down = downs.into_iter().next();
        if let Some(down) = &down
            && up_kind.is_none()
        {
            {
                read.problems.push(Problem::new(
                    &down.3.display,
                    format!(
                        "is a reversible down migration, but version {version} is the simple migration `{}`",
                        up.display
                    ),
                    "rename the up file to `.up.sql`, as sqlx needs too",
                ));
                continue;
            }
        }
        read.found.push(Found {
            version,
            name,
            up,
            down: down.map(|d| d.3),
            tool_checksum: Some(checksum),
        });
    }
    read.problems
        .extend(check_versions(&read.found, "sqlx", None));
    read
}

/// A file of a version: its name, whether it is an up script, `.up` or
/// `.down` (`None` for a simple migration), its script and checksum.
type File = (String, bool, Option<bool>, super::Source, String);

fn stray(display: &str) -> Problem {
    Problem::new(
        display,
        "is not named as sqlx names a migration, so sqlx skips it",
        "name it `{version}_{description}.sql` (or `.up.sql` and `.down.sql`), or move it out of the folder",
    )
}
