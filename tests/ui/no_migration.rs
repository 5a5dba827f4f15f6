static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/no_migration");

fn main() {}
