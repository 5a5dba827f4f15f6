static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/down_without_up");

fn main() {}
