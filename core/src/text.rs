//! A migration's bytes turned into the text that is checksummed and run.
//!
//! The text must be UTF-8 that PostgreSQL can receive: a file saved as
//! UTF-16 or UTF-32 is recognised as such (by its byte order mark, or for
//! UTF-16 by the NUL bytes between its ASCII characters) so that the error
//! says so, and a NUL byte is refused, since a query cannot carry one.

use crate::position::{self, LineColumn};
use crate::problem::Problem;
use std::fmt;

/// The text of a migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The UTF-8 text with a leading BOM removed and CRLF turned into LF, so
    /// a Windows checkout gives the same text and the same checksum.
    pub sql: String,
    /// Whether `sql` is exactly the file's bytes.
    pub verbatim: bool,
}

/// Why a file's bytes are not a migration's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// The file is UTF-16 or UTF-32.
    Wide {
        /// Which.
        encoding: Wide,
        /// Whether a byte order mark says so; without one, NUL bytes
        /// between ASCII characters do.
        bom: bool,
    },
    /// The file stops being UTF-8.
    NotUtf8 {
        /// The place of the first byte that is not UTF-8.
        at: LineColumn,
        /// Its offset in the file, in bytes from 0.
        byte_offset: usize,
    },
    /// The text holds NUL bytes (U+0000), which PostgreSQL cannot receive:
    /// a query is a C string to the server.
    Nul {
        /// The place of the first.
        at: LineColumn,
        /// How many there are.
        count: usize,
    },
}

/// An encoding of Unicode in units wider than a byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wide {
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// UTF-32, little-endian.
    Utf32Le,
    /// UTF-32, big-endian.
    Utf32Be,
}

impl fmt::Display for Wide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Wide::Utf16Le => "UTF-16 (little-endian)",
            Wide::Utf16Be => "UTF-16 (big-endian)",
            Wide::Utf32Le => "UTF-32 (little-endian)",
            Wide::Utf32Be => "UTF-32 (big-endian)",
        })
    }
}

impl Unreadable {
    /// The problem to report for the file shown as `display`.
    pub fn problem(&self, display: &str) -> Problem {
        match *self {
            Unreadable::Wide {
                encoding,
                bom: true,
            } => Problem::new(
                display,
                format!(
                    "is {encoding}: it starts with its byte order mark, and a migration must be UTF-8"
                ),
                "save the file as UTF-8",
            ),
            Unreadable::Wide {
                encoding,
                bom: false,
            } => Problem::new(
                display,
                format!(
                    "looks like {encoding}: NUL bytes stand between its letters, and a migration must be UTF-8"
                ),
                "save the file as UTF-8",
            ),
            Unreadable::NotUtf8 { at, byte_offset } => Problem::at(
                display,
                at,
                format!(
                    "is not valid UTF-8: the first bad byte is here (byte offset {byte_offset})"
                ),
                "save the file as UTF-8",
            ),
            Unreadable::Nul { at, count } => Problem::at(
                display,
                at,
                match count {
                    1 => "holds a NUL byte (U+0000), which PostgreSQL cannot receive in a query"
                        .to_owned(),
                    n => format!(
                        "holds {n} NUL bytes (U+0000), the first here, and PostgreSQL cannot receive one in a query"
                    ),
                },
                format!(
                    "delete {}; to store a zero byte, write it in a bytea literal such as '\\x00'::bytea",
                    if count == 1 { "it" } else { "them" }
                ),
            ),
        }
    }
}

/// Decodes and normalizes a migration file.
pub fn normalize(bytes: &[u8]) -> Result<Text, Unreadable> {
    if let Some((encoding, bom)) = wide(bytes) {
        return Err(Unreadable::Wide { encoding, bom });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        // `valid` is UTF-8 by the definition of `valid_up_to`.
        let prefix = std::str::from_utf8(valid).unwrap_or_default();
        Unreadable::NotUtf8 {
            at: position::after(prefix.strip_prefix('\u{feff}').unwrap_or(prefix)),
            byte_offset: e.valid_up_to(),
        }
    })?;
    let without_bom = text.strip_prefix('\u{feff}').unwrap_or(text);
    let sql = without_bom.replace("\r\n", "\n");
    if let Some(first) = sql.find('\0') {
        return Err(Unreadable::Nul {
            at: position::after(&sql[..first]),
            count: sql.matches('\0').count(),
        });
    }
    let verbatim = sql.len() == bytes.len();
    Ok(Text { sql, verbatim })
}

/// How many bytes from the start [`wide`] looks at for NUL bytes.
const SAMPLE: usize = 4096;

/// The wide encoding `bytes` are in, and whether a byte order mark says
/// so. Without one, the file is taken for UTF-16 when more than half of
/// its first two-byte units hold a NUL byte, and (nearly) always on the
/// same side, as ASCII text in UTF-16 does.
fn wide(bytes: &[u8]) -> Option<(Wide, bool)> {
    let marks: [(&[u8], Wide); 4] = [
        (b"\xff\xfe\0\0", Wide::Utf32Le),
        (b"\0\0\xfe\xff", Wide::Utf32Be),
        (b"\xff\xfe", Wide::Utf16Le),
        (b"\xfe\xff", Wide::Utf16Be),
    ];
    if let Some((_, encoding)) = marks.iter().find(|(mark, _)| bytes.starts_with(mark)) {
        return Some((*encoding, true));
    }
    let units: Vec<_> = bytes[..bytes.len().min(SAMPLE)].chunks_exact(2).collect();
    let nul_first = units.iter().filter(|u| u[0] == 0).count();
    let nul_second = units.iter().filter(|u| u[1] == 0).count();
    let mostly = |nul: usize, other: usize| nul * 2 > units.len() && other * 4 < nul;
    if mostly(nul_second, nul_first) {
        Some((Wide::Utf16Le, false))
    } else if mostly(nul_first, nul_second) {
        Some((Wide::Utf16Be, false))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| {
                if little_endian {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            })
            .collect()
    }

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
        assert_eq!(
            e,
            Unreadable::NotUtf8 {
                at: LineColumn { line: 2, column: 9 },
                byte_offset: 18
            }
        );
    }

    #[test]
    fn recognises_utf16_and_utf32_by_their_byte_order_marks() {
        let wide = |encoding| {
            Err(Unreadable::Wide {
                encoding,
                bom: true,
            })
        };
        let mut le = vec![0xff, 0xfe];
        le.extend(utf16("select 'é';\n", true));
        assert_eq!(normalize(&le), wide(Wide::Utf16Le));
        let mut be = vec![0xfe, 0xff];
        be.extend(utf16("select 1;\n", false));
        assert_eq!(normalize(&be), wide(Wide::Utf16Be));
        assert_eq!(normalize(b"\xff\xfe\0\0s\0\0\0"), wide(Wide::Utf32Le));
        assert_eq!(normalize(b"\0\0\xfe\xff\0\0\0s"), wide(Wide::Utf32Be));
    }

    #[test]
    fn recognises_utf16_without_a_byte_order_mark() {
        let wide = |encoding| {
            Err(Unreadable::Wide {
                encoding,
                bom: false,
            })
        };
        assert_eq!(
            normalize(&utf16("create table t (x int);\n", true)),
            wide(Wide::Utf16Le)
        );
        assert_eq!(
            normalize(&utf16("create table café (x int);\n", false)),
            wide(Wide::Utf16Be)
        );
        assert_eq!(normalize(b"s\0"), wide(Wide::Utf16Le));
    }

    #[test]
    fn refuses_nul_bytes_where_they_are() {
        let lc = |line, column| LineColumn { line, column };
        assert_eq!(
            normalize(b"select 1;\nselect '\0';"),
            Err(Unreadable::Nul {
                at: lc(2, 9),
                count: 1
            })
        );
        assert_eq!(
            normalize("-- é\0\r\nselect 1;\0 \0".as_bytes()),
            Err(Unreadable::Nul {
                at: lc(1, 5),
                count: 3
            })
        );
    }

    #[test]
    fn says_what_to_do() {
        let say = |bytes: &[u8]| normalize(bytes).unwrap_err().problem("m.sql").to_string();
        assert_eq!(
            say(b"\xff\xfes\0"),
            "m.sql: is UTF-16 (little-endian): it starts with its byte order mark, and a migration \
             must be UTF-8\n  help: save the file as UTF-8"
        );
        assert_eq!(
            say(b"s\0e\0l\0"),
            "m.sql: looks like UTF-16 (little-endian): NUL bytes stand between its letters, and a \
             migration must be UTF-8\n  help: save the file as UTF-8"
        );
        assert!(say(b"select 1;\n\0").starts_with("m.sql:2:1: holds a NUL byte (U+0000)"));
        assert!(say(b"\xe9").starts_with("m.sql:1:1: is not valid UTF-8"));
    }
}
