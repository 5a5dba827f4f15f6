static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/invisible_characters");

fn main() {}
