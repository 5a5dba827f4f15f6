//! Comparing a database's schema with the expected one, object by object
//! and aspect by aspect.

use crate::data::drift::{Change, Difference};
use crate::data::registry::Migrations;
use crate::data::remedy::Remedy;
use crate::data::schema::{Aspect, Key, Model, ObjectKind, collapse_whitespace};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Every way `found` differs from `expected`, both named relative to the
/// home schema `home` (shown in the differences), in the order of the
/// objects' keys. The parts of an object that is missing or extra as a
/// whole (a missing table's columns, indexes, triggers) are not listed
/// again. Runs of whitespace in what is compared count as one space.
/// A missing object is named with the migration that makes it, where a
/// `CREATE` statement of `migrations` shows which.
pub(crate) fn compare(
    expected: &Model,
    found: &Model,
    home: Option<&str>,
    migrations: Migrations,
) -> Vec<Difference> {
    let mut differences = Vec::new();
    let difference = |key: &Key, change: Change| Difference {
        kind: key.kind,
        object: key.display(home),
        made_by: (change == Change::Missing)
            .then(|| made_by(migrations, key))
            .flatten(),
        change,
    };
    // Extra objects are listed after the others of their kind.
    let mut extras = Vec::new();
    for (key, wanted, held) in side_by_side(&expected.objects, &found.objects) {
        match (wanted, held) {
            (Some(wanted), Some(held)) => {
                for change in aspects(wanted, held) {
                    differences.push(difference(key, change));
                }
            }
            (Some(wanted), None) if !parent_absent(key, wanted, found) => {
                differences.push(difference(key, Change::Missing));
            }
            (None, Some(held)) if !parent_absent(key, held, expected) => {
                extras.push(difference(key, Change::Extra));
            }
            _ => {}
        }
    }
    differences.append(&mut extras);
    differences.sort_by_key(|d| d.kind);
    differences
}

/// The first migration with a `CREATE` statement that makes the object of
/// `key`: its version and file.
fn made_by(migrations: Migrations, key: &Key) -> Option<(i64, &'static str)> {
    migrations.iter().find_map(|migration| {
        let makes_it = migration
            .up()
            .statements()
            .iter()
            .any(|statement| makes(key, statement.sql()));
        makes_it.then(|| (migration.version(), migration.up().path()))
    })
}

/// Whether `statement` creates the object of `key`.
fn makes(key: &Key, statement: &str) -> bool {
    use stowage_core::effect::{Effect, Name, ObjectKind as Made};
    use stowage_core::repeatable::{ObjectKind as Code, Part};
    let schema = key.schema.as_deref().map(unquoted);
    // A name, one part or qualified, that is `name` in the key's schema.
    let named = |n: &Name, name: &str| match n.parts() {
        [last] => last == name,
        [.., in_schema, last] => {
            last == name && (schema.is_none() || schema.as_deref() == Some(in_schema.as_str()))
        }
        [] => false,
    };
    let kind = match key.kind {
        ObjectKind::Schema => Made::Schema,
        ObjectKind::Extension => Made::Extension,
        ObjectKind::Enum | ObjectKind::CompositeType | ObjectKind::RangeType => Made::Type,
        ObjectKind::Domain => Made::Domain,
        ObjectKind::Sequence => Made::Sequence,
        ObjectKind::Table => Made::Table,
        ObjectKind::Index => Made::Index,
        ObjectKind::View => Made::View,
        ObjectKind::MaterializedView => Made::MaterializedView,
        // Functions, procedures and triggers, read as a repeatable file's
        // statements are.
        ObjectKind::Function | ObjectKind::Procedure | ObjectKind::Trigger => {
            let Ok(tokens) = stowage_core::lexer::tokens(statement).collect::<Result<Vec<_>, _>>()
            else {
                return false;
            };
            let Ok(Part::Creates(object)) = stowage_core::repeatable::read(&tokens) else {
                return false;
            };
            return match (key.kind, object.kind) {
                (ObjectKind::Function, Code::Function)
                | (ObjectKind::Procedure, Code::Procedure) => {
                    named(&object.name, &unquoted(&key.name))
                }
                // A trigger's key is its table's, with the trigger's name.
                (ObjectKind::Trigger, Code::Trigger) => {
                    object.name.parts() == [unquoted(&key.member)]
                        && object
                            .on
                            .as_ref()
                            .is_some_and(|table| named(table, &unquoted(&key.name)))
                }
                _ => false,
            };
        }
        _ => return false,
    };
    match stowage_core::effect::effect(statement) {
        Effect::Create {
            kind: made, name, ..
        } if made == kind => named(&name, &unquoted(&key.name)),
        _ => false,
    }
}

/// A name as SQL writes it, as the server reads it: without its quotes.
fn unquoted(name: &str) -> String {
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => name.to_owned(),
    }
}

/// What can be done about `differences`.
pub(crate) fn remedies(differences: &[Difference], migrations: Migrations) -> Vec<Remedy> {
    let mut remedies = Vec::new();
    if differences.iter().any(|d| d.change == Change::Missing) {
        remedies.push(Remedy::Restore);
    }
    // The transactional migrations that make what is missing, oldest first.
    let mut again: Vec<i64> = differences
        .iter()
        .filter(|d| d.change == Change::Missing)
        .filter_map(|d| d.made_by.map(|(version, _)| version))
        .filter(|v| {
            migrations
                .get(*v)
                .is_some_and(|m| m.up().is_transactional())
        })
        .collect();
    again.sort_unstable();
    again.dedup();
    remedies.extend(again.into_iter().map(|version| Remedy::Reapply { version }));
    if differences.iter().any(|d| d.change != Change::Missing) {
        remedies.push(Remedy::MigrateOrUndo);
    }
    remedies
}

/// Whether the object a member belongs to (a column's table, an index's
/// table) is itself absent from `other`, where it is reported already.
fn parent_absent(key: &Key, aspects: &BTreeMap<Aspect, String>, other: &Model) -> bool {
    let parents: Vec<Key> = if key.kind.is_member() {
        [
            ObjectKind::Table,
            ObjectKind::View,
            ObjectKind::MaterializedView,
            ObjectKind::Domain,
        ]
        .into_iter()
        .map(|kind| Key::new(kind, key.schema.as_deref(), &key.name, ""))
        .collect()
    } else if matches!(key.kind, ObjectKind::Index | ObjectKind::Statistics) {
        let table_of = if key.kind == ObjectKind::Index {
            crate::data::schema::render::index_table
        } else {
            crate::data::schema::render::statistics_table
        };
        let Some((schema, table)) = aspects.get(&Aspect::Definition).and_then(|d| table_of(d))
        else {
            return false;
        };
        [ObjectKind::Table, ObjectKind::MaterializedView]
            .into_iter()
            .map(|kind| Key::new(kind, schema.as_deref(), &table, ""))
            .collect()
    } else if key.kind == ObjectKind::Comment {
        // `VIEW name`, `COLUMN table.column` and the like: a comment on a
        // relation, or one of its columns, that is absent goes with it.
        let relation = |kinds: &[ObjectKind], name: &str| -> Vec<Key> {
            kinds
                .iter()
                .map(|kind| Key::new(*kind, key.schema.as_deref(), name, ""))
                .collect()
        };
        let relations = [
            ObjectKind::Table,
            ObjectKind::View,
            ObjectKind::MaterializedView,
        ];
        if let Some(name) = key.name.strip_prefix("MATERIALIZED VIEW ") {
            relation(&[ObjectKind::MaterializedView], name)
        } else if let Some(name) = key.name.strip_prefix("VIEW ") {
            relation(&[ObjectKind::View], name)
        } else if let Some(name) = key.name.strip_prefix("TABLE ") {
            relation(&[ObjectKind::Table], name)
        } else if let Some((table, _)) = key
            .name
            .strip_prefix("COLUMN ")
            .and_then(|c| c.rsplit_once('.'))
        {
            relation(&relations, table)
        } else {
            return false;
        }
    } else {
        return false;
    };
    !parents.iter().any(|p| other.objects.contains_key(p))
}

/// The aspects of one object that differ. A text search configuration's
/// mapping differs once for each kind of token whose dictionaries do.
fn aspects(expected: &BTreeMap<Aspect, String>, found: &BTreeMap<Aspect, String>) -> Vec<Change> {
    side_by_side(expected, found)
        .flat_map(|(&aspect, wanted, has)| {
            if aspect == Aspect::Mapping {
                mappings(wanted, has)
            } else {
                one_aspect(aspect, wanted, has).into_iter().collect()
            }
        })
        .collect()
}

/// The kinds of token whose dictionaries differ between two mappings, one
/// line each (`asciiword WITH english_stem`).
fn mappings(expected: Option<&String>, found: Option<&String>) -> Vec<Change> {
    let by_token = |mapping: Option<&String>| -> BTreeMap<String, String> {
        mapping
            .map(|m| {
                m.lines()
                    .map(|line| {
                        let line = collapse_whitespace(line);
                        let token = line.split(' ').next().unwrap_or("").to_owned();
                        (token, line)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (expected, found) = (by_token(expected), by_token(found));
    side_by_side(&expected, &found)
        .filter(|(_, wanted, has)| wanted != has)
        .map(|(_, wanted, has)| Change::Differs {
            aspect: Aspect::Mapping,
            expected: wanted.cloned(),
            found: has.cloned(),
        })
        .collect()
}

/// How one aspect differs, if it does.
fn one_aspect(aspect: Aspect, wanted: Option<&String>, has: Option<&String>) -> Option<Change> {
    let differs = if aspect == Aspect::ColumnOrder {
        column_order_differs(wanted, has)
    } else {
        !same_text(wanted, has)
    };
    let shown = |value: Option<&String>| value.map(|v| collapse_whitespace(v));
    differs.then(|| Change::Differs {
        aspect,
        expected: shown(wanted),
        found: shown(has),
    })
}

/// The keys of two maps in order, each with its value on either side: one
/// walk through both, without looking anything up.
fn side_by_side<'a, K: Ord, A, B>(
    left: &'a BTreeMap<K, A>,
    right: &'a BTreeMap<K, B>,
) -> impl Iterator<Item = (&'a K, Option<&'a A>, Option<&'a B>)> {
    let mut left = left.iter().peekable();
    let mut right = right.iter().peekable();
    std::iter::from_fn(move || {
        let order = match (left.peek(), right.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((l, _)), Some((r, _))) => l.cmp(r),
        };
        match order {
            Ordering::Less => left.next().map(|(k, a)| (k, Some(a), None)),
            Ordering::Greater => right.next().map(|(k, b)| (k, None, Some(b))),
            Ordering::Equal => {
                let (k, a) = left.next()?;
                let (_, b) = right.next()?;
                Some((k, Some(a), Some(b)))
            }
        }
    })
}

/// Whether two values are the same text once every run of whitespace in
/// them counts as one space, read without copying either.
fn same_text(expected: Option<&String>, found: Option<&String>) -> bool {
    match (expected, found) {
        (Some(a), Some(b)) => a == b || a.split_whitespace().eq(b.split_whitespace()),
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// Whether the columns both orders hold come in another order: a column
/// added or dropped is reported on its own.
fn column_order_differs(expected: Option<&String>, found: Option<&String>) -> bool {
    let split = |order: Option<&String>| -> Vec<String> {
        order
            .map(|o| {
                collapse_whitespace(o)
                    .split(", ")
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let (expected, found) = (split(expected), split(found));
    let common_in = |order: &[String], other: &[String]| -> Vec<String> {
        order
            .iter()
            .filter(|c| other.contains(c))
            .cloned()
            .collect()
    };
    common_in(&expected, &found) != common_in(&found, &expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An object: its kind, name, member and aspects.
    type Object<'a> = (ObjectKind, &'a str, &'a str, &'a [(Aspect, &'a str)]);

    /// Migrations that make nothing the tests look for.
    fn none() -> Migrations {
        crate::data::registry::for_tests(&[(1, "a", "SELECT 1", "c", true, [None; 2])])
    }

    fn model(objects: &[Object<'_>]) -> Model {
        let mut m = Model::default();
        for (kind, name, member, aspects) in objects {
            let key = Key::new(*kind, None, name, member);
            m.set(key.clone(), None, String::new());
            for (aspect, value) in *aspects {
                m.set(key.clone(), Some(*aspect), (*value).to_owned());
            }
        }
        m
    }

    const USERS: [Object<'static>; 4] = [
        (
            ObjectKind::Table,
            "users",
            "",
            &[(Aspect::ColumnOrder, "id, email")],
        ),
        (
            ObjectKind::Column,
            "users",
            "id",
            &[(Aspect::Type, "bigint"), (Aspect::NotNull, "NOT NULL")],
        ),
        (
            ObjectKind::Column,
            "users",
            "email",
            &[(Aspect::Type, "text")],
        ),
        (
            ObjectKind::Index,
            "users_email",
            "",
            &[(
                Aspect::Definition,
                "CREATE INDEX users_email ON users USING btree (email)",
            )],
        ),
    ];

    #[test]
    fn functions_procedures_and_triggers_are_found_by_the_statement_that_makes_them() {
        let function = Key::new(ObjectKind::Function, Some("app"), "touch", "");
        let trigger = Key::new(ObjectKind::Trigger, None, "orders", "\"Touch\"");
        let procedure = Key::new(ObjectKind::Procedure, None, "tidy", "");
        let touch = "CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$";
        assert!(makes(&function, touch));
        assert!(!makes(&function, &touch.replace("app.", "other.")));
        assert!(!makes(&procedure, touch));
        assert!(makes(
            &trigger,
            "CREATE TRIGGER \"Touch\" BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()"
        ));
        assert!(!makes(
            &trigger,
            "CREATE TRIGGER touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()"
        ));
        assert!(makes(
            &procedure,
            "CREATE PROCEDURE tidy() LANGUAGE sql AS 'SELECT 1'"
        ));
        assert!(!makes(&procedure, "SELECT 1"));
    }

    #[test]
    fn the_same_schema_has_no_difference_whatever_its_whitespace() {
        let mut found = model(&USERS);
        found.set(
            Key::new(ObjectKind::Index, None, "users_email", ""),
            Some(Aspect::Definition),
            "CREATE INDEX  users_email ON users\n USING btree (email)".to_owned(),
        );
        assert_eq!(compare(&model(&USERS), &found, Some("public"), none()), []);
    }

    #[test]
    fn two_maps_are_walked_side_by_side_in_key_order() {
        let left = BTreeMap::from([(1, 'a'), (3, 'c'), (4, 'd')]);
        let right = BTreeMap::from([(2, "two"), (3, "three"), (5, "five")]);
        let walked: Vec<_> = side_by_side(&left, &right).collect();
        assert_eq!(
            walked,
            [
                (&1, Some(&'a'), None),
                (&2, None, Some(&"two")),
                (&3, Some(&'c'), Some(&"three")),
                (&4, Some(&'d'), None),
                (&5, None, Some(&"five")),
            ]
        );
    }

    #[test]
    fn extra_objects_follow_the_others_of_their_kind_and_values_are_shown_collapsed() {
        let mut expected = model(&USERS);
        expected.set(
            Key::new(ObjectKind::Index, None, "users_id", ""),
            Some(Aspect::Definition),
            "CREATE INDEX users_id ON users USING btree (id)".to_owned(),
        );
        let mut found = model(&USERS);
        found.set(
            Key::new(ObjectKind::Index, None, "a_first", ""),
            Some(Aspect::Definition),
            "CREATE INDEX a_first ON users USING btree (id)".to_owned(),
        );
        found.set(
            Key::new(ObjectKind::Index, None, "users_email", ""),
            Some(Aspect::Definition),
            "CREATE INDEX users_email ON users\n    USING hash (email)".to_owned(),
        );
        let shown: Vec<String> = compare(&expected, &found, None, none())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "index users_email: definition differs\n    \
                 is:       CREATE INDEX users_email ON users USING hash (email)\n    \
                 expected: CREATE INDEX users_email ON users USING btree (email)",
                "index users_id is missing",
                "index a_first is there, but not in the schema file",
            ]
        );
    }

    #[test]
    fn a_text_search_mapping_differs_by_the_kinds_of_token_that_changed() {
        let configuration = |mapping: &str| {
            let mut m = Model::default();
            m.set(
                Key::new(ObjectKind::TextSearchConfiguration, None, "en", ""),
                Some(Aspect::Mapping),
                mapping.to_owned(),
            );
            m
        };
        let expected =
            configuration("asciiword WITH english_stem\nword WITH english_stem\nemail WITH simple");
        let found = configuration(
            "asciiword WITH unaccent, english_stem\nword WITH english_stem\nurl WITH simple",
        );
        let shown: Vec<String> = compare(&expected, &found, Some("app"), none())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "text search configuration app.en: mapping is asciiword WITH unaccent, \
                 english_stem, expected asciiword WITH english_stem",
                "text search configuration app.en: mapping is none, expected email WITH simple",
                "text search configuration app.en: mapping is url WITH simple, expected none",
            ]
        );
    }

    #[test]
    fn a_missing_table_is_reported_once_without_its_columns_and_indexes() {
        let differences = compare(&model(&USERS), &Model::default(), Some("app"), none());
        let shown: Vec<String> = differences.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["table app.users is missing"]);
        assert_eq!(remedies(&differences, none()), [Remedy::Restore]);
    }

    #[test]
    fn an_extra_column_a_changed_default_and_an_invalid_index_are_each_named() {
        let mut found = model(&USERS);
        found.set(
            Key::new(ObjectKind::Column, None, "users", "note"),
            Some(Aspect::Type),
            "text".to_owned(),
        );
        found.set(
            Key::new(ObjectKind::Table, None, "users", ""),
            Some(Aspect::ColumnOrder),
            "id, email, note".to_owned(),
        );
        found.set(
            Key::new(ObjectKind::Column, None, "users", "email"),
            Some(Aspect::Default),
            "''::text".to_owned(),
        );
        found.set(
            Key::new(ObjectKind::Index, None, "users_email", ""),
            Some(Aspect::Validity),
            "INVALID".to_owned(),
        );
        let shown: Vec<String> = compare(&model(&USERS), &found, Some("public"), none())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "column public.users.email: default is ''::text, expected none",
                "column public.users.note is there, but not in the schema file",
                "index public.users_email is INVALID: a concurrent build of it failed, and \
                 queries do not use it; drop it and create it again",
            ]
        );
    }

    #[test]
    fn a_missing_object_is_named_with_the_migration_that_makes_it() {
        let migrations = crate::data::registry::for_tests(&[
            (1, "setup", "CREATE SCHEMA app", "c1", true, [None; 2]),
            (
                2,
                "users",
                "CREATE TABLE IF NOT EXISTS \"Users\" (id int)",
                "c2",
                true,
                [None; 2],
            ),
            (
                3,
                "more",
                "CREATE TABLE app.users (id int); CREATE INDEX users_email ON users (id)",
                "c3",
                true,
                [None; 2],
            ),
        ]);
        let mut expected = Model::default();
        for key in [
            Key::new(ObjectKind::Table, None, "\"Users\"", ""),
            Key::new(ObjectKind::Table, Some("app"), "users", ""),
            Key::new(ObjectKind::Schema, None, "app", ""),
            Key::new(ObjectKind::Table, None, "orders", ""),
        ] {
            expected.set(key, None, String::new());
        }
        let shown: Vec<String> = compare(&expected, &Model::default(), Some("public"), migrations)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "schema app is missing (migration 1, m/1_setup.sql, makes it)",
                "table public.\"Users\" is missing (migration 2, m/2_users.sql, makes it)",
                "table public.orders is missing",
                "table app.users is missing (migration 3, m/3_more.sql, makes it)",
            ]
        );
    }

    #[test]
    fn columns_in_another_order_are_reported_on_the_table() {
        let mut found = model(&USERS);
        found.set(
            Key::new(ObjectKind::Table, None, "users", ""),
            Some(Aspect::ColumnOrder),
            "email, id".to_owned(),
        );
        let differences = compare(&model(&USERS), &found, None, none());
        assert_eq!(
            differences
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["table users: column order is email, id, expected id, email"]
        );
        assert_eq!(remedies(&differences, none()), [Remedy::MigrateOrUndo]);
    }
}
