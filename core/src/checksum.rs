//! Checksums of migrations and of a whole history.

use sha2::{Digest, Sha256};
use std::fmt::Write;

/// SHA-256 of a migration's text, in lower-case hex. The text is the one
/// [`crate::text::normalize`] gives: no BOM, LF line ends.
pub fn checksum(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// SHA-256 of a history: the lines `"{version} {checksum}"` in version order,
/// joined by `\n`. The runtime asks PostgreSQL for the same digest over the
/// tracking table, so a start with nothing to do costs one small query.
pub fn history_digest<'a>(entries: impl IntoIterator<Item = (i64, &'a str)>) -> String {
    let mut hasher = Sha256::new();
    for (i, (version, checksum)) in entries.into_iter().enumerate() {
        if i > 0 {
            hasher.update(b"\n");
        }
        hasher.update(format!("{version} {checksum}").as_bytes());
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_lower_case_hex_sha256() {
        assert_eq!(
            checksum("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn history_digest_joins_lines() {
        assert_eq!(history_digest([(1, "a"), (20, "b")]), checksum("1 a\n20 b"));
        assert_eq!(history_digest([]), checksum(""));
    }
}
