//! A problem found in the migrations folder, reported at build time.

use crate::position::LineColumn;
use std::fmt;

/// One broken rule: which file(s), what is wrong, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file or folder it concerns, as shown to the user.
    pub subject: String,
    /// What is wrong.
    pub message: String,
    /// How to put it right, with an example where one helps.
    pub help: String,
    /// Where in the file it is, for a problem at a place in one.
    pub at: Option<LineColumn>,
}

impl Problem {
    /// A problem with `subject`.
    pub fn new(
        subject: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Problem {
            subject: subject.into(),
            message: message.into(),
            help: help.into(),
            at: None,
        }
    }

    /// A problem at a place in the file shown as `display`: its subject
    /// reads `file:line:column`.
    pub fn at(
        display: &str,
        at: LineColumn,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Problem {
            at: Some(at),
            ..Problem::new(format!("{display}:{at}"), message, help)
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.message)?;
        if !self.help.is_empty() {
            write!(f, "\n  help: {}", self.help)?;
        }
        Ok(())
    }
}
