static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/transaction_control");

fn main() {}
