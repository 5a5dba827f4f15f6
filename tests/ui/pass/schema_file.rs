// A schema file away from the migrations is named by `schema = "..."`, and
// is embedded when its digest is the migrations'.
static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!(
    "tests/ui/fixtures/schema_elsewhere/migrations",
    schema = "tests/ui/fixtures/schema_elsewhere/db_schema.sql",
);

fn main() {
    assert_eq!(MIGRATIONS.len(), 1);
    assert!(MIGRATIONS
        .expected_schema()
        .is_some_and(|s| s.contains("CREATE TABLE a (")));
    assert_eq!(
        MIGRATIONS.schema_path(),
        "tests/ui/fixtures/schema_elsewhere/db_schema.sql"
    );
}
