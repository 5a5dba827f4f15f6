//! Checks `stowage-core`'s lexer and statement splitter against PostgreSQL's
//! own scanner and parser, as built into libpg_query (through the `pg_query`
//! crate).
//!
//! Two checks, each on any text:
//!
//! - [`check_split`]: where PostgreSQL's parser accepts the text, its
//!   statements and ours are the same, from the first token to the last
//!   (PostgreSQL's pieces can carry whitespace and comments at either end,
//!   which are trimmed with PostgreSQL's own scanner); where it rejects it as
//!   unterminated (a string, identifier, dollar quote or comment left open),
//!   we reject it too, for the same kind of construct at the same place.
//! - [`check_tokens`]: where PostgreSQL's scanner accepts the text, our
//!   tokens start and end where its tokens do; where it finds something
//!   unterminated, so do we.
//!
//! Texts PostgreSQL rejects for other reasons (syntax errors, `123abc`, bad
//! escapes) prove nothing either way and are passed over.

#![forbid(unsafe_code)]

pub mod generate;

use std::sync::Mutex;

use pg_query::protobuf::Token as PgToken;
use stowage_core::lexer::{self, LexError, Unterminated};
use stowage_core::split::split_statements;

/// What a check found, when it found no disagreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// PostgreSQL accepted the text and we agree with it; the number of
    /// statements or tokens compared.
    Agreed(usize),
    /// PostgreSQL found something unterminated, and so did we.
    BothUnterminated,
    /// PostgreSQL rejected the text for another reason; nothing to compare.
    Rejected(String),
    /// The text holds a NUL byte, which libpg_query cannot take.
    Skipped,
}

/// libpg_query points the process's stderr at a pipe for the length of each
/// call, so calls from several test threads at once are kept apart.
static PG: Mutex<()> = Mutex::new(());

fn pg<T>(f: impl FnOnce() -> T) -> T {
    let _guard = PG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    f()
}

/// One statement: its byte offset and text.
pub type Piece<'a> = (usize, &'a str);

/// Compares the statements of `sql` with those of PostgreSQL's parser;
/// `Err` describes a disagreement.
pub fn check_split(sql: &str) -> Result<Verdict, String> {
    if sql.contains('\0') {
        return Ok(Verdict::Skipped);
    }
    let ours = split_statements(sql);
    match pg(|| pg_query::split_with_parser(sql)) {
        Ok(pieces) => {
            let theirs = pieces
                .iter()
                .map(|piece| trim(sql, piece))
                .collect::<Result<Vec<_>, _>>()?;
            let ours: Vec<Piece<'_>> = match ours {
                Ok(statements) => statements.iter().map(|s| (s.start, s.text)).collect(),
                Err(e) => {
                    return Err(format!(
                        "PostgreSQL splits {sql:?} into {theirs:?}, we fail: {e} at byte {}",
                        e.start
                    ));
                }
            };
            if ours == theirs {
                Ok(Verdict::Agreed(ours.len()))
            } else {
                Err(format!(
                    "{sql:?}\n  PostgreSQL: {theirs:?}\n  stowage:    {ours:?}"
                ))
            }
        }
        Err(pg_query::Error::Split(message)) => rejected(sql, message, ours.err()),
        Err(other) => Ok(Verdict::Rejected(other.to_string())),
    }
}

/// Compares the tokens of `sql` (comments included) with those of
/// PostgreSQL's scanner; `Err` describes a disagreement.
pub fn check_tokens(sql: &str) -> Result<Verdict, String> {
    if sql.contains('\0') {
        return Ok(Verdict::Skipped);
    }
    let ours: Result<Vec<(usize, usize)>, LexError> = lexer::tokens(sql)
        .map(|t| t.map(|t| (t.start, t.end())))
        .collect();
    // `scan`, not `scan_tokens`: pg_query 18.1's `scan_tokens` makes a slice
    // from a null pointer when there is no token.
    match pg(|| pg_query::scan(sql)) {
        Ok(scanned) => {
            let theirs = pg_spans(&scanned.tokens);
            match ours {
                Ok(ours) if ours == theirs => Ok(Verdict::Agreed(ours.len())),
                Ok(ours) => Err(format!(
                    "{sql:?}\n  PostgreSQL tokens: {}\n  stowage tokens:    {}",
                    show(sql, &theirs),
                    show(sql, &ours)
                )),
                Err(e) => Err(format!(
                    "PostgreSQL scans {sql:?} as {}, we fail: {e} at byte {}",
                    show(sql, &theirs),
                    e.start
                )),
            }
        }
        Err(pg_query::Error::Scan(message)) => rejected(sql, message, ours.err()),
        Err(other) => Ok(Verdict::Rejected(other.to_string())),
    }
}

/// Both checks; the number of statements PostgreSQL accepted, if it did.
pub fn check(sql: &str) -> Result<Option<usize>, String> {
    check_tokens(sql)?;
    match check_split(sql)? {
        Verdict::Agreed(n) => Ok(Some(n)),
        _ => Ok(None),
    }
}

/// PostgreSQL rejected `sql` with `message`; an unterminated construct must
/// be ours too.
fn rejected(sql: &str, message: String, ours: Option<LexError>) -> Result<Verdict, String> {
    let Some((kind, start)) = unterminated(sql, &message) else {
        return Ok(Verdict::Rejected(message));
    };
    match ours {
        Some(e) if e.kind == kind && start.is_none_or(|s| s == e.start) => {
            Ok(Verdict::BothUnterminated)
        }
        Some(e) => Err(format!(
            "{sql:?}: PostgreSQL says {message:?}, we say {e} at byte {}",
            e.start
        )),
        None => Err(format!(
            "{sql:?}: PostgreSQL says {message:?}, we accept it"
        )),
    }
}

/// The kind of construct an "unterminated ..." message is about, and where
/// it starts if the message shows it: PostgreSQL quotes the input from the
/// start of the construct to the end.
fn unterminated(sql: &str, message: &str) -> Option<(Unterminated, Option<usize>)> {
    let kinds = [
        ("unterminated quoted string", Unterminated::String),
        ("unterminated bit string literal", Unterminated::String),
        (
            "unterminated hexadecimal string literal",
            Unterminated::String,
        ),
        (
            "unterminated quoted identifier",
            Unterminated::QuotedIdentifier,
        ),
        (
            "unterminated dollar-quoted string",
            Unterminated::DollarString,
        ),
        ("unterminated /* comment", Unterminated::BlockComment),
    ];
    let &(_, kind) = kinds.iter().find(|(m, _)| message.starts_with(m))?;
    let near = " at or near \"";
    let start = message
        .find(near)
        .and_then(|i| message[i + near.len()..].strip_suffix('"'))
        .filter(|rest| sql.ends_with(rest))
        .map(|rest| sql.len() - rest.len());
    Some((kind, start))
}

/// A statement as PostgreSQL's parser gives it, trimmed to its tokens.
fn trim<'a>(sql: &'a str, piece: &str) -> Result<Piece<'a>, String> {
    let offset = (piece.as_ptr() as usize)
        .checked_sub(sql.as_ptr() as usize)
        .filter(|o| o + piece.len() <= sql.len())
        .ok_or("a statement that is not part of the input")?;
    let scanned = pg(|| pg_query::scan(piece))
        .map_err(|e| format!("PostgreSQL cannot scan its own statement {piece:?}: {e}"))?;
    let mut code = scanned.tokens.iter().filter(|t| !is_pg_comment(t.token));
    let first = code.next();
    let last = code.next_back().or(first);
    match (first, last) {
        (Some(first), Some(last)) => {
            let start = offset + as_offset(first.start);
            let end = offset + as_offset(last.end);
            let text = sql
                .get(start..end)
                .ok_or_else(|| format!("a statement off character boundaries in {sql:?}"))?;
            Ok((start, text))
        }
        _ => Err(format!("an empty statement {piece:?} from PostgreSQL")),
    }
}

fn is_pg_comment(token: i32) -> bool {
    token == PgToken::SqlComment as i32 || token == PgToken::CComment as i32
}

fn as_offset(n: i32) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// PostgreSQL's token spans.
fn pg_spans(tokens: &[pg_query::protobuf::ScanToken]) -> Vec<(usize, usize)> {
    tokens
        .iter()
        .map(|t| (as_offset(t.start), as_offset(t.end)))
        .collect()
}

fn show(sql: &str, spans: &[(usize, usize)]) -> String {
    let texts: Vec<&str> = spans
        .iter()
        .map(|&(s, e)| sql.get(s..e).unwrap_or("<not on character boundaries>"))
        .collect();
    format!("{texts:?}")
}
