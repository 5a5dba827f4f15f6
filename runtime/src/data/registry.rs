//! The registry `embed_migrations!` expands to: the migrations of one
//! folder, as the build read and checked them, laid out as
//! `stowage_core::layout` says (a table of integers, one text with every
//! name, path and checksum, and the scripts' SQL), read through small
//! `Copy` views.

use crate::data::line_column::LineColumn;
use std::fmt;
use std::time::Duration;
use stowage_core::layout::{self, FIELDS, HEADER_FIELDS, NONE};
pub use stowage_core::repeatable::ObjectKind as RepeatableKind;
use stowage_core::repeatable::Part;

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
    table: &'static [i64],
    text: &'static str,
    sql: &'static [&'static str],
    digest: &'static str,
    layout: &'static str,
    elsewhere: &'static [i64],
    repeatables: &'static [i64],
}

impl Migrations {
    #[doc(hidden)]
    pub const fn __new(
        table: &'static [i64],
        text: &'static str,
        sql: &'static [&'static str],
        digest: &'static str,
        layout: &'static str,
        elsewhere: &'static [i64],
    ) -> Self {
        Migrations {
            table,
            text,
            sql,
            digest,
            layout,
            elsewhere,
            repeatables: &[],
        }
    }

    #[doc(hidden)]
    pub const fn __with_repeatables(self, repeatables: &'static [i64]) -> Self {
        Migrations {
            repeatables,
            ..self
        }
    }

    /// The repeatable migrations (`R__{name}.sql`), in name order.
    ///
    /// ```
    /// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    ///
    /// let names: Vec<_> = MIGRATIONS.repeatables().map(|r| r.name()).collect();
    /// assert_eq!(names, ["account_summary", "user_label"]);
    /// ```
    pub fn repeatables(&self) -> impl ExactSizeIterator<Item = Repeatable> + use<> {
        let migrations = *self;
        (0..self.repeatables.len() / layout::REPEATABLE_FIELDS).map(move |i| Repeatable {
            migrations,
            first: i * layout::REPEATABLE_FIELDS,
        })
    }

    /// The repeatable migration named `name`, if the binary has it.
    pub fn repeatable(&self, name: &str) -> Option<Repeatable> {
        self.repeatables().find(|r| r.name() == name)
    }

    /// The layout the folder was read in: `stowage`, or the tool's name
    /// given as `embed_migrations!(..., layout = "...")`.
    ///
    /// ```
    /// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    /// assert_eq!(MIGRATIONS.layout(), "stowage");
    /// ```
    pub fn layout(&self) -> &'static str {
        self.layout
    }

    /// The versions the build was told are handled elsewhere
    /// (`elsewhere = [...]`): migrations in code, which stowage cannot run.
    /// `status` shows them as such, and a run leaves them alone.
    pub fn elsewhere(&self) -> &'static [i64] {
        self.elsewhere
    }

    /// The migrations in version order.
    pub fn iter(&self) -> Iter {
        Iter {
            migrations: *self,
            next: 0,
        }
    }

    /// The migration with `version`, if the binary has it.
    pub fn get(&self, version: i64) -> Option<Migration> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let middle = low + (high - low) / 2;
            let migration = self.at(middle);
            match migration.version().cmp(&version) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Some(migration),
            }
        }
        None
    }

    /// The newest migration (never `None` for a registry the macro made).
    pub fn newest(&self) -> Option<Migration> {
        self.len().checked_sub(1).map(|last| self.at(last))
    }

    /// How many migrations there are.
    pub fn len(&self) -> usize {
        self.table.len().saturating_sub(HEADER_FIELDS) / FIELDS
    }

    /// The schema file's path relative to the crate root, such as
    /// `migrations/schema.sql`: where the test helper writes the schema the
    /// migrations build (see [`testing`](crate::testing)).
    pub fn schema_path(&self) -> &'static str {
        self.text(layout::SCHEMA_PATH, None)
    }

    /// The schema the migrations build, as the schema file said when the
    /// crate was built; `None` if there was no file.
    /// [`Runner::check_schema`](crate::Runner::check_schema) compares the
    /// database with it.
    ///
    /// ```
    /// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
    ///
    /// assert!(MIGRATIONS.expected_schema().unwrap().contains("CREATE TABLE accounts ("));
    /// assert_eq!(MIGRATIONS.schema_path(), "../migrations/schema.sql");
    /// ```
    pub fn expected_schema(&self) -> Option<&'static str> {
        let sql: &'static [&'static str] = self.sql;
        usize::try_from(self.field(layout::SCHEMA_SQL))
            .ok()
            .and_then(|i| sql.get(i).copied())
    }

    /// Whether the schema file holds the grants on the objects
    /// (`embed_migrations!(grants = true)`).
    pub(crate) fn schema_grants(&self) -> bool {
        self.field(layout::SCHEMA_GRANTS) == 1
    }

    /// Whether there are none (never true for a registry the macro made).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// SHA-256 over every `"{version} {checksum}"` line: equal to the digest of
    /// a tracking table that has applied exactly these migrations.
    pub(crate) fn digest(&self) -> &'static str {
        self.digest
    }

    fn at(self, index: usize) -> Migration {
        Migration {
            migrations: self,
            first: HEADER_FIELDS + index * FIELDS,
        }
    }

    /// The integer at `index` of the table.
    fn field(&self, index: usize) -> i64 {
        self.table.get(index).copied().unwrap_or(NONE)
    }

    /// The piece of the text whose offset is at `index` of the table and
    /// whose length is `len`, or the next field's value when `len` is
    /// `None`.
    fn text(&self, index: usize, len: Option<usize>) -> &'static str {
        self.text_of(self.table, index, len)
    }

    /// As [`text`](Migrations::text), reading the offset from `table`.
    fn text_of(&self, table: &[i64], index: usize, len: Option<usize>) -> &'static str {
        let text: &'static str = self.text;
        let field = |i: usize| table.get(i).copied().unwrap_or(NONE);
        let start = usize::try_from(field(index)).unwrap_or(usize::MAX);
        let len = len.unwrap_or_else(|| usize::try_from(field(index + 1)).unwrap_or(0));
        text.get(start..start.saturating_add(len)).unwrap_or("")
    }
}

impl fmt::Debug for Migrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl IntoIterator for Migrations {
    type Item = Migration;
    type IntoIter = Iter;

    fn into_iter(self) -> Iter {
        self.iter()
    }
}

impl IntoIterator for &Migrations {
    type Item = Migration;
    type IntoIter = Iter;

    fn into_iter(self) -> Iter {
        self.iter()
    }
}

/// The migrations of a [`Migrations`], in version order.
#[derive(Debug, Clone)]
pub struct Iter {
    migrations: Migrations,
    next: usize,
}

impl Iterator for Iter {
    type Item = Migration;

    fn next(&mut self) -> Option<Migration> {
        (self.next < self.migrations.len()).then(|| {
            self.next += 1;
            self.migrations.at(self.next - 1)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.migrations.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Iter {}

impl DoubleEndedIterator for Iter {
    fn next_back(&mut self) -> Option<Migration> {
        let len = self.migrations.len();
        (self.next < len).then(|| {
            // Iterate from the back by shrinking the view.
            let last = self.migrations.at(len - 1);
            self.migrations.table = &self.migrations.table[..HEADER_FIELDS + (len - 1) * FIELDS];
            last
        })
    }
}

/// One migration: a version, a name, its up script and, if it has one, its
/// down script. A small `Copy` view of the registry.
///
/// ```
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
///
/// let m = MIGRATIONS.get(6).unwrap();
/// assert_eq!((m.version(), m.name()), (6, "add_users_last_login"));
/// assert!(m.up().sql().contains("last_login"));
/// ```
#[derive(Clone, Copy)]
pub struct Migration {
    migrations: Migrations,
    /// Its first field in the table.
    first: usize,
}

impl Migration {
    /// The version from the file name (`7` for `007_add_users.sql`).
    pub fn version(&self) -> i64 {
        self.migrations.field(self.first + layout::VERSION)
    }

    /// The name from the file name (`add_users` for `007_add_users.sql`).
    pub fn name(&self) -> &'static str {
        self.migrations.text(self.first + layout::NAME, None)
    }

    /// The checksum the layout's tool records for the migration, in the text
    /// its table holds it as (sqlx: SHA-384 in hex; refinery: SipHash-1-3 in
    /// decimal, for both widths of its version where they differ; Flyway:
    /// CRC-32 as a signed integer), computed at build time the tool's way.
    /// `None` in stowage's own layout and for tools that record none.
    pub fn tool_checksum(&self) -> Option<&'static str> {
        (self.migrations.field(self.first + layout::TOOL_CHECKSUM) != NONE).then(|| {
            self.migrations
                .text(self.first + layout::TOOL_CHECKSUM, None)
        })
    }

    /// The up script: its file, SQL, checksum and how it runs.
    pub fn up(&self) -> Script {
        Script {
            migrations: self.migrations,
            first: self.first + layout::UP,
            repeatable: false,
        }
    }

    /// The down script `{version}_{name}.down.sql`, if there is one.
    pub fn down(&self) -> Option<Script> {
        let down = Script {
            migrations: self.migrations,
            first: self.first + layout::DOWN,
            repeatable: false,
        };
        (down.field(layout::SQL) != NONE).then_some(down)
    }
}

impl PartialEq for Migration {
    fn eq(&self, other: &Migration) -> bool {
        std::ptr::eq(self.migrations.table, other.migrations.table) && self.first == other.first
    }
}

impl Eq for Migration {}

impl fmt::Debug for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migration")
            .field("version", &self.version())
            .field("name", &self.name())
            .field("up", &self.up())
            .field("down", &self.down())
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
#[derive(Clone, Copy)]
pub struct Script {
    migrations: Migrations,
    /// Its first field in the table.
    first: usize,
    /// Whether it is a repeatable migration's, in the repeatables' table.
    repeatable: bool,
}

impl Script {
    fn table(&self) -> &'static [i64] {
        if self.repeatable {
            self.migrations.repeatables
        } else {
            self.migrations.table
        }
    }

    fn field(&self, field: usize) -> i64 {
        self.table()
            .get(self.first + field)
            .copied()
            .unwrap_or(NONE)
    }

    /// The file's path relative to the crate root, e.g.
    /// `migrations/007_add_users.sql`.
    pub fn path(&self) -> &'static str {
        self.migrations
            .text_of(self.table(), self.first + layout::PATH, None)
    }

    /// The SQL, with any BOM removed and CRLF turned into LF.
    pub fn sql(&self) -> &'static str {
        let sql: &'static [&'static str] = self.migrations.sql;
        usize::try_from(self.field(layout::SQL))
            .ok()
            .and_then(|i| sql.get(i).copied())
            .unwrap_or("")
    }

    /// SHA-256 of [`sql`](Script::sql), lower-case hex.
    pub fn checksum(&self) -> &'static str {
        self.migrations.text_of(
            self.table(),
            self.first + layout::CHECKSUM,
            Some(layout::CHECKSUM_LEN),
        )
    }

    /// Whether the script runs in a transaction of its own (the default), or
    /// statement by statement in autocommit (`-- stowage:no-transaction`).
    pub fn is_transactional(&self) -> bool {
        self.field(layout::TRANSACTIONAL) == 1
    }

    /// Its `-- stowage:lock-timeout`, if it has one.
    pub fn lock_timeout(&self) -> Option<Duration> {
        self.timeout(layout::LOCK_TIMEOUT)
    }

    /// Its `-- stowage:statement-timeout`, if it has one.
    pub fn statement_timeout(&self) -> Option<Duration> {
        self.timeout(layout::STATEMENT_TIMEOUT)
    }

    fn timeout(&self, field: usize) -> Option<Duration> {
        u64::try_from(self.field(field))
            .ok()
            .map(Duration::from_millis)
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
        // The build lexed the text already, so it cannot fail here.
        stowage_core::split::split_statements(self.sql())
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
            .field("path", &self.path())
            .field("checksum", &self.checksum())
            .field("transactional", &self.is_transactional())
            .finish_non_exhaustive()
    }
}

/// A repeatable migration: a file `R__{name}.sql` of views, functions,
/// procedures and triggers, applied again whenever it changes. A small
/// `Copy` view of the registry.
///
/// ```
/// static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
///
/// let summary = MIGRATIONS.repeatable("account_summary").unwrap();
/// assert!(summary.script().path().ends_with("R__account_summary.sql"));
/// let (kind, name) = summary.objects().next().unwrap();
/// assert_eq!((kind, name.as_str()), (stowage::RepeatableKind::View, "account_summary"));
/// ```
#[derive(Clone, Copy)]
pub struct Repeatable {
    migrations: Migrations,
    /// Its first field in the repeatables' table.
    first: usize,
}

impl Repeatable {
    fn field(&self, field: usize) -> i64 {
        self.migrations
            .repeatables
            .get(self.first + field)
            .copied()
            .unwrap_or(NONE)
    }

    /// The name from the file name (`active_users` for
    /// `R__active_users.sql`).
    pub fn name(&self) -> &'static str {
        self.migrations.text_of(
            self.migrations.repeatables,
            self.first + layout::REPEATABLE_NAME,
            None,
        )
    }

    /// The version of its row in the tracking table: a negative number
    /// derived from its name.
    pub fn tracking_version(&self) -> i64 {
        self.field(layout::REPEATABLE_VERSION)
    }

    /// The file: its path, SQL, checksum and timeouts.
    pub fn script(&self) -> Script {
        Script {
            migrations: self.migrations,
            first: self.first + layout::REPEATABLE_SCRIPT,
            repeatable: true,
        }
    }

    /// What its statements create, in order: each object's kind and its
    /// name as written in the file.
    pub fn objects(&self) -> impl Iterator<Item = (RepeatableKind, String)> + use<> {
        self.created().into_iter().map(|o| (o.kind, o.name))
    }

    /// What its statements create, with the relation each is on, read
    /// again from its SQL by the rules the build checked it with.
    pub(crate) fn created(&self) -> Vec<Created> {
        self.parts()
            .into_iter()
            .filter_map(|(part, _)| match part {
                Part::Creates(object) => Some(Created {
                    kind: object.kind,
                    name: object.name.sql().to_owned(),
                    parts: object.name.parts().to_vec(),
                    on: object.on.map(|on| on.sql().to_owned()),
                }),
                Part::Concerns { .. } => None,
            })
            .collect()
    }

    /// Each statement, with what it is.
    pub(crate) fn parts(&self) -> Vec<(Part, Statement)> {
        self.script()
            .statements()
            .into_iter()
            .filter_map(|statement| {
                let tokens: Vec<_> = stowage_core::lexer::tokens(statement.sql())
                    .collect::<Result<_, _>>()
                    .ok()?;
                let part = stowage_core::repeatable::read(&tokens).ok()?;
                Some((part, statement))
            })
            .collect()
    }
}

impl PartialEq for Repeatable {
    fn eq(&self, other: &Repeatable) -> bool {
        std::ptr::eq(self.migrations.repeatables, other.migrations.repeatables)
            && self.first == other.first
    }
}

impl Eq for Repeatable {}

impl fmt::Debug for Repeatable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repeatable")
            .field("name", &self.name())
            .field("script", &self.script())
            .field("objects", &self.objects().collect::<Vec<_>>())
            .finish()
    }
}

/// An object a repeatable migration's statement creates: its kind, its name
/// as written and as the server reads its parts, and the relation it is on
/// (a trigger's table, an index's materialized view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Created {
    pub kind: RepeatableKind,
    pub name: String,
    pub parts: Vec<String>,
    pub on: Option<String>,
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

/// A checksum for tests: `short` padded to the 64 bytes of a real one.
#[cfg(test)]
pub(crate) fn test_checksum(short: &str) -> String {
    format!("{short:-<64}")
}

/// A migration of a registry made at run time, for tests: its version,
/// name, up SQL, the short checksum [`test_checksum`] pads, whether it runs
/// in a transaction, and its lock and statement timeouts in milliseconds.
#[cfg(test)]
pub(crate) type TestMigration<'a> = (i64, &'a str, &'a str, &'a str, bool, [Option<i64>; 2]);

/// A registry made at run time, for tests; paths are
/// `m/{version}_{name}.sql`.
#[cfg(test)]
pub(crate) fn for_tests(migrations: &[TestMigration<'_>]) -> Migrations {
    for_tests_with_schema(migrations, None)
}

/// A registry made at run time, for tests, with `schema` as its expected
/// schema (the schema file at `m/schema.sql`).
#[cfg(test)]
pub(crate) fn for_tests_with_schema(
    migrations: &[TestMigration<'_>],
    schema: Option<&str>,
) -> Migrations {
    let mut table = Vec::new();
    let mut text = String::new();
    let mut sql: Vec<&'static str> = Vec::new();
    let put = |table: &mut Vec<i64>, text: &mut String, value: &str| {
        table.extend([text.len() as i64, value.len() as i64]);
        text.push_str(value);
    };
    match schema {
        Some(schema) => {
            table.push(0);
            sql.push(Box::leak(schema.to_string().into_boxed_str()));
        }
        None => table.push(NONE),
    }
    put(&mut table, &mut text, "m/schema.sql");
    table.push(0);
    for (version, name, up, checksum, transactional, timeouts) in migrations {
        table.push(*version);
        put(&mut table, &mut text, name);
        table.extend([NONE, NONE]);
        table.push(sql.len() as i64);
        sql.push(Box::leak(up.to_string().into_boxed_str()));
        put(&mut table, &mut text, &format!("m/{version}_{name}.sql"));
        table.push(text.len() as i64);
        text.push_str(&test_checksum(checksum));
        table.push(i64::from(*transactional));
        table.extend(timeouts.map(|ms| ms.unwrap_or(NONE)));
        table.extend([NONE; layout::SCRIPT_FIELDS]);
    }
    let checksums: Vec<(i64, String)> = migrations
        .iter()
        .map(|(version, _, _, checksum, ..)| (*version, test_checksum(checksum)))
        .collect();
    let digest =
        stowage_core::checksum::history_digest(checksums.iter().map(|(v, c)| (*v, c.as_str())));
    Migrations::__new(
        Box::leak(table.into_boxed_slice()),
        Box::leak(text.into_boxed_str()),
        Box::leak(sql.into_boxed_slice()),
        Box::leak(digest.into_boxed_str()),
        "stowage",
        &[],
    )
}

/// A registry of one migration and the repeatables `repeatables` (name, SQL,
/// the short checksum [`test_checksum`] pads), made at run time, for tests;
/// paths are `m/R__{name}.sql`.
#[cfg(test)]
pub(crate) fn for_tests_with_repeatables(repeatables: &[(&str, &str, &str)]) -> Migrations {
    let migrations = for_tests(&[(1, "one", "SELECT 1", "c1", true, [None, None])]);
    let mut table = Vec::new();
    let mut text = migrations.text.to_owned();
    let mut sql: Vec<&'static str> = migrations.sql.to_vec();
    let put = |table: &mut Vec<i64>, text: &mut String, value: &str| {
        table.extend([text.len() as i64, value.len() as i64]);
        text.push_str(value);
    };
    for (name, body, checksum) in repeatables {
        table.push(stowage_core::repeatable::tracking_version(name));
        put(&mut table, &mut text, name);
        table.push(sql.len() as i64);
        sql.push(Box::leak(body.to_string().into_boxed_str()));
        put(&mut table, &mut text, &format!("m/R__{name}.sql"));
        table.push(text.len() as i64);
        text.push_str(&test_checksum(checksum));
        table.extend([1, NONE, NONE]);
    }
    Migrations {
        text: Box::leak(text.into_boxed_str()),
        sql: Box::leak(sql.into_boxed_slice()),
        repeatables: Box::leak(table.into_boxed_slice()),
        ..migrations
    }
}
