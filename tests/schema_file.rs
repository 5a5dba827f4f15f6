//! The test helper keeps the schema file true: it writes a missing one on a
//! developer's machine, fails on a missing or different one where `CI` is
//! set, shows how it differs, and writes it again with
//! `STOWAGE_UPDATE_SCHEMA=1`. One test, since it sets the process's
//! environment; the file goes to a folder of its own, as the crate root
//! that `CARGO_MANIFEST_DIR` names when the check runs.

use stowage::testing::{check_migrations, ProblemKind};

/// Migrations whose schema file is not in the repository: the path is
/// relative to the crate root, taken at run time from `CARGO_MANIFEST_DIR`.
static MIGRATIONS: stowage::Migrations =
    stowage::embed_migrations!("tests/fixtures/base", schema = "kept/schema.sql",);

#[test]
fn the_schema_file_is_written_checked_and_written_again() {
    let root = std::env::temp_dir().join(format!("stowage-schema-file-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::env::set_var("CARGO_MANIFEST_DIR", &root);
    std::env::remove_var("STOWAGE_UPDATE_SCHEMA");
    std::env::remove_var("CI");
    let file = root.join("kept/schema.sql");
    assert_eq!(
        MIGRATIONS.expected_schema(),
        None,
        "there was no file at build time"
    );

    // A developer's first run writes it.
    let checked = check_migrations(&MIGRATIONS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        checked.schema_written(),
        Some(file.to_string_lossy().as_ref())
    );
    let written = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
    assert!(written.contains("\n-- stowage:digest "), "{written}");
    assert!(written.contains("CREATE TABLE a (\n"), "{written}");
    let again = check_migrations(&MIGRATIONS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.schema_written(), None, "a true file is left alone");

    // A file that says something else fails, showing how it differs.
    let edited = written.replacen(
        "CREATE TABLE a (\n",
        "CREATE TABLE a (\n    gone integer,\n",
        1,
    );
    std::fs::write(&file, &edited).unwrap_or_else(|e| panic!("{e}"));
    let error = check_migrations(&MIGRATIONS).expect_err("an edited file must fail");
    assert_eq!(error.problems()[0].kind(), ProblemKind::SchemaFile);
    let message = error.to_string();
    assert!(
        message.contains(
            "the schema file kept/schema.sql is not the schema the migrations build: \
                          run `STOWAGE_UPDATE_SCHEMA=1 cargo test` to write it again"
        ),
        "{message}"
    );
    assert!(message.contains("--- kept/schema.sql"), "{message}");
    assert!(
        message.contains("+++ the schema the migrations build"),
        "{message}"
    );
    assert!(message.contains("-    gone integer,\n"), "{message}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        edited,
        "left as it was"
    );

    // STOWAGE_UPDATE_SCHEMA=1 writes it again.
    std::env::set_var("STOWAGE_UPDATE_SCHEMA", "1");
    let updated = check_migrations(&MIGRATIONS).unwrap_or_else(|e| panic!("{e}"));
    assert!(updated.schema_written().is_some());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), written);
    std::env::remove_var("STOWAGE_UPDATE_SCHEMA");

    // In CI, a missing file fails, and so does a different one.
    std::env::set_var("CI", "true");
    check_migrations(&MIGRATIONS).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&file, &edited).unwrap();
    assert!(check_migrations(&MIGRATIONS).is_err());
    std::fs::remove_file(&file).unwrap();
    let error = check_migrations(&MIGRATIONS).expect_err("a missing file fails in CI");
    assert!(
        error
            .to_string()
            .contains("the schema file kept/schema.sql is missing"),
        "{error}"
    );
    assert!(!file.exists(), "nothing is written in CI");
    std::env::remove_var("CI");
    let _ = std::fs::remove_dir_all(&root);
}
