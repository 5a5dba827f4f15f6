static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/no_transaction_control");

fn main() {}
