//! What a schema check found: the ways the database's schema differs from
//! the schema file the binary carries.

use crate::data::remedy::{Remedy, Words, write_list};
use crate::data::schema::{Aspect, ObjectKind};
use std::fmt;

/// One way the database's schema differs from the expected one.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// MIGRATIONS.run(&mut client)?;
/// client.batch_execute("ALTER TABLE users ALTER COLUMN full_name SET DEFAULT 'anonymous'")?;
/// let check = MIGRATIONS.runner().check_schema(&mut client)?;
/// let difference = &check.differences()[0];
/// assert_eq!(difference.kind(), stowage::ObjectKind::Column);
/// assert_eq!(difference.object(), "public.users.full_name");
/// assert_eq!(difference.to_string(), "column public.users.full_name: default is 'anonymous'::text, expected none");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Difference {
    pub(crate) kind: ObjectKind,
    pub(crate) object: String,
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub(crate) change: Change,
    /// For a missing object, the migration that makes it, and its file.
    #[cfg_attr(
        feature = "serde",
        serde(skip_serializing_if = "Option::is_none", serialize_with = "made_by")
    )]
    pub(crate) made_by: Option<(i64, &'static str)>,
}

#[cfg(feature = "serde")]
fn made_by<S: serde::Serializer>(
    made_by: &Option<(i64, &'static str)>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(2))?;
    if let Some((version, path)) = made_by {
        map.serialize_entry("version", version)?;
        map.serialize_entry("path", path)?;
    }
    map.end()
}

/// How an object differs; see [`Difference`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "change", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Change {
    /// The schema file has it; the database does not.
    Missing,
    /// The database has it; the schema file does not.
    Extra,
    /// Both have it, and one thing about it differs.
    Differs {
        /// What differs.
        aspect: Aspect,
        /// As the schema file has it; `None` when it says nothing of it
        /// (no default, say).
        expected: Option<String>,
        /// As the database has it; `None` when it has none.
        found: Option<String>,
    },
}

impl Difference {
    /// What kind of object it is about.
    pub fn kind(&self) -> ObjectKind {
        self.kind
    }

    /// The object, schema-qualified: `public.users.email`, `users_pkey on
    /// public.users`, `public.add(a integer, b integer)`.
    pub fn object(&self) -> &str {
        &self.object
    }

    /// How it differs.
    pub fn change(&self) -> &Change {
        &self.change
    }

    /// For a missing object, the migration whose `CREATE` statement makes
    /// it, and its file: restoring the object means running that statement
    /// again, as its migration has it.
    pub fn made_by(&self) -> Option<(i64, &'static str)> {
        self.made_by
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.object)?;
        match &self.change {
            Change::Missing => {
                write!(f, " is missing")?;
                if let Some((version, path)) = self.made_by {
                    write!(f, " (migration {version}, {path}, makes it)")?;
                }
                Ok(())
            }
            Change::Extra => write!(f, " is there, but not in the schema file"),
            Change::Differs {
                aspect: Aspect::Validity,
                ..
            } => write!(
                f,
                " is INVALID: a concurrent build of it failed, and queries do not use it; drop it \
                 and create it again"
            ),
            Change::Differs {
                aspect,
                expected,
                found,
            } => {
                let show = |value: &Option<String>| match (aspect, value) {
                    (_, Some(v)) => v.clone(),
                    (Aspect::Enabled, None) => "enabled".to_owned(),
                    (Aspect::ReplicaIdentity, None) => "DEFAULT (the primary key)".to_owned(),
                    (_, None) => "none".to_owned(),
                };
                let (found, expected) = (show(found), show(expected));
                if found.len() + expected.len() > 80 {
                    write!(
                        f,
                        ": {aspect} differs\n    is:       {found}\n    expected: {expected}"
                    )
                } else {
                    write!(f, ": {aspect} is {found}, expected {expected}")
                }
            }
        }
    }
}

/// What [`Runner::check_schema`](crate::Runner::check_schema) found.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../migrations");
/// # let server = stowage::testing::TestServer::shared()?;
/// # let db = server.create_database()?;
/// # let mut client = db.connect()?;
/// MIGRATIONS.run(&mut client)?;
/// let check = MIGRATIONS.runner().check_schema(&mut client)?;
/// assert!(check.is_ok(), "{check}");
/// client.batch_execute("DROP INDEX users_active_idx")?;
/// let check = MIGRATIONS.runner().check_schema(&mut client)?;
/// assert_eq!(check.differences().len(), 1);
/// println!("{check}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SchemaCheck {
    pub(crate) file: &'static str,
    pub(crate) schema: Option<String>,
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub(crate) outcome: SchemaOutcome,
}

/// The outcome of a schema check; see [`SchemaCheck`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "state", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum SchemaOutcome {
    /// The database's schema is the expected one.
    Matches,
    /// It differs, in each of these ways.
    Differs {
        /// Every difference, objects in the order of the schema file.
        differences: Vec<Difference>,
        /// What can be done about them.
        remedies: Vec<Remedy>,
    },
    /// The database is not at the binary's newest version, so its schema
    /// cannot be expected to be the file's: nothing was compared.
    NotAtNewestVersion {
        /// The highest version the database has applied.
        current: Option<i64>,
        /// The binary's newest version.
        newest: Option<i64>,
    },
    /// The binary carries no schema file: nothing was compared.
    NoSchemaFile,
}

impl SchemaCheck {
    /// Whether the database's schema is the expected one.
    pub fn is_ok(&self) -> bool {
        self.outcome == SchemaOutcome::Matches
    }

    /// Whether it was compared at all: not when the database is at another
    /// version than the binary's newest, or the binary carries no schema file.
    pub fn compared(&self) -> bool {
        matches!(
            self.outcome,
            SchemaOutcome::Matches | SchemaOutcome::Differs { .. }
        )
    }

    /// Every difference found; none when it matches or was not compared.
    pub fn differences(&self) -> &[Difference] {
        match &self.outcome {
            SchemaOutcome::Differs { differences, .. } => differences,
            _ => &[],
        }
    }

    /// The outcome.
    pub fn outcome(&self) -> &SchemaOutcome {
        &self.outcome
    }

    /// The schema file it compared with, relative to the crate root.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The schema it compared: the session's current schema, where the
    /// migrations' unqualified names go.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    pub(crate) fn render(&self, words: Words, f: &mut dyn fmt::Write) -> fmt::Result {
        let schema = self.schema.as_deref().unwrap_or("(no current schema)");
        match &self.outcome {
            SchemaOutcome::Matches => write!(
                f,
                "ok: the schema {schema} is the one {} says the migrations build",
                self.file
            ),
            SchemaOutcome::NoSchemaFile => write!(
                f,
                "no schema compared: the binary carries no schema file ({} was not there when it \
                 was built)",
                self.file
            ),
            SchemaOutcome::NotAtNewestVersion { current, newest } => {
                let current = current
                    .map_or_else(|| "nothing applied".to_owned(), |v| format!("version {v}"));
                let newest = newest.map_or_else(|| "none".to_owned(), |v| v.to_string());
                write!(
                    f,
                    "no schema compared: the database is at {current}, not at this binary's newest \
                     version {newest}, so its schema is not expected to be the one {} describes",
                    self.file
                )
            }
            SchemaOutcome::Differs {
                differences,
                remedies,
            } => {
                write!(
                    f,
                    "the schema {schema} differs from {} in {} place(s):",
                    self.file,
                    differences.len()
                )?;
                for d in differences {
                    write!(f, "\n  - {d}")?;
                }
                if !remedies.is_empty() {
                    write!(f, "\nwhat can be done: ")?;
                    write_list(f, remedies, words)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for SchemaCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(Words::Api, f)
    }
}

/// What a health check says of the schema: from the last schema check this
/// process made of the database, or checked on the spot when the runner
/// was asked to ([`Runner::health_checks_schema`](crate::Runner::health_checks_schema)).
///
/// ```
/// use stowage::SchemaHealth;
/// assert_eq!(SchemaHealth::Drift { differences: 2 }.to_string(), "drift (2 differences)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "state", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum SchemaHealth {
    /// It was the expected schema.
    Ok,
    /// It differed in this many places.
    Drift {
        /// How many differences.
        differences: usize,
    },
    /// Not known: no check was made, or it compared nothing (another
    /// version, no schema file).
    #[default]
    Unknown,
}

impl From<&SchemaCheck> for SchemaHealth {
    fn from(check: &SchemaCheck) -> SchemaHealth {
        match &check.outcome {
            SchemaOutcome::Matches => SchemaHealth::Ok,
            SchemaOutcome::Differs { differences, .. } => SchemaHealth::Drift {
                differences: differences.len(),
            },
            _ => SchemaHealth::Unknown,
        }
    }
}

impl fmt::Display for SchemaHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaHealth::Ok => f.write_str("ok"),
            SchemaHealth::Drift { differences } => write!(f, "drift ({differences} differences)"),
            SchemaHealth::Unknown => f.write_str("unknown"),
        }
    }
}

/// When a run checks the schema after it ends well; see
/// [`Runner::check_schema_after_run`](crate::Runner::check_schema_after_run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AfterRun {
    /// No check (the default): a start with nothing to do costs one query.
    #[default]
    Off,
    /// Check, and log each difference as a warning.
    Warn,
    /// Check, and return [`Error::SchemaDrift`](crate::Error::SchemaDrift)
    /// when the schema differs.
    Fail,
}
