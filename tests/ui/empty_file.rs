static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/empty_file");

fn main() {}
