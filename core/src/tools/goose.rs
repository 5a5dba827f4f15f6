//! goose's layout, as goose reads it: the files directly in the folder
//! named `{version}_{name}.sql` or `.go` (a `.go` one is a migration in
//! code; `_test.go` files and files without a numeric version are not
//! migrations); the version is an `i64` of at least 1.
//!
//! A file is read line by line, as goose's parser does. An annotation is a
//! line that starts with `--` and holds `+goose`: `Up`, `Down`,
//! `StatementBegin`, `StatementEnd`, `NO TRANSACTION`, `ENVSUB ON` and
//! `ENVSUB OFF`, in any case. The lines after `-- +goose Up` up to
//! `-- +goose Down` are the up script; the lines after `-- +goose Down` the
//! down script. `NO TRANSACTION` runs both outside a transaction.
//! `StatementBegin`/`StatementEnd` only tell goose where a statement with
//! semicolons inside ends; stowage cuts statements as PostgreSQL does, so
//! they stay as comments. `ENVSUB ON` substitutes environment variables,
//! which stowage does not: it fails the build. Whatever goose refuses
//! (statements before `Up`, a second `Up`, an unknown annotation, a
//! `StatementBegin` never ended) fails the build. An empty section runs
//! nothing, as in goose; an empty down section means no down script.

use super::{
    Blank, Code, Found, Read, Source, bytes, check_versions, decode, entries, section, version,
};
use crate::problem::Problem;
use std::path::Path;

/// Reads `dir` as goose does.
pub fn read(dir: &Path, root: &Path) -> Read {
    let mut read = Read::default();
    let entries = match entries(dir, root, false) {
        Ok(entries) => entries,
        Err(problems) => {
            read.problems = problems;
            return read;
        }
    };
    for entry in entries.iter().filter(|e| !e.is_dir) {
        let is_code = entry.name.ends_with(".go");
        if !is_code && !entry.name.ends_with(".sql") || entry.name.ends_with("_test.go") {
            continue;
        }
        let digits = entry.name.split_once('_').map(|(d, _)| d);
        let numeric = digits.filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        let Some(digits) = numeric else {
            if !is_code {
                read.problems.push(Problem::new(
                    &entry.display,
                    "has no numeric version before a `_`, so goose skips it",
                    "name it `{version}_{name}.sql`, or move it out of the folder",
                ));
            }
            continue;
        };
        let version = match version(digits, &entry.display, "goose") {
            Ok(0) => {
                read.problems.push(Problem::new(
                    &entry.display,
                    "has version 0, and goose's versions start at 1 (it keeps 0 for its own first row)",
                    "give it a version of 1 or more",
                ));
                continue;
            }
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
        let name = entry.name[digits.len() + 1..]
            .trim_end_matches(".sql")
            .to_owned();
        let parsed = bytes(&entry.path, &entry.display)
            .and_then(|raw| decode(&raw, &entry.display).map(|(text, _)| text))
            .map_err(|p| vec![p])
            .and_then(|text| parse(&text, &entry.display));
        match parsed {
            Ok(parsed) => {
                let source = |text: String| Source {
                    path: entry.path.clone(),
                    display: entry.display.clone(),
                    text,
                    verbatim: false,
                    no_transaction: parsed.no_transaction,
                    blank: Blank::NoOp,
                };
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
        .extend(check_versions(&read.found, "goose", None));
    read
}

/// A goose file's sections.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The up section.
    pub up: String,
    /// The down section, if the file has one.
    pub down: Option<String>,
    /// `-- +goose NO TRANSACTION`.
    pub no_transaction: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Up,
    Down,
}

/// Cuts a goose file into its sections, as goose's parser reads it.
pub fn parse(text: &str, display: &str) -> Result<Parsed, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut state = State::Start;
    let mut in_statement = None;
    let mut no_transaction = false;
    // Where each section starts and ends, in bytes.
    let mut up = None;
    let mut down = None;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let line = line.trim_end_matches('\n');
        let at = |message: String, help: &str| {
            Problem::new(format!("{display}:{}", i + 1), message, help)
        };
        let trimmed = line.trim();
        if trimmed.starts_with("--") && line.contains("+goose") {
            if line.starts_with([' ', '\t']) {
                problems.push(at(
                    format!(
                        "`{trimmed}` starts with white space, and goose refuses the annotation"
                    ),
                    "start the line with `--`",
                ));
                continue;
            }
            let command = line.replace("--", "").replacen("+goose", "", 1);
            if command.contains("+goose") {
                problems.push(at(
                    format!("`{line}` holds `+goose` twice, and goose refuses it"),
                    "write one annotation a line",
                ));
                continue;
            }
            let command = command.trim().to_ascii_uppercase();
            match command.as_str() {
                "UP" if state == State::Start => {
                    state = State::Up;
                    up = Some((offset, text.len()));
                }
                "UP" => problems.push(at(
                    "a second `-- +goose Up`, which goose refuses".to_owned(),
                    "keep one `-- +goose Up` a file",
                )),
                "DOWN" if state == State::Up && in_statement.is_none() => {
                    state = State::Down;
                    if let Some(up) = &mut up {
                        up.1 = start;
                    }
                    down = Some((offset, text.len()));
                }
                "DOWN" => problems.push(at(
                    "`-- +goose Down` must come after `-- +goose Up` and outside a statement block, as goose \
                     requires"
                        .to_owned(),
                    "put the up section first, under `-- +goose Up`, and end any `StatementBegin` first",
                )),
                "STATEMENTBEGIN" if state != State::Start && in_statement.is_none() => {
                    in_statement = Some(i + 1);
                }
                "STATEMENTBEGIN" => problems.push(at(
                    "`-- +goose StatementBegin` must come inside a section and outside another block, as goose \
                     requires"
                        .to_owned(),
                    "end the block before, or put it after `-- +goose Up`",
                )),
                "STATEMENTEND" if in_statement.is_some() => in_statement = None,
                "STATEMENTEND" => problems.push(at(
                    "`-- +goose StatementEnd` without a `-- +goose StatementBegin` before it, which goose \
                     refuses"
                        .to_owned(),
                    "add the `StatementBegin`, or remove the line",
                )),
                "NO TRANSACTION" => no_transaction = true,
                "ENVSUB ON" => problems.push(at(
                    "`-- +goose ENVSUB ON` has goose put environment variables into the SQL, and stowage \
                     substitutes nothing: it would run `${VAR}` as it is"
                        .to_owned(),
                    "write the values into the SQL itself, and remove the annotation",
                )),
                "ENVSUB OFF" => {}
                "" => problems.push(at(
                    "an empty goose annotation, which goose refuses".to_owned(),
                    "write `-- +goose Up`, `Down`, `StatementBegin`, `StatementEnd` or `NO TRANSACTION`",
                )),
                other => problems.push(at(
                    format!("`{other}` is not a goose annotation, and goose refuses it"),
                    "write `-- +goose Up`, `Down`, `StatementBegin`, `StatementEnd` or `NO TRANSACTION`",
                )),
            }
            continue;
        }
        if state == State::Start && !trimmed.is_empty() && !trimmed.starts_with("--") {
            problems.push(at(
                "a statement before `-- +goose Up`, which goose refuses".to_owned(),
                "put `-- +goose Up` above the first statement",
            ));
            // Once is enough.
            state = State::Up;
            up = Some((offset, text.len()));
        }
    }
    if up.is_none() && problems.is_empty() {
        problems.push(Problem::new(
            display,
            "has no `-- +goose Up` annotation, and goose refuses a file without one",
            "start the migration with the line `-- +goose Up`, and its down part with `-- +goose Down`",
        ));
    }
    if let Some(line) = in_statement {
        problems.push(Problem::new(
            format!("{display}:{line}"),
            "`-- +goose StatementBegin` is never ended, and goose refuses the file",
            "add `-- +goose StatementEnd` after the statement",
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (up_start, up_end) = up.unwrap_or_default();
    let down = down
        .map(|(start, end)| section(text, start, end))
        .filter(|d| !d.trim().is_empty());
    Ok(Parsed {
        up: section(text, up_start, up_end),
        down,
        no_transaction,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_the_sections_keeping_places() {
        let parsed = parse(
            "-- a comment\n-- +goose Up\nCREATE TABLE t (x int);\n-- +goose Down\nDROP TABLE t;\n",
            "m.sql",
        )
        .unwrap();
        assert_eq!(parsed.up, "\n\nCREATE TABLE t (x int);\n");
        assert_eq!(parsed.down.as_deref(), Some("\n\n\n\nDROP TABLE t;\n"));
        assert!(!parsed.no_transaction);
    }

    #[test]
    fn reads_annotations_in_any_case() {
        let parsed = parse(
            "-- +goose up\n-- +goose no transaction\n-- +goose StatementBegin\nSELECT 1;\n-- +goose statementend\n",
            "m.sql",
        )
        .unwrap();
        assert!(parsed.no_transaction);
        assert_eq!(parsed.down, None);
    }

    #[test]
    fn refuses_what_goose_refuses() {
        let subjects = |text: &str| -> Vec<String> {
            parse(text, "m.sql")
                .unwrap_err()
                .into_iter()
                .map(|p| p.subject)
                .collect()
        };
        assert_eq!(subjects("SELECT 1;\n"), ["m.sql:1"]);
        assert_eq!(subjects(""), ["m.sql"]);
        assert_eq!(subjects("-- +goose Up\n-- +goose Up\n"), ["m.sql:2"]);
        assert_eq!(subjects("-- +goose Up\n-- +goose ENVSUB ON\n"), ["m.sql:2"]);
        assert_eq!(subjects("-- +goose Up\n-- +goose Sideways\n"), ["m.sql:2"]);
        assert_eq!(
            subjects("-- +goose Up\n-- +goose StatementBegin\n"),
            ["m.sql:2"]
        );
        assert_eq!(subjects(" -- +goose Up\n"), ["m.sql:1"]);
    }
}
