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
pub mod split;
pub mod template;
pub mod text;
pub mod tools;

pub use check::{Folder, Migration, Script, Statement};
pub use problem::Problem;

use std::path::Path;

/// Scans `dir` and checks everything in it; paths in problems and in the
/// result are shown relative to `root` (the crate's manifest folder).
pub fn load(dir: &Path, root: &Path) -> Result<Folder, Vec<Problem>> {
    let files = scan::scan(dir, root)?;
    check::check(dir, root, files)
}

/// [`load`] in `layout`, with the versions of migrations in code that are
/// handled `elsewhere`.
#[cfg(feature = "tools")]
pub fn load_layout(
    dir: &Path,
    root: &Path,
    layout: tools::Layout,
    elsewhere: &[i64],
) -> Result<Folder, Vec<Problem>> {
    if layout == tools::Layout::Stowage {
        let mut folder = load(dir, root)?;
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
    check::check_found(dir, root, layout, tools::read(layout, dir, root), elsewhere)
}
