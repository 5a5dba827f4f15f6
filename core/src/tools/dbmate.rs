//! dbmate's layout, as dbmate reads it: the files directly in the folder
//! whose name is digits, then anything, then `.sql`; the digits are the
//! version, which dbmate keeps as text and orders by file name (stowage
//! refuses a folder where that order differs from the versions' order as
//! numbers). A file holds `-- migrate:up` and then `-- migrate:down`; each
//! section runs from its line to the next. `transaction:false` on a
//! section's line runs that section outside a transaction. What dbmate
//! refuses (no up or no down line, the down before the up, statements
//! before the up line) fails the build, and so does what stowage cannot
//! keep: several up sections in one file (one version is one script here),
//! and an option dbmate does not read. An empty section is a no-op, as in
//! dbmate; an empty down section means no down script.

use super::{Blank, Found, Read, Source, bytes, check_versions, decode, entries, section, version};
use crate::problem::Problem;
use std::path::Path;

/// Reads `dir` as dbmate does.
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
    for entry in entries.iter().filter(|e| !e.is_dir) {
        if !entry.name.ends_with(".sql") {
            continue;
        }
        let digits_end = entry
            .name
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(entry.name.len());
        if digits_end == 0 {
            read.problems.push(Problem::new(
                &entry.display,
                "does not start with a version of digits, so dbmate skips it",
                "name it `{version}_{name}.sql`, or move it out of the folder",
            ));
            continue;
        }
        let digits = &entry.name[..digits_end];
        let version = match version(digits, &entry.display, "dbmate") {
            Ok(v) => v,
            Err(p) => {
                read.problems.push(p);
                continue;
            }
        };
        let name = entry.name[digits_end..]
            .trim_start_matches('_')
            .trim_end_matches(".sql")
            .to_owned();
        let parsed = bytes(&entry.path, &entry.display)
            .and_then(|raw| decode(&raw, &entry.display).map(|(text, _)| text))
            .map_err(|p| vec![p])
            .and_then(|text| parse(&text, &entry.display));
        match parsed {
            Ok(parsed) => {
                let source = |(text, no_transaction): (String, bool)| Source {
                    path: entry.path.clone(),
                    display: entry.display.clone(),
                    text,
                    verbatim: false,
                    no_transaction,
                    blank: Blank::NoOp,
                };
                keys.push(entry.name.clone());
                read.found.push(Found {
                    version,
                    name,
                    up: source(parsed.up),
                    down: parsed.down.map(source),
                    tool_checksum: None,
                });
            }
            Err(mut p) => read.problems.append(&mut p),
        }
    }
    read.problems
        .extend(check_versions(&read.found, "dbmate", Some(&keys)));
    read
}

/// A dbmate file's sections, each with whether it runs outside a
/// transaction.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The up section.
    pub up: (String, bool),
    /// The down section, unless it is empty.
    pub down: Option<(String, bool)>,
}

/// The start of each line that is `--`, white space, then `migrate:{what}`
/// followed by white space or the end of the line, with the line's number
/// and the rest of it.
fn directives<'a>(text: &'a str, what: &str) -> Vec<(usize, usize, &'a str)> {
    let mut found = Vec::new();
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let line = line.trim_end_matches('\n');
        let Some(rest) = line.strip_prefix("--") else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("migrate:") else {
            continue;
        };
        let Some(rest) = rest.strip_prefix(what) else {
            continue;
        };
        if rest.is_empty() || rest.starts_with(char::is_whitespace) {
            found.push((start, i + 1, rest.trim()));
        }
    }
    found
}

/// Cuts a dbmate file into its sections, as dbmate reads it.
pub fn parse(text: &str, display: &str) -> Result<Parsed, Vec<Problem>> {
    let ups = directives(text, "up");
    let downs = directives(text, "down");
    let problem = |line: Option<usize>, message: &str, help: &str| {
        let subject = line.map_or_else(|| display.to_owned(), |l| format!("{display}:{l}"));
        vec![Problem::new(subject, message, help)]
    };
    let Some(&(up_start, up_line, up_options)) = ups.first() else {
        return Err(problem(
            None,
            "has no `-- migrate:up` line, and dbmate refuses a migration without one",
            "start the migration with `-- migrate:up`, and its down part with `-- migrate:down`",
        ));
    };
    if ups.len() > 1 {
        return Err(problem(
            Some(ups[1].1),
            "a second `-- migrate:up` section: dbmate runs each one apart, and stowage keeps one up script a \
             version",
            "move the second section to a migration of its own",
        ));
    }
    let Some(&(down_start, down_line, down_options)) = downs.first() else {
        return Err(problem(
            None,
            "has no `-- migrate:down` line, and dbmate refuses a migration without one",
            "add a `-- migrate:down` line after the up section (an empty down section means no down script)",
        ));
    };
    if downs.len() > 1 {
        return Err(problem(
            Some(downs[1].1),
            "a second `-- migrate:down`, which dbmate refuses",
            "keep one down section",
        ));
    }
    if down_start < up_start {
        return Err(problem(
            Some(down_line),
            "`-- migrate:down` comes before `-- migrate:up`, which dbmate refuses",
            "put the up section first",
        ));
    }
    let before = &text[..up_start];
    if before
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
    {
        return Err(problem(
            None,
            "has statements before `-- migrate:up`, which dbmate refuses",
            "move them into the up section",
        ));
    }
    let mut problems = Vec::new();
    let up_tx = options(up_options, display, up_line, &mut problems);
    let down_tx = options(down_options, display, down_line, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let after_line = |start: usize| {
        text[start..]
            .find('\n')
            .map_or(text.len(), |n| start + n + 1)
    };
    let up = section(text, after_line(up_start), down_start);
    let down = section(text, after_line(down_start), text.len());
    Ok(Parsed {
        up: (up, !up_tx),
        down: (!down.trim().is_empty()).then_some((down, !down_tx)),
    })
}

/// Whether a section runs in a transaction, by its options.
fn options(options: &str, display: &str, line: usize, problems: &mut Vec<Problem>) -> bool {
    let mut transaction = true;
    for pair in options.split_whitespace() {
        match pair.split_once(':') {
            Some(("transaction", "false")) => transaction = false,
            Some(("transaction", "true")) => transaction = true,
            _ => problems.push(Problem::new(
                format!("{display}:{line}"),
                format!(
                    "`{pair}` is not an option dbmate reads: dbmate reads only `transaction:false`"
                ),
                "remove it",
            )),
        }
    }
    transaction
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_the_sections_with_their_options() {
        let parsed = parse(
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (x);\n\n-- migrate:down\nDROP INDEX i;\n",
            "m.sql",
        )
        .unwrap();
        assert_eq!(
            parsed.up,
            (
                "\nCREATE INDEX CONCURRENTLY i ON t (x);\n\n".to_owned(),
                true
            )
        );
        assert_eq!(
            parsed.down,
            Some(("\n\n\n\nDROP INDEX i;\n".to_owned(), false))
        );
        let parsed = parse(
            "-- migrate:up\n-- nothing to do\n-- migrate:down\n",
            "m.sql",
        )
        .unwrap();
        assert_eq!(parsed.down, None);
    }

    #[test]
    fn refuses_what_dbmate_refuses_and_what_stowage_cannot_keep() {
        let subject = |text: &str| parse(text, "m.sql").unwrap_err()[0].subject.clone();
        assert_eq!(subject("SELECT 1;\n"), "m.sql");
        assert_eq!(subject("-- migrate:up\nSELECT 1;\n"), "m.sql");
        assert_eq!(subject("-- migrate:down\n-- migrate:up\n"), "m.sql:1");
        assert_eq!(
            subject("SELECT 1;\n-- migrate:up\n-- migrate:down\n"),
            "m.sql"
        );
        assert_eq!(
            subject("-- migrate:up\n-- migrate:down\n-- migrate:up\n-- migrate:down\n"),
            "m.sql:3"
        );
        assert_eq!(subject("-- migrate:up tx:no\n-- migrate:down\n"), "m.sql:1");
    }
}
