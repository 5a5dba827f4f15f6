//! Lines and columns in a migration's text.
//!
//! Both count from 1, and a column counts characters, not bytes, as
//! PostgreSQL's error positions do.

use std::fmt;

/// A place in a migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineColumn {
    /// The line, from 1.
    pub line: u32,
    /// The column in characters, from 1.
    pub column: u32,
}

impl fmt::Display for LineColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// The place of the character that follows `prefix`.
pub fn after(prefix: &str) -> LineColumn {
    let (line, last_line) = match prefix.rfind('\n') {
        Some(i) => (prefix.matches('\n').count() + 1, &prefix[i + 1..]),
        None => (1, prefix),
    };
    LineColumn {
        line: saturate(line),
        column: saturate(last_line.chars().count() + 1),
    }
}

/// The place of the character at `index` (counted in characters from 0) in
/// `text`; an index past the end gives the place just after the last
/// character.
pub fn of_char(text: &str, index: usize) -> LineColumn {
    let end = text
        .char_indices()
        .nth(index)
        .map_or(text.len(), |(byte, _)| byte);
    after(&text[..end])
}

/// The place in the file of `inner`, a place in a statement that starts at
/// `start`.
pub fn within(start: LineColumn, inner: LineColumn) -> LineColumn {
    if inner.line == 1 {
        LineColumn {
            line: start.line,
            column: start.column.saturating_add(inner.column.saturating_sub(1)),
        }
    } else {
        LineColumn {
            line: start.line.saturating_add(inner.line.saturating_sub(1)),
            column: inner.column,
        }
    }
}

/// The places of offsets in one text, asked in increasing order: each is
/// worked out from the last, so going through a whole file stays linear.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    text: &'a str,
    offset: usize,
    at: LineColumn,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Cursor {
            text,
            offset: 0,
            at: LineColumn { line: 1, column: 1 },
        }
    }

    /// The place of the character at byte `offset` of the text. An offset
    /// before the last one asked for is worked out from the start again.
    pub fn at(&mut self, offset: usize) -> LineColumn {
        if offset < self.offset {
            *self = Cursor::new(self.text);
        }
        let skipped = self.text.get(self.offset..offset).unwrap_or_default();
        self.at = within(self.at, after(skipped));
        self.offset = offset;
        self.at
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc(line: u32, column: u32) -> LineColumn {
        LineColumn { line, column }
    }

    #[test]
    fn counts_lines_and_characters() {
        assert_eq!(after(""), lc(1, 1));
        assert_eq!(after("abc"), lc(1, 4));
        assert_eq!(after("abc\n"), lc(2, 1));
        assert_eq!(after("a\nbé"), lc(2, 3));
    }

    #[test]
    fn places_a_statement_position_in_the_file() {
        assert_eq!(within(lc(3, 5), lc(1, 1)), lc(3, 5));
        assert_eq!(within(lc(3, 5), lc(1, 4)), lc(3, 8));
        assert_eq!(within(lc(3, 5), lc(2, 4)), lc(4, 4));
    }

    #[test]
    fn a_cursor_agrees_with_after() {
        let text = "ab\ncé\n\nd";
        let mut cursor = Cursor::new(text);
        for (offset, _) in text.char_indices() {
            assert_eq!(cursor.at(offset), after(&text[..offset]), "{offset}");
        }
        assert_eq!(cursor.at(text.len()), after(text));
        assert_eq!(cursor.at(1), lc(1, 2), "going back starts over");
    }

    #[test]
    fn finds_a_character_by_index() {
        let text = "select 1;\nselect ñx;\n";
        assert_eq!(of_char(text, 0), lc(1, 1));
        assert_eq!(of_char(text, 10), lc(2, 1));
        assert_eq!(of_char(text, 18), lc(2, 9));
        assert_eq!(of_char(text, 1000), lc(3, 1));
    }
}
