//! Finding the migration files: every `*.sql` file below the folder, at any
//! depth, skipping hidden files and folders (names starting with `.`).

use crate::name;
use crate::problem::Problem;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// A `.sql` file found in the folder, not yet checked.
#[derive(Debug, Clone)]
pub struct SqlFile {
    /// Its absolute path.
    pub path: PathBuf,
    /// Its path as shown to the user: relative to the crate root, `/`-separated.
    pub display: String,
    /// Its file name.
    pub file_name: String,
    /// Its contents.
    pub bytes: Vec<u8>,
}

/// Reads every `.sql` file below `dir`, sorted by path, but the files of
/// `skip` (the schema file, which is not a migration).
pub fn scan(dir: &Path, root: &Path, skip: &[&Path]) -> Result<Vec<SqlFile>, Vec<Problem>> {
    let shown = display(dir, root);
    if !dir.exists() {
        return Err(vec![Problem::new(
            shown,
            format!(
                "the migrations folder does not exist (looked for {})",
                dir.display()
            ),
            "create it, or pass the folder's path relative to Cargo.toml, \
             e.g. `embed_migrations!(\"db/migrations\")`",
        )]);
    }
    if !dir.is_dir() {
        return Err(vec![Problem::new(
            shown,
            format!("{} is not a folder", dir.display()),
            "pass the folder that holds the `.sql` files",
        )]);
    }
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let walk = WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walk {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let at = e.path().map_or_else(|| shown.clone(), |p| display(p, root));
                problems.push(Problem::new(at, format!("cannot be read: {e}"), ""));
                continue;
            }
        };
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if !entry.file_type().is_file() || !name::is_sql_file(&file_name) {
            continue;
        }
        let path = entry.into_path();
        if skip.contains(&path.as_path()) {
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) => files.push(SqlFile {
                display: display(&path, root),
                path,
                file_name,
                bytes,
            }),
            Err(e) => problems.push(Problem::new(
                display(&path, root),
                format!("cannot be read: {e}"),
                "",
            )),
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

/// `path` relative to `root` where it is below it, with `/` separators.
pub fn display(path: &Path, root: &Path) -> String {
    let shown = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<_> = shown
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}
