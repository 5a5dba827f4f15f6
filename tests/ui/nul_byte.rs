static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/nul_byte");

fn main() {}
