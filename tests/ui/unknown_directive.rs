static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/unknown_directive");

fn main() {}
