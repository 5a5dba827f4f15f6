//! Keeping the schema file true: the schema a check's database holds once
//! every migration is applied, written as the file holds it and compared
//! with the file.

use super::TestError;
use crate::data::registry::Migrations;
use crate::data::schema::render;
use postgres::Client;
use std::path::{Path, PathBuf};
use stowage_core::schema_file::UPDATE_VAR;

/// What became of the schema file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It holds the schema the migrations build.
    Matches,
    /// It was written: it was missing, or [`UPDATE_VAR`] is set.
    Written(PathBuf),
    /// It is wrong: why, and what to do.
    Wrong(String),
}

/// Compares the schema of the database under `client`, where every
/// migration of `migrations` was applied, with the schema file, and writes
/// the file where it may: when [`UPDATE_VAR`] is set, or when it is
/// missing and `CI` is not set.
pub(crate) fn keep(migrations: &Migrations, client: &mut Client) -> Result<Outcome, TestError> {
    let live = super::schema::read(client, migrations.schema_grants())?;
    let text = render::file(&live.model, migrations.digest(), migrations.schema_grants());
    let path = location(migrations.schema_path());
    let shown = migrations.schema_path();
    let on_disk = match std::fs::read(&path) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).replace("\r\n", "\n")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(TestError::with(
                format!("cannot read {}", path.display()),
                e,
            ));
        }
    };
    if on_disk.as_deref() == Some(text.as_str()) {
        return Ok(Outcome::Matches);
    }
    let regenerate = format!("run `{UPDATE_VAR}=1 cargo test` to write it");
    if is_set(UPDATE_VAR) || (on_disk.is_none() && !is_set("CI")) {
        write(&path, &text)?;
        return Ok(Outcome::Written(path));
    }
    Ok(Outcome::Wrong(match on_disk {
        None => format!(
            "the schema file {shown} is missing (looked for {}): {regenerate}, review it and \
             commit it with the migrations",
            path.display()
        ),
        Some(old) => format!(
            "the schema file {shown} is not the schema the migrations build: {regenerate} again, \
             and review the change with the migration that makes it\n{}",
            diff(&old, &text, shown)
        ),
    }))
}

/// Writes the schema file of `migrations` from the database under
/// `client`; returns where.
pub(crate) fn write_from(
    migrations: &Migrations,
    client: &mut Client,
) -> Result<PathBuf, TestError> {
    let live = super::schema::read(client, migrations.schema_grants())?;
    let text = render::file(&live.model, migrations.digest(), migrations.schema_grants());
    let path = location(migrations.schema_path());
    write(&path, &text)?;
    Ok(path)
}

/// Where the file is: its path relative to the crate root, from the crate
/// whose tests run (cargo says which in `CARGO_MANIFEST_DIR`), or from the
/// current folder.
fn location(relative: &str) -> PathBuf {
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    root.join(relative)
}

/// Whether the environment variable is set to something other than empty,
/// `0` or `false`.
fn is_set(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

fn write(path: &Path, text: &str) -> Result<(), TestError> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)
            .map_err(|e| TestError::with(format!("cannot create {}", folder.display()), e))?;
    }
    std::fs::write(path, text)
        .map_err(|e| TestError::with(format!("cannot write {}", path.display()), e))
}

/// The lines that differ, with three lines around each change, as a
/// unified diff from the file to what the migrations build.
fn diff(old: &str, new: &str, shown: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(shown, "the schema the migrations build")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::diff;

    #[test]
    fn a_difference_is_shown_as_a_unified_diff() {
        let shown = diff(
            "CREATE TABLE a (\n    id integer\n);\n",
            "CREATE TABLE a (\n    id bigint\n);\n",
            "migrations/schema.sql",
        );
        assert_eq!(
            shown,
            "--- migrations/schema.sql\n+++ the schema the migrations build\n@@ -1,3 +1,3 @@\n \
             CREATE TABLE a (\n-    id integer\n+    id bigint\n );\n"
        );
    }
}
