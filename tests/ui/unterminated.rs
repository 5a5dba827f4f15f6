static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/unterminated");

fn main() {}
