//! The model written as SQL, the way the schema file holds it: objects
//! sorted, each table together with its constraints, indexes, triggers,
//! rules and policies, names relative to the home schema.
//!
//! It reads as the schema's DDL; it is not meant to be run (a foreign key
//! may name a table written after it).

use super::{Aspect, Key, Model, ObjectKind};
use std::collections::BTreeMap;

type Aspects = BTreeMap<Aspect, String>;

/// The schema file's text: a header with the digest of the migrations it
/// was made from, then the schema.
pub(crate) fn file(model: &Model, digest: &str, grants: bool) -> String {
    let mut text = String::from(
        "-- The schema the migrations build, as stowage's test helper read it from a new\n\
         -- database it applied them to. Write it again with `STOWAGE_UPDATE_SCHEMA=1\n\
         -- cargo test`, and review it with the migration that changes it. Objects in the\n\
         -- schema the migrations run in are named without it; owners, the objects of\n\
         -- extensions and stowage's own tables are left out",
    );
    text.push_str(if grants {
        ".\n"
    } else {
        ", and so are grants.\n"
    });
    text.push_str(&stowage_core::schema_file::digest_line(digest));
    text.push('\n');
    let body = sql(model);
    if !body.is_empty() {
        text.push('\n');
        text.push_str(&body);
    }
    text
}

/// The schema as SQL: one block per object (or per table with what belongs
/// to it), blocks apart by a blank line.
pub(crate) fn sql(model: &Model) -> String {
    let mut blocks: Vec<String> = Vec::new();
    let objects = &model.objects;
    let of = |kind: ObjectKind| objects.iter().filter(move |(k, _)| k.kind == kind);
    let value = |aspects: &Aspects, aspect: Aspect| aspects.get(&aspect).cloned();

    for (key, _) in of(ObjectKind::Schema) {
        blocks.push(format!("CREATE SCHEMA {};", key.name));
    }
    for (key, aspects) in of(ObjectKind::Extension) {
        let schema = value(aspects, Aspect::Schema)
            .map(|s| format!(" WITH SCHEMA {s}"))
            .unwrap_or_default();
        blocks.push(format!(
            "CREATE EXTENSION IF NOT EXISTS {}{schema};",
            key.name
        ));
    }
    for (key, aspects) in of(ObjectKind::Collation) {
        blocks.push(format!(
            "CREATE COLLATION {} ({});",
            key.qualified(),
            value(aspects, Aspect::Definition).unwrap_or_default()
        ));
    }
    for (kind, form) in [
        (ObjectKind::Enum, "AS ENUM ("),
        (ObjectKind::CompositeType, "AS ("),
        (ObjectKind::RangeType, "AS RANGE ("),
    ] {
        for (key, aspects) in of(kind) {
            let definition = value(aspects, Aspect::Definition).unwrap_or_default();
            blocks.push(format!(
                "CREATE TYPE {} {form}{definition});",
                key.qualified()
            ));
        }
    }
    for (key, aspects) in of(ObjectKind::Domain) {
        let mut block = format!(
            "CREATE DOMAIN {} AS {};",
            key.qualified(),
            value(aspects, Aspect::Definition).unwrap_or_default()
        );
        for (constraint, aspects) in members(model, ObjectKind::Constraint, key) {
            block.push_str(&format!(
                "\nALTER DOMAIN {} ADD CONSTRAINT {} {};",
                key.qualified(),
                constraint.member,
                value(aspects, Aspect::Definition).unwrap_or_default()
            ));
        }
        blocks.push(block);
    }
    for (key, aspects) in of(ObjectKind::Sequence) {
        let mut block = format!("CREATE SEQUENCE {}", key.qualified());
        if let Some(options) = value(aspects, Aspect::Definition).filter(|o| !o.is_empty()) {
            block.push(' ');
            block.push_str(&options);
        }
        block.push(';');
        if let Some(owner) = value(aspects, Aspect::OwnedBy) {
            block.push_str(&format!(
                "\nALTER SEQUENCE {} OWNED BY {owner};",
                key.qualified()
            ));
        }
        blocks.push(block);
    }
    for kind in [ObjectKind::Function, ObjectKind::Procedure] {
        for (_, aspects) in of(kind) {
            let definition = value(aspects, Aspect::Definition).unwrap_or_default();
            blocks.push(format!("{};", definition.trim_end()));
        }
    }
    for (key, aspects) in of(ObjectKind::Aggregate) {
        blocks.push(format!(
            "CREATE AGGREGATE {}{} {};",
            key.qualified(),
            key.member,
            value(aspects, Aspect::Definition).unwrap_or_default()
        ));
    }
    for (key, aspects) in of(ObjectKind::TextSearchDictionary) {
        blocks.push(format!(
            "CREATE TEXT SEARCH DICTIONARY {} ({});",
            key.qualified(),
            value(aspects, Aspect::Definition).unwrap_or_default()
        ));
    }
    for (key, aspects) in of(ObjectKind::TextSearchConfiguration) {
        let name = key.qualified();
        let mut block = format!(
            "CREATE TEXT SEARCH CONFIGURATION {name} ({});",
            value(aspects, Aspect::Definition).unwrap_or_default()
        );
        for mapping in value(aspects, Aspect::Mapping).unwrap_or_default().lines() {
            block.push_str(&format!(
                "\nALTER TEXT SEARCH CONFIGURATION {name} ADD MAPPING FOR {mapping};"
            ));
        }
        blocks.push(block);
    }
    let indexes = indexes_by_table(model);
    for (key, aspects) in of(ObjectKind::Table) {
        let mut block = table(model, key, aspects);
        related(model, key, &indexes, &mut block);
        blocks.push(block);
    }
    for (kind, create) in [
        (ObjectKind::View, "VIEW"),
        (ObjectKind::MaterializedView, "MATERIALIZED VIEW"),
    ] {
        for (key, aspects) in of(kind) {
            let options = value(aspects, Aspect::Options)
                .map(|o| format!(" WITH ({o})"))
                .unwrap_or_default();
            let definition = value(aspects, Aspect::Definition).unwrap_or_default();
            let mut block = format!(
                "CREATE {create} {}{options} AS\n{};",
                key.qualified(),
                definition.trim_end()
            );
            related(model, key, &indexes, &mut block);
            blocks.push(block);
        }
    }
    for (_, aspects) in of(ObjectKind::Statistics) {
        let definition = value(aspects, Aspect::Definition).unwrap_or_default();
        blocks.push(format!("{definition};"));
    }
    let comments: Vec<String> = of(ObjectKind::Comment)
        .map(|(key, aspects)| {
            format!(
                "COMMENT ON {} IS {};",
                key.name,
                value(aspects, Aspect::Text).unwrap_or_else(|| "NULL".to_owned())
            )
        })
        .collect();
    if !comments.is_empty() {
        blocks.push(comments.join("\n"));
    }
    let grants: Vec<String> = of(ObjectKind::Grant)
        .map(|(key, aspects)| {
            let (grantee, option) = match key.member.strip_suffix(GRANT_OPTION) {
                Some(grantee) => (grantee, GRANT_OPTION),
                None => (key.member.as_str(), ""),
            };
            format!(
                "GRANT {} ON {} TO {grantee}{option};",
                value(aspects, Aspect::Privileges).unwrap_or_default(),
                key.name
            )
        })
        .collect();
    if !grants.is_empty() {
        blocks.push(grants.join("\n"));
    }
    let mut text = blocks.join("\n\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text
}

/// What ends the grantee of a grant that may be passed on.
pub(crate) const GRANT_OPTION: &str = " WITH GRANT OPTION";

/// The `CREATE TABLE` of `key`, with its columns in their order.
fn table(model: &Model, key: &Key, aspects: &Aspects) -> String {
    let name = key.qualified();
    let partition = aspects.get(&Aspect::Partition);
    let persistence = aspects
        .get(&Aspect::Persistence)
        .map(|p| format!("{p} "))
        .unwrap_or_default();
    let mut text = match partition.filter(|p| p.starts_with("PARTITION OF ")) {
        Some(of) => partition_of(&name, &persistence, of, aspects),
        None => table_of_columns(model, key, &name, &persistence, aspects),
    };
    if let Some(security) = aspects.get(&Aspect::RowSecurity) {
        for part in security.split(", ") {
            text.push_str(&format!("\nALTER TABLE {name} {part} ROW LEVEL SECURITY;"));
        }
    }
    if let Some(identity) = aspects.get(&Aspect::ReplicaIdentity) {
        text.push_str(&format!(
            "\nALTER TABLE {name} REPLICA IDENTITY {identity};"
        ));
    }
    text
}

/// A partition's `CREATE`, with its storage options apart: its bound may
/// hold a `WITH` of its own (`FOR VALUES WITH (MODULUS 2, REMAINDER 0)`).
fn partition_of(name: &str, persistence: &str, of: &str, aspects: &Aspects) -> String {
    let mut text = format!("CREATE {persistence}TABLE {name} {of};");
    if let Some(options) = aspects.get(&Aspect::Options) {
        text.push_str(&format!("\nALTER TABLE {name} SET ({options});"));
    }
    text
}

/// The `CREATE` of a table with its columns in their order.
fn table_of_columns(
    model: &Model,
    key: &Key,
    name: &str,
    persistence: &str,
    aspects: &Aspects,
) -> String {
    let partition = aspects.get(&Aspect::Partition);
    let mut columns: Vec<(&Key, &Aspects)> = members(model, ObjectKind::Column, key).collect();
    let order: Vec<&str> = aspects
        .get(&Aspect::ColumnOrder)
        .map(|o| o.split(", ").collect())
        .unwrap_or_default();
    columns.sort_by_key(|(k, _)| {
        order
            .iter()
            .position(|c| *c == k.member)
            .unwrap_or(usize::MAX)
    });
    let lines: Vec<String> = columns
        .iter()
        .map(|(k, a)| format!("    {}", column(&k.member, a)))
        .collect();
    let mut text = if lines.is_empty() {
        format!("CREATE {persistence}TABLE {name} (\n)")
    } else {
        format!(
            "CREATE {persistence}TABLE {name} (\n{}\n)",
            lines.join(",\n")
        )
    };
    if let Some(by) = partition {
        text.push(' ');
        text.push_str(by);
    }
    if let Some(parents) = aspects.get(&Aspect::Inherits) {
        text.push_str(&format!(" INHERITS ({parents})"));
    }
    if let Some(options) = aspects.get(&Aspect::Options) {
        text.push_str(&format!(" WITH ({options})"));
    }
    text.push(';');
    text
}

/// A column's line: name, type, collation, `NOT NULL`, identity, default
/// or generated expression.
pub(crate) fn column(name: &str, aspects: &Aspects) -> String {
    let mut line = name.to_owned();
    for aspect in [
        Aspect::Type,
        Aspect::Collation,
        Aspect::NotNull,
        Aspect::Identity,
        Aspect::Default,
        Aspect::Generated,
    ] {
        let Some(value) = aspects.get(&aspect) else {
            continue;
        };
        line.push(' ');
        match aspect {
            Aspect::Collation => line.push_str("COLLATE "),
            Aspect::Default => line.push_str("DEFAULT "),
            _ => {}
        }
        line.push_str(value);
    }
    line
}

/// The table's (or view's) constraints, indexes, triggers, rules and policies,
/// each on a line of its own after it.
fn related(model: &Model, key: &Key, indexes: &BTreeMap<Key, Vec<&Key>>, block: &mut String) {
    let name = key.qualified();
    let definition = |aspects: &Aspects| {
        aspects
            .get(&Aspect::Definition)
            .cloned()
            .unwrap_or_default()
    };
    for (constraint, aspects) in members(model, ObjectKind::Constraint, key) {
        block.push_str(&format!(
            "\nALTER TABLE {name} ADD CONSTRAINT {} {};",
            constraint.member,
            definition(aspects)
        ));
    }
    let table_key = Key::new(ObjectKind::Table, key.schema.as_deref(), &key.name, "");
    for index in indexes.get(&table_key).into_iter().flatten() {
        let Some(aspects) = model.objects.get(*index) else {
            continue;
        };
        if aspects.contains_key(&Aspect::Validity) {
            block.push_str(&format!("\n{INVALID_MARK}"));
        }
        block.push_str(&format!("\n{};", definition(aspects)));
    }
    for (kind, word) in [(ObjectKind::Trigger, "TRIGGER"), (ObjectKind::Rule, "RULE")] {
        for (member, aspects) in members(model, kind, key) {
            block.push_str(&format!("\n{};", definition(aspects)));
            if let Some(state) = aspects.get(&Aspect::Enabled) {
                block.push_str(&format!(
                    "\nALTER TABLE {name} {state} {word} {};",
                    member.member
                ));
            }
        }
    }
    for (policy, aspects) in members(model, ObjectKind::Policy, key) {
        block.push_str(&format!(
            "\nCREATE POLICY {} ON {name} {};",
            policy.member,
            definition(aspects)
        ));
    }
}

/// The comment line before an INVALID index.
pub(crate) const INVALID_MARK: &str =
    "-- INVALID: a concurrent build of this index failed; queries do not use it";

/// The objects of `kind` that belong to `parent` (a table's columns, ...).
fn members<'m>(
    model: &'m Model,
    kind: ObjectKind,
    parent: &'m Key,
) -> impl Iterator<Item = (&'m Key, &'m Aspects)> + 'm {
    let start = Key::new(kind, parent.schema.as_deref(), &parent.name, "");
    model.objects.range(start..).take_while(move |(k, _)| {
        k.kind == kind && k.schema == parent.schema && k.name == parent.name
    })
}

/// Each index under the key of its table (as a [`ObjectKind::Table`] key,
/// views and materialized views included).
fn indexes_by_table(model: &Model) -> BTreeMap<Key, Vec<&Key>> {
    let mut by_table: BTreeMap<Key, Vec<&Key>> = BTreeMap::new();
    for (key, aspects) in &model.objects {
        if key.kind != ObjectKind::Index {
            continue;
        }
        let table = aspects
            .get(&Aspect::Definition)
            .and_then(|d| index_table(d))
            .unwrap_or((None, String::new()));
        by_table
            .entry(Key::new(
                ObjectKind::Table,
                table.0.as_deref(),
                &table.1,
                "",
            ))
            .or_default()
            .push(key);
    }
    by_table
}

/// The table an index definition (`CREATE INDEX i ON [ONLY] t USING ...`)
/// is on: its schema, when written, and its name.
pub(crate) fn index_table(definition: &str) -> Option<(Option<String>, String)> {
    let tokens: Vec<_> = stowage_core::lexer::tokens(definition)
        .map_while(Result::ok)
        .collect();
    let on = tokens.iter().position(|t| t.is_word("ON"))?;
    let mut rest = &tokens[on + 1..];
    if rest.first().is_some_and(|t| t.is_word("ONLY")) {
        rest = &rest[1..];
    }
    table_name(rest)
}

/// The table extended statistics are on, from their definition (`CREATE
/// STATISTICS ... FROM table`, the last `FROM`): its schema as written,
/// if any, and its name.
pub(crate) fn statistics_table(definition: &str) -> Option<(Option<String>, String)> {
    let tokens: Vec<_> = stowage_core::lexer::tokens(definition)
        .map_while(Result::ok)
        .collect();
    let from = tokens.iter().rposition(|t| t.is_word("FROM"))?;
    table_name(&tokens[from + 1..])
}

/// The table name that `tokens` start with: its schema, if written, and
/// its name.
fn table_name(tokens: &[stowage_core::lexer::Token<'_>]) -> Option<(Option<String>, String)> {
    match tokens {
        [schema, dot, name, ..] if dot.text == "." => {
            Some((Some(schema.text.to_owned()), name.text.to_owned()))
        }
        [name, ..] => Some((None, name.text.to_owned())),
        [] => None,
    }
}
