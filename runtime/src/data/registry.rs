//! The registry `embed_migrations!` expands to: the migrations of one
//! folder, as the build read and checked them.

use crate::data::line_column::LineColumn;
use std::fmt;
use std::time::Duration;

/// The migrations stowed in the binary, sorted by version.
///
/// Made by [`embed_migrations!`](crate::embed_migrations); apply them with
/// [`run`](Migrations::run) or, with options, through
/// [`runner`](Migrations::runner). It is a small `Copy` value pointing at
/// static data, so it can be passed around and stored freely.
///
/// ```
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
///
/// let first = MIGRATIONS.iter().next().unwrap();
/// assert_eq!(first.version(), 1);
/// assert!(first.up().path().ends_with("migrations/0001_create_accounts.sql"));
/// assert!(MIGRATIONS.get(6).and_then(|m| m.down()).is_some());
/// ```
#[derive(Clone, Copy)]
pub struct Migrations {
    list: &'static [Migration],
    digest: &'static str,
}

impl Migrations {
    #[doc(hidden)]
    pub const fn __new(list: &'static [Migration], digest: &'static str) -> Self {
        Migrations { list, digest }
    }

    /// The migrations in version order.
    pub fn iter(&self) -> std::slice::Iter<'static, Migration> {
        self.list.iter()
    }

    /// The migration with `version`, if the binary has it.
    pub fn get(&self, version: i64) -> Option<&'static Migration> {
        let list: &'static [Migration] = self.list;
        list.binary_search_by_key(&version, Migration::version)
            .ok()
            .map(|i| &list[i])
    }

    /// The newest migration (never `None` for a registry the macro made).
    pub fn newest(&self) -> Option<&'static Migration> {
        self.list.last()
    }

    /// How many migrations there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none (never true for a registry the macro made).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// SHA-256 over every `"{version} {checksum}"` line: equal to the digest of
    /// a tracking table that has applied exactly these migrations.
    pub(crate) fn digest(&self) -> &'static str {
        self.digest
    }
}

impl fmt::Debug for Migrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.list).finish()
    }
}

impl IntoIterator for Migrations {
    type Item = &'static Migration;
    type IntoIter = std::slice::Iter<'static, Migration>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl IntoIterator for &Migrations {
    type Item = &'static Migration;
    type IntoIter = std::slice::Iter<'static, Migration>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

/// One migration: a version, a name, its up script and, if it has one, its
/// down script.
///
/// ```
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
///
/// let m = MIGRATIONS.get(6).unwrap();
/// assert_eq!((m.version(), m.name()), (6, "add_users_last_login"));
/// assert!(m.up().sql().contains("last_login"));
/// ```
pub struct Migration {
    version: i64,
    name: &'static str,
    up: Script,
    down: Option<Script>,
}

impl Migration {
    #[doc(hidden)]
    pub const fn __new(version: i64, name: &'static str, up: Script, down: Option<Script>) -> Self {
        Migration {
            version,
            name,
            up,
            down,
        }
    }

    /// The version from the file name (`7` for `007_add_users.sql`).
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The name from the file name (`add_users` for `007_add_users.sql`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The up script: its file, SQL, checksum and how it runs.
    pub fn up(&self) -> &Script {
        &self.up
    }

    /// The down script `{version}_{name}.down.sql`, if there is one.
    pub fn down(&self) -> Option<&Script> {
        self.down.as_ref()
    }
}

impl fmt::Debug for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migration")
            .field("version", &self.version)
            .field("name", &self.name)
            .field("up", &self.up)
            .field("down", &self.down)
            .finish()
    }
}

/// The text of one migration file, and how it runs.
///
/// ```
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
///
/// let up = MIGRATIONS.get(6).unwrap().up();
/// assert!(up.is_transactional());
/// assert_eq!(up.checksum().len(), 64);
/// assert!(MIGRATIONS.get(6).unwrap().down().is_some());
/// ```
pub struct Script {
    path: &'static str,
    sql: &'static str,
    checksum: &'static str,
    transactional: bool,
    lock_timeout_ms: Option<u64>,
    statement_timeout_ms: Option<u64>,
}

impl Script {
    #[doc(hidden)]
    pub const fn __new(
        path: &'static str,
        sql: &'static str,
        checksum: &'static str,
        transactional: bool,
    ) -> Self {
        Script {
            path,
            sql,
            checksum,
            transactional,
            lock_timeout_ms: None,
            statement_timeout_ms: None,
        }
    }

    #[doc(hidden)]
    pub const fn __timeouts(mut self, lock_ms: Option<u64>, statement_ms: Option<u64>) -> Self {
        self.lock_timeout_ms = lock_ms;
        self.statement_timeout_ms = statement_ms;
        self
    }

    /// The file's path relative to the crate root, e.g.
    /// `migrations/007_add_users.sql`.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The SQL, with any BOM removed and CRLF turned into LF.
    pub fn sql(&self) -> &'static str {
        self.sql
    }

    /// SHA-256 of [`sql`](Script::sql), lower-case hex.
    pub fn checksum(&self) -> &'static str {
        self.checksum
    }

    /// Whether the script runs in a transaction of its own (the default), or
    /// statement by statement in autocommit (`-- stowage:no-transaction`).
    pub fn is_transactional(&self) -> bool {
        self.transactional
    }

    /// Its `-- stowage:lock-timeout`, if it has one.
    pub fn lock_timeout(&self) -> Option<Duration> {
        self.lock_timeout_ms.map(Duration::from_millis)
    }

    /// Its `-- stowage:statement-timeout`, if it has one.
    pub fn statement_timeout(&self) -> Option<Duration> {
        self.statement_timeout_ms.map(Duration::from_millis)
    }

    /// Its statements in order, each with where it starts in the file, cut
    /// as PostgreSQL's parser would cut them (by the rules the build checked
    /// the script with). A no-transaction script runs them one at a time.
    ///
    /// ```
    /// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    ///
    /// let statements = MIGRATIONS.get(1).unwrap().up().statements();
    /// assert!(statements[0].sql().starts_with("CREATE TABLE"));
    /// assert_eq!(statements[0].position().line, 2); // after a comment line
    /// ```
    pub fn statements(&self) -> Vec<Statement> {
        let sql: &'static str = self.sql;
        // The build lexed the text already, so it cannot fail here.
        stowage_core::split::split_statements(sql)
            .map(|statements| {
                statements
                    .into_iter()
                    .map(|s| Statement {
                        sql: s.text,
                        at: s.at.into(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script")
            .field("path", &self.path)
            .field("checksum", &self.checksum)
            .field("transactional", &self.transactional)
            .finish_non_exhaustive()
    }
}

/// One statement of a script; see [`Script::statements`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    sql: &'static str,
    at: LineColumn,
}

impl Statement {
    /// Its text, without the `;` that ends it.
    pub fn sql(&self) -> &'static str {
        self.sql
    }

    /// Where it starts in the file.
    pub fn position(&self) -> LineColumn {
        self.at
    }
}
