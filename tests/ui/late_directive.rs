static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/late_directive");

fn main() {}
