//! Repeatable migrations: files named `R__{name}.sql` that hold views,
//! materialized views, functions, procedures and triggers, kept as code and
//! applied again whenever they change.
//!
//! A repeatable file holds only statements that create one of those
//! objects, written plainly (`CREATE VIEW`, never `CREATE OR REPLACE` or
//! `DROP`: the runtime replaces or drops what a file created when it
//! changes), the indexes of a materialized view it creates, and `COMMENT
//! ON`, `GRANT` and `REVOKE` on what it creates. Anything else belongs in a
//! versioned migration, which runs once. [`read`] reads one statement;
//! [`tracking_version`] gives the number a repeatable is known by in the
//! tracking table.

use crate::checksum::checksum;
use crate::effect::{Name, Reader};
use crate::lexer::{Token, TokenKind};
use crate::name::NameError;

/// How a repeatable file's name starts.
pub const PREFIX: &str = "R__";

/// The naming rule in a sentence, for messages.
pub const RULE: &str = "a repeatable migration is named `R__{name}.sql`: the name is ASCII letters, \
                        digits, `_` and `-`";

/// Whether the file is a repeatable migration (whose name is then read by
/// [`parse_name`]).
pub fn is_repeatable(file_name: &str) -> bool {
    file_name.starts_with(PREFIX)
}

/// The name of a repeatable file: `R__active_users.sql` is `active_users`.
pub fn parse_name(file_name: &str) -> Result<String, NameError> {
    let error = |message: String, suggestion: Option<String>| NameError {
        message,
        suggestion,
    };
    let rest = file_name.strip_prefix(PREFIX).unwrap_or(file_name);
    let Some(stem) = rest.strip_suffix(".sql") else {
        let stem = rest.rsplit_once('.').map_or(rest, |(stem, _)| stem);
        return Err(error(
            "the extension must be `.sql` in lower case".to_owned(),
            Some(format!("{PREFIX}{stem}.sql")),
        ));
    };
    if stem.ends_with(".down") {
        return Err(error(
            "a repeatable migration has no down file: when a repeatable file is removed, stowage drops \
             what it created"
                .to_owned(),
            None,
        ));
    }
    if stem.is_empty() {
        return Err(error(format!("there is no name after `{PREFIX}`"), None));
    }
    if let Some(c) = stem
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        let fixed: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        return Err(error(
            format!(
                "the name `{stem}` has {c:?}, but only ASCII letters, digits, `_` and `-` are allowed"
            ),
            Some(format!("{PREFIX}{fixed}.sql")),
        ));
    }
    Ok(stem.to_owned())
}

/// The version a repeatable's row has in the tracking table: a negative
/// number taken from the SHA-256 of its name, so that it never meets a
/// versioned migration's (which are never negative) and stays the same
/// from one build to the next.
pub fn tracking_version(name: &str) -> i64 {
    let digest = checksum(name);
    // The first 15 hex digits: 60 bits, a positive `i64`.
    let value = i64::from_str_radix(&digest[..15], 16).unwrap_or(0);
    -1 - value
}

/// What a repeatable file creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    /// `CREATE [RECURSIVE] VIEW`.
    View,
    /// `CREATE MATERIALIZED VIEW`.
    MaterializedView,
    /// `CREATE [UNIQUE] INDEX name ON` a materialized view of the same file.
    Index,
    /// `CREATE FUNCTION`.
    Function,
    /// `CREATE PROCEDURE`.
    Procedure,
    /// `CREATE [CONSTRAINT] TRIGGER name ... ON table`.
    Trigger,
}

impl ObjectKind {
    /// Every kind, in the order of [`ObjectKind::code`].
    pub const ALL: [ObjectKind; 6] = [
        ObjectKind::View,
        ObjectKind::MaterializedView,
        ObjectKind::Index,
        ObjectKind::Function,
        ObjectKind::Procedure,
        ObjectKind::Trigger,
    ];

    /// The words PostgreSQL's `pg_identify_object` names the kind by, which
    /// are also those of its `DROP` statement.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Index => "index",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Trigger => "trigger",
        }
    }

    /// The number the registry stores the kind as.
    pub fn code(self) -> i64 {
        match self {
            ObjectKind::View => 0,
            ObjectKind::MaterializedView => 1,
            ObjectKind::Index => 2,
            ObjectKind::Function => 3,
            ObjectKind::Procedure => 4,
            ObjectKind::Trigger => 5,
        }
    }

    /// The kind stored as `code`.
    pub fn from_code(code: i64) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Relations share one namespace (a view and an index cannot have the
    /// same name in a schema), routines another; a trigger's name belongs
    /// to its table.
    fn namespace(self) -> u8 {
        match self {
            ObjectKind::View | ObjectKind::MaterializedView | ObjectKind::Index => 0,
            ObjectKind::Function | ObjectKind::Procedure => 1,
            ObjectKind::Trigger => 2,
        }
    }
}

/// An object a statement of a repeatable file creates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Object {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name, as written (for a trigger, one part).
    pub name: Name,
    /// The table of a trigger, or the materialized view of an index.
    pub on: Option<Name>,
}

impl Object {
    /// Whether `self` and `other` would be the same object, as far as their
    /// names tell: same kind of namespace, same name, and the same schema
    /// where both name one.
    pub fn same(&self, other: &Object) -> bool {
        self.kind.namespace() == other.kind.namespace()
            && same_name(&self.name, &other.name)
            && match (&self.on, &other.on) {
                (Some(a), Some(b)) => same_name(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

/// What a statement of a repeatable file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// It creates an object.
    Creates(Object),
    /// `COMMENT ON`, `GRANT` or `REVOKE` on objects (which the file must
    /// create): the statement's first word, and the objects, named as a
    /// [`Object`] of the kind the statement says.
    Concerns {
        /// `COMMENT ON`, `GRANT` or `REVOKE`.
        verb: &'static str,
        /// The objects it is about.
        targets: Vec<Object>,
    },
}

/// Why a statement has no place in a repeatable file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A statement of another kind, with its first words (`CREATE TABLE`).
    Elsewhere(String),
    /// `CREATE OR REPLACE ...`.
    OrReplace,
    /// `DROP ...`, with its first words.
    Drop(String),
    /// `IF NOT EXISTS`.
    IfNotExists,
    /// `CREATE INDEX CONCURRENTLY`.
    Concurrently,
    /// An index without a name.
    UnnamedIndex,
    /// A name stowage does not read with certainty (`U&"..."`, a
    /// temporary schema).
    Unreadable,
}

impl Refused {
    /// What is wrong.
    pub fn message(&self) -> String {
        match self {
            Refused::Elsewhere(words) => format!(
                "`{words}` belongs in a versioned migration: a repeatable file holds only CREATE VIEW, \
                 CREATE MATERIALIZED VIEW (with its indexes), CREATE FUNCTION, CREATE PROCEDURE and \
                 CREATE TRIGGER, with COMMENT ON, GRANT and REVOKE on what it creates"
            ),
            Refused::OrReplace => "`CREATE OR REPLACE` is not needed in a repeatable file".to_owned(),
            Refused::Drop(words) => format!("`{words}` has no place in a repeatable file"),
            Refused::IfNotExists => "`IF NOT EXISTS` is not needed in a repeatable file".to_owned(),
            Refused::Concurrently => {
                "`CREATE INDEX CONCURRENTLY` cannot run in a repeatable file: the repeatable files are \
                 applied together in one transaction"
                    .to_owned()
            }
            Refused::UnnamedIndex => "the index has no name".to_owned(),
            Refused::Unreadable => {
                "stowage cannot read with certainty the name this statement gives".to_owned()
            }
        }
    }

    /// How to put it right.
    pub fn help(&self) -> String {
        match self {
            Refused::Elsewhere(_) => "move it to a versioned migration (`{version}_{name}.sql`), which runs \
                                      once; a repeatable file runs again whenever it changes"
                .to_owned(),
            Refused::OrReplace => "write plain `CREATE`: when the file changes, stowage replaces what it \
                                   created in place where it can, and otherwise drops it, with the objects \
                                   of repeatable files that depend on it, and creates them again"
                .to_owned(),
            Refused::Drop(_) => "remove it: stowage drops what a repeatable file created when the file \
                                 changes or is removed; drop anything else in a versioned migration"
                .to_owned(),
            Refused::IfNotExists => {
                "remove it: stowage knows what the file created, and replaces it when the file changes"
                    .to_owned()
            }
            Refused::Concurrently => "remove `CONCURRENTLY`, or build the index in a versioned migration \
                                      marked `-- stowage:no-transaction`"
                .to_owned(),
            Refused::UnnamedIndex => {
                "name it (`CREATE INDEX name ON ...`), so that stowage can find it again".to_owned()
            }
            Refused::Unreadable => {
                "write the name plainly, in double quotes where it needs them, and not in `pg_temp`"
                    .to_owned()
            }
        }
    }
}

/// Reads one statement of a repeatable file from its tokens (comments
/// included).
pub fn read(tokens: &[Token<'_>]) -> Result<Part, Refused> {
    let tokens: Vec<Token<'_>> = tokens
        .iter()
        .filter(|t| !t.kind.is_comment() && t.kind != TokenKind::Semicolon)
        .copied()
        .collect();
    let mut r = Reader {
        tokens: &tokens,
        at: 0,
    };
    if r.eat("create") {
        create(&mut r)
    } else if r.eat_all(&["comment", "on"]) {
        comment(&mut r)
    } else if r.is("grant") || r.is("revoke") {
        grant(&mut r)
    } else if r.is("drop") {
        Err(Refused::Drop(words(&tokens)))
    } else {
        Err(Refused::Elsewhere(words(&tokens)))
    }
}

/// After `CREATE`.
fn create(r: &mut Reader<'_, '_>) -> Result<Part, Refused> {
    let elsewhere = || Refused::Elsewhere(words(r.tokens));
    if r.eat_all(&["or", "replace"]) {
        return Err(Refused::OrReplace);
    }
    let unique = r.eat("unique");
    let kind = if r.eat("index") {
        ObjectKind::Index
    } else if unique {
        return Err(elsewhere());
    } else if r.eat("view") || r.eat_all(&["recursive", "view"]) {
        ObjectKind::View
    } else if r.eat_all(&["materialized", "view"]) {
        ObjectKind::MaterializedView
    } else if r.eat("function") {
        ObjectKind::Function
    } else if r.eat("procedure") {
        ObjectKind::Procedure
    } else if r.eat("trigger") || r.eat_all(&["constraint", "trigger"]) {
        ObjectKind::Trigger
    } else {
        return Err(elsewhere());
    };
    if kind == ObjectKind::Index && r.eat("concurrently") {
        return Err(Refused::Concurrently);
    }
    if r.eat_all(&["if", "not", "exists"]) {
        return Err(Refused::IfNotExists);
    }
    if kind == ObjectKind::Index && r.is("on") {
        return Err(Refused::UnnamedIndex);
    }
    let parts = match kind {
        ObjectKind::Index | ObjectKind::Trigger => 1,
        _ => 3,
    };
    let name = r.name(parts).ok_or(Refused::Unreadable)?;
    let on = match kind {
        ObjectKind::Index => {
            if !r.eat("on") {
                return Err(Refused::Unreadable);
            }
            r.eat("only");
            Some(r.name(3).ok_or(Refused::Unreadable)?)
        }
        ObjectKind::Trigger => {
            // The events come first; `ON` is reserved, so the first one
            // outside parentheses is the table's.
            skip_to_top_level(r, "on").ok_or(Refused::Unreadable)?;
            Some(r.name(3).ok_or(Refused::Unreadable)?)
        }
        ObjectKind::Function | ObjectKind::Procedure if !r.is_paren() => {
            return Err(Refused::Unreadable);
        }
        _ => None,
    };
    // An index goes in its materialized view's schema.
    let name = match (&on, kind) {
        (Some(view), ObjectKind::Index) => name.in_schema_of(view),
        _ => name,
    };
    Ok(Part::Creates(Object { kind, name, on }))
}

/// After `COMMENT ON`.
fn comment(r: &mut Reader<'_, '_>) -> Result<Part, Refused> {
    let elsewhere = || Refused::Elsewhere(words(r.tokens));
    let kind = if r.eat("view") {
        ObjectKind::View
    } else if r.eat_all(&["materialized", "view"]) {
        ObjectKind::MaterializedView
    } else if r.eat("index") {
        ObjectKind::Index
    } else if r.eat("function") || r.eat("routine") {
        ObjectKind::Function
    } else if r.eat("procedure") {
        ObjectKind::Procedure
    } else if r.eat("trigger") {
        ObjectKind::Trigger
    } else if r.eat("column") {
        // A column of a view the file creates: the relation is all but the
        // column's part.
        let column = r.name(4).ok_or(Refused::Unreadable)?;
        let parts = column.parts().len();
        if parts < 2 {
            return Err(Refused::Unreadable);
        }
        let relation = prefix(&column, parts - 1);
        return Ok(Part::Concerns {
            verb: "COMMENT ON",
            targets: vec![Object {
                kind: ObjectKind::View,
                name: relation,
                on: None,
            }],
        });
    } else {
        return Err(elsewhere());
    };
    let parts = if kind == ObjectKind::Trigger { 1 } else { 3 };
    let name = r.name(parts).ok_or(Refused::Unreadable)?;
    let on = if kind == ObjectKind::Trigger {
        r.eat("on").then_some(()).ok_or(Refused::Unreadable)?;
        Some(r.name(3).ok_or(Refused::Unreadable)?)
    } else {
        None
    };
    Ok(Part::Concerns {
        verb: "COMMENT ON",
        targets: vec![Object { kind, name, on }],
    })
}

/// `GRANT` or `REVOKE` of privileges on relations or routines.
fn grant(r: &mut Reader<'_, '_>) -> Result<Part, Refused> {
    let verb = if r.eat("grant") { "GRANT" } else { "REVOKE" };
    // A grant of a role has no `ON`.
    if skip_to_top_level(r, "on").is_none() {
        return Err(Refused::Elsewhere(verb.to_owned()));
    }
    let kind = if r.eat("function") || r.eat("routine") {
        ObjectKind::Function
    } else if r.eat("procedure") {
        ObjectKind::Procedure
    } else if r.is_any(&[
        "all",
        "sequence",
        "database",
        "domain",
        "foreign",
        "language",
        "large",
        "parameter",
        "schema",
        "tablespace",
        "type",
    ]) {
        let what = r
            .peek()
            .map_or(String::new(), |t| t.text.to_ascii_uppercase());
        return Err(Refused::Elsewhere(format!("{verb} ... ON {what}")));
    } else {
        r.eat("table");
        ObjectKind::View
    };
    let mut targets = Vec::new();
    loop {
        let name = r.name(3).ok_or(Refused::Unreadable)?;
        targets.push(Object {
            kind,
            name,
            on: None,
        });
        // A routine's argument types.
        if r.is_paren() {
            skip_parens(r);
        }
        if !r.eat_operator(",") {
            break;
        }
    }
    Ok(Part::Concerns { verb, targets })
}

/// A relation, or one of its columns, that a versioned migration's
/// statement drops or changes the type of: what a view of a repeatable file
/// may depend on, which the server then refuses to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// The table, view or materialized view, as written.
    pub relation: Name,
    /// The column as the server reads it, or `None` for the whole relation.
    pub column: Option<String>,
}

/// What `statement` drops or retypes that a view may depend on: `DROP
/// TABLE`, `DROP VIEW` and `DROP MATERIALIZED VIEW` (the whole relations),
/// and the columns that `ALTER TABLE ... DROP [COLUMN]` and `ALTER [COLUMN]
/// ... [SET DATA] TYPE` change. Empty for anything else, or anything not
/// read with certainty.
pub fn changes(statement: &str) -> Vec<Changed> {
    use crate::effect::{Effect, ObjectKind as Kind, effect};
    if let Effect::Drop { kind, names, .. } = effect(statement) {
        return match kind {
            Kind::Table | Kind::ForeignTable | Kind::View | Kind::MaterializedView => names
                .into_iter()
                .map(|relation| Changed {
                    relation,
                    column: None,
                })
                .collect(),
            _ => Vec::new(),
        };
    }
    let Ok(all) = crate::lexer::tokens(statement).collect::<Result<Vec<_>, _>>() else {
        return Vec::new();
    };
    let tokens: Vec<Token<'_>> = all
        .into_iter()
        .filter(|t| !t.kind.is_comment() && t.kind != TokenKind::Semicolon)
        .collect();
    let mut r = Reader {
        tokens: &tokens,
        at: 0,
    };
    if !(r.eat_all(&["alter", "table"]) || r.eat_all(&["alter", "foreign", "table"])) {
        return Vec::new();
    }
    r.eat_all(&["if", "exists"]);
    r.eat("only");
    let Some(relation) = r.name(3) else {
        return Vec::new();
    };
    r.eat_operator("*");
    let mut changed = Vec::new();
    // The actions, separated by commas outside parentheses.
    loop {
        let column = if r.eat("drop") {
            if r.eat("constraint") {
                None
            } else {
                r.eat("column");
                r.eat_all(&["if", "exists"]);
                r.name(1)
            }
        } else if r.eat("alter") {
            r.eat("column");
            let column = r.name(1);
            let retyped = r.eat("type") || r.eat_all(&["set", "data", "type"]);
            column.filter(|_| retyped)
        } else {
            None
        };
        if let Some(column) = column {
            changed.push(Changed {
                relation: relation.clone(),
                column: column.parts().first().cloned(),
            });
        }
        if skip_to_top_level_comma(&mut r).is_none() {
            break;
        }
    }
    changed
}

/// Moves past the next `,` outside parentheses; `None` where there is none.
fn skip_to_top_level_comma(r: &mut Reader<'_, '_>) -> Option<()> {
    let mut depth = 0usize;
    while let Some(token) = r.next() {
        match token.kind {
            TokenKind::OpenParen => depth += 1,
            TokenKind::CloseParen => depth = depth.saturating_sub(1),
            TokenKind::Operator if depth == 0 && token.text == "," => return Some(()),
            _ => {}
        }
    }
    None
}

/// Moves past the first `keyword` outside parentheses; `None` where there
/// is none.
fn skip_to_top_level(r: &mut Reader<'_, '_>, keyword: &str) -> Option<()> {
    let mut depth = 0usize;
    while let Some(token) = r.next() {
        match token.kind {
            TokenKind::OpenParen => depth += 1,
            TokenKind::CloseParen => depth = depth.saturating_sub(1),
            _ if depth == 0 && token.is_word(keyword) => return Some(()),
            _ => {}
        }
    }
    None
}

/// Moves past a parenthesized list and what is nested in it.
fn skip_parens(r: &mut Reader<'_, '_>) {
    let mut depth = 0usize;
    while let Some(token) = r.next() {
        match token.kind {
            TokenKind::OpenParen => depth += 1,
            TokenKind::CloseParen => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return;
                }
            }
            _ => {}
        }
    }
}

/// The first words of a statement, upper-cased, as messages name it:
/// `CREATE TABLE`, `ALTER TABLE`, `INSERT`.
fn words(tokens: &[Token<'_>]) -> String {
    // Words that qualify the kind of object, and the kinds themselves,
    // after which the name comes.
    const MODIFIERS: &[&str] = &[
        "or",
        "replace",
        "temp",
        "temporary",
        "unlogged",
        "unique",
        "materialized",
        "recursive",
        "constraint",
        "foreign",
        "data",
        "event",
        "default",
        "global",
        "local",
        "text",
        "search",
        "access",
        "on",
    ];
    const KINDS: &[&str] = &[
        "table",
        "index",
        "view",
        "sequence",
        "schema",
        "type",
        "domain",
        "extension",
        "function",
        "procedure",
        "routine",
        "trigger",
        "role",
        "user",
        "group",
        "policy",
        "rule",
        "aggregate",
        "operator",
        "cast",
        "collation",
        "conversion",
        "publication",
        "subscription",
        "statistics",
        "server",
        "wrapper",
        "configuration",
        "dictionary",
        "parser",
        "template",
        "privileges",
        "language",
        "method",
        "transform",
        "tablespace",
        "database",
        "column",
    ];
    let Some(first) = tokens.first() else {
        return String::new();
    };
    let mut taken = vec![first.text.to_ascii_uppercase()];
    let takes_kind = ["create", "alter", "drop", "comment"]
        .iter()
        .any(|k| first.is_word(k));
    if takes_kind {
        for token in &tokens[1..] {
            let lower = token.text.to_ascii_lowercase();
            if token.kind != TokenKind::Word {
                break;
            }
            if KINDS.contains(&lower.as_str()) {
                taken.push(lower.to_ascii_uppercase());
                break;
            }
            if !MODIFIERS.contains(&lower.as_str()) {
                break;
            }
            taken.push(lower.to_ascii_uppercase());
        }
    }
    taken.join(" ")
}

/// Whether two names, as written, name the same object: the same own name,
/// and the same schema where both give one.
fn same_name(a: &Name, b: &Name) -> bool {
    let (a, b) = (a.parts(), b.parts());
    let last = |p: &[String]| p.last().cloned();
    let schema = |p: &[String]| (p.len() >= 2).then(|| p[p.len() - 2].clone());
    last(a) == last(b)
        && match (schema(a), schema(b)) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
}

/// The first `count` parts of `name`.
fn prefix(name: &Name, count: usize) -> Name {
    Name::new(
        name.written()[..count].to_vec(),
        name.parts()[..count].to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokens;

    fn of(sql: &str) -> Result<Part, Refused> {
        let tokens: Vec<_> = tokens(sql).collect::<Result<_, _>>().expect("lexes");
        read(&tokens)
    }

    fn created(sql: &str) -> (ObjectKind, String, Option<String>) {
        match of(sql) {
            Ok(Part::Creates(o)) => (
                o.kind,
                o.name.sql().to_owned(),
                o.on.map(|n| n.sql().to_owned()),
            ),
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn refused(sql: &str) -> Refused {
        of(sql).expect_err(sql)
    }

    #[test]
    fn reads_what_each_statement_creates() {
        use ObjectKind::*;
        assert_eq!(
            created("CREATE VIEW app.v AS SELECT 1"),
            (View, "app.v".into(), None)
        );
        assert_eq!(
            created("create recursive view v (n) as select 1"),
            (View, "v".into(), None)
        );
        assert_eq!(
            created("CREATE MATERIALIZED VIEW m AS SELECT 1 WITH NO DATA"),
            (MaterializedView, "m".into(), None)
        );
        assert_eq!(
            created("CREATE UNIQUE INDEX m_id ON app.m (id)"),
            (Index, "app.m_id".into(), Some("app.m".into()))
        );
        assert_eq!(
            created("CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$"),
            (Function, "f".into(), None)
        );
        assert_eq!(
            created("CREATE PROCEDURE \"P\"() LANGUAGE sql AS 'SELECT 1'"),
            (Procedure, "\"P\"".into(), None)
        );
        assert_eq!(
            created(
                "CREATE TRIGGER t BEFORE UPDATE OF a, b ON app.accounts FOR EACH ROW EXECUTE FUNCTION f()"
            ),
            (Trigger, "t".into(), Some("app.accounts".into()))
        );
        assert_eq!(
            created(
                "CREATE CONSTRAINT TRIGGER t AFTER INSERT ON x DEFERRABLE FOR EACH ROW EXECUTE FUNCTION f()"
            ),
            (Trigger, "t".into(), Some("x".into()))
        );
    }

    #[test]
    fn reads_comments_and_grants_on_objects() {
        let targets = |sql: &str| match of(sql) {
            Ok(Part::Concerns { verb, targets }) => (
                verb,
                targets
                    .iter()
                    .map(|o| (o.kind, o.name.sql().to_owned()))
                    .collect::<Vec<_>>(),
            ),
            other => panic!("{sql}: {other:?}"),
        };
        use ObjectKind::*;
        assert_eq!(
            targets("COMMENT ON VIEW v IS 'x'"),
            ("COMMENT ON", vec![(View, "v".into())])
        );
        assert_eq!(
            targets("COMMENT ON COLUMN app.v.c IS 'x'"),
            ("COMMENT ON", vec![(View, "app.v".into())])
        );
        assert_eq!(
            targets("COMMENT ON FUNCTION f(int) IS 'x'"),
            ("COMMENT ON", vec![(Function, "f".into())])
        );
        assert_eq!(
            targets("GRANT SELECT (a, b), UPDATE ON v, w TO reader"),
            ("GRANT", vec![(View, "v".into()), (View, "w".into())])
        );
        assert_eq!(
            targets("GRANT EXECUTE ON FUNCTION f(int), g() TO app"),
            (
                "GRANT",
                vec![(Function, "f".into()), (Function, "g".into())]
            )
        );
        assert_eq!(
            targets("REVOKE ALL ON FUNCTION f(int) FROM public"),
            ("REVOKE", vec![(Function, "f".into())])
        );
        assert_eq!(
            targets("REVOKE GRANT OPTION FOR SELECT ON TABLE v FROM r"),
            ("REVOKE", vec![(View, "v".into())])
        );
    }

    #[test]
    fn refuses_what_belongs_in_a_versioned_migration() {
        let elsewhere = |sql: &str| match refused(sql) {
            Refused::Elsewhere(words) => words,
            other => panic!("{sql}: {other:?}"),
        };
        assert_eq!(elsewhere("CREATE TABLE t (a int)"), "CREATE TABLE");
        assert_eq!(
            elsewhere("create unlogged table t (a int)"),
            "CREATE UNLOGGED TABLE"
        );
        assert_eq!(elsewhere("ALTER TABLE t ADD c int"), "ALTER TABLE");
        assert_eq!(elsewhere("INSERT INTO t VALUES (1)"), "INSERT");
        assert_eq!(elsewhere("BEGIN"), "BEGIN");
        assert_eq!(elsewhere("SET search_path = app"), "SET");
        assert_eq!(
            elsewhere("CREATE TEMP VIEW v AS SELECT 1"),
            "CREATE TEMP VIEW"
        );
        assert_eq!(elsewhere("CREATE UNIQUE t"), "CREATE UNIQUE");
        assert_eq!(elsewhere("COMMENT ON TABLE t IS 'x'"), "COMMENT ON TABLE");
        assert_eq!(elsewhere("GRANT reader TO app"), "GRANT");
        assert_eq!(
            elsewhere("GRANT SELECT ON ALL TABLES IN SCHEMA app TO r"),
            "GRANT ... ON ALL"
        );
        assert_eq!(
            refused("DROP VIEW IF EXISTS v CASCADE"),
            Refused::Drop("DROP VIEW".into())
        );
        assert_eq!(
            refused("CREATE OR REPLACE VIEW v AS SELECT 1"),
            Refused::OrReplace
        );
        assert_eq!(
            refused("CREATE MATERIALIZED VIEW IF NOT EXISTS m AS SELECT 1"),
            Refused::IfNotExists
        );
        assert_eq!(
            refused("CREATE INDEX CONCURRENTLY i ON m (a)"),
            Refused::Concurrently
        );
        assert_eq!(refused("CREATE INDEX ON m (a)"), Refused::UnnamedIndex);
        assert_eq!(
            refused("CREATE VIEW pg_temp.v AS SELECT 1"),
            Refused::Unreadable
        );
    }

    #[test]
    fn names_match_by_own_name_and_schema_where_both_give_one() {
        let object = |sql: &str| match of(sql) {
            Ok(Part::Creates(o)) => o,
            other => panic!("{sql}: {other:?}"),
        };
        let v = object("CREATE VIEW v AS SELECT 1");
        assert!(v.same(&object("CREATE VIEW app.v AS SELECT 1")));
        assert!(v.same(&object("CREATE MATERIALIZED VIEW V AS SELECT 1")));
        assert!(!v.same(&object("CREATE VIEW \"V\" AS SELECT 1")));
        assert!(!v.same(&object(
            "CREATE FUNCTION v() RETURNS int AS 'select 1' LANGUAGE sql"
        )));
        assert!(
            !object("CREATE VIEW a.v AS SELECT 1").same(&object("CREATE VIEW b.v AS SELECT 1"))
        );
    }

    #[test]
    fn reads_what_a_versioned_statement_changes_under_views() {
        let changed = |sql: &str| -> Vec<(String, Option<String>)> {
            changes(sql)
                .into_iter()
                .map(|c| (c.relation.sql().to_owned(), c.column))
                .collect()
        };
        assert_eq!(
            changed(
                "ALTER TABLE ONLY app.t DROP COLUMN IF EXISTS \"B\", ALTER a TYPE bigint USING a::bigint"
            ),
            [
                ("app.t".to_owned(), Some("B".to_owned())),
                ("app.t".to_owned(), Some("a".to_owned()))
            ]
        );
        assert_eq!(
            changed(
                "alter table t alter column c set data type numeric(10, 2), add d int, drop constraint k"
            ),
            [("t".to_owned(), Some("c".to_owned()))]
        );
        assert_eq!(
            changed("DROP TABLE a, b CASCADE"),
            [("a".to_owned(), None), ("b".to_owned(), None)]
        );
        assert!(changed("ALTER TABLE t RENAME COLUMN a TO b").is_empty());
        assert!(changed("ALTER TABLE t ALTER COLUMN a SET DEFAULT 1").is_empty());
        assert!(changed("DROP INDEX i").is_empty());
    }

    #[test]
    fn file_names() {
        assert_eq!(
            parse_name("R__active_users.sql").as_deref(),
            Ok("active_users")
        );
        assert_eq!(
            parse_name("R__a b.sql").map_err(|e| e.suggestion),
            Err(Some("R__a_b.sql".into()))
        );
        assert!(parse_name("R__x.down.sql").is_err());
        assert!(parse_name("R__.sql").is_err());
        assert_eq!(
            parse_name("R__x.SQL").map_err(|e| e.suggestion),
            Err(Some("R__x.sql".into()))
        );
    }

    #[test]
    fn tracking_versions_are_negative_and_stable() {
        let v = tracking_version("active_users");
        assert!(v < 0);
        assert_eq!(v, tracking_version("active_users"));
        assert_ne!(v, tracking_version("active_user"));
    }
}
