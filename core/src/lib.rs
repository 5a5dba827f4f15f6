//! The build-time rules of stowage, in one place.
//!
//! `stowage-macros` runs these when it expands `embed_migrations!`; the runtime
//! uses [`position`] to point at the line and column of a server error. Nothing
//! here talks to a database.
//!
//! The pipeline is [`scan::scan`] (walk the folder, read each file) and
//! [`check::check`] (apply every rule, collecting every [`Problem`]), which
//! together give a [`Folder`] of migrations sorted by version.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

pub mod check;
pub mod checksum;
pub mod directive;
pub mod duration;
pub mod effect;
pub mod forbidden;
pub mod invisible;
pub mod layout;
pub mod lexer;
pub mod markers;
pub mod name;
pub mod options;
pub mod placement;
pub mod position;
pub mod problem;
pub mod psql;
pub mod repeatable;
pub mod scan;
pub mod schema_file;
pub mod split;
pub mod template;
pub mod text;
pub mod tools;

pub use check::{Folder, Migration, Script, Statement};
pub use problem::Problem;

use std::path::Path;

/// Scans `dir` and checks everything in it, and the schema file at `schema`
/// (see [`schema_file`]; `updating` when it is about to be written again);
/// paths in problems and in the result are shown relative to `root` (the
/// crate's manifest folder).
pub fn load(
    dir: &Path,
    root: &Path,
    schema: &Path,
    updating: bool,
) -> Result<Folder, Vec<Problem>> {
    // The schema file is not a migration, and neither is `schema.sql` at
    // the top of the folder, where it is by default.
    let default_schema = dir.join(schema_file::DEFAULT_NAME);
    let files = scan::scan(dir, root, &[schema, &default_schema])?;
    let folder = check::check(dir, root, files)?;
    with_schema_file(folder, schema, root, updating)
}

/// The folder with its schema file checked against its migrations.
fn with_schema_file(
    mut folder: Folder,
    schema: &Path,
    root: &Path,
    updating: bool,
) -> Result<Folder, Vec<Problem>> {
    let file = schema_file::check(schema, root, &folder.digest, updating).map_err(|p| vec![p])?;
    folder.schema = Some(file);
    Ok(folder)
}

/// [`load`] in `layout`, with the versions of migrations in code that are
/// handled `elsewhere`. In another tool's layout, the schema file must not
/// be among the files that tool reads.
#[cfg(feature = "tools")]
pub fn load_layout(
    dir: &Path,
    root: &Path,
    layout: tools::Layout,
    elsewhere: &[i64],
    schema: &Path,
    updating: bool,
) -> Result<Folder, Vec<Problem>> {
    if layout == tools::Layout::Stowage {
        let mut folder = load(dir, root, schema, updating)?;
        folder.elsewhere = elsewhere.to_vec();
        folder.elsewhere.sort_unstable();
        folder.elsewhere.dedup();
        if let Some(m) = folder
            .migrations
            .iter()
            .find(|m| folder.elsewhere.contains(&m.version))
        {
            return Err(vec![Problem::new(
                &m.up.display,
                format!(
                    "is migration {} in SQL, and the build is told it is handled elsewhere",
                    m.version
                ),
                "remove its version from `elsewhere`",
            )]);
        }
        return Ok(folder);
    }
    let folder = check::check_found(dir, root, layout, tools::read(layout, dir, root), elsewhere)?;
    with_schema_file(folder, schema, root, updating)
}
