static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/repeatable_statements");

fn main() {}
