//! A deterministic set of realistic migrations: tables with keys, checks and
//! defaults, indexes (composite, partial, unique on expressions), added
//! columns and constraints with backfills, PL/pgSQL trigger functions and SQL
//! functions in dollar quotes, views, enum types, and seeded lookup tables.
//!
//! The same seed always gives the same files, so every run of the benchmark,
//! on any machine, measures the same SQL. The first 100 migrations of the
//! 1,000 set are the 100 set.

use std::fmt::Write;

/// One migration: its version (from 1), a name made of letters, digits and
/// `_` (valid for every library), and its SQL.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: usize,
    pub name: String,
    pub sql: String,
}

/// The first `count` migrations of the sequence.
pub fn migrations(count: usize) -> Vec<Migration> {
    let mut schema = Schema {
        rng: Rng(0x0005_eed0_f5c4_e3a5),
        tables: Vec::new(),
    };
    (1..=count).map(|version| schema.next(version)).collect()
}

/// A column the generator knows about, to refer to it later.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
    Bool,
    Time,
    Other,
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<Column>,
    parent: Option<String>,
    touched: bool,
}

struct Schema {
    rng: Rng,
    tables: Vec<Table>,
}

const NOUNS: &[&str] = &[
    "accounts",
    "invoices",
    "payments",
    "shipments",
    "products",
    "orders",
    "customers",
    "suppliers",
    "warehouses",
    "tickets",
    "comments",
    "projects",
    "tasks",
    "sessions",
    "devices",
    "events",
    "subscriptions",
    "coupons",
    "reviews",
    "carts",
    "refunds",
    "teams",
];

/// Columns a new table may get beside its key, reference and timestamps.
const COLUMNS: &[(&str, &str, Kind)] = &[
    ("title", "text NOT NULL", Kind::Text),
    ("code", "varchar(32) NOT NULL", Kind::Text),
    ("note", "text", Kind::Text),
    (
        "amount_cents",
        "bigint NOT NULL DEFAULT 0 CHECK (amount_cents >= 0)",
        Kind::Int,
    ),
    ("quantity", "integer NOT NULL DEFAULT 1", Kind::Int),
    ("is_active", "boolean NOT NULL DEFAULT true", Kind::Bool),
    ("starts_at", "timestamptz", Kind::Time),
    ("payload", "jsonb NOT NULL DEFAULT '{}'::jsonb", Kind::Other),
    ("ratio", "numeric(10, 4)", Kind::Other),
    ("tags", "text[] NOT NULL DEFAULT '{}'", Kind::Other),
];

/// Columns that later migrations add to an existing table.
const ADDED: &[(&str, &str, Kind)] = &[
    ("external_ref", "text", Kind::Text),
    ("priority", "smallint NOT NULL DEFAULT 0", Kind::Int),
    ("archived", "boolean NOT NULL DEFAULT false", Kind::Bool),
    ("closed_at", "timestamptz", Kind::Time),
    ("metadata", "jsonb", Kind::Other),
    ("score", "double precision", Kind::Other),
];

impl Schema {
    fn next(&mut self, version: usize) -> Migration {
        let roll = self.rng.below(100);
        let (name, sql) = match roll {
            _ if self.tables.len() < 3 => self.create_table(version),
            0..=24 => self.create_table(version),
            25..=44 => self.add_columns(version),
            45..=59 => self.create_index(version),
            60..=69 => self.trigger_function(version),
            70..=76 => self.sql_function(version),
            77..=85 => self.view(version),
            86..=93 => self.lookup_table(version),
            _ => self.enum_type(version),
        };
        Migration { version, name, sql }
    }

    fn pick_table(&mut self) -> usize {
        // Recent tables are changed more often than old ones, as in real projects.
        let len = self.tables.len();
        let recent = len.min(30);
        if self.rng.below(4) == 0 {
            self.rng.below(len)
        } else {
            len - 1 - self.rng.below(recent)
        }
    }

    fn create_table(&mut self, version: usize) -> (String, String) {
        let noun = NOUNS[self.rng.below(NOUNS.len())];
        let name = format!("{noun}_{version:04}");
        let mut sql = format!("-- The {noun} of part {version}.\nCREATE TABLE {name} (\n");
        sql.push_str("    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n");
        let mut columns = vec![Column {
            name: "id".into(),
            kind: Kind::Int,
        }];
        let parent = if !self.tables.is_empty() && self.rng.below(10) < 6 {
            let p = self.pick_table();
            let parent = self.tables[p].name.clone();
            let _ = writeln!(
                sql,
                "    {parent}_id bigint NOT NULL REFERENCES {parent} (id) ON DELETE CASCADE,"
            );
            columns.push(Column {
                name: format!("{parent}_id"),
                kind: Kind::Int,
            });
            Some(parent)
        } else {
            None
        };
        let mut chosen: Vec<usize> = Vec::new();
        for _ in 0..2 + self.rng.below(5) {
            let i = self.rng.below(COLUMNS.len());
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        chosen.sort_unstable();
        for i in chosen {
            let (column, ty, kind) = COLUMNS[i];
            let _ = writeln!(sql, "    {column} {ty},");
            columns.push(Column {
                name: column.into(),
                kind,
            });
        }
        sql.push_str("    created_at timestamptz NOT NULL DEFAULT now()\n);\n");
        columns.push(Column {
            name: "created_at".into(),
            kind: Kind::Time,
        });
        if let Some(parent) = &parent {
            let _ = writeln!(
                sql,
                "CREATE INDEX {name}_{parent}_id_idx ON {name} ({parent}_id);"
            );
        }
        let _ = writeln!(
            sql,
            "COMMENT ON TABLE {name} IS 'Holds {noun}; see the owner''s notes.';"
        );
        self.tables.push(Table {
            name: name.clone(),
            columns,
            parent,
            touched: false,
        });
        (format!("create_{name}"), sql)
    }

    fn add_columns(&mut self, version: usize) -> (String, String) {
        let t = self.pick_table();
        let table = self.tables[t].name.clone();
        let mut sql = format!("-- New columns for {table}, filled in from existing rows.\n");
        let mut added = Vec::new();
        for k in 0..1 + self.rng.below(3) {
            let (column, ty, kind) = ADDED[self.rng.below(ADDED.len())];
            let column = format!("{column}_{version}_{k}");
            let _ = writeln!(sql, "ALTER TABLE {table} ADD COLUMN {column} {ty};");
            added.push(Column { name: column, kind });
        }
        if let Some(c) = added.iter().find(|c| c.kind == Kind::Int) {
            let _ = writeln!(
                sql,
                "ALTER TABLE {table} ADD CONSTRAINT {table}_{}_range CHECK ({} BETWEEN -100 AND 100);",
                c.name, c.name
            );
        }
        if let Some(c) = added.iter().find(|c| c.kind == Kind::Text) {
            let _ = writeln!(
                sql,
                "UPDATE {table} SET {} = 'ref-' || id::text WHERE {} IS NULL;",
                c.name, c.name
            );
        }
        self.tables[t].columns.extend(added);
        (format!("add_columns_to_{table}_{version}"), sql)
    }

    fn create_index(&mut self, version: usize) -> (String, String) {
        let t = self.pick_table();
        let table = self.tables[t].clone();
        let indexable: Vec<&Column> = table
            .columns
            .iter()
            .filter(|c| c.kind != Kind::Other && c.name != "id")
            .collect();
        let first = indexable[self.rng.below(indexable.len())].name.clone();
        let second = indexable[self.rng.below(indexable.len())].name.clone();
        let flag = table
            .columns
            .iter()
            .find(|c| c.kind == Kind::Bool)
            .map(|c| c.name.clone());
        let text = table
            .columns
            .iter()
            .find(|c| c.kind == Kind::Text)
            .map(|c| c.name.clone());
        let name = format!("{}_idx_{version}", table.name);
        let table = table.name;
        let sql = match self.rng.below(4) {
            0 if text.is_some() => {
                let text = text.unwrap_or_default();
                format!(
                    "-- Case-insensitive lookups by {text}.\n\
                     CREATE INDEX {name} ON {table} (lower({text}));\n"
                )
            }
            1 if flag.is_some() => {
                let flag = flag.unwrap_or_default();
                format!(
                    "-- Only the rows that are {flag} are searched by {first}.\n\
                     CREATE INDEX {name} ON {table} ({first}) WHERE {flag};\n"
                )
            }
            _ if first != second => {
                format!("CREATE INDEX {name} ON {table} ({first}, {second} DESC);\n")
            }
            _ => format!("CREATE INDEX {name} ON {table} ({first});\n"),
        };
        (format!("index_{table}_{version}"), sql)
    }

    fn trigger_function(&mut self, version: usize) -> (String, String) {
        let t = self.pick_table();
        let table = self.tables[t].name.clone();
        let mut sql = String::new();
        if !self.tables[t].touched {
            let _ = writeln!(
                sql,
                "ALTER TABLE {table} ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();"
            );
            self.tables[t].touched = true;
        }
        let function = format!("{table}_touch_{version}");
        let _ = write!(
            sql,
            "-- Keep {table}.updated_at current; the body holds ';' and quotes.
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();  -- set on every real change;
    END IF;
    RAISE DEBUG 'touched %: it''s done', TG_TABLE_NAME;
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS {table}_touch ON {table};
CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"
        );
        (format!("touch_{table}_{version}"), sql)
    }

    fn sql_function(&mut self, version: usize) -> (String, String) {
        let t = self.pick_table();
        let table = self.tables[t].name.clone();
        let function = format!("count_recent_{table}_{version}");
        let sql = format!(
            "-- How many {table} rows were created since a moment.
CREATE FUNCTION {function}(since timestamptz DEFAULT now() - interval '7 days')
RETURNS bigint
LANGUAGE sql STABLE AS $fn$
    SELECT count(*) FROM {table} WHERE created_at >= since; -- not the end: $$ ; $x$
$fn$;
COMMENT ON FUNCTION {function}(timestamptz) IS 'Counts {table} rows; cheap with the created_at index.';
"
        );
        (format!("function_{function}"), sql)
    }

    fn view(&mut self, version: usize) -> (String, String) {
        let t = self.pick_table();
        let table = &self.tables[t];
        let name = format!("{}_overview_{version}", table.name);
        let sql = match &table.parent {
            Some(parent) => format!(
                "CREATE VIEW {name} AS\n\
                 SELECT c.id, c.created_at, p.id AS parent_id, p.created_at AS parent_created_at\n\
                 FROM {child} c\n\
                 JOIN {parent} p ON p.id = c.{parent}_id\n\
                 WHERE c.created_at > now() - interval '90 days';\n",
                child = table.name
            ),
            None => format!(
                "CREATE VIEW {name} AS\n\
                 SELECT date_trunc('day', created_at) AS day, count(*) AS created\n\
                 FROM {table}\n\
                 GROUP BY 1;\n",
                table = table.name
            ),
        };
        (format!("view_{name}"), sql)
    }

    fn lookup_table(&mut self, version: usize) -> (String, String) {
        let name = format!("lookup_{version:04}");
        let mut sql = format!(
            "CREATE TABLE {name} (\n    code text PRIMARY KEY,\n    label text NOT NULL,\n    position integer NOT NULL\n);\n\
             INSERT INTO {name} (code, label, position) VALUES\n"
        );
        let rows = 3 + self.rng.below(10);
        for i in 0..rows {
            let end = if i + 1 == rows { ";" } else { "," };
            let _ = writeln!(sql, "    ('c{i}', 'Label {i}; it''s \"quoted\"', {i}){end}");
        }
        (format!("seed_{name}"), sql)
    }

    fn enum_type(&mut self, version: usize) -> (String, String) {
        let t = self.pick_table();
        let table = self.tables[t].name.clone();
        let ty = format!("state_{version:04}");
        let column = format!("state_{version}");
        let sql = format!(
            "CREATE TYPE {ty} AS ENUM ('draft', 'active', 'archived');\n\
             ALTER TABLE {table} ADD COLUMN {column} {ty} NOT NULL DEFAULT 'draft';\n\
             CREATE INDEX {table}_{column}_idx ON {table} ({column}) WHERE {column} <> 'archived';\n"
        );
        self.tables[t].columns.push(Column {
            name: column,
            kind: Kind::Other,
        });
        (format!("state_of_{table}_{version}"), sql)
    }
}

/// SplitMix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_deterministic_and_prefix_stable() {
        let a = migrations(1000);
        let b = migrations(100);
        assert_eq!(a.len(), 1000);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((x.version, &x.name, &x.sql), (y.version, &y.name, &y.sql));
        }
    }

    #[test]
    fn names_are_valid_for_every_library() {
        for m in migrations(1000) {
            assert!(
                m.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{}",
                m.name
            );
        }
    }
}
