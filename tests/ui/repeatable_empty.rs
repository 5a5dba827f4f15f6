static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/repeatable_empty");

fn main() {}
