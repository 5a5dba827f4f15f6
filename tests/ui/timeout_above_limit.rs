static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/timeout_above_limit");

fn main() {}
