//! A lexer for PostgreSQL's SQL, following the server's own scanner.
//!
//! It knows where every string, quoted identifier, dollar-quoted body and
//! comment starts and ends, so a `;` or a keyword inside one of them is never
//! taken for the real thing. The rules are those of PostgreSQL 13 to 18 with
//! `standard_conforming_strings` on, the default:
//!
//! - Whitespace is space, tab, newline, carriage return, form feed and
//!   vertical tab. `--` starts a comment that runs to the end of the line;
//!   `/* */` comments nest.
//! - `'...'` strings double a quote to escape it; a backslash is an ordinary
//!   character. `E'...'` strings also take a backslash escape (`E'\''` is one
//!   string). `U&'...'` strings read as plain ones; in `B'...'` and `X'...'`
//!   strings every quote ends the string (`B'1''0'` is two strings). `N'...'`
//!   is, as to the server, the word `N` (the keyword NCHAR) and a plain
//!   string. A prefix letter counts only at the start of a token:
//!   identifiers are greedy, so `somE'x'` is the word `somE` and then a
//!   string.
//! - A string followed by whitespace that holds a newline (and maybe `--`
//!   comments, but no `/* */` one) and then `'` goes on there (`'a'` newline
//!   `'b'` is one literal), under the escape rules it started with; such a
//!   literal is one [`TokenKind::String`] token.
//! - `"..."` and `U&"..."` quoted identifiers double a `"` to escape it.
//! - `$tag$ ... $tag$` dollar quotes, the tag empty or an identifier without
//!   `$`; the body ends only at the same tag. `$1` is a parameter. Since an
//!   identifier may hold `$` after its first character, `a$b` and `x$$` are
//!   words.
//! - An operator is a run of ``~ ! @ # ^ & | ` ? + - * / % < > =`` that
//!   stops before any `--` or `/*` in it; a multi-character operator loses
//!   its trailing `+` and `-` unless it holds one of ``~ ! @ # ^ & | ` ? %``.
//!
//! The server also rejects some inputs this lexer lets through, such as a
//! number followed directly by letters (`123abc`) or an invalid escape in an
//! `E''` string; those never hide a `;`, so they do not matter for splitting,
//! and the server reports them when the statement runs.

use std::error::Error;
use std::fmt;

/// What a [`Token`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// `-- ...` up to, and not including, the end of the line.
    LineComment,
    /// `/* ... */`, nested comments included.
    BlockComment,
    /// An unquoted identifier or keyword.
    Word,
    /// `"..."` or `U&"..."`.
    QuotedIdentifier,
    /// `'...'`, with any prefix (`E`, `B`, `X`, `U&`) and any continuation
    /// on a later line.
    String,
    /// `$$...$$` or `$tag$...$tag$`.
    DollarString,
    /// A numeric literal.
    Number,
    /// `$1`, `$2`, ...
    Parameter,
    /// `;`
    Semicolon,
    /// `(`
    OpenParen,
    /// `)`
    CloseParen,
    /// An operator or any other punctuation, such as `,` `.` `::` `[` `$`.
    Operator,
}

impl TokenKind {
    /// Whether this is a comment, which the server treats as whitespace.
    pub fn is_comment(self) -> bool {
        matches!(self, TokenKind::LineComment | TokenKind::BlockComment)
    }
}

/// A piece of SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token<'a> {
    /// What it is.
    pub kind: TokenKind,
    /// Its text, exactly as in the input.
    pub text: &'a str,
    /// Its offset in the input, in bytes.
    pub start: usize,
}

impl Token<'_> {
    /// The offset in the input, in bytes, just past the token.
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }

    /// Whether this is the unquoted word `keyword`, ignoring ASCII case as
    /// the server does for keywords.
    pub fn is_word(&self, keyword: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(keyword)
    }
}

/// The kind of construct that the input ends inside of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unterminated {
    /// A `'...'` string of any kind.
    String,
    /// A `"..."` identifier.
    QuotedIdentifier,
    /// A `$tag$...$tag$` string.
    DollarString,
    /// A `/* ... */` comment.
    BlockComment,
}

impl fmt::Display for Unterminated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unterminated::String => "unterminated quoted string",
            Unterminated::QuotedIdentifier => "unterminated quoted identifier",
            Unterminated::DollarString => "unterminated dollar-quoted string",
            Unterminated::BlockComment => "unterminated /* comment",
        })
    }
}

/// Input that ends inside a string, quoted identifier or comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LexError {
    /// What is left open.
    pub kind: Unterminated,
    /// The offset, in bytes, where the open construct starts (at its prefix
    /// letter for `E'...'` and the like).
    pub start: usize,
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl Error for LexError {}

/// The tokens of `sql`, whitespace left out. Comments are tokens. The
/// iteration stops after the first error.
pub fn tokens(sql: &str) -> Tokens<'_> {
    Tokens {
        sql,
        pos: 0,
        single_until: 0,
        failed: false,
    }
}

/// The iterator returned by [`tokens`].
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    sql: &'a str,
    /// Where the next token is looked for.
    pos: usize,
    /// Up to here the input is a run of `+` and `-` left over from an
    /// operator that lost them; each is a token of its own.
    single_until: usize,
    failed: bool,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Result<Token<'a>, LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let bytes = self.sql.as_bytes();
        let start = skip_whitespace(bytes, self.pos);
        if start >= bytes.len() {
            self.pos = start;
            return None;
        }
        match self.lex(start) {
            Ok((kind, end)) => {
                self.pos = end;
                // Every end is on a character boundary: tokens stop only
                // before or after an ASCII byte, or at the end of the input.
                let text = self.sql.get(start..end).unwrap_or_default();
                Some(Ok(Token { kind, text, start }))
            }
            Err(kind) => {
                self.failed = true;
                self.pos = bytes.len();
                Some(Err(LexError { kind, start }))
            }
        }
    }
}

impl Tokens<'_> {
    /// Lexes the token at `start`, which is not whitespace, and gives its
    /// kind and end.
    fn lex(&mut self, start: usize) -> Result<(TokenKind, usize), Unterminated> {
        let b = self.sql.as_bytes();
        if start < self.single_until {
            return Ok((TokenKind::Operator, start + 1));
        }
        let c = b[start];
        let next = at(b, start + 1);
        let token = match c {
            b'-' if next == b'-' => (TokenKind::LineComment, line_end(b, start)),
            b'/' if next == b'*' => (TokenKind::BlockComment, block_comment(b, start)?),
            b'\'' => (TokenKind::String, quoted(b, start + 1, Quoting::Plain)?),
            b'"' => (
                TokenKind::QuotedIdentifier,
                identifier_quoted(b, start + 1)?,
            ),
            b'$' if next.is_ascii_digit() => (TokenKind::Parameter, digits(b, start + 1)),
            b'$' => match dollar_tag(b, start) {
                Some(tag_end) => (TokenKind::DollarString, self.dollar_body(start, tag_end)?),
                None => (TokenKind::Operator, start + 1),
            },
            b'b' | b'B' | b'x' | b'X' if next == b'\'' => {
                (TokenKind::String, quoted(b, start + 2, Quoting::Bits)?)
            }
            // The server reads `N'...'` as the keyword NCHAR and a string.
            b'n' | b'N' if next == b'\'' => (TokenKind::Word, start + 1),
            b'e' | b'E' if next == b'\'' => {
                (TokenKind::String, quoted(b, start + 2, Quoting::Escapes)?)
            }
            b'u' | b'U' if next == b'&' && at(b, start + 2) == b'\'' => {
                (TokenKind::String, quoted(b, start + 3, Quoting::Plain)?)
            }
            b'u' | b'U' if next == b'&' && at(b, start + 2) == b'"' => (
                TokenKind::QuotedIdentifier,
                identifier_quoted(b, start + 3)?,
            ),
            _ if is_ident_start(c) => (TokenKind::Word, word_end(b, start + 1)),
            b'0'..=b'9' => (TokenKind::Number, number(b, start)),
            b'.' if next.is_ascii_digit() => (TokenKind::Number, number(b, start)),
            b';' => (TokenKind::Semicolon, start + 1),
            b'(' => (TokenKind::OpenParen, start + 1),
            b')' => (TokenKind::CloseParen, start + 1),
            b':' if next == b':' || next == b'=' => (TokenKind::Operator, start + 2),
            b'.' if next == b'.' => (TokenKind::Operator, start + 2),
            _ if is_op_char(c) => (TokenKind::Operator, self.operator(start)),
            // `,` `.` `:` `[` `]`, a `$` that starts nothing, and any other
            // single ASCII character. Bytes from 0x80 up start words.
            _ => (TokenKind::Operator, start + 1),
        };
        Ok(token)
    }

    /// The end of the dollar-quoted string whose opening tag is
    /// `start..tag_end`.
    fn dollar_body(&self, start: usize, tag_end: usize) -> Result<usize, Unterminated> {
        let tag = self.sql.get(start..tag_end).unwrap_or_default();
        let body = self.sql.get(tag_end..).unwrap_or_default();
        match body.find(tag) {
            Some(i) => Ok(tag_end + i + tag.len()),
            None => Err(Unterminated::DollarString),
        }
    }

    /// The end of the operator at `start`.
    fn operator(&mut self, start: usize) -> usize {
        let b = self.sql.as_bytes();
        let mut end = start + 1;
        while end < b.len() && is_op_char(b[end]) {
            if (b[end] == b'-' && at(b, end + 1) == b'-')
                || (b[end] == b'/' && at(b, end + 1) == b'*')
            {
                break;
            }
            end += 1;
        }
        let op = &b[start..end];
        let plus_minus = |c: &u8| *c == b'+' || *c == b'-';
        if op.len() > 1
            && op.last().is_some_and(plus_minus)
            && !op.iter().any(|c| b"~!@#^&|`?%".contains(c))
        {
            // `=-` is `=` then `-`, as in SQL; the `+` and `-` given back
            // become tokens of one character each.
            let mut kept = op.len();
            while kept > 1 && plus_minus(&op[kept - 1]) {
                kept -= 1;
            }
            self.single_until = end;
            return start + kept;
        }
        end
    }
}

/// The byte at `i`, or 0 past the end (0 starts nothing that matters).
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\x0b')
}

/// Letters, `_` and every byte of a non-ASCII character.
fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_ident_cont(c: u8) -> bool {
    is_ident_start(c) || c.is_ascii_digit() || c == b'$'
}

fn is_op_char(c: u8) -> bool {
    b"~!@#^&|`?+-*/%<>=".contains(&c)
}

fn skip_whitespace(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    i
}

/// The end of a `--` comment: the next line break, or the end of input.
fn line_end(b: &[u8], start: usize) -> usize {
    b[start..]
        .iter()
        .position(|&c| c == b'\n' || c == b'\r')
        .map_or(b.len(), |i| start + i)
}

/// The end of the nesting `/* */` comment at `start`.
fn block_comment(b: &[u8], start: usize) -> Result<usize, Unterminated> {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => i += 1,
        }
    }
    Err(Unterminated::BlockComment)
}

/// How the body of a `'...'` string is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// `''` stands for a quote.
    Plain,
    /// `''` stands for a quote, and a backslash escapes the next character
    /// (`E'...'`).
    Escapes,
    /// Every quote ends the string (`B'...'`, `X'...'`): `B'1''0'` is two
    /// strings, which leaves the same text quoted as one string would.
    Bits,
}

/// The end of a `'...'` string whose body starts at `i`.
fn quoted(b: &[u8], mut i: usize, quoting: Quoting) -> Result<usize, Unterminated> {
    loop {
        match b.get(i) {
            None => return Err(Unterminated::String),
            Some(b'\'') if quoting != Quoting::Bits && at(b, i + 1) == b'\'' => i += 2,
            Some(b'\'') => match continuation(b, i + 1) {
                Some(quote) => i = quote + 1,
                None => return Ok(i + 1),
            },
            Some(b'\\') if quoting == Quoting::Escapes => {
                // Skip the escaped character whole, so the next step starts
                // on a character boundary.
                i += 1;
                match b.get(i) {
                    None => return Err(Unterminated::String),
                    Some(&c) => i += utf8_len(c),
                }
            }
            Some(_) => i += 1,
        }
    }
}

/// The length of the UTF-8 sequence that starts with `c`.
fn utf8_len(c: u8) -> usize {
    match c {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    }
}

/// After a string's closing quote at `i - 1`: the place of the quote that
/// continues the literal, if whitespace holding a newline (and maybe `--`
/// comments, but no `/* */` comment) leads to one.
fn continuation(b: &[u8], mut i: usize) -> Option<usize> {
    let mut newline = false;
    loop {
        match b.get(i)? {
            b' ' | b'\t' | b'\x0c' | b'\x0b' => i += 1,
            b'\n' | b'\r' => {
                newline = true;
                i += 1;
            }
            b'-' if at(b, i + 1) == b'-' => i = line_end(b, i),
            b'\'' if newline => return Some(i),
            _ => return None,
        }
    }
}

/// The end of a `"..."` identifier whose body starts at `i`.
fn identifier_quoted(b: &[u8], mut i: usize) -> Result<usize, Unterminated> {
    loop {
        match b.get(i) {
            None => return Err(Unterminated::QuotedIdentifier),
            Some(b'"') if at(b, i + 1) == b'"' => i += 2,
            Some(b'"') => return Ok(i + 1),
            Some(_) => i += 1,
        }
    }
}

/// The end of a dollar-quote tag (`$$`, `$name$`) at `start`, if there is
/// one.
fn dollar_tag(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if is_ident_start(at(b, i)) {
        i += 1;
        while is_ident_start(at(b, i)) || at(b, i).is_ascii_digit() {
            i += 1;
        }
    }
    (at(b, i) == b'$').then_some(i + 1)
}

fn word_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_ident_cont(b[i]) {
        i += 1;
    }
    i
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while at(b, i).is_ascii_digit() {
        i += 1;
    }
    i
}

/// Digits of `radix`, each maybe after one `_` (`1_000`), from `i`.
fn digit_run(b: &[u8], mut i: usize, radix: u32) -> usize {
    let is_digit = |c: u8| char::from(c).is_digit(radix);
    loop {
        if is_digit(at(b, i)) {
            i += 1;
        } else if at(b, i) == b'_' && is_digit(at(b, i + 1)) {
            i += 2;
        } else {
            return i;
        }
    }
}

/// The end of the number at `start` (a digit, or `.` and a digit). Letters
/// right after it are left for the next token: the server rejects them
/// (`123abc`) from version 15 and reads them as a separate word before.
fn number(b: &[u8], start: usize) -> usize {
    let radix = match at(b, start + 1) {
        b'x' | b'X' => 16,
        b'o' | b'O' => 8,
        b'b' | b'B' => 2,
        _ => 10,
    };
    if b[start] == b'0' && radix != 10 {
        let end = digit_run(b, start + 2, radix);
        if end > start + 2 {
            return end;
        }
    }
    let mut i = start;
    if b[i] != b'.' {
        i = digit_run(b, i, 10);
    }
    // `1..10` is `1`, `..`, `10`.
    if at(b, i) == b'.' && at(b, i + 1) != b'.' {
        i = digit_run(b, i + 1, 10);
    }
    if matches!(at(b, i), b'e' | b'E') {
        let mut j = i + 1;
        if matches!(at(b, j), b'+' | b'-') {
            j += 1;
        }
        if at(b, j).is_ascii_digit() {
            i = digit_run(b, j, 10);
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind::*;

    /// The kind and text of every token, comments included.
    fn lex(sql: &str) -> Vec<(TokenKind, &str)> {
        tokens(sql)
            .map(|t| {
                let t = t.unwrap_or_else(|e| panic!("{sql:?}: {e} at {}", e.start));
                assert_eq!(&sql[t.start..t.end()], t.text);
                (t.kind, t.text)
            })
            .collect()
    }

    fn error(sql: &str) -> LexError {
        let mut it = tokens(sql);
        let e = it
            .by_ref()
            .find_map(Result::err)
            .unwrap_or_else(|| panic!("{sql:?} lexed"));
        assert_eq!(it.next(), None, "no token after an error");
        e
    }

    fn err(kind: Unterminated, start: usize) -> LexError {
        LexError { kind, start }
    }

    #[test]
    fn skips_whitespace() {
        assert_eq!(lex(""), []);
        assert_eq!(lex(" \t\n\r\x0c\x0b"), []);
        assert_eq!(lex("a\x0bb"), [(Word, "a"), (Word, "b")]);
        let t: Vec<_> = tokens("  select\n 1").map(Result::unwrap).collect();
        assert_eq!(t[0].start, 2);
        assert_eq!(t[1].start, 10);
        assert_eq!(t[1].end(), 11);
    }

    #[test]
    fn line_comments() {
        assert_eq!(
            lex("a -- b; 'c\nd"),
            [(Word, "a"), (LineComment, "-- b; 'c"), (Word, "d")]
        );
        assert_eq!(lex("a --"), [(Word, "a"), (LineComment, "--")]);
        assert_eq!(lex("-- eof"), [(LineComment, "-- eof")]);
        assert_eq!(lex("--a\rb"), [(LineComment, "--a"), (Word, "b")]);
        assert_eq!(lex("--a\r\nb"), [(LineComment, "--a"), (Word, "b")]);
    }

    #[test]
    fn block_comments_nest() {
        assert_eq!(
            lex("a /* b /* c; */ d */ e"),
            [
                (Word, "a"),
                (BlockComment, "/* b /* c; */ d */"),
                (Word, "e")
            ]
        );
        assert_eq!(lex("/**/x"), [(BlockComment, "/**/"), (Word, "x")]);
        assert_eq!(lex("/* **/"), [(BlockComment, "/* **/")]);
        assert_eq!(lex("/*/ */"), [(BlockComment, "/*/ */")]);
        assert_eq!(lex("/* */*/"), [(BlockComment, "/* */"), (Operator, "*/")]);
        assert_eq!(
            lex("/* -- ; ' \" $$ */;"),
            [(BlockComment, "/* -- ; ' \" $$ */"), (Semicolon, ";")]
        );
        assert_eq!(error("/* a /* b */"), err(Unterminated::BlockComment, 0));
        assert_eq!(error("x /*/"), err(Unterminated::BlockComment, 2));
        assert_eq!(error("x /*"), err(Unterminated::BlockComment, 2));
    }

    #[test]
    fn standard_strings() {
        assert_eq!(lex("'a;b'"), [(String, "'a;b'")]);
        assert_eq!(lex("'it''s'"), [(String, "'it''s'")]);
        assert_eq!(lex("''''"), [(String, "''''")]);
        assert_eq!(lex("''"), [(String, "''")]);
        assert_eq!(lex(r"'a\'"), [(String, r"'a\'")]);
        assert_eq!(
            lex("'--' '/*' '$$' ';'"),
            [
                (String, "'--'"),
                (String, "'/*'"),
                (String, "'$$'"),
                (String, "';'")
            ]
        );
        assert_eq!(error(r"x 'a\''"), err(Unterminated::String, 2));
        assert_eq!(error("'abc"), err(Unterminated::String, 0));
        assert_eq!(error("'it''"), err(Unterminated::String, 0));
    }

    #[test]
    fn escape_strings() {
        assert_eq!(lex(r"E'\''"), [(String, r"E'\''")]);
        assert_eq!(lex(r"e'a\\' x"), [(String, r"e'a\\'"), (Word, "x")]);
        assert_eq!(lex(r"E'it''s'"), [(String, r"E'it''s'")]);
        assert_eq!(
            lex(r"E'\n\t\x41\101\u0041'"),
            [(String, r"E'\n\t\x41\101\u0041'")]
        );
        assert_eq!(lex("E'\\é'"), [(String, "E'\\é'")]);
        assert_eq!(error(r"E'\'"), err(Unterminated::String, 0));
        assert_eq!(error("x E'\\"), err(Unterminated::String, 2));
    }

    #[test]
    fn prefixed_strings() {
        assert_eq!(lex("B'01'"), [(String, "B'01'")]);
        assert_eq!(lex("b'01'"), [(String, "b'01'")]);
        assert_eq!(lex("X'1F'"), [(String, "X'1F'")]);
        assert_eq!(lex("x'1f'"), [(String, "x'1f'")]);
        assert_eq!(lex("N'ñ'"), [(Word, "N"), (String, "'ñ'")]);
        assert_eq!(lex("n'a'"), [(Word, "n"), (String, "'a'")]);
        assert_eq!(lex(r"U&'d\0061t'"), [(String, r"U&'d\0061t'")]);
        assert_eq!(lex(r"u&'\'"), [(String, r"u&'\'")]);
        assert_eq!(lex(r"B'\'"), [(String, r"B'\'")]);
        assert_eq!(lex("B'a''b'"), [(String, "B'a'"), (String, "'b'")]);
        assert_eq!(lex("x'''e'"), [(String, "x''"), (String, "'e'")]);
        assert_eq!(lex("B'1'\n'0'"), [(String, "B'1'\n'0'")]);
        assert_eq!(error("x B'01"), err(Unterminated::String, 2));
        assert_eq!(error("X'01"), err(Unterminated::String, 0));
        assert_eq!(error("x N'01"), err(Unterminated::String, 3));
        assert_eq!(error("B'1''0"), err(Unterminated::String, 4));
        assert_eq!(error("x U&'01"), err(Unterminated::String, 2));
    }

    #[test]
    fn a_prefix_counts_only_at_the_start_of_a_token() {
        assert_eq!(lex("somE'x'"), [(Word, "somE"), (String, "'x'")]);
        assert_eq!(lex(r"somE'\'"), [(Word, "somE"), (String, r"'\'")]);
        assert_eq!(lex("ab'x'"), [(Word, "ab"), (String, "'x'")]);
        assert_eq!(
            lex("U&x"),
            [(Word, "U"), (Operator, "&"), (Word, "x")],
            "U& without a quote"
        );
        assert_eq!(
            lex("xU&'a'"),
            [(Word, "xU"), (Operator, "&"), (String, "'a'")]
        );
        assert_eq!(lex("E"), [(Word, "E")]);
        assert_eq!(lex("e$$"), [(Word, "e$$")]);
    }

    #[test]
    fn continued_strings_are_one_literal() {
        assert_eq!(lex("'a'\n'b'"), [(String, "'a'\n'b'")]);
        assert_eq!(lex("'a' -- c\n  'b'"), [(String, "'a' -- c\n  'b'")]);
        assert_eq!(lex("'a'\n-- c\n\n'b'"), [(String, "'a'\n-- c\n\n'b'")]);
        assert_eq!(lex("'a'\r'b'"), [(String, "'a'\r'b'")]);
        // The continuation keeps the escape rules of the start.
        assert_eq!(lex("E'a'\n'\\''"), [(String, "E'a'\n'\\''")]);
        assert_eq!(error("'a'\n'\\''"), err(Unterminated::String, 0));
        // No newline, or a block comment: two strings.
        assert_eq!(lex("'a' 'b'"), [(String, "'a'"), (String, "'b'")]);
        assert_eq!(
            lex("'a' /* c */\n'b'"),
            [(String, "'a'"), (BlockComment, "/* c */"), (String, "'b'")]
        );
        assert_eq!(error("E'a' /*c*/\n'\\''"), err(Unterminated::String, 11));
        assert_eq!(lex("'a'\n-- c"), [(String, "'a'"), (LineComment, "-- c")]);
        assert_eq!(lex("'a'\nE'b'"), [(String, "'a'"), (String, "E'b'")]);
    }

    #[test]
    fn quoted_identifiers() {
        assert_eq!(lex(r#""a;b""#), [(QuotedIdentifier, r#""a;b""#)]);
        assert_eq!(lex(r#""a""b""#), [(QuotedIdentifier, r#""a""b""#)]);
        assert_eq!(lex(r#""'--/*""#), [(QuotedIdentifier, r#""'--/*""#)]);
        assert_eq!(lex(r#"U&"\0061""#), [(QuotedIdentifier, r#"U&"\0061""#)]);
        assert_eq!(lex(r#"u&"x""#), [(QuotedIdentifier, r#"u&"x""#)]);
        assert_eq!(lex(r#""é"x"#), [(QuotedIdentifier, r#""é""#), (Word, "x")]);
        assert_eq!(error(r#"x "a"#), err(Unterminated::QuotedIdentifier, 2));
        assert_eq!(error(r#"x U&"a"#), err(Unterminated::QuotedIdentifier, 2));
        assert_eq!(error(r#""a"""#), err(Unterminated::QuotedIdentifier, 0));
    }

    #[test]
    fn dollar_quotes() {
        assert_eq!(lex("$$a;b$$"), [(DollarString, "$$a;b$$")]);
        assert_eq!(lex("$a$ $$ $a$"), [(DollarString, "$a$ $$ $a$")]);
        assert_eq!(
            lex("$a$ $b$ $a$ x"),
            [(DollarString, "$a$ $b$ $a$"), (Word, "x")]
        );
        assert_eq!(lex("$a$x$ab$a$"), [(DollarString, "$a$x$ab$a$")]);
        assert_eq!(lex("$_1é$ ' $_1é$"), [(DollarString, "$_1é$ ' $_1é$")]);
        assert_eq!(lex("$$$$"), [(DollarString, "$$$$")]);
        assert_eq!(lex("$$ '' -- /* $$"), [(DollarString, "$$ '' -- /* $$")]);
        assert_eq!(lex("$A$ $a$ $A$"), [(DollarString, "$A$ $a$ $A$")]);
        assert_eq!(error("x $a$ $A$"), err(Unterminated::DollarString, 2));
        assert_eq!(error("$$"), err(Unterminated::DollarString, 0));
        assert_eq!(error("$a$ $a"), err(Unterminated::DollarString, 0));
    }

    #[test]
    fn dollars_that_are_not_quotes() {
        assert_eq!(lex("$1"), [(Parameter, "$1")]);
        assert_eq!(
            lex("$12,$3"),
            [(Parameter, "$12"), (Operator, ","), (Parameter, "$3")]
        );
        assert_eq!(
            lex("$1$$ x $$"),
            [(Parameter, "$1"), (DollarString, "$$ x $$")]
        );
        assert_eq!(lex("$1a"), [(Parameter, "$1"), (Word, "a")]);
        assert_eq!(lex("a$b"), [(Word, "a$b")]);
        assert_eq!(lex("x$$ y"), [(Word, "x$$"), (Word, "y")]);
        assert_eq!(lex("a$$b$$"), [(Word, "a$$b$$")]);
        assert_eq!(lex("$"), [(Operator, "$")]);
        assert_eq!(lex("$a b"), [(Operator, "$"), (Word, "a"), (Word, "b")]);
        assert_eq!(lex("$1$"), [(Parameter, "$1"), (Operator, "$")]);
        assert_eq!(lex("1$$x$$"), [(Number, "1"), (DollarString, "$$x$$")]);
        assert_eq!(
            lex("\"a\"$$x$$"),
            [(QuotedIdentifier, "\"a\""), (DollarString, "$$x$$")]
        );
    }

    #[test]
    fn words() {
        assert_eq!(
            lex("Select _x1 café ñ"),
            [(Word, "Select"), (Word, "_x1"), (Word, "café"), (Word, "ñ")]
        );
        // Every non-ASCII character is a letter to the server, even a
        // no-break space.
        assert_eq!(lex("a\u{a0}b"), [(Word, "a\u{a0}b")]);
        let t = tokens("BEGIN").next().unwrap().unwrap();
        assert!(t.is_word("begin"));
        assert!(!t.is_word("begi"));
        let t = tokens("\"begin\"").next().unwrap().unwrap();
        assert!(!t.is_word("begin"));
    }

    #[test]
    fn numbers() {
        for n in [
            "1", "12.5", ".5", "5.", "1e10", "1.5E-3", "1e+2", "1_000", "0x1F", "0o17", "0b101",
            "0X_1f", "1.e5",
        ] {
            assert_eq!(lex(n), [(Number, n)], "{n}");
        }
        assert_eq!(
            lex("1..10"),
            [(Number, "1"), (Operator, ".."), (Number, "10")]
        );
        assert_eq!(lex("1.2.3"), [(Number, "1.2"), (Number, ".3")]);
        assert_eq!(lex("1e"), [(Number, "1"), (Word, "e")]);
        assert_eq!(lex("1e+"), [(Number, "1"), (Word, "e"), (Operator, "+")]);
        assert_eq!(lex("1_"), [(Number, "1"), (Word, "_")]);
        assert_eq!(lex("0x"), [(Number, "0"), (Word, "x")]);
        assert_eq!(
            lex("1e--c"),
            [(Number, "1"), (Word, "e"), (LineComment, "--c")]
        );
        assert_eq!(lex("1e'x'"), [(Number, "1"), (String, "e'x'")]);
        assert_eq!(lex("t.1"), [(Word, "t"), (Number, ".1")]);
    }

    #[test]
    fn operators_stop_before_comments() {
        assert_eq!(
            lex("a+/*c*/b"),
            [
                (Word, "a"),
                (Operator, "+"),
                (BlockComment, "/*c*/"),
                (Word, "b")
            ]
        );
        assert_eq!(
            lex("a*/*c*/"),
            [(Word, "a"), (Operator, "*"), (BlockComment, "/*c*/")]
        );
        assert_eq!(lex("<--c"), [(Operator, "<"), (LineComment, "--c")]);
        assert_eq!(lex("@--c"), [(Operator, "@"), (LineComment, "--c")]);
        assert_eq!(error("<=/*"), err(Unterminated::BlockComment, 2));
    }

    #[test]
    fn operators() {
        assert_eq!(lex("a<>b"), [(Word, "a"), (Operator, "<>"), (Word, "b")]);
        assert_eq!(
            lex("x::int"),
            [(Word, "x"), (Operator, "::"), (Word, "int")]
        );
        assert_eq!(lex("a:=1"), [(Word, "a"), (Operator, ":="), (Number, "1")]);
        assert_eq!(
            lex("=-1"),
            [(Operator, "="), (Operator, "-"), (Number, "1")]
        );
        assert_eq!(lex("?-"), [(Operator, "?-")]);
        assert_eq!(
            lex("<+-+"),
            [
                (Operator, "<"),
                (Operator, "+"),
                (Operator, "-"),
                (Operator, "+")
            ]
        );
        assert_eq!(lex("@-"), [(Operator, "@-")]);
        assert_eq!(lex("*/"), [(Operator, "*/")]);
        assert_eq!(
            lex("a[1],b;(c)"),
            [
                (Word, "a"),
                (Operator, "["),
                (Number, "1"),
                (Operator, "]"),
                (Operator, ","),
                (Word, "b"),
                (Semicolon, ";"),
                (OpenParen, "("),
                (Word, "c"),
                (CloseParen, ")")
            ]
        );
        assert_eq!(
            lex("\\ { } \0"),
            [
                (Operator, "\\"),
                (Operator, "{"),
                (Operator, "}"),
                (Operator, "\0")
            ]
        );
    }

    #[test]
    fn stops_after_an_error() {
        let all: Vec<_> = tokens("a 'b").collect();
        assert_eq!(all.len(), 2);
        assert!(all[0].is_ok());
        assert_eq!(all[1], Err(err(Unterminated::String, 2)));
    }

    #[test]
    fn errors_read_like_the_server() {
        assert_eq!(
            err(Unterminated::DollarString, 0).to_string(),
            "unterminated dollar-quoted string"
        );
        assert_eq!(
            Unterminated::String.to_string(),
            "unterminated quoted string"
        );
        assert_eq!(
            Unterminated::QuotedIdentifier.to_string(),
            "unterminated quoted identifier"
        );
        assert_eq!(
            Unterminated::BlockComment.to_string(),
            "unterminated /* comment"
        );
    }

    #[test]
    fn long_runs_are_linear() {
        let n = 200_000;
        let plus_minus = "<".to_string() + &"+-".repeat(n);
        assert_eq!(tokens(&plus_minus).count(), 2 * n + 1);
        let quotes = "'a'\n".repeat(n);
        assert_eq!(tokens(&quotes).count(), 1);
        let comments = "/*".repeat(n) + &"*/".repeat(n);
        assert_eq!(tokens(&comments).count(), 1);
    }
}
