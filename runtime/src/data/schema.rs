//! The schema of a database as stowage compares it: its objects, each named
//! relative to the schema the migrations run in (the "home" schema, the
//! session's current schema), with what stowage knows of each as text.
//!
//! The catalog is read into this model ([`reply`](crate::conversation::reply)),
//! and so is the schema file ([`parse`]); the model is written as SQL by
//! [`render`]. Objects in the home schema are named without it, so the
//! schema that a set of migrations builds in `public` compares equal to the
//! one it builds in a tenant's schema.

pub(crate) mod parse;
// Writing the schema file is the test helper's; drift reads only a part.
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) mod render;

use std::collections::BTreeMap;
use std::fmt;

/// What kind of object a schema difference is about.
///
/// ```
/// use stowage::ObjectKind;
/// assert_eq!(ObjectKind::MaterializedView.to_string(), "materialized view");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ObjectKind {
    /// A schema other than the one the migrations run in.
    Schema,
    /// An extension (its version is left out: it differs between servers).
    Extension,
    /// A collation (`CREATE COLLATION`; its version is left out).
    Collation,
    /// An enum type, with its labels in order.
    Enum,
    /// A composite type, with its attributes.
    CompositeType,
    /// A range type.
    RangeType,
    /// A domain.
    Domain,
    /// A sequence that is not an identity column's.
    Sequence,
    /// A function.
    Function,
    /// A procedure.
    Procedure,
    /// An aggregate function.
    Aggregate,
    /// A text search dictionary, with its template and options.
    TextSearchDictionary,
    /// A text search configuration, with its parser and the dictionaries
    /// each kind of token is looked up in.
    TextSearchConfiguration,
    /// A table: plain, unlogged, partitioned, or a partition.
    Table,
    /// A column of a table.
    Column,
    /// A constraint of a table or a domain (not `NOT NULL`, which is the
    /// column's or the domain's).
    Constraint,
    /// An index.
    Index,
    /// A trigger.
    Trigger,
    /// A rule on a table or a view (`CREATE RULE`; not the rule that
    /// makes a view).
    Rule,
    /// A row-level security policy.
    Policy,
    /// A view.
    View,
    /// A materialized view.
    MaterializedView,
    /// Extended statistics on a table's columns (`CREATE STATISTICS`).
    Statistics,
    /// A comment on an object.
    Comment,
    /// The privileges a role was granted on an object (only with
    /// `embed_migrations!(grants = true)`).
    Grant,
}

impl ObjectKind {
    /// Its name in messages: `table`, `materialized view`, ...
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Schema => "schema",
            ObjectKind::Extension => "extension",
            ObjectKind::Collation => "collation",
            ObjectKind::Enum => "enum type",
            ObjectKind::CompositeType => "composite type",
            ObjectKind::RangeType => "range type",
            ObjectKind::Domain => "domain",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Aggregate => "aggregate",
            ObjectKind::TextSearchDictionary => "text search dictionary",
            ObjectKind::TextSearchConfiguration => "text search configuration",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::Constraint => "constraint",
            ObjectKind::Index => "index",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Rule => "rule",
            ObjectKind::Policy => "policy",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Statistics => "statistics",
            ObjectKind::Comment => "comment",
            ObjectKind::Grant => "grant",
        }
    }

    /// The kind's code in the catalog query's rows.
    pub(crate) fn code(self) -> &'static str {
        match self {
            ObjectKind::Schema => "schema",
            ObjectKind::Extension => "extension",
            ObjectKind::Collation => "collation",
            ObjectKind::Enum => "enum",
            ObjectKind::CompositeType => "composite",
            ObjectKind::RangeType => "range",
            ObjectKind::Domain => "domain",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Aggregate => "aggregate",
            ObjectKind::TextSearchDictionary => "ts_dictionary",
            ObjectKind::TextSearchConfiguration => "ts_configuration",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::Constraint => "constraint",
            ObjectKind::Index => "index",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Rule => "rule",
            ObjectKind::Policy => "policy",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "matview",
            ObjectKind::Statistics => "statistics",
            ObjectKind::Comment => "comment",
            ObjectKind::Grant => "grant",
        }
    }

    /// The kind of a catalog row's code.
    pub(crate) fn from_code(code: &str) -> Option<ObjectKind> {
        ALL_KINDS.iter().copied().find(|k| k.code() == code)
    }

    /// Whether its objects belong to a table (or a domain, or a view):
    /// their key names the table, and the member the object.
    pub(crate) fn is_member(self) -> bool {
        matches!(
            self,
            ObjectKind::Column
                | ObjectKind::Constraint
                | ObjectKind::Trigger
                | ObjectKind::Rule
                | ObjectKind::Policy
        )
    }
}

const ALL_KINDS: [ObjectKind; 25] = [
    ObjectKind::Schema,
    ObjectKind::Extension,
    ObjectKind::Collation,
    ObjectKind::Enum,
    ObjectKind::CompositeType,
    ObjectKind::RangeType,
    ObjectKind::Domain,
    ObjectKind::Sequence,
    ObjectKind::Function,
    ObjectKind::Procedure,
    ObjectKind::Aggregate,
    ObjectKind::TextSearchDictionary,
    ObjectKind::TextSearchConfiguration,
    ObjectKind::Table,
    ObjectKind::Column,
    ObjectKind::Constraint,
    ObjectKind::Index,
    ObjectKind::Trigger,
    ObjectKind::Rule,
    ObjectKind::Policy,
    ObjectKind::View,
    ObjectKind::MaterializedView,
    ObjectKind::Statistics,
    ObjectKind::Comment,
    ObjectKind::Grant,
];

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One thing stowage knows of an object, which a difference names.
///
/// ```
/// use stowage::Aspect;
/// assert_eq!(Aspect::Default.to_string(), "default");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Aspect {
    /// The object's definition as the server prints it: a constraint's, an
    /// index's, a view's query, a function's whole `CREATE`, a trigger's.
    Definition,
    /// A column's type.
    Type,
    /// A column's collation, when it is not its type's.
    Collation,
    /// A column's `NOT NULL`.
    NotNull,
    /// A column's identity (`GENERATED ... AS IDENTITY`).
    Identity,
    /// A column's default.
    Default,
    /// A generated column's expression.
    Generated,
    /// The schema an extension is in.
    Schema,
    /// A table's persistence (`UNLOGGED`).
    Persistence,
    /// A table's partitioning, or the table it is a partition of.
    Partition,
    /// The tables a table inherits from.
    Inherits,
    /// A table's or a view's storage options (`WITH (...)`).
    Options,
    /// A table's row-level security (enabled, forced).
    RowSecurity,
    /// What a table's updates and deletes write to the log for logical
    /// replication, when it is not the default (the primary key): `FULL`,
    /// `NOTHING` or `USING INDEX`.
    ReplicaIdentity,
    /// The order of a table's columns.
    ColumnOrder,
    /// An index's validity: an INVALID index is left by a concurrent build
    /// that failed, and is not used by queries.
    Validity,
    /// A trigger's state: enabled, disabled, or firing only in some session
    /// modes.
    Enabled,
    /// The column a sequence belongs to.
    OwnedBy,
    /// A comment's text.
    Text,
    /// The privileges of a grant.
    Privileges,
    /// The dictionaries a text search configuration looks each kind of
    /// token up in, one line per kind: `asciiword WITH english_stem`.
    Mapping,
}

impl Aspect {
    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Aspect::Definition => "definition",
            Aspect::Type => "type",
            Aspect::Collation => "collation",
            Aspect::NotNull => "not null",
            Aspect::Identity => "identity",
            Aspect::Default => "default",
            Aspect::Generated => "generated expression",
            Aspect::Schema => "schema",
            Aspect::Persistence => "persistence",
            Aspect::Partition => "partitioning",
            Aspect::Inherits => "inheritance",
            Aspect::Options => "options",
            Aspect::RowSecurity => "row-level security",
            Aspect::ReplicaIdentity => "replica identity",
            Aspect::ColumnOrder => "column order",
            Aspect::Validity => "validity",
            Aspect::Enabled => "state",
            Aspect::OwnedBy => "owner column",
            Aspect::Text => "text",
            Aspect::Privileges => "privileges",
            Aspect::Mapping => "mapping",
        }
    }

    /// The aspect's code in the catalog query's rows.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Aspect::Definition => "definition",
            Aspect::Type => "type",
            Aspect::Collation => "collation",
            Aspect::NotNull => "not_null",
            Aspect::Identity => "identity",
            Aspect::Default => "default",
            Aspect::Generated => "generated",
            Aspect::Schema => "schema",
            Aspect::Persistence => "persistence",
            Aspect::Partition => "partition",
            Aspect::Inherits => "inherits",
            Aspect::Options => "options",
            Aspect::RowSecurity => "row_security",
            Aspect::ReplicaIdentity => "replica_identity",
            Aspect::ColumnOrder => "column_order",
            Aspect::Validity => "validity",
            Aspect::Enabled => "enabled",
            Aspect::OwnedBy => "owned_by",
            Aspect::Text => "text",
            Aspect::Privileges => "privileges",
            Aspect::Mapping => "mapping",
        }
    }

    /// The aspect of a catalog row's code.
    pub(crate) fn from_code(code: &str) -> Option<Aspect> {
        ALL_ASPECTS.iter().copied().find(|a| a.code() == code)
    }
}

const ALL_ASPECTS: [Aspect; 21] = [
    Aspect::Definition,
    Aspect::Type,
    Aspect::Collation,
    Aspect::NotNull,
    Aspect::Identity,
    Aspect::Default,
    Aspect::Generated,
    Aspect::Schema,
    Aspect::Persistence,
    Aspect::Partition,
    Aspect::Inherits,
    Aspect::Options,
    Aspect::RowSecurity,
    Aspect::ReplicaIdentity,
    Aspect::ColumnOrder,
    Aspect::Validity,
    Aspect::Enabled,
    Aspect::OwnedBy,
    Aspect::Text,
    Aspect::Privileges,
    Aspect::Mapping,
];

impl fmt::Display for Aspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which object: its kind, its schema (`None` for the home schema), its
/// name and, for a column, constraint, trigger or policy, its own name
/// within the table (`name`); for a function, its arguments. Names are as
/// SQL writes them: quoted where they must be.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    pub kind: ObjectKind,
    pub schema: Option<String>,
    pub name: String,
    pub member: String,
}

impl Key {
    pub(crate) fn new(kind: ObjectKind, schema: Option<&str>, name: &str, member: &str) -> Key {
        Key {
            kind,
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
            member: member.to_owned(),
        }
    }

    /// The name as SQL writes it relative to the home schema: `users`,
    /// `audit.log`.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn qualified(&self) -> String {
        qualify(self.schema.as_deref(), &self.name)
    }

    /// The object as a message names it, with the home schema written out
    /// as `home` (or left out when `None`): `users.email`, `add(integer)`.
    pub(crate) fn display(&self, home: Option<&str>) -> String {
        let schema = self.schema.as_deref().or(home);
        let name = qualify(schema, &self.name);
        match self.kind {
            ObjectKind::Schema | ObjectKind::Extension => self.name.clone(),
            ObjectKind::Column => format!("{name}.{}", self.member),
            ObjectKind::Constraint
            | ObjectKind::Trigger
            | ObjectKind::Rule
            | ObjectKind::Policy => {
                format!("{} on {name}", self.member)
            }
            ObjectKind::Function | ObjectKind::Procedure | ObjectKind::Aggregate => {
                format!("{name}{}", self.member)
            }
            ObjectKind::Comment => format!("on {}", self.name),
            ObjectKind::Grant => format!("on {} to {}", self.name, self.member),
            _ => name,
        }
    }
}

/// `schema.name`, or `name` alone for the home schema.
pub(crate) fn qualify(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(schema) => format!("{schema}.{name}"),
        None => name.to_owned(),
    }
}

/// A schema: every object with what is known of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Model {
    pub objects: BTreeMap<Key, BTreeMap<Aspect, String>>,
}

impl Model {
    /// Adds the object if it is new, and sets `aspect` of it when given.
    pub(crate) fn set(&mut self, key: Key, aspect: Option<Aspect>, value: String) {
        let aspects = self.objects.entry(key).or_default();
        if let Some(aspect) = aspect {
            aspects.insert(aspect, value);
        }
    }

    /// Adds the object if it is new, with `aspects`.
    pub(crate) fn add(&mut self, key: Key, mut aspects: BTreeMap<Aspect, String>) {
        self.objects.entry(key).or_default().append(&mut aspects);
    }

    /// The schemas other than the home one that hold an object.
    pub(crate) fn schemas(&self) -> Vec<String> {
        let mut schemas: Vec<String> = self
            .objects
            .keys()
            .filter_map(|k| match k.kind {
                ObjectKind::Schema => Some(k.name.clone()),
                _ => k.schema.clone(),
            })
            .collect();
        schemas.sort();
        schemas.dedup();
        schemas
    }
}

/// `text` with every run of whitespace made one space, and trimmed.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The key of a function, procedure or aggregate from the head of its
/// `CREATE` statement (`CREATE OR REPLACE FUNCTION name(a integer, b integer
/// DEFAULT 1)`): its schema (`None` when not written), its name, and its
/// arguments without their defaults, `(a integer, b integer)`; the same on
/// both sides of a comparison, since both are read by this function.
pub(crate) fn routine_key(definition: &str) -> Option<(Option<String>, String, String)> {
    use stowage_core::lexer::TokenKind;
    let tokens: Vec<_> = stowage_core::lexer::tokens(definition)
        .map_while(Result::ok)
        .filter(|t| !t.kind.is_comment())
        .collect();
    let open = tokens.iter().position(|t| t.kind == TokenKind::OpenParen)?;
    let kind_at = tokens[..open]
        .iter()
        .rposition(|t| t.is_word("FUNCTION") || t.is_word("PROCEDURE") || t.is_word("AGGREGATE"))?;
    let name_tokens = &tokens[kind_at + 1..open];
    let parts: Vec<&str> = name_tokens
        .iter()
        .filter(|t| t.text != ".")
        .map(|t| t.text)
        .collect();
    let (schema, name) = match parts.as_slice() {
        [name] => (None, (*name).to_owned()),
        [schema, name] => (Some((*schema).to_owned()), (*name).to_owned()),
        _ => return None,
    };
    let mut depth = 0;
    let mut args: Vec<String> = Vec::new();
    // The text of the argument read so far, as byte offsets, and whether its
    // default has started.
    let mut current: Option<(usize, usize)> = None;
    let mut skipping = false;
    let mut push = |current: &mut Option<(usize, usize)>| {
        if let Some((start, end)) = current.take() {
            args.push(collapse_whitespace(&definition[start..end]));
        }
    };
    for token in &tokens[open + 1..] {
        match token.kind {
            TokenKind::OpenParen => depth += 1,
            TokenKind::CloseParen if depth == 0 => {
                push(&mut current);
                return Some((schema, name, format!("({})", args.join(", "))));
            }
            TokenKind::CloseParen => depth -= 1,
            _ => {}
        }
        if depth == 0 && token.text == "," {
            push(&mut current);
            skipping = false;
            continue;
        }
        if depth == 0 && (token.is_word("DEFAULT") || token.text == "=") {
            skipping = true;
        }
        if !skipping {
            current = Some(match current {
                Some((start, _)) => (start, token.end()),
                None => (token.start, token.end()),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_routine_is_known_by_its_name_and_arguments_without_defaults() {
        assert_eq!(
            routine_key(
                "CREATE OR REPLACE FUNCTION add(a integer, b integer DEFAULT 1)\n RETURNS integer"
            ),
            Some((None, "add".into(), "(a integer, b integer)".into()))
        );
        assert_eq!(
            routine_key("CREATE OR REPLACE PROCEDURE \"Audit\".wipe()\n LANGUAGE sql"),
            Some((Some("\"Audit\"".into()), "wipe".into(), "()".into()))
        );
        assert_eq!(
            routine_key("CREATE AGGREGATE mysum(integer) (SFUNC = int4pl, STYPE = integer)"),
            Some((None, "mysum".into(), "(integer)".into()))
        );
        assert_eq!(
            routine_key("CREATE OR REPLACE FUNCTION f(x numeric(10,2) = 1.5, VARIADIC y text[])"),
            Some((
                None,
                "f".into(),
                "(x numeric(10,2), VARIADIC y text[])".into()
            ))
        );
    }

    #[test]
    fn keys_are_shown_with_the_home_schema_or_without() {
        let column = Key::new(ObjectKind::Column, None, "users", "email");
        assert_eq!(column.display(Some("tenant_a")), "tenant_a.users.email");
        assert_eq!(column.display(None), "users.email");
        let trigger = Key::new(ObjectKind::Trigger, Some("audit"), "log", "log_touch");
        assert_eq!(trigger.display(Some("public")), "log_touch on audit.log");
    }
}
