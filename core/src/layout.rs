//! How `embed_migrations!` lays a registry out in the binary, which the
//! runtime reads: one flat table of integers, one text holding every name,
//! path and checksum, and the scripts' SQL. A table of numbers is the
//! cheapest thing for the compiler to check, and holds no pointer that the
//! binary must relocate when it starts.
//!
//! The table starts with [`HEADER_FIELDS`] integers about the whole folder:
//! the schema file (where its expected schema is among the scripts' texts,
//! its path in the text) and its options. Then each migration is [`FIELDS`]
//! integers: its version, where its name is in the text, where the
//! checksum of the layout's tool is (for a folder read in another tool's
//! layout that records one), then its up script and its down script, each
//! [`SCRIPT_FIELDS`] integers; a field that says nothing holds [`NONE`].
//!
//! Besides them the registry names its layout and lists the versions
//! handled elsewhere (migrations in code), which are few.
//!
//! The repeatable migrations are a second table, [`REPEATABLE_FIELDS`]
//! integers each: the version of its tracking row, where its name is in the
//! text, and its script. What a repeatable's statements create is read
//! again from its SQL when it is needed, as its statements are.

/// The integers before the first migration's.
pub const HEADER_FIELDS: usize = 4;
/// The index of the schema file's text among the scripts' texts; [`NONE`]
/// when there was no file.
pub const SCHEMA_SQL: usize = 0;
/// The offset of the schema file's path in the text; its length follows.
pub const SCHEMA_PATH: usize = 1;
/// 1 if the schema file holds the grants on its objects, 0 if not.
pub const SCHEMA_GRANTS: usize = 3;

/// The integers of one migration.
pub const FIELDS: usize = 5 + 2 * SCRIPT_FIELDS;
/// The version.
pub const VERSION: usize = 0;
/// The offset of the name in the text; its length follows.
pub const NAME: usize = 1;
/// The offset in the text of the checksum the layout's tool records, or
/// [`NONE`]; its length follows.
pub const TOOL_CHECKSUM: usize = 3;
/// The first field of the up script.
pub const UP: usize = 5;
/// The first field of the down script.
pub const DOWN: usize = UP + SCRIPT_FIELDS;

/// The integers of one script, from its first field.
pub const SCRIPT_FIELDS: usize = 7;
/// The index of its SQL among the scripts' texts; [`NONE`] for a down script
/// that is not there.
pub const SQL: usize = 0;
/// The offset of its path in the text; its length follows.
pub const PATH: usize = 1;
/// The offset of its checksum in the text, [`CHECKSUM_LEN`] bytes long.
pub const CHECKSUM: usize = 3;
/// 1 if it runs in a transaction of its own, 0 if not.
pub const TRANSACTIONAL: usize = 4;
/// Its `-- stowage:lock-timeout`, in milliseconds, or [`NONE`].
pub const LOCK_TIMEOUT: usize = 5;
/// Its `-- stowage:statement-timeout`, in milliseconds, or [`NONE`].
pub const STATEMENT_TIMEOUT: usize = 6;

/// The integers of one repeatable migration.
pub const REPEATABLE_FIELDS: usize = 3 + SCRIPT_FIELDS;
/// The version of its tracking row.
pub const REPEATABLE_VERSION: usize = 0;
/// The offset of its name in the text; its length follows.
pub const REPEATABLE_NAME: usize = 1;
/// The first field of its script.
pub const REPEATABLE_SCRIPT: usize = 3;
/// A field that says nothing.
pub const NONE: i64 = -1;
/// The length of a checksum: SHA-256 in hex.
pub const CHECKSUM_LEN: usize = 64;
