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

pub use check::{Folder, Migration, Script, Statement};
pub use problem::Problem;

use std::path::Path;

/// Scans `dir` and checks everything in it; paths in problems and in the
/// result are shown relative to `root` (the crate's manifest folder).
pub fn load(dir: &Path, root: &Path) -> Result<Folder, Vec<Problem>> {
    let files = scan::scan(dir, root)?;
    check::check(dir, root, files)
}
