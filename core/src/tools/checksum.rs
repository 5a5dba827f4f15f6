//! The checksums other tools record, computed their way, in the text their
//! tables hold them as.

use sha2::{Digest, Sha384};
use std::hash::Hasher;

/// sqlx: SHA-384 of the file's bytes as they are (BOM and line ends
/// included), in lower-case hex as `encode(checksum, 'hex')` shows the
/// `bytea` column.
pub fn sqlx(bytes: &[u8]) -> String {
    Sha384::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// refinery: SipHash-1-3 with zero keys over the name, the version and the
/// file's text, each fed as Rust's `Hash` feeds it (a `str` is its bytes
/// then `0xff`; the version its little-endian bytes, an `i32` unless
/// refinery was built with `int8-versions`), in decimal as the table's
/// `checksum` column holds it. Both widths are given where the version fits
/// an `i32`, separated by a space.
pub fn refinery(name: &str, version: i64, sql: &str) -> String {
    let hash = |version_bytes: &[u8]| {
        let mut hasher = siphasher::sip::SipHasher13::new();
        hasher.write(name.as_bytes());
        hasher.write_u8(0xff);
        hasher.write(version_bytes);
        hasher.write(sql.as_bytes());
        hasher.write_u8(0xff);
        hasher.finish()
    };
    let wide = hash(&version.to_le_bytes());
    match i32::try_from(version) {
        Ok(narrow) => format!("{} {wide}", hash(&narrow.to_le_bytes())),
        Err(_) => wide.to_string(),
    }
}

/// Flyway: CRC-32 over the file's lines without their line ends (`\n`,
/// `\r\n` or `\r`), a byte order mark removed from the first line, as a
/// signed 32-bit integer in decimal.
pub fn flyway(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut hasher = crc32fast::Hasher::new();
    for piece in text.split(['\r', '\n']) {
        hasher.update(piece.as_bytes());
    }
    (hasher.finalize() as i32).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlx_is_sha384_of_the_bytes() {
        assert_eq!(
            sqlx(b"abc"),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7"
        );
    }

    #[test]
    fn refinery_hashes_name_version_and_text_as_rust_does() {
        // What `Hash` feeds a `SipHasher13`, computed with the std traits.
        let expected = |version: &dyn Fn(&mut siphasher::sip::SipHasher13)| {
            use std::hash::Hash;
            let mut h = siphasher::sip::SipHasher13::new();
            "initial".hash(&mut h);
            version(&mut h);
            "CREATE TABLE t (x int);\n".hash(&mut h);
            h.finish()
        };
        let narrow = expected(&|h| std::hash::Hash::hash(&1i32, h));
        let wide = expected(&|h| std::hash::Hash::hash(&1i64, h));
        assert_eq!(
            refinery("initial", 1, "CREATE TABLE t (x int);\n"),
            format!("{narrow} {wide}")
        );
    }

    #[test]
    fn flyway_ignores_line_ends_and_a_leading_bom() {
        assert_eq!(flyway("a\nb"), flyway("a\r\nb\r\n"));
        assert_eq!(flyway("a\nb"), flyway("\u{feff}a\rb"));
        assert_eq!(flyway(""), "0");
        // CRC-32 of "ab" is 0x9e83486d, negative as a signed integer.
        assert_eq!(flyway("a\nb"), (0x9e83486du32 as i32).to_string());
    }
}
