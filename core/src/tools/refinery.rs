//! refinery's layout, as refinery's `embed_migrations!` and
//! `load_sql_migrations` read it: the files below the folder, at any depth,
//! named `V{version}__{name}.sql` (versioned) or `U{version}__{name}.sql`
//! (unversioned, which refinery may apply out of order), the name made of
//! word characters; `.rs` files so named are migrations in code. refinery
//! keeps no down scripts. A line `-- +refinery NO TRANSACTION` runs the
//! file outside a transaction (the marker of refinery's branch that adds
//! it; a release without it runs every file in one). refinery records
//! SipHash-1-3 over the name, the version and the file's text. It skips,
//! with a warning, files not so named; stowage reports a `.sql` one.

use super::{
    Blank, Code, Found, Read, bytes, check_versions, checksum, entries, version, whole_file,
};
use crate::problem::Problem;
use std::path::Path;

/// Reads `dir` as refinery does.
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
        let (stem, is_code) = if let Some(stem) = entry.name.strip_suffix(".sql") {
            (stem, false)
        } else if let Some(stem) = entry.name.strip_suffix(".rs") {
            (stem, true)
        } else {
            continue;
        };
        let Some((digits, name)) = parse(stem) else {
            if !is_code {
                read.problems.push(Problem::new(
                    &entry.display,
                    "is not named as refinery names a migration, so refinery skips it",
                    "name it `V{version}__{name}.sql`, the name made of letters, digits and `_`, or move it \
                     out of the folder",
                ));
            }
            continue;
        };
        if digits.contains('.') {
            read.problems.push(Problem::new(
                &entry.display,
                format!("the version `{digits}` has a `.`, which refinery cannot read as its integer version"),
                "give the migration an integer version",
            ));
            continue;
        }
        let version = match version(digits, &entry.display, "refinery") {
            Ok(v) => v,
            Err(p) => {
                read.problems.push(p);
                continue;
            }
        };
        if is_code {
            read.code.push(Code {
                version,
                display: entry.display.clone(),
            });
            continue;
        }
        let raw = match bytes(&entry.path, &entry.display) {
            Ok(b) => b,
            Err(p) => {
                read.problems.push(p);
                continue;
            }
        };
        let text = String::from_utf8_lossy(&raw).into_owned();
        let no_transaction = text.lines().any(super::refinery_no_transaction);
        match whole_file(entry, &raw, no_transaction, Blank::NoOp) {
            Ok(up) => read.found.push(Found {
                version,
                name: name.to_owned(),
                up,
                down: None,
                tool_checksum: Some(checksum::refinery(name, version, &text)),
            }),
            Err(p) => read.problems.push(p),
        }
    }
    read.found.sort_by_key(|f| f.version);
    read.problems
        .extend(check_versions(&read.found, "refinery", None));
    read
}

/// The version and name of a stem `V{version}__{name}` or `U...`.
fn parse(stem: &str) -> Option<(&str, &str)> {
    let rest = stem.strip_prefix(['V', 'U'])?;
    let (digits, name) = rest.split_once("__")?;
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let digits_ok = match digits.split_once('.') {
        Some((a, b)) => number(a) && number(b),
        None => number(digits),
    };
    let name_ok = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    (digits_ok && name_ok).then_some((digits, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_as_refinery_does() {
        assert_eq!(parse("V1__initial"), Some(("1", "initial")));
        assert_eq!(parse("U20__cars_table"), Some(("20", "cars_table")));
        assert_eq!(parse("V1.1__x"), Some(("1.1", "x")));
        assert_eq!(parse("V1_initial"), None);
        assert_eq!(parse("V1__add-cars"), None);
        assert_eq!(parse("R__x"), None);
    }

    #[test]
    fn finds_the_no_transaction_marker() {
        use crate::tools::refinery_no_transaction as marker;
        assert!(marker("-- +refinery NO TRANSACTION"));
        assert!(marker("---+refinery NO TRANSACTION"));
        assert!(!marker("-- +refinery no transaction"));
        assert!(!marker("--  +refinery NO TRANSACTION"));
    }
}
