//! stowage's own layout, when the folder it is given is another tool's:
//! the first error then says so and names the layout to read it with,
//! instead of one error per file.

use super::{Layout, entries};
use crate::problem::Problem;
use std::path::Path;

/// What shows that a folder is another tool's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The layouts that read such a folder.
    pub layouts: Vec<Layout>,
    /// What was seen, e.g. "folders holding `up.sql`".
    pub seen: String,
    /// How many files or folders show it.
    pub count: usize,
}

/// The layout `dir` looks like, if it looks like another tool's.
pub fn looks_like(dir: &Path, root: &Path) -> Option<Evidence> {
    let entries = entries(dir, root, false).ok()?;
    let count = |test: &dyn Fn(&super::Entry) -> bool| entries.iter().filter(|e| test(e)).count();
    let evidence = |layouts: Vec<Layout>, seen: &str, count: usize| {
        (count > 0).then(|| Evidence {
            layouts,
            seen: seen.to_owned(),
            count,
        })
    };
    let diesel = count(&|e| e.is_dir && e.path.join("up.sql").is_file());
    if let Some(e) = evidence(vec![Layout::Diesel], "folders holding an `up.sql`", diesel) {
        return Some(e);
    }
    let versioned = |e: &super::Entry, prefix: char| {
        e.name
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once("__"))
            .is_some_and(|(v, _)| v.starts_with(|c: char| c.is_ascii_digit()))
    };
    let flyway_only = count(&|e| {
        e.name.ends_with(".sql.conf")
            || (versioned(e, 'V')
                && e.name[1..]
                    .split_once("__")
                    .is_some_and(|(v, _)| v.contains(['.', '_'])))
    });
    let v_files = count(&|e| !e.is_dir && (versioned(e, 'V') || versioned(e, 'U')));
    if flyway_only > 0 {
        return evidence(
            vec![Layout::Flyway],
            "files named `V{version}__{description}.sql` with Flyway's own kinds of files",
            v_files + flyway_only,
        );
    }
    if let Some(e) = evidence(
        vec![Layout::Refinery, Layout::Flyway],
        "files named `V{version}__{name}.sql`",
        v_files,
    ) {
        return Some(e);
    }
    let contains = |needle: &dyn Fn(&str) -> bool| {
        count(&|e| {
            !e.is_dir
                && crate::name::is_sql_file(&e.name)
                && std::fs::read(&e.path)
                    .is_ok_and(|b| String::from_utf8_lossy(&b).lines().any(needle))
        })
    };
    let goose = contains(&|l| l.starts_with("--") && l.contains("+goose"));
    if let Some(e) = evidence(
        vec![Layout::Goose],
        "files with `-- +goose Up` sections",
        goose,
    ) {
        return Some(e);
    }
    let dbmate = contains(&|l| {
        l.strip_prefix("--")
            .is_some_and(|r| r.trim_start().starts_with("migrate:up"))
    });
    if let Some(e) = evidence(
        vec![Layout::Dbmate],
        "files with `-- migrate:up` sections",
        dbmate,
    ) {
        return Some(e);
    }
    let up_files = count(&|e| !e.is_dir && e.name.ends_with(".up.sql"));
    evidence(
        vec![Layout::Sqlx, Layout::GolangMigrate],
        "files named `{version}_{name}.up.sql`",
        up_files,
    )
}

/// The one problem to report for a folder that looks like another tool's.
pub fn problem(dir: &Path, root: &Path, evidence: &Evidence, refused: usize) -> Problem {
    let folder = crate::scan::display(dir, root);
    let tools: Vec<String> = evidence
        .layouts
        .iter()
        .map(|l| format!("{}'s", l.name()))
        .collect();
    let calls: Vec<String> = evidence
        .layouts
        .iter()
        .map(|l| {
            format!(
                "`embed_migrations!(\"{folder}\", layout = \"{}\")`",
                l.name()
            )
        })
        .collect();
    Problem::new(
        &folder,
        format!(
            "looks like {} folder ({}: {}), and it is read in stowage's own layout, which refuses {refused} of \
             its files",
            tools.join(" or "),
            evidence.seen,
            evidence.count
        ),
        format!(
            "read it as its tool does: {}; or rename the files to `{{version}}_{{name}}.sql`",
            calls.join(" or ")
        ),
    )
}
