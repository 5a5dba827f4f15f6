//! The schema file read back into the model: the statements that
//! [`render`](super::render) writes, and nothing else.

use super::render::{INVALID_MARK, index_table};
use super::{Aspect, Key, Model, ObjectKind, collapse_whitespace, routine_key};
use std::fmt;
use stowage_core::lexer::{self, Token, TokenKind};
use stowage_core::split::{Statement, split_tokens};

/// Why a schema file could not be read: the line of the statement, and what
/// is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Reads a schema file's text.
pub(crate) fn parse(text: &str) -> Result<Model, ParseError> {
    let tokens: Vec<Token<'_>> =
        lexer::tokens(text)
            .collect::<Result<_, _>>()
            .map_err(|e| ParseError {
                line: text[..e.start.min(text.len())].matches('\n').count() + 1,
                message: e.to_string(),
            })?;
    let mut model = Model::default();
    for statement in split_tokens(text, &tokens) {
        let first = tokens.partition_point(|t| t.start < statement.start);
        let last = tokens.partition_point(|t| t.start < statement.start + statement.text.len());
        let invalid = first > 0
            && tokens[first - 1].kind == TokenKind::LineComment
            && tokens[first - 1].text == INVALID_MARK;
        let own: Vec<Token<'_>> = tokens[first..last]
            .iter()
            .copied()
            .filter(|t| !t.kind.is_comment())
            .collect();
        let mut reader = Reader {
            text,
            statement,
            tokens: &own,
            at: 0,
            model: &mut model,
        };
        reader.statement(invalid).map_err(|message| ParseError {
            line: statement.at.line as usize,
            message: format!(
                "{message}: `{}`",
                collapse_whitespace(statement.text.lines().next().unwrap_or(""))
            ),
        })?;
    }
    Ok(model)
}

/// One statement being read.
struct Reader<'a, 'm> {
    text: &'a str,
    statement: Statement<'a>,
    tokens: &'a [Token<'a>],
    at: usize,
    model: &'m mut Model,
}

type Read<T> = Result<T, String>;

impl<'a> Reader<'a, '_> {
    fn peek(&self, word: &str) -> bool {
        self.tokens.get(self.at).is_some_and(|t| t.is_word(word))
    }

    /// Takes `word` if it comes next.
    fn eat(&mut self, word: &str) -> bool {
        let found = self.peek(word);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect(&mut self, words: &str) -> Read<()> {
        for word in words.split(' ') {
            if !self.eat(word) {
                return Err(format!("expected `{words}`"));
            }
        }
        Ok(())
    }

    /// A name as written: a word or a quoted identifier.
    fn ident(&mut self) -> Read<String> {
        match self.tokens.get(self.at) {
            Some(t) if matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdentifier) => {
                self.at += 1;
                Ok(t.text.to_owned())
            }
            _ => Err("expected a name".to_owned()),
        }
    }

    /// `name` or `schema.name`.
    fn qualified(&mut self) -> Read<(Option<String>, String)> {
        let first = self.ident()?;
        if self.tokens.get(self.at).is_some_and(|t| t.text == ".") {
            self.at += 1;
            let second = self.ident()?;
            Ok((Some(first), second))
        } else {
            Ok((None, first))
        }
    }

    /// The statement's text from the next token to its end.
    fn rest(&self) -> &'a str {
        let end = self.statement.start + self.statement.text.len();
        match self.tokens.get(self.at) {
            Some(t) => &self.text[t.start..end],
            None => "",
        }
    }

    /// The text between the parenthesis that comes next and the one that
    /// closes it; moves past them.
    fn parenthesized(&mut self) -> Read<&'a str> {
        let open = match self.tokens.get(self.at) {
            Some(t) if t.kind == TokenKind::OpenParen => *t,
            _ => return Err("expected `(`".to_owned()),
        };
        let mut depth = 0;
        for (i, t) in self.tokens.iter().enumerate().skip(self.at) {
            match t.kind {
                TokenKind::OpenParen => depth += 1,
                TokenKind::CloseParen => {
                    depth -= 1;
                    if depth == 0 {
                        self.at = i + 1;
                        return Ok(&self.text[open.end()..t.start]);
                    }
                }
                _ => {}
            }
        }
        Err("a `(` is not closed".to_owned())
    }

    /// The index of the last token that is the word `word`.
    fn last_word(&self, word: &str) -> Option<usize> {
        self.tokens.iter().rposition(|t| t.is_word(word))
    }

    /// The text of the tokens from `from` up to, not including, `to`, its
    /// whitespace made single spaces.
    fn between(&self, from: usize, to: usize) -> String {
        match (
            self.tokens.get(from),
            to.checked_sub(1).and_then(|l| self.tokens.get(l)),
        ) {
            (Some(a), Some(b)) if from < to => collapse_whitespace(&self.text[a.start..b.end()]),
            _ => String::new(),
        }
    }

    fn set(&mut self, key: Key, aspect: Option<Aspect>, value: &str) {
        self.model.set(key, aspect, value.to_owned());
    }

    fn statement(&mut self, invalid: bool) -> Read<()> {
        if self.eat("CREATE") {
            self.create(invalid)
        } else if self.eat("ALTER") {
            self.alter()
        } else if self.eat("COMMENT") {
            self.expect("ON")?;
            let is = self
                .last_word("IS")
                .ok_or("expected `IS` and the comment")?;
            let target = self.between(self.at, is);
            self.at = is + 1;
            let key = Key::new(ObjectKind::Comment, None, &target, "");
            let text = self.rest();
            self.set(key, Some(Aspect::Text), text);
            Ok(())
        } else if self.eat("GRANT") {
            let on = self.last_word("ON").ok_or("expected `ON`")?;
            let to = self.last_word("TO").ok_or("expected `TO`")?;
            let privileges = self.between(self.at, on);
            let target = self.between(on + 1, to);
            self.at = to + 1;
            let grantee = self.rest();
            let key = Key::new(ObjectKind::Grant, None, &target, grantee);
            self.set(key, Some(Aspect::Privileges), &privileges);
            Ok(())
        } else {
            Err("not a statement of a schema file".to_owned())
        }
    }

    fn create(&mut self, invalid: bool) -> Read<()> {
        if self.eat("SCHEMA") {
            let name = self.ident()?;
            self.set(Key::new(ObjectKind::Schema, None, &name, ""), None, "");
        } else if self.eat("EXTENSION") {
            self.expect("IF NOT EXISTS")?;
            let name = self.ident()?;
            let key = Key::new(ObjectKind::Extension, None, &name, "");
            if self.eat("WITH") {
                self.expect("SCHEMA")?;
                let schema = self.ident()?;
                self.set(key, Some(Aspect::Schema), &schema);
            } else {
                self.set(key, None, "");
            }
        } else if self.eat("TYPE") {
            let (schema, name) = self.qualified()?;
            self.expect("AS")?;
            let kind = if self.eat("ENUM") {
                ObjectKind::Enum
            } else if self.eat("RANGE") {
                ObjectKind::RangeType
            } else {
                ObjectKind::CompositeType
            };
            let definition = self.parenthesized()?;
            let key = Key::new(kind, schema.as_deref(), &name, "");
            self.set(key, Some(Aspect::Definition), definition);
        } else if self.eat("DOMAIN") {
            let (schema, name) = self.qualified()?;
            self.expect("AS")?;
            let key = Key::new(ObjectKind::Domain, schema.as_deref(), &name, "");
            let definition = self.rest();
            self.set(key, Some(Aspect::Definition), definition);
        } else if self.eat("SEQUENCE") {
            let (schema, name) = self.qualified()?;
            let key = Key::new(ObjectKind::Sequence, schema.as_deref(), &name, "");
            let options = self.rest();
            self.set(key, Some(Aspect::Definition), options);
        } else if self.peek("OR") || self.peek("AGGREGATE") {
            let aggregate = self.peek("AGGREGATE");
            let (schema, name, arguments) =
                routine_key(self.statement.text).ok_or("cannot read the routine's name")?;
            let kind = if aggregate {
                ObjectKind::Aggregate
            } else if self.tokens.iter().take(5).any(|t| t.is_word("PROCEDURE")) {
                ObjectKind::Procedure
            } else {
                ObjectKind::Function
            };
            let key = Key::new(kind, schema.as_deref(), &name, &arguments);
            let definition = if aggregate {
                // Past the name and the arguments' parentheses.
                self.at += 1;
                self.qualified()?;
                self.parenthesized()?;
                self.rest()
            } else {
                self.statement.text
            };
            self.set(key, Some(Aspect::Definition), definition);
        } else if self.peek("UNLOGGED") || self.peek("TABLE") {
            self.table()?;
        } else if self.peek("UNIQUE") || self.peek("INDEX") {
            let definition = self.statement.text;
            self.eat("UNIQUE");
            self.expect("INDEX")?;
            let name = self.ident()?;
            let (schema, _) = index_table(definition).ok_or("expected `ON` and a table")?;
            let key = Key::new(ObjectKind::Index, schema.as_deref(), &name, "");
            self.set(key.clone(), Some(Aspect::Definition), definition);
            if invalid {
                self.set(key, Some(Aspect::Validity), "INVALID");
            }
        } else if self.peek("TRIGGER") || self.peek("CONSTRAINT") {
            self.eat("CONSTRAINT");
            self.expect("TRIGGER")?;
            self.table_member(ObjectKind::Trigger, "ON")?;
        } else if self.eat("RULE") {
            self.table_member(ObjectKind::Rule, "TO")?;
        } else if self.eat("COLLATION") {
            self.parenthesized_definition(ObjectKind::Collation)?;
        } else if self.eat("TEXT") {
            self.expect("SEARCH")?;
            let kind = if self.eat("DICTIONARY") {
                ObjectKind::TextSearchDictionary
            } else {
                self.expect("CONFIGURATION")?;
                ObjectKind::TextSearchConfiguration
            };
            self.parenthesized_definition(kind)?;
        } else if self.eat("STATISTICS") {
            let definition = self.statement.text;
            let (schema, name) = self.qualified()?;
            let key = Key::new(ObjectKind::Statistics, schema.as_deref(), &name, "");
            self.set(key, Some(Aspect::Definition), definition);
        } else if self.eat("POLICY") {
            let name = self.ident()?;
            self.expect("ON")?;
            let (schema, table) = self.qualified()?;
            let key = Key::new(ObjectKind::Policy, schema.as_deref(), &table, &name);
            let definition = self.rest();
            self.set(key, Some(Aspect::Definition), definition);
        } else if self.peek("VIEW") || self.peek("MATERIALIZED") {
            let kind = if self.eat("MATERIALIZED") {
                ObjectKind::MaterializedView
            } else {
                ObjectKind::View
            };
            self.expect("VIEW")?;
            let (schema, name) = self.qualified()?;
            let key = Key::new(kind, schema.as_deref(), &name, "");
            if self.eat("WITH") {
                let options = self.parenthesized()?;
                self.set(key.clone(), Some(Aspect::Options), options);
            }
            let as_token = *self.tokens.get(self.at).ok_or("expected `AS`")?;
            self.expect("AS")?;
            let end = self.statement.start + self.statement.text.len();
            let after = &self.text[as_token.end()..end];
            let definition = after.strip_prefix('\n').unwrap_or(after);
            self.set(key, Some(Aspect::Definition), definition);
        } else {
            return Err("not a statement of a schema file".to_owned());
        }
        Ok(())
    }

    /// `name (definition)`, the rest of a collation's or a text search
    /// object's `CREATE`.
    fn parenthesized_definition(&mut self, kind: ObjectKind) -> Read<()> {
        let (schema, name) = self.qualified()?;
        let definition = self.parenthesized()?;
        let key = Key::new(kind, schema.as_deref(), &name, "");
        self.set(key, Some(Aspect::Definition), definition);
        Ok(())
    }

    /// A trigger's or a rule's `CREATE`, read on from its name: the table it
    /// is on follows the first word `before`.
    fn table_member(&mut self, kind: ObjectKind, before: &str) -> Read<()> {
        let definition = self.statement.text;
        let name = self.ident()?;
        while self.at < self.tokens.len() && !self.peek(before) {
            self.at += 1;
        }
        self.expect(before)?;
        let (schema, table) = self.qualified()?;
        let key = Key::new(kind, schema.as_deref(), &table, &name);
        self.set(key, Some(Aspect::Definition), definition);
        Ok(())
    }

    /// `CREATE [UNLOGGED] TABLE name (columns) [PARTITION BY ...] [INHERITS
    /// (...)] [WITH (...)]`, or `CREATE TABLE name PARTITION OF ...`.
    fn table(&mut self) -> Read<()> {
        let unlogged = self.eat("UNLOGGED");
        self.expect("TABLE")?;
        let (schema, name) = self.qualified()?;
        let key = Key::new(ObjectKind::Table, schema.as_deref(), &name, "");
        self.set(key.clone(), None, "");
        if unlogged {
            self.set(key.clone(), Some(Aspect::Persistence), "UNLOGGED");
        }
        if self.peek("PARTITION") {
            let partition = self.rest();
            self.set(key, Some(Aspect::Partition), partition);
            return Ok(());
        }
        let open = self.at;
        self.parenthesized()?;
        let columns = &self.tokens[open + 1..self.at - 1];
        let mut order = Vec::new();
        for column in split_depth0(columns, ",") {
            let name = self.column(&key, column)?;
            order.push(name);
        }
        if !order.is_empty() {
            self.set(key.clone(), Some(Aspect::ColumnOrder), &order.join(", "));
        }
        while self.at < self.tokens.len() {
            if self.peek("PARTITION") {
                let start = self.tokens[self.at].start;
                while self.at < self.tokens.len() && !self.peek("INHERITS") && !self.peek("WITH") {
                    self.skip_group();
                }
                let end = self.tokens[self.at - 1].end();
                self.set(key.clone(), Some(Aspect::Partition), &self.text[start..end]);
            } else if self.eat("INHERITS") {
                let parents = self.parenthesized()?;
                self.set(key.clone(), Some(Aspect::Inherits), parents);
            } else if self.eat("WITH") {
                let options = self.parenthesized()?;
                self.set(key.clone(), Some(Aspect::Options), options);
            } else {
                return Err("unexpected words after the columns".to_owned());
            }
        }
        Ok(())
    }

    /// Moves past the next token, or past a parenthesized group.
    fn skip_group(&mut self) {
        if self.tokens[self.at].kind == TokenKind::OpenParen {
            let _ = self.parenthesized();
        } else {
            self.at += 1;
        }
    }

    /// One column's line; returns its name.
    fn column(&mut self, table: &Key, tokens: &[Token<'a>]) -> Read<String> {
        let (first, rest) = tokens.split_first().ok_or("an empty column")?;
        let name = first.text.to_owned();
        let key = Key::new(
            ObjectKind::Column,
            table.schema.as_deref(),
            &table.name,
            &name,
        );
        let span = |from: &[Token<'a>]| -> &'a str {
            match (from.first(), from.last()) {
                (Some(a), Some(b)) => &self.text[a.start..b.end()],
                _ => "",
            }
        };
        // The words that start each part after the type, at depth 0.
        let mut depth = 0;
        let mut marks = Vec::new();
        for (i, t) in rest.iter().enumerate() {
            match t.kind {
                TokenKind::OpenParen => depth += 1,
                TokenKind::CloseParen => depth -= 1,
                _ => {}
            }
            if depth != 0 {
                continue;
            }
            let next = rest.get(i + 1);
            // `GENERATED BY DEFAULT AS IDENTITY` is no default.
            let default =
                t.is_word("DEFAULT") && !i.checked_sub(1).is_some_and(|p| rest[p].is_word("BY"));
            let starts = t.is_word("COLLATE")
                || default
                || (t.is_word("NOT") && next.is_some_and(|n| n.is_word("NULL")))
                || (t.is_word("GENERATED")
                    && next.is_some_and(|n| n.is_word("ALWAYS") || n.is_word("BY")));
            if starts {
                marks.push(i);
            }
            // A default runs to the end of the line.
            if default {
                break;
            }
        }
        let type_end = marks.first().copied().unwrap_or(rest.len());
        self.set(key.clone(), Some(Aspect::Type), span(&rest[..type_end]));
        for (n, &start) in marks.iter().enumerate() {
            let end = marks.get(n + 1).copied().unwrap_or(rest.len());
            let part = &rest[start..end];
            let (aspect, value) = if part[0].is_word("COLLATE") {
                (Aspect::Collation, span(&part[1..]))
            } else if part[0].is_word("DEFAULT") {
                (Aspect::Default, span(&part[1..]))
            } else if part[0].is_word("NOT") {
                (Aspect::NotNull, span(part))
            } else if part.iter().any(|t| t.is_word("IDENTITY")) {
                (Aspect::Identity, span(part))
            } else {
                (Aspect::Generated, span(part))
            };
            self.set(key.clone(), Some(aspect), value);
        }
        Ok(name)
    }

    fn alter(&mut self) -> Read<()> {
        if self.eat("TEXT") {
            self.expect("SEARCH CONFIGURATION")?;
            let (schema, name) = self.qualified()?;
            self.expect("ADD MAPPING FOR")?;
            let key = Key::new(
                ObjectKind::TextSearchConfiguration,
                schema.as_deref(),
                &name,
                "",
            );
            let mapping = self.rest();
            let aspects = self.model.objects.entry(key).or_default();
            let lines = aspects.entry(Aspect::Mapping).or_default();
            if !lines.is_empty() {
                lines.push('\n');
            }
            lines.push_str(mapping);
        } else if self.eat("DOMAIN") {
            let (schema, name) = self.qualified()?;
            self.expect("ADD CONSTRAINT")?;
            let constraint = self.ident()?;
            let key = Key::new(
                ObjectKind::Constraint,
                schema.as_deref(),
                &name,
                &constraint,
            );
            let definition = self.rest();
            self.set(key, Some(Aspect::Definition), definition);
        } else if self.eat("SEQUENCE") {
            let (schema, name) = self.qualified()?;
            self.expect("OWNED BY")?;
            let key = Key::new(ObjectKind::Sequence, schema.as_deref(), &name, "");
            let owner = self.rest();
            self.set(key, Some(Aspect::OwnedBy), owner);
        } else if self.eat("TABLE") {
            let (schema, name) = self.qualified()?;
            let table = Key::new(ObjectKind::Table, schema.as_deref(), &name, "");
            if self.eat("ADD") {
                self.expect("CONSTRAINT")?;
                let constraint = self.ident()?;
                let key = Key::new(
                    ObjectKind::Constraint,
                    schema.as_deref(),
                    &name,
                    &constraint,
                );
                let definition = self.rest();
                self.set(key, Some(Aspect::Definition), definition);
            } else if self.eat("SET") {
                // A partition's storage options.
                let options = self.parenthesized()?;
                self.set(table, Some(Aspect::Options), options);
            } else if self.peek("REPLICA") {
                self.expect("REPLICA IDENTITY")?;
                let identity = self.rest();
                self.set(table, Some(Aspect::ReplicaIdentity), identity);
            } else if self.peek("ENABLE") || self.peek("FORCE") || self.peek("DISABLE") {
                let rest = self.rest();
                if let Some(what) = rest.strip_suffix(" ROW LEVEL SECURITY") {
                    let previous = self
                        .model
                        .objects
                        .get(&table)
                        .and_then(|a| a.get(&Aspect::RowSecurity))
                        .cloned();
                    let value = match previous {
                        Some(previous) => format!("{previous}, {what}"),
                        None => what.to_owned(),
                    };
                    self.set(table, Some(Aspect::RowSecurity), &value);
                } else if let Some((state, rule)) = rest.rsplit_once(" RULE ") {
                    let key = Key::new(ObjectKind::Rule, schema.as_deref(), &name, rule);
                    self.set(key, Some(Aspect::Enabled), state);
                } else {
                    let (state, trigger) =
                        rest.rsplit_once(" TRIGGER ").ok_or("expected `TRIGGER`")?;
                    let key = Key::new(ObjectKind::Trigger, schema.as_deref(), &name, trigger);
                    self.set(key, Some(Aspect::Enabled), state);
                }
            } else {
                return Err("not a statement of a schema file".to_owned());
            }
        } else {
            return Err("not a statement of a schema file".to_owned());
        }
        Ok(())
    }
}

/// `tokens` cut at each `separator` outside parentheses.
fn split_depth0<'t, 'a>(tokens: &'t [Token<'a>], separator: &str) -> Vec<&'t [Token<'a>]> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            TokenKind::OpenParen => depth += 1,
            TokenKind::CloseParen => depth -= 1,
            _ if depth == 0 && t.text == separator => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < tokens.len() {
        parts.push(&tokens[start..]);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::super::render;
    use super::*;

    /// A model with an object of every kind, as the catalog reads them.
    pub(crate) fn every_kind() -> Model {
        let mut m = Model::default();
        let mut set =
            |kind, schema: Option<&str>, name: &str, member: &str, aspects: &[(Aspect, &str)]| {
                let key = Key::new(kind, schema, name, member);
                m.set(key.clone(), None, String::new());
                for (aspect, value) in aspects {
                    m.set(key.clone(), Some(*aspect), (*value).to_owned());
                }
            };
        use Aspect as A;
        use ObjectKind as K;
        set(K::Schema, None, "audit", "", &[]);
        set(K::Extension, None, "citext", "", &[]);
        set(
            K::Extension,
            None,
            "plpgsql",
            "",
            &[(A::Schema, "pg_catalog")],
        );
        set(
            K::Collation,
            None,
            "nocase",
            "",
            &[(
                A::Definition,
                "provider = icu, locale = 'und-u-ks-level2', deterministic = false",
            )],
        );
        set(
            K::Collation,
            Some("audit"),
            "bytes",
            "",
            &[(A::Definition, "provider = libc, locale = 'C'")],
        );
        set(
            K::TextSearchDictionary,
            None,
            "english_simple",
            "",
            &[(A::Definition, "TEMPLATE = simple, stopwords = 'english'")],
        );
        set(
            K::TextSearchConfiguration,
            None,
            "english_plain",
            "",
            &[
                (A::Definition, "PARSER = \"default\""),
                (
                    A::Mapping,
                    "asciiword WITH english_simple, english_stem\nword WITH english_stem",
                ),
            ],
        );
        set(
            K::TextSearchConfiguration,
            Some("audit"),
            "bare",
            "",
            &[(A::Definition, "PARSER = \"default\"")],
        );
        set(K::Enum, None, "mood", "", &[(A::Definition, "'sad', 'ok'")]);
        set(
            K::CompositeType,
            None,
            "point2",
            "",
            &[(A::Definition, "x double precision, y double precision")],
        );
        set(
            K::RangeType,
            None,
            "floatrange",
            "",
            &[(A::Definition, "SUBTYPE = double precision")],
        );
        set(
            K::Domain,
            None,
            "email",
            "",
            &[(A::Definition, "text NOT NULL DEFAULT ''::text")],
        );
        set(
            K::Constraint,
            None,
            "email",
            "email_check",
            &[(A::Definition, "CHECK ((VALUE ~~ '%@%'::text))")],
        );
        set(
            K::Sequence,
            None,
            "ticket_seq",
            "",
            &[(A::Definition, "INCREMENT BY 10 CYCLE")],
        );
        set(
            K::Sequence,
            None,
            "accounts_s_seq",
            "",
            &[(A::Definition, "AS integer"), (A::OwnedBy, "accounts.s")],
        );
        set(
            K::Function,
            None,
            "add",
            "(a integer, b integer)",
            &[(
                A::Definition,
                "CREATE OR REPLACE FUNCTION add(a integer, b integer DEFAULT 2)\n RETURNS integer\n LANGUAGE sql\n IMMUTABLE\nAS $function$ SELECT a + b; $function$",
            )],
        );
        set(
            K::Procedure,
            Some("audit"),
            "wipe",
            "()",
            &[(
                A::Definition,
                "CREATE OR REPLACE PROCEDURE audit.wipe()\n LANGUAGE sql\nAS $procedure$ DELETE FROM users $procedure$",
            )],
        );
        set(
            K::Aggregate,
            None,
            "mysum",
            "(integer)",
            &[(
                A::Definition,
                "(SFUNC = int4pl, STYPE = integer, INITCOND = '0')",
            )],
        );
        set(
            K::Table,
            None,
            "accounts",
            "",
            &[
                (A::ColumnOrder, "id, name, \"Plan\", s, twice, picked"),
                (A::RowSecurity, "ENABLE, FORCE"),
                (A::ReplicaIdentity, "FULL"),
            ],
        );
        set(
            K::Column,
            None,
            "accounts",
            "id",
            &[
                (A::Type, "bigint"),
                (A::NotNull, "NOT NULL"),
                (A::Identity, "GENERATED ALWAYS AS IDENTITY (START WITH 100)"),
            ],
        );
        set(
            K::Column,
            None,
            "accounts",
            "name",
            &[
                (A::Type, "character varying(20)"),
                (A::Collation, "\"C\""),
                (A::NotNull, "NOT NULL"),
            ],
        );
        set(
            K::Column,
            None,
            "accounts",
            "\"Plan\"",
            &[(A::Type, "text"), (A::Default, "'free, or not'::text")],
        );
        set(
            K::Column,
            None,
            "accounts",
            "s",
            &[
                (A::Type, "integer"),
                (A::NotNull, "NOT NULL"),
                (A::Default, "nextval('accounts_s_seq'::regclass)"),
            ],
        );
        set(
            K::Column,
            None,
            "accounts",
            "picked",
            &[
                (A::Type, "bigint"),
                (A::NotNull, "NOT NULL"),
                (A::Identity, "GENERATED BY DEFAULT AS IDENTITY"),
            ],
        );
        set(
            K::Column,
            None,
            "accounts",
            "twice",
            &[
                (A::Type, "bigint"),
                (A::Generated, "GENERATED ALWAYS AS ((id * 2)) STORED"),
            ],
        );
        set(
            K::Constraint,
            None,
            "accounts",
            "accounts_pkey",
            &[(A::Definition, "PRIMARY KEY (id)")],
        );
        set(
            K::Index,
            None,
            "accounts_name",
            "",
            &[
                (
                    A::Definition,
                    "CREATE UNIQUE INDEX accounts_name ON accounts USING btree (lower((name)::text))",
                ),
                (A::Validity, "INVALID"),
            ],
        );
        set(
            K::Trigger,
            None,
            "accounts",
            "touch",
            &[
                (
                    A::Definition,
                    "CREATE TRIGGER touch BEFORE UPDATE OF name ON accounts FOR EACH ROW EXECUTE FUNCTION add()",
                ),
                (A::Enabled, "DISABLE"),
            ],
        );
        set(
            K::Rule,
            None,
            "accounts",
            "keep",
            &[
                (
                    A::Definition,
                    "CREATE RULE keep AS\n    ON DELETE TO accounts DO ( UPDATE accounts SET name = old.name\n  WHERE accounts.id = 0;\n DELETE FROM n\n  WHERE n.count = 0;\n)",
                ),
                (A::Enabled, "ENABLE REPLICA"),
            ],
        );
        set(
            K::Policy,
            None,
            "accounts",
            "own",
            &[(
                A::Definition,
                "AS PERMISSIVE FOR SELECT TO public USING ((name = CURRENT_USER))",
            )],
        );
        set(
            K::Table,
            None,
            "events",
            "",
            &[
                (A::ColumnOrder, "at"),
                (A::Partition, "PARTITION BY RANGE (at)"),
                (A::Persistence, "UNLOGGED"),
            ],
        );
        set(
            K::Column,
            None,
            "events",
            "at",
            &[(A::Type, "date"), (A::NotNull, "NOT NULL")],
        );
        set(
            K::Table,
            None,
            "events_2024",
            "",
            &[(
                A::Partition,
                "PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
            )],
        );
        set(
            K::Table,
            None,
            "events_2025",
            "",
            &[
                (
                    A::Partition,
                    "PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
                ),
                (A::Persistence, "UNLOGGED"),
                (A::Options, "fillfactor=90"),
                (A::RowSecurity, "ENABLE"),
                (A::ReplicaIdentity, "FULL"),
            ],
        );
        set(
            K::Table,
            Some("audit"),
            "log",
            "",
            &[
                (A::ColumnOrder, "id"),
                (A::Inherits, "events"),
                (A::Options, "fillfactor=70"),
            ],
        );
        set(
            K::Column,
            Some("audit"),
            "log",
            "id",
            &[(A::Type, "integer")],
        );
        set(K::Table, None, "empty", "", &[]);
        set(
            K::View,
            None,
            "emails",
            "",
            &[
                (A::Definition, " SELECT name\n   FROM accounts"),
                (A::Options, "security_barrier=true"),
            ],
        );
        set(
            K::MaterializedView,
            None,
            "n",
            "",
            &[(A::Definition, " SELECT count(*) AS count\n   FROM accounts")],
        );
        set(
            K::Index,
            None,
            "n_count",
            "",
            &[(
                A::Definition,
                "CREATE INDEX n_count ON n USING btree (count)",
            )],
        );
        set(
            K::Comment,
            None,
            "COLUMN accounts.name",
            "",
            &[(A::Text, "'who, IS it'")],
        );
        set(
            K::Comment,
            None,
            "RULE keep ON accounts",
            "",
            &[(A::Text, "'deletes are kept'")],
        );
        set(
            K::Comment,
            None,
            "STATISTICS audit.seen",
            "",
            &[(A::Text, "'for the planner'")],
        );
        set(
            K::Grant,
            None,
            "TABLE accounts",
            "app WITH GRANT OPTION",
            &[(A::Privileges, "SELECT, INSERT")],
        );
        set(
            K::Statistics,
            None,
            "accounts_plan",
            "",
            &[(
                A::Definition,
                "CREATE STATISTICS accounts_plan (dependencies) ON name, \"Plan\" FROM accounts",
            )],
        );
        set(
            K::Statistics,
            Some("audit"),
            "seen",
            "",
            &[(
                A::Definition,
                "CREATE STATISTICS audit.seen ON s, (lower(name)) FROM accounts",
            )],
        );
        set(
            K::Grant,
            None,
            "TABLE accounts",
            "PUBLIC",
            &[(A::Privileges, "SELECT")],
        );
        m
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let model = every_kind();
        let text = render::sql(&model);
        let read = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for (key, aspects) in &model.objects {
            assert_eq!(read.objects.get(key), Some(aspects), "{key:?}\n{text}");
        }
        assert_eq!(read, model, "{text}");
        assert!(text.contains(
            "CREATE TABLE accounts (\n    id bigint NOT NULL GENERATED ALWAYS AS IDENTITY (START WITH 100),\n    name character varying(20) COLLATE \"C\" NOT NULL,"
        ), "{text}");
        assert!(text.contains("ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;\nALTER TABLE accounts FORCE ROW LEVEL SECURITY;\nALTER TABLE accounts REPLICA IDENTITY FULL;"), "{text}");
        assert!(
            text.contains(&format!(
                "{INVALID_MARK}\nCREATE UNIQUE INDEX accounts_name"
            )),
            "{text}"
        );
        assert!(
            text.contains(
                "CREATE TEXT SEARCH CONFIGURATION english_plain (PARSER = \"default\");\n\
                 ALTER TEXT SEARCH CONFIGURATION english_plain ADD MAPPING FOR asciiword WITH \
                 english_simple, english_stem;\n\
                 ALTER TEXT SEARCH CONFIGURATION english_plain ADD MAPPING FOR word WITH english_stem;\n"
            ),
            "{text}"
        );
        let file = render::file(&model, "d1g3st", false);
        assert_eq!(parse(&file).unwrap(), model);
        assert_eq!(
            stowage_core::schema_file::recorded_digest(&file),
            Some("d1g3st")
        );
    }

    #[test]
    fn anything_else_is_refused_with_its_line() {
        let error = parse("CREATE SCHEMA a;\n\nDROP TABLE users;\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert_eq!(
            error.to_string(),
            "line 3: not a statement of a schema file: `DROP TABLE users`"
        );
    }
}
