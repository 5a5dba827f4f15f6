//! The schema file: the schema the migrations build, as SQL, kept beside
//! them (by default `schema.sql` in the migrations folder) and written by the
//! runtime's test helper.
//!
//! Its header records the digest of the migrations it was made from (their
//! versions and checksums, [`history_digest`](crate::checksum::history_digest))
//! on a line of its own:
//!
//! ```text
//! -- stowage:digest 5b9e0c...
//! ```
//!
//! The build reads that line and fails when the migrations have changed
//! since the file was written, unless [`UPDATE_VAR`] is set: then the file
//! is about to be written again, and the check steps aside. No file, no
//! check.

use crate::problem::Problem;
use crate::scan;
use crate::text;
use std::path::{Path, PathBuf};

/// The schema file's name in the migrations folder, unless another path is
/// given.
pub const DEFAULT_NAME: &str = "schema.sql";

/// The environment variable that makes the test helper write the schema file
/// again, and the build let a stale one through meanwhile.
pub const UPDATE_VAR: &str = "STOWAGE_UPDATE_SCHEMA";

/// What starts the header line that records the migrations' digest.
pub const DIGEST_MARK: &str = "-- stowage:digest ";

/// The schema file as the build found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    /// Its absolute path.
    pub path: PathBuf,
    /// Its path as shown to the user: relative to the crate root, `/`-separated.
    pub display: String,
    /// Its text, if the file is there.
    pub text: Option<SchemaText>,
}

/// The text of a schema file that is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaText {
    /// The text, with any BOM removed and CRLF turned into LF.
    pub text: String,
    /// Whether `text` is exactly the file's bytes.
    pub verbatim: bool,
}

/// The header line that records `digest`.
pub fn digest_line(digest: &str) -> String {
    format!("{DIGEST_MARK}{digest}")
}

/// The digest the header of `text` records: the first line starting with
/// [`DIGEST_MARK`] among the comment lines the file starts with.
pub fn recorded_digest(text: &str) -> Option<&str> {
    text.lines()
        .take_while(|line| line.starts_with("--") || line.trim().is_empty())
        .find_map(|line| line.strip_prefix(DIGEST_MARK))
        .map(|rest| rest.split_whitespace().next().unwrap_or(""))
}

/// Reads the schema file at `path` (shown relative to `root`) and checks that
/// it was made from the migrations whose digest is `digest`; `updating`
/// (the [`UPDATE_VAR`] is set) lets a stale or unreadable file through.
pub fn check(
    path: &Path,
    root: &Path,
    digest: &str,
    updating: bool,
) -> Result<SchemaFile, Problem> {
    let display = scan::display(path, root);
    let missing = SchemaFile {
        path: path.to_owned(),
        display: display.clone(),
        text: None,
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(missing),
        Err(_) if updating => return Ok(missing),
        Err(e) => {
            return Err(Problem::new(display, format!("cannot be read: {e}"), ""));
        }
    };
    let text = match text::normalize(&bytes) {
        Ok(text) => text,
        Err(_) if updating => return Ok(missing),
        Err(e) => return Err(e.problem(&display)),
    };
    let regenerate = format!("run `{UPDATE_VAR}=1 cargo test` to write it again");
    if !updating {
        match recorded_digest(&text.sql) {
            None => {
                return Err(Problem::new(
                    &display,
                    format!(
                        "has no `{}` line: the schema file is written by stowage's test helper, \
                         which records there the migrations it was made from",
                        DIGEST_MARK.trim_end()
                    ),
                    regenerate,
                ));
            }
            Some(recorded) if recorded != digest => {
                return Err(Problem::new(
                    &display,
                    format!(
                        "{} was made from other migrations: run `{UPDATE_VAR}=1 cargo test`",
                        path.file_name()
                            .map_or_else(|| display.clone(), |n| n.to_string_lossy().into_owned())
                    ),
                    "a migration was added, removed or edited since the file was written; the \
                     command applies the migrations to a new database and writes the schema they \
                     build, for review with the migration",
                ));
            }
            Some(_) => {}
        }
    }
    Ok(SchemaFile {
        text: Some(SchemaText {
            text: text.sql,
            verbatim: text.verbatim,
        }),
        ..missing
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_read_from_the_leading_comments_only() {
        let text = "-- a header\n--\n-- stowage:digest abc (6 migrations)\n\nCREATE TABLE t ();\n";
        assert_eq!(recorded_digest(text), Some("abc"));
        assert_eq!(
            recorded_digest("CREATE TABLE t ();\n-- stowage:digest abc\n"),
            None
        );
        assert_eq!(recorded_digest(&digest_line("d")), Some("d"));
    }

    #[test]
    fn a_stale_file_fails_unless_it_is_being_written_again() {
        let dir = std::env::temp_dir().join(format!("stowage-schema-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("schema.sql");
        let missing = check(&path, &dir, "new", false).unwrap();
        assert_eq!(missing.text, None);
        assert_eq!(missing.display, "schema.sql");
        std::fs::write(
            &path,
            format!("{}\r\nCREATE TABLE t ();\r\n", digest_line("old")),
        )
        .unwrap();
        let stale = check(&path, &dir, "new", false).unwrap_err();
        assert_eq!(
            stale.message,
            "schema.sql was made from other migrations: run `STOWAGE_UPDATE_SCHEMA=1 cargo test`"
        );
        let updating = check(&path, &dir, "new", true).unwrap();
        let current = check(&path, &dir, "old", false).unwrap();
        assert_eq!(updating, current);
        let text = current.text.unwrap();
        assert_eq!(text.text, "-- stowage:digest old\nCREATE TABLE t ();\n");
        assert!(!text.verbatim);
        std::fs::write(&path, "CREATE TABLE t ();\n").unwrap();
        assert!(
            check(&path, &dir, "old", false)
                .unwrap_err()
                .message
                .contains("has no")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
