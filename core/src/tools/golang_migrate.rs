//! golang-migrate's layout, as its file source reads it: the files directly
//! in the folder named `{version}_{title}.up.sql` and
//! `{version}_{title}.down.sql`; the version is an unsigned integer.
//!
//! golang-migrate sends each file to the server as one query and wraps it
//! in nothing, so real files often hold their own `BEGIN; ... COMMIT;`. A
//! `BEGIN` that is the file's first statement with a `COMMIT` (or `END`)
//! that is its last says "this file is one transaction": stowage runs the
//! statements between them in the migration's own transaction (the two are
//! blanked out, places kept). A file without them runs in a transaction
//! too: one query of several statements is one implicit transaction on the
//! server already. Any other transaction control fails the build, as in
//! stowage's own layout. A file with nothing to run is a no-op, as
//! golang-migrate runs it; an empty down file means no down script.

use super::{Blank, Found, Read, Source, bytes, check_versions, decode, entries, version};
use crate::lexer::{self, Token};
use crate::problem::Problem;
use crate::split::split_tokens;
use std::collections::BTreeMap;
use std::path::Path;

/// Reads `dir` as golang-migrate does.
pub fn read(dir: &Path, root: &Path) -> Read {
    let mut read = Read::default();
    let entries = match entries(dir, root, false) {
        Ok(entries) => entries,
        Err(problems) => {
            read.problems = problems;
            return read;
        }
    };
    let mut versions: BTreeMap<i64, (Titled, Titled)> = BTreeMap::new();
    for entry in entries.iter().filter(|e| !e.is_dir) {
        let Some((digits, rest)) = entry.name.split_once('_') else {
            if crate::name::is_sql_file(&entry.name) {
                read.problems.push(stray(&entry.display));
            }
            continue;
        };
        let parsed = rest
            .rsplit_once('.')
            .and_then(|(stem, ext)| stem.rsplit_once('.').map(|(title, dir)| (title, dir, ext)))
            .filter(|(_, dir, _)| *dir == "up" || *dir == "down");
        let Some((title, direction, ext)) = parsed else {
            if crate::name::is_sql_file(&entry.name) {
                read.problems.push(stray(&entry.display));
            }
            continue;
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.is_empty() {
            if crate::name::is_sql_file(&entry.name) {
                read.problems.push(stray(&entry.display));
            }
            continue;
        }
        if ext != "sql" {
            read.problems.push(Problem::new(
                &entry.display,
                format!("is a golang-migrate migration with the extension `.{ext}`, and stowage runs SQL"),
                "name it `.up.sql` or `.down.sql`, or move it out of the folder",
            ));
            continue;
        }
        let version = match version(digits, &entry.display, "golang-migrate") {
            Ok(v) => v,
            Err(p) => {
                read.problems.push(p);
                continue;
            }
        };
        let source = bytes(&entry.path, &entry.display)
            .and_then(|raw| decode(&raw, &entry.display))
            .map(|(text, verbatim)| {
                let (text, changed) = unwrap_transaction(&text);
                Source {
                    path: entry.path.clone(),
                    display: entry.display.clone(),
                    verbatim: verbatim && !changed,
                    text,
                    no_transaction: false,
                    blank: Blank::NoOp,
                }
            });
        match source {
            Ok(source) => {
                let files = versions.entry(version).or_default();
                let side = if direction == "up" {
                    &mut files.0
                } else {
                    &mut files.1
                };
                side.push((title.to_owned(), source));
            }
            Err(p) => read.problems.push(p),
        }
    }
    for (version, (ups, downs)) in versions {
        if ups.len() > 1 || downs.len() > 1 {
            let names: Vec<String> = ups
                .iter()
                .chain(&downs)
                .map(|(_, s)| format!("`{}`", s.display))
                .collect();
            read.problems.push(Problem::new(
                names.join(" and "),
                format!("these files share version {version}, which golang-migrate refuses too"),
                "keep one `.up.sql` and one `.down.sql` a version",
            ));
            continue;
        }
        let Some((title, up)) = ups.into_iter().next() else {
            for (_, down) in downs {
                read.problems.push(Problem::new(
                    &down.display,
                    format!("is a down migration, but version {version} has no `.up.sql`"),
                    "add the up file beside it (golang-migrate would run nothing for it), or delete the down file",
                ));
            }
            continue;
        };
        read.found.push(Found {
            version,
            name: title,
            up,
            down: downs.into_iter().next().map(|(_, d)| d),
            tool_checksum: None,
        });
    }
    read.problems
        .extend(check_versions(&read.found, "golang-migrate", None));
    read
}

/// The files of one direction of a version, each with its title.
type Titled = Vec<(String, Source)>;

fn stray(display: &str) -> Problem {
    Problem::new(
        display,
        "is not named as golang-migrate names a migration, so golang-migrate skips it",
        "name it `{version}_{title}.up.sql` or `.down.sql`, or move it out of the folder",
    )
}

/// `text` with a `BEGIN` that is its first statement and a `COMMIT` or `END`
/// that is its last blanked out (each with its `;`), and whether it did so.
/// Anything that does not lex is left as it is, for the checks to report.
pub fn unwrap_transaction(text: &str) -> (String, bool) {
    let Ok(tokens) = lexer::tokens(text).collect::<Result<Vec<Token<'_>>, _>>() else {
        return (text.to_owned(), false);
    };
    let statements = split_tokens(text, &tokens);
    let (Some(first), Some(last)) = (statements.first(), statements.last()) else {
        return (text.to_owned(), false);
    };
    if statements.len() < 2 {
        return (text.to_owned(), false);
    }
    let words = |s: &crate::split::Statement<'_>| -> Vec<String> {
        let end = s.start + s.text.len();
        tokens
            .iter()
            .filter(|t| t.start >= s.start && t.start < end && !t.kind.is_comment())
            .map(|t| t.text.to_ascii_uppercase())
            .collect()
    };
    let opens = matches!(
        words(first)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["BEGIN"] | ["BEGIN", "WORK" | "TRANSACTION"] | ["START", "TRANSACTION"]
    );
    let closes = matches!(
        words(last)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["COMMIT" | "END"] | ["COMMIT" | "END", "WORK" | "TRANSACTION"]
    );
    if !(opens && closes) {
        return (text.to_owned(), false);
    }
    let mut out = text.to_owned();
    for s in [first, last] {
        let mut end = s.start + s.text.len();
        // Its `;`, if one follows.
        if let Some(semi) = tokens
            .iter()
            .find(|t| t.start >= end && !t.kind.is_comment())
            .filter(|t| t.text == ";")
        {
            end = semi.end();
        }
        out.replace_range(s.start..end, &" ".repeat(end - s.start));
    }
    (out, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_a_transaction_around_the_whole_file() {
        let (text, changed) = unwrap_transaction("BEGIN;\nCREATE TABLE t (x int);\nCOMMIT;\n");
        assert!(changed);
        assert_eq!(text, "      \nCREATE TABLE t (x int);\n       \n");
        let (_, changed) = unwrap_transaction("begin transaction;\nselect 1;\nend;");
        assert!(changed);
    }

    #[test]
    fn leaves_other_transaction_control_for_the_checks() {
        for text in [
            "BEGIN;\nSELECT 1;\n",
            "SELECT 1;\nCOMMIT;",
            "BEGIN ISOLATION LEVEL SERIALIZABLE;\nSELECT 1;\nCOMMIT;",
            "BEGIN;\nSELECT 1;\nCOMMIT;\nSELECT 2;",
        ] {
            assert_eq!(unwrap_transaction(text), (text.to_owned(), false), "{text}");
        }
    }
}
