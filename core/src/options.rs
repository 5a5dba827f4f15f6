//! Option lists in parentheses, read as PostgreSQL reads them: a utility
//! statement's `(NAME [value], ...)`, as in `REINDEX (VERBOSE, CONCURRENTLY
//! false)`, and a definition list's `(name [= value], ...)`, as in
//! `WITH (create_slot = false)`.
//!
//! - An option's name is a word, in any case, or a quoted identifier,
//!   which must be in lower case to match (`"concurrently"`).
//! - Where an option is given more than once, the last one counts.
//! - A boolean option without a value is true. Its value is true or false
//!   as the server's `defGetBoolean` reads it: `true`/`on`/`1` and
//!   `false`/`off`/`0`, the words in any case, quoted as an identifier or a
//!   string or not (`'off'`, `"FALSE"`), a number maybe signed (`-0`). Any
//!   other value the server refuses, whatever the statement.

use crate::lexer::{Token, TokenKind};

/// An option list: each option's name token and its value's tokens.
#[derive(Debug, Clone, Default)]
pub struct OptionList<'a> {
    options: Vec<(Token<'a>, Vec<Token<'a>>)>,
}

/// What a boolean option is set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The list does not give it.
    Absent,
    /// True.
    True,
    /// False.
    False,
    /// A value the server refuses for a boolean.
    Invalid,
}

impl Setting {
    /// The setting, with `default` for an absent option.
    pub fn or(self, default: Setting) -> Setting {
        match self {
            Setting::Absent => default,
            set => set,
        }
    }
}

/// The option list that opens at `tokens[0]` (a `(`; comments left out of
/// `tokens`), and the number of tokens it spans, its parentheses included.
pub fn read<'a>(tokens: &[Token<'a>]) -> Option<(OptionList<'a>, usize)> {
    if tokens.first()?.kind != TokenKind::OpenParen {
        return None;
    }
    let mut list = OptionList::default();
    let mut current: Vec<Token<'a>> = Vec::new();
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::OpenParen => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            TokenKind::CloseParen => {
                depth -= 1;
                if depth == 0 {
                    list.push(std::mem::take(&mut current));
                    return Some((list, i + 1));
                }
            }
            TokenKind::Operator if depth == 1 && token.text == "," => {
                list.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(*token);
    }
    // Never closed: the server refuses the statement.
    list.push(current);
    Some((list, tokens.len()))
}

impl<'a> OptionList<'a> {
    fn push(&mut self, element: Vec<Token<'a>>) {
        let Some((&name, rest)) = element.split_first() else {
            return;
        };
        let value = match rest.split_first() {
            Some((equals, value)) if equals.kind == TokenKind::Operator && equals.text == "=" => {
                value
            }
            _ => rest,
        };
        self.options.push((name, value.to_vec()));
    }

    /// Whether an option named `name` (in lower case) is in the list.
    pub fn has(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| is_name(n, name))
    }

    /// The boolean option `name` (in lower case).
    pub fn boolean(&self, name: &str) -> Setting {
        match self.options.iter().rev().find(|(n, _)| is_name(n, name)) {
            None => Setting::Absent,
            Some((_, value)) => boolean(value),
        }
    }
}

fn is_name(token: &Token<'_>, name: &str) -> bool {
    match token.kind {
        TokenKind::Word => token.text.eq_ignore_ascii_case(name),
        TokenKind::QuotedIdentifier => token.text == format!("\"{name}\""),
        _ => false,
    }
}

/// A boolean option's value, as `defGetBoolean` reads it.
fn boolean(value: &[Token<'_>]) -> Setting {
    let word = |text: &str| match text.to_ascii_lowercase().as_str() {
        "true" | "on" => Setting::True,
        "false" | "off" => Setting::False,
        _ => Setting::Invalid,
    };
    match value {
        [] => Setting::True,
        [token] => match token.kind {
            TokenKind::Word => word(token.text),
            TokenKind::QuotedIdentifier | TokenKind::String => {
                unquoted(token.text).map_or(Setting::Invalid, word)
            }
            TokenKind::Number => integer(token.text, false),
            _ => Setting::Invalid,
        },
        [sign, number]
            if sign.kind == TokenKind::Operator
                && (sign.text == "+" || sign.text == "-")
                && number.kind == TokenKind::Number =>
        {
            integer(number.text, sign.text == "-")
        }
        _ => Setting::Invalid,
    }
}

/// The text inside a quoted identifier or string, where it needs no
/// reading of escapes: `"x"`, `'x'`, `E'x'`, `U&'x'`, without a quote or a
/// backslash inside.
fn unquoted(text: &str) -> Option<&str> {
    let quoted = text
        .strip_prefix("U&")
        .or_else(|| text.strip_prefix("u&"))
        .or_else(|| text.strip_prefix(['E', 'e']))
        .unwrap_or(text);
    let quote = quoted.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = quoted.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains([quote, '\\'])).then_some(inner)
}

/// An integer value: 0 is false, 1 is true, any other is refused.
fn integer(text: &str, negative: bool) -> Setting {
    if !text.bytes().all(|c| c.is_ascii_digit()) {
        return Setting::Invalid;
    }
    match text.trim_start_matches('0') {
        "" => Setting::False,
        "1" if !negative => Setting::True,
        _ => Setting::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokens;

    fn list(sql: &str) -> (OptionList<'_>, usize) {
        let tokens: Vec<_> = tokens(sql)
            .map(|t| t.expect("lexes"))
            .filter(|t| !t.kind.is_comment())
            .collect();
        read(&tokens).expect("a list")
    }

    fn concurrently(options: &str) -> Setting {
        list(options).0.boolean("concurrently")
    }

    #[test]
    fn reads_where_the_list_ends() {
        assert_eq!(list("(verbose) table t").1, 3);
        assert_eq!(list("(a (1, 2), b) x").1, 10);
        assert_eq!(list("(a").1, 2);
        let tokens: Vec<_> = tokens("table t").map(Result::unwrap).collect();
        assert!(read(&tokens).is_none());
    }

    #[test]
    fn reads_booleans_as_the_server_does() {
        use Setting::*;
        for (options, setting) in [
            ("(CONCURRENTLY)", True),
            ("(concurrently)", True),
            ("(VERBOSE, CONCURRENTLY true)", True),
            ("(CONCURRENTLY on)", True),
            ("(CONCURRENTLY 1)", True),
            ("(CONCURRENTLY +1)", True),
            ("(CONCURRENTLY 'true')", True),
            ("(CONCURRENTLY 'On')", True),
            ("(\"concurrently\")", True),
            ("(CONCURRENTLY false)", False),
            ("(CONCURRENTLY FaLsE)", False),
            ("(CONCURRENTLY off)", False),
            ("(CONCURRENTLY 0)", False),
            ("(CONCURRENTLY 00)", False),
            ("(CONCURRENTLY -0)", False),
            ("(CONCURRENTLY 'false')", False),
            ("(CONCURRENTLY 'OFF')", False),
            ("(CONCURRENTLY E'false')", False),
            ("(CONCURRENTLY U&'off')", False),
            ("(CONCURRENTLY \"FALSE\")", False),
            ("(CONCURRENTLY /* c */ off)", False),
            ("(CONCURRENTLY true, CONCURRENTLY false)", False),
            ("(CONCURRENTLY false, CONCURRENTLY)", True),
            ("(VERBOSE)", Absent),
            ("(\"CONCURRENTLY\")", Absent),
            ("(CONCURRENTLY 2)", Invalid),
            ("(CONCURRENTLY -1)", Invalid),
            ("(CONCURRENTLY 0.0)", Invalid),
            ("(CONCURRENTLY no)", Invalid),
            ("(CONCURRENTLY '0')", Invalid),
            ("(CONCURRENTLY \"0\")", Invalid),
            ("(CONCURRENTLY E'\\x66alse')", Invalid),
        ] {
            assert_eq!(concurrently(options), setting, "{options}");
        }
    }

    #[test]
    fn reads_definition_lists() {
        let (options, _) = list("(connect = false, slot_name = 'x', enabled)");
        assert_eq!(options.boolean("connect"), Setting::False);
        assert_eq!(options.boolean("enabled"), Setting::True);
        assert_eq!(options.boolean("create_slot"), Setting::Absent);
        assert!(options.has("slot_name"));
        assert!(!options.has("x"));
        assert_eq!(list("(refresh=-0)").0.boolean("refresh"), Setting::False);
        assert_eq!(
            Setting::Absent.or(Setting::True),
            Setting::True,
            "an absent option takes the default"
        );
        assert_eq!(Setting::False.or(Setting::True), Setting::False);
    }
}
