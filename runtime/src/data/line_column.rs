//! A place in a migration file.

use std::fmt;

/// A line and a column in a migration file, both counted from 1; the column
/// counts characters, not bytes.
///
/// ```
/// let at = stowage::LineColumn { line: 3, column: 14 };
/// assert_eq!(at.to_string(), "3:14");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LineColumn {
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1, in characters.
    pub column: u32,
}

impl fmt::Display for LineColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

impl From<stowage_core::position::LineColumn> for LineColumn {
    fn from(at: stowage_core::position::LineColumn) -> Self {
        LineColumn {
            line: at.line,
            column: at.column,
        }
    }
}

impl From<LineColumn> for stowage_core::position::LineColumn {
    fn from(at: LineColumn) -> Self {
        stowage_core::position::LineColumn {
            line: at.line,
            column: at.column,
        }
    }
}
