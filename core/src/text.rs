//! A migration's bytes turned into the text that is checksummed and run.

use crate::position::{self, LineColumn};

/// The text of a migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The UTF-8 text with a leading BOM removed and CRLF turned into LF, so
    /// a Windows checkout gives the same text and the same checksum.
    pub sql: String,
    /// Whether `sql` is exactly the file's bytes.
    pub verbatim: bool,
}

/// Where a file stops being UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8 {
    /// The place of the first byte that is not UTF-8.
    pub at: LineColumn,
    /// Its offset in the file, in bytes from 0.
    pub byte_offset: usize,
}

/// Decodes and normalizes a migration file.
pub fn normalize(bytes: &[u8]) -> Result<Text, NotUtf8> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        // `valid` is UTF-8 by the definition of `valid_up_to`.
        let prefix = std::str::from_utf8(valid).unwrap_or_default();
        NotUtf8 {
            at: position::after(prefix.strip_prefix('\u{feff}').unwrap_or(prefix)),
            byte_offset: e.valid_up_to(),
        }
    })?;
    let without_bom = text.strip_prefix('\u{feff}').unwrap_or(text);
    let sql = without_bom.replace("\r\n", "\n");
    let verbatim = sql.len() == bytes.len();
    Ok(Text { sql, verbatim })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_bom_and_crlf() {
        let t = normalize(b"\xef\xbb\xbfselect 1;\r\nselect 2;\r\n").unwrap();
        assert_eq!(t.sql, "select 1;\nselect 2;\n");
        assert!(!t.verbatim);
        assert!(normalize(b"select 1;\n").unwrap().verbatim);
    }

    #[test]
    fn locates_invalid_utf8() {
        let e = normalize(b"select 1;\nselect '\xff';").unwrap_err();
        assert_eq!(e.at, LineColumn { line: 2, column: 9 });
        assert_eq!(e.byte_offset, 18);
    }
}
