//! Invisible characters outside strings, quoted identifiers, comments and
//! dollar quotes. PostgreSQL's lexer takes every byte above 127 for a
//! letter, so a no-break space pasted after `orders` makes `orders` and the
//! space one name, which is not the table `orders`. Inside literals and
//! comments they are the author's business and stay allowed.
//!
//! The characters are Unicode's spaces above ASCII, the invisible
//! formatting characters (zero-width spaces and joiners, the soft hyphen,
//! bidirectional controls, a byte order mark after the start of the file),
//! and the Hangul fillers, which draw as blanks.

use crate::lexer::{Token, TokenKind};
use crate::position::Cursor;
use crate::problem::Problem;

/// What a character is, for what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A space: replace it with a plain one.
    Space,
    /// Draws nothing: delete it.
    Invisible,
}

/// Each character, its Unicode name, and its kind.
const CHARACTERS: &[(char, &str, Kind)] = &[
    ('\u{0085}', "NEXT LINE", Kind::Space),
    ('\u{00A0}', "NO-BREAK SPACE", Kind::Space),
    ('\u{00AD}', "SOFT HYPHEN", Kind::Invisible),
    ('\u{061C}', "ARABIC LETTER MARK", Kind::Invisible),
    ('\u{115F}', "HANGUL CHOSEONG FILLER", Kind::Invisible),
    ('\u{1160}', "HANGUL JUNGSEONG FILLER", Kind::Invisible),
    ('\u{1680}', "OGHAM SPACE MARK", Kind::Space),
    ('\u{180E}', "MONGOLIAN VOWEL SEPARATOR", Kind::Invisible),
    ('\u{2000}', "EN QUAD", Kind::Space),
    ('\u{2001}', "EM QUAD", Kind::Space),
    ('\u{2002}', "EN SPACE", Kind::Space),
    ('\u{2003}', "EM SPACE", Kind::Space),
    ('\u{2004}', "THREE-PER-EM SPACE", Kind::Space),
    ('\u{2005}', "FOUR-PER-EM SPACE", Kind::Space),
    ('\u{2006}', "SIX-PER-EM SPACE", Kind::Space),
    ('\u{2007}', "FIGURE SPACE", Kind::Space),
    ('\u{2008}', "PUNCTUATION SPACE", Kind::Space),
    ('\u{2009}', "THIN SPACE", Kind::Space),
    ('\u{200A}', "HAIR SPACE", Kind::Space),
    ('\u{200B}', "ZERO WIDTH SPACE", Kind::Invisible),
    ('\u{200C}', "ZERO WIDTH NON-JOINER", Kind::Invisible),
    ('\u{200D}', "ZERO WIDTH JOINER", Kind::Invisible),
    ('\u{200E}', "LEFT-TO-RIGHT MARK", Kind::Invisible),
    ('\u{200F}', "RIGHT-TO-LEFT MARK", Kind::Invisible),
    ('\u{2028}', "LINE SEPARATOR", Kind::Space),
    ('\u{2029}', "PARAGRAPH SEPARATOR", Kind::Space),
    ('\u{202A}', "LEFT-TO-RIGHT EMBEDDING", Kind::Invisible),
    ('\u{202B}', "RIGHT-TO-LEFT EMBEDDING", Kind::Invisible),
    ('\u{202C}', "POP DIRECTIONAL FORMATTING", Kind::Invisible),
    ('\u{202D}', "LEFT-TO-RIGHT OVERRIDE", Kind::Invisible),
    ('\u{202E}', "RIGHT-TO-LEFT OVERRIDE", Kind::Invisible),
    ('\u{202F}', "NARROW NO-BREAK SPACE", Kind::Space),
    ('\u{205F}', "MEDIUM MATHEMATICAL SPACE", Kind::Space),
    ('\u{2060}', "WORD JOINER", Kind::Invisible),
    ('\u{2061}', "FUNCTION APPLICATION", Kind::Invisible),
    ('\u{2062}', "INVISIBLE TIMES", Kind::Invisible),
    ('\u{2063}', "INVISIBLE SEPARATOR", Kind::Invisible),
    ('\u{2064}', "INVISIBLE PLUS", Kind::Invisible),
    ('\u{2066}', "LEFT-TO-RIGHT ISOLATE", Kind::Invisible),
    ('\u{2067}', "RIGHT-TO-LEFT ISOLATE", Kind::Invisible),
    ('\u{2068}', "FIRST STRONG ISOLATE", Kind::Invisible),
    ('\u{2069}', "POP DIRECTIONAL ISOLATE", Kind::Invisible),
    ('\u{3000}', "IDEOGRAPHIC SPACE", Kind::Space),
    ('\u{3164}', "HANGUL FILLER", Kind::Invisible),
    (
        '\u{FEFF}',
        "ZERO WIDTH NO-BREAK SPACE (a byte order mark)",
        Kind::Invisible,
    ),
    ('\u{FFA0}', "HALFWIDTH HANGUL FILLER", Kind::Invisible),
];

fn lookup(c: char) -> Option<(&'static str, Kind)> {
    if c.is_ascii() {
        // Every character of the table is above ASCII; most of a file is not.
        return None;
    }
    CHARACTERS
        .iter()
        .find(|(character, _, _)| *character == c)
        .map(|(_, name, kind)| (*name, *kind))
}

/// A problem for each word (the only tokens outside literals and comments
/// that can hold characters above ASCII) with invisible characters in it,
/// at the first one, in the migration `sql` made of `tokens` and shown as
/// `display`.
pub fn characters(sql: &str, tokens: &[Token<'_>], display: &str) -> Vec<Problem> {
    let mut cursor = Cursor::new(sql);
    let mut problems = Vec::new();
    // Every character of the table is above ASCII; most words are not.
    for token in tokens
        .iter()
        .filter(|t| t.kind == TokenKind::Word && !t.text.is_ascii())
    {
        let mut found: Vec<(char, &str, Kind)> = Vec::new();
        let mut first = None;
        for (i, c) in token.text.char_indices() {
            if let Some((name, kind)) = lookup(c) {
                first.get_or_insert(i);
                if !found.iter().any(|(seen, _, _)| *seen == c) {
                    found.push((c, name, kind));
                }
            }
        }
        let Some(first) = first else {
            continue;
        };
        let named: Vec<String> = found
            .iter()
            .map(|(c, name, _)| format!("U+{:04X} {name}", u32::from(*c)))
            .collect();
        let help = if found.iter().all(|(_, _, kind)| *kind == Kind::Space) {
            "replace it with a plain space"
        } else if found.iter().all(|(_, _, kind)| *kind == Kind::Invisible) {
            "delete it"
        } else {
            "replace each space with a plain one, and delete the others"
        };
        problems.push(Problem::at(
            display,
            cursor.at(token.start + first),
            format!(
                "{} outside a string or comment: PostgreSQL reads {}, so `{}` here is a name of its own",
                named.join(" and "),
                if found.len() == 1 { "it as a letter" } else { "them as letters" },
                shown(token.text)
            ),
            help,
        ));
    }
    problems
}

/// `word` with each invisible character written as `<U+XXXX>`.
fn shown(word: &str) -> String {
    let mut out = String::new();
    for c in word.chars() {
        if lookup(c).is_some() {
            out.push_str(&format!("<U+{:04X}>", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokens;

    fn found(sql: &str) -> Vec<String> {
        let tokens: Vec<_> = tokens(sql).collect::<Result<_, _>>().expect("lexes");
        characters(sql, &tokens, "m.sql")
            .into_iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn names_the_character_where_it_is() {
        assert_eq!(
            found("select * from orders\u{a0};"),
            [
                "m.sql:1:21: U+00A0 NO-BREAK SPACE outside a string or comment: PostgreSQL reads it as a \
              letter, so `orders<U+00A0>` here is a name of its own\n  help: replace it with a plain space"
            ]
        );
        assert_eq!(
            found("select 1;\n  select\u{200b} 2"),
            [
                "m.sql:2:9: U+200B ZERO WIDTH SPACE outside a string or comment: PostgreSQL reads it as a \
              letter, so `select<U+200B>` here is a name of its own\n  help: delete it"
            ]
        );
    }

    #[test]
    fn finds_every_kind() {
        for c in [
            '\u{feff}', '\u{a0}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{2000}',
            '\u{2005}', '\u{200a}', '\u{202f}', '\u{205f}', '\u{3000}', '\u{ad}', '\u{200e}',
            '\u{200f}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
        ] {
            let sql = format!("create table t{c}x (id int)");
            assert_eq!(found(&sql).len(), 1, "U+{:04X}", u32::from(c));
            let alone = format!("select 1 {c} from t");
            assert_eq!(found(&alone).len(), 1, "U+{:04X} alone", u32::from(c));
        }
    }

    #[test]
    fn one_problem_a_word_naming_each_character_once() {
        let problems = found("select a\u{a0}\u{a0}b\u{200b}, c\u{3000} from t");
        assert_eq!(problems.len(), 2);
        assert!(problems[0].starts_with(
            "m.sql:1:9: U+00A0 NO-BREAK SPACE and U+200B ZERO WIDTH SPACE outside a string or \
             comment: PostgreSQL reads them as letters"
        ));
        assert!(problems[0].contains("`a<U+00A0><U+00A0>b<U+200B>`"));
        assert!(
            problems[0]
                .ends_with("help: replace each space with a plain one, and delete the others")
        );
        assert!(problems[1].starts_with("m.sql:1:16: U+3000 IDEOGRAPHIC SPACE"));
    }

    #[test]
    fn leaves_literals_comments_and_other_letters_alone() {
        for sql in [
            "select 'a\u{a0}b', E'\u{200b}', \"x\u{feff}y\"",
            "-- \u{a0}\u{200b}\nselect 1",
            "/* \u{2066} */ select 1",
            "create function f() returns text as $$ select '\u{202e}' $$ language sql",
            "insert into données values ('ß'); select naïve, 名前 from t",
        ] {
            assert_eq!(found(sql), Vec::<String>::new(), "{sql}");
        }
    }
}
