static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/needs_no_transaction");

fn main() {}
