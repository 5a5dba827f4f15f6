//! The build errors of `embed_migrations!`, checked against `tests/ui/*.stderr`,
//! and the folder layouts it must accept (`tests/ui/pass/`).

#[test]
fn ui() {
    // trybuild compiles each case in a generated crate, so point the macro's relative folders back at this one.
    std::env::set_var("STOWAGE_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR"));
    // `STOWAGE_UPDATE_SCHEMA=1 cargo test` lets a stale schema file through,
    // which a case here must fail on.
    std::env::remove_var("STOWAGE_UPDATE_SCHEMA");
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
