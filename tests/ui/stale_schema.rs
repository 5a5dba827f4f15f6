// The schema file was written before the second migration was added.
static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/stale_schema");

fn main() {}
