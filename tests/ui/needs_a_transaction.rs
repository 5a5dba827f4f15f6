static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/needs_a_transaction");

fn main() {}
