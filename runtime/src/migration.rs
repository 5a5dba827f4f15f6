//! The registry `embed_migrations!` expands to.

use crate::LineColumn;
use crate::error::Error;
use crate::report::Report;
use crate::runner::Runner;
use std::fmt;
use std::time::Duration;

/// The migrations stowed in the binary, sorted by version.
///
/// Made by [`embed_migrations!`](crate::embed_migrations); run them with
/// [`run`](Migrations::run) or, with options, [`runner`](Migrations::runner).
pub struct Migrations {
    list: &'static [Migration],
    digest: &'static str,
}

impl Migrations {
    #[doc(hidden)]
    pub const fn __new(list: &'static [Migration], digest: &'static str) -> Self {
        Migrations { list, digest }
    }

    /// Applies every pending migration with the default options; see
    /// [`Runner::run`].
    pub fn run(&self, client: &mut postgres::Client) -> Result<Report, Error> {
        self.runner().run(client)
    }

    /// A runner with the default options, to be changed by its builder methods.
    pub fn runner(&self) -> Runner<'_> {
        Runner::new(self)
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

impl IntoIterator for &Migrations {
    type Item = &'static Migration;
    type IntoIter = std::slice::Iter<'static, Migration>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// One migration: a version, a name, its SQL and, if it has one, its down
/// script.
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

    /// The file's path relative to the crate root, e.g. `migrations/007_add_users.sql`.
    pub fn path(&self) -> &'static str {
        self.up.path
    }

    /// The SQL, with any BOM removed and CRLF turned into LF.
    pub fn sql(&self) -> &'static str {
        self.up.sql
    }

    /// SHA-256 of [`sql`](Migration::sql), lower-case hex.
    pub fn checksum(&self) -> &'static str {
        self.up.checksum
    }

    /// Whether it runs in a transaction of its own (the default), or
    /// statement by statement in autocommit (`-- stowage:no-transaction`).
    pub fn is_transactional(&self) -> bool {
        self.up.is_transactional()
    }

    /// The up script.
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
            .field("path", &self.up.path)
            .field("checksum", &self.up.checksum)
            .field("down", &self.down.as_ref().map(|d| d.path))
            .finish()
    }
}

/// The text of one migration file.
pub struct Script {
    path: &'static str,
    sql: &'static str,
    checksum: &'static str,
    statements: Option<&'static [Statement]>,
    lock_timeout_ms: Option<u64>,
    statement_timeout_ms: Option<u64>,
}

impl Script {
    #[doc(hidden)]
    pub const fn __new(path: &'static str, sql: &'static str, checksum: &'static str) -> Self {
        Script {
            path,
            sql,
            checksum,
            statements: None,
            lock_timeout_ms: None,
            statement_timeout_ms: None,
        }
    }

    #[doc(hidden)]
    pub const fn __no_transaction(
        path: &'static str,
        sql: &'static str,
        checksum: &'static str,
        statements: &'static [Statement],
    ) -> Self {
        Script {
            path,
            sql,
            checksum,
            statements: Some(statements),
            lock_timeout_ms: None,
            statement_timeout_ms: None,
        }
    }

    /// Each statement of the script and where it starts, to point at the
    /// one that failed. Split when asked, by the rules the build checked the
    /// script with; only the error path needs it, so the binary carries no
    /// copy of it.
    pub(crate) fn statement_spans(&self) -> Vec<(&'static str, LineColumn)> {
        let sql: &'static str = self.sql;
        match stowage_core::split::split_statements(sql) {
            Ok(statements) => statements.into_iter().map(|s| (s.text, s.at)).collect(),
            Err(_) => Vec::new(),
        }
    }

    #[doc(hidden)]
    pub const fn __timeouts(mut self, lock_ms: Option<u64>, statement_ms: Option<u64>) -> Self {
        self.lock_timeout_ms = lock_ms;
        self.statement_timeout_ms = statement_ms;
        self
    }

    /// The file's path relative to the crate root.
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
        self.statements.is_none()
    }

    /// Its `-- stowage:lock-timeout`, if it has one.
    pub fn lock_timeout(&self) -> Option<Duration> {
        self.lock_timeout_ms.map(Duration::from_millis)
    }

    /// Its `-- stowage:statement-timeout`, if it has one.
    pub fn statement_timeout(&self) -> Option<Duration> {
        self.statement_timeout_ms.map(Duration::from_millis)
    }

    /// The statements of a no-transaction script, split at build time, in
    /// order; `None` for a transactional one.
    pub fn statements(&self) -> Option<&'static [Statement]> {
        self.statements
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script")
            .field("path", &self.path)
            .field("checksum", &self.checksum)
            .field("transactional", &self.is_transactional())
            .finish_non_exhaustive()
    }
}

/// One statement of a no-transaction script.
pub struct Statement {
    sql: &'static str,
    line: u32,
    column: u32,
}

impl Statement {
    #[doc(hidden)]
    pub const fn __new(sql: &'static str, line: u32, column: u32) -> Self {
        Statement { sql, line, column }
    }

    /// Its text, without the `;` that ends it.
    pub fn sql(&self) -> &'static str {
        self.sql
    }

    /// Where it starts in the file.
    pub fn position(&self) -> LineColumn {
        LineColumn {
            line: self.line,
            column: self.column,
        }
    }
}

impl fmt::Debug for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Statement")
            .field("at", &self.position())
            .field("sql", &self.sql)
            .finish()
    }
}
