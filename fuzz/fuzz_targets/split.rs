//! Fuzzes `split_statements` and the lexer, and compares them with
//! PostgreSQL's parser and scanner.
//!
//! Run from the repository root, with `cargo install cargo-fuzz`. On a
//! stable toolchain, without a sanitizer:
//!
//! ```text
//! cargo fuzz run -s none split -- -dict=fuzz/split.dict -max_total_time=60
//! ```
//!
//! or with the default address sanitizer, which needs `-Z` flags that a
//! stable compiler takes only when told to:
//!
//! ```text
//! RUSTC_BOOTSTRAP=1 cargo fuzz run split -- -dict=fuzz/split.dict -max_total_time=60
//! ```
//!
//! For any UTF-8 input: no panic; statements in bounds, on character
//! boundaries, in order and apart, each at the right line and column; and,
//! wherever PostgreSQL accepts the input, the same statements and tokens as
//! PostgreSQL's (see `stowage-differential`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use stowage_core::lexer;
use stowage_core::position;
use stowage_core::split::split_statements;

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    check_tokens(sql);
    match split_statements(sql) {
        Ok(statements) => {
            let mut previous_end = 0;
            for s in &statements {
                let end = s.start + s.text.len();
                assert!(s.start >= previous_end, "statements overlap in {sql:?}");
                assert!(!s.text.is_empty(), "an empty statement in {sql:?}");
                assert_eq!(sql.get(s.start..end), Some(s.text), "{sql:?}");
                assert_eq!(s.at, position::after(&sql[..s.start]), "{sql:?}");
                previous_end = end;
            }
        }
        Err(e) => assert!(sql.is_char_boundary(e.start) && e.start < sql.len()),
    }
    if let Err(disagreement) = stowage_differential::check(sql) {
        panic!("{disagreement}");
    }
});

/// Tokens are in order, apart, in bounds, and cover all but whitespace.
fn check_tokens(sql: &str) {
    let is_space = |gap: &str| gap.bytes().all(|c| b" \t\n\r\x0b\x0c".contains(&c));
    let mut previous_end = 0;
    for token in lexer::tokens(sql) {
        let token = match token {
            Ok(token) => token,
            Err(e) => {
                assert!(e.start >= previous_end && is_space(&sql[previous_end..e.start]));
                return;
            }
        };
        assert!(token.start >= previous_end && !token.text.is_empty());
        assert_eq!(sql.get(token.start..token.end()), Some(token.text));
        let gap = &sql[previous_end..token.start];
        assert!(is_space(gap), "{gap:?} skipped in {sql:?}");
        previous_end = token.end();
    }
    assert!(is_space(&sql[previous_end..]), "a tail skipped in {sql:?}");
}
