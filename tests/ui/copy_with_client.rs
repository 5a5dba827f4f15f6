static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/copy_with_client");

fn main() {}
