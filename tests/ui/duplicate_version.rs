static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/duplicate_version");

fn main() {}
