//! What a statement creates, drops or rebuilds, read from its text, so that
//! the catalog can tell afterwards whether the statement ran.
//!
//! When the process is killed while a statement of a no-transaction
//! migration runs, the server finishes that statement on its own, and
//! nobody knows whether it completed. For the statements whose work the
//! catalog shows (an index, a table, an enum label), looking there decides;
//! [`effect`] says what to look for. A wrong answer would make the runtime
//! skip or repeat a statement, so anything not read with certainty is
//! [`Effect::Unknown`].
//!
//! The statement is read as tokens with the [`lexer`], as the
//! server reads it with `standard_conforming_strings` on:
//!
//! - Comments are skipped and keywords match in any case, so a string, a
//!   comment or a column named `index` never looks like a keyword. Text
//!   that does not lex, holds more than one statement or leaves a
//!   parenthesis open is [`Effect::Unknown`].
//! - A [`Name`] keeps its text as written, for `to_regclass` and the like,
//!   beside its parts as the server reads them. A name whose first part is
//!   a reserved keyword, with a `U&"..."` or empty quoted part, or with more
//!   parts than the grammar takes is [`Effect::Unknown`]: the server refuses
//!   it, or `to_regclass` would read it otherwise.
//! - An enum label is given as its value: `'...'`, `E'...'` with every
//!   escape, `U&'...'` with the default escape character and dollar-quoted
//!   bodies, continued on later lines or not. A literal whose value could
//!   depend on the server's encoding (an octal or hex escape past ASCII),
//!   that the server refuses (a bad escape, half a surrogate pair, a NUL),
//!   or that names its own escape character (`UESCAPE`) is
//!   [`Effect::Unknown`].
//! - Temporary objects (`TEMP`, `TEMPORARY`, a `pg_temp` schema) vanish with
//!   the session that was killed: they are [`Effect::Unknown`].
//! - A type or domain created under an unqualified keyword (`CREATE TYPE int
//!   AS ENUM ...`) is [`Effect::Unknown`]: `to_regtype('int')` is `integer`.
//!
//! An unqualified name is looked up through the `search_path` of the
//! session that looks, which is not the killed one's if the migration ran
//! `SET search_path`. And `CREATE` puts an unqualified table, index, type or
//! domain in `current_schema()`, while `to_regclass` and `to_regtype` search
//! `pg_catalog` (and, for relations, the session's temporary schema) first:
//! to find what such a statement created, qualify the name with the schema
//! (`format('%I.%s', current_schema(), name)`). Schema and extension names
//! are never qualified.

use crate::lexer::{self, Token, TokenKind};
use crate::options::{self, OptionList, Setting};
use std::fmt;

/// What one statement does that the catalog can show afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] [name] ON [ONLY]
    /// table [*] [USING method] (...)`. A build cut off leaves the index in
    /// place and invalid (`pg_index.indisvalid` false).
    CreateIndexConcurrently {
        /// The index, `None` where the server picks the name. An index goes
        /// in its table's schema, so the name is qualified as the table is:
        /// `CREATE INDEX CONCURRENTLY i ON app.t (c)` gives `app.i`.
        name: Option<Name>,
        /// The table.
        table: Name,
        /// `IF NOT EXISTS`: an index of that name may have been there
        /// before.
        if_not_exists: bool,
    },
    /// `DROP INDEX CONCURRENTLY [IF EXISTS] name [, ...] [CASCADE |
    /// RESTRICT]`. PostgreSQL takes one name only, and refuses `CASCADE`;
    /// the list is read all the same. A drop cut off can leave the index in
    /// place and invalid.
    DropIndexConcurrently {
        /// The indexes, as written.
        names: Vec<Name>,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `REINDEX [(options)] INDEX|TABLE|SCHEMA|DATABASE|SYSTEM CONCURRENTLY
    /// ...`, or with `CONCURRENTLY` true in the options. A rebuild cut off
    /// can leave invalid indexes behind, named as the index they rebuild
    /// with a `_ccnew` or `_ccold` suffix (and maybe a number).
    ReindexConcurrently {
        /// What is rebuilt.
        target: ReindexTarget,
    },
    /// `ALTER TYPE name ADD VALUE [IF NOT EXISTS] 'label' [BEFORE | AFTER
    /// 'other']`: once it ran, `pg_enum` has a row with `enumtypid` the
    /// type and `enumlabel` the label.
    AddEnumValue {
        /// The enum type, as written.
        type_name: Name,
        /// The new label's value.
        label: String,
        /// `IF NOT EXISTS`: the label may have been there before.
        if_not_exists: bool,
    },
    /// A statement that changes no definition and may simply run again:
    /// `VACUUM`, `ANALYZE`, `CLUSTER`, `CHECKPOINT`, `REINDEX` without
    /// `CONCURRENTLY`, `REFRESH MATERIALIZED VIEW` (concurrently or not).
    Rerunnable,
    /// `CREATE` of one of the [`ObjectKind`]s, not temporary:
    ///
    /// - `CREATE [UNLOGGED] TABLE [IF NOT EXISTS] name (...)`, `... OF
    ///   type`, `... PARTITION OF parent`, `... AS query`;
    /// - `CREATE FOREIGN TABLE [IF NOT EXISTS] name (...)` or `PARTITION OF`;
    /// - `CREATE [OR REPLACE] [RECURSIVE] VIEW name`;
    /// - `CREATE MATERIALIZED VIEW [IF NOT EXISTS] name`;
    /// - `CREATE [UNLOGGED] SEQUENCE [IF NOT EXISTS] name`;
    /// - `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table`, without
    ///   `CONCURRENTLY`, the name qualified as the table is (see
    ///   [`Effect::CreateIndexConcurrently`]); an unnamed one is
    ///   [`Effect::Unknown`];
    /// - `CREATE SCHEMA [IF NOT EXISTS] name [AUTHORIZATION role] [elements]`
    ///   (`CREATE SCHEMA AUTHORIZATION role`, named after the role, is
    ///   [`Effect::Unknown`]);
    /// - `CREATE TYPE name AS ENUM (...)`, `AS (...)` or `AS RANGE (...)`
    ///   (a shell or base type is [`Effect::Unknown`]);
    /// - `CREATE DOMAIN name ...`;
    /// - `CREATE EXTENSION [IF NOT EXISTS] name ...`.
    Create {
        /// What it creates.
        kind: ObjectKind,
        /// Its name, as written.
        name: Name,
        /// `IF NOT EXISTS`: the object may have been there before.
        if_not_exists: bool,
        /// `OR REPLACE` (views only): the object may have been there before.
        or_replace: bool,
    },
    /// `DROP kind [IF EXISTS] name [, ...] [CASCADE | RESTRICT]` for one of
    /// the [`ObjectKind`]s; `DROP INDEX CONCURRENTLY` is
    /// [`Effect::DropIndexConcurrently`].
    Drop {
        /// What it drops.
        kind: ObjectKind,
        /// The objects, as written.
        names: Vec<Name>,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// Anything else: the catalog cannot tell, or the statement was not
    /// read with certainty.
    Unknown,
}

/// What `REINDEX ... CONCURRENTLY` rebuilds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReindexTarget {
    /// `INDEX name`.
    Index(Name),
    /// `TABLE name`: its indexes and its TOAST table's.
    Table(Name),
    /// `SCHEMA name`: the indexes of its tables.
    Schema(Name),
    /// `DATABASE [name]`: the current database's indexes, system catalogs
    /// left out.
    Database,
    /// `SYSTEM [name]`, which the server refuses concurrently.
    System,
}

/// The kinds of object whose existence a catalog lookup shows; see
/// [`ObjectKind::lookup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A table, partitioned or not (`relkind` `r` or `p`).
    Table,
    /// A foreign table (`relkind` `f`).
    ForeignTable,
    /// A view (`relkind` `v`).
    View,
    /// A materialized view (`relkind` `m`).
    MaterializedView,
    /// A sequence (`relkind` `S`).
    Sequence,
    /// An index, partitioned or not (`relkind` `i` or `I`).
    Index,
    /// A schema.
    Schema,
    /// A type: enum, composite or range.
    Type,
    /// A domain.
    Domain,
    /// An extension.
    Extension,
}

/// Where the catalog shows an object of some [`ObjectKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// `to_regclass(name)`, then `pg_class.relkind`.
    Regclass,
    /// `to_regnamespace(name)`.
    Regnamespace,
    /// `to_regtype(name)`, which fails on a shell type.
    Regtype,
    /// `pg_extension.extname`, compared with the name's one part as the
    /// server reads it ([`Name::parts`]).
    Extension,
}

impl ObjectKind {
    /// Where the catalog shows objects of this kind.
    pub fn lookup(self) -> Lookup {
        match self {
            ObjectKind::Table
            | ObjectKind::ForeignTable
            | ObjectKind::View
            | ObjectKind::MaterializedView
            | ObjectKind::Sequence
            | ObjectKind::Index => Lookup::Regclass,
            ObjectKind::Schema => Lookup::Regnamespace,
            ObjectKind::Type | ObjectKind::Domain => Lookup::Regtype,
            ObjectKind::Extension => Lookup::Extension,
        }
    }
}

/// A name as written in a statement: one to three parts joined by dots
/// (`t`, `app."Orders"`, `db.app.t`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    /// The parts as written, without the comments and spaces around them.
    written: Vec<String>,
    /// The parts as the server reads them.
    parts: Vec<String>,
    /// `written` joined by dots.
    sql: String,
}

impl Name {
    /// The name's SQL text: quoted parts stay quoted, unquoted ones are as
    /// written, joined by dots with no space (`app."Orders"`). Given as a
    /// literal to `to_regclass`, `to_regnamespace` or `to_regtype`, it reads
    /// as the statement's parser read it.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Each part as the server reads it in a UTF-8 database: an unquoted
    /// part in ASCII lower case, a quoted one without its quotes and with
    /// `""` made `"`, each cut to 63 bytes. The object's own name is last.
    pub fn parts(&self) -> &[String] {
        &self.parts
    }

    /// The parts as written.
    pub(crate) fn written(&self) -> &[String] {
        &self.written
    }

    /// `self`, one part, put in the schema (and database) of `table`.
    pub(crate) fn in_schema_of(self, table: &Name) -> Name {
        let keep = table.written.len().saturating_sub(1);
        let mut written = table.written[..keep].to_vec();
        let mut parts = table.parts[..keep].to_vec();
        written.extend(self.written);
        parts.extend(self.parts);
        Name::new(written, parts)
    }

    pub(crate) fn new(written: Vec<String>, parts: Vec<String>) -> Name {
        let sql = written.join(".");
        Name {
            written,
            parts,
            sql,
        }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql)
    }
}

/// What `statement` (one statement, without or with its `;`) does that the
/// catalog can show.
pub fn effect(statement: &str) -> Effect {
    let Ok(all) = lexer::tokens(statement).collect::<Result<Vec<_>, _>>() else {
        return Effect::Unknown;
    };
    let mut tokens: Vec<_> = all.into_iter().filter(|t| !t.kind.is_comment()).collect();
    while tokens
        .last()
        .is_some_and(|t| t.kind == TokenKind::Semicolon)
    {
        tokens.pop();
    }
    if tokens.iter().any(|t| t.kind == TokenKind::Semicolon) || !balanced(&tokens) {
        return Effect::Unknown;
    }
    let mut reader = Reader {
        tokens: &tokens,
        at: 0,
    };
    read(&mut reader).unwrap_or(Effect::Unknown)
}

/// Whether every parenthesis in `tokens` is closed, and none closed before
/// it opens.
fn balanced(tokens: &[Token<'_>]) -> bool {
    let mut depth = 0usize;
    for token in tokens {
        match token.kind {
            TokenKind::OpenParen => depth += 1,
            TokenKind::CloseParen => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => {}
        }
    }
    depth == 0
}

/// The statement's effect, or `None` where it is unknown.
fn read(r: &mut Reader<'_, '_>) -> Option<Effect> {
    if r.eat("create") {
        create(r)
    } else if r.eat("drop") {
        drop(r)
    } else if r.eat("reindex") {
        reindex(r)
    } else if r.eat_all(&["alter", "type"]) {
        add_enum_value(r)
    } else if ["vacuum", "analyze", "analyse", "cluster", "checkpoint"]
        .iter()
        .any(|k| r.eat(k))
        || r.eat_all(&["refresh", "materialized", "view"])
    {
        Some(Effect::Rerunnable)
    } else {
        None
    }
}

/// After `CREATE`.
fn create(r: &mut Reader<'_, '_>) -> Option<Effect> {
    let or_replace = r.eat_all(&["or", "replace"]);
    if r.eat("unique") {
        r.expect("index")?;
        return (!or_replace).then(|| create_index(r))?;
    }
    if r.eat("index") {
        return (!or_replace).then(|| create_index(r))?;
    }
    if ["temp", "temporary", "local", "global"]
        .iter()
        .any(|k| r.is(k))
    {
        return None;
    }
    let unlogged = r.eat("unlogged");
    let kind = if r.eat("table") {
        ObjectKind::Table
    } else if r.eat_all(&["foreign", "table"]) {
        ObjectKind::ForeignTable
    } else if r.eat("view") || r.eat_all(&["recursive", "view"]) {
        ObjectKind::View
    } else if r.eat_all(&["materialized", "view"]) {
        ObjectKind::MaterializedView
    } else if r.eat("sequence") {
        ObjectKind::Sequence
    } else if r.eat("schema") {
        ObjectKind::Schema
    } else if r.eat("type") {
        ObjectKind::Type
    } else if r.eat("domain") {
        ObjectKind::Domain
    } else if r.eat("extension") {
        ObjectKind::Extension
    } else {
        return None;
    };
    if or_replace && kind != ObjectKind::View {
        return None;
    }
    if unlogged && !matches!(kind, ObjectKind::Table | ObjectKind::Sequence) {
        return None;
    }
    let if_not_exists = r.eat_all(&["if", "not", "exists"]);
    if if_not_exists
        && matches!(
            kind,
            ObjectKind::View | ObjectKind::Type | ObjectKind::Domain
        )
    {
        return None;
    }
    let name = match kind {
        ObjectKind::Schema | ObjectKind::Extension => r.name(1)?,
        _ => r.name(3)?,
    };
    let follows = match kind {
        ObjectKind::Table => {
            r.is_paren() || r.is_any(&["of", "partition", "as", "using", "with", "tablespace"])
        }
        ObjectKind::ForeignTable => r.is_paren() || r.is("partition"),
        ObjectKind::View => r.is_paren() || r.is_any(&["with", "as"]),
        ObjectKind::MaterializedView => {
            r.is_paren() || r.is_any(&["using", "with", "tablespace", "as"])
        }
        ObjectKind::Type => {
            !is_type_keyword(&name) && r.eat("as") && (r.is_paren() || r.is_any(&["enum", "range"]))
        }
        ObjectKind::Domain => !is_type_keyword(&name) && !r.done(),
        ObjectKind::Sequence | ObjectKind::Schema | ObjectKind::Extension => true,
        ObjectKind::Index => false,
    };
    follows.then_some(Effect::Create {
        kind,
        name,
        if_not_exists,
        or_replace,
    })
}

/// After `CREATE [UNIQUE] INDEX`.
fn create_index(r: &mut Reader<'_, '_>) -> Option<Effect> {
    let concurrently = r.eat("concurrently");
    let if_not_exists = r.eat_all(&["if", "not", "exists"]);
    // `ON` is reserved: it is never an index's name.
    let index = if !if_not_exists && r.is("on") {
        None
    } else {
        Some(r.name(1)?)
    };
    r.expect("on")?;
    let table = if r.eat("only") {
        if r.eat_kind(TokenKind::OpenParen) {
            let table = r.name(3)?;
            r.eat_kind(TokenKind::CloseParen).then_some(table)?
        } else {
            r.name(3)?
        }
    } else {
        let table = r.name(3)?;
        r.eat_operator("*");
        table
    };
    if r.eat("using") {
        r.name(1)?;
    }
    if !r.is_paren() {
        return None;
    }
    let name = index.map(|index| index.in_schema_of(&table));
    if concurrently {
        Some(Effect::CreateIndexConcurrently {
            name,
            table,
            if_not_exists,
        })
    } else {
        Some(Effect::Create {
            kind: ObjectKind::Index,
            name: name?,
            if_not_exists,
            or_replace: false,
        })
    }
}

/// After `DROP`.
fn drop(r: &mut Reader<'_, '_>) -> Option<Effect> {
    let concurrently = r.eat_all(&["index", "concurrently"]);
    let kind = if concurrently || r.eat("index") {
        ObjectKind::Index
    } else if r.eat("table") {
        ObjectKind::Table
    } else if r.eat_all(&["foreign", "table"]) {
        ObjectKind::ForeignTable
    } else if r.eat("view") {
        ObjectKind::View
    } else if r.eat_all(&["materialized", "view"]) {
        ObjectKind::MaterializedView
    } else if r.eat("sequence") {
        ObjectKind::Sequence
    } else if r.eat("schema") {
        ObjectKind::Schema
    } else if r.eat("type") {
        ObjectKind::Type
    } else if r.eat("domain") {
        ObjectKind::Domain
    } else if r.eat("extension") {
        ObjectKind::Extension
    } else {
        return None;
    };
    let if_exists = r.eat_all(&["if", "exists"]);
    let parts = match kind {
        ObjectKind::Schema | ObjectKind::Extension => 1,
        _ => 3,
    };
    let mut names = vec![r.name(parts)?];
    while r.eat_operator(",") {
        names.push(r.name(parts)?);
    }
    let _ = r.eat("cascade") || r.eat("restrict");
    if !r.done() {
        return None;
    }
    Some(if concurrently {
        Effect::DropIndexConcurrently { names, if_exists }
    } else {
        Effect::Drop {
            kind,
            names,
            if_exists,
        }
    })
}

/// After `REINDEX`. Concurrently where the keyword is there or the options
/// set `CONCURRENTLY` true (the keyword wins: the server adds it to the
/// list last); an option value the server refuses gives `None`.
fn reindex(r: &mut Reader<'_, '_>) -> Option<Effect> {
    let options = if r.is_paren() {
        let (list, len) = options::read(r.rest())?;
        r.at += len;
        list
    } else {
        OptionList::default()
    };
    let target = ["index", "table", "schema", "database", "system"]
        .into_iter()
        .find(|k| r.eat(k))?;
    let keyword = r.eat("concurrently");
    let concurrently = match options.boolean("concurrently") {
        Setting::Invalid => return None,
        setting => keyword || setting == Setting::True,
    };
    let target = match target {
        "index" => ReindexTarget::Index(r.name(3)?),
        "table" => ReindexTarget::Table(r.name(3)?),
        "schema" => ReindexTarget::Schema(r.name(1)?),
        // From PostgreSQL 16 the name, which must be the current
        // database's, may be left out.
        database_or_system => {
            if !r.done() {
                r.name(1)?;
            }
            if database_or_system == "database" {
                ReindexTarget::Database
            } else {
                ReindexTarget::System
            }
        }
    };
    if !r.done() {
        return None;
    }
    Some(if concurrently {
        Effect::ReindexConcurrently { target }
    } else {
        Effect::Rerunnable
    })
}

/// After `ALTER TYPE`.
fn add_enum_value(r: &mut Reader<'_, '_>) -> Option<Effect> {
    let type_name = r.name(3)?;
    if !r.eat_all(&["add", "value"]) {
        return None;
    }
    let if_not_exists = r.eat_all(&["if", "not", "exists"]);
    let label = string_value(&r.next()?)?;
    if r.eat("before") || r.eat("after") {
        string_value(&r.next()?)?;
    }
    r.done().then_some(Effect::AddEnumValue {
        type_name,
        label,
        if_not_exists,
    })
}

/// A statement's tokens, comments left out, read from the front.
pub(crate) struct Reader<'t, 'a> {
    pub(crate) tokens: &'t [Token<'a>],
    pub(crate) at: usize,
}

impl<'a> Reader<'_, 'a> {
    pub(crate) fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.at)
    }

    pub(crate) fn rest(&self) -> &[Token<'a>] {
        self.tokens.get(self.at..).unwrap_or_default()
    }

    pub(crate) fn next(&mut self) -> Option<Token<'a>> {
        let token = *self.peek()?;
        self.at += 1;
        Some(token)
    }

    pub(crate) fn done(&self) -> bool {
        self.at >= self.tokens.len()
    }

    /// Whether the next token is the keyword `keyword`.
    pub(crate) fn is(&self, keyword: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(keyword))
    }

    pub(crate) fn is_any(&self, keywords: &[&str]) -> bool {
        keywords.iter().any(|k| self.is(k))
    }

    pub(crate) fn is_paren(&self) -> bool {
        self.peek().is_some_and(|t| t.kind == TokenKind::OpenParen)
    }

    /// Takes the keyword `keyword` if it is next.
    pub(crate) fn eat(&mut self, keyword: &str) -> bool {
        let found = self.is(keyword);
        self.at += usize::from(found);
        found
    }

    /// Takes the keywords `keywords` if they are all next, in order.
    pub(crate) fn eat_all(&mut self, keywords: &[&str]) -> bool {
        let rest = self.rest();
        let found =
            rest.len() >= keywords.len() && keywords.iter().zip(rest).all(|(k, t)| t.is_word(k));
        if found {
            self.at += keywords.len();
        }
        found
    }

    pub(crate) fn expect(&mut self, keyword: &str) -> Option<()> {
        self.eat(keyword).then_some(())
    }

    pub(crate) fn eat_kind(&mut self, kind: TokenKind) -> bool {
        let found = self.peek().is_some_and(|t| t.kind == kind);
        self.at += usize::from(found);
        found
    }

    pub(crate) fn eat_operator(&mut self, text: &str) -> bool {
        let found = self
            .peek()
            .is_some_and(|t| t.kind == TokenKind::Operator && t.text == text);
        self.at += usize::from(found);
        found
    }

    /// Takes a name of one to `max` parts; `None` where the grammar or
    /// [`effect`] refuses it.
    pub(crate) fn name(&mut self, max: usize) -> Option<Name> {
        let mut written = Vec::new();
        let mut parts = Vec::new();
        loop {
            let token = self.next()?;
            parts.push(identifier(&token, parts.is_empty())?);
            written.push(token.text.to_owned());
            if !self.eat_operator(".") {
                break;
            }
        }
        let temporary = parts.len() >= 2 && parts[parts.len() - 2].starts_with("pg_temp");
        (parts.len() <= max && !temporary).then(|| Name::new(written, parts))
    }
}

/// The longest identifier the server keeps, in bytes (`NAMEDATALEN - 1`).
const MAX_IDENTIFIER: usize = 63;

/// A name's part as the server reads it. The first part of a name is a
/// `ColId` to the grammar, never a reserved keyword.
fn identifier(token: &Token<'_>, first: bool) -> Option<String> {
    let value = match token.kind {
        TokenKind::Word => {
            let lower = token.text.to_ascii_lowercase();
            if first && RESERVED.split_whitespace().any(|k| k == lower) {
                return None;
            }
            lower
        }
        // `U&"..."` needs decoding that `to_regclass` does not do.
        TokenKind::QuotedIdentifier if token.text.starts_with('"') => {
            let inner = token.text.get(1..token.text.len() - 1)?;
            inner.replace("\"\"", "\"")
        }
        _ => return None,
    };
    if value.is_empty() {
        return None;
    }
    let mut end = value.len().min(MAX_IDENTIFIER);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    Some(value[..end].to_owned())
}

/// PostgreSQL's reserved keywords and those it reserves for types and
/// functions, from version 13 to 18: none can start a name.
const RESERVED: &str = "\
    all analyse analyze and any array as asc asymmetric authorization binary \
    both case cast check collate collation column concurrently constraint create \
    cross current_catalog current_date current_role current_schema current_time \
    current_timestamp current_user default deferrable desc distinct do else end \
    except false fetch for foreign freeze from full grant group having ilike in \
    initially inner intersect into is isnull join lateral leading left like \
    limit localtime localtimestamp natural not notnull null offset on only or \
    order outer overlaps placing primary references returning right select \
    session_user similar some symmetric system_user table tablesample then to \
    trailing true union unique user using variadic verbose when where window \
    with";

/// Whether `name` is one unquoted keyword that may name a type in `CREATE
/// TYPE` but that `to_regtype` reads as a built-in type (`int` is
/// `integer`) or refuses (`values`).
fn is_type_keyword(name: &Name) -> bool {
    match (name.written.as_slice(), name.parts.as_slice()) {
        ([written], [part]) => {
            !written.starts_with('"') && COLUMN_NAME_KEYWORDS.split_whitespace().any(|k| k == part)
        }
        _ => false,
    }
}

/// PostgreSQL's keywords that may name a column but not a function or
/// type, from version 13 to 18.
const COLUMN_NAME_KEYWORDS: &str = "\
    between bigint bit boolean char character coalesce dec decimal exists \
    extract float greatest grouping inout int integer interval json json_array \
    json_arrayagg json_exists json_object json_objectagg json_query json_scalar \
    json_serialize json_table json_value least merge_action national nchar none \
    normalize nullif numeric out overlay position precision real row setof \
    smallint substring time timestamp treat trim values varchar xmlattributes \
    xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi \
    xmlroot xmlserialize xmltable";

/// The value of a string constant where the grammar takes one (`Sconst`):
/// a `'...'`, `E'...'`, `U&'...'` or dollar-quoted string, continued on
/// later lines or not. `None` for any other token, and for a value that
/// is not read with certainty (see the module's documentation).
fn string_value(token: &Token<'_>) -> Option<String> {
    let text = token.text;
    let value = match token.kind {
        TokenKind::DollarString => dollar_body(text)?.to_owned(),
        TokenKind::String => match text.as_bytes().first()? {
            b'\'' => segments(text, false)?
                .into_iter()
                .map(|s| s.replace("''", "'"))
                .collect(),
            b'e' | b'E' => {
                let mut value = String::new();
                for segment in segments(text.get(1..)?, true)? {
                    value.push_str(&escaped(segment)?);
                }
                value
            }
            b'u' | b'U' => {
                let joined: String = segments(text.get(2..)?, false)?
                    .into_iter()
                    .map(|s| s.replace("''", "'"))
                    .collect();
                unicode_escaped(&joined)?
            }
            // `B'...'` and `X'...'` are bit strings.
            _ => return None,
        },
        _ => return None,
    };
    (!value.contains('\0')).then_some(value)
}

/// The body of a dollar-quoted string.
fn dollar_body(text: &str) -> Option<&str> {
    let tag_end = text.get(1..)?.find('$')? + 2;
    let tag = text.get(..tag_end)?;
    let body = text.get(tag_end..)?.strip_suffix(tag)?;
    Some(body)
}

/// The bodies, still escaped, of the quoted pieces of one string literal
/// (`'a'` newline `'b'` is one literal), starting at its first quote; with
/// `backslash`, a backslash escapes the next character, as in `E'...'`.
fn segments(text: &str, backslash: bool) -> Option<Vec<&str>> {
    let b = text.as_bytes();
    let mut bodies = Vec::new();
    let mut i = 0;
    loop {
        if b.get(i) != Some(&b'\'') {
            return None;
        }
        let start = i + 1;
        let mut j = start;
        loop {
            match b.get(j)? {
                b'\'' if b.get(j + 1) == Some(&b'\'') => j += 2,
                b'\'' => break,
                b'\\' if backslash => j += 2,
                _ => j += 1,
            }
        }
        bodies.push(text.get(start..j)?);
        // Whitespace and `--` comments lead to the next piece.
        i = j + 1;
        loop {
            match b.get(i) {
                Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\x0b') => i += 1,
                Some(b'-') if b.get(i + 1) == Some(&b'-') => {
                    while b.get(i).is_some_and(|c| *c != b'\n' && *c != b'\r') {
                        i += 1;
                    }
                }
                _ => break,
            }
        }
        if i >= b.len() {
            return Some(bodies);
        }
    }
}

/// The value of one piece of an `E'...'` string, as the server's scanner
/// reads it: `\b \f \n \r \t`, octal `\o`..`\ooo`, hex `\xh` and `\xhh`,
/// `\uXXXX` and `\UXXXXXXXX` (surrogate pairs joined), `''`, and any other
/// character after a backslash taken as itself. An octal or hex byte must
/// be ASCII and not NUL: past ASCII, the server reads it in its encoding.
fn escaped(body: &str) -> Option<String> {
    let b = body.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut high: Option<u32> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let escape = if c == b'\\' {
            b.get(i + 1).copied()
        } else {
            None
        };
        if high.is_some() && !matches!(escape, Some(b'u' | b'U')) {
            return None;
        }
        match (c, escape) {
            (b'\'', _) => {
                out.push(b'\'');
                i += 2;
            }
            (b'\\', Some(b'0'..=b'7')) => {
                let digits = run(b, i + 1, 3, |c| matches!(c, b'0'..=b'7'));
                let value = u32::from_str_radix(body.get(i + 1..i + 1 + digits)?, 8).ok()?;
                out.push(ascii_byte(value % 256)?);
                i += 1 + digits;
            }
            (b'\\', Some(b'x')) if b.get(i + 2).is_some_and(u8::is_ascii_hexdigit) => {
                let digits = run(b, i + 2, 2, |c| c.is_ascii_hexdigit());
                let value = u32::from_str_radix(body.get(i + 2..i + 2 + digits)?, 16).ok()?;
                out.push(ascii_byte(value)?);
                i += 2 + digits;
            }
            (b'\\', Some(u @ (b'u' | b'U'))) => {
                let len = if u == b'u' { 4 } else { 8 };
                if run(b, i + 2, len, |c| c.is_ascii_hexdigit()) < len {
                    return None;
                }
                let value = u32::from_str_radix(body.get(i + 2..i + 2 + len)?, 16).ok()?;
                push_code_point(&mut out, &mut high, value)?;
                i += 2 + len;
            }
            (b'\\', Some(e)) => {
                out.push(match e {
                    b'b' => b'\x08',
                    b'f' => b'\x0c',
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    // The first byte of any other character; the rest of a
                    // multi-byte one follow as they are.
                    other => other,
                });
                i += 2;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if high.is_some() {
        return None;
    }
    String::from_utf8(out).ok()
}

/// The value of a `U&'...'` string's text (its pieces joined, `''` made
/// `'`), with `\` as the escape character: `\\`, `\XXXX`, `\+XXXXXX`,
/// surrogate pairs joined; any other backslash is refused by the server.
fn unicode_escaped(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut high: Option<u32> = None;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            if high.is_some() {
                return None;
            }
            out.push(b[i]);
            i += 1;
            continue;
        }
        let hex = |from: usize, len: usize| {
            (run(b, from, len, |c| c.is_ascii_hexdigit()) == len)
                .then(|| u32::from_str_radix(text.get(from..from + len)?, 16).ok())
                .flatten()
        };
        if b.get(i + 1) == Some(&b'\\') {
            if high.is_some() {
                return None;
            }
            out.push(b'\\');
            i += 2;
        } else if let Some(value) = hex(i + 1, 4) {
            push_code_point(&mut out, &mut high, value)?;
            i += 5;
        } else if b.get(i + 1) == Some(&b'+')
            && let Some(value) = hex(i + 2, 6)
        {
            push_code_point(&mut out, &mut high, value)?;
            i += 8;
        } else {
            return None;
        }
    }
    if high.is_some() {
        return None;
    }
    String::from_utf8(out).ok()
}

/// How many bytes from `from`, at most `max`, match `is`.
fn run(b: &[u8], from: usize, max: usize, is: impl Fn(&u8) -> bool) -> usize {
    b.iter().skip(from).take(max).take_while(|c| is(c)).count()
}

/// `value` as a byte, where it is ASCII and not NUL.
fn ascii_byte(value: u32) -> Option<u8> {
    u8::try_from(value).ok().filter(|c| (1..0x80).contains(c))
}

/// Appends the code point `value` of a Unicode escape, or keeps it in
/// `high` where it is the first half of a surrogate pair; `None` where the
/// server refuses it (NUL, past U+10FFFF, a half pair alone).
fn push_code_point(out: &mut Vec<u8>, high: &mut Option<u32>, value: u32) -> Option<()> {
    let value = match (high.take(), value) {
        (None, 0xd800..=0xdbff) => {
            *high = Some(value);
            return Some(());
        }
        (Some(first), 0xdc00..=0xdfff) => 0x10000 + ((first - 0xd800) << 10) + (value - 0xdc00),
        (Some(_), _) | (None, 0xdc00..=0xdfff) => return None,
        (None, value) => value,
    };
    let c = char::from_u32(value).filter(|c| *c != '\0')?;
    let mut buf = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Effect::{Rerunnable, Unknown};
    use ObjectKind::*;

    /// The name `sql` (one to three parts), read as a statement's names are.
    fn name(sql: &str) -> Name {
        let tokens: Vec<_> = lexer::tokens(sql)
            .map(|t| t.expect("lexes"))
            .filter(|t| !t.kind.is_comment())
            .collect();
        let mut r = Reader {
            tokens: &tokens,
            at: 0,
        };
        let name = r.name(3).unwrap_or_else(|| panic!("{sql:?} is a name"));
        assert!(r.done(), "{sql:?} is one name");
        name
    }

    fn create(kind: ObjectKind, n: &str, if_not_exists: bool, or_replace: bool) -> Effect {
        Effect::Create {
            kind,
            name: name(n),
            if_not_exists,
            or_replace,
        }
    }

    fn drop(kind: ObjectKind, names: &[&str], if_exists: bool) -> Effect {
        Effect::Drop {
            kind,
            names: names.iter().map(|n| name(n)).collect(),
            if_exists,
        }
    }

    fn index_concurrently(n: Option<&str>, table: &str, if_not_exists: bool) -> Effect {
        Effect::CreateIndexConcurrently {
            name: n.map(name),
            table: name(table),
            if_not_exists,
        }
    }

    fn reindex(target: ReindexTarget) -> Effect {
        Effect::ReindexConcurrently { target }
    }

    fn label(type_name: &str, label: &str, if_not_exists: bool) -> Effect {
        Effect::AddEnumValue {
            type_name: name(type_name),
            label: label.to_owned(),
            if_not_exists,
        }
    }

    fn check(cases: &[(&str, Effect)]) {
        for (sql, expected) in cases {
            assert_eq!(&effect(sql), expected, "{sql}");
        }
    }

    fn unknown(statements: &[&str]) {
        for sql in statements {
            assert_eq!(effect(sql), Unknown, "{sql}");
        }
    }

    #[test]
    fn names_keep_their_text_and_read_as_the_server_does() {
        let n = name("app.\"Orders\"");
        assert_eq!(n.sql(), "app.\"Orders\"");
        assert_eq!(n.parts(), ["app", "Orders"]);
        assert_eq!(n.to_string(), "app.\"Orders\"");
        let n = name("App . /* c */ Orders");
        assert_eq!(
            n.sql(),
            "App.Orders",
            "as written, without space or comment"
        );
        assert_eq!(n.parts(), ["app", "orders"]);
        let n = name("\"s\".\"t\"");
        assert_eq!(n.sql(), "\"s\".\"t\"");
        assert_eq!(n.parts(), ["s", "t"]);
        let n = name("\"Weird \"\" Name\"");
        assert_eq!(n.sql(), "\"Weird \"\" Name\"");
        assert_eq!(n.parts(), ["Weird \" Name"]);
        let n = name("db.public.t");
        assert_eq!(n.parts(), ["db", "public", "t"]);
        assert_eq!(name("CafÉ").parts(), ["cafÉ"], "ASCII letters only");
        assert_eq!(name("public.select").parts(), ["public", "select"]);
        // Cut to 63 bytes, at a character's boundary.
        let long = "a".repeat(62) + "éé";
        assert_eq!(name(&long).parts(), ["a".repeat(62)]);
        assert_eq!(name(&long).sql(), long, "the text stays whole");
        assert_eq!(name(&"B".repeat(70)).parts(), ["b".repeat(63)]);
    }

    #[test]
    fn create_index_concurrently() {
        check(&[
            (
                "CREATE INDEX CONCURRENTLY i ON t (c)",
                index_concurrently(Some("i"), "t", false),
            ),
            (
                "create index concurrently i on t (c)",
                index_concurrently(Some("i"), "t", false),
            ),
            (
                "CREATE UNIQUE INDEX CONCURRENTLY i ON t (c)",
                index_concurrently(Some("i"), "t", false),
            ),
            (
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c)",
                index_concurrently(Some("i"), "t", true),
            ),
            (
                "CREATE INDEX CONCURRENTLY ON t (c)",
                index_concurrently(None, "t", false),
            ),
            (
                "create unique index concurrently on t (lower(c)) where c is not null",
                index_concurrently(None, "t", false),
            ),
            (
                "CREATE INDEX CONCURRENTLY i ON ONLY t (c)",
                index_concurrently(Some("i"), "t", false),
            ),
            (
                "CREATE INDEX CONCURRENTLY i ON ONLY (app.t) (c)",
                index_concurrently(Some("app.i"), "app.t", false),
            ),
            (
                "CREATE INDEX CONCURRENTLY i ON t * (c)",
                index_concurrently(Some("i"), "t", false),
            ),
            (
                "CREATE INDEX CONCURRENTLY i ON t USING gin (doc jsonb_path_ops)",
                index_concurrently(Some("i"), "t", false),
            ),
            (
                "CREATE INDEX CONCURRENTLY i ON t USING \"gist\" (c)",
                index_concurrently(Some("i"), "t", false),
            ),
            (
                "CREATE INDEX CONCURRENTLY \"Orders_By_Day\" ON app.\"Orders\" (day)",
                index_concurrently(Some("app.\"Orders_By_Day\""), "app.\"Orders\"", false),
            ),
            (
                "CREATE INDEX CONCURRENTLY i ON \"s\".\"t\" (c) INCLUDE (d) WITH (fillfactor = 70)",
                index_concurrently(Some("\"s\".i"), "\"s\".\"t\"", false),
            ),
            (
                "create /* a */ index -- b\n concurrently /* c */ i on t (c)",
                index_concurrently(Some("i"), "t", false),
            ),
            (
                "CREATE INDEX CONCURRENTLY index ON t (index)",
                index_concurrently(Some("index"), "t", false),
            ),
            (
                "CREATE INDEX CONCURRENTLY if ON t (c)",
                index_concurrently(Some("if"), "t", false),
            ),
            (
                "CREATE INDEX CONCURRENTLY i ON t (c);",
                index_concurrently(Some("i"), "t", false),
            ),
        ]);
        // The index goes in its table's schema.
        let Effect::CreateIndexConcurrently {
            name: Some(index), ..
        } = effect("create index concurrently i on db.app.t (c)")
        else {
            panic!("an index");
        };
        assert_eq!(index.sql(), "db.app.i");
        assert_eq!(index.parts(), ["db", "app", "i"]);
        unknown(&[
            "CREATE INDEX CONCURRENTLY app.i ON t (c)",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ON t (c)",
            "CREATE INDEX CONCURRENTLY i ON pg_temp.t (c)",
            "CREATE INDEX CONCURRENTLY i ON t",
            "CREATE INDEX CONCURRENTLY i ON ONLY (t (c)",
            "CREATE INDEX CONCURRENTLY i t (c)",
            "CREATE OR REPLACE INDEX CONCURRENTLY i ON t (c)",
        ]);
    }

    #[test]
    fn create_index() {
        check(&[
            ("CREATE INDEX i ON t (c)", create(Index, "i", false, false)),
            (
                "create unique index if not exists i on app.t using btree (c)",
                create(Index, "app.i", true, false),
            ),
            (
                "CREATE INDEX i ON ONLY parent (c)",
                create(Index, "i", false, false),
            ),
        ]);
        // Unnamed: the server picks the name.
        unknown(&["CREATE INDEX ON t (c)", "create unique index on only t (c)"]);
    }

    #[test]
    fn drop_index_concurrently() {
        check(&[
            (
                "DROP INDEX CONCURRENTLY i",
                Effect::DropIndexConcurrently {
                    names: vec![name("i")],
                    if_exists: false,
                },
            ),
            (
                "drop index concurrently if exists app.\"I\" restrict",
                Effect::DropIndexConcurrently {
                    names: vec![name("app.\"I\"")],
                    if_exists: true,
                },
            ),
            (
                "DROP INDEX CONCURRENTLY a, s.b CASCADE",
                Effect::DropIndexConcurrently {
                    names: vec![name("a"), name("s.b")],
                    if_exists: false,
                },
            ),
        ]);
        unknown(&[
            "DROP INDEX CONCURRENTLY",
            "DROP INDEX CONCURRENTLY IF EXISTS",
            "DROP INDEX CONCURRENTLY i,",
            "DROP INDEX CONCURRENTLY i j",
            "DROP INDEX CONCURRENTLY i CASCADE RESTRICT",
        ]);
    }

    #[test]
    fn reindex_concurrently() {
        use ReindexTarget::*;
        check(&[
            ("REINDEX INDEX CONCURRENTLY i", reindex(Index(name("i")))),
            (
                "reindex table concurrently app.\"T\"",
                reindex(Table(name("app.\"T\""))),
            ),
            (
                "REINDEX SCHEMA CONCURRENTLY app",
                reindex(Schema(name("app"))),
            ),
            ("REINDEX DATABASE CONCURRENTLY app", reindex(Database)),
            ("REINDEX DATABASE CONCURRENTLY", reindex(Database)),
            ("REINDEX SYSTEM CONCURRENTLY app", reindex(System)),
            ("REINDEX (CONCURRENTLY) TABLE t", reindex(Table(name("t")))),
            (
                "REINDEX (VERBOSE, CONCURRENTLY true) INDEX i",
                reindex(Index(name("i"))),
            ),
            (
                "reindex (concurrently 1, tablespace fast) index i",
                reindex(Index(name("i"))),
            ),
            (
                "reindex (concurrently /* yes */ 'on') schema s",
                reindex(Schema(name("s"))),
            ),
            (
                "REINDEX (CONCURRENTLY false) TABLE CONCURRENTLY t",
                reindex(Table(name("t"))),
            ),
            (
                "reindex (concurrently false, concurrently) table t",
                reindex(Table(name("t"))),
            ),
        ]);
        check(&[
            ("REINDEX INDEX i", Rerunnable),
            ("REINDEX TABLE app.t", Rerunnable),
            ("REINDEX (VERBOSE) TABLE t", Rerunnable),
            ("REINDEX (CONCURRENTLY false) TABLE t", Rerunnable),
            ("REINDEX (CONCURRENTLY off) INDEX i", Rerunnable),
            ("REINDEX (CONCURRENTLY 0) INDEX i", Rerunnable),
            (
                "reindex (concurrently true, concurrently false) table t",
                Rerunnable,
            ),
            ("REINDEX SCHEMA app", Rerunnable),
            ("REINDEX DATABASE app", Rerunnable),
            ("REINDEX SYSTEM", Rerunnable),
        ]);
        unknown(&[
            "REINDEX (CONCURRENTLY 2) TABLE t",
            "REINDEX (CONCURRENTLY maybe) TABLE CONCURRENTLY t",
            "REINDEX (CONCURRENTLY TABLE t",
            "REINDEX CONCURRENTLY t",
            "REINDEX TABLE CONCURRENTLY",
            "REINDEX TABLE CONCURRENTLY a.b.c.d",
            "REINDEX SCHEMA CONCURRENTLY a.b",
            "REINDEX TABLE CONCURRENTLY t FORCE",
            "REINDEX TABLE CONCURRENTLY pg_temp.t",
        ]);
    }

    #[test]
    fn add_enum_value() {
        check(&[
            (
                "ALTER TYPE mood ADD VALUE 'happy'",
                label("mood", "happy", false),
            ),
            (
                "alter type app.\"Mood\" add value if not exists 'sad' before 'happy'",
                label("app.\"Mood\"", "sad", true),
            ),
            (
                "ALTER TYPE mood ADD VALUE 'ok' AFTER $$sad$$",
                label("mood", "ok", false),
            ),
            (
                "ALTER TYPE mood ADD VALUE 'it''s'",
                label("mood", "it's", false),
            ),
            ("ALTER TYPE mood ADD VALUE ''''", label("mood", "'", false)),
            (
                r"ALTER TYPE mood ADD VALUE 'a\b'",
                label("mood", r"a\b", false),
            ),
            ("ALTER TYPE mood ADD VALUE ''", label("mood", "", false)),
            (
                "ALTER TYPE mood ADD VALUE 'ça va'",
                label("mood", "ça va", false),
            ),
            (
                "ALTER TYPE mood ADD VALUE 'a'\n  -- it's continued\n'b'",
                label("mood", "ab", false),
            ),
            (
                "ALTER TYPE mood ADD VALUE $$it's$$",
                label("mood", "it's", false),
            ),
            (
                "ALTER TYPE mood ADD VALUE $q$a$$b$q$",
                label("mood", "a$$b", false),
            ),
            ("ALTER TYPE mood ADD VALUE $$$$", label("mood", "", false)),
            (
                "ALTER TYPE mood /* c */ ADD -- c\n VALUE /* 'x' */ 'y'",
                label("mood", "y", false),
            ),
        ]);
        unknown(&[
            "ALTER TYPE mood ADD VALUE B'1'",
            "ALTER TYPE mood ADD VALUE X'1F'",
            "ALTER TYPE mood ADD VALUE N'x'",
            "ALTER TYPE mood ADD VALUE happy",
            "ALTER TYPE mood ADD VALUE 'a' 'b'",
            "ALTER TYPE mood ADD VALUE 'a' BEFORE",
            "ALTER TYPE mood ADD VALUE 'a' BEFORE b",
            "ALTER TYPE mood ADD VALUE U&'!0041' UESCAPE '!'",
            "ALTER TYPE mood ADD VALUE 'a' BEFORE U&'!0041' UESCAPE '!'",
            "ALTER TYPE mood ADD ATTRIBUTE a int",
            "ALTER TYPE mood RENAME VALUE 'a' TO 'b'",
            "ALTER TYPE mood ADD VALUE 'a\0'",
            "ALTER TABLE mood ADD VALUE 'a'",
        ]);
    }

    /// The label of `ALTER TYPE t ADD VALUE <literal>`.
    fn literal(literal: &str) -> Option<String> {
        match effect(&format!("ALTER TYPE t ADD VALUE {literal}")) {
            Effect::AddEnumValue { label, .. } => Some(label),
            _ => None,
        }
    }

    #[test]
    fn decodes_escape_strings() {
        for (sql, value) in [
            (r"E'plain'", "plain"),
            (r"e'it''s'", "it's"),
            (r"E'it\'s'", "it's"),
            (r"E'a\\b'", r"a\b"),
            (r"E'\b\f\n\r\t'", "\x08\x0c\n\r\t"),
            (r"E'\v\a\q\x'", "vaqx"),
            (r"E'\101\0101\1012'", "A\x081A2"),
            (r"E'\x41\x4a\x4G\x7'", "AJ\x04G\x07"),
            (r"E'\u00e9\U0001F600'", "é😀"),
            (r"E'\uD83D\uDE00'", "😀"),
            ("E'\\é'", "é"),
            ("E'\\\n'", "\n"),
            ("E'a\\''\n'b'", "a'b"),
            ("E'\\1'\n'2'", "\x012"),
        ] {
            assert_eq!(literal(sql).as_deref(), Some(value), "{sql}");
        }
        for sql in [
            r"E'\0'",
            r"E'\000'",
            r"E'\400'",
            r"E'\200'",
            r"E'\xff'",
            r"E'\x00'",
            r"E'\u'",
            r"E'\u12'",
            r"E'\U0000004'",
            r"E'\u0000'",
            r"E'\U00110000'",
            r"E'\uD83D'",
            r"E'\uDE00'",
            r"E'\uD83Dx'",
            r"E'\uD83D\u0041'",
            "E'\\uD83D'\n'\\uDE00'",
        ] {
            assert_eq!(literal(sql), None, "{sql}");
        }
    }

    #[test]
    fn decodes_unicode_strings() {
        for (sql, value) in [
            (r"U&'plain'", "plain"),
            (r"u&'it''s'", "it's"),
            (r"U&'d\0061t\+000061'", "data"),
            (r"U&'\\'", r"\"),
            (r"U&'\D83D\DE00'", "😀"),
            (r"U&'\+01F600'", "😀"),
            ("U&'\\00'\n'41'", "A"),
        ] {
            assert_eq!(literal(sql).as_deref(), Some(value), "{sql}");
        }
        for sql in [
            r"U&'\'",
            r"U&'\x'",
            r"U&'\004'",
            r"U&'\+00004'",
            r"U&'\0000'",
            r"U&'\+110000'",
            r"U&'\D83D'",
            r"U&'\DE00'",
            r"U&'\D83D\\'",
            r"U&'\D83Dx'",
        ] {
            assert_eq!(literal(sql), None, "{sql}");
        }
    }

    #[test]
    fn rerunnable() {
        check(&[
            ("VACUUM", Rerunnable),
            ("vacuum (analyze, verbose) t", Rerunnable),
            ("VACUUM FULL t", Rerunnable),
            ("ANALYZE t", Rerunnable),
            ("analyse", Rerunnable),
            ("CLUSTER", Rerunnable),
            ("cluster t using i", Rerunnable),
            ("CHECKPOINT", Rerunnable),
            ("REFRESH MATERIALIZED VIEW v", Rerunnable),
            (
                "refresh materialized view concurrently app.v with data",
                Rerunnable,
            ),
            ("/* first */ VACUUM t", Rerunnable),
        ]);
        unknown(&["REFRESH v", "EXPLAIN ANALYZE SELECT 1", "select 'vacuum'"]);
    }

    #[test]
    fn create_tables() {
        check(&[
            ("CREATE TABLE t (a int)", create(Table, "t", false, false)),
            (
                "create table if not exists app.\"T\" (a int)",
                create(Table, "app.\"T\"", true, false),
            ),
            (
                "CREATE UNLOGGED TABLE t (a int)",
                create(Table, "t", false, false),
            ),
            (
                "CREATE TABLE t AS SELECT 1 AS a",
                create(Table, "t", false, false),
            ),
            (
                "CREATE TABLE IF NOT EXISTS t (a, b) AS SELECT 1, 2 WITH NO DATA",
                create(Table, "t", true, false),
            ),
            (
                "CREATE TABLE t WITH (fillfactor = 50) AS SELECT 1",
                create(Table, "t", false, false),
            ),
            (
                "CREATE TABLE t USING heap AS SELECT 1",
                create(Table, "t", false, false),
            ),
            (
                "CREATE TABLE t_2024 PARTITION OF t FOR VALUES FROM (1) TO (2)",
                create(Table, "t_2024", false, false),
            ),
            ("CREATE TABLE t OF pair", create(Table, "t", false, false)),
            (
                "CREATE TABLE t (index int, \"create\" text)",
                create(Table, "t", false, false),
            ),
            (
                "CREATE TABLE index (a int)",
                create(Table, "index", false, false),
            ),
            ("CREATE TABLE if (a int)", create(Table, "if", false, false)),
            (
                "CREATE TABLE public.select (a int)",
                create(Table, "public.select", false, false),
            ),
            (
                "CREATE FOREIGN TABLE f (a int) SERVER s",
                create(ForeignTable, "f", false, false),
            ),
            (
                "create foreign table if not exists f partition of t default server s",
                create(ForeignTable, "f", true, false),
            ),
        ]);
        unknown(&[
            "CREATE TEMP TABLE t (a int)",
            "CREATE TEMPORARY TABLE t AS SELECT 1",
            "CREATE LOCAL TEMP TABLE t (a int)",
            "CREATE GLOBAL TEMPORARY TABLE t (a int)",
            "CREATE TABLE pg_temp.t (a int)",
            "CREATE TABLE PG_TEMP_3.t (a int)",
            "CREATE OR REPLACE TABLE t (a int)",
            "CREATE TABLE select (a int)",
            "CREATE TABLE a.b.c.d (a int)",
            "CREATE TABLE t",
            "CREATE TABLE t ON COMMIT DROP",
            "CREATE TABLE \"\" (a int)",
            "CREATE TABLE U&\"t\" (a int)",
            "CREATE TABLE t. (a int)",
            "CREATE TABLE IF NOT EXISTS (a int)",
            "CREATE UNLOGGED FOREIGN TABLE f (a int) SERVER s",
        ]);
    }

    #[test]
    fn create_views_and_sequences() {
        check(&[
            ("CREATE VIEW v AS SELECT 1", create(View, "v", false, false)),
            (
                "create or replace view app.v as select 1",
                create(View, "app.v", false, true),
            ),
            (
                "CREATE VIEW v (a) WITH (security_barrier) AS SELECT 1",
                create(View, "v", false, false),
            ),
            (
                "CREATE OR REPLACE RECURSIVE VIEW v (n) AS SELECT 1",
                create(View, "v", false, true),
            ),
            (
                "CREATE MATERIALIZED VIEW mv AS SELECT 1",
                create(MaterializedView, "mv", false, false),
            ),
            (
                "create materialized view if not exists mv (a) as select 1 with no data",
                create(MaterializedView, "mv", true, false),
            ),
            ("CREATE SEQUENCE s", create(Sequence, "s", false, false)),
            (
                "CREATE UNLOGGED SEQUENCE IF NOT EXISTS app.s START 10",
                create(Sequence, "app.s", true, false),
            ),
        ]);
        unknown(&[
            "CREATE TEMP VIEW v AS SELECT 1",
            "CREATE OR REPLACE TEMPORARY VIEW v AS SELECT 1",
            "CREATE VIEW IF NOT EXISTS v AS SELECT 1",
            "CREATE UNLOGGED VIEW v AS SELECT 1",
            "CREATE VIEW v",
            "CREATE OR REPLACE MATERIALIZED VIEW mv AS SELECT 1",
            "CREATE UNLOGGED MATERIALIZED VIEW mv AS SELECT 1",
            "CREATE TEMP SEQUENCE s",
            "CREATE SEQUENCE pg_temp.s",
        ]);
    }

    #[test]
    fn create_schemas_types_and_extensions() {
        check(&[
            ("CREATE SCHEMA app", create(Schema, "app", false, false)),
            (
                "create schema if not exists \"App\"",
                create(Schema, "\"App\"", true, false),
            ),
            (
                "CREATE SCHEMA app AUTHORIZATION admin CREATE TABLE t (a int)",
                create(Schema, "app", false, false),
            ),
            (
                "CREATE EXTENSION pg_trgm",
                create(Extension, "pg_trgm", false, false),
            ),
            (
                "create extension if not exists \"uuid-ossp\" with schema public cascade",
                create(Extension, "\"uuid-ossp\"", true, false),
            ),
            (
                "CREATE TYPE mood AS ENUM ('sad', 'ok')",
                create(Type, "mood", false, false),
            ),
            (
                "CREATE TYPE app.pair AS (a int, b text)",
                create(Type, "app.pair", false, false),
            ),
            (
                "create type span as range (subtype = int4)",
                create(Type, "span", false, false),
            ),
            (
                "CREATE TYPE public.int AS ENUM ('a')",
                create(Type, "public.int", false, false),
            ),
            (
                "CREATE TYPE \"int\" AS ENUM ('a')",
                create(Type, "\"int\"", false, false),
            ),
            (
                "CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%')",
                create(Domain, "email", false, false),
            ),
            (
                "create domain app.positive int check (value > 0)",
                create(Domain, "app.positive", false, false),
            ),
        ]);
        let Effect::Create { name, .. } = effect("CREATE EXTENSION \"uuid-ossp\"") else {
            panic!("an extension");
        };
        assert_eq!(name.parts(), ["uuid-ossp"]);
        unknown(&[
            "CREATE SCHEMA AUTHORIZATION admin",
            "CREATE SCHEMA IF NOT EXISTS AUTHORIZATION admin",
            "CREATE SCHEMA a.b",
            "CREATE EXTENSION a.b",
            "CREATE TYPE shell",
            "CREATE TYPE base (INPUT = base_in, OUTPUT = base_out)",
            "CREATE TYPE IF NOT EXISTS mood AS ENUM ('a')",
            "CREATE TYPE mood AS",
            "CREATE TYPE int AS ENUM ('a')",
            "CREATE TYPE Timestamp AS (a int)",
            "CREATE DOMAIN json AS text",
            "CREATE DOMAIN d",
            "CREATE TYPE pg_temp.mood AS ENUM ('a')",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'",
            "CREATE OR REPLACE FUNCTION f(a int) RETURNS int RETURN a",
            "CREATE PROCEDURE p() LANGUAGE sql AS ''",
            "CREATE TRIGGER t AFTER INSERT ON t EXECUTE FUNCTION f()",
            "CREATE OR REPLACE TRIGGER t AFTER INSERT ON t EXECUTE FUNCTION f()",
            "CREATE ROLE r",
            "CREATE DATABASE d",
            "CREATE COLLATION c (locale = 'C')",
        ]);
    }

    #[test]
    fn drops() {
        check(&[
            ("DROP TABLE t", drop(Table, &["t"], false)),
            (
                "drop table if exists a, app.\"B\" cascade",
                drop(Table, &["a", "app.\"B\""], true),
            ),
            ("DROP TABLE cascade", drop(Table, &["cascade"], false)),
            (
                "DROP FOREIGN TABLE f RESTRICT",
                drop(ForeignTable, &["f"], false),
            ),
            ("DROP VIEW v, w", drop(View, &["v", "w"], false)),
            (
                "DROP MATERIALIZED VIEW IF EXISTS mv",
                drop(MaterializedView, &["mv"], true),
            ),
            ("DROP SEQUENCE s", drop(Sequence, &["s"], false)),
            ("DROP INDEX i, app.j", drop(Index, &["i", "app.j"], false)),
            ("DROP SCHEMA a, b CASCADE", drop(Schema, &["a", "b"], false)),
            ("DROP TYPE IF EXISTS mood", drop(Type, &["mood"], true)),
            ("DROP DOMAIN app.email", drop(Domain, &["app.email"], false)),
            (
                "drop extension if exists \"uuid-ossp\", pg_trgm",
                drop(Extension, &["\"uuid-ossp\"", "pg_trgm"], true),
            ),
            ("DROP TABLE t;", drop(Table, &["t"], false)),
        ]);
        unknown(&[
            "DROP TABLE",
            "DROP TABLE IF EXISTS",
            "DROP TABLE t,",
            "DROP TABLE t u",
            "DROP TABLE pg_temp.t",
            "DROP SCHEMA a.b",
            "DROP TYPE int[]",
            "DROP TYPE double precision",
            "DROP FUNCTION f(int)",
            "DROP DATABASE d",
            "DROP TRIGGER t ON t",
        ]);
    }

    #[test]
    fn is_not_fooled_by_what_only_looks_like_a_statement() {
        unknown(&[
            "",
            "-- CREATE TABLE t (a int)",
            "/* DROP TABLE t */",
            "ALTER TABLE t ADD COLUMN index int",
            "ALTER TABLE t RENAME COLUMN index TO idx",
            "SELECT index FROM t",
            "INSERT INTO t VALUES ('CREATE INDEX CONCURRENTLY i ON t (c)')",
            "DO $$ BEGIN CREATE TABLE t (a int); END $$",
            "CREATE TABLE t (a int); DROP TABLE t",
            "CREATE TABLE t (a int",
            "CREATE TABLE t (a int))",
            "CREATE TABLE t )a int(",
            "CREATE TABLE 't' (a int)",
            "create table t (a text default 'unterminated",
            "\"CREATE\" TABLE t (a int)",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "COMMENT ON INDEX i IS 'x'",
        ]);
    }

    #[test]
    fn kinds_say_where_the_catalog_shows_them() {
        for kind in [Table, ForeignTable, View, MaterializedView, Sequence, Index] {
            assert_eq!(kind.lookup(), Lookup::Regclass, "{kind:?}");
        }
        assert_eq!(Schema.lookup(), Lookup::Regnamespace);
        assert_eq!(Type.lookup(), Lookup::Regtype);
        assert_eq!(Domain.lookup(), Lookup::Regtype);
        assert_eq!(Extension.lookup(), Lookup::Extension);
    }
}
