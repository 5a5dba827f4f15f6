static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/discard_all");

fn main() {}
