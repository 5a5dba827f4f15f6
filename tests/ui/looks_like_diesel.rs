static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/looks_like_diesel");

fn main() {}
